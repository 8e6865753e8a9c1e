/* Principal component analysis of a sparse cells × genes matrix, laid out as
 * scanpy stores it (obsm X_pca, varm PCs, uns pca variance / variance_ratio).
 *
 * The matrix is centred per gene (and optionally z-scored) implicitly: it is
 * never densified nor copied (A V gathers from its rows, Aᵀ Y scatters its
 * rows into accumulators, one set per fixed group of rows; a Krylov step
 * AᵀA V does both in one pass over the rows), so a million cells go
 * through in the memory of the sparse matrix plus panels of a few columns
 * over the cells and over the genes.  A gene mask that keeps at
 * most half the entries is the exception: the kept genes are copied (8
 * bytes per kept entry), since both products would otherwise take every
 * entry, masked or not.
 *
 * Solvers:
 *   exact       eigendecomposition (LAPACK dsyevr) of the smaller Gram
 *               matrix, cells × cells or genes × genes, formed in double
 *               from dense panels of the centred matrix;
 *   randomized  block Krylov iteration on AᵀA: blocks of max(8, k / 4)
 *               columns (rounded up to a multiple of 4) from a Gaussian start
 *               (Philox, seeded), each block orthogonalised against all
 *               earlier ones and QR-factorised, Rayleigh-Ritz on the whole
 *               basis after every block; stops when the subspace of the top-k
 *               Ritz vectors moves by less than tol (rad) from one block to
 *               the next.  Measured against the exact solver / a run to
 *               1e-7: 10 000 resampled cells 20 blocks, largest principal
 *               angle 4e-5 rad; 50 000 cells 19 blocks, 4e-5 rad; variance
 *               ratios within 1e-10.
 *   auto        exact when the smaller side has at most SN_PCA_EXACT_MAX
 *               entries, else randomized.
 * Signs follow scikit-learn's svd_flip(u_based_decision=False): in each
 * component the loading of largest magnitude is positive. */
#ifndef SCNET_PCA_H
#define SCNET_PCA_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

/* Exact eigensolver up to this many cells or genes (whichever is smaller):
 * ~1 s for the tridiagonal reduction on one core. */
#define SN_PCA_EXACT_MAX 2048

typedef enum { SN_PCA_AUTO = 0, SN_PCA_EXACT, SN_PCA_RANDOMIZED } sn_pca_solver;

typedef struct {
    int n_comps;          /* [15] */
    sn_pca_solver solver; /* [auto] */
    const uint8_t *mask;  /* genes used (e.g. highly variable); NULL = all */
    int scale;            /* z-score genes first, as scanpy pp.scale with its defaults:
                           * unbiased std, std 0 -> 1, no clipping [0] */
    int block;            /* randomized: columns per Krylov block, 0 = 8 or k / 4 rounded
                           * up to a multiple of 8, whichever is more [0] */
    int max_iter;         /* randomized: most blocks [60] */
    double tol;           /* randomized: stop when the top-k Ritz subspace moves by less
                           * than this angle (radians) from one block to the next [1e-4] */
    uint64_t seed;        /* randomized: start vectors [42] */
    const double *mean, *var; /* every column's mean and variance (ddof 1), as
                               * sn_prep_gene_moments gives them, when the caller
                               * has them; NULL = computed here [NULL] */
} sn_pca_opts;

void sn_pca_defaults(sn_pca_opts *o);

typedef struct {
    int64_t n_obs, n_var;
    int k;
    sn_mat scores;          /* n_obs × k: obsm['X_pca'] */
    sn_mat loadings;        /* n_var × k: varm['PCs'] (zero rows outside the mask) */
    double *variance;       /* k: eigenvalues / (n_obs - 1) */
    double *variance_ratio; /* k: variance / total variance */
    double total_variance;  /* sum of the per-gene variances (ddof 1) of the used genes */
    sn_pca_solver solver;   /* the solver that ran */
    int iterations;         /* randomized: iterations done */
    double change;          /* randomized: the last move of the Ritz subspace (rad); above
                             * the tolerance when max_iter stopped it */
} sn_pca;

int sn_pca_run(const sn_csr *x, const sn_pca_opts *o, sn_pca *p) SN_WUR;
void sn_pca_free(sn_pca *p);

/* Largest principal angle (radians) between the column spans of a and b
 * (same number of rows, k columns each; columns need not be orthonormal). */
int sn_pca_max_angle(const sn_mat *a, const sn_mat *b, double *angle) SN_WUR;

#endif
