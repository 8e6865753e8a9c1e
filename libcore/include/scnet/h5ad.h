/* AnnData (.h5ad) elements on disk, following the anndata on-disk spec
 * (encoding-type / encoding-version attributes; see scnet-h5ad(5)).
 *
 * Paths are relative to loc ("obsm/X_pca", "uns/scnet/history").  Readers
 * accept what anndata 0.8–0.12 writes (dense, CSR, CSC; any integer index
 * width; float32/64 or integer values; gzip or LZF compression; string,
 * categorical, numeric, boolean and nullable columns).  Writers produce
 * files that anndata reads without warnings (strings must be UTF-8).
 * comp: 0 = uncompressed, 1–9 = gzip level (in chunks).  Errors name the element ("obsm/X_pca: ..."); callers
 * prefix the file name. */
#ifndef SCNET_H5AD_H
#define SCNET_H5AD_H

#include <hdf5.h>
#include <stdint.h>

#include "scnet/err.h"
#include "scnet/frame.h"
#include "scnet/mat.h"

/* The in-memory core of an AnnData object: X with its obs and var tables. */
typedef struct {
    sn_csr X; /* n_obs × n_var */
    sn_frame obs, var;
} sn_adata;

void sn_adata_free(sn_adata *a);

/* ---- whole files ---- */

/* Check that fid is an AnnData file (root attributes or at least obs/var
 * groups) and give its shape (the lengths of the obs and var indexes); X,
 * when present, must have that shape.  Pre-0.7 files (compound obs/var
 * datasets) get "unsupported old .h5ad layout (obs is a compound dataset);
 * re-save it with anndata >= 0.8". */
int sn_h5ad_check(hid_t fid, int64_t *n_obs, int64_t *n_var) SN_WUR;
/* Read X (or layer when non-NULL, e.g. "counts") as CSR and obs/var.
 * A missing X (or layer) is an error. */
int sn_h5ad_read(hid_t fid, const char *layer, sn_adata *a) SN_WUR;
/* Initialise an empty file: root attributes and empty obsm, varm, obsp,
 * varp, layers and uns groups. */
int sn_h5ad_init(hid_t fid) SN_WUR;
/* Write X, obs and var of a (with sn_h5ad_init first). */
int sn_h5ad_write(hid_t fid, const sn_adata *a, int comp) SN_WUR;
/* Copy every root element of src into dst (root attributes included),
 * except the paths listed in skip (NULL-terminated, may be NULL;
 * "obsm/X_scnet" skips one child of a group).  Lets a stage write "the
 * input plus its fields" while preserving everything it does not
 * understand.  Elements of dst with the same name are replaced. */
int sn_h5ad_copy(hid_t src, hid_t dst, const char *const *skip) SN_WUR;
/* Copy the element at from (in src, with everything below it) to to (in
 * dst, whose parent group must exist), replacing what is there. */
int sn_h5ad_copy_elem(hid_t src, const char *from, hid_t dst, const char *to) SN_WUR;
/* Append "PROG VERSION: COMMAND LINE" of this run to uns/scnet/history. */
struct sn_cli_s;
int sn_h5ad_record_run(hid_t fid, const struct sn_cli_s *cli) SN_WUR;
/* The lines of uns/scnet/history (none when absent; one line stored as a
 * string, as uns['scnet'] = {'history': '...'} from Python writes it, is a
 * history of one line). */
int sn_h5ad_history_read(hid_t fid, char ***h, int64_t *n) SN_WUR;
/* Append entry to the string array uns/scnet/history (created if absent). */
int sn_h5ad_history_append(hid_t fid, const char *entry) SN_WUR;

/* ---- elements: query ---- */

/* What an element is, for listings (scnet-info) and for dispatch. */
typedef struct {
    char encoding[32]; /* encoding-type; guessed for attribute-less (0.7) elements */
    char dtype[16];    /* value type: "float32", "int64", "uint16", "bool", "str" (for
                        * categoricals: the categories' type); "" for groups */
    int group;         /* 1 for HDF5 groups (sparse, dataframe, dict, categorical...) */
    int legacy;        /* 1 when encoding-type was absent and guessed */
    int ndim;          /* 0 for scalars; sparse 2; dataframe 2 (rows, columns) */
    int64_t shape[8];
    int64_t nnz;  /* sparse: stored values; otherwise -1 */
    int64_t ncat; /* categorical: categories; otherwise -1 */
    int ordered;  /* categorical: the ordered flag */
} sn_h5ad_elem;

