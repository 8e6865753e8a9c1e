/* scnet-train's inputs and outputs in the .h5ad file. */
#include "scnet/trainio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/subset.h"

void sn_train_input_free(sn_train_input *ti)
{
    free(ti->genes), free(ti->X), free(ti->hvg), free(ti->ppi_a), free(ti->ppi_b), free(ti->knn);
    memset(ti, 0, sizeof *ti);
}

static int need(hid_t f, const char *path, const char *what)
{
    if (sn_h5ad_exists(f, path))
        return SN_OK;
    return sn_err(SN_EFMT, "%s (%s) is missing; make the file with scnet-prep%s", path, what,
                  strstr(path, "ppi") ? " --ppi" : "");
}

/* Per-gene score for --max-genes: the HVG normalised dispersion, else the
 * variance of the expression. */
static int gene_scores(hid_t f, const sn_csr *X, int max_genes, double *score)
{
    sn_col c;
    if (sn_h5ad_exists(f, "var/dispersions_norm")) {
        SN_TRY(sn_h5ad_read_col(f, "var/dispersions_norm", &c));
        int64_t ranked = 0;
        for (int64_t g = 0; g < X->ncol; g++) {
            double v = c.type == SN_COL_F64 ? c.v.f64[g] : c.type == SN_COL_F32 ? c.v.f32[g] : NAN;
            score[g] = isnan(v) ? -INFINITY : v;
            ranked += isfinite(v) != 0;
        }
        sn_col_free(&c);
        /* NaN is a gene scanpy found no dispersion for: ranked last, but a
         * column of them would make the choice arbitrary */
        if (ranked < max_genes)
            return sn_err(SN_EFMT, "var/dispersions_norm is finite for only %lld of %lld genes, too few to choose "
                                   "--max-genes %d by", (long long)ranked, (long long)X->ncol, max_genes);
        return SN_OK;
    }
    double *s1 = sn_calloc((size_t)X->ncol, sizeof *s1, "gene scores");
    if (!s1)
        return SN_ENOMEM;
    memset(score, 0, (size_t)X->ncol * sizeof *score);
    for (int64_t i = 0; i < X->nrow; i++)
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++) {
            s1[X->indices[k]] += X->data[k];
            score[X->indices[k]] += (double)X->data[k] * X->data[k];
        }
    for (int64_t g = 0; g < X->ncol; g++)
        score[g] = score[g] / X->nrow - (s1[g] / X->nrow) * (s1[g] / X->nrow);
    free(s1);
    return SN_OK;
}

typedef struct {
    double s;
    int64_t g;
} ranked;

static int by_score(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->s != y->s)
        return (x->s < y->s) - (x->s > y->s);
    return (x->g > y->g) - (x->g < y->g);
}

/* sel[g] = 1 for the max_genes best-scoring genes (all when max_genes <= 0). */
static int select_genes(hid_t f, const sn_csr *X, int max_genes, uint8_t *sel)
{
    int64_t G = X->ncol;
    memset(sel, 1, (size_t)G);
    if (max_genes <= 0 || max_genes >= G)
        return SN_OK;
    double *score = sn_malloc((size_t)G * sizeof *score, "gene scores");
    ranked *r = sn_malloc((size_t)G * sizeof *r, "gene scores");
    int rc = score && r ? gene_scores(f, X, max_genes, score) : SN_ENOMEM;
    if (rc == SN_OK) {
        for (int64_t g = 0; g < G; g++)
            r[g] = (ranked){score[g], g};
        qsort(r, (size_t)G, sizeof *r, by_score);
        memset(sel, 0, (size_t)G);
        for (int64_t i = 0; i < max_genes; i++)
            sel[r[i].g] = 1;
    }
    free(score);
    free(r);
    return rc;
}

/* Keep the selected genes (with --max-genes some may have no edge left:
 * the model handles isolated genes, which still carry expression); fill
 * the model's gene list and undirected PPI edges (a < b). */
