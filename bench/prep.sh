#!/usr/bin/env bash
# scnet-prep against scanpy doing the same steps (bench/prep_scanpy.py) on
# the same matrix: pbmc3k cells resampled to CELLS (default 10000) with
# binomial thinning, generated once under $BUILD/bench.  Both get THREADS
# threads (default: all cores); each runs REPEAT times (default 3) and the
# fastest run counts.  Two comparisons: the full pipeline (with the dense
# layers['scaled']) and without the dense layer.  Prints wall time, CPU time
# and peak memory of each and the ratios.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CELLS=${CELLS:-10000}
THREADS=${THREADS:-$(nproc)}
REPEAT=${REPEAT:-3}
W=$BUILD/bench
PPI=$IREF
mkdir -p "$W"
IN=$W/pbmc${CELLS}.h5ad
[ -f "$IN" ] || SCNET_DATA=$DATA "$PY" bench/make_data.py "$IN" "$CELLS"
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS NUMBA_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

# best (wall, cpu, peak KiB) over REPEAT runs of a command writing OUT.
# OUT is removed before each run, for both tools alike: scnet-prep keeps an
# existing output until the new one is complete (then renames), while
# h5py truncates it first and so writes into the page cache just freed.
# Fresh page-cache pages can cost far more than the copy itself on a VM
# (here 350 MB/s against 3.8 GB/s for 512 MB), which would time the two
# tools under different conditions.
best() {
    local out=$1 bw=1e9 bc=0 bm=0 w m u s
    shift
    for _ in $(seq "$REPEAT"); do
        rm -f "$out"
        /usr/bin/time -f "%e %M %U %S" -o "$W/time.txt" "$@" >/dev/null 2>"$W/stderr.txt" ||
            { cat "$W/stderr.txt" >&2; return 1; }
        read -r w m u s <"$W/time.txt"
        if awk "BEGIN{exit !($w < $bw)}"; then bw=$w bc=$(awk "BEGIN{print $u + $s}") bm=$m; fi
    done
    echo "$bw $bc $bm"
}

compare() { # label, scnet options, scanpy environment
    local label=$1 sopt=$2 penv=$3 sw sc sm pw pc pm
    read -r sw sc sm < <(best "$W/scnet.h5ad" "$BUILD/bin/scnet-prep" "$IN" --ppi "$PPI" -t "$THREADS" -q $sopt -o "$W/scnet.h5ad")
    read -r pw pc pm < <(best "$W/scanpy.h5ad" env $penv "$PY" bench/prep_scanpy.py "$IN" "$PPI" "$W/scanpy.h5ad")
    printf '%-28s %8s %8s %10s\n' "$label" "wall s" "cpu s" "peak MiB"
    printf '  %-26s %8.2f %8.2f %10.0f\n' scnet-prep "$sw" "$sc" "$(awk "BEGIN{print $sm / 1024}")"
    printf '  %-26s %8.2f %8.2f %10.0f\n' scanpy "$pw" "$pc" "$(awk "BEGIN{print $pm / 1024}")"
    printf '  %-26s %7.1fx %7.1fx %9.2fx  (time: scanpy / scnet-prep; memory: scnet-prep / scanpy)\n' ratio \
        "$(awk "BEGIN{print $pw / $sw}")" "$(awk "BEGIN{print $pc / $sc}")" "$(awk "BEGIN{print $sm / $pm}")"
}

echo "prep: $(basename "$IN") ($CELLS cells), $THREADS threads, best of $REPEAT; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
compare "with layers['scaled']" "--scaled yes" "PREP_SCALED=1"
compare "without the dense layer" "--scaled no" "PREP_SCALED=0"
