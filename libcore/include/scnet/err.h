/* Error codes and the per-thread error message.
 *
 * Library functions never print: they return 0 on success or a negative
 * SN_E* code and leave one line describing the problem, retrievable with
 * sn_errmsg().  Functions that are given a path put it at the start of the
 * message ("counts.h5: dataset 'matrix/data' is missing"); callers holding
 * only an HDF5 handle prefix the file name themselves with sn_err_prefix(). */
#ifndef SCNET_ERR_H
#define SCNET_ERR_H

enum {
    SN_OK = 0,
    SN_EIO = -1,     /* read/write/open failure of a file or stream */
    SN_EFMT = -2,    /* input is malformed or of the wrong kind */
    SN_ENOMEM = -3,  /* allocation failed */
    SN_EINVAL = -4,  /* bad argument or inconsistent data */
    SN_EINTR = -5,   /* interrupted by a signal */
    SN_EUSAGE = -6   /* command-line misuse (exit status 2) */
};

#if defined(__GNUC__)
#define SN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SN_WUR __attribute__((warn_unused_result))
#else
#define SN_PRINTF(a, b)
#define SN_WUR
#endif

/* Set the message and return code (so `return sn_err(SN_EFMT, ...)` works). */
int sn_err(int code, const char *fmt, ...) SN_PRINTF(2, 3);
/* Prepend context to the current message, keep its code; returns code. */
int sn_err_prefix(int code, const char *fmt, ...) SN_PRINTF(2, 3);
const char *sn_errmsg(void);
/* A message that starts with from (a temporary file's path) starts with to
 * (what the user gave) instead. */
void sn_err_rename(const char *from, const char *to);
void sn_err_clear(void);

/* Propagate: `SN_TRY(f(x));` returns the error code from the caller. */
#define SN_TRY(expr)                  \
    do {                              \
        int sn_try_rc_ = (expr);      \
        if (sn_try_rc_ < 0)           \
            return sn_try_rc_;        \
    } while (0)

/* Propagate to a clean-up label: requires `int rc` and a label `out`. */
#define SN_CHECK(expr)                \
    do {                              \
        if ((rc = (expr)) < 0)        \
            goto out;                 \
    } while (0)

#endif
