/* model-ref on the float64 model (see model-ref.c). */
#define SN_REAL_F64 1
#include "model-ref.c"
