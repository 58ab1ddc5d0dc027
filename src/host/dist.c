/* dist.c - the collectives of the sharded pipeline (see dist.h): MPI when PREFREC_HAVE_MPI, else
 * one rank (a NULL handle; the MPI code below never runs with one either). */
#include "dist.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PREFREC_HAVE_MPI
#include <mpi.h>
#endif

struct prefrec_dist {
    int rank, size;
    uint64_t sent;
    size_t call_max; /* bytes one MPI call may carry per rank (INT_MAX; PREFREC_MPI_CALL_MAX) */
};

/* An exchange above call_max goes in rounds through staging buffers of at most this many bytes
 * per rank (each way): the rounds' extra memory, 2 x 256 MiB at most. */
#define ROUND_MAX ((size_t)256 << 20)

int prefrec_dist_rank(const prefrec_dist *d) { return d ? d->rank : 0; }
int prefrec_dist_size(const prefrec_dist *d) { return d ? d->size : 1; }
uint64_t prefrec_dist_bytes_sent(const prefrec_dist *d) { return d ? d->sent : 0; }

#ifndef PREFREC_HAVE_MPI

int prefrec_dist_built_with_mpi(void) { return 0; }
int prefrec_dist_init(int *argc, char ***argv, prefrec_dist **out) {
    (void)argc;
    (void)argv;
    *out = NULL;
    return 0;
}
void prefrec_dist_finish(prefrec_dist *d) { (void)d; }
int prefrec_dist_allreduce_i64(prefrec_dist *d, int64_t *v, size_t n, int op) { return 0; }
int prefrec_dist_allreduce_f64(prefrec_dist *d, double *v, size_t n, int op) { return 0; }
int prefrec_dist_exscan_u64(prefrec_dist *d, uint64_t v, uint64_t *before) {
    *before = 0;
    return 0;
}
int prefrec_dist_bcast(prefrec_dist *d, void *buf, size_t len, int root) { return 0; }
int prefrec_dist_bcast_bytes(prefrec_dist *d, char **buf, size_t *len, int root) { return 0; }

#else /* PREFREC_HAVE_MPI */

int prefrec_dist_built_with_mpi(void) { return 1; }

int prefrec_dist_init(int *argc, char ***argv, prefrec_dist **out) {
    *out = NULL;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return -1;
    prefrec_dist *d = calloc(1, sizeof *d);
    if (!d) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    d->call_max = INT_MAX;
    /* the tests lower the per-call limit so that the rounds run on small data (tests/mpi) */
    const char *e = getenv("PREFREC_MPI_CALL_MAX");
    if (e && *e) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(e, &end, 10);
        if (*e < '0' || *e > '9' || *end || errno || v < 16 || v > INT_MAX) {
            if (d->rank == 0)
                fprintf(stderr,
                        "prefrec: error: PREFREC_MPI_CALL_MAX='%s' is not a byte count "
                        "in 16 .. %d\n",
                        e, INT_MAX);
            free(d);
            MPI_Finalize();
            return -1;
        }
        d->call_max = (size_t)v;
    }
    *out = d;
    return 0;
}

void prefrec_dist_finish(prefrec_dist *d) {
    if (!d) return;
    free(d);
    MPI_Finalize();
}

static MPI_Op op_of(int op) {
    return op == PREFREC_DIST_MIN ? MPI_MIN : op == PREFREC_DIST_MAX ? MPI_MAX : MPI_SUM;
}

/* Reductions in pieces of at most call_max bytes (MPI counts are int). */
int prefrec_dist_allreduce_i64(prefrec_dist *d, int64_t *v, size_t n, int op) {
    if (!d || d->size == 1) return 0;
    for (size_t at = 0; at < n;) {
        size_t most = d->call_max / 8;
        int k = (int)(n - at > most ? most : n - at);
        if (MPI_Allreduce(MPI_IN_PLACE, v + at, k, MPI_INT64_T, op_of(op), MPI_COMM_WORLD))
            return -1;
        d->sent += (uint64_t)k * 8;
        at += (size_t)k;
    }
    return 0;
}

int prefrec_dist_allreduce_f64(prefrec_dist *d, double *v, size_t n, int op) {
    if (!d || d->size == 1) return 0;
    for (size_t at = 0; at < n;) {
        size_t most = d->call_max / 8;
        int k = (int)(n - at > most ? most : n - at);
        if (MPI_Allreduce(MPI_IN_PLACE, v + at, k, MPI_DOUBLE, op_of(op), MPI_COMM_WORLD))
            return -1;
        d->sent += (uint64_t)k * 8;
        at += (size_t)k;
    }
    return 0;
}

