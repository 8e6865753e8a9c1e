# scnet-info on a file written by anndata: the listing, stdin input,
# --field dumps checked against the values, --history, and its errors.
source "$(dirname "$0")/lib.sh"
info=$SCNET_BIN/scnet-info
f=$TEST_TMP/small.h5ad
T=$'\t'

"$PY" - "$f" <<'PY'
import sys
import anndata as ad, numpy as np, pandas as pd, scipy.sparse as sp
X = sp.csr_matrix(np.array([[1, 0, 2.5], [0, 0, 0], [0.1, 3, 0], [0, 0, 7]], dtype=np.float32))
obs = pd.DataFrame({"cell_type": pd.Categorical(["T", "B", None, "T"]),
                    "n_counts": [10.5, 0.0, 3.0, 1.25]}, index=[f"c{i}" for i in range(4)])
var = pd.DataFrame({"means": [0.5, 0.25, 0.1]}, index=pd.Index(["A", "B", "C"], name="symbol"))
a = ad.AnnData(X=X, obs=obs, var=var)
a.obsm["X_pca"] = np.array([[1.5, -2], [0, 0.25], [1e-3, 3], [4, 5]], dtype=np.float32)
a.layers["counts"] = np.arange(12, dtype=np.int64).reshape(4, 3)
a.uns["pca"] = {"params": {"n_comps": 2, "zero_center": True}, "variance_ratio": np.array([0.75, 0.25])}
a.uns["scnet"] = {"history": ["scnet-prep 0.1.0 counts.h5 --ppi ppi.tsv", "scnet-train 0.1.0 -t 2",
                              "scnet-prep 0.1.0 again.h5"], "title": "small test", "unset": None}
a.write_h5ad(sys.argv[1])
PY

# the listing: one line per field
expect_exit 0 "$info" -q "$f"
cp "$TEST_TMP/stdout" "$TEST_TMP/list.txt"
L=$TEST_TMP/list.txt
expect_line "$L" "shape${T}4 obs x 3 var"
expect_line "$L" "X${T}csr_matrix${T}float32${T}4 x 3${T}nnz 5 (41.67%)"
expect_line "$L" "stages${T}scnet-prep" # the second scnet-prep made the file anew: no scnet-train outputs
expect_line "$L" "layers/counts${T}array${T}int64${T}4 x 3"
expect_line "$L" "obs/_index${T}string-array${T}str${T}4${T}index"
expect_line "$L" "obs/cell_type${T}categorical${T}str${T}4${T}2 categories"
expect_line "$L" "obs/n_counts${T}array${T}float64${T}4"
expect_line "$L" "var/symbol${T}string-array${T}str${T}3${T}index"
expect_line "$L" "obsm/X_pca${T}array${T}float32${T}4 x 2"
expect_line "$L" "varp${T}dict${T}-${T}-${T}0 entries"
expect_line "$L" "uns/pca/params/n_comps${T}numeric-scalar${T}int64${T}scalar${T}= 2"
expect_line "$L" "uns/pca/params/zero_center${T}numeric-scalar${T}bool${T}scalar${T}= True"
expect_line "$L" "uns/scnet/title${T}string${T}str${T}scalar${T}= \"small test\""
expect_line "$L" "uns/scnet/unset${T}null${T}-${T}-${T}= None"
expect_line "$L" "uns/scnet/history${T}string-array${T}str${T}3"
# obs columns come in column-order, X before the mappings
expect_eq "$(grep -n '^obs/' "$L" | cut -d: -f1 | tr '\n' ' ')" \
    "$(grep -n '^obs/_index\|^obs/cell_type\|^obs/n_counts' "$L" | cut -d: -f1 | tr '\n' ' ')" "obs lines"
expect_eq "$(sed -n 2p "$L" | cut -f1)" "X" "second line"

# the same from standard input
cat "$f" | "$info" -q - >"$TEST_TMP/stdin.txt" || die "scnet-info - failed"
cmp -s "$L" "$TEST_TMP/stdin.txt" || die "listing from stdin differs from the listing of the file"

