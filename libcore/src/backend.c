#include "scnet/backend.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "scnet/log.h"

int sn_backend_open(const char *device, int tf32, sn_ops **ops, char *desc, size_t len)
{
    *ops = NULL;
    if (strncmp(device, "cuda", 4) == 0)
        return sn_err(SN_EINVAL, "no usable CUDA device: this build has no CUDA backend");
    if (tf32)
        sn_warn("--precision tf32 needs a CUDA device; computing in fp32 on the CPU");
    if (!(*ops = sn_ops_cpu_new_f32()))
        return SN_ENOMEM;
    snprintf(desc, len, "cpu (%d threads)", omp_get_max_threads());
    return SN_OK;
}

void sn_backend_close(sn_ops *ops)
{
    if (ops)
        ops->destroy(ops);
}
