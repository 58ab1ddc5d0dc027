/* test_pack.c - the pack reader against a pack built byte by byte here (independently of the
 * native writer), following docs/model.md: round trip, every truncation, every single-byte
 * flip, unknown version, and a NeuMF model scored against a hand computation. Portable. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pack_builder.h"
#include "prefrec/model.h"
#include "prefrec/pack.h"

static void test_crc(void) {
    CHECK_EQ_U64(prefrec_crc32(0, "123456789", 9), 0xCBF43926u); /* the standard check value */
    CHECK_EQ_U64(prefrec_crc32(prefrec_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
    CHECK_EQ_U64(prefrec_fnv1a32("", 0), 2166136261u);
    CHECK_EQ_U64(prefrec_fnv1a32("a", 1), 0xE40C292Cu);
    /* the 4-bytes-at-a-time path (buffers >= 4096 bytes) equals the byte-wise one (pieces of
     * 1000 bytes) at every odd length and offset; 100,003 bytes of a fixed pattern */
    enum { N = 100003 };
    static unsigned char buf[N];
    uint32_t x = 12345u;
    for (size_t i = 0; i < N; i++) buf[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 24);
    for (size_t start = 0; start < 3; start++) {
        uint32_t big = prefrec_crc32(0, buf + start, N - start), small = 0;
        for (size_t i = start; i < N; i += 1000)
            small = prefrec_crc32(small, buf + i, N - i < 1000 ? N - i : 1000);
        CHECK_EQ_U64(big, small);
    }
}

static const float A[6] = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -0.5f};
static const uint32_t SOFF[3] = {0, 4, 6};
static const char SSTR[6] = {'a', 'b', 'c', 0, 'Z', 0};

static unsigned char *small_pack(size_t *len) {
    tb t[3] = {{"a", PREFREC_DT_F32, 2, {2, 3}, A, sizeof A},
               {"s.off", PREFREC_DT_U32, 1, {3}, SOFF, sizeof SOFF},
               {"s.str", PREFREC_DT_U8, 1, {6}, SSTR, sizeof SSTR}};
    return tb_build("{\"kind\":\"test\",\"dim\":3}", t, 3, len);
}

