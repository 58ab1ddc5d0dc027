/* cli_engines.c - read packs into memory and build engines over them. */
#include "cli_engines.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prefrec/native/pack_write.h"

static prefrec_status open_pack(const char *path, void **bytes, prefrec_pack **pk, prefrec_error *err) {
    size_t len;
    prefrec_status s = prefrec_file_read(path, bytes, &len, err);
    if (s) return s;
    s = prefrec_pack_open(*bytes, len, pk, err);
    if (s) {
        char msg[PREFREC_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        prefrec_error_set(err, s, "%s: %s", path, msg);
    }
    return s;
}

static prefrec_status add_one(cli_engines *ce, const char *path, const char *shard, prefrec_error *err) {
    if (ce->n >= CLI_MAX_PACKS)
        return prefrec_error_set(err, PREFREC_E_RANGE, "at most %d packs", CLI_MAX_PACKS);
    size_t i = ce->n;
    prefrec_status s = open_pack(path, &ce->bytes[i], &ce->packs[i], err);
    if (!s && shard) s = open_pack(shard, &ce->shard_bytes, &ce->shard, err);
    if (!s) {
        s = prefrec_engine_new(ce->packs[i], ce->shard, &ce->engines[i], err);
        if (s) {
            char msg[PREFREC_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            prefrec_error_set(err, s, "%s: %s", path, msg);
        }
    }
    if (s) {
        prefrec_pack_free(ce->packs[i]);
        free(ce->bytes[i]);
        ce->packs[i] = NULL;
        ce->bytes[i] = NULL;
        return s;
    }
    ce->n++;
    return PREFREC_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

prefrec_status cli_engines_add(cli_engines *ce, const char *path, const char *shard, prefrec_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) return prefrec_error_set(err, PREFREC_E_IO, "%s: no such file or directory", path);
    if (!S_ISDIR(st.st_mode)) return add_one(ce, path, shard, err);
    DIR *d = opendir(path);
    if (!d) return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open directory", path);
    char *names[CLI_MAX_PACKS];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < CLI_MAX_PACKS) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".pack") && !strstr(de->d_name, ".cust."))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    prefrec_status s = n ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOTFOUND, "%s: no .pack files", path);
    for (size_t i = 0; i < n; i++) {
        if (!s) {
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, names[i]);
            s = add_one(ce, full, NULL, err);
        }
        free(names[i]);
    }
    return s;
}

void cli_engines_free(cli_engines *ce) {
    for (size_t i = 0; i < ce->n; i++) {
        prefrec_engine_free(ce->engines[i]);
        prefrec_pack_free(ce->packs[i]);
        free(ce->bytes[i]);
    }
    prefrec_pack_free(ce->shard);
    free(ce->shard_bytes);
    memset(ce, 0, sizeof *ce);
}
