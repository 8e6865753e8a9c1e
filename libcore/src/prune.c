#include "scnet/prune.h"

#include <stdlib.h>
#include <string.h>

#include "scnet/mem.h"
#include "scnet/schedule.h"

/* CSR (row = target) from a directed edge list with values. */
static int to_csr(int64_t n, const sn_edges32 *e, const float *val, sn_csr *m)
{
    SN_TRY(sn_csr_alloc(m, n, n, e->n));
    for (int64_t k = 0; k < e->n; k++)
        m->indptr[e->dst[k] + 1]++;
    for (int64_t i = 0; i < n; i++)
        m->indptr[i + 1] += m->indptr[i];
    int64_t *pos = sn_malloc((size_t)(n + 1) * sizeof *pos, "the pruned graph");
    if (!pos) {
        sn_csr_free(m);
        return SN_ENOMEM;
    }
    memcpy(pos, m->indptr, (size_t)(n + 1) * sizeof *pos);
    for (int64_t k = 0; k < e->n; k++) {
        int64_t p = pos[e->dst[k]]++;
        m->indices[p] = e->src[k];
        m->data[p] = val[k];
    }
    free(pos);
    int rc = sn_csr_sort_rows(m);
    if (rc < 0)
        sn_csr_free(m);
    return rc;
}

int sn_prune_attention(const sn_csr *att, const sn_prune_opts *o, sn_csr *out, sn_prune_stats *st)
{
    int64_t n = att->nrow, ne = sn_csr_nnz(att);
    sn_edges32 all = {0}, none = {0}, kept = {0};
    float *val = NULL, *kval = NULL;
    int64_t *outdeg = NULL, *left = NULL;
    int rc;
    memset(st, 0, sizeof *st);
    SN_CHECK(sn_edges32_alloc(&all, ne));
    if (!(val = sn_malloc((size_t)(ne + 1) * sizeof *val, "attention"))) {
        rc = SN_ENOMEM;
        goto out;
    }
    /* collection order = row-major order of the matrix (ties: earlier first) */
    for (int64_t i = 0, k = 0; i < n; i++)
        for (int64_t p = att->indptr[i]; p < att->indptr[i + 1]; p++, k++) {
            all.src[k] = att->indices[p];
            all.dst[k] = (int32_t)i;
            val[k] = att->data[p];
        }
    SN_CHECK(sn_prune_candidate(&all, val, &none, o->cap, o->pct, o->protect, &kept, &st->threshold));
    /* values of the kept edges: look them up by (dst, src) in the matrix */
    outdeg = sn_calloc((size_t)n + 1, sizeof *outdeg, "degrees");
    left = sn_calloc((size_t)n + 1, sizeof *left, "degrees");
    kval = sn_malloc((size_t)(kept.n + 1) * sizeof *kval, "attention");
    if (!outdeg || !left || !kval) {
        rc = SN_ENOMEM;
        goto out;
    }
    for (int64_t k = 0; k < ne; k++)
        outdeg[all.src[k]]++;
    for (int64_t k = 0; k < kept.n; k++) {
        int64_t i = kept.dst[k], lo = att->indptr[i], hi = att->indptr[i + 1];
        while (lo < hi) { /* rows are sorted by column */
            int64_t mid = (lo + hi) / 2;
            if (att->indices[mid] < kept.src[k])
                lo = mid + 1;
            else
                hi = mid;
        }
        kval[k] = att->data[lo];
        left[kept.src[k]]++;
    }
    for (int64_t j = 0; j < n; j++)
        st->held += left[j] < outdeg[j] && left[j] == (o->protect < outdeg[j] ? o->protect : outdeg[j]);
    st->before = ne;
    st->after = kept.n;
    rc = to_csr(n, &kept, kval, out);
out:
    sn_edges32_free(&all);
    sn_edges32_free(&kept);
    free(val), free(kval), free(outdeg), free(left);
    return rc;
}

static int has(const sn_csr *g, int64_t i, int32_t j)
{
    int64_t lo = g->indptr[i], hi = g->indptr[i + 1];
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (g->indices[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->indptr[i + 1] && g->indices[lo] == j;
}

int sn_csr_mask_sym(const sn_csr *w, const sn_csr *g, sn_csr *out)
{
    int64_t n = w->nrow, m = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t p = w->indptr[i]; p < w->indptr[i + 1]; p++)
            m += has(g, i, w->indices[p]) || has(g, w->indices[p], (int32_t)i);
    SN_TRY(sn_csr_alloc(out, n, w->ncol, m));
    m = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t p = w->indptr[i]; p < w->indptr[i + 1]; p++)
            if (has(g, i, w->indices[p]) || has(g, w->indices[p], (int32_t)i)) {
                out->indices[m] = w->indices[p];
                out->data[m++] = w->data[p];
            }
        out->indptr[i + 1] = m;
    }
    return SN_OK;
}
