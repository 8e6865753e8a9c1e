/* Philox4x32-10 (Salmon et al., SC'11): a counter-based generator.  The
 * value for (key, counter) needs no state, so the CPU and GPU backends draw
 * identical dropout masks and samples for the same seed and element index,
 * whatever the thread count or launch shape. */
#ifndef SCNET_PHILOX_H
#define SCNET_PHILOX_H

#include <stdint.h>

#include "scnet/hd.h"

typedef struct {
    uint32_t v[4];
} sn_u32x4;

SN_HD void sn_philox_round(uint32_t *c, const uint32_t *k)
{
    const uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
    const uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    const uint32_t n0 = hi1 ^ c[1] ^ k[0], n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

/* Four 32-bit words for counter (hi, lo) under a 64-bit key. */
SN_HD sn_u32x4 sn_philox(uint64_t key, uint64_t hi, uint64_t lo)
{
    uint32_t c[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
    uint32_t k[2] = {(uint32_t)key, (uint32_t)(key >> 32)};
    for (int r = 0; r < 10; r++) {
        sn_philox_round(c, k);
        if (r < 9) {
            k[0] += 0x9E3779B9u;
            k[1] += 0xBB67AE85u;
        }
    }
    sn_u32x4 out = {{c[0], c[1], c[2], c[3]}};
    return out;
}

/* sn_philox for the SN_PHILOX_LANES counters lo0, lo0 + 1, ... of stream
 * hi, word w of counter lo0 + i into out[i][w]: the same words, computed
 * lane by lane so that the compiler can vectorise the rounds (the CPU's
 * dropout draws four words per element quad; one at a time they cost as
 * much as the activation they mask). */
#define SN_PHILOX_LANES 16
static inline void sn_philox_lanes(uint64_t key, uint64_t hi, uint64_t lo0, uint32_t out[][4])
{
    enum { L = SN_PHILOX_LANES };
    uint32_t c0[L], c1[L], c2[L], c3[L], k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int i = 0; i < L; i++) {
        uint64_t lo = lo0 + (uint64_t)i;
        c0[i] = (uint32_t)lo, c1[i] = (uint32_t)(lo >> 32), c2[i] = (uint32_t)hi, c3[i] = (uint32_t)(hi >> 32);
    }
    for (int r = 0; r < 10; r++, k0 += 0x9E3779B9u, k1 += 0xBB67AE85u)
        for (int i = 0; i < L; i++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c0[i], p1 = (uint64_t)0xCD9E8D57u * c2[i];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[i] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[i] ^ k1;
            c0[i] = n0, c1[i] = (uint32_t)p1, c2[i] = n2, c3[i] = (uint32_t)p0;
        }
    for (int i = 0; i < L; i++)
        out[i][0] = c0[i], out[i][1] = c1[i], out[i][2] = c2[i], out[i][3] = c3[i];
}

/* Uniform float in [0, 1) from the top 24 bits of one Philox word: the
 * one conversion every draw uses, so CPU and GPU masks agree. */
SN_HD float sn_philox_word_u01(uint32_t w) { return (float)(w >> 8) * (1.0f / 16777216.0f); }

/* Uniform float in [0, 1) with 24 random bits: element i of stream s. */
SN_HD float sn_philox_u01(uint64_t key, uint64_t stream, uint64_t i)
{
    sn_u32x4 r = sn_philox(key, stream, i >> 2);
    return sn_philox_word_u01(r.v[i & 3]);
}

/* Uniform 64-bit word: element i of stream s. */
SN_HD uint64_t sn_philox_u64(uint64_t key, uint64_t stream, uint64_t i)
{
    sn_u32x4 r = sn_philox(key, stream, i >> 1);
    return (i & 1) ? ((uint64_t)r.v[3] << 32 | r.v[2]) : ((uint64_t)r.v[1] << 32 | r.v[0]);
}

/* Sequential host stream for shuffles and sampling (still reproducible:
 * the n-th draw depends only on key, stream and n). */
typedef struct {
    uint64_t key, stream, n;
} sn_rng;

static inline void sn_rng_init(sn_rng *r, uint64_t key, uint64_t stream)
{
    r->key = key;
    r->stream = stream;
    r->n = 0;
}

static inline uint64_t sn_rng_u64(sn_rng *r) { return sn_philox_u64(r->key, r->stream, r->n++); }

/* Uniform integer in [0, n) without modulo bias (Lemire's method). */
static inline uint64_t sn_rng_below(sn_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    for (;;) {
        uint64_t x = sn_rng_u64(r);
        __uint128_t m = (__uint128_t)x * n;
        uint64_t l = (uint64_t)m;
        if (l >= n || l >= (-n) % n)
            return (uint64_t)(m >> 64);
    }
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double sn_rng_double(sn_rng *r) { return (double)(sn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

#endif
