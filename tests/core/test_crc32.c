/* test_crc32.c - prefrec_crc32 against the standard check value, and the CRC of pieces put
 * together (prefrec_crc32_zeros, prefrec_crc32_combine) against prefrec_crc32 of the whole
 * buffer: random splits into consecutive pieces, and the sharded pack writer's form (each
 * "rank" the CRC of the buffer with every byte not its own zeroed, XOR-ed). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/pack.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t next(void) { /* splitmix64: the test's own, so every build draws the same */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

int main(void) {
    CHECK_EQ_U64(prefrec_crc32(0, "123456789", 9), 0xCBF43926u); /* the CRC-32 check value */
    CHECK_EQ_U64(prefrec_crc32(0, "", 0), 0);
    enum { N = 70000 };
    unsigned char *buf = malloc(N), *zero = calloc(1, N), *own = malloc(N);
    CHECK(buf && zero && own);
    if (!buf || !zero || !own) return check_report("test_crc32");
    for (size_t i = 0; i < N; i++) buf[i] = (unsigned char)next();
    /* zeros: the same as the bytes, short (byte-wise) and long (the power) runs, any start */
    static const uint64_t zn[] = {0, 1, 7, 255, 256, 257, 4096, 4097, 65537};
    for (size_t k = 0; k < sizeof zn / sizeof zn[0]; k++)
        for (uint32_t c0 = 0; c0 < 3; c0++) {
            uint32_t c = c0 ? prefrec_crc32(0, buf, c0 * 1000) : 0;
            CHECK_EQ_U64(prefrec_crc32_zeros(c, zn[k]), prefrec_crc32(c, zero, (size_t)zn[k]));
        }
    uint32_t whole = prefrec_crc32(0, buf, N);
    /* random splits into consecutive pieces, combined in order */
    for (int t = 0; t < 200; t++) {
        size_t at = 0;
        uint32_t c = 0;
        while (at < N) {
            size_t len = (size_t)(next() % (t % 2 ? 40 : 9000)) + (t % 3 == 0);
            if (len > N - at) len = N - at;
            c = prefrec_crc32_combine(c, prefrec_crc32(0, buf + at, len), len);
            at += len;
        }
        CHECK_EQ_U64(c, whole);
    }
    CHECK_EQ_U64(prefrec_crc32_combine(prefrec_crc32(0, buf, N), 0, 0), whole);
    /* the pack writer's form: runs of the buffer dealt to R "ranks"; each rank's CRC is of the
     * whole length with only its runs' bytes (zeros elsewhere, as prefrec_crc32_zeros); the
     * XOR of the R CRCs, with the CRC of N zeros once more when R is even, is the buffer's */
    for (int R = 1; R <= 5; R++)
        for (int t = 0; t < 20; t++) {
            unsigned char *owner = own;
            uint32_t x = R % 2 ? 0 : prefrec_crc32_zeros(0, N);
            for (size_t i = 0; i < N;) {
                size_t len = (size_t)(next() % 300) + 1;
                unsigned char r = (unsigned char)(next() % (uint64_t)R);
                for (size_t k = i; k < i + len && k < N; k++) owner[k] = r;
                i += len;
            }
            for (int r = 0; r < R; r++) {
                uint32_t c = 0;
                size_t pos = 0;
                for (size_t i = 0; i < N;) {
                    size_t j = i;
                    while (j < N && owner[j] == owner[i]) j++;
                    if (owner[i] == r) {
                        c = prefrec_crc32_zeros(c, i - pos);
                        c = prefrec_crc32(c, buf + i, j - i);
                        pos = j;
                    }
                    i = j;
                }
                x ^= prefrec_crc32_zeros(c, N - pos);
            }
            CHECK_EQ_U64(x, whole);
        }
    free(buf), free(zero), free(own);
    return check_report("test_crc32");
}
