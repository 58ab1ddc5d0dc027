/* test_quant.c - quantised pack storage (src/core/quant.c, pack.c; version 2), in all three
 * builds: f16 and q8r encoders and decoders on hand-worked values, a version-2 pack's tensors
 * read back as f32, version checks (a version-3 pack refused with the version it needs, q8r in
 * a version-1 pack refused), and the engine's answers from the quantised tiny pack printed in
 * hexadecimal floats: tests/core parity compares them across native, Emscripten and WASI. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/engine.h"
#include "tiny_pack.h"

static float f_of(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void test_f16(void) {
    CHECK_EQ_INT(prefrec_f32_to_f16(1.0f), 0x3C00);
    CHECK_EQ_INT(prefrec_f32_to_f16(-2.0f), 0xC000);
    /* 0.1f = 0x3DCCCCCD: exponent 123 -> 11, mantissa >> 13 = 0x266, dropped bits 0xCCD <
     * 0x1000: rounds down: 0x2E66 = 0.0999755859375 */
    CHECK_EQ_INT(prefrec_f32_to_f16(0.1f), 0x2E66);
    CHECK(prefrec_f16_to_f32(0x2E66) == 0.0999755859375f);
    CHECK_EQ_INT(prefrec_f32_to_f16(65504.0f), 0x7BFF); /* the largest half */
    CHECK_EQ_INT(prefrec_f32_to_f16(65519.0f), 0x7BFF); /* below the midpoint 65520 */
    CHECK_EQ_INT(prefrec_f32_to_f16(65520.0f), 0x7C00); /* the midpoint rounds to infinity */
    CHECK_EQ_INT(prefrec_f32_to_f16(f_of(0x33800000)), 0x0001); /* 2^-24: smallest subnormal */
    CHECK_EQ_INT(prefrec_f32_to_f16(f_of(0x33000000)), 0x0000); /* 2^-25: tie, to even 0 */
    CHECK_EQ_INT(prefrec_f32_to_f16(f_of(0x33C00000)), 0x0002); /* 1.5 x 2^-24: tie, to 2 */
    CHECK_EQ_INT(prefrec_f32_to_f16(1.0f + 1.0f / 2048), 0x3C00); /* tie: to even */
    CHECK_EQ_INT(prefrec_f32_to_f16(1.0f + 3.0f / 2048), 0x3C02); /* tie: to even */
    CHECK_EQ_INT(prefrec_f32_to_f16(f_of(0x7FC00000)), 0x7E00); /* NaN stays NaN */
    /* 0x3555: (1 + 341/1024) / 4 */
    CHECK(prefrec_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(prefrec_f16_to_f32(0x8001) == -f_of(0x33800000));
    CHECK(prefrec_f16_to_f32(0x0400) == f_of(0x38800000)); /* 2^-14 */
    CHECK(isinf(prefrec_f16_to_f32(0x7C00)));
    /* every half that is not a NaN survives half -> float -> half */
    int same = 0;
    for (uint32_t h = 0; h < 65536; h++)
        if ((h & 0x7C00) != 0x7C00 || !(h & 0x3FF))
            same += prefrec_f32_to_f16(prefrec_f16_to_f32((uint16_t)h)) == h;
    CHECK_EQ_INT(same, 65536 - 2 * 1023);
    /* every half against its value worked out apart: (-1)^s x m x 2^(e-25) with the implicit
     * bit (e > 0), m x 2^-24 (e = 0); infinities and NaNs bit for bit (payload kept) */
    int exact = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t e = h >> 10 & 31, m = h & 1023, want;
        if (e == 31) {
            want = (h & 0x8000u) << 16 | 0x7F800000u | m << 13;
        } else {
            float f = e ? ldexpf((float)(m | 1024), (int)e - 25) : ldexpf((float)m, -24);
            memcpy(&want, &f, sizeof want);
            want |= (h & 0x8000u) << 16;
        }
        float got = prefrec_f16_to_f32((uint16_t)h);
        uint32_t gb;
        memcpy(&gb, &got, sizeof gb);
        exact += gb == want;
    }
    CHECK_EQ_INT(exact, 65536);
}

static void test_q8(void) {
    /* max 63.5: scale 0.5, codes exact */
    const float r1[4] = {63.5f, -32.0f, 15.5f, 0.0f};
    float s = -1;
    int8_t q[4];
    CHECK_EQ_INT(prefrec_q8_encode_row(r1, 4, &s, q), 0);
    CHECK(s == 0.5f);
    CHECK_EQ_INT(q[0], 127);
    CHECK_EQ_INT(q[1], -64);
    CHECK_EQ_INT(q[2], 31);
    CHECK_EQ_INT(q[3], 0);
    /* scale 1: halves round to even */
    const float r2[4] = {127.0f, 2.5f, 3.5f, -2.5f};
    CHECK_EQ_INT(prefrec_q8_encode_row(r2, 4, &s, q), 0);
    CHECK(s == 1.0f);
    CHECK_EQ_INT(q[1], 2);
    CHECK_EQ_INT(q[2], 4);
    CHECK_EQ_INT(q[3], -2);
    /* 0.3 with max 1: scale 1 / 127 = 0x3C010204 rounded up to 11 significant bits (the 13 low
     * mantissa bits cleared, plus one unit of 2^13): 0x3C012000 = 2^-7 x 1.0087890625 =
     * 0.00788116455078125; 0.3 / scale = 38.07 -> 38, read back 38 x scale; the max 1 reads
     * back as 127 x scale = 1.0009079 (the grid under 0.1% coarser than max / 127's) */
    float r3[2] = {1.0f, 0.3f};
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q8R, 1, 2, r3), 0);
    CHECK(r3[1] == (float)(38 * 0.00788116455078125));
    CHECK(r3[0] == (float)(127 * 0.00788116455078125));
    CHECK_EQ_INT(prefrec_q8_encode_row(r3, 2, &s, q), 0);
    CHECK(s == 0.00788116455078125f); /* its own grid: scale unchanged, codes exact */
    CHECK_EQ_INT(q[0], 127);
    CHECK_EQ_INT(q[1], 38);
    const float zero[3] = {0, 0, 0};
    CHECK_EQ_INT(prefrec_q8_encode_row(zero, 3, &s, q), 0);
    CHECK(s == 0.0f && q[0] == 0 && q[2] == 0);
    const float bad[2] = {1.0f, f_of(0x7FC00000)};
    CHECK_EQ_INT(prefrec_q8_encode_row(bad, 2, &s, q), 1);
    /* plans */
    const char *plan = "product.emb=q8r,mlp.*=f16";
    CHECK_EQ_INT(prefrec_quant_plan_dtype(plan, "product.emb"), PREFREC_DT_Q8R);
    CHECK_EQ_INT(prefrec_quant_plan_dtype(plan, "mlp.1.w"), PREFREC_DT_F16);
    CHECK_EQ_INT(prefrec_quant_plan_dtype(plan, "product.bias"), PREFREC_DT_F32);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("a=q4", "a"), -1);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("a=q4r", "a"), PREFREC_DT_Q4R);
    /* q4r round trip: max 1, scale 1 / 7 = 0x3E124925 rounded up: 0x3E126000 = 0.1429443359375;
     * 0.3 / scale = 2.099 -> 2, read back 0.285888671875 */
    float r4[2] = {1.0f, 0.3f};
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q4R, 1, 2, r4), 0);
    CHECK(r4[1] == 0.285888671875f);
    /* q5r, q6r (plan words): q8r codes in -15..15, -31..31. Max 1, scale 1 / 15 = 0x3D888889
     * rounded up: 0x3D88A000 = 0.066711425781; 0.3 / scale = 4.497 -> 4: 0.266845703125 */
    float r5[2] = {1.0f, 0.3f};
    CHECK_EQ_INT(prefrec_quant_plan_dtype("e=q5r", "e"), PREFREC_STORE_Q5R);
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_STORE_Q5R, 1, 2, r5), 0);
    CHECK(r5[1] == 0.266845703125f);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("e=q6r", "e"), PREFREC_STORE_Q6R);
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_quant_plan_check("x=f16,=q8r", &err), PREFREC_E_INVAL);
    CHECK(strstr(err.msg, "character 6") != NULL);
}

