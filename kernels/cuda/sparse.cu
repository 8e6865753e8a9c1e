/* Sparse ops of the CUDA backend as custom kernels.  Each output element
 * is accumulated by one thread in CSR order, the order of the CPU
 * backend, so results are deterministic and the same every run; no
 * library workspace, no atomics.  The matrices here are graphs (tens of
 * neighbours per row) and the dense operands are row-major with the
 * feature axis contiguous, which coalesced row-gather kernels serve well. */
#include "cu.h"
#include "reduce.h"
#include "scnet/kbody.h"

#define T SN_CU_THREADS
#define GRID(n) sn_cu_blocks((n), T)

/* spmm: a warp per row of A (8 rows per block), each lane SPMM_J columns
 * of a 32·SPMM_J column tile (blockIdx.y). */
#define SPMM_J 4
#define SPMM_TILE (32 * SPMM_J)

__global__ void k_spmm(int nrow, const int32_t *ptr, const int32_t *col, const real *val, const real *X, int ldx,
                       int ncol, real alpha, real beta, real *Y, int ldy)
{
    int i = blockIdx.x * 8 + threadIdx.y;
    if (i >= nrow)
        return;
    int c0 = blockIdx.y * SPMM_TILE + threadIdx.x;
    real *y = Y + (int64_t)i * ldy;
    real acc[SPMM_J];
    for (int j = 0; j < SPMM_J; j++) {
        int c = c0 + 32 * j;
        acc[j] = c >= ncol || beta == 0 ? (real)0 : beta == 1 ? y[c] : beta * y[c];
    }
    for (int32_t k = ptr[i]; k < ptr[i + 1]; k++) {
        const real *x = X + (int64_t)col[k] * ldx;
        real a = alpha * val[k];
        for (int j = 0; j < SPMM_J; j++) {
            int c = c0 + 32 * j;
            if (c < ncol)
                acc[j] += a * x[c];
        }
    }
    for (int j = 0; j < SPMM_J; j++) {
        int c = c0 + 32 * j;
        if (c < ncol)
            y[c] = acc[j];
    }
}

static void cu_spmm(sn_ops *o, const sn_dcsr *A, const real *X, int ldx, int ncol, real alpha, real beta, real *Y,
                    int ldy)
{
    sn_cuda *c = sn_cu(o);
    if (A->nrow <= 0 || ncol <= 0)
        return;
    dim3 grid((unsigned)((A->nrow + 7) / 8), (unsigned)((ncol + SPMM_TILE - 1) / SPMM_TILE)), block(32, 8);
    SN_LAUNCH(k_spmm, grid, block, c->stream, A->nrow, (const int32_t *)A->ptr, (const int32_t *)A->col,
              (const real *)A->val, X, ldx, ncol, alpha, beta, Y, ldy);
    SN_CU_LAUNCHED(c, "spmm");
}

/* spmm_rt: Y[r, i] = Σ_k A.val[k]·X[r, A.col[k]]: a thread per row i of A
 * (consecutive threads, consecutive i: coalesced writes) and RT_R rows r,
 * so each nonzero is loaded once for RT_R outputs. */
#define RT_R 4

__global__ void k_spmm_rt(const real *X, int m, int ldx, int nrow, const int32_t *ptr, const int32_t *col,
                          const real *val, real beta, real *Y, int ldy)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x, r0 = blockIdx.y * RT_R;
    if (i >= nrow)
        return;
    real acc[RT_R] = {0};
    int nr = m - r0 < RT_R ? m - r0 : RT_R;
    for (int32_t k = ptr[i]; k < ptr[i + 1]; k++) {
        real v = val[k];
        int32_t cj = col[k];
        for (int q = 0; q < nr; q++)
            acc[q] += v * X[(int64_t)(r0 + q) * ldx + cj];
    }
    for (int q = 0; q < nr; q++) {
        real *y = Y + (int64_t)(r0 + q) * ldy + i;
        *y = beta == 0 ? acc[q] : beta * *y + acc[q];
    }
}

