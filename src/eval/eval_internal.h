/* eval_internal.h - pieces of the evaluation shared by its files (src/eval/eval*.c): the users of
 * one window, ranking them with a fitted ranker (eval_score.c), the result's storage
 * (eval_result.c) and the bootstrap intervals (eval_boot.c). Not installed. */
#ifndef PREFREC_EVAL_INTERNAL_H
#define PREFREC_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/eval.h"
#include "prefrec/native/rankers.h"
#include "rank/rank_exact.h"

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
/* This rank's customers' sums, pooled over windows and affiliates, a row per customer with a
 * user row (added as they come: sharded, a rank's own users only, not the data set's every
 * customer): slot[c] = customer c's row s or -1; for task t, group g (0 known, 1 cold), ranker
 * i: sum[(s * PREFREC_EVAL_TASKS * 2 + t * 2 + g) * n_rankers + i] of the user's recall,
 * count[s * PREFREC_EVAL_TASKS * 2 + t * 2 + g] of user rows, key[s] = eval_boot_key of the
 * customer's code. */
typedef struct eval_pool {
    int32_t n_customers; /* slot's size */
    size_t n_rankers;
    int32_t *slot;
    size_t n, cap; /* rows used, allocated */
    double *sum;
    int32_t *count;
    uint64_t *key;
} eval_pool;
int eval_pool_init(eval_pool *p, int32_t n_customers, size_t n_rankers); /* -1: no memory */
void eval_pool_free(eval_pool *p);
/* Customer c's row (made with key on first use). -1: no memory. */
int32_t eval_pool_row(eval_pool *p, int32_t c, uint64_t key);

/* The Poisson bootstrap's draws (eval_boot.c): a customer's key from its code (FNV-1a 64,
 * mixed), its stream for a seed, and its weight in replicate b, Poisson(1): a function of
 * (seed, key, b) alone, so the same on every rank and for any order of the customers. */
uint64_t eval_boot_key(const char *code, size_t len);
uint64_t eval_boot_stream(uint64_t seed, uint64_t key);
int eval_boot_weight(uint64_t stream, uint64_t b);
/* w[0..nb) = the weights of replicates b0 .. b0 + nb - 1 for a customer's stream. */
void eval_boot_weights(uint64_t stream, uint64_t b0, int nb, uint8_t *w);
/* One customer (its weights w of a block of nb replicates, difference d on the grid, n rows)
 * into the block's sums num[b] += w[b] d, den[b] += w[b] n. 0, or -1 if a sum leaves the range. */
int eval_boot_add(rank_fx *num, rank_fx *den, int nb, const uint8_t *w, rank_fx d, int64_t n);
/* Sort v[0..nv) and take the 2.5% and 97.5% percentiles (v[nv/40], v[nv-1-nv/40]). -1: nv 0. */
int eval_boot_percentiles(double *v, int nv, double *lo, double *hi);
/* Fill r->interval from every rank's pool (collective under dist, NULL: one process; r's
 * figures must be the same on every rank): reference per task = the ranker named
 * r->defaults[t], resamples Poisson replicates. */
struct prefrec_dist;
prefrec_status eval_intervals(prefrec_eval_result *r, const eval_pool *p, int resamples,
                              uint64_t seed, struct prefrec_dist *dist, prefrec_error *err);

#endif
