/* Approximate neighbours for large data: k-means inverted lists (IVF).
 * Cells are assigned to their nearest of about sqrt(n) centroids; each cell
 * scans the members of its nprobe nearest lists with float distances and
 * keeps k + 8 candidates, whose exact distances then decide the order.
 * Everything is seeded and reduced in fixed order, so the graph does not
 * depend on the thread count. */
#include "scnet/knn.h"
#include "scnet/mem.h"
#include "scnet/philox.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "blas.h"
#include "knn_int.h"

#define KMEANS_ITERS 12
/* The exact search's lists only steer which cells it screens first: 4
 * iterations find the same neighbours as 12, 3 ms sooner at 10 000 cells. */
#define EXACT_KMEANS_ITERS 4
#define SAMPLE_PER_LIST 64

int sn_knn_ivf(const sn_mat *x, const sn_knn_opts *o, sn_knn *g);

/* m distinct indices of [0, n) in random order (partial Fisher-Yates). */
static int64_t *sample_indices(int64_t n, int64_t m, uint64_t seed, uint64_t stream)
{
    int64_t *p = sn_malloc(((size_t)n + 1) * sizeof *p, "a cell sample");
    if (!p)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    sn_rng r;
    sn_rng_init(&r, seed, stream);
    for (int64_t i = 0; i < m; i++) {
        int64_t j = i + (int64_t)sn_rng_below(&r, (uint64_t)(n - i));
        int64_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

static void row_norms(const double *X, int64_t n, int d, double *norm)
{
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int t = 0; t < d; t++)
            s += X[i * d + t] * X[i * d + t];
        norm[i] = s;
    }
}

/* Centroids C (nlist × d) from iters Lloyd iterations on a sample of X. */
static int kmeans(const double *X, int64_t n, int d, int nlist, int iters, uint64_t seed, double *C)
{
    int64_t ns = (int64_t)nlist * SAMPLE_PER_LIST < n ? (int64_t)nlist * SAMPLE_PER_LIST : n;
    int64_t *pick = sample_indices(n, ns, seed, 0x4b4d45414e53ull);
    double *S = sn_malloc(sn_mul_size((size_t)ns, (size_t)d * sizeof *S), "the k-means sample");
    double *sn = sn_malloc(((size_t)ns + 1) * sizeof *sn, "the k-means sample");
    double *cn = sn_malloc(((size_t)nlist + 1) * sizeof *cn, "centroid norms");
    double *sum = sn_calloc((size_t)nlist * (d + 1), sizeof *sum, "centroid sums");
    int32_t *lab = sn_malloc(((size_t)ns + 1) * sizeof *lab, "k-means labels");
    double *ld = sn_malloc(((size_t)ns + 1) * sizeof *ld, "k-means distances");
    int rc = pick && S && sn && cn && sum && lab && ld ? SN_OK : SN_ENOMEM;
    if (rc < 0)
        goto out;
    for (int64_t s = 0; s < ns; s++)
        memcpy(S + s * d, X + pick[s] * d, (size_t)d * sizeof *S);
    row_norms(S, ns, d, sn);
    memcpy(C, S, (size_t)nlist * d * sizeof *C); /* the sample is in random order */
    for (int it = 0; it < iters && rc == SN_OK; it++) {
        row_norms(C, nlist, d, cn);
        if ((rc = sn_knn_gemm_topm(S, sn, ns, C, cn, nlist, d, 1, lab, ld)) < 0)
            break;
        memset(sum, 0, (size_t)nlist * (d + 1) * sizeof *sum);
        for (int64_t s = 0; s < ns; s++) { /* sequential: a fixed order */
            double *c = sum + (int64_t)lab[s] * (d + 1);
            for (int t = 0; t < d; t++)
                c[t] += S[s * d + t];
            c[d] += 1;
        }
        for (int c = 0; c < nlist; c++)
            if (sum[(int64_t)c * (d + 1) + d] > 0)
                for (int t = 0; t < d; t++)
                    C[(int64_t)c * d + t] = sum[(int64_t)c * (d + 1) + t] / sum[(int64_t)c * (d + 1) + d];
    }
out:
    free(pick);
    free(S);
    free(sn);
    free(cn);
    free(sum);
    free(lab);
    free(ld);
    return rc;
}

typedef struct {
    int nlist, nprobe;
    int64_t *start;  /* nlist + 1: first member of each list in cells order */
    int32_t *member; /* cells grouped by list, ascending within a list */
    int64_t *bstart; /* nlist + 1: first packed block of each list */
    sn_knn_pack pk;  /* members packed list by list (each list starts a block) */
    int32_t *probe;  /* n × nprobe nearest lists, nearest first */
} ivf_t;