static int restrict_ppi(const sn_csr *P, const uint8_t *sel, sn_train_input *ti)
{
    int64_t G = P->ncol, *map = sn_malloc((size_t)G * sizeof *map, "gene map");
    if (!map)
        return SN_ENOMEM;
    int64_t ng = 0, ne = 0;
    for (int64_t g = 0; g < G; g++) {
        map[g] = sel[g] ? ng++ : -1;
    }
    ti->genes = sn_malloc((size_t)(ng + 1) * sizeof *ti->genes, "gene map");
    /* room for every stored entry: a file holding one triangle only
     * keeps all its edges */
    ti->ppi_a = sn_malloc((size_t)(sn_csr_nnz(P) + 1) * sizeof(int32_t), "the PPI");
    ti->ppi_b = sn_malloc((size_t)(sn_csr_nnz(P) + 1) * sizeof(int32_t), "the PPI");
    if (!ti->genes || !ti->ppi_a || !ti->ppi_b) {
        free(map);
        return SN_ENOMEM;
    }
    for (int64_t g = 0; g < G; g++) {
        if (map[g] < 0)
            continue;
        ti->genes[map[g]] = g;
        for (int64_t k = P->indptr[g]; k < P->indptr[g + 1]; k++) {
            int64_t h = P->indices[k];
            if (h > g && map[h] >= 0 && P->data[k] != 0) {
                ti->ppi_a[ne] = (int32_t)map[g];
                ti->ppi_b[ne++] = (int32_t)map[h];
            }
        }
    }
    free(map);
    ti->data.G = (int)ng;
    ti->data.n_ppi = ne;
    if (ng < 10)
        return sn_err(SN_EINVAL, "only %lld genes selected; the model needs at least 10", (long long)ng);
    if (ne < 10)
        return sn_err(SN_EINVAL, "varp/scnet_ppi has only %lld edges among the %lld genes modelled; nothing to "
                                 "learn from", (long long)ne, (long long)ng);
    return SN_OK;
}

/* NaN or Inf in X would turn every loss into NaN (or, in genes the loss
 * skips, silently into the embeddings). */
static int check_finite(const sn_csr *X)
{
    for (int64_t i = 0; i < X->nrow; i++)
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            if (!isfinite(X->data[k]))
                return sn_err(SN_EFMT, "X: value %g at row %lld, column %lld (expected finite log-normalised "
                                       "expression)", (double)X->data[k], (long long)i, (long long)X->indices[k]);
    return SN_OK;
}

static int dense_x(const sn_csr *X, sn_train_input *ti)
{
    int G = ti->data.G;
    int64_t *col = sn_malloc((size_t)X->ncol * sizeof *col, "gene map");
    ti->X = sn_calloc((size_t)X->nrow, (size_t)G * sizeof(float), "the expression matrix");
    if (!col || !ti->X) {
        free(col);
        return SN_ENOMEM;
    }
    for (int64_t g = 0; g < X->ncol; g++)
        col[g] = -1;
    for (int g = 0; g < G; g++)
        col[ti->genes[g]] = g;
    for (int64_t i = 0; i < X->nrow; i++)
        for (int64_t k = X->indptr[i]; k < X->indptr[i + 1]; k++)
            if (col[X->indices[k]] >= 0)
                ti->X[i * G + col[X->indices[k]]] = X->data[k];
    free(col);
    return SN_OK;
}

