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
    prefrec_fit_input in = {ds, x, 2, 1, 0, 0, NULL};
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
    prefrec_fit_input in1 = {ds, x, 1, 7, 0, 0, NULL}, in3 = {ds, x, 3, 7, 0, 0, NULL};
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

/* ---- a test ranker with a fixed preference order per mode, and a 3-point grid -------------- */
/* Scores by product name: mode 0 ranks P1 P3 P2 P4 P5, mode 1 P3 P1 P2 P5 P4, mode 2 P2 P1 P3 P4
 * P5; NULL params = mode 2. Every fit is logged (its window) so the tests can see what the
 * tuning looked at. */
typedef struct toy_params {
    int mode;
} toy_params;
static const int toy_order[3][5] = {{1, 3, 2, 4, 5}, {3, 1, 2, 5, 4}, {2, 1, 3, 4, 5}};
typedef struct toy_model {
    const prefrec_dataset *ds;
    int mode;
} toy_model;
static int toy_n_fits;
static int32_t toy_fit_to[64], toy_fit_mode[64];

static prefrec_status toy_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    (void)err;
    toy_model *m = malloc(sizeof *m);
    if (!m) return PREFREC_E_NOMEM;
    m->ds = in->ds;
    m->mode = params ? ((const toy_params *)params)->mode : 2;
    if (toy_n_fits < 64) {
        toy_fit_to[toy_n_fits] = in->train->day_to;
        toy_fit_mode[toy_n_fits] = m->mode;
    }
    toy_n_fits++;
    *model = m;
    return PREFREC_OK;
}

static prefrec_status toy_score(const void *model, int32_t customer, float *scores) {
    (void)customer;
    const toy_model *m = model;
    for (int32_t j = 0; j < prefrec_dict_size(m->ds->products); j++) {
        int num = atoi(prefrec_dict_str(m->ds->products, j) + 1);
        scores[j] = -100.0f;
        for (int r = 0; r < 5; r++)
            if (toy_order[m->mode][r] == num) scores[j] = (float)(10 - r);
    }
    return PREFREC_OK;
}

static void toy_free(void *model) { free(model); }

static int toy_grid(size_t i, void *params) {
    if (i >= 3) return 0;
    ((toy_params *)params)->mode = (int)i;
    return 1;
}

static void toy_describe(const void *params, char *buf, size_t n) {
    snprintf(buf, n, "mode=%d", ((const toy_params *)params)->mode);
}

static const prefrec_ranker_def toy_ranker = {"toy",
                                              "fixed order per mode",
                                              PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
                                              toy_fit,
                                              toy_score,
                                              toy_free,
                                              sizeof(toy_params),
                                              toy_grid,
                                              toy_describe};
/* the same ranker under another name and without a grid: identical lists */
static const prefrec_ranker_def toy_twin = {"toy_twin",
                                            "fixed order per mode",
                                            PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
                                            toy_fit,
                                            toy_score,
                                            toy_free,
                                            0,
                                            NULL,
                                            NULL};

/* Groups and the three tasks, worked by hand. Cut-off day 10, K = 2, toy mode 0 (P1 P3 P2 P4).
 * Train: C1 {P1, P2}, C2 {P3, P4}: catalogue P1..P4. Test: C1 P2 (repeat) + P3 (new);
 * C2 P1 + P5 (new; P5 is outside the catalogue); C3 (cold) P2 + P4.
 * New items: C1 candidates {P3, P4} -> [P3, P4], truth {P3}: recall 1, NDCG 1. C2 {P1, P2} ->
 * [P1, P2], truth {P1, P5}: recall 1/2, NDCG 1/(1 + 1/log2 3) = a. C3 all -> [P1, P3], truth
 * {P2, P4}: recall 0, NDCG 0, no hit.
 * Repurchase: only C1 (truth {P2}); history [P1, P2]: recall 1, NDCG 1/log2 3.
 * Mixed: everyone gets [P1, P3]. C1 truth {P2, P3}: recall 1/2, NDCG (1/log2 3) a = b; repeat
 * part {P2} missed, explore part {P3} hit; list share bought before: P1 of 2 = 1/2. C2 truth
 * {P1, P5}: recall 1/2, NDCG a; no repeat part; explore part {P1, P5}: 1/2; share: P3 of 2 =
 * 1/2. C3 truth {P2, P4}: 0; explore part 0; share 0. */
