/* Gene-set prediction by propagation (MODEL.md §7.4) and z-scores against
 * degree-preserving random networks (§7.6). */
#include "scnet/mem.h"
#include "scnet/metrics.h"
#include "scnet/philox.h"
#include "scnet/propagate.h"
#include "scnet/strmap.h"
#include "prop_engine.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void sn_eval_opts_default(sn_eval_opts *o)
{
    sn_prop_opts_default(&o->prop);
    o->mode = SN_SPLIT_HOLDOUT;
    o->splits = 5;
    o->holdout = 1.0 / 3.0;
    o->train = 0.7;
    o->min_genes = 5;
    o->seed = 42;
    o->single = 1;
}

/* ---- AUROC and average precision ---- */

static int cmp_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a < b) - (a > b);
}

/* Distinct positive scores u_0 > u_1 > ... with their counts; for each
 * negative, the first u it does not exceed is found by bisection, which
 * gives per u_k the negatives above it and tied with it. */
typedef struct {
    int64_t k;
    double *u;
    int64_t *cnt, *gt, *eq;
} pos_levels;

static int levels_build(const double *pos, int64_t np, pos_levels *L)
{
    double *s = sn_malloc(sn_mul_size((size_t)np, sizeof *s), "sorted scores");
    L->u = sn_malloc(sn_mul_size((size_t)np, sizeof *L->u), "sorted scores");
    L->cnt = sn_calloc((size_t)np + 1, sizeof *L->cnt, "score counts");
    L->gt = sn_calloc((size_t)np + 1, sizeof *L->gt, "score counts");
    L->eq = sn_calloc((size_t)np + 1, sizeof *L->eq, "score counts");
    if (!s || !L->u || !L->cnt || !L->gt || !L->eq) {
        free(s);
        return SN_ENOMEM;
    }
    memcpy(s, pos, (size_t)np * sizeof *s);
    qsort(s, (size_t)np, sizeof *s, cmp_desc);
    L->k = 0;
    for (int64_t i = 0; i < np; i++) {
        if (L->k == 0 || s[i] != L->u[L->k - 1])
            L->u[L->k++] = s[i];
        L->cnt[L->k - 1]++;
    }
    free(s);
    return SN_OK;
}

static void levels_free(pos_levels *L)
{
    free(L->u);
    free(L->cnt);
    free(L->gt);
    free(L->eq);
}

