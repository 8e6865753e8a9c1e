/* Whole .h5ad files: checking, reading and writing the AnnData core,
 * copying a file's elements into another, the scnet history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5x.h"
#include "scnet/h5ad.h"
#include "scnet/mem.h"

static const char *const DICTS[] = {"obsm", "varm", "obsp", "varp", "layers", "uns"};

void sn_adata_free(sn_adata *a)
{
    if (!a)
        return;
    sn_csr_free(&a->X);
    sn_frame_free(&a->obs);
    sn_frame_free(&a->var);
}

static int not_anndata(hid_t fid, int ko, int kv)
{
    char *enc = NULL;
    int is_ad = sn_h5x_attr_str(fid, "encoding-type", "/", &enc) > 0 && strcmp(enc, "anndata") == 0;
    free(enc);
    const char *what = ko < 0 && kv < 0 ? "no 'obs' and 'var' groups" : ko < 0 ? "no 'obs' group" : "no 'var' group";
    if (is_ad)
        return sn_err(SN_EFMT, "incomplete AnnData file (%s)", what);
    return sn_err(SN_EFMT, "not an AnnData file (%s)", what);
}

static int frame_rows(hid_t fid, const char *key, int64_t *n)
{
    hid_t g = H5Gopen2(fid, key, H5P_DEFAULT);
    int rc = g < 0 ? sn_h5x_fail(SN_EFMT, key, "cannot open") : sn_h5x_frame_len(g, key, n, NULL);
    sn_h5x_close(g);
    return rc;
}

static int check_shape(hid_t fid, const char *path, int64_t n_obs, int64_t n_var)
{
    int64_t r, c;
    SN_TRY(sn_h5ad_shape(fid, path, &r, &c));
    if (r != n_obs || c != n_var)
        return sn_err(SN_EFMT, "%s: shape %lld x %lld does not match obs (%lld rows) and var (%lld rows)", path,
                      (long long)r, (long long)c, (long long)n_obs, (long long)n_var);
    return SN_OK;
}

int sn_h5ad_check(hid_t fid, int64_t *n_obs, int64_t *n_var)
{
    int ko = sn_h5x_kind(fid, "obs"), kv = sn_h5x_kind(fid, "var");
    if (ko == H5O_TYPE_DATASET || kv == H5O_TYPE_DATASET)
        return sn_err(SN_EFMT, "unsupported old .h5ad layout (%s is a compound dataset); re-save it with anndata >= 0.8",
                      ko == H5O_TYPE_DATASET ? "obs" : "var");
    if (ko != H5O_TYPE_GROUP || kv != H5O_TYPE_GROUP)
        return not_anndata(fid, ko, kv);
    SN_TRY(frame_rows(fid, "obs", n_obs));
    SN_TRY(frame_rows(fid, "var", n_var));
    return sn_h5x_exists(fid, "X") ? check_shape(fid, "X", *n_obs, *n_var) : SN_OK;
}

int sn_h5ad_read(hid_t fid, const char *layer, sn_adata *a)
{
    char path[SN_H5X_NAME];
    int64_t n_obs, n_var;
    int rc;
    memset(a, 0, sizeof *a);
    SN_CHECK(sn_h5ad_check(fid, &n_obs, &n_var));
    snprintf(path, sizeof path, layer ? "layers/%s" : "X", layer);
    if (!sn_h5x_exists(fid, path))
        SN_CHECK(sn_err(SN_EFMT, "%s: missing (%s)", path, layer ? "no such layer" : "the file has no X matrix"));
    SN_CHECK(sn_h5ad_read_csr(fid, path, &a->X));
    if (layer)
        SN_CHECK(check_shape(fid, path, n_obs, n_var));
    SN_CHECK(sn_h5ad_read_frame(fid, "obs", &a->obs));
    SN_CHECK(sn_h5ad_read_frame(fid, "var", &a->var));
out:
    if (rc < 0)
        sn_adata_free(a);
    return rc < 0 ? rc : SN_OK;
}

int sn_h5ad_init(hid_t fid)
{
    SN_TRY(sn_h5x_set_enc(fid, "anndata", "0.1.0"));
    for (size_t i = 0; i < sizeof DICTS / sizeof *DICTS; i++) {
        hid_t g;
        SN_TRY(sn_h5ad_dict(fid, DICTS[i], &g));
        H5Gclose(g);
    }
    return SN_OK;
}

int sn_h5ad_write(hid_t fid, const sn_adata *a, int comp)
{
    if (a->X.nrow != a->obs.n || a->X.ncol != a->var.n)
        return sn_err(SN_EINVAL, "cannot write: X is %lld x %lld but obs has %lld rows and var %lld",
                      (long long)a->X.nrow, (long long)a->X.ncol, (long long)a->obs.n, (long long)a->var.n);
    SN_TRY(sn_h5ad_write_csr(fid, "X", &a->X, comp));
    SN_TRY(sn_h5ad_write_frame(fid, "obs", &a->obs, comp));
    return sn_h5ad_write_frame(fid, "var", &a->var, comp);
}

/* ---- copy ---- */

