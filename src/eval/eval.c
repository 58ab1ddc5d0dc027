/* eval.c - the evaluation protocol (prefrec/native/eval.h, docs/eval.md): the test windows, and
 * in each window and affiliate the tuning of rankers on a validation window cut from the
 * training window, the final fit on the whole training window and the figures on the test
 * window, by user group; then the mean over windows and the intervals (eval_boot.c).
 *
 * Order of work: window, affiliate, ranker. Every sum over users is exact (each user's figure
 * rounded once to the grid 2^-64 and the integers added, src/rank/rank_exact.h), so it does not
 * depend on the users' order, the thread count (threads only split the users of one ranking,
 * eval_score.c, and the rankers' own fits, which promise the same) or, sharded, on how the
 * users are split over the ranks: each rank adds up its own users and the ranks' sums are
 * added (docs/mpi.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_internal.h"
#include "host/dist.h"
#include "prefrec/date.h"
#include "prefrec/native/blend_export.h"

enum { GRID_MAX = 256 }; /* grid points tried at most */

prefrec_eval_params prefrec_eval_default_params(void) {
    prefrec_eval_params p;
    memset(&p, 0, sizeof p);
    p.k = 20;
    p.affiliate = -1;
    p.threads = 2;
    p.seed = 42;
    p.windows = 3;
    p.step_days = 30;
    p.tune = 1;
    p.bootstrap = 1000;
    p.min_group = PREFREC_BLEND_MIN_GROUP;
    return p;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the windows -------------------------------------------------------------------------- */
prefrec_status prefrec_eval_windows(const prefrec_eval_params *p, int32_t day_min, int32_t day_max,
                                    prefrec_eval_window *out, int cap, int *n, char *note,
                                    prefrec_error *err) {
    char b1[11], b2[11], b3[11];
    *n = 0;
    if (note) note[0] = 0;
    int32_t end = p->end ? p->end : day_max + 1;
    if (p->val_days < 0 || p->val_days > 3660)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: val_days must be in 0..3660 (got %d)",
                                 p->val_days);
    if (p->cutoff > 0) { /* one window [cutoff, end) */
        if (day_min >= p->cutoff)
            return prefrec_error_set(
                err, PREFREC_E_EMPTY, "eval: no purchases before the cut-off %s (data starts %s)",
                prefrec_date_format(p->cutoff, b1), prefrec_date_format(day_min, b2));
        if (day_max < p->cutoff)
            return prefrec_error_set(err, PREFREC_E_EMPTY,
                                     "eval: no purchases on or after the cut-off %s (data ends %s)",
                                     prefrec_date_format(p->cutoff, b1),
                                     prefrec_date_format(day_max, b2));
        if (end <= p->cutoff)
            return prefrec_error_set(
                err, PREFREC_E_INVAL, "eval: end %s is not after the cut-off %s",
                prefrec_date_format(end, b1), prefrec_date_format(p->cutoff, b2));
        if (cap < 1) return PREFREC_OK;
        int32_t val = p->val_days ? p->val_days : end - p->cutoff;
        out[0].cutoff = p->cutoff;
        out[0].end = end;
        out[0].val_from = p->cutoff - val;
        if (p->cutoff - 2 * val < day_min) {
            out[0].val_from = p->cutoff;
            if (note)
                snprintf(note, 256,
                         "no validation window: %d days of data before the cut-off %s, tuning "
                         "needs %d (%d to fit, %d to validate); rankers use their defaults",
                         p->cutoff - day_min, prefrec_date_format(p->cutoff, b1), 2 * val, val,
                         val);
        }
        *n = 1;
        return PREFREC_OK;
    }
    if (p->windows < 1 || p->windows > 100)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: windows must be in 1..100 (got %d)",
                                 p->windows);
    if (p->step_days < 1 || p->step_days > 3660)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "eval: step_days must be in 1..3660 (got %d)", p->step_days);
    int32_t step = p->step_days, val = p->val_days ? p->val_days : step;
    if (end - step > day_max)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "eval: no purchases in the last test window %s .. %s (data ends "
                                 "%s)",
                                 prefrec_date_format(end - step, b1),
                                 prefrec_date_format(end - 1, b2),
                                 prefrec_date_format(day_max, b3));
    int kept = 0; /* the latest windows first; an earlier one has less data before it */
    while (kept < p->windows && end - (kept + 1) * step - 2 * val >= day_min) kept++;
    if (kept == 0)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "eval: no room for a test window of %d days ending %s: the data "
                                 "(%s .. %s) needs %d days before the cut-off (%d to fit, %d to "
                                 "validate); try a smaller --step or --val-days",
                                 step, prefrec_date_format(end - 1, b1),
                                 prefrec_date_format(day_min, b2), prefrec_date_format(day_max, b3),
                                 2 * val, val, val);
    if (kept < p->windows && note)
        snprintf(note, 256,
                 "%d of %d windows: the data (%s .. %s) leaves room for %d test windows of %d days "
                 "with %d days before each cut-off (%d to fit, %d to validate)",
                 kept, p->windows, prefrec_date_format(day_min, b1),
                 prefrec_date_format(day_max, b2), kept, step, 2 * val, val, val);
    int m = kept < cap ? kept : cap;
    for (int i = 0; i < m; i++) { /* earliest first */
        int32_t e = end - (kept - 1 - i) * step;
        out[i].end = e;
        out[i].cutoff = e - step;
        out[i].val_from = e - step - val;
    }
    *n = m;
    return PREFREC_OK;
}

