/* .h5ad elements: opening, querying, listing, removing, dict groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

int sn_h5x_open(hid_t loc, const char *path, char *name, hid_t *obj, char *enc, size_t enclen)
{
    sn_h5x_name(loc, path, name, SN_H5X_NAME);
    *obj = H5I_INVALID_HID;
    if (!sn_h5x_exists(loc, path))
        return sn_err(SN_EFMT, "%s: missing", name);
    if ((*obj = H5Oopen(loc, path && *path ? path : ".", H5P_DEFAULT)) < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot open");
    int rc = sn_h5x_encoding(*obj, name, enc, enclen);
    if (rc < 0) {
        sn_h5x_close(*obj);
        *obj = H5I_INVALID_HID;
    }
    return rc;
}

int sn_h5ad_exists(hid_t loc, const char *path)
{
    return sn_h5x_exists(loc, path);
}

int sn_h5ad_encoding(hid_t loc, const char *path, char *buf, size_t len)
{
    char name[SN_H5X_NAME], *s = NULL;
    sn_h5x_name(loc, path, name, sizeof name);
    if (!sn_h5x_exists(loc, path))
        return sn_err(SN_EFMT, "%s: missing", name);
    hid_t o = H5Oopen(loc, path && *path ? path : ".", H5P_DEFAULT);
    if (o < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot open");
    int rc = sn_h5x_attr_str(o, "encoding-type", name, &s);
    snprintf(buf, len, "%s", rc > 0 ? s : "");
    free(s);
    sn_h5x_close(o);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5x_sparse_shape(hid_t g, const char *name, int64_t *nrow, int64_t *ncol)
{
    int64_t v[2];
    int n, rc = sn_h5x_attr_ints(g, "shape", name, v, 2, &n);
    if (rc == 0)
        rc = sn_h5x_attr_ints(g, "h5sparse_shape", name, v, 2, &n);
    if (rc == 0)
        return sn_err(SN_EFMT, "%s: sparse matrix without a 'shape' attribute", name);
    if (rc < 0)
        return rc;
    if (n != 2 || v[0] < 0 || v[1] < 0)
        return sn_err(SN_EFMT, "%s: 'shape' attribute should be two non-negative integers", name);
    *nrow = v[0];
    *ncol = v[1];
    return SN_OK;
}

static int index_dataset(hid_t g, const char *name, char **index)
{
    int rc = sn_h5x_attr_str(g, "_index", name, index);
    if (rc < 0)
        return rc;
    if (rc == 0) { /* attribute-less frames: anndata's default name */
        if (H5Lexists(g, "_index", H5P_DEFAULT) <= 0)
            return sn_err(SN_EFMT, "%s: dataframe without an '_index' attribute", name);
        if (!(*index = sn_strdup("_index")))
            return SN_ENOMEM;
    }
    if (!**index || strchr(*index, '/') || H5Lexists(g, *index, H5P_DEFAULT) <= 0) {
        rc = sn_err(SN_EFMT, "%s: index dataset '%s' (named by _index) is missing", name, *index);
        free(*index);
        *index = NULL;
        return rc;
    }
    return SN_OK;
}

int sn_h5x_frame_len(hid_t g, const char *name, int64_t *n, char **index)
{
    char *ix = NULL;
    SN_TRY(index_dataset(g, name, &ix));
    hid_t ds = H5Dopen2(g, ix, H5P_DEFAULT);
    int rank = 0, rc = SN_OK;
    int64_t d[H5S_MAX_RANK];
    if (ds < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot open the index dataset");
    else if ((rc = sn_h5x_dims(ds, name, &rank, d, H5S_MAX_RANK)) == SN_OK && rank != 1)
        rc = sn_err(SN_EFMT, "%s: index '%s' should be 1-D, has %d dimensions", name, ix, rank);
    sn_h5x_close(ds);
    if (rc == SN_OK) {
        *n = d[0];
        if (index)
            *index = ix, ix = NULL;
    }
    free(ix);
    return rc;
}

/* The encodings anndata (0.8 to 0.12) has readers for, on groups or on
 * datasets. */
static const struct {
    const char *type, *version;
    int group;
} SPECS[] = {{"anndata", "0.1.0", 1},          {"raw", "0.1.0", 1},
             {"dict", "0.1.0", 1},             {"dataframe", "0.1.0", 1},
             {"dataframe", "0.2.0", 1},        {"csr_matrix", "0.1.0", 1},
             {"csc_matrix", "0.1.0", 1},       {"categorical", "0.2.0", 1},
             {"awkward-array", "0.1.0", 1},    {"nullable-integer", "0.1.0", 1},
             {"nullable-boolean", "0.1.0", 1}, {"nullable-string-array", "0.1.0", 1},
             {"array", "0.2.0", 0},            {"string-array", "0.2.0", 0},
             {"rec-array", "0.2.0", 0},        {"string", "0.2.0", 0},
             {"numeric-scalar", "0.2.0", 0},   {"bytes", "0.2.0", 0},
             {"null", "0.1.0", 0}};

static int spec_error(const char *name, int group, const char *type, const char *version)
{
    int known = 0;
    for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++)
        if (strcmp(type, SPECS[i].type) == 0) {
            if (SPECS[i].group == group && strcmp(version, SPECS[i].version) == 0)
                return SN_OK;
            known |= SPECS[i].group == group ? 1 : 2;
        }
    const char *kind = group ? "group" : "dataset";
    if (!known)
        return sn_err(SN_EFMT, "%s: encoding-type '%s' is not one anndata reads", name, type);
    if (!(known & 1))
        return sn_err(SN_EFMT, "%s: encoding-type '%s' on a %s (anndata reads it only on a %s)", name, type, kind,
                      group ? "dataset" : "group");
    return sn_err(SN_EFMT, "%s: encoding-version '%s' of '%s' is not one anndata reads", name, version, type);
}

