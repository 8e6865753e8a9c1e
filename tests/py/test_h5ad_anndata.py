"""Conformance of the .h5ad element layer with the real anndata package.

(a) anndata writes files covering every element type scnet reads (dense,
    CSR and CSC X of several dtypes; categorical, string, bool, numeric and
    nullable columns; obsm/varm/obsp/varp/layers; nested uns), uncompressed,
    gzip and lzf.  tests/tools/h5ad-roundtrip reads each with the library's
    readers and writes it back with its writers; anndata must read the result
    with warnings turned into errors, and every value must be equal (bit for
    bit where the type is kept; converted the documented way otherwise).
(b) every dataset in $SCNET_DATA is read with pandas/scipy, written by
    anndata, round-tripped by the library, and X, obs and var compared.

Run with the test venv's python; exits non-zero on the first failure.
"""
import os
import subprocess
import sys
import tempfile
import time
import warnings

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

BUILD = os.environ.get("SCNET_BUILD", "build")
DATA = os.environ.get("SCNET_DATA", "../shared/data")
TMP = os.environ.get("TEST_TMP") or tempfile.mkdtemp()
TOOL = os.path.join(BUILD, "tests", "tools", "h5ad-roundtrip")


def roundtrip(src, comp):
    dst = src[: -len(".h5ad")] + f".c{comp}.h5ad"
    r = subprocess.run([TOOL, "-c", str(comp), src, dst], capture_output=True, text=True)
    assert r.returncode == 0, f"h5ad-roundtrip {src} failed: {r.stderr}"
    return dst, r.stderr


