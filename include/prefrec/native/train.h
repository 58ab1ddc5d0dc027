/* prefrec/native/train.h - train the NeuMF score-prediction model on (customer, product, score) pairs
 * and write it as a model pack (native; pthreads).
 *
 *   prefrec_train_data td = {.n_pairs = n, .customer = cust, .product = prod, .target = score,
 *                            .n_customers = nc, .n_products = np, .gender = g, .age = age};
 *   prefrec_train_params tp = prefrec_train_default_params();
 *   tp.seed = 7; tp.threads = 2; tp.label = "A01";
 *   prefrec_neumf *net = NULL;  prefrec_train_report rep;
 *   if (prefrec_neumf_train(&td, &tp, &net, &rep, &err)) ...;   // progress lines on stderr
 *   printf("valid RMSE %.4f\n", rep.valid_rmse);
 *   prefrec_neumf_save_pack(net, &meta, "out/A01.pack", NULL, &err);
 *   prefrec_neumf_free(net);
 *
 * The data are plain arrays, so the trainer does not depend on how scores are made: indices
 * are dense (0..n_customers-1, 0..n_products-1); gender per customer (0 male, 1 female, other
 * unknown) and age per customer (years, NaN unknown) may be NULL (all unknown).
 *
 * Training: pairs split train:valid by their is_valid flags (the training pipeline's: a hash of
 * the seed and the pair's codes, prefrec_train_split_valid), or without flags by a seeded
 * permutation (valid_frac, default 0.1); MSE +
 * l2 * (|u|^2 + |v|^2) per sample, averaged over the mini-batch; Adam (dense Adam for the MLP
 * and output layer, lazy "sparse" Adam for embedding and bias rows touched by the batch, with
 * the global step in the bias correction, as torch.optim.SparseAdam); early stopping on
 * validation RMSE (patience epochs without improvement), the best epoch's weights are kept.
 * Determinism: every random draw comes from prefrec_rng streams of the seed; each batch is cut
 * into fixed 32-pair chunks whose gradients are summed in chunk order, whatever the number of
 * threads, so the trained weights are bit-identical for a seed across thread counts too.
 * Thread safety: prefrec_neumf_train uses params.threads worker threads internally; a trained
 * prefrec_neumf is read-only afterwards. */
#ifndef PREFREC_TRAIN_H
#define PREFREC_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/model.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct prefrec_blend_tensors; /* prefrec/native/blend_export.h */

typedef struct prefrec_train_data {
    size_t n_pairs;
    const int32_t *customer; /* [n_pairs] */
    const int32_t *product; /* [n_pairs] */
    const float *target; /* [n_pairs], 0..5 */
    int32_t n_customers, n_products;
    const int8_t *gender; /* [n_customers] or NULL */
    const float *age; /* [n_customers] or NULL */
    /* [n_pairs] or NULL: 1 for a validation pair. NULL: the seeded permutation's split
     * (prefrec_train_split). The pipeline gives prefrec_train_split_valid's flags. */
    const uint8_t *is_valid;
} prefrec_train_data;

typedef struct prefrec_train_params {
    int dim; /* embedding dimension (32) */
    int n_layers; /* MLP hidden layers (2), widths in layers[] ({64, 32}) */
    int layers[PREFREC_MODEL_MAX_LAYERS];
    int epochs; /* maximum epochs (20) */
    int batch; /* mini-batch size (256) */
    float lr; /* Adam learning rate (0.002) */
    float l2; /* L2 weight on embeddings (0.1) */
    float init_std; /* embedding init N(0, init_std) (0.05) */
    double valid_frac; /* 0.1 */
    int patience; /* early stopping (3) */
    int threads; /* worker threads (1) */
    uint64_t seed; /* (1) */
    int verbose; /* 1: one progress line per epoch on stderr */
    const char *label; /* prefix of progress lines (e.g. the affiliate); may be NULL */
} prefrec_train_params;

prefrec_train_params prefrec_train_default_params(void);

#define PREFREC_TRAIN_LOG_MAX 256
typedef struct prefrec_train_report {
    size_t n_train, n_valid;
    int epochs_run, best_epoch; /* best_epoch is 1-based */
    double train_loss; /* mean batch MSE of the best epoch */
    double train_rmse, valid_rmse; /* of the kept weights, predictions clamped to 0..5 */
    double seconds, seconds_per_epoch;
    struct { /* per epoch (the first PREFREC_TRAIN_LOG_MAX of them) */
        double train_loss, valid_rmse, seconds;
    } log[PREFREC_TRAIN_LOG_MAX];
} prefrec_train_report;

