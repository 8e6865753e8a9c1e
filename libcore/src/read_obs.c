/* Cell metadata tables (CSV/TSV, gzip or plain) joined onto obs by cell id. */
#include "read_int.h"

#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"
#include "scnet/strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    sn_text *t;
    const char *path;
    char delim;
    char *header;
    char **hf;
    int64_t head_line; /* the header's line: blank lines before it are skipped */
    int64_t nh, nf; /* header fields, fields per row */
    int lead;       /* header names the id field too */
    char **lines;   /* row copies the fields point into */
    char *join;     /* a row whose quoted field spans lines, joined */
    int64_t jcap;
    int64_t row_line; /* the line the current row starts on */
    char **cell;    /* nrow × nf fields */
    int64_t *lineno;
    int64_t nrow, lcap, ccap, ncap;
} otab;

static void otab_free(otab *o)
{
    sn_text_close(o->t);
    free(o->header);
    free(o->join);
    free(o->hf);
    sn_free_strings(o->lines, o->nrow);
    free(o->cell);
    free(o->lineno);
}

static int next_line(otab *o, char **line)
{
    int r;
    while ((r = sn_text_getline(o->t, line, NULL)) == 1 && (*line)[strspn(*line, " \t")] == 0)
        ;
    return r;
}

/* Whether a quoted field of line is still open at its end (sn_split's
 * rule: a field quoted from its first character, "" inside it a quote). */
static int quote_open(const char *s, char delim)
{
    int start = 1;
    for (; *s; s++) {
        if (start && *s == '"') {
            for (s++;; s++) {
                if (!*s)
                    return 1;
                if (*s == '"' && s[1] == '"')
                    s++;
                else if (*s == '"')
                    break;
            }
            start = 0;
            continue;
        }
        start = *s == delim;
    }
    return 0;
}

static int join_append(otab *o, size_t *len, const char *part)
{
    size_t n = strlen(part);
    SN_TRY(sn_grow((void **)&o->join, &o->jcap, (int64_t)(*len + n + 2), 1, "a table row"));
    o->join[(*len)++] = '\n';
    memcpy(o->join + *len, part, n + 1);
    *len += n;
    return SN_OK;
}

/* A quoted field may hold line breaks (as pandas reads it): the lines up
 * to its closing quote make one row, *line pointing to it.  Left open at
 * the end of the file, the row is given as it is, for sn_split to refuse. */
static int join_quoted(otab *o, char **line)
{
    o->row_line = sn_text_lineno(o->t);
    if (!quote_open(*line, o->delim))
        return SN_OK;
    size_t len = strlen(*line);
    SN_TRY(sn_grow((void **)&o->join, &o->jcap, (int64_t)len + 1, 1, "a table row"));
    memcpy(o->join, *line, len + 1);
    char *next;
    int r = 1;
    while (quote_open(o->join, o->delim) && (r = sn_text_getline(o->t, &next, NULL)) == 1)
        SN_TRY(join_append(o, &len, next));
    if (r < 0)
        return r;
    *line = o->join;
    return SN_OK;
}

static int split_header(otab *o, const char *first)
{
    o->delim = strpbrk(o->header, "\t,") ? sn_guess_delim(o->header) : sn_guess_delim(first);
    int64_t max = 1;
    for (const char *s = o->header; *s; s++)
        max += *s == o->delim || *s == '\t';
    if (!(o->hf = sn_malloc(sn_mul_size((size_t)max, sizeof *o->hf), "the header fields")))
        return SN_ENOMEM;
    o->nh = sn_split(o->header, o->delim, o->hf, max);
    if (o->nh < 0)
        return sn_err(SN_EFMT, "%s:%lld: unterminated quote in the header", o->path, (long long)o->head_line);
    return SN_OK;
}

