/* Line-oriented reading of plain or gzip-compressed text ("-" = stdin),
 * with the line number kept for error messages, and splitting of
 * delimited lines (R/CSV quoting). */
#ifndef SCNET_TEXT_H
#define SCNET_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scnet/err.h"

typedef struct sn_text sn_text;

/* Open path ("-" = stdin); gzip is detected from the content, not the name. */
int sn_text_open(const char *path, sn_text **t) SN_WUR;
/* Next line without its newline (and without a trailing '\r').  Returns 1
 * with *line set (valid until the next call), 0 at end of input, or an error
 * (truncated or corrupt gzip, read error, a NUL byte, UTF-16 or other text
 * that is not UTF-8) whose message names the file and line. */
int sn_text_getline(sn_text *t, char **line, size_t *len) SN_WUR;
int64_t sn_text_lineno(const sn_text *t);
const char *sn_text_path(const sn_text *t);
void sn_text_close(sn_text *t);
/* Set the error message "PATH:LINE: <fmt>" and return code. */
int sn_text_err(sn_text *t, int code, const char *fmt, ...) SN_PRINTF(3, 4);

/* Split line in place on delim (',' '\t' ' '; ' ' = runs of blanks).
 * Double quotes around a field are removed ("" inside = one quote).  Up to
 * max field pointers are stored; returns the number of fields found (which
 * may exceed max), or SN_EFMT for an unterminated quote. */
int64_t sn_split(char *line, char delim, char **fields, int64_t max);
/* Offset of the first byte of s[0..len) that breaks UTF-8 (overlong forms
 * and surrogates included), or -1 when it is all valid. */
int64_t sn_utf8_invalid(const char *s, size_t len);
/* Guess the delimiter of a header or data line: tab, comma, else blank. */
char sn_guess_delim(const char *line);
/* Write s as one field of a TSV line: its tabs and line breaks become
 * spaces (a cell or gene name that holds one would break the table). */
void sn_tsv_field(FILE *fp, const char *s);

/* Number parsing: whole string must be a finite number / integer. */
/* strtod after leading blanks, refusing hexadecimal: *end == the first
 * non-blank character when no number starts there. */
double sn_strtod(const char *s, char **end);
int sn_parse_double(const char *s, double *out);
int sn_parse_long(const char *s, long long *out);
/* Number printing: the shortest text that reads back as the same value
 * ("0.1", "3", "1e-05", "nan", "inf"); returns buf (32 bytes suffice). */
char *sn_fmt_double(double v, char *buf, size_t len);
char *sn_fmt_float(float v, char *buf, size_t len);

#endif
