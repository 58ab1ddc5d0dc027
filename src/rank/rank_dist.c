/* rank_dist.c - sums and the global customer order for the sharded fits (rank_dist.h). */
#include "rank_dist.h"

#include <stdlib.h>
#include <string.h>

#include "host/dist.h"

static int all_gather(prefrec_dist *d, const void *buf, size_t len, char **all, size_t *n_all);

int rank_dist_sum(const prefrec_interactions *x, int64_t *v, size_t n) {
    /* PREFREC_MPI_FAIL=R:fit:K (tests/mpi/fail.sh): rank R leaves out its K-th sum, as a fit
     * whose allocation failed before it does; its error reaches the others (host/dist.h) */
    if (prefrec_dist_hook(x->dist, "fit")) return -1;
    return prefrec_dist_allreduce_i64(x->dist, v, n, PREFREC_DIST_SUM);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t p = *(const uint64_t *)a, q = *(const uint64_t *)b;
    return (p > q) - (p < q);
}

int rank_dist_all_gather(const prefrec_interactions *x, const void *buf, size_t len, char **all,
                         size_t *n_all) {
    return all_gather(x->dist, buf, len, all, n_all);
}

/* Every rank's buf[0..len) to every rank, rank after rank: *all (caller frees), *n_all bytes. */
static int all_gather(prefrec_dist *d, const void *buf, size_t len, char **all, size_t *n_all) {
    int n = prefrec_dist_size(d);
    size_t *cnt = calloc((size_t)n, sizeof *cnt);
    *all = NULL;
    *n_all = 0;
    if (!cnt) return -1;
    int rc = prefrec_dist_gatherv(d, buf, len, 0, all, cnt);
    if (!rc && prefrec_dist_rank(d) == 0)
        for (int r = 0; r < n; r++) *n_all += cnt[r];
    free(cnt);
    if (!rc && n > 1) rc = prefrec_dist_bcast_bytes(d, all, n_all, 0);
    return rc;
}

int rank_dist_places(const prefrec_interactions *x, const int32_t *cust, size_t n, int64_t *pos,
                     int64_t *total, int32_t **owner) {
    uint64_t *key = malloc((n ? n : 1) * sizeof *key), *all = NULL;
    if (owner) *owner = NULL;
    if (!key) return -1;
    for (size_t i = 0; i < n; i++)
        key[i] = x->customer_key ? x->customer_key[cust[i]] : (uint64_t)cust[i];
    size_t bytes = 0;
    int rc = all_gather(x->dist, key, n * sizeof *key, (char **)&all, &bytes);
    size_t na = bytes / sizeof *all;
    if (!rc) {
        qsort(all, na, sizeof *all, cmp_u64);
        *total = (int64_t)na;
        if (owner && !(*owner = malloc((na ? na : 1) * sizeof **owner))) rc = -1;
        for (size_t k = 0; !rc && owner && k < na; k++) (*owner)[k] = -1;
    }
    for (size_t i = 0; !rc && i < n; i++) { /* binary search: the keys are distinct */
        size_t lo = 0, hi = na;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (all[mid] < key[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        pos[i] = (int64_t)lo;
        if (owner) (*owner)[lo] = (int32_t)i;
    }
    free(key);
    free(all);
    if (rc && owner) {
        free(*owner);
        *owner = NULL;
    }
    return rc;
}

int rank_dist_ordered_sum(const prefrec_interactions *x, const int64_t *pos, const double *rows,
                          size_t n, int w, double *out) {
    size_t rec = sizeof(int64_t) + (size_t)w * sizeof(double);
    char *buf = malloc(n * rec + 1), *all = NULL;
    if (!buf) return -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + i * rec, pos + i, sizeof(int64_t));
        memcpy(buf + i * rec + sizeof(int64_t), rows + i * (size_t)w, (size_t)w * sizeof(double));
    }
    prefrec_dist *d = x->dist;
    int n_ranks = prefrec_dist_size(d), root = prefrec_dist_rank(d) == 0;
    size_t *cnt = calloc((size_t)n_ranks, sizeof *cnt);
    int rc = cnt ? prefrec_dist_gatherv(d, buf, n * rec, 0, &all, cnt) : -1;
    free(buf);
    for (int k = 0; k < w; k++) out[k] = 0;
    if (!rc && root) {
        size_t tot = 0;
        for (int r = 0; r < n_ranks; r++) tot += cnt[r];
        size_t m = tot / rec;
        int64_t *order = malloc((m ? m : 1) * 2 * sizeof *order);
        if (!order) rc = -1;
        for (size_t i = 0; !rc && i < m; i++) {
            memcpy(order + 2 * i, all + i * rec, sizeof(int64_t));
            order[2 * i + 1] = (int64_t)i;
        }
        if (!rc) qsort(order, m, 2 * sizeof *order, cmp_u64); /* places are >= 0 */
        for (size_t i = 0; !rc && i < m; i++) {
            const char *r = all + (size_t)order[2 * i + 1] * rec + sizeof(int64_t);
            for (int k = 0; k < w; k++) {
                double v;
                memcpy(&v, r + (size_t)k * sizeof v, sizeof v);
                out[k] += v;
            }
        }
        free(order);
    }
    free(all);
    free(cnt);
    if (n_ranks > 1 && prefrec_dist_bcast(d, out, (size_t)w * sizeof *out, 0)) rc = -1;
    return rc;
}
