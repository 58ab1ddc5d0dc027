/* test_eval.c - evaluation metrics against hand-computed cases, and the rankers on tiny cases
 * with known answers (ItemKNN cosines, EASE against an independent Gauss-Jordan solve, the
 * repurchase orders, segment popularity, MF determinism across thread counts). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/eval.h"
#include "prefrec/native/rankers.h"

int prefrec_ease_spd_inverse(double *a, int n, int threads); /* rank_ease.c */
int prefrec_ease_spd_inverse_own(double *a, int n, int threads);

typedef struct trow {
    const char *cust, *prod, *aff;
    int day;
} trow;

static prefrec_dataset *make_ds(const trow *rows, size_t n) {
    prefrec_dataset *ds = prefrec_dataset_new(n);
    if (!ds) return NULL;
    for (size_t i = 0; i < n; i++) {
        ds->customer[i] = prefrec_dict_intern(ds->customers, rows[i].cust, strlen(rows[i].cust));
        ds->product[i] = prefrec_dict_intern(ds->products, rows[i].prod, strlen(rows[i].prod));
        ds->affiliate[i] =
            (uint8_t)prefrec_dict_intern(ds->affiliates, rows[i].aff, strlen(rows[i].aff));
        ds->day[i] = rows[i].day;
    }
    prefrec_error err = {0};
    if (prefrec_dataset_finish(ds, &err)) {
        fprintf(stderr, "finish: %s\n", err.msg);
        prefrec_dataset_free(ds);
        return NULL;
    }
    return ds;
}

static int32_t pid(const prefrec_dataset *ds, const char *s) {
    return prefrec_dict_find(ds->products, s, strlen(s));
}
static int32_t cid(const prefrec_dataset *ds, const char *s) {
    return prefrec_dict_find(ds->customers, s, strlen(s));
}

