# The bad-input corpus (tests/bad/EXPECT.tsv): every malformed input gives
# its exit status and one error line that names the file and matches the
# expected message (or, where a user would want to go on, a warning and
# exit 0); no signal, no sanitizer report, and no output file or temporary
# left behind by a failed run.
source "$(dirname "$0")/lib.sh"
B=$SCNET_ROOT/tests/bad
D=$TEST_TMP/bad
"$PY" "$B/gen.py" "$D" >"$TEST_TMP/gen.log" 2>&1 || die "gen.py failed: $(tail -n 5 "$TEST_TMP/gen.log")"

n=0 skipped=0 missing_prog=
while IFS=$'\t' read -r file cmd code rx name; do
    [[ -z "$file" || "$file" == \#* ]] && continue
    n=$((n + 1))
    read -r prog args <<<"$cmd"
    if [ ! -x "$SCNET_BIN/$prog" ]; then
        skipped=$((skipped + 1)) missing_prog=$prog
        continue
    fi
    out=$TEST_TMP/out/$n
    mkdir -p "$out"
    input=/dev/null
    if [[ "$args" == *" < {F}" ]]; then
        input=$D/$file
        args=${args% < \{F\}}
    fi
    args=${args//\{F\}/$D/$file}
    args=${args//\{D\}/$D}
    args=${args//\{O\}/$out/out}
    quiet=()
    [ "$code" != 0 ] && quiet=(-q)
    rc=0
    # shellcheck disable=SC2086 # the arguments are words without blanks
    (cd "$out" && exec timeout 300 "$SCNET_BIN/$prog" "${quiet[@]}" $args) <"$input" >"$TEST_TMP/stdout" \
        2>"$TEST_TMP/stderr" || rc=$?
    what="row $n ($file: $prog ${quiet[*]} $args)"
    err=$(cat "$TEST_TMP/stderr")
    [ "$rc" -lt 124 ] || die "$what: killed or timed out (exit $rc): $err"
    ! grep -Eq 'Sanitizer|runtime error:|==[0-9]+==' "$TEST_TMP/stderr" || die "$what: sanitizer report: $err"
    [ "$rc" = "$code" ] || die "$what: exit $rc, expected $code; stderr: $err"
    if [ "$code" = 0 ]; then
        [ -z "$rx" ] || grep -Eq -- "$rx" "$TEST_TMP/stderr" || die "$what: no warning matching /$rx/: $err"
        [ -s "$out/out" ] || die "$what: succeeded without writing its output"
        continue
    fi
    lines=$(wc -l <"$TEST_TMP/stderr")
    [ "$code" = 2 ] && lines=$((lines - 1)) # the "Try --help" line
    [ "$lines" = 1 ] || die "$what: $lines lines on stderr, expected one error line: $err"
    line=$(head -n 1 "$TEST_TMP/stderr")
    [ -z "${BAD_VERBOSE:-}" ] || echo "$file: $line"
    [[ "$line" == "$prog: "* ]] || die "$what: the error line does not start with '$prog: ': $line"
    [[ "$line" == *"${name:-$(basename "$file")}"* ]] || die "$what: the error does not name ${name:-$file}: $line"
    grep -Eq -- "$rx" <<<"$line" || die "$what: the error does not match /$rx/: $line"
    left=$(ls -A "$out")
    [ -z "$left" ] || die "$what: a failed run left files behind: $left"
done <"$B/EXPECT.tsv"

[ "$n" -ge 50 ] || die "only $n cases in EXPECT.tsv"
echo "bad: $((n - skipped)) of $n cases pass${missing_prog:+; $skipped skipped: $missing_prog not built}"
