/* Choosing the compute backend for --device: the CPU backend, or the CUDA
 * backend loaded at run time from the plugin libscnet-cuda.so, so the
 * programs never link CUDA and start on machines without an NVIDIA
 * driver.  The plugin is looked for at $SCNET_CUDA_PLUGIN, else beside the
 * executable: <bindir>/../lib/libscnet-cuda.so (build tree) and
 * <bindir>/../lib/scnet/libscnet-cuda.so (installed). */
#ifndef SCNET_BACKEND_H
#define SCNET_BACKEND_H

#include <stddef.h>

#include "scnet/err.h"
#include "scnet/ops.h"

/* device: "auto" (a GPU when one is usable, else the CPU), "cpu", "cuda"
 * (= "cuda:0") or "cuda:N".  On success *ops is a float32 op table and
 * desc says what was chosen ("cpu", "cuda:0 (NVIDIA H100 …)"); with auto
 * on the CPU it also says why the GPU was not used.  Errors: SN_EUSAGE for
 * a malformed device, SN_EINVAL "no usable CUDA device: <reason>" when a
 * GPU was asked for and cannot be used. */
int sn_backend_open(const char *device, sn_ops **ops, char *desc, size_t len) SN_WUR;
void sn_backend_close(sn_ops *ops);

/* Number of usable CUDA devices with a description of each in desc, or
 * negative with the reason in desc (no plugin, no driver, no device). */
int sn_backend_cuda_devices(char *desc, size_t len);

/* TensorFloat-32 GEMMs on the CUDA backend (faster, about 10 bits of
 * mantissa in the products); SN_EINVAL on the CPU backend. */
int sn_backend_set_tf32(sn_ops *ops, int on) SN_WUR;

#endif
