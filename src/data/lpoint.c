/* lpoint.c - the L.POINT layout: a directory with LPOINT_BIG_COMP_04_PD_CLAC.csv (catalog),
 * 01_DEMO.csv (customers), 02_PDDE.csv (purchase lines) and optionally 06_LPAY.csv (receipts paid
 * with Lpay). Columns are found by header name, in any order; extra columns are ignored.
 *
 * Read order: catalog, customers, purchases, Lpay, so product and customer ids follow the
 * catalog and demographics files (first-seen order) and purchase rows can be checked against
 * the catalog. A product code missing from the catalog is a bad row (an error unless
 * skip_bad_rows). Purchases of customers missing from 01 are kept (no demographics). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_internal.h"
#include "prefrec/date.h"

#define F(i) (f[i].p), (f[i].len)

/* Field text for messages, cut to 40 bytes. */
#define SHOW(i) (int)(f[i].len > 40 ? 40 : f[i].len), f[i].p

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t o = a;
    if (a && dir[a - 1] != '/') s[o++] = '/';
    memcpy(s + o, name, b + 1);
    return s;
}

/* Report a bad value in field col of the current row; returns the status to propagate (0 when
 * the row is skipped). */
static prefrec_status bad_value(prefrec_table_ *t, prefrec_loader_ *L, size_t col, const char *why,
                                prefrec_error *err, const char *fmt, const char *v, size_t n) {
    prefrec_error row = {0};
    int shown = (int)(n > 40 ? 40 : n);
    char what[160];
    snprintf(what, sizeof what, fmt, shown, v);
    prefrec_csv_errorf(t->csv, col, &row, PREFREC_E_PARSE, "%s (column %s)", what, t->col[col]);
    return prefrec_loader_bad_row_(L, why, &row, err);
}

static prefrec_status load_catalog(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                   prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    int c_pd, c_nm, c_hlv, c_mcls;
    if ((st = prefrec_table_require_(&t, "pd_c", "product code", &c_pd, err)) ||
        (st = prefrec_table_require_(&t, "pd_nm", "product name", &c_nm, err)) ||
        (st = prefrec_table_require_(&t, "clac_hlv_nm", "top category", &c_hlv, err)) ||
        (st = prefrec_table_require_(&t, "clac_mcls_nm", "mid category", &c_mcls, err)))
        goto done;
    ds->names = prefrec_dict_new();
    if (!ds->names) goto nomem;
    size_t cap = 0;
    int r;
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
        if (f[c_pd].len == 0) {
            if ((st = bad_value(&t, L, (size_t)c_pd, "empty product code", err,
                                "empty product code%.*s", "", 0)))
                goto done;
            continue;
        }
        if (prefrec_dict_find(ds->products, F(c_pd)) >= 0) {
            if ((st = bad_value(&t, L, (size_t)c_pd, "duplicate product code", err,
                                "duplicate product code '%.*s'", F(c_pd))))
                goto done;
            continue;
        }
        int32_t id = prefrec_dict_intern(ds->products, F(c_pd));
        int32_t nm = prefrec_dict_intern(ds->names, F(c_nm));
        int32_t hl = f[c_hlv].len ? prefrec_dict_intern(ds->categories, F(c_hlv)) : -1;
        int32_t mc = f[c_mcls].len ? prefrec_subcategory_intern_(ds, F(c_hlv), F(c_mcls)) : -1;
        if (id < 0 || nm < 0 || (f[c_hlv].len && hl < 0) || (f[c_mcls].len && mc < 0)) goto nomem;
        if ((size_t)id >= cap) {
            cap = cap ? cap * 2 : 1024;
            const char **pn = realloc((void *)ds->product_name, cap * sizeof *pn);
            if (!pn) goto nomem;
            ds->product_name = pn;
            int32_t *pc = realloc(ds->product_category, cap * sizeof *pc);
            if (!pc) goto nomem;
            ds->product_category = pc;
            int32_t *ps = realloc(ds->product_subcategory, cap * sizeof *ps);
            if (!ps) goto nomem;
            ds->product_subcategory = ps;
        }
        ds->product_name[id] = f[c_nm].len ? prefrec_dict_str(ds->names, nm)
                                           : prefrec_dict_str(ds->products, id);
        ds->product_category[id] = hl;
        ds->product_subcategory[id] = mc;
        ds->n_products_in_catalog = id + 1;
    }
    if (r < 0) st = (prefrec_status)r;
    else if (t.rows == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no product rows (header only)", path);
    if (!st) st = prefrec_subcategories_finish_(ds, err);
    ds->has_catalog = st == PREFREC_OK;
done:
    prefrec_table_close_(&t);
    return st;
nomem:
    prefrec_table_close_(&t);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
}

