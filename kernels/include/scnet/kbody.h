/* Kernel bodies shared by the CPU and CUDA backends: each computes one
 * element (or one row / column) given its index, so the arithmetic of
 * every kernel is exercised by the CPU tests.  Requires real.h. */
#ifndef SCNET_KBODY_H
#define SCNET_KBODY_H

#include <math.h>
#include <stdint.h>

#include "scnet/hd.h"
#include "scnet/philox.h"
#include "scnet/real.h"

#if SN_REAL_F64
#define SN_EXP exp
#define SN_LOG log
#define SN_SQRT sqrt
#else
#define SN_EXP expf
#define SN_LOG logf
#define SN_SQRT sqrtf
#endif

/* Dropout multiplier for logical element idx: 0 or 1/(1−p). */
SN_HD real sn_k_dropmul(double p, uint64_t key, uint64_t stream, uint64_t idx)
{
    if (p <= 0)
        return (real)1;
    return sn_philox_u01(key, stream, idx) < (float)p ? (real)0 : (real)(1.0 / (1.0 - p));
}

/* Multipliers of elements 4q .. 4q+3 from one Philox call (the same values
 * as sn_k_dropmul of each index). */
SN_HD void sn_k_dropmul4(double p, uint64_t key, uint64_t stream, uint64_t q, real *mul)
{
    if (p <= 0) { /* no draw without dropout (evaluation, the decoder) */
        mul[0] = mul[1] = mul[2] = mul[3] = (real)1;
        return;
    }
    sn_u32x4 r = sn_philox(key, stream, q);
    for (int k = 0; k < 4; k++)
        mul[k] = sn_philox_word_u01(r.v[k]) < (float)p ? (real)0 : (real)(1.0 / (1.0 - p));
}

/* y = mask·φ(x)/(1−p).  Written as selects of constants around products
 * that always run (the same values as φ written with a branch): a compiler
 * that keeps floating-point traps exact will not vectorise a product it
 * would have to run speculatively. */
SN_HD real sn_k_act(real x, real slope, real mul)
{
    return x * (x > 0 ? (real)1 : slope) * mul;
}

/* dx = dy·φ'·mask/(1−p) with φ' read from the output's sign: an output of
 * exactly 0 with the mask on means x ≤ 0 (φ'(0) = slope, as the reference). */
SN_HD real sn_k_act_bwd(real y, real dy, real slope, real mul)
{
    const real g = dy * (y > 0 ? (real)1 : slope) * mul;
    return mul == 0 ? (real)0 : g;
}

SN_HD real sn_k_sigmoid(real x)
{
    return x >= 0 ? (real)1 / ((real)1 + SN_EXP(-x)) : SN_EXP(x) / ((real)1 + SN_EXP(x));
}

/* Binary cross-entropy term with the reference's epsilon (−log(σ+ε) for a
 * positive, −log(1−σ+ε) for a negative) and its exact derivative. */
SN_HD real sn_k_bce(real x, int positive, real eps, real *dx)
{
    real p = sn_k_sigmoid(x);
    if (positive) {
        *dx = -p * ((real)1 - p) / (p + eps);
        return -SN_LOG(p + eps);
    }
    *dx = p * ((real)1 - p) / ((real)1 - p + eps);
    return -SN_LOG((real)1 - p + eps);
}

/* One Adam step on one parameter (PyTorch's arithmetic order).  The
 * coefficients 1 − β are formed in double before rounding, as PyTorch
 * forms them from Python floats: 1 − (float)0.999 would be 1.3e-5 off. */
/* Adam's per-run constants, in the parameter's type (1 − β formed in
 * double, as PyTorch does). */
typedef struct {
    real wd, omb1, b2, omb2, bc2s, eps, step;
} sn_k_adam_c;

SN_HD sn_k_adam_c sn_k_adam_consts(double lr, double b1, double b2, double eps, double wd, double bc1, double bc2sqrt)
{
    sn_k_adam_c c = {(real)wd, (real)(1 - b1), (real)b2, (real)(1 - b2), (real)bc2sqrt, (real)eps,
                     (real)(lr / bc1)};
    return c;
}

/* One Adam step on one parameter (PyTorch's arithmetic order). */
SN_HD void sn_k_adam(real *w, real g, real *m, real *v, const sn_k_adam_c *c)
{
    g += c->wd * *w;
    *m += c->omb1 * (g - *m);
    *v = c->b2 * *v + c->omb2 * g * g;
    real denom = SN_SQRT(*v) / c->bc2s + c->eps;
    *w -= c->step * *m / denom;
}

/* Softmax over one segment [b, e) of scores s into a (max-shifted; the
 * reference adds 1e-16 to the denominator), then attention dropout. */
SN_HD void sn_k_softmax_seg(int64_t b, int64_t e, const real *s, real *a, real *ad, double p, uint64_t key,
                            uint64_t stream)
{
    if (e <= b)
        return;
    real mx = s[b];
    for (int64_t k = b + 1; k < e; k++)
        mx = s[k] > mx ? s[k] : mx;
    real sum = 0;
    for (int64_t k = b; k < e; k++) {
        a[k] = SN_EXP(s[k] - mx);
        sum += a[k];
    }
    for (int64_t k = b; k < e; k++) {
        a[k] /= sum + (real)1e-16;
        ad[k] = a[k] * sn_k_dropmul(p, key, stream, (uint64_t)k);
    }
}

SN_HD void sn_k_softmax_seg_bwd(int64_t b, int64_t e, const real *a, const real *dad, real *ds, double p,
                                uint64_t key, uint64_t stream)
{
    real dot = 0;
    for (int64_t k = b; k < e; k++)
        dot += a[k] * dad[k] * sn_k_dropmul(p, key, stream, (uint64_t)k);
    for (int64_t k = b; k < e; k++)
        ds[k] = a[k] * (dad[k] * sn_k_dropmul(p, key, stream, (uint64_t)k) - dot);
}

/* Backward of the global standardisation u = temp·(s − μ)/ς, α = σ(u):
 * ds_e = (1/ς)[dz_e − mean(dz) − z_e·Σ(dz·z)/(n−1)] with dz = temp·dα·α(1−α).
 * sums = {Σ dz, Σ dz·z} over all edges. */
SN_HD real sn_k_sigatt_bwd(real s, real alpha, real dalpha, real temp, real mean, real sd, real sum_dz,
                           real sum_dzz, int64_t n)
{
    real dz = temp * dalpha * alpha * ((real)1 - alpha);
    if (n < 2 || !(sd > 0))
        return dz;
    real z = (s - mean) / sd;
    return (dz - sum_dz / (real)n - z * sum_dzz / (real)(n - 1)) / sd;
}

#endif
