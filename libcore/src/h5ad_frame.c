/* .h5ad dataframes (obs, var, frames in obsm/varm/uns) and their columns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"

static const char *leaf_of(const char *name)
{
    const char *s = strrchr(name, '/');
    return s ? s + 1 : name;
}

/* ---- reading columns ---- */

static sn_coltype numeric_coltype(hid_t t)
{
    size_t sz = H5Tget_size(t);
    char d[32];
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: return sz >= 8 ? SN_COL_F64 : SN_COL_F32;
    case H5T_INTEGER: return sz >= 8 || (sz == 4 && H5Tget_sign(t) == H5T_SGN_NONE) ? SN_COL_I64 : SN_COL_I32;
    default: return strcmp(sn_h5x_dtype(t, d, sizeof d), "bool") == 0 ? SN_COL_BOOL : SN_COL_I32;
    }
}

static sn_h5x_num coltype_num(sn_coltype t)
{
    switch (t) {
    case SN_COL_F64: return SN_H5X_F64;
    case SN_COL_F32: return SN_H5X_F32;
    case SN_COL_I64: return SN_H5X_I64;
    case SN_COL_BOOL: return SN_H5X_U8;
    default: return SN_H5X_I32;
    }
}

static int column_len(hid_t ds, const char *name, int64_t *n)
{
    int rank = 0;
    int64_t d[H5S_MAX_RANK];
    SN_TRY(sn_h5x_dims(ds, name, &rank, d, H5S_MAX_RANK));
    if (rank != 1)
        return sn_err(SN_EFMT, "%s: a column should be 1-D, this one has %d dimensions", name, rank);
    *n = d[0];
    return SN_OK;
}

static int read_array_col(hid_t ds, const char *name, sn_col *c)
{
    int64_t n = 0;
    SN_TRY(column_len(ds, name, &n));
    hid_t t = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(t);
    sn_coltype ct = numeric_coltype(t);
    char d[32];
    sn_h5x_dtype(t, d, sizeof d);
    H5Tclose(t);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM)
        return sn_err(SN_EFMT, "%s: expected a numeric column, found %s values", name, d);
    SN_TRY(sn_col_new(c, leaf_of(name), ct, n));
    if (cls == H5T_INTEGER && strlen(d) < sizeof c->dtype)
        memcpy(c->dtype, d, strlen(d) + 1);
    int rc = sn_h5x_read_num(ds, name, coltype_num(ct), c->v.f64);
    if (rc < 0)
        sn_col_free(c);
    return rc;
}

static int read_string_col(hid_t ds, const char *name, sn_col *c)
{
    memset(c, 0, sizeof *c);
    c->type = SN_COL_STR;
    SN_TRY(sn_h5x_read_strs(ds, name, &c->v.str, &c->n));
    if (!(c->name = sn_strdup(leaf_of(name)))) {
        sn_col_free(c);
        return SN_ENOMEM;
    }
    return SN_OK;
}

static int read_categories(hid_t ds, const char *name, sn_col *c)
{
    hid_t t = H5Dget_type(ds);
    int str = H5Tget_class(t) == H5T_STRING;
    if (!str)
        sn_h5x_dtype(t, c->cat_dtype, sizeof c->cat_dtype);
    H5Tclose(t);
    return str ? sn_h5x_read_strs(ds, name, &c->cats, &c->ncat) : sn_h5x_read_numstrs(ds, name, &c->cats, &c->ncat);
}

static int check_codes(const sn_col *c, const char *name)
{
    for (int64_t i = 0; i < c->n; i++)
        if (c->v.codes[i] < -1 || c->v.codes[i] >= c->ncat)
            return sn_err(SN_EFMT, "%s: category code %d at row %lld out of range (%lld categories)", name,
                          c->v.codes[i], (long long)i, (long long)c->ncat);
    return SN_OK;
}

/* codes dataset + categories dataset (+ the ordered flag on owner). */
static int read_cat_parts(hid_t codes, hid_t cats, hid_t owner, const char *name, sn_col *c)
{
    int64_t n;
    int rc;
    SN_TRY(column_len(codes, name, &n));
    SN_TRY(sn_col_new(c, leaf_of(name), SN_COL_CAT, n));
    SN_CHECK(sn_h5x_read_num(codes, name, SN_H5X_I32, c->v.codes));
    SN_CHECK(read_categories(cats, name, c));
    SN_CHECK(check_codes(c, name));
    SN_CHECK(sn_h5x_attr_bool(owner, "ordered", name, &c->ordered));
out:
    if (rc < 0)
        sn_col_free(c);
    return rc < 0 ? rc : SN_OK;
}

