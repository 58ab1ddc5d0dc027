/* test_date.c - day numbers against known dates, parsing and round trips. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "prefrec/date.h"

int main(void) {
    CHECK_EQ_INT(prefrec_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(prefrec_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(prefrec_days_from_civil(2022, 1, 1), 18993);
    CHECK_EQ_INT(prefrec_days_from_civil(2021, 10, 1), 18901);
    CHECK_EQ_INT(prefrec_days_from_civil(1969, 12, 31), -1);
    int32_t d = 0;
    CHECK_EQ_INT(prefrec_date_parse("20210101", 8, &d), 0);
    CHECK_EQ_INT(d, 18628);
    CHECK_EQ_INT(prefrec_date_parse("2022-01-01", 10, &d), 0);
    CHECK_EQ_INT(d, 18993);
    CHECK_EQ_INT(prefrec_date_parse("2021-02-29", 10, &d), -1); /* not a leap year */
    CHECK_EQ_INT(prefrec_date_parse("2020-02-29", 10, &d), 0);
    CHECK_EQ_INT(prefrec_date_parse("2021-13-01", 10, &d), -1);
    CHECK_EQ_INT(prefrec_date_parse("2021/01/01", 10, &d), -1);
    CHECK_EQ_INT(prefrec_date_parse("202101", 6, &d), -1);
    CHECK_EQ_INT(prefrec_date_parse("2021010x", 8, &d), -1);
    char buf[11];
    CHECK_STR(prefrec_date_format(18993, buf), "2022-01-01");
    CHECK_STR(prefrec_date_format(-1, buf), "1969-12-31");
    int ok = 1;
    for (int32_t x = -800000; x < 800000; x += 7) {
        int y, m, dd;
        prefrec_civil_from_days(x, &y, &m, &dd);
        ok &= prefrec_days_from_civil(y, m, dd) == x;
    }
    CHECK(ok);
    /* the formatter writes what snprintf's "%04d-%02d-%02d" of (y % 10000, m, d) wrote, cut to
     * 10 characters (years before 0 and past 9999 included) */
    int same = 1;
    for (int32_t x = -4400000; x < 3700000; x += 11) {
        int y, m, dd;
        char want[32];
        prefrec_civil_from_days(x, &y, &m, &dd);
        snprintf(want, sizeof want, "%04d-%02d-%02d", y % 10000, m, dd);
        want[10] = 0; /* what an 11-byte buffer holds */
        same &= !strcmp(prefrec_date_format(x, buf), want);
    }
    CHECK(same);
    CHECK_STR(prefrec_date_format(prefrec_days_from_civil(-9999, 12, 31), buf), "-9999-12-3");
    return check_report("test_date");
}
