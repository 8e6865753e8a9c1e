/* scnet-prune: the refined cell graph of a trained .h5ad, pruned from the
 * model's attention on the KNN edges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/cli.h"
#include "scnet/coembed.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/metrics.h"
#include "scnet/prune.h"
#include "scnet/subset.h"
#include "scnet/text.h"

enum { O_PCT = SN_OPT_PROG, O_CAP, O_PROTECT, O_ATT, O_CONN, O_TSV, O_COMPRESS };

typedef struct {
    const char *in, *att, *tsv;
    sn_prune_opts p;
    int conn, compress;
} opts;

static void usage(FILE *fp)
{
    fprintf(fp, "Usage: scnet-prune [options] [IN.h5ad]\n"
                "Prune the cell graph of a file made by scnet-train from the model's attention on\n"
                "its edges (obsp['scnet_attention']) and write obsp['scnet_knn_pruned'].  An edge\n"
                "is dropped when its attention is below min(--cap, the --pct percentile of all\n"
                "attention values), unless it is one of the sending cell's --protect strongest\n"
                "edges.  IN defaults to standard input.\n"
                "\nPruning:\n"
                "      --pct FLOAT         percentile of attention giving the threshold (linear\n"
                "                          interpolation); of n edges at most\n"
                "                          ceil(pct/100 * (n - 1)) are removed [10]\n"
                "      --cap FLOAT         threshold at most FLOAT [0.2]\n"
                "      --protect INT       strongest outgoing edges every cell keeps [10]\n"
                "      --attention KEY     obsp key of the attention [scnet_attention]\n"
                "\nOutputs:\n"
                "      --connectivities    also write obsp['scnet_connectivities'] and\n"
                "                          ['scnet_distances'] (the KNN weights restricted to the\n"
                "                          pruned graph) and uns['scnet_neighbors'], for scanpy's\n"
                "                          neighbors_key='scnet_neighbors'\n"
                "      --tsv FILE          edge list: source cell, target cell, attention\n"
                "      --compress INT      gzip level of written datasets, 0 = none [0]\n");
    sn_cli_usage_common(fp, 0);
}

static const struct option longopts[] = {
    {"pct", required_argument, NULL, O_PCT}, {"cap", required_argument, NULL, O_CAP},
    {"protect", required_argument, NULL, O_PROTECT}, {"attention", required_argument, NULL, O_ATT},
    {"connectivities", no_argument, NULL, O_CONN}, {"tsv", required_argument, NULL, O_TSV},
    {"compress", required_argument, NULL, O_COMPRESS}, SN_CLI_LONGOPTS, {NULL, 0, NULL, 0}};

static int parse_opt(void *ctx, int c, const char *a)
{
    opts *o = ctx;
    long long v;
    switch (c) {
    case O_PCT: return sn_cli_double("--pct", a, 0, 100, &o->p.pct);
    case O_CAP: return sn_cli_double("--cap", a, 0, 1, &o->p.cap);
    case O_PROTECT: SN_TRY(sn_cli_int("--protect", a, 0, 1000000, &v)); o->p.protect = (int)v; return SN_OK;
    case O_ATT: o->att = a; return SN_OK;
    case O_CONN: o->conn = 1; return SN_OK;
    case O_TSV: o->tsv = a; return SN_OK;
    case O_COMPRESS: SN_TRY(sn_cli_int("--compress", a, 0, 9, &v)); o->compress = (int)v; return SN_OK;
    }
    return sn_cli_bad("unexpected option");
}

static int parse_operands(sn_cli *cli, void *ctx, int n, char **args)
{
    opts *o = ctx;
    if (n > 1)
        return sn_cli_bad("one input file expected, got %d", n);
    o->in = n ? args[0] : "-";
    const sn_cli_file f[] = {{o->in, "the input", 0, 1}, {cli->output, "-o", SN_OUT_HDF5, 1}, {o->tsv, "--tsv", 1, 0}};
    return sn_cli_files(cli, f, 3);
}

/* End held outputs: into place when rc is SN_OK; returns the error. */
static int release(int rc)
{
    int r = sn_out_release(rc == SN_OK);
    return rc < 0 ? rc : r;
}

static int write_tsv(const char *path, const sn_csr *g, char **names)
{
    sn_out *out;
    SN_TRY(sn_out_open(path, 0, &out));
    FILE *fp = sn_out_fp(out);
    fprintf(fp, "source\ttarget\tattention\n");
    for (int64_t i = 0; i < g->nrow; i++)
        for (int64_t p = g->indptr[i]; p < g->indptr[i + 1]; p++) {
            sn_tsv_field(fp, names[g->indices[p]]);
            fputc('\t', fp);
            sn_tsv_field(fp, names[i]);
            fprintf(fp, "\t%.9g\n", (double)g->data[p]);
        }
    return sn_out_commit(out);
}

static const char *const knn_key[2] = {"connectivities", "distances"};

/* A cells x cells graph: its declared shape checked before its indices (a
 * wrong shape is not an index out of range), then its weights. */
