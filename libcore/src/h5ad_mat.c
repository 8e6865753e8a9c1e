/* .h5ad matrices: csr_matrix / csc_matrix groups and dense arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

static int is_sparse(const char *enc)
{
    return strcmp(enc, "csr_matrix") == 0 || strcmp(enc, "csc_matrix") == 0;
}

/* Child dataset of a sparse group: 1-D, integer when want_int. */
int sn_h5x_sparse_child(hid_t g, const char *child, const char *name, int want_int, hid_t *ds, int64_t *len)
{
    int rank = 0;
    int64_t d[H5S_MAX_RANK];
    *ds = H5I_INVALID_HID;
    if (sn_h5x_kind(g, child) != H5O_TYPE_DATASET)
        return sn_err(SN_EFMT, "%s: sparse matrix without a '%s' dataset", name, child);
    if ((*ds = H5Dopen2(g, child, H5P_DEFAULT)) < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot open the sparse matrix");
    SN_TRY(sn_h5x_dims(*ds, name, &rank, d, H5S_MAX_RANK));
    if (rank != 1)
        return sn_err(SN_EFMT, "%s: '%s' should be 1-D, has %d dimensions", name, child, rank);
    *len = d[0];
    hid_t t = H5Dget_type(*ds);
    char dt[32];
    int ok = !want_int || H5Tget_class(t) == H5T_INTEGER;
    sn_h5x_dtype(t, dt, sizeof dt);
    H5Tclose(t);
    if (!ok)
        return sn_err(SN_EFMT, "%s: '%s' should hold integers, found %s", name, child, dt);
    return SN_OK;
}

int sn_h5x_check_indptr(const int64_t *p, int64_t major, int64_t nnz, const char *name, const char *unit)
{
    if (p[0] != 0)
        return sn_err(SN_EFMT, "%s: indptr starts at %lld, expected 0", name, (long long)p[0]);
    for (int64_t i = 0; i < major; i++)
        if (p[i + 1] < p[i] || p[i + 1] > nnz)
            return sn_err(SN_EFMT, "%s: indptr is not increasing within [0, %lld] at %s %lld", name,
                          (long long)nnz, unit, (long long)i);
    if (p[major] != nnz)
        return sn_err(SN_EFMT, "%s: indptr ends at %lld but there are %lld stored values", name,
                      (long long)p[major], (long long)nnz);
    return SN_OK;
}

static int index_error(const char *name, const sn_csr *m, int csc, int64_t value, int64_t k)
{
    return sn_err(SN_EFMT, "%s: %s index %lld out of range [0, %lld) in %s %lld", name, csc ? "row" : "column",
                  (long long)value, (long long)m->ncol, csc ? "column" : "row",
                  (long long)sn_indptr_row(m->indptr, m->nrow, k));
}

/* The first of rows [0, nrow) of m (their indptr already checked) with an
 * index out of range, or -1; *sorted = 0 when one of them is unsorted.
 * With colmap, in the same pass, kept[i + 1] = how many of row i's
 * entries (in range) colmap keeps.  Rows are checked in parallel; the
 * minimum keeps the message that of the first bad row. */
static int64_t bad_row(const sn_csr *m, int64_t nrow, int *sorted, const int64_t *colmap, int64_t *kept)
{
    int64_t bad = INT64_MAX;
    int ok = 1;
#pragma omp parallel for schedule(static) reduction(min : bad) reduction(&& : ok)
    for (int64_t i = 0; i < nrow; i++) {
        int64_t c = 0;
        for (int64_t k = m->indptr[i]; k < m->indptr[i + 1]; k++) {
            int32_t j = m->indices[k];
            int in = j >= 0 && j < m->ncol;
            bad = !in && i < bad ? i : bad;
            ok = ok && !(k > m->indptr[i] && j <= m->indices[k - 1]);
            if (colmap)
                c += in && colmap[j] >= 0;
        }
        if (colmap)
            kept[i + 1] = c;
    }
    *sorted = ok;
    return bad < INT64_MAX ? bad : -1;
}

/* The first entry of row r (from bad_row) whose index is out of range. */
static int64_t bad_entry(const sn_csr *m, int64_t r)
{
    int64_t k = m->indptr[r];
    while (k < m->indptr[r + 1] - 1 && m->indices[k] >= 0 && m->indices[k] < m->ncol)
        k++;
    return k;
}

/* 1 when the dataset stores signed 32-bit integers (read without conversion). */
static int stored_i32(hid_t ds)
{
    hid_t t = H5Dget_type(ds);
    int yes = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 4 && H5Tget_sign(t) == H5T_SGN_2;
    if (t >= 0)
        H5Tclose(t);
    return yes;
}

/* Indices of any integer type.  Signed 32-bit ones are read as they are and
 * checked in parallel a row at a time, *sorted set to whether every row is
 * strictly ascending; others are read in blocks through int64, so that
 * values outside int32 are reported as they are, not clamped (*sorted 0:
 * not known). */
static int read_indices(hid_t ds, const char *name, const sn_csr *m, int csc, int *sorted)
{
    enum { BLOCK = 1 << 20 };
    int64_t nnz = sn_csr_nnz(m), nb = nnz < BLOCK ? nnz : BLOCK;
    *sorted = 0;
    if (stored_i32(ds)) {
        hsize_t o = 0, c = (hsize_t)nnz;
        int direct = sn_h5x_read_direct(ds, H5T_NATIVE_INT32, nnz, m->indices, name);
        if (direct < 0)
            return direct;
        if (!direct && nnz > 0 && sn_h5x_read_slab(ds, H5T_NATIVE_INT32, 1, &o, &c, m->indices) < 0)
            return sn_h5x_fail(SN_EFMT, name, "cannot read 'indices'");
        int64_t r = bad_row(m, m->nrow, sorted, NULL, NULL), k = r >= 0 ? bad_entry(m, r) : 0;
        return r < 0 ? SN_OK : index_error(name, m, csc, m->indices[k], k);
    }
    int64_t *buf = sn_malloc(sn_mul_size((size_t)nb, sizeof *buf), "sparse indices");
    int rc = buf ? SN_OK : SN_ENOMEM;
    for (int64_t off = 0; rc == SN_OK && off < nnz; off += BLOCK) {
        hsize_t o = (hsize_t)off, c = (hsize_t)(nnz - off < BLOCK ? nnz - off : BLOCK);
        if (sn_h5x_read_slab(ds, H5T_NATIVE_INT64, 1, &o, &c, buf) < 0)
            rc = sn_h5x_fail(SN_EFMT, name, "cannot read 'indices'");
        for (int64_t k = 0; rc == SN_OK && k < (int64_t)c; k++) {
            if (buf[k] < 0 || buf[k] >= m->ncol)
                rc = index_error(name, m, csc, buf[k], off + k);
            m->indices[off + k] = (int32_t)buf[k];
        }
    }
    free(buf);
    return rc;
}

/* Read the three arrays as a CSR of the major axis (rows of a CSR, columns
 * of a CSC) after checking that their lengths agree with the shape. */
static int read_compressed(hid_t g, const char *name, int64_t major, int64_t minor, int csc, sn_csr *m,
                           int *sorted)
{
    hid_t ip = H5I_INVALID_HID, ix = H5I_INVALID_HID, dt = H5I_INVALID_HID;
    int64_t nip = 0, nix = 0, ndt = 0;
    int rc = SN_OK;
    const char *unit = csc ? "column" : "row";
    SN_CHECK(sn_h5x_sparse_child(g, "indptr", name, 1, &ip, &nip));
    SN_CHECK(sn_h5x_sparse_child(g, "indices", name, 1, &ix, &nix));
    SN_CHECK(sn_h5x_sparse_child(g, "data", name, 0, &dt, &ndt));
    if (nip != major + 1)
        SN_CHECK(sn_err(SN_EFMT, "%s: indptr has %lld entries, expected %lld (%ss + 1 for shape %lld x %lld)", name,
                        (long long)nip, (long long)(major + 1), unit, (long long)(csc ? minor : major),
                        (long long)(csc ? major : minor)));
    if (ndt != nix)
        SN_CHECK(sn_err(SN_EFMT, "%s: data has %lld values but indices has %lld", name, (long long)ndt,
                        (long long)nix));
    if (minor > INT32_MAX)
        SN_CHECK(sn_err(SN_EFMT, "%s: %lld %ss is more than this program supports (2^31 - 1)", name,
                        (long long)minor, csc ? "row" : "column"));
    SN_CHECK(sn_csr_alloc(m, major, minor, nix));
    SN_CHECK(sn_h5x_read_num(ip, name, SN_H5X_I64, m->indptr));
    SN_CHECK(sn_h5x_check_indptr(m->indptr, major, nix, name, unit));
    SN_CHECK(read_indices(ix, name, m, csc, sorted));
    SN_CHECK(sn_h5x_read_num(dt, name, SN_H5X_F32, m->data));
out:
    sn_h5x_close(ip);
    sn_h5x_close(ix);
    sn_h5x_close(dt);
    if (rc < 0)
        sn_csr_free(m);
    return rc;
}

static int read_sparse(hid_t g, const char *name, int csc, sn_csr *m)
{
    int64_t nrow, ncol;
    sn_csr c = {0};
    SN_TRY(sn_h5x_sparse_shape(g, name, &nrow, &ncol));
    int sorted, rc = SN_OK;
    SN_TRY(read_compressed(g, name, csc ? ncol : nrow, csc ? nrow : ncol, csc, csc ? &c : m, &sorted));
    if (csc) {
        rc = sn_csr_transpose(&c, m);
        sn_csr_free(&c);
        SN_TRY(rc);
    }
    /* Transposing sorts rows; sorting also finds repeated entries (none in
     * rows read strictly ascending). */
    if ((csc || !sorted) && (rc = sn_csr_sort_rows(m)) < 0) {
        sn_csr_free(m);
        return sn_err_prefix(rc, "%s: ", name);
    }
    return SN_OK;
}

/* A 2-D dataset, converted to want, into a new buffer. */
static int read_dense(hid_t ds, const char *name, sn_h5x_num want, int64_t *nrow, int64_t *ncol, void **buf)
{
    int rank = 0;
    int64_t d[H5S_MAX_RANK];
    *buf = NULL;
    SN_TRY(sn_h5x_dims(ds, name, &rank, d, H5S_MAX_RANK));
    if (rank != 2)
        return sn_err(SN_EFMT, "%s: expected a 2-D matrix, found a %d-D array", name, rank);
    SN_TRY(sn_h5x_read_num_new(ds, name, want, sn_mul_size((size_t)d[0], (size_t)d[1]), "a dense matrix", buf));
    *nrow = d[0];
    *ncol = d[1];
    return SN_OK;
}

static int dense_to_csr(const float *d, int64_t nrow, int64_t ncol, sn_csr *m)
{
    int64_t nnz = 0, n = nrow * ncol;
    for (int64_t k = 0; k < n; k++)
        nnz += d[k] != 0;
    SN_TRY(sn_csr_alloc(m, nrow, ncol, nnz));
    int64_t p = 0;
    for (int64_t i = 0; i < nrow; i++) {
        for (int64_t j = 0; j < ncol; j++)
            if (d[i * ncol + j] != 0) {
                m->indices[p] = (int32_t)j;
                m->data[p++] = d[i * ncol + j];
            }
        m->indptr[i + 1] = p;
    }
    return SN_OK;
}

static int not_matrix(const char *name, const char *enc)
{
    return sn_err(SN_EFMT, "%s: expected a matrix, found %s", name, *enc ? enc : "an element of unknown type");
}

int sn_h5ad_read_csr(hid_t loc, const char *path, sn_csr *m)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    memset(m, 0, sizeof *m);
    int rc = sn_h5x_open(loc, path, name, &o, enc, sizeof enc);
    if (rc < 0)
        return rc;
    int grp = H5Iget_type(o) == H5I_GROUP;
    if (grp && is_sparse(enc)) {
        rc = read_sparse(o, name, enc[2] == 'c', m);
    } else if (!grp && strcmp(enc, "array") == 0) {
        float *d = NULL;
        int64_t nr = 0, nc = 0;
        rc = read_dense(o, name, SN_H5X_F32, &nr, &nc, (void **)&d);
        if (rc == SN_OK && nc > INT32_MAX)
            rc = sn_err(SN_EFMT, "%s: too many columns (%lld)", name, (long long)nc);
        if (rc == SN_OK)
            rc = dense_to_csr(d, nr, nc, m);
        free(d);
    } else {
        rc = not_matrix(name, enc);
    }
    sn_h5x_close(o);
    return rc;
}

