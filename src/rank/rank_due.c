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
#include "rank_dist.h"
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

/* The model of window x with params p: every pair's distinct days and every product's prior. */
static prefrec_status due_build(const prefrec_dataset *ds, const prefrec_interactions *x,
                                const prefrec_repeat_params *p, due_model **model,
                                prefrec_error *err) {
    *model = NULL;
    due_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "due: out of memory");
    m->x = x;
    m->p = *p;
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
    /* sharded: the rebuyers of every rank (an integer sum) */
    size_t nprod = (size_t)x->n_products;
    int64_t *rb = malloc((nprod ? nprod : 1) * sizeof *rb);
    if (!rb) goto nomem;
    for (size_t p = 0; p < nprod; p++) rb[p] = rebuyers[p];
    int rc = rank_dist_sum(x, rb, nprod);
    for (size_t p = 0; p < nprod; p++) rebuyers[p] = (int32_t)rb[p];
    free(rb);
    if (rc) {
        free(fill);
        free(rebuyers);
        due_free(m);
        return prefrec_error_set(err, PREFREC_E_IO, "due: summing over the ranks failed");
    }
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

/* ---- tuning on the training window itself --------------------------------------------------
 * With no params, fit chooses the grid point on the window's last quarter, as blend and mixed
 * do: the model is built on the first three quarters and, for every customer who bought again
 * in the last quarter (at most DUE_TUNE_USERS, evenly spaced), each grid point's top 20 of the
 * customer's owned products is measured by recall against what they bought again (hits /
 * min(20, bought again)); the best mean wins (ties: the earlier point). So `prefrec eval` and a
 * pack's buy-again list (prefrec train) are one and the same fit, and the test window is never
 * seen. */
#define DUE_TUNE_USERS 2000
#define DUE_TUNE_K 20
#define DUE_TUNE_DAYS 30 /* the validation window: a month, or a quarter of shorter windows */

