#include "scnet/h5.h"
#include "scnet/file.h"
#include "scnet/mem.h"

#include "h5vfd.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5_hl.h>
#include <liblzf/lzf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sn_h5 {
    hid_t fid;
    char *name;
    sn_out *out; /* created files: the atomic output */
    char *spool; /* created for a stream: the temporary the file is built in */
    int writing;
    int werr; /* errno of a failed write to the file on disk (h5vfd.h) */
};

/* ---- LZF filter (h5py's id 32000): decompression only is needed to read
 * files written with compression="lzf"; we write gzip. */
#define LZF_FILTER 32000

static size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                         size_t *buf_size, void **buf)
{
    if (!(flags & H5Z_FLAG_REVERSE)) {
        /* Compression: store as is by reporting failure; the filter is
         * registered optional by writers, so HDF5 keeps the chunk raw. */
        return 0;
    }
    size_t outsz = cd_nelmts >= 3 && cd_values[2] ? cd_values[2] : *buf_size;
    for (int tries = 0; tries < 8; tries++) {
        void *out = malloc(outsz ? outsz : 1);
        if (!out)
            return 0;
        unsigned n = lzf_decompress(*buf, (unsigned)nbytes, out, (unsigned)outsz);
        if (n) {
            free(*buf);
            *buf = out;
            *buf_size = outsz;
            return n;
        }
        free(out);
        if (errno != E2BIG)
            return 0;
        outsz = outsz ? outsz * 2 : 4096;
    }
    return 0;
}

static void register_lzf(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    if (H5Zfilter_avail(LZF_FILTER) > 0)
        H5Zunregister(LZF_FILTER); /* a plugin that may not load; ours is known good */
    static const H5Z_class2_t cls = {
        H5Z_CLASS_T_VERS, (H5Z_filter_t)LZF_FILTER, 1, 1, "lzf", NULL, NULL, (H5Z_func_t)lzf_filter};
    H5Zregister(&cls);
}

/* HDF5 1.10 keeps the ID of a file whose H5Fclose failed (a write error
 * while flushing: disk full) after freeing part of it, and its own exit
 * handler then crashes closing it again (HDFFV-11052, fixed in 1.14.1).
 * So the library is shut down by our handler, which skips that once a
 * close has failed: the process is ending and the OS reclaims the rest. */
static int close_failed;

static void h5_shutdown(void)
{
    if (!close_failed)
        H5close();
}

static int file_close(hid_t fid)
{
    int r = H5Fclose(fid) < 0 ? -1 : 0;
    if (r < 0)
        close_failed = 1;
    return r;
}

