#!/usr/bin/env bash
# Benchmark of scnet-train (about 20 minutes on 2 idle cores; BENCH_QUICK=1
# about 5):
#  1. epoch time against the reference scNET (PyPI scnet 0.2.4 on PyTorch
#     and PyTorch Geometric, bench/train_ref.py) on the same data and thread
#     count: scnet-prep's output for RNAmix_celseq2 (340 cells; gene ids
#     mapped with the 10x features table, iRef PPI), with all genes and
#     with --max-genes 2000.  scnet-train's epochs are its own
#     uns['scnet']['train']['epoch_seconds'] without the first (warm-up)
#     and last (both evaluate); the reference's are whole epochs of its
#     edge-mode training loop after one warm-up epoch, without evaluation.
#  2. GFLOP/s over those epochs beside the sgemm rate at the model's
#     dominant product, (cells x genes)(genes x genes)^T, measured here.
#  3. memory: peak RSS, planned memory and the man page's formula at 1k,
#     10k and 50k cells (pbmc3k resampled, bench/make_data.py, then
#     scnet-prep; under $BUILD/bench) with --max-genes MEM_GENES, one epoch
#     each; and the planned memory for every gene at 50k cells.
# The machine may be shared: the load average is printed with every
# section and the fastest epoch counts.
# Environment: BUILD [build], SHARED [../shared], THREADS [2],
# BENCH_QUICK [0], MEM_GENES [1000], SECTIONS ["speed memory"].
set -euo pipefail
source "$(dirname "$0")/lib.sh"
THREADS=${THREADS:-2}
QUICK=${BENCH_QUICK:-0}
MEM_GENES=${MEM_GENES:-1000}
SECTIONS=${SECTIONS:-speed memory}
W=$BUILD/bench/train
PPI=$IREF
RES=$W/results.jsonl
mkdir -p "$W"
: >"$RES"
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

load() { cut -d' ' -f1-3 /proc/loadavg; }
note() { echo "  [$(date +%T)] $*; load $(load)" >&2; }

# The reference's environment, made once per machine (as make check-reference).
if [ ! -x "$REF_PY" ]; then
    sh tests/mkvenv.sh "$(dirname "$(dirname "$REF_PY")")" "$REF_REQ" >&2 || REF_PY=
fi

# --------------------------------------------------------------- data
RNAMIX=$W/rnamix.h5ad
[ -f "$RNAMIX" ] || "$BIN/scnet-prep" "$DATA/tian2019_cellbench/RNAmix_celseq2.count.csv.gz" -q -t "$THREADS" \
    --gene-map "$DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz" --ppi "$PPI" -o "$RNAMIX"

# scnet-train with peak RSS and the planned-memory line recorded: tag, then options
ours() {
    local tag=$1 out=$W/ours_$1.h5ad
    shift
    /usr/bin/time -f %M -o "$W/rss" "$BIN/scnet-train" -v "$@" -t "$THREADS" -o "$out" 2>"$W/log" ||
        { cat "$W/log" >&2; return 1; }
    # epoch times from the -v log: the file holds no timings (outputs are byte-identical run to run)
    local secs
    secs=$(epoch_seconds "$W/log" | paste -sd, -)
    printf '{"run": "ours", "tag": "%s", "file": "%s", "rss_kib": %s, "plan": "%s", "load": "%s", "epoch_seconds": [%s]}\n' \
        "$tag" "$out" "$(cat "$W/rss")" "$(grep -o 'planned memory.*' "$W/log" | head -1)" "$(load)" "$secs" >>"$RES"
}

# the reference on scnet-train's output (the same genes); tag, warm-up, timed epochs
ref() {
    [ -n "$REF_PY" ] || return 0
    local j
    j=$(PYTHONDONTWRITEBYTECODE=1 "$REF_PY" bench/train_ref.py "$W/ours_$1.h5ad" --warmup "$2" --epochs "$3" \
        --threads "$THREADS" 2>"$W/reflog") || { cat "$W/reflog" >&2; return 1; }
    echo "${j%\}}, \"run\": \"ref\", \"tag\": \"$1\"}" >>"$RES"
}

sgemm() { # tag, file whose X gives the shape
    local n g r
    read -r n g < <("$PY" -c 'import h5py,sys; print(*h5py.File(sys.argv[1])["X"].attrs["shape"])' "$2")
    for _ in 1 2; do
        read -r -a r < <("$BUILD/tests/tools/sgemm-rate" "$n" "$g" "$g" "$THREADS" 3)
        printf '{"run": "sgemm", "tag": "%s", "M": %s, "N": %s, "K": %s, "openblas": %s, "backend": %s}\n' \
            "$1" "$n" "$g" "$g" "${r[0]}" "${r[1]}" >>"$RES"
    done
}

# ------------------------------------------ 1. against the reference
if [[ " $SECTIONS " == *" speed "* ]]; then
if [ "$QUICK" = 1 ]; then
    runs=("g2000 --max-genes 2000:5:1:3")
else
    runs=("full:4:1:2" "g2000 --max-genes 2000:6:1:4")
fi
echo "train 1: epoch time, scnet-train vs the reference scNET 0.2.4, $THREADS threads; $(nproc) cores, load $(load)"
echo "  data: RNAmix_celseq2 via scnet-prep (iRef PPI); fastest epoch after warm-up"
for spec in "${runs[@]}"; do
    IFS=: read -r what e w r <<<"$spec"
    tag=${what%% *}
    opts=${what#"$tag"}
    note "scnet-train $tag: $e epochs"
    # shellcheck disable=SC2086
    ours "$tag" "$RNAMIX" $opts -e "$e" --eval-every 1000
    note "reference $tag: $w + $r epochs"
    ref "$tag" "$w" "$r"
    sgemm "$tag" "$W/ours_$tag.h5ad"
done
[ -n "$REF_PY" ] || echo "  (the reference's environment could not be made: its columns are empty)"
"$PY" bench/train_table.py "$RES" speed

echo "train 2: GFLOP/s over whole epochs against sgemm at the dominant shape (OpenBLAS, $THREADS threads)"
"$PY" bench/train_table.py "$RES" gflops
fi

# ------------------------------------------------------- 3. memory
[[ " $SECTIONS " == *" memory "* ]] || exit 0
if [ "$QUICK" = 1 ]; then sizes="1000 10000" mg=300; else sizes="1000 10000 50000" mg=$MEM_GENES; fi
echo "train 3: memory, pbmc3k resampled, --max-genes $mg, one epoch, $THREADS threads; load $(load)"
for n in $sizes; do
    prep=$(pbmc_prep "$n")
    note "scnet-train $n cells"
    ours "mem$n" "$prep" --max-genes "$mg" -e 1
done
# every gene at the largest size: the plan only (an epoch would take an
# hour), so scnet-train is interrupted once it has printed it
big=$BUILD/bench/pbmc${sizes##* }.prep.h5ad
"$BIN/scnet-train" "$big" -e 1 -t "$THREADS" -o "$W/big.h5ad" 2>"$W/log" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q 'planned memory' "$W/log"; do sleep 1; done
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || true
line=$(grep -m1 -oE 'planned memory.*|needs .* available.*' "$W/log" || echo "no plan printed")
printf '{"run": "plan", "tag": "every gene, %s cells", "text": "%s"}\n' "${sizes##* }" "$line" >>"$RES"
"$PY" bench/train_table.py "$RES" memory
echo "  man page: 12*2*L*(G^2 + n^2) + 4*(2L+5)*n*G + 12*N*G bytes, N = cells, n = N (cells per block in block mode)"
