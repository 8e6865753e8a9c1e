#include "scnet/ppi.h"
#include "scnet/mem.h"
#include "scnet/strmap.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_ppi_defaults(sn_ppi_opts *o)
{
    o->min_score = 0.5;
    o->mouse = 0;
    o->min_expr_frac = 0;
    o->min_genes = 200;
}

void sn_ppi_free(sn_ppi *p)
{
    free(p->genes);
    free(p->degree);
    sn_csr_free(&p->adj);
    memset(p, 0, sizeof *p);
}

void sn_ppi_recase_mouse(char *s)
{
    if (!*s)
        return;
    for (char *c = s + 1; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

static int is_ensembl_id(const char *s)
{
    if (strncmp(s, "ENS", 3) != 0)
        return 0;
    s += 3;
    while (isupper((unsigned char)*s) && *s != 'G')
        s++;
    if (*s++ != 'G')
        return 0;
    int digits = 0;
    while (isdigit((unsigned char)*s))
        s++, digits++;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            ;
    return digits >= 6 && *s == 0;
}

int sn_ppi_names_are_ids(char *const *names, int64_t n)
{
    int64_t ids = 0;
    for (int64_t i = 0; i < n; i++)
        ids += names[i] && is_ensembl_id(names[i]);
    return n > 0 && 2 * ids > n;
}

int sn_ppi_map_ids(char *const *ids, int64_t n, char *const *keys, char *const *vals, int64_t nmap, char ***out,
                   int64_t *mapped)
{
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, nmap));
    int rc = SN_OK;
    for (int64_t i = 0; i < nmap && rc >= 0; i++)
        rc = sn_strmap_put(&m, keys[i], i, NULL); /* first row wins */
    *out = rc >= 0 ? sn_calloc((size_t)n + 1, sizeof **out, "gene symbols") : NULL;
    if (!*out) {
        sn_strmap_free(&m);
        return rc < 0 ? rc : SN_ENOMEM;
    }
    *mapped = 0;
    char bare[256];
    for (int64_t i = 0; i < n; i++) {
        int64_t r = sn_strmap_get(&m, ids[i]);
        const char *dot = strchr(ids[i], '.');
        if (r < 0 && dot && (size_t)(dot - ids[i]) < sizeof bare) {
            memcpy(bare, ids[i], (size_t)(dot - ids[i]));
            bare[dot - ids[i]] = 0;
            r = sn_strmap_get(&m, bare);
        }
        if (r < 0 || !vals[r][0])
            continue;
        if (!((*out)[i] = sn_strdup(vals[r]))) {
            sn_free_strings(*out, n);
            *out = NULL;
            sn_strmap_free(&m);
            return SN_ENOMEM;
        }
        ++*mapped;
    }
    sn_strmap_free(&m);
    return SN_OK;
}

typedef struct {
    int64_t a, b; /* data columns, a < b */
    double w;
} pair_t;

