#include "scnet/subset.h"

#include <stdlib.h>
#include <string.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

int sn_h5_children(hid_t loc, const char *path, char ***names, int *n)
{
    *names = NULL;
    *n = 0;
    /* a dataset has no children */
    if (!sn_h5ad_exists(loc, path) || sn_h5x_kind(loc, path) != H5O_TYPE_GROUP)
        return SN_OK;
    int64_t m;
    SN_TRY(sn_h5ad_keys(loc, path, names, &m));
    *n = (int)m;
    return SN_OK;
}

/* fn(in, "group/child", name, ctx) for each child of group, in name order,
 * until one fails. */
typedef int (*child_fn)(hid_t in, const char *path, const char *name, void *ctx);

static int each_child(hid_t in, const char *group, child_fn fn, void *ctx)
{
    char **names;
    int nn, rc = SN_OK;
    SN_TRY(sn_h5_children(in, group, &names, &nn));
    for (int i = 0; rc == SN_OK && i < nn; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", group, names[i]);
        rc = fn(in, path, names[i], ctx);
    }
    sn_free_strings(names, nn);
    return rc;
}

/* Row subset of a data frame (var, or one in varm) written as name. */
static int subset_frame(hid_t in, hid_t outg, const char *path, const char *name, const int64_t *keep, int64_t n,
                        int comp)
{
    sn_frame f, s;
    SN_TRY(sn_h5ad_read_frame(in, path, &f));
    int rc = sn_frame_subset(&f, keep, n, &s);
    sn_frame_free(&f);
    SN_TRY(rc);
    rc = sn_h5ad_write_frame(outg, name, &s, comp);
    sn_frame_free(&s);
    return rc;
}

int sn_subset_elem(hid_t in, const char *path, hid_t loc, const char *name, const int64_t *rows, int64_t nr,
                   const int64_t *cols, int64_t nc, int comp)
{
    char enc[64];
    SN_TRY(sn_h5ad_encoding(in, path, enc, sizeof enc));
    if (strcmp(enc, "dataframe") == 0 && rows && !cols) /* anndata allows one in obsm and varm */
        return subset_frame(in, loc, path, name, rows, nr, comp);
    return sn_h5ad_take(in, path, loc, name, rows, nr, cols, nc, comp);
}

typedef struct {
    hid_t out;
    int kind, comp;
    const int64_t *keep;
    int64_t n;
} var_cut;

static int cut_child(hid_t in, const char *path, const char *name, void *ctx)
{
    const var_cut *c = ctx;
    int k = c->kind;
    return sn_subset_elem(in, path, c->out, name, k ? c->keep : NULL, k ? c->n : 0, k != 1 ? c->keep : NULL,
                          k != 1 ? c->n : 0, c->comp);
}

/* The children of group, cut as sn_subset_var does: kind 0 columns (X,
 * layers), 1 rows (varm), 2 both (varp). */
static int subset_group(hid_t in, hid_t out, const char *group, int kind, const int64_t *keep, int64_t n, int comp)
{
    var_cut c = {H5I_INVALID_HID, kind, comp, keep, n};
    SN_TRY(sn_h5ad_dict(out, group, &c.out));
    int rc = each_child(in, group, cut_child, &c);
    H5Gclose(c.out);
    return rc;
}

/* sn_subset_fits on the element e, described already. */
static int elem_fits(const sn_h5ad_elem *e, const char *path, int64_t n0, int64_t n1)
{
    int frame = n1 < 0 && strcmp(e->encoding, "dataframe") == 0;
    if (!(e->nnz >= 0 || frame || (!e->group && (n1 < 0 ? e->ndim >= 1 : e->ndim == 2)))) {
        const char *what = e->group ? (e->encoding[0] ? e->encoding : "group") : e->ndim ? "array" : "scalar";
        char dims[48] = "";
        if (!e->group && e->ndim)
            snprintf(dims, sizeof dims, " of %d dimension%s", e->ndim, e->ndim == 1 ? "" : "s");
        return sn_err(SN_EFMT, "%s: a%s %s%s cannot be cut to a subset", path, strchr("aeiou", what[0]) ? "n" : "",
                      what, dims);
    }
    if (e->shape[0] != n0)
        return sn_err(SN_EFMT, "%s: has %lld rows, expected %lld", path, (long long)e->shape[0], (long long)n0);
    if (n1 >= 0 && e->shape[1] != n1)
        return sn_err(SN_EFMT, "%s: has %lld columns, expected %lld", path, (long long)e->shape[1], (long long)n1);
    return SN_OK;
}

int sn_subset_fits(hid_t in, const char *path, int64_t n0, int64_t n1)
{
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_stat(in, path, &e));
    return elem_fits(&e, path, n0, n1);
}

