/* Data frames: the obs (cells) and var (genes) tables of an AnnData file.
 * A frame has a string index (obs_names / var_names) and typed columns. */
#ifndef SCNET_FRAME_H
#define SCNET_FRAME_H

#include <stdint.h>

#include "scnet/err.h"

typedef enum {
    SN_COL_F64,
    SN_COL_F32,
    SN_COL_I64,
    SN_COL_I32,
    SN_COL_BOOL,
    SN_COL_STR,
    SN_COL_CAT /* codes into cats; code -1 = missing */
} sn_coltype;

#define SN_BOOL_NA 2

typedef struct {
    char *name;
    sn_coltype type;
    int64_t n;
    union {
        double *f64;
        float *f32;
        int64_t *i64;
        int32_t *i32;
        uint8_t *b; /* 0, 1, or SN_BOOL_NA (a nullable column's missing value) */
        char **str;
        int32_t *codes;
    } v;
    char **cats; /* SN_COL_CAT only */
    int64_t ncat;
    int ordered;
    /* read from anndata's nullable-integer (F64, NaN = missing) or
     * nullable-string-array (STR, na[i] = missing; NULL = none missing),
     * and written back as it came */
    int nullable;
    uint8_t *na;
    /* the element types on disk where they differ from the column's own
     * (an int8 or uint16 array read as I32, a nullable Int32's values,
     * integer or boolean categories read as strings), so that a column is
     * written back as it was read; "" = the column type's own */
    char dtype[12], cat_dtype[12];
} sn_col;

typedef struct {
    int64_t n;
    char *index_name; /* name of the index dataset on disk; NULL = "_index" */
    char **index;     /* n row labels */
    int ncol;
    sn_col *cols;
} sn_frame;

/* An empty frame of n rows without index labels. */
void sn_frame_init(sn_frame *f, int64_t n);
void sn_frame_free(sn_frame *f);
/* Add a column (or replace one of the same name); the frame takes ownership
 * of col's arrays, col itself is copied.  The column length must be f->n. */
int sn_frame_put(sn_frame *f, sn_col *col) SN_WUR;
sn_col *sn_frame_get(const sn_frame *f, const char *name);
int sn_frame_drop(sn_frame *f, const char *name);
/* out = rows keep[0..nkeep) of f, in that order (index and every column). */
int sn_frame_subset(const sn_frame *f, const int64_t *keep, int64_t nkeep, sn_frame *out) SN_WUR;

/* Column constructors: allocate a column of n rows, values uninitialised
 * (zeroed for numeric), name copied. */
int sn_col_new(sn_col *c, const char *name, sn_coltype type, int64_t n) SN_WUR;
void sn_col_free(sn_col *c);
/* A categorical column without the categories no row uses (as anndata
 * leaves them after a subset); *kept: the old numbers of the categories
 * left, malloc'd, or NULL when none was dropped (or c is not categorical). */
int sn_col_drop_unused(sn_col *c, int64_t **kept) SN_WUR;
/* Build a categorical column from n strings (categories sorted, like anndata
 * does when it converts string columns). */
int sn_col_categorical(sn_col *c, const char *name, char *const *values, int64_t n) SN_WUR;
/* The value of row i as a string (categorical: its category or ""), for
 * printing; buf is used for numbers. */
const char *sn_col_str(const sn_col *c, int64_t i, char *buf, int len);

/* Index helpers: labels must be unique for obs/var names.  Returns the
 * first duplicate's row or -1. */
int64_t sn_index_first_dup(char *const *labels, int64_t n);
/* Make labels unique the way anndata's var_names_make_unique does:
 * the second "X" becomes "X-1", the third "X-2", ... */
int sn_index_make_unique(char **labels, int64_t n) SN_WUR;

#endif
