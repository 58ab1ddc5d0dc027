/* table.c - what every loader reads with: a CSV file with its header (columns by name), bad rows
 * skipped and counted or reported (--skip-bad-rows), progress, and the number parsers (see
 * dataset_internal.h). */
#include "prefrec/native/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"

/* ---- numbers ------------------------------------------------------------------------------- */

int prefrec_parse_int_(const char *s, size_t len, int64_t *out) {
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len || len - i > 18) return -1;
    int64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + (int64_t)d;
    }
    *out = neg ? -v : v;
    return 0;
}

static int parse_double_slow(const char *s, size_t len, double *out) {
    char buf[64];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++) /* strtod would accept "inf", "nan", hex and spaces */
        if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E' ||
              buf[i] == '-' || buf[i] == '+'))
            return -1;
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Decimal text to double. The common case (at most 15 significant digits, no exponent) is
 * exact and fast: an integer mantissa below 2^53 divided by an exactly representable power of
 * ten is correctly rounded by IEEE division (Clinger's fast path). Anything else (exponents, long
 * mantissas) goes through strtod on a NUL-terminated copy; the C locale is never changed here. */
int prefrec_parse_double_(const char *s, size_t len, double *out) {
    static const double p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = 0, dot = 0, frac = 0, nd = 0, digits = 0;
    uint64_t m = 0;
    if (len - 1 < 15) { /* plain integers ("5170", "1"): one tight loop */
        for (; i < len; i++) {
            unsigned dg = (unsigned)(unsigned char)s[i] - '0';
            if (dg > 9) break;
            m = m * 10 + dg;
        }
        if (i == len) {
            *out = (double)m;
            return 0;
        }
        i = 0;
        m = 0;
    }
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (nd == 15) return parse_double_slow(s, len, out);
            m = m * 10 + (uint64_t)(c - '0');
            if (m) nd++;
            if (dot) frac++;
            digits++;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else if (c == 'e' || c == 'E') {
            return parse_double_slow(s, len, out);
        } else {
            return -1;
        }
    }
    if (!digits) return -1;
    if (frac > 22) return parse_double_slow(s, len, out);
    double v = (double)m / p10[frac];
    *out = neg ? -v : v;
    return 0;
}

/* ---- loader bookkeeping -------------------------------------------------------------------- */

void prefrec_loader_init_(prefrec_loader_ *L, const prefrec_load_params *p) {
    memset(L, 0, sizeof *L);
    L->params = p;
    L->progress = p->progress && isatty(2);
}

prefrec_status prefrec_loader_bad_row_(prefrec_loader_ *L, const char *why,
                                       const prefrec_error *row_err, prefrec_error *err) {
    if (!L->params->skip_bad_rows) {
        if (err) *err = *row_err;
        return row_err->status ? row_err->status : PREFREC_E_PARSE;
    }
    L->skipped++;
    int k = 0;
    while (k < L->nreasons && strcmp(L->reasons[k].why, why) != 0) k++;
    if (k == L->nreasons) {
        if (k == PREFREC_LOADER_REASONS) {
            k--; /* fold the rest into the last slot */
            L->reasons[k].why = "other";
        } else {
            L->nreasons++;
            L->reasons[k].why = why;
            L->reasons[k].n = 0;
            snprintf(L->reasons[k].example, sizeof L->reasons[k].example, "%.255s", row_err->msg);
        }
    }
    L->reasons[k].n++;
    return PREFREC_OK;
}

void prefrec_loader_progress_end_(prefrec_loader_ *L) {
    if (L->progress && L->rows_read >= (1u << 20)) {
        fprintf(stderr, "\r%llu rows read\n", (unsigned long long)L->rows_read);
        fflush(stderr);
    }
}

void prefrec_loader_report_(const prefrec_loader_ *L) {
    if (!L->skipped) return;
    fprintf(stderr, "prefrec: skipped %zu bad row%s (--skip-bad-rows):\n", L->skipped,
            L->skipped == 1 ? "" : "s");
    for (int k = 0; k < L->nreasons; k++)
        fprintf(stderr, "  %zu x %s (first: %s)\n", L->reasons[k].n, L->reasons[k].why,
                L->reasons[k].example);
}

/* ---- tables: a CSV file with its header ------------------------------------------------------ */

void prefrec_table_close_(prefrec_table_ *t) {
    prefrec_csv_close(t->csv);
    for (size_t i = 0; i < t->ncol; i++) free(t->col[i]);
    free(t->col);
    free(t->path);
    memset(t, 0, sizeof *t);
}

static prefrec_status read_header(prefrec_table_ *t, const char *path, prefrec_error *err);

prefrec_status prefrec_table_open_(prefrec_table_ *t, const char *path, prefrec_error *err) {
    memset(t, 0, sizeof *t);
    prefrec_status st = prefrec_csv_open(path, NULL, &t->csv, err);
    if (st) return st;
    return read_header(t, path, err);
}

