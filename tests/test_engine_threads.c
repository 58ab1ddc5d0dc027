/* test_engine_threads.c - one engine shared by threads: answers equal the single-threaded ones
 * (the engine is immutable after prefrec_engine_new but for the NeuMF's product half of layer 1,
 * a cache filled row by row on first use; every request has its own scratch). Run twice: on the
 * engine whose rows the single-threaded pass filled, and on a fresh engine whose rows the two
 * threads race to fill. Whether a thread finds a row BUSY here is chance: that path is held
 * open by hand in tests/core/test_model_busy.c. Both for the f32 pack and for its version-2
 * twin, whose product embeddings (q8r) are decoded a row at a time into those rows, and whose
 * f16 / q8r / q4r views prefrec_pack_get decodes on first use: two threads ask a fresh pack
 * for the same view at once and get the values prefrec_pack_row_f32 gives. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tiny_pack.h"
#include "prefrec/engine.h"

#define REQS 600
static prefrec_engine *engine;
static prefrec_response expect[REQS];

static void make_request(int i, prefrec_request *rq, int32_t *hist) {
    static const char *const codes[3] = {"C0", "C1", NULL};
    *rq = prefrec_request_default();
    rq->customer = codes[i % 3];
    rq->ranker = i % 2 ? PREFREC_RANKER_NEUMF : PREFREC_RANKER_DEFAULT;
    rq->k = 1 + (uint32_t)(i % 4);
    rq->sample = (uint32_t)(i % 3);
    rq->seed = (uint64_t)i;
    if (!rq->customer) { /* history fold-in */
        hist[0] = i % 6;
        hist[1] = (i / 6) % 6;
        rq->history = hist;
        rq->n_history = 2;
        rq->gender = i % 2;
        rq->age = 20.0f + (float)(i % 50);
    }
}

static void *worker(void *arg) {
    int t = (int)(intptr_t)arg, bad = 0;
    prefrec_response rs;
    prefrec_error err = {0};
    for (int i = t; i < REQS; i += 2) {
        prefrec_request rq;
        int32_t hist[2];
        make_request(i, &rq, hist);
        memset(&rs, 0, sizeof rs);
        prefrec_status s = prefrec_engine_recommend(engine, &rq, &rs, &err);
        if (s == PREFREC_OK)
            bad += memcmp(&rs, &expect[i], sizeof rs) != 0;
        else
            bad += expect[i].n != 0;
    }
    return (void *)(intptr_t)bad;
}

static prefrec_pack *shared_pack;

static void *get_view(void *arg) {
    const prefrec_tensor *t = NULL;
    prefrec_error err = {0};
    (void)arg;
    if (prefrec_pack_get(shared_pack, "product.emb", PREFREC_DT_F32, 2, NULL, &t, &err))
        return NULL;
    return (void *)t->data;
}

/* Two threads ask a freshly opened version-2 pack for its q8r product.emb as f32 at once: one
 * copy is published, both get it, and it holds what prefrec_pack_row_f32 decodes. */
static void race_view(const unsigned char *bytes, size_t len) {
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &shared_pack, &err), PREFREC_OK);
    const prefrec_tensor *st = prefrec_pack_find(shared_pack, "product.emb");
    CHECK(st && st->dtype == PREFREC_DT_Q8R && st->ndim == 2);
    pthread_t th[2];
    void *got[2];
    for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, get_view, NULL);
    for (int t = 0; t < 2; t++) pthread_join(th[t], &got[t]);
    CHECK(got[0] && got[0] == got[1]);
    float *rows = malloc((size_t)st->n_elems * sizeof *rows);
    prefrec_pack_row_f32(st, 0, st->shape[0], rows);
    CHECK(got[0] && !memcmp(got[0], rows, (size_t)st->n_elems * sizeof *rows));
    int nonzero = 0;
    for (uint64_t i = 0; i < st->n_elems; i++) nonzero += rows[i] != 0.0f;
    CHECK(nonzero > 0);
    free(rows);
    prefrec_pack_free(shared_pack);
}

static void run(int variant) {
    size_t len = 0;
    unsigned char *bytes = tiny_pack(&len, variant);
    if (variant >= 20) race_view(bytes, len);
    prefrec_pack *pk = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &engine, &err), PREFREC_OK);
    int served = 0;
    for (int i = 0; i < REQS; i++) {
        prefrec_request rq;
        int32_t hist[2];
        make_request(i, &rq, hist);
        memset(&expect[i], 0, sizeof expect[i]);
        if (prefrec_engine_recommend(engine, &rq, &expect[i], &err) == PREFREC_OK)
            served++;
        else
            memset(&expect[i], 0, sizeof expect[i]);
    }
    CHECK(served > REQS / 2);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) { /* a fresh engine: no product-half row filled yet */
            prefrec_engine_free(engine);
            CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &engine, &err), PREFREC_OK);
        }
        pthread_t th[2];
        for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
        for (int t = 0; t < 2; t++) {
            void *bad;
            pthread_join(th[t], &bad);
            CHECK_EQ_INT((intptr_t)bad, 0);
        }
    }
    prefrec_engine_free(engine);
    prefrec_pack_free(pk);
    free(bytes);
}

int main(void) {
    run(2); /* f32 (version 1) */
    run(22); /* the same model in version 2, product.emb q8r (the engine decodes its rows) */
    return check_report("test_engine_threads");
}
