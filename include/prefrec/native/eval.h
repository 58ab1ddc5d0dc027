/* prefrec/native/eval.h - offline evaluation of rankers on what customers buy next (native).
 *
 *   prefrec_eval_params ep = prefrec_eval_default_params();   // 3 rolling windows of 30 days
 *   size_t n; const prefrec_ranker_def *const *defs = prefrec_rankers_builtin(&n);
 *   prefrec_eval_ranker rk[16]; for (size_t i = 0; i < n; i++) rk[i] = (prefrec_eval_ranker){defs[i], NULL};
 *   prefrec_eval_result *res = NULL;
 *   if (prefrec_eval_run(ds, &ep, rk, n, &res, &err)) ...;
 *   // mean over windows, known customers, every affiliate pooled, ranker 0:
 *   const prefrec_metrics *m = prefrec_eval_at(res, -1, PREFREC_EVAL_NEW_ITEMS, PREFREC_EVAL_KNOWN, -1, 0);
 *   prefrec_eval_write_json(res, "eval.json", &err);
 *   prefrec_eval_result_free(res);
 *
 * Protocol (docs/eval.md). Test windows: with params.cutoff set, one window [cutoff, end);
 * otherwise params.windows windows of step_days days, the last ending at end (default the data's
 * last day + 1), each step_days before the next; a window is kept only when its cut-off has at
 * least 2 x val_days days of data before it (fewer windows then, said in res->note). In each
 * window and affiliate every ranker is fitted on the purchases with day < cutoff (the training
 * window) and tested on the window's purchases:
 * - new items ("explore"): candidates = the affiliate's catalogue (products bought there by anyone
 *   before the cut-off) minus what the customer bought there before; truth = products bought in
 *   the test window and not before; users = customers with at least one truth product.
 * - repurchase ("repeat"): candidates = the customer's own history there; truth = the history
 *   products bought again; users = customers with at least one.
 * - mixed: one list over the whole catalogue; truth = everything the customer bought in the test
 *   window; also scored against its repeat part (recall_rep, hit_rate_rep: users with one) and its
 *   explore part (recall_expl, hit_rate_expl), and repeat_ratio = share of the list's items the
 *   customer bought before. A ranker is measured on mixed when its tasks include
 *   PREFREC_TASK_MIXED or both new items and repurchase (it then scores every product on one
 *   scale).
 * Groups: known = the customer bought in the affiliate before the cut-off, cold = did not,
 * overall = both. "Overall" affiliate slot pools the users of all affiliates (a customer counts
 * once per affiliate and window).
 * Metrics per user at K, averaged over users: recall@K = hits in top K / min(K, |truth|);
 * NDCG@K = sum over hits at rank r (1-based) of 1/log2(r+1), over the same sum for min(K, |truth|)
 * hits at the top; hit rate (PHR) = share of users with a hit; coverage = distinct products in
 * any top K / products in the catalogue (overall: summed over affiliates). Window -1 holds the
 * mean over the windows in which the figure has users (users fields: summed over windows).
 * Tuning: a ranker with a grid (prefrec_ranker_def.grid) and no given params is fitted at every
 * grid point on [data start, cutoff - val_days) and scored on the validation users of
 * [cutoff - val_days, cutoff); per window, affiliate and task the point with the best mean
 * Recall@K (ties: NDCG@K, then the earlier point) is refitted on the whole training window. The
 * test window is never seen before the refit.
 * Intervals: per task and group, the default ranker minus the best other ranker (by mean Recall@K
 * over windows), Recall@K pooled over every window's users; a 95% percentile interval from a
 * paired Poisson bootstrap over customers (all their rows come along; weights keyed by seed,
 * replicate and customer code), seeded.
 * Deterministic for any thread count. Errors: see prefrec/status.h. */
