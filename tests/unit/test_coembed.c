/* Co-embedded networks: correlations against GSL, the blocked percentile
 * against a full sort, strictness of the threshold, block size and thread
 * count independence, the sparse path against the dense one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_statistics_double.h>

#include "scnet/coembed.h"
#include "scnet/metrics.h"
#include "scnet/philox.h"

/* Rows of a low-rank matrix plus noise, so that correlations spread out;
 * row 3 is constant and rows 5, 6, 7 are identical. */
static void fill_matrix(sn_mat *x, int64_t n, int64_t d, uint64_t seed)
{
    sn_rng r;
    sn_rng_init(&r, seed, 0);
    assert_int_equal(sn_mat_alloc(x, n, d), 0);
    double f[3][64];
    for (int k = 0; k < 3; k++)
        for (int64_t j = 0; j < d; j++)
            f[k][j] = sn_rng_double(&r) - 0.5;
    for (int64_t i = 0; i < n; i++) {
        double c[3] = {sn_rng_double(&r) - 0.5, sn_rng_double(&r) - 0.5, sn_rng_double(&r) - 0.5};
        for (int64_t j = 0; j < d; j++)
            x->data[i * d + j] =
                (float)(c[0] * f[0][j] + c[1] * f[1][j] + c[2] * f[2][j] + 0.2 * (sn_rng_double(&r) - 0.5));
    }
    if (n > 7) {
        for (int64_t j = 0; j < d; j++) {
            x->data[3 * d + j] = 2.5f;
            x->data[6 * d + j] = x->data[7 * d + j] = x->data[5 * d + j];
        }
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* τ and the edge list from the full matrix: the unblocked reference. */
static double naive(const sn_mat *x, double p, double **full_out)
{
    int64_t n = x->nrow;
    double *full = malloc((size_t)(n * n) * sizeof *full), *s = malloc((size_t)(n * n) * sizeof *s);
    assert_int_equal(sn_coembed_corr_full(x, full), 0);
    memcpy(s, full, (size_t)(n * n) * sizeof *s);
    qsort(s, (size_t)(n * n), sizeof *s, cmp_d);
    double tau = sn_percentile_sorted(s, n * n, p);
    free(s);
    *full_out = full;
    return tau;
}

static void test_corr_vs_gsl(void **st)
{
    (void)st;
    sn_mat x;
    int64_t n = 23, d = 9;
    fill_matrix(&x, n, d, 7);
    double *full = malloc((size_t)(n * n) * sizeof *full), a[9], b[9];
    assert_int_equal(sn_coembed_corr_full(&x, full), 0);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            for (int64_t k = 0; k < d; k++) {
                a[k] = x.data[i * d + k];
                b[k] = x.data[j * d + k];
            }
            double want = i == j || i == 3 || j == 3 ? 0.0 : fabs(gsl_stats_correlation(a, 1, b, 1, (size_t)d));
            if (want > 1)
                want = 1;
            assert_true(fabs(full[i * n + j] - want) < 1e-12);
            assert_true(full[i * n + j] == full[j * n + i]);
        }
    assert_true(full[5 * n + 6] > 1 - 1e-12); /* identical rows */
    free(full);
    sn_mat_free(&x);
}

static void test_percentile_numpy(void **st)
{
    (void)st;
    const double v[] = {0, 1, 10};
    /* numpy.percentile([0, 1, 10], q) */
    assert_true(sn_percentile_sorted(v, 3, 75) == 5.5);
    assert_true(sn_percentile_sorted(v, 3, 25) == 0.5);
    assert_true(sn_percentile_sorted(v, 3, 100) == 10);
    assert_true(sn_percentile_sorted(v, 3, 0) == 0);
    const double w[] = {1, 2, 3, 4};
    assert_true(fabs(sn_percentile_sorted(w, 4, 99) - 3.97) < 1e-15);
    /* the symmetric form numpy uses from t = 0.5 on */
    assert_true(sn_percentile_lerp(1.0, 3.0, 0.75) == 3.0 - 2.0 * 0.25);
    assert_true(isnan(sn_percentile_sorted(v, 0, 50)));
    /* any order, the input left as it was: numpy.percentile([5, 1.79, 7,
     * 0.65], 30) is 1.676, where a + (b−a)·t would give 1.6760000000000002 */
    const double u[] = {5, 1.79, 7, 0.65};
    assert_true(sn_percentile(u, 4, 30) == 1.676);
    assert_true(u[0] == 5 && u[3] == 0.65);
    assert_true(sn_percentile(u, 4, 100) == 7);
    assert_true(isnan(sn_percentile(u, 0, 50)));
}

/* Edges of g must be exactly the pairs of full above tau. */
static void assert_edges_match(const sn_graph *g, const double *full, int64_t n, double tau)
{
    int64_t e = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++)
            if (full[i * n + j] > tau) {
                assert_true(e < g->m);
                assert_int_equal(g->a[e], i);
                assert_int_equal(g->b[e], j);
                if (g->w)
                    assert_true(g->w[e] == full[i * n + j]);
                e++;
            }
    assert_int_equal(e, g->m);
}

