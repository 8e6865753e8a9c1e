/* Expression preprocessing on a cells × genes CSR matrix, reproducing
 * scanpy 1.11 (filter_cells, filter_genes, normalize_total, log1p) down to
 * its float32 arithmetic, plus the per-gene z-score the model trains on
 * (MODEL.md §1.6).
 *
 * Every reduction over cells runs on fixed blocks of rows combined in a
 * fixed order, so results do not depend on the number of threads. */
#ifndef SCNET_PREP_H
#define SCNET_PREP_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

/* ---- quality filters (scanpy filter_cells / filter_genes) ---- */

/* Rows with at least min_genes positive entries (0 keeps every row).
 * *keep: malloc'd ascending row indices; *ngenes (unless NULL): every
 * row's count of positive entries (malloc'd, x->nrow). */
int sn_prep_filter_cells(const sn_csr *x, int64_t min_genes, int64_t **keep, int64_t *nkeep,
                         int64_t **ngenes) SN_WUR;
/* Columns positive in at least min_cells of the rows rows[0..nrows)
 * (ascending; NULL: every row), 0 keeping every column; *ncells (unless
 * NULL): every column's count over those rows. */
int sn_prep_filter_genes(const sn_csr *x, const int64_t *rows, int64_t nrows, int64_t min_cells, int64_t **keep,
                         int64_t *nkeep, int64_t **ncells) SN_WUR;
/* Number of rows with a positive value, per column (malloc'd, x->ncol). */
int sn_prep_gene_ncells(const sn_csr *x, int64_t **ncells) SN_WUR;
/* Keep rows[0..nrows) and columns cols[0..ncols), both ascending, in place:
 * the matrix is compacted without a second copy (NULL keeps all). */
int sn_prep_subset(sn_csr *x, const int64_t *rows, int64_t nrows, const int64_t *cols, int64_t ncols) SN_WUR;

/* ---- what kind of values the matrix holds ---- */

typedef enum {
    SN_VALUES_COUNTS,  /* non-negative integers: normalise and log-transform */
    SN_VALUES_LOGNORM, /* non-integer, max <= SN_LOGNORM_MAX: already log-normalised */
    SN_VALUES_NONINT   /* non-integer with larger values (e.g. corrected counts, CPM) */
} sn_values;

/* log1p(x) of a normalised cell stays below ~14 even for target sums of 1e6
 * and a cell whose total sits in one gene; raw or linear-scale values of a
 * real data set exceed it. */
#define SN_LOGNORM_MAX 30.0

/* Classify the stored values: negatives are an error (scaled data cannot be
 * normalised); all integral -> counts; otherwise the maximum decides.
 * *maxval gets the largest value. */
int sn_prep_inspect(const sn_csr *x, sn_values *kind, double *maxval) SN_WUR;

/* ---- normalisation (scanpy normalize_total + log1p) ---- */

/* Scale each row to sum to target.  target <= 0 means scanpy's default, the
 * median of the row totals that are non-zero (*used gets the target
 * applied).  Arithmetic as scanpy on float32 CSR: totals summed in double and
 * stored as float32, factor = total / target in float32, value / factor in
 * float32; rows with a zero total are left unchanged. */
int sn_prep_normalize_total(sn_csr *x, double target, double *used) SN_WUR;
/* x <- log(1 + x) elementwise (float32, like numpy's log1p on float32). */
void sn_prep_log1p(sn_csr *x);

/* ---- per-gene statistics and scaling ---- */

/* Per-column sums of v and v * v over all rows, v = x, or expm1(x) with v
 * and its square in float32 (scanpy's HVG kernel); only the columns with
 * need[j] when need is not NULL.  Rows are summed in fixed blocks combined
 * in block order, so the sums do not depend on the thread count. */
int sn_prep_gene_sums(const sn_csr *x, const uint8_t *need, int expm1, double *sum, double *sq) SN_WUR;
/* Mean and unbiased variance of every column over all rows (zeros
 * included), in double; either output may be NULL. */
int sn_prep_gene_moments(const sn_csr *x, double *mean, double *var) SN_WUR;
/* Each gene's value for a zero entry, -mean / (std + eps) (g floats; NULL
 * when out of memory). */
float *sn_prep_scale_zeros(const double *mean, const double *std, double eps, int64_t g);
/* z-score rows [r0, r1) of x into out ((r1 - r0) × ncol, row-major float32):
 * (x - mean) / (std + eps), from within a parallel region, the rows shared
 * out among its threads as they come (an orphaned omp for); zero from
 * sn_prep_scale_zeros.  MODEL.md §1.6 uses the unbiased std and eps = 1e-5;
 * the caller gets mean and std from sn_prep_gene_moments (std =
 * sqrt(var)). */
void sn_prep_scale_rows_team(const sn_csr *x, const double *mean, const double *std, double eps, const float *zero,
                             int64_t r0, int64_t r1, float *out);

#endif
