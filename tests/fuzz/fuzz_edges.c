/* Edge lists (PPI networks): delimiter and header guessing, weights. */
#include "fuzz.h"

#include <float.h>

#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    char path[64];
    sn_edges e;
    fz_quiet();
    fz_file(&fd, data, size, path);
    int rc = sn_read_edges(path, &e);
    fz_check_rc(rc, path);
    if (rc == SN_OK) {
        for (int64_t i = 0; i < e.n; i++)
            if (!e.a[i][0] || !e.b[i][0] || !(e.w[i] >= 0) || e.w[i] > FLT_MAX)
                abort(); /* empty names or weights the reader promises to refuse */
        sn_edges_free(&e);
    }
    return 0;
}