/* Dense matrix of want (F32 or F64) from a dense or sparse element. */
static int read_densed(hid_t loc, const char *path, sn_h5x_num want, int64_t *nrow, int64_t *ncol, void **buf)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    int rc = sn_h5x_open(loc, path, name, &o, enc, sizeof enc);
    if (rc < 0)
        return rc;
    int grp = H5Iget_type(o) == H5I_GROUP;
    sn_h5x_close(o);
    if (!grp && strcmp(enc, "array") == 0) {
        o = H5Dopen2(loc, path, H5P_DEFAULT);
        rc = read_dense(o, name, want, nrow, ncol, buf);
        sn_h5x_close(o);
        return rc;
    }
    if (!grp || !is_sparse(enc))
        return not_matrix(name, enc);
    sn_csr c;
    SN_TRY(sn_h5ad_read_csr(loc, path, &c));
    size_t es = sn_h5x_num_size(want);
    *buf = sn_calloc(sn_mul_size((size_t)c.nrow, (size_t)c.ncol), es, "a dense matrix");
    for (int64_t i = 0; *buf && i < c.nrow; i++)
        for (int64_t k = c.indptr[i]; k < c.indptr[i + 1]; k++) {
            int64_t at = i * c.ncol + c.indices[k];
            if (want == SN_H5X_F64)
                ((double *)*buf)[at] = c.data[k];
            else
                ((float *)*buf)[at] = c.data[k];
        }
    *nrow = c.nrow;
    *ncol = c.ncol;
    sn_csr_free(&c);
    return *buf ? SN_OK : SN_ENOMEM;
}

