/* prefrec/status.h - status codes and error messages shared by every module.
 *
 *   prefrec_error err = {0};
 *   if (prefrec_something(..., &err) != PREFREC_OK)
 *       fprintf(stderr, "prefrec: %s\n", err.msg);
 *
 * Every fallible function returns a prefrec_status (0 ok, negative on error) and,
 * when given a non-NULL prefrec_error *, fills it with a message naming what and
 * where (file:line:column for input data, offsets for packs). The struct is plain
 * data owned by the caller: no allocation, no globals, safe to use per thread. */
#ifndef PREFREC_STATUS_H
#define PREFREC_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PREFREC_OK = 0,
    PREFREC_E_INVAL = -1, /* bad argument or request (programmer or caller error) */
    PREFREC_E_NOMEM = -2, /* allocation failed */
    PREFREC_E_IO = -3, /* file could not be opened, read or written */
    PREFREC_E_PARSE = -4, /* malformed input text (CSV, JSON, dates) */
    PREFREC_E_FORMAT = -5, /* malformed binary data (model pack) */
    PREFREC_E_VERSION = -6, /* unsupported format version */
    PREFREC_E_CHECKSUM = -7, /* checksum mismatch */
    PREFREC_E_NOTFOUND = -8, /* unknown id, column, file or affiliate */
    PREFREC_E_RANGE = -9, /* value out of its allowed range */
    PREFREC_E_EMPTY = -10, /* nothing to work with (no rows, empty catalogue) */
    PREFREC_E_DENIED = -11, /* a sealed member record did not open: wrong secret or altered */
    PREFREC_E_STALE = -12 /* a member record of another export (an old or replayed record) */
} prefrec_status;

#define PREFREC_ERROR_MSG_MAX 512

typedef struct prefrec_error {
    prefrec_status status;
    char msg[PREFREC_ERROR_MSG_MAX];
} prefrec_error;

/* Short fixed English name of a status ("ok", "invalid argument", ...). Never NULL. */
const char *prefrec_status_str(prefrec_status s);

/* Record status s and a printf-style message in err (err may be NULL). Returns s,
 * so callers can write `return prefrec_error_set(err, PREFREC_E_PARSE, ...)`. */
prefrec_status prefrec_error_set(prefrec_error *err, prefrec_status s, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
prefrec_status prefrec_error_vset(prefrec_error *err, prefrec_status s, const char *fmt,
                                  va_list ap);

/* Clear err to PREFREC_OK and an empty message. err may be NULL. */
void prefrec_error_clear(prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
