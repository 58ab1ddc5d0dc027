/* prefrec/native/foldin_check.h - how well the on-device fold-in reproduces trained customers (native).
 *
 *   prefrec_foldin_stats st;
 *   prefrec_foldin_overlap(pack, PREFREC_RANKER_NEUMF, 500, &st, &err);
 *   printf("%.3f over %d customers\n", st.mean_overlap, st.customers);
 *
 * For up to max_customers known customers of the pack (every n-th, so the sample spans the
 * pack), the top-30 served from the customer's trained state is compared with the top-30 served
 * from their purchase history and demographics alone (as for a customer the pack does not know).
 * Borrows the pack. */
#ifndef PREFREC_FOLDIN_CHECK_H
#define PREFREC_FOLDIN_CHECK_H

#include "prefrec/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_foldin_stats {
    int customers; /* compared */
    double mean_overlap; /* mean |top30(known) & top30(folded)| / |top30(known)| */
    double min_overlap;
    double us_known, us_folded; /* mean microseconds per request */
} prefrec_foldin_stats;

prefrec_status prefrec_foldin_overlap(const prefrec_pack *pack, int ranker, int max_customers,
                                      prefrec_foldin_stats *out, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