static const trow group_rows[] = {
    {"C1", "P1", "A", 1},  {"C1", "P2", "A", 2},  {"C2", "P3", "A", 3},  {"C2", "P4", "A", 4},
    {"C1", "P2", "A", 11}, {"C1", "P3", "A", 12}, {"C2", "P1", "A", 13}, {"C2", "P5", "A", 14},
    {"C3", "P2", "A", 15}, {"C3", "P4", "A", 16},
};

static void test_groups_and_tasks(void) {
    prefrec_dataset *ds = make_ds(group_rows, sizeof group_rows / sizeof group_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    toy_params mode0 = {0};
    prefrec_eval_ranker rk[1] = {{&toy_ranker, &mode0}};
    prefrec_eval_params ep = prefrec_eval_default_params();
    ep.cutoff = 10;
    ep.k = 2;
    ep.threads = 1;
    prefrec_eval_result *res = NULL, *res3 = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &res, &err), PREFREC_OK);
    ep.threads = 3;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &res3, &err), PREFREC_OK);
    if (!res || !res3) {
        fprintf(stderr, "%s\n", err.msg);
        prefrec_eval_result_free(res);
        prefrec_eval_result_free(res3);
        prefrec_dataset_free(ds);
        return;
    }
    double l3 = 1.0 / log2(3.0), a = 1.0 / (1.0 + l3), b = l3 * a;
    const int K = PREFREC_EVAL_KNOWN, C = PREFREC_EVAL_COLD, O = PREFREC_EVAL_ALL;
    CHECK_EQ_INT(res->n_windows, 1);
    CHECK_EQ_INT(res->ranker_tasks[0], 7); /* new items, repurchase and mixed */
    /* new items */
    const prefrec_metrics *m = prefrec_eval_at(res, 0, PREFREC_EVAL_NEW_ITEMS, K, -1, 0);
    CHECK_EQ_INT(m->users, 2);
    CHECK_NEAR(m->recall, 0.75, 1e-12);
    CHECK_NEAR(m->ndcg, (1 + a) / 2, 1e-9);
    CHECK_NEAR(m->hit_rate, 1.0, 0);
    CHECK_NEAR(m->coverage, 1.0, 0); /* P3 P4 P1 P2 */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_NEW_ITEMS, C, -1, 0);
    CHECK_EQ_INT(m->users, 1);
    CHECK_NEAR(m->recall, 0.0, 0);
    CHECK_NEAR(m->hit_rate, 0.0, 0);
    CHECK_NEAR(m->coverage, 0.5, 0); /* P1 P3 */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_NEW_ITEMS, O, -1, 0);
    CHECK_EQ_INT(m->users, 3);
    CHECK_NEAR(m->recall, 1.5 / 3, 1e-12);
    CHECK_NEAR(m->ndcg, (1 + a) / 3, 1e-9);
    CHECK_NEAR(m->hit_rate, 2.0 / 3, 1e-12);
    CHECK_NEAR(m->coverage, 1.0, 0);
    /* the mean over one window is that window; the affiliate slot equals overall here */
    CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, 0, 0)->recall, 0.5, 1e-12);
    /* repurchase: no cold users */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_REPURCHASE, K, -1, 0);
    CHECK_EQ_INT(m->users, 1);
    CHECK_NEAR(m->recall, 1.0, 0);
    CHECK_NEAR(m->ndcg, l3, 1e-9);
    CHECK_EQ_INT(prefrec_eval_at(res, 0, PREFREC_EVAL_REPURCHASE, C, -1, 0)->users, 0);
    /* mixed, known: C1 and C2 */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_MIXED, K, -1, 0);
    CHECK_EQ_INT(m->users, 2);
    CHECK_NEAR(m->recall, 0.5, 1e-12);
    CHECK_NEAR(m->ndcg, (b + a) / 2, 1e-9);
    CHECK_NEAR(m->hit_rate, 1.0, 0);
    CHECK_EQ_INT(m->users_rep, 1);
    CHECK_NEAR(m->recall_rep, 0.0, 0);
    CHECK_NEAR(m->hit_rate_rep, 0.0, 0);
    CHECK_EQ_INT(m->users_expl, 2);
    CHECK_NEAR(m->recall_expl, (1.0 + 0.5) / 2, 1e-12);
    CHECK_NEAR(m->hit_rate_expl, 1.0, 0);
    CHECK_NEAR(m->repeat_ratio, (0.5 + 0.5) / 2, 1e-12);
    CHECK_NEAR(m->coverage, 0.5, 0);
    /* mixed, cold: C3 */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_MIXED, C, -1, 0);
    CHECK_EQ_INT(m->users, 1);
    CHECK_NEAR(m->recall, 0.0, 0);
    CHECK_EQ_INT(m->users_rep, 0);
    CHECK_EQ_INT(m->users_expl, 1);
    CHECK_NEAR(m->repeat_ratio, 0.0, 0);
    /* mixed, overall */
    m = prefrec_eval_at(res, 0, PREFREC_EVAL_MIXED, O, -1, 0);
    CHECK_EQ_INT(m->users, 3);
    CHECK_NEAR(m->recall, 1.0 / 3, 1e-12);
    CHECK_NEAR(m->hit_rate, 2.0 / 3, 1e-12);
    CHECK_EQ_INT(m->users_expl, 3);
    CHECK_NEAR(m->recall_expl, 1.5 / 3, 1e-12);
    CHECK_NEAR(m->hit_rate_expl, 2.0 / 3, 1e-12);
    CHECK_NEAR(m->repeat_ratio, 1.0 / 3, 1e-12);
    /* given params: not tuned, described */
    const prefrec_eval_choice *ch = prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_MIXED, 0);
    CHECK_EQ_INT(ch->tuned, 0);
    CHECK_STR(ch->params, "mode=0");
    /* the same figures with 3 threads */
    size_t nm = 2 * PREFREC_EVAL_TASKS * PREFREC_EVAL_GROUPS * 2 * sizeof *res->m;
    CHECK(memcmp(res->m, res3->m, nm) == 0);
    prefrec_eval_result_free(res);
    prefrec_eval_result_free(res3);
    prefrec_dataset_free(ds);
}

