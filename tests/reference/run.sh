#!/usr/bin/env bash
# make check-reference: the C model against the published scNET model (PyPI
# scnet 0.2.4 on PyTorch and PyTorch Geometric, pinned in requirements.txt),
# one training step on a small random problem (model_ref.py).  The virtual
# environment (a few GiB: PyPI's torch brings its CUDA libraries) is made
# once per machine under ~/.cache/scnet and keyed by the requirements' hash.
set -euo pipefail
BUILD=${BUILD:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
req=$root/tests/reference/requirements.txt
venv=$HOME/.cache/scnet/ref-venv-$(sha256sum < "$req" | cut -c1-16)
cd "$root"
sh tests/mkvenv.sh "$venv" "$req" || { echo "FAIL: reference environment ($venv) could not be made" >&2; exit 1; }
make --no-print-directory unit BUILD="$BUILD"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" tests/reference/model_ref.py --bin "$BUILD/tests/tools" "$@"
