/* metrics.c - Recall and NDCG of one ranked list (prefrec/native/rankers.h): the measure the rankers
 * tune their weights by and `prefrec eval` reports, defined once. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/rankers.h"

int prefrec_rank_list_metrics(const int32_t *ranked, size_t n_ranked, const int32_t *truth,
                              size_t n_truth, int k, double *recall, double *ndcg) {
    int hits = 0;
    double dcg = 0, idcg = 0;
    size_t top = n_ranked < (size_t)k ? n_ranked : (size_t)k;
    for (size_t r = 0; r < top; r++) {
        for (size_t t = 0; t < n_truth; t++)
            if (truth[t] == ranked[r]) {
                hits++;
                dcg += 1.0 / log2((double)r + 2.0);
                break;
            }
    }
    size_t ideal = n_truth < (size_t)k ? n_truth : (size_t)k;
    for (size_t r = 0; r < ideal; r++) idcg += 1.0 / log2((double)r + 2.0);
    if (recall) *recall = ideal ? (double)hits / (double)ideal : 0.0;
    if (ndcg) *ndcg = idcg > 0 ? dcg / idcg : 0.0;
    return hits;
}
