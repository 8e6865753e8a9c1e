/* Everything that goes through the igraph C library (0.10): communities,
 * modularity and GraphML export.  Leiden is reached through leiden_call()
 * alone, so a move to igraph 1.0's signature touches one function. */
#include "scnet/file.h"
#include "scnet/graph.h"
#include "scnet/mem.h"

#include <errno.h>
#include <igraph.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sn_comm_opts_default(sn_comm_opts *o)
{
    o->method = SN_COMM_LEIDEN;
    o->resolution = 1.0;
    o->beta = 0.01;
    o->iterations = -1;
    o->seed = 42;
    o->use_weights = 1;
}

/* igraph aborts on errors unless told otherwise; the library reports
 * through return codes instead and prints nothing. */
static void igraph_quiet(void)
{
    static int done;
    if (done)
        return;
    igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
    done = 1;
}

static int ig_err(igraph_error_t e, const char *what)
{
    return sn_err(e == IGRAPH_ENOMEM ? SN_ENOMEM : SN_EINVAL, "igraph (%s): %s", what,
                  igraph_strerror(e));
}

/* Build the igraph graph and (when wanted) its weight vector. */
static int to_igraph(const sn_graph *g, int use_weights, igraph_t *ig, igraph_vector_t *w)
{
    igraph_vector_int_t ed;
    igraph_error_t e;
    igraph_quiet();
    if ((e = igraph_vector_int_init(&ed, 2 * g->m)) != IGRAPH_SUCCESS)
        return ig_err(e, "edge vector");
    for (int64_t k = 0; k < g->m; k++) {
        VECTOR(ed)[2 * k] = g->a[k];
        VECTOR(ed)[2 * k + 1] = g->b[k];
    }
    e = igraph_create(ig, &ed, g->n, IGRAPH_UNDIRECTED);
    igraph_vector_int_destroy(&ed);
    if (e != IGRAPH_SUCCESS)
        return ig_err(e, "graph");
    if (!w)
        return SN_OK;
    if ((e = igraph_vector_init(w, g->m)) != IGRAPH_SUCCESS) {
        igraph_destroy(ig);
        return ig_err(e, "weights");
    }
    for (int64_t k = 0; k < g->m; k++)
        VECTOR(*w)[k] = use_weights && g->w ? g->w[k] : 1.0;
    return SN_OK;
}

/* One Leiden call with the modularity objective: node weights are the
 * (weighted) degrees and the resolution is divided by 2m, which turns
 * igraph's CPM quality into modularity. */
static int leiden_pass(const igraph_t *ig, const igraph_vector_t *w, const igraph_vector_t *strength, double res,
                       double beta, int start, int passes, igraph_vector_int_t *memb)
{
    igraph_integer_t nclust = 0;
    igraph_real_t quality = 0;
    igraph_error_t e = igraph_community_leiden(ig, w, strength, res, beta, start, passes, memb, &nclust, &quality);
    return e == IGRAPH_SUCCESS ? SN_OK : ig_err(e, "Leiden");
}

/* Whether a and b are the same partition up to the modules' numbers. */
static int same_partition(const igraph_vector_int_t *a, const igraph_vector_int_t *b, igraph_integer_t *map,
                          igraph_integer_t n)
{
    for (igraph_integer_t i = 0; i < n; i++)
        map[i] = -1;
    for (igraph_integer_t i = 0; i < n; i++) {
        igraph_integer_t x = VECTOR(*a)[i], y = VECTOR(*b)[i];
        if (x < 0 || x >= n || (map[x] >= 0 && map[x] != y))
            return 0;
        map[x] = y;
    }
    return 1;
}

/* Negative iterations: passes until one leaves the partition as it was.
 * Done here, one pass a call, because igraph 0.10's own loop for a negative
 * count stops after the first pass that changes anything, and never stops
 * when none does (every node staying alone at a high resolution). */
#define LEIDEN_MAX_PASSES 1000

