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
    /* the job's failure state (dist.h, "Failures"): this rank's failure not yet shared, and the
     * failure every rank learned at the same call (from then on every collective returns -1) */
    int failed, stopped;
    prefrec_error fail_err, stop_err;
    /* PREFREC_MPI_FAIL=RANK:SITE[:K] (tests): hook_rank fails the K-th time it reaches site */
    int hook_rank;
    long hook_at, hook_seen;
    char hook_site[16];
};

/* An exchange above call_max goes in rounds through staging buffers of at most this many bytes
 * per rank (each way): the rounds' extra memory, 2 x 256 MiB at most. */
#define ROUND_MAX ((size_t)256 << 20)

int prefrec_dist_rank(const prefrec_dist *d) { return d ? d->rank : 0; }
int prefrec_dist_size(const prefrec_dist *d) { return d ? d->size : 1; }
uint64_t prefrec_dist_bytes_sent(const prefrec_dist *d) { return d ? d->sent : 0; }

void prefrec_dist_fail(prefrec_dist *d, const prefrec_error *err) {
    if (!d || d->size == 1 || d->stopped || d->failed) return;
    d->failed = 1;
    if (err && err->status) {
        d->fail_err = *err;
        d->fail_err.msg[sizeof d->fail_err.msg - 1] = '\0';
    } else {
        prefrec_error_set(&d->fail_err, PREFREC_E_IO, "failed (no message)");
    }
}

int prefrec_dist_hook(prefrec_dist *d, const char *site) {
    if (!d || d->rank != d->hook_rank || strcmp(site, d->hook_site)) return 0;
    return d->hook_seen++ == d->hook_at;
}

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

/* PREFREC_MPI_FAIL=RANK:SITE[:K] into the handle: 0, or -1 (said on stderr by rank 0). */
static int hook_parse(prefrec_dist *d, const char *e) {
    d->hook_rank = -1;
    if (!e || !*e) return 0;
    int r = -1, used = 0;
    long k = 0;
    char site[16] = {0};
    int got = sscanf(e, "%d:%15[a-z]%n", &r, site, &used);
    if (got == 2 && e[used] == ':') {
        int more = 0;
        if (sscanf(e + used + 1, "%ld%n", &k, &more) != 1 || e[used + 1 + more]) got = 0;
    } else if (got == 2 && e[used]) {
        got = 0;
    }
    if (got != 2 || r < 0 || k < 0) {
        if (d->rank == 0)
            fprintf(stderr, "prefrec: error: PREFREC_MPI_FAIL='%s' is not RANK:SITE[:K]\n", e);
        return -1;
    }
    d->hook_rank = r;
    d->hook_at = k;
    memcpy(d->hook_site, site, sizeof site);
    return 0;
}

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
    int bad = 0;
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
            bad = 1;
        } else {
            d->call_max = (size_t)v;
        }
    }
    if (bad || hook_parse(d, getenv("PREFREC_MPI_FAIL"))) {
        free(d);
        MPI_Finalize();
        return -1;
    }
    *out = d;
    return 0;
}

static MPI_Op op_of(int op) {
    return op == PREFREC_DIST_MIN ? MPI_MIN
        : op == PREFREC_DIST_MAX  ? MPI_MAX
        : op == PREFREC_DIST_BOR  ? MPI_BOR
                                  : MPI_SUM;
}

/* Out of memory inside a collective, after its failure flag: the others are already in its
 * data part, so the rank cannot leave it; it ends the job (mpirun reports the exit), saying so. */
static void die(const prefrec_dist *d, const char *what) {
    fprintf(stderr, "prefrec: error: rank %d: out of memory %s\n", d->rank, what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* ---- the raw collectives (no failure flag: the public functions below add it) -------------- */

/* Reductions in pieces of at most call_max bytes (MPI counts are int). */
static int allreduce_raw(prefrec_dist *d, void *v, size_t n, MPI_Datatype type, int op) {
    for (size_t at = 0; at < n;) {
        size_t most = d->call_max / 8;
        int k = (int)(n - at > most ? most : n - at);
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)v + at * 8, k, type, op_of(op), MPI_COMM_WORLD))
            return -1;
        d->sent += (uint64_t)k * 8;
        at += (size_t)k;
    }
    return 0;
}

