/* dist.h - the few collective operations the sharded pipeline needs (docs/mpi.md), over MPI in
 * the native-mpi build (PREFREC_MPI=ON) and a one-rank implementation otherwise, so the pipeline
 * calls the same functions in both builds. Native only: the portable core and the wasm builds
 * never see it.
 *
 *   prefrec_dist *d = NULL;
 *   if (prefrec_dist_init(&argc, &argv, &d)) ...;    // MPI_Init (MPI build), else one rank
 *   if (prefrec_dist_size(d) > 1) ...;
 *   int64_t rows = local_rows;
 *   prefrec_dist_allreduce_i64(d, &rows, 1, PREFREC_DIST_SUM);   // every rank calls
 *   prefrec_dist_finish(d);                            // MPI_Finalize
 *
 * Every function taking a dist is collective: all ranks call it, in the same order, with the
 * same counts (except the byte exchanges, whose sizes differ per rank). A NULL dist is one rank
 * on its own: the collectives do nothing (reductions and exchanges are the identity), which is
 * what library code and tests use. Communication failures end the job (MPI's default error
 * handler): there is nothing a rank can do about a lost peer.
 *
 * Failures: a rank that fails between collectives (an allocation, a test hook) need not make
 * the collectives the others make. Every collective starts with the same exchange of a failure
 * flag, so the failing rank's next collective, whichever it is (an agree on its error path,
 * prefrec_dist_fail then any collective, or prefrec_dist_finish), meets the others' and every
 * rank learns at that call that rank r failed, with r's status and message. From then on the
 * job is stopped: every collective returns -1 at once without communicating and every agree
 * returns that error ("rank r: msg"), the same on every rank, so each unwinds through its own
 * error paths (removing its temp files) and the job ends with r's message. An error given to
 * prefrec_dist_agree while every rank is in an agree is the agreed error of before (the job
 * goes on). A rank that fails must not make a collective that the others do not make at that
 * point with its failure unsaid: it calls prefrec_dist_fail, or agrees (or returns) first.
 *
 * Sizes are size_t: MPI counts are int, so a collective that would carry more than 2^31-1
 * bytes per rank goes as several MPI calls of at most that many (rounds), with the same result;
 * PREFREC_MPI_CALL_MAX=BYTES (16 .. 2^31-1, read by prefrec_dist_init) lowers that per-call
 * limit, which the tests do to run the rounds on small data.
 * Not thread safe: one thread per rank calls these. */
#ifndef PREFREC_HOST_DIST_H
#define PREFREC_HOST_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_dist prefrec_dist;

enum { PREFREC_DIST_SUM = 0, PREFREC_DIST_MIN = 1, PREFREC_DIST_MAX = 2, PREFREC_DIST_BOR = 3 };

/* This rank failed (err: its status and message; NULL: "failed"): the next collective of this
 * rank, whichever it is, stops the job on every rank with that error (above). Not collective;
 * nothing for one rank or a stopped job. */
void prefrec_dist_fail(prefrec_dist *d, const prefrec_error *err);

/* The test hook PREFREC_MPI_FAIL=RANK:SITE[:K] (read by prefrec_dist_init; tests/mpi/fail.sh):
 * 1 on rank RANK the K-th time (0 the first, the default) it reaches site, where the caller
 * then fails as an allocation failing there would; else 0 (always 0 for one rank). */
int prefrec_dist_hook(prefrec_dist *d, const char *site);

/* 1 when this program was built with MPI (PREFREC_MPI=ON), else 0. */
int prefrec_dist_built_with_mpi(void);

/* Start: MPI_Init in the MPI build (*out a handle for MPI_COMM_WORLD; caller finishes it with
 * prefrec_dist_finish), *out = NULL otherwise. Returns 0, or -1 when MPI could not start or
 * PREFREC_MPI_CALL_MAX is not a byte count or PREFREC_MPI_FAIL not RANK:SITE[:K] (said on
 * stderr by rank 0). */