/* Neighbours at distance > 0 (MODEL.md §1.2: a duplicate cell gives no edge). */
static int read_knn(hid_t f, int64_t N, sn_train_input *ti)
{
    sn_csr D;
    SN_TRY(sn_h5ad_read_csr(f, "obsp/distances", &D));
    int rc = SN_OK;
    if (D.nrow != N || D.ncol != N)
        rc = sn_err(SN_EFMT, "obsp/distances is %lld x %lld, expected %lld x %lld", (long long)D.nrow,
                    (long long)D.ncol, (long long)N, (long long)N);
    int k = 0;
    for (int64_t i = 0; rc == SN_OK && i < N; i++)
        if (D.indptr[i + 1] - D.indptr[i] > k)
            k = (int)(D.indptr[i + 1] - D.indptr[i]);
    if (rc == SN_OK && k == 0)
        rc = sn_err(SN_EFMT, "obsp/distances has no edges");
    int64_t usable = 0;
    for (int64_t p = 0; rc == SN_OK && p < sn_csr_nnz(&D); p++) {
        if (!(D.data[p] >= 0) || isinf(D.data[p]))
            rc = sn_err(SN_EFMT, "obsp/distances: distance %g (expected finite, non-negative distances)",
                        (double)D.data[p]);
        usable += D.data[p] > 0;
    }
    if (rc == SN_OK && usable == 0)
        rc = sn_err(SN_EFMT, "obsp/distances has no edge at a positive distance");
    if (rc == SN_OK && !(ti->knn = sn_malloc((size_t)N * k * sizeof(int32_t), "the KNN graph")))
        rc = SN_ENOMEM;
    for (int64_t i = 0; rc == SN_OK && i < N; i++) {
        int t = 0;
        for (int64_t p = D.indptr[i]; p < D.indptr[i + 1]; p++)
            if (D.data[p] > 0 && D.indices[p] != i)
                ti->knn[i * k + t++] = D.indices[p];
        while (t < k)
            ti->knn[i * k + t++] = -1;
    }
    ti->data.k = k;
    sn_csr_free(&D);
    return rc;
}

static int read_hvg(hid_t f, sn_train_input *ti)
{
    sn_col c;
    SN_TRY(sn_h5ad_read_col(f, "var/highly_variable", &c));
    int rc = SN_OK, G = ti->data.G, n = 0;
    if (c.type != SN_COL_BOOL)
        rc = sn_err(SN_EFMT, "var/highly_variable is not a boolean column");
    else if (!(ti->hvg = sn_malloc((size_t)G, "gene flags")))
        rc = SN_ENOMEM;
    for (int g = 0; rc == SN_OK && g < G; g++)
        n += (ti->hvg[g] = c.v.b[ti->genes[g]] == 1);
    if (rc == SN_OK && n == 0)
        sn_warn("no highly variable gene among the model's genes: the expression loss is off");
    sn_col_free(&c);
    return rc;
}

int sn_train_input_read(hid_t f, int max_genes, sn_train_input *ti)
{
    int64_t n_obs, n_var;
    sn_csr X = {0}, P = {0};
    uint8_t *sel = NULL;
    memset(ti, 0, sizeof *ti);
    int rc;
    SN_CHECK(sn_h5ad_check(f, &n_obs, &n_var));
    SN_CHECK(need(f, "varp/scnet_ppi", "the aligned PPI"));
    SN_CHECK(need(f, "obsp/distances", "the KNN graph"));
    SN_CHECK(need(f, "var/highly_variable", "highly variable genes"));
    if (n_obs < 3 || n_var < 10) {
        rc = sn_err(SN_EINVAL, "%lld cells x %lld genes is too small to train on", (long long)n_obs, (long long)n_var);
        goto out;
    }
    SN_CHECK(sn_h5ad_read_csr(f, "X", &X));
    SN_CHECK(check_finite(&X));
    SN_CHECK(sn_h5ad_read_csr(f, "varp/scnet_ppi", &P));
    if (P.nrow != n_var || P.ncol != n_var) {
        rc = sn_err(SN_EFMT, "varp/scnet_ppi is %lld x %lld, expected %lld x %lld", (long long)P.nrow,
                    (long long)P.ncol, (long long)n_var, (long long)n_var);
        goto out;
    }
    SN_CHECK(sn_csr_check_weights(&P, "varp/scnet_ppi"));
    if (!(sel = sn_malloc((size_t)n_var, "gene selection"))) {
        rc = SN_ENOMEM;
        goto out;
    }
    SN_CHECK(select_genes(f, &X, max_genes, sel));
    SN_CHECK(restrict_ppi(&P, sel, ti));
    if (ti->data.G < n_var && (rc = sn_subset_check(f)) < 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", sn_errmsg());
        rc = sn_err(rc, "%s (--max-genes cuts it to the modelled genes); remove it or model every gene", why);
        goto out;
    }
    ti->G_all = (int)n_var;
    ti->data.N = (int)n_obs;
    SN_CHECK(dense_x(&X, ti));
    SN_CHECK(read_hvg(f, ti));
    SN_CHECK(read_knn(f, n_obs, ti));
    SN_CHECK(sn_subset_check_shapes(f)); /* the output copies every field */
    ti->data.X = ti->X;
    ti->data.hvg = ti->hvg;
    ti->data.ppi_a = ti->ppi_a;
    ti->data.ppi_b = ti->ppi_b;
    ti->data.knn = ti->knn;
    if (ti->data.G < n_var)
        sn_note("modelling the %d most variable of %lld genes (--max-genes, by %s); %lld PPI edges among them",
                ti->data.G, (long long)n_var,
                sn_h5ad_exists(f, "var/dispersions_norm") ? "var['dispersions_norm']"
                                                          : "the variance of X: the input has no var['dispersions_norm']",
                (long long)ti->data.n_ppi);
out:
    free(sel);
    sn_csr_free(&X);
    sn_csr_free(&P);
    if (rc < 0)
        sn_train_input_free(ti);
    return rc;
}

