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
/* Whether every layer, varm and varp element of `in` can be subset (dense
 * arrays of any element type, sparse matrices, data frames in varm):
 * checked before the work, so an hour of training does not end in an
 * element that cannot be written. */
int sn_subset_check(hid_t in) SN_WUR;
/* Names of the children of group path (none when it is absent). */
int sn_h5_children(hid_t loc, const char *path, char ***names, int *n) SN_WUR;

#endif
