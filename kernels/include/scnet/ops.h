/* The compute backend: a small table of operations the model is written
 * against.  The CPU backend (OpenBLAS + OpenMP) and the CUDA backend
 * (cuBLAS, cuSPARSE, custom kernels) implement it; the model never sees
 * which.  Dense matrices are row-major with an explicit leading dimension.
 * Pointers are in the backend's memory (host memory for the CPU).  Every
 * reduction on the CPU uses fixed blocks combined in a fixed order, so the
 * results do not depend on the thread count. */
#ifndef SCNET_OPS_H
#define SCNET_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "scnet/real.h"

/* Sparse matrix in backend memory.  nnz < 2^31. */
typedef struct {
    int32_t nrow, ncol, nnz;
    int32_t *ptr; /* nrow + 1 */
    int32_t *col; /* nnz */
    real *val;    /* nnz */
} sn_dcsr;

/* Adam with coupled L2 decay (PyTorch's weight_decay): g += wd·θ before
 * the moments; t is the 1-based step. */
typedef struct {
    double lr, beta1, beta2, eps, wd;
    int64_t t;
} sn_adam_hp;

/* Dropout masks and attention dropout draw from Philox: element i of the
 * tensor identified by (key, stream). */
typedef struct {
    double p;        /* drop probability; 0 = no dropout */
    uint64_t key;    /* the run's seed */
    uint64_t stream; /* unique per step and tensor */
} sn_drop;

/* The type names are the same in both instantiations; a translation unit
 * sees one of them, and only function symbols carry the suffix. */
typedef struct sn_ops sn_ops;

struct sn_ops {
    const char *name;
    void *ctx;
    size_t bytes_in_use, bytes_peak;
    size_t mem_avail; /* a device's free memory when it was opened; 0 for host memory */

    /* ---- memory (alloc returns zeroed memory or NULL with sn_err set) ---- */
    void *(*alloc)(sn_ops *o, size_t bytes);
    void (*free)(sn_ops *o, void *p);
    void (*upload)(sn_ops *o, void *dst, const void *src, size_t bytes);
    void (*download)(sn_ops *o, void *dst, const void *src, size_t bytes);
    void (*copy)(sn_ops *o, void *dst, const void *src, size_t bytes);
    void (*fill)(sn_ops *o, real *x, int64_t n, real v);
    /* Wait for queued work; returns 0 or an error code (message set). */
    int (*sync)(sn_ops *o);
    void (*destroy)(sn_ops *o);

    /* ---- dense ---- */
    /* C = alpha·op(A)·op(B) + beta·C; op(A) m×k, op(B) k×n; ta/tb 1 = transpose. */
    void (*gemm)(sn_ops *o, int ta, int tb, int m, int n, int k, real alpha, const real *A, int lda,
                 const real *B, int ldb, real beta, real *C, int ldc);
    /* W (m×n, contiguous) takes one Adam step with gradient op(A)·op(B);
     * the gradient is never stored whole. */
    void (*gemm_adam)(sn_ops *o, int ta, int tb, int m, int n, int k, const real *A, int lda,
                      const real *B, int ldb, real *W, real *M, real *V, const sn_adam_hp *h);
    /* Y = X (rows×cols, ld) transposed (cols×rows, ldy). */
    void (*transpose)(sn_ops *o, const real *X, int rows, int cols, int ldx, real *Y, int ldy);
    /* Y += alpha·X over n contiguous elements. */
    void (*axpy)(sn_ops *o, int64_t n, real alpha, const real *X, real *Y);

    /* ---- sparse ---- */
    /* Y[i,:ncol] = alpha·Σ_j A_ij X[j,:] + beta·Y[i,:]. */
    void (*spmm)(sn_ops *o, const sn_dcsr *A, const real *X, int ldx, int ncol, real alpha, real beta, real *Y,
                 int ldy);
    /* Y[r,i] = Σ_j A_ij X[r,j] + beta·Y[r,i] for r < m: X·Aᵀ, rows gathered. */
    void (*spmm_rt)(sn_ops *o, const real *X, int m, int ldx, const sn_dcsr *A, real beta, real *Y, int ldy);
    /* out[e] = alpha·⟨A[ri[e],:d], B[ci[e],:d]⟩. */
    void (*sddmm)(sn_ops *o, const int32_t *ri, const int32_t *ci, int64_t ne, const real *A, int lda,
                  const real *B, int ldb, int d, real alpha, real *out);
    /* dZ[ri[e],:] += g[e]·Z[ci[e],:] and dZ[ci[e],:] += g[e]·Z[ri[e],:]. */
    void (*pair_scatter)(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, int64_t ne,
                         const real *Z, int ldz, int d, real *dZ, int lddz);
    /* c[ri[e]] += g[e]·x[e] and c[ci[e]] += g[e]·x[e]. */
    void (*pair_diag)(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, const real *x,
                      int64_t ne, real *c);
    /* dst[e] = src[idx[e]]. */
    void (*gather)(sn_ops *o, const real *src, const int32_t *idx, int64_t n, real *dst);

