/* mapping.c - the generic layout: a JSON mapping file names the CSV files and the columns that
 * hold customer, product, time, quantity, amount, receipt, affiliate and store, and optionally a
 * products file (name, category, subcategory) and a customers file (age, gender). README,
 * "Input layouts", documents the format.
 *
 * Decisions: paths are relative to the mapping file; a key set to null or left out means "not
 * available"; unknown keys and column names missing from a header are errors naming them. With
 * no affiliate column every row belongs to affiliate "ALL". Transactions whose product is not in
 * the products file are kept (real extracts such as the completejourney sample have a few);
 * such products get their code as name and no category, and `prefrec info` counts them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "dataset_internal.h"
#include "core/json_read.h"
#include "host/file.h"
#include "prefrec/date.h"

#define F(i) (f[i].p), (f[i].len)

static const char *const TX_KEYS[] = {"path",        "customer", "product", "time",
                                      "time_format", "quantity", "amount",  "receipt",
                                      "affiliate",   "store",    NULL};
static const char *const PR_KEYS[] = {"path", "product", "name", "category", "subcategory", NULL};
static const char *const CU_KEYS[] = {"path", "customer", "age", "gender", NULL};

/* ---- time formats ---------------------------------------------------------------------------
 * A strptime-style subset, parsed here rather than by strptime(3) for speed and so that wasm and
 * every libc behave alike: %Y (4 digits), %m %d %H %M %S (1 or 2 digits), %% and literal bytes.
 * The whole field must match. */
#define TF_MAX 48
typedef struct {
    char op[TF_MAX]; /* 'Y','m','d','H','M','S' or 'L' (literal) */
    char lit[TF_MAX];
    int n, has_hour;
} timefmt;

static int tf_compile(const char *s, timefmt *tf, char *bad) {
    tf->n = 0;
    tf->has_hour = 0;
    int seen = 0;
    for (; *s; s++) {
        if (tf->n == TF_MAX) return -1;
        if (*s == '%') {
            char c = *++s;
            if (c == '%') {
                tf->op[tf->n] = 'L';
                tf->lit[tf->n++] = '%';
                continue;
            }
            if (!c || !strchr("YmdHMS", c)) {
                *bad = c;
                return -1;
            }
            tf->op[tf->n++] = c;
            if (c == 'Y') seen |= 1;
            if (c == 'm') seen |= 2;
            if (c == 'd') seen |= 4;
            if (c == 'H') tf->has_hour = 1;
        } else {
            tf->op[tf->n] = 'L';
            tf->lit[tf->n++] = *s;
        }
    }
    if (seen != 7) {
        *bad = 0;
        return -2;
    }
    return 0;
}

static int tf_parse(const timefmt *tf, const char *s, size_t len, int32_t *day, int *hour) {
    int v[128] = {0};
    size_t i = 0;
    for (int k = 0; k < tf->n; k++) {
        char op = tf->op[k];
        if (op == 'L') {
            if (i >= len || s[i] != tf->lit[k]) return -1;
            i++;
            continue;
        }
        int want = op == 'Y' ? 4 : 2, got = 0, x = 0;
        while (got < want && i < len && s[i] >= '0' && s[i] <= '9') {
            x = x * 10 + (s[i++] - '0');
            got++;
        }
        if (got == 0 || (op == 'Y' && got != 4)) return -1;
        v[(unsigned char)op] = x;
    }
    if (i != len) return -1;
    int y = v['Y'], m = v['m'], d = v['d'];
    if (!prefrec_date_valid(y, m, d) || v['H'] > 23 || v['M'] > 59 || v['S'] > 60) return -1;
    *day = prefrec_days_from_civil(y, m, d);
    *hour = tf->has_hour ? v['H'] : PREFREC_HOUR_UNKNOWN;
    return 0;
}

/* ---- the mapping file ---------------------------------------------------------------------- */

typedef struct {
    const char *json; /* mapping path, for messages */
    const char *name; /* "transactions", ... */
    const cJSON *obj; /* NULL when the section is absent or null */
} section;

/* Check keys against the allowed list and that values are strings or null. */
static prefrec_status check_section(const section *s, const char *const *keys, prefrec_error *err) {
    if (!cJSON_IsObject(s->obj))
        return prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"%s\" must be an object", s->json,
                                 s->name);
    for (const cJSON *c = s->obj->child; c; c = c->next) {
        int k = 0;
        while (keys[k] && strcmp(keys[k], c->string)) k++;
        if (!keys[k]) {
            char list[200];
            size_t o = 0;
            for (int j = 0; keys[j]; j++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", keys[j]);
            return prefrec_error_set(err, PREFREC_E_PARSE,
                                     "%s: unknown key \"%s\" in \"%s\" (known keys: %s)", s->json,
                                     c->string, s->name, list);
        }
        if (!cJSON_IsString(c) && !cJSON_IsNull(c))
            return prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"%s.%s\" must be a string or null",
                                     s->json, s->name, c->string);
    }
    return PREFREC_OK;
}

