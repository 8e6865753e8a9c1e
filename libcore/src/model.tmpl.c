/* The scNET model: parameters, forward, losses, backward (MODEL.md §3, §4,
 * §8), against the op table.  Compiled for float (programs) and double
 * (gradient checks). */
#include "scnet/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/mem.h"
#include "scnet/philox.h"

/* Dropout streams: one per step and tensor, so masks are reproducible. */
enum { ST_CELL = 0, ST_GENE = 1, ST_GGCN = 40, ST_GATT = 41, ST_CGCN = 42 };

static sn_drop drop(const sn_model *m, int train, uint64_t step, int tensor, double p)
{
    sn_drop d = {train ? p : 0, m->cfg.seed, (step << 8) | (uint64_t)tensor};
    return d;
}

static sn_param *lpar(sn_model *m, int l, int which) { return &m->p[l * SN_P_PER_LAYER + which]; }
static sn_param *tpar(sn_model *m, int which) { return &m->p[m->L * SN_P_PER_LAYER + which]; }

/* ---------------------------------------------------------------- memory */

/* Every backend buffer is recorded so sn_model_free can return it. */
typedef struct {
    sn_model *m;
    int failed;
} arena;

/* The table grows as the layers add buffers (about 22 a layer). */
static int grow_table(sn_model *m)
{
    int cap = m->cap_bufs ? 2 * m->cap_bufs : 256;
    void **t = sn_realloc(m->bufs, (size_t)cap * sizeof *t, "the model's buffer table");
    if (!t)
        return SN_ENOMEM;
    m->bufs = t;
    m->cap_bufs = cap;
    return SN_OK;
}

/* On failure the backend's alloc, or grow_table, has set the message. */
static void *get(arena *a, size_t bytes)
{
    sn_model *m = a->m;
    if (a->failed || (m->nbufs == m->cap_bufs && grow_table(m) < 0)) {
        a->failed = 1;
        return NULL;
    }
    void *p = m->o->alloc(m->o, bytes ? bytes : sizeof(real));
    if (!p)
        a->failed = 1;
    else
        m->bufs[m->nbufs++] = p;
    return p;
}

static real *getr(arena *a, int64_t n) { return get(a, sn_mul_size((size_t)n, sizeof(real))); }
static int32_t *geti(arena *a, int64_t n) { return get(a, sn_mul_size((size_t)n, sizeof(int32_t))); }

static void dcsr_alloc(arena *a, sn_dcsr *c, int32_t n, int64_t cap)
{
    c->nrow = c->ncol = n;
    c->ptr = geti(a, (int64_t)n + 1);
    c->col = geti(a, cap);
    c->val = getr(a, cap);
}

static void dgraph_alloc(arena *a, sn_dgraph *g, int32_t n, int64_t cap)
{
    g->n = n;
    g->cap = (int32_t)cap;
    dcsr_alloc(a, &g->mean, n, cap);
    dcsr_alloc(a, &g->mean_t, n, cap);
    dcsr_alloc(a, &g->gcn, n, cap + n);
    dcsr_alloc(a, &g->gcn_t, n, cap + n);
    dcsr_alloc(a, &g->att, n, cap);
    dcsr_alloc(a, &g->att_t, n, cap);
    g->ri = geti(a, cap);
    g->ci = geti(a, cap);
    g->perm = geti(a, cap);
}

static void dcsr_upload(sn_ops *o, sn_dcsr *d, const sn_hcsr *h)
{
    d->nrow = h->nrow;
    d->ncol = h->ncol;
    d->nnz = h->nnz;
    o->upload(o, d->ptr, h->ptr, ((size_t)h->nrow + 1) * sizeof(int32_t));
    o->upload(o, d->col, h->col, (size_t)h->nnz * sizeof(int32_t));
#if SN_REAL_F64
    o->upload(o, d->val, h->val, (size_t)h->nnz * sizeof(real));
#else
    float *tmp = sn_malloc((size_t)h->nnz * sizeof *tmp + 1, "graph values");
    for (int32_t k = 0; tmp && k < h->nnz; k++)
        tmp[k] = (float)h->val[k];
    if (tmp)
        o->upload(o, d->val, tmp, (size_t)h->nnz * sizeof(real));
    free(tmp);
#endif
}

static int dgraph_upload(sn_ops *o, sn_dgraph *d, const sn_gstruct *g)
{
    if (g->ne > d->cap || g->n != d->n)
        return sn_err(SN_EINVAL, "graph of %d nodes and %d edges does not fit the model (%d nodes, %d edges)",
                      g->n, g->ne, d->n, d->cap);
    d->ne = g->ne;
    dcsr_upload(o, &d->mean, &g->mean);
    dcsr_upload(o, &d->mean_t, &g->mean_t);
    dcsr_upload(o, &d->gcn, &g->gcn);
    dcsr_upload(o, &d->gcn_t, &g->gcn_t);
    dcsr_upload(o, &d->att, &g->att);
    dcsr_upload(o, &d->att_t, &g->att_t);
    o->upload(o, d->ri, g->att_ri, (size_t)g->ne * sizeof(int32_t));
    o->upload(o, d->ci, g->att_ci, (size_t)g->ne * sizeof(int32_t));
    o->upload(o, d->perm, g->att_perm, (size_t)g->ne * sizeof(int32_t));
    return SN_OK;
}