/* ---------------------------------------------------------------- output */

/* CSR (rows = receiving cell, columns = sending cell) from directed edges. */
static int edges_csr(int64_t N, int64_t n, const int32_t *src, const int32_t *dst, const float *val, sn_csr *m)
{
    SN_TRY(sn_csr_alloc(m, N, N, n));
    for (int64_t e = 0; e < n; e++)
        m->indptr[dst[e] + 1]++;
    for (int64_t i = 0; i < N; i++)
        m->indptr[i + 1] += m->indptr[i];
    int64_t *pos = sn_malloc((size_t)(N + 1) * sizeof *pos, "a cell graph");
    if (!pos) {
        sn_csr_free(m);
        return SN_ENOMEM;
    }
    memcpy(pos, m->indptr, (size_t)(N + 1) * sizeof *pos);
    for (int64_t e = 0; e < n; e++) {
        int64_t p = pos[dst[e]]++;
        m->indices[p] = src[e];
        m->data[p] = val ? val[e] : 1.0f;
    }
    free(pos);
    int rc = sn_csr_sort_rows(m);
    if (rc < 0)
        sn_csr_free(m);
    return rc;
}

static int write_graph(hid_t g, const char *name, int64_t N, int64_t n, const int32_t *src, const int32_t *dst,
                       const float *val, int comp)
{
    sn_csr m;
    SN_TRY(edges_csr(N, n, src, dst, val, &m));
    int rc = sn_h5ad_write_csr(g, name, &m, comp);
    sn_csr_free(&m);
    return rc;
}

static int write_in(hid_t f, const char *group, const char *name, int64_t rows, int64_t cols, float *data, int comp)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(f, group, &g));
    sn_mat m = {rows, cols, data};
    int rc = sn_h5ad_write_mat(g, name, &m, comp);
    H5Gclose(g);
    return rc;
}

static int write_log(hid_t g, const sn_train_result *r)
{
    int64_t ee[4096];
    int ne = r->n_eval < 4096 ? r->n_eval : 4096;
    for (int i = 0; i < ne; i++)
        ee[i] = r->eval_epoch[i];
    SN_TRY(sn_h5ad_write_vec(g, "loss_ppi", r->loss_ppi, r->n_epochs, 0));
    SN_TRY(sn_h5ad_write_vec(g, "loss_mse", r->loss_mse, r->n_epochs, 0));
    SN_TRY(sn_h5ad_write_vec(g, "loss_corr", r->loss_corr, r->n_epochs, 0));
    SN_TRY(sn_h5ad_write_ivec(g, "eval_epoch", ee, ne, 0));
    SN_TRY(sn_h5ad_write_vec(g, "auroc", r->auroc, ne, 0));
    SN_TRY(sn_h5ad_write_vec(g, "ap", r->ap, ne, 0));
    SN_TRY(sn_h5ad_write_int(g, "best_epoch", r->best_epoch));
    return sn_h5ad_write_scalar(g, "best_auroc", r->best_auroc);
}

