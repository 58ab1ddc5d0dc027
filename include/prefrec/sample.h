/* prefrec/sample.h - seeded weighted choices: products among the top 30, an affiliate by
 * purchase share.
 *
 *   prefrec_scored top[30]; size_t m = prefrec_topk(scores, n, bought, 30, top);
 *   size_t pick[3];
 *   size_t got = prefrec_sample_top(top, m, 3, seed, pick);   // positions into top[]
 *
 *   double share[6] = {0.09, 0.26, 0.64, 0.007, 0, 0};
 *   int a = prefrec_sample_index(share, 6, seed);              // 2 with probability ~0.64
 *
 * Only +, *, / and comparisons on doubles plus prefrec_rng integer draws are used, so the same
 * seed gives the same picks natively and in both wasm builds. Pure functions, no allocation,
 * thread-safe. */
#ifndef PREFREC_SAMPLE_H
#define PREFREC_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/topk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Draw `picks` distinct positions of items[0..n) without replacement, each draw with
 * probability proportional to max(score, 0) among the items not yet drawn (uniform when all
 * remaining weights are 0; NaN counts as 0). Writes positions to out in draw order and returns
 * min(picks, n). n is at most PREFREC_SAMPLE_MAX. */
#define PREFREC_SAMPLE_MAX 4096
size_t prefrec_sample_top(const prefrec_scored *items, size_t n, size_t picks, uint64_t seed,
                          size_t *out);

/* One index of weights[0..n) with probability proportional to max(weight, 0); -1 if n == 0
 * or every weight is 0 (or NaN). */
int prefrec_sample_index(const double *weights, size_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
