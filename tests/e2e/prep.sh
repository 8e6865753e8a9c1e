# scnet-prep end to end: a pipe into scnet-info, standard input, log-normalised
# input, byte-identical reruns (and one vs two threads), bad inputs with one
# clear error line and no output left behind, and the man page.
source "$(dirname "$0")/lib.sh"
prep=$SCNET_BIN/scnet-prep
info=$SCNET_BIN/scnet-info
T=$TEST_TMP
TAB=$'\t'
IREF=$SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz
MAP=$SCNET_DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz
CSV=$SCNET_DATA/tian2019_cellbench/sc_celseq2.count.csv.gz
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# ---- a pipe: counts in, scnet-info reads the image from stdin ----
set -o pipefail
"$prep" "$CSV" --ppi "$IREF" --gene-map "$MAP" -q | "$info" -q - >"$T/list.txt" || die "prep | info failed"
L=$T/list.txt
grep -Eq "^shape${TAB}274 obs x [0-9]{4} var$" "$L" || die "unexpected shape: $(head -1 "$L")"
expect_line "$L" "stages${TAB}scnet-prep"
expect_line "$L" "obsm/X_pca${TAB}array${TAB}float32${TAB}274 x 15"
expect_line "$L" "obsp/distances${TAB}csr_matrix${TAB}float32${TAB}274 x 274${TAB}nnz 6576 (8.76%)"
expect_line "$L" "uns/neighbors/params/n_neighbors${TAB}numeric-scalar${TAB}int64${TAB}scalar${TAB}= 25"
for f in layers/counts layers/scaled varp/scnet_ppi obsp/connectivities var/highly_variable var/gene_ids; do
    grep -q "^$f$TAB" "$L" || die "no $f in the output"
done

# ---- a Krylov basis spanning all 16 genes of the PCA holds the exact
# solution: it converged, no warning ----
expect_exit 0 "$prep" "$CSV" --ppi "$IREF" --gene-map "$MAP" -v --pca-genes hvg --n-top-genes 16 \
    --pca-solver randomized -o /dev/null
grep -q 'PCA: 15 components on the highly variable genes (randomized solver, converged in 2 blocks' "$T/stderr" ||
    die "a Krylov basis over every gene: $(grep PCA "$T/stderr")"
grep -q 'warning' "$T/stderr" && die "a warning: $(grep warning "$T/stderr")"

# ---- obs columns keep their types through the cells' subset: anndata's
# nullable columns with their missing values, small and unsigned integers,
# categories that are numbers or booleans ----
"$PY" - "$CSV" "$T/nullable.h5ad" <<'EOF' || die "nullable.h5ad"
import sys, anndata as ad, numpy as np, pandas as pd
a = ad.io.read_csv(sys.argv[1]).T
n = a.n_obs
a.obs["nint"] = pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64")
ad.settings.allow_write_nullable_strings = True
a.obs["donor"] = pd.array([None if i % 5 == 0 else f"d{i % 3}" for i in range(n)], dtype="string")
a.obs["nbool"] = pd.array([i % 2 == 0 for i in range(n)], dtype="boolean")  # without a missing value
a.obs["nint32"] = pd.array([None if i % 3 == 0 else i for i in range(n)], dtype="Int32")
a.obs["i8"] = (np.arange(n) % 100).astype(np.int8)
a.obs["u16"] = np.arange(n).astype(np.uint16)
a.obs["u32"] = np.arange(n).astype(np.uint32)
a.obs["plate"] = pd.Categorical(np.arange(n) % 4 + 10)
a.obs["flag"] = pd.Categorical(np.arange(n) % 2 == 0)
a.obs["dose"] = pd.Categorical((np.arange(n) % 3) / 4)
a.write_h5ad(sys.argv[2])
EOF
expect_exit 0 "$prep" "$T/nullable.h5ad" --ppi "$IREF" --gene-map "$MAP" --min-genes 5000 -q -o "$T/nullable.out.h5ad"
"$PY" - "$T/nullable.h5ad" "$T/nullable.out.h5ad" <<'EOF' || die "nullable columns changed"
import sys, anndata as ad
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert b.n_obs < a.n_obs, "no cell was filtered"
for c in ("nint", "donor", "nbool", "nint32", "i8", "u16", "u32", "plate", "flag", "dose"):
    assert b.obs[c].dtype == a.obs[c].dtype, (c, a.obs[c].dtype, b.obs[c].dtype)
    x = a.obs.loc[b.obs_names, c]
    assert (x.isna().to_numpy() == b.obs[c].isna().to_numpy()).all(), c
    assert (x.dropna().to_numpy() == b.obs[c].dropna().to_numpy()).all(), c
EOF

# ---- determinism: reruns byte-identical; one and two threads give the same data ----
run_small() { "$prep" "$CSV" --ppi "$IREF" --gene-map "$MAP" -q "$@"; }
run_small >"$T/a.h5ad"
run_small >"$T/b.h5ad"
cmp -s "$T/a.h5ad" "$T/b.h5ad" || die "two identical runs gave different files"
run_small -t 1 >"$T/t1.h5ad"
run_small -t 2 >"$T/t2.h5ad"
h5diff --exclude-path /uns/scnet/history "$T/t1.h5ad" "$T/t2.h5ad" >/dev/null ||
    die "-t 1 and -t 2 differ: $(h5diff --exclude-path /uns/scnet/history "$T/t1.h5ad" "$T/t2.h5ad" | head -5)"
h5diff "$T/t1.h5ad" "$T/t2.h5ad" >/dev/null && die "the history should record the different command lines"

# ---- a MatrixMarket file alone: genes x cells as 10x writes it, or cells x
# genes (scanpy's layout) with --orient cells; --orient elsewhere is an error ----
PB=$SCNET_DATA/pbmc3k_10x
"$PY" - "$PB/matrix.mtx.gz" "$T/cells_rows.mtx" <<'PY' || die "cannot write a transposed .mtx"
import sys, scipy.io as sio
sio.mmwrite(sys.argv[2], sio.mmread(sys.argv[1]).T.tocoo(), field="integer")
PY
expect_exit 0 "$prep" "$PB/matrix.mtx.gz" --no-ppi -o "$T/mtx_genes.h5ad"
grep -q "read alone, its genes and cells numbered; give the folder" "$T/stderr" ||
    die "no hint to read the 10x folder: $(cat "$T/stderr")"
