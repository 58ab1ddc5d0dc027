/* test_engine.c - the portable engine on a tiny pack built byte by byte: top-k against a
 * hand-worked case and a brute-force evaluation of the blend formula written here, sampling
 * frequencies, stamp board, fold-in, and bad requests. Runs in all three builds. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "tiny_pack.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"

/* The blend formula (src/core/blend.h), evaluated independently in double precision. */
static void brute_blend(int variant, const int *hist, int n, int seg, double *out) {
    const double *w = WV[variant];
    double e[P] = {0}, k[P] = {0}, share[2] = {0}, sub[3] = {0}, me = 0, mk = 0, mp = 0, mt = 0;
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < M; r++) {
            if (ease_nbr[hist[i] * M + r] >= 0)
                e[ease_nbr[hist[i] * M + r]] += ease_w[hist[i] * M + r];
            if (knn_nbr[hist[i] * M + r] >= 0)
                k[knn_nbr[hist[i] * M + r]] += knn_w[hist[i] * M + r];
        }
        share[pcat[hist[i]]] += 1.0 / n;
        sub[psub[hist[i]]] += 1.0 / n;
    }
    for (int p = 0; p < P; p++) {
        me = fmax(me, e[p]);
        mk = fmax(mk, k[p]);
        mp = fmax(mp, pop_seg[seg * P + p]);
        mt = fmax(mt, trend[p]);
    }
    for (int p = 0; p < P; p++)
        out[p] = (me > 0 ? w[0] * e[p] / me : 0) + (mk > 0 ? w[1] * k[p] / mk : 0) +
            w[2] * pop_seg[seg * P + p] / mp + w[3] * trend[p] / mt +
            (n ? w[4] * share[pcat[p]] + w[5] * share[pcat[p]] * pop_all[p] +
                     w[6] * sub[psub[p]] * pop_all[p]
               : 0) +
            TB * pop_all[p];
}

static void test_blend(prefrec_engine *e, prefrec_engine *e_all) {
    prefrec_request rq = prefrec_request_default();
    prefrec_response rs;
    prefrec_error err = {0};
    rq.customer = "C0";
    rq.k = 10;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.source, PREFREC_SOURCE_KNOWN);
    CHECK_EQ_INT(rs.ranker, PREFREC_RANKER_BLEND);
    /* worked by hand (see the comments in the commit): P2 1.1667, P4 1.1042, P3 0.45, P5 0.3833 */
    CHECK_EQ_INT(rs.n, 4);
    const int want[4] = {2, 4, 3, 5};
    const double want_s[4] = {1.0 + 0.2 * 0.1 / 0.3 + 0.1, 0.75 + 0.1875 + 0.2 * 0.25 / 0.3,
                              0.25 + 0.2, 0.25 + 0.2 * 0.2 / 0.3};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(rs.items[i].product, want[i]);
        CHECK_NEAR(rs.items[i].score, want_s[i] + TB * pop_all[want[i]], 1e-5);
        CHECK_EQ_INT(rs.items[i].reason, PREFREC_REASON_BOUGHT_WITH);
    }
    CHECK_EQ_INT(rs.items[0].reason_ref, 0); /* P2 mostly from P0's EASE row */
    CHECK_EQ_INT(rs.items[1].reason_ref, 1); /* P4 from P1 */
    CHECK_EQ_INT(rs.items[3].reason_ref, 1); /* P5 from P1's kNN list */
    char text[128];
    prefrec_engine_reason_text(e, &rs.items[0], text, sizeof text);
    CHECK_STR(text, "Often bought with n0");

    /* brute force for every history subset and segment, with every part of the blend on: same
     * order and scores */
    int all_ok = 1;
    for (int mask = 0; mask < (1 << P) - 1; mask++) {
        int hist[P], n = 0;
        int32_t h32[P];
        for (int p = 0; p < P; p++)
            if (mask >> p & 1) h32[n] = p, hist[n++] = p;
        for (int g = -1; g <= 1; g++) {
            double bs[P];
            float age = g == 1 ? 35.0f : 72.0f;
            int seg = (g == 0 ? 1 : g == 1 ? 2 : 0) * 11 + (int)(age / 10);
            brute_blend(2, hist, n, seg, bs);
            prefrec_request r2 = prefrec_request_default();
            r2.history = h32;
            r2.n_history = (size_t)n;
            r2.gender = g;
            r2.age = age;
            r2.k = P;
            if (prefrec_engine_recommend(e_all, &r2, &rs, &err) != PREFREC_OK) {
                all_ok = 0;
                continue;
            }
            /* expected: never-bought products by brute score desc, index asc */
            int order[P], m = 0;
            for (int p = 0; p < P; p++)
                if (!(mask >> p & 1)) order[m++] = p;
            for (int i = 0; i < m; i++)
                for (int j = i + 1; j < m; j++)
                    if (bs[order[j]] > bs[order[i]] + 1e-9) {
                        int t = order[i];
                        order[i] = order[j];
                        order[j] = t;
                    }
            all_ok &= (int)rs.n == m &&
                rs.source == (n ? PREFREC_SOURCE_HISTORY : PREFREC_SOURCE_SEGMENT);
            for (int i = 0; i < m && i < (int)rs.n; i++)
                all_ok &= rs.items[i].product == order[i] &&
                    fabs(rs.items[i].score - bs[order[i]]) < 1e-5;
        }
    }
    CHECK(all_ok);

    /* a known customer folded in from their own history gets exactly the same list */
    const int32_t own[2] = {1, 0};
    prefrec_request r3 = prefrec_request_default();
    r3.history = own;
    r3.n_history = 2;
    r3.gender = 1;
    r3.age = 35;
    r3.k = 10;
    prefrec_response rs3;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &r3, &rs3, &err), PREFREC_OK);
    CHECK_EQ_INT(rs3.source, PREFREC_SOURCE_HISTORY);
    CHECK_EQ_INT(rs3.n, 4);
    prefrec_engine_recommend(e, &rq, &rs, &err);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(rs3.items[i].product, rs.items[i].product);
}

