/* Propagation against a dense linear solve and against a direct transcript
 * of the reference's loop; AUROC/AUPR by hand and by brute force; gene-set
 * evaluation; degree-preserving randomisation; z-scores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_linalg.h>

#include "scnet/graph.h"
#include "scnet/metrics.h"
#include "scnet/philox.h"
#include "scnet/propagate.h"

/* ---- graphs ---- */

/* n nodes, about m random edges (weighted in (0.5, 1.5) when asked). */
static void random_graph(sn_graph *g, int64_t n, int64_t m, int weighted, uint64_t seed)
{
    sn_rng r;
    sn_rng_init(&r, seed, 0);
    assert_int_equal(sn_graph_alloc(g, n, m, weighted), 0);
    for (int64_t e = 0; e < m; e++) {
        g->a[e] = (int32_t)sn_rng_below(&r, (uint64_t)n);
        g->b[e] = (int32_t)sn_rng_below(&r, (uint64_t)n);
        if (weighted)
            g->w[e] = 0.5 + sn_rng_double(&r);
    }
    assert_int_equal(sn_graph_canon(g), 0);
}

/* k cliques of size s (nodes k·s), plus `noise` random edges. */
static void cliques(sn_graph *g, int k, int s, int64_t noise, uint64_t seed)
{
    int64_t n = (int64_t)k * s, m = (int64_t)k * s * (s - 1) / 2 + noise, e = 0;
    assert_int_equal(sn_graph_alloc(g, n, m, 0), 0);
    for (int c = 0; c < k; c++)
        for (int i = 0; i < s; i++)
            for (int j = i + 1; j < s; j++) {
                g->a[e] = c * s + i;
                g->b[e++] = c * s + j;
            }
    sn_rng r;
    sn_rng_init(&r, seed, 1);
    for (; e < m; e++) {
        g->a[e] = (int32_t)sn_rng_below(&r, (uint64_t)n);
        g->b[e] = (int32_t)sn_rng_below(&r, (uint64_t)n);
    }
    assert_int_equal(sn_graph_canon(g), 0);
}

/* Dense W' of the propagation network. */
static double *dense_wn(const sn_propnet *p)
{
    int64_t n = p->n;
    double *w = calloc((size_t)(n * n), sizeof *w);
    for (int64_t i = 0; i < n; i++)
        for (int64_t q = p->indptr[i]; q < p->indptr[i + 1]; q++)
            w[i * n + p->indices[q]] = p->w[q];
    return w;
}

/* (I − αW') x = (1 − α) y by LU. */
static void solve(const double *w, int64_t n, double alpha, const double *y, double *x)
{
    gsl_matrix *a = gsl_matrix_alloc((size_t)n, (size_t)n);
    gsl_vector *b = gsl_vector_alloc((size_t)n), *xv = gsl_vector_alloc((size_t)n);
    gsl_permutation *perm = gsl_permutation_alloc((size_t)n);
    int sign;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < n; j++)
            gsl_matrix_set(a, (size_t)i, (size_t)j, (i == j) - alpha * w[i * n + j]);
        gsl_vector_set(b, (size_t)i, (1 - alpha) * y[i]);
    }
    gsl_linalg_LU_decomp(a, perm, &sign);
    gsl_linalg_LU_solve(a, perm, b, xv);
    for (int64_t i = 0; i < n; i++)
        x[i] = gsl_vector_get(xv, (size_t)i);
    gsl_matrix_free(a);
    gsl_vector_free(b);
    gsl_vector_free(xv);
    gsl_permutation_free(perm);
}

static void priors(double *y, int64_t n, int s, uint64_t seed)
{
    sn_rng r;
    sn_rng_init(&r, seed, 2);
    for (int64_t k = 0; k < n * s; k++)
        y[k] = k / n == 0 ? sn_rng_double(&r) : sn_rng_double(&r) < 0.15;
}