/* a pack with "a" (f16 [3]), "b" (q8r [2, 3]) and "c" (q4r [1, 5]) */
static unsigned char *quant_pack(size_t *len) {
    static unsigned char a[6], b[8 + 6], c[4 + 3];
    /* q4r of {7, -3.5, 1, 0, 2.4}: scale 7 / 7 = 1, codes {7, -4 (tie to even), 1, 0, 2}, two
     * to a byte low nibble first: 0xC7 (7, -4 = 0xC), 0x01, 0x02 (2, padding 0) */
    const float row[5] = {7.0f, -3.5f, 1.0f, 0.0f, 2.4f};
    float s4 = 0;
    int8_t q4[5];
    prefrec_q_encode_row(row, 5, 7, &s4, q4);
    memcpy(c, &s4, 4);
    memset(c + 4, 0, 3);
    for (int k = 0; k < 5; k++)
        c[4 + k / 2] |= (unsigned char)(((unsigned)q4[k] & 15u) << (4 * (k & 1)));
    const uint16_t ha[3] = {0x3C00, 0x2E66, 0x7BFF}; /* 1, 0.0999755859375, 65504 */
    for (int i = 0; i < 3; i++) a[2 * i] = (unsigned char)ha[i], a[2 * i + 1] = ha[i] >> 8;
    const float sc[2] = {0.5f, 1.0f};
    const int8_t qb[6] = {127, -64, 31, 2, -3, 0};
    memcpy(b, sc, 8);
    memcpy(b + 8, qb, 6);
    CHECK(s4 == 1.0f && c[4] == 0xC7 && c[5] == 0x01 && c[6] == 0x02);
    tb t[] = {{"a", PREFREC_DT_F16, 1, {3}, a, 6},
              {"b", PREFREC_DT_Q8R, 2, {2, 3}, b, 14},
              {"c", PREFREC_DT_Q4R, 2, {1, 5}, c, 7}};
    return tb_build("{\"kind\":\"test\"}", t, 3, len);
}

static void test_pack_v2(void) {
    size_t len;
    unsigned char *b = quant_pack(&len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_version(p), 2);
    const prefrec_tensor *ta = prefrec_pack_find(p, "a"), *tq = prefrec_pack_find(p, "b"), *v;
    CHECK_EQ_INT(ta->dtype, PREFREC_DT_F16);
    CHECK_EQ_INT(ta->n_bytes, 6);
    CHECK_EQ_INT(tq->dtype, PREFREC_DT_Q8R);
    CHECK_EQ_INT(tq->n_bytes, 14); /* 2 scales + 6 codes */
    uint32_t w3 = 3, w23[2] = {2, 3};
    CHECK_EQ_INT(prefrec_pack_get(p, "a", PREFREC_DT_F32, 1, &w3, &v, &err), PREFREC_OK);
    const float *x = v->data;
    CHECK(v->dtype == PREFREC_DT_F32 && x[0] == 1.0f && x[1] == 0.0999755859375f &&
          x[2] == 65504.0f);
    CHECK_EQ_INT(prefrec_pack_get(p, "b", PREFREC_DT_F32, 2, w23, &v, &err), PREFREC_OK);
    x = v->data;
    /* row 0: 0.5 x {127, -64, 31}; row 1: 1 x {2, -3, 0} */
    CHECK(x[0] == 63.5f && x[1] == -32.0f && x[2] == 15.5f);
    CHECK(x[3] == 2.0f && x[4] == -3.0f && x[5] == 0.0f);
    CHECK_EQ_INT(prefrec_pack_get(p, "b", PREFREC_DT_I8, 2, w23, &v, &err), PREFREC_E_FORMAT);
    CHECK_EQ_INT(prefrec_pack_find(p, "c")->n_bytes, 7);
    CHECK_EQ_INT(prefrec_pack_get(p, "c", PREFREC_DT_F32, 2, NULL, &v, &err), PREFREC_OK);
    x = v->data;
    CHECK(x[0] == 7.0f && x[1] == -4.0f && x[2] == 1.0f && x[3] == 0.0f && x[4] == 2.0f);
    prefrec_pack_free(p);

    unsigned char *c = malloc(len);
    /* version 5: refused, naming the versions this engine reads */
    memcpy(c, b, len);
    c[8] = 5;
    tb_fix_crc(c, len);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_VERSION);
    CHECK(strstr(err.msg, "version 5") && strstr(err.msg, "reads versions 1 to 4"));
    printf("version 5: %s\n", err.msg);
    /* version 1 cannot hold q8r */
    c[8] = 1;
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "needs pack version 2") != NULL);
    /* a scale that is not a finite number >= 0 */
    memcpy(c, b, len);
    const prefrec_tensor *tb1 = NULL;
    prefrec_pack *p2 = NULL;
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p2, &err), PREFREC_OK);
    tb1 = prefrec_pack_find(p2, "b");
    size_t off = (size_t)tb1->offset;
    prefrec_pack_free(p2);
    const float nan_scale = f_of(0x7FC00000), neg = -1.0f;
    memcpy(c + off + 4, &nan_scale, 4);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "row 1's scale") != NULL);
    memcpy(c + off + 4, &neg, 4);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    free(c);
    free(b);
}

