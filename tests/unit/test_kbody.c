/* The kernel bodies shared by the CPU and CUDA backends (kbody.h), in the
 * float32 instantiation the programs run, against straightforward
 * double-precision references: activation and its derivative with dropout
 * scaling and φ'(0), binary cross-entropy and its derivative through
 * saturation, Adam against the textbook update, softmax segments and the
 * standardised sigmoid attention against finite differences of their
 * forward functions, and the dropout masks' statistics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scnet/kbody.h"

static double rel(double got, double want) { return fabs(got - want) / fmax(fabs(want), 1e-30); }

static void test_act(void **st)
{
    (void)st;
    const float xs[] = {-3.5f, -1e-20f, 0.0f, 1e-20f, 0.75f, 12.0f};
    const float slopes[] = {0, 0.01f, 0.2f};
    const float muls[] = {0, 1, (float)(1 / (1 - 0.25))};
    for (size_t i = 0; i < 6; i++)
        for (size_t s = 0; s < 3; s++)
            for (size_t m = 0; m < 3; m++) {
                double x = xs[i], sl = slopes[s], mul = muls[m];
                double want = (x > 0 ? x : sl * x) * mul;
                float y = sn_k_act(xs[i], slopes[s], muls[m]);
                assert_true(rel(y, want) < 1e-7 || (want == 0 && y == 0));
                /* derivative from the output: φ' = 1 above 0, slope at and below 0 */
                double dwant = mul == 0 ? 0 : 1.5 * (x > 0 ? 1 : sl) * mul;
                float dx = sn_k_act_bwd(y, 1.5f, slopes[s], muls[m]);
                assert_true(rel(dx, dwant) < 1e-7 || (dwant == 0 && dx == 0));
            }
    /* φ'(0) = slope, as the reference (a kept unit whose input was 0) */
    assert_true(sn_k_act_bwd(0.0f, 2.0f, 0.01f, 1.0f) == 0.02f);
    /* a dropped unit passes no gradient, even where dy is not finite */
    assert_true(sn_k_act_bwd(0.0f, INFINITY, 0.01f, 0.0f) == 0);
}

/* Masks: exact scale 1/(1−p), drop rate p within five standard errors,
 * a pure function of (key, stream, index). */
static void test_dropmul(void **st)
{
    (void)st;
    const double ps[] = {0.1, 0.25, 0.5};
    const int n = 400000;
    for (size_t k = 0; k < 3; k++) {
        double p = ps[k], drops = 0, sum = 0;
        float keep = (float)(1 / (1 - p));
        for (int i = 0; i < n; i++) {
            float m = sn_k_dropmul(p, 42, 7 + k, (uint64_t)i);
            assert_true(m == 0 || m == keep);
            drops += m == 0;
            sum += m;
            assert_true(m == sn_k_dropmul(p, 42, 7 + k, (uint64_t)i));
        }
        double se = sqrt(p * (1 - p) / n);
        assert_true(fabs(drops / n - p) < 5 * se);
        assert_true(fabs(sum / n - 1) < 5 * se / (1 - p));
    }
    /* streams are independent: the masks of two streams agree at about
     * p² + (1−p)² of the positions, not everywhere */
    int same = 0;
    for (int i = 0; i < 10000; i++)
        same += sn_k_dropmul(0.5, 42, 1, (uint64_t)i) == sn_k_dropmul(0.5, 42, 2, (uint64_t)i);
    assert_true(same > 4500 && same < 5500);
    for (int i = 0; i < 1000; i++)
        assert_true(sn_k_dropmul(0, 42, 1, (uint64_t)i) == 1);
    /* four per Philox call: the same multipliers, index by index */
    for (uint64_t q = 0; q < 5000; q++) {
        float mul[4];
        sn_k_dropmul4(0.3, 42, 9, q, mul);
        for (int k = 0; k < 4; k++)
            assert_true(mul[k] == sn_k_dropmul(0.3, 42, 9, 4 * q + (uint64_t)k));
    }
    /* lane-wise Philox: the words of sn_philox, counter by counter, also
     * where the counter's low word wraps into the high one */
    const uint64_t starts[] = {0, 12345, 0xFFFFFFF8u, ((uint64_t)1 << 40) - 3};
    for (size_t s = 0; s < sizeof starts / sizeof *starts; s++) {
        uint32_t w[SN_PHILOX_LANES][4];
        sn_philox_lanes(0x0123456789ABCDEFu, 77, starts[s], w);
        for (int i = 0; i < SN_PHILOX_LANES; i++) {
            sn_u32x4 r = sn_philox(0x0123456789ABCDEFu, 77, starts[s] + (uint64_t)i);
            assert_memory_equal(w[i], r.v, sizeof r.v);
        }
    }
}

