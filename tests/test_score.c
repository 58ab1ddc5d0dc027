/* test_score.c - the preference score on small hand-computed data sets, the JSON config, and a
 * brute-force reference on a random data set (an independent route to every component). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "prefrec/date.h"
#include "prefrec/rng.h"
#include "prefrec/native/score.h"

static int32_t D(const char *s) {
    int32_t d = 0;
    if (prefrec_date_parse(s, strlen(s), &d)) abort();
    return d;
}

typedef struct {
    const char *aff, *cust, *prod, *date;
} row_t;

/* products: code -> category name (NULL: uncategorised); catalog = 0 builds a dataset with no
 * products file (has_catalog 0). */
typedef struct {
    const char *prod, *cat;
} cat_t;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* qty: each row's quantity, or NULL for 1 (a purchase). */
static prefrec_dataset *build_q(const row_t *rows, size_t n, const cat_t *cats, size_t ncat,
                                int catalog, const float *qty) {
    prefrec_dataset *ds = prefrec_dataset_new(n);
    if (!ds) abort();
    /* intern affiliates and customers in code order, products catalog-first, so indices are
     * predictable (A01 < A02, C1 < C2 ...) whatever the row order */
    const char **codes = malloc(2 * n * sizeof *codes);
    for (size_t i = 0; i < n; i++) codes[i] = rows[i].aff, codes[n + i] = rows[i].cust;
    qsort(codes, n, sizeof *codes, cmp_str);
    qsort(codes + n, n, sizeof *codes, cmp_str);
    for (size_t i = 0; i < n; i++) {
        prefrec_dict_intern(ds->affiliates, codes[i], strlen(codes[i]));
        prefrec_dict_intern(ds->customers, codes[n + i], strlen(codes[n + i]));
    }
    free(codes);
    for (size_t i = 0; i < ncat; i++)
        prefrec_dict_intern(ds->products, cats[i].prod, strlen(cats[i].prod));
    for (size_t i = 0; i < n; i++) {
        ds->affiliate[i] =
            (uint8_t)prefrec_dict_intern(ds->affiliates, rows[i].aff, strlen(rows[i].aff));
        ds->customer[i] = prefrec_dict_intern(ds->customers, rows[i].cust, strlen(rows[i].cust));
        ds->product[i] = prefrec_dict_intern(ds->products, rows[i].prod, strlen(rows[i].prod));
        ds->day[i] = D(rows[i].date);
        if (qty) ds->quantity[i] = qty[i];
    }
    if (catalog) {
        int32_t np = prefrec_dict_size(ds->products);
        ds->has_catalog = 1;
        ds->product_name = malloc((size_t)np * sizeof *ds->product_name);
        ds->product_category = malloc((size_t)np * sizeof *ds->product_category);
        ds->product_subcategory = malloc((size_t)np * sizeof *ds->product_subcategory);
        for (int32_t p = 0; p < np; p++) {
            ds->product_name[p] = prefrec_dict_str(ds->products, p);
            ds->product_category[p] = -1;
            ds->product_subcategory[p] = -1;
        }
        for (size_t i = 0; i < ncat; i++) {
            int32_t p = prefrec_dict_find(ds->products, cats[i].prod, strlen(cats[i].prod));
            if (cats[i].cat)
                ds->product_category[p] =
                    prefrec_dict_intern(ds->categories, cats[i].cat, strlen(cats[i].cat));
        }
        ds->n_products_in_catalog = np;
    }
    prefrec_error err = {0};
    if (prefrec_dataset_finish(ds, &err)) {
        fprintf(stderr, "finish: %s\n", err.msg);
        abort();
    }
    return ds;
}

static prefrec_dataset *build(const row_t *rows, size_t n, const cat_t *cats, size_t ncat,
                              int catalog) {
    return build_q(rows, n, cats, ncat, catalog, NULL);
}

static ptrdiff_t find(const prefrec_scores *s, const prefrec_dataset *ds, const char *a,
                      const char *c, const char *p) {
    return prefrec_scores_find(s, prefrec_dict_find(ds->affiliates, a, strlen(a)),
                               prefrec_dict_find(ds->customers, c, strlen(c)),
                               prefrec_dict_find(ds->products, p, strlen(p)));
}

