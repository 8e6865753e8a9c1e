"""Seed inputs for the fuzz harnesses, cut from the real data in $SCNET_DATA
(small slices, a few KiB each) and written with h5py/anndata for the HDF5
harnesses.  Deterministic; written under OUT/<harness>/, never committed.

usage: mkseeds.py OUT
"""
import gzip
import io
import os
import sys
import warnings

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

DATA = os.environ.get("SCNET_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
SEP = b"\n--\n"  # part separator of fuzz.h's fz_split


def lines(rel, n):
    with gzip.open(os.path.join(DATA, rel), "rb") as fh:
        return [fh.readline() for _ in range(n)]


def gz(b):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as fh:
        fh.write(b)
    return out.getvalue()


class Out:
    def __init__(self, root):
        self.root = root

    def put(self, harness, name, data):
        d = os.path.join(self.root, harness)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as fh:
            fh.write(data)


def pbmc_slice(genes=12, cells=6):
    """A genes x cells corner of pbmc3k with its non-zeros, as MatrixMarket."""
    names = [l.strip() for l in lines("pbmc3k_10x/genes.txt.gz", 200)]
    rng = np.random.default_rng(1)
    m = rng.poisson(0.7, size=(genes, cells))
    ent = [(i + 1, j + 1, m[i, j]) for j in range(cells) for i in range(genes) if m[i, j]]
    mtx = b"%%MatrixMarket matrix coordinate integer general\n%\n"
    mtx += b"%d %d %d\n" % (genes, cells, len(ent))
    mtx += b"".join(b"%d %d %d\n" % e for e in ent)
    feats = b"".join(b"ENSG%011d\t%s\tGene Expression\n" % (i, names[i]) for i in range(genes))
    bcs = b"".join(b"AAACATACAACCAC-%d\n" % j for j in range(cells))
    return mtx, feats, bcs, names[:genes]


def text_seeds(o):
    mtx, feats, bcs, names = pbmc_slice()
    o.put("fuzz_mtx", "single", b"\x00" + mtx)
    o.put("fuzz_mtx", "labelled", b"\x01" + mtx + SEP + b"\n".join(names) + b"\n" + SEP + bcs)
    o.put("fuzz_mtx", "dir_features", b"\x02" + mtx + SEP + feats + SEP + bcs)
    o.put("fuzz_mtx", "dir_genes", b"\x03" + mtx + SEP + b"".join(f.split(b"\t")[0] + b"\t" +
                                                               f.split(b"\t")[1] + b"\n"
                                                               for f in feats.splitlines()) + SEP + bcs)
    real = b"".join(lines("pbmc3k_10x/matrix.mtx.gz", 40)).replace(b"32738 2700 2286884", b"32738 2700 38")
    o.put("fuzz_mtx", "pbmc_head", b"\x00" + real)
    o.put("fuzz_mtx", "pbmc_head_gz", b"\x00" + gz(real))

    csv = [l.rstrip(b"\n").split(b",")[:7] for l in lines("tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz", 8)]
    body = b"".join(b",".join(f) + b"\n" for f in csv)
    o.put("fuzz_text_matrix", "cepo_csv", b"\x00" + body)
    o.put("fuzz_text_matrix", "cepo_csv_gz", b"\x00" + gz(body))
    o.put("fuzz_text_matrix", "cepo_tsv_cells", b"\x02" + body.replace(b",", b"\t"))
    cel = [l.rstrip(b"\n").split(b",")[:6] for l in lines("tian2019_cellbench/sc_celseq2.count.csv.gz", 8)]
    o.put("fuzz_text_matrix", "celseq_rcsv", b"\x01" + b"".join(b",".join(f) + b"\n" for f in cel))
    o.put("fuzz_text_matrix", "blanks", b"\x00cell a b\nc1 1 0\nc2 0 2.5\n")

    iref = b"".join(lines("ppi/iref13_miscore_interactome.tsv.gz", 30))
    o.put("fuzz_edges", "iref", iref)
    o.put("fuzz_edges", "iref_gz", gz(iref))
    o.put("fuzz_edges", "pinnacle", b"".join(lines("ppi/pinnacle_global_ppi_edgelist.txt.gz", 30)))
    o.put("fuzz_edges", "csv_header", b"protein1,protein2,combined_score\nA,B,0.5\n\"C,D\",E,1\n")

    o.put("fuzz_genes", "names", b"\n".join(names) + b"\n")
    o.put("fuzz_genes", "commas", b"# seeds\nTP53, MDM2,CDKN1A\n\nEGFR\tKRAS\n")

    for i, f in enumerate(["msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz",
                           "wikipathways_human_symbol.gmt.gz"]):
        gmt = b"".join(b"\t".join(l.split(b"\t")[:14]).rstrip(b"\n") + b"\n"
                       for l in lines("genesets/" + f, 3))
        o.put("fuzz_gmt", "gmt%d" % i, gmt)
    o.put("fuzz_gmt", "gmt_gz", gz(gmt))

    feat = b"".join(lines("annotation/human_GRCh38-2024-A_10x_features.tsv.gz", 20))
    o.put("fuzz_mapping", "features", feat)
    o.put("fuzz_mapping", "features_gz", gz(feat))
    o.put("fuzz_mapping", "csv", b"# id,symbol\nid,symbol\nENSG1,A\nENSG2,\"B,C\"\n")

    meta = lines("tian2019_cellbench/sc_celseq2.metadata.csv.gz", 9)
    rows = [b'"c%d"' % (i - 1) + l[l.index(b","):] if i else l for i, l in enumerate(meta)]
    o.put("fuzz_obs", "celseq_meta", b"\x00" + b"".join(rows))
    tsv = lines("tian2019_cellbench/sc_10x_cepo894genes.metadata.tsv.gz", 6)
    rows = [b"c%d" % (i - 1) + l[l.index(b"\t"):] if i else l for i, l in enumerate(tsv)]
    o.put("fuzz_obs", "cepo_meta", b"\x01" + b"".join(rows))


def h5_bytes(write):
    bio = io.BytesIO()
    with h5py.File(bio, "w") as f:
        write(f)
    return bio.getvalue()


def tenx_seeds(o):
    mtx, feats, bcs, names = pbmc_slice(8, 5)
    rows = [l.split() for l in mtx.splitlines()[3:]]
    g = np.array([int(r[0]) - 1 for r in rows])
    c = np.array([int(r[1]) - 1 for r in rows])
    v = np.array([int(r[2]) for r in rows], dtype=np.int32)
    m = sp.csc_matrix((v, (g, c)), shape=(8, 5))  # genes x cells, columns = cells
    ids = [f.split(b"\t")[0] for f in feats.splitlines()]

    def v3(f):
        x = f.create_group("matrix")
        x["barcodes"] = np.array(bcs.split(), dtype="S")
        x["data"], x["indices"], x["indptr"] = m.data, m.indices.astype(np.int64), m.indptr.astype(np.int64)
        x["shape"] = np.array([8, 5], dtype=np.int32)
        ft = x.create_group("features")
        ft["id"] = np.array(ids, dtype="S")
        ft["name"] = np.array(names, dtype="S")
        ft["feature_type"] = np.array([b"Gene Expression"] * 7 + [b"Antibody Capture"], dtype="S")
        ft["genome"] = np.array([b"GRCh38"] * 8, dtype="S")

    def v2(f):
        x = f.create_group("hg19")
        x["barcodes"] = np.array(bcs.split(), dtype="S")
        x["data"], x["indices"], x["indptr"] = m.data, m.indices, m.indptr
        x["shape"] = np.array([8, 5], dtype=np.int32)
        x["genes"] = np.array(ids, dtype="S")
        x.create_dataset("gene_names", data=names, dtype=h5py.string_dtype())

    o.put("fuzz_10x_h5", "v3", h5_bytes(v3))
    o.put("fuzz_10x_h5", "v2_vlen", h5_bytes(v2))


def adata_small(dense=False):
    rng = np.random.default_rng(2)
    n, g = 6, 12
    x = rng.poisson(0.8, size=(n, g)).astype(np.float32)
    obs = pd.DataFrame({"cell_line": pd.Categorical(["A", "B", "A", "C", "B", "A"]),
                        "n_counts": x.sum(1).astype(np.float64),
                        "ok": np.array([True, False] * 3),
                        "batch": pd.array([1, None, 2, 2, None, 1], dtype="Int64"),
                        "note": ["x", "y", "z", "x", "y", "é"]},
                       index=[f"c{i}" for i in range(n)])
    var = pd.DataFrame({"highly_variable": rng.random(g) > 0.3,
                        "dispersions_norm": rng.normal(size=g).astype(np.float32),
                        "gene_ids": [f"ENSG{i:011d}" for i in range(g)]},
                       index=[f"G{i}" for i in range(g)])
    a = ad.AnnData(x if dense else sp.csr_matrix(x), obs=obs, var=var)
    ppi = sp.random(g, g, density=0.3, random_state=3, dtype=np.float32)
    ppi = sp.csr_matrix(ppi + ppi.T)
    ppi.setdiag(0)
    ppi.eliminate_zeros()
    a.varp["scnet_ppi"] = ppi
    d = sp.random(n, n, density=0.5, random_state=4, dtype=np.float64)
    d.setdiag(0)
    a.obsp["distances"] = sp.csr_matrix(d)
    a.varm["scnet"] = rng.normal(size=(g, 4)).astype(np.float32)
    a.obsm["X_pca"] = rng.normal(size=(n, 3))
    a.uns["scnet"] = {"history": np.array(["scnet-prep 0.1.0: scnet-prep in.csv"], dtype=object),
                      "train": {"epochs": 3, "auroc": 0.5}}
    return a


def h5ad_seeds(o, tmp):
    for name, dense, comp in [("sparse", False, None), ("dense", True, None), ("gzip", False, "gzip")]:
        p = os.path.join(tmp, name + ".h5ad")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adata_small(dense).write_h5ad(p, compression=comp)
        with open(p, "rb") as fh:
            o.put("fuzz_h5ad", name, fh.read())
        os.remove(p)


def cli_seeds(o):
    z = b"\x00"
    args = {
        "train": [["-e", "3", "--max-genes", "50", "-t", "1", "-o", "out.h5ad", "in.h5ad"],
                  ["--layers", "2", "--hidden", "16", "--embed", "8", "--dropout", "0.1", "--lr=1e-3",
                   "--checkpoint", "c.h5", "--stop-after", "2", "--precision", "tf32", "-"],
                  ["--help"], ["--cell-batch", "--block-size", "100", "--device", "cuda:0", "-q", "x"]],
        "coembed": [["-p", "99", "--weighted", "--baseline", "expression,ppi", "--tsv", "n.tsv", "in.h5ad"],
                    ["--method", "louvain", "--resolution", "0.5", "--diff", "b.h5ad", "--diff-out", "d.tsv", "a"]],
        "propagate": [["-g", "TP53,MDM2", "in.h5ad"],
                      ["--edges", "ppi.tsv", "--gmt", "k.gmt", "--evaluate", "--n-random", "3", "--swaps", "2"]],
        "info": [["--field", "var/highly_variable", "x.h5ad"], ["--history", "-o", "h.txt", "-"]],
    }
    for prog, lists in args.items():
        for i, a in enumerate(lists):
            o.put("fuzz_cli_" + prog, "args%d" % i, z.join(s.encode() for s in a))


def main():
    out = Out(sys.argv[1])
    text_seeds(out)
    tenx_seeds(out)
    h5ad_seeds(out, sys.argv[1])
    cli_seeds(out)


if __name__ == "__main__":
    main()
