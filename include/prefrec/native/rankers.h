/* prefrec/native/rankers.h - recommenders as pluggable rankers: fit on a training window, then score
 * every product for one customer (native).
 *
 *   prefrec_interactions *x = NULL;                       // one affiliate, days [from, to)
 *   prefrec_interactions_build(ds, aff, ds->day_min, cutoff, &x, &err);
 *   prefrec_fit_input in = {ds, x, 2, 42, 0};              // dataset, window, threads, seed, verbose
 *   prefrec_ease_params ep = prefrec_ease_default_params();
 *   void *model = NULL;
 *   if (prefrec_ranker_ease.fit(&in, &ep, &model, &err)) ...;  // params NULL = defaults
 *   float *s = malloc(x->n_products * sizeof *s);
 *   prefrec_ranker_ease.score(model, customer, s);          // higher = recommend first
 *   prefrec_ranker_ease.free(model);
 *   prefrec_interactions_free(x);
 *
 * A ranker is a prefrec_ranker_def: a name, the tasks it is meant for, and fit / score / free.
 * The evaluation (prefrec/native/eval.h) runs any list of them; the default ranker (prefrec_ranker_
 * default_name) is picked by those measurements (docs/eval.md). To add a ranker, write one
 * const prefrec_ranker_def and list it in prefrec_rankers_builtin (or pass it to the eval).
 *
 * Contract of every ranker:
 * - fit borrows in->ds and in->train until free: the model reads the customer's history from
 *   the training window. It never looks at rows outside the window. Same input and seed, same
 *   model, for any thread count.
 * - score writes scores[0 .. train->n_products) for any customer index (0 .. n_customers-1),
 *   including customers with no history (they get a popularity-like fallback). It is
 *   thread-safe on a fitted model (no state changes) and never fails. Masking of products
 *   that are not candidates is the caller's job.
 * - free accepts NULL.
 * Errors: see prefrec/status.h. */
#ifndef PREFREC_RANKERS_H
#define PREFREC_RANKERS_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/dataset.h"
#include "prefrec/status.h"

struct prefrec_dist; /* src/host/dist.h */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the training window: customer x product purchase matrix of one affiliate ------------- */
typedef struct prefrec_interactions {
    int32_t n_customers, n_products; /* the dataset's dictionary sizes: every id is valid */
    int64_t n_pairs; /* distinct (customer, product) pairs in the window */
    int64_t *row_start; /* n_customers + 1: customer c's pairs are [row_start[c], row_start[c+1]) */
    int32_t *product; /* n_pairs, ascending within a customer */
    float *count; /* purchase lines (receipt lines) of the pair in the window */
    int32_t *last_day; /* the pair's last purchase day in the window */
    int64_t *col_start; /* n_products + 1: the transpose, by product */
    int32_t *col_customer; /* n_pairs, ascending within a product */
    float *col_count; /* the pair's count, aligned with col_customer */
    int32_t *n_buyers; /* n_products: distinct customers who bought the product */
    int affiliate; /* affiliate index, or -1 for all affiliates */
    int32_t day_from, day_to; /* the window [day_from, day_to) */
    /* Sharded (mpirun -n N prefrec train, docs/mpi.md): the ranks that hold the other customers
     * (NULL: this process holds them all) and each customer's place in the one-process
     * customer order (NULL: the customer index). The rows are this rank's customers only;
     * n_buyers is over every rank (an integer sum). The rankers' item-side statistics are
     * integer sums over the ranks and their tuning sums go in the global customer order, so
     * a fit is the one-process fit whatever N is. */
    struct prefrec_dist *dist;
    const uint64_t *customer_key;
} prefrec_interactions;

/* Build the window of rows with day in [day_from, day_to) and affiliate == aff (or any when
 * aff < 0). *out: caller frees with prefrec_interactions_free. Borrows ds during the call. */
prefrec_status prefrec_interactions_build(const prefrec_dataset *ds, int aff, int32_t day_from,
                                          int32_t day_to, prefrec_interactions **out,
                                          prefrec_error *err);
/* The same, sharded: every rank calls it (collective over dist, which may be NULL); the window
 * keeps dist and customer_key (borrowed: they must outlive it) and its n_buyers are summed
 * over the ranks. */
