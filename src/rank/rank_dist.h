/* rank_dist.h - what the rankers need to fit on a sharded window (x->dist, docs/mpi.md): integer
 * sums over the ranks, the global customer order and sums in that order. With x->dist NULL (one
 * process) the sums are the identity and the order is the customer index, so one code path
 * serves both and gives the same bits for any number of ranks. Every function is collective:
 * every rank calls it, in the same order. Internal to src/rank. */
#ifndef PREFREC_RANK_DIST_H
#define PREFREC_RANK_DIST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"

/* v[0..n) summed over the ranks, in place. 0 or -1. */
int rank_dist_sum(const prefrec_interactions *x, int64_t *v, size_t n);

/* Every rank's buf[0..len) to every rank, rank 0's first: *all (caller frees), *n_all bytes.
 * 0 or -1. */
int rank_dist_all_gather(const prefrec_interactions *x, const void *buf, size_t len, char **all,
                         size_t *n_all);

/* The customers cust[0..n) of this rank (x's indices) among those of every rank, in the
 * one-process customer order (x->customer_key, else the index): pos[i] (caller's array) gets
 * cust[i]'s place, *total the count over the ranks; *owner (caller frees; may be NULL to skip)
 * gets, for each place, the index into cust of this rank's customer there, or -1. 0 or -1. */
int rank_dist_places(const prefrec_interactions *x, const int32_t *cust, size_t n, int64_t *pos,
                     int64_t *total, int32_t **owner);

/* out[0..w) = the sums of the rows rows[i * w .. (i + 1) * w) of every rank, added one row after
 * another in ascending place pos[i] (places distinct over the ranks): out[k] = ((0 + row0[k]) +
 * row1[k]) + ..., the bits a one-process loop over the customers in that order gives. 0 or -1. */
int rank_dist_ordered_sum(const prefrec_interactions *x, const int64_t *pos, const double *rows,
                          size_t n, int w, double *out);

/* The sparse row exchange of the item-to-item fits (ItemKNN's co-purchase counts, RP3beta's
 * weighted sums): row ii of nb rows (products prod[ii]) belongs to rank ii % N. For every row,
 * ops->emit puts this rank's partial sums over its own customers into the sink as records
 * (product j, vsize bytes of value: rank_rows_put); they go to the rows' ranks in one
 * all-to-all; there ops->top adds each of its rows' records (received in any order: the sums
 * must be exact) and keeps the row's best in buf (at most k, the heap's order); the rows' lists
 * then go to every rank, which writes row ii's into n_nbr[i], nbr[i * k ..], val[i * k ..] for
 * i = prod[ii]. So every rank gets the one-process lists for any N. A rank sends 8 + vsize bytes
 * per (row, product) record and 8 + 8 x (its rows' list entries). Collective: 0, or -1 on every
 * rank (a rank's failure, its own or in a callback, is every rank's). */
typedef struct rank_rows_sink rank_rows_sink;
typedef struct rank_rows_ops {
    size_t vsize; /* bytes of a record's value */
    /* this rank's records of row ii (product prod[ii]): 0 or -1 */
    int (*emit)(void *ctx, int32_t ii, rank_rows_sink *sink);
    /* the n records of row ii, rec[t] each pointing at (int32 product, value): the row's best
     * into buf[0..k) in the heap's order; their count, or -1 */
    int32_t (*top)(void *ctx, int32_t ii, const char *const *rec, size_t n, prefrec_scored *buf);
    void *ctx;
} rank_rows_ops;
/* Appends row ii's record (product j, value: vsize bytes) to the sink. 0 or -1. */
int rank_rows_put(rank_rows_sink *s, int32_t ii, int32_t j, const void *value);
/* ops NULL: this rank failed before the exchange (it still takes part: the job stops). */
int rank_dist_rows(const prefrec_interactions *x, const int32_t *prod, int32_t nb, int32_t k,
                   const rank_rows_ops *ops, int32_t *n_nbr, int32_t *nbr, float *val);

/* The ring exchange of the user-neighbour fits (TIFU-KNN's nearest customers, UP-CF's similar
 * customers: docs/mpi.md): every rank's block of customer records (blk[0..len), the fit's own
 * format) passes every rank. visit(ctx, src, blk, len) is called first with this rank's own
 * block (src = this rank), then N - 1 times with the block of rank me - 1, me - 2, ... (mod N),
 * each received from the next rank down the ring in one all-to-all (a block goes one step a
 * call), so a rank holds its own block and one other at a time. The order of the visits
 * depends on N: what a fit takes from them must not (exact sums, a top-k ordered by the global
 * key). One process (dist NULL): the own block only. *sent (may be NULL) gets the bytes this
 * rank sent. Collective: 0, or -1: a visit failed here (this rank left the ring without another
 * collective: its caller's next one must be an agree with its error, host/dist.h, which stops
 * the others' exchange) or on another rank (the job is stopped). */
typedef int (*rank_ring_visit)(void *ctx, int src, const char *blk, size_t len);
/* A ring block's field of per-user runs: for each of user[0..n), its 4-byte values
 * data[start[u] .. start[u + 1]) (CSR rows: products, weights), copied to at one after another;
 * returns the end. */
static inline char *rank_ring_put_rows(char *at, const int32_t *user, int32_t n,
                                       const int64_t *start, const void *data) {
    for (int32_t i = 0; i < n; i++) {
        int64_t q0 = start[user[i]], len = start[user[i] + 1] - q0;
        memcpy(at, (const char *)data + q0 * 4, (size_t)len * 4), at += len * 4;
    }
    return at;
}
int rank_dist_ring(const prefrec_interactions *x, const char *blk, size_t len,
                   rank_ring_visit visit, void *ctx, uint64_t *sent);
/* The same ring on dist d, for callers without a window (train's pack: the customers' places,
 * src/train/pack_dist.c). */
int rank_dist_ring_on(struct prefrec_dist *d, const char *blk, size_t len, rank_ring_visit visit,
                      void *ctx, uint64_t *sent);

#endif