/* The hand-worked case of docs/score.md ("Worked example"); as of 2021-01-31. */
static const row_t worked[] = {
    {"A01", "C2", "P2", "2021-01-11"}, {"A01", "C1", "P1", "2021-01-13"},
    {"A01", "C1", "P3", "2021-01-31"}, /* on the as-of day: excluded */
    {"A01", "C1", "P1", "2021-01-05"}, {"A02", "C4", "P3", "2021-01-01"},
    {"A01", "C1", "P1", "2021-01-01"}, {"A01", "C1", "P2", "2021-01-20"},
    {"A01", "C1", "P1", "2021-01-05"}, /* second line the same day: same occasion */
    {"A01", "C1", "P3", "2021-01-10"}, {"A01", "C2", "P3", "2021-01-02"},
    {"A02", "C1", "P1", "2021-01-03"}, {"A01", "C1", "P1", "2021-01-09"},
    {"A01", "C2", "P2", "2021-01-01"}, {"A01", "C1", "P3", "2021-01-30"},
    {"A02", "C3", "P1", "2021-01-15"}, {"A01", "C2", "P2", "2021-01-21"},
    {"A02", "C4", "P3", "2021-01-07"}, {"A01", "C1", "P1", "2021-02-10"}, /* after: excluded */
};
static const cat_t worked_cats[] = {{"P1", "fruit"}, {"P2", "fruit"}, {"P3", "snack"}};

typedef struct {
    const char *a, *c, *p;
    int count, buy, clac, range;
    double share, interval, ratio, score;
    int fallback;
} expect_t;

static void check_pair(const prefrec_scores *s, const prefrec_dataset *ds, const expect_t *e) {
    ptrdiff_t j = find(s, ds, e->a, e->c, e->p);
    CHECK(j >= 0);
    if (j < 0) return;
    CHECK_EQ_INT(s->count[j], e->count);
    CHECK_EQ_INT(s->buy_level[j], e->buy);
    CHECK_EQ_INT(s->low_clac[j], e->clac);
    CHECK_EQ_INT(s->range_score[j], e->range);
    CHECK_EQ_INT(s->interval_fallback[j], e->fallback);
    if (isnan(e->share))
        CHECK(isnan(s->clac_share[j]));
    else
        CHECK_NEAR(s->clac_share[j], e->share, 1e-6);
    if (isnan(e->interval))
        CHECK(isnan(s->interval[j]));
    else
        CHECK_NEAR(s->interval[j], e->interval, 1e-5);
    if (isnan(e->ratio))
        CHECK(isnan(s->range_ratio[j]));
    else
        CHECK_NEAR(s->range_ratio[j], e->ratio, 1e-5);
    CHECK_NEAR(s->score[j], e->score, 1e-6);
}

