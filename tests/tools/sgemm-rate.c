/* The machine's sgemm rate at one shape, C(M×N) = A(M×K)·B(N×K)ᵀ (the
 * model's dominant product: cells × genes times a genes × genes weight),
 * best of REPS.  On the CPU: OpenBLAS's own threaded call, and the CPU
 * backend's gemm (fixed tiles, one single-threaded call each).  With
 * DEVICE (cuda[:N]): that backend's gemm in FP32 and in TF32, timed to the
 * end of the device's work.  Used by bench/train.sh and bench/cuda.sh.
 * usage: sgemm-rate M N K [threads] [reps] [device]
 * prints: openblas GFLOP/s, backend GFLOP/s  (with DEVICE: fp32, tf32) */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "scnet/backend.h"
#include "scnet/log.h"
#include "scnet/ops.h"

extern void openblas_set_num_threads(int);

static void fill(float *x, int64_t n, int mod)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(i % mod) * 0.1f - 0.2f;
}

/* Best GFLOP/s of reps products on an open backend (the first warms up). */
static double backend_rate(sn_ops *o, int M, int N, int K, int reps, const float *a, const float *b)
{
    float *da = o->alloc(o, sizeof(float) * (size_t)M * K), *db = o->alloc(o, sizeof(float) * (size_t)N * K);
    float *dc = o->alloc(o, sizeof(float) * (size_t)M * N);
    if (!da || !db || !dc)
        return -1;
    o->upload(o, da, a, sizeof(float) * (size_t)M * K);
    o->upload(o, db, b, sizeof(float) * (size_t)N * K);
    double best = 0, flop = 2.0 * M * N * (double)K;
    for (int r = 0; r <= reps; r++) {
        if (o->sync(o) < 0)
            return -1;
        double t = sn_time();
        o->gemm(o, 0, 1, M, N, K, 1, da, K, db, K, 0, dc, N);
        if (o->sync(o) < 0)
            return -1;
        double g = flop / (sn_time() - t) / 1e9;
        if (r > 0 && g > best)
            best = g;
    }
    o->free(o, da), o->free(o, db), o->free(o, dc);
    return best;
}

static int device_rates(const char *device, int M, int N, int K, int reps, const float *a, const float *b)
{
    double rate[2];
    for (int tf32 = 0; tf32 < 2; tf32++) {
        sn_ops *o;
        char desc[512];
        if (sn_backend_open(device, tf32, &o, desc, sizeof desc) < 0 ||
            (rate[tf32] = backend_rate(o, M, N, K, reps, a, b)) < 0) {
            fprintf(stderr, "sgemm-rate: %s: %s\n", device, sn_errmsg());
            return 1;
        }
        sn_backend_close(o);
    }
    printf("%.1f %.1f\n", rate[0], rate[1]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sgemm-rate M N K [threads] [reps] [device]\n");
        return 2;
    }
    int M = atoi(argv[1]), N = atoi(argv[2]), K = atoi(argv[3]);
    int threads = argc > 4 ? atoi(argv[4]) : omp_get_max_threads(), reps = argc > 5 ? atoi(argv[5]) : 5;
    if (M < 1 || N < 1 || K < 1 || threads < 1 || reps < 1) {
        fprintf(stderr, "sgemm-rate: sizes, threads and reps must be positive\n");
        return 2;
    }
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    float *a = malloc(sizeof(float) * (size_t)M * K), *b = malloc(sizeof(float) * (size_t)N * K);
    float *c = malloc(sizeof(float) * (size_t)M * N);
    sn_ops *o = sn_ops_cpu_new_f32();
    if (!a || !b || !c || !o) {
        fprintf(stderr, "sgemm-rate: out of memory\n");
        return 1;
    }
    fill(a, (int64_t)M * K, 5);
    fill(b, (int64_t)N * K, 7);
    if (argc > 6) {
        int rc = device_rates(argv[6], M, N, K, reps, a, b);
        o->destroy(o);
        free(a), free(b), free(c);
        return rc;
    }
    double best[2] = {0, 0}, flop = 2.0 * M * N * (double)K;
    for (int r = 0; r <= reps; r++) /* the first round warms up */
        for (int v = 0; v < 2; v++) {
            double t = sn_time();
            if (v == 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
            else
                o->gemm(o, 0, 1, M, N, K, 1, a, K, b, K, 0, c, N);
            double g = flop / (sn_time() - t) / 1e9;
            if (r > 0 && g > best[v])
                best[v] = g;
        }
    printf("%.1f %.1f\n", best[0], best[1]);
    o->destroy(o);
    free(a), free(b), free(c);
    return 0;
}
