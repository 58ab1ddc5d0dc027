/* demog.c - gender, age and segment, one definition for every reader (prefrec/demog.h). */
#include "prefrec/demog.h"

#include <math.h>
#include <string.h>

int prefrec_segment(int gender, float age) {
    int g = gender == PREFREC_GENDER_MALE ? 1 : gender == PREFREC_GENDER_FEMALE ? 2 : 0;
    int band = 10;
    if (!isnan(age) && age >= 0) band = age >= 90 ? 9 : (int)(age / 10.0f);
    return g * 11 + band;
}

static void trim(const char **s, size_t *len) {
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}

/* Non-negative decimal "37" or "37.5" filling exactly len bytes; -1 otherwise. */
static int parse_num(const char *s, size_t len, double *out) {
    double v = 0, scale = 1;
    int digits = 0, dot = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (dot) {
                scale /= 10;
                v += (c - '0') * scale;
            } else {
                v = v * 10 + (c - '0');
            }
            digits++;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            return -1;
        }
    }
    if (!digits || digits > 6) return -1;
    *out = v;
    return 0;
}

int prefrec_age_parse(const char *s, size_t len, float *age) {
    trim(&s, &len);
    if (!len) return -1;
    double a, b;
    static const char dae[] = "\xeb\x8c\x80"; /* 대 (UTF-8), as in "20대" */
    if (parse_num(s, len, &a) == 0) {
        if (a > PREFREC_AGE_MAX) return -1;
        *age = (float)a;
        return 0;
    }
    if (len > 3 && memcmp(s + len - 3, dae, 3) == 0 && parse_num(s, len - 3, &a) == 0) {
        if (a > PREFREC_AGE_MAX) return -1;
        *age = (float)(a + 5); /* "20대" is 20..29: its middle */
        return 0;
    }
    if (len > 1 && s[len - 1] == 's' && parse_num(s, len - 1, &a) == 0 && a == floor(a)) {
        if (a > PREFREC_AGE_MAX) return -1;
        *age = (float)(a + 5); /* "30s" is 30..39: its middle, as "30대" */
        return 0;
    }
    if (len > 1 && s[len - 1] == '+' && parse_num(s, len - 1, &a) == 0) {
        if (a > PREFREC_AGE_MAX) return -1;
        *age = (float)(a + 5); /* open band: lower bound + 5 */
        return 0;
    }
    const char *dash = memchr(s, '-', len);
    if (dash && dash > s && parse_num(s, (size_t)(dash - s), &a) == 0 &&
        parse_num(dash + 1, len - (size_t)(dash - s) - 1, &b) == 0 && a <= b &&
        b <= PREFREC_AGE_MAX) {
        *age = (float)((a + b) / 2); /* "25-34" -> 29.5 */
        return 0;
    }
    return -1;
}

static int eq_nocase(const char *s, size_t len, const char *lit) {
    size_t n = strlen(lit);
    if (n != len) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return 0;
    }
    return 1;
}

int prefrec_gender_parse(const char *s, size_t len) {
    trim(&s, &len);
    if (!len || eq_nocase(s, len, "u") || eq_nocase(s, len, "unknown"))
        return PREFREC_GENDER_UNKNOWN;
    if ((len == 6 && memcmp(s, "\xeb\x82\xa8\xec\x84\xb1", 6) == 0) /* 남성 */ ||
        eq_nocase(s, len, "m") || eq_nocase(s, len, "male") || (len == 1 && s[0] == '0'))
        return PREFREC_GENDER_MALE;
    if ((len == 6 && memcmp(s, "\xec\x97\xac\xec\x84\xb1", 6) == 0) /* 여성 */ ||
        eq_nocase(s, len, "f") || eq_nocase(s, len, "female") || (len == 1 && s[0] == '1'))
        return PREFREC_GENDER_FEMALE;
    return -2;
}
