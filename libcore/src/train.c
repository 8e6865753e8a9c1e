/* The training schedule (MODEL.md §5) around the float32 model. */
#include "scnet/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/file.h"
#include "scnet/gstruct.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/metrics.h"
#include "scnet/schedule.h"
#include "train_int.h"

void sn_train_opts_default(sn_train_opts *o)
{
    memset(o, 0, sizeof *o);
    sn_model_cfg_default(&o->model);
    o->epochs = 150;
    o->batches = 5;
    o->eval_every = 10;
    o->prune_every = 30;
    o->protect = 10;
    o->prune_cap = 0.2;
    o->prune_pct = 10;
    o->test_frac = 0.2;
    o->cell_mode = -1;
    o->cell_threshold = 10000;
    o->block_max = 4000;
    o->outputs = SN_OUT_AUTO;
}

void sn_train_result_free(sn_train_result *r)
{
    free(r->zg), free(r->zc), free(r->y);
    free(r->att_src), free(r->att_dst), free(r->att);
    free(r->pr_src), free(r->pr_dst);
    free(r->eval_epoch), free(r->auroc), free(r->ap);
    free(r->loss_ppi), free(r->loss_mse), free(r->loss_corr), free(r->epoch_sec);
    memset(r, 0, sizeof *r);
}

double sn_model_flops(const sn_model_cfg *c, int G, int N, int64_t cell_edges, int64_t ppi_edges)
{
    double g = G, n = N, h = c->hidden, e = c->embed, L = c->layers;
    double mutual = L * (4 * n * g * g + 4 * n * n * g) /* forward */
                    + L * (8 * n * n * g + 4 * n * g * g) + (L - 1) * 4 * n * g * g; /* backward */
    double enc = 3 * (2 * g * n * h + 2 * g * 4 * e * h) + 3 * (2 * n * g * h + 2 * n * 4 * e * h);
    double dec = 3 * (2 * n * h * e + 2 * n * h * h + 2 * n * g * h);
    double pairs = 2.0 * ppi_edges * (2 * n + 4 * n) + 6.0 * (double)cell_edges * e;
    return mutual + enc + dec + pairs;
}

/* ------------------------------------------------------------ data prep */

/* Per-gene z-score over rows [r0, r0+n) with the unbiased std + 1e-5
 * (MODEL.md §1.6). */
void sn_train_standardise(const float *X, int G, int64_t r0, int n, float *out)
{
#pragma omp parallel for schedule(static)
    for (int g = 0; g < G; g++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++)
            s += X[(r0 + i) * G + g];
        double m = s / n;
        for (int i = 0; i < n; i++) {
            double d = X[(r0 + i) * G + g] - m;
            ss += d * d;
        }
        double sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
        for (int i = 0; i < n; i++)
            out[(int64_t)i * G + g] = (float)((X[(r0 + i) * G + g] - m) / (sd + 1e-5));
    }
}

static int grow_log(sn_train_result *r, int epochs, int evals)
{
    r->loss_ppi = sn_calloc((size_t)epochs + 1, sizeof(double), "the training log");
    r->loss_mse = sn_calloc((size_t)epochs + 1, sizeof(double), "the training log");
    r->loss_corr = sn_calloc((size_t)epochs + 1, sizeof(double), "the training log");
    r->epoch_sec = sn_calloc((size_t)epochs + 1, sizeof(double), "the training log");
    r->eval_epoch = sn_calloc((size_t)evals + 1, sizeof(int), "the training log");
    r->auroc = sn_calloc((size_t)evals + 1, sizeof(double), "the training log");
    r->ap = sn_calloc((size_t)evals + 1, sizeof(double), "the training log");
    if (!r->loss_ppi || !r->loss_mse || !r->loss_corr || !r->epoch_sec || !r->eval_epoch || !r->auroc || !r->ap)
        return SN_ENOMEM;
    return SN_OK;
}

/* ------------------------------------------------------------ evaluation */

