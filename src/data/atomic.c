/* atomic.c - temp file + fsync + rename (see prefrec/native/atomic.h). */
#define _POSIX_C_SOURCE 200809L
#include "prefrec/native/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(prefrec_atomic *a) {
    free(a->path);
    free(a->tmp_path);
    a->path = a->tmp_path = NULL;
    a->f = NULL;
}

prefrec_status prefrec_atomic_open(prefrec_atomic *a, const char *path, prefrec_error *err) {
    memset(a, 0, sizeof *a);
    size_t n = strlen(path);
    a->path = malloc(n + 1);
    a->tmp_path = malloc(n + 32);
    if (!a->path || !a->tmp_path) {
        release(a);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    }
    memcpy(a->path, path, n + 1);
    snprintf(a->tmp_path, n + 32, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp_path, "wb");
    if (!a->f) {
        int e = errno;
        prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create: %s", a->tmp_path, strerror(e));
        release(a);
        return PREFREC_E_IO;
    }
    return PREFREC_OK;
}

void prefrec_atomic_sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1;
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

prefrec_status prefrec_atomic_commit(prefrec_atomic *a, prefrec_error *err) {
    if (!a->f) return prefrec_error_set(err, PREFREC_E_INVAL, "atomic write: not open");
    int bad = ferror(a->f);
    int e = bad ? EIO : 0;
    if (!bad && fflush(a->f) != 0) bad = 1, e = errno;
    if (!bad && fsync(fileno(a->f)) != 0) bad = 1, e = errno;
    if (fclose(a->f) != 0 && !bad) bad = 1, e = errno;
    a->f = NULL;
    if (!bad && rename(a->tmp_path, a->path) != 0) bad = 1, e = errno;
    if (bad) {
        prefrec_error_set(err, PREFREC_E_IO, "%s: write failed: %s (previous file left untouched)",
                          a->path, strerror(e));
        unlink(a->tmp_path);
        release(a);
        return PREFREC_E_IO;
    }
    prefrec_atomic_sync_dir(a->path);
    release(a);
    return PREFREC_OK;
}

void prefrec_atomic_abort(prefrec_atomic *a) {
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp_path);
    }
    release(a);
}

prefrec_status prefrec_atomic_write_file(const char *path, const void *data, size_t len,
                                         prefrec_error *err) {
    prefrec_atomic a;
    prefrec_status s = prefrec_atomic_open(&a, path, err);
    if (s) return s;
    if (len && fwrite(data, 1, len, a.f) != len) {
        int e = errno;
        prefrec_atomic_abort(&a);
        return prefrec_error_set(err, PREFREC_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return prefrec_atomic_commit(&a, err);
}