/* Parameter shapes, in index order. */
static void param_shapes(const sn_model_cfg *c, int G, int N, int *rows, int *cols, int *big)
{
    int k = 0, h = c->hidden, e4 = 4 * c->embed;
    for (int l = 0; l < c->layers; l++) {
        int r[] = {G, 1, G, N, 1, N}, cc[] = {G, G, G, N, N, N}, b[] = {1, 0, 1, 1, 0, 1};
        for (int i = 0; i < SN_P_PER_LAYER; i++, k++) {
            rows[k] = r[i];
            cols[k] = cc[i];
            big[k] = b[i];
        }
    }
    int r[] = {h, 1, e4, 1, h, 1, e4, 1, h, 1, h, 1, G, 1};
    int cc[] = {N, h, h, e4, G, h, h, e4, c->embed, h, h, h, h, G};
    for (int i = 0; i < SN_P_TAIL; i++, k++) {
        rows[k] = r[i];
        cols[k] = cc[i];
        big[k] = 0;
    }
}

static const char *tail_names[SN_P_TAIL] = {
    "gene.gcn.weight", "gene.gcn.bias", "gene.att.weight", "gene.att.bias", "cell.gcn.weight", "cell.gcn.bias",
    "cell.att.weight", "cell.att.bias", "dec.0.weight",    "dec.0.bias",    "dec.1.weight",    "dec.1.bias",
    "dec.2.weight",    "dec.2.bias"};
static const char *layer_names[SN_P_PER_LAYER] = {"cell.lin_l.weight", "cell.lin_l.bias", "cell.lin_r.weight",
                                                  "gene.lin_l.weight", "gene.lin_l.bias", "gene.lin_r.weight"};

static void param_name(int L, int k, char *buf, size_t len)
{
    if (k < L * SN_P_PER_LAYER)
        snprintf(buf, len, "mutual.%d.%s", k / SN_P_PER_LAYER, layer_names[k % SN_P_PER_LAYER]);
    else
        snprintf(buf, len, "%s", tail_names[k - L * SN_P_PER_LAYER]);
}

double SN_R(sn_model_bytes)(const sn_model_cfg *c, int G, int N, int64_t max_cell_edges, int64_t ppi_edges)
{
    int np = c->layers * SN_P_PER_LAYER + SN_P_TAIL, rows[64], cols[64], big[64];
    param_shapes(c, G, N, rows, cols, big);
    double params = 0;
    for (int k = 0; k < np; k++)
        params += (double)rows[k] * cols[k] * (big[k] ? 3 : 4);
    double h = c->hidden, e4 = 4.0 * c->embed, ng = (double)N * G;
    double act = ng * (2.0 * c->layers + 5) + G * (3 * h + 2 * e4) + N * (3 * h + 2 * e4 + 4 * h);
    double edges = 10.0 * ppi_edges + 9.0 * (double)max_cell_edges + 4.0 * (G + N);
    return (params + act + edges) * sizeof(real);
}

double SN_R(sn_model_weight_count)(const sn_model_cfg *c, int G, int N)
{
    int np = c->layers * SN_P_PER_LAYER + SN_P_TAIL, rows[64], cols[64], big[64];
    param_shapes(c, G, N, rows, cols, big);
    double n = 0;
    for (int k = 0; k < np; k++)
        n += (double)rows[k] * cols[k];
    return n;
}

static void alloc_params(sn_model *m, arena *a)
{
    int rows[64], cols[64], big[64];
    param_shapes(&m->cfg, m->G, m->N, rows, cols, big);
    for (int k = 0; k < m->nparam; k++) {
        sn_param *p = &m->p[k];
        param_name(m->L, k, p->name, sizeof p->name);
        p->rows = rows[k];
        p->cols = cols[k];
        p->big = big[k];
        int64_t n = (int64_t)rows[k] * cols[k];
        p->w = getr(a, n);
        p->m = getr(a, n);
        p->v = getr(a, n);
        p->g = p->big && m->fused ? NULL : getr(a, n);
    }
}

