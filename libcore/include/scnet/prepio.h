/* scnet-prep's results written into an .h5ad file in scanpy's layout
 * (see doc/HACKING.md for the field names). */
#ifndef SCNET_PREPIO_H
#define SCNET_PREPIO_H

#include <hdf5.h>
#include <stdint.h>

#include "scnet/err.h"
#include "scnet/frame.h"
#include "scnet/knn.h"
#include "scnet/mat.h"
#include "scnet/pca.h"

/* layers/<name>: the dense z-score (x - mean) / (std + eps) of the CSR x,
 * computed and written in blocks of rows, so the dense matrix is never held
 * in memory whole. */
int sn_prepio_write_scaled(hid_t f, const char *name, const sn_csr *x, const double *mean, const double *std,
                           double eps, int comp) SN_WUR;

/* obsm/X_pca, varm/PCs (the loadings of the genes genes[0..ngenes), or
 * none when p->loadings is empty) and uns/pca {variance, variance_ratio,
 * params {zero_center, use_highly_variable, n_comps, solver, scaled,
 * iterations}}. */
int sn_prepio_write_pca(hid_t f, const sn_pca *p, const int64_t *genes, int64_t ngenes, int use_hvg, int scaled,
                        int comp) SN_WUR;

/* obsp/distances, obsp/connectivities and uns/neighbors {connectivities_key,
 * distances_key, params {n_neighbors, method 'umap', random_state 0, metric
 * 'euclidean', n_pcs, use_rep 'X_pca'}} from the neighbour lists. */
int sn_prepio_write_neighbors(hid_t f, const sn_knn *g, int n_pcs, int comp) SN_WUR;

/* Named numbers and strings under one dict group (uns/scnet/prep): a value
 * that is a whole number is written as an integer unless real is set. */
typedef struct {
    const char *key;
    double num;
    const char *str; /* a string value when non-NULL */
    int real;        /* always a float64 scalar */
} sn_prepio_item;

int sn_prepio_write_items(hid_t f, const char *group, const sn_prepio_item *items, int n) SN_WUR;

/* Add (or replace) a column of f->n values copied from v: doubles for
 * SN_COL_F64 and SN_COL_F32 (rounded to float32), 0/1 bytes for
 * SN_COL_BOOL, int64 for SN_COL_I64. */
int sn_prepio_col(sn_frame *f, const char *name, sn_coltype type, const void *v) SN_WUR;

#endif
