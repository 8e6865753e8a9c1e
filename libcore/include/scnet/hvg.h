/* Highly variable genes: scanpy's highly_variable_genes(flavor='seurat',
 * n_top_genes) on log-normalised data (MODEL.md §1.5), reproduced step by
 * step so the selected set is identical:
 *   per gene, over all cells of expm1(x) (float32): mean m and unbiased
 *   variance v (sums in double, squares in float32 as numba does);
 *   m = 0 -> 1e-12; dispersion = v / m, 0 -> NaN, then log; mean -> log1p(m);
 *   20 equal-width bins of the mean like pandas.cut (range widened by 0.1 %
 *   below, right-closed bins); per bin the mean (Kahan sum) and the unbiased
 *   std (Welford) of the non-NaN dispersions; a bin whose std is undefined
 *   gets mean 0 and std = its mean (normalised value 1);
 *   normalised dispersion (d - mean) / std; a gene is selected when its
 *   value (NaN -> -inf) is >= the n-th largest non-NaN value (ties kept;
 *   all non-NaN genes when fewer than n). */
#ifndef SCNET_HVG_H
#define SCNET_HVG_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

typedef struct {
    int64_t n;                /* genes */
    double *means;            /* var['means'] */
    double *dispersions;      /* var['dispersions'] */
    double *dispersions_norm; /* var['dispersions_norm'] (scanpy stores float32) */
    uint8_t *highly_variable; /* var['highly_variable'] */
    int64_t n_selected;
} sn_hvg;

/* Over the columns cols[0..ncols) of x (NULL: all columns, ncols ignored);
 * h->n = the number of columns used, in that order.  The statistics of a
 * gene do not depend on the other columns, so this equals running scanpy on
 * the column subset. */
int sn_hvg_seurat(const sn_csr *x, const int64_t *cols, int64_t ncols, int64_t n_top, int n_bins,
                  sn_hvg *h) SN_WUR;
void sn_hvg_free(sn_hvg *h);

/* The reference's fallback for cell-mini-batch training (MODEL.md §1.5, last
 * paragraph): when the selection has fewer than lo or more than hi genes,
 * select instead every gene (of the columns h was computed on) whose
 * unbiased std over the cells of x is >= the
 * rank-th largest std (lo 1000, hi 12000, rank 3501 in the reference; all
 * genes when there are fewer than rank).  Returns 1 when the fallback
 * replaced the selection, 0 when it was kept, or an error. */
int sn_hvg_fallback(const sn_csr *x, const int64_t *cols, int64_t lo, int64_t hi, int64_t rank,
                    sn_hvg *h) SN_WUR;

#endif
