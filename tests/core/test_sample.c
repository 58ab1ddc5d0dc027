/* test_sample.c - weighted sampling and affiliate choice: exact probabilities computed in the
 * test (independent route) against frequencies over many seeds, with chi-square bounds. */
#include <stdint.h>

#include "check.h"
#include "prefrec/sample.h"

/* chi-square critical values at p = 0.001 */
#define CHI2_DF4 18.47
#define CHI2_DF19 43.82

int main(void) {
    const prefrec_scored items[5] = {{4.0f, 10}, {3.0f, 11}, {2.0f, 12}, {1.0f, 13}, {0.5f, 14}};
    const double W = 10.5;
    enum { RUNS = 40000 };

    /* one pick: P(i) = w_i / W */
    int first[5] = {0};
    int pair[5][5] = {{0}};
    for (uint64_t seed = 0; seed < RUNS; seed++) {
        size_t pos[2];
        CHECK_EQ_INT(prefrec_sample_top(items, 5, 2, seed, pos), 2);
        first[pos[0]]++;
        pair[pos[0]][pos[1]]++;
    }
    double chi = 0;
    for (int i = 0; i < 5; i++) {
        double e = RUNS * items[i].score / W;
        chi += (first[i] - e) * (first[i] - e) / e;
    }
    printf("first pick chi2 = %.2f (df 4, bound %.2f)\n", chi, CHI2_DF4);
    CHECK(chi < CHI2_DF4);

    /* ordered pairs without replacement: P(i, j) = w_i/W * w_j/(W - w_i) */
    chi = 0;
    int never_same = 1;
    for (int i = 0; i < 5; i++) {
        never_same &= pair[i][i] == 0;
        for (int j = 0; j < 5; j++) {
            if (i == j) continue;
            double e = RUNS * (items[i].score / W) * (items[j].score / (W - items[i].score));
            chi += (pair[i][j] - e) * (pair[i][j] - e) / e;
        }
    }
    printf("pair chi2 = %.2f (df 19, bound %.2f)\n", chi, CHI2_DF19);
    CHECK(never_same);
    CHECK(chi < CHI2_DF19);

    /* all picks: a permutation; same seed -> same draw */
    size_t a[5], b[5];
    CHECK_EQ_INT(prefrec_sample_top(items, 5, 9, 77, a), 5);
    prefrec_sample_top(items, 5, 5, 77, b);
    int seen = 0, same = 1;
    for (int i = 0; i < 5; i++) {
        seen |= 1 << a[i];
        same &= a[i] == b[i];
    }
    CHECK_EQ_INT(seen, 31);
    CHECK(same);
    printf("seed 77 order: %zu %zu %zu %zu %zu\n", a[0], a[1], a[2], a[3], a[4]);

    /* zero and NaN weights are drawn only after every positive one, then uniformly */
    const prefrec_scored z[4] = {{0.0f, 0}, {NAN, 1}, {2.0f, 2}, {-1.0f, 3}};
    int zero_counts[4] = {0};
    for (uint64_t seed = 0; seed < 3000; seed++) {
        size_t p[4];
        prefrec_sample_top(z, 4, 4, seed, p);
        CHECK_EQ_INT(p[0], 2);
        zero_counts[p[1]]++;
    }
    CHECK_EQ_INT(zero_counts[2], 0);
    for (int i = 0; i < 4; i++)
        if (i != 2) CHECK(zero_counts[i] > 850 && zero_counts[i] < 1150);

    /* affiliate by share, the deck's example: A03 0.64, A02 0.26, A01 0.09, A04 0.007 */
    const double share[6] = {0.09, 0.26, 0.64, 0.007, 0.0, 0.0};
    const double total = 0.997;
    int hits[6] = {0};
    for (uint64_t seed = 0; seed < RUNS; seed++) hits[prefrec_sample_index(share, 6, seed)]++;
    chi = 0;
    for (int i = 0; i < 4; i++) {
        double e = RUNS * share[i] / total;
        chi += (hits[i] - e) * (hits[i] - e) / e;
    }
    printf("affiliate chi2 = %.2f (df 3, bound 16.27); hits %d %d %d %d\n", chi, hits[0], hits[1],
           hits[2], hits[3]);
    CHECK(chi < 16.27);
    CHECK_EQ_INT(hits[4] + hits[5], 0);
    const double none[3] = {0, 0, NAN};
    CHECK_EQ_INT(prefrec_sample_index(none, 3, 1), -1);
    CHECK_EQ_INT(prefrec_sample_index(share, 0, 1), -1);
    return check_report("test_sample");
}
