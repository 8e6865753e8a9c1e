#include "h5vfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scnet/err.h"

/* sec2's limit: addresses fit a signed off_t */
#define MAXADDR (((haddr_t)1 << (8 * sizeof(off_t) - 1)) - 1)

#define WRITEBACK_MIN ((size_t)4 << 20)

/* Writes after the first failure, in pages keyed by page number. */
#define PAGE ((haddr_t)1 << 16)

typedef struct page {
    haddr_t no;
    struct page *next;
    unsigned char data[PAGE];
} page;

typedef struct {
    int *err;
} drv_info;

typedef struct {
    H5FD_t pub; /* first: HDF5 fills it in */
    int fd;
    dev_t dev;
    ino_t ino;
    haddr_t eoa, eof;
    int *err;
    int failed;      /* errno of the first failure, 0 while all is well */
    haddr_t wb_lo, wb_hi; /* the span of the writes not yet sent to the disk */
    size_t wb_bytes;      /* and how many bytes they wrote */
    page **tab;      /* overlay hash table, nbucket chains */
    size_t nbucket, npage;
} vfd_file;

static hid_t driver_id = H5I_INVALID_HID;

/* ---- plain POSIX I/O ---- */

/* Read [addr, addr+n) from the disk, zeros past its end. */
static int disk_read(int fd, haddr_t addr, size_t n, unsigned char *buf)
{
    while (n) {
        ssize_t r = pread(fd, buf, n > (1 << 30) ? (1 << 30) : n, (off_t)addr);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            memset(buf, 0, n);
            return 0;
        }
        buf += r, addr += (haddr_t)r, n -= (size_t)r;
    }
    return 0;
}

static int disk_write(int fd, haddr_t addr, size_t n, const unsigned char *buf)
{
    while (n) {
        ssize_t w = pwrite(fd, buf, n > (1 << 30) ? (1 << 30) : n, (off_t)addr);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        buf += w, addr += (haddr_t)w, n -= (size_t)w;
    }
    return 0;
}

/* Every WRITEBACK_MIN bytes written (in writes of any size) start on their
 * way to the disk now, while the program computes on, rather than all at
 * the fsync that ends the file. */
static void writeback(vfd_file *f, haddr_t addr, size_t n)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (f->wb_bytes == 0 || addr < f->wb_lo)
        f->wb_lo = addr;
    if (f->wb_bytes == 0 || addr + n > f->wb_hi)
        f->wb_hi = addr + n;
    f->wb_bytes += n;
    if (f->wb_bytes < WRITEBACK_MIN)
        return;
    (void)sync_file_range(f->fd, (off_t)f->wb_lo, (off_t)(f->wb_hi - f->wb_lo), SYNC_FILE_RANGE_WRITE);
    f->wb_bytes = 0;
#else
    (void)f, (void)addr, (void)n;
#endif
}

/* ---- the overlay ---- */

static page **slot(vfd_file *f, haddr_t no)
{
    page **p = &f->tab[(no * 0x9E3779B97F4A7C15ull) % f->nbucket];
    while (*p && (*p)->no != no)
        p = &(*p)->next;
    return p;
}

static int grow(vfd_file *f)
{
    size_t nb = f->nbucket ? 2 * f->nbucket : 256;
    page **tab = calloc(nb, sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < f->nbucket; i++)
        for (page *p = f->tab[i], *next; p; p = next) {
            next = p->next;
            page **s = &tab[(p->no * 0x9E3779B97F4A7C15ull) % nb];
            p->next = *s;
            *s = p;
        }
    free(f->tab);
    f->tab = tab;
    f->nbucket = nb;
    return 0;
}

/* The page, created from the disk's bytes when new; NULL: out of memory. */
static page *page_get(vfd_file *f, haddr_t no)
{
    if (f->npage >= f->nbucket && grow(f) < 0)
        return NULL;
    page **s = slot(f, no);
    if (*s)
        return *s;
    page *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    if (disk_read(f->fd, no * PAGE, PAGE, p->data) < 0)
        memset(p->data, 0, PAGE);
    p->no = no;
    p->next = NULL;
    *s = p;
    f->npage++;
    return p;
}

static int overlay_write(vfd_file *f, haddr_t addr, size_t n, const unsigned char *buf)
{
    while (n) {
        haddr_t off = addr % PAGE, k = PAGE - off < n ? PAGE - off : n;
        page *p = page_get(f, addr / PAGE);
        if (!p)
            return -1;
        memcpy(p->data + off, buf, k);
        buf += k, addr += k, n -= k;
    }
    return 0;
}

static void overlay_read(vfd_file *f, haddr_t addr, size_t n, unsigned char *buf)
{
    while (n && f->npage) {
        haddr_t off = addr % PAGE, k = PAGE - off < n ? PAGE - off : n;
        page *p = *slot(f, addr / PAGE);
        if (p)
            memcpy(buf, p->data + off, k);
        buf += k, addr += k, n -= k;
    }
}

