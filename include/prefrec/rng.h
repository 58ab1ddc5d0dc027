/* prefrec/rng.h - small seeded PRNG with reproducible, independent streams.
 *
 *   prefrec_rng r;
 *   prefrec_rng_init(&r, seed, stream);      // e.g. stream = thread or shard number
 *   uint64_t x = prefrec_rng_u64(&r);
 *   double u = prefrec_rng_double(&r);        // [0, 1)
 *   uint32_t i = prefrec_rng_below(&r, n);    // unbiased in [0, n)
 *
 * xoshiro256** seeded through splitmix64 from (seed, stream), so results depend only on the
 * seed and the stream number, never on thread timing, time of day or a global state. The
 * integer and double outputs are bit-identical on every platform (native, Emscripten, WASI):
 * only 64-bit integer arithmetic is used. prefrec_rng_normal uses libm (log, cos) and is for
 * native-only work (training, data generation). A prefrec_rng is plain data: copy it to fork.
 * Not thread-safe per object; give each thread its own stream. */
#ifndef PREFREC_RNG_H
#define PREFREC_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_rng {
    uint64_t s[4];
} prefrec_rng;

/* One splitmix64 step: advances *state and returns the next output. */
uint64_t prefrec_splitmix64(uint64_t *state);

/* Seed r for (seed, stream). Different streams of one seed are statistically independent. */
void prefrec_rng_init(prefrec_rng *r, uint64_t seed, uint64_t stream);

uint64_t prefrec_rng_u64(prefrec_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double prefrec_rng_double(prefrec_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint32_t prefrec_rng_below(prefrec_rng *r, uint32_t n);
/* Standard normal (Box-Muller). Uses libm: native-only determinism. */
double prefrec_rng_normal(prefrec_rng *r);

#ifdef __cplusplus
}
#endif
#endif
