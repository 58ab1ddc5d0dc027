/* kiosk.c - prefrec-kiosk, the WASI command module for in-store kiosks: model packs and a JSON
 * request in, the JSON response out (docs/engine.md). The same prefrec_api_handle as the
 * browser shim and `prefrec recommend|plan --json`, so all three answer alike.
 *
 *   prefrec-kiosk --pack DIR [--request FILE|-]          one request (default: stdin)
 *   prefrec-kiosk --pack A01.item.pack --customers A01.cust.003.pack --request q.json
 *   prefrec-kiosk --pack DIR --lines                      one request per stdin line, one
 *                                                         response line each (stays loaded)
 *   prefrec-kiosk --pack DIR --info                       what is loaded, as JSON
 *   prefrec-kiosk --pack DIR --records REC --lines        members sign in per request:
 *     {"member": {"code": "M000034966", "token": "<32 hex>"}, "list": "buy_again", ...}
 *     or {"member": {"code": ..., "pin": "1234"}}: the member's sealed record REC/<kid>.rec is
 *     opened with their card token or PIN (SECURITY.md) and the request served for them
 * Run it under any WASI runtime that grants the pack folder, e.g. node:
 *   node scripts/wasi-run.mjs build/wasi/prefrec-kiosk.wasm --pack "$PWD/models" --request -
 * (paths resolve against the runtime's preopened directories; wasi-run.mjs maps "/" to the
 * host root and Debian's wasi-libc resolves relative paths from "/", so give absolute ones).
 *
 * Every failure, bad packs included, is a JSON error on stdout,
 * {"ok":false,"error":{"code","status","message"}}, and exit status 1 (2 for bad usage);
 * nothing traps. Packs are read whole into memory once; no globals. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prefrec/api.h"
#include "prefrec/engine.h"
#include "prefrec/pack.h"
#include "host/file.h"
#include "host/packset.h"
#include "host/records.h"

#include <cjson/cJSON.h>

#define KIOSK_MAX_REQUEST (64u << 20)

static const char *usage_text =
    "usage: prefrec-kiosk --pack FILE|DIR [--pack ...] [--customers SHARD] [--request FILE|-]\n"
    "                     [--lines] [--info]\n"
    "  --pack FILE|DIR    a model pack, or a directory of them (every *.pack but customer shards)\n"
    "  --customers SHARD  customer pack or shard for the single item pack given\n"
    "  --request FILE|-   the JSON request (docs/engine.md); '-' or absent: standard input\n"
    "  --lines            serve one JSON request per input line until end of input\n"
    "  --info             print the loaded packs (affiliate, products, customers, rankers)\n"
    "  --records DIR      the export's sealed member records: a request's \"member\":\n"
    "                     {\"code\", \"token\" (32 hex) | \"pin\"} serves that member from "
    "theirs\n";

/* Write one response line to stdout, whole. A runtime may hand the module a non-blocking pipe
 * (node's WASI does when stdout is a pipe): a write then fails with EAGAIN while the reader is
 * slow, and stdio would drop the rest of the line. So: raw writes, retried after a short sleep
 * until every byte is out. Returns 0, or -1 on a real write error. */
static int emit_line(const char *text) {
    size_t n = strlen(text) + 1;
    char *buf = malloc(n);
    if (!buf) return -1;
    memcpy(buf, text, n - 1);
    buf[n - 1] = '\n';
    size_t off = 0;
    int rc = 0;
    while (off < n) {
        ssize_t w = write(1, buf + off, n - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct timespec ts = {0, 1000000}; /* 1 ms */
            nanosleep(&ts, NULL);
        } else {
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
}

static void print_error(prefrec_status s, const char *msg) {
    char *text = prefrec_api_error_json(s, msg);
    emit_line(text ? text
                   : "{\"ok\":false,\"error\":{\"code\":-2,\"status\":\"out of "
                     "memory\",\"message\":\"out of memory\"}}");
    prefrec_api_free(text);
}

/* A request's "member" ({"code", "token" | "pin"}): taken out of the request, the member's
 * record opened from the records directory. *text: the request without it (caller frees). */
static prefrec_status sign_in(const char *records, const char *req, size_t len, char **text,
                              prefrec_member_state **m, prefrec_error *err) {
    *text = NULL;
    *m = NULL;
    cJSON *root = cJSON_ParseWithLength(req, len);
    cJSON *who =
        cJSON_IsObject(root) ? cJSON_DetachItemFromObjectCaseSensitive(root, "member") : NULL;
    prefrec_status s = PREFREC_OK;
    if (who) {
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "code"));
        const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "token"));
        const char *pin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(who, "pin"));
        uint8_t token[16];
        prefrec_member_header h;
        if (!records)
            s = prefrec_error_set(err, PREFREC_E_INVAL,
                                  "request: \"member\" needs the kiosk's --records DIR");
        else if (!code || !*code || !!tok + !!pin != 1)
            s = prefrec_error_set(
                err, PREFREC_E_INVAL,
                "request: \"member\" must be {\"code\", and \"token\" or \"pin\"}");
        else if (tok && prefrec_unhex(tok, token, 16))
            s = prefrec_error_set(err, PREFREC_E_INVAL,
                                  "request: member.token must be 32 hex digits");
        else if (tok)
            s = prefrec_records_open(records, code, PREFREC_MEMBER_KIND_TOKEN, token, 16, m, &h,
                                     err);
        else
            s = prefrec_records_open(records, code, PREFREC_MEMBER_KIND_PIN, (const uint8_t *)pin,
                                     strlen(pin), m, &h, err);
        memset(token, 0, sizeof token);
        if (!s && !(*text = cJSON_PrintUnformatted(root)))
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        cJSON_Delete(who);
    }
    cJSON_Delete(root);
    return s;
}