static int bcast_raw(prefrec_dist *d, void *buf, size_t len, int root) {
    for (size_t at = 0; at < len;) {
        int k = (int)(len - at > d->call_max ? d->call_max : len - at);
        if (MPI_Bcast((char *)buf + at, k, MPI_BYTE, root, MPI_COMM_WORLD)) return -1;
        if (d->rank == root) d->sent += (uint64_t)k * (uint64_t)(d->size - 1);
        at += (size_t)k;
    }
    return 0;
}

/* ---- the failure flag ------------------------------------------------------------------------
 * Every collective starts with the same tiny exchange, one MPI_Allreduce(MAX) of two ints: {this
 * rank's failure: 0 none, 1 an error given to prefrec_dist_agree, 2 prefrec_dist_fail; 1 when
 * this call is not an agree}. A rank that failed somewhere and skipped collectives the others
 * made meets them at its next collective, whichever it is: the exchange is the same in all of
 * them, so it matches the others' exchange and the data parts are skipped by everyone. Then the
 * error is agreed as prefrec_dist_agree always did (the smallest key, then the lowest rank; its
 * status and message broadcast from it). When every rank was in an agree and nobody called
 * prefrec_dist_fail, that is all (an agreed error: the callers go on as before); else the job
 * is stopped: every rank learned it at this call, and every collective after it returns -1 at
 * once without communicating, so each rank unwinds through its own error paths. Returns the
 * winning status (0: nobody failed) with its message in *win. */
static prefrec_status gate(prefrec_dist *d, int in_agree, prefrec_status st, uint64_t key,
                           const prefrec_error *mine, prefrec_error *win) {
    int v[2] = {d->failed ? 2 : st ? 1 : 0, !in_agree};
    d->sent += sizeof v;
    if (MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD)) {
        d->stopped = 1;
        prefrec_error_set(&d->stop_err, PREFREC_E_IO, "MPI failed (the failure flag)");
        *win = d->stop_err;
        return PREFREC_E_IO;
    }
    if (v[0] == 0) return PREFREC_OK;
    int here = d->failed || st != PREFREC_OK;
    uint64_t k = d->failed ? 0 : key;
    /* the winner: smallest (failed ? 0 : 1, key), then the lowest rank */
    int64_t w[2] = {here ? 0 : 1, here ? (int64_t)(k > INT64_MAX ? INT64_MAX : k) : INT64_MAX};
    int64_t mk = w[1], who = INT64_MAX;
    struct {
        int32_t status;
        char msg[PREFREC_ERROR_MSG_MAX];
    } m;
    memset(&m, 0, sizeof m);
    int bad = allreduce_raw(d, w, 2, MPI_INT64_T, PREFREC_DIST_MIN);
    if (!bad) {
        who = here && mk == w[1] ? d->rank : INT64_MAX;
        bad = allreduce_raw(d, &who, 1, MPI_INT64_T, PREFREC_DIST_MIN);
    }
    if (!bad && d->rank == who) {
        const prefrec_error *e = d->failed ? &d->fail_err : mine;
        m.status = (int32_t)(d->failed ? d->fail_err.status : st);
        if (e) memcpy(m.msg, e->msg, sizeof m.msg);
    }
    if (!bad) bad = bcast_raw(d, &m, sizeof m, (int)who);
    m.msg[sizeof m.msg - 1] = '\0';
    if (bad) {
        m.status = PREFREC_E_IO;
        snprintf(m.msg, sizeof m.msg, "MPI failed (agreeing on an error)");
    }
    if (!m.status) m.status = PREFREC_E_IO;
    if (bad || v[0] == 2 || v[1]) { /* stopped: name the failing rank */
        d->stopped = 1;
        d->failed = 0;
        if (bad)
            prefrec_error_set(&d->stop_err, (prefrec_status)m.status, "%s", m.msg);
        else
            prefrec_error_set(&d->stop_err, (prefrec_status)m.status, "rank %d: %s", (int)who,
                              m.msg);
        *win = d->stop_err;
    } else {
        win->status = (prefrec_status)m.status;
        memcpy(win->msg, m.msg, sizeof m.msg);
    }
    return win->status;
}

/* Every public collective but the agree: -1 when the job has stopped (now or before). */
static int enter(prefrec_dist *d) {
    if (d->stopped) return -1;
    prefrec_error w;
    return gate(d, 0, PREFREC_OK, 0, NULL, &w) ? -1 : 0;
}