/* ---- one window of one affiliate ------------------------------------------------------------ */
typedef struct run_ctx {
    const prefrec_dataset *ds;
    const prefrec_eval_params *p;
    const prefrec_eval_ranker *rk;
    prefrec_eval_result *res;
    eval_pool *pool;
    int32_t day_min;
    /* sharded (prefrec_eval_run_dist): the ranks (NULL: one process), each customer's place in
     * the one-process order (NULL: the index), and whether this is rank 0, which adds up the
     * coverage flags */
    prefrec_dist *dist;
    const uint64_t *key;
    int root;
    /* the window's sums over users of each figure of res->m, exact, every rank's users:
     * fx[eval_m_index(..) * F_N + f] */
    rank_fx *fx;
} run_ctx;

/* The figures summed over users: F_N per user row, in this order in run_ctx.fx. The counts go
 * as integers on the grid's units (exact too). */
enum {
    F_REC,
    F_NDCG,
    F_HIT,
    F_RRATIO,
    F_REC_REP,
    F_HIT_REP,
    F_REC_EXPL,
    F_HIT_EXPL,
    F_USERS,
    F_USERS_REP,
    F_USERS_EXPL,
    F_N
};

/* v[0..n) summed over the ranks (collective; one process: nothing). 0 or -1. */
static int users_sum(const run_ctx *cx, rank_fx *v, size_t n) {
    /* PREFREC_MPI_FAIL=R:users (tests/mpi/fail.sh): rank R fails here as if a sum had failed */
    if (prefrec_dist_hook(cx->dist, "users")) return -1;
    return rank_fx_sum_dist(cx->dist, v, n);
}

/* A ranker's window data: the training and test matrices, their users and catalogue. */
typedef struct split {
    prefrec_interactions *tr, *te;
    eval_users u;
    uint8_t *base; /* 1 = not in the catalogue (nobody bought it in the training window) */
    int64_t catalogue;
    eval_ufig *fig[PREFREC_EVAL_TASKS]; /* per user scratch */
} split;

static void split_free(split *s) {
    prefrec_interactions_free(s->tr);
    prefrec_interactions_free(s->te);
    eval_users_free(&s->u);
    free(s->base);
    free(s->fig[0]);
    memset(s, 0, sizeof *s);
}

/* Collective under cx->dist: the windows' buyer counts are summed over the ranks (the
 * catalogue is every rank's), the users are this rank's. */
static prefrec_status split_build(const run_ctx *cx, int aff, int32_t from, int32_t cut,
                                  int32_t end, split *s, prefrec_error *err) {
    memset(s, 0, sizeof *s);
    const prefrec_dataset *ds = cx->ds;
    prefrec_status st =
        prefrec_interactions_build_dist(ds, aff, from, cut, cx->dist, cx->key, &s->tr, err);
    if (!st)
        st = prefrec_interactions_build_dist(ds, aff, cut, end, cx->dist, cx->key, &s->te, err);
    if (st) {
        split_free(s);
        return st;
    }
    int32_t np = s->tr->n_products;
    size_t nu = 1;
    if (eval_users_build(s->tr, s->te, &s->u) || !(s->base = malloc((size_t)(np ? np : 1))) ||
        !(s->fig[0] =
              calloc((nu = s->u.n ? (size_t)s->u.n : 1) * PREFREC_EVAL_TASKS, sizeof *s->fig[0])))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    if ((st = prefrec_dist_agree(cx->dist, st, 0, err))) {
        split_free(s);
        return st;
    }
    for (int t = 1; t < PREFREC_EVAL_TASKS; t++) s->fig[t] = s->fig[0] + (size_t)t * nu;
    for (int32_t j = 0; j < np; j++) {
        s->base[j] = s->tr->n_buyers[j] == 0;
        s->catalogue += !s->base[j];
    }
    return PREFREC_OK;
}

