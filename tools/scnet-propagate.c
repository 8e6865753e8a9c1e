/* scnet-propagate: network propagation of seed genes (random walk with
 * restart, degree-normalised), evaluation on gene sets by held-out genes,
 * and z-scores against degree-preserving random networks. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/cli.h"
#include "scnet/file.h"
#include "scnet/graph.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/ppi.h"
#include "scnet/propagate.h"
#include "scnet/read.h"
#include "scnet/strmap.h"
#include "scnet/text.h"
#include "scnet/subset.h"

enum {
    OPT_NETWORK = SN_OPT_PROG,
    OPT_EDGES,
    OPT_UNWEIGHTED,
    OPT_GENES,
    OPT_GMT,
    OPT_MIN_SIZE,
    OPT_MAX_SIZE,
    OPT_ALPHA,
    OPT_TOL,
    OPT_MAX_ITER,
    OPT_NO_NORMALIZE,
    OPT_JOINT,
    OPT_EVALUATE,
    OPT_SPLITS,
    OPT_HOLDOUT,
    OPT_REFERENCE,
    OPT_N_RANDOM,
    OPT_SWAPS
};

/* -g given more often than this is a usage error: long lists go in --genes. */
#define MAX_GENE_OPTS 256

typedef struct {
    const char *input, *network, *edges, *genes_file, *gmt;
    const char *gene_lists[MAX_GENE_OPTS]; /* each -g, in argv (repeats add up) */
    int n_gene_lists;
    int unweighted, evaluate, n_random, splits_set, holdout_set;
    const char *eval_only; /* the last option given that only --evaluate uses */
    const char *random_only; /* likewise for --n-random */
    const char *gmt_only;    /* likewise for --gmt */
    int64_t min_size, max_size;
    double swaps;
    sn_eval_opts ev; /* ev.prop: the propagation options */
} opts;

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: scnet-propagate [options] [FILE]\n"
            "\n"
            "Propagate seed genes over a gene network (random walk with restart,\n"
            "normalised by the propagation of a uniform prior to remove the degree\n"
            "bias) and print a score per gene and seed set; or evaluate how well\n"
            "propagation recovers held-out members of gene sets (AUROC, AUPR), also\n"
            "against degree-preserving random networks (z-scores).  The network is\n"
            "varp[KEY] of the AnnData FILE (standard input by default) or --edges.\n"
            "\n"
            "Network:\n"
            "      --network KEY       varp key of the network in FILE [scnet_coembed]\n"
            "      --edges FILE        read the network from an edge list (TSV/CSV, gz)\n"
            "      --unweighted        treat every edge as weight 1\n"
            "\n"
            "Seeds (one of):\n"
            "  -g, --gene LIST         comma-separated seed genes (one set; repeat to add)\n"
            "      --genes FILE        seed genes, one per line (one set)\n"
            "      --gmt FILE          gene sets (GMT); one column or evaluation per set\n"
            "      --min-size INT      skip GMT sets with fewer genes in the network [5]\n"
            "      --max-size INT      skip GMT sets with more genes in the network [500]\n"
            "\n"
            "Propagation:\n"
            "      --alpha FLOAT       weight of the walk against the restart [0.9]\n"
            "      --tol FLOAT         stop when an update changes the scores by at most [1e-4]\n"
            "      --max-iter INT      at most this many updates [1000]\n"
            "      --no-normalize      raw scores, not divided by the uniform prior's\n"
            "      --joint             stop all sets together on the Frobenius norm (the\n"
            "                          reference's matrix rule); default: each set alone\n"
            "\n"
            "Evaluation:\n"
            "      --evaluate          per-set AUROC and AUPR of held-out genes instead\n"
            "                          of scores\n"
            "      --splits INT        random splits per set [5; 1 with --n-random]\n"
            "      --holdout FLOAT     fraction of a set's genes held out [1/3]\n"
            "      --reference-split   the reference's rule instead: 70%% of all genes\n"
            "                          train, as many random negatives as positives\n"
            "      --n-random INT      z-scores against INT randomised networks (implies\n"
            "                          --evaluate) [0]\n"
            "      --swaps FLOAT       accepted double-edge swaps per edge [10]\n"
            "\n"
            "Output (-o): TSV, or with -o NAME.h5ad and an .h5ad input, FILE with\n"
            "uns['scnet']['propagate'] added.\n");
    sn_cli_usage_common(fp, 0);
    fprintf(fp, "\nExamples:\n"
                "  scnet-propagate -g TP53,MDM2,CDKN1A sample.net.h5ad > scores.tsv\n"
                "  scnet-propagate --edges ppi.tsv.gz --gmt kegg.gmt.gz --evaluate --n-random 30\n");
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int int_opt(const char *opt, const char *arg, long long lo, long long hi, int64_t *dst)
{
    long long v;
    SN_TRY(sn_cli_int(opt, arg, lo, hi, &v));
    *dst = v;
    return SN_OK;
}

static int parse_num(opts *o, int c, const char *arg)
{
    int64_t v;
    sn_prop_opts *p = &o->ev.prop;
    switch (c) {
    case OPT_MIN_SIZE: o->gmt_only = "--min-size"; return int_opt("--min-size", arg, 2, INT32_MAX, &o->min_size);
    case OPT_MAX_SIZE: o->gmt_only = "--max-size"; return int_opt("--max-size", arg, 2, INT32_MAX, &o->max_size);
    case OPT_ALPHA: return sn_cli_double("--alpha", arg, 0, 0.999999, &p->alpha);
    case OPT_TOL: return sn_cli_double("--tol", arg, 1e-300, 1e300, &p->tol);
    case OPT_HOLDOUT:
        o->eval_only = "--holdout";
        o->holdout_set = 1;
        return sn_cli_double("--holdout", arg, 1e-6, 1 - 1e-6, &o->ev.holdout);
    case OPT_SWAPS:
        o->random_only = "--swaps";
        return sn_cli_double("--swaps", arg, 0, 1e6, &o->swaps);
    case OPT_MAX_ITER:
        SN_TRY(int_opt("--max-iter", arg, 0, 100000000, &v));
        p->max_iter = (int)v;
        return SN_OK;
    case OPT_SPLITS:
        SN_TRY(int_opt("--splits", arg, 1, 1000000, &v));
        o->ev.splits = (int)v;
        o->splits_set = 1;
        o->eval_only = "--splits";
        return SN_OK;
    case OPT_N_RANDOM:
        SN_TRY(int_opt("--n-random", arg, 0, 100000, &v));
        o->n_random = (int)v;
        return SN_OK;
    }
    return sn_cli_bad("unknown option");
}

