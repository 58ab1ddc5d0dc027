/* prefrec/blend.h - the served form of the default ranker "blend" (portable: the engine serves
 * it from packs, `prefrec eval` measures it through the same code, the trainer writes it).
 *
 * Pack tensors (P products, M neighbours per product, S = PREFREC_N_SEGMENTS):
 *   blend.ease.nbr i32 [P, M], blend.ease.w f32 [P, M]   pruned EASE rows: h -> (p, B[h,p])
 *   blend.knn.nbr  i32 [P, M], blend.knn.w  f32 [P, M]   pruned ItemKNN cosine neighbours
 *   blend.pop.seg  f32 [S, P]                            smoothed segment popularity
 *   blend.trend    f32 [P]                               recency-weighted popularity
 *   blend.pop.all  f32 [P]                               buyers / max buyers
 *   manifest "blend": {"w": {"ease", "knn", "pop", "trend", "cat", "catpop", "subpop"},
 *                      "tiebreak", "neighbors"}
 * Padding neighbours have index -1 and weight 0. A version-3 pack keeps a list compact: only the
 * rows of the products that have neighbours,
 *   blend.ease.rows i32 [R] (ascending product indices), blend.ease.nbr i32 [R, M], .w [R, M]
 * (likewise blend.knn.*; M <= PREFREC_BLEND_ROW_MAX), and a product without a row has none.
 * For the distinct history set H and segment s,
 * with E[p] = sum over h in H of the EASE weight h -> p (likewise K), the score of product p is
 *   w.ease E[p]/max E + w.knn K[p]/max K + w.pop seg[s][p]/max seg[s] + w.trend T[p]/max T
 *   + w.cat c(p) + w.catpop c(p) all[p] + w.subpop u(p) all[p] + tiebreak all[p]
 * where c(p) (u(p)) is the share of H's products in p's top (mid) category; a normalised part is
 * 0 when its max is <= 0. This is the native ranker "blend" (src/rank/rank_blend.c) with its
 * item-to-item matrices pruned to M neighbours; `prefrec eval` measures this served form too. */
#ifndef PREFREC_BLEND_H
#define PREFREC_BLEND_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/demog.h"
#include "prefrec/pack.h"
#include "prefrec/status.h"
#include "prefrec/topk.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PREFREC_BW_EASE,
    PREFREC_BW_KNN,
    PREFREC_BW_POP,
    PREFREC_BW_TREND,
    PREFREC_BW_CAT,
    PREFREC_BW_CATPOP,
    PREFREC_BW_SUBPOP,
    PREFREC_BW_COUNT
};
extern const char *const prefrec_blend_weight_names[PREFREC_BW_COUNT];

/* Lists of at most this many neighbours may be read a row at a time (prefrec_blend_w_row). */
#define PREFREC_BLEND_ROW_MAX 256

typedef struct prefrec_blend {
    int32_t n_products, m;
    const int32_t *ease_nbr, *knn_nbr;
    const float *ease_w, *knn_w, *pop_seg, *trend, *pop_all;
    double w[PREFREC_BW_COUNT];
    double tiebreak;
    /* the list weights as stored (f16, q8r, q4r in a version-2 pack, m <= PREFREC_BLEND_ROW_MAX):
     * read a row at a time, ease_w / knn_w then NULL; else NULL */
    const prefrec_tensor *ease_wt, *knn_wt;
    /* the segment popularity as stored in a version-2 pack, counts (pc8 / pc16 / pcx) or f16:
     * read a segment's row or one value at a time (prefrec_blend_pop_row; prefrec_pc_read, or
     * prefrec_f16_to_f32 of the stored value), pop_seg then NULL; pop_gl, for counts, the
     * products' overall shares (owned: prefrec_blend_free); else NULL */
    const prefrec_tensor *pop_t;
    float *pop_gl;
    /* compact lists (a version-3 pack): each product's row in ease_nbr / ease_w (knn_*), -1 for
     * none (owned: prefrec_blend_free); NULL: row p is product p's. ease_rows / knn_rows: the
     * lists' rows (n_products when dense) */
    int32_t *ease_row, *knn_row;
    int32_t ease_rows, knn_rows;
} prefrec_blend;

