/* PPI alignment rules (MODEL.md §1.3): cut-off, duplicates, self-loops,
 * expression filter, isolated genes, mouse recasing, id mapping and the
 * too-few-genes message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scnet/err.h"
#include "scnet/mem.h"
#include "scnet/ppi.h"
#include "scnet/read.h"

static sn_edges make_edges(const char *const *a, const char *const *b, const double *w, int64_t n, int weighted)
{
    /* names only, no node numbers: the alignment numbers them itself */
    sn_edges e = {.n = n, .a = calloc((size_t)n, sizeof(char *)), .b = calloc((size_t)n, sizeof(char *)),
                  .w = calloc((size_t)n, sizeof(double)), .weighted = weighted};
    for (int64_t i = 0; i < n; i++) {
        e.a[i] = strdup(a[i]);
        e.b[i] = strdup(b[i]);
        e.w[i] = weighted ? w[i] : 1;
    }
    return e;
}

static void free_edges(sn_edges *e)
{
    for (int64_t i = 0; i < e->n; i++)
        free(e->a[i]), free(e->b[i]);
    free(e->a), free(e->b), free(e->w);
}

static const char *EA[] = {"A", "A", "B", "C", "A", "B", "C", "G"};
static const char *EB[] = {"B", "B", "A", "C", "D", "E", "F", "H"};
static const double EW[] = {0.9, 0.9, 0.7, 0.8, 0.3, 0.6, 0.95, 0.55};
static char *GENES[] = {"H", "B", "X", "A", "C", "F", "G"};
static const int64_t NCELLS[] = {5, 9, 4, 3, 8, 0, 2};

/* One pair listed 100 times (both ways, weights cycling through 7 values,
 * some below the cut-off) among other rows: the duplicates are the rows
 * repeating an earlier row's ends and weight, and the pair keeps its
 * largest weight. */
static void test_repeated_pair(void **st)
{
    (void)st;
    enum { REP = 100, N = REP + 2 };
    const char *a[N], *b[N];
    double w[N];
    for (int i = 0; i < REP; i++) {
        a[i] = i % 3 ? "A" : "B";
        b[i] = i % 3 ? "B" : "A";
        w[i] = 0.4 + 0.1 * (i % 7); /* 0.4 ... 1.0 */
    }
    a[REP] = "B", b[REP] = "C", w[REP] = 0.6;
    a[REP + 1] = "C", b[REP + 1] = "B", w[REP + 1] = 0.6; /* reversed: not a duplicate row */
    sn_edges e = make_edges(a, b, w, N, 1);
    char *genes[] = {"A", "B", "C"};
    int64_t ncells[] = {1, 1, 1};
    sn_ppi_opts o;
    sn_ppi_defaults(&o);
    o.min_genes = 1;
    sn_ppi p;
    assert_int_equal(sn_ppi_align(&e, genes, 3, ncells, 10, &o, &p), 0);
    int below = 0, distinct = 0; /* by a plain scan over the earlier rows */
    for (int i = 0; i < REP; i++) {
        int repeat = 0;
        for (int j = 0; j < i && !repeat; j++)
            repeat = !strcmp(a[j], a[i]) && w[j] == w[i];
        below += w[i] < 0.5;
        distinct += w[i] >= 0.5 && !repeat;
    }
    assert_int_equal(p.edges_below, below);
    assert_int_equal(p.edges_duplicate, REP - below - distinct);
    assert_int_equal(p.edges_kept, 2);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.adj.indptr[1], 1); /* A: B only */
    assert_true(p.adj.data[0] == 1.0f);  /* the largest of A-B's weights */
    sn_ppi_free(&p);
    free_edges(&e);
}

static void test_align_rules(void **st)
{
    (void)st;
    sn_edges e = make_edges(EA, EB, EW, 8, 1);
    sn_ppi_opts o;
    sn_ppi_defaults(&o);
    o.min_genes = 1;
    sn_ppi p;
    assert_int_equal(sn_ppi_align(&e, GENES, 7, NCELLS, 10, &o, &p), 0);
    assert_int_equal(p.edges_read, 8);
    assert_int_equal(p.edges_below, 1);     /* A-D 0.3 */
    assert_int_equal(p.edges_duplicate, 1); /* the second A-B 0.9 */
    assert_int_equal(p.edges_self, 1);      /* C-C */
    assert_int_equal(p.ppi_nodes, 7);       /* A B C E F G H (D only below the cut-off) */
    assert_int_equal(p.genes_matched, 6);   /* all but X */
    assert_int_equal(p.genes_unexpressed, 1); /* F */
    assert_int_equal(p.genes_isolated, 1);    /* C: its only partners are itself and F */
    assert_int_equal(p.n, 4);
    int64_t want[] = {0, 1, 3, 6}; /* H B A G in the data's order */
    for (int i = 0; i < 4; i++)
        assert_int_equal(p.genes[i], want[i]);
    assert_int_equal(p.edges_kept, 2);
    /* H-G 0.55 and B-A (0.9 and the reversed 0.7 merged: the larger) */
    assert_int_equal(p.adj.indptr[4], 4);
    assert_int_equal(p.adj.indices[0], 3);
    assert_true(p.adj.data[0] == 0.55f);
    assert_int_equal(p.adj.indices[1], 2);
    assert_true(p.adj.data[1] == 0.9f);
    assert_int_equal(p.adj.indices[2], 1);
    assert_int_equal(p.adj.indices[3], 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(p.degree[i], 1);
    sn_ppi_free(&p);
    /* a stricter expression filter: > 0.45 × 10 cells drops A (3) and G (2) */
    o.min_expr_frac = 0.45;
    assert_int_equal(sn_ppi_align(&e, GENES, 7, NCELLS, 10, &o, &p), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "only 0 genes"));
    free_edges(&e);
}

