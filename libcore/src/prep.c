#include "scnet/prep.h"
#include "scnet/mem.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"

/* Rows per block of a column reduction, and the most blocks (each block
 * holds one partial per column).  Small enough that 10,000 cells make 10
 * blocks: 3 blocks of 4,096 left one of 2 threads idle a third of the time
 * (the HVG step 17 -> 14 ms). */
#define ROWS_PER_BLOCK 1024
#define MAX_BLOCKS 32

/* The indices with cnt[i] >= min into a new *keep; cnt goes to *out, or
 * is freed when out is NULL (both filters end so). */
static int keep_at_least(int64_t *cnt, int64_t len, int64_t min, int64_t **keep, int64_t *nkeep, int64_t **out,
                         const char *what)
{
    if (!(*keep = sn_malloc(sn_mul_size((size_t)len + 1, sizeof **keep), what))) {
        free(cnt);
        return SN_ENOMEM;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < len; i++)
        if (cnt[i] >= min)
            (*keep)[n++] = i;
    *nkeep = n;
    if (out)
        *out = cnt;
    else
        free(cnt);
    return SN_OK;
}

int sn_prep_filter_cells(const sn_csr *x, int64_t min_genes, int64_t **keep, int64_t *nkeep, int64_t **ngenes)
{
    int64_t *ng = sn_malloc(sn_mul_size((size_t)x->nrow + 1, sizeof *ng), "per-cell gene counts");
    if (!ng)
        return SN_ENOMEM;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < x->nrow; i++) {
        int64_t pos = 0;
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++)
            pos += x->data[k] > 0;
        ng[i] = pos;
    }
    return keep_at_least(ng, x->nrow, min_genes, keep, nkeep, ngenes, "the kept cells");
}

int sn_prep_gene_ncells(const sn_csr *x, int64_t **ncells)
{
    int nb = sn_fixed_blocks(x->nrow, ROWS_PER_BLOCK, MAX_BLOCKS);
    size_t g = (size_t)x->ncol;
    int64_t *part = sn_calloc(sn_mul_size((size_t)nb, g), sizeof *part, "per-gene cell counts");
    *ncells = sn_calloc(g + 1, sizeof **ncells, "per-gene cell counts");
    if (!part || !*ncells) {
        free(part);
        free(*ncells);
        *ncells = NULL;
        return SN_ENOMEM;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < nb; b++) {
        int64_t *p = part + (size_t)b * g;
        int64_t r0 = x->nrow * b / nb, r1 = x->nrow * (b + 1) / nb;
        for (int64_t k = x->indptr[r0]; k < x->indptr[r1]; k++)
            p[x->indices[k]] += x->data[k] > 0;
    }
    for (int b = 0; b < nb; b++)
        for (size_t j = 0; j < g; j++)
            (*ncells)[j] += part[(size_t)b * g + j];
    free(part);
    return SN_OK;
}

int sn_prep_filter_genes(const sn_csr *x, const int64_t *rows, int64_t nrows, int64_t min_cells, int64_t **keep,
                         int64_t *nkeep, int64_t **ncells)
{
    int64_t *nc;
    SN_TRY(sn_prep_gene_ncells(x, &nc));
    /* the rows left out (few, as a rule) taken back out of the counts */
    for (int64_t i = 0, r = 0; rows && i < x->nrow; i++) {
        if (r < nrows && rows[r] == i) {
            r++;
            continue;
        }
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++)
            nc[x->indices[k]] -= x->data[k] > 0;
    }
    return keep_at_least(nc, x->ncol, min_cells, keep, nkeep, ncells, "the kept genes");
}

static int column_map(int64_t ncol, const int64_t *cols, int64_t ncols, int32_t **map)
{
    *map = sn_malloc(sn_mul_size((size_t)ncol + 1, sizeof **map), "a column map");
    if (!*map)
        return SN_ENOMEM;
    for (int64_t j = 0; j < ncol; j++)
        (*map)[j] = -1;
    for (int64_t c = 0; c < ncols; c++) {
        if (cols[c] < 0 || cols[c] >= ncol || (c && cols[c] <= cols[c - 1])) {
            free(*map);
            return sn_err(SN_EINVAL, "column subset is not ascending or out of range");
        }
        (*map)[cols[c]] = (int32_t)c;
    }
    return SN_OK;
}

