/* dataset.c - dataset lifetime, attribute parsing, loader bookkeeping and the load dispatch (see
 * prefrec/dataset.h). The dictionary is in dict.c, the L.POINT reader in lpoint.c, the mapping
 * reader in mapping.c. */
#include "prefrec/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"

/* ---- dataset lifetime ---------------------------------------------------------------------- */

prefrec_load_params prefrec_load_default_params(void) {
    prefrec_load_params p;
    p.skip_bad_rows = 0;
    p.progress = 0;
    p.threads = 0;
    return p;
}

prefrec_dataset *prefrec_dataset_new(size_t n_rows) {
    prefrec_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return NULL;
    ds->customers = prefrec_dict_new();
    ds->products = prefrec_dict_new();
    ds->affiliates = prefrec_dict_new();
    ds->receipts = prefrec_dict_new();
    ds->branches = prefrec_dict_new();
    ds->categories = prefrec_dict_new();
    ds->subcategories = prefrec_dict_new();
    if (!ds->customers || !ds->products || !ds->affiliates || !ds->receipts || !ds->branches ||
        !ds->categories || !ds->subcategories || prefrec_dataset_grow_(ds, n_rows) != 0) {
        prefrec_dataset_free(ds);
        return NULL;
    }
    memset(ds->customer, 0, n_rows * sizeof *ds->customer);
    memset(ds->product, 0, n_rows * sizeof *ds->product);
    memset(ds->day, 0, n_rows * sizeof *ds->day);
    memset(ds->affiliate, 0, n_rows);
    memset(ds->channel, 0, n_rows);
    memset(ds->lpay, 0, n_rows);
    for (size_t i = 0; i < n_rows; i++) {
        ds->amount[i] = 0;
        ds->hour[i] = PREFREC_HOUR_UNKNOWN;
        ds->receipt[i] = -1;
        ds->quantity[i] = 1.0f;
        ds->branch[i] = -1;
    }
    ds->n_rows = n_rows;
    ds->has_quantity = 1; /* the quantity column is there (1) for a hand builder to set */
    return ds;
}

#define GROW(field)                                                                     \
    do {                                                                                \
        void *p_ = column_realloc(ds->field, ds->n_rows * sizeof *ds->field,            \
                                  (cap ? cap : 1) * sizeof *ds->field);                 \
        if (!p_) return -1;                                                             \
        ds->field = p_;                                                                 \
    } while (0)

/* Columns of millions of rows are first touched row by row; with transparent huge pages that
 * is one page fault per 2 MiB instead of per 4 KiB (and page faults are dear in a VM). A big
 * column with little in it yet is moved to a fresh block aligned to 2 MiB, so all of it, from
 * the first row, can be huge pages; otherwise realloc. The hint's errors are ignored. Blocks
 * stay free()-able (posix_memalign). */
static void *column_realloc(void *old, size_t used, size_t bytes) {
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (bytes >= 4 * huge && used <= huge) {
        void *p = NULL;
        if (posix_memalign(&p, huge, bytes) != 0) return NULL;
        madvise(p, bytes, MADV_HUGEPAGE);
        if (used) memcpy(p, old, used);
        free(old);
        return p;
    }
    void *p = realloc(old, bytes);
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1),
              e = ((uintptr_t)p + bytes) & ~(uintptr_t)(huge - 1);
    if (p && bytes >= 4 * huge && e > a) madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
    return p;
#else
    (void)used;
    return realloc(old, bytes);
#endif
}

int prefrec_dataset_grow_(prefrec_dataset *ds, size_t cap) {
    GROW(customer);
    GROW(product);
    GROW(day);
    GROW(hour);
    GROW(affiliate);
    GROW(receipt);
    GROW(quantity);
    GROW(amount);
    GROW(channel);
    GROW(lpay);
    GROW(branch);
    return 0;
}
#undef GROW

void prefrec_dataset_free(prefrec_dataset *ds) {
    if (!ds) return;
    free(ds->customer);
    free(ds->product);
    free(ds->day);
    free(ds->hour);
    free(ds->affiliate);
    free(ds->receipt);
    free(ds->quantity);
    free(ds->amount);
    free(ds->channel);
    free(ds->lpay);
    free(ds->branch);
    prefrec_dict_free(ds->customers);
    prefrec_dict_free(ds->products);
    prefrec_dict_free(ds->affiliates);
    prefrec_dict_free(ds->receipts);
    prefrec_dict_free(ds->branches);
    prefrec_dict_free(ds->categories);
    prefrec_dict_free(ds->subcategories);
    prefrec_dict_free(ds->names);
    free((void *)ds->product_name);
    free(ds->product_category);
    free(ds->product_subcategory);
    free(ds->gender);
    free(ds->age);
    free(ds->source);
    free(ds);
}