void prefrec_dist_finish(prefrec_dist *d) {
    if (!d) return;
    /* a rank that failed and made no collective since meets the others here */
    if (d->size > 1 && !d->stopped) enter(d);
    free(d);
    MPI_Finalize();
}

int prefrec_dist_allreduce_i64(prefrec_dist *d, int64_t *v, size_t n, int op) {
    if (!d || d->size == 1) return 0;
    return enter(d) ? -1 : allreduce_raw(d, v, n, MPI_INT64_T, op);
}

int prefrec_dist_allreduce_f64(prefrec_dist *d, double *v, size_t n, int op) {
    if (!d || d->size == 1) return 0;
    return enter(d) ? -1 : allreduce_raw(d, v, n, MPI_DOUBLE, op);
}

int prefrec_dist_exscan_u64(prefrec_dist *d, uint64_t v, uint64_t *before) {
    *before = 0;
    if (!d || d->size == 1) return 0;
    if (enter(d)) return -1;
    uint64_t r = 0;
    if (MPI_Exscan(&v, &r, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD)) return -1;
    d->sent += 8;
    *before = d->rank ? r : 0; /* MPI leaves rank 0's result undefined */
    return 0;
}

int prefrec_dist_bcast(prefrec_dist *d, void *buf, size_t len, int root) {
    if (!d || d->size == 1) return 0;
    return enter(d) ? -1 : bcast_raw(d, buf, len, root);
}

