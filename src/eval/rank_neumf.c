/* rank_neumf.c - the deck's model as a ranker: the NeuMF score regression (prefrec/native/train.h)
 * trained on the preference scores of the training window's bought pairs, ranking every product
 * by its predicted score. Kept in the evaluation to show how the deck's own approach ranks the
 * never-bought products customers buy next (docs/eval.md), next to the default.
 *
 * On a sharded window (x->dist, mpirun -n N prefrec eval: docs/mpi.md) the fit is train's: the
 * sharded score, the hashed train:valid split and the data-parallel trainer
 * (src/train/trainer_dist.c), so each rank holds its own customers' rows and the replicated
 * item side and ranks its own users. Its weights are not the one-process bits (a step mixes
 * every rank's pairs in each rank's own order, docs/mpi.md "train"), so its figures are the
 * one-process figures within a tolerance (tests/mpi/eval.sh). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/native/score.h"
#include "prefrec/native/train.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/topk.h"
#include "host/dist.h"
#include "train/neumf.h"

typedef struct neumf_ranker {
    const prefrec_dataset *ds;
    prefrec_neumf *net;
    int32_t n_products;
    int32_t *row; /* sharded: the dataset customer's row in net (NULL: the customer index) */
} neumf_ranker;

static void nr_free(void *mv) {
    neumf_ranker *m = mv;
    if (!m) return;
    prefrec_neumf_free(m->net);
    free(m->row);
    free(m);
}

/* The sharded fit: this rank's scored pairs (its own customers) trained with every rank's by
 * nm_train_dist. net's rows are this rank's customers in the order of their scores, plus one
 * row of zeros (embedding and bias) for the customers without a scored pair, so that they rank
 * by the item side alone on every rank (one process gives them their untrained random row). */
static prefrec_status nr_fit_dist(const prefrec_fit_input *in, prefrec_train_params *tp,
                                  neumf_ranker *m, prefrec_error *err) {
    const prefrec_dataset *ds = in->ds;
    prefrec_dist *d = in->train->dist;
    prefrec_score_params sp = prefrec_score_default_params();
    sp.asof_day = in->train->day_to;
    prefrec_scores *sc = NULL;
    prefrec_status s = prefrec_dist_agree(
        d, prefrec_scores_compute_dist(ds, &sp, in->train->affiliate, d, &sc, err), 0, err);
    if (s) return s;
    int32_t NC = prefrec_dict_size(ds->customers), NP = prefrec_dict_size(ds->products), C = 0;
    size_t n = sc->n;
    int32_t *cust = malloc(n * sizeof *cust + 1), *prod = malloc(n * sizeof *prod + 1);
    float *target = malloc(n * sizeof *target + 1), *age = malloc(n * sizeof *age + 1);
    int8_t *gender = malloc(n + 1);
    uint8_t *valid = malloc(n + 1);
    m->row = malloc(((size_t)NC + 1) * sizeof *m->row);
    s = cust && prod && target && age && gender && valid && m->row
        ? PREFREC_OK
        : prefrec_error_set(err, PREFREC_E_NOMEM, "neumf ranker: out of memory");
    for (int32_t g = 0; !s && g < NC; g++) m->row[g] = -1;
    for (size_t j = 0; !s && j < n; j++) { /* the scores come customer by customer */
        int32_t g = sc->customer[j];
        if (m->row[g] < 0) {
            m->row[g] = C;
            gender[C] = (int8_t)(ds->has_demographics && ds->gender ? ds->gender[g]
                                                                    : PREFREC_GENDER_UNKNOWN);
            age[C++] = ds->has_demographics && ds->age ? ds->age[g] : NAN;
        }
        cust[j] = m->row[g];
        prod[j] = sc->product[j];
        target[j] = sc->score[j];
        valid[j] = (uint8_t)prefrec_train_split_valid(
            tp->seed, prefrec_dict_str(ds->customers, g),
            prefrec_dict_str(ds->products, sc->product[j]), tp->valid_frac);
    }
    int64_t total = (int64_t)n;
    if (!(s = prefrec_dist_agree(d, s, 0, err)) &&
        prefrec_dist_allreduce_i64(d, &total, 1, PREFREC_DIST_SUM))
        s = prefrec_error_set(err, PREFREC_E_IO, "neumf ranker: counting the pairs over the ranks");
    if (!s && !total)
        s = prefrec_error_set(err, PREFREC_E_EMPTY,
                              "neumf ranker: no scored pairs before the cut-off");
    prefrec_train_data td = {n, cust, prod, target, C, NP, gender, age, valid};
    prefrec_train_report rep;
    if (!s) s = nm_train_dist(&td, valid, d, tp, &m->net, &rep, err);
    s = prefrec_dist_agree(d, s, 0, err);
    if (!s) { /* the row of zeros at C */
        size_t dim = (size_t)m->net->dim;
        float *ce = realloc(m->net->cemb, ((size_t)C + 1) * dim * sizeof *ce);
        if (ce) m->net->cemb = ce;
        float *cb = ce ? realloc(m->net->cbias, ((size_t)C + 1) * sizeof *cb) : NULL;
        if (cb) m->net->cbias = cb;
        if (!ce || !cb)
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "neumf ranker: out of memory");
        else {
            memset(ce + (size_t)C * dim, 0, dim * sizeof *ce);
            cb[C] = 0.0f;
            for (int32_t g = 0; g < NC; g++)
                if (m->row[g] < 0) m->row[g] = C;
        }
    }
    free(cust), free(prod), free(target), free(age), free(gender), free(valid);
    prefrec_scores_free(sc);
    return s;
}

