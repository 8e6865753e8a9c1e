/* Attention pruning on a hand-made graph and the symmetric mask. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scnet/prune.h"

/* Cells 0..5; cell 0 sends to 1..5 with low attention, the others send to
 * 0 with high attention.  row = receiver, column = sender. */
static void make(sn_csr *a)
{
    assert_int_equal(sn_csr_alloc(a, 6, 6, 10), 0);
    int64_t k = 0;
    a->indptr[0] = 0;
    for (int j = 1; j < 6; j++) { /* row 0 receives from 1..5 */
        a->indices[k] = j;
        a->data[k++] = 0.9f;
    }
    a->indptr[1] = k;
    for (int i = 1; i < 6; i++) { /* row i receives from 0 */
        a->indices[k] = 0;
        a->data[k++] = 0.01f * (float)i;
        a->indptr[i + 1] = k;
    }
}

static void test_rule(void **st)
{
    (void)st;
    sn_csr a, p;
    make(&a);
    sn_prune_opts o = {50, 0.2, 2};
    sn_prune_stats s;
    assert_int_equal(sn_prune_attention(&a, &o, &p, &s), 0);
    /* median of {0.9 x5, .01..0.05} = (0.05 + 0.9)/2 = 0.475, capped at 0.2:
     * cell 0's five edges are below; it keeps its 2 strongest (to 5, 4) */
    assert_true(fabs(s.threshold - 0.2) < 1e-12);
    assert_int_equal(s.before, 10);
    assert_int_equal(s.after, 7);
    assert_int_equal(s.held, 1);
    assert_int_equal(p.indptr[6] - p.indptr[5], 1);
    assert_int_equal(p.indptr[5] - p.indptr[4], 1);
    assert_int_equal(p.indptr[2] - p.indptr[1], 0);
    assert_true(fabs(p.data[p.indptr[5]] - 0.05f) < 1e-7);
    /* the mask keeps an entry when either direction survives: every pair
     * 0–j keeps its 0 <- j edge, so all 10 entries stay */
    sn_csr m, g;
    assert_int_equal(sn_csr_mask_sym(&a, &p, &m), 0);
    assert_int_equal(sn_csr_nnz(&m), 10);
    sn_csr_free(&m);
    /* a graph holding only 3 -> 0: entries (0,3) and (3,0) remain */
    assert_int_equal(sn_csr_alloc(&g, 6, 6, 1), 0);
    for (int i = 1; i <= 6; i++)
        g.indptr[i] = 1;
    g.indices[0] = 3;
    g.data[0] = 1;
    assert_int_equal(sn_csr_mask_sym(&a, &g, &m), 0);
    assert_int_equal(sn_csr_nnz(&m), 2);
    assert_int_equal(m.indices[0], 3);
    assert_true(fabs(m.data[1] - 0.03f) < 1e-7);
    sn_csr_free(&a), sn_csr_free(&p), sn_csr_free(&m), sn_csr_free(&g);
}

static void test_nothing_removed_at_zero(void **st)
{
    (void)st;
    sn_csr a, p;
    make(&a);
    sn_prune_opts o = {0, 0.2, 0};
    sn_prune_stats s;
    assert_int_equal(sn_prune_attention(&a, &o, &p, &s), 0);
    assert_int_equal(s.after, 10);
    sn_csr_free(&a), sn_csr_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rule), cmocka_unit_test(test_nothing_removed_at_zero)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
