/* test_api_input.c - what the JSON API must refuse or keep whole (issue 21, items 2, 4, 6, 7):
 * - U+0000 (escaped or raw) and invalid UTF-8 in any string of a request are refused with an
 *   error naming the member, instead of being served as the string cut at the NUL;
 * - duplicate members at any level are refused (cJSON would serve the first, JSON.parse the last);
 * - answers stay valid UTF-8 when names are long and multi-byte: reasons are not cut, and text
 *   that is cut (reason_text into a small buffer, error messages) ends on a character boundary;
 * - plan stamp over a pack without categories says so.
 * The typed path (item 5) is in test_api_typed.c.
 * Runs in all three builds (prints the responses so the test script can diff them). */
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "tiny_pack.h"
#include "prefrec/api.h"

/* Independent strict UTF-8 check (no overlongs, surrogates, or code points above U+10FFFF). */
static int utf8_ok(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80      ? 1
            : (c & 0xe0) == 0xc0 ? 2
            : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4
                                 : 0;
        if (!n) return 0;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        s += n;
    }
    return 1;
}

static char last[8192]; /* the last raw answer, for the UTF-8 checks */

static cJSON *call_n(const prefrec_engine *const *e, size_t n, const char *req, size_t len) {
    char *out = prefrec_api_handle_n(e, n, req, len);
    /* the request with bytes outside printable ASCII escaped: some are not UTF-8, which node
     * (the wasm builds' stdout) would print differently */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)req[i];
        if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\n-> %s\n", out ? out : "(null)");
    snprintf(last, sizeof last, "%s", out ? out : "");
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    prefrec_api_free(out);
    return j;
}
static cJSON *call(const prefrec_engine *const *e, size_t n, const char *req) {
    return call_n(e, n, req, strlen(req));
}

static int is_ok(const cJSON *o) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")); }

static const char *err_msg(const cJSON *o) {
    const cJSON *m =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "error"), "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static const char *item_str(const cJSON *o, const char *arr, int i, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, arr), i), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The error message of request req (NULL if it was served). */
static void expect_error(const prefrec_engine *const *e, size_t n, const char *req, size_t len,
                         const char *msg) {
    cJSON *r = call_n(e, n, req, len);
    CHECK(r && !is_ok(r));
    CHECK_CONTAINS(err_msg(r), msg);
    CHECK(utf8_ok(last));
    cJSON_Delete(r);
}

/* A copy of the tiny pack (blend variant 1) with the product names, category names and product
 * categories given; categories NULL: a pack without categories (empty table, every product -1). */