static void alloc_buffers(sn_model *m, arena *a, int64_t cap)
{
    int64_t ng = (int64_t)m->N * m->G, G = m->G, N = m->N, h = m->cfg.hidden, e4 = 4 * m->cfg.embed;
    for (int l = 0; l <= m->L; l++) {
        m->H[l] = getr(a, ng);
        m->U[l] = l ? getr(a, ng) : NULL;
    }
    for (int i = 0; i < 3; i++)
        m->S[i] = getr(a, ng);
    m->dH = getr(a, ng);
    m->Qg = getr(a, G * h), m->Tg = getr(a, G * h), m->dTg = getr(a, G * h);
    m->QKVg = getr(a, G * e4), m->dQKVg = getr(a, G * e4);
    m->Qc = getr(a, N * h), m->Tc = getr(a, N * h), m->dTc = getr(a, N * h);
    m->QKVc = getr(a, N * e4), m->dQKVc = getr(a, N * e4);
    m->D1 = getr(a, N * h), m->D2 = getr(a, N * h), m->dD1 = getr(a, N * h), m->dD2 = getr(a, N * h);
    int64_t ne = m->ppi.cap;
    m->sg = getr(a, ne), m->ag = getr(a, ne), m->adg = getr(a, ne), m->dag = getr(a, ne);
    m->dsg = getr(a, ne), m->eg = getr(a, ne);
    m->sc = getr(a, cap), m->ac = getr(a, cap), m->dac = getr(a, cap), m->dsc = getr(a, cap);
    m->ec = getr(a, cap), m->cstats = getr(a, 2);
    m->ystats = getr(a, 2 * G), m->norms = getr(a, G), m->cdiag = getr(a, G), m->hvg = getr(a, G);
    int64_t np = m->nP;
    m->P_ri = geti(a, np), m->P_ci = geti(a, np), m->Q_ri = geti(a, np), m->Q_ci = geti(a, np);
    m->R_ri = geti(a, np), m->R_ci = geti(a, np);
    m->xP = getr(a, np), m->xQ = getr(a, np), m->gP = getr(a, np), m->gQ = getr(a, np);
    m->rP = getr(a, np), m->rQ = getr(a, np), m->gcP = getr(a, np), m->gcQ = getr(a, np);
    m->loss = getr(a, 3);
}

int SN_R(sn_model_init)(sn_model *m, sn_ops *o, const sn_model_cfg *cfg, int G, int N, int64_t max_cell_edges,
                        const sn_gstruct *ppi, const uint8_t *hvg)
{
    memset(m, 0, sizeof *m);
    if (cfg->layers < 1 || cfg->layers > 7)
        return sn_err(SN_EINVAL, "the model needs 1 to 7 mutual layers (got %d)", cfg->layers);
    if (ppi->n != G)
        return sn_err(SN_EINVAL, "PPI has %d nodes, the model %d genes", ppi->n, G);
    m->cfg = *cfg;
    m->o = o;
    m->G = G;
    m->N = N;
    m->L = cfg->layers;
    m->fused = 1;
    m->nparam = m->L * SN_P_PER_LAYER + SN_P_TAIL;
    m->nP = ppi->ne;
    m->p = sn_calloc((size_t)m->nparam, sizeof *m->p, "model parameters");
    if (!m->p)
        return SN_ENOMEM;
    arena a = {m, 0};
    sn_err_clear(); /* the reason below is this failure's, never an earlier one's */
    alloc_params(m, &a);
    dgraph_alloc(&a, &m->ppi, G, ppi->ne);
    dgraph_alloc(&a, &m->cells, N, max_cell_edges);
    alloc_buffers(m, &a, max_cell_edges);
    if (a.failed) {
        int rc = *sn_errmsg() ? sn_err_prefix(SN_ENOMEM, "model does not fit: ")
                              : sn_err(SN_ENOMEM, "model does not fit: an allocation in the %s backend failed",
                                       o->name ? o->name : "compute");
        SN_R(sn_model_free)(m);
        return rc;
    }
    SN_TRY(dgraph_upload(o, &m->ppi, ppi));
    /* Loss positives: every directed training edge, in att order. */
    o->copy(o, m->P_ri, m->ppi.ri, (size_t)m->nP * sizeof(int32_t));
    o->copy(o, m->P_ci, m->ppi.ci, (size_t)m->nP * sizeof(int32_t));
    real *h = sn_malloc((size_t)G * sizeof *h, "gene flags");
    if (!h)
        return SN_ENOMEM;
    m->nhvg = 0;
    for (int g = 0; g < G; g++)
        m->nhvg += (h[g] = hvg[g] ? 1 : 0) != 0;
    o->upload(o, m->hvg, h, (size_t)G * sizeof *h);
    free(h);
    SN_R(sn_model_reset)(m);
    return SN_OK;
}

void SN_R(sn_model_free)(sn_model *m)
{
    for (int i = 0; i < m->nbufs; i++)
        m->o->free(m->o, m->bufs[i]);
    free(m->bufs);
    m->bufs = NULL;
    m->nbufs = m->cap_bufs = 0;
    free(m->p);
    m->p = NULL;
}

int SN_R(sn_model_unfuse)(sn_model *m)
{
    arena a = {m, 0};
    sn_err_clear();
    for (int k = 0; k < m->nparam; k++)
        if (!m->p[k].g)
            m->p[k].g = getr(&a, (int64_t)m->p[k].rows * m->p[k].cols);
    if (a.failed)
        return *sn_errmsg() ? sn_err_prefix(SN_ENOMEM, "gradients do not fit: ")
                            : sn_err(SN_ENOMEM, "gradients do not fit: an allocation in the backend failed");
    m->fused = 0;
    return SN_OK;
}

