#define SN_REAL_F64 1
#include "grads64.h"

#include <stdlib.h>

#include "scnet/model.h"

/* The float64 model of p on a new CPU backend, its input and cells set. */
static int open_model(const sn_test_problem *p, int unfuse, sn_ops **o, sn_model *m)
{
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    cfg.hidden = p->hidden;
    cfg.embed = p->embed;
    double *X = malloc(sizeof(double) * (size_t)p->N * p->G);
    if (!X || !(*o = sn_ops_cpu_new_f64())) {
        free(X);
        return -1;
    }
    for (int64_t i = 0; i < (int64_t)p->N * p->G; i++)
        X[i] = p->X[i];
    int rc = sn_model_init_f64(m, *o, &cfg, p->G, p->N, p->cells->ne, p->ppi, p->hvg);
    if (rc < 0) {
        free(X);
        (*o)->destroy(*o);
        return -1;
    }
    if (unfuse)
        rc = sn_model_unfuse_f64(m);
    sn_model_set_input_f64(m, X);
    free(X);
    if (rc == 0)
        rc = sn_model_set_cells_f64(m, p->cells);
    if (rc < 0) {
        sn_model_free_f64(m);
        (*o)->destroy(*o);
    }
    return rc;
}

int sn_test_steps64(const sn_test_problem *p, int steps, double *zg, double *zc, double *y)
{
    sn_ops *o;
    sn_model m;
    if (open_model(p, 0, &o, &m) < 0)
        return -1;
    for (int s = 0; s < steps; s++) {
        sn_losses l;
        sn_model_set_negatives_f64(&m, p->neg[s % 2 * 2], p->neg[s % 2 * 2 + 1], p->neg[2 - s % 2 * 2],
                                   p->neg[3 - s % 2 * 2]);
        sn_model_step_f64(&m, (uint64_t)s + 1, &l);
    }
    sn_model_forward_f64(&m, 0, 0);
    int e = p->embed, ld;
    const double *src = sn_model_zg(&m, &ld);
    for (int g = 0; g < p->G; g++)
        o->download(o, zg + (int64_t)g * e, src + (int64_t)g * ld, (size_t)e * sizeof(double));
    src = sn_model_zc(&m, &ld);
    for (int i = 0; i < p->N; i++)
        o->download(o, zc + (int64_t)i * e, src + (int64_t)i * ld, (size_t)e * sizeof(double));
    o->download(o, y, sn_model_y(&m), (size_t)p->N * p->G * sizeof(double));
    sn_model_free_f64(&m);
    o->destroy(o);
    return 0;
}

double *sn_test_grads64(const sn_test_problem *p, int64_t *offs, int *nparam)
{
    sn_ops *o;
    sn_model m;
    double *g = NULL;
    if (open_model(p, 1, &o, &m) < 0)
        return NULL;
    sn_losses l;
    sn_model_set_negatives_f64(&m, p->neg[0], p->neg[1], p->neg[2], p->neg[3]);
    sn_model_zero_grad_f64(&m);
    sn_model_forward_f64(&m, 1, 1);
    sn_model_loss_f64(&m, &l);
    sn_model_backward_f64(&m, 1);
    offs[0] = 0;
    for (int k = 0; k < m.nparam; k++)
        offs[k + 1] = offs[k] + (int64_t)m.p[k].rows * m.p[k].cols;
    if ((g = malloc((size_t)offs[m.nparam] * sizeof *g)))
        for (int k = 0; k < m.nparam; k++)
            o->download(o, g + offs[k], m.p[k].g, (size_t)(offs[k + 1] - offs[k]) * sizeof *g);
    *nparam = m.nparam;
    sn_model_free_f64(&m);
    o->destroy(o);
    return g;
}
