#include "scnet/pca.h"
#include "scnet/mem.h"
#include "scnet/philox.h"
#include "scnet/prep.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#if defined(__FMA__)
#include <immintrin.h>
#endif

#include "blas.h"

#define MAX_BLOCKS 16   /* reduction blocks of the dense projections */
#define PANEL 512 /* columns of a dense panel in the exact Gram */
#define TILE 256  /* output tile of the Gram, one BLAS call per tile */
#define MAX_GROUPS 32 /* row groups of the Aᵀ products */

void sn_pca_defaults(sn_pca_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_comps = 15;
    o->solver = SN_PCA_AUTO;
    o->block = 0;
    o->max_iter = 60;
    o->tol = 1e-4;
    o->seed = 42;
}

void sn_pca_free(sn_pca *p)
{
    sn_mat_free(&p->scores);
    sn_mat_free(&p->loadings);
    free(p->variance);
    free(p->variance_ratio);
    memset(p, 0, sizeof *p);
}

/* The implicit operator A = (X[:, mask] - 1 muᵀ) diag(s), n × p.
 *
 * A block V (p × b) goes in as W = diag(s) V spread over all data columns
 * (zero rows outside the mask; float32; rows padded to ld, a multiple of
 * 4), so that A V = X W - 1 (muᵀ W) comes from the CSR rows as they are,
 * each output row gathered from rows of W.
 * Aᵀ Y = diag(s) (X[:, mask]ᵀ Y - mu (1ᵀ Y)) comes from the same rows by
 * scattering into one accumulator row per data column, over fixed groups
 * of rows: each group is summed by one thread in row order and the groups
 * are added in order, so nothing depends on the thread count.  AᵀA V, the
 * Krylov step, takes both at once, row by row while the row is in cache.
 * X is not copied (a transposed copy would cost 6 bytes per entry, as much
 * memory again as X's data). */
typedef struct {
    const sn_csr *x;
    int32_t *col;  /* data column -> operator column, -1 when masked out */
    int64_t *inv;  /* operator column -> data column */
    sn_csr kept;   /* a copy of the operator's columns, when x points to it */
    int64_t nvar;  /* the caller's columns */
    int64_t *var;  /* operator column -> the caller's column (inv, unless x is the copy) */
    int64_t n, p;
    double *mu, *s;
    double total;  /* sum of the operator columns' variances (ddof 1) */
    int64_t rows;  /* rows per float32 run of the Aᵀ products */
} op_t;

static void op_free(op_t *op)
{
    free(op->col);
    free(op->inv);
    free(op->mu);
    free(op->s);
    if (op->var != op->inv)
        free(op->var);
    sn_csr_free(&op->kept);
}

/* The rows per float32 run of the Aᵀ products: about RUN_ENTRIES entries
 * per column on average. */
#define RUN_ENTRIES 32
#define RUN_ROWS_MAX 4096

static void op_runs(op_t *op)
{
    const sn_csr *x = op->x;
    double nnz = (double)sn_csr_nnz(x);
    double r = nnz > 0 ? RUN_ENTRIES * (double)x->ncol * (double)op->n / nnz : 1;
    r = r < RUN_ROWS_MAX ? r : RUN_ROWS_MAX; /* a dense gene in very sparse data */
    op->rows = r < 1 ? 1 : r > (double)op->n ? op->n : (int64_t)r;
}

/* When the mask keeps at most half the entries, the products run on a copy
 * of the kept columns (8 bytes per kept entry): both take every entry of
 * their matrix, masked or not, twice per Krylov block. */
static int op_compact(op_t *op)
{
    const sn_csr *x = op->x;
    int64_t *cnt, kept = 0, all = 0;
    SN_TRY(sn_prep_gene_ncells(x, &cnt));
    for (int64_t j = 0; j < x->ncol; j++) {
        all += cnt[j];
        kept += op->col[j] >= 0 ? cnt[j] : 0;
    }
    free(cnt);
    if (2 * kept > all)
        return SN_OK;
    int64_t *map = sn_malloc(((size_t)x->ncol + 1) * sizeof *map, "a gene map");
    int32_t *ident = sn_malloc(((size_t)op->p + 1) * sizeof *ident, "a gene map");
    int64_t *inv = sn_malloc(((size_t)op->p + 1) * sizeof *inv, "a gene map");
    int rc = map && ident && inv ? SN_OK : SN_ENOMEM;
    for (int64_t j = 0; rc == SN_OK && j < x->ncol; j++)
        map[j] = op->col[j];
    if (rc == SN_OK)
        rc = sn_csr_subset(x, NULL, x->nrow, map, op->p, &op->kept);
    free(map);
    if (rc < 0) {
        free(ident);
        free(inv);
        return rc;
    }
    for (int64_t t = 0; t < op->p; t++)
        ident[t] = (int32_t)t, inv[t] = t;
    free(op->col);
    op->col = ident;
    op->var = op->inv;
    op->inv = inv;
    op->x = &op->kept;
    return SN_OK;
}

static int op_init(op_t *op, const sn_csr *x, const sn_pca_opts *o)
{
    memset(op, 0, sizeof *op);
    op->x = x;
    op->n = x->nrow;
    size_t g = (size_t)x->ncol + 1;
    int given = o->mean && o->var;
    double *own = given ? NULL : sn_malloc(2 * g * sizeof *own, "gene means");
    const double *mean = given ? o->mean : own, *var = given ? o->var : own ? own + g : NULL;
    op->col = sn_malloc(g * sizeof *op->col, "a gene map");
    op->inv = sn_malloc(g * sizeof *op->inv, "a gene map");
    op->mu = sn_malloc(g * sizeof *op->mu, "gene means");
    op->s = sn_malloc(g * sizeof *op->s, "gene scales");
    int rc = mean && op->col && op->inv && op->mu && op->s ? SN_OK : SN_ENOMEM;
    if (rc == SN_OK && !given)
        rc = sn_prep_gene_moments(x, own, own + g);
    for (int64_t j = 0; rc == SN_OK && j < x->ncol; j++) {
        op->col[j] = -1;
        if (o->mask && !o->mask[j])
            continue;
        int64_t t = op->p++;
        op->col[j] = (int32_t)t;
        op->inv[t] = j;
        op->mu[t] = mean[j];
        op->s[t] = o->scale && var[j] > 0 ? 1 / sqrt(var[j]) : 1;
        op->total += op->s[t] * op->s[t] * var[j];
    }
    free(own);
    op->nvar = x->ncol;
    op->var = op->inv;
    if (rc == SN_OK && o->mask)
        rc = op_compact(op);
    if (rc < 0)
        op_free(op);
    else
        op_runs(op);
    return rc;
}

/* ---- the gather kernels: four doubles per vector, FMA where the target has it ---- */

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

static inline v4d splat(double v) { return (v4d){v, v, v, v}; }

static inline v4d load4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store4(double *p, v4d v) { memcpy(p, &v, sizeof v); }

static inline v4d widen(const float *p)
{
#if defined(__AVX__)
    return (v4d)_mm256_cvtps_pd(_mm_loadu_ps(p));
#else
    v4f f;
    memcpy(&f, p, sizeof f);
    return __builtin_convertvector(f, v4d);
#endif
}