static void test_sampling(prefrec_engine *e) {
    /* one pick among the top (4 candidates for C0): frequencies follow the scores */
    prefrec_request rq = prefrec_request_default();
    prefrec_response rs;
    prefrec_error err = {0};
    rq.customer = "C0";
    rq.sample = 1;
    int hits[P] = {0};
    enum { RUNS = 20000 };
    for (uint64_t seed = 0; seed < RUNS; seed++) {
        rq.seed = seed;
        prefrec_engine_recommend(e, &rq, &rs, &err);
        hits[rs.sampled[0].product]++;
    }
    prefrec_engine_recommend(e, &rq, &rs, &err);
    double total = 0, chi = 0;
    for (uint32_t i = 0; i < rs.n; i++) total += rs.items[i].score;
    for (uint32_t i = 0; i < rs.n; i++) {
        double ex = RUNS * rs.items[i].score / total;
        chi += (hits[rs.items[i].product] - ex) * (hits[rs.items[i].product] - ex) / ex;
    }
    printf("engine sampling chi2 = %.2f (df 3, bound 16.27)\n", chi);
    CHECK(chi < 16.27);
    CHECK_EQ_INT(hits[0] + hits[1], 0); /* bought products are never sampled */
    /* three picks are distinct */
    rq.sample = 3;
    rq.seed = 11;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.n_sampled, 3);
    CHECK(rs.sampled[0].product != rs.sampled[1].product &&
          rs.sampled[1].product != rs.sampled[2].product &&
          rs.sampled[0].product != rs.sampled[2].product);
}

static void test_stamp_and_neumf(prefrec_engine *e) {
    prefrec_request rq = prefrec_request_default();
    prefrec_error err = {0};
    prefrec_stamp_category board[5];
    size_t nb = 0;
    rq.customer = "C0";
    /* C0, blend scores (brute force): food = {P0, P1, P2}, drink = {P3, P4, P5}; food's mean is
     * higher (P0, P1 bought but scored too) -> food first; 2 per category */
    CHECK_EQ_INT(prefrec_engine_stamp(e, &rq, 5, 2, board, &nb, &err), PREFREC_OK);
    CHECK_EQ_INT(nb, 2);
    double bs[P];
    int h[2] = {0, 1};
    brute_blend(1, h, 2, 25, bs);
    double food = (bs[0] + bs[1] + bs[2]) / 3, drink = (bs[3] + bs[4] + bs[5]) / 3;
    CHECK_EQ_INT(board[0].category, food >= drink ? 0 : 1);
    CHECK_NEAR(board[0].mean_score, fmax(food, drink), 1e-5);
    CHECK_EQ_INT(board[0].products[0].index, 2); /* the only never-bought food product */
    CHECK_EQ_INT(board[0].bought[1], 1); /* then a bought one fills the slot */

    /* the deck's model for a known customer: scores equal prefrec_model_score (checked by hand
     * in test_pack), bought excluded */
    rq.ranker = PREFREC_RANKER_NEUMF;
    rq.k = 3;
    prefrec_response rs;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.ranker, PREFREC_RANKER_NEUMF);
    CHECK_EQ_INT(rs.n, 3);
    for (uint32_t i = 0; i < rs.n; i++) CHECK(rs.items[i].product >= 2);
    for (uint32_t i = 1; i < rs.n; i++) CHECK(rs.items[i - 1].score >= rs.items[i].score);

    /* fold-in: deterministic, and it moves the history's predictions toward the target */
    const int32_t hist[2] = {3, 4};
    prefrec_request r2 = prefrec_request_default();
    r2.history = hist;
    r2.n_history = 2;
    r2.ranker = PREFREC_RANKER_NEUMF;
    float s1[P], s2[P], s0[P];
    CHECK_EQ_INT(prefrec_engine_score_all(e, &r2, s1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_score_all(e, &r2, s2, &err), PREFREC_OK);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    r2.n_history = 0;
    CHECK_EQ_INT(prefrec_engine_score_all(e, &r2, s0, &err), PREFREC_OK);
    double before = fabs(s0[3] - 3.0) + fabs(s0[4] - 3.0),
           after = fabs(s1[3] - 3.0) + fabs(s1[4] - 3.0);
    printf("fold-in: |pred - target| over the history %.4f -> %.4f\n", before, after);
    CHECK(after < before);
}

