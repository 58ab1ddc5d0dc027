/* eval.c - the evaluation protocol (prefrec/native/eval.h, docs/eval.md): the test windows, and
 * in each window and affiliate the tuning of rankers on a validation window cut from the
 * training window, the final fit on the whole training window and the figures on the test
 * window, by user group; then the mean over windows and the intervals (eval_boot.c).
 *
 * Order of work: window, affiliate, ranker; every sum is taken in that order and in user order,
 * so the figures do not depend on the thread count (threads only split the users of one
 * ranking, eval_score.c, and the rankers' own fits, which promise the same). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval_internal.h"
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
} run_ctx;

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

static prefrec_status split_build(const prefrec_dataset *ds, int aff, int32_t from, int32_t cut,
                                  int32_t end, split *s, prefrec_error *err) {
    memset(s, 0, sizeof *s);
    prefrec_status st = prefrec_interactions_build(ds, aff, from, cut, &s->tr, err);
    if (!st) st = prefrec_interactions_build(ds, aff, cut, end, &s->te, err);
    if (st) {
        split_free(s);
        return st;
    }
    int32_t np = s->tr->n_products;
    if (eval_users_build(s->tr, s->te, &s->u) || !(s->base = malloc((size_t)(np ? np : 1)))) {
        split_free(s);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    }
    size_t nu = s->u.n ? (size_t)s->u.n : 1;
    if (!(s->fig[0] = calloc(nu * PREFREC_EVAL_TASKS, sizeof *s->fig[0]))) {
        split_free(s);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
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

/* Add the figures of ranker i on the tasks in mask (window w, affiliate slot a) to the sums. */
static void accumulate(run_ctx *cx, int w, int a, size_t i, const split *s, unsigned mask,
                       const uint8_t *cover) {
    prefrec_eval_result *r = cx->res;
    const eval_pool *pool = cx->pool;
    size_t nc = (size_t)pool->n_customers, nr = pool->n_rankers;
    int32_t np = s->tr->n_products;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        if (!((mask >> t) & 1)) continue;
        for (int32_t j = 0; j < s->u.n; j++) {
            const eval_ufig *f = &s->fig[t][j];
            if (!f->on) continue;
            int g = s->u.known[j] ? PREFREC_EVAL_KNOWN : PREFREC_EVAL_COLD;
            int gs[2] = {g, PREFREC_EVAL_ALL}, as[2] = {a, -1};
            for (int x = 0; x < 4; x++) {
                prefrec_metrics *m = &r->m[eval_m_index(r, w, t, gs[x & 1], as[x >> 1], i)];
                m->users++;
                m->recall += f->rec;
                m->ndcg += f->ndcg;
                m->hit_rate += f->hit;
                m->repeat_ratio += f->rratio;
                m->users_rep += f->on_rep;
                m->recall_rep += f->rec_rep;
                m->hit_rate_rep += f->hit_rep;
                m->users_expl += f->on_expl;
                m->recall_expl += f->rec_expl;
                m->hit_rate_expl += f->hit_expl;
            }
            size_t tg = (size_t)t * 2 + (g == PREFREC_EVAL_COLD);
            pool->sum[(tg * nr + i) * nc + (size_t)s->u.cust[j]] += f->rec;
        }
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
}

/* Mean recall and NDCG over the users measured on task t. */
static int64_t mean_fig(const split *s, int t, double *rec, double *ndcg) {
    double sr = 0, sn = 0;
    int64_t n = 0;
    for (int32_t j = 0; j < s->u.n; j++) {
        const eval_ufig *f = &s->fig[t][j];
        if (!f->on) continue;
        sr += f->rec;
        sn += f->ndcg;
        n++;
    }
    *rec = n ? sr / (double)n : 0;
    *ndcg = n ? sn / (double)n : 0;
    return n;
}

/* Tune ranker i on the validation split v: for every task in mask, the grid point with the
 * best mean Recall@K (ties: NDCG, then the earlier point) into chosen[t] (-1: none had users). */
