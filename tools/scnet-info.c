/* scnet-info: what an .h5ad file holds, one line per field, and any one
 * field dumped as TSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/cli.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/text.h"

enum { OPT_HISTORY = SN_OPT_PROG, OPT_FIELD };

static void usage(FILE *fp)
{
    fprintf(fp,
            "Usage: scnet-info [options] [FILE]\n"
            "\n"
            "Show what an AnnData (.h5ad) file holds: its shape, how X is stored, which\n"
            "scnet stages have run, and every field (obs/var columns, obsm, varm, obsp,\n"
            "varp, layers, uns), one line each:\n"
            "  PATH <tab> ENCODING <tab> DTYPE <tab> SHAPE [<tab> DETAIL]\n"
            "FILE may be - for standard input [-].\n"
            "\n"
            "Options:\n"
            "      --history         print the scnet history entries, one per line\n"
            "      --field PATH      print one field as TSV instead (X, obs, var/means,\n"
            "                        obsm/X_pca, uns/scnet/history, ...): a matrix row per\n"
            "                        line, a vector or string array one value per line, a\n"
            "                        frame with a header line, a sparse matrix as\n"
            "                        ROW <tab> COL <tab> VALUE lines (0-based) [none]\n");
    sn_cli_usage_common(fp, 0);
    fprintf(fp, "\nExamples:\n"
                "  scnet-info sample.scnet.h5ad\n"
                "  scnet-info --field var/highly_variable sample.h5ad | sort | uniq -c\n"
                "  scnet-prep counts.h5 --ppi ppi.tsv.gz | scnet-info -\n");
}

/* ---- values as text ---- */

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static const char *fmt_value(double v, const char *dtype, char *buf, size_t len)
{
    if (is(dtype, "bool"))
        return v != 0 ? "True" : "False";
    if (is(dtype, "float32"))
        return sn_fmt_float((float)v, buf, len);
    return sn_fmt_double(v, buf, len);
}

/* Strings go out on one TSV line: tabs and line breaks become spaces. */
static void put_str(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
}

static const char *col_value(const sn_col *c, int64_t i, char *buf, int len)
{
    if (c->type == SN_COL_F64)
        return sn_fmt_double(c->v.f64[i], buf, (size_t)len);
    if (c->type == SN_COL_F32)
        return sn_fmt_float(c->v.f32[i], buf, (size_t)len);
    return sn_col_str(c, i, buf, len);
}

/* ---- the listing ---- */

