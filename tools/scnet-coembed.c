/* scnet-coembed: the co-embedded gene network of a trained .h5ad (genes
 * joined when their embeddings correlate above a percentile), its modules,
 * baselines and a differential network against a second file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/cli.h"
#include "scnet/coembed.h"
#include "scnet/file.h"
#include "scnet/graph.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"
#include "scnet/subset.h"
#include "scnet/text.h"

enum {
    OPT_WEIGHTED = SN_OPT_PROG,
    OPT_EMBEDDING,
    OPT_METHOD,
    OPT_RESOLUTION,
    OPT_BETA,
    OPT_ITERATIONS,
    OPT_BASELINE,
    OPT_DIFF,
    OPT_DIFF_OUT,
    OPT_TSV,
    OPT_MODULES,
    OPT_GRAPHML,
    OPT_BLOCK
};

typedef struct {
    const char *input, *embedding, *diff, *diff_out, *tsv, *modules, *graphml;
    const char *leiden_only; /* the last option given that only Leiden uses */
    sn_coembed_opts net;
    sn_comm_opts comm;
    int base_expr, base_ppi;
} opts;

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: scnet-coembed [options] [FILE]\n"
            "\n"
            "Build the co-embedded gene network of a trained AnnData file: genes i and j\n"
            "are joined when |Pearson correlation| of their embeddings (varm['scnet'])\n"
            "exceeds the given percentile of all G x G correlations (diagonal zeros\n"
            "included), then find its modules.  Writes FILE with varp['scnet_coembed'],\n"
            "var['scnet_module'] and uns['scnet']['coembed'] added.  FILE defaults to\n"
            "standard input.\n"
            "\n"
            "Network:\n"
            "  -p, --percentile FLOAT  correlation percentile for an edge (strictly above) [99]\n"
            "      --weighted          weight edges by |correlation| (default: 0/1)\n"
            "      --embedding KEY     varm key of the gene embedding [scnet]\n"
            "      --block INT         genes per correlation block [auto]\n"
            "\n"
            "Modules:\n"
            "      --method NAME       leiden or louvain [leiden]\n"
            "      --resolution FLOAT  modularity resolution [1]\n"
            "      --beta FLOAT        Leiden refinement randomness [0.01]\n"
            "      --iterations INT    Leiden passes, negative: until stable [-1]\n"
            "                          (--seed seeds igraph's generator)\n"
            "\n"
            "Comparisons:\n"
            "      --baseline NAME     also report the modularity of expression (gene-gene\n"
            "                          correlation over the cells of X, same percentile) or\n"
            "                          ppi (varp['scnet_ppi']); repeat or use a comma list\n"
            "      --diff FILE2        differential network against the embedding of FILE2\n"
            "                          (both networks rebuilt over the shared genes)\n"
            "      --diff-out FILE     where the differential edges go (TSV; needs --diff)\n"
            "\n"
            "Exports (TSV with a header line):\n"
            "      --tsv FILE          edge list: gene1, gene2, weight\n"
            "      --modules FILE      module table: gene, module (0 = largest)\n"
            "      --graphml FILE      GraphML with vertex names and modules\n");
    sn_cli_usage_common(fp, 0);
    fprintf(fp, "\nExamples:\n"
                "  scnet-coembed -p 99 --baseline expression,ppi sample.scnet.h5ad -o sample.net.h5ad\n"
                "  scnet-coembed a.h5ad --diff b.h5ad --diff-out a_vs_b.tsv -o a.net.h5ad\n");
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static int parse_baseline(opts *o, const char *arg)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (is(t, "expression"))
            o->base_expr = 1;
        else if (is(t, "ppi"))
            o->base_ppi = 1;
        else
            return sn_cli_bad("--baseline: '%s' is not expression or ppi", t);
    }
    return SN_OK;
}

