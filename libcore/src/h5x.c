#include "h5x.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/mem.h"
#include "scnet/text.h"

void sn_h5x_close(hid_t id)
{
    if (id < 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
}

hid_t sn_h5x_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

hid_t sn_h5x_bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    signed char f = 0, tr = 1;
    H5Tenum_insert(t, "FALSE", &f);
    H5Tenum_insert(t, "TRUE", &tr);
    return t;
}

size_t sn_h5x_num_size(sn_h5x_num t)
{
    static const size_t sz[] = {8, 4, 8, 4, 1};
    return sz[t];
}

hid_t sn_h5x_num_mem(sn_h5x_num t)
{
    switch (t) {
    case SN_H5X_F64: return H5T_NATIVE_DOUBLE;
    case SN_H5X_F32: return H5T_NATIVE_FLOAT;
    case SN_H5X_I64: return H5T_NATIVE_INT64;
    case SN_H5X_I32: return H5T_NATIVE_INT32;
    case SN_H5X_U8: return H5T_NATIVE_UINT8;
    }
    return H5T_NATIVE_DOUBLE;
}

const char *sn_h5x_name(hid_t loc, const char *path, char *buf, size_t len)
{
    char base[SN_H5X_NAME] = "/";
    if (H5Iget_name(loc, base, sizeof base) <= 0)
        strcpy(base, "/");
    const char *b = strcmp(base, "/") ? base + 1 : "";
    if (!path || !*path || strcmp(path, ".") == 0)
        snprintf(buf, len, "%s", *b ? b : "/");
    else
        snprintf(buf, len, "%s%s%s", b, *b ? "/" : "", path[0] == '/' ? path + 1 : path);
    return buf;
}

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
        snprintf((char *)data, 256, "%s", e->desc);
    return 0;
}

int sn_h5x_fail(int code, const char *name, const char *what)
{
    char d[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, d);
    H5Eclear2(H5E_DEFAULT);
    if (*d)
        return sn_err(code, "%s: %s (HDF5: %s)", name, what, d);
    return sn_err(code, "%s: %s", name, what);
}

int sn_h5x_exists(hid_t loc, const char *path)
{
    char buf[SN_H5X_NAME];
    if (!path || !*path || strcmp(path, ".") == 0)
        return 1;
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, path, n + 1);
    /* H5Lexists needs every parent to exist, so walk the path. */
    for (char *p = buf;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = 0;
        if (*p && H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
            return 0;
        if (!slash)
            break;
        *slash = '/';
        p = slash + 1;
    }
    return H5Oexists_by_name(loc, path, H5P_DEFAULT) > 0;
}

int sn_h5x_kind(hid_t loc, const char *path)
{
    if (!sn_h5x_exists(loc, path))
        return -1;
    hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t == H5I_GROUP ? H5O_TYPE_GROUP : t == H5I_DATASET ? H5O_TYPE_DATASET : -1;
}

/* ---- strings and numbers from datasets or attributes ---- */

