/* The CUDA backend against the CPU backend: every op of the table on
 * random inputs (normwise relative difference ≤ 1e-5 per output), memory
 * semantics (zeroed allocation, copies, out-of-memory), the cache of
 * pair groupings, TF32, then training steps of the float32 model and the
 * first epochs of a training run on both backends.
 *
 * Run by tests/cuda/run.sh on a GPU (make check-cuda) and by
 * tests/e2e/cuda_emu.sh against the plugin built on the CPU emulation.
 * usage: test_ops_cuda [--device cuda[:N]] [--small]
 *        test_ops_cuda --devices   (exit 0 when a CUDA device is usable) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/backend.h"
#include "scnet/gstruct.h"
#include "scnet/model.h"
#include "scnet/philox.h"
#include "scnet/train.h"
#include "part/model_run.h"

#define TOL 1e-5

typedef struct {
    sn_ops *c, *g; /* CPU, CUDA */
    sn_rng r;
    int small, checks, fails;
    double worst;
} tc;

/* A buffer on both backends. */
typedef struct {
    void *c, *g;
    size_t bytes;
} pbuf;

static void die(const char *what)
{
    fprintf(stderr, "test_ops_cuda: %s: %s\n", what, sn_errmsg());
    exit(1);
}

static pbuf pb_alloc(tc *t, size_t bytes)
{
    pbuf b = {t->c->alloc(t->c, bytes), t->g->alloc(t->g, bytes), bytes};
    if (!b.c || !b.g)
        die("allocation");
    return b;
}

static pbuf pb_from(tc *t, const void *h, size_t bytes)
{
    pbuf b = pb_alloc(t, bytes);
    t->c->upload(t->c, b.c, h, bytes);
    t->g->upload(t->g, b.g, h, bytes);
    return b;
}

static void pb_free(tc *t, pbuf *b)
{
    t->c->free(t->c, b->c);
    t->g->free(t->g, b->g);
    b->c = b->g = NULL;
}

static float *host_rand(tc *t, int64_t n, double lo, double hi)
{
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    if (!h)
        die("host memory");
    for (int64_t i = 0; i < n; i++)
        h[i] = (float)(lo + (hi - lo) * sn_rng_double(&t->r));
    return h;
}

static pbuf pb_rand(tc *t, int64_t n, double lo, double hi)
{
    float *h = host_rand(t, n, lo, hi);
    pbuf b = pb_from(t, h, (size_t)n * sizeof(float));
    free(h);
    return b;
}

/* n ints uniform in [lo, hi). */
static int32_t *host_ints(tc *t, int64_t n, int32_t lo, int32_t hi)
{
    int32_t *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    if (!h)
        die("host memory");
    for (int64_t i = 0; i < n; i++)
        h[i] = lo + (int32_t)sn_rng_below(&t->r, (uint64_t)(hi - lo));
    return h;
}

static pbuf pb_ints(tc *t, int64_t n, int32_t lo, int32_t hi)
{
    int32_t *h = host_ints(t, n, lo, hi);
    pbuf b = pb_from(t, h, (size_t)n * sizeof(int32_t));
    free(h);
    return b;
}

static void report(tc *t, const char *op, int ok, double rel, double scale)
{
    t->checks++;
    t->fails += !ok;
    if (rel > t->worst)
        t->worst = rel;
    printf("%-4s %-44s rel %.2e  max|cpu| %.3g\n", ok ? "ok" : "FAIL", op, rel, scale);
}

/* Downloads n floats from both sides; their normwise relative difference
 * must be ≤ tol, NaNs must agree, and the CPU result must not be all zero
 * (a check of zeros against zeros proves nothing). */
static void expect(tc *t, const char *op, const pbuf *b, int64_t n, double tol)
{
    float *hc = malloc((size_t)n * sizeof *hc), *hg = malloc((size_t)n * sizeof *hg);
    if (!hc || !hg)
        die("host memory");
    t->c->download(t->c, hc, b->c, (size_t)n * sizeof *hc);
    t->g->download(t->g, hg, b->g, (size_t)n * sizeof *hg);
    double scale = 0, diff = 0;
    int nan_mismatch = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(hc[i]) || isnan(hg[i])) {
            nan_mismatch += isnan(hc[i]) != isnan(hg[i]);
            continue;
        }
        scale = fmax(scale, fabs(hc[i]));
        diff = fmax(diff, fabs((double)hg[i] - hc[i]));
    }
    double rel = diff == 0 ? 0 : diff / fmax(scale, 1e-30);
    report(t, op, !nan_mismatch && rel <= tol && scale > 0, rel, scale);
    free(hc);
    free(hg);
}

/* ---------------------------------------------------------------- CSR */

typedef struct {
    pbuf ptr, col, val;
    sn_dcsr c, g;
} pcsr;

/* Random CSR, about deg nonzeros per row, every 7th row empty, columns
 * may repeat within a row. */
static pcsr csr_rand(tc *t, int nrow, int ncol, int deg)
{
    int32_t *ptr = malloc(((size_t)nrow + 1) * sizeof *ptr);
    ptr[0] = 0;
    for (int i = 0; i < nrow; i++)
        ptr[i + 1] = ptr[i] + (i % 7 == 3 ? 0 : 1 + (int32_t)sn_rng_below(&t->r, (uint64_t)(2 * deg)));
    int32_t nnz = ptr[nrow];
    int32_t *col = host_ints(t, nnz, 0, ncol);
    float *val = host_rand(t, nnz, -1, 1);
    pcsr a;
    a.ptr = pb_from(t, ptr, ((size_t)nrow + 1) * sizeof *ptr);
    a.col = pb_from(t, col, (size_t)(nnz ? nnz : 1) * sizeof *col);
    a.val = pb_from(t, val, (size_t)(nnz ? nnz : 1) * sizeof *val);
    a.c = (sn_dcsr){nrow, ncol, nnz, a.ptr.c, a.col.c, a.val.c};
    a.g = (sn_dcsr){nrow, ncol, nnz, a.ptr.g, a.col.g, a.val.g};
    free(ptr);
    free(col);
    free(val);
    return a;
}

