#!/usr/bin/env bash
# scnet-train and scnet-prune on real data (a small model: few genes, few
# epochs): outputs and their shapes, determinism across runs and thread
# counts, checkpoint/resume, pipes, and bad input leaving nothing behind.
source "$(dirname "$0")/lib.sh"
B=$SCNET_BIN D=$SCNET_DATA T=$TEST_TMP

# The 10x cell-line subset: symbols, 895 cells.
"$B/scnet-prep" -q "$D/tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz" \
    --ppi "$D/ppi/iref13_miscore_interactome.tsv.gz" --ppi-min-score 0 --min-genes 20 \
    --min-ppi-genes 50 -o "$T/prep.h5ad"
small=(--max-genes 120 -e 4 -b 3 --hidden 32 --embed 8 --eval-every 2 -q)
loud=("${small[@]:0:${#small[@]}-1}") # without -q, where a warning is looked for

"$B/scnet-train" "${small[@]}" -t 2 -o "$T/a.h5ad" "$T/prep.h5ad"
"$B/scnet-info" -q "$T/a.h5ad" >"$T/info"
grep -Eq $'^obsm/X_scnet\t.*\t895 x 8' "$T/info" || die "X_scnet shape: $(grep X_scnet "$T/info")"
grep -Eq $'^varm/scnet\t.*\t120 x 8' "$T/info" || die "varm/scnet shape: $(grep varm/scnet "$T/info")"
grep -Eq $'^layers/scnet_reconstructed\t.*\t895 x 120' "$T/info" || die "reconstruction shape"
grep -Eq $'^obsp/scnet_attention\tcsr_matrix' "$T/info" || die "no attention"
grep -Eq $'^var\t.*\t120 x ' "$T/info" || die "var not restricted to the modelled genes"
grep -q 'scnet-train' <("$B/scnet-info" -q --history "$T/a.h5ad") || die "history lacks scnet-train"
# the degrees are those of the PPI among the modelled genes
"$PY" - "$T/a.h5ad" <<'EOF' || die "var['scnet_ppi_degree'] is not the degree in varp['scnet_ppi']"
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
deg = np.asarray((a.varp["scnet_ppi"] != 0).sum(axis=1)).ravel()
assert (a.var["scnet_ppi_degree"].to_numpy() == deg).all()
EOF
# an input without var['scnet_ppi_degree'] (written by anndata, not
# scnet-prep) gets it with the cut, as the degree among the modelled genes
"$PY" -c 'import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1]); del a.var["scnet_ppi_degree"]; a.write_h5ad(sys.argv[2])' "$T/prep.h5ad" "$T/nodeg.h5ad"
"$B/scnet-train" "${small[@]}" -e 1 -o "$T/nodeg.out.h5ad" "$T/nodeg.h5ad"
"$PY" - "$T/nodeg.out.h5ad" <<'EOF' || die "var['scnet_ppi_degree'] is missing or wrong when the input had none"
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
deg = np.asarray((a.varp["scnet_ppi"] != 0).sum(axis=1)).ravel()
assert a.n_vars == 120 and deg.sum() > 0
assert (a.var["scnet_ppi_degree"].to_numpy() == deg).all()
EOF
# without var['dispersions_norm'] the genes are ranked by variance, and the
# note says so
"$PY" -c 'import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1]); del a.var["dispersions_norm"]; a.write_h5ad(sys.argv[2])' "$T/prep.h5ad" "$T/nodisp.h5ad"
"$B/scnet-train" "${loud[@]}" -t 2 -o "$T/nodisp.out.h5ad" "$T/nodisp.h5ad" 2>"$T/nodisp.err" || die "no dispersions_norm"
grep -q "genes (--max-genes, by the variance of X: the input has no var\['dispersions_norm'\])" "$T/nodisp.err" ||
    die "the ranking is not named: $(cat "$T/nodisp.err")"