static int add_gene_list(opts *o, const char *arg)
{
    if (!arg[strspn(arg, ", \t")])
        return sn_cli_bad("-g '%s' names no gene", arg);
    if (o->n_gene_lists == MAX_GENE_OPTS)
        return sn_cli_bad("-g is given more than %d times (put long lists in a --genes file)", MAX_GENE_OPTS);
    o->gene_lists[o->n_gene_lists++] = arg;
    return SN_OK;
}

static int parse_opt(void *ctx, int c, const char *arg)
{
    opts *o = ctx;
    switch (c) {
    case OPT_NETWORK: o->network = arg; return SN_OK;
    case OPT_EDGES: o->edges = arg; return SN_OK;
    case OPT_UNWEIGHTED: o->unweighted = 1; return SN_OK;
    case 'g': return add_gene_list(o, arg);
    case OPT_GENES: o->genes_file = arg; return SN_OK;
    case OPT_GMT: o->gmt = arg; return SN_OK;
    case OPT_NO_NORMALIZE: o->ev.prop.normalize = 0; return SN_OK;
    case OPT_JOINT: o->ev.prop.joint = 1; return SN_OK;
    case OPT_EVALUATE: o->evaluate = 1; return SN_OK;
    case OPT_REFERENCE:
        o->ev.mode = SN_SPLIT_REFERENCE;
        o->eval_only = "--reference-split";
        return SN_OK;
    }
    return parse_num(o, c, arg);
}

static int parse_operands(sn_cli *cli, void *ctx, int npos, char **pos)
{
    opts *o = ctx;
    if (npos > 1)
        return sn_cli_bad("expected at most one input file, got %d", npos);
    if (npos == 1 && o->edges)
        return sn_cli_bad("give either an .h5ad FILE or --edges, not both");
    o->input = npos ? pos[0] : o->edges ? NULL : "-";
    if (o->input && is(o->input, "-") && isatty(STDIN_FILENO))
        return sn_cli_bad("no input: standard input is a terminal (give an .h5ad FILE, pipe one in, or give --edges)");
    if (!!o->n_gene_lists + !!o->genes_file + !!o->gmt != 1)
        return sn_cli_bad("give one source of seeds: -g, --genes or --gmt");
    if (o->gmt_only && !o->gmt)
        return sn_cli_bad("%s applies to --gmt only", o->gmt_only);
    if (o->min_size > o->max_size)
        return sn_cli_bad("--min-size %lld is larger than --max-size %lld", (long long)o->min_size,
                          (long long)o->max_size);
    if (o->n_random == 1)
        return sn_cli_bad("--n-random needs at least 2 networks for a standard deviation");
    o->evaluate |= o->n_random > 0;
    if (o->eval_only && !o->evaluate)
        return sn_cli_bad("%s applies to --evaluate (or --n-random) only", o->eval_only);
    if (o->random_only && o->n_random == 0)
        return sn_cli_bad("%s applies to --n-random only", o->random_only);
    if (o->holdout_set && o->ev.mode == SN_SPLIT_REFERENCE)
        return sn_cli_bad("--holdout does not apply to --reference-split (its split is 70/30 of all genes)");
    if (!o->splits_set && o->n_random > 0)
        o->ev.splits = 1;
    if (ends_with(cli->output, ".h5ad") && !o->input)
        return sn_cli_bad("-o %s: an .h5ad output needs an .h5ad input", cli->output);
    o->ev.seed = cli->seed;
    o->ev.min_genes = 2;
    /* An .h5ad output may update the input in place; a table may not. */
    int h5ad = ends_with(cli->output, ".h5ad");
    const sn_cli_file f[] = {{o->input, "the input", 0, 1}, {o->edges, "--edges", 0, 0},
                             {o->genes_file, "--genes", 0, 0}, {o->gmt, "--gmt", 0, 0},
                             {cli->output, "-o", h5ad ? SN_OUT_HDF5 : SN_OUT_TEXT, h5ad}};
    return sn_cli_files(cli, f, 5);
}

static const struct option longopts[] = {
    SN_CLI_LONGOPTS,
    {"network", required_argument, NULL, OPT_NETWORK},
    {"edges", required_argument, NULL, OPT_EDGES},
    {"unweighted", no_argument, NULL, OPT_UNWEIGHTED},
    {"gene", required_argument, NULL, 'g'},
    {"genes", required_argument, NULL, OPT_GENES},
    {"gmt", required_argument, NULL, OPT_GMT},
    {"min-size", required_argument, NULL, OPT_MIN_SIZE},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"alpha", required_argument, NULL, OPT_ALPHA},
    {"tol", required_argument, NULL, OPT_TOL},
    {"max-iter", required_argument, NULL, OPT_MAX_ITER},
    {"no-normalize", no_argument, NULL, OPT_NO_NORMALIZE},
    {"joint", no_argument, NULL, OPT_JOINT},
    {"evaluate", no_argument, NULL, OPT_EVALUATE},
    {"splits", required_argument, NULL, OPT_SPLITS},
    {"holdout", required_argument, NULL, OPT_HOLDOUT},
    {"reference-split", no_argument, NULL, OPT_REFERENCE},
    {"n-random", required_argument, NULL, OPT_N_RANDOM},
    {"swaps", required_argument, NULL, OPT_SWAPS},
    {NULL, 0, NULL, 0}};

/* ------------------------------------------------------------------ */
/* The network */

typedef struct {
    sn_h5 *f; /* the .h5ad input, kept open for an .h5ad output */
    sn_graph g;
    char **names;
    int64_t n;
    sn_col ids; /* the .h5ad's var['gene_ids'] when it is text, else empty */
} network;

static void network_free(network *w)
{
    sn_h5_close(w->f);
    sn_graph_free(&w->g);
    sn_free_strings(w->names, w->n);
    sn_col_free(&w->ids);
    memset(w, 0, sizeof *w);
}

/* var['gene_ids'] taken from the frame when it holds text; numbers (or no
 * such column) leave seeds to the names alone. */
static void take_gene_ids(sn_frame *var, network *w)
{
    sn_col *c = sn_frame_get(var, "gene_ids");
    if (c && (c->type == SN_COL_STR || (c->type == SN_COL_CAT && !c->cat_dtype[0]))) {
        w->ids = *c;
        memset(c, 0, sizeof *c);
    } else if (c)
        sn_info("var['gene_ids'] holds no text: seed genes are looked up by name only");
}

