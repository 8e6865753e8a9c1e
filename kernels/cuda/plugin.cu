/* The plugin's entry points (cuda_plugin.h), memory movement, error
 * reporting and the op table of the CUDA backend.  Everything is queued on
 * one stream; upload(), download() and sync() wait for it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

void sn_cu_fail(sn_cuda *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->failed = 1;
}

void sn_cu_note(sn_cuda *c, cudaError_t e, const char *what)
{
    if (e != cudaSuccess)
        sn_cu_fail(c, "%s: %s", what, cudaGetErrorString(e));
}

void sn_cu_note_blas(sn_cuda *c, cublasStatus_t s, const char *what)
{
    if (s != CUBLAS_STATUS_SUCCESS)
        sn_cu_fail(c, "%s: %s", what, cublasGetStatusString(s));
}

static int say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *msg, size_t len, const char *fmt, ...)
{
    if (msg && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static double gib(size_t b) { return (double)b / (double)(1u << 30); }

/* The device's free memory, and its total in *total; 0 when the query
 * fails (its error is cleared: it is no reason to stop). */
static size_t mem_free(size_t *total)
{
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
        (void)cudaGetLastError();
    *total = total_b;
    return free_b;
}

/* ------------------------------------------------------------ memory */

static void *cu_alloc(sn_ops *o, size_t bytes)
{
    sn_cuda *c = sn_cu(o);
    void *p = sn_cu_pool_alloc(c, bytes, 1);
    if (!p) {
        size_t total_b, free_b = mem_free(&total_b);
        c->host.err(SN_ENOMEM, "out of GPU memory: %.2f GiB more needed on cuda:%d (%.2f GiB in use by scnet, %.2f of %.2f GiB free)",
                    gib(bytes), c->device, gib(c->used), gib(free_b), gib(total_b));
    }
    return p;
}

static void cu_free(sn_ops *o, void *p)
{
    sn_cuda *c = sn_cu(o);
    if (!p)
        return;
    sn_cu_pairs_forget(c, p, sn_cu_pool_free(c, p));
}

static void cu_upload(sn_ops *o, void *dst, const void *src, size_t bytes)
{
    sn_cuda *c = sn_cu(o);
    if (!bytes)
        return;
    sn_cu_pairs_forget(c, dst, bytes);
    sn_cu_note(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream), "upload");
    /* the caller may reuse src at once; uploads come between steps, when
     * the stream is idle anyway */
    sn_cu_note(c, cudaStreamSynchronize(c->stream), "upload");
}

static void cu_download(sn_ops *o, void *dst, const void *src, size_t bytes)
{
    sn_cuda *c = sn_cu(o);
    if (!bytes)
        return;
    sn_cu_note(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream), "download");
    sn_cu_note(c, cudaStreamSynchronize(c->stream), "download");
}

static void cu_copy(sn_ops *o, void *dst, const void *src, size_t bytes)
{
    sn_cuda *c = sn_cu(o);
    if (!bytes || dst == src)
        return;
    sn_cu_pairs_forget(c, dst, bytes);
    sn_cu_note(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream), "device copy");
}

/* A failure stays reported: after a fault the device context is unusable,
 * and results computed since the failure are not to be trusted. */
static int cu_sync(sn_ops *o)
{
    sn_cuda *c = sn_cu(o);
    sn_cu_note(c, cudaStreamSynchronize(c->stream), "synchronising");
    if (!c->failed)
        return SN_OK;
    int code = strstr(c->err, "out of ") ? SN_ENOMEM : SN_EIO;
    return c->host.err(code, "CUDA backend on cuda:%d: %s", c->device, c->err);
}

static void cu_destroy(sn_ops *o)
{
    if (!o)
        return;
    sn_cuda *c = sn_cu(o);
    if (cudaStreamSynchronize(c->stream) != cudaSuccess)
        (void)cudaGetLastError();
    sn_cu_pairs_release(c);
    sn_cu_pool_release(c);
    if (c->hbuf)
        cudaFreeHost(c->hbuf);
    cublasDestroy(c->blas);
    cudaStreamDestroy(c->stream);
    free(c);
}

/* ------------------------------------------------------------- entry */

