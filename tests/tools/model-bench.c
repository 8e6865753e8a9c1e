/* Times training steps of the float32 model on a random problem of a given
 * size and prints the achieved GFLOP/s beside the machine's sgemm rate.
 * Usage: model-bench G N [steps] [ppi_degree] [knn_k] */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "scnet/gstruct.h"
#include "scnet/log.h"
#include "scnet/model.h"
#include "scnet/philox.h"
#include "scnet/schedule.h"
#include "scnet/train.h"

/* sgemm rate at the shape that dominates the model: (N × G)·(G × G). */
static double sgemm_rate(int G, int N)
{
    float *a = calloc((size_t)N * G, 4), *b = calloc((size_t)G * G, 4), *c = calloc((size_t)N * G, 4);
    for (int64_t i = 0; i < (int64_t)G * G; i++)
        b[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < (int64_t)N * G; i++)
        a[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, G, G, 1, a, G, b, G, 0, c, G);
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t = sn_time();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, G, G, 1, a, G, b, G, 0, c, G);
        t = sn_time() - t;
        double g = 2.0 * N * G * (double)G / t / 1e9;
        best = g > best ? g : best;
    }
    free(a), free(b), free(c);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: model-bench G N [steps] [ppi_degree] [knn_k]\n");
        return 2;
    }
    int G = atoi(argv[1]), N = atoi(argv[2]), steps = argc > 3 ? atoi(argv[3]) : 3;
    int deg = argc > 4 ? atoi(argv[4]) : 30, k = argc > 5 ? atoi(argv[5]) : 24;
    sn_rng r;
    sn_rng_init(&r, 1, 1);
    int64_t ne = (int64_t)G * deg / 2;
    sn_edges32 ppi, cells;
    if (sn_edges32_alloc(&ppi, 2 * ne) < 0 || sn_edges32_alloc(&cells, (int64_t)N * k / 5) < 0)
        return 1;
    for (int64_t e = 0; e < ne; e++) {
        int a = (int)sn_rng_below(&r, (uint64_t)G), b = (int)sn_rng_below(&r, (uint64_t)G - 1);
        b += b >= a;
        ppi.src[2 * e] = a, ppi.dst[2 * e] = b, ppi.src[2 * e + 1] = b, ppi.dst[2 * e + 1] = a;
    }
    for (int64_t e = 0; e < cells.n; e++) {
        int a = (int)sn_rng_below(&r, (uint64_t)N), b = (int)sn_rng_below(&r, (uint64_t)N - 1);
        cells.src[e] = a, cells.dst[e] = b + (b >= a);
    }
    sn_gstruct gp, gc;
    if (sn_gstruct_build(G, ppi.n, ppi.src, ppi.dst, &gp) < 0 || sn_gstruct_build(N, cells.n, cells.src, cells.dst, &gc) < 0)
        return 1;
    uint8_t *hvg = calloc((size_t)G, 1);
    for (int g = 0; g < G; g++)
        hvg[g] = g % 4 == 0;
    float *X = malloc(sizeof(float) * (size_t)N * G);
    for (int64_t i = 0; i < (int64_t)N * G; i++)
        X[i] = (float)(sn_rng_double(&r) * 2 - 1);
    int32_t *neg = malloc(sizeof(int32_t) * 4 * (size_t)ppi.n);
    for (int64_t i = 0; i < 4 * ppi.n; i++)
        neg[i] = (int32_t)sn_rng_below(&r, (uint64_t)G);
    for (int64_t i = 0; i < ppi.n; i++) {
        if (neg[i] == neg[ppi.n + i])
            neg[ppi.n + i] = (neg[i] + 1) % G;
        if (neg[2 * ppi.n + i] == neg[3 * ppi.n + i])
            neg[3 * ppi.n + i] = (neg[2 * ppi.n + i] + 1) % G;
    }
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    sn_ops *o = sn_ops_cpu_new_f32();
    sn_model m;
    if (sn_model_init_f32(&m, o, &cfg, G, N, cells.n, &gp, hvg) < 0) {
        fprintf(stderr, "model-bench: %s\n", sn_errmsg());
        return 1;
    }
    sn_model_set_input_f32(&m, X);
    if (sn_model_set_cells_f32(&m, &gc) < 0)
        return 1;
    sn_model_set_negatives_f32(&m, neg, neg + ppi.n, neg + 2 * ppi.n, neg + 3 * ppi.n);
    sn_losses l;
    sn_model_step_f32(&m, 1, &l);
    double t = sn_time();
    for (int s = 0; s < steps; s++)
        sn_model_step_f32(&m, (uint64_t)s + 2, &l);
    t = (sn_time() - t) / steps;
    double flop = sn_model_flops(&cfg, G, N, cells.n, ppi.n);
    double peak = sgemm_rate(G, N);
    printf("G=%d N=%d threads=%d: %.3f s/step, %.1f GFLOP/step, %.1f GFLOP/s = %.0f%% of sgemm %.1f GFLOP/s; "
           "model memory %.2f GiB; loss %.4f\n",
           G, N, omp_get_max_threads(), t, flop / 1e9, flop / t / 1e9, 100 * flop / t / 1e9 / peak, peak,
           (double)o->bytes_peak / (1 << 30), l.total);
    sn_model_free_f32(&m);
    o->destroy(o);
    return 0;
}
