# The workflow examples on real data (the CEL-seq2 three-cell-line mixture,
# Ensembl ids mapped to symbols, the iRefIndex PPI, KEGG sets), trained
# small: the shell pipe, the Makefile (incremental), the Snakefile (two
# samples, threads passed to -t) and the installable rules in share/ must
# all give the same embeddings, networks, modules and scores.
source "$(dirname "$0")/lib.sh"
T=$TEST_TMP
EX=$SCNET_ROOT/examples
info=$SCNET_BIN/scnet-info
TRAIN="--max-genes 300 -e 3 --eval-every 1"
S=sc_celseq2
export PATH="$SCNET_BIN:$PATH"

# ---- the shell pipe ----
mkdir -p "$T/pipe"
(cd "$T/pipe" && THREADS=1 TRAIN_OPTS="$TRAIN" bash "$EX/pipeline.sh") >"$T/pipe.log" 2>&1 ||
    die "pipeline.sh failed: $(tail -5 "$T/pipe.log")"
REF=$T/pipe/out/$S.scnet.h5ad
[ -s "$REF" ] && [ -s "$T/pipe/out/$S.scores.tsv" ] || die "pipeline.sh wrote no outputs"
"$info" -q "$REF" >"$T/ref.txt"
expect_line "$T/ref.txt" $'shape\t274 obs x 300 var'
expect_line "$T/ref.txt" $'stages\tscnet-prep scnet-train scnet-prune scnet-coembed'
expect_line "$T/ref.txt" $'obsm/X_scnet\tarray\tfloat32\t274 x 75'
grep -q $'^obs/cell_line\tcategorical\tstr\t274\t3 categories$' "$T/ref.txt" || die "the metadata did not come through --obs"
head -1 "$T/pipe/out/$S.scores.tsv" | grep -q $'^gene\t' || die "scores: no header"
[ "$(wc -l <"$T/pipe/out/$S.scores.tsv")" -eq 301 ] || die "scores: expected 300 genes"

# same(A, B, WHAT): the key fields and the scores agree exactly; the files
# differ at most in the history (the command lines).
same() {
    local a=$1 b=$2 what=$3 f
    for f in X obsm/X_scnet varm/scnet layers/scnet_reconstructed obsp/scnet_attention \
        obsp/scnet_knn_pruned varp/scnet_coembed var/scnet_module uns/scnet/coembed/modularity; do
        cmp -s <("$info" -q --field "$f" "$a") <("$info" -q --field "$f" "$b") ||
            die "$what: $f differs from the pipe's"
    done
    h5diff --exclude-path /uns/scnet/history "$a" "$b" >"$T/h5diff.txt" ||
        die "$what: the file differs from the pipe's: $(head -5 "$T/h5diff.txt")"
    cmp -s "${a%.scnet.h5ad}.scores.tsv" "${b%.scnet.h5ad}.scores.tsv" || die "$what: scores differ from the pipe's"
}

# ---- the Makefile: same result, then incremental ----
MK=(make --no-print-directory -f "$EX/Makefile" THREADS=1 "TRAIN_OPTS=$TRAIN")
mkdir -p "$T/mk"
(cd "$T/mk" && "${MK[@]}") >"$T/mk.log" 2>&1 || die "examples/Makefile failed: $(tail -5 "$T/mk.log")"
same "$T/mk/out/$S.scnet.h5ad" "$REF" "examples/Makefile"
for f in prep train prune; do [ -s "$T/mk/out/$S.$f.h5ad" ] || die "Makefile kept no $S.$f.h5ad"; done
(cd "$T/mk" && "${MK[@]}" -q) || die "make does not find the outputs up to date"
touch "$T/mk/out/$S.prune.h5ad"
(cd "$T/mk" && "${MK[@]}" -n) >"$T/mk.n"
grep -q scnet-coembed "$T/mk.n" && grep -q scnet-propagate "$T/mk.n" || die "a newer prune output does not rerun the later stages"
grep -Eq 'scnet-(prep|train|prune) ' "$T/mk.n" && die "a newer prune output reruns earlier stages: $(cat "$T/mk.n")"
rm "$T/mk/out/$S.train.h5ad"
(cd "$T/mk" && "${MK[@]}" -n) >"$T/mk.n"
for p in train prune coembed propagate; do
    grep -q "scnet-$p " "$T/mk.n" || die "a removed train output does not rerun scnet-$p: $(cat "$T/mk.n")"
done
grep -q 'scnet-prep ' "$T/mk.n" && die "a removed train output reruns scnet-prep"

# ---- the Snakefile: two samples, threads on the command line ----
SM=("$PY" -m snakemake -s "$EX/Snakefile" --cores 2 --config "train_opts=$TRAIN" "bin=$SCNET_BIN"
    "data=$SCNET_DATA" "samples=$S,sc_dropseq")