static int read_cells(hid_t f, const char *path, int64_t n_obs, sn_csr *m)
{
    SN_TRY(sn_subset_fits(f, path, n_obs, n_obs));
    SN_TRY(sn_h5ad_read_csr(f, path, m));
    return sn_csr_check_weights(m, path);
}

/* The KNN weights --connectivities carries over, read and checked before
 * the work: a file that lacks them fails naming the input, not the output. */
static int read_knn(hid_t f, int64_t n_obs, sn_csr w[2])
{
    int rc = SN_OK;
    for (int t = 0; rc == SN_OK && t < 2; t++) {
        char path[64];
        snprintf(path, sizeof path, "obsp/%s", knn_key[t]);
        if (!sn_h5ad_exists(f, path))
            rc = sn_err(SN_EFMT, "%s is missing (needed by --connectivities)", path);
        else
            rc = read_cells(f, path, n_obs, &w[t]);
    }
    return rc;
}

/* uns scnet_neighbors params: scanpy's tools (umap, diffmap, paga) read
 * n_neighbors and method there, so the input's neighbors params travel;
 * without them, what the KNN graph itself says (its widest row plus the
 * cell itself, as scanpy counts). */
static int write_params(hid_t in, hid_t out, const sn_csr *dist)
{
    if (sn_h5ad_exists(in, "uns/neighbors/params"))
        return sn_h5ad_copy_elem(in, "uns/neighbors/params", out, "uns/scnet_neighbors/params");
    int64_t k = 0;
    for (int64_t i = 0; i < dist->nrow; i++)
        if (dist->indptr[i + 1] - dist->indptr[i] > k)
            k = dist->indptr[i + 1] - dist->indptr[i];
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "uns/scnet_neighbors/params", &g));
    int rc = sn_h5ad_write_int(g, "n_neighbors", k + 1);
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(g, "method", "umap");
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(g, "metric", "euclidean");
    H5Gclose(g);
    return rc;
}

/* obsp scnet_connectivities / scnet_distances (the KNN weights restricted
 * to the pruned graph) and uns scnet_neighbors. */
static int write_neighbors(hid_t in, hid_t out, const sn_csr knn[2], const sn_csr *pruned, int comp)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "obsp", &g));
    int rc = SN_OK;
    for (int t = 0; rc == SN_OK && t < 2; t++) {
        char name[64];
        sn_csr m;
        snprintf(name, sizeof name, "scnet_%s", knn_key[t]);
        if ((rc = sn_csr_mask_sym(&knn[t], pruned, &m)) == SN_OK) {
            rc = sn_h5ad_write_csr(g, name, &m, comp);
            sn_csr_free(&m);
        }
    }
    H5Gclose(g);
    SN_TRY(rc);
    SN_TRY(sn_h5ad_dict(out, "uns/scnet_neighbors", &g));
    rc = sn_h5ad_write_str(g, "connectivities_key", "scnet_connectivities");
    if (rc == SN_OK)
        rc = sn_h5ad_write_str(g, "distances_key", "scnet_distances");
    H5Gclose(g);
    return rc == SN_OK ? write_params(in, out, &knn[1]) : rc;
}

static int write_stats(hid_t out, const opts *o, const sn_prune_stats *st)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "uns/scnet/prune", &g));
    int rc = sn_h5ad_write_scalar(g, "pct", o->p.pct);
    if (rc == SN_OK)
        rc = sn_h5ad_write_scalar(g, "cap", o->p.cap);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "protect", o->p.protect);
    if (rc == SN_OK)
        rc = sn_h5ad_write_scalar(g, "threshold", st->threshold);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "edges_before", st->before);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "edges_after", st->after);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "cells_at_protect", st->held);
    H5Gclose(g);
    return rc;
}

/* knn: the KNN weights with --connectivities, else NULL. */
static int write_out(hid_t in, hid_t out, const opts *o, const sn_csr *knn, const sn_csr *pruned,
                     const sn_prune_stats *st, const sn_cli *cli)
{
    /* all an earlier run wrote, also what this one does not write: left
     * behind, neighbors_key='scnet_neighbors' would find an older graph */
    static const char *const skip[] = {"obsp/scnet_knn_pruned", "uns/scnet/prune", "obsp/scnet_connectivities",
                                       "obsp/scnet_distances", "uns/scnet_neighbors", NULL};
    SN_TRY(sn_h5ad_copy(in, out, skip));
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "obsp", &g));
    int rc = sn_h5ad_write_csr(g, "scnet_knn_pruned", pruned, o->compress);
    H5Gclose(g);
    SN_TRY(rc);
    if (knn)
        SN_TRY(write_neighbors(in, out, knn, pruned, o->compress));
    SN_TRY(write_stats(out, o, st));
    return sn_h5ad_record_run(out, cli);
}

/* "min / median / max" of n values (sorted in place). */
static const char *spread3(double *v, int64_t n, char *buf, size_t len)
{
    if (n == 0)
        return "none";
    sn_sort_doubles(v, n);
    snprintf(buf, len, "%.4g / %.4g / %.4g", v[0], sn_percentile_sorted(v, n, 50), v[n - 1]);
    return buf;
}

