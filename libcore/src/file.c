#include "scnet/file.h"
#include "scnet/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sn_out {
    char *path, *tmp;
    char *dest;               /* where the file goes: path, or the target of the link path is */
    FILE *fp;
    int is_stdout, is_stream; /* stream: stdout or a non-regular file */
    int aside;                /* kept state (a checkpoint), not an output the run makes */
};

/* Only a character device can be a terminal; opening anything else to ask
 * would have effects (a FIFO's reader would see the open and the close as
 * an empty stream). */
static int isatty_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
        return 0;
    int fd = open(path, O_WRONLY | O_NOCTTY);
    int r = fd >= 0 && isatty(fd);
    if (fd >= 0)
        close(fd);
    return r;
}

/* Binary data is never sent to a terminal: standard output ("-") or a
 * device path that is one. */
static int to_terminal(const char *path, int binary)
{
    if (!binary)
        return SN_OK;
    if (strcmp(path, "-") == 0)
        return isatty(STDOUT_FILENO) ? sn_err(SN_EUSAGE, "refusing to write binary data to a terminal (use -o "
                                                         "FILE or a pipe)")
                                     : SN_OK;
    return isatty_path(path) ? sn_err(SN_EUSAGE, "refusing to write binary data to a terminal (%s)", path) : SN_OK;
}

/* Pending temporaries, removed by the signal handler.  A fixed table keeps
 * the handler async-signal-safe. */
#define MAX_PENDING 64
static char *volatile pending[MAX_PENDING];
static volatile sig_atomic_t got_signal;
/* The lines a signal prints, made beforehand: one write() each. */
static char stop_line[12600] = "scnet: interrupted, no output written\n";
static char crash_line[4400] = "scnet: crashed (a bug, or a corrupt input), no output written\n";
static char partial_line[16700]; /* when stream_name is set: a stream has output */
static mode_t file_mode = 0644;
static const char *prog_name = "scnet";

/* The lines a signal prints, remade (signals blocked) when what they say
 * changes: a stream that has output, a note such as a checkpoint. */
static char stream_name[4100], stop_note[8200];
/* Outputs already renamed into place: a signal in the moments after (the
 * run tearing down) must not say that nothing was written. */
static char written[4100];

static void make_lines(void)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    const char *sep = *stop_note ? "; " : "";
    if (*written)
        snprintf(stop_line, sizeof stop_line, "%.63s: interrupted after writing %s (no other output)%s%s\n",
                 prog_name, written, sep, stop_note);
    else
        snprintf(stop_line, sizeof stop_line, "%.63s: interrupted, no output written%s%s\n", prog_name, sep,
                 stop_note);
    snprintf(partial_line, sizeof partial_line, "%.63s: interrupted; what went to %s is incomplete%s%s%s%s\n",
             prog_name, stream_name, *written ? "; written: " : "", written, sep, stop_note);
    snprintf(crash_line, sizeof crash_line, "%.63s: crashed (a bug, or a corrupt input)%s%s\n", prog_name,
             *written ? " after writing " : ", no output written", written);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Rename a finished temporary into place, and record it for the lines in
 * the same breath: signals wait until both are done.  0 or errno. */
static int put_in_place(const char *tmp, const char *dest, const char *path, int aside)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    int e = rename(tmp, dest) == 0 ? 0 : errno;
    if (!e && !aside) {
        size_t n = strlen(written);
        if (n + strlen(path) + 8 < sizeof written)
            snprintf(written + n, sizeof written - n, "%s%s", n ? ", " : "", path);
        else if (n + 8 < sizeof written && !strstr(written, "..."))
            snprintf(written + n, sizeof written - n, "%s...", n ? ", " : "");
        make_lines();
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return e;
}

static void drop_pending(void)
{
    for (int i = 0; i < MAX_PENDING; i++)
        if (pending[i])
            unlink(pending[i]);
}

static atomic_flag stopping = ATOMIC_FLAG_INIT;
static pthread_t main_thread;

