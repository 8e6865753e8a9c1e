/* Gene networks: canonical form, conversions, modularity and communities
 * through igraph, differential networks, TSV and GraphML exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <igraph.h>

#include "scnet/graph.h"
#include "scnet/mem.h"

static char tmpdir[] = "/tmp/scnet-graph-XXXXXX";

static void build(sn_graph *g, int64_t n, const int32_t *ab, int64_t m, const double *w)
{
    assert_int_equal(sn_graph_alloc(g, n, m, w != NULL), 0);
    for (int64_t e = 0; e < m; e++) {
        g->a[e] = ab[2 * e];
        g->b[e] = ab[2 * e + 1];
        if (w)
            g->w[e] = w[e];
    }
    assert_int_equal(sn_graph_canon(g), 0);
}

/* Two triangles {0,1,2}, {3,4,5} joined by the edge 2–3. */
static const int32_t two_tri[] = {1, 0, 2, 1, 0, 2, 3, 4, 5, 4, 3, 5, 2, 3};

static void test_canon(void **st)
{
    (void)st;
    const int32_t ab[] = {3, 1, 1, 3, 2, 2, 0, 4, 1, 3};
    const double w[] = {0.5, 2.0, 9.0, 1.0, 0.7};
    sn_graph g;
    build(&g, 5, ab, 5, w);
    assert_int_equal(g.m, 2); /* self-loop dropped, 1–3 merged */
    assert_int_equal(g.a[0], 0);
    assert_int_equal(g.b[0], 4);
    assert_int_equal(g.a[1], 1);
    assert_int_equal(g.b[1], 3);
    assert_true(g.w[1] == 2.0); /* the largest weight is kept */
    sn_csr adj;
    sn_graph back;
    assert_int_equal(sn_graph_to_csr(&g, &adj), 0);
    assert_int_equal(sn_csr_validate(&adj, 1), 0);
    assert_int_equal(sn_csr_nnz(&adj), 4);
    assert_int_equal(sn_graph_from_csr(&adj, 1, &back), 0);
    assert_int_equal(back.m, 2);
    assert_memory_equal(back.a, g.a, 2 * sizeof *g.a);
    assert_memory_equal(back.b, g.b, 2 * sizeof *g.b);
    assert_true(back.w[1] == 2.0);
    int64_t deg[5];
    sn_graph_degrees(&g, deg);
    assert_int_equal(deg[0], 1);
    assert_int_equal(deg[2], 0);
    assert_int_equal(deg[3], 1);
    sn_graph_free(&back);
    sn_csr_free(&adj);
    sn_graph_free(&g);
}

static void test_from_names(void **st)
{
    (void)st;
    char *a[] = {"TP53", "MDM2", "TP53", "EGFR"}, *b[] = {"MDM2", "TP53", "EGFR", "EGFR"};
    const double w[] = {0.4, 0.9, 0.3, 1.0};
    sn_graph g;
    char **names;
    assert_int_equal(sn_graph_from_names(4, a, b, w, &g, &names), 0);
    assert_int_equal(g.n, 3);
    assert_string_equal(names[0], "TP53");
    assert_string_equal(names[1], "MDM2");
    assert_string_equal(names[2], "EGFR");
    assert_int_equal(g.m, 2); /* duplicate pair merged, self-loop dropped */
    assert_true(g.w[0] == 0.9);
    int64_t map[] = {1, -1, 0};
    sn_graph s;
    assert_int_equal(sn_graph_subset(&g, map, 2, &s), 0);
    assert_int_equal(s.m, 1); /* TP53–EGFR, renumbered 0–1 */
    assert_int_equal(s.a[0], 0);
    assert_int_equal(s.b[0], 1);
    sn_graph_free(&s);
    sn_free_strings(names, g.n);
    sn_graph_free(&g);
}