static int parse_opt(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    long long v;
    int k;
    static const char *const methods[] = {"leiden", "louvain", NULL};
    switch (c) {
    case 'p':
        /* edges lie strictly above it: the 100th percentile leaves none */
        if (sn_parse_double(arg, &o->net.percentile) < 0 || o->net.percentile < 0 || o->net.percentile > 100)
            return sn_cli_bad("invalid value '%s' for --percentile (expected a number in [0, 100))", arg);
        return o->net.percentile < 100 ? SN_OK : sn_cli_bad("--percentile 100 leaves no edge (give less than 100)");
    case OPT_WEIGHTED: o->net.weighted = 1; return SN_OK;
    case OPT_EMBEDDING: o->embedding = arg; return SN_OK;
    case OPT_BLOCK:
        SN_TRY(sn_cli_int("--block", arg, 1, 1 << 20, &v));
        o->net.block = v;
        return SN_OK;
    case OPT_METHOD:
        SN_TRY(sn_cli_choice("--method", arg, methods, &k));
        o->comm.method = k;
        return SN_OK;
    case OPT_RESOLUTION: return sn_cli_double("--resolution", arg, 0, 1e6, &o->comm.resolution);
    case OPT_BETA:
        o->leiden_only = "--beta";
        return sn_cli_double("--beta", arg, 1e-9, 1e3, &o->comm.beta);
    case OPT_ITERATIONS:
        o->leiden_only = "--iterations";
        SN_TRY(sn_cli_int("--iterations", arg, -1000000, 1000000, &v));
        o->comm.iterations = (int)v;
        return v != 0 ? SN_OK
                      : sn_err(SN_EUSAGE, "--iterations 0 would leave every gene alone: give 1 or more passes, "
                                          "or a negative number for passes until the modules no longer change");
    case OPT_BASELINE: return parse_baseline(o, arg);
    case OPT_DIFF: o->diff = arg; return SN_OK;
    case OPT_DIFF_OUT: o->diff_out = arg; return SN_OK;
    case OPT_TSV: o->tsv = arg; return SN_OK;
    case OPT_MODULES: o->modules = arg; return SN_OK;
    case OPT_GRAPHML: o->graphml = arg; return SN_OK;
    }
    return sn_cli_bad("unknown option");
}

static const struct option longopts[] = {
    SN_CLI_LONGOPTS,
    {"percentile", required_argument, NULL, 'p'},
    {"weighted", no_argument, NULL, OPT_WEIGHTED},
    {"embedding", required_argument, NULL, OPT_EMBEDDING},
    {"block", required_argument, NULL, OPT_BLOCK},
    {"method", required_argument, NULL, OPT_METHOD},
    {"resolution", required_argument, NULL, OPT_RESOLUTION},
    {"beta", required_argument, NULL, OPT_BETA},
    {"iterations", required_argument, NULL, OPT_ITERATIONS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"diff", required_argument, NULL, OPT_DIFF},
    {"diff-out", required_argument, NULL, OPT_DIFF_OUT},
    {"tsv", required_argument, NULL, OPT_TSV},
    {"modules", required_argument, NULL, OPT_MODULES},
    {"graphml", required_argument, NULL, OPT_GRAPHML},
    {NULL, 0, NULL, 0}};

static int parse_operands(sn_cli *cli, void *ctx, int n, char **args)
{
    opts *o = ctx;
    if (n > 1)
        return sn_cli_bad("expected one input file, got %d", n);
    o->input = n ? args[0] : "-";
    if (!o->diff != !o->diff_out)
        return sn_cli_bad("--diff and --diff-out go together");
    if (o->leiden_only && o->comm.method != SN_COMM_LEIDEN)
        return sn_cli_bad("%s applies to --method leiden only", o->leiden_only);
    o->comm.seed = cli->seed;
    const sn_cli_file f[] = {{o->input, "the input", 0, 1},      {o->diff, "--diff", 0, 0},
                             {cli->output, "-o", SN_OUT_HDF5, 1}, {o->diff_out, "--diff-out", 1, 0},
                             {o->tsv, "--tsv", 1, 0},            {o->modules, "--modules", 1, 0},
                             {o->graphml, "--graphml", 1, 0}};
    return sn_cli_files(cli, f, 7);
}

