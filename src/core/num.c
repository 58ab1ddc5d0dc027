/* num.c - decimal text to the nearest double without the C library (num.h).
 *
 * Why: in wasm, musl's strtod converts through software long double: about 11 KB of code that a
 * browser compiles on the main thread at the first JSON number a page meets, then some 15 us a
 * number in the browser's first tier; cJSON parses a pack's manifest (some 60 numbers) with it
 * at every load. Here short numbers, at most 19 significant digits whose value w x 10^e is one
 * exact IEEE operation away (w <= 2^53, |e| <= 22: Clinger's fast path), take one
 * multiplication or division, which rounds correctly; every other number is converted exactly
 * as a decimal (its digits, up to 800 of them and a sticky flag for the rest) scaled by powers
 * of two into [1/2, 1) and then read off as 53 bits with ties to even (the "simple decimal
 * conversion"), slower but right for every input. tests/core/test_num.c checks it against the
 * C library's strtod in all three builds. */
#include "num.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ND_MAX 800 /* digits kept: enough for every double's exact value to round right */
#define SHIFT_MAX 60 /* bits per shift step: a digit times 2^60 plus a carry fits 64 bits */

typedef struct dec {
    int nd, dp, trunc; /* value 0.d[0]d[1]..d[nd-1] x 10^dp; trunc: nonzero digits dropped */
    unsigned char d[ND_MAX + 20]; /* digit values 0..9 */
} dec;

static void trim(dec *a) {
    while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
    if (a->nd == 0) a->dp = 0;
}

/* a /= 2^k, 1 <= k <= SHIFT_MAX */
static void rshift(dec *a, unsigned k) {
    int r = 0, w = 0;
    uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;
    for (; (n >> k) == 0; r++) { /* the leading digits that make one output digit */
        if (r >= a->nd) {
            if (n == 0) {
                a->nd = 0;
                return;
            }
            while ((n >> k) == 0) n *= 10, r++;
            break;
        }
        n = n * 10 + a->d[r];
    }
    a->dp -= r - 1;
    for (; r < a->nd; r++) { /* a digit out, a digit in */
        a->d[w++] = (unsigned char)(n >> k);
        n = (n & mask) * 10 + a->d[r];
    }
    while (n > 0) { /* the remainder's digits */
        unsigned char dig = (unsigned char)(n >> k);
        if (w < ND_MAX)
            a->d[w++] = dig;
        else if (dig)
            a->trunc = 1;
        n = (n & mask) * 10;
    }
    a->nd = w;
    trim(a);
}

/* a *= 2^k, 1 <= k <= SHIFT_MAX: the product's digits from the right into t, then kept */
static void lshift(dec *a, unsigned k) {
    unsigned char t[ND_MAX + 20];
    int w = ND_MAX + 19; /* t's next free place, from the right */
    uint64_t n = 0;
    for (int r = a->nd - 1; r >= 0; r--) {
        n += (uint64_t)a->d[r] << k;
        uint64_t q = n / 10;
        t[w--] = (unsigned char)(n - 10 * q);
        n = q;
    }
    while (n > 0) {
        uint64_t q = n / 10;
        t[w--] = (unsigned char)(n - 10 * q);
        n = q;
    }
    int got = ND_MAX + 19 - w; /* digits of the product */
    a->dp += got - a->nd;
    int keep = got < ND_MAX ? got : ND_MAX;
    for (int i = 0; i < got; i++) {
        unsigned char dig = t[w + 1 + i];
        if (i < keep)
            a->d[i] = dig;
        else if (dig)
            a->trunc = 1;
    }
    a->nd = keep;
    trim(a);
}

static void shift(dec *a, int k) {
    if (a->nd == 0) return;
    for (; k > SHIFT_MAX; k -= SHIFT_MAX) lshift(a, SHIFT_MAX);
    for (; k < -SHIFT_MAX; k += SHIFT_MAX) rshift(a, SHIFT_MAX);
    if (k > 0) lshift(a, (unsigned)k);
    if (k < 0) rshift(a, (unsigned)-k);
}

/* the integer part of a (a < 2^64 here), rounded by the digits after it: ties to even, up when
 * digits were dropped */
