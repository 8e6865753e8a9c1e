#!/usr/bin/env bash
# Benchmark of scnet-propagate: 300 gene sets (MSigDB C2 canonical pathways
# with 15-500 genes in the network) evaluated on the iRefIndex PPI (15,404
# genes) and on 30 degree-preserving random networks, on 2 threads.
# Target: under a minute.
# Environment: BUILD (build dir) [build], SHARED (parent of data/) [../shared].
set -euo pipefail
source "$(dirname "$0")/lib.sh"
THREADS=${THREADS:-2}
PPI=$IREF
C2=$DATA/genesets/msigdb_c2.cp.v6.0.symbols.gmt.gz
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scnet-bench-propagate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The first 300 sets with 15..500 distinct genes in the network.
zcat "$PPI" | cut -f1,2 | tr '\t' '\n' | sort -u >"$tmp/nodes"
zcat "$C2" | awk -F'\t' 'NR == FNR { node[$1] = 1; next }
    { delete seen; k = 0
      for (i = 3; i <= NF; i++) if (($i in node) && !($i in seen)) { seen[$i] = 1; k++ }
      if (k >= 15 && k <= 500 && n < 300) { print; n++ } }' "$tmp/nodes" - >"$tmp/sets.gmt"

/usr/bin/time -f '%e %M %U' -o "$tmp/time" "$BIN/scnet-propagate" -t "$THREADS" --edges "$PPI" \
    --gmt "$tmp/sets.gmt" --min-size 15 --n-random 30 -o "$tmp/z.tsv" 2>"$tmp/log"
read -r wall rss_kb user <"$tmp/time"
grep -E 'evaluated|random networks' "$tmp/log" | sed 's/^/  /'
printf 'propagate: %d sets x (1 + 30 random networks) on 15404 genes, %s threads: %.1f s wall (%.1f s CPU), peak RSS %.0f MiB (target < 60 s)\n' \
    "$(wc -l <"$tmp/sets.gmt")" "$THREADS" "$wall" "$user" "$((rss_kb / 1024))"
