/* rank_exact.h - exact, order-free sums of doubles for the sharded fits (docs/mpi.md, "Exact
 * sums"): each term is rounded once to the grid 2^-64 and the integers are added, which is
 * exact in any order, so a sum over customers has the same bits whatever the customers' order
 * and however they are split over ranks; the sum becomes a double once, at the end.
 *
 *   rank_fx s = 0;
 *   for (...) if (rank_fx_add(&s, term)) return error;      // |term| < 2^62, finite
 *   if (rank_fx_sum_dist(x->dist, &s, 1)) return error;      // collective; identity for 1 rank
 *   double v = rank_fx_double(s);
 *
 * The accumulator is a signed 128-bit integer in units of 2^-64: sums hold |s| < 2^63. A term
 * that is not finite or has |term| >= 2^62, and an addition that would leave the range, are
 * errors (-1), never a silent wrap. Internal to src/rank; GCC and Clang (__int128). */
#ifndef PREFREC_RANK_EXACT_H
#define PREFREC_RANK_EXACT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prefrec/native/rankers.h"

typedef __int128 rank_fx; /* units of 2^-64 */

#define RANK_FX_TERM_MAX 0x1p62 /* |term| must be below this */

/* v = round(t * 2^64), ties to even: |t|'s floor and its fraction (both exact in double: the
 * fraction of a number >= 0 is its low bits), the fraction scaled by 2^64 (exact) and rounded,
 * the sign put back. 0, or -1 if t is not finite or |t| >= 2^62. */
static inline int rank_fx_round(double t, rank_fx *v) {
    double a = fabs(t);
    if (!(a < RANK_FX_TERM_MAX)) return -1;
    double fl = floor(a), fr = rint((a - fl) * 0x1p64);
    if (fr >= 0x1p64) fl += 1.0, fr = 0.0;
    rank_fx m = (rank_fx)(int64_t)fl * ((rank_fx)1 << 64) + (rank_fx)(uint64_t)fr;
    *v = t < 0 ? -m : m;
    return 0;
}

/* *acc += v. 0, or -1 (acc unchanged) if the sum leaves the 128-bit range. */
static inline int rank_fx_add_fx(rank_fx *acc, rank_fx v) {
    rank_fx s;
    if (__builtin_add_overflow(*acc, v, &s)) return -1;
    *acc = s;
    return 0;
}

/* *acc += t rounded to the grid. 0 or -1 (the term or the sum out of range; acc unchanged). */
static inline int rank_fx_add(rank_fx *acc, double t) {
    rank_fx v = 0;
    return rank_fx_round(t, &v) ? -1 : rank_fx_add_fx(acc, v);
}

/* The fast form for long loops of small terms (|t| < RANK_FX_FAST_MAX, the caller's bound):
 * round(t 2^64) = h 2^32 + l with h = round(t 2^32) and l = round((t 2^32 - h) 2^32), both got
 * by adding 1.5 x 2^52 (the double's rounding to an integer, ties to even) and read off as the
 * bits' difference: only double and int64 arithmetic, which vectorises. The caller adds h and l
 * up in two int64 lanes (|h| <= 2^50, |l| <= 2^31: RANK_FX_FAST_TERMS terms at most) and then
 * into the accumulator with rank_fx_flush. The same integer as rank_fx_round gives. */
#define RANK_FX_FAST_MAX 0x1p18
#define RANK_FX_FAST_TERMS 4096
static inline void rank_fx_split(double t, int64_t *h, int64_t *l) {
    const double magic = 0x1.8p52;
    int64_t mbits, hbits, lbits;
    memcpy(&mbits, &magic, sizeof mbits);
    double a = t * 0x1p32, hb = a + magic, lb = (a - (hb - magic)) * 0x1p32 + magic;
    memcpy(&hbits, &hb, sizeof hbits);
    memcpy(&lbits, &lb, sizeof lbits);
    *h += hbits - mbits;
    *l += lbits - mbits;
}

/* *acc += h 2^32 + l (the lanes of rank_fx_split). 0, or -1 (acc unchanged) out of range. */
static inline int rank_fx_flush(rank_fx *acc, int64_t h, int64_t l) {
    return rank_fx_add_fx(acc, (rank_fx)h * ((rank_fx)1 << 32) + l);
}

/* The sum as a double (rounded once). */
static inline double rank_fx_double(rank_fx v) { return (double)v * 0x1p-64; }

/* The wire form: two int64 limbs, high (signed) then low (the low 64 bits). */
static inline void rank_fx_to_limbs(rank_fx v, int64_t out[2]) {
    out[0] = (int64_t)(v >> 64);
    out[1] = (int64_t)(uint64_t)v;
}
static inline rank_fx rank_fx_from_limbs(const int64_t in[2]) {
    return (rank_fx)in[0] * ((rank_fx)1 << 64) + (rank_fx)(uint64_t)in[1];
}

/* v[0..n) summed over the ranks of d, in place (collective: every rank calls it with the same
 * n; d NULL or one rank: nothing), as a true reduction: each sum is cut into three int64 lanes
 * (the top bits, signed, and two lanes of 42 bits), the lanes are summed with MPI's integer sum
 * (exact in any order for up to 2^21 ranks) and put back together, so every rank gets the same
 * sums and holds n of them, not n per rank (mf's X'X, train's scores per product, eval's
 * per-user figures and bootstrap replicates: docs/mpi.md). 0, or -1 on every rank alike when a
 * sum leaves the range (MPI failing: as its collectives). A rank that cannot take part with n
 * sums calls prefrec_dist_fail first (host/dist.h). */
struct prefrec_dist;
int rank_fx_sum_dist(struct prefrec_dist *d, rank_fx *v, size_t n);

#endif
