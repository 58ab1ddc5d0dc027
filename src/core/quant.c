/* quant.c - quantised tensor storage (see prefrec/pack.h, docs/model.md "Pack format"):
 * binary16 and int8 rows with an f32 scale, and the storage plans that pick one per tensor.
 *
 * Why bit manipulation and single float operations: a pack is decoded natively, in Emscripten's
 * and in WASI's wasm, and the engine's output must be the same bits in all three. The f16
 * conversions are integer code; a q8r value is one IEEE multiply (scale x q), exact to round
 * the same everywhere; nothing here depends on the compiler's choice of instructions. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prefrec/pack.h"

float prefrec_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu, x;
    if (e == 0x1F) {
        x = sign | 0x7F800000u | (m << 13); /* infinity or NaN (payload kept) */
    } else if (e) {
        x = sign | ((e + 112u) << 23) | (m << 13); /* rebias 15 -> 127 */
    } else if (!m) {
        x = sign;
    } else { /* subnormal m x 2^-24: normalise */
        e = 113;
        while (!(m & 0x400u)) {
            m <<= 1;
            e--;
        }
        x = sign | (e << 23) | ((m & 0x3FFu) << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

uint16_t prefrec_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu)); /* NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* >= 65520: infinity */
    if (ax < 0x33000000u) return (uint16_t)sign; /* < 2^-25: rounds to zero */
    if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, units of 2^-24 */
        uint32_t m = (ax & 0x7FFFFFu) | 0x800000u, shift = 126u - (ax >> 23); /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r); /* r may carry into the smallest normal: still right */
    }
    uint32_t r = (ax >> 13) - (112u << 10), rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) r++; /* a carry rounds up the exponent */
    return (uint16_t)(sign | r);
}

/* max |x| over a row, or -1 when a value is not finite */
static float row_max(const float *x, size_t n) {
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return -1.0f;
        mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
    }
    return mx;
}

static int8_t q_code(float x, float s, float lv) {
    float v = s > 0.0f ? rintf(x / s) : 0.0f; /* default rounding: to nearest, ties to even */
    return (int8_t)(v > lv ? lv : v < -lv ? -lv : v);
}

int prefrec_q_encode_row(const float *x, size_t n, int levels, float *scale, int8_t *q) {
    float mx = row_max(x, n), lv = (float)levels;
    if (mx < 0.0f) return 1;
    *scale = mx / lv;
    for (size_t i = 0; i < n; i++) q[i] = q_code(x[i], *scale, lv);
    return 0;
}

int prefrec_q8_encode_row(const float *x, size_t n, float *scale, int8_t *q) {
    return prefrec_q_encode_row(x, n, 127, scale, q);
}

int prefrec_quant_roundtrip(uint32_t dt, uint32_t rows, uint32_t cols, float *x) {
    size_t n = (size_t)rows * cols;
    if (dt == PREFREC_DT_F32) return 0;
    if (dt == PREFREC_DT_F16) {
        for (size_t i = 0; i < n; i++) x[i] = prefrec_f16_to_f32(prefrec_f32_to_f16(x[i]));
        return 0;
    }
    if (dt != PREFREC_DT_Q8R && dt != PREFREC_DT_Q4R) return 1;
    float lv = dt == PREFREC_DT_Q8R ? 127.0f : 7.0f;
    for (uint32_t r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols, mx = row_max(row, cols);
        if (mx < 0.0f) return 1;
        float s = mx / lv;
        for (uint32_t i = 0; i < cols; i++) row[i] = prefrec_q8_value(s, q_code(row[i], s, lv));
    }
    return 0;
}

/* ---- storage plans ------------------------------------------------------------------------ */
static int dtype_of_word(const char *s, size_t n) {
    if (n == 3 && !memcmp(s, "f32", 3)) return PREFREC_DT_F32;
    if (n == 3 && !memcmp(s, "f16", 3)) return PREFREC_DT_F16;
    if (n == 3 && !memcmp(s, "q8r", 3)) return PREFREC_DT_Q8R;
    if (n == 3 && !memcmp(s, "q4r", 3)) return PREFREC_DT_Q4R;
    return -1;
}

/* Walks the plan: for each entry calls back with its name part and dtype; returns the first
 * match's dtype for name (or f32), -1 and the entry's position when malformed. */
static int plan_walk(const char *plan, const char *name, size_t *bad_at) {
    const char *p = plan ? plan : "";
    int found = -2;
    while (*p) {
        const char *end = strchr(p, ','), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        eq = memchr(p, '=', len);
        size_t nl = eq ? (size_t)(eq - p) : 0;
        int dt = eq ? dtype_of_word(eq + 1, len - nl - 1) : -1;
        if (!eq || nl == 0 || nl >= PREFREC_PACK_NAME_MAX || dt < 0) {
            *bad_at = (size_t)(p - plan);
            return -1;
        }
        if (found == -2 && name) {
            int prefix = p[nl - 1] == '*';
            size_t cmp = prefix ? nl - 1 : nl;
            if (prefix ? !strncmp(name, p, cmp) : strlen(name) == nl && !strncmp(name, p, nl))
                found = dt;
        }
        p += len + (end ? 1 : 0);
    }
    return found == -2 ? PREFREC_DT_F32 : found;
}

int prefrec_quant_plan_dtype(const char *plan, const char *name) {
    size_t at = 0;
    return plan_walk(plan, name, &at);
}

prefrec_status prefrec_quant_plan_check(const char *plan, prefrec_error *err) {
    size_t at = 0;
    if (plan_walk(plan, NULL, &at) == -1)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "storage plan: entry at character %zu of '%s' is not "
                                 "name=f32|f16|q8r|q4r (a name of 1..31 characters, '*' ends a "
                                 "prefix)",
                                 at, plan);
    return PREFREC_OK;
}
