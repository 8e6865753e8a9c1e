#include "scnet/prepio.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"
#include "scnet/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"

/* About this many bytes of dense rows per write, in each of two buffers:
 * small enough to be reused from the heap, large enough for few HDF5
 * calls. */
#define SCALED_BLOCK_BYTES (4 << 20)

typedef struct {
    const sn_csr *x;
    const double *mean, *std;
    double eps;
    float *zero;
    int64_t per; /* rows per block */
    hid_t ds;
    float *buf[2];
} scaled_t;

static int64_t block_rows(const scaled_t *s, int64_t i)
{
    int64_t r0 = i * s->per;
    return s->x->nrow - r0 < s->per ? s->x->nrow - r0 : s->per;
}

static void scaled_make(void *ctx, int64_t i, int slot)
{
    const scaled_t *s = ctx;
    int64_t r0 = i * s->per;
    sn_prep_scale_rows_team(s->x, s->mean, s->std, s->eps, s->zero, r0, r0 + block_rows(s, i), s->buf[slot]);
}

static int scaled_put(void *ctx, int64_t i, int slot)
{
    const scaled_t *s = ctx;
    hsize_t start[2] = {(hsize_t)(i * s->per), 0}, count[2] = {(hsize_t)block_rows(s, i), (hsize_t)s->x->ncol};
    return sn_h5x_write_slab(s->ds, H5T_NATIVE_FLOAT, 2, start, count, s->buf[slot]);
}

int sn_prepio_write_scaled(hid_t f, const char *name, const sn_csr *x, const double *mean, const double *std,
                           double eps, int comp)
{
    int64_t n = x->nrow, g = x->ncol, dims[2] = {n, g};
    int64_t per = g > 0 ? SCALED_BLOCK_BYTES / (4 * g) : n;
    per = per < 1 ? 1 : per > n ? n : per;
    scaled_t s = {x, mean, std, eps, NULL, per, H5I_INVALID_HID, {NULL, NULL}};
    char path[256];
    snprintf(path, sizeof path, "layers/%s", name);
    hid_t parent;
    const char *leaf;
    SN_TRY(sn_h5x_parent(f, path, &parent, &leaf));
    int rc = sn_h5x_create(parent, leaf, H5T_IEEE_F32LE, 2, dims, comp, &s.ds);
    for (int b = 0; rc == SN_OK && n > 0 && b < 2; b++)
        if (!(s.buf[b] = sn_malloc(sn_mul_size((size_t)per, (size_t)g * sizeof(float)), "scaled rows")))
            rc = SN_ENOMEM;
    if (rc == SN_OK && n > 0 && !(s.zero = sn_prep_scale_zeros(mean, std, eps, g)))
        rc = SN_ENOMEM;
    if (rc == SN_OK && n > 0 && sn_h5x_pipeline((n + per - 1) / per, scaled_make, scaled_put, &s) < 0)
        rc = sn_h5x_fail(SN_EIO, path, "cannot write (disk full?)");
    if (rc == SN_OK)
        rc = sn_h5x_set_enc(s.ds, "array", "0.2.0");
    free(s.buf[0]);
    free(s.buf[1]);
    free(s.zero);
    sn_h5x_close(s.ds);
    H5Gclose(parent);
    return rc;
}

static int write_pca_params(hid_t f, const sn_pca *p, int use_hvg, int scaled)
{
    static const char *solver[] = {"auto", "exact", "randomized"};
    hid_t g;
    SN_TRY(sn_h5ad_dict(f, "uns/pca/params", &g));
    int rc = sn_h5ad_write_bool(g, "zero_center", 1);
    if (rc == SN_OK)
        rc = sn_h5ad_write_bool(g, "use_highly_variable", use_hvg);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "n_comps", p->k);
    if (rc == SN_OK)
        rc = sn_h5ad_write_bool(g, "scaled", scaled);
    if (rc == SN_OK && p->solver > 0)
        rc = sn_h5ad_write_str(g, "solver", solver[p->solver]);
    if (rc == SN_OK && p->solver == SN_PCA_RANDOMIZED)
        rc = sn_h5ad_write_int(g, "iterations", p->iterations);
    H5Gclose(g);
    return rc;
}