static void test_modularity(void **st)
{
    (void)st;
    sn_graph g;
    build(&g, 6, two_tri, 7, NULL);
    const int64_t memb[] = {0, 0, 0, 1, 1, 1}, one[] = {0, 0, 0, 0, 0, 0};
    double q;
    assert_int_equal(sn_graph_modularity(&g, memb, 1.0, 1, &q), 0);
    assert_true(fabs(q - 5.0 / 14.0) < 1e-12); /* 2 (3/7 − (7/14)²) */
    assert_int_equal(sn_graph_modularity(&g, one, 1.0, 1, &q), 0);
    assert_true(fabs(q) < 1e-12);
    assert_int_equal(sn_graph_modularity(&g, memb, 0.5, 1, &q), 0);
    assert_true(fabs(q - 2 * (3.0 / 7 - 0.5 * 0.25)) < 1e-12);
    for (int method = 0; method < 2; method++) {
        sn_comm_opts o;
        sn_comm_opts_default(&o);
        o.method = method;
        sn_partition p;
        assert_int_equal(sn_graph_communities(&g, &o, &p), 0);
        assert_int_equal(p.n_modules, 2);
        assert_int_equal(p.n_multi, 2);
        assert_true(fabs(p.modularity - 5.0 / 14.0) < 1e-12);
        assert_int_equal(p.membership[0], p.membership[2]);
        assert_true(p.membership[0] != p.membership[3]);
        assert_int_equal(p.membership[0], 0); /* equal sizes: first node's module is 0 */
        sn_partition_free(&p);
    }
    sn_graph_free(&g);
    /* no edges: every node its own module, modularity undefined */
    sn_graph e;
    assert_int_equal(sn_graph_alloc(&e, 4, 0, 0), 0);
    sn_comm_opts o;
    sn_comm_opts_default(&o);
    sn_partition p;
    assert_int_equal(sn_graph_communities(&e, &o, &p), 0);
    assert_int_equal(p.n_modules, 4);
    assert_true(isnan(p.modularity));
    sn_partition_free(&p);
    sn_graph_free(&e);
}

/* Eight planted modules of 25 nodes, dense inside, sparse between. */
static void planted(sn_graph *g)
{
    int64_t n = 200, m = 0, cap = 20000;
    assert_int_equal(sn_graph_alloc(g, n, cap, 0), 0);
    unsigned s = 12345;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            s = s * 1103515245u + 12345u;
            double u = (double)(s >> 8) / 16777216.0;
            if (u < (i / 25 == j / 25 ? 0.5 : 0.01)) {
                g->a[m] = i;
                g->b[m++] = j;
            }
        }
    g->m = m;
}

static void test_leiden_planted(void **st)
{
    (void)st;
    sn_graph g;
    planted(&g);
    sn_comm_opts o;
    sn_comm_opts_default(&o);
    sn_partition p1, p2, p3;
    assert_int_equal(sn_graph_communities(&g, &o, &p1), 0);
    assert_int_equal(sn_graph_communities(&g, &o, &p2), 0);
    assert_memory_equal(p1.membership, p2.membership, 200 * sizeof *p1.membership);
    assert_int_equal(p1.n_modules, 8);
    for (int i = 0; i < 200; i++) /* the planted modules, whatever the labels */
        assert_int_equal(p1.membership[i] == p1.membership[(i / 25) * 25], 1);
    double q;
    assert_int_equal(sn_graph_modularity(&g, p1.membership, 1.0, 1, &q), 0);
    assert_true(fabs(q - p1.modularity) < 1e-12 && q > 0.6);
    o.method = SN_COMM_LOUVAIN;
    assert_int_equal(sn_graph_communities(&g, &o, &p3), 0);
    assert_true(fabs(p3.modularity - p1.modularity) < 0.02);
    /* module 0 is the largest */
    int64_t size[200] = {0};
    for (int i = 0; i < 200; i++)
        size[p3.membership[i]]++;
    for (int k = 1; k < p3.n_modules; k++)
        assert_true(size[k] <= size[0]);
    sn_partition_free(&p1);
    sn_partition_free(&p2);
    sn_partition_free(&p3);
    sn_graph_free(&g);
}

