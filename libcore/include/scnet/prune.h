/* Attention-based pruning of the cell graph (MODEL.md §5.3) as a stand-alone
 * step on a trained file: drop edges whose attention is below
 * min(cap, pct-th percentile), keeping each cell's `protect` strongest
 * outgoing edges. */
#ifndef SCNET_PRUNE_H
#define SCNET_PRUNE_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

typedef struct {
    double pct;  /* percentile of attention that sets the threshold [10] */
    double cap;  /* threshold at most [0.2] */
    int protect; /* outgoing edges kept per cell whatever their attention [10] */
} sn_prune_opts;

typedef struct {
    int64_t before, after;
    int64_t held;   /* cells that lost edges and kept only their protected ones */
    double threshold;
} sn_prune_stats;

/* att: cells × cells, row = receiving cell, column = sending cell, value =
 * attention.  out: the kept edges, same layout and values. */
int sn_prune_attention(const sn_csr *att, const sn_prune_opts *o, sn_csr *out, sn_prune_stats *st) SN_WUR;
/* Entries (i, j) of w where g has (i, j) or (j, i): a graph's weights
 * restricted to the pruned graph, symmetrically. */
int sn_csr_mask_sym(const sn_csr *w, const sn_csr *g, sn_csr *out) SN_WUR;

#endif
