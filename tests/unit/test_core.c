/* Unit tests of the core helpers: errors, strings, tables, text, RNG. */
#include <fcntl.h>
#include <omp.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "scnet/cli.h"
#include "scnet/err.h"
#include "scnet/file.h"
#include "scnet/frame.h"
#include "scnet/mat.h"
#include "scnet/mem.h"
#include "scnet/philox.h"
#include "scnet/strmap.h"
#include "scnet/text.h"

static void test_err_prefix(void **st)
{
    (void)st;
    assert_int_equal(sn_err(SN_EFMT, "dataset '%s' is missing", "X"), SN_EFMT);
    assert_int_equal(sn_err_prefix(SN_EFMT, "%s: ", "a.h5ad"), SN_EFMT);
    assert_string_equal(sn_errmsg(), "a.h5ad: dataset 'X' is missing");
}

static void test_oom_message(void **st)
{
    (void)st;
    void *p = sn_malloc(SIZE_MAX, "the gene weights");
    assert_null(p);
    assert_non_null(strstr(sn_errmsg(), "out of memory"));
    assert_non_null(strstr(sn_errmsg(), "the gene weights"));
    p = sn_calloc((size_t)1 << 62, 16, "x");
    assert_null(p);
}

static void test_strmap(void **st)
{
    (void)st;
    sn_strmap m;
    char keys[1000][16];
    assert_int_equal(sn_strmap_init(&m, 4), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], 16, "g%d", i);
        assert_int_equal(sn_strmap_put(&m, keys[i], i, NULL), 1);
    }
    int64_t old = -1;
    assert_int_equal(sn_strmap_put(&m, "g7", 99, &old), 0);
    assert_int_equal(old, 7);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sn_strmap_get(&m, keys[i]), i);
    assert_int_equal(sn_strmap_get(&m, "nope"), -1);
    assert_int_equal(sn_strmap_set(&m, "g7", 70), 0);
    assert_int_equal(sn_strmap_get(&m, "g7"), 70);
    sn_strmap_free(&m);
    /* an index: repeated labels lead to their first row, and are counted */
    char *labels[] = {"A", "B", "A", "C", "B", "A"};
    int64_t ndup, first;
    assert_int_equal(sn_strmap_index(&m, labels, 6, &ndup, &first), 0);
    assert_int_equal(ndup, 3);
    assert_int_equal(first, 2);
    assert_int_equal(sn_strmap_get(&m, "A"), 0);
    assert_int_equal(sn_strmap_get(&m, "B"), 1);
    assert_int_equal(sn_strmap_get(&m, "C"), 3);
    sn_strmap_free(&m);
    assert_int_equal(sn_strmap_index(&m, labels, 2, &ndup, &first), 0);
    assert_true(ndup == 0 && first == -1);
    sn_strmap_free(&m);
}

static void test_make_unique(void **st)
{
    (void)st;
    const char *in[] = {"A", "B", "A", "A", "A-1", "C"};
    char *l[6];
    for (int i = 0; i < 6; i++)
        l[i] = strdup(in[i]);
    assert_int_equal(sn_index_first_dup(l, 6), 2);
    assert_int_equal(sn_index_make_unique(l, 6), 0);
    assert_int_equal(sn_index_first_dup(l, 6), -1);
    assert_string_equal(l[0], "A");
    assert_string_equal(l[2], "A-2"); /* "A-1" is taken by row 4 */
    assert_string_equal(l[3], "A-3");
    for (int i = 0; i < 6; i++)
        free(l[i]);
}

static void test_categorical_subset(void **st)
{
    (void)st;
    char *vals[] = {"b", "a", "b", "c"};
    sn_frame f, g;
    sn_col c;
    sn_frame_init(&f, 4);
    assert_int_equal(sn_col_categorical(&c, "label", vals, 4), 0);
    assert_int_equal(c.ncat, 3);
    assert_string_equal(c.cats[0], "a");
    assert_int_equal(c.v.codes[0], 1);
    assert_int_equal(sn_frame_put(&f, &c), 0);
    int64_t keep[] = {3, 0};
    assert_int_equal(sn_frame_subset(&f, keep, 2, &g), 0);
    char buf[32];
    assert_string_equal(sn_col_str(sn_frame_get(&g, "label"), 0, buf, 32), "c");
    assert_string_equal(sn_col_str(sn_frame_get(&g, "label"), 1, buf, 32), "b");
    sn_col bad;
    assert_int_equal(sn_col_new(&bad, "x", SN_COL_F64, 3), 0);
    assert_int_equal(sn_frame_put(&f, &bad), SN_EINVAL);
    sn_col_free(&bad);
    sn_frame_free(&f);
    sn_frame_free(&g);
}

