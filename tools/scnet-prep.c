/* scnet-prep: a count matrix and a PPI network in, an .h5ad ready for
 * scnet-train out (normalised expression, PCA, KNN graph, aligned PPI,
 * highly variable genes, scaling), each step as scanpy does it. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/cli.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/hvg.h"
#include "scnet/knn.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/pca.h"
#include "scnet/ppi.h"
#include "scnet/prep.h"
#include "scnet/prepio.h"
#include "scnet/read.h"
#include "scnet/strmap.h"
#include "scnet/subset.h"
#include "scnet/text.h"

enum {
    O_OBS = SN_OPT_PROG, O_LAYER, O_GENOME, O_ALL_FEAT, O_ORIENT, O_PPI, O_NO_PPI, O_MIN_SCORE, O_SPECIES,
    O_GENE_MAP, O_SYMBOLS, O_MIN_EXPR, O_MIN_PPI, O_MIN_GENES, O_MIN_CELLS, O_TARGET, O_NO_NORM, O_NORM,
    O_NPCS, O_PCA_GENES, O_SCALE_PCA, O_SOLVER, O_REUSE_PCA, O_KNN, O_NPROBE, O_NTOP, O_SCALED, O_SCALED_MAX,
    O_COMPRESS, O_SPIKES
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: scnet-prep [options] --ppi FILE COUNTS\n"
            "Prepare single-cell counts for scnet-train: quality filters, normalisation\n"
            "(normalize_total + log1p), PCA, k-nearest-neighbour cell graph, alignment to a\n"
            "protein-protein interaction network, highly variable genes and scaling, as\n"
            "scanpy computes them.  COUNTS: a 10x folder (matrix.mtx + features/genes +\n"
            "barcodes), a 10x .h5, an .h5ad, a .mtx, or a CSV/TSV table (gzip or plain);\n"
            "- reads any of the files from standard input.\n"
            "\nInput:\n"
            "      --obs FILE          join a CSV/TSV table of cell metadata by cell id\n"
            "      --layer NAME        .h5ad: read this layer instead of X\n"
            "      --genome NAME       10x .h5 (v2): the genome to read [the only one]\n"
            "      --all-features      10x: keep features other than Gene Expression\n"
            "      --orient O          text tables and .mtx: auto, genes (rows are genes) or cells [auto]\n"
            "\nPPI network:\n"
            "      --ppi FILE          edge list: A B [weight] (tab, comma or blank separated);\n"
            "                          default for an .h5ad input: its varp['scnet_ppi']\n"
            "      --no-ppi            no network: keep every gene (scnet-train needs one)\n"
            "      --ppi-min-score F   keep edges with weight >= F (weighted lists) [0.5]\n"
            "      --species S         human, or mouse: PPI symbols recased TP53 -> Tp53 [human]\n"
            "      --gene-map FILE     id -> symbol table (2 columns, e.g. a 10x features.tsv)\n"
            "                          for data whose genes are Ensembl ids\n"
            "      --symbol-column C   var column holding gene symbols [auto]\n"
            "      --min-expressed-frac F  keep genes detected in more than F x cells [0]\n"
            "      --min-ppi-genes INT fewer aligned genes (with a kept edge) is an error [200]\n"
            "\nFilters and normalisation:\n"
            "      --keep-spike-ins    keep ERCC spike-in controls (ERCC-nnnnn) as genes\n"
            "      --min-genes INT     keep cells with at least INT detected genes, 0 = all [200]\n"
            "      --min-cells INT     keep genes detected in at least INT cells, 0 = all [3]\n"
            "      --target-sum X      counts per cell after normalisation, or median [1e4]\n"
            "      --no-normalize      the input is log-normalised already: use it as it is\n"
            "      --normalize         normalise even when the input looks log-normalised\n"
            "\nPCA and neighbours:\n"
            "      --n-pcs INT         principal components [15]\n"
            "      --pca-genes G       all, or hvg (the highly variable genes) [all]\n"
            "      --scale-before-pca  z-score genes before the PCA (as scanpy pp.scale)\n"
            "      --pca-solver S      auto, exact or randomized [auto]\n"
            "      --reuse-pca         take obsm/X_pca from the input .h5ad instead\n"
            "  -k, --n-neighbors INT   neighbours per cell, the cell itself included [25]\n"
            "      --knn M             auto, exact or ivf (approximate, for large data) [auto]\n"
            "      --nprobe INT        ivf: lists searched per cell [10]\n"
            "\nGenes and output:\n"
            "      --n-top-genes INT   highly variable genes (seurat flavour) [3000]\n"
            "      --scaled W          write layers/scaled: auto, yes or no [auto]\n"
            "      --scaled-max-gb F   auto: largest dense layer written, in GiB [2]\n"
            "      --compress INT      gzip level of the written datasets, 0 = none [0]\n");
    sn_cli_usage_common(fp, 0);
    fprintf(fp, "\nExamples:\n"
                "  scnet-prep filtered_feature_bc_matrix/ --ppi ppi.tsv.gz -o sample.h5ad\n"
                "  scnet-prep counts.csv.gz --ppi ppi.tsv.gz --gene-map features.tsv.gz -o s.h5ad\n"
                "  scnet-prep counts.h5 --ppi ppi.tsv.gz | scnet-train | scnet-info -\n");
}

typedef struct {
    const char *in, *obs, *ppi, *gene_map, *symbols;
    sn_read_opts ro;
    int no_ppi, normalize, pca_hvg, reuse_pca, scaled, compress, keep_spikes;
    int ppi_in, min_score_given; /* ppi_in: the .h5ad input's varp/scnet_ppi is the network */
    char ppi_label[512];
    sn_ppi_opts po;
    long long min_genes, min_cells, n_top;
    int min_genes_set, min_cells_set;
    const char *pca_opt; /* a PCA option given, which --reuse-pca leaves without use */
    double target, scaled_max;
    sn_pca_opts pca;
    sn_knn_opts knn;
} opts;

static void opts_default(opts *o)
{
    memset(o, 0, sizeof *o);
    sn_ppi_defaults(&o->po);
    sn_pca_defaults(&o->pca);
    sn_knn_defaults(&o->knn);
    o->normalize = -1;
    o->scaled = -1;
    o->min_genes = 200;
    o->min_cells = 3;
    o->n_top = 3000;
    o->target = 1e4;
    o->scaled_max = 2;
}

static int parse_input(opts *o, int c, const char *a)
{
    static const char *const orient[] = {"auto", "genes", "cells", NULL}, *const species[] = {"human", "mouse", NULL};
    int k;
    long long v;
    switch (c) {
    case O_OBS: o->obs = a; return 1;
    case O_LAYER: o->ro.layer = a; return 1;
    case O_GENOME: o->ro.genome = a; return 1;
    case O_ALL_FEAT: o->ro.all_features = 1; return 1;
    case O_ORIENT: SN_TRY(sn_cli_choice("--orient", a, orient, &k)); o->ro.orient = (sn_orient)k; return 1;
    case O_PPI: o->ppi = a; return 1;
    case O_NO_PPI: o->no_ppi = 1; return 1;
    case O_MIN_SCORE:
        o->min_score_given = 1;
        SN_TRY(sn_cli_double("--ppi-min-score", a, -1e300, 1e300, &o->po.min_score));
        return 1;
    case O_SPECIES: SN_TRY(sn_cli_choice("--species", a, species, &k)); o->po.mouse = k; return 1;
    case O_GENE_MAP: o->gene_map = a; return 1;
    case O_SYMBOLS: o->symbols = a; return 1;
    case O_MIN_EXPR: SN_TRY(sn_cli_double("--min-expressed-frac", a, 0, 1, &o->po.min_expr_frac)); return 1;
    case O_MIN_PPI: SN_TRY(sn_cli_int("--min-ppi-genes", a, 0, 1LL << 40, &v)); o->po.min_genes = v; return 1;
    }
    return 0;
}