/* Number of distinct positive scores strictly greater than v. */
static int64_t above(const pos_levels *L, double v)
{
    int64_t lo = 0, hi = L->k;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (L->u[mid] > v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int sn_prop_auc(const double *pos, int64_t np, const double *neg, int64_t nn, double *auroc, double *aupr)
{
    pos_levels L = {0};
    *auroc = *aupr = NAN;
    if (np == 0 || nn == 0)
        return SN_OK;
    for (int64_t i = 0; i < np; i++)
        if (isnan(pos[i]))
            return sn_err(SN_EINVAL, "score of a positive is NaN");
    for (int64_t i = 0; i < nn; i++)
        if (isnan(neg[i]))
            return sn_err(SN_EINVAL, "score of a negative is NaN");
    int rc = levels_build(pos, np, &L);
    if (rc < 0) {
        levels_free(&L);
        return rc;
    }
    /* gt[k] counts negatives above u_k: a negative with a(v) distinct
     * positive values above it is above u_k for every k ≥ a(v) (k > a(v)
     * when it ties u_a(v)); collected as a difference array. */
    for (int64_t i = 0; i < nn; i++) {
        int64_t a = above(&L, neg[i]);
        if (a < L.k && L.u[a] == neg[i]) {
            L.eq[a]++;
            L.gt[a + 1]++;
        } else {
            L.gt[a]++;
        }
    }
    double roc = 0, ap = 0;
    int64_t gt = 0, tp = 0;
    for (int64_t k = 0; k < L.k; k++) {
        gt += L.gt[k];
        tp += L.cnt[k];
        roc += (double)L.cnt[k] * ((double)(nn - gt - L.eq[k]) + 0.5 * (double)L.eq[k]);
        ap += (double)L.cnt[k] * ((double)tp / (double)(tp + gt + L.eq[k]));
    }
    *auroc = roc / ((double)np * (double)nn);
    *aupr = ap / (double)np;
    levels_free(&L);
    return SN_OK;
}

/* ---- splits ---- */

typedef struct {
    int64_t set;
    int32_t *seeds, *pos, *neg; /* neg NULL: every gene outside the set */
    int64_t nseeds, npos, nneg;
} split_t;

static void split_free(split_t *s)
{
    free(s->seeds);
    free(s->pos);
    free(s->neg);
}

static void shuffle(int32_t *v, int64_t n, int64_t first, sn_rng *r)
{
    /* Partial Fisher–Yates: v[0..first) becomes a uniform random sample. */
    for (int64_t i = 0; i < first && i < n - 1; i++) {
        int64_t j = i + (int64_t)sn_rng_below(r, (uint64_t)(n - i));
        int32_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static int32_t *copy_ints(const int32_t *v, int64_t n)
{
    int32_t *c = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *c), "gene split");
    if (c && n)
        memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

static int64_t round_frac(double f, int64_t n)
{
    return (int64_t)floor(f * (double)n + 0.5);
}

static int cmp_int32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static int split_holdout(const sn_geneset *g, const sn_eval_opts *o, sn_rng *r, split_t *s)
{
    int32_t *perm = copy_ints(g->idx, g->n);
    if (!perm)
        return SN_ENOMEM;
    int64_t nh = round_frac(o->holdout, g->n);
    nh = nh < 1 ? 1 : nh > g->n - 1 ? g->n - 1 : nh;
    /* The shuffle starts from the network's order, not the set's: a GMT
     * listing the same genes otherwise is split the same way. */
    qsort(perm, (size_t)g->n, sizeof *perm, cmp_int32);
    shuffle(perm, g->n, g->n, r);
    s->pos = copy_ints(perm, nh);
    s->seeds = copy_ints(perm + nh, g->n - nh);
    s->npos = nh;
    s->nseeds = g->n - nh;
    free(perm);
    return s->pos && s->seeds ? SN_OK : SN_ENOMEM;
}

/* The reference's rule: 70 % of all genes train, the set's test genes are
 * positives, as many random non-set test genes are negatives.  scratch
 * holds n ints, inset marks the set's genes. */
static int split_reference(const sn_geneset *g, int64_t n, const sn_eval_opts *o, sn_rng *r,
                           int32_t *scratch, const uint8_t *inset, split_t *s)
{
    for (int64_t i = 0; i < n; i++)
        scratch[i] = (int32_t)i;
    int64_t ntr = round_frac(o->train, n);
    shuffle(scratch, n, ntr, r);
    s->seeds = sn_malloc(sn_mul_size((size_t)g->n + 1, sizeof *s->seeds), "gene split");
    s->pos = sn_malloc(sn_mul_size((size_t)g->n + 1, sizeof *s->pos), "gene split");
    if (!s->seeds || !s->pos)
        return SN_ENOMEM;
    int64_t nneg = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t v = scratch[i];
        if (inset[v] && i < ntr)
            s->seeds[s->nseeds++] = v;
        else if (inset[v])
            s->pos[s->npos++] = v;
        else if (i >= ntr)
            scratch[ntr + nneg++] = v; /* test genes outside the set, compacted */
    }
    int64_t take = s->npos < nneg ? s->npos : nneg;
    shuffle(scratch + ntr, nneg, take, r);
    s->neg = copy_ints(scratch + ntr, take);
    s->nneg = take;
    return s->neg ? SN_OK : SN_ENOMEM;
}

/* ---- evaluation ---- */

typedef struct {
    const sn_propnet *p;
    const sn_geneset *sets;
    split_t *sp;
    int64_t nsp;
    double *auroc, *aupr; /* per split */
    uint8_t *mark;        /* per thread: n bytes */
    double *buf;          /* per thread: 2n scores */
} eval_ctx;

static void eval_prior(void *ctx, int64_t col, double *y)
{
    const eval_ctx *e = ctx;
    const split_t *s = &e->sp[col];
    for (int64_t k = 0; k < s->nseeds; k++)
        y[s->seeds[k]] = 1.0;
}

static int eval_result(void *ctx, int tid, int64_t col, const double *f)
{
    eval_ctx *e = ctx;
    const split_t *s = &e->sp[col];
    int64_t n = e->p->n, nn = 0;
    double *ps = e->buf + (size_t)tid * 2 * n, *ns = ps + n;
    for (int64_t k = 0; k < s->npos; k++)
        ps[k] = f[s->pos[k]];
    if (s->neg) {
        for (int64_t k = 0; k < s->nneg; k++)
            ns[nn++] = f[s->neg[k]];
    } else {
        const sn_geneset *g = &e->sets[s->set];
        uint8_t *mark = e->mark + (size_t)tid * n;
        for (int64_t k = 0; k < g->n; k++)
            mark[g->idx[k]] = 1;
        for (int64_t i = 0; i < n; i++)
            if (!mark[i])
                ns[nn++] = f[i];
        for (int64_t k = 0; k < g->n; k++)
            mark[g->idx[k]] = 0;
    }
    return sn_prop_auc(ps, s->npos, ns, nn, &e->auroc[col], &e->aupr[col]);
}

static int check_set(const sn_geneset *g, int64_t n, uint8_t *mark)
{
    int rc = SN_OK;
    for (int64_t k = 0; k < g->n && rc == SN_OK; k++) {
        if (g->idx[k] < 0 || g->idx[k] >= n)
            rc = sn_err(SN_EINVAL, "gene set '%s': node %d is not in the network",
                        g->name ? g->name : "?", g->idx[k]);
        else if (mark[g->idx[k]]++)
            rc = sn_err(SN_EINVAL, "gene set '%s' lists node %d twice", g->name ? g->name : "?",
                        g->idx[k]);
    }
    for (int64_t k = 0; k < g->n; k++)
        if (g->idx[k] >= 0 && g->idx[k] < n)
            mark[g->idx[k]] = 0;
    return rc;
}

/* A split without a seed propagates nothing (every score 0, AUROC 0.5 by
 * ties alone), one without a positive or a negative has nothing to rank:
 * counted, and left out. */
static int split_degenerate(const split_t *s, int64_t n, int64_t set_n, sn_eval *e)
{
    int64_t nneg = s->neg ? s->nneg : n - set_n;
    e->n_no_seed += s->nseeds == 0;
    e->n_no_pos += s->nseeds > 0 && s->npos == 0;
    e->n_no_neg += s->nseeds > 0 && s->npos > 0 && nneg == 0;
    return s->nseeds == 0 || s->npos == 0 || nneg == 0;
}

static uint64_t set_stream(const sn_geneset *g, int64_t set, int split)
{
    uint64_t h = g->name ? sn_hash_str(g->name) : (uint64_t)set;
    return h + (uint64_t)split * 0x9E3779B97F4A7C15ULL;
}

/* All splits of all sets with enough genes but the degenerate ones
 * (counted in ev); sets are checked first. */
static int make_splits(const sn_propnet *p, const sn_geneset *sets, int64_t nsets,
                       const sn_eval_opts *o, eval_ctx *e, sn_eval *ev)
{
    int64_t n = p->n, cap = 0;
    uint8_t *mark = sn_calloc((size_t)n + 1, 1, "gene marks");
    int32_t *scratch = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *scratch), "gene split");
    int rc = mark && scratch ? SN_OK : SN_ENOMEM;
    for (int64_t k = 0; k < nsets && rc == SN_OK; k++)
        if ((rc = check_set(&sets[k], n, mark)) == SN_OK && sets[k].n >= o->min_genes && sets[k].n >= 2)
            cap += o->splits;
    if (rc == SN_OK && !(e->sp = sn_calloc((size_t)cap + 1, sizeof *e->sp, "gene splits")))
        rc = SN_ENOMEM;
    for (int64_t k = 0; k < nsets && rc == SN_OK; k++) {
        const sn_geneset *g = &sets[k];
        if (g->n < o->min_genes || g->n < 2)
            continue;
        for (int64_t i = 0; i < g->n; i++)
            mark[g->idx[i]] = 1;
        for (int r = 0; r < o->splits && rc == SN_OK; r++) {
            sn_rng rng;
            sn_rng_init(&rng, o->seed, set_stream(g, k, r));
            split_t *s = &e->sp[e->nsp++];
            s->set = k;
            rc = o->mode == SN_SPLIT_HOLDOUT ? split_holdout(g, o, &rng, s)
                                             : split_reference(g, n, o, &rng, scratch, mark, s);
            ev->n_splits++;
            if (rc == SN_OK && split_degenerate(s, n, g->n, ev)) {
                split_free(s);
                memset(s, 0, sizeof *s);
                e->nsp--;
            }
        }
        for (int64_t i = 0; i < g->n; i++)
            mark[g->idx[i]] = 0;
    }
    free(mark);
    free(scratch);
    return rc;
}

