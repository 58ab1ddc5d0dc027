/* json_build.h - build cJSON trees without losing an allocation failure (internal; core and
 * the native side). cJSON's Add* functions return NULL when they cannot allocate and leave the
 * tree without the member, so a tree built with unchecked calls can be printed "successfully"
 * with members missing. These wrappers record any failure in one flag to check once at the end:
 *
 *   json_build b = {0};
 *   cJSON *o = json_root(&b);                      // a new root object
 *   json_num(&b, o, "dim", 32);
 *   cJSON *a = json_arr(&b, o, "mlp");
 *   json_push(&b, a, cJSON_CreateNumber(64));
 *   char *text = json_print(&b, o, 0);            // NULL if anything failed; deletes o
 */
#ifndef PREFREC_JSON_BUILD_H
#define PREFREC_JSON_BUILD_H

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct json_build {
    int failed;
} json_build;

static inline cJSON *json_check_(json_build *b, cJSON *r) {
    if (!r) b->failed = 1;
    return r;
}
static inline cJSON *json_root(json_build *b) { return json_check_(b, cJSON_CreateObject()); }
/* A new object parent[key] (parent may be NULL after a failure: then nothing is added). */
static inline cJSON *json_obj(json_build *b, cJSON *parent, const char *key) {
    return json_check_(b, parent ? cJSON_AddObjectToObject(parent, key) : NULL);
}
static inline cJSON *json_arr(json_build *b, cJSON *parent, const char *key) {
    return json_check_(b, parent ? cJSON_AddArrayToObject(parent, key) : NULL);
}
static inline cJSON *json_num(json_build *b, cJSON *o, const char *key, double v) {
    return json_check_(b, o ? cJSON_AddNumberToObject(o, key, v) : NULL);
}
/* o[key] = the integer v, as cJSON prints an integer ("%d") but without printf: in the wasm
 * builds printf is a large function compiled on first use (a page's first load pays it),
 * its float half computing in software long double. */
static inline cJSON *json_int(json_build *b, cJSON *o, const char *key, int32_t v) {
    char t[12], *p = t + sizeof t;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    *--p = 0;
    do *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) *--p = '-';
    return json_check_(b, o ? cJSON_AddRawToObject(o, key, p) : NULL);
}
static inline cJSON *json_str(json_build *b, cJSON *o, const char *key, const char *v) {
    return json_check_(b, o ? cJSON_AddStringToObject(o, key, v) : NULL);
}
static inline cJSON *json_bool(json_build *b, cJSON *o, const char *key, int v) {
    return json_check_(b, o ? cJSON_AddBoolToObject(o, key, v) : NULL);
}
/* Add item (which may be NULL: a failed create) as o[key]; item is deleted on failure. */
static inline void json_put(json_build *b, cJSON *o, const char *key, cJSON *item) {
    if (!o || !item || !cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        b->failed = 1;
    }
}
/* Append item (which may be NULL) to array a; deleted on failure. */
static inline void json_push(json_build *b, cJSON *a, cJSON *item) {
    if (!a || !item || !cJSON_AddItemToArray(a, item)) {
        cJSON_Delete(item);
        b->failed = 1;
    }
}
/* The text of root (caller frees with cJSON_free), or NULL when any step failed; deletes root. */
static inline char *json_print(json_build *b, cJSON *root, int formatted) {
    char *s =
        !b->failed && root ? (formatted ? cJSON_Print(root) : cJSON_PrintUnformatted(root)) : NULL;
    cJSON_Delete(root);
    if (!s) b->failed = 1;
    return s;
}

#endif