static void test_split(void **st)
{
    (void)st;
    char line[] = "\"ENSG1\",1,\"a,\"\"b\"\"\",,4";
    char *f[8];
    assert_int_equal(sn_split(line, ',', f, 8), 5);
    assert_string_equal(f[0], "ENSG1");
    assert_string_equal(f[2], "a,\"b\"");
    assert_string_equal(f[3], "");
    char sp[] = "  A   B\tC  ";
    assert_int_equal(sn_split(sp, ' ', f, 8), 3);
    assert_string_equal(f[2], "C");
    char bad[] = "\"open,1";
    assert_int_equal(sn_split(bad, ',', f, 8), SN_EFMT);
    double d;
    assert_int_equal(sn_parse_double("nan", &d), SN_EFMT);
    assert_int_equal(sn_parse_double("1e3", &d), 0);
    assert_true(d == 1000.0);
    assert_int_equal(sn_parse_double("0x10", &d), SN_EFMT);
    assert_int_equal(sn_parse_double(" -0X1p3", &d), SN_EFMT);
    assert_int_equal(sn_parse_double("\t0x10", &d), SN_EFMT);
    assert_int_equal(sn_parse_double("\t2.5 ", &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(sn_parse_double("-0.5", &d), 0);
    assert_true(d == -0.5);
}

/* sn_strtod's fast path for plain decimals gives strtod's value bit for
 * bit and stops where strtod stops, on short and long, signed, padded and
 * trailing-text numbers alike (the long ones, the exponents and the words
 * going through strtod itself). */
static void test_strtod_as_libc(void **st)
{
    (void)st;
    static const char *fixed[] = {"0",       "-0",         "+.5",     "5.",       ".",        "-",          "1.2.3",
                                  "0.1",     "0.3",        "2.675",   "1e5",      "1E",       "5x",         "007.50",
                                  "0.000000000000000000001",   "0.00000000000000000000001", "123456789012345",
                                  "1234567890123456",          "0.12345678901234567",       "9007199254740993",
                                  "inf",     "-nan",       "  4.25",  "3.14159\t", "999999999999999.9"};
    uint64_t x = 88172645463325252ULL;
    char buf[64];
    for (int t = 0; t < 200000; t++) {
        const char *s = buf;
        if (t < (int)(sizeof fixed / sizeof *fixed)) {
            s = fixed[t];
        } else { /* digits, a point somewhere, a sign now and then */
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int n = 1 + (int)(x % 24), dot = (int)((x >> 8) % (unsigned)(n + 2)), k = 0;
            if ((x >> 20) % 4 == 0)
                buf[k++] = '-';
            for (int i = 0; i < n; i++) {
                if (i == dot)
                    buf[k++] = '.';
                buf[k++] = (char)('0' + (x >> (24 + 2 * (i % 16))) % 10);
            }
            buf[k] = 0;
        }
        char *e1, *e2;
        double a = sn_strtod(s, &e1), b = strtod(s, &e2);
        if (memcmp(&a, &b, sizeof a) != 0 && !(isnan(a) && isnan(b)))
            fail_msg("sn_strtod(\"%s\") = %.17g, strtod %.17g", s, a, b);
        if (e1 != e2)
            fail_msg("sn_strtod(\"%s\") stops at %td, strtod at %td", s, e1 - s, e2 - s);
    }
}

static void write_gz(const char *path, const char *text, size_t cut)
{
    gzFile g = gzopen(path, "wb");
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
    if (cut) {
        FILE *fp = fopen(path, "rb");
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        fp = fopen(path, "wb");
        fwrite(buf, 1, n - cut, fp);
        fclose(fp);
    }
}

static void test_text_gzip(void **st)
{
    (void)st;
    char path[] = "/tmp/sn_text_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char big[3000];
    for (int i = 0; i < 299; i++)
        memcpy(big + 10 * i, "line xxxx\n", 10);
    big[2990] = 0;
    write_gz(path, big, 0);
    sn_text *t;
    char *line;
    size_t len;
    int n = 0, r;
    assert_int_equal(sn_text_open(path, &t), 0);
    while ((r = sn_text_getline(t, &line, &len)) == 1) {
        assert_int_equal(len, 9);
        n++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(n, 299);
    sn_text_close(t);
    write_gz(path, big, 12); /* cut the trailer and some data */
    assert_int_equal(sn_text_open(path, &t), 0);
    while ((r = sn_text_getline(t, &line, &len)) == 1)
        ;
    assert_int_equal(r, SN_EFMT);
    assert_non_null(strstr(sn_errmsg(), "truncated"));
    sn_text_close(t);
    unlink(path);
}

static void test_philox_known_answer(void **st)
{
    (void)st;
    /* Random123 known-answer vectors for philox4x32_10. */
    sn_u32x4 r = sn_philox(0, 0, 0);
    assert_int_equal(r.v[0], 0x6627e8d5);
    assert_int_equal(r.v[1], 0xe169c58d);
    assert_int_equal(r.v[2], 0xbc57ac4c);
    assert_int_equal(r.v[3], 0x9b00dbd8);
    r = sn_philox(0x299f31d0a4093822ULL, 0x0370734413198a2eULL, 0x85a308d3243f6a88ULL);
    assert_int_equal(r.v[0], 0xd16cfe09);
    assert_int_equal(r.v[1], 0x94fdcceb);
    assert_int_equal(r.v[2], 0x5001e420);
    assert_int_equal(r.v[3], 0x24126ea1);
    sn_rng g;
    sn_rng_init(&g, 42, 7);
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++)
        hist[sn_rng_below(&g, 10)]++;
    for (int i = 0; i < 10; i++)
        assert_in_range(hist[i], 9500, 10500);
}

static void test_atomic_output(void **st)
{
    (void)st;
    char dir[] = "/tmp/sn_out_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.tsv", dir);
    FILE *fp = fopen(path, "w");
    fputs("previous\n", fp);
    fclose(fp);
    sn_out *o;
    assert_int_equal(sn_out_open(path, 0, &o), 0);
    fputs("new content\n", sn_out_fp(o));
    sn_out_abort(o); /* a failed run */
    char buf[64] = "";
    fp = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "previous\n");
    assert_int_equal(sn_out_open(path, 0, &o), 0);
    fputs("new content\n", sn_out_fp(o));
    assert_int_equal(sn_out_commit(o), 0);
    fp = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof buf, fp));
    fclose(fp);
    assert_string_equal(buf, "new content\n");
    unlink(path);
    assert_int_equal(sn_out_open("/nonexistent-dir/x", 0, &o), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "/nonexistent-dir/x"));
    rmdir(dir);
}