static int read_cat_group(hid_t g, const char *name, sn_col *c)
{
    if (sn_h5x_kind(g, "codes") != H5O_TYPE_DATASET || sn_h5x_kind(g, "categories") != H5O_TYPE_DATASET)
        return sn_err(SN_EFMT, "%s: categorical without 'codes' and 'categories' datasets", name);
    hid_t codes = H5Dopen2(g, "codes", H5P_DEFAULT), cats = H5Dopen2(g, "categories", H5P_DEFAULT);
    int rc = codes < 0 || cats < 0 ? sn_h5x_fail(SN_EFMT, name, "cannot open the categorical")
                                   : read_cat_parts(codes, cats, g, name, c);
    sn_h5x_close(codes);
    sn_h5x_close(cats);
    return rc;
}

/* anndata 0.7: integer codes whose 'categories' attribute references the
 * categories dataset (which carries 'ordered'). */
static int read_cat_legacy(hid_t ds, const char *name, sn_col *c)
{
    hobj_ref_t ref;
    hid_t a = H5Aopen(ds, "categories", H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1, cats = -1;
    int ok = t >= 0 && H5Tget_class(t) == H5T_REFERENCE && H5Aread(a, H5T_STD_REF_OBJ, &ref) >= 0;
    if (ok)
        cats = H5Rdereference2(ds, H5P_DEFAULT, H5R_OBJECT, &ref);
    int rc = cats < 0 ? sn_h5x_fail(SN_EFMT, name, "cannot follow the 'categories' reference")
                      : read_cat_parts(ds, cats, cats, name, c);
    sn_h5x_close(cats);
    sn_h5x_close(t);
    sn_h5x_close(a);
    return rc;
}

static int read_child(hid_t g, const char *child, const char *name, sn_col *c)
{
    char nm[SN_H5X_NAME];
    snprintf(nm, sizeof nm, "%s/%s", name, child);
    if (sn_h5x_kind(g, child) != H5O_TYPE_DATASET)
        return sn_err(SN_EFMT, "%s: missing", nm);
    hid_t ds = H5Dopen2(g, child, H5P_DEFAULT);
    int rc = ds < 0 ? sn_h5x_fail(SN_EFMT, nm, "cannot open") : SN_OK;
    if (rc == SN_OK) {
        hid_t t = H5Dget_type(ds);
        int str = H5Tget_class(t) == H5T_STRING;
        H5Tclose(t);
        rc = str ? read_string_col(ds, nm, c) : read_array_col(ds, nm, c);
    }
    sn_h5x_close(ds);
    return rc;
}

/* Masked slots: NaN (integers), SN_BOOL_NA (booleans), "" (strings). */
static void apply_mask(sn_col *c, const uint8_t *mask)
{
    for (int64_t i = 0; i < c->n; i++) {
        if (!mask[i])
            continue;
        if (c->type == SN_COL_F64)
            c->v.f64[i] = NAN;
        else if (c->type == SN_COL_BOOL)
            c->v.b[i] = SN_BOOL_NA;
        else if (c->type == SN_COL_STR)
            c->v.str[i][0] = 0;
    }
}

static int to_f64(sn_col *c)
{
    if (c->type == SN_COL_F64)
        return SN_OK;
    sn_col d;
    SN_TRY(sn_col_new(&d, c->name, SN_COL_F64, c->n));
    for (int64_t i = 0; i < c->n; i++)
        d.v.f64[i] = c->type == SN_COL_I64 ? (double)c->v.i64[i]
                     : c->type == SN_COL_I32 ? (double)c->v.i32[i]
                     : c->type == SN_COL_F32 ? (double)c->v.f32[i]
                     : c->v.b[i] == SN_BOOL_NA ? NAN
                                             : (double)c->v.b[i];
    sn_col_free(c);
    *c = d;
    return SN_OK;
}

/* The mask of a nullable element as 0/1 bytes (True = missing). */
static int read_mask(hid_t g, const char *name, int64_t n, uint8_t **mask)
{
    char nm[SN_H5X_NAME];
    int64_t len = 0;
    snprintf(nm, sizeof nm, "%s/mask", name);
    hid_t ds = H5Dopen2(g, "mask", H5P_DEFAULT);
    int rc = ds < 0 ? sn_h5x_fail(SN_EFMT, nm, "cannot open") : column_len(ds, nm, &len);
    if (rc == SN_OK && len != n)
        rc = sn_err(SN_EFMT, "%s: has %lld entries, the values %lld", nm, (long long)len, (long long)n);
    if (rc == SN_OK && !(*mask = sn_malloc((size_t)n, "a mask")))
        rc = SN_ENOMEM;
    if (rc == SN_OK)
        rc = sn_h5x_read_num(ds, nm, SN_H5X_U8, *mask);
    sn_h5x_close(ds);
    return rc;
}

static int to_bool(sn_col *c)
{
    if (c->type == SN_COL_BOOL)
        return SN_OK;
    sn_col d;
    SN_TRY(sn_col_new(&d, c->name, SN_COL_BOOL, c->n));
    for (int64_t i = 0; i < c->n; i++)
        d.v.b[i] = c->type == SN_COL_I64 ? c->v.i64[i] != 0 : c->type == SN_COL_I32 ? c->v.i32[i] != 0 : 0;
    sn_col_free(c);
    *c = d;
    return SN_OK;
}

static int read_nullable_col(hid_t g, const char *name, const char *enc, sn_col *c)
{
    uint8_t *mask = NULL;
    int rc = SN_OK, is_str = strcmp(enc, "nullable-string-array") == 0;
    SN_TRY(read_child(g, "values", name, c));
    free(c->name); /* the column is the group, not its 'values' */
    if (!(c->name = sn_strdup(leaf_of(name))))
        SN_CHECK(SN_ENOMEM);
    if ((c->type == SN_COL_STR) != is_str || (!is_str && (c->type == SN_COL_F32 || c->type == SN_COL_F64)))
        SN_CHECK(sn_err(SN_EFMT, "%s: values do not match the encoding %s", name, enc));
    char stored[sizeof c->dtype];
    memcpy(stored, c->dtype, sizeof stored);
    if (strcmp(enc, "nullable-integer") == 0)
        SN_CHECK(to_f64(c));
    else if (!is_str)
        SN_CHECK(to_bool(c));
    memcpy(c->dtype, stored, sizeof stored);
    if (H5Lexists(g, "mask", H5P_DEFAULT) > 0) {
        SN_CHECK(read_mask(g, name, c->n, &mask));
        apply_mask(c, mask);
    }
    c->nullable = 1; /* a bool column marks missing values with SN_BOOL_NA */
    if (is_str) {
        c->na = mask;
        mask = NULL;
    }
out:
    free(mask);
    if (rc < 0)
        sn_col_free(c);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5x_read_colobj(hid_t obj, const char *name, const char *enc, sn_col *c)
{
    int grp = H5Iget_type(obj) == H5I_GROUP, rc;
    memset(c, 0, sizeof *c);
    if (!grp && strcmp(enc, "array") == 0)
        rc = read_array_col(obj, name, c);
    else if (!grp && strcmp(enc, "string-array") == 0)
        rc = read_string_col(obj, name, c);
    else if (strcmp(enc, "categorical") == 0)
        rc = grp ? read_cat_group(obj, name, c) : read_cat_legacy(obj, name, c);
    else if (grp && (strcmp(enc, "nullable-integer") == 0 || strcmp(enc, "nullable-boolean") == 0 ||
                     strcmp(enc, "nullable-string-array") == 0))
        rc = read_nullable_col(obj, name, enc, c);
    else {
        sn_warn("%s: skipping a column of unsupported type '%s'", name, *enc ? enc : "unknown");
        return 0;
    }
    return rc < 0 ? rc : 1;
}

static int read_col_at(hid_t g, const char *col, sn_col *c)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t o;
    int rc = sn_h5x_open(g, col, name, &o, enc, sizeof enc);
    if (rc >= 0)
        rc = sn_h5x_read_colobj(o, name, enc, c);
    sn_h5x_close(o);
    return rc;
}

/* A column read on its own must still be as long as its frame's index:
 * callers index it by the frame's rows. */
static int check_col_len(hid_t loc, const char *path, const sn_col *c)
{
    const char *slash = strrchr(path, '/');
    char parent[SN_H5X_NAME], name[SN_H5X_NAME];
    sn_h5ad_elem e;
    if (!slash || (size_t)(slash - path) >= sizeof parent)
        return SN_OK;
    memcpy(parent, path, (size_t)(slash - path));
    parent[slash - path] = 0;
    if (sn_h5ad_stat(loc, parent, &e) < 0 || strcmp(e.encoding, "dataframe") != 0) {
        sn_err_clear();
        return SN_OK;
    }
    if (c->n == e.shape[0])
        return SN_OK;
    return sn_err(SN_EFMT, "%s: %lld rows, but the index of %s has %lld", sn_h5x_name(loc, path, name, sizeof name),
                  (long long)c->n, parent, (long long)e.shape[0]);
}

int sn_h5ad_read_col(hid_t loc, const char *path, sn_col *c)
{
    int rc = read_col_at(loc, path, c);
    if (rc == 0) {
        char name[SN_H5X_NAME];
        return sn_err(SN_EFMT, "%s: not a column of a supported type", sn_h5x_name(loc, path, name, sizeof name));
    }
    if (rc > 0 && (rc = check_col_len(loc, path, c)) < 0)
        sn_col_free(c);
    return rc < 0 ? rc : SN_OK;
}

/* ---- reading frames ---- */

/* Column names: column-order, or for frames without it every child but
 * the index (sorted by name, as HDF5 lists them). */
static int column_names(hid_t g, const char *name, const char *index, char ***cols, int64_t *n)
{
    int rc = sn_h5x_attr_strs(g, "column-order", name, cols, n);
    if (rc != 0)
        return rc < 0 ? rc : SN_OK;
    SN_TRY(sn_h5ad_keys(g, NULL, cols, n));
    int64_t k = 0;
    for (int64_t i = 0; i < *n; i++) {
        if (strcmp((*cols)[i], index) == 0 || strcmp((*cols)[i], "__categories") == 0)
            free((*cols)[i]);
        else
            (*cols)[k++] = (*cols)[i];
    }
    *n = k;
    return SN_OK;
}

int sn_h5ad_frame_names(hid_t loc, const char *path, char **index, char ***cols, int64_t *ncol)
{
    char name[SN_H5X_NAME], enc[32];
    int64_t n;
    hid_t g;
    *index = NULL;
    *cols = NULL;
    *ncol = 0;
    int rc = sn_h5x_open(loc, path, name, &g, enc, sizeof enc);
    if (rc < 0)
        return rc;
    if (H5Iget_type(g) != H5I_GROUP || strcmp(enc, "dataframe") != 0)
        rc = sn_err(SN_EFMT, "%s: expected a dataframe, found %s", name, *enc ? enc : "an unknown element");
    else if ((rc = sn_h5x_frame_len(g, name, &n, index)) == SN_OK)
        rc = column_names(g, name, *index, cols, ncol);
    sn_h5x_close(g);
    if (rc < 0) {
        free(*index);
        *index = NULL;
    }
    return rc < 0 ? rc : SN_OK;
}

static int read_columns(hid_t g, const char *name, char *const *cols, int64_t ncol, sn_frame *f)
{
    for (int64_t i = 0; i < ncol; i++) {
        sn_col c;
        if (!sn_h5x_exists(g, cols[i]) || strchr(cols[i], '/'))
            return sn_err(SN_EFMT, "%s: column '%s' (listed in column-order) is missing", name, cols[i]);
        int rc = read_col_at(g, cols[i], &c);
        if (rc <= 0) {
            if (rc < 0)
                return rc;
            continue;
        }
        if (c.n != f->n) {
            rc = sn_err(SN_EFMT, "%s: column '%s' has %lld rows, the index %lld", name, cols[i], (long long)c.n,
                        (long long)f->n);
            sn_col_free(&c);
            return rc;
        }
        if ((rc = sn_frame_put(f, &c)) < 0) {
            sn_col_free(&c);
            return rc;
        }
    }
    return SN_OK;
}

int sn_h5ad_read_frame(hid_t loc, const char *path, sn_frame *f)
{
    char name[SN_H5X_NAME], enc[32], *ix = NULL, **cols = NULL;
    int64_t ncol = 0, nlab = 0;
    hid_t g;
    sn_frame_init(f, 0);
    int rc = sn_h5x_open(loc, path, name, &g, enc, sizeof enc);
    if (rc < 0)
        goto out;
    if (H5Iget_type(g) != H5I_GROUP || strcmp(enc, "dataframe") != 0)
        SN_CHECK(sn_err(SN_EFMT, "%s: expected a dataframe, found %s", name, *enc ? enc : "an unknown element"));
    SN_CHECK(sn_h5x_frame_len(g, name, &f->n, &ix));
    SN_CHECK(sn_h5ad_read_strings(g, ix, &f->index, &nlab));
    if (strcmp(ix, "_index") && !(f->index_name = sn_strdup(ix)))
        SN_CHECK(SN_ENOMEM);
    SN_CHECK(column_names(g, name, ix, &cols, &ncol));
    SN_CHECK(read_columns(g, name, cols, ncol, f));
out:
    sn_free_strings(cols, ncol);
    free(ix);
    sn_h5x_close(g);
    if (rc < 0)
        sn_frame_free(f);
    return rc < 0 ? rc : SN_OK;
}

/* ---- writing ---- */

/* "." names the group itself in HDF5: no dataset can take it. */
const char *sn_h5ad_colname_problem(const char *col)
{
    return !*col                        ? "the name is empty"
           : strchr(col, '/')           ? "names cannot contain '/'"
           : strcmp(col, ".") == 0      ? "'.' is not a name HDF5 can store"
           : strcmp(col, "_index") == 0 ? "'_index' is reserved"
           : !sn_h5x_utf8_ok(col)       ? "the name is not valid UTF-8"
                                        : NULL;
}

static int check_colname(const char *name, const char *col, const char *index)
{
    const char *why = sn_h5ad_colname_problem(col);
    if (!why && strcmp(col, index) == 0)
        why = "it has the name of the index";
    return why ? sn_err(SN_EINVAL, "%s: cannot write column '%s': %s", name, col, why) : SN_OK;
}

/* pandas' rule for category codes: the smallest signed type below its max. */
static hid_t codes_type(int64_t ncat)
{
    return ncat < INT8_MAX ? H5T_STD_I8LE : ncat < INT16_MAX ? H5T_STD_I16LE : H5T_STD_I32LE;
}

static int check_categories(const sn_col *c, const char *name)
{
    sn_strmap m;
    int rc = check_codes(c, name);
    if (rc < 0 || (rc = sn_strmap_init(&m, c->ncat)) < 0)
        return rc;
    for (int64_t k = 0; rc >= 0 && k < c->ncat; k++)
        if ((rc = sn_strmap_put(&m, c->cats[k], k, NULL)) == 0)
            rc = sn_err(SN_EINVAL, "%s: category '%s' appears twice", name, c->cats[k]);
    sn_strmap_free(&m);
    return rc < 0 ? rc : SN_OK;
}

/* The file type of an integer column stored as dtype, or dflt. */
static hid_t stored_int(const char *dtype, hid_t dflt)
{
    static const struct {
        const char *name;
        hid_t *type;
    } t[] = {{"int8", &H5T_STD_I8LE_g},   {"int16", &H5T_STD_I16LE_g},  {"int32", &H5T_STD_I32LE_g},
             {"int64", &H5T_STD_I64LE_g}, {"uint8", &H5T_STD_U8LE_g},   {"uint16", &H5T_STD_U16LE_g},
             {"uint32", &H5T_STD_U32LE_g}, {"uint64", &H5T_STD_U64LE_g}};
    for (size_t k = 0; k < sizeof t / sizeof *t; k++)
        if (strcmp(dtype, t[k].name) == 0)
            return *t[k].type;
    return dflt;
}

/* Categories that were numbers or booleans (read as pandas prints them),
 * written back as that type: 0, or 1 when some category no longer parses
 * (then they stay strings). */
static int parse_cats(const sn_col *c, int64_t *iv, double *fv)
{
    int flt = c->cat_dtype[0] == 'f', bln = strcmp(c->cat_dtype, "bool") == 0;
    for (int64_t k = 0; k < c->ncat; k++) {
        char *end;
        const char *s = c->cats[k];
        if (bln && (strcmp(s, "True") == 0 || strcmp(s, "False") == 0))
            iv[k] = s[0] == 'T';
        else if (bln)
            return 1;
        else if (flt)
            fv[k] = strtod(s, &end);
        else
            iv[k] = c->cat_dtype[0] == 'u' ? (int64_t)strtoull(s, &end, 10) : strtoll(s, &end, 10);
        if (!bln && (end == s || *end))
            return 1;
    }
    return 0;
}

static int write_cats(hid_t g, const sn_col *c, int comp)
{
    int64_t *iv = sn_malloc((size_t)c->ncat * sizeof *iv + 1, "categories");
    double *fv = sn_malloc((size_t)c->ncat * sizeof *fv + 1, "categories");
    int rc = iv && fv ? SN_OK : SN_ENOMEM, flt = c->cat_dtype[0] == 'f';
    if (rc == SN_OK && (!c->cat_dtype[0] || parse_cats(c, iv, fv)))
        rc = sn_h5x_write_strs(g, "categories", c->cats, c->ncat, comp, "string-array", "0.2.0");
    else if (rc == SN_OK && strcmp(c->cat_dtype, "bool") == 0) {
        int8_t *b = (int8_t *)fv;
        for (int64_t k = 0; k < c->ncat; k++)
            b[k] = (int8_t)iv[k];
        hid_t t = sn_h5x_bool_type();
        rc = sn_h5x_write(g, "categories", t, t, 1, &c->ncat, b, comp, "array", "0.2.0");
        H5Tclose(t);
    } else if (rc == SN_OK) {
        hid_t ft = flt ? (strcmp(c->cat_dtype, "float32") == 0 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE)
                       : stored_int(c->cat_dtype, H5T_STD_I64LE);
        hid_t mt = flt ? H5T_NATIVE_DOUBLE : c->cat_dtype[0] == 'u' ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
        rc = sn_h5x_write(g, "categories", ft, mt, 1, &c->ncat, flt ? (void *)fv : (void *)iv, comp, "array",
                          "0.2.0");
    }
    free(iv);
    free(fv);
    return rc;
}

static int write_cat(hid_t parent, const sn_col *c, const char *name, int comp)
{
    hid_t g;
    SN_TRY(check_categories(c, name));
    SN_TRY(sn_h5x_group(parent, c->name, "categorical", "0.2.0", &g));
    int rc;
    SN_CHECK(sn_h5x_set_attr_bool(g, "ordered", c->ordered));
    SN_CHECK(sn_h5x_write(g, "codes", codes_type(c->ncat), H5T_NATIVE_INT32, 1, &c->n, c->v.codes, comp, "array",
                          "0.2.0"));
    SN_CHECK(write_cats(g, c, comp));
out:
    H5Gclose(g);
    return rc < 0 ? rc : SN_OK;
}

/* A plain bool array, or with missing values (or read as one) anndata's
 * nullable-boolean: a group of values and mask (True = missing). */
static int write_bool(hid_t g, const sn_col *c, int comp)
{
    int8_t *b = sn_malloc(2 * (size_t)c->n + 1, "a boolean column"), *mask = b ? b + c->n : NULL;
    if (!b)
        return SN_ENOMEM;
    int na = 0, rc;
    for (int64_t i = 0; i < c->n; i++) {
        mask[i] = c->v.b[i] == SN_BOOL_NA;
        b[i] = c->v.b[i] == 1;
        na |= mask[i];
    }
    hid_t t = sn_h5x_bool_type(), grp = -1;
    if (!na && !c->nullable)
        rc = sn_h5x_write(g, c->name, t, t, 1, &c->n, b, comp, "array", "0.2.0");
    else if ((rc = sn_h5x_group(g, c->name, "nullable-boolean", "0.1.0", &grp)) == SN_OK &&
             (rc = sn_h5x_write(grp, "values", t, t, 1, &c->n, b, comp, "array", "0.2.0")) == SN_OK)
        rc = sn_h5x_write(grp, "mask", t, t, 1, &c->n, mask, comp, "array", "0.2.0");
    if (grp >= 0)
        H5Gclose(grp);
    H5Tclose(t);
    free(b);
    return rc;
}

/* anndata's nullable-integer or nullable-string-array: a group of values
 * and mask (True = missing), as the column was read. */
static int write_nullable(hid_t g, const sn_col *c, int comp)
{
    int str = c->type == SN_COL_STR;
    int8_t *mask = sn_calloc((size_t)c->n + 1, 1, "a mask");
    int64_t *v = str ? NULL : sn_malloc((size_t)c->n * sizeof *v + 1, "a nullable column");
    hid_t t = sn_h5x_bool_type(), grp = -1;
    int rc = mask && (str || v) ? SN_OK : SN_ENOMEM;
    for (int64_t i = 0; rc == SN_OK && i < c->n; i++) {
        mask[i] = str ? c->na && c->na[i] : isnan(c->v.f64[i]);
        if (!str)
            v[i] = mask[i] ? 0 : (int64_t)c->v.f64[i];
    }
    if (rc == SN_OK)
        rc = sn_h5x_group(g, c->name, str ? "nullable-string-array" : "nullable-integer", "0.1.0", &grp);
    if (rc == SN_OK)
        rc = str ? sn_h5x_write_strs(grp, "values", c->v.str, c->n, comp, "string-array", "0.2.0")
                 : sn_h5x_write(grp, "values", stored_int(c->dtype, H5T_STD_I64LE), H5T_NATIVE_INT64, 1, &c->n, v,
                               comp, "array", "0.2.0");
    if (rc == SN_OK)
        rc = sn_h5x_write(grp, "mask", t, t, 1, &c->n, mask, comp, "array", "0.2.0");
    if (grp >= 0)
        H5Gclose(grp);
    H5Tclose(t);
    free(mask);
    free(v);
    return rc;
}

static int write_colobj(hid_t g, const sn_col *c, const char *name, int comp)
{
    if (c->nullable && (c->type == SN_COL_STR || c->type == SN_COL_F64))
        return write_nullable(g, c, comp);
    switch (c->type) {
    case SN_COL_F64:
        return sn_h5x_write(g, c->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &c->n, c->v.f64, comp, "array", "0.2.0");
    case SN_COL_F32:
        return sn_h5x_write(g, c->name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &c->n, c->v.f32, comp, "array", "0.2.0");
    case SN_COL_I64:
        return sn_h5x_write(g, c->name, stored_int(c->dtype, H5T_STD_I64LE), H5T_NATIVE_INT64, 1, &c->n, c->v.i64,
                            comp, "array", "0.2.0");
    case SN_COL_I32:
        return sn_h5x_write(g, c->name, stored_int(c->dtype, H5T_STD_I32LE), H5T_NATIVE_INT32, 1, &c->n, c->v.i32,
                            comp, "array", "0.2.0");
    case SN_COL_BOOL: return write_bool(g, c, comp);
    case SN_COL_STR: return sn_h5x_write_strs(g, c->name, c->v.str, c->n, comp, "string-array", "0.2.0");
    case SN_COL_CAT: return write_cat(g, c, name, comp);
    }
    return sn_err(SN_EINVAL, "%s: unknown column type", name);
}

static int check_frame(const sn_frame *f, const char *name, const char *index)
{
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, f->ncol));
    int rc = SN_OK;
    for (int i = 0; rc == SN_OK && i < f->ncol; i++) {
        const sn_col *c = &f->cols[i];
        if ((rc = check_colname(name, c->name, index)) < 0)
            break;
        if (c->n != f->n)
            rc = sn_err(SN_EINVAL, "%s: column '%s' has %lld rows, the table %lld", name, c->name, (long long)c->n,
                        (long long)f->n);
        else if ((rc = sn_strmap_put(&m, c->name, i, NULL)) == 0)
            rc = sn_err(SN_EINVAL, "%s: column '%s' appears twice", name, c->name);
        rc = rc < 0 ? rc : SN_OK;
    }
    sn_strmap_free(&m);
    return rc;
}

