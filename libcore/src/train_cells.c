/* Cell-block training for large data (MODEL.md §5.6): blocks of equal size
 * whose union covers every cell (the last block overlaps its neighbour);
 * gene-side weights are block × block. */
#include <stdlib.h>
#include <string.h>

#include "scnet/log.h"
#include "scnet/mem.h"
#include "train_int.h"

typedef struct {
    int nb, size;
    int64_t *start;
    sn_gstruct *g;
    sn_edges32 *e; /* block edges in block-local indices */
} blocks;

static void blocks_free(blocks *b)
{
    for (int i = 0; b->g && i < b->nb; i++) {
        sn_gstruct_free(&b->g[i]);
        sn_edges32_free(&b->e[i]);
    }
    free(b->g);
    free(b->e);
    free(b->start);
}

/* Directed kNN restricted to the block, stored i → j for j ∈ kNN(i), so a
 * cell aggregates from the block cells that list it. */
static int block_graph(const sn_train_data *d, int64_t s0, int n, sn_edges32 *e, sn_gstruct *g)
{
    SN_TRY(sn_edges32_alloc(e, (int64_t)n * d->k));
    int64_t m = 0;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < d->k; t++) {
            int64_t j = d->knn[(s0 + i) * d->k + t];
            if (j >= s0 && j < s0 + n && j != s0 + i) {
                e->src[m] = i;
                e->dst[m++] = (int32_t)(j - s0);
            }
        }
    e->n = m;
    return sn_gstruct_build(n, m, e->src, e->dst, g);
}

static int make_blocks(const sn_train_data *d, int size, blocks *b)
{
    memset(b, 0, sizeof *b);
    int B = d->N / size, extra = d->N - B * size > 0;
    b->nb = B + extra;
    b->size = size;
    b->start = sn_malloc((size_t)b->nb * sizeof *b->start, "cell blocks");
    b->g = sn_calloc((size_t)b->nb, sizeof *b->g, "cell blocks");
    b->e = sn_calloc((size_t)b->nb, sizeof *b->e, "cell blocks");
    if (!b->start || !b->g || !b->e)
        return SN_ENOMEM;
    for (int i = 0; i < b->nb; i++) {
        b->start[i] = i < B ? (int64_t)i * size : d->N - size;
        SN_TRY(block_graph(d, b->start[i], size, &b->e[i], &b->g[i]));
    }
    return SN_OK;
}

/* An edge of block i whose ends both lie in block i + 1 (the overlap of
 * the last block) belongs to block i + 1, so that each edge is output
 * once, from the last block that holds it, as are the cells. */
static int owns(const blocks *b, int i, int64_t src, int64_t dst)
{
    return i + 1 >= b->nb || src < b->start[i + 1] || dst < b->start[i + 1];
}

static int64_t max_edges(const blocks *b)
{
    int64_t m = 1;
    for (int i = 0; i < b->nb; i++)
        m = b->e[i].n > m ? b->e[i].n : m;
    return m;
}

static void set_block_input(sn_run *s, const blocks *b, int i)
{
    sn_model_set_input_f32(&s->m, s->xs + b->start[i] * s->d->G);
}

/* Outputs: every block forward in evaluation mode; Z_g is the mean over
 * blocks, cells take their rows from the last block that holds them. */
static int block_outputs(sn_run *s, const blocks *b)
{
    sn_train_result *r = s->res;
    int G = s->d->G, e = s->m.cfg.embed;
    int64_t tot = 0;
    for (int i = 0; i < b->nb; i++)
        tot += b->e[i].n;
    free(r->att_src), free(r->att_dst), free(r->att);
    r->att_src = sn_malloc((size_t)(tot + 1) * sizeof(int32_t), "attention");
    r->att_dst = sn_malloc((size_t)(tot + 1) * sizeof(int32_t), "attention");
    r->att = sn_malloc((size_t)(tot + 1) * sizeof(float), "attention");
    float *a = sn_malloc((size_t)(max_edges(b) + 1) * sizeof(float), "attention");
    if (!r->att_src || !r->att_dst || !r->att || !a) {
        free(a);
        return SN_ENOMEM;
    }
    memset(r->zg, 0, (size_t)G * e * sizeof(float));
    int64_t m = 0;
    for (int i = 0; i < b->nb; i++) {
        set_block_input(s, b, i);
        SN_TRY(sn_model_set_cells_f32(&s->m, &b->g[i]));
        sn_model_forward_f32(&s->m, 0, 0);
        sn_train_fetch(s, s->zg_tmp, r->zc, r->y, b->start[i]);
        for (int64_t k = 0; k < (int64_t)G * e; k++)
            r->zg[k] += s->zg_tmp[k] / (float)b->nb;
        s->m.o->download(s->m.o, a, s->m.ac, (size_t)b->g[i].ne * sizeof(float));
        for (int32_t k = 0; k < b->g[i].ne; k++) {
            int64_t src = b->start[i] + b->g[i].att_ci[k], dst = b->start[i] + b->g[i].att_ri[k];
            if (owns(b, i, src, dst)) {
                r->att_src[m] = (int32_t)src;
                r->att_dst[m] = (int32_t)dst;
                r->att[m++] = a[k];
            }
        }
    }
    free(a);
    r->n_att = m;
    /* no pruning in this mode: the graph used is the output graph */
    free(r->pr_src), free(r->pr_dst);
    r->pr_src = sn_malloc((size_t)(m + 1) * sizeof(int32_t), "the output graph");
    r->pr_dst = sn_malloc((size_t)(m + 1) * sizeof(int32_t), "the output graph");
    if (!r->pr_src || !r->pr_dst)
        return SN_ENOMEM;
    memcpy(r->pr_src, r->att_src, (size_t)m * sizeof(int32_t));
    memcpy(r->pr_dst, r->att_dst, (size_t)m * sizeof(int32_t));
    r->n_pruned = m;
    return SN_OK;
}

