"""Conformance of scnet-prep with scanpy 1.11 on every dataset in $SCNET_DATA.

For each count matrix, scnet-prep runs with its defaults (iRefIndex PPI;
PINNACLE, unweighted, for three of the sets) and scanpy runs the same steps:
the ERCC spike-in controls removed, filter_cells(min_genes=200), filter_genes(min_cells=3), normalize_total(1e4),
log1p, pca(15 components, all genes), neighbors(25, 15 PCs, exact search with
transformer='sklearn'), then highly_variable_genes(flavor='seurat', 3000) on
the genes aligned to the PPI network by an independent pandas implementation
of MODEL.md §1.3.  Checked, per data set:

  cells, genes, aligned genes, n_genes/n_cells   identical
  X (log-normalised), layers/counts              max relative error <= 1e-5
  highly variable genes                          identical set
  PCA variance ratios                            within 1e-4
  PCA subspace (principal angles of X_pca)       < 1e-3 rad
  KNN neighbour sets                             >= 99 % identical
  connectivities (rows with identical neighbours, end to end)   <= 1e-3
  pbmc3k only: PCA of the highly variable genes (--pca-genes hvg), also
  z-scored first (--scale-before-pca, scanpy's pp.scale): variance ratios
  within 1e-4, subspace angle < 1e-3 rad
  from scanpy's own X_pca (--reuse-pca), against scanpy's neighbors on
  the same coordinates in float64 (sklearn's float32 brute force rounds
  distances by a few 1e-6; printed as conn32):
    neighbour sets                               identical
    distances (dist64)                           printed
    connectivities (conn64)                      <= 1e-5, same pattern

Run with the test venv's python; prints a table and exits non-zero on the
first failure.
"""
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
import scipy.io
import scipy.linalg
import scipy.sparse as sp

BIN = os.environ.get("SCNET_BIN", "build/bin")
DATA = os.environ.get("SCNET_DATA", "../shared/data")
TMP = os.environ.get("TEST_TMP") or tempfile.mkdtemp()
IREF = os.path.join(DATA, "ppi", "iref13_miscore_interactome.tsv.gz")
PINNACLE = os.path.join(DATA, "ppi", "pinnacle_global_ppi_edgelist.txt.gz")
FEATURES = os.path.join(DATA, "annotation", "human_GRCh38-2024-A_10x_features.tsv.gz")
TIAN = os.path.join(DATA, "tian2019_cellbench")


def datasets():
    sets = [("pbmc3k", os.path.join(DATA, "pbmc3k_10x"), IREF)]
    for f in sorted(os.listdir(TIAN)):
        if f.endswith(".count.csv.gz"):
            name = f[: -len(".count.csv.gz")]
            # PINNACLE (unweighted) for a few; iRef at the 0.5 cut-off keeps too
            # few of the 894-gene set's genes
            ppi = PINNACLE if name in ("sc_dropseq", "RNAmix_sortseq", "sc_10x_cepo894genes") else IREF
            sets.append((name, os.path.join(TIAN, f), ppi))
    return sets


def read_counts(path):
    """cells x genes float32 CSR, gene names, cell names (as scanpy would read them)."""
    if os.path.isdir(path):
        m = scipy.io.mmread(os.path.join(path, "matrix.mtx.gz")).T.tocsr().astype(np.float32)
        genes = [l.strip() for l in gzip.open(os.path.join(path, "genes.txt.gz"), "rt")]
        cells = [l.strip() for l in gzip.open(os.path.join(path, "barcodes.tsv.gz"), "rt")]
        return m, genes, cells
    df = pd.read_csv(path, index_col=0)
    return sp.csr_matrix(df.values.T.astype(np.float32)), [str(g) for g in df.index], [str(c) for c in df.columns]


def symbols_for(genes):
    """Ensembl ids mapped with the 10x features table (first row of an id wins)."""
    if not genes[0].startswith("ENSG"):
        return list(genes), False
    t = pd.read_csv(FEATURES, sep="\t", header=None, dtype=str)
    m = dict(zip(t[0][::-1], t[1][::-1]))
    return [m.get(g) for g in genes], True


def align(ppi_path, names, ncells, n_cells, min_score=0.5, frac=0.0):
    """MODEL.md §1.3 with pandas: the aligned genes' columns, in data order."""
    df = pd.read_csv(ppi_path, sep=r"\s+", header=None, dtype={0: str, 1: str})
    if df.shape[1] > 2:
        df = df[df[2] >= min_score]
    df = df.drop_duplicates()
    df = df[df[0] != df[1]]
    col = {}
    for j, s in enumerate(names):
        if s is not None and s not in col:
            col[s] = j
    keep = {j for s, j in col.items() if ncells[j] > frac * n_cells}
    a = df[0].map(col)
    b = df[1].map(col)
    ok = a.notna() & b.notna()
    a, b = a[ok].astype(int), b[ok].astype(int)
    ok = a.isin(keep) & b.isin(keep) & (a != b)
    return sorted(set(a[ok]) | set(b[ok]))