static inline v4d fmadd(v4d a, v4d b, v4d c)
{
#if defined(__FMA__)
    return (v4d)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#else
    return a * b + c;
#endif
}

/* out[0..4W) = sum over k of val[k] times row idx[k] of the table T (row
 * stride ld).  Even and odd entries go to separate accumulators, added at
 * the end: one chain of dependent FMAs would wait on its latency. */
#define GATHER(NAME, ITYPE, TYPE, LOAD, W)                                                                   \
    static inline void NAME(const float *val, const ITYPE *idx, int64_t len, const TYPE *T, int ld, double *out) \
    {                                                                                                         \
        v4d p0 = splat(0), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;                     \
        int64_t k = 0;                                                                                        \
        for (; k + 1 < len; k += 2) {                                                                         \
            const TYPE *u = T + (int64_t)idx[k] * ld, *r = T + (int64_t)idx[k + 1] * ld;                      \
            v4d v = splat(val[k]), y = splat(val[k + 1]);                                                     \
            p0 = fmadd(v, LOAD(u), p0);                                                                       \
            q0 = fmadd(y, LOAD(r), q0);                                                                       \
            if (W > 1) {                                                                                      \
                p1 = fmadd(v, LOAD(u + 4), p1);                                                               \
                q1 = fmadd(y, LOAD(r + 4), q1);                                                               \
            }                                                                                                 \
            if (W > 2) {                                                                                      \
                p2 = fmadd(v, LOAD(u + 8), p2);                                                               \
                q2 = fmadd(y, LOAD(r + 8), q2);                                                               \
                p3 = fmadd(v, LOAD(u + 12), p3);                                                              \
                q3 = fmadd(y, LOAD(r + 12), q3);                                                              \
            }                                                                                                 \
        }                                                                                                     \
        if (k < len) {                                                                                        \
            const TYPE *u = T + (int64_t)idx[k] * ld;                                                         \
            v4d v = splat(val[k]);                                                                            \
            p0 = fmadd(v, LOAD(u), p0);                                                                       \
            if (W > 1)                                                                                        \
                p1 = fmadd(v, LOAD(u + 4), p1);                                                               \
            if (W > 2) {                                                                                      \
                p2 = fmadd(v, LOAD(u + 8), p2);                                                               \
                p3 = fmadd(v, LOAD(u + 12), p3);                                                              \
            }                                                                                                 \
        }                                                                                                     \
        store4(out, p0 + q0);                                                                                 \
        if (W > 1)                                                                                            \
            store4(out + 4, p1 + q1);                                                                         \
        if (W > 2) {                                                                                          \
            store4(out + 8, p2 + q2);                                                                         \
            store4(out + 12, p3 + q3);                                                                        \
        }                                                                                                     \
    }

#if defined(__AVX2__) && defined(__FMA__)
/* Float32 tables, 8 columns: runs of RUN entries summed in float32 (four
 * chains of 8-wide FMAs), each run's sum added in double.  A run's
 * rounding (about RUN ulp at worst, a few typically) is of the order of the
 * table's own rounding to float32. */
#define RUN 16

/* acc row si[j] += sv[j] y for one entry j (y in a register): the
 * multiply and the add apart, as the plain scatter below rounds them. */
static inline void scatter8_one(const float *sv, const int32_t *si, int64_t j, __m256 y, float *acc)
{
    float *a = acc + (int64_t)si[j] * 8;
    _mm256_storeu_ps(a, _mm256_add_ps(_mm256_loadu_ps(a), _mm256_mul_ps(_mm256_set1_ps(sv[j]), y)));
}

/* One row's gather (gv, gi: out = its entries times 8 columns of the rows
 * of T, row stride ld) and, when slen > 0, the row before's scatter (sv,
 * si: acc += its entries times y) in the same loop: they touch different
 * tables, and interleaved they keep more of the core busy (a pass over
 * 10 000 cells 13 % faster on one thread).  Every sum is taken in the same
 * order as apart. */
static inline void gather_scatter8(const float *gv, const int32_t *gi, int64_t glen, const float *T, int ld,
                                   double *out, const float *sv, const int32_t *si, int64_t slen, const float *y,
                                   float *acc)
{
    __m256 yv = slen > 0 ? _mm256_loadu_ps(y) : _mm256_setzero_ps();
    __m256d lo = _mm256_setzero_pd(), hi = lo;
    int64_t k = 0, s = 0;
    while (k < glen) {
        int64_t end = glen - k > RUN ? k + RUN : glen;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; k + 3 < end; k += 4) {
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(gv[k]), _mm256_loadu_ps(T + (int64_t)gi[k] * ld), a0);
            a1 = _mm256_fmadd_ps(_mm256_set1_ps(gv[k + 1]), _mm256_loadu_ps(T + (int64_t)gi[k + 1] * ld), a1);
            a2 = _mm256_fmadd_ps(_mm256_set1_ps(gv[k + 2]), _mm256_loadu_ps(T + (int64_t)gi[k + 2] * ld), a2);
            a3 = _mm256_fmadd_ps(_mm256_set1_ps(gv[k + 3]), _mm256_loadu_ps(T + (int64_t)gi[k + 3] * ld), a3);
            for (int64_t e = s + 4 <= slen ? s + 4 : s; s < e; s++)
                scatter8_one(sv, si, s, yv, acc);
        }
        for (; k < end; k++)
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(gv[k]), _mm256_loadu_ps(T + (int64_t)gi[k] * ld), a0);
        __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(sum)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(sum, 1)));
    }
    for (; s < slen; s++)
        scatter8_one(sv, si, s, yv, acc);
    _mm256_storeu_pd(out, lo);
    _mm256_storeu_pd(out + 4, hi);
}

/* The gather alone: float32 runs as above, nothing scattered. */
static inline void runs8_rows(const float *val, const int32_t *idx, int64_t len, const float *T, int ld, double *out)
{
    gather_scatter8(val, idx, len, T, ld, out, NULL, NULL, 0, NULL, NULL);
}
#define FAST8(NAME) NAME
#else
#define FAST8(NAME) NULL
#endif

/* out (ld doubles, ld a multiple of 4) = the entries times rows of T, by
 * sweeps of 16, 8 or 4 columns (8 in float32 runs where possible). */
