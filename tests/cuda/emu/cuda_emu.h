/* A CPU emulation of the small part of the CUDA runtime and cuBLAS that
 * the CUDA backend uses, so that its kernels run (and are checked against
 * the CPU backend) on machines without a GPU.  Kernels are compiled as
 * C++; each block runs its threads as cooperative fibers, so
 * __syncthreads() and warp shuffles behave as on the device.  Device
 * memory is host memory, so AddressSanitizer sees out-of-bounds accesses
 * of the kernels.  What this cannot check: the memory model, timing,
 * nvcc-only code paths and the real cuBLAS. */
#ifndef SCNET_CUDA_EMU_H
#define SCNET_CUDA_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
extern dim3 threadIdx, blockIdx, blockDim, gridDim;
static const int warpSize = 32;

/* ---- runtime ---- */
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
typedef struct sn_emu_stream *cudaStream_t;
#define cudaStreamNonBlocking 1u

struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    int major, minor, multiProcessorCount;
};

cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaDriverGetVersion(int *v);
cudaError_t cudaRuntimeGetVersion(int *v);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d);
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t st);
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
const char *cudaGetErrorString(cudaError_t e);

/* ---- cuBLAS ---- */
typedef struct sn_emu_blas *cublasHandle_t;
enum cublasStatus_t { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_INITIALIZED = 1, CUBLAS_STATUS_INVALID_VALUE = 7 };
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum cublasMath_t { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 };
cublasStatus_t cublasCreate(cublasHandle_t *h);
cublasStatus_t cublasDestroy(cublasHandle_t h);
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s);
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m);
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc);
const char *cublasGetStatusString(cublasStatus_t s);

/* ---- device side ---- */
void __syncthreads(void);
/* Lane exchange: every live lane of the warp deposits v, then reads the
 * value of lane `src` (its own when src is outside the warp). */
void sn_emu_exchange(const void *v, void *out, size_t size, int src);
unsigned sn_emu_lane(void);

template <class T> T __shfl_down_sync(unsigned, T v, unsigned off)
{
    T r;
    int lane = (int)sn_emu_lane();
    sn_emu_exchange(&v, &r, sizeof v, lane + (int)off < 32 ? lane + (int)off : -1);
    return r;
}

template <class T> T __shfl_xor_sync(unsigned, T v, int mask)
{
    T r;
    sn_emu_exchange(&v, &r, sizeof v, (int)sn_emu_lane() ^ mask);
    return r;
}

template <class T> T __shfl_sync(unsigned, T v, int src)
{
    T r;
    sn_emu_exchange(&v, &r, sizeof v, src);
    return r;
}

/* Fibers switch only at barriers, so a read-modify-write is atomic. */
template <class T> T atomicAdd(T *p, T v)
{
    T old = *p;
    *p = old + v;
    return old;
}

/* Run body once per thread of every block; sets the error of a bad
 * configuration as the runtime does. */
void sn_emu_run(dim3 grid, dim3 block, const std::function<void()> &body);

template <class... P, class... A> void sn_emu_launch(dim3 grid, dim3 block, void (*k)(P...), A &&...a)
{
    std::tuple<P...> args(std::forward<A>(a)...);
    sn_emu_run(grid, block, [&] { std::apply(k, args); });
}

#endif
