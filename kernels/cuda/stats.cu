/* Reductions of the CUDA backend: row and column sums, the column
 * standardisation and its backward, the masked MSE, the centred unit
 * columns of the correlation loss and their backward, binary
 * cross-entropy sums and the globally standardised sigmoid attention.
 * Statistics stay on the device (no host round trip); sums are in double
 * in a fixed order (reduce.h). */
#include <math.h>

#include "cu.h"
#include "reduce.h"
#include "scnet/kbody.h"

#define T SN_CU_THREADS
#define GRID(n) sn_cu_blocks((n), T)

/* ------------------------------------------------------------ functors */

struct f_elem { /* X[r, c] */
    const real *X;
    int ld;
    __device__ double operator()(int r, int c) const { return X[(int64_t)r * ld + c]; }
};

struct f_prod { /* A[r, c]·B[r, c], both with leading dimension ld */
    const real *A, *B;
    int ld;
    __device__ double operator()(int r, int c) const
    {
        int64_t k = (int64_t)r * ld + c;
        return (double)A[k] * B[k];
    }
};

struct f_dev2 { /* (X[r, c] − mean[c])² */
    const real *X;
    int ld;
    const double *mean;
    __device__ double operator()(int r, int c) const
    {
        double d = X[(int64_t)r * ld + c] - mean[c];
        return d * d;
    }
};

struct f_cdev2 { /* the same with the deviation rounded to real first */
    const real *X;
    int ld;
    const double *mean;
    __device__ double operator()(int r, int c) const
    {
        real a = (real)(X[(int64_t)r * ld + c] - mean[c]);
        return (double)a * a;
    }
};

struct g_sum_out { /* out[c] = t + beta·out[c] */
    real *out;
    real beta;
    __device__ void operator()(int c, double t) const { out[c] = (real)t + (beta == 0 ? (real)0 : beta * out[c]); }
};

struct g_mean { /* mean in double (and in real when asked) */
    double *meand;
    real *mean;
    int rows;
    __device__ void operator()(int c, double t) const
    {
        meand[c] = t / rows;
        if (mean)
            mean[c] = (real)meand[c];
    }
};

struct g_sd { /* unbiased standard deviation */
    real *sd;
    int rows;
    __device__ void operator()(int c, double t) const { sd[c] = rows > 1 ? (real)sqrt(t / (rows - 1)) : (real)0; }
};

struct g_sqrt {
    real *out;
    __device__ void operator()(int c, double t) const { out[c] = (real)sqrt(t); }
};

struct g_store {
    real *out;
    __device__ void operator()(int c, double t) const { out[c] = (real)t; }
};

/* ---------------------------------------------------------------- sums */

/* One warp per row. */
__global__ void k_rowsum(const real *X, int rows, int cols, int ld, real beta, real *out)
{
    int r = blockIdx.x * 8 + threadIdx.y;
    double acc = 0;
    if (r < rows)
        for (int c = threadIdx.x; c < cols; c += 32)
            acc += X[(int64_t)r * ld + c];
    acc = sn_warp_sum(acc);
    if (threadIdx.x == 0 && r < rows)
        out[r] = (real)acc + (beta == 0 ? (real)0 : beta * out[r]);
}

static void cu_sum(sn_ops *o, const real *X, int rows, int cols, int ld, int axis, real beta, real *out)
{
    sn_cuda *c = sn_cu(o);
    if (axis == 1) {
        if (rows <= 0)
            return;
        SN_LAUNCH(k_rowsum, (unsigned)((rows + 7) / 8), dim3(32, 8), c->stream, X, rows, cols, ld, beta, out);
        SN_CU_LAUNCHED(c, "sum");
        return;
    }
    double *part = (double *)sn_cu_ws(c, sn_col_scratch(rows, cols) * sizeof(double));
    if (part)
        sn_colreduce(c, rows, cols, f_elem{X, ld}, g_sum_out{out, beta}, part, "sum");
}

/* ------------------------------------------------ column standardisation */

__global__ void k_colstd_apply(const real *Y, int rows, int cols, int ld, real eps, const real *stats, real *Yh)
{
    const real *mean = stats, *sd = stats + cols;
    SN_CU_FOR(i, (int64_t)rows * cols)
    {
        int c = (int)(i % cols);
        Yh[i] = (Y[i / cols * ld + c] - mean[c]) / (sd[c] + eps);
    }
}

