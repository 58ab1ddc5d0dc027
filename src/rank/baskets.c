/* baskets.c - a training window's purchase lines grouped into baskets in time order
 * (rank_baskets.h).
 *
 * Rows are bucketed by customer (counting sort), each customer's few rows sorted by (day,
 * receipt, product), runs of one (day, receipt) collapsed into a basket of distinct products,
 * and the customer's baskets put in (day, earliest hour, receipt) order. Linear in the rows
 * plus sum of h log h over customers. */
#include <stdlib.h>
#include <string.h>

#include "rank_baskets.h"

typedef struct bk_row {
    int32_t day, key, product;
    uint8_t hour;
} bk_row;

typedef struct bk_desc {
    int32_t day, key;
    uint8_t hour;
    int64_t from, to; /* rows of the basket in the customer's sorted rows */
} bk_desc;

static int cmp_row(const void *a, const void *b) {
    const bk_row *x = a, *y = b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->product > y->product) - (x->product < y->product);
}

static int cmp_desc(const void *a, const void *b) {
    const bk_desc *x = a, *y = b;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    if (x->hour != y->hour) return x->hour < y->hour ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

void rank_baskets_free(rank_baskets *bk) {
    if (!bk) return;
    free(bk->cust_start);
    free(bk->basket_start);
    free(bk->item);
    free(bk->day);
    free(bk);
}

static int row_in(const prefrec_dataset *ds, const prefrec_interactions *x, size_t i) {
    if (ds->day[i] < x->day_from || ds->day[i] >= x->day_to) return 0;
    if (ds->customer[i] < 0 || ds->customer[i] >= x->n_customers) return 0;
    return x->affiliate < 0 || ds->affiliate[i] == x->affiliate;
}

int rank_baskets_build(const prefrec_dataset *ds, const prefrec_interactions *x,
                       rank_baskets **out) {
    *out = NULL;
    int32_t nc = x->n_customers;
    rank_baskets *bk = calloc(1, sizeof *bk);
    int64_t *cnt = calloc((size_t)nc + 1, sizeof *cnt);
    bk_row *rows = NULL;
    bk_desc *desc = NULL;
    if (!bk || !cnt) goto nomem;
    bk->n_customers = nc;
    size_t n_in = 0;
    for (size_t i = 0; i < ds->n_rows; i++)
        if (row_in(ds, x, i)) {
            cnt[ds->customer[i] + 1]++;
            n_in++;
        }
    for (int32_t c = 0; c < nc; c++) cnt[c + 1] += cnt[c];
    size_t cap = n_in ? n_in : 1;
    rows = malloc(cap * sizeof *rows);
    desc = malloc(cap * sizeof *desc);
    bk->cust_start = calloc((size_t)nc + 1, sizeof *bk->cust_start);
    bk->basket_start = malloc((cap + 1) * sizeof *bk->basket_start);
    bk->item = malloc(cap * sizeof *bk->item);
    bk->day = malloc(cap * sizeof *bk->day);
    if (!rows || !desc || !bk->cust_start || !bk->basket_start || !bk->item || !bk->day) goto nomem;
    {
        int64_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
        if (!fill) goto nomem;
        memcpy(fill, cnt, ((size_t)nc + 1) * sizeof *fill);
        for (size_t i = 0; i < ds->n_rows; i++) {
            if (!row_in(ds, x, i)) continue;
            bk_row r = {ds->day[i], ds->receipt && ds->receipt[i] >= 0 ? ds->receipt[i] : -1,
                        ds->product[i], ds->hour ? ds->hour[i] : PREFREC_HOUR_UNKNOWN};
            rows[fill[ds->customer[i]]++] = r;
        }
        free(fill);
    }
    int64_t nb = 0, ni = 0;
    bk->basket_start[0] = 0;
    for (int32_t c = 0; c < nc; c++) {
        int64_t a = cnt[c], b = cnt[c + 1];
        if (b - a > 1) qsort(rows + a, (size_t)(b - a), sizeof *rows, cmp_row);
        /* runs of one (day, receipt) */
        int64_t nd = 0;
        for (int64_t i = a; i < b; i++) {
            if (i == a || rows[i].day != rows[i - 1].day || rows[i].key != rows[i - 1].key) {
                desc[nd].day = rows[i].day;
                desc[nd].key = rows[i].key;
                desc[nd].hour = rows[i].hour;
                desc[nd].from = i;
                nd++;
            }
            if (rows[i].hour < desc[nd - 1].hour) desc[nd - 1].hour = rows[i].hour;
            desc[nd - 1].to = i + 1;
        }
        if (nd > 1) qsort(desc, (size_t)nd, sizeof *desc, cmp_desc);
        for (int64_t d = 0; d < nd; d++) {
            for (int64_t i = desc[d].from; i < desc[d].to; i++)
                if (i == desc[d].from || rows[i].product != rows[i - 1].product)
                    bk->item[ni++] = rows[i].product;
            bk->day[nb] = desc[d].day;
            bk->basket_start[++nb] = ni;
        }
        bk->cust_start[c + 1] = nb;
    }
    bk->n_baskets = nb;
    free(rows);
    free(desc);
    free(cnt);
    *out = bk;
    return 0;
nomem:
    free(rows);
    free(desc);
    free(cnt);
    rank_baskets_free(bk);
    return -1;
}
