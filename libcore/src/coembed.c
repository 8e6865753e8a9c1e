/* Co-embedded gene networks: blocked |Pearson| correlation, exact
 * percentile by histogram refinement, sparse edge emission. */
#include "scnet/coembed.h"
#include "scnet/file.h"
#include "scnet/mem.h"
#include "scnet/metrics.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void sn_coembed_opts_default(sn_coembed_opts *o)
{
    o->percentile = 99.0;
    o->weighted = 0;
    o->block = 0;
}

/* ------------------------------------------------------------------ */
/* Sources of correlation blocks.  rows() fills out[(i−i0)·ld + (j−i0)]
 * with |ρ_ij| for i0 ≤ i < i1 and i < j < n, ld = n − i0; other entries
 * are left undefined. */

typedef struct src src;
struct src {
    int64_t n;
    int64_t work; /* scratch doubles per thread for rows() */
    void (*rows)(const src *s, int64_t i0, int64_t i1, double *out, double *work);
    /* dense: standardised rows z (n × d) */
    int64_t d;
    double *z;
    /* sparse: rows xt (n × ns), its transpose x, means and 1/sqrt(ss) */
    const sn_csr *xt;
    sn_csr x;
    double *mu, *inv;
    int64_t ns;
};

static double clip1(double v)
{
    v = fabs(v);
    return v > 1.0 ? 1.0 : v;
}

typedef double v4d __attribute__((vector_size(32)));

static v4d load4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Columns per packed chunk: d × JC doubles stay in L2 while every row
 * group of the block passes over them. */
#define JC 256

/* pack[t][k][q] = z[jc + 8t + q][k], zero beyond the last row. */
static void pack_cols(const src *s, int64_t jc, int64_t jn, double *pack)
{
    int64_t d = s->d;
    for (int64_t t = 0; t < (jn + 7) / 8; t++)
        for (int q = 0; q < 8; q++) {
            int64_t j = jc + 8 * t + q;
            double *p = pack + t * d * 8 + q;
            for (int64_t k = 0; k < d; k++)
                p[k * 8] = j < jc + jn ? s->z[j * d + k] : 0.0;
        }
}

/* Rows a[0..3] (a[] may repeat the last row) × the 8 packed columns at j,
 * as 8 named accumulators so that they stay in registers.  Every entry is
 * Σ_k a_k b_k summed in k order, the same whatever the blocking. */
static void tile4x8(int64_t d, const double *const a[4], const double *p, int64_t j, int64_t n,
                    double *o[4])
{
    v4d c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    for (int64_t k = 0; k < d; k++, p += 8) {
        v4d b0 = load4(p), b1 = load4(p + 4);
        double s0 = a[0][k], s1 = a[1][k], s2 = a[2][k], s3 = a[3][k];
        v4d a0 = {s0, s0, s0, s0}, a1 = {s1, s1, s1, s1}, a2 = {s2, s2, s2, s2}, a3 = {s3, s3, s3, s3};
        c00 += a0 * b0;
        c01 += a0 * b1;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c30 += a3 * b0;
        c31 += a3 * b1;
    }
    const v4d c[4][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    int qn = n - j < 8 ? (int)(n - j) : 8;
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < qn; q++)
            o[r][j + q] = clip1(c[r][q >> 2][q & 3]);
}

static void dense_rows(const src *s, int64_t i0, int64_t i1, double *out, double *pack)
{
    int64_t n = s->n, ld = n - i0;
    for (int64_t jc = i0 + 1; jc < n; jc += JC) {
        int64_t jn = n - jc < JC ? n - jc : JC;
        pack_cols(s, jc, jn, pack);
        for (int64_t i = i0; i < i1 && i < jc + jn - 1; i += 4) {
            const double *a[4];
            double *o[4];
            for (int r = 0; r < 4; r++) {
                int64_t ir = i + r < i1 ? i + r : i1 - 1;
                a[r] = s->z + ir * s->d;
                o[r] = out + (ir - i0) * ld - i0; /* indexed by column j */
            }
            for (int64_t t = 0; t < (jn + 7) / 8; t++)
                if (jc + 8 * t + 7 > i)
                    tile4x8(s->d, a, pack + t * s->d * 8, jc + 8 * t, n, o);
        }
    }
}

