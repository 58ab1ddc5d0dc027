/* status.c - status names and error message formatting (see prefrec/status.h). */
#include "prefrec/status.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

const char *prefrec_status_str(prefrec_status s) {
    switch (s) {
        case PREFREC_OK:
            return "ok";
        case PREFREC_E_INVAL:
            return "invalid argument";
        case PREFREC_E_NOMEM:
            return "out of memory";
        case PREFREC_E_IO:
            return "i/o error";
        case PREFREC_E_PARSE:
            return "parse error";
        case PREFREC_E_FORMAT:
            return "bad format";
        case PREFREC_E_VERSION:
            return "unsupported version";
        case PREFREC_E_CHECKSUM:
            return "checksum mismatch";
        case PREFREC_E_NOTFOUND:
            return "not found";
        case PREFREC_E_RANGE:
            return "out of range";
        case PREFREC_E_EMPTY:
            return "empty";
        case PREFREC_E_DENIED:
            return "cannot open";
        case PREFREC_E_STALE:
            return "other export";
    }
    return "unknown status";
}

prefrec_status prefrec_error_vset(prefrec_error *err, prefrec_status s, const char *fmt,
                                  va_list ap) {
    if (!err) return s;
    err->status = s;
    if (!fmt) {
        snprintf(err->msg, sizeof err->msg, "%s", prefrec_status_str(s));
        return s;
    }
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* a message echoing long text (a customer code, a product name) is cut on a character, so
     * the JSON error carrying it stays valid UTF-8 */
    if (n >= (int)sizeof err->msg) err->msg[prefrec_utf8_cut(err->msg, sizeof err->msg - 1)] = '\0';
    return s;
}

prefrec_status prefrec_error_set(prefrec_error *err, prefrec_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    prefrec_error_vset(err, s, fmt, ap);
    va_end(ap);
    return s;
}

void prefrec_error_clear(prefrec_error *err) {
    if (!err) return;
    err->status = PREFREC_OK;
    err->msg[0] = '\0';
}
