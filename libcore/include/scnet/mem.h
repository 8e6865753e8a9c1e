/* Allocation that reports what was asked for.  On failure these set the
 * error message ("out of memory: 12.3 GiB needed for the gene weights") and
 * return NULL, so an out-of-memory condition becomes one clear line. */
#ifndef SCNET_MEM_H
#define SCNET_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "scnet/err.h"

/* 64-byte aligned; release with free(). */
void *sn_malloc(size_t n, const char *what);
void *sn_calloc(size_t n, size_t size, const char *what);
void *sn_realloc(void *p, size_t n, const char *what);
char *sn_strdup(const char *s);
/* Human-readable byte count ("1.5 GiB") into buf; returns buf. */
char *sn_fmt_bytes(double bytes, char *buf, size_t len);
/* n * size, or SIZE_MAX on overflow (so the allocation fails cleanly). */
size_t sn_mul_size(size_t n, size_t size);
/* Free an array of n strings and the array itself. */
void sn_free_strings(char **s, int64_t n);

/* Make room for need elements of elsz bytes in *p (capacity *cap,
 * doubled): 0 or SN_ENOMEM. */
int sn_grow(void **p, int64_t *cap, int64_t need, size_t elsz, const char *what) SN_WUR;

/* A growing array of malloc'd strings. */
typedef struct {
    char **v;
    int64_t n, cap;
} sn_strs;

/* Append a copy of str: 0 or SN_ENOMEM. */
int sn_strs_push(sn_strs *s, const char *str) SN_WUR;
void sn_strs_free(sn_strs *s);
/* Hand the strings over (the array is shrunk to n, at least one slot). */
char **sn_strs_take(sn_strs *s);

#endif
