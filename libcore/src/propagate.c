/* Network propagation: many priors at once, in chunks of PW columns,
 * sparse W' times a dense row-major block; the all-ones prior g runs once
 * on its own and is shared by every column. */
#include "scnet/file.h"
#include "scnet/mem.h"
#include "scnet/propagate.h"
#include "prop_engine.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void sn_prop_opts_default(sn_prop_opts *o)
{
    o->alpha = 0.9;
    o->tol = 1e-4;
    o->max_iter = 1000;
    o->normalize = 1;
    o->joint = 0;
}

/* Both directions of every edge, rows sorted, weights kept in double (the
 * float CSR of mat.h would round an edge list's weights). */
static int propnet_alloc(const sn_graph *g, int use_weights, sn_propnet *p)
{
    int64_t n = g->n, nnz = 2 * g->m;
    p->n = n;
    p->indptr = sn_calloc((size_t)n + 1, sizeof *p->indptr, "propagation rows");
    p->indices = sn_malloc(sn_mul_size((size_t)nnz + 1, sizeof *p->indices), "propagation columns");
    p->w = sn_malloc(sn_mul_size((size_t)nnz + 1, sizeof *p->w), "propagation weights");
    int64_t *pos = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *pos), "propagation rows");
    if (!p->indptr || !p->indices || !p->w || !pos) {
        free(pos);
        return SN_ENOMEM;
    }
    for (int64_t e = 0; e < g->m; e++) {
        p->indptr[g->a[e] + 1]++;
        p->indptr[g->b[e] + 1]++;
    }
    for (int64_t i = 0; i < n; i++)
        p->indptr[i + 1] += p->indptr[i];
    memcpy(pos, p->indptr, (size_t)n * sizeof *pos);
    /* Edges are sorted by (a, b): lower neighbours first, then upper. */
    for (int side = 0; side < 2; side++)
        for (int64_t e = 0; e < g->m; e++) {
            int32_t row = side ? g->a[e] : g->b[e], col = side ? g->b[e] : g->a[e];
            int64_t q = pos[row]++;
            p->indices[q] = col;
            p->w[q] = use_weights && g->w ? g->w[e] : 1.0;
        }
    free(pos);
    return SN_OK;
}

int sn_propnet_build(const sn_graph *g, int use_weights, sn_propnet *p)
{
    memset(p, 0, sizeof *p);
    int rc = propnet_alloc(g, use_weights, p);
    double *d = rc == SN_OK ? sn_malloc(sn_mul_size((size_t)g->n + 1, sizeof *d), "node degrees") : NULL;
    if (rc == SN_OK && !d)
        rc = SN_ENOMEM;
    if (rc < 0) {
        sn_propnet_free(p);
        return rc;
    }
    /* The reference adds 1e-4 to every degree, so isolated nodes keep
     * their prior instead of dividing by zero. */
    for (int64_t i = 0; i < p->n; i++) {
        double s = 0;
        for (int64_t q = p->indptr[i]; q < p->indptr[i + 1]; q++)
            s += p->w[q];
        d[i] = s + 1e-4;
    }
    for (int64_t i = 0; i < p->n; i++)
        for (int64_t q = p->indptr[i]; q < p->indptr[i + 1]; q++)
            p->w[q] /= sqrt(d[i] * d[p->indices[q]]);
    free(d);
    return SN_OK;
}