/* After a truncation the bytes past the end read as zeros again. */
static void overlay_cut(vfd_file *f, haddr_t end)
{
    for (size_t i = 0; i < f->nbucket; i++)
        for (page **s = &f->tab[i]; *s;) {
            page *p = *s;
            if (p->no * PAGE >= end) {
                *s = p->next;
                free(p);
                f->npage--;
                continue;
            }
            if ((p->no + 1) * PAGE > end)
                memset(p->data + (end - p->no * PAGE), 0, (p->no + 1) * PAGE - end);
            s = &p->next;
        }
}

static void fail(vfd_file *f, int e)
{
    if (!f->failed) {
        f->failed = e ? e : EIO;
        if (f->err && !*f->err)
            *f->err = f->failed;
    }
}

/* ---- driver callbacks ---- */

static H5FD_t *vfd_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    if (!name || !*name || maxaddr == 0 || maxaddr == HADDR_UNDEF)
        return NULL;
    int of = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
    of |= (flags & H5F_ACC_TRUNC ? O_TRUNC : 0) | (flags & H5F_ACC_CREAT ? O_CREAT : 0) |
          (flags & H5F_ACC_EXCL ? O_EXCL : 0);
    const drv_info *info = H5Pget_driver_info(fapl);
    vfd_file *f = calloc(1, sizeof *f);
    struct stat st;
    if (!f || (f->fd = open(name, of | O_CLOEXEC, 0666)) < 0) {
        free(f);
        return NULL;
    }
    if (fstat(f->fd, &st) != 0) {
        close(f->fd);
        free(f);
        return NULL;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->eof = (haddr_t)st.st_size;
    f->err = info ? info->err : NULL;
    return &f->pub;
}

static herr_t vfd_close(H5FD_t *file)
{
    vfd_file *f = (vfd_file *)file;
    if (close(f->fd) != 0)
        fail(f, errno);
    overlay_cut(f, 0);
    free(f->tab);
    free(f);
    return 0; /* a failure is reported through *err, never to HDF5 */
}

static int vfd_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const vfd_file *f = (const vfd_file *)a, *g = (const vfd_file *)b;
    if (f->dev != g->dev)
        return f->dev < g->dev ? -1 : 1;
    return f->ino < g->ino ? -1 : f->ino > g->ino;
}

static herr_t vfd_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    /* sec2's features, so that HDF5 lays the file out as it does there */
    if (flags)
        *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
                 H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_SUPPORTS_SWMR_IO |
                 H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
    return 0;
}

static haddr_t vfd_get_eoa(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const vfd_file *)file)->eoa;
}

static herr_t vfd_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    ((vfd_file *)file)->eoa = addr;
    return 0;
}

static haddr_t vfd_get_eof(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const vfd_file *)file)->eof;
}

static herr_t vfd_get_handle(H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = &((vfd_file *)file)->fd;
    return 0;
}

static herr_t vfd_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t n, void *buf)
{
    (void)type, (void)dxpl;
    vfd_file *f = (vfd_file *)file;
    if (addr > MAXADDR || n > MAXADDR - addr)
        return -1;
    if (disk_read(f->fd, addr, n, buf) < 0)
        return -1;
    overlay_read(f, addr, n, buf);
    return 0;
}

static herr_t vfd_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t n, const void *buf)
{
    (void)type, (void)dxpl;
    vfd_file *f = (vfd_file *)file;
    if (addr > MAXADDR || n > MAXADDR - addr)
        return -1;
    if (!f->failed && disk_write(f->fd, addr, n, buf) < 0)
        fail(f, errno);
    if (!f->failed)
        writeback(f, addr, n);
    if (f->failed && overlay_write(f, addr, n, buf) < 0)
        return -1; /* out of memory as well: nothing left but to tell HDF5 */
    if (addr + n > f->eof)
        f->eof = addr + n;
    return 0;
}

static herr_t vfd_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl, (void)closing;
    vfd_file *f = (vfd_file *)file;
    if (f->eoa == f->eof)
        return 0;
    if (!f->failed && ftruncate(f->fd, (off_t)f->eoa) != 0)
        fail(f, errno);
    if (f->eoa < f->eof)
        overlay_cut(f, f->eoa);
    f->eof = f->eoa;
    return 0;
}

static herr_t vfd_term(void)
{
    driver_id = H5I_INVALID_HID;
    return 0;
}

static const H5FD_class_t vfd_class = {
    .name = "scnet-out",
    .maxaddr = MAXADDR,
    .fc_degree = H5F_CLOSE_WEAK,
    .terminate = vfd_term,
    .fapl_size = sizeof(drv_info),
    .open = vfd_open,
    .close = vfd_close,
    .cmp = vfd_cmp,
    .query = vfd_query,
    .get_eoa = vfd_get_eoa,
    .set_eoa = vfd_set_eoa,
    .get_eof = vfd_get_eof,
    .get_handle = vfd_get_handle,
    .read = vfd_read,
    .write = vfd_write,
    .truncate = vfd_truncate,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

int sn_h5vfd_set(hid_t fapl, int *err)
{
    if (driver_id < 0 || H5Iget_type(driver_id) != H5I_VFL)
        driver_id = H5FDregister(&vfd_class);
    drv_info info = {err};
    if (driver_id < 0 || H5Pset_driver(fapl, driver_id, &info) < 0)
        return sn_err(SN_EIO, "cannot set up the HDF5 file driver");
    return 0;
}
