# Shared set-up of the benchmark scripts (sourced): the repository root as
# the working directory, and the paths they read from the environment.
# BUILD [build], SHARED [../shared beside the clone].
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
SHARED=${SHARED:-$ROOT/../shared}
DATA=$SHARED/data
BIN=$BUILD/bin
PY=$BUILD/venv/bin/python
IREF=$DATA/ppi/iref13_miscore_interactome.tsv.gz
# The reference scNET's environment (made once per machine by
# tests/reference/run.sh or bench/train.sh).
REF_REQ=tests/reference/requirements.txt
REF_PY=${REF_PY:-$HOME/.cache/scnet/ref-venv-$(sha256sum <"$REF_REQ" | cut -c1-16)/bin/python}

# pbmc3k resampled to $1 cells (bench/make_data.py) and run through
# scnet-prep with the iRef PPI on $THREADS threads, made once under
# $BUILD/bench; prints the prepared file's path.
pbmc_prep() {
    local raw=$BUILD/bench/pbmc$1.h5ad prep=$BUILD/bench/pbmc$1.prep.h5ad
    [ -f "$raw" ] || SCNET_DATA=$DATA "$PY" bench/make_data.py "$raw" "$1" >&2 || return 1
    [ -f "$prep" ] || "$BIN/scnet-prep" "$raw" --ppi "$IREF" -q -t "$THREADS" -o "$prep" || return 1
    echo "$prep"
}

# The seconds of each epoch in a scnet-train -v log, one a line.
epoch_seconds() { sed -n 's/^scnet-train: epoch [0-9]*: loss .*, \([0-9.]*\) s$/\1/p' "$1"; }