/* q8c and q4c: codes into a per-tensor codebook (quant.c) */
static void put_u32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
/* the first tensor's bytes: the data section's start (header bytes 40..47) */
static size_t data_off(const unsigned char *b) {
    size_t o = 0;
    for (int k = 7; k >= 0; k--) o = o << 8 | b[40 + k];
    return o;
}
static void put_f64(unsigned char *p, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    put_u32(p, (uint32_t)bits);
    put_u32(p + 4, (uint32_t)(bits >> 32));
}

/* Every data byte of pack b flipped, its low bit and its high bit (CRC recomputed): refused with a message, or read with
 * every float finite and every index list within -1..65535; never a crash (asan build). */
static void flip_all(const unsigned char *b, size_t len, const char *what) {
    int refused = 0, read = 0;
    unsigned char *d = malloc(len);
    for (size_t f = 0; f < 2 * (len - data_off(b)); f++) {
        size_t i = data_off(b) + f / 2; /* each byte's low bit, then its high bit */
        memcpy(d, b, len);
        d[i] ^= f % 2 ? 0x80 : 0x01;
        tb_fix_crc(d, len);
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        if (prefrec_pack_open(d, len, &p, &err) != PREFREC_OK) {
            refused += err.msg[0] != 0 && !p;
            continue;
        }
        read++;
        for (size_t t = 0; t < prefrec_pack_tensor_count(p); t++) {
            const prefrec_tensor *x = prefrec_pack_tensor_at(p, t), *v;
            int idx = x->dtype == PREFREC_DT_D16;
            CHECK_EQ_INT(prefrec_pack_get(p, x->name, idx ? PREFREC_DT_I32 : PREFREC_DT_F32,
                                          x->ndim, NULL, &v, &err),
                         PREFREC_OK);
            for (uint64_t j = 0; j < v->n_elems; j++)
                CHECK(idx ? ((const int32_t *)v->data)[j] >= -1
                          : isfinite(((const float *)v->data)[j]));
        }
        prefrec_pack_free(p);
    }
    CHECK_EQ_INT(refused + read, 2 * (long long)(len - data_off(b)));
    printf("%s data flips (CRC recomputed): %d refused, %d read\n", what, refused, read);
    free(d);
}

static void test_qc(void) {
    /* q4c of 0, 1, .., 16 (one row, scale 16: u = k / 16). Lloyd from the quantiles
     * u[(2j + 1) x 17 / 32]: indices 0..7, 9..16 (8 / 16 is no level); the first round puts 8 / 16
     * with 7 / 16 (the midpoint to 9 / 16 is 8 / 16, ties go low): that level becomes
     * 15 / 32, and stays. Read back: 7 and 8 both 7.5, every other value exact. */
    float x[17], y[17];
    for (int k = 0; k < 17; k++) x[k] = y[k] = (float)k;
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q4C, 1, 17, y), 0);
    int exact = 0;
    for (int k = 0; k < 17; k++) exact += y[k] == x[k];
    CHECK_EQ_INT(exact, 15);
    CHECK(y[7] == 7.5f && y[8] == 7.5f);
    uint32_t sh[2] = {1, 17};
    CHECK_EQ_INT(prefrec_dtype_bytes(PREFREC_DT_Q4C, 2, sh, 17), 64 + 4 + 9);
    CHECK_EQ_INT(prefrec_dtype_bytes(PREFREC_DT_Q8C, 2, sh, 17), 1024 + 4 + 17);
    /* q8c of a tensor with no negative value: levels 0, then 0.001 x 1000^((j - 1) / 254) up to
     * 1 (ratio 1000^(1 / 254) = 1.0276 a level: relative error under 1.4%). Row max 1: 0 and 1
     * read back exactly, 0.001 as 0.001 (level 1), sqrt(0.001) as level 128 */
    float z[5] = {0.0f, 0.001f, 1.0f, 0.0316227766f, 0.5f};
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q8C, 1, 5, z), 0);
    CHECK(z[0] == 0.0f && z[2] == 1.0f);
    CHECK_NEAR(z[1], 0.001, 1e-9);
    CHECK_NEAR(z[3], 0.0316227766, 1e-6);
    CHECK(fabsf(z[4] - 0.5f) < 0.5f * 0.014f && z[4] != 0.5f);
    /* signed: 256 k-means levels, 5 distinct values: all exact */
    float w[5] = {-3.0f, 1.0f, 0.25f, 0.0f, 3.0f};
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q8C, 1, 5, w), 0);
    CHECK(w[0] == -3.0f && w[1] == 1.0f && w[2] == 0.25f && w[3] == 0.0f && w[4] == 3.0f);
    float nan_row[2] = {1.0f, f_of(0x7FC00000)};
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_Q4C, 1, 2, nan_row), 1);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("a=q8c,b=q4c", "a"), PREFREC_DT_Q8C);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("a=q8c,b=q4c", "b"), PREFREC_DT_Q4C);

    /* a pack: "p" q8c [2, 3] (rows {4, 0, 1}, {0, 0, 0}), "e" q4c [1, 17] (0..16) */
    static unsigned char bp[1024 + 8 + 6], be[64 + 4 + 9];
    const float p0[6] = {4.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f};
    CHECK_EQ_INT(prefrec_qc_encode(PREFREC_DT_Q8C, p0, 2, 3, bp), 0);
    CHECK_EQ_INT(prefrec_qc_encode(PREFREC_DT_Q4C, x, 1, 17, be), 0);
    tb t[] = {{"p", PREFREC_DT_Q8C, 2, {2, 3}, bp, sizeof bp},
              {"e", PREFREC_DT_Q4C, 2, {1, 17}, be, sizeof be}};
    size_t len;
    unsigned char *b = tb_build("{\"kind\":\"test\"}", t, 2, &len), *c = malloc(len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    const prefrec_tensor *v;
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_version(p), 2);
    CHECK_EQ_INT(prefrec_pack_get(p, "p", PREFREC_DT_F32, 2, NULL, &v, &err), PREFREC_OK);
    const float *f = v->data; /* 4 x 1, 4 x 0, 4 x 0.25 (the smallest positive: level 1) */
    CHECK(f[0] == 4.0f && f[1] == 0.0f && f[2] == 1.0f && f[3] == 0.0f && f[5] == 0.0f);
    CHECK_EQ_INT(prefrec_pack_get(p, "e", PREFREC_DT_F32, 2, NULL, &v, &err), PREFREC_OK);
    CHECK(((const float *)v->data)[16] == 16.0f && ((const float *)v->data)[8] == 7.5f);
    const size_t op = (size_t)prefrec_pack_find(p, "p")->offset,
                 oe = (size_t)prefrec_pack_find(p, "e")->offset;
    prefrec_pack_free(p);
    /* version 1 cannot hold q8c / q4c */
    memcpy(c, b, len);
    c[8] = 1;
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "dtype q8c needs pack version 2") != NULL);
    /* a level outside [-1, 1] or not a number, a row scale below 0: refused, naming the byte */
    const float bad_vals[3] = {f_of(0x7FC00000), 1.5f, -1.0f};
    const size_t bad_at[3] = {oe + 4 * 3, op + 4 * 255, op + 1024 + 4};
    for (int k = 0; k < 3; k++) {
        memcpy(c, b, len);
        memcpy(c + bad_at[k], &bad_vals[k], 4);
        tb_fix_crc(c, len);
        char want[32];
        snprintf(want, sizeof want, "(byte %zu)", bad_at[k]);
        CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
        CHECK(strstr(err.msg, want) != NULL);
        CHECK(strstr(err.msg, k < 2 ? "codebook level" : "row scale") != NULL);
        if (k == 2) printf("bad q8c scale: %s\n", err.msg);
    }
    /* every byte of both tensors flipped (CRC recomputed): refused with a message, or read as
     * finite values (a code is always some level) */
    CHECK_EQ_INT(op, data_off(b));
    flip_all(b, len, "q8c/q4c");
    free(c);
    free(b);
}

