/* model_run.h, once for each precision (see scnet/real.h). */
#include "model_run.h"

#include <stdlib.h>

#include "scnet/model.h"

/* The model of p on *o (a new CPU backend when *o is NULL: *owned is set),
 * its input and cells set; with unfuse, keeping every gradient. */
static int open_model(sn_ops **o, int *owned, const sn_test_problem *p, int unfuse, sn_model *m)
{
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    cfg.hidden = p->hidden;
    cfg.embed = p->embed;
    *owned = !*o;
    real *X = malloc(sizeof(real) * (size_t)p->N * p->G);
    if (!X || (*owned && !(*o = SN_R(sn_ops_cpu_new)()))) {
        free(X);
        return -1;
    }
    for (int64_t i = 0; i < (int64_t)p->N * p->G; i++)
        X[i] = p->X[i];
    int rc = SN_R(sn_model_init)(m, *o, &cfg, p->G, p->N, p->cells->ne, p->ppi, p->hvg);
    if (rc == 0) {
        if (unfuse)
            rc = SN_R(sn_model_unfuse)(m);
        SN_R(sn_model_set_input)(m, X);
        if (rc == 0)
            rc = SN_R(sn_model_set_cells)(m, p->cells);
        if (rc < 0)
            SN_R(sn_model_free)(m);
    }
    free(X);
    if (rc < 0 && *owned)
        (*o)->destroy(*o);
    return rc < 0 ? -1 : 0;
}

/* Waits for the backend's work, then frees the model (and the backend when
 * it was made here); -1 when the backend reports an error. */
static int close_model(sn_ops *o, int owned, sn_model *m)
{
    int rc = o->sync(o) < 0 ? -1 : 0;
    SN_R(sn_model_free)(m);
    if (owned)
        o->destroy(o);
    return rc;
}

int SN_R(sn_test_steps)(void *ops, const sn_test_problem *p, int steps, double *loss, real *zg, real *zc, real *y)
{
    sn_ops *o = ops;
    sn_model m;
    int owned;
    if (open_model(&o, &owned, p, 0, &m) < 0)
        return -1;
    for (int s = 0; s < steps; s++) {
        sn_losses l;
        SN_R(sn_model_set_negatives)(&m, p->neg[s % 2 * 2], p->neg[s % 2 * 2 + 1], p->neg[2 - s % 2 * 2],
                                     p->neg[3 - s % 2 * 2]);
        SN_R(sn_model_step)(&m, (uint64_t)s + 1, &l);
        if (loss)
            loss[3 * s] = l.ppi, loss[3 * s + 1] = l.mse, loss[3 * s + 2] = l.corr;
    }
    SN_R(sn_model_forward)(&m, 0, 0);
    int e = p->embed, ld;
    const real *src = sn_model_zg(&m, &ld);
    for (int g = 0; g < p->G; g++)
        o->download(o, zg + (int64_t)g * e, src + (int64_t)g * ld, (size_t)e * sizeof(real));
    src = sn_model_zc(&m, &ld);
    for (int i = 0; i < p->N; i++)
        o->download(o, zc + (int64_t)i * e, src + (int64_t)i * ld, (size_t)e * sizeof(real));
    o->download(o, y, sn_model_y(&m), (size_t)p->N * p->G * sizeof(real));
    return close_model(o, owned, &m);
}

real *SN_R(sn_test_grads)(void *ops, const sn_test_problem *p, int64_t *offs, int *nparam)
{
    sn_ops *o = ops;
    sn_model m;
    int owned;
    if (open_model(&o, &owned, p, 1, &m) < 0)
        return NULL;
    sn_losses l;
    SN_R(sn_model_set_negatives)(&m, p->neg[0], p->neg[1], p->neg[2], p->neg[3]);
    SN_R(sn_model_zero_grad)(&m);
    SN_R(sn_model_forward)(&m, 1, 1);
    SN_R(sn_model_loss)(&m, &l);
    SN_R(sn_model_backward)(&m, 1);
    offs[0] = 0;
    for (int k = 0; k < m.nparam; k++)
        offs[k + 1] = offs[k] + (int64_t)m.p[k].rows * m.p[k].cols;
    real *g = malloc((size_t)offs[m.nparam] * sizeof *g);
    if (g)
        for (int k = 0; k < m.nparam; k++)
            o->download(o, g + offs[k], m.p[k].g, (size_t)(offs[k + 1] - offs[k]) * sizeof *g);
    *nparam = m.nparam;
    if (close_model(o, owned, &m) < 0) {
        free(g);
        return NULL;
    }
    return g;
}
