/* Gene networks as canonical edge lists: construction and conversion. */
#include "scnet/graph.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"

#include <stdlib.h>
#include <string.h>

int sn_graph_alloc(sn_graph *g, int64_t n, int64_t m, int weighted)
{
    memset(g, 0, sizeof *g);
    if (n < 0 || n > INT32_MAX || m < 0)
        return sn_err(SN_EINVAL, "graph of %lld nodes and %lld edges is out of range", (long long)n,
                      (long long)m);
    g->n = n;
    g->m = m;
    size_t k = (size_t)(m ? m : 1);
    g->a = sn_malloc(sn_mul_size(k, sizeof *g->a), "edge endpoints");
    g->b = sn_malloc(sn_mul_size(k, sizeof *g->b), "edge endpoints");
    if (weighted)
        g->w = sn_malloc(sn_mul_size(k, sizeof *g->w), "edge weights");
    if (!g->a || !g->b || (weighted && !g->w)) {
        sn_graph_free(g);
        return SN_ENOMEM;
    }
    return SN_OK;
}

void sn_graph_free(sn_graph *g)
{
    free(g->a);
    free(g->b);
    free(g->w);
    memset(g, 0, sizeof *g);
}

typedef struct {
    uint64_t key;
    double w;
} keyed_edge;

static int cmp_keyed(const void *x, const void *y)
{
    uint64_t a = ((const keyed_edge *)x)->key, b = ((const keyed_edge *)y)->key;
    return (a > b) - (a < b);
}

static uint64_t edge_key(int32_t a, int32_t b)
{
    return a < b ? (uint64_t)a << 32 | (uint32_t)b : (uint64_t)b << 32 | (uint32_t)a;
}

int sn_graph_canon(sn_graph *g)
{
    if (g->m == 0)
        return SN_OK;
    keyed_edge *k = sn_malloc(sn_mul_size((size_t)g->m, sizeof *k), "edge sort buffer");
    if (!k)
        return SN_ENOMEM;
    int64_t m = 0;
    for (int64_t e = 0; e < g->m; e++) {
        if (g->a[e] == g->b[e])
            continue;
        k[m].key = edge_key(g->a[e], g->b[e]);
        k[m++].w = g->w ? g->w[e] : 1.0;
    }
    qsort(k, (size_t)m, sizeof *k, cmp_keyed);
    int64_t out = 0;
    for (int64_t e = 0; e < m; e++) {
        if (out > 0 && k[out - 1].key == k[e].key) {
            if (k[e].w > k[out - 1].w)
                k[out - 1].w = k[e].w;
            continue;
        }
        k[out++] = k[e];
    }
    for (int64_t e = 0; e < out; e++) {
        g->a[e] = (int32_t)(k[e].key >> 32);
        g->b[e] = (int32_t)(uint32_t)k[e].key;
        if (g->w)
            g->w[e] = k[e].w;
    }
    g->m = out;
    free(k);
    return SN_OK;
}

int sn_graph_from_csr(const sn_csr *adj, int weighted, sn_graph *g)
{
    if (adj->nrow != adj->ncol)
        return sn_err(SN_EFMT, "adjacency matrix is %lld × %lld, not square", (long long)adj->nrow,
                      (long long)adj->ncol);
    if (weighted)
        SN_TRY(sn_csr_check_weights(adj, NULL)); /* the caller names the matrix */
    SN_TRY(sn_graph_alloc(g, adj->nrow, sn_csr_nnz(adj), weighted));
    int64_t m = 0;
    for (int64_t i = 0; i < adj->nrow; i++)
        for (int64_t p = adj->indptr[i]; p < adj->indptr[i + 1]; p++) {
            if (adj->indices[p] < 0 || adj->indices[p] >= adj->ncol) {
                sn_graph_free(g);
                return sn_err(SN_EFMT, "adjacency column index %d out of range", adj->indices[p]);
            }
            g->a[m] = (int32_t)i;
            g->b[m] = adj->indices[p];
            if (weighted)
                g->w[m] = adj->data[p];
            m++;
        }
    g->m = m;
    int rc = sn_graph_canon(g);
    if (rc < 0)
        sn_graph_free(g);
    return rc;
}

