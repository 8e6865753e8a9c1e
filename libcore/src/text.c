#include <ctype.h>
#include "scnet/text.h"
#include "scnet/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Compressed input is inflated here rather than through zlib's gz*
 * functions, which end a file silently at anything after a gzip member
 * that is not another member: a damaged second member, or bytes appended,
 * would cut the data short without a word. */
struct sn_text {
    int fd;
    int gzip;         /* the file starts with the gzip magic bytes */
    int member;       /* inside a gzip member (its trailer not yet read) */
    int raw_eof;      /* the file has no more bytes */
    int zerr;         /* what stopped the input: 0, or a Z_* code (Z_ERRNO: errno in sys) */
    int sys;
    char zmsg[96];    /* zlib's words for a Z_DATA_ERROR */
    int64_t raw_off;  /* bytes of the file read so far */
    z_stream zs;
    unsigned char *raw;
    char *path;
    char *buf;       /* the current line */
    size_t cap;
    char *in;        /* decompressed input not yet split into lines */
    size_t in_pos, in_len;
    int eof;
    int64_t lineno;
};

/* Text is inflated IN_CHUNK bytes at a time, as zlib's gzread does with
 * its buffer of 128 KiB: a damaged stream often inflates to garbage for a
 * while before zlib meets an invalid code, and what the inflate call that
 * met it made is dropped, so that the damage is reported, not the
 * garbage. */
enum { IN_CHUNK = 1 << 18, RAW_CHUNK = 1 << 17, TRAILING = 1000 };

/* More of the file after the avail_in bytes still unread (moved to the
 * front); sets raw_eof at its end, or zerr on a read error. */
static void read_raw(sn_text *t)
{
    z_stream *z = &t->zs;
    if (z->avail_in)
        memmove(t->raw, z->next_in, z->avail_in);
    z->next_in = t->raw;
    ssize_t r;
    do
        r = read(t->fd, t->raw + z->avail_in, RAW_CHUNK - z->avail_in);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        t->zerr = Z_ERRNO;
        t->sys = errno;
    } else {
        z->avail_in += (uInt)r;
        t->raw_off += r;
        t->raw_eof = r == 0;
    }
}

static void text_free(sn_text *t)
{
    if (t->gzip)
        inflateEnd(&t->zs);
    if (t->fd >= 0)
        close(t->fd);
    free(t->raw);
    free(t->in);
    free(t->buf);
    free(t->path);
    free(t);
}

