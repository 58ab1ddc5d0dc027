/* prefrec/native/gen.h - the demo data generator: a year (2021) of shopping in the L.POINT layout.
 *
 *   prefrec_gen_params p = prefrec_gen_default_params();
 *   p.scale = 0.01; p.seed = 7;
 *   prefrec_gen_summary sum;
 *   prefrec_error err = {0};
 *   if (prefrec_gen_write("out/demo", &p, &sum, &err)) fprintf(stderr, "%s\n", err.msg);
 *
 * Writes, into dir (created if missing), LPOINT_BIG_COMP_01_DEMO.csv (customers),
 * 02_PDDE.csv (purchase lines), 04_PD_CLAC.csv (product catalog) and 06_LPAY.csv (receipts paid
 * with Lpay): UTF-8, a header row, no BOM, every file through prefrec/native/atomic.h (a failure leaves
 * the old files). At scale 1.0: 29,913 customers, 1,933 products in 60 top / 349 mid
 * categories, about 4.4 M purchase lines; the catalog does not depend on scale or seed, the
 * number of customers is round(29,913 x scale) and customer i is the same at every scale.
 * The same (scale, seed) gives the same bytes. How purchases are made: README "Demo data" and
 * src/data/gen.c. Native only; not thread-safe per call (calls on different dirs may run in
 * parallel). */
#ifndef PREFREC_GEN_H
#define PREFREC_GEN_H

#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_GEN_N_AFF 6
#define PREFREC_GEN_PRODUCTS_MAX 1000000
#define PREFREC_GEN_PARTS_MAX 100000

typedef struct prefrec_gen_params {
    double scale; /* 1.0 = the real data's 29,913 customers; > 0 and <= 100 */
    uint64_t seed;
    /* 0: the fixed catalog (1,933 products, the default: same bytes as before). Else this
     * many products (100..PREFREC_GEN_PRODUCTS_MAX) in the same 60 top / 349 mid categories,
     * each top's share as in the fixed one, a longer popularity tail; the same customers */
    int32_t products;
    /* 0: the purchases in one file. N (1..PREFREC_GEN_PARTS_MAX): LPOINT_BIG_COMP_02_PDDE.csv is
     * a directory of N files part-00000.csv .. (each with the header; part p holds the lines of
     * customers [n p / N, n (p + 1) / N)), read as the one file by every loader: the same lines
     * in the same order. Written part after part, never the whole table in memory */
    int32_t parts;
    /* optional: called now and then with the share of customers done (0..1) */
    void (*progress)(void *user, double done);
    void *progress_user; /* borrowed, passed to progress */
} prefrec_gen_params;

typedef struct prefrec_gen_summary {
    int64_t customers; /* rows of 01 */
    int64_t buyers; /* customers with at least one purchase line */
    int64_t products, top_categories, mid_categories;
    int64_t rows; /* purchase lines (02) */
    int64_t receipts;
    int64_t lpay_rows; /* rows of 06 */
    int64_t rows_count_one; /* lines with buy_ct 1 */
    int64_t rows_aff[PREFREC_GEN_N_AFF], receipts_aff[PREFREC_GEN_N_AFF],
        lpay_aff[PREFREC_GEN_N_AFF];
    int64_t bytes[4]; /* sizes of the 01, 02 (all parts), 04, 06 files */
} prefrec_gen_summary;

prefrec_gen_params prefrec_gen_default_params(void); /* scale 1.0, seed 1, no progress */

/* Generate the data set into dir. summary may be NULL. Errors: PREFREC_E_INVAL (bad scale),
 * PREFREC_E_IO (directory or file not writable; message names the path), PREFREC_E_NOMEM. */
prefrec_status prefrec_gen_write(const char *dir, const prefrec_gen_params *params,
                                 prefrec_gen_summary *summary, prefrec_error *err);

/* The file names, index 0..3 for 01, 02, 04, 06 ("LPOINT_BIG_COMP_01_DEMO.csv", ...). */
const char *prefrec_gen_file_name(int i);

#ifdef __cplusplus
}
#endif
#endif