int sn_h5ad_read_mat(hid_t loc, const char *path, sn_mat *m)
{
    memset(m, 0, sizeof *m);
    return read_densed(loc, path, SN_H5X_F32, &m->nrow, &m->ncol, (void **)&m->data);
}

int sn_h5ad_read_matd(hid_t loc, const char *path, sn_matd *m)
{
    memset(m, 0, sizeof *m);
    return read_densed(loc, path, SN_H5X_F64, &m->nrow, &m->ncol, (void **)&m->data);
}

/* ---- writing ---- */

/* Structure check before writing; *sorted = 0 when some row is unsorted. */
static int check_csr_cols(const sn_csr *m, const char *name, int *sorted, const int64_t *colmap, int64_t *kept)
{
    *sorted = 1;
    if (!m->indptr || m->indptr[0] != 0)
        return sn_err(SN_EINVAL, "%s: cannot write a sparse matrix whose indptr does not start at 0", name);
    /* Row by row, as a reader would meet them: the rows before the first
     * decrease of indptr are checked first. */
    int64_t d = 0;
    while (d < m->nrow && m->indptr[d + 1] >= m->indptr[d])
        d++;
    int64_t i = bad_row(m, d, sorted, colmap, kept);
    if (i >= 0)
        return sn_err(SN_EINVAL, "%s: cannot write: column index %d out of range [0, %lld) in row %lld", name,
                      m->indices[bad_entry(m, i)], (long long)m->ncol, (long long)i);
    if (d < m->nrow)
        return sn_err(SN_EINVAL, "%s: cannot write: indptr decreases at row %lld", name, (long long)d);
    return SN_OK;
}

