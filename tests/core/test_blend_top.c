/* test_blend_top.c - the blend's top list without scoring the whole catalogue
 * (prefrec_blend_top, src/core/blend_top.c) gives the list of the full scoring
 * (prefrec_blend_score + prefrec_topk): the same products, in the same order, with bit-equal
 * scores and parts, over thousands of requests on synthetic catalogues with ties, negative
 * EASE weights, long-tail popularity, category bonuses that lift products from deep in the
 * catalogue, empty histories and large exclusions. Also: a hand-worked case, the packs the
 * index refuses (served by the full scoring then), and the engine's served lists from a pack.
 * Deterministic (prefrec_rng), the same in the three builds. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "big_pack.h"
#include "check.h"
#include "prefrec/blend.h"
#include "prefrec/engine.h"
#include "prefrec/rng.h"
#include "prefrec/topk.h"

/* ---- 1. hand-worked ---------------------------------------------------------------------
 * P = 5, M = 1, no categories; weights ease 1, pop 1, the rest 0, tiebreak 0. Every segment's
 * popularity is [0.1 0.5 0.2 0.4 0.3] (max 0.5, so pop = [0.2 1 0.4 0.8 0.6]); product 0's
 * only EASE neighbour is 4 with weight 2 (E[4] = 2 = max E, so i2i[4] = 1). History {0}:
 * scores 1: 1.0, 2: 0.4, 3: 0.8, 4: 0.6 + 1 = 1.6. Top 3: 4, 1, 3. Walk: the neighbour 4, then
 * by bound 1 (1.0) and 3 (0.8) fill the heap (k-th 0.8); the next bound is 4's (done) 0.6 <
 * 0.8: stop. Three products scored, 2 and 0 never. */
static void hand_worked(void) {
    enum { P = 5 };
    int32_t nbr[P] = {4, -1, -1, -1, -1};
    float ew[P] = {2, 0, 0, 0, 0}, kw[P] = {0}, all[P] = {0}, trend[P] = {0};
    static float seg[PREFREC_N_SEGMENTS * P];
    for (int s = 0; s < PREFREC_N_SEGMENTS; s++) {
        float row[P] = {0.1f, 0.5f, 0.2f, 0.4f, 0.3f};
        memcpy(seg + s * P, row, sizeof row);
    }
    prefrec_blend b = {P, 1,    nbr,  nbr,  ew,   kw,   seg,  trend, all, {1, 0, 1, 0, 0, 0, 0},
                       0, NULL, NULL, NULL, NULL, NULL, NULL, 0,     0};
    prefrec_blend_index ix;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_blend_index_build(&b, NULL, 0, NULL, 0, &ix, &err), PREFREC_OK);
    CHECK_EQ_INT(ix.ok, 1);
    CHECK_EQ_INT(ix.order[0], 1); /* bounds 1, 0.8, 0.6, 0.4, 0.2 */
    CHECK_EQ_INT(ix.order[4], 0);
    float ae[P], ak[P], i2i[P], pop[P], cat[P], share[1];
    uint8_t mark[P] = {0}, ex[P] = {1, 0, 0, 0, 0};
    prefrec_blend_top_scratch sc = {ae, ak, share, mark};
    prefrec_blend_parts parts = {i2i, pop, cat, 0, 0};
    prefrec_scored top[3];
    int32_t hist[1] = {0};
    size_t scored = 0;
    size_t m =
        prefrec_blend_top(&b, &ix, hist, 1, 0, NULL, 0, NULL, 0, ex, 3, &sc, &parts, top, &scored);
    CHECK_EQ_INT(m, 3);
    CHECK_EQ_INT(top[0].index, 4);
    CHECK_NEAR(top[0].score, 1.6, 1e-6);
    CHECK_EQ_INT(top[1].index, 1);
    CHECK_NEAR(top[1].score, 1.0, 1e-6);
    CHECK_EQ_INT(top[2].index, 3);
    CHECK_NEAR(top[2].score, 0.8, 1e-6);
    CHECK_EQ_INT(scored, 3);
    CHECK_NEAR(parts.i2i[4], 1.0, 0);
    CHECK_NEAR(parts.f_ease, 0.5, 0);
    prefrec_blend_index_free(&ix);
}