static int add_row(otab *o, const char *line)
{
    int64_t nrow = o->nrow, need = (nrow + 1) * o->nf;
    SN_TRY(sn_grow((void **)&o->lines, &o->lcap, nrow + 1, sizeof *o->lines, "a table"));
    SN_TRY(sn_grow((void **)&o->lineno, &o->ncap, nrow + 1, sizeof *o->lineno, "a table"));
    SN_TRY(sn_grow((void **)&o->cell, &o->ccap, need + 1, sizeof *o->cell, "a table"));
    if (!(o->lines[nrow] = sn_strdup(line)))
        return SN_ENOMEM;
    o->nrow++;
    o->lineno[nrow] = o->row_line;
    int64_t nf = sn_split(o->lines[nrow], o->delim, o->cell + nrow * o->nf, o->nf + 1);
    if (nf < 0)
        return sn_err(SN_EFMT, "%s:%lld: unterminated quote", o->path, (long long)o->row_line);
    if (nf != o->nf)
        return sn_err(SN_EFMT, "%s:%lld: %lld fields, expected %lld as on the first data row", o->path,
                      (long long)o->row_line, (long long)nf, (long long)o->nf);
    return SN_OK;
}

/* Layout from the first row: the tian2019 tables (R write.csv) leave the
 * row-name field out of the header. */
static int first_row(otab *o, const char *line)
{
    char *copy = sn_strdup(line);
    char **f = sn_malloc(sn_mul_size((size_t)o->nh + 2, sizeof *f), "a row of fields");
    int64_t nf = copy && f ? sn_split(copy, o->delim, f, o->nh + 2) : SN_ENOMEM;
    free(copy);
    free(f);
    if (nf == SN_ENOMEM)
        return SN_ENOMEM;
    if (nf < 0)
        return sn_err(SN_EFMT, "%s:%lld: unterminated quote", o->path, (long long)o->row_line);
    if (nf != o->nh && nf != o->nh + 1)
        return sn_err(SN_EFMT, "%s:%lld: %lld fields, but the header has %lld (expected as many, or one more for the "
                               "row names)", o->path, (long long)o->row_line, (long long)nf, (long long)o->nh);
    o->lead = nf == o->nh;
    o->nf = nf;
    return SN_OK;
}

static int load(otab *o)
{
    char *line;
    int r = next_line(o, &line);
    if (r <= 0)
        return r < 0 ? r : sn_err(SN_EFMT, "%s: empty file (expected a header line)", o->path);
    if (!(o->header = sn_strdup(sn_rd_nobom(o->t, line))))
        return SN_ENOMEM;
    o->head_line = sn_text_lineno(o->t);
    if ((r = next_line(o, &line)) <= 0)
        return r < 0 ? r : sn_err(SN_EFMT, "%s: no rows after the header", o->path);
    SN_TRY(split_header(o, line));
    SN_TRY(join_quoted(o, &line));
    SN_TRY(first_row(o, line));
    for (;;) {
        SN_TRY(add_row(o, line));
        if ((r = next_line(o, &line)) != 1)
            return r;
        SN_TRY(join_quoted(o, &line));
    }
}

/* Name of field k ("" for the unnamed row-name field). */
static const char *field_name(const otab *o, int64_t k)
{
    return o->lead ? o->hf[k] : k == 0 ? "" : o->hf[k - 1];
}

static int find_id(const otab *o, const char *id_col, int64_t *idf)
{
    *idf = 0;
    if (!id_col)
        return SN_OK;
    for (int64_t k = 0; k < o->nf; k++)
        if (strcmp(field_name(o, k), id_col) == 0) {
            *idf = k;
            return SN_OK;
        }
    char list[256] = "";
    size_t used = 0;
    for (int64_t k = 0; k < o->nf && used + 1 < sizeof list; k++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", field_name(o, k));
        used += w > 0 ? (size_t)w : 0;
    }
    return sn_err(SN_EINVAL, "%s: no column '%s' (columns: %s)", o->path, id_col, list);
}