static int check_csr(const sn_csr *m, const char *name, int *sorted)
{
    return check_csr_cols(m, name, sorted, NULL, NULL);
}

static int sorted_copy(const sn_csr *m, const char *name, sn_csr *c)
{
    int64_t nnz = sn_csr_nnz(m);
    SN_TRY(sn_csr_alloc(c, m->nrow, m->ncol, nnz));
    memcpy(c->indptr, m->indptr, ((size_t)m->nrow + 1) * sizeof *c->indptr);
    memcpy(c->indices, m->indices, (size_t)nnz * sizeof *c->indices);
    memcpy(c->data, m->data, (size_t)nnz * sizeof *c->data);
    int rc = sn_csr_sort_rows(c);
    if (rc < 0) {
        sn_csr_free(c);
        return sn_err_prefix(rc, "%s: cannot write: ", name);
    }
    return SN_OK;
}

/* A csr_matrix group's attributes, and in *it its index type by scipy's
 * rule: int32 unless a count or dimension needs more. */
static int csr_header(hid_t g, int64_t nrow, int64_t ncol, int64_t nnz, hid_t *it)
{
    int64_t shape[2] = {nrow, ncol};
    int wide = nnz > INT32_MAX || nrow > INT32_MAX || ncol > INT32_MAX;
    *it = wide ? H5T_STD_I64LE : H5T_STD_I32LE;
    SN_TRY(sn_h5x_set_enc(g, "csr_matrix", "0.1.0"));
    return sn_h5x_set_attr_i64s(g, "shape", shape, 2);
}

