/* rng.c - splitmix64 seeding + xoshiro256** (Blackman & Vigna), written from the published
 * algorithm description. See prefrec/rng.h for the contract. */
#include "prefrec/rng.h"

#include <math.h>

uint64_t prefrec_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* The stream number is hashed into the splitmix state so that (seed, 0) and (seed, 1) start
 * far apart; all-zero xoshiro state is impossible because splitmix64 is a bijection whose
 * four consecutive outputs are never all zero. */
void prefrec_rng_init(prefrec_rng *r, uint64_t seed, uint64_t stream) {
    uint64_t st = stream;
    uint64_t h = prefrec_splitmix64(&st);
    uint64_t sm = seed ^ h;
    for (int i = 0; i < 4; i++) r->s[i] = prefrec_splitmix64(&sm);
}

uint64_t prefrec_rng_u64(prefrec_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double prefrec_rng_double(prefrec_rng *r) { return (double)(prefrec_rng_u64(r) >> 11) * 0x1.0p-53; }

uint32_t prefrec_rng_below(prefrec_rng *r, uint32_t n) {
    /* Reject the top (2^32 mod n) values of a 32-bit draw so every residue is equally likely. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = (uint32_t)(prefrec_rng_u64(r) >> 32);
        if (x >= threshold) return x % n;
    }
}

double prefrec_rng_normal(prefrec_rng *r) {
    double u1 = prefrec_rng_double(r), u2 = prefrec_rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}
