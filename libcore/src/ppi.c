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

/* ENS, a code of capitals (a species, then the kind: ENSG, ENSMUSG,
 * ENSGALG), six digits or more, then nothing or a .version of digits. */
size_t sn_ppi_ensembl_len(const char *s, char *type)
{
    size_t i = 3, d;
    if (strncmp(s, "ENS", 3) != 0)
        return 0;
    while (isupper((unsigned char)s[i]))
        i++;
    for (d = i; isdigit((unsigned char)s[d]); d++)
        ;
    if (i == 3 || d - i < 6)
        return 0;
    if (s[d] && (s[d] != '.' || !s[d + 1] || strspn(s + d + 1, "0123456789") != strlen(s + d + 1)))
        return 0;
    *type = s[i - 1];
    return d;
}

static int is_ensembl_id(const char *s)
{
    char type;
    return sn_ppi_ensembl_len(s, &type) > 0 && type == 'G';
}

int sn_ppi_names_are_ids(char *const *names, int64_t n)
{
    int64_t ids = 0;
    for (int64_t i = 0; i < n; i++)
        ids += names[i] && is_ensembl_id(names[i]);
    return n > 0 && 2 * ids > n;
}

/* Length of id without a version suffix (".7"), or 0 when it has none. */
static size_t versioned(const char *id, int digits_only)
{
    const char *dot = strchr(id, '.');
    if (!dot || dot == id)
        return 0;
    for (const char *c = dot + 1; digits_only && *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return !digits_only || dot[1] ? (size_t)(dot - id) : 0;
}

/* Row of the table for id: the id itself, else its bare form, else an id
 * of the table whose bare form it is (a table of versioned ids, such as
 * GENCODE's, for data without versions). */
static int64_t map_row(const sn_strmap *m, const sn_strmap *bare_keys, const char *id)
{
    char bare[256];
    int64_t r = sn_strmap_get(m, id);
    size_t len = versioned(id, 0);
    if (r < 0 && len > 0 && len < sizeof bare) {
        memcpy(bare, id, len);
        bare[len] = 0;
        r = sn_strmap_get(m, bare);
        if (r < 0)
            r = sn_strmap_get(bare_keys, bare);
    }
    return r >= 0 ? r : sn_strmap_get(bare_keys, id);
}

/* The table's versioned ids by their bare form (first row wins); the map
 * borrows its keys from *store, freed with it. */
static int bare_key_map(char *const *keys, int64_t nmap, sn_strmap *b, char **store)
{
    size_t total = 0;
    for (int64_t i = 0; i < nmap; i++)
        total += versioned(keys[i], 1) + 1;
    *store = sn_malloc(total + 1, "gene ids");
    if (!*store)
        return SN_ENOMEM;
    int rc = sn_strmap_init(b, nmap);
    char *at = *store;
    for (int64_t i = 0; i < nmap && rc >= 0; i++) {
        size_t len = versioned(keys[i], 1);
        if (len == 0)
            continue;
        memcpy(at, keys[i], len);
        at[len] = 0;
        rc = sn_strmap_put(b, at, i, NULL);
        at += len + 1;
    }
    if (rc < 0) {
        free(*store);
        *store = NULL;
    }
    return rc < 0 ? rc : SN_OK;
}

int sn_ppi_map_ids(char *const *ids, int64_t n, char *const *keys, char *const *vals, int64_t nmap, char ***out,
                   int64_t *mapped)
{
    sn_strmap m, b;
    char *store = NULL;
    SN_TRY(sn_strmap_init(&m, nmap));
    int rc = SN_OK;
    for (int64_t i = 0; i < nmap && rc >= 0; i++)
        rc = sn_strmap_put(&m, keys[i], i, NULL); /* first row wins */
    if (rc >= 0)
        rc = bare_key_map(keys, nmap, &b, &store);
    if (rc < 0) {
        sn_strmap_free(&m);
        return rc;
    }
    *out = sn_calloc((size_t)n + 1, sizeof **out, "gene symbols");
    *mapped = 0;
    for (int64_t i = 0; *out && i < n; i++) {
        int64_t r = map_row(&m, &b, ids[i]);
        if (r < 0 || !vals[r][0])
            continue;
        if (!((*out)[i] = sn_strdup(vals[r]))) {
            sn_free_strings(*out, n);
            *out = NULL;
            break;
        }
        ++*mapped;
    }
    sn_strmap_free(&m);
    sn_strmap_free(&b);
    free(store);
    return *out ? SN_OK : SN_ENOMEM;
}

/* Working state of one alignment.  Nodes are numbered; a name that
 * recasing (mouse) makes equal to an earlier one takes that one's number. */
typedef struct {
    const sn_edges *e;
    const sn_ppi_opts *o;
    int64_t nn;          /* nodes */
    char **name;         /* node names (recased copies for mouse, else borrowed) */
    int own_names;
    int32_t *ia, *ib;    /* per edge: its nodes */
    int own_ids;
    uint8_t *use;        /* per edge: passed cut-off, not duplicate, not self */
    uint8_t *seen;       /* per node: on an edge above the cut-off */
    int32_t *node_list;  /* those nodes in order of appearance */
    int64_t nnodes;
    int64_t *col;        /* per node: its data column (first gene of that name), -1 if none */
    uint8_t *innet;      /* per data column: its name is a node above the cut-off */
} align_t;

static void align_free(align_t *s)
{
    if (s->own_names)
        sn_free_strings(s->name, s->nn);
    else
        free(s->name);
    if (s->own_ids) {
        free(s->ia);
        free(s->ib);
    }
    free(s->use);
    free(s->seen);
    free(s->node_list);
    free(s->col);
    free(s->innet);
}

/* Number the names of edge ends given only as strings. */
static int intern_ends(align_t *s)
{
    const sn_edges *e = s->e;
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, 2 * e->n));
    s->own_ids = 1;
    s->ia = sn_malloc(((size_t)e->n + 1) * sizeof *s->ia, "PPI nodes");
    s->ib = sn_malloc(((size_t)e->n + 1) * sizeof *s->ib, "PPI nodes");
    s->name = sn_malloc((2 * (size_t)e->n + 1) * sizeof *s->name, "PPI nodes");
    int rc = s->ia && s->ib && s->name ? SN_OK : SN_ENOMEM;
    for (int64_t r = 0; r < e->n && rc >= 0; r++)
        for (int side = 0; side < 2 && rc >= 0; side++) {
            char *nm = side ? e->b[r] : e->a[r];
            int64_t old;
            if ((rc = sn_strmap_put(&m, nm, s->nn, &old)) == 1)
                s->name[s->nn++] = nm;
            (side ? s->ib : s->ia)[r] = (int32_t)(rc == 1 ? s->nn - 1 : old);
        }
    sn_strmap_free(&m);
    return rc < 0 ? rc : SN_OK;
}