static prefrec_status nr_fit(const prefrec_fit_input *in, const void *params, void **model,
                             prefrec_error *err) {
    *model = NULL;
    const prefrec_dataset *ds = in->ds;
    if (in->train->dist) {
        neumf_ranker *m = calloc(1, sizeof *m);
        prefrec_train_params tp =
            params ? *(const prefrec_train_params *)params : prefrec_train_default_params();
        tp.seed = in->seed;
        tp.verbose = in->verbose;
        tp.label = "neumf";
        prefrec_status s =
            m ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "neumf ranker: out of memory");
        s = prefrec_dist_agree(in->train->dist, s, 0, err);
        if (!s) s = nr_fit_dist(in, &tp, m, err);
        if (!s && in->storage && prefrec_neumf_store_items(m->net, in->storage))
            s = prefrec_error_set(err, PREFREC_E_INVAL, "neumf ranker: storage plan '%s' failed",
                                  in->storage);
        if (s) {
            nr_free(m);
            return s;
        }
        m->ds = ds;
        m->n_products = prefrec_dict_size(ds->products);
        *model = m;
        return PREFREC_OK;
    }
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
                             ds->has_demographics ? ds->age : NULL,
                             NULL}; /* the seeded permutation's split */
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
    int32_t r = m->row ? m->row[c] : c;
    for (int32_t p = 0; p < m->n_products; p++)
        scores[p] = prefrec_neumf_predict(m->net, r, p, g, age);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_neumf = {
    .name = "neumf",
    .summary = "the deck's model: NeuMF regression of the preference score, ranked by prediction",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = nr_fit,
    .score = nr_score,
    .free = nr_free};

/* ---- neumf_blend300: the NeuMF ranking only the default ranker's candidates --------------
 * What the engine would serve if the NeuMF scored the blend's top 300 never-bought products
 * instead of the whole catalogue (issue 18: a NeuMF request linear in the candidates, not the
 * catalogue). Products outside the candidates rank after them (their NeuMF score - 1e6), so
 * the top 30 comes from the candidates. Measures the recall cost of that cut (docs/engine.md,
 * "Benchmark"); not a default. */
#define CAND_N 300

typedef struct cand_ranker {
    void *neumf, *blend;
    const prefrec_interactions *train;
    int32_t n_products;
} cand_ranker;

static void cr_free(void *mv) {
    cand_ranker *m = mv;
    if (!m) return;
    prefrec_ranker_neumf.free(m->neumf);
    prefrec_ranker_blend_served.free(m->blend);
    free(m);
}

static prefrec_status cr_fit(const prefrec_fit_input *in, const void *params, void **model,
                             prefrec_error *err) {
    (void)params;
    *model = NULL;
    cand_ranker *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "neumf_blend300: out of memory");
    prefrec_status s = prefrec_ranker_blend_served.fit(in, NULL, &m->blend, err);
    if (!s) s = prefrec_ranker_neumf.fit(in, NULL, &m->neumf, err);
    if (s) {
        cr_free(m);
        return s;
    }
    m->train = in->train;
    m->n_products = in->train->n_products;
    *model = m;
    return PREFREC_OK;
}

static prefrec_status cr_score(const void *mv, int32_t c, float *scores) {
    const cand_ranker *m = mv;
    int32_t P = m->n_products;
    float *bs = malloc((size_t)P * sizeof *bs);
    uint8_t *ex = calloc((size_t)P, 1), *cand = calloc((size_t)P, 1);
    prefrec_scored *top = malloc(CAND_N * sizeof *top);
    prefrec_status s = bs && ex && cand && top ? PREFREC_OK : PREFREC_E_NOMEM;
    if (!s) s = prefrec_ranker_blend_served.score(m->blend, c, bs);
    if (!s) s = prefrec_ranker_neumf.score(m->neumf, c, scores);
    if (!s) {
        for (int64_t i = m->train->row_start[c]; i < m->train->row_start[c + 1]; i++)
            ex[m->train->product[i]] = 1; /* bought in the window: not a candidate */
        size_t n = prefrec_topk(bs, (size_t)P, ex, CAND_N, top);
        for (size_t i = 0; i < n; i++) cand[top[i].index] = 1;
        for (int32_t p = 0; p < P; p++)
            if (!cand[p]) scores[p] -= 1e6f;
    }
    free(bs), free(ex), free(cand), free(top);
    return s;
}

const prefrec_ranker_def prefrec_ranker_neumf_blend300 = {
    .name = "neumf_blend300",
    .summary = "the NeuMF ranking only the blend's top 300 never-bought products (issue 18)",
    .tasks = PREFREC_TASK_NEW_ITEMS,
    .fit = cr_fit,
    .score = cr_score,
    .free = cr_free};
