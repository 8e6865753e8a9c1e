/* String → int64 hash map (open addressing).  Keys are borrowed: the caller
 * keeps them alive while the map is used. */
#ifndef SCNET_STRMAP_H
#define SCNET_STRMAP_H

#include <stdint.h>

#include "scnet/err.h"

typedef struct {
    const char **keys;
    int64_t *vals;
    uint64_t *hash; /* each key's sn_hash_str, compared before the strings */
    uint64_t cap, size;
} sn_strmap;

int sn_strmap_init(sn_strmap *m, int64_t expected) SN_WUR;
void sn_strmap_free(sn_strmap *m);
/* Insert key → val.  Returns 1 if inserted, 0 if the key was present (its
 * value is left unchanged and stored in *old when old is non-NULL), or an
 * error code. */
int sn_strmap_put(sn_strmap *m, const char *key, int64_t val, int64_t *old) SN_WUR;
/* Insert or overwrite key → val. */
int sn_strmap_set(sn_strmap *m, const char *key, int64_t val) SN_WUR;
/* Value for key, or -1 when absent. */
int64_t sn_strmap_get(const sn_strmap *m, const char *key);
/* Initialise m as labels[i] → i for n labels, a label given twice keeping
 * its first row (where lookups by name lead).  *ndup: the rows whose label
 * repeats an earlier one; *first: the first of them, or -1. */
int sn_strmap_index(sn_strmap *m, char *const *labels, int64_t n, int64_t *ndup, int64_t *first) SN_WUR;
uint64_t sn_hash_str(const char *s);

#endif