static void test_round_trip(void) {
    size_t len;
    unsigned char *b = small_pack(&len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        free(b);
        return;
    }
    CHECK_EQ_INT(len,
                 454); /* header 64, manifest 23, table 192, pad to 320; 24 @320, 12 @384, 6 @448 */
    CHECK_EQ_INT(prefrec_pack_version(p), 1);
    CHECK_STR(prefrec_pack_manifest_str(p, "kind"), "test");
    CHECK_NEAR(prefrec_pack_manifest_num(p, "dim", -1), 3, 0);
    CHECK_EQ_INT(prefrec_pack_tensor_count(p), 3);
    const prefrec_tensor *a = prefrec_pack_find(p, "a");
    CHECK(a != NULL);
    if (a) {
        CHECK_EQ_INT(a->offset, 320);
        CHECK_EQ_INT(a->ndim, 2);
        CHECK_EQ_INT(a->shape[0], 2);
        CHECK_EQ_INT(a->shape[1], 3);
        CHECK_EQ_INT(a->n_bytes, 24);
        CHECK_NEAR(((const float *)a->data)[4], 4.0, 0);
        CHECK_EQ_INT((uintptr_t)a->data % 64, (uintptr_t)b % 64);
    }
    CHECK(prefrec_pack_find(p, "nope") == NULL);
    prefrec_strings s;
    CHECK_EQ_INT(prefrec_pack_strings(p, "s", &s, &err), PREFREC_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_STR(prefrec_strings_at(&s, 0), "abc");
    CHECK_STR(prefrec_strings_at(&s, 1), "Z");
    const prefrec_tensor *t;
    uint32_t want[2] = {2, 4};
    CHECK_EQ_INT(prefrec_pack_get(p, "a", PREFREC_DT_F32, 2, want, &t, &err), PREFREC_E_FORMAT);
    CHECK_CONTAINS(err.msg, "dimension 1 is 3, expected 4");
    CHECK_EQ_INT(prefrec_pack_get(p, "a", PREFREC_DT_I32, 2, NULL, &t, &err), PREFREC_E_FORMAT);
    CHECK_CONTAINS(err.msg, "is f32, expected i32");
    prefrec_pack_free(p);
    free(b);
}

/* Every prefix of the file and every single-byte change must be refused with a message. */
static void test_corruption(void) {
    size_t len;
    unsigned char *b = small_pack(&len);
    unsigned char *c = malloc(len);
    int refused = 0, msgs = 0, total = 0;
    prefrec_error err;
    prefrec_pack *p;
    for (size_t n = 0; n < len; n++) {
        memcpy(c, b, n);
        memset(&err, 0, sizeof err);
        p = NULL;
        total++;
        if (prefrec_pack_open(c, n, &p, &err) != PREFREC_OK) refused++;
        if (err.msg[0] && p == NULL) msgs++;
        prefrec_pack_free(p);
    }
    CHECK_EQ_INT(refused, total);
    CHECK_EQ_INT(msgs, total);
    memset(&err, 0, sizeof err);
    prefrec_pack_open(b, len - 1, &p, &err);
    CHECK_CONTAINS(err.msg, "truncated");
    static const unsigned char flips[3] = {0x01, 0x80, 0xFF};
    refused = msgs = total = 0;
    for (size_t i = 0; i < len; i++)
        for (int f = 0; f < 3; f++) {
            memcpy(c, b, len);
            c[i] ^= flips[f];
            memset(&err, 0, sizeof err);
            p = NULL;
            total++;
            if (prefrec_pack_open(c, len, &p, &err) != PREFREC_OK) refused++;
            if (err.msg[0] && p == NULL) msgs++;
            prefrec_pack_free(p);
        }
    CHECK_EQ_INT(refused, total);
    CHECK_EQ_INT(msgs, total);
    /* a flip in the data is caught by the checksum, with both values in the message */
    memcpy(c, b, len);
    c[len - 1] ^= 1;
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_CHECKSUM);
    CHECK_CONTAINS(err.msg, "CRC32 mismatch");
    /* unknown version, even with a valid checksum; versions 2 to 4 (the same layout) open */
    memcpy(c, b, len);
    tb_w32(c + 8, 5);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_VERSION);
    CHECK_CONTAINS(err.msg, "format version 5");
    CHECK_CONTAINS(err.msg, "needs a newer engine");
    tb_w32(c + 8, 0);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_VERSION);
    tb_w32(c + 8, 2);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_OK);
    prefrec_pack_free(p);
    for (uint32_t v = 3; v <= 4; v++) {
        tb_w32(c + 8, v);
        tb_fix_crc(c, len);
        CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_OK);
        prefrec_pack_free(p);
    }
    p = NULL;
    /* a misaligned offset with a valid checksum is named */
    memcpy(c, b, len);
    size_t e0 = 64 + 23;
    tb_w64(c + e0 + 56, 328);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    CHECK_CONTAINS(err.msg, "not 64-aligned");
    /* a shape that runs past the end, with a valid checksum */
    memcpy(c, b, len);
    tb_w32(c + e0 + 44, 3000);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    CHECK_CONTAINS(err.msg, "tensor 'a'");
    /* a huge shape product must not overflow */
    memcpy(c, b, len);
    tb_w32(c + e0 + 40, 0xFFFFFFFFu);
    tb_w32(c + e0 + 44, 0xFFFFFFFFu);
    tb_fix_crc(c, len);
    CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_FORMAT);
    free(c);
    free(b);
}