/* A name the .h5ad writer would refuse is refused here, before any work,
 * rather than when the output is written.  An empty name is not one: it
 * becomes pandas' "Unnamed: N". */
static int check_names(const otab *o, int64_t idf)
{
    for (int64_t k = 0; k < o->nf; k++) {
        const char *nm = field_name(o, k);
        const char *why = k == idf || !*nm ? NULL : sn_h5ad_colname_problem(nm);
        if (why)
            return sn_err(SN_EFMT, "%s:%lld: column '%s' cannot be an .h5ad column (%s); rename it", o->path,
                          (long long)o->head_line, nm, why);
    }
    return SN_OK;
}

/* pandas.read_csv's default na_values (pandas._libs.parsers.STR_NA_VALUES),
 * matched whole and with case, as pandas does; "" is missing too. */
static const char *const na_values[] = {
    "#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A",      "NA",   "NULL",    "NaN",      "None", "n/a",  "nan",    "null",
};

static int na_like(const char *s)
{
    if (!*s)
        return 1;
    if (!strchr("#-1<Nn", *s)) /* the first characters of na_values: most fields stop here */
        return 0;
    for (size_t i = 0; i < sizeof na_values / sizeof *na_values; i++)
        if (strcmp(s, na_values[i]) == 0)
            return 1;
    return 0;
}

/* 1, 0, or -1 for a field pandas does not read as a boolean (it takes
 * true and false in any case, nothing else). */
static int bool_value(const char *s)
{
    return strcasecmp(s, "true") == 0 ? 1 : strcasecmp(s, "false") == 0 ? 0 : -1;
}

/* An id given twice is refused when it names a cell (pandas would give the
 * cell a row for each); its rows are ignored, as pandas' join does, when it
 * names none.  ids maps each id to its first row. */
static int check_repeats(const otab *o, int64_t idf, const sn_strmap *ids, const uint8_t *used)
{
    for (int64_t r = 0; r < o->nrow; r++) {
        const char *id = o->cell[r * o->nf + idf];
        int64_t first = sn_strmap_get(ids, id);
        if (first != r && used[first])
            return sn_err(SN_EFMT, "%s:%lld: id '%s' appears twice (first on line %lld)", o->path,
                          (long long)o->lineno[r], id, (long long)o->lineno[first]);
    }
    return SN_OK;
}

/* row[i] = the table row of obs row i, or -1; every cell with the row's id
 * gets it, repeated cell ids included (as pandas joins); used[r] marks the
 * table rows some cell took. */
static int match(const otab *o, int64_t idf, const sn_adata *a, int64_t *row, uint8_t *used)
{
    sn_strmap ids;
    int rc = SN_OK;
    SN_TRY(sn_strmap_init(&ids, o->nrow));
    for (int64_t r = 0; r < o->nrow; r++)
        SN_CHECK(sn_strmap_put(&ids, o->cell[r * o->nf + idf], r, NULL));
    for (int64_t i = 0; i < a->obs.n; i++)
        if ((row[i] = sn_strmap_get(&ids, a->obs.index[i])) >= 0)
            used[row[i]] = 1;
    SN_CHECK(check_repeats(o, idf, &ids, used));
    rc = SN_OK;
out:
    sn_strmap_free(&ids);
    return rc;
}

static void report(const otab *o, int64_t idf, const sn_adata *a, const int64_t *row, const uint8_t *used)
{
    char q[48];
    int64_t unknown = 0, missing = 0, r0 = -1, i0 = -1;
    for (int64_t r = 0; r < o->nrow; r++)
        if (!used[r] && unknown++ == 0)
            r0 = r;
    for (int64_t i = 0; i < a->obs.n; i++)
        if (row[i] < 0 && missing++ == 0)
            i0 = i;
    if (unknown > 0)
        sn_warn("%s: %lld of %lld ids are not cells of the data (e.g. '%s'); their rows are ignored", o->path,
                (long long)unknown, (long long)o->nrow, sn_rd_quote(o->cell[r0 * o->nf + idf], q, sizeof q));
    if (missing > 0)
        sn_warn("%s: %lld of %lld cells are missing from the table (e.g. '%s'); their values are missing",
                o->path, (long long)missing, (long long)a->obs.n, sn_rd_quote(a->obs.index[i0], q, sizeof q));
}