static int parse_steps(opts *o, int c, const char *a)
{
    static const char *const pg[] = {"all", "hvg", NULL}, *const solver[] = {"auto", "exact", "randomized", NULL},
                             *const knn[] = {"auto", "exact", "ivf", NULL}, *const yn[] = {"no", "yes", "auto", NULL};
    long long v;
    int k;
    switch (c) {
    case O_SPIKES: o->keep_spikes = 1; return 1;
    case O_MIN_GENES:
        o->min_genes_set = 1;
        return sn_cli_int("--min-genes", a, 0, 1LL << 40, &o->min_genes) < 0 ? SN_EUSAGE : 1;
    case O_MIN_CELLS:
        o->min_cells_set = 1;
        return sn_cli_int("--min-cells", a, 0, 1LL << 40, &o->min_cells) < 0 ? SN_EUSAGE : 1;
    case O_TARGET:
        if (strcmp(a, "median") == 0)
            o->target = 0;
        else if (sn_parse_double(a, &o->target) < 0 || !(o->target >= 1e-9 && o->target <= 1e12))
            /* beyond these the float32 statistics of the log values overflow or underflow */
            return sn_cli_bad("invalid value '%s' for --target-sum (expected a number from 1e-9 to 1e12, or "
                              "median)", a);
        return 1;
    case O_NO_NORM: o->normalize = 0; return 1;
    case O_NORM: o->normalize = 1; return 1;
    case O_NPCS: SN_TRY(sn_cli_int("--n-pcs", a, 1, 1000, &v)); o->pca.n_comps = (int)v; return 1;
    case O_PCA_GENES: o->pca_opt = "--pca-genes"; SN_TRY(sn_cli_choice("--pca-genes", a, pg, &o->pca_hvg)); return 1;
    case O_SCALE_PCA: o->pca_opt = "--scale-before-pca"; o->pca.scale = 1; return 1;
    case O_SOLVER:
        o->pca_opt = "--pca-solver";
        SN_TRY(sn_cli_choice("--pca-solver", a, solver, &k));
        o->pca.solver = (sn_pca_solver)k;
        return 1;
    case O_REUSE_PCA: o->reuse_pca = 1; return 1;
    case 'k': SN_TRY(sn_cli_int("-k/--n-neighbors", a, 2, 1000, &v)); o->knn.k = (int)v; return 1;
    case O_KNN: SN_TRY(sn_cli_choice("--knn", a, knn, &k)); o->knn.method = (sn_knn_method)k; return 1;
    case O_NPROBE: SN_TRY(sn_cli_int("--nprobe", a, 1, 100000, &v)); o->knn.nprobe = (int)v; return 1;
    case O_NTOP: return sn_cli_int("--n-top-genes", a, 1, 1LL << 40, &o->n_top) < 0 ? SN_EUSAGE : 1;
    case O_SCALED: SN_TRY(sn_cli_choice("--scaled", a, yn, &k)); o->scaled = k == 2 ? -1 : k; return 1;
    case O_SCALED_MAX: SN_TRY(sn_cli_double("--scaled-max-gb", a, 0, 1e6, &o->scaled_max)); return 1;
    case O_COMPRESS: SN_TRY(sn_cli_int("--compress", a, 0, 9, &v)); o->compress = (int)v; return 1;
    }
    return sn_cli_bad("unexpected option");
}

static const struct option longopts[] = {
    {"obs", required_argument, NULL, O_OBS}, {"layer", required_argument, NULL, O_LAYER},
    {"genome", required_argument, NULL, O_GENOME}, {"all-features", no_argument, NULL, O_ALL_FEAT},
    {"orient", required_argument, NULL, O_ORIENT}, {"ppi", required_argument, NULL, O_PPI},
    {"no-ppi", no_argument, NULL, O_NO_PPI}, {"ppi-min-score", required_argument, NULL, O_MIN_SCORE},
    {"species", required_argument, NULL, O_SPECIES}, {"gene-map", required_argument, NULL, O_GENE_MAP},
    {"symbol-column", required_argument, NULL, O_SYMBOLS},
    {"min-expressed-frac", required_argument, NULL, O_MIN_EXPR},
    {"min-ppi-genes", required_argument, NULL, O_MIN_PPI}, {"min-genes", required_argument, NULL, O_MIN_GENES},
    {"keep-spike-ins", no_argument, NULL, O_SPIKES},
    {"min-cells", required_argument, NULL, O_MIN_CELLS}, {"target-sum", required_argument, NULL, O_TARGET},
    {"no-normalize", no_argument, NULL, O_NO_NORM}, {"normalize", no_argument, NULL, O_NORM},
    {"n-pcs", required_argument, NULL, O_NPCS}, {"pca-genes", required_argument, NULL, O_PCA_GENES},
    {"scale-before-pca", no_argument, NULL, O_SCALE_PCA}, {"pca-solver", required_argument, NULL, O_SOLVER},
    {"reuse-pca", no_argument, NULL, O_REUSE_PCA}, {"n-neighbors", required_argument, NULL, 'k'},
    {"knn", required_argument, NULL, O_KNN}, {"nprobe", required_argument, NULL, O_NPROBE},
    {"n-top-genes", required_argument, NULL, O_NTOP}, {"scaled", required_argument, NULL, O_SCALED},
    {"scaled-max-gb", required_argument, NULL, O_SCALED_MAX}, {"compress", required_argument, NULL, O_COMPRESS},
    SN_CLI_LONGOPTS, {NULL, 0, NULL, 0}};

static int parse_opt(void *ctx, int c, const char *a)
{
    int r = parse_input(ctx, c, a);
    return r ? r : parse_steps(ctx, c, a);
}

static int parse_operands(sn_cli *cli, void *ctx, int n, char **args)
{
    opts *o = ctx;
    if (n != 1)
        return sn_cli_bad(n ? "one input expected, got %d" : "no input given (COUNTS, or - for stdin)", n);
    o->in = args[0];
    /* An .h5ad from scnet-prep brings its aligned network: read_input says
     * so when it has none. */
    o->ppi_in = !o->ppi && !o->no_ppi && (strcmp(o->in, "-") == 0 || sn_is_stream(o->in) || sn_h5_probe(o->in) > 0);
    /* a missing input is the first thing to say: the run says it */
    if (!o->ppi && !o->no_ppi && !o->ppi_in && (strcmp(o->in, "-") == 0 || access(o->in, F_OK) == 0))
        return sn_cli_bad("--ppi FILE is required (or --no-ppi to keep every gene)");
    if (o->ppi && o->no_ppi)
        return sn_cli_bad("--ppi and --no-ppi exclude each other");
    if (o->reuse_pca && o->pca_opt)
        return sn_cli_bad("--reuse-pca takes the input's PCA as it is: %s does not apply", o->pca_opt);
    o->pca.seed = o->knn.seed = cli->seed;
    /* The counts are not replaced in place: the output drops cells and
     * genes the input had.  A 10x folder's files are inputs too. */
    char *in[3] = {NULL, NULL, NULL};
    if (sn_is_dir(o->in))
        sn_read_mtx_dir_files(o->in, in);
    const sn_cli_file f[] = {{o->in, "the input", 0, 0},     {in[0], "the input's matrix", 0, 0},
                             {in[1], "the input's genes", 0, 0}, {in[2], "the input's barcodes", 0, 0},
                             {o->obs, "--obs", 0, 0},        {o->ppi, "--ppi", 0, 0},
                             {o->gene_map, "--gene-map", 0, 0}, {cli->output, "-o", SN_OUT_HDF5, 0}};
    int rc = sn_cli_files(cli, f, 8);
    for (int i = 0; i < 3; i++)
        free(in[i]);
    if (o->ppi_in) {
        snprintf(o->ppi_label, sizeof o->ppi_label, "%s: varp/scnet_ppi", strcmp(o->in, "-") ? o->in : "stdin");
        o->ppi = o->ppi_label;
        if (!o->min_score_given) /* its edges passed a cut-off already */
            o->po.min_score = 0;
    }
    return rc;
}

/* ---- the run ---- */

enum { T_READ, T_FILTER, T_PPI, T_COUNTS, T_NORM, T_HVG, T_PCA, T_KNN, T_WRITE, T_STEPS };
static const char *const step_name[T_STEPS] = {"read", "filter", "ppi", "counts", "normalise",
                                               "hvg", "pca", "neighbours", "write"};

/* The PPI file is read on a second thread while the matrix is read and
 * filtered (it needs nothing from them); step_ppi takes the result. */
typedef struct {
    pthread_t th;
    int started, deferred, rc;
    const char *path;
    sn_edges e;
    char msg[2048]; /* the error, when rc < 0 (messages are per thread) */
} ppi_reader;

static void *ppi_read_thread(void *arg)
{
    ppi_reader *r = arg;
    r->rc = sn_read_edges(r->path, &r->e);
    if (r->rc < 0)
        snprintf(r->msg, sizeof r->msg, "%s", sn_errmsg());
    return NULL;
}

static void ppi_reader_start(ppi_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    /* standard input may be the matrix's too: read it in turn */
    r->started = strcmp(path, "-") != 0 && pthread_create(&r->th, NULL, ppi_read_thread, r) == 0;
    r->deferred = !r->started;
}

/* The edges (the caller frees them), or the reader's error. */
static int ppi_reader_take(ppi_reader *r, sn_edges *e)
{
    if (!r->path)
        return sn_err(SN_EINVAL, "--ppi FILE is required (or --no-ppi to keep every gene)");
    if (r->started)
        pthread_join(r->th, NULL);
    else if (r->deferred)
        ppi_read_thread(r);
    r->started = r->deferred = 0;
    if (r->rc < 0)
        return sn_err(r->rc, "%s", r->msg);
    *e = r->e;
    memset(&r->e, 0, sizeof r->e);
    return SN_OK;
}

static void ppi_reader_free(ppi_reader *r)
{
    if (r->started)
        pthread_join(r->th, NULL);
    r->started = 0;
    sn_edges_free(&r->e);
}

