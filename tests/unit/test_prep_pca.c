/* PCA (both solvers) against a dense LAPACK SVD of the explicitly centred
 * matrix: variances, subspace, signs, scores, gene masks, scaling, and
 * independence from the thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <omp.h>

#include "prep_fixture.h"
#include "scnet/err.h"
#include "scnet/pca.h"
#include "scnet/prep.h"

void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info,
             size_t l1);

typedef struct {
    int k;
    double *s;   /* singular values, descending */
    sn_mat v;    /* g × k right singular vectors */
    double total; /* sum of column variances */
} dense_pca;

/* SVD of the centred (and optionally z-scored) dense matrix; mask selects columns. */
static dense_pca dense_reference(const float *a, int n, int g, const uint8_t *mask, int scale, int k)
{
    int p = 0, cols[g];
    for (int j = 0; j < g; j++)
        if (!mask || mask[j])
            cols[p++] = j;
    double *c = malloc(sizeof(double) * n * p); /* column-major n × p */
    dense_pca r = {k, malloc(sizeof(double) * (n < p ? n : p)), {0}, 0};
    for (int t = 0; t < p; t++) {
        double m = 0, q = 0;
        for (int i = 0; i < n; i++)
            m += a[i * g + cols[t]];
        m /= n;
        for (int i = 0; i < n; i++)
            q += (a[i * g + cols[t]] - m) * (a[i * g + cols[t]] - m);
        double sd = scale && q > 0 ? sqrt(q / (n - 1)) : 1;
        for (int i = 0; i < n; i++)
            c[t * n + i] = (a[i * g + cols[t]] - m) / sd;
        r.total += q / (n - 1) / (sd * sd);
    }
    int mn = n < p ? n : p, lwork = -1, info, *iw = malloc(sizeof(int) * 8 * mn);
    double *vt = malloc(sizeof(double) * mn * p), wq;
    dgesdd_("S", &n, &p, c, &n, r.s, NULL, &n, vt, &mn, &wq, &lwork, iw, &info, 1);
    double *u = malloc(sizeof(double) * n * mn);
    lwork = (int)wq;
    double *w = malloc(sizeof(double) * lwork);
    dgesdd_("S", &n, &p, c, &n, r.s, u, &n, vt, &mn, w, &lwork, iw, &info, 1);
    assert_int_equal(info, 0);
    assert_int_equal(sn_mat_zeros(&r.v, g, k), 0);
    for (int t = 0; t < p; t++)
        for (int c2 = 0; c2 < k; c2++)
            r.v.data[cols[t] * k + c2] = (float)vt[t * mn + c2];
    free(c), free(iw), free(vt), free(u), free(w);
    return r;
}

/* The defaults with the randomized solver, k components (0: the default). */
static sn_pca_opts randomized(int k)
{
    sn_pca_opts o;
    sn_pca_defaults(&o);
    if (k > 0)
        o.n_comps = k;
    o.solver = SN_PCA_RANDOMIZED;
    return o;
}

static void check_against(const float *a, int n, int g, const sn_pca_opts *o, double angle_tol, double var_tol)
{
    sn_csr m = dense_to_csr(a, n, g);
    sn_pca p;
    assert_int_equal(sn_pca_run(&m, o, &p), 0);
    dense_pca r = dense_reference(a, n, g, o->mask, o->scale, o->n_comps);
    double ang;
    assert_int_equal(sn_pca_max_angle(&p.loadings, &r.v, &ang), 0);
    assert_true(ang < angle_tol);
    assert_true(fabs(p.total_variance - r.total) < 1e-9 * r.total);
    for (int t = 0; t < o->n_comps; t++) {
        double want = r.s[t] * r.s[t] / (n - 1);
        assert_true(fabs(p.variance[t] - want) < var_tol * want);
        assert_true(fabs(p.variance_ratio[t] - want / r.total) < var_tol);
        /* sign: the largest |loading| is positive; scores = A v have the
         * component's variance */
        int best = 0;
        for (int j = 1; j < g; j++)
            if (fabs(p.loadings.data[j * o->n_comps + t]) > fabs(p.loadings.data[best * o->n_comps + t]))
                best = j;
        assert_true(p.loadings.data[best * o->n_comps + t] > 0);
        double ss = 0, mean = 0;
        for (int i = 0; i < n; i++)
            mean += p.scores.data[i * o->n_comps + t];
        for (int i = 0; i < n; i++)
            ss += p.scores.data[i * o->n_comps + t] * p.scores.data[i * o->n_comps + t];
        assert_true(fabs(mean / n) < 1e-4 * sqrt(want));
        assert_true(fabs(ss / (n - 1) - want) < 1e-5 * want);
        if (o->mask)
            for (int j = 0; j < g; j++)
                if (!o->mask[j])
                    assert_true(p.loadings.data[j * o->n_comps + t] == 0);
    }
    sn_pca_free(&p);
    sn_mat_free(&r.v);
    free(r.s);
    sn_csr_free(&m);
}