/* The string value of key, or NULL when absent/null/empty. */
static const char *val(const section *s, const char *key) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(s->obj, key);
    return cJSON_IsString(c) && c->valuestring[0] ? c->valuestring : NULL;
}

static prefrec_status need(const section *s, const char *key, const char **out,
                           prefrec_error *err) {
    *out = val(s, key);
    if (*out) return PREFREC_OK;
    return prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"%s.%s\" is required", s->json, s->name,
                             key);
}

/* Column of a mapped key (NULL name: -1, not available). Error names the key and the file. */
static prefrec_status column(const prefrec_table_ *t, const section *s, const char *key, int *col,
                             prefrec_error *err) {
    const char *name = val(s, key);
    *col = -1;
    if (!name) return PREFREC_OK;
    char what[96];
    snprintf(what, sizeof what, "mapping key %s.%s in %s", s->name, key, s->json);
    return prefrec_table_require_(t, name, what, col, err);
}

static char *resolve(const char *json_path, const char *rel) {
    if (rel[0] == '/') return strdup(rel);
    const char *slash = strrchr(json_path, '/');
    size_t d = slash ? (size_t)(slash - json_path) + 1 : 0, n = strlen(rel);
    char *s = malloc(d + n + 1);
    if (!s) return NULL;
    memcpy(s, json_path, d);
    memcpy(s + d, rel, n + 1);
    return s;
}

static prefrec_status bad(prefrec_table_ *t, prefrec_loader_ *L, int col, const char *why,
                          const char *what, prefrec_error *err) {
    prefrec_error row = {0};
    const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
    int n = (int)(f[col].len > 40 ? 40 : f[col].len);
    prefrec_csv_errorf(t->csv, (size_t)col, &row, PREFREC_E_PARSE, "%s '%.*s' (column %s)", what, n,
                       f[col].p, t->col[col]);
    return prefrec_loader_bad_row_(L, why, &row, err);
}

/* A parsed mapping file: its three sections (checked keys), the transactions' time format and
 * columns once they are known. */
struct prefrec_mapping_ {
    char *json; /* the mapping's path, for messages and to resolve relative paths */
    cJSON *root;
    section sec[3]; /* transactions, products, customers (obj NULL: absent) */
    timefmt tf;
    int c_cu, c_pr, c_tm, c_q, c_am, c_rc, c_af, c_st;
};

prefrec_status prefrec_mapping_file_(const prefrec_mapping_ *m, int which, char **path,
                                     prefrec_error *err) {
    *path = NULL;
    const section *s = &m->sec[which];
    if (!s->obj) return PREFREC_OK;
    const char *rel;
    prefrec_status st = need(s, "path", &rel, err);
    if (st) return st;
    *path = resolve(s->json, rel);
    return *path ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
}

prefrec_status prefrec_mapping_products_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                         prefrec_loader_ *L, prefrec_dataset *ds,
                                         prefrec_error *err) {
    const section *s = &m->sec[PREFREC_MAPPING_PRODUCTS];
    int c_id, c_nm, c_cat, c_sub;
    const char *dummy;
    prefrec_status st;
    if ((st = need(s, "product", &dummy, err)) || (st = column(t, s, "product", &c_id, err)) ||
        (st = column(t, s, "name", &c_nm, err)) || (st = column(t, s, "category", &c_cat, err)) ||
        (st = column(t, s, "subcategory", &c_sub, err)))
        return st;
    prefrec_catalog_cols_ cols = {c_id, c_nm, c_cat, c_sub};
    return prefrec_catalog_read_(t, L, ds, &cols, err);
}

prefrec_status prefrec_mapping_customers_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                          prefrec_loader_ *L, prefrec_dataset *ds,
                                          prefrec_error *err) {
    const section *s = &m->sec[PREFREC_MAPPING_CUSTOMERS];
    int c_id, c_age, c_sex;
    const char *dummy;
    prefrec_status st;
    if ((st = need(s, "customer", &dummy, err)) || (st = column(t, s, "customer", &c_id, err)) ||
        (st = column(t, s, "age", &c_age, err)) || (st = column(t, s, "gender", &c_sex, err)))
        return st;
    prefrec_demog_cols_ cols = {c_id, c_sex, c_age};
    return prefrec_demographics_read_(t, L, ds, &cols, err);
}