static void test_matches_linear_solve(void **st)
{
    (void)st;
    sn_graph g;
    random_graph(&g, 41, 130, 1, 3); /* node 40 may be isolated: fine either way */
    sn_propnet p;
    assert_int_equal(sn_propnet_build(&g, 1, &p), 0);
    int64_t n = p.n;
    int s = 3;
    double *y = malloc((size_t)(n * s) * sizeof *y), *f = malloc((size_t)(n * s) * sizeof *f);
    double *ones = malloc((size_t)n * sizeof *ones), *gs = malloc((size_t)n * sizeof *gs);
    double *fs = malloc((size_t)n * sizeof *fs), *w = dense_wn(&p);
    priors(y, n, s, 5);
    for (int64_t i = 0; i < n; i++)
        ones[i] = 1;
    solve(w, n, 0.9, ones, gs);
    sn_prop_opts o;
    sn_prop_opts_default(&o);
    o.tol = 1e-13;
    o.max_iter = 100000;
    for (int norm = 0; norm < 2; norm++) {
        o.normalize = norm;
        sn_prop_stats stats;
        assert_int_equal(sn_prop_run(&p, y, s, &o, f, &stats), 0);
        assert_int_equal(stats.unconverged, 0);
        assert_true(stats.max_iters > 100);
        for (int c = 0; c < s; c++) {
            solve(w, n, 0.9, y + c * n, fs);
            for (int64_t i = 0; i < n; i++) {
                double want = norm ? fs[i] / gs[i] : fs[i];
                assert_true(fabs(f[c * n + i] - want) <= 1e-8 * (1 + fabs(want)));
            }
        }
    }
    free(y);
    free(f);
    free(ones);
    free(gs);
    free(fs);
    free(w);
    sn_propnet_free(&p);
    sn_graph_free(&g);
}

/* A transcript of the reference's loop (numpy semantics): f and the ones
 * vector iterate together; stop when both changes are within tol (the
 * Frobenius norm for a matrix prior); return f / f1 before the update. */
static int reference(const double *w, int64_t n, int s, const double *y, double tol, double *out)
{
    double *f = malloc((size_t)(n * s) * sizeof *f), *nf = malloc((size_t)(n * s) * sizeof *nf);
    double *g = malloc((size_t)n * sizeof *g), *ng = malloc((size_t)n * sizeof *ng);
    memcpy(f, y, (size_t)(n * s) * sizeof *f);
    for (int64_t i = 0; i < n; i++)
        g[i] = 1;
    int t = 0;
    for (;; t++) {
        double df = 0, dg = 0;
        for (int64_t i = 0; i < n; i++) {
            double ag = 0;
            for (int64_t j = 0; j < n; j++)
                if (w[i * n + j] != 0)
                    ag += w[i * n + j] * g[j];
            ng[i] = 0.9 * ag + (1 - 0.9);
            dg += (ng[i] - g[i]) * (ng[i] - g[i]);
            for (int c = 0; c < s; c++) {
                double a = 0;
                for (int64_t j = 0; j < n; j++)
                    if (w[i * n + j] != 0)
                        a += w[i * n + j] * f[c * n + j];
                nf[c * n + i] = 0.9 * a + (1 - 0.9) * y[c * n + i];
            }
        }
        for (int c = 0; c < s; c++)
            for (int64_t i = 0; i < n; i++)
                df += (nf[c * n + i] - f[c * n + i]) * (nf[c * n + i] - f[c * n + i]);
        if (sqrt(df) <= tol && sqrt(dg) <= tol)
            break;
        memcpy(f, nf, (size_t)(n * s) * sizeof *f);
        memcpy(g, ng, (size_t)n * sizeof *g);
    }
    for (int c = 0; c < s; c++)
        for (int64_t i = 0; i < n; i++)
            out[c * n + i] = f[c * n + i] / g[i];
    free(f);
    free(nf);
    free(g);
    free(ng);
    return t;
}

static void test_reference_rule(void **st)
{
    (void)st;
    sn_graph g;
    random_graph(&g, 60, 150, 0, 8);
    sn_propnet p;
    assert_int_equal(sn_propnet_build(&g, 0, &p), 0);
    int64_t n = p.n;
    int s = 4;
    double *y = malloc((size_t)(n * s) * sizeof *y), *f = malloc((size_t)(n * s) * sizeof *f);
    double *want = malloc((size_t)(n * s) * sizeof *want), *w = dense_wn(&p);
    priors(y, n, s, 9);
    sn_prop_opts o;
    sn_prop_opts_default(&o);
    sn_prop_stats stats;
    /* each column alone = the reference run on that vector */
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, &stats), 0);
    int tmax = 0;
    for (int c = 0; c < s; c++) {
        int t = reference(w, n, 1, y + c * n, o.tol, want + c * n);
        tmax = t > tmax ? t : tmax;
        for (int64_t i = 0; i < n; i++)
            assert_true(fabs(f[c * n + i] - want[c * n + i]) <= 1e-12);
    }
    assert_int_equal(stats.max_iters, tmax);
    /* joint: the reference run on the matrix (Frobenius norm) */
    o.joint = 1;
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, &stats), 0);
    int t = reference(w, n, s, y, o.tol, want);
    assert_int_equal(stats.max_iters, t);
    for (int64_t k = 0; k < n * s; k++)
        assert_true(fabs(f[k] - want[k]) <= 1e-12);
    free(y);
    free(f);
    free(want);
    free(w);
    sn_propnet_free(&p);
    sn_graph_free(&g);
}