static void cu_spmm_rt(sn_ops *o, const real *X, int m, int ldx, const sn_dcsr *A, real beta, real *Y, int ldy)
{
    sn_cuda *c = sn_cu(o);
    if (m <= 0 || A->nrow <= 0)
        return;
    /* grid.y is limited to 65535: rows beyond go to further launches */
    const int ymax = 65535 * RT_R;
    for (int r0 = 0; r0 < m; r0 += ymax) {
        int mm = m - r0 < ymax ? m - r0 : ymax;
        dim3 grid((unsigned)((A->nrow + 127) / 128), (unsigned)((mm + RT_R - 1) / RT_R));
        SN_LAUNCH(k_spmm_rt, grid, 128, c->stream, X + (int64_t)r0 * ldx, mm, ldx, A->nrow, (const int32_t *)A->ptr,
                  (const int32_t *)A->col, (const real *)A->val, beta, Y + (int64_t)r0 * ldy, ldy);
    }
    SN_CU_LAUNCHED(c, "spmm_rt");
}

/* sddmm: a warp per pair, lanes over the feature axis. */
__global__ void k_sddmm(const int32_t *ri, const int32_t *ci, int64_t ne, const real *A, int lda, const real *B,
                        int ldb, int d, real alpha, real *out)
{
    int64_t e = (int64_t)blockIdx.x * 8 + threadIdx.y;
    real acc = 0;
    if (e < ne) {
        const real *a = A + (int64_t)ri[e] * lda, *b = B + (int64_t)ci[e] * ldb;
        for (int c = threadIdx.x; c < d; c += 32)
            acc += a[c] * b[c];
    }
    for (int off = 16; off > 0; off >>= 1)
        acc += __shfl_down_sync(0xffffffffu, acc, off);
    if (threadIdx.x == 0 && e < ne)
        out[e] = alpha * acc;
}

static void cu_sddmm(sn_ops *o, const int32_t *ri, const int32_t *ci, int64_t ne, const real *A, int lda,
                     const real *B, int ldb, int d, real alpha, real *out)
{
    sn_cuda *c = sn_cu(o);
    if (ne <= 0)
        return;
    for (int64_t e0 = 0; e0 < ne; e0 += (int64_t)8 << 30) { /* grid.x < 2^31 */
        int64_t n = ne - e0 < ((int64_t)8 << 30) ? ne - e0 : (int64_t)8 << 30;
        SN_LAUNCH(k_sddmm, (unsigned)((n + 7) / 8), dim3(32, 8), c->stream, ri + e0, ci + e0, n, A, lda, B, ldb, d,
                  alpha, out + e0);
    }
    SN_CU_LAUNCHED(c, "sddmm");
}

/* Softmax per row segment: the kernel body of the CPU backend, a thread
 * per row. */
__global__ void k_softmax_rows(int nrow, const int32_t *ptr, const real *s, real *a, real *ad, double p,
                               uint64_t key, uint64_t stream)
{
    SN_CU_FOR(i, nrow)
    sn_k_softmax_seg(ptr[i], ptr[i + 1], s, a, ad, p, key, stream);
}

static void cu_softmax_rows(sn_ops *o, const sn_dcsr *A, const real *s, real *a, real *ad, const sn_drop *d)
{
    sn_cuda *c = sn_cu(o);
    if (A->nrow <= 0)
        return;
    SN_LAUNCH(k_softmax_rows, GRID(A->nrow), T, c->stream, A->nrow, (const int32_t *)A->ptr, s, a, ad, d->p, d->key,
              d->stream);
    SN_CU_LAUNCHED(c, "softmax_rows");
}

__global__ void k_softmax_rows_bwd(int nrow, const int32_t *ptr, const real *a, const real *dad, real *ds, double p,
                                   uint64_t key, uint64_t stream)
{
    SN_CU_FOR(i, nrow)
    sn_k_softmax_seg_bwd(ptr[i], ptr[i + 1], a, dad, ds, p, key, stream);
}

static void cu_softmax_rows_bwd(sn_ops *o, const sn_dcsr *A, const real *a, const real *dad, real *ds,
                                const sn_drop *d)
{
    sn_cuda *c = sn_cu(o);
    if (A->nrow <= 0)
        return;
    SN_LAUNCH(k_softmax_rows_bwd, GRID(A->nrow), T, c->stream, A->nrow, (const int32_t *)A->ptr, a, dad, ds, d->p,
              d->key, d->stream);
    SN_CU_LAUNCHED(c, "softmax_rows_bwd");
}

void sn_cu_set_sparse(sn_ops *o)
{
    o->spmm = cu_spmm;
    o->spmm_rt = cu_spmm_rt;
    o->sddmm = cu_sddmm;
    o->softmax_rows = cu_softmax_rows;
    o->softmax_rows_bwd = cu_softmax_rows_bwd;
}
