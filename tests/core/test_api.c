/* test_api.c - the JSON API over the tiny pack: every plan, errors as JSON, and agreement with
 * the C engine for the same request. Runs in all three builds (prints the responses so the
 * test script can diff native, Emscripten and WASI byte for byte). */
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

static const char *str_at(const cJSON *o, const char *path0, int idx, const char *key) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, path0);
    const cJSON *it = cJSON_GetArrayItem(a, idx);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *err_msg(const cJSON *o) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    return cJSON_IsString(m) ? m->valuestring : NULL;
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

    /* recommend: same products as the C engine, with names, categories and reasons */
    cJSON *r = call(es, 1, "{\"customer\":\"C0\",\"k\":3}");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    CHECK_STR(str_at(r, "items", 0, "code"), "P2");
    CHECK_STR(str_at(r, "items", 1, "code"), "P4");
    CHECK_STR(str_at(r, "items", 2, "code"), "P3");
    CHECK_STR(str_at(r, "items", 0, "name"), "n2");
    CHECK_STR(str_at(r, "items", 0, "category"), "food");
    CHECK_STR(str_at(r, "items", 0, "reason"), "Often bought with n0");
    CHECK_STR(str_at(r, "items", 0, "reason_product"), "P0");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "source")->valuestring, "known");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "ranker")->valuestring, "blend");
    cJSON_Delete(r);

    /* history by codes and demographics by band: the same as the known customer */
    r = call(es, 1,
             "{\"history\":[\"P1\",\"P0\",\"P1\"],\"gender\":\"F\",\"age\":\"30대\",\"k\":3,"
             "\"sample\":2,\"seed\":5}");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "source")->valuestring, "history");
    CHECK_STR(str_at(r, "items", 0, "code"), "P2");
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "sampled")), 2);
    cJSON_Delete(r);

    /* stamp board */
    r = call(es, 1, "{\"plan\":\"stamp\",\"customer\":\"C0\",\"categories\":2,\"per_category\":2}");
    const cJSON *board = cJSON_GetObjectItemCaseSensitive(r, "board");
    CHECK_EQ_INT(cJSON_GetArraySize(board), 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(board, 0), "items"),
                           1),
        "bought")));
    cJSON_Delete(r);

    /* ratio with explicit weights: only A01 is loaded, so it is always picked */
    r = call(es, 1, "{\"plan\":\"ratio\",\"customer\":\"C0\",\"weights\":{\"A01\":3},\"seed\":1}");
    CHECK_STR(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "ratio"), "picked")
            ->valuestring,
        "A01");
    cJSON_Delete(r);
    /* ratio from the pack's purchases */
    r = call(es, 1, "{\"plan\":\"ratio\",\"customer\":\"C1\"}");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "ratio"),
                                                    "weights"),
                   "A01")
                   ->valuedouble,
               1, 0);
    cJSON_Delete(r);
    r = call(es, 1, "{\"plan\":\"subscribe\",\"affiliate\":\"A01\",\"customer\":\"C1\",\"k\":2}");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
    cJSON_Delete(r);

    /* errors are JSON with a message naming the problem */
    static const struct {
        const char *req, *msg;
    } bad[] = {
        {"{\"customer\":", "invalid JSON"},
        {"{\"customer\":\"C0\"} {}", "invalid JSON near byte 18"},
        {"[1,2]", "not a JSON object"},
        {"{\"custmer\":\"C0\"}", "unknown member \"custmer\""},
        {"{\"customer\":\"ZZ\"}", "unknown customer 'ZZ'"},
        {"{\"customer\":\"C0\",\"k\":0}", "\"k\" must be an integer 1..100"},
        {"{\"customer\":\"C0\",\"k\":2.5}", "\"k\" must be an integer"},
        {"{\"customer\":\"C0\",\"affiliate\":\"A07\"}", "unknown affiliate 'A07'"},
        {"{\"plan\":\"subscribe\",\"customer\":\"C0\"}", "needs \"affiliate\""},
        {"{\"plan\":\"fly\"}", "\"plan\" must be"},
        {"{\"history\":[\"P1\",\"NOPE\"]}", "history[1]: unknown product 'NOPE'"},
        {"{\"history\":[1]}", "history[0] is not a product code"},
        {"{\"gender\":\"X\"}", "\"gender\" must be"},
        {"{\"age\":-3}", "\"age\" must be"},
        {"{\"customer\":\"C2\"}", "no product left"},
        {"{\"plan\":\"ratio\",\"weights\":{\"A09\":1}}", "unknown affiliate 'A09'"},
        {"{\"ranker\":\"magic\"}", "\"ranker\" must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call(es, 1, bad[i].req);
        CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
        CHECK_CONTAINS(err_msg(r), bad[i].msg);
        cJSON_Delete(r);
    }
    r = call(es, 0, "{}");
    CHECK_CONTAINS(err_msg(r), "no model pack loaded");
    cJSON_Delete(r);

    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return check_report("test_api");
}