/* ---- 2. against the full scoring on random catalogues ----------------------------------- */
typedef struct world {
    int32_t P, M, n_cat, n_sub;
    int32_t *nbr_e, *nbr_k, *cat, *sub;
    float *ew, *kw, *seg, *trend, *all;
} world;

/* levels > 0: popularity takes only that many values (ties between products) */
static void world_make(world *w, int32_t P, int32_t M, int32_t n_cat, uint64_t seed, int levels) {
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 7);
    w->P = P, w->M = M, w->n_cat = n_cat, w->n_sub = 3 * n_cat;
    w->nbr_e = malloc((size_t)P * M * sizeof(int32_t));
    w->nbr_k = malloc((size_t)P * M * sizeof(int32_t));
    w->ew = malloc((size_t)P * M * sizeof(float));
    w->kw = malloc((size_t)P * M * sizeof(float));
    w->cat = malloc((size_t)P * sizeof(int32_t));
    w->sub = malloc((size_t)P * sizeof(int32_t));
    w->seg = malloc((size_t)PREFREC_N_SEGMENTS * P * sizeof(float));
    w->trend = malloc((size_t)P * sizeof(float));
    w->all = malloc((size_t)P * sizeof(float));
    for (int32_t p = 0; p < P; p++) {
        /* nested: subcategory u lies in category u % n_cat; every 50th product has neither */
        int32_t u = (int32_t)prefrec_rng_below(&r, (uint32_t)w->n_sub);
        w->sub[p] = p % 50 == 7 ? -1 : u;
        w->cat[p] = p % 50 == 7 ? -1 : u % n_cat;
        double tail = 1.0 / (1.0 + 0.02 * p); /* long tail by index, shuffled a little */
        double a = tail * (0.5 + prefrec_rng_double(&r));
        if (levels) a = floor(a * levels) / levels;
        w->all[p] = (float)a;
        w->trend[p] = (float)(levels ? floor(prefrec_rng_double(&r) * a * levels) / levels
                                     : prefrec_rng_double(&r) * a);
        for (int s = 0; s < PREFREC_N_SEGMENTS; s++) {
            double v = a * (0.3 + prefrec_rng_double(&r));
            w->seg[(size_t)s * P + p] = (float)(levels ? floor(v * levels) / levels : v);
        }
        for (int32_t q = 0; q < M; q++) {
            size_t i = (size_t)p * M + q;
            w->nbr_e[i] = q == M - 1 ? -1 : (int32_t)prefrec_rng_below(&r, (uint32_t)P);
            w->nbr_k[i] = (int32_t)prefrec_rng_below(&r, (uint32_t)P);
            w->ew[i] = w->nbr_e[i] < 0 ? 0.0f : (float)(prefrec_rng_double(&r) - 0.2) / (q + 1);
            w->kw[i] = (float)prefrec_rng_double(&r) / (q + 1);
        }
    }
}

static void world_free(world *w) {
    free(w->nbr_e), free(w->nbr_k), free(w->ew), free(w->kw), free(w->cat), free(w->sub);
    free(w->seg), free(w->trend), free(w->all);
}