prefrec_status prefrec_mapping_tx_format_(prefrec_mapping_ *m, prefrec_error *err) {
    const section *s = &m->sec[PREFREC_MAPPING_TRANSACTIONS];
    const char *fmt = val(s, "time_format");
    char badc = 0;
    int tfr = tf_compile(fmt ? fmt : "%Y-%m-%d", &m->tf, &badc);
    if (tfr)
        return prefrec_error_set(err, PREFREC_E_PARSE,
                                 tfr == -2
                                     ? "%s: transactions.time_format \"%s\" needs %%Y, %%m and %%d"
                                     : "%s: transactions.time_format \"%s\": unsupported directive "
                                       "(supported: %%Y %%m %%d %%H %%M %%S %%%%)",
                                 s->json, fmt);
    return PREFREC_OK;
}

prefrec_status prefrec_mapping_tx_columns_(prefrec_mapping_ *m, const prefrec_table_ *t,
                                           prefrec_error *err) {
    const section *s = &m->sec[PREFREC_MAPPING_TRANSACTIONS];
    const char *dummy;
    prefrec_status st;
    if ((st = need(s, "customer", &dummy, err)) || (st = need(s, "product", &dummy, err)) ||
        (st = need(s, "time", &dummy, err)) || (st = column(t, s, "customer", &m->c_cu, err)) ||
        (st = column(t, s, "product", &m->c_pr, err)) ||
        (st = column(t, s, "time", &m->c_tm, err)) ||
        (st = column(t, s, "quantity", &m->c_q, err)) ||
        (st = column(t, s, "amount", &m->c_am, err)) ||
        (st = column(t, s, "receipt", &m->c_rc, err)) ||
        (st = column(t, s, "affiliate", &m->c_af, err)) ||
        (st = column(t, s, "store", &m->c_st, err)))
        return st;
    return PREFREC_OK;
}

int prefrec_mapping_tx_customer_col_(const prefrec_mapping_ *m) { return m->c_cu; }
int prefrec_mapping_tx_product_col_(const prefrec_mapping_ *m) { return m->c_pr; }