static void csr_free(tc *t, pcsr *a)
{
    pb_free(t, &a->ptr);
    pb_free(t, &a->col);
    pb_free(t, &a->val);
}

/* Run a call on both backends: `o` is the op table, B(x) the side of pbuf x. */
#define BOTH(call)                                  \
    do {                                            \
        sn_ops *o = t->c;                           \
        int side_ = 0;                              \
        (void)side_;                                \
        call;                                       \
        o = t->g;                                   \
        side_ = 1;                                  \
        call;                                       \
    } while (0)
#define B(x) (side_ ? (x).g : (x).c)
#define BF(x) ((float *)B(x))
#define BI(x) ((int32_t *)B(x))
#define BCSR(a) (side_ ? &(a).g : &(a).c)

/* ------------------------------------------------------------- memory */

static void test_memory(tc *t)
{
    sn_ops *g = t->g;
    size_t before = g->bytes_in_use, n = 5000;
    float *h = host_rand(t, (int64_t)n, 1, 2), *back = malloc(n * sizeof *back);
    float *p = g->alloc(g, n * sizeof *p);
    int ok = p && g->bytes_in_use >= before + n * sizeof *p && g->bytes_peak >= g->bytes_in_use;
    g->download(g, back, p, n * sizeof *back);
    for (size_t i = 0; ok && i < n; i++)
        ok = back[i] == 0;
    g->upload(g, p, h, n * sizeof *h);
    g->free(g, p);
    p = g->alloc(g, n * sizeof *p); /* most likely the same block again */
    g->download(g, back, p, n * sizeof *back);
    for (size_t i = 0; ok && i < n; i++)
        ok = back[i] == 0;
    report(t, "alloc: zeroed, accounted", ok, 0, 1);
    float *q = g->alloc(g, n * sizeof *q);
    g->upload(g, p, h, n * sizeof *h);
    g->copy(g, q + 10, p + 20, 100 * sizeof *q);
    g->download(g, back, q, n * sizeof *back);
    ok = back[9] == 0 && back[110] == 0 && !memcmp(back + 10, h + 20, 100 * sizeof *h);
    report(t, "copy (device to device)", ok, 0, 1);
    g->free(g, p);
    g->free(g, q);
    ok = g->bytes_in_use == before;
    report(t, "free: bytes back", ok, 0, 1);
    void *huge = g->alloc(g, (size_t)1 << 52);
    ok = !huge && strstr(sn_errmsg(), "out of GPU memory") && g->sync(g) == 0;
    printf("     (%s)\n", sn_errmsg());
    report(t, "alloc: out of memory is a clear error", ok, 0, 1);
    free(h);
    free(back);
    pbuf f = pb_alloc(t, 1001 * sizeof(float));
    BOTH(o->fill(o, BF(f), 1001, 2.5f));
    expect(t, "fill", &f, 1001, 0);
    pb_free(t, &f);
}

/* -------------------------------------------------------------- dense */

static void test_gemm(tc *t)
{
    int m = t->small ? 23 : 700, n = t->small ? 19 : 300, k = t->small ? 29 : 500;
    float betas[] = {0, 1, -0.5f, 0.25f};
    for (int v = 0; v < 5; v++) {
        int ta = v & 1, tb = (v >> 1) & 1, kk = v == 4 ? 0 : k;
        int lda = (ta ? m : kk) + 3, ldb = (tb ? kk : n) + 2, ldc = n + 5;
        int64_t na = (int64_t)(ta ? kk : m) * lda + 1, nb = (int64_t)(tb ? n : kk) * ldb + 1;
        pbuf A = pb_rand(t, na, -1, 1), Bm = pb_rand(t, nb, -1, 1), C = pb_rand(t, (int64_t)m * ldc, -1, 1);
        float beta = betas[v % 4];
        BOTH(o->gemm(o, ta, tb, m, n, kk, 0.7f, BF(A), lda, BF(Bm), ldb, beta, BF(C), ldc));
        char name[64];
        snprintf(name, sizeof name, "gemm ta=%d tb=%d k=%d beta=%g", ta, tb, kk, beta);
        expect(t, name, &C, (int64_t)m * ldc, TOL);
        pb_free(t, &A), pb_free(t, &Bm), pb_free(t, &C);
    }
}

/* Sizes that need several gradient panels (the emulated plugin uses small
 * panels for this reason). */
static void test_gemm_adam(tc *t)
{
    int m = t->small ? 400 : 5000, n = t->small ? 60 : 4000, k = t->small ? 30 : 32;
    sn_adam_hp h = {1e-3, 0.9, 0.999, 1e-8, 1e-5, 3};
    for (int v = 0; v < 4; v++) {
        int ta = v & 1, tb = v >> 1, lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 1;
        int64_t mn = (int64_t)m * n;
        pbuf A = pb_rand(t, (int64_t)(ta ? k : m) * lda, -1, 1), Bm = pb_rand(t, (int64_t)(tb ? n : k) * ldb, -1, 1);
        pbuf W = pb_rand(t, mn, -0.1, 0.1), M = pb_rand(t, mn, -0.01, 0.01), V = pb_rand(t, mn, 0, 1e-4);
        BOTH(o->gemm_adam(o, ta, tb, m, n, k, BF(A), lda, BF(Bm), ldb, BF(W), BF(M), BF(V), &h));
        char name[64];
        snprintf(name, sizeof name, "gemm_adam ta=%d tb=%d: W", ta, tb);
        expect(t, name, &W, mn, TOL);
        snprintf(name, sizeof name, "gemm_adam ta=%d tb=%d: M, V", ta, tb);
        expect(t, name, &M, mn, TOL);
        expect(t, name, &V, mn, TOL);
        pb_free(t, &A), pb_free(t, &Bm), pb_free(t, &W), pb_free(t, &M), pb_free(t, &V);
    }
}