#define GATHER_ALL(NAME, ITYPE, TYPE, LOAD, FAST)                                                            \
    GATHER(NAME##4, ITYPE, TYPE, LOAD, 1)                                                                     \
    GATHER(NAME##8, ITYPE, TYPE, LOAD, 2)                                                                     \
    GATHER(NAME##16, ITYPE, TYPE, LOAD, 4)                                                                    \
    static inline __attribute__((always_inline)) void NAME##_all(const float *val, const ITYPE *idx,          \
                                                                 int64_t len, const TYPE *T, int ld, double *out) \
    {                                                                                                         \
        void (*fast)(const float *, const ITYPE *, int64_t, const TYPE *, int, double *) = FAST;             \
        for (int c = 0; c < ld;) {                                                                            \
            int left = ld - c;                                                                                \
            if (fast && left >= 8)                                                                            \
                fast(val, idx, len, T + c, ld, out + c), c += 8;                                              \
            else if (left >= 16)                                                                              \
                NAME##16(val, idx, len, T + c, ld, out + c), c += 16;                                         \
            else if (left >= 8)                                                                               \
                NAME##8(val, idx, len, T + c, ld, out + c), c += 8;                                           \
            else                                                                                              \
                NAME##4(val, idx, len, T + c, ld, out + c), c += 4;                                           \
        }                                                                                                     \
    }

/* the CSR rows against W */
GATHER_ALL(gather_rows, int32_t, float, widen, FAST8(runs8_rows))

/* ---- the operator's products ---- */

static int round4(int b) { return (b + 3) / 4 * 4; }

/* Scratch for the products of blocks up to cap wide. */
typedef struct {
    int cap;     /* a multiple of 4 */
    int groups;  /* row groups of the Aᵀ products */
    int one_run; /* every group one float32 run: op_gram keeps acc as floats */
    float *W;    /* ncol × cap */
    double *Y;   /* n × cap: A V in double */
    double *acc; /* groups × ncol × cap: each group's Aᵀ sums */
    double *cs;  /* groups × cap: each group's column sums of Y */
    float *run;  /* threads × ncol × cap: float32 sums over a run of rows */
} opbuf_t;

static void opbuf_free(opbuf_t *w)
{
    free(w->W);
    free(w->Y);
    free(w->acc);
    free(w->cs);
    free(w->run);
}

static int opbuf_alloc(const op_t *op, int b, opbuf_t *w)
{
    w->cap = round4(b);
    w->groups = sn_fixed_blocks(op->n, op->rows, MAX_GROUPS);
    w->one_run = (op->n + w->groups - 1) / w->groups <= op->rows;
    size_t n = (size_t)op->n + 1, cap = (size_t)w->cap, g = (size_t)w->groups;
    size_t cols = sn_mul_size((size_t)op->x->ncol + 1, cap), th = (size_t)omp_get_max_threads();
    w->W = sn_malloc(cols * sizeof *w->W, "a PCA block");
    w->Y = sn_malloc(sn_mul_size(n, cap * sizeof *w->Y), "a PCA block");
    w->acc = sn_malloc(sn_mul_size(g, cols * sizeof *w->acc), "a PCA block");
    w->cs = sn_malloc(g * cap * sizeof *w->cs, "a PCA block");
    w->run = sn_malloc(sn_mul_size(th, cols * sizeof *w->run), "a PCA block");
    if (!w->W || !w->Y || !w->acc || !w->cs || !w->run) {
        opbuf_free(w);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* Entry (t, c) of a p × b block stored row-major (V[t b + c]) or, when
 * tr, transposed (V[c p + t]). */
static inline int64_t at_tc(int64_t t, int c, int64_t p, int b, int tr) { return tr ? c * p + t : t * b + c; }

/* W = diag(s) V spread over the data columns (ld wide); cw = muᵀ W from
 * the rounded entries W holds. */
static void spread(const op_t *op, const double *V, int b, int tr, int ld, float *W, double *cw)
{
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < op->x->ncol; j++) {
        float *r = W + j * ld;
        int32_t t = op->col[j];
        for (int c = 0; c < ld; c++)
            r[c] = t >= 0 && c < b ? (float)(op->s[t] * V[at_tc(t, c, op->p, b, tr)]) : 0.0f;
    }
    for (int c = 0; c < ld; c++)
        cw[c] = 0;
    for (int64_t t = 0; t < op->p; t++)
        for (int c = 0; c < ld; c++)
            cw[c] += op->mu[t] * W[op->inv[t] * ld + c];
}

/* w->Y = A V (n × round4(b), zero padding) for V (p × b, transposed when
 * tr). */
static void op_apply(const op_t *op, const double *V, int b, int tr, opbuf_t *w)
{
    const sn_csr *x = op->x;
    int ld = round4(b);
    double cw[ld];
    spread(op, V, b, tr, ld, w->W, cw);
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t i = 0; i < op->n; i++) {
        double y[ld];
        int64_t k0 = x->indptr[i];
        gather_rows_all(x->data + k0, x->indices + k0, x->indptr[i + 1] - k0, w->W, ld, y);
        for (int c = 0; c < ld; c++)
            w->Y[i * ld + c] = y[c] - cw[c];
    }
}

typedef float v8f __attribute__((vector_size(32)));

static inline v8f load8f(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline v4f load4f(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* acc rows idx[k] (W floats each, y's width) += val[k] y: y held in
 * registers, 8 columns then 4. */
#define SCATTER(NAME, W)                                                                                      \
    static inline void NAME(const float *val, const int32_t *idx, int64_t len, const float *y, float *acc)  \
    {                                                                                                         \
        v8f y0 = load8f(y), y1 = W >= 16 ? load8f(y + 8) : y0;                                                \
        v4f y2 = W % 8 ? load4f(y + W - 4) : (v4f){0};                                                        \
        for (int64_t k = 0; k < len; k++) {                                                                   \
            float *a = acc + (int64_t)idx[k] * W;                                                             \
            v8f a0 = load8f(a) + val[k] * y0;                                                                 \
            memcpy(a, &a0, sizeof a0);                                                                        \
            if (W >= 16) {                                                                                    \
                v8f a1 = load8f(a + 8) + val[k] * y1;                                                         \
                memcpy(a + 8, &a1, sizeof a1);                                                                \
            }                                                                                                 \
            if (W % 8) {                                                                                      \
                v4f a2 = load4f(a + W - 4) + val[k] * y2;                                                     \
                memcpy(a + W - 4, &a2, sizeof a2);                                                            \
            }                                                                                                 \
        }                                                                                                     \
    }

SCATTER(scatter8, 8)
SCATTER(scatter12, 12)
SCATTER(scatter16, 16)

/* acc rows idx[k] (ld floats each, ld a multiple of 4) += val[k] y for one
 * row's entries. */
static inline void scatter(const float *val, const int32_t *idx, int64_t len, const float *y, int ld, float *acc)
{
    if (ld == 8)
        return scatter8(val, idx, len, y, acc);
    if (ld == 12)
        return scatter12(val, idx, len, y, acc);
    if (ld == 16)
        return scatter16(val, idx, len, y, acc);
    for (int64_t k = 0; k < len; k++) {
        float *a = acc + (int64_t)idx[k] * ld;
        int c = 0;
        for (; c + 8 <= ld; c += 8) {
            v8f av = load8f(a + c) + val[k] * load8f(y + c);
            memcpy(a + c, &av, sizeof av);
        }
        if (c < ld) {
            v4f av = load4f(a + c) + val[k] * load4f(y + c);
            memcpy(a + c, &av, sizeof av);
        }
    }
}

/* acc rows idx[k] (ld doubles each, ld a multiple of 4) += val[k] y. */
static inline void scatter_d(const float *val, const int32_t *idx, int64_t len, const double *y, int ld,
                             double *acc)
{
    for (int64_t k = 0; k < len; k++) {
        double *a = acc + (int64_t)idx[k] * ld;
        v4d v = splat(val[k]);
        for (int c = 0; c < ld; c += 4)
            store4(a + c, fmadd(v, load4(y + c), load4(a + c)));
    }
}

/* out = x_i W for a row's entries (gather_rows_all) */
static inline void gram_gather(const float *val, const int32_t *idx, int64_t len, const float *W, int ld, double *out)
{
#if defined(__AVX2__) && defined(__FMA__)
    if (ld == 8) /* the usual block: a constant row stride makes the addresses shifts (10% of a step) */
        return runs8_rows(val, idx, len, W, 8, out);
#endif
    gather_rows_all(val, idx, len, W, ld, out);
}

#if defined(__AVX2__) && defined(__FMA__)
/* gram_rows' inner loop for blocks of 8 over rows [r0, r1): the gather of
 * row i + 1 runs in the loop that scatters row i. */
static void gram_rows8(const sn_csr *x, const float *W, const double *cw, int64_t r0, int64_t r1, float *run,
                       double *cs)
{
    double y[8];
    float yf[8];
    int64_t k0 = x->indptr[r0];
    runs8_rows(x->data + k0, x->indices + k0, x->indptr[r0 + 1] - k0, W, 8, y);
    for (int64_t i = r0; i < r1; i++) {
        for (int c = 0; c < 8; c++) {
            yf[c] = (float)(y[c] - cw[c]);
            cs[c] += yf[c];
        }
        int64_t s0 = x->indptr[i], g0 = x->indptr[i + 1], gn = i + 1 < r1 ? x->indptr[i + 2] - g0 : 0;
        gather_scatter8(x->data + g0, x->indices + g0, gn, W, 8, y, x->data + s0, x->indices + s0, g0 - s0, yf, run);
    }
}
#endif

/* Rows [i0, i1) of AᵀA V, from W and cw (spread): each row's A V entries
 * y = x_i W - cw, rounded to float32, are scattered back as x_i y at once,
 * while the row is in cache.  Float32 sums over runs of op->rows rows,
 * each run added in double to acc; cs sums y.  The runs' rounding is far
 * below what the Ritz vectors need (measured: 1e-7 rad on 10 000 and 50 000
 * cells against double sums). */
static void gram_rows(const op_t *op, const opbuf_t *w, int ld, const double *cw, int64_t i0, int64_t i1,
                      float *run, double *acc, double *cs)
{
    const sn_csr *x = op->x;
    size_t len = (size_t)x->ncol * ld;
    if (w->one_run) /* the group's float32 sums are final: kept as they are */
        run = (float *)acc;
    else if (i0 >= i1)
        memset(acc, 0, len * sizeof *acc);
    for (int c = 0; c < ld; c++)
        cs[c] = 0;
    if (w->one_run && i0 >= i1)
        memset(run, 0, len * sizeof *run);
    for (int64_t r0 = i0; r0 < i1; r0 += op->rows) {
        int64_t r1 = i1 - r0 < op->rows ? i1 : r0 + op->rows;
        memset(run, 0, len * sizeof *run);
#if defined(__AVX2__) && defined(__FMA__)
        if (ld == 8)
            gram_rows8(x, w->W, cw, r0, r1, run, cs);
        else
#endif
            for (int64_t i = r0; i < r1; i++) {
                double y[ld];
                float yf[ld];
                int64_t k0 = x->indptr[i], nk = x->indptr[i + 1] - k0;
                gram_gather(x->data + k0, x->indices + k0, nk, w->W, ld, y);
                for (int c = 0; c < ld; c++) {
                    yf[c] = (float)(y[c] - cw[c]);
                    cs[c] += yf[c];
                }
                scatter(x->data + k0, x->indices + k0, nk, yf, ld, run);
            }
        if (w->one_run)
            break;
        for (size_t e = 0; e < len; e += 4) /* len: a multiple of 4; the first run sets acc */
            store4(acc + e, r0 > i0 ? load4(acc + e) + widen(run + e) : widen(run + e));
    }
}

/* Rows [i0, i1) of Aᵀ Y for Y in w->Y (double), summed in double. */
static void apply_t_rows(const op_t *op, const opbuf_t *w, int ld, int64_t i0, int64_t i1, double *acc,
                         double *cs)
{
    const sn_csr *x = op->x;
    memset(acc, 0, (size_t)x->ncol * ld * sizeof *acc);
    for (int c = 0; c < ld; c++)
        cs[c] = 0;
    for (int64_t i = i0; i < i1; i++) {
        int64_t k0 = x->indptr[i];
        scatter_d(x->data + k0, x->indices + k0, x->indptr[i + 1] - k0, w->Y + i * ld, ld, acc);
        for (int c = 0; c < ld; c++)
            cs[c] += w->Y[i * ld + c];
    }
}

/* Z (p × b, transposed when tr) = Aᵀ Y = diag(s) (Xᵀ Y - mu (1ᵀ Y)) from
 * the groups' sums, added in group order. */
static void groups_finish(const op_t *op, const opbuf_t *w, int b, double *Z, int tr, int f32)
{
    int ld = round4(b);
    size_t len = (size_t)op->x->ncol * ld;
    double cs[ld];
    for (int c = 0; c < ld; c++) {
        cs[c] = 0;
        for (int g = 0; g < w->groups; g++)
            cs[c] += w->cs[(size_t)g * w->cap + c];
    }
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < op->p; t++) {
        size_t e = (size_t)op->inv[t] * ld;
        double z[ld];
        for (int c = 0; c < ld; c += 4) { /* each lane added in group order */
            v4d v = {0};
            if (f32)
                for (int g = 0; g < w->groups; g++)
                    v += widen((const float *)(w->acc + g * len) + e + c);
            else
                for (int g = 0; g < w->groups; g++)
                    v += load4(w->acc + g * len + e + c);
            store4(z + c, v);
        }
        for (int c = 0; c < b; c++)
            Z[at_tc(t, c, op->p, b, tr)] = op->s[t] * (z[c] - op->mu[t] * cs[c]);
    }
}

/* Z (p × b, transposed when tr) = Aᵀ Y for Y in w->Y. */
static void op_apply_t(const op_t *op, opbuf_t *w, int b, double *Z, int tr)
{
    int ld = round4(b), ng = w->groups;
    size_t len = (size_t)op->x->ncol * ld;
#pragma omp parallel for schedule(dynamic, 1)
    for (int g = 0; g < ng; g++)
        apply_t_rows(op, w, ld, op->n * g / ng, op->n * (g + 1) / ng, w->acc + g * len, w->cs + (size_t)g * w->cap);
    groups_finish(op, w, b, Z, tr, 0);
}

/* Zt (b × p) = (AᵀA V)ᵀ for Vt (b × p), through float32 A V, in one pass
 * over the rows of X.  The n bytes at next, memory the caller fills after
 * this step, are touched by one thread first, so that the kernel's zeroing
 * of fresh pages (slow on a virtual machine: 1-3 GB/s) runs beside the
 * product rather than alone after it. */
static void op_gram(const op_t *op, const double *Vt, int b, double *Zt, opbuf_t *w, void *next, size_t n)
{
    int ld = round4(b), ng = w->groups;
    size_t len = (size_t)op->x->ncol * ld;
    double cw[ld];
    spread(op, Vt, b, 1, ld, w->W, cw);
#pragma omp parallel
    {
#pragma omp single nowait
        for (size_t o = 0; o < n; o += 4096)
            ((volatile unsigned char *)next)[o] = 0;
#pragma omp for schedule(dynamic, 1)
        for (int g = 0; g < ng; g++)
            gram_rows(op, w, ld, cw, op->n * g / ng, op->n * (g + 1) / ng, w->run + omp_get_thread_num() * len,
                      w->acc + g * len, w->cs + (size_t)g * w->cap);
    }
    groups_finish(op, w, b, Zt, 1, w->one_run);
}

/* ---- small dense helpers (BLAS/LAPACK on one thread) ---- */

/* All eigenpairs of the symmetric m × m matrix a (destroyed), in
 * descending order: w[t], vectors as rows of v (v[t * m + i]).  When
 * want < m only the top `want` are computed. */
static int eig_top(double *a, int m, int want, double *w, double *v)
{
    int il = m - want + 1, iu = m, got = 0, info = 0, lwork = -1, liwork = -1, iq = 0;
    double vl = 0, vu = 0, tol = 0, wq = 0;
    double *wa = sn_malloc(((size_t)m + 1) * sizeof *wa, "eigenvalues");
    double *za = sn_malloc(sn_mul_size((size_t)m, (size_t)want * sizeof *za), "eigenvectors");
    int *sup = sn_malloc((2 * (size_t)m + 2) * sizeof *sup, "eigenvector support");
    double *work = NULL;
    int *iwork = NULL, rc = SN_ENOMEM;
    if (!wa || !za || !sup)
        goto out;
    dsyevr_("V", "I", "U", &m, a, &m, &vl, &vu, &il, &iu, &tol, &got, wa, za, &m, sup, &wq, &lwork, &iq, &liwork,
            &info, 1, 1, 1);
    lwork = (int)wq;
    liwork = iq;
    work = sn_malloc(((size_t)lwork + 1) * sizeof *work, "eigensolver workspace");
    iwork = sn_malloc(((size_t)liwork + 1) * sizeof *iwork, "eigensolver workspace");
    if (!work || !iwork)
        goto out;
    int nthr = sn_blas_serial_begin();
    dsyevr_("V", "I", "U", &m, a, &m, &vl, &vu, &il, &iu, &tol, &got, wa, za, &m, sup, work, &lwork, iwork, &liwork,
            &info, 1, 1, 1);
    sn_blas_serial_end(nthr);
    if (info != 0 || got != want) {
        rc = sn_err(SN_EINVAL, "eigensolver failed (LAPACK dsyevr info %d)", info);
        goto out;
    }
    for (int t = 0; t < want; t++) {
        int src = want - 1 - t;
        w[t] = wa[src];
        memcpy(v + (size_t)t * m, za + (size_t)src * m, (size_t)m * sizeof *v);
    }
    rc = SN_OK;
out:
    free(wa);
    free(za);
    free(sup);
    free(work);
    free(iwork);
    return rc;
}

/* Orthonormalise the l columns of the column-major p × l matrix a in place
 * (Householder QR). */
static int qr_cols(double *a, int64_t p, int l)
{
    int m = (int)p, n = l, info = 0, lwork = -1;
    double wq = 0, tau[l];
    dgeqrf_(&m, &n, a, &m, tau, &wq, &lwork, &info);
    lwork = (int)wq + 1;
    double *work = sn_malloc((size_t)lwork * sizeof *work, "QR workspace");
    if (!work)
        return SN_ENOMEM;
    int nthr = sn_blas_serial_begin();
    dgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info == 0)
        dorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    sn_blas_serial_end(nthr);
    free(work);
    return info == 0 ? SN_OK : sn_err(SN_EINVAL, "QR factorisation failed (LAPACK info %d)", info);
}

/* Orthonormalise the columns of the row-major p × l matrix q. */
static int orthonormalise(double *q, int64_t p, int l)
{
    double *a = sn_malloc(sn_mul_size((size_t)p, (size_t)l * sizeof *a), "a QR factorisation");
    if (!a)
        return SN_ENOMEM;
    for (int64_t i = 0; i < p; i++)
        for (int c = 0; c < l; c++)
            a[(size_t)c * p + i] = q[i * l + c];
    int rc = qr_cols(a, p, l);
    for (int64_t i = 0; rc == SN_OK && i < p; i++)
        for (int c = 0; c < l; c++)
            q[i * l + c] = a[(size_t)c * p + i];
    free(a);
    return rc;
}

/* ---- exact solver ---- */

/* K (m × m, upper triangle) += P Pᵀ for a row-major panel P (m × w). */
static void gram_panel(double *K, int64_t m, const double *P, int w)
{
    int64_t nt = (m + TILE - 1) / TILE, ntiles = nt * (nt + 1) / 2;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t t = 0; t < ntiles; t++) {
        int64_t a = 0, r = t;
        while (r >= nt - a) {
            r -= nt - a;
            a++;
        }
        int64_t b = a + r, i0 = a * TILE, j0 = b * TILE;
        int mi = (int)(m - i0 < TILE ? m - i0 : TILE), mj = (int)(m - j0 < TILE ? m - j0 : TILE);
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_NOTRANS, SN_CBLAS_TRANS, mi, mj, w, 1.0, P + i0 * w, w, P + j0 * w, w,
                    1.0, K + i0 * m + j0, (int)m);
    }
}

/* Panel of operator columns [c0, c0 + w) for every row: P (n × w). */
static void panel_cols(const op_t *op, int64_t *cur, int64_t c0, int w, double *P)
{
    const sn_csr *x = op->x;
    int64_t dend = op->inv[c0 + w - 1] + 1;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < op->n; i++) {
        double *row = P + i * w;
        for (int c = 0; c < w; c++)
            row[c] = -op->mu[c0 + c] * op->s[c0 + c];
        int64_t k = cur[i];
        for (; k < x->indptr[i + 1] && x->indices[k] < dend; k++) {
            int32_t t = op->col[x->indices[k]];
            if (t >= 0)
                row[t - c0] += x->data[k] * op->s[t];
        }
        cur[i] = k;
    }
}