static int read_varp(hid_t fid, const opts *o, network *w)
{
    int64_t n_obs, n_var;
    sn_frame var;
    sn_csr a;
    char path[512];
    SN_TRY(sn_h5ad_check(fid, &n_obs, &n_var));
    SN_TRY(sn_h5ad_read_frame(fid, "var", &var));
    w->names = var.index;
    w->n = var.n;
    var.index = NULL;
    take_gene_ids(&var, w);
    sn_frame_free(&var);
    snprintf(path, sizeof path, "varp/%s", o->network);
    if (!sn_h5ad_exists(fid, path))
        return sn_err(SN_EFMT, "%s is missing (run scnet-coembed first, or choose --network)", path);
    SN_TRY(sn_subset_fits(fid, path, w->n, w->n)); /* a wrong shape is not an index out of range */
    SN_TRY(sn_h5ad_read_csr(fid, path, &a));
    int rc = sn_graph_from_csr(&a, !o->unweighted, &w->g);
    sn_csr_free(&a);
    return rc < 0 && !strstr(sn_errmsg(), path) ? sn_err_prefix(rc, "%s: ", path) : rc;
}

static int read_edge_list(const opts *o, network *w)
{
    sn_edges e;
    SN_TRY(sn_read_edges(o->edges, &e));
    const double *wt = e.weighted && !o->unweighted ? e.w : NULL;
    int rc = sn_graph_from_names(e.n, e.a, e.b, wt, &w->g, &w->names);
    w->n = rc == SN_OK ? w->g.n : 0;
    sn_edges_free(&e);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", o->edges);
    return SN_OK;
}

/* A walk over a network without an edge of positive weight between two
 * genes never leaves its seeds: every score would be the prior. */
static int has_walk(const sn_graph *g)
{
    for (int64_t e = 0; e < g->m; e++)
        if (!g->w || g->w[e] > 0)
            return 1;
    return 0;
}

static int network_load(const opts *o, network *w)
{
    memset(w, 0, sizeof *w);
    if (o->edges)
        SN_TRY(read_edge_list(o, w));
    else {
        SN_TRY(sn_h5_open(o->input, &w->f));
        int rc = read_varp(sn_h5_id(w->f), o, w);
        if (rc < 0)
            return sn_err_prefix(rc, "%s: ", sn_h5_name(w->f));
    }
    if (!has_walk(&w->g)) {
        if (o->edges)
            return sn_err(SN_EFMT, "%s: no edge of positive weight between two different genes", o->edges);
        return sn_err(SN_EFMT, "%s: varp/%s has no edge of positive weight between two different genes",
                      sn_h5_name(w->f), o->network);
    }
    sn_info("network: %lld genes, %lld edges%s", (long long)w->g.n, (long long)w->g.m,
            w->g.w ? ", weighted" : "");
    return SN_OK;
}

/* ------------------------------------------------------------------ */
/* Seed genes to network genes: the exact name; else var['gene_ids'],
 * as written or without an Ensembl version; else the name ignoring case,
 * when no other network gene folds to it.  Gene sets from another
 * species' database (CD4 for a mouse network's Cd4) or given as ids
 * (ENSG00000010610 for CD4) thus still find their genes.  A seed that
 * only finds several genes (two versions of its id, two cases of its
 * name) is ambiguous and counted apart from the genes not in the
 * network: guessing one would seed a gene the set may not mean. */

enum { BY_NAME, BY_ID, BY_CASE, N_ROUTES };
#define NOT_FOUND (-1)
#define AMBIGUOUS (-2)

typedef struct {
    char *const *names;
    int64_t n;             /* network genes */
    const sn_col *ids;     /* var['gene_ids'], or NULL */
    sn_strmap name;        /* exact names, the first copy of a repeat */
    sn_strmap id, bare_id; /* gene_ids as written; without a version (or AMBIGUOUS) */
    sn_strmap fold;        /* lower-cased names (or AMBIGUOUS) */
    char *keys;            /* the keys of bare_id and fold */
    char *buf;             /* a seed's bare or lower-cased form */
    size_t buf_len;        /* a longer form matches no name or id */
    int64_t ndup, first;   /* repeated names (sn_strmap_index) */
    uint8_t *reached;      /* per gene: a bit per route that reached it */
    int64_t count[N_ROUTES];
    char *example[N_ROUTES];
    int64_t example_row[N_ROUTES];
    sn_strmap amb_seen;    /* ambiguous seeds counted, by name */
    sn_strs amb_names;     /* the keys of amb_seen */
    int64_t amb_count[N_ROUTES];
    const char *amb_example[N_ROUTES]; /* the first, in amb_names */
} lookup;

static void lookup_free(lookup *L)
{
    sn_strmap_free(&L->name);
    sn_strmap_free(&L->id);
    sn_strmap_free(&L->bare_id);
    sn_strmap_free(&L->fold);
    free(L->keys);
    free(L->buf);
    free(L->reached);
    for (int k = 0; k < N_ROUTES; k++)
        free(L->example[k]);
    sn_strmap_free(&L->amb_seen);
    sn_strs_free(&L->amb_names);
    memset(L, 0, sizeof *L);
}

/* Length of an Ensembl id without its version (ENSG00000010610.12 -> 15);
 * other names keep their dots (AC012345.1 and AC012345.2 differ). */
static size_t bare_len(const char *s)
{
    char type;
    size_t n = sn_ppi_ensembl_len(s, &type);
    return n ? n : strlen(s);
}

static void fold_case(char *dst, const char *s)
{
    while (*s)
        *dst++ = (char)tolower((unsigned char)*s++);
    *dst = 0;
}

/* Row i of a text column, NULL when missing or empty. */
static const char *id_of(const sn_col *c, int64_t i)
{
    const char *s = c->type == SN_COL_STR ? (c->na && c->na[i] ? NULL : c->v.str[i])
                    : c->v.codes[i] >= 0  ? c->cats[c->v.codes[i]]
                                          : NULL;
    return s && *s ? s : NULL;
}

/* key -> row, or AMBIGUOUS once a second row brings the same key. */
static int put_unique(sn_strmap *m, const char *key, int64_t row)
{
    int64_t old;
    int rc = sn_strmap_put(m, key, row, &old);
    return rc == 0 && old != row ? sn_strmap_set(m, key, AMBIGUOUS) : rc;
}

/* The lower-cased names, over the first copy of each name. */
static int fold_names(lookup *L, int64_t n, char **at)
{
    SN_TRY(sn_strmap_init(&L->fold, n));
    for (int64_t i = 0; i < n; i++) {
        if (sn_strmap_get(&L->name, L->names[i]) != i)
            continue;
        fold_case(*at, L->names[i]);
        SN_TRY(put_unique(&L->fold, *at, i));
        *at += strlen(*at) + 1;
    }
    return SN_OK;
}

