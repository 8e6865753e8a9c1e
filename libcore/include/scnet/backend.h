/* Choosing the compute backend: "cpu", "cuda", "cuda:N" or "auto" (a usable
 * GPU if there is one, else the CPU).  The CUDA backend is a plugin,
 * libscnet-cuda.so, loaded with dlopen only when asked for, so the programs
 * never link CUDA and run where no NVIDIA driver exists.  It is looked for
 * at $SCNET_CUDA_PLUGIN, else beside the executable:
 * <bindir>/../lib/libscnet-cuda.so (build tree) and
 * <bindir>/../lib/scnet/libscnet-cuda.so (installed). */
#ifndef SCNET_BACKEND_H
#define SCNET_BACKEND_H

#include <stddef.h>

#include "scnet/err.h"
#include "scnet/ops.h"

/* desc receives a one-line description ("cpu (2 threads)", "cuda:0 (NVIDIA
 * H100 ...)"); tf32 asks for tensor-core GEMMs where the backend has them
 * (a warning on the CPU, which computes in fp32).  auto without a usable
 * GPU runs on the CPU after a note saying why.  Errors: SN_EUSAGE for a
 * malformed device, SN_EINVAL "no usable CUDA device: <reason>" when a GPU
 * was asked for and cannot be used. */
int sn_backend_open(const char *device, int tf32, sn_ops **ops, char *desc, size_t len) SN_WUR;
void sn_backend_close(sn_ops *ops);

/* Number of usable CUDA devices with a description of each in desc, or
 * negative with the reason in desc (no plugin, no driver, no device). */
int sn_backend_cuda_devices(char *desc, size_t len);

#endif
