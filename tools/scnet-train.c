/* scnet-train: learn scNET gene and cell embeddings from a prepared .h5ad. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/backend.h"
#include "scnet/cli.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/train.h"
#include "scnet/trainio.h"

enum {
    O_LAYERS = SN_OPT_PROG, O_HIDDEN, O_EMBED, O_DROPOUT, O_LR, O_WD, O_EVAL, O_PRUNE_EVERY, O_PROTECT,
    O_PRUNE_CAP, O_PRUNE_PCT, O_TEST_FRAC, O_MAX_GENES, O_CELL_BATCH, O_NO_CELL_BATCH, O_BLOCK, O_CELL_THR,
    O_REFOUT, O_OUTG, O_SAVE_MODEL, O_CKPT, O_CKPT_EVERY, O_RESUME, O_STOP_AFTER, O_PRECISION, O_COMPRESS
};

#define QUOTE_(x) #x
#define QUOTE(x) QUOTE_(x) /* a macro's value as a string literal */

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: scnet-train [options] [IN.h5ad]\n"
            "Learn scNET gene and cell embeddings from a file made by scnet-prep (- or no\n"
            "argument: standard input) and write it back with the model's outputs added.\n"
            "\nModel:\n"
            "      --layers INT        mutual graph layers, 1 to 7 [3]\n"
            "      --hidden INT        intermediate width [250]\n"
            "      --embed INT         embedding width [75]\n"
            "      --dropout FLOAT     dropout rate [0.25]\n"
            "\nTraining:\n"
            "  -e, --epochs INT        epochs [150]\n"
            "  -b, --batches INT       edge mini-batches per epoch (cell blocks in block mode) [5]\n"
            "      --lr FLOAT          Adam learning rate [1e-4]\n"
            "      --weight-decay F    L2 coupled to the gradient, as PyTorch's Adam [1e-5]\n"
            "      --eval-every INT    evaluate held-out PPI edges every INT epochs [10]\n"
            "      --test-frac FLOAT   fraction of PPI edges held out [0.2]\n"
            "      --prune-every INT   install the attention-pruned cell graph every INT epochs [30]\n"
            "      --prune-protect INT keep each cell's INT strongest outgoing edges [10]\n"
            "      --prune-cap FLOAT   pruning threshold at most FLOAT [0.2]\n"
            "      --prune-pct FLOAT   pruning threshold percentile of attention [10]\n"
            "\nData size:\n"
            "      --max-genes INT     model only the INT most variable genes (output has those) [all]\n"
            "      --cell-batch        train on blocks of cells (default above --cell-threshold)\n"
            "      --no-cell-batch     never use cell blocks\n"
            "      --block-size INT    blocks above INT cells become N / INT blocks [4000]\n"
            "      --cell-threshold INT  cells above which blocks are used [10000]\n"
            "\nOutputs and checkpoints:\n"
            "      --outputs W         model state written: best (held-out AUROC), last,\n"
            "                          reference (the reference's schedule; see the man page),\n"
            "                          or auto: best when " QUOTE(SN_BEST_MIN_TEST) " or more PPI edges are held out,\n"
            "                          else last [auto]\n"
            "      --output-graph G    cell graph of the outputs' forward: chunks (the mean over\n"
            "                          the -b edge chunks, as trained) or whole [chunks]\n"
            "      --save-model FILE   write the weights the outputs come from (HDF5)\n"
            "      --checkpoint FILE   write a checkpoint every --checkpoint-every epochs\n"
            "      --checkpoint-every INT  [10]\n"
            "      --resume FILE       continue from a checkpoint (same input and options)\n"
            "      --stop-after INT    end after INT epochs of this run (resume later)\n"
            "      --precision P       fp32 or tf32 (tensor cores, CUDA only) [fp32]\n"
            "      --compress INT      gzip level of the written datasets, 0 = none [0]\n");
    sn_cli_usage_common(fp, 1);
}

typedef struct {
    sn_train_opts t;
    int max_genes, compress, tf32;
    const char *in;
} opts;

