/* Internal to the training schedule (train*.c). */
#ifndef SCNET_TRAIN_INT_H
#define SCNET_TRAIN_INT_H

#include "scnet/gstruct.h"
#include "scnet/log.h"
#include "scnet/schedule.h"
#include "scnet/train.h"

typedef struct {
    const sn_train_data *d;
    const sn_train_opts *opt;
    sn_ops *ops;
    sn_train_result *res;
    sn_model m;
    int model_ready;
    sn_gstruct ppi;
    sn_edges32 train, test_pos, test_neg;
    sn_edges32 K;        /* current cell graph (edge mode) */
    int64_t *keys;       /* sorted training-edge keys, for negatives */
    int32_t *neg;        /* 4 × nP */
    float *zg_tmp;
    float *xs;           /* standardised input */
    uint64_t step;       /* training steps taken (keys dropout and negatives) */
    int start_epoch;     /* > 0 when resumed */
    int keep_weights;    /* keep the outputs' weights in snap (--save-model, --checkpoint) */
    float *snap;         /* the weights the outputs come from, every parameter's in turn */
    int snap_epoch;
    sn_edges32 fin_K;    /* edge mode: the last epoch's cell graph (before a pruning it installed) */
    sn_edges32 fin_cand; /* and its pruned candidate: what the end of the run makes its outputs from */
} sn_run;

void sn_train_standardise(const float *X, int G, int64_t r0, int n, float *out);
void sn_train_fetch(sn_run *s, float *zg, float *zc, float *y, int64_t row0);
int sn_train_step(sn_run *s, const sn_gstruct *cells, sn_losses *l);
int sn_train_eval_forward(sn_run *s, const sn_gstruct *cells, double *auroc, double *ap);
int sn_train_record_eval(sn_run *s, int epoch, double auroc, double ap);
int sn_train_model_init(sn_run *s, int N, int64_t max_edges);
/* The outputs were just made from the current weights: keep those. */
int sn_train_snapshot(sn_run *s, int epoch);
/* One epoch of a schedule (edge batches or cell blocks); ctx is the schedule's. */
typedef int sn_train_epoch_fn(sn_run *s, int epoch, void *ctx, sn_progress *pg);
/* The end of a run that trained its last epoch (or resumed after it):
 * that epoch's evaluation unless the schedule made one, and the outputs
 * when they are the last epoch's or it is the best. */
typedef int sn_train_finish_fn(sn_run *s, void *ctx);
/* rc's message, prefixed with the input's name when the options give one. */
int sn_train_named(const sn_train_opts *o, int rc);
/* Evaluations every --eval-every epochs (those a longer run makes too). */
int sn_train_scheduled_eval(const sn_train_opts *o, int epoch);
/* With -vv: one line per training step (mini-batch of cell-graph edges,
 * or block of cells), its loss terms and time since t0. */
void sn_train_debug_step(int epoch, int step, int nsteps, const char *unit, int64_t size, const sn_losses *l,
                         double t0);
/* The epochs from s->start_epoch on, up to --stop-after of them: each timed,
 * logged and checkpointed alike in both schedules; then, once the last is
 * done and checkpointed, finish. */
int sn_train_epochs(sn_run *s, sn_train_epoch_fn *one, sn_train_finish_fn *finish, void *ctx, sn_progress *pg);
int sn_train_edges(sn_run *s);
int sn_train_cells(sn_run *s, int block);
/* Checkpoints (train_ckpt.c): state after `epoch` completed epochs. */
int sn_train_ckpt_save(sn_run *s, int epochs_done);
int sn_train_ckpt_load(sn_run *s);
/* The weights the outputs came from (the snapshot), --save-model. */
int sn_train_save_model(sn_run *s, const char *path);

#endif
