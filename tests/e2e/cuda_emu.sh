#!/usr/bin/env bash
# The CUDA backend without a GPU: its sources built against the CPU
# emulation of the CUDA runtime (tests/cuda/emu) and loaded as the plugin,
# every op compared with the CPU backend, the model trained on both; then
# the plugin's errors when there is no device or no driver.
set -eu
: "${SCNET_BUILD:?}" "${TEST_TMP:?}"
cxx=${CXX:-g++}
if ! command -v "$cxx" >/dev/null; then
    echo "cuda_emu: no C++ compiler ($cxx); skipped"
    exit 0
fi
check="$SCNET_BUILD/tests/tools/test_ops_cuda"
plugin="$TEST_TMP/libscnet-cuda.so"
SANITIZE=${SANITIZE:-0} bash tests/cuda/build-emu.sh "$plugin"
export SCNET_CUDA_PLUGIN=$plugin

"$check" --small

expect_error() { # environment setting, expected message
    local out
    if out=$(env "$1" "$check" --small 2>&1); then
        echo "cuda_emu: $1: the CUDA backend opened" >&2
        exit 1
    fi
    if ! grep -qF "$2" <<<"$out"; then
        echo "cuda_emu: $1: expected '$2', got: $out" >&2
        exit 1
    fi
    echo "ok   $1: $2"
}
expect_error SN_CUDA_EMU_DEVICES=0 "no usable CUDA device: no CUDA-capable device is detected"
expect_error SN_CUDA_EMU_DEVICES=nodriver "no usable CUDA device: no NVIDIA driver is installed"
"$check" --small --device cuda:1 >"$TEST_TMP/dev1.log" 2>&1 && exit 1
grep -qF "no usable CUDA device: there is no device cuda:1 (1 device)" "$TEST_TMP/dev1.log"
echo "ok   cuda:1 with one device: $(cat "$TEST_TMP/dev1.log")"

# A model that does not fit in the device's memory trains in cell blocks
# that do, and says so.
"$SCNET_BIN/scnet-prep" -q "$SCNET_DATA/tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz" \
    --ppi "$SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz" --min-ppi-genes 50 -o "$TEST_TMP/cepo.h5ad"
SN_CUDA_EMU_MEM=20000000 "$SCNET_BIN/scnet-train" "$TEST_TMP/cepo.h5ad" --device cuda --max-genes 60 -e 1 \
    -o "$TEST_TMP/fit.h5ad" 2>"$TEST_TMP/fit.log"
grep -q "does not fit in the 19.1 MiB free on cuda:0 .*training in cell blocks of 179" "$TEST_TMP/fit.log"
[ "$("$SCNET_BIN/scnet-info" -q --field uns/scnet/train/mode "$TEST_TMP/fit.h5ad")" = "cell blocks" ]
echo "ok   too little device memory: $(grep -o 'training in cell blocks of [0-9]*' "$TEST_TMP/fit.log")"