static void test_blocked_equals_full(void **st)
{
    (void)st;
    sn_mat x;
    int64_t n = 97;
    fill_matrix(&x, n, 13, 11);
    const double ps[] = {0, 50, 90, 99, 99.9, 100};
    const int64_t blocks[] = {0, 1, 3, 4, 16, 97};
    for (size_t a = 0; a < sizeof ps / sizeof *ps; a++) {
        double *full, tau = naive(&x, ps[a], &full);
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            sn_coembed_opts o;
            sn_coembed_opts_default(&o);
            o.percentile = ps[a];
            o.block = blocks[b];
            o.weighted = b % 2;
            sn_graph g;
            sn_coembed_info info;
            assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), 0);
            assert_true(info.threshold == tau); /* bit for bit */
            assert_int_equal(info.n_entries, n * n);
            assert_edges_match(&g, full, n, tau);
            sn_graph_free(&g);
        }
        free(full);
    }
    sn_mat_free(&x);
}

static void test_strict_threshold(void **st)
{
    (void)st;
    /* Rows 0..4 identical, the rest distinct: the largest |ρ| (exactly the
     * same bits for all ten pairs) is the 100th percentile and also the one
     * a little below, yet no edge may reach it. */
    sn_mat x;
    int64_t n = 12, d = 5;
    fill_matrix(&x, n, d, 3);
    for (int64_t i = 1; i < 5; i++)
        memcpy(x.data + i * d, x.data, (size_t)d * sizeof *x.data);
    double *full;
    double top = naive(&x, 100, &full);
    int ties = 0;
    for (int64_t k = 0; k < n * n; k++)
        ties += full[k] == top;
    assert_true(ties >= 20);
    const double ps[] = {100, 99.5, 99};
    for (int a = 0; a < 3; a++) {
        sn_coembed_opts o;
        sn_coembed_opts_default(&o);
        o.percentile = ps[a];
        sn_graph g;
        sn_coembed_info info;
        assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), 0);
        assert_true(info.threshold == top);
        assert_int_equal(g.m, 0);
        sn_graph_free(&g);
    }
    /* p = 0: τ = 0 (the diagonal), every non-zero pair is an edge. */
    sn_coembed_opts o;
    sn_coembed_opts_default(&o);
    o.percentile = 0;
    sn_graph g;
    sn_coembed_info info;
    assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), 0);
    assert_true(info.threshold == 0.0);
    assert_edges_match(&g, full, n, 0.0);
    sn_graph_free(&g);
    o.percentile = 101;
    assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), SN_EINVAL);
    free(full);
    sn_mat_free(&x);
}

