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

#endif
