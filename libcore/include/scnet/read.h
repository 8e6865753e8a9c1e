/* Count matrices and tables from the formats users have: 10x MatrixMarket
 * folders, 10x HDF5 (Cell Ranger v2 and v3+), .h5ad, dense delimited text
 * (CSV/TSV, optionally gzipped, either orientation), plus cell metadata,
 * PPI edge lists, gene lists and GMT gene sets.  Every reader names the file
 * (and line, for text) in its error messages and never crashes on malformed
 * input. */
#ifndef SCNET_READ_H
#define SCNET_READ_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/h5ad.h"

typedef enum {
    SN_ORIENT_AUTO = 0,   /* text: genes × cells unless the header says otherwise */
    SN_ORIENT_GENES_ROWS, /* rows are genes, columns cells (10x, R write.csv) */
    SN_ORIENT_CELLS_ROWS  /* rows are cells */
} sn_orient;

typedef struct {
    sn_orient orient;   /* text matrices and .mtx files */
    const char *genome; /* 10x HDF5 v2: genome group; NULL = the only one */
    int all_features;   /* 10x: keep features other than "Gene Expression" */
    const char *layer;  /* .h5ad: read this layer instead of X */
} sn_read_opts;

/* Detect the format of path and read cells × genes counts into a:
 * X (CSR float32), obs index = cell ids, var index = gene names (made
 * unique like anndata's var_names_make_unique, with a warning), and where
 * the input has them var columns "gene_ids" and "feature_types". */
int sn_read_counts(const char *path, const sn_read_opts *o, sn_adata *a) SN_WUR;
/* The same from an open HDF5 file (an .h5ad or a 10x matrix; name for
 * messages); *h5ad says which it was. */
int sn_read_counts_fid(hid_t fid, const char *name, const sn_read_opts *o, sn_adata *a, int *h5ad) SN_WUR;
/* Values of an expression matrix read from an .h5ad (name: "X",
 * "layers/counts"): counts or log-normalised expression, so finite and
 * non-negative; the text and 10x readers check their values as they parse. */
int sn_read_check_expr(const sn_csr *x, const char *name) SN_WUR;
/* A 10x MatrixMarket folder: matrix.mtx[.gz] (genes × cells) with
 * features.tsv[.gz] (id, symbol, type), genes.tsv[.gz] (id, symbol) or
 * genes.txt[.gz] (symbols), and barcodes.tsv[.gz].  Like scanpy's
 * read_10x_mtx, only "Gene Expression" features are kept unless
 * o->all_features (o may be NULL: the defaults). */
int sn_read_mtx_dir(const char *dir, sn_adata *a) SN_WUR;
int sn_read_mtx_dir_opts(const char *dir, const sn_read_opts *o, sn_adata *a) SN_WUR;
/* The matrix, gene and barcode files a folder read would open (malloc'd,
 * NULL where absent). */
void sn_read_mtx_dir_files(const char *dir, char *files[3]);
/* A single MatrixMarket file (genes × cells, "coordinate integer|real
 * general"), with optional row/column label files (NULL = numbered from 0);
 * all features are kept.  Entries may come in any order; repeated ones,
 * negative or non-finite values and a count that differs from the size
 * line are errors. */
int sn_read_mtx(const char *mtx, const char *genes, const char *cells, sn_adata *a) SN_WUR;
/* A MatrixMarket file alone (names numbered from 0): genes × cells as 10x
 * writes it, or cells × genes (scanpy's layout, scipy.io.mmwrite of X) with
 * SN_ORIENT_CELLS_ROWS. */
int sn_read_mtx_orient(const char *mtx, sn_orient orient, sn_adata *a) SN_WUR;
/* Cell Ranger HDF5: v3+ (/matrix, features/{id,name,feature_type,genome})
 * or v2 (one group per genome; o->genome picks one when there are several).
 * var columns gene_ids, feature_types and genome as present; only "Gene
 * Expression" features unless o->all_features.  o may be NULL. */
int sn_read_10x_h5(const char *path, const sn_read_opts *o, sn_adata *a) SN_WUR;
/* The same from an open file (name for messages); and the test whether an
 * open HDF5 file is a 10x matrix (v3 /matrix or v2 genome groups). */
int sn_read_10x_fid(hid_t fid, const char *name, const sn_read_opts *o, sn_adata *a) SN_WUR;
int sn_is_10x_h5(hid_t fid);
/* A dense matrix in delimited text (tab, comma or blanks, guessed from the
 * header; R/CSV quoting), streamed into the non-zeros.  The header holds the
 * column names, with or without a leading field for the row names (R's
 * write.csv leaves it out).  SN_ORIENT_AUTO reads genes × cells unless that
 * leading field is named "cell", "barcode", "cell_id" or similar.  Values
 * must be finite, non-negative numbers. */
int sn_read_text_matrix(const char *path, sn_orient orient, sn_adata *a) SN_WUR;

/* Join a CSV/TSV table of cell metadata onto a->obs by cell id (first
 * column, or the column named id_col; the header may leave out the name of
 * the first column, as R's write.csv does).  Columns whose values all parse
 * as numbers become float64, others categorical; "", "NA", "N/A", "NaN" are
 * missing values.  Cells absent from the table get NaN / missing; ids
 * absent from the data are counted and warned about.  No id in common, or
 * an id listed twice, is an error; obs is left unchanged on error. */
int sn_read_obs_table(const char *path, const char *id_col, sn_adata *a) SN_WUR;

/* An edge list: "A B", "A\tB\tw", "A,B,w" (delimiter from the first line),
 * gzip or plain, '#' comment lines.  A first line whose third field is not
 * a number, or whose first fields are names like "protein1", "gene1",
 * "g1_symbol", "source", is a header.  The file is weighted when its first
 * edge has a third field; weights must be finite and >= 0. */
typedef struct {
    int64_t n;        /* edges */
    char **a, **b;    /* node names, n each (pointers into nodes) */
    double *w;        /* weights (1 when the file has none) */
    int weighted;
    int64_t nnodes;   /* distinct names, in order of first appearance */
    char **nodes;
    int32_t *ia, *ib; /* the nodes of each edge, n each */
} sn_edges;

int sn_read_edges(const char *path, sn_edges *e) SN_WUR;
void sn_edges_free(sn_edges *e);

/* Gene list: one name per line (or whitespace/comma separated); '#' starts
 * a comment.  *genes: n malloc'd strings (free with sn_free_strings). */
int sn_read_genes(const char *path, char ***genes, int64_t *n) SN_WUR;

/* GMT gene sets: NAME <tab> DESCRIPTION <tab> GENE ... (empty gene fields
 * are skipped, so NAME <tab> DESCRIPTION with or without a tab after it is a
 * set of no genes; a line without a tab is an error). */
typedef struct {
    int64_t n;
    char **name, **desc;
    int64_t *size;  /* genes per set */
    char ***genes;
} sn_gmt;

int sn_read_gmt(const char *path, sn_gmt *g) SN_WUR;
void sn_gmt_free(sn_gmt *g);

/* Two-column mapping table (e.g. Ensembl id → symbol: a 10x features.tsv,
 * columns 1 and 2; tab, comma or blanks; '#' comment lines).  keys/values
 * malloc'd arrays of n strings (free with sn_free_strings). */
int sn_read_mapping(const char *path, char ***keys, char ***values, int64_t *n) SN_WUR;

#endif