static void test_threads_independent(void **st)
{
    (void)st;
    sn_mat x;
    fill_matrix(&x, 501, 16, 5);
    sn_coembed_opts o;
    sn_coembed_opts_default(&o);
    o.weighted = 1;
    sn_graph g1, g2;
    sn_coembed_info i1, i2;
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_int_equal(sn_coembed_dense(&x, &o, &g1, &i1), 0);
    omp_set_num_threads(3);
    assert_int_equal(sn_coembed_dense(&x, &o, &g2, &i2), 0);
    omp_set_num_threads(nt);
    assert_true(i1.threshold == i2.threshold);
    assert_int_equal(g1.m, g2.m);
    /* 1 % of 501² entries, two per edge */
    assert_true(llabs(2 * g1.m - 2510) <= 2);
    assert_memory_equal(g1.a, g2.a, (size_t)g1.m * sizeof *g1.a);
    assert_memory_equal(g1.b, g2.b, (size_t)g1.m * sizeof *g1.b);
    assert_memory_equal(g1.w, g2.w, (size_t)g1.m * sizeof *g1.w);
    sn_graph_free(&g1);
    sn_graph_free(&g2);
    sn_mat_free(&x);
}

/* The same matrix as CSR (rows = genes), with some exact zeros. */
static void to_csr(const sn_mat *x, sn_csr *c)
{
    int64_t nnz = 0;
    for (int64_t k = 0; k < x->nrow * x->ncol; k++)
        nnz += x->data[k] != 0;
    assert_int_equal(sn_csr_alloc(c, x->nrow, x->ncol, nnz), 0);
    int64_t p = 0;
    for (int64_t i = 0; i < x->nrow; i++) {
        for (int64_t j = 0; j < x->ncol; j++)
            if (x->data[i * x->ncol + j] != 0) {
                c->indices[p] = (int32_t)j;
                c->data[p++] = x->data[i * x->ncol + j];
            }
        c->indptr[i + 1] = p;
    }
}

static void test_sparse_matches_dense(void **st)
{
    (void)st;
    sn_mat x;
    int64_t n = 150, d = 40;
    fill_matrix(&x, n, d, 9);
    for (int64_t k = 0; k < n * d; k += 3)
        x.data[k] = 0; /* sparsity */
    sn_csr c;
    to_csr(&x, &c);
    sn_coembed_opts o;
    sn_coembed_opts_default(&o);
    o.percentile = 95;
    o.weighted = 1;
    sn_graph gd, gs;
    sn_coembed_info id, is;
    assert_int_equal(sn_coembed_dense(&x, &o, &gd, &id), 0);
    assert_int_equal(sn_coembed_sparse(&c, &o, &gs, &is), 0);
    assert_true(fabs(id.threshold - is.threshold) < 1e-12);
    assert_int_equal(gd.m, gs.m);
    assert_memory_equal(gd.a, gs.a, (size_t)gd.m * sizeof *gd.a);
    assert_memory_equal(gd.b, gs.b, (size_t)gd.m * sizeof *gd.b);
    for (int64_t e = 0; e < gd.m; e++)
        assert_true(fabs(gd.w[e] - gs.w[e]) < 1e-12);
    /* block size does not matter on the sparse path either */
    sn_graph g2;
    o.block = 7;
    assert_int_equal(sn_coembed_sparse(&c, &o, &g2, &is), 0);
    assert_int_equal(g2.m, gs.m);
    assert_memory_equal(g2.w, gs.w, (size_t)gs.m * sizeof *gs.w);
    sn_graph_free(&gd);
    sn_graph_free(&gs);
    sn_graph_free(&g2);
    sn_csr_free(&c);
    sn_mat_free(&x);
}

/* More candidates than are ever collected at once: rows near two patterns
 * put millions of distinct entries into the top histogram bin, so the
 * selection has to refine; with exact copies, it meets one value repeated
 * millions of times. */
