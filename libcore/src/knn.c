#include "scnet/knn.h"
#include "scnet/log.h"
#include "scnet/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "knn_int.h"

#define QB 64   /* query rows per block */
#define RB 2048 /* reference rows per GEMM tile */

int sn_knn_ivf(const sn_mat *x, const sn_knn_opts *o, sn_knn *g);

void sn_knn_defaults(sn_knn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->k = 25;
    o->method = SN_KNN_AUTO;
    o->nprobe = SN_KNN_NPROBE;
    o->seed = 42;
}

void sn_knn_free(sn_knn *g)
{
    free(g->idx);
    free(g->dist);
    memset(g, 0, sizeof *g);
}

int sn_knn_to_double(const float *x, int64_t n, int d, double **X, double **norm)
{
    *X = sn_malloc(sn_mul_size((size_t)n, (size_t)d * sizeof **X), "coordinates");
    *norm = sn_malloc(((size_t)n + 1) * sizeof **norm, "coordinate norms");
    if (!*X || !*norm) {
        free(*X);
        free(*norm);
        return SN_ENOMEM;
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int t = 0; t < d; t++) {
            double v = x[i * d + t];
            (*X)[i * d + t] = v;
            s += v * v;
        }
        (*norm)[i] = s;
    }
    return SN_OK;
}

/* One block of queries against every reference tile. */
static void topm_block(const double *Xq, const double *nq, int64_t q0, int qb, const double *Xr, const double *nr,
                       int64_t nr_rows, int d, int m, int32_t *oi, double *od, double *tile)
{
    int cnt[QB];
    for (int q = 0; q < qb; q++)
        cnt[q] = 0;
    for (int64_t r0 = 0; r0 < nr_rows; r0 += RB) {
        int rb = (int)(nr_rows - r0 < RB ? nr_rows - r0 : RB);
        cblas_dgemm(SN_CBLAS_ROW, SN_CBLAS_NOTRANS, SN_CBLAS_TRANS, qb, rb, d, -2.0, Xq + q0 * d, d, Xr + r0 * d, d,
                    0.0, tile, rb);
        for (int q = 0; q < qb; q++) {
            double *cd = od + (q0 + q) * m, base = nq[q0 + q];
            int32_t *ci = oi + (q0 + q) * m;
            const double *t = tile + (int64_t)q * rb;
            for (int r = 0; r < rb; r++) {
                double v = base + nr[r0 + r] + t[r];
                if (cnt[q] < m || v < cd[m - 1])
                    sn_knn_cand_insert(cd, ci, &cnt[q], m, v, (int32_t)(r0 + r));
            }
        }
    }
    for (int q = 0; q < qb; q++)
        for (int c = cnt[q]; c < m; c++) {
            oi[(q0 + q) * m + c] = -1;
            od[(q0 + q) * m + c] = INFINITY;
        }
}

int sn_knn_gemm_topm(const double *Xq, const double *nq, int64_t nq_rows, const double *Xr, const double *nr,
                     int64_t nr_rows, int d, int m, int32_t *oi, double *od)
{
    int64_t nblk = (nq_rows + QB - 1) / QB;
    int fail = 0;
    /* The BLAS calls run inside this parallel region, where OpenBLAS
     * (OpenMP build) is serial by itself. */
#pragma omp parallel
    {
        double *tile = malloc((size_t)QB * RB * sizeof *tile);
        if (!tile) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < nblk; b++) {
            if (!tile)
                continue;
            int64_t q0 = b * QB;
            int qb = (int)(nq_rows - q0 < QB ? nq_rows - q0 : QB);
            topm_block(Xq, nq, q0, qb, Xr, nr, nr_rows, d, m, oi, od, tile);
        }
        free(tile);
    }
    return fail ? sn_err(SN_ENOMEM, "out of memory: distance tiles") : SN_OK;
}

/* Sort (d, j) pairs by distance, then index (lists are short). */
static void sort_pairs(double *d, int32_t *j, int n)
{
    for (int a = 1; a < n; a++) {
        double v = d[a];
        int32_t w = j[a];
        int p = a;
        while (p > 0 && (d[p - 1] > v || (d[p - 1] == v && j[p - 1] > w))) {
            d[p] = d[p - 1];
            j[p] = j[p - 1];
            p--;
        }
        d[p] = v;
        j[p] = w;
    }
}

/* Every other cell, exactly: the k - 1 nearest by (distance, index). */
static void full_scan(const sn_mat *x, int64_t i, int want, double *cd, int32_t *ci)
{
    int cnt = 0, d = (int)x->ncol;
    for (int64_t j = 0; j < x->nrow; j++)
        if (j != i)
            sn_knn_cand_insert(cd, ci, &cnt, want, sn_knn_d2(x->data, d, i, j), (int32_t)j);
}