static void test_adam(tc *t)
{
    int64_t n = t->small ? 3001 : 100003;
    for (int64_t step = 1; step <= 50; step += 49) {
        sn_adam_hp h = {2e-3, 0.9, 0.999, 1e-8, 1e-5, step};
        pbuf W = pb_rand(t, n, -1, 1), G = pb_rand(t, n, -1, 1), M = pb_rand(t, n, -0.1, 0.1),
             V = pb_rand(t, n, 0, 0.1);
        BOTH(o->adam(o, BF(W), BF(G), BF(M), BF(V), n, &h));
        expect(t, step == 1 ? "adam t=1: W" : "adam t=50: W", &W, n, TOL);
        expect(t, "adam: M", &M, n, TOL);
        expect(t, "adam: V", &V, n, TOL);
        pb_free(t, &W), pb_free(t, &G), pb_free(t, &M), pb_free(t, &V);
    }
}

static void test_transpose_axpy(tc *t)
{
    int rows = t->small ? 70 : 1000, cols = t->small ? 45 : 777, ldx = cols + 2, ldy = rows + 1;
    pbuf X = pb_rand(t, (int64_t)rows * ldx, -1, 1), Y = pb_rand(t, (int64_t)cols * ldy, -1, 1);
    BOTH(o->transpose(o, BF(X), rows, cols, ldx, BF(Y), ldy));
    expect(t, "transpose", &Y, (int64_t)cols * ldy, 0);
    int64_t n = (int64_t)cols * ldy - 3;
    BOTH(o->axpy(o, n, -0.3f, BF(X), BF(Y)));
    expect(t, "axpy", &Y, (int64_t)cols * ldy, TOL);
    pb_free(t, &X), pb_free(t, &Y);
}

/* Inputs with exact zeros, so φ'(0) = slope is exercised. */
static void test_act(tc *t)
{
    int rows = t->small ? 50 : 2000, cols = t->small ? 37 : 700, ld = cols + 3;
    int64_t n = (int64_t)rows * ld;
    for (int v = 0; v < 4; v++) {
        float slope = v & 1 ? 0.01f : 0;
        sn_drop d = {v & 2 ? 0.25 : 0, 42, 7 + (uint64_t)v};
        float *h = host_rand(t, n, -1, 1);
        for (int64_t i = 0; i < n; i += 5)
            h[i] = 0;
        pbuf X = pb_from(t, h, (size_t)n * sizeof *h), dX = pb_rand(t, n, -1, 1);
        free(h);
        BOTH(o->act(o, BF(X), rows, cols, ld, slope, &d));
        char name[64];
        snprintf(name, sizeof name, "act slope=%g p=%g", slope, d.p);
        expect(t, name, &X, n, 0);
        BOTH(o->act_bwd(o, BF(X), BF(dX), rows, cols, ld, slope, &d));
        snprintf(name, sizeof name, "act_bwd slope=%g p=%g", slope, d.p);
        expect(t, name, &dX, n, 0);
        pb_free(t, &X), pb_free(t, &dX);
    }
}

/* Rows kept moderate: the CPU adds in float, one row after another, and
 * its rounding grows with √rows (the column statistics below add in double
 * on both sides and take 20000 rows). */
static void test_bias_sum(tc *t)
{
    int rows = t->small ? 300 : 6000, cols = t->small ? 50 : 60, ld = cols + 3;
    int64_t n = (int64_t)rows * ld;
    for (int axis = 0; axis < 2; axis++) {
        pbuf X = pb_rand(t, n, -1, 1.5), b = pb_rand(t, axis ? rows : cols, -1, 1);
        BOTH(o->add_bias(o, BF(X), rows, cols, ld, BF(b), axis));
        expect(t, axis ? "add_bias axis=1" : "add_bias axis=0", &X, n, 0);
        for (int beta = 0; beta < 2; beta++) {
            pbuf out = pb_rand(t, axis ? rows : cols, -1, 1);
            BOTH(o->sum(o, BF(X), rows, cols, ld, axis, (float)beta, BF(out)));
            char name[64];
            snprintf(name, sizeof name, "sum axis=%d beta=%d", axis, beta);
            expect(t, name, &out, axis ? rows : cols, TOL);
            pb_free(t, &out);
        }
        pb_free(t, &X), pb_free(t, &b);
    }
}

/* The last column is constant: sd = 0 and norm = 0 branches. */
static float *with_constant_column(tc *t, int rows, int cols, int ld)
{
    float *h = host_rand(t, (int64_t)rows * ld, -2, 3);
    for (int r = 0; r < rows; r++)
        h[(int64_t)r * ld + cols - 1] = 0.375f;
    return h;
}

static void test_colstd(tc *t)
{
    int rows = t->small ? 300 : 20000, cols = t->small ? 40 : 50, ld = cols + 2;
    int64_t nY = (int64_t)rows * ld, nh = (int64_t)rows * cols;
    float eps = 1e-15f, *h = with_constant_column(t, rows, cols, ld);
    pbuf Y = pb_from(t, h, (size_t)nY * sizeof *h), stats = pb_alloc(t, 2 * (size_t)cols * sizeof(float));
    pbuf Yh = pb_alloc(t, (size_t)nh * sizeof(float));
    BOTH(o->colstd(o, BF(Y), rows, cols, ld, eps, BF(stats), BF(Yh)));
    expect(t, "colstd: stats", &stats, 2 * cols, TOL);
    expect(t, "colstd: Yh", &Yh, nh, TOL);
    /* backward from identical inputs: the CPU's statistics on both sides */
    float *st = malloc(2 * (size_t)cols * sizeof *st), *yh = malloc((size_t)nh * sizeof *yh);
    t->c->download(t->c, st, stats.c, 2 * (size_t)cols * sizeof *st);
    t->c->download(t->c, yh, Yh.c, (size_t)nh * sizeof *yh);
    pb_free(t, &stats), pb_free(t, &Yh);
    stats = pb_from(t, st, 2 * (size_t)cols * sizeof *st);
    Yh = pb_from(t, yh, (size_t)nh * sizeof *yh);
    pbuf dYh = pb_rand(t, nh, -1, 1), dY = pb_rand(t, nY, -1, 1);
    /* a larger eps, or the constant column's 1/eps would swamp the norm */
    BOTH(o->colstd_bwd(o, BF(Yh), BF(dYh), rows, cols, ld, 0.5f, BF(stats), BF(dY)));
    expect(t, "colstd_bwd", &dY, nY, TOL);
    free(h), free(st), free(yh);
    pb_free(t, &Y), pb_free(t, &stats), pb_free(t, &Yh), pb_free(t, &dYh), pb_free(t, &dY);
}

