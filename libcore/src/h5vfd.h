/* The HDF5 file driver for outputs written to disk (internal to libcore).
 *
 * It reads and writes like HDF5's sec2 driver (the file bytes are the
 * same) but never reports a failed write to HDF5: HDF5 1.10 crashes on
 * some of its error paths after one (inside H5Ocopy, and at exit after a
 * failed H5Fclose).  The first failure's errno is stored in the caller's
 * int instead, and from then on writes are kept in memory so that what
 * HDF5 reads back stays consistent; the caller fails the commit. */
#ifndef SCNET_H5VFD_H
#define SCNET_H5VFD_H

#include <hdf5.h>

/* Select the driver on a file-access list; *err (zeroed by the caller)
 * receives the errno of the first failed write or truncation, and must
 * outlive the file.  Returns 0 or -1 (message set). */
int sn_h5vfd_set(hid_t fapl, int *err);

#endif