static void shape_str(const sn_h5ad_elem *e, char *buf, size_t len)
{
    if ((e->group && e->ndim == 0) || is(e->encoding, "null")) {
        snprintf(buf, len, "-");
        return;
    }
    if (e->ndim == 0) {
        snprintf(buf, len, "scalar");
        return;
    }
    size_t at = 0;
    for (int k = 0; k < e->ndim && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%lld", k ? " x " : "", (long long)e->shape[k]);
}

/* A whole-number scalar as it is stored (a double would round one past
 * 2^53, such as a large seed): 1 when written to buf. */
static int int_scalar(hid_t fid, const char *path, const char *dtype, char *buf, size_t len)
{
    if (strncmp(dtype, "int", 3) != 0 && strncmp(dtype, "uint", 4) != 0)
        return 0;
    hid_t ds = H5Dopen2(fid, path, H5P_DEFAULT);
    if (ds < 0)
        return 0;
    int u = dtype[0] == 'u', ok;
    long long v = 0;
    unsigned long long w = 0;
    ok = H5Dread(ds, u ? H5T_NATIVE_ULLONG : H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, u ? (void *)&w
                                                                                                  : (void *)&v) >= 0;
    H5Dclose(ds);
    if (ok)
        u ? snprintf(buf, len, "%llu", w) : snprintf(buf, len, "%lld", v);
    return ok;
}

static void scalar_note(hid_t fid, const char *path, const sn_h5ad_elem *e, char *buf, size_t len)
{
    char v[64], *s = NULL;
    double x;
    if (int_scalar(fid, path, e->dtype, v, sizeof v)) {
        snprintf(buf, len, "= %s", v);
    } else if (is(e->dtype, "str") && sn_h5ad_read_str(fid, path, &s) == 0) {
        snprintf(buf, len, "= \"%.60s%s\"", s, strlen(s) > 60 ? "..." : "");
        for (char *p = buf; *p; p++)
            *p = *p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p;
    } else if (!is(e->dtype, "str") && sn_h5ad_read_scalar(fid, path, &x) == 0) {
        snprintf(buf, len, "= %s", fmt_value(x, e->dtype, v, sizeof v));
    }
    free(s);
}

static void elem_note(hid_t fid, const char *path, const sn_h5ad_elem *e, char *buf, size_t len)
{
    const char *enc = e->encoding;
    buf[0] = 0;
    if (e->nnz >= 0) {
        double cells = (double)e->shape[0] * (double)e->shape[1];
        snprintf(buf, len, "nnz %lld (%.2f%%)", (long long)e->nnz, cells > 0 ? 100.0 * (double)e->nnz / cells : 0.0);
    } else if (is(enc, "categorical")) {
        if (e->ncat >= 0)
            snprintf(buf, len, "%lld categor%s%s", (long long)e->ncat, e->ncat == 1 ? "y" : "ies",
                     e->ordered ? ", ordered" : "");
    } else if (is(enc, "dataframe")) {
        snprintf(buf, len, "%lld column%s", (long long)e->shape[1], e->shape[1] == 1 ? "" : "s");
    } else if (is(enc, "null")) {
        snprintf(buf, len, "= None");
    } else if (e->ndim == 0 && !e->group) {
        scalar_note(fid, path, e, buf, len);
    }
    if (e->legacy) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%sno encoding attributes", n ? "; " : "");
    }
}

static int list_tree(FILE *fp, hid_t fid, const char *path);

static int list_children(FILE *fp, hid_t fid, const char *path, char *const *keys, int64_t n)
{
    char sub[1024];
    for (int64_t i = 0; i < n; i++) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "/" : "", keys[i]);
        SN_TRY(list_tree(fp, fid, sub));
    }
    return SN_OK;
}

static int list_frame(FILE *fp, hid_t fid, const char *path)
{
    char *index, **cols, sub[1024];
    int64_t n;
    SN_TRY(sn_h5ad_frame_names(fid, path, &index, &cols, &n));
    sn_h5ad_elem e;
    snprintf(sub, sizeof sub, "%s/%s", path, index);
    int rc = sn_h5ad_stat(fid, sub, &e);
    if (rc == SN_OK) {
        char shape[128];
        shape_str(&e, shape, sizeof shape);
        fprintf(fp, "%s\t%s\t%s\t%s\tindex\n", sub, e.encoding, e.dtype, shape);
        rc = list_children(fp, fid, path, cols, n);
    }
    free(index);
    sn_free_strings(cols, n);
    return rc;
}

static int list_tree(FILE *fp, hid_t fid, const char *path)
{
    sn_h5ad_elem e;
    char shape[128], note[256];
    SN_TRY(sn_h5ad_stat(fid, path, &e));
    shape_str(&e, shape, sizeof shape);
    elem_note(fid, path, &e, note, sizeof note);
    if (is(e.encoding, "dict") || (e.group && !e.encoding[0])) {
        char **keys;
        int64_t n;
        SN_TRY(sn_h5ad_keys(fid, path, &keys, &n));
        fprintf(fp, "%s\tdict\t-\t-\t%lld entr%s%s%s\n", path, (long long)n, n == 1 ? "y" : "ies", *note ? "; " : "",
                note);
        int rc = list_children(fp, fid, path, keys, n);
        sn_free_strings(keys, n);
        return rc;
    }
    fprintf(fp, "%s\t%s\t%s\t%s%s%s\n", path, e.encoding[0] ? e.encoding : "unknown", e.dtype[0] ? e.dtype : "-",
            shape, *note ? "\t" : "", note);
    return is(e.encoding, "dataframe") ? list_frame(fp, fid, path) : SN_OK;
}