static int write_params(hid_t g, const sn_train_result *r, const sn_train_meta *m)
{
    const sn_train_opts *o = m->opt;
    const sn_model_cfg *c = &o->model;
    /* real: float64 whatever the value, so that a reader sees one type */
    struct {
        const char *k;
        double v;
        int real;
    } p[] = {{"epochs", o->epochs, 0},          {"batches", o->batches, 0},       {"layers", c->layers, 0},
             {"hidden", c->hidden, 0},          {"embed", c->embed, 0},           {"dropout", c->dropout, 1},
             {"lr", c->lr, 1},                  {"weight_decay", c->wd, 1},       {"eval_every", o->eval_every, 0},
             {"test_frac", o->test_frac, 1},    {"prune_every", o->prune_every, 0}, {"prune_protect", o->protect, 0},
             {"prune_cap", o->prune_cap, 1},    {"prune_pct", o->prune_pct, 1},
             {"max_genes", m->max_genes, 0},    {"threads", m->cli->threads, 0},
             {"gflop_per_epoch", r->gflop_per_epoch, 1}, {"knn_edges", (double)r->knn_edges, 0},
             {"ppi_train_edges", (double)r->train_edges, 0}, {"ppi_test_edges", (double)r->test_edges, 0},
             {"blocks", r->blocks, 0},          {"block_size", r->block_size, 0}};
    for (size_t i = 0; i < sizeof p / sizeof *p; i++)
        SN_TRY(p[i].real ? sn_h5ad_write_scalar(g, p[i].k, p[i].v) : sn_h5ad_write_int(g, p[i].k, (int64_t)p[i].v));
    SN_TRY(sn_h5ad_write_int(g, "seed", (int64_t)c->seed)); /* up to 2^63 - 1: not through a double */
    SN_TRY(sn_h5ad_write_str(g, "device", m->device));
    SN_TRY(sn_h5ad_write_str(g, "mode", r->cell_mode ? "cell blocks" : "edge batches"));
    static const char *what[] = {"best AUROC, evaluation mode", "last epoch, evaluation mode", "reference"};
    SN_TRY(sn_h5ad_write_str(g, "outputs", what[r->outputs]));
    const char *graph = r->cell_mode                      ? "each cell block"
                        : r->outputs == SN_OUT_REFERENCE  ? "the last training chunk"
                        : r->output_graph == SN_OUTG_WHOLE ? "the whole cell graph"
                                                           : "the mean over the edge chunks";
    return sn_h5ad_write_str(g, "output_graph", graph);
}

static int write_uns(hid_t out, const sn_train_result *r, const sn_train_meta *m)
{
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "uns/scnet/train", &g));
    int rc = write_log(g, r);
    if (rc == SN_OK)
        rc = write_params(g, r, m);
    H5Gclose(g);
    return rc == SN_OK ? sn_h5ad_record_run(out, m->cli) : rc;
}

/* The modelled genes' degrees in the PPI among them, over scnet-prep's
 * degrees in the whole aligned PPI, or added when the input has none (a
 * file written by anndata): a cut file always says them. */
static int write_degrees(hid_t out, const sn_train_input *ti, int comp)
{
    sn_col c;
    SN_TRY(sn_col_new(&c, "scnet_ppi_degree", SN_COL_I64, ti->data.G));
    memset(c.v.i64, 0, (size_t)ti->data.G * sizeof *c.v.i64);
    for (int64_t e = 0; e < ti->data.n_ppi; e++)
        c.v.i64[ti->ppi_a[e]]++, c.v.i64[ti->ppi_b[e]]++;
    int rc = sn_h5ad_write_col(out, "var", &c, comp);
    sn_col_free(&c);
    return rc;
}

