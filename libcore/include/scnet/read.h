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
    sn_orient orient;   /* text matrices */
    const char *genome; /* 10x HDF5 v2: genome group; NULL = the only one */
    int all_features;   /* 10x: keep features other than "Gene Expression" */
    const char *layer;  /* .h5ad: read this layer instead of X */
} sn_read_opts;

/* Detect the format of path and read cells × genes counts into a:
 * X (CSR float32), obs index = cell ids, var index = gene names (made
 * unique like anndata's var_names_make_unique, with a warning), and where
 * the input has them var columns "gene_ids" and "feature_types". */
int sn_read_counts(const char *path, const sn_read_opts *o, sn_adata *a) SN_WUR;
int sn_read_mtx_dir(const char *dir, sn_adata *a) SN_WUR;
/* A single MatrixMarket file (genes × cells), with optional row/column
 * label files (NULL = numbered). */
int sn_read_mtx(const char *mtx, const char *genes, const char *cells, sn_adata *a) SN_WUR;
int sn_read_10x_h5(const char *path, const sn_read_opts *o, sn_adata *a) SN_WUR;
int sn_read_text_matrix(const char *path, sn_orient orient, sn_adata *a) SN_WUR;

/* Join a CSV/TSV table of cell metadata onto a->obs by cell id (first
 * column, or the column named id_col).  Columns whose values all parse as
 * numbers become float64, others categorical.  Cells absent from the table
 * get NaN / missing; ids absent from the data are counted and warned about. */
int sn_read_obs_table(const char *path, const char *id_col, sn_adata *a) SN_WUR;

/* An edge list: "A B", "A\tB\tw", "A,B,w", optional header, gzip.  Columns
 * a, b (0-based) hold the node names; wcol is the weight column or -1. */
typedef struct {
    int64_t n;       /* edges */
    char **a, **b;   /* node names, n each */
    double *w;       /* weights (1 when the file has none) */
    int weighted;
} sn_edges;

int sn_read_edges(const char *path, sn_edges *e) SN_WUR;
void sn_edges_free(sn_edges *e);

/* Gene list: one name per line (or whitespace/comma separated); '#' starts
 * a comment. */
int sn_read_genes(const char *path, char ***genes, int64_t *n) SN_WUR;

/* GMT gene sets: NAME <tab> DESCRIPTION <tab> GENE ... */
typedef struct {
    int64_t n;
    char **name, **desc;
    int64_t *size;  /* genes per set */
    char ***genes;
} sn_gmt;

int sn_read_gmt(const char *path, sn_gmt *g) SN_WUR;
void sn_gmt_free(sn_gmt *g);

/* Two-column mapping table (e.g. Ensembl id → symbol: a 10x features.tsv,
 * columns 1 and 2).  keys/values malloc'd arrays of n strings. */
int sn_read_mapping(const char *path, char ***keys, char ***values, int64_t *n) SN_WUR;

#endif
