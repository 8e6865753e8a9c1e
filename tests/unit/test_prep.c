/* Unit tests of the expression preprocessing (prep.h) against direct
 * computations on small dense matrices. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <omp.h>

#include "prep_fixture.h"
#include "scnet/err.h"
#include "scnet/prep.h"

static void test_filters(void **st)
{
    (void)st;
    /* 4 cells × 5 genes; positives per cell: 3, 1, 2, 0; per gene: 2, 1, 2, 0, 1 */
    float a[] = {1, 2, 0, 0, 5, /**/ 0, 0, 3, 0, 0, /**/ 4, 0, 1, 0, -2, /**/ 0, 0, 0, 0, 0};
    sn_csr m = dense_to_csr(a, 4, 5);
    int64_t *keep, n;
    int64_t *ng;
    assert_int_equal(sn_prep_filter_cells(&m, 2, &keep, &n, &ng), 0);
    assert_int_equal(n, 2); /* negative values are not "expressed", as scanpy's X > 0 */
    assert_int_equal(keep[0], 0);
    assert_int_equal(keep[1], 2);
    int64_t want_ng[] = {3, 1, 2, 0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ng[i], want_ng[i]);
    free(ng);
    free(keep);
    assert_int_equal(sn_prep_filter_cells(&m, 0, &keep, &n, NULL), 0);
    assert_int_equal(n, 4);
    free(keep);
    assert_int_equal(sn_prep_filter_genes(&m, NULL, 0, 2, &keep, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(keep[0], 0);
    assert_int_equal(keep[1], 2);
    free(keep);
    int64_t *nc, *nc2;
    assert_int_equal(sn_prep_gene_ncells(&m, &nc), 0);
    assert_int_equal(sn_prep_filter_genes(&m, NULL, 0, 1, &keep, &n, &nc2), 0);
    assert_int_equal(n, 4);
    int64_t want[] = {2, 1, 2, 0, 1};
    for (int j = 0; j < 5; j++) {
        assert_int_equal(nc[j], want[j]);
        assert_int_equal(nc2[j], want[j]);
    }
    free(nc);
    free(nc2);
    free(keep);
    /* over cells 1 and 2 only (cell 0 left out): counts 1, 0, 2, 0, 0 */
    int64_t rows[] = {1, 2};
    assert_int_equal(sn_prep_filter_genes(&m, rows, 2, 1, &keep, &n, &nc2), 0);
    assert_int_equal(n, 2);
    assert_true(keep[0] == 0 && keep[1] == 2);
    int64_t want_rows[] = {1, 0, 2, 0, 0};
    assert_memory_equal(nc2, want_rows, sizeof want_rows);
    free(nc2);
    free(keep);
    sn_csr_free(&m);
}

static void test_subset_in_place(void **st)
{
    (void)st;
    float *a = random_counts(30, 20, 3, 0.4, 7);
    sn_csr m = dense_to_csr(a, 30, 20);
    int64_t rows[] = {1, 4, 5, 29}, cols[] = {0, 3, 4, 19};
    assert_int_equal(sn_prep_subset(&m, rows, 4, cols, 4), 0);
    assert_int_equal(m.nrow, 4);
    assert_int_equal(m.ncol, 4);
    assert_int_equal(sn_csr_validate(&m, 1), 0);
    float *b = csr_to_dense(&m);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            assert_true(b[r * 4 + c] == a[rows[r] * 20 + cols[c]]);
    int64_t bad[] = {3, 2}, badc[] = {5};
    assert_int_equal(sn_prep_subset(&m, bad, 2, NULL, 0), SN_EINVAL);
    /* columns are checked before rows, and nothing changes on either error */
    assert_int_equal(sn_prep_subset(&m, bad, 2, badc, 1), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "column subset"));
    assert_int_equal(m.nrow, 4);
    assert_int_equal(m.ncol, 4);
    free(a);
    free(b);
    sn_csr_free(&m);
}

/* The in-place subset compacts ranges of rows in parallel: the same result
 * for every thread count, empty rows and rows wholly dropped included. */