/* Describe the element at path without reading its values. */
int sn_h5ad_stat(hid_t loc, const char *path, sn_h5ad_elem *e) SN_WUR;
/* Names of the children of the group at path (NULL or "" = loc itself),
 * sorted by name; *keys malloc'd (sn_free_strings). */
int sn_h5ad_keys(hid_t loc, const char *path, char ***keys, int64_t *n) SN_WUR;

/* 1 if the path exists, else 0. */
int sn_h5ad_exists(hid_t loc, const char *path);
/* encoding-type of the element ("csr_matrix", "array", ...) into buf;
 * "" when the attribute is absent. */
int sn_h5ad_encoding(hid_t loc, const char *path, char *buf, size_t len) SN_WUR;
/* SN_OK when anndata has a reader for the element at path: its
 * encoding-type and encoding-version are a pair anndata reads, on the kind
 * of object (group or dataset) they stand on, or both are absent (files
 * of anndata 0.7).  Else one line naming path and what is wrong. */
int sn_h5ad_check_spec(hid_t loc, const char *path) SN_WUR;
/* Shape of a 2-D matrix element (dense or sparse). */
int sn_h5ad_shape(hid_t loc, const char *path, int64_t *nrow, int64_t *ncol) SN_WUR;

/* ---- elements: read ---- */

/* csr_matrix, csc_matrix (converted) or a dense 2-D array (zeros dropped)
 * as CSR float32.  Checks the structure: indptr length and bounds, nnz,
 * indices in range; unsorted rows are sorted, repeated indices refused. */
int sn_h5ad_read_csr(hid_t loc, const char *path, sn_csr *m) SN_WUR;
/* Dense float32 (a sparse element is densified). */
int sn_h5ad_read_mat(hid_t loc, const char *path, sn_mat *m) SN_WUR;
/* Dense float64: a dense array keeps full precision (integers up to 2^53
 * exactly); a sparse element is densified from its float32 values. */
int sn_h5ad_read_matd(hid_t loc, const char *path, sn_matd *m) SN_WUR;
/* 1-D numeric or bool array as doubles; a nullable-integer/boolean
 * element gives NaN where masked. */
int sn_h5ad_read_vec(hid_t loc, const char *path, double **v, int64_t *n) SN_WUR;
/* 1-D integer or bool array as int64 (floats are refused). */
int sn_h5ad_read_ivec(hid_t loc, const char *path, int64_t **v, int64_t *n) SN_WUR;
/* Labels: a string array (vlen or fixed-length, any rank, flattened), a
 * categorical (its values; "" where missing), a nullable-string-array ("" where
 * masked) or a numeric array (numbers as text). */
int sn_h5ad_read_strings(hid_t loc, const char *path, char ***s, int64_t *n) SN_WUR;
/* A dataframe: index from the dataset named by _index, columns in
 * column-order.  Column types: numeric arrays (float64/float32 kept, int64
 * and uint32/uint64 → SN_COL_I64, narrower integers → SN_COL_I32), bool,
 * string arrays, categoricals (numeric categories become text, code -1 =
 * missing), nullable-integer (→ SN_COL_F64, NaN where masked),
 * nullable-boolean (→ SN_COL_BOOL, SN_BOOL_NA where masked, written back
 * as nullable-boolean), nullable-string-array
 * ("" where masked).  Columns of other element types are skipped with a
 * warning naming them. */
int sn_h5ad_read_frame(hid_t loc, const char *path, sn_frame *f) SN_WUR;
/* The index dataset name and the column names (column-order) of a
 * dataframe, without reading its values; malloc'd. */
int sn_h5ad_frame_names(hid_t loc, const char *path, char **index, char ***cols, int64_t *ncol) SN_WUR;
/* The row labels of a frame ("obs" or "var"). */
int sn_h5ad_read_index(hid_t loc, const char *frame, char ***labels, int64_t *n) SN_WUR;
/* One column of a frame (path = "var/highly_variable"). */
int sn_h5ad_read_col(hid_t loc, const char *path, sn_col *c) SN_WUR;
/* numeric-scalar (bool → 0/1) or a one-element numeric array. */
int sn_h5ad_read_scalar(hid_t loc, const char *path, double *v) SN_WUR;
/* A string scalar; *s malloc'd. */
int sn_h5ad_read_str(hid_t loc, const char *path, char **s) SN_WUR;

/* ---- elements: write (an existing element of the same name is replaced;
 * missing parent groups are created as dicts) ---- */