/* tensors t[0..n) built into a version-2 pack (*b, *len: the caller frees *b) and opened */
static prefrec_pack *built(tb *t, size_t n, unsigned char **b, size_t *len) {
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    *b = tb_build("{\"kind\":\"test\"}", t, n, len);
    CHECK_EQ_INT(prefrec_pack_open(*b, *len, &p, &err), PREFREC_OK);
    return p;
}

/* Row reads (prefrec_pack_row_f32) give the whole decode's floats; prefrec_pack_finite knows,
 * without decoding, which stored tensors decode to finite values only. */
static void test_rows_finite(void) {
    size_t len;
    unsigned char *b = quant_pack(&len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    const char *names[3] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        const prefrec_tensor *t = prefrec_pack_find(p, names[i]), *v = NULL;
        CHECK(prefrec_pack_by_rows(p, t));
        CHECK(prefrec_pack_finite(t));
        CHECK_EQ_INT(prefrec_pack_get(p, names[i], PREFREC_DT_F32, t->ndim, NULL, &v, &err),
                     PREFREC_OK);
        uint64_t rows = t->ndim > 1 ? t->shape[0] : 1, cols = t->n_elems / rows;
        float row[8];
        for (uint64_t r = 0; r < rows; r++) {
            prefrec_pack_row_f32(t, r, 1, row);
            CHECK(!memcmp(row, (const float *)v->data + r * cols, (size_t)cols * sizeof *row));
        }
    }
    prefrec_pack_free(p);
    /* an f16 infinity; a q8r scale past FLT_MAX / 128 (valid at open: finite, >= 0); q4r's
     * limit FLT_MAX / 8 itself is finite */
    static unsigned char h[4], q8[4 + 2], q4[4 + 1], q4b[4 + 1];
    const uint16_t hv[2] = {0x3C00, 0x7C00};
    for (int i = 0; i < 2; i++) h[2 * i] = (unsigned char)hv[i], h[2 * i + 1] = hv[i] >> 8;
    const float big = FLT_MAX, lim4 = FLT_MAX / 8.0f, over4 = nextafterf(FLT_MAX / 8.0f, FLT_MAX);
    memcpy(q8, &big, 4);
    memcpy(q4, &lim4, 4);
    memcpy(q4b, &over4, 4);
    q8[4] = 1, q4[4] = 0x87, q4b[4] = 0x11;
    tb t[] = {{"h", PREFREC_DT_F16, 1, {2}, h, 4},
              {"q8", PREFREC_DT_Q8R, 2, {1, 2}, q8, 6},
              {"q4", PREFREC_DT_Q4R, 2, {1, 2}, q4, 5},
              {"q4b", PREFREC_DT_Q4R, 2, {1, 2}, q4b, 5}};
    unsigned char *bb = NULL;
    size_t blen = 0;
    p = built(t, 4, &bb, &blen);
    if (p) {
        CHECK(!prefrec_pack_finite(prefrec_pack_find(p, "h")));
        CHECK(!prefrec_pack_finite(prefrec_pack_find(p, "q8")));
        CHECK(prefrec_pack_finite(prefrec_pack_find(p, "q4")));
        CHECK(!prefrec_pack_finite(prefrec_pack_find(p, "q4b")));
        float r4[2];
        prefrec_pack_row_f32(prefrec_pack_find(p, "q4"), 0, 1, r4); /* codes 7, -8 */
        CHECK(r4[0] == 7.0f * lim4 && r4[1] == -8.0f * lim4 && r4[1] >= -FLT_MAX);
    }
    prefrec_pack_free(p);
    free(bb);
    free(b);
}

