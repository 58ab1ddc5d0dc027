/* rank_mixed.c - one "next purchases" list: the customer's buy-again list (due) and discover list
 * (blend_served) merged with a repeat share learned from the data, per customer where their
 * history supports it.
 *
 * Merge rule: the owned product at rank i of the buy-again list gets the key (i + 0.5) / s, the
 * never-bought product at rank j of the discover list (j + 0.5) / (1 - s); the list is by
 * ascending key (score = -key), so about a share s of any prefix is repeat items. The
 * customer's share s_u = (R_u + a s) / (L_u + a): R_u of their L_u purchase lines in the window
 * repeated a product they had bought before, shrunk toward the global share s by a lines.
 *
 * fit (tune = 1) chooses s (0.1 .. 0.9, 0.95, 0.99) and a (0, 5, 20, global only) on the training window
 * itself: both components are fitted on its first three quarters and every known customer of
 * the last quarter (at most tune_users, evenly spaced) is scored once; each (s, a) merges the
 * two stored lists and is measured by recall@tune_k against everything the customer bought in
 * the last quarter. Then the components are refitted on the whole window. The test window is
 * never seen. Deterministic for any thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/blend_export.h"
#include "prefrec/native/rankers.h"
#include "prefrec/repeat.h"
#include "rank_dist.h"
#include "rank_util.h"

#define N_SHARES 11
static const double SHARES[N_SHARES] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
static const double SHRINKS[4] = {0.0, 5.0, 20.0, -1.0};

typedef struct mixed_model {
    const prefrec_interactions *x;
    void *due, *disc;
    double share, shrink;
    float *rep_lines, *lines; /* per customer, over the window */
} mixed_model;

static void mixed_free(void *mv) {
    mixed_model *m = mv;
    if (!m) return;
    prefrec_ranker_due.free(m->due);
    prefrec_ranker_blend_served.free(m->disc);
    free(m->rep_lines);
    free(m->lines);
    free(m);
}

/* The customer's repeat share and the merge key: the portable engine's (prefrec/repeat.h). */
#define cust_share prefrec_mixed_share
#define merge_key prefrec_mixed_key

typedef prefrec_scored ranked; /* .index: the product */

/* The customer's owned products by the buy-again score and the others by the discover score,
 * both best first: rep[0..*n_rep), dis[0..*n_dis). */
static prefrec_status two_lists(const prefrec_interactions *x, const void *due, const void *disc,
                                int32_t c, float *s1, float *s2, ranked *rep, int32_t *n_rep,
                                ranked *dis, int32_t *n_dis) {
    prefrec_status st = prefrec_ranker_due.score(due, c, s1);
    if (!st) st = prefrec_ranker_blend_served.score(disc, c, s2);
    if (st) return st;
    int32_t nr = 0, nd = 0;
    int64_t b = x->row_start[c], e = x->row_start[c + 1];
    for (int32_t p = 0; p < x->n_products; p++) {
        if (b < e && x->product[b] == p) { /* the customer's pairs ascend by product */
            rep[nr++] = (ranked){s1[p], p};
            b++;
        } else if (x->n_buyers[p]) /* the catalogue (a pack's products): bought in the window */
            dis[nd++] = (ranked){s2[p], p};
    }
    qsort(rep, (size_t)nr, sizeof *rep, rank_scored_desc);
    qsort(dis, (size_t)nd, sizeof *dis, rank_scored_desc);
    *n_rep = nr;
    *n_dis = nd;
    return PREFREC_OK;
}

static void line_shares(const prefrec_interactions *x, float *rep, float *lines) {
    for (int32_t c = 0; c < x->n_customers; c++) {
        double r = 0, l = 0;
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
            l += x->count[b];
            r += x->count[b] - 1.0f;
        }
        rep[c] = (float)r;
        lines[c] = (float)l;
    }
}

static prefrec_status fit_parts(const prefrec_fit_input *in, const prefrec_interactions *x,
                                void **due, void **disc, prefrec_error *err) {
    prefrec_fit_input sub = *in;
    sub.train = x;
    sub.verbose = 0;
    *due = *disc = NULL;
    prefrec_status st = prefrec_ranker_due.fit(&sub, NULL, due, err);
    if (!st) st = prefrec_ranker_blend_served.fit(&sub, NULL, disc, err);
    return st;
}

