/* Neighbour search and scanpy's neighbour matrices against direct
 * computations: exact k-NN, ties, duplicate cells, UMAP weights, the IVF
 * index's recall, thread-count independence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <omp.h>

#include "prep_fixture.h"
#include "scnet/err.h"
#include "scnet/knn.h"

static sn_mat random_points(int64_t n, int d, int clusters, uint64_t seed)
{
    sn_mat x;
    assert_int_equal(sn_mat_alloc(&x, n, d), 0);
    sn_rng r;
    sn_rng_init(&r, seed, 3);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)sn_rng_below(&r, (uint64_t)clusters);
        for (int t = 0; t < d; t++) {
            double u1 = sn_rng_double(&r) + 1e-12, u2 = sn_rng_double(&r);
            double centre = 10.0 * sin(1.7 * c + 3.1 * t);
            x.data[i * d + t] = (float)(centre + sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
        }
    }
    return x;
}

static double d2(const sn_mat *x, int64_t i, int64_t j)
{
    double s = 0;
    for (int t = 0; t < x->ncol; t++) {
        double u = (double)x->data[i * x->ncol + t] - x->data[j * x->ncol + t];
        s += u * u;
    }
    return s;
}

/* Every row of the exact search is the k - 1 smallest (distance, index)
 * pairs, checked against all cells. */
static void check_exact(const sn_mat *x, int k)
{
    int64_t n = x->nrow;
    sn_knn_opts o;
    sn_knn_defaults(&o);
    o.k = k;
    o.method = SN_KNN_EXACT;
    sn_knn g;
    assert_int_equal(sn_knn_build(x, &o, &g), 0);
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(g.idx[i * k], i);
        assert_true(g.dist[i * k] == 0);
        double last = -1;
        int64_t lastj = -1;
        for (int a = 1; a < k; a++) {
            int64_t j = g.idx[i * k + a];
            double dj = d2(x, i, j);
            assert_true(j != i);
            assert_true(dj > last || (dj == last && j > lastj));
            assert_true(fabs(g.dist[i * k + a] - sqrt(dj)) <= 1e-6 * sqrt(dj));
            last = dj, lastj = j;
        }
        int64_t closer = 0;
        for (int64_t j = 0; j < n; j++)
            closer += j != i && (d2(x, i, j) < last || (d2(x, i, j) == last && j < lastj));
        assert_int_equal(closer, k - 2);
    }
    sn_knn_free(&g);
}

static void test_exact_matches_brute_force(void **st)
{
    (void)st;
    sn_mat x = random_points(700, 5, 6, 1);
    check_exact(&x, 12);
    sn_mat_free(&x);
}

/* Above SN_KNN_LISTS_MIN cells the exact search skips k-means lists by the
 * triangle inequality: still every cell's exact neighbours, duplicates and
 * ties included. */
static void test_exact_lists(void **st)
{
    (void)st;
    sn_mat x = random_points(2600, 15, 9, 6);
    for (int64_t i = 0; i < 40; i++) /* duplicates of cell 3, and cells tied with it */
        memcpy(x.data + (100 + 50 * i) * 15, x.data + 3 * 15, 15 * sizeof(float));
    for (int i = 0; i < 15; i++)
        x.data[2500 * 15 + i] = x.data[3 * 15 + i] + (i == 0 ? 0.5f : 0.0f);
    for (int i = 0; i < 15; i++)
        x.data[2501 * 15 + i] = x.data[3 * 15 + i] - (i == 0 ? 0.5f : 0.0f);
    check_exact(&x, 25);
    check_exact(&x, 60);
    sn_mat_free(&x);
}

