# The small pipeline under valgrind memcheck (tests/valgrind.sh, also
# `make valgrind`): no memcheck error, no definite leak.
source "$(dirname "$0")/lib.sh"
if [ "${SANITIZE:-0}" = 1 ]; then
    # ASan's shadow memory and valgrind's instrumentation cannot share a
    # process; the plain build's `make check` runs this test.
    echo "valgrind.sh: skipped: an ASan build cannot run under valgrind"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    echo "valgrind.sh: skipped: valgrind is not installed (make deps installs it)"
    exit 0
fi
exec bash "$SCNET_ROOT/tests/valgrind.sh"
