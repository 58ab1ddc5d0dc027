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

/* The fewest members a served aggregate may rest on (SECURITY.md, "Residual risks"): a
 * segment's popularity row backed by fewer active customers is served as the overall row, and a
 * neighbour pair (EASE or ItemKNN, h -> p) bought together by fewer customers is not served.
 * Also suppressed: the smallest further segments until the suppressed ones together hold at
 * least this many (or none), so that the overall row minus the served rows cannot single out a
 * suppressed segment's few members. 0 or 1: no rule. */
#define PREFREC_BLEND_MIN_GROUP 10

typedef struct prefrec_blend_tensors {
    int32_t n_products, m;
    int32_t min_group; /* the rule applied (0: none): the manifest's "blend"."min_group" */
    int32_t *ease_nbr, *knn_nbr; /* [P][m], -1 padding */
    float *ease_w, *knn_w; /* [P][m] */
    float *pop_seg; /* [33][P] */
    float *trend, *pop_all; /* [P] */
    /* pop_seg as its counts (prefrec/pack.h: the pc16 layout), the full pack's
     * "blend.pop.cnt", from which export stores it losslessly; NULL when the table is not
     * made of counts (then export stores the floats) */
    unsigned char *pop_code;
    size_t pop_code_bytes;
    double w[7]; /* ease, knn, pop, trend, cat, catpop, subpop */
    /* the min_group rule's work: segments served as the overall row (of those with members),
     * neighbour entries dropped and kept */
    int32_t seg_suppressed, seg_nonempty;
    int64_t pairs_dropped, pairs_kept;
} prefrec_blend_tensors;

/* From a fitted blend model over window x (ds: its demographics, for the segments). pmap:
 * dataset product index -> pack product index (-1: not in the pack), or NULL for the identity;
 * n_products: the pack's product count; min_group: PREFREC_BLEND_MIN_GROUP's rule with this
 * many members (0: none). out: caller frees with prefrec_blend_tensors_free. */
prefrec_status prefrec_blend_tensors_build(const void *blend_model, const prefrec_dataset *ds,
                                           const prefrec_interactions *x, const int32_t *pmap,
                                           int32_t n_products, int32_t m, int32_t min_group,
                                           prefrec_blend_tensors *out, prefrec_error *err);
void prefrec_blend_tensors_free(prefrec_blend_tensors *t);
/* Replace the float tensors by what a version-2 pack stored with plan decodes (prefrec/pack.h,
 * prefrec_quant_roundtrip); 1 for a malformed plan or a value that is not finite. */
int prefrec_blend_tensors_store(prefrec_blend_tensors *t, const char *plan);

extern const prefrec_ranker_def prefrec_ranker_blend_served;

#ifdef __cplusplus
}
#endif
#endif
