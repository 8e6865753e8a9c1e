#include "scnet/mat.h"
#include "scnet/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int sn_csr_alloc(sn_csr *m, int64_t nrow, int64_t ncol, int64_t nnz)
{
    memset(m, 0, sizeof *m);
    m->nrow = nrow;
    m->ncol = ncol;
    m->indptr = sn_calloc((size_t)nrow + 1, sizeof *m->indptr, "sparse row pointers");
    m->indices = sn_malloc(sn_mul_size((size_t)nnz, sizeof *m->indices), "sparse column indices");
    m->data = sn_malloc(sn_mul_size((size_t)nnz, sizeof *m->data), "sparse values");
    if (!m->indptr || !m->indices || !m->data) {
        sn_csr_free(m);
        return SN_ENOMEM;
    }
    return SN_OK;
}

void sn_csr_free(sn_csr *m)
{
    free(m->indptr);
    free(m->indices);
    free(m->data);
    memset(m, 0, sizeof *m);
}

int sn_csr_transpose(const sn_csr *a, sn_csr *t)
{
    int64_t nnz = sn_csr_nnz(a);
    SN_TRY(sn_csr_alloc(t, a->ncol, a->nrow, nnz));
    for (int64_t k = 0; k < nnz; k++)
        t->indptr[a->indices[k] + 1]++;
    for (int64_t j = 0; j < a->ncol; j++)
        t->indptr[j + 1] += t->indptr[j];
    int64_t *pos = sn_malloc(sn_mul_size((size_t)a->ncol + 1, sizeof *pos), "transpose cursor");
    if (!pos) {
        sn_csr_free(t);
        return SN_ENOMEM;
    }
    memcpy(pos, t->indptr, ((size_t)a->ncol + 1) * sizeof *pos);
    /* Rows are visited in order, so each output row comes out sorted. */
    for (int64_t i = 0; i < a->nrow; i++)
        for (int64_t k = a->indptr[i]; k < a->indptr[i + 1]; k++) {
            int64_t p = pos[a->indices[k]]++;
            t->indices[p] = (int32_t)i;
            t->data[p] = a->data[k];
        }
    free(pos);
    return SN_OK;
}

/* Entries of row i that colmap keeps (all when colmap is NULL). */
static int64_t kept_in_row(const sn_csr *a, int64_t i, const int64_t *colmap)
{
    if (!colmap)
        return a->indptr[i + 1] - a->indptr[i];
    int64_t c = 0;
    for (int64_t k = a->indptr[i]; k < a->indptr[i + 1]; k++)
        c += colmap[a->indices[k]] >= 0;
    return c;
}

/* Rows are counted, then filled, in parallel: each output row has its own
 * place, so the result does not depend on the thread count. */
int sn_csr_subset(const sn_csr *a, const int64_t *rows, int64_t nrows, const int64_t *colmap,
                  int64_t ncol_new, sn_csr *out)
{
    int64_t *len = sn_malloc(((size_t)nrows + 1) * sizeof *len, "a row count"), nnz = 0;
    if (!len)
        return SN_ENOMEM;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < nrows; r++)
        len[r] = kept_in_row(a, rows ? rows[r] : r, colmap);
    for (int64_t r = 0; r < nrows; r++)
        nnz += len[r];
    int rc = sn_csr_alloc(out, nrows, colmap ? ncol_new : a->ncol, nnz);
    for (int64_t r = 0; rc == SN_OK && r < nrows; r++)
        out->indptr[r + 1] = out->indptr[r] + len[r];
    free(len);
    SN_TRY(rc);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = rows ? rows[r] : r, q = out->indptr[r];
        for (int64_t k = a->indptr[i]; k < a->indptr[i + 1]; k++) {
            int64_t j = colmap ? colmap[a->indices[k]] : a->indices[k];
            if (j >= 0) {
                out->indices[q] = (int32_t)j;
                out->data[q++] = a->data[k];
            }
        }
    }
    return SN_OK;
}

int sn_csr_validate(const sn_csr *m, int need_sorted)
{
    if (m->indptr[0] != 0)
        return sn_err(SN_EFMT, "sparse matrix row pointer does not start at 0");
    for (int64_t i = 0; i < m->nrow; i++) {
        int64_t b = m->indptr[i], e = m->indptr[i + 1];
        if (e < b)
            return sn_err(SN_EFMT, "sparse matrix row pointers decrease at row %lld", (long long)i);
        for (int64_t k = b; k < e; k++) {
            int32_t j = m->indices[k];
            if (j < 0 || j >= m->ncol)
                return sn_err(SN_EFMT, "column index %d out of range [0,%lld) in row %lld", j,
                              (long long)m->ncol, (long long)i);
            if (need_sorted && k > b && j <= m->indices[k - 1])
                return sn_err(SN_EFMT, "column indices of row %lld are unsorted or repeated",
                              (long long)i);
            if (!isfinite(m->data[k]))
                return sn_err(SN_EFMT, "value at row %lld, column %d is not finite", (long long)i, j);
        }
    }
    return SN_OK;
}

