/* Dense delimited text matrices (CSV, TSV, blank-separated; gzip or plain),
 * streamed line by line into a sparse matrix of the non-zeros. */
#include "read_int.h"

#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"
#include "scnet/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    sn_text *t;
    const char *path;
    char delim;
    char *header;     /* copy of line 1 */
    char **hf;        /* its fields */
    int64_t nh;       /* header fields */
    int lead;         /* header starts with a row-name field */
    int64_t nval;     /* values per row */
    char **f;         /* fields of the current row (nval + 2 slots) */
    sn_strs names; /* row names */
    int64_t *indptr, pcap;
    int32_t *idx;
    float *val;
    int64_t nnz, cap;
} tmat;

static void tmat_free(tmat *m)
{
    sn_text_close(m->t);
    free(m->header);
    free(m->hf);
    free(m->f);
    sn_strs_free(&m->names);
    free(m->indptr);
    free(m->idx);
    free(m->val);
}

static int64_t count_fields(const char *s, char delim)
{
    int64_t n = 1;
    for (; *s; s++)
        n += *s == delim || (delim == ' ' && *s == '\t');
    return n;
}

static int split_into(tmat *m, char *line, char ***f, int64_t max, int64_t *nf)
{
    *nf = sn_split(line, m->delim, *f, max);
    if (*nf < 0)
        return sn_text_err(m->t, SN_EFMT, "unterminated quote");
    return SN_OK;
}

/* Next non-blank line; 0 at the end. */
static int next_line(tmat *m, char **line)
{
    int r;
    while ((r = sn_text_getline(m->t, line, NULL)) == 1 && (*line)[strspn(*line, " \t")] == 0)
        ;
    return r;
}

static int read_header(tmat *m, char **first)
{
    char *line;
    int r = next_line(m, &line);
    if (r <= 0)
        return r < 0 ? r : sn_err(SN_EFMT, "%s: empty file (expected a header line of cell ids)", m->path);
    if (!(m->header = sn_strdup(sn_rd_nobom(m->t, line))))
        return SN_ENOMEM;
    if (strncasecmp(m->header, "%%MatrixMarket", 14) == 0)
        return sn_err(SN_EFMT, "%s: a MatrixMarket matrix, not a text table: give it as a file named .mtx or "
                      ".mtx.gz, or the 10x folder holding it with its genes and barcodes", m->path);
    if ((r = next_line(m, first)) <= 0)
        return r < 0 ? r : sn_err(SN_EFMT, "%s: no data rows after the header (empty matrix)", m->path);
    m->delim = strpbrk(m->header, "\t,") ? sn_guess_delim(m->header) : sn_guess_delim(*first);
    int64_t max = count_fields(m->header, m->delim);
    if (!(m->hf = sn_malloc(sn_mul_size((size_t)max, sizeof *m->hf), "the header fields")))
        return SN_ENOMEM;
    m->nh = sn_split(m->header, m->delim, m->hf, max);
    if (m->nh < 0)
        return sn_err(SN_EFMT, "%s:1: unterminated quote in the header", m->path);
    return SN_OK;
}

static int push_value(tmat *m, int64_t col, float v)
{
    if (m->nnz == m->cap) {
        int64_t c1 = m->cap, c2 = m->cap;
        SN_TRY(sn_grow((void **)&m->idx, &c1, m->nnz + 1, sizeof *m->idx, "matrix values"));
        SN_TRY(sn_grow((void **)&m->val, &c2, m->nnz + 1, sizeof *m->val, "matrix values"));
        m->cap = c1;
    }
    m->idx[m->nnz] = (int32_t)col;
    m->val[m->nnz++] = v;
    return SN_OK;
}

/* Layout from the first data row: R's write.csv leaves the row-name field
 * out of the header, other writers put a (possibly empty) name there. */