/* Mouse: recased copies, and nodes whose recased names meet merged into the
 * first of them. */
static int recase_nodes(align_t *s)
{
    int64_t nn = s->nn;
    char **rc_name = sn_calloc((size_t)nn + 1, sizeof *rc_name, "PPI names");
    int32_t *to = sn_malloc(((size_t)nn + 1) * sizeof *to, "PPI nodes");
    sn_strmap m = {0};
    int rc = rc_name && to ? sn_strmap_init(&m, nn) : SN_ENOMEM;
    int64_t k = 0;
    for (int64_t u = 0; u < nn && rc >= 0; u++) {
        if (!(rc_name[k] = sn_strdup(s->name[u]))) {
            rc = SN_ENOMEM;
            break;
        }
        sn_ppi_recase_mouse(rc_name[k]);
        int64_t old;
        if ((rc = sn_strmap_put(&m, rc_name[k], k, &old)) == 1)
            to[u] = (int32_t)k++;
        else if (rc == 0) {
            to[u] = (int32_t)old;
            free(rc_name[k]);
            rc_name[k] = NULL;
        }
    }
    sn_strmap_free(&m);
    if (rc >= 0 && !s->own_ids) { /* the ids are the reader's: copy before renumbering */
        int32_t *ia = sn_malloc(((size_t)s->e->n + 1) * sizeof *ia, "PPI nodes");
        int32_t *ib = sn_malloc(((size_t)s->e->n + 1) * sizeof *ib, "PPI nodes");
        if (ia && ib) {
            s->ia = ia, s->ib = ib, s->own_ids = 1;
            memcpy(ia, s->e->ia, (size_t)s->e->n * sizeof *ia);
            memcpy(ib, s->e->ib, (size_t)s->e->n * sizeof *ib);
        } else {
            free(ia), free(ib);
            rc = SN_ENOMEM;
        }
    }
    for (int64_t r = 0; r < s->e->n && rc >= 0; r++) {
        s->ia[r] = to[s->ia[r]];
        s->ib[r] = to[s->ib[r]];
    }
    if (s->own_names)
        sn_free_strings(s->name, s->nn);
    else
        free(s->name);
    s->name = rc_name;
    s->own_names = 1;
    s->nn = k;
    free(to);
    if (rc < 0)
        return rc;
    return SN_OK;
}

