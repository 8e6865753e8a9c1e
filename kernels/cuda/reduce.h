/* Deterministic reductions for the CUDA backend.  Sums are taken in double
 * over a grid whose shape depends only on the problem size, and the
 * partial sums are combined in a fixed order, so a result does not depend
 * on the device, the run or the scheduling.  A reduction is a functor
 * giving the value of item i (or of element (r, c)), and a finisher that
 * receives the total (or the total of a column). */
#ifndef SCNET_CUDA_REDUCE_H
#define SCNET_CUDA_REDUCE_H

#include "cu.h"

#define SN_RED_THREADS 256
#define SN_RED_MAXBLOCKS 1024
#define SN_COL_ROWS 8     /* block = 32 columns × 8 row lanes */
#define SN_COL_MAXPARTS 64

__device__ __forceinline__ double sn_warp_sum(double v)
{
    for (int off = 16; off > 0; off >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

/* Sum over a block of SN_RED_THREADS threads; the total is in thread 0.
 * Every thread must call it. */
__device__ __forceinline__ double sn_block_sum(double v)
{
    __shared__ double part[SN_RED_THREADS / 32];
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    v = sn_warp_sum(v);
    if (lane == 0)
        part[w] = v;
    __syncthreads();
    v = threadIdx.x < SN_RED_THREADS / 32 ? part[threadIdx.x] : 0.0;
    if (w == 0)
        v = sn_warp_sum(v);
    __syncthreads(); /* part[] is free again for the next call */
    return v;
}

static inline unsigned sn_red_blocks(int64_t n)
{
    int64_t b = (n + 4 * SN_RED_THREADS - 1) / (4 * SN_RED_THREADS);
    return b < 1 ? 1u : b > SN_RED_MAXBLOCKS ? (unsigned)SN_RED_MAXBLOCKS : (unsigned)b;
}

/* part[block] = Σ f(i) over the block's share of [0, n). */
template <class F> __global__ void __launch_bounds__(SN_RED_THREADS) sn_k_partial(F f, int64_t n, double *part)
{
    double acc = 0;
    for (int64_t i = (int64_t)blockIdx.x * SN_RED_THREADS + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * SN_RED_THREADS)
        acc += f(i);
    acc = sn_block_sum(acc);
    if (threadIdx.x == 0)
        part[blockIdx.x] = acc;
}

/* One block: g(Σ part). */
template <class G> __global__ void __launch_bounds__(SN_RED_THREADS) sn_k_finish(const double *part, int nb, G g)
{
    double acc = 0;
    for (int b = threadIdx.x; b < nb; b += SN_RED_THREADS)
        acc += part[b];
    acc = sn_block_sum(acc);
    if (threadIdx.x == 0)
        g(acc);
}

/* Reduce f over [0, n) and hand the total to g; part holds
 * sn_red_blocks(n) doubles. */
template <class F, class G> void sn_reduce(sn_cuda *c, int64_t n, F f, G g, double *part, const char *what)
{
    unsigned nb = sn_red_blocks(n);
    SN_LAUNCH(sn_k_partial<F>, nb, SN_RED_THREADS, c->stream, f, n, part);
    SN_LAUNCH(sn_k_finish<G>, 1, SN_RED_THREADS, c->stream, part, (int)nb, g);
    SN_CU_LAUNCHED(c, what);
}

/* Column sums: row lanes of row-slice `blockIdx.y` add f(r, c); the
 * slices go to part[slice·cols + c]. */
template <class F> __global__ void sn_k_colpart(F f, int rows, int cols, double *part)
{
    __shared__ double sh[SN_COL_ROWS][33];
    int c = blockIdx.x * 32 + threadIdx.x, step = gridDim.y * SN_COL_ROWS;
    double acc = 0;
    if (c < cols)
        for (int r = blockIdx.y * SN_COL_ROWS + threadIdx.y; r < rows; r += step)
            acc += f(r, c);
    sh[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        double t = 0;
        for (int k = 0; k < SN_COL_ROWS; k++)
            t += sh[k][threadIdx.x];
        part[(int64_t)blockIdx.y * cols + c] = t;
    }
}

template <class G> __global__ void sn_k_colfinish(const double *part, int nparts, int cols, G g)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols)
        return;
    double t = 0;
    for (int k = 0; k < nparts; k++)
        t += part[(int64_t)k * cols + c];
    g(c, t);
}

static inline int sn_col_parts(int rows)
{
    int p = (rows + 255) / 256;
    return p < 1 ? 1 : p > SN_COL_MAXPARTS ? SN_COL_MAXPARTS : p;
}

/* Doubles of scratch sn_colreduce needs. */
static inline size_t sn_col_scratch(int rows, int cols) { return (size_t)sn_col_parts(rows) * (size_t)cols; }

/* For every column c < cols: g(c, Σ_r f(r, c)). */
template <class F, class G> void sn_colreduce(sn_cuda *c, int rows, int cols, F f, G g, double *part, const char *what)
{
    if (cols <= 0)
        return;
    int np = sn_col_parts(rows);
    dim3 grid((unsigned)((cols + 31) / 32), (unsigned)np), block(32, SN_COL_ROWS);
    SN_LAUNCH(sn_k_colpart<F>, grid, block, c->stream, f, rows, cols, part);
    SN_LAUNCH(sn_k_colfinish<G>, (unsigned)((cols + 255) / 256), 256, c->stream, (const double *)part, np, cols, g);
    SN_CU_LAUNCHED(c, what);
}

#endif
