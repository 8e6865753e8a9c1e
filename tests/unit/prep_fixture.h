/* Small matrices for the preprocessing tests: random sparse counts built
 * from a seed, dense <-> CSR conversion. */
#ifndef SCNET_TEST_PREP_FIXTURE_H
#define SCNET_TEST_PREP_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/mat.h"
#include "scnet/philox.h"

/* CSR of a dense row-major n × g float matrix (zeros left out). */
static inline sn_csr dense_to_csr(const float *a, int64_t n, int64_t g)
{
    int64_t nnz = 0;
    for (int64_t e = 0; e < n * g; e++)
        nnz += a[e] != 0;
    sn_csr m;
    if (sn_csr_alloc(&m, n, g, nnz) < 0)
        abort();
    int64_t p = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < g; j++)
            if (a[i * g + j] != 0) {
                m.indices[p] = (int32_t)j;
                m.data[p++] = a[i * g + j];
            }
        m.indptr[i + 1] = p;
    }
    return m;
}

static inline float *csr_to_dense(const sn_csr *m)
{
    float *a = calloc((size_t)(m->nrow * m->ncol + 1), sizeof *a);
    for (int64_t i = 0; i < m->nrow; i++)
        for (int64_t k = m->indptr[i]; k < m->indptr[i + 1]; k++)
            a[i * m->ncol + m->indices[k]] = m->data[k];
    return a;
}

/* Counts with cell-type structure: n cells of `types` groups, each group
 * expressing its own genes more; about `density` of the entries non-zero. */
static inline float *random_counts(int64_t n, int64_t g, int types, double density, uint64_t seed)
{
    float *a = calloc((size_t)(n * g + 1), sizeof *a);
    sn_rng r;
    sn_rng_init(&r, seed, 1);
    for (int64_t i = 0; i < n; i++) {
        int ty = (int)(i % types);
        double depth = 0.5 + sn_rng_double(&r);
        for (int64_t j = 0; j < g; j++) {
            double rate = (j % types == ty ? 6.0 : 1.0) * depth * (1 + (double)(j % 7)) / 4;
            if (sn_rng_double(&r) > density)
                continue;
            /* Poisson by inversion: small rates only */
            double u = sn_rng_double(&r), p = exp(-rate), c = p;
            int k = 0;
            while (u > c && k < 200) {
                k++;
                p *= rate / k;
                c += p;
            }
            a[i * g + j] = (float)k;
        }
    }
    return a;
}

#endif
