/* Seconds per training epoch of the scNET model on synthetic data (three
 * cell groups with group-specific gene programs, a PPI whose modules
 * follow the programs, a kNN graph within groups), on one device.  Used by
 * bench/cuda.sh (make bench-cuda).
 * usage: bench_train [--device D] [--cells N] [--genes G] [--epochs E]
 *        bench_train --devices   (exit 0 when a CUDA device is usable) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/backend.h"
#include "scnet/philox.h"
#include "scnet/train.h"

typedef struct {
    float *X;
    uint8_t *hvg;
    int32_t *a, *b, *knn;
} synth;

/* Gene g belongs to program g % 3, cell i to group i % 3. */
static int make_data(int G, int N, int k, sn_train_data *d, synth *s)
{
    sn_rng r;
    sn_rng_init(&r, 11, 0);
    int64_t cap = (int64_t)G * 12;
    s->X = malloc(sizeof(float) * (size_t)N * G);
    s->hvg = malloc((size_t)G);
    s->a = malloc(sizeof(int32_t) * (size_t)cap);
    s->b = malloc(sizeof(int32_t) * (size_t)cap);
    s->knn = malloc(sizeof(int32_t) * (size_t)N * k);
    if (!s->X || !s->hvg || !s->a || !s->b || !s->knn)
        return -1;
    for (int64_t i = 0; i < N; i++)
        for (int g = 0; g < G; g++) {
            double v = ((g % 3) == (i % 3) ? 2.0 : 0.3) + 0.5 * sn_rng_double(&r);
            s->X[i * G + g] = (float)(sn_rng_double(&r) < 0.3 ? 0 : v);
        }
    for (int g = 0; g < G; g++)
        s->hvg[g] = g % 2 == 0;
    int64_t ne = 0;
    while (ne < cap) { /* about 12 partners per gene, 80% within the module */
        int a = (int)sn_rng_below(&r, (uint64_t)G), b = (int)sn_rng_below(&r, (uint64_t)G);
        if (sn_rng_double(&r) < 0.8)
            b = b - b % 3 + a % 3 < G ? b - b % 3 + a % 3 : a;
        if (a < b)
            s->a[ne] = a, s->b[ne++] = b;
    }
    for (int64_t i = 0; i < N; i++)
        for (int q = 0; q < k; q++) {
            int j = (int)sn_rng_below(&r, (uint64_t)(N / 3)) * 3 + (int)(i % 3);
            s->knn[i * k + q] = j < N && j != i ? j : -1;
        }
    *d = (sn_train_data){G, N, s->X, s->hvg, ne, s->a, s->b, k, s->knn};
    return 0;
}

int main(int argc, char **argv)
{
    const char *device = "auto";
    int N = 1000, G = 1000, epochs = 2;
    char desc[1024];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--devices")) {
            int n = sn_backend_cuda_devices(desc, sizeof desc);
            printf("%s\n", desc);
            return n > 0 ? 0 : 3;
        } else if (i + 1 < argc && !strcmp(argv[i], "--device")) {
            device = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--cells")) {
            N = atoi(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--genes")) {
            G = atoi(argv[++i]);
        } else if (i + 1 < argc && !strcmp(argv[i], "--epochs")) {
            epochs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_train [--device D] [--cells N] [--genes G] [--epochs E] | --devices\n");
            return 2;
        }
    }
    if (N < 30 || G < 30 || epochs < 1) {
        fprintf(stderr, "bench_train: need at least 30 cells, 30 genes and one epoch\n");
        return 2;
    }
    sn_ops *ops;
    if (sn_backend_open(device, 0, &ops, desc, sizeof desc) < 0) {
        fprintf(stderr, "bench_train: %s\n", sn_errmsg());
        return 1;
    }
    sn_train_data d;
    synth s;
    if (make_data(G, N, 15, &d, &s) < 0) {
        fprintf(stderr, "bench_train: out of memory for the data\n");
        return 1;
    }
    sn_train_opts o;
    sn_train_opts_default(&o);
    o.epochs = epochs;
    o.eval_every = epochs + 1;
    sn_train_result r;
    int rc = sn_train_run(&d, &o, ops, &r);
    if (rc < 0) {
        fprintf(stderr, "bench_train: %s\n", sn_errmsg());
    } else {
        double best = r.epoch_sec[0];
        for (int e = 1; e < epochs; e++)
            best = r.epoch_sec[e] < best ? r.epoch_sec[e] : best;
        printf("%-6d %-6d %-10s %10.3f %10.1f %10.1f  %s\n", N, G, ops->name, best, r.gflop_per_epoch / best,
               (double)ops->bytes_peak / (1 << 20), desc);
        sn_train_result_free(&r);
    }
    sn_backend_close(ops);
    free(s.X), free(s.hvg), free(s.a), free(s.b), free(s.knn);
    return rc < 0;
}
