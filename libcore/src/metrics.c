#include "scnet/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double s;
    uint8_t y;
} item;

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const item *)a)->s, y = ((const item *)b)->s;
    return (x < y) - (x > y);
}

/* Sorted copy (descending score); NULL on allocation failure. */
static item *sorted(const double *score, const uint8_t *label, int64_t n, int64_t *npos)
{
    item *it = malloc((size_t)(n ? n : 1) * sizeof *it);
    if (!it)
        return NULL;
    *npos = 0;
    for (int64_t i = 0; i < n; i++) {
        it[i].s = score[i];
        it[i].y = label[i] != 0;
        *npos += it[i].y;
    }
    qsort(it, (size_t)n, sizeof *it, by_score_desc);
    return it;
}

double sn_auroc(const double *score, const uint8_t *label, int64_t n)
{
    int64_t npos;
    item *it = sorted(score, label, n, &npos);
    if (!it || npos == 0 || npos == n) {
        free(it);
        return NAN;
    }
    /* Walk tie groups from the top: each negative in a group beats the
     * positives below it and ties half with those inside it. */
    double wins = 0, pos_above = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i, p = 0, q = 0;
        while (j < n && it[j].s == it[i].s) {
            p += it[j].y;
            q += !it[j].y;
            j++;
        }
        wins += (double)q * (pos_above + 0.5 * (double)p);
        pos_above += (double)p;
        i = j;
    }
    free(it);
    double nneg = (double)(n - npos);
    return wins / ((double)npos * nneg);
}

double sn_average_precision(const double *score, const uint8_t *label, int64_t n)
{
    int64_t npos;
    item *it = sorted(score, label, n, &npos);
    if (!it || npos == 0) {
        free(it);
        return NAN;
    }
    double ap = 0, tp = 0, seen = 0, prev_recall = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && it[j].s == it[i].s) {
            tp += it[j].y;
            seen++;
            j++;
        }
        double recall = tp / (double)npos;
        ap += (recall - prev_recall) * (tp / seen);
        prev_recall = recall;
        i = j;
    }
    free(it);
    return ap;
}

static int cmp_asc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void sn_sort_doubles(double *v, int64_t n)
{
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, cmp_asc);
}

double sn_percentile_lerp(double a, double b, double t)
{
    double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* Ranks numpy interpolates between: floor((n−1)q) and the next, both
 * clipped to the last element. */
void sn_percentile_ranks(int64_t n, double p, int64_t *k0, int64_t *k1, double *gamma)
{
    double virt = (double)(n - 1) * (p / 100.0);
    double fl = floor(virt);
    *gamma = virt - fl;
    *k0 = fl < 0 ? 0 : (int64_t)fl;
    if (*k0 > n - 1)
        *k0 = n - 1;
    *k1 = *k0 + 1 > n - 1 ? n - 1 : *k0 + 1;
}

double sn_percentile_sorted(const double *v, int64_t n, double p)
{
    if (n <= 0)
        return NAN;
    int64_t k0, k1;
    double gamma;
    sn_percentile_ranks(n, p, &k0, &k1, &gamma);
    return sn_percentile_lerp(v[k0], v[k1], gamma);
}

double sn_percentile(const double *v, int64_t n, double p)
{
    if (n <= 0)
        return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, v, (size_t)n * sizeof *s);
    sn_sort_doubles(s, n);
    double r = sn_percentile_sorted(s, n, p);
    free(s);
    return r;
}
