#include "read_int.h"

#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_rd_adata_clear(sn_adata *a)
{
    sn_csr_free(&a->X);
    sn_frame_free(&a->obs);
    sn_frame_free(&a->var);
}

int sn_rd_make_unique(char **labels, int64_t n, const char *path, const char *what)
{
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, n));
    int64_t ndup = 0;
    for (int64_t i = 0; i < n; i++) {
        int r = sn_strmap_put(&m, labels[i], i, NULL);
        if (r < 0) {
            sn_strmap_free(&m);
            return r;
        }
        ndup += r == 0;
    }
    sn_strmap_free(&m);
    if (ndup == 0)
        return SN_OK;
    SN_TRY(sn_index_make_unique(labels, n));
    sn_warn("%s: %lld %s were not unique; made unique by appending -1, -2, ... "
            "(like anndata's var_names_make_unique)",
            path, (long long)ndup, what);
    return SN_OK;
}

typedef struct {
    int32_t j;
    float v;
} rd_entry;

static int cmp_entry(const void *a, const void *b)
{
    const rd_entry *x = a, *y = b;
    return (x->j > y->j) - (x->j < y->j);
}

static int sort_row(sn_csr *m, int64_t i, rd_entry **buf, int64_t *cap)
{
    int64_t b = m->indptr[i], n = m->indptr[i + 1] - b;
    SN_TRY(sn_grow((void **)buf, cap, n, sizeof **buf, "a row sort buffer"));
    for (int64_t k = 0; k < n; k++)
        (*buf)[k] = (rd_entry){m->indices[b + k], m->data[b + k]};
    qsort(*buf, (size_t)n, sizeof **buf, cmp_entry);
    for (int64_t k = 0; k < n; k++) {
        m->indices[b + k] = (*buf)[k].j;
        m->data[b + k] = (*buf)[k].v;
    }
    return SN_OK;
}

int sn_rd_sort_rows(sn_csr *m, int64_t *dup_row, int32_t *dup_col)
{
    rd_entry *buf = NULL;
    int64_t cap = 0;
    int rc = SN_OK;
    for (int64_t i = 0; i < m->nrow && rc == SN_OK; i++) {
        int64_t b = m->indptr[i], e = m->indptr[i + 1];
        int64_t k = b + 1;
        while (k < e && m->indices[k] > m->indices[k - 1])
            k++;
        if (k >= e)
            continue;
        if ((rc = sort_row(m, i, &buf, &cap)) < 0)
            break;
        for (k = b + 1; k < e; k++)
            if (m->indices[k] == m->indices[k - 1]) {
                *dup_row = i;
                *dup_col = m->indices[k];
                rc = 1;
                break;
            }
    }
    free(buf);
    return rc;
}

int sn_rd_keep_vars(sn_adata *a, const uint8_t *keep)
{
    int64_t nv = a->X.ncol, nkeep = 0;
    int rc = SN_OK;
    sn_csr x = {0};
    sn_frame var = {0};
    int64_t *colmap = sn_malloc(sn_mul_size((size_t)nv, sizeof *colmap), "a feature map");
    int64_t *rows = sn_malloc(sn_mul_size((size_t)nv, sizeof *rows), "a feature list");
    if (!colmap || !rows)
        SN_CHECK(SN_ENOMEM);
    for (int64_t j = 0; j < nv; j++)
        colmap[j] = keep[j] ? nkeep++ : -1;
    SN_CHECK(sn_csr_subset(&a->X, NULL, a->X.nrow, colmap, nkeep, &x));
    int64_t p = 0;
    for (int64_t j = 0; j < nv; j++)
        if (keep[j])
            rows[p++] = j;
    SN_CHECK(sn_frame_subset(&a->var, rows, nkeep, &var));
    for (int i = 0; i < var.ncol; i++) { /* as a column rebuilt from the kept strings would be */
        int64_t *kept = NULL;
        SN_CHECK(sn_col_drop_unused(&var.cols[i], &kept));
        free(kept);
    }
    sn_csr_free(&a->X);
    sn_frame_free(&a->var);
    a->X = x;
    a->var = var;
out:
    if (rc < 0) {
        sn_csr_free(&x);
        sn_frame_free(&var);
    }
    free(colmap);
    free(rows);
    return rc;
}

