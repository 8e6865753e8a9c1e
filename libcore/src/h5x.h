/* Low-level HDF5 helpers behind the .h5ad element layer (internal to
 * libcore; not installed).  Functions that can fail take the element's
 * name for messages ("obs/cell_type") and set the whole message
 * themselves, so callers never prefix twice. */
#ifndef SCNET_H5X_H
#define SCNET_H5X_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "scnet/err.h"
#include "scnet/frame.h"

/* In-memory numeric types the readers convert to. */
typedef enum { SN_H5X_F64, SN_H5X_F32, SN_H5X_I64, SN_H5X_I32, SN_H5X_U8 } sn_h5x_num;

#define SN_H5X_NAME 512 /* buffer size for element names */

/* Close any HDF5 id (dataset, group, type, space, attribute, plist) if valid. */
void sn_h5x_close(hid_t id);
/* h5py's types: vlen UTF-8 string; bool = enum(int8){FALSE=0, TRUE=1}. */
hid_t sn_h5x_str_type(void);
hid_t sn_h5x_bool_type(void);
size_t sn_h5x_num_size(sn_h5x_num t);
hid_t sn_h5x_num_mem(sn_h5x_num t);

/* Element name for messages: loc's own path joined with path, without the
 * leading '/' ("obsm/X_pca"); "/" for the root. */
const char *sn_h5x_name(hid_t loc, const char *path, char *buf, size_t len);
/* Set "name: what (HDF5: innermost library message)" and return code. */
int sn_h5x_fail(int code, const char *name, const char *what);
/* 1 if every component of path exists under loc, else 0. */
int sn_h5x_exists(hid_t loc, const char *path);
/* H5O_TYPE_GROUP / H5O_TYPE_DATASET / -1 (absent or other). */
int sn_h5x_kind(hid_t loc, const char *path);

/* encoding-type of an open element into enc: 1 when it has the attribute,
 * 0 when it is guessed for attribute-less (anndata 0.7) elements: a group
 * with h5sparse_format is a sparse matrix, with _index a dataframe, else a
 * dict; a dataset with a 'categories' reference is a legacy categorical, a
 * string one "string(-array)", a numeric one "(numeric-scalar|array)". */
int sn_h5x_encoding(hid_t obj, const char *name, char *enc, size_t len) SN_WUR;

/* ---- attributes ---- */
/* A scalar (or one-element) string attribute, vlen or fixed-length: 1 with
 * *s malloc'd, 0 when absent, or an error. */
int sn_h5x_attr_str(hid_t obj, const char *attr, const char *name, char **s) SN_WUR;
/* A 1-D string array attribute; a zero-length one of any type (h5py writes
 * an empty column-order as float64[0]) gives n = 0. 0 when absent. */
int sn_h5x_attr_strs(hid_t obj, const char *attr, const char *name, char ***s, int64_t *n) SN_WUR;
/* Up to max integers of an integer attribute into v; *n = count. */
int sn_h5x_attr_ints(hid_t obj, const char *attr, const char *name, int64_t *v, int max, int *n) SN_WUR;
/* A boolean attribute (bool enum or any integer); 0 when absent. */
int sn_h5x_attr_bool(hid_t obj, const char *attr, const char *name, int *v) SN_WUR;
int sn_h5x_set_attr_str(hid_t obj, const char *attr, const char *v) SN_WUR;
int sn_h5x_set_attr_strs(hid_t obj, const char *attr, char *const *v, int64_t n) SN_WUR;
int sn_h5x_set_attr_i64s(hid_t obj, const char *attr, const int64_t *v, int n) SN_WUR;
int sn_h5x_set_attr_bool(hid_t obj, const char *attr, int v) SN_WUR;
/* encoding-type and encoding-version. */
int sn_h5x_set_enc(hid_t obj, const char *type, const char *version) SN_WUR;
/* Copy every attribute of src onto dst (replacing same-named ones). */
int sn_h5x_copy_attrs(hid_t src, hid_t dst) SN_WUR;

/* ---- datasets ---- */
/* Rank and dimensions (at most max; more is an error). */
int sn_h5x_dims(hid_t ds, const char *name, int *rank, int64_t *dims, int max) SN_WUR;
/* Number of elements of a dataset (product of dims; 1 for a scalar). */
int sn_h5x_count(hid_t ds, const char *name, int64_t *n) SN_WUR;
/* numpy-style name of a type: "float32", "int8", "uint64", "bool", "str",
 * "enum", "compound", ... into buf. */
const char *sn_h5x_dtype(hid_t type, char *buf, size_t len);
/* Whole dataset read into buf (count elements of type want), converting
 * any integer, float or bool-enum type; strings and others are an error. */
int sn_h5x_read_num(hid_t ds, const char *name, sn_h5x_num want, void *buf) SN_WUR;
/* The same into a new buffer of n elements (n from the shape the caller
 * checked; what names it in an out-of-memory message); *buf is NULL after
 * an error. */
int sn_h5x_read_num_new(hid_t ds, const char *name, sn_h5x_num want, size_t n, const char *what,
                        void **buf) SN_WUR;