int sn_train_output_write(hid_t in, hid_t out, const sn_train_input *ti, const sn_train_result *r,
                          const sn_train_meta *m)
{
    int subset = ti->data.G < ti->G_all, comp = m->compress;
    static const char *const own[] = {"obsm/X_scnet", "varm/scnet", "layers/scnet_reconstructed",
                                      "obsp/scnet_attention", "obsp/scnet_knn_pruned", "uns/scnet/train"};
    /* what the later stages made from an earlier model: retraining a
     * finished file must not leave it behind */
    static const char *const later[] = {"obsp/scnet_connectivities", "obsp/scnet_distances", "uns/scnet_neighbors",
                                        "uns/scnet/prune", "varp/scnet_coembed", "varp/scnet_coexpression",
                                        "uns/scnet/coembed", "uns/scnet/propagate"};
    static const char *const by_gene[] = {"X", "layers", "var", "varm", "varp"}; /* sn_subset_var's */
    enum { NOWN = sizeof own / sizeof *own, NLATER = sizeof later / sizeof *later,
           NGENE = sizeof by_gene / sizeof *by_gene };
    const char *skip[NOWN + NLATER + NGENE + 1] = {0};
    memcpy(skip, own, sizeof own);
    memcpy(skip + NOWN, later, sizeof later);
    if (subset)
        memcpy(skip + NOWN + NLATER, by_gene, sizeof by_gene);
    SN_TRY(sn_h5ad_copy(in, out, skip));
    if (subset) {
        SN_TRY(sn_subset_var(in, out, ti->genes, ti->data.G, comp));
        SN_TRY(sn_subset_trim_categories(out, "var", comp)); /* as anndata's subsets leave them */
        SN_TRY(write_degrees(out, ti, comp));
        for (size_t i = 0; i < NLATER; i++) /* the gene networks came back with varp */
            if (strncmp(later[i], "varp/", 5) == 0 && sn_h5ad_remove(out, later[i]) < 0)
                return sn_err(SN_EIO, "cannot remove %s", later[i]);
    }
    SN_TRY(sn_h5ad_drop_col(out, "var", "scnet_module"));
    int64_t N = ti->data.N, G = ti->data.G, e = r->embed;
    SN_TRY(write_in(out, "obsm", "X_scnet", N, e, r->zc, comp));
    SN_TRY(write_in(out, "varm", "scnet", G, e, r->zg, comp));
    SN_TRY(write_in(out, "layers", "scnet_reconstructed", N, G, r->y, comp));
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, "obsp", &g));
    int rc = write_graph(g, "scnet_attention", N, r->n_att, r->att_src, r->att_dst, r->att, comp);
    if (rc == SN_OK)
        rc = write_graph(g, "scnet_knn_pruned", N, r->n_pruned, r->pr_src, r->pr_dst, NULL, comp);
    H5Gclose(g);
    return rc < 0 ? rc : write_uns(out, r, m);
}

/* One line.  After --resume it counts and times only this run's epochs
 * (the checkpoint's were timed by the run that made them). */
void sn_train_report(const sn_train_result *r, const sn_train_opts *o, double seconds, const char *device)
{
    int done = r->n_epochs - r->start_epoch;
    double per = done > 0 ? seconds / done : 0;
    double rate = per > 0 ? r->gflop_per_epoch / per : 0;
    const char *outs = r->outputs == SN_OUT_REFERENCE ? " (outputs: reference schedule)"
                       : r->outputs == SN_OUT_LAST    ? " (outputs: last epoch)"
                                                      : "";
    char what[96];
    if (r->start_epoch == 0)
        snprintf(what, sizeof what, "trained %d epoch%s", done, done == 1 ? "" : "s");
    else
        snprintf(what, sizeof what, "trained epochs %d-%d (%d this run, after %d from the checkpoint)",
                 r->start_epoch, r->n_epochs - 1, done, r->start_epoch);
    if (done > 0)
        sn_note("%s in %.1f s on %s (%.2f s/epoch, %.1f GFLOP/s); held-out PPI AUROC %.4f at epoch %d%s", what,
                seconds, device, per, rate, r->best_auroc, r->best_epoch, outs);
    else
        sn_note("no epoch left to train after the %d of the checkpoint; held-out PPI AUROC %.4f at epoch %d%s",
                r->n_epochs, r->best_auroc, r->best_epoch, outs);
}
