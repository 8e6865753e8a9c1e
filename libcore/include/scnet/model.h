/* The scNET dual-view graph autoencoder (MODEL.md §3–§5, §8), written once
 * against the op table of ops.h.  Include after choosing the real type
 * (real.h): a translation unit sees the float32 or the float64 model.
 *
 * Storage: every cells × genes tensor is row-major N × G (the reference's
 * G × N matrices transposed), so both the cell-graph and the gene-graph
 * convolutions are plain GEMMs over contiguous rows. */
#ifndef SCNET_MODEL_H
#define SCNET_MODEL_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/gstruct.h"
#include "scnet/ops.h"

typedef struct {
    int layers, hidden, embed;    /* 3, 250, 75 */
    double dropout, att_dropout;  /* 0.25, 0.25 (gene attention) */
    double slope, temp;           /* leaky-ReLU slope 0.01, cell attention temperature 3 */
    double lr, wd, beta1, beta2, adam_eps;
    double w_ppi, w_mse, w_corr;  /* loss weights 1, 1, 1 */
    double log_eps, out_eps;      /* 1e-15, 1e-15 */
    uint64_t seed;
} sn_model_cfg;

static inline void sn_model_cfg_default(sn_model_cfg *c)
{
    *c = (sn_model_cfg){.layers = 3, .hidden = 250, .embed = 75, .dropout = 0.25, .att_dropout = 0.25,
                        .slope = 0.01, .temp = 3, .lr = 1e-4, .wd = 1e-5, .beta1 = 0.9, .beta2 = 0.999,
                        .adam_eps = 1e-8, .w_ppi = 1, .w_mse = 1, .w_corr = 1, .log_eps = 1e-15,
                        .out_eps = 1e-15, .seed = 42};
}

typedef struct {
    char name[48];
    int rows, cols;
    int big; /* a G×G or N×N weight: its gradient is applied inside backward */
    real *w, *m, *v, *g;
} sn_param;

/* A graph's operators in backend memory (gstruct.h). */
typedef struct {
    sn_dcsr mean, mean_t, gcn, gcn_t, att, att_t;
    int32_t *ri, *ci, *perm; /* per edge in att order: target, source; att_t → att */
    int32_t n, ne, cap;
} sn_dgraph;

typedef struct {
    double ppi, mse, corr, total;
} sn_losses;

typedef struct {
    sn_model_cfg cfg;
    sn_ops *o;
    int G, N, L;
    int fused;   /* big weights updated inside backward (training); 0 keeps every gradient */
    int train;   /* dropout flag of the last forward, which backward replays */
    int nparam;
    sn_param *p;
    sn_dgraph ppi, cells;
    int32_t nP;                   /* directed training PPI edges (loss positives) */
    int32_t *P_ri, *P_ci;         /* backend copies of the positives */
    int32_t *Q_ri, *Q_ci;         /* PPI-loss negatives of the current step */
    int32_t *R_ri, *R_ci;         /* correlation-loss negatives */
    real *hvg;                    /* G: 1 for highly variable genes */
    int nhvg;
    real *H[8], *U[8];            /* H[0] = standardised input, N × G */
    real *S[3], *dH;              /* N × G scratch */
    real *Qg, *Tg, *QKVg, *dQKVg, *dTg;
    real *sg, *ag, *adg, *dag, *dsg, *eg;
    real *Qc, *Tc, *QKVc, *dQKVc, *dTc;
    real *sc, *ac, *dac, *dsc, *ec, *cstats;
    real *D1, *D2, *dD1, *dD2;
    real *ystats, *norms, *cdiag;
    real *xP, *xQ, *gP, *gQ, *rP, *rQ, *gcP, *gcQ;
    real *loss;                   /* 3: ppi, mse, corr */
    int64_t adam_t;               /* Adam steps taken */
    void **bufs;                  /* every backend allocation, for sn_model_free */
    int nbufs, cap_bufs;
} sn_model;