static void test_unweighted(void **st)
{
    (void)st;
    sn_edges e = make_edges(EA, EB, EW, 8, 0);
    sn_ppi_opts o;
    sn_ppi_defaults(&o);
    o.min_genes = 1;
    sn_ppi p;
    assert_int_equal(sn_ppi_align(&e, GENES, 7, NCELLS, 10, &o, &p), 0);
    assert_int_equal(p.edges_below, 0); /* no weights, no cut-off */
    assert_int_equal(p.n, 4);
    for (int64_t k = 0; k < sn_csr_nnz(&p.adj); k++)
        assert_true(p.adj.data[k] == 1.0f);
    sn_ppi_free(&p);
    free_edges(&e);
}

static void test_mouse_and_too_few(void **st)
{
    (void)st;
    const char *a[] = {"TP53", "MDM2", "CDKN1A"}, *b[] = {"MDM2", "CDKN1A", "TP53"};
    double w[] = {1, 1, 1};
    sn_edges e = make_edges(a, b, w, 3, 1);
    char *genes[] = {"Tp53", "Mdm2", "Gapdh", "Cdkn1a"};
    int64_t nc[] = {3, 3, 3, 3};
    sn_ppi_opts o;
    sn_ppi_defaults(&o);
    sn_ppi p;
    assert_int_equal(sn_ppi_align(&e, genes, 4, nc, 3, &o, &p), SN_EINVAL);
    const char *msg = sn_errmsg();
    assert_non_null(strstr(msg, "only 0 genes are shared"));
    assert_non_null(strstr(msg, "need 200"));
    assert_non_null(strstr(msg, "data genes not in the network: Tp53, Mdm2, Gapdh"));
    assert_non_null(strstr(msg, "network genes not in the data: TP53, MDM2, CDKN1A"));
    assert_non_null(strstr(msg, "letter case"));
    o.mouse = 1;
    o.min_genes = 3;
    assert_int_equal(sn_ppi_align(&e, genes, 4, nc, 3, &o, &p), 0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.genes[2], 3);
    assert_int_equal(p.edges_kept, 3);
    sn_ppi_free(&p);
    free_edges(&e);
    char s[] = "MAP2K4";
    sn_ppi_recase_mouse(s);
    assert_string_equal(s, "Map2k4");
}

static void test_ids(void **st)
{
    (void)st;
    char *names[] = {"ENSG00000141510", "ENSG00000135679.12", "ENSMUSG00000059552", "ENSG00000999999", "TP53"};
    assert_true(sn_ppi_names_are_ids(names, 5));
    assert_false(sn_ppi_names_are_ids(names + 4, 1));
    /* chicken gene ids: a species code holding a G before the kind's G */
    char *gal[] = {"ENSGALG00000000003", "ENSGALG00000000011.6"};
    assert_true(sn_ppi_names_are_ids(gal, 2));
    char *transcripts[] = {"ENST00000269305", "ENST00000445888.6"};
    assert_false(sn_ppi_names_are_ids(transcripts, 2));
    static const struct {
        const char *s;
        size_t len;
        char type;
    } ens[] = {{"ENSG00000010610.12", 15, 'G'}, {"ENSMUSG00000000001", 18, 'G'}, {"ENST00000269305.9", 15, 'T'},
               {"ENSGALG00000000011.6", 18, 'G'}, {"AC012345.1", 0, 0}, {"ENSG123456", 10, 'G'},
               {"ENSG12345", 0, 0}, {"ENSG00000010610.", 0, 0}, {"ENSG00000010610.1a", 0, 0},
               {"ENS00000010610", 0, 0}, {"ENSG00000010610x", 0, 0}};
    for (size_t i = 0; i < sizeof ens / sizeof *ens; i++) {
        char type = 0;
        assert_int_equal(sn_ppi_ensembl_len(ens[i].s, &type), ens[i].len);
        if (ens[i].len)
            assert_int_equal(type, ens[i].type);
    }
    char *keys[] = {"ENSG00000141510", "ENSG00000135679", "ENSMUSG00000059552"};
    char *vals[] = {"TP53", "MDM2", "Trp53"};
    char **sym;
    int64_t mapped;
    assert_int_equal(sn_ppi_map_ids(names, 5, keys, vals, 3, &sym, &mapped), 0);
    assert_int_equal(mapped, 3);
    assert_string_equal(sym[0], "TP53");
    assert_string_equal(sym[1], "MDM2"); /* version suffix dropped */
    assert_string_equal(sym[2], "Trp53");
    assert_null(sym[3]);
    assert_null(sym[4]);
    sn_free_strings(sym, 5);
    /* a table of versioned ids (GENCODE) for data with and without versions;
     * a suffix that is not a version (RP11-1.2_PAR) is not one */
    char *data[] = {"ENSG00000141510", "ENSG00000135679.9", "ENSG00000100001", "RP11-1"};
    char *vkeys[] = {"ENSG00000141510.17", "ENSG00000135679.12", "ENSG00000100001.3_PAR_Y", "RP11-1.x"};
    char *vvals[] = {"TP53", "MDM2", "PARX", "RPX"};
    assert_int_equal(sn_ppi_map_ids(data, 4, vkeys, vvals, 4, &sym, &mapped), 0);
    assert_int_equal(mapped, 2);
    assert_string_equal(sym[0], "TP53");
    assert_string_equal(sym[1], "MDM2");
    assert_null(sym[2]);
    assert_null(sym[3]);
    sn_free_strings(sym, 4);
    /* the hint for id-named data */
    const char *a[] = {"TP53"}, *b[] = {"MDM2"};
    double w[] = {1};
    sn_edges e = make_edges(a, b, w, 1, 0);
    int64_t nc[] = {1, 1, 1, 1, 1};
    sn_ppi_opts o;
    sn_ppi_defaults(&o);
    sn_ppi p;
    assert_int_equal(sn_ppi_align(&e, names, 5, nc, 2, &o, &p), SN_EINVAL);
    assert_non_null(strstr(sn_errmsg(), "Ensembl ids"));
    free_edges(&e);
}

