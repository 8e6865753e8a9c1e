/* Unit tests of the input readers: the real count files, tables, PPI
 * networks and gene sets in $SCNET_DATA, 10x HDF5 files written here with
 * the HDF5 C API, and malformed inputs with the message each must give. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>
#include <hdf5.h>

#include "scnet/err.h"
#include "scnet/frame.h"
#include "scnet/log.h"
#include "scnet/mat.h"
#include "scnet/mem.h"
#include "scnet/read.h"

/* ---- helpers ---- */

static char tmpdir[256];

static const char *data(const char *rel)
{
    static char buf[4][1024];
    static int k;
    const char *root = getenv("SCNET_DATA");
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", root && *root ? root : "../shared/data", rel);
    return b;
}

static const char *tmp(const char *name)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

static const char *put(const char *name, const char *text)
{
    const char *p = tmp(name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return p;
}

/* gzip text into name; cut > 0 drops that many bytes from the end. */
static const char *put_gz(const char *name, const char *text, size_t cut)
{
    const char *p = tmp(name);
    gzFile g = gzopen(p, "wb");
    assert_non_null(g);
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
    if (cut) {
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(truncate(p, st.st_size - (off_t)cut), 0);
    }
    return p;
}

static void expect_err(int rc, const char *text)
{
    if (rc >= 0 || !strstr(sn_errmsg(), text))
        fail_msg("expected an error containing \"%s\", got rc %d: %s", text, rc, sn_errmsg());
    if (strchr(sn_errmsg(), '\n'))
        fail_msg("error message spans several lines: %s", sn_errmsg());
}

static float get(const sn_csr *x, int64_t i, int64_t j)
{
    for (int64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++)
        if (x->indices[k] == j)
            return x->data[k];
    return 0;
}

static int64_t find(char *const *idx, int64_t n, const char *name)
{
    for (int64_t i = 0; i < n; i++)
        if (strcmp(idx[i], name) == 0)
            return i;
    fail_msg("'%s' not found", name);
    return -1;
}

static double total(const sn_csr *x)
{
    double s = 0;
    for (int64_t k = 0; k < sn_csr_nnz(x); k++)
        s += x->data[k];
    return s;
}

static void free_ad(sn_adata *a)
{
    sn_csr_free(&a->X);
    sn_frame_free(&a->obs);
    sn_frame_free(&a->var);
}

/* Cells with each category of a categorical obs column. */
static int64_t count_cat(const sn_adata *a, const char *col, const char *cat)
{
    const sn_col *c = sn_frame_get(&a->obs, col);
    assert_non_null(c);
    assert_int_equal(c->type, SN_COL_CAT);
    int64_t n = 0;
    for (int64_t i = 0; i < c->n; i++)
        n += c->v.codes[i] >= 0 && strcmp(c->cats[c->v.codes[i]], cat) == 0;
    return n;
}

/* Standard error captured into a file while a reader warns. */
static int saved_fd = -1;

static void capture_start(void)
{
    fflush(stderr);
    saved_fd = dup(2);
    int fd = open(tmp("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static const char *capture_end(void)
{
    static char buf[4096];
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    FILE *fp = fopen(tmp("stderr.txt"), "r");
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    return buf;
}

static int setup(void **st)
{
    (void)st;
    const char *base = getenv("TEST_TMP");
    snprintf(tmpdir, sizeof tmpdir, "%s/sn_read_XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- real data: counts ---- */

static void test_pbmc3k(void **st)
{
    (void)st;
    sn_adata a;
    double t0 = sn_time();
    assert_int_equal(sn_read_mtx_dir(data("pbmc3k_10x"), &a), 0);
    print_message("pbmc3k (10x MatrixMarket, gzip) read in %.2f s\n", sn_time() - t0);
    assert_int_equal(a.X.nrow, 2700);
    assert_int_equal(a.X.ncol, 32738);
    assert_int_equal(sn_csr_nnz(&a.X), 2286884);
    assert_int_equal(sn_csr_validate(&a.X, 1), 0);
    assert_true(total(&a.X) == 6390631.0);
    assert_int_equal(a.obs.n, 2700);
    assert_int_equal(a.var.n, 32738);
    assert_string_equal(a.obs.index[0], "AAACATACAACCAC-1");
    assert_string_equal(a.obs.index[2699], "TTTGCATGCCTCAC-1");
    assert_string_equal(a.var.index[0], "MIR1302-10");
    assert_int_equal(a.var.ncol, 0); /* genes.txt: symbols only */
    /* zcat matrix.mtx.gz: "71 1 1", "18945 2 6", "18999 62 419", "32709 2700 3" */
    assert_true(get(&a.X, 0, 70) == 1.0f);
    int64_t ms4a1 = find(a.var.index, a.var.n, "MS4A1");
    assert_int_equal(ms4a1, 18944);
    assert_true(get(&a.X, 1, ms4a1) == 6.0f);
    assert_true(get(&a.X, 61, find(a.var.index, a.var.n, "FTH1")) == 419.0f);
    assert_true(get(&a.X, 2699, find(a.var.index, a.var.n, "MT-CYB")) == 3.0f);
    int64_t n = 0;
    double s = 0;
    for (int64_t i = 0; i < a.X.nrow; i++) {
        float v = get(&a.X, i, ms4a1);
        n += v != 0;
        s += v;
    }
    assert_int_equal(n, 423);
    assert_true(s == 909.0);
    free_ad(&a);
}

typedef struct {
    const char *file;
    int64_t cells, genes, nnz;
    double sum;
} csv_fact;

static void test_csv_counts(void **st)
{
    (void)st;
    /* awk over zcat: header fields, data rows, non-zero fields and their sum */
    static const csv_fact f[] = {
        {"sc_celseq2.count.csv.gz", 274, 28204, 1954979, 10321416},
        {"sc_dropseq.count.csv.gz", 225, 15127, 1290921, 5830998},
        {"sc_celseq2_5cl_p1.count.csv.gz", 297, 15564, 1810635, 9783530},
        {"sc_celseq2_5cl_p2.count.csv.gz", 307, 14078, 1737067, 7347615},
        {"sc_celseq2_5cl_p3.count.csv.gz", 305, 13426, 1463083, 5546889},
        {"sc_10x_cepo894genes.count.csv.gz", 895, 894, 375395, 1901050},
        {"RNAmix_celseq2.count.csv.gz", 340, 14804, 2412406, 12908075},
        {"RNAmix_sortseq.count.csv.gz", 296, 15571, 2005546, 11219124},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tian2019_cellbench/%s", f[i].file);
        sn_adata a;
        capture_start();
        int rc = sn_read_text_matrix(data(rel), SN_ORIENT_AUTO, &a);
        capture_end();
        if (rc < 0)
            fail_msg("%s", sn_errmsg());
        assert_int_equal(a.X.nrow, f[i].cells);
        assert_int_equal(a.X.ncol, f[i].genes);
        assert_int_equal(sn_csr_nnz(&a.X), f[i].nnz);
        assert_int_equal(sn_csr_validate(&a.X, 1), 0);
        assert_true(total(&a.X) == f[i].sum);
        assert_int_equal(a.obs.n, f[i].cells);
        assert_int_equal(a.var.n, f[i].genes);
        free_ad(&a);
    }
}

static void test_csv_values(void **st)
{
    (void)st;
    sn_adata a;
    /* The largest count of sc_celseq2: gene row 17645, cell "C16" (field 46). */
    assert_int_equal(sn_read_text_matrix(data("tian2019_cellbench/sc_celseq2.count.csv.gz"), SN_ORIENT_AUTO, &a), 0);
    assert_string_equal(a.obs.index[0], "A1");
    assert_string_equal(a.obs.index[44], "C16");
    assert_string_equal(a.var.index[17644], "ENSG00000210082");
    assert_string_equal(a.var.index[0], "ENSG00000281131");
    assert_true(get(&a.X, 44, 17644) == 2973.0f);
    free_ad(&a);

    /* Header with a leading empty field; 5 symbols occur twice. */
    capture_start();
    int rc = sn_read_text_matrix(data("tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz"), SN_ORIENT_AUTO, &a);
    const char *warn = capture_end();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(warn, "5 gene names were not unique"));
    assert_string_equal(a.obs.index[0], "CELL_000001");
    assert_string_equal(a.obs.index[355], "CELL_000363");
    assert_string_equal(a.var.index[462], "LCN2");
    assert_true(get(&a.X, 355, 462) == 799.0f);
    assert_string_equal(a.var.index[510], "ECH1"); /* file lines 512 and 834 */
    assert_string_equal(a.var.index[832], "ECH1-1");
    assert_true(get(&a.X, 0, 0) == 0.0f && get(&a.X, 3, 0) == 2.0f && get(&a.X, 4, 0) == 43.0f);
    free_ad(&a);
}

static void test_csv_layouts(void **st)
{
    (void)st;
    sn_adata a;
    /* TSV, genes in rows, quoted, with a named row-name field. */
    const char *p = put("t1.tsv", "gene\t\"c1\"\tc2\tc3\n\"G1\"\t0\t1.5\t0\nG2\t3\t0\t0\n\nG1\t0\t0\t7\n");
    capture_start();
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), 0);
    assert_non_null(strstr(capture_end(), "1 gene names were not unique"));
    assert_int_equal(a.X.nrow, 3);
    assert_int_equal(a.X.ncol, 3);
    assert_string_equal(a.var.index[2], "G1-1");
    assert_true(get(&a.X, 1, 0) == 1.5f && get(&a.X, 0, 1) == 3.0f && get(&a.X, 2, 2) == 7.0f);
    assert_int_equal(sn_csr_nnz(&a.X), 3);
    free_ad(&a);
    /* Cells in rows: asked for, or said by the header's first field (after
     * the byte-order mark of a spreadsheet export). */
    p = put_gz("t2.csv.gz", "\xEF\xBB\xBF" "cell,GA,GB\nx1,1,0\nx2,0,2\n", 0);
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), 0);
    assert_int_equal(a.X.nrow, 2);
    assert_string_equal(a.obs.index[1], "x2");
    assert_string_equal(a.var.index[1], "GB");
    assert_true(get(&a.X, 1, 1) == 2.0f);
    free_ad(&a);
    p = put("t3.txt", "x1 x2\nGA 1 0\nGB 0 2\nGC 4 4\n");
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_CELLS_ROWS, &a), 0);
    assert_int_equal(a.X.nrow, 3);
    assert_int_equal(a.X.ncol, 2);
    assert_string_equal(a.obs.index[2], "GC");
    assert_true(get(&a.X, 2, 1) == 4.0f);
    free_ad(&a);
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_GENES_ROWS, &a), 0);
    assert_int_equal(a.X.nrow, 2);
    assert_int_equal(a.X.ncol, 3);
    free_ad(&a);
    /* pandas' to_csv of a cells x genes frame: an empty first field, barcodes
     * as row names; --orient genes still reads them as genes */
    p = put("t4.csv", ",GA,GB,GC\nAAACATACAACCAC-1,1,0,2\ns1_TTTGCATGAGAGGC-1,0,2,0\n");
    capture_start();
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), 0);
    assert_non_null(strstr(capture_end(), "rows read as cells: their names look like cell barcodes"));
    assert_int_equal(a.X.nrow, 2);
    assert_int_equal(a.X.ncol, 3);
    assert_string_equal(a.var.index[2], "GC");
    free_ad(&a);
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_GENES_ROWS, &a), 0);
    assert_int_equal(a.X.nrow, 3);
    free_ad(&a);
    /* barcodes as columns too: no evidence either way, genes as rows */
    p = put("t5.csv", ",AAACATACAACCAC-1,AAACATTGAGCTAC-1\nAAACATACAACCAC-1,1,0\nAAACATTGAGCTAC-1,0,2\n");
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), 0);
    assert_string_equal(a.var.index[0], "AAACATACAACCAC-1");
    assert_int_equal(a.X.nrow, 2);
    free_ad(&a);
}

