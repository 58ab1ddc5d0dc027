/* dataset.c - the columnar store: lifetime, growth, finishing (dictionaries checked, returns
 * netted), the catalog and demographics arrays (see prefrec/native/dataset.h). Below it: dict.c (strings)
 * and returns.c; the loaders (table.c, attrs.c, lpoint.c, pdde.c, mapping.c) fill it; load.c picks
 * the loader. */
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

/* ---- dataset lifetime ---------------------------------------------------------------------- */

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

#define GROW(field) \
    do { \
        void *p_ = column_realloc(ds->field, ds->n_rows * sizeof *ds->field, \
                                  (cap ? cap : 1) * sizeof *ds->field); \
        if (!p_) return -1; \
        ds->field = p_; \
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

/* The summaries of the rows: customers with rows, first and last day. */
static prefrec_status summarise(prefrec_dataset *ds, prefrec_error *err) {
    int32_t nc = prefrec_dict_size(ds->customers);
    uint8_t *seen = calloc(nc > 0 ? (size_t)nc : 1, 1);
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
                                     "names cannot",
                                     what, s, at + 1, len);
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
    return summarise(ds, err);
}

/* ---- opt-out: a customer's rows and attributes removed ----------------------------------- */

prefrec_status prefrec_dataset_drop_customers(prefrec_dataset *ds, const uint8_t *drop,
                                              size_t *rows, prefrec_error *err) {
    size_t w = 0;
    int32_t nc = prefrec_dict_size(ds->customers);
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (drop[ds->customer[i]]) continue;
        if (w != i) {
            ds->customer[w] = ds->customer[i];
            ds->product[w] = ds->product[i];
            ds->day[w] = ds->day[i];
            ds->hour[w] = ds->hour[i];
            ds->affiliate[w] = ds->affiliate[i];
            ds->receipt[w] = ds->receipt[i];
            ds->quantity[w] = ds->quantity[i];
            ds->amount[w] = ds->amount[i];
            ds->channel[w] = ds->channel[i];
            ds->lpay[w] = ds->lpay[i];
            ds->branch[w] = ds->branch[i];
        }
        w++;
    }
    if (rows) *rows = ds->n_rows - w;
    ds->n_rows = w;
    for (int32_t c = 0; c < nc; c++)
        if (drop[c]) {
            if (ds->gender) ds->gender[c] = PREFREC_GENDER_UNKNOWN;
            if (ds->age) ds->age[c] = NAN;
        }
    return summarise(ds, err);
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
