/* k-nearest-neighbour graph of cells in PCA space (Euclidean), stored the
 * way scanpy stores sc.pp.neighbors (obsp distances / connectivities).
 *
 * k counts the cell itself (scanpy's n_neighbors): each cell gets k - 1
 * neighbours.  Neighbours are ordered by distance, ties by cell index; the
 * cell itself is always first, so duplicate cells (distance 0) follow it as
 * ordinary neighbours and are stored as explicit zero distances, as scanpy
 * does (MODEL.md §1.2.3 drops them when building the training graph).
 *
 * Methods:
 *   exact  brute force: every pair screened with vectorised float32
 *          distances (relative error below 1e-6), k + 8 candidates kept per
 *          cell, exact double distances recomputed for those, and a per-cell
 *          proof that nothing outside the candidates can be closer (else
 *          that cell is rescanned in full): the result is the exact k-NN,
 *          ties broken by index;
 *   ivf    k-means inverted lists (about sqrt(n) lists, 12 Lloyd
 *          iterations on a sample of 64 cells per list), each cell scanning
 *          the lists of its nprobe nearest centroids; exact distances
 *          decide the final order;
 *   auto   exact up to SN_KNN_EXACT_MAX cells, ivf above.
 * Results do not depend on the thread count. */
#ifndef SCNET_KNN_H
#define SCNET_KNN_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

/* Exact search up to this many cells, where it is as fast as ivf (2 cores,
 * 15 PCs: both 0.28 s at 25 000 cells; at 50 000 exact 0.74 s, ivf 0.58 s
 * with recall 0.9986). */
#define SN_KNN_EXACT_MAX 30000

typedef enum { SN_KNN_AUTO = 0, SN_KNN_EXACT, SN_KNN_IVF } sn_knn_method;

typedef struct {
    int k;                /* neighbours including the cell itself [25] */
    sn_knn_method method; /* [auto] */
    int nlist;            /* ivf: lists, 0 = about sqrt(n) */
    int nprobe;           /* ivf: lists scanned per cell [SN_KNN_NPROBE] */
    uint64_t seed;        /* ivf: k-means sample [42] */
} sn_knn_opts;

#define SN_KNN_NPROBE 10

void sn_knn_defaults(sn_knn_opts *o);

typedef struct {
    int64_t n;
    int k;            /* columns per cell (may be smaller than asked for tiny n) */
    int32_t *idx;     /* n × k; column 0 is the cell itself */
    float *dist;      /* n × k, ascending */
    sn_knn_method method;
} sn_knn;

/* Neighbours of the rows of x (n × d).  Like scanpy, k larger than n
 * becomes 1 + n / 2 (with a warning). */
int sn_knn_build(const sn_mat *x, const sn_knn_opts *o, sn_knn *g) SN_WUR;
void sn_knn_free(sn_knn *g);

/* obsp['distances']: n × n CSR, k - 1 entries per row (the cell itself
 * left out), columns ascending, duplicates as explicit zeros. */
int sn_knn_distances(const sn_knn *g, sn_csr *d) SN_WUR;

/* obsp['connectivities']: UMAP fuzzy-set weights exactly as scanpy computes
 * them with umap-learn (MODEL.md §7.1b), float32 arithmetic included:
 * rho = smallest non-zero distance, sigma by bisection (64 steps, tolerance
 * 1e-5, target log2(k)), floored at 1e-3 × the mean distance of the cell
 * (or of all cells when rho = 0); w = exp(-(d - rho) / sigma);
 * W = w + wᵀ - w∘wᵀ, zeros dropped. */
int sn_knn_connectivities(const sn_knn *g, sn_csr *w) SN_WUR;

/* Recall of g against exact search on m cells sampled with seed: the share
 * of found neighbours that are no farther than the exact (k-1)-th
 * neighbour (so ties count as found). */
int sn_knn_recall(const sn_mat *x, const sn_knn *g, int64_t m, uint64_t seed, double *recall) SN_WUR;

#endif
