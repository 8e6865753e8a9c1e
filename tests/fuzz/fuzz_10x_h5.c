/* Cell Ranger HDF5 (v3 /matrix and v2 genome groups) from a memory image.
 * The size's parity picks whether non-"Gene Expression" features are kept. */
#include "fuzz.h"

#include "scnet/h5.h"
#include "scnet/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sn_h5 *f;
    fz_quiet();
    int rc = sn_h5_open_image(data, size, "fuzz.h5", &f);
    fz_check_rc(rc, "fuzz.h5");
    if (rc < 0)
        return 0;
    sn_read_opts o = {.all_features = (int)(size & 1)};
    sn_adata a;
    if (sn_is_10x_h5(sn_h5_id(f))) {
        rc = sn_read_10x_fid(sn_h5_id(f), "fuzz.h5", &o, &a);
        fz_check_rc(rc, NULL);
        if (rc == SN_OK) {
            if (a.X.nrow != a.obs.n || a.X.ncol != a.var.n)
                abort();
            sn_adata_free(&a);
        }
    }
    sn_h5_close(f);
    return 0;
}
