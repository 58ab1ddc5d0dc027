/* test_lists.c - the list kinds (discover, buy_again, mixed) served from a member's record part,
 * on the tiny pack with buy again (variant 3), worked by hand; refusals that name the problem;
 * the JSON API with a member state. Runs in every build (native, Emscripten, WASI); the printed
 * answers are compared between builds by scripts/test.sh. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pack_builder.h"
#include "tiny_pack.h"

#include "prefrec/api.h"
#include "prefrec/engine.h"
#include "prefrec/member.h"

#define T 18993 /* 2022-01-01, the pack's as-of day: 52 x 365 + 13 leap days */

/* P0 on T-30, T-20, T-10 (3 lines); P1 on T-100, T-50 (2 lines); P5 on T-5 (1 line). */
static const int32_t d0[3] = {T - 30, T - 20, T - 10}, d1[2] = {T - 100, T - 50}, d5[1] = {T - 5};
static prefrec_member_item items[3] = {{0, 3, 3, d0}, {1, 2, 2, d1}, {5, 1, 1, d5}};

static prefrec_member_aff part(void) {
    prefrec_member_aff a;
    memset(&a, 0, sizeof a);
    strcpy(a.affiliate, "A01");
    a.n_items = 3;
    a.items = items;
    return a;
}

int main(void) {
    size_t len;
    unsigned char *bytes = tiny_pack(&len, 3);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e, &err), PREFREC_OK);
    if (!e) return check_report("test_lists");
    CHECK(prefrec_engine_has_list(e, PREFREC_LIST_BUY_AGAIN));
    CHECK_EQ_INT(prefrec_engine_asof(e), T);
    prefrec_member_aff a = part();
    prefrec_request rq = prefrec_request_default();
    rq.member = &a;
    rq.gender = 1;
    rq.age = 35.0f;
    rq.k = 10;
    prefrec_response rs;

    /* buy again, as of T (no decay, w_due 1, beta 1; priors P0 1, P1 0.5, P5 0.25):
     * P0: 3 days, interval 10, 10 days ago: r = 11/11 = 1, due 1: 1 x 3 x 2 = 6
     * P1: 2 days, interval 50, 50 days ago: due 1: 0.5 x 2 x 2 = 2
     * P5: 1 day (no interval, due 0): 0.25 x 1 = 0.25 */
    rq.list = PREFREC_LIST_BUY_AGAIN;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.source, PREFREC_SOURCE_MEMBER);
    CHECK_EQ_INT(rs.n, 3);
    const int32_t want_p[3] = {0, 1, 5}, want_every[3] = {10, 50, 0}, want_since[3] = {10, 50, 5};
    const float want_s[3] = {6.0f, 2.0f, 0.25f};
    for (int i = 0; i < 3 && rs.n == 3; i++) {
        CHECK_EQ_INT(rs.items[i].product, want_p[i]);
        CHECK(rs.items[i].score == want_s[i]);
        CHECK_EQ_INT(rs.items[i].reason, PREFREC_REASON_REPEAT);
        CHECK_EQ_INT(rs.items[i].every_days, want_every[i]);
        CHECK_EQ_INT(rs.items[i].since_days, want_since[i]);
    }
    char buf[128];
    prefrec_engine_reason_text(e, &rs.items[0], buf, sizeof buf);
    CHECK_STR(buf, "You buy this about every 10 days; last bought 10 days ago");
    prefrec_engine_reason_text(e, &rs.items[2], buf, sizeof buf);
    CHECK_STR(buf, "You bought this 5 days ago");
    /* on a later day P1 is 60 days ago: r = 61/51, due = 1 / (1 + (1.196 - 0.836)^2) = 0.885 */
    rq.today = T + 10;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.items[1].since_days, 60);
    CHECK_NEAR(rs.items[1].score, 0.5 * 2 * (1 + 1 / (1 + pow(61.0 / 51 - 51.0 / 61, 2))), 1e-5);
    /* a day on or before the last purchase is refused, naming it */
    rq.today = T - 5;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);
    CHECK_STR(err.msg,
              "member record: A01 item 2 was bought on 2021-12-27, not before the day "
              "served (2021-12-27)");
    rq.today = 0;

    /* discover: never-bought products only (P2, P3, P4); mixed: share 0.5 for everyone, so the
     * owned list and the discover list alternate, keys (r + 0.5) / 0.5 = 1, 3, 5 in each; on
     * equal keys the lower product index first */
    rq.list = PREFREC_LIST_DISCOVER;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.n, 3);
    int32_t dis[3];
    for (int i = 0; i < 3; i++) {
        dis[i] = rs.items[i].product;
        CHECK(dis[i] >= 2 && dis[i] <= 4);
        CHECK(rs.items[i].reason != PREFREC_REASON_REPEAT);
    }
    rq.list = PREFREC_LIST_MIXED;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.n, 6);
    for (int i = 0; i < 3 && rs.n == 6; i++) {
        int32_t o = want_p[i], d = dis[i];
        CHECK_EQ_INT(rs.items[2 * i].product, o < d ? o : d);
        CHECK_EQ_INT(rs.items[2 * i + 1].product, o < d ? d : o);
        CHECK(rs.items[2 * i].score == 1.0f / (2 * i + 1)); /* 1 / key */
    }
    for (uint32_t i = 0; i < rs.n; i++)
        CHECK_EQ_INT(rs.items[i].reason == PREFREC_REASON_REPEAT,
                     rs.items[i].product <= 1 || rs.items[i].product == 5);

    /* refusals */
    rq.list = PREFREC_LIST_BUY_AGAIN;
    rq.member = NULL;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_INVAL);
    CHECK_STR(err.msg, "a buy-again list needs the member's own purchases (their record)");
    rq.member = &a;
    rq.customer = "C0";
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_INVAL);
    rq.customer = NULL;
    items[2].product = 6; /* outside the 6-product catalogue */
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "product index 6 not in this pack's catalogue (0..5)") != NULL);
    items[2].product = 5;
    /* a member who never bought here: an empty buy-again list, not an error */
    prefrec_member_aff none;
    memset(&none, 0, sizeof none);
    rq.member = &none;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.n, 0);
    /* a pack without buy again (variant 1) */
    size_t len1;
    unsigned char *b1 = tiny_pack(&len1, 1);
    prefrec_pack *pk1 = NULL;
    prefrec_engine *e1 = NULL;
    CHECK_EQ_INT(prefrec_pack_open(b1, len1, &pk1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk1, NULL, &e1, &err), PREFREC_OK);
    rq.member = &a;
    if (e1) {
        CHECK(!prefrec_engine_has_list(e1, PREFREC_LIST_MIXED));
        CHECK_EQ_INT(prefrec_engine_recommend(e1, &rq, &rs, &err), PREFREC_E_NOTFOUND);
    }
    prefrec_engine_free(e1);
    prefrec_pack_free(pk1);
    free(b1);

    /* the JSON API with a member state: who is served comes from the record */
    prefrec_member_state ms;
    memset(&ms, 0, sizeof ms);
    strcpy(ms.code, "M1");
    ms.gender = 1;
    ms.age = 35.0f;
    ms.n_aff = 1;
    ms.aff = &a;
    const prefrec_engine *es[1] = {e};
    const char *q = "{\"list\":\"buy_again\",\"k\":2}";
    char *out = prefrec_api_handle_member(es, 1, &ms, q, strlen(q));
    CHECK(out && strstr(out, "\"ok\":true") && strstr(out, "\"list\":\"buy_again\"") &&
          strstr(out, "\"source\":\"member\"") && strstr(out, "\"reason_kind\":\"repeat\"") &&
          strstr(out, "\"every_days\":10") && strstr(out, "\"days_since\":10"));
    if (out) printf("%s\n", out);
    prefrec_api_free(out);
    q = "{\"list\":\"mixed\",\"k\":4,\"day\":\"2022-01-11\"}";
    out = prefrec_api_handle_member(es, 1, &ms, q, strlen(q));
    CHECK(out && strstr(out, "\"ok\":true") && strstr(out, "\"list\":\"mixed\""));
    if (out) printf("%s\n", out);
    prefrec_api_free(out);
    q = "{\"list\":\"buy_again\",\"customer\":\"C0\"}";
    out = prefrec_api_handle_member(es, 1, &ms, q, strlen(q));
    CHECK(out && strstr(out, "\\\"customer\\\" cannot be given with a member record"));
    prefrec_api_free(out);
    q = "{\"list\":\"later\"}";
    out = prefrec_api_handle_member(es, 1, &ms, q, strlen(q));
    CHECK(out &&
          strstr(out,
                 "\\\"list\\\" must be \\\"discover\\\", \\\"buy_again\\\" or "
                 "\\\"mixed\\\""));
    prefrec_api_free(out);
    q = "{\"list\":\"buy_again\"}"; /* no member: refused */
    out = prefrec_api_handle_n(es, 1, q, strlen(q));
    CHECK(out && strstr(out, "needs the member's own purchases"));
    prefrec_api_free(out);
    out = prefrec_api_info(es, 1);
    CHECK(out && strstr(out, "\"lists\":[\"discover\",\"buy_again\",\"mixed\"]") &&
          strstr(out, "\"asof\":\"2022-01-01\""));
    prefrec_api_free(out);

    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return check_report("test_lists");
}
