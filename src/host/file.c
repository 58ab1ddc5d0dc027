/* file.c - whole files and streams into memory, for every native and WASI program of prefrec
 * (file.h): packs, requests, configs, mappings. */
#define _POSIX_C_SOURCE 200809L /* nanosleep (the WASI build) */
#include "file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

prefrec_status prefrec_stream_read(FILE *f, const char *name, size_t max, char **out, size_t *len,
                                   prefrec_error *err) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory reading %s", name);
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                return prefrec_error_set(err, PREFREC_E_RANGE, "%s: larger than %zu bytes", name,
                                         max);
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory reading %s", name);
            }
            buf = nb;
        }
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0 && ferror(f) && (errno == EAGAIN || errno == EINTR)) {
            /* a runtime may hand the program a non-blocking pipe (node's WASI does for stdin):
             * no data yet is not an error; wait a little and read on */
            clearerr(f);
            struct timespec ts = {0, 1000000}; /* 1 ms */
            nanosleep(&ts, NULL);
            continue;
        }
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return prefrec_error_set(err, PREFREC_E_IO, "%s: read error", name);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return PREFREC_OK;
}

/* "PATH: no such file or directory" and the like, lower case as the rest of the messages. */
static prefrec_status open_error_(const char *path, const char *hint, prefrec_error *err) {
    int e = errno;
    if (e == ENOENT)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: no such file or directory%s", path, hint);
    return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open: %s%s", path, strerror(e), hint);
}

#ifdef __wasi__
#define WASI_HINT \
    " (or outside the directories the WASI runtime grants; under scripts/wasi-run.mjs give " \
    "absolute paths)"
#else
#define WASI_HINT ""
#endif

prefrec_status prefrec_file_read(const char *path, size_t max, char **out, size_t *len,
                                 prefrec_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return prefrec_file_open_error(path, err);
    prefrec_status s = prefrec_stream_read(f, path, max, out, len, err);
    fclose(f);
    return s;
}

prefrec_status prefrec_file_open_error(const char *path, prefrec_error *err) {
    return open_error_(path, WASI_HINT, err);
}
