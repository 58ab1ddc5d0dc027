/* rank_exact.c - the exact sums' reduction over the ranks (rank_exact.h). */
#include "rank_exact.h"

#include <stdlib.h>
#include <string.h>

#include "host/dist.h"

int rank_fx_sum_dist(prefrec_dist *d, rank_fx *v, size_t n) {
    if (prefrec_dist_size(d) <= 1) return 0;
    if (prefrec_dist_size(d) > (1 << 21)) return -1; /* the 42-bit lanes could overflow */
    enum {
        CHUNK = 4096
    }; /* sums per reduction: the lanes on the stack (96 KB), no allocation to fail */
    int64_t lane[3 * CHUNK];
    const rank_fx low = ((rank_fx)1 << 42) - 1;
    int rc = 0;
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t m = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < m; i++) {
            rank_fx x = v[at + i];
            lane[3 * i] = (int64_t)(x >> 84); /* |top| < 2^43 */
            lane[3 * i + 1] = (int64_t)((x >> 42) & low);
            lane[3 * i + 2] = (int64_t)(x & low);
        }
        /* every rank makes the same calls; a failed one still leaves the loop's count alike */
        if (prefrec_dist_allreduce_i64(d, lane, 3 * m, PREFREC_DIST_SUM)) rc = -1;
        for (size_t i = 0; !rc && i < m; i++) {
            rank_fx top, s;
            if (__builtin_mul_overflow((rank_fx)lane[3 * i], (rank_fx)1 << 84, &top) ||
                __builtin_add_overflow(top, (rank_fx)lane[3 * i + 1] * ((rank_fx)1 << 42), &s) ||
                __builtin_add_overflow(s, (rank_fx)lane[3 * i + 2], &s))
                rc = -1;
            else
                v[at + i] = s;
        }
    }
    return rc;
}