/* Rows [r0, r1) of the subset compacted in place from where their first
 * input row starts (the output never passes the input, and never reaches
 * the next range's input, rows being ascending); returns the entries kept.
 * indptr[r + 1] gets the count so far within the range. */
static int64_t compact_rows(sn_csr *x, const int64_t *old, const int64_t *rows, int64_t r0, int64_t r1,
                            const int32_t *map)
{
    if (r0 >= r1)
        return 0;
    int64_t base = old[rows ? rows[r0] : r0], p = base;
    for (int64_t r = r0; r < r1; r++) {
        int64_t i = rows ? rows[r] : r;
        for (int64_t k = old[i]; k < old[i + 1]; k++) {
            int32_t j = map ? map[x->indices[k]] : x->indices[k];
            if (j < 0)
                continue;
            x->indices[p] = j;
            x->data[p++] = x->data[k];
        }
        x->indptr[r + 1] = p - base;
    }
    return p - base;
}

static int check_rows(const sn_csr *x, const int64_t *rows, int64_t nrows)
{
    for (int64_t r = 0; rows && r < nrows; r++)
        if (rows[r] < 0 || rows[r] >= x->nrow || (r && rows[r] <= rows[r - 1]))
            return sn_err(SN_EINVAL, "row subset is not ascending or out of range");
    return SN_OK;
}

/* In place: each thread compacts a range of output rows within its own
 * stretch of the arrays, then the ranges move down in order (memmove);
 * the result does not depend on the number of ranges. */
int sn_prep_subset(sn_csr *x, const int64_t *rows, int64_t nrows, const int64_t *cols, int64_t ncols)
{
    int32_t *map = NULL;
    if (!rows)
        nrows = x->nrow;
    if (cols)
        SN_TRY(column_map(x->ncol, cols, ncols, &map));
    int rc = check_rows(x, rows, nrows);
    if (rc < 0) {
        free(map);
        return rc;
    }
    int nr = omp_get_max_threads();
    nr = nr < 1 ? 1 : nr > 64 ? 64 : nr;
    /* The old row pointers are read after new ones overwrite them. */
    int64_t *old = sn_malloc(sn_mul_size((size_t)x->nrow + 1, sizeof *old), "row pointers"), cnt[64];
    if (!old) {
        free(map);
        return SN_ENOMEM;
    }
    memcpy(old, x->indptr, ((size_t)x->nrow + 1) * sizeof *old);
#pragma omp parallel for schedule(static, 1)
    for (int t = 0; t < nr; t++)
        cnt[t] = compact_rows(x, old, rows, nrows * t / nr, nrows * (t + 1) / nr, map);
    int64_t p = 0;
    for (int t = 0; t < nr; t++) {
        int64_t r0 = nrows * t / nr, r1 = nrows * (t + 1) / nr;
        if (r0 < r1 && cnt[t] > 0) {
            int64_t base = old[rows ? rows[r0] : r0];
            memmove(x->indices + p, x->indices + base, (size_t)cnt[t] * sizeof *x->indices);
            memmove(x->data + p, x->data + base, (size_t)cnt[t] * sizeof *x->data);
        }
        for (int64_t r = r0; r < r1; r++)
            x->indptr[r + 1] += p;
        p += cnt[t];
    }
    x->indptr[0] = 0;
    free(old);
    free(map);
    x->nrow = nrows;
    if (cols)
        x->ncol = ncols;
    /* Give back what the dropped entries held (large matrices). */
    int32_t *ni = realloc(x->indices, (size_t)(p ? p : 1) * sizeof *ni);
    if (ni)
        x->indices = ni;
    float *nd = realloc(x->data, (size_t)(p ? p : 1) * sizeof *nd);
    if (nd)
        x->data = nd;
    return SN_OK;
}

