/* Checkpoints and saved weights (HDF5).  A checkpoint holds everything a
 * run depends on: weights, Adam moments and step count, the current cell
 * graph, the log, the outputs so far and the weights they came from (the
 * last epoch's checkpoint: before what the run does only because it ends
 * there, with the graphs those outputs are made from).  Randomness is keyed by
 * step and epoch, so a resumed run ends exactly as an uninterrupted one. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "h5x.h"
#include "train_int.h"

#define CKPT_FORMAT "scnet-checkpoint-2"
/* Format 1 kept the last epoch's own evaluation and outputs in that
 * epoch's checkpoint, as a longer run does not have them: its checkpoints
 * of earlier epochs resume as well. */
#define CKPT_FORMAT_1 "scnet-checkpoint-1"

static int put_dims(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0); /* no clock in the bytes: a saved model is reproducible */
    hid_t ds = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    int empty = H5Sget_simple_extent_npoints(sp) == 0;
    herr_t e = ds >= 0 && (empty || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0) ? 0 : -1;
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(sp);
    return e < 0 ? sn_err(SN_EIO, "cannot write '%s' (disk full?)", name) : SN_OK;
}

static int put(hid_t loc, const char *name, hid_t type, int64_t n, const void *data)
{
    hsize_t dim = (hsize_t)n;
    return put_dims(loc, name, type, 1, &dim, data);
}

/* Read exactly n elements (n < 0: any length, returned in *got). */
static int get(hid_t loc, const char *name, hid_t type, int64_t n, void *data)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0)
        return sn_err(SN_EFMT, "'%s' is missing", name);
    hid_t sp = H5Dget_space(ds);
    hssize_t len = H5Sget_simple_extent_npoints(sp);
    int rc = len == n ? SN_OK : sn_err(SN_EFMT, "'%s' has %lld values, expected %lld", name, (long long)len, (long long)n);
    if (rc == SN_OK && n > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = sn_err(SN_EFMT, "cannot read '%s'", name);
    H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

static int64_t length(hid_t loc, const char *name)
{
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t sp = H5Dget_space(ds);
    int64_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(ds);
    return n;
}

static int put_attr(hid_t loc, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, type, v) >= 0 ? SN_OK : sn_err(SN_EIO, "cannot write attribute '%s'", name);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

static int get_attr(hid_t loc, const char *name, hid_t type, void *v)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    int rc = a >= 0 && H5Aread(a, type, v) >= 0 ? SN_OK : sn_err(SN_EFMT, "attribute '%s' is missing", name);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

/* Fixed-length strings, NUL-terminated in the file. */
static int put_attr_str(hid_t loc, const char *name, const char *v)
{
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, strlen(v) + 1);
    int rc = put_attr(loc, name, str, v);
    H5Tclose(str);
    return rc;
}

/* Read into buf[len]; a longer string fails. */
static int get_attr_str(hid_t loc, const char *name, char *buf, size_t len)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, len);
    int ok = t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) && H5Tget_size(t) < len &&
             H5Aread(a, str, buf) >= 0;
    buf[ok ? len - 1 : 0] = 0;
    H5Tclose(str);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    return ok ? SN_OK : sn_err(SN_EFMT, "attribute '%s' is missing", name);
}

/* A parameter as PyTorch shapes it: weights rows × cols, biases vectors,
 * so that another framework can load it without knowing the layout. */
static int put_param(hid_t loc, const char *name, int rows, int cols, const float *data)
{
    const char *b = strstr(name, ".bias"); /* its Adam moments too: ".bias.adam_m" */
    if (b && (b[5] == 0 || b[5] == '.'))
        return put(loc, name, H5T_NATIVE_FLOAT, (int64_t)rows * cols, data);
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    return put_dims(loc, name, H5T_NATIVE_FLOAT, 2, dims, data);
}

