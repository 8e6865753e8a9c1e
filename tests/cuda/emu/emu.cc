/* The CUDA emulation (cuda_emu.h): runtime calls on host memory, cuBLAS
 * SGEMM through OpenBLAS, and kernels run block by block with one fiber
 * per thread.  A fiber runs until it reaches a barrier (__syncthreads or a
 * warp exchange); the scheduler releases a warp when all its live lanes
 * wait at an exchange and the block when all live threads wait at
 * __syncthreads.  Environment: SN_CUDA_EMU_DEVICES (device count, default
 * 1; 0 = no device; nodriver = no driver), SN_CUDA_EMU_MEM (bytes of device memory). */
#include "cuda_emu.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
/* ASan clears the shadow of the whole target stack at every switch */
#define STACK_BYTES (64u << 10)
#else
#define EMU_ASAN 0
#define STACK_BYTES (128u << 10)
#endif

dim3 threadIdx, blockIdx, blockDim, gridDim;

/* ------------------------------------------------------------ runtime */

static cudaError_t last_error = cudaSuccess;
static size_t mem_used;

static int emu_devices(void)
{
    const char *s = getenv("SN_CUDA_EMU_DEVICES");
    return s ? atoi(s) : 1;
}

static size_t emu_mem(void)
{
    const char *s = getenv("SN_CUDA_EMU_MEM");
    return s ? (size_t)strtoull(s, NULL, 10) : (size_t)16 << 30;
}

static cudaError_t fail(cudaError_t e)
{
    if (e != cudaSuccess)
        last_error = e;
    return e;
}

cudaError_t cudaGetDeviceCount(int *n)
{
    const char *s = getenv("SN_CUDA_EMU_DEVICES");
    *n = 0;
    if (s && !strcmp(s, "nodriver"))
        return fail(cudaErrorInsufficientDriver);
    *n = emu_devices();
    return *n > 0 ? cudaSuccess : fail(cudaErrorNoDevice);
}

/* SN_CUDA_EMU_DEVICES=nodriver plays a machine without the driver. */
cudaError_t cudaDriverGetVersion(int *v)
{
    const char *s = getenv("SN_CUDA_EMU_DEVICES");
    *v = s && !strcmp(s, "nodriver") ? 0 : 13000;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v)
{
    *v = 13000;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int d) { return d >= 0 && d < emu_devices() ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
    if (d < 0 || d >= emu_devices())
        return fail(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation of a CUDA device");
    p->totalGlobalMem = emu_mem();
    p->major = 9;
    p->multiProcessorCount = 1;
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b)
{
    *total_b = emu_mem();
    *free_b = *total_b - mem_used;
    return cudaSuccess;
}

/* Each block records its size in a header, for the memory limit. */
cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = NULL;
    if (n > emu_mem() - mem_used)
        return fail(cudaErrorMemoryAllocation);
    char *b = (char *)aligned_alloc(256, 256 + ((n + 255) & ~(size_t)255));
    if (!b)
        return fail(cudaErrorMemoryAllocation);
    memcpy(b, &n, sizeof n);
    /* device memory is not zeroed: poison it so missing initialisation shows */
    memset(b + 256, 0xff, n);
    mem_used += n;
    *p = b + 256;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p)
{
    if (!p)
        return cudaSuccess;
    char *b = (char *)p - 256;
    size_t n;
    memcpy(&n, b, sizeof n);
    mem_used -= n;
    free(b);
    return cudaSuccess;
}

cudaError_t cudaMallocHost(void **p, size_t n)
{
    *p = malloc(n ? n : 1);
    return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void *p)
{
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
    if (n)
        memmove(d, s, n);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k, cudaStream_t)
{
    return cudaMemcpy(d, s, n, k);
}

cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t)
{
    memset(d, v, n);
    return cudaSuccess;
}

struct sn_emu_stream {
    int unused;
};

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
    *s = new sn_emu_stream();
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return last_error; }
cudaError_t cudaDeviceSynchronize(void) { return last_error; }
cudaError_t cudaPeekAtLastError(void) { return last_error; }

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    }
    return "unknown error";
}

/* -------------------------------------------------------------- cuBLAS */

struct sn_emu_blas {
    int math;
};

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = new sn_emu_blas();
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h)
{
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t) { return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED; }

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m)
{
    h->math = m;
    return CUBLAS_STATUS_SUCCESS;
}

