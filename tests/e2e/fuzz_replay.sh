# The fuzz harnesses as plain programs (build/tests/replay/, built with the
# rest of the tests, under ASan/UBSan in SANITIZE=1 builds): every committed
# seed and every saved fault input (tests/fuzz/regress/HARNESS/) replays
# without a crash, a sanitizer report or an error lacking a message; so do
# the seeds generated from the real data when tests/fuzz/run.sh has made them.
source "$(dirname "$0")/lib.sh"
R=$SCNET_BUILD/tests/replay
# As in tests/fuzz/run.sh: size fields that would need more are refused alike on every machine.
export SCNET_MEM_LIMIT=256M
[ -d "$R" ] || die "$R is missing (make unit builds the replay programs)"
# The HDF5 harnesses' seeds are generated, never committed: make them when
# missing or stale, as tests/fuzz/run.sh does.
[ -x "$PY" ] || die "$PY is missing: the generated seeds need the test venv"
bash "$SCNET_ROOT/tests/fuzz/seeds.sh" "$SCNET_BUILD/fuzz/seeds" "$PY" >"$TEST_TMP/mkseeds.log" 2>&1 ||
    die "seed generation failed: $(tail -n 3 "$TEST_TMP/mkseeds.log")"
n=0
for src in "$SCNET_ROOT"/tests/fuzz/fuzz_*.c; do
    h=$(basename "$src" .c)
    [ -x "$R/$h" ] || die "no replay program for $h"
    dirs=()
    for d in "$SCNET_ROOT/tests/fuzz/seeds/$h" "$SCNET_ROOT/tests/fuzz/regress/$h" "$SCNET_BUILD/fuzz/seeds/$h"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ ${#dirs[@]} -gt 0 ] || die "$h has no seeds"
    rc=0
    FZ_VERBOSE=1 "$R/$h" "${dirs[@]}" >"$TEST_TMP/$h.log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || die "$h: exit $rc replaying ${dirs[*]}: $(grep -E 'ERROR|runtime error|replay:' "$TEST_TMP/$h.log" | tail -n 5)"
    grep -q 'no crash' "$TEST_TMP/$h.log" || die "$h: no summary line"
    k=$(grep -c '^replay: /' "$TEST_TMP/$h.log")
    n=$((n + k))
done
# The seeds must be ones the readers accept: a seed that fails to parse
# would start the fuzzer far from the interesting code.
for h in mtx text_matrix edges genes gmt mapping obs; do
    ! grep -B1 '^  rc -' "$TEST_TMP/fuzz_$h.log" | grep -q 'tests/fuzz/seeds/' ||
        die "fuzz_$h: a committed seed is refused: $(grep -A1 'tests/fuzz/seeds/' "$TEST_TMP/fuzz_$h.log" | grep -m1 -B1 'rc -')"
done
echo "fuzz_replay: $n inputs replayed"