static prefrec_blend world_blend(const world *w, const double wt[PREFREC_BW_COUNT], double tb) {
    prefrec_blend b = {w->P, w->M, w->nbr_e, w->nbr_k, w->ew, w->kw, w->seg, w->trend, w->all, {0},
                       tb,   NULL, NULL,     NULL,     NULL,  NULL,  NULL,   0,        0};
    memcpy(b.w, wt, sizeof b.w);
    return b;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Requests against the full scoring; returns the products scored over all of them. */
static uint64_t compare(const world *w, const prefrec_blend *b, int requests, uint64_t seed,
                        int *mismatches) {
    int32_t P = w->P;
    prefrec_blend_index ix;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_blend_index_build(b, w->cat, w->n_cat, w->sub, w->n_sub, &ix, &err),
                 PREFREC_OK);
    CHECK_EQ_INT(ix.ok, 1);
    float *i2i = malloc(P * sizeof *i2i), *pop = malloc(P * sizeof *pop),
          *cat = malloc(P * sizeof *cat), *tmp = malloc(P * sizeof *tmp),
          *out = malloc(P * sizeof *out), *fi = malloc(P * sizeof *fi),
          *fp = malloc(P * sizeof *fp), *fc = malloc(P * sizeof *fc), *ae = malloc(P * sizeof *ae),
          *ak = malloc(P * sizeof *ak),
          *share = malloc((size_t)(w->n_cat + w->n_sub) * sizeof *share);
    uint8_t *ex = malloc((size_t)P), *mark = malloc((size_t)P);
    int32_t *hist = malloc(400 * sizeof *hist);
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 11);
    uint64_t scored_all = 0;
    static const size_t ks[] = {1, 10, 30, 100};
    static const size_t hs[] = {0, 1, 5, 30, 300};
    for (int q = 0; q < requests; q++) {
        size_t n = hs[q % 5], k = ks[(q / 5) % 4];
        for (size_t i = 0; i < n; i++) hist[i] = (int32_t)prefrec_rng_below(&r, (uint32_t)P);
        qsort(hist, n, sizeof *hist, cmp_i32);
        size_t d = 0;
        for (size_t i = 0; i < n; i++)
            if (!d || hist[d - 1] != hist[i]) hist[d++] = hist[i];
        n = d;
        memset(ex, 0, (size_t)P);
        for (size_t i = 0; i < n; i++) ex[hist[i]] = 1;
        if (q % 7 == 3) /* a large exclusion: the popular head */
            for (int32_t p = 0; p < P / 3; p++) ex[p] = 1;
        int seg = (int)prefrec_rng_below(&r, PREFREC_N_SEGMENTS + 1) - (q % 11 == 0);
        prefrec_blend_parts full = {i2i, pop, cat, 0, 0};
        prefrec_blend_score(b, hist, n, seg, w->cat, w->n_cat, w->sub, w->n_sub, share, tmp, &full,
                            out);
        prefrec_scored want[100], got[100];
        size_t mw = prefrec_topk(out, (size_t)P, ex, k, want);
        memset(mark, 0, (size_t)P);
        prefrec_blend_top_scratch sc = {ae, ak, share, mark};
        prefrec_blend_parts fast = {fi, fp, fc, 0, 0};
        size_t scored = 0;
        size_t mg = prefrec_blend_top(b, &ix, hist, n, seg, w->cat, w->n_cat, w->sub, w->n_sub, ex,
                                      k, &sc, &fast, got, &scored);
        scored_all += scored;
        int same = mg == mw && fast.f_ease == full.f_ease && fast.f_knn == full.f_knn;
        for (size_t i = 0; same && i < mw; i++) {
            int32_t p = want[i].index;
            same = got[i].index == p && !memcmp(&got[i].score, &want[i].score, sizeof(float)) &&
                !memcmp(&fi[p], &i2i[p], 4) && !memcmp(&fp[p], &pop[p], 4) &&
                !memcmp(&fc[p], &cat[p], 4);
        }
        if (!same && (*mismatches)++ < 3)
            fprintf(stderr, "request %d (n %zu, k %zu, seg %d): lists differ (%zu vs %zu)\n", q, n,
                    k, seg, mg, mw);
    }
    free(i2i), free(pop), free(cat), free(tmp), free(out), free(fi), free(fp), free(fc);
    free(ae), free(ak), free(share), free(ex), free(mark), free(hist);
    prefrec_blend_index_free(&ix);
    return scored_all;
}

static void against_full(void) {
    /* weights: ease knn pop trend cat catpop subpop */
    static const double wts[][PREFREC_BW_COUNT] = {
        {1, 0.3, 0.3, 0.1, 0.1, 1, 1}, /* every part on (bench_engine's) */
        {1, 0.5, 0.2, 0, 0.1, 0, 0}, /* big_pack.h's */
        {0, 0, 1, 0, 0, 0, 0}, /* popularity only */
        {1, 0, 0.05, 0, 2, 0, 0}, /* a category bonus far above the popularity */
        {0.2, 0.2, 0.2, 0.2, 0.5, 3, 3}, /* the category parts weigh in through pop.all */
    };
    static const int levels[] = {0, 0, 4, 0, 8}; /* 4, 8: popularity in a few steps: ties */
    int mismatches = 0;
    for (size_t v = 0; v < sizeof wts / sizeof wts[0]; v++) {
        world w;
        world_make(&w, 3000, 12, 15, 100 + v, levels[v]);
        prefrec_blend b = world_blend(&w, wts[v], v == 2 ? 0 : 1e-6);
        int requests = 200;
        uint64_t scored = compare(&w, &b, requests, v, &mismatches);
        /* the point of it: far fewer products scored than the catalogue per request (the
         * tie-heavy and category-dominated cases walk more, still well under half) */
        printf("weights %zu: %.0f products scored per request of %d\n", v,
               (double)scored / requests, w.P);
        CHECK(scored < (uint64_t)requests * w.P / 2);
        world_free(&w);
    }
    CHECK_EQ_INT(mismatches, 0);
}

