#include "scnet/hvg.h"
#include "scnet/mem.h"
#include "scnet/prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sn_hvg_free(sn_hvg *h)
{
    free(h->means);
    free(h->dispersions);
    free(h->dispersions_norm);
    free(h->highly_variable);
    memset(h, 0, sizeof *h);
}

static int hvg_alloc(sn_hvg *h, int64_t n)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    size_t m = (size_t)n + 1;
    h->means = sn_malloc(m * sizeof(double), "gene means");
    h->dispersions = sn_malloc(m * sizeof(double), "gene dispersions");
    h->dispersions_norm = sn_malloc(m * sizeof(double), "gene dispersions");
    h->highly_variable = sn_calloc(m, 1, "the gene selection");
    if (!h->means || !h->dispersions || !h->dispersions_norm || !h->highly_variable) {
        sn_hvg_free(h);
        return SN_ENOMEM;
    }
    return SN_OK;
}

/* pandas.cut(means, n_bins): numpy.linspace edges, the first lowered by
 * 0.1 % of the range, right-closed bins (searchsorted side='left'). */
static void mean_bins(const double *m, int64_t n, int nb, int *bin)
{
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t j = 0; j < n; j++) {
        mn = m[j] < mn ? m[j] : mn;
        mx = m[j] > mx ? m[j] : mx;
    }
    double adj = 0, e[nb + 1];
    if (mn == mx) {
        mn -= mn != 0 ? 0.001 * fabs(mn) : 0.001;
        mx += mx != 0 ? 0.001 * fabs(mx) : 0.001;
    } else {
        adj = (mx - mn) * 0.001;
    }
    double step = (mx - mn) / nb;
    for (int i = 0; i <= nb; i++) {
        double y = (double)i * step; /* two roundings, as numpy (no FMA under -std=c11) */
        e[i] = y + mn;
    }
    e[nb] = mx;
    e[0] -= adj;
    for (int64_t j = 0; j < n; j++) {
        int lo = 0, hi = nb + 1; /* first edge >= m[j] */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (e[mid] < m[j])
                lo = mid + 1;
            else
                hi = mid;
        }
        bin[j] = lo - 1 < 0 ? 0 : lo - 1 >= nb ? nb - 1 : lo - 1;
    }
}

/* pandas groupby mean (Kahan) and std (Welford, ddof 1) of the non-NaN
 * dispersions of each bin, with scanpy's single-gene-bin rule. */
