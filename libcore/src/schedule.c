#include "scnet/schedule.h"
#include "scnet/mem.h"
#include "scnet/metrics.h"
#include "scnet/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sn_edges32_free(sn_edges32 *e)
{
    free(e->src);
    free(e->dst);
    e->src = e->dst = NULL;
    e->n = 0;
}

int sn_edges32_alloc(sn_edges32 *e, int64_t n)
{
    e->n = n;
    e->src = sn_malloc(sn_mul_size((size_t)n + 1, sizeof(int32_t)), "edge lists");
    e->dst = sn_malloc(sn_mul_size((size_t)n + 1, sizeof(int32_t)), "edge lists");
    if (!e->src || !e->dst) {
        sn_edges32_free(e);
        return SN_ENOMEM;
    }
    return SN_OK;
}

void sn_shuffle(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream)
{
    sn_rng r;
    sn_rng_init(&r, seed, stream);
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)sn_rng_below(&r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int has_key(const int64_t *keys, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == k;
}

int64_t *sn_edge_keys(const sn_edges32 *e, int G)
{
    int64_t *k = sn_malloc(sn_mul_size((size_t)e->n + 1, sizeof *k), "edge keys");
    if (!k)
        return NULL;
    for (int64_t i = 0; i < e->n; i++)
        k[i] = (int64_t)e->src[i] * G + e->dst[i];
    qsort(k, (size_t)e->n, sizeof *k, cmp_i64);
    return k;
}

/* Uniform ordered pair (i ≠ j) from 64 random bits. */
static void draw_pair(uint64_t r, int G, int32_t *i, int32_t *j)
{
    uint64_t hi = r >> 32, lo = r & 0xffffffffu;
    int32_t a = (int32_t)((hi * (uint64_t)G) >> 32);
    int32_t b = (int32_t)((lo * (uint64_t)(G - 1)) >> 32);
    *i = a;
    *j = b + (b >= a);
}

void sn_negatives(int G, const int64_t *keys, int64_t nkeys, int64_t n, uint64_t seed, uint64_t stream, int32_t *ri,
                  int32_t *ci)
{
#pragma omp parallel for schedule(static)
    for (int64_t idx = 0; idx < n; idx++) {
        int32_t a = 0, b = 1;
        for (uint64_t t = 0; t < 1024; t++) {
            draw_pair(sn_philox_u64(seed, stream, ((uint64_t)idx << 10) | t), G, &a, &b);
            if (!has_key(keys, nkeys, (int64_t)a * G + b))
                break;
        }
        ri[idx] = a;
        ci[idx] = b;
    }
}

/* A small open-addressing set of int64 keys. */
typedef struct {
    int64_t *k;
    uint64_t cap;
} kset;

static int kset_add(kset *s, int64_t key)
{
    uint64_t h = ((uint64_t)key * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->k[h] != -1) {
        if (s->k[h] == key)
            return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->k[h] = key;
    return 1;
}

static int test_negatives(int G, int64_t n, const int32_t *a, const int32_t *b, int64_t nt, uint64_t seed,
                          sn_edges32 *neg)
{
    kset s = {NULL, 16};
    while (s.cap < (uint64_t)(n + nt) * 2 + 16)
        s.cap <<= 1;
    s.k = sn_malloc(sn_mul_size(s.cap, sizeof *s.k), "test pairs");
    if (!s.k)
        return SN_ENOMEM;
    memset(s.k, 0xff, s.cap * sizeof *s.k);
    for (int64_t e = 0; e < n; e++)
        kset_add(&s, (int64_t)a[e] * G + b[e]);
    int rc = sn_edges32_alloc(neg, nt);
    sn_rng r;
    sn_rng_init(&r, seed, 2);
    double pairs = (double)G * (G - 1) / 2;
    if (rc == SN_OK && (double)(n + nt) > pairs)
        rc = sn_err(SN_EINVAL, "too few gene pairs for %lld test negatives", (long long)nt);
    for (int64_t e = 0; rc == SN_OK && e < nt;) {
        int32_t i, j;
        draw_pair(sn_rng_u64(&r), G, &i, &j);
        if (i > j) {
            int32_t t = i;
            i = j;
            j = t;
        }
        if (kset_add(&s, (int64_t)i * G + j)) {
            neg->src[e] = i;
            neg->dst[e++] = j;
        }
    }
    free(s.k);
    return rc;
}

int sn_ppi_split(int G, int64_t n, const int32_t *a, const int32_t *b, double test_frac, uint64_t seed,
                 sn_edges32 *train, sn_edges32 *test_pos, sn_edges32 *test_neg)
{
    int64_t nt = (int64_t)floor(test_frac * (double)n);
    int64_t *perm = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *perm), "the PPI split");
    if (!perm)
        return SN_ENOMEM;
    sn_shuffle(perm, n, seed, 1);
    int rc = sn_edges32_alloc(test_pos, nt);
    if (rc == SN_OK)
        rc = sn_edges32_alloc(train, 2 * (n - nt));
    for (int64_t e = 0; rc == SN_OK && e < n; e++) {
        int64_t k = perm[e];
        if (e < nt) {
            test_pos->src[e] = a[k];
            test_pos->dst[e] = b[k];
        } else {
            int64_t t = 2 * (e - nt);
            train->src[t] = a[k], train->dst[t] = b[k];
            train->src[t + 1] = b[k], train->dst[t + 1] = a[k];
        }
    }
    free(perm);
    if (rc == SN_OK)
        rc = test_negatives(G, n, a, b, nt, seed, test_neg);
    if (rc < 0) {
        sn_edges32_free(train);
        sn_edges32_free(test_pos);
        sn_edges32_free(test_neg);
    }
    return rc;
}