int prefrec_dist_bcast_bytes(prefrec_dist *d, char **buf, size_t *len, int root) {
    if (!d || d->size == 1) return 0;
    if (enter(d)) return -1;
    uint64_t n = d->rank == root ? (uint64_t)*len : 0;
    if (bcast_raw(d, &n, sizeof n, root)) return -1;
    if (d->rank != root) {
        *buf = malloc(n + 1);
        if (!*buf) die(d, "receiving a broadcast");
        (*buf)[n] = '\0';
        *len = (size_t)n;
    }
    return bcast_raw(d, *buf, (size_t)n, root);
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
    if (!sc || !c64) die(d, "in an all-to-all exchange");
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
    if (allreduce_raw(d, most, 2, MPI_INT64_T, PREFREC_DIST_MAX)) fail = 1;
    char *r = fail ? NULL : malloc(rtot ? rtot : 1);
    if (!fail && !r) die(d, "receiving an all-to-all exchange");
    if (!fail && (uint64_t)most[0] <= d->call_max) {
        for (int i = 0; i < n; i++) {
            sc[i] = (int)c64[i], sd[i] = (int)soff[i];
            rc[i] = (int)c64[n + i], rd[i] = (int)roff[i];
        }
        fail = MPI_Alltoallv(send, sc, sd, MPI_BYTE, r, rc, rd, MPI_BYTE, MPI_COMM_WORLD) != 0;
    } else if (!fail) {
        uint64_t rounds, cap = round_cap(d, (uint64_t)most[1], &rounds);
        char *sb = malloc(min_u64(stot, cap * n) + 1), *rb = malloc(min_u64(rtot, cap * n) + 1);
        if (!sb || !rb) die(d, "in an all-to-all exchange's rounds");
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

/* Every rank's buf[0..len) to root (root >= 0: MPI_Gatherv) or to every rank (root < 0:
 * MPI_Allgatherv). The parts' sizes go first (a gather, then root's total and the largest part
 * to all; for an all-gather one MPI_Allgather tells every rank every size), so every rank
 * takes the same decision: one call when a receiver gets at most call_max bytes in all, else
 * rounds: in round k every rank sends its bytes [k cap, (k + 1) cap), cap = min(call_max,
 * ROUND_MAX) / size, into a staging buffer on the receivers, which copy them into place. */
static int gather_mpi(prefrec_dist *d, const void *buf, size_t len, int root, char **recv,
                      size_t *recv_counts) {
    int n = d->size, fail = 0, every = root < 0, gets = every || d->rank == root;
    uint64_t mine = len, *all = malloc(2 * (size_t)n * sizeof *all), *off = all + n;
    int *rc = malloc(2 * (size_t)n * sizeof *rc), *rd = rc + n;
    if (!all || !rc) die(d, every ? "in an all-gather" : "in a gather");
    fail = every ? MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD)
                 : MPI_Gather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
    int64_t most[2] = {0, (int64_t)len}; /* a receiver's total; the largest rank's part */
    uint64_t tot = 0;
    for (int i = 0; !fail && gets && i < n; i++) {
        off[i] = tot;
        tot += all[i];
        recv_counts[i] = (size_t)all[i];
        if (every && (int64_t)all[i] > most[1]) most[1] = (int64_t)all[i];
    }
    most[0] = (int64_t)tot;
    if (!fail && !every) fail = allreduce_raw(d, most, 2, MPI_INT64_T, PREFREC_DIST_MAX);
    if (fail) {
        free(all);
        free(rc);
        return -1;
    }
    char *r = NULL;
    if (gets && !(r = malloc(tot ? tot : 1))) die(d, "receiving a gather");
    d->sent += every ? (uint64_t)len * (uint64_t)(n - 1) : d->rank != root ? len : 0;
    if ((uint64_t)most[0] <= d->call_max) {
        for (int i = 0; gets && i < n; i++) rc[i] = (int)all[i], rd[i] = (int)off[i];
        fail = (every ? MPI_Allgatherv(buf, (int)len, MPI_BYTE, r, rc, rd, MPI_BYTE, MPI_COMM_WORLD)
                      : MPI_Gatherv(buf, (int)len, MPI_BYTE, r, rc, rd, MPI_BYTE, root,
                                    MPI_COMM_WORLD)) != MPI_SUCCESS;
    } else {
        uint64_t rounds, cap = round_cap(d, (uint64_t)most[1], &rounds);
        char *rb = NULL;
        if (gets && !(rb = malloc(min_u64(tot, cap * n) + 1))) die(d, "in a gather's rounds");
        for (uint64_t k = 0; k < rounds && !fail; k++) {
            int rt = 0;
            for (int i = 0; gets && i < n; i++) {
                rc[i] = piece(all[i], k, cap), rd[i] = rt;
                rt += rc[i];
            }
            int p = piece(len, k, cap);
            const char *from = p ? (const char *)buf + k * cap : buf;
            fail = (every ? MPI_Allgatherv(from, p, MPI_BYTE, rb, rc, rd, MPI_BYTE, MPI_COMM_WORLD)
                          : MPI_Gatherv(from, p, MPI_BYTE, rb, rc, rd, MPI_BYTE, root,
                                        MPI_COMM_WORLD)) != MPI_SUCCESS;
            for (int i = 0; gets && i < n && !fail; i++)
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

/* One rank: its part is the whole. */
static int allgatherv_one(const void *buf, size_t len, char **recv, size_t *recv_counts) {
    recv_counts[0] = len;
    *recv = malloc(len ? len : 1);
    if (!*recv) return -1;
    if (len) memcpy(*recv, buf, len);
    return 0;
}

int prefrec_dist_allgatherv(prefrec_dist *d, const void *buf, size_t len, char **recv,
                            size_t *recv_counts) {
    *recv = NULL;
#ifdef PREFREC_HAVE_MPI
    if (d && d->size > 1) return enter(d) ? -1 : gather_mpi(d, buf, len, -1, recv, recv_counts);
#endif
    (void)d;
    return allgatherv_one(buf, len, recv, recv_counts);
}

int prefrec_dist_allgatherv_noflag(prefrec_dist *d, const void *buf, size_t len, char **recv,
                                   size_t *recv_counts) {
    *recv = NULL;
#ifdef PREFREC_HAVE_MPI
    if (d && d->size > 1) return d->stopped ? -1 : gather_mpi(d, buf, len, -1, recv, recv_counts);
#endif
    (void)d;
    return allgatherv_one(buf, len, recv, recv_counts);
}

int prefrec_dist_alltoallv(prefrec_dist *d, const char *send, const size_t *counts, char **recv,
                           size_t *recv_counts) {
    *recv = NULL;
#ifdef PREFREC_HAVE_MPI
    if (d && d->size > 1) return enter(d) ? -1 : alltoallv_mpi(d, send, counts, recv, recv_counts);
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
    if (d && d->size > 1) return enter(d) ? -1 : gather_mpi(d, buf, len, root, recv, recv_counts);
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
#ifdef PREFREC_HAVE_MPI
    prefrec_error w;
    memset(&w, 0, sizeof w);
    prefrec_status r;
    if (d->stopped) /* the job stopped before: the same error on every rank, at once */
        w = d->stop_err, r = w.status;
    else
        r = gate(d, 1, st, key, err, &w);
    if (r && err) *err = w;
    return r;
#else
    return st;
#endif
}