    /* ---- element-wise and row/column-wise ---- */
    /* X ← mask·φ(X)/(1−p), φ = leaky ReLU with the given slope (0 = ReLU). */
    void (*act)(sn_ops *o, real *X, int rows, int cols, int ld, real slope, const sn_drop *d);
    /* dX ← dX·φ'·mask/(1−p), φ' read from the sign of the output Y. */
    void (*act_bwd)(sn_ops *o, const real *Y, real *dX, int rows, int cols, int ld, real slope, const sn_drop *d);
    /* axis 0: X[i,j] += b[j]; axis 1: X[i,j] += b[i]. */
    void (*add_bias)(sn_ops *o, real *X, int rows, int cols, int ld, const real *b, int axis);
    /* axis 0: out[j] = Σ_i X[i,j] + beta·out[j]; axis 1: out[i] = Σ_j X[i,j] + beta·out[i]. */
    void (*sum)(sn_ops *o, const real *X, int rows, int cols, int ld, int axis, real beta, real *out);
    /* Column standardisation Yh = (Y − mean)/(sd + eps), unbiased sd;
     * stats stores mean[cols] then sd[cols]. */
    void (*colstd)(sn_ops *o, const real *Y, int rows, int cols, int ld, real eps, real *stats, real *Yh);
    /* dY += backward of colstd given dYh (rows×cols, ld). */
    void (*colstd_bwd)(sn_ops *o, const real *Yh, const real *dYh, int rows, int cols, int ld, real eps,
                       const real *stats, real *dY);
    /* MSE on the masked columns: loss[0] += scale·Σ (X − Yh)², dYh = −2·scale·(X − Yh)
     * on masked columns, 0 elsewhere. */
    void (*mse)(sn_ops *o, const real *X, const real *Yh, const real *mask, int rows, int cols, int ld,
                real scale, real *loss, real *dYh);
    /* At (cols×rows) = columns of Y centred and scaled to unit norm; norms[j]
     * (0 when a column is constant, its row of At is then 0). */
    void (*center_norm_t)(sn_ops *o, const real *Y, int rows, int cols, int ld, real *At, real *norms);
    /* dY[r,j] += (dAt[j,r] − c[j]·At[j,r]) / norms[j] (0 where norms[j] = 0). */
    void (*corr_back)(sn_ops *o, const real *At, const real *dAt, const real *c, const real *norms, int rows,
                      int cols, real *dY, int ldy);
    /* Binary cross-entropy with the reference's epsilon on scores x (clipped
     * to [lo, hi]): loss[0] += scale·Σ −log(σ(x)+eps) for positives (or
     * −log(1−σ(x)+eps)), g = ∂/∂x. */
    void (*bce)(sn_ops *o, const real *x, int64_t n, int positive, real scale, real eps, real lo, real hi,
                real *loss, real *g);
    /* One Adam step on n contiguous parameters. */
    void (*adam)(sn_ops *o, real *W, const real *G, real *M, real *V, int64_t n, const sn_adam_hp *h);

    /* ---- attention ---- */
    /* Per row of A (targets), softmax of the scores s (CSR order) into a,
     * then attention dropout into ad. */
    void (*softmax_rows)(sn_ops *o, const sn_dcsr *A, const real *s, real *a, real *ad, const sn_drop *d);
    /* ds = a·(da − Σ_row a·da), with da = dad·mask/(1−p). */
    void (*softmax_rows_bwd)(sn_ops *o, const sn_dcsr *A, const real *a, const real *dad, real *ds,
                             const sn_drop *d);
    /* Global standardisation of s (mean, unbiased sd over all n) and
     * alpha = σ(temp·(s − mean)/sd); stats ← {mean, sd}.  n < 2: no
     * standardisation. */
    void (*sigatt)(sn_ops *o, const real *s, int64_t n, real temp, real *alpha, real *stats);
    void (*sigatt_bwd)(sn_ops *o, const real *s, const real *alpha, const real *dalpha, int64_t n, real temp,
                       const real *stats, real *ds);
};

/* The CPU backend (threads as set by omp_set_num_threads). */
sn_ops *SN_R(sn_ops_cpu_new)(void);

#endif
