/* rank_due.c - the "buy again" ranker: the portable engine's own score (prefrec/repeat.h) of each
 * product the customer bought before, so what is evaluated here is what a pack serves.
 *
 * fit gathers, for every (customer, product) pair of the window, the distinct days it was
 * bought, and every product's prior (its rebuyers, customers who bought it on two days or more,
 * against the most rebought product's). score runs
 * prefrec_repeat_score as of the window's end on the customer's pairs; products the customer
 * never bought rank below all of them by popularity, like rep_freq. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/repeat.h"
#include "rank_util.h"

typedef struct due_model {
    const prefrec_interactions *x;
    prefrec_repeat_params p;
    int64_t *day_start; /* n_pairs + 1: pair b's days are days[day_start[b] .. day_start[b+1]) */
    int32_t *days; /* distinct, ascending within a pair */
    float *rate; /* n_products: prefrec_repeat_prior */
} due_model;

static void due_free(void *mv) {
    due_model *m = mv;
    if (!m) return;
    free(m->day_start);
    free(m->days);
    free(m->rate);
    free(m);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static prefrec_status due_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    *model = NULL;
    const prefrec_dataset *ds = in->ds;
    const prefrec_interactions *x = in->train;
    due_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "due: out of memory");
    m->x = x;
    m->p = params ? *(const prefrec_repeat_params *)params : prefrec_repeat_default_params();
    size_t np = (size_t)x->n_pairs;
    m->day_start = calloc(np + 1, sizeof *m->day_start);
    m->rate = malloc((x->n_products ? (size_t)x->n_products : 1) * sizeof *m->rate);
    int64_t *fill = NULL;
    int32_t *rebuyers = calloc(x->n_products ? (size_t)x->n_products : 1, sizeof *rebuyers);
    if (!m->day_start || !m->rate || !rebuyers) goto nomem;
    /* pass 1: lines per pair (rows of the window, same filter as prefrec_interactions_build) */
    for (size_t r = 0; r < ds->n_rows; r++) {
        if (ds->day[r] < x->day_from || ds->day[r] >= x->day_to) continue;
        if (x->affiliate >= 0 && ds->affiliate[r] != x->affiliate) continue;
        int64_t b = prefrec_interactions_find(x, ds->customer[r], ds->product[r]);
        if (b >= 0) m->day_start[b + 1]++;
    }
    for (size_t b = 0; b < np; b++) m->day_start[b + 1] += m->day_start[b];
    m->days = malloc((m->day_start[np] ? (size_t)m->day_start[np] : 1) * sizeof *m->days);
    fill = malloc((np ? np : 1) * sizeof *fill);
    if (!m->days || !fill) goto nomem;
    memcpy(fill, m->day_start, np * sizeof *fill);
    for (size_t r = 0; r < ds->n_rows; r++) {
        if (ds->day[r] < x->day_from || ds->day[r] >= x->day_to) continue;
        if (x->affiliate >= 0 && ds->affiliate[r] != x->affiliate) continue;
        int64_t b = prefrec_interactions_find(x, ds->customer[r], ds->product[r]);
        if (b >= 0) m->days[fill[b]++] = ds->day[r];
    }
    /* sort and make distinct in place, compacting the pairs' ranges */
    int64_t w = 0;
    for (size_t b = 0; b < np; b++) {
        int64_t lo = m->day_start[b], hi = m->day_start[b + 1];
        qsort(m->days + lo, (size_t)(hi - lo), sizeof *m->days, cmp_i32);
        m->day_start[b] = w;
        for (int64_t k = lo; k < hi; k++)
            if (k == lo || m->days[k] != m->days[k - 1]) m->days[w++] = m->days[k];
        if (w - m->day_start[b] >= 2) rebuyers[x->product[b]]++;
    }
    m->day_start[np] = w;
    int32_t most = 0;
    for (int32_t p = 0; p < x->n_products; p++)
        if (rebuyers[p] > most) most = rebuyers[p];
    for (int32_t p = 0; p < x->n_products; p++)
        m->rate[p] = prefrec_repeat_prior(rebuyers[p], most);
    free(fill);
    free(rebuyers);
    if (prefrec_repeat_params_check(&m->p, err)) { /* once here: score cannot fail on them */
        due_free(m);
        return PREFREC_E_INVAL;
    }
    *model = m;
    return PREFREC_OK;
nomem:
    free(fill);
    free(rebuyers);
    due_free(m);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "due: out of memory");
}

static prefrec_status due_score(const void *mv, int32_t c, float *scores) {
    const due_model *m = mv;
    const prefrec_interactions *x = m->x;
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = -2.0f;
    rank_add_pop_tiebreak(x, scores, 1.0f); /* never bought: [-2, -1] by popularity */
    int64_t lo = x->row_start[c], hi = x->row_start[c + 1];
    if (hi == lo) return PREFREC_OK;
    size_t n = (size_t)(hi - lo);
    prefrec_repeat_item *it = malloc(n * sizeof *it);
    float *s = malloc(n * sizeof *s);
    if (!it || !s) {
        free(it);
        free(s);
        return PREFREC_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t b = lo + (int64_t)i;
        it[i].product = x->product[b];
        it[i].n_days = (uint32_t)(m->day_start[b + 1] - m->day_start[b]);
        it[i].days = m->days + m->day_start[b];
    }
    prefrec_status st =
        prefrec_repeat_score(&m->p, m->rate, x->n_products, x->day_to, it, n, s, NULL, NULL);
    if (st == PREFREC_OK)
        for (size_t i = 0; i < n; i++) scores[it[i].product] = s[i]; /* > 0 > any never-bought */
    free(it);
    free(s);
    return st;
}

/* The grid tuned on validation: half-life (none, a month, a quarter, a year) x due weight x
 * prior exponent: 4 x 3 x 3 = 36 cheap fits. */
static int due_grid(size_t i, void *params) {
    static const float hs[] = {0.0f, 30.0f, 90.0f, 365.0f}, ws[] = {0.0f, 1.0f, 3.0f},
                       bs[] = {0.0f, 0.5f, 1.0f};
    if (i >= 36) return 0;
    prefrec_repeat_params *p = params;
    *p = prefrec_repeat_default_params();
    p->half_life_days = hs[i / 9];
    p->w_due = ws[(i / 3) % 3];
    p->beta = bs[i % 3];
    return 1;
}

static void due_describe(const void *params, char *buf, size_t n) {
    const prefrec_repeat_params *p = params;
    snprintf(buf, n, "half_life=%g w_due=%g beta=%g", (double)p->half_life_days, (double)p->w_due,
             (double)p->beta);
}

const prefrec_ranker_def prefrec_ranker_due = {
    "due",
    "buy again: decayed purchase days x how due by the usual interval x rebuyers (served)",
    PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    due_fit,
    due_score,
    due_free,
    sizeof(prefrec_repeat_params),
    due_grid,
    due_describe};