/* gene_ids by the first row of each; their bare forms over those rows. */
static int index_ids(lookup *L, const sn_col *ids, char **at)
{
    SN_TRY(sn_strmap_init(&L->id, ids->n));
    SN_TRY(sn_strmap_init(&L->bare_id, ids->n));
    for (int64_t i = 0; i < ids->n; i++) {
        const char *s = id_of(ids, i);
        int rc = s ? sn_strmap_put(&L->id, s, i, NULL) : 0;
        SN_TRY(rc);
        if (rc == 0)
            continue;
        size_t len = bare_len(s);
        memcpy(*at, s, len);
        (*at)[len] = 0;
        SN_TRY(put_unique(&L->bare_id, *at, i));
        *at += len + 1;
    }
    return SN_OK;
}

/* Bytes for every name and id with its terminator; *longest: the
 * longest of them. */
static size_t key_bytes(const network *w, size_t *longest)
{
    size_t total = 0;
    *longest = 0;
    for (int64_t i = 0; i < w->n; i++) {
        const char *s[2] = {w->names[i], w->ids.n ? id_of(&w->ids, i) : NULL};
        for (int k = 0; k < 2; k++) {
            size_t len = s[k] ? strlen(s[k]) : 0;
            total += len + 1;
            *longest = len > *longest ? len : *longest;
        }
    }
    return total;
}

static int lookup_init(lookup *L, const network *w)
{
    size_t longest;
    memset(L, 0, sizeof *L);
    L->names = w->names;
    L->n = w->n;
    L->ids = w->ids.n ? &w->ids : NULL;
    SN_TRY(sn_strmap_init(&L->amb_seen, 16));
    SN_TRY(sn_strmap_index(&L->name, w->names, w->n, &L->ndup, &L->first));
    L->keys = sn_malloc(key_bytes(w, &longest) + 1, "gene name keys");
    L->buf_len = longest + 1;
    L->buf = sn_malloc(L->buf_len, "gene name keys");
    L->reached = sn_calloc((size_t)w->n + 1, 1, "gene marks");
    if (!L->keys || !L->buf || !L->reached)
        return SN_ENOMEM;
    char *at = L->keys;
    SN_TRY(fold_names(L, w->n, &at));
    return w->ids.n ? index_ids(L, &w->ids, &at) : SN_OK;
}

/* Row of the gene whose var['gene_ids'] is g, as written or without a
 * version; NOT_FOUND, or AMBIGUOUS when several ids have g's bare form. */
static int64_t find_by_id(lookup *L, const char *g)
{
    int64_t r = sn_strmap_get(&L->id, g);
    size_t bare = bare_len(g);
    if (r >= 0 || !L->bare_id.cap || bare >= L->buf_len)
        return r >= 0 ? r : NOT_FOUND;
    memcpy(L->buf, g, bare);
    L->buf[bare] = 0;
    r = sn_strmap_get(&L->bare_id, L->buf);
    return r >= 0 || r == AMBIGUOUS ? r : NOT_FOUND;
}

/* Row of the one gene named g ignoring case; NOT_FOUND, or AMBIGUOUS. */
static int64_t find_by_case(lookup *L, const char *g)
{
    if (strlen(g) >= L->buf_len)
        return NOT_FOUND;
    fold_case(L->buf, g);
    int64_t r = sn_strmap_get(&L->fold, L->buf);
    return r >= 0 || r == AMBIGUOUS ? r : NOT_FOUND;
}

/* Row of the network gene that seed g names, *by the route; else
 * AMBIGUOUS (*by: the first route that found several genes) or
 * NOT_FOUND. */
static int64_t lookup_find(lookup *L, const char *g, int *by)
{
    int64_t r = sn_strmap_get(&L->name, g), id;
    *by = BY_NAME;
    if (r >= 0)
        return r;
    *by = BY_ID;
    if ((id = find_by_id(L, g)) >= 0)
        return id;
    *by = BY_CASE;
    if ((r = find_by_case(L, g)) >= 0)
        return r;
    if (id == AMBIGUOUS)
        *by = BY_ID;
    return id == AMBIGUOUS ? AMBIGUOUS : r;
}

static int64_t lookup_row(lookup *L, const char *g)
{
    int by;
    return lookup_find(L, g, &by);
}

/* Count ambiguous seed g once per name, keeping the first of its route as
 * an example. */
static int count_ambiguous(lookup *L, const char *g, int by)
{
    if (sn_strmap_get(&L->amb_seen, g) >= 0)
        return SN_OK;
    SN_TRY(sn_strs_push(&L->amb_names, g));
    const char *copy = L->amb_names.v[L->amb_names.n - 1];
    SN_TRY(sn_strmap_put(&L->amb_seen, copy, by, NULL));
    if (L->amb_count[by]++ == 0)
        L->amb_example[by] = copy;
    return SN_OK;
}

/* Count the network genes a route other than the name reached, keeping
 * the first as an example, and the ambiguous seeds. */
static int lookup_count(lookup *L, const char *g)
{
    int by;
    int64_t r = lookup_find(L, g, &by);
    if (r == AMBIGUOUS)
        return count_ambiguous(L, g, by);
    if (r < 0 || by == BY_NAME || L->reached[r] & (1u << by))
        return SN_OK;
    L->reached[r] |= (uint8_t)(1u << by);
    if (L->count[by]++ == 0) {
        L->example_row[by] = r;
        if (!(L->example[by] = sn_strdup(g)))
            return SN_ENOMEM;
    }
    return SN_OK;
}

static const char *const route_how[N_ROUTES] = {"", "by var['gene_ids']", "ignoring case"};

/* Whether network row i is one of the genes ambiguous seed g found by
 * route by: its first id, or the first copy of its name, in g's bare or
 * lower-cased form.  Returns the id or name that matched, else NULL. */
static const char *ambiguous_hit(const lookup *L, int by, const char *g, int64_t i)
{
    if (by == BY_ID) {
        const char *s = id_of(L->ids, i);
        size_t len = bare_len(g);
        int hit = s && sn_strmap_get(&L->id, s) == i && bare_len(s) == len && strncmp(s, g, len) == 0;
        return hit ? s : NULL;
    }
    const char *s = L->names[i], *t = g;
    if (sn_strmap_get(&L->name, s) != i)
        return NULL;
    while (*s && tolower((unsigned char)*s) == tolower((unsigned char)*t))
        s++, t++;
    return *s || *t ? NULL : L->names[i];
}

/* "2 seed genes match more than one network gene ignoring case, so none
 * (e.g. 'cd4': 'CD4', 'Cd4')".  The genes are found again by a scan:
 * this runs once, and only when a seed was ambiguous. */