prefrec_status prefrec_mapping_tx_rows_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                        prefrec_loader_ *L, prefrec_dataset *ds, size_t cap,
                                        prefrec_error *err) {
    const timefmt tf = m->tf;
    const char *fmt = val(&m->sec[PREFREC_MAPPING_TRANSACTIONS], "time_format");
    const int c_cu = m->c_cu, c_pr = m->c_pr, c_tm = m->c_tm, c_q = m->c_q, c_am = m->c_am,
              c_rc = m->c_rc, c_af = m->c_af, c_st = m->c_st;
    prefrec_status st = PREFREC_OK;
    int r;
    ds->has_quantity = c_q >= 0; /* the returns rule's measure (returns.c) */
    ds->has_amount = c_am >= 0;
    int32_t all = c_af < 0 ? prefrec_dict_intern(ds->affiliates, "ALL", 3) : 0;
    size_t n = ds->n_rows;
    if (cap < n + 1024) cap = n + 1024;
    if (all < 0 || prefrec_dataset_grow_(ds, cap) != 0) goto nomem;
    /* receipt ids such as basket numbers: the numbered-key index (dict.c) */
    if (c_rc >= 0 && prefrec_dict_size(ds->receipts) == 0 &&
        prefrec_dict_use_keymap_(ds->receipts) != 0)
        goto nomem;
    while ((r = prefrec_table_next_(t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
        int32_t day;
        int hour;
        double q = 1, am = 0;
        if (!f[c_cu].len || !f[c_pr].len || (c_rc >= 0 && !f[c_rc].len) ||
            (c_af >= 0 && !f[c_af].len)) {
            int c = !f[c_cu].len              ? c_cu
                : !f[c_pr].len                ? c_pr
                : (c_rc >= 0 && !f[c_rc].len) ? c_rc
                                              : c_af;
            if ((st = bad(t, L, c, "empty id", "empty value", err))) return st;
            continue;
        }
        if (tf_parse(&tf, F(c_tm), &day, &hour) != 0) {
            char what[96];
            snprintf(what, sizeof what, "bad time (expected format %s)", fmt ? fmt : "%Y-%m-%d");
            if ((st = bad(t, L, c_tm, "bad date", what, err))) return st;
            continue;
        }
        if (c_q >= 0 && prefrec_parse_double_(F(c_q), &q) != 0) {
            if ((st = bad(t, L, c_q, "bad quantity", "bad quantity", err))) return st;
            continue;
        }
        if (c_am >= 0 && prefrec_parse_double_(F(c_am), &am) != 0) {
            if ((st = bad(t, L, c_am, "bad amount", "bad amount", err))) return st;
            continue;
        }
        int32_t aff = c_af >= 0 ? prefrec_dict_intern(ds->affiliates, F(c_af)) : all;
        if (aff > 255) {
            st = prefrec_csv_errorf(t->csv, (size_t)c_af, err, PREFREC_E_RANGE,
                                    "more than 256 affiliates (column %s)", t->col[c_af]);
            return st;
        }
        int32_t cu = prefrec_dict_intern(ds->customers, F(c_cu));
        int32_t pr = prefrec_dict_intern(ds->products, F(c_pr));
        int32_t rc = c_rc >= 0 ? prefrec_dict_intern(ds->receipts, F(c_rc)) : -1;
        int32_t br = c_st >= 0 && f[c_st].len ? prefrec_dict_intern(ds->branches, F(c_st)) : -1;
        if (aff < 0 || cu < 0 || pr < 0 || (c_rc >= 0 && rc < 0) ||
            (c_st >= 0 && f[c_st].len && br < 0))
            goto nomem;
        if (n == cap) {
            cap *= 2;
            if (prefrec_dataset_grow_(ds, cap) != 0) goto nomem;
        }
        ds->customer[n] = cu;
        ds->product[n] = pr;
        ds->day[n] = day;
        ds->hour[n] = (uint8_t)hour;
        ds->affiliate[n] = (uint8_t)aff;
        ds->receipt[n] = rc;
        ds->quantity[n] = (float)q;
        ds->amount[n] = am;
        ds->channel[n] = PREFREC_CHANNEL_UNKNOWN;
        ds->lpay[n] = 0;
        ds->branch[n] = br;
        ds->n_rows = ++n;
    }
    if (r < 0) st = (prefrec_status)r;
    if (!st && prefrec_dataset_grow_(ds, n) != 0) goto nomem; /* give back the spare rows */
    return st;
nomem:
    return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
}

/* A mapping is a few hundred bytes; anything past this is not one (a device, a data file). */
#define MAPPING_MAX_BYTES ((size_t)1 << 20)

static char *slurp(const char *path, size_t *len, prefrec_error *err) {
    char *buf = NULL;
    prefrec_status st = prefrec_file_read(path, MAPPING_MAX_BYTES - 1, &buf, len, err);
    if (st == PREFREC_E_RANGE)
        prefrec_error_set(err, PREFREC_E_PARSE, "%s: %zu bytes or more: not a mapping file", path,
                          MAPPING_MAX_BYTES);
    return st ? NULL : buf;
}

/* Offset of the first NUL in the mapping text, raw or as a \u0000 escape, or len if none.
 * cJSON keeps strings NUL-terminated without a length, so a path or column name holding one
 * would be cut there silently ("tx.csv\u0000x" would open tx.csv). */
static size_t find_nul(const char *t, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '\0') return i;
        if (t[i] == '\\' && i + 1 < len) {
            if (t[i + 1] == 'u' && i + 5 < len && t[i + 2] == '0' && t[i + 3] == '0' &&
                t[i + 4] == '0' && t[i + 5] == '0')
                return i;
            i++; /* the escaped character ("\\u0000" is a backslash and "u0000") */
        }
    }
    return len;
}

void prefrec_mapping_free_(prefrec_mapping_ *m) {
    if (!m) return;
    cJSON_Delete(m->root);
    free(m->json);
    free(m);
}