int sn_prep_inspect(const sn_csr *x, sn_values *kind, double *maxval)
{
    int64_t nnz = sn_csr_nnz(x), nonint = 0, neg = INT64_MAX; /* neg: the first negative entry */
    float mx = 0;
#pragma omp parallel for reduction(max : mx) reduction(+ : nonint) reduction(min : neg)
    for (int64_t k = 0; k < nnz; k++) {
        float v = x->data[k];
        mx = v > mx ? v : mx;
        nonint += v != floorf(v);
        neg = v < 0 && k < neg ? k : neg;
    }
    if (neg < INT64_MAX)
        return sn_err(SN_EFMT, "the matrix has negative values (e.g. %g): expected counts or log-normalised "
                               "expression, not scaled data", (double)x->data[neg]);
    *maxval = mx;
    *kind = !nonint ? SN_VALUES_COUNTS : mx <= SN_LOGNORM_MAX ? SN_VALUES_LOGNORM : SN_VALUES_NONINT;
    return SN_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* numpy's median of a float32 array: the mean of the two middle values is
 * taken in float32. */
static float median_nonzero(const float *v, int64_t n, float *tmp)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (v[i] != 0)
            tmp[m++] = v[i];
    if (!m)
        return 0;
    qsort(tmp, (size_t)m, sizeof *tmp, cmp_float);
    if (m & 1)
        return tmp[m / 2];
    float s = tmp[m / 2 - 1] + tmp[m / 2];
    return s / 2.0f;
}

int sn_prep_normalize_total(sn_csr *x, double target, double *used)
{
    float *tot = sn_malloc(sn_mul_size((size_t)x->nrow + 1, 2 * sizeof *tot), "cell totals");
    if (!tot)
        return SN_ENOMEM;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < x->nrow; i++) {
        double s = 0;
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++)
            s += x->data[k];
        tot[i] = (float)s;
    }
    float t = target > 0 ? (float)target : median_nonzero(tot, x->nrow, tot + x->nrow + 1);
    if (!(t > 0)) {
        free(tot);
        return sn_err(SN_EINVAL, "cannot normalise: every cell has a total of zero");
    }
    if (used)
        *used = t;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < x->nrow; i++) {
        float f = tot[i] / t;
        if (f == 0)
            continue;
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++)
            x->data[k] = x->data[k] / f;
    }
    free(tot);
    return SN_OK;
}

/* f of a float through a small cache keyed by the value's bits.  After
 * normalisation a cell's entries are its integer counts times one factor,
 * mostly 1, 2 or 3, so a cell holds few distinct values, and log1pf and
 * expm1f cost many times a lookup.  The results are the function's own,
 * bit for bit.  A cell holds about 25 distinct values (pbmc3k): 16 entries
 * missed 12 % of the lookups, 256 miss 4 %, near the 3.5 % that are a
 * cell's first of a value (normalising 10,000 cells 0.03 -> 0.01 s). */
#define FCACHE 256
typedef struct {
    uint32_t key[FCACHE];
    float val[FCACHE];
} fcache;

static void fcache_init(fcache *c, float (*f)(float))
{
    float nan;
    uint32_t bits = 0xffffffffu; /* a NaN: no entry of a checked matrix */
    memcpy(&nan, &bits, sizeof nan);
    float fn = f(nan);
    for (int e = 0; e < FCACHE; e++) {
        c->key[e] = bits;
        c->val[e] = fn;
    }
}

static inline float fcache_get(fcache *c, float v, float (*f)(float))
{
    uint32_t b;
    memcpy(&b, &v, sizeof b);
    unsigned e = (b ^ (b >> 11) ^ (b >> 19)) % FCACHE;
    if (c->key[e] != b) {
        c->key[e] = b;
        c->val[e] = f(v);
    }
    return c->val[e];
}

static float f_log1p(float v) { return log1pf(v); }
static float f_expm1(float v) { return expm1f(v); }

void sn_prep_log1p(sn_csr *x)
{
    int64_t nnz = sn_csr_nnz(x);
#pragma omp parallel
    {
        fcache c; /* one a thread: its entries hold across cells */
        fcache_init(&c, f_log1p);
#pragma omp for schedule(static)
        for (int64_t k = 0; k < nnz; k++)
            x->data[k] = fcache_get(&c, x->data[k], f_log1p);
    }
}

