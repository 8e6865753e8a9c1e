"""Epoch time of the reference scNET (PyPI scnet 0.2.4, PyTorch + PyG) on a
file scnet-train has read, for bench/train.sh.

usage: train_ref.py IN.h5ad [--warmup W] [--epochs E] [--batches B] [--threads T] [--device D]
                    [--eval-every K] [--seed S]

IN.h5ad is scnet-train's output, so the reference gets exactly the genes
scnet-train modelled (--max-genes included): X (log-normalised, restricted
to those genes), varp['scnet_ppi'], obsp['distances'] and
var['highly_variable'].  From them the inputs are built as the reference's
run_scNET and train() build theirs: the KNN graph from distances > 0,
symmetrised by union (build_knn_graph); the PPI split by
train_test_split_edges(test_ratio=0.2); X standardised per gene with the
unbiased std + 1e-5.

Each epoch is the edge-mode body of scNET.main.train, statement for
statement: the package's own loader (mini_batch_knn: B chunks of shuffled
edges, the remainder chunk skipped), and per full chunk calculate_loss
(whose recon_loss draws the reference's negative pairs with PyG's
negative_sampling), zero_grad, backward, Adam step, then the no-grad
training-mode forward whose outputs the reference keeps, gc.collect() and
torch.cuda.empty_cache(); at the end of the epoch cols_encoder.reduce_network
(the pruning candidate).  The evaluation every 10 epochs is left out, as it
is left out of the scnet-train epochs compared.  W warm-up epochs are run
first and not timed.  With --eval-every K, the reference's own evaluation
(test_recon: held-out PPI AUROC, on the first chunk of the loader) runs
after epochs 0, K, 2K, ... and is printed on stderr, outside the timings,
to compare the course of training with scnet-train's on the same input;
--save keeps the outputs the reference writes (the last training-mode
forward) for bench/quality.py --ref.

Prints one line of JSON: the seconds of every timed epoch and their split
(training steps, no-grad forwards, the rest), the sizes, the sgemm rate of
torch's BLAS at the dominant shape and the peak RSS.
"""
import argparse
import gc
import json
import os
import resource
import sys
import time

import h5py
import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.utils import train_test_split_edges


def import_reference():
    """The reference package's __init__ also imports its analysis helpers
    (scanpy, gseapy, ...), which the training loop never calls.  On a GPU
    host that has only torch and PyG, a module that is missing there is
    replaced by a placeholder that fails on first use, and this is said on
    stderr, so the timed training code is the reference's own."""
    import importlib
    import types

    def placeholder(name):
        m = types.ModuleType(name)

        def fail(attr):
            raise AttributeError(f"{name}.{attr}: {name} is not installed here (placeholder for an analysis-only import)")

        m.__getattr__ = fail
        return m

    stood_in = []
    for _ in range(20):
        try:
            main = importlib.import_module("scNET.main")
            model = importlib.import_module("scNET.MultyGraphModel").scNET
            if stood_in:
                print(f"train_ref: not installed, stood in by placeholders: {', '.join(stood_in)}", file=sys.stderr)
            return main, model
        except ModuleNotFoundError as e:
            root = (e.name or "").split(".")[0]
            if not root or root in ("scNET", "torch", "torch_geometric", "numpy", "scipy") or root in sys.modules:
                raise
            for k in [k for k in sys.modules if k == "scNET" or k.startswith("scNET.")]:
                del sys.modules[k]
            sys.modules[root] = placeholder(root)
            stood_in.append(root)
    raise ImportError("the reference package could not be imported")


ref_main, RefModel = import_reference()


def read_csr(f, path):
    g = f[path]
    return sp.csr_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=tuple(g.attrs["shape"]))


def read_bool_col(f, path):
    d = f[path]
    if isinstance(d, h5py.Group):  # nullable boolean
        return d["values"][()].astype(bool)
    return d[()].astype(bool)


def load(path):
    with h5py.File(path, "r") as f:
        X = read_csr(f, "X").toarray().astype(np.float32)  # cells x genes, log-normalised
        P = read_csr(f, "varp/scnet_ppi")
        D = read_csr(f, "obsp/distances")
        hvg = read_bool_col(f, "var/highly_variable")
    # PPI: each undirected pair once, then both directions (nx -> PyG edge_index)
    P = sp.triu(P, k=1).tocoo()
    keep = P.data != 0
    a, b = P.row[keep], P.col[keep]
    ppi = torch.tensor(np.vstack([np.concatenate([a, b]), np.concatenate([b, a])]), dtype=torch.long)
    # KNN: (distances > 0), symmetrised by union, no self-loops (build_knn_graph)
    A = (D > 0).astype(np.int8)
    A = ((A + A.T) > 0).tocoo()
    off = A.row != A.col
    knn = torch.tensor(np.vstack([A.row[off], A.col[off]]), dtype=torch.long)
    return X, ppi, knn, hvg


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def sgemm_rate(n, g, dev):
    """GFLOP/s of torch's x @ W.T (what nn.Linear runs) at the model's
    dominant shape, best of 3 (FP32: TF32 is off in torch by default)."""
    x, w = torch.randn(n, g, device=dev), torch.randn(g, g, device=dev)
    torch.mm(x, w.T)
    best = float("inf")
    for _ in range(3):
        sync(dev)
        t = time.perf_counter()
        torch.mm(x, w.T)
        sync(dev)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n * g * g / best / 1e9


