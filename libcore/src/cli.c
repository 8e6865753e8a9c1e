#include "scnet/cli.h"
#include "scnet/file.h"
#include "scnet/h5.h"
#include "scnet/log.h"
#include "scnet/mem.h"
#include "scnet/text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void openblas_set_num_threads(int);

/* Whether the program started with standard output closed. */
static int stdout_closed;

/* A standard stream closed at start (prog >&-) would let the first file
 * opened take its descriptor, and output meant for the stream would go
 * into that file: each closed one is opened on /dev/null instead, and
 * writing to a closed standard output is refused (outputs_ok). */
static void open_std_streams(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
        stdout_closed |= fd == 1;
    }
}

void sn_cli_init(sn_cli *c, const char *prog, void (*usage)(FILE *), int argc, char **argv)
{
    open_std_streams();
    memset(c, 0, sizeof *c);
    c->prog = prog;
    c->usage = usage;
    c->output = "-";
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = n > 0 ? (int)n : 1;
    c->seed = 42;
    c->level = SN_LOG_WARN;
    c->device = "auto";
    c->argc = argc;
    /* getopt permutes argv; the history records the command as typed */
    static char *typed[4096];
    int na = argc < 4095 ? argc : 4095;
    for (int i = 0; i < na; i++)
        typed[i] = argv[i];
    typed[na] = NULL;
    c->argc = na;
    c->argv = typed;
    c->pargv = argv;
    c->t0 = sn_time();
    c->c0 = sn_cputime();
    opterr = 0;
    sn_log_setup(prog, SN_LOG_WARN);
    sn_file_signals(prog);
    sn_h5_quiet();
}

int sn_cli_bad(const char *fmt, ...)
{
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return sn_err(SN_EUSAGE, "%s", m);
}

int sn_cli_int(const char *opt, const char *arg, long long lo, long long hi, long long *out)
{
    long long v = 0;
    if (sn_parse_long(arg, &v) < 0 || v < lo || v > hi)
        return sn_cli_bad("invalid value '%s' for %s (expected an integer in [%lld, %lld])", arg, opt, lo, hi);
    *out = v;
    return SN_OK;
}

int sn_cli_double(const char *opt, const char *arg, double lo, double hi, double *out)
{
    double v;
    if (sn_parse_double(arg, &v) < 0 || v < lo || v > hi)
        return sn_cli_bad("invalid value '%s' for %s (expected a number in [%g, %g])", arg, opt, lo, hi);
    *out = v;
    return SN_OK;
}

int sn_cli_choice(const char *opt, const char *arg, const char *const *words, int *out)
{
    char list[512] = "";
    for (int i = 0; words[i]; i++) {
        if (strcmp(arg, words[i]) == 0) {
            *out = i;
            return SN_OK;
        }
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, words[i], sizeof list - strlen(list) - 1);
    }
    return sn_cli_bad("invalid value '%s' for %s (expected one of: %s)", arg, opt, list);
}

int sn_cli_common(sn_cli *c, int opt, const char *arg)
{
    long long v = 0;
    switch (opt) {
    case SN_OPT_HELP:
        c->usage(stdout);
        return SN_CLI_EXIT;
    case SN_OPT_VERSION:
        printf("%s %s\n", c->prog, SN_VERSION);
        return SN_CLI_EXIT;
    case 'o':
        c->output = arg;
        return 1;
    case 't':
        SN_TRY(sn_cli_int("-t/--threads", arg, 1, 4096, &v));
        c->threads = (int)v;
        return 1;
    case SN_OPT_SEED:
        SN_TRY(sn_cli_int("--seed", arg, 0, INT64_MAX, &v));
        c->seed = (uint64_t)v;
        return 1;
    case 'q':
        c->level = SN_LOG_QUIET;
        return 1;
    case 'v':
        c->level = c->level < SN_LOG_INFO ? SN_LOG_INFO : SN_LOG_DEBUG;
        return 1;
    case SN_OPT_DEVICE:
        if (strcmp(arg, "auto") && strcmp(arg, "cpu") && strncmp(arg, "cuda", 4))
            return sn_cli_bad("invalid value '%s' for --device (expected auto, cpu, cuda or cuda:N)", arg);
        c->device = arg;
        return 1;
    case '?':
        if (optopt && optopt < 0x1000)
            return sn_cli_bad("unknown option '-%c'", optopt);
        return sn_cli_bad("unknown option '%s'", c->pargv[optind - 1]);
    case ':':
        return sn_cli_bad("option '%s' needs an argument", c->pargv[optind - 1]);
    }
    return 0;
}

