/* The training schedule on a small structured problem: cells from three
 * groups with group-specific gene programs, a PPI whose modules follow
 * the programs.  Checks learning (loss falls, AUROC above chance),
 * determinism (also across thread counts), and that a resumed run equals
 * an uninterrupted one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <omp.h>

#include "scnet/philox.h"
#include "scnet/schedule.h"
#include "scnet/train.h"

typedef struct {
    sn_train_data d;
    float *X;
    uint8_t *hvg;
    int32_t *a, *b, *knn;
} synth;

static void make_synth(synth *s, int G, int N, int k)
{
    sn_rng r;
    sn_rng_init(&r, 11, 0);
    s->X = malloc(sizeof(float) * (size_t)N * G);
    for (int i = 0; i < N; i++)
        for (int g = 0; g < G; g++) {
            int on = (g % 3) == (i % 3);
            double v = (on ? 2.0 : 0.3) + 0.5 * sn_rng_double(&r);
            s->X[(int64_t)i * G + g] = (float)(sn_rng_double(&r) < 0.2 ? 0 : v);
        }
    s->hvg = malloc((size_t)G);
    for (int g = 0; g < G; g++)
        s->hvg[g] = g % 2 == 0;
    int cap = G * G;
    s->a = malloc(sizeof(int32_t) * (size_t)cap);
    s->b = malloc(sizeof(int32_t) * (size_t)cap);
    int64_t ne = 0;
    for (int i = 0; i < G; i++)
        for (int j = i + 1; j < G; j++) {
            double p = (i % 3) == (j % 3) ? 0.35 : 0.03;
            if (sn_rng_double(&r) < p)
                s->a[ne] = i, s->b[ne++] = j;
        }
    /* brute-force kNN on the expression, k neighbours excluding self */
    s->knn = malloc(sizeof(int32_t) * (size_t)N * k);
    double *dist = malloc(sizeof(double) * (size_t)N);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            double d = 0;
            for (int g = 0; g < G; g++) {
                double t = s->X[(int64_t)i * G + g] - s->X[(int64_t)j * G + g];
                d += t * t;
            }
            dist[j] = j == i ? INFINITY : d;
        }
        for (int t = 0; t < k; t++) {
            int best = 0;
            for (int j = 1; j < N; j++)
                if (dist[j] < dist[best])
                    best = j;
            s->knn[(int64_t)i * k + t] = best;
            dist[best] = INFINITY;
        }
    }
    free(dist);
    s->d = (sn_train_data){G, N, s->X, s->hvg, ne, s->a, s->b, k, s->knn};
}

static void free_synth(synth *s)
{
    free(s->X), free(s->hvg), free(s->a), free(s->b), free(s->knn);
}

static void small_opts(sn_train_opts *o, int epochs)
{
    sn_train_opts_default(o);
    o->epochs = epochs;
    o->batches = 3;
    o->eval_every = 5;
    o->prune_every = 10;
    o->model.hidden = 32;
    o->model.embed = 16;
    o->model.lr = 1e-3;
}

static int run(const synth *s, const sn_train_opts *o, sn_train_result *r)
{
    sn_ops *ops = sn_ops_cpu_new_f32();
    int rc = sn_train_run(&s->d, o, ops, r);
    ops->destroy(ops);
    return rc;
}

static void test_learns(void **st)
{
    (void)st;
    synth s;
    make_synth(&s, 60, 45, 6);
    sn_train_opts o;
    small_opts(&o, 40);
    sn_train_result r;
    assert_int_equal(run(&s, &o, &r), 0);
    double first = r.loss_ppi[0] + r.loss_mse[0] + r.loss_corr[0];
    double last = r.loss_ppi[39] + r.loss_mse[39] + r.loss_corr[39];
    fprintf(stderr, "loss %.4f -> %.4f; AUROC %.3f at epoch 0, best %.3f at epoch %d; graph %lld -> %lld edges\n",
            first, last, r.auroc[0], r.best_auroc, r.best_epoch, (long long)r.knn_edges, (long long)r.n_pruned);
    assert_true(last < first);
    assert_true(r.best_auroc > 0.6);
    assert_int_equal(r.n_eval, 9); /* epochs 0, 5, ..., 35 and the last */
    assert_true(r.n_pruned < r.knn_edges); /* pruning installed at epochs 9, 19, 29, 39 */
    for (int64_t i = 0; i < (int64_t)s.d.N * 16; i++)
        assert_true(isfinite(r.zc[i]));
    sn_train_result_free(&r);
    free_synth(&s);
}

/* The default outputs (auto): the last epoch when fewer than
 * SN_BEST_MIN_TEST PPI edges are held out, the best evaluation when more. */
