/* Ranking metrics for scores of positives against negatives, with ties
 * handled as scikit-learn does: AUROC = probability a positive outscores a
 * negative, ties counting one half (the trapezoidal ROC area); average
 * precision = Σ (R_k − R_{k−1}) P_k over distinct thresholds, step-wise. */
#ifndef SCNET_METRICS_H
#define SCNET_METRICS_H

#include <stdint.h>

/* label[i] nonzero = positive.  Returns NaN when either class is empty. */
double sn_auroc(const double *score, const uint8_t *label, int64_t n);
double sn_average_precision(const double *score, const uint8_t *label, int64_t n);
/* v in ascending order, for percentiles and medians. */
void sn_sort_doubles(double *v, int64_t n);
/* numpy.percentile(v, p) (method "linear", p in [0, 100]) of n ascending
 * values; NaN when n is 0. */
double sn_percentile_sorted(const double *v, int64_t n, double p);
/* The same of n values in any order (a sorted copy); NaN when n is 0 or
 * the copy cannot be made. */
double sn_percentile(const double *v, int64_t n, double p);
/* The ranks numpy.percentile interpolates between for n values, k0 ≤ k1,
 * and the weight of the second. */
void sn_percentile_ranks(int64_t n, double p, int64_t *k0, int64_t *k1, double *gamma);
/* The interpolation step of numpy.percentile: a + (b−a)·t, or b − (b−a)(1−t)
 * when t ≥ 0.5, which numpy uses for symmetry. */
double sn_percentile_lerp(double a, double b, double t);

#endif
