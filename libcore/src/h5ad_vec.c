/* .h5ad vectors, string arrays and scalars. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

/* A 1-D dataset converted to want, into a new buffer. */
static int read_1d(hid_t ds, const char *name, sn_h5x_num want, void **v, int64_t *n)
{
    int rank = 0;
    int64_t d[H5S_MAX_RANK];
    *v = NULL;
    SN_TRY(sn_h5x_dims(ds, name, &rank, d, H5S_MAX_RANK));
    if (rank != 1)
        return sn_err(SN_EFMT, "%s: expected a 1-D array, found %d dimensions", name, rank);
    SN_TRY(sn_h5x_read_num_new(ds, name, want, (size_t)d[0], "a vector", v));
    *n = d[0];
    return SN_OK;
}

static int read_child_1d(hid_t g, const char *child, const char *name, sn_h5x_num want, void **v, int64_t *n)
{
    char nm[SN_H5X_NAME];
    snprintf(nm, sizeof nm, "%s/%s", name, child);
    if (sn_h5x_kind(g, child) != H5O_TYPE_DATASET)
        return sn_err(SN_EFMT, "%s: missing", nm);
    hid_t ds = H5Dopen2(g, child, H5P_DEFAULT);
    int rc = ds < 0 ? sn_h5x_fail(SN_EFMT, nm, "cannot open") : read_1d(ds, nm, want, v, n);
    sn_h5x_close(ds);
    return rc;
}

/* nullable-integer / nullable-boolean values with NaN where masked. */
static int read_nullable(hid_t g, const char *name, double **v, int64_t *n)
{
    uint8_t *mask = NULL;
    int64_t nm = 0;
    SN_TRY(read_child_1d(g, "values", name, SN_H5X_F64, (void **)v, n));
    int rc = H5Lexists(g, "mask", H5P_DEFAULT) > 0 ? read_child_1d(g, "mask", name, SN_H5X_U8, (void **)&mask, &nm)
                                                   : SN_OK;
    if (rc == SN_OK && mask && nm != *n)
        rc = sn_err(SN_EFMT, "%s: mask has %lld entries, values %lld", name, (long long)nm, (long long)*n);
    for (int64_t i = 0; rc == SN_OK && mask && i < *n; i++)
        if (mask[i])
            (*v)[i] = NAN;
    free(mask);
    if (rc < 0) {
        free(*v);
        *v = NULL;
    }
    return rc;
}

int sn_h5ad_read_vec(hid_t loc, const char *path, double **v, int64_t *n)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    *v = NULL;
    *n = 0;
    int rc = sn_h5x_open(loc, path, name, &o, enc, sizeof enc);
    if (rc < 0)
        return rc;
    int grp = H5Iget_type(o) == H5I_GROUP;
    if (!grp && strcmp(enc, "array") == 0)
        rc = read_1d(o, name, SN_H5X_F64, (void **)v, n);
    else if (grp && (strcmp(enc, "nullable-integer") == 0 || strcmp(enc, "nullable-boolean") == 0))
        rc = read_nullable(o, name, v, n);
    else
        rc = sn_err(SN_EFMT, "%s: expected a numeric vector, found %s", name, *enc ? enc : "an unknown element");
    sn_h5x_close(o);
    return rc;
}

int sn_h5ad_read_ivec(hid_t loc, const char *path, int64_t **v, int64_t *n)
{
    char name[SN_H5X_NAME], enc[32], dt[32];
    hid_t o;
    *v = NULL;
    *n = 0;
    int rc = sn_h5x_open(loc, path, name, &o, enc, sizeof enc);
    if (rc < 0)
        return rc;
    if (H5Iget_type(o) != H5I_DATASET || strcmp(enc, "array") != 0) {
        rc = sn_err(SN_EFMT, "%s: expected an integer vector, found %s", name, *enc ? enc : "an unknown element");
    } else {
        hid_t t = H5Dget_type(o);
        H5T_class_t c = H5Tget_class(t);
        sn_h5x_dtype(t, dt, sizeof dt);
        H5Tclose(t);
        rc = c == H5T_INTEGER || c == H5T_ENUM ? read_1d(o, name, SN_H5X_I64, (void **)v, n)
                                               : sn_err(SN_EFMT, "%s: expected integers, found %s", name, dt);
    }
    sn_h5x_close(o);
    return rc;
}

/* Strings of a column: its values, "" where a categorical is missing. */
static int col_strings(sn_col *c, char ***s, int64_t *n)
{
    if (c->type == SN_COL_STR) {
        *s = c->v.str;
        *n = c->n;
        c->v.str = NULL;
        c->n = 0;
        return SN_OK;
    }
    char **out = sn_calloc((size_t)c->n + 1, sizeof *out, "strings"), buf[64];
    for (int64_t i = 0; out && i < c->n; i++)
        if (!(out[i] = sn_strdup(sn_col_str(c, i, buf, sizeof buf)))) {
            sn_free_strings(out, c->n);
            return SN_ENOMEM;
        }
    if (!out)
        return SN_ENOMEM;
    *s = out;
    *n = c->n;
    return SN_OK;
}

