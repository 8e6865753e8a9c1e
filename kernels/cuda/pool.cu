/* Device memory pool: a few large cudaMalloc chunks, each twice the size
 * of the one before (up to 2 GiB, or the request), cut into blocks
 * first-fit and merged again on free, so the model's buffers and the
 * per-op workspace never cost a cudaMalloc once the pool has grown.
 * Blocks are reused in stream order: a freed block handed out again is
 * only written by work queued after the work that last read it. */
#include <stdlib.h>
#include <string.h>

#include "cu.h"

/* In the CPU emulation under AddressSanitizer, blocks are poisoned except
 * for the bytes asked for, with a red zone after each, so a kernel that
 * strays out of its buffer is caught. */
#if defined(SN_CUDA_EMU) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define REDZONE 256
#else
#define POISON(p, n) ((void)0)
#define UNPOISON(p, n) ((void)0)
#define REDZONE 0
#endif

#define FIRST_CHUNK ((size_t)64 << 20)
#define MAX_GROWTH ((size_t)2 << 30) /* leave room for cuBLAS and others */

static int blk_insert(sn_cu_chunk *ch, int at, sn_cu_blk b)
{
    if (ch->nb == ch->cap) {
        int cap = ch->cap ? 2 * ch->cap : 16;
        sn_cu_blk *nb = (sn_cu_blk *)realloc(ch->b, (size_t)cap * sizeof *nb);
        if (!nb)
            return -1;
        ch->b = nb;
        ch->cap = cap;
    }
    memmove(ch->b + at + 1, ch->b + at, (size_t)(ch->nb - at) * sizeof *ch->b);
    ch->b[at] = b;
    ch->nb++;
    return 0;
}

static void blk_remove(sn_cu_chunk *ch, int at)
{
    memmove(ch->b + at, ch->b + at + 1, (size_t)(ch->nb - at - 1) * sizeof *ch->b);
    ch->nb--;
}

/* First fit in one chunk; splits the block it takes. */
static void *chunk_take(sn_cu_chunk *ch, size_t sz)
{
    for (int i = 0; i < ch->nb; i++) {
        sn_cu_blk *b = &ch->b[i];
        if (b->used || b->size < sz)
            continue;
        if (b->size > sz) {
            sn_cu_blk rest = {b->off + sz, b->size - sz, 0};
            if (blk_insert(ch, i + 1, rest) < 0)
                return NULL;
            b = &ch->b[i];
            b->size = sz;
        }
        b->used = 1;
        return ch->base + b->off;
    }
    return NULL;
}

static sn_cu_chunk *chunk_new(sn_cuda *c, size_t sz)
{
    sn_cu_chunk *nc = (sn_cu_chunk *)realloc(c->chunks, (size_t)(c->nchunks + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    c->chunks = nc;
    size_t next = c->next_chunk ? c->next_chunk : FIRST_CHUNK, want = sz > next ? sz : next;
    void *p = NULL;
    if (cudaMalloc(&p, want) != cudaSuccess) {
        (void)cudaGetLastError(); /* not sticky: try the exact size */
        want = sz;
        if (cudaMalloc(&p, want) != cudaSuccess) {
            (void)cudaGetLastError();
            return NULL;
        }
    }
    sn_cu_chunk *ch = &c->chunks[c->nchunks];
    memset(ch, 0, sizeof *ch);
    ch->base = (char *)p;
    ch->size = want;
    POISON(p, want);
    sn_cu_blk all = {0, want, 0};
    if (blk_insert(ch, 0, all) < 0) {
        cudaFree(p);
        return NULL;
    }
    c->nchunks++;
    c->next_chunk = 2 * next > MAX_GROWTH ? MAX_GROWTH : 2 * next;
    return ch;
}

void *sn_cu_pool_alloc(sn_cuda *c, size_t bytes, int zero)
{
    size_t sz = sn_cu_round((bytes ? bytes : 1) + REDZONE);
    void *p = NULL;
    for (int i = 0; i < c->nchunks && !p; i++)
        p = chunk_take(&c->chunks[i], sz);
    if (!p) {
        sn_cu_chunk *ch = chunk_new(c, sz);
        p = ch ? chunk_take(ch, sz) : NULL;
    }
    if (!p)
        return NULL;
    UNPOISON(p, bytes);
    c->used += sz;
    if (c->used > c->peak)
        c->peak = c->used;
    c->ops.bytes_in_use = c->used;
    c->ops.bytes_peak = c->peak;
    if (zero)
        sn_cu_note(c, cudaMemsetAsync(p, 0, bytes, c->stream), "clearing new device memory");
    return p;
}

size_t sn_cu_pool_free(sn_cuda *c, void *p)
{
    if (!p)
        return 0;
    for (int i = 0; i < c->nchunks; i++) {
        sn_cu_chunk *ch = &c->chunks[i];
        char *q = (char *)p;
        if (q < ch->base || q >= ch->base + ch->size)
            continue;
        for (int k = 0; k < ch->nb; k++) {
            if (ch->b[k].off != (size_t)(q - ch->base) || !ch->b[k].used)
                continue;
            size_t sz = ch->b[k].size;
            POISON(q, sz);
            ch->b[k].used = 0;
            c->used -= sz;
            c->ops.bytes_in_use = c->used;
            if (k + 1 < ch->nb && !ch->b[k + 1].used) {
                ch->b[k].size += ch->b[k + 1].size;
                blk_remove(ch, k + 1);
            }
            if (k > 0 && !ch->b[k - 1].used) {
                ch->b[k - 1].size += ch->b[k].size;
                blk_remove(ch, k);
            }
            return sz;
        }
    }
    sn_cu_fail(c, "freeing device memory the backend did not allocate");
    return 0;
}

void sn_cu_pool_release(sn_cuda *c)
{
    for (int i = 0; i < c->nchunks; i++) {
        UNPOISON(c->chunks[i].base, c->chunks[i].size);
        cudaFree(c->chunks[i].base);
        free(c->chunks[i].b);
    }
    free(c->chunks);
    c->chunks = NULL;
    c->nchunks = 0;
    c->used = 0;
    c->ws = NULL;
    c->ws_size = 0;
}

void *sn_cu_ws(sn_cuda *c, size_t bytes)
{
    if (bytes <= c->ws_size)
        return c->ws;
    sn_cu_pool_free(c, c->ws);
    size_t want = sn_cu_round(bytes + bytes / 2);
    c->ws = sn_cu_pool_alloc(c, want, 0);
    c->ws_size = c->ws ? want : 0;
    if (!c->ws)
        sn_cu_fail(c, "out of GPU memory: %.1f MiB of workspace needed", (double)want / (1 << 20));
    return c->ws;
}

void *sn_cu_hbuf(sn_cuda *c, size_t bytes)
{
    if (bytes <= c->hbuf_size)
        return c->hbuf;
    if (c->hbuf) { /* an upload from it may still be queued */
        sn_cu_note(c, cudaStreamSynchronize(c->stream), "host scratch");
        cudaFreeHost(c->hbuf);
    }
    size_t want = bytes + bytes / 2;
    if (cudaMallocHost(&c->hbuf, want) != cudaSuccess) {
        (void)cudaGetLastError();
        c->hbuf = NULL;
        c->hbuf_size = 0;
        sn_cu_fail(c, "out of pinned host memory: %.1f MiB needed", (double)want / (1 << 20));
        return NULL;
    }
    c->hbuf_size = want;
    return c->hbuf;
}
