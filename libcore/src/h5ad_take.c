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

/* ---- sparse ---- */

/* The three arrays of a compressed matrix: indptr over major, indices in
 * [0, minor), data as stored (element size es, memory type mt); file types
 * kept for writing back. */
typedef struct {
    int64_t major, minor, nnz, *ip, *ix;
    char *data;
    size_t es;
    hid_t ft[3], mt;
} sp_arrays;

static void sp_init(sp_arrays *a)
{
    memset(a, 0, sizeof *a);
    a->ft[0] = a->ft[1] = a->ft[2] = a->mt = H5I_INVALID_HID;
}

static void sp_free(sp_arrays *a)
{
    free(a->ip);
    free(a->ix);
    free(a->data);
    for (int k = 0; k < 3; k++)
        sn_h5x_close(a->ft[k]);
    sn_h5x_close(a->mt);
    sp_init(a);
}

/* Lengths agree with the shape, before anything is read. */
static int sp_lengths(const sp_arrays *a, const char *name, const int64_t *len)
{
    if (len[0] != a->major + 1)
        return sn_err(SN_EFMT, "%s: indptr has %lld entries, expected %lld", name, (long long)len[0],
                      (long long)(a->major + 1));
    if (len[2] != len[1])
        return sn_err(SN_EFMT, "%s: data has %lld values but indices has %lld", name, (long long)len[2],
                      (long long)len[1]);
    return SN_OK;
}

static int sp_indices(const sp_arrays *a, const char *name, int csc)
{
    SN_TRY(sn_h5x_check_indptr(a->ip, a->major, a->nnz, name, csc ? "column" : "row"));
    for (int64_t k = 0; k < a->nnz; k++)
        if (a->ix[k] < 0 || a->ix[k] >= a->minor)
            return sn_err(SN_EFMT, "%s: index %lld out of range [0, %lld)", name, (long long)a->ix[k],
                          (long long)a->minor);
    return SN_OK;
}

