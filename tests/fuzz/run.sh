#!/usr/bin/env bash
# Build the libFuzzer harnesses (tests/fuzz/fuzz_*.c, clang with ASan and
# UBSan, `make FUZZ=1 fuzzers`) and run each for FUZZ_SECONDS, FUZZ_JOBS at
# a time.  Then triage what they found: a crash, leak or hang in our code
# fails the run (the input is kept under build/fuzz/crashes/ to become a
# regression test in tests/fuzz/regress/); one inside libhdf5 itself is
# reported as known and kept under build/fuzz/known/ (HDF5 1.10 has faults
# on corrupt files we cannot avoid: the HDF5 harnesses run in fork mode and
# go on after them).
#
# Environment: BUILD [build], FUZZ_SECONDS per harness [300], FUZZ_BUDGET
# (wall seconds for the fuzzing of all harnesses together: shortens the
# per-harness time to fit), FUZZ_JOBS [cores], FUZZ_ONLY (substring of the
# harness names), PY (python with h5py/anndata, for the generated seeds).
# The corpus grows in build/fuzz/corpus/ from run to run.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
FZ=$BUILD/fuzz
SECONDS_EACH=${FUZZ_SECONDS:-300}
JOBS=${FUZZ_JOBS:-$(nproc)}
PY=${PY:-$BUILD/venv/bin/python}
export SCNET_DATA=${SCNET_DATA:-$ROOT/../shared/data}

if ! command -v clang >/dev/null; then
    echo "fuzz: clang is not installed: skipped (make deps installs it)"
    exit 0
fi
echo "fuzz: building the harnesses (make FUZZ=1 fuzzers)"
BUILD="$BUILD" make --no-print-directory -j"$JOBS" FUZZ=1 fuzzers >"$FZ.build.log" 2>&1 ||
    { tail -n 30 "$FZ.build.log"; echo "fuzz: build failed" >&2; exit 1; }

# Generated seeds: slices of the real data and small .h5ad/10x files.
if [ -x "$PY" ] && [ -d "$SCNET_DATA" ]; then
    bash tests/fuzz/seeds.sh "$FZ/seeds" "$PY" || echo "fuzz: seed generation failed (going on)"
fi

harnesses=()
for src in tests/fuzz/fuzz_*.c; do
    h=$(basename "$src" .c)
    [ -n "${FUZZ_ONLY:-}" ] && [[ "$h" != *"$FUZZ_ONLY"* ]] && continue
    harnesses+=("$h")