void sn_propnet_free(sn_propnet *p)
{
    free(p->indptr);
    free(p->indices);
    free(p->w);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ */
/* Sums of squares over fixed blocks of rows, combined in block order, so
 * that norms do not depend on how rows were spread over threads. */

#define RB 512

typedef double v4d __attribute__((vector_size(32)));

static v4d ld4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- g, the propagated all-ones prior ----
 * W' is symmetric with spectral radius below 1, so ‖g_{t+1} − g_t‖ never
 * grows: once it is within tol at t_g it stays so, and a column stopping
 * at t ≥ t_g needs g_t.  Iterates from t_g on are kept, computed on demand. */

typedef struct {
    int64_t n;
    int tg;       /* first t with ‖g_{t+1} − g_t‖ ≤ tol (max_iter if never) */
    int last;     /* g_tg .. g_last are held */
    double **g;   /* g[t − tg] */
    int cap;
    double *part; /* row-block sums */
} g_hist;

/* y = α W' x + (1 − α) for a single vector; returns ‖y − x‖. */
static double g_step(const sn_propnet *p, double alpha, const double *x, double *y, double *part)
{
    int64_t nrb = (p->n + RB - 1) / RB;
#pragma omp parallel for schedule(static)
    for (int64_t rb = 0; rb < nrb; rb++) {
        int64_t r1 = (rb + 1) * RB < p->n ? (rb + 1) * RB : p->n;
        double s = 0;
        for (int64_t i = rb * RB; i < r1; i++) {
            double acc = 0;
            for (int64_t q = p->indptr[i]; q < p->indptr[i + 1]; q++)
                acc += p->w[q] * x[p->indices[q]];
            y[i] = alpha * acc + (1.0 - alpha);
            s += (y[i] - x[i]) * (y[i] - x[i]);
        }
        part[rb] = s;
    }
    double s = 0;
    for (int64_t rb = 0; rb < nrb; rb++)
        s += part[rb];
    return sqrt(s);
}

static void g_free(g_hist *h)
{
    for (int k = 0; h->g && k <= h->last - h->tg; k++)
        free(h->g[k]);
    free(h->g);
    free(h->part);
    memset(h, 0, sizeof *h);
}

static int g_init(const sn_propnet *p, const sn_prop_opts *o, g_hist *h)
{
    int64_t n = p->n;
    memset(h, 0, sizeof *h);
    h->n = n;
    h->cap = 16;
    h->g = sn_calloc((size_t)h->cap, sizeof *h->g, "ones propagation");
    h->part = sn_malloc(sn_mul_size((size_t)(n / RB + 1), sizeof *h->part), "ones propagation");
    double *x = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *x), "ones propagation");
    double *y = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *y), "ones propagation");
    if (!h->g || !h->part || !x || !y) {
        free(x);
        free(y);
        g_free(h);
        return SN_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        x[i] = 1.0;
    int t = 0;
    if (o->normalize)
        for (; t < o->max_iter; t++) {
            double d = g_step(p, o->alpha, x, y, h->part);
            if (d <= o->tol)
                break;
            double *sw = x;
            x = y;
            y = sw;
        }
    h->tg = o->normalize ? t : 0;
    h->last = h->tg;
    h->g[0] = x;
    free(y);
    return SN_OK;
}

/* One more iterate at the end of the history. */
static int g_extend(const sn_propnet *p, const sn_prop_opts *o, g_hist *h)
{
    int k = h->last - h->tg + 1;
    if (k == h->cap) {
        double **ng = sn_realloc(h->g, sn_mul_size((size_t)h->cap * 2, sizeof *ng), "ones propagation");
        if (!ng)
            return SN_ENOMEM;
        memset(ng + h->cap, 0, (size_t)h->cap * sizeof *ng);
        h->g = ng;
        h->cap *= 2;
    }
    if (!(h->g[k] = sn_malloc(sn_mul_size((size_t)h->n, sizeof **h->g), "ones propagation")))
        return SN_ENOMEM;
    g_step(p, o->alpha, h->g[k - 1], h->g[k], h->part);
    h->last++;
    return SN_OK;
}

/* g_t for t ≥ tg, extending the history when needed (callers from several
 * threads are serialised); NULL when out of memory. */