# what varm, varp and layers hold is cut to the modelled genes, as var is,
# keeping its element type: a data frame, dense arrays of any type and
# rank, strings, sparse matrices in either layout
"$PY" - "$T/prep.h5ad" "$T/vdf.h5ad" <<'EOF' || die "vdf.h5ad"
import sys, anndata as ad, h5py, numpy as np, pandas as pd, scipy.sparse as sp
a = ad.read_h5ad(sys.argv[1])
g, rng = a.n_vars, np.random.default_rng(0)
a.varm["vdf"] = pd.DataFrame({"w": np.arange(g, dtype=float)}, index=a.var_names)
a.varm["f64"] = rng.normal(size=(g, 3))
a.varm["i16"] = rng.integers(-9, 9, size=(g, 2, 3)).astype(np.int16)
a.varm["flag"] = rng.random((g, 2)) < 0.5
a.varp["dense"] = rng.normal(size=(g, g)).astype(np.float32)
a.varp["csc"] = sp.random(g, g, density=0.01, format="csc", random_state=1, dtype=np.float64)
a.layers["f64"] = rng.normal(size=(a.n_obs, g))
a.write_h5ad(sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:  # a string array: anndata itself reads varm as 2-D
    ad.io.write_elem(f, "varm/name", np.array([f"n{i}" for i in range(g)], dtype=object))
EOF
"$B/scnet-train" "${small[@]}" -t 2 -o "$T/vdf.out.h5ad" "$T/vdf.h5ad" || die "varm, varp and layers to subset"
"$PY" - "$T/vdf.h5ad" "$T/vdf.out.h5ad" <<'EOF' || die "varm, varp or layers not cut to the modelled genes"
import sys, anndata as ad, h5py, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
ix = a.var_names.get_indexer(b.var_names)
assert b.n_vars == 120 and (ix >= 0).all()
assert list(b.varm["vdf"].index) == list(b.var_names)
assert (b.varm["vdf"]["w"] == a.varm["vdf"].loc[b.var_names, "w"]).all()
for k in ("f64", "i16", "flag", "name"):
    x, y = np.asarray(a.varm[k]), np.asarray(b.varm[k])
    assert x.dtype == y.dtype and np.array_equal(x[ix], y), k
x, y = a.varp["dense"], b.varp["dense"]
assert x.dtype == y.dtype and np.array_equal(x[np.ix_(ix, ix)], y)
x, y = a.varp["csc"], b.varp["csc"]
assert x.dtype == y.dtype and (x[ix][:, ix] != y).nnz == 0
assert b.layers["f64"].dtype == np.float64 and np.array_equal(a.layers["f64"][:, ix], b.layers["f64"])
with h5py.File(sys.argv[2]) as f:
    assert f["varm/name"].attrs["encoding-type"] == "string-array"
EOF
# what cannot be cut is refused before training, naming the input
"$PY" - "$T/prep.h5ad" "$T/vdict.h5ad" <<'EOF' || die "vdict.h5ad"
import sys, shutil, anndata as ad, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    ad.io.write_elem(f, "varm/nested", {"a": np.zeros(f["var/_index"].shape[0])})
EOF
expect_exit 1 "$B/scnet-train" "${small[@]}" -o "$T/vdict.out.h5ad" "$T/vdict.h5ad"
expect_eq "$(cat "$T/stderr")" \
    "scnet-train: $T/vdict.h5ad: varm/nested: a dict cannot be cut to a subset (--max-genes cuts it to the modelled genes); remove it or model every gene" \
    "a dict in varm"
[ ! -e "$T/vdict.out.h5ad" ] || die "a refused run wrote its output"
# evaluations at epochs 0, 2 and the last; AUROC a probability
"$B/scnet-info" -q --field uns/scnet/train/eval_epoch "$T/a.h5ad" >"$T/ev"
expect_eq "$(tr '\n' ' ' <"$T/ev")" "0 2 3 " "evaluation epochs"
auc=$("$B/scnet-info" -q --field uns/scnet/train/best_auroc "$T/a.h5ad")
awk -v a="$auc" 'BEGIN { exit !(a > 0 && a < 1) }' || die "best AUROC $auc"

# same input, seed, threads (and command line, which the history records):
# identical bytes; and identical embeddings across thread counts
cp "$T/a.h5ad" "$T/a1.h5ad"
"$B/scnet-train" "${small[@]}" -t 2 -o "$T/a.h5ad" "$T/prep.h5ad"
cmp -s "$T/a.h5ad" "$T/a1.h5ad" || die "two runs with -t 2 differ"
"$B/scnet-train" "${small[@]}" -t 1 -o "$T/c.h5ad" "$T/prep.h5ad"
"$B/scnet-info" -q --field obsm/X_scnet "$T/a.h5ad" >"$T/za"
"$B/scnet-info" -q --field obsm/X_scnet "$T/c.h5ad" >"$T/zc"
cmp -s "$T/za" "$T/zc" || die "-t 1 and -t 2 give different embeddings"

# the outputs' forward: by default the mean over the edge chunks, with
# --output-graph whole one forward over the whole graph; attention from the
# whole graph either way.  With one chunk (-b 1) both are the same forward.
field() { "$B/scnet-info" -q --field "$1" "$2"; }
relerr() { # field, file a, file b: ‖a − b‖ / ‖a‖
    paste <(field "$1" "$2") <(field "$1" "$3") |
        awk -F'\t' '{ h = NF / 2; for (i = 1; i <= h; i++) { d = $(i + h) - $i; s += d * d; n += $i * $i } }
                    END { printf "%.3g\n", (n > 0 ? sqrt(s / n) : -1) }'
}
"$B/scnet-train" "${small[@]}" -t 2 --output-graph whole -o "$T/w.h5ad" "$T/prep.h5ad"
expect_eq "$(field uns/scnet/train/output_graph "$T/a.h5ad")" "the mean over the edge chunks" "output graph"
expect_eq "$(field uns/scnet/train/output_graph "$T/w.h5ad")" "the whole cell graph" "output graph"
cmp -s <(field obsp/scnet_attention "$T/a.h5ad") <(field obsp/scnet_attention "$T/w.h5ad") ||
    die "attention differs between the output graphs"
for f in obsm/X_scnet varm/scnet layers/scnet_reconstructed; do
    r=$(relerr $f "$T/w.h5ad" "$T/a.h5ad")
    awk -v r="$r" 'BEGIN { exit !(r > 1e-3) }' || die "$f: the chunk mean is the whole-graph forward (rel $r)"
done
"$B/scnet-train" "${small[@]}" -b 1 -t 2 -o "$T/c1.h5ad" "$T/prep.h5ad"
"$B/scnet-train" "${small[@]}" -b 1 -t 2 --output-graph whole -o "$T/w1.h5ad" "$T/prep.h5ad"
for f in obsm/X_scnet varm/scnet layers/scnet_reconstructed; do
    r=$(relerr $f "$T/w1.h5ad" "$T/c1.h5ad")
    awk -v r="$r" 'BEGIN { exit !(r >= 0 && r <= 1e-5) }' || die "$f: one chunk against the whole graph: rel $r"
done

# cell blocks that do not divide the cells (895 = 2 x 400 + an overlapping
# last block): written, every cell embedded, each kNN edge's attention once
"$B/scnet-train" "${small[@]}" -t 2 --cell-batch --block-size 400 -o "$T/blk.h5ad" "$T/prep.h5ad"
"$PY" - "$T/blk.h5ad" <<'EOF'
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
att = a.obsp["scnet_attention"]
once = att.copy()
once.sum_duplicates()
assert att.nnz > 0 and once.nnz == att.nnz, f"attention: {att.nnz} entries, {once.nnz} distinct"
assert a.obsm["X_scnet"].shape == (895, 8), a.obsm["X_scnet"].shape
assert (np.abs(a.obsm["X_scnet"]).sum(axis=1) > 0).all(), "a cell without an embedding"
EOF

# stopped after 3 epochs (checkpoints every 2: the stop saves the third),
# resumed: the same result as one run; the stopped run writes no output
"$B/scnet-train" "${small[@]}" -v -t 2 --checkpoint "$T/ck" --checkpoint-every 2 --stop-after 3 \
    -o "$T/part.h5ad" "$T/prep.h5ad" 2>"$T/stop.err"
[ ! -e "$T/part.h5ad" ] || die "a stopped run wrote an output"
grep -q "stopped after 3 of 4 epochs.*no output written" "$T/stop.err" || die "stop: $(cat "$T/stop.err")"
"$B/scnet-train" "${loud[@]}" -t 2 --resume "$T/ck" -o "$T/r.h5ad" "$T/prep.h5ad" 2>"$T/res.err"
! grep -q "checkpoint was made on" "$T/res.err" || die "resume on the same backend warned: $(cat "$T/res.err")"
# the summary counts and times this run's epochs only
grep -Eq "^scnet-train: trained epochs 3-3 \(1 this run, after 3 from the checkpoint\) in [0-9.]+ s on .* \([0-9.]+ s/epoch, [0-9.]+ GFLOP/s\); held-out PPI AUROC" \
    "$T/res.err" || die "resumed summary: $(grep trained "$T/res.err")"
"$B/scnet-info" -q --field varm/scnet "$T/a.h5ad" >"$T/ga"
"$B/scnet-info" -q --field varm/scnet "$T/r.h5ad" >"$T/gr"
cmp -s "$T/ga" "$T/gr" || die "resumed run differs from the uninterrupted one"
# -vv: a line for each training step, -b 3 mini-batches of edges an epoch,
# or one for each block of cells
"$B/scnet-train" "${small[@]}" -vv -e 1 -o "$T/vv.h5ad" "$T/prep.h5ad" 2>"$T/vv.err"
expect_eq "$(grep -Ec '^scnet-train: debug: epoch 0 step [1-3]/3 \([0-9]+ edges\): loss [0-9.]+ \(ppi [0-9.]+, mse [0-9.]+, corr [0-9.-]+\), [0-9.]+ s$' \
    "$T/vv.err")" 3 "-vv lines for 3 mini-batches"
"$B/scnet-train" "${small[@]}" -vv -e 1 --cell-batch --block-size 400 -o "$T/vv.h5ad" "$T/prep.h5ad" 2>"$T/vv.err"
grep -Eo '^scnet-train: debug: epoch 0 step [0-9]+/[0-9]+ \([0-9]+ cells\)' "$T/vv.err" | tr -d '()' |
    awk -v n="$(field obs/_index "$T/prep.h5ad" | wc -l)" '{ split($6, f, "/"); s[$7] = 1; c++ }
        END { for (k in s) size = k; exit !(length(s) == 1 && c == f[2] && c * size >= n && (c - 1) * size < n) }' ||
    die "-vv: cell blocks do not cover the cells: $(grep step "$T/vv.err")"
"$B/scnet-train" "${small[@]}" -v -e 1 -o "$T/vv.h5ad" "$T/prep.h5ad" 2>"$T/vv.err"
! grep -q ' step ' "$T/vv.err" || die "-v shows the steps"
# a resume with nothing left to train, or with another training option, is refused
expect_exit 1 "$B/scnet-train" "${small[@]}" -e 3 --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad"
grep -q "checkpoint is after 3 epochs, and this run asks for 3" "$T/stderr" || die "resume -e 3: $(cat "$T/stderr")"
expect_exit 1 "$B/scnet-train" "${small[@]}" --lr 1e-3 --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/ck: checkpoint was made with --lr 0.0001, this run --lr 0.001; resume with the options of the run that made it" "resume --lr"
# choices are named as the command line gives them (auto resolved: last here)
expect_exit 1 "$B/scnet-train" "${small[@]}" --outputs best --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/ck: checkpoint was made with --outputs last, this run --outputs best; resume with the options of the run that made it" "resume --outputs"
expect_exit 1 "$B/scnet-train" "${small[@]}" --output-graph whole --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad"
grep -q "made with --output-graph chunks, this run --output-graph whole;" "$T/stderr" || die "resume --output-graph: $(cat "$T/stderr")"
expect_exit 1 "$B/scnet-train" "${small[@]}" --cell-batch --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad"
grep -q "made with edge batches (--no-cell-batch, or at most --cell-threshold cells), this run cell blocks (--cell-batch, or more than --cell-threshold cells);" \
    "$T/stderr" || die "resume --cell-batch: $(cat "$T/stderr")"
# so is one on other data of the same shape (the expression rescaled)
"$PY" - "$T/prep.h5ad" "$T/rescaled.h5ad" <<'PY' || die "cannot write the rescaled input"
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
a.X = a.X * 1.5
a.write_h5ad(sys.argv[2])
PY
expect_exit 1 "$B/scnet-train" "${small[@]}" --resume "$T/ck" -o "$T/x.h5ad" "$T/rescaled.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/ck: checkpoint was made from other data (the expression, PPI or cell graph differ from this input's): resume with the input that made it" "resume on other data"
[ ! -e "$T/x.h5ad" ] || die "a refused resume wrote an output"
# a damaged checkpoint: a weight that is not finite, the options record gone
"$PY" - "$T/ck" "$T/nan.ck" "$T/noopt.ck" <<'PY' || die "cannot write the damaged checkpoints"
import shutil, sys, h5py, numpy as np
for dst in sys.argv[2:]:
    shutil.copyfile(sys.argv[1], dst)
with h5py.File(sys.argv[2], "r+") as f:
    d = f["params/dec.0.weight"]
    w = d[()]
    w.flat[0] = np.nan
    d[...] = w
with h5py.File(sys.argv[3], "r+") as f:
    del f["options"]
PY
expect_exit 1 "$B/scnet-train" "${small[@]}" --resume "$T/nan.ck" -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/nan.ck: parameter 'dec.0.weight' holds a value that is not finite" "resume of a NaN weight"
expect_exit 1 "$B/scnet-train" "${small[@]}" --resume "$T/noopt.ck" -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/noopt.ck: the record 'options' is missing (a damaged checkpoint): train again" "resume without options"
[ ! -e "$T/x.h5ad" ] || die "a refused resume wrote an output"
# another thread count rounds alike: no warning, the uninterrupted result
"$B/scnet-train" "${loud[@]}" -t 1 --resume "$T/ck" -o "$T/x.h5ad" "$T/prep.h5ad" 2>"$T/res.err"
! grep -q "checkpoint was made on" "$T/res.err" || die "resume -t 1 warned: $(cat "$T/res.err")"
"$B/scnet-info" -q --field varm/scnet "$T/x.h5ad" >"$T/gt1"
cmp -s "$T/ga" "$T/gt1" || die "a resume on one thread differs from the uninterrupted run"
rm -f "$T/x.h5ad"
# standard output on a terminal is refused before any training
if command -v script >/dev/null; then
    script -qc "$B/scnet-train ${small[*]} -v $T/prep.h5ad" /dev/null >"$T/tty.out" 2>&1 || true
    grep -q "refusing to write binary data to a terminal" "$T/tty.out" || die "tty: $(cat "$T/tty.out")"
    ! grep -q "trained" "$T/tty.out" || die "trained before refusing the terminal"
    # a forgotten input file: standard input on a terminal is refused, not waited on
    for p in "scnet-train ${small[*]} -o $T/x.h5ad" "scnet-prune -q -o $T/x.h5ad" "scnet-info -" \
             "scnet-prep --ppi $T/none -o $T/x.h5ad -"; do
        timeout 20 script -qc "$B/$p" /dev/null >"$T/tty.out" 2>&1 || true
        grep -q "no input: standard input is a terminal" "$T/tty.out" || die "$p on a terminal: $(cat "$T/tty.out")"
    done
fi
# a checkpoint is always written after the last epoch; resuming it with the
# same -e writes that run's outputs again
"$B/scnet-train" "${small[@]}" -t 2 --checkpoint "$T/fin" -o "$T/fin.h5ad" "$T/prep.h5ad"
[ -e "$T/fin" ] || die "no checkpoint after the last epoch"
"$B/scnet-train" "${small[@]}" -t 2 --resume "$T/fin" -o "$T/fin2.h5ad" "$T/prep.h5ad"
cmp -s <("$B/scnet-info" -q --field obsm/X_scnet "$T/fin.h5ad") <("$B/scnet-info" -q --field obsm/X_scnet "$T/fin2.h5ad") ||
    die "the last epoch's checkpoint does not give the run's outputs"

# a pipe through prune and info
"$B/scnet-train" "${small[@]}" <"$T/prep.h5ad" | "$B/scnet-prune" -q --pct 20 --connectivities |
    "$B/scnet-info" -q - >"$T/pinfo"
grep -Eq $'^obsp/scnet_knn_pruned\tcsr_matrix' "$T/pinfo" || die "pipe: no pruned graph"
grep -Eq $'^obsp/scnet_connectivities\tcsr_matrix' "$T/pinfo" || die "pipe: no connectivities"

# pruning a pruned file again: what the first run wrote and the second does
# not is gone, or scanpy's neighbors_key='scnet_neighbors' would find the
# first run's graph
"$B/scnet-prune" -q --connectivities -o "$T/pc.h5ad" "$T/a.h5ad"
"$B/scnet-prune" -q --pct 50 -o "$T/pc2.h5ad" "$T/pc.h5ad"
"$B/scnet-info" -q "$T/pc.h5ad" >"$T/pc.txt"
"$B/scnet-info" -q "$T/pc2.h5ad" >"$T/pc2.txt"
for f in obsp/scnet_connectivities obsp/scnet_distances uns/scnet_neighbors; do
    grep -q "^$f"$'\t' "$T/pc.txt" || die "--connectivities did not write $f"
    ! grep -q "^$f"$'\t' "$T/pc2.txt" || die "pruning again left the first run's $f"
done
expect_eq "$(field uns/scnet/prune/pct "$T/pc2.h5ad")" 50 "pct of the second pruning"
# -v describes the attention and the edges per sending cell: with --pct 50
# --cap 1 the median attention is the threshold, and no cell keeps fewer
# than --protect edges (or all it had)
expect_exit 0 "$B/scnet-prune" -v --pct 50 --cap 1 --protect 3 -o "$T/pv.h5ad" "$T/a.h5ad"
grep -Eq '^scnet-prune: attention on the cell graph.s edges \(min / median / max\): [0-9.e-]+ / [0-9.e-]+ / [0-9.e-]+$' \
    "$T/stderr" || die "-v: no attention summary: $(cat "$T/stderr")"
line=$(grep '^scnet-prune: outgoing edges per cell' "$T/stderr") || die "-v: no edges summary: $(cat "$T/stderr")"
read -r bmin _ _ _ _ amin _ < <(sed -E 's|.*: ([0-9]+) / [0-9.]+ / ([0-9]+) before, ([0-9]+) / [0-9.]+ / ([0-9]+) after; ([0-9]+) of.*|\1 \2 x x x \3 \4|' <<<"$line")
[ "$amin" -ge $((bmin < 3 ? bmin : 3)) ] || die "-v: a cell kept $amin edges, fewer than --protect 3: $line"
median=$(grep 'attention on the' "$T/stderr" | grep -o 'max): [^ ]* / [^ ]*' | awk '{print $4}')
expect_eq "$(awk -v m="$median" -v t="$(field uns/scnet/prune/threshold "$T/pv.h5ad")" \
    'BEGIN { print (t <= m * 1.001 && t >= m * 0.999) ? "same" : t " vs " m }')" same "--pct 50 threshold against the median"
expect_exit 0 "$B/scnet-prune" --pct 50 -o "$T/pv.h5ad" "$T/a.h5ad"
! grep -q 'outgoing edges' "$T/stderr" || die "the edges summary shown without -v"
# scanpy's tools take the pruned graph with neighbors_key='scnet_neighbors':
# its params are the input's neighbors params, or without them what the
# graph says (n_neighbors: the widest row of distances and the cell itself)
cp "$T/a.h5ad" "$T/nopar.h5ad"
"$PY" -c 'import sys, h5py
with h5py.File(sys.argv[1], "r+") as f: del f["uns/neighbors/params"]' "$T/nopar.h5ad"
"$B/scnet-prune" -q --connectivities -o "$T/pc3.h5ad" "$T/nopar.h5ad"
"$PY" - "$T/pc.h5ad" "$T/pc3.h5ad" <<'PY' || die "scanpy cannot use uns['scnet_neighbors']"
import sys, anndata as ad, scanpy as sc
for path in sys.argv[1:]:
    a = ad.read_h5ad(path)
    p, q = a.uns["scnet_neighbors"]["params"], a.uns["neighbors"].get("params")
    if q is not None:
        assert dict(p) == dict(q), (p, q)
    k = 1 + max(a.obsp["distances"].getnnz(axis=1))
    assert p["n_neighbors"] == k and p["method"] == "umap", (path, p, k)
    sc.tl.diffmap(a, neighbors_key="scnet_neighbors", n_comps=4)
    assert a.obsm["X_diffmap"].shape == (a.n_obs, 4)
PY
cmp -s <(field obsp/scnet_knn_pruned "$T/pc.h5ad") <(field obsp/scnet_knn_pruned "$T/pc2.h5ad") &&
    die "the second pruning kept the first one's graph"

# --connectivities without scanpy's distances, or with a graph of another
# shape: refused before any work (no summary), naming the input
cp "$T/a.h5ad" "$T/nodist.h5ad"
"$PY" -c 'import sys, h5py
with h5py.File(sys.argv[1], "r+") as f: del f["obsp/distances"]' "$T/nodist.h5ad"
expect_exit 1 "$B/scnet-prune" --connectivities -o "$T/p.h5ad" "$T/nodist.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-prune: $T/nodist.h5ad: obsp/distances is missing (needed by --connectivities)" \
    "prune without obsp/distances"
cp "$T/a.h5ad" "$T/small.h5ad"
"$PY" -c 'import sys, h5py, scipy.sparse as sp, anndata as ad
with h5py.File(sys.argv[1], "r+") as f: ad.io.write_elem(f, "obsp/connectivities", sp.csr_matrix(sp.eye(3, dtype="f4")))' \
    "$T/small.h5ad"
expect_exit 1 "$B/scnet-prune" --connectivities -o "$T/p.h5ad" "$T/small.h5ad"
expect_eq "$(cat "$T/stderr")" \
    "scnet-prune: $T/small.h5ad: obsp/connectivities: has 3 rows, expected 895" \
    "prune with a 3 x 3 obsp/connectivities"
[ ! -e "$T/p.h5ad" ] || die "a refused prune wrote an output"

# the rule scnet-prune(1) gives: without protection, exactly the edges below
# min(--cap, numpy's linear percentile) go, at most ceil(pct/100 (n - 1))
"$B/scnet-prune" --protect 0 --pct 10 --cap 1 -o "$T/p10.h5ad" "$T/a.h5ad" 2>"$T/p10.err" || die "prune --protect 0"
grep -Eq "^scnet-prune: pruned cell graph: [0-9]+ -> [0-9]+ edges \(threshold [0-9.e-]+\); [0-9]+ cells lost every edge \(--protect 0\)$" \
    "$T/p10.err" || die "prune --protect 0: $(cat "$T/p10.err")"
"$PY" - "$T/p10.h5ad" <<'EOF' || die "--pct 10 --protect 0 does not follow the documented rule"
import sys, math, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
att = a.obsp["scnet_attention"].data.astype(np.float64)
p = a.uns["scnet"]["prune"]
thr = min(1.0, np.percentile(att, 10))
gone = int((att < thr).sum())
assert abs(p["threshold"] - thr) <= 1e-12 * thr, (p["threshold"], thr)
assert p["edges_before"] == att.size and p["edges_before"] - p["edges_after"] == gone, (dict(p), gone)
assert a.obsp["scnet_knn_pruned"].nnz == att.size - gone
assert 0 < gone <= math.ceil(0.1 * (att.size - 1)), gone
EOF

# --max-genes: a var category no modelled gene has goes, with its colour,
# as anndata's subsets leave them
"$PY" - "$T/prep.h5ad" "$T/vcat.h5ad" <<'EOF' || die "cannot write the var categories input"
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
g = np.array(["c1", "c2"])[np.arange(a.n_vars) % 2].astype(object)
g[np.argmin(a.var["dispersions_norm"].to_numpy())] = "rare"
a.var["chrom"] = g
a.var["chrom"] = a.var["chrom"].astype("category")
a.uns["chrom_colors"] = np.array(["red", "green", "blue"])
a.write_h5ad(sys.argv[2])
EOF
"$B/scnet-train" "${small[@]}" -o "$T/vcat_out.h5ad" "$T/vcat.h5ad" || die "train on vcat.h5ad"
"$PY" - "$T/vcat.h5ad" "$T/vcat_out.h5ad" <<'EOF' || die "var categories or colours differ from anndata's subset"
import sys, anndata as ad
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
c = a[:, b.var_names].copy()
assert list(b.var["chrom"].cat.categories) == list(c.var["chrom"].cat.categories) == ["c1", "c2"]
assert list(b.uns["chrom_colors"]) == list(c.uns["chrom_colors"]) == ["red", "green"]
EOF

# --save-model: PyTorch's names and shapes (weights out x in), the weights
# the outputs came from (the decoder's last layer gives the reconstruction's
# genes)
"$B/scnet-train" "${small[@]}" --save-model "$T/model.h5" -o "$T/sm.h5ad" "$T/prep.h5ad"
"$PY" - "$T/model.h5" <<'EOF' || die "--save-model: unexpected datasets"
import sys, h5py
p = h5py.File(sys.argv[1], "r")["params"]
assert p["dec.2.weight"].shape == (120, 32), p["dec.2.weight"].shape   # genes x hidden
assert p["dec.0.weight"].shape == (32, 8), p["dec.0.weight"].shape     # hidden x embed
assert p["dec.2.bias"].shape == (120,), p["dec.2.bias"].shape
assert p["cell.gcn.weight"].shape == (32, 120), p["cell.gcn.weight"].shape
EOF

# --save-model goes in place with the outputs, only when the run succeeds:
# a failed write of -o, a stopped run and an interrupted one leave an
# existing file as it was
echo OLD >"$T/keep.h5"
expect_exit 1 sh -c '"$@" >/dev/full' sh "$B/scnet-train" "${small[@]}" --save-model "$T/keep.h5" "$T/prep.h5ad"
expect_eq "$(cat "$T/keep.h5")" OLD "--save-model after a failed -o"
"$B/scnet-train" "${small[@]}" --save-model "$T/keep.h5" --checkpoint "$T/sm.ck" --stop-after 2 -o "$T/x.h5ad" \
    "$T/prep.h5ad"
expect_eq "$(cat "$T/keep.h5")" OLD "--save-model after --stop-after"
"$B/scnet-train" "${loud[@]}" -v -e 100000 --save-model "$T/keep.h5" -o "$T/x.h5ad" "$T/prep.h5ad" 2>"$T/int.err" &
pid=$!
for _ in $(seq 600); do
    grep -q 'epoch 1:' "$T/int.err" && break # after the first evaluation's outputs
    sleep 0.1
done
kill -INT $pid
wait $pid && die "an interrupted run exited 0"
expect_eq "$(cat "$T/keep.h5")" OLD "--save-model after SIGINT"
[ ! -e "$T/x.h5ad" ] && ! ls "$T" | grep -q 'keep.h5.*tmp' || die "an interrupted run left files behind: $(ls "$T")"
# the reference schedule's outputs have their weights saved too
"$B/scnet-train" "${small[@]}" --outputs reference --save-model "$T/ref.h5" -o "$T/x.h5ad" "$T/prep.h5ad"
"$PY" -c 'import sys, h5py
f = h5py.File(sys.argv[1], "r"); assert f["params/dec.2.weight"].shape == (120, 32); assert f.attrs["epoch"] == 2' \
    "$T/ref.h5" || die "--outputs reference: no saved model"
rm -f "$T/x.h5ad"

# the saved weights are those of the epoch the outputs came from, also when
# a resumed run's outputs come from before its checkpoint, or from the
# checkpoint of the last epoch resumed with the same -e; both save what the
# uninterrupted run saves, to the byte
best=(--outputs best --save-model)
"$B/scnet-train" "${small[@]}" "${best[@]}" "$T/mu.h5" -o "$T/bu.h5ad" "$T/prep.h5ad"
"$PY" -c 'import sys, h5py; e = h5py.File(sys.argv[1], "r").attrs["epoch"]; assert e < 3, e' "$T/mu.h5" ||
    die "the best epoch is not before the stop: the resumed case below is not tested"
"$B/scnet-train" "${small[@]}" --outputs best --checkpoint "$T/mb.ck" --stop-after 3 -o "$T/x.h5ad" "$T/prep.h5ad"
"$B/scnet-train" "${small[@]}" "${best[@]}" "$T/mr.h5" --resume "$T/mb.ck" -o "$T/x.h5ad" "$T/prep.h5ad"
cmp -s "$T/mu.h5" "$T/mr.h5" || die "--save-model of a run resumed after its best epoch differs"
"$B/scnet-train" "${small[@]}" --outputs best --checkpoint "$T/mf.ck" -o "$T/x.h5ad" "$T/prep.h5ad"
"$B/scnet-train" "${small[@]}" "${best[@]}" "$T/mf.h5" --resume "$T/mf.ck" -o "$T/x.h5ad" "$T/prep.h5ad"
cmp -s "$T/mu.h5" "$T/mf.h5" || die "--save-model of the last epoch's checkpoint resumed with the same -e differs"
# a finished run extended from its last checkpoint with a larger -e ends as
# the uninterrupted run: the evaluation the shorter run made of its last
# epoch only because it ended there (epoch 1, off --eval-every 2) and the
# outputs it made are not carried on
"$B/scnet-train" "${small[@]}" -e 2 --outputs best --checkpoint "$T/e2.ck" -o "$T/e2.h5ad" "$T/prep.h5ad"
expect_eq "$(field uns/scnet/train/eval_epoch "$T/e2.h5ad" | tr '\n' ' ')" "0 1 " "evaluations of the 2-epoch run"
"$B/scnet-train" "${small[@]}" "${best[@]}" "$T/me.h5" --resume "$T/e2.ck" -o "$T/e4.h5ad" "$T/prep.h5ad"
expect_eq "$(field uns/scnet/train/eval_epoch "$T/e4.h5ad" | tr '\n' ' ')" "0 2 3 " "evaluations of the extended run"
for f in obsm/X_scnet layers/scnet_reconstructed obsp/scnet_knn_pruned uns/scnet/train/auroc; do
    cmp -s <(field $f "$T/bu.h5ad") <(field $f "$T/e4.h5ad") || die "$f: the extended run differs from one run"
done
cmp -s "$T/mu.h5" "$T/me.h5" || die "--save-model of the extended run differs from one run's"
rm -f "$T/x.h5ad"

# every documented layer count builds and trains (1 to 7; the deepest
# model has the most backend buffers), and its weights name every layer
for L in 1 5 7; do
    "$B/scnet-train" "${small[@]}" -e 1 --layers $L --save-model "$T/l$L.h5" -o "$T/x.h5ad" "$T/prep.h5ad" ||
        die "--layers $L: $(cat "$T/stderr" 2>/dev/null)"
    "$PY" -c 'import sys, h5py
p = h5py.File(sys.argv[1], "r")["params"]; L = int(sys.argv[2])
assert f"mutual.{L - 1}.gene.lin_l.weight" in p and f"mutual.{L}.gene.lin_l.weight" not in p' "$T/l$L.h5" $L ||
        die "--layers $L: the saved model has other layers"
done
expect_exit 2 "$B/scnet-train" "${small[@]}" --layers 8 "$T/prep.h5ad"
rm -f "$T/x.h5ad"

# a --test-frac that holds out no PPI edge (every AUROC would be NaN) is
# refused before training, with the least fraction that holds one out
expect_exit 1 "$B/scnet-train" "${small[@]}" --test-frac 0.01 --outputs best -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-train: $T/prep.h5ad: --test-frac 0.01 holds out none of the 70 PPI edges among the modelled genes (the evaluation needs at least one: give --test-frac 0.015 or more)" \
    "--test-frac 0.01"
[ ! -e "$T/x.h5ad" ] || die "a refused --test-frac wrote an output"
"$B/scnet-train" "${small[@]}" -e 1 --test-frac 0.015 -o "$T/x.h5ad" "$T/prep.h5ad"
expect_eq "$(field uns/scnet/train/ppi_test_edges "$T/x.h5ad")" 1 "held-out edges at the suggested --test-frac"
auc=$(field uns/scnet/train/best_auroc "$T/x.h5ad")
awk -v a="$auc" 'BEGIN { exit !(a >= 0 && a <= 1) }' || die "AUROC on one held-out edge: $auc"
rm -f "$T/x.h5ad"

# a run that does not fit in memory is refused naming the input and what
# makes it fit, which then does: cell blocks where the cells are the larger
# side (895 cells, 177 genes), fewer genes where the genes are (340 cells
# and 1000 of 7874 genes)
"$B/scnet-prep" -q "$D/tian2019_cellbench/RNAmix_celseq2.count.csv.gz" \
    --gene-map "$D/annotation/human_GRCh38-2024-A_10x_features.tsv.gz" \
    --ppi "$D/ppi/iref13_miscore_interactome.tsv.gz" -k 15 -o "$T/mix.h5ad"
for c in "60M $T/prep.h5ad train in smaller cell blocks: --cell-batch --block-size ([0-9]+) fits" \
         "100M $T/mix.h5ad --max-genes 1000 model fewer genes: about --max-genes ([0-9]+) fits"; do
    read -r lim in rest <<<"$c"
    args=() && [[ $rest == --max-genes* ]] && args=(--max-genes 1000) && rest=${rest#--max-genes 1000 }
    expect_exit 1 env SCNET_MEM_LIMIT=$lim "$B/scnet-train" -q -e 1 "${args[@]}" -o "$T/x.h5ad" "$in"
    line=$(cat "$T/stderr")
    [[ $line =~ ^"scnet-train: $in: training needs "[0-9.]+" MiB of memory but only "[0-9.]+" MiB is available ("$rest")"$ ]] ||
        die "memory refusal: $line"
    n=${BASH_REMATCH[1]}
    fix=(--cell-batch --block-size "$n") && [[ $rest == model* ]] && fix=(--max-genes "$n")
    env SCNET_MEM_LIMIT=$lim "$B/scnet-train" -q -e 1 "${fix[@]}" -o "$T/x.h5ad" "$in" ||
        die "the advice ${fix[*]} does not fit in $lim"
done
rm -f "$T/x.h5ad"

# retraining a file the later stages have been through drops what they made
# from the old model
"$B/scnet-train" "${small[@]}" <"$T/prep.h5ad" | "$B/scnet-prune" -q --connectivities |
    "$B/scnet-coembed" -q -o "$T/down.h5ad"
"$B/scnet-train" "${small[@]}" --seed 5 -o "$T/again.h5ad" "$T/down.h5ad"
"$B/scnet-info" -q "$T/down.h5ad" >"$T/down.txt"
"$B/scnet-info" -q "$T/again.h5ad" >"$T/again.txt"
for f in obsp/scnet_connectivities uns/scnet_neighbors varp/scnet_coembed var/scnet_module uns/scnet/coembed \
    uns/scnet/prune; do
    grep -q "^$f"$'\t' "$T/down.txt" || die "the downstream file lacks $f"
    ! grep -q "^$f"$'\t' "$T/again.txt" || die "retraining left the stale $f"
done
expect_line "$T/again.txt" $'stages\tscnet-prep scnet-train'
"$PY" -W error -c 'import sys, anndata as ad; ad.read_h5ad(sys.argv[1])' "$T/again.h5ad" ||
    die "anndata cannot read the retrained file"

# bad input: a file without the PPI; the previous output survives untouched
"$PY" - "$T/noppi.h5ad" <<'EOF'
import sys, numpy as np, anndata as ad
ad.AnnData(np.ones((30, 20), dtype=np.float32)).write_h5ad(sys.argv[1])
EOF
cp "$T/a.h5ad" "$T/keep.h5ad"
expect_exit 1 "$B/scnet-train" -q -o "$T/keep.h5ad" "$T/noppi.h5ad"
grep -q "noppi.h5ad: varp/scnet_ppi (the aligned PPI) is missing" "$T/stderr" || die "message: $(cat "$T/stderr")"
cmp -s "$T/a.h5ad" "$T/keep.h5ad" || die "a failed run changed the existing output"
ls "$T" | grep -q 'keep.h5ad.tmp' && die "a temporary file was left behind"
expect_exit 1 "$B/scnet-prune" -q -o "$T/p.h5ad" "$T/prep.h5ad"
grep -q "obsp/scnet_attention is missing" "$T/stderr" || die "prune message: $(cat "$T/stderr")"
[ ! -e "$T/p.h5ad" ] || die "prune left an output behind"
expect_exit 2 "$B/scnet-train" --epochs 0
expect_exit 2 "$B/scnet-train" --stop-after 3 "$T/prep.h5ad"

# OpenBLAS on generic kernels on a CPU with AVX2: a warning, and the run goes on
if grep -qw avx2 /proc/cpuinfo; then
    OPENBLAS_CORETYPE=Prescott "$B/scnet-train" --max-genes 120 -e 1 -b 3 --hidden 32 --embed 8 \
        -o "$T/slow.h5ad" "$T/prep.h5ad" 2>"$T/slow.err" || die "generic kernels: $(cat "$T/slow.err")"
    grep -q "OpenBLAS uses its Prescott kernels on a CPU with AVX2" "$T/slow.err" ||
        die "no warning about generic kernels: $(cat "$T/slow.err")"
fi
echo "train.sh: ok"
