/* Internals of the CUDA backend shared by its translation units: the
 * backend context (stream, cuBLAS handle, memory pool, workspace, first
 * error), launch helpers and the setters that fill the op table.  Built
 * with nvcc, or as plain C++ against the CPU emulation in tests/cuda/emu
 * (SN_CUDA_EMU) so the kernels can be run without a GPU. */
#ifndef SCNET_CUDA_CU_H
#define SCNET_CUDA_CU_H

#ifdef SN_REAL_F64
#if SN_REAL_F64
#error "the CUDA backend is float32 only"
#endif
#else
#define SN_REAL_F64 0
#endif

#ifdef SN_CUDA_EMU
#include "cuda_emu.h"
#define SN_LAUNCH(kern, grid, block, stream, ...) sn_emu_launch(grid, block, kern, __VA_ARGS__)
#else
#include <cublas_v2.h>
#include <cuda_runtime.h>
#define SN_LAUNCH(kern, grid, block, stream, ...) kern<<<grid, block, 0, stream>>>(__VA_ARGS__)
#endif

#include <stddef.h>
#include <stdint.h>

#include "scnet/cuda_plugin.h"
#include "scnet/err.h"
#include "scnet/ops.h"

#define SN_EXPORT extern "C" __attribute__((visibility("default")))

/* One device allocation of the pool, cut into blocks. */
typedef struct {
    size_t off, size;
    int used;
} sn_cu_blk;

typedef struct {
    char *base;
    size_t size;
    sn_cu_blk *b;
    int nb, cap;
} sn_cu_chunk;

/* Grouping of a pair list by endpoint (pairs.cu), cached until one of its
 * index arrays is written or freed. */
typedef struct {
    const int32_t *ri, *ci;
    int64_t ne;
    int32_t *dev; /* targets[nseg], starts[nseg + 1], order[2·ne] */
    int64_t nseg;
    uint64_t used; /* for least-recently-used replacement */
} sn_cu_pairs;

#define SN_CU_PAIR_CACHE 6

typedef struct {
    sn_ops ops;
    sn_cuda_host host;
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    int tf32;
    int failed;     /* a CUDA call failed; sync() reports err */
    char err[512];
    sn_cu_chunk *chunks;
    int nchunks;
    size_t next_chunk, used, peak;
    void *ws;       /* workspace of the op running now */
    size_t ws_size;
    void *hbuf;     /* pinned host scratch */
    size_t hbuf_size;
    sn_cu_pairs pairs[SN_CU_PAIR_CACHE];
    uint64_t pairs_clock;
} sn_cuda;

static inline sn_cuda *sn_cu(sn_ops *o) { return (sn_cuda *)o->ctx; }

/* Errors: the first failure is kept until sync() reports it. */
void sn_cu_fail(sn_cuda *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sn_cu_note(sn_cuda *c, cudaError_t e, const char *what);
void sn_cu_note_blas(sn_cuda *c, cublasStatus_t s, const char *what);
/* After a launch: records a bad configuration or an earlier fault. */
#define SN_CU_LAUNCHED(c, what) sn_cu_note((c), cudaGetLastError(), (what))

/* Pool (pool.cu): blocks of 256-byte granularity; zero = memset to 0. */
void *sn_cu_pool_alloc(sn_cuda *c, size_t bytes, int zero);
/* Returns the size of the block freed (0: not a block of the pool). */
size_t sn_cu_pool_free(sn_cuda *c, void *p);
void sn_cu_pool_release(sn_cuda *c);
/* Workspace of at least `bytes`, valid until the next sn_cu_ws call;
 * NULL (error recorded) when it cannot grow. */
void *sn_cu_ws(sn_cuda *c, size_t bytes);
/* Pinned host scratch of at least `bytes`. */
void *sn_cu_hbuf(sn_cuda *c, size_t bytes);
static inline size_t sn_cu_round(size_t n) { return (n + 255) & ~(size_t)255; }

/* Pair groupings (pairs.cu). */
void sn_cu_pairs_forget(sn_cuda *c, const void *p, size_t bytes);
void sn_cu_pairs_release(sn_cuda *c);

/* Op table setters, one per translation unit. */
void sn_cu_set_dense(sn_ops *o);
void sn_cu_set_stats(sn_ops *o);
void sn_cu_set_sparse(sn_ops *o);
void sn_cu_set_pairs(sn_ops *o);

/* Grid-stride loop over [0, n). */
#define SN_CU_FOR(i, n)                                                                  \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (int64_t)(n); \
         i += (int64_t)gridDim.x * blockDim.x)
#define SN_CU_THREADS 256

/* Blocks for a grid-stride loop over n items: a fixed cap, so the work a
 * block does depends only on n. */
static inline unsigned sn_cu_blocks(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    return b < 1 ? 1u : b > 8192 ? 8192u : (unsigned)b;
}

#endif
