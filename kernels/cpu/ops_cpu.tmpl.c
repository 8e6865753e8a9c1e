/* CPU backend: OpenBLAS for dense products, OpenMP loops over the shared
 * kernel bodies for everything else.  Reductions run over fixed blocks
 * combined in order, so results are the same for any thread count. */
#include "scnet/kbody.h"
#include "scnet/ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/err.h"
#include "scnet/mem.h"

#if SN_REAL_F64
#define GEMM cblas_dgemm
#else
#define GEMM cblas_sgemm
#endif

#define BLK 4096 /* reduction block: fixed, so sums do not depend on threads */
/* Parallel only when there is enough work to pay for waking threads. */
#define PAR(work) if ((double)(work) > 32768.0)

static void *cpu_alloc(sn_ops *o, size_t bytes)
{
    void *p = sn_calloc(1, bytes, "model buffers");
    if (p) {
        o->bytes_in_use += bytes;
        if (o->bytes_in_use > o->bytes_peak)
            o->bytes_peak = o->bytes_in_use;
    }
    return p;
}

static void cpu_free(sn_ops *o, void *p) { free(p); }
/* (bytes_in_use is a high-water estimate: frees are not sized.) */
static void cpu_memcpy(sn_ops *o, void *d, const void *s, size_t n) { if (n) memmove(d, s, n); }
static int cpu_sync(sn_ops *o) { return SN_OK; }
static void cpu_destroy(sn_ops *o) { free(o); }

static void cpu_fill(sn_ops *o, real *x, int64_t n, real v)
{
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t i = 0; i < n; i++)
        x[i] = v;
}

/* Tiles of C for one product, a function of the shape and of the
 * machine's processor count (set once by sn_ops_cpu_new, never by the
 * thread count): about one tile per 2^26 multiply-adds, at most one per
 * processor (each tile packs its operands again, so on two cores two
 * tiles run the model's products 7-10% faster than sixteen), made by
 * halving the longer side in multiples of 16; a small product stays whole. */
static int tile_cap = 32;

typedef struct {
    int tm, tn, nm, nn;
} tiling;

static tiling gemm_tiles(int m, int n, int k)
{
    double want = (double)m * n * k / (double)(1 << 26), most = want < tile_cap ? want : tile_cap;
    tiling t = {m, n, 1, 1};
    while (2.0 * t.nm * t.nn <= most) {
        int *side = t.tn >= t.tm ? &t.tn : &t.tm;
        int half = ((*side + 1) / 2 + 15) / 16 * 16;
        if (half >= *side)
            break;
        *side = half;
        t.nm = (m + t.tm - 1) / t.tm;
        t.nn = (n + t.tn - 1) / t.tn;
    }
    return t;
}

/* One BLAS call per tile inside a parallel region, where OpenBLAS runs
 * single-threaded: every element is computed by the same call whatever the
 * number of threads (OpenBLAS's own threading does not give that), and
 * threads never wait on each other inside BLAS.  The region has no if
 * clause on purpose: a region that is not active would let OpenBLAS
 * thread the call itself.  With one OpenMP thread the programs also set
 * OpenBLAS to one (cli.c). */
static void cpu_gemm(sn_ops *o, int ta, int tb, int m, int n, int k, real alpha, const real *A, int lda,
                     const real *B, int ldb, real beta, real *C, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                C[(int64_t)i * ldc + j] *= beta;
        return;
    }
    tiling t = gemm_tiles(m, n, k);
#pragma omp parallel for schedule(dynamic, 1)
    for (int q = 0; q < t.nm * t.nn; q++) {
        int i0 = q / t.nn * t.tm, j0 = q % t.nn * t.tn;
        int mi = m - i0 < t.tm ? m - i0 : t.tm, nj = n - j0 < t.tn ? n - j0 : t.tn;
        const real *Ai = ta ? A + i0 : A + (int64_t)i0 * lda;
        const real *Bj = tb ? B + (int64_t)j0 * ldb : B + j0;
        GEMM(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, mi, nj, k, alpha, Ai,
             lda, Bj, ldb, beta, C + (int64_t)i0 * ldc + j0, ldc);
    }
}

