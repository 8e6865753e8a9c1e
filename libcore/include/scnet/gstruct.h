/* The sparse operators the model applies to a directed graph, built on the
 * host from an edge list (edge e: src[e] → dst[e], "dst receives from
 * src"), following the reference's conventions (MODEL.md §2):
 *   mean:  SAGE mean aggregation, M[i,j] = multiplicity(j→i)/in-degree(i)
 *   gcn:   D̂^{-1/2}(A + I)D̂^{-1/2} with in-degrees and one self-loop per node
 *   att:   the edges themselves, grouped by target (for attention)
 * each with its transpose, so backward passes are gathers rather than
 * scatters (deterministic on any number of threads). */
#ifndef SCNET_GSTRUCT_H
#define SCNET_GSTRUCT_H

#include <stdint.h>

#include "scnet/err.h"

typedef struct {
    int32_t nrow, ncol, nnz;
    int32_t *ptr, *col;
    double *val;
} sn_hcsr;

typedef struct {
    int32_t n;      /* nodes */
    int32_t ne;     /* edges */
    sn_hcsr mean, mean_t, gcn, gcn_t;
    sn_hcsr att;    /* rows = targets, col = source; val unused */
    sn_hcsr att_t;  /* rows = sources, col = target */
    int32_t *att_ri, *att_ci; /* edge k of att (CSR order): target, source */
    int32_t *att_perm;        /* att_t position → att position */
    int32_t *att_eid;         /* att position → index in the input edge list */
} sn_gstruct;

int sn_gstruct_build(int32_t n, int64_t ne, const int32_t *src, const int32_t *dst, sn_gstruct *g) SN_WUR;
void sn_gstruct_free(sn_gstruct *g);
void sn_hcsr_free(sn_hcsr *m);

#endif
