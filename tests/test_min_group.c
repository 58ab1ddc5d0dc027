/* test_min_group.c - the served blend's aggregates rest on at least min_group members
 * (blend_export.h, PREFREC_BLEND_MIN_GROUP; SECURITY.md "Residual risks"), on a hand-made case:
 *
 *   segment (prefrec_segment)   members  buy              in the window
 *   F 30s (2*11+3 = 25)         12       P0, P1
 *   F 20s (2*11+2 = 24)         10       P1, P5
 *   M 40s (1*11+4 = 15)          3       P0, P2
 *   M 70s (1*11+7 = 18)          1       P3, P4          (the one member who bought P3 and P4)
 *
 * 26 active customers; buyers P0 15, P1 22, P2 3, P3 1, P4 1, P5 10. Bought together: P0+P1 12,
 * P1+P5 10, P0+P2 3, P3+P4 1. With min_group 10: segments 15 (3) and 18 (1) are under 10, and
 * together 4 < 10, so the smallest further segment (24, 10 members) is suppressed too (14 >= 10):
 * 3 of 4 segments serve the overall row (buyers / 26), segment 25 keeps its smoothed row
 * ((bought + 50 overall) / (12 + 50)). Neighbour pairs bought together by fewer than 10 (P0-P2,
 * P3-P4) are not served, P0-P1 (12) and P1-P5 (10) are. With min_group 0 everything is served. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"

static prefrec_dataset *make_case(void) {
    static const struct {
        int n, gender;
        float age;
        const char *a, *b;
    } groups[] = {{12, PREFREC_GENDER_FEMALE, 35, "P0", "P1"},
                  {10, PREFREC_GENDER_FEMALE, 25, "P1", "P5"},
                  {3, PREFREC_GENDER_MALE, 45, "P0", "P2"},
                  {1, PREFREC_GENDER_MALE, 70, "P3", "P4"}};
    prefrec_dataset *ds = prefrec_dataset_new(2 * 26);
    if (!ds) return NULL;
    size_t r = 0;
    int c = 0;
    for (int p = 0; p < 6; p++) { /* products 0..5 in index order */
        char code[4] = {'P', (char)('0' + p), 0};
        prefrec_dict_intern(ds->products, code, 2);
    }
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (int k = 0; k < groups[g].n; k++, c++) {
            char code[16];
            snprintf(code, sizeof code, "C%02d", c);
            int32_t id = prefrec_dict_intern(ds->customers, code, strlen(code));
            for (int j = 0; j < 2; j++, r++) {
                const char *p = j ? groups[g].b : groups[g].a;
                ds->customer[r] = id;
                ds->product[r] = prefrec_dict_find(ds->products, p, 2);
                ds->affiliate[r] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
                ds->day[r] = 100 + (int)r % 7;
            }
        }
    prefrec_error err = {0};
    if (prefrec_dataset_finish(ds, &err)) {
        fprintf(stderr, "finish: %s\n", err.msg);
        prefrec_dataset_free(ds);
        return NULL;
    }
    ds->has_demographics = 1;
    c = 0;
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (int k = 0; k < groups[g].n; k++, c++) {
            ds->gender[c] = (int8_t)groups[g].gender;
            ds->age[c] = groups[g].age;
        }
    return ds;
}

/* 1 if product t is in row h of a served neighbour list */
static int listed(const int32_t *nbr, int32_t m, int32_t h, int32_t t) {
    for (int32_t r = 0; r < m; r++)
        if (nbr[(size_t)h * m + r] == t) return 1;
    return 0;
}

static const int co[6][6] = {
    /* bought together, from the table above */
    {15, 12, 3, 0, 0, 0}, {12, 22, 0, 0, 0, 10}, {3, 0, 3, 0, 0, 0},
    {0, 0, 0, 1, 1, 0},   {0, 0, 0, 1, 1, 0},    {0, 10, 0, 0, 0, 10}};

