/* fuzz_json.c - libFuzzer target for the JSON inputs a user hands the native tool:
 *   - the score config (prefrec_score_params_parse_json, then prefrec_score_params_check);
 *   - the generic-layout mapping file (prefrec_dataset_load on a mapping .json).
 * The input is the JSON text, optionally followed by a line "#CSV" and the text of a CSV file
 * written as fz.csv beside it, so a mapping may point at fuzzed data as well as at the fixed
 * fixtures (tx.csv, products.csv, demo.csv from tests/data/mapping_small, copied at start).
 * Mappings whose "path" values hold a '/' are skipped: the harness only lets them name files in
 * its own directory (a mapping naming /dev/zero is the user's choice, see SECURITY.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "prefrec/native/dataset.h"
#include "prefrec/native/score.h"

#ifndef FUZZ_FIXTURES
#error "FUZZ_FIXTURES must name tests/data/mapping_small"
#endif

static char g_dir[64];

static void write_file(const char *path, const void *d, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (n && fwrite(d, 1, n, fp) != n) abort();
    fclose(fp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    snprintf(g_dir, sizeof g_dir, "/tmp/prefrec-fuzz-json.%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/tx.csv %s/products.csv %s/demo.csv %s/", g_dir,
             FUZZ_FIXTURES, FUZZ_FIXTURES, FUZZ_FIXTURES, g_dir);
    if (system(cmd)) abort();
    return 0;
}

/* 1 if every string member named "path" anywhere in the tree is a plain file name. */
static int paths_local(const cJSON *c) {
    for (; c; c = c->next) {
        if (c->string && !strcmp(c->string, "path") && cJSON_IsString(c) &&
            strchr(c->valuestring, '/'))
            return 0;
        if (c->child && !paths_local(c->child)) return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    const char *text = (const char *)data;
    size_t jlen = size;
    const char *csv = NULL;
    size_t csv_len = 0;
    for (size_t i = 0; i + 5 <= size; i++)
        if (!memcmp(text + i, "\n#CSV\n", i + 6 <= size ? 6 : 0) && i + 6 <= size) {
            jlen = i;
            csv = text + i + 6;
            csv_len = size - i - 6;
            break;
        }

    /* score config */
    prefrec_score_params p = prefrec_score_default_params(), before = p;
    prefrec_error err = {0};
    prefrec_status st = prefrec_score_params_parse_json(text, jlen, "fuzz.json", &p, &err);
    if (st != PREFREC_OK) {
        if (!err.msg[0] || memcmp(&p, &before, sizeof p)) __builtin_trap(); /* *p unchanged */
    } else {
        memset(&err, 0, sizeof err);
        if (prefrec_score_params_check(&p, &err) != PREFREC_OK && !err.msg[0]) __builtin_trap();
    }

    /* mapping */
    cJSON *root = cJSON_ParseWithLengthOpts(text, jlen, NULL, 0);
    int ok = !root || paths_local(root);
    cJSON_Delete(root);
    if (!ok) return 0;
    char path[128];
    snprintf(path, sizeof path, "%s/fz.csv", g_dir);
    write_file(path, csv ? csv : "", csv_len);
    snprintf(path, sizeof path, "%s/mapping.json", g_dir);
    write_file(path, text, jlen);
    for (int skip = 0; skip < 2; skip++) {
        prefrec_load_params lp = prefrec_load_default_params();
        lp.skip_bad_rows = skip;
        lp.progress = 0;
        prefrec_dataset *ds = NULL;
        memset(&err, 0, sizeof err);
        st = prefrec_dataset_load(path, &lp, &ds, &err);
        if (st != PREFREC_OK && (ds != NULL || !err.msg[0])) __builtin_trap();
        if (st == PREFREC_OK)
            for (size_t i = 0; i < ds->n_rows; i++)
                if (ds->customer[i] < 0 || ds->customer[i] >= prefrec_dict_size(ds->customers) ||
                    ds->product[i] < 0 || ds->product[i] >= prefrec_dict_size(ds->products))
                    __builtin_trap();
        prefrec_dataset_free(ds);
    }
    return 0;
}