void SN_R(sn_model_reset)(sn_model *m)
{
    sn_ops *o = m->o;
    int L = m->L;
    for (int k = 0; k < m->nparam; k++) {
        sn_param *p = &m->p[k];
        int64_t n = (int64_t)p->rows * p->cols;
        double bound;
        int tk = k - L * SN_P_PER_LAYER;
        if (tk == SN_P_GGCN_W || tk == SN_P_CGCN_W)
            bound = sqrt(6.0 / (p->rows + p->cols));
        else if (tk == SN_P_GGCN_B || tk == SN_P_CGCN_B)
            bound = 0;
        else {
            /* fan-in of a bias is that of its weight, the parameter before it */
            int fan = p->rows == 1 ? m->p[k - 1].cols : p->cols;
            bound = 1.0 / sqrt((double)fan);
        }
        real *buf = sn_malloc((size_t)n * sizeof *buf + 1, "parameter initialisation");
        if (!buf)
            continue;
        /* four draws per Philox call: the values of sn_philox_u01(.., i) */
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t q = 0; q < (n + 3) / 4; q++) {
            sn_u32x4 r = sn_philox(m->cfg.seed, 1000 + (uint64_t)k, (uint64_t)q);
            for (int t = 0; t < 4 && 4 * q + t < n; t++)
                buf[4 * q + t] = (real)(bound * (2.0 * sn_philox_word_u01(r.v[t]) - 1.0));
        }
        o->upload(o, p->w, buf, (size_t)n * sizeof *buf);
        free(buf);
        o->fill(o, p->m, n, 0);
        o->fill(o, p->v, n, 0);
    }
    m->adam_t = 0;
}

int SN_R(sn_model_param_find)(const sn_model *m, const char *name)
{
    for (int k = 0; k < m->nparam; k++)
        if (!strcmp(m->p[k].name, name))
            return k;
    return -1;
}

void SN_R(sn_model_param_set)(sn_model *m, int k, const real *host)
{
    const sn_param *p = &m->p[k];
    m->o->upload(m->o, p->w, host, (size_t)p->rows * p->cols * sizeof(real));
}

void SN_R(sn_model_param_get)(const sn_model *m, int k, real *host)
{
    const sn_param *p = &m->p[k];
    m->o->download(m->o, host, p->w, (size_t)p->rows * p->cols * sizeof(real));
}

void SN_R(sn_model_set_input)(sn_model *m, const real *Xt)
{
    m->o->upload(m->o, m->H[0], Xt, (size_t)m->N * m->G * sizeof(real));
}

int SN_R(sn_model_set_cells)(sn_model *m, const sn_gstruct *cells)
{
    return dgraph_upload(m->o, &m->cells, cells);
}

void SN_R(sn_model_set_negatives)(sn_model *m, const int32_t *q_ri, const int32_t *q_ci, const int32_t *r_ri,
                                  const int32_t *r_ci)
{
    size_t b = (size_t)m->nP * sizeof(int32_t);
    m->o->upload(m->o, m->Q_ri, q_ri, b);
    m->o->upload(m->o, m->Q_ci, q_ci, b);
    m->o->upload(m->o, m->R_ri, r_ri, b);
    m->o->upload(m->o, m->R_ci, r_ci, b);
}

/* --------------------------------------------------------------- forward */

static void mutual_forward(sn_model *m, int train, uint64_t step)
{
    sn_ops *o = m->o;
    int N = m->N, G = m->G;
    real slope = (real)m->cfg.slope;
    for (int l = 1; l <= m->L; l++) {
        real *Hin = m->H[l - 1], *U = m->U[l], *Hout = m->H[l], *A = m->S[1];
        sn_drop dc = drop(m, train, step, ST_CELL + 2 * l, m->cfg.dropout);
        sn_drop dg = drop(m, train, step, ST_GENE + 2 * l, m->cfg.dropout);
        /* cell step: C = (M_K Hᵀ) W1ᵀ + b + Hᵀ W2ᵀ, U = Drop(φ(C)) */
        o->spmm(o, &m->cells.mean, Hin, G, G, 1, 0, A, G);
        o->gemm(o, 0, 1, N, G, G, 1, A, G, lpar(m, l - 1, SN_P_CELL_W1)->w, G, 0, U, G);
        o->gemm(o, 0, 1, N, G, G, 1, Hin, G, lpar(m, l - 1, SN_P_CELL_W2)->w, G, 1, U, G);
        o->add_bias(o, U, N, G, G, lpar(m, l - 1, SN_P_CELL_B)->w, 0);
        o->act(o, U, N, G, G, slope, &dc);
        /* gene step: Rᵀ = W1 (U M_Pᵀ) + W2 U + b, H = φ(Drop(R)) */
        o->spmm_rt(o, U, N, G, &m->ppi.mean, 0, A, G);
        o->gemm(o, 0, 0, N, G, N, 1, lpar(m, l - 1, SN_P_GENE_W1)->w, N, A, G, 0, Hout, G);
        o->gemm(o, 0, 0, N, G, N, 1, lpar(m, l - 1, SN_P_GENE_W2)->w, N, U, G, 1, Hout, G);
        o->add_bias(o, Hout, N, G, G, lpar(m, l - 1, SN_P_GENE_B)->w, 1);
        o->act(o, Hout, N, G, G, slope, &dg);
    }
}