/* Mean and median of the non-NaN values; *count of them. */
static int summarise(const double *v, int64_t n, double *mean, double *median, int64_t *count)
{
    double *s = sn_malloc(sn_mul_size((size_t)n + 1, sizeof *s), "summary");
    if (!s)
        return SN_ENOMEM;
    int64_t k = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s[k++] = v[i];
            sum += v[i];
        }
    sn_sort_doubles(s, k);
    *mean = k ? sum / (double)k : NAN;
    *median = k == 0 ? NAN : k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
    if (count)
        *count = k;
    free(s);
    return SN_OK;
}

/* Per set: the mean over its splits that gave a value. */
static int per_set(const eval_ctx *c, sn_eval *e)
{
    int64_t *cnt = sn_calloc((size_t)e->nsets + 1, sizeof *cnt, "split counts");
    if (!cnt)
        return SN_ENOMEM;
    for (int64_t k = 0; k < e->nsets; k++)
        e->auroc[k] = e->aupr[k] = 0;
    for (int64_t i = 0; i < c->nsp; i++) {
        if (isnan(c->auroc[i]))
            continue;
        int64_t k = c->sp[i].set;
        e->auroc[k] += c->auroc[i];
        e->aupr[k] += c->aupr[i];
        cnt[k]++;
    }
    for (int64_t k = 0; k < e->nsets; k++) {
        e->auroc[k] = cnt[k] ? e->auroc[k] / (double)cnt[k] : NAN;
        e->aupr[k] = cnt[k] ? e->aupr[k] / (double)cnt[k] : NAN;
    }
    free(cnt);
    return SN_OK;
}

