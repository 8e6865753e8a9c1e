/* Rows and columns of a matrix element taken as they are stored: its
 * element type, layout (dense of any rank, CSR, CSC) and attributes stay,
 * where reading through sn_csr or sn_mat would make them float32 CSR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

/* ---- dense ---- */

/* Every index of sel (n of them, NULL: none) below len: the caller's
 * indices come from its own shapes, this keeps an element of another
 * shape from being read out of bounds. */
static int in_range(const int64_t *sel, int64_t n, int64_t len, const char *name, const char *axis)
{
    for (int64_t i = 0; sel && i < n; i++)
        if (sel[i] < 0 || sel[i] >= len)
            return sn_err(SN_EFMT, "%s: has %lld %ss, a subset asks for %s %lld", name, (long long)len, axis,
                          axis, (long long)sel[i]);
    return SN_OK;
}

/* out[i, j] = in[rows[i], cols[j]] (NULL: all) for an in of d0 x d1
 * blocks of block bytes (a block: one element of dims[2..]). */
static void take_copy(const char *in, char *out, int64_t d1, const int64_t *rows, int64_t nr, const int64_t *cols,
                      int64_t nc, size_t block)
{
    for (int64_t i = 0; i < nr; i++) {
        int64_t r = rows ? rows[i] : i;
        for (int64_t j = 0; j < nc; j++) {
            int64_t c = cols ? cols[j] : j;
            memcpy(out + (size_t)(i * nc + j) * block, in + (size_t)(r * d1 + c) * block, block);
        }
    }
}

/* The whole of ds (memory type mt, the native form of its own, so any
 * element type moves unconverted) and the rows and columns taken from it;
 * d becomes the taken shape.  Variable-length strings in *out point into
 * *all, which the caller reclaims. */
static int take_read(hid_t ds, const char *name, hid_t mt, int rank, int64_t *d, const int64_t *rows, int64_t nr,
                     const int64_t *cols, int64_t nc, void **all, void **out)
{
    int64_t d1 = rank > 1 ? d[1] : 1, total = 1, onr = rows ? nr : d[0], onc = cols ? nc : d1;
    size_t es = H5Tget_size(mt), block = es;
    for (int k = 0; k < rank; k++)
        total *= d[k];
    for (int k = 2; k < rank; k++)
        block *= (size_t)d[k];
    *all = sn_malloc(sn_mul_size((size_t)total, es) + 1, "an array");
    *out = sn_malloc(sn_mul_size(sn_mul_size((size_t)onr, (size_t)onc), block) + 1, "an array");
    if (!*all || !*out)
        return SN_ENOMEM;
    if (total > 0 && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *all) < 0) {
        free(*all);
        *all = NULL; /* nothing to reclaim */
        return sn_h5x_fail(SN_EIO, name, "cannot read");
    }
    take_copy(*all, *out, d1, rows, onr, cols, onc, block);
    d[0] = onr;
    if (rank > 1)
        d[1] = onc;
    return SN_OK;
}