/* Paths that name one file, however spelled; streams never match. */
static void test_file_same(void **st)
{
    (void)st;
    char dir[] = "/tmp/sn_same_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], dot[256], sym[256], hard[256], other[256], fresh[256], fresh2[256], sub[256];
    snprintf(a, sizeof a, "%s/a.h5ad", dir);
    snprintf(dot, sizeof dot, "%s/./a.h5ad", dir);
    snprintf(sym, sizeof sym, "%s/link.h5ad", dir);
    snprintf(hard, sizeof hard, "%s/hard.h5ad", dir);
    snprintf(other, sizeof other, "%s/b.h5ad", dir);
    snprintf(fresh, sizeof fresh, "%s/new.tsv", dir);
    snprintf(sub, sizeof sub, "%s/d", dir);
    snprintf(fresh2, sizeof fresh2, "%s/d/../new.tsv", dir);
    FILE *fp = fopen(a, "w");
    fclose(fp);
    fp = fopen(other, "w");
    fclose(fp);
    assert_int_equal(symlink(a, sym), 0);
    assert_int_equal(link(a, hard), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_true(sn_file_same(a, 0, a, 1));
    assert_true(sn_file_same(a, 0, dot, 1));
    assert_true(sn_file_same(a, 0, sym, 1));
    assert_true(sn_file_same(hard, 1, sym, 1));
    assert_false(sn_file_same(a, 0, other, 1));
    assert_true(sn_file_same(fresh, 1, fresh2, 1)); /* two outputs, neither there yet */
    assert_false(sn_file_same(fresh, 0, fresh2, 1)); /* an input not there: nothing to overwrite */
    assert_false(sn_file_same(fresh, 1, a, 1));
    assert_false(sn_file_same("/dev/null", 1, "/dev/null", 1));
    assert_false(sn_file_same(sub, 0, sub, 1));
    /* "-" as an input is standard input: here the file a */
    int saved = dup(STDIN_FILENO), fd = open(a, O_RDONLY);
    assert_true(saved >= 0 && fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    assert_true(sn_file_same("-", 0, a, 1));
    assert_false(sn_file_same("-", 0, other, 1));
    assert_false(sn_file_same("-", 1, a, 1)); /* standard output is not a */
    assert_true(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
    close(fd);
    close(saved);
    /* what sn_out_open would refuse, found up front */
    assert_int_equal(sn_out_check(fresh, 0), SN_OK);
    assert_int_equal(sn_out_check(a, 0), SN_OK);
    assert_int_equal(sn_out_check("-", 0), SN_OK);
    assert_int_equal(sn_out_check(sub, 0), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "is a directory"));
    snprintf(fresh2, sizeof fresh2, "%s/none/x.tsv", dir);
    assert_int_equal(sn_out_check(fresh2, 0), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "none/x.tsv: cannot create output: No such file"));
    snprintf(fresh2, sizeof fresh2, "%s/b.h5ad/x.tsv", dir);
    assert_int_equal(sn_out_check(fresh2, 0), SN_EIO);
    assert_non_null(strstr(sn_errmsg(), "Not a directory"));
    if (sn_is_dir("/proc/self")) { /* a directory where no file can be made, even by root */
        assert_int_equal(sn_out_check("/proc/scnet-test.h5ad", 0), SN_EIO);
        assert_non_null(strstr(sn_errmsg(), "/proc/scnet-test.h5ad: cannot create output"));
    }
    assert_int_equal(sn_out_check("/dev/null", 0), SN_OK);
    assert_int_equal(sn_out_check("/dev/null", 1), SN_OK); /* binary, but not a terminal */
    unlink(a), unlink(sym), unlink(hard), unlink(other), rmdir(sub), rmdir(dir);
}

/* The rules a run's files follow, on the library call every program makes. */
static void test_cli_files(void **st)
{
    (void)st;
    char dir[] = "/tmp/sn_files_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[256], out[256], tsv[256];
    snprintf(in, sizeof in, "%s/in.h5ad", dir);
    snprintf(out, sizeof out, "%s/out.h5ad", dir);
    snprintf(tsv, sizeof tsv, "%s/t.tsv", dir);
    FILE *fp = fopen(in, "w");
    fclose(fp);
    sn_cli c;
    memset(&c, 0, sizeof c);
    /* -o may replace the input of its pair; --tsv may not */
    sn_cli_file ok[] = {{in, "the input", 0, 1}, {in, "-o", 1, 1}, {tsv, "--tsv", 1, 0}, {NULL, "--modules", 1, 0}};
    assert_int_equal(sn_cli_files(&c, ok, 4), SN_OK);
    assert_int_equal(c.nouts, 2);
    assert_string_equal(c.outs[0], in);
    assert_string_equal(c.outs[1], tsv);
    sn_cli_file over[] = {{in, "the input", 0, 1}, {out, "-o", 1, 1}, {in, "--tsv", 1, 0}};
    assert_int_equal(sn_cli_files(&c, over, 3), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "--tsv"));
    assert_non_null(strstr(sn_errmsg(), "would overwrite the input"));
    sn_cli_file twice[] = {{in, "the input", 0, 1}, {tsv, "--tsv", 1, 0}, {tsv, "--modules", 1, 0}};
    assert_int_equal(sn_cli_files(&c, twice, 3), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "--tsv and --modules name the same file"));
    sn_cli_file stdout2[] = {{in, "the input", 0, 1}, {"-", "-o", SN_OUT_HDF5, 1}, {"-", "--tsv", SN_OUT_TEXT, 0}};
    assert_int_equal(sn_cli_files(&c, stdout2, 3), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "both write to standard output"));
    /* the kinds are kept: an HDF5 output is never sent to a terminal */
    sn_cli_file kinds[] = {{in, "the input", 0, 1}, {out, "-o", SN_OUT_HDF5, 1}, {tsv, "--tsv", SN_OUT_TEXT, 0}};
    assert_int_equal(sn_cli_files(&c, kinds, 3), SN_OK);
    assert_true(c.nouts == 2 && c.out_binary[0] == 1 && c.out_binary[1] == 0);
    sn_cli_file stdin2[] = {{"-", "the input", 0, 1}, {"-", "--diff", 0, 0}, {out, "-o", 1, 1}};
    assert_int_equal(sn_cli_files(&c, stdin2, 3), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "both read standard input"));
    sn_cli_file empty[] = {{in, "the input", 0, 1}, {"", "--tsv", 1, 0}};
    assert_int_equal(sn_cli_files(&c, empty, 2), SN_EUSAGE);
    assert_non_null(strstr(sn_errmsg(), "--tsv: empty file name"));
    /* an input that is not there is the reader's to report */
    sn_cli_file missing[] = {{out, "the input", 0, 0}, {out, "-o", 1, 0}};
    assert_int_equal(sn_cli_files(&c, missing, 2), SN_OK);
    unlink(in);
    rmdir(dir);
}