void sn_h5_quiet(void)
{
    static int once;
    /* H5dont_atexit works only before HDF5 initialises, so this must be
     * the first HDF5 call (sn_cli_init makes it early). */
    if (!once) {
        once = 1;
        if (H5dont_atexit() >= 0)
            atexit(h5_shutdown);
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    register_lzf();
}

static const unsigned char SIG[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static int has_signature(const unsigned char *b, size_t n)
{
    for (size_t off = 0; off + 8 <= n; off = off ? off * 2 : 512)
        if (memcmp(b + off, SIG, 8) == 0)
            return 1;
    return 0;
}

int sn_h5_probe(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return -1;
    /* only a regular file can be looked into without taking its data (a
     * FIFO's writer would lose what was read) */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    unsigned char sig[8];
    int found = 0;
    for (off_t off = 0; !found && off <= (1 << 20); off = off ? off * 2 : 512)
        found = pread(fd, sig, 8, off) == 8 && memcmp(sig, SIG, 8) == 0;
    close(fd);
    return found;
}

static sn_h5 *h5_new(const char *name)
{
    sn_h5 *f = sn_calloc(1, sizeof *f, "a file handle");
    if (f && !(f->name = sn_strdup(name))) {
        free(f);
        return NULL;
    }
    if (f)
        f->fid = H5I_INVALID_HID;
    return f;
}

/* Open an in-memory file image (HDF5 copies it). */
static int open_buf(sn_h5 *f, void *buf, size_t len)
{
    if (len == 0)
        return sn_err(SN_EFMT, "%s: no input (empty)", f->name);
    if (!has_signature(buf, len))
        return sn_err(SN_EFMT, "%s: not an HDF5 file", f->name);
    f->fid = H5LTopen_file_image(buf, len, 0);
    if (f->fid < 0)
        return sn_err(SN_EFMT, "%s: cannot open HDF5 image (truncated or corrupt)", f->name);
    return SN_OK;
}

/* Open the regular file at path as f (named f->name in messages; what
 * follows "not an HDF5 file"). */
static int open_file(sn_h5 *f, const char *path, const char *what)
{
    if (sn_h5_probe(path) <= 0)
        return sn_err(SN_EFMT, "%s: not an HDF5 file%s%s%s", f->name, *what ? " (expected .h5ad data" : "", what,
                      *what ? ")" : "");
    if ((f->fid = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return sn_err(SN_EFMT, "%s: cannot open HDF5 file (truncated or corrupt)", f->name);
    return SN_OK;
}

/* HDF5 from a stream (standard input, a pipe, a FIFO): a regular file
 * behind standard input is opened as itself; anything else is copied to a
 * temporary file first (HDF5 seeks), which goes as soon as HDF5 holds it
 * open, so the data costs disk, not memory. */
static int open_stream(sn_h5 *f, const char *path)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *what = is_stdin ? " on standard input" : "";
    struct stat st;
    int64_t size;
    if (is_stdin && sn_stdin_file(&size))
        return size > 0 ? open_file(f, "/dev/stdin", what) : sn_err(SN_EFMT, "stdin: no input (empty stream)");
    int in = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (in < 0)
        return sn_err(SN_EIO, "%s: cannot open: %s", f->name, strerror(errno));
    char *spool = NULL;
    int rc = sn_spool_make(&spool), out = -1;
    if (rc == SN_OK && (out = open(spool, O_WRONLY | O_TRUNC)) < 0)
        rc = sn_err(SN_EIO, "%s: cannot open: %s", spool, strerror(errno));
    /* the signature lies within the first MiB: what lacks it is refused
     * before the rest is copied (a CSV, /dev/zero) */
    if (rc == SN_OK && (rc = sn_copy_fd_max(in, out, (1 << 20) + 8, f->name, spool)) == SN_OK &&
        sn_h5_probe(spool) > 0)
        rc = sn_copy_fd(in, out, f->name, spool);
    if (out >= 0 && close(out) != 0 && rc == SN_OK)
        rc = sn_err(SN_EIO, "%s: write failed: %s", spool, strerror(errno));
    if (!is_stdin)
        close(in);
    if (rc == SN_OK && stat(spool, &st) == 0 && st.st_size == 0)
        rc = sn_err(SN_EFMT, "%s: no input (empty stream)", f->name);
    if (rc == SN_OK)
        rc = open_file(f, spool, what);
    sn_spool_drop(spool); /* HDF5 holds it open */
    return rc;
}

int sn_h5_open_image(const void *buf, size_t len, const char *name, sn_h5 **out)
{
    sn_h5_quiet();
    *out = NULL;
    sn_h5 *f = h5_new(name);
    if (!f)
        return SN_ENOMEM;
    int rc = open_buf(f, (void *)buf, len);
    if (rc < 0) {
        sn_h5_close(f);
        return rc;
    }
    *out = f;
    return SN_OK;
}

int sn_h5_open(const char *path, sn_h5 **out)
{
    sn_h5_quiet();
    *out = NULL;
    sn_h5 *f = h5_new(strcmp(path, "-") ? path : "stdin");
    if (!f)
        return SN_ENOMEM;
    int rc = SN_OK;
    if (strcmp(path, "-") == 0 || sn_is_stream(path)) {
        rc = open_stream(f, path);
    } else if (access(path, R_OK) != 0) {
        rc = sn_err(SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    } else if (sn_is_dir(path)) {
        rc = sn_err(SN_EINVAL, "%s: is a directory, not an HDF5 file", path);
    } else {
        rc = open_file(f, path, "");
    }
    if (rc < 0) {
        sn_h5_close(f);
        return rc;
    }
    *out = f;
    return SN_OK;
}

int sn_h5_create(const char *path, sn_h5 **out)
{
    sn_h5_quiet();
    *out = NULL;
    sn_h5 *f = h5_new(strcmp(path, "-") ? path : "stdout");
    if (!f)
        return SN_ENOMEM;
    f->writing = 1;
    int rc = sn_out_open(path, 1, &f->out);
    if (rc < 0) {
        sn_h5_close(f);
        return rc;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Files readable by the HDF5 1.10 that anndata users commonly have. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
    /* a stream gets the file built in a temporary, copied out on commit */
    if (sn_out_is_stream(f->out) && (rc = sn_spool_make(&f->spool)) < 0) {
        H5Pclose(fapl);
        sn_h5_close(f);
        return rc;
    }
    if (sn_h5vfd_set(fapl, &f->werr) == 0)
        f->fid = H5Fcreate(f->spool ? f->spool : sn_out_tmpname(f->out), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f->fid < 0) {
        rc = sn_err(SN_EIO, "%s: cannot create HDF5 file", f->name);
        sn_h5_close(f);
        return rc;
    }
    *out = f;
    return SN_OK;
}

hid_t sn_h5_id(const sn_h5 *f) { return f->fid; }
const char *sn_h5_name(const sn_h5 *f) { return f->name; }

void sn_h5_rename(sn_h5 *f, const char *name)
{
    char *n = sn_strdup(name);
    if (!n)
        return; /* the old name still names the file */
    free(f->name);
    f->name = n;
}

/* The finished file from its temporary to the stream. */
static int copy_out(sn_h5 *f)
{
    if (sn_file_interrupted())
        return sn_err(SN_EINTR, "interrupted");
    int in = open(f->spool, O_RDONLY);
    if (in < 0)
        return sn_err(SN_EIO, "%s: cannot open: %s", f->spool, strerror(errno));
    sn_out_started(f->out);
    FILE *fp = sn_out_fp(f->out);
    fflush(fp);
    int rc = sn_copy_fd(in, fileno(fp), f->spool, f->name);
    close(in);
    return rc;
}

void sn_h5_aside(sn_h5 *f)
{
    if (f->out)
        sn_out_aside(f->out);
}

int sn_h5_commit(sn_h5 *f)
{
    int rc = SN_OK;
    /* a failure to write the temporary of a stream names where it was */
    const char *where = f->spool ? f->spool : f->name;
    if (H5Fflush(f->fid, H5F_SCOPE_GLOBAL) < 0)
        rc = sn_err(SN_EIO, "%s: write failed (disk full?)", where);
    if (file_close(f->fid) < 0 && rc == SN_OK)
        rc = sn_err(SN_EIO, "%s: write failed (disk full?)", where);
    f->fid = H5I_INVALID_HID;
    if (f->werr && rc == SN_OK)
        rc = sn_err(SN_EIO, "%s: write failed: %s", where, strerror(f->werr));
    if (rc == SN_OK && f->spool)
        rc = copy_out(f);
    if (rc == SN_OK) {
        rc = sn_out_commit(f->out);
        f->out = NULL;
    }
    sn_h5_close(f);
    return rc;
}

void sn_h5_close(sn_h5 *f)
{
    if (!f)
        return;
    if (f->fid >= 0)
        file_close(f->fid);
    if (f->out)
        sn_out_abort(f->out);
    sn_spool_drop(f->spool);
    free(f->name);
    free(f);
}