def epoch(model, optimizer, loader, x, data, hvg, batches, split, dev):
    """One edge-mode training epoch of scNET.main.train (without the
    evaluation); adds the time of the steps and forwards to split."""
    concat_flag = False
    knn_edge_index = None
    for _, batch in enumerate(loader):
        model.train()
        knn_edge_index = batch.T.to(dev)
        if knn_edge_index.shape[1] == loader.dataset.edge_index.shape[0] // batches:
            t0 = time.perf_counter()
            loss, row_loss, col_loss = model.calculate_loss(x.clone(), knn_edge_index, data.train_pos_edge_index, hvg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            sync(dev)
            t1 = time.perf_counter()
            with torch.no_grad():
                split["outputs"] = model(x, knn_edge_index, data.train_pos_edge_index)
            sync(dev)
            split["steps"] += t1 - t0
            split["forwards"] += time.perf_counter() - t1
        else:
            concat_flag = True
        gc.collect()
        torch.cuda.empty_cache()
    new_knn_edge_index, _ = model.cols_encoder.reduce_network()
    if concat_flag:
        new_knn_edge_index = torch.concat([new_knn_edge_index, knn_edge_index], axis=-1)
    sync(dev)
    return float(loss)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--seed", type=int, default=42, help="torch and numpy seed")
    ap.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N")
    ap.add_argument("--save", metavar="PREFIX", help="write the last epoch's outputs as PREFIX.cells.npy "
                    "(cell embedding) and PREFIX.recon.npy (reconstruction, cells x genes)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    X, ppi, knn, hvg_mask = load(a.input)
    N, G = X.shape
    import pandas as pd  # the reference indexes its HVG mask as a pandas Series

    hvg = pd.Series(hvg_mask)
    x_full = torch.tensor(X.T.copy())  # genes x cells, as node_feature.values
    data = Data(x_full, ppi)
    data = train_test_split_edges(data, test_ratio=0.2, val_ratio=0).to(dev)
    model = RefModel(G, N, ref_main.INTER_DIM, ref_main.EMBEDDING_DIM, ref_main.INTER_DIM, ref_main.EMBEDDING_DIM,
                     lambda_rows=1, lambda_cols=1, num_layers=ref_main.NUM_LAYERS).to(dev)
    x = x_full.clone().to(dev)
    x = ((x.T - (x.mean(axis=1))) / (x.std(axis=1) + 0.00001)).T
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0001, weight_decay=1e-5)
    loader = ref_main.mini_batch_knn(knn, knn.shape[1] // a.batches)
    secs, splits, losses = [], [], []
    for e in range(a.warmup + a.epochs):
        split = {"steps": 0.0, "forwards": 0.0}
        sync(dev)
        t = time.perf_counter()
        losses.append(epoch(model, optimizer, loader, x, data, hvg, a.batches, split, dev))
        t = time.perf_counter() - t
        if e >= a.warmup:
            secs.append(t)
            splits.append(split)
        print(f"reference epoch {e}{' (warm-up)' if e < a.warmup else ''}: {t:.2f} s "
              f"(steps {split['steps']:.2f}, no-grad forwards {split['forwards']:.2f}), loss {losses[-1]:.4f}",
              file=sys.stderr)
        if a.eval_every and e % a.eval_every == 0:
            auc, ap_ = ref_main.test_recon(model, x, data, list(loader)[0].T.to(dev))
            print(f"reference epoch {e}: held-out PPI AUROC {auc:.4f}, AP {ap_:.4f}", file=sys.stderr, flush=True)
    if a.save:
        _, cells, recon = splits[-1]["outputs"] if splits else split["outputs"]
        np.save(a.save + ".cells.npy", cells.cpu().numpy())
        np.save(a.save + ".recon.npy", recon.cpu().numpy())
    for s_ in splits:
        s_.pop("outputs", None)
    out = {"genes": G, "cells": N, "knn_edges": int(knn.shape[1]), "ppi_train_edges": int(data.train_pos_edge_index.shape[1]),
           "threads": torch.get_num_threads(), "epoch_seconds": secs, "steps_seconds": [s["steps"] for s in splits],
           "forward_seconds": [s["forwards"] for s in splits], "loss": losses,
           "sgemm_gflops": sgemm_rate(N, G, dev), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
           "device_peak_mib": torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else 0,
           "torch": torch.__version__, "blas": "MKL" if torch.backends.mkl.is_available() else "other"}
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
