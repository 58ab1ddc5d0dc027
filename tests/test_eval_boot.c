/* test_eval_boot.c - the Poisson bootstrap of eval's intervals (src/eval/eval_boot.c): the
 * weights are Poisson(1) (mean, variance, P(0) = 1/e over many customers), depend only on (seed,
 * customer code, replicate), so the replicate sums are the same bits for any split of the
 * customers over "ranks" (sub-sums added, as the ranks' sums are added) and any order, and any
 * block of replicates; the interval of known cases. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval/eval_internal.h"
#include "prefrec/rng.h"

#define N_CUST 3000
#define N_REP 200

static uint64_t key_of(int c) {
    char code[32];
    int n = snprintf(code, sizeof code, "C%07d", c);
    return eval_boot_key(code, (size_t)n);
}

/* the weights: Poisson(1) over many (customer, replicate) draws; a function of its inputs */
static void test_weights(void) {
    const uint64_t seed = 42;
    int64_t n = 0, s = 0, s2 = 0, zeros = 0, ones = 0, twos = 0;
    int in_range = 1;
    for (int c = 0; c < 20000; c++) {
        uint64_t st = eval_boot_stream(seed, key_of(c));
        for (uint64_t b = 0; b < 50; b++) {
            int w = eval_boot_weight(st, b);
            in_range &= w >= 0 && w <= 40;
            n++;
            s += w;
            s2 += (int64_t)w * w;
            zeros += w == 0;
            ones += w == 1;
            twos += w == 2;
        }
    }
    CHECK(in_range);
    double mean = (double)s / (double)n, var = (double)s2 / (double)n - mean * mean;
    /* 10^6 draws: the mean's sd is 0.001, the variance's about 0.0017 */
    CHECK(fabs(mean - 1.0) < 0.005);
    CHECK(fabs(var - 1.0) < 0.01);
    CHECK(fabs((double)zeros / (double)n - exp(-1.0)) < 0.002); /* P(0) = P(1) = 1/e */
    CHECK(fabs((double)ones / (double)n - exp(-1.0)) < 0.002);
    CHECK(fabs((double)twos / (double)n - exp(-1.0) / 2) < 0.002);
    /* the same inputs, the same weight; the code, not where it is, decides */
    CHECK(eval_boot_key("C0000007", 8) == key_of(7));
    CHECK(eval_boot_key("C0000007", 8) != eval_boot_key("C0000008", 8));
    uint64_t a = eval_boot_stream(seed, key_of(7)), b = eval_boot_stream(seed + 1, key_of(7));
    int same = 0;
    for (uint64_t r = 0; r < 200; r++) {
        CHECK_EQ_INT(eval_boot_weight(a, r), eval_boot_weight(eval_boot_stream(42, key_of(7)), r));
        same += eval_boot_weight(a, r) == eval_boot_weight(b, r);
    }
    CHECK(same < 150); /* another seed, other weights (about 30% agree by chance) */
}

/* The replicate sums of customers [0, N_CUST) in the order ord, those with part[c] == rank only,
 * replicates [b0, b0 + nb) into num/den. */
static void sums(const int *ord, const int *part, int rank, const rank_fx *d, const int64_t *n,
                 uint64_t b0, int nb, rank_fx *num, rank_fx *den) {
    memset(num, 0, (size_t)nb * sizeof *num);
    memset(den, 0, (size_t)nb * sizeof *den);
    for (int i = 0; i < N_CUST; i++) {
        int c = ord[i];
        if (part && part[c] != rank) continue;
        uint8_t w[N_REP];
        eval_boot_weights(eval_boot_stream(9, key_of(c)), b0, nb, w);
        CHECK_EQ_INT(eval_boot_add(num, den, nb, w, d[c], n[c]), 0);
    }
}