int sn_text_open(const char *path, sn_text **out)
{
    *out = NULL;
    int std = strcmp(path, "-") == 0, fd = std ? dup(STDIN_FILENO) : open(path, O_RDONLY);
    if (fd < 0)
        return sn_err(SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    sn_text *t = sn_calloc(1, sizeof *t, "a text reader");
    if (!t) {
        close(fd);
        return SN_ENOMEM;
    }
    t->fd = fd;
    if (!(t->path = sn_strdup(std ? "stdin" : path)) || !(t->in = sn_malloc(IN_CHUNK, "a text buffer")) ||
        !(t->raw = sn_malloc(RAW_CHUNK, "a text buffer"))) {
        text_free(t);
        return SN_ENOMEM;
    }
    read_raw(t);
    while (!t->zerr && !t->raw_eof && t->zs.avail_in < 2)
        read_raw(t);
    t->gzip = t->zs.avail_in >= 2 && t->raw[0] == 0x1f && t->raw[1] == 0x8b;
    if (t->gzip && inflateInit2(&t->zs, 15 + 16) != Z_OK) {
        t->gzip = 0;
        text_free(t);
        return sn_err(SN_ENOMEM, "out of memory: a gzip decoder");
    }
    t->member = t->gzip;
    *out = t;
    return SN_OK;
}

static int read_error(sn_text *t);
static int damaged(sn_text *t);

int sn_text_err(sn_text *t, int code, const char *fmt, ...)
{
    if (damaged(t))
        return read_error(t);
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return sn_err(code, "%s:%lld: %s", t->path, (long long)t->lineno, m);
}

static int read_error(sn_text *t)
{
    long long ln = (long long)t->lineno + 1;
    switch (t->zerr) {
    case Z_BUF_ERROR:
        return sn_err(SN_EFMT, "%s: file is truncated (compressed stream ends early near line %lld)", t->path, ln);
    case TRAILING:
        return sn_err(SN_EFMT, "%s: bytes after the end of the gzip data (from byte %lld, after line %lld): the "
                      "file is damaged, or more than a gzip file", t->path, (long long)t->raw_off, ln - 1);
    case Z_ERRNO:
        return sn_err(SN_EIO, "%s: read error near line %lld: %s", t->path, ln, strerror(t->sys));
    default:
        return sn_err(SN_EFMT, "%s: corrupt compressed data near line %lld: %s", t->path, ln,
                      t->zmsg[0] ? t->zmsg : "corrupt data");
    }
}

/* Between gzip members: the end of the file, another member, or bytes
 * that are neither (zeros, which some tools pad with, are let go, as gzip
 * does).  Returns 1 when a member starts, 0 at the end or an error. */
static int next_member(sn_text *t)
{
    z_stream *z = &t->zs;
    while (!t->zerr && !t->raw_eof && z->avail_in < 2)
        read_raw(t);
    if (t->zerr || z->avail_in == 0)
        return 0;
    if (z->avail_in >= 2 && z->next_in[0] == 0x1f && z->next_in[1] == 0x8b) {
        inflateReset(z);
        return t->member = 1;
    }
    for (;;) {
        for (uInt i = 0; i < z->avail_in; i++)
            if (z->next_in[i]) {
                t->raw_off -= z->avail_in - i; /* reported at the first of them */
                t->zerr = TRAILING;
                return 0;
            }
        z->avail_in = 0;
        if (t->raw_eof || t->zerr)
            return 0;
        read_raw(t);
    }
}

/* Up to IN_CHUNK bytes of the file's text into t->in: 0 at its end or at
 * an error (zerr), after the bytes that came before it. */
static size_t inflate_some(sn_text *t)
{
    z_stream *z = &t->zs;
    z->next_out = (unsigned char *)t->in;
    z->avail_out = IN_CHUNK;
    while (z->avail_out > 0 && !t->zerr) {
        if (!t->member && !next_member(t))
            break;
        if (z->avail_in == 0 && !t->raw_eof) {
            read_raw(t);
            continue;
        }
        uInt room = z->avail_out;
        int r = inflate(z, Z_NO_FLUSH);
        if (r == Z_DATA_ERROR) /* what this call made may be the damage itself */
            z->avail_out = room;
        if (r == Z_STREAM_END)
            t->member = 0;
        else if (r == Z_BUF_ERROR && z->avail_in == 0 && t->raw_eof)
            t->zerr = Z_BUF_ERROR; /* the member goes on past the file's end */
        else if (r != Z_OK && r != Z_BUF_ERROR) {
            t->zerr = r;
            snprintf(t->zmsg, sizeof t->zmsg, "%s", z->msg ? z->msg : "");
        }
    }
    return IN_CHUNK - z->avail_out;
}

/* A line found malformed in compressed text may be the damage itself
 * (zlib finds most only at the member's check sum): the rest of the
 * stream is inflated, and dropped, and 1 returned when a fault is found
 * there, which is then what is reported. */
static int damaged(sn_text *t)
{
    while (t->gzip && !t->zerr && inflate_some(t) > 0)
        ;
    return t->zerr != 0;
}

/* Up to IN_CHUNK bytes of an uncompressed file: what the first read took
 * in, then the file itself. */
static size_t read_some(sn_text *t)
{
    z_stream *z = &t->zs;
    if (z->avail_in) {
        size_t n = z->avail_in < IN_CHUNK ? z->avail_in : IN_CHUNK;
        memcpy(t->in, z->next_in, n);
        z->next_in += n;
        z->avail_in -= (uInt)n;
        return n;
    }
    ssize_t r;
    do
        r = read(t->fd, t->in, IN_CHUNK);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        t->zerr = Z_ERRNO;
        t->sys = errno;
        return 0;
    }
    return (size_t)r;
}

int64_t sn_utf8_invalid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i], min;
        size_t n;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            n = 1, min = 0x80, c &= 0x1F;
        else if ((c & 0xF0) == 0xE0)
            n = 2, min = 0x800, c &= 0x0F;
        else if ((c & 0xF8) == 0xF0)
            n = 3, min = 0x10000, c &= 0x07;
        else
            return (int64_t)i;
        if (i + n >= len)
            return (int64_t)i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return (int64_t)i;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return (int64_t)i;
        i += n + 1;
    }
    return -1;
}

/* Append n bytes to the line being built. */
static int put(sn_text *t, size_t *len, const char *p, size_t n)
{
    if (*len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1 << 16;
        while (cap < *len + n + 1)
            cap *= 2;
        char *b = sn_realloc(t->buf, cap, "a text line");
        if (!b)
            return SN_ENOMEM;
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + *len, p, n);
    *len += n;
    return SN_OK;
}

/* The share of NUL bytes: about half in UTF-16 text (of the characters
 * of Latin script), a stray one or two in a damaged or binary file. */