typedef struct {
    const opts *o;
    sn_cli *cli;
    ppi_reader ppi_rd; /* the PPI file, read alongside the first steps */
    sn_adata a;        /* X: counts, then log-normalised */
    sn_csr counts;     /* log-normalised .h5ad input: its layers/counts, if any */
    sn_mat reused;     /* --reuse-pca: the input's X_pca */
    sn_h5 *in;         /* an .h5ad input with elements to carry over, held open */
    char *spool;       /* a temporary copy of an input that came as a stream */
    sn_subset_plan carry;
    int64_t *cell_src, *gene_src; /* with in: the input's cells and genes kept, in order */
    char **names;      /* symbols used for the PPI (NULL = unmapped), one per gene after the filters */
    int64_t nnames;
    int mapped;        /* names differ from the var index */
    int text;          /* the input is a text table or an .mtx file (--orient applies) */
    int64_t *genes, ng; /* the kept genes (aligned, or all) */
    sn_ppi ppi;
    sn_hvg hvg;
    sn_pca pca;
    double *gmean, *gvar; /* the moments of X's columns at the PCA, for var['mean'] and ['std'] too */
    int64_t *cmap;        /* X's columns in layers/counts (or -1), when that was written from X */
    sn_knn knn;
    sn_knn_method knn_used;
    int k_used; /* the neighbours per cell, -k unless there are fewer cells */
    int reprep; /* the input is an output of scnet-prep: filtered already */
    long long min_genes, min_cells; /* the filters this run applies */
    int64_t *ng_in;                 /* with reprep: the input's obs['n_genes'], if any */
    sn_h5 *out;
    int normalised;
    sn_values kind;
    double maxval, target, recall, t[T_STEPS];
    int64_t cells_in, genes_in, spikes;
} prep;

static void prep_free(prep *p)
{
    ppi_reader_free(&p->ppi_rd);
    sn_adata_free(&p->a);
    sn_csr_free(&p->counts);
    sn_mat_free(&p->reused);
    free(p->ng_in);
    sn_subset_plan_free(&p->carry);
    free(p->cell_src);
    free(p->gene_src);
    sn_h5_close(p->in);
    sn_free_strings(p->names, p->nnames);
    free(p->genes);
    sn_ppi_free(&p->ppi);
    sn_hvg_free(&p->hvg);
    sn_pca_free(&p->pca);
    free(p->gmean);
    free(p->gvar);
    free(p->cmap);
    sn_knn_free(&p->knn);
    sn_h5_close(p->out);
}

/* What the output makes anew from the counts (or reads: the layer). */
static int remade(const char *path, const char *layer)
{
    static const char *const own[] = {"obsm/X_pca", "varm/PCs", "obsp/distances", "obsp/connectivities",
                                      "layers/counts", "layers/scaled", "uns/pca", "uns/neighbors", "uns/hvg",
                                      "uns/log1p", "uns/scnet", "varp/scnet_ppi", NULL};
    for (int i = 0; own[i]; i++)
        if (strcmp(path, own[i]) == 0)
            return 1;
    return layer && strncmp(path, "layers/", 7) == 0 && strcmp(path + 7, layer) == 0;
}

/* What the output does not carry over from the input: 1 what this run
 * makes anew; 2 what a later stage made from the old cells and genes (the
 * model's outputs, its pruned graph, its gene networks), and what this
 * run would make but does not (no network, no scaled layer), stale here.
 * With --reuse-pca the input's loadings and variances go with its X_pca. */
static int leave_behind(const char *path, void *ctx)
{
    const opts *o = ((const prep *)ctx)->o;
    if (strcmp(path, "varp/scnet_ppi") == 0)
        return o->no_ppi ? 2 : 1;
    if (strcmp(path, "layers/scaled") == 0)
        return o->scaled == 0 ? 2 : 1;
    if (o->reuse_pca && (!strcmp(path, "obsm/X_pca") || !strcmp(path, "varm/PCs") || !strcmp(path, "uns/pca")))
        return 0;
    if (remade(path, o->ro.layer))
        return 1;
    return sn_subset_stage_output(path) ? 2 : 0;
}

/* The records of the input's other stages in uns/scnet (its history goes
 * on; this run's own record replaces its prep). */
static int leave_records(sn_subset_plan *c, hid_t fid)
{
    char **keys, path[512];
    int n, rc = SN_OK;
    SN_TRY(sn_h5_children(fid, "uns/scnet", &keys, &n));
    for (int i = 0; rc == SN_OK && i < n; i++)
        if (strcmp(keys[i], "history") && strcmp(keys[i], "prep")) {
            snprintf(path, sizeof path, "uns/scnet/%s", keys[i]);
            rc = sn_subset_plan_leave(c, path);
        }
    sn_free_strings(keys, n);
    return rc;
}

/* The columns a later stage added to obs and var (var['scnet_module'] of
 * scnet-coembed): stale after this run, as its elements are, and named in
 * the note unless this run makes them anew (var['scnet_ppi_degree']);
 * a user's own scnet_ column stays. */
static int leave_columns(prep *p, sn_frame *f, const char *frame)
{
    char path[512];
    for (int i = 0; i < f->ncol;) {
        const char *name = f->cols[i].name;
        snprintf(path, sizeof path, "%s/%s", frame, name);
        if (!sn_subset_stage_output(path)) {
            i++;
            continue;
        }
        if (p->o->no_ppi || strcmp(path, "var/scnet_ppi_degree") != 0)
            SN_TRY(sn_subset_plan_leave(&p->carry, path));
        (void)sn_frame_drop(f, name);
    }
    return SN_OK;
}

/* s with what is not printable ASCII (a key may hold a line break) as '?'. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t n = 0;
    for (; s[n] && n + 1 < len; n++)
        buf[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    buf[n] = 0;
    return buf;
}

/* The input's elements to carry over, and those left behind, said in one
 * note (with -v a line each): a scanpy user may expect every embedding
 * and layer to travel. */
static int plan_carry(prep *p, hid_t fid, const char *name)
{
    SN_TRY(sn_subset_plan_make(fid, p->a.X.nrow, p->a.X.ncol, leave_behind, p, &p->carry));
    const sn_subset_plan *c = &p->carry;
    SN_TRY(leave_records(&p->carry, fid));
    SN_TRY(leave_columns(p, &p->a.obs, "obs"));
    SN_TRY(leave_columns(p, &p->a.var, "var"));
    char list[640] = "", q[256];
    int shown = 0;
    for (int i = 0; i < c->nleft; i++) {
        printable(c->left[i], q, sizeof q);
        sn_info("%s: not carried over: %s", name, q);
        if (shown == i && strlen(list) + strlen(q) + 40 < sizeof list)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", q), shown++;
    }
    if (shown < c->nleft)
        snprintf(list + strlen(list), sizeof list - strlen(list), " and %d more (-v names them)", c->nleft - shown);
    if (c->nleft)
        sn_note("%s: not carried over (a later stage's output, stale after this run, or not cut to the kept cells and genes): %s", name,
                list);
    return SN_OK;
}

/* The input's cells and genes, before any is filtered. */
static int track_subsets(prep *p)
{
    int64_t n = p->a.X.nrow, m = p->a.X.ncol;
    p->cell_src = sn_malloc(((size_t)n + 1) * sizeof *p->cell_src, "the kept cells");
    p->gene_src = sn_malloc(((size_t)m + 1) * sizeof *p->gene_src, "the kept genes");
    if (!p->cell_src || !p->gene_src)
        return SN_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        p->cell_src[i] = i;
    for (int64_t j = 0; j < m; j++)
        p->gene_src[j] = j;
    return SN_OK;
}

static int read_hdf5_extras(prep *p, hid_t fid, const char *name)
{
    int rc = SN_OK;
    p->reprep = sn_h5ad_exists(fid, "uns/scnet/prep");
    SN_TRY(plan_carry(p, fid, name));
    if (p->o->reuse_pca && (rc = sn_h5ad_read_mat(fid, "obsm/X_pca", &p->reused)) < 0)
        return sn_err_prefix(rc, "%s: --reuse-pca: ", name);
    if (!p->o->ro.layer && sn_h5ad_exists(fid, "layers/counts") &&
        ((rc = sn_h5ad_read_csr(fid, "layers/counts", &p->counts)) < 0 ||
         (rc = sn_read_check_expr(&p->counts, "layers/counts")) < 0))
        return sn_err_prefix(rc, "%s: ", name);
    if (p->counts.data && (p->counts.nrow != p->a.X.nrow || p->counts.ncol != p->a.X.ncol))
        sn_csr_free(&p->counts);
    return SN_OK;
}

/* Standard input, and a pipe or FIFO given by name (<(...)), cannot be
 * looked into before they are read: their bytes go to a temporary file
 * first (disk, not memory), read as what they hold, text or HDF5.  A
 * regular file behind standard input is read as itself. */
static int input_source(prep *p, const char **src)
{
    const char *in = p->o->in;
    int is_stdin = strcmp(in, "-") == 0;
    int64_t size;
    *src = is_stdin && sn_stdin_file(&size) ? "/dev/stdin" : in;
    if (*src != in || (!is_stdin && !sn_is_stream(in)))
        return SN_OK;
    int fd = is_stdin ? STDIN_FILENO : open(in, O_RDONLY), out = -1;
    if (fd < 0)
        return sn_err(SN_EIO, "%s: cannot open: %s", in, strerror(errno));
    int rc = sn_spool_make(&p->spool);
    if (rc == SN_OK && (out = open(p->spool, O_WRONLY | O_TRUNC)) < 0)
        rc = sn_err(SN_EIO, "%s: cannot open: %s", p->spool, strerror(errno));
    if (rc == SN_OK)
        rc = sn_copy_fd(fd, out, is_stdin ? "stdin" : in, p->spool);
    if (out >= 0 && close(out) != 0 && rc == SN_OK)
        rc = sn_err(SN_EIO, "%s: write failed: %s", p->spool, strerror(errno));
    if (!is_stdin)
        close(fd);
    *src = p->spool;
    return rc;
}

