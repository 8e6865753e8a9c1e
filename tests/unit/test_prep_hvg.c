/* Highly variable genes (seurat flavour) against a direct two-pass
 * computation, and the corner cases of scanpy's algorithm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "prep_fixture.h"
#include "scnet/hvg.h"

/* log1p of dense counts, as CSR */
static sn_csr logged(const float *counts, int64_t n, int64_t g)
{
    float *b = malloc(sizeof(float) * (size_t)(n * g));
    for (int64_t e = 0; e < n * g; e++)
        b[e] = log1pf(counts[e]);
    sn_csr m = dense_to_csr(b, n, g);
    free(b);
    return m;
}

/* The algorithm of MODEL.md §1.5 written plainly (two-pass statistics). */
static void naive_hvg(const float *counts, int64_t n, int64_t g, int64_t top, uint8_t *sel, double *norm)
{
    double *mean = calloc((size_t)g, sizeof *mean), *disp = calloc((size_t)g, sizeof *disp);
    int bin[g];
    for (int64_t j = 0; j < g; j++) {
        double s = 0, q = 0;
        for (int64_t i = 0; i < n; i++)
            s += expm1f(log1pf(counts[i * g + j]));
        double m = s / n;
        for (int64_t i = 0; i < n; i++) {
            double v = expm1f(log1pf(counts[i * g + j]));
            q += (v - m) * (v - m);
        }
        double var = q / (n - 1);
        if (m == 0)
            m = 1e-12;
        disp[j] = var / m == 0 ? NAN : log(var / m);
        mean[j] = log1p(m);
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t j = 0; j < g; j++)
        lo = fmin(lo, mean[j]), hi = fmax(hi, mean[j]);
    for (int64_t j = 0; j < g; j++) {
        int b = (int)ceil((mean[j] - lo) / ((hi - lo) / 20)) - 1;
        bin[j] = b < 0 ? 0 : b > 19 ? 19 : b;
    }
    for (int b = 0; b < 20; b++) {
        double s = 0, q = 0;
        int c = 0;
        for (int64_t j = 0; j < g; j++)
            if (bin[j] == b && !isnan(disp[j]))
                s += disp[j], c++;
        for (int64_t j = 0; j < g; j++)
            if (bin[j] == b && !isnan(disp[j]))
                q += (disp[j] - s / c) * (disp[j] - s / c);
        double avg = s / c, sd = c > 1 ? sqrt(q / (c - 1)) : NAN;
        if (isnan(sd))
            sd = avg, avg = 0;
        for (int64_t j = 0; j < g; j++)
            if (bin[j] == b)
                norm[j] = (disp[j] - avg) / sd;
    }
    for (int64_t j = 0; j < g; j++) {
        int64_t above = 0;
        for (int64_t i = 0; i < g; i++)
            above += !isnan(norm[i]) && norm[i] > norm[j];
        sel[j] = !isnan(norm[j]) && above < top;
    }
    free(mean);
    free(disp);
}

static void test_matches_direct(void **st)
{
    (void)st;
    int64_t n = 300, g = 400, top = 60;
    float *a = random_counts(n, g, 5, 0.3, 3);
    sn_csr m = logged(a, n, g);
    sn_hvg h;
    uint8_t sel[400];
    double norm[400];
    assert_int_equal(sn_hvg_seurat(&m, NULL, 0, top, 20, &h), 0);
    naive_hvg(a, n, g, top, sel, norm);
    int64_t nsel = 0;
    for (int64_t j = 0; j < g; j++) {
        assert_int_equal(h.highly_variable[j], sel[j]);
        nsel += sel[j];
        if (!isnan(norm[j]))
            assert_true(fabs(h.dispersions_norm[j] - norm[j]) < 1e-6 * (1 + fabs(norm[j]))); /* float32 squares */
        else
            assert_true(isnan(h.dispersions_norm[j]));
    }
    assert_int_equal(h.n_selected, top);
    assert_int_equal(nsel, top);
    sn_hvg_free(&h);
    /* a column subset gives what the subset matrix gives */
    int64_t cols[200], rows[300], cmap[400];
    for (int64_t j = 0; j < g; j++)
        cmap[j] = j % 2 ? (j - 1) / 2 : -1;
    for (int64_t c = 0; c < 200; c++)
        cols[c] = 2 * c + 1;
    for (int64_t i = 0; i < n; i++)
        rows[i] = i;
    sn_csr sub;
    sn_hvg hs;
    assert_int_equal(sn_csr_subset(&m, rows, n, cmap, 200, &sub), 0);
    assert_int_equal(sn_hvg_seurat(&m, cols, 200, 25, 20, &h), 0);
    assert_int_equal(sn_hvg_seurat(&sub, NULL, 0, 25, 20, &hs), 0);
    assert_int_equal(h.n, 200);
    assert_memory_equal(h.highly_variable, hs.highly_variable, 200);
    assert_memory_equal(h.means, hs.means, 200 * sizeof(double));
    sn_hvg_free(&h);
    sn_hvg_free(&hs);
    sn_csr_free(&sub);
    sn_csr_free(&m);
    free(a);
}

