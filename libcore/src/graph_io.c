/* Plain-text exports of networks, modules and differential networks, for
 * Cytoscape, igraph or R.  Written through sn_out: atomic, "-" = stdout. */
#include "scnet/file.h"
#include "scnet/graph.h"
#include "scnet/text.h"

#include <stdio.h>

int sn_graph_write_tsv(const sn_graph *g, char *const *names, const char *path)
{
    sn_out *o;
    SN_TRY(sn_out_open(path, 0, &o));
    FILE *fp = sn_out_fp(o);
    fprintf(fp, "gene1\tgene2\tweight\n");
    for (int64_t e = 0; e < g->m; e++) {
        sn_tsv_field(fp, names[g->a[e]]);
        fputc('\t', fp);
        sn_tsv_field(fp, names[g->b[e]]);
        fprintf(fp, "\t%.9g\n", g->w ? g->w[e] : 1.0);
    }
    return sn_out_commit(o);
}

int sn_modules_write_tsv(char *const *names, const int64_t *membership, int64_t n,
                         const char *path)
{
    sn_out *o;
    SN_TRY(sn_out_open(path, 0, &o));
    FILE *fp = sn_out_fp(o);
    fprintf(fp, "gene\tmodule\n");
    for (int64_t i = 0; i < n; i++) {
        sn_tsv_field(fp, names[i]);
        fprintf(fp, "\t%lld\n", (long long)membership[i]);
    }
    return sn_out_commit(o);
}

int sn_netdiff_write_tsv(const sn_netdiff *d, char *const *names1, const char *label1,
                         const char *label2, const char *path)
{
    sn_out *o;
    SN_TRY(sn_out_open(path, 0, &o));
    FILE *fp = sn_out_fp(o);
    fprintf(fp, "gene1\tgene2\tnetwork\tweight\n");
    for (int64_t e = 0; e < d->n; e++) {
        sn_tsv_field(fp, names1[d->u[e]]);
        fputc('\t', fp);
        sn_tsv_field(fp, names1[d->v[e]]);
        fprintf(fp, "\t%s\t%.9g\n", d->side[e] == 1 ? label1 : label2, d->w[e]);
    }
    return sn_out_commit(o);
}