static unsigned char *custom_pack(size_t *len, const char *const pname[P], const char *cat0,
                                  const char *cat1) {
    static char nblob[4096], cblob[2048];
    static uint32_t noff[P + 1], coff[3];
    static const int32_t nocat[P] = {-1, -1, -1, -1, -1, -1};
    size_t at = 0;
    for (int p = 0; p < P; p++) {
        noff[p] = (uint32_t)at;
        size_t l = strlen(pname[p]) + 1;
        memcpy(nblob + at, pname[p], l);
        at += l;
    }
    noff[P] = (uint32_t)at;
    size_t cat_n = 0;
    if (cat0) {
        size_t l0 = strlen(cat0) + 1, l1 = strlen(cat1) + 1;
        memcpy(cblob, cat0, l0);
        memcpy(cblob + l0, cat1, l1);
        coff[0] = 0, coff[1] = (uint32_t)l0, coff[2] = (uint32_t)(l0 + l1);
        cat_n = l0 + l1;
    }
    free(tiny_pack(len, 1)); /* fills pop_seg */
    tb t[] = {{"product.emb", 0, 2, {P, 2}, pemb, sizeof pemb},
              {"product.bias", 0, 1, {P}, pbias, sizeof pbias},
              {"mlp.0.w", 0, 2, {2, 8}, w1, sizeof w1},
              {"mlp.0.b", 0, 1, {2}, b1, 8},
              {"out.gmf", 0, 1, {2}, wg, 8},
              {"out.mlp", 0, 1, {2}, wm, 8},
              {"out.bias", 0, 1, {1}, &b0, 4},
              {"product.code.off", 5, 1, {P + 1}, code_off, sizeof code_off},
              {"product.code.str", 3, 1, {18}, codes, 18},
              {"product.name.off", 5, 1, {P + 1}, noff, sizeof noff},
              {"product.name.str", 3, 1, {(uint32_t)at}, nblob, at},
              {"product.cat", 4, 1, {P}, cat0 ? pcat : nocat, sizeof pcat},
              {"product.sub", 4, 1, {P}, psub, sizeof psub},
              {"category.off", 5, 1, {cat0 ? 3u : 1u}, coff, cat0 ? 12u : 4u},
              {"category.str", 3, 1, {(uint32_t)cat_n}, cblob, cat_n},
              {"subcategory.off", 5, 1, {4}, sub_off, 16},
              {"subcategory.str", 3, 1, {6}, subs, 6},
              {"customer.code.off", 5, 1, {4}, cust_off, 16},
              {"customer.code.str", 3, 1, {9}, ccodes, 9},
              {"customer.emb", 0, 2, {3, 2}, cemb, 24},
              {"customer.bias", 0, 1, {3}, cbias, 12},
              {"customer.gender", 2, 1, {3}, cg, 3},
              {"customer.age", 0, 1, {3}, cage, 12},
              {"customer.bought.off", 5, 1, {4}, boff, 16},
              {"customer.bought.idx", 4, 1, {9}, bidx, 36},
              {"blend.ease.nbr", 4, 2, {P, M}, ease_nbr, sizeof ease_nbr},
              {"blend.ease.w", 0, 2, {P, M}, ease_w, sizeof ease_w},
              {"blend.knn.nbr", 4, 2, {P, M}, knn_nbr, sizeof knn_nbr},
              {"blend.knn.w", 0, 2, {P, M}, knn_w, sizeof knn_w},
              {"blend.pop.seg", 0, 2, {S, P}, pop_seg, sizeof pop_seg},
              {"blend.pop.all", 0, 1, {P}, pop_all, sizeof pop_all},
              {"blend.trend", 0, 1, {P}, trend, sizeof trend}};
    static const char man[] =
        "{\"kind\":\"neumf\",\"dim\":2,\"mlp\":[2],\"affiliate\":\"A01\",\"target_mean\":3.0,"
        "\"blend\":{\"w\":{\"ease\":1,\"knn\":0.5,\"pop\":0.2,\"trend\":0,\"cat\":0.1,"
        "\"catpop\":0,\"subpop\":0},\"tiebreak\":1e-6}}";
    return tb_build(man, t, sizeof t / sizeof t[0], len);
}

static prefrec_engine *open_engine(unsigned char *bytes, size_t len, prefrec_pack **pk) {
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, pk, &err), PREFREC_OK);
    if (*pk) CHECK_EQ_INT(prefrec_engine_new(*pk, NULL, &e, &err), PREFREC_OK);
    if (err.status) printf("open: %s\n", err.msg);
    return e;
}

