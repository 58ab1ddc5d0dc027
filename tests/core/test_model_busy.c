/* test_model_busy.c - the product half of layer 1 (p1_row, src/core/model.c) when a row is
 * BUSY: another thread has claimed it and is still filling it. A caller that finds it so must
 * compute the row into its own scratch, never read the half-filled row nor write it, and get
 * the bits a READY row gives. Threads racing (tests/test_engine_threads.c) reach this path only
 * by chance; here the row is held BUSY by hand (model_internal.h) with a sentinel in it, for
 * each caller of p1_row: prefrec_model_score (scalar, the tiny pack's d = 2), score_all and
 * score_some (four lanes: d = 4, width 8) and the fold-in; and the tiny pack's version-2 twin
 * whose product.emb is q8r, where a row also holds the product's embedding, decoded by whoever
 * fills it (p1_stride = h1 + d). Portable: all builds. */
#include <stdlib.h>
#include <string.h>

#include "big_pack.h"
#include "check.h"
#include "core/model_internal.h"
#include "prefrec/model.h"
#include "tiny_pack.h"

#define SENTINEL 1000.0f /* a row holding it scores far off (clipped at 5) */

/* Hold product p's row BUSY with every value SENTINEL, as if a thread were filling it. */
static void hold_busy(prefrec_model *m, int32_t p) {
    float *row = m->p1 + (size_t)p * m->p1_stride;
    for (size_t j = 0; j < m->p1_stride; j++) row[j] = SENTINEL;
    atomic_store(&m->p1_state[p], P1_BUSY);
}

/* Still BUSY and every value of the row still SENTINEL. */
static int untouched(const prefrec_model *m, int32_t p) {
    const float *row = m->p1 + (size_t)p * m->p1_stride;
    int ok = atomic_load(&m->p1_state[p]) == P1_BUSY;
    for (size_t j = 0; j < m->p1_stride; j++) ok &= row[j] == SENTINEL;
    return ok;
}