static void cu_colstd(sn_ops *o, const real *Y, int rows, int cols, int ld, real eps, real *stats, real *Yh)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    size_t np = sn_col_scratch(rows, cols);
    double *part = (double *)sn_cu_ws(c, (np + (size_t)cols) * sizeof(double));
    if (!part)
        return;
    double *meand = part + np;
    sn_colreduce(c, rows, cols, f_elem{Y, ld}, g_mean{meand, stats, rows}, part, "colstd");
    sn_colreduce(c, rows, cols, f_dev2{Y, ld, meand}, g_sd{stats + cols, rows}, part, "colstd");
    SN_LAUNCH(k_colstd_apply, GRID((int64_t)rows * cols), T, c->stream, Y, rows, cols, ld, eps, (const real *)stats,
              Yh);
    SN_CU_LAUNCHED(c, "colstd");
}

__global__ void k_colstd_bwd_apply(const real *Yh, const real *dYh, int rows, int cols, int ld, real eps,
                                   const real *stats, const real *s1, const real *s2, real *dY)
{
    const real *sd = stats + cols;
    SN_CU_FOR(i, (int64_t)rows * cols)
    {
        int c = (int)(i % cols);
        real mean = s1[c] / rows, inv = (real)1 / (sd[c] + eps);
        real k = sd[c] > 0 && rows > 1 ? s2[c] / (sd[c] * (rows - 1)) : (real)0;
        dY[i / cols * ld + c] += (dYh[i] - mean) * inv - Yh[i] * k;
    }
}

static void cu_colstd_bwd(sn_ops *o, const real *Yh, const real *dYh, int rows, int cols, int ld, real eps,
                          const real *stats, real *dY)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    size_t np = sn_col_scratch(rows, cols);
    double *part = (double *)sn_cu_ws(c, np * sizeof(double) + 2 * (size_t)cols * sizeof(real));
    if (!part)
        return;
    real *s1 = (real *)(part + np), *s2 = s1 + cols;
    sn_colreduce(c, rows, cols, f_elem{dYh, cols}, g_store{s1}, part, "colstd_bwd");
    sn_colreduce(c, rows, cols, f_prod{dYh, Yh, cols}, g_store{s2}, part, "colstd_bwd");
    SN_LAUNCH(k_colstd_bwd_apply, GRID((int64_t)rows * cols), T, c->stream, Yh, dYh, rows, cols, ld, eps, stats,
              (const real *)s1, (const real *)s2, dY);
    SN_CU_LAUNCHED(c, "colstd_bwd");
}

/* ----------------------------------------------------------------- MSE */

struct f_mse { /* writes dYh[i] and returns the masked squared error */
    const real *X, *Yh, *mask;
    real *dYh;
    int cols, ld;
    real scale;
    __device__ double operator()(int64_t i) const
    {
        int c = (int)(i % cols);
        real diff = X[i / cols * ld + c] - Yh[i];
        int on = mask[c] != 0;
        dYh[i] = on ? (real)-2 * scale * diff : (real)0;
        return on ? (double)diff * diff : 0.0;
    }
};

struct g_add_loss { /* loss[0] += scale·t */
    real *loss;
    real scale;
    __device__ void operator()(double t) const { loss[0] += (real)(scale * t); }
};

static void cu_mse(sn_ops *o, const real *X, const real *Yh, const real *mask, int rows, int cols, int ld,
                   real scale, real *loss, real *dYh)
{
    sn_cuda *c = sn_cu(o);
    int64_t n = (int64_t)rows * cols;
    if (n <= 0)
        return;
    double *part = (double *)sn_cu_ws(c, sn_red_blocks(n) * sizeof(double));
    if (part)
        sn_reduce(c, n, f_mse{X, Yh, mask, dYh, cols, ld, scale}, g_add_loss{loss, scale}, part, "mse");
}

/* ------------------------------------------------ correlation columns */

/* At[c, r] = (Y[r, c] − mean[c]) / norms[c] through a shared tile. */
__global__ void k_cnt_write(const real *Y, int rows, int cols, int ld, const double *mean, const real *norms, real *At)
{
    __shared__ real t[32][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int r = blockIdx.y * 32 + j;
        if (r < rows && c < cols) {
            real a = (real)(Y[(int64_t)r * ld + c] - mean[c]), nrm = norms[c];
            t[j][threadIdx.x] = nrm > 0 ? a / nrm : (real)0;
        }
    }
    __syncthreads();
    int r = blockIdx.y * 32 + threadIdx.x;
    for (int j = threadIdx.y; j < 32; j += 8) {
        int cc = blockIdx.x * 32 + j;
        if (cc < cols && r < rows)
            At[(int64_t)cc * rows + r] = t[threadIdx.x][j];
    }
}