/* Segment s's popularity row (n_products floats): b->pop_seg's, or decoded from the stored
 * counts or f16 values into tmp (the same floats; one value at a time: prefrec_pc_reader_at and
 * prefrec_pc_read over b->pop_t and b->pop_gl, or prefrec_f16_to_f32). */
const float *prefrec_blend_pop_row(const prefrec_blend *b, int s, float *tmp);

/* What prefrec_blend_load allocated (the popularity shares); b stays loadable again. */
void prefrec_blend_free(prefrec_blend *b);

/* Row r's m list weights: its row of w, or decoded from the stored tensor wt into tmp (m floats;
 * the same floats a whole decode gives). Row r is product r's in a dense list. */
static inline const float *prefrec_blend_w_row(const float *w, const prefrec_tensor *wt, int32_t m,
                                               int32_t r, float *tmp) {
    if (w) return w + (size_t)r * (size_t)m;
    prefrec_pack_row_f32(wt, (uint64_t)r, 1, tmp);
    return tmp;
}

/* A row of M -1s and one of M zeros (M <= PREFREC_BLEND_ROW_MAX): the lists of a product
 * without a row in a compact list. */
extern const int32_t prefrec_blend_no_nbr[PREFREC_BLEND_ROW_MAX];
extern const float prefrec_blend_no_w[PREFREC_BLEND_ROW_MAX];

/* Product p's neighbours in a list (nbr with row_of, as in prefrec_blend): its row, or the row
 * of -1s when a compact list has none for it. */
static inline const int32_t *prefrec_blend_nbr(const int32_t *nbr, const int32_t *row_of, int32_t m,
                                               int32_t p) {
    int32_t r = row_of ? row_of[p] : p;
    return r < 0 ? prefrec_blend_no_nbr : nbr + (size_t)r * (size_t)m;
}

/* Product p's list weights (prefrec_blend_w_row of its row), or the row of zeros. */
static inline const float *prefrec_blend_list_w(const float *w, const prefrec_tensor *wt,
                                                const int32_t *row_of, int32_t m, int32_t p,
                                                float *tmp) {
    int32_t r = row_of ? row_of[p] : p;
    return r < 0 ? prefrec_blend_no_w : prefrec_blend_w_row(w, wt, m, r, tmp);
}

/* Fill b from the pack (n_products from the catalog). PREFREC_E_NOTFOUND when the pack has no
 * blend (no "blend" manifest member), PREFREC_E_FORMAT when it is malformed. Borrows pack. */
prefrec_status prefrec_blend_load(const prefrec_pack *pack, int32_t n_products, prefrec_blend *b,
                                  prefrec_error *err);

/* Weighted parts of one request's scores, each n_products floats (caller's scratch). */
typedef struct prefrec_blend_parts {
    float *i2i; /* EASE + ItemKNN */
    float *pop; /* segment popularity + trend */
    float *cat; /* category and subcategory preference */
    float f_ease, f_knn; /* w / max applied to E and K (0 when skipped) */
} prefrec_blend_parts;

/* Score every product for the distinct history hist[0..n) and segment seg. product_cat /
 * product_sub: category and subcategory per product (-1 none), with n_cat / n_sub of them;
 * share_scratch: n_cat + n_sub floats. tmp: n_products floats. Writes out[P] and parts. */
void prefrec_blend_score(const prefrec_blend *b, const int32_t *hist, size_t n, int seg,
                         const int32_t *product_cat, int32_t n_cat, const int32_t *product_sub,
                         int32_t n_sub, float *share_scratch, float *tmp,
                         prefrec_blend_parts *parts, float *out);

/* For each of products[0..k): the history product whose neighbour lists give it the largest
 * weighted contribution (src[i], -1 if none; ties: the earlier history product). pos: scratch
 * of n_products int32 all -1 on entry (restored on return); best_w, knn_sum: k floats and
 * in_ease: k bytes of scratch. Work: O(n M + k), linear in the neighbour lists it reads. */