/* .h5ad input read here, keeping the file for the optional extras; every
 * other format through sn_read_counts.  src: where its bytes are. */
static int read_from(prep *p, const char *src, const char *name)
{
    const opts *o = p->o;
    if (sn_h5_probe(src) > 0) {
        sn_h5 *f;
        SN_TRY(sn_h5_open(src, &f));
        sn_h5_rename(f, name);
        hid_t fid = sn_h5_id(f);
        int h5ad = 0, rc = SN_OK;
        if (o->ppi_in && !sn_h5ad_exists(fid, "varp/scnet_ppi")) /* said before the matrix is read */
            rc = sn_err(SN_EINVAL, "%s: no varp/scnet_ppi (the network scnet-prep aligns) to use: give --ppi FILE, "
                                   "or --no-ppi to keep every gene", sn_h5_name(f));
        if (rc == SN_OK)
            rc = sn_read_counts_fid(fid, sn_h5_name(f), &o->ro, &p->a, &h5ad);
        if (rc == SN_OK && h5ad)
            rc = read_hdf5_extras(p, fid, sn_h5_name(f));
        else if (rc == SN_OK && o->reuse_pca)
            rc = sn_err(SN_EINVAL, "%s: --reuse-pca needs an .h5ad input with obsm/X_pca", sn_h5_name(f));
        if (rc == SN_OK && h5ad && (p->carry.n || o->ppi_in || sn_h5ad_exists(fid, "uns/scnet/history"))) {
            p->in = f; /* read again when the output is written */
            return track_subsets(p);
        }
        sn_h5_close(f);
        return rc;
    }
    if (o->reuse_pca)
        return sn_err(SN_EINVAL, "%s: --reuse-pca needs an .h5ad input with obsm/X_pca", name);
    if (o->ppi_in) /* a stream that held no HDF5 */
        return sn_err(SN_EINVAL, "%s: not an .h5ad with the network scnet-prep aligns: give --ppi FILE, or --no-ppi "
                                 "to keep every gene", name);
    p->text = !sn_is_dir(src);
    return sn_read_counts(src, &o->ro, &p->a);
}

static int read_input(prep *p)
{
    const char *src, *name = strcmp(p->o->in, "-") ? p->o->in : "stdin";
    int rc = input_source(p, &src);
    if (rc == SN_OK)
        rc = read_from(p, src, name);
    if (rc < 0 && src != p->o->in)
        sn_err_rename(src, name);
    sn_spool_drop(p->spool); /* an HDF5 file read from it is held open */
    p->spool = NULL;
    return rc;
}

/* --symbol-column names a column of the input's var, checked before the
 * filters add columns of their own (n_cells would pass for one). */
static int check_symbol_column(const prep *p)
{
    const char *name = p->o->symbols;
    const sn_col *c = name ? sn_frame_get(&p->a.var, name) : NULL;
    if (!name || p->o->gene_map)
        return SN_OK;
    if (!c)
        return sn_err(SN_EINVAL, "%s: no var column '%s' (--symbol-column)", p->o->in, name);
    if (c->type != SN_COL_STR && c->type != SN_COL_CAT)
        return sn_err(SN_EINVAL, "%s: var column '%s' holds numbers, not gene symbols (--symbol-column)", p->o->in,
                      name);
    return SN_OK;
}

/* The input's obs['n_genes'] of an scnet-prep output, kept aside from
 * --obs: counted over all the genes that passed its filters, as a run
 * from the counts counts them. */
static int keep_n_genes(prep *p)
{
    const sn_col *c = p->reprep && !p->o->min_genes_set ? sn_frame_get(&p->a.obs, "n_genes") : NULL;
    if (!c || (c->type != SN_COL_I64 && c->type != SN_COL_I32 && c->type != SN_COL_F64))
        return SN_OK;
    if (!(p->ng_in = sn_malloc(((size_t)c->n + 1) * sizeof *p->ng_in, "obs['n_genes']")))
        return SN_ENOMEM;
    for (int64_t i = 0; i < c->n; i++)
        p->ng_in[i] = c->type == SN_COL_I64 ? c->v.i64[i] : c->type == SN_COL_I32 ? c->v.i32[i] : (int64_t)c->v.f64[i];
    return SN_OK;
}

static int step_read(prep *p)
{
    const opts *o = p->o;
    SN_TRY(read_input(p));
    if (p->a.X.nrow < 1 || p->a.X.ncol < 1)
        return sn_err(SN_EFMT, "%s: the matrix is empty (%lld cells x %lld genes)", o->in, (long long)p->a.X.nrow,
                      (long long)p->a.X.ncol);
    if (o->reuse_pca && p->reused.nrow != p->a.X.nrow)
        return sn_err(SN_EFMT, "%s: obsm/X_pca has %lld rows for %lld cells", o->in, (long long)p->reused.nrow,
                      (long long)p->a.X.nrow);
    SN_TRY(keep_n_genes(p));
    if (o->obs) {
        /* the input's own n_genes goes anyway: only the table's is worth a note */
        (void)sn_frame_drop(&p->a.obs, "n_genes");
        SN_TRY(sn_read_obs_table(o->obs, NULL, &p->a));
        if (sn_frame_get(&p->a.obs, "n_genes"))
            sn_note("%s: its column 'n_genes' gives way to scnet-prep's own (the genes detected per cell)", o->obs);
    }
    SN_TRY(check_symbol_column(p));
    p->cells_in = p->a.X.nrow;
    p->genes_in = p->a.X.ncol;
    int rc = sn_prep_inspect(&p->a.X, &p->kind, &p->maxval);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", o->in);
    p->normalised = o->normalize >= 0 ? o->normalize : p->kind != SN_VALUES_LOGNORM;
    /* the HVG statistics take expm1 of the values in float32, as scanpy does */
    if (!p->normalised && p->maxval > 88)
        return sn_err(SN_EINVAL, "%s: values up to %.3g cannot be log-normalised expression (their expm1 overflows "
                                 "float32): leave out --no-normalize", o->in, p->maxval);
    if (p->kind == SN_VALUES_LOGNORM && o->normalize < 0)
        sn_note("%s: values look log-normalised (not integers, largest %.3g): used as they are "
                "(--normalize to normalise anyway)", o->in, p->maxval);
    else if (p->kind == SN_VALUES_NONINT && p->normalised)
        sn_warn("%s: values are not integer counts (largest %.3g); normalising them anyway", o->in, p->maxval);
    else if (p->kind == SN_VALUES_COUNTS && !p->normalised)
        sn_warn("%s: values are integer counts (largest %.3g), yet --no-normalize uses them as log-normalised "
                "expression", o->in, p->maxval);
    sn_info("read %lld cells x %lld genes, %lld non-zeros", (long long)p->cells_in, (long long)p->genes_in,
            (long long)sn_csr_nnz(&p->a.X));
    return SN_OK;
}

/* *src (the input's indices of the current rows or columns, or NULL when
 * nothing is carried) restricted to keep, in keep's order. */
static int compose(int64_t **src, const int64_t *keep, int64_t n)
{
    if (!*src)
        return SN_OK;
    int64_t *s = sn_malloc(((size_t)n + 1) * sizeof *s, "the kept cells and genes");
    if (!s)
        return SN_ENOMEM;
    for (int64_t r = 0; r < n; r++)
        s[r] = (*src)[keep[r]];
    free(*src);
    *src = s;
    return SN_OK;
}

/* The obs table (rows) and the var table (columns), each when given, and
 * the matrices with them in one pass (unless frames_only). */
static int subset(prep *p, const int64_t *rows, int64_t nr, const int64_t *cols, int64_t nc, int frames_only)
{
    sn_frame f;
    if (rows) {
        SN_TRY(sn_frame_subset(&p->a.obs, rows, nr, &f));
        sn_frame_free(&p->a.obs);
        p->a.obs = f;
        SN_TRY(compose(&p->cell_src, rows, nr));
    }
    if (cols) {
        SN_TRY(sn_frame_subset(&p->a.var, cols, nc, &f));
        sn_frame_free(&p->a.var);
        p->a.var = f;
        SN_TRY(compose(&p->gene_src, cols, nc));
    }
    if (frames_only)
        return SN_OK;
    SN_TRY(sn_prep_subset(&p->a.X, rows, nr, cols, nc));
    if (p->counts.data)
        SN_TRY(sn_prep_subset(&p->counts, rows, nr, cols, nc));
    if (rows && p->reused.data) {
        int64_t w = p->reused.ncol;
        for (int64_t r = 0; r < nr; r++)
            memmove(p->reused.data + r * w, p->reused.data + rows[r] * w, (size_t)w * sizeof(float));
        p->reused.nrow = nr;
    }
    return SN_OK;
}

/* ERCC spike-in controls (ERCC-00002 ...) are synthetic RNA added in the
 * same amount to every well: read as genes, they count in each cell's
 * library size and put its mRNA content into the PCA and so into the
 * cell graph.  Removed before anything else, as one would in scanpy. */
