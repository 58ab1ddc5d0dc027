/* prefrec/model.h - the score-prediction model (NeuMF family), inference side (portable).
 *
 *   prefrec_model *m = NULL;  prefrec_customers *cs = NULL;  prefrec_user *u = NULL;
 *   prefrec_model_load(pack, &m, &err);                // item side: product table + MLP
 *   prefrec_customers_load(pack_or_shard, m, &cs, &err);
 *   int32_t c = prefrec_customers_find(cs, "M000034966");
 *   prefrec_user_from_customer(m, cs, c, &u, &err);    // per-customer precompute
 *   float *s = malloc(prefrec_model_n_products(m) * sizeof *s);
 *   prefrec_model_score_all(m, u, s);                  // predicted score 0..5 for every product
 *   prefrec_user_free(u); prefrec_customers_free(cs); prefrec_model_free(m);
 *
 * The model (docs/model.md): customer embedding u and product embedding v (dim d), demographic
 * features x = [male, female, (age-45)/15, age unknown] (unknown gender: both 0; unknown age:
 * 0 and the flag 1), an MLP a_1 = relu(W_1 [u; v; x] + b_1), a_l = relu(W_l a_{l-1} + b_l), and
 *   score = clamp(b_0 + b_c + b_p + w_g . (u * v) + w_m . a_L, 0, 5).
 * At load, the product half of the first layer, W_1[:, d:2d] v_p + b_1, is precomputed for
 * every product; a prefrec_user holds the customer half and w_g * u, so scoring a product costs
 * the MLP from its second layer on.
 *
 * Ownership: prefrec_model and prefrec_customers BORROW their packs (weights and strings point
 * into the pack bytes): free them before the packs. A model and a customer table are immutable
 * and may be shared by threads; a prefrec_user is per request (it holds scratch space).
 * Errors: PREFREC_E_FORMAT when the pack lacks a tensor or shapes disagree (message names it),
 * PREFREC_E_NOTFOUND for unknown customers/products, PREFREC_E_NOMEM. */
#ifndef PREFREC_MODEL_H
#define PREFREC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/budget.h"
#include "prefrec/pack.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_MODEL_MAX_LAYERS 4
#define PREFREC_MODEL_N_DEMO 4 /* male, female, age (normalised), age unknown */
#define PREFREC_MODEL_AGE_CENTER 45.0f
#define PREFREC_MODEL_AGE_SCALE 15.0f
#define PREFREC_MODEL_SCORE_MAX 5.0f

typedef struct prefrec_model prefrec_model;
typedef struct prefrec_customers prefrec_customers;
typedef struct prefrec_user prefrec_user;

/* Demographic features of the model input (see above). gender: 0 male, 1 female, other
 * unknown; age in years or NaN for unknown. */
void prefrec_model_demo(int gender, float age, float out[PREFREC_MODEL_N_DEMO]);

/* What a pack's model costs, from its manifest and product table alone (64-bit, never
 * wrapping): computed and checked against the budget before anything is allocated. */
typedef struct prefrec_model_cost {
    int32_t n_products;
    int dim, n_layers, width[PREFREC_MODEL_MAX_LAYERS];
    uint64_t load_bytes; /* allocated at load: layer 1's product half (products x width 1
                              * floats), the transposed deeper layers, the load's scratch */
    uint64_t user_bytes; /* per request: one user's scratch and the fold-in buffer */
    uint64_t score_work; /* multiply-adds to score every product once */
    uint64_t fold_work_base; /* multiply-adds of one fold-in, whatever the history ... */
    uint64_t fold_work_item; /* ... plus this many per history product */
} prefrec_model_cost;

/* Reads "kind", "dim", "mlp" and the shape of product.emb (errors as prefrec_model_load's). */
prefrec_status prefrec_model_cost_of(const prefrec_pack *pack, prefrec_model_cost *out,
                                     prefrec_error *err);
/* PREFREC_E_RANGE, naming the sizes and the budget, when c's bytes plus extra_bytes exceed
 * prefrec_budget_bytes(b, pack_bytes) or its score_work exceeds b->max_work. who names the
 * spender in the message ("model", "engine"). b NULL: the default budget. */
prefrec_status prefrec_model_check_budget(const prefrec_model_cost *c, uint64_t extra_bytes,
                                          const char *who, uint64_t pack_bytes,
                                          const prefrec_budget *b, prefrec_error *err);

/* Load the item side of a pack ("full" or "item" part). *out: caller frees; borrows pack.
 * Within the default budget (prefrec/budget.h): PREFREC_E_RANGE when the pack asks for more. */
