/* The machine's sgemm rate at one shape, C(M×N) = A(M×K)·B(N×K)ᵀ (the
 * model's dominant product: cells × genes times a genes × genes weight),
 * best of REPS: OpenBLAS's own threaded call, and the CPU backend's gemm
 * (fixed tiles, one single-threaded call each).  Used by bench/train.sh.
 * usage: sgemm-rate M N K [threads] [reps]
 * prints: openblas GFLOP/s, backend GFLOP/s */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "scnet/log.h"
#include "scnet/ops.h"

extern void openblas_set_num_threads(int);

static void fill(float *x, int64_t n, int mod)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(i % mod) * 0.1f - 0.2f;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sgemm-rate M N K [threads] [reps]\n");
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
