/* pair_scatter and pair_diag without atomics: the pair list is grouped by
 * endpoint (a counting sort on the host, in pair order), and one warp per
 * endpoint adds its contributions in the order the CPU backend adds them,
 * so results are deterministic.  Grouping needs the indices on the host:
 * one download per distinct list, cached until an index array is written
 * (upload, copy) or freed; no op writes int32 arrays, so the cache cannot
 * go stale.  In a training step that is the positives once per model and
 * each list of negatives once per step. */
#include <stdlib.h>
#include <string.h>

#include "cu.h"

#define T SN_CU_THREADS
#define PS_J 4
#define PS_TILE (32 * PS_J)

/* grouping layout: targets[nseg], starts[nseg + 1], order[2·ne] with
 * order = 2e (endpoint ri[e]) or 2e + 1 (endpoint ci[e]) */
__global__ void k_pair_scatter(const int32_t *grp, int64_t nseg, const int32_t *ri, const int32_t *ci, const real *g,
                               const real *Z, int ldz, int d, real *dZ, int lddz)
{
    int64_t s = (int64_t)blockIdx.x * 8 + threadIdx.y;
    if (s >= nseg)
        return;
    const int32_t *starts = grp + nseg, *order = starts + nseg + 1;
    int c0 = blockIdx.y * PS_TILE + threadIdx.x;
    real *dz = dZ + (int64_t)grp[s] * lddz, acc[PS_J];
    for (int j = 0; j < PS_J; j++)
        acc[j] = c0 + 32 * j < d ? dz[c0 + 32 * j] : (real)0;
    for (int32_t q = starts[s]; q < starts[s + 1]; q++) {
        int32_t code = order[q], e = code >> 1;
        const real *z = Z + (int64_t)((code & 1) ? ri[e] : ci[e]) * ldz;
        real ge = g[e];
        for (int j = 0; j < PS_J; j++)
            if (c0 + 32 * j < d)
                acc[j] += ge * z[c0 + 32 * j];
    }
    for (int j = 0; j < PS_J; j++)
        if (c0 + 32 * j < d)
            dz[c0 + 32 * j] = acc[j];
}

__global__ void k_pair_diag(const int32_t *grp, int64_t nseg, const real *g, const real *x, real *cv)
{
    const int32_t *starts = grp + nseg, *order = starts + nseg + 1;
    SN_CU_FOR(s, nseg)
    {
        real acc = cv[grp[s]];
        for (int32_t q = starts[s]; q < starts[s + 1]; q++) {
            int32_t e = order[q] >> 1;
            acc += g[e] * x[e];
        }
        cv[grp[s]] = acc;
    }
}

/* ------------------------------------------------------------ grouping */

static void entry_drop(sn_cuda *c, sn_cu_pairs *p)
{
    if (p->dev)
        sn_cu_pool_free(c, p->dev);
    memset(p, 0, sizeof *p);
}

static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    const char *x = (const char *)a, *y = (const char *)b;
    return x < y + nb && y < x + na;
}

void sn_cu_pairs_forget(sn_cuda *c, const void *p, size_t bytes)
{
    for (int k = 0; k < SN_CU_PAIR_CACHE; k++) {
        sn_cu_pairs *e = &c->pairs[k];
        size_t nb = (size_t)e->ne * sizeof(int32_t);
        if (e->dev && (overlaps(p, bytes, e->ri, nb) || overlaps(p, bytes, e->ci, nb)))
            entry_drop(c, e);
    }
}

void sn_cu_pairs_release(sn_cuda *c)
{
    for (int k = 0; k < SN_CU_PAIR_CACHE; k++)
        entry_drop(c, &c->pairs[k]);
}

/* Counting sort of the 2·ne endpoints in pair order into out (the
 * grouping layout; segments in order of first appearance); count holds
 * zeros and cursor anything, both indexed by endpoint.  Returns nseg. */
static int64_t group(const int32_t *ri, const int32_t *ci, int64_t ne, int32_t *out, int32_t *count, int32_t *cursor)
{
    int64_t nseg = 0;
    for (int64_t q = 0; q < 2 * ne; q++)
        nseg += count[(q & 1) ? ci[q >> 1] : ri[q >> 1]]++ == 0;
    int32_t *starts = out + nseg, *order = starts + nseg + 1;
    int64_t s = 0;
    int32_t at = 0;
    for (int64_t q = 0; q < 2 * ne; q++) {
        int32_t t = (q & 1) ? ci[q >> 1] : ri[q >> 1];
        if (count[t] > 0) { /* first sight of t: open its segment */
            out[s] = t;
            starts[s++] = at;
            cursor[t] = at;
            at += count[t];
            count[t] = 0;
        }
        order[cursor[t]++] = (int32_t)q;
    }
    starts[nseg] = at;
    return nseg;
}