static void bin_stats(const double *d, const int *bin, int64_t n, int nb, double *avg, double *dev)
{
    double sum[nb], comp[nb], wm[nb], wv[nb];
    int64_t cnt[nb];
    for (int b = 0; b < nb; b++)
        sum[b] = comp[b] = wm[b] = wv[b] = 0, cnt[b] = 0;
    for (int64_t j = 0; j < n; j++) {
        int b = bin[j];
        double v = d[j];
        if (isnan(v))
            continue;
        cnt[b]++;
        double y = v - comp[b], t = sum[b] + y;
        comp[b] = t - sum[b] - y;
        if (isnan(comp[b])) /* an infinite value, as pandas handles it */
            comp[b] = 0;
        sum[b] = t;
        double old = wm[b];
        wm[b] += (v - old) / (double)cnt[b];
        wv[b] += (v - wm[b]) * (v - old);
    }
    for (int b = 0; b < nb; b++) {
        avg[b] = cnt[b] ? sum[b] / (double)cnt[b] : NAN;
        dev[b] = cnt[b] > 1 ? sqrt(wv[b] / (double)(cnt[b] - 1)) : NAN;
        if (isnan(dev[b])) {
            dev[b] = avg[b];
            avg[b] = 0;
        }
    }
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int select_top(sn_hvg *h, int64_t n_top)
{
    double *v = sn_malloc(((size_t)h->n + 1) * sizeof *v, "dispersion ranking");
    if (!v)
        return SN_ENOMEM;
    int64_t m = 0;
    for (int64_t j = 0; j < h->n; j++)
        if (!isnan(h->dispersions_norm[j]))
            v[m++] = h->dispersions_norm[j];
    if (n_top > m)
        n_top = m;
    h->n_selected = 0;
    if (n_top > 0) {
        qsort(v, (size_t)m, sizeof *v, cmp_desc);
        double cut = v[n_top - 1];
        for (int64_t j = 0; j < h->n; j++) {
            double x = h->dispersions_norm[j];
            h->highly_variable[j] = (isnan(x) ? -INFINITY : x) >= cut;
            h->n_selected += h->highly_variable[j];
        }
    }
    free(v);
    return SN_OK;
}

/* Dispersions from the per-gene sums; then bins, normalisation, selection. */
static int seurat_from_sums(sn_hvg *h, double N, int64_t n_top, int n_bins, int *bin)
{
    int64_t g = h->n;
    for (int64_t j = 0; j < g; j++) {
        double mean = h->means[j] / N;
        double var = h->dispersions[j] / N - mean * mean;
        if (N != 1)
            var *= N / (N - 1);
        if (mean == 0)
            mean = 1e-12;
        double disp = var / mean;
        h->dispersions[j] = disp == 0 ? NAN : log(disp);
        h->means[j] = log1p(mean);
    }
    mean_bins(h->means, g, n_bins, bin);
    double avg[n_bins], dev[n_bins];
    bin_stats(h->dispersions, bin, g, n_bins, avg, dev);
    for (int64_t j = 0; j < g; j++)
        h->dispersions_norm[j] = (h->dispersions[j] - avg[bin[j]]) / dev[bin[j]];
    return select_top(h, n_top > g ? g : n_top);
}

int sn_hvg_seurat(const sn_csr *x, const int64_t *cols, int64_t ncols, int64_t n_top, int n_bins, sn_hvg *h)
{
    if (!cols)
        ncols = x->ncol;
    if (n_bins < 1 || n_bins > 1000 || n_top < 1 || x->nrow < 1 || ncols < 1)
        return sn_err(SN_EINVAL, "highly variable genes: need cells, genes, 1-1000 bins and n_top >= 1");
    SN_TRY(hvg_alloc(h, ncols));
    size_t g = (size_t)x->ncol + 1;
    int *bin = sn_malloc(((size_t)ncols + 1) * sizeof *bin, "gene bins");
    double *sum = sn_malloc(2 * g * sizeof *sum, "per-gene sums");
    uint8_t *need = cols ? sn_calloc(g, 1, "the gene selection") : NULL;
    int rc = bin && sum && (need || !cols) ? SN_OK : SN_ENOMEM;
    for (int64_t c = 0; rc == SN_OK && cols && c < ncols; c++)
        if (cols[c] >= 0 && cols[c] < x->ncol)
            need[cols[c]] = 1;
    if (rc == SN_OK)
        rc = sn_prep_gene_sums(x, need, 1, sum, sum + g);
    free(need);
    for (int64_t c = 0; rc == SN_OK && c < ncols; c++) {
        int64_t j = cols ? cols[c] : c;
        if (j < 0 || j >= x->ncol)
            rc = sn_err(SN_EINVAL, "highly variable genes: column %lld out of range", (long long)j);
        else
            h->means[c] = sum[j], h->dispersions[c] = sum[g + j];
    }
    if (rc == SN_OK)
        rc = seurat_from_sums(h, (double)x->nrow, n_top, n_bins, bin);
    free(bin);
    free(sum);
    if (rc < 0)
        sn_hvg_free(h);
    return rc;
}

int sn_hvg_fallback(const sn_csr *x, const int64_t *cols, int64_t lo, int64_t hi, int64_t rank, sn_hvg *h)
{
    if (h->n_selected >= lo && h->n_selected <= hi)
        return 0;
    int64_t g = h->n;
    double *var = sn_malloc(((size_t)x->ncol + 1) * sizeof *var, "gene deviations");
    double *sd = sn_malloc(((size_t)g + 1) * 2 * sizeof *sd, "gene deviations");
    int rc = var && sd ? sn_prep_gene_moments(x, NULL, var) : SN_ENOMEM;
    if (rc < 0) {
        free(var);
        free(sd);
        return rc;
    }
    double *sorted = sd + g + 1;
    for (int64_t j = 0; j < g; j++)
        sorted[j] = sd[j] = sqrt(var[cols ? cols[j] : j]);
    free(var);
    qsort(sorted, (size_t)g, sizeof *sorted, cmp_desc);
    double cut = g ? sorted[(rank < g ? rank : g) - 1] : 0;
    h->n_selected = 0;
    for (int64_t j = 0; j < g; j++) {
        h->highly_variable[j] = sd[j] >= cut;
        h->n_selected += h->highly_variable[j];
    }
    free(sd);
    return 1;
}