/* ---- 3. packs the bounds do not hold for: the index says so (ok = 0) --------------------- */
static void refused(void) {
    world w;
    world_make(&w, 200, 4, 5, 9, 0);
    static const double on[PREFREC_BW_COUNT] = {1, 0.3, 0.3, 0.1, 0.1, 1, 1};
    prefrec_blend_index ix;
    prefrec_error err = {0};
    prefrec_blend b = world_blend(&w, on, 1e-6);
    w.all[17] = -0.25f; /* a negative popularity */
    CHECK_EQ_INT(prefrec_blend_index_build(&b, w.cat, w.n_cat, w.sub, w.n_sub, &ix, &err), 0);
    CHECK_EQ_INT(ix.ok, 0);
    CHECK(ix.ub == NULL);
    w.all[17] = 0.25f;
    b.w[PREFREC_BW_CAT] = -0.1; /* a negative weight */
    CHECK_EQ_INT(prefrec_blend_index_build(&b, w.cat, w.n_cat, w.sub, w.n_sub, &ix, &err), 0);
    CHECK_EQ_INT(ix.ok, 0);
    b.w[PREFREC_BW_CAT] = 0.1;
    w.kw[5] = NAN; /* a weight that is not a number */
    CHECK_EQ_INT(prefrec_blend_index_build(&b, w.cat, w.n_cat, w.sub, w.n_sub, &ix, &err), 0);
    CHECK_EQ_INT(ix.ok, 0);
    w.kw[5] = 0.5f;
    w.cat[3] = (w.sub[3] + 1) % w.n_cat; /* subcategory of product 3 crosses into another */
    CHECK_EQ_INT(prefrec_blend_index_build(&b, w.cat, w.n_cat, w.sub, w.n_sub, &ix, &err), 0);
    CHECK_EQ_INT(ix.ok, 0);
    b.w[PREFREC_BW_SUBPOP] = 0; /* without the subcategory part that does not matter */
    CHECK_EQ_INT(prefrec_blend_index_build(&b, w.cat, w.n_cat, w.sub, w.n_sub, &ix, &err), 0);
    CHECK_EQ_INT(ix.ok, 1);
    prefrec_blend_index_free(&ix);
    world_free(&w);
}

/* ---- 4. the engine: served lists equal the full scores' top ------------------------------
 * big_pack.h's pack, 3,000 products, categories i % 20 and subcategories i % 60 (nested), 400
 * customers buying 12 each (popularity in 13 steps: many ties): each customer's recommend
 * (k 30 and 100) against prefrec_engine_score_all + prefrec_topk over the products they did
 * not buy. */