static int print_history(FILE *fp, hid_t fid)
{
    char **h;
    int64_t n;
    SN_TRY(sn_h5ad_history_read(fid, &h, &n));
    for (int64_t i = 0; i < n; i++) {
        put_str(fp, h[i]);
        fputc('\n', fp);
    }
    sn_free_strings(h, n);
    return SN_OK;
}

/* A pipeline stage's place: scnet-prep and scnet-train make anew what the
 * later stages had added (their rerun removes those outputs); -1 for
 * other programs. */
static int stage_rank(const char *s, size_t len)
{
    static const char *const order[] = {"scnet-prep", "scnet-train", "scnet-prune", "scnet-coembed",
                                        "scnet-propagate"};
    for (int k = 0; k < 5; k++)
        if (strlen(order[k]) == len && strncmp(order[k], s, len) == 0)
            return k;
    return -1;
}

/* Whether a stage's record uns['scnet'][stage] is in the file. */
static int record_of(hid_t fid, const char *s, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "uns/scnet/%.*s", (int)(len - 6), s + 6); /* less "scnet-" */
    return sn_h5ad_exists(fid, path) > 0;
}

/* The programs whose outputs the file holds: the first word of each
 * history entry, in the order they first ran, less the later stages a
 * rerun of scnet-prep or scnet-train has removed. */
static int print_stages(FILE *fp, hid_t fid)
{
    char **h;
    int64_t n, m = 0;
    SN_TRY(sn_h5ad_history_read(fid, &h, &n));
    const char *st[n + 1];
    size_t sl[n + 1];
    for (int64_t i = 0; i < n; i++) {
        size_t len = strcspn(h[i], " \t");
        int r = stage_rank(h[i], len), seen = len == 0;
        if (r == 0 || r == 1) { /* keep only the stages up to this one */
            int64_t k = 0;
            for (int64_t j = 0; j < m; j++) {
                int rj = stage_rank(st[j], sl[j]);
                if (rj < 0 || rj <= r)
                    st[k] = st[j], sl[k++] = sl[j];
            }
            m = k;
        }
        for (int64_t j = 0; j < m && !seen; j++)
            seen = sl[j] == len && strncmp(st[j], h[i], len) == 0;
        if (!seen)
            st[m] = h[i], sl[m++] = len;
    }
    /* where the stages left their records, one whose record a later run
     * removed (scnet-coembed drops a propagation of the network it
     * replaces) is gone; other programs, and every stage of a file without
     * records, count as there */
    int rec[m + 1], shown = 0, records = 0;
    for (int64_t j = 0; j < m; j++) {
        rec[j] = stage_rank(st[j], sl[j]) < 0 ? -1 : record_of(fid, st[j], sl[j]);
        records |= rec[j] == 1;
    }
    fprintf(fp, "stages\t");
    for (int64_t j = 0; j < m; j++)
        if (!records || rec[j] != 0)
            fprintf(fp, "%s%.*s", shown++ ? " " : "", (int)sl[j], st[j]);
    fprintf(fp, "%s\n", shown ? "" : "none");
    sn_free_strings(h, n);
    return SN_OK;
}

static int list_file(FILE *fp, hid_t fid)
{
    static const char *const order[] = {"X", "layers", "obs", "var", "obsm", "varm", "obsp", "varp", "uns", "raw"};
    int64_t n_obs, n_var, n;
    char **keys;
    SN_TRY(sn_h5ad_check(fid, &n_obs, &n_var));
    fprintf(fp, "shape\t%lld obs x %lld var\n", (long long)n_obs, (long long)n_var);
    if (!sn_h5ad_exists(fid, "X"))
        fprintf(fp, "X\tnone\t-\t-\n");
    int rc = SN_OK;
    for (size_t i = 0; rc == SN_OK && i < sizeof order / sizeof *order; i++) {
        if (i == 1)
            rc = print_stages(fp, fid);
        if (rc == SN_OK && sn_h5ad_exists(fid, order[i]))
            rc = list_tree(fp, fid, order[i]);
    }
    if (rc < 0 || (rc = sn_h5ad_keys(fid, NULL, &keys, &n)) < 0)
        return rc;
    for (int64_t i = 0; rc == SN_OK && i < n; i++) {
        int known = 0;
        for (size_t k = 0; k < sizeof order / sizeof *order; k++)
            known |= is(keys[i], order[k]);
        if (!known)
            rc = list_tree(fp, fid, keys[i]);
    }
    sn_free_strings(keys, n);
    return rc;
}

