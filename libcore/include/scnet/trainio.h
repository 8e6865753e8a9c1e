/* scnet-train's file side: what it reads from a prepared .h5ad and how it
 * writes the model's outputs back (field names in scnet-h5ad(5)). */
#ifndef SCNET_TRAINIO_H
#define SCNET_TRAINIO_H

#include <hdf5.h>
#include <stdint.h>

#include "scnet/cli.h"
#include "scnet/train.h"

typedef struct {
    sn_train_data data;
    int G_all;        /* genes in the file */
    int64_t *genes;   /* data.G indices into the file's genes (ascending) */
    float *X;
    uint8_t *hvg;
    int32_t *ppi_a, *ppi_b, *knn;
} sn_train_input;

typedef struct {
    const sn_cli *cli;
    const sn_train_opts *opt;
    const char *device;
    double seconds;
    int compress;
    int max_genes;
} sn_train_meta;

/* Read X (log-normalised), var highly_variable, varp scnet_ppi and obsp
 * distances; with max_genes > 0 keep the most variable genes (by
 * var dispersions_norm) and the PPI among them.  Genes without a PPI edge
 * among the kept genes are left out of the model. */
int sn_train_input_read(hid_t fid, int max_genes, sn_train_input *ti) SN_WUR;
void sn_train_input_free(sn_train_input *ti);
/* out = in plus obsm X_scnet, varm scnet, layers scnet_reconstructed,
 * obsp scnet_attention and scnet_knn_pruned, uns scnet/train; every
 * gene-indexed field is restricted to the model's genes when those are
 * fewer than the file's. */
int sn_train_output_write(hid_t in, hid_t out, const sn_train_input *ti, const sn_train_result *r,
                          const sn_train_meta *meta) SN_WUR;
/* The closing summary of a run on stderr (time, speed, AUROC). */
void sn_train_report(const sn_train_result *r, const sn_train_opts *o, double seconds, const char *device);

#endif
