/* interactions.c - the customer x product purchase matrix of a training or test window.
 *
 * Built in two counting passes over the columnar rows (bucket by customer, then sort each
 * customer's few products), so the cost is linear in the rows plus sum of h log h over
 * customers' histories; no hash tables. The transpose (by product) is a second counting sort. */
#include <stdlib.h>
#include <string.h>

#include "host/dist.h"
#include "prefrec/native/rankers.h"

typedef struct row_ref {
    int32_t product, day;
} row_ref;

static int cmp_row_ref(const void *a, const void *b) {
    const row_ref *x = a, *y = b;
    if (x->product != y->product) return x->product < y->product ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

void prefrec_interactions_free(prefrec_interactions *x) {
    if (!x) return;
    free(x->row_start);
    free(x->product);
    free(x->count);
    free(x->last_day);
    free(x->col_start);
    free(x->col_customer);
    free(x->col_count);
    free(x->n_buyers);
    free(x);
}

static int row_in(const prefrec_dataset *ds, size_t i, int aff, int32_t from, int32_t to) {
    if (ds->day[i] < from || ds->day[i] >= to) return 0;
    return aff < 0 || ds->affiliate[i] == aff;
}

prefrec_status prefrec_interactions_build(const prefrec_dataset *ds, int aff, int32_t day_from,
                                          int32_t day_to, prefrec_interactions **out,
                                          prefrec_error *err) {
    if (!ds || !out) return prefrec_error_set(err, PREFREC_E_INVAL, "interactions: NULL argument");
    *out = NULL;
    int32_t nc = prefrec_dict_size(ds->customers), np = prefrec_dict_size(ds->products);
    prefrec_interactions *x = calloc(1, sizeof *x);
    int64_t *cnt = calloc((size_t)nc + 1, sizeof *cnt);
    if (!x || !cnt) goto nomem;
    x->n_customers = nc;
    x->n_products = np;
    x->affiliate = aff;
    x->day_from = day_from;
    x->day_to = day_to;
    size_t n_in = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (!row_in(ds, i, aff, day_from, day_to)) continue;
        int32_t c = ds->customer[i], p = ds->product[i];
        if (c < 0 || c >= nc || p < 0 || p >= np) {
            free(cnt);
            prefrec_interactions_free(x);
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "interactions: row %zu has customer %d / product %d outside "
                                     "the dictionaries (%d / %d)",
                                     i, c, p, nc, np);
        }
        cnt[c + 1]++;
        n_in++;
    }
    for (int32_t c = 0; c < nc; c++) cnt[c + 1] += cnt[c];
    row_ref *rows = malloc((n_in ? n_in : 1) * sizeof *rows);
    int64_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
    if (!rows || !fill) {
        free(rows);
        free(fill);
        goto nomem;
    }
    memcpy(fill, cnt, ((size_t)nc + 1) * sizeof *fill);
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (!row_in(ds, i, aff, day_from, day_to)) continue;
        row_ref r = {ds->product[i], ds->day[i]};
        rows[fill[ds->customer[i]]++] = r;
    }
    free(fill);
    /* per customer: sort by product, then collapse runs into pairs (count pass first) */
    x->row_start = calloc((size_t)nc + 1, sizeof *x->row_start);
    if (!x->row_start) {
        free(rows);
        goto nomem;
    }
    int64_t pairs = 0;
    for (int32_t c = 0; c < nc; c++) {
        size_t a = (size_t)cnt[c], b = (size_t)cnt[c + 1];
        if (b - a > 1) qsort(rows + a, b - a, sizeof *rows, cmp_row_ref);
        for (size_t i = a; i < b; i++)
            if (i == a || rows[i].product != rows[i - 1].product) pairs++;
        x->row_start[c + 1] = pairs;
    }
    x->n_pairs = pairs;
    size_t npair = pairs ? (size_t)pairs : 1;
    x->product = malloc(npair * sizeof *x->product);
    x->count = malloc(npair * sizeof *x->count);
    x->last_day = malloc(npair * sizeof *x->last_day);
    x->col_start = calloc((size_t)np + 1, sizeof *x->col_start);
    x->col_customer = malloc(npair * sizeof *x->col_customer);
    x->col_count = malloc(npair * sizeof *x->col_count);
    x->n_buyers = calloc((size_t)np ? (size_t)np : 1, sizeof *x->n_buyers);
    if (!x->product || !x->count || !x->last_day || !x->col_start || !x->col_customer ||
        !x->col_count || !x->n_buyers) {
        free(rows);
        goto nomem;
    }
    int64_t k = -1;
    for (int32_t c = 0; c < nc; c++) {
        size_t a = (size_t)cnt[c], b = (size_t)cnt[c + 1];
        for (size_t i = a; i < b; i++) {
            if (i == a || rows[i].product != rows[i - 1].product) {
                k++;
                x->product[k] = rows[i].product;
                x->count[k] = 0;
                x->last_day[k] = rows[i].day;
            }
            x->count[k] += 1.0f;
            if (rows[i].day > x->last_day[k]) x->last_day[k] = rows[i].day;
        }
    }
    free(rows);
    free(cnt);
    cnt = NULL;
    /* transpose: customers come out ascending because c is visited in order */
    for (int64_t i = 0; i < pairs; i++) x->col_start[x->product[i] + 1]++;
    for (int32_t p = 0; p < np; p++) {
        x->n_buyers[p] = (int32_t)x->col_start[p + 1];
        x->col_start[p + 1] += x->col_start[p];
    }
    int64_t *pos = malloc(((size_t)np + 1) * sizeof *pos);
    if (!pos) goto nomem;
    memcpy(pos, x->col_start, ((size_t)np + 1) * sizeof *pos);
    for (int32_t c = 0; c < nc; c++)
        for (int64_t i = x->row_start[c]; i < x->row_start[c + 1]; i++) {
            int64_t j = pos[x->product[i]]++;
            x->col_customer[j] = c;
            x->col_count[j] = x->count[i];
        }
    free(pos);
    *out = x;
    return PREFREC_OK;