static int write_csr_group(hid_t g, const sn_csr *m, int comp)
{
    int64_t nnz = sn_csr_nnz(m), np = m->nrow + 1;
    hid_t it;
    SN_TRY(csr_header(g, m->nrow, m->ncol, nnz, &it));
    SN_TRY(sn_h5x_write(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &nnz, m->data, comp, NULL, NULL));
    SN_TRY(sn_h5x_write(g, "indices", it, H5T_NATIVE_INT32, 1, &nnz, m->indices, comp, NULL, NULL));
    return sn_h5x_write(g, "indptr", it, H5T_NATIVE_INT64, 1, &np, m->indptr, comp, NULL, NULL);
}

int sn_h5ad_write_csr(hid_t loc, const char *name, const sn_csr *m, int comp)
{
    char nm[SN_H5X_NAME];
    const char *leaf;
    hid_t p = H5I_INVALID_HID, g = H5I_INVALID_HID;
    sn_csr sorted = {0};
    int ok, rc;
    sn_h5x_name(loc, name, nm, sizeof nm);
    SN_CHECK(check_csr(m, nm, &ok));
    if (!ok)
        SN_CHECK(sorted_copy(m, nm, &sorted));
    SN_CHECK(sn_h5x_parent(loc, name, &p, &leaf));
    SN_CHECK(sn_h5x_group(p, leaf, NULL, NULL, &g));
    SN_CHECK(write_csr_group(g, ok ? m : &sorted, comp));
out:
    sn_h5x_close(g);
    sn_h5x_close(p);
    sn_csr_free(&sorted);
    return rc < 0 ? rc : SN_OK;
}

/* 1 when colmap keeps the columns it keeps in their order. */
static int keeps_order(const int64_t *colmap, int64_t ncol_in)
{
    int64_t last = -1;
    for (int64_t j = 0; j < ncol_in; j++)
        if (colmap[j] >= 0) {
            if (colmap[j] <= last)
                return 0;
            last = colmap[j];
        }
    return 1;
}

/* The kept entries of m (sorted rows, order-keeping map), written a block
 * of STREAM_BLOCK entries at a time: each filled while the one before is
 * written. */
typedef struct {
    const sn_csr *m;
    const int64_t *colmap, *ip; /* ip: where each row's kept entries start */
    int64_t nnz;
    hid_t dd, di;
    float *v[2];
    int32_t *ix[2];
} stream_t;

#define STREAM_BLOCK ((int64_t)1 << 19)

static int64_t block_len(const stream_t *s, int64_t i)
{
    int64_t off = i * STREAM_BLOCK;
    return s->nnz - off < STREAM_BLOCK ? s->nnz - off : STREAM_BLOCK;
}

/* Row r's n kept entries from v and ix on.  Each entry is stored and the
 * position moves on only when it is kept (no branch on the map): a
 * dropped one is overwritten by the next, and the loop ends with the n-th
 * kept entry, so no store passes the row's own n places. */
static void keep_row(const sn_csr *m, const int64_t *colmap, int64_t r, int64_t n, float *v, int32_t *ix)
{
    int64_t q = 0, k = m->indptr[r];
    if (ix)
        for (; q < n; k++) {
            int64_t j = colmap[m->indices[k]];
            v[q] = m->data[k];
            ix[q] = (int32_t)j;
            q += j >= 0;
        }
    else
        for (; q < n; k++) {
            v[q] = m->data[k];
            q += colmap[m->indices[k]] >= 0;
        }
}

