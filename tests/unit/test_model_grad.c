/* Gradient checks of the model in double precision: every parameter's
 * analytic gradient (MODEL.md §8) against central finite differences of
 * the whole loss, and each op's backward against its own forward. */
#define SN_REAL_F64 1
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scnet/gstruct.h"
#include "scnet/model.h"
#include "scnet/philox.h"

#define TOL 1e-6

typedef struct {
    int G, N;
    sn_gstruct ppi, cells;
    uint8_t *hvg;
    double *X;
    int32_t *q[4];
    sn_ops *o;
    sn_model m;
} problem;

static int has_edge(const int32_t *s, const int32_t *d, int n, int a, int b)
{
    for (int i = 0; i < n; i++)
        if (s[i] == a && d[i] == b)
            return 1;
    return 0;
}

/* Symmetric random PPI (both directions stored), asymmetric cell graph. */
static void make_problem(problem *p, int G, int N, int layers, int hidden, int embed)
{
    sn_rng r;
    sn_rng_init(&r, 7, 1);
    p->G = G;
    p->N = N;
    int32_t s[512], d[512];
    int ne = 0;
    for (int a = 0; a < G; a++)
        for (int b = a + 1; b < G; b++)
            if (sn_rng_double(&r) < 0.4 || b == a + 1) {
                s[ne] = a, d[ne++] = b;
                s[ne] = b, d[ne++] = a;
            }
    assert_int_equal(sn_gstruct_build(G, ne, s, d, &p->ppi), 0);
    int nc = 0;
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++)
            if (a != b && sn_rng_double(&r) < 0.35)
                s[nc] = a, d[nc++] = b;
    assert_int_equal(sn_gstruct_build(N, nc, s, d, &p->cells), 0);
    p->hvg = calloc((size_t)G, 1);
    for (int g = 0; g < G; g++)
        p->hvg[g] = g % 3 != 1;
    p->X = malloc(sizeof(double) * (size_t)(N * G));
    for (int i = 0; i < N * G; i++)
        p->X[i] = 2 * sn_rng_double(&r) - 1;
    int nP = p->ppi.ne;
    for (int k = 0; k < 4; k++)
        p->q[k] = malloc(sizeof(int32_t) * (size_t)nP);
    for (int k = 0; k < 4; k += 2)
        for (int e = 0; e < nP; e++) {
            int a, b;
            do {
                a = (int)sn_rng_below(&r, (uint64_t)G);
                b = (int)sn_rng_below(&r, (uint64_t)G);
            } while (a == b || has_edge(p->ppi.att_ri, p->ppi.att_ci, nP, a, b));
            p->q[k][e] = a;
            p->q[k + 1][e] = b;
        }
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    cfg.layers = layers;
    cfg.hidden = hidden;
    cfg.embed = embed;
    cfg.lr = 1e-2;
    p->o = sn_ops_cpu_new_f64();
    assert_int_equal(sn_model_init_f64(&p->m, p->o, &cfg, G, N, nc, &p->ppi, p->hvg), 0);
    assert_int_equal(sn_model_unfuse_f64(&p->m), 0);
    sn_model_set_input_f64(&p->m, p->X);
    assert_int_equal(sn_model_set_cells_f64(&p->m, &p->cells), 0);
    sn_model_set_negatives_f64(&p->m, p->q[0], p->q[1], p->q[2], p->q[3]);
}

static void free_problem(problem *p)
{
    sn_model_free_f64(&p->m);
    p->o->destroy(p->o);
    sn_gstruct_free(&p->ppi);
    sn_gstruct_free(&p->cells);
    free(p->hvg);
    free(p->X);
    for (int k = 0; k < 4; k++)
        free(p->q[k]);
}

static double loss_at(problem *p, uint64_t step)
{
    sn_losses l;
    sn_model_forward_f64(&p->m, 1, step);
    sn_model_loss_f64(&p->m, &l);
    return l.total;
}

/* Relative error ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) per
 * parameter tensor; every tensor must pass. */
static void check_all_gradients(problem *p, uint64_t step)
{
    sn_losses l;
    sn_model_zero_grad_f64(&p->m);
    sn_model_forward_f64(&p->m, 1, step);
    sn_model_loss_f64(&p->m, &l);
    sn_model_backward_f64(&p->m, step);
    double worst = 0;
    int bad = 0;
    for (int k = 0; k < p->m.nparam; k++) {
        sn_param *q = &p->m.p[k];
        int64_t n = (int64_t)q->rows * q->cols;
        double num2 = 0, diff2 = 0, an2 = 0, h = getenv("SN_GRAD_H") ? atof(getenv("SN_GRAD_H")) : 1e-4;
        for (int64_t i = 0; i < n; i++) {
            double w = q->w[i], f[4], off[4] = {-2, -1, 1, 2};
            for (int t = 0; t < 4; t++) {
                q->w[i] = w + off[t] * h;
                f[t] = loss_at(p, step);
            }
            q->w[i] = w;
            double fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
            num2 += fd * fd;
            an2 += q->g[i] * q->g[i];
            diff2 += (fd - q->g[i]) * (fd - q->g[i]);
        }
        /* the five-point stencil's truncation error is O(h⁴), so h = 1e-4
         * keeps both it and rounding (∝ 1/h) far below the tolerance; gradients at rounding level (a dead ReLU unit, the output
         * bias that standardisation cancels) count as zero. */
        double scale = fmax(sqrt(num2), sqrt(an2));
        double rel = sqrt(diff2) <= 1e-9 ? 0 : sqrt(diff2) / scale;
        if (rel > worst)
            worst = rel;
        if (rel > TOL || getenv("SN_GRAD_VERBOSE"))
            fprintf(stderr, "param %s: relative error %.3g (|g| = %.3g)\n", q->name, rel, sqrt(an2));
        bad += rel > TOL;
    }
    assert_int_equal(bad, 0);
    fprintf(stderr, "worst relative gradient error over %d tensors: %.2e (loss %.6f = %.6f + %.6f + %.6f)\n",
            p->m.nparam, worst, l.total, l.ppi, l.mse, l.corr);
}

