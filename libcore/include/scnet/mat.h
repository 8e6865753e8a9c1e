/* In-memory matrices shared by every module.
 *
 * sn_csr: compressed sparse rows, int64 row pointers (nnz may pass 2^31),
 * int32 column indices (sorted within a row), float32 values.
 * sn_mat: dense float32, row-major.  sn_matd: dense float64, row-major. */
#ifndef SCNET_MAT_H
#define SCNET_MAT_H

#include <stdint.h>

#include "scnet/err.h"

typedef struct {
    int64_t nrow, ncol;
    int64_t *indptr;  /* nrow + 1 */
    int32_t *indices; /* nnz */
    float *data;      /* nnz */
} sn_csr;

typedef struct {
    int64_t nrow, ncol;
    float *data;
} sn_mat;

typedef struct {
    int64_t nrow, ncol;
    double *data;
} sn_matd;

static inline int64_t sn_csr_nnz(const sn_csr *m) { return m->indptr ? m->indptr[m->nrow] : 0; }

int sn_csr_alloc(sn_csr *m, int64_t nrow, int64_t ncol, int64_t nnz) SN_WUR;
void sn_csr_free(sn_csr *m);
/* t = transpose of a (CSR of aᵀ, indices sorted). */
int sn_csr_transpose(const sn_csr *a, sn_csr *t) SN_WUR;
/* Keep the rows listed in rows[0..nrows) (in that order) and the columns with
 * colmap[j] >= 0, renumbered to colmap[j]; ncol_new columns in the result.
 * rows may be NULL (rows 0..nrows in order), colmap NULL (all columns kept). */
int sn_csr_subset(const sn_csr *a, const int64_t *rows, int64_t nrows, const int64_t *colmap,
                  int64_t ncol_new, sn_csr *out) SN_WUR;
/* Check structure: indptr monotone, indices in range and sorted, values
 * finite.  Returns SN_EFMT with a message naming the first problem. */
int sn_csr_validate(const sn_csr *m, int need_sorted) SN_WUR;
/* Sort the indices within each row (and their values); duplicates are an error. */
int sn_csr_sort_rows(sn_csr *m) SN_WUR;
/* 1 when every row's indices increase strictly (checked in parallel). */
int sn_csr_rows_sorted(const sn_csr *m);
/* The row holding stored entry k (0 <= k < indptr[n]) of a compressed
 * matrix with n rows (columns of a CSC) and row pointers indptr. */
int64_t sn_indptr_row(const int64_t *indptr, int64_t n, int64_t k);
/* The first stored value that is negative, NaN or infinite, or -1 when
 * there is none (checked in parallel); *row: its row. */
int64_t sn_csr_first_invalid(const sn_csr *m, int64_t *row);
/* SN_OK when every stored value is finite and non-negative (graph weights);
 * else an error naming name (NULL: the caller names the matrix), the value
 * and its row. */
int sn_csr_check_weights(const sn_csr *m, const char *name) SN_WUR;

int sn_mat_alloc(sn_mat *m, int64_t nrow, int64_t ncol) SN_WUR;
int sn_mat_zeros(sn_mat *m, int64_t nrow, int64_t ncol) SN_WUR;
void sn_mat_free(sn_mat *m);
int sn_matd_alloc(sn_matd *m, int64_t nrow, int64_t ncol) SN_WUR;
void sn_matd_free(sn_matd *m);

#endif