static sn_cu_pairs *build(sn_cuda *c, sn_cu_pairs *p, const int32_t *ri, const int32_t *ci, int64_t ne)
{
    if (ne >= ((int64_t)1 << 30)) {
        sn_cu_fail(c, "pair list of %lld pairs is too long", (long long)ne);
        return NULL;
    }
    size_t nin = 2 * (size_t)ne, nout = 2 * nin + 1;
    int32_t *h = (int32_t *)sn_cu_hbuf(c, (nin + nout) * sizeof(int32_t));
    if (!h)
        return NULL;
    sn_cu_note(c, cudaMemcpyAsync(h, ri, (size_t)ne * 4, cudaMemcpyDeviceToHost, c->stream), "pair indices");
    sn_cu_note(c, cudaMemcpyAsync(h + ne, ci, (size_t)ne * 4, cudaMemcpyDeviceToHost, c->stream), "pair indices");
    sn_cu_note(c, cudaStreamSynchronize(c->stream), "pair indices");
    if (c->failed)
        return NULL;
    int32_t mx = -1, mn = 0;
    for (size_t q = 0; q < nin; q++) {
        mx = h[q] > mx ? h[q] : mx;
        mn = h[q] < mn ? h[q] : mn;
    }
    int32_t *count = (int32_t *)calloc(2 * ((size_t)mx + 1), sizeof *count);
    if (mn < 0 || !count) {
        free(count);
        sn_cu_fail(c, mn < 0 ? "negative index %d in a pair list" : "out of memory grouping %d pairs", mn < 0 ? mn : (int)ne);
        return NULL;
    }
    int32_t *out = h + nin;
    int64_t nseg = group(h, h + ne, ne, out, count, count + mx + 1);
    free(count);
    size_t bytes = (size_t)(2 * nseg + 1 + (int64_t)nin) * sizeof(int32_t);
    p->dev = (int32_t *)sn_cu_pool_alloc(c, bytes, 0);
    if (!p->dev) {
        sn_cu_fail(c, "out of GPU memory grouping %lld pairs", (long long)ne);
        return NULL;
    }
    sn_cu_note(c, cudaMemcpyAsync(p->dev, out, bytes, cudaMemcpyHostToDevice, c->stream), "pair grouping");
    p->ri = ri;
    p->ci = ci;
    p->ne = ne;
    p->nseg = nseg;
    return p;
}

static sn_cu_pairs *pairs_get(sn_cuda *c, const int32_t *ri, const int32_t *ci, int64_t ne)
{
    sn_cu_pairs *lru = &c->pairs[0];
    for (int k = 0; k < SN_CU_PAIR_CACHE; k++) {
        sn_cu_pairs *p = &c->pairs[k];
        if (p->dev && p->ri == ri && p->ci == ci && p->ne == ne) {
            p->used = ++c->pairs_clock;
            return p;
        }
        if (!p->dev || (lru->dev && p->used < lru->used))
            lru = p;
    }
    entry_drop(c, lru);
    sn_cu_pairs *p = build(c, lru, ri, ci, ne);
    if (p)
        p->used = ++c->pairs_clock;
    return p;
}

static void cu_pair_scatter(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, int64_t ne,
                            const real *Z, int ldz, int d, real *dZ, int lddz)
{
    sn_cuda *c = sn_cu(o);
    if (ne <= 0 || d <= 0)
        return;
    sn_cu_pairs *p = pairs_get(c, ri, ci, ne);
    if (!p || !p->nseg)
        return;
    dim3 grid((unsigned)((p->nseg + 7) / 8), (unsigned)((d + PS_TILE - 1) / PS_TILE)), block(32, 8);
    SN_LAUNCH(k_pair_scatter, grid, block, c->stream, (const int32_t *)p->dev, p->nseg, ri, ci, g, Z, ldz, d, dZ,
              lddz);
    SN_CU_LAUNCHED(c, "pair_scatter");
}

static void cu_pair_diag(sn_ops *o, const int32_t *ri, const int32_t *ci, const real *g, const real *x, int64_t ne,
                         real *cv)
{
    sn_cuda *c = sn_cu(o);
    if (ne <= 0)
        return;
    sn_cu_pairs *p = pairs_get(c, ri, ci, ne);
    if (!p || !p->nseg)
        return;
    SN_LAUNCH(k_pair_diag, sn_cu_blocks(p->nseg, T), T, c->stream, (const int32_t *)p->dev, p->nseg, g, x, cv);
    SN_CU_LAUNCHED(c, "pair_diag");
}

void sn_cu_set_pairs(sn_ops *o)
{
    o->pair_scatter = cu_pair_scatter;
    o->pair_diag = cu_pair_diag;
}
