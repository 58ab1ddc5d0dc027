/* prefrec/native/score.h - the seed's preference score per (affiliate, customer, product), and its check
 * against later repurchases (the deck's validation table). Native (needs a prefrec_dataset).
 *
 *   prefrec_score_params p = prefrec_score_default_params();      // as of 2022-01-01
 *   if (prefrec_score_params_load_json("score.json", &p, &err)) ...  // optional overrides
 *   prefrec_scores *s = NULL;
 *   if (prefrec_scores_compute(ds, &p, -1, &s, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   for (size_t i = 0; i < s->n; i++)
 *       use(s->affiliate[i], s->customer[i], s->product[i], s->score[i]);
 *   prefrec_scores_free(s);
 *
 * Definition (docs/score.md has the reasoning):
 *   - a "purchase" is a purchase occasion: a distinct (affiliate, customer, product, day) among
 *     the rows with day < asof_day (a purchase ON the as-of day is excluded: it is "today");
 *   - count: the pair's purchase occasions; buy_level = number of buy_cuts c with count >= c;
 *   - clac_share: the customer's occasions in the product's top category / all the customer's
 *     occasions, both within the affiliate; low_clac = number of clac_cuts c with share >= c;
 *   - interval: (last_day - first_day) / (count - 1) for count >= 2, else the largest such mean
 *     interval over all pairs of the same affiliate and top category (else of the affiliate);
 *     range_ratio = (asof_day - last_day) / interval; range_score = number of range_cuts c with
 *     ratio >= c (0 if no interval exists anywhere in the affiliate);
 *   - score = (w_buy*buy_level + w_clac*low_clac + w_range*range_score) / (w_buy+w_clac+w_range),
 *     seed default weights 2, 1, 1; always within 0..5.
 *   - no category (dataset without a catalog, or a product whose category is -1): the pair has
 *     no share (clac_share NaN, low_clac 0) and its score leaves the clac term out:
 *     (w_buy*buy_level + w_range*range_score) / (w_buy + w_range). Intervals fall back to the
 *     largest mean interval of the affiliate's uncategorised pairs.
 *
 * Cost: O(rows) counting-sort passes plus O(pairs); memory about 16 bytes per row + 48 per pair.
 * Thread safety: the dataset and params are only read; results are owned by the caller. */
#ifndef PREFREC_SCORE_H
#define PREFREC_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prefrec/native/dataset.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_SCORE_LEVELS 5 /* cut points per component: levels 0..5 */

typedef struct prefrec_score_params {
    int32_t asof_day; /* "today": rows with day < asof_day count (default 2022-01-01) */
    double w_buy, w_clac, w_range; /* weights (default 2, 1, 1); >= 0, sum > 0 */
    double buy_cuts[PREFREC_SCORE_LEVELS]; /* purchase counts, ascending (2,3,5,8,12) */
    double clac_cuts[PREFREC_SCORE_LEVELS]; /* category shares (.02,.05,.10,.20,.40) */
    double range_cuts[PREFREC_SCORE_LEVELS]; /* elapsed/interval ratios (.25,.5,1,2,4) */
} prefrec_score_params;

prefrec_score_params prefrec_score_default_params(void);

/* Override fields of *p from a JSON file (keys all optional, unknown keys are an error):
 *   {"asof": "2022-01-01",
 *    "weights": {"buy_level": 2, "low_clac": 1, "range_score": 1},
 *    "buy_level_cuts": [2, 3, 5, 8, 12], "low_clac_cuts": [0.02, 0.05, 0.1, 0.2, 0.4],
 *    "range_score_cuts": [0.25, 0.5, 1, 2, 4]}
 * Cuts: exactly 5 finite numbers, non-decreasing. On error *p is unchanged and err says what
 * (file, JSON offset or key). */
prefrec_status prefrec_score_params_load_json(const char *path, prefrec_score_params *p,
                                              prefrec_error *err);
/* Same from a buffer of len bytes (name is used in messages). */
prefrec_status prefrec_score_params_parse_json(const char *text, size_t len, const char *name,
                                               prefrec_score_params *p, prefrec_error *err);
/* Check weights and cuts; PREFREC_E_RANGE with a message if unusable. */
prefrec_status prefrec_score_params_check(const prefrec_score_params *p, prefrec_error *err);

/* The scored pairs: n entries, sorted by (affiliate, customer, product), one per pair with at
 * least one purchase before asof_day. All arrays owned by the struct. */
typedef struct prefrec_scores {
    size_t n;
    int32_t asof_day;
    uint8_t *affiliate; /* index into ds->affiliates */
    int32_t *customer; /* index into ds->customers */
    int32_t *product; /* index into ds->products */
    int32_t *count; /* purchase occasions (>= 1) */
    int32_t *first_day, *last_day;
    float *clac_share; /* 0..1, NaN when the product has no top category */
    float *interval; /* mean days between occasions, or the fallback; NaN if none */
    float *range_ratio; /* (asof - last_day) / interval; NaN if no interval */
    uint8_t *interval_fallback; /* 1 when interval came from the category fallback */
    uint8_t *buy_level, *low_clac, *range_score; /* 0..5 each */
    float *score; /* 0..5 */
} prefrec_scores;