static void ivf_free(ivf_t *v)
{
    free(v->start);
    free(v->member);
    free(v->bstart);
    free(v->probe);
    sn_knn_pack_free(&v->pk);
}

/* Pack every list's members, each list padded to whole blocks. */
static int ivf_pack(const sn_mat *x, ivf_t *v)
{
    int d = (int)x->ncol;
    int64_t slots = 0;
    for (int c = 0; c < v->nlist; c++) {
        v->bstart[c] = slots / SN_KNN_LANES;
        slots += (v->start[c + 1] - v->start[c] + SN_KNN_LANES - 1) / SN_KNN_LANES * SN_KNN_LANES;
    }
    v->bstart[v->nlist] = slots / SN_KNN_LANES;
    int32_t *rows = sn_malloc(((size_t)slots + 1) * sizeof *rows, "inverted lists");
    if (!rows)
        return SN_ENOMEM;
    for (int c = 0; c < v->nlist; c++) {
        int64_t e = v->bstart[c] * SN_KNN_LANES;
        for (int64_t p = v->start[c]; p < v->start[c + 1]; p++)
            rows[e++] = v->member[p];
        for (; e < v->bstart[c + 1] * SN_KNN_LANES; e++)
            rows[e] = -1;
    }
    int rc = sn_knn_pack_rows(x->data, d, rows, slots, &v->pk); /* -1 rows become padding */
    free(rows);
    return rc;
}

