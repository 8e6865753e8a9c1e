"""Communities and modularity of scnet-coembed against python-igraph and
leidenalg, on networks from real data.

The graph: the iRefIndex PPI among the genes of the KEGG sets (a real PPI
subgraph of several thousand genes) with, as gene embedding, its 32 leading
normalised-adjacency eigenvectors, so that the co-embedded network has the
PPI's structure.  scnet-coembed builds the network (unweighted and weighted),
finds Leiden and Louvain modules, and reports the PPI baseline.  Checked:
  - the modularity of the partition it wrote (var['scnet_module']) agrees
    with python-igraph's Graph.modularity for that membership within 1e-6;
  - its Leiden modularity is within 2% of leidenalg's
    ModularityVertexPartition (the mean over five seeds: a single run's
    modularity varies by about 1% with the seed) and Louvain within 2% of
    igraph's multilevel (also a mean over five seeds), on the same graph, for the co-embedded network and
    the PPI itself;
  - the GraphML export opens in python-igraph with the same edges.

Run with the test venv's python; exits non-zero on the first failure.
"""
import gzip
import os
import random
import subprocess
import sys
import tempfile
import warnings

import anndata as ad
import igraph as ig
import leidenalg as la
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

DATA = os.environ["SCNET_DATA"]
BIN = os.environ["SCNET_BIN"]


def fixture(path):
    genes = set()
    with gzip.open(f"{DATA}/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz", "rt") as fh:
        for line in fh:
            genes |= set(line.rstrip("\n").split("\t")[2:])
    edges = []
    with gzip.open(f"{DATA}/ppi/iref13_miscore_interactome.tsv.gz", "rt") as fh:
        for line in fh:
            a, b = line.split("\t")[:2]
            if a in genes and b in genes and a != b:
                edges.append((a, b))
    names = sorted({g for e in edges for g in e})
    idx = {g: i for i, g in enumerate(names)}
    r = [idx[a] for a, _ in edges] + [idx[b] for _, b in edges]
    c = [idx[b] for _, b in edges] + [idx[a] for a, _ in edges]
    A = sp.coo_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(names),) * 2).tocsr()
    A.data[:] = 1
    d = np.asarray(A.sum(1)).ravel()
    s = sp.diags(1 / np.sqrt(d))
    _, vecs = eigsh((s @ A @ s).astype(np.float64), k=32, which="LA", v0=np.ones(len(names)))
    a = ad.AnnData(X=sp.csr_matrix((1, len(names)), dtype=np.float32),
                   obs=pd.DataFrame(index=["c0"]), var=pd.DataFrame(index=names))
    a.varm["scnet"] = vecs.astype(np.float32)
    a.varp["scnet_ppi"] = A
    a.write_h5ad(path)
    return len(names), A.nnz // 2


def run(*args):
    p = subprocess.run([f"{BIN}/scnet-coembed", "-q", *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"scnet-coembed {' '.join(args)} failed: {p.stderr}")


def graph(adj, weighted):
    up = sp.triu(adj, 1).tocoo()
    g = ig.Graph(n=adj.shape[0], edges=np.c_[up.row, up.col].tolist())
    if weighted:
        g.es["weight"] = up.data.astype(np.float64).tolist()
    return g


def leidenalg_q(g, weighted):
    """A typical leidenalg run: the mean modularity over five seeds."""
    w = g.es["weight"] if weighted else None
    return np.mean([la.find_partition(g, la.ModularityVertexPartition, weights=w, n_iterations=-1,
                                      seed=s).modularity for s in range(5)])


def multilevel_q(g, weighted):
    """A typical igraph multilevel run: the mean modularity over five seeds
    (igraph visits the nodes in a random order, so one run varies by ~1%)."""
    w = "weight" if weighted else None
    qs = []
    for s in range(5):
        ig.set_random_number_generator(random.Random(s))
        qs.append(g.community_multilevel(weights=w).modularity)
    ig.set_random_number_generator(random)
    return np.mean(qs)


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")
    print("ok:", what)


def main():
    warnings.simplefilter("error")
    with tempfile.TemporaryDirectory() as t:
        n, m = fixture(f"{t}/ppi.h5ad")
        print(f"PPI subgraph: {n} genes, {m} edges")
        ppi_q = {}
        for method in ("leiden", "louvain"):
            for weighted in (False, True):
                out = f"{t}/{method}{int(weighted)}.h5ad"
                extra = ["--weighted"] if weighted else []
                run("--method", method, "--baseline", "ppi", "--graphml", f"{t}/net.graphml", *extra, "-o", out,
                    f"{t}/ppi.h5ad")
                a = ad.read_h5ad(out)
                u = a.uns["scnet"]["coembed"]
                g = graph(a.varp["scnet_coembed"], weighted)
                check(g.ecount() == u["n_edges"] > 1000, f"{method} w={weighted}: {g.ecount()} edges")
                memb = a.var["scnet_module"].astype(int).tolist()
                q_given = g.modularity(memb, weights="weight" if weighted else None)
                check(abs(q_given - u["modularity"]) < 1e-6,
                      f"{method} w={weighted}: modularity of its partition {u['modularity']:.8f} = igraph {q_given:.8f}")
                if method == "leiden":
                    ref = leidenalg_q(g, weighted)
                else:
                    ref = multilevel_q(g, weighted)
                check(u["modularity"] >= 0.98 * ref,
                      f"{method} w={weighted}: modularity {u['modularity']:.4f} within 2% of the python {ref:.4f}")
                ppi_q[method, weighted] = a.uns["scnet"]["coembed"]["baseline_ppi"]["modularity"]
                gm = ig.Graph.Read_GraphML(f"{t}/net.graphml")
                check(gm.ecount() == g.ecount() and gm.vs["name"] == list(a.var_names),
                      f"{method} w={weighted}: GraphML holds the same network")
        # the PPI itself (unweighted: its weights here are all 1)
        pg = graph(ad.read_h5ad(f"{t}/ppi.h5ad").varp["scnet_ppi"], False)
        ref = leidenalg_q(pg, False)
        check(ppi_q["leiden", False] >= 0.98 * ref,
              f"PPI Leiden modularity {ppi_q['leiden', False]:.4f} within 2% of leidenalg {ref:.4f}")
        ref = multilevel_q(pg, False)
        check(ppi_q["louvain", False] >= 0.98 * ref,
              f"PPI Louvain modularity {ppi_q['louvain', False]:.4f} within 2% of igraph {ref:.4f}")


if __name__ == "__main__":
    main()