static int is_spike_in(const char *name)
{
    if (!name || strncmp(name, "ERCC-", 5) != 0 || !name[5])
        return 0;
    for (const char *c = name + 5; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return 1;
}

static int drop_spike_ins(prep *p)
{
    const sn_frame *v = &p->a.var;
    int64_t *keep = sn_malloc(((size_t)v->n + 1) * sizeof *keep, "gene list"), n = 0;
    if (!keep)
        return SN_ENOMEM;
    for (int64_t j = 0; j < v->n; j++)
        if (!is_spike_in(v->index[j]))
            keep[n++] = j;
    p->spikes = v->n - n;
    int rc = SN_OK;
    if (p->spikes > 0 && n < 1)
        rc = sn_err(SN_EINVAL, "%s: every gene is an ERCC spike-in (--keep-spike-ins keeps them)", p->o->in);
    else if (p->spikes > 0 && (rc = subset(p, NULL, 0, keep, n, 0)) == SN_OK)
        sn_info("removed %lld ERCC spike-in controls (--keep-spike-ins keeps them)", (long long)p->spikes);
    free(keep);
    return rc;
}

/* An output of scnet-prep holds only its aligned genes, which would count
 * fewer per cell: its filters are not applied again unless given, and its
 * n_genes and n_cells stay as they were (what a run from the counts
 * gives). */
static void reprep_filters(prep *p)
{
    if (!p->reprep)
        return;
    if (!p->o->min_genes_set)
        p->min_genes = 0;
    if (!p->o->min_cells_set)
        p->min_cells = 0;
    if (!p->o->min_genes_set || !p->o->min_cells_set)
        sn_info("%s: an output of scnet-prep, filtered already: %s not applied again", p->o->in,
                p->o->min_genes_set ? "--min-cells" : p->o->min_cells_set ? "--min-genes" : "--min-genes and --min-cells");
}

/* The cells kept by --min-genes (*keep, *n) and every cell's gene count. */
static int filter_cells(prep *p, int64_t **keep, int64_t *n, int64_t **ng)
{
    int rc = sn_prep_filter_cells(&p->a.X, p->min_genes, keep, n, ng);
    if (rc == SN_OK && *n < 1)
        rc = p->text && p->a.X.ncol < p->min_genes
                 ? sn_err(SN_EINVAL, "%s: no cell has %lld detected genes: the data have %lld genes and %lld cells; "
                                     "is the table the other way round (--orient), or lower --min-genes",
                          p->o->in, p->min_genes, (long long)p->a.X.ncol, (long long)p->a.X.nrow)
                 : sn_err(SN_EINVAL, "%s: no cell has %lld detected genes (lower --min-genes)", p->o->in,
                          p->min_genes);
    for (int64_t r = 0; rc == SN_OK && r < *n; r++)
        (*ng)[r] = p->ng_in ? p->ng_in[(*keep)[r]] : (*ng)[(*keep)[r]];
    return rc;
}

/* The genes kept by --min-cells among the kept cells, and their counts. */
static int filter_genes(prep *p, const int64_t *cells, int64_t nc, int64_t **keep, int64_t *n, int64_t **ncells)
{
    int rc = sn_prep_filter_genes(&p->a.X, cells, nc, p->min_cells, keep, n, ncells);
    if (rc == SN_OK && *n < 1)
        rc = sn_err(SN_EINVAL, "%s: no gene is detected in %lld cells (lower --min-cells)", p->o->in, p->min_cells);
    for (int64_t r = 0; rc == SN_OK && r < *n; r++)
        (*ncells)[r] = (*ncells)[(*keep)[r]];
    return rc;
}

/* Both filters, as scanpy applies them one after the other (the genes
 * counted in the kept cells), then one subset of the matrices. */
static int filter(prep *p)
{
    int64_t *cells = NULL, nc = 0, *ng = NULL, *genes = NULL, ngk = 0, *cnt = NULL;
    int rc = filter_cells(p, &cells, &nc, &ng);
    if (rc == SN_OK)
        rc = filter_genes(p, cells, nc, &genes, &ngk, &cnt);
    if (rc == SN_OK)
        rc = subset(p, cells, nc, genes, ngk, 0);
    if (rc == SN_OK)
        rc = sn_prepio_col(&p->a.obs, "n_genes", SN_COL_I64, ng);
    if (rc == SN_OK && !(p->reprep && !p->o->min_cells_set && sn_frame_get(&p->a.var, "n_cells")))
        rc = sn_prepio_col(&p->a.var, "n_cells", SN_COL_I64, cnt);
    free(cells);
    free(ng);
    free(genes);
    free(cnt);
    return rc;
}

static int step_filter(prep *p)
{
    if (!p->o->keep_spikes)
        SN_TRY(drop_spike_ins(p));
    reprep_filters(p);
    SN_TRY(filter(p));
    sn_info("filters: kept %lld of %lld cells (>= %lld genes), %lld of %lld genes (>= %lld cells)",
            (long long)p->a.X.nrow, (long long)p->cells_in, p->min_genes, (long long)p->a.X.ncol,
            (long long)p->genes_in, p->min_cells);
    return SN_OK;
}

/* A var column of symbols: the one named, or a usual name when the index
 * holds Ensembl ids. */
static const sn_col *symbol_column(const prep *p)
{
    static const char *const usual[] = {"gene_symbols", "gene_symbol", "symbol", "gene_name", "feature_name",
                                        "gene_short_name", "name", NULL};
    if (p->o->symbols)
        return sn_frame_get(&p->a.var, p->o->symbols);
    if (!sn_ppi_names_are_ids(p->a.var.index, p->a.var.n))
        return NULL;
    for (int i = 0; usual[i]; i++) {
        const sn_col *c = sn_frame_get(&p->a.var, usual[i]);
        if (c && (c->type == SN_COL_STR || c->type == SN_COL_CAT))
            return c;
    }
    return NULL;
}

static int gene_names(prep *p)
{
    int64_t n = p->a.var.n, mapped = 0;
    const sn_col *c = NULL;
    if (p->o->gene_map) {
        char **keys, **vals;
        int64_t nmap;
        SN_TRY(sn_read_mapping(p->o->gene_map, &keys, &vals, &nmap));
        int rc = sn_ppi_map_ids(p->a.var.index, n, keys, vals, nmap, &p->names, &mapped);
        p->nnames = rc == SN_OK ? n : 0;
        sn_free_strings(keys, nmap);
        sn_free_strings(vals, nmap);
        SN_TRY(rc);
        if (mapped == 0 && n > 0)
            return sn_err(SN_EINVAL, "%s: none of the %lld genes of %s (first: %s) is an id in its first column; "
                                     "leave --gene-map out if the data's genes are symbols already",
                          p->o->gene_map, (long long)n, p->o->in, p->a.var.index[0]);
        sn_info("gene map %s: %lld of %lld genes mapped to symbols", p->o->gene_map, (long long)mapped, (long long)n);
        p->mapped = 1;
        return SN_OK;
    }
    c = symbol_column(p);
    p->names = sn_calloc((size_t)n + 1, sizeof *p->names, "gene names");
    if (!p->names)
        return SN_ENOMEM;
    p->nnames = n;
    char buf[64];
    for (int64_t j = 0; j < n; j++) {
        const char *s = c ? sn_col_str(c, j, buf, sizeof buf) : p->a.var.index[j];
        if (s[0] && !(p->names[j] = sn_strdup(s)))
            return SN_ENOMEM;
    }
    p->mapped = c != NULL;
    if (c)
        sn_info("gene symbols from var column '%s'", c->name);
    return SN_OK;
}

static void ppi_report(const prep *p)
{
    const sn_ppi *q = &p->ppi;
    sn_info("PPI %s: %lld edges read, %lld below %g, %lld duplicate, %lld self-loops; %lld network genes",
            p->o->ppi, (long long)q->edges_read, (long long)q->edges_below, p->o->po.min_score,
            (long long)q->edges_duplicate, (long long)q->edges_self, (long long)q->ppi_nodes);
    sn_info("PPI genes: %lld matched (%lld data genes unmatched), %lld not expressed enough, %lld without an "
            "edge; %lld aligned genes, %lld edges kept",
            (long long)q->genes_matched, (long long)(p->a.var.n - q->genes_matched), (long long)q->genes_unexpressed,
            (long long)q->genes_isolated, (long long)q->n, (long long)q->edges_kept);
}

/* How many cell ids are PPI genes: many means the table was read the
 * wrong way round. */
static int64_t cells_in_ppi(const prep *p, const sn_edges *e)
{
    sn_strmap m;
    int64_t hits = 0;
    if (sn_strmap_init(&m, e->nnodes + 16) < 0)
        return 0;
    int rc = SN_OK;
    for (int64_t i = 0; rc >= 0 && i < e->nnodes; i++)
        rc = sn_strmap_put(&m, e->nodes[i], i, NULL);
    for (int64_t i = 0; rc >= 0 && i < p->a.obs.n; i++)
        hits += sn_strmap_get(&m, p->a.obs.index[i]) >= 0;
    sn_strmap_free(&m);
    return rc < 0 ? 0 : hits;
}

static int align_failed(prep *p, const sn_edges *e, int rc)
{
    int ids = !p->mapped && sn_ppi_names_are_ids(p->names, p->a.var.n);
    int64_t cells = p->a.obs.index ? cells_in_ppi(p, e) : 0;
    rc = sn_err_prefix(rc, "%s: ", p->o->ppi);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", sn_errmsg());
    if (p->text && 2 * cells > p->a.obs.n)
        return sn_err(rc, "%s; yet %lld of the %lld cell ids are PPI genes: is the table the other way round "
                          "(--orient)?", msg, (long long)cells, (long long)p->a.obs.n);
    if (ids)
        return sn_err(rc, "%s; give --gene-map FILE (e.g. a 10x features.tsv) or --symbol-column", msg);
    return rc;
}

/* Genes whose name (symbol) an earlier gene has: the PPI's node goes to the
 * first of them, the rest cannot be aligned.  Said once, since ids that
 * map to one symbol are common and otherwise vanish unexplained. */
static int note_repeats(const prep *p)
{
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, p->nnames));
    int64_t n = 0, first = -1;
    int rc = SN_OK;
    for (int64_t j = 0; rc >= 0 && j < p->nnames; j++)
        if (p->names[j] && (rc = sn_strmap_put(&m, p->names[j], j, NULL)) == 0 && n++ == 0)
            first = j;
    sn_strmap_free(&m);
    if (rc < 0)
        return rc;
    if (n)
        sn_note("%s: %lld gene%s the %s of an earlier gene (first: '%s'); only the first gene of a name is "
                "aligned to the PPI", p->o->in, (long long)n, n == 1 ? " repeats" : "s repeat",
                p->mapped ? "symbol" : "name", p->names[first]);
    return SN_OK;
}

