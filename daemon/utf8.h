/*
 * UTF-8 as JSON and our text fields need it: well-formed sequences only
 * (no overlongs, surrogates or code points past U+10FFFF).
 */
#ifndef STABILD_UTF8_H
#define STABILD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the sequence at p (1 for ASCII), or 0 when it is not valid. */
size_t utf8_len(const unsigned char *p, size_t left);
/* Whether the len bytes at s are valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

#endif
