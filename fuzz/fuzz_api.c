#define _GNU_SOURCE /* memmem */
/* fuzz_api.c - libFuzzer target for the JSON request parser (prefrec_api_handle_n) over two
 * fixed, valid engines built from tests/tiny_pack.h: "A01" (NeuMF + blend, 3 customers) and
 * "A02" (NeuMF only, same catalog). The request bytes are not NUL-terminated (the exact
 * libFuzzer buffer), so a read past the end is an ASan error. Every answer must be a JSON
 * object with a boolean "ok" and, when false, an error with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "prefrec/api.h"
#include "tiny_pack.h"

static unsigned char *g_bytes[2];
static prefrec_pack *g_pack[2];
static prefrec_engine *g_eng[2];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    size_t len[2];
    g_bytes[0] = tiny_pack(&len[0], 2);
    g_bytes[1] = tiny_pack(&len[1], 0);
    /* second engine: affiliate A02 (same manifest length, CRC rewritten) */
    unsigned char *a = memmem(g_bytes[1], len[1], "\"A01\"", 5);
    if (!a) abort();
    a[3] = '2';
    tb_fix_crc(g_bytes[1], len[1]);
    prefrec_error err = {0};
    for (int i = 0; i < 2; i++)
        if (prefrec_pack_open(g_bytes[i], len[i], &g_pack[i], &err) ||
            prefrec_engine_new(g_pack[i], NULL, &g_eng[i], &err)) {
            fprintf(stderr, "fuzz_api: %s\n", err.msg);
            abort();
        }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    const prefrec_engine *es[2] = {g_eng[0], g_eng[1]};
    for (size_t n = 1; n <= 2; n++) {
        char *out = prefrec_api_handle_n(es, n, (const char *)data, size);
        if (!out) __builtin_trap();
        cJSON *o = cJSON_Parse(out);
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
        if (!o || !cJSON_IsBool(ok)) __builtin_trap();
        if (cJSON_IsFalse(ok)) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
            if (!cJSON_IsString(m) || !m->valuestring[0]) __builtin_trap();
        }
        cJSON_Delete(o);
        prefrec_api_free(out);
    }
    return 0;
}
