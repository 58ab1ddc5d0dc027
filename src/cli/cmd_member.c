/* cmd_member.c - `prefrec member`: a member's card token, and their sealed record opened, as
 * the shop's backend or a kiosk would (SECURITY.md; prefrec/member.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "host/records.h"
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

prefrec_status cli_read_hex_file(const char *path, uint8_t *out, size_t n, prefrec_error *err) {
    char *buf = NULL;
    size_t len = 0;
    prefrec_status s = prefrec_file_read(path, 4096, &buf, &len, err);
    if (s) return s;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    buf[len] = 0;
    if (prefrec_unhex(buf, out, n))
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
    uint8_t master[32], secret[32];
    size_t n = 16;
    int kind = PREFREC_MEMBER_KIND_TOKEN;
    prefrec_status s = PREFREC_OK;
    if (key_path) {
        s = cli_read_hex_file(key_path, master, 32, err);
        if (!s) s = prefrec_member_token(master, code, strlen(code), secret, err);
        memset(master, 0, sizeof master);
    } else if (token_hex && prefrec_unhex(token_hex, secret, 16)) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "--token is 32 hex digits");
    } else if (key_hex && prefrec_unhex(key_hex, secret, 32)) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "--key is 64 hex digits");
    } else if (key_hex) {
        kind = 0, n = 32;
    } else if (!token_hex) {
        return prefrec_error_set(err, PREFREC_E_INVAL, "the member's secret is missing");
    }
    if (!s) s = prefrec_records_open(records, code, kind, secret, n, out, h, err);
    memset(secret, 0, sizeof secret);
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
        s = cli_read_hex_file(key_path, master, 32, &err);
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