static void adam_block(real *restrict W, const real *restrict G, real *restrict M, real *restrict V, int64_t n,
                       const sn_adam_hp *h)
{
    double bc1 = 1 - pow(h->beta1, (double)h->t), bc2s = sqrt(1 - pow(h->beta2, (double)h->t));
    const sn_k_adam_c c = sn_k_adam_consts(h->lr, h->beta1, h->beta2, h->eps, h->wd, bc1, bc2s);
#pragma omp parallel for simd schedule(static) PAR(n)
    for (int64_t i = 0; i < n; i++)
        sn_k_adam(&W[i], G[i], &M[i], &V[i], &c);
}

static void cpu_adam(sn_ops *o, real *W, const real *G, real *M, real *V, int64_t n, const sn_adam_hp *h)
{
    adam_block(W, G, M, V, n, h);
}

/* Gradient panels of at most ~8 MiB: big enough for GEMM efficiency,
 * small enough that the full gradient of a G×G weight never exists. */
static void cpu_gemm_adam(sn_ops *o, int ta, int tb, int m, int n, int k, const real *A, int lda, const real *B,
                          int ldb, real *W, real *M, real *V, const sn_adam_hp *h)
{
    int rows = (int)((8 << 20) / sizeof(real) / (size_t)(n > 0 ? n : 1));
    rows = rows < 16 ? 16 : rows > m ? m : rows;
    real *panel = malloc((size_t)rows * (size_t)n * sizeof(real));
    if (!panel) { /* fall back to row-at-a-time panels */
        rows = 1;
        panel = malloc((size_t)n * sizeof(real));
    }
    for (int r0 = 0; r0 < m; r0 += rows) {
        int r = m - r0 < rows ? m - r0 : rows;
        const real *Ap = ta ? A + r0 : A + (int64_t)r0 * lda;
        cpu_gemm(o, ta, tb, r, n, k, 1, Ap, lda, B, ldb, 0, panel, n);
        int64_t off = (int64_t)r0 * n;
        adam_block(W + off, panel, M + off, V + off, (int64_t)r * n, h);
    }
    free(panel);
}

static void cpu_transpose(sn_ops *o, const real *X, int rows, int cols, int ldx, real *Y, int ldy)
{
    const int T = 32;
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int jb = 0; jb < cols; jb += T)
        for (int ib = 0; ib < rows; ib += T)
            for (int j = jb; j < jb + T && j < cols; j++)
                for (int i = ib; i < ib + T && i < rows; i++)
                    Y[(int64_t)j * ldy + i] = X[(int64_t)i * ldx + j];
}

static void cpu_axpy(sn_ops *o, int64_t n, real alpha, const real *X, real *Y)
{
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t i = 0; i < n; i++)
        Y[i] += alpha * X[i];
}

/* Columns [0, w) of one output row of Y = alpha·A·X + beta·Y, w at most
 * SPMM_CB, held in registers across the row's entries: Y is written once
 * per block, not once per entry.  Each element still sums beta·y, then the
 * entries in order, so the result is the one the plain loop gives.  Inlined
 * with w = SPMM_CB, the loops unroll into vector registers. */
#define SPMM_CB 32
static inline __attribute__((always_inline)) void spmm_span(const sn_dcsr *A, int i, const real *X, int ldx, int w,
                                                            real alpha, real beta, real *y)
{
    real acc[SPMM_CB];
#pragma GCC unroll 32
    for (int c = 0; c < w; c++)
        acc[c] = beta == 0 ? (real)0 : beta == 1 ? y[c] : beta * y[c];
    for (int32_t k = A->ptr[i]; k < A->ptr[i + 1]; k++) {
        const real *x = X + (int64_t)A->col[k] * ldx, a = alpha * A->val[k];
#pragma GCC unroll 32
        for (int c = 0; c < w; c++)
            acc[c] += a * x[c];
    }
#pragma GCC unroll 32
    for (int c = 0; c < w; c++)
        y[c] = acc[c];
}

static void spmm_row(const sn_dcsr *A, int i, const real *X, int ldx, int ncol, real alpha, real beta, real *y)
{
    int c0 = 0;
    for (; c0 + SPMM_CB <= ncol; c0 += SPMM_CB)
        spmm_span(A, i, X + c0, ldx, SPMM_CB, alpha, beta, y + c0);
    if (c0 < ncol)
        spmm_span(A, i, X + c0, ldx, ncol - c0, alpha, beta, y + c0);
}

static void cpu_spmm(sn_ops *o, const sn_dcsr *A, const real *X, int ldx, int ncol, real alpha, real beta, real *Y,
                     int ldy)
{
#pragma omp parallel for schedule(dynamic, 16) PAR((double)A->nnz * ncol + A->nrow)
    for (int i = 0; i < A->nrow; i++)
        spmm_row(A, i, X, ldx, ncol, alpha, beta, Y + (int64_t)i * ldy);
}