static int sp_read(hid_t g, const char *name, int csc, sp_arrays *a)
{
    static const char *const child[3] = {"indptr", "indices", "data"};
    hid_t ds[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    int64_t len[3] = {0}, nrow, ncol;
    int rc = sn_h5x_sparse_shape(g, name, &nrow, &ncol);
    a->major = csc ? ncol : nrow;
    a->minor = csc ? nrow : ncol;
    for (int k = 0; rc == SN_OK && k < 3; k++)
        if ((rc = sn_h5x_sparse_child(g, child[k], name, k < 2, &ds[k], &len[k])) == SN_OK)
            a->ft[k] = H5Dget_type(ds[k]);
    a->nnz = len[1];
    if (rc == SN_OK)
        rc = sp_lengths(a, name, len);
    if (rc == SN_OK && (a->mt = H5Tget_native_type(a->ft[2], H5T_DIR_ASCEND)) < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot read the type of its data");
    if (rc == SN_OK)
        rc = sn_h5x_read_num_new(ds[0], name, SN_H5X_I64, (size_t)len[0], "a sparse matrix", (void **)&a->ip);
    if (rc == SN_OK)
        rc = sn_h5x_read_num_new(ds[1], name, SN_H5X_I64, (size_t)len[1], "a sparse matrix", (void **)&a->ix);
    if (rc == SN_OK)
        rc = sp_indices(a, name, csc);
    a->es = rc == SN_OK ? H5Tget_size(a->mt) : 1;
    if (rc == SN_OK && !(a->data = sn_malloc(sn_mul_size((size_t)a->nnz, a->es) + 1, "a sparse matrix")))
        rc = SN_ENOMEM;
    if (rc == SN_OK && a->nnz > 0 && H5Dread(ds[2], a->mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot read 'data'");
    for (int k = 0; k < 3; k++)
        sn_h5x_close(ds[k]);
    return rc;
}

/* b: the majors msel (NULL: all) of a, with minor indices through map
 * (-1: dropped; ascending where kept, so rows stay sorted). */
static int sp_select(const sp_arrays *a, const int64_t *msel, int64_t nm, const int64_t *map, int64_t minor,
                     sp_arrays *b)
{
    b->major = msel ? nm : a->major;
    b->minor = minor;
    b->es = a->es;
    if (!(b->ip = sn_malloc(((size_t)b->major + 1) * sizeof *b->ip, "a sparse matrix")))
        return SN_ENOMEM;
    b->ip[0] = 0;
    for (int64_t i = 0; i < b->major; i++) {
        int64_t r = msel ? msel[i] : i, n = 0;
        for (int64_t k = a->ip[r]; k < a->ip[r + 1]; k++)
            n += map[a->ix[k]] >= 0;
        b->ip[i + 1] = b->ip[i] + n;
    }
    b->nnz = b->ip[b->major];
    b->ix = sn_malloc(sn_mul_size((size_t)b->nnz, sizeof *b->ix) + 1, "a sparse matrix");
    b->data = sn_malloc(sn_mul_size((size_t)b->nnz, b->es) + 1, "a sparse matrix");
    if (!b->ix || !b->data)
        return SN_ENOMEM;
    int64_t p = 0;
    for (int64_t i = 0; i < b->major; i++) {
        int64_t r = msel ? msel[i] : i;
        for (int64_t k = a->ip[r]; k < a->ip[r + 1]; k++)
            if (map[a->ix[k]] >= 0) {
                b->ix[p] = map[a->ix[k]];
                memcpy(b->data + (size_t)p++ * b->es, a->data + (size_t)k * a->es, a->es);
            }
    }
    return SN_OK;
}

static int sp_write(hid_t src, const sp_arrays *a, const sp_arrays *b, int csc, hid_t loc, const char *dst,
                    int comp)
{
    hid_t g;
    int64_t shape[2] = {csc ? b->minor : b->major, csc ? b->major : b->minor}, len[2] = {b->major + 1, b->nnz};
    SN_TRY(sn_h5x_group(loc, dst, NULL, NULL, &g));
    int rc = sn_h5x_copy_attrs(src, g);
    if (rc == SN_OK)
        rc = sn_h5x_set_attr_i64s(g, "shape", shape, 2);
    if (rc == SN_OK)
        rc = sn_h5x_write(g, "indptr", a->ft[0], H5T_NATIVE_INT64, 1, &len[0], b->ip, comp, NULL, NULL);
    if (rc == SN_OK)
        rc = sn_h5x_write(g, "indices", a->ft[1], H5T_NATIVE_INT64, 1, &len[1], b->ix, comp, NULL, NULL);
    if (rc == SN_OK)
        rc = sn_h5x_write(g, "data", a->ft[2], a->mt, 1, &len[1], b->data, comp, NULL, NULL);
    sn_h5x_close(g);
    return rc;
}

static int take_sparse(hid_t g, const char *name, int csc, hid_t loc, const char *dst, const int64_t *rows,
                       int64_t nr, const int64_t *cols, int64_t nc, int comp)
{
    sp_arrays a, b;
    sp_init(&a);
    sp_init(&b);
    int rc = sp_read(g, name, csc, &a);
    if (rc == SN_OK)
        rc = in_range(rows, nr, csc ? a.minor : a.major, name, "row");
    if (rc == SN_OK)
        rc = in_range(cols, nc, csc ? a.major : a.minor, name, "column");
    const int64_t *msel = csc ? cols : rows, *nsel = csc ? rows : cols;
    int64_t nm = csc ? nc : nr, nn = csc ? nr : nc;
    int64_t *map = rc == SN_OK ? sn_malloc(((size_t)a.minor + 1) * sizeof *map, "a sparse matrix") : NULL;
    if (rc == SN_OK && !map)
        rc = SN_ENOMEM;
    for (int64_t j = 0; map && j < a.minor; j++)
        map[j] = nsel ? -1 : j;
    for (int64_t j = 0; map && nsel && j < nn; j++)
        map[nsel[j]] = j;
    if (rc == SN_OK && (rc = sp_select(&a, msel, nm, map, nsel ? nn : a.minor, &b)) == SN_OK)
        rc = sp_write(g, &a, &b, csc, loc, dst, comp);
    free(map);
    sp_free(&a);
    sp_free(&b);
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