/* AUROC and AP of σ(z_i·z_j) for test positives vs negatives. */
static void score_test(const sn_run *s, const float *zg, int ld, double *auroc, double *ap)
{
    int64_t np = s->test_pos.n, nn = s->test_neg.n, n = np + nn;
    double *score = malloc((size_t)(n ? n : 1) * sizeof *score);
    uint8_t *lab = malloc((size_t)(n ? n : 1));
    if (!score || !lab) {
        *auroc = *ap = NAN;
        free(score), free(lab);
        return;
    }
    for (int64_t t = 0; t < n; t++) {
        const sn_edges32 *e = t < np ? &s->test_pos : &s->test_neg;
        int64_t k = t < np ? t : t - np;
        const float *a = zg + (int64_t)e->src[k] * ld, *b = zg + (int64_t)e->dst[k] * ld;
        double d = 0;
        for (int c = 0; c < s->m.cfg.embed; c++)
            d += (double)a[c] * b[c];
        score[t] = 1 / (1 + exp(-d));
        lab[t] = t < np;
    }
    *auroc = sn_auroc(score, lab, n);
    *ap = sn_average_precision(score, lab, n);
    free(score);
    free(lab);
}

/* Rows of a strided backend matrix into a dense host array, in one copy. */
static void fetch_rows(sn_ops *o, float *dst, const float *src, int rows, int ld, int cols)
{
    /* the last row ends at its last column, not at the stride */
    size_t n = rows > 0 ? (size_t)(rows - 1) * ld + (size_t)cols : 0;
    float *tmp = malloc(n * sizeof *tmp + 1);
    if (!tmp) {
        for (int i = 0; i < rows; i++)
            o->download(o, dst + (int64_t)i * cols, src + (int64_t)i * ld, (size_t)cols * sizeof *dst);
        return;
    }
    o->download(o, tmp, src, n * sizeof *tmp);
    for (int i = 0; i < rows; i++)
        memcpy(dst + (int64_t)i * cols, tmp + (int64_t)i * ld, (size_t)cols * sizeof *dst);
    free(tmp);
}

/* Download Z_g (and Z_c, Y when asked) of the last forward. */
void sn_train_fetch(sn_run *s, float *zg, float *zc, float *y, int64_t row0)
{
    sn_model *m = &s->m;
    sn_ops *o = m->o;
    int e = m->cfg.embed, ld;
    const float *src = sn_model_zg(m, &ld);
    if (zg)
        fetch_rows(o, zg, src, m->G, ld, e);
    src = sn_model_zc(m, &ld);
    if (zc)
        fetch_rows(o, zc + row0 * e, src, m->N, ld, e);
    if (y)
        o->download(o, y + row0 * m->G, sn_model_y(m), (size_t)m->N * m->G * sizeof(float));
}

/* One training step on the current cell graph. */
int sn_train_step(sn_run *s, const sn_gstruct *cells, sn_losses *l)
{
    sn_model *m = &s->m;
    SN_TRY(sn_model_set_cells_f32(m, cells));
    uint64_t step = ++s->step;
    int64_t nP = m->nP;
    sn_negatives(m->G, s->keys, s->train.n, nP, s->opt->model.seed, 2 * step + 100, s->neg, s->neg + nP);
    sn_negatives(m->G, s->keys, s->train.n, nP, s->opt->model.seed, 2 * step + 101, s->neg + 2 * nP,
                 s->neg + 3 * nP);
    sn_model_set_negatives_f32(m, s->neg, s->neg + nP, s->neg + 2 * nP, s->neg + 3 * nP);
    sn_model_step_f32(m, step, l);
    int rc = m->o->sync(m->o);
    if (rc == SN_OK && (!isfinite(l->total)))
        rc = sn_err(SN_EINVAL, "training diverged at step %llu (loss is %g); try a lower --lr",
                    (unsigned long long)step, l->total);
    if (rc == SN_OK && sn_file_interrupted())
        rc = sn_err(SN_EINTR, "interrupted");
    return rc;
}

int sn_train_eval_forward(sn_run *s, const sn_gstruct *cells, double *auroc, double *ap)
{
    SN_TRY(sn_model_set_cells_f32(&s->m, cells));
    sn_model_forward_f32(&s->m, 0, 0);
    sn_train_fetch(s, s->zg_tmp, NULL, NULL, 0);
    score_test(s, s->zg_tmp, s->m.cfg.embed, auroc, ap);
    return s->m.o->sync(s->m.o);
}