/* Recall@k of every (share, shrink) over the known customers of the last quarter. */
static prefrec_status tune(const prefrec_fit_input *in, const prefrec_mixed_params *mp,
                           double *share, double *shrink, prefrec_error *err) {
    const prefrec_interactions *x = in->train;
    int32_t cut = x->day_from + (int32_t)(((int64_t)x->day_to - x->day_from) * 3 / 4);
    prefrec_interactions *x1 = NULL, *x2 = NULL;
    void *due = NULL, *disc = NULL;
    float *s1 = NULL, *s2 = NULL, *rep_l = NULL, *lines = NULL;
    ranked *rep = NULL, *dis = NULL;
    double hits[N_SHARES][4] = {{0}};
    int64_t users = 0;
    int32_t P = x->n_products, K = mp->tune_k;
    int32_t *known = NULL;
    int64_t *pos = NULL;
    double *row = NULL;
    prefrec_status st = prefrec_interactions_window(in->ds, x, x->day_from, cut, &x1, err);
    if (!st) st = prefrec_interactions_window(in->ds, x, cut, x->day_to, &x2, err);
    if (!st) st = fit_parts(in, x1, &due, &disc, err);
    if (st) goto done;
    size_t nc = x1->n_customers ? (size_t)x1->n_customers : 1;
    s1 = malloc((size_t)P * sizeof *s1);
    s2 = malloc((size_t)P * sizeof *s2);
    rep = malloc((size_t)P * sizeof *rep);
    dis = malloc((size_t)P * sizeof *dis);
    rep_l = malloc(nc * sizeof *rep_l);
    lines = malloc(nc * sizeof *lines);
    known = malloc(nc * sizeof *known);
    pos = malloc(nc * sizeof *pos);
    row = malloc(nc * N_SHARES * 4 * sizeof *row);
    int failed = !s1 || !s2 || !rep || !dis || !rep_l || !lines || !known || !pos || !row;
    if (!failed) line_shares(x1, rep_l, lines);
    /* the known customers of the last quarter, in the one-process customer order over every
     * rank; every stride-th is measured, the (share, shrink) values summed in that order */
    int32_t n_mine = 0;
    for (int32_t c = 0; !failed && c < x2->n_customers; c++)
        if (x2->row_start[c + 1] > x2->row_start[c] && x1->row_start[c + 1] > x1->row_start[c])
            known[n_mine++] = c;
    int64_t n_known = 0;
    if (rank_dist_places(x1, known, failed ? 0 : (size_t)n_mine, pos, &n_known, NULL) || failed) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "mixed: out of memory");
        goto done;
    }
    int64_t stride = n_known > mp->tune_users ? (n_known + mp->tune_users - 1) / mp->tune_users : 1;
    size_t n_rows = 0;
    for (int32_t u = 0; u < n_mine; u++) {
        int32_t c = known[u];
        if (pos[u] % stride) continue;
        int32_t nr, nd;
        st = two_lists(x1, due, disc, c, s1, s2, rep, &nr, dis, &nd);
        if (st) {
            st = prefrec_error_set(err, st, "mixed: out of memory scoring");
            break;
        }
        int64_t tb = x2->row_start[c], te = x2->row_start[c + 1];
        double denom = (double)(te - tb < K ? te - tb : K);
        for (int si = 0; si < N_SHARES; si++)
            for (int ai = 0; ai < 4; ai++) {
                double s = cust_share(rep_l[c], lines[c], SHARES[si], SHRINKS[ai]);
                int32_t i = 0, j = 0, h = 0;
                for (int k = 0; k < K && (i < nr || j < nd); k++) {
                    int take_rep = j >= nd || (i < nr && merge_key(i, s) <= merge_key(j, 1 - s));
                    int32_t p = take_rep ? rep[i++].index : dis[j++].index;
                    if (prefrec_interactions_find(x2, c, p) >= 0) h++;
                }
                row[n_rows * N_SHARES * 4 + (size_t)si * 4 + (size_t)ai] = h / denom;
            }
        pos[n_rows++] = pos[u]; /* n_rows <= u: compacted in place */
    }
    int64_t bad[2] = {st != 0, (int64_t)n_rows};
    if (rank_dist_ordered_sum(x1, pos, row, st ? 0 : n_rows, N_SHARES * 4, &hits[0][0]) ||
        rank_dist_sum(x1, bad, 2) || bad[0]) {
        /* the sums fail only for memory (here or on another rank: MPI errors end the job) */
        if (!st) st = prefrec_error_set(err, PREFREC_E_NOMEM, "mixed: out of memory");
        goto done;
    }
    users = bad[1];
    int bs = 4, ba = 3; /* no users: the global share 0.5 */
    double best = -1;
    for (int si = 0; si < N_SHARES && users; si++)
        for (int ai = 0; ai < 4; ai++)
            if (hits[si][ai] > best + 1e-12) best = hits[si][ai], bs = si, ba = ai;
    *share = SHARES[bs];
    *shrink = SHRINKS[ba];
    if (in->verbose)
        fprintf(stderr,
                "  mixed: tuned on %lld customers (last quarter): repeat share %.2f, shrink %s "
                "(validation recall@%d %.4f)\n",
                (long long)users, *share,
                *shrink < 0        ? "global"
                    : *shrink == 0 ? "none (own share)"
                    : *shrink == 5 ? "5"
                                   : "20",
                K, users ? best / (double)users : 0.0);
