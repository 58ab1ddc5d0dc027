/* rank_dist.h - what the rankers need to fit on a sharded window (x->dist, docs/mpi.md): integer
 * sums over the ranks, the global customer order and sums in that order. With x->dist NULL (one
 * process) the sums are the identity and the order is the customer index, so one code path
 * serves both and gives the same bits for any number of ranks. Every function is collective:
 * every rank calls it, in the same order. Internal to src/rank. */
#ifndef PREFREC_RANK_DIST_H
#define PREFREC_RANK_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/rankers.h"

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

#endif