static prefrec_status due_tune(const prefrec_fit_input *in, prefrec_repeat_params *best_p,
                               prefrec_error *err) {
    const prefrec_interactions *x = in->train;
    int32_t span = x->day_to - x->day_from, v = span / 4 < DUE_TUNE_DAYS ? span / 4 : DUE_TUNE_DAYS;
    int32_t cut = x->day_to - v;
    prefrec_interactions *x1 = NULL, *x2 = NULL;
    due_model *m = NULL;
    prefrec_repeat_params p0 = prefrec_repeat_default_params();
    prefrec_repeat_item *it = NULL;
    float *sc = NULL;
    prefrec_scored *cand = NULL;
    double sum[36] = {0};
    int64_t users = 0;
    int32_t *owner = NULL;
    int64_t *pos = NULL;
    double *row = NULL;
    prefrec_status st = prefrec_interactions_window(in->ds, x, x->day_from, cut, &x1, err);
    if (!st) st = prefrec_interactions_window(in->ds, x, cut, x->day_to, &x2, err);
    if (!st) st = due_build(in->ds, x1, &p0, &m, err);
    if (st) goto done;
    int64_t most = 1;
    for (int32_t c = 0; c < x1->n_customers; c++)
        if (x1->row_start[c + 1] - x1->row_start[c] > most)
            most = x1->row_start[c + 1] - x1->row_start[c];
    size_t nc = x2->n_customers ? (size_t)x2->n_customers : 1;
    it = malloc((size_t)most * sizeof *it);
    sc = malloc((size_t)most * sizeof *sc);
    cand = malloc((size_t)most * sizeof *cand);
    owner = malloc(nc * sizeof *owner); /* this rank's customers who bought again */
    pos = malloc(nc * sizeof *pos);
    row = malloc(nc * 36 * sizeof *row);
    int failed = !it || !sc || !cand || !owner || !pos || !row;
    /* who bought again in the last quarter: their places in the one-process customer order
     * over every rank; every stride-th is measured, its 36 values summed in that order */
    int32_t n_mine = 0;
    for (int32_t c = 0; !failed && c < x2->n_customers; c++) {
        int rep = 0;
        for (int64_t b = x2->row_start[c]; b < x2->row_start[c + 1] && !rep; b++)
            rep = prefrec_interactions_find(x1, c, x2->product[b]) >= 0;
        if (rep) owner[n_mine++] = c;
    }
    int64_t n_rep = 0;
    if (rank_dist_places(x1, owner, failed ? 0 : (size_t)n_mine, pos, &n_rep, NULL) || failed) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "due: out of memory");
        goto done;
    }
    int64_t stride = n_rep > DUE_TUNE_USERS ? (n_rep + DUE_TUNE_USERS - 1) / DUE_TUNE_USERS : 1;
    size_t n_rows = 0;
    for (int32_t u = 0; u < n_mine && !st; u++) {
        int32_t c = owner[u];
        if (pos[u] % stride) continue;
        int64_t rel = 0;
        for (int64_t b = x2->row_start[c]; b < x2->row_start[c + 1]; b++)
            rel += prefrec_interactions_find(x1, c, x2->product[b]) >= 0;
        int64_t lo = x1->row_start[c], hi = x1->row_start[c + 1];
        size_t n = (size_t)(hi - lo);
        for (size_t i = 0; i < n; i++) {
            int64_t b = lo + (int64_t)i;
            it[i].product = x1->product[b];
            it[i].n_days = (uint32_t)(m->day_start[b + 1] - m->day_start[b]);
            it[i].days = m->days + m->day_start[b];
        }
        double denom = (double)(rel < DUE_TUNE_K ? rel : DUE_TUNE_K);
        prefrec_repeat_params p;
        for (size_t g = 0; due_grid(g, &p) && !st; g++) {
            st = prefrec_repeat_score(&p, m->rate, x1->n_products, cut, it, n, sc, NULL, err);
            for (size_t i = 0; i < n; i++) cand[i] = (prefrec_scored){sc[i], it[i].product};
            qsort(cand, n, sizeof *cand, rank_scored_desc);
            int hits = 0;
            for (size_t i = 0; i < n && i < DUE_TUNE_K; i++)
                hits += prefrec_interactions_find(x2, c, cand[i].index) >= 0;
            row[n_rows * 36 + g] = hits / denom;
        }
        pos[n_rows++] = pos[u]; /* n_rows <= u: compacted in place */
    }
    users = (int64_t)n_rows;
    int64_t bad[2] = {st != 0, users};
    if (rank_dist_ordered_sum(x1, pos, row, st ? 0 : n_rows, 36, sum) ||
        rank_dist_sum(x1, bad, 2) || bad[0]) {
        /* the sums fail only for memory (here or on another rank: MPI errors end the job) */
        if (!st) st = prefrec_error_set(err, PREFREC_E_NOMEM, "due: out of memory");
        goto done;
    }
    users = bad[1];
    if (st) goto done;
    size_t best = 0;
    for (size_t g = 1; due_grid(g, best_p); g++)
        if (sum[g] > sum[best] + 1e-12) best = g;
    if (users)
        due_grid(best, best_p);
    else
        *best_p = prefrec_repeat_default_params(); /* nobody to tune on */
    if (in->verbose) {
        char d[96];
        due_describe(best_p, d, sizeof d);
        fprintf(stderr,
                "  due: tuned on %lld customers (last quarter): %s (validation recall@%d "
                "%.4f)\n",
                (long long)users, d, DUE_TUNE_K, users ? sum[best] / (double)users : 0.0);
    }
done:
    due_free(m);
    prefrec_interactions_free(x1);
    prefrec_interactions_free(x2);
    free(it), free(sc), free(cand), free(owner), free(pos), free(row);
    return st;
}

static prefrec_status due_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    *model = NULL;
    prefrec_repeat_params p = prefrec_repeat_default_params();
    prefrec_status st = PREFREC_OK;
    if (params)
        p = *(const prefrec_repeat_params *)params;
    else if (in->train->day_to - in->train->day_from >= 8)
        st = due_tune(in, &p, err);
    due_model *m = NULL;
    if (!st) st = due_build(in->ds, in->train, &p, &m, err);
    *model = m;
    return st;
}

void prefrec_due_fitted(const void *model, prefrec_repeat_params *p, const float **prior) {
    const due_model *m = model;
    *p = m->p;
    *prior = m->rate;
}

const prefrec_ranker_def prefrec_ranker_due = {
    "due",
    "buy again: decayed purchase days x how due by the usual interval x rebuyers (served)",
    PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    due_fit,
    due_score,
    due_free,
    sizeof(prefrec_repeat_params),
    NULL, /* tuned inside fit (above), as it is for a pack */
    due_describe};
