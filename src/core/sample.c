/* sample.c - weighted sampling without replacement by sequential draws (see prefrec/sample.h).
 * n is small (the top 30), so each draw rescans the remaining weights: O(picks * n), no heap,
 * and the summation order is fixed, which keeps results bit-identical across platforms. */
#include "prefrec/sample.h"

#include "prefrec/rng.h"

static double weight_of(float s) { return s > 0.0f ? (double)s : 0.0; } /* NaN -> 0 */

/* Index into w[0..n) of the draw u in [0, total): the first i whose running sum exceeds u.
 * Falls back to the last positive weight when rounding leaves u just above the sum. */
static size_t pick_by_weight(const double *w, size_t n, double u) {
    double acc = 0.0;
    size_t last = n;
    for (size_t i = 0; i < n; i++) {
        if (w[i] <= 0.0) continue;
        acc += w[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

size_t prefrec_sample_top(const prefrec_scored *items, size_t n, size_t picks, uint64_t seed,
                          size_t *out) {
    double w[PREFREC_SAMPLE_MAX];
    uint8_t taken[PREFREC_SAMPLE_MAX];
    if (n > PREFREC_SAMPLE_MAX) n = PREFREC_SAMPLE_MAX;
    if (picks > n) picks = n;
    for (size_t i = 0; i < n; i++) {
        w[i] = weight_of(items[i].score);
        taken[i] = 0;
    }
    prefrec_rng rng;
    prefrec_rng_init(&rng, seed, 0x53414d504c45ull /* "SAMPLE" */);
    for (size_t p = 0; p < picks; p++) {
        double total = 0.0;
        for (size_t i = 0; i < n; i++) total += w[i];
        size_t chosen;
        if (total > 0.0) {
            chosen = pick_by_weight(w, n, prefrec_rng_double(&rng) * total);
        } else {
            /* all remaining weights are zero: uniform over the items not yet taken */
            size_t left = 0;
            for (size_t i = 0; i < n; i++) left += !taken[i];
            size_t r = prefrec_rng_below(&rng, (uint32_t)left);
            chosen = 0;
            for (size_t i = 0; i < n; i++) {
                if (taken[i]) continue;
                if (r-- == 0) {
                    chosen = i;
                    break;
                }
            }
        }
        out[p] = chosen;
        taken[chosen] = 1;
        w[chosen] = 0.0;
    }
    return picks;
}

int prefrec_sample_index(const double *weights, size_t n, uint64_t seed) {
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        if (weights[i] > 0.0) total += weights[i];
    if (!(total > 0.0)) return -1;
    prefrec_rng rng;
    prefrec_rng_init(&rng, seed, 0x4146464cull /* "AFFL" */);
    double u = prefrec_rng_double(&rng) * total;
    double acc = 0.0;
    int last = -1;
    for (size_t i = 0; i < n; i++) {
        if (!(weights[i] > 0.0)) continue;
        acc += weights[i];
        last = (int)i;
        if (u < acc) return (int)i;
    }
    return last;
}