/* Parameter indices. */
enum {
    SN_P_CELL_W1, SN_P_CELL_B, SN_P_CELL_W2, SN_P_GENE_W1, SN_P_GENE_B, SN_P_GENE_W2, SN_P_PER_LAYER
};
/* After the mutual layers (index base = SN_P_PER_LAYER·layers). */
enum {
    SN_P_GGCN_W, SN_P_GGCN_B, SN_P_GATT_W, SN_P_GATT_B, SN_P_CGCN_W, SN_P_CGCN_B, SN_P_CATT_W, SN_P_CATT_B,
    SN_P_DEC1_W, SN_P_DEC1_B, SN_P_DEC2_W, SN_P_DEC2_B, SN_P_DEC3_W, SN_P_DEC3_B, SN_P_TAIL
};

/* Bytes the model will allocate in the backend. */
double SN_R(sn_model_bytes)(const sn_model_cfg *c, int G, int N, int64_t max_cell_edges, int64_t ppi_edges);
/* Values in all the parameters' weights (no moments, no gradients). */
double SN_R(sn_model_weight_count)(const sn_model_cfg *c, int G, int N);
/* Build the model for G genes and N cells per step.  ppi: the training PPI
 * (both directions); hvg: G flags; max_cell_edges bounds every cell graph. */
int SN_R(sn_model_init)(sn_model *m, sn_ops *o, const sn_model_cfg *cfg, int G, int N, int64_t max_cell_edges,
                        const sn_gstruct *ppi, const uint8_t *hvg) SN_WUR;
void SN_R(sn_model_free)(sn_model *m);
/* Keep every gradient (allocating those of the big weights) instead of
 * applying the big ones inside backward: for gradient checks. */
int SN_R(sn_model_unfuse)(sn_model *m) SN_WUR;
/* Initialise the parameters as the reference does (uniform ±1/√fan_in for
 * linear maps, Glorot for GCN weights, zero GCN biases), from the seed. */
void SN_R(sn_model_reset)(sn_model *m);
/* Index of the parameter called name (sn_param.name), or -1. */
int SN_R(sn_model_param_find)(const sn_model *m, const char *name);
/* A parameter's values, rows × cols row-major, from or to host memory. */
void SN_R(sn_model_param_set)(sn_model *m, int k, const real *host);
void SN_R(sn_model_param_get)(const sn_model *m, int k, real *host);
/* Standardised input, N × G row-major (host memory). */
void SN_R(sn_model_set_input)(sn_model *m, const real *Xt);
int SN_R(sn_model_set_cells)(sn_model *m, const sn_gstruct *cells) SN_WUR;
/* Negative pairs for the PPI loss (q) and the correlation loss (r), nP
 * each, host memory. */
void SN_R(sn_model_set_negatives)(sn_model *m, const int32_t *q_ri, const int32_t *q_ci, const int32_t *r_ri,
                                  const int32_t *r_ci);
/* Forward pass; train = dropout on.  step keys the dropout masks. */
void SN_R(sn_model_forward)(sn_model *m, int train, uint64_t step);
/* Losses of the last forward (needs negatives). */
void SN_R(sn_model_loss)(sn_model *m, sn_losses *out);
/* Backward pass after sn_model_loss: accumulates gradients (fused = 0) or
 * also updates the big weights (fused = 1; call sn_model_adam after).
 * Dropout is replayed as the last forward applied it (none after train = 0). */
void SN_R(sn_model_backward)(sn_model *m, uint64_t step);
void SN_R(sn_model_zero_grad)(sn_model *m);
/* Adam step on the parameters whose gradients were accumulated. */
void SN_R(sn_model_adam)(sn_model *m);
/* One training step: zero grads, forward, loss, backward, Adam. */
void SN_R(sn_model_step)(sn_model *m, uint64_t step, sn_losses *out);

/* Views of the outputs of the last forward (backend memory, row strides). */
static inline const real *sn_model_zg(const sn_model *m, int *ld) { *ld = 4 * m->cfg.embed; return m->QKVg + 3 * m->cfg.embed; }
static inline const real *sn_model_zc(const sn_model *m, int *ld) { *ld = 4 * m->cfg.embed; return m->QKVc + 3 * m->cfg.embed; }
/* Reconstruction Y (N × G) is in S[0] after forward, before sn_model_loss. */
static inline const real *sn_model_y(const sn_model *m) { return m->S[0]; }

#endif