int sn_graph_to_csr(const sn_graph *g, sn_csr *adj)
{
    SN_TRY(sn_csr_alloc(adj, g->n, g->n, 2 * g->m));
    for (int64_t e = 0; e < g->m; e++) {
        adj->indptr[g->a[e] + 1]++;
        adj->indptr[g->b[e] + 1]++;
    }
    for (int64_t i = 0; i < g->n; i++)
        adj->indptr[i + 1] += adj->indptr[i];
    int64_t *pos = sn_malloc(sn_mul_size((size_t)g->n + 1, sizeof *pos), "adjacency cursor");
    if (!pos) {
        sn_csr_free(adj);
        return SN_ENOMEM;
    }
    memcpy(pos, adj->indptr, ((size_t)g->n + 1) * sizeof *pos);
    /* Edges are sorted by (a, b), so visiting them once for the lower
     * neighbours and once for the upper keeps every row sorted. */
    for (int64_t e = 0; e < g->m; e++) {
        int64_t p = pos[g->b[e]]++;
        adj->indices[p] = g->a[e];
        adj->data[p] = g->w ? (float)g->w[e] : 1.0f;
    }
    for (int64_t e = 0; e < g->m; e++) {
        int64_t p = pos[g->a[e]]++;
        adj->indices[p] = g->b[e];
        adj->data[p] = g->w ? (float)g->w[e] : 1.0f;
    }
    free(pos);
    return SN_OK;
}

static int64_t name_id(sn_strmap *map, const char *name, sn_strs *names)
{
    int64_t id = sn_strmap_get(map, name);
    if (id >= 0)
        return id;
    SN_TRY(sn_strs_push(names, name));
    int rc = sn_strmap_put(map, names->v[names->n - 1], names->n - 1, NULL);
    return rc < 0 ? rc : names->n - 1;
}

int sn_graph_from_names(int64_t m, char *const *ea, char *const *eb, const double *w, sn_graph *g,
                        char ***names)
{
    sn_strmap map;
    sn_strs nm = {0};
    int rc;
    memset(g, 0, sizeof *g);
    SN_TRY(sn_strmap_init(&map, 2 * m + 16));
    int32_t *a = sn_malloc(sn_mul_size((size_t)m + 1, sizeof *a), "edge endpoints");
    int32_t *b = sn_malloc(sn_mul_size((size_t)m + 1, sizeof *b), "edge endpoints");
    if (!a || !b) {
        rc = SN_ENOMEM;
        goto out;
    }
    for (int64_t k = 0; k < m; k++) {
        int64_t ia = name_id(&map, ea[k], &nm);
        int64_t ib = ia < 0 ? ia : name_id(&map, eb[k], &nm);
        if ((rc = (int)(ia < 0 ? ia : ib)) < 0)
            goto out;
        if (nm.n > INT32_MAX) {
            rc = sn_err(SN_EINVAL, "more than %d nodes", INT32_MAX);
            goto out;
        }
        a[k] = (int32_t)ia;
        b[k] = (int32_t)ib;
    }
    SN_CHECK(sn_graph_alloc(g, nm.n, m, w != NULL));
    memcpy(g->a, a, (size_t)m * sizeof *a);
    memcpy(g->b, b, (size_t)m * sizeof *b);
    if (w)
        memcpy(g->w, w, (size_t)m * sizeof *w);
    SN_CHECK(sn_graph_canon(g));
    if (!(*names = sn_strs_take(&nm)))
        rc = SN_ENOMEM;
out:
    if (rc < 0)
        sn_graph_free(g);
    sn_strs_free(&nm);
    free(a);
    free(b);
    sn_strmap_free(&map);
    return rc;
}

int sn_graph_subset(const sn_graph *g, const int64_t *map, int64_t n_new, sn_graph *out)
{
    int64_t m = 0;
    for (int64_t e = 0; e < g->m; e++)
        m += map[g->a[e]] >= 0 && map[g->b[e]] >= 0;
    SN_TRY(sn_graph_alloc(out, n_new, m, g->w != NULL));
    m = 0;
    for (int64_t e = 0; e < g->m; e++) {
        int64_t u = map[g->a[e]], v = map[g->b[e]];
        if (u < 0 || v < 0)
            continue;
        out->a[m] = (int32_t)u;
        out->b[m] = (int32_t)v;
        if (g->w)
            out->w[m] = g->w[e];
        m++;
    }
    int rc = sn_graph_canon(out);
    if (rc < 0)
        sn_graph_free(out);
    return rc;
}