/* Node numbers and names for every edge end. */
static int edge_nodes(align_t *s)
{
    const sn_edges *e = s->e;
    if (e->ia && e->ib && e->nodes) {
        s->ia = e->ia, s->ib = e->ib, s->nn = e->nnodes;
        if (!(s->name = sn_malloc(((size_t)s->nn + 1) * sizeof *s->name, "PPI nodes")))
            return SN_ENOMEM;
        memcpy(s->name, e->nodes, (size_t)s->nn * sizeof *s->name);
    } else {
        SN_TRY(intern_ends(s));
    }
    return s->o->mouse ? recase_nodes(s) : SN_OK;
}

/* An edge above the cut-off: its ends, weight bits and row. */
typedef struct {
    int32_t a, b;
    uint64_t w;
    int64_t r;
} row_t;

static row_t make_row(int32_t a, int32_t b, double w, int64_t r)
{
    row_t x = {a, b, 0, r};
    memcpy(&x.w, &w, sizeof w);
    return x;
}

static double row_weight(const row_t *r)
{
    double w;
    memcpy(&w, &r->w, sizeof w);
    return w;
}

static int cmp_row(const void *x, const void *y)
{
    const row_t *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    if (p->w != q->w)
        return p->w < q->w ? -1 : 1;
    return (p->r > q->r) - (p->r < q->r);
}

/* out = in stably sorted by one end (b when by_b, else a) of nn nodes. */
static void count_sort(const row_t *in, row_t *out, int64_t n, int64_t *cnt, int64_t nn, int by_b)
{
    memset(cnt, 0, ((size_t)nn + 1) * sizeof *cnt);
    for (int64_t i = 0; i < n; i++)
        cnt[(by_b ? in[i].b : in[i].a) + 1]++;
    for (int64_t u = 0; u < nn; u++)
        cnt[u + 1] += cnt[u];
    for (int64_t i = 0; i < n; i++)
        out[cnt[by_b ? in[i].b : in[i].a]++] = in[i];
}

/* rows (in row order) into (a, b, row) order: two counting sorts, where a
 * comparison sort of the ~40 000 rows above the cut-off of a human
 * network took 5 ms. */
static int sort_ends(row_t *rows, int64_t n, int64_t nn)
{
    row_t *tmp = sn_malloc(((size_t)n + 1) * sizeof *tmp, "PPI rows");
    int64_t *cnt = sn_malloc(((size_t)nn + 2) * sizeof *cnt, "PPI nodes");
    if (tmp && cnt) {
        count_sort(rows, tmp, n, cnt, nn, 1);
        count_sort(tmp, rows, n, cnt, nn, 0);
    }
    free(tmp);
    free(cnt);
    return tmp && cnt ? SN_OK : SN_ENOMEM;
}

/* The rows of one (a, b) pair, in row order: a row repeating an earlier
 * row's weight is a duplicate, the first of a weight is kept unless a
 * self-loop.  A long run (one pair listed many times) is sorted by
 * weight. */
static void screen_run(row_t *run, int64_t n, align_t *s, sn_ppi *p)
{
    enum { SHORT = 32 };
    if (n > SHORT)
        qsort(run, (size_t)n, sizeof *run, cmp_row);
    for (int64_t i = 0; i < n; i++) {
        int dup = n > SHORT && i > 0 && run[i - 1].w == run[i].w;
        for (int64_t j = 0; n <= SHORT && j < i && !dup; j++)
            dup = run[j].w == run[i].w;
        if (dup)
            p->edges_duplicate++;
        else if (run[i].a == run[i].b)
            p->edges_self++;
        else
            s->use[run[i].r] = 1;
    }
}

