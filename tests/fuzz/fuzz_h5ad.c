/* .h5ad from a memory image, read the way the programs read it: the file
 * check and X/obs/var (every stage), each element by its encoding (what
 * scnet-info --field does), and the training input (scnet-train). */
#include "fuzz.h"

#include "scnet/h5.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"
#include "scnet/trainio.h"

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static void read_elem(hid_t fid, const char *path, const sn_h5ad_elem *e)
{
    int rc = SN_OK;
    if (is(e->encoding, "csr_matrix") || is(e->encoding, "csc_matrix") ||
        (is(e->encoding, "array") && e->ndim == 2)) {
        sn_csr m;
        if ((rc = sn_h5ad_read_csr(fid, path, &m)) == SN_OK)
            sn_csr_free(&m);
        fz_check_rc(rc, NULL);
        sn_matd d;
        if ((rc = sn_h5ad_read_matd(fid, path, &d)) == SN_OK)
            sn_matd_free(&d);
    } else if (is(e->encoding, "dataframe")) {
        sn_frame f;
        if ((rc = sn_h5ad_read_frame(fid, path, &f)) == SN_OK)
            sn_frame_free(&f);
    } else if (is(e->encoding, "string") || is(e->encoding, "string-array") || is(e->encoding, "categorical") ||
               is(e->encoding, "nullable-string-array")) {
        char **s, *one;
        int64_t n;
        if ((rc = sn_h5ad_read_strings(fid, path, &s, &n)) == SN_OK)
            sn_free_strings(s, n);
        fz_check_rc(rc, NULL);
        rc = e->ndim == 0 ? sn_h5ad_read_str(fid, path, &one) : SN_OK; /* the failure above is checked */
        if (e->ndim == 0 && rc == SN_OK)
            free(one);
    } else if (!e->group) {
        double *v, x;
        int64_t n;
        if (e->ndim == 0)
            rc = sn_h5ad_read_scalar(fid, path, &x);
        else if ((rc = sn_h5ad_read_vec(fid, path, &v, &n)) == SN_OK)
            free(v);
    }
    fz_check_rc(rc, NULL);
}

/* Every element under path, depth-first, at most a few levels and
 * children (a corrupt file may claim millions). */
static void walk(hid_t fid, const char *path, int depth)
{
    char **keys;
    int64_t n;
    int rc = sn_h5ad_keys(fid, path, &keys, &n);
    fz_check_rc(rc, NULL);
    if (rc < 0)
        return;
    for (int64_t i = 0; i < n && i < 64; i++) {
        char child[512];
        sn_h5ad_elem e;
        snprintf(child, sizeof child, "%s%s%s", path, *path ? "/" : "", keys[i]);
        rc = sn_h5ad_stat(fid, child, &e);
        fz_check_rc(rc, NULL);
        if (rc < 0)
            continue;
        read_elem(fid, child, &e);
        if (e.group && depth < 4 && !is(e.encoding, "csr_matrix") && !is(e.encoding, "csc_matrix"))
            walk(fid, child, depth + 1);
    }
    sn_free_strings(keys, n);
}

static void read_train(hid_t fid, int max_genes)
{
    sn_train_input ti;
    memset(&ti, 0, sizeof ti);
    int rc = sn_train_input_read(fid, max_genes, &ti);
    fz_check_rc(rc, NULL);
    if (rc == SN_OK) {
        const sn_train_data *d = &ti.data;
        for (int64_t i = 0; i < d->n_ppi; i++)
            if (d->ppi_a[i] < 0 || d->ppi_a[i] >= d->ppi_b[i] || d->ppi_b[i] >= d->G)
                abort(); /* the model indexes with these unchecked */
        for (int64_t i = 0; i < (int64_t)d->N * d->k; i++)
            if (d->knn[i] < -1 || d->knn[i] >= d->N)
                abort();
    }
    sn_train_input_free(&ti);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_h5 *f;
    fz_quiet();
    int rc = sn_h5_open_image(data, size, "fuzz.h5ad", &f);
    fz_check_rc(rc, "fuzz.h5ad");
    if (rc < 0)
        return 0;
    hid_t fid = sn_h5_id(f);
    int64_t n_obs, n_var;
    rc = sn_h5ad_check(fid, &n_obs, &n_var);
    fz_check_rc(rc, NULL);
    if (rc == SN_OK) {
        sn_adata a;
        rc = sn_h5ad_read(fid, NULL, &a);
        fz_check_rc(rc, NULL);
        if (rc == SN_OK) {
            if (a.X.nrow != n_obs || a.X.ncol != n_var || a.obs.n != n_obs || a.var.n != n_var)
                abort();
            sn_adata_free(&a);
        }
        walk(fid, "", 0);
        read_train(fid, 0);
        read_train(fid, 10);
    }
    sn_h5_close(f);
    return 0;
}