static void cpu_spmm_rt(sn_ops *o, const real *X, int m, int ldx, const sn_dcsr *A, real beta, real *Y, int ldy)
{
#pragma omp parallel for schedule(static) PAR((double)m * (A->nnz + A->nrow))
    for (int r = 0; r < m; r++) {
        const real *x = X + (int64_t)r * ldx;
        real *y = Y + (int64_t)r * ldy;
        for (int i = 0; i < A->nrow; i++) {
            real acc = 0;
            for (int32_t k = A->ptr[i]; k < A->ptr[i + 1]; k++)
                acc += A->val[k] * x[A->col[k]];
            y[i] = beta == 0 ? acc : beta * y[i] + acc;
        }
    }
}

static void cpu_sddmm(sn_ops *o, const int32_t *ri, const int32_t *ci, int64_t ne, const real *A, int lda,
                      const real *B, int ldb, int d, real alpha, real *out)
{
#pragma omp parallel for schedule(static) PAR((double)ne * d)
    for (int64_t e = 0; e < ne; e++) {
        const real *a = A + (int64_t)ri[e] * lda, *b = B + (int64_t)ci[e] * ldb;
        real acc = 0;
        for (int c = 0; c < d; c++)
            acc += a[c] * b[c];
        out[e] = alpha * acc;
    }
}

/* Threads own column ranges, so every row is updated in pair order. */
static void cpu_pair_scatter(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, int64_t ne,
                             const real *Z, int ldz, int d, real *dZ, int lddz)
{
    /* one column range per thread: each range is one pass over the pairs
     * (the sums do not depend on the ranges) */
    int nt = omp_get_max_threads(), W = ((d + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel for schedule(static) PAR((double)ne * d)
    for (int c0 = 0; c0 < d; c0 += W) {
        int c1 = c0 + W < d ? c0 + W : d;
        for (int64_t e = 0; e < ne; e++) {
            const real *zi = Z + (int64_t)ri[e] * ldz, *zj = Z + (int64_t)ci[e] * ldz;
            real *di = dZ + (int64_t)ri[e] * lddz, *dj = dZ + (int64_t)ci[e] * lddz;
            for (int c = c0; c < c1; c++) {
                di[c] += g[e] * zj[c];
                dj[c] += g[e] * zi[c];
            }
        }
    }
}

static void cpu_pair_diag(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, const real *x,
                          int64_t ne, real *c)
{
    for (int64_t e = 0; e < ne; e++) {
        c[ri[e]] += g[e] * x[e];
        c[ci[e]] += g[e] * x[e];
    }
}

static void cpu_gather(sn_ops *o, const real *src, const int32_t *idx, int64_t n, real *dst)
{
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t i = 0; i < n; i++)
        dst[i] = src[idx[i]];
}

/* The dropout multipliers of elements 4 q0 .. 4 q0 + 4 SN_PHILOX_LANES - 1
 * (sn_k_dropmul4's values, from one lane-wise Philox call). */
static void drop_muls(const sn_drop *d, uint64_t q0, real scale, real *mul)
{
    uint32_t w[SN_PHILOX_LANES][4];
    if (d->p <= 0) {
        for (int t = 0; t < 4 * SN_PHILOX_LANES; t++)
            mul[t] = (real)1;
        return;
    }
    sn_philox_lanes(d->key, d->stream, q0, w);
    const float p = (float)d->p;
    for (int t = 0; t < 4 * SN_PHILOX_LANES; t++)
        mul[t] = sn_philox_word_u01(w[t / 4][t % 4]) < p ? (real)0 : scale;
}

/* Contiguous runs of elements, in functions of their own: inside the
 * chunk loop GCC 12 leaves these element loops scalar and branchy. */
static void act_run(real *restrict x, const real *restrict mul, int len, real slope)
{
#pragma omp simd
    for (int t = 0; t < len; t++)
        x[t] = sn_k_act(x[t], slope, mul[t]);
}

static void act_bwd_run(const real *restrict y, real *restrict dx, const real *restrict mul, int len, real slope)
{
#pragma omp simd
    for (int t = 0; t < len; t++)
        dx[t] = sn_k_act_bwd(y[t], dx[t], slope, mul[t]);
}

/* Apply run to every element with its dropout multiplier, by chunks of
 * 4 SN_PHILOX_LANES elements of logical index r·cols + c (which does not
 * depend on ld).  run gets the segment of the chunk that lies in one row:
 * element k, multipliers mul + t, seg of them; with contiguous rows (the
 * usual case) the segment is the whole chunk, found without a division. */
#define DROP_LOOP(run)                                                                       \
    const int64_t n = (int64_t)rows * cols, CH = 4 * SN_PHILOX_LANES, nch = (n + CH - 1) / CH; \
    const real scale = d->p > 0 ? (real)(1.0 / (1.0 - d->p)) : (real)1;                     \
    _Pragma("omp parallel for schedule(static) PAR(n)")                                       \
    for (int64_t ch = 0; ch < nch; ch++) {                                                    \
        real mul[4 * SN_PHILOX_LANES];                                                        \
        drop_muls(d, (uint64_t)ch * SN_PHILOX_LANES, scale, mul);                             \
        const int len = (int)(n - ch * CH < CH ? n - ch * CH : CH);                           \
        for (int t = 0, seg; t < len; t += seg) {                                             \
            const int64_t e = ch * CH + t, c = ld == cols ? 0 : e % cols;                     \
            const int64_t k = ld == cols ? e : e / cols * ld + c;                             \
            seg = ld == cols || cols - c > len - t ? len - t : (int)(cols - c);               \
            run;                                                                              \
        }                                                                                     \
    }

static void cpu_act(sn_ops *o, real *X, int rows, int cols, int ld, real slope, const sn_drop *d)
{
    DROP_LOOP(act_run(X + k, mul + t, seg, slope))
}

static void cpu_act_bwd(sn_ops *o, const real *Y, real *dX, int rows, int cols, int ld, real slope,
                        const sn_drop *d)
{
    DROP_LOOP(act_bwd_run(Y + k, dX + k, mul + t, seg, slope))
}

static void cpu_add_bias(sn_ops *o, real *X, int rows, int cols, int ld, const real *b, int axis)
{
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            X[(int64_t)r * ld + c] += axis == 0 ? b[c] : b[r];
}

static void cpu_sum(sn_ops *o, const real *X, int rows, int cols, int ld, int axis, real beta, real *out)
{
    if (axis == 1) {
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
        for (int r = 0; r < rows; r++) {
            real acc = 0;
            for (int c = 0; c < cols; c++)
                acc += X[(int64_t)r * ld + c];
            out[r] = acc + (beta == 0 ? 0 : beta * out[r]);
        }
        return;
    }
    const int W = 64;
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int c0 = 0; c0 < cols; c0 += W) {
        int c1 = c0 + W < cols ? c0 + W : cols;
        real acc[64] = {0};
        for (int r = 0; r < rows; r++)
            for (int c = c0; c < c1; c++)
                acc[c - c0] += X[(int64_t)r * ld + c];
        for (int c = c0; c < c1; c++)
            out[c] = acc[c - c0] + (beta == 0 ? 0 : beta * out[c]);
    }
}