/* Every value a number or missing; all missing too, as pandas gives a
 * float64 column of NaN. */
static int is_numeric(const otab *o, int64_t k)
{
    for (int64_t r = 0; r < o->nrow; r++) {
        const char *s = o->cell[r * o->nf + k];
        double v;
        if (!na_like(s) && sn_rd_number(s, &v) == 1)
            return 0;
    }
    return 1;
}

/* pandas reads a column of whole numbers written without a point as
 * int64, unless a value is missing. */
static int int_literal(const char *s)
{
    s += *s == '-' || *s == '+';
    size_t n = strspn(s, "0123456789");
    return n > 0 && n < 19 && !s[n];
}

static int num_col(sn_frame *f, const otab *o, int64_t k, const int64_t *row, const char *name)
{
    sn_col c;
    int ints = 1;
    int64_t *iv = sn_malloc(((size_t)f->n + 1) * sizeof *iv, "a table column"); /* exact whole numbers */
    int rc = iv ? sn_col_new(&c, name, SN_COL_F64, f->n) : SN_ENOMEM;
    if (rc < 0) {
        free(iv);
        return rc;
    }
    for (int64_t i = 0; i < f->n; i++)
        c.v.f64[i] = NAN;
    for (int64_t i = 0; i < f->n; i++) {
        const char *s = row[i] >= 0 ? o->cell[row[i] * o->nf + k] : "";
        if (!na_like(s)) {
            c.v.f64[i] = strtod(s, NULL); /* checked by is_numeric; keeps Inf */
            if ((ints &= int_literal(s)))
                iv[i] = strtoll(s, NULL, 10);
        }
    }
    for (int64_t i = 0; ints && i < f->n; i++)
        ints = !isnan(c.v.f64[i]);
    if (ints) { /* int64 and double are both 8 bytes: the same array holds them */
        memcpy(c.v.i64, iv, (size_t)f->n * sizeof *iv);
        c.type = SN_COL_I64;
    }
    free(iv);
    rc = sn_frame_put(f, &c);
    if (rc < 0)
        sn_col_free(&c);
    return rc;
}

/* Whether pandas reads column k as booleans and keeps them through the
 * join: every row true or false, every cell in the table (a missing value
 * makes pandas' column object, kept here as categories). */
static int is_bool(const otab *o, int64_t k, int all_cells)
{
    if (!all_cells)
        return 0;
    for (int64_t r = 0; r < o->nrow; r++)
        if (bool_value(o->cell[r * o->nf + k]) < 0)
            return 0;
    return 1;
}

static int bool_col(sn_frame *f, const otab *o, int64_t k, const int64_t *row, const char *name)
{
    sn_col c;
    SN_TRY(sn_col_new(&c, name, SN_COL_BOOL, f->n));
    for (int64_t i = 0; i < f->n; i++)
        c.v.b[i] = (uint8_t)bool_value(o->cell[row[i] * o->nf + k]);
    int rc = sn_frame_put(f, &c);
    if (rc < 0)
        sn_col_free(&c);
    return rc;
}

static int cat_col(sn_frame *f, const otab *o, int64_t k, const int64_t *row, const char *name)
{
    char **v = sn_calloc((size_t)f->n + 1, sizeof *v, "a table column");
    if (!v)
        return SN_ENOMEM;
    for (int64_t i = 0; i < f->n; i++) {
        char *s = row[i] >= 0 ? o->cell[row[i] * o->nf + k] : NULL;
        if (s && !na_like(s))
            v[i] = s;
    }
    int rc = sn_rd_cat_col(f, name, v);
    free(v);
    return rc;
}

