/* OpenBLAS and LAPACK entry points used by the library, declared here so
 * that no particular cblas.h flavour is needed (the constants are the CBLAS
 * standard's values; LAPACK character arguments carry their hidden gfortran
 * length arguments).
 *
 * Thread-count independence: a threaded BLAS splits some reductions (e.g.
 * the symmetric matrix-vector products inside LAPACK's eigen-solvers)
 * differently for different thread counts, which changes the last bits.  The
 * library therefore calls BLAS on one thread (sn_blas_serial_begin/end) and
 * parallelises itself over fixed tiles with OpenMP. */
#ifndef SCNET_BLAS_H
#define SCNET_BLAS_H

#include <stddef.h>
#include <omp.h>

enum { SN_CBLAS_ROW = 101, SN_CBLAS_NOTRANS = 111, SN_CBLAS_TRANS = 112, SN_CBLAS_UPPER = 121 };

void cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc);
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
             const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m,
             double *w, double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
             const int *liwork, int *info, size_t l1, size_t l2, size_t l3);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
             const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau,
             double *work, const int *lwork, int *info);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

/* BLAS/LAPACK on one thread, for calls whose result would otherwise depend
 * on the thread count (LAPACK's reductions).  The OpenMP build of OpenBLAS
 * sets OpenMP's own thread count with its own, so bracket the BLAS call
 * alone: an OpenMP loop inside the bracket would run on one thread.  BLAS
 * called inside a parallel region is serial anyway. */
static inline int sn_blas_serial_begin(void)
{
    if (omp_in_parallel()) /* serial already; and the count is not this thread's alone to change */
        return 0;
    int n = omp_get_max_threads();
    openblas_set_num_threads(1);
    return n;
}

static inline void sn_blas_serial_end(int n)
{
    if (n > 0)
        openblas_set_num_threads(n);
}

/* Number of fixed blocks for a reduction over n items: depends on n only,
 * never on the thread count, so partial sums combine in the same order. */
static inline int sn_fixed_blocks(long long n, long long per_block, int max_blocks)
{
    long long b = (n + per_block - 1) / per_block;
    return b < 1 ? 1 : b > max_blocks ? max_blocks : (int)b;
}

#endif
