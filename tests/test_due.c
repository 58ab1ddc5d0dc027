/* test_due.c - the "buy again" ranker (src/rank/rank_due.c) on a hand-worked case: purchase days
 * gathered per pair (two lines on one day count once), the public prior from rebuyers, and the
 * scores equal to the portable engine's prefrec_repeat_score (prefrec/repeat.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"
#include "prefrec/repeat.h"

typedef struct trow {
    const char *cust, *prod;
    int day;
} trow;

/* fit without params tunes on the window's last quarter. Window [0, 80), cut 60. Four customers
 * each bought 25 products b0..b24 on each of days 1..20 and product a on days 0, 10, .., 50; in
 * the last quarter they buy only a. Every product is rebought by all four: priors 1, beta moot.
 * As of day 60 the b's have 20 days each (interval 1, last 40 days ago: due ~ 0) and a has 6
 * days (interval 10, last 10 days ago: r = 11/11 = 1, due = 1). With no decay (half-life 0) a
 * scores 6 (1 + w): w 0 -> 6, w 1 -> 12, both below the b's 20 (a ranks 26th, outside the top 20:
 * recall 0); w 3 -> 24, first: recall 1. The grid walks beta fastest, then w, then half-life, so
 * the first point with recall 1 is point 6: half-life 0, w_due 3, beta 0. */
static void tuning(void) {
    prefrec_dataset *ds = prefrec_dataset_new(4 * (25 * 20 + 6 + 2));
    CHECK(ds != NULL);
    if (!ds) return;
    size_t r = 0;
    char code[8];
    for (int c = 0; c < 4; c++) {
        char cust[4] = {'c', (char)('0' + c), 0};
        for (int b = 0; b < 25; b++)
            for (int d = 1; d <= 20; d++) {
                snprintf(code, sizeof code, "b%d", b);
                ds->customer[r] = prefrec_dict_intern(ds->customers, cust, 2);
                ds->product[r] = prefrec_dict_intern(ds->products, code, strlen(code));
                ds->affiliate[r] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
                ds->day[r++] = d;
            }
        for (int d = 0; d <= 70; d += 10) { /* 0..50 before the cut, 60 and 70 after */
            ds->customer[r] = prefrec_dict_intern(ds->customers, cust, 2);
            ds->product[r] = prefrec_dict_intern(ds->products, "a", 1);
            ds->affiliate[r] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
            ds->day[r++] = d;
        }
    }
    ds->n_rows = r;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    prefrec_interactions *x = NULL;
    CHECK_EQ_INT(prefrec_interactions_build(ds, 0, 0, 80, &x, &err), PREFREC_OK);
    prefrec_fit_input in = {ds, x, 1, 42, 0, 0, NULL};
    void *m = NULL;
    CHECK_EQ_INT(prefrec_ranker_due.fit(&in, NULL, &m, &err), PREFREC_OK);
    if (m) {
        prefrec_repeat_params p;
        const float *prior = NULL;
        prefrec_due_fitted(m, &p, &prior);
        CHECK(p.half_life_days == 0.0f && p.w_due == 3.0f && p.beta == 0.0f);
        for (int32_t j = 0; j < x->n_products; j++) CHECK(prior[j] == 1.0f);
        char buf[96];
        prefrec_ranker_due.describe(&p, buf, sizeof buf);
        CHECK_STR(buf, "half_life=0 w_due=3 beta=0");
    }
    prefrec_ranker_due.free(m);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
}