static void test_subset_threads(void **st)
{
    (void)st;
    enum { R = 301, C = 40 };
    float *a = random_counts(R, C, 2, 0.7, 11);
    for (int j = 0; j < C; j++)
        for (int i = 0; i < R; i += 7)
            a[i * C + j] = 0; /* every seventh row empty */
    int64_t rows[R], cols[C], nr = 0, nc = 0;
    for (int i = 0; i < R; i++)
        if (i % 3 != 1)
            rows[nr++] = i;
    for (int j = 0; j < C; j++)
        if (j % 4 != 2)
            cols[nc++] = j;
    int saved = omp_get_max_threads();
    for (int t = 1; t <= 5; t++) {
        omp_set_num_threads(t);
        for (int form = 0; form < 3; form++) { /* rows and columns, rows only, columns only */
            sn_csr m = dense_to_csr(a, R, C);
            const int64_t *rw = form == 2 ? NULL : rows, *cl = form == 1 ? NULL : cols;
            int64_t wr = rw ? nr : R, wc = cl ? nc : C;
            assert_int_equal(sn_prep_subset(&m, rw, nr, cl, nc), 0);
            assert_int_equal(m.nrow, wr);
            assert_int_equal(m.ncol, wc);
            assert_int_equal(sn_csr_validate(&m, 1), 0);
            float *b = csr_to_dense(&m);
            for (int64_t r = 0; r < wr; r++)
                for (int64_t c = 0; c < wc; c++)
                    assert_true(b[r * wc + c] == a[(rw ? rw[r] : r) * C + (cl ? cl[c] : c)]);
            free(b);
            sn_csr_free(&m);
        }
    }
    omp_set_num_threads(saved);
    free(a);
}

static void test_inspect(void **st)
{
    (void)st;
    float c[] = {0, 3, 1, 0, 12, 7};
    sn_csr m = dense_to_csr(c, 2, 3);
    sn_values kind;
    double mx;
    assert_int_equal(sn_prep_inspect(&m, &kind, &mx), 0);
    assert_int_equal(kind, SN_VALUES_COUNTS);
    assert_true(mx == 12);
    m.data[0] = 1.5f;
    assert_int_equal(sn_prep_inspect(&m, &kind, &mx), 0);
    assert_int_equal(kind, SN_VALUES_LOGNORM);
    m.data[1] = 250.25f;
    assert_int_equal(sn_prep_inspect(&m, &kind, &mx), 0);
    assert_int_equal(kind, SN_VALUES_NONINT);
    m.data[2] = -0.5f;
    assert_int_equal(sn_prep_inspect(&m, &kind, &mx), SN_EFMT);
    assert_non_null(strstr(sn_errmsg(), "negative"));
    sn_csr_free(&m);
}

/* scanpy's float32 arithmetic: factor = (float)total / (float)target. */
static void test_normalize_log1p(void **st)
{
    (void)st;
    int64_t n = 40, g = 25;
    float *a = random_counts(n, g, 4, 0.5, 11);
    for (int j = 0; j < g; j++)
        a[3 * g + j] = 0; /* a cell with total 0 stays as it is */
    sn_csr m = dense_to_csr(a, n, g);
    double used;
    assert_int_equal(sn_prep_normalize_total(&m, 1e4, &used), 0);
    assert_true(used == 1e4);
    float *b = csr_to_dense(&m);
    for (int64_t i = 0; i < n; i++) {
        double t = 0;
        for (int64_t j = 0; j < g; j++)
            t += a[i * g + j];
        float f = (float)t / 1e4f;
        double sum = 0;
        for (int64_t j = 0; j < g; j++) {
            float want = f == 0 ? a[i * g + j] : a[i * g + j] / f;
            assert_true(b[i * g + j] == want);
            sum += b[i * g + j];
        }
        if (t > 0)
            assert_true(fabs(sum - 1e4) < 1e-2);
    }
    sn_prep_log1p(&m);
    float *c = csr_to_dense(&m);
    for (int64_t e = 0; e < n * g; e++)
        assert_true(c[e] == log1pf(b[e]));
    free(a);
    free(b);
    free(c);
    sn_csr_free(&m);
}