static void test_mse(tc *t)
{
    int rows = t->small ? 200 : 5000, cols = t->small ? 33 : 400, ld = cols + 1;
    float *mask = host_rand(t, cols, 0, 1);
    int nm = 0;
    for (int c = 0; c < cols; c++)
        nm += (mask[c] = mask[c] < 0.6f) != 0;
    pbuf X = pb_rand(t, (int64_t)rows * ld, -2, 2), Yh = pb_rand(t, (int64_t)rows * cols, -2, 2);
    pbuf mk = pb_from(t, mask, (size_t)cols * sizeof *mask), loss = pb_rand(t, 1, 0.5, 1);
    pbuf dYh = pb_alloc(t, (size_t)rows * cols * sizeof(float));
    float scale = 1.0f / ((float)rows * (float)nm);
    BOTH(o->mse(o, BF(X), BF(Yh), BF(mk), rows, cols, ld, scale, BF(loss), BF(dYh)));
    expect(t, "mse: loss", &loss, 1, TOL);
    expect(t, "mse: dYh", &dYh, (int64_t)rows * cols, TOL);
    free(mask);
    pb_free(t, &X), pb_free(t, &Yh), pb_free(t, &mk), pb_free(t, &loss), pb_free(t, &dYh);
}

static void test_corr(tc *t)
{
    int rows = t->small ? 90 : 3000, cols = t->small ? 70 : 800, ld = cols + 4, ldy = cols + 1;
    float *h = with_constant_column(t, rows, cols, ld);
    pbuf Y = pb_from(t, h, (size_t)rows * ld * sizeof *h), At = pb_alloc(t, (size_t)rows * cols * sizeof(float));
    pbuf norms = pb_alloc(t, (size_t)cols * sizeof(float));
    BOTH(o->center_norm_t(o, BF(Y), rows, cols, ld, BF(At), BF(norms)));
    expect(t, "center_norm_t: At", &At, (int64_t)rows * cols, TOL);
    expect(t, "center_norm_t: norms", &norms, cols, TOL);
    float *nr = host_rand(t, cols, 0.5, 2);
    nr[cols / 2] = 0;
    pbuf At2 = pb_rand(t, (int64_t)rows * cols, -1, 1), dAt = pb_rand(t, (int64_t)rows * cols, -1, 1);
    pbuf cd = pb_rand(t, cols, -1, 1), nm = pb_from(t, nr, (size_t)cols * sizeof *nr);
    pbuf dY = pb_rand(t, (int64_t)rows * ldy, -1, 1);
    BOTH(o->corr_back(o, BF(At2), BF(dAt), BF(cd), BF(nm), rows, cols, BF(dY), ldy));
    expect(t, "corr_back", &dY, (int64_t)rows * ldy, TOL);
    free(h), free(nr);
    pb_free(t, &Y), pb_free(t, &At), pb_free(t, &norms), pb_free(t, &At2), pb_free(t, &dAt);
    pb_free(t, &cd), pb_free(t, &nm), pb_free(t, &dY);
}

static void test_bce(tc *t)
{
    int64_t n = t->small ? 5001 : 300007;
    float *h = host_rand(t, n, -8, 8);
    h[0] = 60, h[1] = -60, h[2] = 0;
    pbuf x = pb_from(t, h, (size_t)n * sizeof *h), g = pb_alloc(t, (size_t)n * sizeof(float));
    free(h);
    for (int v = 0; v < 4; v++) {
        int positive = v & 1;
        float lim = v & 2 ? 1.0f : 1e30f;
        pbuf loss = pb_rand(t, 1, 0, 1);
        BOTH(o->bce(o, BF(x), n, positive, 1.0f / (float)n, 1e-15f, -lim, lim, BF(loss), BF(g)));
        char name[64];
        snprintf(name, sizeof name, "bce positive=%d clip=%g: loss", positive, lim);
        expect(t, name, &loss, 1, TOL);
        snprintf(name, sizeof name, "bce positive=%d clip=%g: g", positive, lim);
        expect(t, name, &g, n, TOL);
        pb_free(t, &loss);
    }
    pb_free(t, &x), pb_free(t, &g);
}

/* ------------------------------------------------------------- sparse */

static void test_spmm(tc *t)
{
    int nrow = t->small ? 61 : 3000, ncol_a = t->small ? 53 : 2500;
    int widths[] = {t->small ? 20 : 75, t->small ? 300 : 2000};
    pcsr A = csr_rand(t, nrow, ncol_a, 8);
    for (int w = 0; w < 2; w++)
        for (int v = 0; v < 3; v++) {
            int ncol = widths[w], ldx = ncol + 7, ldy = ncol + 3;
            float beta = v == 0 ? 0 : v == 1 ? 1 : 0.3f;
            pbuf X = pb_rand(t, (int64_t)ncol_a * ldx, -1, 1), Y = pb_rand(t, (int64_t)nrow * ldy, -1, 1);
            BOTH(o->spmm(o, BCSR(A), BF(X), ldx, ncol, 0.8f, beta, BF(Y), ldy));
            char name[64];
            snprintf(name, sizeof name, "spmm ncol=%d beta=%g", ncol, beta);
            expect(t, name, &Y, (int64_t)nrow * ldy, TOL);
            pb_free(t, &X), pb_free(t, &Y);
        }
    int m = t->small ? 9 : 1003;
    for (int v = 0; v < 3; v++) {
        float beta = v == 0 ? 0 : v == 1 ? 1 : 0.5f;
        int ldx = ncol_a + 2, ldy = nrow + 5;
        pbuf X = pb_rand(t, (int64_t)m * ldx, -1, 1), Y = pb_rand(t, (int64_t)m * ldy, -1, 1);
        BOTH(o->spmm_rt(o, BF(X), m, ldx, BCSR(A), beta, BF(Y), ldy));
        char name[64];
        snprintf(name, sizeof name, "spmm_rt m=%d beta=%g", m, beta);
        expect(t, name, &Y, (int64_t)m * ldy, TOL);
        pb_free(t, &X), pb_free(t, &Y);
    }
    csr_free(t, &A);
}