static int write_index(hid_t g, const sn_frame *f, const char *name, const char *index, int comp)
{
    if (f->index) {
        int64_t dup = sn_index_first_dup(f->index, f->n);
        if (dup >= 0)
            sn_warn("%s: index label '%s' is not unique (anndata will warn)", name, f->index[dup]);
        return sn_h5x_write_strs(g, index, f->index, f->n, comp, "string-array", "0.2.0");
    }
    char **lab = sn_calloc((size_t)f->n + 1, sizeof *lab, "index labels"), b[24];
    int rc = lab ? SN_OK : SN_ENOMEM;
    for (int64_t i = 0; rc == SN_OK && i < f->n; i++) {
        snprintf(b, sizeof b, "%lld", (long long)i);
        if (!(lab[i] = sn_strdup(b)))
            rc = SN_ENOMEM;
    }
    if (rc == SN_OK)
        rc = sn_h5x_write_strs(g, index, lab, f->n, comp, "string-array", "0.2.0");
    sn_free_strings(lab, f->n);
    return rc;
}

/* The name the index is stored under: its own (pandas' index.name), unless
 * a column has taken it (one a stage adds, such as gene_ids or n_cells);
 * then the index goes unnamed, as pandas writes an index without a name. */
static const char *index_key(const sn_frame *f)
{
    if (!f->index_name || !*f->index_name)
        return "_index";
    for (int i = 0; i < f->ncol; i++)
        if (strcmp(f->cols[i].name, f->index_name) == 0)
            return "_index";
    return f->index_name;
}

