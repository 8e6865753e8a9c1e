/* Edge lists, gene lists, GMT gene sets and two-column mapping tables. */
#include "read_int.h"

#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"
#include "scnet/strmap.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Next line with content (not blank, not a '#' comment); 0 at the end. */
static int content_line(sn_text *t, char **line)
{
    int r;
    while ((r = sn_text_getline(t, line, NULL)) == 1) {
        *line = sn_rd_nobom(t, *line);
        const char *p = *line + strspn(*line, " \t");
        if (*p && *p != '#')
            break;
    }
    return r;
}

static char line_delim(const char *line)
{
    return strchr(line, '\t') ? '\t' : strchr(line, ',') ? ',' : ' ';
}

/* Node names hold no blanks and an edge no empty field: a line that mixes
 * tabs and blanks is blank-separated (tabs count as blanks there).  Not for
 * mapping tables, whose values may be empty or hold blanks. */
static char edge_delim(const char *line)
{
    return strchr(line, '\t') && strchr(line, ' ') ? ' ' : line_delim(line);
}

/* ---- edge lists ---- */

void sn_edges_free(sn_edges *e)
{
    sn_free_strings(e->nodes, e->nnodes);
    free(e->a);
    free(e->b);
    free(e->ia);
    free(e->ib);
    free(e->w);
    memset(e, 0, sizeof *e);
}

static int header_word(const char *s)
{
    static const char *const w[] = {"protein1", "protein2", "protein_a", "protein_b", "gene1", "gene2",
                                    "gene_a", "gene_b", "g1_symbol", "g2_symbol", "symbol1", "symbol2",
                                    "symbol_a", "symbol_b", "node1", "node2", "source", "target", "from",
                                    "to", "interactor_a", "interactor_b", NULL};
    for (int i = 0; w[i]; i++)
        if (strcasecmp(s, w[i]) == 0)
            return 1;
    return 0;
}

static int is_header(char **f, int64_t nf)
{
    double v;
    if (nf >= 3 && sn_rd_number(f[2], &v) == 1)
        return 1;
    return nf >= 2 && (header_word(f[0]) || header_word(f[1]));
}

/* Reading state: the node names seen so far, each stored once. */
typedef struct {
    sn_edges *e;
    sn_strmap names; /* name -> node */
    int64_t cap, ncap;
} edge_rd;

static int node_id(edge_rd *r, const char *name, int32_t *id)
{
    sn_edges *e = r->e;
    int64_t old = sn_strmap_get(&r->names, name);
    if (old >= 0) {
        *id = (int32_t)old;
        return SN_OK;
    }
    if (e->nnodes >= INT32_MAX)
        return sn_err(SN_EINVAL, "more than 2^31 node names");
    SN_TRY(sn_grow((void **)&e->nodes, &r->ncap, e->nnodes + 1, sizeof *e->nodes, "the node names"));
    if (!(e->nodes[e->nnodes] = sn_strdup(name)))
        return SN_ENOMEM;
    *id = (int32_t)e->nnodes;
    /* the map borrows the stored copy */
    return sn_strmap_put(&r->names, e->nodes[e->nnodes++], *id, NULL) < 0 ? SN_ENOMEM : SN_OK;
}

static int push_edge(edge_rd *r, const char *a, const char *b, double w)
{
    sn_edges *e = r->e;
    int64_t c = r->cap;
    SN_TRY(sn_grow((void **)&e->ia, &c, e->n + 1, sizeof *e->ia, "the edge list"));
    c = r->cap;
    SN_TRY(sn_grow((void **)&e->ib, &c, e->n + 1, sizeof *e->ib, "the edge list"));
    c = r->cap;
    SN_TRY(sn_grow((void **)&e->w, &c, e->n + 1, sizeof *e->w, "the edge list"));
    r->cap = c;
    SN_TRY(node_id(r, a, &e->ia[e->n]));
    SN_TRY(node_id(r, b, &e->ib[e->n]));
    e->w[e->n++] = w;
    return SN_OK;
}

/* e->a, e->b: the names of every edge's ends (pointers into e->nodes). */
static int name_ends(sn_edges *e)
{
    e->a = sn_malloc(((size_t)e->n + 1) * sizeof *e->a, "the edge list");
    e->b = sn_malloc(((size_t)e->n + 1) * sizeof *e->b, "the edge list");
    if (!e->a || !e->b)
        return SN_ENOMEM;
    for (int64_t r = 0; r < e->n; r++) {
        e->a[r] = e->nodes[e->ia[r]];
        e->b[r] = e->nodes[e->ib[r]];
    }
    return SN_OK;
}

