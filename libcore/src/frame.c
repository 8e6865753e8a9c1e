#include "scnet/frame.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_frame_init(sn_frame *f, int64_t n)
{
    memset(f, 0, sizeof *f);
    f->n = n;
}

void sn_col_free(sn_col *c)
{
    if (c->type == SN_COL_STR)
        sn_free_strings(c->v.str, c->n);
    else
        free(c->v.f64);
    sn_free_strings(c->cats, c->ncat);
    free(c->na);
    free(c->name);
    memset(c, 0, sizeof *c);
}

void sn_frame_free(sn_frame *f)
{
    for (int i = 0; i < f->ncol; i++)
        sn_col_free(&f->cols[i]);
    free(f->cols);
    sn_free_strings(f->index, f->index ? f->n : 0);
    free(f->index_name);
    memset(f, 0, sizeof *f);
}

static size_t elem_size(sn_coltype t)
{
    switch (t) {
    case SN_COL_F64: case SN_COL_I64: return 8;
    case SN_COL_F32: case SN_COL_I32: case SN_COL_CAT: return 4;
    case SN_COL_BOOL: return 1;
    case SN_COL_STR: return sizeof(char *);
    }
    return 8;
}

int sn_col_new(sn_col *c, const char *name, sn_coltype type, int64_t n)
{
    memset(c, 0, sizeof *c);
    c->name = sn_strdup(name);
    c->type = type;
    c->n = n;
    c->v.f64 = sn_calloc((size_t)n, elem_size(type), "a table column");
    if (!c->name || !c->v.f64) {
        free(c->name);
        free(c->v.f64);
        memset(c, 0, sizeof *c);
        return SN_ENOMEM;
    }
    return SN_OK;
}

sn_col *sn_frame_get(const sn_frame *f, const char *name)
{
    for (int i = 0; i < f->ncol; i++)
        if (strcmp(f->cols[i].name, name) == 0)
            return &f->cols[i];
    return NULL;
}

int sn_frame_put(sn_frame *f, sn_col *col)
{
    if (col->n != f->n)
        return sn_err(SN_EINVAL, "column '%s' has %lld rows, table has %lld", col->name,
                      (long long)col->n, (long long)f->n);
    sn_col *old = sn_frame_get(f, col->name);
    if (old) {
        sn_col_free(old);
        *old = *col;
        return SN_OK;
    }
    sn_col *c = sn_realloc(f->cols, (size_t)(f->ncol + 1) * sizeof *c, "table columns");
    if (!c)
        return SN_ENOMEM;
    f->cols = c;
    f->cols[f->ncol++] = *col;
    return SN_OK;
}

int sn_frame_drop(sn_frame *f, const char *name)
{
    sn_col *c = sn_frame_get(f, name);
    if (!c)
        return 0;
    sn_col_free(c);
    int i = (int)(c - f->cols);
    memmove(c, c + 1, (size_t)(f->ncol - i - 1) * sizeof *c);
    f->ncol--;
    return 1;
}

static char **subset_strings(char *const *s, const int64_t *keep, int64_t n)
{
    char **d = sn_calloc((size_t)n, sizeof *d, "table labels");
    for (int64_t i = 0; d && i < n; i++)
        if (!(d[i] = sn_strdup(s[keep[i]]))) {
            sn_free_strings(d, n);
            return NULL;
        }
    return d;
}