static void ambiguous_text(const lookup *L, int by, char *buf, size_t size)
{
    const char *g = L->amb_example[by], *hit[3] = {NULL, NULL, NULL};
    int k = 0;
    int64_t n = by == BY_ID ? L->ids->n : L->n;
    for (int64_t i = 0; i < n && k < 3; i++)
        if ((hit[k] = ambiguous_hit(L, by, g, i)))
            k++;
    snprintf(buf, size,
             "%lld seed gene%s more than one network gene %s, so none (e.g. '%.40s': '%.40s', '%.40s'%s)",
             (long long)L->amb_count[by], L->amb_count[by] == 1 ? " matches" : "s match", route_how[by], g,
             hit[0] ? hit[0] : "?", hit[1] ? hit[1] : "?", k > 2 ? ", ..." : "");
}

static void lookup_note(const lookup *L)
{
    char amb[512];
    for (int k = BY_ID; k < N_ROUTES; k++)
        if (L->count[k])
            sn_note("%lld seed gene%s matched %s (e.g. '%.40s' as '%.40s')", (long long)L->count[k],
                    L->count[k] == 1 ? "" : "s", route_how[k], L->example[k], L->names[L->example_row[k]]);
    for (int k = BY_ID; k < N_ROUTES; k++)
        if (L->amb_count[k]) {
            ambiguous_text(L, k, amb, sizeof amb);
            sn_note("%s", amb);
        }
}

/* ------------------------------------------------------------------ */
/* Seed sets, as node indices */

typedef struct {
    int64_t n, cap;
    sn_geneset *s; /* names and indices owned here */
    int64_t skipped;
} sets;

static void sets_free(sets *S)
{
    for (int64_t k = 0; k < S->n; k++) {
        free((char *)S->s[k].name);
        free((int32_t *)S->s[k].idx);
    }
    free(S->s);
    memset(S, 0, sizeof *S);
}

/* Map names to distinct nodes; sets outside [lo, hi] genes are skipped,
 * and only the genes of the sets kept count in the matching note. */
static int sets_add(sets *S, const char *name, char *const *genes, int64_t ng, lookup *L, uint8_t *seen,
                    int64_t lo, int64_t hi)
{
    int32_t *idx = sn_malloc(sn_mul_size((size_t)ng + 1, sizeof *idx), "gene set");
    if (!idx)
        return SN_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < ng; i++) {
        int64_t v = lookup_row(L, genes[i]);
        if (v >= 0 && !seen[v]++)
            idx[k++] = (int32_t)v;
    }
    for (int64_t i = 0; i < k; i++)
        seen[idx[i]] = 0;
    if (k < lo || k > hi) {
        free(idx);
        S->skipped++;
        return SN_OK;
    }
    if (sn_grow((void **)&S->s, &S->cap, S->n + 1, sizeof *S->s, "gene sets") < 0) {
        free(idx);
        return SN_ENOMEM;
    }
    int rc = SN_OK;
    for (int64_t i = 0; i < ng && rc == SN_OK; i++)
        rc = lookup_count(L, genes[i]);
    char *nm = rc == SN_OK ? sn_strdup(name) : NULL;
    if (!nm) {
        free(idx);
        return SN_ENOMEM;
    }
    S->s[S->n++] = (sn_geneset){nm, k, idx};
    return SN_OK;
}

/* "3 seed genes are not in the network: A, B, C", each name once, the
 * first few by name; ambiguous seeds have a note of their own. */
static int note_missing(char *const *genes, int64_t ng, lookup *L)
{
    enum { SHOW = 5 };
    sn_strmap once;
    char list[320] = "";
    int64_t n = 0;
    SN_TRY(sn_strmap_init(&once, 16));
    int rc = SN_OK;
    for (int64_t i = 0; i < ng && rc >= 0; i++) {
        if (lookup_row(L, genes[i]) != NOT_FOUND || (rc = sn_strmap_put(&once, genes[i], i, NULL)) <= 0)
            continue;
        size_t len = strlen(list);
        if (n++ < SHOW)
            snprintf(list + len, sizeof list - len, "%s%.40s", n > 1 ? ", " : "", genes[i]);
    }
    sn_strmap_free(&once);
    SN_TRY(rc);
    size_t len = strlen(list);
    if (n > SHOW)
        snprintf(list + len, sizeof list - len, " and %lld more", (long long)(n - SHOW));
    if (n)
        sn_note("%lld seed gene%s not in the network: %s", (long long)n, n == 1 ? " is" : "s are", list);
    return SN_OK;
}

/* One set from a seed list and, when it is kept, a note of the genes it
 * could not use; else the run ends with an error, which says how many
 * seeds were ambiguous. */
static int seeds_named(sets *S, const char *name, char *const *genes, int64_t ng, lookup *L, uint8_t *seen,
                       int64_t lo)
{
    int64_t before = S->n;
    SN_TRY(sets_add(S, name, genes, ng, L, seen, lo, INT64_MAX));
    if (S->n > before)
        return note_missing(genes, ng, L);
    for (int64_t i = 0; i < ng; i++)
        SN_TRY(lookup_count(L, genes[i]));
    return SN_OK;
}

/* The items of one -g in place: split on commas, blanks around an item
 * dropped, empty items skipped.  Returns how many, or -1 for an
 * unterminated quote. */
static int64_t split_seeds(char *s, char **f, int64_t max)
{
    int64_t nf = sn_split(s, ',', f, max), k = 0;
    for (int64_t i = 0; i < nf; i++) {
        char *t = f[i] + strspn(f[i], " \t");
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            t[--n] = 0;
        if (n)
            f[k++] = t;
    }
    return nf < 0 ? -1 : k;
}

/* Every -g together: one set, their union. */
static int seeds_inline(const opts *o, lookup *L, uint8_t *seen, sets *S, int64_t lo)
{
    size_t len = 1;
    for (int i = 0; i < o->n_gene_lists; i++)
        len += strlen(o->gene_lists[i]) + 1;
    char *buf = sn_malloc(len, "seed genes"), *p = buf;
    char **f = sn_malloc(sn_mul_size(len, sizeof *f), "seed genes");
    int rc = buf && f ? SN_OK : SN_ENOMEM;
    int64_t nf = 0;
    for (int i = 0; rc == SN_OK && i < o->n_gene_lists; i++) {
        const char *arg = o->gene_lists[i];
        memcpy(p, arg, strlen(arg) + 1);
        int64_t k = split_seeds(p, f + nf, (int64_t)len - nf);
        if (k < 0)
            rc = sn_cli_bad("-g '%s': unterminated quote", arg);
        nf += k;
        p += strlen(arg) + 1;
    }
    if (rc == SN_OK)
        rc = seeds_named(S, "seeds", f, nf, L, seen, lo);
    free(buf);
    free(f);
    return rc;
}