static void test_worked(void) {
    prefrec_dataset *ds = build(worked, sizeof worked / sizeof worked[0], worked_cats, 3, 1);
    prefrec_score_params p = prefrec_score_default_params();
    CHECK_EQ_INT(p.asof_day, D("2022-01-01"));
    p.asof_day = D("2021-01-31");
    prefrec_error err = {0};
    prefrec_scores *s = NULL;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    CHECK_EQ_INT(s->n, 8);
    /* sorted by (affiliate, customer, product) */
    static const char *order[8][3] = {{"A01", "C1", "P1"}, {"A01", "C1", "P2"}, {"A01", "C1", "P3"},
                                      {"A01", "C2", "P2"}, {"A01", "C2", "P3"}, {"A02", "C1", "P1"},
                                      {"A02", "C3", "P1"}, {"A02", "C4", "P3"}};
    for (size_t j = 0; j < 8 && j < s->n; j++) {
        CHECK_STR(prefrec_dict_str(ds->affiliates, s->affiliate[j]), order[j][0]);
        CHECK_STR(prefrec_dict_str(ds->customers, s->customer[j]), order[j][1]);
        CHECK_STR(prefrec_dict_str(ds->products, s->product[j]), order[j][2]);
    }
    const expect_t ex[] = {
        /* 4 occasions (two lines on 01-05 are one), mean interval 12/3 = 4, 18 days since */
        {"A01", "C1", "P1", 4, 2, 5, 5, 5.0 / 7, 4, 4.5, 3.5, 0},
        /* bought once: fallback = largest fruit interval in A01 = C2's 10; 11 days since */
        {"A01", "C1", "P2", 1, 0, 5, 3, 5.0 / 7, 10, 1.1, 2.0, 0 + 1},
        /* 2 occasions (the as-of-day line excluded), interval 20, 1 day since */
        {"A01", "C1", "P3", 2, 1, 4, 0, 2.0 / 7, 20, 0.05, 1.5, 0},
        /* ties: count 3 == cut 3 -> level 2; ratio 10/10 == cut 1 -> level 3 */
        {"A01", "C2", "P2", 3, 2, 5, 3, 0.75, 10, 1.0, 3.0, 0},
        /* once: fallback = largest snack interval in A01 = 20; 29 days since */
        {"A01", "C2", "P3", 1, 0, 4, 3, 0.25, 20, 1.45, 1.75, 1},
        /* A02 is scored apart: C1 has one occasion there; no fruit interval in A02, so the
         * affiliate's largest (C4's 6) is used: 28 / 6 */
        {"A02", "C1", "P1", 1, 0, 5, 5, 1.0, 6, 28.0 / 6, 2.5, 1},
        /* a customer with one purchase in all: share 1, interval fallback 6, 16 / 6 */
        {"A02", "C3", "P1", 1, 0, 5, 4, 1.0, 6, 16.0 / 6, 2.25, 1},
        /* ratio 24 / 6 == cut 4 -> level 5 */
        {"A02", "C4", "P3", 2, 1, 5, 5, 1.0, 6, 4.0, 3.0, 0},
    };
    for (size_t k = 0; k < sizeof ex / sizeof ex[0]; k++) check_pair(s, ds, &ex[k]);
    ptrdiff_t j = find(s, ds, "A01", "C1", "P3");
    CHECK(j >= 0 && s->last_day[j] == D("2021-01-30") && s->first_day[j] == D("2021-01-10"));
    CHECK_EQ_INT(find(s, ds, "A01", "C3", "P1"), -1);

    /* the CSV: header, codes, components; no share / ratio is an empty field */
    char path[] = "/tmp/prefrec_test_score_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(prefrec_scores_write_csv(s, ds, path, &err), PREFREC_OK);
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[len] = 0;
    unlink(path);
    const char *head =
        "affiliate,customer,product,count,last_date,buy_level,clac_share,low_clac,"
        "range_ratio,range_score,score\nA01,C1,P1,4,2021-01-13,2,0.714286,5,4.5,5,3.5\n"
        "A01,C1,P2,1,2021-01-20,0,0.714286,5,1.1,3,2\n";
    CHECK(strncmp(buf, head, strlen(head)) == 0);
    CHECK_CONTAINS(buf, "\nA02,C4,P3,2,2021-01-07,1,1,5,4,5,3\n");
    prefrec_scores_free(s);

    /* one affiliate only: the same numbers for A02, nothing of A01 */
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, 1, &s, &err), PREFREC_OK);
    CHECK_EQ_INT(s->n, 3);
    for (size_t k = 5; k < 8; k++) check_pair(s, ds, &ex[k]);
    prefrec_scores_free(s);

    /* as of 2021-02-01 the 01-31 line counts: C1 P3 has 3 occasions, last 01-31 */
    p.asof_day = D("2021-02-01");
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, 0, &s, &err), PREFREC_OK);
    j = find(s, ds, "A01", "C1", "P3");
    CHECK(j >= 0 && s->count[j] == 3 && s->last_day[j] == D("2021-01-31"));
    prefrec_scores_free(s);

    /* nothing before as-of: empty, not an error */
    p.asof_day = D("2020-01-01");
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    CHECK(s && s->n == 0);
    prefrec_scores_free(s);

    /* bad affiliate index */
    s = (prefrec_scores *)1;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, 7, &s, &err), PREFREC_E_NOTFOUND);
    CHECK(s == NULL);
    prefrec_dataset_free(ds);
}