/* ------------------------------------------------------------------ */
/* Reading */

/* Rows whose values are not all the same (up to 2: all a caller needs). */
static int varied_rows(const sn_mat *m)
{
    int n = 0;
    for (int64_t i = 0; i < m->nrow && n < 2; i++) {
        const float *r = m->data + i * m->ncol;
        for (int64_t j = 1; j < m->ncol; j++)
            if (r[j] != r[0]) {
                n++;
                break;
            }
    }
    return n;
}

static int read_embedding(hid_t fid, const char *key, int64_t n_var, sn_mat *m)
{
    char path[512];
    snprintf(path, sizeof path, "varm/%s", key);
    if (!sn_h5ad_exists(fid, path))
        return sn_err(SN_EFMT, "%s is missing (not a trained file? run scnet-train first)", path);
    SN_TRY(sn_h5ad_read_mat(fid, path, m));
    int rc = m->nrow == n_var ? SN_OK
             : sn_err(SN_EFMT, "%s has %lld rows for %lld genes", path, (long long)m->nrow, (long long)n_var);
    if (rc == SN_OK && m->nrow < 2)
        rc = sn_err(SN_EFMT, "%s has %lld gene%s; a gene network needs at least 2", path, (long long)m->nrow,
                    m->nrow == 1 ? "" : "s");
    if (rc == SN_OK && m->ncol < 2)
        rc = sn_err(SN_EFMT, "%s has %lld column%s; a correlation needs at least 2", path, (long long)m->ncol,
                    m->ncol == 1 ? "" : "s");
    for (int64_t i = 0; rc == SN_OK && i < m->nrow * m->ncol; i++)
        if (!isfinite(m->data[i]))
            rc = sn_err(SN_EFMT, "%s: value %g in row %lld (expected finite embeddings)", path, (double)m->data[i],
                        (long long)(i / m->ncol));
    int varied = rc == SN_OK ? varied_rows(m) : 2;
    if (varied < 2)
        rc = sn_err(SN_EFMT, "%s: the embedding of every gene%s is constant across its columns, so no "
                             "correlation is defined", path, varied ? " but one" : "");
    if (rc < 0)
        sn_mat_free(m);
    return rc;
}

/* An opened input: its genes and embedding. */
typedef struct {
    sn_h5 *f;
    char **genes;
    int64_t n;
    sn_mat emb;
    sn_strmap byname; /* gene → its first row; built for --diff only */
} input;

static void input_close(input *in)
{
    sn_h5_close(in->f);
    sn_strmap_free(&in->byname);
    sn_free_strings(in->genes, in->n);
    sn_mat_free(&in->emb);
    memset(in, 0, sizeof *in);
}

static int input_open(const char *path, const char *key, input *in)
{
    int64_t n_obs, n_var;
    memset(in, 0, sizeof *in);
    SN_TRY(sn_h5_open(path, &in->f));
    hid_t fid = sn_h5_id(in->f);
    int rc = sn_h5ad_check(fid, &n_obs, &n_var);
    if (rc == SN_OK)
        rc = sn_h5ad_read_index(fid, "var", &in->genes, &in->n);
    if (rc == SN_OK)
        rc = read_embedding(fid, key, n_var, &in->emb);
    if (rc < 0)
        sn_err_prefix(rc, "%s: ", sn_h5_name(in->f));
    return rc;
}

/* ------------------------------------------------------------------ */
/* Networks */

typedef struct {
    sn_graph g;
    sn_coembed_info info;
    sn_partition part;
} network;

static void network_free(network *w)
{
    sn_graph_free(&w->g);
    sn_partition_free(&w->part);
}

static void report(const char *what, const network *w, int thresholded)
{
    char tau[64] = "";
    if (thresholded)
        snprintf(tau, sizeof tau, " at |r| > %.6g", w->info.threshold);
    sn_note("%s: %lld genes, %lld edges%s; %lld modules (%lld of 2+ genes), modularity %.4f", what,
            (long long)w->g.n, (long long)w->g.m, tau, (long long)w->part.n_modules,
            (long long)w->part.n_multi, w->part.modularity);
}