static int parse_train(opts *o, int c, const char *a)
{
    long long v;
    double d;
    sn_train_opts *t = &o->t;
    switch (c) {
    case O_LAYERS: SN_TRY(sn_cli_int("--layers", a, 1, 7, &v)); t->model.layers = (int)v; return 1;
    case O_HIDDEN: SN_TRY(sn_cli_int("--hidden", a, 1, 100000, &v)); t->model.hidden = (int)v; return 1;
    case O_EMBED: SN_TRY(sn_cli_int("--embed", a, 1, 10000, &v)); t->model.embed = (int)v; return 1;
    case O_DROPOUT: SN_TRY(sn_cli_double("--dropout", a, 0, 0.95, &d)); t->model.dropout = t->model.att_dropout = d; return 1;
    case O_LR: SN_TRY(sn_cli_double("--lr", a, 1e-12, 10, &t->model.lr)); return 1;
    case O_WD: SN_TRY(sn_cli_double("--weight-decay", a, 0, 10, &t->model.wd)); return 1;
    case 'e': SN_TRY(sn_cli_int("-e/--epochs", a, 1, 1000000, &v)); t->epochs = (int)v; return 1;
    case 'b': SN_TRY(sn_cli_int("-b/--batches", a, 1, 100000, &v)); t->batches = (int)v; return 1;
    case O_EVAL: SN_TRY(sn_cli_int("--eval-every", a, 1, 1000000, &v)); t->eval_every = (int)v; return 1;
    case O_TEST_FRAC: SN_TRY(sn_cli_double("--test-frac", a, 0.01, 0.9, &t->test_frac)); return 1;
    case O_PRUNE_EVERY: SN_TRY(sn_cli_int("--prune-every", a, 0, 1000000, &v)); t->prune_every = (int)v; return 1;
    case O_PROTECT: SN_TRY(sn_cli_int("--prune-protect", a, 0, 100000, &v)); t->protect = (int)v; return 1;
    case O_PRUNE_CAP: SN_TRY(sn_cli_double("--prune-cap", a, 0, 1, &t->prune_cap)); return 1;
    case O_PRUNE_PCT: SN_TRY(sn_cli_double("--prune-pct", a, 0, 100, &t->prune_pct)); return 1;
    }
    return 0;
}

static int parse_rest(opts *o, int c, const char *a)
{
    long long v;
    sn_train_opts *t = &o->t;
    static const char *const prec[] = {"fp32", "tf32", NULL};
    static const char *const outs[] = {"best", "last", "reference", "auto", NULL};
    static const char *const graphs[] = {"chunks", "whole", NULL};
    int k;
    switch (c) {
    case O_MAX_GENES: SN_TRY(sn_cli_int("--max-genes", a, 10, 10000000, &v)); o->max_genes = (int)v; return 1;
    case O_CELL_BATCH: t->cell_mode = 1; return 1;
    case O_NO_CELL_BATCH: t->cell_mode = 0; return 1;
    case O_BLOCK: SN_TRY(sn_cli_int("--block-size", a, 8, 1000000, &v)); t->block_max = (int)v; return 1;
    case O_CELL_THR: SN_TRY(sn_cli_int("--cell-threshold", a, 1, 100000000, &v)); t->cell_threshold = (int)v; return 1;
    case O_REFOUT: SN_TRY(sn_cli_choice("--outputs", a, outs, &t->outputs)); return 1;
    case O_OUTG: SN_TRY(sn_cli_choice("--output-graph", a, graphs, &t->output_graph)); return 1;
    case O_SAVE_MODEL: t->save_model = a; return 1;
    case O_CKPT: t->checkpoint = a; return 1;
    case O_CKPT_EVERY: SN_TRY(sn_cli_int("--checkpoint-every", a, 1, 1000000, &v)); t->checkpoint_every = (int)v; return 1;
    case O_RESUME: t->resume = a; return 1;
    case O_STOP_AFTER: SN_TRY(sn_cli_int("--stop-after", a, 1, 1000000, &v)); t->stop_after = (int)v; return 1;
    case O_PRECISION: SN_TRY(sn_cli_choice("--precision", a, prec, &k)); o->tf32 = k == 1; return 1;
    case O_COMPRESS: SN_TRY(sn_cli_int("--compress", a, 0, 9, &v)); o->compress = (int)v; return 1;
    }
    return sn_cli_bad("unexpected option");
}