prefrec_status prefrec_interactions_build_dist(const prefrec_dataset *ds, int aff, int32_t day_from,
                                               int32_t day_to, struct prefrec_dist *dist,
                                               const uint64_t *customer_key,
                                               prefrec_interactions **out, prefrec_error *err);
/* Another window [day_from, day_to) of x's affiliate, sharded as x is (collective). */
prefrec_status prefrec_interactions_window(const prefrec_dataset *ds, const prefrec_interactions *x,
                                           int32_t day_from, int32_t day_to,
                                           prefrec_interactions **out, prefrec_error *err);
void prefrec_interactions_free(prefrec_interactions *x); /* accepts NULL */
/* Pair index of (c, p) or -1 (binary search). */
int64_t prefrec_interactions_find(const prefrec_interactions *x, int32_t c, int32_t p);

/* ---- the ranker interface -------------------------------------------------------------------- */
/* new items = "discover" (never bought), repurchase = "buy again" (bought before), mixed = one
 * "next purchases" list over every product, scored against everything bought. */
enum { PREFREC_TASK_NEW_ITEMS = 1, PREFREC_TASK_REPURCHASE = 2, PREFREC_TASK_MIXED = 4 };

typedef struct prefrec_fit_input {
    const prefrec_dataset *ds; /* borrows: catalog and demographics */
    const prefrec_interactions *train; /* borrows: the training window */
    int threads; /* >= 1 */
    uint64_t seed;
    int verbose; /* 1: progress lines on stderr */
    int32_t min_group; /* rankers that score through a pack's served form (blend_served, mixed):
                          the fewest members a served aggregate rests on (blend_export.h,
                          PREFREC_BLEND_MIN_GROUP); 0: no rule */
    const char *storage; /* blend_served, mixed, neumf: round their pack tensors through this
                            storage plan (prefrec_quant_plan_dtype), as an exported version-2
                            pack would decode them; NULL: f32 */
} prefrec_fit_input;

typedef struct prefrec_ranker_def {
    const char *name; /* short, [a-z0-9_] */
    const char *summary; /* one line */
    unsigned tasks; /* PREFREC_TASK_* it is meant for */
    /* params: the ranker's own params struct, NULL = its defaults. *model: free with free. */
    prefrec_status (*fit)(const prefrec_fit_input *in, const void *params, void **model,
                          prefrec_error *err);
    /* Every product's score for customer into scores[n_products]. PREFREC_E_NOMEM when its
     * scratch could not be allocated (scores then undefined): the caller must not use them. */
    prefrec_status (*score)(const void *model, int32_t customer, float *scores);
    void (*free)(void *model);
    /* Optional hyper-parameter grid, tuned on a validation window cut from the training window
     * (never the test window); all three NULL / 0 = nothing to tune. params_size: bytes of the
     * ranker's params struct. grid(i, params) writes the i-th grid point (i = 0, 1, ...) into
     * params and returns 1, or returns 0 past the last one. describe writes the params in a
     * short form ("lambda=500 items=all") for outputs. */
    size_t params_size;
    int (*grid)(size_t i, void *params);
    void (*describe)(const void *params, char *buf, size_t n);
} prefrec_ranker_def;

/* ---- built-in rankers and their params --------------------------------------------------- */
/* pop: distinct buyers in the window. pop_seg: the same within the customer's gender x age
 * band (decade) segment, shrunk toward overall popularity by `prior` pseudo-customers. */
typedef struct prefrec_pop_params {
    int by_segment; /* 0: pop, 1: pop_seg */
    double prior; /* pseudo-customers of overall popularity in a segment (default 50) */
    double
        half_life_days; /* > 0: weight a buyer by 0.5^(age of their last purchase / h); 0: none */
    int by_lines; /* 1: count purchase lines instead of distinct buyers (g_topfreq; default 0) */
} prefrec_pop_params;
prefrec_pop_params prefrec_pop_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_pop, prefrec_ranker_pop_seg;

/* itemknn: cosine similarity of products over their buyers (binary customer x product matrix),
 * each product keeping its `neighbours` most similar; score = sum of similarities to the
 * customer's products (pruned lists keep a browser model small). */
