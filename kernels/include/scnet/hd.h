/* Marks functions compiled for both the host and, under nvcc, the device, so
 * a kernel body is written once and tested on the CPU. */
#ifndef SCNET_HD_H
#define SCNET_HD_H

#ifdef __CUDACC__
#define SN_HD __host__ __device__ __forceinline__
#else
#define SN_HD static inline
#endif

#endif