/* Points 0..9 on a line: equal distances are ordered by index. */
static void test_ties_by_index(void **st)
{
    (void)st;
    sn_mat x;
    assert_int_equal(sn_mat_zeros(&x, 10, 2), 0);
    for (int i = 0; i < 10; i++)
        x.data[i * 2] = (float)i;
    sn_knn_opts o;
    sn_knn_defaults(&o);
    o.k = 4;
    sn_knn g;
    assert_int_equal(sn_knn_build(&x, &o, &g), 0);
    int want[] = {5, 4, 6, 3};
    for (int a = 0; a < 4; a++)
        assert_int_equal(g.idx[5 * 4 + a], want[a]);
    assert_true(g.dist[5 * 4 + 3] == 2.0f);
    sn_knn_free(&g);
    sn_mat_free(&x);
}

/* Cells 2 and 7 are identical: each lists the other first, at distance 0,
 * stored as an explicit zero, with full weight. */
static void test_duplicate_cell(void **st)
{
    (void)st;
    sn_mat x = random_points(30, 3, 2, 2);
    memcpy(x.data + 7 * 3, x.data + 2 * 3, 3 * sizeof(float));
    sn_knn_opts o;
    sn_knn_defaults(&o);
    o.k = 5;
    sn_knn g;
    assert_int_equal(sn_knn_build(&x, &o, &g), 0);
    assert_int_equal(g.idx[2 * 5], 2);
    assert_int_equal(g.idx[2 * 5 + 1], 7);
    assert_true(g.dist[2 * 5 + 1] == 0);
    assert_int_equal(g.idx[7 * 5 + 1], 2);
    sn_csr d, w;
    assert_int_equal(sn_knn_distances(&g, &d), 0);
    assert_int_equal(d.indptr[3] - d.indptr[2], 4);
    int found = 0;
    for (int64_t k = d.indptr[2]; k < d.indptr[3]; k++) {
        if (k > d.indptr[2])
            assert_true(d.indices[k] > d.indices[k - 1]);
        if (d.indices[k] == 7) {
            found = 1;
            assert_true(d.data[k] == 0);
        }
        assert_true(d.indices[k] != 2);
    }
    assert_true(found);
    assert_int_equal(sn_knn_connectivities(&g, &w), 0);
    for (int64_t k = w.indptr[2]; k < w.indptr[3]; k++)
        if (w.indices[k] == 7)
            assert_true(w.data[k] == 1.0f);
    sn_csr_free(&d);
    sn_csr_free(&w);
    sn_knn_free(&g);
    sn_mat_free(&x);
}

/* MODEL.md §7.1b in double precision. */
static double naive_sigma(const float *dist, int k, double rho, double mean_all)
{
    double lo = 0, hi = INFINITY, mid = 1, target = log2(k);
    for (int it = 0; it < 64; it++) {
        double s = 0;
        for (int j = 1; j < k; j++)
            s += dist[j] - rho > 0 ? exp(-(dist[j] - rho) / mid) : 1;
        if (fabs(s - target) < 1e-5)
            break;
        if (s > target)
            hi = mid, mid = (lo + hi) / 2;
        else
            lo = mid, mid = isinf(hi) ? 2 * mid : (lo + hi) / 2;
    }
    double mean = 0;
    for (int j = 0; j < k; j++)
        mean += dist[j];
    mean /= k;
    double floor = 1e-3 * (rho > 0 ? mean : mean_all);
    return mid < floor ? floor : mid;
}

static double naive_w(const sn_knn *g, int64_t i, int64_t j, double mean_all)
{
    const float *dist = g->dist + i * g->k;
    double rho = 0;
    for (int a = 0; a < g->k && rho == 0; a++)
        rho = dist[a];
    double sigma = naive_sigma(dist, g->k, rho, mean_all);
    for (int a = 1; a < g->k; a++)
        if (g->idx[i * g->k + a] == j)
            return dist[a] - rho > 0 ? exp(-(dist[a] - rho) / sigma) : 1;
    return 0;
}