/* The name each of the input's n genes aligns by in this run: its own, or,
 * for a gene the filters left out and for a gene whose name an earlier
 * gene has (only the first of a name is aligned), its label marked so
 * that no gene matches it, so that its edges are not moved to another. */
static int input_nodes(prep *p, int64_t n, char ***nodes)
{
    char **label = NULL, **v = sn_calloc((size_t)n + 1, sizeof *v, "the network's genes");
    int64_t nl = 0, *at = sn_malloc(((size_t)n + 1) * sizeof *at, "the network's genes");
    sn_strmap seen;
    *nodes = v;
    if (!v || !at || sn_strmap_init(&seen, n) < 0) {
        free(at);
        return SN_ENOMEM;
    }
    int rc = sn_h5ad_read_index(sn_h5_id(p->in), "var", &label, &nl);
    if (rc == SN_OK && nl != n)
        rc = sn_err(SN_EFMT, "var has %lld rows, varp/scnet_ppi %lld", (long long)nl, (long long)n);
    for (int64_t i = 0; rc == SN_OK && i < n; i++)
        at[i] = -1;
    for (int64_t j = 0; rc == SN_OK && j < p->a.var.n; j++)
        at[p->gene_src[j]] = j;
    for (int64_t i = 0; rc >= 0 && i < n; i++) {
        const char *nm = at[i] >= 0 ? p->names[at[i]] : NULL;
        if (nm && (rc = sn_strmap_put(&seen, nm, i, NULL)) == 1) {
            v[i] = sn_strdup(nm);
        } else if (rc >= 0 && (v[i] = sn_malloc(strlen(label[i]) + 12, "the network's genes"))) {
            sprintf(v[i], "%s (left out)", label[i]);
        }
        if (rc >= 0 && !v[i])
            rc = SN_ENOMEM;
    }
    sn_strmap_free(&seen);
    sn_free_strings(label, nl);
    free(at);
    return rc < 0 ? rc : SN_OK;
}

/* The edges of an input's aligned network (varp/scnet_ppi, over the
 * input's genes, each edge once from its upper triangle), between the
 * names its genes align by now. */
static int input_edges(prep *p, sn_edges *e)
{
    sn_csr P = {0};
    memset(e, 0, sizeof *e);
    int rc = sn_h5ad_read_csr(sn_h5_id(p->in), "varp/scnet_ppi", &P);
    if (rc == SN_OK)
        rc = P.nrow == p->genes_in && P.ncol == p->genes_in
                 ? sn_csr_check_weights(&P, "varp/scnet_ppi")
                 : sn_err(SN_EFMT, "varp/scnet_ppi is %lld x %lld, expected %lld x %lld", (long long)P.nrow,
                          (long long)P.ncol, (long long)p->genes_in, (long long)p->genes_in);
    if (rc == SN_OK) {
        e->nnodes = P.nrow; /* freed with the edges, made or not */
        rc = input_nodes(p, P.nrow, &e->nodes);
    }
    for (int64_t i = 0; rc == SN_OK && i < P.nrow; i++)
        for (int64_t q = P.indptr[i]; q < P.indptr[i + 1]; q++)
            e->n += P.indices[q] > i;
    size_t cap = (size_t)e->n + 1;
    if (rc == SN_OK && (!(e->a = sn_malloc(cap * sizeof *e->a, "the aligned network")) ||
                        !(e->b = sn_malloc(cap * sizeof *e->b, "the aligned network")) ||
                        !(e->w = sn_malloc(cap * sizeof *e->w, "the aligned network")) ||
                        !(e->ia = sn_malloc(cap * sizeof *e->ia, "the aligned network")) ||
                        !(e->ib = sn_malloc(cap * sizeof *e->ib, "the aligned network"))))
        rc = SN_ENOMEM;
    int64_t r = 0;
    for (int64_t i = 0; rc == SN_OK && i < P.nrow; i++)
        for (int64_t q = P.indptr[i]; q < P.indptr[i + 1]; q++)
            if (P.indices[q] > i) {
                e->ia[r] = (int32_t)i, e->ib[r] = P.indices[q];
                e->a[r] = e->nodes[i], e->b[r] = e->nodes[P.indices[q]];
                e->w[r++] = P.data[q];
            }
    e->weighted = 1;
    sn_csr_free(&P);
    if (rc < 0)
        sn_edges_free(e);
    return rc < 0 ? sn_err_prefix(rc, "%s: ", sn_h5_name(p->in)) : SN_OK;
}

static int step_ppi(prep *p)
{
    SN_TRY(gene_names(p));
    if (!p->o->no_ppi)
        SN_TRY(note_repeats(p));
    int64_t n = p->a.var.n;
    if (p->o->no_ppi) {
        if (!(p->genes = sn_malloc(((size_t)n + 1) * sizeof *p->genes, "kept genes")))
            return SN_ENOMEM;
        for (int64_t j = 0; j < n; j++)
            p->genes[j] = j;
        p->ng = n;
        return SN_OK;
    }
    sn_edges e;
    SN_TRY(p->o->ppi_in ? input_edges(p, &e) : ppi_reader_take(&p->ppi_rd, &e));
    const sn_col *nc = sn_frame_get(&p->a.var, "n_cells"); /* step_filter's */
    int rc = nc && nc->type == SN_COL_I64 ? SN_OK : sn_err(SN_EINVAL, "%s: no var column n_cells", p->o->in);
    if (rc == SN_OK && (rc = sn_ppi_align(&e, p->names, n, nc->v.i64, p->a.X.nrow, &p->o->po, &p->ppi)) < 0)
        rc = align_failed(p, &e, rc);
    sn_edges_free(&e);
    SN_TRY(rc);
    ppi_report(p);
    if (!(p->genes = sn_malloc(((size_t)p->ppi.n + 1) * sizeof *p->genes, "kept genes")))
        return SN_ENOMEM;
    memcpy(p->genes, p->ppi.genes, (size_t)p->ppi.n * sizeof *p->genes);
    p->ng = p->ppi.n;
    return SN_OK;
}

/* The output file is created now so that the counts of the kept genes go
 * out before the matrix is normalised in place. */
static int step_counts(prep *p)
{
    SN_TRY(sn_h5_create(p->cli->output, &p->out));
    hid_t f = sn_h5_id(p->out);
    SN_TRY(sn_h5ad_init(f));
    const sn_csr *src = p->normalised ? &p->a.X : p->counts.data ? &p->counts : NULL;
    if (!src) {
        sn_info("no counts layer: the input is log-normalised and has no layers/counts");
        return SN_OK;
    }
    int64_t *cmap = sn_malloc(((size_t)src->ncol + 1) * sizeof *cmap, "gene map");
    if (!cmap)
        return SN_ENOMEM;
    for (int64_t j = 0; j < src->ncol; j++)
        cmap[j] = -1;
    for (int64_t t = 0; t < p->ng; t++)
        cmap[p->genes[t]] = t;
    int rc = sn_h5ad_write_csr_cols(f, "layers/counts", src, cmap, p->ng, p->o->compress);
    if (src == &p->a.X)
        p->cmap = cmap; /* X is written through it too, its structure linked */
    else
        free(cmap);
    sn_csr_free(&p->counts);
    return rc < 0 ? sn_err_prefix(rc, "%s: ", sn_h5_name(p->out)) : SN_OK;
}

static int step_normalise(prep *p)
{
    if (!p->normalised)
        return SN_OK;
    int rc = sn_prep_normalize_total(&p->a.X, p->o->target, &p->target);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", p->o->in);
    sn_prep_log1p(&p->a.X);
    sn_info("normalised to %g counts per cell%s, log1p", p->target, p->o->target > 0 ? "" : " (the median)");
    return SN_OK;
}

static int step_hvg(prep *p)
{
    SN_TRY(sn_hvg_seurat(&p->a.X, p->genes, p->ng, p->o->n_top, 20, &p->hvg));
    sn_info("highly variable genes: %lld of %lld (seurat flavour, top %lld)", (long long)p->hvg.n_selected,
            (long long)p->ng, p->o->n_top);
    return SN_OK;
}