/* ---- --field ---- */

static int dump_sparse(FILE *fp, hid_t fid, const char *path)
{
    sn_csr m;
    char v[64];
    SN_TRY(sn_h5ad_read_csr(fid, path, &m));
    for (int64_t i = 0; i < m.nrow; i++)
        for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; k++)
            fprintf(fp, "%lld\t%d\t%s\n", (long long)i, m.indices[k], sn_fmt_float(m.data[k], v, sizeof v));
    sn_csr_free(&m);
    return SN_OK;
}

static int dump_dense(FILE *fp, hid_t fid, const char *path, const char *dtype)
{
    sn_matd m;
    char v[64];
    SN_TRY(sn_h5ad_read_matd(fid, path, &m));
    for (int64_t i = 0; i < m.nrow; i++)
        for (int64_t j = 0; j < m.ncol; j++)
            fprintf(fp, "%s%c", fmt_value(m.data[i * m.ncol + j], dtype, v, sizeof v), j + 1 < m.ncol ? '\t' : '\n');
    sn_matd_free(&m);
    return SN_OK;
}

static int dump_vector(FILE *fp, hid_t fid, const char *path, const char *dtype)
{
    int64_t n;
    char v[64];
    if (strstr(dtype, "int") && !strstr(dtype, "uint64")) {
        int64_t *x;
        SN_TRY(sn_h5ad_read_ivec(fid, path, &x, &n));
        for (int64_t i = 0; i < n; i++)
            fprintf(fp, "%lld\n", (long long)x[i]);
        free(x);
        return SN_OK;
    }
    double *x;
    SN_TRY(sn_h5ad_read_vec(fid, path, &x, &n));
    for (int64_t i = 0; i < n; i++)
        fprintf(fp, "%s\n", fmt_value(x[i], dtype, v, sizeof v));
    free(x);
    return SN_OK;
}

static int dump_strings(FILE *fp, hid_t fid, const char *path)
{
    char **s;
    int64_t n;
    SN_TRY(sn_h5ad_read_strings(fid, path, &s, &n));
    for (int64_t i = 0; i < n; i++) {
        put_str(fp, s[i]);
        fputc('\n', fp);
    }
    sn_free_strings(s, n);
    return SN_OK;
}

static int dump_column(FILE *fp, hid_t fid, const char *path)
{
    sn_col c;
    char v[64];
    SN_TRY(sn_h5ad_read_col(fid, path, &c));
    for (int64_t i = 0; i < c.n; i++) {
        put_str(fp, col_value(&c, i, v, sizeof v));
        fputc('\n', fp);
    }
    sn_col_free(&c);
    return SN_OK;
}

static int dump_frame(FILE *fp, hid_t fid, const char *path)
{
    sn_frame f;
    char v[64];
    SN_TRY(sn_h5ad_read_frame(fid, path, &f));
    put_str(fp, f.index_name ? f.index_name : "_index");
    for (int j = 0; j < f.ncol; j++) {
        fputc('\t', fp);
        put_str(fp, f.cols[j].name);
    }
    fputc('\n', fp);
    for (int64_t i = 0; i < f.n; i++) {
        put_str(fp, f.index[i]);
        for (int j = 0; j < f.ncol; j++) {
            fputc('\t', fp);
            put_str(fp, col_value(&f.cols[j], i, v, sizeof v));
        }
        fputc('\n', fp);
    }
    sn_frame_free(&f);
    return SN_OK;
}

static int dump_scalar(FILE *fp, hid_t fid, const char *path, const char *dtype)
{
    char v[64], *s;
    double x;
    if (is(dtype, "str")) {
        SN_TRY(sn_h5ad_read_str(fid, path, &s));
        put_str(fp, s);
        fputc('\n', fp);
        free(s);
        return SN_OK;
    }
    if (int_scalar(fid, path, dtype, v, sizeof v)) {
        fprintf(fp, "%s\n", v);
        return SN_OK;
    }
    SN_TRY(sn_h5ad_read_scalar(fid, path, &x));
    fprintf(fp, "%s\n", fmt_value(x, dtype, v, sizeof v));
    return SN_OK;
}