static prefrec_status load_demo(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    int c_cust, c_sex, c_age;
    if ((st = prefrec_table_require_(&t, "cust", "customer id", &c_cust, err)) ||
        (st = prefrec_table_require_(&t, "ma_fem_dv", "gender", &c_sex, err)) ||
        (st = prefrec_table_require_(&t, "ages", "age band", &c_age, err)))
        goto done;
    size_t cap = 0;
    int r;
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
        if (f[c_cust].len == 0) {
            if ((st = bad_value(&t, L, (size_t)c_cust, "empty customer id", err,
                                "empty customer id%.*s", "", 0)))
                goto done;
            continue;
        }
        if (prefrec_dict_find(ds->customers, F(c_cust)) >= 0) {
            if ((st = bad_value(&t, L, (size_t)c_cust, "duplicate customer", err,
                                "duplicate customer '%.*s'", F(c_cust))))
                goto done;
            continue;
        }
        int g = prefrec_gender_parse(F(c_sex));
        if (g == -2) {
            if ((st = bad_value(&t, L, (size_t)c_sex, "bad gender", err,
                                "bad gender '%.*s' (expected 남성 or 여성)", F(c_sex))))
                goto done;
            continue;
        }
        float age = NAN;
        if (f[c_age].len && prefrec_age_parse(F(c_age), &age) != 0) {
            if ((st = bad_value(&t, L, (size_t)c_age, "bad age band", err,
                                "bad age band '%.*s' (expected e.g. 20대)", F(c_age))))
                goto done;
            continue;
        }
        int32_t id = prefrec_dict_intern(ds->customers, F(c_cust));
        if (id < 0) goto nomem;
        if ((size_t)id >= cap) {
            cap = cap ? cap * 2 : 4096;
            int8_t *gg = realloc(ds->gender, cap * sizeof *gg);
            if (!gg) goto nomem;
            ds->gender = gg;
            float *aa = realloc(ds->age, cap * sizeof *aa);
            if (!aa) goto nomem;
            ds->age = aa;
        }
        ds->gender[id] = (int8_t)g;
        ds->age[id] = age;
        ds->n_customers_in_demographics = id + 1;
    }
    if (r < 0) st = (prefrec_status)r;
    else if (t.rows == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no customer rows (header only)", path);
    ds->has_demographics = st == PREFREC_OK;
done:
    prefrec_table_close_(&t);
    return st;
nomem:
    prefrec_table_close_(&t);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
}

/* s (len <= 16) as two words that, with len, identify it: overlapping loads, no copy (first and
 * last 8 bytes from 8 bytes on, first and last 4 from 4, else bytes 0, len/2 and len-1).
 * Returns -1 when len > 16. */