static int seeds_file(const opts *o, lookup *L, uint8_t *seen, sets *S, int64_t lo)
{
    char **genes;
    int64_t ng;
    SN_TRY(sn_read_genes(o->genes_file, &genes, &ng));
    /* the set is named by the file, without its folders */
    const char *base = strrchr(o->genes_file, '/');
    base = strcmp(o->genes_file, "-") == 0 ? "stdin" : base ? base + 1 : o->genes_file;
    int rc = seeds_named(S, base, genes, ng, L, seen, lo);
    sn_free_strings(genes, ng);
    return rc;
}

static int seeds_gmt(const opts *o, lookup *L, uint8_t *seen, sets *S)
{
    sn_gmt gmt;
    SN_TRY(sn_read_gmt(o->gmt, &gmt));
    int rc = SN_OK;
    for (int64_t k = 0; k < gmt.n && rc == SN_OK; k++)
        rc = sets_add(S, gmt.name[k], gmt.genes[k], gmt.size[k], L, seen, o->min_size, o->max_size);
    if (rc == SN_OK && S->n == 0)
        rc = sn_err(SN_EFMT, "%s: none of its %lld sets has %lld to %lld genes in the network", o->gmt,
                    (long long)gmt.n, (long long)o->min_size, (long long)o->max_size);
    if (rc == SN_OK && S->skipped)
        sn_note("%s: %lld of %lld sets kept (%lld to %lld genes in the network)", o->gmt, (long long)S->n,
                (long long)gmt.n, (long long)o->min_size, (long long)o->max_size);
    sn_gmt_free(&gmt);
    return rc;
}

/* No set from -g or --genes: too few seeds matched one network gene,
 * the others not in the network or ambiguous (said, with an example). */
static int no_seed_error(const opts *o, const network *w, const lookup *L)
{
    char amb[1100] = "";
    for (int k = BY_ID; k < N_ROUTES; k++)
        if (L->amb_count[k]) {
            size_t len = strlen(amb);
            strcpy(amb + len, "; ");
            ambiguous_text(L, k, amb + len + 2, sizeof amb - len - 2);
        }
    const char *how = !amb[0]      ? "in the network"
                      : o->evaluate ? "match a single network gene"
                                    : "matches a single network gene";
    return sn_err(SN_EFMT, "%s: %s of the seed genes %s%s (%lld genes of %s, e.g. '%.40s')%s",
                  o->n_gene_lists ? "-g" : o->genes_file, o->evaluate ? "fewer than two" : "none", how,
                  o->evaluate ? " (evaluation holds some out)" : "", (long long)w->n,
                  o->edges ? o->edges : o->input, w->n ? w->names[0] : "", amb);
}

static int sets_load(const opts *o, const network *w, sets *S)
{
    lookup L;
    memset(S, 0, sizeof *S);
    int rc = lookup_init(&L, w);
    uint8_t *seen = rc >= 0 ? sn_calloc((size_t)w->n + 1, 1, "seed marks") : NULL;
    if (rc >= 0 && !seen)
        rc = SN_ENOMEM;
    int64_t lo = o->evaluate ? 2 : 1; /* a held-out gene and a seed */
    if (rc >= 0)
        rc = o->gmt ? seeds_gmt(o, &L, seen, S)
                    : o->n_gene_lists ? seeds_inline(o, &L, seen, S, lo) : seeds_file(o, &L, seen, S, lo);
    if (rc >= 0 && !o->gmt && S->n == 0)
        rc = no_seed_error(o, w, &L);
    if (rc >= 0)
        lookup_note(&L);
    if (rc >= 0 && L.ndup) /* an edge list names each node once: this is the .h5ad's var */
        sn_warn("%s: %lld gene name%s in var repeat%s an earlier one (the first: '%.40s'); seed genes are looked "
                "up by name, which finds the first copy only", sn_h5_name(w->f), (long long)L.ndup,
                L.ndup == 1 ? "" : "s", L.ndup == 1 ? "s" : "", w->names[L.first]);
    free(seen);
    lookup_free(&L);
    return rc < 0 ? rc : SN_OK;
}

/* ------------------------------------------------------------------ */
/* Scores */


static int scores_tsv(const char *path, const network *w, const sets *S, const double *F)
{
    sn_out *out;
    char buf[64];
    SN_TRY(sn_out_open(path, 0, &out));
    FILE *fp = sn_out_fp(out);
    fputs("gene", fp);
    for (int64_t k = 0; k < S->n; k++) {
        fputc('\t', fp);
        sn_tsv_field(fp, S->s[k].name);
    }
    fputc('\n', fp);
    for (int64_t i = 0; i < w->n; i++) {
        sn_tsv_field(fp, w->names[i]);
        for (int64_t k = 0; k < S->n; k++)
            fprintf(fp, "\t%s", sn_fmt_double(F[k * w->n + i], buf, sizeof buf));
        fputc('\n', fp);
    }
    return sn_out_commit(out);
}

static int run_scores(const opts *o, const network *w, const sets *S, double **F)
{
    sn_propnet p;
    sn_prop_stats st;
    SN_TRY(sn_propnet_build(&w->g, !o->unweighted, &p));
    double *y = sn_calloc(sn_mul_size((size_t)S->n, (size_t)w->n), sizeof *y, "priors");
    *F = sn_malloc(sn_mul_size(sn_mul_size((size_t)S->n, (size_t)w->n), sizeof **F), "scores");
    int rc = y && *F ? SN_OK : SN_ENOMEM;
    for (int64_t k = 0; rc == SN_OK && k < S->n; k++)
        for (int64_t i = 0; i < S->s[k].n; i++)
            y[k * w->n + S->s[k].idx[i]] = 1.0;
    if (rc == SN_OK)
        rc = sn_prop_run(&p, y, S->n, &o->ev.prop, *F, &st);
    if (rc == SN_OK)
        sn_note("propagated %lld seed set%s over %lld genes (at most %d updates%s)", (long long)S->n,
                S->n == 1 ? "" : "s", (long long)w->n, st.max_iters,
                st.unconverged ? "; some stopped by --max-iter" : "");
    free(y);
    sn_propnet_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Evaluation */

typedef struct {
    sn_eval *e;     /* the evaluation of the network */
    sn_zscores *z;  /* with random networks, else NULL */
} evaluation;

/* Why splits were left out: "2 with ...; 1 with ...". */
static void left_out_why(const sn_eval *e, char *why, size_t size)
{
    const struct {
        int64_t n;
        const char *what;
    } r[] = {{e->n_no_pos, "every gene of the set drawn for training, none left to rank"},
             {e->n_no_seed, "no gene of the set drawn for training, none to seed the walk"},
             {e->n_no_neg, "no gene outside the set to rank against"}};
    why[0] = 0;
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
        size_t len = strlen(why);
        if (r[i].n)
            snprintf(why + len, size - len, "%s%lld with %s", len ? "; " : "", (long long)r[i].n, r[i].what);
    }
}

