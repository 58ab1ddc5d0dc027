/* fuzz_pack.c - libFuzzer target for the pack loader and what is built on it:
 * prefrec_pack_open, prefrec_model_load, prefrec_customers_load, prefrec_engine_new, then a
 * few requests served from whatever loaded (known customer, history fold-in, segment, stamp,
 * score_all, and the JSON API).
 *
 * The CRC32 covers the whole file, so a random change is refused by the checksum before any
 * table is looked at; the harness therefore rewrites the CRC field of every input of at least
 * 64 bytes so that the fuzzer reaches the header, table, string-table, model and engine checks
 * (the checksum itself is covered by tests/core/test_pack.c and test_fault_pack.c).
 * Input layout: the pack bytes; if the input holds the 8 bytes "PRFSPLIT", what follows is a
 * second pack used as the separate customer side (a shard). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/api.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"
#include "prefrec/pack.h"

static void fix_crc(unsigned char *b, size_t len) {
    if (len < 64) return;
    uint32_t c = prefrec_crc32(0, b, 60);
    c = prefrec_crc32(c, b + 64, len - 64);
    for (int i = 0; i < 4; i++) b[60 + i] = (unsigned char)(c >> (8 * i));
}

static unsigned char *copy(const uint8_t *d, size_t n) {
    unsigned char *b = malloc(n ? n : 1); /* malloc: 8-aligned, as the loader requires */
    if (!b) abort();
    if (n) memcpy(b, d, n);
    fix_crc(b, n);
    return b;
}

static void must_have_msg(prefrec_status st, const prefrec_error *err) {
    if (st != PREFREC_OK && !err->msg[0]) __builtin_trap();
}

static void serve(const prefrec_engine *e) {
    prefrec_error err;
    prefrec_response rs;
    int32_t np = prefrec_engine_n_products(e);
    if (np <= 0) __builtin_trap(); /* engine_new must refuse an empty catalog */
    for (int32_t p = 0; p < np && p < 64; p++) {
        const char *s[4] = {prefrec_engine_product_code(e, p), prefrec_engine_product_name(e, p),
                            prefrec_engine_product_category(e, p),
                            prefrec_engine_product_subcategory(e, p)};
        for (int i = 0; i < 4; i++)
            if (!s[i])
                __builtin_trap();
            else
                (void)strlen(s[i]);
    }
    int32_t hist[3] = {0, np - 1, np / 2};
    for (int mode = 0; mode < 4; mode++) {
        prefrec_request rq = prefrec_request_default();
        rq.k = 10;
        rq.sample = 3;
        rq.seed = 7;
        rq.ranker = mode & 1 ? PREFREC_RANKER_NEUMF : PREFREC_RANKER_DEFAULT;
        if (mode == 0) rq.customer = "C0"; /* known in tiny_pack.h packs */
        if (mode == 1) rq.customer = "C2";
        if (mode == 2) {
            rq.history = hist;
            rq.n_history = 3;
        }
        if (mode == 3) {
            rq.gender = 1;
            rq.age = 33;
        }
        memset(&err, 0, sizeof err);
        prefrec_status st = prefrec_engine_recommend(e, &rq, &rs, &err);
        must_have_msg(st, &err);
        if (st == PREFREC_OK) {
            if (rs.n > rq.k || rs.n_sampled > rq.sample) __builtin_trap();
            for (uint32_t i = 0; i < rs.n; i++) {
                if (rs.items[i].product < 0 || rs.items[i].product >= np) __builtin_trap();
                char buf[160];
                prefrec_engine_reason_text(e, &rs.items[i], buf, sizeof buf);
            }
        }
        float *all = malloc((size_t)np * sizeof *all);
        if (all) {
            memset(&err, 0, sizeof err);
            must_have_msg(prefrec_engine_score_all(e, &rq, all, &err), &err);
            free(all);
        }
        prefrec_stamp_category board[5];
        size_t nb = 0;
        memset(&err, 0, sizeof err);
        must_have_msg(prefrec_engine_stamp(e, &rq, 5, 5, board, &nb, &err), &err);
    }
    const prefrec_engine *es[1] = {e};
    const char *reqs[] = {"{\"customer\":\"C0\",\"k\":5,\"sample\":2,\"seed\":1}",
                          "{\"plan\":\"stamp\",\"gender\":\"F\",\"age\":\"30대\"}",
                          "{\"plan\":\"ratio\",\"customer\":\"C1\"}"};
    for (int i = 0; i < 3; i++) {
        char *out = prefrec_api_handle(es, 1, reqs[i]);
        if (!out) __builtin_trap();
        prefrec_api_free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    size_t n1 = size, n2 = 0;
    const uint8_t *second = NULL;
    for (size_t i = 0; i + 8 <= size; i++)
        if (!memcmp(data + i, "PRFSPLIT", 8)) {
            n1 = i;
            second = data + i + 8;
            n2 = size - i - 8;
            break;
        }
    unsigned char *b1 = copy(data, n1), *b2 = second ? copy(second, n2) : NULL;
    prefrec_pack *p1 = NULL, *p2 = NULL;
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    prefrec_status st = prefrec_pack_open(b1, n1, &p1, &err);
    must_have_msg(st, &err);
    if (st != PREFREC_OK) goto done;
    if (b2) {
        memset(&err, 0, sizeof err);
        st = prefrec_pack_open(b2, n2, &p2, &err);
        must_have_msg(st, &err);
        if (st != PREFREC_OK) p2 = NULL;
    }
    /* the model and customer loaders on their own */
    memset(&err, 0, sizeof err);
    st = prefrec_model_load(p1, &m, &err);
    must_have_msg(st, &err);
    if (st == PREFREC_OK) {
        memset(&err, 0, sizeof err);
        st = prefrec_customers_load(p2 ? p2 : p1, m, &cs, &err);
        must_have_msg(st, &err);
        if (st == PREFREC_OK && prefrec_customers_count(cs) > 0) {
            prefrec_user *u = NULL;
            size_t nb;
            const int32_t *bought = prefrec_customers_bought(cs, 0, &nb);
            for (size_t i = 0; i < nb; i++)
                if (bought[i] < 0 || bought[i] >= prefrec_model_n_products(m)) __builtin_trap();
            memset(&err, 0, sizeof err);
            if (prefrec_user_from_customer(m, cs, 0, &u, &err) == PREFREC_OK) {
                float s = prefrec_model_score(m, u, 0);
                if (!(s >= 0 && s <= PREFREC_MODEL_SCORE_MAX) && !isnan(s)) __builtin_trap();
            }
            prefrec_user_free(u);
        }
    }
    /* the engine */
    memset(&err, 0, sizeof err);
    st = prefrec_engine_new(p1, p2, &e, &err);
    must_have_msg(st, &err);
    if (st == PREFREC_OK) serve(e);
done:
    prefrec_engine_free(e);
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_pack_free(p2);
    prefrec_pack_free(p1);
    free(b2);
    free(b1);
    return 0;
}