static void test_sddmm_gather(tc *t)
{
    int64_t ne = t->small ? 300 : 200000;
    int na = t->small ? 40 : 5000, nb = t->small ? 30 : 4000;
    int dims[] = {16, t->small ? 100 : 3000};
    pbuf ri = pb_ints(t, ne, 0, na), ci = pb_ints(t, ne, 0, nb), out = pb_alloc(t, (size_t)ne * sizeof(float));
    for (int v = 0; v < 2; v++) {
        int d = dims[v], lda = d + 3, ldb = d + 60;
        pbuf A = pb_rand(t, (int64_t)na * lda, -1, 1), Bm = pb_rand(t, (int64_t)nb * ldb, -1, 1);
        BOTH(o->sddmm(o, BI(ri), BI(ci), ne, BF(A), lda, BF(Bm), ldb, d, 0.25f, BF(out)));
        char name[64];
        snprintf(name, sizeof name, "sddmm d=%d", d);
        expect(t, name, &out, ne, TOL);
        pb_free(t, &A), pb_free(t, &Bm);
    }
    pbuf dst = pb_alloc(t, (size_t)ne * sizeof(float)), src = pb_rand(t, na, -1, 1);
    BOTH(o->gather(o, BF(src), BI(ri), ne, BF(dst)));
    expect(t, "gather", &dst, ne, 0);
    pb_free(t, &ri), pb_free(t, &ci), pb_free(t, &out), pb_free(t, &dst), pb_free(t, &src);
}

/* Pairs with repeats and self pairs; then the same lists again (cached
 * grouping), and after the index arrays were rewritten by upload, copy,
 * and free + alloc (the grouping must follow each). */
static void pair_round(tc *t, const char *what, pbuf *ri, pbuf *ci, int64_t ne, int nodes, int d)
{
    int ldz = d + 2;
    pbuf g = pb_rand(t, ne, -1, 1), Z = pb_rand(t, (int64_t)nodes * ldz, -1, 1);
    pbuf dZ = pb_rand(t, (int64_t)nodes * ldz, -1, 1), x = pb_rand(t, ne, -1, 1), cv = pb_rand(t, nodes, -1, 1);
    BOTH(o->pair_scatter(o, BI(*ri), BI(*ci), BF(g), ne, BF(Z), ldz, d, BF(dZ), ldz));
    BOTH(o->pair_diag(o, BI(*ri), BI(*ci), BF(g), BF(x), ne, BF(cv)));
    char name[96];
    snprintf(name, sizeof name, "pair_scatter d=%d %s", d, what);
    expect(t, name, &dZ, (int64_t)nodes * ldz, TOL);
    snprintf(name, sizeof name, "pair_diag %s", what);
    expect(t, name, &cv, nodes, TOL);
    pb_free(t, &g), pb_free(t, &Z), pb_free(t, &dZ), pb_free(t, &x), pb_free(t, &cv);
}

static void test_pairs(tc *t)
{
    int64_t ne = t->small ? 257 : 300000;
    int nodes = t->small ? 40 : 8000, d = t->small ? 150 : 1000;
    int32_t *a = host_ints(t, ne, 0, nodes), *b = host_ints(t, ne, 0, nodes);
    for (int64_t e = 0; e < ne; e += 17)
        b[e] = a[e];
    pbuf ri = pb_from(t, a, (size_t)ne * sizeof *a), ci = pb_from(t, b, (size_t)ne * sizeof *b);
    pair_round(t, "(new lists)", &ri, &ci, ne, nodes, 16);
    pair_round(t, "(cached grouping)", &ri, &ci, ne, nodes, d);
    int32_t *a2 = host_ints(t, ne, 0, nodes);
    BOTH(o->upload(o, B(ri), a2, (size_t)ne * sizeof *a2));
    pair_round(t, "(after upload)", &ri, &ci, ne, nodes, 16);
    pbuf other = pb_ints(t, ne, 0, nodes);
    BOTH(o->copy(o, B(ci), B(other), (size_t)ne * sizeof(int32_t)));
    pair_round(t, "(after copy)", &ri, &ci, ne, nodes, 16);
    pb_free(t, &ri); /* a new zeroed array, likely at the same address */
    ri = pb_alloc(t, (size_t)ne * sizeof(int32_t));
    pair_round(t, "(after free and alloc)", &ri, &ci, ne, nodes, 1);
    free(a), free(b), free(a2);
    pb_free(t, &ri), pb_free(t, &ci), pb_free(t, &other);
}