/* Weights and cut points from JSON, including a share exactly on a cut. */
static void test_config(void) {
    prefrec_dataset *ds = build(worked, sizeof worked / sizeof worked[0], worked_cats, 3, 1);
    prefrec_score_params p = prefrec_score_default_params();
    prefrec_error err = {0};
    const char *js = "{\"asof\": \"2021-01-31\", \"weights\": {\"buy_level\": 1, \"low_clac\": 3},"
                     " \"low_clac_cuts\": [0.1, 0.25, 0.5, 0.75, 0.9]}";
    CHECK_EQ_INT(prefrec_score_params_parse_json(js, strlen(js), "t.json", &p, &err), PREFREC_OK);
    CHECK_EQ_INT(p.asof_day, D("2021-01-31"));
    CHECK_NEAR(p.w_buy, 1, 0);
    CHECK_NEAR(p.w_clac, 3, 0);
    CHECK_NEAR(p.w_range, 1, 0); /* untouched */
    CHECK_NEAR(p.buy_cuts[4], 12, 0);
    prefrec_scores *s = NULL;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    ptrdiff_t j = find(s, ds, "A01", "C2", "P2"); /* share 0.75 == cut -> 4 */
    CHECK(j >= 0 && s->low_clac[j] == 4);
    CHECK_NEAR(s->score[j], (1.0 * 2 + 3.0 * 4 + 1.0 * 3) / 5, 1e-6);
    j = find(s, ds, "A01", "C2", "P3"); /* share 0.25 == cut -> 2 */
    CHECK(j >= 0 && s->low_clac[j] == 2);
    CHECK_NEAR(s->score[j], (0 + 3.0 * 2 + 3) / 5, 1e-6);
    prefrec_scores_free(s);

    /* errors leave p unchanged and say what */
    prefrec_score_params q = p;
    const char *bad[] = {
        "{\"buy_level_cuts\": [1, 2, 3]}",
        "{\"range_score_cuts\": [1, 2, 3, 2, 5]}",
        "{\"weights\": {\"buy\": 2}}",
        "{\"asof\": \"2021-13-01\"}",
        "{\"cuts\": 1}",
        "{\"weights\": {\"buy_level\": -1}}",
        "{\"weights\": {\"buy_level\": 0, \"low_clac\": 0, \"range_score\": 0}}",
        "{\"low_clac_cuts\": [0.1, 0.2, \"x\", 0.4, 0.5]}",
        "[1]",
        "{\"asof\": ",
    };
    const char *want[] = {"array of 5",  "non-decreasing", "unknown weight", "asof",
                          "unknown key", "must be >= 0",   "sum to 0",       "not a number",
                          "object",      "offset"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        prefrec_error e2 = {0};
        CHECK(prefrec_score_params_parse_json(bad[k], strlen(bad[k]), "bad.json", &q, &e2) !=
              PREFREC_OK);
        CHECK_CONTAINS(e2.msg, want[k]);
        CHECK_CONTAINS(e2.msg, "bad.json");
        CHECK(memcmp(&q, &p, sizeof p) == 0);
    }
    prefrec_error e3 = {0};
    CHECK_EQ_INT(prefrec_score_params_load_json("/nonexistent/x.json", &q, &e3), PREFREC_E_IO);
    CHECK_CONTAINS(e3.msg, "/nonexistent/x.json");
    prefrec_dataset_free(ds);
}

/* No products file: low_clac is left out of the score, intervals fall back within the
 * affiliate's uncategorised pairs. */
static void test_no_category(void) {
    static const row_t rows[] = {{"ALL", "C1", "P1", "2021-01-01"},
                                 {"ALL", "C1", "P1", "2021-01-11"},
                                 {"ALL", "C1", "P2", "2021-01-21"}};
    prefrec_dataset *ds = build(rows, 3, NULL, 0, 0);
    CHECK_EQ_INT(ds->has_catalog, 0);
    prefrec_score_params p = prefrec_score_default_params();
    p.asof_day = D("2021-01-31");
    prefrec_error err = {0};
    prefrec_scores *s = NULL;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    CHECK_EQ_INT(s->n, 2);
    /* P1: count 2 -> 1; interval 10, 20 days since -> ratio 2 -> 4; (2*1 + 4) / 3 */
    const expect_t e1 = {"ALL", "C1", "P1", 2, 1, 0, 4, NAN, 10, 2.0, 2.0, 0};
    /* P2: once; fallback 10 (the affiliate's uncategorised pairs); ratio 1 -> 3; 3 / 3 */
    const expect_t e2 = {"ALL", "C1", "P2", 1, 0, 0, 3, NAN, 10, 1.0, 1.0, 1};
    check_pair(s, ds, &e1);
    check_pair(s, ds, &e2);
    prefrec_scores_free(s);
    prefrec_dataset_free(ds);
}

/* Issue 21: a product bought once and returned twice (quantity -1 on two later days) scored 3.5
 * against 2.5 for one purchase: the returns counted as purchases. Returns and zero lines are not
 * purchases (README, "Returns, cancellations and zero lines"), so it scores as bought once, and
 * the data set scores exactly as the same data without those lines. */