static void on_signal(int sig)
{
    /* The main thread cleans up and ends the run (the others pass a stop
     * on to it); the first signal there does, one taken meanwhile (a
     * SIGPIPE in another thread) leaves that to it. */
    if (sig != SIGPIPE && !pthread_equal(pthread_self(), main_thread)) {
        /* the main thread takes it as soon as it is not blocking it */
        pthread_kill(main_thread, sig);
        return;
    }
    if (atomic_flag_test_and_set(&stopping))
        return;
    got_signal = sig;
    drop_pending();
    /* A reader that stopped reading (head) is no error worth a line: end
     * as any filter does on SIGPIPE, quietly. */
    if (sig != SIGPIPE) {
        const char *line = *stream_name ? partial_line : stop_line;
        (void)!write(STDERR_FILENO, line, strlen(line));
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The sanitizers (and the fuzzer built with them) report a crash
 * themselves, with its stack: their handlers stay. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#define ALT_STACK (1 << 16)
#define MAX_ALT_STACKS 1024

#ifndef SANITIZED
/* A crash (inside the HDF5 library on some corrupt files) still removes
 * the temporaries, says so, and ends by the same signal, with its core. */
static void on_crash(int sig)
{
    drop_pending();
    (void)!write(STDERR_FILENO, crash_line, strlen(crash_line));
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

static void crash_handlers(void)
{
#ifndef SANITIZED
    /* A stack overflow (deep recursion on a corrupt file) leaves no stack
     * for the handler: it runs on its own (the main thread's here, the
     * workers' from sn_file_thread_stacks). */
    static char alt[ALT_STACK];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigfillset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) == 0)
        for (int i = 0, sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}; i < 5; i++)
            sigaction(sigs[i], &sa, NULL);
#endif
}

/* INT, TERM, HUP and QUIT go to the main thread only, so that blocking them
 * there (while a temporary is recorded or a line rebuilt) holds them off
 * for the whole process (on_signal forwards any that still reach another
 * thread). */
static void block_stops(void)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigaddset(&stop, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
}

int sn_file_thread_stacks(void)
{
    int ok = 1;
    /* Each worker thread gets its own stack for the crash handler, kept for
     * the life of the thread (the pool outlives every parallel region);
     * the table keeps them reachable. */
    static void *stacks[MAX_ALT_STACKS];
    (void)stacks;
#pragma omp parallel reduction(&& : ok)
    {
        int t = omp_get_thread_num();
        if (t != 0)
            block_stops();
#ifndef SANITIZED
        stack_t cur;
        if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
            /* a thread that replaced an earlier one of its number takes its stack */
            void *sp = t >= MAX_ALT_STACKS ? NULL : stacks[t] ? stacks[t] : malloc(ALT_STACK);
            stack_t ss = {.ss_sp = sp, .ss_size = ALT_STACK};
            ok = sp && sigaltstack(&ss, NULL) == 0;
            if (sp)
                stacks[t] = sp;
        }
#endif
    }
    return ok;
}

void sn_file_signals(const char *prog)
{
    main_thread = pthread_self();
    prog_name = prog;
    make_lines();
    mode_t mask = umask(0);
    umask(mask);
    file_mode = 0666 & ~mask;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL); /* cleans up, then dumps core as it would have */
    sigaction(SIGPIPE, &sa, NULL);
    /* Past the file-size limit (ulimit -f) a write fails with EFBIG and
     * the run ends with a message, instead of being killed. */
    signal(SIGXFSZ, SIG_IGN);
    crash_handlers();
}

int sn_file_interrupted(void) { return got_signal != 0; }

static void track(char *tmp, int add)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < MAX_PENDING; i++)
        if (add ? !pending[i] : pending[i] == tmp) {
            pending[i] = add ? tmp : NULL;
            break;
        }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The directory holding path (".", or up to its last slash) and its
 * last component, without touching path. */
static int split_path(const char *path, char *dir, size_t n, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash)
        return snprintf(dir, n, ".") >= 0;
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= n)
        return 0;
    memcpy(dir, path, len);
    dir[len] = 0;
    return 1;
}

/* mkstemp on tmpl; keep: record it for the signal handler, with no signal
 * between creating and recording it; else remove it at once (a trial). */