/* Whole string dataset (vlen or fixed-length, any rank, flattened). */
int sn_h5x_read_strs(hid_t ds, const char *name, char ***s, int64_t *n) SN_WUR;
/* A numeric dataset as text the way pandas prints it: integers "%lld",
 * floats shortest round-trip with ".0" for whole numbers, bools
 * "True"/"False". */
int sn_h5x_read_numstrs(hid_t ds, const char *name, char ***s, int64_t *n) SN_WUR;

/* Create dataset name under loc (an existing link of that name is removed
 * first) with file type ftype; comp 1..9 = gzip in chunks, 0 = contiguous.
 * rank 0 = scalar (never chunked). Creation times are not stored, so equal
 * input gives equal bytes. */
int sn_h5x_create(hid_t loc, const char *name, hid_t ftype, int rank, const int64_t *dims, int comp,
                  hid_t *ds) SN_WUR;
/* Create + write + encoding attributes (enc may be NULL: no attributes, as
 * for the children of sparse groups). */
int sn_h5x_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *dims,
                 const void *buf, int comp, const char *enc, const char *ver) SN_WUR;
/* The block start .. start + count (rank dimensions) of dataset ds, read
 * into or written from buf (memory type mtype, laid out as count):
 * SN_OK or SN_EIO, the caller naming what failed. */
int sn_h5x_read_slab(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count, void *buf);
/* All n values of ds read as they lie in its file, by pread on every
 * thread, when that gives what HDF5 would (type mtype stored as it is, no
 * filters, every chunk written, a file open read-only with the default
 * driver): 1 when read, 0 when HDF5 must read them instead, or an error
 * naming name. */
int sn_h5x_read_direct(hid_t ds, hid_t mtype, int64_t n, void *buf, const char *name) SN_WUR;
int sn_h5x_write_slab(hid_t ds, hid_t mtype, int rank, const hsize_t *start, const hsize_t *count,
                      const void *buf);
/* A dataset written in nb blocks through two buffers (slots 0 and 1):
 * make(ctx, i, slot) fills block i, sharing its work out with an orphaned
 * `omp for` of dynamic schedule (it runs inside a team here), and put(ctx,
 * i, slot) writes it, on thread 0 (the caller's thread, as HDF5 wants).
 * Block i + 1 is made while block i is written, the writer joining the
 * making once done: copying into the page cache is one thread's work.
 * Stops at the first put that fails and returns its code. */
typedef void (*sn_h5x_make_fn)(void *ctx, int64_t i, int slot);
typedef int (*sn_h5x_put_fn)(void *ctx, int64_t i, int slot);
int sn_h5x_pipeline(int64_t nb, sn_h5x_make_fn make, sn_h5x_put_fn put, void *ctx);
/* 1 if str is valid UTF-8 (what Python's strict decoder accepts). */
int sn_h5x_utf8_ok(const char *str);
int sn_h5x_write_strs(hid_t loc, const char *name, char *const *s, int64_t n, int comp, const char *enc,
                      const char *ver) SN_WUR;
/* New group (replacing an existing link) with encoding attributes. */
int sn_h5x_group(hid_t loc, const char *name, const char *enc, const char *ver, hid_t *g) SN_WUR;
/* Group/dataset creation properties without timestamps. */
hid_t sn_h5x_gcpl(void);

/* ---- elements (h5ad_elem.c) ---- */
/* Open the element at path: *obj (close with sn_h5x_close), name[SN_H5X_NAME]
 * for messages, its encoding-type.  Returns 1 when the encoding came from
 * the attribute, 0 when guessed, or an error ("NAME: missing"). */
int sn_h5x_open(hid_t loc, const char *path, char *name, hid_t *obj, char *enc, size_t enclen) SN_WUR;
/* For writers: the parent group of name (created as dicts when missing;
 * close with H5Gclose) and the last path component. */
int sn_h5x_parent(hid_t loc, const char *name, hid_t *parent, const char **leaf) SN_WUR;
/* shape (or h5sparse_shape) attribute of a sparse group. */
int sn_h5x_sparse_shape(hid_t g, const char *name, int64_t *nrow, int64_t *ncol) SN_WUR;
/* The child dataset of sparse group g (indptr, indices, data), opened into
 * *ds (close it even after an error): 1-D, integer when want_int; *len its
 * length. */
int sn_h5x_sparse_child(hid_t g, const char *child, const char *name, int want_int, hid_t *ds,
                        int64_t *len) SN_WUR;
/* indptr p of major + 1 entries: from 0, increasing, ending at nnz. */
int sn_h5x_check_indptr(const int64_t *p, int64_t major, int64_t nnz, const char *name, const char *unit) SN_WUR;
/* Write an array-like element at name (parents made as dicts, an existing
 * element replaced) with encoding enc, version "0.2.0". */
int sn_h5x_put(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const int64_t *dims, const void *buf,
               int comp, const char *enc) SN_WUR;
/* Read the frame column element obj into c (named after the last component
 * of name): 1 = read, 0 = skipped with a warning (unsupported type). */
int sn_h5x_read_colobj(hid_t obj, const char *name, const char *enc, sn_col *c) SN_WUR;
/* Rows of the dataframe group g and the name of its index dataset
 * (malloc'd; may be NULL). */
int sn_h5x_frame_len(hid_t g, const char *name, int64_t *n, char **index) SN_WUR;

#endif