static int layout(tmat *m, char *first)
{
    int64_t max = m->nh + 2, nf;
    if (!(m->f = sn_malloc(sn_mul_size((size_t)max, sizeof *m->f), "a row of fields")))
        return SN_ENOMEM;
    char *copy = sn_strdup(first);
    if (!copy)
        return SN_ENOMEM;
    int rc = split_into(m, copy, &m->f, max, &nf);
    free(copy);
    SN_TRY(rc);
    if (nf != m->nh + 1 && nf != m->nh)
        return sn_text_err(m->t, SN_EFMT, "%lld fields, but the header has %lld (expected a row name and one "
                                          "value per header field)", (long long)nf, (long long)m->nh);
    m->lead = nf == m->nh;
    m->nval = nf - 1;
    if (m->nval == 0)
        return sn_text_err(m->t, SN_EFMT, "no value columns (only row names)");
    if (m->nval > INT32_MAX)
        return sn_text_err(m->t, SN_EFMT, "%lld columns are too many", (long long)m->nval);
    /* Never leave the value arrays NULL, even for a matrix of zeros. */
    SN_TRY(push_value(m, 0, 0));
    m->nnz = 0;
    return SN_OK;
}

static int bad_value(tmat *m, int code, const char *s, int64_t k)
{
    char why[128], q[48];
    sn_rd_count_problem(code, s, why, sizeof why);
    return sn_text_err(m->t, SN_EFMT, "%s in column %lld ('%s')", why, (long long)k + 1,
                       sn_rd_quote(m->hf[k - 1 + m->lead], q, sizeof q));
}

static int data_row(tmat *m, char *line)
{
    int64_t nf;
    SN_TRY(split_into(m, line, &m->f, m->nval + 2, &nf));
    if (nf != m->nval + 1)
        return sn_text_err(m->t, SN_EFMT, "%lld fields, expected %lld (a row name and %lld values, as on the first "
                                          "data row)", (long long)nf, (long long)m->nval + 1, (long long)m->nval);
    if (!m->f[0][0])
        return sn_text_err(m->t, SN_EFMT, "the row name (first field) is empty");
    SN_TRY(sn_strs_push(&m->names, m->f[0]));
    for (int64_t k = 1; k <= m->nval; k++) {
        const char *s = m->f[k];
        if (s[0] == '0' && !s[1])
            continue;
        double v;
        int bad = sn_rd_count(s, &v);
        if (bad)
            return bad_value(m, bad, s, k);
        if (v != 0)
            SN_TRY(push_value(m, k - 1, (float)v));
    }
    SN_TRY(sn_grow((void **)&m->indptr, &m->pcap, m->names.n + 1, sizeof *m->indptr, "row pointers"));
    m->indptr[0] = 0;
    m->indptr[m->names.n] = m->nnz;
    return SN_OK;
}

static int read_rows(tmat *m, char *first)
{
    SN_TRY(layout(m, first));
    SN_TRY(data_row(m, first));
    char *line;
    int r;
    while ((r = next_line(m, &line)) == 1)
        SN_TRY(data_row(m, line));
    if (r == SN_OK && m->names.n > INT32_MAX)
        return sn_err(SN_EFMT, "%s: %lld rows are too many", m->path, (long long)m->names.n);
    return r;
}

/* Row names that are all numbers, mostly repeated, are a row of counts:
 * the table was written without its row names (pandas index=False, whose
 * header names a column where the row names would be).  Numeric names that
 * are unique (Entrez ids) pass, and so does a header that leaves the
 * row-name field out (R) or empty (pandas index=True: the index may repeat
 * after a concat). */
static int names_are_counts(const tmat *m)
{
    int64_t n = m->names.n, distinct = 0;
    if (n < 4 || !m->lead || !*m->hf[0])
        return SN_OK;
    for (int64_t i = 0; i < n; i++) {
        double v;
        if (sn_rd_count(m->names.v[i], &v))
            return SN_OK;
    }
    sn_strmap seen;
    SN_TRY(sn_strmap_init(&seen, n));
    int rc = SN_OK;
    for (int64_t i = 0; rc >= 0 && i < n; i++)
        if ((rc = sn_strmap_put(&seen, m->names.v[i], i, NULL)) == 1)
            distinct++;
    sn_strmap_free(&seen);
    SN_TRY(rc);
    if (2 * distinct >= n)
        return SN_OK;
    return sn_err(SN_EFMT, "%s: the first column holds numbers, %lld distinct in %lld rows, not row names: the "
                           "table seems to have no row-name column (write it with its gene or cell names first)",
                  m->path, (long long)distinct, (long long)n);
}

