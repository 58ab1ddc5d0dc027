/* cli_optout.c - the opt-out list shared by `prefrec export --opt-out` and `prefrec train
 * --opt-out` (cli.h): one member code a line, '#' starts a comment line, spaces around a code
 * ignored. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/member.h"

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

prefrec_status cli_read_opt_out(const char *path, char **text, char ***codes, size_t *n,
                                prefrec_error *err) {
    size_t len = 0;
    *text = NULL;
    *codes = NULL;
    *n = 0;
    prefrec_status s = prefrec_file_read(path, (size_t)1 << 30, text, &len, err);
    if (s) return s;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += (*text)[i] == '\n';
    char **v = malloc(cap * sizeof *v);
    if (!v) return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    size_t line = 0, k = 0;
    for (char *p = *text, *end = *text + len; p < end && !s;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        *e = 0;
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        char *q = e;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) *--q = 0;
        if (q > p && *p != '#') {
            if (memchr(p, 0, (size_t)(q - p)) || (size_t)(q - p) > PREFREC_MEMBER_CODE_MAX)
                s = prefrec_error_set(err, PREFREC_E_PARSE,
                                      "%s:%zu: not a member code (a NUL byte, or over %u bytes)",
                                      path, line, PREFREC_MEMBER_CODE_MAX);
            else
                v[k++] = p;
        }
        p = e + 1;
    }
    if (s) {
        free(v);
        return s;
    }
    qsort(v, k, sizeof *v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || strcmp(v[u - 1], v[i])) v[u++] = v[i];
    *codes = v;
    *n = u;
    return PREFREC_OK;
}