int sn_h5ad_write_frame(hid_t loc, const char *name, const sn_frame *f, int comp)
{
    char nm[SN_H5X_NAME];
    const char *leaf, *index = index_key(f);
    char **order = NULL;
    hid_t p = H5I_INVALID_HID, g = H5I_INVALID_HID;
    int rc;
    sn_h5x_name(loc, name, nm, sizeof nm);
    if (strchr(index, '/'))
        return sn_err(SN_EINVAL, "%s: cannot write index name '%s' (contains '/')", nm, index);
    SN_CHECK(check_frame(f, nm, index));
    if (!(order = sn_calloc((size_t)f->ncol + 1, sizeof *order, "column names")))
        SN_CHECK(SN_ENOMEM);
    for (int i = 0; i < f->ncol; i++)
        order[i] = f->cols[i].name;
    SN_CHECK(sn_h5x_parent(loc, name, &p, &leaf));
    SN_CHECK(sn_h5x_group(p, leaf, "dataframe", "0.2.0", &g));
    SN_CHECK(sn_h5x_set_attr_str(g, "_index", index));
    SN_CHECK(sn_h5x_set_attr_strs(g, "column-order", order, f->ncol));
    SN_CHECK(write_index(g, f, nm, index, comp));
    for (int i = 0; i < f->ncol; i++)
        SN_CHECK(write_colobj(g, &f->cols[i], nm, comp));
out:
    free(order);
    sn_h5x_close(g);
    sn_h5x_close(p);
    return rc < 0 ? rc : SN_OK;
}