#ifndef PREFREC_EVAL_H
#define PREFREC_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    PREFREC_EVAL_NEW_ITEMS = 0, /* explore */
    PREFREC_EVAL_REPURCHASE = 1, /* repeat */
    PREFREC_EVAL_MIXED = 2,
    PREFREC_EVAL_TASKS = 3
};
enum {
    PREFREC_EVAL_ALL = 0,
    PREFREC_EVAL_KNOWN = 1,
    PREFREC_EVAL_COLD = 2,
    PREFREC_EVAL_GROUPS = 3
};

typedef struct prefrec_eval_params {
    int32_t cutoff; /* > 0: a single test window [cutoff, end); 0: rolling windows (default) */
    int32_t end; /* first day after the (last) test window; 0 = the data's last day + 1 */
    int k; /* list length (default 20) */
    int affiliate; /* affiliate index to evaluate, or -1 for every affiliate (default) */
    int threads; /* default 2 */
    uint64_t seed; /* passed to the rankers and the bootstrap (default 42) */
    int verbose; /* 1: progress on stderr */
    int windows; /* rolling windows wanted (default 3) */
    int step_days; /* rolling windows: test length and distance of cut-offs (default 30) */
    int val_days; /* validation window; 0 = the test window's length (default) */
    int tune; /* 1 (default): tune rankers that have a grid and no given params */
    int bootstrap; /* resamples for the intervals (default 1000; 0: no intervals) */
    int32_t min_group; /* served forms (blend_served, mixed): aggregates rest on at least this
                          many members, as prefrec train serves them (default
                          PREFREC_BLEND_MIN_GROUP; 0: no rule) */
    const char *storage; /* served forms and neumf: score through the values a version-2 pack
                            with this storage plan decodes (prefrec/pack.h); NULL: f32 */
    /* per task, the ranker whose interval against the best other ranker is reported; NULL =
     * prefrec_ranker_task_default[task] */
    const char *defaults[PREFREC_EVAL_TASKS];
} prefrec_eval_params;

prefrec_eval_params prefrec_eval_default_params(void);

typedef struct prefrec_eval_ranker {
    const prefrec_ranker_def *def; /* borrows */
    const void *params; /* borrows; NULL = the ranker's defaults (or its grid, when tuned) */
} prefrec_eval_ranker;

typedef struct prefrec_metrics {
    double recall, ndcg, hit_rate, coverage;
    int64_t users; /* users evaluated */
    int64_t covered, catalogue; /* coverage = covered / catalogue */
    int evaluated; /* 0 when the ranker is not measured on this task */
    /* mixed only: against the repeat / explore part of the truth, over the users who have it */
    double recall_rep, hit_rate_rep, recall_expl, hit_rate_expl;
    int64_t users_rep, users_expl;
    double repeat_ratio; /* mixed: mean share of the list's items the customer bought before */
} prefrec_metrics;

/* The figures of a prefrec_metrics, for generic code (spread, reports). */
enum {
    PREFREC_M_RECALL,
    PREFREC_M_NDCG,
    PREFREC_M_HIT_RATE,
    PREFREC_M_COVERAGE,
    PREFREC_M_RECALL_REP,
    PREFREC_M_HIT_RATE_REP,
    PREFREC_M_RECALL_EXPL,
    PREFREC_M_HIT_RATE_EXPL,
    PREFREC_M_REPEAT_RATIO,
    PREFREC_M_COUNT
};
double prefrec_metrics_value(const prefrec_metrics *m, int field);
/* The users behind the field (users, users_rep or users_expl). */
int64_t prefrec_metrics_users(const prefrec_metrics *m, int field);

typedef struct prefrec_eval_window {
    int32_t cutoff, end; /* test window [cutoff, end) */
    int32_t val_from; /* validation window [val_from, cutoff); == cutoff when none */
} prefrec_eval_window;

/* The params one ranker used in one window, affiliate and task. */
typedef struct prefrec_eval_choice {
    int tuned; /* 1: chosen on validation; 0: the given params or the ranker's defaults */
    int grid_index; /* the grid point, -1 when not tuned */
    int grid_points; /* points tried */
    double val_recall, val_ndcg; /* the chosen point's validation figures */
    int64_t val_users;
    char params[128]; /* describe() of the params ("" when the ranker has none) */
} prefrec_eval_choice;