/* Edges lie strictly above the percentile, so when the values from it up
 * are tied none is left: modules and modularity would mean nothing. */
static int need_edges(const sn_graph *g, const sn_coembed_info *info, double pct, const char *what)
{
    if (g->m > 0)
        return SN_OK;
    return sn_err(SN_EINVAL, "%s has no edge: no pair of genes has |r| above the %.12gth percentile (%g), the "
                             "values from there up are tied; give a lower --percentile",
                  what, pct, info->threshold);
}

static int coembed(const input *in, const opts *o, network *w)
{
    char what[512];
    memset(w, 0, sizeof *w);
    SN_TRY(sn_coembed_dense(&in->emb, &o->net, &w->g, &w->info));
    snprintf(what, sizeof what, "%s: the co-embedded network", sn_h5_name(in->f));
    SN_TRY(need_edges(&w->g, &w->info, o->net.percentile, what));
    return sn_graph_communities(&w->g, &o->comm, &w->part);
}

static int baseline_expression(hid_t fid, const opts *o, network *w)
{
    sn_csr x, xt;
    memset(w, 0, sizeof *w);
    SN_TRY(sn_h5ad_read_csr(fid, "X", &x));
    /* checked as stored (cells x genes): the transpose would swap row and
     * column in the message */
    int rc = sn_csr_validate(&x, 1);
    if (rc == SN_OK)
        rc = sn_csr_transpose(&x, &xt);
    sn_csr_free(&x);
    if (rc < 0)
        return sn_err_prefix(rc, "X: ");
    if ((rc = sn_coembed_sparse(&xt, &o->net, &w->g, &w->info)) < 0)
        sn_err_prefix(rc, "X: ");
    sn_csr_free(&xt);
    if (rc == SN_OK)
        rc = need_edges(&w->g, &w->info, o->net.percentile, "the co-expression network of X");
    return rc < 0 ? rc : sn_graph_communities(&w->g, &o->comm, &w->part);
}

static int baseline_ppi(hid_t fid, const opts *o, network *w)
{
    sn_csr a;
    memset(w, 0, sizeof *w);
    SN_TRY(sn_h5ad_read_csr(fid, "varp/scnet_ppi", &a));
    int rc = sn_csr_check_weights(&a, "varp/scnet_ppi");
    if (rc == SN_OK && (rc = sn_graph_from_csr(&a, o->net.weighted, &w->g)) < 0)
        sn_err_prefix(rc, "varp/scnet_ppi: ");
    sn_csr_free(&a);
    if (rc == SN_OK && w->g.m == 0)
        rc = sn_err(SN_EINVAL, "varp/scnet_ppi has no edge between two genes: the PPI baseline has no modules");
    return rc < 0 ? rc : sn_graph_communities(&w->g, &o->comm, &w->part);
}

/* ------------------------------------------------------------------ */
/* Differential network over the genes both files embed */

typedef struct {
    char **names; /* shared genes, in the first file's order (borrowed) */
    int64_t n;
    sn_netdiff d;
} diff_result;

/* Row i of a is used only as the first copy of its name: a later copy
 * would match b's gene again, adding a spurious edge and making the count
 * depend on which file is the input. */
static int64_t shared_rows(const input *a, const input *b, int64_t *ia, int64_t *ib)
{
    int64_t n = 0;
    for (int64_t i = 0; i < a->n; i++) {
        int64_t j = sn_strmap_get(&b->byname, a->genes[i]);
        if (j >= 0 && sn_strmap_get(&a->byname, a->genes[i]) == i) {
            if (ia) {
                ia[n] = i;
                ib[n] = j;
            }
            n++;
        }
    }
    return n;
}