static void fig_clear(split *s) {
    memset(s->fig[0], 0, (s->u.n ? (size_t)s->u.n : 1) * PREFREC_EVAL_TASKS * sizeof *s->fig[0]);
}

/* The coverage flags (a byte each, 0 or 1) of every rank OR-ed, on every rank: 64 flags a
 * word in one bitwise-OR reduction, ncov / 8 bytes whatever the number of ranks (collective;
 * one process: as is). */
static int cover_merge(const run_ctx *cx, uint8_t *cover, size_t ncov) {
    if (!cx->dist) return 0;
    size_t nw = (ncov + 63) / 64;
    uint64_t *w = calloc(nw ? nw : 1, sizeof *w);
    if (!w) { /* cannot take part: the next collective stops the job (host/dist.h) */
        prefrec_dist_fail(cx->dist, NULL);
        return -1;
    }
    for (size_t j = 0; j < ncov; j++) w[j / 64] |= (uint64_t)(cover[j] != 0) << (j % 64);
    int rc = prefrec_dist_allreduce_i64(cx->dist, (int64_t *)(void *)w, nw, PREFREC_DIST_BOR);
    for (size_t j = 0; !rc && j < ncov; j++) cover[j] = (uint8_t)(w[j / 64] >> (j % 64) & 1);
    free(w);
    return rc;
}

/* Add the figures of ranker i on the tasks in mask (window w, affiliate slot a) to the sums:
 * this rank's users of s summed exactly per task and group (known, cold) and the sums added over
 * the ranks (collective), the coverage from cover (every rank's, OR-ed: cover_merge), and the
 * bootstrap pool from this rank's own users. 0, or -1 (a sum out of range, the exchange). */
static int accumulate(run_ctx *cx, int w, int a, size_t i, const split *s, unsigned mask,
                      const uint8_t *cover) {
    prefrec_eval_result *r = cx->res;
    const eval_pool *pool = cx->pool;
    size_t nr = pool->n_rankers, ng = PREFREC_EVAL_TASKS * 2;
    int32_t np = s->tr->n_products;
    rank_fx sum[PREFREC_EVAL_TASKS][2][F_N];
    memset(sum, 0, sizeof sum);
    int bad = 0;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        if (!((mask >> t) & 1)) continue;
        for (int32_t j = 0; j < s->u.n; j++) {
            const eval_ufig *f = &s->fig[t][j];
            if (!f->on) continue;
            size_t h = !s->u.known[j], tg = (size_t)t * 2 + h;
            size_t row = (size_t)pool->slot[s->u.cust[j]]; /* made with the counts */
            pool->sum[(row * ng + tg) * nr + i] += f->rec;
            rank_fx *x = sum[t][h];
            bad |= rank_fx_add(&x[F_REC], f->rec) | rank_fx_add(&x[F_NDCG], f->ndcg) |
                rank_fx_add(&x[F_RRATIO], f->rratio) | rank_fx_add(&x[F_REC_REP], f->rec_rep) |
                rank_fx_add(&x[F_REC_EXPL], f->rec_expl);
            x[F_HIT] += f->hit;
            x[F_HIT_REP] += f->hit_rep;
            x[F_HIT_EXPL] += f->hit_expl;
            x[F_USERS]++;
            x[F_USERS_REP] += f->on_rep;
            x[F_USERS_EXPL] += f->on_expl;
        }
    }
    /* the same call on every rank (a rank out of range still sends its sums, then all agree) */
    if (users_sum(cx, &sum[0][0][0], sizeof sum / sizeof sum[0][0][0]) || bad) return -1;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        if (!((mask >> t) & 1)) continue;
        for (int h = 0; h < 2; h++) {
            int gs[2] = {h ? PREFREC_EVAL_COLD : PREFREC_EVAL_KNOWN, PREFREC_EVAL_ALL};
            int as[2] = {a, -1};
            for (int x = 0; x < 4; x++) {
                size_t mi = eval_m_index(r, w, t, gs[x & 1], as[x >> 1], i);
                rank_fx *acc = cx->fx + mi * F_N;
                for (int f = 0; f < F_N; f++) bad |= rank_fx_add_fx(&acc[f], sum[t][h][f]);
                /* the window's sums so far (eval_result_finish_window makes the means) */
                prefrec_metrics *m = &r->m[mi];
                m->recall = rank_fx_double(acc[F_REC]);
                m->ndcg = rank_fx_double(acc[F_NDCG]);
                m->hit_rate = (double)(int64_t)acc[F_HIT];
                m->repeat_ratio = rank_fx_double(acc[F_RRATIO]);
                m->recall_rep = rank_fx_double(acc[F_REC_REP]);
                m->hit_rate_rep = (double)(int64_t)acc[F_HIT_REP];
                m->recall_expl = rank_fx_double(acc[F_REC_EXPL]);
                m->hit_rate_expl = (double)(int64_t)acc[F_HIT_EXPL];
                m->users = (int64_t)acc[F_USERS];
                m->users_rep = (int64_t)acc[F_USERS_REP];
                m->users_expl = (int64_t)acc[F_USERS_EXPL];
            }
        }
        if (!cx->root) continue;
        /* coverage by group: known, cold, and overall = either */
        int64_t cov[PREFREC_EVAL_GROUPS] = {0, 0, 0};
        const uint8_t *fk = cover + ((size_t)t * 2) * (size_t)np, *fc = fk + np;
        for (int32_t j = 0; j < np; j++) {
            if (s->base[j]) continue;
            cov[PREFREC_EVAL_KNOWN] += fk[j];
            cov[PREFREC_EVAL_COLD] += fc[j];
            cov[PREFREC_EVAL_ALL] += fk[j] | fc[j];
        }
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++)
            for (int x = 0; x < 2; x++) {
                prefrec_metrics *m = &r->m[eval_m_index(r, w, t, g, x ? -1 : a, i)];
                m->covered += cov[g];
                m->catalogue += s->catalogue;
            }
    }
    return bad ? -1 : 0;
}

