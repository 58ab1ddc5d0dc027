/* prefrec/stamp.h - plan 3, the monthly stamp mission: the customer's 5 top categories by mean
 * predicted score, and 5 products in each.
 *
 *   prefrec_stamp_category board[5];
 *   size_t m;
 *   if (prefrec_stamp_board(scores, bought, product_category, n_products, n_categories,
 *                           5, 5, board, &m, &err) == PREFREC_OK)
 *       for (i < m) board[i].category, board[i].products[0 .. board[i].n_products)
 *
 * Rule (documented in docs/engine.md): a category's mean is over all its products' predicted
 * scores (products with category -1 belong to none). Categories able to fill per_cat products
 * rank first; among them, higher mean first, then lower category index. Within a category,
 * never-bought products by predicted score (ties: lower index), then bought ones if the
 * category has fewer than per_cat never-bought products (flagged in `bought` of the entry).
 * Allocates scratch internally (freed before return). Thread-safe. */
#ifndef PREFREC_STAMP_H
#define PREFREC_STAMP_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"
#include "prefrec/topk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_STAMP_MAX_PER_CAT 16

typedef struct prefrec_stamp_category {
    int32_t category; /* category index */
    float mean_score; /* mean predicted score over the category's products */
    size_t n_products; /* <= per_cat */
    prefrec_scored products[PREFREC_STAMP_MAX_PER_CAT]; /* index = product index */
    uint8_t bought[PREFREC_STAMP_MAX_PER_CAT]; /* 1: a product the customer has bought */
} prefrec_stamp_category;

/* bought may be NULL (nothing bought). out must hold n_cats entries; *n_out receives how many
 * categories were filled (fewer when the catalogue has fewer categories with products).
 * Errors: PREFREC_E_INVAL (per_cat 0 or > PREFREC_STAMP_MAX_PER_CAT, n_cats == 0, category
 * index out of range), PREFREC_E_EMPTY (no categories at all, or no product has one),
 * PREFREC_E_NOMEM. */
prefrec_status prefrec_stamp_board(const float *scores, const uint8_t *bought,
                                   const int32_t *product_category, size_t n_products,
                                   int32_t n_categories, size_t n_cats, size_t per_cat,
                                   prefrec_stamp_category *out, size_t *n_out, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
