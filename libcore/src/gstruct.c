#include "scnet/gstruct.h"
#include "scnet/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sn_hcsr_free(sn_hcsr *m)
{
    free(m->ptr);
    free(m->col);
    free(m->val);
    memset(m, 0, sizeof *m);
}

void sn_gstruct_free(sn_gstruct *g)
{
    sn_hcsr_free(&g->mean);
    sn_hcsr_free(&g->mean_t);
    sn_hcsr_free(&g->gcn);
    sn_hcsr_free(&g->gcn_t);
    sn_hcsr_free(&g->att);
    sn_hcsr_free(&g->att_t);
    free(g->att_ri);
    free(g->att_ci);
    free(g->att_perm);
    free(g->att_eid);
    memset(g, 0, sizeof *g);
}

static int hcsr_alloc(sn_hcsr *m, int32_t nrow, int32_t ncol, int64_t nnz)
{
    m->nrow = nrow;
    m->ncol = ncol;
    m->nnz = (int32_t)nnz;
    m->ptr = sn_calloc((size_t)nrow + 1, sizeof *m->ptr, "graph structure");
    m->col = sn_malloc(sn_mul_size((size_t)nnz + 1, sizeof *m->col), "graph structure");
    m->val = sn_malloc(sn_mul_size((size_t)nnz + 1, sizeof *m->val), "graph structure");
    if (!m->ptr || !m->col || !m->val) {
        sn_hcsr_free(m);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* Counting sort of edges by key (stable: ties keep input order).  Fills
 * ptr of m and order[k] = edge placed at position k. */
static void bucket(const int32_t *key, int64_t ne, int32_t nrow, sn_hcsr *m, int32_t *order)
{
    for (int64_t e = 0; e < ne; e++)
        m->ptr[key[e] + 1]++;
    for (int32_t i = 0; i < nrow; i++)
        m->ptr[i + 1] += m->ptr[i];
    int32_t *pos = malloc(((size_t)nrow + 1) * sizeof *pos);
    memcpy(pos, m->ptr, ((size_t)nrow + 1) * sizeof *pos);
    for (int64_t e = 0; e < ne; e++)
        order[pos[key[e]]++] = (int32_t)e;
    free(pos);
}

static int build_att(sn_gstruct *g, int64_t ne, const int32_t *src, const int32_t *dst)
{
    int rc;
    SN_TRY(hcsr_alloc(&g->att, g->n, g->n, ne));
    SN_TRY(hcsr_alloc(&g->att_t, g->n, g->n, ne));
    g->att_ri = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    g->att_ci = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    g->att_perm = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    g->att_eid = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    int32_t *tord = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    int32_t *where = sn_malloc(sn_mul_size((size_t)ne + 1, 4), "graph structure");
    if (!g->att_ri || !g->att_ci || !g->att_perm || !g->att_eid || !tord || !where) {
        rc = SN_ENOMEM;
        goto out;
    }
    bucket(dst, ne, g->n, &g->att, g->att_eid);
    for (int32_t k = 0; k < (int32_t)ne; k++) {
        int32_t e = g->att_eid[k];
        g->att.col[k] = src[e];
        g->att.val[k] = 1;
        g->att_ri[k] = dst[e];
        g->att_ci[k] = src[e];
        where[e] = k;
    }
    bucket(src, ne, g->n, &g->att_t, tord);
    for (int32_t k = 0; k < (int32_t)ne; k++) {
        g->att_t.col[k] = dst[tord[k]];
        g->att_t.val[k] = 1;
        g->att_perm[k] = where[tord[k]];
    }
    rc = SN_OK;
out:
    free(tord);
    free(where);
    return rc;
}

/* mean (rows = targets) and its transpose (rows = sources), values
 * 1/in-degree of the target; repeated edges keep their multiplicity. */
static int build_mean(sn_gstruct *g, int64_t ne, const int32_t *src, const int32_t *dst, const int32_t *indeg)
{
    SN_TRY(hcsr_alloc(&g->mean, g->n, g->n, ne));
    SN_TRY(hcsr_alloc(&g->mean_t, g->n, g->n, ne));
    for (int32_t k = 0; k < (int32_t)ne; k++) {
        g->mean.col[k] = g->att.col[k];
        g->mean.val[k] = 1.0 / indeg[g->att_ri[k]];
        g->mean_t.col[k] = g->att_t.col[k];
        g->mean_t.val[k] = 1.0 / indeg[g->att_t.col[k]];
    }
    memcpy(g->mean.ptr, g->att.ptr, ((size_t)g->n + 1) * sizeof *g->mean.ptr);
    memcpy(g->mean_t.ptr, g->att_t.ptr, ((size_t)g->n + 1) * sizeof *g->mean_t.ptr);
    return SN_OK;
}

/* gcn: each row i holds its in-edges then the self-loop; weight
 * 1/sqrt(d̂_j d̂_i), d̂ = in-degree + 1.  gcn_t likewise by source. */
static int build_gcn(sn_gstruct *g, const int32_t *indeg)
{
    int32_t n = g->n;
    int64_t nnz = (int64_t)g->att.nnz + n;
    SN_TRY(hcsr_alloc(&g->gcn, n, n, nnz));
    SN_TRY(hcsr_alloc(&g->gcn_t, n, n, nnz));
    const sn_hcsr *src[2] = {&g->att, &g->att_t};
    sn_hcsr *dst[2] = {&g->gcn, &g->gcn_t};
    for (int t = 0; t < 2; t++) {
        int32_t p = 0;
        for (int32_t i = 0; i < n; i++) {
            dst[t]->ptr[i] = p;
            for (int32_t k = src[t]->ptr[i]; k < src[t]->ptr[i + 1]; k++) {
                int32_t j = src[t]->col[k];
                dst[t]->col[p] = j;
                dst[t]->val[p++] = 1.0 / sqrt((double)(indeg[j] + 1) * (indeg[i] + 1));
            }
            dst[t]->col[p] = i;
            dst[t]->val[p++] = 1.0 / (indeg[i] + 1);
        }
        dst[t]->ptr[n] = p;
    }
    return SN_OK;
}

int sn_gstruct_build(int32_t n, int64_t ne, const int32_t *src, const int32_t *dst, sn_gstruct *g)
{
    memset(g, 0, sizeof *g);
    if (ne > INT32_MAX - n)
        return sn_err(SN_EINVAL, "graph too large (%lld edges)", (long long)ne);
    g->n = n;
    g->ne = (int32_t)ne;
    int32_t *indeg = sn_calloc((size_t)n + 1, sizeof *indeg, "graph structure");
    if (!indeg)
        return SN_ENOMEM;
    for (int64_t e = 0; e < ne; e++) {
        if (src[e] < 0 || src[e] >= n || dst[e] < 0 || dst[e] >= n || src[e] == dst[e]) {
            free(indeg);
            return sn_err(SN_EINVAL, "graph edge %lld (%d -> %d) is out of range or a self-loop", (long long)e,
                          src[e], dst[e]);
        }
        indeg[dst[e]]++;
    }
    int rc = build_att(g, ne, src, dst);
    if (rc == SN_OK)
        rc = build_mean(g, ne, src, dst, indeg);
    if (rc == SN_OK)
        rc = build_gcn(g, indeg);
    free(indeg);
    if (rc < 0)
        sn_gstruct_free(g);
    return rc;
}
