/* blend.h - the served form of the default ranker "blend" (internal to src/core).
 *
 * Pack tensors (P products, M neighbours per product, S = PREFREC_N_SEGMENTS):
 *   blend.ease.nbr i32 [P, M], blend.ease.w f32 [P, M]   pruned EASE rows: h -> (p, B[h,p])
 *   blend.knn.nbr  i32 [P, M], blend.knn.w  f32 [P, M]   pruned ItemKNN cosine neighbours
 *   blend.pop.seg  f32 [S, P]                            smoothed segment popularity
 *   blend.pop.all  f32 [P]                               buyers / max buyers (tie-break)
 *   manifest "blend": {"w_ease", "w_knn", "w_pop", "w_cat", "tiebreak", "neighbors"}
 * Padding neighbours have index -1 and weight 0. The score of product p for history set H:
 *   w_ease*E[p]/max(E) + w_knn*K[p]/max(K) + w_pop*S[p]/max(S) + w_cat*share(cat p) + t*pop[p]
 * with E[p] = sum over h in H of the pruned EASE weight h -> p (likewise K), S the segment's
 * row, share(c) = |{h in H : cat h = c}| / |H|; a component is skipped when its max is <= 0. */
#ifndef PREFREC_CORE_BLEND_H
#define PREFREC_CORE_BLEND_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/pack.h"
#include "prefrec/status.h"

#define PREFREC_N_SEGMENTS 33

typedef struct prefrec_blend {
    int32_t n_products, m;
    const int32_t *ease_nbr, *knn_nbr;
    const float *ease_w, *knn_w, *pop_seg, *pop_all;
    double w_ease, w_knn, w_pop, w_cat, tiebreak;
} prefrec_blend;

/* Segment of a customer: gender (unknown, male, female) x age decade (0..9, 10 unknown). */
int prefrec_segment(int gender, float age);

/* Fill b from the pack (n_products from the catalog). PREFREC_E_NOTFOUND when the pack has no
 * blend (no "blend" manifest member), PREFREC_E_FORMAT when it is malformed. Borrows pack. */
prefrec_status prefrec_blend_load(const prefrec_pack *pack, int32_t n_products, prefrec_blend *b,
                                  prefrec_error *err);

/* Component arrays of one request, each n_products floats (caller's scratch). */
typedef struct prefrec_blend_parts {
    float *ease, *knn, *pop, *cat;  /* already weighted and normalised */
    float f_ease, f_knn;            /* the factors w/max applied to E and K (0: skipped) */
} prefrec_blend_parts;

/* Score every product for the distinct history set hist[0..n) (indices < n_products, sorted
 * or not, no repeats) and segment seg. product_cat: category per product (-1 none), n_cat
 * categories, cat_scratch n_cat floats. Writes out[P] and, if parts is non-NULL, the parts. */
void prefrec_blend_score(const prefrec_blend *b, const int32_t *hist, size_t n, int seg,
                         const int32_t *product_cat, int32_t n_cat, float *cat_scratch,
                         prefrec_blend_parts *parts, float *out);

/* For each of products[0..k): the history product whose neighbour lists give it the largest
 * weighted contribution (src[i], -1 if none; ties: the earlier history product). pos: scratch
 * of n_products int32 all -1 on entry (restored on return); best_w: k floats of scratch. */
void prefrec_blend_best_sources(const prefrec_blend *b, const int32_t *hist, size_t n,
                                const prefrec_blend_parts *parts, const int32_t *products,
                                size_t k, int32_t *pos, float *best_w, int32_t *src);

#endif