static void test_softmax(tc *t)
{
    int nrow = t->small ? 50 : 20000;
    pcsr A = csr_rand(t, nrow, nrow, 12);
    int64_t nnz = A.c.nnz;
    for (int v = 0; v < 2; v++) {
        sn_drop d = {v ? 0.25 : 0, 42, 1234};
        pbuf s = pb_rand(t, nnz, -5, 5), a = pb_alloc(t, (size_t)nnz * sizeof(float));
        pbuf ad = pb_alloc(t, (size_t)nnz * sizeof(float));
        BOTH(o->softmax_rows(o, BCSR(A), BF(s), BF(a), BF(ad), &d));
        expect(t, v ? "softmax_rows p=0.25: a" : "softmax_rows p=0: a", &a, nnz, TOL);
        expect(t, "softmax_rows: a after dropout", &ad, nnz, TOL);
        pbuf a2 = pb_rand(t, nnz, 0, 1), dad = pb_rand(t, nnz, -1, 1), ds = pb_alloc(t, (size_t)nnz * sizeof(float));
        BOTH(o->softmax_rows_bwd(o, BCSR(A), BF(a2), BF(dad), BF(ds), &d));
        expect(t, v ? "softmax_rows_bwd p=0.25" : "softmax_rows_bwd p=0", &ds, nnz, TOL);
        pb_free(t, &s), pb_free(t, &a), pb_free(t, &ad), pb_free(t, &a2), pb_free(t, &dad), pb_free(t, &ds);
    }
    csr_free(t, &A);
}

/* n = 1 and constant scores: no standardisation. */
static void test_sigatt(tc *t)
{
    int64_t sizes[] = {t->small ? 3001 : 400003, 1, 500};
    for (int v = 0; v < 3; v++) {
        int64_t n = sizes[v];
        float *h = host_rand(t, n, -3, 4);
        if (v == 2)
            for (int64_t i = 0; i < n; i++)
                h[i] = 1.25f;
        pbuf s = pb_from(t, h, (size_t)n * sizeof *h), alpha = pb_alloc(t, (size_t)n * sizeof(float));
        pbuf stats = pb_rand(t, 2, 1, 2);
        BOTH(o->sigatt(o, BF(s), n, 3.0f, BF(alpha), BF(stats)));
        char name[64];
        snprintf(name, sizeof name, "sigatt n=%lld%s: alpha", (long long)n, v == 2 ? " constant" : "");
        expect(t, name, &alpha, n, TOL);
        if (v == 0)
            expect(t, "sigatt: stats", &stats, 2, TOL);
        /* backward on the CPU's forward results */
        float st[2], *al = malloc((size_t)n * sizeof *al);
        t->c->download(t->c, st, stats.c, sizeof st);
        t->c->download(t->c, al, alpha.c, (size_t)n * sizeof *al);
        pbuf stats2 = pb_from(t, st, sizeof st), alpha2 = pb_from(t, al, (size_t)n * sizeof *al);
        pbuf dalpha = pb_rand(t, n, -1, 1), ds = pb_alloc(t, (size_t)n * sizeof(float));
        BOTH(o->sigatt_bwd(o, BF(s), BF(alpha2), BF(dalpha), n, 3.0f, BF(stats2), BF(ds)));
        snprintf(name, sizeof name, "sigatt_bwd n=%lld%s", (long long)n, v == 2 ? " constant" : "");
        expect(t, name, &ds, n, TOL);
        free(h), free(al);
        pb_free(t, &s), pb_free(t, &alpha), pb_free(t, &stats), pb_free(t, &stats2), pb_free(t, &alpha2);
        pb_free(t, &dalpha), pb_free(t, &ds);
    }
}

/* TF32 products carry ~10 mantissa bits: close to, not equal to, FP32.
 * A second context on the same device, opened with tf32. */
static void test_tf32(tc *t, const char *device)
{
    int n = t->small ? 64 : 512;
    char desc[512];
    sn_ops *fp32 = t->g;
    if (sn_backend_open(device, 1, &t->g, desc, sizeof desc) < 0)
        die("opening the CUDA backend with tf32");
    report(t, "tf32 context opens", strstr(desc, ", tf32") != NULL, 0, 1);
    pbuf A = pb_rand(t, (int64_t)n * n, -1, 1), Bm = pb_rand(t, (int64_t)n * n, -1, 1), C = pb_alloc(t, (size_t)n * n * 4);
    BOTH(o->gemm(o, 0, 0, n, n, n, 1, BF(A), n, BF(Bm), n, 0, BF(C), n));
    expect(t, "gemm in tf32 (tolerance 1e-2)", &C, (int64_t)n * n, 1e-2);
    report(t, "tf32 context: sync", t->g->sync(t->g) == 0, 0, 1);
    pb_free(t, &A), pb_free(t, &Bm), pb_free(t, &C);
    sn_backend_close(t->g);
    t->g = fp32;
}

/* ------------------------------------------------------------- model */

typedef struct {
    int G, N;
    sn_gstruct ppi, cells;
    uint8_t *hvg;
    float *X;
    int32_t *q[4];
} problem;

static int has_pair(const int32_t *s, const int32_t *d, int n, int a, int b)
{
    for (int i = 0; i < n; i++)
        if (s[i] == a && d[i] == b)
            return 1;
    return 0;
}

static void make_problem(tc *t, problem *p, int G, int N, int deg)
{
    p->G = G;
    p->N = N;
    size_t cap = (size_t)G * G + (size_t)N * deg + 16;
    int32_t *s = malloc(cap * sizeof *s), *d = malloc(cap * sizeof *d);
    int ne = 0;
    for (int a = 0; a < G; a++)
        for (int b = a + 1; b < G; b++)
            if (sn_rng_double(&t->r) < 6.0 / G || b == a + 1) {
                s[ne] = a, d[ne++] = b;
                s[ne] = b, d[ne++] = a;
            }
    if (sn_gstruct_build(G, ne, s, d, &p->ppi) < 0)
        die("PPI");
    int nc = 0;
    for (int a = 0; a < N; a++)
        for (int k = 0; k < deg; k++) {
            int b = (int)sn_rng_below(&t->r, (uint64_t)N);
            if (b != a)
                s[nc] = b, d[nc++] = a;
        }
    if (sn_gstruct_build(N, nc, s, d, &p->cells) < 0)
        die("cell graph");
    free(s), free(d);
    p->hvg = malloc((size_t)G);
    for (int g = 0; g < G; g++)
        p->hvg[g] = g % 3 != 1;
    p->X = host_rand(t, (int64_t)N * G, -1, 2);
    int nP = p->ppi.ne;
    for (int k = 0; k < 4; k++)
        p->q[k] = malloc((size_t)nP * sizeof(int32_t));
    for (int k = 0; k < 4; k += 2)
        for (int e = 0; e < nP; e++) {
            int a, b;
            do {
                a = (int)sn_rng_below(&t->r, (uint64_t)G);
                b = (int)sn_rng_below(&t->r, (uint64_t)G);
            } while (a == b || (G < 200 && has_pair(p->ppi.att_ri, p->ppi.att_ci, nP, a, b)));
            p->q[k][e] = a, p->q[k + 1][e] = b;
        }
}

