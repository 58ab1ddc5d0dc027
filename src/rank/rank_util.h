/* rank_util.h - small helpers shared by the built-in rankers (internal to src/rank). */
#ifndef PREFREC_RANK_UTIL_H
#define PREFREC_RANK_UTIL_H

#include <math.h>
#include <pthread.h>

#include "prefrec/native/rankers.h"
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

/* qsort order of prefrec_scored: higher score first, then lower index (prefrec/topk.h's). */
static inline int rank_scored_desc(const void *a, const void *b) {
    const prefrec_scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* For rankers whose scores are >= 0 with 0 meaning "no evidence" (TIFU-KNN, UP-CF, RP3beta):
 * every product scored 0 goes below every scored one, ordered by distinct buyers (-1 + buyers /
 * max, in [-1, 0)); a customer without history so gets overall popularity. */
static inline void rank_fill_unscored(const prefrec_interactions *x, float *scores) {
    int32_t mx = 1;
    for (int32_t p = 0; p < x->n_products; p++)
        if (x->n_buyers[p] > mx) mx = x->n_buyers[p];
    for (int32_t p = 0; p < x->n_products; p++)
        if (!(scores[p] > 0.0f)) scores[p] = -1.0f + (float)x->n_buyers[p] / (float)(mx + 1);
}

/* Run fn(jobs + t * job_size) for t = 0 .. nt-1 on nt threads (1 <= nt <= 64; the caller's
 * thread runs job 0; a thread that cannot be started runs its job on the caller's thread
 * afterwards, so every job always runs once). Jobs must not depend on each other. */
static inline void rank_run_threads(int nt, void *(*fn)(void *), void *jobs, size_t job_size) {
    pthread_t th[64];
    int started[64] = {0};
    if (nt < 1) nt = 1;
    if (nt > 64) nt = 64;
    for (int t = 1; t < nt; t++)
        started[t] = pthread_create(&th[t], NULL, fn, (char *)jobs + (size_t)t * job_size) == 0;
    fn(jobs);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            fn((char *)jobs + (size_t)t * job_size);
    }
}

/* Segment of customer c (prefrec/demog.h: the engine's definition, so training and serving
 * agree); unknown x unknown without demographics. */
static inline int rank_segment(const prefrec_dataset *ds, int32_t c) {
    if (!ds || !ds->has_demographics || !ds->gender || !ds->age)
        return prefrec_segment(PREFREC_GENDER_UNKNOWN, NAN);
    return prefrec_segment(ds->gender[c], ds->age[c]);
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
