# The whole pipeline (prep -> train -> prune -> coembed -> propagate) on the
# 10x cell-line set, run twice with the same command lines: every file of
# every stage byte-identical (no timestamps, no HDF5 object times, no
# uninitialised bytes).  Run again with -t 1 instead of -t 2: the tables
# byte-identical, and the .h5ad files equal in every element but the three
# that record the run itself (the command line in the history, and the
# thread count scnet-train stores).
source "$(dirname "$0")/lib.sh"
B=$SCNET_BIN D=$SCNET_DATA T=$TEST_TMP
KEGG=$D/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz

# pipeline DIR THREADS: relative output names, so that the command lines
# (which the history records) are the same in every directory
pipeline() {
    mkdir -p "$1" && cd "$1"
    local t=(-q -t "$2")
    "$B/scnet-prep" "${t[@]}" "$D/tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz" \
        --ppi "$D/ppi/iref13_miscore_interactome.tsv.gz" --ppi-min-score 0 --min-genes 20 \
        --min-ppi-genes 50 -o prep.h5ad
    "$B/scnet-train" "${t[@]}" --max-genes 100 -e 2 -b 3 --hidden 32 --embed 8 -o train.h5ad prep.h5ad
    "$B/scnet-prune" "${t[@]}" --pct 20 --connectivities --tsv pruned.tsv -o prune.h5ad train.h5ad
    "$B/scnet-coembed" "${t[@]}" --baseline expression --tsv net.tsv --modules modules.tsv \
        -o coembed.h5ad prune.h5ad
    "$B/scnet-propagate" "${t[@]}" --gmt "$KEGG" --min-size 3 -o propagate.h5ad coembed.h5ad
    "$B/scnet-propagate" "${t[@]}" --gmt "$KEGG" --min-size 3 --n-random 3 -o evaluate.tsv coembed.h5ad
    cd "$T"
}
files=(prep.h5ad train.h5ad pruned.tsv prune.h5ad net.tsv modules.tsv coembed.h5ad propagate.h5ad evaluate.tsv)

pipeline "$T/a" 2
pipeline "$T/b" 2
for f in "${files[@]}"; do
    [ -s "$T/a/$f" ] || die "the pipeline wrote no $f"
    cmp "$T/a/$f" "$T/b/$f" || die "two runs of the same pipeline differ in $f"
done
# the outputs hold what the stages add (so the comparison covers them)
"$B/scnet-info" -q "$T/a/propagate.h5ad" >"$T/list"
for k in obsm/X_scnet obsp/scnet_knn_pruned varp/scnet_coembed var/scnet_module uns/scnet/propagate; do
    grep -q "^$k"$'\t' "$T/list" || die "propagate.h5ad lacks $k"
done
[ "$(wc -l <"$T/a/evaluate.tsv")" -gt 10 ] || die "too few evaluated gene sets"

pipeline "$T/c" 1
run_only=(--exclude-path /uns/scnet/history --exclude-path /uns/scnet/train/threads
          --exclude-path /uns/scnet/train/device)
for f in "${files[@]}"; do
    if [[ $f == *.tsv ]]; then
        cmp "$T/a/$f" "$T/c/$f" || die "-t 1 and -t 2 give different $f"
    else
        h5diff "${run_only[@]}" "$T/a/$f" "$T/c/$f" >"$T/diff" ||
            die "-t 1 and -t 2 differ in $f: $(head -5 "$T/diff")"
    fi
done
# The PBMC 10x set (2,700 cells, 32,738 genes): more rows than one block of
# the parallel loops, and the cell-block training mode
for t in 1 2; do
    mkdir -p "$T/pbmc$t" && cd "$T/pbmc$t"
    "$B/scnet-prep" -q -t $t "$D/pbmc3k_10x" --ppi "$D/ppi/iref13_miscore_interactome.tsv.gz" -o prep.h5ad
    "$B/scnet-train" -q -t $t --max-genes 150 -e 1 -b 3 --hidden 32 --embed 8 --cell-batch --block-size 1000 \
        -o train.h5ad prep.h5ad
    cd "$T"
done
for f in prep.h5ad train.h5ad; do
    h5diff "${run_only[@]}" "$T/pbmc1/$f" "$T/pbmc2/$f" >"$T/diff" ||
        die "PBMC: -t 1 and -t 2 differ in $f: $(head -5 "$T/diff")"
done
# the excluded elements are the ones that record the thread count
expect_eq "$("$B/scnet-info" -q --field uns/scnet/train/threads "$T/c/train.h5ad")" 1 "recorded threads"
echo "determinism.sh: every stage byte-identical across runs, equal across thread counts"