static void eval_ctx_free(eval_ctx *c)
{
    for (int64_t i = 0; c->sp && i < c->nsp; i++)
        split_free(&c->sp[i]);
    free(c->sp);
    free(c->auroc);
    free(c->aupr);
    free(c->mark);
    free(c->buf);
}

int sn_prop_evaluate(const sn_propnet *p, const sn_geneset *sets, int64_t nsets,
                     const sn_eval_opts *o, sn_eval *e)
{
    eval_ctx c = {p, sets, NULL, 0, NULL, NULL, NULL, NULL};
    int nt = omp_get_max_threads(), rc;
    memset(e, 0, sizeof *e);
    if (o->splits < 1 || !(o->holdout > 0 && o->holdout < 1) || !(o->train > 0 && o->train < 1))
        return sn_err(SN_EINVAL, "splits must be positive, holdout and train fractions in (0, 1)");
    e->nsets = nsets;
    e->auroc = sn_malloc(sn_mul_size((size_t)nsets + 1, sizeof *e->auroc), "set scores");
    e->aupr = sn_malloc(sn_mul_size((size_t)nsets + 1, sizeof *e->aupr), "set scores");
    if (!e->auroc || !e->aupr) {
        rc = SN_ENOMEM;
        goto out;
    }
    SN_CHECK(make_splits(p, sets, nsets, o, &c, e));
    c.auroc = sn_malloc(sn_mul_size((size_t)c.nsp + 1, sizeof *c.auroc), "split scores");
    c.aupr = sn_malloc(sn_mul_size((size_t)c.nsp + 1, sizeof *c.aupr), "split scores");
    c.mark = sn_calloc((size_t)nt * (p->n + 1), 1, "gene marks");
    c.buf = sn_malloc(sn_mul_size((size_t)nt * 2, (size_t)(p->n + 1) * sizeof *c.buf), "scores");
    if (!c.auroc || !c.aupr || !c.mark || !c.buf) {
        rc = SN_ENOMEM;
        goto out;
    }
    sn_prop_opts po = o->prop;
    po.joint = 0;
    prop_job job = {c.nsp, &c, eval_prior, eval_result};
    SN_CHECK(sn_prop_engine(p, &po, &job, o->single, &e->stats));
    SN_CHECK(per_set(&c, e));
    double med;
    SN_CHECK(summarise(e->auroc, nsets, &e->mean_auroc, &e->median_auroc, &e->n_evaluated));
    SN_CHECK(summarise(e->aupr, nsets, &e->mean_aupr, &med, NULL));
    e->median_aupr = med;
out:
    eval_ctx_free(&c);
    if (rc < 0)
        sn_eval_free(e);
    return rc;
}

