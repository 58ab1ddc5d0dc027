/* rank_neumf.c - the deck's model as a ranker: the NeuMF score regression (prefrec/native/train.h)
 * trained on the preference scores of the training window's bought pairs, ranking every product
 * by its predicted score. Kept in the evaluation to show how the deck's own approach ranks the
 * never-bought products customers buy next (docs/eval.md), next to the default. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/native/score.h"
#include "prefrec/native/train.h"

typedef struct neumf_ranker {
    const prefrec_dataset *ds;
    prefrec_neumf *net;
    int32_t n_products;
} neumf_ranker;

static void nr_free(void *mv) {
    neumf_ranker *m = mv;
    if (!m) return;
    prefrec_neumf_free(m->net);
    free(m);
}

static prefrec_status nr_fit(const prefrec_fit_input *in, const void *params, void **model,
                             prefrec_error *err) {
    *model = NULL;
    const prefrec_dataset *ds = in->ds;
    prefrec_score_params sp = prefrec_score_default_params();
    sp.asof_day = in->train->day_to; /* scores as of the cut-off: purchases before it */
    prefrec_scores *sc = NULL;
    prefrec_status s = prefrec_scores_compute(ds, &sp, in->train->affiliate, &sc, err);
    if (s) return s;
    neumf_ranker *m = calloc(1, sizeof *m);
    int32_t NC = prefrec_dict_size(ds->customers), NP = prefrec_dict_size(ds->products);
    float *target = malloc((sc->n + 1) * sizeof *target);
    if (!m || !target) {
        free(m);
        free(target);
        prefrec_scores_free(sc);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "neumf ranker: out of memory");
    }
    for (size_t i = 0; i < sc->n; i++) target[i] = sc->score[i];
    prefrec_train_data td = {sc->n,
                             sc->customer,
                             sc->product,
                             target,
                             NC,
                             NP,
                             ds->has_demographics ? ds->gender : NULL,
                             ds->has_demographics ? ds->age : NULL};
    prefrec_train_params tp =
        params ? *(const prefrec_train_params *)params : prefrec_train_default_params();
    tp.threads = in->threads;
    tp.seed = in->seed;
    tp.verbose = in->verbose;
    tp.label = "neumf";
    prefrec_train_report rep;
    s = sc->n ? prefrec_neumf_train(&td, &tp, &m->net, &rep, err)
              : prefrec_error_set(err, PREFREC_E_EMPTY,
                                  "neumf ranker: no scored pairs before the cut-off");
    free(target);
    prefrec_scores_free(sc);
    if (s) {
        nr_free(m);
        return s;
    }
    if (in->storage && prefrec_neumf_store_items(m->net, in->storage)) {
        nr_free(m);
        return prefrec_error_set(err, PREFREC_E_INVAL, "neumf ranker: storage plan '%s' failed",
                                 in->storage);
    }
    m->ds = ds;
    m->n_products = NP;
    *model = m;
    return PREFREC_OK;
}

static prefrec_status nr_score(const void *mv, int32_t c, float *scores) {
    const neumf_ranker *m = mv;
    const prefrec_dataset *ds = m->ds;
    int g = ds->has_demographics && ds->gender ? ds->gender[c] : -1;
    float age = ds->has_demographics && ds->age ? ds->age[c] : NAN;
    for (int32_t p = 0; p < m->n_products; p++)
        scores[p] = prefrec_neumf_predict(m->net, c, p, g, age);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_neumf = {
    .name = "neumf",
    .summary = "the deck's model: NeuMF regression of the preference score, ranked by prediction",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = nr_fit,
    .score = nr_score,
    .free = nr_free};