static double nul_share(const char *s, size_t n)
{
    size_t z = 0;
    for (const char *p = s; n && (p = memchr(p, 0, n - (size_t)(p - s))); p++)
        z++;
    return n ? (double)z / (double)n : 0;
}

/* The line must be text this toolkit can carry into an .h5ad: UTF-8 (so
 * ASCII too), without NUL bytes.  UTF-16 files get a message of their own
 * (NUL bytes everywhere, a byte-order mark at the start). */
static int check_line(sn_text *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    int64_t ln = t->lineno + 1;
    /* a regular HDF5 file is recognised before any text reader sees it;
     * one arriving here came through a FIFO or was given where text goes */
    struct stat st;
    if (ln == 1 && n >= 4 && memcmp(s, "\x89HDF", 4) == 0)
        return stat(t->path, &st) == 0 && S_ISREG(st.st_mode)
                   ? sn_err(SN_EFMT, "%s: an HDF5 file where a text table was expected", t->path)
                   : sn_err(SN_EFMT, "%s: HDF5 data where text was expected (an .h5ad or .h5 through a pipe or "
                                     "FIFO is read only as standard input: give it as -)", t->path);
    if ((ln == 1 && n >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) ||
        nul_share(s, n) > 0.4)
        return sn_err(SN_EFMT, "%s: UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)", t->path);
    const char *nul = memchr(s, 0, n);
    if (nul)
        return sn_err(SN_EFMT, "%s:%lld: line contains a NUL byte at column %lld (binary file?)", t->path,
                      (long long)ln, (long long)(nul - s) + 1);
    int64_t bad = sn_utf8_invalid(s, n);
    if (bad >= 0)
        return sn_err(SN_EFMT, "%s:%lld: not UTF-8 text (byte 0x%02X at column %lld); convert the file, e.g. "
                      "iconv -f LATIN1 -t UTF-8", t->path, (long long)ln, u[bad], (long long)bad + 1);
    return SN_OK;
}

/* A truncated stream still gives the data before the end: it is split
 * into lines first, and the error reported after them. */
static int refill(sn_text *t)
{
    if (t->zerr)
        return read_error(t);
    size_t n = t->gzip ? inflate_some(t) : read_some(t);
    if (n == 0 && t->zerr)
        return read_error(t);
    t->in_pos = 0;
    t->in_len = n;
    t->eof = n == 0;
    return SN_OK;
}

int sn_text_getline(sn_text *t, char **line, size_t *len)
{
    size_t n = 0;
    int any = 0;
    for (;;) {
        if (t->in_pos == t->in_len) {
            if (t->eof)
                break;
            SN_TRY(refill(t));
            continue;
        }
        const char *p = t->in + t->in_pos, *nl = memchr(p, '\n', t->in_len - t->in_pos);
        size_t k = nl ? (size_t)(nl - p) : t->in_len - t->in_pos;
        SN_TRY(put(t, &n, p, k));
        any = 1;
        t->in_pos += k + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    if (n > 0 && t->buf[n - 1] == '\r')
        n--;
    t->buf[n] = 0;
    int rc = check_line(t, t->buf, n);
    if (rc < 0)
        return damaged(t) ? read_error(t) : rc;
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
    if (t)
        text_free(t);
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

/* A plain decimal (no exponent) of at most 15 significant digits and 22
 * decimals is an integer below 2^53 over an exact power of ten, so one
 * correctly rounded division is strtod's value (Clinger's fast path), at a
 * fraction of its cost: scores in a PPI table, values in text matrices.
 * 0 when the text needs strtod. */
static int fast_decimal(const char *s, double *v, char **end)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s + (*s == '+' || *s == '-');
    uint64_t m = 0;
    int sig = 0, frac = 0, digits = 0, dot = 0;
    for (;; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9')
            break;
        m = m * 10 + (uint64_t)(*p - '0');
        sig += m > 0;
        frac += dot;
        digits++;
        if (sig > 15 || frac > 22)
            return 0;
    }
    if (!digits || *p == 'e' || *p == 'E')
        return 0;
    double x = (double)m / p10[frac];
    *v = *s == '-' ? -x : x;
    *end = (char *)p;
    return 1;
}

double sn_strtod(const char *s, char **end)
{
    while (isspace((unsigned char)*s))
        s++;
    /* strtod's hexadecimal floats are no number a table or a user means */
    const char *d = s + (*s == '+' || *s == '-');
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
        *end = (char *)s;
        return 0;
    }
    double v;
    return fast_decimal(s, &v, end) ? v : strtod(s, end);
}

int sn_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s))
        s++;
    double v = sn_strtod(s, &end);
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

void sn_tsv_field(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
}
