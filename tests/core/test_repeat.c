/* test_repeat.c - the "buy again" score (prefrec/repeat.h) against hand-worked cases, its
 * errors, and the bits of a grid of cases printed for the native / wasm parity check. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "prefrec/repeat.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

int main(void) {
    prefrec_error err;
    prefrec_repeat_params p = {0.0f, 1.0f, 0.0f, 1.0f}; /* no decay, no rate */
    const int32_t milk[] = {100, 107, 114}, once[] = {120};
    prefrec_repeat_item it[2] = {{0, 3, milk}, {1, 1, once}};
    float s[2];
    prefrec_repeat_why why[2];

    /* milk as of day 125: freq = 3 days; interval (114 - 100) / 2 = 7, since 11;
     * r = 12 / 8 = 1.5, x = 1.5 - 1/1.5 = 0.8333, due = 1 / (1 + 0.69444) = 0.590164;
     * score = 3 * 1.590164 = 4.770492. once: freq 1, no interval, due 0: score 1. */
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, it, 2, s, why, &err), PREFREC_OK);
    CHECK_NEAR(s[0], 4.770492, 1e-5);
    CHECK_NEAR(s[1], 1.0, 0);
    CHECK_EQ_INT(why[0].n_days, 3);
    CHECK_EQ_INT(why[0].interval_days, 7);
    CHECK_EQ_INT(why[0].since_days, 11);
    CHECK_EQ_INT(why[1].n_days, 1);
    CHECK_EQ_INT(why[1].interval_days, 0);
    CHECK_EQ_INT(why[1].since_days, 5);

    /* due peaks when the days since equal the interval: as of 121, r = 8/8 = 1, due 1: 3 * 2 */
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 121, it, 1, s, NULL, &err), PREFREC_OK);
    CHECK_NEAR(s[0], 6.0, 0);
    /* and falls off the same way for twice and half the interval: r = 16/8 = 2 (as of 129) and
     * r = 4/8 = 0.5 (as of 117) both give x = +-1.5, due = 1 / 3.25: the same bits */
    float twice, half;
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 129, it, 1, &twice, NULL, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 117, it, 1, &half, NULL, &err), PREFREC_OK);
    CHECK_EQ_U64(bits(twice), bits(half));
    CHECK_NEAR(twice, 3.0 * (1.0 + 1.0 / 3.25), 1e-6);

    /* decay h = 10 as of 125: freq = 10/35 + 10/28 + 10/21 = 1.119048; times 1.590164 */
    p.half_life_days = 10.0f;
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, it, 1, s, NULL, &err), PREFREC_OK);
    CHECK_NEAR(s[0], 1.119048 * 1.590164, 1e-5);
    float decayed = s[0];

    /* the prior: 0.25 with beta 1 quarters the score, with beta 0.5 halves it (sqrt 0.25) */
    const float rate[2] = {0.25f, 1.0f};
    p.beta = 1.0f;
    CHECK_EQ_INT(prefrec_repeat_score(&p, rate, 2, 125, it, 1, s, NULL, &err), PREFREC_OK);
    CHECK_NEAR(s[0], decayed * 0.25, 1e-6);
    p.beta = 0.5f;
    CHECK_EQ_INT(prefrec_repeat_score(&p, rate, 2, 125, it, 1, s, NULL, &err), PREFREC_OK);
    CHECK_NEAR(s[0], decayed * 0.5, 1e-6);
    /* prior: 3 rebuyers where the most rebought product has 9 -> 4 / 10 */
    CHECK_NEAR(prefrec_repeat_prior(3, 9), 0.4, 1e-7);
    CHECK_NEAR(prefrec_repeat_prior(0, 0), 1.0, 0);

    /* errors name the item */
    const int32_t unsorted[] = {107, 100}, dup[] = {100, 100}, late[] = {100, 125};
    prefrec_repeat_item bad[1] = {{0, 2, unsorted}};
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, bad, 1, s, NULL, &err), PREFREC_E_INVAL);
    CHECK(strstr(err.msg, "item 0") != NULL);
    bad[0].days = dup;
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, bad, 1, s, NULL, &err), PREFREC_E_INVAL);
    bad[0].days = late; /* a day not before the request's day */
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, bad, 1, s, NULL, &err), PREFREC_E_INVAL);
    bad[0] = (prefrec_repeat_item){2, 1, once}; /* product outside 0..1 */
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, bad, 1, s, NULL, &err), PREFREC_E_INVAL);
    CHECK(strstr(err.msg, "product 2 outside 0..1") != NULL);
    bad[0] = (prefrec_repeat_item){0, 0, once};
    CHECK_EQ_INT(prefrec_repeat_score(&p, NULL, 2, 125, bad, 1, s, NULL, &err), PREFREC_E_INVAL);
    prefrec_repeat_params q = p;
    q.beta = 0.3f;
    CHECK_EQ_INT(prefrec_repeat_score(&q, NULL, 2, 125, it, 1, s, NULL, &err), PREFREC_E_INVAL);
    q = p;
    q.due_width = 0.0f;
    CHECK_EQ_INT(prefrec_repeat_score(&q, NULL, 2, 125, it, 1, s, NULL, &err), PREFREC_E_INVAL);

    /* the bits of a grid of cases, compared between the native and wasm builds (test.sh) */
    const float hs[] = {0.0f, 7.0f, 30.0f, 90.0f, 365.0f}, ws[] = {0.0f, 0.5f, 2.0f},
                betas[] = {0.0f, 0.5f, 1.0f};
    const float rates[2] = {0.37f, 0.91f};
    uint32_t h32 = 2166136261u, n_scores = 0;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++)
                for (int32_t asof = 115; asof < 200; asof += 3) {
                    prefrec_repeat_params g = {hs[a], ws[b], betas[c], 0.7f};
                    CHECK_EQ_INT(prefrec_repeat_score(&g, rates, 2, asof, it, asof > 120 ? 2 : 1, s,
                                                      NULL, &err),
                                 PREFREC_OK);
                    for (int i = 0; i < (asof > 120 ? 2 : 1); i++) {
                        uint32_t u = bits(s[i]);
                        n_scores++;
                        for (int k = 0; k < 4; k++)
                            h32 = (h32 ^ ((u >> (8 * k)) & 0xff)) * 16777619u;
                    }
                }
    printf("repeat: bits of %u scores hash to %08x\n", (unsigned)n_scores, (unsigned)h32);
    return check_report("test_repeat");
}
