#!/usr/bin/env bash
# make check-cuda: the CUDA backend against the CPU backend on a GPU.
#  1. op by op and through training steps on synthetic data
#     (tests/tools/test_ops_cuda, built by `make unit`): every op within
#     1e-5 relative;
#  2. scnet-train on real data (RNAmix_celseq2 from $SHARED/data,
#     --max-genes 500, the same seed) on the CPU and on the GPU: after one
#     epoch the cell and gene embeddings within 1e-3 (normwise relative);
#     over 20 epochs every epoch's loss terms within 5e-3, and the
#     embeddings within 0.1.  Adam turns rounding noise into steps of the
#     learning rate, so two backends that add in different orders part
#     slowly however exact each op is: the CPU emulation of the device
#     (tests/e2e/cuda_emu.sh), which runs these kernels in the CPU's own
#     arithmetic, parts from the CPU by 4e-4 after one epoch, 3e-3 after
#     three and 3e-2 after twenty on this input.  The same 20 epochs in
#     TF32 are compared too (loss terms within 5e-2, embeddings within
#     0.2).  The outputs stay in $BUILD/check-cuda.
# Where no GPU can be used it says why and skips (exit 0).
# Environment: BUILD, SHARED, CUDA_DEVICE (default 0), CHECK_ARGS (e.g.
# --small), THREADS (CPU threads, default all).
set -u
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
build=$(cd "$BUILD" && pwd)
plugin="$build/lib/libscnet-cuda.so"
check="$build/tests/tools/test_ops_cuda"
bin="$build/bin"
if [ ! -f "$plugin" ] && [ -z "${SCNET_CUDA_PLUGIN:-}" ]; then
    echo "check-cuda: no usable CUDA device (this build has no CUDA backend: nvcc was not found); skipped"
    exit 0
fi
export SCNET_CUDA_PLUGIN=${SCNET_CUDA_PLUGIN:-$plugin}
if ! desc=$("$check" --devices 2>&1); then
    echo "check-cuda: no usable CUDA device ($desc); skipped"
    exit 0
fi
echo "check-cuda: $desc"
gpu="cuda:${CUDA_DEVICE:-0}"
status=0
"$check" --device "$gpu" ${CHECK_ARGS:-} || status=1

# ---------------------------------------------- 2. training on real data
data=$SHARED/data
counts=$data/tian2019_cellbench/RNAmix_celseq2.count.csv.gz
if [ ! -f "$counts" ]; then
    echo "check-cuda: $counts not found: the training comparison on real data is skipped"
    exit $status
fi
w=$build/check-cuda
mkdir -p "$w"
threads=${THREADS:-$(nproc)}
if [ ! -f "$w/rnamix.h5ad" ]; then
    "$bin/scnet-prep" "$counts" -q -t "$threads" -o "$w/rnamix.h5ad" \
        --gene-map "$data/annotation/human_GRCh38-2024-A_10x_features.tsv.gz" \
        --ppi "$data/ppi/iref13_miscore_interactome.tsv.gz" || exit 1
fi
train() { # tag, epochs, options
    local tag=$1 e=$2
    shift 2
    "$bin/scnet-train" "$w/rnamix.h5ad" --max-genes 500 -e "$e" --outputs last -v -t "$threads" \
        -o "$w/$tag.h5ad" "$@" 2>"$w/$tag.log" || { cat "$w/$tag.log"; return 1; }
    grep -h 'trained ' "$w/$tag.log" | sed "s/^scnet-train: /  $tag: /"
}
verdict() { # what, value, tolerance
    if awk -v r="$2" -v t="$3" 'BEGIN { exit !(r == r + 0 && r <= t) }'; then
        echo "ok   $1: rel $2 (tolerance $3)"
    else
        echo "FAIL $1: rel $2 (tolerance $3)"
        status=1
    fi
}
# ‖a − b‖ / ‖a‖ of one field of two files
relerr() {
    paste <("$bin/scnet-info" -q --field "$3" "$1") <("$bin/scnet-info" -q --field "$3" "$2") |
        awk -F'\t' '{h = NF / 2; for (i = 1; i <= h; i++) { d = $(i + h) - $i; s += d * d; n += $i * $i } }
                    END { if (n > 0) printf "%.3e\n", sqrt(s / n); else print "nan" }'
}
# the loss terms of every epoch in a -v log: total, ppi, mse, corr
losses() {
    sed -n 's/.*epoch [0-9]*: loss \([^ ]*\) (ppi \([^,]*\), mse \([^,]*\), corr \([^)]*\)).*/\1 \2 \3 \4/p' "$1"
}
# the largest relative difference of the loss terms over the epochs of two -v logs
losserr() {
    paste -d' ' <(losses "$1") <(losses "$2") |
        awk '{ for (i = 1; i <= 4; i++) { d = $(i + 4) - $i; d = d < 0 ? -d : d; a = $i < 0 ? -$i : $i;
               if (a > 0 && d / a > m) m = d / a } n++ } END { if (n) printf "%.3e\n", m; else print "nan" }'
}
echo "check-cuda: RNAmix_celseq2 (500 genes), CPU against $gpu"
train cpu1 1 --device cpu && train gpu1 1 --device "$gpu" || exit 1
for f in obsm/X_scnet varm/scnet; do
    verdict "1 epoch, $f" "$(relerr "$w/cpu1.h5ad" "$w/gpu1.h5ad" $f)" 1e-3
done
train cpu 20 --device cpu && train gpu 20 --device "$gpu" && train tf32 20 --device "$gpu" --precision tf32 || exit 1
verdict "20 epochs, loss terms of every epoch" "$(losserr "$w/cpu.log" "$w/gpu.log")" 5e-3
verdict "20 epochs in TF32, loss terms of every epoch" "$(losserr "$w/cpu.log" "$w/tf32.log")" 5e-2
for f in obsm/X_scnet varm/scnet; do
    verdict "20 epochs, $f" "$(relerr "$w/cpu.h5ad" "$w/gpu.h5ad" $f)" 0.1
    verdict "20 epochs in TF32, $f" "$(relerr "$w/cpu.h5ad" "$w/tf32.h5ad" $f)" 0.2
done
exit $status
