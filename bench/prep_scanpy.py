"""scanpy doing what scnet-prep does, for bench/prep.sh.

usage: prep_scanpy.py IN.h5ad PPI OUT.h5ad

read_h5ad, filter_cells(200), filter_genes(3), counts layer,
normalize_total(1e4), log1p, pca(15), neighbors(25, 15 PCs, exact brute
force: transformer='sklearn'), PPI alignment (pandas, MODEL.md §1.3), gene
subset, highly_variable_genes(seurat, 3000), z-score layer
((x - mean) / (std + 1e-5), dense float32), write_h5ad.  Prints the seconds
of each step on stderr; the caller measures the process's wall time and
peak memory.
"""
import os
import sys
import time

import numpy as np
import pandas as pd

t0 = time.time()
import anndata as ad  # noqa: E402
import scanpy as sc  # noqa: E402

steps = [("import", time.time() - t0)]


def step(name, t):
    steps.append((name, time.time() - t))
    return time.time()


def align(ppi_path, names, ncells, min_score=0.5):
    df = pd.read_csv(ppi_path, sep=r"\s+", header=None, dtype={0: str, 1: str})
    if df.shape[1] > 2:
        df = df[df[2] >= min_score]
    df = df.drop_duplicates()
    df = df[df[0] != df[1]]
    col = {}
    for j, s in enumerate(names):
        col.setdefault(s, j)
    keep = {j for j in col.values() if ncells[j] > 0}
    a, b = df[0].map(col), df[1].map(col)
    ok = a.notna() & b.notna()
    a, b = a[ok].astype(int), b[ok].astype(int)
    ok = a.isin(keep) & b.isin(keep) & (a != b)
    return sorted(set(a[ok]) | set(b[ok]))


def main():
    src, ppi, out = sys.argv[1:4]
    t = time.time()
    a = sc.read_h5ad(src)
    t = step("read", t)
    sc.pp.filter_cells(a, min_genes=200)
    sc.pp.filter_genes(a, min_cells=3)
    t = step("filter", t)
    a.layers["counts"] = a.X.copy()
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    t = step("normalise", t)
    sc.pp.pca(a, n_comps=15)
    t = step("pca", t)
    sc.pp.neighbors(a, n_neighbors=25, n_pcs=15, transformer="sklearn")
    t = step("neighbours", t)
    nc = np.asarray((a.X > 0).sum(axis=0)).ravel()
    a = a[:, align(ppi, list(a.var_names), nc)].copy()
    t = step("ppi", t)
    sc.pp.highly_variable_genes(a, flavor="seurat", n_top_genes=3000)
    t = step("hvg", t)
    if os.environ.get("PREP_SCALED", "1") == "1":
        x = a.X.toarray()
        mean = x.mean(axis=0)
        std = x.std(axis=0, ddof=1)
        a.layers["scaled"] = ((x - mean) / (std + 1e-5)).astype(np.float32)
        del x
    t = step("scale", t)
    a.write_h5ad(out)
    step("write", t)
    print(" ".join(f"{k} {v:.2f}" for k, v in steps), file=sys.stderr)


if __name__ == "__main__":
    main()