static void test_columns_independent(void **st)
{
    (void)st;
    sn_graph g;
    random_graph(&g, 700, 3000, 1, 4);
    sn_propnet p;
    assert_int_equal(sn_propnet_build(&g, 1, &p), 0);
    int64_t n = p.n;
    int s = 21;
    double *y = malloc((size_t)(n * s) * sizeof *y), *f = malloc((size_t)(n * s) * sizeof *f);
    double *f1 = malloc((size_t)n * sizeof *f1), *f3 = malloc((size_t)(n * s) * sizeof *f3);
    priors(y, n, s, 12);
    sn_prop_opts o;
    sn_prop_opts_default(&o);
    int nt = omp_get_max_threads();
    omp_set_num_threads(2);
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, NULL), 0);
    for (int c = 0; c < s; c += 5) {
        assert_int_equal(sn_prop_run(&p, y + c * n, 1, &o, f1, NULL), 0);
        assert_memory_equal(f1, f + c * n, (size_t)n * sizeof *f1);
    }
    omp_set_num_threads(3);
    assert_int_equal(sn_prop_run(&p, y, s, &o, f3, NULL), 0);
    assert_memory_equal(f3, f, (size_t)(n * s) * sizeof *f);
    o.joint = 1;
    assert_int_equal(sn_prop_run(&p, y, s, &o, f3, NULL), 0);
    omp_set_num_threads(1);
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, NULL), 0);
    assert_memory_equal(f3, f, (size_t)(n * s) * sizeof *f);
    omp_set_num_threads(nt);
    /* bad input */
    y[5] = NAN;
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, NULL), SN_EINVAL);
    y[5] = 0;
    o.alpha = 1;
    assert_int_equal(sn_prop_run(&p, y, s, &o, f, NULL), SN_EINVAL);
    free(y);
    free(f);
    free(f1);
    free(f3);
    sn_propnet_free(&p);
    sn_graph_free(&g);
}

/* ---- AUROC / AUPR ---- */

static void test_auc_by_hand(void **st)
{
    (void)st;
    double roc, ap;
    /* pos 0.9, 0.5, 0.5 against neg 0.8, 0.5, 0.1:
     * AUROC = (3 + 1.5 + 1.5) / 9; thresholds 0.9 (P 1, R 1/3), 0.8 (no
     * new positive), 0.5 (TP 3, FP 2: P 3/5, R 1): AP = 1/3 + 2/3 · 3/5 */
    const double p1[] = {0.9, 0.5, 0.5}, n1[] = {0.8, 0.5, 0.1};
    assert_int_equal(sn_prop_auc(p1, 3, n1, 3, &roc, &ap), 0);
    assert_true(fabs(roc - 6.0 / 9.0) < 1e-15);
    assert_true(fabs(ap - (1.0 / 3.0 + 2.0 / 3.0 * 0.6)) < 1e-15);
    /* everything tied: AUROC 1/2, precision 2/5 at the only threshold */
    const double p2[] = {1, 1}, n2[] = {1, 1, 1};
    assert_int_equal(sn_prop_auc(p2, 2, n2, 3, &roc, &ap), 0);
    assert_true(roc == 0.5 && fabs(ap - 0.4) < 1e-15);
    /* perfect and reversed rankings */
    const double p3[] = {3, 4}, n3[] = {1, 2};
    assert_int_equal(sn_prop_auc(p3, 2, n3, 2, &roc, &ap), 0);
    assert_true(roc == 1 && ap == 1);
    assert_int_equal(sn_prop_auc(n3, 2, p3, 2, &roc, &ap), 0);
    assert_true(roc == 0 && fabs(ap - (0.5 * 1.0 / 3.0 + 0.5 * 0.5)) < 1e-15);
    assert_int_equal(sn_prop_auc(p3, 0, n3, 2, &roc, &ap), 0);
    assert_true(isnan(roc) && isnan(ap));
}

