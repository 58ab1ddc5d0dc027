/* packset.c - packs from files and directories for the serving commands (packset.h). */
#include "packset.h"

#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* err's message prefixed with the file it is about. */
static prefrec_status about(const char *path, prefrec_status s, prefrec_error *err) {
    char msg[PREFREC_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return prefrec_error_set(err, s, "%s: %s", path, msg);
}

static prefrec_status open_pack(const char *path, void **bytes, prefrec_pack **pk,
                                prefrec_error *err) {
    char *buf;
    size_t len;
    prefrec_status s = prefrec_file_read(path, PREFREC_PACK_FILE_MAX, &buf, &len, err);
    if (s) return s;
    if ((s = prefrec_pack_open(buf, len, pk, err))) {
        free(buf);
        return about(path, s, err);
    }
    *bytes = buf;
    return PREFREC_OK;
}

static prefrec_status grow(prefrec_packset *ps) {
    size_t m = ps->n + 1;
    prefrec_engine **e = realloc(ps->engines, m * sizeof *e);
    if (e) ps->engines = e;
    prefrec_pack **p = realloc(ps->packs, m * sizeof *p);
    if (p) ps->packs = p;
    void **b = realloc(ps->bytes, m * sizeof *b);
    if (b) ps->bytes = b;
    return e && p && b ? PREFREC_OK : PREFREC_E_NOMEM;
}

static prefrec_status add_one(prefrec_packset *ps, const char *path, const char *shard,
                              prefrec_error *err) {
    if (ps->n >= PREFREC_PACKSET_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE, "%s: at most %d packs", path,
                                 PREFREC_PACKSET_MAX);
    if (grow(ps)) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    size_t i = ps->n;
    void *bytes = NULL;
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_status s = open_pack(path, &bytes, &pk, err);
    if (!s && shard) s = open_pack(shard, &ps->shard_bytes, &ps->shard, err);
    if (!s && (s = prefrec_engine_new(pk, ps->shard, &e, err))) s = about(path, s, err);
    for (size_t j = 0; !s && j < i; j++)
        if (!strcmp(prefrec_engine_affiliate(ps->engines[j]), prefrec_engine_affiliate(e)))
            s = prefrec_error_set(err, PREFREC_E_INVAL,
                                  "%s: a pack for affiliate '%s' is already loaded", path,
                                  prefrec_engine_affiliate(e));
    if (s) {
        prefrec_engine_free(e);
        prefrec_pack_free(pk);
        free(bytes);
        return s;
    }
    ps->engines[i] = e;
    ps->packs[i] = pk;
    ps->bytes[i] = bytes;
    ps->n++;
    return PREFREC_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

prefrec_status prefrec_packset_add(prefrec_packset *ps, const char *path, const char *shard,
                                   prefrec_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) return prefrec_file_open_error(path, err);
    if (!S_ISDIR(st.st_mode)) return add_one(ps, path, shard, err);
    if (shard)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "%s: a customer shard goes with a single item pack "
                                 "file, not a directory",
                                 path);
    DIR *d = opendir(path);
    if (!d)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open directory: %s", path,
                                 strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    prefrec_status s = PREFREC_OK;
    struct dirent *de;
    while (!s && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".pack") || strstr(de->d_name, ".cust.")) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
                break;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strdup(de->d_name)))
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (names) qsort(names, n, sizeof *names, cmp_str);
    if (!s && !n) s = prefrec_error_set(err, PREFREC_E_NOTFOUND, "%s: no .pack files", path);
    for (size_t i = 0; i < n; i++) {
        if (!s) {
            size_t need = strlen(path) + strlen(names[i]) + 2;
            char *full = malloc(need);
            if (!full)
                s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
            else {
                snprintf(full, need, "%s/%s", path, names[i]);
                s = add_one(ps, full, NULL, err);
                free(full);
            }
        }
        free(names[i]);
    }
    free(names);
    return s;
}

void prefrec_packset_free(prefrec_packset *ps) {
    if (!ps) return;
    for (size_t i = 0; i < ps->n; i++) {
        prefrec_engine_free(ps->engines[i]);
        prefrec_pack_free(ps->packs[i]);
        free(ps->bytes[i]);
    }
    free(ps->engines);
    free(ps->packs);
    free(ps->bytes);
    prefrec_pack_free(ps->shard);
    free(ps->shard_bytes);
    memset(ps, 0, sizeof *ps);
}