expect_exit 0 "$prep" "$T/cells_rows.mtx" --orient cells --no-ppi -q -o "$T/mtx_cells.h5ad"
for f in X obs/_index var/_index; do
    cmp -s <("$info" -q --field "$f" "$T/mtx_genes.h5ad") <("$info" -q --field "$f" "$T/mtx_cells.h5ad") ||
        die ".mtx with cells as rows (--orient cells): $f differs from the 10x layout"
done
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" --orient cells --no-ppi -o "$T/never.h5ad"
grep -q "orient applies to text tables and .mtx files only" "$T/stderr" || die "--orient on .h5ad: $(cat "$T/stderr")"
[ ! -e "$T/never.h5ad" ] || die "--orient on .h5ad left an output"

# ---- ids that map to one symbol: the first is aligned, and a note says so ----
expect_exit 0 "$prep" "$CSV" --ppi "$IREF" --gene-map "$MAP" -o "$T/rep.h5ad"
grep -q "sc_celseq2.count.csv.gz: 4 genes repeat the symbol of an earlier gene (first: 'NPIPA9'); only the first gene of a name is aligned to the PPI" \
    "$T/stderr" || die "no note of the repeated symbols: $(cat "$T/stderr")"
"$PY" - "$T/rep.h5ad" <<'PY' || die "repeated symbols in the output's genes"
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
assert a.var_names.is_unique and not any(n.startswith("NPIPA9-") for n in a.var_names)
PY

