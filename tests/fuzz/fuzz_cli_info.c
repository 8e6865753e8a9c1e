/* scnet-info's options (see fuzz_cli.h). */
#define main scnet_info_main
#include "../../tools/scnet-info.c"
#undef main

#define FZ_PROG "scnet-info"
#define FZ_OPTS info_opts
#define FZ_DEFAULT(o) memset((o), 0, sizeof *(o))
#include "fuzz_cli.h"