/* The default ranker against the best other ranker, Recall@K pooled over windows. */
typedef struct prefrec_eval_interval {
    int evaluated; /* 0: no default, no other ranker, or no users */
    int ref, baseline; /* ranker indices */
    double ref_recall, baseline_recall; /* pooled means */
    double diff, lo, hi; /* ref - baseline, and its 95% interval */
    int excludes_zero; /* lo > 0 or hi < 0 */
    int64_t users, customers; /* user rows (customer x affiliate x window) and customers */
} prefrec_eval_interval;

typedef struct prefrec_eval_result {
    int k;
    int32_t cutoff, end; /* first window's cut-off, last window's end */
    int n_windows;
    prefrec_eval_window *windows; /* n_windows, earliest first */
    int step_days, val_days, bootstrap;
    uint64_t seed;
    char note[256]; /* why there are fewer windows than asked, or why tuning was skipped; "" */
    size_t n_rankers;
    const char **ranker_names; /* n_rankers; borrowed from the defs */
    unsigned *ranker_tasks; /* n_rankers: the PREFREC_TASK_* measured (mixed as above) */
    double *fit_seconds; /* n_rankers: final fits, summed over windows and affiliates */
    double *score_seconds; /* n_rankers: ranking every test user, all tasks */
    double *tune_seconds; /* n_rankers: fits and ranking on validation */
    int n_affiliates; /* affiliates evaluated */
    char **affiliate_names; /* n_affiliates + 1 (the last: "overall") */
    int64_t *train_pairs; /* n_windows x n_affiliates: [w * n_affiliates + a] */
    prefrec_metrics *m; /* use prefrec_eval_at */
    prefrec_eval_choice *choice; /* use prefrec_eval_choice_at */
    prefrec_eval_interval interval[PREFREC_EVAL_TASKS][PREFREC_EVAL_GROUPS];
    const char *default_name; /* prefrec_ranker_default_name */
    const char *defaults[PREFREC_EVAL_TASKS]; /* the interval's reference per task */
} prefrec_eval_result;

/* Run the evaluation. rankers: borrowed. *out: caller frees with prefrec_eval_result_free.
 * Errors: PREFREC_E_INVAL (bad params), PREFREC_E_EMPTY (no rows before the cut-off, none in
 * the test window, or no room for a single rolling window), PREFREC_E_NOTFOUND (affiliate), or
 * a ranker's fit error. */
prefrec_status prefrec_eval_run(const prefrec_dataset *ds, const prefrec_eval_params *params,
                                const prefrec_eval_ranker *rankers, size_t n_rankers,
                                prefrec_eval_result **out, prefrec_error *err);
void prefrec_eval_result_free(prefrec_eval_result *r); /* accepts NULL */

/* The same, sharded (mpirun -n N prefrec eval, docs/mpi.md): ds holds this rank's customers
 * (prefrec_dataset_load_sharded), customer_key their places in the one-process customer order
 * (the shard info's), day_min / day_max / rows_total the data's over every rank. Collective:
 * every rank calls it with the same params and rankers. Each rank ranks its own users; the
 * per-user figures go to rank 0 and are added there in the one-process customer order, so
 * rank 0's *out (and the reports written from it) is the one-process result for any N; on the
 * other ranks *out holds the windows and choices only. Every ranker must be sharded
 * (prefrec_ranker_sharded) when there are several ranks, else PREFREC_E_INVAL. A NULL dist is
 * prefrec_eval_run. */
typedef struct prefrec_dist prefrec_dist;
prefrec_status prefrec_eval_run_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                     int32_t day_min, int32_t day_max, uint64_t rows_total,
                                     prefrec_dist *d, const prefrec_eval_params *params,
                                     const prefrec_eval_ranker *rankers, size_t n_rankers,
                                     prefrec_eval_result **out, prefrec_error *err);