static int cmp_pair(const void *x, const void *y)
{
    const pair_t *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

/* Working state of one alignment. */
typedef struct {
    const sn_edges *e;
    const sn_ppi_opts *o;
    char **na, **nb;    /* node names per edge (recased copies for mouse) */
    uint8_t *use;       /* per edge: passed cut-off, not duplicate, not self */
    sn_strmap nodes;    /* node name -> first edge row */
    sn_strmap data;     /* data gene name -> column */
    char **node_list;   /* distinct nodes in order of appearance */
    int64_t nnodes;
} align_t;

static void align_free(align_t *s)
{
    if (s->o && s->o->mouse) {
        sn_free_strings(s->na, s->e->n);
        sn_free_strings(s->nb, s->e->n);
    }
    free(s->use);
    free(s->node_list);
    sn_strmap_free(&s->nodes);
    sn_strmap_free(&s->data);
}

static int recased_names(align_t *s)
{
    const sn_edges *e = s->e;
    if (!s->o->mouse) {
        s->na = e->a;
        s->nb = e->b;
        return SN_OK;
    }
    s->na = sn_calloc((size_t)e->n + 1, sizeof *s->na, "PPI names");
    s->nb = sn_calloc((size_t)e->n + 1, sizeof *s->nb, "PPI names");
    if (!s->na || !s->nb)
        return SN_ENOMEM;
    for (int64_t r = 0; r < e->n; r++) {
        if (!(s->na[r] = sn_strdup(e->a[r])) || !(s->nb[r] = sn_strdup(e->b[r])))
            return SN_ENOMEM;
        sn_ppi_recase_mouse(s->na[r]);
        sn_ppi_recase_mouse(s->nb[r]);
    }
    return SN_OK;
}

static int add_node(align_t *s, char *name)
{
    int rc = sn_strmap_put(&s->nodes, name, s->nnodes, NULL);
    if (rc == 1)
        s->node_list[s->nnodes++] = name;
    return rc < 0 ? rc : SN_OK;
}

/* Steps 1-3: mark the usable rows and collect the nodes. */
static int screen_edges(align_t *s, sn_ppi *p)
{
    const sn_edges *e = s->e;
    sn_strmap rows;
    SN_TRY(sn_strmap_init(&rows, e->n));
    char **keys = sn_calloc((size_t)e->n + 1, sizeof *keys, "PPI rows");
    int rc = keys ? SN_OK : SN_ENOMEM;
    for (int64_t r = 0; r < e->n && rc >= 0; r++) {
        if (e->weighted && !(e->w[r] >= s->o->min_score)) {
            p->edges_below++;
            continue;
        }
        if ((rc = add_node(s, s->na[r])) < 0 || (rc = add_node(s, s->nb[r])) < 0)
            break;
        size_t len = strlen(s->na[r]) + strlen(s->nb[r]) + 40;
        if (!(keys[r] = sn_malloc(len, "a PPI row"))) {
            rc = SN_ENOMEM;
            break;
        }
        snprintf(keys[r], len, "%s\t%s\t%.17g", s->na[r], s->nb[r], e->weighted ? e->w[r] : 1.0);
        if ((rc = sn_strmap_put(&rows, keys[r], r, NULL)) == 0)
            p->edges_duplicate++;
        else if (rc == 1 && strcmp(s->na[r], s->nb[r]) == 0)
            p->edges_self++;
        else if (rc == 1)
            s->use[r] = 1;
    }
    sn_strmap_free(&rows);
    sn_free_strings(keys, e->n);
    p->ppi_nodes = s->nnodes;
    return rc < 0 ? rc : SN_OK;
}

/* Up to three names of each side that the other lacks, and a hint. */
static int too_few(const align_t *s, char *const *genes, int64_t ngenes, int64_t got, int64_t need)
{
    char dmiss[256] = "", pmiss[256] = "";
    int nd = 0, np = 0;
    for (int64_t j = 0; j < ngenes && nd < 3; j++)
        if (genes[j] && sn_strmap_get(&s->nodes, genes[j]) < 0) {
            snprintf(dmiss + strlen(dmiss), sizeof dmiss - strlen(dmiss), "%s%s", nd++ ? ", " : "", genes[j]);
        }
    for (int64_t i = 0; i < s->nnodes && np < 3; i++)
        if (sn_strmap_get(&s->data, s->node_list[i]) < 0)
            snprintf(pmiss + strlen(pmiss), sizeof pmiss - strlen(pmiss), "%s%s", np++ ? ", " : "",
                     s->node_list[i]);
    const char *hint = sn_ppi_names_are_ids(genes, ngenes)
                           ? "the data's gene names look like Ensembl ids: map them to symbols"
                           : "check the letter case and species (mouse data needs mouse recasing of the human "
                             "symbols) and that both sides use gene symbols";
    return sn_err(SN_EINVAL,
                  "only %lld genes are shared by the expression data and the PPI network (need %lld); "
                  "data genes not in the network: %s; network genes not in the data: %s (%s)",
                  (long long)got, (long long)need, nd ? dmiss : "none", np ? pmiss : "none", hint);
}

/* Steps 4-5: the edges among kept genes, merged. */
static int collect_pairs(align_t *s, const uint8_t *keep, pair_t **out, int64_t *npairs)
{
    const sn_edges *e = s->e;
    pair_t *pr = sn_malloc(((size_t)e->n + 1) * sizeof *pr, "PPI edges");
    if (!pr)
        return SN_ENOMEM;
    int64_t n = 0;
    for (int64_t r = 0; r < e->n; r++) {
        if (!s->use[r])
            continue;
        int64_t a = sn_strmap_get(&s->data, s->na[r]), b = sn_strmap_get(&s->data, s->nb[r]);
        if (a < 0 || b < 0 || !keep[a] || !keep[b] || a == b)
            continue;
        pr[n++] = (pair_t){a < b ? a : b, a < b ? b : a, e->weighted ? e->w[r] : 1.0};
    }
    qsort(pr, (size_t)n, sizeof *pr, cmp_pair);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (m && pr[m - 1].a == pr[i].a && pr[m - 1].b == pr[i].b) {
            if (pr[i].w > pr[m - 1].w)
                pr[m - 1].w = pr[i].w;
            continue;
        }
        pr[m++] = pr[i];
    }
    *out = pr;
    *npairs = m;
    return SN_OK;
}