static uint64_t rounded(const dec *a) {
    uint64_t n = 0;
    int i = 0;
    for (; i < a->dp && i < a->nd; i++) n = n * 10 + a->d[i];
    for (; i < a->dp; i++) n *= 10;
    int at = a->dp;
    if (at >= 0 && at < a->nd) {
        int up;
        if (a->d[at] == 5 && at + 1 == a->nd) /* exactly half, unless digits were dropped */
            up = a->trunc || (at > 0 && a->d[at - 1] % 2 == 1);
        else
            up = a->d[at] >= 5;
        n += (uint64_t)up;
    }
    return n;
}

/* the nearest double of a (a >= 0) */
static double dec_to_double(dec *a) {
    static const unsigned char step[] = {1, 3, 6, 9, 13, 16, 19, 23, 26}; /* 2^step <= 10^i */
    if (a->nd == 0) return 0.0;
    if (a->dp > 310) return HUGE_VAL;
    if (a->dp < -330) return 0.0;
    int e = 0; /* a x 2^e stays the value */
    while (a->dp > 0) {
        int n = a->dp >= (int)sizeof step ? 27 : step[a->dp];
        shift(a, -n), e += n;
    }
    while (a->dp < 0 || (a->dp == 0 && a->d[0] < 5)) {
        int n = -a->dp >= (int)sizeof step ? 27 : step[-a->dp];
        shift(a, n), e -= n;
    }
    e--; /* a in [1/2, 1): the double's [1, 2) */
    if (e < -1022) { /* below the normal range: fewer bits */
        shift(a, e + 1022);
        e = -1022;
    }
    if (e > 1023) return HUGE_VAL;
    shift(a, 53);
    uint64_t m = rounded(a);
    if (m == (uint64_t)1 << 53) { /* rounding carried into a new bit */
        m >>= 1;
        if (++e > 1023) return HUGE_VAL;
    }
    /* m < 2^53, below 2^52 only for a subnormal (e == -1022): the IEEE bits */
    uint64_t bits =
        m >= (uint64_t)1 << 52 ? (uint64_t)(e + 1023) << 52 | (m - ((uint64_t)1 << 52)) : m;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

double prefrec_strtod(const char *s, char **end) {
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s;
    int neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    /* the significant digits: up to 19 into w (the fast path), all of them into a (the exact
     * conversion, filled only when needed, from the same text) */
    const char *digits = p;
    uint64_t w = 0;
    int nsig = 0, dp = 0, dot = 0, seen = 0;
    for (;; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9') break;
        seen = 1;
        if (*p == '0' && nsig == 0) { /* a leading zero: after the point it moves it */
            if (dot) dp--;
            continue;
        }
        if (!dot) dp++;
        if (nsig < 19) w = w * 10 + (uint64_t)(*p - '0');
        nsig++;
    }
    if (!seen) {
        if (end) *end = (char *)s;
        return 0.0;
    }
    int e10 = 0;
    if (*p == 'e' || *p == 'E') { /* an exponent only when digits follow */
        const char *q = p + 1;
        int eneg = *q == '-';
        if (*q == '-' || *q == '+') q++;
        if (*q >= '0' && *q <= '9') {
            for (; *q >= '0' && *q <= '9'; q++)
                if (e10 < 100000) e10 = e10 * 10 + (*q - '0');
            if (eneg) e10 = -e10;
            p = q;
        }
    }
    if (end) *end = (char *)p;
    double v;
    int pow10 = dp + e10 - (nsig < 19 ? nsig : 19); /* w x 10^pow10 when nothing was cut */
    if (nsig == 0) {
        v = 0.0;
    } else if (nsig <= 19 && w <= ((uint64_t)1 << 53) && pow10 >= -22 && pow10 <= 22) {
        v = pow10 >= 0 ? (double)w * p10[pow10] : (double)w / p10[-pow10];
    } else {
        dec a;
        a.nd = 0, a.dp = dp + e10, a.trunc = 0;
        for (const char *q = digits; q < p && *q != 'e' && *q != 'E'; q++) {
            if (*q == '.' || (*q == '0' && a.nd == 0)) continue; /* the point, leading zeros */
            if (a.nd < ND_MAX)
                a.d[a.nd++] = (unsigned char)(*q - '0');
            else if (*q != '0')
                a.trunc = 1;
        }
        trim(&a);
        v = dec_to_double(&a);
    }
    return neg ? -v : v;
}