/* Mean recall and NDCG over the users of s measured on task t, every rank's (collective): the
 * sums exact, so the choice is the same on every rank and for any N. 0 or -1. */
static int mean_fig(const run_ctx *cx, const split *s, unsigned mask, double rec[], double ndcg[],
                    int64_t n[]) {
    rank_fx sum[PREFREC_EVAL_TASKS][3];
    memset(sum, 0, sizeof sum);
    int bad = 0;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int32_t j = 0; ((mask >> t) & 1) && j < s->u.n; j++) {
            const eval_ufig *f = &s->fig[t][j];
            if (!f->on) continue;
            bad |= rank_fx_add(&sum[t][0], f->rec) | rank_fx_add(&sum[t][1], f->ndcg);
            sum[t][2]++;
        }
    if (users_sum(cx, &sum[0][0], sizeof sum / sizeof sum[0][0]) || bad) return -1;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        n[t] = (int64_t)sum[t][2];
        rec[t] = n[t] ? rank_fx_double(sum[t][0]) / (double)n[t] : 0;
        ndcg[t] = n[t] ? rank_fx_double(sum[t][1]) / (double)n[t] : 0;
    }
    return 0;
}

/* Fit def with params on s and rank s's users into s->fig (and cover); one error for every
 * rank (collective under cx->dist). */
static prefrec_status fit_and_rank(run_ctx *cx, const prefrec_ranker_def *def, const void *params,
                                   split *s, unsigned mask, int verbose, uint8_t *cover,
                                   double *fit_s, prefrec_error *err) {
    const prefrec_eval_params *p = cx->p;
    prefrec_fit_input in = {cx->ds, s->tr, p->threads, p->seed, verbose, p->min_group, p->storage};
    void *model = NULL;
    double f0 = now_seconds();
    prefrec_status own = def->fit(&in, params, &model, err);
    prefrec_status st = prefrec_dist_agree(cx->dist, own, 0, err);
    if (fit_s) *fit_s = now_seconds() - f0;
    if (st) { /* a failed fit leaves no model; another rank's failure leaves ours */
        if (!own) def->free(model);
        return st;
    }
    fig_clear(s);
    if (eval_rank_users(def, model, s->tr, &s->u, s->base, p->k, mask, p->threads, s->fig, cover))
        st = prefrec_error_set(err, PREFREC_E_NOMEM,
                               "eval: ranker '%s' could not finish: out of memory", def->name);
    def->free(model);
    return prefrec_dist_agree(cx->dist, st, 0, err);
}

/* Tune ranker i on the validation split v: for every task in mask, the grid point with the
 * best mean Recall@K (ties: NDCG, then the earlier point) into chosen[t] (-1: none had users).
 * Sharded, every rank chooses from the same exact sums over every rank's users. */