/* The same network read from a file (node numbers from the reader) and
 * given as bare names: the same alignment, mouse recasing (which merges
 * TP53 and Tp53), duplicates and self-loops included. */
static void test_reader_numbers(void **st)
{
    (void)st;
    const char *a[] = {"TP53", "Tp53", "MDM2", "TP53", "CDKN1A", "MDM2", "Mdm2", "GAPDH", "EGFR"};
    const char *b[] = {"MDM2", "Mdm2", "CDKN1A", "MDM2", "CDKN1A", "TP53", "MDM2", "EGFR", "GAPDH"};
    double w[] = {0.9, 0.9, 0.6, 0.9, 0.7, 0.8, 0.75, 0.55, 0.65};
    const char *dir = getenv("TEST_TMP") ? getenv("TEST_TMP") : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/ppi_reader_numbers.tsv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int r = 0; r < 9; r++)
        fprintf(fp, "%s\t%s\t%.17g\n", a[r], b[r], w[r]);
    fclose(fp);
    sn_edges rd, nm = make_edges(a, b, w, 9, 1);
    assert_int_equal(sn_read_edges(path, &rd), 0);
    assert_int_equal(rd.nnodes, 7);
    assert_string_equal(rd.a[6], "Mdm2");
    char *genes[] = {"Tp53", "Mdm2", "Gapdh", "Cdkn1a", "Egfr", "TP53", "MDM2", "GAPDH", "CDKN1A", "EGFR"};
    int64_t nc[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
    for (int mouse = 0; mouse < 2; mouse++) {
        sn_ppi_opts o;
        sn_ppi_defaults(&o);
        o.mouse = mouse;
        o.min_genes = 2;
        sn_ppi p, q;
        assert_int_equal(sn_ppi_align(&rd, genes, 10, nc, 3, &o, &p), 0);
        assert_int_equal(sn_ppi_align(&nm, genes, 10, nc, 3, &o, &q), 0);
        assert_int_equal(p.n, q.n);
        assert_int_equal(p.n, mouse ? 5 : 7);
        assert_memory_equal(p.genes, q.genes, (size_t)p.n * sizeof *p.genes);
        assert_int_equal(p.edges_duplicate, q.edges_duplicate);
        assert_int_equal(p.edges_duplicate, mouse ? 2 : 1);
        assert_int_equal(p.edges_self, mouse ? 2 : 1);
        assert_int_equal(p.ppi_nodes, mouse ? 5 : 7);
        assert_int_equal(p.genes_matched, q.genes_matched);
        assert_int_equal(p.genes_matched, mouse ? 5 : 7);
        assert_int_equal(p.edges_kept, q.edges_kept);
        assert_memory_equal(p.adj.indices, q.adj.indices, (size_t)sn_csr_nnz(&p.adj) * sizeof(int32_t));
        assert_memory_equal(p.adj.data, q.adj.data, (size_t)sn_csr_nnz(&p.adj) * sizeof(float));
        sn_ppi_free(&p);
        sn_ppi_free(&q);
    }
    sn_edges_free(&rd);
    free_edges(&nm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_align_rules),
        cmocka_unit_test(test_repeated_pair),
        cmocka_unit_test(test_unweighted),
        cmocka_unit_test(test_mouse_and_too_few),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_reader_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