/* 1: path is skipped; 2: some skipped path lies below it; 0: neither. */
static int skip_state(const char *path, const char *const *skip)
{
    size_t n = strlen(path);
    int below = 0;
    for (int i = 0; skip && skip[i]; i++) {
        const char *s = skip[i][0] == '/' ? skip[i] + 1 : skip[i];
        if (strcmp(s, path) == 0)
            return 1;
        if (strncmp(s, path, n) == 0 && s[n] == '/')
            below = 1;
    }
    return below ? 2 : 0;
}

static int copy_tree(hid_t src, hid_t dst, const char *prefix, const char *const *skip);

/* A group with skipped paths below it: copied member by member. */
static int copy_partial(hid_t src, hid_t dst, const char *key, const char *path, const char *const *skip)
{
    hid_t s = H5Gopen2(src, key, H5P_DEFAULT), d = H5I_INVALID_HID;
    int rc = s < 0 ? sn_h5x_fail(SN_EFMT, path, "cannot open") : SN_OK;
    if (rc == SN_OK && sn_h5x_kind(dst, key) == H5O_TYPE_GROUP)
        d = H5Gopen2(dst, key, H5P_DEFAULT);
    else if (rc == SN_OK)
        rc = sn_h5x_group(dst, key, NULL, NULL, &d);
    if (rc == SN_OK && d < 0)
        rc = sn_h5x_fail(SN_EIO, path, "cannot open the output group");
    if (rc == SN_OK)
        rc = sn_h5x_copy_attrs(s, d);
    if (rc == SN_OK)
        rc = copy_tree(s, d, path, skip);
    sn_h5x_close(d);
    sn_h5x_close(s);
    return rc;
}

/* key (in src) to to (in dst); path names the element in messages. */
static int copy_one(hid_t src, const char *key, hid_t dst, const char *to, const char *path)
{
    if (H5Lexists(dst, to, H5P_DEFAULT) > 0 && H5Ldelete(dst, to, H5P_DEFAULT) < 0)
        return sn_h5x_fail(SN_EIO, path, "cannot replace the existing element");
    if (H5Ocopy(src, key, dst, to, H5P_DEFAULT, H5P_DEFAULT) >= 0)
        return SN_OK;
    /* Writes that fail are reported by the output's own driver; what
     * fails here is reading: name the input, which the caller does not. */
    char from[512] = "the input", what[600];
    hid_t why = H5Eget_current_stack(); /* the next call clears it */
    ssize_t n = H5Fget_name(src, from, sizeof from);
    if (why >= 0)
        H5Eset_current_stack(why);
    if (n <= 0 || (size_t)n >= sizeof from || access(from, F_OK) != 0)
        snprintf(from, sizeof from, "the input");
    snprintf(what, sizeof what, "cannot copy from %s", from);
    return sn_h5x_fail(SN_EIO, path, what);
}

static int copy_tree(hid_t src, hid_t dst, const char *prefix, const char *const *skip)
{
    char **keys = NULL, path[SN_H5X_NAME];
    int64_t n = 0;
    int rc;
    SN_TRY(sn_h5ad_keys(src, NULL, &keys, &n));
    for (int64_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", keys[i]);
        int st = skip_state(path, skip);
        if (st == 1)
            continue;
        if (st == 2 && sn_h5x_kind(src, keys[i]) == H5O_TYPE_GROUP)
            SN_CHECK(copy_partial(src, dst, keys[i], path, skip));
        else
            SN_CHECK(copy_one(src, keys[i], dst, keys[i], path));
    }
    rc = SN_OK;
out:
    sn_free_strings(keys, n);
    return rc;
}

int sn_h5ad_copy(hid_t src, hid_t dst, const char *const *skip)
{
    SN_TRY(sn_h5x_copy_attrs(src, dst));
    return copy_tree(src, dst, "", skip);
}

int sn_h5ad_copy_elem(hid_t src, const char *from, hid_t dst, const char *to)
{
    return copy_one(src, from, dst, to, from);
}

/* ---- history ---- */

int sn_h5ad_history_read(hid_t fid, char ***h, int64_t *n)
{
    static const char *path = "uns/scnet/history";
    char enc[32] = "";
    *h = NULL;
    *n = 0;
    if (!sn_h5x_exists(fid, path))
        return SN_OK;
    if (sn_h5ad_encoding(fid, path, enc, sizeof enc) == SN_OK && strcmp(enc, "string") == 0) {
        if (!(*h = sn_malloc(sizeof **h, "the history")))
            return SN_ENOMEM;
        int rc = sn_h5ad_read_str(fid, path, *h);
        if (rc < 0) {
            free(*h);
            *h = NULL;
            return rc;
        }
        *n = 1;
        return SN_OK;
    }
    return sn_h5ad_read_strings(fid, path, h, n);
}

int sn_h5ad_history_append(hid_t fid, const char *entry)
{
    static const char *path = "uns/scnet/history";
    char **h = NULL;
    int64_t n = 0;
    SN_TRY(sn_h5ad_history_read(fid, &h, &n));
    char **more = sn_realloc(h, (size_t)(n + 1) * sizeof *more, "the history");
    if (!more) {
        sn_free_strings(h, n);
        return SN_ENOMEM;
    }
    more[n] = (char *)entry;
    int rc = sn_h5ad_write_strings(fid, path, more, n + 1, 0);
    sn_free_strings(more, n);
    return rc;
}