def read_strict(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ad.read_h5ad(path)


# ---- comparisons -----------------------------------------------------------


def same_values(name, want, got):
    """Equal shape, dtype and values; floats compared bit for bit (NaN too)."""
    want, got = np.asarray(want), np.asarray(got)
    assert want.shape == got.shape, f"{name}: shape {got.shape}, expected {want.shape}"
    assert want.dtype == got.dtype, f"{name}: dtype {got.dtype}, expected {want.dtype}"
    if want.dtype.kind == "f":
        bits = f"u{want.dtype.itemsize}"
        ok = np.array_equal(want.view(bits), got.view(bits))
    elif want.dtype.kind == "O":
        ok = list(want.ravel()) == list(got.ravel())
    else:
        ok = np.array_equal(want, got)
    assert ok, f"{name}: values differ"


def dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


def check_matrix(name, ref, out):
    """Sparse → CSR float32; dense float kept; dense integers → float64."""
    if sp.issparse(ref):
        assert sp.issparse(out) and out.format == "csr", f"{name}: expected CSR, got {type(out)}"
        assert out.has_sorted_indices, f"{name}: indices not sorted"
        want = dense(ref).astype(np.float32)
    elif np.asarray(ref).dtype.kind == "f":
        want = np.asarray(ref)
    else:
        want = np.asarray(ref).astype(np.float64)
    same_values(name, want, dense(out))


def expected_column(s):
    """What the library's frame round trip makes of a pandas column."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):  # numeric categories stay numbers
        return s.array
    if isinstance(dt, pd.BooleanDtype):  # missing values stay missing
        return s.array
    if isinstance(dt, pd.core.dtypes.dtypes.BaseMaskedDtype):  # nullable integers
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if dt.kind == "f" and dt.itemsize < 4:
        return s.to_numpy().astype(np.float32)
    return s.to_numpy()


def check_column(name, ref, out):
    want = expected_column(ref)
    if isinstance(want, pd.Categorical):
        assert isinstance(out.dtype, pd.CategoricalDtype), f"{name}: not categorical ({out.dtype})"
        assert list(out.cat.categories) == list(want.categories), f"{name}: categories differ"
        assert out.cat.categories.dtype == want.categories.dtype, f"{name}: categories' type differs"
        assert out.cat.ordered == want.ordered, f"{name}: ordered flag differs"
        same_values(name + " codes", np.asarray(want.codes, np.int64), out.cat.codes.to_numpy().astype(np.int64))
    elif isinstance(want, pd.arrays.BooleanArray):
        na = np.asarray(want.isna())
        assert isinstance(out.dtype, pd.BooleanDtype), f"{name}: dtype {out.dtype}"
        assert (np.asarray(out.isna()) == na).all(), f"{name}: missing values moved"
        same_values(name, want[~na].to_numpy(dtype=bool), out.to_numpy()[~na].astype(bool))
    elif want.dtype.kind == "O" or str(out.dtype).startswith("str"):
        assert list(map(str, want)) == list(map(str, out.to_numpy())), f"{name}: strings differ"
    else:
        same_values(name, want, out.to_numpy())


def check_frame(name, ref, out):
    assert list(ref.index) == list(out.index), f"{name}: index differs"
    assert ref.index.name == out.index.name, f"{name}: index name {out.index.name!r}, expected {ref.index.name!r}"
    assert list(ref.columns) == list(out.columns), f"{name}: columns {list(out.columns)}, expected {list(ref.columns)}"
    for c in ref.columns:
        check_column(f"{name}['{c}']", ref[c], out[c])
        same = out[c].dtype == ref[c].dtype or ref[c].dtype == np.float16  # float16 is read as float32
        assert same, f"{name}['{c}']: {out[c].dtype}, was {ref[c].dtype}"


def check_uns(name, ref, out):
    if isinstance(ref, dict):
        assert isinstance(out, dict), f"{name}: not a dict"
        assert sorted(ref) == sorted(out), f"{name}: keys {sorted(out)}, expected {sorted(ref)}"
        for k in ref:
            check_uns(f"{name}/{k}", ref[k], out[k])
    elif isinstance(ref, str):
        assert out == ref, f"{name}: {out!r} != {ref!r}"
    elif isinstance(ref, pd.DataFrame):
        check_frame(name, ref, out)
    elif sp.issparse(ref) or (isinstance(ref, np.ndarray) and ref.ndim == 2):
        check_matrix(name, ref, out)
    elif isinstance(ref, np.ndarray) and ref.dtype.kind in "OUS":
        assert list(ref) == list(out), f"{name}: strings differ"
    elif isinstance(ref, np.ndarray):
        kind = ref.dtype.kind
        want = ref if kind == "b" else ref.astype(np.int64 if kind in "iu" else np.float64)
        same_values(name, want, out)
    else:  # scalars: bools stay bools, integers int64, floats float64
        kind = np.asarray(ref).dtype.kind
        want = np.asarray(ref).astype({"b": bool, "i": np.int64, "u": np.int64}.get(kind, np.float64))
        same_values(name, want, np.asarray(out))


def check_anndata(name, ref, out):
    assert ref.shape == out.shape, f"{name}: shape {out.shape}, expected {ref.shape}"
    if ref.X is not None:
        check_matrix(f"{name}: X", ref.X, out.X)
    check_frame(f"{name}: obs", ref.obs, out.obs)
    check_frame(f"{name}: var", ref.var, out.var)
    for m in ("obsm", "varm", "obsp", "varp", "layers"):
        r, o = getattr(ref, m), getattr(out, m)
        assert sorted(r.keys()) == sorted(o.keys()), f"{name}: {m} keys {sorted(o.keys())}, expected {sorted(r.keys())}"
        for k in r.keys():
            if isinstance(r[k], pd.DataFrame):
                check_frame(f"{name}: {m}['{k}']", r[k], o[k])
            else:
                check_matrix(f"{name}: {m}['{k}']", r[k], o[k])
    check_uns(f"{name}: uns", dict(ref.uns), dict(out.uns))


# ---- (a) synthetic files covering the element types ------------------------


def synthetic(seed, xkind):
    rng = np.random.default_rng(seed)
    n_obs, n_var = 300, 200
    counts = rng.poisson(0.3, size=(n_obs, n_var))
    X = {
        "dense_f32": counts.astype(np.float32) * 0.5,
        "dense_f64": counts * np.pi,
        "dense_i64": counts.astype(np.int64),
        "csr_f32": sp.csr_matrix(counts.astype(np.float32) / 3),
        "csr_f64": sp.csr_matrix(counts / 7.0),
        "csc_f32": sp.csc_matrix(counts.astype(np.float32) * 1.5),
        "csr_i32": sp.csr_matrix(counts.astype(np.int32)),
    }[xkind]
    cells = [f"cell{i}-ü" for i in range(n_obs)]
    obs = pd.DataFrame(index=pd.Index(cells))
    obs["cell_type"] = pd.Categorical(rng.choice(["T cell", "B cell", "NK", None], n_obs))
    obs["stage"] = pd.Categorical(rng.choice(["early", "late"], n_obs), categories=["early", "late"], ordered=True)
    obs["batch"] = pd.Categorical(rng.choice([3, 1, 2], n_obs))
    obs["barcode"] = [f"AC{i:06d}" for i in range(n_obs)]
    obs["is_doublet"] = rng.random(n_obs) < 0.1
    obs["n_genes"] = rng.integers(0, 5000, n_obs)
    obs["score"] = np.where(rng.random(n_obs) < 0.1, np.nan, rng.normal(size=n_obs))
    obs["score32"] = rng.normal(size=n_obs).astype(np.float32)
    obs["small"] = rng.integers(-100, 100, n_obs).astype(np.int16)
    obs["nint"] = pd.array(np.where(rng.random(n_obs) < 0.2, None, rng.integers(0, 9, n_obs)), dtype="Int64")
    obs["nbool"] = pd.array(np.where(rng.random(n_obs) < 0.2, None, rng.random(n_obs) < 0.5), dtype="boolean")
    var = pd.DataFrame(index=pd.Index([f"GENE{j}" for j in range(n_var)], name="symbol"))
    var["gene_ids"] = [f"ENSG{j:011d}" for j in range(n_var)]
    var["feature_types"] = pd.Categorical(["Gene Expression"] * n_var)
    var["highly_variable"] = rng.random(n_var) < 0.3
    var["means"] = rng.random(n_var)
    a = ad.AnnData(X=X, obs=obs, var=var)
    a.obsm["X_pca"] = rng.normal(size=(n_obs, 10)).astype(np.float32)
    a.obsm["X_umap"] = rng.normal(size=(n_obs, 2))
    a.obsm["sparse"] = sp.random(n_obs, 6, density=0.2, format="csr", dtype=np.float32, random_state=seed)
    a.obsm["meta"] = pd.DataFrame({"x": rng.normal(size=n_obs), "tag": [f"t{i}" for i in range(n_obs)]},
                                  index=obs.index)
    a.varm["PCs"] = rng.normal(size=(n_var, 10))
    knn = sp.random(n_obs, n_obs, density=0.05, format="csr", random_state=seed + 1)
    a.obsp["distances"] = knn.astype(np.float32)
    a.obsp["connectivities"] = knn
    a.varp["corr"] = rng.normal(size=(n_var, n_var)).astype(np.float32)
    a.varp["net"] = sp.random(n_var, n_var, density=0.02, format="csc", dtype=np.float32, random_state=seed + 2)
    a.layers["counts"] = sp.csr_matrix(counts.astype(np.float32))
    a.layers["scaled"] = rng.normal(size=(n_obs, n_var)).astype(np.float32)
    a.layers["ints"] = counts.astype(np.int32)
    a.uns["n_neighbors"] = 15
    a.uns["resolution"] = 0.25
    a.uns["log1p"] = True
    a.uns["title"] = "héllo wörld"
    a.uns["labels"] = ["a", "b", "c"]
    a.uns["variance_ratio"] = rng.random(10)
    a.uns["f32s"] = rng.random(4).astype(np.float32)
    a.uns["ids"] = np.array([3, -1, 2**40])
    a.uns["mask"] = np.array([True, False, True])
    a.uns["grid"] = rng.normal(size=(3, 4))
    a.uns["pca"] = {"params": {"zero_center": True, "n_comps": 10, "name": "arpack"}, "empty": {}}
    return a


def storage_is_compressed(path, key):
    with h5py.File(path, "r") as f:
        d = f[key]
        return d.compression, d.id.get_storage_size() < d.size * d.dtype.itemsize


def check_written_layout(path):
    """The writer's conventions anndata relies on (H5AD.md §11-12)."""
    with h5py.File(path, "r") as f:
        assert f.attrs["encoding-type"] == "anndata"
        assert f["obsp/distances/indptr"].dtype == np.int32
        assert f["obsp/distances/indices"].dtype == np.int32
        assert f["obs/cell_type/codes"].dtype == np.int8
        assert f["obs/stage"].attrs["ordered"] == True  # noqa: E712 (numpy bool)
        assert h5py.check_string_dtype(f["obs/barcode"].dtype).encoding == "utf-8"
        assert f["uns/n_neighbors"].shape == () and f["uns/n_neighbors"].chunks is None
        for k in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            assert f[k].attrs["encoding-type"] == "dict", k


def part_a():
    kinds = ["dense_f32", "dense_f64", "dense_i64", "csr_f32", "csr_f64", "csc_f32", "csr_i32"]
    comps = [None, "gzip", "lzf"]
    lzf_compressed = False
    for i, kind in enumerate(kinds):
        comp = comps[i % 3]
        a = synthetic(i, kind)
        src = os.path.join(TMP, f"syn_{kind}_{comp}.h5ad")
        a.write_h5ad(src, compression=comp)
        if comp == "lzf":
            c, shrunk = storage_is_compressed(src, "layers/ints")
            assert c == "lzf"
            lzf_compressed |= shrunk
        ref = read_strict(src)
        for out_comp in (0, 4):
            dst, err = roundtrip(src, out_comp)
            assert "nbool" not in err, f"{src}: a warning about the nullable booleans: {err}"
            check_anndata(f"{kind}/{comp}/c{out_comp}", ref, read_strict(dst))
            if out_comp == 4:
                with h5py.File(dst, "r") as f:
                    assert f["obsm/X_pca"].compression == "gzip"
            check_written_layout(dst)
        print(f"  a: {kind:10s} compression={comp}: equal after the round trip")
    assert lzf_compressed, "no LZF chunk was actually compressed: the LZF path was not exercised"
    # no cells at all
    a = ad.AnnData(X=sp.csr_matrix((0, 5), dtype=np.float32),
                   var=pd.DataFrame({"means": np.arange(5.0)}, index=[f"g{j}" for j in range(5)]))
    a.obs["label"] = pd.Categorical([])
    src = os.path.join(TMP, "empty.h5ad")
    a.write_h5ad(src)
    dst, _ = roundtrip(src, 4)
    out = read_strict(dst)
    assert out.shape == (0, 5), f"empty: shape {out.shape}"
    check_anndata("empty", read_strict(src), out)
    print("  a: 0 cells: equal after the round trip")


# ---- (b) every dataset in $SCNET_DATA ---------------------------------------


def tian(name):
    base = os.path.join(DATA, "tian2019_cellbench", name)
    counts = pd.read_csv(base + ".count.csv.gz")  # header lacks the row-name field
    meta = pd.read_csv(base + ".metadata.csv.gz")
    assert list(meta.index) == list(counts.columns), f"{name}: metadata rows differ from the cells"
    X = sp.csr_matrix(counts.to_numpy().T.astype(np.float32))
    return ad.AnnData(X=X, obs=meta, var=pd.DataFrame(index=counts.index.astype(str)))


def cepo():
    base = os.path.join(DATA, "tian2019_cellbench", "sc_10x_cepo894genes")
    counts = pd.read_csv(base + ".count.csv.gz", index_col=0)
    meta = pd.read_csv(base + ".metadata.tsv.gz", sep="\t", index_col=0)
    assert list(meta.index) == list(counts.columns)
    a = ad.AnnData(X=counts.to_numpy().T.astype(np.int64), obs=meta,  # dense integers
                   var=pd.DataFrame(index=counts.index.astype(str)))
    a.var_names_make_unique()  # some symbols repeat (SNRPN, ECH1, ...)
    return a


def pbmc3k():
    base = os.path.join(DATA, "pbmc3k_10x")
    X = scipy.io.mmread(os.path.join(base, "matrix.mtx.gz")).T.tocsr().astype(np.float32)
    genes = pd.read_csv(os.path.join(base, "genes.txt.gz"), header=None)[0].astype(str)
    cells = pd.read_csv(os.path.join(base, "barcodes.tsv.gz"), header=None)[0].astype(str)
    a = ad.AnnData(X=X, obs=pd.DataFrame(index=cells.to_numpy()), var=pd.DataFrame(index=genes.to_numpy()))
    a.var_names_make_unique()  # some symbols repeat (ECH1, PRSS21, ...), as scanpy users do
    return a


def part_b():
    names = sorted(f[: -len(".count.csv.gz")] for f in os.listdir(os.path.join(DATA, "tian2019_cellbench"))
                   if f.endswith(".count.csv.gz") and not f.startswith("sc_10x_cepo"))
    loaders = [(n, lambda n=n: tian(n)) for n in names] + [("sc_10x_cepo894genes", cepo), ("pbmc3k", pbmc3k)]
    assert len(loaders) >= 9, f"expected the 9 count datasets of $SCNET_DATA, found {len(loaders)}"
    for name, load in loaders:
        t0 = time.time()
        a = load()
        src = os.path.join(TMP, f"{name}.h5ad")
        a.write_h5ad(src, compression="gzip" if name == "pbmc3k" else None)
        ref = read_strict(src)
        dst, _ = roundtrip(src, 0)
        out = read_strict(dst)
        assert ref.shape == out.shape, f"{name}: shape {out.shape}, expected {ref.shape}"
        check_matrix(f"{name}: X", ref.X, out.X)
        check_frame(f"{name}: obs", ref.obs, out.obs)
        check_frame(f"{name}: var", ref.var, out.var)
        nnz = ref.X.nnz if sp.issparse(ref.X) else int(np.count_nonzero(ref.X))
        print(f"  b: {name:24s} {ref.n_obs:5d} x {ref.n_vars:5d}, nnz {nnz:8d}, "
              f"{ref.obs.shape[1]} obs columns: equal ({time.time() - t0:.1f} s)")
        os.remove(src)
        os.remove(dst)


def main():
    assert os.access(TOOL, os.X_OK), f"{TOOL} is missing (make unit builds it)"
    t0 = time.time()
    part_a()
    part_b()
    print(f"test_h5ad_anndata: all equal ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