static void test_csv_errors(void **st)
{
    (void)st;
    sn_adata a;
    const char *p = put("e1.csv", "\"a\",\"b\"\n\"G1\",1,2\n\"G2\",1,x7\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e1.csv:3: non-numeric value 'x7' in column 3 ('b')");
    assert_null(a.X.indptr);
    p = put("e2.csv", "a,b\nG1,1,2\nG2,1\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e2.csv:3: 2 fields, expected 3");
    p = put("e3.csv", "a,b,c,d\nG1,1,2,0,0\nG2,0,0,0,0\nG3,0,0,0,-3\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e3.csv:4: negative count -3 in column 5 ('d')");
    p = put("e4.csv", "a,b\nG1,NaN,2\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e4.csv:2: value 'NaN' is not finite in column 2");
    p = put("e5.csv", "a,b\nG1,1,Inf\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "value 'Inf' is not finite");
    p = put("e6.csv", "\"a\",\"b\"\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e6.csv: no data rows after the header (empty matrix)");
    p = put("e7.csv", "");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e7.csv: empty file");
    p = put("e8.csv", "a,b\nG1,1,2,3,4\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e8.csv:2: 5 fields, but the header has 2");
    p = put("e9.csv", "a,b\n\"G1,1,2\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "e9.csv:2: unterminated quote");
    p = put("e10.csv", "a,b\nG1,1,1e39\n");
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "too large for float32");
    p = put_gz("e11.csv.gz", "a,b\nG1,1,2\nG2,3,4\nG3,5,6\nG4,7,8\n", 6);
    expect_err(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), "truncated");
    expect_err(sn_read_text_matrix(tmp("absent.csv"), SN_ORIENT_AUTO, &a), "absent.csv: cannot open");
}