static void test_connectivities(void **st)
{
    (void)st;
    sn_mat x = random_points(400, 4, 5, 3);
    sn_knn_opts o;
    sn_knn_defaults(&o);
    o.k = 15;
    sn_knn g;
    assert_int_equal(sn_knn_build(&x, &o, &g), 0);
    sn_csr w, wt;
    assert_int_equal(sn_knn_connectivities(&g, &w), 0);
    assert_int_equal(sn_csr_validate(&w, 1), 0);
    assert_int_equal(sn_csr_transpose(&w, &wt), 0);
    assert_memory_equal(w.indptr, wt.indptr, sizeof(int64_t) * 401);
    assert_memory_equal(w.indices, wt.indices, sizeof(int32_t) * (size_t)sn_csr_nnz(&w));
    assert_memory_equal(w.data, wt.data, sizeof(float) * (size_t)sn_csr_nnz(&w));
    double mean_all = 0;
    for (int64_t e = 0; e < 400 * 15; e++)
        mean_all += g.dist[e];
    mean_all /= 400 * 15;
    for (int64_t i = 0; i < 400; i++)
        for (int64_t k = w.indptr[i]; k < w.indptr[i + 1]; k++) {
            int64_t j = w.indices[k];
            double a = naive_w(&g, i, j, mean_all), b = naive_w(&g, j, i, mean_all);
            double want = a + b - a * b;
            assert_true(fabs(w.data[k] - want) < 1e-5);
            assert_true(want > 0);
        }
    /* every neighbour relation appears (weights never underflow here) */
    assert_true(sn_csr_nnz(&w) >= 400 * 14);
    sn_csr_free(&w);
    sn_csr_free(&wt);
    sn_knn_free(&g);
    sn_mat_free(&x);
}

static void test_ivf_recall_and_threads(void **st)
{
    (void)st;
    sn_mat x = random_points(60000, 10, 40, 4);
    sn_knn_opts o;
    sn_knn_defaults(&o);
    o.method = SN_KNN_IVF;
    sn_knn g1, g2;
    omp_set_num_threads(1);
    assert_int_equal(sn_knn_build(&x, &o, &g1), 0);
    omp_set_num_threads(2);
    assert_int_equal(sn_knn_build(&x, &o, &g2), 0);
    assert_int_equal(g1.method, SN_KNN_IVF);
    assert_memory_equal(g1.idx, g2.idx, sizeof(int32_t) * 60000 * 25);
    assert_memory_equal(g1.dist, g2.dist, sizeof(float) * 60000 * 25);
    double recall;
    assert_int_equal(sn_knn_recall(&x, &g1, 300, 9, &recall), 0);
    assert_true(recall >= 0.98);
    sn_knn_free(&g1);
    sn_knn_free(&g2);
    /* exact search on the first 3000 cells, one vs two threads */
    x.nrow = 3000;
    o.method = SN_KNN_EXACT;
    omp_set_num_threads(1);
    assert_int_equal(sn_knn_build(&x, &o, &g1), 0);
    omp_set_num_threads(2);
    assert_int_equal(sn_knn_build(&x, &o, &g2), 0);
    assert_memory_equal(g1.idx, g2.idx, sizeof(int32_t) * 3000 * 25);
    assert_int_equal(sn_knn_recall(&x, &g1, 200, 9, &recall), 0);
    assert_true(recall == 1.0);
    sn_knn_free(&g1);
    sn_knn_free(&g2);
    sn_mat_free(&x);
}

static void test_tiny_n(void **st)
{
    (void)st;
    sn_mat x = random_points(5, 2, 1, 5);
    sn_knn_opts o;
    sn_knn_defaults(&o);
    sn_knn g;
    assert_int_equal(sn_knn_build(&x, &o, &g), 0);
    assert_int_equal(g.k, 3); /* scanpy: 1 + n / 2 */
    sn_csr d;
    assert_int_equal(sn_knn_distances(&g, &d), 0);
    assert_int_equal(sn_csr_nnz(&d), 10);
    sn_csr_free(&d);
    sn_knn_free(&g);
    sn_mat_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_matches_brute_force),
        cmocka_unit_test(test_exact_lists),
        cmocka_unit_test(test_ties_by_index),
        cmocka_unit_test(test_duplicate_cell),
        cmocka_unit_test(test_connectivities),
        cmocka_unit_test(test_ivf_recall_and_threads),
        cmocka_unit_test(test_tiny_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
