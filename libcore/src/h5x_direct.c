/* Reading a dataset's bytes straight from its file, on every thread.
 *
 * HDF5 reads on the caller's thread only, and a large array read into new
 * memory is mostly the kernel zeroing the fresh pages and copying the page
 * cache into them: one core's work, while the others wait.  A dataset
 * whose values lie in the file as the caller wants them in memory (no
 * filters, no type conversion, not in external files) is instead read with
 * pread, in pieces shared out among the threads.  Anything else is left to
 * HDF5, as is every dataset of a file open for writing (its chunks may
 * still sit in HDF5's cache). */
#include "h5x.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scnet/err.h"
#include "scnet/mem.h"

#define DIRECT_MIN (1 << 20) /* smaller reads are not worth a team */
#define PIECE (1 << 20)      /* bytes of one pread */

typedef struct {
    int64_t file, mem, len; /* byte offsets in the file and the buffer, length */
} span_t;

/* The descriptor of the file holding ds, when it is a plain file opened
 * read-only with the default driver and no user block (so that HDF5's
 * addresses are offsets in the file); -1 otherwise. */
static int direct_fd(hid_t ds)
{
    hid_t f = H5Iget_file_id(ds), fa = -1, fc = -1;
    unsigned intent = 0;
    hsize_t ub = 1;
    int *h = NULL, fd = -1;
    if (f >= 0 && H5Fget_intent(f, &intent) >= 0 && intent == H5F_ACC_RDONLY && (fc = H5Fget_create_plist(f)) >= 0 &&
        H5Pget_userblock(fc, &ub) >= 0 && ub == 0 && (fa = H5Fget_access_plist(f)) >= 0 &&
        H5Pget_driver(fa) == H5FD_SEC2 && H5Fget_vfd_handle(f, fa, (void **)&h) >= 0 && h)
        fd = *h;
    sn_h5x_close(fa);
    sn_h5x_close(fc);
    if (f >= 0)
        H5Fclose(f);
    return fd;
}

/* The chunks of a one-dimensional dataset of n values of size sz, each
 * stored whole at a known address; 0 when one is not (never written). */
static int64_t chunk_spans(hid_t ds, hid_t dcpl, int64_t n, size_t sz, span_t **out)
{
    hsize_t cd = 0;
    if (H5Pget_chunk(dcpl, 1, &cd) != 1 || cd == 0)
        return 0;
    int64_t nc = (n + (int64_t)cd - 1) / (int64_t)cd;
    span_t *s = sn_malloc(sn_mul_size((size_t)nc, sizeof *s), "chunk addresses");
    if (!s)
        return SN_ENOMEM;
    for (int64_t c = 0; c < nc; c++) {
        hsize_t at = (hsize_t)c * cd, size = 0;
        haddr_t addr = HADDR_UNDEF;
        unsigned mask = 0;
        if (H5Dget_chunk_info_by_coord(ds, &at, &mask, &addr, &size) < 0 || addr == HADDR_UNDEF ||
            size != cd * sz || mask != 0) {
            free(s);
            return 0;
        }
        int64_t len = (n - (int64_t)at < (int64_t)cd ? n - (int64_t)at : (int64_t)cd) * (int64_t)sz;
        s[c] = (span_t){(int64_t)addr, (int64_t)at * (int64_t)sz, len};
    }
    *out = s;
    return nc;
}

/* Where the n values of ds lie in its file, as spans: the number of spans,
 * 0 when HDF5 must read them (converted, filtered, external, rank above 1
 * when chunked, not all written), or an error. */
static int64_t direct_spans(hid_t ds, hid_t mtype, int64_t n, span_t **out)
{
    hid_t ft = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    size_t sz = ft >= 0 ? H5Tget_size(ft) : 0;
    int64_t ns = 0;
    int plain = ft >= 0 && dcpl >= 0 && H5Tequal(ft, mtype) > 0 && H5Pget_nfilters(dcpl) == 0 &&
                H5Pget_external_count(dcpl) == 0;
    H5D_layout_t lay = plain ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    if (lay == H5D_CONTIGUOUS) {
        haddr_t addr = H5Dget_offset(ds);
        if (addr != HADDR_UNDEF && (*out = sn_malloc(sizeof **out, "dataset address"))) {
            **out = (span_t){(int64_t)addr, 0, n * (int64_t)sz};
            ns = 1;
        } else if (addr != HADDR_UNDEF) {
            ns = SN_ENOMEM;
        }
    } else if (lay == H5D_CHUNKED && H5Pget_chunk(dcpl, 0, NULL) == 1) {
        ns = chunk_spans(ds, dcpl, n, sz, out);
    }
    sn_h5x_close(ft);
    sn_h5x_close(dcpl);
    return ns;
}

/* One piece: pread until done; 0, or the errno (-1: the file ended). */
static int read_piece(int fd, const span_t *s, int64_t at, int64_t len, char *buf)
{
    while (len > 0) {
        ssize_t r = pread(fd, buf + s->mem + at, (size_t)len, (off_t)(s->file + at));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? errno : -1;
        at += r;
        len -= r;
    }
    return 0;
}

static int read_spans(int fd, const span_t *s, int64_t ns, char *buf, const char *name)
{
    int64_t np = 0, *first = sn_malloc(((size_t)ns + 1) * sizeof *first, "read pieces");
    if (!first)
        return SN_ENOMEM;
    for (int64_t i = 0; i < ns; i++) {
        first[i] = np;
        np += (s[i].len + PIECE - 1) / PIECE;
    }
    first[ns] = np;
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t p = 0; p < np; p++) {
        int64_t i = 0;
        while (first[i + 1] <= p)
            i++;
        int64_t at = (p - first[i]) * PIECE, len = s[i].len - at < PIECE ? s[i].len - at : PIECE;
        int e = read_piece(fd, &s[i], at, len, buf);
        if (e) {
#pragma omp atomic write
            bad = e;
        }
    }
    free(first);
    if (bad == -1)
        return sn_err(SN_EFMT, "%s: the file ends inside the values (truncated)", name);
    return bad ? sn_err(SN_EIO, "%s: read failed: %s", name, strerror(bad)) : SN_OK;
}

int sn_h5x_read_direct(hid_t ds, hid_t mtype, int64_t n, void *buf, const char *name)
{
    size_t sz = H5Tget_size(mtype);
    if (n <= 0 || (int64_t)sz * n < DIRECT_MIN)
        return 0;
    int fd = direct_fd(ds);
    if (fd < 0)
        return 0;
    span_t *s = NULL;
    int64_t ns = direct_spans(ds, mtype, n, &s);
    if (ns <= 0)
        return (int)ns;
    int rc = read_spans(fd, s, ns, buf, name);
    free(s);
    return rc < 0 ? rc : 1;
}