static const double *g_at(const sn_propnet *p, const sn_prop_opts *o, g_hist *h, int t)
{
    const double *r = NULL;
#pragma omp critical(sn_prop_g)
    {
        int rc = SN_OK;
        while (rc == SN_OK && h->last < t)
            rc = g_extend(p, o, h);
        if (rc == SN_OK)
            r = h->g[t - h->tg];
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* A chunk: priors c0 .. c0+nc−1 of the job in PW columns (the rest zero). */

typedef struct {
    int64_t c0;
    int nc;
    double *F, *Fn, *Y; /* n × PW, row-major */
    double *R;          /* PW × n results, column-major */
    double *part;       /* row blocks × PW partial sums of squared changes */
    int done[PW], iters[PW];
} chunk;

static void chunk_free(chunk *ch)
{
    free(ch->F);
    free(ch->Fn);
    free(ch->Y);
    free(ch->R);
    free(ch->part);
    memset(ch, 0, sizeof *ch);
}

static int chunk_alloc(chunk *ch, int64_t n)
{
    memset(ch, 0, sizeof *ch);
    size_t sz = sn_mul_size((size_t)n + 1, PW * sizeof(double));
    ch->F = sn_malloc(sz, "propagation block");
    ch->Fn = sn_malloc(sz, "propagation block");
    ch->Y = sn_malloc(sz, "propagation block");
    ch->R = sn_malloc(sz, "propagation results");
    ch->part = sn_malloc(sn_mul_size((size_t)(n / RB + 1), PW * sizeof(double)), "propagation sums");
    if (!ch->F || !ch->Fn || !ch->Y || !ch->R || !ch->part) {
        chunk_free(ch);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* Load priors c0.. into the chunk; buf is an n-vector of scratch. */
static void chunk_load(chunk *ch, const prop_job *job, int64_t n, int64_t c0, int nc, double *buf)
{
    ch->c0 = c0;
    ch->nc = nc;
    memset(ch->Y, 0, (size_t)n * PW * sizeof *ch->Y);
    for (int c = 0; c < nc; c++) {
        memset(buf, 0, (size_t)n * sizeof *buf);
        job->prior(job->ctx, c0 + c, buf);
        for (int64_t i = 0; i < n; i++)
            ch->Y[i * PW + c] = buf[i];
    }
    memcpy(ch->F, ch->Y, (size_t)n * PW * sizeof *ch->F);
    memset(ch->done, 0, sizeof ch->done);
    memset(ch->iters, 0, sizeof ch->iters);
}

/* Σ_q w_q F[j_q, :] over row i's neighbours: the PW = 16 columns in four
 * registers.  Rows some neighbours ahead (across row ends too) are
 * prefetched, since F does not fit in L2 and the neighbours are
 * scattered. */
_Static_assert(PW == 16, "row_gather holds exactly 16 columns");

#define AHEAD 24

static void row_gather(const sn_propnet *p, const double *F, int64_t i, v4d a[4])
{
    int64_t q1 = p->indptr[i + 1], nnz = p->indptr[p->n];
    v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
    for (int64_t q = p->indptr[i]; q < q1; q++) {
        if (q + AHEAD < nnz) {
            const double *nx = F + (int64_t)p->indices[q + AHEAD] * PW;
            __builtin_prefetch(nx);
            __builtin_prefetch(nx + 8);
        }
        const double wq = p->w[q], *f = F + (int64_t)p->indices[q] * PW;
        const v4d w = {wq, wq, wq, wq};
        a0 += w * ld4(f);
        a1 += w * ld4(f + 4);
        a2 += w * ld4(f + 8);
        a3 += w * ld4(f + 12);
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* Fn = α W' F + (1 − α) Y for rows of block rb, and the block's partial
 * sums of squared changes per column. */
static void chunk_rows(const sn_propnet *p, double alpha, chunk *ch, int64_t rb)
{
    int64_t r0 = rb * RB, r1 = r0 + RB < p->n ? r0 + RB : p->n;
    const v4d al = {alpha, alpha, alpha, alpha}, be = (v4d){1, 1, 1, 1} - al;
    v4d s[4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}, a[4];
    for (int64_t i = r0; i < r1; i++) {
        row_gather(p, ch->F, i, a);
        const double *f = ch->F + i * PW, *y = ch->Y + i * PW;
        for (int k = 0; k < 4; k++) {
            v4d v = al * a[k] + be * ld4(y + 4 * k), d = v - ld4(f + 4 * k);
            memcpy(ch->Fn + i * PW + 4 * k, &v, sizeof v);
            s[k] += d * d;
        }
    }
    memcpy(ch->part + rb * PW, s, sizeof s);
}

/* One update; norm[c] = ‖Fn[:, c] − F[:, c]‖. */
static void chunk_step(const sn_propnet *p, double alpha, chunk *ch, int par, double *norm)
{
    int64_t nrb = (p->n + RB - 1) / RB;
#pragma omp parallel for schedule(dynamic, 4) if (par)
    for (int64_t rb = 0; rb < nrb; rb++)
        chunk_rows(p, alpha, ch, rb);
    for (int c = 0; c < PW; c++) {
        double s = 0;
        for (int64_t rb = 0; rb < nrb; rb++)
            s += ch->part[rb * PW + c];
        norm[c] = sqrt(s);
    }
}

/* Keep column c of the current iterate F (divided by g_t) as its result. */
static void chunk_freeze(chunk *ch, int64_t n, int c, int t, const double *g)
{
    double *r = ch->R + (int64_t)c * n;
    for (int64_t i = 0; i < n; i++)
        r[i] = g ? ch->F[i * PW + c] / g[i] : ch->F[i * PW + c];
    ch->done[c] = 1;
    ch->iters[c] = t;
}

static void chunk_swap(chunk *ch)
{
    double *t = ch->F;
    ch->F = ch->Fn;
    ch->Fn = t;
}

static int chunk_report(chunk *ch, const prop_job *job, int64_t n, int tid, int max_iter,
                        sn_prop_stats *st)
{
    for (int c = 0; c < ch->nc; c++) {
        SN_TRY(job->result(job->ctx, tid, ch->c0 + c, ch->R + (int64_t)c * n));
        if (ch->iters[c] > st->max_iters)
            st->max_iters = ch->iters[c];
        st->unconverged += max_iter > 0 && ch->iters[c] >= max_iter;
    }
    return SN_OK;
}

/* The engine's shared state. */
typedef struct {
    const sn_propnet *p;
    const sn_prop_opts *o;
    const prop_job *job;
    g_hist g;
    int failed;
} engine;

/* Freeze column c at t; 0 when g_t could not be had (out of memory). */
static int freeze(engine *e, chunk *ch, int c, int t)
{
    const double *g = NULL;
    if (e->o->normalize && !(g = g_at(e->p, e->o, &e->g, t)))
        return 0;
    chunk_freeze(ch, e->p->n, c, t, g);
    return 1;
}

/* Each column stops on its own 2-norm, not before g's stop. */
static int chunk_run_alone(engine *e, chunk *ch, int par)
{
    double norm[PW];
    for (int t = 0;; t++) {
        int left = 0, stop = t == e->o->max_iter;
        if (!stop)
            chunk_step(e->p, e->o->alpha, ch, par, norm);
        for (int c = 0; c < ch->nc; c++) {
            if (!ch->done[c] && (stop || (t >= e->g.tg && norm[c] <= e->o->tol)) && !freeze(e, ch, c, t))
                return SN_ENOMEM;
            left += !ch->done[c];
        }
        if (!left)
            return SN_OK;
        chunk_swap(ch);
    }
}

static int chunk_count(const prop_job *job) { return (int)((job->ncols + PW - 1) / PW); }

static int chunk_width(const prop_job *job, int64_t c0)
{
    return (int)(job->ncols - c0 < PW ? job->ncols - c0 : PW);
}

static int run_alone(engine *e, sn_prop_stats *st)
{
    int nt = omp_get_max_threads(), rc = SN_OK;
    int64_t nch = chunk_count(e->job), n = e->p->n;
    int par = nch < 2; /* one chunk: spread its rows over the threads instead */
    chunk *ch = sn_calloc((size_t)nt, sizeof *ch, "propagation blocks");
    double *buf = sn_malloc(sn_mul_size((size_t)nt, (size_t)(n + 1) * sizeof *buf), "prior");
    sn_prop_stats *ts = sn_calloc((size_t)nt, sizeof *ts, "propagation statistics");
    if (!ch || !buf || !ts)
        rc = SN_ENOMEM;
    for (int t = 0; t < nt && rc == SN_OK; t++)
        rc = chunk_alloc(&ch[t], n);
    if (rc == SN_OK) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (!par)
        for (int64_t k = 0; k < nch; k++) {
            int tid = omp_get_thread_num(), r;
            if (e->failed || sn_file_interrupted())
                continue;
            chunk_load(&ch[tid], e->job, n, k * PW, chunk_width(e->job, k * PW), buf + (size_t)tid * (n + 1));
            if ((r = chunk_run_alone(e, &ch[tid], par)) == SN_OK)
                r = chunk_report(&ch[tid], e->job, n, tid, e->o->max_iter, &ts[tid]);
            if (r < 0) {
#pragma omp critical(sn_prop_err)
                if (!e->failed)
                    e->failed = r;
            }
        }
        rc = e->failed ? e->failed : sn_file_interrupted() ? sn_err(SN_EINTR, "interrupted") : SN_OK;
    }
    for (int t = 0; ch && t < nt; t++) {
        chunk_free(&ch[t]);
        st->max_iters = ts && ts[t].max_iters > st->max_iters ? ts[t].max_iters : st->max_iters;
        st->unconverged += ts ? ts[t].unconverged : 0;
    }
    free(ch);
    free(buf);
    free(ts);
    return rc;
}

/* Stop all chunks at t (freeze every column). */
static int freeze_all(engine *e, chunk *ch, int64_t nch, int t)
{
    for (int64_t k = 0; k < nch; k++)
        for (int c = 0; c < ch[k].nc; c++)
            if (!freeze(e, &ch[k], c, t))
                return SN_ENOMEM;
    return SN_OK;
}

/* All columns stop together on the Frobenius norm of the whole block. */
static int run_joint(engine *e, sn_prop_stats *st)
{
    int64_t nch = chunk_count(e->job), n = e->p->n;
    chunk *ch = sn_calloc((size_t)nch, sizeof *ch, "propagation blocks");
    double *buf = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *buf), "prior");
    int rc = ch && buf ? SN_OK : SN_ENOMEM;
    for (int64_t k = 0; k < nch && rc == SN_OK; k++)
        if ((rc = chunk_alloc(&ch[k], n)) == SN_OK)
            chunk_load(&ch[k], e->job, n, k * PW, chunk_width(e->job, k * PW), buf);
    for (int t = 0; rc == SN_OK; t++) {
        double norm[PW], fsq = 0;
        int stop = t == e->o->max_iter;
        for (int64_t k = 0; k < nch && !stop; k++) {
            chunk_step(e->p, e->o->alpha, &ch[k], 1, norm);
            for (int c = 0; c < ch[k].nc; c++)
                fsq += norm[c] * norm[c];
        }
        if (stop || (t >= e->g.tg && sqrt(fsq) <= e->o->tol)) {
            rc = freeze_all(e, ch, nch, t);
            break;
        }
        for (int64_t k = 0; k < nch; k++)
            chunk_swap(&ch[k]);
        if (sn_file_interrupted())
            rc = sn_err(SN_EINTR, "interrupted");
    }
    for (int64_t k = 0; k < nch && rc == SN_OK; k++)
        rc = chunk_report(&ch[k], e->job, n, 0, e->o->max_iter, st);
    for (int64_t k = 0; ch && k < nch; k++)
        chunk_free(&ch[k]);
    free(ch);
    free(buf);
    return rc;
}

int sn_prop_engine(const sn_propnet *p, const sn_prop_opts *o, const prop_job *job,
                   sn_prop_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!(o->alpha >= 0 && o->alpha < 1))
        return sn_err(SN_EINVAL, "alpha %g is outside [0, 1)", o->alpha);
    if (!(o->tol > 0) || o->max_iter < 0)
        return sn_err(SN_EINVAL, "tolerance must be positive and max_iter non-negative");
    if (job->ncols == 0 || p->n == 0)
        return SN_OK;
    engine e = {p, o, job, {0}, 0};
    SN_TRY(g_init(p, o, &e.g));
    int rc = o->joint ? run_joint(&e, st) : run_alone(&e, st);
    g_free(&e.g);
    return rc;
}

/* ---- dense priors in, dense results out ---- */

typedef struct {
    const double *F0;
    double *F;
    int64_t n;
} dense_job;

static void dense_prior(void *ctx, int64_t col, double *y)
{
    const dense_job *d = ctx;
    memcpy(y, d->F0 + col * d->n, (size_t)d->n * sizeof *y);
}

static int dense_result(void *ctx, int tid, int64_t col, const double *f)
{
    dense_job *d = ctx;
    (void)tid;
    memcpy(d->F + col * d->n, f, (size_t)d->n * sizeof *f);
    return SN_OK;
}

int sn_prop_run(const sn_propnet *p, const double *F0, int64_t s, const sn_prop_opts *o, double *F,
                sn_prop_stats *stats)
{
    sn_prop_stats tmp;
    for (int64_t k = 0; k < p->n * s; k++)
        if (!isfinite(F0[k]))
            return sn_err(SN_EINVAL, "prior of column %lld has a non-finite value",
                          (long long)(k / p->n));
    dense_job d = {F0, F, p->n};
    prop_job job = {s, &d, dense_prior, dense_result};
    return sn_prop_engine(p, o, &job, stats ? stats : &tmp);
}
