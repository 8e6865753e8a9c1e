/* 10x Genomics HDF5 counts (Cell Ranger v2 and v3+).  The stored genes ×
 * cells CSC arrays are read unchanged as cells × genes CSR. */
#include "read_int.h"

#include "scnet/h5.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT10X "(not a 10x HDF5 file?)"

/* ---- datasets ---- */

/* H5Lexists fails (quietly: sn_h5_open turned the error stack off) when a
 * parent group is missing, which counts as absent too. */
static int exists(hid_t loc, const char *path)
{
    return H5Lexists(loc, path, H5P_DEFAULT) > 0;
}

/* Open a 1-D dataset and give its length. */
static int ds_open(hid_t loc, const char *path, hid_t *d, int64_t *n)
{
    if (!exists(loc, path) || (*d = H5Dopen2(loc, path, H5P_DEFAULT)) < 0)
        return sn_err(SN_EFMT, "dataset '%s' is missing " NOT10X, path);
    hid_t s = H5Dget_space(*d);
    hsize_t dims[1] = {0};
    int nd = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (nd == 1)
        H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    if (nd != 1) {
        H5Dclose(*d);
        return sn_err(SN_EFMT, "dataset '%s' has %d dimensions, expected 1", path, nd);
    }
    *n = (int64_t)dims[0];
    return SN_OK;
}

static int ds_class(hid_t d, const char *path, int want_float)
{
    hid_t t = H5Dget_type(d);
    H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    H5Tclose(t);
    if (c == H5T_INTEGER || (want_float && c == H5T_FLOAT))
        return SN_OK;
    return sn_err(SN_EFMT, "dataset '%s' does not hold %s", path, want_float ? "numbers" : "integers");
}

/* Read want elements of a 1-D numeric dataset converted to mem (any integer
 * width or signedness is accepted); why explains the expected length. */