/* ---- item 2: U+0000 and invalid UTF-8 in request strings ------------------------------------ */
static void test_nul(const prefrec_engine *const *es) {
    /* the review's case: served as customer C0 before */
    expect_error(es, 1, "{\"customer\":\"C0\\u0000zz\"}", 25,
                 "request: \"customer\" contains U+0000");
    static const struct {
        const char *req, *msg;
    } bad[] = {
        {"{\"history\":[\"P1\",\"P0\\u0000x\"],\"gender\":\"F\"}",
         "request: history[1] contains U+0000"},
        {"{\"affiliate\":\"A01\\u0000\",\"gender\":\"F\"}",
         "request: \"affiliate\" contains U+0000"},
        {"{\"plan\":\"stamp\\u0000\",\"gender\":\"F\"}", "request: \"plan\" contains U+0000"},
        {"{\"ranker\":\"neumf\\u0000\",\"gender\":\"F\"}", "request: \"ranker\" contains U+0000"},
        {"{\"gender\":\"F\\u0000\"}", "request: \"gender\" contains U+0000"},
        {"{\"gender\":\"F\",\"age\":\"30\\u0000\"}", "request: \"age\" contains U+0000"},
        {"{\"plan\":\"ratio\",\"weights\":{\"A01\\u0000\":1}}",
         "request: a member name in weights contains U+0000"},
        {"{\"cust\\u0000omer\":\"C0\"}", "request: a member name contains U+0000"},
        /* \\u0000 is an escaped backslash and "u0000": a plain code, refused as unknown */
        {"{\"customer\":\"C0\\\\u0000\"}", "unknown customer 'C0\\u0000'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(es, 1, bad[i].req, strlen(bad[i].req), bad[i].msg);
    /* a raw NUL byte inside a string (a kiosk reads bytes; prefrec_api_handle_n takes a length) */
    static const char raw[] = "{\"customer\":\"C0\0zz\"}";
    expect_error(es, 1, raw, sizeof raw - 1, "request: \"customer\" contains U+0000");
    /* invalid UTF-8: refused by name, and the answer stays valid UTF-8 (it used to echo it) */
    static const struct {
        const char *req, *msg;
    } bad8[] = {
        {"{\"customer\":\"C0\xff\"}", "request: \"customer\" is not valid UTF-8"},
        {"{\"customer\":\"C0\xc0\xaf\"}",
         "request: \"customer\" is not valid UTF-8"}, /* overlong */
        {"{\"customer\":\"C0\xed\xa0\x80\"}",
         "request: \"customer\" is not valid UTF-8"}, /* surrogate */
        {"{\"customer\":\"C0\xea\xb0\"}", "request: \"customer\" is not valid UTF-8"}, /* cut */
        {"{\"history\":[\"P0\",\"\xf4\x90\x80\x80\"]}", "request: history[1] is not valid UTF-8"},
        {"{\"c\xffstomer\":\"C0\"}", "request: a member name is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad8 / sizeof bad8[0]; i++)
        expect_error(es, 1, bad8[i].req, strlen(bad8[i].req), bad8[i].msg);
    /* valid multi-byte text and escapes still pass */
    cJSON *r = call(es, 1, "{\"customer\":\"C0\",\"gender\":\"\\uc5ec\\uc131\",\"k\":2}");
    CHECK(is_ok(r));
    cJSON_Delete(r);
    r = call(es, 1, "{\"customer\":\"\xea\xb0\x80\\ud83d\\ude00\",\"gender\":\"여성\",\"k\":2}");
    CHECK(is_ok(r)); /* unknown customer with demographics: a segment answer */
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "source")->valuestring, "segment");
    cJSON_Delete(r);
}

/* ---- item 6: duplicate members -------------------------------------------------------------- */
static void test_duplicates(const prefrec_engine *const *es) {
    static const struct {
        const char *req, *msg;
    } bad[] = {
        {"{\"customer\":\"C0\",\"k\":5,\"k\":1000}", "request: duplicate member \"k\""},
        {"{\"customer\":\"C0\",\"k\":5,\"k\":5}", "request: duplicate member \"k\""},
        {"{\"customer\":\"C0\",\"customer\":\"C1\"}", "request: duplicate member \"customer\""},
        {"{\"plan\":\"ratio\",\"customer\":\"C0\",\"weights\":{\"A01\":1,\"A02\":0,\"A01\":2}}",
         "request: weights: duplicate member \"A01\""},
        {"{\"history\":[{\"a\":1,\"a\":2}]}", "request: history[0]: duplicate member \"a\""},
        /* unknown duplicated member: still a duplicate first (the names are compared as given) */
        {"{\"x\":1,\"x\":2}", "request: duplicate member \"x\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(es, 1, bad[i].req, strlen(bad[i].req), bad[i].msg);
    /* many distinct weights (no quadratic check trips on them), one duplicate at the end */
    size_t cap = 400000, n = 0;
    char *big = malloc(cap);
    CHECK(big != NULL);
    if (!big) return;
    n +=
        (size_t)snprintf(big + n, cap - n, "{\"plan\":\"ratio\",\"customer\":\"C0\",\"weights\":{");
    for (int i = 0; i < 20000; i++) n += (size_t)snprintf(big + n, cap - n, "\"Z%05d\":1,", i);
    n += (size_t)snprintf(big + n, cap - n, "\"Z00007\":1}}");
    char *out = prefrec_api_handle_n(es, 1, big, n);
    CHECK_CONTAINS(out, "request: weights: duplicate member \\\"Z00007\\\"");
    prefrec_api_free(out);
    free(big);
    /* members differing in case are different members (and unknown ones) */
    expect_error(es, 1, "{\"k\":5,\"K\":5}", 13, "unknown member \"K\"");
    /* deep nesting is an error, not a crash: at cJSON's limit (1000) and beyond, and just at
     * the walk's bound (16 levels: a request has 2; the checks recurse, and a wasm stack is small) */
    static const size_t depths[] = {17, 999, 1200};
    char *deep = malloc(2 * 1200 + 32);
    CHECK(deep != NULL);
    if (!deep) return;
    for (size_t t = 0; t < sizeof depths / sizeof depths[0]; t++) {
        size_t dl = (size_t)sprintf(deep, "{\"history\":");
        for (size_t i = 0; i < depths[t] - 1; i++) deep[dl++] = '[';
        for (size_t i = 0; i < depths[t] - 1; i++) deep[dl++] = ']';
        deep[dl++] = '}';
        expect_error(es, 1, deep, dl,
                     depths[t] < 1000 ? "levels deep, at most 16" : "invalid JSON");
    }
    size_t dl = (size_t)sprintf(deep, "{\"history\":");
    for (size_t i = 0; i < 15; i++) deep[dl++] = '[';
    for (size_t i = 0; i < 15; i++) deep[dl++] = ']';
    deep[dl++] = '}';
    expect_error(es, 1, deep, dl, "history[0] is not a product code string"); /* 16 levels */
    free(deep);
}

/* ---- item 4: reasons with long multi-byte names ---------------------------------------------- */
static void test_long_names(void) {
    char longname[700] = "", longcat[700] = "";
    for (int i = 0; i < 200; i++) strcat(longname, "가"); /* 600 bytes */
    for (int i = 0; i < 199; i++) strcat(longcat, "음"); /* 597 bytes */
    strcat(longcat, "s");
    const char *names[P] = {longname, "n1", "n2", "n3", "n4", "n5"};
    size_t len = 0;
    unsigned char *bytes = custom_pack(&len, names, longcat, "drink");
    prefrec_pack *pk = NULL;
    prefrec_engine *e = open_engine(bytes, len, &pk);
    const prefrec_engine *es[1] = {e};
    if (e) {
        /* C0's first item is P2, bought with P0 (see test_api.c): the reason names P0 whole */
        char want[800];
        snprintf(want, sizeof want, "Often bought with %s", longname);
        cJSON *r = call(es, 1, "{\"customer\":\"C0\",\"k\":3}");
        CHECK(is_ok(r));
        CHECK(utf8_ok(last));
        CHECK_STR(item_str(r, "items", 0, "code"), "P2");
        CHECK_STR(item_str(r, "items", 0, "reason"), want);
        cJSON_Delete(r);
        /* the stamp board's reasons name the category whole */
        r = call(es, 1,
                 "{\"plan\":\"stamp\",\"customer\":\"C1\",\"categories\":2,\"per_category\":2}");
        CHECK(is_ok(r));
        CHECK(utf8_ok(last));
        char want_cat[800];
        snprintf(want_cat, sizeof want_cat, "You often buy %s", longcat);
        int found = 0;
        const cJSON *board = cJSON_GetObjectItemCaseSensitive(r, "board");
        for (int c = 0; c < cJSON_GetArraySize(board); c++) {
            const cJSON *col = cJSON_GetArrayItem(board, c);
            if (strcmp(cJSON_GetObjectItemCaseSensitive(col, "category")->valuestring, longcat))
                continue;
            found = 1;
            CHECK_STR(item_str(col, "items", 0, "reason"), want_cat);
        }
        CHECK(found);
        cJSON_Delete(r);
        /* reason_text into small buffers: the length it needed, the text cut on a character */
        prefrec_item it = {2, 1.0f, PREFREC_REASON_BOUGHT_WITH, 0, 0, 0, 0};
        char buf[64];
        for (size_t cap = 1; cap <= sizeof buf; cap++) {
            memset(buf, 'x', sizeof buf);
            size_t need = prefrec_engine_reason_text(e, &it, buf, cap);
            CHECK_EQ_INT(need, 18 + 600);
            size_t got = strlen(buf);
            CHECK(got < cap);
            CHECK(utf8_ok(buf));
            CHECK(!strncmp(buf, want, got));
            CHECK(got + 2 >= cap - 1); /* as much as fits: at most an incomplete character less */
        }
        char full[700];
        CHECK_EQ_INT(prefrec_engine_reason_text(e, &it, full, sizeof full), 618);
        CHECK_EQ_INT(strlen(full), 618);
        /* errors that echo long multi-byte text are cut on a character boundary too */
        char req[2200];
        int n = snprintf(req, sizeof req, "{\"customer\":\"");
        for (int i = 0; i < 300; i++) n += snprintf(req + n, sizeof req - (size_t)n, "가");
        snprintf(req + n, sizeof req - (size_t)n, "\"}");
        r = call(es, 1, req);
        CHECK(r && !is_ok(r));
        CHECK_CONTAINS(err_msg(r), "unknown customer '가가가");
        CHECK(utf8_ok(last));
        cJSON_Delete(r);
        for (int shift = 0; shift < 3; shift++) { /* every cut position within a character */
            n = snprintf(req, sizeof req, "{\"history\":[\"%.*s", shift, "PPP");
            for (int i = 0; i < 300; i++) n += snprintf(req + n, sizeof req - (size_t)n, "가");
            snprintf(req + n, sizeof req - (size_t)n, "\"]}");
            r = call(es, 1, req);
            CHECK_CONTAINS(err_msg(r), "unknown product '");
            CHECK(utf8_ok(last));
            cJSON_Delete(r);
        }
    }
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
}

/* ---- item 7: plan stamp over a pack without categories ---------------------------------------- */
static void test_no_categories(void) {
    const char *names[P] = {"n0", "n1", "n2", "n3", "n4", "n5"};
    size_t len = 0;
    unsigned char *bytes = custom_pack(&len, names, NULL, NULL);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = open_engine(bytes, len, &pk);
    const prefrec_engine *es[1] = {e};
    if (e) {
        CHECK_EQ_INT(prefrec_engine_n_categories(e), 0);
        cJSON *r = call(es, 1, "{\"plan\":\"stamp\",\"customer\":\"C0\"}");
        CHECK(r && !is_ok(r));
        CHECK_CONTAINS(err_msg(r), "plan \"stamp\": the pack for A01 has no categories");
        cJSON_Delete(r);
        /* the engine and the board say it too */
        prefrec_request rq = prefrec_request_default();
        rq.customer = "C0";
        prefrec_stamp_category board[5];
        size_t nb = 9;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_engine_stamp(e, &rq, 5, 5, board, &nb, &err), PREFREC_E_EMPTY);
        CHECK_CONTAINS(err.msg, "no categories");
        CHECK_EQ_INT(nb, 0);
        /* recommendations still work without categories */
        r = call(es, 1, "{\"customer\":\"C0\",\"k\":3}");
        CHECK(is_ok(r));
        cJSON_Delete(r);
    }
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
}

int main(void) {
    size_t len = 0;
    unsigned char *bytes = tiny_pack(&len, 1);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = open_engine(bytes, len, &pk);
    const prefrec_engine *es[1] = {e};
    if (e) {
        test_nul(es);
        test_duplicates(es);
    }
    test_long_names();
    test_no_categories();
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return check_report("test_api_input");
}
