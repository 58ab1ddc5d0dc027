/* returns.c - the returns rule: which purchase lines are purchases (README, "Returns,
 * cancellations and zero lines"; dataset_internal.h).
 *
 * Real extracts carry returns (negative quantity and amount), cancellations and zero lines
 * beside the purchases. Every command counts purchases as distinct (affiliate, customer,
 * product, day), so a return left in would count as one more purchase. The rule, applied once
 * here for every loader and every command:
 *   - a line's measure is its quantity; without a quantity column its amount; without either 1;
 *   - lines are grouped by receipt and product: (receipt, affiliate, customer, product, day);
 *     without a receipt column the receipt is the customer's day at the affiliate;
 *   - a line whose measure is 0 or below is not a purchase (zero line, return);
 *   - the purchase lines of a group whose measures sum to 0 or below (within a millionth of
 *     the sum of their sizes, for fractional quantities) are not purchases either
 *     (bought and returned, or cancelled, in the same receipt); a group that stays above 0
 *     keeps its purchase lines as they are;
 *   - a return with no purchase of the product in its receipt returns an earlier purchase,
 *     which stays a purchase: it happened, and cancelling it would let lines after an as-of
 *     day change the scores as of that day (validation would see its own future).
 * Deterministic and independent of row order; rows keep their order. Input without any line
 * at 0 or below costs one pass over the measure and changes nothing. */
#include <stdlib.h>
#include <string.h>

#include "dataset_internal.h"

typedef struct {
    int32_t receipt, customer, product, day;
    int32_t affiliate; /* -1: empty slot */
    int has_purchase; /* a line above 0 */
    double net, size; /* sum of the measures, and of their absolute values */
} group_;

typedef struct {
    group_ *e;
    size_t mask;
} groups_;

static inline double measure(const prefrec_dataset *ds, size_t i) {
    if (ds->has_quantity) return (double)ds->quantity[i];
    if (ds->has_amount) return ds->amount[i];
    return 1.0;
}

static inline size_t group_hash(const prefrec_dataset *ds, size_t i, size_t mask) {
    uint64_t h = (uint64_t)(uint32_t)ds->receipt[i] * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uint32_t)ds->customer[i] + 0xbf58476d1ce4e5b9ull + (h << 6) + (h >> 2);
    h ^= (uint64_t)(uint32_t)ds->product[i] * 0x94d049bb133111ebull + (h << 6) + (h >> 2);
    h ^= (uint64_t)(uint32_t)ds->day[i] + ((uint64_t)ds->affiliate[i] << 40) + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (size_t)h & mask;
}

/* The group of row i: its slot, or NULL when absent and add is 0. */
static group_ *group_of(groups_ *g, const prefrec_dataset *ds, size_t i, int add) {
    for (size_t j = group_hash(ds, i, g->mask);; j = (j + 1) & g->mask) {
        group_ *e = &g->e[j];
        if (e->affiliate < 0) {
            if (!add) return NULL;
            e->receipt = ds->receipt[i];
            e->customer = ds->customer[i];
            e->product = ds->product[i];
            e->day = ds->day[i];
            e->affiliate = ds->affiliate[i];
            e->has_purchase = 0;
            e->net = e->size = 0;
            return e;
        }
        if (e->receipt == ds->receipt[i] && e->customer == ds->customer[i] &&
            e->product == ds->product[i] && e->day == ds->day[i] &&
            e->affiliate == ds->affiliate[i])
            return e;
    }
}

prefrec_status prefrec_dataset_returns_(prefrec_dataset *ds, prefrec_error *err) {
    const size_t n = ds->n_rows;
    size_t nonpos = 0;
    for (size_t i = 0; i < n; i++) nonpos += !(measure(ds, i) > 0);
    if (!nonpos) return PREFREC_OK;
    /* groups that hold a line at 0 or below: only they can change */
    groups_ g;
    size_t cap = 16;
    while (cap < 2 * nonpos) cap *= 2;
    g.e = malloc(cap * sizeof *g.e);
    if (!g.e) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory (returns)");
    g.mask = cap - 1;
    for (size_t j = 0; j < cap; j++) g.e[j].affiliate = -1;
    for (size_t i = 0; i < n; i++)
        if (!(measure(ds, i) > 0)) group_of(&g, ds, i, 1);
    /* their sums over all their lines */
    for (size_t i = 0; i < n; i++) {
        group_ *e = group_of(&g, ds, i, 0);
        if (!e) continue;
        double m = measure(ds, i);
        e->net += m;
        e->size += m < 0 ? -m : m;
        if (m > 0) e->has_purchase = 1;
    }
    /* keep the purchases, in order */
    size_t k = 0, zero = 0, ret = 0, unmatched = 0, cancelled = 0;
    for (size_t i = 0; i < n; i++) {
        double m = measure(ds, i);
        const group_ *e = group_of(&g, ds, i, 0);
        /* a net within rounding of 0 is 0: 0.3 kg bought, 0.1 + 0.2 kg returned */
        int keep = m > 0 && (!e || e->net > 1e-6 * e->size);
        if (!keep) {
            if (m > 0)
                cancelled++;
            else if (m < 0) {
                ret++;
                unmatched += !e->has_purchase;
            } else {
                zero++; /* NaN cannot come from the loaders; it would count here */
            }
            continue;
        }
        if (k != i) {
            ds->customer[k] = ds->customer[i];
            ds->product[k] = ds->product[i];
            ds->day[k] = ds->day[i];
            ds->hour[k] = ds->hour[i];
            ds->affiliate[k] = ds->affiliate[i];
            ds->receipt[k] = ds->receipt[i];
            ds->quantity[k] = ds->quantity[i];
            ds->amount[k] = ds->amount[i];
            ds->channel[k] = ds->channel[i];
            ds->lpay[k] = ds->lpay[i];
            ds->branch[k] = ds->branch[i];
        }
        k++;
    }
    free(g.e);
    ds->n_rows = k;
    ds->n_zero_lines += zero;
    ds->n_return_lines += ret;
    ds->n_returns_unmatched += unmatched;
    ds->n_cancelled_lines += cancelled;
    return PREFREC_OK;
}