prefrec_status prefrec_model_load(const prefrec_pack *pack, prefrec_model **out,
                                  prefrec_error *err);
/* The same within budget b (NULL: the default); b->max_fold_work then bounds each fold-in. */
prefrec_status prefrec_model_load_budget(const prefrec_pack *pack, const prefrec_budget *b,
                                         prefrec_model **out, prefrec_error *err);
const prefrec_model_cost *prefrec_model_get_cost(const prefrec_model *m); /* valid until free */
void prefrec_model_free(prefrec_model *m); /* accepts NULL */

int prefrec_model_dim(const prefrec_model *m);
int prefrec_model_n_layers(const prefrec_model *m);
int prefrec_model_layer_width(const prefrec_model *m, int l);
int32_t prefrec_model_n_products(const prefrec_model *m);
const char *prefrec_model_affiliate(const prefrec_model *m); /* "" if the manifest has none */
/* Product catalog (index 0 .. n_products-1). Strings valid until the pack is freed. */
const char *prefrec_model_product_code(const prefrec_model *m, int32_t p);
const char *prefrec_model_product_name(const prefrec_model *m, int32_t p);
const char *prefrec_model_product_category(const prefrec_model *m, int32_t p); /* "" none */
const char *prefrec_model_product_subcategory(const prefrec_model *m, int32_t p); /* "" none */
int32_t prefrec_model_product_category_id(const prefrec_model *m, int32_t p); /* -1 none */
int32_t prefrec_model_n_categories(const prefrec_model *m);
int32_t prefrec_model_product_subcategory_id(const prefrec_model *m, int32_t p); /* -1 none */
int32_t prefrec_model_n_subcategories(const prefrec_model *m);
const char *prefrec_model_category_name(const prefrec_model *m, int32_t c); /* "" if out of range */
int32_t prefrec_model_find_product(const prefrec_model *m, const char *code); /* -1 if absent */

/* Customer side of a pack ("full" pack or a "customers" shard) for model m (dims and the item
 * pack's CRC are checked). *out: caller frees; borrows pack. */
prefrec_status prefrec_customers_load(const prefrec_pack *pack, const prefrec_model *m,
                                      prefrec_customers **out, prefrec_error *err);
void prefrec_customers_free(prefrec_customers *cs); /* accepts NULL */
int32_t prefrec_customers_count(const prefrec_customers *cs);
int32_t prefrec_customers_find(const prefrec_customers *cs, const char *code); /* -1 absent */
const char *prefrec_customers_code(const prefrec_customers *cs, int32_t c);
int prefrec_customers_gender(const prefrec_customers *cs, int32_t c); /* 0, 1, -1 unknown */
float prefrec_customers_age(const prefrec_customers *cs, int32_t c); /* NaN unknown */
/* Products customer c bought (the training pairs): ascending product indices of the model. */
const int32_t *prefrec_customers_bought(const prefrec_customers *cs, int32_t c, size_t *n);

/* Per-customer state. From a known customer, or from an embedding (NULL = unknown customer:
 * zero vector and bias, served by gender and age alone). *out: caller frees. */
prefrec_status prefrec_user_from_customer(const prefrec_model *m, const prefrec_customers *cs,
                                          int32_t c, prefrec_user **out, prefrec_error *err);
prefrec_status prefrec_user_new(const prefrec_model *m, const float *emb, float bias, int gender,
                                float age, prefrec_user **out, prefrec_error *err);
/* Fold a customer in from a purchase history (product indices, distinct): solve for the
 * embedding and bias with product weights fixed (deterministic fixed-step gradient descent,
 * src/core/model.c). n == 0 gives the demographic-only user. *out: caller frees.
 * PREFREC_E_RANGE when fold_work_base + n x fold_work_item exceeds the budget's max_fold_work
 * (the message says how many products fit). */
prefrec_status prefrec_user_fold_in(const prefrec_model *m, const int32_t *hist, size_t n,
                                    int gender, float age, prefrec_user **out, prefrec_error *err);
void prefrec_user_free(prefrec_user *u); /* accepts NULL */

/* Predicted score of product p (0 <= p < n_products) for u, in [0, 5]. */
float prefrec_model_score(const prefrec_model *m, prefrec_user *u, int32_t p);
/* Scores of every product into out[n_products]. */
void prefrec_model_score_all(const prefrec_model *m, prefrec_user *u, float *out);
/* out[i] = the score of products[i] (each 0 <= . < n_products) as prefrec_model_score_all gives
 * it (the same kernel, the same floats), for i < n. */
void prefrec_model_score_some(const prefrec_model *m, prefrec_user *u, const int32_t *products,
                              size_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif
