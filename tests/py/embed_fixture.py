"""Write a small trained-looking .h5ad from real data, for the scnet-coembed
and scnet-propagate tests (a helper, not a test itself).

The 10x three-cell-line mixture of $SCNET_DATA (894 genes x 895 cells) is
normalised to 1e4 counts per cell and log1p'd (X, CSR); varm['scnet'] holds a
gene embedding: the first 32 principal axes of the standardised matrix,
scaled by their singular values (genes x 32); varp['scnet_ppi'] the iRefIndex
PPI among these genes (symmetric, weights).

usage: embed_fixture.py OUT.h5ad [--cells all|even|odd] [--shuffle SEED] [--drop N]
  --cells    which cells the embedding is computed from [all]
  --shuffle  permute the genes (to test matching by name)
  --drop     leave out the last N genes (after shuffling)
"""
import argparse
import gzip
import os

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

DATA = os.environ.get("SCNET_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))


def load_counts():
    path = os.path.join(DATA, "tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz")
    df = pd.read_csv(path, index_col=0)
    genes = ad.utils.make_index_unique(pd.Index(df.index.astype(str))).to_list()  # a few repeat
    return genes, df.columns.to_list(), df.to_numpy(dtype=np.float64).T  # cells x genes


def embedding(x, dims=32):
    z = x - x.mean(0)
    sd = z.std(0)
    z /= np.where(sd > 0, sd, 1)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    return (vt[:dims].T * s[:dims]).astype(np.float32)


def ppi(genes):
    idx = {g: i for i, g in enumerate(genes)}
    rows, cols, w = [], [], []
    with gzip.open(os.path.join(DATA, "ppi/iref13_miscore_interactome.tsv.gz"), "rt") as fh:
        for line in fh:
            a, b, v = line.rstrip("\n").split("\t")[:3]
            if a in idx and b in idx and a != b:
                rows += [idx[a], idx[b]]
                cols += [idx[b], idx[a]]
                w += [float(v)] * 2
    m = sp.coo_matrix((np.array(w, np.float32), (rows, cols)), shape=(len(genes),) * 2).tocsr()
    m.sum_duplicates()
    m.data = np.minimum(m.data, np.float32(1.0180))  # duplicates summed: keep a weight's range
    return m


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--cells", default="all", choices=["all", "even", "odd"])
    p.add_argument("--shuffle", type=int, default=None)
    p.add_argument("--drop", type=int, default=0)
    a = p.parse_args()
    genes, cells, counts = load_counts()
    x = np.log1p(counts / counts.sum(1, keepdims=True) * 1e4)
    rows = {"all": slice(None), "even": slice(0, None, 2), "odd": slice(1, None, 2)}[a.cells]
    emb = embedding(x[rows])
    order = np.arange(len(genes))
    if a.shuffle is not None:
        order = np.random.default_rng(a.shuffle).permutation(len(genes))
    order = order[: len(order) - a.drop]
    genes = [genes[i] for i in order]
    adata = ad.AnnData(X=sp.csr_matrix(x[:, order].astype(np.float32)),
                       obs=pd.DataFrame(index=cells), var=pd.DataFrame(index=genes))
    adata.varm["scnet"] = emb[order]
    adata.varp["scnet_ppi"] = ppi(genes)
    adata.uns["scnet"] = {"history": ["embed_fixture.py"]}
    adata.write_h5ad(a.out)


if __name__ == "__main__":
    main()
