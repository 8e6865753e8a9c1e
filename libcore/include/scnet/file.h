/* Output that is never half-written, and whole-input reading.
 *
 * An output path is written as a temporary file in the same directory and
 * renamed over the target only when everything succeeded, so a failed or
 * interrupted run leaves an existing file untouched.  "-" means standard
 * output; binary data is refused when standard output is a terminal.
 * SIGINT, SIGTERM and SIGHUP remove pending temporaries, print one line
 * and end the run by that signal; SIGPIPE (the reader of a pipe went away)
 * does the same without the line, as other filters end. */
#ifndef SCNET_FILE_H
#define SCNET_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "scnet/err.h"

typedef struct sn_out sn_out;

/* Install the signal handlers (programs call this once, via sn_cli_init);
 * prog starts the message printed when a signal ends the run. */
void sn_file_signals(const char *prog);
/* Give every thread of the OpenMP pool an alternate signal stack, so that
 * a stack overflow in a worker still runs the crash clean-up (once the
 * thread count is set; nonzero when every thread has one). */
int sn_file_thread_stacks(void);
/* Add what the line a signal prints should say after "interrupted" (a
 * checkpoint to resume from); replaces the previous note. */
void sn_file_stop_note(const char *note);
/* Nonzero once SIGINT/SIGTERM was received (long loops may poll it). */
int sn_file_interrupted(void);

/* Open an output.  binary: refuse a terminal for "-". */
int sn_out_open(const char *path, int binary, sn_out **o) SN_WUR;
FILE *sn_out_fp(sn_out *o);
/* Path of the temporary file being written (NULL for stdout). */
const char *sn_out_tmpname(const sn_out *o);
const char *sn_out_path(const sn_out *o);
int sn_out_is_stdout(const sn_out *o);
/* Standard output or an existing non-regular file (device, FIFO): written
 * directly, as a stream, with no temporary. */
int sn_out_is_stream(const sn_out *o);
/* o holds kept state (a checkpoint), not an output: once in place, a
 * signal's line does not count it as written. */
void sn_out_aside(sn_out *o);
/* From now on a signal's line says that what went to the stream o is
 * incomplete (text streams are marked when opened). */
void sn_out_started(const sn_out *o);
/* A temporary file in $TMPDIR (else /tmp), created empty, removed by the
 * signal handler until sn_spool_drop: where HDF5 data to or from a stream
 * (a pipe, standard input or output) is held, since HDF5 needs a file it
 * can seek in.  *name is malloc'd. */
int sn_spool_make(char **name) SN_WUR;
/* Remove the temporary and free name.  Safe on NULL. */
void sn_spool_drop(char *name);
/* Copy everything readable from one descriptor to another. */
int sn_copy_fd(int from, int to, const char *from_name, const char *to_name) SN_WUR;
/* The same, up to max bytes. */
int sn_copy_fd_max(int from, int to, int64_t max, const char *from_name, const char *to_name) SN_WUR;
/* Flush, check for write errors, fsync and rename into place.  On failure
 * the temporary is removed and the target left as it was.  Frees o. */
int sn_out_commit(sn_out *o) SN_WUR;
/* Remove the temporary; frees o.  Safe on NULL. */
void sn_out_abort(sn_out *o);
/* Outputs of one run that succeed or fail together: after sn_out_hold,
 * commits to a path keep their finished temporaries, and sn_out_release
 * renames them all into place (ok nonzero) or removes them (ok zero, or a
 * rename failed: those after it are removed, the error names it).
 * Streams are written as they come, and kept state (sn_out_aside) is put
 * in place at once. */
void sn_out_hold(void);
int sn_out_release(int ok) SN_WUR;

/* Write n bytes to a descriptor, retrying short writes; error names what. */
int sn_write_all(int fd, const void *buf, size_t n, const char *what) SN_WUR;
/* Read a whole file ("-" = stdin) into a malloc'd buffer. */
int sn_read_all(const char *path, unsigned char **buf, size_t *len) SN_WUR;
/* Nonzero if path names an existing directory. */
int sn_is_dir(const char *path);
/* Nonzero if path names an existing pipe, FIFO or device (<(...) too):
 * neither a regular file nor a directory, so nothing can be looked into
 * before it is read.  "-" is not a path here. */
int sn_is_stream(const char *path);
/* Nonzero when standard input is a regular file, read from its start, that
 * /dev/stdin opens (not when permissions, a missing /dev or an offset say
 * otherwise): it can be read in place instead of copied.  *size: its size. */
int sn_stdin_file(int64_t *size);
/* Nonzero when two paths would name the same regular file: one inode for
 * paths that exist (links and symlinks included), one directory entry for
 * two outputs not there yet.  "-" is standard output for an output
 * (a_out, b_out nonzero) and standard input for an input.  Devices, pipes
 * and directories never match: they are streams, with nothing to
 * overwrite; nor does an input that is not there. */
int sn_file_same(const char *a, int a_out, const char *b, int b_out);
/* Nonzero when two outputs reach one stream: a pipe, FIFO or socket, or
 * standard output's terminal ("-" and /dev/stdout included). */
int sn_file_same_stream(const char *a, const char *b);
/* SN_OK when path can be created or replaced as an output ("-", a device
 * or pipe, or a regular file whose temporary can be made beside it; binary
 * output not to a terminal); otherwise the error sn_out_open(path, binary)
 * would give, found before any work. */
int sn_out_check(const char *path, int binary) SN_WUR;

#endif