static int strings_of(hid_t o, const char *name, const char *enc, char ***s, int64_t *n)
{
    int grp = H5Iget_type(o) == H5I_GROUP;
    if (!grp && strcmp(enc, "string-array") == 0)
        return sn_h5x_read_strs(o, name, s, n);
    if (!grp && strcmp(enc, "array") == 0)
        return sn_h5x_read_numstrs(o, name, s, n);
    if (strcmp(enc, "categorical") && strcmp(enc, "nullable-string-array"))
        return sn_err(SN_EFMT, "%s: expected strings, found %s", name, *enc ? enc : "an unknown element");
    sn_col c;
    int rc = sn_h5x_read_colobj(o, name, enc, &c);
    if (rc > 0) {
        rc = col_strings(&c, s, n);
        sn_col_free(&c);
    }
    return rc;
}

int sn_h5ad_read_strings(hid_t loc, const char *path, char ***s, int64_t *n)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    *s = NULL;
    *n = 0;
    int rc = sn_h5x_open(loc, path, name, &o, enc, sizeof enc);
    if (rc >= 0)
        rc = strings_of(o, name, enc, s, n);
    sn_h5x_close(o);
    return rc < 0 ? rc : SN_OK;
}

/* A dataset holding one value (0-d, or 1-D of length one). */
static int open_one(hid_t loc, const char *path, char *name, hid_t *ds, H5T_class_t *cls)
{
    char enc[32];
    int64_t n = 0;
    int rc = sn_h5x_open(loc, path, name, ds, enc, sizeof enc);
    if (rc < 0)
        return rc;
    if (H5Iget_type(*ds) != H5I_DATASET)
        return sn_err(SN_EFMT, "%s: expected a scalar, found %s", name, enc);
    SN_TRY(sn_h5x_count(*ds, name, &n));
    if (n != 1)
        return sn_err(SN_EFMT, "%s: expected a scalar, found %lld values", name, (long long)n);
    hid_t t = H5Dget_type(*ds);
    *cls = H5Tget_class(t);
    H5Tclose(t);
    return SN_OK;
}

int sn_h5ad_read_scalar(hid_t loc, const char *path, double *v)
{
    char name[SN_H5X_NAME];
    hid_t ds = H5I_INVALID_HID;
    H5T_class_t cls = H5T_NO_CLASS;
    int rc = open_one(loc, path, name, &ds, &cls);
    if (rc == SN_OK)
        rc = cls == H5T_STRING ? sn_err(SN_EFMT, "%s: expected a number, found a string", name)
                               : sn_h5x_read_num(ds, name, SN_H5X_F64, v);
    sn_h5x_close(ds);
    return rc;
}

int sn_h5ad_read_str(hid_t loc, const char *path, char **s)
{
    char name[SN_H5X_NAME], **v = NULL;
    hid_t ds = H5I_INVALID_HID;
    H5T_class_t cls = H5T_NO_CLASS;
    int64_t n = 0;
    *s = NULL;
    int rc = open_one(loc, path, name, &ds, &cls);
    if (rc == SN_OK && cls != H5T_STRING)
        rc = sn_err(SN_EFMT, "%s: expected a string, found a number", name);
    if (rc == SN_OK && (rc = sn_h5x_read_strs(ds, name, &v, &n)) == SN_OK) {
        *s = v[0];
        free(v);
    }
    sn_h5x_close(ds);
    return rc;
}

/* ---- writing ---- */

int sn_h5ad_write_vec(hid_t loc, const char *name, const double *v, int64_t n, int comp)
{
    return sn_h5x_put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v, comp, "array");
}

int sn_h5ad_write_ivec(hid_t loc, const char *name, const int64_t *v, int64_t n, int comp)
{
    return sn_h5x_put(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n, v, comp, "array");
}

int sn_h5ad_write_bvec(hid_t loc, const char *name, const uint8_t *v, int64_t n, int comp)
{
    /* Only 0 and 1 are members of the enum. */
    int8_t *b = sn_malloc((size_t)n, "a boolean vector");
    if (!b)
        return SN_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        b[i] = v[i] != 0;
    hid_t t = sn_h5x_bool_type();
    int rc = sn_h5x_put(loc, name, t, t, 1, &n, b, comp, "array");
    H5Tclose(t);
    free(b);
    return rc;
}

int sn_h5ad_write_strings(hid_t loc, const char *name, char *const *s, int64_t n, int comp)
{
    const char *leaf;
    hid_t p;
    SN_TRY(sn_h5x_parent(loc, name, &p, &leaf));
    int rc = sn_h5x_write_strs(p, leaf, s, n, comp, "string-array", "0.2.0");
    H5Gclose(p);
    return rc;
}

int sn_h5ad_write_scalar(hid_t loc, const char *name, double v)
{
    return sn_h5x_put(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, 0, "numeric-scalar");
}

int sn_h5ad_write_int(hid_t loc, const char *name, int64_t v)
{
    return sn_h5x_put(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &v, 0, "numeric-scalar");
}

int sn_h5ad_write_bool(hid_t loc, const char *name, int v)
{
    int8_t b = v != 0;
    hid_t t = sn_h5x_bool_type();
    int rc = sn_h5x_put(loc, name, t, t, 0, NULL, &b, 0, "numeric-scalar");
    H5Tclose(t);
    return rc;
}

int sn_h5ad_write_str(hid_t loc, const char *name, const char *s)
{
    if (!sn_h5x_utf8_ok(s)) {
        char nm[SN_H5X_NAME];
        return sn_err(SN_EINVAL, "%s: string is not valid UTF-8 (anndata could not read it)",
                      sn_h5x_name(loc, name, nm, sizeof nm));
    }
    hid_t t = sn_h5x_str_type();
    int rc = sn_h5x_put(loc, name, t, t, 0, NULL, &s, 0, "string");
    H5Tclose(t);
    return rc;
}