/* u16: an index list read as i32, 0xFFFF as -1 */
static void test_u16(void) {
    static const uint16_t h[4] = {0, 7, 0xFFFF, 65534};
    tb t[] = {{"n", PREFREC_DT_U16, 2, {2, 2}, h, sizeof h}};
    size_t len;
    unsigned char *b;
    prefrec_pack *p = built(t, 1, &b, &len);
    prefrec_error err = {0};
    const prefrec_tensor *v;
    CHECK_EQ_INT(prefrec_pack_version(p), 2);
    CHECK_EQ_INT(prefrec_pack_find(p, "n")->n_bytes, 8);
    CHECK_EQ_INT(prefrec_pack_get(p, "n", PREFREC_DT_I32, 2, NULL, &v, &err), PREFREC_OK);
    const int32_t *x = v->data;
    CHECK(v->dtype == PREFREC_DT_I32 && x[0] == 0 && x[1] == 7 && x[2] == -1 && x[3] == 65534);
    CHECK_EQ_INT(prefrec_pack_get(p, "n", PREFREC_DT_U16, 2, NULL, &v, &err), PREFREC_OK);
    CHECK(((const uint16_t *)v->data)[2] == 0xFFFF);
    CHECK_EQ_INT(prefrec_pack_get(p, "n", PREFREC_DT_F32, 2, NULL, &v, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "is u16, expected f32") != NULL);
    prefrec_pack_free(p);
    b[8] = 1; /* version 1 has no u16 */
    tb_fix_crc(b, len);
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "dtype u16 needs pack version 2") != NULL);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("blend.*.nbr=u16", "blend.*.nbr"), PREFREC_DT_U16);
    CHECK_EQ_INT(prefrec_quant_plan_dtype("blend.*=u16", "blend.knn.nbr"), PREFREC_DT_U16);
    float f[1] = {1.0f}; /* not a float storage */
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_U16, 1, 1, f), 1);
    free(b);
}

/* pc8 / pc16 / pcx: 2 segments x 3 products, prior 2. Segment 0 has 4 members, segment 1 is
 * served as the overall share (its counts fold into the last row, which holds 2 members; pcx
 * does not store its row). Counts: segment 0 {2, 0, 4}, the rest {1, 2, 0}: buyers g = {3, 2, 4}
 * of 6, overall gl = g / 6 = {0.5, 1/3, 2/3}; segment 0 = (count + 2 gl) / (4 + 2): {(2 + 1) / 6
 * = 0.5, (2/3) / 6, (4 + 4/3) / 6 = 8/9}. */
static void test_pc(void) {
    for (int form = 0; form < 3; form++) { /* pc8, pc16, pcx */
        static const unsigned cnt[9] = {2, 0, 4, 0, 0, 0, 1, 2, 0};
        unsigned char in[8 + 12 + 18];
        size_t nb = 8 + 12 + (form == 1 ? 18 : form == 2 ? 4 + 3 + 6 : 9), q = 20;
        put_f64(in, 2.0);
        put_u32(in + 8, 4);
        put_u32(in + 12, 0x80000000u);
        put_u32(in + 16, 2);
        if (form == 2) { /* no escapes, no high planes; rows 0 and 2 */
            put_u32(in + 20, 0);
            memset(in + 24, 0, 3);
            q = 27;
            for (int k = 0; k < 3; k++)
                in[q + k] = (unsigned char)cnt[k], in[q + 3 + k] = (unsigned char)cnt[6 + k];
        } else {
            for (int k = 0; k < 9; k++) {
                in[20 + k] = (unsigned char)cnt[k];
                if (form == 1) in[29 + k] = 0; /* the high plane */
            }
        }
        uint32_t dt = form == 0 ? PREFREC_DT_PC8 : form == 1 ? PREFREC_DT_PC16 : PREFREC_DT_PCX;
        tb t[] = {{"blend.pop.seg", dt, 2, {2, 3}, in, nb}};
        size_t len;
        unsigned char *b;
        prefrec_pack *p = built(t, 1, &b, &len);
        prefrec_error err = {0};
        const prefrec_tensor *v;
        uint32_t sh[2] = {2, 3};
        CHECK_EQ_INT(form == 2 ? prefrec_pcx_bytes(in, 2, 3) : prefrec_dtype_bytes(dt, 2, sh, 6),
                     nb);
        CHECK_EQ_INT(prefrec_pack_get(p, "blend.pop.seg", PREFREC_DT_F32, 2, NULL, &v, &err),
                     PREFREC_OK);
        const float *x = v->data;
        float third = (float)(2.0 / 6), two3 = (float)(4.0 / 6);
        CHECK(x[0] == 0.5f);
        CHECK(x[1] == (float)((0 + 2 * (double)third) / 6));
        CHECK(x[2] == (float)((4 + 2 * (double)two3) / 6));
        CHECK(fabsf(x[1] - 1.0f / 9) < 1e-7f && fabsf(x[2] - 8.0f / 9) < 1e-7f);
        CHECK(x[3] == 0.5f && x[4] == third && x[5] == two3); /* segment 1: the overall share */
        prefrec_pack_free(p);
        /* a count above its segment's size, a prior of 0, a size with bit 31 and a value */
        size_t at[3] = {q + 2, 0, 11}; /* (segment 0's size 4 | 2^31) */
        const char *msg[3] = {"a count is above its segment's size",
                              "the prior is not a finite number > 0",
                              "a segment size has bit 31 set"};
        for (int c = 0; c < 3; c++) {
            unsigned char *d = malloc(len);
            memcpy(d, b, len);
            size_t o = data_off(d);
            if (c == 0) d[o + at[c]] = 5;
            if (c == 1) memset(d + o, 0, 8);
            if (c == 2) d[o + at[c]] = 0x80;
            tb_fix_crc(d, len);
            CHECK_EQ_INT(prefrec_pack_open(d, len, &p, &err), PREFREC_E_FORMAT);
            CHECK(strstr(err.msg, msg[c]) != NULL);
            CHECK(strstr(err.msg, "blend.pop.seg") != NULL);
            free(d);
        }
        flip_all(b, len, form == 0 ? "pc8" : form == 1 ? "pc16" : "pcx");
        free(b);
    }
    CHECK_EQ_INT(prefrec_quant_plan_dtype("blend.pop.seg=pcn", "blend.pop.seg"), PREFREC_STORE_PCN);
    float f[2] = {0.1f, 0.3f}; /* pcn is the counts or f16 at export: no change here */
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_STORE_PCN, 1, 2, f), 0);
    CHECK(f[0] == 0.1f && f[1] == 0.3f);
}