/* CSR with int32 indptr/indices when they fit, else int64; rows with
 * unsorted indices are written sorted. */
int sn_h5ad_write_csr(hid_t loc, const char *name, const sn_csr *m, int comp) SN_WUR;
/* The dense array at path in `in` (any rank from 1, any element type,
 * strings too) with its first dimension restricted to rows[0..nr) and,
 * when cols is given, its second to cols[0..nc) (NULL: all), written as
 * dst under loc with the same element type and attributes. */
int sn_h5ad_take(hid_t in, const char *path, hid_t loc, const char *dst, const int64_t *rows, int64_t nr,
                 const int64_t *cols, int64_t nc, int comp) SN_WUR;
/* The columns of m that colmap keeps (colmap[j]: column j's new index in
 * [0, ncol), or -1), written a block of entries at a time: no copy of m
 * when the map keeps the columns' order and m's rows are sorted. */
int sn_h5ad_write_csr_cols(hid_t loc, const char *name, const sn_csr *m, const int64_t *colmap, int64_t ncol,
                           int comp) SN_WUR;
/* The same, name's indptr and indices hard links to those of the CSR
 * group like (a path from loc) when like was written by this function from
 * a matrix with m's indptr and indices through the same colmap (m's values
 * may differ since): only the values are written then.  like's row
 * pointers and length are checked, its indices taken on trust; with like
 * NULL, or when the check fails, everything is written. */
int sn_h5ad_write_csr_cols_like(hid_t loc, const char *name, const sn_csr *m, const int64_t *colmap, int64_t ncol,
                                int comp, const char *like) SN_WUR;
/* As sn_h5ad_write_csr; where the CSR group like (a path from loc, already
 * written) has m's indptr and indices, name's are hard links to them, so
 * X and layers/counts store their shared structure once. */
int sn_h5ad_write_csr_like(hid_t loc, const char *name, const sn_csr *m, int comp, const char *like) SN_WUR;
int sn_h5ad_write_mat(hid_t loc, const char *name, const sn_mat *m, int comp) SN_WUR;
int sn_h5ad_write_matd(hid_t loc, const char *name, const sn_matd *m, int comp) SN_WUR;
int sn_h5ad_write_vec(hid_t loc, const char *name, const double *v, int64_t n, int comp) SN_WUR;
int sn_h5ad_write_ivec(hid_t loc, const char *name, const int64_t *v, int64_t n, int comp) SN_WUR;
/* Bool array (h5py's bool enum); nonzero = true. */
int sn_h5ad_write_bvec(hid_t loc, const char *name, const uint8_t *v, int64_t n, int comp) SN_WUR;
int sn_h5ad_write_strings(hid_t loc, const char *name, char *const *s, int64_t n, int comp) SN_WUR;
/* Why no frame column can be named col (a message: "names cannot contain
 * '/'"), or NULL when it can (uniqueness and the index name aside). */
const char *sn_h5ad_colname_problem(const char *col);
/* Column names must be unique, pass sn_h5ad_colname_problem, and not be
 * the index name; a NULL index is written as "0", "1", ...
 * Duplicate index labels are written with a warning (anndata warns too). */
int sn_h5ad_write_frame(hid_t loc, const char *name, const sn_frame *f, int comp) SN_WUR;
/* Add or replace one column of an existing frame: a replaced column keeps
 * its place in column-order, a new one is appended. */
int sn_h5ad_write_col(hid_t loc, const char *frame, const sn_col *c, int comp) SN_WUR;
/* Remove one column of a frame if present (1 removed, 0 absent). */
int sn_h5ad_drop_col(hid_t loc, const char *frame, const char *col) SN_WUR;
int sn_h5ad_write_scalar(hid_t loc, const char *name, double v) SN_WUR;
int sn_h5ad_write_int(hid_t loc, const char *name, int64_t v) SN_WUR;
int sn_h5ad_write_bool(hid_t loc, const char *name, int v) SN_WUR;
int sn_h5ad_write_str(hid_t loc, const char *name, const char *s) SN_WUR;
/* Open or create the dict group at path (parents too, like mkdir -p; an
 * existing group is opened as it is); *g must be closed with H5Gclose. */
int sn_h5ad_dict(hid_t loc, const char *path, hid_t *g) SN_WUR;
/* Remove an element if present (1 removed, 0 absent). */
int sn_h5ad_remove(hid_t loc, const char *path) SN_WUR;

#endif