static int header_has(const otab *o, const char *name)
{
    for (int64_t k = 0; k < o->nf; k++)
        if (strcmp(field_name(o, k), name) == 0)
            return 1;
    return 0;
}

static int build_columns(sn_frame *f, const otab *o, int64_t idf, const int64_t *row)
{
    int all_cells = 1;
    for (int64_t i = 0; i < f->n; i++)
        all_cells &= row[i] >= 0;
    for (int64_t k = 0; k < o->nf; k++) {
        if (k == idf)
            continue;
        char name[32], base[1001], uniq[1024];
        const char *nm = field_name(o, k);
        if (!*nm) { /* pandas' name for it, by its place in the header */
            snprintf(name, sizeof name, "Unnamed: %lld", (long long)k);
            nm = name;
        }
        /* a repeated header name takes the first of .1, .2, ... that no
         * column has or is named, as pandas names it */
        snprintf(base, sizeof base, "%s", nm);
        for (int d = 1; sn_frame_get(f, nm) && d < 1000000; d++) {
            snprintf(uniq, sizeof uniq, "%s.%d", base, d);
            nm = header_has(o, uniq) ? base : uniq;
        }
        SN_TRY(is_numeric(o, k)           ? num_col(f, o, k, row, nm)
               : is_bool(o, k, all_cells) ? bool_col(f, o, k, row, nm)
                                          : cat_col(f, o, k, row, nm));
    }
    return SN_OK;
}

/* Columns are built aside first, so a failure leaves obs as it was. */
static int add_columns(sn_adata *a, const otab *o, int64_t idf, const int64_t *row)
{
    sn_frame tmp;
    sn_frame_init(&tmp, a->obs.n);
    int rc = build_columns(&tmp, o, idf, row);
    for (int i = 0; rc == SN_OK && i < tmp.ncol; i++) {
        if (sn_frame_get(&a->obs, tmp.cols[i].name))
            sn_note("%s: column '%s' replaces the input's obs['%s']", o->path, tmp.cols[i].name, tmp.cols[i].name);
        if ((rc = sn_frame_put(&a->obs, &tmp.cols[i])) == SN_OK)
            memset(&tmp.cols[i], 0, sizeof tmp.cols[i]);
    }
    sn_frame_free(&tmp);
    return rc;
}

int sn_read_obs_table(const char *path, const char *id_col, sn_adata *a)
{
    otab o = {0};
    int64_t *row = NULL, idf = 0, nmatch = 0;
    uint8_t *used = NULL;
    char q1[48], q2[48];
    int rc = SN_OK;
    o.path = path;
    if (!a->obs.index)
        return sn_err(SN_EINVAL, "%s: the data have no cell ids to join the table on", path);
    SN_CHECK(sn_text_open(path, &o.t));
    SN_CHECK(load(&o));
    SN_CHECK(find_id(&o, id_col, &idf));
    SN_CHECK(check_names(&o, idf));
    row = sn_malloc(sn_mul_size((size_t)a->obs.n + 1, sizeof *row), "a row map");
    used = sn_calloc((size_t)o.nrow + 1, 1, "a row map");
    if (!row || !used)
        SN_CHECK(SN_ENOMEM);
    SN_CHECK(match(&o, idf, a, row, used));
    for (int64_t r = 0; r < o.nrow; r++)
        nmatch += used[r];
    if (nmatch == 0)
        SN_CHECK(sn_err(SN_EFMT, "%s: no id of the table matches a cell of the data (table: '%s', data: '%s'); "
                                 "wrong table or id column?", path,
                        sn_rd_quote(o.cell[idf], q1, sizeof q1),
                        a->obs.n ? sn_rd_quote(a->obs.index[0], q2, sizeof q2) : "no cells"));
    report(&o, idf, a, row, used);
    SN_CHECK(add_columns(a, &o, idf, row));
out:
    free(row);
    free(used);
    otab_free(&o);
    return sn_rd_named(rc, path);
}