/* pcx's escapes, high planes and empty segments against pc16 holding the same counts: 3
 * segments x 2 products, prior 0.5; sizes {300, 0, 1000} and 0 suppressed; counts {256, 3}, {0,
 * 0}, {255, 999}, {0, 0}. pcx stores rows 0 and 2: as one plane each, {255, 3, 255, 255} and the
 * escapes (0, 256), (2, 255), (3, 999); or row 0 with its high plane, {0, 3 | 1, 0}, and the
 * escapes of row 2 alone. The same floats from a whole decode, a row and a value at a time. */
static void test_pcx(void) {
    static const uint32_t size[4] = {300, 0, 1000, 0}, cnt[8] = {256, 3, 0, 0, 255, 999, 0, 0};
    unsigned char w[8 + 16 + 16];
    put_f64(w, 0.5);
    for (int r = 0; r < 4; r++) put_u32(w + 8 + 4 * r, size[r]);
    for (int k = 0; k < 8; k++)
        w[24 + k] = (unsigned char)cnt[k], w[32 + k] = (unsigned char)(cnt[k] >> 8);
    float a[6], gl_a[2];
    uint64_t bad = 0;
    CHECK_EQ_INT(prefrec_pc_decode(PREFREC_DT_PC16, w, 3, 2, a, &bad), 0);
    CHECK(a[0] == (float)((256 + 0.5 * (double)(float)(511.0 / 1300)) / 300.5));
    prefrec_pc_shares(PREFREC_DT_PC16, w, 3, 2, gl_a);
    CHECK(gl_a[1] == (float)(1002.0 / 1300));
    for (int wide = 0; wide < 2; wide++) {
        unsigned char x[8 + 16 + 4 + 4 + 4 + 24];
        memcpy(x, w, 24);
        put_u32(x + 24, wide ? 2 : 3);
        static const unsigned char flags[2][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}};
        static const unsigned char planes[2][6] = {{255, 3, 255, 255}, {0, 3, 1, 0, 255, 255}};
        static const uint32_t esc[6] = {0, 256, 2, 255, 3, 999};
        memcpy(x + 28, flags[wide], 4);
        memcpy(x + 32, planes[wide], wide ? 6 : 4);
        size_t e0 = wide ? 38 : 36, nb = e0 + (wide ? 16 : 24);
        for (int k = wide ? 2 : 0; k < 6; k++) put_u32(x + e0 + 4 * (k - (wide ? 2 : 0)), esc[k]);
        CHECK_EQ_INT(prefrec_pcx_bytes(x, 3, 2), nb);
        float c[6], gl_c[2], row[2];
        CHECK_EQ_INT(prefrec_pc_decode(PREFREC_DT_PCX, x, 3, 2, c, &bad), 0);
        CHECK(!memcmp(a, c, sizeof a));
        prefrec_pc_shares(PREFREC_DT_PCX, x, 3, 2, gl_c);
        CHECK(!memcmp(gl_a, gl_c, sizeof gl_a));
        for (uint64_t r = 0; r < 3; r++) {
            prefrec_pc_row(PREFREC_DT_PCX, x, 3, 2, gl_c, r, row);
            CHECK(!memcmp(row, a + 2 * r, sizeof row));
            prefrec_pc_reader rd;
            prefrec_pc_reader_at(PREFREC_DT_PCX, x, 3, 2, r, &rd);
            for (uint64_t k = 0; k < 2; k++) CHECK(prefrec_pc_read(&rd, gl_c, k) == a[2 * r + k]);
        }
        /* in a pack: version 4 (a version-3 header is refused naming the version it needs) */
        tb t[] = {{"blend.pop.seg", PREFREC_DT_PCX, 2, {3, 2}, x, nb}};
        size_t len;
        unsigned char *b;
        prefrec_pack *p = built(t, 1, &b, &len);
        prefrec_error err = {0};
        const prefrec_tensor *v;
        CHECK_EQ_INT(b[8], 4);
        CHECK(prefrec_pack_pc_table(p, prefrec_pack_find(p, "blend.pop.seg")));
        CHECK_EQ_INT(prefrec_pack_get(p, "blend.pop.seg", PREFREC_DT_F32, 2, NULL, &v, &err),
                     PREFREC_OK);
        CHECK(!memcmp(v->data, a, sizeof a));
        prefrec_pack_free(p);
        flip_all(b, len, wide ? "pcx with a high plane" : "pcx with escapes");
        size_t o = data_off(b);
        /* each fault: the message, naming the tensor (at: from the escapes' start e0, the second
         * escape's k at 8, the first's count at 4; else a byte of the tensor) */
        static const struct {
            size_t at;
            int esc;
            uint32_t v;
            const char *msg;
        } bads[] = {
            {8, 1, 0, "does not match a 255"}, /* out of order: k 0 again / k 2 again */
            {8, 1, 1, "does not match a 255"}, /* k 1: not a 255 of a row of one plane */
            {4, 1, 254, "does not match a 255"}, /* a count below 255 */
            {4, 1, 70000, "does not match a 255"}, /* above 65535 */
            {4, 1, 1001, "above its segment's size"}, /* row 2 holds 1,000 members */
            {8, 1, 9, "does not match a 255"}, /* k past the counts (4 of them) */
            {29, 0, 1, "high-plane flag"}, /* a flag on segment 1, not stored */
            {29, 0, 7, "high-plane flag"}, /* a flag not 0 or 1 */
        };
        for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
            unsigned char *d = malloc(len);
            memcpy(d, b, len);
            if (bads[i].esc)
                put_u32(d + o + e0 + bads[i].at, bads[i].v);
            else
                d[o + bads[i].at] = (unsigned char)bads[i].v;
            tb_fix_crc(d, len);
            CHECK_EQ_INT(prefrec_pack_open(d, len, &p, &err), PREFREC_E_FORMAT);
            CHECK(strstr(err.msg, bads[i].msg) != NULL && strstr(err.msg, "blend.pop.seg") != NULL);
            free(d);
        }
        /* a 255 of a row of one plane without its escape */
        unsigned char *d = malloc(len);
        memcpy(d, b, len);
        d[o + 33] = 255; /* row 0's second count, 3 */
        tb_fix_crc(d, len);
        CHECK_EQ_INT(prefrec_pack_open(d, len, &p, &err), wide ? PREFREC_OK : PREFREC_E_FORMAT);
        if (wide)
            prefrec_pack_free(p); /* a wide row's 255 is a count (255 <= its 300 members) */
        else
            CHECK(strstr(err.msg, "does not match a 255") != NULL);
        free(d);
        put_u32(b + o + 24, 4); /* escapes past the data */
        tb_fix_crc(b, len);
        CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_E_FORMAT);
        CHECK(strstr(err.msg, "escapes make") != NULL);
        put_u32(b + o + 24, wide ? 2 : 3);
        b[8] = 3;
        tb_fix_crc(b, len);
        CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_E_FORMAT);
        CHECK(strstr(err.msg, "dtype pcx needs pack version 4") != NULL);
        free(b);
    }
}