/* Trained weights as plain arrays (owned by the struct; free with prefrec_neumf_free).
 * Matrices are row-major, w[l] is [width[l]][in_l] with in_0 = 2*dim + PREFREC_MODEL_N_DEMO. */
typedef struct prefrec_neumf {
    int dim, n_layers, width[PREFREC_MODEL_MAX_LAYERS];
    int32_t n_customers, n_products;
    float *cemb, *cbias, *pemb, *pbias;
    float *w[PREFREC_MODEL_MAX_LAYERS], *b[PREFREC_MODEL_MAX_LAYERS];
    float *wg, *wm, b0;
    uint64_t seed;
} prefrec_neumf;

prefrec_status prefrec_neumf_train(const prefrec_train_data *data,
                                   const prefrec_train_params *params, prefrec_neumf **out,
                                   prefrec_train_report *report, prefrec_error *err);
void prefrec_neumf_free(prefrec_neumf *net); /* accepts NULL */

/* The split prefrec_neumf_train makes for n pairs given without is_valid flags: is_valid[i] = 1
 * for validation pairs. (For benchmarks that must train another implementation on the same
 * split.) */
prefrec_status prefrec_train_split(size_t n, double valid_frac, uint64_t seed, uint8_t *is_valid,
                                   prefrec_error *err);

/* The training pipeline's split: 1 if the pair (customer code, product code) validates. A
 * counter-based hash of (seed, customer, product) against valid_frac, so a pair's flag depends
 * on nothing else: the same on any rank of a sharded run, in any order of the pairs, in one
 * process too; about valid_frac of the pairs validate. Borrows the codes. */
int prefrec_train_split_valid(uint64_t seed, const char *customer, const char *product,
                              double valid_frac);

/* Replace the item-side weights (product.emb, product.bias, mlp.*, out.*) by what a version-2
 * item pack stored with plan decodes (prefrec/pack.h); 1 for a malformed plan or a value that
 * is not finite. For measuring a storage plan (prefrec eval --storage). */
int prefrec_neumf_store_items(prefrec_neumf *net, const char *plan);

/* Predicted score (clamped to 0..5) of (c, p) with the customer's demographics. */
float prefrec_neumf_predict(const prefrec_neumf *net, int32_t c, int32_t p, int gender, float age);

/* What goes into a pack besides the weights. Arrays are borrowed. */
typedef struct prefrec_pack_meta {
    const char *affiliate; /* "A01" */
    const char *asof; /* "YYYY-MM-DD" or NULL */
    const char *const *product_code; /* [n_products] */
    const char *const *product_name; /* [n_products] */
    const int32_t *product_cat; /* [n_products], index into category_names or -1 */
    const int32_t *product_sub; /* [n_products], index into subcategory_names or -1 */
    const char *const *category_names;
    int32_t n_categories;
    const char *const *subcategory_names;
    int32_t n_subcategories;
    const char *const *customer_code; /* [n_customers] */
    const prefrec_train_data *data; /* demographics and the bought sets (all pairs) */
    const prefrec_train_params *params; /* recorded in the manifest */
    const prefrec_train_report *report; /* recorded in the manifest (no timings: packs are
                                           byte-identical for the same inputs and seed) */
    /* Optional, added by the training pipeline (prefrec/native/pipeline.h); NULL: not in the pack. */
    const struct prefrec_blend_tensors *blend; /* the default ranker's served form: tensors
                                                  "blend.*" after the item side, manifest "blend" */
    const float *product_target; /* [n_products] each product's mean training score (the NeuMF
                                     fold-in's target), with manifest "target_mean" */
    double target_mean; /* the mean over all pairs; written with product_target */
    const float *customer_lines; /* [n_customers] purchase lines in the affiliate (plan 1) */
    /* "buy again" and the mixed list (prefrec/repeat.h, docs/engine.md): tensor "repeat.prior"
     * [n_products], manifest "repeat" (the params) and "mixed" (share, shrink < 0: global) */
    const float *repeat_prior;
    const struct prefrec_repeat_params *repeat;
    double mixed_share, mixed_shrink;
} prefrec_pack_meta;

/* Write a "full" pack (item side, then the optional blend, then the customer side) atomically
 * to path, in one pass; *size_out may be NULL. */
prefrec_status prefrec_neumf_save_pack(const prefrec_neumf *net, const prefrec_pack_meta *meta,
                                       const char *path, size_t *size_out, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