prefrec_status prefrec_dataset_finish(prefrec_dataset *ds, prefrec_error *err) {
    return prefrec_dataset_finish_(ds, 1, err);
}

/* Codes and names are written as C strings (scores.csv, packs, reports): one holding a NUL byte
 * would be cut there, and two codes "DUP\0a" and "DUP\0b" would both read "DUP". The CSV
 * reader refuses NUL bytes; this catches any other route (hand-built datasets). */
static prefrec_status check_no_nul(const prefrec_dict *d, const char *what, prefrec_error *err) {
    int32_t n = d ? prefrec_dict_size(d) : 0;
    for (int32_t i = 0; i < n; i++) {
        const char *s = prefrec_dict_str(d, i);
        size_t len = prefrec_dict_len_(d, i), at = strlen(s);
        if (at != len)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "%s '%.40s' holds a NUL byte (byte %zu of %zu): codes and "
                                     "names cannot", what, s, at + 1, len);
    }
    return PREFREC_OK;
}

prefrec_status prefrec_dataset_finish_(prefrec_dataset *ds, int check, prefrec_error *err) {
    int32_t np = prefrec_dict_size(ds->products), nc = prefrec_dict_size(ds->customers);
    int32_t na = prefrec_dict_size(ds->affiliates), nr = prefrec_dict_size(ds->receipts);
    int32_t nb = prefrec_dict_size(ds->branches);
    int32_t ncat = prefrec_dict_size(ds->categories), nsub = prefrec_dict_size(ds->subcategories);
    for (size_t i = 0; check && i < ds->n_rows; i++) {
        if (ds->customer[i] < 0 || ds->customer[i] >= nc || ds->product[i] < 0 ||
            ds->product[i] >= np || ds->affiliate[i] >= na || ds->receipt[i] >= nr ||
            ds->receipt[i] < -1 || ds->branch[i] >= nb || ds->branch[i] < -1 ||
            (ds->hour[i] > 23 && ds->hour[i] != PREFREC_HOUR_UNKNOWN) || ds->channel[i] > 2)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "dataset row %zu: an index or code is out of range", i);
    }
    prefrec_status st;
    if ((st = check_no_nul(ds->customers, "customer code", err)) ||
        (st = check_no_nul(ds->products, "product code", err)) ||
        (st = check_no_nul(ds->names, "product name", err)) ||
        (st = check_no_nul(ds->affiliates, "affiliate code", err)) ||
        (st = check_no_nul(ds->branches, "branch code", err)) ||
        (st = check_no_nul(ds->categories, "category", err)) ||
        (st = check_no_nul(ds->subcategories, "mid category", err)) ||
        (st = prefrec_dataset_returns_(ds, err)))
        return st;
    /* product catalog arrays: extend to every product, codes stand in for unknown names */
    size_t old = ds->product_name ? (size_t)ds->n_products_in_catalog : 0;
    if (!ds->product_name) ds->n_products_in_catalog = 0;
    const char **names = realloc((void *)ds->product_name, (np ? np : 1) * sizeof *names);
    if (!names) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (catalog)");
    ds->product_name = names;
    int32_t *cat = realloc(ds->product_category, (np ? np : 1) * sizeof *cat);
    if (!cat) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (catalog)");
    ds->product_category = cat;
    int32_t *sub = realloc(ds->product_subcategory, (np ? np : 1) * sizeof *sub);
    if (!sub) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (catalog)");
    ds->product_subcategory = sub;
    for (size_t p = old; p < (size_t)np; p++) {
        names[p] = prefrec_dict_str(ds->products, (int32_t)p);
        cat[p] = -1;
        sub[p] = -1;
    }
    for (int32_t p = 0; p < np; p++) {
        if (!names[p]) names[p] = prefrec_dict_str(ds->products, p);
        if (cat[p] < -1 || cat[p] >= ncat || sub[p] < -1 || sub[p] >= nsub)
            return prefrec_error_set(err, PREFREC_E_RANGE, "product %d: category out of range", p);
    }
    /* customer attributes: extend, unknown for customers only seen in transactions */
    old = ds->gender ? (size_t)ds->n_customers_in_demographics : 0;
    if (!ds->gender) ds->n_customers_in_demographics = 0;
    int8_t *g = realloc(ds->gender, (nc ? nc : 1) * sizeof *g);
    if (!g) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (customers)");
    ds->gender = g;
    float *age = realloc(ds->age, (nc ? nc : 1) * sizeof *age);
    if (!age) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (customers)");
    ds->age = age;
    for (size_t c = old; c < (size_t)nc; c++) {
        g[c] = PREFREC_GENDER_UNKNOWN;
        age[c] = NAN;
    }
    /* summaries */
    uint8_t *seen = calloc(nc ? (size_t)nc : 1, 1);
    if (!seen) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    int32_t with_rows = 0, dmin = 0, dmax = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        int32_t c = ds->customer[i], d = ds->day[i];
        if (!seen[c]) {
            seen[c] = 1;
            with_rows++;
        }
        if (i == 0 || d < dmin) dmin = d;
        if (i == 0 || d > dmax) dmax = d;
    }
    free(seen);
    ds->n_customers_with_rows = with_rows;
    ds->day_min = dmin;
    ds->day_max = dmax;
    return PREFREC_OK;
}

