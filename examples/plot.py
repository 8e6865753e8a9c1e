#!/usr/bin/env python3
"""Plots of a finished scnet file: UMAPs of the PCA and the scNET cell
embeddings coloured by a label, and the training curve.

    python3 examples/plot.py sample.scnet.h5ad --color cell_line -o plots/

writes plots/umap.png and plots/training.png, and prints the adjusted Rand
index of Leiden clusters of either embedding against the label (the best
over a range of resolutions, as a measure of how well the cells separate).
Needs scanpy and matplotlib (the test environment: make venv).
"""
import argparse
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scanpy as sc  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

RESOLUTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]


def label(adata, spec):
    """One column, or several joined with '_' (e.g. mixture proportions)."""
    cols = spec.split(",")
    missing = [c for c in cols if c not in adata.obs]
    if missing:
        sys.exit(f"plot.py: no obs column {', '.join(missing)} (there are: {', '.join(adata.obs.columns)})")
    parts = [adata.obs[c].astype(str) for c in cols]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + "_" + p
    return joined.astype("category")


def embed(adata, rep, key, seed):
    """Neighbours and UMAP of one representation, under its own keys
    (prefixed: uns['scnet'] holds the run's record)."""
    sc.pp.neighbors(adata, use_rep=rep, n_neighbors=15, key_added=key, random_state=seed)
    sc.tl.umap(adata, neighbors_key=key, random_state=seed)
    adata.obsm[f"X_umap_{key}"] = adata.obsm.pop("X_umap")


def best_ari(adata, key, truth, seed):
    best = (-1.0, None)
    for r in RESOLUTIONS:
        sc.tl.leiden(adata, resolution=r, neighbors_key=key, key_added="_cl", flavor="igraph",
                     n_iterations=2, directed=False, random_state=seed)
        ari = adjusted_rand_score(truth, adata.obs["_cl"])
        if ari > best[0]:
            best = (ari, r)
    del adata.obs["_cl"]
    return best


def plot_umaps(adata, truth, title_of, path, legend_title):
    cats = list(truth.cat.categories)
    cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
    fig, axes = plt.subplots(1, len(title_of), figsize=(4.6 * len(title_of) + 1.8, 4.2))
    for ax, (key, title) in zip(np.atleast_1d(axes), title_of.items()):
        xy = adata.obsm[f"X_umap_{key}"]
        for i, c in enumerate(cats):
            m = (truth == c).to_numpy()
            ax.scatter(xy[m, 0], xy[m, 1], s=9, color=cmap(i % cmap.N), label=c, linewidths=0)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("UMAP 1", fontsize=8)
        ax.set_ylabel("UMAP 2", fontsize=8)
    np.atleast_1d(axes)[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False,
                                   markerscale=1.5, title=legend_title.replace(",", "\n"), title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_training(tr, path):
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    epochs = np.arange(len(tr["loss_ppi"]))
    terms = [("loss_ppi", "PPI reconstruction"), ("loss_mse", "expression (MSE)"), ("loss_corr", "correlation")]
    total = np.zeros(len(epochs))
    for k, name in terms:
        ax.plot(epochs, tr[k], label=name, lw=1.4)
        total += np.asarray(tr[k])
    ax.plot(epochs, total, label="total", color="black", lw=1.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("training loss", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ev = np.asarray(tr["eval_epoch"])
    ax2.plot(ev, tr["auroc"], "o-", label="AUROC", lw=1.4, ms=3)
    ax2.plot(ev, tr["ap"], "s-", label="average precision", lw=1.4, ms=3)
    kind = str(tr.get("outputs", "best"))
    if kind.startswith("reference"):
        note = "outputs: the reference's schedule"
    else:
        at = len(epochs) - 1 if kind.startswith("last") else int(tr["best_epoch"])
        ax2.axvline(at, color="grey", ls=":", lw=1)
        note = f"outputs from epoch {at}"
    ax2.set_xlabel("epoch")
    ax2.set_title(f"held-out PPI edges ({note})", fontsize=10)
    ax2.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("h5ad", help="a file that has been through scnet-train")
    ap.add_argument("--color", required=True, help="obs column(s) to colour by; several joined with ','")
    ap.add_argument("-o", "--outdir", default=".", help="where the PNGs go [.]")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    adata = sc.read_h5ad(a.h5ad)
    for need in ("X_pca", "X_scnet"):
        if need not in adata.obsm:
            sys.exit(f"plot.py: {a.h5ad}: obsm['{need}'] is missing (run scnet-prep and scnet-train first)")
    truth = label(adata, a.color)
    tr = adata.uns.get("scnet", {}).get("train")
    os.makedirs(a.outdir, exist_ok=True)
    title_of = {"nn_pca": "PCA (scnet-prep)", "nn_scnet": "scNET cell embedding"}
    for key, rep in (("nn_pca", "X_pca"), ("nn_scnet", "X_scnet")):
        embed(adata, rep, key, a.seed)
        ari, res = best_ari(adata, key, truth, a.seed)
        title_of[key] += f"\nLeiden ARI {ari:.2f}"
        print(f"plot.py: {rep}: Leiden ARI against {a.color} {ari:.3f} (resolution {res})")
    umap = os.path.join(a.outdir, "umap.png")
    plot_umaps(adata, truth, title_of, umap, a.color)
    paths = [umap]
    if tr is not None:
        paths.append(os.path.join(a.outdir, "training.png"))
        plot_training(tr, paths[-1])
    print("plot.py: wrote " + ", ".join(paths))


if __name__ == "__main__":
    main()
