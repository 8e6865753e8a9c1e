/* HDF5 files as the programs use them: opened from a path or from a stream,
 * created atomically at a path (a temporary renamed on commit) or for a
 * stream.  HDF5 seeks, so stream data passes through a temporary file in
 * $TMPDIR (file.h, sn_spool_make): it costs disk space, not memory.  Also
 * registers the LZF filter (id 32000) that h5py/anndata use, so LZF-
 * compressed inputs read without any plugin set-up. */
#ifndef SCNET_H5_H
#define SCNET_H5_H

#include <hdf5.h>

#include "scnet/err.h"

typedef struct sn_h5 sn_h5;

/* Open for reading.  path "-" is standard input (a regular file behind it
 * is opened as itself); "-", a FIFO or a device is copied to a temporary
 * first.  Errors name the file: missing, not HDF5 ("not an HDF5 file"),
 * truncated. */
int sn_h5_open(const char *path, sn_h5 **f) SN_WUR;
/* Open a file image held in memory (buf is copied; name is for
 * messages): for data that never touches a disk, and for fuzzing. */
int sn_h5_open_image(const void *buf, size_t len, const char *name, sn_h5 **f) SN_WUR;
/* Create for writing: for "-" (refused when stdout is a terminal), a FIFO
 * or a device, the file is built in a temporary and copied out on
 * commit. */
int sn_h5_create(const char *path, sn_h5 **f) SN_WUR;
/* A created file that holds kept state, not an output (sn_out_aside). */
void sn_h5_aside(sn_h5 *f);
/* Finish a created file: close it and rename into place / write it out.
 * On error nothing is left behind.  Frees f. */
int sn_h5_commit(sn_h5 *f) SN_WUR;
/* Close a file opened for reading, or abandon a created one (its temporary
 * is removed, the target untouched).  Safe on NULL. */
void sn_h5_close(sn_h5 *f);
hid_t sn_h5_id(const sn_h5 *f);
/* Name for messages: the path, or "stdin"/"stdout". */
const char *sn_h5_name(const sn_h5 *f);
/* Name f in messages as name (what the user gave, for a temporary copy). */
void sn_h5_rename(sn_h5 *f, const char *name);
/* Nonzero if the regular file at path starts with the HDF5 signature (at
 * offset 0, 512, 1024, ...).  "-" is not probed (returns -1), nor is
 * anything but a regular file (0): looking would take a stream's data. */
int sn_h5_probe(const char *path);
/* Turn HDF5's own error stack off (the library reports through sn_err);
 * the first call also takes over HDF5's shutdown at exit (see h5.c), so
 * it should come before any other HDF5 call (sn_cli_init makes it). */
void sn_h5_quiet(void);

#endif