/* Evaluate on the last block; nonzero in *best when the best so far. */
static int eval_blocks(sn_run *s, const blocks *b, int epoch, int *best)
{
    double auroc, ap;
    set_block_input(s, b, b->nb - 1);
    SN_TRY(sn_train_eval_forward(s, &b->g[b->nb - 1], &auroc, &ap));
    *best = sn_train_record_eval(s, epoch, auroc, ap);
    return SN_OK;
}

static int outputs_now(sn_run *s, const blocks *b, int epoch)
{
    SN_TRY(block_outputs(s, b));
    return sn_train_snapshot(s, epoch);
}

static int epoch_cells(sn_run *s, int epoch, void *ctx, sn_progress *pg)
{
    const blocks *b = ctx;
    sn_train_result *r = s->res;
    for (int i = 0; i < b->nb; i++) {
        sn_losses l;
        double t0 = sn_time();
        set_block_input(s, b, i);
        SN_TRY(sn_train_step(s, &b->g[i], &l));
        sn_train_debug_step(epoch, i, b->nb, "cells", b->size, &l, t0);
        r->loss_ppi[epoch] += l.ppi / b->nb;
        r->loss_mse[epoch] += l.mse / b->nb;
        r->loss_corr[epoch] += l.corr / b->nb;
        sn_progress_update(pg, (int64_t)epoch * b->nb + i + 1);
    }
    int best, out = r->outputs;
    if (!sn_train_scheduled_eval(s->opt, epoch))
        return SN_OK;
    SN_TRY(eval_blocks(s, b, epoch, &best));
    return out == SN_OUT_REFERENCE || (out == SN_OUT_BEST && best) ? outputs_now(s, b, epoch) : SN_OK;
}

/* sn_train_finish_fn */
static int finish_cells(sn_run *s, void *ctx)
{
    const blocks *b = ctx;
    const sn_train_opts *o = s->opt;
    int epoch = o->epochs - 1, out = s->res->outputs, fresh = out == SN_OUT_LAST, best;
    if (o->eval_every > 0 && !sn_train_scheduled_eval(o, epoch)) {
        SN_TRY(eval_blocks(s, b, epoch, &best));
        fresh |= best && out == SN_OUT_BEST;
    }
    return fresh ? outputs_now(s, b, epoch) : SN_OK;
}

int sn_train_cells(sn_run *s, int size)
{
    const sn_train_data *d = s->d;
    const sn_train_opts *o = s->opt;
    sn_train_result *r = s->res;
    blocks b;
    int rc = make_blocks(d, size, &b);
    if (rc == SN_OK)
        rc = sn_train_model_init(s, size, max_edges(&b));
    if (rc == SN_OK && !(s->xs = sn_malloc(sn_mul_size((size_t)d->N, (size_t)d->G * sizeof(float)), "the input")))
        rc = SN_ENOMEM;
    if (rc == SN_OK) {
        r->cell_mode = 1;
        r->blocks = b.nb;
        r->block_size = size;
        for (int i = 0; i < b.nb; i++) {
            sn_train_standardise(d->X, d->G, b.start[i], size, s->xs + b.start[i] * d->G);
            for (int64_t k = 0; k < b.e[i].n; k++)
                r->knn_edges += owns(&b, i, b.start[i] + b.e[i].src[k], b.start[i] + b.e[i].dst[k]);
        }
        r->gflop_per_epoch = b.nb * sn_model_flops(&o->model, d->G, size, max_edges(&b), s->train.n) / 1e9;
        if (o->resume)
            rc = sn_train_ckpt_load(s);
    }
    sn_progress pg;
    sn_progress_start(&pg, "training", (int64_t)o->epochs * b.nb);
    if (rc == SN_OK)
        rc = sn_train_epochs(s, epoch_cells, finish_cells, &b, &pg);
    sn_progress_end(&pg);
    blocks_free(&b);
    return rc;
}
