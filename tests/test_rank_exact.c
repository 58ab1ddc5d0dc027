/* test_rank_exact.c - the exact sums of the sharded fits (src/rank/rank_exact.h): each term
 * rounded once to the grid 2^-64, the integers added. The sum has the same bits in any order
 * and split over "ranks" (sub-sums added through the wire's limbs), where plain double sums
 * do not; terms on the grid sum to the integer sum; out-of-range terms and sums are errors. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "prefrec/rng.h"
#include "rank/rank_exact.h"

#define N_TERMS 20000

static int same_fx(rank_fx a, rank_fx b) {
    int64_t la[2], lb[2];
    rank_fx_to_limbs(a, la);
    rank_fx_to_limbs(b, lb);
    return la[0] == lb[0] && la[1] == lb[1];
}

int main(void) {
    /* the grid: known values, limbs, ties to even */
    rank_fx v = 0;
    int64_t limb[2];
    CHECK_EQ_INT(rank_fx_round(1.5, &v), 0);
    rank_fx_to_limbs(v, limb);
    CHECK_EQ_INT(limb[0], 1);
    CHECK_EQ_U64((uint64_t)limb[1], 0x8000000000000000ull);
    CHECK(rank_fx_double(v) == 1.5);
    CHECK_EQ_INT(rank_fx_round(-0.25, &v), 0);
    rank_fx_to_limbs(v, limb);
    CHECK_EQ_INT(limb[0], -1);
    CHECK_EQ_U64((uint64_t)limb[1], 0xc000000000000000ull);
    CHECK(same_fx(rank_fx_from_limbs(limb), v));
    CHECK(rank_fx_double(v) == -0.25);
    CHECK_EQ_INT(rank_fx_round(0x1p-65, &v), 0); /* half a unit: to 0 (even) */
    CHECK(v == 0);
    CHECK_EQ_INT(rank_fx_round(3 * 0x1p-65, &v), 0); /* 1.5 units: to 2 */
    CHECK(v == 2);
    CHECK_EQ_INT(rank_fx_round(-3 * 0x1p-65, &v), 0); /* -1.5 units: to -2 */
    CHECK(v == -2);
    CHECK_EQ_INT(rank_fx_round(-1.0 - 0x1p-52, &v), 0); /* negative: all its bits kept */
    CHECK(v == -(((rank_fx)1 << 64) + ((rank_fx)1 << 12)));
    CHECK_EQ_INT(rank_fx_round(-0x1p-60 * 5, &v), 0);
    CHECK(v == -80);
    CHECK_EQ_INT(rank_fx_round(0x1p-70, &v), 0); /* below half a unit: 0 */
    CHECK(v == 0);
    CHECK_EQ_INT(rank_fx_round(1.0 - 0x1p-53, &v), 0); /* exact on the grid: no carry lost */
    CHECK(rank_fx_double(v) == 1.0 - 0x1p-53);

    /* terms of very different sizes, signs and exponents */
    static double t[N_TERMS];
    prefrec_rng r;
    prefrec_rng_init(&r, 19, 0);
    for (int i = 0; i < N_TERMS; i++) {
        double e = (double)((int)prefrec_rng_below(&r, 40) - 20);
        t[i] = (prefrec_rng_double(&r) - 0.5) * pow(2.0, e);
    }
    rank_fx fwd = 0, rev = 0, shuf = 0;
    double dfwd = 0, dshuf = 0;
    int rc = 0;
    for (int i = 0; i < N_TERMS; i++) rc |= rank_fx_add(&fwd, t[i]), dfwd += t[i];
    for (int i = N_TERMS - 1; i >= 0; i--) rc |= rank_fx_add(&rev, t[i]);
    static double u[N_TERMS];
    for (int i = 0; i < N_TERMS; i++) u[i] = t[i];
    for (int i = N_TERMS - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)prefrec_rng_below(&r, (uint32_t)i + 1);
        double s = u[i];
        u[i] = u[j], u[j] = s;
    }
    for (int i = 0; i < N_TERMS; i++) rc |= rank_fx_add(&shuf, u[i]), dshuf += u[i];
    CHECK_EQ_INT(rc, 0);
    CHECK(same_fx(fwd, rev));
    CHECK(same_fx(fwd, shuf));
    CHECK(rank_fx_double(fwd) == rank_fx_double(shuf));
    CHECK(dfwd != dshuf); /* what the grid is for: the plain sums differ with the order */
    CHECK_NEAR(rank_fx_double(fwd), dfwd, 1e-6); /* |sum| ~ 5e6 */

    /* split over 3 "ranks" at uneven cuts: each sub-sum through the wire's limbs, then added */
    int cut[4] = {0, 137, 12345, N_TERMS};
    rank_fx total = 0;
    for (int k = 0; k < 3; k++) {
        rank_fx part = 0;
        for (int i = cut[k]; i < cut[k + 1]; i++) rc |= rank_fx_add(&part, u[i]);
        rank_fx_to_limbs(part, limb);
        rc |= rank_fx_add_fx(&total, rank_fx_from_limbs(limb));
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(same_fx(total, fwd));

    /* terms on the grid (multiples of 2^-40 here): the sum is the integer sum, exactly */
    rank_fx g = 0;
    int64_t isum = 0;
    for (int i = 0; i < N_TERMS; i++) {
        int64_t k = (int64_t)prefrec_rng_below(&r, 1u << 30) - (1 << 29);
        isum += k;
        rc |= rank_fx_add(&g, ldexp((double)k, -40));
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(g == (rank_fx)isum * ((rank_fx)1 << 24));

    /* the fast form (two int64 lanes, flushed): the same integers as one term at a time, for
     * terms up to its bound, ties included */
    rank_fx slow = 0, fast = 0;
    int64_t h = 0, l = 0;
    for (int i = 0; i < N_TERMS; i++) {
        double e = (double)((int)prefrec_rng_below(&r, 84) - 66);
        double x = (prefrec_rng_double(&r) - 0.5) * pow(2.0, e);
        if (i % 7 == 0) x = ldexp((double)((int64_t)prefrec_rng_below(&r, 1u << 20) * 2 + 1), -65);
        if (i % 11 == 0) x = -x;
        if (i == 5) x = RANK_FX_FAST_MAX - 0x1p-30;
        if (i == 6) x = -(RANK_FX_FAST_MAX - 0x1p-30);
        rank_fx one_term = 0, lane_term = 0;
        int64_t h1 = 0, l1 = 0;
        rc |= rank_fx_add(&one_term, x);
        rank_fx_split(x, &h1, &l1);
        rc |= rank_fx_flush(&lane_term, h1, l1);
        if (!same_fx(one_term, lane_term)) rc |= 2;
        rc |= rank_fx_add(&slow, x);
        rank_fx_split(x, &h, &l);
        if ((i + 1) % RANK_FX_FAST_TERMS == 0) rc |= rank_fx_flush(&fast, h, l), h = l = 0;
    }
    rc |= rank_fx_flush(&fast, h, l);
    CHECK_EQ_INT(rc, 0);
    CHECK(same_fx(slow, fast));

    /* one process: the reduction over the ranks is the identity */
    rank_fx one[2] = {fwd, g};
    CHECK_EQ_INT(rank_fx_sum_dist(NULL, one, 2), 0);
    CHECK(same_fx(one[0], fwd) && same_fx(one[1], g));

    /* out of range: the term (|t| >= 2^62, not finite) or the sum (|s| >= 2^63); acc unchanged */
    rank_fx acc = 7;
    CHECK_EQ_INT(rank_fx_add(&acc, 0x1p62), -1);
    CHECK_EQ_INT(rank_fx_add(&acc, -0x1p62), -1);
    CHECK_EQ_INT(rank_fx_add(&acc, INFINITY), -1);
    CHECK_EQ_INT(rank_fx_add(&acc, NAN), -1);
    CHECK_EQ_INT(rank_fx_add(&acc, 1e300), -1);
    CHECK(acc == 7);
    double big = 0x1p62 - 0x1p9; /* the largest double below 2^62 */
    acc = 0;
    CHECK_EQ_INT(rank_fx_add(&acc, big), 0);
    CHECK_EQ_INT(rank_fx_add(&acc, big), 0); /* 2^63 - 2^10 < 2^63 */
    rank_fx before = acc;
    CHECK_EQ_INT(rank_fx_add(&acc, big), -1); /* would pass 2^63: an error, not a wrap */
    CHECK(same_fx(acc, before));
    CHECK(rank_fx_double(acc) == 0x1p63 - 0x1p10);
    acc = 0;
    CHECK_EQ_INT(rank_fx_add(&acc, -big), 0);
    CHECK_EQ_INT(rank_fx_add(&acc, -big), 0);
    CHECK_EQ_INT(rank_fx_add(&acc, -big), -1);
    CHECK(rank_fx_double(acc) == -0x1p63 + 0x1p10);
    return check_report("test_rank_exact");
}