# ---- an .h5ad input: its embeddings, graphs, layers and uns travel, cut to
# the kept cells and genes; what a later stage made from the old data, what
# cannot be cut and raw are left behind, and said ----
"$PY" - "$T/mtx_genes.h5ad" "$T/extra.h5ad" <<'PY' || die "cannot write an .h5ad with extra elements"
import sys, anndata as ad, h5py, numpy as np, scipy.sparse as sp
a = ad.read_h5ad(sys.argv[1])
a = ad.AnnData(X=a.layers["counts"], obs=a.obs[[]], var=a.var[[]])
n, g = a.shape
a.obsm["X_umap"] = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
a.obsm["X_scnet"] = np.zeros((n, 3), np.float32)
a.obsp["knn"] = sp.random(n, n, density=0.01, format="csr", random_state=0)
a.layers["spliced"] = a.X.copy()
a.layers["dense16"] = a.X.toarray().astype(np.int16)
a.varm["loadings"] = np.arange(3 * g, dtype=np.float64).reshape(g, 3)
a.varp["corr"] = sp.random(g, g, density=0.001, format="csc", random_state=1)
a.uns["umap"] = {"params": {"a": 1.5}}
a.uns["scnet_neighbors"] = {"connectivities_key": "scnet_connectivities"}
a.raw = a
a.write_h5ad(sys.argv[2] + ".ref")  # what anndata reads: odd below is not
a.write_h5ad(sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    ad.io.write_elem(f, "layers/odd", {"x": np.zeros(3)})
PY
expect_exit 0 "$prep" "$T/extra.h5ad" --no-ppi --min-genes 300 --min-cells 5 -o "$T/extra_out.h5ad"
grep -q "extra.h5ad: not carried over (a later stage's output, stale after this run, or not cut to the kept cells and genes): obsm/X_scnet, layers/odd, uns/scnet_neighbors, raw$" "$T/stderr" ||
    die "no note of the elements left behind: $(cat "$T/stderr")"
"$PY" - "$T/extra.h5ad.ref" "$T/extra_out.h5ad" <<'PY' || die "the carried elements are not the input's, cut"
import sys, anndata as ad, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
c, g = a.obs_names.get_indexer(b.obs_names), a.var_names.get_indexer(b.var_names)
assert (c >= 0).all() and (g >= 0).all() and len(c) < a.n_obs and len(g) < a.n_vars, (len(c), len(g))
assert np.array_equal(a.obsm["X_umap"][c], b.obsm["X_umap"]) and "X_scnet" not in b.obsm
assert (a.obsp["knn"][c][:, c] != b.obsp["knn"]).nnz == 0
assert (a.layers["spliced"][c][:, g] != b.layers["spliced"]).nnz == 0
assert b.layers["dense16"].dtype == np.int16 and np.array_equal(a.layers["dense16"][np.ix_(c, g)], b.layers["dense16"])
assert np.array_equal(a.varm["loadings"][g], b.varm["loadings"])
assert b.varp["corr"].format == "csc" and (a.varp["corr"][g][:, g] != b.varp["corr"]).nnz == 0
assert b.uns["umap"]["params"]["a"] == 1.5 and "scnet_neighbors" not in b.uns and b.raw is None
assert "odd" not in b.layers
PY

# ---- --obs: whole numbers become int64 as in pandas; a column named like
# scnet-prep's own gives way, and says so ----
"$info" -q --field obs/_index "$T/mtx_genes.h5ad" | awk 'BEGIN { print ",n_genes,plate" } { print $1 "," NR "," NR % 3 }' \
    >"$T/obs.csv"
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obs.csv" --no-ppi -o "$T/obs_out.h5ad"
grep -q "obs.csv: its column 'n_genes' gives way to scnet-prep's own" "$T/stderr" || die "no n_genes note: $(cat "$T/stderr")"
"$PY" - "$T/obs_out.h5ad" "$T/mtx_genes.h5ad" <<'PY' || die "--obs columns: wrong types or values"
import sys, anndata as ad, numpy as np
a, i = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert a.obs["plate"].dtype == np.int64, a.obs["plate"].dtype
# the input is an output of scnet-prep: its n_genes (the run from the counts') stays
assert (a.obs["n_genes"].to_numpy() == i.obs["n_genes"].to_numpy()).all(), "n_genes is not the input's"
PY

# ---- --obs on an .h5ad whose cell names repeat: every copy takes its
# row's values, as pandas joins ----
"$PY" - "$T/mtx_genes.h5ad" "$T/dupobs.h5ad" "$T/dupobs.csv" <<'PY' || die "cannot write the repeated-cell input"
import sys, warnings, anndata as ad
warnings.simplefilter("ignore")
a = ad.read_h5ad(sys.argv[1])
names = list(a.obs_names)
names[1] = names[0]
a.obs_names = names
a.write_h5ad(sys.argv[2])
with open(sys.argv[3], "w") as f:
    f.write("cell,plate,batch\n")
    for i, n in enumerate(names[1:], 1):
        f.write(f"{n},{i},b{i % 2}\n")
PY
expect_exit 0 "$prep" "$T/dupobs.h5ad" --obs "$T/dupobs.csv" --no-ppi --min-genes 0 --min-cells 0 -o "$T/dupobs_out.h5ad"
"$PY" - "$T/dupobs_out.h5ad" <<'PY' || die "--obs: a repeated cell name did not take its values"
import sys, warnings, anndata as ad
warnings.simplefilter("ignore")
o = ad.read_h5ad(sys.argv[1]).obs
assert o.index[0] == o.index[1]
assert list(o["plate"][:3]) == [1, 1, 2], list(o["plate"][:3])
assert list(o["batch"][:3]) == ["b1", "b1", "b0"], list(o["batch"][:3])
PY

# ---- --obs: a quoted field may hold line breaks, as pandas reads it ----
"$info" -q --field obs/_index "$T/mtx_genes.h5ad" |
    awk 'BEGIN { print "cell,note,plate" } { q = NR % 3 ? "\"one line\"" : "\"two\nlines, \"\"quoted\"\"\""; print $1 "," q "," NR }' \
    >"$T/obsml.csv"
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsml.csv" --no-ppi -o "$T/obsml.h5ad"
"$PY" - "$T/obsml.csv" "$T/obsml.h5ad" <<'PY' || die "--obs: a multi-line field"
import sys, warnings, pandas as pd, anndata as ad
warnings.simplefilter("ignore")
t = pd.read_csv(sys.argv[1], index_col=0, dtype={"cell": str})
o = ad.read_h5ad(sys.argv[2]).obs
assert (o["note"].astype(str) == t.loc[o.index, "note"]).all(), o["note"].head()
assert (o["plate"] == t.loc[o.index, "plate"]).all()
assert 'two\nlines, "quoted"' in set(o["note"])
PY
printf 'cell,note\n%s,"never closed\nand on\n' "$("$info" -q --field obs/_index "$T/mtx_genes.h5ad" | head -1)" >"$T/obsopen.csv"
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsopen.csv" --no-ppi -o "$T/obsopen.h5ad"
grep -q "obsopen.csv:2: unterminated quote" "$T/stderr" || die "an open quote: $(cat "$T/stderr")"

# ---- --obs: missing values are those of pandas' read_csv (its na_values):
# a number column with '#N/A' or 'NULL' stays float64, and in a text column
# they are missing, not categories ----
"$info" -q --field obs/_index "$T/mtx_genes.h5ad" | awk -v OFS=, '
    BEGIN { print "cell", "score", "label"
            n = split("#N/A|#N/A N/A|#NA|-1.#IND|-1.#QNAN|-NaN|-nan|1.#IND|1.#QNAN|<NA>|N/A|NA|NULL|NaN|None|n/a|nan|null", na, "|") }
    { print $1, NR % 4 ? NR / 2 : na[int(NR / 4) % n + 1], NR % 5 ? "g" NR % 3 : na[int(NR / 5) % n + 1] }' >"$T/obsna.csv"
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsna.csv" --no-ppi -o "$T/obsna.h5ad"
"$PY" - "$T/obsna.csv" "$T/obsna.h5ad" <<'PY' || die "--obs: pandas' missing values"
import sys, warnings, numpy as np, pandas as pd, anndata as ad
warnings.simplefilter("ignore")
t = pd.read_csv(sys.argv[1], index_col=0, dtype={"cell": str})
o = ad.read_h5ad(sys.argv[2]).obs
w = t.loc[o.index]
assert t["score"].dtype == o["score"].dtype == np.float64, o["score"].dtype
assert np.array_equal(o["score"].to_numpy(), w["score"].to_numpy(), equal_nan=True)
assert o["score"].isna().sum() > 100
assert o["label"].dtype == "category" and list(o["label"].cat.categories) == ["g0", "g1", "g2"], o["label"].dtype
na = o["label"].isna().to_numpy()
assert (na == w["label"].isna().to_numpy()).all() and na.sum() > 100
assert (o["label"].astype(object)[~na] == w["label"][~na]).all()
PY

# ---- --obs: a repeated column name takes .1, .2, a column with no name
# pandas' "Unnamed: N", and a column with no value is float64 of NaN, as
# pandas reads them ----
"$info" -q --field obs/_index "$T/mtx_genes.h5ad" | awk -v OFS=, '
    BEGIN { print "cell", "x", "x", "x.1", "x", "empty", "" } { print $1, NR, "a" NR % 2, NR % 3, "b", "", NR % 5 }' >"$T/obsdup.csv"
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsdup.csv" --no-ppi -o "$T/obsdup.h5ad"
"$PY" - "$T/obsdup.csv" "$T/obsdup.h5ad" <<'PY' || die "--obs: repeated names or an empty column"
import sys, warnings, numpy as np, pandas as pd, anndata as ad
warnings.simplefilter("ignore")
t = pd.read_csv(sys.argv[1], index_col=0, dtype={"cell": str})
o = ad.read_h5ad(sys.argv[2]).obs
for c in t.columns:
    assert c in o.columns, (c, list(o.columns))
    assert np.array_equal(o[c].astype(str).to_numpy(), t.loc[o.index, c].astype(str).to_numpy()), c
assert o["empty"].dtype == t["empty"].dtype == np.float64 and o["empty"].isna().all()
assert "Unnamed: 6" in t.columns and "Unnamed: 6" in o.columns, list(o.columns)
PY

# ---- --obs: a column of true and false (any case) is boolean, as pandas
# reads it; a missing value makes it pandas' object column, categorical here ----
"$info" -q --field obs/_index "$T/mtx_genes.h5ad" | awk -v OFS=, '
    BEGIN { print "cell", "flag", "flagna"; split("True TRUE true fAlSe False FALSE false", b, " ") }
    { print $1, b[NR % 7 + 1], NR == 7 ? "NULL" : NR % 2 ? "True" : "False" }' >"$T/obsbool.csv"
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsbool.csv" --no-ppi -o "$T/obsbool.h5ad"
"$PY" - "$T/obsbool.csv" "$T/obsbool.h5ad" <<'PY' || die "--obs: a boolean column"
import sys, warnings, numpy as np, pandas as pd, anndata as ad, h5py
warnings.simplefilter("ignore")
t = pd.read_csv(sys.argv[1], index_col=0, dtype={"cell": str})
o = ad.read_h5ad(sys.argv[2]).obs
assert t["flag"].dtype == o["flag"].dtype == np.bool_, o["flag"].dtype
assert (o["flag"] == t.loc[o.index, "flag"]).all() and 0 < o["flag"].sum() < len(o)
assert t["flagna"].dtype == object and o["flagna"].dtype == "category", o["flagna"].dtype
with h5py.File(sys.argv[2], "r") as f:
    d = f["obs/flag"]  # h5py's bool enum, a plain array as anndata writes a bool column
    assert d.dtype == np.bool_ and d.attrs["encoding-type"] == "array", (d.dtype, dict(d.attrs))
PY

# ---- --obs: an id given twice is refused only where it names a cell; the
# rows of ids that name none are ignored, as pandas' join does ----
{ cat "$T/obs.csv"; printf 'ghost,1,2\nghost,3,4\nother,5,6\n'; } >"$T/obsrep.csv"
rows=$(($(wc -l <"$T/obsrep.csv") - 1))
expect_exit 0 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsrep.csv" --no-ppi -o "$T/obsrep.h5ad"
grep -q "obsrep.csv: 3 of $rows ids are not cells of the data (e.g. 'ghost'); their rows are ignored" "$T/stderr" ||
    die "repeated ids of no cell: $(cat "$T/stderr")"
{ cat "$T/obsrep.csv"; sed -n 2p "$T/obs.csv"; } >"$T/obsrep2.csv"
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsrep2.csv" --no-ppi -o "$T/obsrep2.h5ad"
grep -q "obsrep2.csv:$((rows + 2)): id '$(sed -n 2p "$T/obs.csv" | cut -d, -f1)' appears twice (first on line 2)$" \
    "$T/stderr" || die "a repeated cell id: $(cat "$T/stderr")"

# ---- --obs: a column name no .h5ad can hold is refused as the table is
# read, naming the table and its header line, and nothing is written ----
cell1=$(sed -n 2p "$T/obs.csv" | cut -d, -f1)
printf 'cell,a/b\n%s,1\n' "$cell1" >"$T/obsslash.csv"
printf '\ncell\t_index\n%s\tx\n' "$cell1" >"$T/obsindex.tsv"
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsslash.csv" --no-ppi -o "$T/obsname.h5ad"
expect_eq "$(cat "$T/stderr")" \
    "scnet-prep: $T/obsslash.csv:1: column 'a/b' cannot be an .h5ad column (names cannot contain '/'); rename it" \
    "a column name with '/'"
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" --obs "$T/obsindex.tsv" --no-ppi -o "$T/obsname.h5ad"
expect_eq "$(cat "$T/stderr")" \
    "scnet-prep: $T/obsindex.tsv:2: column '_index' cannot be an .h5ad column ('_index' is reserved); rename it" \
    "a column named _index"
[ ! -e "$T/obsname.h5ad" ] || die "a refused column name left an output"

# ---- the largest seed is recorded, and shown, exactly ----
expect_exit 0 "$prep" "$T/extra.h5ad" --no-ppi --seed 9223372036854775807 -q -o "$T/seed.h5ad"
expect_eq "$("$info" -q --field uns/scnet/prep/seed "$T/seed.h5ad")" 9223372036854775807 "the recorded seed"

# ---- the output feeds scnet-train ----
if [ -x "$SCNET_BIN/scnet-train" ]; then
    "$SCNET_BIN/scnet-train" -e 1 --max-genes 300 -q "$T/a.h5ad" | "$info" -q - >"$T/trained.txt" ||
        die "scnet-train did not accept scnet-prep's output"
    expect_line "$T/trained.txt" "stages${TAB}scnet-prep scnet-train"
fi

# ---- ERCC spike-in controls: removed by default (before the filters and the
# library sizes), kept with --keep-spike-ins ----
spikes() { "$info" -q --field var/_index "$1" | grep -c '^ERCC-[0-9]*$'; }
expect_exit 0 "$prep" "$CSV" --no-ppi -v -o "$T/nospike.h5ad"
grep -q "removed 62 ERCC spike-in controls" "$T/stderr" || die "no spike-in report: $(cat "$T/stderr")"
[ "$(spikes "$T/nospike.h5ad")" = 0 ] || die "ERCC features left in the output"
"$info" -q "$T/nospike.h5ad" >"$T/nospike.txt"
expect_line "$T/nospike.txt" \
    "uns/scnet/prep/spike_ins_removed${TAB}numeric-scalar${TAB}int64${TAB}scalar${TAB}= 62"
expect_exit 0 "$prep" "$CSV" --no-ppi --keep-spike-ins --min-cells 0 -q -o "$T/spike.h5ad"
[ "$(spikes "$T/spike.h5ad")" = 62 ] || die "--keep-spike-ins kept $(spikes "$T/spike.h5ad") of 62 ERCC features"
"$PY" - "$T/nospike.h5ad" "$T/spike.h5ad" <<'PY' || die "spike-ins counted in the library sizes"
import sys, anndata as ad, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
b = b[:, ~b.var_names.str.startswith("ERCC-")]
# each cell's normalised values sum the log of counts scaled by its library
# size: without the spike-ins the totals are the genes' alone
tot = np.asarray(np.expm1(a.X).sum(axis=1)).ravel()
assert np.allclose(tot, 1e4, rtol=1e-4), tot[:5]
assert not np.allclose(np.asarray(np.expm1(b[a.obs_names].X).sum(axis=1)).ravel(), 1e4, rtol=1e-4)
print("library sizes without the spike-ins")
# X shares layers/counts' structure (hard links), not its values
import h5py
with h5py.File(sys.argv[1]) as f:
    assert f["X/indices"] == f["layers/counts/indices"] and f["X/indptr"] == f["layers/counts/indptr"]
    assert f["X/data"] != f["layers/counts/data"]
c = a.layers["counts"]
assert (c.indptr == a.X.indptr).all() and (c.indices == a.X.indices).all()
assert (c.data == np.round(c.data)).all() and (c.data > 0).all() and not np.allclose(c.data, a.X.data)
PY

# ---- standard input, log-normalised input used as it is ----
expect_exit 0 sh -c "cat '$T/a.h5ad' | '$prep' - --no-ppi --min-genes 0 --min-cells 0 -o '$T/again.h5ad'"
grep -q "look log-normalised" "$T/stderr" || die "no note about log-normalised input: $(cat "$T/stderr")"
"$PY" - "$T/a.h5ad" "$T/again.h5ad" <<'PY' || die "log-normalised input was changed"
import sys, anndata as ad, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert a.shape == b.shape and list(a.var_names) == list(b.var_names)
assert (a.X != b.X).nnz == 0, "X differs"
assert (a.layers["counts"] != b.layers["counts"]).nnz == 0, "counts layer not carried over"
assert "scnet_ppi" not in b.varp
print("log-normalised input kept")
PY
expect_exit 0 "$prep" "$T/a.h5ad" --no-ppi --normalize --min-genes 0 --min-cells 0 -q -o "$T/twice.h5ad"

# ---- a pipe or FIFO given by name, and text through standard input: read
# as what they hold, the same as from the file ----
expect_exit 0 bash -c "'$prep' -q --no-ppi --min-genes 0 --min-cells 0 -o '$T/fifo.h5ad' <(cat '$T/a.h5ad')"
expect_exit 0 bash -c "'$prep' -q -o '$T/fifo_net.h5ad' <(cat '$T/a.h5ad')"
expect_exit 0 bash -c "gzip -dc '$CSV' | '$prep' -q --ppi '$IREF' --gene-map '$MAP' -o '$T/text_stdin.h5ad' -"
expect_exit 0 bash -c "'$prep' -q --ppi '$IREF' --gene-map '$MAP' -o '$T/text_fifo.h5ad' <(gzip -dc '$CSV')"
expect_exit 0 "$prep" -q --ppi "$IREF" --gene-map "$MAP" -o "$T/text_file.h5ad" "$CSV"
for f in fifo.h5ad:again.h5ad text_stdin.h5ad:text_file.h5ad text_fifo.h5ad:text_file.h5ad; do
    for fld in X layers/counts obsp/connectivities varp/scnet_ppi; do
        [ "$fld" = varp/scnet_ppi ] && [ "${f%%:*}" = fifo.h5ad ] && continue
        cmp -s <("$info" -q --field "$fld" "$T/${f%%:*}") <("$info" -q --field "$fld" "$T/${f##*:}") ||
            die "$fld of ${f%%:*} differs from ${f##*:}"
    done
done
"$info" -q --field varp/scnet_ppi "$T/fifo_net.h5ad" >/dev/null || die "the network of an .h5ad through a FIFO was not kept"
expect_exit 1 bash -c "gzip -dc '$CSV' | '$prep' -o '$T/never.h5ad' -"
expect_eq "$(cat "$T/stderr")" "scnet-prep: stdin: not an .h5ad with the network scnet-prep aligns: give --ppi FILE, or --no-ppi to keep every gene" "text on stdin without --ppi"

# ---- the approximate search records its method and measured recall ----
expect_exit 0 "$prep" "$T/a.h5ad" --no-ppi --knn ivf --min-genes 0 --min-cells 0 -q -o "$T/ivf.h5ad"
"$info" -q "$T/ivf.h5ad" >"$T/ivf.txt"
expect_line "$T/ivf.txt" "uns/scnet/prep/knn_method${TAB}string${TAB}str${TAB}scalar${TAB}= \"ivf\""
grep -Eq "^uns/scnet/prep/knn_recall${TAB}numeric-scalar${TAB}float64${TAB}scalar${TAB}= (1|0\.9[89][0-9]*)$" "$T/ivf.txt" ||
    die "no recall >= 0.98 recorded: $(grep recall "$T/ivf.txt")"
grep -q "knn_recall" "$L" && die "an exact search should record no recall"

# ---- an .h5ad from scnet-prep brings its aligned network: no --ppi, its
# edges kept as they are; a cut-off given again applies to their weights ----
expect_exit 0 "$prep" "$T/a.h5ad" --min-genes 0 --min-cells 0 -v -o "$T/reuse.h5ad"
grep -q "PPI $T/a.h5ad: varp/scnet_ppi: [0-9]* edges read, 0 below 0," "$T/stderr" ||
    die "the input's network not reused: $(grep PPI "$T/stderr")"
expect_exit 0 sh -c "cat '$T/a.h5ad' | '$prep' - --ppi-min-score 0.6 --min-genes 0 --min-cells 0 -q -o '$T/reuse6.h5ad'"
"$PY" - "$T/a.h5ad" "$T/reuse.h5ad" "$T/reuse6.h5ad" <<'PY' || die "the reused network is not the input's"
import sys, anndata as ad, numpy as np
a, b, c = (ad.read_h5ad(p) for p in sys.argv[1:])
assert list(a.var_names) == list(b.var_names) and (a.varp["scnet_ppi"] != b.varp["scnet_ppi"]).nnz == 0
g = a.var_names.get_indexer(c.var_names)
cut = a.varp["scnet_ppi"][g][:, g].multiply(a.varp["scnet_ppi"][g][:, g] >= 0.6)
assert c.n_vars < a.n_vars and (cut != c.varp["scnet_ppi"]).nnz == 0 and c.varp["scnet_ppi"].data.min() >= 0.6
assert c.uns["scnet"]["prep"]["ppi"] == "stdin: varp/scnet_ppi"
PY
# with its PCA too (--reuse-pca), a second run with another k is the run
# from the counts with that k
run_small -k 15 -o "$T/k15.h5ad"
expect_exit 0 "$prep" "$T/a.h5ad" --reuse-pca -k 15 -q -o "$T/rek15.h5ad"
"$PY" - "$T/k15.h5ad" "$T/rek15.h5ad" <<'PY' || die "a second run with -k 15 differs from the run from the counts"
import sys, anndata as ad, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert list(a.obs_names) == list(b.obs_names) and list(a.var_names) == list(b.var_names)
for k in ("distances", "connectivities"):
    assert (a.obsp[k] != b.obsp[k]).nnz == 0, k
assert (a.varp["scnet_ppi"] != b.varp["scnet_ppi"]).nnz == 0 and (a.layers["counts"] != b.layers["counts"]).nnz == 0
assert np.array_equal(a.obsm["X_pca"], b.obsm["X_pca"]) and np.array_equal(a.layers["scaled"], b.layers["scaled"])
assert (a.var["highly_variable"] == b.var["highly_variable"]).all()
PY
# an output of scnet-prep is filtered already: its filters are not applied
# again to its aligned genes (fewer per cell), and obs['n_genes'] and
# var['n_cells'] stay those of the run from the counts; given, they apply
expect_exit 0 "$prep" "$T/a.h5ad" --reuse-pca -v -o "$T/re.h5ad"
grep -q "a.h5ad: an output of scnet-prep, filtered already: --min-genes and --min-cells not applied again" "$T/stderr" ||
    die "re-prep: no note of the filters: $(cat "$T/stderr")"
for f in obs/n_genes var/n_cells obsp/distances; do
    cmp -s <("$info" -q --field $f "$T/a.h5ad") <("$info" -q --field $f "$T/re.h5ad") || die "re-prep changed $f"
done
expect_exit 0 "$prep" "$T/a.h5ad" --reuse-pca --min-genes 1 -o "$T/re1.h5ad"
"$PY" - "$T/re1.h5ad" <<'PY' || die "re-prep with --min-genes: n_genes not recounted"
import sys, numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
assert (a.obs["n_genes"].to_numpy() == np.asarray((a.X > 0).sum(axis=1)).ravel()).all()
PY
# -k above the cells: half the cells plus one, said, and recorded as used
n=$("$info" -q --field obs/_index "$T/a.h5ad" | wc -l)
expect_exit 0 "$prep" "$T/a.h5ad" --reuse-pca -k $((n + 1)) -o "$T/bigk.h5ad"
grep -q "warning: only $n cells: using $((n / 2 + 1)) neighbours" "$T/stderr" || die "-k above the cells: $(cat "$T/stderr")"
expect_eq "$("$info" -q --field uns/scnet/prep/n_neighbors "$T/bigk.h5ad")" $((n / 2 + 1)) "recorded n_neighbors"
expect_eq "$("$info" -q --field uns/neighbors/params/n_neighbors "$T/bigk.h5ad")" $((n / 2 + 1)) "uns/neighbors n_neighbors"
# --reuse-pca with fewer --n-pcs than the input's X_pca: the PCA stays
# whole, with its loadings and variances; the neighbours use its first 10
# columns, as scanpy's neighbors(n_pcs=10)
expect_exit 0 "$prep" "$T/a.h5ad" --reuse-pca --n-pcs 10 -q -o "$T/re10.h5ad"
"$PY" - "$T/a.h5ad" "$T/re10.h5ad" <<'PY' || die "--reuse-pca --n-pcs 10"
import sys, anndata as ad, numpy as np, scanpy as sc
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert np.array_equal(a.obsm["X_pca"], b.obsm["X_pca"]) and np.array_equal(a.varm["PCs"], b.varm["PCs"])
assert np.array_equal(a.uns["pca"]["variance"], b.uns["pca"]["variance"])
assert b.uns["neighbors"]["params"]["n_pcs"] == 10 and b.uns["scnet"]["prep"]["n_pcs"] == 10
c = ad.AnnData(obs=a.obs[[]])
c.obsm["X_pca"] = a.obsm["X_pca"][:, :10].astype(np.float64)
sc.pp.neighbors(c, n_neighbors=25, n_pcs=10, use_rep="X_pca", transformer="sklearn")
same = [set(x.indices) == set(y.indices) for x, y in zip(c.obsp["distances"], b.obsp["distances"])]
assert np.mean(same) > 0.99, np.mean(same)
PY
# --reuse-pca carries the input's PCA as stored (a float64 X_pca stays
# float64), and refuses the options of a PCA it does not make
"$PY" - "$T/a.h5ad" "$T/pca64.h5ad" <<'PY' || die "cannot write the float64 PCA input"
import sys, numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
a.obsm["X_pca"] = a.obsm["X_pca"].astype(np.float64) + 1e-9
a.write_h5ad(sys.argv[2])
PY
expect_exit 0 "$prep" "$T/pca64.h5ad" --reuse-pca -q -o "$T/re64.h5ad"
"$PY" - "$T/pca64.h5ad" "$T/re64.h5ad" <<'PY' || die "--reuse-pca changed a float64 X_pca"
import sys, numpy as np, anndata as ad
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
assert b.obsm["X_pca"].dtype == np.float64 and np.array_equal(a.obsm["X_pca"], b.obsm["X_pca"])
PY
for opt in "--pca-genes hvg" --scale-before-pca "--pca-solver exact"; do
    expect_exit 2 "$prep" "$T/a.h5ad" --reuse-pca $opt -o "$T/never.h5ad"
    grep -q "^scnet-prep: --reuse-pca takes the input's PCA as it is: ${opt%% *} does not apply$" "$T/stderr" ||
        die "--reuse-pca $opt: $(cat "$T/stderr")"
done
# a missing input is said before a missing --ppi
expect_exit 1 "$prep" "$T/nonexistent.h5ad" -o "$T/never.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-prep: $T/nonexistent.h5ad: cannot open: No such file or directory" "missing input"
# a user's own scnet_ columns and embeddings travel; a later stage's go
"$PY" - "$T/a.h5ad" "$T/own.h5ad" <<'PY' || die "cannot write the scnet_-named input"
import sys, numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
a.obs["scnet_label"] = np.arange(a.n_obs) % 3
a.obsm["scnet_umap"] = np.zeros((a.n_obs, 2), np.float32)
a.var["scnet_module"] = "m1"
a.write_h5ad(sys.argv[2])
PY
expect_exit 0 "$prep" "$T/own.h5ad" --reuse-pca -o "$T/own_out.h5ad"
grep -q "not carried over (.*): var/scnet_module$" "$T/stderr" || die "own scnet_ columns: $(cat "$T/stderr")"
"$info" -q "$T/own_out.h5ad" >"$T/own.txt"
grep -q '^obs/scnet_label'$'	' "$T/own.txt" && grep -q '^obsm/scnet_umap'$'	' "$T/own.txt" ||
    die "a user's scnet_ fields were left behind"
# a repeated gene name: made unique, the later gene keeps its own edges;
# a history stored as one string goes on; the records of other stages, an
# HDF5 reference and the network --no-ppi does not make are named
"$PY" - "$T/a.h5ad" "$T/dup.h5ad" "$T/pnan.h5ad" <<'PY' || die "cannot write the repeated-name input"
import sys, anndata as ad, h5py, numpy as np
a = ad.read_h5ad(sys.argv[1])
deg = np.diff(a.varp["scnet_ppi"].indptr)
i, j = np.flatnonzero(deg >= 3)[:2]
names = list(a.var_names)
names[j] = names[i]
a.var_names = names
a.uns["scnet"]["history"] = "one line from elsewhere"
a.uns["scnet"]["train"] = {"epochs": 3}
a.write_h5ad(sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    f["uns/ref"] = [f["obs"].ref]
a.obsm["X_pca"][5, 2] = np.nan
a.write_h5ad(sys.argv[3])
PY
expect_eq "$("$info" -q --history "$T/dup.h5ad")" "one line from elsewhere" "scnet-info --history of one string"
expect_exit 0 "$prep" "$T/dup.h5ad" --min-genes 0 --min-cells 0 -q -o "$T/dup_out.h5ad"
"$PY" - "$T/dup.h5ad" "$T/dup_out.h5ad" <<'PY' || die "a repeated name moved edges, or the history was lost"
import sys, warnings, anndata as ad, numpy as np
warnings.simplefilter("ignore")
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
a.var_names_make_unique()  # as scnet-prep names the later gene: each keeps its own edges
g = a.var_names.get_indexer(b.var_names)
assert (g >= 0).all() and any(n.endswith("-1") for n in b.var_names)
assert (a.varp["scnet_ppi"][g][:, g] != b.varp["scnet_ppi"]).nnz == 0
h = list(b.uns["scnet"]["history"])
assert h[0] == "one line from elsewhere" and h[1].startswith("scnet-prep ") and len(h) == 2, h
assert "ref" not in b.uns and "train" not in b.uns["scnet"]
PY
expect_exit 0 "$prep" "$T/dup.h5ad" --no-ppi --min-genes 0 --min-cells 0 -o "$T/dup_out.h5ad"
grep -q "dup.h5ad: not carried over (.*): varp/scnet_ppi, uns/ref, uns/scnet/train, var/scnet_ppi_degree$" "$T/stderr" ||
    die "what is left behind is not named: $(cat "$T/stderr")"
expect_exit 1 "$prep" "$T/pnan.h5ad" --reuse-pca -o "$T/never.h5ad"
expect_eq "$(tail -n 1 "$T/stderr")" \
    "scnet-prep: $T/pnan.h5ad: obsm/X_pca holds NaN in cell '$(sed -n 7p <("$info" -q --field obs "$T/a.h5ad") | cut -f1)', component 3 (--reuse-pca needs finite values)" \
    "a NaN in the reused PCA"
# categories no kept cell has go, with their colours, as anndata's subsets
# leave them
"$PY" - "$T/a.h5ad" "$T/cat.h5ad" <<'PY' || die "cannot write the categories input"
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1])
ng = np.asarray((a.X > 0).sum(1)).ravel()
g = np.array(["x", "y", "z"])[np.arange(a.n_obs) % 3].astype(object)
g[np.argsort(ng)[:5]] = "sparse"
a.obs["grp"] = g
a.obs["grp"] = a.obs["grp"].astype("category")
a.uns["grp_colors"] = np.array(["#ff0000", "#00ff00", "#0000ff", "#000000"])
a.write_h5ad(sys.argv[2])
PY
expect_exit 0 "$prep" "$T/cat.h5ad" --min-genes "$("$PY" -c "
import sys, anndata as ad, numpy as np
a = ad.read_h5ad(sys.argv[1]); print(int(np.sort(np.asarray((a.X > 0).sum(1)).ravel())[4]) + 1)" "$T/cat.h5ad")" \
    -q -o "$T/cat_out.h5ad"