static int rows_of(const sn_mat *m, const int64_t *rows, int64_t n, sn_mat *out)
{
    SN_TRY(sn_mat_alloc(out, n, m->ncol));
    for (int64_t r = 0; r < n; r++)
        memcpy(out->data + r * m->ncol, m->data + rows[r] * m->ncol, (size_t)m->ncol * sizeof *m->data);
    return SN_OK;
}

static int diff_build(const input *a, const input *b, const opts *o, const int64_t *ia,
                      const int64_t *ib, diff_result *r)
{
    sn_mat ea = {0}, eb = {0};
    sn_graph ga = {0}, gb = {0};
    sn_coembed_info ia_info, ib_info;
    char what[2][512];
    int rc;
    const char *na = sn_h5_name(a->f), *nb = sn_h5_name(b->f);
    snprintf(what[0], sizeof what[0], "%s: the network over the %lld genes shared with %s", na, (long long)r->n, nb);
    snprintf(what[1], sizeof what[1], "%s: the network over the %lld genes shared with %s", nb, (long long)r->n, na);
    SN_CHECK(rows_of(&a->emb, ia, r->n, &ea));
    SN_CHECK(rows_of(&b->emb, ib, r->n, &eb));
    SN_CHECK(sn_coembed_dense(&ea, &o->net, &ga, &ia_info));
    SN_CHECK(need_edges(&ga, &ia_info, o->net.percentile, what[0]));
    SN_CHECK(sn_coembed_dense(&eb, &o->net, &gb, &ib_info));
    SN_CHECK(need_edges(&gb, &ib_info, o->net.percentile, what[1]));
    SN_CHECK(sn_graph_diff(&ga, r->names, &gb, r->names, &r->d));
out:
    sn_mat_free(&ea);
    sn_mat_free(&eb);
    sn_graph_free(&ga);
    sn_graph_free(&gb);
    return rc;
}

/* b: the second file, opened before anything is computed. */
static int diff_run(const input *a, const input *b, const opts *o, diff_result *r)
{
    int64_t *ia = NULL, *ib = NULL;
    memset(r, 0, sizeof *r);
    ia = sn_malloc(sn_mul_size((size_t)a->n + 1, sizeof *ia), "shared genes");
    ib = sn_malloc(sn_mul_size((size_t)a->n + 1, sizeof *ib), "shared genes");
    r->names = sn_malloc(sn_mul_size((size_t)a->n + 1, sizeof *r->names), "shared genes");
    int rc = ia && ib && r->names ? SN_OK : SN_ENOMEM;
    if (rc == SN_OK)
        r->n = shared_rows(a, b, ia, ib);
    for (int64_t k = 0; rc == SN_OK && k < r->n; k++)
        r->names[k] = a->genes[ia[k]];
    if (rc == SN_OK)
        rc = diff_build(a, b, o, ia, ib, r);
    free(ia);
    free(ib);
    return rc;
}

/* The networks are matched by gene name: a repeated name finds its first
 * copy only. */
static void warn_dup_names(const input *in, int64_t ndup, int64_t first)
{
    if (ndup)
        sn_warn("%s: %lld gene name%s in var repeat%s an earlier one (the first: '%.40s'); --diff matches genes "
                "by name, which finds the first copy only", sn_h5_name(in->f), (long long)ndup,
                ndup == 1 ? "" : "s", ndup == 1 ? "s" : "", in->genes[first]);
}

/* The second file of --diff: some genes shared.  Its network is built from
 * its own embedding, so the widths of the two may differ. */
static int diff_open(const opts *o, input *in, input *other)
{
    int64_t ndup, first, odup, ofirst;
    SN_TRY(input_open(o->diff, o->embedding, other));
    /* kept for shared_rows, which matches the genes again */
    SN_TRY(sn_strmap_index(&in->byname, in->genes, in->n, &ndup, &first));
    SN_TRY(sn_strmap_index(&other->byname, other->genes, other->n, &odup, &ofirst));
    int64_t shared = shared_rows(in, other, NULL, NULL);
    if (shared < 2)
        return sn_err(SN_EFMT, "%s shares %lld genes with %s: nothing to compare", o->diff, (long long)shared,
                      sn_h5_name(in->f));
    warn_dup_names(in, ndup, first);
    warn_dup_names(other, odup, ofirst);
    return SN_OK;
}

