/* prefrec/date.h - calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian).
 *
 *   int32_t d;
 *   if (prefrec_date_parse("2022-01-01", 10, &d) == 0) ... prefrec_date_format(d, buf);
 *
 * Day numbers make "days between purchases" a subtraction and sort like dates. Pure functions,
 * no locale, no time zones, no globals; portable (core). */
#ifndef PREFREC_DATE_H
#define PREFREC_DATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Day number of y-m-d (no validation; see prefrec_date_valid). */
int32_t prefrec_days_from_civil(int y, int m, int d);
/* Inverse of prefrec_days_from_civil. */
void prefrec_civil_from_days(int32_t days, int *y, int *m, int *d);
/* 1 if y-m-d is a real calendar date with 1 <= y <= 9999. */
int prefrec_date_valid(int y, int m, int d);
/* Parse "YYYY-MM-DD" or "YYYYMMDD" (exactly len bytes). Returns 0 and sets *days, or -1. */
int prefrec_date_parse(const char *s, size_t len, int32_t *days);
/* Write "YYYY-MM-DD" and a NUL into buf (11 bytes). Returns buf. */
char *prefrec_date_format(int32_t days, char buf[11]);

#ifdef __cplusplus
}
#endif
#endif