static void test_list_metrics(void) {
    int32_t ranked[] = {5, 3, 9, 1}, truth[] = {3, 1, 7};
    double r, n;
    int h = prefrec_rank_list_metrics(ranked, 4, truth, 3, 3, &r, &n);
    CHECK_EQ_INT(h, 1);
    CHECK_NEAR(r, 1.0 / 3.0, 1e-12);
    /* DCG = 1/log2(3); IDCG = 1 + 1/log2(3) + 1/log2(4) */
    CHECK_NEAR(n, 0.6309297535714574 / 2.1309297535714574, 1e-12);
    h = prefrec_rank_list_metrics(ranked, 4, truth, 3, 4, &r, &n);
    CHECK_EQ_INT(h, 2);
    CHECK_NEAR(r, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(n, (0.6309297535714574 + 0.43067655807339306) / 2.1309297535714574, 1e-12);
    /* fewer truth items than k: recall divides by |truth| */
    int32_t t1[] = {9};
    h = prefrec_rank_list_metrics(ranked, 4, t1, 1, 20, &r, &n);
    CHECK_EQ_INT(h, 1);
    CHECK_NEAR(r, 1.0, 1e-12);
    CHECK_NEAR(n, 0.5, 1e-12); /* rank 3: 1/log2(4) */
    h = prefrec_rank_list_metrics(ranked, 0, t1, 1, 20, &r, &n);
    CHECK_EQ_INT(h, 0);
    CHECK_NEAR(r, 0.0, 0);
    CHECK_NEAR(n, 0.0, 0);
}

/* The hand-worked protocol case (docs/eval.md, "A worked example"). Cut-off day 10.
 * A01 train: C1 {P1, P2 x2}, C2 {P1, P3}, C3 {P1}, C4 {P2}; buyers P1 3, P2 2, P3 1.
 * A01 test: C1 P3 (new) + P1 (again), C2 P2 (new), C3 P4 + P2 (new; P4 is not in A01's
 * catalogue). A02 train: C1 {P4}; test: C1 P1 (new, but not in A02's catalogue). */
static const trow case_rows[] = {
    {"C1", "P1", "A01", 5},  {"C1", "P2", "A01", 1},  {"C1", "P2", "A01", 2},
    {"C2", "P1", "A01", 3},  {"C2", "P3", "A01", 4},  {"C3", "P1", "A01", 6},
    {"C4", "P2", "A01", 7},  {"C1", "P4", "A02", 8},  {"C1", "P3", "A01", 11},
    {"C1", "P1", "A01", 12}, {"C2", "P2", "A01", 13}, {"C3", "P4", "A01", 14},
    {"C3", "P2", "A01", 15}, {"C1", "P1", "A02", 16},
};

static void test_protocol(void) {
    prefrec_dataset *ds = make_ds(case_rows, sizeof case_rows / sizeof case_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_eval_ranker rk[3] = {{&prefrec_ranker_pop, NULL},
                                 {&prefrec_ranker_rep_freq, NULL},
                                 {&prefrec_ranker_rep_recency, NULL}};
    prefrec_eval_params ep = prefrec_eval_default_params();
    ep.cutoff = 10;
    ep.k = 2;
    prefrec_eval_result *res = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 3, &res, &err), PREFREC_OK);
    if (!res) {
        fprintf(stderr, "%s\n", err.msg);
        prefrec_dataset_free(ds);
        return;
    }
    CHECK_EQ_INT(res->n_affiliates, 2);
    CHECK_STR(res->affiliate_names[0], "A01");
    CHECK_EQ_INT(res->end, 17);
    /* A01 new items, pop, k=2: C1 ranks [P3] (hit), C2 [P2, P3] (hit at 1), C3 [P2, P3]
     * against {P2, P4}: recall 1/2, NDCG 1 / (1 + 1/log2 3). */
    const prefrec_metrics *m = prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, 0, 0);
    double n3 = 1.0 / (1.0 + 1.0 / log2(3.0));
    CHECK_EQ_INT(m->users, 3);
    CHECK_NEAR(m->recall, (1 + 1 + 0.5) / 3.0, 1e-9);
    CHECK_NEAR(m->ndcg, (1 + 1 + n3) / 3.0, 1e-9);
    CHECK_NEAR(m->hit_rate, 1.0, 1e-12);
    CHECK_EQ_INT(m->covered, 2);
    CHECK_EQ_INT(m->catalogue, 3);
    /* A02: C1 has no candidate (catalogue {P4} is his history): a miss */
    m = prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, 1, 0);
    CHECK_EQ_INT(m->users, 1);
    CHECK_NEAR(m->recall, 0.0, 0);
    CHECK_NEAR(m->coverage, 0.0, 0);
    /* overall pools the 4 users */
    m = prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 0);
    CHECK_EQ_INT(m->users, 4);
    CHECK_NEAR(m->recall, 2.5 / 4.0, 1e-9);
    CHECK_NEAR(m->ndcg, (2 + n3) / 4.0, 1e-9);
    CHECK_NEAR(m->hit_rate, 0.75, 1e-12);
    CHECK_NEAR(m->coverage, 2.0 / 4.0, 1e-12);
    /* rep rankers are not meant for new items */
    CHECK_EQ_INT(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 1)->evaluated, 0);
    /* repurchase, k=2: one user (C1 in A01, truth {P1}), both history items fit in the list */
    m = prefrec_eval_get(res, PREFREC_EVAL_REPURCHASE, -1, 1);
    CHECK_EQ_INT(m->users, 1);
    CHECK_NEAR(m->recall, 1.0, 1e-12);
    CHECK_NEAR(m->ndcg, 1.0 / log2(3.0), 1e-9); /* P2 (2 buys) first, P1 at rank 2 */
    m = prefrec_eval_get(res, PREFREC_EVAL_REPURCHASE, -1, 2);
    CHECK_NEAR(m->ndcg, 1.0, 1e-12); /* P1 (day 5) is more recent than P2 (day 2) */
    prefrec_eval_result_free(res);

    /* k = 1: repurchase separates frequency from recency; threads do not change anything */
    ep.k = 1;
    ep.threads = 1;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 3, &res, &err), PREFREC_OK);
    if (res) {
        CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_REPURCHASE, -1, 1)->recall, 0.0, 0);
        CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_REPURCHASE, -1, 2)->recall, 1.0, 0);
        CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, 0, 0)->recall, 1.0, 1e-12);
        prefrec_eval_result_free(res);
    }
    /* bad requests */
    ep.cutoff = 100;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 3, &res, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no purchases on or after the cut-off");
    ep.cutoff = 10;
    ep.end = 5;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 3, &res, &err), PREFREC_E_INVAL);
    ep.end = 0;
    ep.k = 0;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 3, &res, &err), PREFREC_E_INVAL);
    prefrec_dataset_free(ds);
}