/* One block of rows of sn_prep_gene_sums into its partials s and q. */
static void gene_sums_block(const sn_csr *x, int64_t r0, int64_t r1, const uint8_t *need, int expm1, double *s,
                            double *q)
{
    fcache c;
    fcache_init(&c, f_expm1);
    if (expm1 && need) { /* a column left out adds zeros: no branch on need, which no predictor learns */
        for (int64_t k = x->indptr[r0]; k < x->indptr[r1]; k++) {
            int64_t j = x->indices[k];
            float v = fcache_get(&c, x->data[k], f_expm1) * (float)need[j];
            float v2 = v * v;
            s[j] += v;
            q[j] += v2;
        }
        return;
    }
    for (int64_t k = x->indptr[r0]; k < x->indptr[r1]; k++) {
        int64_t j = x->indices[k];
        if (need && !need[j])
            continue;
        if (expm1) { /* float32 value and square, as scanpy's numba kernel */
            float v = fcache_get(&c, x->data[k], f_expm1);
            float v2 = v * v;
            s[j] += v;
            q[j] += v2;
        } else {
            double v = x->data[k];
            s[j] += v;
            q[j] += v * v;
        }
    }
}

int sn_prep_gene_sums(const sn_csr *x, const uint8_t *need, int expm1, double *sum, double *sq)
{
    int nb = sn_fixed_blocks(x->nrow, ROWS_PER_BLOCK, MAX_BLOCKS);
    size_t g = (size_t)x->ncol;
    double *part = sn_calloc(sn_mul_size((size_t)nb, 2 * g), sizeof *part, "per-gene sums");
    if (!part)
        return SN_ENOMEM;
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < nb; b++)
        gene_sums_block(x, x->nrow * b / nb, x->nrow * (b + 1) / nb, need, expm1, part + (size_t)b * 2 * g,
                        part + (size_t)b * 2 * g + g);
    memset(sum, 0, g * sizeof *sum);
    memset(sq, 0, g * sizeof *sq);
    for (int b = 0; b < nb; b++)
        for (size_t j = 0; j < g; j++) {
            sum[j] += part[(size_t)b * 2 * g + j];
            sq[j] += part[(size_t)b * 2 * g + g + j];
        }
    free(part);
    return SN_OK;
}

int sn_prep_gene_moments(const sn_csr *x, double *mean, double *var)
{
    size_t g = (size_t)x->ncol;
    double *sum = sn_malloc(sn_mul_size(2 * (g + 1), sizeof *sum), "per-gene sums");
    if (!sum)
        return SN_ENOMEM;
    double *sq = sum + g + 1;
    int rc = sn_prep_gene_sums(x, NULL, 0, sum, sq);
    double n = (double)x->nrow;
    for (size_t j = 0; rc == SN_OK && j < g; j++) {
        double m = n > 0 ? sum[j] / n : 0, v = n > 1 ? (sq[j] - sum[j] * m) / (n - 1) : 0;
        if (mean)
            mean[j] = m;
        if (var)
            var[j] = v > 0 ? v : 0;
    }
    free(sum);
    return rc;
}

void sn_prep_scale_rows_team(const sn_csr *x, const double *mean, const double *std, double eps, const float *zero,
                             int64_t r0, int64_t r1, float *out)
{
    int64_t g = x->ncol;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = r0; i < r1; i++) {
        float *o = out + (i - r0) * g;
        memcpy(o, zero, (size_t)g * sizeof *o);
        for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++) {
            int32_t j = x->indices[k];
            o[j] = (float)(((double)x->data[k] - mean[j]) / (std[j] + eps));
        }
    }
}

float *sn_prep_scale_zeros(const double *mean, const double *std, double eps, int64_t g)
{
    float *zero = sn_malloc(((size_t)g + 1) * sizeof *zero, "the scaled zero entries");
    for (int64_t j = 0; zero && j < g; j++)
        zero[j] = (float)(-mean[j] / (std[j] + eps));
    return zero;
}