static void test_median_target(void **st)
{
    (void)st;
    /* totals 2, 0, 10, 4, 6: median of the non-zero ones = (4 + 6) / 2 */
    float a[] = {2, 0, 0, 0, 7, 3, 4, 0, 1, 5};
    sn_csr m = dense_to_csr(a, 5, 2);
    double used;
    assert_int_equal(sn_prep_normalize_total(&m, 0, &used), 0);
    assert_true(used == 5.0);
    assert_true(m.data[0] == 5.0f);
    sn_csr_free(&m);
    float z[] = {0, 0};
    m = dense_to_csr(z, 1, 2);
    assert_int_equal(sn_prep_normalize_total(&m, 0, &used), SN_EINVAL);
    sn_csr_free(&m);
}

static void test_moments_and_scale(void **st)
{
    (void)st;
    int64_t n = 9000, g = 13; /* more rows than one reduction block */
    float *a = random_counts(n, g, 3, 0.3, 5);
    sn_csr m = dense_to_csr(a, n, g);
    double mean[13], var[13];
    assert_int_equal(sn_prep_gene_moments(&m, mean, var), 0);
    for (int64_t j = 0; j < g; j++) {
        double s = 0, q = 0;
        for (int64_t i = 0; i < n; i++)
            s += a[i * g + j];
        for (int64_t i = 0; i < n; i++)
            q += (a[i * g + j] - s / n) * (a[i * g + j] - s / n);
        assert_true(fabs(mean[j] - s / n) < 1e-12 * (1 + fabs(mean[j])));
        assert_true(fabs(var[j] - q / (n - 1)) < 1e-9 * (1 + var[j]));
    }
    double sd[13];
    for (int j = 0; j < g; j++)
        sd[j] = sqrt(var[j]);
    float *z = malloc(sizeof(float) * 5 * g);
    float *zero = sn_prep_scale_zeros(mean, sd, 1e-5, g);
    assert_non_null(zero);
#pragma omp parallel
    sn_prep_scale_rows_team(&m, mean, sd, 1e-5, zero, 100, 105, z);
    free(zero);
    for (int r = 0; r < 5; r++)
        for (int j = 0; j < g; j++) {
            double want = (a[(100 + r) * g + j] - mean[j]) / (sd[j] + 1e-5);
            assert_true(fabs(z[r * g + j] - want) < 1e-5 * (1 + fabs(want)));
        }
    free(z);
    free(a);
    sn_csr_free(&m);
}

/* The expm1 sums HVG selection reads: float32 value and square, only the
 * needed columns, and the same bits for any thread count. */
static void test_gene_sums(void **st)
{
    (void)st;
    int64_t n = 9000, g = 7; /* more rows than one reduction block */
    float *a = random_counts(n, g, 4, 0.4, 11);
    sn_csr m = dense_to_csr(a, n, g);
    for (int64_t i = 0; i < n * g; i++)
        a[i] = log1pf(a[i]);
    for (int64_t k = 0; k < sn_csr_nnz(&m); k++)
        m.data[k] = log1pf(m.data[k]);
    uint8_t need[7] = {1, 0, 1, 1, 0, 0, 1};
    double s1[14], s2[14];
    omp_set_num_threads(1);
    assert_int_equal(sn_prep_gene_sums(&m, need, 1, s1, s1 + g), 0);
    omp_set_num_threads(2);
    assert_int_equal(sn_prep_gene_sums(&m, need, 1, s2, s2 + g), 0);
    assert_memory_equal(s1, s2, sizeof s1);
    for (int64_t j = 0; j < g; j++) {
        double s = 0, q = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = expm1f(a[i * g + j]);
            s += v;
            q += (float)(v * v);
        }
        if (!need[j])
            s = q = 0;
        assert_true(s1[j] > 0 || !need[j]);
        assert_true(fabs(s1[j] - s) <= 1e-12 * fabs(s));
        assert_true(fabs(s1[g + j] - q) <= 1e-12 * fabs(q));
    }
    free(a);
    sn_csr_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),         cmocka_unit_test(test_subset_in_place), cmocka_unit_test(test_subset_threads),
        cmocka_unit_test(test_inspect),         cmocka_unit_test(test_normalize_log1p),
        cmocka_unit_test(test_median_target),   cmocka_unit_test(test_moments_and_scale),
        cmocka_unit_test(test_gene_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