done:
    prefrec_ranker_due.free(due);
    prefrec_ranker_blend_served.free(disc);
    prefrec_interactions_free(x1);
    prefrec_interactions_free(x2);
    free(s1), free(s2), free(rep), free(dis), free(rep_l), free(lines);
    free(known), free(pos), free(row);
    return st;
}

static prefrec_status mixed_fit(const prefrec_fit_input *in, const void *params, void **model,
                                prefrec_error *err) {
    *model = NULL;
    prefrec_mixed_params mp = {0.5, -1.0, 1, 1000, 20};
    if (params) mp = *(const prefrec_mixed_params *)params;
    if (!(mp.share >= 0 && mp.share <= 1) || mp.tune_users < 1 || mp.tune_k < 1)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "mixed: need 0 <= share <= 1, tune_users >= 1, tune_k >= 1");
    const prefrec_interactions *x = in->train;
    mixed_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "mixed: out of memory");
    m->x = x;
    m->share = mp.share;
    m->shrink = mp.shrink;
    prefrec_status st = PREFREC_OK;
    if (mp.tune && x->day_to - x->day_from >= 8) st = tune(in, &mp, &m->share, &m->shrink, err);
    if (!st) st = fit_parts(in, x, &m->due, &m->disc, err);
    if (!st) {
        size_t nc = x->n_customers ? (size_t)x->n_customers : 1;
        m->rep_lines = malloc(nc * sizeof *m->rep_lines);
        m->lines = malloc(nc * sizeof *m->lines);
        if (!m->rep_lines || !m->lines)
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "mixed: out of memory");
        else
            line_shares(x, m->rep_lines, m->lines);
    }
    if (st) {
        mixed_free(m);
        return st;
    }
    *model = m;
    return PREFREC_OK;
}

static prefrec_status mixed_score(const void *mv, int32_t c, float *scores) {
    const mixed_model *m = mv;
    const prefrec_interactions *x = m->x;
    size_t P = (size_t)x->n_products;
    float *s1 = malloc((P ? P : 1) * sizeof *s1), *s2 = malloc((P ? P : 1) * sizeof *s2);
    ranked *rep = malloc((P ? P : 1) * sizeof *rep), *dis = malloc((P ? P : 1) * sizeof *dis);
    prefrec_status st = PREFREC_E_NOMEM;
    int32_t nr, nd;
    if (s1 && s2 && rep && dis &&
        !(st = two_lists(x, m->due, m->disc, c, s1, s2, rep, &nr, dis, &nd))) {
        double s = cust_share(m->rep_lines[c], m->lines[c], m->share, m->shrink);
        for (int32_t p = 0; p < x->n_products; p++) scores[p] = -INFINITY; /* not in the window */
        for (int32_t i = 0; i < nr; i++) scores[rep[i].index] = (float)-merge_key(i, s);
        for (int32_t j = 0; j < nd; j++) scores[dis[j].index] = (float)-merge_key(j, 1 - s);
    }
    free(s1), free(s2), free(rep), free(dis);
    return st;
}

void prefrec_mixed_fitted(const void *model, double *share, double *shrink, const void **due) {
    const mixed_model *m = model;
    *share = m->share;
    *shrink = m->shrink;
    *due = m->due;
}

const prefrec_ranker_def prefrec_ranker_mixed = {
    .name = "mixed",
    .summary = "next purchases: buy again (due) and discover (blend_served) merged by a learned "
               "repeat share",
    .tasks = PREFREC_TASK_MIXED,
    .fit = mixed_fit,
    .score = mixed_score,
    .free = mixed_free};
