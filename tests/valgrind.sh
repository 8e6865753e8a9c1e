#!/usr/bin/env bash
# The small pipeline under valgrind memcheck: prep -> train -> prune ->
# coembed -> propagate -> info on 200 cells of the 10x cell-line set, with
# the pipe (file image) paths and a few failing runs, whose error paths
# must free what they took.  Any memcheck error or definite leak fails.
# Run by `make valgrind`, and by `make check` through tests/e2e/valgrind.sh.
# Environment: SCNET_BIN, SCNET_DATA, TEST_TMP as set by tests/run.sh, or
# BUILD and SHARED as the Makefile passes them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${SCNET_BIN:=$(cd "${BUILD:-build}/bin" && pwd)}"
: "${SCNET_DATA:=${SHARED:-$ROOT/../shared}/data}"
SCNET_DATA=$(cd "$SCNET_DATA" && pwd) # the runs below cd into TEST_TMP
if [ -z "${TEST_TMP:-}" ]; then
    TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/scnet-valgrind.XXXXXX")
    trap 'rm -rf "$TEST_TMP"' EXIT
fi
export SCNET_BIN SCNET_DATA TEST_TMP
source "$ROOT/tests/e2e/lib.sh"
B=$SCNET_BIN D=$SCNET_DATA T=$TEST_TMP
command -v valgrind >/dev/null || die "valgrind is not installed (make deps installs it)"
[ "${SANITIZE:-0}" != 1 ] || die "an ASan build cannot run under valgrind; use the plain build"

# One OpenMP thread: the thread pool's stacks and a second BLAS pool are
# not ours to check, and valgrind runs threads one at a time anyway.
export OMP_NUM_THREADS=1
supp=$ROOT/tests/valgrind.supp
VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite
    --suppressions="$supp" --num-callers=30)
# vg WANT cmd...: the command under memcheck exits WANT; memcheck's own
# findings exit 99 (distinct from a program's error status 1).
vg() {
    local want=$1 rc=0
    shift
    local t0=$SECONDS
    "${VG[@]}" --error-exitcode=$([ "$want" = 1 ] && echo 99 || echo 1) "$@" \
        >"$T/vg.out" 2>"$T/vg.err" || rc=$?
    if grep -q '^==[0-9]*==' "$T/vg.err" || [ "$rc" -ne "$want" ]; then
        cat "$T/vg.err" >&2
        die "'${*##*/}' under valgrind exited $rc, expected $want"
    fi
    printf '  %-60.60s %3ds\n' "$(basename "$1") ${*:2}" $((SECONDS - t0))
}

# 200 cells of the 10x three-cell-line set, a small real input
zcat "$D/tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz" | cut -d, -f1-201 | gzip -1 >"$T/cells.csv.gz"
PPI=$D/ppi/iref13_miscore_interactome.tsv.gz

cd "$T"
vg 0 "$B/scnet-prep" -q -t 1 --pca-genes hvg cells.csv.gz --ppi "$PPI" --ppi-min-score 0 --min-genes 20 \
    --min-ppi-genes 50 -o prep.h5ad
vg 0 "$B/scnet-train" -q -t 1 --max-genes 60 -e 1 -b 2 --hidden 16 --embed 8 -o train.h5ad prep.h5ad
vg 0 "$B/scnet-prune" -q -t 1 --tsv pruned.tsv -o pruned.h5ad train.h5ad
vg 0 "$B/scnet-coembed" -q -t 1 --baseline expression,ppi --tsv net.tsv --modules modules.tsv \
    -o coembed.h5ad pruned.h5ad
# two seed sets of the modelled genes, scored and evaluated
"$B/scnet-info" -q --field var/_index coembed.h5ad >genes.txt
{ printf 'first\tna\t%s\n' "$(sed -n 1,12p genes.txt | paste -sd '\t')"
  printf 'second\tna\t%s\n' "$(sed -n 13,24p genes.txt | paste -sd '\t')"; } >sets.gmt
vg 0 "$B/scnet-propagate" -q -t 1 --gmt sets.gmt -o scores.tsv coembed.h5ad
vg 0 "$B/scnet-propagate" -q -t 1 --gmt sets.gmt --n-random 2 -o propagate.h5ad coembed.h5ad
vg 0 "$B/scnet-info" -q --history propagate.h5ad
grep -q 'scnet-propagate' "$T/vg.out" || die "history lacks scnet-propagate"
# standard input and output: HDF5 file images and the in-memory driver
vg 0 "$B/scnet-prune" -q -t 1 --pct 20 <train.h5ad
mv vg.out piped.h5ad
vg 0 "$B/scnet-info" -q - <piped.h5ad
grep -q '^obsp/scnet_knn_pruned' vg.out || die "piped output lacks the pruned graph"
[ "$(wc -l <scores.tsv)" -gt 50 ] || die "scores table too short"

# failing runs: bad inputs and an unwritable output
vg 1 "$B/scnet-train" -q -t 1 -o x.h5ad prep.h5ad.missing
vg 1 "$B/scnet-coembed" -q -t 1 -o x.h5ad prep.h5ad
vg 1 "$B/scnet-prep" -q -t 1 prep.h5ad --no-ppi --min-genes 100000 -o x.h5ad
vg 1 "$B/scnet-prune" -q -t 1 -o prep.h5ad/x.h5ad train.h5ad
vg 1 "$B/scnet-info" -q --field obsm/nothing train.h5ad
[ ! -e x.h5ad ] || die "a failed run left an output"
echo "valgrind: no memcheck errors, no definite leaks"
