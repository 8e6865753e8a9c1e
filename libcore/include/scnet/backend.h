/* Choosing the compute backend: "cpu", "cuda", "cuda:N" or "auto" (a usable
 * GPU if there is one, else the CPU).  The CUDA backend is a plugin loaded
 * only when asked for, so the programs run where no NVIDIA driver exists. */
#ifndef SCNET_BACKEND_H
#define SCNET_BACKEND_H

#include <stddef.h>

#include "scnet/err.h"
#include "scnet/ops.h"

/* desc receives a one-line description ("cpu (2 threads)", "cuda:0 NVIDIA
 * H100 ..."); tf32 asks for tensor-core GEMMs where the backend has them. */
int sn_backend_open(const char *device, int tf32, sn_ops **ops, char *desc, size_t len) SN_WUR;
void sn_backend_close(sn_ops *ops);

#endif
