"""Clustering quality of cell embeddings against known labels, for
bench/quality.sh.

The procedure of ../shared/data/README.md: a KNN graph (k = 15) on the
embedding, Leiden (igraph flavour) at resolutions 0.1, 0.2, ..., 1.0, and
the best adjusted Rand index against the label.  Embeddings scored:
  baseline  scanpy on the raw counts as the data README computes its PCA
            baseline (normalise to 1e4, log1p, 15 PCs over all genes), with
            the ERCC spike-in controls removed first as scnet-prep does (kept,
            they lower it: RNAmix_celseq2 0.863, RNAmix_sortseq 0.735);
  X_pca     scnet-prep's PCA (over the PPI-aligned genes);
  pca_model 15 PCs of the log-normalised expression of only the genes the
            model was trained on (what --max-genes leaves it), the PCA
            baseline on the model's own input;
  X_scnet   scnet-train's cell embedding;
  recon     15 PCs of scnet-train's reconstructed expression.

  ref_cells, ref_recon  with REF_PREFIX: the same two from the reference
            scNET on the same input (bench/train_ref.py --save REF_PREFIX).

usage: quality.py NAME LABEL COUNTS.csv.gz TRAINED.h5ad [REF_PREFIX]
LABEL: an obs column, or several joined with '+'.
Prints one tab-separated line: name, then embedding=ARI pairs.
"""
import sys
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scanpy as sc
from sklearn.metrics import adjusted_rand_score

warnings.simplefilter("ignore")


def best_ari(rep, truth, seed=0):
    b = ad.AnnData(np.zeros((rep.shape[0], 1), dtype=np.float32))
    b.obsm["r"] = np.asarray(rep, dtype=np.float32)
    sc.pp.neighbors(b, n_neighbors=15, use_rep="r", random_state=seed)
    best = 0.0
    for r in np.round(np.arange(0.1, 1.01, 0.1), 1):
        sc.tl.leiden(b, resolution=r, flavor="igraph", n_iterations=-1, random_state=seed)
        best = max(best, adjusted_rand_score(truth, b.obs["leiden"]))
    return best


def recon_pcs(m):
    """15 PCs of a cells x genes matrix, as scanpy computes them."""
    r = ad.AnnData(m.astype(np.float32) if hasattr(m, "tocsr") else np.asarray(m, dtype=np.float32))
    sc.pp.pca(r, n_comps=15, random_state=0)
    return r.obsm["X_pca"]


def labels(obs, spec):
    cols = spec.split("+")
    return obs[cols].astype(str).agg("_".join, axis=1).to_numpy()


def baseline(counts, cells):
    """The data README's PCA baseline, on the same cells as the trained file."""
    df = pd.read_csv(counts, index_col=0)
    a = ad.AnnData(df.T.astype(np.float32))
    a = a[[c for c in cells if c in a.obs_names], ~a.var_names.str.match(r"^ERCC-[0-9]+$")].copy()
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    sc.pp.pca(a, n_comps=15, random_state=0)
    return a.obsm["X_pca"], list(a.obs_names)


def main():
    name, spec, counts, trained = sys.argv[1:5]
    a = ad.read_h5ad(trained)
    truth = labels(a.obs, spec)
    out = {}
    pcs, names = baseline(counts, list(a.obs_names))
    keep = pd.Index(a.obs_names).get_indexer(names)
    out["baseline"] = best_ari(pcs, truth[keep])
    out["X_pca"] = best_ari(a.obsm["X_pca"], truth)
    out["pca_model"] = best_ari(recon_pcs(a.X), truth)
    out["X_scnet"] = best_ari(a.obsm["X_scnet"], truth)
    if "scnet_reconstructed" in a.layers:
        out["recon"] = best_ari(recon_pcs(a.layers["scnet_reconstructed"]), truth)
    if len(sys.argv) > 5:
        out["ref_cells"] = best_ari(np.load(sys.argv[5] + ".cells.npy"), truth)
        out["ref_recon"] = best_ari(recon_pcs(np.load(sys.argv[5] + ".recon.npy")), truth)
    print(name + "\t" + "\t".join(f"{k}={v:.3f}" for k, v in out.items()), flush=True)


if __name__ == "__main__":
    main()
