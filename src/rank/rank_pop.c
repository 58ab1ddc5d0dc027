/* rank_pop.c - popularity rankers: overall, and within the customer's gender x age band; and
 * G-TopFreq (overall purchase lines, the next-basket literature's global baseline).
 *
 * Popularity counts distinct buyers, not receipt lines, so one household buying water every
 * week does not outrank a product many people buy. The segment version shrinks a segment's
 * shares toward the overall shares (`prior` pseudo-customers): small segments (70대 men in a
 * small affiliate) would otherwise rank by a handful of people. */
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "rank_dist.h"
#include "rank_util.h"

#define POP_BLOCK (1 << 22) /* counts per block: 32 MiB */

typedef struct pop_model {
    const prefrec_dataset *ds;
    int32_t n_products;
    int by_segment;
    double prior; /* the segment rows' shrinkage, in pseudo-customers */
    int counted; /* segment rows from buyer counts: no half-life, not by lines */
    float *global; /* n_products: share of buyers (weighted) */
    float *seg; /* PREFREC_N_SEGMENTS x n_products: smoothed segment shares, or NULL */
} pop_model;

prefrec_pop_params prefrec_pop_default_params(void) {
    prefrec_pop_params p = {0, 50.0, 0.0, 0};
    return p;
}

static void pop_free(void *m) {
    pop_model *pm = m;
    if (!pm) return;
    free(pm->global);
    free(pm->seg);
    free(pm);
}

static prefrec_status pop_fit_common(const prefrec_fit_input *in, const void *params,
                                     int by_segment, void **model, prefrec_error *err) {
    prefrec_pop_params p =
        params ? *(const prefrec_pop_params *)params : prefrec_pop_default_params();
    const prefrec_interactions *x = in->train;
    *model = NULL;
    pop_model *pm = calloc(1, sizeof *pm);
    if (!pm) return prefrec_error_set(err, PREFREC_E_NOMEM, "pop: out of memory");
    pm->ds = in->ds;
    pm->n_products = x->n_products;
    pm->by_segment = by_segment;
    pm->prior = p.prior;
    pm->counted = by_segment && !p.by_lines && !(p.half_life_days > 0);
    size_t np = x->n_products ? (size_t)x->n_products : 1;
    /* count, then compute: integer counts per product (and segment) and, with a half-life, per
     * age in days of the pair's last purchase (x->day_to - 1 - last_day), summed over the ranks
     * (exact); the weights are then added in one order (ages ascending), so the result is the
     * same for any number of ranks. The rows of counts are the products bought in the window
     * (n_buyers, over every rank), taken in blocks of at most POP_BLOCK counts. */
    int32_t n_age = p.half_life_days > 0 && x->day_to > x->day_from ? x->day_to - x->day_from : 1;
    size_t planes = by_segment ? 1 + PREFREC_N_SEGMENTS : 1;
    int32_t *row_of = malloc(np * sizeof *row_of), nb = 0;
    for (size_t j = 0; row_of && j < (size_t)x->n_products; j++)
        row_of[j] = x->n_buyers[j] > 0 ? nb++ : -1;
    size_t rows = (size_t)POP_BLOCK / (planes * (size_t)n_age);
    if (rows < 1) rows = 1;
    if (rows > (size_t)nb) rows = nb ? (size_t)nb : 1;
    int64_t *cnt = malloc(planes * rows * (size_t)n_age * sizeof *cnt);
    double *wt = malloc((size_t)n_age * sizeof *wt);
    double *sum = calloc(planes * (nb ? (size_t)nb : 1), sizeof *sum); /* plane x bought product */
    int64_t act[1 + PREFREC_N_SEGMENTS] = {0}; /* active customers, then per segment */
    pm->global = malloc(np * sizeof *pm->global);
    if (by_segment) pm->seg = malloc(np * PREFREC_N_SEGMENTS * sizeof *pm->seg);
    prefrec_status st = !row_of || !cnt || !wt || !sum || (by_segment && !pm->seg) || !pm->global
        ? prefrec_error_set(err, PREFREC_E_NOMEM, "pop: out of memory")
        : PREFREC_OK;
    for (int32_t c = 0; !st && c < x->n_customers; c++)
        if (x->row_start[c + 1] > x->row_start[c]) {
            act[0]++;
            if (by_segment) act[1 + rank_segment(in->ds, c)]++;
        }
    if (!st && rank_dist_sum(x, act, 1 + PREFREC_N_SEGMENTS))
        st = prefrec_error_set(err, PREFREC_E_IO, "pop: summing over the ranks failed");
    for (int32_t k = 0; !st && k < n_age; k++)
        wt[k] = n_age > 1 ? pow(0.5, (double)k / p.half_life_days) : 1.0;
    for (int32_t r0 = 0; !st && r0 < nb; r0 += (int32_t)rows) {
        int32_t r1 = r0 + (int32_t)rows < nb ? r0 + (int32_t)rows : nb;
        size_t per = (size_t)(r1 - r0) * (size_t)n_age, n = planes * per;
        memset(cnt, 0, n * sizeof *cnt);
        for (int32_t c = 0; c < x->n_customers; c++) {
            int64_t a = x->row_start[c], b = x->row_start[c + 1];
            if (a == b) continue;
            int s = by_segment ? rank_segment(in->ds, c) : 0;
            for (int64_t i = a; i < b; i++) {
                int32_t r = row_of[x->product[i]];
                if (r < r0 || r >= r1) continue;
                int64_t w = p.by_lines ? (int64_t)x->count[i] : 1;
                size_t age = n_age > 1 ? (size_t)(x->day_to - 1 - x->last_day[i]) : 0;
                size_t at = (size_t)(r - r0) * (size_t)n_age + age;
                cnt[at] += w;
                if (by_segment) cnt[(size_t)(1 + s) * per + at] += w;
            }
        }
        if (rank_dist_sum(x, cnt, n)) {
            st = prefrec_error_set(err, PREFREC_E_IO, "pop: summing over the ranks failed");
            break;
        }
        for (size_t q = 0; q < planes; q++)
            for (int32_t r = r0; r < r1; r++) {
                const int64_t *row = cnt + q * per + (size_t)(r - r0) * (size_t)n_age;
                double g = 0;
                for (int32_t k = 0; k < n_age; k++) g += (double)row[k] * wt[k];
                sum[q * (size_t)nb + (size_t)r] = g;
            }
    }
    if (st) {
        free(row_of);
        free(cnt);
        free(wt);
        free(sum);
        pop_free(pm);
        return st;
    }
    double n_active = (double)act[0];
    for (size_t j = 0; j < (size_t)x->n_products; j++) {
        double g = row_of[j] >= 0 ? sum[row_of[j]] : 0;
        pm->global[j] = n_active > 0 ? (float)(g / n_active) : 0.0f;
    }
    if (by_segment)
        for (int s = 0; s < PREFREC_N_SEGMENTS; s++)
            for (size_t j = 0; j < (size_t)x->n_products; j++) {
                double sg = row_of[j] >= 0 ? sum[(size_t)(1 + s) * (size_t)nb + row_of[j]] : 0;
                pm->seg[(size_t)s * np + j] =
                    (float)((sg + p.prior * pm->global[j]) / ((double)act[1 + s] + p.prior));
            }
    free(row_of);
    free(cnt);
    free(wt);
    free(sum);
    *model = pm;
    return PREFREC_OK;
}