int main(void) {
    tuning();
    /* c1: milk on 100, 107 (two lines), 114; bread on 110. c2: milk on 101, 108; bread on 105.
     * c3: eggs on 111. A row on day 130 lies after the window [100, 125) and is not seen. */
    const trow rows[] = {{"c1", "milk", 100}, {"c1", "milk", 107},  {"c1", "milk", 107},
                         {"c1", "milk", 114}, {"c1", "bread", 110}, {"c2", "milk", 101},
                         {"c2", "milk", 108}, {"c2", "bread", 105}, {"c3", "eggs", 111},
                         {"c1", "bread", 130}};
    size_t n = sizeof rows / sizeof rows[0];
    prefrec_dataset *ds = prefrec_dataset_new(n);
    CHECK(ds != NULL);
    if (!ds) return check_report("test_due");
    for (size_t i = 0; i < n; i++) {
        ds->customer[i] = prefrec_dict_intern(ds->customers, rows[i].cust, strlen(rows[i].cust));
        ds->product[i] = prefrec_dict_intern(ds->products, rows[i].prod, strlen(rows[i].prod));
        ds->affiliate[i] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
        ds->day[i] = rows[i].day;
    }
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    prefrec_interactions *x = NULL;
    CHECK_EQ_INT(prefrec_interactions_build(ds, 0, 100, 125, &x, &err), PREFREC_OK);
    int32_t c1 = prefrec_dict_find(ds->customers, "c1", 2),
            c3 = prefrec_dict_find(ds->customers, "c3", 2);
    int32_t milk = prefrec_dict_find(ds->products, "milk", 4),
            bread = prefrec_dict_find(ds->products, "bread", 5),
            eggs = prefrec_dict_find(ds->products, "eggs", 4);

    /* no decay, due weight 1, prior exponent 1. Rebuyers: milk 2 (c1, c2), bread 0, eggs 0;
     * priors (r + 1) / (2 + 1): milk 1, bread 1/3, eggs 1/3. As of day 125 (the window's end):
     * c1 milk: 3 days, interval 7, since 11, r = 12/8, due = 1 / (1 + (1.5 - 1/1.5)^2)
     *   = 0.590164: 1 * 3 * 1.590164 = 4.770492;  c1 bread: 1 day, due 0: 1/3 * 1 = 0.333333;
     * c1 eggs: never bought, below both, in [-2, -1] by popularity. */
    prefrec_repeat_params p = {0.0f, 1.0f, 1.0f, 1.0f};
    prefrec_fit_input in = {ds, x, 2, 42, 0, 0, NULL};
    void *m = NULL;
    CHECK_EQ_INT(prefrec_ranker_due.fit(&in, &p, &m, &err), PREFREC_OK);
    float *s = malloc((size_t)x->n_products * sizeof *s);
    CHECK_EQ_INT(prefrec_ranker_due.score(m, c1, s), PREFREC_OK);
    CHECK_NEAR(s[milk], 4.770492, 1e-5);
    CHECK_NEAR(s[bread], 1.0 / 3.0, 1e-6);
    CHECK(s[eggs] >= -2.0f && s[eggs] <= -1.0f);
    /* the same bits as the engine's function on the same days and prior */
    const int32_t days[] = {100, 107, 114};
    const float prior[3] = {1.0f, 1.0f, 1.0f};
    prefrec_repeat_item it = {0, 3, days};
    float want;
    CHECK_EQ_INT(prefrec_repeat_score(&p, prior, 3, 125, &it, 1, &want, NULL, &err), PREFREC_OK);
    CHECK(memcmp(&want, &s[milk], sizeof want) == 0);
    /* c3 bought only eggs: eggs 1/3, the others below */
    CHECK_EQ_INT(prefrec_ranker_due.score(m, c3, s), PREFREC_OK);
    CHECK_NEAR(s[eggs], 1.0 / 3.0, 1e-6);
    CHECK(s[milk] < 0 && s[bread] < 0);
    prefrec_ranker_due.free(m);

    /* mixed with a given global share merges due's list and the discover list by the keys
     * (rank + 0.5) / s and (rank + 0.5) / (1 - s). s = 0.5: c1's milk (due's first) and the
     * discover list's first both get 1, bread 3; s = 0.75: milk 0.5/0.75, bread 1.5/0.75 = 2,
     * the discover list's first 0.5/0.25 = 2 as well. Scores are the negated keys. */
    const double shares[2] = {0.5, 0.75};
    const float want_milk[2] = {-1.0f, (float)(-0.5 / 0.75)}, want_bread[2] = {-3.0f, -2.0f},
                want_first_new[2] = {-1.0f, -2.0f};
    for (int k = 0; k < 2; k++) {
        prefrec_mixed_params mp = {shares[k], -1.0, 0, 1000, 20};
        void *mm = NULL;
        CHECK_EQ_INT(prefrec_ranker_mixed.fit(&in, &mp, &mm, &err), PREFREC_OK);
        if (!mm) continue;
        CHECK_EQ_INT(prefrec_ranker_mixed.score(mm, c1, s), PREFREC_OK);
        CHECK(s[milk] == want_milk[k]);
        CHECK(s[bread] == want_bread[k]);
        CHECK(s[eggs] == want_first_new[k]); /* eggs: the one product c1 never bought */
        prefrec_ranker_mixed.free(mm);
    }

    /* bad params are refused at fit */
    p.beta = 2.0f;
    m = NULL;
    CHECK_EQ_INT(prefrec_ranker_due.fit(&in, &p, &m, &err), PREFREC_E_INVAL);
    CHECK(m == NULL);
    CHECK(strstr(err.msg, "beta") != NULL);

    /* no grid for eval to tune: fit tunes itself (below), as a pack's fit does */
    CHECK(prefrec_ranker_due.grid == NULL);
    CHECK_EQ_INT(prefrec_ranker_due.params_size, sizeof(prefrec_repeat_params));

    free(s);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
    return check_report("test_due");
}