/* The window rule on data spanning days 0..99 (end = 100). */
static void test_windows(void) {
    prefrec_eval_params p = prefrec_eval_default_params();
    prefrec_eval_window w[8];
    int n = 0;
    char note[256];
    prefrec_error err = {0};
    p.step_days = 10; /* 3 windows of 10 days ending at 100; each needs 20 days before */
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(w[0].cutoff, 70);
    CHECK_EQ_INT(w[0].end, 80);
    CHECK_EQ_INT(w[0].val_from, 60);
    CHECK_EQ_INT(w[2].cutoff, 90);
    CHECK_EQ_INT(w[2].end, 100);
    CHECK_STR(note, "");
    p.step_days = 30; /* cut-offs 70, 40, 10: only 70 has 60 days before it */
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(w[0].cutoff, 70);
    CHECK_EQ_INT(w[0].val_from, 40);
    CHECK_CONTAINS(note, "1 of 3 windows");
    p.val_days = 20; /* 40 days before each cut-off: 70 and 40 */
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(w[0].cutoff, 40);
    CHECK_EQ_INT(w[0].end, 70);
    CHECK_EQ_INT(w[0].val_from, 20);
    CHECK_EQ_INT(w[1].cutoff, 70);
    p.val_days = 0;
    p.step_days = 10;
    p.windows = 2;
    p.end = 95; /* [75, 85) and [85, 95) */
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(w[0].cutoff, 75);
    CHECK_EQ_INT(w[1].end, 95);
    /* one window: the validation window is as long as the test window, if there is room */
    p = prefrec_eval_default_params();
    p.cutoff = 60; /* test [60, 100): 40 days, needs 80 before: none */
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(w[0].end, 100);
    CHECK_EQ_INT(w[0].val_from, 60);
    CHECK_CONTAINS(note, "no validation window");
    p.val_days = 20;
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_OK);
    CHECK_EQ_INT(w[0].val_from, 40);
    /* no room at all; a last window after the data */
    p = prefrec_eval_default_params();
    p.step_days = 40;
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no room for a test window of 40 days");
    p.step_days = 10;
    p.end = 200;
    CHECK_EQ_INT(prefrec_eval_windows(&p, 0, 99, w, 8, &n, note, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no purchases in the last test window");
}

/* Tuning on validation, by hand. Cut-off 20, test [20, 30), validation [10, 20), fit part
 * [0, 10). C9 buys P1 P2 P3 on day 0 (the catalogue). C1: P4, P5 in the fit part; P1 (new) and P5
 * (again) in validation; P4 again in the test window. C2: P4 in the fit part, P2 (new) in the
 * test window. K = 2.
 * Validation, new items (C1, candidates P1 P2 P3, truth {P1}): mode 0 [P1, P3] recall 1 NDCG 1;
 * mode 1 [P3, P1] and mode 2 [P2, P1] recall 1, NDCG 1/log2 3: mode 0 by NDCG. Repurchase (C1,
 * candidates P4 P5, truth {P5}): mode 1 puts P5 first: mode 1. Mixed (C1, truth {P1, P5}): mode
 * 0 [P1, P3] has P1 first: mode 0.
 * The test window would choose otherwise: new items (C2, truth {P2}) mode 0 [P1, P3] misses, mode
 * 2 [P2, P1] hits; repurchase (C1, history P1 P4 P5, truth {P4}) mode 1 [P1, P5] misses, mode 0
 * [P1, P4] hits. So the tuned figures are 0 where test-window tuning would give 1. */
static const trow tune_rows[] = {
    {"C9", "P1", "A", 0},  {"C9", "P2", "A", 0},  {"C9", "P3", "A", 0},  {"C1", "P4", "A", 1},
    {"C1", "P5", "A", 2},  {"C2", "P4", "A", 3},  {"C1", "P1", "A", 12}, {"C1", "P5", "A", 13},
    {"C1", "P4", "A", 22}, {"C2", "P2", "A", 25},
};

static void test_tuning(void) {
    prefrec_dataset *ds = make_ds(tune_rows, sizeof tune_rows / sizeof tune_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_eval_ranker rk[1] = {{&toy_ranker, NULL}};
    prefrec_eval_params ep = prefrec_eval_default_params();
    ep.cutoff = 20;
    ep.end = 30;
    ep.val_days = 10;
    ep.k = 2;
    prefrec_eval_result *res = NULL;
    prefrec_error err = {0};
    toy_n_fits = 0;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &res, &err), PREFREC_OK);
    if (!res) {
        fprintf(stderr, "%s\n", err.msg);
        prefrec_dataset_free(ds);
        return;
    }
    /* 3 grid fits on [0, 10), then one fit per distinct choice on [0, 20): mode 0 (new items,
     * mixed) and mode 1 (repurchase). No fit saw day 20 or later. */
    CHECK_EQ_INT(toy_n_fits, 5);
    for (int i = 0; i < 3 && i < toy_n_fits; i++) {
        CHECK_EQ_INT(toy_fit_to[i], 10);
        CHECK_EQ_INT(toy_fit_mode[i], i);
    }
    CHECK_EQ_INT(toy_fit_to[3], 20);
    CHECK_EQ_INT(toy_fit_mode[3], 0);
    CHECK_EQ_INT(toy_fit_to[4], 20);
    CHECK_EQ_INT(toy_fit_mode[4], 1);
    const prefrec_eval_choice *c = prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_NEW_ITEMS, 0);
    CHECK_EQ_INT(c->tuned, 1);
    CHECK_EQ_INT(c->grid_index, 0);
    CHECK_EQ_INT(c->grid_points, 3);
    CHECK_STR(c->params, "mode=0");
    CHECK_NEAR(c->val_recall, 1.0, 0);
    CHECK_NEAR(c->val_ndcg, 1.0, 1e-12);
    CHECK_EQ_INT(c->val_users, 1);
    c = prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_REPURCHASE, 0);
    CHECK_EQ_INT(c->grid_index, 1);
    CHECK_STR(c->params, "mode=1");
    CHECK_EQ_INT(prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_MIXED, 0)->grid_index, 0);
    CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 0)->recall, 0.0, 0);
    CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_REPURCHASE, -1, 0)->recall, 0.0, 0);
    CHECK_EQ_INT(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 0)->users, 1);
    prefrec_eval_result_free(res);
    /* K = 1: the same choices, now by recall (mode 0 alone hits P1, mode 1 alone hits P5) */
    ep.k = 1;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &res, &err), PREFREC_OK);
    if (res) {
        CHECK_EQ_INT(prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_NEW_ITEMS, 0)->grid_index, 0);
        CHECK_EQ_INT(prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_REPURCHASE, 0)->grid_index, 1);
        CHECK_NEAR(prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_REPURCHASE, 0)->val_recall, 1.0,
                   0);
        prefrec_eval_result_free(res);
    }
    /* the same choices and figures with 1 and 3 threads */
    ep.k = 2;
    prefrec_eval_result *t1 = NULL, *t3 = NULL;
    ep.threads = 1;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &t1, &err), PREFREC_OK);
    ep.threads = 3;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &t3, &err), PREFREC_OK);
    if (t1 && t3) {
        CHECK(memcmp(t1->choice, t3->choice, PREFREC_EVAL_TASKS * sizeof *t1->choice) == 0);
        CHECK(memcmp(t1->m, t3->m,
                     2 * PREFREC_EVAL_TASKS * PREFREC_EVAL_GROUPS * 2 * sizeof *t1->m) == 0);
    }
    prefrec_eval_result_free(t1);
    prefrec_eval_result_free(t3);
    /* without tuning the ranker's defaults (mode 2) are used: C2's P2 is found */
    ep.tune = 0;
    toy_n_fits = 0;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 1, &res, &err), PREFREC_OK);
    if (res) {
        CHECK_EQ_INT(toy_n_fits, 1);
        CHECK_EQ_INT(prefrec_eval_choice_at(res, 0, 0, PREFREC_EVAL_NEW_ITEMS, 0)->tuned, 0);
        CHECK_NEAR(prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 0)->recall, 1.0, 0);
        prefrec_eval_result_free(res);
    }
    prefrec_dataset_free(ds);
}

