/* The propagation engine proper: priors in chunks of PW columns, sparse W'
 * times a dense row-major block, each chunk iterated until its columns
 * stop.  Compiled for double iterates (sn_prop_run: results to ~1e-15) and
 * float iterates (the gene-set evaluation, which only ranks scores: half
 * the memory traffic of the scattered neighbour rows).  Norms are always
 * summed in double over fixed blocks of rows, so results do not depend on
 * the thread count. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/file.h"
#include "scnet/mem.h"
#include "scnet/real.h"
#include "prop_engine.h"

typedef real vreal __attribute__((vector_size(32)));
#define VL ((int)(32 / sizeof(real))) /* lanes per vector */
#define NV (PW / VL)                  /* vectors per row of a chunk */
#define AHEAD 24                      /* neighbours prefetched ahead */

static vreal ldv(const real *p)
{
    vreal v;
    memcpy(&v, p, sizeof v);
    return v;
}

static vreal splat(real x)
{
    vreal v;
    for (int k = 0; k < VL; k++)
        v[k] = x;
    return v;
}

/* Priors c0 .. c0+nc−1 of the job in PW columns (the rest zero). */
typedef struct {
    int64_t c0;
    int nc;
    real *F, *Fn, *Y; /* n × PW, row-major */
    double *R;        /* PW × n results, column-major */
    double *part;     /* row blocks × PW partial sums of squared changes */
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
    size_t sz = sn_mul_size((size_t)n + 1, PW * sizeof(real));
    ch->F = sn_malloc(sz, "propagation block");
    ch->Fn = sn_malloc(sz, "propagation block");
    ch->Y = sn_malloc(sz, "propagation block");
    ch->R = sn_malloc(sn_mul_size((size_t)n + 1, PW * sizeof(double)), "propagation results");
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
            ch->Y[i * PW + c] = (real)buf[i];
    }
    memcpy(ch->F, ch->Y, (size_t)n * PW * sizeof *ch->F);
    memset(ch->done, 0, sizeof ch->done);
    memset(ch->iters, 0, sizeof ch->iters);
}

/* a = Σ_q w_q F[j_q, :] over row i's neighbours, the PW columns in NV
 * registers.  Rows some neighbours ahead (across row ends too) are
 * prefetched: F does not fit in L2 and the neighbours are scattered. */
static void row_gather(const sn_propnet *p, const real *F, int64_t i, vreal a[NV])
{
    int64_t q1 = p->indptr[i + 1], nnz = p->indptr[p->n];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
        a[v] = splat(0);
    for (int64_t q = p->indptr[i]; q < q1; q++) {
        if (q + AHEAD < nnz) {
            const char *nx = (const char *)(F + (int64_t)p->indices[q + AHEAD] * PW);
            for (size_t b = 0; b < PW * sizeof(real); b += 64)
                __builtin_prefetch(nx + b);
        }
        const real *f = F + (int64_t)p->indices[q] * PW;
        const vreal w = splat((real)p->w[q]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            a[v] += w * ldv(f + VL * v);
    }
}

/* Fn = α W' F + (1 − α) Y for rows of block rb, and the block's partial
 * sums of squared changes per column. */
static void chunk_rows(const sn_propnet *p, double alpha, chunk *ch, int64_t rb)
{
    int64_t r0 = rb * RB, r1 = r0 + RB < p->n ? r0 + RB : p->n;
    const vreal al = splat((real)alpha), be = splat((real)(1.0 - alpha));
    vreal s[NV], a[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
        s[v] = splat(0);
    for (int64_t i = r0; i < r1; i++) {
        row_gather(p, ch->F, i, a);
        const real *f = ch->F + i * PW, *y = ch->Y + i * PW;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            vreal x = al * a[v] + be * ldv(y + VL * v), d = x - ldv(f + VL * v);
            memcpy(ch->Fn + i * PW + VL * v, &x, sizeof x);
            s[v] += d * d;
        }
    }
    for (int v = 0; v < NV; v++)
        for (int k = 0; k < VL; k++)
            ch->part[rb * PW + VL * v + k] = (double)s[v][k];
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
        r[i] = g ? (double)ch->F[i * PW + c] / g[i] : (double)ch->F[i * PW + c];
    ch->done[c] = 1;
    ch->iters[c] = t;
}

static void chunk_swap(chunk *ch)
{
    real *t = ch->F;
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

/* Freeze column c at t; 0 when g_t could not be had (out of memory). */
static int freeze(prop_engine *e, chunk *ch, int c, int t)
{
    const double *g = NULL;
    if (e->o->normalize && !(g = sn_prop_g_at(e, t)))
        return 0;
    chunk_freeze(ch, e->p->n, c, t, g);
    return 1;
}

/* Each column stops on its own 2-norm, not before g's stop. */
static int chunk_run_alone(prop_engine *e, chunk *ch, int par)
{
    double norm[PW];
    for (int t = 0;; t++) {
        int left = 0, stop = t == e->o->max_iter;
        if (!stop)
            chunk_step(e->p, e->o->alpha, ch, par, norm);
        for (int c = 0; c < ch->nc; c++) {
            if (!ch->done[c] && (stop || (t >= e->tg && norm[c] <= e->o->tol)) && !freeze(e, ch, c, t))
                return SN_ENOMEM;
            left += !ch->done[c];
        }
        if (!left)
            return SN_OK;
        chunk_swap(ch);
    }
}

static int64_t chunk_count(const prop_job *job) { return (job->ncols + PW - 1) / PW; }

static int chunk_width(const prop_job *job, int64_t c0)
{
    return (int)(job->ncols - c0 < PW ? job->ncols - c0 : PW);
}

static void chunk_job(prop_engine *e, chunk *ch, int64_t k, int par, int tid, double *buf,
                      sn_prop_stats *st)
{
    int64_t n = e->p->n;
    chunk_load(ch, e->job, n, k * PW, chunk_width(e->job, k * PW), buf);
    int r = chunk_run_alone(e, ch, par);
    if (r == SN_OK)
        r = chunk_report(ch, e->job, n, tid, e->o->max_iter, st);
    if (r < 0) {
#pragma omp critical(sn_prop_err)
        if (!e->failed)
            e->failed = r;
    }
}

/* Chunks in parallel, each on its own. */
static int run_alone(prop_engine *e, sn_prop_stats *st)
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
            int tid = omp_get_thread_num();
            if (!e->failed && !sn_file_interrupted())
                chunk_job(e, &ch[tid], k, par, tid, buf + (size_t)tid * (n + 1), &ts[tid]);
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
static int freeze_all(prop_engine *e, chunk *ch, int64_t nch, int t)
{
    for (int64_t k = 0; k < nch; k++)
        for (int c = 0; c < ch[k].nc; c++)
            if (!freeze(e, &ch[k], c, t))
                return SN_ENOMEM;
    return SN_OK;
}

/* All columns stop together on the Frobenius norm of the whole block. */
static int run_joint(prop_engine *e, sn_prop_stats *st)
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
        if (stop || (t >= e->tg && sqrt(fsq) <= e->o->tol)) {
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

int SN_R(sn_prop_engine)(prop_engine *e, sn_prop_stats *st)
{
    return e->o->joint ? run_joint(e, st) : run_alone(e, st);
}