static int edge_line(sn_text *t, char **f, int64_t nf, int weighted, edge_rd *r)
{
    char q[48];
    if (nf < 2)
        return sn_text_err(t, SN_EFMT, "one field; an edge needs two node names ('A B' or 'A B weight')");
    if (!*f[0] || !*f[1])
        return sn_text_err(t, SN_EFMT, "empty node name");
    double w = 1;
    if (weighted) {
        if (nf < 3)
            return sn_text_err(t, SN_EFMT, "no weight (the first edge of the file has one)");
        int bad = sn_rd_number(f[2], &w);
        /* Graph weights are float32 downstream: a larger one would become inf there. */
        if (bad || w < 0 || w > FLT_MAX)
            return sn_text_err(t, SN_EFMT, "weight '%s' is %s%s", sn_rd_quote(f[2], q, sizeof q),
                               bad == 1 ? "not a number"
                               : bad    ? "not finite"
                               : w < 0  ? "negative"
                                        : "over float32's range",
                               bad == 1 && nf > 3 ? " (more than three fields: a row-number column first?)"
                               : bad == 1         ? " (expected 'A B' or 'A B weight')"
                                                  : "");
    }
    return push_edge(r, f[0], f[1], w);
}

int sn_read_edges(const char *path, sn_edges *e)
{
    sn_text *t;
    char *line, *f[4], delim = 0, third[48] = "";
    int r, first = 1, extra = 0;
    memset(e, 0, sizeof *e);
    edge_rd rd = {.e = e};
    SN_TRY(sn_strmap_init(&rd.names, 1 << 14));
    if ((r = sn_text_open(path, &t)) < 0) {
        sn_strmap_free(&rd.names);
        return r;
    }
    while ((r = content_line(t, &line)) == 1) {
        delim = delim ? delim : edge_delim(line);
        int64_t nf = sn_split(line, delim, f, 4);
        if (nf < 0) {
            r = sn_text_err(t, SN_EFMT, "unterminated quote");
            break;
        }
        /* only the first line may be a header; the first edge says whether
         * the list is weighted */
        int header = first && is_header(f, nf);
        first = 0;
        if (header) {
            if (nf >= 3)
                sn_rd_quote(f[2], third, sizeof third);
            continue;
        }
        if (e->n == 0)
            e->weighted = nf >= 3;
        if ((r = edge_line(t, f, nf, e->weighted, &rd)) < 0)
            break;
        if (nf > 3 && !extra++)
            sn_note("%s: lines with more than three fields: those after the third (gene, gene, weight) are ignored",
                    path);
    }
    if (r == 0 && e->n == 0 && *third)
        r = sn_err(SN_EFMT, "%s: no edges: the first line, whose third field '%s' is not a number, was read as "
                            "a header (expected lines 'A B' or 'A B weight', weights like 0.5)", path, third);
    else if (r == 0 && e->n == 0)
        r = sn_err(SN_EFMT, "%s: no edges (expected lines 'A B' or 'A B weight')", path);
    if (r == 0)
        r = name_ends(e);
    sn_text_close(t);
    sn_strmap_free(&rd.names);
    if (r < 0)
        sn_edges_free(e);
    return r < 0 ? sn_rd_named(r, path) : SN_OK;
}

/* ---- gene lists ---- */

static int gene_tokens(char *line, sn_strs *g)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    for (char *p = line;;) {
        p += strspn(p, ", \t;");
        if (!*p)
            return SN_OK;
        size_t n = strcspn(p, ", \t;");
        char *tok = p;
        p += n;
        if (*p)
            *p++ = 0;
        if (n >= 2 && tok[0] == '"' && tok[n - 1] == '"') {
            tok[n - 1] = 0;
            tok++;
        }
        if (*tok)
            SN_TRY(sn_strs_push(g, tok));
    }
}

int sn_read_genes(const char *path, char ***genes, int64_t *n)
{
    sn_text *t;
    sn_strs g = {0};
    char *line;
    int r;
    *genes = NULL;
    *n = 0;
    SN_TRY(sn_text_open(path, &t));
    while ((r = sn_text_getline(t, &line, NULL)) == 1 && (r = gene_tokens(sn_rd_nobom(t, line), &g)) == SN_OK)
        ;
    sn_text_close(t);
    if (r == 0 && g.n == 0)
        r = sn_err(SN_EFMT, "%s: no gene names (expected one per line, or separated by commas or blanks)", path);
    if (r < 0) {
        sn_strs_free(&g);
        return sn_rd_named(r, path);
    }
    *n = g.n;
    *genes = sn_strs_take(&g);
    return SN_OK;
}

/* ---- GMT ---- */

void sn_gmt_free(sn_gmt *g)
{
    for (int64_t i = 0; i < g->n; i++)
        sn_free_strings(g->genes[i], g->size[i]);
    sn_free_strings(g->name, g->n);
    sn_free_strings(g->desc, g->n);
    free(g->size);
    free(g->genes);
    memset(g, 0, sizeof *g);
}

static int gmt_grow(sn_gmt *g, int64_t *cap)
{
    int64_t c1 = *cap, c2 = *cap, c3 = *cap, c4 = *cap;
    SN_TRY(sn_grow((void **)&g->name, &c1, g->n + 1, sizeof *g->name, "gene sets"));
    SN_TRY(sn_grow((void **)&g->desc, &c2, g->n + 1, sizeof *g->desc, "gene sets"));
    SN_TRY(sn_grow((void **)&g->size, &c3, g->n + 1, sizeof *g->size, "gene sets"));
    SN_TRY(sn_grow((void **)&g->genes, &c4, g->n + 1, sizeof *g->genes, "gene sets"));
    *cap = c1;
    return SN_OK;
}

