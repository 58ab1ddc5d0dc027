/* bench/member.c - what opening a sealed member record costs (SECURITY.md, "Brute-force cost
 * of a PIN"): a token record (one HMAC-SHA-256 key derivation + XChaCha20-Poly1305) and a PIN
 * record (Argon2id at the sealer's default cost, 3 passes over 64 MiB, or the cost given).
 *   build/native/bench_member [--pin-runs 5] [--token-runs 20000] [--ops 3] [--mem-kib 65536]
 * Prints the 1-minute load average beside the figures (a busy machine slows Argon2 most). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/member.h"
#include "prefrec/native/member_seal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double load1(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long pin_runs = 5, token_runs = 20000, ops = 3, mem_kib = 65536;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--pin-runs"))
            pin_runs = v;
        else if (!strcmp(argv[i], "--token-runs"))
            token_runs = v;
        else if (!strcmp(argv[i], "--ops"))
            ops = v;
        else if (!strcmp(argv[i], "--mem-kib"))
            mem_kib = v;
        else {
            fprintf(stderr,
                    "usage: bench_member [--pin-runs 5] [--token-runs 20000] [--ops 3] "
                    "[--mem-kib 65536]\n");
            return 2;
        }
    }
    if (pin_runs < 1 || pin_runs > 1000 || token_runs < 1) {
        fprintf(stderr, "bench_member: runs out of range\n");
        return 2;
    }
    /* a member state of 40 products in one affiliate, as a middle-sized demo member */
    static const int32_t days[2] = {19000, 19030};
    prefrec_member_item items[40];
    for (int i = 0; i < 40; i++) items[i] = (prefrec_member_item){(uint32_t)(3 * i), 2, 2, days};
    prefrec_member_aff aff = {0};
    memcpy(aff.affiliate, "A01", 4);
    aff.n_items = 40;
    aff.items = items;
    prefrec_member_state st = {0};
    memcpy(st.code, "M000000001", 11);
    st.gender = 1;
    st.age = 35.0f;
    st.n_aff = 1;
    st.aff = &aff;
    prefrec_error err = {0};
    uint8_t *payload = NULL, *rec = NULL, *out = NULL;
    size_t pn = 0, rn = 0, on = 0;
    if (prefrec_member_state_encode(&st, &payload, &pn, &err)) {
        fprintf(stderr, "bench_member: %s\n", err.msg);
        return 1;
    }
    uint8_t token[16] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    prefrec_member_seal_params sp = {
        .kind = PREFREC_MEMBER_KIND_TOKEN, .issued_day = 19031, .token = token, .token_len = 16};
    if (prefrec_member_random(sp.export_id, 16, &err) ||
        prefrec_member_random(sp.member_kid, 16, &err) ||
        prefrec_member_seal(&sp, payload, pn, &rec, &rn, &err)) {
        fprintf(stderr, "bench_member: %s\n", err.msg);
        return 1;
    }
    printf("bench_member: load average %.2f at the start; record %zu bytes (payload %zu)\n",
           load1(), rn, pn);
    double t0 = now_s();
    for (long r = 0; r < token_runs; r++) {
        if (prefrec_member_open_token(rec, rn, sp.export_id, sp.member_kid, token, 16, &out, &on,
                                      &err)) {
            fprintf(stderr, "bench_member: %s\n", err.msg);
            return 1;
        }
        prefrec_member_wipe_free(out, on);
    }
    printf("token open: %.2f us per record (%ld opens)\n", (now_s() - t0) / token_runs * 1e6,
           token_runs);
    free(rec);
    sp.kind = PREFREC_MEMBER_KIND_PIN;
    sp.token = NULL;
    sp.token_len = 0;
    sp.pin = "482916";
    sp.pin_len = 6;
    sp.pin_ops = (uint32_t)ops;
    sp.pin_mem_kib = (uint32_t)mem_kib;
    if (prefrec_member_seal(&sp, payload, pn, &rec, &rn, &err)) {
        fprintf(stderr, "bench_member: %s\n", err.msg);
        return 1;
    }
    double *t = malloc((size_t)pin_runs * sizeof *t);
    if (!t) return 1;
    for (long r = 0; r < pin_runs; r++) {
        double a = now_s();
        if (prefrec_member_open_pin(rec, rn, sp.export_id, sp.member_kid, "482916", 6, &out, &on,
                                    &err)) {
            fprintf(stderr, "bench_member: %s\n", err.msg);
            return 1;
        }
        t[r] = now_s() - a;
        prefrec_member_wipe_free(out, on);
    }
    qsort(t, (size_t)pin_runs, sizeof *t, cmp_d);
    printf("PIN open (Argon2id %ld passes x %ld KiB): median %.0f ms, min %.0f ms (%ld opens); "
           "load average %.2f at the end\n",
           ops, mem_kib, t[pin_runs / 2] * 1e3, t[0] * 1e3, pin_runs, load1());
    free(t);
    free(rec);
    prefrec_member_wipe_free(payload, pn);
    return 0;
}