/* Rolling windows and the bootstrap on a small seeded log: 40 customers, 12 products, days
 * 0..119; C36..C39 first buy on day 85 or later. */
static prefrec_dataset *make_log(void) {
    enum { NR = 1200 };
    static char cn[40][8], pn[12][8];
    static trow rows[NR];
    for (int c = 0; c < 40; c++) snprintf(cn[c], sizeof cn[c], "C%d", c);
    for (int p = 0; p < 12; p++) snprintf(pn[p], sizeof pn[p], "P%d", p + 1);
    uint64_t x = 12345;
    for (int i = 0; i < NR; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int c = (int)((x >> 33) % 40), d = (int)((x >> 20) % 120);
        int p = (int)((x >> 45) % 12);
        if (c % 3 == 0) p = (p % 4) * 3; /* a group that buys few products */
        if (c >= 36) d = 85 + d % 35; /* new customers: cold in the later windows */
        rows[i] = (trow){cn[c], pn[p], "A", d};
    }
    rows[0].day = 0;
    rows[1].day = 119;
    return make_ds(rows, NR);
}

static void test_rolling_and_bootstrap(void) {
    prefrec_dataset *ds = make_log();
    CHECK(ds != NULL);
    if (!ds) return;
    CHECK_EQ_INT(ds->day_min, 0);
    CHECK_EQ_INT(ds->day_max, 119);
    toy_params mode0 = {0};
    prefrec_eval_ranker rk[2] = {{&toy_twin, &mode0}, {&toy_ranker, &mode0}};
    prefrec_eval_params ep = prefrec_eval_default_params();
    ep.step_days = 20; /* windows [60, 80), [80, 100), [100, 120) */
    ep.bootstrap = 200;
    ep.seed = 7;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) ep.defaults[t] = "toy";
    prefrec_eval_result *r1 = NULL, *r2 = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 2, &r1, &err), PREFREC_OK);
    ep.threads = 1;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk, 2, &r2, &err), PREFREC_OK);
    if (!r1 || !r2) {
        fprintf(stderr, "%s\n", err.msg);
        prefrec_eval_result_free(r1);
        prefrec_eval_result_free(r2);
        prefrec_dataset_free(ds);
        return;
    }
    CHECK_EQ_INT(r1->n_windows, 3);
    CHECK_EQ_INT(r1->windows[0].cutoff, 60);
    CHECK_EQ_INT(r1->windows[2].end, 120);
    /* the mean over windows and the spread, against the windows' own figures */
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        double v[3], lo = 1e9, hi = -1e9, mean = 0;
        for (int w = 0; w < 3; w++) {
            v[w] = prefrec_eval_at(r1, w, t, PREFREC_EVAL_ALL, -1, 0)->recall;
            mean += v[w];
            lo = v[w] < lo ? v[w] : lo;
            hi = v[w] > hi ? v[w] : hi;
        }
        mean /= 3;
        double ss = 0;
        for (int w = 0; w < 3; w++) ss += (v[w] - mean) * (v[w] - mean);
        prefrec_spread sp;
        CHECK_EQ_INT(prefrec_eval_spread(r1, t, PREFREC_EVAL_ALL, -1, 0, PREFREC_M_RECALL, &sp), 3);
        CHECK_NEAR(prefrec_eval_get(r1, t, -1, 0)->recall, mean, 1e-12);
        CHECK_NEAR(sp.min, lo, 0);
        CHECK_NEAR(sp.max, hi, 0);
        CHECK_NEAR(sp.sd, sqrt(ss / 2), 1e-12);
    }
    /* toy against its twin (the same lists): exactly [0, 0] */
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            const prefrec_eval_interval *iv = &r1->interval[t][g];
            if (t == PREFREC_EVAL_REPURCHASE && g == PREFREC_EVAL_COLD) {
                CHECK_EQ_INT(iv->evaluated, 0); /* no cold repurchase users */
                continue;
            }
            CHECK_EQ_INT(iv->evaluated, 1);
            CHECK_EQ_INT(iv->ref, 1);
            CHECK_EQ_INT(iv->baseline, 0);
            CHECK_NEAR(iv->diff, 0.0, 0);
            CHECK_NEAR(iv->lo, 0.0, 0);
            CHECK_NEAR(iv->hi, 0.0, 0);
            CHECK_EQ_INT(iv->excludes_zero, 0);
        }
    /* same seed, same intervals, whatever the threads */
    CHECK(memcmp(r1->interval, r2->interval, sizeof r1->interval) == 0);
    prefrec_eval_result_free(r2);
    r2 = NULL;
    /* toy against pop alone: the pooled difference is the user-weighted mean of the windows'
     * differences, inside its interval */
    prefrec_eval_ranker rk2[2] = {{&prefrec_ranker_pop, NULL}, {&toy_ranker, &mode0}};
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk2, 2, &r2, &err), PREFREC_OK);
    if (r2) {
        int checked = 0;
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
                const prefrec_eval_interval *iv = &r2->interval[t][g];
                if (!iv->evaluated) continue;
                checked++;
                CHECK_EQ_INT(iv->baseline, 0);
                double num = 0;
                int64_t n = 0;
                for (int w = 0; w < 3; w++) {
                    const prefrec_metrics *a = prefrec_eval_at(r2, w, t, g, -1, 1);
                    const prefrec_metrics *b = prefrec_eval_at(r2, w, t, g, -1, 0);
                    num += (double)a->users * (a->recall - b->recall);
                    n += a->users;
                }
                CHECK_EQ_INT(iv->users, n);
                CHECK(iv->customers <= iv->users && iv->customers > 0);
                CHECK_NEAR(iv->diff, num / (double)n, 1e-9);
                CHECK(iv->lo <= iv->diff && iv->diff <= iv->hi);
            }
        CHECK(checked >= 6);
        prefrec_eval_result_free(r2);
        r2 = NULL;
    }
    /* no intervals without resamples */
    ep.bootstrap = 0;
    CHECK_EQ_INT(prefrec_eval_run(ds, &ep, rk2, 2, &r2, &err), PREFREC_OK);
    if (r2) CHECK_EQ_INT(r2->interval[0][0].evaluated, 0);
    prefrec_eval_result_free(r2);
    prefrec_eval_result_free(r1);
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
    test_groups_and_tasks();
    test_windows();
    test_tuning();
    test_rolling_and_bootstrap();
    return check_report("test_eval");
}
