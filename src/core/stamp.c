/* stamp.c - the stamp mission board (see prefrec/stamp.h for the rule). */
#include "prefrec/stamp.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double sum;
    size_t count;
} cat_acc;

/* Category a ranks before b: fillable first, then higher mean, then lower index. */
static int cat_before(const cat_acc *acc, size_t per_cat, int32_t a, int32_t b) {
    int fa = acc[a].count >= per_cat, fb = acc[b].count >= per_cat;
    if (fa != fb) return fa;
    double ma = acc[a].sum / (double)acc[a].count, mb = acc[b].sum / (double)acc[b].count;
    if (ma != mb) return ma > mb;
    return a < b;
}

prefrec_status prefrec_stamp_board(const float *scores, const uint8_t *bought,
                                   const int32_t *product_category, size_t n_products,
                                   int32_t n_categories, size_t n_cats, size_t per_cat,
                                   prefrec_stamp_category *out, size_t *n_out, prefrec_error *err) {
    *n_out = 0;
    if (n_categories <= 0)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "stamp board: the catalogue has no categories");
    if (n_cats == 0 || per_cat == 0 || per_cat > PREFREC_STAMP_MAX_PER_CAT)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "stamp board: need at least 1 category and 1..%d products per "
                                 "category, got %zu and %zu",
                                 PREFREC_STAMP_MAX_PER_CAT, n_cats, per_cat);
    cat_acc *acc = calloc((size_t)n_categories, sizeof *acc);
    if (!acc) return prefrec_error_set(err, PREFREC_E_NOMEM, "stamp board: out of memory");
    size_t with_cat = 0;
    for (size_t i = 0; i < n_products; i++) {
        int32_t c = product_category[i];
        if (c < 0) continue;
        if (c >= n_categories) {
            free(acc);
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "stamp board: product %zu has category %d of %d", i, c,
                                     n_categories);
        }
        float s = scores[i];
        acc[c].sum += isnan(s) ? 0.0 : (double)s;
        acc[c].count++;
        with_cat++;
    }
    if (!with_cat) {
        free(acc);
        return prefrec_error_set(err, PREFREC_E_EMPTY, "stamp board: no product has a category");
    }
    /* choose the n_cats best categories by insertion into a small sorted list */
    size_t m = 0;
    int32_t chosen[64];
    size_t want = n_cats < 64 ? n_cats : 64;
    for (int32_t c = 0; c < n_categories; c++) {
        if (!acc[c].count) continue;
        size_t pos = m;
        while (pos > 0 && cat_before(acc, per_cat, c, chosen[pos - 1])) pos--;
        if (pos >= want) continue;
        if (m < want) m++;
        for (size_t j = m - 1; j > pos; j--) chosen[j] = chosen[j - 1];
        chosen[pos] = c;
    }
    for (size_t j = 0; j < m; j++) {
        int32_t c = chosen[j];
        prefrec_stamp_category *sc = &out[j];
        sc->category = c;
        sc->mean_score = (float)(acc[c].sum / (double)acc[c].count);
        /* never-bought first, then bought: two bounded heaps over the category's products */
        prefrec_scored fresh[PREFREC_STAMP_MAX_PER_CAT], old[PREFREC_STAMP_MAX_PER_CAT];
        prefrec_topk_heap hf, ho;
        prefrec_topk_heap_init(&hf, fresh, per_cat);
        prefrec_topk_heap_init(&ho, old, per_cat);
        for (size_t i = 0; i < n_products; i++) {
            if (product_category[i] != c) continue;
            if (bought && bought[i])
                prefrec_topk_heap_push(&ho, scores[i], (int32_t)i);
            else
                prefrec_topk_heap_push(&hf, scores[i], (int32_t)i);
        }
        size_t nf = prefrec_topk_heap_finish(&hf), no = prefrec_topk_heap_finish(&ho);
        size_t k = 0;
        for (size_t i = 0; i < nf && k < per_cat; i++, k++) {
            sc->products[k] = fresh[i];
            sc->bought[k] = 0;
        }
        for (size_t i = 0; i < no && k < per_cat; i++, k++) {
            sc->products[k] = old[i];
            sc->bought[k] = 1;
        }
        sc->n_products = k;
    }
    *n_out = m;
    free(acc);
    return PREFREC_OK;
}
