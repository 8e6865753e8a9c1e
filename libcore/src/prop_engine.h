/* Internal: the propagation engine shared by sn_prop_run and the gene-set
 * evaluation.  Priors are generated and results consumed column by column
 * through callbacks, so a job of thousands of columns never holds them all. */
#ifndef SCNET_PROP_ENGINE_H
#define SCNET_PROP_ENGINE_H

#include "scnet/propagate.h"

/* Columns per chunk: few enough that a chunk of F stays near the cache. */
#define PW 16

typedef struct {
    int64_t ncols;
    void *ctx;
    /* Fill the prior of column col into y (n values, zeroed). */
    void (*prior)(void *ctx, int64_t col, double *y);
    /* Take the result of column col (n values); called from thread tid. */
    int (*result)(void *ctx, int tid, int64_t col, const double *f);
} prop_job;

int sn_prop_engine(const sn_propnet *p, const sn_prop_opts *o, const prop_job *job,
                   sn_prop_stats *st);

#endif
