/* Format detection of sn_read_counts on real files and a written .h5ad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/read.h"

static char path[1024];

static const char *data(const char *rel)
{
    const char *d = getenv("SCNET_DATA");
    snprintf(path, sizeof path, "%s/%s", d ? d : "../shared/data", rel);
    return path;
}

static void test_folder_and_csv(void **st)
{
    (void)st;
    sn_adata a;
    assert_int_equal(sn_read_counts(data("pbmc3k_10x"), NULL, &a), 0);
    assert_int_equal(a.X.nrow, 2700);
    assert_int_equal(a.X.ncol, 32738);
    assert_int_equal(sn_csr_nnz(&a.X), 2286884);
    sn_adata_free(&a);
    assert_int_equal(sn_read_counts(data("tian2019_cellbench/sc_dropseq.count.csv.gz"), NULL, &a), 0);
    assert_int_equal(a.X.nrow, 225);
    assert_int_equal(a.X.ncol, 15127);
    sn_adata_free(&a);
}

static void test_h5ad_roundtrip_and_errors(void **st)
{
    (void)st;
    sn_adata a, b;
    assert_int_equal(sn_read_counts(data("tian2019_cellbench/sc_celseq2.count.csv.gz"), NULL, &a), 0);
    char out[] = "/tmp/sn_counts_XXXXXX.h5ad";
    int fd = mkstemps(out, 5);
    close(fd);
    sn_h5 *h;
    assert_int_equal(sn_h5_create(out, &h), 0);
    assert_int_equal(sn_h5ad_init(sn_h5_id(h)), 0);
    assert_int_equal(sn_h5ad_write(sn_h5_id(h), &a, 0), 0);
    assert_int_equal(sn_h5_commit(h), 0);
    assert_int_equal(sn_read_counts(out, NULL, &b), 0);
    assert_int_equal(b.X.nrow, a.X.nrow);
    assert_int_equal(b.X.ncol, a.X.ncol);
    assert_int_equal(sn_csr_nnz(&b.X), sn_csr_nnz(&a.X));
    assert_memory_equal(b.X.data, a.X.data, sizeof(float) * (size_t)sn_csr_nnz(&a.X));
    assert_string_equal(b.var.index[5], a.var.index[5]);
    sn_adata_free(&b);
    /* an HDF5 file that is neither AnnData nor 10x */
    hid_t f = H5Fcreate(out, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(f, "something", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    assert_true(sn_read_counts(out, NULL, &b) < 0);
    assert_non_null(strstr(sn_errmsg(), out));
    unlink(out);
    sn_adata_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_and_csv),
        cmocka_unit_test(test_h5ad_roundtrip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
