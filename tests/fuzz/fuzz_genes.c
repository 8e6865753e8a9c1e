/* Gene lists: one name per line, or blank/comma separated; comments. */
#include "fuzz.h"

#include "scnet/mem.h"
#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    char path[64];
    char **g;
    int64_t n;
    fz_quiet();
    fz_file(&fd, data, size, path);
    int rc = sn_read_genes(path, &g, &n);
    fz_check_rc(rc, path);
    if (rc == SN_OK) {
        for (int64_t i = 0; i < n; i++)
            if (!g[i][0])
                abort();
        sn_free_strings(g, n);
    }
    return 0;
}
