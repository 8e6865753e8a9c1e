/* MatrixMarket: a single file (with or without row/column label files)
 * and 10x folders (features.tsv or genes.tsv).  The first byte picks the
 * layout (and bit 2 whether
 * all features are kept); the rest is split at "\n--\n" into matrix, genes and barcodes. */
#include "fuzz.h"

#include <sys/stat.h>

#include "scnet/read.h"

static char dir[64];

static void put(const char *name, const uint8_t *d, size_t n)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "wb");
    if (!fp || (n && fwrite(d, 1, n, fp) != n) || fclose(fp) != 0)
        abort();
}

static int read_dir(const uint8_t **part, size_t *len, int genes_tsv, int all)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/dev/shm/fuzz-mtx.XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, genes_tsv ? "features.tsv" : "genes.tsv");
    unlink(p);
    put("matrix.mtx", part[0], len[0]);
    put(genes_tsv ? "genes.tsv" : "features.tsv", part[1], len[1]);
    put("barcodes.tsv", part[2], len[2]);
    sn_adata a;
    sn_read_opts o = {.all_features = all};
    int rc = sn_read_mtx_dir_opts(dir, &o, &a);
    fz_check_rc(rc, dir);
    if (rc == SN_OK)
        sn_adata_free(&a);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd[3];
    char path[3][64];
    const uint8_t *part[3];
    size_t len[3];
    fz_quiet();
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    int np = fz_split(data + 1, size - 1, part, len, 3);
    if (mode >= 2)
        return read_dir(part, len, mode == 3, data[0] >> 2 & 1);
    for (int k = 0; k < 3; k++)
        fz_file(&fd[k], part[k], len[k], path[k]);
    sn_adata a;
    int labelled = mode == 1 && np == 3;
    int rc = sn_read_mtx(path[0], labelled ? path[1] : NULL, labelled ? path[2] : NULL, &a);
    fz_check_rc(rc, labelled ? "/proc/self/fd/" : path[0]);
    if (rc == SN_OK)
        sn_adata_free(&a);
    return 0;
}
