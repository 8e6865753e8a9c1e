#!/usr/bin/env bash
# Build the CUDA backend (kernels/cuda/*.cu) as plain C++ against the CPU
# emulation of tests/cuda/emu, as a plugin at $1.  SANITIZE=1 adds
# ASan/UBSan, so the kernels' memory accesses are checked.
set -eu
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${CXX:-g++}
flags=(-std=c++17 -O1 -g -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -Wshadow)
if [ "${SANITIZE:-0}" = 1 ]; then
    flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
fi
"$cxx" "${flags[@]}" -DSN_CUDA_EMU -I"$root/tests/cuda/emu" -I"$root/libcore/include" \
    -I"$root/kernels/include" -x c++ "$root"/kernels/cuda/*.cu -x none "$root/tests/cuda/emu/emu.cc" \
    -o "$out" -lopenblas