static void test_bad_requests(prefrec_engine *e, const unsigned char *bytes, size_t len) {
    prefrec_request rq = prefrec_request_default();
    prefrec_response rs;
    prefrec_error err = {0};
    rq.customer = "NOPE";
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "unknown customer 'NOPE'");
    rq.gender = 1; /* with demographics the unknown customer is served by segment */
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
    CHECK_EQ_INT(rs.source, PREFREC_SOURCE_SEGMENT);
    rq = prefrec_request_default();
    rq.customer = "C0";
    rq.k = 0;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);
    CHECK_CONTAINS(err.msg, "k must be 1..100");
    rq.k = 101;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);
    rq.k = 5;
    rq.sample = 31;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);
    rq.sample = 0;
    rq.ranker = 9;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);
    rq.ranker = 0;
    const int32_t bad[1] = {6};
    rq.history = bad;
    rq.n_history = 1;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "product index 6");
    rq = prefrec_request_default();
    rq.customer = "C2"; /* bought everything */
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_EMPTY);
    rq.age = 200;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_E_RANGE);

    /* a pack without blend serves neumf by default and refuses an explicit blend request */
    prefrec_pack *pk = NULL;
    prefrec_engine *e2 = NULL;
    size_t l2;
    unsigned char *b2 = tiny_pack(&l2, 0);
    CHECK_EQ_INT(prefrec_pack_open(b2, l2, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e2, &err), PREFREC_OK);
    if (e2) {
        rq = prefrec_request_default();
        rq.customer = "C1";
        CHECK_EQ_INT(prefrec_engine_recommend(e2, &rq, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.ranker, PREFREC_RANKER_NEUMF);
        rq.ranker = PREFREC_RANKER_BLEND;
        CHECK_EQ_INT(prefrec_engine_recommend(e2, &rq, &rs, &err), PREFREC_E_NOTFOUND);
    }
    prefrec_engine_free(e2);
    prefrec_pack_free(pk);
    free(b2);
    (void)bytes;
    (void)len;
}

int main(void) {
    size_t len = 0;
    unsigned char *bytes = tiny_pack(&len, 1);
    prefrec_pack *pk = NULL, *pk_all = NULL;
    prefrec_engine *e = NULL, *e_all = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e, &err), PREFREC_OK);
    size_t len_all = 0;
    unsigned char *bytes_all = tiny_pack(&len_all, 2);
    CHECK_EQ_INT(prefrec_pack_open(bytes_all, len_all, &pk_all, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk_all, NULL, &e_all, &err), PREFREC_OK);
    if (!e) {
        fprintf(stderr, "engine: %s\n", err.msg);
        return check_report("test_engine");
    }
    CHECK_EQ_INT(prefrec_engine_n_products(e), P);
    CHECK_EQ_INT(prefrec_engine_n_customers(e), 3);
    CHECK_EQ_INT(prefrec_engine_find_customer(e, "C1"), 1);
    CHECK_EQ_INT(prefrec_engine_find_customer(e, "C9"), -1);
    /* codes by index, the inverse of find_customer; NULL outside 0..2 */
    CHECK_STR(prefrec_engine_customer_code(e, 1), "C1");
    CHECK_STR(prefrec_engine_customer_code(e, 2), "C2");
    CHECK(prefrec_engine_customer_code(e, 3) == NULL);
    CHECK(prefrec_engine_customer_code(e, -1) == NULL);
    CHECK_STR(prefrec_engine_category_name(e, 1), "drink");
    CHECK_NEAR(prefrec_engine_customer_purchases(e, "C0"), 2, 0);
    test_blend(e, e_all);
    test_sampling(e);
    test_stamp_and_neumf(e);
    test_bad_requests(e, bytes, len);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    prefrec_engine_free(e_all);
    prefrec_pack_free(pk_all);
    free(bytes_all);
    return check_report("test_engine");
}
