/* foldin.c - how close the on-device fold-in gets to the trained customer vectors: for known
 * customers of a pack, the top-30 served from their trained vector vs from their purchase
 * history alone (vector solved on the device), per ranker. Prints the mean overlap.
 *   build/native/bench_foldin PACK [N_CUSTOMERS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/engine.h"
#include "prefrec/model.h"
#include "prefrec/pack_write.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PACK [N]\n", argv[0]);
        return 2;
    }
    int limit = argc > 2 ? atoi(argv[2]) : 500;
    prefrec_error err = {0};
    void *bytes;
    size_t len;
    prefrec_pack *pk;
    prefrec_engine *e;
    if (prefrec_file_read(argv[1], &bytes, &len, &err) || prefrec_pack_open(bytes, len, &pk, &err) ||
        prefrec_engine_new(pk, NULL, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    prefrec_model *m;
    prefrec_customers *cs;
    prefrec_model_load(pk, &m, &err);
    prefrec_customers_load(pk, m, &cs, &err);
    int32_t nc = prefrec_customers_count(cs);
    int rankers[2] = {PREFREC_RANKER_NEUMF, PREFREC_RANKER_BLEND};
    const char *names[2] = {"neumf", "blend"};
    prefrec_response *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    for (int r = 0; r < 2; r++) {
        if (!prefrec_engine_has_ranker(e, rankers[r])) {
            printf("%s: not in this pack\n", names[r]);
            continue;
        }
        double sum = 0, t_known = 0, t_fold = 0;
        int n = 0, step = nc / limit > 1 ? nc / limit : 1;
        for (int32_t c = 0; c < nc && n < limit; c += step) {
            size_t nb;
            const int32_t *bought = prefrec_customers_bought(cs, c, &nb);
            if (nb == 0) continue;
            prefrec_request rq = prefrec_request_default();
            rq.ranker = rankers[r];
            rq.customer = prefrec_customers_code(cs, c);
            double t0 = now();
            if (prefrec_engine_recommend(e, &rq, a, &err)) continue;
            double t1 = now();
            rq.customer = NULL;
            rq.history = bought;
            rq.n_history = nb;
            rq.gender = prefrec_customers_gender(cs, c);
            rq.age = prefrec_customers_age(cs, c);
            if (prefrec_engine_recommend(e, &rq, b, &err)) continue;
            double t2 = now();
            t_known += t1 - t0;
            t_fold += t2 - t1;
            int common = 0;
            for (uint32_t i = 0; i < a->n; i++)
                for (uint32_t j = 0; j < b->n; j++) common += a->items[i].product == b->items[j].product;
            sum += (double)common / (a->n ? a->n : 1);
            n++;
        }
        printf("%s: %d customers, mean top-30 overlap trained vs folded-in %.3f; %.1f us known, %.1f us folded-in per request\n",
               names[r], n, n ? sum / n : 0, n ? 1e6 * t_known / n : 0, n ? 1e6 * t_fold / n : 0);
    }
    free(a);
    free(b);
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return 0;
}