/* Steps 1-3: mark the usable rows and collect the nodes. */
static int screen_edges(align_t *s, sn_ppi *p)
{
    const sn_edges *e = s->e;
    row_t *rows = sn_malloc(((size_t)e->n + 1) * sizeof *rows, "PPI rows");
    if (!rows)
        return SN_ENOMEM;
    int64_t nr = 0;
    for (int64_t r = 0; r < e->n; r++) {
        if (e->weighted && !(e->w[r] >= s->o->min_score)) {
            p->edges_below++;
            continue;
        }
        for (int side = 0; side < 2; side++) {
            int32_t u = side ? s->ib[r] : s->ia[r];
            if (!s->seen[u]) {
                s->seen[u] = 1;
                s->node_list[s->nnodes++] = u;
            }
        }
        rows[nr++] = make_row(s->ia[r], s->ib[r], e->weighted ? e->w[r] : 1.0, r);
    }
    int rc = sort_ends(rows, nr, s->nn);
    for (int64_t i0 = 0, i1; rc == SN_OK && i0 < nr; i0 = i1) {
        for (i1 = i0 + 1; i1 < nr && rows[i1].a == rows[i0].a && rows[i1].b == rows[i0].b;)
            i1++;
        screen_run(rows + i0, i1 - i0, s, p);
    }
    free(rows);
    p->ppi_nodes = s->nnodes;
    return rc;
}

/* Too few genes when the names do match: the score cut-off or the
 * expression filter left too little.  SN_OK when neither explains it. */
static int too_few_kept(const align_t *s, const sn_ppi *p, int64_t need)
{
    if (s->nnodes == 0 && p->edges_below > 0)
        return sn_err(SN_EINVAL, "none of the %lld PPI edges has a score of at least %g (--ppi-min-score)",
                      (long long)p->edges_below, s->o->min_score);
    if (p->genes_matched >= need) {
        char why[160] = "";
        if (p->genes_unexpressed > 0)
            snprintf(why, sizeof why, "; %lld of those are detected in too few cells (--min-expressed-frac %g)",
                     (long long)p->genes_unexpressed, s->o->min_expr_frac);
        return sn_err(SN_EINVAL,
                      "only %lld genes keep a PPI edge to another of the data's genes (need %lld, --min-ppi-genes); "
                      "%lld genes match the network%s",
                      (long long)p->n, (long long)need, (long long)p->genes_matched, why);
    }
    return SN_OK;
}

/* Up to three names of each side that the other lacks, and a hint. */
static int too_few(const align_t *s, char *const *genes, int64_t ngenes, const sn_strmap *data, int64_t got,
                   int64_t need)
{
    char dmiss[256] = "", pmiss[256] = "";
    int nd = 0, np = 0;
    for (int64_t j = 0; j < ngenes && nd < 3; j++)
        if (genes[j] && !s->innet[sn_strmap_get(data, genes[j])]) {
            snprintf(dmiss + strlen(dmiss), sizeof dmiss - strlen(dmiss), "%s%s", nd++ ? ", " : "", genes[j]);
        }
    for (int64_t i = 0; i < s->nnodes && np < 3; i++)
        if (s->col[s->node_list[i]] < 0)
            snprintf(pmiss + strlen(pmiss), sizeof pmiss - strlen(pmiss), "%s%s", np++ ? ", " : "",
                     s->name[s->node_list[i]]);
    const char *hint = sn_ppi_names_are_ids(genes, ngenes)
                           ? "the data's gene names look like Ensembl ids: map them to symbols"
                           : "check the letter case and species (mouse data needs mouse recasing of the human "
                             "symbols) and that both sides use gene symbols";
    return sn_err(SN_EINVAL,
                  "only %lld genes are shared by the expression data and the PPI network (need %lld, --min-ppi-genes); "
                  "data genes not in the network: %s; network genes not in the data: %s (%s)",
                  (long long)got, (long long)need, nd ? dmiss : "none", np ? pmiss : "none", hint);
}

/* Steps 4-5: the edges among kept genes (a < b, data columns), in (a, b)
 * order, each pair once with its largest weight. */