static double bce_ref(double x, int positive, double eps)
{
    double p = 1 / (1 + exp(-x));
    return positive ? -log(p + eps) : -log(1 - p + eps);
}

static void test_bce(void **st)
{
    (void)st;
    const double eps = 1e-15;
    for (int positive = 0; positive < 2; positive++) {
        for (double x = -15; x <= 15; x += 0.37) {
            float d, xf = (float)x, p = sn_k_sigmoid(xf);
            float v = sn_k_bce(xf, positive, (float)eps, &d);
            double pd = 1 / (1 + exp(-(double)xf)), qd = 1 / (1 + exp((double)xf)); /* σ, 1 − σ */
            double dd = positive ? -pd * qd / (pd + eps) : pd * qd / (qd + eps);
            assert_true(rel(p, pd) < 1e-6);
            /* the value given the float σ: 1 − σ near 1 keeps only the bits
             * float has there, as in the reference's float32 arithmetic */
            double want = positive ? -log((double)p + eps) : -log((double)(1 - p) + eps);
            assert_true(fabs(v - want) < 1e-6 * want + 1e-7);
            assert_true(fabs(d - dd) < 2e-6 * fabs(dd) + 1.2e-7);
            if (fabs(x) < 8) { /* and dd is the derivative of the loss */
                double h = 1e-5, fd = (bce_ref(xf + h, positive, eps) - bce_ref(xf - h, positive, eps)) / (2 * h);
                assert_true(fabs(dd - fd) < 1e-7 * fmax(fabs(fd), 1e-2));
            }
        }
        /* saturation: finite loss, at most −log ε, and beyond |x| ≈ −log ε
         * a vanishing derivative */
        const float far[] = {-100, -40, 40, 100, 1e30f, -1e30f};
        for (int i = 0; i < 6; i++) {
            float d, v = sn_k_bce(far[i], positive, (float)eps, &d);
            double x = far[i], fd = (bce_ref(x + 1e-3, positive, eps) - bce_ref(x - 1e-3, positive, eps)) / 2e-3;
            assert_true(isfinite(v) && isfinite(d));
            assert_true(v >= 0 && v <= -log(eps) * (1 + 1e-6));
            int wrong_side = positive ? far[i] < 0 : far[i] > 0;
            assert_true(wrong_side ? rel(v, -log(eps)) < 1e-3 : v < 1e-6);
            assert_true(fabs(d - fd) < 1e-4 * fmax(fabs(fd), 1e-3));
            if (fabs(x) >= 100)
                assert_true(fabs(d) < 1e-12);
        }
    }
    /* the sign of the pull: positives up, negatives down */
    float d;
    sn_k_bce(0.3f, 1, 1e-15f, &d);
    assert_true(d < 0);
    sn_k_bce(0.3f, 0, 1e-15f, &d);
    assert_true(d > 0);
}

