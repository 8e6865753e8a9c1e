/* Restrict an AnnData file to a subset of its genes: X, every layer, var,
 * every varm and varp element are read from `in`, subset and written to
 * `out` (obs-indexed and unstructured elements are left to the caller). */
#ifndef SCNET_SUBSET_H
#define SCNET_SUBSET_H

#include <hdf5.h>
#include <stdint.h>

#include "scnet/err.h"

/* keep: n ascending gene indices of `in`. */
int sn_subset_var(hid_t in, hid_t out, const int64_t *keep, int64_t n, int comp) SN_WUR;
/* Whether every layer, varm and varp element of `in` can be subset by
 * genes (sn_subset_fits): checked before the work, so an hour of training
 * does not end in an element that cannot be written. */
int sn_subset_check(hid_t in) SN_WUR;
/* Whether every field of `in` has the shape its place gives it (obs and
 * var columns, obsm, obsp, layers, varm, varp elements that are arrays,
 * sparse matrices or data frames; a dict there is not checked), and its
 * uns['scnet'], if any, is a dict with a readable history: a program that
 * copies the fields checks them first, so that a file anndata cannot read
 * is refused, not passed on. */
int sn_subset_check_shapes(hid_t in) SN_WUR;
/* Whether the element at path can be cut: a matrix, an array of any rank
 * from 1, or (n1 < 0) a data frame, whose first dimension is n0 and, when
 * n1 >= 0, second n1.  The message names path only. */
int sn_subset_fits(hid_t in, const char *path, int64_t n0, int64_t n1) SN_WUR;
/* The element at path with rows rows[0..nr) and, when cols is given,
 * columns cols[0..nc) (NULL: all), written as name under loc as it was
 * stored (sn_h5ad_take; a data frame's rows through its columns). */
int sn_subset_elem(hid_t in, const char *path, hid_t loc, const char *name, const int64_t *rows, int64_t nr,
                   const int64_t *cols, int64_t nc, int comp) SN_WUR;
/* The elements of an input (obsm, obsp, layers, varm, varp, uns) that a
 * program keeping a subset of its cells and genes carries to its output:
 * cut to the kept cells (obsm rows, obsp both axes, layers rows) and genes
 * (layers columns, varm rows, varp both axes), uns copied whole. */
typedef struct {
    char **path; /* carried, "obsm/X_umap" */
    int *group;  /* internal: which group each came from */
    int n;
    char **left; /* not carried: what skip said, what cannot be cut or holds HDF5
                  * object references, raw */
    int nleft;
} sn_subset_plan;
/* 0: carry path (when it can be cut); 1: leave it, unsaid (the output
 * makes it anew); 2: leave it, listed in left. */
typedef int (*sn_subset_skip)(const char *path, void *ctx);
/* n_obs, n_var: the input's; skip may be NULL. */
int sn_subset_plan_make(hid_t in, int64_t n_obs, int64_t n_var, sn_subset_skip skip, void *ctx,
                        sn_subset_plan *p) SN_WUR;
/* cells, genes: the input's rows and columns kept, in output order. */
int sn_subset_plan_write(hid_t in, hid_t out, const sn_subset_plan *p, const int64_t *cells, int64_t nc,
                         const int64_t *genes, int64_t ng, int comp) SN_WUR;
/* The categorical columns of frame ("obs" or "var") in the open output f
 * without the categories no row uses, and uns[COLUMN_colors] cut to
 * those left, as anndata leaves them after a subset. */
int sn_subset_trim_categories(hid_t f, const char *frame, int comp) SN_WUR;
/* Whether path ("obsm/X_scnet", "var/scnet_module") is an element or a
 * frame column that scnet-train, scnet-prune or scnet-coembed writes:
 * what stales when the cells or genes it came from change. */
int sn_subset_stage_output(const char *path);
/* Add path to what p leaves behind (a caller's own reason). */
int sn_subset_plan_leave(sn_subset_plan *p, const char *path) SN_WUR;
void sn_subset_plan_free(sn_subset_plan *p);
/* Names of the children of group path (none when it is absent). */
int sn_h5_children(hid_t loc, const char *path, char ***names, int *n) SN_WUR;

#endif
