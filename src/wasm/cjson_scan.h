/* cjson_scan.h - forced into cJSON.c in the browser build only (src/wasm/CMakeLists.txt).
 * cJSON prints a double with "%1.15g" and checks with sscanf("%lg") that it reads back; in
 * wasm musl's vfscanf costs about 20 us per call (a quarter of it is the conversion itself),
 * which made JSON responses ~0.6 ms slower for 30 items. strtod is the same conversion (the
 * same musl floatscan), so the check gives the same answer, 4x faster. Defined in exports.c. */
#ifndef PREFREC_WASM_CJSON_SCAN_H
#define PREFREC_WASM_CJSON_SCAN_H
#include <stdio.h>
int prefrec_wasm_scan_lg(const char *s, const char *fmt, double *out);
#define sscanf prefrec_wasm_scan_lg
#endif