static void test_exact_cells_gram(void **st)
{
    (void)st;
    float *a = random_counts(60, 150, 4, 0.4, 21);
    sn_pca_opts o;
    sn_pca_defaults(&o);
    o.n_comps = 8;
    o.solver = SN_PCA_EXACT;
    check_against(a, 60, 150, &o, 1e-8, 1e-10);
    free(a);
}

static void test_exact_genes_gram(void **st)
{
    (void)st;
    float *a = random_counts(700, 90, 5, 0.3, 22); /* more cells than genes, over two panels */
    sn_pca_opts o;
    sn_pca_defaults(&o);
    o.n_comps = 10;
    o.solver = SN_PCA_EXACT;
    check_against(a, 700, 90, &o, 1e-8, 1e-10);
    uint8_t mask[90];
    for (int j = 0; j < 90; j++)
        mask[j] = j % 3 != 1;
    o.mask = mask;
    o.scale = 1;
    check_against(a, 700, 90, &o, 1e-8, 1e-10);
    for (int j = 0; j < 90; j++)
        mask[j] = j % 3 == 0;
    check_against(a, 700, 90, &o, 1e-8, 1e-10);
    free(a);
}

static void test_randomized(void **st)
{
    (void)st;
    float *a = random_counts(500, 320, 6, 0.3, 23);
    sn_pca_opts o = randomized(12);
    check_against(a, 500, 320, &o, 1e-3, 1e-6);
    uint8_t mask[320];
    for (int j = 0; j < 320; j++)
        mask[j] = j % 4 != 0;
    o.mask = mask;
    o.scale = 1;
    check_against(a, 500, 320, &o, 1e-3, 1e-6);
    for (int j = 0; j < 320; j++) /* a third of the genes: the products run on a copy of them */
        mask[j] = j % 3 == 0;
    check_against(a, 500, 320, &o, 1e-3, 1e-6);
    free(a);
}

/* What the solver says of its convergence: a full run moved by less than
 * the tolerance at its last block; one cut short by max_iter says it had
 * not, and how many blocks it did. */
static void test_randomized_convergence(void **st)
{
    (void)st;
    float *a = random_counts(400, 300, 6, 0.3, 27);
    sn_csr m = dense_to_csr(a, 400, 300);
    sn_pca_opts o = randomized(10);
    sn_pca p;
    assert_int_equal(sn_pca_run(&m, &o, &p), 0);
    assert_true(p.change < o.tol);
    assert_true(p.iterations > 3 && p.iterations < o.max_iter);
    sn_pca_free(&p);
    o.max_iter = 3;
    assert_int_equal(sn_pca_run(&m, &o, &p), 0);
    assert_int_equal(p.iterations, 3);
    assert_true(p.change >= o.tol && p.change <= 1);
    sn_pca_free(&p);
    sn_csr_free(&m);
    free(a);
}

/* Many cells: the Aᵀ products sum each column over many float32 runs of
 * rows. */
static void test_randomized_many_cells(void **st)
{
    (void)st;
    float *a = random_counts(70000, 40, 3, 0.3, 26);
    sn_pca_opts o = randomized(6);
    check_against(a, 70000, 40, &o, 1e-5, 1e-8);
    free(a);
}

/* Hundreds of components: the solver's k x k work stays off the stack
 * (760 of them overflowed it once). */
static void test_randomized_many_components(void **st)
{
    (void)st;
    float *a = random_counts(1000, 1100, 6, 0.3, 29);
    sn_csr m = dense_to_csr(a, 1000, 1100);
    sn_pca_opts o = randomized(760);
    sn_pca p;
    assert_int_equal(sn_pca_run(&m, &o, &p), 0);
    assert_int_equal(p.k, 760);
    for (int t = 0; t < p.k; t++) {
        assert_true(isfinite(p.variance[t]) && p.variance[t] >= 0);
        if (t > 0)
            assert_true(p.variance[t] <= p.variance[t - 1]);
    }
    sn_pca_free(&p);
    sn_csr_free(&m);
    free(a);
}

static void test_thread_independence(void **st)
{
    (void)st;
    float *a = random_counts(2100, 260, 5, 0.3, 24); /* several reduction blocks */
    sn_csr m = dense_to_csr(a, 2100, 260);
    for (int solver = SN_PCA_EXACT; solver <= SN_PCA_RANDOMIZED; solver++) {
        sn_pca_opts o;
        sn_pca_defaults(&o);
        o.solver = solver;
        sn_pca p1, p2;
        omp_set_num_threads(1);
        assert_int_equal(sn_pca_run(&m, &o, &p1), 0);
        omp_set_num_threads(2);
        assert_int_equal(sn_pca_run(&m, &o, &p2), 0);
        assert_memory_equal(p1.scores.data, p2.scores.data, sizeof(float) * 2100 * 15);
        assert_memory_equal(p1.loadings.data, p2.loadings.data, sizeof(float) * 260 * 15);
        assert_memory_equal(p1.variance, p2.variance, sizeof(double) * 15);
        sn_pca_free(&p1);
        sn_pca_free(&p2);
    }
    sn_csr_free(&m);
    free(a);
}

