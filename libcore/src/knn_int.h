/* Shared pieces of the neighbour search (knn.c, knn_ivf.c). */
#ifndef SCNET_KNN_INT_H
#define SCNET_KNN_INT_H

#include <stdint.h>

#include "scnet/knn.h"

/* Candidates kept per cell beyond k before exact distances decide.  The
 * float screen's error (SN_KNN_REL_ERR_PER_DIM) is far below the gap
 * between a cell's k-th and (k + 4)-th distances in real data, so 4 spare
 * ones let sn_knn_finish_row prove the screen complete as often as 8 did
 * (the same neighbours at 10 000 and 50 000 cells), and a smaller list is
 * screened faster (44.6 -> 41.9 ms at 10 000 cells).  Ties at the k-th
 * distance (duplicate cells) fall back to a full scan of the cell, as
 * before. */
#define SN_KNN_EXTRA 4

/* Insert (d, j) into the ascending list cd/ci holding *cnt of at most cap
 * entries; equal values keep their arrival order. */
static inline void sn_knn_cand_insert(double *cd, int32_t *ci, int *cnt, int cap, double d, int32_t j)
{
    int c = *cnt;
    if (c == cap) {
        if (!(d < cd[cap - 1]))
            return;
        c--;
    }
    int p = c;
    while (p > 0 && cd[p - 1] > d) {
        cd[p] = cd[p - 1];
        ci[p] = ci[p - 1];
        p--;
    }
    cd[p] = d;
    ci[p] = j;
    *cnt = c + 1;
}

/* Rows of x as doubles with their squared norms. */
int sn_knn_to_double(const float *x, int64_t n, int d, double **X, double **norm);

/* For each query row, the m reference rows with the smallest squared
 * distance by the GEMM identity |a|² + |b|² - 2ab (ascending; ties by
 * reference index).  oi/od are nq × m; fewer than m references leave
 * -1 / INFINITY. */
int sn_knn_gemm_topm(const double *Xq, const double *nq, int64_t nq_rows, const double *Xr, const double *nr,
                     int64_t nr_rows, int d, int m, int32_t *oi, double *od);

/* Exact squared distance between rows i and j of x (n × d floats), in double. */
static inline double sn_knn_d2(const float *x, int d, int64_t i, int64_t j)
{
    const float *a = x + i * d, *b = x + j * d;
    double s = 0;
    for (int t = 0; t < d; t++) {
        double u = (double)a[t] - (double)b[t];
        s += u * u;
    }
    return s;
}

/* Points packed for vector distance evaluation: blocks of SN_KNN_LANES
 * points stored dimension-major (block b, dimension t, lane u at
 * P[(b * d + t) * LANES + u]); lanes past the end hold far-away padding with
 * id -1. */
#define SN_KNN_LANES 8
typedef struct {
    int d;
    int64_t nblk;
    float *P;
    int32_t *id;
} sn_knn_pack;

int sn_knn_pack_rows(const float *x, int d, const int32_t *rows, int64_t n, sn_knn_pack *pk);
void sn_knn_pack_free(sn_knn_pack *pk);
/* Screen the packed points for nq (1..4) query rows q (nq × d), keeping the
 * m smallest float squared distances per query in cd/ci (ascending, counts
 * in cnt; lists may already hold entries). */
void sn_knn_scan(const sn_knn_pack *pk, const float *q, int nq, int m, double *cd, int32_t *ci, int *cnt);

/* Float squared distances computed from coordinate differences are within
 * a relative (d + 3) eps_f of the exact value; this bound (per unit of d)
 * is what the exact search relies on. */
#define SN_KNN_REL_ERR_PER_DIM 2.4e-7

/* Turn m candidates of cell i into its final row of g: exact distances,
 * order by (distance, index), the cell itself first.  When rel >= 0 the
 * candidates are the m nearest by a screen with relative error at most rel,
 * and the cell is rescanned in full unless the screen provably missed
 * nothing. */
void sn_knn_finish_row(const sn_mat *x, int64_t i, const int32_t *ci, const double *cd, int m, double rel,
                       sn_knn *g);

/* Exact neighbours (as the brute-force scan finds them) over k-means lists
 * of the cells, skipping the lists that provably hold no candidate. */
int sn_knn_exact_lists(const sn_mat *x, uint64_t seed, sn_knn *g);
/* The brute-force scan below this many cells. */
#define SN_KNN_LISTS_MIN 2048

#endif