/* Everything the run will need, checked before the long computations. */
static int inputs_open(const opts *o, input *in, input *other)
{
    SN_TRY(input_open(o->input, o->embedding, in));
    hid_t fid = sn_h5_id(in->f);
    const char *name = sn_h5_name(in->f);
    int rc = sn_subset_check_shapes(fid); /* the output copies every field */
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", name);
    if (o->base_expr && !sn_h5ad_exists(fid, "X"))
        return sn_err(SN_EFMT, "%s: X is missing (needed by --baseline expression)", name);
    int64_t n_obs, n_var;
    if (o->base_expr && sn_h5ad_shape(fid, "X", &n_obs, &n_var) == SN_OK && n_obs < 3)
        return sn_err(SN_EINVAL, "%s: X has %lld cell%s; the expression baseline needs at least 3 (over fewer, "
                                 "every correlation is 1, -1 or undefined)", name, (long long)n_obs,
                      n_obs == 1 ? "" : "s");
    if (o->base_ppi && !sn_h5ad_exists(fid, "varp/scnet_ppi"))
        return sn_err(SN_EFMT, "%s: varp/scnet_ppi is missing (needed by --baseline ppi; run scnet-prep "
                               "with --ppi)", name);
    sn_h5ad_elem e;
    if (o->base_ppi && sn_h5ad_stat(fid, "varp/scnet_ppi", &e) == SN_OK && e.nnz == 0)
        return sn_err(SN_EINVAL, "%s: varp/scnet_ppi has no edge: the PPI baseline has no modules", name);
    return o->diff ? diff_open(o, in, other) : SN_OK;
}

/* ------------------------------------------------------------------ */
/* Writing */

/* var['scnet_module']: categorical "0", "1", ... in module order (0 is the
 * largest), the form scanpy uses for clusters. */
static int module_col(const sn_partition *p, sn_col *c)
{
    SN_TRY(sn_col_new(c, "scnet_module", SN_COL_CAT, p->n));
    c->cats = sn_calloc((size_t)p->n_modules + 1, sizeof *c->cats, "module names");
    if (!c->cats) {
        sn_col_free(c);
        return SN_ENOMEM;
    }
    c->ncat = p->n_modules;
    for (int64_t k = 0; k < p->n_modules; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)k);
        if (!(c->cats[k] = sn_strdup(buf))) {
            sn_col_free(c);
            return SN_ENOMEM;
        }
    }
    for (int64_t i = 0; i < p->n; i++)
        c->v.codes[i] = (int32_t)p->membership[i];
    return SN_OK;
}

static int write_summary(hid_t g, const network *w, int thresholded)
{
    if (thresholded)
        SN_TRY(sn_h5ad_write_scalar(g, "threshold", w->info.threshold));
    SN_TRY(sn_h5ad_write_int(g, "n_edges", w->g.m));
    SN_TRY(sn_h5ad_write_scalar(g, "modularity", w->part.modularity));
    SN_TRY(sn_h5ad_write_int(g, "n_modules", w->part.n_modules));
    return sn_h5ad_write_int(g, "n_modules_multi", w->part.n_multi);
}

static int write_sub(hid_t parent, const char *name, const network *w, int thresholded)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(parent, name, &g));
    int rc = write_summary(g, w, thresholded);
    H5Gclose(g);
    return rc;
}

static int write_params(hid_t g, const opts *o)
{
    SN_TRY(sn_h5ad_write_scalar(g, "percentile", o->net.percentile));
    int leiden = o->comm.method == SN_COMM_LEIDEN;
    SN_TRY(sn_h5ad_write_str(g, "method", leiden ? "leiden" : "louvain"));
    SN_TRY(sn_h5ad_write_scalar(g, "resolution", o->comm.resolution));
    if (leiden) { /* Louvain has no such parameters */
        SN_TRY(sn_h5ad_write_scalar(g, "beta", o->comm.beta));
        SN_TRY(sn_h5ad_write_int(g, "iterations", o->comm.iterations));
    }
    SN_TRY(sn_h5ad_write_int(g, "seed", (int64_t)o->comm.seed));
    SN_TRY(sn_h5ad_write_bool(g, "weighted", o->net.weighted));
    return sn_h5ad_write_str(g, "embedding", o->embedding);
}

