/* 10x MatrixMarket folders and single MatrixMarket files (genes × cells,
 * stored as cells × genes CSR). */
#include "read_int.h"

#include "scnet/file.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
    int64_t nrow, ncol, nnz; /* genes, cells (the size line's rows and columns, or columns and rows when
                              * cells_rows), entries */
    int integer;             /* field "integer": values must be whole */
    int cells_rows;          /* the file's rows are cells (scanpy's layout), not genes (10x) */
} mtx_head;

/* Blank-separated tokens, NUL-terminated in place; returns how many (may
 * exceed max). */
static int tokens(char *p, char **tok, int max)
{
    int n = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return n;
        if (n < max)
            tok[n] = p;
        n++;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = 0;
    }
}

static int is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return !*s;
}

static int banner(sn_text *t, const char *path, mtx_head *h)
{
    char *line, *tok[6], q[64];
    int r = sn_text_getline(t, &line, NULL);
    if (r < 0)
        return r;
    if (r == 0)
        return sn_err(SN_EFMT, "%s: empty file (expected a MatrixMarket header)", path);
    sn_rd_quote(line, q, sizeof q);
    int nt = tokens(line, tok, 6);
    if (nt < 2 || strcasecmp(tok[0], "%%MatrixMarket") != 0 || strcasecmp(tok[1], "matrix") != 0)
        return sn_text_err(t, SN_EFMT,
                           "not a MatrixMarket file: the first line is '%s' (expected '%%%%MatrixMarket matrix "
                           "coordinate integer general')",
                           q);
    if (nt != 5)
        return sn_text_err(t, SN_EFMT, "malformed MatrixMarket header '%s' (expected '%%%%MatrixMarket matrix "
                                       "coordinate integer general')", q);
    if (strcasecmp(tok[2], "coordinate") != 0)
        return sn_text_err(t, SN_EFMT, "'%s' MatrixMarket files are not supported (expected 'coordinate', "
                                       "the sparse layout)", tok[2]);
    if (strcasecmp(tok[3], "pattern") == 0)
        return sn_text_err(t, SN_EFMT, "'pattern' matrices carry no values; counts need 'integer' or 'real'");
    h->integer = strcasecmp(tok[3], "integer") == 0;
    if (!h->integer && strcasecmp(tok[3], "real") != 0 && strcasecmp(tok[3], "double") != 0)
        return sn_text_err(t, SN_EFMT, "unsupported MatrixMarket field '%s' (expected 'integer' or 'real')", tok[3]);
    if (strcasecmp(tok[4], "general") != 0)
        return sn_text_err(t, SN_EFMT, "unsupported MatrixMarket symmetry '%s' (expected 'general')", tok[4]);
    return SN_OK;
}

static int parse_dim(const char *s, int64_t *v)
{
    long long x;
    if (sn_parse_long(s, &x) < 0 || x < 0 || s[0] == '-' || s[0] == '+')
        return SN_EFMT;
    *v = x;
    return SN_OK;
}

static int size_line(sn_text *t, const char *path, mtx_head *h)
{
    char *line, *tok[4], q[64];
    int r;
    while ((r = sn_text_getline(t, &line, NULL)) == 1 && (line[0] == '%' || is_blank(line)))
        ;
    if (r < 0)
        return r;
    if (r == 0)
        return sn_err(SN_EFMT, "%s: no size line after the header (file truncated?)", path);
    sn_rd_quote(line, q, sizeof q);
    if (tokens(line, tok, 4) != 3 || parse_dim(tok[0], &h->nrow) < 0 || parse_dim(tok[1], &h->ncol) < 0 ||
        parse_dim(tok[2], &h->nnz) < 0)
        return sn_text_err(t, SN_EFMT, "malformed size line '%s' (expected 'ROWS COLUMNS ENTRIES', "
                                       "three non-negative integers)", q);
    if (h->nrow > INT32_MAX || h->ncol > INT32_MAX)
        return sn_text_err(t, SN_EFMT, "matrix of %lld x %lld is too large (at most %d rows and columns)",
                           (long long)h->nrow, (long long)h->ncol, INT32_MAX);
    if (h->nnz > h->nrow * h->ncol) /* both below 2^31: no overflow */
        return sn_text_err(t, SN_EFMT, "size line declares %lld entries, more than a %lld x %lld matrix holds",
                           (long long)h->nnz, (long long)h->nrow, (long long)h->ncol);
    if (h->cells_rows) {
        int64_t n = h->nrow;
        h->nrow = h->ncol;
        h->ncol = n;
    }
    return SN_OK;
}

