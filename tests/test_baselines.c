/* test_baselines.c - the next-basket and collaborative baselines (rankers.h) on tiny hand-built
 * data sets, every expected value worked out by hand in the comments: G/P/GP-TopFreq orders,
 * the basket order (receipt, hour, day), TIFU-KNN's decayed vectors and Euclidean neighbours,
 * UP-CF@r's asymmetric cosines, RP3beta's walk products and pruning, EASE against a 3 x 3 hand
 * inverse, BPR and ALS on a dominant co-purchase pattern; and for every ranker: the popularity
 * fallback of a customer without history, the same scores for 1 and 2 threads, and its grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"

typedef struct brow {
    const char *cust, *prod, *rcpt; /* rcpt NULL: no receipt column */
    int day, hour; /* hour -1: unknown */
} brow;

static prefrec_dataset *make_ds(const brow *rows, size_t n) {
    prefrec_dataset *ds = prefrec_dataset_new(n);
    if (!ds) return NULL;
    for (size_t i = 0; i < n; i++) {
        ds->customer[i] = prefrec_dict_intern(ds->customers, rows[i].cust, strlen(rows[i].cust));
        ds->product[i] = prefrec_dict_intern(ds->products, rows[i].prod, strlen(rows[i].prod));
        ds->affiliate[i] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
        ds->day[i] = rows[i].day;
        if (rows[i].rcpt)
            ds->receipt[i] = prefrec_dict_intern(ds->receipts, rows[i].rcpt, strlen(rows[i].rcpt));
        if (rows[i].hour >= 0) ds->hour[i] = (uint8_t)rows[i].hour;
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

/* The training window [day_min, cutoff) of the one affiliate. */
static prefrec_interactions *window(const prefrec_dataset *ds, int32_t cutoff) {
    prefrec_interactions *x = NULL;
    prefrec_error err = {0};
    if (prefrec_interactions_build(ds, 0, ds->day_min, cutoff, &x, &err))
        fprintf(stderr, "interactions: %s\n", err.msg);
    return x;
}

/* Fit def on x and score customer c (NULL on failure, reported). Caller frees. */
static float *fit_score(const prefrec_ranker_def *def, const prefrec_dataset *ds,
                        const prefrec_interactions *x, const void *params, int threads, int32_t c) {
    prefrec_fit_input in = {ds, x, threads, 42, 0, 0, NULL};
    prefrec_error err = {0};
    void *model = NULL;
    if (def->fit(&in, params, &model, &err)) {
        fprintf(stderr, "%s: fit: %s\n", def->name, err.msg);
        CHECK(0);
        return NULL;
    }
    float *s = malloc((size_t)x->n_products * sizeof *s);
    if (s && def->score(model, c, s)) {
        free(s);
        s = NULL;
    }
    def->free(model);
    CHECK(s != NULL);
    return s;
}

/* The order of the n products by score (prefrec_topk: ties by lower index). */
static void order_of(const float *s, int32_t n, int32_t *out) {
    prefrec_scored best[16];
    size_t got = prefrec_topk(s, (size_t)n, NULL, (size_t)n, best);
    for (size_t i = 0; i < got; i++) out[i] = best[i].index;
}

/* ---- G-, P-, GP-TopFreq ----------------------------------------------------------------- */
/* Window days [1, 10). U1: A on days 1, 2, 3; C on day 4; B on day 5. U2: D on days 1 and 2,
 * B on day 2, E on day 3. U3 buys only after the cut-off (no history). Products A..E interned
 * in that order (indices 0..4).
 * Lines: A 3, B 2, C 1, D 2, E 1; two customers with history, so G-TopFreq = lines / 2:
 * A 1.5, B 1, C 0.5, D 1, E 0.5; order A, B, D (tie with B: lower index first), C, E.
 * P-TopFreq for U1: 2 + lines + 0.5 * (last day - 1 + 1) / (10 - 1 + 1): A 2 + 3 + 0.5 * 0.3 =
 * 5.15, B 3 + 0.5 * 0.5 = 3.25, C 3 + 0.5 * 0.4 = 3.2 (B before C: the same lines, bought
 * later); D and E 0 (never bought: a tie, dictionary order). GP-TopFreq: the same A, B, C, then
 * D and E by G-TopFreq / (max 1.5 + 1): D 0.4, E 0.2. */
static const brow topfreq_rows[] = {{"U1", "A", NULL, 1, -1}, {"U1", "B", NULL, 5, -1},
                                    {"U1", "C", NULL, 4, -1}, {"U2", "D", NULL, 1, -1},
                                    {"U2", "E", NULL, 3, -1}, {"U1", "A", NULL, 2, -1},
                                    {"U1", "A", NULL, 3, -1}, {"U2", "D", NULL, 2, -1},
                                    {"U2", "B", NULL, 2, -1}, {"U3", "A", NULL, 12, -1}};

static void test_topfreq(void) {
    prefrec_dataset *ds = make_ds(topfreq_rows, sizeof topfreq_rows / sizeof topfreq_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t A = pid(ds, "A"), B = pid(ds, "B"), C = pid(ds, "C"), D = pid(ds, "D"),
            E = pid(ds, "E"), u1 = cid(ds, "U1"), u3 = cid(ds, "U3");
    CHECK_EQ_INT(A, 0);
    CHECK_EQ_INT(E, 4);
    int32_t ord[5];
    float *s = fit_score(&prefrec_ranker_g_topfreq, ds, x, NULL, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 1.5, 1e-6);
        CHECK_NEAR(s[B], 1.0, 1e-6);
        CHECK_NEAR(s[C], 0.5, 1e-6);
        CHECK_NEAR(s[D], 1.0, 1e-6);
        CHECK_NEAR(s[E], 0.5, 1e-6);
        order_of(s, 5, ord);
        CHECK(ord[0] == A && ord[1] == B && ord[2] == D && ord[3] == C && ord[4] == E);
    }
    free(s);
    s = fit_score(&prefrec_ranker_p_topfreq, ds, x, NULL, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 5.15, 1e-5);
        CHECK_NEAR(s[B], 3.25, 1e-5);
        CHECK_NEAR(s[C], 3.2, 1e-5);
        CHECK_NEAR(s[D], 0.0, 0);
        CHECK_NEAR(s[E], 0.0, 0);
        order_of(s, 5, ord);
        CHECK(ord[0] == A && ord[1] == B && ord[2] == C && ord[3] == D && ord[4] == E);
    }
    free(s);
    s = fit_score(&prefrec_ranker_gp_topfreq, ds, x, NULL, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 5.15, 1e-5);
        CHECK_NEAR(s[D], 0.4, 1e-6);
        CHECK_NEAR(s[E], 0.2, 1e-6);
    }
    free(s);
    /* U3 has no history: P-TopFreq and GP-TopFreq are G-TopFreq */
    s = fit_score(&prefrec_ranker_p_topfreq, ds, x, NULL, 1, u3);
    if (s) {
        CHECK_NEAR(s[A], 1.5, 1e-6);
        CHECK_NEAR(s[D], 1.0, 1e-6);
        CHECK_NEAR(s[E], 0.5, 1e-6);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* ---- the next-basket data set: TIFU-KNN and UP-CF --------------------------------------- */
/* Window days [1, 10). U1's receipts: r1 on day 1 {A, B} (A on two lines: one basket entry),
 * then on day 2 r3 at 15:00 {C, A} and r2 at 9:00 {A}. r3 is interned before r2, so only the
 * hour puts r2 first: U1's baskets in order are B1 {A, B}, B2 {A}, B3 {A, C}.
 * U2: r4 day 3 {A, D}. U3: r5 day 3 {E}. U4: r6 day 4 {B, C, D}. U5: only after the cut-off. */
static const brow nb_rows[] = {
    {"U1", "A", "r1", 1, 10}, {"U1", "B", "r1", 1, 10}, {"U1", "A", "r1", 1, 10},
    {"U1", "C", "r3", 2, 15}, {"U1", "A", "r3", 2, 15}, {"U1", "A", "r2", 2, 9},
    {"U2", "A", "r4", 3, 11}, {"U2", "D", "r4", 3, 11}, {"U3", "E", "r5", 3, 12},
    {"U4", "B", "r6", 4, 8},  {"U4", "C", "r6", 4, 8},  {"U4", "D", "r6", 4, 8},
    {"U5", "A", "r7", 12, 8}};

/* TIFU, m = 2, r_b = r_g = 0.5. U1: N = 3 baskets, groups of floor(3/2) = 1 then ceil = 2:
 * G1 = {B1}, G2 = {B2, B3}. Group i of m weighs r_g^(m-i) / m: G1 0.5 / 2 = 0.25, G2 1 / 2 = 0.5.
 * Basket j of n in a group weighs r_b^(n-j) / n: B1 1; B2 0.5 / 2 = 0.25, B3 1 / 2 = 0.5.
 * U1 = A 0.25 + 0.5 * 0.25 + 0.5 * 0.5 = 0.625, B 0.25, C 0.5 * 0.5 = 0.25 (had the receipts been
 * taken in index order, B2 = {A, C} and C would be 0.125). |U1|^2 = 0.390625 + 2 * 0.0625 =
 * 0.515625. U2, U3, U4 have one basket each: weight 1 per product.
 * Distances^2 from U1: U2 (A, D): 0.515625 + 2 - 2 * 0.625 = 1.265625; U3 (E, shares nothing):
 * 0.515625 + 1 = 1.515625; U4 (B, C, D): 0.515625 + 3 - 2 * 0.5 = 2.515625.
 * alpha 1: the own vector alone. alpha 0.5, k 1: 0.5 U1 + 0.5 U2 = A 0.8125, B 0.125, C 0.125,
 * D 0.5, E 0 (below, by popularity). k 2: the mean of U2 and U3 = A, D, E 0.5 each, so A
 * 0.3125 + 0.25 = 0.5625, B 0.125, C 0.125, D 0.25, E 0.25 (U3 found through the norm order).
 * U3 (E only, |U3|^2 = 1) shares nothing: distances^2 1 + 0.515625 (U1), 1 + 2, 1 + 3: k 1 takes
 * U1: E 0.5, A 0.3125, B 0.125, C 0.125, D below. */
static void test_tifu(void) {
    prefrec_dataset *ds = make_ds(nb_rows, sizeof nb_rows / sizeof nb_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t A = pid(ds, "A"), B = pid(ds, "B"), C = pid(ds, "C"), D = pid(ds, "D"),
            E = pid(ds, "E"), u1 = cid(ds, "U1"), u3 = cid(ds, "U3");
    prefrec_tifu_params p = prefrec_tifu_default_params();
    p.m = 2;
    p.r_b = 0.5;
    p.r_g = 0.5;
    p.alpha = 1.0;
    p.k = 1;
    float *s = fit_score(&prefrec_ranker_tifu_knn, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.625, 1e-6);
        CHECK_NEAR(s[B], 0.25, 1e-6);
        CHECK_NEAR(s[C], 0.25, 1e-6);
        CHECK(s[D] < 0 && s[E] < 0);
    }
    free(s);
    p.alpha = 0.5;
    s = fit_score(&prefrec_ranker_tifu_knn, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.8125, 1e-6);
        CHECK_NEAR(s[B], 0.125, 1e-6);
        CHECK_NEAR(s[C], 0.125, 1e-6);
        CHECK_NEAR(s[D], 0.5, 1e-6);
        CHECK(s[E] < 0);
    }
    free(s);
    p.k = 2;
    s = fit_score(&prefrec_ranker_tifu_knn, ds, x, &p, 2, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.5625, 1e-6);
        CHECK_NEAR(s[B], 0.125, 1e-6);
        CHECK_NEAR(s[D], 0.25, 1e-6);
        CHECK_NEAR(s[E], 0.25, 1e-6);
    }
    free(s);
    p.k = 1;
    s = fit_score(&prefrec_ranker_tifu_knn, ds, x, &p, 1, u3);
    if (s) {
        CHECK_NEAR(s[E], 0.5, 1e-6);
        CHECK_NEAR(s[A], 0.3125, 1e-6);
        CHECK_NEAR(s[B], 0.125, 1e-6);
        CHECK_NEAR(s[C], 0.125, 1e-6);
        CHECK(s[D] < 0);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* Without a receipt column a basket is a customer's day: U1 buys A and B on day 1 (two
 * lines), A on day 2. m = 1, r_b = 0.5: two baskets in one group, {A, B} weighs 0.5 / 2 = 0.25
 * and {A} 1 / 2 = 0.5: A 0.75, B 0.25. */
static void test_tifu_days(void) {
    static const brow rows[] = {
        {"U1", "A", NULL, 1, -1}, {"U1", "B", NULL, 1, -1}, {"U1", "A", NULL, 2, -1}};
    prefrec_dataset *ds = make_ds(rows, 3);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    prefrec_tifu_params p = {1, 1, 0.5, 0.5, 1.0};
    float *s = fit_score(&prefrec_ranker_tifu_knn, ds, x, &p, 1, cid(ds, "U1"));
    if (s) {
        CHECK_NEAR(s[pid(ds, "A")], 0.75, 1e-6);
        CHECK_NEAR(s[pid(ds, "B")], 0.25, 1e-6);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* UP-CF@2 on the same data. rc over the last r = 2 baskets (fewer: all of them):
 * U1 B2 {A}, B3 {A, C}: A 2/2 = 1, C 1/2 = 0.5; U2 A 1, D 1; U3 E 1; U4 B, C, D 1.
 * Products bought: |I_U1| = 3 (A, B, C), |I_U2| = 2, |I_U3| = 1, |I_U4| = 3.
 * alpha 0.5, q 1: sim(U1, U1) = 1; sim(U1, U2) = |{A}| / (3^0.5 2^0.5) = 1/sqrt 6 = 0.4082483;
 * sim(U1, U4) = |{B, C}| / (3^0.5 3^0.5) = 2/3; U3 shares nothing: 0.
 * A = 1 * 1 + 0.4082483 * 1 = 1.4082483; B = 2/3 * 1; C = 1 * 0.5 + 2/3 = 1.1666667;
 * D = 0.4082483 + 2/3 = 1.0749150; E: nothing (below).
 * alpha 0.25, q 2: sim(U1, U2) = 1 / (3^0.25 2^0.75) = 0.4518010, squared 0.2041241;
 * sim(U1, U4) = 2 / (3^0.25 3^0.75) = 2/3, squared 4/9: A = 1 + 0.2041241 = 1.2041241,
 * D = 0.2041241 + 0.4444444 = 0.6485686, C = 0.5 + 0.4444444 = 0.9444444. */
static void test_upcf(void) {
    prefrec_dataset *ds = make_ds(nb_rows, sizeof nb_rows / sizeof nb_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t A = pid(ds, "A"), B = pid(ds, "B"), C = pid(ds, "C"), D = pid(ds, "D"),
            E = pid(ds, "E"), u1 = cid(ds, "U1");
    prefrec_upcf_params p = {2, 0.5, 1.0};
    float *s = fit_score(&prefrec_ranker_upcf, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 1.4082483, 1e-6);
        CHECK_NEAR(s[B], 2.0 / 3.0, 1e-6);
        CHECK_NEAR(s[C], 1.1666667, 1e-6);
        CHECK_NEAR(s[D], 1.0749150, 1e-6);
        CHECK(s[E] < 0);
    }
    free(s);
    p.alpha = 0.25;
    p.q = 2.0;
    s = fit_score(&prefrec_ranker_upcf, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 1.2041241, 1e-6);
        CHECK_NEAR(s[B], 4.0 / 9.0, 1e-6);
        CHECK_NEAR(s[C], 0.9444444, 1e-6);
        CHECK_NEAR(s[D], 0.6485686, 1e-6);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* ---- RP3beta and EASE: U1 {A, B}, U2 {A, B, C}, U3 {B, C}; U4 only after the cut-off -------- */
static const brow walk_rows[] = {{"U1", "A", NULL, 1, -1}, {"U1", "B", NULL, 1, -1},
                                 {"U2", "A", NULL, 2, -1}, {"U2", "B", NULL, 2, -1},
                                 {"U2", "C", NULL, 2, -1}, {"U3", "B", NULL, 3, -1},
                                 {"U3", "C", NULL, 3, -1}, {"U4", "A", NULL, 12, -1}};

/* deg A 2, B 3, C 2; |I_U1| 2, |I_U2| 3, |I_U3| 2.
 * alpha 1, beta 0.5: W[i][j] = (1/deg i) * sum_u (1/|I_u|) / sqrt(deg j):
 * W[A][B] = 1/2 (1/2 + 1/3) / sqrt 3 = 0.2405626; W[A][C] = 1/2 (1/3) / sqrt 2 = 0.1178511;
 * W[B][A] = 1/3 (1/2 + 1/3) / sqrt 2 = 0.1964186 = W[B][C] (U2, U3); W[C][A] = 0.1178511;
 * W[C][B] = 0.2405626. U1 {A, B}: A = W[B][A] = 0.1964186, B = W[A][B] = 0.2405626,
 * C = W[A][C] + W[B][C] = 0.3142697.
 * alpha 0.5: W[A][B] = 2^-0.5 (2^-0.5 + 3^-0.5) / 3^0.5 = 0.5243774 = W[B][A] = W[B][C];
 * W[A][C] = 2^-0.5 3^-0.5 / 2^0.5 = 0.2886751. U1: A 0.5243774, B 0.5243774, C 0.8130525.
 * neighbours 1 (alpha 1): row A keeps B (0.2406 > 0.1179), row B keeps A (a tie with C: the
 * lower index): U1 gets A 0.1964186, B 0.2405626, C nothing (below every scored product). */
static void test_rp3beta(void) {
    prefrec_dataset *ds = make_ds(walk_rows, sizeof walk_rows / sizeof walk_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t A = pid(ds, "A"), B = pid(ds, "B"), C = pid(ds, "C"), u1 = cid(ds, "U1");
    prefrec_rp3beta_params p = {1.0, 0.5, 200};
    float *s = fit_score(&prefrec_ranker_rp3beta, ds, x, &p, 2, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.1964186, 1e-6);
        CHECK_NEAR(s[B], 0.2405626, 1e-6);
        CHECK_NEAR(s[C], 0.3142697, 1e-6);
    }
    free(s);
    p.alpha = 0.5;
    s = fit_score(&prefrec_ranker_rp3beta, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.5243774, 1e-6);
        CHECK_NEAR(s[B], 0.5243774, 1e-6);
        CHECK_NEAR(s[C], 0.8130525, 1e-6);
    }
    free(s);
    p.alpha = 1.0;
    p.neighbours = 1;
    s = fit_score(&prefrec_ranker_rp3beta, ds, x, &p, 1, u1);
    if (s) {
        CHECK_NEAR(s[A], 0.1964186, 1e-6);
        CHECK_NEAR(s[B], 0.2405626, 1e-6);
        CHECK(s[C] < 0);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* EASE, lambda 2, every product. X'X = [[2,2,1],[2,3,2],[1,2,2]] (A, B, C), plus 2 I:
 * G = [[4,2,1],[2,5,2],[1,2,4]], det = 4*16 - 2*6 + 1*(-1) = 51, cofactors 16, -6, -1 / 15, -6
 * / 16: P = [[16,-6,-1],[-6,15,-6],[-1,-6,16]] / 51. B[i][j] = -P[i][j] / P[j][j]:
 * B[A][B] = 6/15 = 0.4, B[A][C] = 1/16 = 0.0625, B[B][A] = 6/16 = 0.375, B[B][C] = 0.375,
 * B[C][A] = 0.0625, B[C][B] = 0.4. U1 {A, B}: A = B[B][A] = 0.375, B = B[A][B] = 0.4,
 * C = 0.0625 + 0.375 = 0.4375; U2 {A, B, C}: A 0.4375, B 0.8, C 0.4375. (Scores carry a
 * popularity tie-break below 1e-6.) */
static void test_ease(void) {
    prefrec_dataset *ds = make_ds(walk_rows, sizeof walk_rows / sizeof walk_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t A = pid(ds, "A"), B = pid(ds, "B"), C = pid(ds, "C");
    prefrec_ease_params p = prefrec_ease_default_params();
    CHECK_EQ_INT(p.max_items, 0); /* every product */
    p.lambda = 2.0;
    float *s = fit_score(&prefrec_ranker_ease, ds, x, &p, 1, cid(ds, "U1"));
    if (s) {
        CHECK_NEAR(s[A], 0.375, 2e-6);
        CHECK_NEAR(s[B], 0.4, 2e-6);
        CHECK_NEAR(s[C], 0.4375, 2e-6);
    }
    free(s);
    s = fit_score(&prefrec_ranker_ease, ds, x, &p, 2, cid(ds, "U2"));
    if (s) {
        CHECK_NEAR(s[A], 0.4375, 2e-6);
        CHECK_NEAR(s[B], 0.8, 2e-6);
        CHECK_NEAR(s[C], 0.4375, 2e-6);
    }
    free(s);
    char buf[96];
    prefrec_ranker_ease.describe(&p, buf, sizeof buf);
    CHECK_STR(buf, "lambda=2 items=all (memory cap 6144 MiB)");
    p.max_mb = 0;
    prefrec_fit_input in = {ds, x, 1, 42, 0, 0, NULL};
    void *model = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_ranker_ease.fit(&in, &p, &model, &err), PREFREC_E_INVAL);
    CHECK(model == NULL);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* The memory cap: 400 products in a ring (customer i buys products i and i+1 mod 400), so
 * every product has 2 buyers. max_mb 1 allows floor(sqrt(2^20 / 12)) = 295 dense products (12 n^2
 * bytes at the peak: X'X in doubles and B in floats): the 295 lowest indices (equal buyers: lower index first). Customer 398
 * bought products 398 and 399, both outside: they, and every product outside, rank below the
 * dense ones (-1000 + a popularity tie-break), while customer 0's neighbour product 1 (in the
 * dense set) scores above 0. */
static void test_ease_cap(void) {
    enum { NP = 400 };
    brow rows[2 * NP];
    static char cn[NP][8], pn[NP][8];
    for (int i = 0; i < NP; i++) {
        snprintf(cn[i], sizeof cn[i], "C%d", i);
        snprintf(pn[i], sizeof pn[i], "P%d", i);
    }
    for (int i = 0; i < NP; i++) {
        rows[2 * i] = (brow){cn[i], pn[i], NULL, 1, -1};
        rows[2 * i + 1] = (brow){cn[i], pn[(i + 1) % NP], NULL, 1, -1};
    }
    prefrec_dataset *ds = make_ds(rows, 2 * NP);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    prefrec_ease_params p = prefrec_ease_default_params();
    p.lambda = 1.0;
    p.max_mb = 1;
    float *s = fit_score(&prefrec_ranker_ease, ds, x, &p, 1, cid(ds, "C398"));
    if (s) {
        CHECK(s[pid(ds, "P294")] > -1.0f); /* dense */
        CHECK(s[pid(ds, "P295")] < -999.0f); /* outside */
        CHECK(s[pid(ds, "P399")] < -999.0f);
    }
    free(s);
    s = fit_score(&prefrec_ranker_ease, ds, x, &p, 1, cid(ds, "C0"));
    if (s) {
        /* C0 bought P0, P1: P1 is C1's too, with P2; B[P1][P2] > 0 */
        CHECK(s[pid(ds, "P2")] > 0.0f);
    }
    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

/* ---- BPR and ALS: a dominant co-purchase pattern ------------------------------------------ */
/* 30 customers buy A and B together, 10 buy C and D, 15 buy E alone (buyers: A, B 30, E 15,
 * C, D 10). T bought only A. Among the products T has not bought, B goes with A in every
 * basket: it must rank first, above the next most popular E, for both models; and the scores
 * must be the same for 1 and 2 threads. */
static prefrec_dataset *pattern_ds(void) {
    brow rows[2 * 30 + 2 * 10 + 15 + 1];
    static char names[56][8];
    size_t n = 0;
    int u = 0;
    for (int i = 0; i < 30; i++, u++) {
        snprintf(names[u], sizeof names[u], "P%d", u);
        rows[n++] = (brow){names[u], "A", NULL, 1 + i % 5, -1};
        rows[n++] = (brow){names[u], "B", NULL, 1 + i % 5, -1};
    }
    for (int i = 0; i < 10; i++, u++) {
        snprintf(names[u], sizeof names[u], "P%d", u);
        rows[n++] = (brow){names[u], "C", NULL, 2, -1};
        rows[n++] = (brow){names[u], "D", NULL, 2, -1};
    }
    for (int i = 0; i < 15; i++, u++) {
        snprintf(names[u], sizeof names[u], "P%d", u);
        rows[n++] = (brow){names[u], "E", NULL, 3, -1};
    }
    rows[n++] = (brow){"T", "A", NULL, 4, -1};
    return make_ds(rows, n);
}

static void test_pattern(const prefrec_ranker_def *def, const void *params) {
    prefrec_dataset *ds = pattern_ds();
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t t = cid(ds, "T"), A = pid(ds, "A"), B = pid(ds, "B");
    float *s1 = fit_score(def, ds, x, params, 1, t);
    float *s2 = fit_score(def, ds, x, params, 2, t);
    if (s1 && s2) {
        uint8_t excl[5] = {0};
        excl[A] = 1; /* bought: the evaluation masks it */
        prefrec_scored best[1];
        prefrec_topk(s1, (size_t)x->n_products, excl, 1, best);
        CHECK_EQ_INT(best[0].index, B);
        if (best[0].index != B)
            fprintf(stderr, "  %s: top is product %d\n", def->name, best[0].index);
        CHECK(memcmp(s1, s2, (size_t)x->n_products * sizeof *s1) == 0); /* 1 vs 2 threads */
    }
    free(s1);
    free(s2);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

static void test_bpr_als(void) {
    prefrec_bpr_params bp = {8, 200, 0.05, 0.01};
    test_pattern(&prefrec_ranker_bpr, &bp);
    prefrec_mf_params mp = prefrec_mf_default_params();
    mp.dim = 8;
    test_pattern(&prefrec_ranker_mf, &mp);
    mp.cg_steps = 3; /* conjugate-gradient updates */
    test_pattern(&prefrec_ranker_mf, &mp);
}

/* ---- every new ranker: fallback, threads, grid ------------------------------------------ */
/* On the next-basket data set, U5 has no history in the window: every ranker must rank the
 * products by popularity (distinct buyers: A 2 (U1, U2), B 2 (U1, U4), C 2, D 2, E 1), so E
 * last; and the fitted scores of U1 must be identical for 1 and 2 threads. Each grid point must
 * fit, and describe must say something. */
static void test_contract(void) {
    prefrec_dataset *ds = make_ds(nb_rows, sizeof nb_rows / sizeof nb_rows[0]);
    CHECK(ds != NULL);
    if (!ds) return;
    prefrec_interactions *x = window(ds, 10);
    int32_t u1 = cid(ds, "U1"), u5 = cid(ds, "U5"), E = pid(ds, "E");
    CHECK(x->row_start[u5] == x->row_start[u5 + 1]);
    const prefrec_ranker_def *defs[] = {
        &prefrec_ranker_g_topfreq, &prefrec_ranker_p_topfreq, &prefrec_ranker_gp_topfreq,
        &prefrec_ranker_tifu_knn,  &prefrec_ranker_upcf,      &prefrec_ranker_rp3beta,
        &prefrec_ranker_ease,      &prefrec_ranker_mf,        &prefrec_ranker_bpr};
    for (size_t r = 0; r < sizeof defs / sizeof defs[0]; r++) {
        const prefrec_ranker_def *d = defs[r];
        float *s = fit_score(d, ds, x, NULL, 1, u5);
        if (s) {
            int ok = 1;
            for (int32_t j = 0; j < x->n_products; j++)
                for (int32_t k = 0; k < x->n_products; k++)
                    if (x->n_buyers[j] > x->n_buyers[k] && !(s[j] > s[k])) ok = 0;
            CHECK(ok);
            if (!ok) fprintf(stderr, "  %s: cold customer not by popularity\n", d->name);
            CHECK(s[E] < s[pid(ds, "A")]);
        }
        free(s);
        float *s1 = fit_score(d, ds, x, NULL, 1, u1), *s2 = fit_score(d, ds, x, NULL, 2, u1);
        if (s1 && s2) {
            int same = memcmp(s1, s2, (size_t)x->n_products * sizeof *s1) == 0;
            CHECK(same);
            if (!same) fprintf(stderr, "  %s: scores differ for 1 and 2 threads\n", d->name);
        }
        free(s1);
        free(s2);
        if (!d->grid) continue;
        CHECK(d->params_size > 0 && d->describe != NULL);
        void *params = calloc(1, d->params_size);
        size_t n = 0;
        char buf[128];
        while (params && d->grid(n, params)) {
            d->describe(params, buf, sizeof buf);
            CHECK(strlen(buf) > 0);
            float *g = fit_score(d, ds, x, params, 2, u1);
            CHECK(g != NULL);
            free(g);
            n++;
        }
        CHECK(n >= 8 && n <= 16);
        free(params);
    }
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

int main(void) {
    test_topfreq();
    test_tifu();
    test_tifu_days();
    test_upcf();
    test_rp3beta();
    test_ease();
    test_ease_cap();
    test_bpr_als();
    test_contract();
    return check_report("test_baselines");
}