/* Mean of column c (row stride ld), summed in double in row order. */
static double col_mean(const real *Y, int rows, int ld, int c)
{
    double s = 0;
    for (int r = 0; r < rows; r++)
        s += Y[(int64_t)r * ld + c];
    return s / rows;
}

static void cpu_colstd(sn_ops *o, const real *Y, int rows, int cols, int ld, real eps, real *stats, real *Yh)
{
    real *mean = stats, *sd = stats + cols;
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int c = 0; c < cols; c++) {
        double m = col_mean(Y, rows, ld, c), ss = 0;
        for (int r = 0; r < rows; r++) {
            double dv = Y[(int64_t)r * ld + c] - m;
            ss += dv * dv;
        }
        mean[c] = (real)m;
        sd[c] = rows > 1 ? (real)sqrt(ss / (rows - 1)) : 0;
    }
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            Yh[(int64_t)r * cols + c] = (Y[(int64_t)r * ld + c] - mean[c]) / (sd[c] + eps);
}

static void cpu_colstd_bwd(sn_ops *o, const real *Yh, const real *dYh, int rows, int cols, int ld, real eps,
                           const real *stats, real *dY)
{
    const real *sd = stats + cols;
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int c = 0; c < cols; c++) {
        real s1 = 0, s2 = 0;
        for (int r = 0; r < rows; r++) {
            real d = dYh[(int64_t)r * cols + c];
            s1 += d;
            s2 += d * Yh[(int64_t)r * cols + c];
        }
        real mean = s1 / rows, inv = (real)1 / (sd[c] + eps);
        real k = sd[c] > 0 && rows > 1 ? s2 / (sd[c] * (rows - 1)) : 0;
        for (int r = 0; r < rows; r++) {
            int64_t i = (int64_t)r * cols + c;
            dY[(int64_t)r * ld + c] += (dYh[i] - mean) * inv - Yh[i] * k;
        }
    }
}