static int reuse_pca(prep *p)
{
    int k = p->o->pca.n_comps;
    if (p->reused.ncol < k)
        return sn_err(SN_EINVAL, "%s: obsm/X_pca has %lld columns, --n-pcs asks for %d", p->o->in,
                      (long long)p->reused.ncol, k);
    memset(&p->pca, 0, sizeof p->pca);
    SN_TRY(sn_mat_alloc(&p->pca.scores, p->reused.nrow, k));
    for (int64_t i = 0; i < p->reused.nrow; i++)
        memcpy(p->pca.scores.data + i * k, p->reused.data + i * p->reused.ncol, (size_t)k * sizeof(float));
    p->pca.k = k;
    p->pca.n_obs = p->reused.nrow;
    const float *x = p->pca.scores.data;
    for (int64_t t = 0; t < p->pca.n_obs * k; t++)
        if (!isfinite(x[t]))
            return sn_err(SN_EFMT, "%s: obsm/X_pca holds %s in cell '%s', component %lld (--reuse-pca needs finite "
                                   "values)", p->o->in, isnan(x[t]) ? "NaN" : "an infinite value",
                          p->a.obs.index ? p->a.obs.index[t / k] : "?", (long long)(t % k + 1));
    sn_info("PCA: reusing the first %d of the %lld columns of the input's obsm/X_pca", k,
            (long long)p->reused.ncol);
    return SN_OK;
}

/* The moments of X's columns (once: the PCA's are var['mean'] and ['std']). */
static int gene_moments(prep *p)
{
    if (p->gmean)
        return SN_OK;
    size_t g = (size_t)p->a.X.ncol + 1;
    p->gmean = sn_malloc(g * sizeof *p->gmean, "gene means");
    p->gvar = sn_malloc(g * sizeof *p->gvar, "gene variances");
    return p->gmean && p->gvar ? sn_prep_gene_moments(&p->a.X, p->gmean, p->gvar) : SN_ENOMEM;
}

static int step_pca(prep *p)
{
    if (p->o->reuse_pca)
        return reuse_pca(p);
    sn_pca_opts po = p->o->pca;
    uint8_t *mask = NULL;
    if (p->o->pca_hvg) {
        if (!(mask = sn_calloc((size_t)p->a.X.ncol + 1, 1, "the PCA genes")))
            return SN_ENOMEM;
        for (int64_t t = 0; t < p->ng; t++)
            mask[p->genes[t]] = p->hvg.highly_variable[t];
        po.mask = mask;
    }
    int rc = gene_moments(p);
    po.mean = p->gmean;
    po.var = p->gvar;
    if (rc == SN_OK)
        rc = sn_pca_run(&p->a.X, &po, &p->pca);
    free(mask);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: PCA: ", p->o->in);
    if (!(p->pca.total_variance > 0))
        sn_warn("%s: the cells do not vary over the PCA's genes (all alike): every distance of the cell graph is 0",
                p->o->in);
    double sum = 0;
    for (int t = 0; t < p->pca.k; t++)
        sum += p->pca.variance_ratio[t];
    const char *genes = p->o->pca_hvg ? "the highly variable" : "all";
    if (p->pca.solver == SN_PCA_EXACT)
        sn_info("PCA: %d components on %s genes (exact solver), %.1f %% of the variance", p->pca.k, genes, 100 * sum);
    else if (p->pca.change < po.tol)
        sn_info("PCA: %d components on %s genes (randomized solver, converged in %d blocks of the Krylov basis), "
                "%.1f %% of the variance", p->pca.k, genes, p->pca.iterations, 100 * sum);
    else
        sn_warn("%s: PCA: the randomized solver stopped at %d blocks before converging (its components still "
                "moved by %.1e rad a block), %.1f %% of the variance", p->o->in, p->pca.iterations, p->pca.change,
                100 * sum);
    return SN_OK;
}

static int step_knn(prep *p)
{
    SN_TRY(sn_knn_build(&p->pca.scores, &p->o->knn, &p->knn));
    p->recall = NAN;
    if (p->knn.method == SN_KNN_IVF) {
        SN_TRY(sn_knn_recall(&p->pca.scores, &p->knn, 1000, p->cli->seed, &p->recall));
        sn_info("neighbours: approximate (IVF), recall %.4f on %lld sampled cells", p->recall,
                (long long)(p->pca.n_obs < 1000 ? p->pca.n_obs : 1000));
    }
    int rc = sn_prepio_write_neighbors(sn_h5_id(p->out), &p->knn, p->pca.k, p->o->compress);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", sn_h5_name(p->out));
    sn_info("neighbours: %d per cell (itself included), %s search", p->knn.k,
            p->knn.method == SN_KNN_EXACT ? "exact" : "approximate");
    p->knn_used = p->knn.method;
    p->k_used = p->knn.k;
    sn_knn_free(&p->knn);
    return SN_OK;
}

/* After the gene subset: symbols become the index, the ids a column. */
static int rename_genes(prep *p)
{
    if (!p->mapped)
        return SN_OK;
    sn_frame *v = &p->a.var;
    if (!sn_frame_get(v, "gene_ids")) {
        sn_col c;
        SN_TRY(sn_col_new(&c, "gene_ids", SN_COL_STR, v->n));
        for (int64_t t = 0; t < v->n; t++)
            c.v.str[t] = v->index[t], v->index[t] = NULL;
        int rc = sn_frame_put(v, &c);
        if (rc < 0) {
            sn_col_free(&c);
            return rc;
        }
    }
    for (int64_t t = 0; t < v->n; t++) {
        const sn_col *ids = sn_frame_get(v, "gene_ids");
        const char *s = p->names[p->genes[t]] ? p->names[p->genes[t]] : ids->v.str[t];
        free(v->index[t]);
        if (!(v->index[t] = sn_strdup(s)))
            return SN_ENOMEM;
    }
    return sn_index_make_unique(v->index, v->n);
}

static int var_columns(prep *p, double *mean, double *sd)
{
    sn_frame *v = &p->a.var;
    SN_TRY(sn_prepio_col(v, "highly_variable", SN_COL_BOOL, p->hvg.highly_variable));
    SN_TRY(sn_prepio_col(v, "means", SN_COL_F64, p->hvg.means));
    SN_TRY(sn_prepio_col(v, "dispersions", SN_COL_F64, p->hvg.dispersions));
    SN_TRY(sn_prepio_col(v, "dispersions_norm", SN_COL_F32, p->hvg.dispersions_norm));
    for (int64_t t = 0; t < v->n; t++)
        mean[t] = p->gmean[p->genes[t]], sd[t] = sqrt(p->gvar[p->genes[t]]);
    SN_TRY(sn_prepio_col(v, "mean", SN_COL_F64, mean));
    SN_TRY(sn_prepio_col(v, "std", SN_COL_F64, sd));
    return p->o->no_ppi ? SN_OK : sn_prepio_col(v, "scnet_ppi_degree", SN_COL_I64, p->ppi.degree);
}

static double scaled_bytes(const prep *p) { return 4.0 * (double)p->a.obs.n * (double)p->a.var.n; }

static int scaled_wanted(const prep *p)
{
    return p->o->scaled > 0 || (p->o->scaled < 0 && scaled_bytes(p) <= p->o->scaled_max * 1073741824.0);
}

/* X cut to the kept genes, unless it is already (it is written from all
 * of them when the counts layer's map allows). */
static int x_kept_genes(prep *p)
{
    return p->a.X.ncol == p->ng ? SN_OK : sn_prep_subset(&p->a.X, NULL, 0, p->genes, p->ng);
}

static int write_scaled(prep *p, hid_t f, const double *mean, const double *sd)
{
    char b[32];
    if (!scaled_wanted(p)) {
        if (p->o->scaled < 0)
            sn_note("layers/scaled not written: it would take %s (above --scaled-max-gb %g; --scaled yes writes it)",
                    sn_fmt_bytes(scaled_bytes(p), b, sizeof b), p->o->scaled_max);
        return SN_OK;
    }
    SN_TRY(x_kept_genes(p));
    return sn_prepio_write_scaled(f, "scaled", &p->a.X, mean, sd, 1e-5, p->o->compress);
}

/* X through the counts layer's map, its structure linked to the layer's,
 * when the layer was written from it; else subset, then written (linked
 * where equal). */
static int write_x(prep *p, hid_t f)
{
    int comp = p->o->compress;
    if (p->cmap)
        SN_TRY(sn_h5ad_write_csr_cols_like(f, "X", &p->a.X, p->cmap, p->ng, comp, "layers/counts"));
    else {
        SN_TRY(x_kept_genes(p));
        SN_TRY(sn_h5ad_write_csr_like(f, "X", &p->a.X, comp, "layers/counts"));
    }
    SN_TRY(sn_h5ad_write_frame(f, "obs", &p->a.obs, comp));
    return sn_h5ad_write_frame(f, "var", &p->a.var, comp);
}

#define NUM_(k, v) {k, v, NULL, 0}
#define STR_(k, v) {k, 0, v, 0}
#define REAL_(k, v) {k, v, NULL, 1}

