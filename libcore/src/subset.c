#include "scnet/subset.h"

#include <stdlib.h>
#include <string.h>

#include "scnet/h5ad.h"
#include "scnet/mem.h"

typedef struct {
    char **names;
    int n, cap, failed;
} name_list;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **nn = realloc(l->names, (size_t)cap * sizeof *nn);
        if (!nn) {
            l->failed = 1;
            return -1;
        }
        l->names = nn;
        l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name))) {
        l->failed = 1;
        return -1;
    }
    l->n++;
    return 0;
}

int sn_h5_children(hid_t loc, const char *path, char ***names, int *n)
{
    name_list l = {NULL, 0, 0, 0};
    *names = NULL;
    *n = 0;
    if (!sn_h5ad_exists(loc, path))
        return SN_OK;
    hid_t g = H5Gopen2(loc, path, H5P_DEFAULT);
    if (g < 0)
        return SN_OK; /* a dataset, not a group: no children */
    hsize_t idx = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &l);
    H5Gclose(g);
    if (l.failed) {
        sn_free_strings(l.names, l.n);
        return sn_err(SN_ENOMEM, "out of memory listing '%s'", path);
    }
    *names = l.names;
    *n = l.n;
    return SN_OK;
}

/* Column subset of a matrix element (X, a layer), kept dense or sparse. */
static int subset_cols(hid_t in, hid_t outg, const char *path, const char *name, const int64_t *keep, int64_t n,
                       int64_t ncol, int comp)
{
    char enc[64];
    SN_TRY(sn_h5ad_encoding(in, path, enc, sizeof enc));
    int64_t *map = sn_malloc((size_t)(ncol + 1) * sizeof *map, "gene map");
    if (!map)
        return SN_ENOMEM;
    for (int64_t j = 0; j < ncol; j++)
        map[j] = -1;
    for (int64_t j = 0; j < n; j++)
        map[keep[j]] = j;
    int rc;
    if (strcmp(enc, "csr_matrix") == 0 || strcmp(enc, "csc_matrix") == 0) {
        sn_csr a;
        if ((rc = sn_h5ad_read_csr(in, path, &a)) == SN_OK) {
            rc = sn_h5ad_write_csr_cols(outg, name, &a, map, n, comp);
            sn_csr_free(&a);
        }
    } else {
        sn_mat a, b;
        if ((rc = sn_h5ad_read_mat(in, path, &a)) == SN_OK) {
            if ((rc = sn_mat_alloc(&b, a.nrow, n)) == SN_OK) {
                for (int64_t i = 0; i < a.nrow; i++)
                    for (int64_t j = 0; j < n; j++)
                        b.data[i * n + j] = a.data[i * a.ncol + keep[j]];
                rc = sn_h5ad_write_mat(outg, name, &b, comp);
                sn_mat_free(&b);
            }
            sn_mat_free(&a);
        }
    }
    free(map);
    return rc;
}

/* Row subset of a data frame (var, or one in varm) written as name. */
static int subset_frame(hid_t in, hid_t outg, const char *path, const char *name, const int64_t *keep, int64_t n,
                        int comp)
{
    sn_frame f, s;
    SN_TRY(sn_h5ad_read_frame(in, path, &f));
    int rc = sn_frame_subset(&f, keep, n, &s);
    sn_frame_free(&f);
    SN_TRY(rc);
    rc = sn_h5ad_write_frame(outg, name, &s, comp);
    sn_frame_free(&s);
    return rc;
}

/* Row subset (varm) or row-and-column subset (varp) of a matrix element. */
static int subset_rows(hid_t in, hid_t outg, const char *path, const char *name, const int64_t *keep, int64_t n,
                       int both, int comp)
{
    char enc[64];
    SN_TRY(sn_h5ad_encoding(in, path, enc, sizeof enc));
    if (strcmp(enc, "dataframe") == 0 && !both) /* anndata allows one in varm */
        return subset_frame(in, outg, path, name, keep, n, comp);
    if (strcmp(enc, "csr_matrix") == 0 || strcmp(enc, "csc_matrix") == 0) {
        sn_csr a, b;
        SN_TRY(sn_h5ad_read_csr(in, path, &a));
        int64_t *map = sn_malloc((size_t)(a.ncol + 1) * sizeof *map, "gene map");
        int rc = map ? SN_OK : SN_ENOMEM;
        for (int64_t j = 0; map && j < a.ncol; j++)
            map[j] = both ? -1 : j;
        for (int64_t j = 0; map && both && j < n; j++)
            map[keep[j]] = j;
        if (rc == SN_OK && (rc = sn_csr_subset(&a, keep, n, map, both ? n : a.ncol, &b)) == SN_OK) {
            rc = sn_h5ad_write_csr(outg, name, &b, comp);
            sn_csr_free(&b);
        }
        free(map);
        sn_csr_free(&a);
        return rc;
    }
    sn_mat a, b;
    SN_TRY(sn_h5ad_read_mat(in, path, &a));
    int64_t nc = both ? n : a.ncol;
    int rc = sn_mat_alloc(&b, n, nc);
    for (int64_t i = 0; rc == SN_OK && i < n; i++)
        for (int64_t j = 0; j < nc; j++)
            b.data[i * nc + j] = a.data[keep[i] * a.ncol + (both ? keep[j] : j)];
    if (rc == SN_OK) {
        rc = sn_h5ad_write_mat(outg, name, &b, comp);
        sn_mat_free(&b);
    }
    sn_mat_free(&a);
    return rc;
}

static int subset_group(hid_t in, hid_t out, const char *group, int kind, const int64_t *keep, int64_t n,
                        int64_t ncol, int comp)
{
    char **names;
    int nn;
    hid_t g;
    SN_TRY(sn_h5_children(in, group, &names, &nn));
    int rc = sn_h5ad_dict(out, group, &g);
    for (int i = 0; rc == SN_OK && i < nn; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", group, names[i]);
        rc = kind == 0 ? subset_cols(in, g, path, names[i], keep, n, ncol, comp)
                       : subset_rows(in, g, path, names[i], keep, n, kind == 2, comp);
        if (rc < 0)
            sn_err_prefix(rc, "%s: ", path);
    }
    if (rc == SN_OK || nn)
        H5Gclose(g);
    sn_free_strings(names, nn);
    return rc;
}

int sn_subset_var(hid_t in, hid_t out, const int64_t *keep, int64_t n, int comp)
{
    int64_t n_obs, n_var;
    SN_TRY(sn_h5ad_check(in, &n_obs, &n_var));
    if (sn_h5ad_exists(in, "X"))
        SN_TRY(subset_cols(in, out, "X", "X", keep, n, n_var, comp));
    SN_TRY(subset_group(in, out, "layers", 0, keep, n, n_var, comp));
    SN_TRY(subset_group(in, out, "varm", 1, keep, n, n_var, comp));
    SN_TRY(subset_group(in, out, "varp", 2, keep, n, n_var, comp));
    return subset_frame(in, out, "var", "var", keep, n, comp);
}