/* ---- 10x MatrixMarket ---- */

static const char *mtx_dir(const char *name, const char *mtx, const char *genes_file, const char *genes,
                           const char *cells)
{
    char d[300], p[400];
    snprintf(d, sizeof d, "%s", tmp(name));
    mkdir(d, 0700);
    snprintf(p, sizeof p, "%s/matrix.mtx", name);
    put(p, mtx);
    snprintf(p, sizeof p, "%s/%s", name, genes_file);
    put_gz(p, genes, 0);
    snprintf(p, sizeof p, "%s/barcodes.tsv", name);
    put(p, cells);
    return tmp(name);
}

static const char *const FEATURES = "E1\tA\tGene Expression\nE2\tB\tGene Expression\n"
                                    "AB1\tCD3\tAntibody Capture\nE4\tA\tGene Expression\n";
static const char *const MTX_OK = "%%MatrixMarket matrix coordinate integer general\n"
                                  "% written by hand\n4 3 6\n1 1 5\n3 1 2\n2 2 1\n4 2 7\n1 3 1\n3 3 9\n";

static void test_mtx_features(void **st)
{
    (void)st;
    sn_adata a;
    const char *d = mtx_dir("m1", MTX_OK, "features.tsv.gz", FEATURES, "c1\nc2\nc3\n");
    capture_start();
    int rc = sn_read_mtx_dir(d, &a);
    const char *warn = capture_end();
    if (rc < 0)
        fail_msg("%s", sn_errmsg());
    assert_non_null(strstr(warn, "1 gene names were not unique"));
    assert_int_equal(a.X.nrow, 3);
    assert_int_equal(a.X.ncol, 3); /* the antibody feature is dropped */
    assert_string_equal(a.var.index[0], "A");
    assert_string_equal(a.var.index[2], "A-1");
    const sn_col *ids = sn_frame_get(&a.var, "gene_ids"), *ft = sn_frame_get(&a.var, "feature_types");
    assert_non_null(ids);
    assert_non_null(ft);
    assert_int_equal(ids->type, SN_COL_STR);
    assert_string_equal(ids->v.str[2], "E4");
    char b[8];
    assert_string_equal(sn_col_str(ft, 1, b, 8), "Gene Expression");
    assert_true(get(&a.X, 0, 0) == 5.0f && get(&a.X, 1, 2) == 7.0f && get(&a.X, 1, 1) == 1.0f);
    assert_int_equal(sn_csr_nnz(&a.X), 4);
    free_ad(&a);

    sn_read_opts o = {.all_features = 1};
    capture_start();
    rc = sn_read_mtx_dir_opts(d, &o, &a);
    capture_end();
    assert_int_equal(rc, 0);
    assert_int_equal(a.X.ncol, 4);
    assert_true(get(&a.X, 2, 2) == 9.0f);
    assert_string_equal(sn_col_str(sn_frame_get(&a.var, "feature_types"), 2, b, 8), "Antibody Capture");
    free_ad(&a);

    /* Cell Ranger 2 genes.tsv; a single file with numbered columns. */
    d = mtx_dir("m2", MTX_OK, "genes.tsv", "E1\tA\nE2\tB\nE3\tC\nE4\tD\n", "c1\nc2\nc3\n");
    assert_int_equal(sn_read_mtx_dir(d, &a), 0);
    assert_int_equal(a.X.ncol, 4);
    assert_string_equal(sn_frame_get(&a.var, "gene_ids")->v.str[3], "E4");
    assert_null(sn_frame_get(&a.var, "feature_types"));
    free_ad(&a);
    assert_int_equal(sn_read_mtx(tmp("m2/matrix.mtx"), tmp("m2/genes.tsv"), NULL, &a), 0);
    assert_string_equal(a.obs.index[2], "2");
    assert_string_equal(a.var.index[3], "D");
    free_ad(&a);
}