/* A row that straddles a block's ends: its kept entries q.. (from the
 * block's start) that fall in [0, len). */
static void keep_part(const sn_csr *m, const int64_t *colmap, int64_t r, int64_t q, int64_t len, float *v,
                      int32_t *ix)
{
    for (int64_t k = m->indptr[r]; k < m->indptr[r + 1] && q < len; k++) {
        int64_t j = colmap[m->indices[k]];
        if (j < 0)
            continue;
        if (q >= 0) {
            v[q] = m->data[k];
            if (ix)
                ix[q] = (int32_t)j;
        }
        q++;
    }
}

/* Entries [off, off + len) of block i into slot's buffers, rows shared out
 * among the team; a row that straddles the block's ends writes only its
 * part inside. */
static void stream_make(void *ctx, int64_t i, int slot)
{
    const stream_t *s = ctx;
    const sn_csr *m = s->m;
    int64_t off = i * STREAM_BLOCK, len = block_len(s, i);
    float *v = s->v[slot];
    int32_t *ix = s->ix[slot];
    /* the rows holding the block's first entry and the one after its last */
    int64_t r0 = sn_indptr_row(s->ip, m->nrow, off), r1 = sn_indptr_row(s->ip, m->nrow, off + len) + 1;
#pragma omp for schedule(dynamic, 256)
    for (int64_t r = r0; r < r1; r++) {
        int64_t q = s->ip[r] - off;
        if (q >= 0 && s->ip[r + 1] - off <= len)
            keep_row(m, s->colmap, r, s->ip[r + 1] - s->ip[r], v + q, ix ? ix + q : NULL);
        else
            keep_part(m, s->colmap, r, q, len, v, ix);
    }
}

static int stream_put(void *ctx, int64_t i, int slot)
{
    const stream_t *s = ctx;
    hsize_t o = (hsize_t)(i * STREAM_BLOCK), c = (hsize_t)block_len(s, i);
    int rc = sn_h5x_write_slab(s->dd, H5T_NATIVE_FLOAT, 1, &o, &c, s->v[slot]);
    return rc == SN_OK && s->di >= 0 ? sn_h5x_write_slab(s->di, H5T_NATIVE_INT32, 1, &o, &c, s->ix[slot]) : rc;
}

/* it < 0: the values only (the indices are linked) */
static int stream_entries(hid_t g, const char *name, const sn_csr *m, const int64_t *colmap, const int64_t *ip,
                          int64_t nnz, hid_t it, int comp)
{
    stream_t s = {m, colmap, ip, nnz, H5I_INVALID_HID, H5I_INVALID_HID, {NULL, NULL}, {NULL, NULL}};
    size_t per = (size_t)(nnz < STREAM_BLOCK ? nnz : STREAM_BLOCK) + 1;
    int rc = SN_OK;
    for (int b = 0; b < 2; b++)
        if (!(s.v[b] = sn_malloc(per * sizeof *s.v[b], "a block of the matrix")) ||
            (it >= 0 && !(s.ix[b] = sn_malloc(per * sizeof *s.ix[b], "a block of the matrix"))))
            rc = SN_ENOMEM;
    if (rc == SN_OK && (rc = sn_h5x_create(g, "data", H5T_IEEE_F32LE, 1, &nnz, comp, &s.dd)) == SN_OK && it >= 0)
        rc = sn_h5x_create(g, "indices", it, 1, &nnz, comp, &s.di);
    if (rc == SN_OK)
        rc = sn_h5x_pipeline((nnz + STREAM_BLOCK - 1) / STREAM_BLOCK, stream_make, stream_put, &s);
    sn_h5x_close(s.dd);
    sn_h5x_close(s.di);
    for (int b = 0; b < 2; b++) {
        free(s.v[b]);
        free(s.ix[b]);
    }
    return rc == SN_EIO ? sn_h5x_fail(SN_EIO, name, "cannot write (disk full?)") : rc;
}

static int same_ints(hid_t loc, const char *path, const void *v, int64_t n, int i32);

