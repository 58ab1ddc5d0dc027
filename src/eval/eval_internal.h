/* eval_internal.h - pieces of the evaluation shared by its files (src/eval/eval*.c): the users of
 * one window, ranking them with a fitted ranker (eval_score.c), the result's storage
 * (eval_result.c) and the bootstrap intervals (eval_boot.c). Not installed. */
#ifndef PREFREC_EVAL_INTERNAL_H
#define PREFREC_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/eval.h"
#include "prefrec/native/rankers.h"

/* ---- the users of one window of one affiliate (eval_score.c) ------------------------------- */
typedef struct eval_users {
    int32_t n; /* customers with a purchase in the test window */
    int32_t *cust; /* n, ascending */
    uint8_t *known; /* n: 1 = bought in the affiliate before the cut-off */
    int64_t *new_start, *rep_start; /* n + 1 */
    int32_t *new_truth, *rep_truth; /* explore part, repeat part (ascending per user) */
    int64_t n_new, n_rep, n_known; /* users with explore / repeat truth; known users */
    const prefrec_interactions *te; /* borrowed: the whole truth of customer c is te's row c */
} eval_users;

/* Users of the test window te given the training window tr (both borrowed by u). -1: no memory. */
int eval_users_build(const prefrec_interactions *tr, const prefrec_interactions *te, eval_users *u);
void eval_users_free(eval_users *u);

/* One user's figures on one task. on = the user is measured on the task (has truth there); the
 * _rep / _expl fields are the mixed list against the repeat / explore part (on_rep / on_expl). */
typedef struct eval_ufig {
    double rec, ndcg, rec_rep, rec_expl, rratio;
    uint8_t on, hit, on_rep, hit_rep, on_expl, hit_expl;
} eval_ufig;

/* Rank every user of u with a fitted model for the tasks in mask (bit t = task t, t <
 * PREFREC_EVAL_TASKS): fig[t] (n users each, zeroed by the caller) for each asked task; cover
 * (may be NULL): PREFREC_EVAL_TASKS x 2 (known, cold) x n_products flags, set for every product
 * in a top K. Users split into contiguous blocks over threads, each writing its own entries, so
 * the figures do not depend on the thread count. PREFREC_E_NOMEM when scratch or a score call
 * failed. */
prefrec_status eval_rank_users(const prefrec_ranker_def *def, const void *model,
                               const prefrec_interactions *tr, const eval_users *u,
                               const uint8_t *base_mask, int k, unsigned mask, int threads,
                               eval_ufig *fig[PREFREC_EVAL_TASKS], uint8_t *cover);

/* ---- the result's storage (eval_result.c) -------------------------------------------------- */
/* Index of (window or -1 for the mean, task, group, affiliate slot or -1 for overall, ranker). */
size_t eval_m_index(const prefrec_eval_result *r, int window, int task, int group, int aff_slot,
                    size_t ranker);
size_t eval_choice_index(const prefrec_eval_result *r, int window, int aff_slot, int task,
                         size_t ranker);
/* Allocate a result for the given shape (names, tasks, windows filled by the caller). NULL: no
 * memory. */
prefrec_eval_result *eval_result_new(int n_windows, int n_affiliates, size_t n_rankers);
/* Turn window w's sums into means (every task, group, slot and ranker). */
void eval_result_finish_window(prefrec_eval_result *r, int w);
/* Fill window -1: the mean of each figure over the windows where it has users. */
void eval_result_finish_mean(prefrec_eval_result *r);

/* ---- bootstrap (eval_boot.c) ---------------------------------------------------------------- */
/* Per customer sums, pooled over windows and affiliates: for task t, group g (0 known, 1 cold),
 * ranker i: sum[((t * 2 + g) * n_rankers + i) * n_customers + c] of the user's recall, and
 * count[(t * 2 + g) * n_customers + c] of user rows. */
typedef struct eval_pool {
    int32_t n_customers;
    size_t n_rankers;
    double *sum;
    int32_t *count;
} eval_pool;
int eval_pool_init(eval_pool *p, int32_t n_customers, size_t n_rankers); /* -1: no memory */
void eval_pool_free(eval_pool *p);
/* Sharded: every rank's customers with a user row in local (keys: their places in the
 * one-process order, NULL: the index) to rank 0, in that order: *out on rank 0 is the pool of
 * those customers only (the bootstrap skips customers without rows, so its draws are the
 * one-process draws), elsewhere an empty pool. Collective. 0 or -1. */
struct prefrec_dist;
int eval_pool_gather(struct prefrec_dist *d, const uint64_t *key, const eval_pool *local,
                     eval_pool *out);
/* Records of size rec bytes, each starting with a uint64 key, from every rank to rank 0 sorted
 * by key (keys distinct over the ranks): on rank 0 *all (caller frees) and *m records;
 * elsewhere NULL and 0. Collective. 0 or -1. */
int eval_gather_sorted(struct prefrec_dist *d, const char *recs, size_t n, size_t rec, char **all,
                       size_t *m);
/* Fill r->interval from the pool: reference per task = the ranker named r->defaults[t]. */
prefrec_status eval_intervals(prefrec_eval_result *r, const eval_pool *p, int resamples,
                              uint64_t seed, prefrec_error *err);

#endif