prefrec_status prefrec_table_open_mem_(prefrec_table_ *t, const char *buf, size_t len,
                                       const char *name, prefrec_error *err) {
    memset(t, 0, sizeof *t);
    prefrec_status st = prefrec_csv_open_mem(buf, len, name, NULL, &t->csv, err);
    if (st) return st;
    return read_header(t, name, err);
}

static prefrec_status read_header(prefrec_table_ *t, const char *path, prefrec_error *err) {
    prefrec_status st;
    t->path = strdup(path);
    if (!t->path) goto nomem;
    const char *slash = strrchr(t->path, '/');
    t->base = slash ? (char *)slash + 1 : t->path;
    int r = prefrec_csv_next(t->csv, err);
    if (r < 0) {
        prefrec_table_close_(t);
        return (prefrec_status)r;
    }
    if (r == 0) {
        prefrec_error_set(err, PREFREC_E_EMPTY, "%s:1: empty file (expected a header line)", path);
        prefrec_table_close_(t);
        return PREFREC_E_EMPTY;
    }
    size_t n = prefrec_csv_nfields(t->csv);
    const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
    t->col = calloc(n, sizeof *t->col);
    if (!t->col) goto nomem;
    for (size_t i = 0; i < n; i++) {
        size_t len = f[i].len;
        const char *p = f[i].p;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        t->col[i] = malloc(len + 1);
        if (!t->col[i]) goto nomem;
        memcpy(t->col[i], p, len);
        t->col[i][len] = '\0';
        t->ncol = i + 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->col[j], t->col[i])) {
                st = prefrec_csv_errorf(t->csv, i, err, PREFREC_E_PARSE,
                                        "duplicate column name '%s' in the header", t->col[i]);
                prefrec_table_close_(t);
                return st;
            }
    }
    return PREFREC_OK;
nomem:
    prefrec_table_close_(t);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
}

int prefrec_table_col_(const prefrec_table_ *t, const char *name) {
    for (size_t i = 0; i < t->ncol; i++)
        if (!strcmp(t->col[i], name)) return (int)i;
    return -1;
}

prefrec_status prefrec_table_require_(const prefrec_table_ *t, const char *name, const char *what,
                                      int *col, prefrec_error *err) {
    *col = prefrec_table_col_(t, name);
    if (*col >= 0) return PREFREC_OK;
    char cols[256];
    size_t o = 0;
    cols[0] = '\0';
    for (size_t i = 0; i < t->ncol && o < sizeof cols - 1; i++)
        o += (size_t)snprintf(cols + o, sizeof cols - o, "%s%s", i ? ", " : "", t->col[i]);
    return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                             "%s:1: no column '%s' (%s) in the header; the header has: %s", t->path,
                             name, what, cols);
}

int prefrec_table_next_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_error *err) {
    for (;;) {
        prefrec_error row; /* written only on errors: no 516-byte clear per row */
        row.status = PREFREC_OK;
        row.msg[0] = '\0';
        int r = prefrec_csv_next(t->csv, &row);
        if (r == 0) return 0;
        if (r < 0) {
            int kind = prefrec_csv_recoverable(t->csv);
            if (!kind) {
                if (err) *err = row;
                return r;
            }
            prefrec_status st = prefrec_loader_bad_row_(
                L, kind == PREFREC_CSV_BAD_NUL ? "NUL byte" : "malformed CSV", &row, err);
            if (st) return st;
            continue;
        }
        size_t nf = prefrec_csv_nfields(t->csv);
        if (nf != t->ncol) {
            const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
            const char *why = "wrong number of fields";
            if (nf == 1 && f[0].len == 0) {
                why = "blank line";
                prefrec_csv_errorf(t->csv, (size_t)-1, &row, PREFREC_E_PARSE,
                                   "blank line (expected %zu fields)", t->ncol);
            } else {
                prefrec_csv_errorf(t->csv, nf > t->ncol ? t->ncol : (size_t)-1, &row,
                                   PREFREC_E_PARSE,
                                   "wrong number of fields: %zu, the header has %zu", nf, t->ncol);
            }
            prefrec_status st = prefrec_loader_bad_row_(L, why, &row, err);
            if (st) return st;
            continue;
        }
        t->rows++;
        if (L->progress && (++L->rows_read & 0xFFFFF) == 0) {
            fprintf(stderr, "\r%llu rows read", (unsigned long long)L->rows_read);
            fflush(stderr);
        }
        return 1;
    }
}

prefrec_status prefrec_table_bad_value_(prefrec_table_ *t, prefrec_loader_ *L, size_t col,
                                        const char *why, prefrec_error *err, const char *fmt,
                                        const char *v, size_t n) {
    prefrec_error row = {0};
    int shown = (int)(n > 40 ? 40 : n);
    char what[160];
    snprintf(what, sizeof what, fmt, shown, v);
    prefrec_csv_errorf(t->csv, col, &row, PREFREC_E_PARSE, "%s (column %s)", what, t->col[col]);
    return prefrec_loader_bad_row_(L, why, &row, err);
}
