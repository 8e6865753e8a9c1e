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