static int dump_field(FILE *fp, hid_t fid, const char *path)
{
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_stat(fid, path, &e));
    const char *enc = e.encoding;
    if (e.nnz >= 0)
        return dump_sparse(fp, fid, path);
    if (is(enc, "dataframe"))
        return dump_frame(fp, fid, path);
    if (is(enc, "dict"))
        return list_tree(fp, fid, path);
    if (is(enc, "string-array"))
        return dump_strings(fp, fid, path);
    if (is(enc, "null")) {
        fputs("None\n", fp); /* a write error shows when the output closes */
        return SN_OK;
    }
    if (is(enc, "categorical") || strncmp(enc, "nullable-", 9) == 0)
        return dump_column(fp, fid, path);
    if (!e.group && e.ndim == 2)
        return dump_dense(fp, fid, path, e.dtype);
    if (!e.group && e.ndim == 1)
        return dump_vector(fp, fid, path, e.dtype);
    if (!e.group && e.ndim == 0)
        return dump_scalar(fp, fid, path, e.dtype);
    return sn_err(SN_EFMT, "%s: cannot print an element of encoding '%s'", path, enc[0] ? enc : "unknown");
}

/* 'uns/scnet/' names the same element as 'uns/scnet'. */
static int dump_path(FILE *fp, hid_t fid, const char *field)
{
    size_t n = strlen(field);
    char path[n + 1];
    memcpy(path, field, n + 1);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    return dump_field(fp, fid, path);
}

/* ---- main ---- */

typedef struct {
    int history;
    const char *field;
    const char *input;
} info_opts;

static const struct option longopts[] = {SN_CLI_LONGOPTS,
                                         {"history", no_argument, NULL, OPT_HISTORY},
                                         {"field", required_argument, NULL, OPT_FIELD},
                                         {NULL, 0, NULL, 0}};

static int parse_opt(void *ctx, int c, const char *arg)
{
    info_opts *o = ctx;
    if (c == OPT_HISTORY)
        o->history = 1;
    else if (c == OPT_FIELD)
        o->field = arg;
    return SN_OK;
}

static int parse_operands(sn_cli *cli, void *ctx, int n, char **args)
{
    info_opts *o = ctx;
    if (n > 1)
        return sn_cli_bad("expected one input file, got %d", n);
    if (o->field && o->history)
        return sn_cli_bad("--field and --history each choose what to print; give one");
    if (o->field && !*o->field)
        return sn_cli_bad("--field: empty path");
    o->input = n ? args[0] : "-";
    const sn_cli_file f[] = {{o->input, "the input", 0, 0}, {cli->output, "-o", 1, 0}};
    return sn_cli_files(cli, f, 2);
}

static int run(sn_cli *cli, void *ctx)
{
    const info_opts *o = ctx;
    sn_h5 *f = NULL;
    sn_out *out = NULL;
    int rc;
    SN_CHECK(sn_h5_open(o->input, &f));
    SN_CHECK(sn_out_open(cli->output, 0, &out));
    FILE *fp = sn_out_fp(out);
    hid_t fid = sn_h5_id(f);
    int64_t n_obs, n_var;
    if ((rc = sn_h5ad_check(fid, &n_obs, &n_var)) == SN_OK)
        rc = o->field ? dump_path(fp, fid, o->field) : o->history ? print_history(fp, fid) : list_file(fp, fid);
    if (rc < 0)
        SN_CHECK(sn_err_prefix(rc, "%s: ", sn_h5_name(f)));
    rc = sn_out_commit(out);
    out = NULL;
out:
    sn_out_abort(out);
    sn_h5_close(f);
    return rc;
}

static const sn_cli_prog program = {"scnet-info", usage, longopts, SN_CLI_SHORTOPTS,
                                    parse_opt, parse_operands, run};

int main(int argc, char **argv)
{
    info_opts o = {0};
    return sn_cli_main(&program, &o, argc, argv);
}
