/* num.h - decimal text to the nearest double (src/core/num.c). Internal to the core and the
 * browser build (src/wasm/cjson_scan.h points cJSON's strtod here). */
#ifndef PREFREC_CORE_NUM_H
#define PREFREC_CORE_NUM_H

/* strtod for the decimal numbers JSON holds: [+-]digits[.digits][(e|E)[+-]digits] (also
 * ".5" and "5."), the nearest double, ties to even, as a correct strtod gives; *end (when end
 * is not NULL) after the last character used, or s when there is no number. No hex, inf or
 * nan, no leading white space; errno is not set (overflow gives +-HUGE_VAL, underflow 0). */
double prefrec_strtod(const char *s, char **end);

#endif
