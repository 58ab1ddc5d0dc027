/* pack_builder.h - build a model pack byte by byte in tests, following docs/model.md
 * independently of the native writer (src/train/pack_write.c). Header-only, portable.
 *
 *   tb t[] = {{"product.emb", PREFREC_DT_F32, 2, {2, 2}, data, 16}, ...};
 *   size_t len; unsigned char *b = tb_build("{\"kind\":\"neumf\"}", t, n, &len);  // free(b)
 */
#ifndef PREFREC_TEST_PACK_BUILDER_H
#define PREFREC_TEST_PACK_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/pack.h"

typedef struct tb {
    const char *name;
    uint32_t dtype, ndim, shape[4];
    const void *data;
    size_t nbytes;
} tb;

static inline void tb_w32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static inline void tb_w64(unsigned char *p, uint64_t v) {
    tb_w32(p, (uint32_t)v);
    tb_w32(p + 4, (uint32_t)(v >> 32));
}
static inline size_t tb_up64(size_t x) { return (x + 63) / 64 * 64; }

/* Recompute the CRC32 field of a pack of len bytes (after editing it on purpose). */
static inline void tb_fix_crc(unsigned char *b, size_t len) {
    uint32_t c = prefrec_crc32(0, b, 60);
    c = prefrec_crc32(c, b + 64, len - 64);
    tb_w32(b + 60, c);
}

/* A malloc'd pack of *len bytes holding manifest and tensors t[0..n). */
static inline unsigned char *tb_build(const char *manifest, const tb *t, size_t n, size_t *len) {
    size_t m = strlen(manifest), toff = 64 + m, doff = tb_up64(toff + 64 * n), end = doff;
    for (size_t i = 0; i < n; i++) end = tb_up64(end) + t[i].nbytes;
    unsigned char *b = calloc(1, end);
    if (!b) return NULL;
    uint32_t version = 1; /* 2 when a tensor needs it (q8r, q4r, q8c, q4c) */
    for (size_t i = 0; i < n; i++) version = t[i].dtype >= PREFREC_DT_Q8R ? 2 : version;
    for (size_t i = 0; i < n; i++) /* 3 with compact neighbour lists (prefrec/blend.h) */
        version = strstr(t[i].name, ".rows") ? 3 : version;
    for (size_t i = 0; i < n; i++) /* 4 with a pcx table */
        version = t[i].dtype == PREFREC_DT_PCX ? 4 : version;
    memcpy(b, "PRFPACK", 8);
    tb_w32(b + 8, version);
    tb_w32(b + 12, 64);
    tb_w64(b + 16, end);
    tb_w32(b + 24, 64);
    tb_w32(b + 28, (uint32_t)m);
    tb_w32(b + 32, (uint32_t)toff);
    tb_w32(b + 36, (uint32_t)n);
    tb_w64(b + 40, doff);
    tb_w64(b + 48, end - doff);
    memcpy(b + 64, manifest, m);
    size_t pos = doff;
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = b + toff + 64 * i;
        pos = tb_up64(pos);
        memcpy(e, t[i].name, strlen(t[i].name));
        tb_w32(e + 32, t[i].dtype);
        tb_w32(e + 36, t[i].ndim);
        for (uint32_t k = 0; k < 4; k++) tb_w32(e + 40 + 4 * k, k < t[i].ndim ? t[i].shape[k] : 1);
        tb_w64(e + 56, pos);
        if (t[i].nbytes) memcpy(b + pos, t[i].data, t[i].nbytes);
        pos += t[i].nbytes;
    }
    tb_fix_crc(b, end);
    *len = end;
    return b;
}

#endif
