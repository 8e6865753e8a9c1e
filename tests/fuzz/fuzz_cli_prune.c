/* scnet-prune's options (see fuzz_cli.h). */
#define main scnet_prune_main
#include "../../tools/scnet-prune.c"
#undef main

#define FZ_PROG "scnet-prune"
#define FZ_DEFAULT(o) opts_default(o)
#include "fuzz_cli.h"