static void list_types(const sn_col *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int64_t k = 0; c->type == SN_COL_CAT && k < c->ncat && used + 1 < len; k++) {
        int w = snprintf(buf + used, len - used, "%s'%s'", k ? ", " : "", c->cats[k]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

int sn_rd_gex_only(sn_adata *a, const char *path)
{
    const sn_col *c = sn_frame_get(&a->var, "feature_types");
    if (!c)
        return SN_OK;
    int64_t nv = a->var.n, nkeep = 0;
    uint8_t *keep = sn_malloc((size_t)nv + 1, "a feature mask");
    if (!keep)
        return SN_ENOMEM;
    char buf[64];
    for (int64_t j = 0; j < nv; j++)
        nkeep += keep[j] = strcmp(sn_col_str(c, j, buf, sizeof buf), "Gene Expression") == 0;
    int rc = SN_OK;
    if (nkeep == 0 && nv > 0) {
        char types[256];
        list_types(c, types, sizeof types);
        rc = sn_err(SN_EFMT, "%s: no 'Gene Expression' features (feature types: %s); read all features to use them",
                    path, types[0] ? types : "none");
    } else if (nkeep < nv) {
        rc = sn_rd_keep_vars(a, keep);
        if (rc == SN_OK)
            sn_info("%s: kept the %lld 'Gene Expression' features of %lld", path, (long long)nkeep,
                    (long long)nv);
    }
    free(keep);
    return rc;
}

int sn_rd_str_col(sn_frame *f, const char *name, char **v)
{
    sn_col c = {0};
    c.type = SN_COL_STR;
    c.n = f->n;
    c.v.str = v;
    if (!(c.name = sn_strdup(name))) {
        sn_col_free(&c);
        return SN_ENOMEM;
    }
    int rc = sn_frame_put(f, &c);
    if (rc < 0)
        sn_col_free(&c);
    return rc;
}

int sn_rd_cat_col(sn_frame *f, const char *name, char *const *v)
{
    int64_t n = f->n, m = 0;
    int rc = SN_OK;
    sn_col c = {0};
    char **compact = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *compact), "a table column");
    int32_t *codes = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *codes), "a table column");
    if (!compact || !codes)
        SN_CHECK(SN_ENOMEM);
    for (int64_t i = 0; i < n; i++)
        if (v[i])
            compact[m++] = v[i];
    SN_CHECK(sn_col_categorical(&c, name, compact, m));
    for (int64_t i = 0, k = 0; i < n; i++)
        codes[i] = v[i] ? c.v.codes[k++] : -1;
    free(c.v.codes);
    c.v.codes = codes;
    codes = NULL;
    c.n = n;
    if ((rc = sn_frame_put(f, &c)) < 0)
        sn_col_free(&c);
out:
    free(compact);
    free(codes);
    return rc;
}

int sn_rd_number(const char *s, double *v)
{
    const char *p = s;
    uint64_t x = 0;
    /* Most counts are short runs of digits: skip strtod for them. */
    while (*p >= '0' && *p <= '9' && p - s < 18)
        x = x * 10 + (uint64_t)(*p++ - '0');
    if (p > s && !*p) {
        *v = (double)x;
        return 0;
    }
    while (*s == ' ')
        s++;
    char *end;
    double d = sn_strtod(s, &end);
    if (end == s)
        return 1;
    while (*end == ' ')
        end++;
    if (*end)
        return 1;
    if (!isfinite(d))
        return 2;
    *v = d;
    return 0;
}

int64_t sn_rd_split_plain(char *line, char delim, char **fields, int64_t max)
{
    int64_t nf = 0;
    char *p = line;
    for (;;) {
        char *e = strchr(p, delim);
        if (nf < max)
            fields[nf] = p;
        nf++;
        if (!e)
            break;
        *e = 0;
        p = e + 1;
    }
    return nf;
}

char *sn_rd_nobom(const sn_text *t, char *line)
{
    return sn_text_lineno(t) == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0 ? line + 3 : line;
}

const char *sn_rd_quote(const char *s, char *buf, size_t len)
{
    size_t n = 0;
    for (; s[n] && n + 1 < len; n++)
        buf[n] = isprint((unsigned char)s[n]) ? s[n] : '?';
    buf[n] = 0;
    if (s[n] && len > 4)
        memcpy(buf + len - 4, "...", 4);
    return buf;
}

int sn_rd_count(const char *s, double *v)
{
    int r = sn_rd_number(s, v);
    if (r)
        return r == 1 ? SN_RD_NOTNUM : SN_RD_NONFINITE;
    if (*v < 0)
        return SN_RD_NEGATIVE;
    if (*v > FLT_MAX)
        return SN_RD_HUGE;
    return SN_RD_OK;
}

const char *sn_rd_count_problem(int code, const char *s, char *buf, size_t len)
{
    char q[48];
    sn_rd_quote(s, q, sizeof q);
    switch (code) {
    case SN_RD_NOTNUM: snprintf(buf, len, "non-numeric value '%s'", q); break;
    case SN_RD_NONFINITE: snprintf(buf, len, "value '%s' is not finite", q); break;
    case SN_RD_NEGATIVE: snprintf(buf, len, "negative count %s", q); break;
    case SN_RD_HUGE: snprintf(buf, len, "value %s is too large for float32", q); break;
    default: snprintf(buf, len, "bad value '%s'", q);
    }
    return buf;
}

int sn_rd_named(int rc, const char *path)
{
    if (rc == SN_ENOMEM && !strstr(sn_errmsg(), path))
        sn_err_prefix(rc, "%s: ", path);
    return rc;
}