static void cu_center_norm_t(sn_ops *o, const real *Y, int rows, int cols, int ld, real *At, real *norms)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    size_t np = sn_col_scratch(rows, cols);
    double *part = (double *)sn_cu_ws(c, (np + (size_t)cols) * sizeof(double));
    if (!part)
        return;
    double *meand = part + np;
    sn_colreduce(c, rows, cols, f_elem{Y, ld}, g_mean{meand, NULL, rows}, part, "center_norm_t");
    sn_colreduce(c, rows, cols, f_cdev2{Y, ld, meand}, g_sqrt{norms}, part, "center_norm_t");
    dim3 grid((unsigned)((cols + 31) / 32), (unsigned)((rows + 31) / 32)), block(32, 8);
    SN_LAUNCH(k_cnt_write, grid, block, c->stream, Y, rows, cols, ld, (const double *)meand, (const real *)norms, At);
    SN_CU_LAUNCHED(c, "center_norm_t");
}

/* dY[r, j] += (dAt[j, r] − c[j]·At[j, r]) / norms[j]: tiles read along
 * rows of At and write along rows of dY. */
__global__ void k_corr_back(const real *At, const real *dAt, const real *cd, const real *norms, int rows, int cols,
                            real *dY, int ldy)
{
    __shared__ real t[32][33];
    int r = blockIdx.x * 32 + threadIdx.x;
    for (int i = threadIdx.y; i < 32; i += 8) {
        int j = blockIdx.y * 32 + i;
        if (j < cols && r < rows) {
            int64_t k = (int64_t)j * rows + r;
            t[i][threadIdx.x] = norms[j] > 0 ? (dAt[k] - cd[j] * At[k]) / norms[j] : (real)0;
        }
    }
    __syncthreads();
    int j = blockIdx.y * 32 + threadIdx.x;
    for (int i = threadIdx.y; i < 32; i += 8) {
        int rr = blockIdx.x * 32 + i;
        if (rr < rows && j < cols && norms[j] > 0)
            dY[(int64_t)rr * ldy + j] += t[threadIdx.x][i];
    }
}

static void cu_corr_back(sn_ops *o, const real *At, const real *dAt, const real *cd, const real *norms, int rows,
                         int cols, real *dY, int ldy)
{
    sn_cuda *c = sn_cu(o);
    if (rows <= 0 || cols <= 0)
        return;
    dim3 grid((unsigned)((rows + 31) / 32), (unsigned)((cols + 31) / 32)), block(32, 8);
    SN_LAUNCH(k_corr_back, grid, block, c->stream, At, dAt, cd, norms, rows, cols, dY, ldy);
    SN_CU_LAUNCHED(c, "corr_back");
}

/* ----------------------------------------------------------------- BCE */

struct f_bce { /* writes g[i] and returns the loss term */
    const real *x;
    real *g;
    real scale, eps, lo, hi;
    int positive;
    __device__ double operator()(int64_t i) const
    {
        real xi = x[i] < lo ? lo : x[i] > hi ? hi : x[i], d;
        real v = sn_k_bce(xi, positive, eps, &d);
        g[i] = scale * d;
        return v;
    }
};

static void cu_bce(sn_ops *o, const real *x, int64_t n, int positive, real scale, real eps, real lo, real hi,
                   real *loss, real *g)
{
    sn_cuda *c = sn_cu(o);
    if (n <= 0)
        return;
    double *part = (double *)sn_cu_ws(c, sn_red_blocks(n) * sizeof(double));
    if (part)
        sn_reduce(c, n, f_bce{x, g, scale, eps, lo, hi, positive}, g_add_loss{loss, scale}, part, "bce");
}

/* ------------------------------------------------- sigmoid attention */

struct f_val {
    const real *s;
    __device__ double operator()(int64_t i) const { return s[i]; }
};

struct f_dev2s { /* (s[i] − mean)² */
    const real *s;
    const double *mean;
    __device__ double operator()(int64_t i) const
    {
        double d = s[i] - mean[0];
        return d * d;
    }
};

struct g_div { /* dst[0] = t / div */
    double *dst;
    double div;
    __device__ void operator()(double t) const { dst[0] = t / div; }
};