int sn_h5ad_check_spec(hid_t loc, const char *path)
{
    char name[SN_H5X_NAME], *type = NULL, *version = NULL;
    sn_h5x_name(loc, path, name, sizeof name);
    if (!name[0])
        snprintf(name, sizeof name, "/");
    hid_t o = H5Oopen(loc, path && *path ? path : ".", H5P_DEFAULT);
    if (o < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot open");
    int group = H5Iget_type(o) == H5I_GROUP;
    int rt = sn_h5x_attr_str(o, "encoding-type", name, &type);
    int rv = rt < 0 ? rt : sn_h5x_attr_str(o, "encoding-version", name, &version);
    sn_h5x_close(o);
    int rc = rv < 0 ? rv : SN_OK;
    if (rc == SN_OK && rt > 0 && rv > 0)
        rc = spec_error(name, group, type, version);
    else if (rc == SN_OK && (rt > 0) != (rv > 0)) /* anndata reads the absent one as "" */
        rc = sn_err(SN_EFMT, "%s: has %s but no %s", name, rt > 0 ? "encoding-type" : "encoding-version",
                    rt > 0 ? "encoding-version" : "encoding-type");
    free(type);
    free(version);
    return rc;
}

/* ---- stat ---- */

static int ds_info(hid_t ds, const char *name, sn_h5ad_elem *e)
{
    hid_t t = H5Dget_type(ds);
    int rank = 0;
    int64_t d[H5S_MAX_RANK];
    sn_h5x_dtype(t, e->dtype, sizeof e->dtype);
    sn_h5x_close(t);
    SN_TRY(sn_h5x_dims(ds, name, &rank, d, 8));
    e->ndim = rank;
    memcpy(e->shape, d, (size_t)rank * sizeof *d);
    return SN_OK;
}

/* Type and shape of the child dataset of g, when there is one. */
static void child_info(hid_t g, const char *child, sn_h5ad_elem *e)
{
    hid_t ds = sn_h5x_kind(g, child) == H5O_TYPE_DATASET ? H5Dopen2(g, child, H5P_DEFAULT) : H5I_INVALID_HID;
    if (ds >= 0 && ds_info(ds, child, e) < 0)
        e->ndim = 0;
    sn_h5x_close(ds);
}

static int stat_group(hid_t g, const char *name, sn_h5ad_elem *e)
{
    const char *enc = e->encoding;
    if (strcmp(enc, "csr_matrix") == 0 || strcmp(enc, "csc_matrix") == 0) {
        child_info(g, "data", e);
        e->nnz = e->ndim == 1 ? e->shape[0] : -1;
        e->ndim = 2;
        return sn_h5x_sparse_shape(g, name, &e->shape[0], &e->shape[1]);
    }
    if (strcmp(enc, "dataframe") == 0) {
        char **cols = NULL;
        int64_t nc = 0;
        e->ndim = 2;
        SN_TRY(sn_h5x_frame_len(g, name, &e->shape[0], NULL));
        int rc = sn_h5x_attr_strs(g, "column-order", name, &cols, &nc);
        sn_free_strings(cols, nc);
        e->shape[1] = nc;
        return rc < 0 ? rc : SN_OK;
    }
    if (strcmp(enc, "categorical") == 0) {
        sn_h5ad_elem c = {0};
        child_info(g, "categories", &c);
        e->ncat = c.ndim == 1 ? c.shape[0] : -1;
        child_info(g, "codes", e);
        snprintf(e->dtype, sizeof e->dtype, "%s", c.dtype);
        return sn_h5x_attr_bool(g, "ordered", name, &e->ordered) < 0 ? SN_EFMT : SN_OK;
    }
    if (strncmp(enc, "nullable-", 9) == 0)
        child_info(g, "values", e);
    return SN_OK;
}

int sn_h5ad_stat(hid_t loc, const char *path, sn_h5ad_elem *e)
{
    char name[SN_H5X_NAME];
    hid_t o;
    memset(e, 0, sizeof *e);
    e->nnz = e->ncat = -1;
    int rc = sn_h5x_open(loc, path, name, &o, e->encoding, sizeof e->encoding);
    if (rc < 0)
        return rc;
    e->legacy = rc == 0;
    e->group = H5Iget_type(o) == H5I_GROUP;
    rc = e->group ? stat_group(o, name, e) : ds_info(o, name, e);
    if (rc == SN_OK && strcmp(e->encoding, "null") == 0)
        e->dtype[0] = 0; /* None: the dataset's type carries no value */
    sn_h5x_close(o);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5ad_shape(hid_t loc, const char *path, int64_t *nrow, int64_t *ncol)
{
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_stat(loc, path, &e));
    int sparse = strcmp(e.encoding, "csr_matrix") == 0 || strcmp(e.encoding, "csc_matrix") == 0;
    if (!sparse && (e.group || e.ndim != 2)) {
        char name[SN_H5X_NAME];
        return sn_err(SN_EFMT, "%s: not a matrix (%s, %d-D)", sn_h5x_name(loc, path, name, sizeof name),
                      e.encoding[0] ? e.encoding : "unknown element", e.ndim);
    }
    *nrow = e.shape[0];
    *ncol = e.shape[1];
    return SN_OK;
}

/* ---- listing ---- */

typedef struct {
    sn_strs keys;
    int rc;
} keylist;

static herr_t add_key(hid_t g, const char *key, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    keylist *k = data;
    return (k->rc = sn_strs_push(&k->keys, key)) < 0 ? -1 : 0;
}

int sn_h5ad_keys(hid_t loc, const char *path, char ***keys, int64_t *n)
{
    char name[SN_H5X_NAME];
    keylist k = {0};
    *keys = NULL;
    *n = 0;
    sn_h5x_name(loc, path, name, sizeof name);
    if (sn_h5x_kind(loc, path && *path ? path : ".") != H5O_TYPE_GROUP)
        return sn_err(SN_EFMT, "%s: %s", name, sn_h5x_exists(loc, path) ? "not a group" : "missing");
    hid_t g = H5Gopen2(loc, path && *path ? path : ".", H5P_DEFAULT);
    hsize_t idx = 0;
    herr_t r = g < 0 ? -1 : H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, add_key, &k);
    sn_h5x_close(g);
    if (r < 0) {
        sn_strs_free(&k.keys);
        return k.rc < 0 ? k.rc : sn_h5x_fail(SN_EFMT, name, "cannot list the group");
    }
    *n = k.keys.n;
    return (*keys = sn_strs_take(&k.keys)) ? SN_OK : SN_ENOMEM;
}

