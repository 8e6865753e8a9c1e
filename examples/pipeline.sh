#!/usr/bin/env bash
# From counts to propagation scores in one pipe: every stage reads the
# previous stage's .h5ad on standard input and writes its own on standard
# output.  Set the variables below (or in the environment) for your own data.
# -o rather than '>': a failed stage leaves no empty or half-written file.
set -euo pipefail

DATA=${SCNET_DATA:-../shared/data}
COUNTS=${COUNTS:-$DATA/tian2019_cellbench/sc_celseq2.count.csv.gz}    # 10x folder or .h5, .h5ad, .mtx, CSV
OBS=${OBS-$DATA/tian2019_cellbench/sc_celseq2.metadata.csv.gz}        # cell metadata, or empty
GENE_MAP=${GENE_MAP-$DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz}  # ids -> symbols, or empty
PPI=${PPI:-$DATA/ppi/iref13_miscore_interactome.tsv.gz}
GMT=${GMT:-$DATA/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz}
SAMPLE=${SAMPLE:-sc_celseq2}
OUT=${OUT:-out}
THREADS=${THREADS:-2}
TRAIN_OPTS=${TRAIN_OPTS:---max-genes 1500 -e 30}
PERCENTILE=${PERCENTILE:-99}

mkdir -p "$OUT"
scnet-prep "$COUNTS" --ppi "$PPI" ${OBS:+--obs "$OBS"} ${GENE_MAP:+--gene-map "$GENE_MAP"} -t "$THREADS" |
    scnet-train $TRAIN_OPTS -t "$THREADS" |
    scnet-prune -t "$THREADS" |
    scnet-coembed -p "$PERCENTILE" -t "$THREADS" -o "$OUT/$SAMPLE.scnet.h5ad"
scnet-propagate --gmt "$GMT" -t "$THREADS" -o "$OUT/$SAMPLE.scores.tsv" "$OUT/$SAMPLE.scnet.h5ad"
echo "pipeline.sh: wrote $OUT/$SAMPLE.scnet.h5ad and $OUT/$SAMPLE.scores.tsv"