void prefrec_blend_best_sources(const prefrec_blend *b, const int32_t *hist, size_t n,
                                const prefrec_blend_parts *parts, const int32_t *products, size_t k,
                                int32_t *pos, float *best_w, int32_t *src, float *knn_sum,
                                uint8_t *in_ease);

/* ---- the top of the list without scoring the whole catalogue (src/core/blend_top.c) ---------
 * A request's blend scores are the neighbour sums of its history plus parts that do not depend
 * on the history (segment popularity, trend, tiebreak) or only on its categories. The index,
 * built once per pack, bounds the history-free parts per product (its best segment's share,
 * whatever the segment) and sorts the catalogue by that bound, overall and within each top
 * category. prefrec_blend_top then scores the history's neighbours, and walks the sorted lists
 * only while the bound of the next product can still reach the k-th best score: the same top
 * list, scores and order as prefrec_blend_score + prefrec_topk (the same float operations on
 * the products it scores; every product it skips provably scores below the k-th, with a margin
 * far wider than float rounding). Where a bound does not hold (a negative weight or
 * popularity, a non-finite value, subcategories that cross top categories) the index is
 * marked unusable (ok = 0) and the engine scores the whole catalogue as before. */
typedef struct prefrec_blend_index {
    int ok; /* 0: not usable, serve with prefrec_blend_score */
    int32_t n_products, n_cat;
    float seg_max[PREFREC_N_SEGMENTS], trend_max; /* the normalisers of prefrec_blend_score */
    float *ub; /* [P] bound of the history-free part of a product's score */
    int32_t *order; /* [P] products by ub, descending (ties: lower index first) */
    int32_t *cat_order; /* [P] products with a category, grouped by it, each group by ub */
    int32_t *cat_start; /* [n_cat + 1] group c is cat_order[cat_start[c] .. cat_start[c+1]) */
    float *cat_tail_all; /* [P] max of pop.all from this place to the end of its group */
} prefrec_blend_index;

/* Bytes prefrec_blend_index_build allocates for P products and n_cat categories. */
uint64_t prefrec_blend_index_bytes(uint64_t n_products, uint64_t n_cat);

/* Build the index of b (borrowed; product_cat / product_sub as for prefrec_blend_score, also
 * borrowed only during the call). PREFREC_E_NOMEM only; a pack where bounds do not hold gets
 * ok = 0 and PREFREC_OK. Free with prefrec_blend_index_free (NULL-safe fields). */
prefrec_status prefrec_blend_index_build(const prefrec_blend *b, const int32_t *product_cat,
                                         int32_t n_cat, const int32_t *product_sub, int32_t n_sub,
                                         prefrec_blend_index *ix, prefrec_error *err);
void prefrec_blend_index_free(prefrec_blend_index *ix);

/* Scratch of one prefrec_blend_top call. acc_e, acc_k: n_products floats each, any content;
 * mark: n_products bytes, all 0 on entry (left dirty); share: n_cat + n_sub floats. parts'
 * arrays (n_products each) get the entries of the products scored (all the returned ones). */
typedef struct prefrec_blend_top_scratch {
    float *acc_e, *acc_k, *share;
    uint8_t *mark;
} prefrec_blend_top_scratch;

/* The best k (score descending, lower index first on ties) of the products not excluded
 * (exclude[p] nonzero), as prefrec_topk over prefrec_blend_score's output would give them, into
 * top[0..return). ix->ok must be set. *n_scored (may be NULL): products scored, for the bench
 * and tests (the whole catalogue would be n_products). */
size_t prefrec_blend_top(const prefrec_blend *b, const prefrec_blend_index *ix, const int32_t *hist,
                         size_t n, int seg, const int32_t *product_cat, int32_t n_cat,
                         const int32_t *product_sub, int32_t n_sub, const uint8_t *exclude,
                         size_t k, prefrec_blend_top_scratch *sc, prefrec_blend_parts *parts,
                         prefrec_scored *top, size_t *n_scored);

#ifdef __cplusplus
}
#endif
#endif
