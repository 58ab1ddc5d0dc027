/* prefrec/repeat.h - "buy again": how likely a member is to buy again, now, each product they
 * bought before, from their own purchase days and a public per-product prior.
 *
 *   prefrec_repeat_params p = prefrec_repeat_default_params();
 *   int32_t milk_days[] = {19000, 19007, 19014};                  // ascending, distinct
 *   prefrec_repeat_item it[] = {{.product = 12, .n_days = 3, .days = milk_days}};
 *   float s[1]; prefrec_repeat_why why[1];
 *   prefrec_repeat_score(&p, NULL, 100, 19025, it, 1, s, why, &err);
 *   // why[0]: bought on 3 days, about every 7 days, last 11 days ago
 *
 * The score of a product bought on distinct days d_1 < ... < d_n, as of day t (> d_n):
 *   freq  = sum_j h / (h + (t - d_j))       (h = half_life_days; h = 0: freq = n)
 *   due   = 1 / (1 + ((r - 1/r) / width)^2)  with r = (t - d_n + 1) / (I + 1) and the mean
 *           interval I = (d_n - d_1) / (n - 1); due = 0 when n = 1 (no interval known).
 *           due is 1 when the days since the last purchase equal the usual interval and falls
 *           off symmetrically in the ratio (twice and half as long score the same).
 *   score = prior^beta * freq * (1 + w_due * due), prior = the product's public prior in
 *           (0, 1]: how many customers rebought it (bought it on two days or more) against the
 *           most rebought product (prefrec_repeat_prior; 1 if none). On real grocery logs with
 *           thin histories the staples everybody rebuys come back first (docs/eval.md).
 * Only +, -, *, / and sqrt (beta 0.5): IEEE-exact operations, so the native, Emscripten and WASI
 * builds give the same bits. Portable, no allocation, thread-safe. */
#ifndef PREFREC_REPEAT_H
#define PREFREC_REPEAT_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_repeat_params {
    float half_life_days; /* >= 0; 0: no decay (freq = number of days) (default 90) */
    float w_due; /* >= 0: weight of the due term (default 1) */
    float beta; /* 0, 0.5 or 1: exponent of the prior (default 0.5) */
    float due_width; /* > 0: width of the due bump in r - 1/r (default 1) */
} prefrec_repeat_params;

typedef struct prefrec_repeat_item {
    int32_t product; /* index into prior[] (0 .. n_products-1) */
    uint32_t n_days; /* >= 1 */
    const int32_t *days; /* n_days distinct days, ascending, each before asof */
} prefrec_repeat_item;

/* What a shopper-facing reason says: "about every interval_days days; last bought since_days
 * days ago" (interval_days 0 when bought on one day only). */
typedef struct prefrec_repeat_why {
    int32_t n_days;
    int32_t interval_days; /* mean interval rounded to whole days, 0 when n_days == 1 */
    int32_t since_days; /* asof - last purchase day */
} prefrec_repeat_why;

prefrec_repeat_params prefrec_repeat_default_params(void);

/* PREFREC_E_INVAL unless 0 <= half_life_days, w_due <= 1e6, beta 0, 0.5 or 1, 0 < due_width. */
prefrec_status prefrec_repeat_params_check(const prefrec_repeat_params *p, prefrec_error *err);

/* PREFREC_E_INVAL (naming the item) for parameters out of range, a product outside
 * 0..n_products-1, n_days 0, or days not ascending, not distinct or not before asof.
 * prior: n_products priors in (0, 1], or NULL (all 1). why: NULL or n entries. */
prefrec_status prefrec_repeat_score(const prefrec_repeat_params *p, const float *prior,
                                    int32_t n_products, int32_t asof,
                                    const prefrec_repeat_item *items, size_t n, float *scores,
                                    prefrec_repeat_why *why, prefrec_error *err);

/* ---- in a pack (written by prefrec train; docs/engine.md) ----------------------------------
 *   tensor "repeat.prior" f32 [P]: each product's prior in (0, 1]
 *   manifest "repeat": {"half_life_days", "w_due", "beta", "due_width"}  (tuned by the trainer)
 *   manifest "mixed":  {"share", "shrink"}   the mixed list's repeat share s and shrink a (< 0:
 *                                              the global share for everyone) */
struct prefrec_pack;
typedef struct prefrec_repeat_model {
    prefrec_repeat_params p;
    const float *prior; /* n_products, borrowed from the pack */
    double share, shrink;
} prefrec_repeat_model;

/* PREFREC_E_NOTFOUND when the pack has no "repeat" (a pack from before buy again); else
 * PREFREC_E_FORMAT naming what is wrong (params out of range, a prior not in (0, 1], shapes). */
prefrec_status prefrec_repeat_load(const struct prefrec_pack *pack, int32_t n_products,
                                   prefrec_repeat_model *m, prefrec_error *err);

/* The mixed list (one "next purchases" list of owned and never-bought products).
 * A customer's repeat share: s_u = (rep + a s) / (lines + a) over their purchase lines (rep: the
 * lines that repeated a product bought before, i.e. sum of count - 1), shrunk toward the global
 * share s by a lines (a < 0: s itself), kept inside [0.001, 0.999].
 * The merge key of rank r (0-based) in a list that gets the share frac: (r + 0.5) / frac; the
 * owned list gets s_u, the never-bought list 1 - s_u; the mixed list is by ascending key and its
 * score is -key (as a float; ties by product index, prefrec/topk.h). */
double prefrec_mixed_share(double rep, double lines, double share, double shrink);
double prefrec_mixed_key(int32_t rank, double frac);

/* A product's prior: (rebuyers + 1) / (most + 1), most = the largest rebuyers of any product. */
static inline float prefrec_repeat_prior(int64_t rebuyers, int64_t most) {
    return (float)(((double)rebuyers + 1.0) / ((double)most + 1.0));
}

#ifdef __cplusplus
}
#endif
#endif
