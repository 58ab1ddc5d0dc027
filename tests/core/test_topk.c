/* test_topk.c - top-k against a brute-force selection (sort everything), ties and NaN. */
#include <stdlib.h>

#include "check.h"
#include "prefrec/rng.h"
#include "prefrec/topk.h"

static int cmp_before(const void *a, const void *b) {
    const prefrec_scored *x = a, *y = b;
    if (prefrec_scored_before(*x, *y)) return -1;
    if (prefrec_scored_before(*y, *x)) return 1;
    return 0;
}

int main(void) {
    /* hand case: ties broken by lower index, excluded skipped, NaN last */
    float s[8] = {0.5f, 2.0f, 2.0f, NAN, 1.0f, 2.0f, 3.0f, -1.0f};
    uint8_t ex[8] = {0, 0, 0, 0, 0, 0, 1, 0};
    prefrec_scored out[8];
    size_t m = prefrec_topk(s, 8, ex, 4, out);
    CHECK_EQ_INT(m, 4);
    CHECK_EQ_INT(out[0].index, 1);
    CHECK_EQ_INT(out[1].index, 2);
    CHECK_EQ_INT(out[2].index, 5);
    CHECK_EQ_INT(out[3].index, 4);
    m = prefrec_topk(s, 8, ex, 8, out);
    CHECK_EQ_INT(m, 7); /* one excluded */
    CHECK_EQ_INT(out[5].index, 7);
    CHECK_EQ_INT(out[6].index, 3); /* NaN ranks below -1 */
    CHECK_EQ_INT(prefrec_topk(s, 8, ex, 0, out), 0);
    CHECK_EQ_INT(prefrec_topk(s, 0, NULL, 3, out), 0);

    /* random cases against sorting all candidates; scores drawn from few values to force ties */
    prefrec_rng g;
    prefrec_rng_init(&g, 2022, 0);
    enum { N = 997 };
    static float sc[N];
    static uint8_t exc[N];
    static prefrec_scored all[N], got[64];
    unsigned long long digest = 1469598103934665603ull;
    int all_ok = 1;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + prefrec_rng_below(&g, N);
        size_t k = prefrec_rng_below(&g, 64);
        size_t na = 0;
        for (size_t i = 0; i < n; i++) {
            sc[i] = (float)prefrec_rng_below(&g, 20) * 0.25f;
            exc[i] = prefrec_rng_below(&g, 4) == 0;
            if (!exc[i]) all[na++] = (prefrec_scored){sc[i], (int32_t)i};
        }
        qsort(all, na, sizeof all[0], cmp_before);
        size_t want = na < k ? na : k;
        size_t m2 = prefrec_topk(sc, n, exc, k, got);
        all_ok &= m2 == want;
        for (size_t i = 0; i < want && i < m2; i++) {
            all_ok &= got[i].index == all[i].index && got[i].score == all[i].score;
            digest = (digest ^ (unsigned long long)got[i].index) * 1099511628211ull;
        }
    }
    CHECK(all_ok);
    printf("topk digest: %016llx\n", digest);

    /* streaming heap gives the same as the array form */
    prefrec_topk_heap h;
    prefrec_scored buf[3];
    prefrec_topk_heap_init(&h, buf, 3);
    for (int i = 0; i < 8; i++)
        if (!ex[i]) prefrec_topk_heap_push(&h, s[i], i);
    CHECK_EQ_INT(prefrec_topk_heap_finish(&h), 3);
    CHECK_EQ_INT(buf[0].index, 1);
    CHECK_EQ_INT(buf[2].index, 5);
    return check_report("test_topk");
}
