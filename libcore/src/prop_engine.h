/* Internal: the propagation engine shared by sn_prop_run and the gene-set
 * evaluation.  Priors are generated and results consumed column by column
 * through callbacks, so a job of thousands of columns never holds them all.
 * prop_engine.tmpl.c holds the iterations, compiled for double and for
 * float iterates; propagate.c the network, the all-ones prior g and the
 * dispatch. */
#ifndef SCNET_PROP_ENGINE_H
#define SCNET_PROP_ENGINE_H

#include "scnet/propagate.h"

#define PW 16  /* columns per chunk */
#define RB 512 /* rows per partial sum: fixed, so sums ignore threading */

typedef struct {
    int64_t ncols;
    void *ctx;
    /* Fill the prior of column col into y (n values, zeroed). */
    void (*prior)(void *ctx, int64_t col, double *y);
    /* Take the result of column col (n values); called from thread tid. */
    int (*result)(void *ctx, int tid, int64_t col, const double *f);
} prop_job;

typedef struct g_hist g_hist;

typedef struct {
    const sn_propnet *p;
    const sn_prop_opts *o;
    const prop_job *job;
    g_hist *g;
    int tg;     /* g settles here: no column stops earlier */
    int failed; /* first error of a worker */
} prop_engine;

/* g_t for t ≥ tg (NULL when out of memory); callable from any thread. */
const double *sn_prop_g_at(prop_engine *e, int t);

int sn_prop_engine_f32(prop_engine *e, sn_prop_stats *st);
int sn_prop_engine_f64(prop_engine *e, sn_prop_stats *st);

/* Run a job with float (single = 1) or double iterates. */
int sn_prop_engine(const sn_propnet *p, const sn_prop_opts *o, const prop_job *job, int single,
                   sn_prop_stats *st);

#endif