static int take_write(hid_t ds, hid_t ft, hid_t mt, int rank, const int64_t *d, const void *buf, hid_t loc,
                      const char *dst, int comp)
{
    hid_t o;
    SN_TRY(sn_h5x_create(loc, dst, ft, rank, d, comp, &o));
    int64_t total = 1;
    for (int k = 0; k < rank; k++)
        total *= d[k];
    int rc = SN_OK;
    if (total > 0 && H5Dwrite(o, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        char name[SN_H5X_NAME];
        rc = sn_h5x_fail(SN_EIO, sn_h5x_name(loc, dst, name, sizeof name), "cannot write (disk full?)");
    }
    if (rc == SN_OK)
        rc = sn_h5x_copy_attrs(ds, o);
    sn_h5x_close(o);
    return rc;
}

/* A dense array ds (opened as name): any rank from 1, any element type. */
static int take_dense(hid_t ds, const char *name, hid_t loc, const char *dst, const int64_t *rows, int64_t nr,
                      const int64_t *cols, int64_t nc, int comp)
{
    hid_t ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    int rank = 0;
    int64_t d[8];
    SN_TRY(sn_h5x_dims(ds, name, &rank, d, 8));
    if (rank < 1 || (cols && rank != 2))
        return sn_err(SN_EFMT, "%s: expected a %s array, found %s", name, cols ? "2-D" : "1-D or wider",
                      rank ? "more dimensions" : "a scalar");
    SN_TRY(in_range(rows, nr, d[0], name, "row"));
    SN_TRY(in_range(cols, nc, cols ? d[1] : 0, name, "column"));
    int rc = SN_OK;
    if ((ft = H5Dget_type(ds)) < 0 || (mt = H5Tget_native_type(ft, H5T_DIR_ASCEND)) < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot read its element type");
    void *all = NULL, *buf = NULL;
    int64_t d0[8];
    memcpy(d0, d, sizeof d);
    if (rc == SN_OK && (rc = take_read(ds, name, mt, rank, d, rows, nr, cols, nc, &all, &buf)) == SN_OK)
        rc = take_write(ds, ft, mt, rank, d, buf, loc, dst, comp);
    if (all && (H5Tis_variable_str(mt) > 0 || H5Tdetect_class(mt, H5T_VLEN) > 0)) {
        hsize_t hd[8];
        for (int k = 0; k < rank; k++)
            hd[k] = (hsize_t)d0[k];
        hid_t sp = H5Screate_simple(rank, hd, NULL);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, all);
        sn_h5x_close(sp);
    }
    free(all);
    free(buf);
    sn_h5x_close(mt);
    sn_h5x_close(ft);
    return rc;
}

/* ---- compressed sparse (CSR, CSC) ---- */

/* Entries read at once: a matrix of any size is cut in spans of rows
 * (columns for CSC) that hold about this many, so the memory needed is
 * the index pointers and a few spans, not the matrix. */
enum { SPAN = 1 << 20 };

/* One cut: the source's arrays (open; indptr read), the majors kept (msel,
 * NULL: all), minor indices through map (-1: dropped), and span buffers. */
typedef struct {
    const char *name;
    int64_t major, minor, nnz, *ip;
    hid_t ds[3], ft[3], mt; /* indptr, indices, data */
    size_t es;
    const int64_t *msel;
    int64_t nm, *map, nminor, cap;
    int all_minor;
    int64_t *op;          /* the cut's indptr, nm + 1 */
    int64_t *ix, *oix;    /* a span's indices, read and kept */
    char *val, *oval;     /* and its values */
} sp_cut;

static void sp_free(sp_cut *c)
{
    free(c->ip);
    free(c->map);
    free(c->op);
    free(c->ix);
    free(c->oix);
    free(c->val);
    free(c->oval);
    for (int k = 0; k < 3; k++) {
        sn_h5x_close(c->ds[k]);
        sn_h5x_close(c->ft[k]);
    }
    sn_h5x_close(c->mt);
}

static int64_t sp_src(const sp_cut *c, int64_t i) { return c->msel ? c->msel[i] : i; }

static int sp_open(hid_t g, const char *name, int csc, sp_cut *c)
{
    static const char *const child[3] = {"indptr", "indices", "data"};
    int64_t len[3] = {0}, nrow, ncol;
    int rc = sn_h5x_sparse_shape(g, name, &nrow, &ncol);
    c->major = csc ? ncol : nrow;
    c->minor = csc ? nrow : ncol;
    for (int k = 0; rc == SN_OK && k < 3; k++)
        if ((rc = sn_h5x_sparse_child(g, child[k], name, k < 2, &c->ds[k], &len[k])) == SN_OK)
            c->ft[k] = H5Dget_type(c->ds[k]);
    c->nnz = len[1];
    if (rc == SN_OK && len[0] != c->major + 1)
        rc = sn_err(SN_EFMT, "%s: indptr has %lld entries, expected %lld", name, (long long)len[0],
                    (long long)(c->major + 1));
    if (rc == SN_OK && len[2] != len[1])
        rc = sn_err(SN_EFMT, "%s: data has %lld values but indices has %lld", name, (long long)len[2],
                    (long long)len[1]);
    if (rc == SN_OK && (c->mt = H5Tget_native_type(c->ft[2], H5T_DIR_ASCEND)) < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot read the type of its data");
    c->es = rc == SN_OK ? H5Tget_size(c->mt) : 1;
    if (rc == SN_OK)
        rc = sn_h5x_read_num_new(c->ds[0], name, SN_H5X_I64, (size_t)len[0], "a sparse matrix", (void **)&c->ip);
    if (rc == SN_OK)
        rc = sn_h5x_check_indptr(c->ip, c->major, c->nnz, name, csc ? "column" : "row");
    return rc;
}

/* The minor map and the span buffers, wide enough for the longest major
 * kept. */
static int sp_plan(sp_cut *c, const int64_t *nsel, int64_t nn)
{
    c->all_minor = !nsel;
    c->nminor = nsel ? nn : c->minor;
    if (!(c->map = sn_malloc(((size_t)c->minor + 1) * sizeof *c->map, "a sparse matrix")) ||
        !(c->op = sn_calloc((size_t)c->nm + 1, sizeof *c->op, "a sparse matrix")))
        return SN_ENOMEM;
    for (int64_t j = 0; j < c->minor; j++)
        c->map[j] = nsel ? -1 : j;
    for (int64_t j = 0; nsel && j < nn; j++)
        c->map[nsel[j]] = j;
    c->cap = c->nnz < SPAN ? c->nnz : SPAN;
    for (int64_t i = 0; i < c->nm; i++) {
        int64_t r = sp_src(c, i);
        if (c->ip[r + 1] - c->ip[r] > c->cap)
            c->cap = c->ip[r + 1] - c->ip[r];
    }
    size_t n = (size_t)c->cap + 1;
    c->ix = sn_malloc(n * sizeof *c->ix, "a sparse matrix");
    c->oix = sn_malloc(n * sizeof *c->oix, "a sparse matrix");
    c->val = sn_malloc(sn_mul_size(n, c->es), "a sparse matrix");
    c->oval = sn_malloc(sn_mul_size(n, c->es), "a sparse matrix");
    return c->ix && c->oix && c->val && c->oval ? SN_OK : SN_ENOMEM;
}

/* The end of the run of kept majors from i whose sources ascend and lie
 * within one span of the source. */
static int64_t sp_run(const sp_cut *c, int64_t i)
{
    int64_t lo = c->ip[sp_src(c, i)], j = i + 1;
    while (j < c->nm && sp_src(c, j) > sp_src(c, j - 1) && c->ip[sp_src(c, j) + 1] - lo <= c->cap)
        j++;
    return j;
}

/* Entries [lo, hi) of the source: indices (checked) and, with vals, data. */
static int sp_read_span(sp_cut *c, int64_t lo, int64_t hi, int vals)
{
    hsize_t o = (hsize_t)lo, n = (hsize_t)(hi - lo);
    if (n == 0)
        return SN_OK;
    if (sn_h5x_read_slab(c->ds[1], H5T_NATIVE_INT64, 1, &o, &n, c->ix) < 0)
        return sn_h5x_fail(SN_EFMT, c->name, "cannot read 'indices'");
    for (int64_t k = 0; k < hi - lo; k++)
        if (c->ix[k] < 0 || c->ix[k] >= c->minor)
            return sn_err(SN_EFMT, "%s: index %lld out of range [0, %lld)", c->name, (long long)c->ix[k],
                          (long long)c->minor);
    if (vals && sn_h5x_read_slab(c->ds[2], c->mt, 1, &o, &n, c->val) < 0)
        return sn_h5x_fail(SN_EFMT, c->name, "cannot read 'data'");
    return SN_OK;
}

/* The cut's indptr: each kept major's entries whose minor is kept. */
static int sp_count(sp_cut *c)
{
    for (int64_t i = 0, j; i < c->nm; i = j) {
        j = sp_run(c, i);
        int64_t lo = c->ip[sp_src(c, i)];
        if (!c->all_minor)
            SN_TRY(sp_read_span(c, lo, c->ip[sp_src(c, j - 1) + 1], 0));
        for (int64_t t = i; t < j; t++) {
            int64_t r = sp_src(c, t), n = c->ip[r + 1] - c->ip[r];
            if (!c->all_minor) {
                n = 0;
                for (int64_t k = c->ip[r] - lo; k < c->ip[r + 1] - lo; k++)
                    n += c->map[c->ix[k]] >= 0;
            }
            c->op[t + 1] = c->op[t] + n;
        }
    }
    return SN_OK;
}

/* The kept entries of the runs, written where the cut's indptr puts them. */
static int sp_copy(sp_cut *c, hid_t di, hid_t dd, const char *out)
{
    for (int64_t i = 0, j; i < c->nm; i = j) {
        j = sp_run(c, i);
        int64_t lo = c->ip[sp_src(c, i)], p = 0;
        SN_TRY(sp_read_span(c, lo, c->ip[sp_src(c, j - 1) + 1], 1));
        for (int64_t t = i; t < j; t++) {
            int64_t r = sp_src(c, t);
            for (int64_t k = c->ip[r] - lo; k < c->ip[r + 1] - lo; k++)
                if (c->map[c->ix[k]] >= 0) {
                    c->oix[p] = c->map[c->ix[k]];
                    memcpy(c->oval + (size_t)p++ * c->es, c->val + (size_t)k * c->es, c->es);
                }
        }
        hsize_t o = (hsize_t)c->op[i], n = (hsize_t)p;
        if (p && (sn_h5x_write_slab(di, H5T_NATIVE_INT64, 1, &o, &n, c->oix) < 0 ||
                  sn_h5x_write_slab(dd, c->mt, 1, &o, &n, c->oval) < 0))
            return sn_h5x_fail(SN_EIO, out, "cannot write (disk full?)");
    }
    return SN_OK;
}

static int sp_write(hid_t src, sp_cut *c, int csc, hid_t loc, const char *dst, int comp)
{
    hid_t g, di = H5I_INVALID_HID, dd = H5I_INVALID_HID;
    int64_t shape[2] = {csc ? c->nminor : c->nm, csc ? c->nm : c->nminor}, len[2] = {c->nm + 1, c->op[c->nm]};
    char out[SN_H5X_NAME];
    SN_TRY(sn_h5x_group(loc, dst, NULL, NULL, &g));
    sn_h5x_name(loc, dst, out, sizeof out);
    int rc = sn_h5x_copy_attrs(src, g);
    if (rc == SN_OK)
        rc = sn_h5x_set_attr_i64s(g, "shape", shape, 2);
    if (rc == SN_OK)
        rc = sn_h5x_write(g, "indptr", c->ft[0], H5T_NATIVE_INT64, 1, &len[0], c->op, comp, NULL, NULL);
    if (rc == SN_OK)
        rc = sn_h5x_create(g, "indices", c->ft[1], 1, &len[1], comp, &di);
    if (rc == SN_OK)
        rc = sn_h5x_create(g, "data", c->ft[2], 1, &len[1], comp, &dd);
    if (rc == SN_OK)
        rc = sp_copy(c, di, dd, out);
    sn_h5x_close(di);
    sn_h5x_close(dd);
    sn_h5x_close(g);
    return rc;
}

static int take_sparse(hid_t g, const char *name, int csc, hid_t loc, const char *dst, const int64_t *rows,
                       int64_t nr, const int64_t *cols, int64_t nc, int comp)
{
    sp_cut c;
    memset(&c, 0, sizeof c);
    c.name = name;
    for (int k = 0; k < 3; k++)
        c.ds[k] = c.ft[k] = H5I_INVALID_HID;
    c.mt = H5I_INVALID_HID;
    int rc = sp_open(g, name, csc, &c);
    if (rc == SN_OK)
        rc = in_range(rows, nr, csc ? c.minor : c.major, name, "row");
    if (rc == SN_OK)
        rc = in_range(cols, nc, csc ? c.major : c.minor, name, "column");
    const int64_t *nsel = csc ? rows : cols;
    c.msel = csc ? cols : rows;
    c.nm = c.msel ? (csc ? nc : nr) : c.major;
    if (rc == SN_OK)
        rc = sp_plan(&c, nsel, csc ? nr : nc);
    if (rc == SN_OK)
        rc = sp_count(&c);
    if (rc == SN_OK)
        rc = sp_write(g, &c, csc, loc, dst, comp);
    sp_free(&c);
    return rc;
}

int sn_h5ad_take(hid_t in, const char *path, hid_t loc, const char *dst, const int64_t *rows, int64_t nr,
                 const int64_t *cols, int64_t nc, int comp)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    int rc = sn_h5x_open(in, path, name, &o, enc, sizeof enc);
    if (rc < 0)
        return rc;
    int grp = H5Iget_type(o) == H5I_GROUP;
    if (grp && (strcmp(enc, "csr_matrix") == 0 || strcmp(enc, "csc_matrix") == 0))
        rc = take_sparse(o, name, enc[2] == 'c', loc, dst, rows, nr, cols, nc, comp);
    else if (!grp)
        rc = take_dense(o, name, loc, dst, rows, nr, cols, nc, comp);
    else
        rc = sn_err(SN_EFMT, "%s: expected a matrix, found %s", name, enc[0] ? enc : "a group");
    sn_h5x_close(o);
    return rc;
}
