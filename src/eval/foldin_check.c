/* foldin_check.c - trained vs folded-in top-30 overlap (see prefrec/native/foldin_check.h). */
#include "prefrec/native/foldin_check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/model.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

prefrec_status prefrec_foldin_overlap(const prefrec_pack *pack, int ranker, int max_customers,
                                      prefrec_foldin_stats *out, prefrec_error *err) {
    memset(out, 0, sizeof *out);
    out->min_overlap = 1.0;
    prefrec_engine *e = NULL;
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    prefrec_response *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    prefrec_status s =
        a && b ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (!s) s = prefrec_engine_new(pack, NULL, &e, err);
    if (!s) s = prefrec_model_load(pack, &m, err);
    if (!s) s = prefrec_customers_load(pack, m, &cs, err);
    if (!s && !prefrec_engine_has_ranker(e, ranker))
        s = prefrec_error_set(err, PREFREC_E_NOTFOUND, "the pack does not serve ranker %d", ranker);
    int32_t nc = s ? 0 : prefrec_customers_count(cs);
    int step = max_customers > 0 && nc / max_customers > 1 ? nc / max_customers : 1;
    double sum = 0, tk = 0, tf = 0;
    for (int32_t c = 0; !s && c < nc && out->customers < max_customers; c += step) {
        size_t nb;
        const int32_t *bought = prefrec_customers_bought(cs, c, &nb);
        if (nb == 0) continue;
        prefrec_request rq = prefrec_request_default();
        rq.ranker = ranker;
        rq.customer = prefrec_customers_code(cs, c);
        double t0 = now();
        if (prefrec_engine_recommend(e, &rq, a, err)) continue; /* e.g. bought everything */
        double t1 = now();
        rq.customer = NULL;
        rq.history = bought;
        rq.n_history = nb;
        rq.gender = prefrec_customers_gender(cs, c);
        rq.age = prefrec_customers_age(cs, c);
        if ((s = prefrec_engine_recommend(e, &rq, b, err))) break;
        tk += t1 - t0;
        tf += now() - t1;
        int common = 0;
        for (uint32_t i = 0; i < a->n; i++)
            for (uint32_t j = 0; j < b->n; j++)
                common += a->items[i].product == b->items[j].product;
        double ov = (double)common / (a->n ? a->n : 1);
        sum += ov;
        if (ov < out->min_overlap) out->min_overlap = ov;
        out->customers++;
    }
    if (out->customers) {
        out->mean_overlap = sum / out->customers;
        out->us_known = 1e6 * tk / out->customers;
        out->us_folded = 1e6 * tf / out->customers;
    }
    free(a);
    free(b);
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_engine_free(e);
    return s;
}
