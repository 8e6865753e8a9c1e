# Helpers for the program tests (tests/e2e/*.sh source this file).
# Environment from tests/run.sh: SCNET_BIN, SCNET_DATA, TEST_TMP, PY.
set -euo pipefail
: "${SCNET_BIN:?SCNET_BIN is not set (run through make check)}"
: "${TEST_TMP:?TEST_TMP is not set (run through make check)}"

die() {
    echo "FAIL: $*" >&2
    exit 1
}

# Run a command, keeping its output in $TEST_TMP/stdout and stderr.
run_cmd() {
    local rc=0
    "$@" >"$TEST_TMP/stdout" 2>"$TEST_TMP/stderr" || rc=$?
    return $rc
}

# expect_exit CODE cmd...: the command exits with CODE.
expect_exit() {
    local want=$1 rc=0
    shift
    run_cmd "$@" || rc=$?
    [ "$rc" -eq "$want" ] || die "'$*' exited $rc, expected $want; stderr: $(head -c 400 "$TEST_TMP/stderr")"
}

# expect_stderr PATTERN cmd...: stderr matches the extended regex PATTERN
# (the exit code is not checked; pair with expect_exit for that).
expect_stderr() {
    local pat=$1
    shift
    run_cmd "$@" || true
    grep -Eq -- "$pat" "$TEST_TMP/stderr" || die "stderr of '$*' does not match /$pat/: $(head -c 400 "$TEST_TMP/stderr")"
}

# expect_eq GOT WANT [WHAT]
expect_eq() {
    [ "$1" = "$2" ] || die "${3:-value}: got '$1', expected '$2'"
}

# expect_line FILE LINE: FILE holds LINE exactly (tabs included).
expect_line() {
    grep -qxF -- "$2" "$1" || die "$1 has no line '$2'; it holds: $(head -c 600 "$1")"
}

# dup_var_name IN OUT: write OUT, IN with its second gene renamed as the
# first; print the repeated name.
dup_var_name() {
    "$PY" - "$1" "$2" <<'PY'
import sys, warnings, anndata as ad
a = ad.read_h5ad(sys.argv[1])
names = a.var_names.to_list(); names[1] = names[0]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")   # anndata warns about the repeat too
    a.var_names = names
    a.write_h5ad(sys.argv[2])
print(names[0])
PY
}

# Run directly (tests/run.sh runs every tests/e2e/*.sh), check the helpers.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    expect_exit 3 sh -c 'echo oops >&2; exit 3'
    expect_stderr '^oops$' sh -c 'echo oops >&2'
    (expect_exit 0 false) 2>/dev/null && die "expect_exit accepted a wrong exit status"
    (expect_stderr 'x' true) 2>/dev/null && die "expect_stderr accepted a stderr that does not match"
    (expect_eq a b) 2>/dev/null && die "expect_eq accepted different values"
    printf 'a\tb\n' >"$TEST_TMP/lines"
    expect_line "$TEST_TMP/lines" $'a\tb'
    (expect_line "$TEST_TMP/lines" a) 2>/dev/null && die "expect_line matched part of a line"
    echo "lib.sh: the helpers behave"
fi