static prefrec_status tune(run_ctx *cx, int w, int a, size_t i, split *v, unsigned mask,
                           int chosen[PREFREC_EVAL_TASKS], prefrec_error *err) {
    const prefrec_ranker_def *def = cx->rk[i].def;
    prefrec_eval_result *r = cx->res;
    struct {
        double best_r[PREFREC_EVAL_TASKS], best_n[PREFREC_EVAL_TASKS];
        int64_t best_u[PREFREC_EVAL_TASKS], chosen[PREFREC_EVAL_TASKS];
    } b;
    memset(&b, 0, sizeof b);
    void *blob = calloc(1, def->params_size);
    prefrec_status st =
        blob ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    if ((st = prefrec_dist_agree(cx->dist, st, 0, err))) {
        free(blob);
        return st;
    }
    int points = 0;
    double t0 = now_seconds();
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) b.chosen[t] = -1;
    for (size_t g = 0; g < GRID_MAX && !st; g++) {
        memset(blob, 0, def->params_size);
        if (!def->grid(g, blob)) break;
        points++;
        st = fit_and_rank(cx, def, blob, v, mask, 0, NULL, NULL, err);
        if (st) break;
        double rc[PREFREC_EVAL_TASKS], nd[PREFREC_EVAL_TASKS];
        int64_t n[PREFREC_EVAL_TASKS];
        if (mean_fig(cx, v, mask, rc, nd, n)) {
            st = prefrec_error_set(err, PREFREC_E_IO, "eval: summing the users' figures failed");
            break;
        }
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
            if (!((mask >> t) & 1) || n[t] == 0) continue;
            if (b.chosen[t] < 0 || rc[t] > b.best_r[t] ||
                (rc[t] == b.best_r[t] && nd[t] > b.best_n[t])) {
                b.chosen[t] = (int64_t)g;
                b.best_r[t] = rc[t];
                b.best_n[t] = nd[t];
                b.best_u[t] = n[t];
            }
        }
    }
    r->tune_seconds[i] += now_seconds() - t0;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) chosen[t] = (int)b.chosen[t];
    for (int t = 0; t < PREFREC_EVAL_TASKS && !st; t++) {
        prefrec_eval_choice *c = &r->choice[eval_choice_index(r, w, a, t, i)];
        c->grid_points = points;
        if (!((mask >> t) & 1) || chosen[t] < 0) continue;
        c->tuned = 1;
        c->grid_index = chosen[t];
        c->val_recall = b.best_r[t];
        c->val_ndcg = b.best_n[t];
        c->val_users = b.best_u[t];
        memset(blob, 0, def->params_size);
        def->grid((size_t)chosen[t], blob);
        if (def->describe) def->describe(blob, c->params, sizeof c->params);
    }
    free(blob);
    return st;
}

static int tunable(const run_ctx *cx, size_t i) {
    const prefrec_ranker_def *d = cx->rk[i].def;
    return cx->p->tune && !cx->rk[i].params && d->grid && d->params_size > 0;
}

