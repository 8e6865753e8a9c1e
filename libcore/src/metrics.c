#include "scnet/metrics.h"

#include <math.h>
#include <stdlib.h>

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
