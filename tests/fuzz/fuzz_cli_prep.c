/* scnet-prep's options (see fuzz_cli.h). */
#define main scnet_prep_main
#include "../../tools/scnet-prep.c"
#undef main

#define FZ_PROG "scnet-prep"
#define FZ_DEFAULT(o) opts_default(o)
#include "fuzz_cli.h"