static int open_context(sn_cuda *c, int device, char *msg, size_t len)
{
    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess)
        e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return say(msg, len, "cuda:%d: %s", device, cudaGetErrorString(e));
    }
    cublasStatus_t s = cublasCreate(&c->blas);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetStream(c->blas, c->stream);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) {
        if (c->blas)
            cublasDestroy(c->blas);
        cudaStreamDestroy(c->stream);
        return say(msg, len, "cuda:%d: cuBLAS could not start: %s", device, cublasGetStatusString(s));
    }
    return 0;
}

static void fill_table(sn_cuda *c)
{
    sn_ops *o = &c->ops;
    o->name = "cuda";
    o->ctx = c;
    o->alloc = cu_alloc;
    o->free = cu_free;
    o->upload = cu_upload;
    o->download = cu_download;
    o->copy = cu_copy;
    o->sync = cu_sync;
    o->destroy = cu_destroy;
    sn_cu_set_dense(o);
    sn_cu_set_stats(o);
    sn_cu_set_sparse(o);
    sn_cu_set_pairs(o);
}

/* Why no device can be used, from a failed cudaGetDeviceCount. */
static int no_device(char *msg, size_t len, cudaError_t e)
{
    (void)cudaGetLastError();
    int drv = 0, rt = 0;
    if (e == cudaErrorInsufficientDriver && cudaDriverGetVersion(&drv) == cudaSuccess &&
        cudaRuntimeGetVersion(&rt) == cudaSuccess) {
        if (drv == 0)
            return say(msg, len, "no NVIDIA driver is installed");
        return say(msg, len, "the NVIDIA driver supports CUDA %d.%d, this build needs %d.%d", drv / 1000,
                   drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    }
    return say(msg, len, "%s", cudaGetErrorString(e));
}

SN_EXPORT int sn_cuda_open(const sn_cuda_host *host, int device, sn_ops **out, char *msg, size_t len)
{
    *out = NULL;
    if (!host || host->abi != SN_CUDA_ABI || host->ops_size != sizeof(sn_ops) || !host->err)
        return say(msg, len, "the CUDA plugin was built for another version of scnet");
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
        return no_device(msg, len, e);
    if (device < 0 || device >= n)
        return say(msg, len, "there is no device cuda:%d (%d device%s)", device, n, n == 1 ? "" : "s");
    cudaDeviceProp p;
    if ((e = cudaGetDeviceProperties(&p, device)) != cudaSuccess) {
        (void)cudaGetLastError();
        return say(msg, len, "cuda:%d: %s", device, cudaGetErrorString(e));
    }
    sn_cuda *c = (sn_cuda *)calloc(1, sizeof *c);
    if (!c)
        return say(msg, len, "out of memory");
    c->host = *host;
    c->device = device;
    if (open_context(c, device, msg, len) < 0) {
        free(c);
        return -1;
    }
    fill_table(c);
    size_t total_b;
    c->ops.mem_avail = mem_free(&total_b);
    *out = &c->ops;
    say(msg, len, "cuda:%d (%s, %.1f GiB, compute capability %d.%d)", device, p.name, gib(p.totalGlobalMem),
        p.major, p.minor);
    return 0;
}

SN_EXPORT int sn_cuda_devices(char *desc, size_t len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
        return no_device(desc, len, e);
    if (n == 0)
        return say(desc, len, "no CUDA-capable device is detected");
    size_t at = (size_t)snprintf(desc, len, "%d device%s", n, n == 1 ? "" : "s");
    for (int d = 0; d < n && at < len; d++) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        at += (size_t)snprintf(desc + at, len - at, "%s cuda:%d %s (%.1f GiB)", d ? ";" : ":", d, p.name,
                               gib(p.totalGlobalMem));
    }
    return n;
}

SN_EXPORT int sn_cuda_set_tf32(sn_ops *o, int on)
{
    if (!o || o->destroy != cu_destroy)
        return 1;
    sn_cuda *c = sn_cu(o);
    cublasStatus_t s = cublasSetMathMode(c->blas, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS)
        return c->host.err(SN_EINVAL, "cuda:%d: cannot change the GEMM precision: %s", c->device,
                           cublasGetStatusString(s));
    c->tf32 = on != 0;
    return 0;
}
