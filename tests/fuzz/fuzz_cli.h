/* Option parsing of one program, included after the program's source
 * (with its main renamed) so the harness parses with the program's own
 * static opts_default() and sn_cli_prog (program).  The input is split at
 * NUL bytes into the arguments.  Parsing may only succeed, end early (--help, --version) or
 * give a usage error with a message: nothing else, no crash. */
#include <fcntl.h>

#include "fuzz.h"

#ifndef FZ_OPTS
#define FZ_OPTS opts
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* --help and --version print; keep the fuzzer's output readable. */
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_ARGS = 64 };
    char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = 0;
    int argc = 0;
    argv[argc++] = (char *)FZ_PROG;
    for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    FZ_OPTS o;
    sn_cli cli;
    FZ_DEFAULT(&o);
    sn_cli_init(&cli, FZ_PROG, program.usage, argc, argv);
    sn_log_setup(FZ_PROG, SN_LOG_QUIET);
    optind = 0; /* a fresh getopt scan for each input */
    sn_err_clear();
    int rc = sn_cli_parse(&cli, &program, &o, argc, argv);
    if (rc != SN_OK && rc != SN_CLI_EXIT && rc != SN_EUSAGE) {
        fprintf(stderr, "parse returned %d: %s\n", rc, sn_errmsg());
        abort();
    }
    fz_check_rc(rc, NULL);
    free(buf);
    return 0;
}
