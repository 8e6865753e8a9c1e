/* The floating-point type of the model and its kernels.  Sources named
 * *.tmpl.c are compiled twice: with SN_REAL_F64=0 (float, what the programs
 * run) and SN_REAL_F64=1 (double, for gradient checks against finite
 * differences).  SN_R(name) gives each instantiation its own symbols; a
 * translation unit sees exactly one of them. */
#ifndef SCNET_REAL_H
#define SCNET_REAL_H

#ifndef SN_REAL_F64
#define SN_REAL_F64 0
#endif

#if SN_REAL_F64
typedef double real;
#define SN_R(name) name##_f64
#define SN_REAL_NAME "float64"
#else
typedef float real;
#define SN_R(name) name##_f32
#define SN_REAL_NAME "float32"
#endif

#endif