static int subset_col(const sn_col *c, const int64_t *keep, int64_t n, sn_col *o)
{
    if (c->type == SN_COL_STR) {
        memset(o, 0, sizeof *o);
        o->type = SN_COL_STR;
        o->n = n;
        o->name = sn_strdup(c->name);
        o->v.str = subset_strings(c->v.str, keep, n);
        o->nullable = c->nullable;
        memcpy(o->dtype, c->dtype, sizeof o->dtype);
        if (c->na && (o->na = sn_malloc((size_t)n + 1, "a mask")))
            for (int64_t i = 0; i < n; i++)
                o->na[i] = c->na[keep[i]];
        if (!o->name || !o->v.str || (c->na && !o->na)) {
            sn_col_free(o);
            return SN_ENOMEM;
        }
        return SN_OK;
    }
    SN_TRY(sn_col_new(o, c->name, c->type, n));
    o->nullable = c->nullable;
    memcpy(o->dtype, c->dtype, sizeof o->dtype);
    memcpy(o->cat_dtype, c->cat_dtype, sizeof o->cat_dtype);
    size_t es = elem_size(c->type);
    for (int64_t i = 0; i < n; i++)
        memcpy((char *)o->v.f64 + (size_t)i * es, (const char *)c->v.f64 + (size_t)keep[i] * es, es);
    if (c->type == SN_COL_CAT) {
        o->ordered = c->ordered;
        o->ncat = c->ncat;
        o->cats = sn_calloc((size_t)c->ncat, sizeof *o->cats, "categories");
        for (int64_t k = 0; o->cats && k < c->ncat; k++)
            if (!(o->cats[k] = sn_strdup(c->cats[k])))
                break;
        if (!o->cats || (c->ncat && !o->cats[c->ncat - 1])) {
            sn_col_free(o);
            return SN_ENOMEM;
        }
    }
    return SN_OK;
}

