/* rank_util.h - small helpers shared by the built-in rankers (internal to src/rank). */
#ifndef PREFREC_RANK_UTIL_H
#define PREFREC_RANK_UTIL_H

#include <math.h>

#include "prefrec/rankers.h"
#include "prefrec/topk.h"

/* The popularity tie-break every item-to-item ranker adds: at most `scale`, proportional to the
 * product's distinct buyers, so customers without history (or equal scores) fall back to
 * popularity instead of to dictionary order. */
static inline void rank_add_pop_tiebreak(const prefrec_interactions *x, float *scores,
                                         float scale) {
    int32_t mx = 1;
    for (int32_t p = 0; p < x->n_products; p++)
        if (x->n_buyers[p] > mx) mx = x->n_buyers[p];
    for (int32_t p = 0; p < x->n_products; p++)
        scores[p] += scale * (float)x->n_buyers[p] / (float)mx;
}

/* Segment of customer c: gender (unknown, male, female) x age decade (0..9, 10 unknown). */
#define RANK_N_SEGMENTS 33
static inline int rank_segment(const prefrec_dataset *ds, int32_t c) {
    if (!ds || !ds->has_demographics || !ds->gender || !ds->age) return 10; /* unknown, unknown */
    int g = ds->gender[c] == PREFREC_GENDER_MALE ? 1 : ds->gender[c] == PREFREC_GENDER_FEMALE ? 2 : 0;
    float a = ds->age[c];
    int band = 10;
    if (!isnan(a) && a >= 0) band = a >= 90 ? 9 : (int)(a / 10.0f);
    return g * 11 + band;
}

/* Finish heap h (the m best (weight, product) of one product's candidates) into one row of a
 * served neighbour list: best first, unused slots -1 and 0 (src/core/blend.h). */
static inline void rank_neighbor_row(prefrec_topk_heap *h, int32_t m, int32_t *nr, float *wr) {
    size_t got = prefrec_topk_heap_finish(h);
    for (int32_t r = 0; r < m; r++) {
        nr[r] = (size_t)r < got ? h->items[r].index : -1;
        wr[r] = (size_t)r < got ? h->items[r].score : 0.0f;
    }
}

#endif