static inline int key16(const char *s, size_t len, uint64_t *a, uint64_t *b) {
    if (len >= 8) {
        if (len > 16) return -1;
        memcpy(a, s, 8);
        memcpy(b, s + len - 8, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        *a = x;
        *b = y;
    } else {
        const unsigned char *u = (const unsigned char *)s;
        *a = len ? (uint64_t)u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16 : 0;
        *b = 0;
    }
    return 0;
}

/* A one-entry cache in front of interning: consecutive purchase lines mostly share the
 * customer, receipt, affiliate, branch and date, so most rows skip the lookup altogether. */
typedef struct {
    uint64_t a, b;
    size_t len;
    int32_t id; /* -1: empty */
} last_;

static inline int last_hit(const last_ *c, const char *s, size_t len, uint64_t *a, uint64_t *b) {
    *a = *b = 0;
    return key16(s, len, a, b) == 0 && c->id >= 0 && c->len == len && c->a == *a && c->b == *b;
}

static inline int32_t last_set(last_ *c, size_t len, uint64_t a, uint64_t b, int32_t id) {
    c->a = a;
    c->b = b;
    c->len = len <= 16 ? len : (size_t)-1;
    c->id = id;
    return id;
}

/* Codes of the small dictionaries (products, affiliates, branches, customers): a direct-mapped
 * cache of 4096 (code -> id) entries in front of the dictionary, compared as two words. Ids
 * never change once given, so a cached id stays right. */
#define CCACHE_BITS 12
typedef struct {
    uint64_t a, b;
    size_t len; /* 0: empty (an empty code is never looked up here) */
    int32_t id;
} ccache_;

static inline ccache_ *ccache_slot(ccache_ *cc, uint64_t a, uint64_t b, size_t len) {
    return &cc[((a ^ (b * 0x9E3779B97F4A7C15ull) ^ len) * 0xbf58476d1ce4e5b9ull) >>
               (64 - CCACHE_BITS)];
}

/* The id of s in d (intern: adding it if new), through the cache. */
static inline int32_t cached_id(ccache_ *cc, prefrec_dict *d, int intern, const char *s,
                                size_t len) {
    uint64_t a, b;
    if (len == 0 || key16(s, len, &a, &b) != 0)
        return intern ? prefrec_dict_intern(d, s, len) : prefrec_dict_find(d, s, len);
    ccache_ *e = ccache_slot(cc, a, b, len);
    if (e->len == len && e->a == a && e->b == b) return e->id;
    int32_t id = intern ? prefrec_dict_intern(d, s, len) : prefrec_dict_find(d, s, len);
    if (id >= 0) {
        e->a = a;
        e->b = b;
        e->len = len;
        e->id = id;
    }
    return id;
}

/* One cached lookup: the last code first, then the code cache. */
static inline int32_t intern_cached(ccache_ *cc, prefrec_dict *d, last_ *c, const char *s,
                                    size_t len) {
    uint64_t a, b;
    if (last_hit(c, s, len, &a, &b)) return c->id;
    return last_set(c, len, a, b, cached_id(cc, d, 1, s, len));
}

static prefrec_status load_purchases(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                     prefrec_error *err) {
    prefrec_table_ t;
    prefrec_keymap_ *rk = NULL;
    ccache_ *pc = NULL, *cc = NULL;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    int c_cust, c_rct, c_ch, c_cop, c_br, c_pd, c_dt, c_hr, c_am, c_ct;
    if ((st = prefrec_table_require_(&t, "cust", "customer id", &c_cust, err)) ||
        (st = prefrec_table_require_(&t, "rct_no", "receipt", &c_rct, err)) ||
        (st = prefrec_table_require_(&t, "chnl_dv", "channel", &c_ch, err)) ||
        (st = prefrec_table_require_(&t, "cop_c", "affiliate", &c_cop, err)) ||
        (st = prefrec_table_require_(&t, "br_c", "branch", &c_br, err)) ||
        (st = prefrec_table_require_(&t, "pd_c", "product code", &c_pd, err)) ||
        (st = prefrec_table_require_(&t, "de_dt", "date", &c_dt, err)) ||
        (st = prefrec_table_require_(&t, "de_hr", "hour", &c_hr, err)) ||
        (st = prefrec_table_require_(&t, "buy_am", "amount", &c_am, err)) ||
        (st = prefrec_table_require_(&t, "buy_ct", "count", &c_ct, err)))
        goto done;
    struct stat sb;
    size_t bytes = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
    size_t cap = bytes / 40 + 1024; /* rows are about 64 bytes: room without a realloc */
    /* receipts: a few rows each (about 3.4 in L.POINT); room for a row in 2.5 */
    if (prefrec_dataset_grow_(ds, cap) != 0 || prefrec_dict_reserve_ids_(ds->receipts, cap / 5 * 2))
        goto nomem;
    rk = prefrec_keymap_new_(ds->receipts);
    pc = calloc((size_t)1 << CCACHE_BITS, sizeof *pc); /* products */
    cc = calloc((size_t)3 << CCACHE_BITS, sizeof *cc); /* affiliates, customers, branches */
    if (!rk || !pc || !cc) goto nomem;
    ccache_ *cc_aff = cc, *cc_cust = cc + ((size_t)1 << CCACHE_BITS),
            *cc_br = cc + ((size_t)2 << CCACHE_BITS);
    last_ lc = {.id = -1}, la = {.id = -1}, lb = {.id = -1}, lr = {.id = -1}, ld = {.id = -1};
    size_t n = ds->n_rows;
    int r;
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
        /* parse and check everything before interning, so a skipped row leaves no trace */
        int32_t prod = cached_id(pc, ds->products, 0, F(c_pd));
        if (prod < 0) {
            if ((st = bad_value(&t, L, (size_t)c_pd, "unknown product code", err,
                                "unknown product code '%.*s' (not in the catalog 04_PD_CLAC)",
                                F(c_pd))))
                goto done;
            continue;
        }
        int32_t day;
        uint64_t ka, kb;
        if (last_hit(&ld, F(c_dt), &ka, &kb)) {
            day = ld.id;
        } else if (prefrec_date_parse(F(c_dt), &day) == 0) {
            if (day >= 0) last_set(&ld, f[c_dt].len, ka, kb, day);
        } else {
            if ((st = bad_value(&t, L, (size_t)c_dt, "bad date", err,
                                "bad date '%.*s' (expected yyyymmdd)", F(c_dt))))
                goto done;
            continue;
        }
        int64_t hr;
        if (prefrec_parse_int_(F(c_hr), &hr) != 0 || hr < 0 || hr > 23) {
            if ((st = bad_value(&t, L, (size_t)c_hr, "bad hour", err,
                                "bad hour '%.*s' (expected 0-23)", F(c_hr))))
                goto done;
            continue;
        }
        uint8_t ch;
        if (f[c_ch].len == 1 && (f[c_ch].p[0] == '1' || f[c_ch].p[0] == '2')) {
            ch = f[c_ch].p[0] == '1' ? PREFREC_CHANNEL_OFFLINE : PREFREC_CHANNEL_ONLINE;
        } else {
            if ((st = bad_value(&t, L, (size_t)c_ch, "bad channel", err,
                                "bad channel '%.*s' (expected 1 offline or 2 online)", F(c_ch))))
                goto done;
            continue;
        }
        double am, ct;
        if (prefrec_parse_double_(F(c_am), &am) != 0) {
            if ((st = bad_value(&t, L, (size_t)c_am, "bad amount", err,
                                "bad amount '%.*s'", F(c_am))))
                goto done;
            continue;
        }
        if (prefrec_parse_double_(F(c_ct), &ct) != 0) {
            if ((st = bad_value(&t, L, (size_t)c_ct, "bad count", err, "bad count '%.*s'",
                                F(c_ct))))
                goto done;
            continue;
        }
        if (f[c_cust].len == 0 || f[c_cop].len == 0 || f[c_rct].len == 0) {
            int c = f[c_cust].len == 0 ? c_cust : f[c_cop].len == 0 ? c_cop : c_rct;
            if ((st = bad_value(&t, L, (size_t)c, "empty id", err, "empty value%.*s", "", 0)))
                goto done;
            continue;
        }
        int32_t aff = intern_cached(cc_aff, ds->affiliates, &la, F(c_cop));
        if (aff > 255) {
            st = prefrec_csv_errorf(t.csv, (size_t)c_cop, err, PREFREC_E_RANGE,
                                    "more than 256 affiliates (cop_c)");
            goto done;
        }
        int32_t cust = intern_cached(cc_cust, ds->customers, &lc, F(c_cust));
        int32_t rct = last_hit(&lr, F(c_rct), &ka, &kb)
                          ? lr.id
                          : last_set(&lr, f[c_rct].len, ka, kb,
                                     prefrec_keymap_intern_(rk, F(c_rct)));
        int32_t br = f[c_br].len ? intern_cached(cc_br, ds->branches, &lb, F(c_br)) : -1;
        if (aff < 0 || cust < 0 || rct < 0 || (f[c_br].len && br < 0)) goto nomem;
        if (n == cap) {
            cap *= 2;
            if (prefrec_dataset_grow_(ds, cap) != 0) goto nomem;
        }
        ds->customer[n] = cust;
        ds->product[n] = prod;
        ds->day[n] = day;
        ds->hour[n] = (uint8_t)hr;
        ds->affiliate[n] = (uint8_t)aff;
        ds->receipt[n] = rct;
        ds->quantity[n] = (float)ct;
        ds->amount[n] = am;
        ds->channel[n] = ch;
        ds->lpay[n] = 0;
        ds->branch[n] = br;
        ds->n_rows = ++n;
    }
    if (r < 0) st = (prefrec_status)r;
    else if (t.rows == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no purchase rows (header only)", path);
    if (!st && prefrec_dict_index_(ds->receipts) != 0) goto nomem;
    if (!st && prefrec_dataset_grow_(ds, n) != 0) goto nomem; /* give back the spare rows */
done:
    prefrec_keymap_free_(rk);
    free(pc);
    free(cc);
    prefrec_table_close_(&t);
    return st;
nomem:
    prefrec_keymap_free_(rk);
    free(pc);
    free(cc);
    prefrec_table_close_(&t);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
}

/* 06: which receipts were paid with Lpay. Receipts not among the purchases (the file also
 * covers the non-retail affiliates of 03_COP_U) are counted in n_lpay_unmatched. */
static prefrec_status load_lpay(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    int c_rct;
    uint8_t *paid = NULL;
    if ((st = prefrec_table_require_(&t, "rct_no", "receipt", &c_rct, err))) goto done;
    int32_t nr = prefrec_dict_size(ds->receipts);
    paid = calloc(nr ? (size_t)nr : 1, 1);
    if (!paid) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    int r;
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
        int32_t id = prefrec_dict_find(ds->receipts, F(c_rct));
        ds->n_lpay_rows++;
        if (id >= 0) paid[id] = 1;
        else ds->n_lpay_unmatched++;
    }
    if (r < 0) {
        st = (prefrec_status)r;
        goto done;
    }
    for (size_t i = 0; i < ds->n_rows; i++) ds->lpay[i] = paid[ds->receipt[i]];
done:
    free(paid);
    prefrec_table_close_(&t);
    return st;
}

prefrec_status prefrec_lpoint_load_(const char *dir, const prefrec_load_params *p,
                                    prefrec_dataset *ds, prefrec_error *err) {
    prefrec_loader_ L;
    prefrec_loader_init_(&L, p);
    char *f01 = join(dir, "LPOINT_BIG_COMP_01_DEMO.csv");
    char *f02 = join(dir, "LPOINT_BIG_COMP_02_PDDE.csv");
    char *f04 = join(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv");
    char *f06 = join(dir, "LPOINT_BIG_COMP_06_LPAY.csv");
    prefrec_status st = PREFREC_OK;
    if (!f01 || !f02 || !f04 || !f06) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (!st) st = load_catalog(f04, &L, ds, err);
    if (!st) st = load_demo(f01, &L, ds, err);
    if (!st) st = load_purchases(f02, &L, ds, err);
    struct stat sb;
    if (!st && stat(f06, &sb) == 0) st = load_lpay(f06, &L, ds, err);
    prefrec_loader_progress_end_(&L);
    if (!st) {
        ds->n_skipped = L.skipped;
        prefrec_loader_report_(&L);
    }
    free(f01);
    free(f02);
    free(f04);
    free(f06);
    return st;
}
