#include "scnet/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char msg[2048];

/* Control characters (a line break or tab in a file or field name) shown
 * as escapes, so that a message stays one line. */
static void one_line(void)
{
    char out[sizeof msg];
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && k + 5 < sizeof out; p++) {
        if (*p >= 0x20 && *p != 0x7f)
            out[k++] = (char)*p;
        else if (*p == '\n' || *p == '\t')
            out[k++] = '\\', out[k++] = *p == '\n' ? 'n' : 't';
        else
            k += (size_t)snprintf(out + k, sizeof out - k, "\\x%02x", *p);
    }
    out[k] = 0;
    memcpy(msg, out, k + 1);
}

int sn_err(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line();
    return code;
}

int sn_err_prefix(int code, const char *fmt, ...)
{
    char pre[1024], old[sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, msg, sizeof msg);
    size_t n = strlen(pre);
    if (n >= sizeof msg)
        n = sizeof msg - 1;
    memcpy(msg, pre, n);
    size_t m = strlen(old);
    if (m > sizeof msg - 1 - n)
        m = sizeof msg - 1 - n;
    memcpy(msg + n, old, m);
    msg[n + m] = 0;
    one_line();
    return code;
}

void sn_err_rename(const char *from, const char *to)
{
    size_t n = strlen(from);
    if (n == 0 || strncmp(msg, from, n) != 0)
        return;
    char rest[sizeof msg];
    snprintf(rest, sizeof rest, "%s", msg + n);
    snprintf(msg, sizeof msg, "%s%s", to, rest);
}

const char *sn_errmsg(void)
{
    return msg[0] ? msg : "unknown error";
}

void sn_err_clear(void)
{
    msg[0] = 0;
}
