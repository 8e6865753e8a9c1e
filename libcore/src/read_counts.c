/* Count matrices in any supported format, detected from the path and the
 * content rather than the file name where possible. */
#include <stdio.h>
#include <string.h>

#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/read.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int sn_read_check_expr(const sn_csr *x, const char *name)
{
    int64_t row, bad = sn_csr_first_invalid(x, &row);
    if (bad < 0)
        return SN_OK;
    float v = x->data[bad];
    return sn_err(SN_EFMT, "%s: %s %g in row %lld (expected counts or log-normalised expression%s)", name,
                  v < 0 ? "negative value" : "value", (double)v, (long long)row, v < 0 ? ", not scaled data" : "");
}

static int check_layer(const sn_csr *x, const char *layer)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", layer ? "layers/" : "X", layer ? layer : "");
    return sn_read_check_expr(x, name);
}

int sn_read_counts(const char *path, const sn_read_opts *o, sn_adata *a)
{
    static const sn_read_opts defaults = {0};
    o = o ? o : &defaults;
    memset(a, 0, sizeof *a);
    if (sn_is_dir(path))
        return sn_read_mtx_dir_opts(path, o, a);
    /* standard input can only carry HDF5 (.h5ad or 10x .h5): sn_h5_open
     * says so when it is something else */
    if (strcmp(path, "-") == 0 || sn_h5_probe(path) > 0) {
        sn_h5 *f;
        SN_TRY(sn_h5_open(path, &f));
        hid_t fid = sn_h5_id(f);
        int rc;
        if (sn_is_10x_h5(fid)) {
            rc = sn_read_10x_fid(fid, sn_h5_name(f), o, a);
        } else if ((rc = sn_h5ad_read(fid, o->layer, a)) < 0 || (rc = check_layer(&a->X, o->layer)) < 0) {
            sn_adata_free(a);
            sn_err_prefix(rc, "%s: ", sn_h5_name(f));
        }
        sn_h5_close(f);
        return rc;
    }
    if (ends_with(path, ".mtx") || ends_with(path, ".mtx.gz"))
        return sn_read_mtx(path, NULL, NULL, a);
    return sn_read_text_matrix(path, o->orient, a);
}