void sn_eval_free(sn_eval *e)
{
    free(e->auroc);
    free(e->aupr);
    memset(e, 0, sizeof *e);
}

/* ---- z-scores ---- */

static int rewire_all(const sn_graph *g, int n_random, double swaps, uint64_t seed, sn_graph *r,
                      int64_t *min_swaps)
{
    int rc = SN_OK;
    int64_t fewest = INT64_MAX;
#pragma omp parallel for schedule(dynamic, 1)
    for (int k = 0; k < n_random; k++) {
        int64_t acc = 0;
        int e = rc < 0 ? SN_OK : sn_graph_rewire(g, swaps, seed, (uint64_t)k, &r[k], &acc);
#pragma omp critical(sn_rewire_all)
        {
            if (e < 0)
                rc = e;
            fewest = acc < fewest ? acc : fewest;
        }
    }
    *min_swaps = n_random ? fewest : 0;
    return rc;
}

static int zs_alloc(sn_zscores *z, int64_t nsets, int n_random)
{
    size_t ns = (size_t)nsets + 1, nr = (size_t)n_random + 1;
    double **per_set[] = {&z->rand_mean_auroc, &z->rand_sd_auroc, &z->z_auroc,
                          &z->rand_mean_aupr, &z->rand_sd_aupr, &z->z_aupr};
    for (size_t i = 0; i < sizeof per_set / sizeof *per_set; i++)
        if (!(*per_set[i] = sn_malloc(ns * sizeof(double), "z-scores")))
            return SN_ENOMEM;
    z->rand_overall_auroc = sn_malloc(nr * sizeof(double), "z-scores");
    z->rand_overall_aupr = sn_malloc(nr * sizeof(double), "z-scores");
    return z->rand_overall_auroc && z->rand_overall_aupr ? SN_OK : SN_ENOMEM;
}

/* Mean and sample standard deviation of the non-NaN values v[i·stride].
 * Equal values have their value as mean and a standard deviation of exactly
 * 0 (so no z-score), not the rounding left by summing them. */
static void mean_sd(const double *v, int64_t n, int64_t stride, double *mean, double *sd)
{
    double s = 0, ss = 0, lo = INFINITY, hi = -INFINITY;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i * stride])) {
            s += v[i * stride];
            lo = fmin(lo, v[i * stride]);
            hi = fmax(hi, v[i * stride]);
            k++;
        }
    *mean = k ? s / (double)k : NAN;
    if (k > 1 && lo == hi) {
        *mean = lo;
        *sd = 0;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i * stride]))
            ss += (v[i * stride] - *mean) * (v[i * stride] - *mean);
    *sd = k > 1 ? sqrt(ss / (double)(k - 1)) : NAN;
}

static double zval(double x, double mean, double sd)
{
    return isnan(x) || !(sd > 0) ? NAN : (x - mean) / sd;
}