/* Every thread of the pool gets an alternate signal stack of its own. */
static void test_thread_stacks(void **st)
{
    (void)st;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    omp_set_num_threads(4);
    assert_int_equal(sn_file_thread_stacks(), 1);
    void *sp[4] = {0};
    int flags[4] = {0}, n = 0;
#pragma omp parallel
    {
        stack_t cur;
        int t = omp_get_thread_num();
        if (t < 4 && sigaltstack(NULL, &cur) == 0) {
            sp[t] = cur.ss_sp;
            flags[t] = cur.ss_flags;
        }
#pragma omp atomic
        n++;
    }
    assert_int_equal(n, 4);
    for (int t = 0; t < 4; t++) {
        assert_false(flags[t] & SS_DISABLE);
        for (int u = 0; u < t; u++)
            assert_ptr_not_equal(sp[t], sp[u]);
    }
    assert_int_equal(sn_file_thread_stacks(), 1); /* again: nothing new to do */
#endif
}

static void test_csr_ops(void **st)
{
    (void)st;
    /* [[1 0 2],[0 3 0]] */
    sn_csr a, t, s;
    assert_int_equal(sn_csr_alloc(&a, 2, 3, 3), 0);
    int64_t ip[] = {0, 2, 3};
    int32_t ix[] = {0, 2, 1};
    float v[] = {1, 2, 3};
    memcpy(a.indptr, ip, sizeof ip);
    memcpy(a.indices, ix, sizeof ix);
    memcpy(a.data, v, sizeof v);
    assert_int_equal(sn_csr_validate(&a, 1), 0);
    assert_int_equal(sn_csr_transpose(&a, &t), 0);
    assert_int_equal(t.nrow, 3);
    assert_int_equal(t.indptr[3], 3);
    assert_int_equal(t.indices[2], 0); /* row 2 of aᵀ = column 2 of a */
    assert_true(t.data[2] == 2.0f);
    int64_t rows[] = {1, 0}, cmap[] = {-1, 0, 1};
    assert_int_equal(sn_csr_subset(&a, rows, 2, cmap, 2, &s), 0);
    assert_int_equal(sn_csr_nnz(&s), 2);
    assert_true(s.data[0] == 3.0f && s.indices[0] == 0);
    assert_true(s.data[1] == 2.0f && s.indices[1] == 1);
    sn_csr_free(&s);
    assert_int_equal(sn_csr_subset(&a, NULL, 2, cmap, 2, &s), 0); /* every row, in order */
    assert_int_equal(s.nrow, 2);
    assert_true(s.indptr[1] == 1 && s.indptr[2] == 2);
    assert_true(s.data[0] == 2.0f && s.indices[0] == 1);
    assert_true(s.data[1] == 3.0f && s.indices[1] == 0);
    a.indices[1] = 5;
    assert_int_equal(sn_csr_validate(&a, 1), SN_EFMT);
    sn_csr_free(&a);
    sn_csr_free(&t);
    sn_csr_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_prefix),       cmocka_unit_test(test_oom_message),
        cmocka_unit_test(test_strmap),           cmocka_unit_test(test_make_unique),
        cmocka_unit_test(test_categorical_subset), cmocka_unit_test(test_split),
        cmocka_unit_test(test_strtod_as_libc),
        cmocka_unit_test(test_text_gzip),        cmocka_unit_test(test_philox_known_answer),
        cmocka_unit_test(test_atomic_output),    cmocka_unit_test(test_file_same),    cmocka_unit_test(test_cli_files),    cmocka_unit_test(test_csr_ops),
        cmocka_unit_test(test_thread_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