int prefrec_dist_init(int *argc, char ***argv, prefrec_dist **out);
/* MPI_Finalize (collective: a failure not yet shared stops the others here); accepts NULL */
void prefrec_dist_finish(prefrec_dist *d);

int prefrec_dist_rank(const prefrec_dist *d); /* 0 .. size-1 (NULL: 0) */
int prefrec_dist_size(const prefrec_dist *d); /* ranks (NULL: 1) */

/* Bytes this rank has handed to MPI to send to other ranks so far (sends to itself excluded). */
uint64_t prefrec_dist_bytes_sent(const prefrec_dist *d);

/* In-place reductions of v[0..n) over all ranks; op PREFREC_DIST_SUM / MIN / MAX, and BOR (the
 * bitwise OR, integers only). Integer sums, ORs
 * and min/max of doubles do not depend on the order of combination, so every rank gets the same
 * bits for any number of ranks (NaN must not be given to the double min/max). 0 or -1. */
int prefrec_dist_allreduce_i64(prefrec_dist *d, int64_t *v, size_t n, int op);
int prefrec_dist_allreduce_f64(prefrec_dist *d, double *v, size_t n, int op);

/* Exclusive prefix sum: *before = sum of v over the ranks below this one (0 on rank 0). */
int prefrec_dist_exscan_u64(prefrec_dist *d, uint64_t v, uint64_t *before);

/* buf[0..len) of rank root to every rank (len the same everywhere). 0 or -1. */
int prefrec_dist_bcast(prefrec_dist *d, void *buf, size_t len, int root);
/* A buffer of root's choosing to every rank: on root *buf and *len are given; elsewhere *buf is
 * allocated (caller frees with free()) and *len set. 0 or -1 (out of memory: the job ends). */
int prefrec_dist_bcast_bytes(prefrec_dist *d, char **buf, size_t *len, int root);

/* Each rank sends send[dest] (counts[dest] bytes, laid out one destination after another in
 * rank order) to every rank; *recv (caller frees) gets what every source sent it, source 0
 * first, and recv_counts[src] (size entries, caller's array) how much came from each. 0 or -1.
 * Past the per-call limit it goes in rounds through staging buffers of at most 256 MiB each
 * way (the extra memory of the rounds). */
int prefrec_dist_alltoallv(prefrec_dist *d, const char *send, const size_t *counts, char **recv,
                           size_t *recv_counts);

/* Every rank's buf[0..len) to root, in rank order: on root *recv (caller frees) and
 * recv_counts[src] (size entries); elsewhere *recv = NULL. 0 or -1. */
int prefrec_dist_gatherv(prefrec_dist *d, const void *buf, size_t len, int root, char **recv,
                         size_t *recv_counts);

/* Every rank's buf[0..len) to every rank, in rank order: *recv (caller frees) and
 * recv_counts[src] (size entries, caller's array). 0 or -1. Past the per-call limit it goes in
 * rounds through a receive staging buffer of at most 256 MiB. */
int prefrec_dist_allgatherv(prefrec_dist *d, const void *buf, size_t len, char **recv,
                            size_t *recv_counts);
/* The same without a failure flag of its own, for an all-gather that continues a collective
 * just made (no failure can come between, and a stopped job leaves both out on every rank):
 * the NeuMF step's all-gather of the sums after its all-to-all, one flag exchange a step. */
int prefrec_dist_allgatherv_noflag(prefrec_dist *d, const void *buf, size_t len, char **recv,
                                   size_t *recv_counts);

/* Agree on one error: each rank passes its status (0 = fine) and a key saying where its error
 * is (e.g. the global line number; smaller wins, then the lower rank). Returns the winning
 * status on every rank (0 when every rank is fine) and copies the winner's message into *err
 * on every rank, so the job reports exactly one error whatever N is. In a stopped job (above),
 * the failing rank's error on every rank, at once. */
prefrec_status prefrec_dist_agree(prefrec_dist *d, prefrec_status st, uint64_t key,
                                  prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