/* ra, rp: n_random × nsets values of the random networks. */
static void zs_finish(sn_zscores *z, const double *ra, const double *rp)
{
    int64_t ns = z->real.nsets;
    int nr = z->n_random;
    for (int64_t k = 0; k < ns; k++) {
        mean_sd(ra + k, nr, ns, &z->rand_mean_auroc[k], &z->rand_sd_auroc[k]);
        mean_sd(rp + k, nr, ns, &z->rand_mean_aupr[k], &z->rand_sd_aupr[k]);
        z->z_auroc[k] = zval(z->real.auroc[k], z->rand_mean_auroc[k], z->rand_sd_auroc[k]);
        z->z_aupr[k] = zval(z->real.aupr[k], z->rand_mean_aupr[k], z->rand_sd_aupr[k]);
    }
    double m, sd;
    mean_sd(z->rand_overall_auroc, nr, 1, &m, &sd);
    z->z_overall_auroc = zval(z->real.mean_auroc, m, sd);
    mean_sd(z->rand_overall_aupr, nr, 1, &m, &sd);
    z->z_overall_aupr = zval(z->real.mean_aupr, m, sd);
}

static int eval_graph(const sn_graph *g, int use_weights, const sn_geneset *sets, int64_t nsets,
                      const sn_eval_opts *o, sn_eval *e)
{
    sn_propnet p;
    SN_TRY(sn_propnet_build(g, use_weights, &p));
    int rc = sn_prop_evaluate(&p, sets, nsets, o, e);
    sn_propnet_free(&p);
    return rc;
}

int sn_prop_zscores(const sn_graph *g, int use_weights, const sn_geneset *sets, int64_t nsets,
                    const sn_eval_opts *o, int n_random, double swaps_per_edge, sn_zscores *z)
{
    sn_graph *rg = NULL;
    double *ra = NULL, *rp = NULL;
    int rc;
    memset(z, 0, sizeof *z);
    z->n_random = n_random;
    if (n_random < 2)
        return sn_err(SN_EINVAL, "z-scores need at least 2 random networks");
    SN_CHECK(zs_alloc(z, nsets, n_random));
    SN_CHECK(eval_graph(g, use_weights, sets, nsets, o, &z->real));
    rg = sn_calloc((size_t)n_random, sizeof *rg, "random networks");
    ra = sn_malloc(sn_mul_size((size_t)n_random, (size_t)(nsets + 1) * sizeof *ra), "z-scores");
    rp = sn_malloc(sn_mul_size((size_t)n_random, (size_t)(nsets + 1) * sizeof *rp), "z-scores");
    if (!rg || !ra || !rp) {
        rc = SN_ENOMEM;
        goto out;
    }
    SN_CHECK(rewire_all(g, n_random, swaps_per_edge, o->seed, rg, &z->min_swaps));
    for (int k = 0; k < n_random; k++) {
        sn_eval e;
        SN_CHECK(eval_graph(&rg[k], use_weights, sets, nsets, o, &e));
        memcpy(ra + (int64_t)k * nsets, e.auroc, (size_t)nsets * sizeof *ra);
        memcpy(rp + (int64_t)k * nsets, e.aupr, (size_t)nsets * sizeof *rp);
        z->rand_overall_auroc[k] = e.mean_auroc;
        z->rand_overall_aupr[k] = e.mean_aupr;
        sn_eval_free(&e);
        sn_graph_free(&rg[k]);
    }
    zs_finish(z, ra, rp);
out:
    for (int k = 0; rg && k < n_random; k++)
        sn_graph_free(&rg[k]);
    free(rg);
    free(ra);
    free(rp);
    if (rc < 0)
        sn_zscores_free(z);
    return rc;
}

void sn_zscores_free(sn_zscores *z)
{
    sn_eval_free(&z->real);
    free(z->rand_mean_auroc);
    free(z->rand_sd_auroc);
    free(z->z_auroc);
    free(z->rand_mean_aupr);
    free(z->rand_sd_aupr);
    free(z->z_aupr);
    free(z->rand_overall_auroc);
    free(z->rand_overall_aupr);
    memset(z, 0, sizeof *z);
}
