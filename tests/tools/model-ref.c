/* model-ref IN.h5 OUT.h5: one training step of the float32 model on a
 * problem fully given in IN.h5 (input, graphs, HVG flags, negatives,
 * hyper-parameters, every initial weight), for comparison with the
 * reference implementation (tests/reference/model_ref.py).
 *
 * IN.h5:  X (N × G float32, the standardised input X̃ᵀ), ppi and cells
 *         (2 × E int32: row 0 source, row 1 target, PyG edge_index),
 *         hvg (G uint8), neg_ppi and neg_corr (2 × |P| int32),
 *         hp/<name> (scalar double: layers hidden embed lr wd beta1 beta2
 *         adam_eps slope temp log_eps out_eps dropout att_dropout),
 *         params/<name> (float32, any shape with rows × cols elements).
 * OUT.h5: Zg (G × e), Zc (N × e), Y (N × G, un-standardised), alpha (cell
 *         attention per input cell edge), loss (3: ppi, mse, corr), and
 *         after one Adam step params/, adam_m/, adam_v/ by name.
 * The forward runs without dropout; backward and the (fused) Adam step
 * are those of training.  model-ref64 is the same program on the float64
 * model (outputs in float64). */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/gstruct.h"
#include "scnet/h5.h"
#include "scnet/mem.h"
#include "scnet/model.h"

#if SN_REAL_F64
#define H5T_REAL H5T_NATIVE_DOUBLE
#define H5T_REAL_FILE H5T_IEEE_F64LE
#define PROG "model-ref64"
#else
#define H5T_REAL H5T_NATIVE_FLOAT
#define H5T_REAL_FILE H5T_IEEE_F32LE
#define PROG "model-ref"
#endif

typedef struct {
    int G, N;
    real *X;
    int32_t *ppi, *cells, *qneg, *rneg; /* 2 × n each */
    hsize_t nppi, ncells, nq, nr;
    uint8_t *hvg;
    sn_gstruct gp, gc;
    sn_ops *o;
    sn_model m;
    int have_model;
} problem;

/* Read a whole dataset as memory type mt; rank < 0 accepts any rank.
 * dims (when given) receives the extents, n the number of values. */
static int read_ds(hid_t f, const char *name, hid_t mt, int rank, hsize_t *dims, hssize_t *n, void **out)
{
    int rc = SN_OK;
    hsize_t dd[8];
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return sn_err(SN_EFMT, "dataset '%s' is missing", name);
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    hssize_t count = H5Sget_simple_extent_npoints(s);
    if (r < 0 || r > 8 || (rank >= 0 && r != rank)) {
        rc = sn_err(SN_EFMT, "dataset '%s' has rank %d, expected %d", name, r, rank);
        goto out;
    }
    H5Sget_simple_extent_dims(s, dd, NULL);
    if (!(*out = sn_malloc((size_t)count * H5Tget_size(mt) + 1, name))) {
        rc = SN_ENOMEM;
        goto out;
    }
    if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        rc = sn_err(SN_EFMT, "dataset '%s' cannot be read as the expected type", name);
        free(*out);
        *out = NULL;
        goto out;
    }
    for (int i = 0; dims && i < r; i++)
        dims[i] = dd[i];
    if (n)
        *n = count;
out:
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

static int read_hp(hid_t f, const char *name, double *v)
{
    char path[64];
    snprintf(path, sizeof path, "hp/%s", name);
    double *p = NULL;
    hssize_t n;
    SN_TRY(read_ds(f, path, H5T_NATIVE_DOUBLE, -1, NULL, &n, (void **)&p));
    *v = *p;
    free(p);
    return n == 1 ? SN_OK : sn_err(SN_EFMT, "hyper-parameter '%s' is not a scalar", path);
}

static int read_cfg(hid_t f, sn_model_cfg *c)
{
    sn_model_cfg_default(c);
    double layers, hidden, embed;
    SN_TRY(read_hp(f, "layers", &layers));
    SN_TRY(read_hp(f, "hidden", &hidden));
    SN_TRY(read_hp(f, "embed", &embed));
    c->layers = (int)layers, c->hidden = (int)hidden, c->embed = (int)embed;
    const char *names[] = {"lr", "wd", "beta1", "beta2", "adam_eps", "slope", "temp", "log_eps", "out_eps",
                           "dropout", "att_dropout"};
    double *dst[] = {&c->lr,    &c->wd,   &c->beta1,   &c->beta2,   &c->adam_eps,   &c->slope,
                     &c->temp,  &c->log_eps, &c->out_eps, &c->dropout, &c->att_dropout};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        SN_TRY(read_hp(f, names[i], dst[i]));
    return SN_OK;
}

