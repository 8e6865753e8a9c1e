#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scnet/text.h"

/* The nearest p-digit decimal is never farther from v than the nearest
 * (p-1)-digit one, so "reads back as v" is monotone in p: binary search. */
static int round_trips(double v, int p, int is_float, char *buf, size_t len)
{
    snprintf(buf, len, "%.*g", p, v);
    return is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v;
}

static char *shortest(double v, int maxp, int is_float, char *buf, size_t len)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    int lo = 1, hi = maxp;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (round_trips(v, mid, is_float, buf, len))
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, len, "%.*g", lo, v);
    /* "1e+01" is as short as "10" but reads worse; like Python, keep whole
     * numbers below 1e16 positional. */
    char *e = strchr(buf, 'e');
    int x = e ? atoi(e + 1) : -1;
    if (x >= 0 && x < 16)
        snprintf(buf, len, "%.*g", x + 1, v);
    return buf;
}

char *sn_fmt_double(double v, char *buf, size_t len)
{
    return shortest(v, 17, 0, buf, len);
}

char *sn_fmt_float(float v, char *buf, size_t len)
{
    return shortest((double)v, 9, 1, buf, len);
}
