#!/bin/sh
# Create (once per machine) the Python test environment keyed by the hash of
# the requirements file, so clean clones reuse it.  Fails loudly: the tests
# that need it must not silently skip.
dir=$1; req=$2
[ -x "$dir/bin/python" ] && [ -f "$dir/.complete" ] && exit 0
echo "venv: creating $dir (one-time, a few minutes)" >&2
rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
python3 -m venv "$dir" || { echo "venv: python3 -m venv failed (is python3-venv installed?)" >&2; exit 1; }
"$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$req" ||
    { echo "venv: pip install -r $req failed; the conformance tests need it" >&2; exit 1; }
touch "$dir/.complete"
