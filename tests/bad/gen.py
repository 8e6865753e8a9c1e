"""The generated part of the bad-input corpus (tests/bad/EXPECT.tsv lists
every case; small text cases are committed in tests/bad/files/).

Writes into OUT: well-formed bases (a prepared .h5ad, the same with the
trained fields, a 10x HDF5, slices of the real data) and, from them, .h5ad
files with a field missing or wrong for each stage, truncated and corrupt
HDF5 and gzip, UTF-16 and Latin-1 text.  Deterministic: the same bytes on
every run (fixed seeds, gzip without timestamps).

usage: gen.py OUT
"""
import gzip
import io
import os
import shutil
import sys
import warnings

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

DATA = os.environ.get("SCNET_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
N_CELLS, N_GENES = 40, 30


def gz(b):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as fh:
        fh.write(b)
    return out.getvalue()


def genes(n=N_GENES):
    """Real symbols, so that the PPI slices of $SCNET_DATA can match them."""
    out = []
    with gzip.open(os.path.join(DATA, "ppi/iref13_miscore_interactome.tsv.gz"), "rt") as fh:
        for line in fh:
            for g in line.split("\t")[:2]:
                if g not in out:
                    out.append(g)
            if len(out) >= n:
                return out[:n]


def prepared(n_cells=N_CELLS, n_genes=N_GENES, seed=0):
    """A small file with what scnet-prep writes and scnet-train reads."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(1.5, size=(n_cells, n_genes)).astype(np.float32)
    x = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4).astype(np.float32)
    a = ad.AnnData(sp.csr_matrix(x),
                   obs=pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)]),
                   var=pd.DataFrame(index=genes(n_genes)))
    a.layers["counts"] = sp.csr_matrix(counts)
    a.var["highly_variable"] = rng.random(n_genes) < 0.6
    a.var["dispersions_norm"] = rng.normal(size=n_genes).astype(np.float32)
    ppi = np.zeros((n_genes, n_genes), np.float32)
    for g in range(n_genes):  # a ring and some chords: every gene has an edge
        for h in (g + 1, g + 7):
            ppi[g, h % n_genes] = ppi[h % n_genes, g] = 0.5 + 0.01 * g
    a.varp["scnet_ppi"] = sp.csr_matrix(ppi)
    k = min(5, n_cells - 1)
    d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    rows, cols, vals = [], [], []
    for i in range(n_cells):
        nb = [j for j in np.argsort(d[i], kind="stable") if j != i][:k]
        rows += [i] * len(nb)
        cols += nb
        vals += [d[i, j] for j in nb]
    a.obsp["distances"] = sp.csr_matrix((np.array(vals), (rows, cols)), shape=(n_cells, n_cells))
    a.obsp["connectivities"] = a.obsp["distances"].copy()
    a.uns["neighbors"] = {"connectivities_key": "connectivities", "distances_key": "distances",
                          "params": {"n_neighbors": k + 1, "method": "umap"}}
    return a


def trained(a, seed=1):
    """The fields scnet-train and scnet-coembed add."""
    rng = np.random.default_rng(seed)
    a = a.copy()
    a.varm["scnet"] = rng.normal(size=(a.n_vars, 8)).astype(np.float32)
    a.obsm["X_scnet"] = rng.normal(size=(a.n_obs, 8)).astype(np.float32)
    c = np.abs(np.corrcoef(a.varm["scnet"]))
    np.fill_diagonal(c, 0)
    net = (c > np.percentile(c, 80)).astype(np.float32)
    a.varp["scnet_coembed"] = sp.csr_matrix(net)
    return a


class Out:
    def __init__(self, root):
        self.root = root

    def path(self, name):
        return os.path.join(self.root, name)

    def bytes(self, name, data):
        with open(self.path(name), "wb") as fh:
            fh.write(data)

    def h5ad(self, name, a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a.write_h5ad(self.path(name))

    def edit(self, base, name, fn):
        """A copy of base changed in place with h5py."""
        shutil.copyfile(self.path(base), self.path(name))
        with h5py.File(self.path(name), "r+") as f:
            fn(f)


def set_data(path, fn):
    def edit(f):
        d = f[path][...]
        fn(d)
        f[path][...] = d
    return edit


def delete(*paths):
    def edit(f):
        for p in paths:
            del f[p]
    return edit


def replace(path, value):
    def edit(f):
        attrs = dict(f[path].attrs)
        del f[path]
        f[path] = value
        for k, v in attrs.items():
            f[path].attrs[k] = v
    return edit


def h5ad_cases(o):
    base = prepared()
    o.h5ad("prepared.h5ad", base)
    o.h5ad("trained.h5ad", trained(base))
    # an object header the HDF5 library refuses to copy (its version byte
    # and the seven after it flipped)
    with h5py.File(o.path("trained.h5ad"), "r") as f:
        addr = h5py.h5o.get_info(f["obsp/distances"].id).addr
    with open(o.path("trained.h5ad"), "rb") as f:
        bad = bytearray(f.read())
    for i in range(addr, addr + 8):
        bad[i] ^= 0xFF
    o.bytes("trained_bad_header.h5ad", bytes(bad))
    raw = ad.AnnData(base.layers["counts"], obs=base.obs[[]], var=base.var[[]])
    o.h5ad("raw.h5ad", raw)  # what a user has before scnet-prep
    # train: each field it needs, missing or wrong
    o.edit("prepared.h5ad", "no_ppi.h5ad", delete("varp/scnet_ppi"))
    o.edit("prepared.h5ad", "no_distances.h5ad", delete("obsp/distances"))
    o.edit("prepared.h5ad", "no_hvg.h5ad", delete("var/highly_variable"))
    o.edit("prepared.h5ad", "no_x.h5ad", delete("X"))
    o.edit("prepared.h5ad", "no_obs.h5ad", delete("obs"))
    o.edit("prepared.h5ad", "no_var.h5ad", delete("var"))
    o.edit("prepared.h5ad", "x_nan.h5ad", set_data("X/data", lambda d: d.__setitem__(3, np.nan)))
    o.edit("prepared.h5ad", "x_inf.h5ad", set_data("X/data", lambda d: d.__setitem__(5, np.inf)))
    def x_huge(f):
        d = f["X/data"][...].astype(np.float64)
        d[5] = 1e300
        attrs = dict(f["X/data"].attrs)
        del f["X/data"]
        f["X/data"] = d
        for k, v in attrs.items():
            f["X/data"].attrs[k] = v
    o.edit("prepared.h5ad", "x_float64_huge.h5ad", x_huge)
    o.edit("prepared.h5ad", "ppi_negative.h5ad", set_data("varp/scnet_ppi/data", lambda d: d.__setitem__(1, -1.0)))
    o.edit("trained.h5ad", "trained_ppi_nan.h5ad", set_data("varp/scnet_ppi/data", lambda d: d.__setitem__(0, np.nan)))
    o.edit("prepared.h5ad", "conn_nan.h5ad", set_data("obsp/connectivities/data", lambda d: d.__setitem__(2, np.nan)))
    o.edit("prepared.h5ad", "x_indices_out_of_range.h5ad",
           set_data("X/indices", lambda d: d.__setitem__(2, N_GENES + 5)))
    o.edit("prepared.h5ad", "x_indptr_decreasing.h5ad",
           set_data("X/indptr", lambda d: d.__setitem__(4, d[3] - 1)))
    o.edit("prepared.h5ad", "x_shape_mismatch.h5ad",
           lambda f: f["X"].attrs.__setitem__("shape", np.array([N_CELLS + 1, N_GENES])))
    o.edit("prepared.h5ad", "hvg_short.h5ad", replace("var/highly_variable", np.ones(N_GENES - 4, bool)))
    o.edit("prepared.h5ad", "hvg_not_bool.h5ad", replace("var/highly_variable", np.arange(N_GENES, dtype=np.float64)))
    o.edit("prepared.h5ad", "dispersions_short.h5ad", replace("var/dispersions_norm", np.ones(3, np.float32)))
    o.edit("prepared.h5ad", "dispersions_unlisted.h5ad", delete("var/dispersions_norm"))
    o.edit("prepared.h5ad", "dispersions_nan.h5ad",
           set_data("var/dispersions_norm", lambda d: d.__setitem__(slice(None), np.nan)))
    complete = prepared()
    complete.varp["scnet_ppi"] = sp.csr_matrix(np.ones((N_GENES, N_GENES), np.float32) - np.eye(N_GENES, dtype=np.float32))
    o.h5ad("ppi_complete.h5ad", complete)
    o.edit("prepared.h5ad", "distances_nan.h5ad", set_data("obsp/distances/data", lambda d: d.__setitem__(slice(None), np.nan)))
    bigger = prepared(N_CELLS + 2, N_GENES + 3)
    o.h5ad("tmp.h5ad", bigger)
    with h5py.File(o.path("tmp.h5ad"), "r") as src:
        def swap(key):
            def edit(f):
                del f[key]
                src.copy(src[key], f, key)
            return edit
        o.edit("prepared.h5ad", "ppi_wrong_shape.h5ad", swap("varp/scnet_ppi"))
        o.edit("prepared.h5ad", "distances_wrong_shape.h5ad", swap("obsp/distances"))
    os.remove(o.path("tmp.h5ad"))
    o.edit("prepared.h5ad", "ppi_empty.h5ad", set_data("varp/scnet_ppi/data", lambda d: d.__setitem__(slice(None), 0)))
    o.h5ad("single_cell.h5ad", prepared(1, N_GENES))
    o.h5ad("single_gene.h5ad", prepared(N_CELLS, 1))
    o.h5ad("empty.h5ad", ad.AnnData(sp.csr_matrix((0, 0), dtype=np.float32)))
    dup = prepared()
    dup.var_names = [dup.var_names[0]] * 2 + list(dup.var_names[2:])
    o.h5ad("dup_genes.h5ad", trained(dup))
    # coembed and propagate
    o.edit("trained.h5ad", "no_embedding.h5ad", delete("varm/scnet"))
    o.edit("trained.h5ad", "embedding_nan.h5ad", set_data("varm/scnet", lambda d: d.__setitem__(slice(None), np.nan)))
    o.edit("trained.h5ad", "embedding_short.h5ad", replace("varm/scnet", np.ones((N_GENES - 2, 8), np.float32)))
    o.edit("trained.h5ad", "no_coembed.h5ad", delete("varp/scnet_coembed"))
    o.edit("trained.h5ad", "coembed_negative.h5ad",
           set_data("varp/scnet_coembed/data", lambda d: d.__setitem__(slice(None), -1)))
    o.edit("trained.h5ad", "coembed_nan.h5ad",
           set_data("varp/scnet_coembed/data", lambda d: d.__setitem__(0, np.nan)))
    # fields every stage copies: a wrong shape, a history that is not lines
    def short_umap(f):
        d = f.create_dataset("obsm/X_umap", data=np.zeros((N_CELLS - 4, 2), np.float32))
        d.attrs["encoding-type"], d.attrs["encoding-version"] = "array", "0.2.0"
    o.edit("trained.h5ad", "umap_short.h5ad", short_umap)
    def history_dict(f):
        for p in ("uns/scnet", "uns/scnet/history"):
            g = f.require_group(p)
            g.attrs["encoding-type"], g.attrs["encoding-version"] = "dict", "0.1.0"
    o.edit("trained.h5ad", "history_dict.h5ad", history_dict)
    # fields anndata itself has no reader for: refused, not passed on
    def scalar_umap(f):
        d = f.create_dataset("obsm/X_umap", data=np.float32(1))
        d.attrs["encoding-type"], d.attrs["encoding-version"] = "array", "0.2.0"
    o.edit("trained.h5ad", "umap_scalar.h5ad", scalar_umap)
    o.edit("trained.h5ad", "embedding_future.h5ad",
           lambda f: f["varm/scnet"].attrs.__setitem__("encoding-version", "9.9.9"))
    o.edit("trained.h5ad", "cells_as_csr.h5ad",
           lambda f: f["obsm/X_scnet"].attrs.__setitem__("encoding-type", "csr_matrix"))
    o.edit("trained.h5ad", "root_no_type.h5ad", lambda f: f.attrs.__delitem__("encoding-type"))
    # ...but an awkward array, which anndata keeps in layers too, is carried
    def awkward_layer(f):
        g = f.create_group("layers/x_awk")
        g.attrs["encoding-type"], g.attrs["encoding-version"] = "awkward-array", "0.1.0"
        g.attrs["length"], g.attrs["form"] = N_CELLS, '{"class": "NumpyArray", "primitive": "float32"}'
        g["node0-data"] = np.ones(N_CELLS, np.float32)
    o.edit("trained.h5ad", "awkward_layer.h5ad", awkward_layer)
    # embeddings no correlation can be taken of
    o.edit("trained.h5ad", "embedding_constant.h5ad", set_data("varm/scnet", lambda d: d.__setitem__(slice(None), 1)))
    o.edit("trained.h5ad", "embedding_one_column.h5ad", replace("varm/scnet", np.ones((N_GENES, 1), np.float32)))
    o.h5ad("two_cells.h5ad", trained(prepared(N_CELLS, N_GENES))[:2].copy())
    # graphs with nothing to prune or walk on; a declared shape that is wrong
    def no_attention(f):
        f.copy(f["obsp/connectivities"], f["obsp"], "scnet_attention")
        n = f["obsp/scnet_attention/indptr"].shape[0]
        for k, v in (("data", np.zeros(0, np.float32)), ("indices", np.zeros(0, np.int32)),
                     ("indptr", np.zeros(n, np.int32))):
            del f["obsp/scnet_attention/" + k]
            f["obsp/scnet_attention/" + k] = v
    o.edit("trained.h5ad", "attention_empty.h5ad", no_attention)
    def attention_shape(f):
        f.copy(f["obsp/connectivities"], f["obsp"], "scnet_attention")
        f["obsp/scnet_attention"].attrs["shape"] = np.array([N_CELLS, N_GENES])
    o.edit("trained.h5ad", "attention_shape.h5ad", attention_shape)
    o.edit("trained.h5ad", "coembed_zero.h5ad",
           set_data("varp/scnet_coembed/data", lambda d: d.__setitem__(slice(None), 0)))
    other = trained(prepared(N_CELLS, N_GENES, seed=5))
    other.var_names = [f"OTHER{i}" for i in range(N_GENES)]
    o.h5ad("no_shared_genes.h5ad", other)
    # a non-UTF-8 gene name (h5py writes the bytes as they are)
    o.edit("trained.h5ad", "latin1_gene.h5ad",
           set_data("var/_index", lambda d: d.__setitem__(0, "Caf\xe9".encode("latin-1"))))
    # the layout of anndata < 0.7: obs and var as compound datasets
    def compound(f):
        for k in ("obs", "var"):
            n = N_CELLS if k == "obs" else N_GENES
            del f[k]
            f[k] = np.array([(b"x%d" % i,) for i in range(n)], dtype=[("index", "S8")])
    o.edit("prepared.h5ad", "old_layout.h5ad", compound)


def hdf5_damage(o):
    good = open(o.path("prepared.h5ad"), "rb").read()
    o.bytes("truncated.h5ad", good[: len(good) // 2])
    o.bytes("truncated_superblock.h5ad", good[:40])
    bad = bytearray(good)
    bad[24:40] = b"\xff" * 16  # superblock addresses
    o.bytes("corrupt_superblock.h5ad", bytes(bad))
    bad = bytearray(good)
    for i in range(2048, len(bad), 97):  # object headers and heaps
        bad[i] ^= 0x5A
    o.bytes("corrupt_body.h5ad", bytes(bad))
    o.bytes("empty_file.h5ad", b"")
    o.bytes("text_as.h5ad", b"gene,cell1\nA,1\n")
    o.bytes("gzip_as.h5ad", gz(b"gene,cell1\nA,1\n"))
    o.bytes("utf16_as.h5ad", "gene\tcell1\nA\t1\n".encode("utf-16"))
    with h5py.File(o.path("not_anndata.h5"), "w") as f:
        f["matrix/data"] = np.arange(3)


def text_cases(o):
    iref = gzip.open(os.path.join(DATA, "ppi/iref13_miscore_interactome.tsv.gz"), "rb").read().split(b"\n")
    ppi = b"\n".join(iref[:400]) + b"\n"
    o.bytes("ppi.tsv.gz", gz(ppi))
    z = gz(ppi)
    o.bytes("ppi_truncated.tsv.gz", z[: len(z) * 2 // 3])
    bad = bytearray(z)
    bad[len(bad) // 2] ^= 0xFF
    o.bytes("ppi_corrupt.tsv.gz", bytes(bad))
    crc = bytearray(z)
    crc[-6] ^= 0x01  # the CRC-32 of the trailer only
    o.bytes("ppi_bad_crc.tsv.gz", bytes(crc))
    # members and what may follow the last: another member is read, zeros
    # (tape padding) are let go, anything else is an error, not the end
    half = ppi.index(b"\n", len(ppi) // 2) + 1
    o.bytes("ppi_two_members.tsv.gz", gz(ppi[:half]) + gz(ppi[half:]))
    o.bytes("ppi_zero_padded.tsv.gz", z + bytes(1000))
    o.bytes("ppi_trailing.tsv.gz", z + b"GARBAGE\n")
    second = bytearray(gz(ppi[half:]))
    second[0] ^= 0xFF
    o.bytes("ppi_bad_member.tsv.gz", gz(ppi[:half]) + bytes(second))
    o.bytes("ppi_utf16.tsv", ppi[:2000].decode().encode("utf-16"))
    o.bytes("ppi_utf16.tsv.gz", gz(ppi[:2000].decode().encode("utf-16")))
    o.bytes("ppi_latin1.tsv", "Caf\xe9\tTP53\t0.5\nTP53\tMDM2\t0.9\n".encode("latin-1"))
    kegg = gzip.open(os.path.join(DATA, "genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz"),
                     "rb").read().split(b"\n")
    o.bytes("kegg_truncated.gmt.gz", gz(b"\n".join(kegg[:20]))[:300])
    o.bytes("genes_utf16.txt", "TP53\nMDM2\n".encode("utf-16"))
    o.bytes("genes_nul.txt", b"TP53\nM\0DM2\n")
    o.bytes("matrix_on_stdin.txt", b"%%MatrixMarket matrix coordinate integer general\n3 2 1\n1 1 5\n")
    o.bytes("edges_zero_weight.tsv", b"TP53\tMDM2\t0\nMDM2\tRNF14\t0\n")
    for name in sorted(os.listdir(FILES)):
        shutil.copyfile(os.path.join(FILES, name), o.path(name))


def counts_cases(o):
    """Count matrices for scnet-prep: a slice of the 10x cell-line data."""
    rows = gzip.open(os.path.join(DATA, "tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz"), "rt").read().split("\n")
    head = rows[0].split(",")[:61]          # write.csv: a leading empty field, then cells
    body = [r.split(",")[:61] for r in rows[1:301]]
    def csv(h, b):
        return ("\n".join(",".join(r) for r in [h] + b) + "\n").encode()
    good = csv(head, body)
    o.bytes("counts.csv", good)
    o.bytes("counts.csv.gz", gz(good))
    z = gz(good)
    o.bytes("counts_truncated.csv.gz", z[: len(z) // 2])
    bad = bytearray(z)
    bad[len(bad) // 3] ^= 0xFF
    o.bytes("counts_corrupt.csv.gz", bytes(bad))
    # damage zlib finds only at the check sum, after the damaged text has
    # reached the parser: a byte changed in a stored (uncompressed) block
    stored = bytearray(gzip.compress("\n".join(rows).encode(), compresslevel=0, mtime=0))
    at = stored.index(b",0,", len(stored) // 3) + 1
    stored[at] = ord(",")
    o.bytes("counts_garbled.csv.gz", bytes(stored))
    def variant(name, fn):
        b = [list(r) for r in body]
        h = list(head)
        fn(h, b)
        o.bytes(name, csv(h, b))
    variant("counts_nan.csv", lambda h, b: b[4].__setitem__(3, "NaN"))
    def low(h, b):  # counts whose expm1 fits float32
        for r in b:
            r[1:] = [str(min(int(float(v)), 50)) for v in r[1:]]
    variant("counts_low.csv", low)
    def alike(h, b):  # every cell the same
        for r in b:
            r[1:] = [r[1]] * (len(r) - 1)
    variant("counts_alike.csv", alike)
    variant("counts_inf.csv", lambda h, b: b[4].__setitem__(3, "Inf"))
    variant("counts_negative.csv", lambda h, b: b[7].__setitem__(9, "-2"))
    variant("counts_ragged.csv", lambda h, b: b[10].pop())
    variant("counts_text_value.csv", lambda h, b: b[2].__setitem__(5, "n/a"))
    variant("counts_hex_value.csv", lambda h, b: b[2].__setitem__(5, "0x10"))
    variant("counts_dup_cells.csv", lambda h, b: h.__setitem__(2, h[1]))
    variant("counts_dup_genes.csv", lambda h, b: b[1].__setitem__(0, b[0][0]))
    o.bytes("counts_latin1_cell.csv", good.replace(head[1].encode(), '"Caf\xe9"'.encode("latin-1"), 1))
    o.bytes("counts_utf16.csv", good.decode().encode("utf-16"))
    o.bytes("counts_empty.csv", b"")
    o.bytes("counts_header_only.csv", csv(head, []))
    o.bytes("counts_single_cell.csv", csv(head[:2], [r[:2] for r in body]))
    o.bytes("counts_single_gene.csv", csv(head, body[:1]))
    o.bytes("counts_all_zero.csv", csv(head, [[r[0]] + ["0"] * 60 for r in body]))
    # pandas to_csv(index=False): no row names, the first cell's counts in their place
    o.bytes("counts_no_row_names.csv", csv(head[1:], [r[1:] for r in body]))
    # 10x MatrixMarket folders
    cells = [c.strip('"') for c in head[1:]]
    genes_ = [r[0].strip('"') for r in body]
    ent = [(g + 1, c + 1, int(body[g][c + 1])) for c in range(60) for g in range(300) if body[g][c + 1] != "0"]
    def mtx(entries, dims=(300, 60), n=None, field="integer"):
        lines = ["%%%%MatrixMarket matrix coordinate %s general" % field,
                 "%d %d %d" % (dims[0], dims[1], len(entries) if n is None else n)]
        return ("\n".join(lines + ["%d %d %s" % e for e in entries]) + "\n").encode()
    feats = "".join(f"ENSG{i:011d}\t{g}\tGene Expression\n" for i, g in enumerate(genes_)).encode()
    bcs = "".join(c + "\n" for c in cells).encode()
    def folder(name, m=None, f=None, b=None, zipped=True):
        d = o.path(name)
        os.makedirs(d, exist_ok=True)
        for fn, data in (("matrix.mtx", m or mtx(ent)), ("features.tsv", f or feats), ("barcodes.tsv", b or bcs)):
            o.bytes(os.path.join(name, fn + (".gz" if zipped else "")), gz(data) if zipped else data)
    folder("mtx_good")
    folder("mtx_few_features", f=b"".join(feats.splitlines(True)[:-3]))
    folder("mtx_dup_barcodes", b=bcs.replace(cells[1].encode(), cells[0].encode()))
    folder("mtx_index_out_of_range", m=mtx(ent[:-1] + [(301, 1, 3)]))
    folder("mtx_count_mismatch", m=mtx(ent, n=len(ent) + 5))
    folder("mtx_negative", m=mtx(ent[:-1] + [(ent[-1][0], ent[-1][1], -4)]))
    folder("mtx_nan", m=mtx([(g, c, "nan" if k == 5 else v) for k, (g, c, v) in enumerate(ent)], field="real"))
    folder("mtx_dup_entry", m=mtx(ent[:-1] + [ent[0]]))
    folder("mtx_pattern", m=mtx([(g, c, "") for g, c, _ in ent], field="pattern"))
    folder("mtx_no_barcodes")
    os.remove(o.path("mtx_no_barcodes/barcodes.tsv.gz"))
    folder("mtx_twins")
    o.bytes("mtx_twins/matrix.mtx", mtx(ent[:-1]))
    folder("mtx_truncated")
    z = open(o.path("mtx_truncated/matrix.mtx.gz"), "rb").read()
    o.bytes("mtx_truncated/matrix.mtx.gz", z[: len(z) // 2])
    # Cell Ranger HDF5
    m = sp.csc_matrix((np.array([e[2] for e in ent], np.int32), ([e[0] - 1 for e in ent], [e[1] - 1 for e in ent])),
                      shape=(300, 60))
    def tenx(name, drop=None, shape=(300, 60)):
        with h5py.File(o.path(name), "w") as f:
            g = f.create_group("matrix")
            g["barcodes"] = np.array(cells, dtype="S")
            g["data"], g["indices"], g["indptr"] = m.data, m.indices.astype(np.int64), m.indptr.astype(np.int64)
            g["shape"] = np.array(shape, np.int32)
            ft = g.create_group("features")
            ft["id"] = np.array([f"ENSG{i:011d}" for i in range(300)], dtype="S")
            ft["name"] = np.array(genes_, dtype="S")
            ft["feature_type"] = np.array(["Gene Expression"] * 300, dtype="S")
            if drop:
                del f[drop]
    tenx("tenx.h5")
    tenx("tenx_no_indptr.h5", drop="matrix/indptr")
    tenx("tenx_wrong_shape.h5", shape=(310, 60))
    tenx("tenx_wrong_cells.h5", shape=(300, 50))
    z = open(o.path("tenx.h5"), "rb").read()
    o.bytes("tenx_truncated.h5", z[: len(z) // 2])
    # cell metadata
    meta = "cell,label\n" + "".join(f"{c},{'A' if i % 2 else 'B'}\n" for i, c in enumerate(cells))
    o.bytes("obs_good.csv", meta.encode())
    o.bytes("obs_unknown_cells.csv", (meta + "NOTACELL1,A\nNOTACELL2,B\n").encode())
    o.bytes("obs_no_common.csv", b"cell,label\nX1,A\nX2,B\n")
    o.bytes("obs_dup_id.csv", (meta + f"{cells[0]},A\n").encode())


def main():
    os.makedirs(sys.argv[1], exist_ok=True)
    o = Out(sys.argv[1])
    h5ad_cases(o)
    hdf5_damage(o)
    text_cases(o)
    counts_cases(o)


if __name__ == "__main__":
    main()
