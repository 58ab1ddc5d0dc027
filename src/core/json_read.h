/* json_read.h - JSON text in, strictly (internal; the core's request parser and the native
 * config and mapping readers share it): one value and nothing after it but white space. */
#ifndef PREFREC_JSON_READ_H
#define PREFREC_JSON_READ_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* text[0..len) as one JSON value (caller deletes it), or NULL with *at set to the byte offset
 * where it stops being JSON: bad syntax, or text after the value (a second object, a stray
 * brace), which cJSON alone would ignore. */
cJSON *prefrec_json_parse_strict(const char *text, size_t len, size_t *at);

#endif
