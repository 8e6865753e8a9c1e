"""Tables of bench/train.sh from the runs it recorded.

usage: train_table.py RESULTS.jsonl SECTION

RESULTS.jsonl holds one JSON object per run: {"run": "ours", "tag", "file",
"rss_kib", "plan", "load"} for a scnet-train run (its output file carries
uns['scnet']['train']), {"run": "ref", "tag", ...train_ref.py's output} for
a reference run, {"run": "sgemm", "tag", "M", "N", "K", "openblas",
"backend"} for a sgemm timing and {"run": "plan", "tag", "text"} for a
planned-memory line.  SECTION is speed, gflops or memory.

Epoch times of scnet-train are those its -v log printed (train.sh
records them as "epoch_seconds"; the file holds no timings), of the epochs that neither warm up nor evaluate: every run evaluates its first
and last epoch (train.sh gives --eval-every larger than the run), so the
first and the last epoch are left out when there are more than two.
"""
import json
import re
import statistics
import sys

import h5py
import numpy as np

L = 3  # mutual layers (scnet-train's default, used by every run here)


def ours(rec):
    with h5py.File(rec["file"], "r") as f:
        t = f["uns/scnet/train"]
        secs = [float(s) for s in rec["epoch_seconds"]]
        out = dict(rec, cells=int(f["X"].attrs["shape"][0]), genes=int(f["X"].attrs["shape"][1]),
                   gflop=float(t["gflop_per_epoch"][()]), mode=t["mode"][()].decode(), block=int(t["block_size"][()]),
                   blocks=int(t["blocks"][()]), knn=int(t["knn_edges"][()]), all_secs=secs)
    out["secs"] = secs[1:-1] if len(secs) > 2 else secs
    return out


def load(path):
    recs = [json.loads(line) for line in open(path) if line.strip()]
    return [ours(r) if r["run"] == "ours" else r for r in recs]


def fmt_list(xs):
    return " ".join(f"{x:.1f}" for x in xs)


def speed(recs):
    tags = list(dict.fromkeys(r["tag"] for r in recs if r["run"] in ("ours", "ref")))
    print(f"  {'genes':>6} {'cells':>6}  {'scnet-train s/epoch':>20}  {'reference s/epoch':>18}  "
          f"{'ref steps / no-grad fwd / rest':>31}  {'ref/ours':>8}")
    for tag in tags:
        o = [r for r in recs if r["run"] == "ours" and r["tag"] == tag]
        f = [r for r in recs if r["run"] == "ref" and r["tag"] == tag]
        so = [s for r in o for s in r["secs"]]
        sf = [s for r in f for s in r["epoch_seconds"]]
        if not so:
            continue
        bo = min(so)
        line = f"  {o[0]['genes']:6d} {o[0]['cells']:6d}  {bo:20.2f}  "
        if sf:
            i = int(np.argmin(sf))
            st = [s for r in f for s in r["steps_seconds"]][i]
            fw = [s for r in f for s in r["forward_seconds"]][i]
            line += f"{sf[i]:18.2f}  {st:11.2f} / {fw:6.2f} / {sf[i] - st - fw:5.2f}  {sf[i] / bo:7.2f}x"
        else:
            line += f"{'(not run)':>18}"
        print(line)
        print(f"         all epochs timed: scnet-train {fmt_list(so)}" + (f"; reference {fmt_list(sf)}" if sf else ""))
    refs = [r for r in recs if r["run"] == "ref"]
    if refs:
        r = refs[0]
        print(f"  reference: torch {r['torch']} ({r['blas']}), {r['threads']} threads; peak RSS "
              + ", ".join(f"{x['peak_rss_mib']:.0f} MiB ({x['genes']} genes)" for x in refs[::max(1, len(refs) // 2)]))


def gflops(recs):
    print(f"  {'genes':>6} {'cells':>6} {'GFLOP/epoch':>12} {'best s/epoch':>13} {'GFLOP/s':>8}  "
          f"{'sgemm at (cells x genes)(genes x genes)^T':>42}  {'of sgemm':>8}")
    for tag in dict.fromkeys(r["tag"] for r in recs if r["run"] == "ours"):
        o = [r for r in recs if r["run"] == "ours" and r["tag"] == tag]
        g = [r for r in recs if r["run"] == "sgemm" and r["tag"] == tag]
        if not o or not g:
            continue
        best = min(s for r in o for s in r["secs"])
        rate = o[0]["gflop"] / best
        peak = max(x["openblas"] for x in g)
        tiles = max(x["backend"] for x in g)
        print(f"  {o[0]['genes']:6d} {o[0]['cells']:6d} {o[0]['gflop']:12.0f} {best:13.2f} {rate:8.1f}  "
              f"{peak:17.1f} (backend tiles {tiles:5.1f})     {100 * rate / peak:7.0f}%")


def gib(x):
    return x / 2**30


def memory(recs):
    print(f"  {'cells':>6} {'genes':>6} {'mode':>16} {'planned':>8} {'man page':>9} {'peak RSS':>9} "
          f"{'s/epoch':>8} {'GFLOP/s':>8}  (GiB; s/epoch = epoch 0, evaluation included)")
    for r in recs:
        if r["run"] != "ours" or not r["tag"].startswith("mem"):
            continue
        n = r["block"] if r["blocks"] else r["cells"]
        G = r["genes"]
        page = 12 * 2 * L * (G**2 + n**2) + 4 * (2 * L + 5) * n * G + 12 * r["cells"] * G
        plan = re.search(r"planned memory ([0-9.]+) ([KMG]i?B)", r.get("plan", ""))
        pg = float(plan.group(1)) * {"KiB": 2**-20, "MiB": 2**-10, "GiB": 1}[plan.group(2)] if plan else float("nan")
        mode = f"blocks of {r['block']}" if r["blocks"] else "edge batches"
        s0 = r["all_secs"][0]
        print(f"  {r['cells']:6d} {G:6d} {mode:>16} {pg:8.2f} {gib(page):9.2f} {r['rss_kib'] / 2**20:9.2f} "
              f"{s0:8.1f} {r['gflop'] / s0:8.1f}")
    for r in recs:
        if r["run"] == "plan":
            print(f"  {r['tag']}: {r['text']}")


def main():
    recs = load(sys.argv[1])
    {"speed": speed, "gflops": gflops, "memory": memory}[sys.argv[2]](recs)


if __name__ == "__main__":
    main()
