/* scnet-coembed's options (see fuzz_cli.h). */
#define main scnet_coembed_main
#include "../../tools/scnet-coembed.c"
#undef main

#define FZ_PROG "scnet-coembed"
#define FZ_DEFAULT(o) opts_default(o)
#include "fuzz_cli.h"