/* A 2 × n edge list (PyG edge_index) with indices below bound. */
static int read_pairs(hid_t f, const char *name, int bound, int32_t **out, hsize_t *n)
{
    hsize_t dims[2];
    SN_TRY(read_ds(f, name, H5T_NATIVE_INT32, 2, dims, NULL, (void **)out));
    if (dims[0] != 2)
        return sn_err(SN_EFMT, "dataset '%s' must be 2 × n (source row, target row)", name);
    *n = dims[1];
    for (hsize_t i = 0; i < 2 * dims[1]; i++)
        if ((*out)[i] < 0 || (*out)[i] >= bound)
            return sn_err(SN_EFMT, "dataset '%s' holds node %d outside 0..%d", name, (*out)[i], bound - 1);
    return SN_OK;
}

static int read_problem(hid_t f, problem *p)
{
    hsize_t dims[2];
    SN_TRY(read_ds(f, "X", H5T_REAL, 2, dims, NULL, (void **)&p->X));
    p->N = (int)dims[0], p->G = (int)dims[1];
    SN_TRY(read_ds(f, "hvg", H5T_NATIVE_UINT8, 1, dims, NULL, (void **)&p->hvg));
    if ((int)dims[0] != p->G)
        return sn_err(SN_EFMT, "hvg has %d flags for %d genes", (int)dims[0], p->G);
    SN_TRY(read_pairs(f, "ppi", p->G, &p->ppi, &p->nppi));
    SN_TRY(read_pairs(f, "cells", p->N, &p->cells, &p->ncells));
    SN_TRY(read_pairs(f, "neg_ppi", p->G, &p->qneg, &p->nq));
    SN_TRY(read_pairs(f, "neg_corr", p->G, &p->rneg, &p->nr));
    if (p->nq != p->nppi || p->nr != p->nppi)
        return sn_err(SN_EFMT, "the model takes exactly one negative per PPI edge (%d), got %d and %d",
                      (int)p->nppi, (int)p->nq, (int)p->nr);
    SN_TRY(sn_gstruct_build(p->G, (int64_t)p->nppi, p->ppi, p->ppi + p->nppi, &p->gp));
    return sn_gstruct_build(p->N, (int64_t)p->ncells, p->cells, p->cells + p->ncells, &p->gc);
}

/* Every weight by name, in the model's shape or any other of equal size. */
static int load_params(hid_t f, sn_model *m)
{
    for (int k = 0; k < m->nparam; k++) {
        const sn_param *q = &m->p[k];
        char path[80];
        snprintf(path, sizeof path, "params/%s", q->name);
        real *w = NULL;
        hssize_t n;
        SN_TRY(read_ds(f, path, H5T_REAL, -1, NULL, &n, (void **)&w));
        if (n == (hssize_t)q->rows * q->cols)
            SN_R(sn_model_param_set)(m, k, w);
        free(w);
        if (n != (hssize_t)q->rows * q->cols)
            return sn_err(SN_EFMT, "weight '%s' has %lld values, the model %d × %d", path, (long long)n, q->rows,
                          q->cols);
    }
    return SN_OK;
}

