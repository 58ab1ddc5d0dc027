/* rank_repurchase.c - rankers from the customer's own history, for the repurchase task.
 *
 * rep_freq: most-bought first (purchase lines in the window), ties by the later purchase.
 * rep_recency: most recently bought first, ties by count. Products the customer never bought
 * score below every bought one, ordered by overall popularity, so the ranking is total.
 * seed_score: the deck's preference score (prefrec/native/score.h) as of the window's end, computed
 * from the window's own rows; ties by count. */
#include <stdlib.h>

#include "prefrec/native/rankers.h"
#include "prefrec/native/score.h"
#include "rank_util.h"

typedef struct rep_model {
    const prefrec_interactions *x;
    int by_recency;
} rep_model;

static prefrec_status rep_fit_common(const prefrec_fit_input *in, int by_recency, void **model,
                                     prefrec_error *err) {
    rep_model *m = calloc(1, sizeof *m);
    *model = NULL;
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "rep: out of memory");
    m->x = in->train;
    m->by_recency = by_recency;
    *model = m;
    return PREFREC_OK;
}

static prefrec_status rep_freq_fit(const prefrec_fit_input *in, const void *params, void **model,
                                   prefrec_error *err) {
    return rep_fit_common(in, 0, model, err);
}

static prefrec_status rep_recency_fit(const prefrec_fit_input *in, const void *params, void **model,
                                      prefrec_error *err) {
    return rep_fit_common(in, 1, model, err);
}

static void rep_free(void *m) { free(m); }

/* Scores stay exact in float: counts and day offsets are small integers; the secondary key is
 * scaled into [0, 1) so it only breaks ties of the primary one. */
static prefrec_status rep_score(const void *mv, int32_t c, float *scores) {
    const rep_model *m = mv;
    const prefrec_interactions *x = m->x;
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = -2.0f;
    rank_add_pop_tiebreak(x, scores, 1.0f); /* never bought: [-2, -1] by popularity */
    double span = (double)(x->day_to - x->day_from) + 1.0;
    float max_count = 1.0f;
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
        if (x->count[b] > max_count) max_count = x->count[b];
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
        double recency = (double)(x->last_day[b] - x->day_from + 1) / span; /* (0, 1] */
        if (m->by_recency)
            scores[x->product[b]] =
                (float)((x->last_day[b] - x->day_from + 1) + 0.5 * x->count[b] / (max_count + 1.0));
        else
            scores[x->product[b]] = (float)(x->count[b] + 0.5 * recency);
    }
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_rep_freq = {
    "rep_freq",
    "repurchase: the customer's most-bought products first",
    PREFREC_TASK_REPURCHASE,
    rep_freq_fit,
    rep_score,
    rep_free};

const prefrec_ranker_def prefrec_ranker_rep_recency = {
    "rep_recency",
    "repurchase: the customer's most recently bought products first",
    PREFREC_TASK_REPURCHASE,
    rep_recency_fit,
    rep_score,
    rep_free};

/* ---- the seed's preference score as a repurchase ranker ----------------------------------- */
typedef struct seed_model {
    const prefrec_interactions *x;
    float *pair_score; /* aligned with x's pairs */
} seed_model;

static void seed_free(void *mv) {
    seed_model *m = mv;
    if (!m) return;
    free(m->pair_score);
    free(m);
}

/* The score needs rows before its as-of day only; the window starts at the data's first day in
 * the evaluation, so scoring "as of day_to" sees exactly the window's rows. */
static prefrec_status seed_fit(const prefrec_fit_input *in, const void *params, void **model,
                               prefrec_error *err) {
    const prefrec_interactions *x = in->train;
    *model = NULL;
    if (x->affiliate < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL, "seed_score: needs one affiliate's window");
    prefrec_score_params sp =
        params ? *(const prefrec_score_params *)params : prefrec_score_default_params();
    sp.asof_day = x->day_to;
    prefrec_scores *sc = NULL;
    prefrec_status st = prefrec_scores_compute(in->ds, &sp, x->affiliate, &sc, err);
    if (st) return st;
    seed_model *m = calloc(1, sizeof *m);
    if (m) m->pair_score = malloc((size_t)(x->n_pairs ? x->n_pairs : 1) * sizeof *m->pair_score);
    if (!m || !m->pair_score) {
        prefrec_scores_free(sc);
        seed_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "seed_score: out of memory");
    }
    m->x = x;
    for (int64_t i = 0; i < x->n_pairs; i++) m->pair_score[i] = 0;
    for (size_t i = 0; i < sc->n; i++) {
        int64_t q = prefrec_interactions_find(x, sc->customer[i], sc->product[i]);
        if (q >= 0) m->pair_score[q] = sc->score[i];
    }
    prefrec_scores_free(sc);
    *model = m;
    return PREFREC_OK;
}

static prefrec_status seed_score(const void *mv, int32_t c, float *scores) {
    const seed_model *m = mv;
    const prefrec_interactions *x = m->x;
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = -2.0f;
    rank_add_pop_tiebreak(x, scores, 1.0f);
    float max_count = 1.0f;
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
        if (x->count[b] > max_count) max_count = x->count[b];
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
        scores[x->product[b]] = m->pair_score[b] + 0.01f * x->count[b] / (max_count + 1.0f);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_seed_score = {
    "seed_score",
    "repurchase: the deck's preference score (count, category share, recency)",
    PREFREC_TASK_REPURCHASE,
    seed_fit,
    seed_score,
    seed_free};
