/* Training schedule of scNET (MODEL.md §5): edge mini-batches over the
 * cell KNN graph with attention-based pruning, or cell blocks for large
 * data; evaluation of held-out PPI edges; best-model outputs. */
#ifndef SCNET_TRAIN_H
#define SCNET_TRAIN_H

#include <stdint.h>

#include "scnet/err.h"
#if defined(SN_REAL_F64) && SN_REAL_F64
#error "the training schedule is float32 only"
#endif
#include "scnet/model.h"

typedef struct {
    int G, N;
    const float *X;         /* N × G log-normalised expression, row-major */
    const uint8_t *hvg;     /* G: genes in the expression loss */
    int64_t n_ppi;          /* undirected PPI edges, a < b, no repeats */
    const int32_t *ppi_a, *ppi_b;
    int k;                  /* neighbours per cell in knn (self excluded) */
    const int32_t *knn;     /* N × k; -1 = no edge (distance 0, or missing) */
} sn_train_data;

/* Outputs: the evaluation with the best held-out AUROC, the last epoch
 * (both by evaluation-mode forwards, see SN_OUTG_*), the
 * reference's schedule, or auto: best when at least SN_BEST_MIN_TEST PPI
 * edges are held out, else last.  On fewer edges the AUROC is too noisy
 * to choose an epoch by (its standard error is about 0.09 on 20 edges):
 * it mostly picks the untrained model of epoch 0. */
enum { SN_OUT_BEST = 0, SN_OUT_LAST, SN_OUT_REFERENCE, SN_OUT_AUTO };
#define SN_BEST_MIN_TEST 100

/* The cell graph of the evaluation-mode outputs in edge mode: the mean of
 * the forwards over the chunks of one partition of the edges (training
 * only ever sees a chunk, a fifth of the edges by default), or one forward
 * over the whole graph.  Attention always comes from the whole graph, so
 * that every edge has one value. */
enum { SN_OUTG_CHUNKS = 0, SN_OUTG_WHOLE };

typedef struct {
    sn_model_cfg model;
    int epochs;             /* 150 */
    int batches;            /* 5: edge chunks per epoch */
    int eval_every;         /* 10 */
    int prune_every;        /* 30: install the pruned graph every so many epochs */
    int protect;            /* 10: top outgoing edges kept per cell */
    double prune_cap;       /* 0.2: threshold = min(cap, percentile) */
    double prune_pct;       /* 10 */
    double test_frac;       /* 0.2 of PPI edges held out */
    int cell_mode;          /* -1 auto (N > cell_threshold), 0 edges, 1 cell blocks */
    int cell_threshold;     /* 10000 */
    int block_max;          /* 4000 cells per block at most */
    int outputs;            /* SN_OUT_*: which model state the outputs come from [auto] */
    int output_graph;       /* SN_OUTG_*: the graph of their forward [chunks] */
    int checkpoint_every;   /* epochs; 0 = never */
    int stop_after;         /* end this run after so many epochs (then resume); 0 = off */
    const char *checkpoint; /* path */
    const char *resume;     /* path */
    const char *save_model; /* path: best weights */
    const char *backend;    /* what computes (sn_backend_open's description), kept in checkpoints */
    const char *source;     /* the input's name, which messages about its data start with (NULL: none) */
} sn_train_opts;

void sn_train_opts_default(sn_train_opts *o);

typedef struct {
    int G, N, embed;
    float *zg, *zc, *y;     /* G × e, N × e, N × G */
    int64_t n_att;          /* attention on cell-graph edges at output time */
    int32_t *att_src, *att_dst;
    float *att;
    int64_t n_pruned;       /* the pruned cell graph (directed) */
    int32_t *pr_src, *pr_dst;
    int n_eval;
    int *eval_epoch;
    double *auroc, *ap;
    int n_epochs;
    int start_epoch;        /* epochs done before this run (--resume) */
    double *loss_ppi, *loss_mse, *loss_corr, *epoch_sec;
    int best_epoch;
    double best_auroc;
    int outputs;            /* the SN_OUT_* the outputs came from (auto resolved) */
    int output_graph;       /* SN_OUTG_* */
    int cell_mode, blocks, block_size;
    int64_t knn_edges, test_edges, train_edges;
    double gflop_per_epoch, model_bytes;
} sn_train_result;

void sn_train_result_free(sn_train_result *r);
/* Bytes the run will need (model in the backend plus host buffers); the
 * model's share in *model_bytes when not NULL. */
double sn_train_plan(const sn_train_data *d, const sn_train_opts *o, int *cell_mode, int *block_size,
                     double *model_bytes);
/* Make the model fit in avail bytes of device memory: when it does not as
 * planned, switch to cell blocks, as large as fit.  Returns 0 when nothing
 * changed, 1 when o was changed, SN_ENOMEM when even small blocks do not
 * fit (the genes are too many). */
int sn_train_fit(const sn_train_data *d, sn_train_opts *o, double avail) SN_WUR;
int sn_train_run(const sn_train_data *d, const sn_train_opts *o, sn_ops *ops, sn_train_result *r) SN_WUR;
/* Floating-point operations of one training step (forward + backward). */
double sn_model_flops(const sn_model_cfg *c, int G, int N, int64_t cell_edges, int64_t ppi_edges);

#endif