/* Append col to the column-order of g unless it is listed already. */
static int add_to_order(hid_t g, const char *name, const char *col)
{
    char **cols = NULL;
    int64_t n = 0;
    int rc = sn_h5x_attr_strs(g, "column-order", name, &cols, &n);
    for (int64_t i = 0; rc >= 0 && i < n; i++)
        if (strcmp(cols[i], col) == 0) {
            sn_free_strings(cols, n);
            return SN_OK;
        }
    char **more = rc >= 0 ? sn_realloc(cols, (size_t)(n + 1) * sizeof *more, "column names") : NULL;
    if (more) {
        cols = more;
        cols[n] = (char *)col;
        rc = sn_h5x_set_attr_strs(g, "column-order", cols, n + 1);
        cols[n] = NULL;
    } else if (rc >= 0) {
        rc = SN_ENOMEM;
    }
    sn_free_strings(cols, n);
    return rc < 0 ? rc : SN_OK;
}

/* column-order without col; 1 when it was there. */
static int drop_from_order(hid_t g, const char *name, const char *col)
{
    char **cols = NULL;
    int64_t n = 0, k = 0;
    int rc = sn_h5x_attr_strs(g, "column-order", name, &cols, &n), found = 0;
    for (int64_t i = 0; rc >= 0 && i < n; i++) {
        if (strcmp(cols[i], col) == 0) {
            found = 1;
            free(cols[i]);
            continue;
        }
        cols[k++] = cols[i];
    }
    if (rc >= 0 && found)
        rc = sn_h5x_set_attr_strs(g, "column-order", cols, k);
    sn_free_strings(cols, found ? k : n);
    return rc < 0 ? rc : found;
}