/* A gene field without the blanks a hand-edited file leaves around it (in
 * place). */
static char *blank_trim(char *s)
{
    s += strspn(s, " ");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = 0;
    return s;
}

static int gmt_set(sn_gmt *g, char **f, int64_t nf)
{
    sn_strs s = {0};
    int64_t i = g->n;
    g->name[i] = sn_strdup(f[0]);
    g->desc[i] = sn_strdup(f[1]);
    g->genes[i] = NULL;
    g->size[i] = 0;
    g->n++; /* counted now so that sn_gmt_free releases a half-built set */
    if (!g->name[i] || !g->desc[i])
        return SN_ENOMEM;
    for (int64_t k = 2; k < nf; k++)
        if (*(f[k] = blank_trim(f[k])) && sn_strs_push(&s, f[k]) < 0) {
            sn_strs_free(&s);
            return SN_ENOMEM;
        }
    g->size[i] = s.n;
    g->genes[i] = sn_strs_take(&s);
    return g->genes[i] ? SN_OK : SN_ENOMEM;
}

static int gmt_line(sn_text *t, char *line, sn_gmt *g, int64_t *cap, char ***f, int64_t *fcap)
{
    int64_t nf = 1;
    for (const char *p = line; *p; p++)
        nf += *p == '\t';
    SN_TRY(sn_grow((void **)f, fcap, nf, sizeof **f, "a line of fields"));
    sn_rd_split_plain(line, '\t', *f, nf);
    /* NAME<tab>DESC is a set without genes, as NAME<tab>DESC<tab> is */
    if (nf < 2)
        return sn_text_err(t, SN_EFMT, "no tab; a gene set needs NAME, DESCRIPTION and its genes, tab-separated");
    if (!(*f)[0][0])
        return sn_text_err(t, SN_EFMT, "the gene set name (first field) is empty");
    SN_TRY(gmt_grow(g, cap));
    return gmt_set(g, *f, nf);
}

/* Results are reported by set name, so a name given twice is ambiguous. */
static int gmt_unique(const sn_gmt *g, const char *path)
{
    sn_strmap m;
    SN_TRY(sn_strmap_init(&m, g->n));
    int rc = SN_OK;
    for (int64_t i = 0; rc == SN_OK && i < g->n; i++) {
        int64_t first;
        if ((rc = sn_strmap_put(&m, g->name[i], i, &first)) == 0)
            rc = sn_err(SN_EFMT, "%s: gene set '%.80s' is listed twice (sets %lld and %lld); names must be unique",
                        path, g->name[i], (long long)first + 1, (long long)i + 1);
        else if (rc > 0)
            rc = SN_OK;
    }
    sn_strmap_free(&m);
    return rc;
}

int sn_read_gmt(const char *path, sn_gmt *g)
{
    sn_text *t;
    char *line, **f = NULL;
    int64_t cap = 0, fcap = 0;
    int r;
    memset(g, 0, sizeof *g);
    SN_TRY(sn_text_open(path, &t));
    while ((r = sn_text_getline(t, &line, NULL)) == 1) {
        line = sn_rd_nobom(t, line);
        if (line[strspn(line, " \t")] && (r = gmt_line(t, line, g, &cap, &f, &fcap)) < 0)
            break;
    }
    if (r == 0 && g->n == 0)
        r = sn_err(SN_EFMT, "%s: no gene sets (expected lines NAME<tab>DESCRIPTION<tab>GENE...)", path);
    if (r == 0)
        r = gmt_unique(g, path);
    free(f);
    sn_text_close(t);
    if (r < 0)
        sn_gmt_free(g);
    return r < 0 ? sn_rd_named(r, path) : SN_OK;
}

/* ---- mapping tables ---- */

int sn_read_mapping(const char *path, char ***keys, char ***values, int64_t *n)
{
    sn_text *t;
    sn_strs k = {0}, v = {0};
    char *line, *f[3], delim = 0;
    int r;
    *keys = *values = NULL;
    *n = 0;
    SN_TRY(sn_text_open(path, &t));
    while ((r = content_line(t, &line)) == 1) {
        delim = delim ? delim : line_delim(line);
        int64_t nf = sn_split(line, delim, f, 3);
        if (nf < 2) {
            r = sn_text_err(t, SN_EFMT, nf < 0 ? "unterminated quote" : "one field; a mapping needs two columns "
                                                                      "(key and value)");
            break;
        }
        if ((r = sn_strs_push(&k, f[0])) < 0 || (r = sn_strs_push(&v, f[1])) < 0)
            break;
    }
    sn_text_close(t);
    if (r == 0 && k.n == 0)
        r = sn_err(SN_EFMT, "%s: no rows (expected two columns: key and value)", path);
    if (r < 0 || k.n != v.n) {
        sn_strs_free(&k);
        sn_strs_free(&v);
        return sn_rd_named(r < 0 ? r : SN_ENOMEM, path);
    }
    *n = k.n;
    *keys = sn_strs_take(&k);
    *values = sn_strs_take(&v);
    return SN_OK;
}