/* Splits left out of their set's mean, and why, in one line. */
static void warn_left_out(const sn_eval *e)
{
    int64_t out = e->n_no_seed + e->n_no_pos + e->n_no_neg;
    if (out == 0)
        return;
    char why[256];
    left_out_why(e, why, sizeof why);
    int64_t none = e->nsets - e->n_evaluated;
    char nan_sets[96] = "";
    if (none)
        snprintf(nan_sets, sizeof nan_sets, "; %lld set%s no split left: AUROC and AUPR nan", (long long)none,
                 none == 1 ? " has" : "s have");
    sn_warn("%lld of %lld splits could not be evaluated (%s) and are left out of their set's mean%s", (long long)out,
            (long long)e->n_splits, why, nan_sets);
}

static void summary(const opts *o, const evaluation *ev)
{
    const sn_eval *e = ev->e;
    char of[48] = "";
    if (e->n_evaluated < e->nsets)
        snprintf(of, sizeof of, " of %lld", (long long)e->nsets);
    warn_left_out(e);
    sn_note("evaluated %lld%s sets (%d split%s each, %s): AUROC mean %.4f median %.4f; AUPR mean %.4f "
            "median %.4f",
            (long long)e->n_evaluated, of, o->ev.splits, o->ev.splits == 1 ? "" : "s",
            o->ev.mode == SN_SPLIT_HOLDOUT ? "held-out genes against all others" : "reference 70/30 split",
            e->mean_auroc, e->median_auroc, e->mean_aupr, e->median_aupr);
    if (!ev->z)
        return;
    double ra = 0, rp = 0;
    for (int k = 0; k < ev->z->n_random; k++) {
        ra += ev->z->rand_overall_auroc[k] / ev->z->n_random;
        rp += ev->z->rand_overall_aupr[k] / ev->z->n_random;
    }
    sn_note("%d degree-preserving random networks: mean AUROC %.4f, AUPR %.4f; z-score AUROC %.2f, AUPR %.2f",
            ev->z->n_random, ra, rp, ev->z->z_overall_auroc, ev->z->z_overall_aupr);
}

static int run_evaluate(const opts *o, const network *w, const sets *S, evaluation *ev)
{
    if (o->n_random > 0) {
        ev->z = sn_calloc(1, sizeof *ev->z, "z-scores");
        if (!ev->z)
            return SN_ENOMEM;
        SN_TRY(sn_prop_zscores(&w->g, !o->unweighted, S->s, S->n, &o->ev, o->n_random, o->swaps, ev->z));
        ev->e = &ev->z->real;
    } else {
        sn_propnet p;
        ev->e = sn_calloc(1, sizeof *ev->e, "evaluation");
        if (!ev->e)
            return SN_ENOMEM;
        SN_TRY(sn_propnet_build(&w->g, !o->unweighted, &p));
        int rc = sn_prop_evaluate(&p, S->s, S->n, &o->ev, ev->e);
        sn_propnet_free(&p);
        SN_TRY(rc);
    }
    if (ev->e->n_evaluated == 0) {
        char why[256];
        left_out_why(ev->e, why, sizeof why);
        const char *src = o->gmt ? o->gmt : o->genes_file ? o->genes_file : "-g";
        if (ev->e->n_splits == 1)
            return sn_err(SN_EINVAL, "%s: no set could be evaluated: its one split could not (%s)", src, why);
        return sn_err(SN_EINVAL, "%s: no set could be evaluated: none of the %lld splits could (%s)", src,
                      (long long)ev->e->n_splits, why);
    }
    if (ev->z && ev->z->min_swaps < (int64_t)ceil(o->swaps * (double)w->g.m))
        sn_warn("a random network accepted only %lld of %.0f swaps (few swappable edges)", (long long)ev->z->min_swaps,
                ceil(o->swaps * (double)w->g.m));
    summary(o, ev);
    return SN_OK;
}

static void evaluation_free(evaluation *ev)
{
    if (ev->z) {
        sn_zscores_free(ev->z);
        free(ev->z);
    } else if (ev->e) {
        sn_eval_free(ev->e);
        free(ev->e);
    }
    memset(ev, 0, sizeof *ev);
}

static void put_num(FILE *fp, double v)
{
    char buf[64];
    fprintf(fp, "\t%s", isnan(v) ? "nan" : sn_fmt_double(v, buf, sizeof buf));
}

static int evaluation_tsv(const char *path, const sets *S, const evaluation *ev)
{
    sn_out *out;
    const sn_zscores *z = ev->z;
    SN_TRY(sn_out_open(path, 0, &out));
    FILE *fp = sn_out_fp(out);
    fputs("set\tn_genes\tauroc\taupr", fp);
    if (z)
        fputs("\trandom_auroc_mean\trandom_auroc_sd\tz_auroc\trandom_aupr_mean\trandom_aupr_sd\tz_aupr", fp);
    fputc('\n', fp);
    for (int64_t k = 0; k < S->n; k++) {
        sn_tsv_field(fp, S->s[k].name);
        fprintf(fp, "\t%lld", (long long)S->s[k].n);
        put_num(fp, ev->e->auroc[k]);
        put_num(fp, ev->e->aupr[k]);
        if (z) {
            const double v[] = {z->rand_mean_auroc[k], z->rand_sd_auroc[k], z->z_auroc[k],
                                z->rand_mean_aupr[k],  z->rand_sd_aupr[k],  z->z_aupr[k]};
            for (int i = 0; i < 6; i++)
                put_num(fp, v[i]);
        }
        fputc('\n', fp);
    }
    return sn_out_commit(out);
}

/* ------------------------------------------------------------------ */
/* .h5ad output: the input with uns['scnet']['propagate'] */

static int write_params(hid_t g, const opts *o, const sets *S)
{
    const sn_prop_opts *p = &o->ev.prop;
    char **names = sn_malloc(sn_mul_size((size_t)S->n + 1, sizeof *names), "set names");
    int64_t *sizes = sn_malloc(sn_mul_size((size_t)S->n + 1, sizeof *sizes), "set sizes");
    int rc = names && sizes ? SN_OK : SN_ENOMEM;
    for (int64_t k = 0; rc == SN_OK && k < S->n; k++) {
        names[k] = (char *)S->s[k].name;
        sizes[k] = S->s[k].n;
    }
    if (rc == SN_OK)
        rc = sn_h5ad_write_strings(g, "sets", names, S->n, 0);
    if (rc == SN_OK)
        rc = sn_h5ad_write_ivec(g, "n_genes", sizes, S->n, 0);
    free(names);
    free(sizes);
    SN_TRY(rc);
    SN_TRY(sn_h5ad_write_str(g, "network", o->network));
    SN_TRY(sn_h5ad_write_scalar(g, "alpha", p->alpha));
    SN_TRY(sn_h5ad_write_scalar(g, "tol", p->tol));
    SN_TRY(sn_h5ad_write_int(g, "max_iter", p->max_iter));
    SN_TRY(sn_h5ad_write_bool(g, "normalize", p->normalize));
    SN_TRY(sn_h5ad_write_bool(g, "joint", p->joint));
    return sn_h5ad_write_bool(g, "weighted", !o->unweighted);
}

