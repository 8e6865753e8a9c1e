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

/* Column subset (kind 0: X, layers), row subset (1: varm) or both (2:
 * varp) of an element, stored as it was. */
static int subset_elem(hid_t in, hid_t outg, const char *path, const char *name, const int64_t *keep, int64_t n,
                       int kind, int comp)
{
    char enc[64];
    SN_TRY(sn_h5ad_encoding(in, path, enc, sizeof enc));
    if (strcmp(enc, "dataframe") == 0 && kind == 1) /* anndata allows one in varm */
        return subset_frame(in, outg, path, name, keep, n, comp);
    return sn_h5ad_take(in, path, outg, name, kind ? keep : NULL, kind ? n : 0, kind != 1 ? keep : NULL,
                        kind != 1 ? n : 0, comp);
}

/* kind as subset_elem's. */
static int subset_group(hid_t in, hid_t out, const char *group, int kind, const int64_t *keep, int64_t n, int comp)
{
    char **names;
    int nn;
    hid_t g;
    SN_TRY(sn_h5_children(in, group, &names, &nn));
    int rc = sn_h5ad_dict(out, group, &g);
    for (int i = 0; rc == SN_OK && i < nn; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", group, names[i]);
        rc = subset_elem(in, g, path, names[i], keep, n, kind, comp);
    }
    if (g >= 0)
        H5Gclose(g);
    sn_free_strings(names, nn);
    return rc;
}

/* kind as subset_elem's. */
static int check_elem(hid_t in, const char *path, int kind)
{
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_stat(in, path, &e));
    if (e.nnz >= 0 || (kind == 1 && strcmp(e.encoding, "dataframe") == 0))
        return SN_OK;
    if (!e.group && (kind == 1 ? e.ndim >= 1 : e.ndim == 2))
        return SN_OK;
    const char *what = e.group ? (e.encoding[0] ? e.encoding : "group") : e.ndim ? "array" : "scalar";
    char dims[48] = "";
    if (!e.group && e.ndim)
        snprintf(dims, sizeof dims, " of %d dimension%s", e.ndim, e.ndim == 1 ? "" : "s");
    return sn_err(SN_EFMT, "%s: cannot cut a%s %s%s to the modelled genes (--max-genes); remove it or model every gene",
                  path, strchr("aeiou", what[0]) ? "n" : "", what, dims);
}

int sn_subset_check(hid_t in)
{
    static const char *const group[3] = {"layers", "varm", "varp"};
    int rc = SN_OK;
    for (int kind = 0; rc == SN_OK && kind < 3; kind++) {
        char **names;
        int nn;
        SN_TRY(sn_h5_children(in, group[kind], &names, &nn));
        for (int i = 0; rc == SN_OK && i < nn; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", group[kind], names[i]);
            rc = check_elem(in, path, kind);
        }
        sn_free_strings(names, nn);
    }
    return rc;
}

int sn_subset_var(hid_t in, hid_t out, const int64_t *keep, int64_t n, int comp)
{
    int64_t n_obs, n_var;
    SN_TRY(sn_h5ad_check(in, &n_obs, &n_var));
    if (sn_h5ad_exists(in, "X"))
        SN_TRY(sn_h5ad_take(in, "X", out, "X", NULL, 0, keep, n, comp));
    SN_TRY(subset_group(in, out, "layers", 0, keep, n, comp));
    SN_TRY(subset_group(in, out, "varm", 1, keep, n, comp));
    SN_TRY(subset_group(in, out, "varp", 2, keep, n, comp));
    return subset_frame(in, out, "var", "var", keep, n, comp);
}