static int cells_named(const char *s)
{
    static const char *const w[] = {"cell", "cells", "cell_id", "cellid", "cell_name", "barcode", "barcodes",
                                    "cell_barcode", "obs_names", NULL};
    for (int i = 0; w[i]; i++)
        if (strcasecmp(s, w[i]) == 0)
            return 1;
    return 0;
}

/* A 10x-style cell barcode: ten or more bases in a row (AAACATACAACCAC-1,
 * sample1_AAACATACAACCAC); no gene symbol or Ensembl id has them. */
static int barcode_like(const char *s)
{
    int run = 0;
    for (; *s; s++) {
        run = strchr("ACGT", *s) ? run + 1 : 0;
        if (run >= 10)
            return 1;
    }
    return 0;
}

/* Most of the first (up to) 1000 labels look like barcodes. */
static int mostly_barcodes(char *const *labels, int64_t n)
{
    int64_t k = n < 1000 ? n : 1000, hits = 0;
    for (int64_t i = 0; i < k; i++)
        hits += barcode_like(labels[i]);
    return k > 0 && 10 * hits >= 9 * k;
}

/* Rows are cells when --orient says so, or when the header's first field
 * names them; else when the row names look like cell barcodes and the
 * column names do not (a table written by pandas leaves that field empty). */
static int rows_are_cells(const tmat *m, sn_orient orient)
{
    if (orient != SN_ORIENT_AUTO)
        return orient == SN_ORIENT_CELLS_ROWS;
    if (m->lead && cells_named(m->hf[0]))
        return 1;
    if (!mostly_barcodes(m->names.v, m->names.n) || mostly_barcodes(m->hf + m->lead, m->nval))
        return 0;
    sn_note("%s: rows read as cells: their names look like cell barcodes (--orient genes reads them as genes)",
            m->path);
    return 1;
}

static int col_labels(tmat *m, char ***out)
{
    char **v = sn_calloc((size_t)m->nval + 1, sizeof *v, "column names");
    if (!v)
        return SN_ENOMEM;
    for (int64_t k = 0; k < m->nval; k++)
        if (!(v[k] = sn_strdup(m->hf[k + m->lead]))) {
            sn_free_strings(v, k);
            return SN_ENOMEM;
        }
    *out = v;
    return SN_OK;
}

/* Rows × values as read, then cells × genes in a. */
static int to_adata(tmat *m, int cells_rows, sn_adata *a)
{
    sn_csr x = {m->names.n, m->nval, m->indptr, m->idx, m->val};
    m->indptr = NULL;
    m->idx = NULL;
    m->val = NULL;
    int rc = SN_OK;
    if (cells_rows) {
        a->X = x;
    } else {
        rc = sn_csr_transpose(&x, &a->X);
        sn_csr_free(&x);
        SN_TRY(rc);
    }
    sn_frame *rows = cells_rows ? &a->obs : &a->var, *cols = cells_rows ? &a->var : &a->obs;
    sn_frame_init(rows, m->names.n);
    sn_frame_init(cols, m->nval);
    rows->index = sn_strs_take(&m->names);
    SN_TRY(col_labels(m, &cols->index));
    SN_TRY(sn_rd_make_unique(a->var.index, a->var.n, m->path, "gene names"));
    return sn_rd_make_unique(a->obs.index, a->obs.n, m->path, "cell ids");
}

int sn_read_text_matrix(const char *path, sn_orient orient, sn_adata *a)
{
    tmat m = {0};
    char *first;
    int rc = SN_OK;
    memset(a, 0, sizeof *a);
    m.path = path;
    SN_CHECK(sn_text_open(path, &m.t));
    SN_CHECK(read_header(&m, &first));
    SN_CHECK(read_rows(&m, first));
    SN_CHECK(names_are_counts(&m));
    SN_CHECK(to_adata(&m, rows_are_cells(&m, orient), a));
out:
    tmat_free(&m);
    if (rc < 0)
        sn_rd_adata_clear(a);
    return sn_rd_named(rc, path);
}