static void engine_lists(void) {
    bp_model m = bp_model_default();
    m.products = 3000;
    m.categories = 20;
    m.subcategories = 60;
    m.neighbors = 8;
    m.customers = 400;
    m.bought = 12;
    size_t len = 0;
    unsigned char *bytes = bp_item_pack(&m, &len);
    CHECK(bytes != NULL);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e, &err), PREFREC_OK);
    int32_t P = prefrec_engine_n_products(e);
    float *scores = malloc((size_t)P * sizeof *scores);
    uint8_t *ex = malloc((size_t)P);
    prefrec_response *rs = malloc(sizeof *rs);
    int bad = 0, checked = 0;
    for (int32_t c = 0; c < 400; c += 3) {
        char code[16];
        snprintf(code, sizeof code, "C%d", c);
        for (uint32_t k = 30; k <= 100; k += 70) {
            prefrec_request rq = prefrec_request_default();
            rq.customer = code;
            rq.k = k;
            if (prefrec_engine_recommend(e, &rq, rs, &err) ||
                prefrec_engine_score_all(e, &rq, scores, &err)) {
                bad++;
                continue;
            }
            /* big_pack.h: customer c bought products c * 12 .. c * 12 + 11 */
            memset(ex, 0, (size_t)P);
            for (uint32_t j = 0; j < m.bought; j++)
                ex[((uint32_t)c * m.bought + j) % (uint32_t)P] = 1;
            prefrec_scored want[100];
            size_t mw = prefrec_topk(scores, (size_t)P, ex, k, want);
            int same = rs->n == mw;
            for (size_t i = 0; same && i < mw; i++)
                same = rs->items[i].product == want[i].index &&
                    !memcmp(&rs->items[i].score, &want[i].score, sizeof(float));
            bad += !same;
            checked++;
        }
    }
    printf("engine: %d lists compared, %d differ\n", checked, bad);

    /* the NeuMF on the blend's top 300 never-bought products: every item is a candidate, in
     * the order and with the floats of the whole-catalogue NeuMF scores restricted to the
     * candidates (prefrec_model_score_some runs score_all's kernel) */
    int nbad = 0, nchecked = 0;
    float *nscores = malloc((size_t)P * sizeof *nscores);
    prefrec_scored *cand = malloc(300 * sizeof *cand);
    uint8_t *notc = malloc((size_t)P);
    for (int32_t c = 1; c < 400; c += 7) {
        char code[16];
        snprintf(code, sizeof code, "C%d", c);
        prefrec_request rq = prefrec_request_default();
        rq.customer = code;
        memset(ex, 0, (size_t)P);
        for (uint32_t j = 0; j < m.bought; j++) ex[((uint32_t)c * m.bought + j) % (uint32_t)P] = 1;
        rq.ranker = PREFREC_RANKER_BLEND;
        CHECK_EQ_INT(prefrec_engine_score_all(e, &rq, scores, &err), PREFREC_OK);
        size_t nc = prefrec_topk(scores, (size_t)P, ex, 300, cand);
        rq.ranker = PREFREC_RANKER_NEUMF;
        CHECK_EQ_INT(prefrec_engine_score_all(e, &rq, nscores, &err), PREFREC_OK);
        memset(notc, 1, (size_t)P);
        for (size_t i = 0; i < nc; i++) notc[cand[i].index] = 0;
        prefrec_scored want[30];
        size_t mw = prefrec_topk(nscores, (size_t)P, notc, 30, want);
        rq.candidates = 300;
        if (prefrec_engine_recommend(e, &rq, rs, &err)) {
            nbad++;
            continue;
        }
        int same = nc == 300 && rs->n == mw && rs->ranker == PREFREC_RANKER_NEUMF;
        for (size_t i = 0; same && i < mw; i++)
            same = rs->items[i].product == want[i].index &&
                !memcmp(&rs->items[i].score, &want[i].score, sizeof(float));
        if (!same)
            for (size_t i = 0; i < mw && i < rs->n; i++)
                if (rs->items[i].product != want[i].index)
                    fprintf(stderr, "%s %zu: %d %.9g vs %d %.9g\n", code, i, rs->items[i].product,
                            rs->items[i].score, want[i].index, want[i].score);
        nbad += !same;
        nchecked++;
    }
    printf("engine, NeuMF on 300 candidates: %d lists compared, %d differ\n", nchecked, nbad);
    CHECK(nchecked > 50);
    CHECK_EQ_INT(nbad, 0);
    /* bad uses: not the NeuMF, fewer candidates than k, more than the most */
    prefrec_request rq = prefrec_request_default();
    rq.customer = "C3";
    rq.candidates = 300;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, rs, &err), PREFREC_E_INVAL); /* default: blend */
    CHECK_CONTAINS(err.msg, "NeuMF");
    rq.ranker = PREFREC_RANKER_NEUMF;
    rq.candidates = 20; /* k 30 */
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, rs, &err), PREFREC_E_RANGE);
    CHECK_CONTAINS(err.msg, "candidates must be k (30) .. 10000, got 20");
    rq.candidates = PREFREC_MAX_CANDIDATES + 1;
    CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, rs, &err), PREFREC_E_RANGE);
    free(nscores), free(cand), free(notc);
    CHECK(checked > 200);
    CHECK_EQ_INT(bad, 0);
    free(scores), free(ex), free(rs);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
}

int main(void) {
    hand_worked();
    against_full();
    refused();
    engine_lists();
    return check_report("test_blend_top");
}
