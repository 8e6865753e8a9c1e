/* Count matrices in any supported format, detected from the path and the
 * content rather than the file name where possible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/read.h"
#include "read_int.h"

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
    /* values are read as float32: a float64 beyond its range arrives as inf */
    int neg = v < 0 && !isinf(v);
    const char *why = neg ? ", not scaled data" : isinf(v) ? ", within float32's range (3.4e38)" : "";
    return sn_err(SN_EFMT, "%s: %s %g in row %lld (expected counts or log-normalised expression%s)", name,
                  neg ? "negative value" : "value", (double)v, (long long)row, why);
}

/* An option the input's format has no use for is an error, not ignored:
 * the user meant something the run would not do. */
static int unused_opts(const char *name, const sn_read_opts *o, int h5ad, int tenx, int text, const char *kind)
{
    if (o->orient != SN_ORIENT_AUTO && !text)
        return sn_err(SN_EINVAL, "%s: --orient applies to text tables and .mtx files only (this is %s, whose "
                                 "layout is fixed)", name, kind);
    if (o->layer && !h5ad)
        return sn_err(SN_EINVAL, "%s: --layer applies to .h5ad input only (this is %s)", name, kind);
    if (o->genome && !tenx)
        return sn_err(SN_EINVAL, "%s: --genome applies to 10x HDF5 input only (this is %s)", name, kind);
    return SN_OK;
}

int sn_read_counts_fid(hid_t fid, const char *name, const sn_read_opts *o, sn_adata *a, int *h5ad)
{
    int tenx = sn_is_10x_h5(fid);
    *h5ad = !tenx;
    SN_TRY(unused_opts(name, o, !tenx, tenx, 0, tenx ? "a 10x HDF5 matrix" : "an .h5ad file"));
    if (tenx)
        return sn_read_10x_fid(fid, name, o, a);
    char xname[256];
    snprintf(xname, sizeof xname, "%s%s", o->layer ? "layers/" : "X", o->layer ? o->layer : "");
    int rc = sn_h5ad_read(fid, o->layer, a);
    if (rc == SN_OK)
        rc = sn_read_check_expr(&a->X, xname);
    /* as for every other format: anndata warns on repeated var_names, and
     * the stages after look genes up by name */
    if (rc == SN_OK && a->var.index)
        rc = sn_rd_make_unique(a->var.index, a->var.n, name, "gene names (var_names)");
    if (rc < 0) {
        sn_adata_free(a);
        sn_err_prefix(rc, "%s: ", name);
    }
    return rc;
}

/* A matrix.mtx read alone, beside the 10x files that would name its genes
 * and cells, is most likely a folder given by the wrong path. */
static void mtx_alone(const char *path)
{
    char *dir = sn_strdup(path), *slash = dir ? strrchr(dir, '/') : NULL, *files[3];
    if (!dir)
        return;
    if (slash)
        *slash = 0;
    const char *folder = !slash ? "." : *dir ? dir : "/";
    sn_read_mtx_dir_files(folder, files);
    if (files[1] && files[2])
        sn_warn("%s: read alone, its genes and cells numbered; give the folder (%s) to name them from %s and %s",
                path, folder, files[1], files[2]);
    for (int i = 0; i < 3; i++)
        free(files[i]);
    free(dir);
}

int sn_read_counts(const char *path, const sn_read_opts *o, sn_adata *a)
{
    static const sn_read_opts defaults = {0};
    o = o ? o : &defaults;
    memset(a, 0, sizeof *a);
    if (sn_is_dir(path)) {
        SN_TRY(unused_opts(path, o, 0, 0, 0, "a Matrix Market folder"));
        return sn_read_mtx_dir_opts(path, o, a);
    }
    /* standard input can only carry HDF5 (.h5ad or 10x .h5), and a file
     * named as one is read as one: sn_h5_open says so when it is not */
    if (strcmp(path, "-") == 0 || ends_with(path, ".h5ad") || ends_with(path, ".h5") || sn_h5_probe(path) > 0) {
        sn_h5 *f;
        int h5ad;
        SN_TRY(sn_h5_open(path, &f));
        int rc = sn_read_counts_fid(sn_h5_id(f), sn_h5_name(f), o, a, &h5ad);
        sn_h5_close(f);
        return rc;
    }
    int mtx = ends_with(path, ".mtx") || ends_with(path, ".mtx.gz");
    if (access(path, R_OK) == 0) /* else the reader says why it cannot open it */
        SN_TRY(unused_opts(path, o, 0, 0, 1, mtx ? "a Matrix Market file" : "a text matrix"));
    if (mtx) {
        mtx_alone(path);
        return sn_read_mtx_orient(path, o->orient, a);
    }
    return sn_read_text_matrix(path, o->orient, a);
}
