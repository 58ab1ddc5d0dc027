/* prefrec/native/atomic.h - write a file so readers see the old version or the whole new one.
 *
 *   prefrec_atomic a;
 *   if (prefrec_atomic_open(&a, "out.csv", &err)) return err.status;
 *   fprintf(a.f, ...);                                   // write through a.f
 *   if (prefrec_atomic_commit(&a, &err)) return err.status;   // or prefrec_atomic_abort(&a)
 *
 * Writes go to "<path>.tmp.<pid>" in the same directory; commit checks every write, flushes,
 * fsyncs, closes and renames over path (atomic on POSIX), then fsyncs the directory. On any
 * failure the temp file is removed and path is untouched. Native only. */
#ifndef PREFREC_ATOMIC_H
#define PREFREC_ATOMIC_H

#include <stdio.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_atomic {
    FILE *f; /* write here between open and commit/abort */
    char *path; /* final path (owned) */
    char *tmp_path; /* temporary path (owned) */
} prefrec_atomic;

prefrec_status prefrec_atomic_open(prefrec_atomic *a, const char *path, prefrec_error *err);
/* Finish: on success path holds the new bytes. Frees a's memory either way. */
prefrec_status prefrec_atomic_commit(prefrec_atomic *a, prefrec_error *err);
/* Drop the temporary file; path is untouched. Safe after a failed commit (no-op). */
void prefrec_atomic_abort(prefrec_atomic *a);
/* fsync the directory holding path, so that a rename into it survives a crash (commit does;
 * for a file renamed by other means, e.g. train's pack written by every rank). */
void prefrec_atomic_sync_dir(const char *path);

/* Convenience: atomically replace path with len bytes of data. */
prefrec_status prefrec_atomic_write_file(const char *path, const void *data, size_t len,
                                         prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
