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

/* The records bound for each rank, one growable buffer per rank. */
typedef struct rows_buf {
    char *v;
    size_t n, cap;
} rows_buf;
struct rank_rows_sink {
    rows_buf *out; /* one per rank */
    int n_ranks;
    size_t rec; /* 8 + vsize: row, product, value */
};

int rank_rows_put(rank_rows_sink *s, int32_t ii, int32_t j, const void *value) {
    rows_buf *b = &s->out[ii % s->n_ranks];
    if (b->n + s->rec > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024 * s->rec;
        char *v = realloc(b->v, cap);
        if (!v) return -1;
        b->v = v, b->cap = cap;
    }
    memcpy(b->v + b->n, &ii, 4), memcpy(b->v + b->n + 4, &j, 4);
    memcpy(b->v + b->n + 8, value, s->rec - 8);
    b->n += s->rec;
    return 0;
}

int rank_dist_rows(const prefrec_interactions *x, const int32_t *prod, int32_t nb, int32_t k,
                   const rank_rows_ops *ops, int32_t *n_nbr, int32_t *nbr, float *val) {
    prefrec_dist *d = x->dist;
    int N = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    size_t rec = 8 + (ops ? ops->vsize : 0);
    rank_rows_sink sink = {calloc((size_t)N, sizeof(rows_buf)), N, rec};
    size_t *cnt = calloc(2 * (size_t)N, sizeof *cnt);
    prefrec_scored *buf = malloc(((size_t)k + 1) * sizeof *buf);
    char *send = NULL, *recv = NULL, *lists = NULL, *all = NULL;
    int32_t *start = NULL;
    const char **order = NULL;
    int rc = ops && sink.out && cnt && buf ? 0 : -1;
    /* this rank's records, row by row, to the rows' ranks */
    for (int32_t ii = 0; !rc && ii < nb; ii++) rc = ops->emit(ops->ctx, ii, &sink);
    size_t total = 0;
    for (int r = 0; !rc && r < N; r++) total += sink.out[r].n;
    if (!rc && !(send = malloc(total + 1))) rc = -1;
    for (size_t r = 0, at = 0; !rc && r < (size_t)N; at += cnt[r++]) { /* one after another */
        cnt[r] = sink.out[r].n;
        if (cnt[r]) memcpy(send + at, sink.out[r].v, cnt[r]);
    }
    for (int r = 0; sink.out && r < N; r++) free(sink.out[r].v);
    free(sink.out);
    if (rc) { /* send nothing: the exchange below stops the job on every rank (host/dist.h) */
        prefrec_dist_fail(d, NULL);
        for (int r = 0; cnt && r < N; r++) cnt[r] = 0;
    }
    size_t dummy[1] = {0}; /* one rank without cnt: nothing sent, nothing read uninitialised */
    if (prefrec_dist_alltoallv(d, send ? send : "", cnt ? cnt : dummy, &recv,
                               cnt ? cnt + N : dummy) &&
        !rc)
        rc = -1;
    free(send);
    /* the rows of this rank: ii = me + N q, q < mine; the records grouped by row */
    int32_t mine = nb > me ? (nb - me + N - 1) / N : 0;
    size_t n_rec = 0;
    for (int r = 0; !rc && r < N; r++) n_rec += cnt[N + r] / rec;
    start = calloc((size_t)mine + 2, sizeof *start);
    order = malloc((n_rec + 1) * sizeof *order);
    if (!rc && (!start || !order)) rc = -1;
    for (size_t q = 0; !rc && q < n_rec; q++) {
        int32_t ii;
        memcpy(&ii, recv + rec * q, 4);
        if (ii < 0 || ii % N != me || ii / N >= mine) rc = -1; /* cannot: another rank's row */
        if (!rc) start[ii / N + 1]++;
    }
    for (int32_t q = 0; !rc && q < mine; q++) start[q + 1] += start[q];
    for (size_t q = 0; !rc && q < n_rec; q++) {
        int32_t ii;
        memcpy(&ii, recv + rec * q, 4);
        order[start[ii / N]++] = recv + rec * q + 4;
    }
    for (int32_t q = mine; !rc && q > 0; q--) start[q] = start[q - 1];
    if (!rc) start[0] = 0;
    /* each row: its best k, as records (row, n, n x (product, value)) */
    size_t llen = 0;
    if (!rc && !(lists = malloc((size_t)mine * (2 + 2 * (size_t)k) * sizeof(int32_t) + 1))) rc = -1;
    for (int32_t q = 0; !rc && q < mine; q++) {
        int32_t ii = me + N * q;
        int32_t got =
            ops->top(ops->ctx, ii, order + start[q], (size_t)(start[q + 1] - start[q]), buf);
        if (got < 0 || got > k) {
            rc = -1;
            break;
        }
        memcpy(lists + llen, &ii, 4), memcpy(lists + llen + 4, &got, 4);
        llen += 8;
        for (int32_t r = 0; r < got; r++, llen += 8)
            memcpy(lists + llen, &buf[r].index, 4), memcpy(lists + llen + 4, &buf[r].score, 4);
    }
    free(recv);
    if (rc) prefrec_dist_fail(d, NULL);
    /* every rank's rows to every rank */
    size_t n_all = 0;
    if (all_gather(d, lists ? lists : "", rc ? 0 : llen, &all, &n_all)) rc = -1;
    for (size_t at = 0; !rc && at + 8 <= n_all;) {
        int32_t ii, got;
        memcpy(&ii, all + at, 4), memcpy(&got, all + at + 4, 4);
        at += 8;
        if (ii < 0 || ii >= nb || got < 0 || got > k || 8 * (size_t)got > n_all - at) {
            rc = -1;
            break;
        }
        int32_t i = prod[ii];
        n_nbr[i] = got;
        for (int32_t r = 0; r < got; r++, at += 8) {
            memcpy(nbr + (size_t)i * k + r, all + at, 4);
            memcpy(val + (size_t)i * k + r, all + at + 4, 4);
        }
    }
    int64_t bad = rc != 0; /* one rank's failure is every rank's (the "fit" hook's sum) */
    if (rank_dist_sum(x, &bad, 1) || bad) rc = -1;
    free(cnt), free(buf), free(lists), free(all), free(start), free(order);
    return rc;
}

