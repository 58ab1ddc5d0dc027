/* prefrec/topk.h - select the k best-scored items of n, deterministically.
 *
 *   prefrec_scored best[30];
 *   size_t m = prefrec_topk(scores, n_products, bought_mask, 30, best);
 *   for (size_t i = 0; i < m; i++) printf("%d %f\n", best[i].index, best[i].score);
 *
 * Order: higher score first; equal scores by lower index first; NaN ranks below every number.
 * So the result never depends on the order candidates are visited. O(n log k) time, no
 * allocation: out must hold k entries. Borrows scores and exclude. Thread-safe (no state). */
#ifndef PREFREC_TOPK_H
#define PREFREC_TOPK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_scored {
    float score;
    int32_t index;
} prefrec_scored;

/* Nonzero when a should rank before b under the order above. */
int prefrec_scored_before(prefrec_scored a, prefrec_scored b);

/* Best k of scores[0..n) whose exclude[i] is 0 (exclude may be NULL). Writes them to out,
 * sorted, and returns how many were written: min(k, number of candidates). */
size_t prefrec_topk(const float *scores, size_t n, const uint8_t *exclude, size_t k,
                    prefrec_scored *out);

/* Streaming form: a bounded min-heap the caller feeds one item at a time.
 *   prefrec_topk_heap h; prefrec_topk_heap_init(&h, buf, k);
 *   prefrec_topk_heap_push(&h, score, index) ...; m = prefrec_topk_heap_finish(&h);
 * finish sorts buf in place (best first) and returns the count. */
typedef struct prefrec_topk_heap {
    prefrec_scored *items;
    size_t size, cap;
} prefrec_topk_heap;

void prefrec_topk_heap_init(prefrec_topk_heap *h, prefrec_scored *buf, size_t k);
void prefrec_topk_heap_push(prefrec_topk_heap *h, float score, int32_t index);
size_t prefrec_topk_heap_finish(prefrec_topk_heap *h);

#ifdef __cplusplus
}
#endif
#endif