/* Record an evaluation; returns 1 when it is the best so far. */
int sn_train_record_eval(sn_run *s, int epoch, double auroc, double ap)
{
    sn_train_result *r = s->res;
    r->eval_epoch[r->n_eval] = epoch;
    r->auroc[r->n_eval] = auroc;
    r->ap[r->n_eval++] = ap;
    sn_info("epoch %d: held-out PPI AUROC %.4f, AP %.4f", epoch, auroc, ap);
    if (r->best_epoch >= 0 && !(auroc > r->best_auroc))
        return 0;
    r->best_epoch = epoch;
    r->best_auroc = auroc;
    return 1;
}

/* The weights move on after the outputs are made, so --save-model keeps
 * a host copy of the ones they came from, written when the run succeeds
 * (with the outputs, never before). */
int sn_train_snapshot(sn_run *s, int epoch)
{
    sn_model *m = &s->m;
    if (!s->keep_weights)
        return SN_OK;
    double n = sn_model_weight_count_f32(&m->cfg, m->G, m->N);
    if (!s->snap && !(s->snap = sn_malloc(sn_mul_size((size_t)n, sizeof(float)), "the outputs' weights")))
        return SN_ENOMEM;
    float *w = s->snap;
    for (int k = 0; k < m->nparam; k++) {
        sn_model_param_get_f32(m, k, w);
        w += (int64_t)m->p[k].rows * m->p[k].cols;
    }
    s->snap_epoch = epoch;
    return m->o->sync(m->o);
}

/* --------------------------------------------------------------- set-up */

int sn_train_epochs(sn_run *s, sn_train_epoch_fn *one, sn_train_finish_fn *finish, void *ctx, sn_progress *pg)
{
    const sn_train_opts *o = s->opt;
    sn_train_result *r = s->res;
    int rc = SN_OK, saved = -1;
    for (int epoch = s->start_epoch; rc == SN_OK && epoch < o->epochs; epoch++) {
        if (o->stop_after > 0 && epoch - s->start_epoch >= o->stop_after)
            break;
        double t0 = sn_time();
        rc = one(s, epoch, ctx, pg);
        r->epoch_sec[epoch] = sn_time() - t0;
        r->n_epochs = epoch + 1;
        sn_info("epoch %d: loss %.5f (ppi %.5f, mse %.5f, corr %.5f), %.2f s", epoch,
                r->loss_ppi[epoch] + r->loss_mse[epoch] + r->loss_corr[epoch], r->loss_ppi[epoch],
                r->loss_mse[epoch], r->loss_corr[epoch], r->epoch_sec[epoch]);
        if (rc == SN_OK && o->checkpoint && o->checkpoint_every > 0 && (epoch + 1) % o->checkpoint_every == 0) {
            rc = sn_train_ckpt_save(s, epoch + 1);
            saved = epoch + 1;
        }
    }
    /* the last epoch done is always kept, stopped or finished, whatever
     * --checkpoint-every */
    if (rc == SN_OK && o->checkpoint && saved != r->n_epochs && r->n_epochs > s->start_epoch)
        rc = sn_train_ckpt_save(s, r->n_epochs);
    /* After the checkpoint, which so holds what a longer run continues
     * from: an evaluation made only because this run ends there, or the
     * outputs it made, would not be in the uninterrupted longer run. */
    if (rc == SN_OK && r->n_epochs == o->epochs)
        rc = finish(s, ctx);
    return rc;
}

void sn_train_debug_step(int epoch, int step, int nsteps, const char *unit, int64_t size, const sn_losses *l,
                         double t0)
{
    if (sn_log_level() >= SN_LOG_DEBUG)
        sn_debug("epoch %d step %d/%d (%lld %s): loss %.5f (ppi %.5f, mse %.5f, corr %.5f), %.3f s", epoch, step + 1,
                 nsteps, (long long)size, unit, l->ppi + l->mse + l->corr, l->ppi, l->mse, l->corr, sn_time() - t0);
}

int sn_train_named(const sn_train_opts *o, int rc)
{
    return o->source ? sn_err_prefix(rc, "%s: ", o->source) : rc;
}

int sn_train_scheduled_eval(const sn_train_opts *o, int epoch)
{
    return o->eval_every > 0 && epoch % o->eval_every == 0;
}

/* With no PPI edge held out every AUROC is NaN: best would keep epoch 0
 * and the log would hold nothing to read, so the split is refused (the
 * split holds out floor(test_frac n) edges). */