/* ---- subcategories ------------------------------------------------------------------------- */

int32_t prefrec_subcategory_intern_(prefrec_dataset *ds, const char *top, size_t top_len,
                                    const char *mid, size_t mid_len) {
    char stack[256];
    size_t n = top_len + 1 + mid_len;
    char *key = n <= sizeof stack ? stack : malloc(n);
    if (!key) return -1;
    memcpy(key, top, top_len);
    key[top_len] = '\x1f';
    memcpy(key + top_len + 1, mid, mid_len);
    int32_t id = prefrec_dict_intern(ds->subcategories, key, n);
    if (key != stack) free(key);
    return id;
}

prefrec_status prefrec_subcategories_finish_(prefrec_dataset *ds, prefrec_error *err) {
    int32_t n = prefrec_dict_size(ds->subcategories);
    prefrec_dict *mids = prefrec_dict_new(), *out = prefrec_dict_new();
    int32_t *uses = calloc(n ? (size_t)n : 1, sizeof *uses);
    char *buf = NULL;
    size_t cap = 0;
    prefrec_status st = PREFREC_OK;
    if (!mids || !out || !uses) goto nomem;
    for (int32_t i = 0; i < n; i++) {
        const char *k = prefrec_dict_str(ds->subcategories, i), *mid = strchr(k, '\x1f') + 1;
        int32_t m = prefrec_dict_intern(mids, mid, strlen(mid));
        if (m < 0) goto nomem;
        uses[m]++;
    }
    for (int32_t i = 0; i < n; i++) {
        const char *k = prefrec_dict_str(ds->subcategories, i), *sep = strchr(k, '\x1f');
        const char *mid = sep + 1;
        size_t top_len = (size_t)(sep - k), mid_len = strlen(mid), len = mid_len;
        int ambiguous = uses[prefrec_dict_find(mids, mid, mid_len)] > 1 && top_len;
        if (ambiguous) len += top_len + 3;
        if (len + 1 > cap) {
            cap = 2 * (len + 1);
            char *b = realloc(buf, cap);
            if (!b) goto nomem;
            buf = b;
        }
        memcpy(buf, mid, mid_len);
        if (ambiguous) {
            memcpy(buf + mid_len, " (", 2);
            memcpy(buf + mid_len + 2, k, top_len);
            buf[len - 1] = ')';
        }
        if (prefrec_dict_intern(out, buf, len) != i) {
            st = prefrec_error_set(err, PREFREC_E_INVAL, "mid category names collide ('%.*s')",
                                   (int)len, buf);
            goto done;
        }
    }
    prefrec_dict_free(ds->subcategories);
    ds->subcategories = out;
    out = NULL;
    goto done;
nomem:
    st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (categories)");
done:
    prefrec_dict_free(mids);
    prefrec_dict_free(out);
    free(uses);
    free(buf);
    return st;
}

/* ---- attributes ---------------------------------------------------------------------------- */

static void trim(const char **s, size_t *len) {
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}

/* Non-negative decimal "37" or "37.5" filling exactly len bytes; -1 otherwise. */
static int parse_num(const char *s, size_t len, double *out) {
    double v = 0, scale = 1;
    int digits = 0, dot = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (dot) {
                scale /= 10;
                v += (c - '0') * scale;
            } else {
                v = v * 10 + (c - '0');
            }
            digits++;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            return -1;
        }
    }
    if (!digits || digits > 6) return -1;
    *out = v;
    return 0;
}

int prefrec_age_parse(const char *s, size_t len, float *age) {
    trim(&s, &len);
    if (!len) return -1;
    double a, b;
    static const char dae[] = "\xeb\x8c\x80"; /* 대 (UTF-8), as in "20대" */
    if (parse_num(s, len, &a) == 0) {
        if (a > 150) return -1;
        *age = (float)a;
        return 0;
    }
    if (len > 3 && memcmp(s + len - 3, dae, 3) == 0 && parse_num(s, len - 3, &a) == 0) {
        if (a > 150) return -1;
        *age = (float)(a + 5); /* "20대" is 20..29: its middle */
        return 0;
    }
    if (len > 1 && s[len - 1] == '+' && parse_num(s, len - 1, &a) == 0) {
        if (a > 150) return -1;
        *age = (float)(a + 5); /* open band: lower bound + 5 */
        return 0;
    }
    const char *dash = memchr(s, '-', len);
    if (dash && dash > s && parse_num(s, (size_t)(dash - s), &a) == 0 &&
        parse_num(dash + 1, len - (size_t)(dash - s) - 1, &b) == 0 && a <= b && b <= 150) {
        *age = (float)((a + b) / 2); /* "25-34" -> 29.5 */
        return 0;
    }
    return -1;
}