static int ivf_lists(const sn_mat *x, ivf_t *v)
{
    int64_t n = x->nrow;
    v->start = sn_calloc((size_t)v->nlist + 2, sizeof *v->start, "inverted lists");
    v->bstart = sn_calloc((size_t)v->nlist + 2, sizeof *v->bstart, "inverted lists");
    v->member = sn_malloc(((size_t)n + 1) * sizeof *v->member, "inverted lists");
    int64_t *pos = sn_malloc(((size_t)v->nlist + 1) * sizeof *pos, "inverted lists");
    if (!v->start || !v->bstart || !v->member || !pos) {
        free(pos);
        return SN_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        v->start[v->probe[i * v->nprobe] + 1]++;
    for (int c = 0; c < v->nlist; c++)
        v->start[c + 1] += v->start[c];
    memcpy(pos, v->start, (size_t)v->nlist * sizeof *pos);
    for (int64_t i = 0; i < n; i++)
        v->member[pos[v->probe[i * v->nprobe]]++] = (int32_t)i;
    free(pos);
    return ivf_pack(x, v);
}

/* Up to four cells of one list searched together over the union of their
 * probed lists (more lists than each asked for only adds candidates). */
static void ivf_group(const sn_mat *x, const ivf_t *v, const int32_t *cells, int nc, int m, sn_knn *g)
{
    int d = (int)x->ncol, nu = 0, cnt[4] = {0, 0, 0, 0};
    int32_t lists[4 * v->nprobe], ci[4 * m];
    double cd[4 * m];
    float q[4 * d];
    for (int a = 0; a < nc; a++) {
        memcpy(q + a * d, x->data + (int64_t)cells[a] * d, (size_t)d * sizeof *q);
        for (int p = 0; p < v->nprobe; p++) {
            int32_t L = v->probe[(int64_t)cells[a] * v->nprobe + p], seen = 0;
            for (int u = 0; u < nu && !seen; u++)
                seen = lists[u] == L;
            if (!seen)
                lists[nu++] = L;
        }
    }
    for (int u = 0; u < nu; u++) {
        int32_t L = lists[u];
        sn_knn_pack view = {d, v->bstart[L + 1] - v->bstart[L], v->pk.P + v->bstart[L] * d * SN_KNN_LANES,
                            v->pk.id + v->bstart[L] * SN_KNN_LANES};
        sn_knn_scan(&view, q, nc, m, cd, ci, cnt);
    }
    for (int a = 0; a < nc; a++) {
        for (int c = cnt[a]; c < m; c++)
            ci[a * m + c] = -1, cd[a * m + c] = INFINITY;
        sn_knn_finish_row(x, cells[a], ci + a * m, cd + a * m, m, -1, g);
    }
}

int sn_knn_ivf(const sn_mat *x, const sn_knn_opts *o, sn_knn *g)
{
    int64_t n = x->nrow;
    int d = (int)x->ncol, k = g->k;
    ivf_t v = {0};
    v.nlist = o->nlist > 0 ? o->nlist : (int)lround(sqrt((double)n));
    v.nlist = v.nlist < 1 ? 1 : v.nlist > n ? (int)n : v.nlist;
    v.nprobe = o->nprobe < 1 ? 1 : o->nprobe > v.nlist ? v.nlist : o->nprobe;
    double *X = NULL, *norm = NULL;
    double *C = sn_malloc(sn_mul_size((size_t)v.nlist, (size_t)d * sizeof *C), "centroids");
    double *cn = sn_malloc(((size_t)v.nlist + 1) * sizeof *cn, "centroid norms");
    double *pd = sn_malloc(sn_mul_size((size_t)n, (size_t)v.nprobe * sizeof *pd), "list probes");
    v.probe = sn_malloc(sn_mul_size((size_t)n, (size_t)v.nprobe * sizeof *v.probe), "list probes");
    int rc = C && cn && pd && v.probe ? sn_knn_to_double(x->data, n, d, &X, &norm) : SN_ENOMEM;
    if (rc == SN_OK)
        rc = kmeans(X, n, d, v.nlist, KMEANS_ITERS, o->seed, C);
    if (rc == SN_OK) {
        row_norms(C, v.nlist, d, cn);
        rc = sn_knn_gemm_topm(X, norm, n, C, cn, v.nlist, d, v.nprobe, v.probe, pd);
    }
    free(X);
    free(norm);
    free(pd);
    free(C);
    free(cn);
    if (rc == SN_OK)
        rc = ivf_lists(x, &v);
    int m = (int)(k + SN_KNN_EXTRA < n ? k + SN_KNN_EXTRA : n);
    if (rc == SN_OK) {
        /* groups of four cells that share their nearest list */
        int64_t ngroups = 0;
        for (int c = 0; c < v.nlist; c++)
            ngroups += (v.start[c + 1] - v.start[c] + 3) / 4;
        int64_t *gfirst = sn_malloc(((size_t)ngroups + 1) * sizeof *gfirst, "search groups");
        if (!gfirst) {
            ivf_free(&v);
            return SN_ENOMEM;
        }
        int64_t e = 0;
        for (int c = 0; c < v.nlist; c++)
            for (int64_t p = v.start[c]; p < v.start[c + 1]; p += 4)
                gfirst[e++] = p;
#pragma omp parallel for schedule(dynamic, 16)
        for (int64_t gi = 0; gi < ngroups; gi++) {
            int64_t p = gfirst[gi], L = v.probe[(int64_t)v.member[p] * v.nprobe];
            int nc = (int)(v.start[L + 1] - p < 4 ? v.start[L + 1] - p : 4);
            ivf_group(x, &v, v.member + p, nc, m, g);
        }
        free(gfirst);
    }
    ivf_free(&v);
    return rc;
}

/* ---- exact search over the lists ----
 * Every list is a candidate, visited in order of its lower bound
 * d(q, centroid) - radius; a list whose bound already reaches a cell's
 * current m-th screened distance cannot hold a closer cell (triangle
 * inequality), so it is skipped, and the candidates are what a scan of all
 * cells would have kept.  The per-cell proof of sn_knn_finish_row then
 * applies as in the brute-force scan. */

/* rad[L]: the largest distance of a member of list L to its centroid. */
static void list_radii(const sn_mat *x, const ivf_t *v, const double *C, double *rad)
{
    int d = (int)x->ncol;
#pragma omp parallel for schedule(dynamic, 4)
    for (int L = 0; L < v->nlist; L++) {
        double r = 0;
        for (int64_t p = v->start[L]; p < v->start[L + 1]; p++) {
            const float *a = x->data + (int64_t)v->member[p] * d;
            double s = 0;
            for (int t = 0; t < d; t++) {
                double u = (double)a[t] - C[(int64_t)L * d + t];
                s += u * u;
            }
            r = s > r ? s : r;
        }
        rad[L] = sqrt(r);
    }
}

typedef struct {
    const ivf_t *v;
    const double *CT; /* the centroids transposed: d rows of nlp (nlist rounded up to 4) */
    int nlp;
    const double *rad;
    int m;
    double rel;
} exact_t;

typedef double v4d __attribute__((vector_size(32)));

static inline v4d sqrt4(v4d s)
{
#if defined(__AVX__)
    return (v4d)_mm256_sqrt_pd((__m256d)s);
#else
    return (v4d){sqrt(s[0]), sqrt(s[1]), sqrt(s[2]), sqrt(s[3])};
#endif
}

/* Lower bounds of the distance of cells[0..nc) to each list's members:
 * lb[a * nlist + L], widened by far more than the rounding of the double
 * arithmetic; lbmin[L] the smallest over the cells.  Four lists at a time
 * (the transposed centroids): a bound needs no particular rounding. */
static void list_bounds(const sn_mat *x, const exact_t *e, const int32_t *cells, int nc, double *lb, double *lbmin)
{
    int d = (int)x->ncol, nl = e->v->nlist;
    for (int L = 0; L < nl; L++)
        lbmin[L] = INFINITY;
    for (int a = 0; a < nc; a++) {
        const float *q = x->data + (int64_t)cells[a] * d;
        for (int L = 0; L < nl; L += 4) {
            v4d s = {0, 0, 0, 0};
            for (int t = 0; t < d; t++) {
                v4d c4;
                memcpy(&c4, e->CT + (int64_t)t * e->nlp + L, sizeof c4);
                v4d u = (double)q[t] - c4;
                s += u * u;
            }
            v4d dq = sqrt4(s);
            for (int j = 0; j < 4 && L + j < nl; j++) {
                double r = e->rad[L + j], b = dq[j] - r - 1e-9 * (dq[j] + r);
                b = b > 0 ? b * b : 0;
                lb[a * nl + L + j] = b;
                lbmin[L + j] = b < lbmin[L + j] ? b : lbmin[L + j];
            }
        }
    }
}

/* CT (d × nlp, nlp = nl rounded up to 4, zero padded) = Cᵀ. */
static double *transpose_centroids(const double *C, int nl, int d, int *nlp)
{
    *nlp = (nl + 3) / 4 * 4;
    double *CT = sn_calloc((size_t)d * (size_t)*nlp, sizeof *CT, "centroids");
    for (int L = 0; CT && L < nl; L++)
        for (int t = 0; t < d; t++)
            CT[(int64_t)t * *nlp + L] = C[(int64_t)L * d + t];
    return CT;
}

static void sort_lists(const double *key, int n, int32_t *order)
{
    for (int i = 0; i < n; i++) {
        int32_t L = (int32_t)i;
        int p = i;
        while (p > 0 && key[order[p - 1]] > key[L]) {
            order[p] = order[p - 1];
            p--;
        }
        order[p] = L;
    }
}

/* Up to four cells of one list: the lists in order of their smallest
 * bound, each scanned when one of the cells may still gain from it. */
static void exact_group(const sn_mat *x, const exact_t *e, const int32_t *cells, int nc, sn_knn *g)
{
    const ivf_t *v = e->v;
    int d = (int)x->ncol, nl = v->nlist, m = e->m, cnt[4] = {0, 0, 0, 0};
    int32_t ci[4 * m], order[nl];
    double cd[4 * m], lb[4 * nl], lbmin[nl];
    float q[4 * d];
    for (int a = 0; a < nc; a++)
        memcpy(q + a * d, x->data + (int64_t)cells[a] * d, (size_t)d * sizeof *q);
    list_bounds(x, e, cells, nc, lb, lbmin);
    sort_lists(lbmin, nl, order);
    for (int u = 0; u < nl; u++) {
        int32_t L = order[u];
        int need = 0, all_full = 1;
        for (int a = 0; a < nc; a++) {
            double thr = cnt[a] == m ? cd[a * m + m - 1] : INFINITY;
            all_full &= lbmin[L] >= thr;
            need |= lb[a * nl + L] < thr;
        }
        if (all_full) /* the bounds only grow from here */
            break;
        if (!need)
            continue;
        sn_knn_pack view = {d, v->bstart[L + 1] - v->bstart[L], v->pk.P + v->bstart[L] * d * SN_KNN_LANES,
                            v->pk.id + v->bstart[L] * SN_KNN_LANES};
        sn_knn_scan(&view, q, nc, m, cd, ci, cnt);
    }
    for (int a = 0; a < nc; a++) {
        for (int c = cnt[a]; c < m; c++)
            ci[a * m + c] = -1, cd[a * m + c] = INFINITY;
        sn_knn_finish_row(x, cells[a], ci + a * m, cd + a * m, m, e->rel, g);
    }
}

/* Lists from k-means on the cells, each cell in the list of its nearest
 * centroid; C (nlist × d) gets the centroids. */
static int build_lists(const sn_mat *x, uint64_t seed, ivf_t *v, double *C)
{
    int64_t n = x->nrow;
    int d = (int)x->ncol;
    double *X = NULL, *norm = NULL, *pd = sn_malloc(((size_t)n + 1) * sizeof *pd, "list assignments");
    double *cn = sn_malloc(((size_t)v->nlist + 1) * sizeof *cn, "centroid norms");
    v->probe = sn_malloc(((size_t)n + 1) * sizeof *v->probe, "list assignments");
    int rc = pd && cn && v->probe ? sn_knn_to_double(x->data, n, d, &X, &norm) : SN_ENOMEM;
    if (rc == SN_OK)
        rc = kmeans(X, n, d, v->nlist, EXACT_KMEANS_ITERS, seed, C);
    if (rc == SN_OK) {
        row_norms(C, v->nlist, d, cn);
        rc = sn_knn_gemm_topm(X, norm, n, C, cn, v->nlist, d, 1, v->probe, pd);
    }
    free(X);
    free(norm);
    free(pd);
    free(cn);
    return rc == SN_OK ? ivf_lists(x, v) : rc;
}

int sn_knn_exact_lists(const sn_mat *x, uint64_t seed, sn_knn *g)
{
    int64_t n = x->nrow;
    int d = (int)x->ncol, k = g->k;
    ivf_t v = {0};
    v.nlist = (int)lround(sqrt((double)n));
    v.nlist = v.nlist < 1 ? 1 : v.nlist > n ? (int)n : v.nlist;
    v.nprobe = 1;
    double *C = sn_malloc(sn_mul_size((size_t)v.nlist, (size_t)d * sizeof *C), "centroids");
    double *rad = sn_malloc(((size_t)v.nlist + 1) * sizeof *rad, "list radii");
    int rc = C && rad ? build_lists(x, seed, &v, C) : SN_ENOMEM;
    int64_t *gfirst = NULL, ngroups = 0;
    for (int c = 0; rc == SN_OK && c < v.nlist; c++)
        ngroups += (v.start[c + 1] - v.start[c] + 3) / 4;
    if (rc == SN_OK && !(gfirst = sn_malloc(((size_t)ngroups + 1) * sizeof *gfirst, "search groups")))
        rc = SN_ENOMEM;
    double *CT = NULL;
    int nlp = 0;
    if (rc == SN_OK && !(CT = transpose_centroids(C, v.nlist, d, &nlp)))
        rc = SN_ENOMEM;
    if (rc == SN_OK) {
        list_radii(x, &v, C, rad);
        int64_t e = 0;
        for (int c = 0; c < v.nlist; c++)
            for (int64_t p = v.start[c]; p < v.start[c + 1]; p += 4)
                gfirst[e++] = p;
        int m = (int)(k + SN_KNN_EXTRA < n ? k + SN_KNN_EXTRA : n);
        exact_t ex = {&v, CT, nlp, rad, m, m < n ? SN_KNN_REL_ERR_PER_DIM * (d + 3) * 2 : -1};
#pragma omp parallel for schedule(dynamic, 16)
        for (int64_t gi = 0; gi < ngroups; gi++) {
            int64_t p = gfirst[gi], L = v.probe[v.member[p]];
            int nc = (int)(v.start[L + 1] - p < 4 ? v.start[L + 1] - p : 4);
            exact_group(x, &ex, v.member + p, nc, g);
        }
    }
    free(CT);
    free(gfirst);
    free(C);
    free(rad);
    ivf_free(&v);
    return rc;
}

int sn_knn_recall(const sn_mat *x, const sn_knn *g, int64_t m, uint64_t seed, double *recall)
{
    int64_t n = x->nrow;
    int k = g->k, d = (int)x->ncol;
    if (m > n)
        m = n;
    if (k < 2 || m < 1) {
        *recall = 1;
        return SN_OK;
    }
    int64_t *pick = sample_indices(n, m, seed, 0x524543414c4cull);
    if (!pick)
        return SN_ENOMEM;
    int64_t found = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : found)
    for (int64_t s = 0; s < m; s++) {
        int64_t i = pick[s];
        double cd[k];
        int32_t ci[k];
        int cnt = 0;
        for (int64_t j = 0; j < n; j++)
            if (j != i)
                sn_knn_cand_insert(cd, ci, &cnt, k - 1, sn_knn_d2(x->data, d, i, j), (int32_t)j);
        double dk = cd[k - 2];
        for (int a = 1; a < k; a++)
            found += sn_knn_d2(x->data, d, i, g->idx[i * k + a]) <= dk;
    }
    *recall = (double)found / (double)(m * (k - 1));
    free(pick);
    return SN_OK;
}