void sn_graph_degrees(const sn_graph *g, int64_t *deg)
{
    memset(deg, 0, (size_t)g->n * sizeof *deg);
    for (int64_t e = 0; e < g->m; e++) {
        deg[g->a[e]]++;
        deg[g->b[e]]++;
    }
}

/* ---- differential network ---- */

static int diff_alloc(sn_netdiff *d, int64_t cap)
{
    size_t k = (size_t)(cap ? cap : 1);
    d->u = sn_malloc(sn_mul_size(k, sizeof *d->u), "differential edges");
    d->v = sn_malloc(sn_mul_size(k, sizeof *d->v), "differential edges");
    d->side = sn_malloc(k, "differential edges");
    d->w = sn_malloc(sn_mul_size(k, sizeof *d->w), "differential edges");
    return d->u && d->v && d->side && d->w ? SN_OK : SN_ENOMEM;
}

static void diff_push(sn_netdiff *d, int32_t u, int32_t v, int side, double w)
{
    d->u[d->n] = u;
    d->v[d->n] = v;
    d->side[d->n] = (int8_t)side;
    *(side == 1 ? &d->n_only1 : &d->n_only2) += 1;
    d->w[d->n++] = w;
}

/* Merge two canonical edge lists (g1 restricted to shared nodes, h). */
static void diff_merge(const sn_graph *g1, const uint8_t *shared, const sn_graph *h, sn_netdiff *d)
{
    int64_t i = 0, j = 0;
    while (i < g1->m || j < h->m) {
        if (i < g1->m && (!shared[g1->a[i]] || !shared[g1->b[i]])) {
            i++;
            continue;
        }
        uint64_t ki = i < g1->m ? edge_key(g1->a[i], g1->b[i]) : UINT64_MAX;
        uint64_t kj = j < h->m ? edge_key(h->a[j], h->b[j]) : UINT64_MAX;
        if (ki == kj) {
            d->n_common++;
            i++;
            j++;
        } else if (ki < kj) {
            diff_push(d, g1->a[i], g1->b[i], 1, g1->w ? g1->w[i] : 1.0);
            i++;
        } else {
            diff_push(d, h->a[j], h->b[j], 2, h->w ? h->w[j] : 1.0);
            j++;
        }
    }
}

int sn_graph_diff(const sn_graph *g1, char *const *names1, const sn_graph *g2,
                  char *const *names2, sn_netdiff *d)
{
    sn_strmap map;
    sn_graph h = {0};
    int64_t *to1 = NULL;
    uint8_t *shared = NULL;
    int rc;
    memset(d, 0, sizeof *d);
    SN_TRY(sn_strmap_init(&map, g1->n + 16));
    for (int64_t i = 0; i < g1->n; i++)
        if ((rc = sn_strmap_put(&map, names1[i], i, NULL)) < 0)
            goto out;
    to1 = sn_malloc(sn_mul_size((size_t)g2->n + 1, sizeof *to1), "node map");
    shared = sn_calloc((size_t)g1->n + 1, 1, "shared nodes");
    if (!to1 || !shared) {
        rc = SN_ENOMEM;
        goto out;
    }
    for (int64_t i = 0; i < g2->n; i++) {
        to1[i] = sn_strmap_get(&map, names2[i]);
        if (to1[i] >= 0 && !shared[to1[i]]) {
            shared[to1[i]] = 1;
            d->n_shared++;
        }
    }
    /* g2's edges among shared nodes, renumbered into g1's nodes. */
    SN_CHECK(sn_graph_subset(g2, to1, g1->n, &h));
    SN_CHECK(diff_alloc(d, g1->m + h.m));
    diff_merge(g1, shared, &h, d);
out:
    if (rc < 0)
        sn_netdiff_free(d);
    sn_graph_free(&h);
    free(to1);
    free(shared);
    sn_strmap_free(&map);
    return rc;
}

void sn_netdiff_free(sn_netdiff *d)
{
    free(d->u);
    free(d->v);
    free(d->side);
    free(d->w);
    memset(d, 0, sizeof *d);
}