typedef struct {
    network main, expr, ppi;
    diff_result diff;
    int has_expr, has_ppi, has_diff;
} results;

static int write_diff_summary(hid_t parent, const opts *o, const diff_result *d)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(parent, "diff", &g));
    int rc = sn_h5ad_write_str(g, "other", o->diff);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "n_shared_genes", d->n);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "n_only_this", d->d.n_only1);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "n_only_other", d->d.n_only2);
    if (rc == SN_OK)
        rc = sn_h5ad_write_int(g, "n_common", d->d.n_common);
    H5Gclose(g);
    return rc;
}

static int write_uns(hid_t out, const opts *o, const results *r, const sn_cli *cli)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "uns/scnet/coembed", &g));
    int rc = write_summary(g, &r->main, 1);
    if (rc == SN_OK)
        rc = write_params(g, o);
    if (rc == SN_OK && r->has_expr)
        rc = write_sub(g, "baseline_expression", &r->expr, 1);
    if (rc == SN_OK && r->has_ppi)
        rc = write_sub(g, "baseline_ppi", &r->ppi, 0);
    if (rc == SN_OK && r->has_diff)
        rc = write_diff_summary(g, o, &r->diff);
    H5Gclose(g);
    return rc == SN_OK ? sn_h5ad_record_run(out, cli) : rc;
}

static int write_network(hid_t out, const char *path, const network *w)
{
    sn_csr adj;
    SN_TRY(sn_graph_to_csr(&w->g, &adj));
    int rc = sn_h5ad_write_csr(out, path, &adj, 0);
    sn_csr_free(&adj);
    return rc;
}

/* Whether the input's propagation scored a network this run replaces:
 * its scores would no longer be of the file's network. */
static int stale_propagation(hid_t in)
{
    char *net = NULL;
    if (!sn_h5ad_exists(in, "uns/scnet/propagate/network") ||
        sn_h5ad_read_str(in, "uns/scnet/propagate/network", &net) < 0)
        return 0;
    int stale = strcmp(net, "scnet_coembed") == 0 || strcmp(net, "scnet_coexpression") == 0;
    if (stale)
        sn_info("uns/scnet/propagate left out: it scored the old varp['%s']", net);
    free(net);
    return stale;
}

static int write_h5ad(hid_t in, hid_t out, const opts *o, const results *r, const sn_cli *cli)
{
    const char *skip[] = {"varp/scnet_coembed", "varp/scnet_coexpression", "uns/scnet/coembed", NULL, NULL};
    if (stale_propagation(in))
        skip[3] = "uns/scnet/propagate";
    sn_col col;
    SN_TRY(sn_h5ad_copy(in, out, skip));
    int rc = write_network(out, "varp/scnet_coembed", &r->main);
    /* kept so that scnet-propagate can score gene sets over it too */
    if (rc == SN_OK && r->has_expr)
        rc = write_network(out, "varp/scnet_coexpression", &r->expr);
    if (rc == SN_OK && (rc = module_col(&r->main.part, &col)) == SN_OK) {
        rc = sn_h5ad_write_col(out, "var", &col, 0);
        sn_col_free(&col);
    }
    return rc < 0 ? rc : write_uns(out, o, r, cli);
}

static int write_exports(const opts *o, const input *in, const results *r)
{
    const network *w = &r->main;
    if (o->tsv)
        SN_TRY(sn_graph_write_tsv(&w->g, in->genes, o->tsv));
    if (o->modules)
        SN_TRY(sn_modules_write_tsv(in->genes, w->part.membership, w->g.n, o->modules));
    if (o->graphml)
        SN_TRY(sn_graph_write_graphml(&w->g, in->genes, w->part.membership, o->graphml));
    if (r->has_diff)
        SN_TRY(sn_netdiff_write_tsv(&r->diff.d, r->diff.names, o->input, o->diff, o->diff_out));
    return SN_OK;
}