static int ds_read(hid_t loc, const char *path, int64_t want, const char *why, hid_t mem, int want_float,
                   void *buf)
{
    hid_t d;
    int64_t n;
    SN_TRY(ds_open(loc, path, &d, &n));
    int rc = ds_class(d, path, want_float);
    if (rc == SN_OK && n != want)
        rc = sn_err(SN_EFMT, "dataset '%s' has %lld entries, expected %lld%s%s%s", path, (long long)n,
                    (long long)want, *why ? " (" : "", why, *why ? ")" : "");
    if (rc == SN_OK && n > 0 && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        rc = sn_err(SN_EFMT, "cannot read dataset '%s' (corrupt data?)", path);
    H5Dclose(d);
    return rc;
}

static char *fixed_str(const char *p, size_t sz, H5T_str_t pad)
{
    size_t n = 0;
    while (n < sz && p[n])
        n++;
    if (pad == H5T_STR_SPACEPAD)
        while (n > 0 && p[n - 1] == ' ')
            n--;
    char *s = sn_malloc(n + 1, "a string");
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static int read_fixed(hid_t d, hid_t ft, const char *path, int64_t n, char **out)
{
    size_t sz = H5Tget_size(ft);
    H5T_str_t pad = H5Tget_strpad(ft);
    char *buf = sn_malloc(sn_mul_size((size_t)n, sz), "strings");
    hid_t mt = H5Tcopy(H5T_C_S1);
    int rc = buf ? SN_OK : SN_ENOMEM;
    /* NULLPAD in memory: full-width strings come without a terminator, and
     * fixed_str never reads past sz bytes. */
    if (rc == SN_OK && (H5Tset_size(mt, sz) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
                        H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
        rc = sn_err(SN_EFMT, "cannot read the strings of dataset '%s' (corrupt data?)", path);
    for (int64_t i = 0; rc == SN_OK && i < n; i++)
        if (!(out[i] = fixed_str(buf + (size_t)i * sz, sz, pad)))
            rc = SN_ENOMEM;
    H5Tclose(mt);
    free(buf);
    return rc;
}

static int read_vlen(hid_t d, hid_t ft, const char *path, int64_t n, char **out)
{
    char **buf = sn_calloc((size_t)n, sizeof *buf, "strings");
    if (!buf)
        return SN_ENOMEM;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    int rc = SN_OK;
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        rc = sn_err(SN_EFMT, "cannot read the strings of dataset '%s' (corrupt data?)", path);
    } else {
        for (int64_t i = 0; rc == SN_OK && i < n; i++)
            if (!(out[i] = sn_strdup(buf[i] ? buf[i] : "")))
                rc = SN_ENOMEM;
        hid_t s = H5Dget_space(d);
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, buf);
        H5Sclose(s);
    }
    H5Tclose(mt);
    free(buf);
    return rc;
}

/* A 1-D string dataset of want entries (why: of what), fixed-length or
 * variable-length. */
static int read_strings(hid_t loc, const char *path, int64_t want, const char *why, char ***out)
{
    hid_t d;
    int64_t n;
    *out = NULL;
    SN_TRY(ds_open(loc, path, &d, &n));
    hid_t ft = H5Dget_type(d);
    int rc = SN_OK;
    char **v = NULL;
    if (H5Tget_class(ft) != H5T_STRING)
        rc = sn_err(SN_EFMT, "dataset '%s' does not hold strings", path);
    else if (n != want)
        rc = sn_err(SN_EFMT, "dataset '%s' has %lld entries, expected %lld (%s)", path, (long long)n,
                    (long long)want, why);
    else if (!(v = sn_calloc((size_t)n + 1, sizeof *v, "strings")))
        rc = SN_ENOMEM;
    else if (n > 0)
        rc = H5Tis_variable_str(ft) > 0 ? read_vlen(d, ft, path, n, v) : read_fixed(d, ft, path, n, v);
    if (rc < 0 && v) {
        sn_free_strings(v, n);
        v = NULL;
    }
    H5Tclose(ft);
    H5Dclose(d);
    *out = v;
    return rc;
}

/* ---- the matrix ---- */

static void join(char *buf, size_t len, const char *grp, const char *name)
{
    snprintf(buf, len, "%s/%s", grp, name);
}

static int read_shape(hid_t loc, const char *grp, int64_t *nfeat, int64_t *ncell)
{
    char p[512];
    int64_t shape[2];
    join(p, sizeof p, grp, "shape");
    SN_TRY(ds_read(loc, p, 2, "features, cells", H5T_NATIVE_INT64, 0, shape));
    if (shape[0] < 0 || shape[1] < 0 || shape[0] > INT32_MAX)
        return sn_err(SN_EFMT, "dataset '%s' holds an impossible shape [%lld, %lld]", p, (long long)shape[0],
                      (long long)shape[1]);
    *nfeat = shape[0];
    *ncell = shape[1];
    return SN_OK;
}

static int check_indptr(const sn_csr *x, const char *grp, int64_t nnz)
{
    for (int64_t i = 0; i < x->nrow; i++)
        if (x->indptr[i + 1] < x->indptr[i])
            return sn_err(SN_EFMT, "'%s/indptr' decreases at cell %lld", grp, (long long)i);
    if (x->indptr[0] != 0 || x->indptr[x->nrow] != nnz)
        return sn_err(SN_EFMT, "'%s/indptr' runs from %lld to %lld, expected 0 to %lld (the length of '%s/data')",
                      grp, (long long)x->indptr[0], (long long)x->indptr[x->nrow], (long long)nnz, grp);
    return SN_OK;
}

static int check_entries(sn_csr *x, const char *grp)
{
    for (int64_t i = 0; i < x->nrow; i++)
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++) {
            if (x->indices[k] < 0 || x->indices[k] >= x->ncol)
                return sn_err(SN_EFMT, "'%s/indices' holds feature index %d for cell %lld, outside 0..%lld", grp,
                              x->indices[k], (long long)i, (long long)x->ncol - 1);
            if (!isfinite(x->data[k]) || x->data[k] < 0)
                return sn_err(SN_EFMT, "'%s/data' holds %s %g for cell %lld", grp,
                              x->data[k] < 0 ? "a negative count" : "a non-finite value", (double)x->data[k],
                              (long long)i);
        }
    int64_t dr;
    int32_t dc;
    int r = sn_rd_sort_rows(x, &dr, &dc);
    if (r > 0)
        return sn_err(SN_EFMT, "'%s/indices' lists feature %d twice for cell %lld", grp, dc, (long long)dr);
    return r;
}

static int read_matrix(hid_t loc, const char *grp, sn_csr *x)
{
    char p[512], q[512], r[512];
    int64_t nfeat = 0, ncell = 0, nnz = 0, nidx = 0, nptr = 0;
    hid_t d;
    int rc = SN_OK;
    SN_TRY(read_shape(loc, grp, &nfeat, &ncell));
    join(p, sizeof p, grp, "data");
    SN_TRY(ds_open(loc, p, &d, &nnz));
    H5Dclose(d);
    join(q, sizeof q, grp, "indices");
    SN_TRY(ds_open(loc, q, &d, &nidx));
    H5Dclose(d);
    if (nidx != nnz)
        return sn_err(SN_EFMT, "'%s' has %lld entries but '%s' has %lld", q, (long long)nidx, p, (long long)nnz);
    join(r, sizeof r, grp, "indptr");
    SN_TRY(ds_open(loc, r, &d, &nptr));
    H5Dclose(d);
    /* Lengths agree with 'shape' before anything is allocated from it. */
    if (nptr != ncell + 1)
        return sn_err(SN_EFMT, "dataset '%s' has %lld entries, expected %lld (cells + 1, from 'shape')", r,
                      (long long)nptr, (long long)ncell + 1);
    SN_TRY(sn_csr_alloc(x, ncell, nfeat, nnz));
    SN_CHECK(ds_read(loc, p, nnz, "", H5T_NATIVE_FLOAT, 1, x->data));
    /* Out-of-range indices saturate when narrowed to int32, so the range
     * check below still catches them. */
    SN_CHECK(ds_read(loc, q, nnz, "", H5T_NATIVE_INT32, 0, x->indices));
    SN_CHECK(ds_read(loc, r, ncell + 1, "", H5T_NATIVE_INT64, 0, x->indptr));
    SN_CHECK(check_indptr(x, grp, nnz));
    SN_CHECK(check_entries(x, grp));
out:
    if (rc < 0)
        sn_csr_free(x);
    return rc;
}

/* Optional string dataset: *v stays NULL when absent. */
static int opt_strings(hid_t loc, const char *path, int64_t n, char ***v)
{
    *v = NULL;
    return exists(loc, path) ? read_strings(loc, path, n, "one per feature", v) : SN_OK;
}

/* The barcodes and feature ids are as many as 'shape' says, checked
 * before the matrix: a wrong shape then is named, not an index it puts out
 * of range. */
static int check_labels(hid_t loc, const char *grp, const char *ids)
{
    char p[512], sh[512];
    int64_t n[2], len;
    const char *what[2] = {ids, "barcodes"};
    SN_TRY(read_shape(loc, grp, &n[0], &n[1]));
    join(sh, sizeof sh, grp, "shape");
    for (int k = 0; k < 2; k++) {
        hid_t d;
        join(p, sizeof p, grp, what[k]);
        SN_TRY(ds_open(loc, p, &d, &len));
        H5Dclose(d);
        if (len != n[k])
            return sn_err(SN_EFMT, "'%s' says %lld %s, but '%s' lists %lld", sh, (long long)n[k],
                          k ? "cells" : "features", p, (long long)len);
    }
    return SN_OK;
}

/* X and obs from grp; var index from names (or ids when names is absent). */
static int read_core(hid_t loc, const char *grp, const char *names, const char *ids, sn_adata *a)
{
    char p[512];
    SN_TRY(check_labels(loc, grp, ids));
    SN_TRY(read_matrix(loc, grp, &a->X));
    sn_frame_init(&a->obs, a->X.nrow);
    sn_frame_init(&a->var, a->X.ncol);
    join(p, sizeof p, grp, "barcodes");
    SN_TRY(read_strings(loc, p, a->X.nrow, "one per cell", &a->obs.index));
    char **idv;
    join(p, sizeof p, grp, ids);
    SN_TRY(read_strings(loc, p, a->X.ncol, "one per feature", &idv));
    join(p, sizeof p, grp, names);
    int rc = opt_strings(loc, p, a->X.ncol, &a->var.index);
    if (rc < 0) {
        sn_free_strings(idv, a->X.ncol);
        return rc;
    }
    if (!a->var.index) { /* no symbols: the ids name the genes */
        a->var.index = idv;
        return SN_OK;
    }
    return sn_rd_str_col(&a->var, "gene_ids", idv);
}

static int cat_col(sn_adata *a, hid_t loc, const char *path, const char *name)
{
    char **v;
    SN_TRY(opt_strings(loc, path, a->var.n, &v));
    int rc = v ? sn_rd_cat_col(&a->var, name, v) : SN_OK;
    sn_free_strings(v, v ? a->var.n : 0);
    return rc;
}

static int read_v3(hid_t fid, sn_adata *a)
{
    SN_TRY(read_core(fid, "matrix", "features/name", "features/id", a));
    SN_TRY(cat_col(a, fid, "matrix/features/feature_type", "feature_types"));
    return cat_col(a, fid, "matrix/features/genome", "genome");
}

/* ---- genomes ---- */

typedef struct {
    char names[512];
    int n;
    char first[256];
} genomes;

static herr_t add_genome(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    genomes *gs = op;
    char p[512];
    snprintf(p, sizeof p, "%s/indptr", name);
    if (info->type != H5L_TYPE_HARD || !exists(g, name) || !exists(g, p))
        return 0;
    if (gs->n++ == 0)
        snprintf(gs->first, sizeof gs->first, "%s", name);
    size_t used = strlen(gs->names);
    snprintf(gs->names + used, sizeof gs->names - used, "%s%s", used ? ", " : "", name);
    return 0;
}

static int pick_genome(hid_t fid, const char *want, const char **grp, genomes *gs)
{
    memset(gs, 0, sizeof *gs);
    hsize_t idx = 0;
    H5Literate(fid, H5_INDEX_NAME, H5_ITER_INC, &idx, add_genome, gs);
    if (gs->n == 0)
        return sn_err(SN_EFMT, "neither a 'matrix' group (Cell Ranger 3+) nor a genome group (Cell Ranger 2) "
                               "found " NOT10X);
    if (want) {
        char p[512];
        snprintf(p, sizeof p, "%s/indptr", want);
        if (!exists(fid, p))
            return sn_err(SN_EINVAL, "no genome '%s' in the file (genomes: %s)", want, gs->names);
        *grp = want;
        return SN_OK;
    }
    if (gs->n > 1)
        return sn_err(SN_EINVAL, "the file holds several genomes (%s): choose one with --genome", gs->names);
    *grp = gs->first;
    return SN_OK;
}

static int read_v2(hid_t fid, const char *want, sn_adata *a)
{
    genomes gs;
    const char *grp = NULL;
    SN_TRY(pick_genome(fid, want, &grp, &gs));
    return read_core(fid, grp, "gene_names", "genes", a);
}

/* v3 files with several genomes (barnyard experiments): keep one. */
static int keep_genome(sn_adata *a, const char *want)
{
    const sn_col *c = sn_frame_get(&a->var, "genome");
    if (!c)
        return sn_err(SN_EINVAL, "a genome was asked for but the file has no 'matrix/features/genome'");
    uint8_t *keep = sn_malloc((size_t)a->var.n + 1, "a feature mask");
    if (!keep)
        return SN_ENOMEM;
    int64_t nkeep = 0;
    char buf[8];
    for (int64_t j = 0; j < a->var.n; j++)
        nkeep += keep[j] = strcmp(sn_col_str(c, j, buf, sizeof buf), want) == 0;
    int rc = nkeep ? sn_rd_keep_vars(a, keep) : sn_err(SN_EINVAL, "no feature of genome '%s' in the file", want);
    free(keep);
    return rc;
}

static herr_t find_barcodes(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    char path[512];
    snprintf(path, sizeof path, "%s/barcodes", name);
    (void)info;
    if (exists(g, path)) {
        *(int *)op = 1;
        return 1;
    }
    return 0;
}

int sn_is_10x_h5(hid_t fid)
{
    if (exists(fid, "obs"))
        return 0;
    if (exists(fid, "matrix/barcodes"))
        return 1;
    int found = 0;
    hsize_t idx = 0;
    H5Literate(fid, H5_INDEX_NAME, H5_ITER_INC, &idx, find_barcodes, &found);
    return found;
}

int sn_read_10x_fid(hid_t fid, const char *name, const sn_read_opts *o, sn_adata *a)
{
    static const sn_read_opts defaults = {0};
    memset(a, 0, sizeof *a);
    o = o ? o : &defaults;
    int rc = exists(fid, "matrix") ? read_v3(fid, a) : read_v2(fid, o->genome, a);
    if (rc == SN_OK && o->genome && exists(fid, "matrix"))
        rc = keep_genome(a, o->genome);
    if (rc < 0)
        sn_err_prefix(rc, "%s: ", name);
    if (rc == SN_OK && !o->all_features)
        rc = sn_rd_gex_only(a, name);
    if (rc == SN_OK)
        rc = sn_rd_make_unique(a->var.index, a->var.n, name, "gene names");
    if (rc == SN_OK)
        rc = sn_rd_make_unique(a->obs.index, a->obs.n, name, "cell barcodes");
    if (rc < 0)
        sn_rd_adata_clear(a);
    return rc;
}

int sn_read_10x_h5(const char *path, const sn_read_opts *o, sn_adata *a)
{
    sn_h5 *f;
    memset(a, 0, sizeof *a);
    SN_TRY(sn_h5_open(path, &f));
    int rc = sn_read_10x_fid(sn_h5_id(f), sn_h5_name(f), o, a);
    sn_h5_close(f);
    return rc;
}
