/* Cell metadata joined onto obs.  The data hold cells c0..c7 with one
 * existing column; the first byte picks the id column (none, "cell",
 * "barcode", a missing name); obs must be unchanged when the join fails. */
#include "fuzz.h"

#include "scnet/frame.h"
#include "scnet/mem.h"
#include "scnet/read.h"

#define NCELL 8

static void make_adata(sn_adata *a)
{
    memset(a, 0, sizeof *a);
    sn_frame_init(&a->obs, NCELL);
    sn_frame_init(&a->var, 0);
    a->obs.index = sn_calloc(NCELL, sizeof *a->obs.index, "ids");
    sn_col c;
    if (!a->obs.index || sn_col_new(&c, "n_counts", SN_COL_F64, NCELL) < 0)
        abort();
    for (int i = 0; i < NCELL; i++) {
        char b[8];
        snprintf(b, sizeof b, "c%d", i);
        a->obs.index[i] = sn_strdup(b);
        c.v.f64[i] = i;
    }
    if (sn_frame_put(&a->obs, &c) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    static const char *const id_col[] = {NULL, "cell", "barcode", "nope"};
    char path[64];
    sn_adata a;
    fz_quiet();
    if (size < 1)
        return 0;
    fz_file(&fd, data + 1, size - 1, path);
    make_adata(&a);
    int rc = sn_read_obs_table(path, id_col[data[0] & 3], &a);
    fz_check_rc(rc, path);
    if (rc < 0 && a.obs.ncol != 1)
        abort(); /* obs is documented as unchanged on error */
    for (int k = 0; k < a.obs.ncol; k++)
        if (a.obs.cols[k].n != NCELL)
            abort();
    sn_adata_free(&a);
    return 0;
}
