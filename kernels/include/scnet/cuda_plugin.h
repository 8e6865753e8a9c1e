/* The interface between the programs and the CUDA backend, which is built
 * as a separate shared object (libscnet-cuda.so) and loaded with dlopen,
 * so that the programs start on machines without an NVIDIA driver.  Plain
 * C: no CUDA header is needed on either side. */
#ifndef SCNET_CUDA_PLUGIN_H
#define SCNET_CUDA_PLUGIN_H

#include <stddef.h>

#include "scnet/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever sn_ops or this interface changes shape. */
#define SN_CUDA_ABI 1

/* What the program lends the plugin: the plugin cannot see the program's
 * symbols, so errors reach sn_err() through this pointer. */
typedef struct {
    int abi;          /* SN_CUDA_ABI */
    size_t ops_size;  /* sizeof(sn_ops) in the program */
    int (*err)(int code, const char *fmt, ...);
} sn_cuda_host;

/* Open device `device` as a float32 op table.  0 on success (msg: a
 * description of the device); negative on failure (msg: the reason). */
typedef int (*sn_cuda_open_fn)(const sn_cuda_host *host, int device, sn_ops **out, char *msg, size_t msglen);
/* Number of usable devices (desc: "N device(s): 0: name, memory; ...")
 * or negative (desc: why none can be used). */
typedef int (*sn_cuda_devices_fn)(char *desc, size_t len);
/* TensorFloat-32 tensor-core GEMMs on (1) or off (0, the default).
 * 0 on success, 1 when o is not an op table of this plugin, negative on
 * failure (message set through the host's err). */
typedef int (*sn_cuda_set_tf32_fn)(sn_ops *o, int on);

#define SN_CUDA_OPEN_SYM "sn_cuda_open"
#define SN_CUDA_DEVICES_SYM "sn_cuda_devices"
#define SN_CUDA_SET_TF32_SYM "sn_cuda_set_tf32"

#ifdef __cplusplus
}
#endif

#endif