static int check_test_frac(const sn_train_data *d, const sn_train_opts *o)
{
    if ((int64_t)floor(o->test_frac * (double)d->n_ppi) >= 1)
        return SN_OK;
    double least = ceil(1000.0 / (double)d->n_ppi) / 1000;
    if (floor(least * (double)d->n_ppi) < 1)
        least += 0.001;
    return sn_train_named(o, sn_err(SN_EINVAL, "--test-frac %g holds out none of the %lld PPI edges among the "
                                               "modelled genes (the evaluation needs at least one: give --test-frac "
                                               "%g or more)",
                                    o->test_frac, (long long)d->n_ppi, least));
}

/* The held-out negatives are gene pairs the PPI does not join: a network
 * joining (nearly) every pair leaves too few to draw. */
static int check_non_edges(const sn_train_data *d, const sn_train_opts *o)
{
    double pairs = (double)d->G * (d->G - 1) / 2, nt = floor(o->test_frac * (double)d->n_ppi);
    if ((double)d->n_ppi + nt <= pairs)
        return SN_OK;
    return sn_train_named(o, sn_err(SN_EINVAL, "the PPI joins %lld of the %.0f pairs of the %d modelled genes, "
                                               "leaving fewer unjoined pairs than the %.0f held-out negatives "
                                               "need (a complete network has nothing to predict)",
                                    (long long)d->n_ppi, pairs, d->G, nt));
}

static int setup(sn_run *s, const sn_train_data *d, const sn_train_opts *opt, sn_ops *ops, sn_train_result *r)
{
    memset(s, 0, sizeof *s);
    s->d = d;
    s->opt = opt;
    s->ops = ops;
    s->res = r;
    /* a checkpoint carries them to a resumed run that saves the model */
    s->keep_weights = opt->save_model || opt->checkpoint;
    s->snap_epoch = -1;
    memset(r, 0, sizeof *r);
    r->best_epoch = -1;
    r->G = d->G;
    r->N = d->N;
    r->embed = opt->model.embed;
    if (d->n_ppi < 10)
        return sn_train_named(opt, sn_err(SN_EINVAL, "the PPI has only %lld edges among the genes; nothing to "
                                                     "learn from", (long long)d->n_ppi));
    SN_TRY(check_test_frac(d, opt));
    SN_TRY(check_non_edges(d, opt));
    SN_TRY(sn_ppi_split(d->G, d->n_ppi, d->ppi_a, d->ppi_b, opt->test_frac, opt->model.seed, &s->train,
                        &s->test_pos, &s->test_neg));
    if (!(s->keys = sn_edge_keys(&s->train, d->G)))
        return SN_ENOMEM;
    r->test_edges = s->test_pos.n;
    r->outputs = opt->outputs;
    r->output_graph = opt->output_graph;
    if (r->outputs == SN_OUT_AUTO)
        r->outputs = r->test_edges >= SN_BEST_MIN_TEST ? SN_OUT_BEST : SN_OUT_LAST;
    if (opt->outputs == SN_OUT_AUTO && r->outputs == SN_OUT_LAST)
        sn_note("only %lld held-out PPI edges (fewer than %d), too few to choose the best epoch by AUROC: "
                "the outputs are the last epoch's (--outputs best chooses anyway)",
                (long long)r->test_edges, SN_BEST_MIN_TEST);
    r->train_edges = s->train.n / 2;
    int evals = opt->epochs / (opt->eval_every > 0 ? opt->eval_every : 1) + 2;
    SN_TRY(grow_log(r, opt->epochs, evals));
    size_t e = (size_t)opt->model.embed;
    s->neg = sn_malloc(sn_mul_size(4 * (size_t)s->train.n + 4, sizeof(int32_t)), "negative pairs");
    s->zg_tmp = sn_malloc(sn_mul_size((size_t)d->G, e * sizeof(float)), "gene embeddings");
    r->zg = sn_calloc((size_t)d->G, e * sizeof(float), "gene embeddings");
    r->zc = sn_calloc((size_t)d->N, e * sizeof(float), "cell embeddings");
    r->y = sn_malloc(sn_mul_size((size_t)d->N, (size_t)d->G * sizeof(float)), "the reconstruction");
    if (!s->neg || !s->zg_tmp || !r->zg || !r->zc || !r->y)
        return SN_ENOMEM;
    return sn_gstruct_build(d->G, s->train.n, s->train.src, s->train.dst, &s->ppi);
}