/* GCN → Drop(φ) → q,k,v,skip in one GEMM; Z lands in the skip slice. */
static void encoder_head(sn_model *m, int rows, const real *Q, const sn_dgraph *g, int gw, real *T, real *QKV,
                         const sn_drop *d)
{
    sn_ops *o = m->o;
    int h = m->cfg.hidden, e4 = 4 * m->cfg.embed;
    o->spmm(o, &g->gcn, Q, h, h, 1, 0, T, h);
    o->add_bias(o, T, rows, h, h, tpar(m, gw + 1)->w, 0);
    o->act(o, T, rows, h, h, (real)m->cfg.slope, d);
    o->gemm(o, 0, 1, rows, e4, h, 1, T, h, tpar(m, gw + 2)->w, h, 0, QKV, e4);
    o->add_bias(o, QKV, rows, e4, e4, tpar(m, gw + 3)->w, 0);
}

static void gene_encoder(sn_model *m, int train, uint64_t step)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed, e4 = 4 * e;
    sn_drop d = drop(m, train, step, ST_GGCN, m->cfg.dropout);
    sn_drop da = drop(m, train, step, ST_GATT, m->cfg.att_dropout);
    o->gemm(o, 1, 1, G, h, N, 1, m->H[m->L], G, tpar(m, SN_P_GGCN_W)->w, N, 0, m->Qg, h);
    encoder_head(m, G, m->Qg, &m->ppi, SN_P_GGCN_W, m->Tg, m->QKVg, &d);
    o->sddmm(o, m->ppi.ri, m->ppi.ci, m->ppi.ne, m->QKVg, e4, m->QKVg + e, e4, e, (real)(1 / sqrt((double)e)), m->sg);
    o->softmax_rows(o, &m->ppi.att, m->sg, m->ag, m->adg, &da);
    sn_dcsr att = m->ppi.att;
    att.val = m->adg;
    o->spmm(o, &att, m->QKVg + 2 * e, e4, e, 1, 1, m->QKVg + 3 * e, e4);
}

static void cell_encoder(sn_model *m, int train, uint64_t step)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed, e4 = 4 * e;
    sn_drop d = drop(m, train, step, ST_CGCN, m->cfg.dropout);
    o->gemm(o, 0, 1, N, h, G, 1, m->H[m->L], G, tpar(m, SN_P_CGCN_W)->w, G, 0, m->Qc, h);
    encoder_head(m, N, m->Qc, &m->cells, SN_P_CGCN_W, m->Tc, m->QKVc, &d);
    o->sddmm(o, m->cells.ri, m->cells.ci, m->cells.ne, m->QKVc, e4, m->QKVc + e, e4, e, (real)(1 / sqrt((double)e)),
             m->sc);
    o->sigatt(o, m->sc, m->cells.ne, (real)m->cfg.temp, m->ac, m->cstats);
    sn_dcsr att = m->cells.att;
    att.val = m->ac;
    o->spmm(o, &att, m->QKVc + 2 * e, e4, e, 1, 1, m->QKVc + 3 * e, e4);
}

static void decoder(sn_model *m)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed;
    sn_drop none = {0, 0, 0};
    o->gemm(o, 0, 1, N, h, e, 1, m->QKVc + 3 * e, 4 * e, tpar(m, SN_P_DEC1_W)->w, e, 0, m->D1, h);
    o->add_bias(o, m->D1, N, h, h, tpar(m, SN_P_DEC1_B)->w, 0);
    o->act(o, m->D1, N, h, h, 0, &none);
    o->gemm(o, 0, 1, N, h, h, 1, m->D1, h, tpar(m, SN_P_DEC2_W)->w, h, 0, m->D2, h);
    o->add_bias(o, m->D2, N, h, h, tpar(m, SN_P_DEC2_B)->w, 0);
    o->act(o, m->D2, N, h, h, 0, &none);
    o->gemm(o, 0, 1, N, G, h, 1, m->D2, h, tpar(m, SN_P_DEC3_W)->w, h, 0, m->S[0], G);
    o->add_bias(o, m->S[0], N, G, G, tpar(m, SN_P_DEC3_B)->w, 0);
}

void SN_R(sn_model_forward)(sn_model *m, int train, uint64_t step)
{
    m->train = train;
    mutual_forward(m, train, step);
    gene_encoder(m, train, step);
    cell_encoder(m, train, step);
    decoder(m);
}

/* ------------------------------------------------------------------ loss */