typedef struct prefrec_itemknn_params {
    int neighbours; /* kept per product (default 200) */
    double shrink; /* added to the cosine denominator (default 10) */
} prefrec_itemknn_params;
prefrec_itemknn_params prefrec_itemknn_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_itemknn;

/* ease: Steck's EASE, B = I - P diag(1/diag P), P = (X'X + lambda I)^-1, over every product
 * bought in the window (max_items 0) or the max_items most-bought (the others rank below them,
 * by popularity). LAPACK solve when linked, else our own Cholesky. The dense solve needs
 * 8 n^2 bytes at its peak (the model keeps 4 n^2): when that exceeds max_mb, fit keeps the
 * most-bought products that fit and says so on stderr. Grid: lambda in 3, 10, 30, 100, 300,
 * 1000, 3000, 10000 (every product). */
typedef struct prefrec_ease_params {
    double lambda; /* > 0: absolute; <= 0: -lambda times the mean diagonal of X'X (default -1) */
    int max_items; /* 0: every product bought in the window (default); > 0: at most that many */
    int max_mb; /* memory cap of the dense solve in MiB (default 6144) */
} prefrec_ease_params;
prefrec_ease_params prefrec_ease_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_ease;

/* mf: implicit-feedback matrix factorisation by alternating least squares (Hu, Koren, Volinsky
 * 2008): confidence 1 + alpha * log(1 + count), preference 1 for bought pairs. Seeded init;
 * threads split the rows (same result for any thread count). Grid (docs/eval.md): dim 32, 64,
 * 128 x reg 0.1, 1, 10 at alpha 10, and alpha 1, 40 at dim 64, reg 1; 15 iterations of 3
 * conjugate-gradient steps (Takacs et al. 2011) per row. */
typedef struct prefrec_mf_params {
    int dim; /* default 32 */
    int iterations; /* default 10 */
    double reg; /* L2 (default 0.1) */
    double alpha; /* confidence scale (default 10) */
    int cg_steps; /* 0: exact solve per row (default); > 0: that many conjugate-gradient steps */
} prefrec_mf_params;
prefrec_mf_params prefrec_mf_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_mf;

/* bpr: BPR-MF (Rendle et al. 2009): p_u . q_i + b_i learned by SGD on (customer, bought,
 * not bought) triples, the negative drawn uniformly from the window's products the customer
 * did not buy. One seeded stream, one thread: the same model for any thread count. Customers
 * without history get overall popularity. Grid: dim 32, 64 x lr 0.01, 0.05 x reg 0.001, 0.01
 * x epochs 20, 60. */
typedef struct prefrec_bpr_params {
    int dim; /* default 64 */
    int epochs; /* each draws n_pairs triples (default 30) */
    double lr; /* learning rate (default 0.05) */
    double reg; /* L2 on the factors and biases touched by a step (default 0.01) */
} prefrec_bpr_params;
prefrec_bpr_params prefrec_bpr_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_bpr;

/* ---- next-basket baselines (Li et al., "A Next Basket Recommendation Reality Check", 2023;
 * docs/eval.md, "Baselines"). Baskets: rank_baskets.h (a receipt, or a day without receipts). */
/* g_topfreq: G-TopFreq, overall popularity by purchase lines in the window (pop's code, params a
 * prefrec_pop_params, NULL = by_lines). p_topfreq: P-TopFreq, the customer's products by their
 * purchase lines, ties by the later last purchase, then by the lower product index; products
 * they never bought all tie below (so: dictionary order); a customer without history gets
 * G-TopFreq. gp_topfreq: GP-TopFreq, the same own products first, then the rest by G-TopFreq.
 * p_ and gp_ take no params. */
extern const prefrec_ranker_def prefrec_ranker_g_topfreq, prefrec_ranker_p_topfreq,
    prefrec_ranker_gp_topfreq;