static int leiden_until_stable(const igraph_t *ig, const igraph_vector_t *w, const igraph_vector_t *strength,
                               double res, double beta, igraph_vector_int_t *memb)
{
    igraph_integer_t n = igraph_vcount(ig);
    igraph_vector_int_t prev;
    igraph_integer_t *map = sn_malloc(((size_t)n + 1) * sizeof *map, "a module map");
    if (!map)
        return SN_ENOMEM;
    igraph_error_t e = igraph_vector_int_init(&prev, n);
    if (e != IGRAPH_SUCCESS) {
        free(map);
        return ig_err(e, "membership");
    }
    int rc = leiden_pass(ig, w, strength, res, beta, 0, 1, memb);
    for (int pass = 1; rc == SN_OK && pass < LEIDEN_MAX_PASSES; pass++) {
        e = igraph_vector_int_update(&prev, memb);
        rc = e == IGRAPH_SUCCESS ? leiden_pass(ig, w, strength, res, beta, 1, 1, memb) : ig_err(e, "membership");
        if (rc == SN_OK && same_partition(&prev, memb, map, n))
            break;
    }
    igraph_vector_int_destroy(&prev);
    free(map);
    return rc;
}

static int leiden_call(const igraph_t *ig, const igraph_vector_t *w, double resolution, double beta, int iterations,
                       igraph_vector_int_t *memb)
{
    igraph_vector_t strength;
    igraph_error_t e = igraph_vector_init(&strength, 0);
    if (e != IGRAPH_SUCCESS)
        return ig_err(e, "node weights");
    e = igraph_strength(ig, &strength, igraph_vss_all(), IGRAPH_ALL, 1, w);
    double res = resolution / igraph_vector_sum(&strength);
    int rc = e != IGRAPH_SUCCESS ? ig_err(e, "node weights")
             : iterations < 0    ? leiden_until_stable(ig, w, &strength, res, beta, memb)
                                 : leiden_pass(ig, w, &strength, res, beta, 0, iterations, memb);
    igraph_vector_destroy(&strength);
    return rc;
}

