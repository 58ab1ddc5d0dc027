/* gen_internal.h - pieces shared by the demo data generator's files (src/data/gen*.c).
 * Not a public header: the product catalog model (gen_catalog.c) that the purchase simulation
 * (gen.c) samples from. */
#ifndef PREFREC_GEN_INTERNAL_H
#define PREFREC_GEN_INTERNAL_H

#include <stdint.h>

#include "prefrec/rng.h"
#include "prefrec/status.h"

#define GEN_N_AFF 6 /* A01 .. A06 */
#define GEN_N_AGE 6 /* 20대 .. 70대 */
#define GEN_N_MONTH 12

/* Household traits that gate some categories (a category with a trait is bought only, or far
 * more, by households that have it). */
enum {
    GEN_TRAIT_NONE = 0,
    GEN_TRAIT_BABY,
    GEN_TRAIT_KIDS,
    GEN_TRAIT_PET,
    GEN_TRAIT_SMOKER,
    GEN_TRAIT_CAR,
    GEN_N_TRAIT
};

typedef struct gen_top {
    const char *name;
    int n_products, first_mid, n_mids;
    float cycle; /* typical repurchase interval in days for a regular buyer */
    float adopt; /* P(a tried product becomes a regular one) */
    float multi; /* P(buy_ct > 1) */
    float price, spread; /* median price (won) and the lognormal spread of product prices */
    float female, male; /* preference multipliers by gender */
    float age[GEN_N_AGE];
    int trait; /* GEN_TRAIT_* */
    float aff[GEN_N_AFF]; /* share weight of the category in each affiliate (0: not sold) */
    char kind; /* 'f' food, 'c' clothing, 'g' goods, 'e' electronics, 's' service */
} gen_top;

typedef struct gen_mid {
    const char *name; /* owned by the catalog */
    int top, first_product, n_products;
    float cycle_mult; /* the mid's interval relative to its top's */
    float season[GEN_N_MONTH];
} gen_mid;

typedef struct gen_product {
    char *name; /* owned by the catalog */
    int top, mid;
    uint8_t avail; /* bit a: sold at affiliate a */
    float popularity; /* relative, heavy-tailed */
    float cycle; /* days */
    float adopt;
    int32_t price; /* won */
    float season[GEN_N_MONTH]; /* its mid's and its own seasons: monthly multipliers, mean 1 */
} gen_product;

typedef struct gen_catalog {
    int n_tops, n_mids, n_products;
    int code_width; /* digits of the product codes PD0001..: 4, more past 9,999 products */
    gen_top *tops;
    gen_mid *mids;
    gen_product *products;
    /* Sampling tables. Per (affiliate, mid): the products sold there with cumulative popularity.
     * Per (affiliate, month, top): cumulative weights of its mids (popularity x season), and the
     * top's seasonal factor (that month's weight / the year's mean). */
    int *aff_mid_off; /* [aff][n_mids + 1] offsets into aff_prod */
    int *aff_prod; /* product indices, n_aff_prod in all */
    int n_aff_prod;
    double *aff_cum; /* [month][n_aff_prod]: cumulative within the (aff, mid) slice */
    double *mid_cum; /* [aff][month][n_mids]: cumulative within the top's mids */
    double *top_season; /* [aff][month][n_tops] */
} gen_catalog;

/* Build the catalog (names and categories do not depend on the seed; prices and popularity
 * are drawn from rng): the fixed 1,933 products when n_products is 0, else n_products spread
 * over the same categories in the same proportions, with a longer tail of popularity (see
 * gen_catalog.c). Caller frees with gen_catalog_free. */
prefrec_status gen_catalog_build(gen_catalog *c, prefrec_rng *rng, int32_t n_products,
                                 prefrec_error *err);
void gen_catalog_free(gen_catalog *c);

/* Draw a product of top t sold at affiliate a in month m (mid by season x popularity, then
 * product by popularity); -1 if the affiliate sells nothing of t. */
int gen_catalog_pick_in_top(const gen_catalog *c, int a, int m, int t, prefrec_rng *r);
/* Draw a product of mid md sold at affiliate a in month m by popularity x season; -1 if none. */
int gen_catalog_pick_in_mid(const gen_catalog *c, int a, int m, int md, prefrec_rng *r);
/* Index of the top / mid named s, or -1. */
int gen_catalog_find_top(const gen_catalog *c, const char *s);
int gen_catalog_find_mid(const gen_catalog *c, const char *s);

/* ---- customers and purchases (gen.c) ---------------------------------------------------- */
#define GEN_N_ZONE 17
#define GEN_REP_MAX 96 /* regular products per (customer, affiliate) */

/* Fixed facts of the simulated year shared by all customers (read-only once built). */
typedef struct gen_world {
    const gen_catalog *cat;
    uint64_t seed;
    float day_mult[GEN_N_AFF][365]; /* weekday, closing days, holiday rush, trends */
    int n_branch[GEN_N_AFF];
    int zone_first[GEN_N_AFF][GEN_N_ZONE], zone_count[GEN_N_AFF][GEN_N_ZONE];
    int top_cigarette; /* index of 담배 */
    int top_giftcard; /* index of 상품권 */
} gen_world;

typedef struct gen_customer {
    uint32_t id; /* the 9 digits of M#########, unique per index */
    int female, age, zone; /* age: 0..5 for 20대..70대; zone 0..16 */
    int buyer; /* 0: appears in the demographics file only */
} gen_customer;

typedef struct gen_line {
    int32_t product; /* 32 bits: gen --products goes past 32,767 */
    int16_t count;
    int32_t amount;
} gen_line;
typedef struct gen_receipt {
    int16_t day;
    uint8_t hour, aff, channel, lpay;
    int16_t branch; /* -1 online */
    int32_t first_line, n_lines;
    int64_t amount;
} gen_receipt;

/* A regular product: bought again from its due day on (the gap since the last purchase is
 * drawn with a hazard that rises with the time since it), more surely the longer it is overdue. */
typedef struct gen_rep {
    int32_t product;
    int16_t last, due, n;
    float interval, pmax;
} gen_rep;

/* Per-thread scratch space; reused across customers. */
typedef struct gen_work {
    gen_receipt *receipts;
    size_t n_receipts, cap_receipts;
    gen_line *lines;
    size_t n_lines, cap_lines;
    gen_rep rep[GEN_REP_MAX];
    int n_rep;
    uint8_t *bought; /* [n_products]: bought at the current affiliate */
    int32_t *hist;
    int n_hist; /* products bought at the current affiliate, in order */
} gen_work;

prefrec_status gen_world_init(gen_world *w, const gen_catalog *cat, uint64_t seed);
prefrec_status gen_work_init(gen_work *k, const gen_catalog *cat);
void gen_work_free(gen_work *k);
/* Simulate customer idx's attributes and (if a buyer) the year's receipts into k, sorted by
 * day, hour and affiliate. Depends only on (world seed, idx): customers are independent. */
prefrec_status gen_customer_simulate(const gen_world *w, uint32_t idx, gen_customer *c,
                                     gen_work *k);

#endif