/* tifu_knn (Hu et al., SIGIR 2020): the customer's baskets, oldest first, cut into m groups
 * (floor(N/m) baskets in the earlier, ceil(N/m) in the later ones; with N < m, N groups of one);
 * basket j of a group of n weighs r_b^(n-j) / n (j = 1..n), group i of m weighs r_g^(m-i) / m
 * (i = 1..m); the customer's vector is the weighted sum of multi-hot baskets. score = alpha *
 * own + (1 - alpha) * mean of the k nearest customers' vectors, nearest by Euclidean distance
 * (as the paper) among the window's other customers (ties: lower index). Products scored 0 and
 * customers without history: overall popularity below. Grid: 13 points (docs/eval.md). */
typedef struct prefrec_tifu_params {
    int k; /* nearest customers (default 300) */
    int m; /* groups (default 7) */
    double r_b; /* within-group decay (default 0.9) */
    double r_g; /* group decay (default 0.7) */
    double alpha; /* weight of the customer's own vector (default 0.7) */
} prefrec_tifu_params;
prefrec_tifu_params prefrec_tifu_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_tifu_knn;

/* upcf (UP-CF@r, Faggioli et al., UMAP 2020): rc(v, i) = share of v's last r baskets that hold
 * i; sim(u, v) = |I_u & I_v| / (|I_u|^alpha |I_v|^(1 - alpha)) over the products bought in the
 * window; score(u, i) = sum over every customer v (u included, sim 1) of sim^q rc(v, i).
 * Grid: r 5, 25 x alpha 0.25, 0.75 x q 1, 5, 10, and (10, 0.5, 5). */
typedef struct prefrec_upcf_params {
    int recency; /* r: the last r baskets (default 10); 0 = all */
    double alpha; /* asymmetric cosine (default 0.5) */
    double q; /* locality exponent (default 5) */
} prefrec_upcf_params;
prefrec_upcf_params prefrec_upcf_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_upcf;

/* rp3beta (Paudel et al. 2016; Dacrema et al. 2019): W[i][j] = sum over customers u who bought
 * i and j of (1/deg i)^alpha (1/|I_u|)^alpha, divided by (deg j)^beta, j != i, each row keeping
 * its `neighbours` largest; score(u, j) = sum over u's products i of W[i][j] (binary purchases;
 * deg = distinct buyers). Grid: alpha 0.5, 1 x beta 0.3, 0.5, 0.7 x neighbours 50, 200. */
typedef struct prefrec_rp3beta_params {
    double alpha; /* default 1 */
    double beta; /* default 0.5 */
    int neighbours; /* kept per product (default 200) */
} prefrec_rp3beta_params;
prefrec_rp3beta_params prefrec_rp3beta_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_rp3beta;

/* Repurchase rankers (the customer's own history): rep_freq ranks by purchase count (ties by
 * the later last purchase); rep_recency by the last purchase day (ties by count). Products the
 * customer never bought get overall popularity scaled far below any bought product. */
extern const prefrec_ranker_def prefrec_ranker_rep_freq, prefrec_ranker_rep_recency;
/* seed_score: the deck's preference score (prefrec/native/score.h) as of the window's end; params:
 * a prefrec_score_params (its asof_day is replaced). Needs a single-affiliate window. */
extern const prefrec_ranker_def prefrec_ranker_seed_score;
/* due: "buy again" by the portable engine's own score (prefrec/repeat.h: decayed purchase days,
 * how due the product is by the customer's usual interval, the product's rebuy rate), as of
 * the window's end; params: a prefrec_repeat_params, or NULL: the best of 36 grid points on the
 * window's last quarter (fit tunes itself, so a pack serves what eval measures). */
extern const prefrec_ranker_def prefrec_ranker_due;
/* A fitted due model's params and its per-product priors (n_products of the window; borrowed). */
struct prefrec_repeat_params;
void prefrec_due_fitted(const void *model, struct prefrec_repeat_params *p, const float **prior);
/* mixed: one "next purchases" list, due's buy-again list and blend_served's discover list merged
 * by a repeat share chosen on the window's last quarter (src/rank/rank_mixed.c). */
typedef struct prefrec_mixed_params {
    double share; /* global repeat share s in [0, 1] (tune = 0; default 0.5) */
    double shrink; /* a: lines of pseudo-history toward s; < 0 = global share only (default) */
    int tune; /* 1 (default): choose share and shrink on the window's last quarter */
    int tune_users; /* default 1000 */
    int tune_k; /* default 20 */
} prefrec_mixed_params;
extern const prefrec_ranker_def prefrec_ranker_mixed;
/* A fitted mixed model's share and shrink (as chosen), and its buy-again part (a due model). */
void prefrec_mixed_fitted(const void *model, double *share, double *shrink, const void **due);