int sn_knn_union(int N, int k, const int32_t *knn, sn_edges32 *out)
{
    sn_edges32 d;
    SN_TRY(sn_edges32_alloc(&d, 2 * (int64_t)N * k));
    int64_t m = 0;
    for (int i = 0; i < N; i++)
        for (int t = 0; t < k; t++) {
            int32_t j = knn[(int64_t)i * k + t];
            if (j < 0 || j == i)
                continue;
            d.src[m] = i, d.dst[m++] = j;
            d.src[m] = j, d.dst[m++] = i;
        }
    int64_t *key = sn_malloc(sn_mul_size((size_t)m + 1, sizeof *key), "the cell graph");
    if (!key) {
        sn_edges32_free(&d);
        return SN_ENOMEM;
    }
    for (int64_t e = 0; e < m; e++)
        key[e] = (int64_t)d.src[e] * N + d.dst[e];
    qsort(key, (size_t)m, sizeof *key, cmp_i64);
    int64_t u = 0;
    for (int64_t e = 0; e < m; e++)
        if (e == 0 || key[e] != key[e - 1])
            key[u++] = key[e];
    int rc = sn_edges32_alloc(out, u);
    for (int64_t e = 0; rc == SN_OK && e < u; e++) {
        out->src[e] = (int32_t)(key[e] / N);
        out->dst[e] = (int32_t)(key[e] % N);
    }
    free(key);
    sn_edges32_free(&d);
    return rc;
}

typedef struct {
    int32_t src;
    float a;
    int64_t pos;
} ranked;

/* By source, then attention descending, then collection order. */
static int cmp_ranked(const void *x, const void *y)
{
    const ranked *p = x, *q = y;
    if (p->src != q->src)
        return (p->src > q->src) - (p->src < q->src);
    if (p->a != q->a)
        return (p->a < q->a) - (p->a > q->a);
    return (p->pos > q->pos) - (p->pos < q->pos);
}

int sn_prune_candidate(const sn_edges32 *col, const float *alpha, const sn_edges32 *rem, double cap, double pct,
                       int protect, sn_edges32 *out, double *thr)
{
    int64_t n = col->n;
    double *a = sn_malloc((size_t)(n ? n : 1) * sizeof *a, "pruning");
    ranked *r = sn_malloc((size_t)(n ? n : 1) * sizeof *r, "pruning");
    uint8_t *keep = sn_calloc((size_t)(n ? n : 1), 1, "pruning");
    int rc = SN_ENOMEM;
    if (!a || !r || !keep || sn_edges32_alloc(out, n + rem->n) < 0)
        goto done;
    rc = SN_OK;
    for (int64_t e = 0; e < n; e++)
        a[e] = alpha[e];
    *thr = n ? fmin(cap, sn_percentile(a, n, pct)) : cap;
    for (int64_t e = 0; e < n; e++) {
        keep[e] = alpha[e] >= *thr;
        r[e] = (ranked){col->src[e], alpha[e], e};
    }
    qsort(r, (size_t)n, sizeof *r, cmp_ranked);
    for (int64_t e = 0, rank = 0; e < n; e++) {
        rank = e > 0 && r[e].src == r[e - 1].src ? rank + 1 : 0;
        if (rank < protect)
            keep[r[e].pos] = 1;
    }
    int64_t m = 0;
    for (int64_t e = 0; e < n; e++)
        if (keep[e])
            out->src[m] = col->src[e], out->dst[m++] = col->dst[e];
    for (int64_t e = 0; e < rem->n; e++)
        out->src[m] = rem->src[e], out->dst[m++] = rem->dst[e];
    out->n = m;
done:
    free(a);
    free(r);
    free(keep);
    return rc;
}
