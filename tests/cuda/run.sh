#!/usr/bin/env bash
# make check-cuda: the CUDA backend against the CPU backend on a GPU, op by
# op and through training steps (tests/tools/test_ops_cuda, built by `make
# unit`).  Where no GPU can be used it says why and skips (exit 0).
# Environment: BUILD, CUDA_DEVICE (default 0), CHECK_ARGS (e.g. --small).
set -u
BUILD=${BUILD:-build}
build=$(cd "$BUILD" && pwd)
plugin="$build/lib/libscnet-cuda.so"
check="$build/tests/tools/test_ops_cuda"
if [ ! -f "$plugin" ]; then
    echo "check-cuda: no usable CUDA device (this build has no CUDA backend: nvcc was not found); skipped"
    exit 0
fi
export SCNET_CUDA_PLUGIN=$plugin
if ! desc=$("$check" --devices 2>&1); then
    echo "check-cuda: no usable CUDA device ($desc); skipped"
    exit 0
fi
echo "check-cuda: $desc"
"$check" --device "cuda:${CUDA_DEVICE:-0}" ${CHECK_ARGS:-}