/* Column-major, with cuBLAS's argument checks. */
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc)
{
    if (!h)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    int ra = ta == CUBLAS_OP_N ? m : k, rb = tb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (ra > 1 ? ra : 1) || ldb < (rb > 1 ? rb : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    if (k == 0) {
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++)
                C[(size_t)j * ldc + i] = *beta == 0 ? 0 : *beta * C[(size_t)j * ldc + i];
        return CUBLAS_STATUS_SUCCESS;
    }
    cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusString(cublasStatus_t s)
{
    return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS"
           : s == CUBLAS_STATUS_INVALID_VALUE ? "CUBLAS_STATUS_INVALID_VALUE"
                                              : "CUBLAS_STATUS_NOT_INITIALIZED";
}

/* ------------------------------------------------------------ fibers */

enum { F_READY, F_BLOCK, F_WARP, F_DONE };

struct fiber {
    ucontext_t ctx;
    char *stack;
    int state;
    dim3 idx;
    void *fake; /* ASan's fake stack of this fiber while it is switched out */
};

/* Stacks are kept for the next launch and freed at exit. */
static struct fiber_set {
    std::vector<fiber> v;
    ~fiber_set()
    {
        for (fiber &f : v)
            free(f.stack);
    }
} fiber_set;
#define fibers fiber_set.v
static ucontext_t sched_ctx;
static const std::function<void()> *cur_body;
static unsigned cur, nthreads;
static unsigned char slot[1024][16];

#if EMU_ASAN
static const void *sched_bottom;
static size_t sched_size;
static void *sched_fake;
#define TO_FIBER(f) __sanitizer_start_switch_fiber(&sched_fake, (f)->stack, STACK_BYTES)
#define IN_SCHED() __sanitizer_finish_switch_fiber(sched_fake, NULL, NULL)
#define TO_SCHED(save) __sanitizer_start_switch_fiber(save, sched_bottom, sched_size)
#define IN_FIBER(f) __sanitizer_finish_switch_fiber((f)->fake, &sched_bottom, &sched_size)
#else
#define TO_FIBER(f) (void)0
#define IN_SCHED() (void)0
#define TO_SCHED(save) (void)(save)
#define IN_FIBER(f) (void)(f)
#endif

static void fiber_main(void)
{
    IN_FIBER(&fibers[cur]);
    (*cur_body)();
    fibers[cur].state = F_DONE;
    TO_SCHED(NULL); /* this fiber's stack is done with */
}

static void wait_at(int state)
{
    fiber *f = &fibers[cur];
    f->state = state;
    TO_SCHED(&f->fake);
    swapcontext(&f->ctx, &sched_ctx);
    IN_FIBER(f);
}

void __syncthreads(void) { wait_at(F_BLOCK); }

unsigned sn_emu_lane(void) { return cur & 31; }

void sn_emu_exchange(const void *v, void *out, size_t size, int src)
{
    unsigned me = cur, base = me & ~31u;
    memcpy(slot[me], v, size);
    wait_at(F_WARP);
    unsigned s = base + (unsigned)src;
    if (src >= 0 && src < 32 && s < nthreads && fibers[s].state != F_DONE)
        memcpy(out, slot[s], size);
    else
        memcpy(out, v, size);
    wait_at(F_WARP); /* nobody overwrites a slot before every lane read it */
}

/* Release a warp whose live lanes all wait at an exchange, else the block
 * when every live thread waits at __syncthreads.  0: nothing to release. */
static int release(void)
{
    int any = 0, live = 0, at_block = 0;
    for (unsigned w = 0; w < nthreads; w += 32) {
        int n_live = 0, n_warp = 0;
        for (unsigned t = w; t < w + 32 && t < nthreads; t++) {
            n_live += fibers[t].state != F_DONE;
            n_warp += fibers[t].state == F_WARP;
        }
        if (n_live && n_warp == n_live) {
            for (unsigned t = w; t < w + 32 && t < nthreads; t++)
                if (fibers[t].state == F_WARP)
                    fibers[t].state = F_READY;
            any = 1;
        }
    }
    if (any)
        return 1;
    for (unsigned t = 0; t < nthreads; t++) {
        live += fibers[t].state != F_DONE;
        at_block += fibers[t].state == F_BLOCK;
    }
    if (!live)
        return 0;
    if (at_block != live) {
        fprintf(stderr, "cuda emulation: deadlock (threads wait at different barriers)\n");
        abort();
    }
    for (unsigned t = 0; t < nthreads; t++)
        if (fibers[t].state == F_BLOCK)
            fibers[t].state = F_READY;
    return 1;
}

/* Run fiber t until it waits or ends (a function of its own: nothing of
 * the caller's lives across the switch). */
__attribute__((noinline)) static void resume(unsigned t)
{
    cur = t;
    threadIdx = fibers[t].idx;
    TO_FIBER(&fibers[t]);
    swapcontext(&sched_ctx, &fibers[t].ctx);
    IN_SCHED();
}

__attribute__((noinline)) static void start(unsigned t)
{
    fiber *f = &fibers[t];
    if (!f->stack && !(f->stack = (char *)malloc(STACK_BYTES))) {
        fprintf(stderr, "cuda emulation: out of memory\n");
        abort();
    }
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = STACK_BYTES;
    f->ctx.uc_link = &sched_ctx;
    makecontext(&f->ctx, fiber_main, 0);
    f->state = F_READY;
    f->idx = dim3(t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y));
}

static void run_block(void)
{
    for (unsigned t = 0; t < nthreads; t++)
        start(t);
    do {
        for (unsigned t = 0; t < nthreads; t++)
            if (fibers[t].state == F_READY)
                resume(t);
    } while (release());
}

void sn_emu_run(dim3 grid, dim3 block, const std::function<void()> &body)
{
    unsigned long n = (unsigned long)block.x * block.y * block.z;
    if (!n || n > 1024 || block.z > 64 || !grid.x || !grid.y || !grid.z || grid.y > 65535 || grid.z > 65535) {
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    if (fibers.size() < n)
        fibers.resize(n, fiber());
    nthreads = (unsigned)n;
    cur_body = &body;
    blockDim = block;
    gridDim = grid;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3(x, y, z);
                run_block();
            }
}
