#include "scnet/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "scnet";
static int log_level = SN_LOG_WARN;

void sn_log_setup(const char *prog, int level)
{
    log_prog = prog;
    log_level = level;
}

int sn_log_level(void) { return log_level; }
const char *sn_log_prog(void) { return log_prog; }

static void vlog(int level, const char *tag, const char *fmt, va_list ap)
{
    if (log_level < level)
        return;
    char line[4096];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s: %s%s\n", log_prog, tag, line);
}

#define LOG_FN(name, level, tag)              \
    void name(const char *fmt, ...)           \
    {                                         \
        va_list ap;                           \
        va_start(ap, fmt);                    \
        vlog(level, tag, fmt, ap);            \
        va_end(ap);                           \
    }
LOG_FN(sn_warn, SN_LOG_WARN, "warning: ")
LOG_FN(sn_note, SN_LOG_WARN, "")
LOG_FN(sn_info, SN_LOG_INFO, "")
LOG_FN(sn_debug, SN_LOG_DEBUG, "debug: ")

double sn_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double sn_cputime(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + 1e-6 * (double)r.ru_utime.tv_usec +
           (double)r.ru_stime.tv_sec + 1e-6 * (double)r.ru_stime.tv_usec;
}

double sn_peak_rss(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_maxrss * 1024.0;
}

void sn_progress_start(sn_progress *p, const char *label, int64_t total)
{
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->last_draw = -1;
    p->t0 = p->last_t = sn_time();
    p->on = log_level >= SN_LOG_WARN && isatty(STDERR_FILENO);
}

void sn_progress_update(sn_progress *p, int64_t done)
{
    if (!p->on)
        return;
    double t = sn_time();
    if (done < p->total && t - p->last_t < 0.2)
        return;
    p->last_t = t;
    int width = 30, fill = (int)(width * done / p->total);
    fprintf(stderr, "\r%s: %-14s [", log_prog, p->label);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : ' ', stderr);
    double el = t - p->t0, eta = done > 0 ? el * (double)(p->total - done) / (double)done : 0;
    fprintf(stderr, "] %3d%% %6.1fs eta %6.1fs", (int)(100 * done / p->total), el, eta);
    fflush(stderr);
}

void sn_progress_end(sn_progress *p)
{
    if (!p->on)
        return;
    sn_progress_update(p, p->total);
    fputc('\n', stderr);
    p->on = 0;
}

/* $SCNET_MEM_LIMIT in bytes; 0 when unset or unreadable.  A limit that
 * needs no ulimit: for shared machines, and for sanitizer builds, which
 * cannot run under an address-space limit. */
static double env_limit(void)
{
    const char *s = getenv("SCNET_MEM_LIMIT");
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || v <= 0)
        return 0;
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; break;
    case 'm': case 'M': v *= 1024.0 * 1024; break;
    case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
    }
    return v;
}

double sn_mem_available(void)
{
    double avail = 0;
    FILE *fp = fopen("/proc/meminfo", "r");
    char line[256];
    while (fp && fgets(line, sizeof line, fp)) {
        unsigned long long kb;
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            avail = (double)kb * 1024.0;
    }
    if (fp)
        fclose(fp);
    struct rlimit rl;
    double cap = env_limit();
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (cap == 0 || rl.rlim_cur < cap))
        cap = (double)rl.rlim_cur;
    if (cap > 0) {
        double lim = cap - sn_peak_rss();
        if (avail == 0 || lim < avail)
            avail = lim > 0 ? lim : 1;
    }
    return avail;
}