typedef struct {
    int32_t j;
    float v;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->j > y->j) - (x->j < y->j);
}

int64_t sn_indptr_row(const int64_t *indptr, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (indptr[mid] <= k)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int64_t sn_csr_first_invalid(const sn_csr *m, int64_t *row)
{
    int64_t nnz = sn_csr_nnz(m), bad = INT64_MAX;
#pragma omp parallel for schedule(static) reduction(min : bad)
    for (int64_t k = 0; k < nnz; k++)
        if (!(m->data[k] >= 0 && m->data[k] <= FLT_MAX) && k < bad)
            bad = k;
    if (bad == INT64_MAX)
        return -1;
    *row = sn_indptr_row(m->indptr, m->nrow, bad);
    return bad;
}

int sn_csr_check_weights(const sn_csr *m, const char *name)
{
    int64_t i, bad = sn_csr_first_invalid(m, &i);
    if (bad < 0)
        return SN_OK;
    return sn_err(SN_EFMT, "%s%sweight %g in row %lld (expected finite, non-negative weights)", name ? name : "",
                  name ? ": " : "", (double)m->data[bad], (long long)i);
}

int sn_csr_rows_sorted(const sn_csr *m)
{
    int ok = 1;
#pragma omp parallel for schedule(static) reduction(&& : ok)
    for (int64_t i = 0; i < m->nrow; i++)
        for (int64_t k = m->indptr[i] + 1; k < m->indptr[i + 1]; k++)
            ok = ok && m->indices[k] > m->indices[k - 1];
    return ok;
}

int sn_csr_sort_rows(sn_csr *m)
{
    if (sn_csr_rows_sorted(m)) /* the common case: nothing to sort */
        return SN_OK;
    int64_t maxlen = 0;
    for (int64_t i = 0; i < m->nrow; i++)
        if (m->indptr[i + 1] - m->indptr[i] > maxlen)
            maxlen = m->indptr[i + 1] - m->indptr[i];
    entry *buf = sn_malloc(sn_mul_size((size_t)maxlen, sizeof *buf), "row sort buffer");
    if (!buf)
        return SN_ENOMEM;
    for (int64_t i = 0; i < m->nrow; i++) {
        int64_t b = m->indptr[i], n = m->indptr[i + 1] - b;
        int sorted = 1;
        for (int64_t k = 1; k < n && sorted; k++)
            sorted = m->indices[b + k] > m->indices[b + k - 1];
        if (sorted)
            continue;
        for (int64_t k = 0; k < n; k++)
            buf[k] = (entry){m->indices[b + k], m->data[b + k]};
        qsort(buf, (size_t)n, sizeof *buf, cmp_entry);
        for (int64_t k = 0; k < n; k++) {
            if (k && buf[k].j == buf[k - 1].j) {
                int32_t j = buf[k].j;
                free(buf);
                return sn_err(SN_EFMT, "entry (%lld, %d) appears twice", (long long)i, j);
            }
            m->indices[b + k] = buf[k].j;
            m->data[b + k] = buf[k].v;
        }
    }
    free(buf);
    return SN_OK;
}

int sn_mat_alloc(sn_mat *m, int64_t nrow, int64_t ncol)
{
    m->nrow = nrow;
    m->ncol = ncol;
    m->data = sn_malloc(sn_mul_size(sn_mul_size((size_t)nrow, (size_t)ncol), sizeof(float)), "a dense matrix");
    return m->data ? SN_OK : SN_ENOMEM;
}

int sn_mat_zeros(sn_mat *m, int64_t nrow, int64_t ncol)
{
    SN_TRY(sn_mat_alloc(m, nrow, ncol));
    memset(m->data, 0, (size_t)nrow * (size_t)ncol * sizeof(float));
    return SN_OK;
}

void sn_mat_free(sn_mat *m)
{
    free(m->data);
    m->data = NULL;
    m->nrow = m->ncol = 0;
}

int sn_matd_alloc(sn_matd *m, int64_t nrow, int64_t ncol)
{
    m->nrow = nrow;
    m->ncol = ncol;
    m->data = sn_malloc(sn_mul_size(sn_mul_size((size_t)nrow, (size_t)ncol), sizeof(double)), "a dense matrix");
    return m->data ? SN_OK : SN_ENOMEM;
}

void sn_matd_free(sn_matd *m)
{
    free(m->data);
    m->data = NULL;
    m->nrow = m->ncol = 0;
}