/* Panel of rows [r0, r0 + w) transposed: P (p × w). */
static void panel_rows(const op_t *op, int64_t r0, int w, double *P)
{
    const sn_csr *x = op->x;
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < op->p; t++)
        for (int c = 0; c < w; c++)
            P[t * w + c] = -op->mu[t] * op->s[t];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < w; c++)
        for (int64_t k = x->indptr[r0 + c]; k < x->indptr[r0 + c + 1]; k++) {
            int32_t t = op->col[x->indices[k]];
            if (t >= 0)
                P[(int64_t)t * w + c] += x->data[k] * op->s[t];
        }
}

/* Top-k eigenpairs of the smaller Gram matrix: vectors as rows of v. */
static int exact_gram(const op_t *op, int k, double *lam, double *v)
{
    int64_t m = op->n <= op->p ? op->n : op->p;
    double *K = sn_calloc(sn_mul_size((size_t)m, (size_t)m), sizeof *K, "the PCA Gram matrix");
    double *P = sn_malloc(sn_mul_size((size_t)m, PANEL * sizeof *P), "a PCA panel");
    int64_t *cur = sn_malloc(((size_t)op->n + 1) * sizeof *cur, "row cursors");
    int rc = SN_ENOMEM;
    if (!K || !P || !cur)
        goto out;
    if (op->n <= op->p) {
        memcpy(cur, op->x->indptr, (size_t)op->n * sizeof *cur);
        for (int64_t c0 = 0; c0 < op->p; c0 += PANEL) {
            int w = (int)(op->p - c0 < PANEL ? op->p - c0 : PANEL);
            panel_cols(op, cur, c0, w, P);
            gram_panel(K, m, P, w);
        }
    } else {
        for (int64_t r0 = 0; r0 < op->n; r0 += PANEL) {
            int w = (int)(op->n - r0 < PANEL ? op->n - r0 : PANEL);
            panel_rows(op, r0, w, P);
            gram_panel(K, m, P, w);
        }
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < i; j++)
            K[i * m + j] = K[j * m + i];
    rc = eig_top(K, (int)m, k, lam, v);
out:
    free(K);
    free(P);
    free(cur);
    return rc;
}