/* A 1-based index in 1..max, or -1. */
static int64_t parse_index(const char *s, int64_t max)
{
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
    }
    return p == s || *p || v < 1 ? -1 : v;
}

/* Entries as coordinates: gene (row), cell (column), value. */
typedef struct {
    int32_t *gene, *cell;
    float *val;
    int64_t n, cap;
} coo;

static void coo_free(coo *c)
{
    free(c->gene);
    free(c->cell);
    free(c->val);
    memset(c, 0, sizeof *c);
}

static int coo_push(coo *c, int32_t g, int32_t j, float v)
{
    if (c->n == c->cap) {
        int64_t cap = c->cap, cap2 = c->cap, cap3 = c->cap;
        SN_TRY(sn_grow((void **)&c->gene, &cap, c->n + 1, sizeof *c->gene, "matrix entries"));
        SN_TRY(sn_grow((void **)&c->cell, &cap2, c->n + 1, sizeof *c->cell, "matrix entries"));
        SN_TRY(sn_grow((void **)&c->val, &cap3, c->n + 1, sizeof *c->val, "matrix entries"));
        c->cap = cap;
    }
    c->gene[c->n] = g;
    c->cell[c->n] = j;
    c->val[c->n++] = v;
    return SN_OK;
}

static int entry(sn_text *t, char *line, const mtx_head *h, coo *c)
{
    char *tok[4], q[64], m[128];
    int nt = tokens(line, tok, 4);
    if (nt != 3)
        return sn_text_err(t, SN_EFMT, "expected 'ROW COLUMN VALUE', found %d field%s", nt, nt == 1 ? "" : "s");
    int r = h->cells_rows;
    int64_t i = parse_index(tok[r], h->nrow), j = parse_index(tok[!r], h->ncol);
    if (i < 0)
        return sn_text_err(t, SN_EFMT, "%s (gene) index '%s' is out of range 1..%lld", r ? "column" : "row",
                           sn_rd_quote(tok[r], q, 24), (long long)h->nrow);
    if (j < 0)
        return sn_text_err(t, SN_EFMT, "%s (cell) index '%s' is out of range 1..%lld", r ? "row" : "column",
                           sn_rd_quote(tok[!r], q, 24), (long long)h->ncol);
    double v;
    int bad = sn_rd_count(tok[2], &v);
    if (bad)
        return sn_text_err(t, SN_EFMT, "%s", sn_rd_count_problem(bad, tok[2], m, sizeof m));
    if (h->integer && v != floor(v))
        return sn_text_err(t, SN_EFMT, "value %s is not a whole number (the header says 'integer')",
                           sn_rd_quote(tok[2], q, sizeof q));
    return coo_push(c, (int32_t)(i - 1), (int32_t)(j - 1), (float)v);
}

static int entries(sn_text *t, const char *path, const mtx_head *h, coo *c)
{
    char *line;
    int r;
    /* The header's count is not trusted for the allocation (fuzzed files). */
    int64_t want = h->nnz < (1 << 20) ? h->nnz : (1 << 20);
    c->cap = 0;
    if (want > 0) {
        int64_t c1 = 0, c2 = 0, c3 = 0;
        SN_TRY(sn_grow((void **)&c->gene, &c1, want, sizeof *c->gene, "matrix entries"));
        SN_TRY(sn_grow((void **)&c->cell, &c2, want, sizeof *c->cell, "matrix entries"));
        SN_TRY(sn_grow((void **)&c->val, &c3, want, sizeof *c->val, "matrix entries"));
        c->cap = c1;
    }
    while ((r = sn_text_getline(t, &line, NULL)) == 1) {
        if (line[0] == '%' || is_blank(line))
            continue;
        if (c->n == h->nnz)
            return sn_text_err(t, SN_EFMT, "more entries than the %lld declared on the size line", (long long)h->nnz);
        SN_TRY(entry(t, line, h, c));
    }
    if (r < 0)
        return r;
    if (c->n < h->nnz)
        return sn_err(SN_EFMT, "%s: %lld entries, but the size line declares %lld (file truncated?)", path,
                      (long long)c->n, (long long)h->nnz);
    return SN_OK;
}