static int temp_fd(char *tmpl, int keep)
{
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    int fd = mkstemp(tmpl), e = errno;
    if (fd >= 0 && keep) {
        track(tmpl, 1);
    } else if (fd >= 0) {
        close(fd);
        unlink(tmpl);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

#define TMP_SUFFIX ".tmpXXXXXX"
#define NAME_LIMIT 255 /* NAME_MAX of the common file systems */

/* Create the temporary an output to path is written to, beside it; keep:
 * record it for the signal handler and return its descriptor and name,
 * else remove it at once (a trial).  A negative code (error set) on
 * failure. */
static int make_temp(const char *path, int keep, char **name)
{
    size_t n = strlen(path) + sizeof TMP_SUFFIX;
    char *tmp = sn_malloc(n, "a file name");
    if (!tmp)
        return SN_ENOMEM;
    /* a name near the limit is cut so that the suffix still fits */
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    size_t keep_len = strlen(path), room = NAME_LIMIT - (sizeof TMP_SUFFIX - 1);
    if (strlen(base) > room)
        keep_len -= strlen(base) - room;
    snprintf(tmp, n, "%.*s%s", (int)keep_len, path, TMP_SUFFIX);
    int fd = temp_fd(tmp, keep), e = errno;
    if (fd < 0 || !keep)
        free(tmp);
    else
        *name = tmp;
    if (fd >= 0)
        return fd;
    if (e == EACCES || e == EROFS || e == EPERM) { /* the directory's fault, not the file's */
        char dir[4096];
        const char *b;
        if (split_path(path, dir, sizeof dir, &b))
            return sn_err(SN_EIO, "%s: cannot create output: directory %s: %s", path, dir, strerror(e));
    }
    return sn_err(SN_EIO, "%s: cannot create output: %s", path, strerror(e));
}

/* Where an output named path goes: through a symbolic link to its target
 * (a chain of them followed, a relative one from its own directory; a
 * dangling one to the file it names), as a shell redirection or h5py
 * writes, so that an update in place reaches the file the link stands
 * for.  *dest is malloc'd. */
static int out_target(const char *path, char **dest)
{
    char *cur = sn_strdup(path), link[4096];
    for (int hops = 0; cur; hops++) {
        struct stat ls;
        if (lstat(cur, &ls) != 0 || !S_ISLNK(ls.st_mode)) {
            *dest = cur;
            return SN_OK;
        }
        ssize_t n = hops < 40 ? readlink(cur, link, sizeof link - 1) : -1;
        if (n < 0) {
            int e = hops < 40 ? errno : ELOOP;
            free(cur);
            return sn_err(SN_EIO, "%s: cannot create output: %s", path, strerror(e));
        }
        link[n] = 0;
        const char *slash = strrchr(cur, '/');
        int dir = *link == '/' || !slash ? 0 : (int)(slash - cur) + 1;
        char *next = sn_malloc((size_t)dir + (size_t)n + 1, "a file name");
        if (next)
            snprintf(next, (size_t)dir + (size_t)n + 1, "%.*s%s", dir, cur, link);
        free(cur);
        cur = next;
    }
    return SN_ENOMEM;
}

/* An error about a link's target (which the message names) says which
 * link led there. */
static int name_link(int rc, const char *path, const char *dest)
{
    return strcmp(path, dest) != 0 ? sn_err_prefix(rc, "%s -> ", path) : rc;
}

/* A file at path may be replaced only where writing it in place would be
 * allowed: not when it is write-protected against us, nor another user's
 * in a sticky directory (where the rename would fail after all the work).
 * SN_OK when there is none. */
static int replace_ok(const char *path)
{
    struct stat ls; /* path is no link: out_target resolved it */
    if (lstat(path, &ls) != 0)
        return SN_OK;
    if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0 && errno != ENOENT)
        return sn_err(SN_EIO, "%s: cannot replace: %s", path, strerror(errno));
    char dir[4096];
    const char *base;
    struct stat ds;
    uid_t me = geteuid();
    if (me != 0 && ls.st_uid != me && split_path(path, dir, sizeof dir, &base) && stat(dir, &ds) == 0 &&
        (ds.st_mode & S_ISVTX) && ds.st_uid != me)
        return sn_err(SN_EIO, "%s: cannot replace another user's file in the sticky directory %s", path, dir);
    return SN_OK;
}

/* The replacement keeps the old file's permissions (and, for root, its
 * owner), as editing it in place would; a new file gets the umask's. */
static void take_mode(int fd, const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) { /* new */
        (void)fchmod(fd, file_mode);
        return;
    }
    mode_t mode = st.st_mode & 07777;
    /* a group we cannot give the file must not get the old group's rights */
    if (fchown(fd, geteuid() == 0 ? st.st_uid : (uid_t)-1, st.st_gid) != 0)
        mode = (mode & ~(mode_t)(S_IRWXG | S_ISGID)) | (file_mode & S_IRWXG);
    (void)fchmod(fd, mode);
}

/* Standard output or error (1 or 2) when path is a link to the regular
 * file behind it (/dev/stdout, /dev/fd/2 with the stream redirected to a
 * file): written through the descriptor, as a shell's redirection writes,
 * since replacing the file would lose what the stream held before it (and
 * an append); -1 otherwise. */