/* like/indptr and like/indices linked into g when like/indptr is ip and
 * like/indices has nnz entries (the caller vouches for their values). */
static int link_kept(hid_t loc, hid_t g, const char *like, const int64_t *ip, int64_t np, int64_t nnz)
{
    char p[SN_H5X_NAME], x[SN_H5X_NAME];
    int64_t n = -1;
    snprintf(p, sizeof p, "%s/indptr", like);
    snprintf(x, sizeof x, "%s/indices", like);
    hid_t ds = sn_h5x_kind(loc, x) == H5O_TYPE_DATASET ? H5Dopen2(loc, x, H5P_DEFAULT) : H5I_INVALID_HID;
    int ok = ds >= 0 && sn_h5x_count(ds, x, &n) == SN_OK && n == nnz;
    sn_h5x_close(ds);
    return ok && same_ints(loc, p, ip, np, 0) && H5Lcreate_hard(loc, p, g, "indptr", H5P_DEFAULT, H5P_DEFAULT) >= 0 &&
           H5Lcreate_hard(loc, x, g, "indices", H5P_DEFAULT, H5P_DEFAULT) >= 0;
}

/* ip: the kept entries per row (ip[i + 1], from the check), made their
 * row pointers here. */
static int write_cols_group(hid_t loc, hid_t g, const char *name, const sn_csr *m, const int64_t *colmap,
                            int64_t ncol, int comp, const char *like, int64_t *ip)
{
    ip[0] = 0;
    for (int64_t i = 0; i < m->nrow; i++)
        ip[i + 1] += ip[i];
    int64_t nnz = ip[m->nrow], np = m->nrow + 1;
    hid_t it;
    int rc = csr_header(g, m->nrow, ncol, nnz, &it);
    int linked = rc == SN_OK && like && link_kept(loc, g, like, ip, np, nnz);
    if (rc == SN_OK)
        rc = stream_entries(g, name, m, colmap, ip, nnz, linked ? H5I_INVALID_HID : it, comp);
    if (rc == SN_OK && !linked)
        rc = sn_h5x_write(g, "indptr", it, H5T_NATIVE_INT64, 1, &np, ip, comp, NULL, NULL);
    return rc;
}

/* Without an order-keeping map or with unsorted rows: a subset copy. */
static int write_cols_copy(hid_t loc, const char *name, const sn_csr *m, const int64_t *colmap, int64_t ncol,
                           int comp)
{
    sn_csr c = {0};
    int rc = sn_csr_subset(m, NULL, m->nrow, colmap, ncol, &c);
    if (rc == SN_OK)
        rc = sn_h5ad_write_csr(loc, name, &c, comp);
    sn_csr_free(&c);
    return rc;
}

