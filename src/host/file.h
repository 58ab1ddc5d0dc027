/* file.h - read a whole file or stream into memory (native and WASI programs; the portable core
 * takes bytes and never opens a file).
 *
 *   char *buf; size_t len;
 *   if (prefrec_file_read("A01.pack", PREFREC_PACK_FILE_MAX, &buf, &len, &err)) ...;
 *   ... free(buf);
 *
 * Errors name the file: "PATH: no such file or directory", "PATH: larger than N bytes",
 * "PATH: read error", out of memory. */
#ifndef PREFREC_HOST_FILE_H
#define PREFREC_HOST_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_PACK_FILE_MAX ((size_t)1 << 31)

/* The whole stream f (named name in messages) in a new NUL-terminated buffer of *len bytes
 * (caller frees with free()); PREFREC_E_RANGE past max bytes. */
prefrec_status prefrec_stream_read(FILE *f, const char *name, size_t max, char **out, size_t *len,
                                   prefrec_error *err);
/* The error for path after a failed open or stat, from errno: "PATH: no such file or
 * directory" (in WASI with a hint about the directories the runtime grants). */
prefrec_status prefrec_file_open_error(const char *path, prefrec_error *err);
/* The same for the file at path. */
prefrec_status prefrec_file_read(const char *path, size_t max, char **out, size_t *len,
                                 prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
