#include "scnet/text.h"
#include "scnet/mem.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct sn_text {
    gzFile gz;
    char *path;
    char *buf;
    size_t cap;
    int64_t lineno;
};

int sn_text_open(const char *path, sn_text **out)
{
    *out = NULL;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : -1;
    gzFile gz = fd >= 0 ? gzdopen(fd, "rb") : strcmp(path, "-") ? gzopen(path, "rb") : NULL;
    if (!gz) {
        if (fd >= 0)
            close(fd);
        return sn_err(SN_EIO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    }
    gzbuffer(gz, 1 << 17);
    sn_text *t = sn_calloc(1, sizeof *t, "a text reader");
    if (!t || !(t->path = sn_strdup(strcmp(path, "-") ? path : "stdin"))) {
        free(t);
        gzclose(gz);
        return SN_ENOMEM;
    }
    t->gz = gz;
    *out = t;
    return SN_OK;
}

int sn_text_err(const sn_text *t, int code, const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return sn_err(code, "%s:%lld: %s", t->path, (long long)t->lineno, m);
}

static int read_error(sn_text *t)
{
    int z;
    const char *m = gzerror(t->gz, &z);
    if (z == Z_ERRNO)
        m = strerror(errno);
    if (z == Z_BUF_ERROR || (m && strstr(m, "unexpected end")))
        return sn_err(SN_EFMT, "%s: file is truncated (compressed stream ends early near line %lld)",
                      t->path, (long long)t->lineno + 1);
    return sn_err(SN_EFMT, "%s: read error near line %lld: %s", t->path, (long long)t->lineno + 1,
                  m && *m ? m : "corrupt data");
}

int sn_text_getline(sn_text *t, char **line, size_t *len)
{
    size_t n = 0;
    for (;;) {
        if (t->cap - n < 2) {
            size_t cap = t->cap ? t->cap * 2 : 1 << 16;
            char *b = sn_realloc(t->buf, cap, "a text line");
            if (!b)
                return SN_ENOMEM;
            t->buf = b;
            t->cap = cap;
        }
        if (!gzgets(t->gz, t->buf + n, (int)(t->cap - n > INT32_MAX ? INT32_MAX : t->cap - n))) {
            int z;
            gzerror(t->gz, &z);
            if (z != Z_OK && z != Z_STREAM_END)
                return read_error(t);
            if (n == 0)
                return 0;
            break;
        }
        size_t m = n + strlen(t->buf + n);
        if (m > n && t->buf[m - 1] == '\n') {
            n = m - 1;
            break;
        }
        if (m == n && !gzeof(t->gz))
            return sn_err(SN_EFMT, "%s:%lld: line contains a NUL byte (binary file?)", t->path,
                          (long long)t->lineno + 1);
        n = m;
        if (gzeof(t->gz)) {
            int z;
            gzerror(t->gz, &z);
            if (z != Z_OK && z != Z_STREAM_END)
                return read_error(t);
            break;
        }
    }
    if (n > 0 && t->buf[n - 1] == '\r')
        n--;
    t->buf[n] = 0;
    t->lineno++;
    *line = t->buf;
    if (len)
        *len = n;
    return 1;
}

int64_t sn_text_lineno(const sn_text *t) { return t->lineno; }
const char *sn_text_path(const sn_text *t) { return t->path; }

void sn_text_close(sn_text *t)
{
    if (!t)
        return;
    gzclose(t->gz);
    free(t->buf);
    free(t->path);
    free(t);
}

int64_t sn_split(char *line, char delim, char **fields, int64_t max)
{
    int64_t nf = 0;
    char *p = line;
    if (delim == ' ')
        while (*p == ' ' || *p == '\t')
            p++;
    if (!*p && delim == ' ')
        return 0;
    for (;;) {
        char *start = p, *w = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return SN_EFMT;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else
                    *w++ = *p++;
            }
            while (*p && *p != delim && !(delim == ' ' && *p == '\t'))
                *w++ = *p++;
        } else {
            while (*p && *p != delim && !(delim == ' ' && *p == '\t'))
                p++;
            w = p;
        }
        int end = !*p;
        char *next = p + 1;
        if (delim == ' ' && !end)
            while (*next == ' ' || *next == '\t')
                next++;
        *w = 0;
        if (nf < max)
            fields[nf] = start;
        nf++;
        if (end || (delim == ' ' && !*next))
            break;
        p = next;
    }
    return nf;
}

char sn_guess_delim(const char *line)
{
    if (strchr(line, '\t'))
        return '\t';
    if (strchr(line, ','))
        return ',';
    return ' ';
}

int sn_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    while (*s == ' ')
        s++;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (end == s || *end || !isfinite(v))
        return SN_EFMT;
    *out = v;
    return SN_OK;
}

int sn_parse_long(const char *s, long long *out)
{
    char *end;
    errno = 0;
    while (*s == ' ')
        s++;
    long long v = strtoll(s, &end, 10);
    while (*end == ' ')
        end++;
    if (end == s || *end || errno == ERANGE)
        return SN_EFMT;
    *out = v;
    return SN_OK;
}