/* Y = S[0]; Ŷ → S[1]; centred unit columns of Y (G × N) → S[2]. */
void SN_R(sn_model_loss)(sn_model *m, sn_losses *out)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, e = m->cfg.embed, e4 = 4 * e, nP = m->nP;
    real eps = (real)m->cfg.log_eps, big = (real)1e30, *Zg = m->QKVg + 3 * e;
    real cp = (real)(m->cfg.w_ppi / nP), cc = (real)(m->cfg.w_corr / nP);
    o->fill(o, m->loss, 3, 0);
    o->sddmm(o, m->P_ri, m->P_ci, nP, Zg, e4, Zg, e4, e, 1, m->xP);
    o->sddmm(o, m->Q_ri, m->Q_ci, nP, Zg, e4, Zg, e4, e, 1, m->xQ);
    o->bce(o, m->xP, nP, 1, cp, eps, -big, big, m->loss, m->gP);
    o->bce(o, m->xQ, nP, 0, cp, eps, -big, big, m->loss, m->gQ);
    o->colstd(o, m->S[0], N, G, G, (real)m->cfg.out_eps, m->ystats, m->S[1]);
    real scale = m->nhvg ? (real)(m->cfg.w_mse / ((double)N * m->nhvg)) : 0;
    o->mse(o, m->H[0], m->S[1], m->hvg, N, G, G, scale, m->loss + 1, m->dH);
    o->center_norm_t(o, m->S[0], N, G, G, m->S[2], m->norms);
    o->sddmm(o, m->P_ri, m->P_ci, nP, m->S[2], N, m->S[2], N, N, 1, m->rP);
    o->sddmm(o, m->R_ri, m->R_ci, nP, m->S[2], N, m->S[2], N, N, 1, m->rQ);
    o->bce(o, m->rP, nP, 1, cc, eps, -1, 1, m->loss + 2, m->gcP);
    o->bce(o, m->rQ, nP, 0, cc, eps, -1, 1, m->loss + 2, m->gcQ);
    real l[3];
    o->download(o, l, m->loss, sizeof l);
    out->ppi = l[0];
    out->mse = l[1];
    out->corr = l[2];
    out->total = out->ppi + out->mse + out->corr;
}

/* -------------------------------------------------------------- backward */

/* Gradient of a weight as op(A)·op(B): accumulated, or applied at once. */
static void param_gemm(sn_model *m, sn_param *p, int ta, int tb, int k, const real *A, int lda, const real *B,
                       int ldb)
{
    sn_ops *o = m->o;
    if (p->big && m->fused) {
        sn_adam_hp h = {m->cfg.lr, m->cfg.beta1, m->cfg.beta2, m->cfg.adam_eps, m->cfg.wd, m->adam_t + 1};
        o->gemm_adam(o, ta, tb, p->rows, p->cols, k, A, lda, B, ldb, p->w, p->m, p->v, &h);
    } else {
        o->gemm(o, ta, tb, p->rows, p->cols, k, 1, A, lda, B, ldb, 1, p->g, p->cols);
    }
}

/* Loss gradients into dY (S[0]): MSE through the standardisation, and
 * the correlation loss directly on Y (correlation ignores the affine
 * standardisation, MODEL.md §8.8). */
static void loss_backward(sn_model *m)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, nP = m->nP;
    real *dY = m->S[0], *dAt = m->S[1], *At = m->S[2];
    o->fill(o, dY, (int64_t)N * G, 0);
    o->colstd_bwd(o, m->S[1], m->dH, N, G, G, (real)m->cfg.out_eps, m->ystats, dY);
    o->fill(o, dAt, (int64_t)N * G, 0);
    o->pair_scatter(o, m->P_ri, m->P_ci, m->gcP, nP, At, N, N, dAt, N);
    o->pair_scatter(o, m->R_ri, m->R_ci, m->gcQ, nP, At, N, N, dAt, N);
    o->fill(o, m->cdiag, G, 0);
    o->pair_diag(o, m->P_ri, m->P_ci, m->gcP, m->rP, nP, m->cdiag);
    o->pair_diag(o, m->R_ri, m->R_ci, m->gcQ, m->rQ, nP, m->cdiag);
    o->corr_back(o, At, dAt, m->cdiag, m->norms, N, G, dY, G);
}

static void decoder_backward(sn_model *m)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed, e4 = 4 * e;
    real *dY = m->S[0];
    sn_drop none = {0, 0, 0};
    param_gemm(m, tpar(m, SN_P_DEC3_W), 1, 0, N, dY, G, m->D2, h);
    o->sum(o, dY, N, G, G, 0, 1, tpar(m, SN_P_DEC3_B)->g);
    o->gemm(o, 0, 0, N, h, G, 1, dY, G, tpar(m, SN_P_DEC3_W)->w, h, 0, m->dD2, h);
    o->act_bwd(o, m->D2, m->dD2, N, h, h, 0, &none);
    param_gemm(m, tpar(m, SN_P_DEC2_W), 1, 0, N, m->dD2, h, m->D1, h);
    o->sum(o, m->dD2, N, h, h, 0, 1, tpar(m, SN_P_DEC2_B)->g);
    o->gemm(o, 0, 0, N, h, h, 1, m->dD2, h, tpar(m, SN_P_DEC2_W)->w, h, 0, m->dD1, h);
    o->act_bwd(o, m->D1, m->dD1, N, h, h, 0, &none);
    param_gemm(m, tpar(m, SN_P_DEC1_W), 1, 0, N, m->dD1, h, m->QKVc + 3 * e, e4);
    o->sum(o, m->dD1, N, h, h, 0, 1, tpar(m, SN_P_DEC1_B)->g);
    /* dZ_c goes straight into the skip slice (Z = skip + aggregation) */
    o->gemm(o, 0, 0, N, e, h, 1, m->dD1, h, tpar(m, SN_P_DEC1_W)->w, e, 0, m->dQKVc + 3 * e, e4);
}