void sn_knn_finish_row(const sn_mat *x, int64_t i, const int32_t *ci, const double *cd, int m, double rel,
                       sn_knn *g)
{
    int k = g->k, d = (int)x->ncol, c = 0;
    double ed[m + 1];
    int32_t ej[m + 1];
    for (int a = 0; a < m; a++)
        if (ci[a] >= 0 && ci[a] != i) {
            ed[c] = sn_knn_d2(x->data, d, i, ci[a]);
            ej[c++] = ci[a];
        }
    sort_pairs(ed, ej, c);
    /* Anything outside the screen has a screened value >= cd[m - 1], so an
     * exact distance >= cd[m - 1] (1 - rel): the k - 1 found are final when
     * the last of them is strictly closer. */
    if (k > 1 && (c < k - 1 || (rel >= 0 && !(ed[k - 2] < cd[m - 1] * (1 - rel)))))
        full_scan(x, i, k - 1, ed, ej);
    int32_t *oi = g->idx + i * k;
    float *od = g->dist + i * k;
    oi[0] = (int32_t)i;
    od[0] = 0;
    for (int a = 1; a < k; a++) {
        oi[a] = ej[a - 1];
        od[a] = (float)sqrt(ed[a - 1]);
    }
}

int sn_knn_pack_rows(const float *x, int d, const int32_t *rows, int64_t n, sn_knn_pack *pk)
{
    pk->d = d;
    pk->nblk = (n + SN_KNN_LANES - 1) / SN_KNN_LANES;
    size_t slots = (size_t)pk->nblk * SN_KNN_LANES;
    pk->P = sn_malloc(sn_mul_size(slots, (size_t)d * sizeof *pk->P), "packed coordinates");
    pk->id = sn_malloc((slots + 1) * sizeof *pk->id, "packed coordinates");
    if (!pk->P || !pk->id) {
        sn_knn_pack_free(pk);
        return SN_ENOMEM;
    }
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < pk->nblk; b++)
        for (int u = 0; u < SN_KNN_LANES; u++) {
            int64_t e = b * SN_KNN_LANES + u;
            int32_t r = e < n ? (rows ? rows[e] : (int32_t)e) : -1; /* rows may hold -1 too */
            pk->id[e] = r;
            for (int t = 0; t < d; t++)
                pk->P[(b * d + t) * SN_KNN_LANES + u] = r >= 0 ? x[(int64_t)r * d + t] : 1e18f;
        }
    return SN_OK;
}