/* 6 genes: 0 constant (NaN), 1 all zero (NaN), 2 and 3 identical (a tie),
 * 4 alone in the top mean bin (normalised 1), 5 ordinary. */
static void test_corner_cases(void **st)
{
    (void)st;
    int64_t n = 8, g = 6;
    float a[8 * 6];
    for (int64_t i = 0; i < n; i++) {
        float *r = a + i * g;
        r[0] = 2;
        r[1] = 0;
        r[2] = r[3] = (float)(i % 3);
        r[4] = (float)(500 + 37 * (i % 2));
        r[5] = i == 7 ? 2 : 1;
    }
    sn_csr m = logged(a, n, g);
    sn_hvg h;
    assert_int_equal(sn_hvg_seurat(&m, NULL, 0, 2, 20, &h), 0);
    assert_true(isnan(h.dispersions[0]) && isnan(h.dispersions_norm[0]));
    assert_true(isnan(h.dispersions[1]) && !h.highly_variable[1]);
    assert_true(h.means[1] == log1p(1e-12));
    assert_true(h.dispersions_norm[4] == 1.0);
    assert_true(h.dispersions_norm[2] == h.dispersions_norm[3]);
    /* the top two values are gene 4 (1.0) and the tied pair, so the tie
     * brings in a third gene */
    assert_true(h.highly_variable[2] && h.highly_variable[3]);
    assert_int_equal(h.n_selected, 3);
    sn_hvg_free(&h);
    /* asking for more genes than have a dispersion: every non-NaN gene */
    assert_int_equal(sn_hvg_seurat(&m, NULL, 0, 100, 20, &h), 0);
    assert_int_equal(h.n_selected, 4);
    assert_false(h.highly_variable[0] || h.highly_variable[1]);
    /* fallback: selection outside [lo, hi] -> the top-std genes */
    assert_int_equal(sn_hvg_fallback(&m, NULL, 1, 10, 3, &h), 0);
    assert_int_equal(sn_hvg_fallback(&m, NULL, 5, 10, 2, &h), 1);
    assert_int_equal(h.n_selected, 2);
    assert_true(h.highly_variable[2] && h.highly_variable[3]); /* the widest spread in log space */
    sn_hvg_free(&h);
    sn_csr_free(&m);
}

/* All genes with the same mean: pandas widens the single-valued range by
 * 0.1 % on each side; every gene lands in one bin. */
static void test_equal_means(void **st)
{
    (void)st;
    int64_t n = 6, g = 4;
    float a[] = {1, 2, 0, 3, /**/ 1, 0, 2, 1, /**/ 1, 1, 1, 0, /**/ 1, 0, 0, 1, /**/ 1, 2, 2, 1, /**/ 1, 1, 1, 0};
    for (int v = 0; v <= 3; v++) /* the design needs expm1(log1p(v)) == v in float32 */
        assert_true(expm1f(log1pf((float)v)) == (float)v);
    sn_csr m = logged(a, n, g);
    sn_hvg h;
    assert_int_equal(sn_hvg_seurat(&m, NULL, 0, 1, 20, &h), 0);
    assert_true(h.means[1] == h.means[2]);
    double s = 0;
    int c = 0;
    for (int j = 0; j < g; j++)
        if (!isnan(h.dispersions_norm[j]))
            s += h.dispersions_norm[j], c++;
    assert_true(c >= 2 && fabs(s) < 1e-9); /* one bin: normalised values sum to 0 */
    assert_int_equal(h.n_selected, 1);
    sn_hvg_free(&h);
    sn_csr_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_direct),
        cmocka_unit_test(test_corner_cases),
        cmocka_unit_test(test_equal_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
