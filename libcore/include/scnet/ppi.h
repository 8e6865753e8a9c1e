/* Alignment of a protein-protein interaction network to the genes of an
 * expression matrix (MODEL.md §1.3):
 *   1. edges with weight < min_score are dropped (weighted lists only);
 *   2. for mouse data each symbol becomes its first character followed by
 *      the rest lower-cased (TP53 -> Tp53), as the reference does;
 *   3. exact duplicate rows and self-loops are dropped;
 *   4. a gene is kept when the data has it and it is detected in more than
 *      min_expr_frac × n cells;
 *   5. edges between kept genes form an undirected simple graph (parallel
 *      edges merged, keeping the largest weight); genes left without an edge
 *      are dropped.
 * Genes come out in the data's column order; the adjacency is symmetric with
 * the file's weights (1 for unweighted lists). */
#ifndef SCNET_PPI_H
#define SCNET_PPI_H

#include <stdint.h>

#include "scnet/err.h"
#include "scnet/mat.h"
#include "scnet/read.h"

typedef struct {
    double min_score;     /* [0.5] */
    int mouse;            /* [0] */
    double min_expr_frac; /* [0] */
    int64_t min_genes;    /* fewer aligned genes is an error [200]; 0 = no check */
} sn_ppi_opts;

void sn_ppi_defaults(sn_ppi_opts *o);

typedef struct {
    int64_t n;       /* aligned genes */
    int64_t *genes;  /* their data columns, ascending */
    int64_t *degree; /* their degree in adj */
    sn_csr adj;      /* n × n, symmetric, no self-loops */
    /* report */
    int64_t edges_read, edges_below, edges_duplicate, edges_self, edges_kept; /* kept: undirected */
    int64_t ppi_nodes;         /* distinct symbols after the cut-off */
    int64_t genes_matched;     /* data genes that are PPI nodes */
    int64_t genes_unexpressed; /* matched but detected in too few cells */
    int64_t genes_isolated;    /* matched and expressed but without an edge left */
} sn_ppi;

/* genes: the data's gene names (NULL entries never match, e.g. unmapped
 * ids); ncells[j]: cells where gene j is detected, out of n_cells.  Fewer
 * than o->min_genes aligned genes gives SN_EINVAL with a message naming a
 * few unmatched genes of each side and what to check. */
int sn_ppi_align(const sn_edges *e, char *const *genes, int64_t ngenes, const int64_t *ncells, int64_t n_cells,
                 const sn_ppi_opts *o, sn_ppi *p) SN_WUR;
void sn_ppi_free(sn_ppi *p);

/* TP53 -> Tp53 in place (ASCII). */
void sn_ppi_recase_mouse(char *s);
/* The length of an Ensembl id without its .version (ENSG00000010610.12 ->
 * 15; ENST, ENSMUSG... alike), 0 when s is no Ensembl id; *type gets the
 * last letter of its code (G for genes). */
size_t sn_ppi_ensembl_len(const char *s, char *type);
/* 1 when most names look like Ensembl gene ids (ENSG00000141510,
 * ENSMUSG..., optionally with a .version). */
int sn_ppi_names_are_ids(char *const *names, int64_t n);
/* Map ids to symbols with a two-column table (keys -> vals); an id with a
 * .version suffix also matches its bare form.  out[i] is a malloc'd symbol
 * or NULL when the id is not in the table; *mapped counts the hits. */
int sn_ppi_map_ids(char *const *ids, int64_t n, char *const *keys, char *const *vals, int64_t nmap, char ***out,
                   int64_t *mapped) SN_WUR;

#endif
