/* Command-line conventions shared by every program: the common options,
 * their help text, usage errors (exit 2), the closing line on stderr and
 * error reporting (exit 1).  A program describes itself in an sn_cli_prog
 * (its option table with SN_CLI_LONGOPTS spliced in, and its steps) and
 * hands main() to sn_cli_main(), so every program parses, starts and ends
 * the same way. */
#ifndef SCNET_CLI_H
#define SCNET_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "scnet/err.h"

typedef struct sn_cli_s {
    const char *prog;
    void (*usage)(FILE *fp);
    const char *output; /* -o [-] */
    int threads;        /* -t [all cores] */
    uint64_t seed;      /* --seed [42] */
    int level;          /* SN_LOG_* from -q / -v */
    const char *device; /* --device [auto] */
    int argc;
    char **argv;  /* as typed (for the history) */
    char **pargv; /* the program's argv, which getopt permutes */
    const char *outs[8]; /* output paths, checked before the run */
    unsigned char out_binary[8]; /* HDF5 outputs: never to a terminal */
    int nouts;
    double t0, c0;
} sn_cli;

enum {
    SN_OPT_HELP = 0x1000,
    SN_OPT_VERSION,
    SN_OPT_SEED,
    SN_OPT_DEVICE,
    SN_OPT_PROG = 0x1100 /* programs number their long-only options from here */
};

/* Returned by sn_cli_common after --help/--version: exit 0 now. */
#define SN_CLI_EXIT 2

#define SN_CLI_SHORTOPTS ":o:t:qv" /* leading colon: getopt reports a missing argument apart */
#define SN_CLI_LONGOPTS                                                              \
    {"help", no_argument, NULL, SN_OPT_HELP}, {"version", no_argument, NULL, SN_OPT_VERSION}, \
    {"output", required_argument, NULL, 'o'}, {"threads", required_argument, NULL, 't'},      \
    {"seed", required_argument, NULL, SN_OPT_SEED}, {"quiet", no_argument, NULL, 'q'},        \
    {"verbose", no_argument, NULL, 'v'}
#define SN_CLI_DEVICEOPT {"device", required_argument, NULL, SN_OPT_DEVICE}

void sn_cli_init(sn_cli *c, const char *prog, void (*usage)(FILE *), int argc, char **argv);
/* 1: handled; 0: not a common option; SN_CLI_EXIT: help/version printed;
 * SN_EUSAGE: bad value or unknown option (message set). */
int sn_cli_common(sn_cli *c, int opt, const char *arg);
/* Print the common options' help lines (with --device when asked). */
void sn_cli_usage_common(FILE *fp, int with_device);
/* Apply -t, -q/-v; call once parsing is done. */
void sn_cli_start(sn_cli *c);
/* Record a usage error message; returns SN_EUSAGE. */
int sn_cli_bad(const char *fmt, ...) SN_PRINTF(1, 2);
/* End the program: rc < 0 prints "prog: message" (and a --help hint for
 * usage errors) and returns 1 or 2; rc == 0 closes stdout, checks for
 * write errors and prints the closing line.  Returns the exit status. */
int sn_cli_finish(sn_cli *c, int rc);
/* Exit status after --help/--version: 0, or 1 if stdout failed. */
int sn_cli_exit_early(const char *prog);
/* A file a run reads or writes, named as the user gave it ("-o",
 * "--tsv", "the input"). */
typedef struct {
    const char *path; /* NULL: not given */
    const char *opt;
    int out;  /* written by the run: SN_OUT_TEXT or SN_OUT_HDF5 (0: read) */
    int pair; /* nonzero: an output may replace the input of its pair,
                 which is read before the output is renamed over it */
} sn_cli_file;

enum { SN_OUT_TEXT = 1, SN_OUT_HDF5 = 2 };

/* Check a run's files once its options are read: an empty name, an
 * output that would overwrite an input or another output, or two outputs
 * on standard output is a usage error.  The outputs are kept in c, and
 * sn_cli_main checks, before the run, that each can be created and that
 * no HDF5 output goes to a terminal. */
int sn_cli_files(sn_cli *c, const sn_cli_file *f, int n) SN_WUR;
/* The full command line, shell-quoted; malloc'd. */
char *sn_cli_cmdline(const sn_cli *c);

/* A program: its options and the steps sn_cli_main runs on its options
 * struct (opts below, filled with the defaults beforehand). */
typedef struct sn_cli_prog {
    const char *name;
    void (*usage)(FILE *fp);
    const struct option *longopts; /* its own and SN_CLI_LONGOPTS, then a zero entry */
    const char *shortopts;         /* SN_CLI_SHORTOPTS followed by the program's own */
    /* An option that is not a common one: >= 0 when taken, < 0 (message
     * set) for a bad value. */
    int (*option)(void *opts, int opt, const char *arg);
    /* Once the options are read: the n operands, and checks across options. */
    int (*operands)(sn_cli *c, void *opts, int n, char **args);
    int (*run)(sn_cli *c, void *opts);
} sn_cli_prog;

/* Read argv: each option through sn_cli_common, then p->option; then
 * p->operands.  SN_OK, SN_CLI_EXIT (help/version printed) or a negative
 * code.  getopt's state is global: a second call needs optind = 0. */
int sn_cli_parse(sn_cli *c, const sn_cli_prog *p, void *opts, int argc, char **argv);
/* The whole program: init, parse, start, run, finish.  Returns the exit
 * status for main() to return. */
int sn_cli_main(const sn_cli_prog *p, void *opts, int argc, char **argv);

/* Option values: parse or return SN_EUSAGE naming the option. */
int sn_cli_int(const char *opt, const char *arg, long long lo, long long hi, long long *out) SN_WUR;
int sn_cli_double(const char *opt, const char *arg, double lo, double hi, double *out) SN_WUR;
/* One of a fixed list of words; returns its index. */
int sn_cli_choice(const char *opt, const char *arg, const char *const *words, int *out) SN_WUR;

#endif
