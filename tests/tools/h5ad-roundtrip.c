/* h5ad-roundtrip: read an .h5ad with the library's element readers and
 * write it back with its writers (test-only; exercises both directions).
 *
 *   h5ad-roundtrip [-c LEVEL] IN OUT
 *
 * X, obs, var, every element of obsm, varm, obsp, varp and layers, and uns
 * recursively.  Types the in-memory structures cannot hold change the way
 * the library documents: sparse values become float32, dense integers
 * float64, 1-D float32 arrays float64; elements of other kinds are skipped
 * with a warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/log.h"
#include "scnet/mem.h"

static int copy_elem(hid_t in, hid_t out, const char *path, int comp);

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static int copy_sparse(hid_t in, hid_t out, const char *path, int comp)
{
    sn_csr m;
    SN_TRY(sn_h5ad_read_csr(in, path, &m));
    int rc = sn_h5ad_write_csr(out, path, &m, comp);
    sn_csr_free(&m);
    return rc;
}

static int copy_frame(hid_t in, hid_t out, const char *path, int comp)
{
    sn_frame f;
    SN_TRY(sn_h5ad_read_frame(in, path, &f));
    int rc = sn_h5ad_write_frame(out, path, &f, comp);
    sn_frame_free(&f);
    return rc;
}

static int copy_dense2(hid_t in, hid_t out, const char *path, const sn_h5ad_elem *e, int comp)
{
    int rc;
    if (is(e->dtype, "float32")) {
        sn_mat m;
        SN_TRY(sn_h5ad_read_mat(in, path, &m));
        rc = sn_h5ad_write_mat(out, path, &m, comp);
        sn_mat_free(&m);
    } else {
        sn_matd m;
        SN_TRY(sn_h5ad_read_matd(in, path, &m));
        rc = sn_h5ad_write_matd(out, path, &m, comp);
        sn_matd_free(&m);
    }
    return rc;
}

static int copy_vector(hid_t in, hid_t out, const char *path, const sn_h5ad_elem *e, int comp)
{
    int64_t n = 0;
    int rc = SN_OK;
    if (is(e->dtype, "bool")) {
        double *v;
        SN_TRY(sn_h5ad_read_vec(in, path, &v, &n));
        uint8_t *b = sn_malloc((size_t)n, "booleans");
        for (int64_t i = 0; b && i < n; i++)
            b[i] = v[i] != 0;
        rc = b ? sn_h5ad_write_bvec(out, path, b, n, comp) : SN_ENOMEM;
        free(b);
        free(v);
    } else if (strstr(e->dtype, "int")) {
        int64_t *v;
        SN_TRY(sn_h5ad_read_ivec(in, path, &v, &n));
        rc = sn_h5ad_write_ivec(out, path, v, n, comp);
        free(v);
    } else {
        double *v;
        SN_TRY(sn_h5ad_read_vec(in, path, &v, &n));
        rc = sn_h5ad_write_vec(out, path, v, n, comp);
        free(v);
    }
    return rc;
}

static int copy_scalar(hid_t in, hid_t out, const char *path, const sn_h5ad_elem *e)
{
    if (e->dtype[0] == 's') {
        char *s;
        SN_TRY(sn_h5ad_read_str(in, path, &s));
        int rc = sn_h5ad_write_str(out, path, s);
        free(s);
        return rc;
    }
    double v;
    SN_TRY(sn_h5ad_read_scalar(in, path, &v));
    if (is(e->dtype, "bool"))
        return sn_h5ad_write_bool(out, path, v != 0);
    if (strstr(e->dtype, "int"))
        return sn_h5ad_write_int(out, path, (int64_t)v);
    return sn_h5ad_write_scalar(out, path, v);
}

static int copy_strings(hid_t in, hid_t out, const char *path, int comp)
{
    char **s;
    int64_t n;
    SN_TRY(sn_h5ad_read_strings(in, path, &s, &n));
    int rc = sn_h5ad_write_strings(out, path, s, n, comp);
    sn_free_strings(s, n);
    return rc;
}

static int copy_dict(hid_t in, hid_t out, const char *path, int comp)
{
    char **keys, sub[1024];
    int64_t n;
    hid_t g;
    SN_TRY(sn_h5ad_dict(out, path, &g));
    H5Gclose(g);
    SN_TRY(sn_h5ad_keys(in, path, &keys, &n));
    int rc = SN_OK;
    for (int64_t i = 0; rc == SN_OK && i < n; i++) {
        snprintf(sub, sizeof sub, "%s/%s", path, keys[i]);
        rc = copy_elem(in, out, sub, comp);
    }
    sn_free_strings(keys, n);
    return rc;
}

static int copy_elem(hid_t in, hid_t out, const char *path, int comp)
{
    sn_h5ad_elem e;
    SN_TRY(sn_h5ad_stat(in, path, &e));
    const char *enc = e.encoding;
    if (is(enc, "csr_matrix") || is(enc, "csc_matrix"))
        return copy_sparse(in, out, path, comp);
    if (is(enc, "dataframe"))
        return copy_frame(in, out, path, comp);
    if (is(enc, "dict"))
        return copy_dict(in, out, path, comp);
    if (is(enc, "array") && e.ndim == 2)
        return copy_dense2(in, out, path, &e, comp);
    if (is(enc, "array") && e.ndim == 1)
        return copy_vector(in, out, path, &e, comp);
    if (is(enc, "numeric-scalar") || is(enc, "string") || (is(enc, "array") && e.ndim == 0))
        return copy_scalar(in, out, path, &e);
    if (is(enc, "string-array") && e.ndim == 1)
        return copy_strings(in, out, path, comp);
    sn_warn("%s: skipped (%s, %d-D, not handled here)", path, enc[0] ? enc : "unknown", e.ndim);
    return SN_OK;
}

static int roundtrip(const char *src, const char *dst, int comp)
{
    static const char *const maps[] = {"obsm", "varm", "obsp", "varp", "layers", "uns"};
    sn_h5 *fi = NULL, *fo = NULL;
    int64_t n_obs, n_var;
    int rc;
    SN_CHECK(sn_h5_open(src, &fi));
    hid_t in = sn_h5_id(fi);
    if ((rc = sn_h5ad_check(in, &n_obs, &n_var)) < 0)
        SN_CHECK(sn_err_prefix(rc, "%s: ", src));
    SN_CHECK(sn_h5_create(dst, &fo));
    hid_t out = sn_h5_id(fo);
    SN_CHECK(sn_h5ad_init(out));
    SN_CHECK(copy_frame(in, out, "obs", comp));
    SN_CHECK(copy_frame(in, out, "var", comp));
    if (sn_h5ad_exists(in, "X"))
        SN_CHECK(copy_elem(in, out, "X", comp));
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        if (sn_h5ad_exists(in, maps[i]))
            SN_CHECK(copy_dict(in, out, maps[i], comp));
    rc = sn_h5_commit(fo);
    fo = NULL;
out:
    if (rc < 0 && fi && fo)
        sn_err_prefix(rc, "%s: ", src);
    sn_h5_close(fo);
    sn_h5_close(fi);
    return rc;
}

int main(int argc, char **argv)
{
    int comp = 0, c;
    sn_log_setup("h5ad-roundtrip", SN_LOG_WARN);
    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c')
            return 2;
        comp = atoi(optarg);
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: h5ad-roundtrip [-c LEVEL] IN OUT\n");
        return 2;
    }
    if (roundtrip(argv[optind], argv[optind + 1], comp) < 0) {
        fprintf(stderr, "h5ad-roundtrip: %s\n", sn_errmsg());
        return 1;
    }
    return 0;
}