/* scores (n × k) from w->Y (n × round4(k)). */
static void take_scores(const opbuf_t *w, int64_t n, int k, double *scores)
{
    for (int64_t i = 0; i < n; i++)
        memcpy(scores + i * k, w->Y + i * round4(k), (size_t)k * sizeof *scores);
}

/* scores (n × k) and components V (p × k), both row-major doubles. */
static int solve_exact(const op_t *op, int k, double *lam, double *scores, double *V)
{
    int64_t m = op->n <= op->p ? op->n : op->p;
    double *v = sn_malloc(sn_mul_size((size_t)m, (size_t)k * sizeof *v), "eigenvectors");
    opbuf_t w = {0};
    int rc = v ? opbuf_alloc(op, k, &w) : SN_ENOMEM;
    if (rc == SN_OK)
        rc = exact_gram(op, k, lam, v);
    if (rc < 0)
        goto out;
    for (int t = 0; t < k; t++)
        lam[t] = lam[t] > 0 ? lam[t] : 0;
    if (op->n <= op->p) { /* v holds left vectors U: scores = U S, V = Aᵀ U / S */
        for (int64_t i = 0; i < op->n; i++)
            for (int t = 0; t < round4(k); t++) {
                double u = t < k ? v[(size_t)t * m + i] : 0;
                w.Y[i * round4(k) + t] = u;
                if (t < k)
                    scores[i * k + t] = u * sqrt(lam[t]);
            }
        op_apply_t(op, &w, k, V, 0);
        for (int64_t j = 0; j < op->p; j++)
            for (int t = 0; t < k; t++)
                V[j * k + t] = lam[t] > 0 ? V[j * k + t] / sqrt(lam[t]) : 0;
    } else { /* v holds right vectors V: scores = A V */
        for (int64_t j = 0; j < op->p; j++)
            for (int t = 0; t < k; t++)
                V[j * k + t] = v[(size_t)t * m + j];
        op_apply(op, V, k, 0, &w);
        take_scores(&w, op->n, k, scores);
    }
out:
    free(v);
    opbuf_free(&w);
    return rc;
}