"$PY" - "$T/cat.h5ad" "$T/cat_out.h5ad" <<'PY' || die "categories or colours differ from anndata's subset"
import sys, anndata as ad, numpy as np
a, b = ad.read_h5ad(sys.argv[1]), ad.read_h5ad(sys.argv[2])
c = a[b.obs_names].copy()
assert b.n_obs < a.n_obs and "sparse" not in b.obs["grp"].cat.categories
for k in b.obs:
    if b.obs[k].dtype == "category":
        assert b.obs[k].dtype == c.obs[k].dtype, k
assert list(b.uns["grp_colors"]) == list(c.uns["grp_colors"]) == ["#00ff00", "#0000ff", "#000000"]
PY
expect_exit 1 "$prep" "$T/mtx_genes.h5ad" -o "$T/never.h5ad"
expect_eq "$(cat "$T/stderr")" "scnet-prep: $T/mtx_genes.h5ad: no varp/scnet_ppi (the network scnet-prep aligns) to use: give --ppi FILE, or --no-ppi to keep every gene" \
    "an .h5ad without a network, no --ppi"
[ ! -e "$T/never.h5ad" ] || die "a refused run wrote its output"

# ---- bad inputs: exit status, one clear line, no output ----
mkdir -p "$T/out"
echo keep >"$T/out/res.h5ad"
expect_exit 1 "$prep" "$T/nope.csv" --ppi "$IREF" -o "$T/out/res.h5ad"
expect_stderr "^scnet-prep: .*nope\.csv" "$prep" "$T/nope.csv" --ppi "$IREF" -o "$T/out/res.h5ad"
[ "$(wc -l <"$T/stderr")" -eq 1 ] || die "more than one error line: $(cat "$T/stderr")"
printf 'FOO1\tBAR2\t0.9\nFOO3\tBAR4\t0.8\n' >"$T/alien.tsv"
expect_exit 1 "$prep" "$CSV" --ppi "$T/alien.tsv" --gene-map "$MAP" -o "$T/out/res.h5ad"
grep -q "only 0 genes are shared by the expression data and the PPI network (need 200, --min-ppi-genes)" "$T/stderr" ||
    die "no too-few-genes message: $(cat "$T/stderr")"
