/* scnet-propagate's options (see fuzz_cli.h). */
#define main scnet_propagate_main
#include "../../tools/scnet-propagate.c"
#undef main

#define FZ_PROG "scnet-propagate"
#define FZ_DEFAULT(o) opts_default(o)
#include "fuzz_cli.h"