static int build_graph(const pair_t *pr, int64_t m, int64_t ngenes, sn_ppi *p)
{
    int64_t *newid = sn_malloc(((size_t)ngenes + 1) * sizeof *newid, "a gene map");
    int64_t *deg = sn_calloc((size_t)ngenes + 1, sizeof *deg, "gene degrees");
    int rc = newid && deg ? SN_OK : SN_ENOMEM;
    if (rc < 0)
        goto out;
    for (int64_t i = 0; i < m; i++)
        deg[pr[i].a]++, deg[pr[i].b]++;
    p->n = 0;
    for (int64_t j = 0; j < ngenes; j++)
        newid[j] = deg[j] ? p->n++ : -1;
    p->genes = sn_malloc(((size_t)p->n + 1) * sizeof *p->genes, "aligned genes");
    p->degree = sn_malloc(((size_t)p->n + 1) * sizeof *p->degree, "aligned genes");
    if (!p->genes || !p->degree || (rc = sn_csr_alloc(&p->adj, p->n, p->n, 2 * m)) < 0) {
        rc = rc < 0 ? rc : SN_ENOMEM;
        goto out;
    }
    for (int64_t j = 0; j < ngenes; j++)
        if (newid[j] >= 0) {
            p->genes[newid[j]] = j;
            p->degree[newid[j]] = deg[j];
            p->adj.indptr[newid[j] + 1] = deg[j];
        }
    for (int64_t i = 0; i < p->n; i++)
        p->adj.indptr[i + 1] += p->adj.indptr[i];
    int64_t *pos = deg; /* reuse as fill cursors, by new id */
    for (int64_t i = 0; i < p->n; i++)
        pos[i] = p->adj.indptr[i];
    /* pairs are sorted by (a, b): filling both directions in this order
     * leaves every row's columns ascending */
    for (int64_t i = 0; i < m; i++) {
        int64_t a = newid[pr[i].a], b = newid[pr[i].b];
        p->adj.indices[pos[b]] = (int32_t)a;
        p->adj.data[pos[b]++] = (float)pr[i].w;
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t a = newid[pr[i].a], b = newid[pr[i].b];
        p->adj.indices[pos[a]] = (int32_t)b;
        p->adj.data[pos[a]++] = (float)pr[i].w;
    }
    p->edges_kept = m;
out:
    free(newid);
    free(deg);
    return rc;
}

static int map_data_genes(align_t *s, char *const *genes, int64_t ngenes)
{
    SN_TRY(sn_strmap_init(&s->data, ngenes));
    for (int64_t j = 0; j < ngenes; j++)
        if (genes[j])
            SN_TRY(sn_strmap_put(&s->data, genes[j], j, NULL));
    return SN_OK;
}

int sn_ppi_align(const sn_edges *e, char *const *genes, int64_t ngenes, const int64_t *ncells, int64_t n_cells,
                 const sn_ppi_opts *o, sn_ppi *p)
{
    memset(p, 0, sizeof *p);
    align_t s = {.e = e, .o = o};
    p->edges_read = e->n;
    pair_t *pr = NULL;
    int64_t npairs = 0;
    uint8_t *keep = sn_calloc((size_t)ngenes + 1, 1, "the gene selection");
    s.use = sn_calloc((size_t)e->n + 1, 1, "PPI rows");
    s.node_list = sn_malloc((2 * (size_t)e->n + 1) * sizeof *s.node_list, "PPI nodes");
    int rc = keep && s.use && s.node_list ? SN_OK : SN_ENOMEM;
    SN_CHECK(rc);
    SN_CHECK(sn_strmap_init(&s.nodes, 2 * e->n));
    SN_CHECK(map_data_genes(&s, genes, ngenes));
    SN_CHECK(recased_names(&s));
    SN_CHECK(screen_edges(&s, p));
    for (int64_t j = 0; j < ngenes; j++) {
        if (!genes[j] || sn_strmap_get(&s.nodes, genes[j]) < 0 || sn_strmap_get(&s.data, genes[j]) != j)
            continue;
        p->genes_matched++;
        keep[j] = (double)ncells[j] > o->min_expr_frac * (double)n_cells;
        p->genes_unexpressed += !keep[j];
    }
    SN_CHECK(collect_pairs(&s, keep, &pr, &npairs));
    SN_CHECK(build_graph(pr, npairs, ngenes, p));
    p->genes_isolated = p->genes_matched - p->genes_unexpressed - p->n;
    if (p->n < o->min_genes)
        rc = too_few(&s, genes, ngenes, p->n, o->min_genes);
out:
    free(pr);
    free(keep);
    align_free(&s);
    if (rc < 0)
        sn_ppi_free(p);
    return rc;
}