grep -q "network genes not in the data: FOO1, BAR2, FOO3" "$T/stderr" || die "no unmatched examples: $(cat "$T/stderr")"
expect_exit 1 "$prep" "$CSV" --ppi "$IREF" -o "$T/out/res.h5ad"
grep -q "Ensembl ids.*--gene-map" "$T/stderr" || die "no hint about Ensembl ids: $(cat "$T/stderr")"
expect_exit 2 "$prep" "$CSV" -o "$T/out/res.h5ad"
grep -q "ppi FILE is required" "$T/stderr" || die "no message about --ppi: $(cat "$T/stderr")"
expect_exit 2 "$prep" "$CSV" --ppi "$IREF" --n-pcs 0
expect_exit 2 "$prep" "$CSV" --ppi "$IREF" --species fish
expect_exit 1 "$prep" "$CSV" --ppi "$IREF" --gene-map "$MAP" --min-genes 100000 -o "$T/out/res.h5ad"
grep -q "no cell has 100000 detected genes" "$T/stderr" || die "no message about --min-genes: $(cat "$T/stderr")"
expect_exit 1 "$prep" "$CSV" --no-ppi --reuse-pca -o "$T/out/res.h5ad"
printf 'gene,c1,c2\nERCC-00002,5,3\nERCC-00130,1,0\n' >"$T/spikes.csv"
expect_exit 1 "$prep" "$T/spikes.csv" --no-ppi -o "$T/out/res.h5ad"
grep -q "spikes.csv: every gene is an ERCC spike-in (--keep-spike-ins keeps them)" "$T/stderr" ||
    die "no message about an input of spike-ins only: $(cat "$T/stderr")"
