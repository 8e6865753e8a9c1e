/* Undirected gene networks: construction, communities (igraph Leiden and
 * Louvain), modularity, differential networks, degree-preserving
 * randomisation and exports (TSV edge list, module table, GraphML).
 *
 * A graph is an edge list in canonical form: a[e] < b[e], sorted by
 * (a, b), no self-loops, no duplicate pairs.  Node names live with the
 * caller (usually the var index of an AnnData file). */
#ifndef SCNET_GRAPH_H
#define SCNET_GRAPH_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"

typedef struct {
    int64_t n;      /* nodes */
    int64_t m;      /* edges */
    int32_t *a, *b; /* endpoints, a[e] < b[e] */
    double *w;      /* weights; NULL = unweighted (every weight 1) */
} sn_graph;

/* m edges of uninitialised endpoints (weights too when weighted). */
int sn_graph_alloc(sn_graph *g, int64_t n, int64_t m, int weighted) SN_WUR;
void sn_graph_free(sn_graph *g);
/* Canonical form in place: endpoints ordered, edges sorted, self-loops
 * dropped, duplicate pairs merged keeping the largest weight. */
int sn_graph_canon(sn_graph *g) SN_WUR;
/* From an adjacency matrix (n × n; entry (i, j) or (j, i) makes an edge,
 * the larger value is its weight; the diagonal is ignored). */
int sn_graph_from_csr(const sn_csr *adj, int weighted, sn_graph *g) SN_WUR;
/* Symmetric adjacency with both directions of every edge (weight 1 when
 * unweighted); indices sorted within rows. */
int sn_graph_to_csr(const sn_graph *g, sn_csr *adj) SN_WUR;
/* From m named edges (a[k], b[k], weight w[k]; w NULL = unweighted, e.g.
 * the fields of an sn_edges from read.h).  Nodes are numbered in order of
 * first appearance; *names receives g->n strings (sn_free_strings). */
int sn_graph_from_names(int64_t m, char *const *a, char *const *b, const double *w, sn_graph *g,
                        char ***names) SN_WUR;
/* Keep the nodes with map[i] >= 0, renumbered to map[i] (n_new nodes). */
int sn_graph_subset(const sn_graph *g, const int64_t *map, int64_t n_new, sn_graph *out) SN_WUR;
/* deg[i] = number of edges at node i (deg has g->n entries). */
void sn_graph_degrees(const sn_graph *g, int64_t *deg);

/* ---- communities (igraph) ---- */

typedef enum { SN_COMM_LEIDEN = 0, SN_COMM_LOUVAIN = 1 } sn_comm_method;

typedef struct {
    sn_comm_method method; /* [leiden] */
    double resolution;     /* γ of modularity [1] */
    double beta;           /* Leiden refinement randomness [0.01] */
    int iterations;        /* Leiden passes; negative = until stable [-1] */
    uint64_t seed;         /* igraph's RNG seed [42] */
    int use_weights;       /* use the edge weights when the graph has them [1] */
} sn_comm_opts;

void sn_comm_opts_default(sn_comm_opts *o);

typedef struct {
    int64_t n;
    int64_t *membership; /* module of each node: 0 = largest module */
    int64_t n_modules;   /* modules, singletons included */
    int64_t n_multi;     /* modules of two or more nodes */
    double modularity;   /* Q at the requested resolution */
} sn_partition;

int sn_graph_communities(const sn_graph *g, const sn_comm_opts *o, sn_partition *p) SN_WUR;
void sn_partition_free(sn_partition *p);
/* Q = (1/2m) Σ_ij (A_ij − γ k_i k_j / 2m) [c_i = c_j]; NaN for a graph
 * without edges (as igraph). */
int sn_graph_modularity(const sn_graph *g, const int64_t *membership, double resolution,
                        int use_weights, double *q) SN_WUR;

/* ---- differential network ---- */

typedef struct {
    int64_t n;        /* edges present in exactly one network */
    int64_t *u, *v;   /* node indices of the first network, u < v */
    int8_t *side;     /* 1: only in the first network, 2: only in the second */
    double *w;        /* weight in the network the edge comes from */
    int64_t n_only1, n_only2; /* of the n edges, those from each side */
    int64_t n_shared;         /* nodes named in both networks */
    int64_t n_common;         /* edges among shared nodes present in both */
} sn_netdiff;

/* Edges among the nodes the two networks share (matched by name) that
 * exist in one network only, sorted by (u, v). */
int sn_graph_diff(const sn_graph *g1, char *const *names1, const sn_graph *g2,
                  char *const *names2, sn_netdiff *d) SN_WUR;
void sn_netdiff_free(sn_netdiff *d);

/* ---- degree-preserving randomisation ---- */

/* out = g after double-edge swaps ({a,b},{c,d} → {a,d},{c,b}, refused when
 * it would make a self-loop or a multi-edge) until swaps_per_edge · m swaps
 * were accepted, or 20 times as many were tried (a graph that admits few
 * swaps, e.g. a star); *accepted (may be NULL) gets the number done.
 * Random numbers come from Philox (seed, stream): the result depends on
 * nothing else.  Weights travel with their edges. */
int sn_graph_rewire(const sn_graph *g, double swaps_per_edge, uint64_t seed, uint64_t stream,
                    sn_graph *out, int64_t *accepted) SN_WUR;

/* ---- exports ("-" = standard output; written atomically) ---- */

/* "gene1 <tab> gene2 <tab> weight" with a header line. */
int sn_graph_write_tsv(const sn_graph *g, char *const *names, const char *path) SN_WUR;
/* "gene <tab> module" with a header line. */
int sn_modules_write_tsv(char *const *names, const int64_t *membership, int64_t n,
                         const char *path) SN_WUR;
/* GraphML through igraph: vertex attributes "name" (and "module" when
 * membership is non-NULL), edge attribute "weight". */
int sn_graph_write_graphml(const sn_graph *g, char *const *names, const int64_t *membership,
                           const char *path) SN_WUR;
/* "gene1 <tab> gene2 <tab> network <tab> weight", network = label1 or label2. */
int sn_netdiff_write_tsv(const sn_netdiff *d, char *const *names1, const char *label1,
                         const char *label2, const char *path) SN_WUR;

#endif
