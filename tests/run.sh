#!/usr/bin/env bash
# The whole test suite: unit tests (cmocka), end-to-end program tests,
# conformance tests against anndata/scanpy, man pages, short fuzz runs.
# Environment: BUILD (build dir), SHARED (../shared/data parent), SANITIZE,
# ONLY (a substring: run only the tests whose name contains it).
set -u
BUILD=${BUILD:-build}
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
export SCNET_BIN=$(cd "$BUILD/bin" && pwd)
export SCNET_BUILD=$(cd "$BUILD" && pwd)
export SCNET_DATA="$SHARED/data"
export SCNET_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PY="$SCNET_BUILD/venv/bin/python"
export SANITIZE=${SANITIZE:-0}
export PYTHONDONTWRITEBYTECODE=1
[ "$SANITIZE" = 1 ] && export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    LSAN_OPTIONS=suppressions=$SCNET_ROOT/tests/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs="$SCNET_BUILD/test-logs"
rm -rf "$logs" && mkdir -p "$logs"
pass=0; fail=0; failed=()
t_start=$(date +%s)

if [ ! -d "$SCNET_DATA" ]; then
    echo "check: $SCNET_DATA is missing: the tests need the shared data beside the clone (../shared/data)" >&2
    exit 1
fi

run() { # name command...
    local name=$1; shift
    [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && return
    local t0=$(date +%s%N) tmp rc
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/scnet-test.XXXXXX")
    mkdir -p "$(dirname "$logs/$name.log")"
    (cd "$SCNET_ROOT" && TEST_TMP="$tmp" timeout 1200 "$@") >"$logs/$name.log" 2>&1
    rc=$?
    rm -rf "$tmp"
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    local dt="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf '  PASS  %-40s %6ss\n' "$name" "$dt"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf '  FAIL  %-40s %6ss (exit %d, log %s)\n' "$name" "$dt" "$rc" "$logs/$name.log"
        tail -n 15 "$logs/$name.log" | sed 's/^/        | /'
    fi
}

echo "unit tests"
for t in "$SCNET_BUILD"/tests/test_*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
echo "program tests"
for t in tests/e2e/*.sh; do
    [ -f "$SCNET_ROOT/$t" ] && run "e2e/$(basename "$t" .sh)" bash "$SCNET_ROOT/$t"
done
echo "conformance tests (anndata, scanpy)"
if [ ! -x "$PY" ]; then
    echo "check: the Python test environment $PY is missing (make venv failed?)" >&2
    fail=$((fail + 1)); failed+=("venv")
else
    for t in tests/py/test_*.py; do
        [ -f "$SCNET_ROOT/$t" ] && run "py/$(basename "$t" .py)" "$PY" "$SCNET_ROOT/$t"
    done
fi
if [ "$SANITIZE" != 1 ] && [ -f "$SCNET_ROOT/tests/fuzz/run.sh" ]; then
    echo "fuzz smoke runs"
    run "fuzz/smoke" env FUZZ_SECONDS=${FUZZ_SECONDS:-15} FUZZ_BUDGET=${FUZZ_BUDGET:-90} BUILD="$BUILD" \
        bash "$SCNET_ROOT/tests/fuzz/run.sh"
fi

total=$((pass + fail))
echo "check: $pass of $total passed, $fail failed ($(( $(date +%s) - t_start )) s)${failed:+; failed: ${failed[*]}}"
[ $fail -eq 0 ]
