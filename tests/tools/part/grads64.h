/* The float64 model's gradients on the CPU, for test_ops_cuda (which sees
 * the float32 model): the yardstick both float32 backends are measured
 * against. */
#ifndef SCNET_TEST_GRADS64_H
#define SCNET_TEST_GRADS64_H

#include <stdint.h>

#include "scnet/gstruct.h"

typedef struct {
    int G, N, hidden, embed;
    const sn_gstruct *ppi, *cells;
    const uint8_t *hvg;
    const float *X;      /* N × G */
    int32_t *const *neg; /* q_ri, q_ci, r_ri, r_ci */
} sn_test_problem;

/* Every parameter's gradient after one training-mode forward and backward
 * pass at the initial weights, concatenated; offs[k] is where parameter k
 * starts, offs[*nparam] the total.  NULL on failure. */
double *sn_test_grads64(const sn_test_problem *p, int64_t *offs, int *nparam);

/* After steps training steps (negatives alternating between the two
 * pairs of neg, as test_ops_cuda's run_model), the outputs of an
 * evaluation forward: Z_g (G × embed), Z_c (N × embed), Y (N × G).
 * Returns 0, or -1 on failure. */
int sn_test_steps64(const sn_test_problem *p, int steps, double *zg, double *zc, double *y);

#endif