static int same_bits(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* the tiny pack: scalar path (d = 2, h1 = 2, not a multiple of 4); variant 22: product.emb q8r */
static void tiny(int variant) {
    size_t len = 0;
    unsigned char *bytes = tiny_pack(&len, variant);
    prefrec_pack *pk = NULL;
    prefrec_model *ready = NULL, *busy = NULL;
    prefrec_user *ur = NULL, *ub = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_model_load(pk, &ready, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_model_load(pk, &busy, &err), PREFREC_OK);
    const float emb[2] = {0.5f, -1.0f};
    CHECK_EQ_INT(prefrec_user_new(ready, emb, 0.25f, 1, NAN, &ur, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_user_new(busy, emb, 0.25f, 1, NAN, &ub, &err), PREFREC_OK);
    CHECK_EQ_INT(atomic_load(&busy->p1_state[0]), P1_EMPTY); /* nothing filled at load */
    /* By hand, product 0 (v = (1, 0.5), bias 0.1) for this user (u = (0.5, -1), bias 0.25,
     * gender 1, age unknown: x = (0, 1, 0, 1)):
     *   c1 = W1[:, 0:2] u + W1[:, 4:8] x = (0.5 + 0.5, -1 + 1) = (1, 0)
     *   p1 = b1 + W1[:, 2:4] v = (0 + 1, 0.5 - 0.5) = (1, 0)
     *   relu(c1 + p1) = (2, 0); wg*u . v = 0.5*1 - 2*0.5 = -0.5
     *   y = b0 2 + 0.25 + 0.1 - 0.5 + wm . (2, 0) = 0.5*2 -> 2.85 */
    CHECK_EQ_U64(busy->p1_stride, variant == 22 ? 4 : 2);
    float want = prefrec_model_score(ready, ur, 0);
    if (variant == 2) CHECK(fabsf(want - 2.85f) < 1e-6f);
    if (variant == 22) CHECK(want > 0.0f && want < 5.0f);
    CHECK_EQ_INT(atomic_load(&ready->p1_state[0]), P1_READY);
    hold_busy(busy, 0);
    float got = prefrec_model_score(busy, ub, 0);
    CHECK(same_bits(&got, &want, 1));
    CHECK(untouched(busy, 0));
    /* every product, with product 0 still BUSY: the READY model's bits; the others fill */
    float a[P], b[P];
    prefrec_model_score_all(ready, ur, a);
    prefrec_model_score_all(busy, ub, b);
    CHECK(same_bits(a, b, P));
    CHECK(untouched(busy, 0));
    for (int32_t p = 1; p < P; p++) CHECK_EQ_INT(atomic_load(&busy->p1_state[p]), P1_READY);
    prefrec_user_free(ur), prefrec_user_free(ub);
    prefrec_model_free(ready), prefrec_model_free(busy);
    prefrec_pack_free(pk);
    free(bytes);
}

/* a generated pack with d = 4 and width 8: score_all and score_some take the four-lane path;
 * the fold-in reads rows through p1_row too */
static void lanes(void) {
    bp_model bm = bp_model_default(); /* 64 products, d 4, one layer of 8 */
    size_t len = 0;
    unsigned char *bytes = bp_item_pack(&bm, &len);
    prefrec_pack *pk = NULL;
    prefrec_model *ready = NULL, *busy = NULL;
    prefrec_user *ur = NULL, *ub = NULL;
    prefrec_error err = {0};
    CHECK(bytes != NULL);
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_model_load(pk, &ready, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_model_load(pk, &busy, &err), PREFREC_OK);
    int32_t n = prefrec_model_n_products(ready);
    CHECK_EQ_INT(n, 64);
    const float emb[4] = {0.5f, -0.25f, 1.0f, 0.75f};
    CHECK_EQ_INT(prefrec_user_new(ready, emb, 0.1f, 0, 30.0f, &ur, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_user_new(busy, emb, 0.1f, 0, 30.0f, &ub, &err), PREFREC_OK);
    float *a = malloc(64 * sizeof *a), *b = malloc(64 * sizeof *b);
    prefrec_model_score_all(ready, ur, a);
    int spread = 0; /* the scores are not all clipped alike, so a wrong row would show */
    for (int32_t p = 0; p < n; p++) spread += a[p] > 0.0f && a[p] < 5.0f;
    CHECK(spread > 32);
    hold_busy(busy, 5);
    hold_busy(busy, 40);
    prefrec_model_score_all(busy, ub, b);
    CHECK(same_bits(a, b, 64));
    CHECK(untouched(busy, 5));
    CHECK(untouched(busy, 40));
    const int32_t some[3] = {40, 7, 5};
    float s[3];
    prefrec_model_score_some(busy, ub, some, 3, s);
    CHECK(same_bits(&s[0], &a[40], 1) && same_bits(&s[1], &a[7], 1) && same_bits(&s[2], &a[5], 1));
    CHECK(untouched(busy, 5) && untouched(busy, 40));
    /* fold-in from a history holding the BUSY rows: the same user as on the READY model */
    const int32_t hist[3] = {5, 12, 40};
    prefrec_user *fr = NULL, *fb = NULL;
    CHECK_EQ_INT(prefrec_user_fold_in(ready, hist, 3, 1, 50.0f, &fr, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_user_fold_in(busy, hist, 3, 1, 50.0f, &fb, &err), PREFREC_OK);
    prefrec_model_score_all(ready, fr, a);
    prefrec_model_score_all(busy, fb, b);
    CHECK(same_bits(a, b, 64));
    CHECK(untouched(busy, 5) && untouched(busy, 40));
    free(a), free(b);
    prefrec_user_free(ur), prefrec_user_free(ub), prefrec_user_free(fr), prefrec_user_free(fb);
    prefrec_model_free(ready), prefrec_model_free(busy);
    prefrec_pack_free(pk);
    free(bytes);
}

int main(void) {
    tiny(2);
    tiny(22);
    lanes();
    return check_report("test_model_busy");
}
