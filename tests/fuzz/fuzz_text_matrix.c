/* Dense delimited text matrices (CSV/TSV/blanks, quoting, gzip); the
 * first byte picks the orientation. */
#include "fuzz.h"

#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    char path[64];
    fz_quiet();
    if (size < 1)
        return 0;
    sn_orient orient = (sn_orient)(data[0] % 3);
    fz_file(&fd, data + 1, size - 1, path);
    sn_adata a;
    int rc = sn_read_text_matrix(path, orient, &a);
    fz_check_rc(rc, path);
    if (rc == SN_OK)
        sn_adata_free(&a);
    return 0;
}
