"""Synthetic benchmark matrices resampled from pbmc3k (never committed).

usage: make_data.py OUT.h5ad N_CELLS [N_GENES [KEEP]]

Each synthetic cell is a pbmc3k cell drawn with replacement whose counts are
thinned binomially (each count kept with probability KEEP, default 0.8), so
that cells are distinct but keep the real data's depth, sparsity and
cell-type structure.  With N_GENES the genes detected in the most cells are
kept, in their original order.  The matrix is written in blocks, so a million
cells fit in memory.
"""
import gzip
import os
import sys

import h5py
import numpy as np
import scipy.io
import scipy.sparse as sp

DATA = os.environ.get("SCNET_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    pb = os.path.join(DATA, "pbmc3k_10x")
    m = scipy.io.mmread(os.path.join(pb, "matrix.mtx.gz")).T.tocsr().astype(np.float32)
    genes = np.array([l.strip() for l in gzip.open(os.path.join(pb, "genes.txt.gz"), "rt")], dtype=object)
    keep = float(sys.argv[4]) if len(sys.argv) > 4 else 0.8
    if len(sys.argv) > 3 and int(sys.argv[3]) > 0:
        g = int(sys.argv[3])
        order = np.argsort(-np.asarray((m > 0).sum(axis=0)).ravel(), kind="stable")[:g]
        order.sort()
        m, genes = m[:, order].tocsr(), genes[order]
    rng = np.random.default_rng(7)
    block = 50000
    with h5py.File(out + ".tmp", "w") as f:
        f.attrs["encoding-type"], f.attrs["encoding-version"] = "anndata", "0.1.0"
        X = f.create_group("X")
        X.attrs["encoding-type"], X.attrs["encoding-version"] = "csr_matrix", "0.1.0"
        X.attrs["shape"] = (n, m.shape[1])
        data = X.create_dataset("data", (0,), dtype=np.float32, maxshape=(None,), chunks=(1 << 20,))
        ind = X.create_dataset("indices", (0,), dtype=np.int32, maxshape=(None,), chunks=(1 << 20,))
        ptr = [0]
        for b0 in range(0, n, block):
            rows = rng.integers(0, m.shape[0], min(block, n - b0))
            s = m[rows].tocsr()
            v = rng.binomial(s.data.astype(np.int64), keep).astype(np.float32)
            s = sp.csr_matrix((v, s.indices, s.indptr), shape=s.shape)
            s.eliminate_zeros()
            k = data.shape[0]
            data.resize((k + s.nnz,))
            ind.resize((k + s.nnz,))
            data[k:], ind[k:] = s.data, s.indices
            ptr.extend((s.indptr[1:] + ptr[-1]).tolist())
        X.create_dataset("indptr", data=np.array(ptr, dtype=np.int64))
        str_t = h5py.string_dtype()
        for name, index in (("obs", np.array([f"cell{i}" for i in range(n)], dtype=object)), ("var", genes)):
            g = f.create_group(name)
            g.attrs["encoding-type"], g.attrs["encoding-version"] = "dataframe", "0.2.0"
            g.attrs["_index"], g.attrs["column-order"] = "_index", np.array([], dtype=str_t)
            d = g.create_dataset("_index", data=index, dtype=str_t)
            d.attrs["encoding-type"], d.attrs["encoding-version"] = "string-array", "0.2.0"
        for name in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            g = f.create_group(name)
            g.attrs["encoding-type"], g.attrs["encoding-version"] = "dict", "0.1.0"
    os.replace(out + ".tmp", out)
    print(f"{out}: {n} cells x {m.shape[1]} genes, {ptr[-1]} non-zeros", file=sys.stderr)


if __name__ == "__main__":
    main()