/* Rows with their indices descending: the Aᵀ products take every column
 * range in one pass, and the result is the sorted matrix's within float32
 * rounding (the A V gathers add the entries in another order). */
static void test_unsorted_rows(void **st)
{
    (void)st;
    float *a = random_counts(2100, 260, 5, 0.3, 27);
    sn_csr m = dense_to_csr(a, 2100, 260), r = dense_to_csr(a, 2100, 260);
    for (int64_t i = 0; i < r.nrow; i++)
        for (int64_t k = r.indptr[i], e = r.indptr[i + 1] - 1; k < e; k++, e--) {
            int32_t j = r.indices[k];
            float v = r.data[k];
            r.indices[k] = r.indices[e], r.data[k] = r.data[e];
            r.indices[e] = j, r.data[e] = v;
        }
    sn_pca_opts o = randomized(0);
    sn_pca p1, p2;
    omp_set_num_threads(2);
    assert_int_equal(sn_pca_run(&m, &o, &p1), 0);
    assert_int_equal(sn_pca_run(&r, &o, &p2), 0);
    double ang;
    assert_int_equal(sn_pca_max_angle(&p1.loadings, &p2.loadings, &ang), 0);
    assert_true(ang < 1e-6);
    for (int t = 0; t < 15; t++)
        assert_true(fabs(p1.variance[t] - p2.variance[t]) < 1e-7 * p1.variance[t]);
    sn_pca_free(&p1);
    sn_pca_free(&p2);
    sn_csr_free(&m);
    sn_csr_free(&r);
    free(a);
}

/* The caller's column moments stand for the ones PCA would compute: the
 * same moments give the same bytes, others (a shifted mean) other scores. */
static void test_given_moments(void **st)
{
    (void)st;
    float *a = random_counts(2100, 260, 5, 0.3, 31);
    sn_csr m = dense_to_csr(a, 2100, 260);
    double mean[260], var[260];
    assert_int_equal(sn_prep_gene_moments(&m, mean, var), 0);
    for (int scale = 0; scale <= 1; scale++) {
        sn_pca_opts o = randomized(0);
        o.scale = scale;
        sn_pca p1, p2, p3;
        assert_int_equal(sn_pca_run(&m, &o, &p1), 0);
        o.mean = mean;
        o.var = var;
        assert_int_equal(sn_pca_run(&m, &o, &p2), 0);
        assert_memory_equal(p1.scores.data, p2.scores.data, sizeof(float) * 2100 * 15);
        assert_memory_equal(p1.loadings.data, p2.loadings.data, sizeof(float) * 260 * 15);
        assert_memory_equal(p1.variance, p2.variance, sizeof(double) * 15);
        mean[7] += 1;
        assert_int_equal(sn_pca_run(&m, &o, &p3), 0);
        mean[7] -= 1;
        assert_memory_not_equal(p1.scores.data, p3.scores.data, sizeof(float) * 2100 * 15);
        sn_pca_free(&p1);
        sn_pca_free(&p2);
        sn_pca_free(&p3);
    }
    sn_csr_free(&m);
    free(a);
}

static void test_too_many_components(void **st)
{
    (void)st;
    float *a = random_counts(10, 40, 2, 0.5, 25);
    sn_csr m = dense_to_csr(a, 10, 40);
    sn_pca_opts o;
    sn_pca_defaults(&o);
    sn_pca p;
    assert_int_equal(sn_pca_run(&m, &o, &p), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "15 principal components"));
    uint8_t none[40] = {0}; /* a mask keeping no gene: the same error, on every thread count */
    o.mask = none;
    o.n_comps = 2;
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        assert_int_equal(sn_pca_run(&m, &o, &p), SN_EINVAL);
        assert_non_null(strstr(sn_errmsg(), "(have 10 cells, 0 genes)"));
    }
    sn_csr_free(&m);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_cells_gram),    cmocka_unit_test(test_exact_genes_gram),
        cmocka_unit_test(test_randomized),          cmocka_unit_test(test_randomized_many_cells),
        cmocka_unit_test(test_randomized_convergence),          cmocka_unit_test(test_thread_independence),
        cmocka_unit_test(test_randomized_many_components),
        cmocka_unit_test(test_unsorted_rows),       cmocka_unit_test(test_given_moments),
        cmocka_unit_test(test_too_many_components),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