static prefrec_status tune(run_ctx *cx, int w, int a, size_t i, split *v, unsigned mask,
                           int chosen[PREFREC_EVAL_TASKS], prefrec_error *err) {
    const prefrec_ranker_def *def = cx->rk[i].def;
    prefrec_eval_result *r = cx->res;
    double best_r[PREFREC_EVAL_TASKS] = {0}, best_n[PREFREC_EVAL_TASKS] = {0};
    int64_t best_u[PREFREC_EVAL_TASKS] = {0};
    void *blob = calloc(1, def->params_size);
    if (!blob) return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    prefrec_fit_input in = {cx->ds,           v->tr,         cx->p->threads, cx->p->seed, 0,
                            cx->p->min_group, cx->p->storage};
    prefrec_status st = PREFREC_OK;
    int points = 0;
    double t0 = now_seconds();
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) chosen[t] = -1;
    for (size_t g = 0; g < GRID_MAX && !st; g++) {
        memset(blob, 0, def->params_size);
        if (!def->grid(g, blob)) break;
        points++;
        void *model = NULL;
        st = def->fit(&in, blob, &model, err);
        if (st) break;
        fig_clear(v);
        if (eval_rank_users(def, model, v->tr, &v->u, v->base, cx->p->k, mask, cx->p->threads,
                            v->fig, NULL))
            st = prefrec_error_set(err, PREFREC_E_NOMEM,
                                   "eval: ranker '%s' could not finish: out of memory", def->name);
        def->free(model);
        for (int t = 0; t < PREFREC_EVAL_TASKS && !st; t++) {
            if (!((mask >> t) & 1)) continue;
            double rc, nd;
            int64_t n = mean_fig(v, t, &rc, &nd);
            if (n == 0) continue;
            if (chosen[t] < 0 || rc > best_r[t] || (rc == best_r[t] && nd > best_n[t])) {
                chosen[t] = (int)g;
                best_r[t] = rc;
                best_n[t] = nd;
                best_u[t] = n;
            }
        }
    }
    r->tune_seconds[i] += now_seconds() - t0;
    for (int t = 0; t < PREFREC_EVAL_TASKS && !st; t++) {
        prefrec_eval_choice *c = &r->choice[eval_choice_index(r, w, a, t, i)];
        c->grid_points = points;
        if (!((mask >> t) & 1) || chosen[t] < 0) continue;
        c->tuned = 1;
        c->grid_index = chosen[t];
        c->val_recall = best_r[t];
        c->val_ndcg = best_n[t];
        c->val_users = best_u[t];
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
    prefrec_status st = split_build(cx->ds, aff, cx->day_min, win->cutoff, win->end, &s, err);
    if (st) return st;
    r->train_pairs[(size_t)w * (size_t)r->n_affiliates + (size_t)a] = s.tr->n_pairs;
    char d1[11], d2[11];
    if (p->verbose)
        fprintf(stderr,
                "eval: window %d/%d (test %s .. %s) %s: %lld training pairs, %lld products; "
                "users: %lld new-item, %lld repurchase, %lld known, %lld cold\n",
                w + 1, r->n_windows, prefrec_date_format(win->cutoff, d1),
                prefrec_date_format(win->end - 1, d2), r->affiliate_names[a],
                (long long)s.tr->n_pairs, (long long)s.catalogue, (long long)s.u.n_new,
                (long long)s.u.n_rep, (long long)s.u.n_known, (long long)(s.u.n - s.u.n_known));
    if (s.u.n == 0) {
        split_free(&s);
        return PREFREC_OK;
    }
    /* the pool's row counts: users per task and group, whatever the ranker */
    eval_pool *pool = cx->pool;
    for (int32_t j = 0; j < s.u.n; j++) {
        size_t c = (size_t)s.u.cust[j], h = !s.u.known[j], nc = (size_t)pool->n_customers;
        int on[PREFREC_EVAL_TASKS] = {s.u.new_start[j + 1] > s.u.new_start[j],
                                      s.u.rep_start[j + 1] > s.u.rep_start[j], 1};
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            if (on[t]) pool->count[((size_t)t * 2 + h) * nc + c]++;
    }
    int need_val = 0;
    for (size_t i = 0; i < r->n_rankers; i++) need_val |= tunable(cx, i);
    int have_val = 0;
    if (need_val && win->val_from < win->cutoff) {
        st = split_build(cx->ds, aff, cx->day_min, win->val_from, win->cutoff, &v, err);
        if (st) {
            split_free(&s);
            return st;
        }
        have_val = v.u.n > 0 && v.tr->n_pairs > 0;
    }
    int32_t np = s.tr->n_products;
    size_t ncov = (size_t)PREFREC_EVAL_TASKS * 2 * (size_t)(np ? np : 1);
    uint8_t *cover = malloc(ncov);
    void *blob = NULL;
    if (!cover) st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
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
                if (!(blob = calloc(1, def->params_size))) {
                    st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
                    break;
                }
                def->grid((size_t)chosen[t0], blob);
                params = blob;
            }
            prefrec_fit_input in = {cx->ds,     s.tr,         p->threads, p->seed,
                                    p->verbose, p->min_group, p->storage};
            void *model = NULL;
            double f0 = now_seconds();
            st = def->fit(&in, params, &model, err);
            if (st) break;
            double f1 = now_seconds();
            memset(cover, 0, ncov);
            fig_clear(&s);
            if (eval_rank_users(def, model, s.tr, &s.u, s.base, p->k, sub, p->threads, s.fig,
                                cover))
                st = prefrec_error_set(err, PREFREC_E_NOMEM,
                                       "eval: ranker '%s' could not finish: out of memory",
                                       def->name);
            def->free(model);
            r->fit_seconds[i] += f1 - f0;
            r->score_seconds[i] += now_seconds() - f1;
            if (st) break;
            accumulate(cx, w, a, i, &s, sub, cover);
            if (p->verbose) {
                fprintf(
                    stderr, "eval: window %d/%d %s: %-12s fit %7.2f s, ranked in %6.2f s:", w + 1,
                    r->n_windows, r->affiliate_names[a], def->name, f1 - f0, now_seconds() - f1);
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

prefrec_status prefrec_eval_run(const prefrec_dataset *ds, const prefrec_eval_params *params,
                                const prefrec_eval_ranker *rankers, size_t n_rankers,
                                prefrec_eval_result **out, prefrec_error *err) {
    if (!ds || !out || (!rankers && n_rankers))
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: NULL argument");
    *out = NULL;
    prefrec_eval_params p = params ? *params : prefrec_eval_default_params();
    if (p.k < 1 || p.k > 10000)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: k must be in 1..10000 (got %d)", p.k);
    if (p.bootstrap < 0 || p.bootstrap > 1000000)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "eval: bootstrap must be in 0..1000000 (got %d)", p.bootstrap);
    if (ds->n_rows == 0)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "eval: the data has no purchases");
    int n_aff_ds = prefrec_dict_size(ds->affiliates);
    if (p.affiliate >= n_aff_ds)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "eval: affiliate index %d out of range (%d affiliates)",
                                 p.affiliate, n_aff_ds);
    for (size_t r = 0; r < n_rankers; r++) {
        const prefrec_ranker_def *d = rankers[r].def;
        if (!d || !d->fit || !d->score || !d->free)
            return prefrec_error_set(err, PREFREC_E_INVAL, "eval: ranker %zu is incomplete", r);
        if (d->grid && d->params_size == 0)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "eval: ranker '%s' has a grid but no params_size", d->name);
    }
    prefrec_eval_window win[100];
    int n_win = 0;
    char note[256];
    prefrec_status st =
        prefrec_eval_windows(&p, ds->day_min, ds->day_max, win, 100, &n_win, note, err);
    if (st) return st;
    if (note[0] && p.verbose) fprintf(stderr, "eval: %s\n", note);
    int n_aff = p.affiliate >= 0 ? 1 : n_aff_ds;
    prefrec_eval_result *res = eval_result_new(n_win, n_aff, n_rankers);
    int *aff = calloc((size_t)n_aff + 1, sizeof *aff);
    eval_pool pool;
    memset(&pool, 0, sizeof pool);
    if (!res || !aff || eval_pool_init(&pool, prefrec_dict_size(ds->customers), n_rankers)) {
        free(aff);
        prefrec_eval_result_free(res);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
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
    run_ctx cx = {ds, &p, rankers, res, &pool, ds->day_min};
    for (int w = 0; w < n_win && !st; w++) {
        for (int s = 0; s < n_aff && !st; s++) st = eval_window_affiliate(&cx, w, s, aff[s], err);
        if (!st) eval_result_finish_window(res, w);
    }
    free(aff);
    if (!st) {
        eval_result_finish_mean(res);
        st = eval_intervals(res, &pool, p.bootstrap, p.seed, err);
    }
    eval_pool_free(&pool);
    if (st) {
        prefrec_eval_result_free(res);
        return st;
    }
    *out = res;
    return PREFREC_OK;
}