/* d16: rows {1, 5, 9} and {0, -1, -1} stored as their steps {1, 4, 4}, {0, none, none} in two
 * planes; r16: {0, 0.25, 1, 0.5} = k / 4 for k {0, 1, 4, 2} */
static void test_d16_r16(void) {
    static const unsigned char d[12] = {1, 4, 4, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0xFF, 0xFF};
    unsigned char r[16 + 8];
    put_f64(r, 0.0);
    put_f64(r + 8, 4.0);
    static const unsigned char k[8] = {0, 1, 4, 2, 0, 0, 0, 0};
    memcpy(r + 16, k, 8);
    tb t[] = {{"n", PREFREC_DT_D16, 2, {2, 3}, d, sizeof d},
              {"r", PREFREC_DT_R16, 1, {4}, r, sizeof r}};
    size_t len;
    unsigned char *b;
    prefrec_pack *p = built(t, 2, &b, &len);
    prefrec_error err = {0};
    const prefrec_tensor *v;
    CHECK_EQ_INT(prefrec_pack_get(p, "n", PREFREC_DT_I32, 2, NULL, &v, &err), PREFREC_OK);
    const int32_t *n = v->data;
    CHECK(n[0] == 1 && n[1] == 5 && n[2] == 9 && n[3] == 0 && n[4] == -1 && n[5] == -1);
    CHECK_EQ_INT(prefrec_pack_get(p, "r", PREFREC_DT_F32, 1, NULL, &v, &err), PREFREC_OK);
    const float *x = v->data;
    CHECK(x[0] == 0.0f && x[1] == 0.25f && x[2] == 1.0f && x[3] == 0.5f);
    prefrec_pack_free(p);
    flip_all(b, len, "d16 and r16");
    size_t o = data_off(b);
    put_f64(b + o + 64 + 8, 0.0); /* r16's denominator 0 (r sits after n, 64-aligned) */
    tb_fix_crc(b, len);
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "'r'") != NULL && strstr(err.msg, "denominator") != NULL);
    free(b);
    /* the fit: k / b with b = 1 / the smallest value > 0; else none (then f16 at export) */
    float y[4] = {0.0f, 0.25f, 1.0f, 0.5f}, z[2] = {0.3f, 0.123456f};
    double a = -1, den = 0;
    uint16_t q[4];
    CHECK_EQ_INT(prefrec_r16_fit(y, 4, &a, &den, q), 1);
    CHECK(a == 0 && den == 4 && q[0] == 0 && q[1] == 1 && q[2] == 4 && q[3] == 2);
    CHECK_EQ_INT(prefrec_r16_fit(z, 2, &a, &den, NULL), 0);
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_R16, 1, 4, y), 0); /* exact: unchanged */
    CHECK(y[1] == 0.25f);
    CHECK_EQ_INT(prefrec_quant_roundtrip(PREFREC_DT_R16, 1, 2, z), 0); /* as f16 */
    CHECK(z[0] == prefrec_f16_to_f32(prefrec_f32_to_f16(0.3f)));
}

/* The engine's lists from the f32 tiny pack and its quantised twin: printed exactly (parity). */
static void test_engine(void) {
    for (int variant = 2; variant <= 12; variant += 10) {
        size_t len;
        unsigned char *b = tiny_pack(&len, variant);
        prefrec_pack *p = NULL;
        prefrec_engine *e = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
        CHECK_EQ_INT(prefrec_engine_new(p, NULL, &e, &err), PREFREC_OK);
        if (!e) {
            fprintf(stderr, "%s\n", err.msg);
            prefrec_pack_free(p);
            free(b);
            continue;
        }
        for (int ranker = PREFREC_RANKER_BLEND; ranker <= PREFREC_RANKER_NEUMF; ranker++)
            for (int c = 0; c < 2; c++) { /* (C2 bought every product) */
                const char *cust[2] = {"C0", "C1"};
                prefrec_request rq = prefrec_request_default();
                rq.k = 6;
                rq.ranker = ranker;
                rq.customer = cust[c];
                prefrec_response rs;
                CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
                printf("pack v%u ranker %d %s:", prefrec_pack_version(p), ranker, cust[c]);
                for (uint32_t i = 0; i < rs.n; i++)
                    printf(" %d:%a", rs.items[i].product, (double)rs.items[i].score);
                printf("\n");
            }
        prefrec_engine_free(e);
        prefrec_pack_free(p);
        free(b);
    }
}

/* The engine's answers from pack b, every list, score and reason, by customer, history and
 * segment, for the default ranker and both rankers, into out (cap bytes); the pack's version
 * in *version */
static void engine_answers(const unsigned char *b, size_t len, char *out, size_t cap,
                           int *version) {
    size_t at = 0;
    prefrec_pack *p = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    *version = p ? (int)prefrec_pack_version(p) : 0;
    CHECK_EQ_INT(prefrec_engine_new(p, NULL, &e, &err), PREFREC_OK);
    out[0] = 0;
    int32_t hist[3][2] = {{1, 4}, {2, 5}, {0, 3}};
    for (int ranker = PREFREC_RANKER_DEFAULT; e && ranker <= PREFREC_RANKER_NEUMF; ranker++)
        for (int q = 0; q < 7; q++) {
            static const char *const cust[2] = {"C0", "C1"};
            prefrec_request rq = prefrec_request_default();
            rq.k = 6;
            rq.ranker = ranker;
            if (q < 2)
                rq.customer = cust[q];
            else if (q < 5)
                rq.history = hist[q - 2], rq.n_history = 2;
            else
                rq.gender = 1, rq.age = q == 5 ? 34.0f : 52.0f;
            prefrec_response rs;
            prefrec_status st = prefrec_engine_recommend(e, &rq, &rs, &err);
            at += (size_t)snprintf(out + at, cap - at, "|%d:", (int)st);
            for (uint32_t i = 0; st == PREFREC_OK && i < rs.n && at + 64 < cap; i++)
                at += (size_t)snprintf(out + at, cap - at, " %d:%a:%d:%d", rs.items[i].product,
                                       (double)rs.items[i].score, rs.items[i].reason,
                                       rs.items[i].reason_ref);
        }
    CHECK(at + 64 < cap);
    prefrec_engine_free(e);
    prefrec_pack_free(p);
}

