/* budget.c - how much of the allocation budget (prefrec/budget.h) packs use: for generated packs
 * of realistic and extreme sizes (tests/big_pack.h) and for pack files given on the command
 * line, the pack's bytes, the budget, the engine's computed need (prefrec_engine_need) and its
 * scoring work, and, for those within the budget, the resident memory the engine really added
 * (VmRSS before and after prefrec_engine_new, Linux; each generated pack in a process of its
 * own, so that memory freed by the one before does not hide it) and the time to build it, and
 * the longest purchase history a fold-in may take with that model (the API allows 100,000).
 *   build/native/bench_budget [ITEM.pack[:SHARD.pack] ...]
 *   build/native/bench_budget models/sample/A01.item.pack:models/sample/A01.cust.000.pack */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BP_MAX_FILE ((uint64_t)256 << 20)
#include "../tests/big_pack.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    if (f) fclose(f);
    return v;
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = b ? (size_t)n : 0;
    return b;
}

static void report(const char *name, unsigned char *b, size_t len, unsigned char *cb, size_t clen) {
    prefrec_pack *pk = NULL, *cp = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    if (prefrec_pack_open(b, len, &pk, &err) || (cb && prefrec_pack_open(cb, clen, &cp, &err))) {
        printf("%-44s %s\n", name, err.msg);
        goto done;
    }
    uint64_t need = 0, bytes = len + clen;
    prefrec_model_cost c;
    if (prefrec_engine_need(pk, cp, &need, &c, &err)) {
        printf("%-44s %s\n", name, err.msg);
        goto done;
    }
    uint64_t budget = prefrec_budget_bytes(NULL, bytes);
    printf(
        "%-44s pack %6.1f MiB  budget %5.1f MiB  need %7.1f MiB (%6.1f%%)  work %.3g (%4.1f%%)  "
        "fold-in <= %llu",
        name, bytes / 1048576.0, budget / 1048576.0, need / 1048576.0,
        100.0 * (double)need / (double)budget, (double)c.score_work,
        100.0 * (double)c.score_work / (double)PREFREC_BUDGET_MAX_WORK,
        (unsigned long long)((PREFREC_BUDGET_MAX_FOLD_WORK - c.fold_work_base) / c.fold_work_item));
    long r0 = rss_kib();
    double t0 = now();
    prefrec_status s = prefrec_engine_new(pk, cp, &e, &err);
    double t1 = now();
    long r1 = rss_kib();
    if (s)
        printf("  refused in %.3f s (%d)\n", t1 - t0, s);
    else
        printf("  built in %.3f s, RSS +%.1f MiB\n", t1 - t0, (r1 - r0) / 1024.0);
done:
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    prefrec_pack_free(cp);
}

static void generated(const char *name, bp_model m) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid > 0) {
        int st;
        waitpid(pid, &st, 0);
        return;
    }
    size_t len = 0;
    unsigned char *b = bp_item_pack(&m, &len);
    if (!b) {
        printf("%-44s could not generate (over %llu bytes?)\n", name,
               (unsigned long long)BP_MAX_FILE);
        return;
    }
    report(name, b, len, NULL, 0);
    free(b);
    if (pid == 0) {
        fflush(stdout);
        _exit(0);
    }
}

int main(int argc, char **argv) {
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            char item[4096], *shard;
            snprintf(item, sizeof item, "%s", argv[i]);
            if ((shard = strchr(item, ':'))) *shard++ = 0;
            size_t len = 0, clen = 0;
            unsigned char *b = read_all(item, &len), *cb = shard ? read_all(shard, &clen) : NULL;
            if (!b || (shard && !cb))
                printf("%-44s cannot read\n", argv[i]);
            else
                report(argv[i], b, len, cb, clen);
            free(b);
            free(cb);
        }
        return 0;
    }
    bp_model m = bp_model_default();
    m.products = 100000, m.dim = 64, m.n_layers = 3, m.width[0] = 64, m.width[1] = 32,
    m.width[2] = 16;
    m.categories = 60, m.subcategories = 349, m.neighbors = 10;
    generated("100000 x dim 64, 64/32/16, blend 10", m);
    m.dim = 32, m.n_layers = 2, m.width[0] = 64, m.width[1] = 32, m.width[2] = 0;
    generated("100000 x dim 32, 64/32 (train's defaults)", m);
    m.neighbors = 0, m.dim = 8;
    generated("100000 x dim 8, 64/32, no blend", m);
    m = bp_model_default();
    m.products = 300000, m.dim = 1, m.width[0] = 4096;
    generated("review: 300000 x dim 1, 4096", m);
    m.products = 262144;
    generated("262144 x dim 1, 4096 (P x h1 x 4 = 2^32)", m);
    return 0;
}
