/* test_api_typed.c - the typed request (the browser shim's recommendTop and the wasm exports) is
 * read and checked by the JSON path's code (issue 21, item 5): recommendTop wrapped k and sample
 * modulo 2^32 (k 2^32 + 1 served one item) where recommend refused them. Now the typed path
 * sends the request text, and prefrec_api_recommend_n answers with the same items, or the same
 * status and error message, as prefrec_api_handle_n. Runs in all three builds. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "tiny_pack.h"
#include "prefrec/api.h"

static cJSON *call(const prefrec_engine *const *e, size_t n, const char *req) {
    char *out = prefrec_api_handle(e, n, req);
    printf("%s\n-> %s\n", req, out ? out : "(null)");
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    prefrec_api_free(out);
    return j;
}

static const char *err_msg(const cJSON *o) {
    const cJSON *m =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "error"), "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}
static int err_code(const cJSON *o) {
    const cJSON *c =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "error"), "code");
    return cJSON_IsNumber(c) ? c->valueint : 0;
}
static const char *item_code(const cJSON *o, const char *arr, int i) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, arr), i), "code");
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int main(void) {
    size_t len = 0;
    unsigned char *bytes = tiny_pack(&len, 1);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e, &err), PREFREC_OK);
    const prefrec_engine *es[1] = {e};
    prefrec_response *rs = malloc(sizeof *rs);
    CHECK(rs != NULL);
    if (!e || !rs) return check_report("test_api_typed");

    /* the same request as JSON and typed: the same items, sampled picks and source */
    static const char *const good[] = {
        "{\"customer\":\"C0\",\"k\":3,\"sample\":2,\"seed\":5}",
        ("{\"history\":[\"P1\",\"P0\"],\"gender\":\"F\",\"age\":\"30대\",\"k\":4,"
         "\"ranker\":\"neumf\"}"),
        "{\"plan\":\"recommend\",\"affiliate\":\"A01\",\"gender\":1,\"age\":61,\"k\":2}",
        "{\"plan\":\"ratio\",\"customer\":\"C1\",\"weights\":{\"A01\":3},\"k\":2}",
        /* the top of the demographics rule's range (PREFREC_AGE_MAX, demog.h), as a number and text */
        "{\"gender\":\"male\",\"age\":130,\"k\":2}",
        "{\"gender\":\"U\",\"age\":\"130\",\"k\":2}",
    };
    for (size_t q = 0; q < sizeof good / sizeof good[0]; q++) {
        size_t engine = 99;
        CHECK_EQ_INT(prefrec_api_recommend_n(es, 1, good[q], strlen(good[q]), &engine, rs, &err),
                     PREFREC_OK);
        cJSON *r = call(es, 1, good[q]);
        CHECK_EQ_INT(engine, 0);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(r, "items");
        CHECK_EQ_INT(rs->n, cJSON_GetArraySize(items));
        for (uint32_t i = 0; i < rs->n; i++)
            CHECK_STR(prefrec_engine_product_code(e, rs->items[i].product),
                      item_code(r, "items", (int)i));
        CHECK_EQ_INT(rs->n_sampled,
                     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "sampled")));
        for (uint32_t i = 0; i < rs->n_sampled; i++)
            CHECK_STR(prefrec_engine_product_code(e, rs->sampled[i].product),
                      item_code(r, "sampled", (int)i));
        static const char *const src[] = {"known", "history", "segment"};
        CHECK_STR(src[rs->source], cJSON_GetObjectItemCaseSensitive(r, "source")->valuestring);
        cJSON_Delete(r);
    }
    CHECK_EQ_INT(prefrec_api_recommend_n(es, 1, good[0], strlen(good[0]), NULL, rs, &err),
                 PREFREC_OK);

    /* a bad request: the typed answer's status and message are the JSON answer's, word for word
     * (the review's case first: k 2^32 + 1 was served as k 1 by the typed path) */
    static const char *const bad[] = {
        "{\"gender\":\"F\",\"k\":4294967297}",
        "{\"gender\":\"F\",\"k\":2147483648}",
        "{\"gender\":\"F\",\"k\":-1}",
        "{\"gender\":\"F\",\"k\":1.5}",
        "{\"gender\":\"F\",\"k\":1e999}",
        "{\"gender\":\"F\",\"k\":\"5\"}",
        "{\"gender\":\"F\",\"sample\":4294967296}",
        "{\"gender\":\"F\",\"sample\":-1}",
        "{\"gender\":\"F\",\"seed\":9007199254740994}",
        "{\"gender\":\"F\",\"seed\":0.5}",
        "{\"gender\":2}",
        "{\"gender\":-1}",
        "{\"gender\":\"F\",\"age\":131}",
        "{\"gender\":\"F\",\"age\":-1e999}",
        "{\"customer\":5}",
        "{\"customer\":\"C0\\u0000zz\"}",
        "{\"customer\":\"C0\",\"k\":5,\"k\":1000}",
        "{\"affiliate\":\"A09\",\"gender\":\"F\"}",
        "{\"gender\":\"F\"} x",
        "{\"gender\":\"F\",\"kk\":1}",
        "{\"history\":[\"NOPE\"]}",
        "{\"customer\":\"ZZ\"}",
        "{\"customer\":\"C2\"}",
        "{\"plan\":\"subscribe\",\"gender\":\"F\"}",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prefrec_error e2 = {0};
        size_t engine = 99;
        prefrec_status st =
            prefrec_api_recommend_n(es, 1, bad[i], strlen(bad[i]), &engine, rs, &e2);
        cJSON *r = call(es, 1, bad[i]);
        CHECK(st < 0);
        CHECK_EQ_INT(st, err_code(r));
        CHECK_STR(e2.msg, err_msg(r));
        cJSON_Delete(r);
    }
    /* the stamp plan is not a list of items: refused by name */
    static const char stamp[] = "{\"plan\":\"stamp\",\"gender\":\"F\"}";
    CHECK_EQ_INT(prefrec_api_recommend_n(es, 1, stamp, sizeof stamp - 1, NULL, rs, &err),
                 PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg, "plan \"stamp\"");
    CHECK_EQ_INT(prefrec_api_recommend_n(es, 0, good[0], strlen(good[0]), NULL, rs, &err),
                 PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no model pack loaded");

    free(rs);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return check_report("test_api_typed");
}
