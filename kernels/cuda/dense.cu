/* Dense ops of the CUDA backend: cuBLAS GEMMs (row-major through the
 * operand swap), the Adam step fused after a panelled gradient GEMM, and
 * element-wise kernels over the shared kernel bodies of kbody.h. */
#include <math.h>

#include "cu.h"
#include "scnet/kbody.h"

#define T SN_CU_THREADS
#define GRID(n) sn_cu_blocks((n), T)

__global__ void k_fill(real *x, int64_t n, real v)
{
    SN_CU_FOR(i, n)
    x[i] = v;
}

static void cu_fill(sn_ops *o, real *x, int64_t n, real v)
{
    sn_cuda *c = sn_cu(o);
    if (n <= 0)
        return;
    SN_LAUNCH(k_fill, GRID(n), T, c->stream, x, n, v);
    SN_CU_LAUNCHED(c, "fill");
}

/* C *= beta, as the CPU backend does when k = 0. */
__global__ void k_scale2d(real *C, int m, int n, int ldc, real beta)
{
    SN_CU_FOR(i, (int64_t)m * n)
    C[i / n * ldc + i % n] *= beta;
}

/* Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, and a
 * row-major matrix read as column-major is its transpose. */
static void blas_gemm(sn_cuda *c, int ta, int tb, int m, int n, int k, real alpha, const real *A, int lda,
                      const real *B, int ldb, real beta, real *C, int ldc, const char *what)
{
    cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    sn_cu_note_blas(c, cublasSgemm(c->blas, opb, opa, n, m, k, &alpha, B, ldb, A, lda, &beta, C, ldc), what);
}

static void cu_gemm(sn_ops *o, int ta, int tb, int m, int n, int k, real alpha, const real *A, int lda,
                    const real *B, int ldb, real beta, real *C, int ldc)
{
    sn_cuda *c = sn_cu(o);
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        SN_LAUNCH(k_scale2d, GRID((int64_t)m * n), T, c->stream, C, m, n, ldc, beta);
        SN_CU_LAUNCHED(c, "gemm");
        return;
    }
    blas_gemm(c, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, "gemm");
}

__global__ void k_adam(real *W, const real *G, real *M, real *V, int64_t n, double lr, double b1, double b2,
                       double eps, double wd, double bc1, double bc2s)
{
    SN_CU_FOR(i, n)
    sn_k_adam(&W[i], G[i], &M[i], &V[i], lr, b1, b2, eps, wd, bc1, bc2s);
}

static void adam_launch(sn_cuda *c, real *W, const real *G, real *M, real *V, int64_t n, const sn_adam_hp *h)
{
    double bc1 = 1 - pow(h->beta1, (double)h->t), bc2s = sqrt(1 - pow(h->beta2, (double)h->t));
    SN_LAUNCH(k_adam, GRID(n), T, c->stream, W, G, M, V, n, h->lr, h->beta1, h->beta2, h->eps, h->wd, bc1, bc2s);
    SN_CU_LAUNCHED(c, "adam");
}

static void cu_adam(sn_ops *o, real *W, const real *G, real *M, real *V, int64_t n, const sn_adam_hp *h)
{
    if (n > 0)
        adam_launch(sn_cu(o), W, G, M, V, n, h);
}

/* Gradient panels of at most 64 MiB in the workspace: the gradient of a
 * G×G weight never exists whole.  The emulation's small panels let its
 * small tests cover the panel loop. */
#ifdef SN_CUDA_EMU
#define PANEL_BYTES ((int64_t)64 << 10)
#else
#define PANEL_BYTES ((int64_t)64 << 20)
#endif
static void cu_gemm_adam(sn_ops *o, int ta, int tb, int m, int n, int k, const real *A, int lda, const real *B,
                         int ldb, real *W, real *M, real *V, const sn_adam_hp *h)
{
    sn_cuda *c = sn_cu(o);
    if (m <= 0 || n <= 0)
        return;
    int64_t rows = PANEL_BYTES / (int64_t)sizeof(real) / n;
    rows = rows < 1 ? 1 : rows > m ? m : rows;
    real *panel = (real *)sn_cu_ws(c, (size_t)rows * (size_t)n * sizeof(real));
    if (!panel)
        return;
    for (int r0 = 0; r0 < m; r0 += (int)rows) {
        int r = m - r0 < rows ? m - r0 : (int)rows;
        if (k > 0) {
            const real *Ap = ta ? A + r0 : A + (int64_t)r0 * lda;
            blas_gemm(c, ta, tb, r, n, k, 1, Ap, lda, B, ldb, 0, panel, n, "gemm_adam");
        } else {
            sn_cu_note(c, cudaMemsetAsync(panel, 0, (size_t)r * n * sizeof(real), c->stream), "gemm_adam");
        }
        int64_t off = (int64_t)r0 * n;
        adam_launch(c, W + off, panel, M + off, V + off, (int64_t)r * n, h);
    }
}

