/* cjson_scan.h - forced into cJSON.c in the browser build only (src/wasm/CMakeLists.txt).
 * cJSON reads numbers with strtod, and prints a double with "%1.15g" and checks with
 * sscanf("%lg") that it reads back. In wasm musl's vfscanf costs about 20 us per call, which
 * made JSON responses ~0.6 ms slower for 30 items, and musl's strtod converts through software
 * long double: some 11 KB of code a browser compiles on its main thread at the first number
 * (a pack's manifest, at every load) and ~15 us a number in its first tier. Both go to
 * prefrec_strtod (src/core/num.c: the same doubles, checked against the C library's strtod by
 * tests/core/test_num.c), which leaves musl's strtod out of the engine. */
#ifndef PREFREC_WASM_CJSON_SCAN_H
#define PREFREC_WASM_CJSON_SCAN_H
#include <stdio.h>
int prefrec_wasm_scan_lg(const char *s, const char *fmt, double *out); /* exports.c */
double prefrec_strtod(const char *s, char **end); /* src/core/num.h */
#define sscanf prefrec_wasm_scan_lg
#define strtod prefrec_strtod
#endif
