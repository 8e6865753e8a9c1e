#include "scnet/prepio.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"
#include "scnet/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"

/* About this many bytes of dense rows per write: a buffer small enough to
 * be reused from the heap, large enough for few HDF5 calls. */
#define SCALED_BLOCK_BYTES (8 << 20)

static int write_rows(hid_t ds, int64_t r0, int64_t rows, int64_t g, const float *buf)
{
    hsize_t start[2] = {(hsize_t)r0, 0}, count[2] = {(hsize_t)rows, (hsize_t)g};
    return sn_h5x_write_slab(ds, H5T_NATIVE_FLOAT, 2, start, count, buf);
}

int sn_prepio_write_scaled(hid_t f, const char *name, const sn_csr *x, const double *mean, const double *std,
                           double eps, int comp)
{
    int64_t n = x->nrow, g = x->ncol, dims[2] = {n, g};
    int64_t per = g > 0 ? SCALED_BLOCK_BYTES / (4 * g) : n;
    per = per < 1 ? 1 : per > n ? n : per;
    char path[256];
    snprintf(path, sizeof path, "layers/%s", name);
    hid_t parent, ds = -1;
    const char *leaf;
    SN_TRY(sn_h5x_parent(f, path, &parent, &leaf));
    int rc = sn_h5x_create(parent, leaf, H5T_IEEE_F32LE, 2, dims, comp, &ds);
    float *buf = rc == SN_OK && n > 0 ? sn_malloc(sn_mul_size((size_t)per, (size_t)g * sizeof *buf), "scaled rows")
                                      : NULL;
    if (rc == SN_OK && n > 0 && !buf)
        rc = SN_ENOMEM;
    for (int64_t r0 = 0; rc == SN_OK && r0 < n; r0 += per) {
        int64_t rows = n - r0 < per ? n - r0 : per;
        sn_prep_scale_rows(x, mean, std, eps, r0, r0 + rows, buf);
        if (write_rows(ds, r0, rows, g, buf) < 0)
            rc = sn_h5x_fail(SN_EIO, path, "cannot write (disk full?)");
    }
    if (rc == SN_OK)
        rc = sn_h5x_set_enc(ds, "array", "0.2.0");
    free(buf);
    sn_h5x_close(ds);
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