# --field dumps
expect_exit 0 "$info" -q --field X "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" $'0\t0\t1\n0\t2\t2.5\n2\t0\t0.1\n2\t1\t3\n3\t2\t7' "--field X"
expect_exit 0 "$info" -q --field obsm/X_pca "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" $'1.5\t-2\n0\t0.25\n0.001\t3\n4\t5' "--field obsm/X_pca"
expect_exit 0 "$info" -q --field layers/counts "$f"
expect_eq "$(sed -n 4p "$TEST_TMP/stdout")" $'9\t10\t11' "--field layers/counts row 4"
expect_exit 0 "$info" -q --field obs "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" \
    $'_index\tcell_type\tn_counts\nc0\tT\t10.5\nc1\tB\t0\nc2\t\t3\nc3\tT\t1.25' "--field obs"
expect_exit 0 "$info" -q --field var/means "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" $'0.5\n0.25\n0.1' "--field var/means"
expect_exit 0 "$info" -q --field obs/cell_type "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" $'T\nB\n\nT' "--field obs/cell_type"
expect_exit 0 "$info" -q --field uns/pca/variance_ratio "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" $'0.75\n0.25' "--field uns/pca/variance_ratio"
expect_exit 0 "$info" -q --field uns/pca/params/n_comps "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" "2" "--field of a scalar"
expect_exit 0 "$info" -q --field uns/scnet/title "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" "small test" "--field of a string"
expect_exit 0 "$info" -q --field uns/scnet/unset "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" "None" "--field of None"
expect_exit 0 "$info" -q --history "$f"
expect_eq "$(cat "$TEST_TMP/stdout")" \
    $'scnet-prep 0.1.0 counts.h5 --ppi ppi.tsv\nscnet-train 0.1.0 -t 2\nscnet-prep 0.1.0 again.h5' "--history"
expect_exit 0 "$info" -q --field var/means -o "$TEST_TMP/means.tsv" "$f"
expect_eq "$(wc -l <"$TEST_TMP/means.tsv")" "3" "-o output lines"

# the closing line on stderr, silenced by -q
expect_stderr '^scnet-info: done; version [0-9.]+' "$info" "$f"
expect_exit 0 "$info" -q "$f"
[ -s "$TEST_TMP/stderr" ] && die "-q left output on stderr: $(cat "$TEST_TMP/stderr")"

# help, usage errors, bad input
expect_exit 0 "$info" --help
grep -q '^Usage: scnet-info \[options\] \[FILE\]' "$TEST_TMP/stdout" || die "--help does not print the usage to stdout"
grep -q -- '--field PATH' "$TEST_TMP/stdout" || die "--help does not describe --field"
expect_exit 2 "$info" --no-such-option "$f"
grep -q "unknown option" "$TEST_TMP/stderr" || die "unknown option: $(cat "$TEST_TMP/stderr")"
expect_exit 2 "$info" -q "$f" "$f"
echo "not hdf5" >"$TEST_TMP/plain.txt"
expect_exit 1 "$info" -q "$TEST_TMP/plain.txt"
expect_eq "$(cat "$TEST_TMP/stderr")" "scnet-info: $TEST_TMP/plain.txt: not an HDF5 file" "non-HDF5 message"
expect_exit 1 "$info" -q "$TEST_TMP/missing.h5ad"
grep -q "^scnet-info: $TEST_TMP/missing.h5ad: cannot open" "$TEST_TMP/stderr" || die "missing file: $(cat "$TEST_TMP/stderr")"
expect_exit 1 sh -c "'$info' -q - <'$TEST_TMP/plain.txt'"
grep -q "^scnet-info: stdin: not an HDF5 file" "$TEST_TMP/stderr" || die "stdin: $(cat "$TEST_TMP/stderr")"
"$PY" -c "import h5py, sys; h5py.File(sys.argv[1], 'w').create_dataset('matrix', data=[1, 2])" "$TEST_TMP/other.h5"
expect_exit 1 "$info" -q "$TEST_TMP/other.h5"
expect_eq "$(cat "$TEST_TMP/stderr")" \
    "scnet-info: $TEST_TMP/other.h5: not an AnnData file (no 'obs' and 'var' groups)" "non-AnnData message"
expect_exit 1 "$info" -q --field obsm/nope "$f"
expect_eq "$(cat "$TEST_TMP/stderr")" "scnet-info: $f: obsm/nope: missing" "missing field message"
echo "info.sh: all checks passed"