static void test_outputs_auto(void **st)
{
    (void)st;
    synth s;
    make_synth(&s, 60, 30, 5); /* about 240 PPI edges, a fifth held out */
    sn_train_opts o;
    small_opts(&o, 12);
    assert_int_equal(o.outputs, SN_OUT_AUTO);
    sn_train_result a, l;
    assert_int_equal(run(&s, &o, &a), 0);
    assert_true(a.test_edges < SN_BEST_MIN_TEST);
    assert_int_equal(a.outputs, SN_OUT_LAST);
    o.outputs = SN_OUT_LAST;
    assert_int_equal(run(&s, &o, &l), 0);
    assert_memory_equal(a.zc, l.zc, sizeof(float) * 30 * 16);
    sn_train_result_free(&l);
    o.outputs = SN_OUT_BEST;
    assert_int_equal(run(&s, &o, &l), 0);
    assert_int_equal(l.outputs, SN_OUT_BEST);
    sn_train_result_free(&l);
    sn_train_result_free(&a);
    free_synth(&s);
    make_synth(&s, 90, 30, 5); /* about 550 PPI edges */
    o.outputs = SN_OUT_AUTO;
    assert_int_equal(run(&s, &o, &a), 0);
    assert_true(a.test_edges >= SN_BEST_MIN_TEST);
    assert_int_equal(a.outputs, SN_OUT_BEST);
    sn_train_result_free(&a);
    free_synth(&s);
}

static void test_deterministic_and_resumable(void **st)
{
    (void)st;
    synth s;
    make_synth(&s, 40, 30, 5);
    char ck[] = "/tmp/sn_ckpt_XXXXXX";
    int fd = mkstemp(ck);
    close(fd);
    sn_train_opts o;
    small_opts(&o, 12);
    sn_train_result a, b, c;
    assert_int_equal(run(&s, &o, &a), 0);
    assert_int_equal(run(&s, &o, &b), 0);
    assert_memory_equal(a.zg, b.zg, sizeof(float) * 40 * 16);
    assert_memory_equal(a.y, b.y, sizeof(float) * 40 * 30);
    /* stopped after 7 epochs (checkpoint every 7), then resumed */
    sn_train_opts o1 = o;
    o1.stop_after = 7;
    o1.checkpoint = ck;
    o1.checkpoint_every = 7;
    assert_int_equal(run(&s, &o1, &c), 0);
    sn_train_result_free(&c);
    sn_train_opts o2 = o;
    o2.resume = ck;
    assert_int_equal(run(&s, &o2, &c), 0);
    assert_int_equal(c.n_eval, a.n_eval);
    assert_int_equal(c.best_epoch, a.best_epoch);
    assert_memory_equal(a.zg, c.zg, sizeof(float) * 40 * 16);
    assert_memory_equal(a.zc, c.zc, sizeof(float) * 30 * 16);
    assert_memory_equal(a.y, c.y, sizeof(float) * 40 * 30);
    assert_memory_equal(a.loss_ppi, c.loss_ppi, sizeof(double) * 12);
    sn_train_result_free(&c);
    /* a finished 8-epoch run (evaluations 0, 5 and its last, 7) extended
     * to 12 from its last checkpoint: evaluations 0, 5, 10, 11, as one run */
    sn_train_opts o4 = o;
    o4.epochs = 8;
    o4.checkpoint = ck;
    assert_int_equal(run(&s, &o4, &c), 0);
    assert_int_equal(c.n_eval, 3);
    assert_int_equal(c.eval_epoch[2], 7);
    sn_train_result_free(&c);
    assert_int_equal(run(&s, &o2, &c), 0);
    assert_int_equal(c.n_eval, a.n_eval);
    assert_memory_equal(a.eval_epoch, c.eval_epoch, sizeof(int) * (size_t)a.n_eval);
    assert_memory_equal(a.auroc, c.auroc, sizeof(double) * (size_t)a.n_eval);
    assert_int_equal(c.best_epoch, a.best_epoch);
    assert_memory_equal(a.zc, c.zc, sizeof(float) * 30 * 16);
    assert_memory_equal(a.y, c.y, sizeof(float) * 40 * 30);
    sn_train_result_free(&c);
    /* a checkpoint from other options is refused with a reason */
    sn_train_opts o3 = o;
    o3.resume = ck;
    o3.batches = 4;
    assert_int_equal(run(&s, &o3, &c), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "batches"));
    unlink(ck);
    sn_train_result_free(&a);
    sn_train_result_free(&b);
    free_synth(&s);
}

extern void openblas_set_num_threads(int);