/* ---- randomized block Krylov solver ---- */

#define PROJ_ROWS 2048

static void gaussian_start(double *q, int64_t p, int l, uint64_t seed)
{
#pragma omp parallel for schedule(static)
    for (int64_t e = 0; e < p * l; e++) {
        uint64_t a = sn_philox_u64(seed, 0x50434131u, 2 * (uint64_t)e);
        uint64_t b = sn_philox_u64(seed, 0x50434131u, 2 * (uint64_t)e + 1);
        double u1 = ((double)(a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
        q[e] = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
    }
}

/* C (m × b) = Qt[:m] Ztᵀ for the basis Qt (rows of length p) and Zt
 * (b × p), over fixed column tiles summed in order. */
static int proj_coef(const double *Qt, int64_t p, int m, const double *Zt, int b, double *C)
{
    int nb = sn_fixed_blocks(p, PROJ_ROWS, MAX_BLOCKS);
    size_t mb = (size_t)m * b;
    double *part = sn_malloc(sn_mul_size((size_t)nb, mb * sizeof *part), "a projection");
    if (!part)
        return SN_ENOMEM;
#pragma omp parallel for schedule(dynamic, 1)
    for (int blk = 0; blk < nb; blk++) {
        int64_t r0 = p * blk / nb, r1 = p * (blk + 1) / nb;
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_NOTRANS, SN_CBLAS_TRANS, m, b, (int)(r1 - r0), 1.0, Qt + r0, (int)p,
                    Zt + r0, (int)p, 0.0, part + (size_t)blk * mb, b);
    }
    memcpy(C, part, mb * sizeof *C);
    for (int blk = 1; blk < nb; blk++)
        for (size_t e = 0; e < mb; e++)
            C[e] += part[(size_t)blk * mb + e];
    free(part);
    return SN_OK;
}

/* Zt (b × p) += alpha Cᵀ Qt[:m] for C (m × b), by column tiles. */
static void proj_add(const double *Qt, int64_t p, int m, const double *C, int b, double alpha, double *Zt)
{
    int64_t nt = (p + PROJ_ROWS - 1) / PROJ_ROWS;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t t = 0; t < nt; t++) {
        int64_t r0 = t * PROJ_ROWS, cols = p - r0 < PROJ_ROWS ? p - r0 : PROJ_ROWS;
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_TRANS, SN_CBLAS_NOTRANS, b, (int)cols, m, alpha, C, b, Qt + r0, (int)p,
                    1.0, Zt + r0, (int)p);
    }
}

/* The Krylov basis is kept transposed, one vector per row, so that each new
 * block is contiguous (its pages touched only when it comes), projections
 * are one BLAS call per tile, and QR works on the rows in place. */
typedef struct {
    int b, depth, nq;    /* block width, most blocks, blocks so far */
    double *Qt;          /* (depth b) × p: the orthonormal basis */
    double *M;           /* (depth b)²: Qᵀ AᵀA Q */
    double *Mt, *C;      /* eigensolver copy of M; (depth b) × max(b, k) coefficients */
    double *Zt;          /* b × p: the newest block's product */
    double *theta, *vec; /* top-k Ritz values, their vectors (k rows of m) */
    double *prev;        /* the Ritz vectors of the step before (k rows of mprev) */
    int m, mprev;        /* basis size at the last and the one before last Rayleigh-Ritz */
    opbuf_t w;
} kry_t;

static void kry_free(kry_t *s)
{
    free(s->Qt);
    free(s->M);
    free(s->Mt);
    free(s->C);
    free(s->Zt);
    free(s->theta);
    free(s->vec);
    free(s->prev);
    opbuf_free(&s->w);
}