/* ------------------------------------------------------------------ */

static int baselines(const opts *o, const input *in, results *r)
{
    hid_t fid = sn_h5_id(in->f);
    int rc = SN_OK;
    if (o->base_expr) {
        r->has_expr = 1;
        if ((rc = baseline_expression(fid, o, &r->expr)) < 0)
            return sn_err_prefix(rc, "%s: ", sn_h5_name(in->f));
    }
    if (o->base_ppi) {
        r->has_ppi = 1;
        if ((rc = baseline_ppi(fid, o, &r->ppi)) < 0)
            return sn_err_prefix(rc, "%s: ", sn_h5_name(in->f));
    }
    return rc;
}

/* Said once everything is written: a run that fails says only why. */
static void report_all(const opts *o, const results *r)
{
    report("co-embedded network", &r->main, 1);
    if (r->has_expr)
        report("expression baseline", &r->expr, 1);
    if (r->has_ppi)
        report("PPI baseline", &r->ppi, 0);
    if (r->has_diff)
        sn_note("differential: %lld shared genes; %lld edges only in %s, %lld only in %s, %lld in both",
                (long long)r->diff.n, (long long)r->diff.d.n_only1, o->input, (long long)r->diff.d.n_only2, o->diff,
                (long long)r->diff.d.n_common);
}

static int compute(const opts *o, const input *in, const input *other, results *r)
{
    double t0 = sn_time();
    SN_TRY(coembed(in, o, &r->main));
    sn_info("network built in %.1f s (%d passes over the correlations)", sn_time() - t0, r->main.info.passes);
    SN_TRY(baselines(o, in, r));
    if (o->diff) {
        r->has_diff = 1;
        SN_TRY(diff_run(in, other, o, &r->diff));
    }
    return SN_OK;
}

static void results_free(results *r)
{
    network_free(&r->main);
    network_free(&r->expr);
    network_free(&r->ppi);
    sn_netdiff_free(&r->diff.d);
    free(r->diff.names);
}

static int run(sn_cli *cli, void *ctx)
{
    const opts *o = ctx;
    input in, other;
    results r;
    sn_h5 *out = NULL;
    memset(&r, 0, sizeof r);
    memset(&other, 0, sizeof other);
    sn_out_hold(); /* the .h5ad and the exports succeed or fail together */
    int rc = inputs_open(o, &in, &other);
    if (rc == SN_OK) /* an unwritable output fails before the work, not after */
        rc = sn_h5_create(cli->output, &out);
    if (rc == SN_OK)
        rc = compute(o, &in, &other, &r);
    if (rc == SN_OK && (rc = write_h5ad(sn_h5_id(in.f), sn_h5_id(out), o, &r, cli)) < 0)
        sn_err_prefix(rc, "%s: ", sn_h5_name(out));
    if (rc == SN_OK) {
        rc = sn_h5_commit(out);
        out = NULL;
    }
    if (rc == SN_OK)
        rc = write_exports(o, &in, &r);
    int rel = sn_out_release(rc == SN_OK);
    if (rc == SN_OK)
        rc = rel;
    if (rc == SN_OK)
        report_all(o, &r);
    sn_h5_close(out);
    results_free(&r);
    input_close(&in);
    input_close(&other);
    return rc;
}

static void opts_default(opts *o)
{
    memset(o, 0, sizeof *o);
    sn_coembed_opts_default(&o->net);
    sn_comm_opts_default(&o->comm);
    o->embedding = "scnet";
}

static const sn_cli_prog program = {"scnet-coembed", usage, longopts, SN_CLI_SHORTOPTS "p:",
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    opts o;
    opts_default(&o);
    return sn_cli_main(&program, &o, argc, argv);
}
