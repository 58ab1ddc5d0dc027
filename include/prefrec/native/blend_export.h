/* prefrec/native/blend_export.h - the default ranker in its served form (native side).
 *
 *   prefrec_blend_tensors bt;
 *   prefrec_blend_tensors_build(blend_model, train_window, pmap, n_pack_products, 10, &bt, &err);
 *   meta.blend = &bt;  prefrec_neumf_save_pack(net, &meta, "out/A01.pack", NULL, &err);
 *   prefrec_blend_tensors_free(&bt);
 *
 * A fitted "blend" (src/rank/rank_blend.c) becomes plain arrays in the pack's product index
 * space: each product's m strongest EASE and ItemKNN neighbours, the segment popularity table,
 * the trend and overall popularity, and the seven weights (src/core/blend.h documents the
 * served formula). The ranker "blend_served" (listed by prefrec_rankers_builtin) fits the blend
 * and scores through that same portable code, so `prefrec eval` measures what the packs serve. */
#ifndef PREFREC_BLEND_EXPORT_H
#define PREFREC_BLEND_EXPORT_H

#include <stdint.h>

#include "prefrec/native/rankers.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Neighbours per product in served packs. 10 was chosen from {10, 20, 50} by prefrec eval on the
 * demo data (new-item recall@20 0.2650, 0.2641, 0.2603; the unpruned blend 0.2613): pruning
 * drops weak, noisy co-purchase links and keeps an affiliate's item pack under 1 MB. */
#define PREFREC_BLEND_NEIGHBORS 10

typedef struct prefrec_blend_tensors {
    int32_t n_products, m;
    int32_t *ease_nbr, *knn_nbr; /* [P][m], -1 padding */
    float *ease_w, *knn_w; /* [P][m] */
    float *pop_seg; /* [33][P] */
    float *trend, *pop_all; /* [P] */
    double w[7]; /* ease, knn, pop, trend, cat, catpop, subpop */
} prefrec_blend_tensors;

/* From a fitted blend model over window x. pmap: dataset product index -> pack product index
 * (-1: not in the pack), or NULL for the identity; n_products: the pack's product count.
 * out: caller frees with prefrec_blend_tensors_free. */
prefrec_status prefrec_blend_tensors_build(const void *blend_model, const prefrec_interactions *x,
                                           const int32_t *pmap, int32_t n_products, int32_t m,
                                           prefrec_blend_tensors *out, prefrec_error *err);
void prefrec_blend_tensors_free(prefrec_blend_tensors *t);

extern const prefrec_ranker_def prefrec_ranker_blend_served;

#ifdef __cplusplus
}
#endif
#endif