/* scores: genes × sets. */
static int write_scores(hid_t g, const network *w, const sets *S, const double *F)
{
    sn_matd m;
    SN_TRY(sn_matd_alloc(&m, w->n, S->n));
    for (int64_t i = 0; i < w->n; i++)
        for (int64_t k = 0; k < S->n; k++)
            m.data[i * S->n + k] = F[k * w->n + i];
    int rc = sn_h5ad_write_matd(g, "scores", &m, 0);
    sn_matd_free(&m);
    return rc;
}

static int write_zscores(hid_t g, const sn_zscores *z, int64_t ns)
{
    struct {
        const char *k;
        const double *v;
        int64_t n;
    } a[] = {{"random_auroc_mean", z->rand_mean_auroc, ns}, {"random_auroc_sd", z->rand_sd_auroc, ns},
             {"z_auroc", z->z_auroc, ns},                    {"random_aupr_mean", z->rand_mean_aupr, ns},
             {"random_aupr_sd", z->rand_sd_aupr, ns},        {"z_aupr", z->z_aupr, ns},
             {"random_overall_auroc", z->rand_overall_auroc, z->n_random},
             {"random_overall_aupr", z->rand_overall_aupr, z->n_random}};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++)
        SN_TRY(sn_h5ad_write_vec(g, a[i].k, a[i].v, a[i].n, 0));
    SN_TRY(sn_h5ad_write_scalar(g, "z_overall_auroc", z->z_overall_auroc));
    return sn_h5ad_write_scalar(g, "z_overall_aupr", z->z_overall_aupr);
}

static int write_eval_fields(hid_t g, const opts *o, const sets *S, const evaluation *ev)
{
    const sn_eval *e = ev->e;
    SN_TRY(sn_h5ad_write_vec(g, "auroc", e->auroc, S->n, 0));
    SN_TRY(sn_h5ad_write_vec(g, "aupr", e->aupr, S->n, 0));
    SN_TRY(sn_h5ad_write_scalar(g, "mean_auroc", e->mean_auroc));
    SN_TRY(sn_h5ad_write_scalar(g, "median_auroc", e->median_auroc));
    SN_TRY(sn_h5ad_write_scalar(g, "mean_aupr", e->mean_aupr));
    SN_TRY(sn_h5ad_write_scalar(g, "median_aupr", e->median_aupr));
    SN_TRY(sn_h5ad_write_int(g, "splits", o->ev.splits));
    SN_TRY(sn_h5ad_write_str(g, "split", o->ev.mode == SN_SPLIT_HOLDOUT ? "holdout" : "reference"));
    SN_TRY(sn_h5ad_write_scalar(g, "holdout", o->ev.holdout));
    SN_TRY(sn_h5ad_write_int(g, "seed", (int64_t)o->ev.seed));
    if (ev->z) {
        SN_TRY(sn_h5ad_write_int(g, "n_random", ev->z->n_random));
        SN_TRY(sn_h5ad_write_scalar(g, "swaps_per_edge", o->swaps));
        SN_TRY(write_zscores(g, ev->z, S->n));
    }
    return SN_OK;
}

typedef struct {
    sets S;
    double *F;     /* scores, column per set */
    evaluation ev; /* with --evaluate */
} results;

static int write_uns(hid_t out, const opts *o, const network *w, const results *r)
{
    hid_t g, ge;
    SN_TRY(sn_h5ad_dict(out, "uns/scnet/propagate", &g));
    int rc = write_params(g, o, &r->S);
    if (rc == SN_OK && r->F)
        rc = write_scores(g, w, &r->S, r->F);
    if (rc == SN_OK && r->ev.e && (rc = sn_h5ad_dict(g, "evaluation", &ge)) == SN_OK) {
        rc = write_eval_fields(ge, o, &r->S, &r->ev);
        H5Gclose(ge);
    }
    H5Gclose(g);
    return rc;
}

static int write_h5ad(const opts *o, const sn_cli *cli, const network *w, const results *r)
{
    const char *skip[] = {"uns/scnet/propagate", NULL};
    sn_h5 *out;
    SN_TRY(sn_h5_create(cli->output, &out));
    hid_t fid = sn_h5_id(out);
    int rc = sn_h5ad_copy(sn_h5_id(w->f), fid, skip);
    if (rc == SN_OK)
        rc = write_uns(fid, o, w, r);
    if (rc == SN_OK)
        rc = sn_h5ad_record_run(fid, cli);
    if (rc < 0) {
        sn_err_prefix(rc, "%s: ", sn_h5_name(out));
        sn_h5_close(out);
        return rc;
    }
    return sn_h5_commit(out);
}

/* ------------------------------------------------------------------ */

static int run(sn_cli *cli, void *ctx)
{
    const opts *o = ctx;
    network w;
    results r;
    memset(&r, 0, sizeof r);
    int rc = network_load(o, &w);
    if (rc == SN_OK && ends_with(cli->output, ".h5ad") && (rc = sn_subset_check_shapes(sn_h5_id(w.f))) < 0)
        rc = sn_err_prefix(rc, "%s: ", sn_h5_name(w.f)); /* the output copies every field */
    if (rc == SN_OK)
        rc = sets_load(o, &w, &r.S);
    if (rc == SN_OK)
        rc = o->evaluate ? run_evaluate(o, &w, &r.S, &r.ev) : run_scores(o, &w, &r.S, &r.F);
    if (rc == SN_OK && ends_with(cli->output, ".h5ad"))
        rc = write_h5ad(o, cli, &w, &r);
    else if (rc == SN_OK)
        rc = o->evaluate ? evaluation_tsv(cli->output, &r.S, &r.ev) : scores_tsv(cli->output, &w, &r.S, r.F);
    evaluation_free(&r.ev);
    free(r.F);
    sets_free(&r.S);
    network_free(&w);
    return rc;
}

static void opts_default(opts *o)
{
    memset(o, 0, sizeof *o);
    sn_eval_opts_default(&o->ev);
    o->network = "scnet_coembed";
    o->min_size = 5;
    o->max_size = 500;
    o->swaps = 10;
}

static const sn_cli_prog program = {"scnet-propagate", usage, longopts, SN_CLI_SHORTOPTS "g:",
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    opts o;
    opts_default(&o);
    return sn_cli_main(&program, &o, argc, argv);
}
