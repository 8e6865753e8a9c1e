#!/usr/bin/env bash
# `make demo`: the whole scnet pipeline on real data, sized to finish in a few
# minutes on two cores.  The data: RNA from three lung adenocarcinoma cell
# lines mixed in seven proportions and sequenced with CEL-seq2 (Tian et al.,
# Nature Methods 2019), 340 pseudo-cells labelled by their mixture; the
# iRefIndex protein-protein interaction network; KEGG pathways.
# Outputs go to $BUILD/demo.  Settings: THREADS, EPOCHS, MAX_GENES, N_RANDOM.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
SHARED=${SHARED:-$ROOT/../shared}
DATA=$SHARED/data
OUT=$BUILD/demo
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-30}
MAX_GENES=${MAX_GENES:-1500}
N_RANDOM=${N_RANDOM:-5}
# Worker threads that wait by sleeping rather than spinning: on a small
# machine that is doing other work, spinning threads slow training manyfold.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export PATH="$BUILD/bin:$PATH"

COUNTS=$DATA/tian2019_cellbench/RNAmix_celseq2.count.csv.gz
META=$DATA/tian2019_cellbench/RNAmix_celseq2.metadata.csv.gz
GENE_MAP=$DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz
PPI=$DATA/ppi/iref13_miscore_interactome.tsv.gz
KEGG=$DATA/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz

missing=()
for f in "$COUNTS" "$META" "$GENE_MAP" "$PPI" "$KEGG"; do
    [ -r "$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
    {
        echo "demo: the demo needs these data files, which are missing:"
        printf '  %s\n' "${missing[@]}"
        echo "demo: they come with the shared data folder beside the clone (../shared/data, see its README.md);"
        echo "demo: set SHARED=/path/to/shared (the folder that holds data/) to use another copy."
    } >&2
    exit 1
fi
for p in scnet-prep scnet-train scnet-prune scnet-coembed scnet-propagate scnet-info; do
    command -v "$p" >/dev/null || { echo "demo: $BUILD/bin/$p is missing; run make first" >&2; exit 1; }
done
mkdir -p "$OUT"
t0=$(date +%s)

# show(cmd...): print the command as a user would type it, then run it
show() {
    local line="$*"
    line=${line//$DATA/\$DATA}
    line=${line//$OUT\//}
    line=${line//$ROOT\//}
    printf '\n$ %s\n' "$line"
    (cd "$OUT" && "$@")
}
field() { scnet-info -q --field "$1" "$2"; }

echo "demo: DATA=$DATA; outputs in $OUT"
show scnet-prep "$COUNTS" --obs "$META" --gene-map "$GENE_MAP" --ppi "$PPI" -t "$THREADS" -o rnamix.prep.h5ad
# --outputs last: the model as trained.  On 1,500 genes the held-out PPI
# AUROC is highest before training (epoch 0), and with 158 held-out edges
# the default (auto) would take the best evaluation and write an untrained
# model; the curve shows it.
t_train=$(date +%s)
show scnet-train --max-genes "$MAX_GENES" -e "$EPOCHS" --eval-every 5 --outputs last -t "$THREADS" -v \
    -o rnamix.train.h5ad rnamix.prep.h5ad
train_s=$(( $(date +%s) - t_train ))
show scnet-prune -t "$THREADS" --tsv cells.pruned.tsv -o rnamix.prune.h5ad rnamix.train.h5ad
show scnet-coembed -p 99 --baseline expression,ppi --tsv genes.coembed.tsv --modules genes.modules.tsv \
    -t "$THREADS" -o rnamix.scnet.h5ad rnamix.prune.h5ad
for net in coembed coexpression ppi; do
    show scnet-propagate --network "scnet_$net" --gmt "$KEGG" --evaluate --n-random "$N_RANDOM" -t "$THREADS" \
        -o "kegg.$net.tsv" rnamix.scnet.h5ad 2>"$OUT/kegg.$net.log"
    cat "$OUT/kegg.$net.log" >&2
done

# ---- plots, with the Python test environment (made once, then cached) ----
PY=$BUILD/venv/bin/python
plots=""
if [ ! -x "$PY" ]; then
    echo
    echo "demo: making the Python environment for the plots (make venv; cached for later runs)"
    make -C "$ROOT" --no-print-directory BUILD="$BUILD" venv >"$OUT/venv.log" 2>&1 ||
        echo "demo: make venv failed (see $OUT/venv.log); no plots" >&2
fi
if [ -x "$PY" ]; then
    show "$PY" "$ROOT/examples/plot.py" rnamix.scnet.h5ad --color H2228_prop,H1975_prop,HCC827_prop -o . |
        tee "$OUT/plot.log"
    plots="$OUT/umap.png $OUT/training.png"
fi

# ---- summary ----
F=$OUT/rnamix.scnet.h5ad
shape=$(scnet-info -q "$F" | awk -F'\t' '$1 == "shape" {print $2}')
echo
echo "demo: summary ($(( $(date +%s) - t0 )) s on $THREADS threads)"
echo "  data          RNAmix_celseq2: $shape (the $MAX_GENES most variable PPI genes modelled)"
printf '  training      %s epochs in %s s; held-out PPI AUROC %.3f at epoch 0, %.3f at epoch %s\n' \
    "$(field uns/scnet/train/epochs "$F")" "$train_s" \
    "$(field uns/scnet/train/auroc "$F" | head -1)" "$(field uns/scnet/train/auroc "$F" | tail -1)" \
    "$(field uns/scnet/train/eval_epoch "$F" | tail -1)"
printf '                outputs: %s; %s\n' "$(field uns/scnet/train/outputs "$F")" \
    "$(field uns/scnet/train/output_graph "$F")"
printf '  pruning       %s -> %s cell edges\n' "$(field uns/scnet/prune/edges_before "$F")" \
    "$(field uns/scnet/prune/edges_after "$F")"
printf '  modularity    co-embedded %.3f, co-expression %.3f, PPI %.3f (99th percentile networks)\n' \
    "$(field uns/scnet/coembed/modularity "$F")" "$(field uns/scnet/coembed/baseline_expression/modularity "$F")" \
    "$(field uns/scnet/coembed/baseline_ppi/modularity "$F")"
# propagation: the program's own summary lines (mean AUROC, overall z-score)
for net in coembed coexpression ppi; do
    auc=$(sed -n 's/.*: AUROC mean \([0-9.]*\) .*/\1/p' "$OUT/kegg.$net.log")
    rnd=$(sed -n 's/.*random networks: mean AUROC \([0-9.]*\),.*/\1/p' "$OUT/kegg.$net.log")
    z=$(sed -n 's/.*z-score AUROC \([-0-9.naif]*\),.*/\1/p' "$OUT/kegg.$net.log")
    printf '  KEGG %-15s %s sets: mean AUROC %s (random networks %s), z-score %s\n' "($net)" \
        "$(tail -n +2 "$OUT/kegg.$net.tsv" | wc -l)" "$auc" "$rnd" "$z"
done
[ -f "$OUT/plot.log" ] && sed -n 's/^plot.py: X_\(pca\|scnet\): Leiden/  clusters      X_\1: Leiden/p' "$OUT/plot.log"
echo "  files         $F"
echo "                $OUT/{genes.coembed,genes.modules,cells.pruned,kegg.coembed,kegg.coexpression,kegg.ppi}.tsv"
[ -n "$plots" ] && echo "                $plots"
exit 0