static void build(const prefrec_dataset *ds, const prefrec_interactions *x, int32_t min_group,
                  prefrec_blend_tensors *t) {
    prefrec_blend_params bp = prefrec_blend_default_params();
    bp.tune = 0;
    prefrec_fit_input in = {ds, x, 1, 42, 0, min_group, NULL};
    prefrec_error err = {0};
    void *bm = NULL;
    CHECK_EQ_INT(prefrec_ranker_blend.fit(&in, &bp, &bm, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_blend_tensors_build(bm, ds, x, NULL, 6, 4, min_group, t, &err),
                 PREFREC_OK);
    prefrec_ranker_blend.free(bm);
}

int main(void) {
    prefrec_dataset *ds = make_case();
    CHECK(ds != NULL);
    if (!ds) return check_report("test_min_group");
    prefrec_interactions *x = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_interactions_build(ds, 0, 0, 1000, &x, &err), PREFREC_OK);
    CHECK_EQ_INT(x->n_buyers[3], 1);

    prefrec_blend_tensors t, t0;
    build(ds, x, 10, &t);
    build(ds, x, 0, &t0);
    const int32_t P = 6, seg25 = 25, seg24 = 24, seg15 = 15, seg18 = 18;
    CHECK_EQ_INT(t.min_group, 10);
    CHECK_EQ_INT(t0.min_group, 0);
    CHECK_EQ_INT(t.seg_nonempty, 4);
    CHECK_EQ_INT(t.seg_suppressed, 3);
    CHECK_EQ_INT(t0.seg_suppressed, 0);
    static const double buyers[6] = {15, 22, 3, 1, 1, 10};
    for (int32_t p = 0; p < P; p++) {
        double overall = buyers[p] / 26.0;
        /* suppressed segments: the overall row, so the lone M 70s member's P3 is 1/26 as for
         * anyone; unserved segments (no member) were the overall row already */
        CHECK_NEAR(t.pop_seg[(size_t)seg18 * P + p], overall, 1e-6);
        CHECK_NEAR(t.pop_seg[(size_t)seg15 * P + p], overall, 1e-6);
        CHECK_NEAR(t.pop_seg[(size_t)seg24 * P + p], overall, 1e-6);
        CHECK_NEAR(t.pop_seg[(size_t)0 * P + p], overall, 1e-6);
        /* the served segment: (bought in F 30s + 50 overall) / 62 */
        double in25 = p == 0 || p == 1 ? 12 : 0;
        CHECK_NEAR(t.pop_seg[(size_t)seg25 * P + p], (in25 + 50 * overall) / 62.0, 1e-6);
        CHECK_NEAR(t0.pop_seg[(size_t)seg25 * P + p], (in25 + 50 * overall) / 62.0, 1e-6);
    }
    /* without the rule the lone member's segment row gives them away: P3 (1 + 50/26) / 51 */
    CHECK_NEAR(t0.pop_seg[(size_t)seg18 * P + 3], (1 + 50 / 26.0) / 51.0, 1e-6);
    /* ... as against overall, 1.49 x for P3 (1 + 50/26) / 51 / (1/26), 0.98 x (50/51) for P0 */
    CHECK(t0.pop_seg[(size_t)seg18 * P + 3] * 26.0 > 1.45 &&
          t0.pop_seg[(size_t)seg18 * P + 0] * 26.0 / 15.0 < 0.99);

    /* neighbour lists: no served entry rests on fewer than 10 co-buyers */
    int64_t served = 0;
    for (int32_t h = 0; h < P; h++)
        for (int32_t r = 0; r < t.m; r++) {
            int32_t e = t.ease_nbr[(size_t)h * t.m + r], k = t.knn_nbr[(size_t)h * t.m + r];
            if (e >= 0) {
                CHECK(co[h][e] >= 10);
                served++;
            }
            if (k >= 0) {
                CHECK(co[h][k] >= 10);
                served++;
            }
        }
    CHECK(listed(t.knn_nbr, t.m, 0, 1) && listed(t.knn_nbr, t.m, 1, 0));
    CHECK(listed(t.knn_nbr, t.m, 1, 5) && listed(t.knn_nbr, t.m, 5, 1)); /* exactly 10 */
    CHECK(!listed(t.knn_nbr, t.m, 3, 4) && !listed(t.knn_nbr, t.m, 0, 2));
    for (int32_t r = 0; r < t.m; r++) CHECK_EQ_INT(t.knn_nbr[(size_t)3 * t.m + r], -1);
    /* ItemKNN lists 8 pairs (4 products pairs, both ways): 4 kept, 4 dropped */
    CHECK(listed(t0.knn_nbr, t0.m, 3, 4) && listed(t0.knn_nbr, t0.m, 0, 2));
    CHECK_EQ_INT(t.pairs_kept, served);
    CHECK(t.pairs_dropped >= 4);
    CHECK_EQ_INT(t0.pairs_dropped, 0);

    /* the whole window under min_group: every segment serves the overall row */
    prefrec_blend_tensors t2;
    build(ds, x, 27, &t2);
    CHECK_EQ_INT(t2.seg_suppressed, 4);
    CHECK_NEAR(t2.pop_seg[(size_t)seg25 * P + 0], 15 / 26.0, 1e-6);

    prefrec_blend_tensors_free(&t);
    prefrec_blend_tensors_free(&t0);
    prefrec_blend_tensors_free(&t2);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
    return check_report("test_min_group");
}