prefrec_status prefrec_mapping_open_(const char *json_path, prefrec_mapping_ **out,
                                     prefrec_error *err) {
    *out = NULL;
    size_t len;
    char *text = slurp(json_path, &len, err);
    if (!text) return err ? err->status : PREFREC_E_IO;
    size_t nul = find_nul(text, len);
    if (nul < len) {
        int line = 1, col = 1;
        for (size_t q = 0; q < nul; q++) {
            if (text[q] == '\n')
                line++, col = 1;
            else if (((unsigned char)text[q] & 0xC0) != 0x80)
                col++;
        }
        free(text);
        return prefrec_error_set(err, PREFREC_E_PARSE,
                                 "%s:%d:%d: NUL byte (U+0000) in the mapping (paths and column "
                                 "names cannot hold one)",
                                 json_path, line, col);
    }
    size_t at = 0;
    cJSON *root = prefrec_json_parse_strict(text, len, &at); /* text after the object: an error */
    const char *end = text + at;
    prefrec_status st = PREFREC_OK;
    if (!root) {
        int line = 1, col = 1;
        for (const char *q = text; end && q < end && q < text + len; q++) {
            if (*q == '\n')
                line++, col = 1;
            else if (((unsigned char)*q & 0xC0) != 0x80)
                col++;
        }
        st =
            prefrec_error_set(err, PREFREC_E_PARSE, "%s:%d:%d: invalid JSON", json_path, line, col);
        free(text);
        return st;
    }
    free(text);
    prefrec_mapping_ *m = calloc(1, sizeof *m);
    if (!m || !(m->json = strdup(json_path))) {
        cJSON_Delete(root);
        free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    }
    m->root = root;
    static const char *const names[3] = {"transactions", "products", "customers"};
    for (int k = 0; k < 3; k++) m->sec[k] = (section){m->json, names[k], NULL};
    section *tx = &m->sec[PREFREC_MAPPING_TRANSACTIONS];
    if (!cJSON_IsObject(root)) {
        st = prefrec_error_set(err, PREFREC_E_PARSE, "%s: the mapping must be a JSON object",
                               json_path);
        goto done;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        int k = 0;
        while (k < 3 && strcmp(c->string, names[k])) k++;
        if (k == 3) {
            st = prefrec_error_set(err, PREFREC_E_PARSE,
                                   "%s: unknown key \"%s\" (known keys: transactions, products, "
                                   "customers)",
                                   json_path, c->string);
            goto done;
        }
        section *s = &m->sec[k];
        s->obj = cJSON_IsNull(c) ? NULL : c;
        if (s->obj &&
            (st = check_section(s,
                                k == PREFREC_MAPPING_TRANSACTIONS   ? TX_KEYS
                                    : k == PREFREC_MAPPING_PRODUCTS ? PR_KEYS
                                                                    : CU_KEYS,
                                err)))
            goto done;
    }
    if (!tx->obj)
        st = prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"transactions\" is required", json_path);
done:
    if (st)
        prefrec_mapping_free_(m);
    else
        *out = m;
    return st;
}

/* Open the table of section which (its "path", relative to the mapping). */
static prefrec_status open_section(const prefrec_mapping_ *m, int which, prefrec_table_ *t,
                                   prefrec_error *err) {
    char *path;
    prefrec_status st = prefrec_mapping_file_(m, which, &path, err);
    if (st) return st;
    st = prefrec_table_open_(t, path, err);
    free(path);
    return st;
}

prefrec_status prefrec_mapping_load_(const char *json_path, const prefrec_load_params *p,
                                     prefrec_dataset *ds, prefrec_error *err) {
    prefrec_mapping_ *m;
    prefrec_status st = prefrec_mapping_open_(json_path, &m, err);
    if (st) return st;
    prefrec_loader_ L;
    prefrec_loader_init_(&L, p);
    prefrec_table_ t;
    memset(&t, 0, sizeof t);
    if (m->sec[PREFREC_MAPPING_PRODUCTS].obj &&
        !(st = open_section(m, PREFREC_MAPPING_PRODUCTS, &t, err))) {
        st = prefrec_mapping_products_(m, &t, &L, ds, err);
        prefrec_table_close_(&t);
    }
    if (!st && m->sec[PREFREC_MAPPING_CUSTOMERS].obj &&
        !(st = open_section(m, PREFREC_MAPPING_CUSTOMERS, &t, err))) {
        st = prefrec_mapping_customers_(m, &t, &L, ds, err);
        prefrec_table_close_(&t);
    }
    if (!st) st = prefrec_mapping_tx_format_(m, err);
    if (!st && !(st = open_section(m, PREFREC_MAPPING_TRANSACTIONS, &t, err))) {
        st = prefrec_mapping_tx_columns_(m, &t, err);
        struct stat sb;
        size_t cap = stat(t.path, &sb) == 0 ? (size_t)sb.st_size / 40 + 1024 : 1 << 16;
        if (!st) st = prefrec_mapping_tx_rows_(m, &t, &L, ds, cap, err);
        if (!st && t.rows == 0)
            st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no transaction rows (header only)",
                                   t.path);
        prefrec_table_close_(&t);
    }
    prefrec_loader_progress_end_(&L);
    if (!st) {
        ds->n_skipped = L.skipped;
        prefrec_loader_report_(&L);
    }
    prefrec_mapping_free_(m);
    return st;
}