static void test_diff(void **st)
{
    (void)st;
    /* g1 over A B C D E: A-B, B-C, C-D, D-E; g2 over D C B X A: C-D, A-B,
     * A-C, X-A (X not shared), D-B */
    char *n1[] = {"A", "B", "C", "D", "E"}, *n2[] = {"D", "C", "B", "X", "A"};
    const int32_t e1[] = {0, 1, 1, 2, 2, 3, 3, 4}, e2[] = {1, 0, 4, 2, 4, 1, 3, 4, 0, 2};
    const double w2[] = {0.9, 0.8, 0.7, 0.6, 0.5};
    sn_graph g1, g2;
    build(&g1, 5, e1, 4, NULL);
    build(&g2, 5, e2, 5, w2);
    sn_netdiff d;
    assert_int_equal(sn_graph_diff(&g1, n1, &g2, n2, &d), 0);
    assert_int_equal(d.n_shared, 4);
    assert_int_equal(d.n_common, 2); /* A-B, C-D */
    /* only-in-1: B-C (D-E has E unshared); only-in-2: A-C, B-D */
    assert_int_equal(d.n, 3);
    assert_int_equal(d.n_only1, 1);
    assert_int_equal(d.n_only2, 2);
    assert_int_equal(d.u[0], 0);
    assert_int_equal(d.v[0], 2);
    assert_int_equal(d.side[0], 2);
    assert_true(d.w[0] == 0.7);
    assert_int_equal(d.u[1], 1);
    assert_int_equal(d.v[1], 2);
    assert_int_equal(d.side[1], 1);
    assert_int_equal(d.u[2], 1);
    assert_int_equal(d.v[2], 3);
    assert_int_equal(d.side[2], 2);
    char path[256];
    snprintf(path, sizeof path, "%s/diff.tsv", tmpdir);
    assert_int_equal(sn_netdiff_write_tsv(&d, n1, "a", "b", path), 0);
    FILE *fp = fopen(path, "r");
    char buf[512] = {0};
    assert_true(fread(buf, 1, sizeof buf - 1, fp) > 0);
    fclose(fp);
    assert_string_equal(buf, "gene1\tgene2\tnetwork\tweight\nA\tC\tb\t0.7\nB\tC\ta\t1\nB\tD\tb\t0.5\n");
    sn_netdiff_free(&d);
    sn_graph_free(&g1);
    sn_graph_free(&g2);
}

static void test_exports(void **st)
{
    (void)st;
    sn_graph g;
    const double w[] = {1, 1, 1, 1, 1, 1, 0.25};
    build(&g, 6, two_tri, 7, w);
    char *names[] = {"G0", "G1", "G2", "G3", "G4", "G5"};
    const int64_t memb[] = {0, 0, 0, 1, 1, 1};
    char path[256], buf[1024] = {0};
    snprintf(path, sizeof path, "%s/net.tsv", tmpdir);
    assert_int_equal(sn_graph_write_tsv(&g, names, path), 0);
    FILE *fp = fopen(path, "r");
    assert_true(fread(buf, 1, sizeof buf - 1, fp) > 0);
    fclose(fp);
    assert_non_null(strstr(buf, "gene1\tgene2\tweight\nG0\tG1\t1\n"));
    assert_non_null(strstr(buf, "G2\tG3\t0.25\n"));
    snprintf(path, sizeof path, "%s/modules.tsv", tmpdir);
    assert_int_equal(sn_modules_write_tsv(names, memb, 6, path), 0);
    snprintf(path, sizeof path, "%s/net.graphml", tmpdir);
    assert_int_equal(sn_graph_write_graphml(&g, names, memb, path), 0);
    /* read it back with igraph */
    igraph_set_attribute_table(&igraph_cattribute_table);
    igraph_t ig;
    fp = fopen(path, "r");
    assert_int_equal(igraph_read_graph_graphml(&ig, fp, 0), IGRAPH_SUCCESS);
    fclose(fp);
    assert_int_equal(igraph_vcount(&ig), 6);
    assert_int_equal(igraph_ecount(&ig), 7);
    assert_string_equal(VAS(&ig, "name", 4), "G4");
    assert_true(VAN(&ig, "module", 4) == 1);
    double wsum = 0;
    for (int e = 0; e < 7; e++)
        wsum += EAN(&ig, "weight", e);
    assert_true(fabs(wsum - 6.25) < 1e-12);
    igraph_destroy(&ig);
    igraph_set_attribute_table(NULL);
    /* an unwritable place: one message naming it, nothing left behind */
    assert_true(sn_graph_write_tsv(&g, names, "/nonexistent/dir/x.tsv") < 0);
    assert_non_null(strstr(sn_errmsg(), "/nonexistent/dir/x.tsv"));
    sn_graph_free(&g);
}

static int setup(void **st)
{
    (void)st;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon),      cmocka_unit_test(test_from_names),
        cmocka_unit_test(test_modularity), cmocka_unit_test(test_leiden_planted),
        cmocka_unit_test(test_diff),       cmocka_unit_test(test_exports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