/* ---- removing, dicts ---- */

int sn_h5ad_remove(hid_t loc, const char *path)
{
    if (!sn_h5x_exists(loc, path))
        return 0;
    if (H5Ldelete(loc, path, H5P_DEFAULT) < 0) {
        char name[SN_H5X_NAME];
        return sn_h5x_fail(SN_EIO, sn_h5x_name(loc, path, name, sizeof name), "cannot remove");
    }
    return 1;
}

/* Make the group prefix (a path under loc) exist, as a dict when new. */
static int ensure_dict(hid_t loc, const char *prefix)
{
    char name[SN_H5X_NAME];
    int kind = sn_h5x_kind(loc, prefix);
    if (kind == H5O_TYPE_GROUP)
        return SN_OK;
    if (kind >= 0 || H5Lexists(loc, prefix, H5P_DEFAULT) > 0)
        return sn_err(SN_EFMT, "%s: exists and is not a group", sn_h5x_name(loc, prefix, name, sizeof name));
    hid_t g;
    SN_TRY(sn_h5x_group(loc, prefix, "dict", "0.1.0", &g));
    H5Gclose(g);
    return SN_OK;
}

int sn_h5ad_dict(hid_t loc, const char *path, hid_t *g)
{
    char buf[SN_H5X_NAME], name[SN_H5X_NAME];
    *g = H5I_INVALID_HID;
    if (!path || !*path || strcmp(path, ".") == 0)
        path = ".";
    else if (strlen(path) >= sizeof buf)
        return sn_err(SN_EINVAL, "%s: path too long", path);
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf; strcmp(path, ".") && p;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = 0;
        if (*p)
            SN_TRY(ensure_dict(loc, buf));
        if (slash)
            *slash = '/';
        p = slash ? slash + 1 : NULL;
    }
    if ((*g = H5Gopen2(loc, path, H5P_DEFAULT)) < 0)
        return sn_h5x_fail(SN_EIO, sn_h5x_name(loc, path, name, sizeof name), "cannot open group");
    return SN_OK;
}

int sn_h5x_parent(hid_t loc, const char *name, hid_t *parent, const char **leaf)
{
    const char *slash = strrchr(name, '/');
    char buf[SN_H5X_NAME];
    *leaf = slash ? slash + 1 : name;
    if (!**leaf)
        return sn_err(SN_EINVAL, "'%s': element name is empty", name);
    if (!slash)
        return sn_h5ad_dict(loc, ".", parent);
    if ((size_t)(slash - name) >= sizeof buf)
        return sn_err(SN_EINVAL, "%s: path too long", name);
    memcpy(buf, name, (size_t)(slash - name));
    buf[slash - name] = 0;
    return sn_h5ad_dict(loc, buf, parent);
}