/* The textbook form: bias-corrected moments, ε added to √v̂. */
static void test_adam(void **st)
{
    (void)st;
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-4;
    sn_rng r;
    sn_rng_init(&r, 3, 0);
    for (int k = 0; k < 20; k++) {
        double w = 2 * sn_rng_double(&r) - 1, m = 0, v = 0;
        float wf = (float)w, mf = 0, vf = 0;
        for (int t = 1; t <= 100; t++) {
            double g = (2 * sn_rng_double(&r) - 1) * (k + 1) * 0.1;
            double gg = g + wd * w;
            m = b1 * m + (1 - b1) * gg;
            v = b2 * v + (1 - b2) * gg * gg;
            double mh = m / (1 - pow(b1, t)), vh = v / (1 - pow(b2, t));
            w -= lr * mh / (sqrt(vh) + eps);
            sn_k_adam_c kc = sn_k_adam_consts(lr, b1, b2, eps, wd, 1 - pow(b1, t), sqrt(1 - pow(b2, t)));
            sn_k_adam(&wf, (float)g, &mf, &vf, &kc);
            assert_true(rel(mf, m) < 1e-4 || fabs(mf - m) < 1e-7);
            assert_true(rel(vf, v) < 1e-4);
        }
        assert_true(fabs(wf - w) < 1e-6 + 1e-5 * fabs(w));
    }
}

/* Softmax of one segment in double, with the reference's 1e-16. */
static void softmax_ref(const double *s, int n, double *a)
{
    double mx = s[0], sum = 0;
    for (int k = 1; k < n; k++)
        mx = fmax(mx, s[k]);
    for (int k = 0; k < n; k++)
        sum += a[k] = exp(s[k] - mx);
    for (int k = 0; k < n; k++)
        a[k] /= sum + 1e-16;
}

/* L(s) = Σ_k dad_k · mask_k · softmax(s)_k; ds from the body against
 * central differences of L in double. */
static void check_softmax_segment(sn_rng *r, int64_t b, int n, double p, double shift)
{
    enum { MAXN = 64 };
    float s[MAXN + 8] = {0}, a[MAXN + 8] = {0}, ad[MAXN + 8] = {0}, dad[MAXN + 8] = {0}, ds[MAXN + 8] = {0};
    double sd[MAXN] = {0}, ar[MAXN], mask[MAXN] = {0};
    const uint64_t key = 9, stream = 77;
    for (int k = 0; k < n; k++) {
        s[b + k] = (float)(shift + 6 * sn_rng_double(r) - 3);
        dad[b + k] = (float)(2 * sn_rng_double(r) - 1);
        sd[k] = s[b + k];
        mask[k] = sn_k_dropmul(p, key, stream, (uint64_t)(b + k));
    }
    sn_k_softmax_seg(b, b + n, s, a, ad, p, key, stream);
    softmax_ref(sd, n, ar);
    for (int k = 0; k < n; k++) {
        assert_true(fabs(a[b + k] - ar[k]) < 1e-6);
        assert_true(fabs(ad[b + k] - ar[k] * mask[k]) < 2e-6);
    }
    sn_k_softmax_seg_bwd(b, b + n, a, dad, ds, p, key, stream);
    double worst = 0, h = 1e-6;
    for (int k = 0; k < n; k++) {
        double f[2];
        for (int side = 0; side < 2; side++) {
            double sp[MAXN], ap[MAXN], L = 0;
            memcpy(sp, sd, sizeof(double) * (size_t)n);
            sp[k] += side ? h : -h;
            softmax_ref(sp, n, ap);
            for (int j = 0; j < n; j++)
                L += dad[b + j] * mask[j] * ap[j];
            f[side] = L;
        }
        worst = fmax(worst, fabs(ds[b + k] - (f[1] - f[0]) / (2 * h)));
    }
    assert_true(worst < 1e-5);
}

static void test_softmax_segments(void **st)
{
    (void)st;
    sn_rng r;
    sn_rng_init(&r, 5, 1);
    const int lens[] = {1, 2, 7, 40, 64};
    for (int i = 0; i < 5; i++) {
        check_softmax_segment(&r, 3, lens[i], 0, 0);
        check_softmax_segment(&r, 5, lens[i], 0.25, 0);
        check_softmax_segment(&r, 0, lens[i], 0.25, 1000); /* max-shifted: no overflow */
    }
    /* an empty segment writes nothing */
    float s[2] = {1, 2}, a[2] = {-7, -7}, ad[2] = {-7, -7};
    sn_k_softmax_seg(1, 1, s, a, ad, 0, 1, 1);
    sn_k_softmax_seg_bwd(1, 1, s, s, a, 0, 1, 1);
    assert_true(a[0] == -7 && a[1] == -7 && ad[1] == -7);
}