static void set_threads(int n)
{
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

/* 1 and 3 threads give the same bytes, on a problem whose products are
 * large enough for the CPU backend to split them into tiles (300 cells x
 * 800 genes: two tiles of the cell-side products and weight gradients). */
static void test_thread_count_independent(void **st)
{
    (void)st;
    synth s;
    make_synth(&s, 800, 300, 5);
    sn_train_opts o;
    small_opts(&o, 1);
    sn_train_result a, b;
    int nt = omp_get_max_threads();
    set_threads(1);
    assert_int_equal(run(&s, &o, &a), 0);
    set_threads(3);
    assert_int_equal(run(&s, &o, &b), 0);
    set_threads(nt);
    assert_memory_equal(a.loss_ppi, b.loss_ppi, sizeof(double));
    assert_memory_equal(a.loss_corr, b.loss_corr, sizeof(double));
    assert_memory_equal(a.zg, b.zg, sizeof(float) * 800 * 16);
    assert_memory_equal(a.zc, b.zc, sizeof(float) * 300 * 16);
    assert_memory_equal(a.y, b.y, sizeof(float) * 300 * 800);
    sn_train_result_free(&a);
    sn_train_result_free(&b);
    free_synth(&s);
}

static void test_cell_blocks(void **st)
{
    (void)st;
    synth s;
    make_synth(&s, 40, 50, 6);
    sn_train_opts o;
    small_opts(&o, 6);
    o.cell_mode = 1;
    o.batches = 3; /* 3 blocks of 16 cells and one more of the last 16 */
    sn_train_result r;
    assert_int_equal(run(&s, &o, &r), 0);
    assert_int_equal(r.blocks, 4);
    assert_int_equal(r.block_size, 16);
    /* every cell, including the trailing ones, has an embedding */
    for (int i = 0; i < 50; i++) {
        double nrm = 0;
        for (int c = 0; c < 16; c++)
            nrm += fabs(r.zc[i * 16 + c]);
        assert_true(nrm > 0);
    }
    /* each kNN edge once in the attention output, the overlap included */
    assert_int_equal(r.n_att, r.knn_edges);
    char *seen = calloc(50 * 50, 1);
    int overlap = 0;
    for (int64_t k = 0; k < r.n_att; k++) {
        int src = r.att_src[k], dst = r.att_dst[k];
        assert_int_equal(seen[src * 50 + dst], 0);
        seen[src * 50 + dst] = 1;
        overlap += src >= 34 && src < 48 && dst >= 34 && dst < 48;
    }
    assert_true(overlap > 0); /* the case that matters was exercised */
    free(seen);
    sn_train_result_free(&r);
    free_synth(&s);
}

/* A model too large for the device memory given trains in cell blocks
 * whose plan fits; one that fits stays as it was; one whose genes alone
 * do not fit is refused. */
static void test_fit_device(void **st)
{
    (void)st;
    int32_t knn[1] = {0};
    sn_train_data d = {2000, 20000, NULL, NULL, 5000, NULL, NULL, 25, knn};
    sn_train_opts o;
    sn_train_opts_default(&o);
    o.cell_mode = 0;
    int cm, block;
    double model;
    sn_train_plan(&d, &o, &cm, &block, &model);
    assert_int_equal(cm, 0);
    sn_train_opts same = o;
    assert_int_equal(sn_train_fit(&d, &same, model), 0);
    assert_int_equal(same.cell_mode, 0);
    double avail = model / 8;
    assert_int_equal(sn_train_fit(&d, &o, avail), 1);
    assert_int_equal(o.cell_mode, 1);
    double fitted;
    sn_train_plan(&d, &o, &cm, &block, &fitted);
    assert_int_equal(cm, 1);
    assert_true(fitted <= avail);
    assert_true(block < d.N);
    /* tighter: the blocks shrink until the plan fits, by 1/8 a try */
    sn_train_opts tight = o;
    double little = fitted / 3;
    assert_int_equal(sn_train_fit(&d, &tight, little), 1);
    int small_block;
    sn_train_plan(&d, &tight, &cm, &small_block, &fitted);
    assert_true(fitted <= little && fitted > little / 2);
    assert_true(small_block < block && small_block >= 64);
    sn_train_opts none = o;
    assert_int_equal(sn_train_fit(&d, &none, 1e6), SN_ENOMEM);
    assert_non_null(strstr(sn_errmsg(), "--max-genes"));
}

static void test_prune_rule(void **st)
{
    (void)st;
    /* source 0 has 12 out-edges with low attention: its top 10 survive */
    sn_edges32 col, rem, out;
    assert_int_equal(sn_edges32_alloc(&col, 20), 0);
    float alpha[20];
    for (int e = 0; e < 20; e++) {
        col.src[e] = e < 12 ? 0 : 1 + e;
        col.dst[e] = e < 12 ? 1 + e : 0;
        alpha[e] = e < 12 ? 0.001f * (float)(e + 1) : 0.5f;
    }
    assert_int_equal(sn_edges32_alloc(&rem, 1), 0);
    rem.src[0] = 5, rem.dst[0] = 6;
    double thr;
    assert_int_equal(sn_prune_candidate(&col, alpha, &rem, 0.2, 10, 10, &out, &thr), 0);
    /* 10th percentile of {0.001..0.012, 0.5 x 8}: position 1.9 → 0.0029 */
    assert_true(fabs(thr - 0.0029) < 1e-6);
    assert_int_equal(out.n, 8 + 10 + 1);
    for (int64_t e = 0; e < out.n; e++)
        assert_false(out.src[e] == 0 && (out.dst[e] == 1 || out.dst[e] == 2));
    sn_edges32_free(&col), sn_edges32_free(&rem), sn_edges32_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_rule),
        cmocka_unit_test(test_learns),
        cmocka_unit_test(test_outputs_auto),
        cmocka_unit_test(test_deterministic_and_resumable),
        cmocka_unit_test(test_cell_blocks),
        cmocka_unit_test(test_fit_device),
        cmocka_unit_test(test_thread_count_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
