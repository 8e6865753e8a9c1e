#include "scnet/mem.h"
#include "scnet/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

char *sn_fmt_bytes(double b, char *buf, size_t len)
{
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
    return buf;
}

static void *oom(size_t n, const char *what)
{
    char b[32];
    sn_err(SN_ENOMEM, "out of memory: %s needed for %s", sn_fmt_bytes((double)n, b, sizeof b),
           what ? what : "data");
    return NULL;
}

size_t sn_mul_size(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return SIZE_MAX;
    return n * size;
}

/* A buffer of several MiB is asked to live on 2 MiB pages, where the
 * kernel allows them on request (Debian's default): it is usually filled
 * right after it is allocated, and 512 times fewer page faults (each
 * zeroing its page: 58 MB in 3 ms instead of 23 here) and TLB misses on the
 * random accesses into the larger tables took 3 % off scnet-prep at 10,000
 * cells (none at 1,000,000, where first touching 7 GiB costs the same
 * either way).  A hint only: where the kernel refuses it, nothing changes. */
#define HUGE_MIN ((size_t)8 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n < HUGE_MIN)
        return;
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), b = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *sn_malloc(size_t n, const char *what)
{
    void *p = NULL;
    if (n == SIZE_MAX || posix_memalign(&p, 64, n ? n : 1) != 0)
        return oom(n, what);
    advise_huge(p, n);
    return p;
}

void *sn_calloc(size_t n, size_t size, const char *what)
{
    size_t t = sn_mul_size(n, size);
    void *p = sn_malloc(t, what);
    if (p)
        memset(p, 0, t);
    return p;
}

void *sn_realloc(void *p, size_t n, const char *what)
{
    void *q = n == SIZE_MAX ? NULL : realloc(p, n ? n : 1);
    if (q)
        advise_huge(q, n);
    return q ? q : oom(n, what);
}

/* Plain malloc: strings come by the ten thousand (gene and cell labels),
 * and sn_malloc's 64-byte alignment costs each one a memalign, four times
 * the time of a malloc. */
char *sn_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        return oom(n, "a string");
    memcpy(d, s, n);
    return d;
}

void sn_free_strings(char **s, int64_t n)
{
    if (!s)
        return;
    for (int64_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

int sn_grow(void **p, int64_t *cap, int64_t need, size_t elsz, const char *what)
{
    if (need <= *cap)
        return SN_OK;
    int64_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = sn_realloc(*p, sn_mul_size((size_t)c, elsz), what);
    if (!q)
        return SN_ENOMEM;
    *p = q;
    *cap = c;
    return SN_OK;
}

int sn_strs_push(sn_strs *s, const char *str)
{
    SN_TRY(sn_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v, "a list of names"));
    if (!(s->v[s->n] = sn_strdup(str)))
        return SN_ENOMEM;
    s->n++;
    return SN_OK;
}

void sn_strs_free(sn_strs *s)
{
    sn_free_strings(s->v, s->n);
    memset(s, 0, sizeof *s);
}

char **sn_strs_take(sn_strs *s)
{
    char **v = s->v;
    if (!v)
        v = sn_calloc(1, sizeof *v, "a list of names");
    else if (s->n < s->cap) {
        char **w = realloc(v, (size_t)(s->n ? s->n : 1) * sizeof *v);
        v = w ? w : v; /* shrinking cannot really fail; keep the larger block if it does */
    }
    memset(s, 0, sizeof *s);
    return v;
}