static herr_t rd(hid_t obj, int is_attr, hid_t mt, void *buf)
{
    return is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

/* Fixed-length strings: NULLPAD ones are not terminated when full, and
 * SPACEPAD ones carry trailing blanks. */
static char *fixed_str(const char *p, size_t len, H5T_str_t pad)
{
    size_t n = strnlen(p, len);
    if (pad == H5T_STR_SPACEPAD)
        while (n && p[n - 1] == ' ')
            n--;
    char *s = sn_malloc(n + 1, "a string");
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static int read_vlen_strs(hid_t obj, int is_attr, hid_t ft, hid_t space, int64_t n, const char *name,
                          char **out)
{
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    int rc = SN_OK;
    char **raw = sn_calloc((size_t)n, sizeof *raw, "strings");
    if (!raw)
        SN_CHECK(SN_ENOMEM);
    if (rd(obj, is_attr, mt, raw) < 0)
        SN_CHECK(sn_h5x_fail(SN_EFMT, name, "cannot read strings"));
    for (int64_t i = 0; i < n; i++)
        if (!(out[i] = sn_strdup(raw[i] ? raw[i] : "")))
            rc = SN_ENOMEM;
    H5Dvlen_reclaim(mt, space, H5P_DEFAULT, raw);
out:
    free(raw);
    H5Tclose(mt);
    return rc;
}

static int read_fixed_strs(hid_t obj, int is_attr, hid_t ft, int64_t n, const char *name, char **out)
{
    size_t len = H5Tget_size(ft);
    H5T_str_t pad = H5Tget_strpad(ft);
    int rc = SN_OK;
    char *raw = sn_malloc(sn_mul_size((size_t)n, len), "fixed-length strings");
    if (!raw)
        return SN_ENOMEM;
    if (rd(obj, is_attr, ft, raw) < 0)
        rc = sn_h5x_fail(SN_EFMT, name, "cannot read strings");
    for (int64_t i = 0; rc == SN_OK && i < n; i++)
        if (!(out[i] = fixed_str(raw + (size_t)i * len, len, pad)))
            rc = SN_ENOMEM;
    free(raw);
    return rc;
}

/* Strings of a dataset or attribute whose type is ft; *s gets n strings. */
static int read_strs(hid_t obj, int is_attr, hid_t ft, hid_t space, const char *name, char ***s, int64_t *n)
{
    hssize_t np = H5Sget_select_npoints(space);
    if (np < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot read the dataspace");
    char **out = sn_calloc((size_t)np, sizeof *out, "strings");
    if (!out)
        return SN_ENOMEM;
    int rc = np == 0 ? SN_OK
             : H5Tis_variable_str(ft) > 0 ? read_vlen_strs(obj, is_attr, ft, space, np, name, out)
                                          : read_fixed_strs(obj, is_attr, ft, np, name, out);
    /* what anndata could not decode is refused here too, with its place */
    for (hssize_t i = 0; rc == SN_OK && i < np; i++)
        if (!sn_h5x_utf8_ok(out[i]))
            rc = sn_err(SN_EFMT, "%s: string %lld is not valid UTF-8 (anndata could not read it either)", name,
                        (long long)i);
    if (rc < 0) {
        sn_free_strings(out, np);
        return rc;
    }
    *s = out;
    *n = np;
    return SN_OK;
}

static int64_t load_int(const unsigned char *p, size_t size, int is_signed)
{
    switch (size) {
    case 1: return is_signed ? (int64_t) * (const int8_t *)p : (int64_t) * (const uint8_t *)p;
    case 2: return is_signed ? (int64_t) * (const int16_t *)p : (int64_t) * (const uint16_t *)p;
    case 4: return is_signed ? (int64_t) * (const int32_t *)p : (int64_t) * (const uint32_t *)p;
    default: return *(const int64_t *)p;
    }
}

static void put_num(void *buf, sn_h5x_num t, int64_t i, int64_t v)
{
    switch (t) {
    case SN_H5X_F64: ((double *)buf)[i] = (double)v; break;
    case SN_H5X_F32: ((float *)buf)[i] = (float)v; break;
    case SN_H5X_I64: ((int64_t *)buf)[i] = v; break;
    case SN_H5X_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
    case SN_H5X_U8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    }
}

/* Enums (h5py's bool) do not convert to numbers in HDF5, so read them
 * with their native enum type and widen the stored integers. */
static int read_enum(hid_t obj, int is_attr, hid_t ft, int64_t n, const char *name, sn_h5x_num want,
                     void *buf)
{
    hid_t mt = H5Tget_native_type(ft, H5T_DIR_ASCEND), base = H5Tget_super(mt);
    size_t ms = H5Tget_size(mt);
    int sgn = H5Tget_sign(base) != H5T_SGN_NONE, rc = SN_OK;
    unsigned char *tmp = ms <= 8 ? sn_malloc(sn_mul_size((size_t)n, ms), "enum values") : NULL;
    if (!tmp)
        SN_CHECK(ms <= 8 ? SN_ENOMEM : sn_err(SN_EFMT, "%s: unsupported enum type", name));
    if (rd(obj, is_attr, mt, tmp) < 0)
        SN_CHECK(sn_h5x_fail(SN_EFMT, name, "cannot read values"));
    for (int64_t i = 0; i < n; i++)
        put_num(buf, want, i, load_int(tmp + (size_t)i * ms, ms, sgn));
out:
    free(tmp);
    sn_h5x_close(base);
    sn_h5x_close(mt);
    return rc;
}

static int read_num(hid_t obj, int is_attr, hid_t ft, int64_t n, const char *name, sn_h5x_num want, void *buf)
{
    H5T_class_t cls = H5Tget_class(ft);
    if (n == 0)
        return SN_OK;
    if (cls == H5T_ENUM)
        return read_enum(obj, is_attr, ft, n, name, want, buf);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        char d[32];
        return sn_err(SN_EFMT, "%s: expected numbers, found %s values", name, sn_h5x_dtype(ft, d, sizeof d));
    }
    int direct = is_attr ? 0 : sn_h5x_read_direct(obj, sn_h5x_num_mem(want), n, buf, name);
    if (direct != 0)
        return direct < 0 ? direct : SN_OK;
    if (rd(obj, is_attr, sn_h5x_num_mem(want), buf) < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot read values");
    return SN_OK;
}

int sn_h5x_read_num(hid_t ds, const char *name, sn_h5x_num want, void *buf)
{
    int64_t n = 0;
    SN_TRY(sn_h5x_count(ds, name, &n));
    hid_t ft = H5Dget_type(ds);
    int rc = read_num(ds, 0, ft, n, name, want, buf);
    H5Tclose(ft);
    return rc;
}

int sn_h5x_read_num_new(hid_t ds, const char *name, sn_h5x_num want, size_t n, const char *what, void **buf)
{
    if (!(*buf = sn_malloc(sn_mul_size(n, sn_h5x_num_size(want)), what)))
        return SN_ENOMEM;
    int rc = sn_h5x_read_num(ds, name, want, *buf);
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

int sn_h5x_read_strs(hid_t ds, const char *name, char ***s, int64_t *n)
{
    hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rc;
    if (H5Tget_class(ft) != H5T_STRING) {
        char d[32];
        rc = sn_err(SN_EFMT, "%s: expected strings, found %s values", name, sn_h5x_dtype(ft, d, sizeof d));
    } else {
        rc = read_strs(ds, 0, ft, sp, name, s, n);
    }
    sn_h5x_close(sp);
    sn_h5x_close(ft);
    return rc;
}

static int numstrs(hid_t ds, hid_t ft, int64_t n, const char *name, char **out)
{
    H5T_class_t c = H5Tget_class(ft);
    char d[32], b[40];
    int is_bool = c == H5T_ENUM && strcmp(sn_h5x_dtype(ft, d, sizeof d), "bool") == 0;
    void *v = sn_malloc(sn_mul_size((size_t)n, 8), "numbers");
    if (!v)
        return SN_ENOMEM;
    int rc = read_num(ds, 0, ft, n, name, c == H5T_FLOAT ? SN_H5X_F64 : SN_H5X_I64, v);
    for (int64_t i = 0; rc == SN_OK && i < n; i++) {
        if (is_bool) {
            snprintf(b, sizeof b, "%s", ((int64_t *)v)[i] ? "True" : "False");
        } else if (c != H5T_FLOAT) {
            snprintf(b, sizeof b, "%lld", (long long)((int64_t *)v)[i]);
        } else {
            sn_fmt_double(((double *)v)[i], b, sizeof b - 2);
            if (!strpbrk(b, ".eni")) /* Python writes whole floats as "1.0" */
                strcat(b, ".0");
        }
        if (!(out[i] = sn_strdup(b)))
            rc = SN_ENOMEM;
    }
    free(v);
    return rc;
}

int sn_h5x_read_numstrs(hid_t ds, const char *name, char ***s, int64_t *n)
{
    int64_t np = 0;
    SN_TRY(sn_h5x_count(ds, name, &np));
    char **out = sn_calloc((size_t)np, sizeof *out, "labels");
    if (!out)
        return SN_ENOMEM;
    hid_t ft = H5Dget_type(ds);
    int rc = numstrs(ds, ft, np, name, out);
    H5Tclose(ft);
    if (rc < 0) {
        sn_free_strings(out, np);
        return rc;
    }
    *s = out;
    *n = np;
    return SN_OK;
}

/* ---- attributes ---- */

/* Open attribute attr of obj with its type and space; 0 when absent. */
static int attr_open(hid_t obj, const char *attr, const char *name, hid_t *a, hid_t *t, hid_t *sp)
{
    *a = *t = *sp = H5I_INVALID_HID;
    htri_t ex = H5Aexists(obj, attr);
    if (ex < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot read attributes");
    if (ex == 0)
        return 0;
    if ((*a = H5Aopen(obj, attr, H5P_DEFAULT)) < 0 || (*t = H5Aget_type(*a)) < 0 || (*sp = H5Aget_space(*a)) < 0) {
        char w[160];
        snprintf(w, sizeof w, "cannot read attribute '%s'", attr);
        return sn_h5x_fail(SN_EFMT, name, w);
    }
    return 1;
}

static void attr_close(hid_t a, hid_t t, hid_t sp)
{
    sn_h5x_close(sp);
    sn_h5x_close(t);
    sn_h5x_close(a);
}

int sn_h5x_attr_strs(hid_t obj, const char *attr, const char *name, char ***s, int64_t *n)
{
    hid_t a, t, sp;
    int rc = attr_open(obj, attr, name, &a, &t, &sp);
    *s = NULL;
    *n = 0;
    if (rc > 0 && H5Sget_simple_extent_npoints(sp) == 0) {
        *s = sn_calloc(1, sizeof **s, "strings");
        rc = *s ? 1 : SN_ENOMEM;
    } else if (rc > 0 && H5Tget_class(t) != H5T_STRING) {
        rc = sn_err(SN_EFMT, "%s: attribute '%s' does not hold strings", name, attr);
    } else if (rc > 0) {
        rc = read_strs(a, 1, t, sp, name, s, n);
        rc = rc < 0 ? rc : 1;
    }
    attr_close(a, t, sp);
    return rc;
}

int sn_h5x_attr_str(hid_t obj, const char *attr, const char *name, char **s)
{
    char **v;
    int64_t n = 0;
    int rc = sn_h5x_attr_strs(obj, attr, name, &v, &n);
    *s = NULL;
    if (rc <= 0)
        return rc;
    if (n != 1) {
        sn_free_strings(v, n);
        return sn_err(SN_EFMT, "%s: attribute '%s' should be one string, has %lld", name, attr, (long long)n);
    }
    *s = v[0];
    free(v);
    return 1;
}

int sn_h5x_attr_ints(hid_t obj, const char *attr, const char *name, int64_t *v, int max, int *n)
{
    hid_t a, t, sp;
    int rc = attr_open(obj, attr, name, &a, &t, &sp);
    *n = 0;
    if (rc > 0) {
        hssize_t np = H5Sget_simple_extent_npoints(sp);
        H5T_class_t c = H5Tget_class(t);
        if (np < 0 || np > max || (c != H5T_INTEGER && c != H5T_ENUM))
            rc = sn_err(SN_EFMT, "%s: attribute '%s' should be at most %d integers", name, attr, max);
        else if ((rc = read_num(a, 1, t, np, name, SN_H5X_I64, v)) == SN_OK)
            *n = (int)np, rc = 1;
    }
    attr_close(a, t, sp);
    return rc;
}

int sn_h5x_attr_bool(hid_t obj, const char *attr, const char *name, int *v)
{
    int64_t x = 0;
    int n, rc = sn_h5x_attr_ints(obj, attr, name, &x, 1, &n);
    if (rc > 0 && n != 1)
        return sn_err(SN_EFMT, "%s: attribute '%s' should be one boolean", name, attr);
    *v = x != 0;
    return rc;
}

static int attr_create(hid_t obj, const char *attr, hid_t t, hid_t sp, hid_t mt, const void *buf)
{
    char nm[SN_H5X_NAME], what[160];
    hid_t a = H5I_INVALID_HID;
    int rc = SN_OK;
    if (H5Aexists(obj, attr) > 0 && H5Adelete(obj, attr) < 0)
        rc = SN_EIO;
    else if ((a = H5Acreate2(obj, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, mt, buf) < 0)
        rc = SN_EIO;
    sn_h5x_close(a);
    if (rc < 0) {
        snprintf(what, sizeof what, "cannot write attribute '%s'", attr);
        rc = sn_h5x_fail(SN_EIO, sn_h5x_name(obj, NULL, nm, sizeof nm), what);
    }
    return rc;
}

int sn_h5x_set_attr_strs(hid_t obj, const char *attr, char *const *v, int64_t n)
{
    hsize_t d = (hsize_t)n;
    hid_t t = sn_h5x_str_type(), sp = H5Screate_simple(1, &d, NULL);
    static const char *none[1] = {""};
    int rc = attr_create(obj, attr, t, sp, t, n ? (const void *)v : (const void *)none);
    sn_h5x_close(sp);
    sn_h5x_close(t);
    return rc;
}

int sn_h5x_set_attr_str(hid_t obj, const char *attr, const char *v)
{
    hid_t t = sn_h5x_str_type(), sp = H5Screate(H5S_SCALAR);
    int rc = attr_create(obj, attr, t, sp, t, &v);
    sn_h5x_close(sp);
    sn_h5x_close(t);
    return rc;
}

int sn_h5x_set_attr_i64s(hid_t obj, const char *attr, const int64_t *v, int n)
{
    hsize_t d = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    int rc = attr_create(obj, attr, H5T_STD_I64LE, sp, H5T_NATIVE_INT64, v);
    sn_h5x_close(sp);
    return rc;
}

int sn_h5x_set_attr_bool(hid_t obj, const char *attr, int v)
{
    signed char b = v != 0;
    hid_t t = sn_h5x_bool_type(), sp = H5Screate(H5S_SCALAR);
    int rc = attr_create(obj, attr, t, sp, t, &b);
    sn_h5x_close(sp);
    sn_h5x_close(t);
    return rc;
}

int sn_h5x_set_enc(hid_t obj, const char *type, const char *version)
{
    SN_TRY(sn_h5x_set_attr_str(obj, "encoding-type", type));
    return sn_h5x_set_attr_str(obj, "encoding-version", version);
}

static herr_t copy_attr(hid_t src, const char *attr, const H5A_info_t *info, void *data)
{
    (void)info;
    hid_t dst = *(hid_t *)data, a = H5Aopen(src, attr, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t sz = t >= 0 ? H5Tget_size(t) : 0;
    void *buf = np >= 0 && sz ? sn_calloc((size_t)(np ? np : 1), sz, "an attribute") : NULL;
    /* Reading with the file type gives the in-memory form of that type
     * (pointers for variable-length strings), which writes back as is. */
    herr_t r = buf && H5Aread(a, t, buf) >= 0 && attr_create(dst, attr, t, sp, t, buf) == SN_OK ? 0 : -1;
    if (buf && r == 0)
        H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
    free(buf);
    attr_close(a, t, sp);
    return r;
}

int sn_h5x_copy_attrs(hid_t src, hid_t dst)
{
    char name[SN_H5X_NAME];
    if (H5Aiterate2(src, H5_INDEX_NAME, H5_ITER_INC, NULL, copy_attr, &dst) < 0)
        return sn_h5x_fail(SN_EIO, sn_h5x_name(src, NULL, name, sizeof name), "cannot copy attributes");
    return SN_OK;
}

static int guess_group(hid_t g, const char *name, char *enc, size_t len)
{
    char *fmt = NULL;
    int rc = sn_h5x_attr_str(g, "h5sparse_format", name, &fmt);
    if (rc > 0)
        snprintf(enc, len, "%s_matrix", fmt);
    else if (rc == 0)
        snprintf(enc, len, "%s", H5Aexists(g, "_index") > 0 ? "dataframe" : "dict");
    free(fmt);
    return rc < 0 ? rc : 0;
}

static int guess_dataset(hid_t ds, char *enc, size_t len)
{
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    H5T_class_t c = H5Tget_class(t);
    if (H5Aexists(ds, "categories") > 0)
        snprintf(enc, len, "categorical");
    else if (c == H5T_STRING)
        snprintf(enc, len, rank == 0 ? "string" : "string-array");
    else if (c == H5T_INTEGER || c == H5T_FLOAT || c == H5T_ENUM)
        snprintf(enc, len, rank == 0 ? "numeric-scalar" : "array");
    else
        snprintf(enc, len, c == H5T_COMPOUND ? "rec-array" : "");
    sn_h5x_close(sp);
    sn_h5x_close(t);
    return 0;
}

int sn_h5x_encoding(hid_t obj, const char *name, char *enc, size_t len)
{
    char *s = NULL;
    int rc = sn_h5x_attr_str(obj, "encoding-type", name, &s);
    if (rc > 0)
        snprintf(enc, len, "%s", s);
    free(s);
    if (rc != 0)
        return rc;
    return H5Iget_type(obj) == H5I_GROUP ? guess_group(obj, name, enc, len) : guess_dataset(obj, enc, len);
}

/* ---- datasets ---- */

int sn_h5x_dims(hid_t ds, const char *name, int *rank, int64_t *dims, int max)
{
    hid_t sp = H5Dget_space(ds);
    hsize_t d[H5S_MAX_RANK];
    int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (r >= 0)
        H5Sget_simple_extent_dims(sp, d, NULL);
    sn_h5x_close(sp);
    if (r < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot read the dataspace");
    if (r > max)
        return sn_err(SN_EFMT, "%s: has %d dimensions, expected at most %d", name, r, max);
    for (int k = 0; k < r; k++)
        dims[k] = (int64_t)d[k];
    *rank = r;
    return SN_OK;
}

int sn_h5x_count(hid_t ds, const char *name, int64_t *n)
{
    hid_t sp = H5Dget_space(ds);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    sn_h5x_close(sp);
    if (np < 0)
        return sn_h5x_fail(SN_EFMT, name, "cannot read the dataspace");
    *n = (int64_t)np;
    return SN_OK;
}

static int is_bool_enum(hid_t t)
{
    if (H5Tget_nmembers(t) != 2)
        return 0;
    char *a = H5Tget_member_name(t, 0), *b = H5Tget_member_name(t, 1);
    int ok = a && b && strcmp(a, "FALSE") == 0 && strcmp(b, "TRUE") == 0;
    H5free_memory(a);
    H5free_memory(b);
    return ok;
}

const char *sn_h5x_dtype(hid_t t, char *buf, size_t len)
{
    size_t sz = H5Tget_size(t);
    switch (H5Tget_class(t)) {
    case H5T_INTEGER:
        snprintf(buf, len, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", 8 * sz);
        break;
    case H5T_FLOAT: snprintf(buf, len, "float%zu", 8 * sz); break;
    case H5T_STRING: snprintf(buf, len, "str"); break;
    case H5T_ENUM: snprintf(buf, len, is_bool_enum(t) ? "bool" : "enum"); break;
    case H5T_COMPOUND: snprintf(buf, len, "compound"); break;
    case H5T_REFERENCE: snprintf(buf, len, "reference"); break;
    default: snprintf(buf, len, "other"); break;
    }
    return buf;
}

hid_t sn_h5x_gcpl(void)
{
    hid_t p = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(p, 0);
    return p;
}

/* Chunks of about 256 KiB, filled from the last (fastest) dimension. */
static void chunk_dims(int rank, const hsize_t *d, size_t es, hsize_t *c)
{
    hsize_t left = (hsize_t)(256 * 1024 / (es ? es : 1));
    for (int k = rank - 1; k >= 0; k--) {
        c[k] = d[k] < left ? d[k] : left;
        if (c[k] == 0)
            c[k] = 1;
        left = left / c[k] ? left / c[k] : 1;
    }
}

int sn_h5x_create(hid_t loc, const char *name, hid_t ftype, int rank, const int64_t *dims, int comp, hid_t *ds)
{
    hsize_t d[H5S_MAX_RANK], c[H5S_MAX_RANK], total = 1;
    for (int k = 0; k < rank; k++)
        total *= (d[k] = (hsize_t)dims[k]);
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
        return sn_h5x_fail(SN_EIO, name, "cannot replace the existing element");
    hid_t sp = rank ? H5Screate_simple(rank, d, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    if (comp > 0 && rank > 0 && total > 0) {
        chunk_dims(rank, d, H5Tget_size(ftype), c);
        H5Pset_chunk(dcpl, rank, c);
        H5Pset_deflate(dcpl, (unsigned)(comp > 9 ? 9 : comp));
    }
    *ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    sn_h5x_close(dcpl);
    sn_h5x_close(sp);
    if (*ds < 0) {
        char nm[SN_H5X_NAME];
        return sn_h5x_fail(SN_EIO, sn_h5x_name(loc, name, nm, sizeof nm), "cannot create dataset");
    }
    return SN_OK;
}

int sn_h5x_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *dims,
                 const void *buf, int comp, const char *enc, const char *ver)
{
    hid_t ds = H5I_INVALID_HID;
    int64_t total = 1;
    for (int k = 0; k < rank; k++)
        total *= dims[k];
    SN_TRY(sn_h5x_create(loc, name, ftype, rank, dims, comp, &ds));
    int rc = SN_OK;
    if (total > 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        char nm[SN_H5X_NAME];
        rc = sn_h5x_fail(SN_EIO, sn_h5x_name(loc, name, nm, sizeof nm), "cannot write (disk full?)");
    }
    if (rc == SN_OK && enc)
        rc = sn_h5x_set_enc(ds, enc, ver);
    H5Dclose(ds);
    return rc;
}

static int slab(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, void *rbuf,
                const void *wbuf)
{
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, count, NULL);
    herr_t e = fs < 0 || ms < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    if (e >= 0)
        e = rbuf ? H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, rbuf) : H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, wbuf);
    sn_h5x_close(fs);
    sn_h5x_close(ms);
    return e < 0 ? SN_EIO : SN_OK;
}

int sn_h5x_read_slab(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, void *buf)
{
    return slab(ds, mtype, rank, start, count, buf, NULL);
}

int sn_h5x_write_slab(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count,
                      const void *buf)
{
    return slab(ds, mtype, rank, start, count, NULL, buf);
}

int sn_h5x_pipeline(int64_t nb, sn_h5x_make_fn make, sn_h5x_put_fn put, void *ctx)
{
    int rc = SN_OK;
    for (int64_t i = 0; i <= nb && rc == SN_OK; i++) {
#pragma omp parallel
        {
            if (i > 0 && omp_get_thread_num() == 0)
                rc = put(ctx, i - 1, (int)((i - 1) & 1));
            if (i < nb)
                make(ctx, i, (int)(i & 1));
        }
    }
    return rc;
}

/* Python decodes every string strictly, so one bad byte would make the
 * whole file unreadable to anndata: refuse it here instead. */
int sn_h5x_utf8_ok(const char *str)
{
    return sn_utf8_invalid(str, strlen(str)) < 0;
}

int sn_h5x_write_strs(hid_t loc, const char *name, char *const *s, int64_t n, int comp, const char *enc,
                      const char *ver)
{
    for (int64_t i = 0; i < n; i++)
        if (s[i] && !sn_h5x_utf8_ok(s[i])) {
            char nm[SN_H5X_NAME];
            return sn_err(SN_EINVAL, "%s: string %lld is not valid UTF-8 (anndata could not read it)",
                          sn_h5x_name(loc, name, nm, sizeof nm), (long long)i + 1);
        }
    /* A NULL entry would come back as a null string; store "" instead. */
    const char **tmp = NULL;
    for (int64_t i = 0; i < n && !tmp; i++)
        if (!s[i] && !(tmp = sn_malloc(sn_mul_size((size_t)n, sizeof *tmp), "strings")))
            return SN_ENOMEM;
    for (int64_t i = 0; tmp && i < n; i++)
        tmp[i] = s[i] ? s[i] : "";
    hid_t t = sn_h5x_str_type();
    int rc = sn_h5x_write(loc, name, t, t, 1, &n, tmp ? (const void *)tmp : (const void *)s, comp, enc, ver);
    H5Tclose(t);
    free(tmp);
    return rc;
}

int sn_h5x_group(hid_t loc, const char *name, const char *enc, const char *ver, hid_t *g)
{
    char nm[SN_H5X_NAME];
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
        return sn_h5x_fail(SN_EIO, sn_h5x_name(loc, name, nm, sizeof nm), "cannot replace the existing element");
    hid_t gcpl = sn_h5x_gcpl();
    *g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (*g < 0)
        return sn_h5x_fail(SN_EIO, sn_h5x_name(loc, name, nm, sizeof nm), "cannot create group");
    int rc = enc ? sn_h5x_set_enc(*g, enc, ver) : SN_OK;
    if (rc < 0) {
        H5Gclose(*g);
        *g = H5I_INVALID_HID;
    }
    return rc;
}