static int kry_alloc(kry_t *s, const op_t *op, int k)
{
    size_t cap = (size_t)s->depth * s->b, w = (size_t)(s->b > k ? s->b : k);
    s->Qt = sn_malloc(sn_mul_size(cap, (size_t)op->p * sizeof(double)), "the PCA Krylov basis");
    s->M = sn_calloc(cap * cap, sizeof(double), "the PCA projection");
    s->Mt = sn_malloc(cap * cap * sizeof(double), "the PCA projection");
    s->C = sn_malloc(cap * w * sizeof(double), "PCA coefficients");
    s->Zt = sn_malloc(sn_mul_size((size_t)op->p, w * sizeof(double)), "a PCA block");
    s->theta = sn_malloc(w * sizeof(double), "Ritz values");
    s->vec = sn_malloc(cap * w * sizeof(double), "Ritz vectors");
    s->prev = sn_malloc(cap * w * sizeof(double), "Ritz vectors");
    int rc = opbuf_alloc(op, s->b > k ? s->b : k, &s->w);
    if (rc < 0 || !s->Qt || !s->M || !s->Mt || !s->C || !s->Zt || !s->theta || !s->vec || !s->prev) {
        kry_free(s);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* sin of the largest principal angle between the spans of the Ritz vectors
 * now (k rows of m) and at the step before (k rows of m0 <= m, the later
 * coordinates zero), both orthonormal in the basis: 1 - the smallest
 * squared singular value of their k × k inner products. */
static int ritz_change(const kry_t *s, int k, double *change)
{
    /* k² on the heap: at --n-pcs 750, 9 MB of them overflowed the stack */
    double w[1], *g = sn_malloc(sn_mul_size((size_t)k, (2 * (size_t)k + 1) * sizeof *g), "Ritz vector products");
    if (!g)
        return SN_ENOMEM;
    double *r = g + (size_t)k * k, *v = r + (size_t)k * k;
    for (int a = 0; a < k; a++)
        for (int c = 0; c < k; c++) {
            double d = 0;
            for (int i = 0; i < s->mprev; i++)
                d += s->vec[(size_t)a * s->m + i] * s->prev[(size_t)c * s->mprev + i];
            g[a * k + c] = d;
        }
    for (int a = 0; a < k; a++)
        for (int c = 0; c < k; c++) {
            double d = a == c ? 1 : 0;
            for (int t = 0; t < k; t++)
                d -= g[t * k + a] * g[t * k + c];
            r[a * k + c] = d;
        }
    int rc = eig_top(r, k, 1, w, v);
    free(g);
    SN_TRY(rc);
    *change = sqrt(w[0] > 0 ? (w[0] < 1 ? w[0] : 1) : 0);
    return SN_OK;
}

/* The newest block of the basis: apply AᵀA to it, add its column of M and,
 * once the basis holds k vectors, copy M for the eigensolver (kry_ritz)
 * and keep the last Ritz vectors as the previous ones. */
static int kry_step(const op_t *op, kry_t *s, int k)
{
    int b = s->b, j = s->nq - 1, m = s->nq * b, cap = s->depth * b;
    size_t blk = (size_t)b * op->p;
    op_gram(op, s->Qt + j * blk, b, s->Zt, &s->w, s->Qt + (j + 1) * blk,
            s->nq < s->depth ? blk * sizeof *s->Qt : 0);
    SN_TRY(proj_coef(s->Qt, op->p, m, s->Zt, b, s->C));
    for (int i = 0; i < m; i++)
        for (int c = 0; c < b; c++) {
            int col = j * b + c;
            if (i <= col) {
                s->M[(size_t)i * cap + col] = s->C[(size_t)i * b + c];
                s->M[(size_t)col * cap + i] = s->C[(size_t)i * b + c];
            }
        }
    if (m < k)
        return SN_OK;
    for (int i = 0; i < m; i++)
        memcpy(s->Mt + (size_t)i * m, s->M + (size_t)i * cap, (size_t)m * sizeof(double));
    if (s->m > 0) {
        memcpy(s->prev, s->vec, (size_t)k * s->m * sizeof(double));
        s->mprev = s->m;
    }
    s->m = m;
    return SN_OK;
}

/* The top-k Ritz pairs of the basis so far (from s->Mt) and how far their
 * span moved since the step before (1 until there are two). */
static int kry_ritz(kry_t *s, int k, double *change)
{
    *change = 1;
    if (s->m < k)
        return SN_OK;
    SN_TRY(eig_top(s->Mt, s->m, k, s->theta, s->vec));
    return s->mprev > 0 ? ritz_change(s, k, change) : SN_OK;
}

/* The Ritz pairs and, when extend, the next block: AᵀA applied to the
 * newest block (in s->Zt, its coefficients in s->C) minus its projection
 * on the basis, then QR.  One classical Gram-Schmidt sweep: what it leaves
 * of the basis directions (rounding, amplified by the cancellation) is far
 * below what the Ritz vectors need.  The Ritz pairs decide only whether to
 * stop, so the eigensolver and the QR (each LAPACK on one thread, 11 and 5
 * ms of 20 blocks at 10 000 cells) run side by side; a block made for a
 * step that then stops is not used. */
static int kry_next(const op_t *op, kry_t *s, int k, int extend, double *change)
{
    double *next = s->Qt + (size_t)s->nq * s->b * op->p;
    if (extend) {
        proj_add(s->Qt, op->p, s->nq * s->b, s->C, s->b, -1.0, s->Zt);
        memcpy(next, s->Zt, (size_t)s->b * op->p * sizeof *next);
    }
    int rc_ritz = SN_OK, rc_qr = SN_OK;
#pragma omp parallel num_threads(extend && omp_get_max_threads() > 1 ? 2 : 1)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (t == 0)
            rc_ritz = kry_ritz(s, k, change);
        if (extend && (t == 1 || nt == 1))
            rc_qr = qr_cols(next, op->p, s->b);
    }
    SN_TRY(rc_ritz);
    if (rc_qr < 0) /* its message, if made on the other thread, stayed there */
        return sn_err(rc_qr, "QR factorisation of a Krylov block failed");
    s->nq += extend;
    return SN_OK;
}

static int solve_randomized(const op_t *op, const sn_pca_opts *o, int k, double *lam, double *scores,
                            double *V, int *iters, double *moved)
{
    int64_t mn = op->n < op->p ? op->n : op->p;
    kry_t s = {0};
    s.b = o->block > 0 ? o->block : round4(k / 4 > 8 ? k / 4 : 8);
    s.b = s.b > mn ? (int)mn : s.b;
    s.depth = o->max_iter > 0 ? o->max_iter : 1;
    while (s.depth > 1 && (int64_t)s.depth * s.b > mn)
        s.depth--;
    SN_TRY(kry_alloc(&s, op, k));
    gaussian_start(s.Qt, op->p, s.b, o->seed);
    int rc = qr_cols(s.Qt, op->p, s.b);
    s.nq = 1;
    double change = 1;
    while (rc == SN_OK) {
        int room = s.nq < s.depth;
        if ((rc = kry_step(op, &s, k)) < 0 || (rc = kry_next(op, &s, k, room, &change)) < 0)
            break;
        if (change < o->tol || !room)
            break;
    }
    /* a basis spanning the whole space holds the exact solution */
    *moved = (int64_t)s.m >= mn ? 0 : change;
    if (rc == SN_OK && s.m < k)
        rc = sn_err(SN_EINVAL, "the Krylov basis stayed below %d vectors (raise the iterations)", k);
    if (rc == SN_OK) {
        /* Rayleigh-Ritz: V = Q w for the top-k eigenvectors w of M */
        for (int t = 0; t < k; t++) {
            lam[t] = s.theta[t] > 0 ? s.theta[t] : 0;
            for (int i = 0; i < s.m; i++)
                s.C[(size_t)i * k + t] = s.vec[(size_t)t * s.m + i];
        }
        double *Vt = s.Zt; /* k × p fits: Zt holds max(b, k) rows */
        memset(Vt, 0, sn_mul_size((size_t)op->p, (size_t)k * sizeof *Vt));
        proj_add(s.Qt, op->p, s.m, s.C, k, 1.0, Vt);
        for (int64_t t = 0; t < op->p; t++)
            for (int c = 0; c < k; c++)
                V[t * k + c] = Vt[(size_t)c * op->p + t];
        op_apply(op, V, k, 0, &s.w);
        take_scores(&s.w, op->n, k, scores);
        *iters = s.m / s.b;
    }
    kry_free(&s);
    return rc;
}

/* ---- driver ---- */

/* svd_flip(u_based_decision=False): the largest |loading| (first on ties)
 * of each component is made positive. */
static void flip_signs(int64_t n, int64_t p, int k, double *scores, double *V)
{
    double big[k], sign[k];
    for (int t = 0; t < k; t++)
        big[t] = -1, sign[t] = 1;
    for (int64_t j = 0; j < p; j++) /* row by row: one pass over V */
        for (int t = 0; t < k; t++)
            if (fabs(V[j * k + t]) > big[t]) {
                big[t] = fabs(V[j * k + t]);
                sign[t] = V[j * k + t] >= 0 ? 1 : -1;
            }
    for (int64_t j = 0; j < p; j++)
        for (int t = 0; t < k; t++)
            V[j * k + t] *= sign[t];
    for (int64_t i = 0; i < n; i++)
        for (int t = 0; t < k; t++)
            scores[i * k + t] *= sign[t];
}

static int store(const op_t *op, int k, const double *lam, const double *scores, const double *V, sn_pca *p)
{
    p->n_obs = op->n;
    p->n_var = op->nvar;
    p->k = k;
    p->total_variance = op->total;
    SN_TRY(sn_mat_alloc(&p->scores, op->n, k));
    SN_TRY(sn_mat_zeros(&p->loadings, op->nvar, k));
    p->variance = sn_malloc((size_t)k * sizeof(double), "PCA variances");
    p->variance_ratio = sn_malloc((size_t)k * sizeof(double), "PCA variances");
    if (!p->variance || !p->variance_ratio)
        return SN_ENOMEM;
    for (int64_t e = 0; e < op->n * k; e++)
        p->scores.data[e] = (float)scores[e];
    for (int64_t t = 0; t < op->p; t++)
        for (int c = 0; c < k; c++)
            p->loadings.data[op->var[t] * k + c] = (float)V[t * k + c];
    for (int c = 0; c < k; c++) {
        p->variance[c] = op->n > 1 ? lam[c] / (double)(op->n - 1) : 0;
        p->variance_ratio[c] = op->total > 0 ? p->variance[c] / op->total : 0;
    }
    return SN_OK;
}

int sn_pca_run(const sn_csr *x, const sn_pca_opts *o, sn_pca *p)
{
    memset(p, 0, sizeof *p);
    op_t op;
    SN_TRY(op_init(&op, x, o));
    int k = o->n_comps;
    int64_t mn = op.n < op.p ? op.n : op.p;
    if (k < 1 || k >= mn) {
        op_free(&op);
        return sn_err(SN_EINVAL, "%d principal components need more than %d cells and genes (have %lld cells, "
                                 "%lld genes): ask for fewer (--n-pcs)", k, k, (long long)op.n, (long long)op.p);
    }
    sn_pca_solver solver = o->solver;
    if (solver == SN_PCA_AUTO)
        solver = mn <= SN_PCA_EXACT_MAX ? SN_PCA_EXACT : SN_PCA_RANDOMIZED;
    double *lam = sn_malloc((size_t)k * sizeof *lam, "eigenvalues");
    double *scores = sn_malloc(sn_mul_size((size_t)op.n, (size_t)k * sizeof *scores), "PCA scores");
    double *V = sn_malloc(sn_mul_size((size_t)op.p, (size_t)k * sizeof *V), "PCA loadings");
    int rc = lam && scores && V ? SN_OK : SN_ENOMEM;
    if (rc == SN_OK && solver == SN_PCA_EXACT)
        rc = solve_exact(&op, k, lam, scores, V);
    else if (rc == SN_OK)
        rc = solve_randomized(&op, o, k, lam, scores, V, &p->iterations, &p->change);
    if (rc == SN_OK) {
        flip_signs(op.n, op.p, k, scores, V);
        rc = store(&op, k, lam, scores, V, p);
        p->solver = solver;
    }
    free(lam);
    free(scores);
    free(V);
    op_free(&op);
    if (rc < 0)
        sn_pca_free(p);
    return rc;
}

int sn_pca_max_angle(const sn_mat *a, const sn_mat *b, double *angle)
{
    if (a->nrow != b->nrow || a->ncol != b->ncol || a->ncol < 1 || a->nrow < a->ncol)
        return sn_err(SN_EINVAL, "subspace angle: matrices of different or too small shapes");
    int64_t n = a->nrow;
    int k = (int)a->ncol;
    double *qa = sn_malloc(sn_mul_size((size_t)n, 2 * (size_t)k * sizeof *qa), "subspace bases");
    if (!qa)
        return SN_ENOMEM;
    double *qb = qa + n * k, m[k * k], r[k * k], w[k], v[k * k];
    for (int64_t e = 0; e < n * k; e++) {
        qa[e] = a->data[e];
        qb[e] = b->data[e];
    }
    int rc = orthonormalise(qa, n, k);
    if (rc == SN_OK)
        rc = orthonormalise(qb, n, k);
    if (rc == SN_OK) {
        /* sin of the largest angle = ||(I - Qa Qaᵀ) Qb||₂, accurate for small angles */
        memset(m, 0, sizeof m);
        for (int64_t i = 0; i < n; i++)
            for (int s = 0; s < k; s++)
                for (int t = 0; t < k; t++)
                    m[s * k + t] += qa[i * k + s] * qb[i * k + t];
        memset(r, 0, sizeof r);
        for (int64_t i = 0; i < n; i++) {
            double res[k];
            for (int t = 0; t < k; t++) {
                res[t] = qb[i * k + t];
                for (int s = 0; s < k; s++)
                    res[t] -= qa[i * k + s] * m[s * k + t];
            }
            for (int s = 0; s < k; s++)
                for (int t = 0; t < k; t++)
                    r[s * k + t] += res[s] * res[t];
        }
        rc = eig_top(r, k, 1, w, v);
        if (rc == SN_OK)
            *angle = asin(sqrt(w[0] > 0 ? (w[0] < 1 ? w[0] : 1) : 0));
    }
    free(qa);
    return rc;
}