int rank_dist_ring(const prefrec_interactions *x, const char *blk, size_t len,
                   rank_ring_visit visit, void *ctx, uint64_t *sent) {
    return rank_dist_ring_on(x->dist, blk, len, visit, ctx, sent);
}

int rank_dist_ring_on(prefrec_dist *d, const char *blk, size_t len, rank_ring_visit visit,
                      void *ctx, uint64_t *sent) {
    int N = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    uint64_t sent0 = prefrec_dist_bytes_sent(d);
    size_t *cnt = calloc(2 * (size_t)N, sizeof *cnt);
    /* PREFREC_MPI_FAIL=R:ring:K (tests/mpi/fail.sh): rank R fails at its K-th visit, as a visit
     * whose allocation failed does */
    int rc = cnt && !prefrec_dist_hook(d, "ring") ? visit(ctx, me, blk, len) : -1;
    const char *cur = blk; /* the block this rank passes on next: its own, then the last received */
    size_t cur_len = len;
    char *held = NULL;
    for (int step = 1; step < N && !rc; step++) {
        for (int r = 0; r < N; r++) cnt[r] = 0;
        cnt[(me + 1) % N] = cur_len;
        char *recv = NULL;
        rc = prefrec_dist_alltoallv(d, cur, cnt, &recv, cnt + N);
        free(held);
        held = recv;
        if (rc) break;
        int src = ((me - step) % N + N) % N;
        cur = held ? held : "";
        cur_len = cnt[N + (me - 1 + N) % N];
        rc = prefrec_dist_hook(d, "ring") ? -1 : visit(ctx, src, cur, cur_len);
    }
    free(held);
    free(cnt);
    if (sent) *sent = prefrec_dist_bytes_sent(d) - sent0;
    return rc;
}