static const struct option longopts[] = {
    {"layers", required_argument, NULL, O_LAYERS}, {"hidden", required_argument, NULL, O_HIDDEN},
    {"embed", required_argument, NULL, O_EMBED}, {"dropout", required_argument, NULL, O_DROPOUT},
    {"epochs", required_argument, NULL, 'e'}, {"batches", required_argument, NULL, 'b'},
    {"lr", required_argument, NULL, O_LR}, {"weight-decay", required_argument, NULL, O_WD},
    {"eval-every", required_argument, NULL, O_EVAL}, {"test-frac", required_argument, NULL, O_TEST_FRAC},
    {"prune-every", required_argument, NULL, O_PRUNE_EVERY}, {"prune-protect", required_argument, NULL, O_PROTECT},
    {"prune-cap", required_argument, NULL, O_PRUNE_CAP}, {"prune-pct", required_argument, NULL, O_PRUNE_PCT},
    {"max-genes", required_argument, NULL, O_MAX_GENES}, {"cell-batch", no_argument, NULL, O_CELL_BATCH},
    {"no-cell-batch", no_argument, NULL, O_NO_CELL_BATCH}, {"block-size", required_argument, NULL, O_BLOCK},
    {"cell-threshold", required_argument, NULL, O_CELL_THR},
    {"outputs", required_argument, NULL, O_REFOUT}, {"output-graph", required_argument, NULL, O_OUTG},
    {"save-model", required_argument, NULL, O_SAVE_MODEL},
    {"checkpoint", required_argument, NULL, O_CKPT}, {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
    {"resume", required_argument, NULL, O_RESUME}, {"stop-after", required_argument, NULL, O_STOP_AFTER},
    {"precision", required_argument, NULL, O_PRECISION}, {"compress", required_argument, NULL, O_COMPRESS},
    SN_CLI_DEVICEOPT, SN_CLI_LONGOPTS, {NULL, 0, NULL, 0}};

static int parse_opt(void *ctx, int c, const char *a)
{
    int r = parse_train(ctx, c, a);
    return r ? r : parse_rest(ctx, c, a);
}

static int parse_operands(sn_cli *cli, void *ctx, int n, char **args)
{
    opts *o = ctx;
    if (n > 1)
        return sn_cli_bad("one input file expected, got %d", n);
    o->in = n ? args[0] : "-";
    if (o->t.checkpoint && !o->t.checkpoint_every)
        o->t.checkpoint_every = 10;
    if (o->t.stop_after && !o->t.checkpoint)
        return sn_cli_bad("--stop-after needs --checkpoint (otherwise the work is lost)");
    o->t.model.seed = cli->seed;
    /* -o may update the input in place and --checkpoint continue the
     * file --resume read: both inputs are read before those are written. */
    const sn_cli_file f[] = {{o->in, "the input", 0, 1},           {o->t.resume, "--resume", 0, 2},
                             {cli->output, "-o", SN_OUT_HDF5, 1}, {o->t.checkpoint, "--checkpoint", SN_OUT_HDF5, 2},
                             {o->t.save_model, "--save-model", SN_OUT_HDF5, 0}};
    return sn_cli_files(cli, f, 5);
}

/* Smaller blocks leave too few kNN edges inside a block (sn_train_fit's floor). */
#define HINT_BLOCK_MIN 64

/* The host memory a plan needs (on a device the model is not in it). */
static double host_need(const sn_train_data *d, const sn_train_opts *t, int on_device)
{
    int cell, block;
    double model, need = sn_train_plan(d, t, &cell, &block, &model);
    return on_device ? need - model : need;
}

/* The largest cell blocks that fit, or 0. */
static int fitting_block(const sn_train_data *d, const sn_train_opts *t, int on_device, double avail)
{
    sn_train_opts b = *t;
    int cell;
    b.cell_mode = 1;
    sn_train_plan(d, &b, &cell, &b.block_max, NULL);
    for (; b.block_max >= HINT_BLOCK_MIN; b.block_max = b.block_max * 7 / 8)
        if (host_need(d, &b, on_device) <= avail)
            return b.block_max;
    return 0;
}

/* About the most genes that fit, or 0. */
static int fitting_genes(const sn_train_data *d, const sn_train_opts *t, int on_device, double avail)
{
    sn_train_data g = *d;
    for (g.G = d->G * 7 / 8; g.G >= 10; g.G = g.G * 7 / 8) {
        g.n_ppi = (int64_t)((double)d->n_ppi * g.G / d->G); /* about: the PPI among fewer genes */
        if (host_need(&g, t, on_device) <= avail)
            return g.G;
    }
    return 0;
}

/* What makes a run fit in avail bytes.  The model's square weights are
 * cells x cells (per block) and genes x genes: cell blocks shrink the
 * first, --max-genes the second, so the larger side is tried first. */
static void memory_hint(const sn_train_data *d, const sn_train_opts *t, int on_device, double avail, char *buf,
                        size_t len)
{
    int cell, block;
    sn_train_plan(d, t, &cell, &block, NULL);
    int cells_first = block >= d->G;
    int b = cells_first ? fitting_block(d, t, on_device, avail) : 0;
    int g = b ? 0 : fitting_genes(d, t, on_device, avail);
    if (!b && !g && !cells_first)
        b = fitting_block(d, t, on_device, avail);
    if (b)
        snprintf(buf, len, "train in smaller cell blocks: --cell-batch --block-size %d fits", b);
    else if (g)
        snprintf(buf, len, "model fewer genes: about --max-genes %d fits", g);
    else
        snprintf(buf, len, "neither fewer genes nor smaller cell blocks fit: lower --hidden and --embed");
}

/* Refuse a run that cannot fit, naming what to change.  On a device the
 * model lives in its memory: when it does not fit there, train in cell
 * blocks that do (a tenth is left to cuBLAS and to the pool's rounding),
 * and say so. */
static int check_memory(const sn_train_data *d, sn_train_opts *t, const sn_ops *ops, const char *dev)
{
    int cell, block, refit = 0;
    double model, free_b = (double)ops->mem_avail;
    if (ops->mem_avail && (refit = sn_train_fit(d, t, 0.9 * free_b)) < 0)
        return sn_err_prefix(refit, "%s: ", dev);
    double need = sn_train_plan(d, t, &cell, &block, &model);
    double avail = sn_mem_available(), host = ops->mem_avail ? need - model : need;
    char a[32], b[32], m[32], f[32], mode[64];
    sn_fmt_bytes(free_b, f, sizeof f);
    if (refit)
        sn_note("the model does not fit in the %s free on %s as planned: training in cell blocks of %d "
                "instead (as --cell-batch --block-size %d)", f, dev, block, block);
    snprintf(mode, sizeof mode, "%s%d", cell ? ", cell blocks of " : ", edge batches: ", cell ? block : t->batches);
    if (ops->mem_avail)
        sn_note("planned memory %s on %s and %s on the host (%d genes, %d cells%s); free %s on the device, "
                "%s available on the host", sn_fmt_bytes(model, m, sizeof m), dev, sn_fmt_bytes(host, a, sizeof a),
                d->G, d->N, mode, f, sn_fmt_bytes(avail, b, sizeof b));
    else
        sn_note("planned memory %s on %s (%d genes, %d cells%s); available %s", sn_fmt_bytes(need, a, sizeof a), dev,
                d->G, d->N, mode, sn_fmt_bytes(avail, b, sizeof b));
    if (!(avail > 0 && host > avail))
        return SN_OK;
    char hint[160];
    memory_hint(d, t, ops->mem_avail > 0, avail, hint, sizeof hint);
    return sn_err(SN_ENOMEM, "%s: training needs %s of memory but only %s is available (%s)", t->source,
                  sn_fmt_bytes(host, a, sizeof a), sn_fmt_bytes(avail, b, sizeof b), hint);
}

static int run(sn_cli *cli, void *ctx)
{
    opts *o = ctx;
    sn_h5 *in = NULL, *out = NULL;
    sn_train_input ti;
    sn_train_result r;
    sn_ops *ops = NULL;
    char dev[256];
    int rc, rel;
    memset(&ti, 0, sizeof ti);
    memset(&r, 0, sizeof r);
    sn_out_hold(); /* --save-model and -o succeed or fail together */
    SN_CHECK(sn_h5_open(o->in, &in));
    o->t.source = sn_h5_name(in);
    if ((rc = sn_train_input_read(sn_h5_id(in), o->max_genes, &ti)) < 0) {
        rc = sn_err_prefix(rc, "%s: ", sn_h5_name(in));
        goto out;
    }
    SN_CHECK(sn_backend_open(cli->device, o->tf32, &ops, dev, sizeof dev));
    o->t.backend = dev;
    SN_CHECK(check_memory(&ti.data, &o->t, ops, dev));
    double t0 = sn_time();
    SN_CHECK(sn_train_run(&ti.data, &o->t, ops, &r));
    double secs = sn_time() - t0;
    if (r.n_epochs < o->t.epochs) {
        /* the outputs come at the end: a stopped run has none to write */
        sn_note("stopped after %d of %d epochs; checkpoint in %s (continue with --resume %s); no output written",
                r.n_epochs, o->t.epochs, o->t.checkpoint, o->t.checkpoint);
        goto out;
    }
    sn_train_report(&r, &o->t, secs, dev);
    SN_CHECK(sn_h5_create(cli->output, &out));
    sn_train_meta meta = {cli, &o->t, dev, secs, o->compress, o->max_genes};
    if ((rc = sn_train_output_write(sn_h5_id(in), sn_h5_id(out), &ti, &r, &meta)) < 0) {
        rc = sn_err_prefix(rc, "%s: ", sn_h5_name(out));
        goto out;
    }
    rc = sn_h5_commit(out);
    out = NULL;
out:
    rel = sn_out_release(rc == SN_OK);
    if (rc == SN_OK)
        rc = rel;
    sn_h5_close(out);
    sn_h5_close(in);
    sn_train_result_free(&r);
    sn_train_input_free(&ti);
    sn_backend_close(ops);
    return rc;
}

static void opts_default(opts *o)
{
    memset(o, 0, sizeof *o);
    sn_train_opts_default(&o->t);
}

static const sn_cli_prog program = {"scnet-train", usage, longopts, SN_CLI_SHORTOPTS "e:b:",
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    opts o;
    opts_default(&o);
    return sn_cli_main(&program, &o, argc, argv);
}