/* 1 when def fits the same model on a sharded window as on the whole data (its statistics over
 * customers are sums over the ranks), so prefrec_eval_run_dist may run it on several ranks. */
int prefrec_ranker_sharded(const prefrec_ranker_def *def);
/* The sharded built-in rankers' names, comma-separated, in report order (static storage). */
const char *prefrec_rankers_sharded_names(void);
/* Why def is not sharded, a clause for an error message (static storage). */
const char *prefrec_ranker_unsharded_why(const prefrec_ranker_def *def);

/* The test windows of params on data spanning days [day_min, day_max] (the rule above): writes
 * up to cap windows into out (earliest first) and returns how many; note (may be NULL, 256
 * bytes) says why there are fewer than asked. PREFREC_E_INVAL / PREFREC_E_EMPTY as
 * prefrec_eval_run. */
prefrec_status prefrec_eval_windows(const prefrec_eval_params *p, int32_t day_min, int32_t day_max,
                                    prefrec_eval_window *out, int cap, int *n, char *note,
                                    prefrec_error *err);

/* Figures of (window 0..n_windows-1 or -1 for the mean over windows, task, group, affiliate slot
 * 0..n_affiliates-1 or -1 for overall, ranker); NULL when out of range. Valid until
 * prefrec_eval_result_free. */
const prefrec_metrics *prefrec_eval_at(const prefrec_eval_result *r, int window, int task,
                                       int group, int aff_slot, size_t ranker);
/* The mean over windows, every customer: prefrec_eval_at(r, -1, task, PREFREC_EVAL_ALL, ...). */
const prefrec_metrics *prefrec_eval_get(const prefrec_eval_result *r, int task, int aff_slot,
                                        size_t ranker);
/* Spread over windows of one figure (windows where it has users): mean, sample sd (0 for one
 * window), min, max; returns the number of windows used. */
typedef struct prefrec_spread {
    double mean, sd, min, max;
} prefrec_spread;
int prefrec_eval_spread(const prefrec_eval_result *r, int task, int group, int aff_slot,
                        size_t ranker, int field, prefrec_spread *out);
/* The params used in (window, affiliate slot 0..n_affiliates-1, task, ranker); NULL if none. */
const prefrec_eval_choice *prefrec_eval_choice_at(const prefrec_eval_result *r, int window,
                                                  int aff_slot, int task, size_t ranker);
/* The ranker (index) with the best mean Recall@K over windows (ties: NDCG) in the group, every
 * affiliate pooled; exclude (or -1) is skipped; -1 if none. */
int prefrec_eval_best_in(const prefrec_eval_result *r, int task, int group, int exclude);
/* prefrec_eval_best_in(r, task, PREFREC_EVAL_ALL, -1). */
int prefrec_eval_best(const prefrec_eval_result *r, int task);

/* All built-in rankers in report order; *n set to their number. Static storage. */
const prefrec_ranker_def *const *prefrec_rankers_builtin(size_t *n);
/* The built-in ranker named name, or NULL. */
const prefrec_ranker_def *prefrec_ranker_find(const char *name);
/* The name of the default ranker (served by `prefrec recommend`), chosen by measurement. */
extern const char prefrec_ranker_default_name[];
/* The default ranker of each task (PREFREC_EVAL_*): discover, buy again, mixed. */
extern const char *const prefrec_ranker_task_default[PREFREC_EVAL_TASKS];

/* Names: "new_items", "repurchase", "mixed"; "overall", "known", "cold". */
const char *prefrec_eval_task_name(int task);
const char *prefrec_eval_group_name(int group);

/* Reports (eval_report.c, eval_html.c): JSON in the documented shape (docs/eval.md), a
 * self-contained HTML page, and the terminal table. Files are written atomically. */
prefrec_status prefrec_eval_write_json(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err);
prefrec_status prefrec_eval_write_html(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err);
void prefrec_eval_print_table(const prefrec_eval_result *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