int sn_frame_subset(const sn_frame *f, const int64_t *keep, int64_t nkeep, sn_frame *out)
{
    sn_frame_init(out, nkeep);
    int rc = SN_OK;
    if (f->index_name && !(out->index_name = sn_strdup(f->index_name)))
        SN_CHECK(SN_ENOMEM);
    if (f->index && !(out->index = subset_strings(f->index, keep, nkeep)))
        SN_CHECK(SN_ENOMEM);
    for (int i = 0; i < f->ncol; i++) {
        sn_col c;
        SN_CHECK(subset_col(&f->cols[i], keep, nkeep, &c));
        if ((rc = sn_frame_put(out, &c)) < 0) {
            sn_col_free(&c);
            goto out;
        }
    }
out:
    if (rc < 0)
        sn_frame_free(out);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sn_col_categorical(sn_col *c, const char *name, char *const *values, int64_t n)
{
    int rc = SN_OK;
    sn_strmap m = {0};
    SN_TRY(sn_col_new(c, name, SN_COL_CAT, n));
    char **uniq = sn_malloc(sn_mul_size((size_t)n, sizeof *uniq), "categories");
    if (!uniq)
        SN_CHECK(SN_ENOMEM);
    SN_CHECK(sn_strmap_init(&m, n));
    int64_t nu = 0;
    for (int64_t i = 0; i < n; i++) {
        int r;
        SN_CHECK(r = sn_strmap_put(&m, values[i], nu, NULL));
        if (r == 1)
            uniq[nu++] = values[i];
    }
    qsort(uniq, (size_t)nu, sizeof *uniq, cmp_str);
    sn_strmap_free(&m);
    SN_CHECK(sn_strmap_init(&m, nu));
    c->cats = sn_calloc((size_t)nu, sizeof *c->cats, "categories");
    if (!c->cats)
        SN_CHECK(SN_ENOMEM);
    c->ncat = nu;
    for (int64_t k = 0; k < nu; k++) {
        if (!(c->cats[k] = sn_strdup(uniq[k])))
            SN_CHECK(SN_ENOMEM);
        SN_CHECK(sn_strmap_put(&m, c->cats[k], k, NULL));
    }
    for (int64_t i = 0; i < n; i++)
        c->v.codes[i] = (int32_t)sn_strmap_get(&m, values[i]);
out:
    free(uniq);
    sn_strmap_free(&m);
    if (rc < 0)
        sn_col_free(c);
    return rc < 0 ? rc : SN_OK;
}

const char *sn_col_str(const sn_col *c, int64_t i, char *buf, int len)
{
    switch (c->type) {
    case SN_COL_F64: snprintf(buf, (size_t)len, "%.17g", c->v.f64[i]); return buf;
    case SN_COL_F32: snprintf(buf, (size_t)len, "%.9g", (double)c->v.f32[i]); return buf;
    case SN_COL_I64: snprintf(buf, (size_t)len, "%lld", (long long)c->v.i64[i]); return buf;
    case SN_COL_I32: snprintf(buf, (size_t)len, "%d", c->v.i32[i]); return buf;
    case SN_COL_BOOL: return c->v.b[i] == SN_BOOL_NA ? "nan" : c->v.b[i] ? "True" : "False";
    case SN_COL_STR: return c->v.str[i];
    case SN_COL_CAT: return c->v.codes[i] >= 0 && c->v.codes[i] < c->ncat ? c->cats[c->v.codes[i]] : "";
    }
    return "";
}

int64_t sn_index_first_dup(char *const *labels, int64_t n)
{
    sn_strmap m;
    if (sn_strmap_init(&m, n) < 0)
        return -1;
    int64_t dup = -1;
    for (int64_t i = 0; i < n && dup < 0; i++)
        if (sn_strmap_put(&m, labels[i], i, NULL) == 0)
            dup = i;
    sn_strmap_free(&m);
    return dup;
}

int sn_index_make_unique(char **labels, int64_t n)
{
    /* anndata: for each name occurring more than once, the occurrences after
     * the first get "-1", "-2", ... skipping suffixes already in use. */
    int rc = SN_OK;
    sn_strmap seen, count;
    SN_TRY(sn_strmap_init(&seen, n));
    if ((rc = sn_strmap_init(&count, n)) < 0) {
        sn_strmap_free(&seen);
        return rc;
    }
    for (int64_t i = 0; i < n; i++)
        SN_CHECK(sn_strmap_put(&seen, labels[i], i, NULL));
    for (int64_t i = 0; i < n; i++) {
        int64_t first = sn_strmap_get(&seen, labels[i]);
        if (first == i)
            continue;
        int64_t k = sn_strmap_get(&count, labels[first]);
        k = k < 0 ? 1 : k;
        char *nl = NULL;
        for (;; k++) {
            size_t len = strlen(labels[i]) + 24;
            free(nl);
            if (!(nl = sn_malloc(len, "a unique label")))
                SN_CHECK(SN_ENOMEM);
            snprintf(nl, len, "%s-%lld", labels[i], (long long)k);
            if (sn_strmap_get(&seen, nl) < 0)
                break;
        }
        /* count is keyed by the first occurrence's label, which stays alive */
        SN_CHECK(sn_strmap_set(&count, labels[first], k + 1));
        free(labels[i]);
        labels[i] = nl;
        SN_CHECK(sn_strmap_put(&seen, labels[i], i, NULL));
    }
out:
    sn_strmap_free(&seen);
    sn_strmap_free(&count);
    return rc < 0 ? rc : SN_OK;
}

int sn_col_drop_unused(sn_col *c, int64_t **kept)
{
    *kept = NULL;
    if (c->type != SN_COL_CAT)
        return SN_OK;
    int64_t *to = sn_calloc((size_t)c->ncat + 1, sizeof *to, "categories"), k = 0;
    if (!to)
        return SN_ENOMEM;
    for (int64_t i = 0; i < c->n; i++)
        if (c->v.codes[i] >= 0 && c->v.codes[i] < c->ncat)
            to[c->v.codes[i]] = 1;
    for (int64_t j = 0; j < c->ncat; j++)
        k += to[j];
    if (k == c->ncat) {
        free(to);
        return SN_OK;
    }
    int64_t *old = sn_malloc(((size_t)k + 1) * sizeof *old, "categories");
    if (!old) {
        free(to);
        return SN_ENOMEM;
    }
    k = 0;
    for (int64_t j = 0; j < c->ncat; j++) {
        if (!to[j]) {
            free(c->cats[j]);
            continue;
        }
        old[k] = j;
        c->cats[k] = c->cats[j];
        to[j] = k++;
    }
    for (int64_t i = 0; i < c->n; i++)
        if (c->v.codes[i] >= 0 && c->v.codes[i] < c->ncat)
            c->v.codes[i] = (int32_t)to[c->v.codes[i]];
    c->ncat = k;
    free(to);
    *kept = old;
    return SN_OK;
}