/* Cells × genes CSR from the coordinates (a counting sort by cell). */
static int coo_to_csr(const coo *c, const char *path, const mtx_head *h, sn_csr *x)
{
    SN_TRY(sn_csr_alloc(x, h->ncol, h->nrow, c->n));
    for (int64_t k = 0; k < c->n; k++)
        x->indptr[c->cell[k] + 1]++;
    for (int64_t i = 0; i < h->ncol; i++)
        x->indptr[i + 1] += x->indptr[i];
    int64_t *pos = sn_malloc(sn_mul_size((size_t)h->ncol + 1, sizeof *pos), "a row cursor");
    if (!pos) {
        sn_csr_free(x);
        return SN_ENOMEM;
    }
    memcpy(pos, x->indptr, ((size_t)h->ncol + 1) * sizeof *pos);
    for (int64_t k = 0; k < c->n; k++) {
        int64_t p = pos[c->cell[k]]++;
        x->indices[p] = c->gene[k];
        x->data[p] = c->val[k];
    }
    free(pos);
    int64_t dr;
    int32_t dc;
    int r = sn_rd_sort_rows(x, &dr, &dc);
    if (r != 0) {
        sn_csr_free(x);
        if (r > 0) /* dr, dc: the cell and the gene */
            r = sn_err(SN_EFMT, "%s: entry (row %lld, column %lld) appears more than once", path,
                       (long long)(h->cells_rows ? dr : dc) + 1, (long long)(h->cells_rows ? dc : dr) + 1);
    }
    return r;
}

/* ---- label files (features.tsv, genes.tsv, genes.txt, barcodes.tsv) ---- */

typedef struct {
    int ncol;          /* columns taken from each line (1..3) */
    sn_strs col[3]; /* id, symbol, type for features; col[0] otherwise */
} labels;

static void labels_free(labels *l)
{
    for (int k = 0; k < 3; k++)
        sn_strs_free(&l->col[k]);
}

static int label_line(sn_text *t, char *line, labels *l)
{
    char *f[3];
    line = sn_rd_nobom(t, line);
    if (!*line)
        return sn_text_err(t, SN_EFMT, "empty line (every line must name one %s)",
                           l->ncol > 1 ? "feature" : "row or column");
    int nf = (int)sn_rd_split_plain(line, '\t', f, 3);
    if (l->ncol == 0)
        l->ncol = nf < 3 ? nf : 3;
    if (nf < l->ncol)
        return sn_text_err(t, SN_EFMT, "%d tab-separated field%s, expected %d as on line 1", nf, nf == 1 ? "" : "s",
                           l->ncol);
    for (int k = 0; k < l->ncol; k++)
        SN_TRY(sn_strs_push(&l->col[k], f[k]));
    return SN_OK;
}

static int read_labels(const char *path, int64_t want, const char *mtx, const char *dim, labels *l)
{
    sn_text *t;
    char *line;
    int r;
    memset(l, 0, sizeof *l);
    SN_TRY(sn_text_open(path, &t));
    while ((r = sn_text_getline(t, &line, NULL)) == 1 && (r = label_line(t, line, l)) == SN_OK)
        ;
    sn_text_close(t);
    if (r == SN_OK && l->col[0].n != want)
        r = sn_err(SN_EFMT, "%s: %lld lines, but %s has %lld %s", path, (long long)l->col[0].n, mtx,
                   (long long)want, dim);
    if (r < 0)
        labels_free(l);
    return r;
}