static void test_auc_brute_force(void **st)
{
    (void)st;
    sn_rng r;
    sn_rng_init(&r, 77, 0);
    for (int trial = 0; trial < 50; trial++) {
        int np = 1 + (int)sn_rng_below(&r, 20), nn = 1 + (int)sn_rng_below(&r, 60);
        double pos[20], neg[60];
        for (int i = 0; i < np; i++)
            pos[i] = (double)sn_rng_below(&r, 8) / 8; /* many ties */
        for (int i = 0; i < nn; i++)
            neg[i] = (double)sn_rng_below(&r, 8) / 8;
        double roc, ap, want = 0, wap = 0;
        assert_int_equal(sn_prop_auc(pos, np, neg, nn, &roc, &ap), 0);
        for (int i = 0; i < np; i++)
            for (int j = 0; j < nn; j++)
                want += pos[i] > neg[j] ? 1 : pos[i] == neg[j] ? 0.5 : 0;
        want /= (double)np * nn;
        /* thresholds from high to low: recall step times precision */
        double prev_r = 0;
        for (int th = 7; th >= 0; th--) {
            double t = th / 8.0;
            int tp = 0, fp = 0;
            for (int i = 0; i < np; i++)
                tp += pos[i] >= t;
            for (int i = 0; i < nn; i++)
                fp += neg[i] >= t;
            double rec = (double)tp / np;
            if (tp + fp > 0)
                wap += (rec - prev_r) * tp / (tp + fp);
            prev_r = rec;
        }
        assert_true(fabs(roc - want) < 1e-12);
        assert_true(fabs(ap - wap) < 1e-12);
        /* and the sorting implementation in metrics.h */
        double all[80];
        uint8_t lab[80];
        for (int i = 0; i < np + nn; i++) {
            all[i] = i < np ? pos[i] : neg[i - np];
            lab[i] = i < np;
        }
        assert_true(fabs(roc - sn_auroc(all, lab, np + nn)) < 1e-12);
        assert_true(fabs(ap - sn_average_precision(all, lab, np + nn)) < 1e-12);
    }
}

/* ---- evaluation ---- */

static void clique_sets(sn_geneset *sets, int32_t *idx, int k, int s, char names[][16])
{
    for (int c = 0; c < k; c++) {
        for (int i = 0; i < s; i++)
            idx[c * s + i] = c * s + i;
        snprintf(names[c], 16, "clique%d", c);
        sets[c].name = names[c];
        sets[c].n = s;
        sets[c].idx = idx + c * s;
    }
}

