/* Diagnostics on stderr, filtered by the level a program sets from -q/-v.
 * The library uses sn_warn() only for documented warnings where a run goes
 * on; errors travel back as return codes (err.h). */
#ifndef SCNET_LOG_H
#define SCNET_LOG_H

#include <stdint.h>

#include "scnet/err.h"

enum { SN_LOG_QUIET = 0, SN_LOG_WARN = 1, SN_LOG_INFO = 2, SN_LOG_DEBUG = 3 };

void sn_log_setup(const char *prog, int level);
int sn_log_level(void);
const char *sn_log_prog(void);
void sn_warn(const char *fmt, ...) SN_PRINTF(1, 2);
/* A note shown unless -q ("prog: text", no "warning:" tag). */
void sn_note(const char *fmt, ...) SN_PRINTF(1, 2);
void sn_info(const char *fmt, ...) SN_PRINTF(1, 2);
void sn_debug(const char *fmt, ...) SN_PRINTF(1, 2);

/* Progress bar on stderr, drawn only when stderr is a terminal and the
 * level is at least SN_LOG_WARN (so -q silences it). */
typedef struct {
    const char *label;
    int64_t total, last_draw;
    double t0, last_t;
    int on;
} sn_progress;
void sn_progress_start(sn_progress *p, const char *label, int64_t total);
void sn_progress_update(sn_progress *p, int64_t done);
void sn_progress_end(sn_progress *p);

/* Wall-clock seconds since an arbitrary origin (monotonic). */
double sn_time(void);
/* CPU seconds used by the process, and its peak resident set in bytes. */
double sn_cputime(void);
double sn_peak_rss(void);
/* Memory this process may still use: MemAvailable, or the address-space
 * limit (ulimit -v) or $SCNET_MEM_LIMIT (bytes, or with a K, M, G suffix)
 * when lower; 0 when unknown. */
double sn_mem_available(void);

#endif