done
n=${#harnesses[@]}
per=$SECONDS_EACH
if [ -n "${FUZZ_BUDGET:-}" ] && [ "$n" -gt 0 ]; then
    fit=$(( FUZZ_BUDGET * JOBS / n ))
    [ "$fit" -lt "$per" ] && per=$fit
    [ "$per" -lt 2 ] && per=2
fi
echo "fuzz: $n harnesses, $per s each, $JOBS at a time"

# Huge allocations (a corrupt size field) fail like a machine out of
# memory instead of ending the run: the readers must then report it.
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1:detect_stack_use_after_return=0:symbolize=1
export LSAN_OPTIONS=suppressions=$ROOT/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# What the readers may plan to use (log.h): a size field that would need
# more is refused with a message, as on a smaller machine.  Kept low since
# millions of small allocations under ASan take longer than -timeout.
export SCNET_MEM_LIMIT=256M

is_h5() { [[ "$1" == fuzz_h5ad || "$1" == fuzz_10x_h5 ]]; }

# One harness for $per seconds.  A run stops at the first fault; the loop
# starts it again on the grown corpus until the time is used, keeping each
# run's log (the fault's stack trace) beside the input it wrote.
fuzz_one() { # harness
    local h=$1 corpus=$FZ/corpus/$1 art=$FZ/artifacts/$1/ log=$FZ/logs/$1
    local -a args=(-rss_limit_mb=2560 -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art")
    mkdir -p "$corpus" "$art" "$log"
    [ -f "tests/fuzz/$h.dict" ] && args+=(-dict="tests/fuzz/$h.dict")
    # libhdf5 can hang on corrupt metadata: a shorter limit per input.
    if is_h5 "$h"; then args+=(-timeout=5); else args+=(-timeout=10); fi
    local dirs=("$corpus")
    for d in tests/fuzz/seeds/$h "$FZ/seeds/$h" tests/fuzz/regress/$h; do
        [ -d "$d" ] && dirs+=("$d")
    done
    local end=$(( $(date +%s) + per )) run=0 left rc
    while left=$(( end - $(date +%s) )); [ "$left" -gt 1 ] && [ "$run" -lt 200 ]; do
        run=$((run + 1))
        "$FZ/bin/$h" "${args[@]}" -max_total_time="$left" "${dirs[@]}" >"$log/run$run.log" 2>&1
        rc=$?
        echo "$rc" >>"$log/rcs"
        grep -aq 'Test unit written to' "$log/run$run.log" || break
    done
}

rm -rf "$FZ/artifacts" "$FZ/logs"
t0=$(date +%s)
running=0
for h in "${harnesses[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    fuzz_one "$h" &
    running=$((running + 1))
done
wait

# ---- triage ----
# The frame a fault belongs to: the first one outside the sanitizer and
# fuzzer runtimes and the C library.
first_frame() {
    grep -aE '^ *#[0-9]+ 0x[0-9a-f]+ in ' "$1" |
        grep -avE 'libclang_rt|compiler-rt|/sanitizer_common/|/asan/|/ubsan/|/lsan/|/fuzzer/|libc\.so|sysdeps/|__interceptor_|__asan_|__sanitizer|__ubsan|fuzzer::|LLVMFuzzer|libstdc\+\+|_start|__libc_start' |
        grep -avE ' in (malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc|memcpy|memmove|memset|strlen|strcmp|strchr|strnlen) ' |
        head -n 1
}

fail=0
triage() { # harness artifact runlog
    local h=$1 a=$2 runlog=$3 frame kind rep
    kind=$(basename "$a" | cut -d- -f1)
    frame=$(first_frame "$runlog")
    rep=$runlog
    if [ -z "$frame" ]; then # no stack in the log (a memory limit): replay once
        rep=$runlog.replay
        timeout 60 "$FZ/bin/$h" -runs=1 -timeout=10 -rss_limit_mb=2560 "$a" >"$rep" 2>&1
        frame=$(first_frame "$rep")
    fi
    if is_h5 "$h" && [[ "$frame" == *libhdf5* || "$frame" == *" in H5"* ]]; then
        mkdir -p "$FZ/known/$h"
        cp "$a" "$FZ/known/$h/"
        known=$((known + 1))
        echo "  known: $h: $kind inside libhdf5 ($(echo "$frame" | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //; s/ \(.*//'));" \
             "input in $FZ/known/$h/"
        return
    fi
    mkdir -p "$FZ/crashes/$h"
    cp "$a" "$FZ/crashes/$h/"
    cp "$runlog" "$FZ/crashes/$h/$(basename "$a").log"
    fail=$((fail + 1))
    echo "  FOUND: $h: $kind at ${frame:-an unknown place}"
    grep -aE 'ERROR|runtime error|SUMMARY' "$rep" | head -n 3 | sed 's/^/        | /'
    echo "        input and log: $FZ/crashes/$h/$(basename "$a")[.log] (once fixed, keep the input" \
         "as tests/fuzz/regress/$h/NAME)"
}

total=0 known=0
printf 'fuzz: %-20s %10s %8s %6s %7s %5s  %s\n' harness executions exec/s cov corpus runs faults
for h in "${harnesses[@]}"; do
    log=$FZ/logs/$h
    execs=$(cat "$log"/run*.log 2>/dev/null | grep -aoE 'stat::number_of_executed_units: [0-9]+' |
            awk '{s += $2} END {print s + 0}')
    last=$(cat "$log"/run*.log 2>/dev/null | grep -aE '^#[0-9]+' | tail -n 1)
    cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
    eps=$(( execs / (per > 0 ? per : 1) ))
    ncorp=$(find "$FZ/corpus/$h" -type f | wc -l)
    runs=$(wc -l <"$log/rcs" 2>/dev/null || echo 0)
    nart=$(find "$FZ/artifacts/$h" -type f 2>/dev/null | wc -l)
    total=$((total + execs))
    printf 'fuzz: %-20s %10s %8s %6s %7s %5s  %s\n' "$h" "$execs" "$eps" "${cov:-?}" "$ncorp" "$runs" "$nart"
    for r in "$log"/run*.log; do
        [ -f "$r" ] || continue
        a=$(grep -aoE 'Test unit written to [^ ]+' "$r" | tail -n 1 | sed 's/Test unit written to //')
        if [ -n "$a" ] && [ -f "$a" ]; then
            triage "$h" "$a" "$r"
        elif ! grep -aq 'Done [0-9]* runs\|DONE' "$r"; then
            fail=$((fail + 1))
            echo "  FAILED: $h: a run ended without finishing or writing an input ($r):"
            tail -n 5 "$r" | sed 's/^/        | /'
        fi
    done
done
echo "fuzz: $total executions in $(( $(date +%s) - t0 )) s; $fail finding(s) in our code, $known known inside libhdf5"
[ "$fail" -eq 0 ]
