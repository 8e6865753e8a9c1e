/* Unit tests of the .h5ad element layer: every element type through real
 * HDF5 files, files laid out the way anndata (0.7-0.12) writes them, and
 * malformed inputs, each asserted on its error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <liblzf/lzf.h>
#include <math.h>

#include "scnet/err.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"

static char tmpdir[512];

static const char *tmp(const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static hid_t new_file(const char *name)
{
    hid_t f = H5Fcreate(tmp(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static hid_t reopen(hid_t f, const char *name)
{
    H5Fclose(f);
    f = H5Fopen(tmp(name), H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}

static void expect_err(int rc, const char *text)
{
    assert_true(rc < 0);
    if (!strstr(sn_errmsg(), text))
        fail_msg("error message \"%s\" does not contain \"%s\"", sn_errmsg(), text);
}

/* ---- raw HDF5 helpers: build what anndata (or a broken writer) writes ---- */

static void ds_raw(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *d, const void *buf)
{
    hid_t sp = rank ? H5Screate_simple(rank, d, NULL) : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void ds_1d(hid_t loc, const char *name, hid_t ft, hid_t mt, hsize_t n, const void *buf)
{
    ds_raw(loc, name, ft, mt, 1, &n, buf);
}

static void attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (H5Aexists(obj, name) > 0)
        H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Awrite(a, t, &v) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

static void enc(hid_t obj, const char *type, const char *version)
{
    attr_str(obj, "encoding-type", type);
    attr_str(obj, "encoding-version", version);
}

static void enc_at(hid_t loc, const char *path, const char *type, const char *version)
{
    hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
    assert_true(o >= 0);
    enc(o, type, version);
    H5Oclose(o);
}

static hid_t bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    signed char f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    return t;
}

static void vlen_strs(hid_t loc, const char *name, const char *const *s, hsize_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    ds_1d(loc, name, t, t, n, s);
    H5Tclose(t);
    enc_at(loc, name, "string-array", "0.2.0");
}

static hid_t group(hid_t loc, const char *name)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(g >= 0);
    return g;
}

/* A minimal frame with n labels "r0".."r{n-1}" and no columns. */
static void raw_frame(hid_t loc, const char *name, int n)
{
    hid_t g = group(loc, name);
    const char *lab[16];
    static char buf[16][8];
    for (int i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "r%d", i);
        lab[i] = buf[i];
    }
    enc(g, "dataframe", "0.2.0");
    attr_str(g, "_index", "_index");
    hsize_t z = 0;
    hid_t sp = H5Screate_simple(1, &z, NULL);
    hid_t a = H5Acreate2(g, "column-order", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(a);
    H5Sclose(sp);
    vlen_strs(g, "_index", lab, (hsize_t)n);
    H5Gclose(g);
}

/* A CSR group with the given arrays (indptr int64, indices int32, data f32). */
static void raw_csr(hid_t loc, const char *name, int64_t nrow, int64_t ncol, const int64_t *indptr, hsize_t nip,
                    const int32_t *indices, const float *data, hsize_t nnz)
{
    hid_t g = group(loc, name);
    enc(g, "csr_matrix", "0.1.0");
    int64_t shape[2] = {nrow, ncol};
    hsize_t two = 2;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t a = H5Acreate2(g, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, shape);
    H5Aclose(a);
    H5Sclose(sp);
    ds_1d(g, "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, nip, indptr);
    ds_1d(g, "indices", H5T_STD_I32LE, H5T_NATIVE_INT32, nnz, indices);
    ds_1d(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, nnz, data);
    H5Gclose(g);
}

/* ---- in-memory test data ---- */

/* 4 x 5 CSR: entries where (i + j) % 3 == 0, value i * 10 + j + 0.25. */
static void make_csr(sn_csr *m, int64_t nrow, int64_t ncol)
{
    int64_t nnz = 0;
    for (int64_t i = 0; i < nrow; i++)
        for (int64_t j = 0; j < ncol; j++)
            nnz += (i + j) % 3 == 0;
    assert_int_equal(sn_csr_alloc(m, nrow, ncol, nnz), 0);
    int64_t p = 0;
    for (int64_t i = 0; i < nrow; i++) {
        for (int64_t j = 0; j < ncol; j++)
            if ((i + j) % 3 == 0) {
                m->indices[p] = (int32_t)j;
                m->data[p++] = (float)(i * 10 + j) + 0.25f;
            }
        m->indptr[i + 1] = p;
    }
}

static char **labels(const char *prefix, int64_t n)
{
    char **l = calloc((size_t)n + 1, sizeof *l), b[64];
    for (int64_t i = 0; i < n; i++) {
        snprintf(b, sizeof b, "%s%lld", prefix, (long long)i);
        l[i] = strdup(b);
    }
    return l;
}

static void make_adata(sn_adata *a, int64_t nobs, int64_t nvar)
{
    memset(a, 0, sizeof *a);
    make_csr(&a->X, nobs, nvar);
    sn_frame_init(&a->obs, nobs);
    sn_frame_init(&a->var, nvar);
    a->obs.index = labels("cell", nobs);
    a->var.index = labels("gene", nvar);
    a->var.index_name = strdup("symbol");
    sn_col c;
    assert_int_equal(sn_col_new(&c, "n_counts", SN_COL_F64, nobs), 0);
    for (int64_t i = 0; i < nobs; i++)
        c.v.f64[i] = 0.1 * (double)i;
    assert_int_equal(sn_frame_put(&a->obs, &c), 0);
}

static void assert_csr_equal(const sn_csr *a, const sn_csr *b)
{
    assert_int_equal(a->nrow, b->nrow);
    assert_int_equal(a->ncol, b->ncol);
    assert_memory_equal(a->indptr, b->indptr, ((size_t)a->nrow + 1) * sizeof *a->indptr);
    int64_t nnz = sn_csr_nnz(a);
    if (nnz) {
        assert_memory_equal(a->indices, b->indices, (size_t)nnz * sizeof *a->indices);
        assert_memory_equal(a->data, b->data, (size_t)nnz * sizeof *a->data);
    }
}

static H5T_class_t ds_class(hid_t loc, const char *path, size_t *size)
{
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t t = H5Dget_type(ds);
    H5T_class_t c = H5Tget_class(t);
    if (size)
        *size = H5Tget_size(t);
    H5Tclose(t);
    H5Dclose(ds);
    return c;
}

static H5D_layout_t ds_layout(hid_t loc, const char *path, int *deflate)
{
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT), p = H5Dget_create_plist(ds);
    H5D_layout_t l = H5Pget_layout(p);
    *deflate = 0;
    for (int i = 0; i < H5Pget_nfilters(p); i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char nm[32];
        *deflate |= H5Pget_filter2(p, (unsigned)i, &flags, &ncd, cd, sizeof nm, nm, NULL) == H5Z_FILTER_DEFLATE;
    }
    H5Pclose(p);
    H5Dclose(ds);
    return l;
}

/* ---- round trips ---- */

static void test_csr_roundtrip(void **st)
{
    (void)st;
    hid_t f = new_file("csr.h5");
    sn_csr m, r;
    make_csr(&m, 4, 5);
    assert_int_equal(sn_h5ad_write_csr(f, "obsp/conn", &m, 0), 0);
    f = reopen(f, "csr.h5");
    assert_int_equal(sn_h5ad_read_csr(f, "obsp/conn", &r), 0);
    assert_csr_equal(&m, &r);
    /* scipy's layout: int32 indices and indptr when they fit, int64 shape */
    size_t sz;
    assert_int_equal(ds_class(f, "obsp/conn/indptr", &sz), H5T_INTEGER);
    assert_int_equal(sz, 4);
    assert_int_equal(ds_class(f, "obsp/conn/indices", &sz), H5T_INTEGER);
    assert_int_equal(sz, 4);
    char e[32];
    assert_int_equal(sn_h5ad_encoding(f, "obsp/conn", e, sizeof e), 0);
    assert_string_equal(e, "csr_matrix");
    assert_int_equal(sn_h5ad_encoding(f, "obsp", e, sizeof e), 0);
    assert_string_equal(e, "dict"); /* parent made as a dict */
    int64_t nr, nc;
    assert_int_equal(sn_h5ad_shape(f, "obsp/conn", &nr, &nc), 0);
    assert_true(nr == 4 && nc == 5);
    sn_h5ad_elem el;
    assert_int_equal(sn_h5ad_stat(f, "obsp/conn", &el), 0);
    assert_int_equal(el.nnz, sn_csr_nnz(&m));
    assert_string_equal(el.dtype, "float32");
    /* replacing an element */
    m.data[0] = 99;
    assert_int_equal(sn_h5ad_write_csr(f, "obsp/conn", &m, 0), 0);
    sn_csr_free(&r);
    assert_int_equal(sn_h5ad_read_csr(f, "obsp/conn", &r), 0);
    assert_true(r.data[0] == 99);
    sn_csr_free(&m);
    sn_csr_free(&r);
    H5Fclose(f);
}

