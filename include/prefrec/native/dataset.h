/* prefrec/native/dataset.h - the in-memory columnar purchase store and its loaders (native).
 *
 *   prefrec_load_params lp = prefrec_load_default_params();
 *   lp.skip_bad_rows = 0;            // default: the first bad row is an error
 *   prefrec_dataset *ds = NULL;
 *   prefrec_error err = {0};
 *   if (prefrec_dataset_load("data/demo", &lp, &ds, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   for (size_t i = 0; i < ds->n_rows; i++) use(ds->customer[i], ds->product[i], ds->day[i]);
 *   prefrec_dataset_free(ds);
 *
 * PATH is either an L.POINT directory (LPOINT_BIG_COMP_01_DEMO.csv, 02_PDDE.csv, 04_PD_CLAC.csv,
 * optional 06_LPAY.csv) or a mapping .json describing a generic layout (README, "Input layouts").
 *
 * One row per purchase line (a receipt line of the input), in file order, after the returns
 * rule (README, "Returns, cancellations and zero lines"): a line whose quantity (or, when the
 * input has no quantity, amount) is 0 or below is not a purchase, nor is a line of a product
 * whose lines in the same receipt net to 0 or below; such lines are dropped and counted
 * (n_return_lines ...). Columns are plain
 * arrays of n_rows entries, owned by the dataset; ids are dense indices into the dictionaries
 * (0 .. size-1, in first-seen order: catalog / demographics file first, then transactions).
 * A loaded dataset is read-only and may be shared by threads. Errors: see prefrec/status.h;
 * messages name file, line and column. */
#ifndef PREFREC_DATASET_H
#define PREFREC_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/demog.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- string <-> dense index dictionary ---------------------------------------------------- */
typedef struct prefrec_dict prefrec_dict;

prefrec_dict *prefrec_dict_new(void); /* caller frees with _free */
void prefrec_dict_free(prefrec_dict *d); /* accepts NULL */
/* Index of s (len bytes, need not be NUL-terminated), adding it if new; -1 on out of memory. */
int32_t prefrec_dict_intern(prefrec_dict *d, const char *s, size_t len);
/* Index of s or -1 if absent. */
int32_t prefrec_dict_find(const prefrec_dict *d, const char *s, size_t len);
/* The NUL-terminated string of index i; valid until prefrec_dict_free. */
const char *prefrec_dict_str(const prefrec_dict *d, int32_t i);
int32_t prefrec_dict_size(const prefrec_dict *d);

/* ---- the dataset ---------------------------------------------------------------------------- */
enum { PREFREC_CHANNEL_UNKNOWN = 0, PREFREC_CHANNEL_OFFLINE = 1, PREFREC_CHANNEL_ONLINE = 2 };
#define PREFREC_HOUR_UNKNOWN 255

typedef struct prefrec_dataset {
    /* transactions: n_rows purchase lines */
    size_t n_rows;
    int32_t *customer; /* -> customers */
    int32_t *product; /* -> products */
    int32_t *day; /* days since 1970-01-01 (prefrec/date.h) */
    uint8_t *hour; /* 0..23 or PREFREC_HOUR_UNKNOWN */
    uint8_t *affiliate; /* -> affiliates ("A01".. or "ALL" when the input has none) */
    int32_t *receipt; /* -> receipts, or -1 when the input has no receipt column */
    float *quantity; /* buy_ct / quantity; 1 when the input has none */
    double *amount; /* buy_am / sales value; 0 when the input has none */
    uint8_t *channel; /* PREFREC_CHANNEL_* */
    uint8_t *lpay; /* 1 if the line's receipt was paid with Lpay (06 file), else 0 */
    int32_t *branch; /* -> branches, or -1 (online / none) */

    prefrec_dict *customers, *products, *affiliates, *receipts, *branches;

    /* product catalog, arrays indexed by product (prefrec_dict_size(products) entries) */
    int has_catalog; /* 0: no products file; names are the codes, no categories */
    prefrec_dict *categories; /* top categories (clac_hlv_nm / department) */
    prefrec_dict *subcategories; /* mid categories (clac_mcls_nm / product_category) */
    const char **product_name; /* never NULL entries; the code when no name is known */
    prefrec_dict *names; /* owns the catalog's product names (product_name points into it
                                   or into products); may be NULL */
    int32_t n_products_in_catalog; /* products 0 .. n-1 came from the products file */
    int32_t *product_category; /* -> categories, or -1 */
    int32_t *product_subcategory; /* -> subcategories, or -1 */

    /* customer attributes, arrays indexed by customer */
    int has_demographics;
    int8_t *gender; /* PREFREC_GENDER_* */
    float *age; /* years (band midpoint, see prefrec/demog.h), NaN unknown */
    int32_t n_customers_with_rows; /* customers that appear in the transactions */
    int32_t n_customers_in_demographics; /* customers 0 .. n-1 came from the demographics file */

    int32_t day_min, day_max; /* over the transactions (0 when n_rows == 0) */
    size_t n_skipped; /* rows dropped under skip_bad_rows (0 otherwise) */

    /* The returns rule. has_quantity / has_amount: the input has that column (_new: quantity
     * yes, amount no); a line's measure is its quantity, else its amount, else 1. Lines dropped
     * as not purchases (they are not in the n_rows rows): */
    int has_quantity, has_amount;
    size_t n_return_lines; /* measure below 0: returns, cancellations */
    size_t n_returns_unmatched; /* of those, no purchase line of the product in the receipt
                                   (the return of an earlier purchase, which stays a purchase) */
    size_t n_zero_lines; /* measure 0 */
    size_t n_cancelled_lines; /* measure above 0, but the product's lines in the receipt net
                                   to 0 or below (bought and returned in one receipt) */
    size_t n_lpay_rows; /* rows of the Lpay file (06), 0 when there is none */
    size_t n_lpay_unmatched; /* of those, receipts not in the purchases (other affiliates) */
    char *source; /* the PATH it was loaded from */
} prefrec_dataset;