/* The per-row or per-block partials of a reduction added in their order
 * (the same sum for any thread count), and freed.  A NULL part (its
 * allocation failed) sums to 0, as the loops above leave it. */
static double sum_parts(double *part, int64_t n)
{
    double t = 0;
    for (int64_t i = 0; part && i < n; i++)
        t += part[i];
    free(part);
    return t;
}

static void cpu_mse(sn_ops *o, const real *X, const real *Yh, const real *mask, int rows, int cols, int ld,
                    real scale, real *loss, real *dYh)
{
    double *part = malloc((size_t)rows * sizeof *part);
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int r = 0; r < rows; r++) {
        double acc = 0;
        for (int c = 0; c < cols; c++) {
            int64_t k = (int64_t)r * cols + c;
            real diff = X[(int64_t)r * ld + c] - Yh[k];
            dYh[k] = mask[c] != 0 ? (real)-2 * scale * diff : 0;
            acc += mask[c] != 0 ? (double)diff * diff : 0;
        }
        if (part)
            part[r] = acc;
    }
    loss[0] += (real)(scale * sum_parts(part, rows));
}

static void cpu_center_norm_t(sn_ops *o, const real *Y, int rows, int cols, int ld, real *At, real *norms)
{
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int c = 0; c < cols; c++) {
        double m = col_mean(Y, rows, ld, c), ss = 0;
        real *a = At + (int64_t)c * rows;
        for (int r = 0; r < rows; r++) {
            a[r] = (real)(Y[(int64_t)r * ld + c] - m);
            ss += (double)a[r] * a[r];
        }
        real nrm = (real)sqrt(ss);
        norms[c] = nrm;
        for (int r = 0; r < rows; r++)
            a[r] = nrm > 0 ? a[r] / nrm : 0;
    }
}

static void cpu_corr_back(sn_ops *o, const real *At, const real *dAt, const real *c, const real *norms, int rows,
                          int cols, real *dY, int ldy)
{
#pragma omp parallel for schedule(static) PAR((double)rows * cols)
    for (int j = 0; j < cols; j++) {
        if (!(norms[j] > 0))
            continue;
        const real *a = At + (int64_t)j * rows, *da = dAt + (int64_t)j * rows;
        for (int r = 0; r < rows; r++)
            dY[(int64_t)r * ldy + j] += (da[r] - c[j] * a[r]) / norms[j];
    }
}

static void cpu_bce(sn_ops *o, const real *x, int64_t n, int positive, real scale, real eps, real lo, real hi,
                    real *loss, real *g)
{
    int64_t nb = (n + BLK - 1) / BLK;
    double *part = calloc((size_t)(nb ? nb : 1), sizeof *part);
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t b = 0; b < nb; b++) {
        double acc = 0;
        for (int64_t i = b * BLK; i < n && i < (b + 1) * BLK; i++) {
            real xi = x[i] < lo ? lo : x[i] > hi ? hi : x[i], d;
            acc += sn_k_bce(xi, positive, eps, &d);
            g[i] = scale * d;
        }
        if (part)
            part[b] = acc;
    }
    loss[0] += (real)(scale * sum_parts(part, nb));
}

static void cpu_softmax_rows(sn_ops *o, const sn_dcsr *A, const real *s, real *a, real *ad, const sn_drop *d)
{
#pragma omp parallel for schedule(dynamic, 64) PAR(A->nnz * 8.0)
    for (int i = 0; i < A->nrow; i++)
        sn_k_softmax_seg(A->ptr[i], A->ptr[i + 1], s, a, ad, d->p, d->key, d->stream);
}

static void cpu_softmax_rows_bwd(sn_ops *o, const sn_dcsr *A, const real *a, const real *dad, real *ds,
                                 const sn_drop *d)
{
#pragma omp parallel for schedule(dynamic, 64) PAR(A->nnz * 8.0)
    for (int i = 0; i < A->nrow; i++)
        sn_k_softmax_seg_bwd(A->ptr[i], A->ptr[i + 1], a, dad, ds, d->p, d->key, d->stream);
}

