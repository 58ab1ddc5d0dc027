/* lists.c - request time of the three list kinds in the portable engine (native), for members
 * served from their sealed records, as a kiosk or page serves them: the record is opened once
 * per member (its cost printed apart), then each list is asked for `reps` times.
 *   build/native/bench_lists ITEM_PACK RECORDS_DIR TOKEN_KEY_FILE DATA_DIR [members 200] [reps 20]
 * (bench/lists.sh makes the inputs at the demo scale and runs this). Prints, per list kind, the
 * median and 90th percentile microseconds per top-30 request over the members, and the mean
 * length of the lists. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/file.h"
#include "host/records.h"
#include "prefrec/engine.h"
#include "prefrec/member.h"
#include "prefrec/native/dataset.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr,
                "usage: bench_lists ITEM_PACK RECORDS_DIR TOKEN_KEY_FILE DATA_DIR "
                "[members 200] [reps 20]\n");
        return 2;
    }
    int want = argc > 5 ? atoi(argv[5]) : 200, reps = argc > 6 ? atoi(argv[6]) : 20;
    prefrec_error err = {0};
    char *bytes = NULL, *key = NULL;
    size_t len = 0, kl = 0;
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    uint8_t master[32];
    if (prefrec_file_read(argv[1], PREFREC_PACK_FILE_MAX, &bytes, &len, &err) ||
        prefrec_pack_open(bytes, len, &pk, &err) || prefrec_engine_new(pk, NULL, &e, &err) ||
        prefrec_file_read(argv[3], 4096, &key, &kl, &err)) {
        fprintf(stderr, "bench_lists: %s\n", err.msg);
        return 1;
    }
    key[kl > 64 ? 64 : kl] = 0;
    if (prefrec_unhex(key, master, 32)) {
        fprintf(stderr, "bench_lists: %s: not 64 hex digits\n", argv[3]);
        return 1;
    }
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(argv[4], &lp, &ds, &err)) {
        fprintf(stderr, "bench_lists: %s\n", err.msg);
        return 1;
    }
    const char *aff = prefrec_engine_affiliate(e);
    int32_t n_cust = prefrec_dict_size(ds->customers);
    double *t[3], open_s = 0;
    for (int l = 0; l < 3; l++) t[l] = malloc((size_t)want * sizeof **t);
    double items[3] = {0, 0, 0};
    int members = 0;
    int32_t stride = n_cust / want > 1 ? n_cust / want : 1;
    for (int32_t c = 0; c < n_cust && members < want; c += stride) {
        const char *code = prefrec_dict_str(ds->customers, c);
        uint8_t token[16];
        prefrec_member_state *m = NULL;
        prefrec_member_header h;
        prefrec_member_token(master, code, strlen(code), token, &err);
        double t0 = now();
        if (prefrec_records_open(argv[2], code, PREFREC_MEMBER_KIND_TOKEN, token, 16, &m, &h, &err))
            continue; /* no record (no purchase in the export's affiliates) */
        open_s += now() - t0;
        const prefrec_member_aff *part = NULL;
        for (uint32_t a = 0; a < m->n_aff; a++)
            if (!strcmp(m->aff[a].affiliate, aff)) part = &m->aff[a];
        if (!part || !part->n_items) {
            prefrec_member_state_free(m);
            continue;
        }
        for (int l = 0; l < 3; l++) {
            prefrec_request rq = prefrec_request_default();
            rq.list = l;
            rq.member = part;
            rq.gender = m->gender;
            rq.age = m->age;
            prefrec_response rs;
            double t1 = now();
            for (int r = 0; r < reps; r++)
                if (prefrec_engine_recommend(e, &rq, &rs, &err)) {
                    fprintf(stderr, "bench_lists: %s: %s\n", code, err.msg);
                    return 1;
                }
            t[l][members] = (now() - t1) / reps * 1e6;
            items[l] += rs.n;
        }
        members++;
        prefrec_member_state_free(m);
    }
    static const char *const names[3] = {"discover", "buy_again", "mixed"};
    printf("bench_lists: %s, %d products, %d members (records opened in %.1f us each: token "
           "derivation, XChaCha20-Poly1305, decode), %d requests each, k = 30\n",
           aff, prefrec_engine_n_products(e), members, members ? open_s / members * 1e6 : 0.0,
           reps);
    for (int l = 0; l < 3 && members; l++) {
        qsort(t[l], (size_t)members, sizeof **t, cmp_d);
        printf("  %-10s median %8.1f us   p90 %8.1f us   mean list %.1f items\n", names[l],
               t[l][members / 2], t[l][members * 9 / 10], items[l] / members);
    }
    for (int l = 0; l < 3; l++) free(t[l]);
    prefrec_dataset_free(ds);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    free(key);
    return 0;
}