static void free_problem(problem *p)
{
    sn_gstruct_free(&p->ppi);
    sn_gstruct_free(&p->cells);
    free(p->hvg), free(p->X);
    for (int k = 0; k < 4; k++)
        free(p->q[k]);
}

/* The problem as the model runs of part/model_run.h take it. */
static sn_test_problem test_problem(const problem *p, const sn_model_cfg *cfg)
{
    return (sn_test_problem){p->G, p->N, cfg->hidden, cfg->embed, &p->ppi, &p->cells, p->hvg, p->X, p->q};
}

static double sq_norm(const float *x, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

/* ‖x − ref‖ / ‖ref‖ against float64. */
static double rel_to64(const double *ref, const float *x, int64_t n)
{
    double s = 0, d = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            return INFINITY;
        s += ref[i] * ref[i];
        d += (x[i] - ref[i]) * (x[i] - ref[i]);
    }
    return sqrt(d / fmax(s, 1e-300));
}

/* The gradients of both float32 backends against the float64 model's on
 * the CPU.  A gradient sums over every cell or gene through logs and
 * softmaxes, so float32 carries more error here than in any op; the GPU
 * passes when its error is of the CPU's size (at most 4 times it, or
 * 1e-5).  A parameter whose true gradient is zero (a bias ahead of a
 * standardisation) holds rounding noise only: those, with a gradient
 * norm under 1e-4 of the largest, are counted, not compared. */
static void test_grads(tc *t, const problem *p, const sn_model_cfg *cfg)
{
    int64_t offs[3][256];
    int np[3];
    sn_test_problem tp = test_problem(p, cfg);
    float *gc = sn_test_grads_f32(t->c, &tp, offs[0], &np[0]);
    float *gg = sn_test_grads_f32(t->g, &tp, offs[1], &np[1]);
    double *g64 = sn_test_grads_f64(NULL, &tp, offs[2], &np[2]);
    if (!gc || !gg || !g64 || np[2] != np[0])
        die("model gradients");
    double norm[256], top = 0, worst = 0, ec_w = 0, eg_w = 0;
    for (int k = 0; k < np[0]; k++)
        top = fmax(top, norm[k] = sqrt(sq_norm(gc + offs[0][k], offs[0][k + 1] - offs[0][k])));
    int noise = 0;
    for (int k = 0; k < np[0]; k++) {
        int64_t n = offs[0][k + 1] - offs[0][k];
        if (norm[k] < 1e-4 * top) {
            noise++;
            continue;
        }
        double ec = rel_to64(g64 + offs[0][k], gc + offs[0][k], n);
        double eg = rel_to64(g64 + offs[0][k], gg + offs[0][k], n);
        double ratio = eg / fmax(ec, 2.5e-6);
        if (ratio > worst)
            worst = ratio, ec_w = ec, eg_w = eg;
    }
    printf("     gradients: %d parameters, %d of rounding noise only; worst against float64: cpu %.2e, cuda %.2e "
           "(ratio %.2f)\n", np[0], noise, ec_w, eg_w, worst);
    report(t, "model: every gradient, no worse than the cpu's", worst <= 4, eg_w, top);
    double all_c = rel_to64(g64, gc, offs[0][np[0]]), all_g = rel_to64(g64, gg, offs[0][np[0]]);
    printf("     all gradients against float64: cpu %.2e, cuda %.2e\n", all_c, all_g);
    report(t, "model: all gradients, no worse than the cpu's", all_g <= 4 * fmax(all_c, 2.5e-6), all_g, top);
    free(gc), free(gg), free(g64);
}

/* Steps of both float32 backends against the float64 model's.  Adam turns
 * a gradient's rounding noise into a step of ±lr (m/√v is ±1 at the first
 * step), so after a few steps float32 differs from float64 by far more
 * than any op does, on the CPU as on the GPU: the GPU passes when it is
 * no further from float64 than the CPU (at most 4 times, or 1e-5). */
static void compare_steps(tc *t, const problem *p, const sn_model_cfg *cfg, int steps, double *lc, double *lg)
{
    int e = cfg->embed;
    int64_t n[3] = {(int64_t)p->G * e, (int64_t)p->N * e, (int64_t)p->N * p->G};
    float *o32[2][3];
    double *o64[3];
    for (int k = 0; k < 3; k++) {
        o32[0][k] = malloc((size_t)n[k] * sizeof(float));
        o32[1][k] = malloc((size_t)n[k] * sizeof(float));
        o64[k] = malloc((size_t)n[k] * sizeof(double));
    }
    sn_test_problem tp = test_problem(p, cfg);
    if (sn_test_steps_f32(t->c, &tp, steps, lc, o32[0][0], o32[0][1], o32[0][2]) < 0 ||
        sn_test_steps_f32(t->g, &tp, steps, lg, o32[1][0], o32[1][1], o32[1][2]) < 0 ||
        sn_test_steps_f64(NULL, &tp, steps, NULL, o64[0], o64[1], o64[2]) < 0)
        die("model steps");
    static const char *what[3] = {"gene embeddings", "cell embeddings", "reconstruction"};
    for (int k = 0; k < 3; k++) {
        double ec = rel_to64(o64[k], o32[0][k], n[k]), eg = rel_to64(o64[k], o32[1][k], n[k]);
        char name[96];
        snprintf(name, sizeof name, "model, %d steps: %s (cpu %.1e)", steps, what[k], ec);
        report(t, name, eg <= 4 * fmax(ec, 1e-5 / 4), eg, 1);
        for (int b = 0; b < 2; b++)
            free(o32[b][k]);
        free(o64[k]);
    }
}