int sn_h5ad_write_csr_cols_like(hid_t loc, const char *name, const sn_csr *m, const int64_t *colmap, int64_t ncol,
                                int comp, const char *like)
{
    char nm[SN_H5X_NAME];
    const char *leaf;
    hid_t p = H5I_INVALID_HID, g = H5I_INVALID_HID;
    int ok = 0, rc;
    int64_t *ip = sn_malloc(((size_t)m->nrow + 1) * sizeof *ip, "row pointers");
    sn_h5x_name(loc, name, nm, sizeof nm);
    if (!ip)
        return SN_ENOMEM;
    SN_CHECK(check_csr_cols(m, nm, &ok, colmap, ip));
    if (!ok || !keeps_order(colmap, m->ncol)) {
        free(ip);
        return write_cols_copy(loc, name, m, colmap, ncol, comp);
    }
    SN_CHECK(sn_h5x_parent(loc, name, &p, &leaf));
    SN_CHECK(sn_h5x_group(p, leaf, NULL, NULL, &g));
    rc = write_cols_group(loc, g, nm, m, colmap, ncol, comp, like, ip);
out:
    free(ip);
    sn_h5x_close(g);
    sn_h5x_close(p);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5ad_write_csr_cols(hid_t loc, const char *name, const sn_csr *m, const int64_t *colmap, int64_t ncol,
                           int comp)
{
    return sn_h5ad_write_csr_cols_like(loc, name, m, colmap, ncol, comp, NULL);
}

/* 1 when dataset path (n entries) holds exactly v (int32 in memory when
 * i32, else int64), compared a block at a time. */
static int same_ints(hid_t loc, const char *path, const void *v, int64_t n, int i32)
{
    enum { BLOCK = 1 << 20 };
    int rank = 0, same = 0;
    int64_t d[H5S_MAX_RANK];
    if (sn_h5x_kind(loc, path) != H5O_TYPE_DATASET)
        return 0;
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    size_t es = i32 ? 4 : 8;
    void *buf = ds >= 0 ? malloc((size_t)(n < BLOCK ? n : BLOCK) * es + 1) : NULL;
    if (buf && sn_h5x_dims(ds, path, &rank, d, H5S_MAX_RANK) == SN_OK && rank == 1 && d[0] == n) {
        same = 1;
        for (int64_t off = 0; same && off < n; off += BLOCK) {
            hsize_t o = (hsize_t)off, c = (hsize_t)(n - off < BLOCK ? n - off : BLOCK);
            same = sn_h5x_read_slab(ds, i32 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64, 1, &o, &c, buf) == SN_OK &&
                   memcmp(buf, (const char *)v + off * es, c * es) == 0;
        }
    }
    sn_h5x_close(ds);
    free(buf);
    return same;
}

/* like/indptr and like/indices linked into g, when they are m's. */
static int link_structure(hid_t loc, hid_t g, const sn_csr *m, const char *like)
{
    char ip[SN_H5X_NAME], ix[SN_H5X_NAME];
    snprintf(ip, sizeof ip, "%s/indptr", like);
    snprintf(ix, sizeof ix, "%s/indices", like);
    if (!same_ints(loc, ip, m->indptr, m->nrow + 1, 0) || !same_ints(loc, ix, m->indices, sn_csr_nnz(m), 1))
        return 0;
    return H5Lcreate_hard(loc, ip, g, "indptr", H5P_DEFAULT, H5P_DEFAULT) >= 0 &&
           H5Lcreate_hard(loc, ix, g, "indices", H5P_DEFAULT, H5P_DEFAULT) >= 0;
}

int sn_h5ad_write_csr_like(hid_t loc, const char *name, const sn_csr *m, int comp, const char *like)
{
    char nm[SN_H5X_NAME];
    const char *leaf;
    hid_t p = H5I_INVALID_HID, g = H5I_INVALID_HID;
    int ok, rc;
    int64_t nnz = sn_csr_nnz(m);
    hid_t it;
    sn_h5x_name(loc, name, nm, sizeof nm);
    SN_CHECK(check_csr(m, nm, &ok));
    if (!ok)
        return sn_h5ad_write_csr(loc, name, m, comp);
    SN_CHECK(sn_h5x_parent(loc, name, &p, &leaf));
    SN_CHECK(sn_h5x_group(p, leaf, NULL, NULL, &g));
    if (!link_structure(loc, g, m, like)) {
        rc = write_csr_group(g, m, comp);
        goto out;
    }
    SN_CHECK(csr_header(g, m->nrow, m->ncol, nnz, &it));
    rc = sn_h5x_write(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &nnz, m->data, comp, NULL, NULL);
out:
    sn_h5x_close(g);
    sn_h5x_close(p);
    return rc < 0 ? rc : SN_OK;
}

/* Any array element: parent groups made, replaced if present. */
int sn_h5x_put(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const int64_t *dims, const void *buf,
               int comp, const char *enc)
{
    const char *leaf;
    hid_t p;
    SN_TRY(sn_h5x_parent(loc, name, &p, &leaf));
    int rc = sn_h5x_write(p, leaf, ft, mt, rank, dims, buf, comp, enc, "0.2.0");
    H5Gclose(p);
    return rc;
}

int sn_h5ad_write_mat(hid_t loc, const char *name, const sn_mat *m, int comp)
{
    int64_t d[2] = {m->nrow, m->ncol};
    return sn_h5x_put(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d, m->data, comp, "array");
}

int sn_h5ad_write_matd(hid_t loc, const char *name, const sn_matd *m, int comp)
{
    int64_t d[2] = {m->nrow, m->ncol};
    return sn_h5x_put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d, m->data, comp, "array");
}