static int write_ds(hid_t f, const char *name, int rank, hsize_t d0, hsize_t d1, const real *buf)
{
    hsize_t dims[2] = {d0, d1};
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_REAL_FILE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int bad = d < 0 || H5Dwrite(d, H5T_REAL, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    H5Pclose(lcpl);
    return bad ? sn_err(SN_EIO, "cannot write dataset '%s'", name) : SN_OK;
}

/* Download rows × cols values with row stride ld and write them. */
static int write_dev(hid_t f, const sn_model *m, const char *name, const real *src, int rows, int cols, int ld)
{
    real *h = sn_malloc((size_t)rows * cols * sizeof *h + 1, name);
    if (!h)
        return SN_ENOMEM;
    for (int r = 0; r < rows; r++)
        m->o->download(m->o, h + (size_t)r * cols, src + (size_t)r * ld, (size_t)cols * sizeof *h);
    int rc = write_ds(f, name, 2, (hsize_t)rows, (hsize_t)cols, h);
    free(h);
    return rc;
}

/* Outputs of the forward pass; α goes back to the input edge order. */
static int write_forward(hid_t f, problem *p, const sn_losses *l)
{
    sn_model *m = &p->m;
    int ld, e = m->cfg.embed;
    const real *z = sn_model_zg(m, &ld);
    SN_TRY(write_dev(f, m, "Zg", z, p->G, e, ld));
    z = sn_model_zc(m, &ld);
    SN_TRY(write_dev(f, m, "Zc", z, p->N, e, ld));
    SN_TRY(write_dev(f, m, "Y", sn_model_y(m), p->N, p->G, p->G));
    int ne = p->gc.ne;
    real *a = sn_malloc(2 * (size_t)ne * sizeof *a + 1, "attention");
    if (!a)
        return SN_ENOMEM;
    m->o->download(m->o, a + ne, m->ac, (size_t)ne * sizeof *a);
    for (int k = 0; k < ne; k++)
        a[p->gc.att_eid[k]] = a[ne + k];
    int rc = write_ds(f, "alpha", 1, (hsize_t)ne, 1, a);
    free(a);
    real loss[3] = {(real)l->ppi, (real)l->mse, (real)l->corr};
    return rc ? rc : write_ds(f, "loss", 1, 3, 1, loss);
}

static int write_params(hid_t f, const sn_model *m)
{
    for (int k = 0; k < m->nparam; k++) {
        const sn_param *q = &m->p[k];
        const real *src[] = {q->w, q->m, q->v};
        const char *grp[] = {"params", "adam_m", "adam_v"};
        for (int t = 0; t < 3; t++) {
            char path[80];
            snprintf(path, sizeof path, "%s/%s", grp[t], q->name);
            SN_TRY(write_dev(f, m, path, src[t], q->rows, q->cols, q->cols));
        }
    }
    return SN_OK;
}

static int run(const char *in, const char *outp, problem *p)
{
    sn_h5 *fi = NULL, *fo = NULL;
    sn_model_cfg cfg;
    sn_losses l;
    int rc;
    SN_CHECK(sn_h5_open(in, &fi));
    hid_t f = sn_h5_id(fi);
    if ((rc = read_cfg(f, &cfg)) < 0 || (rc = read_problem(f, p)) < 0) {
        sn_err_prefix(rc, "%s: ", in);
        goto out;
    }
    if (!(p->o = SN_R(sn_ops_cpu_new)())) {
        rc = SN_ENOMEM;
        goto out;
    }
    SN_CHECK(SN_R(sn_model_init)(&p->m, p->o, &cfg, p->G, p->N, (int64_t)p->ncells, &p->gp, p->hvg));
    p->have_model = 1;
    if ((rc = load_params(f, &p->m)) < 0) {
        sn_err_prefix(rc, "%s: ", in);
        goto out;
    }
    SN_R(sn_model_set_input)(&p->m, p->X);
    SN_CHECK(SN_R(sn_model_set_cells)(&p->m, &p->gc));
    SN_R(sn_model_set_negatives)(&p->m, p->qneg, p->qneg + p->nq, p->rneg, p->rneg + p->nr);
    SN_R(sn_model_zero_grad)(&p->m);
    SN_R(sn_model_forward)(&p->m, 0, 1);
    SN_R(sn_model_loss)(&p->m, &l);
    SN_CHECK(sn_h5_create(outp, &fo));
    SN_CHECK(write_forward(sn_h5_id(fo), p, &l));
    SN_R(sn_model_backward)(&p->m, 1);
    SN_R(sn_model_adam)(&p->m);
    SN_CHECK(write_params(sn_h5_id(fo), &p->m));
    rc = sn_h5_commit(fo);
    fo = NULL;
out:
    sn_h5_close(fo);
    sn_h5_close(fi);
    return rc;
}

static void free_problem(problem *p)
{
    if (p->have_model)
        SN_R(sn_model_free)(&p->m);
    if (p->o)
        p->o->destroy(p->o);
    sn_gstruct_free(&p->gp);
    sn_gstruct_free(&p->gc);
    free(p->X), free(p->ppi), free(p->cells), free(p->qneg), free(p->rneg), free(p->hvg);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: " PROG " IN.h5 OUT.h5\n");
        return 2;
    }
    sn_h5_quiet();
    problem p;
    memset(&p, 0, sizeof p);
    int rc = run(argv[1], argv[2], &p);
    if (rc < 0)
        fprintf(stderr, PROG ": %s\n", sn_errmsg());
    free_problem(&p);
    return rc < 0;
}