void sn_knn_pack_free(sn_knn_pack *pk)
{
    free(pk->P);
    free(pk->id);
    pk->P = NULL;
    pk->id = NULL;
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* Squared distances of 4 queries (rows of q, d each) to one block of 8
 * points over dimensions [t0, t1), added to acc (one vector per query). */
static inline void block_d2(const float *P, int d, int t0, int t1, const float *q, __m256 *acc)
{
    __m256 s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    for (int t = t0; t < t1; t++) {
        __m256 r = _mm256_loadu_ps(P + t * SN_KNN_LANES);
        __m256 w0 = _mm256_sub_ps(r, _mm256_broadcast_ss(q + t));
        __m256 w1 = _mm256_sub_ps(r, _mm256_broadcast_ss(q + d + t));
        __m256 w2 = _mm256_sub_ps(r, _mm256_broadcast_ss(q + 2 * d + t));
        __m256 w3 = _mm256_sub_ps(r, _mm256_broadcast_ss(q + 3 * d + t));
        s0 = _mm256_fmadd_ps(w0, w0, s0);
        s1 = _mm256_fmadd_ps(w1, w1, s1);
        s2 = _mm256_fmadd_ps(w2, w2, s2);
        s3 = _mm256_fmadd_ps(w3, w3, s3);
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

static inline void zero4(__m256 *acc) { acc[0] = acc[1] = acc[2] = acc[3] = _mm256_setzero_ps(); }

/* Lanes of one query's distances below its current threshold, as bits. */
static inline unsigned below(const __m256 *acc, int a, float thr)
{
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(acc[a], _mm256_set1_ps(thr), _CMP_LT_OQ));
}

static inline float lane(const __m256 *acc, int a, int u)
{
    float v[SN_KNN_LANES];
    _mm256_storeu_ps(v, acc[a]);
    return v[u];
}
#else
typedef struct {
    float v[SN_KNN_LANES];
} lanes_t;
#define __m256 lanes_t

/* Squared distances of 4 queries to one block of 8 points over dimensions
 * [t0, t1), added to acc; the fixed-size loops become vector instructions. */
static inline void block_d2(const float *P, int d, int t0, int t1, const float *q, lanes_t *acc)
{
    for (int t = t0; t < t1; t++) {
        const float *r = P + t * SN_KNN_LANES;
        for (int a = 0; a < 4; a++)
            for (int u = 0; u < SN_KNN_LANES; u++) {
                float w = r[u] - q[a * d + t];
                acc[a].v[u] += w * w;
            }
    }
}

static inline void zero4(lanes_t *acc) { memset(acc, 0, 4 * sizeof *acc); }

static inline unsigned below(const lanes_t *acc, int a, float thr)
{
    unsigned m = 0;
    for (int u = 0; u < SN_KNN_LANES; u++)
        m |= (unsigned)(acc[a].v[u] < thr) << u;
    return m;
}

static inline float lane(const lanes_t *acc, int a, int u) { return acc[a].v[u]; }
#endif

void sn_knn_scan(const sn_knn_pack *pk, const float *q, int nq, int m, double *cd, int32_t *ci, int *cnt)
{
    int d = pk->d;
    __m256 acc[4];
    float qb[4 * d], thr[4];
    for (int a = 0; a < 4; a++) { /* fewer than 4 queries: repeat the last */
        memcpy(qb + a * d, q + (a < nq ? a : nq - 1) * d, (size_t)d * sizeof *qb);
        /* the lists hold float values, so the threshold is exact in float */
        thr[a] = a < nq && cnt[a] == m ? (float)cd[a * m + m - 1] : INFINITY;
    }
    /* the leading dimensions (the largest principal components) often
     * rule a whole block out before the rest are added */
    int t0 = d > 8 ? 4 : d;
    for (int64_t b = 0; b < pk->nblk; b++) {
        const float *P = pk->P + b * d * SN_KNN_LANES;
        zero4(acc);
        block_d2(P, d, 0, t0, qb, acc);
        if (t0 < d) {
            unsigned any = 0;
            for (int a = 0; a < nq; a++)
                any |= below(acc, a, thr[a]);
            if (!any)
                continue;
            block_d2(P, d, t0, d, qb, acc);
        }
        for (int a = 0; a < nq; a++) {
            unsigned bits = below(acc, a, thr[a]);
            for (int u = 0; bits; u++, bits >>= 1) {
                int32_t j = pk->id[b * SN_KNN_LANES + u];
                float v = lane(acc, a, u);
                if (!(bits & 1) || j < 0 || !(v < thr[a]))
                    continue;
                sn_knn_cand_insert(cd + a * m, ci + a * m, &cnt[a], m, v, j);
                if (cnt[a] == m)
                    thr[a] = (float)cd[a * m + m - 1];
            }
        }
    }
}

/* Every cell screened against all cells, four queries at a time. */
static int knn_exact(const sn_mat *x, sn_knn *g)
{
    int64_t n = x->nrow;
    int d = (int)x->ncol, k = g->k, m = (int)(k + SN_KNN_EXTRA < n ? k + SN_KNN_EXTRA : n);
    double rel = m < n ? SN_KNN_REL_ERR_PER_DIM * (d + 3) * 2 : -1;
    sn_knn_pack pk;
    SN_TRY(sn_knn_pack_rows(x->data, d, NULL, n, &pk));
    int64_t nq = (n + 3) / 4;
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t b = 0; b < nq; b++) {
        double cd[4 * m];
        int32_t ci[4 * m];
        int cnt[4] = {0, 0, 0, 0}, w = (int)(n - 4 * b < 4 ? n - 4 * b : 4);
        sn_knn_scan(&pk, x->data + 4 * b * d, w, m, cd, ci, cnt);
        for (int a = 0; a < w; a++) {
            for (int c = cnt[a]; c < m; c++)
                ci[a * m + c] = -1, cd[a * m + c] = INFINITY;
            sn_knn_finish_row(x, 4 * b + a, ci + a * m, cd + a * m, m, rel, g);
        }
    }
    sn_knn_pack_free(&pk);
    return SN_OK;
}

int sn_knn_build(const sn_mat *x, const sn_knn_opts *o, sn_knn *g)
{
    memset(g, 0, sizeof *g);
    int64_t n = x->nrow;
    int k = o->k;
    if (n < 1 || x->ncol < 1 || k < 1)
        return sn_err(SN_EINVAL, "neighbours: need at least one cell, one dimension and k >= 1");
    if (n > INT32_MAX)
        return sn_err(SN_EINVAL, "neighbours: more than 2^31 cells");
    if (k > n) {
        k = 1 + (int)(n / 2);
        sn_warn("only %lld cells: using %d neighbours (including the cell itself)", (long long)n, k);
    }
    g->n = n;
    g->k = k;
    g->idx = sn_malloc(sn_mul_size((size_t)n, (size_t)k * sizeof *g->idx), "the neighbour graph");
    g->dist = sn_malloc(sn_mul_size((size_t)n, (size_t)k * sizeof *g->dist), "the neighbour graph");
    if (!g->idx || !g->dist) {
        sn_knn_free(g);
        return SN_ENOMEM;
    }
    sn_knn_method m = o->method;
    if (m == SN_KNN_AUTO)
        m = n <= SN_KNN_EXACT_MAX ? SN_KNN_EXACT : SN_KNN_IVF;
    g->method = m;
    int rc = m == SN_KNN_IVF         ? sn_knn_ivf(x, o, g)
             : n < SN_KNN_LISTS_MIN ? knn_exact(x, g)
                                    : sn_knn_exact_lists(x, o->seed, g);
    if (rc < 0)
        sn_knn_free(g);
    return rc;
}
