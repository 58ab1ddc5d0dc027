/* utf8.h - the two UTF-8 helpers the core needs (internal to src/core, in utf8.c): the length
 * of a valid sequence, and where to cut text so that it does not end inside a character. Text
 * the core writes into fixed buffers (error messages, reasons) is cut with prefrec_utf8_cut,
 * so the JSON answers carrying it stay valid UTF-8. */
#ifndef PREFREC_CORE_UTF8_H
#define PREFREC_CORE_UTF8_H

#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at s[0..n), n >= 1; 0 if it is not one (overlong
 * forms, surrogates, code points above U+10FFFF, a bad or missing continuation byte). */
size_t prefrec_utf8_seq(const unsigned char *s, size_t n);

/* The length <= n at which to cut the text s[0..n) (cut at n by a full buffer) so that it does
 * not end with an incomplete UTF-8 sequence. */
size_t prefrec_utf8_cut(const char *s, size_t n);

#endif