static int std_target(const char *path)
{
    struct stat ls, st, fs;
    if (strcmp(path, "-") == 0 || lstat(path, &ls) != 0 || !S_ISLNK(ls.st_mode) || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return -1;
    for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++)
        if (fstat(fd, &fs) == 0 && fs.st_dev == st.st_dev && fs.st_ino == st.st_ino)
            return fd;
    return -1;
}

int sn_out_open(const char *path, int binary, sn_out **out)
{
    *out = NULL;
    sn_out *o = sn_calloc(1, sizeof *o, "an output");
    if (!o || !(o->path = sn_strdup(path))) {
        free(o);
        return SN_ENOMEM;
    }
    int std = std_target(path);
    if (strcmp(path, "-") == 0 || std == STDOUT_FILENO) {
        int rc = to_terminal("-", binary);
        if (rc < 0) {
            sn_out_abort(o);
            return rc;
        }
        o->is_stdout = o->is_stream = 1;
        o->fp = stdout;
        if (!binary)
            sn_out_started(o);
        *out = o;
        return SN_OK;
    }
    /* A device or pipe (/dev/null, /dev/full, a FIFO), or standard error
     * behind a link: nothing to protect by renaming, and renaming would
     * replace the node (or the file the stream writes to). */
    struct stat st;
    if (std == STDERR_FILENO || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
        if (std < 0 && S_ISDIR(st.st_mode)) {
            sn_out_abort(o);
            return sn_err(SN_EIO, "%s: is a directory", path);
        }
        int rc = std < 0 ? to_terminal(path, binary) : SN_OK;
        if (rc < 0) {
            sn_out_abort(o);
            return rc;
        }
        int fd = std < 0 ? -1 : dup(STDERR_FILENO);
        if (!(o->fp = std < 0 ? fopen(path, "wb") : fd >= 0 ? fdopen(fd, "wb") : NULL)) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            sn_out_abort(o);
            return sn_err(SN_EIO, "%s: cannot open for writing: %s", path, strerror(e));
        }
        o->is_stream = 1;
        if (!binary)
            sn_out_started(o);
        *out = o;
        return SN_OK;
    }
    int rc = out_target(path, &o->dest);
    rc = rc < 0 ? rc : replace_ok(o->dest);
    int fd = rc < 0 ? rc : make_temp(o->dest, 1, &o->tmp);
    if (fd < 0) {
        fd = o->dest ? name_link(fd, path, o->dest) : fd;
        sn_out_abort(o);
        return fd;
    }
    take_mode(fd, o->dest);
    if (!(o->fp = fdopen(fd, "wb"))) {
        close(fd);
        sn_out_abort(o);
        return sn_err(SN_ENOMEM, "%s: cannot open output stream", path);
    }
    *out = o;
    return SN_OK;
}

void sn_out_aside(sn_out *o) { o->aside = 1; }

void sn_out_started(const sn_out *o)
{
    snprintf(stream_name, sizeof stream_name, "%s", o->is_stdout ? "standard output" : o->path);
    make_lines();
}

void sn_file_stop_note(const char *note)
{
    snprintf(stop_note, sizeof stop_note, "%s", note);
    make_lines();
}

int sn_spool_make(char **name)
{
    const char *dir = getenv("TMPDIR");
    dir = dir && *dir ? dir : "/tmp";
    size_t n = strlen(dir) + 32;
    char *tmp = sn_malloc(n, "a file name");
    if (!tmp)
        return SN_ENOMEM;
    snprintf(tmp, n, "%s/scnet-XXXXXX", dir);
    int fd = temp_fd(tmp, 1);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return sn_err(SN_EIO, "cannot make a temporary file in %s (set TMPDIR): %s", dir, strerror(e));
    }
    close(fd);
    *name = tmp;
    return SN_OK;
}

void sn_spool_drop(char *name)
{
    if (!name)
        return;
    unlink(name);
    track(name, 0);
    free(name);
}

int sn_copy_fd(int from, int to, const char *from_name, const char *to_name)
{
    return sn_copy_fd_max(from, to, INT64_MAX, from_name, to_name);
}