/* 32×32 tiles through shared memory, so reads and writes are coalesced. */
__global__ void k_transpose(const real *X, int rows, int cols, int ldx, real *Y, int ldy)
{
    __shared__ real t[32][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int r = blockIdx.y * 32 + j;
        if (r < rows && c < cols)
            t[j][threadIdx.x] = X[(int64_t)r * ldx + c];
    }
    __syncthreads();
    int r = blockIdx.y * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int cc = blockIdx.x * 32 + j;
        if (cc < cols && r < rows)
            Y[(int64_t)cc * ldy + r] = t[threadIdx.x][j];
    }
}

static void cu_transpose(sn_ops *o, const real *X, int rows, int cols, int ldx, real *Y, int ldy)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    dim3 grid((unsigned)((cols + 31) / 32), (unsigned)((rows + 31) / 32)), block(32, 8);
    SN_LAUNCH(k_transpose, grid, block, c->stream, X, rows, cols, ldx, Y, ldy);
    SN_CU_LAUNCHED(c, "transpose");
}

__global__ void k_axpy(int64_t n, real alpha, const real *X, real *Y)
{
    SN_CU_FOR(i, n)
    Y[i] += alpha * X[i];
}

static void cu_axpy(sn_ops *o, int64_t n, real alpha, const real *X, real *Y)
{
    sn_cuda *c = sn_cu(o);
    if (n <= 0)
        return;
    SN_LAUNCH(k_axpy, GRID(n), T, c->stream, n, alpha, X, Y);
    SN_CU_LAUNCHED(c, "axpy");
}

/* Element i = r·cols + c of the logical matrix has dropout index i; a
 * thread takes four consecutive elements, one Philox call (as the CPU). */
__global__ void k_act(real *X, int rows, int cols, int ld, real slope, double p, uint64_t key, uint64_t stream)
{
    int64_t n = (int64_t)rows * cols;
    SN_CU_FOR(q, (n + 3) / 4)
    {
        real mul[4];
        sn_k_dropmul4(p, key, stream, (uint64_t)q, mul);
        for (int t = 0; t < 4 && 4 * q + t < n; t++) {
            int64_t i = 4 * q + t;
            real *x = &X[i / cols * ld + i % cols];
            *x = sn_k_act(*x, slope, mul[t]);
        }
    }
}

static void cu_act(sn_ops *o, real *X, int rows, int cols, int ld, real slope, const sn_drop *d)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    SN_LAUNCH(k_act, GRID(((int64_t)rows * cols + 3) / 4), T, c->stream, X, rows, cols, ld, slope, d->p, d->key,
              d->stream);
    SN_CU_LAUNCHED(c, "act");
}

__global__ void k_act_bwd(const real *Y, real *dX, int rows, int cols, int ld, real slope, double p, uint64_t key,
                          uint64_t stream)
{
    int64_t n = (int64_t)rows * cols;
    SN_CU_FOR(q, (n + 3) / 4)
    {
        real mul[4];
        sn_k_dropmul4(p, key, stream, (uint64_t)q, mul);
        for (int t = 0; t < 4 && 4 * q + t < n; t++) {
            int64_t i = 4 * q + t, k = i / cols * ld + i % cols;
            dX[k] = sn_k_act_bwd(Y[k], dX[k], slope, mul[t]);
        }
    }
}

static void cu_act_bwd(sn_ops *o, const real *Y, real *dX, int rows, int cols, int ld, real slope, const sn_drop *d)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    SN_LAUNCH(k_act_bwd, GRID(((int64_t)rows * cols + 3) / 4), T, c->stream, Y, dX, rows, cols, ld, slope, d->p,
              d->key, d->stream);
    SN_CU_LAUNCHED(c, "act_bwd");
}

__global__ void k_add_bias(real *X, int rows, int cols, int ld, const real *b, int axis)
{
    SN_CU_FOR(i, (int64_t)rows * cols)
    {
        int64_t r = i / cols, cc = i % cols;
        X[r * ld + cc] += axis == 0 ? b[cc] : b[r];
    }
}

static void cu_add_bias(sn_ops *o, real *X, int rows, int cols, int ld, const real *b, int axis)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    SN_LAUNCH(k_add_bias, GRID((int64_t)rows * cols), T, c->stream, X, rows, cols, ld, b, axis);
    SN_CU_LAUNCHED(c, "add_bias");
}

__global__ void k_gather(const real *src, const int32_t *idx, int64_t n, real *dst)
{
    SN_CU_FOR(i, n)
    dst[i] = src[idx[i]];
}

static void cu_gather(sn_ops *o, const real *src, const int32_t *idx, int64_t n, real *dst)
{
    sn_cuda *c = sn_cu(o);
    if (n <= 0)
        return;
    SN_LAUNCH(k_gather, GRID(n), T, c->stream, src, idx, n, dst);
    SN_CU_LAUNCHED(c, "gather");
}

void sn_cu_set_dense(sn_ops *o)
{
    o->fill = cu_fill;
    o->gemm = cu_gemm;
    o->gemm_adam = cu_gemm_adam;
    o->adam = cu_adam;
    o->transpose = cu_transpose;
    o->axpy = cu_axpy;
    o->act = cu_act;
    o->act_bwd = cu_act_bwd;
    o->add_bias = cu_add_bias;
    o->gather = cu_gather;
}