static void test_returns(void) {
    static const row_t rows[] = {
        {"A01", "C1", "P1", "2021-01-05"}, {"A01", "C1", "P1", "2021-01-10"},
        {"A01", "C1", "P1", "2021-01-15"}, {"A01", "C1", "P2", "2021-01-05"},
        {"A01", "C1", "P2", "2021-01-20"}, {"A01", "C2", "P1", "2021-01-01"},
        {"A01", "C2", "P1", "2021-01-11"},
    };
    static const float qty[] = {1, -1, -1, 1, 0, 1, 1};
    static const row_t clean[] = {
        {"A01", "C1", "P1", "2021-01-05"},
        {"A01", "C1", "P2", "2021-01-05"},
        {"A01", "C2", "P1", "2021-01-01"},
        {"A01", "C2", "P1", "2021-01-11"},
    };
    static const cat_t cats[] = {{"P1", "fruit"}, {"P2", "fruit"}};
    prefrec_dataset *ds = build_q(rows, 7, cats, 2, 1, qty), *dc = build(clean, 4, cats, 2, 1);
    CHECK_EQ_INT(ds->n_rows, 4);
    CHECK_EQ_INT(ds->n_return_lines, 2);
    CHECK_EQ_INT(ds->n_zero_lines, 1);
    prefrec_score_params p = prefrec_score_default_params();
    p.asof_day = D("2021-01-31");
    prefrec_error err = {0};
    prefrec_scores *s = NULL, *sc = NULL;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_scores_compute(dc, &p, -1, &sc, &err), PREFREC_OK);
    /* once each; both fruit, C1's only category (share 1 -> 5); C2's interval 10 is fruit's
     * largest; 26 days since 01-05 -> ratio 2.6 -> 4; (2*0 + 5 + 4) / 4 */
    const expect_t e1 = {"A01", "C1", "P1", 1, 0, 5, 4, 1.0, 10, 2.6, 2.25, 1};
    const expect_t e2 = {"A01", "C1", "P2", 1, 0, 5, 4, 1.0, 10, 2.6, 2.25, 1};
    check_pair(s, ds, &e1);
    check_pair(s, ds, &e2);
    ptrdiff_t j = find(s, ds, "A01", "C1", "P1");
    CHECK(j >= 0 && s->last_day[j] == D("2021-01-05")); /* a return is no later purchase */
    CHECK_EQ_INT(s->n, sc->n);
    int same = s->n == sc->n;
    for (size_t k = 0; same && k < s->n; k++)
        same = s->score[k] == sc->score[k] && s->count[k] == sc->count[k] &&
            s->last_day[k] == sc->last_day[k] && s->customer[k] == sc->customer[k] &&
            s->product[k] == sc->product[k];
    CHECK(same);
    prefrec_scores_free(s);
    prefrec_scores_free(sc);
    prefrec_dataset_free(ds);
    prefrec_dataset_free(dc);
}