static int fits_child(hid_t in, const char *path, const char *name, void *ctx)
{
    (void)name;
    const int64_t *dims = ctx;
    return sn_subset_fits(in, path, dims[0], dims[1]);
}

int sn_subset_check(hid_t in)
{
    static const char *const group[3] = {"layers", "varm", "varp"};
    int64_t n_obs, n_var;
    SN_TRY(sn_h5ad_check(in, &n_obs, &n_var));
    int64_t dims[3][2] = {{n_obs, n_var}, {n_var, -1}, {n_var, n_var}};
    for (int kind = 0; kind < 3; kind++)
        SN_TRY(each_child(in, group[kind], fits_child, dims[kind]));
    return SN_OK;
}

int sn_subset_var(hid_t in, hid_t out, const int64_t *keep, int64_t n, int comp)
{
    int64_t n_obs, n_var;
    SN_TRY(sn_h5ad_check(in, &n_obs, &n_var));
    if (sn_h5ad_exists(in, "X"))
        SN_TRY(sn_h5ad_take(in, "X", out, "X", NULL, 0, keep, n, comp));
    SN_TRY(subset_group(in, out, "layers", 0, keep, n, comp));
    SN_TRY(subset_group(in, out, "varm", 1, keep, n, comp));
    SN_TRY(subset_group(in, out, "varp", 2, keep, n, comp));
    return subset_frame(in, out, "var", "var", keep, n, comp);
}

/* ---- carrying an input's elements through a subset of cells and genes ---- */

/* The groups an input's elements are carried from, with what indexes each
 * axis: 'o' cells, 'v' genes, '-' none (rows only), 0 copied whole. */
static const struct {
    const char *group;
    char rows, cols;
} carry_group[] = {{"obsm", 'o', '-'}, {"obsp", 'o', 'o'}, {"layers", 'o', 'v'},
                   {"varm", 'v', '-'}, {"varp", 'v', 'v'}, {"uns", 0, 0}};
enum { NCARRY = sizeof carry_group / sizeof *carry_group };

static int plan_add(char ***list, int *n, const char *path, int kind, int **kinds)
{
    char **l = sn_realloc(*list, ((size_t)*n + 1) * sizeof *l, "a list of elements");
    if (!l)
        return SN_ENOMEM;
    *list = l;
    if (kinds) {
        int *k = sn_realloc(*kinds, ((size_t)*n + 1) * sizeof *k, "a list of elements");
        if (!k)
            return SN_ENOMEM;
        *kinds = k;
        k[*n] = kind;
    }
    if (!(l[*n] = sn_strdup(path)))
        return SN_ENOMEM;
    (*n)++;
    return SN_OK;
}

static int64_t axis_len(char axis, int64_t n_obs, int64_t n_var)
{
    return axis == 'o' ? n_obs : axis == 'v' ? n_var : -1;
}

static herr_t ref_in(hid_t loc, const char *name, const H5L_info_t *info, void *found)
{
    (void)info;
    if (sn_h5x_kind(loc, name) != H5O_TYPE_DATASET)
        return 0;
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT), t = ds < 0 ? -1 : H5Dget_type(ds);
    *(int *)found = t >= 0 && H5Tget_class(t) == H5T_REFERENCE;
    sn_h5x_close(t);
    sn_h5x_close(ds);
    return *(int *)found;
}

/* Whether the element at path holds an HDF5 object reference: a copy would
 * point into the input, not the output. */
static int holds_refs(hid_t in, const char *path)
{
    int found = 0, kind = sn_h5x_kind(in, path);
    if (kind == H5O_TYPE_DATASET)
        (void)ref_in(in, path, NULL, &found);
    else if (kind == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(in, path, H5P_DEFAULT);
        if (g >= 0)
            H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, ref_in, &found);
        sn_h5x_close(g);
    }
    return found;
}

/* Where the plan being made is: its group, the shape, what to skip. */
typedef struct {
    int g;
    int64_t n_obs, n_var;
    sn_subset_skip skip;
    void *ctx;
    sn_subset_plan *p;
} planning;

static int plan_child(hid_t in, const char *path, const char *name, void *ctx)
{
    (void)name;
    planning *w = ctx;
    int g = w->g, s = w->skip ? w->skip(path, w->ctx) : 0;
    if (s == 0 && carry_group[g].rows &&
        sn_subset_fits(in, path, axis_len(carry_group[g].rows, w->n_obs, w->n_var),
                       axis_len(carry_group[g].cols, w->n_obs, w->n_var)) < 0)
        s = 2; /* cannot be cut: said, not an error */
    if (s == 0 && !carry_group[g].rows && holds_refs(in, path))
        s = 2;
    return s == 0 ? plan_add(&w->p->path, &w->p->n, path, g, &w->p->group)
         : s == 2 ? plan_add(&w->p->left, &w->p->nleft, path, 0, NULL)
                  : SN_OK;
}