/* Back through v (via α), q and k of an attention layer given ds and the
 * per-edge weights w (att order); tmp holds one value per edge. */
static void attention_qkv_backward(sn_model *m, const sn_dgraph *g, const real *QKV, real *dQKV, const real *w,
                                   const real *ds, real *tmp)
{
    sn_ops *o = m->o;
    int e = m->cfg.embed, e4 = 4 * e;
    real sc = (real)(1 / sqrt((double)e));
    sn_dcsr att = g->att, att_t = g->att_t;
    o->gather(o, w, g->perm, g->ne, tmp);
    att_t.val = tmp;
    o->spmm(o, &att_t, dQKV + 3 * e, e4, e, 1, 0, dQKV + 2 * e, e4);
    att.val = (real *)ds;
    o->spmm(o, &att, QKV + e, e4, e, sc, 0, dQKV, e4);
    o->gather(o, ds, g->perm, g->ne, tmp);
    att_t.val = tmp;
    o->spmm(o, &att_t, QKV, e4, e, sc, 0, dQKV + e, e4);
}

/* From dQKV back through the q/k/v/skip map, Drop(φ) and the GCN to dQ;
 * gw = index of the GCN weight. */
static void encoder_head_backward(sn_model *m, int rows, const sn_dgraph *g, int gw, const real *T,
                                  const real *dQKV, real *dT, real *dQ, const sn_drop *d)
{
    sn_ops *o = m->o;
    int h = m->cfg.hidden, e4 = 4 * m->cfg.embed;
    param_gemm(m, tpar(m, gw + 2), 1, 0, rows, dQKV, e4, T, h);
    o->sum(o, dQKV, rows, e4, e4, 0, 1, tpar(m, gw + 3)->g);
    o->gemm(o, 0, 0, rows, h, e4, 1, dQKV, e4, tpar(m, gw + 2)->w, h, 0, dT, h);
    o->act_bwd(o, T, dT, rows, h, h, (real)m->cfg.slope, d);
    o->sum(o, dT, rows, h, h, 0, 1, tpar(m, gw + 1)->g);
    o->spmm(o, &g->gcn_t, dT, h, h, 1, 0, dQ, h);
}

static void cell_encoder_backward(sn_model *m, uint64_t step)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed, e4 = 4 * e;
    sn_drop d = drop(m, m->train, step, ST_CGCN, m->cfg.dropout);
    o->sddmm(o, m->cells.ri, m->cells.ci, m->cells.ne, m->dQKVc + 3 * e, e4, m->QKVc + 2 * e, e4, e, 1, m->dac);
    o->sigatt_bwd(o, m->sc, m->ac, m->dac, m->cells.ne, (real)m->cfg.temp, m->cstats, m->dsc);
    attention_qkv_backward(m, &m->cells, m->QKVc, m->dQKVc, m->ac, m->dsc, m->ec);
    encoder_head_backward(m, N, &m->cells, SN_P_CGCN_W, m->Tc, m->dQKVc, m->dTc, m->Qc, &d);
    /* m->Qc now holds dQ_c */
    param_gemm(m, tpar(m, SN_P_CGCN_W), 1, 0, N, m->Qc, h, m->H[m->L], G);
    o->gemm(o, 0, 0, N, G, h, 1, m->Qc, h, tpar(m, SN_P_CGCN_W)->w, G, 0, m->dH, G);
}

