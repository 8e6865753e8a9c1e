/* Host-side pieces of the training schedule (MODEL.md §1.2–1.4, §4.1,
 * §5.2–5.3): the PPI split, the cell graph, negative pairs, shuffles and
 * attention-based pruning.  All randomness is Philox keyed by the seed and
 * a stream, so a resumed run draws exactly what an uninterrupted one does. */
#ifndef SCNET_SCHEDULE_H
#define SCNET_SCHEDULE_H

#include <stdint.h>

#include "scnet/err.h"

typedef struct {
    int64_t n;
    int32_t *src, *dst;
} sn_edges32;

void sn_edges32_free(sn_edges32 *e);
int sn_edges32_alloc(sn_edges32 *e, int64_t n) SN_WUR;

/* Split undirected edges (a < b): a fraction test_frac (rounded down)
 * becomes test positives, the rest training edges stored in both
 * directions; as many test negatives (i < j, not an edge, distinct). */
int sn_ppi_split(int G, int64_t n, const int32_t *a, const int32_t *b, double test_frac, uint64_t seed,
                 sn_edges32 *train, sn_edges32 *test_pos, sn_edges32 *test_neg) SN_WUR;

/* The union-symmetrised KNN graph: i–j when j is a neighbour of i or i of
 * j (knn: N × k, -1 = none), stored as two directed edges, no self-loops,
 * in a fixed order (by source, then target). */
int sn_knn_union(int N, int k, const int32_t *knn, sn_edges32 *out) SN_WUR;

/* Keys a·G + b of the directed edges, sorted, for membership tests. */
int64_t *sn_edge_keys(const sn_edges32 *e, int G);

/* n ordered pairs (i ≠ j) not in the sorted key set, drawn uniformly;
 * pair idx depends only on (seed, stream, idx). */
void sn_negatives(int G, const int64_t *keys, int64_t nkeys, int64_t n, uint64_t seed, uint64_t stream, int32_t *ri,
                  int32_t *ci);

/* Uniform random permutation of 0..n-1 (Fisher–Yates on Philox). */
void sn_shuffle(int64_t *perm, int64_t n, uint64_t seed, uint64_t stream);

/* Pruning candidate (MODEL.md §5.3): from n collected edges with attention
 * alpha, threshold min(cap, pct-th percentile), keep every edge at or
 * above it plus each source's top `protect` edges (ties: earlier first),
 * then append the untrained remainder.  *thr receives the threshold. */
int sn_prune_candidate(const sn_edges32 *collected, const float *alpha, const sn_edges32 *remainder, double cap,
                       double pct, int protect, sn_edges32 *out, double *thr) SN_WUR;

#endif