/* stats = {mean, sd}; st[1] = 1 when the standardisation applies. */
struct g_sigatt_sd {
    double *st;
    real *stats;
    double nm1;
    __device__ void operator()(double t) const
    {
        double sd = sqrt(t / nm1);
        stats[0] = (real)st[0];
        stats[1] = (real)sd;
        st[1] = sd > 0 ? 1 : 0;
    }
};

__global__ void k_sigatt_apply(const real *s, int64_t n, real temp, const real *stats, const double *st, real *alpha)
{
    SN_CU_FOR(e, n)
    {
        int stdz = st && st[1] != 0;
        alpha[e] = sn_k_sigmoid(temp * (stdz ? (s[e] - stats[0]) / stats[1] : s[e]));
    }
}

static void cu_sigatt(sn_ops *o, const real *s, int64_t n, real temp, real *alpha, real *stats)
{
    sn_cuda *c = sn_cu(o);
    const double *st = NULL;
    if (n >= 2) {
        double *part = (double *)sn_cu_ws(c, (sn_red_blocks(n) + 2) * sizeof(double));
        if (!part)
            return;
        double *std_ = part + sn_red_blocks(n);
        sn_reduce(c, n, f_val{s}, g_div{std_, (double)n}, part, "sigatt");
        sn_reduce(c, n, f_dev2s{s, std_}, g_sigatt_sd{std_, stats, (double)(n - 1)}, part, "sigatt");
        st = std_;
    } else {
        sn_cu_note(c, cudaMemsetAsync(stats, 0, 2 * sizeof(real), c->stream), "sigatt");
    }
    if (n > 0) {
        SN_LAUNCH(k_sigatt_apply, GRID(n), T, c->stream, s, n, temp, (const real *)stats, st, alpha);
        SN_CU_LAUNCHED(c, "sigatt");
    }
}

struct f_dz { /* dz = temp·dα·α(1 − α), times z = (s − mean)/sd when asked */
    const real *s, *alpha, *dalpha, *stats;
    real temp;
    int times_z;
    __device__ double operator()(int64_t e) const
    {
        real dz = temp * dalpha[e] * alpha[e] * ((real)1 - alpha[e]);
        if (!times_z)
            return dz;
        real z = (s[e] - stats[0]) / stats[1];
        return (double)dz * z;
    }
};

struct g_store1 {
    real *dst;
    __device__ void operator()(double t) const { dst[0] = (real)t; }
};

__global__ void k_sigatt_bwd_apply(const real *s, const real *alpha, const real *dalpha, int64_t n, real temp,
                                   const real *stats, const real *sums, real *ds)
{
    SN_CU_FOR(e, n)
    {
        real s_dz = sums ? sums[0] : (real)0, s_dzz = sums ? sums[1] : (real)0;
        ds[e] = sn_k_sigatt_bwd(s[e], alpha[e], dalpha[e], temp, stats[0], stats[1], s_dz, s_dzz, n);
    }
}

/* The sums are taken whenever n ≥ 2; with sd = 0 they are not finite but
 * unused (sn_k_sigatt_bwd returns dz then). */
static void cu_sigatt_bwd(sn_ops *o, const real *s, const real *alpha, const real *dalpha, int64_t n, real temp,
                          const real *stats, real *ds)
{
    sn_cuda *c = sn_cu(o);
    if (n <= 0)
        return;
    const real *sums = NULL;
    if (n >= 2) {
        size_t nb = sn_red_blocks(n);
        double *part = (double *)sn_cu_ws(c, nb * sizeof(double) + 2 * sizeof(real));
        if (!part)
            return;
        real *sm = (real *)(part + nb);
        sn_reduce(c, n, f_dz{s, alpha, dalpha, stats, temp, 0}, g_store1{sm}, part, "sigatt_bwd");
        sn_reduce(c, n, f_dz{s, alpha, dalpha, stats, temp, 1}, g_store1{sm + 1}, part, "sigatt_bwd");
        sums = sm;
    }
    SN_LAUNCH(k_sigatt_bwd_apply, GRID(n), T, c->stream, s, alpha, dalpha, n, temp, stats, sums, ds);
    SN_CU_LAUNCHED(c, "sigatt_bwd");
}

void sn_cu_set_stats(sn_ops *o)
{
    o->sum = cu_sum;
    o->colstd = cu_colstd;
    o->colstd_bwd = cu_colstd_bwd;
    o->mse = cu_mse;
    o->center_norm_t = cu_center_norm_t;
    o->corr_back = cu_corr_back;
    o->bce = cu_bce;
    o->sigatt = cu_sigatt;
    o->sigatt_bwd = cu_sigatt_bwd;
}