/* blend: the default ranker. EASE + ItemKNN item-to-item scores and segment / recent
 * ("trend") popularity, each scaled to the customer's best product, plus the customer's share
 * of purchases in the product's top category, and that share (top and subcategory) times the
 * product's popularity. With tune = 1 (default) fit chooses EASE's
 * lambda (0.3, 1 or 3 x mean diagonal) and the weights (grid 0, 0.1, 0.3, 1, 3, coordinate
 * ascent) by new-item recall + NDCG@tune_k of a seeded sample of tune_users customers on the
 * last quarter of the training window, fitted on the first three quarters; then refits on the
 * whole window. The w_* fields are the starting (tune = 1) or final (tune = 0) weights. */
typedef struct prefrec_blend_params {
    double w_ease, w_knn, w_pop, w_trend, w_cat, w_catpop, w_subpop;
    int tune; /* default 1 */
    int tune_users; /* default 1000 */
    int tune_k; /* default 20 */
    double trend_half_life_days; /* default 14 */
    prefrec_ease_params ease;
    prefrec_itemknn_params knn;
    prefrec_pop_params pop; /* the segment popularity */
} prefrec_blend_params;
prefrec_blend_params prefrec_blend_default_params(void);
extern const prefrec_ranker_def prefrec_ranker_blend;
/* neumf: the deck's score model (prefrec/native/train.h) trained on the window's scored pairs. */
extern const prefrec_ranker_def prefrec_ranker_neumf;
/* neumf_blend300: the NeuMF over the blend's top 300 never-bought products (measurement) */
extern const prefrec_ranker_def prefrec_ranker_neumf_blend300;

/* ---- the served form of fitted models (what src/core/blend.h serves from a pack) ---------- */
/* Top-m neighbours of every product (n_products rows of m; weight desc, index asc; only
 * positive weights; unused slots -1 and 0): EASE row entries B[h][p] (p != h), and ItemKNN
 * similarities. nbr and w: n_products * m entries, caller-owned. PREFREC_E_NOMEM: no scratch. */
prefrec_status prefrec_ease_neighbors(const void *ease_model, int32_t m, int32_t *nbr, float *w);
prefrec_status prefrec_itemknn_neighbors(const void *knn_model, int32_t m, int32_t *nbr, float *w);
/* The table a popularity model scores from: *rows = 33 segments (pop_seg) or 1 (pop). */
const float *prefrec_pop_table(const void *pop_model, int32_t *rows);
/* The overall table of a popularity model (n_products: share of buyers), the row a segment is
 * shrunk toward. */
const float *prefrec_pop_overall(const void *pop_model);
/* A segment popularity model's prior (pseudo-customers a row is shrunk by); *counted: 1 when
 * its rows come from distinct-buyer counts (no half-life, not by lines), so a pack can store
 * them as counts (prefrec/pack.h, pc8 / pc16). */
double prefrec_pop_prior(const void *pop_model, int *counted);
/* The fitted parts of a blend and its weights in the order ease, itemknn, pop_seg, trend,
 * category, category x pop, subcategory x pop. Models are NULL when their weight is 0. */
typedef struct prefrec_blend_fitted {
    const void *ease, *knn, *pop, *trend;
    double w[7];
} prefrec_blend_fitted;
void prefrec_blend_fitted_parts(const void *blend_model, prefrec_blend_fitted *out);

/* Metrics of one ranked list (ranked[0] best) against truth (n_truth distinct products) at k:
 * *recall = hits / min(k, n_truth), *ndcg = DCG / ideal DCG (prefrec/native/eval.h); returns the
 * number of hits in the top k. Used by the rankers' tuning and by `prefrec eval`. */
int prefrec_rank_list_metrics(const int32_t *ranked, size_t n_ranked, const int32_t *truth,
                              size_t n_truth, int k, double *recall, double *ndcg);

#ifdef __cplusplus
}
#endif
#endif
