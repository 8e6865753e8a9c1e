/* GMT gene sets: NAME, DESCRIPTION, genes, tab-separated. */
#include "fuzz.h"

#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    char path[64];
    sn_gmt g;
    fz_quiet();
    fz_file(&fd, data, size, path);
    int rc = sn_read_gmt(path, &g);
    fz_check_rc(rc, path);
    if (rc == SN_OK) {
        for (int64_t i = 0; i < g.n; i++)
            for (int64_t k = 0; k < g.size[i]; k++)
                if (!g.genes[i][k][0])
                    abort(); /* empty gene fields are documented as skipped */
        sn_gmt_free(&g);
    }
    return 0;
}
