/* Co-embedded gene networks (MODEL.md §7.1): absolute Pearson correlation
 * between the rows of a matrix (genes × embedding dimensions, or genes ×
 * cells for the co-expression baseline), diagonal set to 0, threshold τ =
 * the p-th percentile of all G² entries (diagonal zeros and both triangles
 * included, linear interpolation exactly as numpy.percentile), edge {i, j}
 * iff |ρ_ij| > τ (strict).
 *
 * The G × G matrix is never held: correlations are computed in blocks of
 * rows, τ is found exactly by histogram refinement over repeated passes
 * (values of the bins holding the wanted ranks are collected and sorted
 * once few enough remain), and a last pass emits the edges.  Every entry is
 * a dot product summed in a fixed order, so the result does not depend on
 * the block size or the thread count.  A row of zero variance correlates
 * 0 with everything (numpy would give NaN and no network at all). */
#ifndef SCNET_COEMBED_H
#define SCNET_COEMBED_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/graph.h"
#include "scnet/mat.h"

typedef struct {
    double percentile; /* of all G² entries, 0..100 [99] */
    int weighted;      /* edge weight |ρ| instead of 1 [0] */
    int64_t block;     /* rows per block; 0 = automatic */
} sn_coembed_opts;

typedef struct {
    double threshold;  /* τ */
    int64_t n_entries; /* G² */
    int passes;        /* passes over the correlation blocks, the last included */
} sn_coembed_info;

void sn_coembed_opts_default(sn_coembed_opts *o);
/* Rows of a dense matrix (float32; computed in float64). */
int sn_coembed_dense(const sn_mat *x, const sn_coembed_opts *o, sn_graph *g,
                     sn_coembed_info *info) SN_WUR;
/* Rows of a sparse matrix (e.g. genes × cells), without densifying it:
 * ρ_ij = (Σ_c x_ic x_jc − n μ_i μ_j) / sqrt(ss_i ss_j), the sums over the
 * non-zeros only. */
int sn_coembed_sparse(const sn_csr *x, const sn_coembed_opts *o, sn_graph *g,
                      sn_coembed_info *info) SN_WUR;
/* The whole |ρ| matrix (G × G doubles, row-major, diagonal 0) of a dense
 * input, computed by the same kernel: for small inputs and tests. */
int sn_coembed_corr_full(const sn_mat *x, double *out) SN_WUR;

#endif