static void test_model(tc *t)
{
    problem p;
    int steps = 4;
    make_problem(t, &p, t->small ? 40 : 600, t->small ? 30 : 1500, 8);
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    cfg.hidden = t->small ? 16 : 64;
    cfg.embed = t->small ? 8 : 16;
    test_grads(t, &p, &cfg);
    double lc[12], lg[12];
    compare_steps(t, &p, &cfg, 0, lc, lg);
    compare_steps(t, &p, &cfg, steps, lc, lg);
    double worst = 0;
    for (int i = 0; i < 3 * steps; i++)
        worst = fmax(worst, fabs(lg[i] - lc[i]) / fmax(fabs(lc[i]), 1e-30));
    printf("     model losses after %d steps: cpu %.6f %.6f %.6f, cuda %.6f %.6f %.6f\n", steps, lc[3 * steps - 3],
           lc[3 * steps - 2], lc[3 * steps - 1], lg[3 * steps - 3], lg[3 * steps - 2], lg[3 * steps - 1]);
    report(t, "model: losses of every step (1e-4)", worst <= 1e-4, worst, 1);
    free_problem(&p);
}

/* The training schedule on both backends: the first epochs' losses agree
 * (later epochs may part through discrete choices such as pruning). */
static void test_train(tc *t)
{
    int G = t->small ? 45 : 400, N = t->small ? 36 : 1200, k = 6;
    float *X = host_rand(t, (int64_t)N * G, 0, 3);
    uint8_t *hvg = malloc((size_t)G);
    int32_t *a = malloc((size_t)G * G * sizeof *a), *b = malloc((size_t)G * G * sizeof *b);
    int32_t *knn = host_ints(t, (int64_t)N * k, 0, N);
    int64_t ne = 0;
    for (int g = 0; g < G; g++)
        hvg[g] = g % 2 == 0;
    for (int i = 0; i < G; i++)
        for (int j = i + 1; j < G; j++)
            if (sn_rng_double(&t->r) < 8.0 / G)
                a[ne] = i, b[ne++] = j;
    for (int i = 0; i < N; i++)
        for (int q = 0; q < k; q++)
            if (knn[(int64_t)i * k + q] == i)
                knn[(int64_t)i * k + q] = -1;
    sn_train_data d = {G, N, X, hvg, ne, a, b, k, knn};
    sn_train_opts o;
    sn_train_opts_default(&o);
    o.epochs = 3;
    o.batches = 2;
    o.eval_every = 2;
    o.model.hidden = 16;
    o.model.embed = 8;
    sn_train_result rc, rg;
    if (sn_train_run(&d, &o, t->c, &rc) < 0)
        die("training on the CPU");
    int ok = sn_train_run(&d, &o, t->g, &rg) == 0;
    if (!ok)
        printf("     (%s)\n", sn_errmsg());
    double worst = 0;
    for (int e = 0; ok && e < 2; e++) {
        double c3[3] = {rc.loss_ppi[e], rc.loss_mse[e], rc.loss_corr[e]};
        double g3[3] = {rg.loss_ppi[e], rg.loss_mse[e], rg.loss_corr[e]};
        for (int i = 0; i < 3; i++)
            worst = fmax(worst, fabs(g3[i] - c3[i]) / fmax(fabs(c3[i]), 1e-30));
    }
    report(t, "training run: epoch 0-1 losses (1e-3)", ok && worst <= 1e-3, worst, 1);
    if (ok)
        sn_train_result_free(&rg);
    sn_train_result_free(&rc);
    free(X), free(hvg), free(a), free(b), free(knn);
}

int main(int argc, char **argv)
{
    const char *device = "cuda";
    setvbuf(stdout, NULL, _IOLBF, 0);
    tc t;
    memset(&t, 0, sizeof t);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small"))
            t.small = 1;
        else if (!strcmp(argv[i], "--devices")) { /* exit 0 when a device is usable */
            char d[1024];
            int n = sn_backend_cuda_devices(d, sizeof d);
            printf("%s\n", d);
            return n > 0 ? 0 : 3;
        }
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else {
            fprintf(stderr, "usage: test_ops_cuda [--device cuda[:N]] [--small]\n");
            return 2;
        }
    }
    char desc[512];
    if (sn_backend_open(device, 0, &t.g, desc, sizeof desc) < 0)
        die("opening the CUDA backend");
    if (strcmp(t.g->name, "cuda"))
        die("the backend opened is not CUDA");
    if (!(t.c = sn_ops_cpu_new_f32()))
        die("CPU backend");
    printf("test_ops_cuda: %s against the CPU backend (%s sizes)\n", desc, t.small ? "small" : "full");
    sn_rng_init(&t.r, 2024, 5);
    test_memory(&t);
    test_gemm(&t);
    test_gemm_adam(&t);
    test_adam(&t);
    test_transpose_axpy(&t);
    test_act(&t);
    test_bias_sum(&t);
    test_colstd(&t);
    test_mse(&t);
    test_corr(&t);
    test_bce(&t);
    test_spmm(&t);
    test_sddmm_gather(&t);
    test_pairs(&t);
    test_softmax(&t);
    test_sigatt(&t);
    test_tf32(&t, device);
    test_model(&t);
    test_train(&t);
    int rc = t.g->sync(t.g);
    report(&t, "sync: no device error", rc == 0, 0, 1);
    if (rc < 0)
        printf("     (%s)\n", sn_errmsg());
    printf("test_ops_cuda: %d checks, %d failed; worst normwise difference %.2e; peak %.1f MiB on the device\n",
           t.checks, t.fails, t.worst, (double)t.g->bytes_peak / (1 << 20));
    sn_backend_close(t.g);
    t.c->destroy(t.c);
    return t.fails ? 1 : 0;
}
