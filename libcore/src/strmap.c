#include "scnet/strmap.h"
#include "scnet/mem.h"

#include <stdlib.h>
#include <string.h>

uint64_t sn_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

int sn_strmap_init(sn_strmap *m, int64_t expected)
{
    uint64_t cap = 16;
    while (cap < (uint64_t)(expected > 0 ? expected : 1) * 2)
        cap <<= 1;
    m->cap = cap;
    m->size = 0;
    m->keys = sn_calloc(cap, sizeof *m->keys, "a string table");
    m->vals = sn_malloc(sn_mul_size(cap, sizeof *m->vals), "a string table");
    m->hash = sn_malloc(sn_mul_size(cap, sizeof *m->hash), "a string table");
    if (!m->keys || !m->vals || !m->hash) {
        sn_strmap_free(m);
        return SN_ENOMEM;
    }
    return SN_OK;
}

void sn_strmap_free(sn_strmap *m)
{
    free(m->keys);
    free(m->vals);
    free(m->hash);
    m->keys = NULL;
    m->vals = NULL;
    m->hash = NULL;
    m->cap = m->size = 0;
}

/* The slot of key (hash h): its own, or the empty one where it goes.  The
 * stored hashes spare a string comparison with every other key met on
 * the way (and a cache miss on its string). */
static uint64_t slot(const sn_strmap *m, const char *key, uint64_t h)
{
    uint64_t i = h & (m->cap - 1);
    while (m->keys[i] && (m->hash[i] != h || strcmp(m->keys[i], key) != 0))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int grow(sn_strmap *m)
{
    sn_strmap n;
    SN_TRY(sn_strmap_init(&n, (int64_t)m->cap));
    for (uint64_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            uint64_t s = m->hash[i] & (n.cap - 1);
            while (n.keys[s]) /* the keys are distinct: only an empty slot will do */
                s = (s + 1) & (n.cap - 1);
            n.keys[s] = m->keys[i];
            n.vals[s] = m->vals[i];
            n.hash[s] = m->hash[i];
        }
    n.size = m->size;
    sn_strmap_free(m);
    *m = n;
    return SN_OK;
}

int sn_strmap_put(sn_strmap *m, const char *key, int64_t val, int64_t *old)
{
    if ((m->size + 1) * 2 > m->cap)
        SN_TRY(grow(m));
    uint64_t h = sn_hash_str(key), s = slot(m, key, h);
    if (m->keys[s]) {
        if (old)
            *old = m->vals[s];
        return 0;
    }
    m->keys[s] = key;
    m->vals[s] = val;
    m->hash[s] = h;
    m->size++;
    return 1;
}

int sn_strmap_set(sn_strmap *m, const char *key, int64_t val)
{
    int r = sn_strmap_put(m, key, val, NULL);
    if (r == 0)
        m->vals[slot(m, key, sn_hash_str(key))] = val;
    return r < 0 ? r : SN_OK;
}

int sn_strmap_index(sn_strmap *m, char *const *labels, int64_t n, int64_t *ndup, int64_t *first)
{
    *ndup = 0;
    *first = -1;
    SN_TRY(sn_strmap_init(m, n));
    for (int64_t i = 0; i < n; i++) {
        int r = sn_strmap_put(m, labels[i], i, NULL);
        if (r < 0) {
            sn_strmap_free(m);
            return r;
        }
        if (r == 0 && (*ndup)++ == 0)
            *first = i;
    }
    return SN_OK;
}

int64_t sn_strmap_get(const sn_strmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    uint64_t s = slot(m, key, sn_hash_str(key));
    return m->keys[s] ? m->vals[s] : -1;
}