/* α_e = σ(temp·(s_e − mean(s))/sd(s)), sd unbiased; L = Σ dα_e·α_e. */
static double sigatt_loss(const double *s, const double *da, int n, double temp)
{
    double mean = 0, ss = 0, L = 0;
    for (int e = 0; e < n; e++)
        mean += s[e] / n;
    for (int e = 0; e < n; e++)
        ss += (s[e] - mean) * (s[e] - mean);
    double sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    for (int e = 0; e < n; e++) {
        double u = temp * (n > 1 && sd > 0 ? (s[e] - mean) / sd : s[e]);
        L += da[e] / (1 + exp(-u));
    }
    return L;
}

/* The body given the statistics and sums as the backends compute them. */
static void sigatt_body(const float *s, const float *da, int n, float temp, float *ds)
{
    double mean = 0, ss = 0;
    for (int e = 0; e < n; e++)
        mean += s[e];
    mean /= n;
    for (int e = 0; e < n; e++)
        ss += (s[e] - mean) * (s[e] - mean);
    float m = (float)mean, sd = n > 1 ? (float)sqrt(ss / (n - 1)) : 0;
    int stdz = n > 1 && sd > 0;
    float alpha[64];
    double sum_dz = 0, sum_dzz = 0;
    for (int e = 0; e < n; e++) {
        alpha[e] = sn_k_sigmoid(temp * (stdz ? (s[e] - m) / sd : s[e]));
        float dz = temp * da[e] * alpha[e] * (1 - alpha[e]);
        sum_dz += dz;
        sum_dzz += stdz ? (double)dz * ((s[e] - m) / sd) : 0;
    }
    for (int e = 0; e < n; e++)
        ds[e] = sn_k_sigatt_bwd(s[e], alpha[e], da[e], temp, m, sd, (float)sum_dz, (float)sum_dzz, n);
}

static void test_sigatt_bwd(void **st)
{
    (void)st;
    sn_rng r;
    sn_rng_init(&r, 8, 2);
    const int ns[] = {1, 2, 3, 17, 64};
    for (int i = 0; i < 6; i++) {
        int n = i < 5 ? ns[i] : 12, constant = i == 5;
        float s[64], da[64], ds[64];
        double sd[64], dad[64];
        for (int e = 0; e < n; e++) {
            s[e] = constant ? 0.5f : (float)(4 * sn_rng_double(&r) - 2);
            da[e] = (float)(2 * sn_rng_double(&r) - 1);
            sd[e] = s[e], dad[e] = da[e];
        }
        sigatt_body(s, da, n, 3.0f, ds);
        double worst = 0, scale = 0, h = 1e-6;
        for (int e = 0; e < n && !constant; e++) {
            double sp[64];
            memcpy(sp, sd, sizeof(double) * (size_t)n);
            sp[e] += h;
            double fp = sigatt_loss(sp, dad, n, 3.0);
            sp[e] -= 2 * h;
            double fd = (fp - sigatt_loss(sp, dad, n, 3.0)) / (2 * h);
            worst = fmax(worst, fabs(ds[e] - fd));
            scale = fmax(scale, fabs(fd));
        }
        assert_true(worst <= 1e-5 * fmax(scale, 1));
        if (n == 2) /* two scores standardise to ±1/√2: α no longer depends on them */
            assert_true(fabs(ds[0]) < 1e-6 && fabs(ds[1]) < 1e-6);
        if (constant || n == 1) /* no standardisation: ds = temp·dα·α(1 − α) */
            for (int e = 0; e < n; e++) {
                double a = 1 / (1 + exp(-3.0 * s[e]));
                assert_true(fabs(ds[e] - 3.0 * da[e] * a * (1 - a)) < 1e-6);
            }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_act),          cmocka_unit_test(test_dropmul),
        cmocka_unit_test(test_bce),          cmocka_unit_test(test_adam),
        cmocka_unit_test(test_softmax_segments), cmocka_unit_test(test_sigatt_bwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
