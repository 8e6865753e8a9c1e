#!/usr/bin/env bash
# make bench: every bench/*.sh except this one and lib.sh (which the others
# source).  Scripts named *_scale.sh are long runs (minutes, many GiB)
# started by hand; see each script.
set -u
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
    case $(basename "$b") in run.sh | lib.sh | *_scale.sh) continue ;; esac
    echo "== $b"
    bash "$b" || { echo "bench: $b failed" >&2; rc=1; }
done
exit $rc
