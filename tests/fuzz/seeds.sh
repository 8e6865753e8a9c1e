#!/usr/bin/env bash
# Generated fuzz seeds (tests/fuzz/mkseeds.py: slices of the real data and
# small .h5ad/10x files, never committed) into DIR, remade only when
# mkseeds.py is newer than the last generation.  Used by tests/fuzz/run.sh
# and tests/e2e/fuzz_replay.sh.  Exit 1, with mkseeds.py's output on
# stderr, when generation fails.
# usage: seeds.sh DIR PYTHON   (SCNET_DATA: the shared data folder)
set -u
dir=$1 py=$2
mk=$(cd "$(dirname "$0")" && pwd)/mkseeds.py
[ "$dir/.ok" -nt "$mk" ] && exit 0
rm -rf "$dir" && mkdir -p "$dir"
"$py" "$mk" "$dir" || exit 1
touch "$dir/.ok"
