#!/usr/bin/env bash
# make bench-cuda: seconds per training epoch on the CPU and on the GPU,
# synthetic data of 1k and 10k cells (tests/tools/bench_train).  Skips,
# saying why, where no GPU can be used.
# Environment: BUILD, GENES (default 1000), EPOCHS (default 2), CELLS
# (default "1000 10000"), CUDA_DEVICE (default 0).
set -u
BUILD=${BUILD:-build}
build=$(cd "$BUILD" && pwd)
plugin="$build/lib/libscnet-cuda.so"
bench="$build/tests/tools/bench_train"
if [ ! -f "$plugin" ]; then
    echo "bench-cuda: no usable CUDA device (this build has no CUDA backend: nvcc was not found); skipped"
    exit 0
fi
export SCNET_CUDA_PLUGIN=$plugin
if ! desc=$("$bench" --devices 2>&1); then
    echo "bench-cuda: no usable CUDA device ($desc); skipped"
    exit 0
fi
echo "bench-cuda: $desc"
printf '%-6s %-6s %-10s %10s %10s %10s  %s\n' cells genes device s/epoch GFLOP/s MiB backend
status=0
for n in ${CELLS:-1000 10000}; do
    for dev in cpu "cuda:${CUDA_DEVICE:-0}"; do
        "$bench" --cells "$n" --genes "${GENES:-1000}" --epochs "${EPOCHS:-2}" --device "$dev" || status=1
    done
done
exit $status