static int write_uns(prep *p, hid_t f)
{
    const opts *o = p->o;
    hid_t g;
    SN_TRY(sn_h5ad_dict(f, "uns/log1p", &g)); /* scanpy's mark of log data (natural log) */
    H5Gclose(g);
    SN_TRY(sn_h5ad_write_str(f, "uns/hvg/flavor", "seurat"));
    const sn_ppi *q = &p->ppi;
    sn_prepio_item it[] = {
        STR_("input", o->in), STR_("ppi", o->ppi ? o->ppi : "none"),
        STR_("species", o->po.mouse ? "mouse" : "human"), STR_("gene_map", o->gene_map ? o->gene_map : "none"),
        NUM_("normalized", p->normalised), REAL_("target_sum", p->normalised ? p->target : 0),
        NUM_("min_genes", (double)p->min_genes), NUM_("min_cells", (double)p->min_cells), NUM_("n_pcs", p->pca.k),
        STR_("pca_genes", o->pca_hvg ? "hvg" : "all"), NUM_("scale_before_pca", o->pca.scale),
        NUM_("reuse_pca", o->reuse_pca), NUM_("n_neighbors", p->k_used),
        STR_("knn_method", p->knn_used == SN_KNN_IVF ? "ivf" : "exact"), NUM_("n_top_genes", (double)o->n_top),
        REAL_("ppi_min_score", o->po.min_score), REAL_("min_expressed_frac", o->po.min_expr_frac),
        NUM_("min_ppi_genes", (double)o->po.min_genes),
        NUM_("cells_in", (double)p->cells_in), NUM_("genes_in", (double)p->genes_in),
        NUM_("spike_ins_removed", (double)p->spikes),
        NUM_("cells", (double)p->a.obs.n), NUM_("genes", (double)p->a.var.n),
        NUM_("hvg", (double)p->hvg.n_selected), NUM_("ppi_edges_read", (double)q->edges_read),
        NUM_("ppi_edges_below_score", (double)q->edges_below),
        NUM_("ppi_edges_duplicate", (double)q->edges_duplicate), NUM_("ppi_self_loops", (double)q->edges_self),
        NUM_("ppi_nodes", (double)q->ppi_nodes), NUM_("ppi_genes_matched", (double)q->genes_matched),
        NUM_("ppi_genes_unexpressed", (double)q->genes_unexpressed),
        NUM_("ppi_genes_isolated", (double)q->genes_isolated), NUM_("ppi_edges", (double)q->edges_kept),
        REAL_("knn_recall", p->recall)};
    /* no timings or thread count: equal inputs give equal files; the
     * recall is measured only for the approximate search */
    int nit = (int)(sizeof it / sizeof *it) - (isnan(p->recall) ? 1 : 0);
    SN_TRY(sn_prepio_write_items(f, "uns/scnet/prep", it, nit));
    SN_TRY(sn_h5ad_write_int(f, "uns/scnet/prep/seed", (int64_t)p->cli->seed)); /* exact: not through a double */
    char *cmd = sn_cli_cmdline(p->cli), *entry = NULL;
    size_t n = (cmd ? strlen(cmd) : 0) + 64;
    if (cmd && (entry = sn_malloc(n, "history")))
        snprintf(entry, n, "scnet-prep %s: %s", SN_VERSION, cmd);
    int rc = entry ? sn_h5ad_history_append(f, entry) : SN_ENOMEM;
    free(cmd);
    free(entry);
    return rc;
}

/* -vv: the time of each part of a step since the last mark */
static int mark(double *t, const char *what, int rc)
{
    double now = sn_time();
    if (rc == SN_OK)
        sn_debug("  %-22s %7.3f s", what, now - *t);
    *t = now;
    return rc;
}

/* The input's elements, cut to the kept cells and genes, and its
 * history, which this run's entry extends. */
static int carry_over(prep *p, hid_t f)
{
    hid_t in = sn_h5_id(p->in);
    int rc = sn_subset_plan_write(in, f, &p->carry, p->cell_src, p->a.obs.n, p->gene_src, p->a.var.n,
                                  p->o->compress);
    if (rc < 0)
        return sn_err_prefix(rc, "%s: ", sn_h5_name(p->in));
    char **h;
    int64_t n;
    if ((rc = sn_h5ad_history_read(in, &h, &n)) < 0)
        return sn_err_prefix(rc, "%s: ", sn_h5_name(p->in));
    if (n)
        rc = sn_h5ad_write_strings(f, "uns/scnet/history", h, n, 0);
    sn_free_strings(h, n);
    return rc < 0 ? sn_err_prefix(rc, "%s: ", sn_h5_name(p->out)) : SN_OK;
}

static int step_write(prep *p)
{
    hid_t f = sn_h5_id(p->out);
    double t = sn_time();
    double *mean = sn_malloc(((size_t)p->ng + 1) * sizeof *mean, "gene means");
    double *sd = sn_malloc(((size_t)p->ng + 1) * sizeof *sd, "gene deviations");
    int rc = mean && sd ? gene_moments(p) : SN_ENOMEM;
    if (rc == SN_OK)
        rc = mark(&t, "gene subset", subset(p, NULL, 0, p->genes, p->ng, 1));
    if (rc == SN_OK)
        rc = rename_genes(p);
    if (rc == SN_OK)
        rc = mark(&t, "var columns", var_columns(p, mean, sd));
    if (rc == SN_OK)
        rc = mark(&t, "X, obs, var", write_x(p, f));
    /* a reused X_pca is carried over whole and as stored, with the loadings
     * and variances: the neighbours use its first --n-pcs columns, as
     * scanpy's neighbors(n_pcs=...) does */
    if (rc == SN_OK && !p->o->reuse_pca)
        rc = sn_prepio_write_pca(f, &p->pca, p->genes, p->ng, p->o->pca_hvg, p->o->pca.scale, p->o->compress);
    if (rc == SN_OK && !p->o->no_ppi)
        rc = sn_h5ad_write_csr(f, "varp/scnet_ppi", &p->ppi.adj, p->o->compress);
    if (rc == SN_OK)
        rc = mark(&t, "PCA, PPI", SN_OK);
    if (rc == SN_OK)
        rc = mark(&t, "layers/scaled", write_scaled(p, f, mean, sd));
    int carried = SN_OK; /* its errors name the input they come from */
    if (rc == SN_OK && p->in)
        rc = carried = mark(&t, "carried over", carry_over(p, f));
    /* as anndata's subsets leave them, one that keeps every row included
     * (scanpy's filters subset whether or not they remove anything) */
    if (rc == SN_OK && (p->min_genes > 0 || p->a.obs.n < p->cells_in))
        rc = sn_subset_trim_categories(f, "obs", p->o->compress);
    if (rc == SN_OK && (p->min_cells > 0 || !p->o->no_ppi || p->a.var.n < p->genes_in))
        rc = sn_subset_trim_categories(f, "var", p->o->compress);
    if (rc == SN_OK)
        rc = write_uns(p, f);
    free(mean);
    free(sd);
    return rc < 0 && carried == SN_OK ? sn_err_prefix(rc, "%s: ", sn_h5_name(p->out)) : rc;
}

static int run(sn_cli *cli, void *ctx)
{
    static int (*const step[T_STEPS])(prep *) = {step_read, step_filter, step_ppi, step_counts, step_normalise,
                                                 step_hvg, step_pca, step_knn, step_write};
    const opts *o = ctx;
    prep p;
    memset(&p, 0, sizeof p);
    p.o = o;
    p.cli = cli;
    p.min_genes = o->min_genes;
    p.min_cells = o->min_cells;
    int rc = SN_OK;
    if (!o->no_ppi && !o->ppi_in && o->ppi) {
        /* a PPI file that cannot be opened fails now, not after the counts */
        int fd = strcmp(o->ppi, "-") ? open(o->ppi, O_RDONLY) : -2;
        if (fd == -1)
            rc = sn_err(SN_EIO, "%s: cannot open: %s", o->ppi, strerror(errno));
        else if (fd >= 0)
            close(fd);
        if (rc == SN_OK)
            ppi_reader_start(&p.ppi_rd, o->ppi);
    }
    for (int s = 0; s < T_STEPS && rc == SN_OK; s++) {
        double t0 = sn_time(), c0 = sn_cputime();
        rc = step[s](&p);
        p.t[s] = sn_time() - t0;
        if (rc == SN_OK)
            sn_info("%-10s %7.3f s (CPU %.3f s), peak RSS %.0f MiB", step_name[s], p.t[s], sn_cputime() - c0,
                    sn_peak_rss() / 1048576);
    }
    if (rc == SN_OK) {
        rc = sn_h5_commit(p.out);
        p.out = NULL;
    }
    if (rc == SN_OK && o->no_ppi)
        sn_note("%lld cells x %lld genes, %lld highly variable; no PPI network", (long long)p.a.obs.n,
                (long long)p.a.var.n, (long long)p.hvg.n_selected);
    else if (rc == SN_OK)
        sn_note("%lld cells x %lld genes, %lld highly variable; %lld PPI edges", (long long)p.a.obs.n,
                (long long)p.a.var.n, (long long)p.hvg.n_selected, (long long)p.ppi.edges_kept);
    prep_free(&p);
    return rc;
}

/* The steps take and release buffers of tens of MiB one after another.
 * Served from the heap and kept there, a released one is reused by the
 * next step; handed back to the system, every new one would be faulted in
 * page by page (zeroed by the kernel) again. */
static void keep_freed_memory(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

static const sn_cli_prog program = {"scnet-prep", usage, longopts, SN_CLI_SHORTOPTS "k:",
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    opts o;
    keep_freed_memory();
    opts_default(&o);
    return sn_cli_main(&program, &o, argc, argv);
}