/* the same sums for any split over ranks, any customer order, any block of replicates */
static void test_split(void) {
    static rank_fx d[N_CUST], num[N_REP], den[N_REP], rn[N_REP], rd[N_REP], pn[N_REP], pd[N_REP];
    static int64_t n[N_CUST];
    static int ord[N_CUST], part[N_CUST];
    prefrec_rng rng;
    prefrec_rng_init(&rng, 5, 0);
    for (int c = 0; c < N_CUST; c++) {
        n[c] = 1 + (int64_t)prefrec_rng_below(&rng, 4);
        /* a sum of n recall differences in [-1, 1], on the grid */
        double x = 0;
        for (int64_t k = 0; k < n[c]; k++) x += 2 * prefrec_rng_double(&rng) - 1;
        CHECK_EQ_INT(rank_fx_round(x, &d[c]), 0);
        ord[c] = c;
    }
    sums(ord, NULL, 0, d, n, 0, N_REP, num, den);
    for (int c = N_CUST - 1; c > 0; c--) { /* another order */
        int j = (int)prefrec_rng_below(&rng, (uint32_t)c + 1), t = ord[c];
        ord[c] = ord[j];
        ord[j] = t;
    }
    for (int ranks = 1; ranks <= 4; ranks++) {
        for (int c = 0; c < N_CUST; c++) part[c] = (int)(key_of(c) % (uint64_t)ranks);
        memset(rn, 0, sizeof rn);
        memset(rd, 0, sizeof rd);
        for (int r = ranks - 1; r >= 0; r--) { /* the ranks' sums added, any order */
            sums(ord, part, r, d, n, 0, N_REP, pn, pd);
            for (int b = 0; b < N_REP; b++) {
                CHECK_EQ_INT(rank_fx_add_fx(&rn[b], pn[b]), 0);
                CHECK_EQ_INT(rank_fx_add_fx(&rd[b], pd[b]), 0);
            }
        }
        int same = 1;
        for (int b = 0; b < N_REP; b++) same &= rn[b] == num[b] && rd[b] == den[b];
        CHECK(same);
    }
    /* replicates 150 .. 199 alone: the same as in the whole run */
    sums(ord, NULL, 0, d, n, 150, 50, pn, pd);
    int same = 1;
    for (int b = 0; b < 50; b++) same &= pn[b] == num[150 + b] && pd[b] == den[150 + b];
    CHECK(same);
    /* each replicate weighs about N_CUST customers' rows (2.5 each): mean weight about 1 */
    double rows = 0;
    for (int c = 0; c < N_CUST; c++) rows += (double)n[c];
    double mw = 0;
    for (int b = 0; b < N_REP; b++) mw += (double)(int64_t)den[b] / rows / N_REP;
    CHECK(fabs(mw - 1.0) < 0.01);
}

/* the interval of known cases */
static void test_interval(void) {
    /* percentiles: v = 39 .. 0 sorted, tail 40 / 40 = 1: v[1] and v[38] */
    double v[40];
    for (int i = 0; i < 40; i++) v[i] = 39 - i;
    double lo = 0, hi = 0;
    CHECK_EQ_INT(eval_boot_percentiles(v, 40, &lo, &hi), 0);
    CHECK(lo == 1.0 && hi == 38.0);
    CHECK_EQ_INT(eval_boot_percentiles(v, 0, &lo, &hi), -1);
    /* every customer's difference a quarter of its rows: every replicate's ratio is 0.25 */
    enum { B = 400 };
    static rank_fx num[B], den[B];
    static double r[B];
    memset(num, 0, sizeof num);
    memset(den, 0, sizeof den);
    for (int c = 0; c < 500; c++) {
        int64_t k = 1 + c % 3;
        rank_fx dd = 0;
        CHECK_EQ_INT(rank_fx_round(0.25 * (double)k, &dd), 0);
        uint8_t w[B];
        eval_boot_weights(eval_boot_stream(1, key_of(c)), 0, B, w);
        CHECK_EQ_INT(eval_boot_add(num, den, B, w, dd, k), 0);
    }
    int nv = 0;
    for (int b = 0; b < B; b++)
        if (den[b] > 0) r[nv++] = rank_fx_double(num[b]) / (double)(int64_t)den[b];
    CHECK_EQ_INT(nv, B);
    CHECK_EQ_INT(eval_boot_percentiles(r, nv, &lo, &hi), 0);
    CHECK(lo == 0.25 && hi == 0.25);
    /* half the customers +1 on one row, half 0: ratio 0.5, sd 0.5 / sqrt(m) = 0.0079 at m =
     * 4000, so the 95% interval is about 0.5 -+ 0.0155 */
    memset(num, 0, sizeof num);
    memset(den, 0, sizeof den);
    for (int c = 0; c < 4000; c++) {
        uint8_t w[B];
        eval_boot_weights(eval_boot_stream(3, key_of(c)), 0, B, w);
        CHECK_EQ_INT(eval_boot_add(num, den, B, w, (rank_fx)(c & 1) << 64, 1), 0);
    }
    for (int b = 0; b < B; b++) r[b] = rank_fx_double(num[b]) / (double)(int64_t)den[b];
    CHECK_EQ_INT(eval_boot_percentiles(r, B, &lo, &hi), 0);
    printf("known case: [%.4f, %.4f] (0.5 -+ 0.0155 expected)\n", lo, hi);
    CHECK(lo > 0.5 - 0.0155 * 1.3 && lo < 0.5 - 0.0155 * 0.7);
    CHECK(hi > 0.5 + 0.0155 * 0.7 && hi < 0.5 + 0.0155 * 1.3);
}

int main(void) {
    test_weights();
    test_split();
    test_interval();
    return check_report("test_eval_boot");
}
