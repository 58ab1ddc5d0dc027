/* rank_repurchase.c - rankers from the customer's own history, for the repurchase task.
 *
 * rep_freq: most-bought first (purchase lines in the window), ties by the later purchase.
 * rep_recency: most recently bought first, ties by count. Products the customer never bought
 * score below every bought one, ordered by overall popularity, so the ranking is total.
 * seed_score: the deck's preference score (prefrec/native/score.h) as of the window's end, computed
 * from the window's own rows; ties by count.
 * p_topfreq / gp_topfreq: the next-basket literature's P-TopFreq and GP-TopFreq (rankers.h): own
 * products by purchase lines, ties by the later last purchase (then the lower index, the
 * evaluation's tie rule); never-bought products all tie below (p_) or follow by G-TopFreq (gp_);
 * without history both are G-TopFreq. */
#include <stdlib.h>

#include "prefrec/native/rankers.h"
#include "prefrec/native/score.h"
#include "rank_util.h"

typedef struct rep_model {
    const prefrec_interactions *x;
    int by_recency;
    void *global; /* p_ / gp_topfreq: the fitted g_topfreq, else NULL */
    int fill_global; /* gp_topfreq: never-bought products by G-TopFreq */
    float gmax; /* the largest G-TopFreq value */
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

static void rep_free(void *mv) {
    rep_model *m = mv;
    if (m) prefrec_ranker_g_topfreq.free(m->global);
    free(m);
}

static prefrec_status topfreq_fit_common(const prefrec_fit_input *in, int fill_global, void **model,
                                         prefrec_error *err) {
    rep_model *m = NULL;
    prefrec_status st = rep_fit_common(in, 0, (void **)&m, err);
    if (st) return st;
    m->fill_global = fill_global;
    st = prefrec_ranker_g_topfreq.fit(in, NULL, &m->global, err);
    if (st) {
        rep_free(m);
        return st;
    }
    int32_t rows = 0;
    const float *g = prefrec_pop_table(m->global, &rows);
    for (int32_t j = 0; j < in->train->n_products; j++)
        if (g[j] > m->gmax) m->gmax = g[j];
    *model = m;
    return PREFREC_OK;
}

static prefrec_status p_topfreq_fit(const prefrec_fit_input *in, const void *params, void **model,
                                    prefrec_error *err) {
    return topfreq_fit_common(in, 0, model, err);
}

static prefrec_status gp_topfreq_fit(const prefrec_fit_input *in, const void *params, void **model,
                                     prefrec_error *err) {
    return topfreq_fit_common(in, 1, model, err);
}

/* Own products: 2 + lines + 0.5 * recency (recency in (0, 1], so it only breaks ties of the
 * lines; float keeps the day apart while lines stay below 2^22 / window days, 11,000 for a
 * year's window); never bought:
 * gp_ G-TopFreq / (max + 1) in [0, 1), p_ 0 for all; no history: G-TopFreq itself. */
static prefrec_status topfreq_score(const void *mv, int32_t c, float *scores) {
    const rep_model *m = mv;
    const prefrec_interactions *x = m->x;
    int32_t rows = 0;
    const float *g = prefrec_pop_table(m->global, &rows);
    if (x->row_start[c] == x->row_start[c + 1]) {
        for (int32_t j = 0; j < x->n_products; j++) scores[j] = g[j];
        return PREFREC_OK;
    }
    float f = 1.0f / (m->gmax + 1.0f);
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = m->fill_global ? g[j] * f : 0.0f;
    double span = (double)(x->day_to - x->day_from) + 1.0;
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
        double recency = (double)(x->last_day[b] - x->day_from + 1) / span; /* (0, 1] */
        scores[x->product[b]] = (float)(2.0 + x->count[b] + 0.5 * recency);
    }
    return PREFREC_OK;
}

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
    .name = "rep_freq",
    .summary = "repurchase: the customer's most-bought products first",
    .tasks = PREFREC_TASK_REPURCHASE,
    .fit = rep_freq_fit,
    .score = rep_score,
    .free = rep_free};

const prefrec_ranker_def prefrec_ranker_rep_recency = {
    .name = "rep_recency",
    .summary = "repurchase: the customer's most recently bought products first",
    .tasks = PREFREC_TASK_REPURCHASE,
    .fit = rep_recency_fit,
    .score = rep_score,
    .free = rep_free};

const prefrec_ranker_def prefrec_ranker_p_topfreq = {
    .name = "p_topfreq",
    .summary = "P-TopFreq: the customer's most-bought products (ties: later last purchase)",
    .tasks = PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = p_topfreq_fit,
    .score = topfreq_score,
    .free = rep_free};

const prefrec_ranker_def prefrec_ranker_gp_topfreq = {
    .name = "gp_topfreq",
    .summary = "GP-TopFreq: the customer's most-bought products, then G-TopFreq",
    .tasks = PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = gp_topfreq_fit,
    .score = topfreq_score,
    .free = rep_free};

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
    /* sharded (x->dist): the score's one figure over customers, the largest mean interval, is
     * a maximum over the ranks; the rest is per customer */
    prefrec_status st = prefrec_scores_compute_dist(in->ds, &sp, x->affiliate, x->dist, &sc, err);
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
    .name = "seed_score",
    .summary = "repurchase: the deck's preference score (count, category share, recency)",
    .tasks = PREFREC_TASK_REPURCHASE,
    .fit = seed_fit,
    .score = seed_score,
    .free = seed_free};