[ "$(cat "$T/out/res.h5ad")" = keep ] || die "a failed run changed the existing output"
[ "$(ls -A "$T/out")" = res.h5ad ] || die "a failed run left files behind: $(ls -A "$T/out")"

# ---- an .h5ad the way scanpy users write one: var indexed by gene_ids
# (var.set_index('gene_ids')) with symbols in a column, repeated var_names,
# and a category no cell has while every cell passes the filter ----
"$PY" - "$T/mtx_genes.h5ad" "$T/ids.h5ad" <<'PY' || die "cannot write ids.h5ad"
import sys, anndata as ad, pandas as pd
a = ad.read_h5ad(sys.argv[1])
a = a[:, :3000].copy()
a.var["symbol"] = a.var_names.values
names = [f"ENSG{i:011d}" for i in range(a.n_vars)]
names[7] = names[3]
a.var_names = names
a.var.index.name = "gene_ids"
a.obs["group"] = pd.Categorical(["g1"] * a.n_obs, categories=["g0", "g1", "g2"])
a.uns["group_colors"] = ["#000000", "#111111", "#222222"]
a.write_h5ad(sys.argv[2])
PY
expect_exit 0 "$prep" "$T/ids.h5ad" --no-ppi --min-genes 1 --symbol-column symbol -o "$T/ids_out.h5ad"
grep -q "ids.h5ad: 1 gene names (var_names) were not unique; made unique" "$T/stderr" ||
    die "repeated var_names not made unique: $(cat "$T/stderr")"