static void refine_case(int exact, const double *ps, const int *passes, int np)
{
    int64_t n = 3200, d = 4;
    sn_mat x;
    assert_int_equal(sn_mat_alloc(&x, n, d), 0);
    sn_rng r;
    sn_rng_init(&r, 1, 1);
    const float pat[2][4] = {{1, 2, 3, 5}, {2, -1, 0, 1}};
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < d; k++)
            x.data[i * d + k] = pat[i % 2][k] + (exact ? 0.0f : (float)(1e-3 * sn_rng_double(&r)));
    for (int a = 0; a < np; a++) {
        double *full, tau = naive(&x, ps[a], &full);
        sn_coembed_opts o;
        sn_coembed_opts_default(&o);
        o.percentile = ps[a];
        sn_graph g;
        sn_coembed_info info;
        assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), 0);
        assert_true(info.threshold == tau);
        assert_true(info.passes >= passes[a]);
        assert_true(info.passes <= passes[a] + (exact ? 4 : 0));
        int64_t above = 0;
        for (int64_t k = 0; k < n * n; k++)
            above += full[k] > tau;
        assert_int_equal(2 * g.m, above);
        sn_graph_free(&g);
        free(full);
    }
    sn_mat_free(&x);
}

static void test_refinement(void **st)
{
    (void)st;
    const double ps[] = {99, 75, 30};
    const int passes[] = {4, 4, 3}; /* 30: below the crowded bin, no refinement */
    refine_case(0, ps, passes, 3);
    const double pe[] = {99};
    /* 1 and the values a rounding step below it: refined to the last bit */
    const int pass_e[] = {4};
    refine_case(1, pe, pass_e, 1);
}

/* Patterns whose correlations are exactly 1 and 0: the wanted rank sits in
 * millions of copies of one value, too many to collect; the second
 * histogram finds its candidates all equal and stops there. */
static void test_repeated_value(void **st)
{
    (void)st;
    int64_t n = 3200, d = 4;
    const float pat[2][4] = {{1, -1, 1, -1}, {1, 1, -1, -1}};
    sn_mat x;
    assert_int_equal(sn_mat_alloc(&x, n, d), 0);
    for (int64_t i = 0; i < n; i++)
        memcpy(x.data + i * d, pat[i % 2], sizeof pat[0]);
    const double ps[] = {99, 40};
    const double taus[] = {1.0, 0.0};
    for (int a = 0; a < 2; a++) {
        sn_coembed_opts o;
        sn_coembed_opts_default(&o);
        o.percentile = ps[a];
        sn_graph g;
        sn_coembed_info info;
        assert_int_equal(sn_coembed_dense(&x, &o, &g, &info), 0);
        assert_true(info.threshold == taus[a]);
        assert_int_equal(info.passes, 3);
        /* τ = 1: nothing is above; τ = 0: every same-pattern pair */
        assert_int_equal(g.m, a == 0 ? 0 : 2 * (1600 * 1599 / 2));
        sn_graph_free(&g);
    }
    sn_mat_free(&x);
}

static void test_bad_input(void **st)
{
    (void)st;
    sn_mat x;
    fill_matrix(&x, 10, 4, 1);
    x.data[17] = NAN;
    sn_coembed_opts o;
    sn_coembed_opts_default(&o);
    sn_graph g;
    assert_int_equal(sn_coembed_dense(&x, &o, &g, NULL), SN_EFMT);
    assert_non_null(strstr(sn_errmsg(), "row 4"));
    sn_mat_free(&x);
    /* no genes: an empty network */
    sn_mat e = {0, 4, NULL};
    sn_coembed_info info;
    assert_int_equal(sn_coembed_dense(&e, &o, &g, &info), 0);
    assert_int_equal(g.m, 0);
    assert_true(isnan(info.threshold));
    sn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corr_vs_gsl),         cmocka_unit_test(test_percentile_numpy),
        cmocka_unit_test(test_blocked_equals_full), cmocka_unit_test(test_strict_threshold),
        cmocka_unit_test(test_threads_independent), cmocka_unit_test(test_sparse_matches_dense),
        cmocka_unit_test(test_refinement),          cmocka_unit_test(test_repeated_value),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
