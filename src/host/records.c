/* records.c - a member's record in a records directory (see records.h). */
#include "records.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

int prefrec_unhex_n(const char *s, size_t len, uint8_t *out, size_t n) {
    if (!s || len != 2 * n) return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        int c = s[i],
            v = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f'   ? c - 'a' + 10
            : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                     : -1;
        if (v < 0) return -1;
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return 0;
}

int prefrec_unhex(const char *s, uint8_t *out, size_t n) {
    return s ? prefrec_unhex_n(s, strlen(s), out, n) : -1;
}

prefrec_status prefrec_records_open(const char *dir, const char *code, int kind,
                                    const uint8_t *secret, size_t n, prefrec_member_state **out,
                                    prefrec_member_header *h, prefrec_error *err) {
    *out = NULL;
    char path[4096], *json = NULL, *rec = NULL;
    size_t jn = 0, rn = 0;
    uint8_t export_id[16], naming[32], kid[16];
    snprintf(path, sizeof path, "%s/export.json", dir);
    prefrec_status s = prefrec_file_read(path, 1 << 16, &json, &jn, err);
    cJSON *j = s ? NULL : cJSON_ParseWithLength(json, jn);
    const char *e =
        j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "export_id")) : NULL;
    const char *nk =
        j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "naming_key")) : NULL;
    if (!s && (prefrec_unhex(e, export_id, 16) || prefrec_unhex(nk, naming, 32)))
        s = prefrec_error_set(err, PREFREC_E_PARSE,
                              "%s: no export_id (32 hex digits) and naming_key (64)", path);
    cJSON_Delete(j);
    free(json);
    if (!s) s = prefrec_member_kid(naming, code, strlen(code), kid, err);
    if (!s) {
        char name[33];
        for (int i = 0; i < 16; i++) snprintf(name + 2 * i, 3, "%02x", kid[i]);
        snprintf(path, sizeof path, "%s/%s.rec", dir, name);
        s = prefrec_file_read(path, PREFREC_MEMBER_PAYLOAD_MAX + 4096, &rec, &rn, err);
        if (s == PREFREC_E_IO || s == PREFREC_E_NOTFOUND)
            s = prefrec_error_set(err, PREFREC_E_NOTFOUND, "no record for member %s in %s", code,
                                  dir);
    }
    uint8_t *pl = NULL;
    size_t pn = 0;
    if (!s && kind == 0 && n != PREFREC_MEMBER_KEY_SIZE)
        s = prefrec_error_set(err, PREFREC_E_INVAL, "a record key is %u bytes",
                              PREFREC_MEMBER_KEY_SIZE);
    else if (!s && kind == 0)
        s = prefrec_member_open(rec, rn, export_id, kid, secret, &pl, &pn, err);
    else if (!s && kind == PREFREC_MEMBER_KIND_TOKEN)
        s = prefrec_member_open_token(rec, rn, export_id, kid, secret, n, &pl, &pn, err);
    else if (!s && kind == PREFREC_MEMBER_KIND_PIN)
        s = prefrec_member_open_pin(rec, rn, export_id, kid, (const char *)secret, n, &pl, &pn,
                                    err);
    else if (!s)
        s = prefrec_error_set(err, PREFREC_E_INVAL, "unknown secret kind %d", kind);
    if (!s) s = prefrec_member_header_read(rec, rn, h, err);
    if (!s) s = prefrec_member_state_decode(pl, pn, out, err);
    prefrec_member_wipe_free(pl, pn);
    free(rec);
    return s;
}