/* Window w, affiliate slot a (dataset affiliate aff): tune, fit and measure every ranker. */
static prefrec_status eval_window_affiliate(run_ctx *cx, int w, int a, int aff,
                                            prefrec_error *err) {
    prefrec_eval_result *r = cx->res;
    const prefrec_eval_window *win = &r->windows[w];
    const prefrec_eval_params *p = cx->p;
    split s, v;
    memset(&v, 0, sizeof v);
    prefrec_status st = split_build(cx, aff, cx->day_min, win->cutoff, win->end, &s, err);
    if (st) return st;
    /* counts over every rank (one process: as they are) */
    int64_t tot[5] = {s.tr->n_pairs, s.u.n_new, s.u.n_rep, s.u.n_known, s.u.n};
    if (prefrec_dist_allreduce_i64(cx->dist, tot, 5, PREFREC_DIST_SUM)) {
        split_free(&s);
        return prefrec_error_set(err, PREFREC_E_IO, "eval: summing over the ranks failed");
    }
    r->train_pairs[(size_t)w * (size_t)r->n_affiliates + (size_t)a] = tot[0];
    char d1[11], d2[11];
    if (p->verbose)
        fprintf(stderr,
                "eval: window %d/%d (test %s .. %s) %s: %lld training pairs, %lld products; "
                "users: %lld new-item, %lld repurchase, %lld known, %lld cold\n",
                w + 1, r->n_windows, prefrec_date_format(win->cutoff, d1),
                prefrec_date_format(win->end - 1, d2), r->affiliate_names[a], (long long)tot[0],
                (long long)s.catalogue, (long long)tot[1], (long long)tot[2], (long long)tot[3],
                (long long)(tot[4] - tot[3]));
    if (tot[4] == 0) {
        split_free(&s);
        return PREFREC_OK;
    }
    /* the pool's row counts: users per task and group, whatever the ranker */
    eval_pool *pool = cx->pool;
    for (int32_t j = 0; j < s.u.n && !st; j++) {
        int32_t c = s.u.cust[j], row;
        size_t h = !s.u.known[j];
        const char *code = prefrec_dict_str(cx->ds->customers, c);
        if ((row = eval_pool_row(pool, c,
                                 eval_boot_key(code ? code : "", code ? strlen(code) : 0))) < 0) {
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: bootstrap: out of memory");
            break;
        }
        int on[PREFREC_EVAL_TASKS] = {s.u.new_start[j + 1] > s.u.new_start[j],
                                      s.u.rep_start[j + 1] > s.u.rep_start[j], 1};
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            if (on[t]) pool->count[(size_t)row * PREFREC_EVAL_TASKS * 2 + (size_t)t * 2 + h]++;
    }
    if ((st = prefrec_dist_agree(cx->dist, st, 0, err))) {
        split_free(&s);
        return st;
    }
    int need_val = 0;
    for (size_t i = 0; i < r->n_rankers; i++) need_val |= tunable(cx, i);
    int have_val = 0;
    if (need_val && win->val_from < win->cutoff) {
        st = split_build(cx, aff, cx->day_min, win->val_from, win->cutoff, &v, err);
        if (st) {
            split_free(&s);
            return st;
        }
        int64_t vn[2] = {v.u.n, v.tr->n_pairs};
        if (prefrec_dist_allreduce_i64(cx->dist, vn, 2, PREFREC_DIST_SUM))
            st = prefrec_error_set(err, PREFREC_E_IO, "eval: summing over the ranks failed");
        have_val = vn[0] > 0 && vn[1] > 0;
    }
    int32_t np = s.tr->n_products;
    size_t ncov = (size_t)PREFREC_EVAL_TASKS * 2 * (size_t)(np ? np : 1);
    uint8_t *cover = st ? NULL : malloc(ncov);
    void *blob = NULL;
    if (!st && !cover) st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    st = prefrec_dist_agree(cx->dist, st, 0, err);
    for (size_t i = 0; i < r->n_rankers && !st; i++) {
        const prefrec_ranker_def *def = cx->rk[i].def;
        unsigned mask = r->ranker_tasks[i];
        int chosen[PREFREC_EVAL_TASKS] = {-1, -1, -1};
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
            prefrec_eval_choice *c = &r->choice[eval_choice_index(r, w, a, t, i)];
            if (cx->rk[i].params && def->describe)
                def->describe(cx->rk[i].params, c->params, sizeof c->params);
        }
        if (tunable(cx, i) && have_val) {
            st = tune(cx, w, a, i, &v, mask, chosen, err);
            if (st) break;
            if (p->verbose) {
                fprintf(stderr, "eval: window %d/%d %s: %s tuned on validation (%s ..):", w + 1,
                        r->n_windows, r->affiliate_names[a], def->name,
                        prefrec_date_format(win->val_from, d1));
                for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
                    if ((mask >> t) & 1)
                        fprintf(stderr, " %s %s", prefrec_eval_task_name(t),
                                chosen[t] < 0 ? "(defaults)"
                                              : r->choice[eval_choice_index(r, w, a, t, i)].params);
                fprintf(stderr, "\n");
            }
        }
        /* one fit per distinct params: tasks that chose the same point share it */
        unsigned done = 0;
        for (int t0 = 0; t0 < PREFREC_EVAL_TASKS && !st; t0++) {
            if (!((mask >> t0) & 1) || ((done >> t0) & 1)) continue;
            unsigned sub = 0;
            for (int t = t0; t < PREFREC_EVAL_TASKS; t++)
                if (((mask >> t) & 1) && chosen[t] == chosen[t0]) sub |= 1u << t;
            done |= sub;
            const void *params = cx->rk[i].params;
            if (chosen[t0] >= 0) {
                free(blob);
                blob = calloc(1, def->params_size);
                if ((st = prefrec_dist_agree(
                         cx->dist,
                         blob ? PREFREC_OK
                              : prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory"),
                         0, err)))
                    break;
                def->grid((size_t)chosen[t0], blob);
                params = blob;
            }
            double f1 = now_seconds(), fit_s = 0;
            memset(cover, 0, ncov);
            st = fit_and_rank(cx, def, params, &s, sub, p->verbose, cover, &fit_s, err);
            r->fit_seconds[i] += fit_s;
            r->score_seconds[i] += now_seconds() - f1 - fit_s;
            if (st) break;
            int bad = cover_merge(cx, cover, ncov);
            bad |= accumulate(cx, w, a, i, &s, sub, cover); /* both collective: every rank */
            if (bad) {
                st =
                    prefrec_error_set(err, PREFREC_E_IO, "eval: summing the users' figures failed");
                break;
            }
            if (p->verbose) {
                fprintf(stderr,
                        "eval: window %d/%d %s: %-12s fit %7.2f s, ranked in %6.2f s:", w + 1,
                        r->n_windows, r->affiliate_names[a], def->name, fit_s,
                        now_seconds() - f1 - fit_s);
                for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
                    if (!((sub >> t) & 1)) continue;
                    const prefrec_metrics *m = &r->m[eval_m_index(r, w, t, PREFREC_EVAL_ALL, a, i)];
                    fprintf(stderr, " %s recall@%d %.4f", prefrec_eval_task_name(t), p->k,
                            m->users ? m->recall / (double)m->users : 0.0);
                }
                fprintf(stderr, "\n");
            }
        }
    }
    free(blob);
    free(cover);
    split_free(&v);
    split_free(&s);
    return st;
}

