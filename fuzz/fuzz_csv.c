/* fuzz_csv.c - libFuzzer target for the CSV reader (src/data/csv.c) and the L.POINT row parser.
 *
 * Each input is read three ways and the results must agree:
 *   1. prefrec_csv_open_mem over the exact libFuzzer buffer (ASan sees any read past its end);
 *   2. prefrec_csv_open on the same bytes in a file, with a tiny block size (64..1087 bytes,
 *      chosen by the input) so records straddle refills and the buffer grows;
 * the record stream (field count, field bytes, line numbers, status, recoverability) is hashed
 * for both and the hashes must be equal. Then the input is loaded as the purchases file
 * (LPOINT_BIG_COMP_02_PDDE.csv) of an L.POINT directory beside fixed demographics and catalog
 * files, strict and with skip_bad_rows: it must load or be refused with a message (only inputs
 * starting with "cust", the header's first column, to keep the other runs fast; none at all with
 * PREFREC_FUZZ_CSV_READER_ONLY=1 set, for long runs of the reader alone). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prefrec/native/csv.h"
#include "prefrec/native/dataset.h"

static char g_dir[64];

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDull;
}

static uint64_t stream_hash(prefrec_csv *r) {
    prefrec_error err;
    uint64_t h = 1;
    for (int guard = 0; guard < 1000000; guard++) {
        memset(&err, 0, sizeof err);
        int st = prefrec_csv_next(r, &err);
        h = mix(h, (uint64_t)(int64_t)st);
        if (st == 1) {
            size_t nf = prefrec_csv_nfields(r);
            const prefrec_csv_field *f = prefrec_csv_fields(r);
            h = mix(h, nf);
            h = mix(h, prefrec_csv_line(r));
            for (size_t i = 0; i < nf; i++) {
                h = mix(h, f[i].len);
                for (size_t k = 0; k < f[i].len; k++) h = mix(h, (unsigned char)f[i].p[k]);
            }
            /* an error message for the last field must be formattable */
            prefrec_csv_errorf(r, nf ? nf - 1 : 0, &err, PREFREC_E_PARSE, "x");
            if (!err.msg[0]) __builtin_trap();
            continue;
        }
        if (st == 0) break;
        if (!err.msg[0]) __builtin_trap(); /* every error has a message */
        h = mix(h, (uint64_t)prefrec_csv_recoverable(r));
        if (!prefrec_csv_recoverable(r)) break;
    }
    return h;
}

static void write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (n && fwrite(d, 1, n, fp) != n) abort();
    fclose(fp);
}

static const char DEMO[] = "cust,ma_fem_dv,ages,zon_hlv\nM1,여성,30대,Z01\nM2,남성,20대,Z02\n";
static const char CLAC[] =
    "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,a,식품,과일\nPD0002,b,식품,채소\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    snprintf(g_dir, sizeof g_dir, "/tmp/prefrec-fuzz-csv.%d", (int)getpid());
    char path[128];
    snprintf(path, sizeof path, "mkdir -p %s", g_dir);
    if (system(path)) abort();
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_01_DEMO.csv", g_dir);
    write_file(path, (const uint8_t *)DEMO, sizeof DEMO - 1);
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_04_PD_CLAC.csv", g_dir);
    write_file(path, (const uint8_t *)CLAC, sizeof CLAC - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    prefrec_csv_params p = prefrec_csv_default_params();
    size_t block = 64 + (size ? data[0] % 16 : 0) * 64 + (size > 1 ? data[1] % 64 : 0);
    p.block_size = block;
    prefrec_csv *r = NULL;
    prefrec_error err = {0};
    if (prefrec_csv_open_mem((const char *)data, size, "fuzz.csv", &p, &r, &err)) __builtin_trap();
    uint64_t a = stream_hash(r);
    prefrec_csv_close(r);

    char path[128];
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_02_PDDE.csv", g_dir);
    write_file(path, data, size);
    if (prefrec_csv_open(path, &p, &r, &err)) __builtin_trap();
    uint64_t b = stream_hash(r);
    prefrec_csv_close(r);
    if (a != b) {
        fprintf(stderr, "memory and file readers disagree (block %zu)\n", block);
        __builtin_trap();
    }

    /* the loader costs ~50 ms a run under ASan (it opens three files with 4 MiB buffers): only
     * inputs that start like a purchases file (all seeds do) go through it */
    if (size < 4 || memcmp(data, "cust", 4) || getenv("PREFREC_FUZZ_CSV_READER_ONLY")) return 0;
    for (int skip = 0; skip < 2; skip++) {
        prefrec_load_params lp = prefrec_load_default_params();
        lp.skip_bad_rows = skip;
        lp.progress = 0;
        prefrec_dataset *ds = NULL;
        memset(&err, 0, sizeof err);
        prefrec_status st = prefrec_dataset_load(g_dir, &lp, &ds, &err);
        if (st != PREFREC_OK && (ds != NULL || !err.msg[0])) __builtin_trap();
        if (st == PREFREC_OK) {
            for (size_t i = 0; i < ds->n_rows; i++)
                if (ds->customer[i] < 0 || ds->customer[i] >= prefrec_dict_size(ds->customers) ||
                    ds->product[i] < 0 || ds->product[i] >= prefrec_dict_size(ds->products))
                    __builtin_trap();
        }
        prefrec_dataset_free(ds);
    }
    return 0;
}
