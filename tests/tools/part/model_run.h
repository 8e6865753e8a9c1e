/* The model on one test problem at either precision, for test_ops_cuda:
 * the float32 instantiation runs it on the CPU and the CUDA backends, the
 * float64 one is the yardstick both are measured against.  A float32
 * translation unit cannot name float64 ops, so the backend is passed as
 * void *: an sn_ops of the instantiation's precision, or NULL for a new
 * CPU backend of that precision. */
#ifndef SCNET_TEST_MODEL_RUN_H
#define SCNET_TEST_MODEL_RUN_H

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
 * pass at the initial weights, concatenated in host memory; offs[k] is
 * where parameter k starts, offs[*nparam] the total.  NULL on failure. */
float *sn_test_grads_f32(void *ops, const sn_test_problem *p, int64_t *offs, int *nparam);
double *sn_test_grads_f64(void *ops, const sn_test_problem *p, int64_t *offs, int *nparam);

/* steps training steps (the negatives alternating between the two pairs
 * of neg), their losses in loss (3 a step: ppi, mse, corr; may be NULL),
 * then the outputs of an evaluation forward into host memory: Z_g
 * (G × embed), Z_c (N × embed), Y (N × G).  0, or -1 on failure. */
int sn_test_steps_f32(void *ops, const sn_test_problem *p, int steps, double *loss, float *zg, float *zc, float *y);
int sn_test_steps_f64(void *ops, const sn_test_problem *p, int steps, double *loss, double *zg, double *zc,
                      double *y);

#endif
