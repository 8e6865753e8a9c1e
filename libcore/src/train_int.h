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
/* The epochs from s->start_epoch on, up to --stop-after of them: each timed,
 * logged and checkpointed alike in both schedules. */
int sn_train_epochs(sn_run *s, sn_train_epoch_fn *one, void *ctx, sn_progress *pg);
int sn_train_edges(sn_run *s);
int sn_train_cells(sn_run *s, int block);
/* Checkpoints (train_ckpt.c): state after `epoch` completed epochs. */
int sn_train_ckpt_save(sn_run *s, int epochs_done);
int sn_train_ckpt_load(sn_run *s);
/* The weights the outputs came from (the snapshot), --save-model. */
int sn_train_save_model(sn_run *s, const char *path);

#endif