static void test_csr_unsorted_written_sorted(void **st)
{
    (void)st;
    hid_t f = new_file("unsorted.h5");
    sn_csr m, r;
    assert_int_equal(sn_csr_alloc(&m, 2, 4, 3), 0);
    int64_t ip[] = {0, 2, 3};
    int32_t ix[] = {3, 1, 0};
    float v[] = {3, 1, 7};
    memcpy(m.indptr, ip, sizeof ip);
    memcpy(m.indices, ix, sizeof ix);
    memcpy(m.data, v, sizeof v);
    assert_int_equal(sn_h5ad_write_csr(f, "X", &m, 0), 0);
    assert_int_equal(m.indices[0], 3); /* the caller's matrix is left alone */
    assert_int_equal(sn_h5ad_read_csr(f, "X", &r), 0);
    assert_int_equal(r.indices[0], 1);
    assert_true(r.data[0] == 1 && r.data[1] == 3);
    sn_csr_free(&r);
    m.indices[1] = 3; /* a repeated entry cannot be written */
    expect_err(sn_h5ad_write_csr(f, "X2", &m, 0), "appears twice");
    sn_csr_free(&m);
    H5Fclose(f);
}

static unsigned nlinks(hid_t f, const char *path)
{
    H5O_info_t info;
    assert_true(H5Oget_info_by_name2(f, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0);
    return info.rc;
}

static void expect_read(hid_t f, const char *path, const sn_csr *want)
{
    sn_csr r;
    assert_int_equal(sn_h5ad_read_csr(f, path, &r), 0);
    assert_csr_equal(want, &r);
    sn_csr_free(&r);
}

/* The column subset written straight from the matrix equals the subset
 * copy written whole: over more than one block of entries, gzip'd, with a
 * map that reorders columns (written sorted) and one that keeps none. */
static void expect_cols(hid_t f, const char *name, const sn_csr *m, const int64_t *map, int64_t nc, int comp)
{
    int64_t *rows = malloc((size_t)m->nrow * sizeof *rows);
    assert_non_null(rows);
    for (int64_t i = 0; i < m->nrow; i++)
        rows[i] = i;
    sn_csr want, got;
    assert_int_equal(sn_csr_subset(m, rows, m->nrow, map, nc, &want), 0);
    assert_int_equal(sn_csr_sort_rows(&want), 0);
    assert_int_equal(sn_h5ad_write_csr_cols(f, name, m, map, nc, comp), 0);
    assert_int_equal(sn_h5ad_read_csr(f, name, &got), 0);
    assert_csr_equal(&want, &got);
    free(rows);
    sn_csr_free(&want);
    sn_csr_free(&got);
}

static void test_csr_cols(void **st)
{
    (void)st;
    enum { R = 2600, C = 1000 };
    hid_t f = new_file("cols.h5");
    sn_csr m;
    assert_int_equal(sn_csr_alloc(&m, R, C, (int64_t)R * C), 0); /* room for every entry */
    int64_t p = 0;
    uint64_t x = 12345;
    for (int64_t i = 0; i < R; i++) {
        for (int32_t j = 0; j < C; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            if ((x >> 33) % 2)
                m.indices[p] = j, m.data[p++] = (float)(x >> 40);
        }
        m.indptr[i + 1] = p;
    }
    int64_t same[C], keep[C], rev[C], none[C];
    for (int64_t j = 0; j < C; j++) {
        same[j] = j;
        keep[j] = j % 3 ? -1 : j / 3;
        rev[j] = C - 1 - j;
        none[j] = -1;
    }
    assert_true(p > (1 << 20)); /* more than one block */
    expect_cols(f, "same", &m, same, C, 0);
    expect_cols(f, "reversed", &m, rev, C, 0);
    keep[0] = -1; /* the first column of a row dropped, the rest kept in order */
    expect_cols(f, "keep", &m, keep, (C + 2) / 3, 0);
    expect_cols(f, "gzip", &m, keep, (C + 2) / 3, 1);
    expect_cols(f, "none", &m, none, 5, 0);
    int64_t nr, nc;
    assert_int_equal(sn_h5ad_shape(f, "none", &nr, &nc), 0);
    assert_true(nr == R && nc == 5);
    /* new values on keep's structure: only they are written, the indices
     * and row pointers linked; against another structure, all written */
    for (int64_t k = 0; k < p; k++)
        m.data[k] = 0.5f * m.data[k] + 1;
    sn_csr want;
    assert_int_equal(sn_csr_subset(&m, NULL, R, keep, (C + 2) / 3, &want), 0);
    assert_int_equal(sn_h5ad_write_csr_cols_like(f, "X", &m, keep, (C + 2) / 3, 0, "keep"), 0);
    assert_int_equal(sn_h5ad_write_csr_cols_like(f, "X2", &m, keep, (C + 2) / 3, 0, "same"), 0);
    assert_int_equal(nlinks(f, "X/indices"), 2);
    assert_int_equal(nlinks(f, "X/indptr"), 2);
    assert_int_equal(nlinks(f, "X2/indices"), 1);
    expect_read(f, "X", &want);
    expect_read(f, "X2", &want);
    /* an index out of range is reported before the map is looked up */
    int32_t was = m.indices[p - 1];
    m.indices[p - 1] = C + 7;
    expect_err(sn_h5ad_write_csr_cols(f, "bad", &m, keep, (C + 2) / 3, 0),
               "bad: cannot write: column index 1007 out of range [0, 1000) in row 2599");
    m.indices[p - 1] = was;
    sn_csr_free(&want);
    sn_csr_free(&m);
    H5Fclose(f);
}

/* X linked to layers/counts' structure where it is the same, written
 * whole where it is not or where there is nothing to link to. */
static void test_csr_like(void **st)
{
    (void)st;
    hid_t f = new_file("like.h5");
    sn_csr c, x;
    make_csr(&c, 4, 5);
    make_csr(&x, 4, 5);
    for (int64_t k = 0; k < sn_csr_nnz(&x); k++)
        x.data[k] = 2 * c.data[k] + 1;
    assert_int_equal(sn_h5ad_write_csr(f, "layers/counts", &c, 0), 0);
    assert_int_equal(sn_h5ad_write_csr_like(f, "X", &x, 0, "layers/counts"), 0);
    f = reopen(f, "like.h5");
    assert_int_equal(nlinks(f, "X/indices"), 2);
    assert_int_equal(nlinks(f, "X/indptr"), 2);
    assert_int_equal(nlinks(f, "X/data"), 1);
    expect_read(f, "X", &x);
    expect_read(f, "layers/counts", &c);
    /* one column index moved: written whole, the counts untouched */
    x.indices[sn_csr_nnz(&x) - 1] = (int32_t)(x.ncol - 1 == x.indices[sn_csr_nnz(&x) - 1] ? 0 : x.ncol - 1);
    assert_int_equal(sn_csr_sort_rows(&x), 0);
    assert_int_equal(sn_h5ad_write_csr_like(f, "X", &x, 0, "layers/counts"), 0);
    assert_int_equal(nlinks(f, "X/indices"), 1);
    assert_int_equal(nlinks(f, "layers/counts/indices"), 1);
    expect_read(f, "X", &x);
    expect_read(f, "layers/counts", &c);
    assert_int_equal(sn_h5ad_write_csr_like(f, "X2", &x, 0, "layers/none"), 0);
    expect_read(f, "X2", &x);
    sn_csr_free(&c);
    sn_csr_free(&x);
    H5Fclose(f);
}

/* m as a CSR group whose indices and data have the storage dcpl makes
 * (indptr contiguous); only the first `written` entries are written. */
static void stored_csr(hid_t loc, const char *name, const sn_csr *m, hid_t dcpl, hsize_t written)
{
    hid_t g = group(loc, name);
    enc(g, "csr_matrix", "0.1.0");
    int64_t shape[2] = {m->nrow, m->ncol};
    hsize_t two = 2, nnz = (hsize_t)sn_csr_nnz(m), unl = H5S_UNLIMITED;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t a = H5Acreate2(g, "shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, shape);
    H5Aclose(a);
    H5Sclose(sp);
    ds_1d(g, "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, (hsize_t)m->nrow + 1, m->indptr);
    int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
    sp = H5Screate_simple(1, &nnz, chunked ? &unl : NULL);
    hid_t ms = H5Screate_simple(1, &written, NULL), fs = H5Scopy(sp);
    hsize_t zero = 0;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &zero, NULL, &written, NULL);
    hid_t di = H5Dcreate2(g, "indices", H5T_STD_I32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hid_t dd = H5Dcreate2(g, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(di >= 0 && dd >= 0);
    assert_true(H5Dwrite(di, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, m->indices) >= 0);
    assert_true(H5Dwrite(dd, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, m->data) >= 0);
    H5Dclose(di);
    H5Dclose(dd);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Sclose(sp);
    H5Gclose(g);
}

/* Large sparse arrays in a file open read-only are read by pread on every
 * thread where their bytes lie in the file as they are: contiguous, or in
 * unfiltered chunks as anndata writes them (the last one partly used).
 * What must go through HDF5 (gzip'd chunks, chunks never written, a file
 * open for writing) reads the same as before; an index out of range is
 * still reported with its row. */
static void test_direct_read(void **st)
{
    (void)st;
    sn_csr m, r;
    make_csr(&m, 900, 3000); /* 900,000 entries: 3.6 MB per array */
    hsize_t nnz = (hsize_t)sn_csr_nnz(&m), chunk = 100000, half = 3 * chunk;
    hid_t contig = H5Pcreate(H5P_DATASET_CREATE), chunked = H5Pcreate(H5P_DATASET_CREATE),
          gzip = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(contig, H5D_CONTIGUOUS);
    H5Pset_chunk(chunked, 1, &chunk);
    H5Pset_chunk(gzip, 1, &chunk);
    H5Pset_deflate(gzip, 1);
    hid_t f = new_file("direct.h5");
    stored_csr(f, "contiguous", &m, contig, nnz);
    stored_csr(f, "chunked", &m, chunked, nnz);
    stored_csr(f, "gzip", &m, gzip, nnz);
    stored_csr(f, "part", &m, chunked, half);
    int32_t last = m.indices[nnz - 1];
    m.indices[nnz - 1] = 3000; /* out of range, in the last (partly used) chunk */
    stored_csr(f, "bad", &m, chunked, nnz);
    m.indices[nnz - 1] = last;
    H5Pclose(contig);
    H5Pclose(chunked);
    H5Pclose(gzip);
    for (int pass = 0; pass < 2; pass++) { /* read-only (direct), then read-write (HDF5) */
        H5Fclose(f);
        f = H5Fopen(tmp("direct.h5"), pass ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(f >= 0);
        expect_read(f, "contiguous", &m);
        expect_read(f, "chunked", &m);
        expect_read(f, "gzip", &m);
        /* the chunks never written read as HDF5's fill value: column 0, 0.0 */
        expect_err(sn_h5ad_read_csr(f, "part", &r), "appears twice");
        expect_err(sn_h5ad_read_csr(f, "bad", &r), "index 3000 out of range [0, 3000) in row 899");
    }
    H5Fclose(f);
    sn_csr_free(&m);
}

/* anndata's CSC with int64 indptr, uint16 indices and float64 data. */
static void test_csc_any_int_types(void **st)
{
    (void)st;
    hid_t f = new_file("csc.h5");
    hid_t g = group(f, "X");
    enc(g, "csc_matrix", "0.1.0");
    int32_t shape[2] = {3, 2}; /* int32 shape is read too */
    hsize_t two = 2;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    hid_t a = H5Acreate2(g, "shape", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, shape);
    H5Aclose(a);
    H5Sclose(sp);
    /* columns: col0 rows {0,2} = 1.5, 2.5; col1 row {1} = 3.5 */
    int64_t ip[] = {0, 2, 3};
    uint16_t ix[] = {0, 2, 1};
    double v[] = {1.5, 2.5, 3.5};
    ds_1d(g, "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, ip);
    ds_1d(g, "indices", H5T_STD_U16LE, H5T_NATIVE_UINT16, 3, ix);
    ds_1d(g, "data", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, v);
    H5Gclose(g);
    sn_csr m;
    assert_int_equal(sn_h5ad_read_csr(f, "X", &m), 0);
    assert_int_equal(m.nrow, 3);
    assert_int_equal(m.ncol, 2);
    int64_t eip[] = {0, 1, 2, 3};
    int32_t eix[] = {0, 1, 0};
    float ev[] = {1.5f, 3.5f, 2.5f};
    assert_memory_equal(m.indptr, eip, sizeof eip);
    assert_memory_equal(m.indices, eix, sizeof eix);
    assert_memory_equal(m.data, ev, sizeof ev);
    sn_mat d;
    assert_int_equal(sn_h5ad_read_mat(f, "X", &d), 0);
    assert_true(d.data[0] == 1.5f && d.data[1] == 0 && d.data[3] == 3.5f && d.data[4] == 2.5f);
    sn_mat_free(&d);
    sn_csr_free(&m);
    H5Fclose(f);
}

/* Attribute-less elements (anndata 0.7 dicts and scalars, h5sparse groups
 * with fixed-length ASCII attributes) are read by their layout. */
static void test_legacy_elements(void **st)
{
    (void)st;
    hid_t f = new_file("legacy_elems.h5");
    hid_t g = group(f, "X");
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, 3);
    hid_t a = H5Acreate2(g, "h5sparse_format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "csr");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    int64_t shape[2] = {2, 3}, ip[] = {0, 1, 2};
    int32_t ix[] = {2, 0};
    float v[] = {4, 5};
    hsize_t two = 2;
    sp = H5Screate_simple(1, &two, NULL);
    a = H5Acreate2(g, "h5sparse_shape", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, shape);
    H5Aclose(a);
    H5Sclose(sp);
    ds_1d(g, "indptr", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, ip);
    ds_1d(g, "indices", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, ix);
    ds_1d(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, v);
    H5Gclose(g);
    g = group(f, "uns");
    double x = 2.5;
    ds_raw(g, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &x);
    H5Gclose(g);
    sn_csr m;
    assert_int_equal(sn_h5ad_read_csr(f, "X", &m), 0);
    assert_true(m.nrow == 2 && m.ncol == 3 && m.indices[0] == 2 && m.data[1] == 5);
    sn_csr_free(&m);
    sn_h5ad_elem e;
    assert_int_equal(sn_h5ad_stat(f, "X", &e), 0);
    assert_string_equal(e.encoding, "csr_matrix");
    assert_true(e.legacy && e.nnz == 2);
    assert_int_equal(sn_h5ad_stat(f, "uns", &e), 0);
    assert_string_equal(e.encoding, "dict");
    assert_int_equal(sn_h5ad_stat(f, "uns/x", &e), 0);
    assert_string_equal(e.encoding, "numeric-scalar");
    char enc[32];
    assert_int_equal(sn_h5ad_encoding(f, "uns/x", enc, sizeof enc), 0);
    assert_string_equal(enc, ""); /* the attribute itself is absent */
    assert_int_equal(sn_h5ad_read_scalar(f, "uns/x", &x), 0);
    assert_true(x == 2.5);
    H5Fclose(f);
}

static void test_dense(void **st)
{
    (void)st;
    hid_t f = new_file("dense.h5");
    sn_mat m, r;
    sn_matd md, rd;
    assert_int_equal(sn_mat_alloc(&m, 3, 2), 0);
    float v[] = {0, 1.25f, 0, 0, -2, 1e-7f};
    memcpy(m.data, v, sizeof v);
    assert_int_equal(sn_h5ad_write_mat(f, "obsm/X_pca", &m, 0), 0);
    assert_int_equal(sn_h5ad_read_mat(f, "obsm/X_pca", &r), 0);
    assert_memory_equal(r.data, v, sizeof v);
    sn_csr c;
    assert_int_equal(sn_h5ad_read_csr(f, "obsm/X_pca", &c), 0); /* zeros dropped */
    assert_int_equal(sn_csr_nnz(&c), 3);
    assert_true(c.indices[0] == 1 && c.data[0] == 1.25f && c.indptr[2] == 1);
    assert_int_equal(sn_matd_alloc(&md, 2, 2), 0);
    double dv[] = {0.1, 1e300, -3, 1.0 / 3};
    memcpy(md.data, dv, sizeof dv);
    assert_int_equal(sn_h5ad_write_matd(f, "varm/PCs", &md, 4), 0);
    assert_int_equal(sn_h5ad_read_matd(f, "varm/PCs", &rd), 0);
    assert_memory_equal(rd.data, dv, sizeof dv); /* float64 kept exactly */
    int defl;
    assert_int_equal(ds_layout(f, "varm/PCs", &defl), H5D_CHUNKED);
    assert_true(defl);
    assert_int_equal(ds_layout(f, "obsm/X_pca", &defl), H5D_CONTIGUOUS);
    /* integer matrices of any width read as numbers */
    int16_t iv[] = {-3, 0, 7, 32000};
    hsize_t d2[2] = {2, 2};
    ds_raw(f, "layers_i16", H5T_STD_I16LE, H5T_NATIVE_INT16, 2, d2, iv);
    sn_matd_free(&rd);
    assert_int_equal(sn_h5ad_read_matd(f, "layers_i16", &rd), 0);
    assert_true(rd.data[0] == -3 && rd.data[3] == 32000);
    sn_mat_free(&r);
    expect_err(sn_h5ad_read_mat(f, "obsm", &r), "obsm: expected a matrix, found dict");
    sn_mat_free(&m);
    sn_mat_free(&r);
    sn_matd_free(&md);
    sn_matd_free(&rd);
    sn_csr_free(&c);
    H5Fclose(f);
}

static void test_vectors_and_scalars(void **st)
{
    (void)st;
    hid_t f = new_file("vec.h5");
    double v[] = {1.5, -0.0, NAN, 1e-300};
    int64_t iv[] = {INT64_MAX, -1, 0};
    uint8_t bv[] = {1, 0, 2};
    const char *sv[] = {"a", "", "ünïcode"};
    assert_int_equal(sn_h5ad_write_vec(f, "uns/v", v, 4, 6), 0);
    assert_int_equal(sn_h5ad_write_ivec(f, "uns/i", iv, 3, 0), 0);
    assert_int_equal(sn_h5ad_write_bvec(f, "uns/b", bv, 3, 0), 0);
    assert_int_equal(sn_h5ad_write_strings(f, "uns/s", (char *const *)sv, 3, 1), 0);
    const char *bad[] = {"ok", "caf\xe9", "x"}, *surrogate[] = {"\xed\xa0\x80"};
    expect_err(sn_h5ad_write_strings(f, "uns/bad", (char *const *)bad, 3, 0),
               "uns/bad: string 2 is not valid UTF-8");
    expect_err(sn_h5ad_write_strings(f, "uns/bad", (char *const *)surrogate, 1, 0), "not valid UTF-8");
    expect_err(sn_h5ad_write_str(f, "uns/bad", "\xc0\xaf"), "uns/bad: string is not valid UTF-8");
    assert_int_equal(sn_h5ad_write_scalar(f, "uns/x", 0.1), 0);
    assert_int_equal(sn_h5ad_write_int(f, "uns/n", -7), 0);
    assert_int_equal(sn_h5ad_write_bool(f, "uns/t", 1), 0);
    assert_int_equal(sn_h5ad_write_str(f, "uns/name", "scnet"), 0);
    f = reopen(f, "vec.h5");
    double *rv;
    int64_t n, *ri;
    assert_int_equal(sn_h5ad_read_vec(f, "uns/v", &rv, &n), 0);
    assert_int_equal(n, 4);
    assert_true(rv[0] == 1.5 && signbit(rv[1]) && isnan(rv[2]) && rv[3] == 1e-300);
    free(rv);
    assert_int_equal(sn_h5ad_read_ivec(f, "uns/i", &ri, &n), 0);
    assert_memory_equal(ri, iv, sizeof iv);
    free(ri);
    assert_int_equal(sn_h5ad_read_vec(f, "uns/b", &rv, &n), 0);
    assert_true(rv[0] == 1 && rv[1] == 0 && rv[2] == 1);
    free(rv);
    sn_h5ad_elem e;
    assert_int_equal(sn_h5ad_stat(f, "uns/b", &e), 0);
    assert_string_equal(e.dtype, "bool");
    expect_err(sn_h5ad_read_ivec(f, "uns/v", &ri, &n), "uns/v: expected integers, found float64");
    char **s;
    assert_int_equal(sn_h5ad_read_strings(f, "uns/s", &s, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[1], "");
    assert_string_equal(s[2], "ünïcode");
    sn_free_strings(s, n);
    double x;
    char *str;
    assert_int_equal(sn_h5ad_read_scalar(f, "uns/x", &x), 0);
    assert_true(x == 0.1);
    assert_int_equal(sn_h5ad_read_scalar(f, "uns/n", &x), 0);
    assert_true(x == -7);
    assert_int_equal(sn_h5ad_read_scalar(f, "uns/t", &x), 0);
    assert_true(x == 1);
    assert_int_equal(sn_h5ad_read_str(f, "uns/name", &str), 0);
    assert_string_equal(str, "scnet");
    free(str);
    assert_int_equal(sn_h5ad_stat(f, "uns/n", &e), 0);
    assert_string_equal(e.encoding, "numeric-scalar");
    assert_string_equal(e.dtype, "int64");
    assert_int_equal(e.ndim, 0);
    expect_err(sn_h5ad_read_str(f, "uns/n", &str), "uns/n: expected a string");
    expect_err(sn_h5ad_read_scalar(f, "uns/v", &x), "uns/v: expected a scalar, found 4 values");
    /* keys come sorted by name */
    char **k;
    assert_int_equal(sn_h5ad_keys(f, "uns", &k, &n), 0);
    assert_int_equal(n, 8);
    assert_string_equal(k[0], "b");
    assert_string_equal(k[7], "x");
    sn_free_strings(k, n);
    assert_int_equal(sn_h5ad_remove(f, "uns/x"), 1);
    assert_int_equal(sn_h5ad_remove(f, "uns/x"), 0);
    assert_int_equal(sn_h5ad_exists(f, "uns/x"), 0);
    assert_int_equal(sn_h5ad_exists(f, "uns/x/deeper"), 0);
    H5Fclose(f);
}

static void make_frame(sn_frame *fr, int64_t n)
{
    static const char *cats[] = {"b-cell", "t-cell", "nk"};
    sn_frame_init(fr, n);
    fr->index = labels("c", n);
    fr->index_name = strdup("barcode");
    sn_col c;
    assert_int_equal(sn_col_new(&c, "f64", SN_COL_F64, n), 0);
    for (int64_t i = 0; i < n; i++)
        c.v.f64[i] = i == 1 ? NAN : 1.0 / (double)(i + 1);
    assert_int_equal(sn_frame_put(fr, &c), 0);
    assert_int_equal(sn_col_new(&c, "f32", SN_COL_F32, n), 0);
    for (int64_t i = 0; i < n; i++)
        c.v.f32[i] = 0.1f * (float)i;
    assert_int_equal(sn_frame_put(fr, &c), 0);
    assert_int_equal(sn_col_new(&c, "i64", SN_COL_I64, n), 0);
    for (int64_t i = 0; i < n; i++)
        c.v.i64[i] = (int64_t)1 << (40 + i);
    assert_int_equal(sn_frame_put(fr, &c), 0);
    assert_int_equal(sn_col_new(&c, "i32", SN_COL_I32, n), 0);
    for (int64_t i = 0; i < n; i++)
        c.v.i32[i] = -(int32_t)i;
    assert_int_equal(sn_frame_put(fr, &c), 0);
    assert_int_equal(sn_col_new(&c, "flag", SN_COL_BOOL, n), 0);
    for (int64_t i = 0; i < n; i++)
        c.v.b[i] = i % 2;
    assert_int_equal(sn_frame_put(fr, &c), 0);
    c = (sn_col){0};
    c.name = strdup("label");
    c.type = SN_COL_STR;
    c.n = n;
    c.v.str = labels("name ", n);
    assert_int_equal(sn_frame_put(fr, &c), 0);
    assert_int_equal(sn_col_new(&c, "cell_type", SN_COL_CAT, n), 0);
    c.ncat = 3;
    c.cats = calloc(3, sizeof *c.cats);
    for (int k = 0; k < 3; k++)
        c.cats[k] = strdup(cats[k]);
    for (int64_t i = 0; i < n; i++)
        c.v.codes[i] = i == 2 ? -1 : (int32_t)(i % 3);
    c.ordered = 1;
    assert_int_equal(sn_frame_put(fr, &c), 0);
}

static void assert_col_equal(const sn_col *a, const sn_col *b)
{
    char x[64], y[64];
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->n, b->n);
    for (int64_t i = 0; i < a->n; i++)
        assert_string_equal(sn_col_str(a, i, x, sizeof x), sn_col_str(b, i, y, sizeof y));
    if (a->type == SN_COL_CAT) {
        assert_int_equal(a->ncat, b->ncat);
        assert_int_equal(a->ordered, b->ordered);
        assert_memory_equal(a->v.codes, b->v.codes, (size_t)a->n * sizeof *a->v.codes);
    }
}

static void test_frame_roundtrip(void **st)
{
    (void)st;
    hid_t f = new_file("frame.h5");
    sn_frame fr, rf;
    make_frame(&fr, 5);
    assert_int_equal(sn_h5ad_write_frame(f, "obs", &fr, 3), 0);
    f = reopen(f, "frame.h5");
    assert_int_equal(sn_h5ad_read_frame(f, "obs", &rf), 0);
    assert_int_equal(rf.n, 5);
    assert_string_equal(rf.index_name, "barcode");
    assert_string_equal(rf.index[4], "c4");
    assert_int_equal(rf.ncol, fr.ncol);
    for (int i = 0; i < fr.ncol; i++) /* same columns in the same order */
        assert_col_equal(&fr.cols[i], &rf.cols[i]);
    assert_true(isnan(rf.cols[0].v.f64[1]));
    /* codes are int8 for a few categories; ordered is h5py's bool enum */
    size_t sz;
    assert_int_equal(ds_class(f, "obs/cell_type/codes", &sz), H5T_INTEGER);
    assert_int_equal(sz, 1);
    assert_int_equal(ds_class(f, "obs/flag", &sz), H5T_ENUM);
    sn_h5ad_elem e;
    assert_int_equal(sn_h5ad_stat(f, "obs/cell_type", &e), 0);
    assert_true(e.ncat == 3 && e.ordered == 1 && strcmp(e.dtype, "str") == 0);
    assert_int_equal(sn_h5ad_stat(f, "obs", &e), 0);
    assert_true(e.shape[0] == 5 && e.shape[1] == 7);
    char *ix, **cols;
    int64_t nc;
    assert_int_equal(sn_h5ad_frame_names(f, "obs", &ix, &cols, &nc), 0);
    assert_string_equal(ix, "barcode");
    assert_int_equal(nc, 7);
    assert_string_equal(cols[6], "cell_type");
    free(ix);
    sn_free_strings(cols, nc);
    /* one column alone, and as labels */
    sn_col c;
    assert_int_equal(sn_h5ad_read_col(f, "obs/cell_type", &c), 0);
    assert_col_equal(&fr.cols[6], &c);
    sn_col_free(&c);
    char **s;
    int64_t n;
    assert_int_equal(sn_h5ad_read_strings(f, "obs/cell_type", &s, &n), 0);
    assert_string_equal(s[1], "t-cell");
    assert_string_equal(s[2], "");
    sn_free_strings(s, n);
    sn_frame_free(&rf);
    sn_frame_free(&fr);
    H5Fclose(f);
}

static void test_frame_many_categories_and_no_index(void **st)
{
    (void)st;
    hid_t f = new_file("frame2.h5");
    sn_frame fr, rf;
    sn_frame_init(&fr, 300);
    char **v = labels("k", 300);
    sn_col c;
    assert_int_equal(sn_col_categorical(&c, "many", v, 300), 0);
    assert_int_equal(sn_frame_put(&fr, &c), 0);
    assert_int_equal(sn_h5ad_write_frame(f, "var", &fr, 0), 0);
    size_t sz;
    ds_class(f, "var/many/codes", &sz);
    assert_int_equal(sz, 2); /* 300 categories: int16 codes */
    assert_int_equal(sn_h5ad_read_frame(f, "var", &rf), 0);
    assert_null(rf.index_name);
    assert_string_equal(rf.index[299], "299"); /* anndata's default labels */
    assert_col_equal(&fr.cols[0], &rf.cols[0]);
    sn_free_strings(v, 300);
    sn_frame_free(&rf);
    sn_frame_free(&fr);
    H5Fclose(f);
}

static void test_write_col(void **st)
{
    (void)st;
    hid_t f = new_file("col.h5");
    sn_frame fr, rf;
    make_frame(&fr, 4);
    assert_int_equal(sn_h5ad_write_frame(f, "var", &fr, 0), 0);
    sn_col c;
    assert_int_equal(sn_col_new(&c, "scnet_module", SN_COL_I64, 4), 0);
    c.v.i64[3] = 42;
    assert_int_equal(sn_h5ad_write_col(f, "var", &c, 0), 0);
    c.v.i64[3] = 43; /* replacing keeps the column where it is */
    assert_int_equal(sn_h5ad_write_col(f, "var", &c, 0), 0);
    sn_col_free(&c);
    assert_int_equal(sn_col_new(&c, "f64", SN_COL_BOOL, 4), 0);
    assert_int_equal(sn_h5ad_write_col(f, "var", &c, 0), 0);
    sn_col_free(&c);
    assert_int_equal(sn_h5ad_read_frame(f, "var", &rf), 0);
    assert_int_equal(rf.ncol, 8);
    assert_string_equal(rf.cols[0].name, "f64");
    assert_int_equal(rf.cols[0].type, SN_COL_BOOL);
    assert_string_equal(rf.cols[7].name, "scnet_module");
    assert_int_equal(rf.cols[7].v.i64[3], 43);
    sn_frame_free(&rf);
    assert_int_equal(sn_col_new(&c, "short", SN_COL_F64, 3), 0);
    expect_err(sn_h5ad_write_col(f, "var", &c, 0), "var: column 'short' has 3 rows, the table 4");
    sn_col_free(&c);
    /* a column named as the index (pandas' index.name) leaves the index unnamed */
    assert_int_equal(sn_col_new(&c, "barcode", SN_COL_F64, 4), 0);
    c.v.f64[2] = 7;
    assert_int_equal(sn_h5ad_write_col(f, "var", &c, 0), 0);
    sn_col_free(&c);
    assert_int_equal(sn_h5ad_read_frame(f, "var", &rf), 0);
    assert_null(rf.index_name);
    assert_string_equal(rf.index[3], fr.index[3]);
    assert_string_equal(rf.cols[rf.ncol - 1].name, "barcode");
    assert_true(rf.cols[rf.ncol - 1].v.f64[2] == 7);
    sn_frame_free(&rf);
    sn_frame_free(&fr);
    H5Fclose(f);
}

/* A frame written with a column of its index's name: the index is stored
 * unnamed, both keep their values. */
static void test_frame_index_name_taken(void **st)
{
    (void)st;
    hid_t f = new_file("taken.h5");
    sn_frame fr, rf;
    make_frame(&fr, 3);
    free(fr.index_name);
    fr.index_name = strdup(fr.cols[0].name);
    assert_int_equal(sn_h5ad_write_frame(f, "obs", &fr, 0), 0);
    assert_int_equal(sn_h5ad_read_frame(f, "obs", &rf), 0);
    assert_null(rf.index_name);
    assert_int_equal(rf.ncol, fr.ncol);
    assert_string_equal(rf.cols[0].name, fr.cols[0].name);
    for (int64_t i = 0; i < 3; i++)
        assert_string_equal(rf.index[i], fr.index[i]);
    sn_frame_free(&rf);
    sn_frame_free(&fr);
    H5Fclose(f);
}

static void test_frame_bad_columns(void **st)
{
    (void)st;
    hid_t f = new_file("badcols.h5");
    sn_frame fr;
    make_frame(&fr, 3);
    free(fr.cols[1].name);
    fr.cols[1].name = strdup("a/b");
    expect_err(sn_h5ad_write_frame(f, "obs", &fr, 0), "obs: cannot write column 'a/b': names cannot contain '/'");
    free(fr.cols[1].name);
    fr.cols[1].name = strdup("_index");
    expect_err(sn_h5ad_write_frame(f, "obs", &fr, 0), "'_index' is reserved");
    free(fr.cols[1].name);
    fr.cols[1].name = strdup("f64");
    expect_err(sn_h5ad_write_frame(f, "obs", &fr, 0), "column 'f64' appears twice");
    free(fr.cols[1].name);
    fr.cols[1].name = strdup("f32");
    fr.cols[6].v.codes[0] = 3;
    expect_err(sn_h5ad_write_frame(f, "obs", &fr, 0), "category code 3 at row 0 out of range (3 categories)");
    fr.cols[6].v.codes[0] = 0;
    free(fr.cols[6].cats[1]);
    fr.cols[6].cats[1] = strdup("nk");
    expect_err(sn_h5ad_write_frame(f, "obs", &fr, 0), "category 'nk' appears twice");
    sn_frame_free(&fr);
    H5Fclose(f);
}

/* Columns the way anndata 0.8-0.12 writes them, built with libhdf5. */
static void test_anndata_columns(void **st)
{
    (void)st;
    hid_t f = new_file("anncols.h5");
    raw_frame(f, "obs", 3);
    hid_t g = H5Gopen2(f, "obs", H5P_DEFAULT), b = bool_type();
    const char *order[] = {"ni", "nb", "numcat", "fixed", "legacy", "awk", "u32", "ns"};
    hid_t st_t = H5Tcopy(H5T_C_S1);
    H5Tset_size(st_t, H5T_VARIABLE);
    H5Tset_cset(st_t, H5T_CSET_UTF8);
    hsize_t no = 8;
    hid_t sp = H5Screate_simple(1, &no, NULL);
    H5Adelete(g, "column-order");
    hid_t a = H5Acreate2(g, "column-order", st_t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st_t, order);
    H5Aclose(a);
    H5Sclose(sp);
    /* nullable-integer: int8 values, mask True = missing */
    hid_t c = group(g, "ni");
    enc(c, "nullable-integer", "0.1.0");
    int8_t ni[] = {5, 1, -3};
    int8_t mask[] = {0, 1, 0};
    ds_1d(c, "values", H5T_STD_I8LE, H5T_NATIVE_INT8, 3, ni);
    ds_1d(c, "mask", b, b, 3, mask);
    H5Gclose(c);
    /* nullable-boolean */
    c = group(g, "nb");
    enc(c, "nullable-boolean", "0.1.0");
    int8_t nb[] = {1, 1, 0};
    int8_t mb[] = {0, 1, 0};
    ds_1d(c, "values", b, b, 3, nb);
    ds_1d(c, "mask", b, b, 3, mb);
    H5Gclose(c);
    /* categorical with numeric (int64) categories */
    c = group(g, "numcat");
    enc(c, "categorical", "0.2.0");
    int64_t cats[] = {10, 20};
    int64_t codes[] = {1, -1, 0}; /* int64 codes are read too */
    ds_1d(c, "categories", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, cats);
    enc_at(c, "categories", "array", "0.2.0");
    ds_1d(c, "codes", H5T_STD_I64LE, H5T_NATIVE_INT64, 3, codes);
    enc_at(c, "codes", "array", "0.2.0");
    signed char ord = 0;
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(c, "ordered", b, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, b, &ord);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(c);
    /* fixed-length NULLPAD strings (not terminated when full) */
    hid_t ft = H5Tcopy(H5T_C_S1);
    H5Tset_size(ft, 4);
    H5Tset_strpad(ft, H5T_STR_NULLPAD);
    ds_1d(g, "fixed", ft, ft, 3, "abcdxy\0\0z\0\0\0");
    enc_at(g, "fixed", "string-array", "0.2.0");
    H5Tclose(ft);
    /* attribute-less float column (anndata 0.7) */
    double lv[] = {0.5, 1.5, 2.5};
    ds_1d(g, "legacy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, lv);
    /* an element type we do not read: skipped with a warning */
    c = group(g, "awk");
    enc(c, "awkward-array", "0.1.0");
    H5Gclose(c);
    uint32_t u[] = {4000000000u, 0, 1};
    ds_1d(g, "u32", H5T_STD_U32LE, H5T_NATIVE_UINT32, 3, u);
    enc_at(g, "u32", "array", "0.2.0");
    /* nullable-string-array (anndata 0.11+) */
    c = group(g, "ns");
    enc(c, "nullable-string-array", "0.1.0");
    const char *nsv[] = {"x", "hidden", "z"};
    vlen_strs(c, "values", nsv, 3);
    ds_1d(c, "mask", b, b, 3, mask);
    H5Gclose(c);
    H5Tclose(b);
    H5Tclose(st_t);
    H5Gclose(g);

    sn_frame fr;
    sn_log_setup("test_h5ad", SN_LOG_QUIET);
    assert_int_equal(sn_h5ad_read_frame(f, "obs", &fr), 0);
    sn_log_setup("test_h5ad", SN_LOG_WARN);
    assert_int_equal(fr.ncol, 7); /* awk skipped */
    sn_col *x = sn_frame_get(&fr, "ni");
    assert_true(x && x->type == SN_COL_F64 && x->v.f64[0] == 5 && isnan(x->v.f64[1]) && x->v.f64[2] == -3);
    x = sn_frame_get(&fr, "nb");
    assert_true(x && x->type == SN_COL_BOOL && x->v.b[0] == 1 && x->v.b[1] == SN_BOOL_NA && x->v.b[2] == 0);
    x = sn_frame_get(&fr, "numcat");
    assert_true(x && x->type == SN_COL_CAT && x->ncat == 2 && !x->ordered);
    assert_string_equal(x->cats[0], "10");
    assert_true(x->v.codes[0] == 1 && x->v.codes[1] == -1);
    x = sn_frame_get(&fr, "fixed");
    assert_true(x && x->type == SN_COL_STR);
    assert_string_equal(x->v.str[0], "abcd");
    assert_string_equal(x->v.str[1], "xy");
    assert_string_equal(x->v.str[2], "z");
    x = sn_frame_get(&fr, "legacy");
    assert_true(x && x->type == SN_COL_F64 && x->v.f64[2] == 2.5);
    x = sn_frame_get(&fr, "u32");
    assert_true(x && x->type == SN_COL_I64 && x->v.i64[0] == 4000000000LL);
    x = sn_frame_get(&fr, "ns");
    assert_true(x && x->type == SN_COL_STR);
    assert_string_equal(x->v.str[1], "");
    assert_string_equal(x->v.str[2], "z");
    assert_null(sn_frame_get(&fr, "awk"));
    double *v;
    int64_t n;
    assert_int_equal(sn_h5ad_read_vec(f, "obs/ni", &v, &n), 0);
    assert_true(n == 3 && isnan(v[1]) && v[2] == -3);
    free(v);
    sn_frame_free(&fr);
    H5Fclose(f);
}

/* anndata 0.7: categorical codes reference their categories. */
static void test_legacy_categorical(void **st)
{
    (void)st;
    hid_t f = new_file("legacy.h5");
    raw_frame(f, "obs", 3);
    hid_t g = H5Gopen2(f, "obs", H5P_DEFAULT);
    hid_t cg = group(g, "__categories");
    const char *cats[] = {"A", "B"};
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    ds_1d(cg, "grp", t, t, 2, cats);
    H5Tclose(t);
    hid_t b = bool_type(), sp = H5Screate(H5S_SCALAR);
    signed char one = 1;
    hid_t cds = H5Dopen2(cg, "grp", H5P_DEFAULT);
    hid_t a = H5Acreate2(cds, "ordered", b, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, b, &one);
    H5Aclose(a);
    H5Dclose(cds);
    int8_t codes[] = {1, 0, -1};
    ds_1d(g, "grp", H5T_STD_I8LE, H5T_NATIVE_INT8, 3, codes);
    hobj_ref_t ref;
    assert_true(H5Rcreate(&ref, g, "__categories/grp", H5R_OBJECT, -1) >= 0);
    hid_t ds = H5Dopen2(g, "grp", H5P_DEFAULT);
    a = H5Acreate2(ds, "categories", H5T_STD_REF_OBJ, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_STD_REF_OBJ, &ref);
    H5Aclose(a);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(b);
    H5Gclose(cg);
    /* 0.7 frames list their columns; without column-order every child but
     * the index and __categories is a column */
    H5Adelete(g, "column-order");
    H5Gclose(g);
    sn_frame fr;
    assert_int_equal(sn_h5ad_read_frame(f, "obs", &fr), 0);
    assert_int_equal(fr.ncol, 1);
    sn_col *c = &fr.cols[0];
    assert_string_equal(c->name, "grp");
    assert_true(c->type == SN_COL_CAT && c->ncat == 2 && c->ordered == 1);
    assert_string_equal(c->cats[1], "B");
    assert_true(c->v.codes[0] == 1 && c->v.codes[2] == -1);
    sn_frame_free(&fr);
    H5Fclose(f);
}

static void test_empty_column_order_and_file(void **st)
{
    (void)st;
    hid_t f = new_file("emptycols.h5");
    raw_frame(f, "obs", 2); /* column-order: float64[0], as h5py writes it */
    raw_frame(f, "var", 3);
    int64_t no, nv;
    assert_int_equal(sn_h5ad_check(f, &no, &nv), 0);
    assert_true(no == 2 && nv == 3);
    sn_frame fr;
    assert_int_equal(sn_h5ad_read_frame(f, "obs", &fr), 0);
    assert_int_equal(fr.ncol, 0);
    assert_string_equal(fr.index[1], "r1");
    sn_frame_free(&fr);
    sn_adata a;
    expect_err(sn_h5ad_read(f, NULL, &a), "X: missing (the file has no X matrix)");
    expect_err(sn_h5ad_read(f, "counts", &a), "layers/counts: missing (no such layer)");
    H5Fclose(f);
}

static void write_file(const char *name, const sn_adata *a, int comp)
{
    sn_h5 *h;
    assert_int_equal(sn_h5_create(tmp(name), &h), 0);
    assert_int_equal(sn_h5ad_init(sn_h5_id(h)), 0);
    assert_int_equal(sn_h5ad_write(sn_h5_id(h), a, comp), 0);
    assert_int_equal(sn_h5ad_history_append(sn_h5_id(h), "scnet-prep 0.1.0 counts.h5"), 0);
    assert_int_equal(sn_h5_commit(h), 0);
}

static void test_file_roundtrip(void **st)
{
    (void)st;
    sn_adata a, r;
    make_adata(&a, 4, 5);
    write_file("whole.h5ad", &a, 0);
    sn_h5 *h;
    assert_int_equal(sn_h5_open(tmp("whole.h5ad"), &h), 0);
    int64_t no, nv;
    assert_int_equal(sn_h5ad_check(sn_h5_id(h), &no, &nv), 0);
    assert_true(no == 4 && nv == 5);
    assert_int_equal(sn_h5ad_read(sn_h5_id(h), NULL, &r), 0);
    assert_csr_equal(&a.X, &r.X);
    assert_string_equal(r.var.index_name, "symbol");
    assert_string_equal(r.obs.index[3], "cell3");
    assert_col_equal(&a.obs.cols[0], &r.obs.cols[0]);
    char e[32];
    for (const char *const *d = (const char *const[]){"obsm", "varm", "obsp", "varp", "layers", "uns", NULL}; *d; d++) {
        assert_int_equal(sn_h5ad_encoding(sn_h5_id(h), *d, e, sizeof e), 0);
        assert_string_equal(e, "dict");
    }
    assert_int_equal(sn_h5ad_encoding(sn_h5_id(h), "", e, sizeof e), 0);
    assert_string_equal(e, "anndata");
    sn_h5_close(h);
    sn_adata_free(&r);
    sn_adata_free(&a);
}

/* Same input, same bytes: no timestamps in object headers. */
static void test_deterministic_bytes(void **st)
{
    (void)st;
    sn_adata a;
    make_adata(&a, 30, 20);
    write_file("det1.h5ad", &a, 4);
    sleep(1);
    write_file("det2.h5ad", &a, 4);
    unsigned char *x, *y;
    size_t nx, ny;
    assert_int_equal(sn_read_all(tmp("det1.h5ad"), &x, &nx), 0);
    assert_int_equal(sn_read_all(tmp("det2.h5ad"), &y, &ny), 0);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    free(x);
    free(y);
    sn_adata_free(&a);
}

/* A write that fails part way (here past a file-size limit, as on a full
 * disk) is never reported to HDF5, whose error paths crash in 1.10: the
 * file stays readable through its handle, with what was written after the
 * failure kept in memory, and the commit fails naming the file and the
 * error, leaving nothing behind. */
static void test_write_fault(void **st)
{
    (void)st;
    sn_mat m[2] = {{700, 300, NULL}, {50, 40, NULL}}, r;
    for (int k = 0; k < 2; k++) {
        m[k].data = malloc(sizeof(float) * (size_t)(m[k].nrow * m[k].ncol));
        for (int64_t i = 0; i < m[k].nrow * m[k].ncol; i++)
            m[k].data[i] = (float)(i % 1009) * 0.5f + (float)k;
    }
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 256 << 10; /* the first matrix is 820 KiB */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    sn_h5 *h;
    assert_int_equal(sn_h5_create(tmp("fault.h5ad"), &h), 0);
    hid_t f = sn_h5_id(h);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(sn_h5ad_write_mat(f, "a", &m[0], 0), 0);
    assert_int_equal(sn_h5ad_write_mat(f, "b", &m[1], 0), 0);
    assert_int_equal(H5Fflush(f, H5F_SCOPE_GLOBAL), 0);
    setrlimit(RLIMIT_FSIZE, &old);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sn_h5ad_read_mat(f, k ? "b" : "a", &r), 0);
        assert_true(r.nrow == m[k].nrow && r.ncol == m[k].ncol);
        assert_memory_equal(r.data, m[k].data, sizeof(float) * (size_t)(r.nrow * r.ncol));
        free(r.data);
    }
    expect_err(sn_h5_commit(h), "fault.h5ad: write failed: File too large");
    signal(SIGXFSZ, prev);
    struct stat sb;
    assert_int_not_equal(stat(tmp("fault.h5ad"), &sb), 0);
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; (e = readdir(d));)
        assert_null(strstr(e->d_name, "fault.h5ad"));
    closedir(d);
    free(m[0].data);
    free(m[1].data);
}

static void test_empty_matrix(void **st)
{
    (void)st;
    sn_adata a, r;
    make_adata(&a, 0, 5);
    write_file("empty.h5ad", &a, 4);
    sn_h5 *h;
    assert_int_equal(sn_h5_open(tmp("empty.h5ad"), &h), 0);
    int64_t no, nv;
    assert_int_equal(sn_h5ad_check(sn_h5_id(h), &no, &nv), 0);
    assert_true(no == 0 && nv == 5);
    assert_int_equal(sn_h5ad_read(sn_h5_id(h), NULL, &r), 0);
    assert_int_equal(r.X.nrow, 0);
    assert_int_equal(r.X.ncol, 5);
    assert_int_equal(sn_csr_nnz(&r.X), 0);
    assert_int_equal(r.obs.n, 0);
    assert_int_equal(r.obs.ncol, 1);
    sn_mat m;
    assert_int_equal(sn_h5ad_read_mat(sn_h5_id(h), "X", &m), 0);
    assert_true(m.nrow == 0 && m.ncol == 5);
    sn_mat_free(&m);
    sn_h5_close(h);
    sn_adata_free(&r);
    sn_adata_free(&a);
}

static void test_copy_skip_and_history(void **st)
{
    (void)st;
    sn_adata a;
    make_adata(&a, 3, 2);
    sn_h5 *src, *dst;
    assert_int_equal(sn_h5_create(tmp("src.h5ad"), &src), 0);
    hid_t s = sn_h5_id(src);
    assert_int_equal(sn_h5ad_init(s), 0);
    assert_int_equal(sn_h5ad_write(s, &a, 0), 0);
    sn_mat m;
    assert_int_equal(sn_mat_zeros(&m, 3, 2), 0);
    assert_int_equal(sn_h5ad_write_mat(s, "obsm/X_keep", &m, 0), 0);
    assert_int_equal(sn_h5ad_write_csr(s, "layers/counts", &a.X, 0), 0);
    assert_int_equal(sn_h5ad_write_mat(s, "obsm/X_scnet", &m, 0), 0);
    assert_int_equal(sn_h5ad_write_str(s, "uns/scnet/params/device", "cpu"), 0);
    assert_int_equal(sn_h5ad_history_append(s, "scnet-prep 0.1.0 a b"), 0);
    assert_int_equal(sn_h5_commit(src), 0);
    assert_int_equal(sn_h5_open(tmp("src.h5ad"), &src), 0);
    assert_int_equal(sn_h5_create(tmp("dst.h5ad"), &dst), 0);
    hid_t d = sn_h5_id(dst);
    assert_int_equal(sn_h5ad_init(d), 0); /* the copy replaces these */
    const char *skip[] = {"obsm/X_scnet", "uns/scnet/params", "layers", NULL};
    assert_int_equal(sn_h5ad_copy(sn_h5_id(src), d, skip), 0);
    assert_int_equal(sn_h5ad_history_append(d, "scnet-train 0.1.0 --epochs 3"), 0);
    assert_int_equal(sn_h5_commit(dst), 0);
    sn_h5_close(src);
    assert_int_equal(sn_h5_open(tmp("dst.h5ad"), &dst), 0);
    d = sn_h5_id(dst);
    assert_true(sn_h5ad_exists(d, "obsm/X_keep"));
    assert_false(sn_h5ad_exists(d, "obsm/X_scnet"));
    assert_false(sn_h5ad_exists(d, "uns/scnet/params"));
    char **keys;
    int64_t nk;
    assert_int_equal(sn_h5ad_keys(d, "layers", &keys, &nk), 0); /* dst's own, not the source's */
    assert_int_equal(nk, 0);
    sn_free_strings(keys, nk);
    char e[32];
    assert_int_equal(sn_h5ad_encoding(d, "uns/scnet", e, sizeof e), 0);
    assert_string_equal(e, "dict");
    assert_int_equal(sn_h5ad_encoding(d, "", e, sizeof e), 0);
    assert_string_equal(e, "anndata");
    char **h;
    int64_t n;
    assert_int_equal(sn_h5ad_read_strings(d, "uns/scnet/history", &h, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(h[0], "scnet-prep 0.1.0 a b");
    assert_string_equal(h[1], "scnet-train 0.1.0 --epochs 3");
    sn_free_strings(h, n);
    sn_adata r;
    assert_int_equal(sn_h5ad_read(d, NULL, &r), 0);
    assert_csr_equal(&a.X, &r.X);
    sn_adata_free(&r);
    sn_h5_close(dst);
    sn_mat_free(&m);
    sn_adata_free(&a);
}

static void test_dict_mkdir(void **st)
{
    (void)st;
    hid_t f = new_file("dict.h5"), g;
    assert_int_equal(sn_h5ad_dict(f, "uns/a/b/c", &g), 0);
    H5Gclose(g);
    char e[32];
    assert_int_equal(sn_h5ad_encoding(f, "uns/a/b", e, sizeof e), 0);
    assert_string_equal(e, "dict");
    assert_int_equal(sn_h5ad_dict(f, "uns/a", &g), 0); /* existing: just opened */
    H5Gclose(g);
    assert_int_equal(sn_h5ad_write_int(f, "uns/a/n", 1), 0);
    expect_err(sn_h5ad_dict(f, "uns/a/n/deeper", &g), "uns/a/n: exists and is not a group");
    H5Fclose(f);
}

/* LZF chunks as h5py writes them (filter 32000, cd_values {4, 261, size}). */
static void test_lzf_chunks(void **st)
{
    (void)st;
    enum { N = 4096, CH = 1024 };
    hid_t f = new_file("lzf.h5");
    hsize_t n = N, ch = CH;
    hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &ch);
    unsigned cd[3] = {4, 261, CH * 4};
    assert_true(H5Pset_filter(dcpl, 32000, H5Z_FLAG_OPTIONAL, 3, cd) >= 0);
    hid_t ds = H5Dcreate2(f, "v", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    static float vals[N];
    for (int i = 0; i < N; i++)
        vals[i] = (float)(i % 7);
    static unsigned char comp[CH * 4];
    for (int c = 0; c < N / CH; c++) {
        unsigned len = lzf_compress(vals + c * CH, CH * 4, comp, sizeof comp);
        assert_true(len > 0 && len < CH * 4); /* the chunk really is compressed */
        hsize_t off = (hsize_t)c * CH;
        assert_true(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, &off, len, comp) >= 0);
    }
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    enc_at(f, "v", "array", "0.2.0");
    f = reopen(f, "lzf.h5");
    double *v;
    int64_t m;
    assert_int_equal(sn_h5ad_read_vec(f, "v", &v, &m), 0);
    assert_int_equal(m, N);
    for (int i = 0; i < N; i++)
        assert_true(v[i] == vals[i]);
    free(v);
    H5Fclose(f);
}

/* ---- malformed inputs ---- */

static void test_not_anndata(void **st)
{
    (void)st;
    hid_t f = new_file("plain.h5");
    H5Gclose(group(f, "matrix"));
    int64_t no, nv;
    expect_err(sn_h5ad_check(f, &no, &nv), "not an AnnData file (no 'obs' and 'var' groups)");
    H5Fclose(f);
    f = new_file("noobs.h5");
    enc(f, "anndata", "0.1.0");
    raw_frame(f, "var", 2);
    expect_err(sn_h5ad_check(f, &no, &nv), "incomplete AnnData file (no 'obs' group)");
    H5Fclose(f);
}

static void test_pre07_compound_obs(void **st)
{
    (void)st;
    hid_t f = new_file("old.h5ad");
    typedef struct {
        char index[8];
        double n_counts;
    } row;
    hid_t s8 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s8, 8);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(row));
    H5Tinsert(t, "index", HOFFSET(row, index), s8);
    H5Tinsert(t, "n_counts", HOFFSET(row, n_counts), H5T_NATIVE_DOUBLE);
    row rows[2] = {{"c0", 1}, {"c1", 2}};
    ds_1d(f, "obs", t, t, 2, rows);
    ds_1d(f, "var", t, t, 2, rows);
    H5Tclose(t);
    H5Tclose(s8);
    int64_t no, nv;
    assert_int_equal(sn_h5ad_check(f, &no, &nv), SN_EFMT);
    assert_string_equal(sn_errmsg(),
                        "unsupported old .h5ad layout (obs is a compound dataset); re-save it with anndata >= 0.8");
    H5Fclose(f);
}

/* X of 4 x 5 with the given indptr / indices, obs and var to match. */
static hid_t bad_x(const char *name, const int64_t *ip, hsize_t nip, const int32_t *ix, hsize_t nnz, int64_t nrow)
{
    hid_t f = new_file(name);
    static const float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    enc(f, "anndata", "0.1.0");
    raw_frame(f, "obs", 4);
    raw_frame(f, "var", 5);
    raw_csr(f, "X", nrow, 5, ip, nip, ix, v, nnz);
    return f;
}

static void test_bad_sparse(void **st)
{
    (void)st;
    sn_adata a;
    int64_t ok_ip[] = {0, 1, 2, 2, 3}, short_ip[] = {0, 1, 2, 3};
    int32_t ok_ix[] = {0, 4, 1}, far_ix[] = {0, 7, 1};
    hid_t f = bad_x("ip.h5ad", short_ip, 4, ok_ix, 3, 4);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: indptr has 4 entries, expected 5 (rows + 1 for shape 4 x 5)");
    H5Fclose(f);
    f = bad_x("ix.h5ad", ok_ip, 5, far_ix, 3, 4);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: column index 7 out of range [0, 5) in row 1");
    H5Fclose(f);
    f = bad_x("shape.h5ad", ok_ip, 5, ok_ix, 3, 3);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: shape 3 x 5 does not match obs (4 rows) and var (5 rows)");
    H5Fclose(f);
    int64_t end_ip[] = {0, 1, 2, 2, 2};
    f = bad_x("end.h5ad", end_ip, 5, ok_ix, 3, 4);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: indptr ends at 2 but there are 3 stored values");
    H5Fclose(f);
    int64_t dec_ip[] = {0, 2, 1, 3, 3};
    f = bad_x("dec.h5ad", dec_ip, 5, ok_ix, 3, 4);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: indptr is not increasing within [0, 3] at row 1");
    H5Fclose(f);
    int32_t dup_ix[] = {2, 2, 1};
    int64_t dup_ip[] = {0, 2, 2, 2, 3};
    f = bad_x("dup.h5ad", dup_ip, 5, dup_ix, 3, 4);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: entry (0, 2) appears twice");
    /* data and indices of different lengths */
    H5Ldelete(f, "X/data", H5P_DEFAULT);
    float two[2] = {1, 2};
    hid_t g = H5Gopen2(f, "X", H5P_DEFAULT);
    ds_1d(g, "data", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, two);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: data has 2 values but indices has 3");
    /* float indices */
    H5Ldelete(g, "indices", H5P_DEFAULT);
    float fi[3] = {0, 1, 2};
    ds_1d(g, "indices", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, fi);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: 'indices' should hold integers, found float32");
    H5Ldelete(g, "indptr", H5P_DEFAULT);
    expect_err(sn_h5ad_read(f, NULL, &a), "X: sparse matrix without a 'indptr' dataset");
    H5Adelete(g, "shape");
    expect_err(sn_h5ad_read(f, NULL, &a), "X: sparse matrix without a 'shape' attribute");
    H5Gclose(g);
    H5Fclose(f);
}

static void test_bad_frames(void **st)
{
    (void)st;
    hid_t f = new_file("badframe.h5");
    raw_frame(f, "obs", 3);
    hid_t g = H5Gopen2(f, "obs", H5P_DEFAULT), b = bool_type();
    const char *order[] = {"short"};
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hsize_t one = 1;
    hid_t sp = H5Screate_simple(1, &one, NULL);
    H5Adelete(g, "column-order");
    hid_t a = H5Acreate2(g, "column-order", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, order);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    sn_frame fr;
    expect_err(sn_h5ad_read_frame(f, "obs", &fr), "obs: column 'short' (listed in column-order) is missing");
    double v[2] = {1, 2};
    ds_1d(g, "short", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, v);
    enc_at(g, "short", "array", "0.2.0");
    expect_err(sn_h5ad_read_frame(f, "obs", &fr), "obs: column 'short' has 2 rows, the index 3");
    /* a categorical code beyond its categories */
    H5Ldelete(g, "short", H5P_DEFAULT);
    hid_t c = group(g, "short");
    enc(c, "categorical", "0.2.0");
    int8_t codes[] = {0, 5, -1};
    ds_1d(c, "codes", H5T_STD_I8LE, H5T_NATIVE_INT8, 3, codes);
    vlen_strs(c, "categories", (const char *[]){"a", "b"}, 2);
    H5Gclose(c);
    expect_err(sn_h5ad_read_frame(f, "obs", &fr), "obs/short: category code 5 at row 1 out of range (2 categories)");
    attr_str(g, "_index", "nothere");
    expect_err(sn_h5ad_read_frame(f, "obs", &fr), "obs: index dataset 'nothere' (named by _index) is missing");
    H5Tclose(b);
    H5Gclose(g);
    expect_err(sn_h5ad_read_frame(f, "nope", &fr), "nope: missing");
    H5Fclose(f);
}

static void test_write_shape_mismatch(void **st)
{
    (void)st;
    hid_t f = new_file("mismatch.h5");
    sn_adata a;
    make_adata(&a, 4, 5);
    a.X.ncol = 6;
    expect_err(sn_h5ad_write(f, &a, 0), "cannot write: X is 4 x 6 but obs has 4 rows and var 5");
    a.X.ncol = 5;
    a.X.indices[0] = 9;
    expect_err(sn_h5ad_write(f, &a, 0), "X: cannot write: column index 9 out of range [0, 5) in row 0");
    /* rows before indptr's first decrease are checked first, as a reader meets them */
    int64_t p2 = a.X.indptr[2], p3 = a.X.indptr[3];
    assert_true(p3 > p2);
    a.X.indptr[2] = p3, a.X.indptr[3] = p2;
    expect_err(sn_h5ad_write(f, &a, 0), "X: cannot write: column index 9 out of range [0, 5) in row 0");
    a.X.indices[0] = 0;
    expect_err(sn_h5ad_write(f, &a, 0), "X: cannot write: indptr decreases at row 2");
    a.X.indptr[2] = p2, a.X.indptr[3] = p3;
    assert_int_equal(sn_h5ad_write(f, &a, 0), 0);
    sn_adata_free(&a);
    H5Fclose(f);
}

static void test_truncated_file(void **st)
{
    (void)st;
    sn_adata a;
    make_adata(&a, 50, 40);
    write_file("trunc.h5ad", &a, 0);
    struct stat sb;
    assert_int_equal(stat(tmp("trunc.h5ad"), &sb), 0);
    assert_int_equal(truncate(tmp("trunc.h5ad"), sb.st_size / 2), 0);
    sn_h5 *h;
    expect_err(sn_h5_open(tmp("trunc.h5ad"), &h), "truncated");
    assert_int_equal(strncmp(sn_errmsg(), tmp("trunc.h5ad"), strlen(tmp("trunc.h5ad"))), 0); /* file first */
    sn_adata_free(&a);
}

static int setup(void **st)
{
    (void)st;
    const char *t = getenv("TEST_TMP");
    if (t && *t) {
        snprintf(tmpdir, sizeof tmpdir, "%s", t);
    } else {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test_h5ad_XXXXXX");
        if (!mkdtemp(tmpdir))
            return -1;
    }
    sn_h5_quiet();
    return 0;
}

/* After each test every file is closed, so any HDF5 object still open was
 * leaked by the library (error paths included). */
static int no_open_handles(void **st)
{
    (void)st;
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (n != 0) {
        print_error("%zd HDF5 objects left open\n", n);
        return -1;
    }
    return 0;
}

#define T(f) cmocka_unit_test_teardown(f, no_open_handles)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_csr_roundtrip),
        T(test_csr_unsorted_written_sorted),
        T(test_csr_cols),
        T(test_csr_like),
        T(test_direct_read),
        T(test_csc_any_int_types),
        T(test_legacy_elements),
        T(test_dense),
        T(test_vectors_and_scalars),
        T(test_frame_roundtrip),
        T(test_frame_many_categories_and_no_index),
        T(test_write_col),
        T(test_frame_index_name_taken),
        T(test_frame_bad_columns),
        T(test_anndata_columns),
        T(test_legacy_categorical),
        T(test_empty_column_order_and_file),
        T(test_file_roundtrip),
        T(test_deterministic_bytes),
        T(test_write_fault),
        T(test_empty_matrix),
        T(test_copy_skip_and_history),
        T(test_dict_mkdir),
        T(test_lzf_chunks),
        T(test_not_anndata),
        T(test_pre07_compound_obs),
        T(test_bad_sparse),
        T(test_bad_frames),
        T(test_write_shape_mismatch),
        T(test_truncated_file),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
