/* test_date.c - day numbers against known dates, parsing and round trips. */
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
    return check_report("test_date");
}