/* "0", "1", ... like anndata's default index. */
static char **numbered(int64_t n)
{
    char **v = sn_calloc((size_t)n + 1, sizeof *v, "row names");
    for (int64_t i = 0; v && i < n; i++) {
        char b[24];
        snprintf(b, sizeof b, "%lld", (long long)i);
        if (!(v[i] = sn_strdup(b))) {
            sn_free_strings(v, i);
            return NULL;
        }
    }
    return v;
}

static int set_var(sn_adata *a, labels *g)
{
    int sym = g->ncol >= 2 ? 1 : 0;
    a->var.index = sn_strs_take(&g->col[sym]);
    if (g->ncol >= 2)
        SN_TRY(sn_rd_str_col(&a->var, "gene_ids", sn_strs_take(&g->col[0])));
    if (g->ncol >= 3)
        SN_TRY(sn_rd_cat_col(&a->var, "feature_types", g->col[2].v));
    return SN_OK;
}

/* Names made up for n rows or columns (no label file) cost memory the file
 * does not pay for: a size line of a billion rows in a small file would
 * otherwise run the machine out of memory before any entry is read. */
static int numbered_fit(const char *mtx, const mtx_head *h, int64_t n)
{
    char need[32], avail[32];
    double bytes = (double)n * 96, have = sn_mem_available();
    if (have <= 0 || bytes <= have)
        return SN_OK;
    return sn_err(SN_ENOMEM, "%s: the size line declares %lld x %lld; numbering them needs %s but %s is "
                  "available (wrong size line, or give the row and column label files)", mtx,
                  (long long)h->nrow, (long long)h->ncol, sn_fmt_bytes(bytes, need, sizeof need),
                  sn_fmt_bytes(have, avail, sizeof avail));
}

static int set_numbered(char ***index, const char *mtx, const mtx_head *h, int64_t n)
{
    SN_TRY(numbered_fit(mtx, h, n));
    if (!(*index = numbered(n)))
        return sn_err_prefix(SN_ENOMEM, "%s: ", mtx);
    return SN_OK;
}

static int set_labels(sn_adata *a, const char *genes, const char *cells, const char *mtx, const mtx_head *h)
{
    labels g = {0}, c = {0};
    int rc = SN_OK;
    sn_frame_init(&a->var, h->nrow);
    sn_frame_init(&a->obs, h->ncol);
    if (genes) {
        SN_CHECK(read_labels(genes, h->nrow, mtx, "rows (genes)", &g));
        SN_CHECK(set_var(a, &g));
    } else
        SN_CHECK(set_numbered(&a->var.index, mtx, h, h->nrow));
    if (cells) {
        SN_CHECK(read_labels(cells, h->ncol, mtx, "columns (cells)", &c));
        a->obs.index = sn_strs_take(&c.col[0]);
    } else
        SN_CHECK(set_numbered(&a->obs.index, mtx, h, h->ncol));
out:
    labels_free(&g);
    labels_free(&c);
    return rc;
}

/* Everything but the unique names (so features can be dropped first). */
static int mtx_load(const char *mtx, const char *genes, const char *cells, int cells_rows, sn_adata *a)
{
    sn_text *t = NULL;
    mtx_head h = {.cells_rows = cells_rows};
    coo c = {0};
    int rc = SN_OK;
    memset(a, 0, sizeof *a);
    SN_CHECK(sn_text_open(mtx, &t));
    SN_CHECK(banner(t, mtx, &h));
    SN_CHECK(size_line(t, mtx, &h));
    SN_CHECK(set_labels(a, genes, cells, mtx, &h));
    SN_CHECK(entries(t, mtx, &h, &c));
    SN_CHECK(coo_to_csr(&c, mtx, &h, &a->X));
out:
    sn_text_close(t);
    coo_free(&c);
    if (rc < 0)
        sn_rd_adata_clear(a);
    return sn_rd_named(rc, mtx);
}

static int finish_names(sn_adata *a, const char *where)
{
    SN_TRY(sn_rd_make_unique(a->var.index, a->var.n, where, "gene names"));
    return sn_rd_make_unique(a->obs.index, a->obs.n, where, "cell ids");
}