/* The cells and genes: what a group's elements and a frame's columns are
 * checked against. */
typedef struct {
    int g;
    int64_t n_obs, n_var;
    const char *frame;
} shapes;

/* An element with a shape (array, sparse matrix, data frame) indexed as
 * its group says; a dict is copied as it is. */
static int check_child(hid_t in, const char *path, const char *name, void *ctx)
{
    (void)name;
    const shapes *w = ctx;
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_check_spec(in, path));
    SN_TRY(sn_h5ad_stat(in, path, &e));
    int frame = strcmp(e.encoding, "dataframe") == 0;
    int64_t n0 = axis_len(carry_group[w->g].rows, w->n_obs, w->n_var);
    int64_t n1 = frame ? -1 : axis_len(carry_group[w->g].cols, w->n_obs, w->n_var);
    if (strcmp(e.encoding, "awkward-array") == 0)
        return SN_OK; /* ragged: its length is an attribute, its shape anndata's to check */
    if (!(e.nnz >= 0 || (frame && n1 < 0) ||
          (!e.group && e.ndim >= 1 && (!strcmp(e.encoding, "array") || !strcmp(e.encoding, "string-array")))))
        return sn_err(SN_EFMT, "%s: %s %s cannot stand in %s (anndata keeps arrays, sparse matrices%s there)", path,
                      e.group ? "a group of encoding" : e.ndim ? "an array of encoding" : "a scalar of encoding",
                      e.encoding[0] ? e.encoding : "none", carry_group[w->g].group,
                      carry_group[w->g].cols == '-' ? " and data frames" : "");
    if (n1 >= 0 && e.ndim != 2)
        return sn_err(SN_EFMT, "%s: has %d dimension%s, expected 2", path, e.ndim, e.ndim == 1 ? "" : "s");
    return elem_fits(&e, path, n0, n1);
}

/* A column of obs or var has its frame's rows. */
static int check_column(hid_t in, const char *path, const char *name, void *ctx)
{
    (void)name;
    const shapes *w = ctx;
    int64_t n = w->frame[0] == 'o' ? w->n_obs : w->n_var;
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_check_spec(in, path));
    SN_TRY(sn_h5ad_stat(in, path, &e));
    if (e.ndim >= 1 && e.shape[0] != n)
        return sn_err(SN_EFMT, "%s: %lld rows, but the index of %s has %lld", path, (long long)e.shape[0], w->frame,
                      (long long)n);
    return SN_OK;
}

/* Every column a frame's column-order lists is there (anndata reads each). */
static int check_listed(hid_t in, const char *frame)
{
    char *index, **cols;
    int64_t n;
    SN_TRY(sn_h5ad_frame_names(in, frame, &index, &cols, &n));
    int rc = SN_OK;
    for (int64_t i = 0; rc == SN_OK && i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", frame, cols[i]);
        if (strchr(cols[i], '/') || !sn_h5ad_exists(in, path))
            rc = sn_err(SN_EFMT, "%s: column '%s' (listed in column-order) is missing", frame, cols[i]);
    }
    free(index);
    sn_free_strings(cols, n);
    return rc;
}

int sn_subset_check_shapes(hid_t in)
{
    shapes w = {0, 0, 0, "obs"};
    SN_TRY(sn_h5ad_check_spec(in, "/"));
    SN_TRY(sn_h5ad_check(in, &w.n_obs, &w.n_var));
    SN_TRY(check_listed(in, "obs"));
    SN_TRY(check_listed(in, "var"));
    SN_TRY(each_child(in, "obs", check_column, &w));
    w.frame = "var";
    SN_TRY(each_child(in, "var", check_column, &w));
    for (w.g = 0; w.g < NCARRY; w.g++)
        if (carry_group[w.g].rows)
            SN_TRY(each_child(in, carry_group[w.g].group, check_child, &w));
    if (sn_h5ad_exists(in, "uns/scnet") && sn_h5x_kind(in, "uns/scnet") != H5O_TYPE_GROUP)
        return sn_err(SN_EFMT, "uns/scnet: expected a dict (the records of scnet's stages)");
    char **h;
    int64_t n;
    SN_TRY(sn_h5ad_history_read(in, &h, &n));
    sn_free_strings(h, n);
    return SN_OK;
}

int sn_subset_plan_make(hid_t in, int64_t n_obs, int64_t n_var, sn_subset_skip skip, void *ctx, sn_subset_plan *p)
{
    memset(p, 0, sizeof *p);
    int rc = SN_OK;
    planning w = {0, n_obs, n_var, skip, ctx, p};
    for (; rc == SN_OK && w.g < NCARRY; w.g++)
        rc = each_child(in, carry_group[w.g].group, plan_child, &w);
    if (rc == SN_OK && sn_h5ad_exists(in, "raw")) /* its own genes: not cut here */
        rc = plan_add(&p->left, &p->nleft, "raw", 0, NULL);
    if (rc < 0)
        sn_subset_plan_free(p);
    return rc;
}

