#!/usr/bin/env bash
# Clustering quality of the scNET cell embedding against PCA on labelled
# real data (Tian et al. 2019 CellBench): the two RNA-mixture sets, where
# an embedding can beat PCA, and a pure cell-line set, where it must not
# break the clusters.  Each set: scnet-prep (10x gene map, iRefIndex PPI,
# a cell graph of K neighbours), scnet-train (--max-genes GENES, EPOCHS
# epochs, --outputs OUTPUTS, --output-graph GRAPH, --seed SEED), then
# bench/quality.py (Leiden on a k=15 KNN graph, best ARI over resolutions
# 0.1..1.0, as in ../shared/data/README.md).  Also prints the held-out PPI
# AUROC at the first and last evaluation and the training time.
# Environment: BUILD [build], SHARED [../shared], THREADS [2], K [25, as the
# reference], GENES [1000], EPOCHS [150], OUTPUTS [last], GRAPH [chunks],
# SEED [42], SETS [the three above; sc_dropseq and sc_10x_cepo894genes, two
# more pure cell-line sets, are also known].
# About 15 minutes a set with the defaults on 2 cores.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
THREADS=${THREADS:-2}
K=${K:-25}
GENES=${GENES:-1000}
EPOCHS=${EPOCHS:-150}
OUTPUTS=${OUTPUTS:-last}
GRAPH=${GRAPH:-chunks}
SEED=${SEED:-42}
SETS=${SETS:-RNAmix_celseq2 RNAmix_sortseq sc_celseq2}
W=$BUILD/bench/quality
mkdir -p "$W"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
C=$DATA/tian2019_cellbench
echo "quality: -k $K, --max-genes $GENES, $EPOCHS epochs, --outputs $OUTPUTS, --output-graph $GRAPH, --seed $SEED, $THREADS threads; $(nproc) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SETS; do
    case $s in
    RNAmix_*) label=H2228_prop+H1975_prop+HCC827_prop ;;
    *) label=cell_line ;;
    esac
    # Ensembl ids mapped to symbols, iRefIndex; the 894-gene 10x set has
    # symbols, and only 81 of them keep an iRefIndex edge, 237 a PINNACLE one
    genes=(--gene-map "$DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz") ppi=$IREF
    meta=$C/$s.metadata.csv.gz
    if [ "$s" = sc_10x_cepo894genes ]; then
        genes=() ppi=$DATA/ppi/pinnacle_global_ppi_edgelist.txt.gz meta=$C/$s.metadata.tsv.gz
    fi
    kk=$([ "$K" = 25 ] || echo ".k$K")
    prep=$W/$s$kk.prep.h5ad out=$W/$s$kk.g$GENES.e$EPOCHS.$OUTPUTS.$GRAPH.s$SEED.h5ad
    [ -f "$prep" ] || "$BIN/scnet-prep" -q -t "$THREADS" "$C/$s.count.csv.gz" --obs "$meta" "${genes[@]}" \
        --ppi "$ppi" -k "$K" -o "$prep"
    t0=$(date +%s)
    "$BIN/scnet-train" -v -t "$THREADS" --max-genes "$GENES" -e "$EPOCHS" --outputs "$OUTPUTS" --output-graph "$GRAPH" \
        --seed "$SEED" -o "$out" "$prep" \
        2>"${out%.h5ad}.log"
    secs=$(( $(date +%s) - t0 ))
    auc=$("$BIN/scnet-info" -q --field uns/scnet/train/auroc "$out")
    ep=$("$BIN/scnet-info" -q --field uns/scnet/train/eval_epoch "$out")
    printf '%s\ttrain %d s\tAUROC %.3f (epoch %s) -> %.3f (epoch %s), max %.3f\n' "$s" "$secs" \
        "$(head -1 <<<"$auc")" "$(head -1 <<<"$ep")" "$(tail -1 <<<"$auc")" "$(tail -1 <<<"$ep")" \
        "$(sort -g <<<"$auc" | tail -1)"
    "$PY" bench/quality.py "$s" "$label" "$C/$s.count.csv.gz" "$out"
done
