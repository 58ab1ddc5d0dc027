/* rank_baskets.h - a training window's purchases as baskets in time order (internal to src/rank).
 *
 * The next-basket methods (TIFU-KNN, UP-CF@r) see a customer's history as a sequence of
 * baskets. A basket is one receipt (the dataset's receipt column); when the input has no
 * receipt column, all of a customer's lines of one day. Baskets are ordered by day, then by
 * the earliest hour of their lines (unknown last), then by receipt index (the order receipts
 * first appear in the input). A basket holds its distinct products, ascending (multi-hot: a
 * product bought twice in one receipt counts once).
 *
 *   rank_baskets *bk = NULL;
 *   if (rank_baskets_build(ds, x, &bk)) ...;     // the rows of x's window and affiliate
 *   for (int64_t b = bk->cust_start[c]; b < bk->cust_start[c + 1]; b++)   // oldest first
 *       for (int64_t i = bk->basket_start[b]; i < bk->basket_start[b + 1]; i++) use(bk->item[i]);
 *   rank_baskets_free(bk);
 */
#ifndef PREFREC_RANK_BASKETS_H
#define PREFREC_RANK_BASKETS_H

#include "prefrec/native/rankers.h"

typedef struct rank_baskets {
    int32_t n_customers;
    int64_t n_baskets;
    int64_t *cust_start; /* n_customers + 1: customer c's baskets, oldest first */
    int64_t *basket_start; /* n_baskets + 1: basket b's products in item[] */
    int32_t *item; /* distinct products of each basket, ascending */
    int32_t *day; /* n_baskets: the basket's day */
} rank_baskets;

/* The baskets of the rows of ds in x's window (day_from <= day < day_to) and affiliate (any
 * when x->affiliate < 0). Returns 0, or -1 out of memory (*out NULL). */
int rank_baskets_build(const prefrec_dataset *ds, const prefrec_interactions *x,
                       rank_baskets **out);
void rank_baskets_free(rank_baskets *bk); /* accepts NULL */

#endif
