#define SN_REAL_F64 1
#include "grads64.h"

#include <stdlib.h>

#include "scnet/model.h"

double *sn_test_grads64(const sn_test_problem *p, int64_t *offs, int *nparam)
{
    sn_ops *o = sn_ops_cpu_new_f64();
    sn_model_cfg cfg;
    sn_model_cfg_default(&cfg);
    cfg.hidden = p->hidden;
    cfg.embed = p->embed;
    sn_model m;
    double *X = malloc(sizeof(double) * (size_t)p->N * p->G), *g = NULL;
    if (!o || !X || sn_model_init_f64(&m, o, &cfg, p->G, p->N, p->cells->ne, p->ppi, p->hvg) < 0)
        goto out;
    for (int64_t i = 0; i < (int64_t)p->N * p->G; i++)
        X[i] = p->X[i];
    sn_losses l;
    if (sn_model_unfuse_f64(&m) < 0)
        goto model;
    sn_model_set_input_f64(&m, X);
    if (sn_model_set_cells_f64(&m, p->cells) < 0)
        goto model;
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
model:
    sn_model_free_f64(&m);
out:
    free(X);
    if (o)
        o->destroy(o);
    return g;
}