int prefrec_dist_exscan_u64(prefrec_dist *d, uint64_t v, uint64_t *before) {
    *before = 0;
    if (!d || d->size == 1) return 0;
    uint64_t r = 0;
    if (MPI_Exscan(&v, &r, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD)) return -1;
    d->sent += 8;
    *before = d->rank ? r : 0; /* MPI leaves rank 0's result undefined */
    return 0;
}

int prefrec_dist_bcast(prefrec_dist *d, void *buf, size_t len, int root) {
    if (!d || d->size == 1) return 0;
    for (size_t at = 0; at < len;) {
        int k = (int)(len - at > d->call_max ? d->call_max : len - at);
        if (MPI_Bcast((char *)buf + at, k, MPI_BYTE, root, MPI_COMM_WORLD)) return -1;
        if (d->rank == root) d->sent += (uint64_t)k * (uint64_t)(d->size - 1);
        at += (size_t)k;
    }
    return 0;
}

int prefrec_dist_bcast_bytes(prefrec_dist *d, char **buf, size_t *len, int root) {
    if (!d || d->size == 1) return 0;
    uint64_t n = d->rank == root ? (uint64_t)*len : 0;
    if (prefrec_dist_bcast(d, &n, sizeof n, root)) return -1;
    if (d->rank != root) {
        *buf = malloc(n + 1);
        if (!*buf) MPI_Abort(MPI_COMM_WORLD, 1);
        (*buf)[n] = '\0';
        *len = (size_t)n;
    }
    return prefrec_dist_bcast(d, *buf, (size_t)n, root);
}

#endif /* PREFREC_HAVE_MPI */

/* ---- byte exchanges (one rank: a copy) ----------------------------------------------------- */

#ifdef PREFREC_HAVE_MPI
/* The piece of a count of bytes that round k of an exchange in rounds of cap bytes per pair
 * carries: sender and receiver both know the count, so they agree without a message. */