/* Score the pairs of one affiliate (index into ds->affiliates) or of all (affiliate = -1).
 * *out: caller frees with prefrec_scores_free; NULL on error. An affiliate with no rows before
 * asof_day gives n = 0 (not an error). */
prefrec_status prefrec_scores_compute(const prefrec_dataset *ds, const prefrec_score_params *p,
                                      int affiliate, prefrec_scores **out, prefrec_error *err);
void prefrec_scores_free(prefrec_scores *s); /* accepts NULL */

/* The same on one rank of a sharded data set (prefrec/native/shard.h, docs/mpi.md): ds holds the
 * rows of this rank's customers, with the affiliate and catalog ids of every rank; the pairs are
 * this rank's. The one item-side figure, the largest mean interval per (affiliate, category)
 * and per affiliate, is reduced over the ranks (a maximum: the same bits for any N), so each
 * pair gets the one-process values. Collective: every rank calls it. dist NULL: one rank. */
typedef struct prefrec_dist prefrec_dist;
prefrec_status prefrec_scores_compute_dist(const prefrec_dataset *ds, const prefrec_score_params *p,
                                           int affiliate, prefrec_dist *dist, prefrec_scores **out,
                                           prefrec_error *err);

/* Index of (affiliate, customer, product) in s (binary search), or -1. */
ptrdiff_t prefrec_scores_find(const prefrec_scores *s, int affiliate, int32_t customer,
                              int32_t product);

#define PREFREC_SCORES_CSV_HEADER \
    "affiliate,customer,product,count,last_date,buy_level,clac_share,low_clac,range_ratio," \
    "range_score,score\n"

/* Write s as CSV (header: affiliate,customer,product,count,last_date,buy_level,clac_share,
 * low_clac,range_ratio,range_score,score) with the dataset's codes, atomically to path. */
prefrec_status prefrec_scores_write_csv(const prefrec_scores *s, const prefrec_dataset *ds,
                                        const char *path, prefrec_error *err);
/* The lines of pairs [from, to) of s as prefrec_scores_write_csv writes them (no header), to f
 * (a merge of ranks' outputs, docs/mpi.md). 0, or -1 when memory runs out or f fails. */
int prefrec_scores_write_rows(const prefrec_scores *s, const prefrec_dataset *ds, size_t from,
                              size_t to, FILE *f);

/* ---- validation: scores from before a cut-off vs purchases from the cut-off to an end ------- */
#define PREFREC_VALIDATE_THRESHOLDS 10 /* t = 0.0, 0.5, ..., 4.5 */
#define PREFREC_VALIDATE_BINS 21 /* score histogram: 0, 0.25, ..., 5 (nearest quarter) */

typedef struct prefrec_validate_row {
    int affiliate; /* index into ds->affiliates */
    int64_t pairs[PREFREC_VALIDATE_THRESHOLDS]; /* pairs with score >= t */
    int64_t bought[PREFREC_VALIDATE_THRESHOLDS]; /* of those, bought again in [cutoff, end) */
    int64_t hist[PREFREC_VALIDATE_BINS]; /* pairs whose score rounds to k/4 */
    int64_t hist_bought[PREFREC_VALIDATE_BINS];
} prefrec_validate_row;

typedef struct prefrec_validation {
    int32_t cutoff_day, end_day;
    double thresholds[PREFREC_VALIDATE_THRESHOLDS];
    size_t n_rows; /* affiliates with at least one row in the data */
    prefrec_validate_row *rows; /* in affiliate code order (strcmp) */
} prefrec_validation;

/* Scores as of cutoff_day (p->asof_day is ignored), then for each pair whether the customer
 * bought the product at the same affiliate on a day in [cutoff_day, end_day). Rate at t =
 * bought[t] / pairs[t] (undefined when pairs[t] = 0). A score s counts as >= t when
 * s >= t - 1e-6 (scores are float). affiliate: index or -1 for all. *out: caller frees with
 * prefrec_validation_free. */
prefrec_status prefrec_validate_compute(const prefrec_dataset *ds, const prefrec_score_params *p,
                                        int32_t cutoff_day, int32_t end_day, int affiliate,
                                        prefrec_validation **out, prefrec_error *err);
/* The same on one rank of a sharded data set: the counts are summed over the ranks (integers:
 * the same for any N), so every rank returns the one-process table. Collective. */
prefrec_status prefrec_validate_compute_dist(const prefrec_dataset *ds,
                                             const prefrec_score_params *p, int32_t cutoff_day,
                                             int32_t end_day, int affiliate, prefrec_dist *dist,
                                             prefrec_validation **out, prefrec_error *err);
void prefrec_validation_free(prefrec_validation *v); /* accepts NULL */

/* The --json document ({"cutoff", "end", "thresholds", "affiliates": {code: {"rate", "pairs",
 * "bought", "hist", "hist_bought"}}}), written atomically; and the SVG (rate vs threshold, one
 * line per affiliate; score distribution). */
prefrec_status prefrec_validation_write_json(const prefrec_validation *v, const prefrec_dataset *ds,
                                             const char *path, prefrec_error *err);
prefrec_status prefrec_validation_write_svg(const prefrec_validation *v, const prefrec_dataset *ds,
                                            const char *path, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