int sn_subset_plan_write(hid_t in, hid_t out, const sn_subset_plan *p, const int64_t *cells, int64_t nc,
                         const int64_t *genes, int64_t ng, int comp)
{
    int rc = SN_OK;
    for (int i = 0; rc == SN_OK && i < p->n; i++) {
        int g = p->group[i];
        const char *name = p->path[i] + strlen(carry_group[g].group) + 1;
        const int64_t *rows = carry_group[g].rows == 'o' ? cells : genes;
        const int64_t *cols = carry_group[g].cols == 'o' ? cells : carry_group[g].cols == 'v' ? genes : NULL;
        hid_t loc;
        SN_TRY(sn_h5ad_dict(out, carry_group[g].group, &loc));
        if (!carry_group[g].rows)
            rc = sn_h5ad_copy_elem(in, p->path[i], loc, name);
        else
            rc = sn_subset_elem(in, p->path[i], loc, name, rows, rows == cells ? nc : ng, cols,
                                cols == cells ? nc : cols ? ng : 0, comp);
        H5Gclose(loc);
    }
    return rc;
}

int sn_subset_stage_output(const char *path)
{
    static const char *const made[] = {"obsm/X_scnet", "varm/scnet", "layers/scnet_reconstructed",
                                        "obsp/scnet_attention", "obsp/scnet_knn_pruned", "obsp/scnet_connectivities",
                                        "obsp/scnet_distances", "varp/scnet_coembed", "varp/scnet_coexpression",
                                        "uns/scnet_neighbors", "var/scnet_module", "var/scnet_ppi_degree", NULL};
    for (int i = 0; made[i]; i++)
        if (strcmp(path, made[i]) == 0)
            return 1;
    return 0;
}

int sn_subset_plan_leave(sn_subset_plan *p, const char *path)
{
    return plan_add(&p->left, &p->nleft, path, 0, NULL);
}

void sn_subset_plan_free(sn_subset_plan *p)
{
    sn_free_strings(p->path, p->n);
    sn_free_strings(p->left, p->nleft);
    free(p->group);
    memset(p, 0, sizeof *p);
}

/* uns[NAME_colors], one colour per category as scanpy keeps it, cut to
 * the categories kept; left as it is when it does not match them. */
static int trim_colors(hid_t f, const char *name, int64_t ncat, const int64_t *kept, int64_t nkept)
{
    char path[512], **col;
    int64_t n;
    snprintf(path, sizeof path, "uns/%s_colors", name);
    if (!sn_h5ad_exists(f, path) || sn_h5ad_read_strings(f, path, &col, &n) < 0) {
        sn_err_clear();
        return SN_OK;
    }
    int rc = SN_OK;
    if (n == ncat) {
        char **cut = sn_malloc(((size_t)nkept + 1) * sizeof *cut, "colours");
        rc = cut ? SN_OK : SN_ENOMEM;
        for (int64_t k = 0; cut && k < nkept; k++)
            cut[k] = col[kept[k]];
        if (cut)
            rc = sn_h5ad_write_strings(f, path, cut, nkept, 0);
        free(cut);
    }
    sn_free_strings(col, n);
    return rc;
}

static int trim_column(hid_t f, const char *frame, const char *name, int comp)
{
    char path[512];
    sn_col c;
    int64_t *kept = NULL;
    snprintf(path, sizeof path, "%s/%s", frame, name);
    sn_h5ad_elem e;
    if (sn_h5ad_stat(f, path, &e) < 0 || strcmp(e.encoding, "categorical") != 0) {
        sn_err_clear();
        return SN_OK;
    }
    SN_TRY(sn_h5ad_read_col(f, path, &c));
    int64_t ncat = c.ncat;
    int rc = sn_col_drop_unused(&c, &kept);
    if (rc == SN_OK && kept)
        rc = sn_h5ad_write_col(f, frame, &c, comp);
    if (rc == SN_OK && kept)
        rc = trim_colors(f, name, ncat, kept, c.ncat);
    free(kept);
    sn_col_free(&c);
    return rc;
}

int sn_subset_trim_categories(hid_t f, const char *frame, int comp)
{
    char *index = NULL, **cols = NULL;
    int64_t n = 0;
    int rc = sn_h5ad_frame_names(f, frame, &index, &cols, &n);
    for (int64_t i = 0; rc == SN_OK && i < n; i++)
        rc = trim_column(f, frame, cols[i], comp);
    free(index);
    sn_free_strings(cols, n);
    return rc;
}