static int piece(uint64_t count, uint64_t k, uint64_t cap) {
    uint64_t at = k * cap;
    return at >= count ? 0 : (int)(count - at < cap ? count - at : cap);
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The bytes per (rank, peer) pair of a round, cap = min(call_max, ROUND_MAX) / size (at least
 * 1), and the rounds that move a largest pair of `largest` bytes. */
static uint64_t round_cap(const prefrec_dist *d, uint64_t largest, uint64_t *rounds) {
    uint64_t cap = min_u64(d->call_max, ROUND_MAX) / (uint64_t)d->size;
    if (cap == 0) cap = 1;
    *rounds = (largest + cap - 1) / cap;
    return cap;
}

/* One MPI_Alltoallv when no rank sends or receives more than call_max bytes in all (the
 * buffers are used in place); else rounds: in round k every (source, destination) pair moves
 * its bytes [k cap, (k + 1) cap), cap = min(call_max, ROUND_MAX) / size, through a send and a
 * receive staging buffer, so no call carries more than call_max bytes per rank and every
 * displacement fits in an int. The rounds' number is the largest pair's, agreed by a MAX. */
static int alltoallv_mpi(prefrec_dist *d, const char *send, const size_t *counts, char **recv,
                         size_t *recv_counts) {
    int n = d->size, fail = 0;
    int *sc = malloc(4 * (size_t)n * sizeof *sc);
    uint64_t *c64 = malloc(4 * (size_t)n * sizeof *c64);
    if (!sc || !c64) MPI_Abort(MPI_COMM_WORLD, 1);
    int *sd = sc + n, *rc = sc + 2 * n, *rd = sc + 3 * n;
    uint64_t *soff = c64 + 2 * n, *roff = c64 + 3 * n; /* where each pair's bytes start */
    uint64_t stot = 0, rtot = 0;
    for (int i = 0; i < n; i++) {
        c64[i] = counts[i];
        soff[i] = stot;
        stot += counts[i];
        if (i != d->rank) d->sent += counts[i];
    }
    if (MPI_Alltoall(c64, 1, MPI_UINT64_T, c64 + n, 1, MPI_UINT64_T, MPI_COMM_WORLD)) {
        free(sc);
        free(c64);
        return -1;
    }
    int64_t most[2] = {0, 0}; /* the most one rank sends or receives; the largest pair */
    for (int i = 0; i < n; i++) {
        roff[i] = rtot;
        rtot += c64[n + i];
        recv_counts[i] = (size_t)c64[n + i];
        if ((int64_t)c64[i] > most[1]) most[1] = (int64_t)c64[i];
        if ((int64_t)c64[n + i] > most[1]) most[1] = (int64_t)c64[n + i];
    }
    most[0] = (int64_t)(stot > rtot ? stot : rtot);
    if (prefrec_dist_allreduce_i64(d, most, 2, PREFREC_DIST_MAX)) fail = 1;
    char *r = fail ? NULL : malloc(rtot ? rtot : 1);
    if (!fail && !r) MPI_Abort(MPI_COMM_WORLD, 1);
    if (!fail && (uint64_t)most[0] <= d->call_max) {
        for (int i = 0; i < n; i++) {
            sc[i] = (int)c64[i], sd[i] = (int)soff[i];
            rc[i] = (int)c64[n + i], rd[i] = (int)roff[i];
        }
        fail = MPI_Alltoallv(send, sc, sd, MPI_BYTE, r, rc, rd, MPI_BYTE, MPI_COMM_WORLD) != 0;
    } else if (!fail) {
        uint64_t rounds, cap = round_cap(d, (uint64_t)most[1], &rounds);
        char *sb = malloc(min_u64(stot, cap * n) + 1), *rb = malloc(min_u64(rtot, cap * n) + 1);
        if (!sb || !rb) MPI_Abort(MPI_COMM_WORLD, 1);
        for (uint64_t k = 0; k < rounds && !fail; k++) {
            int st = 0, rt = 0;
            for (int i = 0; i < n; i++) {
                sc[i] = piece(c64[i], k, cap), sd[i] = st;
                if (sc[i]) memcpy(sb + st, send + soff[i] + k * cap, (size_t)sc[i]);
                st += sc[i];
                rc[i] = piece(c64[n + i], k, cap), rd[i] = rt;
                rt += rc[i];
            }
            fail = MPI_Alltoallv(sb, sc, sd, MPI_BYTE, rb, rc, rd, MPI_BYTE, MPI_COMM_WORLD) != 0;
            for (int i = 0; i < n && !fail; i++)
                if (rc[i]) memcpy(r + roff[i] + k * cap, rb + rd[i], (size_t)rc[i]);
        }
        free(sb);
        free(rb);
    }
    free(sc);
    free(c64);
    if (fail) {
        free(r);
        return -1;
    }
    *recv = r;
    return 0;
}

/* One MPI_Gatherv when root receives at most call_max bytes in all; else rounds: in round k
 * every rank sends its bytes [k cap, (k + 1) cap), cap = min(call_max, ROUND_MAX) / size, into
 * a staging buffer on root, which copies them into place. */
static int gatherv_mpi(prefrec_dist *d, const void *buf, size_t len, int root, char **recv,
                       size_t *recv_counts) {
    int n = d->size, fail = 0;
    uint64_t mine = len, *all = malloc(2 * (size_t)n * sizeof *all), *off = all + n;
    int *rc = malloc(2 * (size_t)n * sizeof *rc), *rd = rc + n;
    if (!all || !rc) MPI_Abort(MPI_COMM_WORLD, 1);
    if (MPI_Gather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, root, MPI_COMM_WORLD)) {
        free(all);
        free(rc);
        return -1;
    }
    int64_t most[2] = {0, (int64_t)len}; /* root's total; the largest rank's part */
    uint64_t tot = 0;
    if (d->rank == root) {
        for (int i = 0; i < n; i++) {
            off[i] = tot;
            tot += all[i];
            recv_counts[i] = (size_t)all[i];
        }
        most[0] = (int64_t)tot;
    }
    if (prefrec_dist_allreduce_i64(d, most, 2, PREFREC_DIST_MAX)) {
        free(all);
        free(rc);
        return -1;
    }
    char *r = NULL;
    if (d->rank == root && !(r = malloc(tot ? tot : 1))) MPI_Abort(MPI_COMM_WORLD, 1);
    if (d->rank != root) d->sent += len;
    if ((uint64_t)most[0] <= d->call_max) {
        if (d->rank == root)
            for (int i = 0; i < n; i++) rc[i] = (int)all[i], rd[i] = (int)off[i];
        fail = MPI_Gatherv(buf, (int)len, MPI_BYTE, r, rc, rd, MPI_BYTE, root, MPI_COMM_WORLD) !=
            MPI_SUCCESS;
    } else {
        uint64_t rounds, cap = round_cap(d, (uint64_t)most[1], &rounds);
        char *rb = NULL;
        if (d->rank == root && !(rb = malloc(min_u64(tot, cap * n) + 1)))
            MPI_Abort(MPI_COMM_WORLD, 1);
        for (uint64_t k = 0; k < rounds && !fail; k++) {
            int rt = 0;
            if (d->rank == root)
                for (int i = 0; i < n; i++) {
                    rc[i] = piece(all[i], k, cap), rd[i] = rt;
                    rt += rc[i];
                }
            int p = piece(len, k, cap);
            fail = MPI_Gatherv(p ? (const char *)buf + k * cap : buf, p, MPI_BYTE, rb, rc, rd,
                               MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS;
            if (d->rank == root)
                for (int i = 0; i < n && !fail; i++)
                    if (rc[i]) memcpy(r + off[i] + k * cap, rb + rd[i], (size_t)rc[i]);
        }
        free(rb);
    }
    free(all);
    free(rc);
    if (fail) {
        free(r);
        return -1;
    }
    *recv = r;
    return 0;
}
#endif

int prefrec_dist_alltoallv(prefrec_dist *d, const char *send, const size_t *counts, char **recv,
                           size_t *recv_counts) {
    *recv = NULL;
#ifdef PREFREC_HAVE_MPI
    if (d && d->size > 1) return alltoallv_mpi(d, send, counts, recv, recv_counts);
#endif
    (void)d;
    recv_counts[0] = counts[0];
    *recv = malloc(counts[0] ? counts[0] : 1);
    if (!*recv) return -1;
    if (counts[0]) memcpy(*recv, send, counts[0]);
    return 0;
}

int prefrec_dist_gatherv(prefrec_dist *d, const void *buf, size_t len, int root, char **recv,
                         size_t *recv_counts) {
    *recv = NULL;
#ifdef PREFREC_HAVE_MPI
    if (d && d->size > 1) return gatherv_mpi(d, buf, len, root, recv, recv_counts);
#endif
    (void)d;
    (void)root;
    recv_counts[0] = len;
    *recv = malloc(len ? len : 1);
    if (!*recv) return -1;
    if (len) memcpy(*recv, buf, len);
    return 0;
}

prefrec_status prefrec_dist_agree(prefrec_dist *d, prefrec_status st, uint64_t key,
                                  prefrec_error *err) {
    if (prefrec_dist_size(d) == 1) return st;
    /* the winner: smallest (failed ? 0 : 1, key, rank), found with one MIN over three numbers */
    int64_t v[3] = {st ? 0 : 1, st ? (int64_t)(key > INT64_MAX ? INT64_MAX : key) : INT64_MAX,
                    prefrec_dist_rank(d)};
    int64_t w[3] = {v[0], v[1], v[2]};
    /* lexicographic min via two reductions: first the flag and key, then the rank among ties */
    if (prefrec_dist_allreduce_i64(d, w, 2, PREFREC_DIST_MIN)) return PREFREC_E_IO;
    if (w[0] == 1) return PREFREC_OK; /* nobody failed */
    int64_t who = (v[0] == 0 && v[1] == w[1]) ? v[2] : INT64_MAX;
    if (prefrec_dist_allreduce_i64(d, &who, 1, PREFREC_DIST_MIN)) return PREFREC_E_IO;
    struct {
        int32_t status;
        char msg[PREFREC_ERROR_MSG_MAX];
    } m;
    memset(&m, 0, sizeof m);
    if (prefrec_dist_rank(d) == who) {
        m.status = (int32_t)st;
        if (err) memcpy(m.msg, err->msg, sizeof m.msg);
    }
    if (prefrec_dist_bcast(d, &m, sizeof m, (int)who)) return PREFREC_E_IO;
    if (err) {
        err->status = (prefrec_status)m.status;
        memcpy(err->msg, m.msg, sizeof m.msg);
        err->msg[sizeof m.msg - 1] = '\0';
    }
    return (prefrec_status)m.status;
}
