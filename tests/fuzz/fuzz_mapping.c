/* Two-column mapping tables (Ensembl id -> symbol, 10x features.tsv). */
#include "fuzz.h"

#include "scnet/mem.h"
#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd;
    char path[64];
    char **k, **v;
    int64_t n;
    fz_quiet();
    fz_file(&fd, data, size, path);
    int rc = sn_read_mapping(path, &k, &v, &n);
    fz_check_rc(rc, path);
    if (rc == SN_OK) {
        sn_free_strings(k, n);
        sn_free_strings(v, n);
    }
    return 0;
}