static int read_mtx(const char *mtx, const char *genes, const char *cells, int cells_rows, sn_adata *a)
{
    SN_TRY(mtx_load(mtx, genes, cells, cells_rows, a));
    int rc = finish_names(a, mtx);
    if (rc < 0)
        sn_rd_adata_clear(a);
    return rc;
}

int sn_read_mtx(const char *mtx, const char *genes, const char *cells, sn_adata *a)
{
    return read_mtx(mtx, genes, cells, 0, a);
}

int sn_read_mtx_orient(const char *mtx, sn_orient orient, sn_adata *a)
{
    return read_mtx(mtx, NULL, NULL, orient == SN_ORIENT_CELLS_ROWS, a);
}

/* dir/name when it is a file there, as a malloc'd path; else NULL. */
static char *file_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = sn_malloc(n, "a file name");
    if (!p)
        return NULL;
    snprintf(p, n, "%s/%s", dir, name);
    struct stat st;
    if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
        return p;
    free(p);
    return NULL;
}

/* The first of names present in dir, as a malloc'd path; NULL if none. */
static char *find_in(const char *dir, const char *const *names)
{
    for (; *names; names++) {
        char *p = file_in(dir, *names);
        if (p)
            return p;
    }
    return NULL;
}

/* Another of names beside the one read is said: the folder holds two
 * versions of one file, and which is read is not for the user to guess. */
static void say_twin(const char *dir, const char *const *names)
{
    const char *first = NULL;
    for (; *names; names++) {
        char *p = file_in(dir, *names);
        int there = p != NULL;
        free(p);
        if (there && first) {
            sn_warn("%s: both %s and %s are there; reading %s", dir, first, *names, first);
            return;
        }
        if (there)
            first = *names;
    }
}

static const char *const MTX_NAMES[] = {"matrix.mtx.gz", "matrix.mtx", NULL};
static const char *const GENE_NAMES[] = {"features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv",
                                         "genes.txt.gz",    "genes.txt",    NULL};
static const char *const CELL_NAMES[] = {"barcodes.tsv.gz", "barcodes.tsv", "barcodes.txt.gz", "barcodes.txt",
                                         NULL};

void sn_read_mtx_dir_files(const char *dir, char *files[3])
{
    files[0] = find_in(dir, MTX_NAMES);
    files[1] = find_in(dir, GENE_NAMES);
    files[2] = find_in(dir, CELL_NAMES);
}

int sn_read_mtx_dir_opts(const char *dir, const sn_read_opts *o, sn_adata *a)
{
    memset(a, 0, sizeof *a);
    if (!sn_is_dir(dir))
        return sn_err(SN_EIO, "%s: not a directory (expected a 10x folder with matrix.mtx.gz)", dir);
    char *files[3];
    sn_read_mtx_dir_files(dir, files);
    char *mtx = files[0], *genes = files[1], *cells = files[2];
    int rc = SN_OK;
    if (!mtx)
        SN_CHECK(sn_err(SN_EFMT, "%s: no matrix.mtx.gz or matrix.mtx (not a 10x MatrixMarket folder?)", dir));
    if (!genes)
        SN_CHECK(sn_err(SN_EFMT, "%s: no features.tsv.gz, genes.tsv.gz or genes.txt.gz (the gene names of the "
                                 "matrix rows)", dir));
    if (!cells)
        SN_CHECK(sn_err(SN_EFMT, "%s: no barcodes.tsv.gz (the cell barcodes of the matrix columns)", dir));
    say_twin(dir, MTX_NAMES);
    say_twin(dir, GENE_NAMES);
    say_twin(dir, CELL_NAMES);
    SN_CHECK(mtx_load(mtx, genes, cells, 0, a));
    if (!(o && o->all_features))
        SN_CHECK(sn_rd_gex_only(a, dir));
    SN_CHECK(finish_names(a, dir));
out:
    if (rc < 0)
        sn_rd_adata_clear(a);
    free(mtx);
    free(genes);
    free(cells);
    return sn_rd_named(rc, dir);
}

int sn_read_mtx_dir(const char *dir, sn_adata *a)
{
    return sn_read_mtx_dir_opts(dir, NULL, a);
}
