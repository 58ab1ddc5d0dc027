/* date.c - civil date <-> day number, after Howard Hinnant's public-domain derivation
 * (era/year-of-era arithmetic; exact for the whole proleptic Gregorian calendar). */
#include "prefrec/date.h"

#include <stdio.h>
#include <string.h>

int32_t prefrec_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void prefrec_civil_from_days(int32_t z, int *y, int *m, int *d) {
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int prefrec_date_valid(int y, int m, int d) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

static int digits(const char *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int prefrec_date_parse(const char *s, size_t len, int32_t *days) {
    int y, m, d;
    if (len == 8) {
        if (digits(s, 4, &y) || digits(s + 4, 2, &m) || digits(s + 6, 2, &d)) return -1;
    } else if (len == 10 && s[4] == '-' && s[7] == '-') {
        if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d)) return -1;
    } else {
        return -1;
    }
    if (!prefrec_date_valid(y, m, d)) return -1;
    *days = prefrec_days_from_civil(y, m, d);
    return 0;
}

char *prefrec_date_format(int32_t days, char buf[11]) {
    int y, m, d;
    prefrec_civil_from_days(days, &y, &m, &d);
    /* "%04d-%02d-%02d" of y % 10000, m, d, written out: no printf (a wasm page's first load
     * would compile it for this one call) */
    int v[3] = {y % 10000, m, d}, w[3] = {4, 2, 2};
    char out[16], *p = out; /* at most "-9999-12-31": cut to 10 characters, as snprintf */
    for (int f = 0; f < 3; f++) {
        int x = v[f];
        if (f) *p++ = '-';
        if (x < 0) *p++ = '-', x = -x, w[f]--; /* a year before 0: as %04d prints it */
        char t[8];
        int n = 0;
        do t[n++] = (char)('0' + x % 10);
        while ((x /= 10) && n < 7);
        while (n < w[f]) t[n++] = '0';
        while (n) *p++ = t[--n];
    }
    *p = 0;
    memcpy(buf, out, 10);
    buf[10] = 0;
    return buf;
}
