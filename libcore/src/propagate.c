/* Network propagation: the normalised network W', the all-ones prior g
 * (run once on its own and shared by every column), and sn_prop_run; the
 * iterations of the priors are in prop_engine.tmpl.c. */
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
/* ---- g, the propagated all-ones prior ----
 * W' is symmetric with spectral radius below 1, so ‖g_{t+1} − g_t‖ never
 * grows: once it is within tol at t_g it stays so, and a column stopping
 * at t ≥ t_g needs g_t.  Iterates from t_g on are kept, computed on demand. */

struct g_hist {
    int64_t n;
    int tg;       /* first t with ‖g_{t+1} − g_t‖ ≤ tol (max_iter if never) */
    int last;     /* g_tg .. g_last are held */
    double **g;   /* g[t − tg] */
    int cap;
    double *part; /* row-block sums */
};

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

/* Extends the history when needed; callers from several threads are
 * serialised. */
const double *sn_prop_g_at(prop_engine *e, int t)
{
    const double *r = NULL;
    g_hist *h = e->g;
#pragma omp critical(sn_prop_g)
    {
        int rc = SN_OK;
        while (rc == SN_OK && h->last < t)
            rc = g_extend(e->p, e->o, h);
        if (rc == SN_OK)
            r = h->g[t - h->tg];
    }
    return r;
}

int sn_prop_engine(const sn_propnet *p, const sn_prop_opts *o, const prop_job *job, int single,
                   sn_prop_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!(o->alpha >= 0 && o->alpha < 1))
        return sn_err(SN_EINVAL, "alpha %g is outside [0, 1)", o->alpha);
    if (!(o->tol > 0) || o->max_iter < 0)
        return sn_err(SN_EINVAL, "tolerance must be positive and max_iter non-negative");
    if (job->ncols == 0 || p->n == 0)
        return SN_OK;
    g_hist g;
    SN_TRY(g_init(p, o, &g));
    prop_engine e = {p, o, job, &g, g.tg, 0};
    int rc = single ? sn_prop_engine_f32(&e, st) : sn_prop_engine_f64(&e, st);
    g_free(&g);
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
    return sn_prop_engine(p, o, &job, 0, stats ? stats : &tmp);
}
