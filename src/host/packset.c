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

/* The *.pack file names of directory path in name order (caller frees each and *names):
 * shards 0 = every pack but the customer shards "*.cust.*", 1 = the shards only. */
static prefrec_status list_packs(const char *path, int shards, char ***names, size_t *n_names,
                                 prefrec_error *err) {
    *names = NULL;
    *n_names = 0;
    DIR *d = opendir(path);
    if (!d)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open directory: %s", path,
                                 strerror(errno));
    char **names_ = NULL;
    size_t n = 0, cap = 0;
    prefrec_status s = PREFREC_OK;
    struct dirent *de;
    while (!s && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".pack")) continue;
        if (!strstr(de->d_name, ".cust.") != !shards) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = realloc(names_, nc * sizeof *nn);
            if (!nn) {
                s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
                break;
            }
            names_ = nn;
            cap = nc;
        }
        if (!(names_[n] = strdup(de->d_name)))
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (names_) qsort(names_, n, sizeof *names_, cmp_str);
    *names = names_;
    *n_names = n;
    return s;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* "dir/name" in a new string, or NULL when memory runs out. */
static char *join(const char *dir, const char *name) {
    size_t need = strlen(dir) + strlen(name) + 2;
    char *full = malloc(need);
    if (full) snprintf(full, need, "%s/%s", dir, name);
    return full;
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
    char **names;
    size_t n;
    prefrec_status s = list_packs(path, 0, &names, &n, err);
    if (!s && !n) s = prefrec_error_set(err, PREFREC_E_NOTFOUND, "%s: no .pack files", path);
    for (size_t i = 0; !s && i < n; i++) {
        char *full = join(path, names[i]);
        s = full ? add_one(ps, full, NULL, err)
                 : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        free(full);
    }
    free_names(names, n);
    return s;
}

/* One shard at path: an engine over the item pack of its affiliate, or skipped (no such pack). */
static prefrec_status add_shard(prefrec_packset *ps, const char *path, prefrec_error *err) {
    prefrec_packset_shard sh = {0};
    prefrec_status s = open_pack(path, &sh.bytes, &sh.pack, err);
    if (s) return s;
    const char *aff = prefrec_pack_manifest_str(sh.pack, "affiliate");
    size_t owner = ps->n;
    for (size_t j = 0; aff && j < ps->n; j++)
        if (!strcmp(prefrec_engine_affiliate(ps->engines[j]), aff)) owner = j;
    if (owner == ps->n) { /* not a pack of this set: not an error */
        prefrec_pack_free(sh.pack);
        free(sh.bytes);
        return PREFREC_OK;
    }
    prefrec_packset_shard *grown = realloc(ps->shards, (ps->n_shards + 1) * sizeof *grown);
    if (!grown) s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (grown) ps->shards = grown;
    if (!s && (s = prefrec_engine_new(ps->packs[owner], sh.pack, &sh.engine, err)))
        s = about(path, s, err);
    if (s) {
        prefrec_pack_free(sh.pack);
        free(sh.bytes);
        return s;
    }
    sh.owner = owner;
    ps->shards[ps->n_shards++] = sh;
    return PREFREC_OK;
}

prefrec_status prefrec_packset_add_shards(prefrec_packset *ps, const char *dir,
                                          prefrec_error *err) {
    char **names;
    size_t n;
    prefrec_status s = list_packs(dir, 1, &names, &n, err);
    for (size_t i = 0; !s && i < n; i++) {
        char *full = join(dir, names[i]);
        s = full ? add_shard(ps, full, err)
                 : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        free(full);
    }
    free_names(names, n);
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
    for (size_t i = 0; i < ps->n_shards; i++) {
        prefrec_engine_free(ps->shards[i].engine);
        prefrec_pack_free(ps->shards[i].pack);
        free(ps->shards[i].bytes);
    }
    free(ps->shards);
    memset(ps, 0, sizeof *ps);
}