/* Σ f over blocks of BLK, combined in order. */
static double block_sum2(const real *x, const real *y, int64_t n, double shift)
{
    int64_t nb = (n + BLK - 1) / BLK;
    double *part = calloc((size_t)(nb ? nb : 1), sizeof *part);
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t b = 0; b < nb; b++) {
        double acc = 0;
        for (int64_t i = b * BLK; i < n && i < (b + 1) * BLK; i++)
            acc += ((double)x[i] - shift) * (y ? (double)y[i] - shift : 1.0);
        if (part)
            part[b] = acc;
    }
    return sum_parts(part, nb);
}

static void cpu_sigatt(sn_ops *o, const real *s, int64_t n, real temp, real *alpha, real *stats)
{
    double mean = 0, sd = 0;
    if (n >= 2) {
        mean = block_sum2(s, NULL, n, 0) / (double)n;
        sd = sqrt(block_sum2(s, s, n, mean) / (double)(n - 1));
    }
    stats[0] = (real)mean;
    stats[1] = (real)sd;
    int stdz = n >= 2 && sd > 0;
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t e = 0; e < n; e++)
        alpha[e] = sn_k_sigmoid(temp * (stdz ? (s[e] - stats[0]) / stats[1] : s[e]));
}

static void cpu_sigatt_bwd(sn_ops *o, const real *s, const real *alpha, const real *dalpha, int64_t n, real temp,
                           const real *stats, real *ds)
{
    real mean = stats[0], sd = stats[1];
    /* dz and dz·z first, into ds, then the global sums. */
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t e = 0; e < n; e++)
        ds[e] = temp * dalpha[e] * alpha[e] * ((real)1 - alpha[e]);
    real sum_dz = 0, sum_dzz = 0;
    if (n >= 2 && sd > 0) {
        real *z = malloc((size_t)n * sizeof *z);
        if (z) {
#pragma omp parallel for schedule(static) PAR(n)
            for (int64_t e = 0; e < n; e++)
                z[e] = (s[e] - mean) / sd;
            sum_dz = (real)block_sum2(ds, NULL, n, 0);
            sum_dzz = (real)block_sum2(ds, z, n, 0);
            free(z);
        }
    }
#pragma omp parallel for schedule(static) PAR(n)
    for (int64_t e = 0; e < n; e++)
        ds[e] = sn_k_sigatt_bwd(s[e], alpha[e], dalpha[e], temp, mean, sd, sum_dz, sum_dzz, n);
}

sn_ops *SN_R(sn_ops_cpu_new)(void)
{
    sn_ops *o = sn_calloc(1, sizeof *o, "the CPU backend");
    if (!o)
        return NULL;
    /* configured, not online or allowed processors: fixed for a machine
     * whatever the affinity, so -t and taskset leave the bytes alone */
    long procs = sysconf(_SC_NPROCESSORS_CONF);
    tile_cap = procs < 1 ? 1 : procs > 32 ? 32 : (int)procs;
    o->name = "cpu";
    o->alloc = cpu_alloc;
    o->free = cpu_free;
    o->upload = o->download = o->copy = cpu_memcpy;
    o->fill = cpu_fill;
    o->sync = cpu_sync;
    o->destroy = cpu_destroy;
    o->gemm = cpu_gemm;
    o->gemm_adam = cpu_gemm_adam;
    o->transpose = cpu_transpose;
    o->axpy = cpu_axpy;
    o->spmm = cpu_spmm;
    o->spmm_rt = cpu_spmm_rt;
    o->sddmm = cpu_sddmm;
    o->pair_scatter = cpu_pair_scatter;
    o->pair_diag = cpu_pair_diag;
    o->gather = cpu_gather;
    o->act = cpu_act;
    o->act_bwd = cpu_act_bwd;
    o->add_bias = cpu_add_bias;
    o->sum = cpu_sum;
    o->colstd = cpu_colstd;
    o->colstd_bwd = cpu_colstd_bwd;
    o->mse = cpu_mse;
    o->center_norm_t = cpu_center_norm_t;
    o->corr_back = cpu_corr_back;
    o->bce = cpu_bce;
    o->adam = cpu_adam;
    o->softmax_rows = cpu_softmax_rows;
    o->softmax_rows_bwd = cpu_softmax_rows_bwd;
    o->sigatt = cpu_sigatt;
    o->sigatt_bwd = cpu_sigatt_bwd;
    return o;
}