/* Whether the request text holds the escape \u0000 (an odd run of backslashes before "u0000"):
 * cJSON would cut that string at the NUL, and sign_in's reprint would hand the engine the cut
 * string, so such a request goes to the engine as it came, which names the string. */
static int has_nul_escape(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') continue;
        size_t j = i;
        while (j < n && s[j] == '\\') j++;
        if ((j - i) % 2 && j + 5 <= n && !memcmp(s + j, "u0000", 5)) return 1;
        i = j - 1;
    }
    return 0;
}

/* Handle one request; print the response line. Returns 1 if it was ok, 0 if an error. */
static int serve(const prefrec_packset *k, const char *records, const char *req, size_t len) {
    char *text = NULL;
    prefrec_member_state *m = NULL;
    prefrec_error err = {0};
    if (!has_nul_escape(req, len) && sign_in(records, req, len, &text, &m, &err)) {
        print_error(err.status, err.msg);
        return 0;
    }
    if (text) req = text, len = strlen(text);
    char *out =
        prefrec_api_handle_member((const prefrec_engine *const *)k->engines, k->n, m, req, len);
    prefrec_member_state_free(m);
    free(text);
    if (!out) {
        print_error(PREFREC_E_NOMEM, "out of memory");
        return 0;
    }
    emit_line(out);
    int ok = !strncmp(out, "{\"ok\":true", 10);
    prefrec_api_free(out);
    return ok;
}

static void print_info(const prefrec_packset *k) {
    char *text = prefrec_api_info((const prefrec_engine *const *)k->engines, k->n);
    emit_line(text ? text : "[]");
    prefrec_api_free(text);
}

/* --lines: serve each non-empty line; returns the number of error responses. */
static size_t serve_lines(const prefrec_packset *k, const char *records) {
    size_t cap = 1 << 16, n = 0, errors = 0;
    char *line = malloc(cap);
    if (!line) {
        print_error(PREFREC_E_NOMEM, "out of memory");
        return 1;
    }
    int c;
    do {
        c = getchar();
        if (c != EOF && c != '\n') {
            if (n + 1 >= cap) {
                char *nl = cap < KIOSK_MAX_REQUEST ? realloc(line, cap * 2) : NULL;
                if (!nl) { /* too long: drop the rest of the line, answer with an error */
                    while (c != EOF && c != '\n') c = getchar();
                    print_error(PREFREC_E_RANGE, "request line too long");
                    errors++;
                    n = 0;
                    continue;
                }
                line = nl;
                cap *= 2;
            }
            line[n++] = (char)c;
            continue;
        }
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
        if (n) errors += !serve(k, records, line, n);
        n = 0;
    } while (c != EOF);
    free(line);
    return errors;
}

int main(int argc, char **argv) {
    const char *packs[PREFREC_PACKSET_MAX], *shard = NULL, *request = NULL, *records = NULL;
    size_t n_packs = 0;
    int lines = 0, info = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(o, "--lines"))
            lines = 1;
        else if (!strcmp(o, "--info"))
            info = 1;
        else if (i + 1 < argc && !strcmp(o, "--pack")) {
            if (n_packs == PREFREC_PACKSET_MAX) {
                print_error(PREFREC_E_RANGE, "too many --pack options");
                return 2;
            }
            packs[n_packs++] = argv[++i];
        } else if (i + 1 < argc && !strcmp(o, "--customers"))
            shard = argv[++i];
        else if (i + 1 < argc && !strcmp(o, "--request"))
            request = argv[++i];
        else if (i + 1 < argc && !strcmp(o, "--records"))
            records = argv[++i];
        else {
            prefrec_error e = {0}; /* (cuts a long option on a character: the line stays UTF-8) */
            prefrec_error_set(&e, PREFREC_E_INVAL,
                              "usage: unknown option or missing value: %s (--help)", o);
            print_error(e.status, e.msg);
            fputs(usage_text, stderr);
            return 2;
        }
    }
    if (!n_packs) {
        print_error(PREFREC_E_INVAL, "usage: --pack FILE|DIR is required (--help)");
        fputs(usage_text, stderr);
        return 2;
    }
    if (shard && n_packs != 1) {
        print_error(PREFREC_E_INVAL, "usage: --customers goes with exactly one --pack");
        return 2;
    }
    prefrec_packset k;
    memset(&k, 0, sizeof k);
    prefrec_error err = {0};
    int rc = 0;
    for (size_t i = 0; i < n_packs && !rc; i++)
        if (prefrec_packset_add(&k, packs[i], shard, &err)) rc = 1;
    if (rc) {
        print_error(err.status, err.msg);
    } else if (info) {
        print_info(&k);
    } else if (lines) {
        rc = serve_lines(&k, records) ? 1 : 0;
    } else {
        char *buf = NULL;
        size_t len = 0;
        prefrec_status s = request && strcmp(request, "-")
            ? prefrec_file_read(request, KIOSK_MAX_REQUEST, &buf, &len, &err)
            : prefrec_stream_read(stdin, "standard input", KIOSK_MAX_REQUEST, &buf, &len, &err);
        if (s) {
            print_error(s, err.msg);
            rc = 1;
        } else {
            rc = serve(&k, records, buf, len) ? 0 : 1;
        }
        free(buf);
    }
    prefrec_packset_free(&k);
    return rc;
}