static void test_evaluate(void **st)
{
    (void)st;
    sn_graph g;
    cliques(&g, 6, 12, 80, 2);
    sn_propnet p;
    assert_int_equal(sn_propnet_build(&g, 0, &p), 0);
    sn_geneset sets[7];
    int32_t idx[6 * 12], small[] = {1, 14, 30};
    char names[7][16];
    clique_sets(sets, idx, 6, 12, names);
    sets[6] = (sn_geneset){"small", 3, small};
    sn_eval_opts o;
    sn_eval_opts_default(&o);
    for (int mode = 0; mode < 2; mode++) {
        o.mode = mode;
        sn_eval e, e1;
        assert_int_equal(sn_prop_evaluate(&p, sets, 7, &o, &e), 0);
        assert_int_equal(e.n_evaluated, 6);
        assert_true(isnan(e.auroc[6])); /* below min_genes */
        assert_true(e.mean_auroc > 0.9 && e.median_auroc > 0.9);
        assert_true(e.mean_aupr > (mode ? 0.8 : 0.5));
        /* a set's splits do not depend on the other sets */
        assert_int_equal(sn_prop_evaluate(&p, sets + 2, 1, &o, &e1), 0);
        assert_true(e1.auroc[0] == e.auroc[2] && e1.aupr[0] == e.aupr[2]);
        sn_eval_free(&e1);
        /* float iterates rank the genes as double ones do */
        o.single = 0;
        assert_int_equal(sn_prop_evaluate(&p, sets, 7, &o, &e1), 0);
        o.single = 1;
        for (int k = 0; k < 6; k++)
            assert_true(fabs(e1.auroc[k] - e.auroc[k]) < 1e-3 && fabs(e1.aupr[k] - e.aupr[k]) < 1e-3);
        assert_int_equal(e1.stats.max_iters, e.stats.max_iters);
        sn_eval_free(&e1);
        sn_eval_free(&e);
    }
    /* a random set does no better than chance */
    int32_t rnd[12];
    for (int i = 0; i < 12; i++)
        rnd[i] = (int32_t)(i * 6 + (i % 5));
    sn_geneset rs = {"random", 12, rnd};
    sn_eval e;
    o.mode = SN_SPLIT_HOLDOUT;
    o.splits = 20;
    assert_int_equal(sn_prop_evaluate(&p, &rs, 1, &o, &e), 0);
    assert_true(e.auroc[0] < 0.75);
    assert_int_equal(e.n_splits, 20);
    assert_int_equal(e.n_no_seed + e.n_no_pos + e.n_no_neg, 0);
    sn_eval_free(&e);
    /* the splits depend on which genes a set holds, not on the order it
     * lists them in (a GMT sorted by name evaluates as the original) */
    int32_t perm[12];
    for (int i = 0; i < 12; i++)
        perm[i] = rnd[(i * 5 + 3) % 12];
    sn_geneset rp = {"random", 12, perm};
    for (int mode = 0; mode < 2; mode++) {
        sn_eval e1;
        o.mode = mode;
        assert_int_equal(sn_prop_evaluate(&p, &rs, 1, &o, &e), 0);
        assert_int_equal(sn_prop_evaluate(&p, &rp, 1, &o, &e1), 0);
        assert_true(e.auroc[0] == e1.auroc[0] && e.aupr[0] == e1.aupr[0]);
        sn_eval_free(&e1);
        sn_eval_free(&e);
    }
    /* a 2-gene set under the reference split: the splits that draw both
     * genes for training (no positive) or neither (no seed) are counted and
     * left out of the mean */
    int32_t pair[] = {0, 1};
    sn_geneset ps = {"pair", 2, pair};
    o.mode = SN_SPLIT_REFERENCE;
    o.min_genes = 2;
    o.splits = 40;
    assert_int_equal(sn_prop_evaluate(&p, &ps, 1, &o, &e), 0);
    assert_int_equal(e.n_splits, 40);
    assert_true(e.n_no_pos > 0 && e.n_no_seed > 0 && e.n_no_neg == 0);
    assert_true(e.n_no_pos + e.n_no_seed < 40 && !isnan(e.auroc[0]) && e.n_evaluated == 1);
    sn_eval_free(&e);
    o.splits = 1;
    int64_t none = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        o.seed = seed;
        assert_int_equal(sn_prop_evaluate(&p, &ps, 1, &o, &e), 0);
        int left_out = e.n_no_pos + e.n_no_seed == 1;
        assert_int_equal(!!isnan(e.auroc[0]), left_out);
        assert_int_equal(e.n_evaluated, !left_out);
        none += left_out;
        sn_eval_free(&e);
    }
    assert_true(none > 0 && none < 10);
    o.seed = 42;
    o.mode = SN_SPLIT_HOLDOUT;
    /* a gene listed twice is an error */
    int32_t dup[] = {1, 2, 3, 4, 5, 2};
    sn_geneset ds = {"dup", 6, dup};
    assert_int_equal(sn_prop_evaluate(&p, &ds, 1, &o, &e), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "dup"));
    sn_propnet_free(&p);
    sn_graph_free(&g);
}

/* ---- randomisation ---- */

static void assert_simple(const sn_graph *g)
{
    for (int64_t e = 0; e < g->m; e++) {
        assert_true(g->a[e] < g->b[e]); /* no self-loops */
        if (e > 0)                      /* sorted, hence no multi-edges */
            assert_true(g->a[e - 1] < g->a[e] || (g->a[e - 1] == g->a[e] && g->b[e - 1] < g->b[e]));
    }
}

static int64_t overlap(const sn_graph *x, const sn_graph *y)
{
    int64_t i = 0, j = 0, c = 0;
    while (i < x->m && j < y->m) {
        int64_t kx = (int64_t)x->a[i] << 32 | x->b[i], ky = (int64_t)y->a[j] << 32 | y->b[j];
        c += kx == ky;
        i += kx <= ky;
        j += ky <= kx;
    }
    return c;
}

