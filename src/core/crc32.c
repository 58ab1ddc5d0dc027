/* crc32.c - CRC32 (IEEE, the zlib polynomial) and FNV-1a, for packs (see prefrec/pack.h).
 * Slicing-by-one with a table computed on the fly per call would be slow; the table is a
 * const computed at compile time by the generator below, so there is no global mutable state. */
#include "prefrec/pack.h"

#define C1(c) (((c) & 1u) ? 0xEDB88320u ^ ((c) >> 1) : ((c) >> 1))
#define C8(c) C1(C1(C1(C1(C1(C1(C1(C1(c))))))))
#define R4(n) C8(n), C8(n + 1u), C8(n + 2u), C8(n + 3u)
#define R16(n) R4(n), R4(n + 4u), R4(n + 8u), R4(n + 12u)
#define R64(n) R16(n), R16(n + 16u), R16(n + 32u), R16(n + 48u)
static const uint32_t crc_table[256] = {R64(0u), R64(64u), R64(128u), R64(192u)};

uint32_t prefrec_crc32(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

uint32_t prefrec_fnv1a32(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}