static int collect_pairs(align_t *s, const uint8_t *keep, int64_t ngenes, row_t **out, int64_t *npairs)
{
    const sn_edges *e = s->e;
    row_t *rows = sn_malloc(((size_t)e->n + 1) * sizeof *rows, "PPI edges");
    if (!rows)
        return SN_ENOMEM;
    int64_t n = 0, m = 0;
    for (int64_t r = 0; r < e->n; r++) {
        int64_t a = s->col[s->ia[r]], b = s->col[s->ib[r]];
        if (!s->use[r] || a < 0 || b < 0 || !keep[a] || !keep[b] || a == b)
            continue;
        rows[n++] = make_row((int32_t)(a < b ? a : b), (int32_t)(a < b ? b : a), e->weighted ? e->w[r] : 1.0, r);
    }
    int rc = sort_ends(rows, n, ngenes);
    for (int64_t i = 0; rc == SN_OK && i < n; i++) {
        if (m && rows[m - 1].a == rows[i].a && rows[m - 1].b == rows[i].b) {
            if (row_weight(&rows[i]) > row_weight(&rows[m - 1]))
                rows[m - 1].w = rows[i].w;
            continue;
        }
        rows[m++] = rows[i];
    }
    if (rc < 0) {
        free(rows);
        return rc;
    }
    *out = rows;
    *npairs = m;
    return SN_OK;
}

static int build_graph(const row_t *pr, int64_t m, int64_t ngenes, sn_ppi *p)
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
        p->adj.data[pos[b]++] = (float)row_weight(&pr[i]);
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t a = newid[pr[i].a], b = newid[pr[i].b];
        p->adj.indices[pos[a]] = (int32_t)b;
        p->adj.data[pos[a]++] = (float)row_weight(&pr[i]);
    }
    p->edges_kept = m;
out:
    free(newid);
    free(deg);
    return rc;
}

/* The data's gene names: name -> first column; per node its column, and
 * per column whether its name is a node above the cut-off. */
static int map_data_genes(align_t *s, char *const *genes, int64_t ngenes, sn_strmap *data)
{
    SN_TRY(sn_strmap_init(data, ngenes));
    for (int64_t j = 0; j < ngenes; j++)
        if (genes[j] && sn_strmap_put(data, genes[j], j, NULL) < 0)
            return SN_ENOMEM;
    s->col = sn_malloc(((size_t)s->nn + 1) * sizeof *s->col, "PPI nodes");
    s->innet = sn_calloc((size_t)ngenes + 1, 1, "PPI genes");
    if (!s->col || !s->innet)
        return SN_ENOMEM;
    for (int64_t u = 0; u < s->nn; u++) {
        s->col[u] = s->name[u] ? sn_strmap_get(data, s->name[u]) : -1;
        if (s->col[u] >= 0 && s->seen[u])
            s->innet[s->col[u]] = 1;
    }
    return SN_OK;
}

int sn_ppi_align(const sn_edges *e, char *const *genes, int64_t ngenes, const int64_t *ncells, int64_t n_cells,
                 const sn_ppi_opts *o, sn_ppi *p)
{
    memset(p, 0, sizeof *p);
    align_t s = {.e = e, .o = o};
    sn_strmap data = {0};
    p->edges_read = e->n;
    row_t *pr = NULL;
    int64_t npairs = 0;
    uint8_t *keep = sn_calloc((size_t)ngenes + 1, 1, "the gene selection");
    int rc = keep ? edge_nodes(&s) : SN_ENOMEM;
    SN_CHECK(rc);
    s.use = sn_calloc((size_t)e->n + 1, 1, "PPI rows");
    s.seen = sn_calloc((size_t)s.nn + 1, 1, "PPI nodes");
    s.node_list = sn_malloc(((size_t)s.nn + 1) * sizeof *s.node_list, "PPI nodes");
    SN_CHECK(s.use && s.seen && s.node_list ? SN_OK : SN_ENOMEM);
    SN_CHECK(screen_edges(&s, p));
    SN_CHECK(map_data_genes(&s, genes, ngenes, &data));
    for (int64_t j = 0; j < ngenes; j++) {
        if (!genes[j] || !s.innet[j])
            continue;
        p->genes_matched++;
        keep[j] = (double)ncells[j] > o->min_expr_frac * (double)n_cells;
        p->genes_unexpressed += !keep[j];
    }
    SN_CHECK(collect_pairs(&s, keep, ngenes, &pr, &npairs));
    SN_CHECK(build_graph(pr, npairs, ngenes, p));
    p->genes_isolated = p->genes_matched - p->genes_unexpressed - p->n;
    int64_t need = o->min_genes > 0 ? o->min_genes : 1; /* with none, nothing can follow */
    if (p->n < need && (rc = too_few_kept(&s, p, need)) == SN_OK)
        rc = too_few(&s, genes, ngenes, &data, p->n, need);
out:
    free(pr);
    free(keep);
    sn_strmap_free(&data);
    align_free(&s);
    if (rc < 0)
        sn_ppi_free(p);
    return rc;
}
