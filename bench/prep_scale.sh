#!/usr/bin/env bash
# scnet-prep at scale (not run by make bench: minutes, ~7 GiB of input):
#   bash bench/prep_scale.sh
# makes a matrix of CELLS (default 1 000 000) pbmc3k cells resampled with
# binomial thinning (KEEP 0.97) over the GENES (20 000) most detected genes,
# about 830 million non-zeros, under $BUILD/bench (kept for reruns), then runs
# scnet-prep with its defaults (the PPI alignment, exact PCA solver choice,
# approximate neighbours above 30 000 cells, layers/scaled skipped above
# 2 GiB) and prints wall time, CPU time, peak RSS, the steps' times and the
# neighbour recall measured on 1000 sampled cells.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CELLS=${CELLS:-1000000}
GENES=${GENES:-20000}
KEEP=${KEEP:-0.97}
THREADS=${THREADS:-$(nproc)}
W=$BUILD/bench
IN=$W/pbmc_${CELLS}x${GENES}.h5ad
OUT=$W/scale.h5ad
mkdir -p "$W"
if [ ! -f "$IN" ]; then
    t0=$(date +%s)
    SCNET_DATA=$DATA "$BUILD/venv/bin/python" bench/make_data.py "$IN" "$CELLS" "$GENES" "$KEEP"
    echo "data: $(( $(date +%s) - t0 )) s, $(du -h "$IN" | cut -f1)"
fi
/usr/bin/time -v "$BUILD/bin/scnet-prep" "$IN" --ppi "$IREF" \
    -t "$THREADS" -v -o "$OUT" 2>"$W/scale.log"
grep -E "^scnet-prep: " "$W/scale.log" | sed 's/^scnet-prep: //'
grep -E "Elapsed|Maximum resident|User time|System time" "$W/scale.log"
echo "output: $(du -h "$OUT" | cut -f1); input: $(du -h "$IN" | cut -f1)"