typedef struct prefrec_load_params {
    int skip_bad_rows; /* 0: first bad row is an error; 1: skip, count and report (stderr) */
    int progress; /* 1: print rows read to stderr while loading (only on a terminal) */
    int threads; /* threads parsing the L.POINT purchase file: 0 = automatic (2 for a
                            file of 8 MiB and more when a CPU is idle: 2+ CPUs and a load
                            average at most CPUs - 1.5), 1 = one, 2 = two (any file with a line
                            break past its middle). The dataset is identical either way. */
} prefrec_load_params;

prefrec_load_params prefrec_load_default_params(void);

/* Load PATH (L.POINT directory or mapping .json). *out: caller frees with
 * prefrec_dataset_free. On error *out is NULL and err names file:line:column. */
prefrec_status prefrec_dataset_load(const char *path, const prefrec_load_params *params,
                                    prefrec_dataset **out, prefrec_error *err);
void prefrec_dataset_free(prefrec_dataset *ds); /* accepts NULL */

/* Building a dataset by hand (tests, other loaders):
 *   prefrec_dataset *ds = prefrec_dataset_new(3);   // 3 rows, empty dictionaries
 *   ds->customer[0] = prefrec_dict_intern(ds->customers, "C1", 2); ... fill every row ...
 *   prefrec_dataset_finish(ds, &err);                // checks indices, fills the rest
 * _new: all 11 columns allocated for n_rows (zero; hour UNKNOWN, receipt/branch -1, quantity 1),
 * all seven dictionaries empty, catalog/customer arrays NULL; caller frees with _free.
 * _finish: checks every row's indices against the dictionary sizes (PREFREC_E_RANGE if not)
 * and that no code or name holds a NUL byte (PREFREC_E_INVAL: they are written as C strings),
 * applies the returns rule (drops those rows, adds to the n_*_lines counts), sizes
 * product_name/product_category/product_subcategory to the products dictionary (new
 * entries: the code, -1, -1) and gender/age to the customers dictionary (UNKNOWN, NaN), and
 * computes n_customers_with_rows, day_min, day_max. If you set product_name yourself, also set
 * n_products_in_catalog (entries below it are kept); likewise gender/age and
 * n_customers_in_demographics. */
prefrec_dataset *prefrec_dataset_new(size_t n_rows);
prefrec_status prefrec_dataset_finish(prefrec_dataset *ds, prefrec_error *err);

/* Opt-out and erasure (`prefrec train --opt-out`): remove every row of the customers flagged in
 * drop[0 .. prefrec_dict_size(customers)) (1 = drop), keeping the other rows in order, and forget
 * their gender and age (UNKNOWN, NaN). Their codes stay in the customers dictionary, so every
 * other index is unchanged, but nothing of them is left to read. n_customers_with_rows, day_min
 * and day_max are recomputed. *rows (may be NULL): the rows removed. PREFREC_E_NOMEM (nothing
 * changed) or PREFREC_OK. */
prefrec_status prefrec_dataset_drop_customers(prefrec_dataset *ds, const uint8_t *drop,
                                              size_t *rows, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
