/* Network propagation (random walk with restart, degree-normalised;
 * MODEL.md §7.2), its evaluation on gene sets (§7.4) and z-scores against
 * degree-preserving random networks (§7.6).
 *
 *   d_i = Σ_j W_ij + 1e-4,  W' = D^{-1/2} W D^{-1/2}
 *   f_0 = y,  f_{t+1} = α W' f_t + (1 − α) y
 *   g_0 = 1,  g_{t+1} = α W' g_t + (1 − α) 1
 *   stop at the first t where ‖f_{t+1} − f_t‖ ≤ tol and ‖g_{t+1} − g_t‖ ≤ tol;
 *   the result is f_t ⊘ g_t (the iterate before the last update, as the
 *   reference returns), or f_t alone without normalisation (then g is not
 *   part of the stopping rule).
 *
 * Many priors run at once (sparse W' times a dense block of columns).
 * Each column stops on its own (its 2-norm: the same as propagating it
 * alone), or with joint = 1 all columns stop together on the Frobenius norm
 * of the whole block, the reference's rule for a matrix prior.  Results
 * do not depend on the thread count or on which other columns ran. */
#ifndef SCNET_PROPAGATE_H
#define SCNET_PROPAGATE_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/graph.h"

typedef struct {
    double alpha;  /* restart complement α [0.9] */
    double tol;    /* stopping tolerance [1e-4] */
    int max_iter;  /* at most this many updates; then the last iterate [1000] */
    int normalize; /* divide by the propagated all-ones prior [1] */
    int joint;     /* one Frobenius-norm stop for all columns [0] */
} sn_prop_opts;

void sn_prop_opts_default(sn_prop_opts *o);

/* W' in CSR form (both directions of every edge). */
typedef struct {
    int64_t n;
    int64_t *indptr;
    int32_t *indices;
    double *w;
} sn_propnet;

/* use_weights: the graph's weights (when it has them) instead of 1. */
int sn_propnet_build(const sn_graph *g, int use_weights, sn_propnet *p) SN_WUR;
void sn_propnet_free(sn_propnet *p);

typedef struct {
    int max_iters;       /* most updates any column took */
    int64_t unconverged; /* columns stopped by max_iter */
} sn_prop_stats;

/* F0 and F are n × s, column-major (column c at F + c·n).  stats may be
 * NULL. */
int sn_prop_run(const sn_propnet *p, const double *F0, int64_t s, const sn_prop_opts *o, double *F,
                sn_prop_stats *stats) SN_WUR;

/* ---- evaluation on gene sets ---- */

/* AUROC (Mann–Whitney, ties count one half) and average precision of the
 * scores of positives against negatives.  Average precision is the
 * step-wise sum Σ_k (R_k − R_{k−1}) P_k over the distinct score values in
 * decreasing order, all items tied at a value entering together (no
 * interpolation; equal to scikit-learn's average_precision_score and to
 * metrics.h).  Only the positives are sorted and each negative is placed
 * among them by bisection, O(n log P): the evaluation scores thousands of
 * splits with a handful of positives against every other gene.  NaN when
 * either side is empty. */
int sn_prop_auc(const double *pos, int64_t np, const double *neg, int64_t nn, double *auroc,
           double *aupr) SN_WUR;

typedef enum {
    SN_SPLIT_HOLDOUT = 0,  /* hold out part of the set; all non-set genes are negatives */
    SN_SPLIT_REFERENCE = 1 /* the reference's 70/30 split of all genes, balanced negatives */
} sn_split_mode;

typedef struct {
    sn_prop_opts prop;  /* joint is ignored: every split propagates alone */
    sn_split_mode mode; /* [holdout] */
    int splits;         /* random splits per set [5] */
    double holdout;     /* holdout mode: fraction of the set held out [1/3] */
    double train;       /* reference mode: fraction of all genes for training [0.7] */
    int64_t min_genes;  /* sets with fewer genes in the network are skipped [5] */
    uint64_t seed;      /* [42] */
    int single;         /* iterate in float: the evaluation only ranks scores, and
                         * float halves the memory traffic [1]; 0 = double */
} sn_eval_opts;

void sn_eval_opts_default(sn_eval_opts *o);

/* A gene set as distinct node indices; the name keys its random splits, so
 * a set is split the same way whatever other sets are evaluated, and in
 * whatever order idx lists its nodes. */
typedef struct {
    const char *name;
    int64_t n;
    const int32_t *idx;
} sn_geneset;

typedef struct {
    int64_t nsets;
    double *auroc, *aupr; /* per set, mean over its splits; NaN when skipped */
    int64_t n_evaluated;  /* sets with a value */
    /* splits made (of the sets with enough genes), and those left out of
     * their set's mean: without a seed, without a positive, without a
     * negative (a set whose splits are all left out gets NaN) */
    int64_t n_splits, n_no_seed, n_no_pos, n_no_neg;
    double mean_auroc, median_auroc, mean_aupr, median_aupr;
    sn_prop_stats stats;
} sn_eval;

/* Holdout mode: per split, a random round(holdout·k) of the set's k genes
 * (at least 1, at most k − 1; drawn from the genes in node order) are held
 * out as positives and the rest seed the prior; negatives are all network genes outside the set.  Reference
 * mode: a random round(train·n) of all n network genes are training genes;
 * the prior marks training genes in the set; positives are the other set
 * genes, negatives as many random non-set test genes (fewer when there are
 * not enough).  A split left without a seed (reference mode: all of the
 * set's genes drawn as test genes), a positive (all drawn as training
 * genes) or a negative is not propagated and does not count in its set's
 * mean. */
int sn_prop_evaluate(const sn_propnet *p, const sn_geneset *sets, int64_t nsets,
                     const sn_eval_opts *o, sn_eval *e) SN_WUR;
void sn_eval_free(sn_eval *e);

/* ---- z-scores against degree-preserving random networks ---- */

typedef struct {
    sn_eval real;
    int n_random;
    /* per set: mean and sample standard deviation over the random networks,
     * z = (real − mean) / sd (NaN when sd = 0 or the set was skipped) */
    double *rand_mean_auroc, *rand_sd_auroc, *z_auroc;
    double *rand_mean_aupr, *rand_sd_aupr, *z_aupr;
    /* per random network: the mean over sets */
    double *rand_overall_auroc, *rand_overall_aupr;
    double z_overall_auroc, z_overall_aupr;
    int64_t min_swaps; /* fewest swaps accepted in a random network */
} sn_zscores;

/* Evaluate g and n_random rewirings of it (swaps_per_edge · m accepted
 * swaps each, Philox streams 0..n_random−1 of o->seed); the splits are the
 * same on every network. */
int sn_prop_zscores(const sn_graph *g, int use_weights, const sn_geneset *sets, int64_t nsets,
                    const sn_eval_opts *o, int n_random, double swaps_per_edge,
                    sn_zscores *z) SN_WUR;
void sn_zscores_free(sn_zscores *z);

#endif
