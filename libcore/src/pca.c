#include "scnet/pca.h"
#include "scnet/mem.h"
#include "scnet/philox.h"
#include "scnet/prep.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"

#define MAX_BLOCKS 16
#define RANGE_COLS 2048 /* data columns per cache-sized range of Aᵀ products */
#define APPLY_COLS 1024 /* data columns per cache-sized range of A products */
#define ROW_BLOCK 256   /* rows per task of A products */
#define PANEL 512 /* columns of a dense panel in the exact Gram */
#define TILE 256  /* output tile of the Gram, one BLAS call per tile */

void sn_pca_defaults(sn_pca_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_comps = 15;
    o->solver = SN_PCA_AUTO;
    o->oversample = 8;
    o->max_iter = 40;
    o->tol = 1e-8;
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

/* The implicit operator A = (X[:, mask] - 1 muᵀ) diag(s), n × p. */
typedef struct {
    const sn_csr *x;
    int32_t *col;  /* data column -> operator column, -1 when masked out */
    int64_t *inv;  /* operator column -> data column */
    int64_t n, p;
    double *mu, *s;
    double total;  /* sum of the operator columns' variances (ddof 1) */
    int64_t *colptr; /* entries in data columns before j (ncol + 1), to share out Aᵀ products */
} op_t;

static void op_free(op_t *op)
{
    free(op->colptr);
    free(op->col);
    free(op->inv);
    free(op->mu);
    free(op->s);
}

static int op_init(op_t *op, const sn_csr *x, const sn_pca_opts *o)
{
    memset(op, 0, sizeof *op);
    op->x = x;
    op->n = x->nrow;
    size_t g = (size_t)x->ncol + 1;
    double *mean = sn_malloc(2 * g * sizeof *mean, "gene means"), *var = mean ? mean + g : NULL;
    op->col = sn_malloc(g * sizeof *op->col, "a gene map");
    op->inv = sn_malloc(g * sizeof *op->inv, "a gene map");
    op->mu = sn_malloc(g * sizeof *op->mu, "gene means");
    op->s = sn_malloc(g * sizeof *op->s, "gene scales");
    int rc = mean && op->col && op->inv && op->mu && op->s ? SN_OK : SN_ENOMEM;
    if (rc == SN_OK)
        rc = sn_prep_gene_moments(x, mean, var);
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
    op->colptr = rc == SN_OK ? sn_calloc(g + 1, sizeof *op->colptr, "column entry counts") : NULL;
    if (rc == SN_OK && !op->colptr)
        rc = SN_ENOMEM;
    for (int64_t k = 0; rc == SN_OK && k < sn_csr_nnz(x); k++)
        op->colptr[x->indices[k] + 1]++;
    for (int64_t j = 0; rc == SN_OK && j < x->ncol; j++)
        op->colptr[j + 1] += op->colptr[j];
    free(mean);
    if (rc < 0)
        op_free(op);
    return rc;
}

/* The first data column j with at least e entries before it. */
static int64_t upper_col(const op_t *op, int64_t e)
{
    int64_t lo = 0, hi = op->x->ncol;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (op->colptr[mid] < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Chunks of 8 columns keep the accumulators in registers; the compiler
 * turns the fixed-width loops into vector FMAs. */
#define CH 8

/* acc[0..w) += v * q[col][c0 .. c0 + w) over the row's entries from k on
 * in data columns below c1; returns the entry after the last one used. */
static inline int64_t row_times_panel(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *q, int l,
                                      int c0, int w, double *acc)
{
    const sn_csr *x = op->x;
    double a[CH] = {0};
    memcpy(a, acc, (size_t)w * sizeof *a);
    int64_t end = x->indptr[i + 1];
    if (w == CH) {
        for (; k < end && x->indices[k] < c1; k++) {
            int32_t t = op->col[x->indices[k]];
            double v = x->data[k];
            const double *r = q + (int64_t)(t < 0 ? 0 : t) * l + c0;
            v = t < 0 ? 0 : v;
            for (int u = 0; u < CH; u++)
                a[u] = fma(v, r[u], a[u]);
        }
    } else {
        for (; k < end && x->indices[k] < c1; k++) {
            int32_t t = op->col[x->indices[k]];
            if (t < 0)
                continue;
            double v = x->data[k];
            const double *r = q + (int64_t)t * l + c0;
            for (int u = 0; u < w; u++)
                a[u] = fma(v, r[u], a[u]);
        }
    }
    memcpy(acc, a, (size_t)w * sizeof *acc);
    return k;
}

/* Fixed-width versions for the usual block widths: all W accumulators stay
 * in vector registers over one sweep of the row (GCC/clang vector types). */
typedef double v4d __attribute__((vector_size(32)));

static inline v4d load4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Accumulator u exists when the width W (WIDTH) has it; it is a constant in each
 * instance, so the tests fold away and a0..a7 live in registers. */
#define GATHER_LOAD(u) v4d a##u = WIDTH > 4 * (u) ? load4(acc + 4 * (u)) : (v4d){0, 0, 0, 0}
#define GATHER_STEP(u)                                                                                       \
    if (WIDTH > 4 * (u))                                                                                      \
    a##u += vv * load4(r + 4 * (u))
#define GATHER_STORE(u)                                                                                      \
    if (WIDTH > 4 * (u))                                                                                      \
    memcpy(acc + 4 * (u), &a##u, sizeof a##u)

#define GATHER_FIXED(W)                                                                                      \
    static int64_t gather_##W(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *q, double *acc) \
    {                                                                                                         \
        const sn_csr *x = op->x;                                                                              \
        enum { WIDTH = W };                                                                                   \
        GATHER_LOAD(0);                                                                                       \
        GATHER_LOAD(1);                                                                                       \
        GATHER_LOAD(2);                                                                                       \
        GATHER_LOAD(3);                                                                                       \
        GATHER_LOAD(4);                                                                                       \
        GATHER_LOAD(5);                                                                                       \
        GATHER_LOAD(6);                                                                                       \
        GATHER_LOAD(7);                                                                                       \
        for (int64_t end = x->indptr[i + 1]; k < end && x->indices[k] < c1; k++) {                           \
            int32_t t = op->col[x->indices[k]];                                                               \
            double v = t < 0 ? 0 : x->data[k];                                                                \
            const double *r = q + (int64_t)(t < 0 ? 0 : t) * W;                                               \
            v4d vv = {v, v, v, v};                                                                            \
            GATHER_STEP(0);                                                                                   \
            GATHER_STEP(1);                                                                                   \
            GATHER_STEP(2);                                                                                   \
            GATHER_STEP(3);                                                                                   \
            GATHER_STEP(4);                                                                                   \
            GATHER_STEP(5);                                                                                   \
            GATHER_STEP(6);                                                                                   \
            GATHER_STEP(7);                                                                                   \
        }                                                                                                     \
        GATHER_STORE(0);                                                                                      \
        GATHER_STORE(1);                                                                                      \
        GATHER_STORE(2);                                                                                      \
        GATHER_STORE(3);                                                                                      \
        GATHER_STORE(4);                                                                                      \
        GATHER_STORE(5);                                                                                      \
        GATHER_STORE(6);                                                                                      \
        GATHER_STORE(7);                                                                                      \
        return k;                                                                                             \
    }
GATHER_FIXED(8)
GATHER_FIXED(16)
GATHER_FIXED(24)
GATHER_FIXED(32)

/* The row's entries from k on below data column c1, into acc (l wide). */
static int64_t gather_row(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *q, int l, double *acc)
{
    switch (l) {
    case 8: return gather_8(op, i, k, c1, q, acc);
    case 16: return gather_16(op, i, k, c1, q, acc);
    case 24: return gather_24(op, i, k, c1, q, acc);
    case 32: return gather_32(op, i, k, c1, q, acc);
    }
    int64_t e = k;
    for (int c0 = 0; c0 < l; c0 += CH)
        e = row_times_panel(op, i, k, c1, q, l, c0, l - c0 < CH ? l - c0 : CH, acc + c0);
    return e;
}

/* Rows [i0, i1) of A Q: the data columns go by cache-sized ranges, so the
 * rows of Q in use stay in cache; each row still sums its entries in
 * column order, so the result is the same as in one sweep. */
static void apply_rows(const op_t *op, const double *qs, int l, double *Y, int64_t i0, int64_t i1)
{
    int64_t cur[ROW_BLOCK];
    const sn_csr *x = op->x;
    for (int64_t i = i0; i < i1; i++) {
        cur[i - i0] = x->indptr[i];
        memset(Y + i * l, 0, (size_t)l * sizeof *Y);
    }
    for (int64_t r0 = 0; r0 < x->ncol; r0 += APPLY_COLS) {
        int32_t r1 = (int32_t)(x->ncol - r0 < APPLY_COLS ? x->ncol : r0 + APPLY_COLS);
        for (int64_t i = i0; i < i1; i++)
            cur[i - i0] = gather_row(op, i, cur[i - i0], r1, qs, l, Y + i * l);
    }
}

/* Y (n × l) = A Q, Q p × l; qs is p × l scratch. */
static void op_apply(const op_t *op, const double *Q, int l, double *Y, double *qs)
{
    double c[l];
    memset(c, 0, sizeof c);
    for (int64_t t = 0; t < op->p; t++)
        for (int a = 0; a < l; a++) {
            qs[t * l + a] = op->s[t] * Q[t * l + a];
            c[a] += op->mu[t] * qs[t * l + a];
        }
    int64_t nb = (op->n + ROW_BLOCK - 1) / ROW_BLOCK;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * ROW_BLOCK, i1 = op->n - i0 < ROW_BLOCK ? op->n : i0 + ROW_BLOCK;
        apply_rows(op, qs, l, Y, i0, i1);
        for (int64_t i = i0; i < i1; i++)
            for (int a = 0; a < l; a++)
                Y[i * l + a] -= c[a];
    }
}

/* First k in [lo, hi) with a[k] >= v. */
static int64_t lower_bound32(const int32_t *a, int64_t lo, int64_t hi, int32_t v)
{
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* z[t][0..l) += v * y[0..l) for the row's entries in data columns [c0, c1),
 * starting at entry k; returns the entry after the last one used. */
static inline int64_t scatter_cols(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *restrict y,
                                   int l, double *restrict Z)
{
    const sn_csr *x = op->x;
    int64_t end = x->indptr[i + 1];
    for (; k < end && x->indices[k] < c1; k++) {
        int32_t t = op->col[x->indices[k]];
        if (t < 0)
            continue;
        double v = x->data[k], *restrict z = Z + (int64_t)t * l;
        int a = 0;
        for (; a + CH <= l; a += CH)
            for (int u = 0; u < CH; u++)
                z[a + u] = fma(v, y[a + u], z[a + u]);
        for (; a < l; a++)
            z[a] = fma(v, y[a], z[a]);
    }
    return k;
}

#define SCATTER_LOAD(u) v4d y##u = WIDTH > 4 * (u) ? load4(y + 4 * (u)) : (v4d){0, 0, 0, 0}
#define SCATTER_STEP(u)                                                                                      \
    if (WIDTH > 4 * (u))                                                                                      \
        do {                                                                                                  \
            v4d z_ = load4(z + 4 * (u)) + vv * y##u;                                                          \
            memcpy(z + 4 * (u), &z_, sizeof z_);                                                              \
    } while (0)

/* scatter_cols for the usual widths, the row of Y held in registers. */
#define SCATTER_FIXED(W)                                                                                     \
    static int64_t scatter_##W(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *y, double *Z) \
    {                                                                                                         \
        const sn_csr *x = op->x;                                                                              \
        enum { WIDTH = W };                                                                                   \
        SCATTER_LOAD(0);                                                                                      \
        SCATTER_LOAD(1);                                                                                      \
        SCATTER_LOAD(2);                                                                                      \
        SCATTER_LOAD(3);                                                                                      \
        SCATTER_LOAD(4);                                                                                      \
        SCATTER_LOAD(5);                                                                                      \
        SCATTER_LOAD(6);                                                                                      \
        SCATTER_LOAD(7);                                                                                      \
        for (int64_t end = x->indptr[i + 1]; k < end && x->indices[k] < c1; k++) {                           \
            int32_t t = op->col[x->indices[k]];                                                               \
            if (t < 0)                                                                                        \
                continue;                                                                                     \
            double v = x->data[k], *z = Z + (int64_t)t * W;                                                   \
            v4d vv = {v, v, v, v};                                                                            \
            SCATTER_STEP(0);                                                                                  \
            SCATTER_STEP(1);                                                                                  \
            SCATTER_STEP(2);                                                                                  \
            SCATTER_STEP(3);                                                                                  \
            SCATTER_STEP(4);                                                                                  \
            SCATTER_STEP(5);                                                                                  \
            SCATTER_STEP(6);                                                                                  \
            SCATTER_STEP(7);                                                                                  \
        }                                                                                                     \
        return k;                                                                                             \
    }
SCATTER_FIXED(8)
SCATTER_FIXED(16)
SCATTER_FIXED(24)
SCATTER_FIXED(32)

static int64_t scatter_row(const op_t *op, int64_t i, int64_t k, int32_t c1, const double *y, int l, double *Z)
{
    switch (l) {
    case 8: return scatter_8(op, i, k, c1, y, Z);
    case 16: return scatter_16(op, i, k, c1, y, Z);
    case 24: return scatter_24(op, i, k, c1, y, Z);
    case 32: return scatter_32(op, i, k, c1, y, Z);
    }
    return scatter_cols(op, i, k, c1, y, l, Z);
}

/* One thread's share of Aᵀ Y: the data columns [c0, c1), in ranges small
 * enough for their rows of Z to stay in cache, each summed over the cells
 * in order.  Every row of Z is owned by one thread, so the result does not
 * depend on how the columns are shared out. */
static void apply_t_cols(const op_t *op, const double *Y, int l, double *Z, int32_t c0, int32_t c1, int64_t *cur)
{
    const sn_csr *x = op->x;
    for (int32_t r0 = c0; r0 < c1; r0 += RANGE_COLS) {
        int32_t r1 = c1 - r0 < RANGE_COLS ? c1 : r0 + RANGE_COLS;
        for (int64_t i = 0; i < op->n; i++) {
            int64_t k = r0 == c0 ? lower_bound32(x->indices, x->indptr[i], x->indptr[i + 1], c0) : cur[i];
            cur[i] = scatter_row(op, i, k, r1, Y + i * l, l, Z);
        }
    }
}

/* Z (p × l) = Aᵀ Y.  Threads take contiguous data columns holding about
 * equal numbers of entries. */
static int op_apply_t(const op_t *op, const double *Y, int l, double *Z)
{
    double rs[l];
    memset(rs, 0, sizeof rs);
    for (int64_t i = 0; i < op->n; i++)
        for (int a = 0; a < l; a++)
            rs[a] += Y[i * l + a];
    memset(Z, 0, sn_mul_size((size_t)op->p, (size_t)l * sizeof *Z));
    int fail = 0;
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), me = omp_get_thread_num();
        int64_t total = op->colptr[op->x->ncol];
        int32_t c0 = (int32_t)upper_col(op, total * me / nt), c1 = (int32_t)upper_col(op, total * (me + 1) / nt);
        if (me == nt - 1)
            c1 = (int32_t)op->x->ncol;
        int64_t *cur = c1 > c0 ? malloc(((size_t)op->n + 1) * sizeof *cur) : NULL;
        if (c1 > c0 && !cur) {
#pragma omp atomic write
            fail = 1;
        } else if (c1 > c0) {
            apply_t_cols(op, Y, l, Z, c0, c1, cur);
        }
        free(cur);
    }
    if (fail)
        return sn_err(SN_ENOMEM, "out of memory: PCA row cursors");
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < op->p; t++)
        for (int a = 0; a < l; a++)
            Z[t * l + a] = op->s[t] * (Z[t * l + a] - op->mu[t] * rs[a]);
    return SN_OK;
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
    dsyevr_("V", "I", "U", &m, a, &m, &vl, &vu, &il, &iu, &tol, &got, wa, za, &m, sup, work, &lwork, iwork, &liwork,
            &info, 1, 1, 1);
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

/* Orthonormalise the columns of the row-major p × l matrix q (Householder QR). */
static int orthonormalise(double *q, int64_t p, int l)
{
    int m = (int)p, n = l, info = 0, lwork = -1;
    double wq = 0, tau[l];
    double *a = sn_malloc(sn_mul_size((size_t)p, (size_t)l * sizeof *a), "a QR factorisation");
    if (!a)
        return SN_ENOMEM;
    for (int64_t i = 0; i < p; i++)
        for (int c = 0; c < l; c++)
            a[(size_t)c * p + i] = q[i * l + c];
    dgeqrf_(&m, &n, a, &m, tau, &wq, &lwork, &info);
    lwork = (int)wq + 1;
    double *work = sn_malloc((size_t)lwork * sizeof *work, "QR workspace");
    if (!work) {
        free(a);
        return SN_ENOMEM;
    }
    dgeqrf_(&m, &n, a, &m, tau, work, &lwork, &info);
    if (info == 0)
        dorgqr_(&m, &n, &n, a, &m, tau, work, &lwork, &info);
    for (int64_t i = 0; i < p; i++)
        for (int c = 0; c < l; c++)
            q[i * l + c] = a[(size_t)c * p + i];
    free(work);
    free(a);
    return info == 0 ? SN_OK : sn_err(SN_EINVAL, "QR factorisation failed (LAPACK info %d)", info);
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

/* scores (n × k) and components V (p × k), both row-major doubles. */
static int solve_exact(const op_t *op, int k, double *lam, double *scores, double *V)
{
    int64_t m = op->n <= op->p ? op->n : op->p;
    double *v = sn_malloc(sn_mul_size((size_t)m, (size_t)k * sizeof *v), "eigenvectors");
    double *tmp = sn_malloc(sn_mul_size((size_t)(op->p > op->n ? op->p : op->n), (size_t)k * sizeof *tmp),
                            "PCA scratch");
    int rc = v && tmp ? exact_gram(op, k, lam, v) : SN_ENOMEM;
    if (rc < 0)
        goto out;
    for (int t = 0; t < k; t++)
        lam[t] = lam[t] > 0 ? lam[t] : 0;
    if (op->n <= op->p) { /* v holds left vectors U: scores = U S, V = Aᵀ U / S */
        for (int64_t i = 0; i < op->n; i++)
            for (int t = 0; t < k; t++)
                scores[i * k + t] = v[(size_t)t * m + i] * sqrt(lam[t]);
        for (int64_t i = 0; i < op->n; i++)
            for (int t = 0; t < k; t++)
                tmp[i * k + t] = v[(size_t)t * m + i];
        rc = op_apply_t(op, tmp, k, V);
        for (int64_t j = 0; rc == SN_OK && j < op->p; j++)
            for (int t = 0; t < k; t++)
                V[j * k + t] = lam[t] > 0 ? V[j * k + t] / sqrt(lam[t]) : 0;
    } else { /* v holds right vectors V: scores = A V */
        for (int64_t j = 0; j < op->p; j++)
            for (int t = 0; t < k; t++)
                V[j * k + t] = v[(size_t)t * m + j];
        op_apply(op, V, k, scores, tmp);
    }
out:
    free(v);
    free(tmp);
    return rc;
}

/* ---- randomized block Krylov solver ---- */

#define PROJ_ROWS 2048

static void gaussian_start(double *q, int64_t p, int l, uint64_t seed)
{
    for (int64_t e = 0; e < p * l; e++) {
        uint64_t a = sn_philox_u64(seed, 0x50434131u, 2 * (uint64_t)e);
        uint64_t b = sn_philox_u64(seed, 0x50434131u, 2 * (uint64_t)e + 1);
        double u1 = ((double)(a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
        q[e] = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
    }
}

/* C (m × b) = Q[:, :m]ᵀ Z for Q (p × ld) and Z (p × b), over fixed row
 * blocks summed in order. */
static int proj_coef(const double *Q, int64_t p, int ld, int m, const double *Z, int b, double *C)
{
    int nb = sn_fixed_blocks(p, PROJ_ROWS, MAX_BLOCKS);
    size_t mb = (size_t)m * b;
    double *part = sn_malloc(sn_mul_size((size_t)nb, mb * sizeof *part), "a projection");
    if (!part)
        return SN_ENOMEM;
#pragma omp parallel for schedule(dynamic, 1)
    for (int blk = 0; blk < nb; blk++) {
        int64_t r0 = p * blk / nb, r1 = p * (blk + 1) / nb;
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_TRANS, SN_CBLAS_NOTRANS, m, b, (int)(r1 - r0), 1.0, Q + r0 * ld, ld,
                    Z + r0 * b, b, 0.0, part + (size_t)blk * mb, b);
    }
    memcpy(C, part, mb * sizeof *C);
    for (int blk = 1; blk < nb; blk++)
        for (size_t e = 0; e < mb; e++)
            C[e] += part[(size_t)blk * mb + e];
    free(part);
    return SN_OK;
}

/* Z (p × b) += alpha Q[:, :m] C, by row tiles. */
static void proj_add(const double *Q, int64_t p, int ld, int m, const double *C, int b, double alpha, double *Z)
{
    int64_t nt = (p + PROJ_ROWS - 1) / PROJ_ROWS;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t t = 0; t < nt; t++) {
        int64_t r0 = t * PROJ_ROWS, rows = p - r0 < PROJ_ROWS ? p - r0 : PROJ_ROWS;
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_NOTRANS, SN_CBLAS_NOTRANS, (int)rows, b, m, alpha, Q + r0 * ld, ld, C, b,
                    1.0, Z + r0 * b, b);
    }
}

typedef struct {
    int b, depth, nq;    /* block width, most blocks, blocks so far */
    double **Q;          /* the orthonormal Krylov basis: blocks of p × b */
    double *M;           /* (depth b)²: Qᵀ AᵀA Q */
    double *Mt, *C;      /* eigensolver copy of M; (depth b) × max(b, k) coefficients */
    double *blk, *qs, *Y;
    double *theta, *prev, *vec;
} kry_t;

static void kry_free(kry_t *s)
{
    for (int i = 0; s->Q && i < s->nq; i++)
        free(s->Q[i]);
    free(s->Q);
    free(s->M);
    free(s->Mt);
    free(s->C);
    free(s->blk);
    free(s->qs);
    free(s->Y);
    free(s->theta);
    free(s->prev);
    free(s->vec);
}

static int kry_alloc(kry_t *s, int64_t n, int64_t p, int k)
{
    size_t cap = (size_t)s->depth * s->b, w = (size_t)(s->b > k ? s->b : k);
    s->Q = sn_calloc((size_t)s->depth, sizeof *s->Q, "the PCA Krylov basis");
    s->M = sn_calloc(cap * cap, sizeof(double), "the PCA projection");
    s->Mt = sn_malloc(cap * cap * sizeof(double), "the PCA projection");
    s->C = sn_malloc(cap * w * sizeof(double), "PCA coefficients");
    s->blk = sn_malloc(sn_mul_size((size_t)p, w * sizeof(double)), "a PCA block");
    s->qs = sn_malloc(sn_mul_size((size_t)p, w * sizeof(double)), "a PCA block");
    s->Y = sn_malloc(sn_mul_size((size_t)n, w * sizeof(double)), "a PCA block");
    s->theta = sn_malloc(w * sizeof(double), "Ritz values");
    s->prev = sn_malloc(w * sizeof(double), "Ritz values");
    s->vec = sn_malloc(cap * w * sizeof(double), "Ritz vectors");
    if (!s->Q || !s->M || !s->Mt || !s->C || !s->blk || !s->qs || !s->Y || !s->theta || !s->prev || !s->vec) {
        kry_free(s);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* Append s->blk to the basis (the basis grows as the iterations need it). */
static int kry_push(kry_t *s, int64_t p)
{
    size_t bytes = sn_mul_size((size_t)p, (size_t)s->b * sizeof(double));
    if (!(s->Q[s->nq] = sn_malloc(bytes, "the PCA Krylov basis")))
        return SN_ENOMEM;
    memcpy(s->Q[s->nq++], s->blk, bytes);
    return SN_OK;
}

/* C (nq b × b) = Qᵀ Z, block by block. */
static int kry_coef(const kry_t *s, int64_t p, const double *Z)
{
    for (int i = 0; i < s->nq; i++)
        SN_TRY(proj_coef(s->Q[i], p, s->b, s->b, Z, s->b, s->C + (size_t)i * s->b * s->b));
    return SN_OK;
}

/* Z (p × w) += alpha Q C for C (nq b × w). */
static void kry_add(const kry_t *s, int64_t p, int w, double alpha, double *Z)
{
    for (int i = 0; i < s->nq; i++)
        proj_add(s->Q[i], p, s->b, s->b, s->C + (size_t)i * s->b * w, w, alpha, Z);
}

static int converged(const double *theta, const double *prev, int k, double tol)
{
    for (int t = 0; t < k; t++)
        if (fabs(theta[t] - prev[t]) > tol * fabs(theta[t]))
            return 0;
    return 1;
}

/* The newest block of the basis: apply AᵀA to it, add its column of M and
 * take the top-k Ritz values of the basis so far. */
static int kry_step(const op_t *op, kry_t *s, int k)
{
    int b = s->b, j = s->nq - 1, m = s->nq * b, cap = s->depth * b;
    memcpy(s->blk, s->Q[j], sn_mul_size((size_t)op->p, (size_t)b * sizeof(double)));
    op_apply(op, s->blk, b, s->Y, s->qs);
    SN_TRY(op_apply_t(op, s->Y, b, s->blk));
    SN_TRY(kry_coef(s, op->p, s->blk));
    for (int i = 0; i < m; i++)
        for (int c = 0; c < b; c++) {
            int col = j * b + c;
            if (i <= col) {
                s->M[(size_t)i * cap + col] = s->C[(size_t)i * b + c];
                s->M[(size_t)col * cap + i] = s->C[(size_t)i * b + c];
            }
        }
    for (int i = 0; i < m; i++)
        memcpy(s->Mt + (size_t)i * m, s->M + (size_t)i * cap, (size_t)m * sizeof(double));
    return eig_top(s->Mt, m, k, s->theta, s->vec);
}

/* Next block: AᵀA applied to the newest block (in s->blk, its coefficients
 * in s->C), orthogonalised against the basis twice ("twice is enough"),
 * then QR. */
static int kry_extend(const op_t *op, kry_t *s)
{
    kry_add(s, op->p, s->b, -1.0, s->blk);
    SN_TRY(kry_coef(s, op->p, s->blk));
    kry_add(s, op->p, s->b, -1.0, s->blk);
    SN_TRY(orthonormalise(s->blk, op->p, s->b));
    return kry_push(s, op->p);
}

static int solve_randomized(const op_t *op, const sn_pca_opts *o, int k, double *lam, double *scores,
                            double *V, int *iters)
{
    int64_t mn = op->n < op->p ? op->n : op->p;
    kry_t s = {0};
    s.b = (k + (o->oversample > 0 ? o->oversample : 0) + 3) / 4 * 4;
    s.b = s.b > mn ? (int)mn : s.b;
    s.depth = o->max_iter > 0 ? o->max_iter : 1;
    while (s.depth > 1 && (int64_t)s.depth * s.b > mn)
        s.depth--;
    SN_TRY(kry_alloc(&s, op->n, op->p, k));
    gaussian_start(s.blk, op->p, s.b, o->seed);
    int rc = orthonormalise(s.blk, op->p, s.b);
    if (rc == SN_OK)
        rc = kry_push(&s, op->p);
    while (rc == SN_OK) {
        if ((rc = kry_step(op, &s, k)) < 0)
            break;
        if ((s.nq > 1 && converged(s.theta, s.prev, k, o->tol)) || s.nq >= s.depth)
            break;
        memcpy(s.prev, s.theta, (size_t)k * sizeof *s.prev);
        rc = kry_extend(op, &s);
    }
    if (rc == SN_OK) {
        /* Rayleigh-Ritz: V = Q w for the top-k eigenvectors w of M */
        int m = s.nq * s.b;
        memset(V, 0, sn_mul_size((size_t)op->p, (size_t)k * sizeof *V));
        for (int t = 0; t < k; t++) {
            lam[t] = s.theta[t] > 0 ? s.theta[t] : 0;
            for (int i = 0; i < m; i++)
                s.C[(size_t)i * k + t] = s.vec[(size_t)t * m + i];
        }
        kry_add(&s, op->p, k, 1.0, V);
        op_apply(op, V, k, scores, s.qs);
        *iters = s.nq;
    }
    kry_free(&s);
    return rc;
}

/* ---- driver ---- */

/* svd_flip(u_based_decision=False): the largest |loading| (first on ties)
 * of each component is made positive. */
static void flip_signs(int64_t n, int64_t p, int k, double *scores, double *V)
{
    for (int t = 0; t < k; t++) {
        int64_t best = 0;
        for (int64_t j = 1; j < p; j++)
            if (fabs(V[j * k + t]) > fabs(V[best * k + t]))
                best = j;
        if (V[best * k + t] >= 0)
            continue;
        for (int64_t j = 0; j < p; j++)
            V[j * k + t] = -V[j * k + t];
        for (int64_t i = 0; i < n; i++)
            scores[i * k + t] = -scores[i * k + t];
    }
}

static int store(const op_t *op, int k, const double *lam, const double *scores, const double *V, sn_pca *p)
{
    p->n_obs = op->n;
    p->n_var = op->x->ncol;
    p->k = k;
    p->total_variance = op->total;
    SN_TRY(sn_mat_alloc(&p->scores, op->n, k));
    SN_TRY(sn_mat_zeros(&p->loadings, op->x->ncol, k));
    p->variance = sn_malloc((size_t)k * sizeof(double), "PCA variances");
    p->variance_ratio = sn_malloc((size_t)k * sizeof(double), "PCA variances");
    if (!p->variance || !p->variance_ratio)
        return SN_ENOMEM;
    for (int64_t e = 0; e < op->n * k; e++)
        p->scores.data[e] = (float)scores[e];
    for (int64_t t = 0; t < op->p; t++)
        for (int c = 0; c < k; c++)
            p->loadings.data[op->inv[t] * k + c] = (float)V[t * k + c];
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
                                 "%lld genes)", k, k, (long long)op.n, (long long)op.p);
    }
    sn_pca_solver solver = o->solver;
    if (solver == SN_PCA_AUTO)
        solver = mn <= SN_PCA_EXACT_MAX ? SN_PCA_EXACT : SN_PCA_RANDOMIZED;
    double *lam = sn_malloc((size_t)k * sizeof *lam, "eigenvalues");
    double *scores = sn_malloc(sn_mul_size((size_t)op.n, (size_t)k * sizeof *scores), "PCA scores");
    double *V = sn_malloc(sn_mul_size((size_t)op.p, (size_t)k * sizeof *V), "PCA loadings");
    int rc = lam && scores && V ? SN_OK : SN_ENOMEM, nthr = sn_blas_serial_begin();
    if (rc == SN_OK && solver == SN_PCA_EXACT)
        rc = solve_exact(&op, k, lam, scores, V);
    else if (rc == SN_OK)
        rc = solve_randomized(&op, o, k, lam, scores, V, &p->iterations);
    sn_blas_serial_end(nthr);
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
    int nthr = sn_blas_serial_begin();
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
    sn_blas_serial_end(nthr);
    free(qa);
    return rc;
}
