/* parts.c - a table given as a directory of part files (see dataset_internal.h): the purchase
 * file LPOINT_BIG_COMP_02_PDDE.csv may be a directory holding part-*.csv, as Spark and Hive
 * write a table (`prefrec gen --parts N` writes one, docs/mpi.md). The parts, in name order,
 * are one table: each has the same header, their rows follow one another; an empty file (0
 * bytes: no header, no rows) is no part. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_internal.h"

void prefrec_parts_free_(prefrec_parts_ *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) free(p->path[i]);
    free(p->path);
    free(p->size);
    memset(p, 0, sizeof *p);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A part's name: part-<anything>.csv. Names starting with '.' or '_' are bookkeeping
 * (_SUCCESS, .crc files) and skipped; anything else is refused (no file silently left out). */
static int is_part(const char *s) {
    size_t l = strlen(s);
    return l > 9 && !strncmp(s, "part-", 5) && !strcmp(s + l - 4, ".csv");
}

prefrec_status prefrec_parts_open_(prefrec_parts_ *p, const char *path, prefrec_error *err) {
    memset(p, 0, sizeof *p);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        p->path = malloc(sizeof *p->path);
        p->size = malloc(sizeof *p->size);
        if (!p->path || !p->size || !(p->path[0] = strdup(path))) goto nomem;
        p->n = 1;
        p->size[0] = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        p->total = p->size[0];
        return PREFREC_OK; /* a plain file (or a missing one: its open reports it) */
    }
    DIR *dir = opendir(path);
    if (!dir)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open the part directory: %s", path,
                                 strerror(errno));
    int cap = 0;
    prefrec_status st = PREFREC_OK;
    struct dirent *e;
    while (!st && (e = readdir(dir)) != NULL) {
        const char *s = e->d_name;
        if (s[0] == '.' || s[0] == '_') continue;
        if (!is_part(s)) {
            st = prefrec_error_set(err, PREFREC_E_INVAL,
                                   "%s/%s: not a part file (a part directory holds part-*.csv, "
                                   "and files starting with '.' or '_', which are ignored)",
                                   path, s);
            break;
        }
        if (p->n == cap) {
            cap = cap ? 2 * cap : 16;
            char **q = realloc(p->path, (size_t)cap * sizeof *q);
            if (!q) {
                st = PREFREC_E_NOMEM;
                break;
            }
            p->path = q;
        }
        size_t l = strlen(path) + strlen(s) + 2;
        if (!(p->path[p->n] = malloc(l))) {
            st = PREFREC_E_NOMEM;
            break;
        }
        snprintf(p->path[p->n++], l, "%s/%s", path, s);
    }
    closedir(dir);
    if (st == PREFREC_E_NOMEM) goto nomem;
    if (st) {
        prefrec_parts_free_(p);
        return st;
    }
    if (p->n == 0) {
        prefrec_parts_free_(p);
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "%s: a part directory without part-*.csv files", path);
    }
    qsort(p->path, (size_t)p->n, sizeof *p->path, cmp_str);
    p->size = malloc((size_t)p->n * sizeof *p->size);
    if (!p->size) goto nomem;
    p->dir = 1;
    int kept = 0;
    for (int i = 0; i < p->n; i++) {
        if (stat(p->path[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            prefrec_error_set(err, PREFREC_E_IO, "%s: not a readable file", p->path[i]);
            prefrec_parts_free_(p);
            return PREFREC_E_IO;
        }
        if (sb.st_size == 0) { /* no header, no rows (Spark writes such for empty partitions) */
            free(p->path[i]);
            continue;
        }
        p->path[kept] = p->path[i];
        p->size[kept++] = (uint64_t)sb.st_size;
        p->total += (uint64_t)sb.st_size;
    }
    p->n = kept;
    if (kept == 0) {
        prefrec_parts_free_(p);
        return prefrec_error_set(err, PREFREC_E_EMPTY, "%s: every part file is empty (0 bytes)",
                                 path);
    }
    return PREFREC_OK;
nomem:
    prefrec_parts_free_(p);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
}

prefrec_status prefrec_parts_same_header_(const prefrec_table_ *first, const prefrec_table_ *t,
                                          prefrec_error *err) {
    int same = first->ncol == t->ncol;
    for (size_t i = 0; same && i < t->ncol; i++) same = !strcmp(first->col[i], t->col[i]);
    if (same) return PREFREC_OK;
    return prefrec_error_set(err, PREFREC_E_PARSE,
                             "%s:1: the header differs from the first part's (%s): every part of "
                             "a part directory has the same columns in the same order",
                             t->path, first->path);
}