/* A NeuMF pack with d = 2, one hidden layer of 2 units, 2 products, 1 customer. */
static void test_model(void) {
    const float pemb[4] = {1.0f, 0.5f, -1.0f, 2.0f}, pbias[2] = {0.1f, -0.2f};
    /* W1 [2][2*2+4]: columns u0 u1 v0 v1 male female age agenull */
    const float w1[16] = {1, 0, 1, 0, 0, 0.5f, 1, 0, /**/ 0, 1, 0, -1, 0.2f, 0, 0, 1};
    const float b1[2] = {0.0f, 0.5f}, wg[2] = {1.0f, 2.0f}, wm[2] = {0.5f, -1.0f}, b0 = 2.0f;
    const uint32_t off2[3] = {0, 3, 6}, off1[2] = {0, 5}, cust_off[2] = {0, 1};
    const char pcode[6] = {'P', '1', 0, 'P', '2', 0}, pname[6] = {'a', 'b', 0, 'c', 'd', 0};
    const char cat[5] = {'f', 'o', 'o', 'd', 0}, ccode[5] = {'M', '0', '0', '1', 0};
    const int32_t pcat[2] = {0, -1}, psub[2] = {-1, -1}, bought[1] = {1};
    const uint32_t sub_off[1] = {0};
    const float cemb[2] = {0.5f, -1.0f}, cbias[1] = {0.25f}, cage[1] = {60.0f};
    const int8_t cg[1] = {1};
    tb t[] = {{"product.emb", 0, 2, {2, 2}, pemb, 16},
              {"product.bias", 0, 1, {2}, pbias, 8},
              {"mlp.0.w", 0, 2, {2, 8}, w1, 64},
              {"mlp.0.b", 0, 1, {2}, b1, 8},
              {"out.gmf", 0, 1, {2}, wg, 8},
              {"out.mlp", 0, 1, {2}, wm, 8},
              {"out.bias", 0, 1, {1}, &b0, 4},
              {"product.code.off", 5, 1, {3}, off2, 12},
              {"product.code.str", 3, 1, {6}, pcode, 6},
              {"product.name.off", 5, 1, {3}, off2, 12},
              {"product.name.str", 3, 1, {6}, pname, 6},
              {"product.cat", 4, 1, {2}, pcat, 8},
              {"product.sub", 4, 1, {2}, psub, 8},
              {"category.off", 5, 1, {2}, off1, 8},
              {"category.str", 3, 1, {5}, cat, 5},
              {"subcategory.off", 5, 1, {1}, sub_off, 4},
              {"subcategory.str", 3, 1, {0}, "", 0},
              {"customer.code.off", 5, 1, {2}, off1, 8},
              {"customer.code.str", 3, 1, {5}, ccode, 5},
              {"customer.emb", 0, 2, {1, 2}, cemb, 8},
              {"customer.bias", 0, 1, {1}, cbias, 4},
              {"customer.gender", 2, 1, {1}, cg, 1},
              {"customer.age", 0, 1, {1}, cage, 4},
              {"customer.bought.off", 5, 1, {2}, cust_off, 8},
              {"customer.bought.idx", 4, 1, {1}, bought, 4}};
    size_t len;
    unsigned char *b = tb_build("{\"kind\":\"neumf\",\"dim\":2,\"mlp\":[2],\"affiliate\":\"A09\"}",
                                t, sizeof t / sizeof t[0], &len);
    prefrec_pack *p = NULL;
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    prefrec_user *u = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_model_load(p, &m, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_customers_load(p, m, &cs, &err), PREFREC_OK);
    if (!m || !cs) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_STR(prefrec_model_affiliate(m), "A09");
    CHECK_STR(prefrec_model_product_name(m, 1), "cd");
    CHECK_STR(prefrec_model_product_category(m, 0), "food");
    CHECK_STR(prefrec_model_product_category(m, 1), "");
    CHECK_EQ_INT(prefrec_model_find_product(m, "P2"), 1);
    CHECK_EQ_INT(prefrec_customers_find(cs, "M001"), 0);
    size_t nb;
    const int32_t *bs = prefrec_customers_bought(cs, 0, &nb);
    CHECK_EQ_INT(nb, 1);
    CHECK_EQ_INT(bs[0], 1);
    CHECK_EQ_INT(prefrec_user_from_customer(m, cs, 0, &u, &err), PREFREC_OK);
    /* by hand: x = [0.5, -1 | v | male 0, female 1, age (60-45)/15 = 1, unknown 0]
     * product 0, v = (1, 0.5): h0 = 0.5 + 1 + 0.5*1 + 1*1 + 0 = 3.0
     *                          h1 = 0.5 + (-1) - 0.5 + 0 + 0 = -1 -> 0
     *   y = 2 + 0.25 + 0.1 + (1*0.5*1 + 2*(-1)*0.5) + 0.5*3 = 2.35 - 0.5 + 1.5 = 3.35
     * product 1, v = (-1, 2): h0 = 0.5 - 1 + 0.5 + 1 = 1.0;  h1 = 0.5 - 1 - 2 = -2.5 -> 0
     *   y = 2 + 0.25 - 0.2 + (1*0.5*(-1) + 2*(-1)*2) + 0.5*1 = 2.05 - 4.5 + 0.5 = -1.95 -> 0 */
    CHECK_NEAR(prefrec_model_score(m, u, 0), 3.35, 1e-6);
    CHECK_NEAR(prefrec_model_score(m, u, 1), 0.0, 0);
    prefrec_user_free(u);
    /* unknown customer, unknown demographics: x = [0,0 | v | 0,0,0,1]
     * product 0: h0 = 1 + 0 = 1; h1 = 0.5 - 0.5 + 1 = 1 -> y = 2 + 0.1 + 0 + 0.5 - 1 = 1.6 */
    CHECK_EQ_INT(prefrec_user_new(m, NULL, 0, -1, NAN, &u, &err), PREFREC_OK);
    float all[2];
    prefrec_model_score_all(m, u, all);
    CHECK_NEAR(all[0], 1.6, 1e-6);
    prefrec_user_free(u);
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_pack_free(p);
    free(b);
}

int main(void) {
    test_crc();
    test_round_trip();
    test_corruption();
    test_model();
    return check_report("test_pack");
}