"$PY" - "$T/ids_out.h5ad" <<'PY' || die "an .h5ad indexed by gene_ids: wrong output"
import sys, warnings, anndata as ad
warnings.simplefilter("error")
a = ad.read_h5ad(sys.argv[1])
assert a.var_names.is_unique and "gene_ids" in a.var.columns, a.var.columns
assert a.var["gene_ids"].str.startswith("ENSG").all()
assert list(a.obs["group"].cat.categories) == ["g1"] and list(a.uns["group_colors"]) == ["#111111"]
PY
expect_exit 1 "$prep" "$T/ids.h5ad" --no-ppi --symbol-column n_cells -o "$T/out/res.h5ad"
grep -q "ids.h5ad: var column 'n_cells' holds numbers, not gene symbols (--symbol-column)" "$T/stderr" ||
    die "--symbol-column took a column of numbers: $(cat "$T/stderr")"
expect_exit 1 "$prep" "$T/ids.h5ad" --no-ppi --symbol-column highly_variable_rank -o "$T/out/res.h5ad"
grep -q "ids.h5ad: no var column 'highly_variable_rank' (--symbol-column)" "$T/stderr" ||
    die "no message for a missing --symbol-column: $(cat "$T/stderr")"
[ "$(cat "$T/out/res.h5ad")" = keep ] || die "a failed run changed the existing output"

# ---- the man page lists every option of --help and is lint-clean ----
man=$ROOT/man/man1/scnet-prep.1
"$prep" --help >"$T/help.txt"
for o in $(grep -oE -- '--[a-z][a-z-]+' "$T/help.txt" | sort -u); do
    grep -qF -- "${o//-/\\-}" "$man" || die "$o is in --help but not in scnet-prep(1)"
done
if command -v mandoc >/dev/null; then
    mandoc -Tlint -Wwarning "$man" || die "mandoc -Tlint reports problems in scnet-prep(1)"
fi
echo "prep.sh: all checks passed"