/* Compact neighbour lists (version 3: blend.*.rows, only the rows of products that have
 * neighbours) give the answers of the same lists dense, rows of -1 included: every list, score
 * and reason, by customer, history and segment, for the default ranker and both rankers, with
 * the weights f32 and stored q8r / q4r (read a row at a time) */
/* blend.pop.seg stored as f16 is read as stored (a row or a value at a time, no float table at
 * load): every list, score and reason is the one of the same pack with the decoded floats
 * stored as f32, by segment, customer and history, for both rankers and the default */
static void test_pop_f16(void) {
    char out[2][8192];
    for (int f = 1; f <= 2; f++) {
        tiny_pop_f16 = f;
        size_t len;
        int version = 0;
        unsigned char *b = tiny_pack(&len, 12);
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
        const prefrec_tensor *t = p ? prefrec_pack_find(p, "blend.pop.seg") : NULL;
        CHECK(t && t->dtype == (f == 1 ? PREFREC_DT_F16 : PREFREC_DT_F32));
        prefrec_pack_free(p);
        engine_answers(b, len, out[f - 1], sizeof out[0], &version);
        free(b);
    }
    tiny_pop_f16 = 0;
    CHECK(strstr(out[0], "|0: ") != NULL);
    CHECK_STR(out[0], out[1]);
}

/* The segment popularity as buyer counts (tests/tiny_pack.h, tiny_pop_counts) stored pcx
 * (version 4: a high plane, escapes, rows not stored), pc16, and as the floats they decode to
 * (f32): the same answers; printed for the three builds' parity */
static void test_pop_counts(void) {
    char out[3][8192];
    for (int c = 0; c < 3; c++) {
        tiny_pop_counts = c + 1;
        size_t len;
        int version = 0;
        unsigned char *b = tiny_pack(&len, 13);
        engine_answers(b, len, out[c], sizeof out[c], &version);
        CHECK_EQ_INT(version, c == 0 ? 4 : 2);
        free(b);
    }
    tiny_pop_counts = 0;
    CHECK_STR(out[0], out[1]);
    CHECK_STR(out[0], out[2]);
    char other[8192]; /* the counts matter: the pack's own table answers otherwise */
    size_t len;
    int version = 0;
    unsigned char *b = tiny_pack(&len, 13);
    engine_answers(b, len, other, sizeof other, &version);
    CHECK(strcmp(other, out[0]) != 0);
    free(b);
    printf("pcx answers: %s\n", out[0]);
}

static void test_compact(void) {
    for (int variant = 3; variant <= 13; variant += 10) {
        char out[3][8192];
        for (int c = 0; c < 3; c++) { /* 0: the lists as they are; 1: rows emptied; 2: compact */
            tiny_compact = c;
            size_t len;
            int version = 0;
            unsigned char *b = tiny_pack(&len, variant);
            engine_answers(b, len, out[c], sizeof out[c], &version);
            CHECK_EQ_INT(version, c == 2 ? 3 : variant >= 10 ? 2 : 1);
            free(b);
        }
        CHECK(strcmp(out[0], out[1]) != 0); /* emptying rows changes the answers */
        CHECK_STR(out[1], out[2]);
    }
    tiny_compact = 0;
    /* what a version-3 reader refuses: .rows in a version-2 pack, rows not ascending or out of
     * range, a list whose rows do not match its .rows */
    static const struct {
        const char *what;
        int set, at, value; /* .rows tensor (0 ease, 1 knn): entry at set to value; at -1: the
                               version byte; at -2: one row fewer in the list */
        const char *msg;
    } BAD[] = {
        {"version 2", 0, -1, 2, "compact neighbour lists are version 3"},
        {"not ascending", 0, 1, 0, "expected ascending product indices below 6"},
        {"out of range", 1, 4, 6, "expected ascending product indices below 6"},
        {"negative", 1, 0, -1, "expected ascending product indices below 6"},
        {"rows mismatch", 0, -2, 0, "blend.ease.nbr"},
    };
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        tiny_compact = 2;
        size_t len;
        unsigned char *b = tiny_pack(&len, 3);
        tiny_compact = 0;
        prefrec_pack *p = NULL;
        prefrec_engine *e = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
        const prefrec_tensor *t =
            p ? prefrec_pack_find(p, BAD[k].set ? "blend.knn.rows" : "blend.ease.rows") : NULL;
        CHECK(t != NULL);
        if (!t) {
            prefrec_pack_free(p);
            free(b);
            continue;
        }
        size_t off = (size_t)t->offset;
        prefrec_pack_free(p);
        p = NULL;
        if (BAD[k].at == -1) {
            b[8] = (unsigned char)BAD[k].value;
        } else if (BAD[k].at == -2) { /* the .rows tensor's length, one fewer than the list's */
            const size_t toff = (size_t)(b[32] | b[33] << 8 | b[34] << 16 | (size_t)b[35] << 24);
            for (size_t i = 0; i < 34; i++) {
                unsigned char *ent = b + toff + 64 * i;
                if (!strcmp((const char *)ent, "blend.ease.rows")) ent[40]--; /* shape[0] */
            }
        } else {
            put_u32(b + off + 4 * (size_t)BAD[k].at, (uint32_t)BAD[k].value);
        }
        tb_fix_crc(b, len);
        prefrec_status s = prefrec_pack_open(b, len, &p, &err);
        if (!s) s = prefrec_engine_new(p, NULL, &e, &err);
        CHECK(s != PREFREC_OK && e == NULL);
        CHECK(strstr(err.msg, BAD[k].msg) != NULL);
        printf("compact lists, %s: %s\n", BAD[k].what, err.msg);
        prefrec_engine_free(e);
        prefrec_pack_free(p);
        free(b);
    }
}

int main(void) {
    test_f16();
    test_q8();
    test_pack_v2();
    test_rows_finite();
    test_qc();
    test_u16();
    test_pc();
    test_pcx();
    test_d16_r16();
    test_engine();
    test_pop_f16();
    test_compact();
    test_pop_counts();
    return check_report("test_quant");
}