static void test_mtx_errors(void **st)
{
    (void)st;
    sn_adata a;
    char g[512], c[512];
    snprintf(g, sizeof g, "%s", put("g.txt", "A\nB\nC\nD\n"));
    snprintf(c, sizeof c, "%s", put("c.txt", "c1\nc2\nc3\n"));
    const char *p = put("x1.mtx", "%%MatrixMarket matrix array real general\n4 3\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x1.mtx:1: 'array' MatrixMarket files are not supported");
    p = put("x2.mtx", "4 3 6\n1 1 5\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x2.mtx:1: not a MatrixMarket file");
    p = put("x3.mtx", "%%MatrixMarket matrix coordinate pattern general\n4 3 1\n1 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "'pattern' matrices carry no values");
    p = put("x4.mtx", "%%MatrixMarket matrix coordinate integer symmetric\n4 3 1\n1 1 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "unsupported MatrixMarket symmetry 'symmetric'");
    p = put("x5.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 2\n1 1 5\n5 2 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x5.mtx:4: row (gene) index '5' is out of range 1..4");
    p = put("x6.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 2\n1 1 5\n2 0 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x6.mtx:4: column (cell) index '0' is out of range 1..3");
    p = put("x7.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 3\n1 1 5\n2 2 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x7.mtx: 2 entries, but the size line declares 3 (file truncated?)");
    p = put("x8.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 1\n1 1 5\n2 2 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x8.mtx:4: more entries than the 1 declared");
    p = put("x9.mtx", "%%MatrixMarket matrix coordinate integer general\n4 x 1\n1 1 5\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x9.mtx:2: malformed size line '4 x 1'");
    p = put("x10.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 2\n1 1 5\n2 2 -3\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x10.mtx:4: negative count -3");
    p = put("x11.mtx", "%%MatrixMarket matrix coordinate real general\n4 3 2\n1 1 nan\n2 2 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x11.mtx:3: value 'nan' is not finite");
    p = put("x12.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 2\n1 1 2.5\n2 2 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x12.mtx:3: value 2.5 is not a whole number");
    p = put("x13.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 3\n1 1 2\n2 2 1\n1 1 4\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x13.mtx: entry (row 1, column 1) appears more than once");
    p = put("x14.mtx", "%%MatrixMarket matrix coordinate real general\n4 3 1\n1 1 abc\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x14.mtx:3: non-numeric value 'abc'");
    p = put("x15.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 1\n1 1\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x15.mtx:3: expected 'ROW COLUMN VALUE', found 2 fields");
    p = put("x16.mtx", "%%MatrixMarket matrix coordinate integer general\n% only comments\n");
    expect_err(sn_read_mtx(p, g, c, &a), "x16.mtx: no size line");
    p = put("x17.mtx", "%%MatrixMarket matrix coordinate integer general\n4 3 13\n");
    expect_err(sn_read_mtx(p, g, c, &a), "declares 13 entries, more than a 4 x 3 matrix holds");

    char big[20000] = "%%MatrixMarket matrix coordinate integer general\n4 3 12\n";
    for (int i = 1; i <= 4; i++)
        for (int j = 1; j <= 3; j++)
            snprintf(big + strlen(big), sizeof big - strlen(big), "%d %d %d\n", i, j, i * j);
    p = put_gz("ok.mtx.gz", big, 0);
    assert_int_equal(sn_read_mtx(p, g, c, &a), 0);
    assert_true(get(&a.X, 2, 3) == 12.0f);
    free_ad(&a);
    p = put_gz("cut.mtx.gz", big, 10);
    expect_err(sn_read_mtx(p, g, c, &a), "cut.mtx.gz: file is truncated");
    expect_err(sn_read_mtx(tmp("ok.mtx.gz"), put("g3.txt", "A\nB\nC\n"), c, &a),
               "g3.txt: 3 lines, but");
    expect_err(sn_read_mtx(tmp("ok.mtx.gz"), g, put("c4.txt", "c1\nc2\nc3\nc4\n"), &a),
               "c4.txt: 4 lines, but");
    expect_err(sn_read_mtx(tmp("ok.mtx.gz"), g, put("c5.txt", "c1\n\nc3\n"), &a), "c5.txt:2: empty line");
    expect_err(sn_read_mtx_dir(tmpdir, &a), "no matrix.mtx.gz or matrix.mtx (not a 10x MatrixMarket folder?)");
    expect_err(sn_read_mtx_dir(g, &a), "g.txt: not a directory");
    assert_null(a.X.indptr);
    assert_null(a.obs.index);
}

/* ---- 10x HDF5 ---- */

static void h5_ints(hid_t g, const char *name, hid_t type, hsize_t n, const void *v)
{
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(s);
}

/* Fixed-length NULLPAD strings, as Cell Ranger writes them: a string of
 * exactly width bytes has no terminator. */
static void h5_fixed(hid_t g, const char *name, const char *const *v, hsize_t n, size_t width)
{
    char *buf = calloc(n, width);
    for (hsize_t i = 0; i < n; i++)
        memcpy(buf + i * width, v[i], strlen(v[i]) < width ? strlen(v[i]) : width);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, width);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    H5Sclose(s);
    H5Tclose(t);
    free(buf);
}

static void h5_vlen(hid_t g, const char *name, const char *const *v, hsize_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Sclose(s);
    H5Tclose(t);
}

/* 4 features × 3 cells, CSC by cell:
 *          c0  c1  c2
 *   GA      1   .   4
 *   GB      .   2   .
 *   AB      3   .   5     (Antibody Capture)
 *   GA      .   6   .     (same symbol as feature 0) */
static const int32_t DATA[] = {1, 3, 2, 6, 4, 5};
static const int64_t INDICES[] = {0, 2, 1, 3, 0, 2};
static const int64_t INDPTR[] = {0, 2, 4, 6};
static const char *const BARCODES[] = {"AAACCTGAGAAACCAT-1", "AAACCTGAGAAACCGC-1", "AAACCTGAGAAACCTA-1"};
static const char *const IDS[] = {"ENSG01", "ENSG02", "CD3_TotalSeqB", "ENSG04"};
static const char *const NAMES[] = {"GA", "GB", "CD3", "GA"};
static const char *const TYPES[] = {"Gene Expression", "Gene Expression", "Antibody Capture", "Gene Expression"};
static const char *const GENOMES[] = {"GRCh38", "GRCh38", "", "GRCh38"};

enum { V3_OK, V3_NO_DATA, V3_SHORT_INDPTR, V3_BAD_INDEX };

static const char *write_v3(const char *name, int variant)
{
    const char *p = tmp(name);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t m = H5Gcreate2(f, "matrix", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t ft = H5Gcreate2(m, "features", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int32_t shape[2] = {4, 3};
    int64_t idx[6];
    memcpy(idx, INDICES, sizeof idx);
    if (variant == V3_BAD_INDEX)
        idx[3] = 4;
    h5_ints(m, "shape", H5T_NATIVE_INT32, 2, shape);
    if (variant != V3_NO_DATA)
        h5_ints(m, "data", H5T_NATIVE_INT32, 6, DATA);
    h5_ints(m, "indices", H5T_NATIVE_INT64, 6, idx);
    h5_ints(m, "indptr", H5T_NATIVE_INT64, variant == V3_SHORT_INDPTR ? 3 : 4, INDPTR);
    h5_fixed(m, "barcodes", BARCODES, 3, 18); /* exactly full: no terminator */
    h5_fixed(ft, "id", IDS, 4, 13);           /* "CD3_TotalSeqB" fills its slot too */
    h5_fixed(ft, "name", NAMES, 4, 8);
    h5_fixed(ft, "feature_type", TYPES, 4, 16);
    h5_vlen(ft, "genome", GENOMES, 4);
    H5Gclose(ft);
    H5Gclose(m);
    H5Fclose(f);
    return p;
}

static void test_10x_h5_v3(void **st)
{
    (void)st;
    sn_adata a;
    const char *p = write_v3("v3.h5", V3_OK);
    capture_start();
    int rc = sn_read_10x_h5(p, NULL, &a);
    const char *warn = capture_end();
    if (rc < 0)
        fail_msg("%s", sn_errmsg());
    assert_non_null(strstr(warn, "v3.h5: 1 gene names were not unique"));
    assert_int_equal(a.X.nrow, 3);
    assert_int_equal(a.X.ncol, 3);
    assert_int_equal(sn_csr_nnz(&a.X), 4);
    assert_string_equal(a.obs.index[1], "AAACCTGAGAAACCGC-1");
    assert_string_equal(a.var.index[0], "GA");
    assert_string_equal(a.var.index[1], "GB");
    assert_string_equal(a.var.index[2], "GA-1");
    assert_true(get(&a.X, 0, 0) == 1.0f && get(&a.X, 1, 1) == 2.0f && get(&a.X, 1, 2) == 6.0f);
    assert_true(get(&a.X, 2, 0) == 4.0f && get(&a.X, 2, 1) == 0.0f);
    assert_string_equal(sn_frame_get(&a.var, "gene_ids")->v.str[2], "ENSG04");
    char b[8];
    assert_string_equal(sn_col_str(sn_frame_get(&a.var, "genome"), 1, b, 8), "GRCh38");
    assert_int_equal(sn_frame_get(&a.var, "feature_types")->ncat, 1);
    free_ad(&a);

    sn_read_opts o = {.all_features = 1};
    capture_start();
    rc = sn_read_10x_h5(p, &o, &a);
    capture_end();
    assert_int_equal(rc, 0);
    assert_int_equal(a.X.ncol, 4);
    assert_string_equal(sn_frame_get(&a.var, "gene_ids")->v.str[2], "CD3_TotalSeqB");
    assert_string_equal(a.var.index[2], "CD3");
    assert_true(get(&a.X, 0, 2) == 3.0f && get(&a.X, 2, 2) == 5.0f);
    assert_string_equal(sn_col_str(sn_frame_get(&a.var, "feature_types"), 2, b, 8), "Antibody Capture");
    free_ad(&a);
}

static void write_v2_genome(hid_t f, const char *genome, int32_t scale)
{
    hid_t g = H5Gcreate2(f, genome, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    uint32_t data[] = {1, 2, 3}, shape[] = {2, 2};
    uint16_t idx[] = {0, 1, 1};
    int64_t ptr[] = {0, 2, 3};
    for (int i = 0; i < 3; i++)
        data[i] *= (uint32_t)scale;
    const char *bc[] = {"AC-1", "GT-1"}, *ids[] = {"G1", "G2"}, *names[] = {"Alpha", "Beta"};
    h5_ints(g, "data", H5T_NATIVE_UINT32, 3, data);
    h5_ints(g, "indices", H5T_NATIVE_UINT16, 3, idx);
    h5_ints(g, "indptr", H5T_NATIVE_INT64, 3, ptr);
    h5_ints(g, "shape", H5T_NATIVE_UINT32, 2, shape);
    h5_fixed(g, "barcodes", bc, 2, 6);
    h5_vlen(g, "genes", ids, 2);
    h5_fixed(g, "gene_names", names, 2, 5);
    H5Gclose(g);
}

static void test_10x_h5_v2(void **st)
{
    (void)st;
    sn_adata a;
    const char *p = tmp("v2.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_v2_genome(f, "hg19", 1);
    H5Fclose(f);
    assert_int_equal(sn_read_10x_h5(p, NULL, &a), 0);
    assert_int_equal(a.X.nrow, 2);
    assert_int_equal(a.X.ncol, 2);
    assert_string_equal(a.obs.index[1], "GT-1");
    assert_string_equal(a.var.index[0], "Alpha");
    assert_string_equal(sn_frame_get(&a.var, "gene_ids")->v.str[1], "G2");
    assert_true(get(&a.X, 0, 0) == 1.0f && get(&a.X, 0, 1) == 2.0f && get(&a.X, 1, 1) == 3.0f);
    free_ad(&a);

    p = tmp("v2b.h5");
    f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_v2_genome(f, "hg19", 1);
    write_v2_genome(f, "mm10", 10);
    H5Fclose(f);
    expect_err(sn_read_10x_h5(p, NULL, &a), "v2b.h5: the file holds several genomes (hg19, mm10): choose one with --genome");
    sn_read_opts o = {.genome = "mm10"};
    assert_int_equal(sn_read_10x_h5(p, &o, &a), 0);
    assert_true(get(&a.X, 1, 1) == 30.0f);
    free_ad(&a);
    o.genome = "GRCh38";
    expect_err(sn_read_10x_h5(p, &o, &a), "no genome 'GRCh38' in the file (genomes: hg19, mm10)");
}

static void test_10x_h5_errors(void **st)
{
    (void)st;
    sn_adata a;
    expect_err(sn_read_10x_h5(write_v3("nodata.h5", V3_NO_DATA), NULL, &a),
               "nodata.h5: dataset 'matrix/data' is missing (not a 10x HDF5 file?)");
    expect_err(sn_read_10x_h5(write_v3("short.h5", V3_SHORT_INDPTR), NULL, &a),
               "short.h5: dataset 'matrix/indptr' has 3 entries, expected 4 (cells + 1, from 'shape')");
    expect_err(sn_read_10x_h5(write_v3("badidx.h5", V3_BAD_INDEX), NULL, &a),
               "badidx.h5: 'matrix/indices' holds feature index 4 for cell 1, outside 0..3");
    const char *p = tmp("empty.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    expect_err(sn_read_10x_h5(p, NULL, &a), "empty.h5: neither a 'matrix' group");
    expect_err(sn_read_10x_h5(put("text.h5", "hello\n"), NULL, &a), "text.h5: not an HDF5 file");
    assert_null(a.X.indptr);
}

/* ---- metadata ---- */

static void test_metadata_join(void **st)
{
    (void)st;
    sn_adata a;
    const char *d = "tian2019_cellbench/";
    char c[256], m[256];
    snprintf(c, sizeof c, "%ssc_celseq2.count.csv.gz", d);
    snprintf(m, sizeof m, "%ssc_celseq2.metadata.csv.gz", d);
    assert_int_equal(sn_read_text_matrix(data(c), SN_ORIENT_AUTO, &a), 0);
    assert_int_equal(sn_read_obs_table(data(m), NULL, &a), 0);
    assert_int_equal(count_cat(&a, "cell_line", "H1975"), 114);
    assert_int_equal(count_cat(&a, "cell_line", "H2228"), 81);
    assert_int_equal(count_cat(&a, "cell_line", "HCC827"), 79);
    assert_int_equal(count_cat(&a, "demuxlet_cls", "SNG"), 240);
    assert_int_equal(count_cat(&a, "demuxlet_cls", "DBL"), 34);
    const sn_col *ng = sn_frame_get(&a.obs, "number_of_genes");
    assert_non_null(ng);
    assert_int_equal(ng->type, SN_COL_I64); /* whole numbers without a point: int64, as pandas */
    assert_true(ng->v.i64[0] == 4773);     /* "A1",...,9481,4773,... */
    const sn_col *out = sn_frame_get(&a.obs, "outliers"); /* "FALSE" in every row: bool, as pandas */
    assert_true(out && out->type == SN_COL_BOOL);
    for (int64_t i = 0; i < a.obs.n; i++)
        assert_int_equal(out->v.b[i], 0);
    free_ad(&a);

    static const struct {
        const char *stem, *col, *cat;
        int64_t n;
    } facts[] = {
        {"sc_dropseq", "cell_line", "H1975", 92},         {"sc_dropseq", "cell_line", "HCC827", 68},
        {"sc_dropseq", "demuxlet_cls", "DBL", 15},        {"sc_celseq2_5cl_p1", "demuxlet_cls", "SNG", 156},
        {"sc_celseq2_5cl_p2", "demuxlet_cls", "SNG", 163}, {"sc_celseq2_5cl_p3", "demuxlet_cls", "SNG", 252},
    };
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        snprintf(c, sizeof c, "%s%s.count.csv.gz", d, facts[i].stem);
        snprintf(m, sizeof m, "%s%s.metadata.csv.gz", d, facts[i].stem);
        assert_int_equal(sn_read_text_matrix(data(c), SN_ORIENT_AUTO, &a), 0);
        int rc = sn_read_obs_table(data(m), NULL, &a);
        if (rc < 0)
            fail_msg("%s", sn_errmsg());
        assert_int_equal(count_cat(&a, facts[i].col, facts[i].cat), facts[i].n);
        free_ad(&a);
    }

    /* RNA mixtures: "mix" is numeric (groups 1..8); cells in group 1 by awk. */
    static const char *const rnamix[] = {"RNAmix_celseq2", "RNAmix_sortseq"};
    static const int64_t group1[] = {39, 32};
    for (int i = 0; i < 2; i++) {
        snprintf(c, sizeof c, "%s%s.count.csv.gz", d, rnamix[i]);
        snprintf(m, sizeof m, "%s%s.metadata.csv.gz", d, rnamix[i]);
        assert_int_equal(sn_read_text_matrix(data(c), SN_ORIENT_AUTO, &a), 0);
        assert_int_equal(sn_read_obs_table(data(m), NULL, &a), 0);
        const sn_col *mix = sn_frame_get(&a.obs, "mix");
        assert_int_equal(mix->type, SN_COL_I64);
        int64_t g1 = 0;
        for (int64_t k = 0; k < a.obs.n; k++)
            g1 += mix->v.i64[k] == 1;
        assert_int_equal(g1, group1[i]);
        assert_true(fabs(sn_frame_get(&a.obs, "H2228_prop")->v.f64[0] - 0.68) < 1e-12); /* cell "L19" */
        free_ad(&a);
    }

    /* TSV with a named id field. */
    snprintf(c, sizeof c, "%ssc_10x_cepo894genes.count.csv.gz", d);
    snprintf(m, sizeof m, "%ssc_10x_cepo894genes.metadata.tsv.gz", d);
    capture_start();
    assert_int_equal(sn_read_text_matrix(data(c), SN_ORIENT_AUTO, &a), 0);
    capture_end();
    assert_int_equal(sn_read_obs_table(data(m), "cell", &a), 0);
    assert_int_equal(count_cat(&a, "cell_line", "H1975"), 310);
    assert_int_equal(count_cat(&a, "cell_line", "H2228"), 312);
    assert_int_equal(count_cat(&a, "cell_line", "HCC827"), 273);
    assert_int_equal(count_cat(&a, "demuxlet_cls", "SNG"), 895);
    assert_null(sn_frame_get(&a.obs, "cell"));
    free_ad(&a);
}

static void test_metadata_partial(void **st)
{
    (void)st;
    sn_adata a;
    const char *p = put("cnt.csv", "c1,c2,c3\nG1,1,2,3\n");
    assert_int_equal(sn_read_text_matrix(p, SN_ORIENT_AUTO, &a), 0);
    const char *t = put("meta.tsv", "id\tgroup\tscore\tnote\tcount\nc3\tb\t2.5\tNA\t3\nzz\ta\t1\tx\t1\nc1\ta\tNA\ty\t7\n");
    capture_start();
    int rc = sn_read_obs_table(t, NULL, &a);
    const char *warn = capture_end();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(warn, "meta.tsv: 1 of 3 ids are not cells of the data (e.g. 'zz')"));
    assert_non_null(strstr(warn, "meta.tsv: 1 of 3 cells are missing from the table (e.g. 'c2')"));
    const sn_col *g = sn_frame_get(&a.obs, "group"), *s = sn_frame_get(&a.obs, "score"),
                 *n = sn_frame_get(&a.obs, "note");
    assert_int_equal(g->ncat, 2);
    assert_int_equal(g->v.codes[0], 0);
    assert_int_equal(g->v.codes[1], -1);
    assert_int_equal(g->v.codes[2], 1);
    assert_int_equal(s->type, SN_COL_F64);
    assert_true(isnan(s->v.f64[0]) && isnan(s->v.f64[1]) && s->v.f64[2] == 2.5);
    assert_int_equal(n->type, SN_COL_CAT);
    assert_int_equal(n->v.codes[2], -1);
    assert_int_equal(n->ncat, 1); /* "x" belongs to an unknown id */
    const sn_col *k = sn_frame_get(&a.obs, "count"); /* whole numbers, but c2 has none: float64, as pandas */
    assert_true(k && k->type == SN_COL_F64 && k->v.f64[0] == 7 && isnan(k->v.f64[1]) && k->v.f64[2] == 3);

    expect_err(sn_read_obs_table(put("m2.csv", "a,b\nX1,1,2\nX2,3,4\n"), NULL, &a),
               "m2.csv: no id of the table matches a cell of the data (table: 'X1', data: 'c1')");
    expect_err(sn_read_obs_table(t, "barcode", &a),
               "meta.tsv: no column 'barcode' (columns: id, group, score, note, count)");
    expect_err(sn_read_obs_table(put("m3.csv", "a\nc1,1\nc2,2,3\n"), NULL, &a), "m3.csv:3: 3 fields, expected 2");
    expect_err(sn_read_obs_table(put("m4.csv", "a\nc1,1\nc1,2\n"), NULL, &a),
               "m4.csv:3: id 'c1' appears twice (first on line 2)");
    expect_err(sn_read_obs_table(put("m5.csv", "a/b\nc1,1\n"), NULL, &a),
               "m5.csv:1: column 'a/b' cannot be an .h5ad column (names cannot contain '/'); rename it");
    assert_int_equal(a.obs.ncol, 4); /* failed joins leave obs as it was */

    /* pandas' missing values and booleans; a repeated id of no cell is ignored */
    t = put("m6.csv", "flag,n\nzz,true,NULL\nzz,FALSE,1\nc1,True,#N/A\nc2,false,2\nc3,TRUE,-nan\n");
    capture_start();
    rc = sn_read_obs_table(t, NULL, &a);
    warn = capture_end();
    assert_int_equal(rc, 0);
    assert_non_null(strstr(warn, "m6.csv: 2 of 5 ids are not cells of the data (e.g. 'zz')"));
    const sn_col *b = sn_frame_get(&a.obs, "flag"), *v = sn_frame_get(&a.obs, "n");
    assert_true(b && b->type == SN_COL_BOOL && b->v.b[0] == 1 && b->v.b[1] == 0 && b->v.b[2] == 1);
    assert_true(v && v->type == SN_COL_F64 && isnan(v->v.f64[0]) && v->v.f64[1] == 2 && isnan(v->v.f64[2]));
    free_ad(&a);
}

/* ---- PPI, gene sets, gene lists, mappings ---- */

/* The first bad entry is reported (checked in parallel), with its row. */
static void test_check_expr(void **st)
{
    (void)st;
    enum { R = 5000 };
    sn_csr m;
    assert_int_equal(sn_csr_alloc(&m, R, 3, 2 * R), 0);
    for (int64_t i = 0; i <= R; i++)
        m.indptr[i] = i < 100 ? 0 : 2 * (i - 100) < 2 * R ? 2 * (i - 100) : 2 * R; /* rows 0-99 empty */
    m.indptr[R] = 2 * R;
    for (int64_t k = 0; k < 2 * R; k++)
        m.indices[k] = (int32_t)(k % 2), m.data[k] = 1.5f;
    assert_int_equal(sn_read_check_expr(&m, "X"), 0);
    m.data[2 * 4000 + 1] = NAN;
    m.data[2 * 4500] = -1;
    expect_err(sn_read_check_expr(&m, "X"), "X: value nan in row 4100 ");
    m.data[2 * 3000] = -2;
    expect_err(sn_read_check_expr(&m, "X"), "X: negative value -2 in row 3100 (expected counts or log-normalised "
                                            "expression, not scaled data)");
    sn_csr_free(&m);
}

static void test_ppi(void **st)
{
    (void)st;
    sn_edges e;
    assert_int_equal(sn_read_edges(data("ppi/iref13_miscore_interactome.tsv.gz"), &e), 0);
    assert_int_equal(e.n, 175853);
    assert_true(e.weighted);
    assert_string_equal(e.a[0], "RNF14");
    assert_string_equal(e.b[0], "VDR");
    assert_true(fabs(e.w[0] - 0.40555844) < 1e-12);
    assert_string_equal(e.a[e.n - 1], "NFIB");
    assert_true(fabs(e.w[e.n - 1] - 0.43887317) < 1e-12);
    double lo = 1e9, hi = -1;
    for (int64_t i = 0; i < e.n; i++) {
        lo = e.w[i] < lo ? e.w[i] : lo;
        hi = e.w[i] > hi ? e.w[i] : hi;
    }
    assert_true(lo == 0.14077951 && hi == 1.0180334); /* awk min/max of column 3 */
    sn_edges_free(&e);
    assert_int_equal(sn_read_edges(data("ppi/pinnacle_global_ppi_edgelist.txt.gz"), &e), 0);
    assert_int_equal(e.n, 207641);
    assert_false(e.weighted);
    assert_string_equal(e.a[0], "FLNC");
    assert_string_equal(e.b[0], "MAP2K4");
    assert_string_equal(e.b[e.n - 1], "CFAP45");
    assert_true(e.w[5] == 1.0);
    sn_edges_free(&e);
}

static void test_edge_formats(void **st)
{
    (void)st;
    sn_edges e;
    const char *p = put("e1.csv", "# scnet PPI\ng1_symbol,g2_symbol,conn\nA,B,0.5\n\n\"C\",D,2\n");
    assert_int_equal(sn_read_edges(p, &e), 0);
    assert_int_equal(e.n, 2);
    assert_true(e.weighted && e.w[1] == 2.0);
    assert_string_equal(e.a[1], "C");
    sn_edges_free(&e);
    p = put_gz("e2.txt.gz", "protein1 protein2\nA  B\nB\tC\n", 0);
    assert_int_equal(sn_read_edges(p, &e), 0);
    assert_int_equal(e.n, 2);
    assert_false(e.weighted);
    assert_string_equal(e.b[1], "C");
    sn_edges_free(&e);
    p = put("e3.tsv", "A\tB\tweight\nA\tC\t1e-3\n");
    assert_int_equal(sn_read_edges(p, &e), 0);
    assert_int_equal(e.n, 1);
    assert_true(e.w[0] == 1e-3);
    sn_edges_free(&e);
    expect_err(sn_read_edges(put("e4.txt", "A\nB\n"), &e), "e4.txt:1: one field; an edge needs two node names");
    assert_null(e.a);
    expect_err(sn_read_edges(put("e5.txt", "A B 1\nC D x\n"), &e), "e5.txt:2: weight 'x' is not a number");
    expect_err(sn_read_edges(put("e6.txt", "A B 1\nC D\n"), &e), "e6.txt:2: no weight");
    expect_err(sn_read_edges(put("e7.txt", "A B -1\n"), &e), "e7.txt:1: weight '-1' is negative");
    expect_err(sn_read_edges(put("e7b.txt", "A B 1\nC D 1.7e308\n"), &e),
               "e7b.txt:2: weight '1.7e308' is over float32's range");
    expect_err(sn_read_edges(put("e8.txt", "# nothing\n"), &e), "e8.txt: no edges");
    /* fields after the weight: read, and said once */
    p = put("e9.tsv", "A\tB\t0.5\tx\nB\tC\t0.25\ty\tz\n");
    capture_start();
    assert_int_equal(sn_read_edges(p, &e), 0);
    const char *said = capture_end();
    assert_non_null(strstr(said, "e9.tsv: lines with more than three fields"));
    assert_null(strstr(strstr(said, "more than three") + 1, "more than three"));
    assert_int_equal(e.n, 2);
    assert_true(e.w[1] == 0.25);
    sn_edges_free(&e);
}

static void test_gmt(void **st)
{
    (void)st;
    sn_gmt g;
    assert_int_equal(sn_read_gmt(data("genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz"), &g), 0);
    assert_int_equal(g.n, 186);
    assert_string_equal(g.name[0], "glycolysis_gluconeogenesis");
    assert_non_null(strstr(g.desc[0], "KEGG_GLYCOLYSIS_GLUCONEOGENESIS"));
    assert_int_equal(g.size[0], 62);
    assert_string_equal(g.genes[0][0], "ACSS2");
    assert_string_equal(g.genes[0][61], "GPI");
    int64_t m = 0;
    for (int64_t i = 0; i < g.n; i++)
        m += g.size[i];
    assert_int_equal(m, 12783);
    sn_gmt_free(&g);
    assert_int_equal(sn_read_gmt(data("genesets/wikipathways_human_symbol.gmt.gz"), &g), 0);
    assert_int_equal(g.n, 457);
    sn_gmt_free(&g);
    const char *p = put("s.gmt", "S1\tdesc one\tA\t\tB\t\nS2\t\tC\n");
    assert_int_equal(sn_read_gmt(p, &g), 0);
    assert_int_equal(g.size[0], 2);
    assert_string_equal(g.genes[0][1], "B");
    assert_string_equal(g.desc[1], "");
    sn_gmt_free(&g);
    /* a set of no genes, whether a tab ends the line or not */
    assert_int_equal(sn_read_gmt(put("e.gmt", "S1\td\tA\nS2\tno genes\nS3\tno genes\t\n"), &g), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.size[1], 0);
    assert_int_equal(g.size[2], 0);
    assert_string_equal(g.desc[1], "no genes");
    assert_string_equal(g.desc[2], "no genes");
    sn_gmt_free(&g);
    expect_err(sn_read_gmt(put("bad.gmt", "S1\td\tA\nS2 d A\n"), &g),
               "bad.gmt:2: no tab; a gene set needs NAME, DESCRIPTION and its genes, tab-separated");
    assert_null(g.name);
}

static void test_genes_and_mapping(void **st)
{
    (void)st;
    char **k, **v;
    int64_t n;
    assert_int_equal(sn_read_mapping(data("annotation/human_GRCh38-2024-A_10x_features.tsv.gz"), &k, &v, &n), 0);
    assert_int_equal(n, 38606);
    assert_string_equal(k[0], "ENSG00000290825");
    assert_string_equal(v[0], "DDX11L2");
    assert_string_equal(v[2], "FAM138A");
    assert_string_equal(k[n - 1], "ENSG00000277196");
    sn_free_strings(k, n);
    sn_free_strings(v, n);
    assert_int_equal(sn_read_mapping(data("annotation/mouse_mm10-3.0.0_10x_features.tsv.gz"), &k, &v, &n), 0);
    assert_int_equal(n, 31053);
    sn_free_strings(k, n);
    sn_free_strings(v, n);
    expect_err(sn_read_mapping(put("map.csv", "a,b\nc\n"), &k, &v, &n), "map.csv:2: one field");

    char **g;
    const char *p = put("genes.txt", "# markers\nCD3E\nMS4A1, CD14 # B cells, monocytes\n\n  \"LYZ\"\tNKG7\n");
    assert_int_equal(sn_read_genes(p, &g, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(g[0], "CD3E");
    assert_string_equal(g[2], "CD14");
    assert_string_equal(g[3], "LYZ");
    assert_string_equal(g[4], "NKG7");
    sn_free_strings(g, n);
    expect_err(sn_read_genes(put("none.txt", "# empty\n"), &g, &n), "none.txt: no gene names");
}

int main(void)
{
    sn_log_setup("test_read", SN_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pbmc3k),         cmocka_unit_test(test_csv_counts),
        cmocka_unit_test(test_csv_values),     cmocka_unit_test(test_csv_layouts),
        cmocka_unit_test(test_csv_errors),     cmocka_unit_test(test_mtx_features),
        cmocka_unit_test(test_mtx_errors),     cmocka_unit_test(test_10x_h5_v3),
        cmocka_unit_test(test_10x_h5_v2),      cmocka_unit_test(test_10x_h5_errors),
        cmocka_unit_test(test_metadata_join),  cmocka_unit_test(test_metadata_partial),
        cmocka_unit_test(test_ppi),            cmocka_unit_test(test_edge_formats), cmocka_unit_test(test_check_expr),
        cmocka_unit_test(test_gmt),            cmocka_unit_test(test_genes_and_mapping),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