int sn_prepio_write_pca(hid_t f, const sn_pca *p, const int64_t *genes, int64_t ngenes, int use_hvg, int scaled,
                        int comp)
{
    SN_TRY(sn_h5ad_write_mat(f, "obsm/X_pca", &p->scores, comp));
    if (!p->loadings.data)
        return SN_OK;
    sn_mat v;
    SN_TRY(sn_mat_alloc(&v, ngenes, p->k));
    for (int64_t j = 0; j < ngenes; j++)
        memcpy(v.data + j * p->k, p->loadings.data + (genes ? genes[j] : j) * p->k, (size_t)p->k * sizeof(float));
    int rc = sn_h5ad_write_mat(f, "varm/PCs", &v, comp);
    sn_mat_free(&v);
    if (rc == SN_OK)
        rc = sn_h5ad_write_vec(f, "uns/pca/variance", p->variance, p->k, 0);
    if (rc == SN_OK)
        rc = sn_h5ad_write_vec(f, "uns/pca/variance_ratio", p->variance_ratio, p->k, 0);
    return rc < 0 ? rc : write_pca_params(f, p, use_hvg, scaled);
}

int sn_prepio_write_neighbors(hid_t f, const sn_knn *g, int n_pcs, int comp)
{
    sn_csr m;
    SN_TRY(sn_knn_distances(g, &m));
    int rc = sn_h5ad_write_csr(f, "obsp/distances", &m, comp);
    sn_csr_free(&m);
    if (rc == SN_OK && (rc = sn_knn_connectivities(g, &m)) == SN_OK) {
        rc = sn_h5ad_write_csr(f, "obsp/connectivities", &m, comp);
        sn_csr_free(&m);
    }
    if (rc < 0)
        return rc;
    SN_TRY(sn_h5ad_write_str(f, "uns/neighbors/connectivities_key", "connectivities"));
    SN_TRY(sn_h5ad_write_str(f, "uns/neighbors/distances_key", "distances"));
    hid_t p;
    SN_TRY(sn_h5ad_dict(f, "uns/neighbors/params", &p));
    rc = sn_h5ad_write_int(p, "n_neighbors", g->k);
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(p, "method", "umap");
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(p, "random_state", 0);
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(p, "metric", "euclidean");
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(p, "n_pcs", n_pcs);
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(p, "use_rep", "X_pca");
    H5Gclose(p);
    return rc;
}

int sn_prepio_write_items(hid_t f, const char *group, const sn_prepio_item *items, int n)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(f, group, &g));
    int rc = SN_OK;
    for (int i = 0; i < n && rc == SN_OK; i++) {
        double v = items[i].num;
        if (items[i].str)
            rc = sn_h5ad_write_str(g, items[i].key, items[i].str);
        else if (!items[i].real && v == floor(v) && fabs(v) < 9e15)
            rc = sn_h5ad_write_int(g, items[i].key, (int64_t)v);
        else
            rc = sn_h5ad_write_scalar(g, items[i].key, v);
    }
    H5Gclose(g);
    return rc;
}

int sn_prepio_col(sn_frame *f, const char *name, sn_coltype type, const void *v)
{
    sn_col c;
    size_t size = type == SN_COL_F64 || type == SN_COL_I64 ? 8 : type == SN_COL_BOOL ? 1 : 4;
    if (type != SN_COL_F64 && type != SN_COL_F32 && type != SN_COL_BOOL && type != SN_COL_I64)
        return sn_err(SN_EINVAL, "column '%s': unsupported type", name);
    SN_TRY(sn_col_new(&c, name, type, f->n));
    if (type == SN_COL_F32)
        for (int64_t i = 0; i < f->n; i++)
            c.v.f32[i] = (float)((const double *)v)[i];
    else
        memcpy(c.v.f64, v, (size_t)f->n * size);
    int rc = sn_frame_put(f, &c);
    if (rc < 0)
        sn_col_free(&c);
    return rc;
}