/* With -v: the attention on the edges and the edges per cell, before and
 * after (a user choosing --pct, --cap or --protect wants to see both). */
static int describe(const sn_csr *att, const sn_csr *pruned)
{
    if (sn_log_level() < SN_LOG_INFO)
        return SN_OK;
    int64_t nnz = sn_csr_nnz(att), n = att->nrow;
    double *v = sn_malloc(sn_mul_size((size_t)(nnz > n ? nnz : n) + 1, sizeof *v), "a summary");
    if (!v)
        return SN_ENOMEM;
    char b1[96], b2[96];
    for (int64_t k = 0; k < nnz; k++)
        v[k] = att->data[k];
    sn_info("attention on the cell graph's edges (min / median / max): %s", spread3(v, nnz, b1, sizeof b1));
    int64_t *before = sn_calloc((size_t)n + 1, sizeof *before, "a summary"), lost = 0;
    int64_t *after = sn_calloc((size_t)n + 1, sizeof *after, "a summary");
    if (before && after) {
        for (int64_t k = 0; k < nnz; k++) /* columns: the sending cells, as --protect counts */
            before[att->indices[k]]++;
        for (int64_t k = 0; k < sn_csr_nnz(pruned); k++)
            after[pruned->indices[k]]++;
        for (int64_t j = 0; j < n; j++) {
            v[j] = (double)before[j];
            lost += after[j] < before[j];
        }
        spread3(v, n, b1, sizeof b1);
        for (int64_t j = 0; j < n; j++)
            v[j] = (double)after[j];
        sn_info("outgoing edges per cell (min / median / max): %s before, %s after; %lld of %lld cells lost edges",
                b1, spread3(v, n, b2, sizeof b2), (long long)lost, (long long)n);
    }
    int rc = before && after ? SN_OK : SN_ENOMEM;
    free(before);
    free(after);
    free(v);
    return rc;
}

static int run(sn_cli *cli, void *ctx)
{
    const opts *o = ctx;
    sn_h5 *in = NULL, *out = NULL;
    sn_csr att = {0}, pruned = {0}, knn[2] = {{0}};
    char path[256], **names = NULL;
    int64_t n_obs, n_var, nn = 0;
    sn_prune_stats st;
    int rc;
    SN_CHECK(sn_h5_open(o->in, &in));
    hid_t f = sn_h5_id(in);
    snprintf(path, sizeof path, "obsp/%s", o->att);
    if ((rc = sn_h5ad_check(f, &n_obs, &n_var)) == SN_OK && !sn_h5ad_exists(f, path))
        rc = sn_err(SN_EFMT, "%s is missing; make the file with scnet-train", path);
    if (rc == SN_OK)
        rc = read_cells(f, path, n_obs, &att);
    if (rc == SN_OK && sn_csr_nnz(&att) == 0)
        rc = sn_err(SN_EFMT, "%s has no edges: no cell graph to prune", path);
    if (rc == SN_OK && o->conn)
        rc = read_knn(f, n_obs, knn);
    if (rc == SN_OK && o->tsv)
        rc = sn_h5ad_read_index(f, "obs", &names, &nn);
    if (rc == SN_OK)
        rc = sn_subset_check_shapes(f); /* the output copies every field */
    if (rc < 0) {
        rc = sn_err_prefix(rc, "%s: ", sn_h5_name(in));
        goto out;
    }
    SN_CHECK(sn_prune_attention(&att, &o->p, &pruned, &st));
    char held[96];
    if (o->p.protect)
        snprintf(held, sizeof held, "kept only their %d protected edge%s", o->p.protect, o->p.protect == 1 ? "" : "s");
    else
        snprintf(held, sizeof held, "lost every edge (--protect 0)");
    sn_note("pruned cell graph: %lld -> %lld edges (threshold %.4g); %lld cells %s", (long long)st.before,
            (long long)st.after, st.threshold, (long long)st.held, held);
    SN_CHECK(describe(&att, &pruned));
    SN_CHECK(sn_h5_create(cli->output, &out));
    if ((rc = write_out(f, sn_h5_id(out), o, o->conn ? knn : NULL, &pruned, &st, cli)) < 0) {
        rc = sn_err_prefix(rc, "%s: ", sn_h5_name(out));
        goto out;
    }
    sn_out_hold(); /* the .h5ad and the table succeed or fail together */
    rc = o->tsv ? write_tsv(o->tsv, &pruned, names) : SN_OK;
    if (rc == SN_OK) {
        rc = sn_h5_commit(out);
        out = NULL;
    }
    rc = release(rc);
out:
    sn_h5_close(out);
    sn_h5_close(in);
    sn_csr_free(&att);
    sn_csr_free(&pruned);
    sn_csr_free(&knn[0]);
    sn_csr_free(&knn[1]);
    sn_free_strings(names, nn);
    return rc;
}

static void opts_default(opts *o)
{
    *o = (opts){.att = "scnet_attention", .p = {10, 0.2, 10}};
}

static const sn_cli_prog program = {"scnet-prune", usage, longopts, SN_CLI_SHORTOPTS,
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    opts o;
    opts_default(&o);
    return sn_cli_main(&program, &o, argc, argv);
}