int sn_copy_fd_max(int from, int to, int64_t max, const char *from_name, const char *to_name)
{
    enum { BUF = 1 << 20 };
    char *buf = sn_malloc(BUF, "a copy buffer");
    if (!buf)
        return SN_ENOMEM;
    int rc = SN_OK;
    int64_t left = max;
    while (rc == SN_OK && left > 0) {
        ssize_t r = read(from, buf, left < BUF ? (size_t)left : BUF);
        if (r < 0 && errno == EINTR && !got_signal)
            continue;
        if (r < 0)
            rc = sn_err(SN_EIO, "%s: read failed: %s", from_name, strerror(errno));
        if (r <= 0)
            break;
        rc = sn_write_all(to, buf, (size_t)r, to_name);
        left -= r;
    }
    free(buf);
    return rc;
}

FILE *sn_out_fp(sn_out *o) { return o->fp; }
const char *sn_out_tmpname(const sn_out *o) { return o->tmp; }
const char *sn_out_path(const sn_out *o) { return o->path; }
int sn_out_is_stdout(const sn_out *o) { return o->is_stdout; }
int sn_out_is_stream(const sn_out *o) { return o->is_stream; }

static void out_free(sn_out *o)
{
    if (o->tmp) {
        track(o->tmp, 0);
        free(o->tmp);
    }
    free(o->dest);
    free(o->path);
    free(o);
}

void sn_out_abort(sn_out *o)
{
    if (!o)
        return;
    if (o->fp && !o->is_stdout)
        fclose(o->fp);
    o->fp = NULL;
    if (o->tmp)
        unlink(o->tmp);
    out_free(o);
}

/* Finished temporaries waiting for sn_out_release; they stay in the
 * pending table, so a signal still removes them. */
static struct {
    char *tmp, *path, *dest;
} held[MAX_PENDING];
static int nheld, holding;

/* Keep o's finished temporary for sn_out_release; 0 when not holding.
 * Kept state (a checkpoint) goes in place at once: a run that fails later
 * is resumed from it. */
static int hold(sn_out *o)
{
    if (!holding || o->aside || nheld == MAX_PENDING)
        return 0;
    held[nheld].tmp = o->tmp;
    held[nheld].dest = o->dest;
    held[nheld++].path = o->path;
    free(o);
    return 1;
}

/* Set the error, then free o (the message names o->path). */
static int out_fail(sn_out *o, int e)
{
    int rc = sn_err(SN_EIO, "%s: write failed: %s", o->is_stdout ? "stdout" : o->path, strerror(e));
    sn_out_abort(o);
    return rc;
}

int sn_out_commit(sn_out *o)
{
    if (got_signal && !o->is_stream) {
        sn_out_abort(o);
        return sn_err(SN_EINTR, "interrupted");
    }
    errno = 0;
    if (fflush(o->fp) != 0 || ferror(o->fp))
        return out_fail(o, errno ? errno : EIO);
    if (o->is_stdout) {
        out_free(o);
        return SN_OK;
    }
    int e = 0;
    if (!o->is_stream && fsync(fileno(o->fp)) != 0 && errno != EINVAL)
        e = errno;
    if (fclose(o->fp) != 0 && !e)
        e = errno;
    o->fp = NULL;
    if (!e && o->tmp && hold(o))
        return SN_OK;
    if (!e && o->tmp)
        e = put_in_place(o->tmp, o->dest, o->path, o->aside);
    if (e)
        return out_fail(o, e);
    out_free(o);
    return SN_OK;
}

void sn_out_hold(void)
{
    holding = 1;
}

int sn_out_release(int ok)
{
    int rc = SN_OK, e;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* all of them, or a signal after the last */
    for (int i = 0; i < nheld; i++) {
        if (ok && rc == SN_OK && (e = put_in_place(held[i].tmp, held[i].dest, held[i].path, 0)) != 0)
            rc = sn_err(SN_EIO, "%s: write failed: %s", held[i].path, strerror(e));
        if (!ok || rc < 0)
            unlink(held[i].tmp);
        track(held[i].tmp, 0);
        free(held[i].tmp);
        free(held[i].dest);
        free(held[i].path);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    nheld = 0;
    holding = 0;
    return rc;
}

int sn_write_all(int fd, const void *buf, size_t n, const char *what)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n > (1 << 30) ? (1 << 30) : n);
        if (w < 0 && errno == EINTR && !got_signal)
            continue;
        if (w <= 0)
            return sn_err(SN_EIO, "%s: write failed: %s", what, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return SN_OK;
}