static int cmp_size_desc(const void *x, const void *y)
{
    const int64_t *a = x, *b = y; /* {size, first node, module} */
    if (a[0] != b[0])
        return a[0] < b[0] ? 1 : -1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* Renumber modules by decreasing size (ties: lowest first node), so module
 * 0 is the largest whatever numbering igraph used. */
static int renumber(const igraph_vector_int_t *memb, sn_partition *p)
{
    int64_t n = p->n, k = 0;
    for (int64_t i = 0; i < n; i++)
        if (VECTOR(*memb)[i] + 1 > k)
            k = VECTOR(*memb)[i] + 1;
    int64_t *t = sn_malloc(sn_mul_size((size_t)k + 1, 3 * sizeof *t), "module table");
    int64_t *newid = sn_malloc(sn_mul_size((size_t)k + 1, sizeof *newid), "module table");
    if (!t || !newid) {
        free(t);
        free(newid);
        return SN_ENOMEM;
    }
    for (int64_t c = 0; c < k; c++) {
        t[3 * c] = 0;
        t[3 * c + 1] = n;
        t[3 * c + 2] = c;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t c = VECTOR(*memb)[i];
        if (t[3 * c]++ == 0)
            t[3 * c + 1] = i;
    }
    qsort(t, (size_t)k, 3 * sizeof *t, cmp_size_desc);
    p->n_modules = p->n_multi = 0;
    for (int64_t r = 0; r < k; r++) {
        newid[t[3 * r + 2]] = r;
        p->n_modules += t[3 * r] > 0;
        p->n_multi += t[3 * r] > 1;
    }
    for (int64_t i = 0; i < n; i++)
        p->membership[i] = newid[VECTOR(*memb)[i]];
    free(t);
    free(newid);
    return SN_OK;
}

static int run_method(const igraph_t *ig, const igraph_vector_t *w, const sn_comm_opts *o,
                      igraph_vector_int_t *memb)
{
    igraph_rng_seed(igraph_rng_default(), (igraph_uint_t)o->seed);
    if (o->method == SN_COMM_LEIDEN)
        return leiden_call(ig, w, o->resolution, o->beta, o->iterations, memb);
    igraph_error_t e = igraph_community_multilevel(ig, w, o->resolution, memb, NULL, NULL);
    return e == IGRAPH_SUCCESS ? SN_OK : ig_err(e, "Louvain");
}

static int singletons(sn_partition *p)
{
    for (int64_t i = 0; i < p->n; i++)
        p->membership[i] = i;
    p->n_modules = p->n;
    p->n_multi = 0;
    p->modularity = NAN;
    return SN_OK;
}

int sn_graph_communities(const sn_graph *g, const sn_comm_opts *o, sn_partition *p)
{
    igraph_t ig;
    igraph_vector_t w;
    igraph_vector_int_t memb;
    memset(p, 0, sizeof *p);
    p->n = g->n;
    p->membership = sn_malloc(sn_mul_size((size_t)g->n + 1, sizeof *p->membership), "modules");
    if (!p->membership)
        return SN_ENOMEM;
    if (g->m == 0)
        return singletons(p);
    int rc = to_igraph(g, o->use_weights, &ig, &w);
    if (rc < 0) {
        sn_partition_free(p);
        return rc;
    }
    igraph_error_t e = igraph_vector_int_init(&memb, g->n);
    if (e != IGRAPH_SUCCESS) {
        rc = ig_err(e, "membership");
        goto out;
    }
    rc = run_method(&ig, &w, o, &memb);
    if (rc == SN_OK)
        rc = renumber(&memb, p);
    if (rc == SN_OK) {
        e = igraph_modularity(&ig, &memb, &w, o->resolution, 0, &p->modularity);
        rc = e == IGRAPH_SUCCESS ? SN_OK : ig_err(e, "modularity");
    }
    igraph_vector_int_destroy(&memb);
out:
    igraph_vector_destroy(&w);
    igraph_destroy(&ig);
    if (rc < 0)
        sn_partition_free(p);
    return rc;
}

void sn_partition_free(sn_partition *p)
{
    free(p->membership);
    memset(p, 0, sizeof *p);
}

int sn_graph_modularity(const sn_graph *g, const int64_t *membership, double resolution,
                        int use_weights, double *q)
{
    igraph_t ig;
    igraph_vector_t w;
    igraph_vector_int_t memb;
    *q = NAN;
    if (g->m == 0)
        return SN_OK;
    for (int64_t i = 0; i < g->n; i++)
        if (membership[i] < 0)
            return sn_err(SN_EINVAL, "module of node %lld is negative", (long long)i);
    SN_TRY(to_igraph(g, use_weights, &ig, &w));
    igraph_error_t e = igraph_vector_int_init(&memb, g->n);
    if (e == IGRAPH_SUCCESS) {
        for (int64_t i = 0; i < g->n; i++)
            VECTOR(memb)[i] = membership[i];
        e = igraph_modularity(&ig, &memb, &w, resolution, 0, q);
        igraph_vector_int_destroy(&memb);
    }
    igraph_vector_destroy(&w);
    igraph_destroy(&ig);
    return e == IGRAPH_SUCCESS ? SN_OK : ig_err(e, "modularity");
}

/* ---- GraphML ---- */

static igraph_error_t graphml_attrs(igraph_t *ig, const sn_graph *g, char *const *names,
                                    const int64_t *membership)
{
    igraph_error_t e = IGRAPH_SUCCESS;
    for (int64_t i = 0; i < g->n && e == IGRAPH_SUCCESS; i++) {
        e = SETVAS(ig, "name", i, names[i]);
        if (e == IGRAPH_SUCCESS && membership)
            e = SETVAN(ig, "module", i, (double)membership[i]);
    }
    for (int64_t k = 0; k < g->m && e == IGRAPH_SUCCESS; k++)
        e = SETEAN(ig, "weight", k, g->w ? g->w[k] : 1.0);
    return e;
}

int sn_graph_write_graphml(const sn_graph *g, char *const *names, const int64_t *membership,
                           const char *path)
{
    igraph_t ig;
    sn_out *o = NULL;
    /* The C attribute handler is process-wide state; it is installed only
     * while this graph exists. */
    igraph_attribute_table_t *old = igraph_set_attribute_table(&igraph_cattribute_table);
    int rc = to_igraph(g, 0, &ig, NULL);
    if (rc < 0)
        goto restore;
    igraph_error_t e = graphml_attrs(&ig, g, names, membership);
    if (e != IGRAPH_SUCCESS) {
        rc = ig_err(e, "GraphML attributes");
        goto out;
    }
    SN_CHECK(sn_out_open(path, 0, &o));
    errno = 0;
    e = igraph_write_graph_graphml(&ig, sn_out_fp(o), 0);
    if (e != IGRAPH_SUCCESS) { /* a failed write says why, not igraph's "File operation error" */
        rc = e == IGRAPH_EFILE && errno ? sn_err(SN_EIO, "%s: write failed: %s", path, strerror(errno))
                                        : sn_err_prefix(ig_err(e, "GraphML"), "%s: ", path);
        goto out;
    }
    rc = sn_out_commit(o);
    o = NULL;
out:
    sn_out_abort(o);
    igraph_destroy(&ig);
restore:
    igraph_set_attribute_table(old);
    return rc;
}