void sn_cli_usage_common(FILE *fp, int with_device)
{
    fprintf(fp, "\nCommon options:\n"
                "  -o, --output FILE     output file, - for standard output [-]\n"
                "  -t, --threads INT     worker threads [all cores]\n"
                "      --seed INT        random seed [42]\n");
    if (with_device)
        fprintf(fp, "      --device DEV      auto, cpu, cuda or cuda:N [auto]\n");
    fprintf(fp, "  -q, --quiet           no progress or summary on stderr\n"
                "  -v, --verbose         more detail on stderr (repeat for debug)\n"
                "      --help            print this help and exit\n"
                "      --version         print the version and exit\n");
}

void sn_cli_start(sn_cli *c)
{
    sn_log_setup(c->prog, c->level);
    omp_set_num_threads(c->threads);
    openblas_set_num_threads(c->threads);
    (void)sn_file_thread_stacks(); /* without them a worker's overflow only skips the clean-up */
}

char *sn_cli_cmdline(const sn_cli *c)
{
    size_t n = 1;
    for (int i = 0; i < c->argc; i++)
        n += 4 * strlen(c->argv[i]) + 3;
    char *s = sn_malloc(n, "the command line"), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < c->argc; i++) {
        const char *a = c->argv[i];
        int plain = *a != 0;
        for (const char *q = a; *q && plain; q++)
            plain = strchr("/._-=,:+@%0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", *q) != NULL;
        if (i)
            *p++ = ' ';
        if (plain) {
            p = stpcpy(p, a);
            continue;
        }
        *p++ = '\'';
        for (; *a; a++)
            p = *a == '\'' ? stpcpy(p, "'\\''") : (*p++ = *a, p);
        *p++ = '\'';
    }
    *p = 0;
    return s;
}

/* Whether two files of a run may share a path: SN_OK or a usage error. */
static int clash(const sn_cli_file *a, const sn_cli_file *b)
{
    if (!strcmp(a->path, "-") && !strcmp(b->path, "-") && !a->out == !b->out)
        return a->out ? sn_cli_bad("%s and %s both write to standard output", a->opt, b->opt)
                      : sn_cli_bad("%s and %s both read standard input", a->opt, b->opt);
    if (a->out && b->out && sn_file_same_stream(a->path, b->path))
        return sn_cli_bad("%s and %s both write to one stream (%s%s%s)", a->opt, b->opt, a->path,
                          strcmp(a->path, b->path) ? " and " : "", strcmp(a->path, b->path) ? b->path : "");
    if ((!a->out && !b->out) || !sn_file_same(a->path, a->out, b->path, b->out))
        return SN_OK;
    if (a->out && b->out)
        return sn_cli_bad("%s and %s name the same file (%s)", a->opt, b->opt, b->path);
    if (a->pair && a->pair == b->pair)
        return SN_OK;
    const sn_cli_file *o = a->out ? a : b, *i = a->out ? b : a;
    return sn_cli_bad("%s %s would overwrite %s; give another file name", o->opt, o->path, i->opt);
}