mkdir -p "$T/sm"
(cd "$T/sm" && "${SM[@]}" threads=1) >"$T/sm.log" 2>&1 || die "examples/Snakefile failed: $(tail -20 "$T/sm.log")"
same "$T/sm/out/$S.scnet.h5ad" "$REF" "examples/Snakefile"
"$info" -q "$T/sm/out/sc_dropseq.scnet.h5ad" >"$T/drop.txt"
expect_line "$T/drop.txt" $'shape\t225 obs x 300 var'
[ -s "$T/sm/out/sc_dropseq.scores.tsv" ] || die "Snakefile: no scores for the second sample"
(cd "$T/sm" && "${SM[@]}" threads=2 -n -p --forceall) >"$T/sm.n" 2>&1 || die "snakemake -n failed: $(tail -5 "$T/sm.n")"
[ "$(grep -Ec 'scnet-[a-z]+ .*-t 2 ' "$T/sm.n")" -eq 10 ] ||
    die "threads are not passed to -t: $(grep scnet- "$T/sm.n" | head -3)"

# ---- share/: the make include and the Snakemake rules ----
mkdir -p "$T/inc"
cat >"$T/inc/Makefile" <<EOF
SCNET_COUNTS = $SCNET_DATA/tian2019_cellbench/%.count.csv.gz
SCNET_OBS = $SCNET_DATA/tian2019_cellbench/%.metadata.csv.gz
SCNET_GENE_MAP = $SCNET_DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz
SCNET_PPI = $SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz
SCNET_GMT = $SCNET_DATA/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz
SCNET_THREADS = 1
SCNET_TRAIN_OPTS = $TRAIN
include $SCNET_ROOT/share/scnet.mk
all: \$(call scnet_files,$S)
EOF
make --no-print-directory -C "$T/inc" >"$T/inc.log" 2>&1 || die "share/scnet.mk failed: $(tail -5 "$T/inc.log")"
same "$T/inc/scnet/$S.scnet.h5ad" "$REF" "share/scnet.mk"
rm "$T/inc/scnet/$S.prune.h5ad"
make --no-print-directory -C "$T/inc" -n >"$T/inc.n" 2>&1
grep -q "scnet-prune " "$T/inc.n" && grep -q "scnet-propagate " "$T/inc.n" ||
    die "scnet.mk: a removed prune output is not made again: $(cat "$T/inc.n")"
expect_exit 2 make --no-print-directory -C "$T/inc" SCNET_PPI= -B scnet/$S.prep.h5ad
grep -q "SCNET_PPI is not set" "$T/stderr" || die "scnet.mk: no message for a missing SCNET_PPI: $(cat "$T/stderr")"

mkdir -p "$T/smk"
cat >"$T/smk/Snakefile" <<EOF
config["scnet"] = dict(
    counts="$SCNET_DATA/tian2019_cellbench/{sample}.count.csv.gz",
    obs="$SCNET_DATA/tian2019_cellbench/{sample}.metadata.csv.gz",
    gene_map="$SCNET_DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz",
    ppi="$SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz",
    gmt="$SCNET_DATA/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz",
    threads=1, train_opts="$TRAIN")
include: "$SCNET_ROOT/share/scnet.smk"
rule all:
    input: "scnet/$S.scores.tsv"
EOF
(cd "$T/smk" && "$PY" -m snakemake --cores 1) >"$T/smk.log" 2>&1 || die "share/scnet.smk failed: $(tail -20 "$T/smk.log")"
same "$T/smk/scnet/$S.scnet.h5ad" "$REF" "share/scnet.smk"
echo "examples: pipe, Makefile, Snakefile and share/ rules agree"

# ---- examples/plot.py on the pipe's output (Python only: once, not again under ASan) ----
if [ "$SANITIZE" != 1 ]; then
    "$PY" "$EX/plot.py" "$REF" --color cell_line -o "$T/plots" >"$T/plot.log" 2>&1 ||
        die "plot.py failed: $(tail -5 "$T/plot.log")"
    for png in umap training; do
        [ "$(head -c 8 "$T/plots/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
            die "plot.py: $png.png is not a PNG"
    done
    grep -Eq '^plot.py: X_pca: Leiden ARI against cell_line [01]\.[0-9]{3} ' "$T/plot.log" &&
        grep -Eq '^plot.py: X_scnet: Leiden ARI against cell_line (0|1|-0)\.[0-9]{3} ' "$T/plot.log" ||
        die "plot.py: no ARI lines: $(cat "$T/plot.log")"
    expect_exit 1 "$PY" "$EX/plot.py" "$REF" --color no_such_column -o "$T/plots"
    grep -q "no obs column no_such_column" "$TEST_TMP/stderr" || die "plot.py: unclear error: $(cat "$TEST_TMP/stderr")"
fi
echo "examples: plot.py draws both figures"
