/* scnet-train's options (see fuzz_cli.h). */
#define main scnet_train_main
#include "../../tools/scnet-train.c"
#undef main

#define FZ_PROG "scnet-train"
#define FZ_DEFAULT(o) opts_default(o)
#include "fuzz_cli.h"