int sn_cli_files(sn_cli *c, const sn_cli_file *f, int n)
{
    c->nouts = 0;
    for (int i = 0; i < n; i++) {
        if (f[i].path && !*f[i].path)
            return sn_cli_bad("%s: empty file name", f[i].opt);
        /* nobody types a matrix or an .h5ad (the main input, first): a
         * forgotten file name would otherwise wait on the keyboard; a gene
         * list may be typed */
        if (i == 0 && f[i].path && !f[i].out && !strcmp(f[i].path, "-") && isatty(STDIN_FILENO))
            return sn_cli_bad("no input: standard input is a terminal (give %s as a FILE, or pipe it in)",
                              f[i].opt);
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; f[i].path && j < n; j++)
            if (f[j].path)
                SN_TRY(clash(&f[i], &f[j]));
    for (int i = 0; i < n; i++)
        if (f[i].path && f[i].out && c->nouts < (int)(sizeof c->outs / sizeof *c->outs)) {
            c->out_binary[c->nouts] = f[i].out == SN_OUT_HDF5;
            c->outs[c->nouts++] = f[i].path;
        }
    return SN_OK;
}

/* Outputs that cannot be created fail now, not after the work. */
static int outputs_ok(const sn_cli *c)
{
    for (int i = 0; i < c->nouts; i++) {
        if (stdout_closed && strcmp(c->outs[i], "-") == 0)
            return sn_err(SN_EIO, "stdout: closed, so nothing can be written to it (give -o FILE)");
        SN_TRY(sn_out_check(c->outs[i], c->out_binary[i]));
    }
    return SN_OK;
}

int sn_cli_finish(sn_cli *c, int rc)
{
    if (rc >= 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = sn_err(SN_EIO, "stdout: write failed: %s", strerror(errno ? errno : EIO));
    if (rc >= 0 && fclose(stdout) != 0)
        rc = sn_err(SN_EIO, "stdout: write failed: %s", strerror(errno));
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", c->prog, sn_errmsg());
        if (rc == SN_EUSAGE)
            fprintf(stderr, "Try '%s --help' for more information.\n", c->prog);
        return rc == SN_EUSAGE ? 2 : 1;
    }
    if (c->level >= SN_LOG_WARN) {
        char *cmd = sn_cli_cmdline(c), b[32];
        fprintf(stderr, "%s: done; version %s; %s; real %.2f s; cpu %.2f s; peak RSS %s\n", c->prog,
                SN_VERSION, cmd ? cmd : c->prog, sn_time() - c->t0, sn_cputime() - c->c0,
                sn_fmt_bytes(sn_peak_rss(), b, sizeof b));
        free(cmd);
    }
    return 0;
}

int sn_cli_parse(sn_cli *c, const sn_cli_prog *p, void *opts, int argc, char **argv)
{
    int opt;
    while ((opt = getopt_long(argc, argv, p->shortopts, p->longopts, NULL)) != -1) {
        int r = sn_cli_common(c, opt, optarg);
        if (r == SN_CLI_EXIT)
            return r; /* help/version end the parse, whatever follows */
        if (r == 0)
            r = p->option(opts, opt, optarg);
        if (r < 0)
            return r;
    }
    return p->operands(c, opts, argc - optind, argv + optind);
}

int sn_cli_main(const sn_cli_prog *p, void *opts, int argc, char **argv)
{
    sn_cli c;
    sn_cli_init(&c, p->name, p->usage, argc, argv);
    int rc = sn_cli_parse(&c, p, opts, argc, argv);
    if (rc == SN_CLI_EXIT)
        return sn_cli_exit_early(c.prog);
    if (rc == SN_OK)
        rc = outputs_ok(&c);
    if (rc == SN_OK) {
        sn_cli_start(&c);
        rc = p->run(&c, opts);
    }
    return sn_cli_finish(&c, rc);
}

int sn_cli_exit_early(const char *prog)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        fprintf(stderr, "%s: stdout: write failed: %s\n", prog, strerror(errno ? errno : EIO));
        return 1;
    }
    return 0;
}