static int64_t first_above(const int32_t *idx, int64_t lo, int64_t hi, int64_t i)
{
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (idx[mid] <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sparse_rows(const src *s, int64_t i0, int64_t i1, double *out, double *work)
{
    (void)work;
    int64_t n = s->n, ld = n - i0;
    const sn_csr *xt = s->xt, *x = &s->x;
    for (int64_t i = i0; i < i1; i++) {
        double *o = out + (i - i0) * ld - i0;
        memset(o + i + 1, 0, (size_t)(n - i - 1) * sizeof *o);
        for (int64_t p = xt->indptr[i]; p < xt->indptr[i + 1]; p++) {
            int64_t c = xt->indices[p];
            double xv = xt->data[p];
            int64_t q = first_above(x->indices, x->indptr[c], x->indptr[c + 1], i);
            for (; q < x->indptr[c + 1]; q++)
                o[x->indices[q]] += xv * (double)x->data[q];
        }
        double nmu = (double)s->ns * s->mu[i];
        for (int64_t j = i + 1; j < n; j++)
            o[j] = clip1((o[j] - nmu * s->mu[j]) * s->inv[i] * s->inv[j]);
    }
}

/* ------------------------------------------------------------------ */
/* Passes over the blocks. */

typedef void (*visit_fn)(void *ctx, int tid, int64_t blk, int64_t i0, int64_t i1,
                         const double *out);

static int64_t block_rows(int64_t n, int64_t want)
{
    if (want > 0)
        return want;
    int64_t bs = n > 0 ? ((int64_t)1 << 21) / n : 256;
    bs = bs < 4 ? 4 : bs > 256 ? 256 : bs;
    return bs & ~(int64_t)3;
}

static int run_pass(const src *s, int64_t bs, visit_fn f, void *ctx)
{
    int nt = omp_get_max_threads();
    int64_t nb = (s->n + bs - 1) / bs;
    double **buf = sn_calloc((size_t)nt, sizeof *buf, "correlation blocks");
    int rc = buf ? SN_OK : SN_ENOMEM;
    size_t per = sn_mul_size((size_t)bs, (size_t)s->n) + (size_t)s->work;
    for (int t = 0; t < nt && rc == SN_OK; t++)
        if (!(buf[t] = sn_malloc(sn_mul_size(per, sizeof **buf), "a block of correlations")))
            rc = SN_ENOMEM;
    if (rc == SN_OK) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int64_t b = 0; b < nb; b++) {
            int tid = omp_get_thread_num();
            int64_t i0 = b * bs, i1 = i0 + bs < s->n ? i0 + bs : s->n;
            if (sn_file_interrupted())
                continue;
            s->rows(s, i0, i1, buf[tid], buf[tid] + (size_t)bs * s->n);
            f(ctx, tid, b, i0, i1, buf[tid]);
        }
        if (sn_file_interrupted())
            rc = sn_err(SN_EINTR, "interrupted");
    }
    for (int t = 0; buf && t < nt; t++)
        free(buf[t]);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Exact selection of ranks by histogram refinement.  Level 0 bins [0, 1]
 * into HB bins; each further level bins the chosen bin of the level above
 * into HB sub-bins.  A value belongs to the candidate set when it falls in
 * the chosen bin at every level, computed by the same arithmetic in every
 * pass, so assignments never disagree between passes. */

#define HB 65536
#define MAXLEV 16
#define COLLECT_CAP ((int64_t)1 << 22)

enum { T_HIST, T_COLLECT, T_DONE };

typedef struct {
    int64_t rank;               /* wanted rank among all n² entries */
    int nlev;                   /* levels with a chosen bin */
    double lo[MAXLEV + 1], scale[MAXLEV + 1];
    int64_t bin[MAXLEV];
    int64_t below, count;       /* entries under the candidate set, in it */
    int state;
    double value;
} target;

static inline int64_t bin_at(const target *t, int l, double v)
{
    double x = l == 0 ? v * HB : (v - t->lo[l]) * t->scale[l];
    int64_t b = x < 0 ? 0 : x >= HB ? HB - 1 : (int64_t)x;
    return b;
}

static int candidate(const target *t, double v)
{
    for (int l = 0; l < t->nlev; l++)
        if (bin_at(t, l, v) != t->bin[l])
            return 0;
    return 1;
}

typedef struct {
    int64_t n;
    int ntarget, nt;
    target *t;
    int64_t *hist;  /* [tid][target][HB] */
    double *mm;     /* [tid][target][2]: min, max of candidates */
    double **col;   /* [tid * ntarget + target] collected values */
    int alias[2];   /* target k shares target 0's candidates and histogram */
    int64_t *ncol, *capcol;
    int oom;
} select_ctx;

static int64_t *hist_slot(select_ctx *c, int tid, int k)
{
    return c->hist + ((int64_t)tid * c->ntarget + k) * HB;
}

static double *mm_slot(select_ctx *c, int tid, int k)
{
    return c->mm + ((int64_t)tid * c->ntarget + k) * 2;
}

static void hist_add(select_ctx *c, int tid, int k, double v, int64_t mult)
{
    target *t = &c->t[k];
    hist_slot(c, tid, k)[bin_at(t, t->nlev, v)] += mult;
    double *mm = mm_slot(c, tid, k);
    mm[0] = v < mm[0] ? v : mm[0];
    mm[1] = v > mm[1] ? v : mm[1];
}

static void collect_add(select_ctx *c, int tid, int k, double v)
{
    int64_t s = (int64_t)tid * c->ntarget + k;
    if (c->ncol[s] == c->capcol[s]) {
        int64_t nc = c->capcol[s] ? 2 * c->capcol[s] : 1024;
        double *p = sn_realloc(c->col[s], sn_mul_size((size_t)nc, sizeof *p), "percentile values");
        if (!p) {
#pragma omp atomic write
            c->oom = 1;
            return;
        }
        c->col[s] = p;
        c->capcol[s] = nc;
    }
    c->col[s][c->ncol[s]++] = v;
}

/* The first histogram takes every value: the hot loop of the first pass. */
static void hist_all(select_ctx *c, int tid, int k, int64_t i0, int64_t i1, const double *out)
{
    int64_t n = c->n, ld = n - i0, *h = hist_slot(c, tid, k);
    double *mm = mm_slot(c, tid, k), lo = mm[0], hi = mm[1];
    for (int64_t i = i0; i < i1; i++) {
        const double *o = out + (i - i0) * ld - i0;
        for (int64_t j = i + 1; j < n; j++) {
            double v = o[j];
            h[bin_at(&c->t[k], 0, v)] += 2;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    mm[0] = lo;
    mm[1] = hi;
}

static void select_visit(void *ctx, int tid, int64_t blk, int64_t i0, int64_t i1, const double *out)
{
    select_ctx *c = ctx;
    int64_t n = c->n, ld = n - i0;
    (void)blk;
    for (int k = 0; k < c->ntarget; k++) {
        target *t = &c->t[k];
        if (t->state == T_DONE || c->alias[k])
            continue;
        if (t->state == T_HIST && t->nlev == 0) {
            hist_all(c, tid, k, i0, i1, out);
            continue;
        }
        for (int64_t i = i0; i < i1; i++)
            for (int64_t j = i + 1; j < n; j++) {
                double v = out[(i - i0) * ld + (j - i0)];
                /* Level 0 inline: nearly every value stops here. */
                if (bin_at(t, 0, v) != t->bin[0] || !candidate(t, v))
                    continue;
                if (t->state == T_HIST)
                    hist_add(c, tid, k, v, 2);
                else
                    collect_add(c, tid, k, v);
            }
    }
}

/* After a histogram pass: choose the bin holding the rank, or finish. */
static void hist_done(select_ctx *c, int k)
{
    target *t = &c->t[k];
    int s = c->alias[k] ? 0 : k; /* summed into thread 0's slots */
    int64_t *h = c->hist + (int64_t)s * HB;
    double vmin = c->mm[2 * s], vmax = c->mm[2 * s + 1];
    if (vmin == vmax) { /* the candidates are one value repeated */
        t->value = vmin;
        t->state = T_DONE;
        return;
    }
    int64_t cum = t->below, b = 0;
    while (b < HB - 1 && cum + h[b] <= t->rank)
        cum += h[b++];
    t->below = cum;
    t->count = h[b];
    t->bin[t->nlev] = b;
    double lo = t->nlev == 0 ? 0.0 : t->lo[t->nlev];
    double sc = t->nlev == 0 ? (double)HB : t->scale[t->nlev];
    t->nlev++;
    t->lo[t->nlev] = lo + (double)b / sc;
    t->scale[t->nlev] = sc * HB;
    if (t->count <= COLLECT_CAP || t->nlev == MAXLEV)
        t->state = T_COLLECT;
}

/* After a collection pass: sort the candidates and read the rank off. */
static int collect_done(select_ctx *c, int k, int64_t ndiag)
{
    target *t = &c->t[k];
    int64_t tot = 0;
    for (int tid = 0; tid < c->nt; tid++)
        tot += c->ncol[tid * c->ntarget + k];
    double *all = sn_malloc(sn_mul_size((size_t)tot + 1, sizeof *all), "percentile values");
    if (!all)
        return SN_ENOMEM;
    int64_t p = 0;
    for (int tid = 0; tid < c->nt; tid++) {
        int64_t s = tid * c->ntarget + k;
        if (c->ncol[s])
            memcpy(all + p, c->col[s], (size_t)c->ncol[s] * sizeof *all);
        p += c->ncol[s];
        c->ncol[s] = 0;
    }
    sn_sort_doubles(all, tot);
    /* The diagonal zeros (when they are candidates) come first; every
     * off-diagonal value stands for two entries, (i, j) and (j, i). */
    int64_t r = t->rank - t->below;
    t->value = r < ndiag ? 0.0 : all[(r - ndiag) / 2];
    t->state = T_DONE;
    free(all);
    return SN_OK;
}

static void select_reset(select_ctx *c)
{
    memset(c->hist, 0, (size_t)c->nt * c->ntarget * HB * sizeof *c->hist);
    for (int64_t s = 0; s < (int64_t)c->nt * c->ntarget; s++) {
        c->mm[2 * s] = INFINITY;
        c->mm[2 * s + 1] = -INFINITY;
    }
}

/* The diagonal: n zeros, counted once each. */
static void select_diag(select_ctx *c)
{
    for (int k = 0; k < c->ntarget; k++)
        if (c->t[k].state == T_HIST && !c->alias[k] && candidate(&c->t[k], 0.0))
            hist_add(c, 0, k, 0.0, c->n);
}

/* Two targets with the same chosen bins need one histogram. */
static void select_aliases(select_ctx *c)
{
    c->alias[0] = 0;
    c->alias[1] = 0;
    if (c->ntarget < 2)
        return;
    const target *a = &c->t[0], *b = &c->t[1];
    if (a->state != T_HIST || b->state != T_HIST || a->nlev != b->nlev)
        return;
    for (int l = 0; l < a->nlev; l++)
        if (a->bin[l] != b->bin[l])
            return;
    c->alias[1] = 1;
}

static void select_reduce(select_ctx *c)
{
    int64_t per = (int64_t)c->ntarget * HB;
    for (int tid = 1; tid < c->nt; tid++) {
        for (int64_t b = 0; b < per; b++)
            c->hist[b] += c->hist[tid * per + b];
        for (int k = 0; k < c->ntarget; k++) {
            double *m0 = c->mm + 2 * k, *m = c->mm + (tid * c->ntarget + k) * 2;
            m0[0] = m[0] < m0[0] ? m[0] : m0[0];
            m0[1] = m[1] > m0[1] ? m[1] : m0[1];
        }
    }
}

static int select_alloc(select_ctx *c, int64_t n, int ntarget)
{
    c->n = n;
    c->ntarget = ntarget;
    c->nt = omp_get_max_threads();
    int64_t slots = (int64_t)c->nt * ntarget;
    c->hist = sn_malloc(sn_mul_size((size_t)slots * HB, sizeof *c->hist), "percentile histograms");
    c->mm = sn_malloc(sn_mul_size((size_t)slots * 2, sizeof *c->mm), "percentile histograms");
    c->col = sn_calloc((size_t)slots, sizeof *c->col, "percentile values");
    c->ncol = sn_calloc((size_t)slots, sizeof *c->ncol, "percentile values");
    c->capcol = sn_calloc((size_t)slots, sizeof *c->capcol, "percentile values");
    return c->hist && c->mm && c->col && c->ncol && c->capcol ? SN_OK : SN_ENOMEM;
}

static void select_free(select_ctx *c)
{
    for (int64_t s = 0; c->col && s < (int64_t)c->nt * c->ntarget; s++)
        free(c->col[s]);
    free(c->hist);
    free(c->mm);
    free(c->col);
    free(c->ncol);
    free(c->capcol);
}

static int any_state(const select_ctx *c, int state)
{
    for (int k = 0; k < c->ntarget; k++)
        if (c->t[k].state == state)
            return 1;
    return 0;
}

/* Values of the ranks t[].rank among all n² entries; counts the passes. */
static int select_ranks(const src *s, int64_t bs, target *t, int ntarget, int *passes)
{
    select_ctx c = {0};
    c.t = t;
    int rc = select_alloc(&c, s->n, ntarget);
    while (rc == SN_OK && (any_state(&c, T_HIST) || any_state(&c, T_COLLECT))) {
        int was_hist[2], was_coll[2];
        for (int k = 0; k < ntarget; k++) {
            was_hist[k] = t[k].state == T_HIST;
            was_coll[k] = t[k].state == T_COLLECT;
        }
        select_reset(&c);
        select_aliases(&c);
        select_diag(&c);
        if ((rc = run_pass(s, bs, select_visit, &c)) < 0)
            break;
        (*passes)++;
        if (c.oom) {
            rc = SN_ENOMEM;
            break;
        }
        select_reduce(&c);
        int64_t ndiag = s->n;
        for (int k = 0; k < ntarget && rc == SN_OK; k++) {
            if (was_hist[k])
                hist_done(&c, k);
            else if (was_coll[k])
                rc = collect_done(&c, k, candidate(&t[k], 0.0) ? ndiag : 0);
        }
    }
    select_free(&c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Edge emission: one list per block, so that concatenating the blocks in
 * order gives edges sorted by (i, j) whatever thread made them. */

typedef struct {
    int64_t n, m, cap;
    int32_t *a, *b;
    double *w;
} edge_buf;

typedef struct {
    int64_t n;
    double tau;
    int weighted;
    edge_buf *blk;
    int oom;
} emit_ctx;

static int edge_push(edge_buf *e, int32_t a, int32_t b, double w, int weighted)
{
    if (e->m == e->cap) {
        int64_t nc = e->cap ? 2 * e->cap : 256;
        int32_t *na = sn_realloc(e->a, sn_mul_size((size_t)nc, sizeof *na), "network edges");
        if (na)
            e->a = na;
        int32_t *nb = sn_realloc(e->b, sn_mul_size((size_t)nc, sizeof *nb), "network edges");
        if (nb)
            e->b = nb;
        double *nw = weighted ? sn_realloc(e->w, sn_mul_size((size_t)nc, sizeof *nw), "network edges")
                              : NULL;
        if (nw)
            e->w = nw;
        if (!na || !nb || (weighted && !nw))
            return SN_ENOMEM;
        e->cap = nc;
    }
    e->a[e->m] = a;
    e->b[e->m] = b;
    if (weighted)
        e->w[e->m] = w;
    e->m++;
    return SN_OK;
}

static void emit_visit(void *ctx, int tid, int64_t blk, int64_t i0, int64_t i1, const double *out)
{
    emit_ctx *c = ctx;
    int64_t n = c->n, ld = n - i0;
    edge_buf *e = &c->blk[blk];
    (void)tid;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = i + 1; j < n; j++) {
            double v = out[(i - i0) * ld + (j - i0)];
            if (v > c->tau && edge_push(e, (int32_t)i, (int32_t)j, v, c->weighted) < 0) {
#pragma omp atomic write
                c->oom = 1;
            }
        }
}

static int emit_edges(const src *s, int64_t bs, double tau, int weighted, sn_graph *g)
{
    int64_t nb = (s->n + bs - 1) / bs;
    emit_ctx c = {s->n, tau, weighted, NULL, 0};
    c.blk = sn_calloc((size_t)nb + 1, sizeof *c.blk, "network edges");
    if (!c.blk)
        return SN_ENOMEM;
    int rc = run_pass(s, bs, emit_visit, &c);
    if (rc == SN_OK && c.oom)
        rc = SN_ENOMEM;
    int64_t m = 0;
    for (int64_t b = 0; b < nb; b++)
        m += c.blk[b].m;
    if (rc == SN_OK)
        rc = sn_graph_alloc(g, s->n, m, weighted);
    for (int64_t b = 0, p = 0; b < nb; b++) {
        edge_buf *e = &c.blk[b];
        if (rc == SN_OK && e->m) {
            memcpy(g->a + p, e->a, (size_t)e->m * sizeof *e->a);
            memcpy(g->b + p, e->b, (size_t)e->m * sizeof *e->b);
            if (weighted)
                memcpy(g->w + p, e->w, (size_t)e->m * sizeof *e->w);
            p += e->m;
        }
        free(e->a);
        free(e->b);
        free(e->w);
    }
    free(c.blk);
    return rc;
}

/* ------------------------------------------------------------------ */

static int coembed_run(const src *s, const sn_coembed_opts *o, sn_graph *g, sn_coembed_info *info)
{
    sn_coembed_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    memset(g, 0, sizeof *g);
    if (!(o->percentile >= 0 && o->percentile <= 100))
        return sn_err(SN_EINVAL, "percentile %g is outside 0..100", o->percentile);
    info->n_entries = s->n * s->n;
    info->threshold = NAN;
    if (s->n == 0)
        return sn_graph_alloc(g, 0, 0, o->weighted);
    int64_t bs = block_rows(s->n, o->block), k0, k1;
    double gamma;
    sn_percentile_ranks(info->n_entries, o->percentile, &k0, &k1, &gamma);
    target t[2];
    memset(t, 0, sizeof t);
    t[0].rank = k0;
    t[1].rank = k1;
    SN_TRY(select_ranks(s, bs, t, k1 == k0 ? 1 : 2, &info->passes));
    double v1 = k1 == k0 ? t[0].value : t[1].value;
    info->threshold = sn_percentile_lerp(t[0].value, v1, gamma);
    SN_TRY(emit_edges(s, bs, info->threshold, o->weighted, g));
    info->passes++;
    return SN_OK;
}

static int check_finite(const sn_mat *x)
{
    for (int64_t i = 0; i < x->nrow * x->ncol; i++)
        if (!isfinite(x->data[i]))
            return sn_err(SN_EFMT, "row %lld has a non-finite value", (long long)(i / x->ncol));
    return SN_OK;
}

/* Standardise rows: z_i = (x_i − mean) / ‖x_i − mean‖, so ρ_ij = z_i · z_j. */
static int dense_src(const sn_mat *x, src *s)
{
    memset(s, 0, sizeof *s);
    SN_TRY(check_finite(x));
    int64_t n = x->nrow, d = x->ncol;
    if (d < 1)
        return sn_err(SN_EINVAL, "matrix has no columns to correlate");
    s->n = n;
    s->d = d;
    s->rows = dense_rows;
    s->work = d * JC;
    s->z = sn_malloc(sn_mul_size((size_t)n * d + 1, sizeof *s->z), "standardised rows");
    if (!s->z)
        return SN_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x->data + i * d;
        double *z = s->z + i * d, mean = 0, ss = 0;
        for (int64_t k = 0; k < d; k++)
            mean += r[k];
        mean /= (double)d;
        for (int64_t k = 0; k < d; k++) {
            z[k] = r[k] - mean;
            ss += z[k] * z[k];
        }
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
        for (int64_t k = 0; k < d; k++)
            z[k] *= inv;
    }
    return SN_OK;
}

static void src_free(src *s)
{
    free(s->z);
    free(s->mu);
    free(s->inv);
    sn_csr_free(&s->x);
}

int sn_coembed_dense(const sn_mat *x, const sn_coembed_opts *o, sn_graph *g, sn_coembed_info *info)
{
    src s;
    int rc = dense_src(x, &s);
    if (rc == SN_OK)
        rc = coembed_run(&s, o, g, info);
    src_free(&s);
    return rc;
}

static int sparse_src(const sn_csr *xt, src *s)
{
    memset(s, 0, sizeof *s);
    int64_t n = xt->nrow, ns = xt->ncol;
    s->n = n;
    s->ns = ns;
    s->xt = xt;
    s->rows = sparse_rows;
    SN_TRY(sn_csr_validate(xt, 1));
    SN_TRY(sn_csr_transpose(xt, &s->x));
    s->mu = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *s->mu), "row means");
    s->inv = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *s->inv), "row scales");
    if (!s->mu || !s->inv)
        return SN_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        double sum = 0, ss = 0;
        for (int64_t p = xt->indptr[i]; p < xt->indptr[i + 1]; p++)
            sum += xt->data[p];
        double mu = ns > 0 ? sum / (double)ns : 0.0;
        for (int64_t p = xt->indptr[i]; p < xt->indptr[i + 1]; p++)
            ss += (xt->data[p] - mu) * (xt->data[p] - mu);
        ss += (double)(ns - (xt->indptr[i + 1] - xt->indptr[i])) * mu * mu;
        s->mu[i] = mu;
        s->inv[i] = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
    }
    return SN_OK;
}

int sn_coembed_sparse(const sn_csr *x, const sn_coembed_opts *o, sn_graph *g, sn_coembed_info *info)
{
    src s;
    int rc = sparse_src(x, &s);
    if (rc == SN_OK)
        rc = coembed_run(&s, o, g, info);
    src_free(&s);
    return rc;
}

int sn_coembed_corr_full(const sn_mat *x, double *out)
{
    src s;
    int64_t n = x->nrow;
    int rc = dense_src(x, &s);
    double *pack = NULL;
    if (rc == SN_OK && !(pack = sn_malloc(sn_mul_size((size_t)s.work, sizeof *pack), "packed columns")))
        rc = SN_ENOMEM;
    if (rc == SN_OK && n > 0) {
        s.rows(&s, 0, n, out, pack);
        for (int64_t i = 0; i < n; i++) {
            out[i * n + i] = 0.0;
            for (int64_t j = 0; j < i; j++)
                out[i * n + j] = out[j * n + i];
        }
    }
    free(pack);
    src_free(&s);
    return rc;
}
