/* prefrec/native/eval.h - offline evaluation of rankers on what customers buy next (native).
 *
 *   prefrec_eval_params ep = prefrec_eval_default_params();
 *   prefrec_date_parse("2021-10-01", 10, &ep.cutoff);
 *   size_t n; const prefrec_ranker_def *const *defs = prefrec_rankers_builtin(&n);
 *   prefrec_eval_ranker rk[16]; for (size_t i = 0; i < n; i++) rk[i] = (prefrec_eval_ranker){defs[i], NULL};
 *   prefrec_eval_result *res = NULL;
 *   if (prefrec_eval_run(ds, &ep, rk, n, &res, &err)) ...;
 *   const prefrec_metrics *m = prefrec_eval_get(res, PREFREC_EVAL_NEW_ITEMS, -1, 0); // overall, ranker 0
 *   prefrec_eval_write_json(res, "eval.json", &err);
 *   prefrec_eval_result_free(res);
 *
 * Protocol: per affiliate, every ranker is fitted on the purchases with day < cutoff and tested
 * on those with cutoff <= day < end.
 * - new items: candidates = the affiliate's products bought by anyone before the cut-off minus
 *   those the customer bought there before; truth = products the customer bought in the test
 *   window and not before; users = customers with at least one truth product.
 * - repurchase: candidates = the products the customer bought there before; truth = those of
 *   them bought again in the test window; users = customers with at least one.
 * Metrics per user at K (docs/eval.md), averaged over users; "overall" pools the users of all
 * affiliates (a customer counts once per affiliate):
 *   recall@K = hits in top K / min(K, |truth|);  NDCG@K = sum over hits at rank r (1-based) of
 *   1/log2(r+1), divided by the same sum for min(K, |truth|) hits at the top;  hit rate = share
 *   of users with at least one hit; coverage = distinct products recommended in any top K /
 *   products in the candidates' catalogue (overall: summed over affiliates).
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

typedef struct prefrec_eval_params {
    int32_t cutoff; /* first test day (required) */
    int32_t end; /* first day after the test window; 0 = the data's last day + 1 */
    int k; /* list length (default 20) */
    int affiliate; /* affiliate index to evaluate, or -1 for every affiliate (default) */
    int threads; /* default 2 */
    uint64_t seed; /* passed to the rankers (default 42) */
    int verbose; /* 1: progress on stderr */
} prefrec_eval_params;

prefrec_eval_params prefrec_eval_default_params(void);

typedef struct prefrec_eval_ranker {
    const prefrec_ranker_def *def; /* borrows */
    const void *params; /* borrows; NULL = the ranker's defaults */
} prefrec_eval_ranker;

typedef struct prefrec_metrics {
    double recall, ndcg, hit_rate, coverage;
    int64_t users; /* users evaluated */
    int64_t covered, catalogue; /* coverage = covered / catalogue */
    int evaluated; /* 0 when the ranker is not meant for this task */
} prefrec_metrics;

enum { PREFREC_EVAL_NEW_ITEMS = 0, PREFREC_EVAL_REPURCHASE = 1, PREFREC_EVAL_TASKS = 2 };

typedef struct prefrec_eval_result {
    int k;
    int32_t cutoff, end;
    size_t n_rankers;
    const char **ranker_names; /* n_rankers; borrowed from the defs */
    unsigned *ranker_tasks; /* n_rankers */
    double *fit_seconds; /* n_rankers: summed over affiliates */
    double *score_seconds; /* n_rankers: scoring + ranking all users, both tasks */
    int n_affiliates; /* affiliates evaluated */
    char **affiliate_names; /* n_affiliates */
    int64_t *train_pairs; /* n_affiliates */
    prefrec_metrics *m; /* use prefrec_eval_get */
    const char *default_name; /* prefrec_ranker_default_name */
} prefrec_eval_result;

/* Run the evaluation. rankers: borrowed. *out: caller frees with prefrec_eval_result_free.
 * Errors: PREFREC_E_INVAL (bad params), PREFREC_E_EMPTY (no rows before the cut-off or none
 * in the test window), PREFREC_E_NOTFOUND (affiliate), or a ranker's fit error. */
prefrec_status prefrec_eval_run(const prefrec_dataset *ds, const prefrec_eval_params *params,
                                const prefrec_eval_ranker *rankers, size_t n_rankers,
                                prefrec_eval_result **out, prefrec_error *err);
void prefrec_eval_result_free(prefrec_eval_result *r); /* accepts NULL */

/* Metrics of (task, affiliate slot 0..n_affiliates-1 or -1 for overall, ranker). Valid until
 * prefrec_eval_result_free. */
const prefrec_metrics *prefrec_eval_get(const prefrec_eval_result *r, int task, int aff_slot,
                                        size_t ranker);
/* The ranker (index) with the best overall new-item NDCG, then recall; -1 if none. */
int prefrec_eval_best(const prefrec_eval_result *r, int task);

/* All built-in rankers in report order; *n set to their number. Static storage. */
const prefrec_ranker_def *const *prefrec_rankers_builtin(size_t *n);
/* The built-in ranker named name, or NULL. */
const prefrec_ranker_def *prefrec_ranker_find(const char *name);
/* The name of the default ranker (served by `prefrec recommend`), chosen by measurement. */
extern const char prefrec_ranker_default_name[];

/* Reports (eval_report.c): JSON in the documented shape, a self-contained HTML page of every
 * ranker side by side, and the terminal table. Files are written atomically. */
prefrec_status prefrec_eval_write_json(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err);
prefrec_status prefrec_eval_write_html(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err);
void prefrec_eval_print_table(const prefrec_eval_result *r, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