int sn_h5ad_drop_col(hid_t loc, const char *frame, const char *col)
{
    char name[SN_H5X_NAME], enc[32];
    hid_t g;
    int rc = sn_h5x_open(loc, frame, name, &g, enc, sizeof enc);
    if (rc < 0)
        return rc;
    rc = SN_OK;
    if (H5Iget_type(g) != H5I_GROUP || strcmp(enc, "dataframe") != 0)
        rc = sn_err(SN_EFMT, "%s: expected a dataframe, found %s", name, *enc ? enc : "an unknown element");
    if (rc == SN_OK && (rc = drop_from_order(g, name, col)) == 1)
        rc = sn_h5ad_remove(g, col) < 0 ? sn_err(SN_EIO, "%s: cannot remove column '%s'", name, col) : 1;
    sn_h5x_close(g);
    return rc;
}

/* Store the index of g under "_index" instead of its name ix (see index_key). */
static int unname_index(hid_t g, const char *name, const char *ix)
{
    if (H5Lexists(g, "_index", H5P_DEFAULT) > 0)
        return sn_err(SN_EFMT, "%s: both '%s' (the index) and '_index' are present", name, ix);
    if (H5Lmove(g, ix, g, "_index", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return sn_err(SN_EIO, "%s: cannot rename the index '%s'", name, ix);
    return sn_h5x_set_attr_str(g, "_index", "_index");
}

int sn_h5ad_write_col(hid_t loc, const char *frame, const sn_col *c, int comp)
{
    char name[SN_H5X_NAME], enc[32], *ix = NULL;
    int64_t n = 0;
    hid_t g;
    int rc = sn_h5x_open(loc, frame, name, &g, enc, sizeof enc);
    if (rc < 0)
        goto out;
    if (H5Iget_type(g) != H5I_GROUP || strcmp(enc, "dataframe") != 0)
        SN_CHECK(sn_err(SN_EFMT, "%s: expected a dataframe, found %s", name, *enc ? enc : "an unknown element"));
    SN_CHECK(sn_h5x_frame_len(g, name, &n, &ix));
    if (strcmp(c->name, ix) == 0 && strcmp(ix, "_index") != 0) /* the column takes the index's name */
        SN_CHECK(unname_index(g, name, ix));
    SN_CHECK(check_colname(name, c->name, "_index"));
    if (c->n != n)
        SN_CHECK(sn_err(SN_EINVAL, "%s: column '%s' has %lld rows, the table %lld", name, c->name, (long long)c->n,
                        (long long)n));
    SN_CHECK(write_colobj(g, c, name, comp));
    SN_CHECK(add_to_order(g, name, c->name));
out:
    free(ix);
    sn_h5x_close(g);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5ad_read_index(hid_t loc, const char *frame, char ***labels, int64_t *n)
{
    char *index = NULL, **cols = NULL, path[512];
    int64_t ncol = 0;
    SN_TRY(sn_h5ad_frame_names(loc, frame, &index, &cols, &ncol));
    snprintf(path, sizeof path, "%s/%s", frame, index);
    int rc = sn_h5ad_read_strings(loc, path, labels, n);
    free(index);
    sn_free_strings(cols, ncol);
    return rc;
}