nomem:
    free(cnt);
    prefrec_interactions_free(x);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "interactions: out of memory");
}

prefrec_status prefrec_interactions_build_dist(const prefrec_dataset *ds, int aff, int32_t day_from,
                                               int32_t day_to, prefrec_dist *dist,
                                               const uint64_t *customer_key,
                                               prefrec_interactions **out, prefrec_error *err) {
    prefrec_status st = prefrec_interactions_build(ds, aff, day_from, day_to, out, err);
    if (prefrec_dist_size(dist) > 1) st = prefrec_dist_agree(dist, st, 0, err);
    if (st) return st;
    prefrec_interactions *x = *out;
    x->dist = dist;
    x->customer_key = customer_key;
    if (prefrec_dist_size(dist) <= 1) return PREFREC_OK;
    size_t np = (size_t)x->n_products;
    int64_t *b = malloc((np ? np : 1) * sizeof *b);
    if (!b) return prefrec_error_set(err, PREFREC_E_NOMEM, "interactions: out of memory");
    for (size_t j = 0; j < np; j++) b[j] = x->n_buyers[j];
    int rc = prefrec_dist_allreduce_i64(dist, b, np, PREFREC_DIST_SUM);
    for (size_t j = 0; j < np; j++) x->n_buyers[j] = (int32_t)b[j];
    free(b);
    if (rc) {
        prefrec_interactions_free(x);
        *out = NULL;
        return prefrec_error_set(err, PREFREC_E_IO, "interactions: summing over the ranks failed");
    }
    return PREFREC_OK;
}

prefrec_status prefrec_interactions_window(const prefrec_dataset *ds, const prefrec_interactions *x,
                                           int32_t day_from, int32_t day_to,
                                           prefrec_interactions **out, prefrec_error *err) {
    return prefrec_interactions_build_dist(ds, x->affiliate, day_from, day_to, x->dist,
                                           x->customer_key, out, err);
}

int64_t prefrec_interactions_find(const prefrec_interactions *x, int32_t c, int32_t p) {
    if (c < 0 || c >= x->n_customers) return -1;
    int64_t lo = x->row_start[c], hi = x->row_start[c + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x->product[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->row_start[c + 1] && x->product[lo] == p ? lo : -1;
}
