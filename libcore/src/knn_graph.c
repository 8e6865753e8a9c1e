/* scanpy's obsp matrices from a neighbour list: distances and the UMAP
 * fuzzy-set connectivities (umap-learn's smooth_knn_dist,
 * compute_membership_strengths and fuzzy union), keeping umap's float32
 * arithmetic so the weights agree with scanpy's to the last bits. */
#include "scnet/knn.h"
#include "scnet/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SMOOTH_K_TOLERANCE 1e-5
#define MIN_K_DIST_SCALE 1e-3
#define BISECT_ITERS 64

/* Row i's k - 1 neighbours sorted by column: positions into the row. */
static void by_column(const int32_t *idx, int k, int *ord)
{
    for (int a = 0; a < k - 1; a++)
        ord[a] = a + 1;
    for (int a = 1; a < k - 1; a++) {
        int v = ord[a], p = a;
        while (p > 0 && idx[ord[p - 1]] > idx[v]) {
            ord[p] = ord[p - 1];
            p--;
        }
        ord[p] = v;
    }
}

int sn_knn_distances(const sn_knn *g, sn_csr *d)
{
    int k = g->k;
    int64_t n = g->n, w = k - 1;
    SN_TRY(sn_csr_alloc(d, n, n, n * w));
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        int ord[k];
        by_column(g->idx + i * k, k, ord);
        d->indptr[i + 1] = (i + 1) * w;
        for (int a = 0; a < w; a++) {
            d->indices[i * w + a] = g->idx[i * k + ord[a]];
            d->data[i * w + a] = g->dist[i * k + ord[a]];
        }
    }
    d->indptr[0] = 0;
    return SN_OK;
}

/* umap smooth_knn_dist for one cell: psum, lo, mid, hi are float32 in umap. */
static float smooth_sigma(const float *dist, int k, float rho, double target, double mean_all)
{
    float lo = 0, hi = FLT_MAX, mid = 1;
    for (int it = 0; it < BISECT_ITERS; it++) {
        float psum = 0;
        for (int j = 1; j < k; j++) {
            float dd = dist[j] - rho;
            psum += dd > 0 ? expf(-(dd / mid)) : 1.0f;
        }
        if (fabs((double)psum - target) < SMOOTH_K_TOLERANCE)
            break;
        if ((double)psum > target) {
            hi = mid;
            mid = (float)((double)(lo + hi) / 2.0);
        } else {
            lo = mid;
            mid = hi >= FLT_MAX ? mid * 2 : (float)((double)(lo + hi) / 2.0);
        }
    }
    float sigma = mid;
    if (rho > 0) {
        float c = 0; /* numba's mean of a float32 array: float32 running sum */
        for (int j = 0; j < k; j++)
            c += dist[j];
        double mean = (float)((double)c / k);
        if (sigma < MIN_K_DIST_SCALE * mean)
            sigma = (float)(MIN_K_DIST_SCALE * mean);
    } else if (sigma < MIN_K_DIST_SCALE * mean_all) {
        sigma = (float)(MIN_K_DIST_SCALE * mean_all);
    }
    return sigma;
}

/* Directed weights w (n × n CSR, columns ascending, zeros dropped). */
static int directed_weights(const sn_knn *g, sn_csr *w)
{
    int k = g->k;
    int64_t n = g->n;
    double mean_all = 0, target = log2((double)k);
    for (int64_t e = 0; e < n * k; e++)
        mean_all += g->dist[e];
    mean_all /= (double)(n * k);
    SN_TRY(sn_csr_alloc(w, n, n, n * (k - 1)));
    int64_t *cnt = w->indptr + 1;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float *dist = g->dist + i * k;
        float rho = 0;
        for (int j = 0; j < k && rho == 0; j++)
            rho = dist[j] > 0 ? dist[j] : 0;
        float sigma = smooth_sigma(dist, k, rho, target, mean_all);
        int ord[k], c = 0;
        by_column(g->idx + i * k, k, ord);
        for (int a = 0; a < k - 1; a++) {
            int j = ord[a];
            float dd = dist[j] - rho, val = dd <= 0 || sigma == 0 ? 1.0f : expf(-(dd / sigma));
            if (val == 0)
                continue;
            w->indices[i * (k - 1) + c] = g->idx[i * k + j];
            w->data[i * (k - 1) + c++] = val;
        }
        cnt[i] = c;
    }
    /* compact the rows (those that lost underflowed weights) */
    int64_t p = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = cnt[i];
        memmove(w->indices + p, w->indices + i * (k - 1), (size_t)c * sizeof *w->indices);
        memmove(w->data + p, w->data + i * (k - 1), (size_t)c * sizeof *w->data);
        p += c;
        w->indptr[i + 1] = p;
    }
    w->indptr[0] = 0;
    return SN_OK;
}

/* Union of sorted rows a and b with value (x + y) - x*y, as scipy computes
 * (w + wᵀ) - w∘wᵀ in float32; returns the entries written (out may be NULL
 * to count). */
static int64_t fuzzy_union_row(const sn_csr *a, const sn_csr *b, int64_t i, int32_t *oj, float *ov)
{
    int64_t p = a->indptr[i], pe = a->indptr[i + 1], q = b->indptr[i], qe = b->indptr[i + 1], c = 0;
    while (p < pe || q < qe) {
        int32_t ja = p < pe ? a->indices[p] : INT32_MAX, jb = q < qe ? b->indices[q] : INT32_MAX;
        int32_t j = ja < jb ? ja : jb;
        float x = ja == j ? a->data[p++] : 0, y = jb == j ? b->data[q++] : 0;
        float s = x + y, prod = x * y, v = s - prod;
        if (v == 0)
            continue;
        if (oj) {
            oj[c] = j;
            ov[c] = v;
        }
        c++;
    }
    return c;
}

int sn_knn_connectivities(const sn_knn *g, sn_csr *out)
{
    sn_csr w = {0}, wt = {0};
    memset(out, 0, sizeof *out);
    int rc = directed_weights(g, &w);
    if (rc == SN_OK)
        rc = sn_csr_transpose(&w, &wt);
    int64_t n = g->n, *rowlen = NULL;
    if (rc == SN_OK && !(rowlen = sn_malloc(((size_t)n + 1) * sizeof *rowlen, "row lengths")))
        rc = SN_ENOMEM;
    if (rc < 0)
        goto out;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        rowlen[i] = fuzzy_union_row(&w, &wt, i, NULL, NULL);
    int64_t nnz = 0;
    for (int64_t i = 0; i < n; i++)
        nnz += rowlen[i];
    if ((rc = sn_csr_alloc(out, n, n, nnz)) < 0)
        goto out;
    for (int64_t i = 0; i < n; i++)
        out->indptr[i + 1] = out->indptr[i] + rowlen[i];
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        fuzzy_union_row(&w, &wt, i, out->indices + out->indptr[i], out->data + out->indptr[i]);
out:
    free(rowlen);
    sn_csr_free(&w);
    sn_csr_free(&wt);
    return rc;
}
