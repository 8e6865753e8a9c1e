#!/usr/bin/env bash
# make bench-cuda: seconds per training epoch of scnet-train on the CPU, on
# the GPU (FP32 and TF32) and of the reference scNET (bench/train_ref.py)
# on the same GPU, on pbmc3k resampled to each size in CELLS
# (bench/make_data.py, then scnet-prep, under $BUILD/bench), with
# --max-genes GENES; beside them the GPU's FP32 GEMM rate at the model's
# dominant product, so an epoch's GFLOP/s reads as a share of it.  The
# fastest epoch counts, leaving out the first (warm-up) and the last (it
# evaluates).  Skips, saying why, where no GPU can be used.
# Environment: BUILD, SHARED, GENES [1000], EPOCHS [4] (on the GPU; the CPU
# runs CPU_EPOCHS [3], the fewest that time one epoch), CELLS ["1000 10000
# 100000"], CPU_MAX_CELLS [10000] and REF_MAX_CELLS [10000] (larger sizes
# skip the CPU and the reference: above 10k cells the reference switches
# to cell batches, which bench/train_ref.py does not run), THREADS [all
# cores], CUDA_DEVICE [0], PY (python with h5py and scipy, for the data),
# REF_PY (python with torch, PyG and the reference package).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
GENES=${GENES:-1000}
EPOCHS=${EPOCHS:-4}
CPU_EPOCHS=${CPU_EPOCHS:-3}
THREADS=${THREADS:-$(nproc)}
PY=${DATA_PY:-$PY}
W=$BUILD/bench/cuda
gpu="cuda:${CUDA_DEVICE:-0}"
export SCNET_CUDA_PLUGIN=${SCNET_CUDA_PLUGIN:-$(pwd)/$BUILD/lib/libscnet-cuda.so}
if [ ! -f "$SCNET_CUDA_PLUGIN" ]; then
    echo "bench-cuda: no usable CUDA device (this build has no CUDA backend: nvcc was not found); skipped"
    exit 0
fi
if ! desc=$("$BUILD/tests/tools/bench_train" --devices 2>&1); then
    echo "bench-cuda: no usable CUDA device ($desc); skipped"
    exit 0
fi
mkdir -p "$W"
echo "bench-cuda: $desc; $(nproc) CPU cores, $THREADS threads"
rate() { "$BUILD/tests/tools/sgemm-rate" "$1" "$2" "$3" "$THREADS" 5 "$gpu"; }
read -r f32 t32 < <(rate 8192 8192 8192)
echo "  GEMM 8192^3 through the backend: FP32 $f32 GFLOP/s, TF32 $t32 GFLOP/s"

# scnet-train: tag, epochs, input, options; prints "best-epoch-seconds gflop-per-epoch"
ours() {
    local tag=$1 e=$2 in=$3 out=$W/$1.h5ad
    shift 3
    "$BIN/scnet-train" "$in" -v --max-genes "$GENES" -e "$e" --eval-every 1000 --outputs last \
        -t "$THREADS" -o "$out" "$@" 2>"$W/$tag.log" || { tail -3 "$W/$tag.log" >&2; echo "- -"; return 0; }
    local best gf
    best=$(epoch_seconds "$W/$tag.log" |
        awk '{ s[NR] = $1 } END { b = s[1]; for (i = 2; i < NR; i++) if (i == 2 || s[i] < b) b = s[i]; print b }')
    gf=$("$BIN/scnet-info" -q --field uns/scnet/train/gflop_per_epoch "$out")
    echo "$best $gf"
}
# the reference on the GPU, on scnet-train's output (the same genes and
# cells); prints its fastest epoch and, of that epoch, the seconds of its
# training steps and no-grad forwards (the rest is its per-batch
# gc.collect() and empty_cache() and its pruning candidate)
ref() {
    [ -x "$REF_PY" ] || command -v "$REF_PY" >/dev/null || { echo "- -"; return 0; }
    local j
    j=$(PYTHONDONTWRITEBYTECODE=1 "$REF_PY" bench/train_ref.py "$1" --device "$gpu" --warmup 1 \
        --epochs 2 --threads "$THREADS" 2>"$W/ref.log") || { tail -3 "$W/ref.log" >&2; echo "- -"; return 0; }
    echo "$j" >>"$W/ref.jsonl"
    "$PY" -c 'import json,sys; r = json.loads(sys.argv[1]); s = r["epoch_seconds"]; i = s.index(min(s))
print("%.3f %.3f" % (s[i], r["steps_seconds"][i] + r["forward_seconds"][i]))' "$j"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else printf "-" }'; }

printf '%7s %5s %9s %9s %9s %9s %8s %8s %9s %6s\n' cells genes "cpu s" "gpu s" "tf32 s" "ref s" "gpu/cpu" \
    "gpu/ref" "GFLOP/s" "%gemm"
: >"$W/ref.jsonl"
for n in ${CELLS:-1000 10000 100000}; do
    prep=$(pbmc_prep "$n") || exit 1
    c=(- -) r=(- -)
    # the GPU and the reference first: the CPU takes minutes at 10k cells
    read -r -a g < <(ours "gpu$n" "$EPOCHS" "$prep" --device "$gpu")
    read -r -a t < <(ours "tf32_$n" "$EPOCHS" "$prep" --device "$gpu" --precision tf32)
    [ "$n" -gt "${REF_MAX_CELLS:-10000}" ] || [ ! -f "$W/gpu$n.h5ad" ] || read -r -a r < <(ref "$W/gpu$n.h5ad")
    [ "$n" -gt "${CPU_MAX_CELLS:-10000}" ] || read -r -a c < <(ours "cpu$n" "$CPU_EPOCHS" "$prep" --device cpu)
    # the dominant product at this size: (cells per block) x genes x genes
    blk=$(sed -n 's/.*cell blocks of \([0-9]*\).*/\1/p' "$W/gpu$n.log" | head -1)
    read -r d32 _ < <(rate "${blk:-$n}" "$GENES" "$GENES")
    gfs=$(awk -v f="${g[1]}" -v s="${g[0]}" 'BEGIN { if (s + 0 > 0) printf "%.0f", f / s; else print "-" }')
    printf '%7d %5d %9s %9s %9s %9s %8s %8s %9s %6s\n' "$n" "$GENES" "${c[0]}" "${g[0]}" "${t[0]}" "${r[0]}" \
        "$(ratio "${c[0]}" "${g[0]}")" "$(ratio "${r[0]}" "${g[0]}")" "$gfs" \
        "$(awk -v a="$gfs" -v b="$d32" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.0f%%", 100 * a / b; else print "-" }')"
    echo "  ($n cells: FP32 GEMM at the dominant product ${blk:-$n}x$GENES x $GENES: $d32 GFLOP/s;" \
         "the reference's steps and forwards alone: ${r[1]} s, $(ratio "${r[1]}" "${g[0]}") scnet-train's epoch)"
    # The CPU column against this machine's own CPU sgemm: a slow CPU epoch
    # is then either a slow BLAS (its kernels are named) or scnet-train.
    if [ "${c[0]}" != - ]; then
        read -r _ cb < <("$BUILD/tests/tools/sgemm-rate" "${blk:-$n}" "$GENES" "$GENES" "$THREADS" 3)
        echo "  ($n cells on the CPU: $(awk -v f="${c[1]}" -v s="${c[0]}" 'BEGIN { printf "%.0f", f / s }') GFLOP/s" \
             "against the CPU backend's sgemm at that product, $cb GFLOP/s;" \
             "$(grep -o 'OpenBLAS [^ ]* kernels' "$W/cpu$n.log" | head -1))"
    fi
done