static int eq_nocase(const char *s, size_t len, const char *lit) {
    size_t n = strlen(lit);
    if (n != len) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return 0;
    }
    return 1;
}

int prefrec_gender_parse(const char *s, size_t len) {
    trim(&s, &len);
    if (!len || eq_nocase(s, len, "u") || eq_nocase(s, len, "unknown"))
        return PREFREC_GENDER_UNKNOWN;
    if ((len == 6 && memcmp(s, "\xeb\x82\xa8\xec\x84\xb1", 6) == 0) /* 남성 */ ||
        eq_nocase(s, len, "m") || eq_nocase(s, len, "male") || (len == 1 && s[0] == '0'))
        return PREFREC_GENDER_MALE;
    if ((len == 6 && memcmp(s, "\xec\x97\xac\xec\x84\xb1", 6) == 0) /* 여성 */ ||
        eq_nocase(s, len, "f") || eq_nocase(s, len, "female") || (len == 1 && s[0] == '1'))
        return PREFREC_GENDER_FEMALE;
    return -2;
}

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
        if (!((buf[i] >= '0' && buf[i] <= '9') || buf[i] == '.' || buf[i] == 'e' ||
              buf[i] == 'E' || buf[i] == '-' || buf[i] == '+'))
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

prefrec_status prefrec_table_open_(prefrec_table_ *t, const char *path, prefrec_error *err) {
    memset(t, 0, sizeof *t);
    prefrec_status st = prefrec_csv_open(path, NULL, &t->csv, err);
    if (st) return st;
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
                             "%s:1: no column '%s' (%s) in the header; the header has: %s",
                             t->path, name, what, cols);
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
                                   PREFREC_E_PARSE, "wrong number of fields: %zu, the header has %zu",
                                   nf, t->ncol);
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

/* ---- load dispatch ------------------------------------------------------------------------- */

prefrec_status prefrec_dataset_load(const char *path, const prefrec_load_params *params,
                                    prefrec_dataset **out, prefrec_error *err) {
    *out = NULL;
    prefrec_load_params dp = prefrec_load_default_params();
    if (!params) params = &dp;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = strlen(path);
    int is_dir = S_ISDIR(sb.st_mode);
    if (!is_dir && !(n > 5 && !strcmp(path + n - 5, ".json")))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "%s: not an L.POINT directory or a mapping .json file", path);
    prefrec_dataset *ds = prefrec_dataset_new(0);
    if (!ds) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    ds->source = strdup(path);
    prefrec_status st = ds->source ? PREFREC_OK : PREFREC_E_NOMEM;
    if (!st) st = is_dir ? prefrec_lpoint_load_(path, params, ds, err)
                         : prefrec_mapping_load_(path, params, ds, err);
    if (!st) st = prefrec_dataset_finish_(ds, 0, err);
    if (st) {
        if (st == PREFREC_E_NOMEM && err && !err->msg[0]) prefrec_error_set(err, st, "out of memory");
        prefrec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return PREFREC_OK;
}

int prefrec_demographics_put_(prefrec_dataset *ds, size_t *cap, int32_t id, int gender, float age) {
    if ((size_t)id >= *cap) {
        size_t n = *cap ? *cap * 2 : 1024;
        while (n <= (size_t)id) n *= 2;
        int8_t *gg = realloc(ds->gender, n * sizeof *gg);
        if (!gg) return -1;
        ds->gender = gg;
        float *aa = realloc(ds->age, n * sizeof *aa);
        if (!aa) return -1;
        ds->age = aa;
        *cap = n;
    }
    ds->gender[id] = (int8_t)gender;
    ds->age[id] = age;
    ds->n_customers_in_demographics = id + 1;
    return 0;
}

int prefrec_catalog_reserve_(prefrec_dataset *ds, size_t *cap, int32_t id) {
    if ((size_t)id < *cap) return 0;
    size_t n = *cap ? *cap * 2 : 1024;
    while (n <= (size_t)id) n *= 2;
    const char **pn = realloc((void *)ds->product_name, n * sizeof *pn);
    if (!pn) return -1;
    ds->product_name = pn;
    int32_t *pc = realloc(ds->product_category, n * sizeof *pc);
    if (!pc) return -1;
    ds->product_category = pc;
    int32_t *ps = realloc(ds->product_subcategory, n * sizeof *ps);
    if (!ps) return -1;
    ds->product_subcategory = ps;
    *cap = n;
    return 0;
}