static void test_rewire(void **st)
{
    (void)st;
    /* a random part, a separate ring, a star and isolated nodes */
    sn_graph base, g;
    random_graph(&base, 300, 1500, 1, 6);
    int64_t m = base.m;
    assert_int_equal(sn_graph_alloc(&g, 380, m + 30 + 20, 1), 0);
    memcpy(g.a, base.a, (size_t)m * sizeof *g.a);
    memcpy(g.b, base.b, (size_t)m * sizeof *g.b);
    memcpy(g.w, base.w, (size_t)m * sizeof *g.w);
    for (int i = 0; i < 30; i++, m++) {
        g.a[m] = 300 + i;
        g.b[m] = 300 + (i + 1) % 30;
        g.w[m] = 1;
    }
    for (int i = 0; i < 20; i++, m++) {
        g.a[m] = 330;
        g.b[m] = 331 + i;
        g.w[m] = 2;
    }
    assert_int_equal(sn_graph_canon(&g), 0);
    int64_t *d0 = calloc(380, sizeof *d0), *d1 = calloc(380, sizeof *d1);
    sn_graph_degrees(&g, d0);
    sn_graph r1, r2, r3;
    int64_t acc;
    assert_int_equal(sn_graph_rewire(&g, 10, 42, 0, &r1, &acc), 0);
    assert_int_equal(acc, 10 * g.m);
    assert_int_equal(r1.m, g.m);
    sn_graph_degrees(&r1, d1);
    assert_memory_equal(d0, d1, 380 * sizeof *d0);
    assert_simple(&r1);
    assert_true(overlap(&g, &r1) < g.m / 5);
    /* the same seed and stream give the same network, another stream not */
    assert_int_equal(sn_graph_rewire(&g, 10, 42, 0, &r2, NULL), 0);
    assert_int_equal(sn_graph_rewire(&g, 10, 42, 1, &r3, NULL), 0);
    assert_memory_equal(r1.a, r2.a, (size_t)r1.m * sizeof *r1.a);
    assert_memory_equal(r1.b, r2.b, (size_t)r1.m * sizeof *r1.b);
    assert_true(overlap(&r1, &r3) < r1.m / 2);
    sn_graph_free(&r1);
    sn_graph_free(&r2);
    sn_graph_free(&r3);
    /* a star admits no swap at all */
    sn_graph star;
    assert_int_equal(sn_graph_alloc(&star, 11, 10, 0), 0);
    for (int i = 0; i < 10; i++) {
        star.a[i] = 0;
        star.b[i] = i + 1;
    }
    assert_int_equal(sn_graph_rewire(&star, 10, 1, 0, &r1, &acc), 0);
    assert_int_equal(acc, 0);
    assert_memory_equal(r1.b, star.b, 10 * sizeof *star.b);
    sn_graph_free(&r1);
    sn_graph_free(&star);
    free(d0);
    free(d1);
    sn_graph_free(&g);
    sn_graph_free(&base);
}

static void test_zscores(void **st)
{
    (void)st;
    sn_graph g;
    cliques(&g, 6, 12, 80, 2);
    sn_geneset sets[6];
    int32_t idx[6 * 12];
    char names[6][16];
    clique_sets(sets, idx, 6, 12, names);
    sn_eval_opts o;
    sn_eval_opts_default(&o);
    o.splits = 2;
    sn_zscores z;
    assert_int_equal(sn_prop_zscores(&g, 0, sets, 6, &o, 8, 10, &z), 0);
    assert_true(z.min_swaps == 10 * g.m);
    assert_true(z.z_overall_auroc > 3);
    for (int k = 0; k < 6; k++) {
        assert_true(z.real.auroc[k] > z.rand_mean_auroc[k]);
        assert_true(z.z_auroc[k] > 1);
        assert_true(z.rand_sd_auroc[k] > 0);
    }
    sn_zscores_free(&z);
    assert_int_equal(sn_prop_zscores(&g, 0, sets, 6, &o, 1, 10, &z), SN_EINVAL);
    /* a set of genes without an edge scores alike on every random network:
     * standard deviation exactly 0, mean the value, no z-score */
    g.n += 12;
    int32_t lone[12];
    for (int i = 0; i < 12; i++)
        lone[i] = (int32_t)(g.n - 12 + i);
    sets[0] = (sn_geneset){"lone", 12, lone};
    for (int nr = 2; nr <= 12; nr++) { /* sums of nr equal values that round */
        assert_int_equal(sn_prop_zscores(&g, 0, sets, 1, &o, nr, 10, &z), 0);
        assert_true(z.rand_sd_aupr[0] == 0 && z.rand_sd_auroc[0] == 0);
        assert_true(z.rand_mean_aupr[0] == z.real.aupr[0]);
        assert_true(isnan(z.z_aupr[0]) && isnan(z.z_auroc[0]));
        sn_zscores_free(&z);
    }
    sn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_linear_solve), cmocka_unit_test(test_reference_rule),
        cmocka_unit_test(test_columns_independent),  cmocka_unit_test(test_auc_by_hand),
        cmocka_unit_test(test_auc_brute_force),      cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_rewire),               cmocka_unit_test(test_zscores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
