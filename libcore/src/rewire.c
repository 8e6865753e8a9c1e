/* Degree-preserving randomisation by double-edge swaps (MODEL.md §7.6). */
#include "scnet/graph.h"
#include "scnet/mem.h"
#include "scnet/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Set of edges (open addressing, linear probing, backward-shift deletion
 * so that no tombstones accumulate over millions of swaps). */
typedef struct {
    uint64_t *slot;
    uint64_t mask;
} edge_set;

#define EMPTY UINT64_MAX

static uint64_t mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

static int set_init(edge_set *s, int64_t m)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)m * 2)
        cap <<= 1;
    s->mask = cap - 1;
    s->slot = sn_malloc(sn_mul_size(cap, sizeof *s->slot), "edge hash set");
    if (!s->slot)
        return SN_ENOMEM;
    memset(s->slot, 0xff, cap * sizeof *s->slot);
    return SN_OK;
}

static uint64_t set_find(const edge_set *s, uint64_t k)
{
    uint64_t i = mix(k) & s->mask;
    while (s->slot[i] != EMPTY && s->slot[i] != k)
        i = (i + 1) & s->mask;
    return i;
}

static int set_has(const edge_set *s, uint64_t k) { return s->slot[set_find(s, k)] == k; }

static void set_add(edge_set *s, uint64_t k) { s->slot[set_find(s, k)] = k; }

static void set_del(edge_set *s, uint64_t k)
{
    uint64_t i = set_find(s, k), j = i;
    if (s->slot[i] != k)
        return;
    /* Move later members of the probe run back into the hole when their
     * home slot does not lie cyclically in (i, j]. */
    for (;;) {
        s->slot[i] = EMPTY;
        for (;;) {
            j = (j + 1) & s->mask;
            if (s->slot[j] == EMPTY)
                return;
            uint64_t h = mix(s->slot[j]) & s->mask;
            if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
                continue;
            break;
        }
        s->slot[i] = s->slot[j];
        i = j;
    }
}

static uint64_t key_of(int32_t a, int32_t b)
{
    return a < b ? (uint64_t)a << 32 | (uint32_t)b : (uint64_t)b << 32 | (uint32_t)a;
}

/* Philox words four at a time. */
typedef struct {
    uint64_t seed, stream, ctr;
    sn_u32x4 buf;
    int used;
} word_rng;

static uint32_t next32(word_rng *r)
{
    if (r->used == 4) {
        r->buf = sn_philox(r->seed, r->stream, r->ctr++);
        r->used = 0;
    }
    return r->buf.v[r->used++];
}

/* Uniform in [0, n) without bias (Lemire), n < 2^32. */
static uint32_t below(word_rng *r, uint32_t n)
{
    for (;;) {
        uint64_t m = (uint64_t)next32(r) * n;
        uint32_t l = (uint32_t)m;
        if (l >= n || l >= (uint32_t)(-n) % n)
            return (uint32_t)(m >> 32);
    }
}

/* One attempt: which edges, and which way round the second. */
typedef struct {
    uint32_t e1, e2, flip;
} draw;

static draw next_draw(word_rng *r, uint32_t m)
{
    draw d;
    d.e1 = below(r, m);
    d.e2 = below(r, m);
    d.flip = next32(r) & 1;
    return d;
}

/* Fetch the hash slots an attempt will probe: the two edges it would make
 * and the two it would remove. */
static void prefetch_slots(const sn_graph *g, const edge_set *s, draw d)
{
    int32_t a = g->a[d.e1], b = g->b[d.e1], c = g->a[d.e2], e = g->b[d.e2];
    if (d.flip) {
        int32_t t = c;
        c = e;
        e = t;
    }
    __builtin_prefetch(s->slot + (mix(key_of(a, e)) & s->mask));
    __builtin_prefetch(s->slot + (mix(key_of(c, b)) & s->mask));
    __builtin_prefetch(s->slot + (mix(key_of(a, b)) & s->mask));
    __builtin_prefetch(s->slot + (mix(key_of(c, e)) & s->mask));
}

/* Attempt d; returns 1 when the swap was made. */
static int try_swap(sn_graph *g, edge_set *s, draw d)
{
    if (d.e1 == d.e2)
        return 0;
    int32_t a = g->a[d.e1], b = g->b[d.e1], c = g->a[d.e2], e = g->b[d.e2];
    if (d.flip) {
        int32_t t = c;
        c = e;
        e = t;
    }
    if (a == e || c == b)
        return 0;
    uint64_t k1 = key_of(a, e), k2 = key_of(c, b);
    if (k1 == k2 || set_has(s, k1) || set_has(s, k2))
        return 0;
    set_del(s, key_of(a, b));
    set_del(s, key_of(c, e));
    set_add(s, k1);
    set_add(s, k2);
    g->a[d.e1] = a < e ? a : e;
    g->b[d.e1] = a < e ? e : a;
    g->a[d.e2] = c < b ? c : b;
    g->b[d.e2] = c < b ? b : c;
    return 1;
}

/* The attempts in order, with their memory fetched early: edges two
 * attempts ahead, hash slots one ahead.  Prefetches are only hints, each
 * attempt reads the current state, so the result is that of plain
 * sequential attempts. */
static int64_t swap_loop(sn_graph *g, edge_set *s, word_rng *r, int64_t target)
{
    draw ring[4];
    int64_t done = 0;
    uint32_t m = (uint32_t)g->m;
    for (int k = 0; k < 3; k++)
        ring[k] = next_draw(r, m);
    for (int64_t t = 0; done < target && t < 20 * target; t++) {
        draw d = ring[t & 3], d1 = ring[(t + 1) & 3], d2 = ring[(t + 2) & 3];
        ring[(t + 3) & 3] = next_draw(r, m);
        __builtin_prefetch(g->a + d2.e1);
        __builtin_prefetch(g->b + d2.e1);
        __builtin_prefetch(g->a + d2.e2);
        __builtin_prefetch(g->b + d2.e2);
        prefetch_slots(g, s, d1);
        done += try_swap(g, s, d);
    }
    return done;
}

int sn_graph_rewire(const sn_graph *g, double swaps_per_edge, uint64_t seed, uint64_t stream,
                    sn_graph *out, int64_t *accepted)
{
    edge_set s = {0};
    if (g->m > (int64_t)UINT32_MAX)
        return sn_err(SN_EINVAL, "too many edges to rewire (%lld)", (long long)g->m);
    SN_TRY(sn_graph_alloc(out, g->n, g->m, g->w != NULL));
    memcpy(out->a, g->a, (size_t)g->m * sizeof *g->a);
    memcpy(out->b, g->b, (size_t)g->m * sizeof *g->b);
    if (g->w)
        memcpy(out->w, g->w, (size_t)g->m * sizeof *g->w);
    int64_t done = 0;
    int rc = SN_OK;
    if (g->m >= 2) {
        if ((rc = set_init(&s, g->m)) < 0)
            goto out;
        for (int64_t e = 0; e < g->m; e++)
            set_add(&s, key_of(g->a[e], g->b[e]));
        word_rng r = {seed, stream, 0, {{0}}, 4};
        done = swap_loop(out, &s, &r, (int64_t)ceil(swaps_per_edge * (double)g->m));
    }
    rc = sn_graph_canon(out);
out:
    free(s.slot);
    if (rc < 0)
        sn_graph_free(out);
    else if (accepted)
        *accepted = done;
    return rc;
}