static void test_whole_model_gradients(void **st)
{
    (void)st;
    problem p;
    make_problem(&p, 7, 9, 3, 10, 5);
    check_all_gradients(&p, 3);
    free_problem(&p);
}

static void test_whole_model_gradients_two_layers(void **st)
{
    (void)st;
    problem p;
    make_problem(&p, 8, 6, 2, 5, 3);
    check_all_gradients(&p, 11);
    free_problem(&p);
}

/* One fused training step equals gradient accumulation then Adam. */
static void test_fused_step_matches_unfused(void **st)
{
    (void)st;
    problem a, b;
    make_problem(&a, 7, 9, 3, 6, 4);
    make_problem(&b, 7, 9, 3, 6, 4);
    b.m.fused = 1; /* b keeps the extra gradient buffers but fuses */
    sn_losses la, lb;
    sn_model_step_f64(&a.m, 5, &la);
    sn_model_step_f64(&b.m, 5, &lb);
    assert_true(fabs(la.total - lb.total) < 1e-12);
    for (int k = 0; k < a.m.nparam; k++) {
        int64_t n = (int64_t)a.m.p[k].rows * a.m.p[k].cols;
        for (int64_t i = 0; i < n; i++)
            assert_true(fabs(a.m.p[k].w[i] - b.m.p[k].w[i]) < 1e-12);
    }
    /* and the step moved every weight matrix */
    int moved = 0;
    problem c;
    make_problem(&c, 7, 9, 3, 6, 4);
    for (int k = 0; k < a.m.nparam; k++)
        moved += a.m.p[k].w[0] != c.m.p[k].w[0];
    assert_true(moved >= a.m.nparam - 2);
    free_problem(&a);
    free_problem(&b);
    free_problem(&c);
}

/* Dropout masks depend on (seed, step, tensor) only: the same step gives
 * the same loss, another step a different one; evaluation has none. */
static void test_dropout_keyed_by_step(void **st)
{
    (void)st;
    problem p;
    make_problem(&p, 7, 9, 3, 6, 4);
    double a = loss_at(&p, 4), b = loss_at(&p, 4), c = loss_at(&p, 5);
    assert_true(a == b);
    assert_true(a != c);
    sn_losses l1, l2;
    sn_model_forward_f64(&p.m, 0, 4);
    sn_model_loss_f64(&p.m, &l1);
    sn_model_forward_f64(&p.m, 0, 9);
    sn_model_loss_f64(&p.m, &l2);
    assert_true(l1.total == l2.total);
    free_problem(&p);
}

/* Backward replays the dropout of the forward it follows: after an
 * evaluation forward the gradients are those of a model without dropout. */
static void test_backward_after_eval_forward(void **st)
{
    (void)st;
    problem a, b;
    make_problem(&a, 7, 9, 3, 6, 4);
    make_problem(&b, 7, 9, 3, 6, 4);
    b.m.cfg.dropout = b.m.cfg.att_dropout = 0;
    sn_losses la, lb;
    sn_model_zero_grad_f64(&a.m);
    sn_model_forward_f64(&a.m, 0, 5);
    sn_model_loss_f64(&a.m, &la);
    sn_model_backward_f64(&a.m, 5);
    sn_model_zero_grad_f64(&b.m);
    sn_model_forward_f64(&b.m, 1, 5);
    sn_model_loss_f64(&b.m, &lb);
    sn_model_backward_f64(&b.m, 5);
    assert_true(la.total == lb.total);
    for (int k = 0; k < a.m.nparam; k++) {
        int64_t n = (int64_t)a.m.p[k].rows * a.m.p[k].cols;
        for (int64_t i = 0; i < n; i++)
            assert_true(a.m.p[k].g[i] == b.m.p[k].g[i]);
    }
    free_problem(&a);
    free_problem(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_model_gradients),
        cmocka_unit_test(test_whole_model_gradients_two_layers),
        cmocka_unit_test(test_fused_step_matches_unfused),
        cmocka_unit_test(test_dropout_keyed_by_step),
        cmocka_unit_test(test_backward_after_eval_forward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