static prefrec_status pop_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    return pop_fit_common(in, params, 0, model, err);
}

static prefrec_status pop_seg_fit(const prefrec_fit_input *in, const void *params, void **model,
                                  prefrec_error *err) {
    return pop_fit_common(in, params, 1, model, err);
}

static prefrec_status g_topfreq_fit(const prefrec_fit_input *in, const void *params, void **model,
                                    prefrec_error *err) {
    prefrec_pop_params p = prefrec_pop_default_params();
    p.by_lines = 1;
    return pop_fit_common(in, params ? params : &p, 0, model, err);
}

static prefrec_status pop_score(const void *m, int32_t customer, float *scores) {
    const pop_model *pm = m;
    const float *src = pm->global;
    if (pm->by_segment)
        src = pm->seg + (size_t)rank_segment(pm->ds, customer) * (size_t)pm->n_products;
    for (int32_t j = 0; j < pm->n_products; j++) scores[j] = src[j];
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_pop = {
    .name = "pop",
    .summary = "popularity: distinct buyers in the training window",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = pop_fit,
    .score = pop_score,
    .free = pop_free};

const prefrec_ranker_def prefrec_ranker_g_topfreq = {
    .name = "g_topfreq",
    .summary = "G-TopFreq: overall popularity by purchase lines in the training window",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = g_topfreq_fit,
    .score = pop_score,
    .free = pop_free};

const prefrec_ranker_def prefrec_ranker_pop_seg = {
    .name = "pop_seg",
    .summary = "popularity within the customer's gender x age band, shrunk to overall",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = pop_seg_fit,
    .score = pop_score,
    .free = pop_free};

/* ---- served form (src/core/blend.h): the table pop_score reads ------------------------------- */
const float *prefrec_pop_table(const void *mv, int32_t *rows) {
    const pop_model *pm = mv;
    *rows = pm->by_segment ? PREFREC_N_SEGMENTS : 1;
    return pm->by_segment ? pm->seg : pm->global;
}

const float *prefrec_pop_overall(const void *mv) { return ((const pop_model *)mv)->global; }

double prefrec_pop_prior(const void *mv, int *counted) {
    const pop_model *pm = mv;
    *counted = pm->counted;
    return pm->prior;
}