static hid_t new_group(hid_t loc, const char *name)
{
    hid_t gcpl = sn_h5x_gcpl();
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

/* Parameters with their Adam moments, from the backend. */
static int put_params(sn_model *m, hid_t f)
{
    hid_t g = new_group(f, "params");
    int rc = g >= 0 ? SN_OK : sn_err(SN_EIO, "cannot create group 'params'");
    for (int k = 0; rc == SN_OK && k < m->nparam; k++) {
        sn_param *p = &m->p[k];
        int64_t n = (int64_t)p->rows * p->cols;
        float *buf = sn_malloc((size_t)n * sizeof *buf + 1, "saving the model");
        if (!buf) {
            rc = SN_ENOMEM;
            break;
        }
        real *src[3] = {p->w, p->m, p->v};
        const char *suffix[3] = {"", ".adam_m", ".adam_v"};
        for (int t = 0; rc == SN_OK && t < 3; t++) {
            char name[80];
            snprintf(name, sizeof name, "%s%s", p->name, suffix[t]);
            m->o->download(m->o, buf, src[t], (size_t)n * sizeof *buf);
            rc = put_param(g, name, p->rows, p->cols, buf);
        }
        free(buf);
    }
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

/* Weights held on the host (sn_train_snapshot's layout) as group name. */
static int put_weights(const sn_model *m, hid_t f, const char *name, const float *w)
{
    hid_t g = new_group(f, name);
    int rc = g >= 0 ? SN_OK : sn_err(SN_EIO, "cannot create group '%s'", name);
    for (int k = 0; rc == SN_OK && k < m->nparam; k++) {
        rc = put_param(g, m->p[k].name, m->p[k].rows, m->p[k].cols, w);
        w += (int64_t)m->p[k].rows * m->p[k].cols;
    }
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

static int all_finite(const float *x, int64_t n)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++)
        ok &= isfinite(x[i]) != 0;
    return ok;
}

static int get_params(sn_model *m, hid_t f)
{
    hid_t g = H5Gopen2(f, "params", H5P_DEFAULT);
    if (g < 0)
        return sn_err(SN_EFMT, "group 'params' is missing");
    int rc = SN_OK;
    for (int k = 0; rc == SN_OK && k < m->nparam; k++) {
        sn_param *p = &m->p[k];
        int64_t n = (int64_t)p->rows * p->cols;
        float *buf = sn_malloc((size_t)n * sizeof *buf + 1, "loading the checkpoint");
        if (!buf) {
            rc = SN_ENOMEM;
            break;
        }
        real *dst[3] = {p->w, p->m, p->v};
        const char *suffix[3] = {"", ".adam_m", ".adam_v"};
        for (int t = 0; rc == SN_OK && t < 3; t++) {
            char name[80];
            snprintf(name, sizeof name, "%s%s", p->name, suffix[t]);
            if ((rc = get(g, name, H5T_NATIVE_FLOAT, n, buf)) == SN_OK && !all_finite(buf, n))
                rc = sn_err(SN_EFMT, "parameter '%s' holds a value that is not finite", name);
            if (rc == SN_OK)
                m->o->upload(m->o, dst[t], buf, (size_t)n * sizeof *buf);
        }
        free(buf);
    }
    H5Gclose(g);
    return rc;
}

/* What shapes training after the start, as resolved for this run (auto
 * choices included) and named as the command line sets it: a resumed run
 * must have them all as they were, or its result would be neither run's. */
#define N_TRAIN_OPTS 17
enum { OPT_OUTPUTS = 10, OPT_GRAPH = 11, OPT_MODE = 12 }; /* the choices among them */

static void train_opts(const sn_run *s, double *v)
{
    const sn_train_opts *o = s->opt;
    const sn_model_cfg *m = &o->model;
    const sn_train_result *r = s->res;
    double x[N_TRAIN_OPTS] = {m->lr, m->wd, m->dropout, m->att_dropout, o->test_frac, o->eval_every,
                              o->prune_every, o->protect, o->prune_cap, o->prune_pct, r->outputs,
                              o->output_graph, r->cell_mode, r->cell_mode ? r->block_size : 0, m->slope, m->temp,
                              m->beta1 + 10 * m->beta2};
    memcpy(v, x, sizeof x);
}

/* Option i at value v, as the command line gives it. */
static void describe(int i, double v, char *buf, size_t len)
{
    static const char *const fmt[N_TRAIN_OPTS] = {
        "--lr %g", "--weight-decay %g", "--dropout %g", "--dropout %g (attention)", "--test-frac %g",
        "--eval-every %g", "--prune-every %g", "--prune-protect %g", "--prune-cap %g", "--prune-pct %g",
        "--outputs %g", "--output-graph %g", "cell-block mode %g", "cell blocks of %g cells (--block-size, -b)",
        "leaky-ReLU slope %g", "attention temperature %g", "Adam betas %g (beta1 + 10 beta2)"};
    static const char *const outs[] = {"--outputs best", "--outputs last", "--outputs reference"};
    static const char *const graphs[] = {"--output-graph chunks", "--output-graph whole"};
    static const char *const modes[] = {"edge batches (--no-cell-batch, or at most --cell-threshold cells)",
                                        "cell blocks (--cell-batch, or more than --cell-threshold cells)"};
    const char *const *name = i == OPT_OUTPUTS ? outs : i == OPT_GRAPH ? graphs : i == OPT_MODE ? modes : NULL;
    int k = (int)v, n = i == OPT_OUTPUTS ? 3 : 2;
    if (name && v == k && k >= 0 && k < n)
        snprintf(buf, len, "%s", name[k]);
    else
        snprintf(buf, len, fmt[i], v);
}

static int put_options(sn_run *s, hid_t f)
{
    double v[N_TRAIN_OPTS];
    train_opts(s, v);
    return put(f, "options", H5T_NATIVE_DOUBLE, N_TRAIN_OPTS, v);
}

/* Checkpoints of the first format have none to check. */
static int check_options(sn_run *s, hid_t f, const char *fmt)
{
    double was[N_TRAIN_OPTS], now[N_TRAIN_OPTS];
    char a[128], b[128];
    if (length(f, "options") < 0)
        return strcmp(fmt, CKPT_FORMAT_1) == 0 ? SN_OK
                                                : sn_err(SN_EFMT, "the record 'options' is missing (a damaged "
                                                                  "checkpoint): train again");
    SN_TRY(get(f, "options", H5T_NATIVE_DOUBLE, N_TRAIN_OPTS, was));
    train_opts(s, now);
    for (int i = 0; i < N_TRAIN_OPTS; i++)
        if (was[i] != now[i]) {
            describe(i, was[i], a, sizeof a);
            describe(i, now[i], b, sizeof b);
            return sn_err(SN_EINVAL, "checkpoint was made with %s, this run %s; resume with the options of the run "
                                     "that made it", a, b);
        }
    return SN_OK;
}

/* FNV-1a over 64-bit words (and the tail bytes) of n bytes. */
static uint64_t digest_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 1099511628211ULL;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* A digest of what the model trains on (expression, genes of the loss,
 * PPI, cell graph), so that a checkpoint resumes only on the data it was
 * made from: the shapes alone pass a rescaled or reordered input. */
static uint64_t data_digest(const sn_train_data *d)
{
    size_t N = (size_t)d->N, G = (size_t)d->G;
    uint64_t h = 1469598103934665603ULL;
    h = digest_bytes(h, d->X, N * G * sizeof *d->X);
    h = d->hvg ? digest_bytes(h, d->hvg, G) : h;
    h = digest_bytes(h, d->ppi_a, (size_t)d->n_ppi * sizeof *d->ppi_a);
    h = digest_bytes(h, d->ppi_b, (size_t)d->n_ppi * sizeof *d->ppi_b);
    return digest_bytes(h, d->knn, N * (size_t)d->k * sizeof *d->knn);
}

static int put_config(sn_run *s, hid_t f, int epochs_done)
{
    const sn_train_result *r = s->res;
    int64_t v[] = {s->d->G, s->d->N, s->m.cfg.layers, s->m.cfg.hidden, s->m.cfg.embed, (int64_t)s->m.cfg.seed,
                   epochs_done, (int64_t)s->step, s->m.adam_t, r->best_epoch, r->n_eval, s->opt->batches};
    const char *names[] = {"genes", "cells", "layers", "hidden", "embed", "seed", "epochs_done", "step",
                           "adam_t", "best_epoch", "n_eval", "batches"};
    int rc = put_attr_str(f, "format", CKPT_FORMAT);
    if (rc == SN_OK && s->opt->backend)
        rc = put_attr_str(f, "backend", s->opt->backend);
    for (size_t i = 0; rc == SN_OK && i < sizeof v / sizeof *v; i++)
        rc = put_attr(f, names[i], H5T_NATIVE_INT64, &v[i]);
    if (rc == SN_OK)
        rc = put_attr(f, "best_auroc", H5T_NATIVE_DOUBLE, &r->best_auroc);
    int64_t asked = s->opt->epochs; /* the run's -e: its outputs are final at that epoch */
    if (rc == SN_OK)
        rc = put_attr(f, "epochs", H5T_NATIVE_INT64, &asked);
    uint64_t digest = data_digest(s->d);
    if (rc == SN_OK)
        rc = put_attr(f, "data_digest", H5T_NATIVE_UINT64, &digest);
    return rc;
}

static int put_last_graphs(sn_run *s, hid_t f)
{
    SN_TRY(put(f, "last_K_src", H5T_NATIVE_INT32, s->fin_K.n, s->fin_K.src));
    SN_TRY(put(f, "last_K_dst", H5T_NATIVE_INT32, s->fin_K.n, s->fin_K.dst));
    SN_TRY(put(f, "last_cand_src", H5T_NATIVE_INT32, s->fin_cand.n, s->fin_cand.src));
    return put(f, "last_cand_dst", H5T_NATIVE_INT32, s->fin_cand.n, s->fin_cand.dst);
}

static int put_state(sn_run *s, hid_t f, int epochs_done)
{
    sn_train_result *r = s->res;
    int64_t G = s->d->G, N = s->d->N, e = s->m.cfg.embed;
    SN_TRY(put_config(s, f, epochs_done));
    SN_TRY(put_options(s, f));
    SN_TRY(put_params(&s->m, f));
    SN_TRY(put(f, "K_src", H5T_NATIVE_INT32, s->K.n, s->K.src));
    SN_TRY(put(f, "K_dst", H5T_NATIVE_INT32, s->K.n, s->K.dst));
    if (epochs_done == s->opt->epochs && !r->cell_mode) /* for a resume that makes this run's outputs */
        SN_TRY(put_last_graphs(s, f));
    double *logs[] = {r->loss_ppi, r->loss_mse, r->loss_corr, r->epoch_sec};
    const char *ln[] = {"loss_ppi", "loss_mse", "loss_corr", "epoch_sec"};
    for (int i = 0; i < 4; i++)
        SN_TRY(put(f, ln[i], H5T_NATIVE_DOUBLE, epochs_done, logs[i]));
    SN_TRY(put(f, "eval_epoch", H5T_NATIVE_INT, r->n_eval, r->eval_epoch));
    SN_TRY(put(f, "auroc", H5T_NATIVE_DOUBLE, r->n_eval, r->auroc));
    SN_TRY(put(f, "ap", H5T_NATIVE_DOUBLE, r->n_eval, r->ap));
    SN_TRY(put(f, "zg", H5T_NATIVE_FLOAT, G * e, r->zg));
    SN_TRY(put(f, "zc", H5T_NATIVE_FLOAT, N * e, r->zc));
    SN_TRY(put(f, "y", H5T_NATIVE_FLOAT, N * G, r->y));
    SN_TRY(put(f, "att_src", H5T_NATIVE_INT32, r->n_att, r->att_src));
    SN_TRY(put(f, "att_dst", H5T_NATIVE_INT32, r->n_att, r->att_dst));
    SN_TRY(put(f, "att", H5T_NATIVE_FLOAT, r->n_att, r->att));
    SN_TRY(put(f, "pr_src", H5T_NATIVE_INT32, r->n_pruned, r->pr_src));
    SN_TRY(put(f, "pr_dst", H5T_NATIVE_INT32, r->n_pruned, r->pr_dst));
    if (!s->snap)
        return SN_OK;
    int64_t epoch = s->snap_epoch;
    SN_TRY(put_attr(f, "outputs_epoch", H5T_NATIVE_INT64, &epoch));
    return put_weights(&s->m, f, "outputs_params", s->snap);
}

int sn_train_ckpt_save(sn_run *s, int epochs_done)
{
    sn_h5 *h;
    SN_TRY(sn_h5_create(s->opt->checkpoint, &h));
    sn_h5_aside(h);
    int rc = put_state(s, sn_h5_id(h), epochs_done);
    if (rc < 0) {
        sn_h5_close(h);
        return sn_err_prefix(rc, "%s: ", s->opt->checkpoint);
    }
    sn_info("checkpoint after %d epochs written to %s", epochs_done, s->opt->checkpoint);
    SN_TRY(sn_h5_commit(h));
    char note[4200];
    snprintf(note, sizeof note, "the checkpoint in %s holds %d epochs (continue with --resume %s)",
             s->opt->checkpoint, epochs_done, s->opt->checkpoint);
    sn_file_stop_note(note);
    return SN_OK;
}

/* Fill *arr with a freshly allocated copy of a dataset of any length. */
static int get_any(hid_t f, const char *name, hid_t type, size_t size, void **arr, int64_t *n)
{
    int64_t len = length(f, name);
    if (len < 0)
        return sn_err(SN_EFMT, "'%s' is missing", name);
    free(*arr);
    if (!(*arr = sn_malloc((size_t)len * size + 1, "the checkpoint")))
        return SN_ENOMEM;
    *n = len;
    return get(f, name, type, len, *arr);
}

static int get_edges(hid_t f, const char *src, const char *dst, sn_edges32 *e)
{
    int64_t n;
    sn_edges32_free(e);
    SN_TRY(get_any(f, src, H5T_NATIVE_INT32, 4, (void **)&e->src, &e->n));
    SN_TRY(get_any(f, dst, H5T_NATIVE_INT32, 4, (void **)&e->dst, &n));
    return n == e->n ? SN_OK : sn_err(SN_EFMT, "'%s' and '%s' differ in length", src, dst);
}

/* d without the thread count ("cpu (2 threads, OpenBLAS Haswell kernels)"
 * -> "cpu (OpenBLAS Haswell kernels)"): every sum is made in an order fixed
 * by the data, so the threads change no result. */
static void without_threads(const char *d, char *out, size_t len)
{
    const char *p = strchr(d, '(');
    size_t digits = p ? strspn(p + 1, "0123456789") : 0;
    const char *rest = digits ? p + 1 + digits : NULL;
    if (rest && (!strncmp(rest, " threads, ", 10) || !strncmp(rest, " thread, ", 9)))
        snprintf(out, len, "%.*s%s", (int)(p + 1 - d), d, strchr(rest, ',') + 2);
    else
        snprintf(out, len, "%s", d);
}

/* Another backend, precision or BLAS kernel set rounds differently, and
 * training amplifies rounding: the run goes on, but its result is not the
 * uninterrupted run's to the bit. */
static void check_backend(const sn_run *s, hid_t f)
{
    char was[512], a[512], b[512];
    const char *now = s->opt->backend;
    if (!now || H5Aexists(f, "backend") <= 0 || get_attr_str(f, "backend", was, sizeof was) < 0)
        return;
    without_threads(was, a, sizeof a);
    without_threads(now, b, sizeof b);
    if (strcmp(a, b) != 0)
        sn_warn("%s: checkpoint was made on %s, this run computes on %s: the result will differ from an "
                "uninterrupted run's in the last bits, and more as training goes on", s->opt->resume, was, now);
}

static int check_config(sn_run *s, hid_t f, int64_t *v)
{
    char fmt[64];
    if (get_attr_str(f, "format", fmt, sizeof fmt) < 0 || (strcmp(fmt, CKPT_FORMAT) && strcmp(fmt, CKPT_FORMAT_1)))
        return sn_err(SN_EFMT, "not a scnet checkpoint");
    const char *names[] = {"genes", "cells", "layers", "hidden", "embed", "seed", "epochs_done", "step",
                           "adam_t", "best_epoch", "n_eval", "batches"};
    for (int i = 0; i < 12; i++)
        SN_TRY(get_attr(f, names[i], H5T_NATIVE_INT64, &v[i]));
    int64_t want[] = {s->d->G, s->d->N, s->m.cfg.layers, s->m.cfg.hidden, s->m.cfg.embed, (int64_t)s->m.cfg.seed};
    for (int i = 0; i < 6; i++)
        if (v[i] != want[i])
            return sn_err(SN_EINVAL, "checkpoint was made with %s = %lld, this run has %lld (same input and "
                                     "options are needed to resume)", names[i], (long long)v[i], (long long)want[i]);
    uint64_t digest;
    if (H5Aexists(f, "data_digest") > 0) { /* checkpoints made before it was kept have none */
        SN_TRY(get_attr(f, "data_digest", H5T_NATIVE_UINT64, &digest));
        if (digest != data_digest(s->d))
            return sn_err(SN_EINVAL, "checkpoint was made from other data (the expression, PPI or cell graph "
                                     "differ from this input's): resume with the input that made it");
    }
    if (v[11] != s->opt->batches)
        return sn_err(SN_EINVAL, "checkpoint was made with %lld batches, this run has %d", (long long)v[11],
                      s->opt->batches);
    /* a checkpoint of a run's last epoch holds what that run's outputs are
     * made from: resuming it with the same -e writes them */
    int64_t asked = -1;
    if (H5Aexists(f, "epochs") > 0)
        SN_TRY(get_attr(f, "epochs", H5T_NATIVE_INT64, &asked));
    if (v[6] > s->opt->epochs || (v[6] == s->opt->epochs && asked != v[6]))
        return sn_err(SN_EINVAL, "checkpoint is after %lld epochs, and this run asks for %d: nothing is left to "
                                 "train (ask for more with -e)", (long long)v[6], s->opt->epochs);
    if (strcmp(fmt, CKPT_FORMAT_1) == 0 && asked == v[6])
        return sn_err(SN_EINVAL, "checkpoint of the last epoch of a run, made by an earlier scnet-train "
                                 "(%s): its evaluation of that epoch is not a longer run's; resume from a checkpoint "
                                 "of an earlier epoch, or train again", fmt);
    SN_TRY(check_options(s, f, fmt));
    check_backend(s, f);
    return SN_OK;
}

/* The weights the checkpoint's outputs came from, which --save-model
 * writes when no later epoch makes the outputs; checkpoints made before
 * they were kept have none, and a run that would need them is refused
 * before it trains. */
static int get_snapshot(sn_run *s, hid_t f)
{
    sn_model *m = &s->m;
    if (!s->keep_weights)
        return SN_OK;
    if (H5Lexists(f, "outputs_params", H5P_DEFAULT) <= 0) {
        if (s->opt->save_model && s->res->n_att > 0)
            return sn_err(SN_EINVAL, "checkpoint does not hold the weights its outputs came from (made by an "
                                     "earlier scnet-train), which --save-model would write; resume without "
                                     "--save-model, or train again");
        return SN_OK;
    }
    int64_t epoch;
    SN_TRY(get_attr(f, "outputs_epoch", H5T_NATIVE_INT64, &epoch));
    if (!s->snap && !(s->snap = sn_malloc(sn_mul_size((size_t)sn_model_weight_count_f32(&m->cfg, m->G, m->N),
                                                      sizeof(float)), "the outputs' weights")))
        return SN_ENOMEM;
    hid_t g = H5Gopen2(f, "outputs_params", H5P_DEFAULT);
    int rc = g >= 0 ? SN_OK : sn_err(SN_EFMT, "cannot open group 'outputs_params'");
    float *w = s->snap;
    for (int k = 0; rc == SN_OK && k < m->nparam; k++) {
        int64_t n = (int64_t)m->p[k].rows * m->p[k].cols;
        rc = get(g, m->p[k].name, H5T_NATIVE_FLOAT, n, w);
        w += n;
    }
    if (g >= 0)
        H5Gclose(g);
    s->snap_epoch = (int)epoch;
    return rc;
}

static int get_state(sn_run *s, hid_t f)
{
    sn_train_result *r = s->res;
    int64_t v[12], n, G = s->d->G, N = s->d->N, e = s->m.cfg.embed;
    SN_TRY(check_config(s, f, v));
    SN_TRY(get_params(&s->m, f));
    s->start_epoch = (int)v[6];
    s->step = (uint64_t)v[7];
    s->m.adam_t = v[8];
    r->best_epoch = (int)v[9];
    r->n_eval = (int)v[10];
    r->n_epochs = r->start_epoch = s->start_epoch;
    SN_TRY(get_attr(f, "best_auroc", H5T_NATIVE_DOUBLE, &r->best_auroc));
    if (!s->res->cell_mode)
        SN_TRY(get_edges(f, "K_src", "K_dst", &s->K));
    if (!s->res->cell_mode && s->start_epoch == s->opt->epochs) {
        SN_TRY(get_edges(f, "last_K_src", "last_K_dst", &s->fin_K));
        SN_TRY(get_edges(f, "last_cand_src", "last_cand_dst", &s->fin_cand));
    }
    double *logs[] = {r->loss_ppi, r->loss_mse, r->loss_corr, r->epoch_sec};
    const char *ln[] = {"loss_ppi", "loss_mse", "loss_corr", "epoch_sec"};
    for (int i = 0; i < 4; i++)
        SN_TRY(get(f, ln[i], H5T_NATIVE_DOUBLE, s->start_epoch, logs[i]));
    SN_TRY(get(f, "eval_epoch", H5T_NATIVE_INT, r->n_eval, r->eval_epoch));
    SN_TRY(get(f, "auroc", H5T_NATIVE_DOUBLE, r->n_eval, r->auroc));
    SN_TRY(get(f, "ap", H5T_NATIVE_DOUBLE, r->n_eval, r->ap));
    SN_TRY(get(f, "zg", H5T_NATIVE_FLOAT, G * e, r->zg));
    SN_TRY(get(f, "zc", H5T_NATIVE_FLOAT, N * e, r->zc));
    SN_TRY(get(f, "y", H5T_NATIVE_FLOAT, N * G, r->y));
    SN_TRY(get_any(f, "att_src", H5T_NATIVE_INT32, 4, (void **)&r->att_src, &r->n_att));
    SN_TRY(get_any(f, "att_dst", H5T_NATIVE_INT32, 4, (void **)&r->att_dst, &n));
    SN_TRY(get_any(f, "att", H5T_NATIVE_FLOAT, 4, (void **)&r->att, &n));
    SN_TRY(get_any(f, "pr_src", H5T_NATIVE_INT32, 4, (void **)&r->pr_src, &r->n_pruned));
    SN_TRY(get_any(f, "pr_dst", H5T_NATIVE_INT32, 4, (void **)&r->pr_dst, &n));
    return get_snapshot(s, f);
}

int sn_train_ckpt_load(sn_run *s)
{
    sn_h5 *h;
    SN_TRY(sn_h5_open(s->opt->resume, &h));
    int rc = get_state(s, sn_h5_id(h));
    sn_h5_close(h);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", s->opt->resume);
    sn_info("resuming after %d epochs from %s", s->start_epoch, s->opt->resume);
    return SN_OK;
}

int sn_train_save_model(sn_run *s, const char *path)
{
    if (!s->snap)
        return sn_err(SN_EINVAL, "%s: the weights of the outputs were not kept", path);
    sn_h5 *h;
    SN_TRY(sn_h5_create(path, &h));
    hid_t f = sn_h5_id(h);
    int rc = put_weights(&s->m, f, "params", s->snap);
    int64_t v[] = {s->d->G, s->m.N, s->m.cfg.layers, s->m.cfg.hidden, s->m.cfg.embed, s->snap_epoch};
    const char *names[] = {"genes", "cells", "layers", "hidden", "embed", "epoch"};
    for (int i = 0; rc == SN_OK && i < 6; i++)
        rc = put_attr(f, names[i], H5T_NATIVE_INT64, &v[i]);
    if (rc < 0) {
        sn_h5_close(h);
        return sn_err_prefix(rc, "%s: ", path);
    }
    return sn_h5_commit(h);
}
