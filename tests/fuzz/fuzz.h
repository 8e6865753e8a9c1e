/* Shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * The readers take paths, so text inputs go to memory files (memfd) named
 * by /proc/self/fd/N: no disk traffic, and the reader opens them like any
 * file.  HDF5 inputs are opened as in-memory images. */
#ifndef SCNET_FUZZ_H
#define SCNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scnet/err.h"
#include "scnet/log.h"

/* A memory file holding data; its path is written into path (64 bytes).
 * The descriptor stays open for the life of the process and is rewritten
 * per input, so a harness keeps one per role. */
static inline const char *fz_file(int *fd, const uint8_t *data, size_t size, char *path)
{
    if (*fd <= 0 && (*fd = memfd_create("fuzz", 0)) < 0)
        abort();
    if (ftruncate(*fd, 0) != 0 || (size && pwrite(*fd, data, size, 0) != (ssize_t)size))
        abort();
    snprintf(path, 64, "/proc/self/fd/%d", *fd);
    return path;
}

/* Split data at the separator "\n--\n" into at most max parts; returns
 * the number of parts (unused ones are empty). */
static inline int fz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, int max)
{
    static const char sep[] = "\n--\n";
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; n < max - 1 && i + 4 <= size; i++)
        if (memcmp(data + i, sep, 4) == 0) {
            part[n] = data + start;
            len[n++] = i - start;
            start = i + 4;
            i += 3;
        }
    part[n] = data + start;
    len[n++] = size - start;
    for (int k = n; k < max; k++) {
        part[k] = data + size;
        len[k] = 0;
    }
    return n;
}

/* Every harness: no warnings on stderr (they would flood the log). */
static inline void fz_quiet(void)
{
    static int done;
    if (!done) {
        sn_log_setup("fuzz", SN_LOG_QUIET);
        done = 1;
    }
}

/* A reader that failed must have left a message, and one naming the file
 * when it was given a path (name may be NULL): an error without one is a
 * bug, since the user would see "unknown error" or not know which file. */
static inline void fz_check_rc(int rc, const char *name)
{
    const char *m = sn_errmsg();
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "  rc %d%s%s\n", rc, rc < 0 ? ": " : "", rc < 0 ? m : "");
    if (rc < 0 && (strcmp(m, "unknown error") == 0 || (name && !strstr(m, name)))) {
        fprintf(stderr, "error %d with the message '%s' (expected one naming %s)\n", rc, m,
                name ? name : "anything");
        abort();
    }
    sn_err_clear();
}

#endif
