/* bench/train_kernel.c - the NeuMF trainer's forward+backward pass (nm_chunk, src/train/neumf.c)
 * alone, on one thread, for each kernel path this CPU runs: GFLOP/s of the dense products
 * (the flops counted by nm_flops_per_pair) against the measured peak of one thread.
 *   build/native/bench_train_kernel [--dim 32] [--layers 64,32] [--seconds 1] [--kernel K] [--flops]
 * --kernel times that path alone (portable, avx2, avx512; a profiler sees one path); --flops only prints the dense-product flops per training pair of that shape (bench/train.sh
 * uses it for the roofline line). Random pairs over 12,000 customers x 1,200 products (the
 * demo's A01 at scale 1), chunks of NM_CHUNK pairs as the trainer cuts them; the best of 3
 * runs, timed by the thread's CPU clock so a busy machine disturbs it less. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/train/neumf.h"
#include "prefrec/rng.h"

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_layers(const char *s, int *w) {
    int n = 0;
    while (*s && n < PREFREC_MODEL_MAX_LAYERS) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 4096) return -1;
        w[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return *s ? -1 : n;
}

int main(int argc, char **argv) {
    int dim = 32, width[PREFREC_MODEL_MAX_LAYERS] = {64, 32}, nl = 2, flops_only = 0, only = -1;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc)
            dim = atoi(argv[++i]);
        else if (strcmp(argv[i], "--layers") == 0 && i + 1 < argc)
            nl = parse_layers(argv[++i], width);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) {
            const char *k = argv[++i];
            for (int j = 0; j < NM_KERN_COUNT; j++)
                if (strcmp(k, nm_kernel_name(j)) == 0) only = j;
            if (only < 0) nl = -1;
        } else if (strcmp(argv[i], "--flops") == 0)
            flops_only = 1;
        else
            nl = -1;
    }
    if (nl < 1 || dim < 1 || dim > 1024 || !(seconds > 0)) {
        fprintf(stderr,
                "usage: bench_train_kernel [--dim 32] [--layers 64,32] [--seconds 1] [--kernel "
                "portable|avx2|avx512] "
                "[--flops]\n");
        return 2;
    }
    nm_layout L;
    nm_layout_init(&L, dim, nl, width);
    double fpp = nm_flops_per_pair(&L);
    if (flops_only) {
        printf("%.0f\n", fpp);
        return 0;
    }
    const int32_t C = 12000, P = 1200;
    const size_t N = 1 << 16;
    int32_t *cust = malloc(N * sizeof *cust), *prod = malloc(N * sizeof *prod);
    float *target = malloc(N * sizeof *target);
    uint32_t *idx = malloc(N * sizeof *idx);
    int8_t *gender = malloc((size_t)C);
    float *age = malloc((size_t)C * sizeof *age);
    size_t D = (size_t)dim + 1;
    float *gd = malloc(L.n_dense * sizeof(float)), *gc = malloc(NM_CHUNK * D * sizeof(float)),
          *gp = malloc(NM_CHUNK * D * sizeof(float)),
          *scratch = malloc(nm_scratch_size(&L) * sizeof(float));
    if (!cust || !prod || !target || !idx || !gender || !age || !gd || !gc || !gp || !scratch) {
        fprintf(stderr, "bench_train_kernel: out of memory\n");
        return 1;
    }
    prefrec_rng r;
    prefrec_rng_init(&r, 7, 1);
    for (int32_t c = 0; c < C; c++) {
        gender[c] = (int8_t)((int)prefrec_rng_below(&r, 3) - 1);
        age[c] = 20.0f + (float)prefrec_rng_below(&r, 50);
    }
    for (size_t i = 0; i < N; i++) {
        cust[i] = (int32_t)prefrec_rng_below(&r, (uint32_t)C);
        prod[i] = (int32_t)prefrec_rng_below(&r, (uint32_t)P);
        target[i] = (float)prefrec_rng_below(&r, 500) / 100.0f;
        idx[i] = (uint32_t)i;
    }
    nm_net n;
    prefrec_error err = {0};
    if (nm_net_alloc(&n, &L, C, P, gender, age, &err)) {
        fprintf(stderr, "bench_train_kernel: %s\n", err.msg);
        return 1;
    }
    n.l2 = 0.1f;
    nm_net_init(&n, 1, 0.05f, 2.5f);
    printf("nm_chunk: dim %d, mlp", dim);
    for (int l = 0; l < nl; l++) printf("%s%d", l ? "," : " ", width[l]);
    printf(", %d pairs per chunk, %.0f flops per pair (dense products), 1 thread\n", NM_CHUNK, fpp);
    for (int k = 0; k < NM_KERN_COUNT; k++) {
        if (only >= 0 && k != only) continue;
        if (nm_kernel_set(&n, k)) {
            printf("%-9s not supported by this CPU\n", nm_kernel_name(k));
            continue;
        }
        double best = 0.0;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = cpu_s(), t = 0.0;
            size_t pairs = 0;
            do {
                for (size_t lo = 0; lo + NM_CHUNK <= N; lo += NM_CHUNK) {
                    double sse;
                    memset(gd, 0, L.n_dense * sizeof(float));
                    nm_chunk(&n, cust, prod, target, idx + lo, NM_CHUNK, 1.0f / 256, gd, gc, gp,
                             scratch, &sse);
                    pairs += NM_CHUNK;
                }
                t = cpu_s() - t0;
            } while (t < seconds / 3);
            double g = fpp * (double)pairs / t * 1e-9;
            if (g > best) best = g;
        }
        printf("%-9s %8.1f GFLOP/s  %8.0f ns per pair\n", nm_kernel_name(k), best, fpp / best);
    }
    nm_net_free(&n);
    free(cust), free(prod), free(target), free(idx), free(gender), free(age);
    free(gd), free(gc), free(gp), free(scratch);
    return 0;
}