int sn_read_all(const char *path, unsigned char **buf, size_t *len)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY);
    if (fd < 0)
        return sn_err(SN_EIO, "%s: cannot open: %s", name, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = sn_malloc(cap, "the input file");
    if (!b) {
        if (!is_stdin)
            close(fd);
        return SN_ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            unsigned char *nb = sn_realloc(b, cap *= 2, "the input file");
            if (!nb) {
                free(b);
                if (!is_stdin)
                    close(fd);
                return SN_ENOMEM;
            }
            b = nb;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR && !got_signal)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            if (!is_stdin)
                close(fd);
            return sn_err(SN_EIO, "%s: read failed: %s", name, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (!is_stdin)
        close(fd);
    *buf = b;
    *len = n;
    return SN_OK;
}

int sn_is_dir(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sn_is_stream(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

int sn_stdin_file(int64_t *size)
{
    struct stat st, dev;
    if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || lseek(STDIN_FILENO, 0, SEEK_CUR) != 0 ||
        stat("/dev/stdin", &dev) != 0 || dev.st_dev != st.st_dev || dev.st_ino != st.st_ino ||
        access("/dev/stdin", R_OK) != 0)
        return 0;
    *size = (int64_t)st.st_size;
    return 1;
}

/* 1: a regular file (st filled); 0: no such entry; -1: anything else.
 * "-" is standard output for an output, standard input for an input. */
static int regular(const char *path, int out, struct stat *st)
{
    int std = strcmp(path, "-") == 0;
    if ((std ? fstat(out ? STDOUT_FILENO : STDIN_FILENO, st) : stat(path, st)) != 0)
        return errno == ENOENT && !std ? 0 : -1;
    return S_ISREG(st->st_mode) ? 1 : -1;
}

int sn_file_same(const char *a, int a_out, const char *b, int b_out)
{
    struct stat sa, sb;
    int ka = regular(a, a_out, &sa), kb = regular(b, b_out, &sb);
    if (ka != kb || ka < 0)
        return 0;
    if (ka == 1)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    /* Neither there yet: an input that is not there is nothing to
     * overwrite; two outputs collide when they name one directory entry. */
    char da[4096], db[4096], *ta = NULL, *tb = NULL;
    const char *ba, *bb;
    if (!a_out || !b_out || out_target(a, &ta) < 0 || out_target(b, &tb) < 0) {
        free(ta);
        return 0;
    }
    /* the entries the outputs will make: a dangling link makes its target */
    int same = split_path(ta, da, sizeof da, &ba) && split_path(tb, db, sizeof db, &bb) && strcmp(ba, bb) == 0 &&
               stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    free(ta);
    free(tb);
    return same;
}

/* An output's stream: standard output for "-", else what the path leads
 * to (/dev/stdout, a FIFO); 0 when it is not a stream. */
static int out_stream(const char *path, struct stat *st)
{
    if ((strcmp(path, "-") == 0 ? fstat(STDOUT_FILENO, st) : stat(path, st)) != 0)
        return 0;
    return !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode);
}

int sn_file_same_stream(const char *a, const char *b)
{
    struct stat sa, sb, so;
    if (!out_stream(a, &sa) || !out_stream(b, &sb) || sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
        return 0;
    /* a device shared harmlessly (/dev/null) is not a clash; standard
     * output's own terminal is */
    int is_out = fstat(STDOUT_FILENO, &so) == 0 && so.st_dev == sa.st_dev && so.st_ino == sa.st_ino;
    return S_ISFIFO(sa.st_mode) || S_ISSOCK(sa.st_mode) || is_out;
}

int sn_out_check(const char *path, int binary)
{
    struct stat st;
    int there = strcmp(path, "-") != 0 && stat(path, &st) == 0;
    if (there && S_ISDIR(st.st_mode))
        return sn_err(SN_EIO, "%s: is a directory", path);
    if (!strcmp(path, "-") || std_target(path) >= 0 || (there && !S_ISREG(st.st_mode))) { /* a stream */
        SN_TRY(to_terminal(path, binary));
        char *spool = NULL; /* where an HDF5 file for it is built */
        int rc = binary ? sn_spool_make(&spool) : SN_OK;
        sn_spool_drop(spool);
        return rc;
    }
    char *dest = NULL;
    SN_TRY(out_target(path, &dest));
    /* Making the temporary the output will be written to, and removing it,
     * finds every reason it cannot be (no such directory, no permission,
     * a read-only or special file system). */
    int rc = replace_ok(dest);
    rc = rc < 0 ? rc : make_temp(dest, 0, NULL);
    rc = rc < 0 ? name_link(rc, path, dest) : rc;
    free(dest);
    return rc < 0 ? rc : SN_OK;
}
