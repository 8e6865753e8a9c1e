/* Helpers shared by the input readers (read_*.c); not part of the public
 * API.  They follow the library conventions: 0 or a negative SN_E* code,
 * one message via sn_err. */
#ifndef SCNET_READ_INT_H
#define SCNET_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scnet/frame.h"
#include "scnet/h5ad.h"
#include "scnet/mat.h"
#include "scnet/text.h"

/* Free X, obs and var (what the readers fill) and zero them. */
void sn_rd_adata_clear(sn_adata *a);

/* Make labels unique like anndata's var_names_make_unique; when some were
 * renamed, warn once "PATH: N WHAT were not unique ...". */
int sn_rd_make_unique(char **labels, int64_t n, const char *path, const char *what) SN_WUR;

/* Sort the column indices within each row.  Returns 0, or 1 with the row and
 * column of the first entry that appears twice, or an error. */
int sn_rd_sort_rows(sn_csr *m, int64_t *dup_row, int32_t *dup_col) SN_WUR;

/* Keep only the var rows (matrix columns) with keep[j] != 0, in order. */
int sn_rd_keep_vars(sn_adata *a, const uint8_t *keep) SN_WUR;

/* Drop every feature whose var "feature_types" is not "Gene Expression"
 * (a no-op when the column is absent).  Errors when none is left. */
int sn_rd_gex_only(sn_adata *a, const char *path) SN_WUR;

/* Columns built from n strings: the column takes v (and its strings). */
int sn_rd_str_col(sn_frame *f, const char *name, char **v) SN_WUR;
/* A categorical column from n borrowed strings (NULL = missing). */
int sn_rd_cat_col(sn_frame *f, const char *name, char *const *v) SN_WUR;

/* Parse a number: 0 ok, 1 not a number, 2 not finite (NaN, Inf). */
int sn_rd_number(const char *s, double *v);
/* Parse a count for a float32 matrix: SN_RD_OK or what is wrong with it;
 * sn_rd_count_problem describes that ("negative count -3"). */
enum { SN_RD_OK, SN_RD_NOTNUM, SN_RD_NONFINITE, SN_RD_NEGATIVE, SN_RD_HUGE };
int sn_rd_count(const char *s, double *v);
const char *sn_rd_count_problem(int code, const char *s, char *buf, size_t len);

/* Split on delim without quote handling (GMT, label files): fields point
 * into line; returns the number of fields (may exceed max). */
int64_t sn_rd_split_plain(char *line, char delim, char **fields, int64_t max);

/* line without the UTF-8 byte-order mark that spreadsheet exports put at
 * the start of a file (line 1 only). */
char *sn_rd_nobom(const sn_text *t, char *line);

/* rc; an out-of-memory message (mem.h names only what was allocated)
 * gets "PATH: " in front unless it names path already. */
int sn_rd_named(int rc, const char *path);

/* Truncate a value for quoting in a message. */
const char *sn_rd_quote(const char *s, char *buf, size_t len);

#endif