/* Brute force, straight from the definition, one pair at a time (quadratic, small data). */
static void test_reference(void) {
    enum { N = 3000, NA = 3, NC = 25, NP = 18 };
    prefrec_rng r;
    prefrec_rng_init(&r, 42, 0);
    row_t *rows = malloc(N * sizeof *rows);
    char(*names)[3][16] = malloc(N * sizeof *names);
    char(*dates)[11] = malloc(N * sizeof *dates);
    int32_t base = D("2021-01-01");
    for (int i = 0; i < N; i++) {
        snprintf(names[i][0], 16, "A%02d", (int)prefrec_rng_below(&r, NA) + 1);
        snprintf(names[i][1], 16, "C%d", (int)prefrec_rng_below(&r, NC));
        /* skewed products so many pairs repeat */
        int pr = (int)prefrec_rng_below(&r, NP);
        if (prefrec_rng_below(&r, 2)) pr = pr % 5;
        snprintf(names[i][2], 16, "P%d", pr);
        prefrec_date_format(base + (int32_t)prefrec_rng_below(&r, 200), dates[i]);
        rows[i] = (row_t){names[i][0], names[i][1], names[i][2], dates[i]};
    }
    cat_t cats[NP];
    char cn[NP][8];
    static const char *catname[] = {"k0", "k1", "k2", NULL}; /* some products uncategorised */
    for (int k = 0; k < NP; k++) {
        snprintf(cn[k], 8, "P%d", k);
        cats[k] = (cat_t){cn[k], catname[k % 4]};
    }
    prefrec_dataset *ds = build(rows, N, cats, NP, 1);
    prefrec_score_params p = prefrec_score_default_params();
    p.asof_day = base + 150;
    prefrec_error err = {0};
    prefrec_scores *s = NULL;
    CHECK_EQ_INT(prefrec_scores_compute(ds, &p, -1, &s, &err), PREFREC_OK);
    const int32_t np = prefrec_dict_size(ds->products), nc = prefrec_dict_size(ds->customers);
    const int32_t na = prefrec_dict_size(ds->affiliates);
    /* occasions: distinct (a, c, p, day) before as-of */
    static uint8_t occ[NA][NC][NP][200];
    memset(occ, 0, sizeof occ);
    for (size_t i = 0; i < ds->n_rows; i++)
        if (ds->day[i] < p.asof_day)
            occ[ds->affiliate[i]][ds->customer[i]][ds->product[i]][ds->day[i] - base] = 1;
    double mean_iv[NA][NC][NP];
    int cnt[NA][NC][NP], first[NA][NC][NP], last[NA][NC][NP];
    size_t n_pairs = 0;
    for (int a = 0; a < na; a++)
        for (int c = 0; c < nc; c++)
            for (int q = 0; q < np; q++) {
                cnt[a][c][q] = 0;
                first[a][c][q] = last[a][c][q] = -1;
                for (int d = 0; d < 200; d++)
                    if (occ[a][c][q][d]) {
                        if (first[a][c][q] < 0) first[a][c][q] = d;
                        last[a][c][q] = d;
                        cnt[a][c][q]++;
                    }
                n_pairs += cnt[a][c][q] > 0;
                mean_iv[a][c][q] = cnt[a][c][q] >= 2
                    ? (double)(last[a][c][q] - first[a][c][q]) / (cnt[a][c][q] - 1)
                    : NAN;
            }
    CHECK_EQ_INT(s->n, n_pairs);
    size_t bad = 0, prev_ok = 1;
    for (size_t j = 0; j < s->n; j++) {
        int a = s->affiliate[j], c = s->customer[j], q = s->product[j];
        if (j > 0) {
            long long k0 =
                ((long long)s->affiliate[j - 1] * NC + s->customer[j - 1]) * NP + s->product[j - 1];
            long long k1 = ((long long)a * NC + c) * NP + q;
            prev_ok &= k0 < k1;
        }
        int32_t cat = ds->product_category[q];
        int tot = 0, in_cat = 0;
        for (int q2 = 0; q2 < np; q2++) {
            tot += cnt[a][c][q2];
            if (cat >= 0 && ds->product_category[q2] == cat) in_cat += cnt[a][c][q2];
        }
        double iv = mean_iv[a][c][q];
        if (isnan(iv)) {
            for (int c2 = 0; c2 < nc; c2++)
                for (int q2 = 0; q2 < np; q2++)
                    if (ds->product_category[q2] == cat && !isnan(mean_iv[a][c2][q2]) &&
                        (isnan(iv) || mean_iv[a][c2][q2] > iv))
                        iv = mean_iv[a][c2][q2];
            if (isnan(iv))
                for (int c2 = 0; c2 < nc; c2++)
                    for (int q2 = 0; q2 < np; q2++)
                        if (!isnan(mean_iv[a][c2][q2]) && (isnan(iv) || mean_iv[a][c2][q2] > iv))
                            iv = mean_iv[a][c2][q2];
        }
        int b = 0, cl = 0, rg = 0;
        for (int k = 0; k < 5; k++) {
            b += cnt[a][c][q] >= p.buy_cuts[k];
            if (cat >= 0) cl += (double)in_cat / tot >= p.clac_cuts[k];
            if (!isnan(iv)) rg += (p.asof_day - base - last[a][c][q]) / iv >= p.range_cuts[k];
        }
        double sc = cat >= 0 ? (2.0 * b + cl + rg) / 4 : (2.0 * b + rg) / 3;
        if (s->count[j] != cnt[a][c][q] || s->buy_level[j] != b || s->low_clac[j] != cl ||
            s->range_score[j] != rg || fabs(s->score[j] - sc) > 1e-6 ||
            s->last_day[j] != base + last[a][c][q] || s->first_day[j] != base + first[a][c][q])
            bad++;
    }
    CHECK(prev_ok);
    CHECK_EQ_INT(bad, 0);
    prefrec_scores_free(s);
    prefrec_dataset_free(ds);
    free(rows);
    free(names);
    free(dates);
}

int main(void) {
    test_worked();
    test_config();
    test_no_category();
    test_returns();
    test_reference();
    return check_report("test_score");
}