static void teardown(sn_run *s)
{
    if (s->model_ready)
        sn_model_free_f32(&s->m);
    sn_gstruct_free(&s->ppi);
    sn_edges32_free(&s->train);
    sn_edges32_free(&s->test_pos);
    sn_edges32_free(&s->test_neg);
    sn_edges32_free(&s->K);
    sn_edges32_free(&s->fin_K);
    sn_edges32_free(&s->fin_cand);
    free(s->keys);
    free(s->neg);
    free(s->zg_tmp);
    free(s->xs);
    free(s->snap);
}

int sn_train_model_init(sn_run *s, int N, int64_t max_edges)
{
    SN_TRY(sn_model_init_f32(&s->m, s->ops, &s->opt->model, s->d->G, N, max_edges, &s->ppi, s->d->hvg));
    s->model_ready = 1;
    s->res->model_bytes = (double)s->ops->bytes_peak;
    return SN_OK;
}

int sn_train_run(const sn_train_data *d, const sn_train_opts *opt, sn_ops *ops, sn_train_result *r)
{
    sn_run s;
    int cell_mode, block;
    sn_train_plan(d, opt, &cell_mode, &block, NULL);
    int rc = setup(&s, d, opt, ops, r);
    if (rc == SN_OK)
        rc = cell_mode ? sn_train_cells(&s, block) : sn_train_edges(&s);
    /* only a finished run has outputs (a stopped one resumes for them) */
    if (rc == SN_OK && opt->save_model && r->n_epochs == opt->epochs)
        rc = sn_train_save_model(&s, opt->save_model);
    teardown(&s);
    if (rc < 0)
        sn_train_result_free(r);
    return rc;
}

double sn_train_plan(const sn_train_data *d, const sn_train_opts *o, int *cell_mode, int *block_size,
                     double *model_bytes)
{
    int cm = o->cell_mode < 0 ? d->N > o->cell_threshold : o->cell_mode;
    int N = d->N, B = o->batches > 0 ? o->batches : 1;
    if (cm) {
        int bc = N / B;
        if (bc > o->block_max) {
            B = N / o->block_max;
            bc = N / B;
        }
        N = bc;
    }
    *cell_mode = cm;
    *block_size = N;
    int64_t ppi = 2 * (d->n_ppi - (int64_t)floor(o->test_frac * (double)d->n_ppi));
    int64_t cells = 2 * (int64_t)N * d->k + 1;
    double model = sn_model_bytes_f32(&o->model, d->G, N, cells, ppi);
    /* the input, its standardised copy and the reconstruction it becomes;
     * a block's working rows; the edge lists */
    double host = (double)d->N * d->G * 4 * 3 + (double)N * d->G * 4 + 64.0 * (ppi + cells);
    if (o->save_model || o->checkpoint) /* the outputs' weights (sn_train_snapshot) */
        host += 4 * sn_model_weight_count_f32(&o->model, d->G, N);
    if (model_bytes)
        *model_bytes = model;
    return model + host;
}

/* Smaller blocks than this leave too few kNN edges inside a block. */
#define SN_BLOCK_MIN 64

int sn_train_fit(const sn_train_data *d, sn_train_opts *o, double avail)
{
    int cm, block;
    double model;
    sn_train_plan(d, o, &cm, &block, &model);
    if (model <= avail)
        return 0;
    /* The model's cells × cells weights shrink with the block, as the
     * square; its genes × genes weights do not, hence the floor. */
    sn_train_opts t = *o;
    t.cell_mode = 1;
    for (t.block_max = block; t.block_max >= SN_BLOCK_MIN; t.block_max = t.block_max * 7 / 8) {
        sn_train_plan(d, &t, &cm, &block, &model);
        if (model <= avail) {
            o->cell_mode = 1;
            o->block_max = t.block_max;
            return 1;
        }
    }
    return sn_err(SN_ENOMEM, "the model of %d genes needs more than %.2f GiB of device memory even in cell blocks "
                             "of %d; use --max-genes N (fewer genes) or --device cpu",
                  d->G, avail / (1 << 30), SN_BLOCK_MIN);
}