/* ---- the run ------------------------------------------------------------------------------ */
static unsigned measured_tasks(unsigned tasks) {
    unsigned m = 0;
    if (tasks & PREFREC_TASK_NEW_ITEMS) m |= 1u << PREFREC_EVAL_NEW_ITEMS;
    if (tasks & PREFREC_TASK_REPURCHASE) m |= 1u << PREFREC_EVAL_REPURCHASE;
    if ((tasks & PREFREC_TASK_MIXED) ||
        ((tasks & PREFREC_TASK_NEW_ITEMS) && (tasks & PREFREC_TASK_REPURCHASE)))
        m |= 1u << PREFREC_EVAL_MIXED;
    return m;
}

static prefrec_status run(const prefrec_dataset *ds, const uint64_t *customer_key, int32_t day_min,
                          int32_t day_max, uint64_t rows_total, prefrec_dist *d,
                          const prefrec_eval_params *params, const prefrec_eval_ranker *rankers,
                          size_t n_rankers, prefrec_eval_result **out, prefrec_error *err) {
    if (!ds || !out || (!rankers && n_rankers))
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: NULL argument");
    *out = NULL;
    const int root = prefrec_dist_rank(d) == 0;
    prefrec_eval_params p = params ? *params : prefrec_eval_default_params();
    if (!root) p.verbose = 0; /* rank 0 speaks for the job */
    if (p.k < 1 || p.k > 10000)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: k must be in 1..10000 (got %d)", p.k);
    if (p.bootstrap < 0 || p.bootstrap > 1000000)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "eval: bootstrap must be in 0..1000000 (got %d)", p.bootstrap);
    if (rows_total == 0)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "eval: the data has no purchases");
    int n_aff_ds = prefrec_dict_size(ds->affiliates);
    if (p.affiliate >= n_aff_ds)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "eval: affiliate index %d out of range (%d affiliates)",
                                 p.affiliate, n_aff_ds);
    for (size_t r = 0; r < n_rankers; r++) {
        const prefrec_ranker_def *rd = rankers[r].def;
        if (!rd || !rd->fit || !rd->score || !rd->free)
            return prefrec_error_set(err, PREFREC_E_INVAL, "eval: ranker %zu is incomplete", r);
        if (rd->grid && rd->params_size == 0)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "eval: ranker '%s' has a grid but no params_size", rd->name);
        if (prefrec_dist_size(d) > 1 && !prefrec_ranker_sharded(rd))
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "eval: ranker '%s' is not sharded (%s; on several ranks "
                                     "eval runs %s; run it in one process)",
                                     rd->name, prefrec_ranker_unsharded_why(rd),
                                     prefrec_rankers_sharded_names());
    }
    prefrec_eval_window win[100];
    int n_win = 0;
    char note[256];
    prefrec_status st = prefrec_eval_windows(&p, day_min, day_max, win, 100, &n_win, note, err);
    if (st) return st;
    if (note[0] && p.verbose) fprintf(stderr, "eval: %s\n", note);
    int n_aff = p.affiliate >= 0 ? 1 : n_aff_ds;
    prefrec_eval_result *res = eval_result_new(n_win, n_aff, n_rankers);
    int *aff = calloc((size_t)n_aff + 1, sizeof *aff);
    eval_pool pool;
    memset(&pool, 0, sizeof pool);
    size_t nm = res ? ((size_t)n_win + 1) * PREFREC_EVAL_TASKS * PREFREC_EVAL_GROUPS *
            ((size_t)n_aff + 1) * (n_rankers ? n_rankers : 1)
                    : 1;
    rank_fx *fx = calloc(nm * F_N, sizeof *fx);
    st = !res || !aff || !fx || eval_pool_init(&pool, prefrec_dict_size(ds->customers), n_rankers)
        ? prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory")
        : PREFREC_OK;
    if ((st = prefrec_dist_agree(d, st, 0, err))) {
        free(aff);
        free(fx);
        eval_pool_free(&pool);
        prefrec_eval_result_free(res);
        return st;
    }
    memcpy(res->windows, win, (size_t)n_win * sizeof *win);
    memcpy(res->note, note, sizeof note);
    res->k = p.k;
    res->cutoff = win[0].cutoff;
    res->end = win[n_win - 1].end;
    res->step_days = p.cutoff > 0 ? win[0].end - win[0].cutoff : p.step_days;
    res->val_days = p.val_days ? p.val_days : res->step_days;
    res->bootstrap = p.bootstrap;
    res->seed = p.seed;
    res->default_name = prefrec_ranker_default_name;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        res->defaults[t] = p.defaults[t] ? p.defaults[t] : prefrec_ranker_task_default[t];
    for (size_t r = 0; r < n_rankers; r++) {
        res->ranker_names[r] = rankers[r].def->name;
        res->ranker_tasks[r] = measured_tasks(rankers[r].def->tasks);
    }
    if (p.affiliate >= 0)
        aff[0] = p.affiliate;
    else {
        for (int a = 0; a < n_aff; a++) aff[a] = a;
        for (int a = 1; a < n_aff; a++) /* insertion sort by name: reports are stable */
            for (int b = a; b > 0 &&
                 strcmp(prefrec_dict_str(ds->affiliates, aff[b - 1]),
                        prefrec_dict_str(ds->affiliates, aff[b])) > 0;
                 b--) {
                int t = aff[b];
                aff[b] = aff[b - 1];
                aff[b - 1] = t;
            }
    }
    for (int s = 0; s < n_aff && !st; s++) {
        const char *an = prefrec_dict_str(ds->affiliates, aff[s]);
        if (!(res->affiliate_names[s] = strdup(an ? an : "?")))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    }
    if (!st && !(res->affiliate_names[n_aff] = strdup("overall")))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    st = prefrec_dist_agree(d, st, 0, err);
    run_ctx cx = {ds, &p, rankers, res, &pool, day_min, d, customer_key, root, fx};
    for (int w = 0; w < n_win && !st; w++) {
        for (int s = 0; s < n_aff && !st; s++) st = eval_window_affiliate(&cx, w, s, aff[s], err);
        if (!st) eval_result_finish_window(res, w);
    }
    free(aff);
    if (!st) {
        /* every rank has the figures (exact sums over every rank's users), so every rank picks
         * the same baselines; each adds its own customers to the replicates */
        eval_result_finish_mean(res);
        st = eval_intervals(res, &pool, p.bootstrap, p.seed, d, err);
        st = prefrec_dist_agree(d, st, 0, err);
    }
    free(fx);
    eval_pool_free(&pool);
    if (st) {
        prefrec_eval_result_free(res);
        return st;
    }
    *out = res;
    return PREFREC_OK;
}

prefrec_status prefrec_eval_run(const prefrec_dataset *ds, const prefrec_eval_params *params,
                                const prefrec_eval_ranker *rankers, size_t n_rankers,
                                prefrec_eval_result **out, prefrec_error *err) {
    if (!ds) return prefrec_error_set(err, PREFREC_E_INVAL, "eval: NULL argument");
    return run(ds, NULL, ds->day_min, ds->day_max, ds->n_rows, NULL, params, rankers, n_rankers,
               out, err);
}

prefrec_status prefrec_eval_run_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                     int32_t day_min, int32_t day_max, uint64_t rows_total,
                                     prefrec_dist *d, const prefrec_eval_params *params,
                                     const prefrec_eval_ranker *rankers, size_t n_rankers,
                                     prefrec_eval_result **out, prefrec_error *err) {
    return run(ds, customer_key, day_min, day_max, rows_total, d, params, rankers, n_rankers, out,
               err);
}