static void gene_encoder_backward(sn_model *m, uint64_t step)
{
    sn_ops *o = m->o;
    int G = m->G, N = m->N, h = m->cfg.hidden, e = m->cfg.embed, e4 = 4 * e, nP = m->nP;
    sn_drop d = drop(m, m->train, step, ST_GGCN, m->cfg.dropout);
    sn_drop da = drop(m, m->train, step, ST_GATT, m->cfg.att_dropout);
    real *Zg = m->QKVg + 3 * e, *dZg = m->dQKVg + 3 * e;
    o->fill(o, m->dQKVg, (int64_t)G * e4, 0);
    o->pair_scatter(o, m->P_ri, m->P_ci, m->gP, nP, Zg, e4, e, dZg, e4);
    o->pair_scatter(o, m->Q_ri, m->Q_ci, m->gQ, nP, Zg, e4, e, dZg, e4);
    o->sddmm(o, m->ppi.ri, m->ppi.ci, m->ppi.ne, dZg, e4, m->QKVg + 2 * e, e4, e, 1, m->dag);
    o->softmax_rows_bwd(o, &m->ppi.att, m->ag, m->dag, m->dsg, &da);
    attention_qkv_backward(m, &m->ppi, m->QKVg, m->dQKVg, m->adg, m->dsg, m->eg);
    encoder_head_backward(m, G, &m->ppi, SN_P_GGCN_W, m->Tg, m->dQKVg, m->dTg, m->Qg, &d);
    /* m->Qg now holds dQ_g (G × h); Q_g = H W_gᵀ with H = H[L]ᵀ */
    param_gemm(m, tpar(m, SN_P_GGCN_W), 1, 1, G, m->Qg, h, m->H[m->L], G);
    o->gemm(o, 1, 1, N, G, h, 1, tpar(m, SN_P_GGCN_W)->w, N, m->Qg, h, 1, m->dH, G);
}

static void mutual_backward(sn_model *m, uint64_t step)
{
    sn_ops *o = m->o;
    int N = m->N, G = m->G;
    real slope = (real)m->cfg.slope, *dH = m->dH, *A = m->S[0], *dP = m->S[1], *dU = m->S[2];
    for (int l = m->L; l >= 1; l--) {
        sn_drop dc = drop(m, m->train, step, ST_CELL + 2 * l, m->cfg.dropout);
        sn_drop dg = drop(m, m->train, step, ST_GENE + 2 * l, m->cfg.dropout);
        sn_param *w1g = lpar(m, l - 1, SN_P_GENE_W1), *w2g = lpar(m, l - 1, SN_P_GENE_W2);
        sn_param *w1c = lpar(m, l - 1, SN_P_CELL_W1), *w2c = lpar(m, l - 1, SN_P_CELL_W2);
        /* gene step; dH becomes dR */
        o->act_bwd(o, m->H[l], dH, N, G, G, slope, &dg);
        o->sum(o, dH, N, G, G, 1, 1, lpar(m, l - 1, SN_P_GENE_B)->g);
        o->gemm(o, 1, 0, N, G, N, 1, w1g->w, N, dH, G, 0, dP, G);
        o->gemm(o, 1, 0, N, G, N, 1, w2g->w, N, dH, G, 0, dU, G);
        o->spmm_rt(o, m->U[l], N, G, &m->ppi.mean, 0, A, G);
        param_gemm(m, w1g, 0, 1, G, dH, G, A, G);
        param_gemm(m, w2g, 0, 1, G, dH, G, m->U[l], G);
        o->spmm_rt(o, dP, N, G, &m->ppi.mean_t, 1, dU, G);
        /* cell step; dU becomes dC */
        o->act_bwd(o, m->U[l], dU, N, G, G, slope, &dc);
        o->sum(o, dU, N, G, G, 0, 1, lpar(m, l - 1, SN_P_CELL_B)->g);
        o->spmm(o, &m->cells.mean, m->H[l - 1], G, G, 1, 0, A, G);
        if (l > 1) {
            o->gemm(o, 0, 0, N, G, G, 1, dU, G, w1c->w, G, 0, dP, G);
            o->gemm(o, 0, 0, N, G, G, 1, dU, G, w2c->w, G, 0, dH, G);
        }
        param_gemm(m, w1c, 1, 0, N, dU, G, A, G);
        param_gemm(m, w2c, 1, 0, N, dU, G, m->H[l - 1], G);
        if (l > 1)
            o->spmm(o, &m->cells.mean_t, dP, G, G, 1, 1, dH, G);
    }
}

void SN_R(sn_model_backward)(sn_model *m, uint64_t step)
{
    loss_backward(m);
    decoder_backward(m);
    cell_encoder_backward(m, step);
    gene_encoder_backward(m, step);
    mutual_backward(m, step);
}

void SN_R(sn_model_zero_grad)(sn_model *m)
{
    for (int k = 0; k < m->nparam; k++)
        if (m->p[k].g)
            m->o->fill(m->o, m->p[k].g, (int64_t)m->p[k].rows * m->p[k].cols, 0);
}

void SN_R(sn_model_adam)(sn_model *m)
{
    sn_adam_hp h = {m->cfg.lr, m->cfg.beta1, m->cfg.beta2, m->cfg.adam_eps, m->cfg.wd, m->adam_t + 1};
    for (int k = 0; k < m->nparam; k++) {
        sn_param *p = &m->p[k];
        if (!(p->big && m->fused))
            m->o->adam(m->o, p->w, p->g, p->m, p->v, (int64_t)p->rows * p->cols, &h);
    }
    m->adam_t++;
}

void SN_R(sn_model_step)(sn_model *m, uint64_t step, sn_losses *out)
{
    SN_R(sn_model_zero_grad)(m);
    SN_R(sn_model_forward)(m, 1, step);
    SN_R(sn_model_loss)(m, out);
    SN_R(sn_model_backward)(m, step);
    SN_R(sn_model_adam)(m);
}
