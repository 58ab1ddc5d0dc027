/* cmd_member.c - `prefrec member`: a member's card token, and their sealed record opened, as
 * the shop's backend or a kiosk would (SECURITY.md; prefrec/member.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/member.h"

static const char *usage_text =
    "usage: prefrec member --code CODE --token-key FILE --card\n"
    "       prefrec member --records DIR --code CODE (--token-key FILE | --token HEX | --key HEX)\n"
    "  --card            print the member's card token (32 hex digits, for the card's QR code)\n"
    "  --records DIR     a records directory written by prefrec export --records: the member's\n"
    "                    record is opened and their state printed as JSON\n"
    "  --token-key FILE  the shop's token master key (the backend's way)\n"
    "  --token HEX       the member's card token (the kiosk's way)\n"
    "  --key HEX         the record's key, 64 hex digits (the web page's way: from the backend)\n";

static int unhex(const char *s, uint8_t *out, size_t n) {
    if (strlen(s) != 2 * n) return -1;
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

static prefrec_status read_hex_file(const char *path, uint8_t *out, size_t n, prefrec_error *err) {
    char *buf = NULL;
    size_t len = 0;
    prefrec_status s = prefrec_file_read(path, 4096, &buf, &len, err);
    if (s) return s;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    buf[len] = 0;
    if (unhex(buf, out, n))
        s = prefrec_error_set(err, PREFREC_E_PARSE, "%s: expected %zu hex digits", path, 2 * n);
    memset(buf, 0, len);
    free(buf);
    return s;
}

static void print_state(const prefrec_member_state *m, const prefrec_member_header *h) {
    printf("{\"code\": \"%s\", \"gender\": %d, \"age\": ", m->code, m->gender);
    if (isnan(m->age))
        printf("null");
    else
        printf("%g", (double)m->age);
    printf(", \"issued_day\": %u, \"affiliates\": [", h->issued_day);
    for (uint32_t a = 0; a < m->n_aff; a++) {
        const prefrec_member_aff *f = &m->aff[a];
        printf("%s{\"affiliate\": \"%s\", \"dim\": %u, \"items\": [", a ? ", " : "", f->affiliate,
               f->dim);
        for (uint32_t i = 0; i < f->n_items; i++) {
            const prefrec_member_item *it = &f->items[i];
            printf("%s{\"product\": %u, \"lines\": %u, \"days\": [", i ? ", " : "", it->product,
                   it->count);
            for (uint32_t d = 0; d < it->n_days; d++) printf("%s%d", d ? ", " : "", it->days[d]);
            printf("]}");
        }
        printf("]}");
    }
    printf("]}\n");
}

prefrec_status cli_member_load(const char *records, const char *code, const char *key_path,
                               const char *token_hex, const char *key_hex,
                               prefrec_member_state **out, prefrec_member_header *h,
                               prefrec_error *err) {
    *out = NULL;
    uint8_t master[32], token[16], rkey[32];
    prefrec_status s = PREFREC_OK;
    if (key_path) {
        s = read_hex_file(key_path, master, 32, err);
        if (!s) s = prefrec_member_token(master, code, strlen(code), token, err);
        memset(master, 0, sizeof master);
    } else if (token_hex && unhex(token_hex, token, 16)) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "--token is 32 hex digits");
    } else if (key_hex && unhex(key_hex, rkey, 32)) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "--key is 64 hex digits");
    } else if (!token_hex && !key_hex) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "the member's secret is missing");
    }
    char path[4096], *json = NULL, *rec = NULL;
    size_t jn = 0, rn = 0;
    uint8_t export_id[16], naming[32], kid[16];
    snprintf(path, sizeof path, "%s/export.json", records);
    if (!s) s = prefrec_file_read(path, 1 << 16, &json, &jn, err);
    cJSON *j = s ? NULL : cJSON_ParseWithLength(json, jn);
    const char *e =
        j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "export_id")) : NULL;
    const char *nk =
        j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "naming_key")) : NULL;
    if (!s && (!e || !nk || unhex(e, export_id, 16) || unhex(nk, naming, 32)))
        s = prefrec_error_set(err, PREFREC_E_PARSE,
                              "%s: no export_id (32 hex digits) and naming_key (64)", path);
    cJSON_Delete(j);
    free(json);
    if (!s) s = prefrec_member_kid(naming, code, strlen(code), kid, err);
    if (!s) {
        char name[33];
        for (int i = 0; i < 16; i++) sprintf(name + 2 * i, "%02x", kid[i]);
        snprintf(path, sizeof path, "%s/%s.rec", records, name);
        s = prefrec_file_read(path, PREFREC_MEMBER_PAYLOAD_MAX + 4096, &rec, &rn, err);
        if (s == PREFREC_E_IO || s == PREFREC_E_NOTFOUND)
            s = prefrec_error_set(err, PREFREC_E_NOTFOUND, "no record for member %s in %s", code,
                                  records);
    }
    uint8_t *pl = NULL;
    size_t pn = 0;
    if (!s)
        s = key_hex ? prefrec_member_open(rec, rn, export_id, kid, rkey, &pl, &pn, err)
                    : prefrec_member_open_token(rec, rn, export_id, kid, token, 16, &pl, &pn, err);
    if (!s) s = prefrec_member_header_read(rec, rn, h, err);
    if (!s) s = prefrec_member_state_decode(pl, pn, out, err);
    prefrec_member_wipe_free(pl, pn);
    free(rec);
    memset(token, 0, sizeof token);
    memset(rkey, 0, sizeof rkey);
    return s;
}

int prefrec_cmd_member(int argc, char **argv) {
    const char *code = NULL, *key_path = NULL, *token_hex = NULL, *records = NULL, *key_hex = NULL;
    int card = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(o, "--card")) {
            card = 1;
            continue;
        }
        if (i + 1 >= argc) return cli_usage_error("member", usage_text, "%s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--code"))
            code = v;
        else if (!strcmp(o, "--token-key"))
            key_path = v;
        else if (!strcmp(o, "--token"))
            token_hex = v;
        else if (!strcmp(o, "--key"))
            key_hex = v;
        else if (!strcmp(o, "--records"))
            records = v;
        else
            return cli_usage_error("member", usage_text, "unknown option '%s'", o);
    }
    if (!code || (!!key_path + !!token_hex + !!key_hex != 1) || (card && (!key_path || records)) ||
        (!card && !records))
        return cli_usage_error("member", usage_text,
                               "give --code and either --card with --token-key, or --records "
                               "with one of --token-key, --token, --key");
    prefrec_error err = {0};
    prefrec_status s = PREFREC_OK;
    if (card) {
        uint8_t master[32], token[16];
        s = read_hex_file(key_path, master, 32, &err);
        if (!s) s = prefrec_member_token(master, code, strlen(code), token, &err);
        for (int i = 0; !s && i < 16; i++) printf("%02x", token[i]);
        if (!s) printf("\n");
        memset(master, 0, sizeof master);
        memset(token, 0, sizeof token);
    } else {
        prefrec_member_header h;
        prefrec_member_state *m = NULL;
        s = cli_member_load(records, code, key_path, token_hex, key_hex, &m, &h, &err);
        if (!s) print_state(m, &h);
        prefrec_member_state_free(m);
    }
    return s ? cli_fail("member", &err) : 0;
}