def run_prep(args):
    t = time.time()
    r = subprocess.run([os.path.join(BIN, "scnet-prep")] + args, capture_output=True, text=True)
    assert r.returncode == 0, f"scnet-prep {' '.join(args)} failed: {r.stderr}"
    return time.time() - t


def read_out(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ad.read_h5ad(path)


def scanpy_steps(m, genes, cells):
    a = ad.AnnData(m.copy())
    a.var_names = [f"c{j}" for j in range(m.shape[1])]  # positions: names may repeat
    a.obs_names = cells
    a = a[:, [re.fullmatch(r"ERCC-[0-9]+", g) is None for g in genes]].copy()
    sc.pp.filter_cells(a, min_genes=200)
    sc.pp.filter_genes(a, min_cells=3)
    counts = a.X.copy()
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    sc.pp.pca(a, n_comps=15)
    sc.pp.neighbors(a, n_neighbors=25, n_pcs=15, transformer="sklearn")
    return a, counts


def neighbour_sets(d):
    d = d.tocsr()
    return [set(d.indices[d.indptr[i] : d.indptr[i + 1]]) for i in range(d.shape[0])]


def conn_diff(ours, theirs, rows_ok):
    c = ours.tocoo()
    mask = rows_ok[c.row] & rows_ok[c.col]
    want = np.asarray(theirs.tocsr()[c.row[mask], c.col[mask]]).ravel()
    return float(np.abs(c.data[mask] - want).max()) if mask.any() else 0.0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def hvg_pca(name, args, out, sa):
    """--pca-genes hvg, with and without --scale-before-pca, against scanpy's
    PCA of the highly variable genes (pp.scale first for the second)."""
    for scale in (False, True):
        run_prep(args + ["--pca-genes", "hvg"] + (["--scale-before-pca"] if scale else []))
        o = read_out(out)
        h = sa[:, sa.var["highly_variable"].values].copy()
        if scale:
            sc.pp.scale(h)
        sc.pp.pca(h, n_comps=15)
        vr = float(np.abs(o.uns["pca"]["variance_ratio"] - h.uns["pca"]["variance_ratio"]).max())
        check(vr <= 1e-4, f"{name}: PCA of the highly variable genes (scale {scale}): variance ratio differs by {vr}")
        ang = float(scipy.linalg.subspace_angles(o.obsm["X_pca"].astype(np.float64),
                                                 h.obsm["X_pca"].astype(np.float64)).max())
        check(ang < 1e-3, f"{name}: PCA of the highly variable genes (scale {scale}): subspace angle {ang}")
        print(f"{name}: --pca-genes hvg{' --scale-before-pca' if scale else ''}: variance ratios within {vr:.1e}, "
              f"subspace angle {ang:.1e}", flush=True)


def compare(name, path, ppi):
    m, genes, cells = read_counts(path)
    out = os.path.join(TMP, f"{name}.h5ad")
    args = [path, "--ppi", ppi, "-o", out, "-q", "--scaled", "no"]
    names, ids = symbols_for(genes)
    if ids:
        args += ["--gene-map", FEATURES]
    t_ours = run_prep(args)
    o = read_out(out)
    t0 = time.time()
    s, counts = scanpy_steps(m, genes, cells)
    t_scanpy = time.time() - t0
    gcols = np.array([int(c[1:]) for c in s.var_names])  # scanpy's genes as input columns
    check(list(o.obs_names) == list(s.obs_names), f"{name}: kept cells differ")
    check(np.array_equal(o.obs["n_genes"].values, s.obs["n_genes"].values), f"{name}: obs n_genes differ")
    nc = np.asarray((s.X > 0).sum(axis=0)).ravel()
    al = align(ppi, [names[c] for c in gcols], nc, s.n_obs)
    want_genes = [genes[c] for c in gcols[al]]
    got_genes = list(o.var["gene_ids"]) if ids else list(o.var_names)
    check(got_genes == want_genes, f"{name}: aligned genes differ ({len(got_genes)} vs {len(want_genes)})")
    check(np.array_equal(o.var["n_cells"].values, s.var["n_cells"].values[al]), f"{name}: var n_cells differ")
    sx = s.X[:, al].tocsr()
    ox = o.X.tocsr()
    sx.sort_indices()
    ox.sort_indices()
    check(np.array_equal(ox.indptr, sx.indptr) and np.array_equal(ox.indices, sx.indices),
          f"{name}: X sparsity pattern differs")
    rel = float(np.max(np.abs(ox.data - sx.data) / np.abs(sx.data)))
    check(rel <= 1e-5, f"{name}: X relative error {rel}")
    cnt = counts[:, al].toarray()
    check(np.array_equal(o.layers["counts"].toarray(), cnt), f"{name}: layers/counts differ")
    # HVG on the aligned genes
    sa = s[:, al].copy()
    sc.pp.highly_variable_genes(sa, flavor="seurat", n_top_genes=3000)
    hv_same = np.array_equal(o.var["highly_variable"].values, sa.var["highly_variable"].values)
    check(hv_same, f"{name}: highly variable genes differ")
    dn = np.nanmax(np.abs(o.var["dispersions_norm"].values - sa.var["dispersions_norm"].values))
    # PCA
    vr = float(np.abs(o.uns["pca"]["variance_ratio"] - s.uns["pca"]["variance_ratio"]).max())
    check(vr <= 1e-4, f"{name}: PCA variance ratio differs by {vr}")
    ang = float(scipy.linalg.subspace_angles(o.obsm["X_pca"].astype(np.float64), s.obsm["X_pca"].astype(np.float64)).max())
    check(ang < 1e-3, f"{name}: PCA subspace angle {ang}")
    if name == "pbmc3k":  # the largest set: the Krylov solver, on a copy of the masked genes
        hvg_pca(name, args, out, sa)
    # neighbours
    on, sn = neighbour_sets(o.obsp["distances"]), neighbour_sets(s.obsp["distances"])
    same = sum(len(a & b) for a, b in zip(on, sn)) / sum(len(b) for b in sn)
    check(same >= 0.99, f"{name}: neighbour sets {same:.4f} identical")
    rows_ok = np.array([a == b for a, b in zip(on, sn)])
    cd = conn_diff(o.obsp["connectivities"], s.obsp["connectivities"], rows_ok)
    check(cd <= 1e-3, f"{name}: connectivities differ by {cd} (end to end)")
    # scanpy's own X_pca through --reuse-pca: the neighbour code alone
    ri = ad.AnnData(counts.copy(), obs=pd.DataFrame(index=s.obs_names))
    ri.var_names = [f"c{j}" for j in gcols]
    ri.obsm["X_pca"] = s.obsm["X_pca"]
    rin, rout = os.path.join(TMP, f"{name}.reuse.in.h5ad"), os.path.join(TMP, f"{name}.reuse.h5ad")
    ri.write_h5ad(rin)
    run_prep([rin, "--no-ppi", "--reuse-pca", "--min-genes", "0", "--min-cells", "0", "-o", rout, "-q",
              "--scaled", "no"])
    r = read_out(rout)
    rn = neighbour_sets(r.obsp["distances"])
    rsame = sum(len(a & b) for a, b in zip(rn, sn)) / sum(len(b) for b in sn)
    check(rsame == 1.0, f"{name}: neighbours from scanpy's X_pca {rsame:.6f} identical")
    rcd32 = conn_diff(r.obsp["connectivities"], s.obsp["connectivities"], np.ones(s.n_obs, bool))
    # sklearn's brute force on float32 coordinates rounds distances by up to a
    # few 1e-6; on the same coordinates in float64 its distances are exact
    s64 = ad.AnnData(obs=pd.DataFrame(index=s.obs_names))
    s64.obsm["X_pca"] = s.obsm["X_pca"].astype(np.float64)
    sc.pp.neighbors(s64, n_neighbors=25, n_pcs=15, use_rep="X_pca", transformer="sklearn")
    check(neighbour_sets(s64.obsp["distances"]) == rn, f"{name}: neighbours differ from scanpy's (float64)")
    rcd = conn_diff(r.obsp["connectivities"], s64.obsp["connectivities"], np.ones(s.n_obs, bool))
    check(rcd <= 1e-5, f"{name}: connectivities from scanpy's X_pca differ by {rcd}")
    check(r.obsp["connectivities"].nnz == s64.obsp["connectivities"].nnz, f"{name}: connectivity pattern differs")
    rd, sd = r.obsp["distances"].tocsr(), s64.obsp["distances"].tocsr()
    rd.sort_indices()
    sd.sort_indices()
    dd = float(np.abs(rd.data - sd.data).max())
    print(f"{name:22s} {o.n_obs:5d} {len(genes):6d} {o.n_vars:6d} {rel:8.1e} {int(hv_same):3d} {dn:8.1e} {vr:8.1e} "
          f"{ang:8.1e} {same:7.5f} {cd:8.1e} {rcd32:8.1e} {rcd:8.1e} {dd:8.1e} {t_ours:6.2f} {t_scanpy:6.2f}",
          flush=True)


def main():
    sc.settings.verbosity = 0
    warnings.filterwarnings("ignore", category=FutureWarning)
    print(f"{'dataset':22s} {'cells':>5s} {'genes':>6s} {'PPI':>6s} {'X_rel':>8s} {'HVG':>3s} {'dn_abs':>8s} "
          f"{'vr_abs':>8s} {'angle':>8s} {'knn':>7s} {'conn':>8s} {'conn32':>8s} {'conn64':>8s} {'dist64':>8s} "
          f"{'t_scnet':>6s} {'t_sc':>6s}")
    for name, path, ppi in datasets():
        compare(name, path, ppi)
    print("scnet-prep agrees with scanpy on every dataset")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