static const trow knn_rows[] = {
    {"C1", "P1", "A", 1}, {"C1", "P2", "A", 1}, {"C2", "P1", "A", 1}, {"C2", "P2", "A", 2},
    {"C3", "P1", "A", 1}, {"C3", "P3", "A", 1}, {"C4", "P4", "A", 1}, {"C4", "P3", "A", 3},
};

static void test_itemknn_ease(void) {
    prefrec_dataset *ds = make_ds(knn_rows, sizeof knn_rows / sizeof knn_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_interactions_build(ds, -1, 0, 10, &x, &err), PREFREC_OK);
    if (!x) return;
    CHECK_EQ_INT(x->n_pairs, 8);
    CHECK_EQ_INT(x->n_buyers[pid(ds, "P1")], 3);
    CHECK(prefrec_interactions_find(x, cid(ds, "C4"), pid(ds, "P3")) >= 0);
    CHECK(prefrec_interactions_find(x, cid(ds, "C4"), pid(ds, "P1")) < 0);
    prefrec_fit_input in = {ds, x, 2, 1, 0};
    prefrec_itemknn_params kp = prefrec_itemknn_default_params();
    kp.shrink = 0;
    void *model = NULL;
    CHECK_EQ_INT(prefrec_ranker_itemknn.fit(&in, &kp, &model, &err), PREFREC_OK);
    float s[4];
    /* C3 {P1, P3}: P2 gets cos(P1,P2) = 2/sqrt(3*2), + cos(P3,P2) = 0; P4 gets cos(P3,P4) =
     * 1/sqrt(2*1); each plus the popularity tie-break 1e-6 * buyers / 3 */
    CHECK_EQ_INT(prefrec_ranker_itemknn.score(model, cid(ds, "C3"), s), PREFREC_OK);
    CHECK_NEAR(s[pid(ds, "P2")], 2.0 / sqrt(6.0) + 1e-6 * 2 / 3, 1e-6);
    CHECK_NEAR(s[pid(ds, "P4")], 1.0 / sqrt(2.0) + 1e-6 * 1 / 3, 1e-6);
    /* C1 {P1, P2}: P3 = cos(P1,P3) = 1/sqrt(3*2) */
    CHECK_EQ_INT(prefrec_ranker_itemknn.score(model, cid(ds, "C1"), s), PREFREC_OK);
    CHECK_NEAR(s[pid(ds, "P3")], 1.0 / sqrt(6.0) + 1e-6 * 2 / 3, 1e-6);
    CHECK_NEAR(s[pid(ds, "P4")], 0.0 + 1e-6 / 3, 1e-7);
    prefrec_ranker_itemknn.free(model);

    /* SPD inverse against a hand inverse: [[4,2,0],[2,5,1],[0,1,3]], det = 4*14 - 2*6 = 44 */
    double a[9] = {4, 2, 0, 2, 5, 1, 0, 1, 3};
    double inv[9] = {14, -6, 2, -6, 12, -4, 2, -4, 16};
    CHECK_EQ_INT(prefrec_ease_spd_inverse(a, 3, 2), 0);
    for (int i = 0; i < 9; i++) CHECK_NEAR(a[i], inv[i] / 44.0, 1e-12);
    double b2[9] = {4, 2, 0, 2, 5, 1, 0, 1, 3};
    CHECK_EQ_INT(prefrec_ease_spd_inverse_own(b2, 3, 2), 0);
    for (int i = 0; i < 9; i++) CHECK_NEAR(b2[i], inv[i] / 44.0, 1e-12);
    double bad[4] = {1, 2, 2, 1}, bad2[4] = {1, 2, 2, 1};
    CHECK_EQ_INT(prefrec_ease_spd_inverse(bad, 2, 1), -1);
    CHECK_EQ_INT(prefrec_ease_spd_inverse_own(bad2, 2, 1), -1);

    /* EASE against an independent route: Gauss-Jordan on G = X'X + lambda I */
    prefrec_ease_params ep = prefrec_ease_default_params();
    ep.lambda = 0.5;
    CHECK_EQ_INT(prefrec_ranker_ease.fit(&in, &ep, &model, &err), PREFREC_OK);
    double g[4][8];
    memset(g, 0, sizeof g);
    for (int32_t c = 0; c < x->n_customers; c++)
        for (int64_t u = x->row_start[c]; u < x->row_start[c + 1]; u++)
            for (int64_t v = x->row_start[c]; v < x->row_start[c + 1]; v++)
                g[x->product[u]][x->product[v]] += 1;
    for (int i = 0; i < 4; i++) {
        g[i][i] += 0.5;
        g[i][4 + i] = 1;
    }
    for (int col = 0; col < 4; col++) { /* no pivoting needed: SPD */
        double d = g[col][col];
        for (int j = 0; j < 8; j++) g[col][j] /= d;
        for (int r = 0; r < 4; r++) {
            if (r == col) continue;
            double f = g[r][col];
            for (int j = 0; j < 8; j++) g[r][j] -= f * g[col][j];
        }
    }
    int32_t c3 = cid(ds, "C3");
    CHECK_EQ_INT(prefrec_ranker_ease.score(model, c3, s), PREFREC_OK);
    for (int j = 0; j < 4; j++) {
        double want = 0;
        for (int64_t u = x->row_start[c3]; u < x->row_start[c3 + 1]; u++) {
            int i = x->product[u];
            want += i == j ? 0.0 : -g[i][4 + j] / g[j][4 + j];
        }
        want += 1e-6 * x->n_buyers[j] / 3.0;
        CHECK_NEAR(s[j], want, 1e-5);
    }
    prefrec_ranker_ease.free(model);
    /* max_items = 2 keeps P1, P2 (most buyers); P3 and P4 rank below them */
    ep.max_items = 2;
    CHECK_EQ_INT(prefrec_ranker_ease.fit(&in, &ep, &model, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_ease.score(model, cid(ds, "C4"), s), PREFREC_OK);
    CHECK(s[pid(ds, "P1")] > s[pid(ds, "P3")] && s[pid(ds, "P2")] > s[pid(ds, "P4")]);
    CHECK(s[pid(ds, "P3")] < -999.0f);
    prefrec_ranker_ease.free(model);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* Two blocks of customers and products; MF must put a customer's unbought same-block product
 * above the other block's products, give identical factors for 1 and 3 threads, and the
 * same seed twice gives the same scores. */
static void test_mf_and_pop_seg(void) {
    enum { NC = 12, NP = 6 };
    trow rows[NC * NP];
    char cn[NC][8], pn[NP][8];
    size_t n = 0;
    for (int p = 0; p < NP; p++) snprintf(pn[p], sizeof pn[p], "P%d", p);
    for (int c = 0; c < NC; c++) {
        snprintf(cn[c], sizeof cn[c], "C%d", c);
        int block = c < NC / 2 ? 0 : 1;
        for (int p = block * 3; p < block * 3 + 3; p++) {
            if (c == 0 && p == 2) continue; /* C0 never bought P2 */
            rows[n++] = (trow){cn[c], pn[p], "A", 1 + (c + p) % 5};
        }
    }
    prefrec_dataset *ds = make_ds(rows, n);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_interactions_build(ds, 0, 0, 10, &x, &err), PREFREC_OK);
    prefrec_mf_params mp = prefrec_mf_default_params();
    mp.dim = 4;
    mp.iterations = 8;
    float s1[NP], s2[NP];
    void *m1 = NULL, *m2 = NULL;
    prefrec_fit_input in1 = {ds, x, 1, 7, 0}, in3 = {ds, x, 3, 7, 0};
    CHECK_EQ_INT(prefrec_ranker_mf.fit(&in1, &mp, &m1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_mf.fit(&in3, &mp, &m2, &err), PREFREC_OK);
    int32_t c0 = cid(ds, "C0");
    CHECK_EQ_INT(prefrec_ranker_mf.score(m1, c0, s1), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_mf.score(m2, c0, s2), PREFREC_OK);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    for (int p = 3; p < 6; p++) CHECK(s1[pid(ds, "P2")] > s1[pid(ds, pn[p])]);
    prefrec_ranker_mf.free(m1);
    prefrec_ranker_mf.free(m2);

    /* pop_seg with prior 0 is the segment's share of buyers: make C0..C5 women in their 30s */
    for (int c = 0; c < NC; c++) {
        ds->gender[cid(ds, cn[c])] = c < NC / 2 ? PREFREC_GENDER_FEMALE : PREFREC_GENDER_MALE;
        ds->age[cid(ds, cn[c])] = c < NC / 2 ? 35.0f : 45.0f;
    }
    ds->has_demographics = 1;
    prefrec_pop_params pp = prefrec_pop_default_params();
    pp.prior = 0;
    CHECK_EQ_INT(prefrec_ranker_pop_seg.fit(&in1, &pp, &m1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_pop_seg.score(m1, c0, s1), PREFREC_OK);
    CHECK_NEAR(s1[pid(ds, "P2")], 5.0 / 6.0, 1e-6);
    CHECK_NEAR(s1[pid(ds, "P1")], 1.0, 1e-6);
    CHECK_NEAR(s1[pid(ds, "P4")], 0.0, 1e-6);
    prefrec_ranker_pop_seg.free(m1);
    /* prior 6: (5 + 6 * 5/12) / (6 + 6) for P2 in the women's segment */
    pp.prior = 6;
    CHECK_EQ_INT(prefrec_ranker_pop_seg.fit(&in1, &pp, &m1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_pop_seg.score(m1, c0, s1), PREFREC_OK);
    CHECK_NEAR(s1[pid(ds, "P2")], (5.0 + 6.0 * 5.0 / 12.0) / 12.0, 1e-6);
    CHECK_NEAR(s1[pid(ds, "P4")], (0.0 + 6.0 * 6.0 / 12.0) / 12.0, 1e-6);
    prefrec_ranker_pop_seg.free(m1);
    /* the default blend also ranks P2 first among C0's new items */
    CHECK_EQ_INT(prefrec_ranker_blend.fit(&in1, NULL, &m1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_ranker_blend.score(m1, c0, s1), PREFREC_OK);
    for (int p = 3; p < 6; p++) CHECK(s1[pid(ds, "P2")] > s1[pid(ds, pn[p])]);
    prefrec_ranker_blend.free(m1);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

static void test_registry(void) {
    size_t n = 0;
    const prefrec_ranker_def *const *defs = prefrec_rankers_builtin(&n);
    CHECK(n >= 8);
    for (size_t i = 0; i < n; i++) CHECK(prefrec_ranker_find(defs[i]->name) == defs[i]);
    CHECK(prefrec_ranker_find(prefrec_ranker_default_name) != NULL);
    CHECK(prefrec_ranker_find("nope") == NULL);
}

int main(void) {
    test_list_metrics();
    test_protocol();
    test_itemknn_ease();
    test_mf_and_pop_seg();
    test_registry();
    return check_report("test_eval");
}
