/* bench/train_kernel.c - the NeuMF trainer's forward+backward pass (nm_chunk, src/train/neumf.c)
 * alone, for each kernel path this CPU runs: GFLOP/s of the dense products (the flops counted
 * by nm_flops_per_pair) against the measured peak (bench_peak).
 *   build/native/bench_train_kernel [--dim 32] [--layers 64,32] [--seconds 1] [--kernel K]
 *                                   [--threads T] [--flops]
 * --kernel times that path alone (portable, avx2, avx512; a profiler sees one path); --flops
 * only prints the dense-product flops per training pair of that shape (bench/train.sh uses it
 * for the roofline line). Random pairs over 12,000 customers x 1,200 products (the demo's A01
 * at scale 1), chunks of NM_CHUNK pairs as the trainer cuts them; the best of 3 runs.
 * One thread (the default) is timed by the thread's CPU clock, so a busy machine disturbs it
 * less. --threads T runs T threads at once, each over its own chunks with its own gradient
 * buffers and the model shared read-only (the trainer's chunk phase without its step), timed
 * by the wall clock from a common start: the kernels' rate on T cores, against the T-thread
 * peak. */
#include <pthread.h>
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

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One thread's share of a --threads run: chunks [lo, hi) of the pairs, over and over, until
 * the common deadline; pairs counts what it did. */
typedef struct kjob {
    const nm_net *n;
    const int32_t *cust, *prod;
    const float *target;
    const uint32_t *idx;
    size_t lo, hi, pairs;
    double until;
    float *gd, *gc, *gp, *scratch;
    pthread_barrier_t *go;
} kjob;

static void *kjob_run(void *arg) {
    kjob *j = arg;
    size_t nd = j->n->L.n_dense;
    pthread_barrier_wait(j->go);
    do {
        for (size_t lo = j->lo; lo + NM_CHUNK <= j->hi; lo += NM_CHUNK) {
            double sse;
            memset(j->gd, 0, nd * sizeof(float));
            nm_chunk(j->n, j->cust, j->prod, j->target, j->idx + lo, NM_CHUNK, 1.0f / 256, j->gd,
                     j->gc, j->gp, j->scratch, &sse);
            j->pairs += NM_CHUNK;
        }
    } while (wall_s() < j->until);
    return NULL;
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
    int threads = 1;
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
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
            if (threads < 1 || threads > 256) nl = -1;
        } else if (strcmp(argv[i], "--flops") == 0)
            flops_only = 1;
        else
            nl = -1;
    }
    if (nl < 1 || dim < 1 || dim > 1024 || !(seconds > 0)) {
        fprintf(stderr,
                "usage: bench_train_kernel [--dim 32] [--layers 64,32] [--seconds 1] [--kernel "
                "portable|avx2|avx512] "
                "[--threads T] [--flops]\n");
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
    size_t per = L.n_dense + 2 * NM_CHUNK * D + nm_scratch_size(&L) + 16; /* floats per thread */
    float *buf = malloc((size_t)threads * per * sizeof(float));
    float *gd = buf, *gc = buf + L.n_dense, *gp = gc + NM_CHUNK * D, *scratch = gp + NM_CHUNK * D;
    if (!cust || !prod || !target || !idx || !gender || !age || !buf) {
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
    printf(", %d pairs per chunk, %.0f flops per pair (dense products), %d thread%s\n", NM_CHUNK,
           fpp, threads, threads > 1 ? "s at once (wall clock)" : "");
    for (int k = 0; k < NM_KERN_COUNT; k++) {
        if (only >= 0 && k != only) continue;
        if (nm_kernel_set(&n, k)) {
            printf("%-9s not supported by this CPU\n", nm_kernel_name(k));
            continue;
        }
        double best = 0.0;
        for (int rep = 0; rep < 3 && threads > 1; rep++) {
            pthread_t th[256];
            kjob jobs[256];
            pthread_barrier_t go;
            pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
            int started = 0;
            double t0 = wall_s() + 0.01;
            for (int t = 0; t < threads; t++) {
                float *b = buf + (size_t)t * per;
                jobs[t] = (kjob){&n,
                                 cust,
                                 prod,
                                 target,
                                 idx,
                                 N * (size_t)t / (size_t)threads,
                                 N * (size_t)(t + 1) / (size_t)threads,
                                 0,
                                 t0 + seconds / 3,
                                 b,
                                 b + L.n_dense,
                                 b + L.n_dense + NM_CHUNK * D,
                                 b + L.n_dense + 2 * NM_CHUNK * D,
                                 &go};
                if (pthread_create(&th[t], NULL, kjob_run, &jobs[t]) == 0)
                    started++;
                else
                    break;
            }
            if (started < threads) {
                fprintf(stderr, "bench_train_kernel: could not start %d threads\n", threads);
                return 1;
            }
            t0 = wall_s();
            for (int t = 0; t < threads; t++) jobs[t].until = t0 + seconds / 3;
            pthread_barrier_wait(&go);
            size_t pairs = 0;
            for (int t = 0; t < threads; t++) {
                pthread_join(th[t], NULL);
                pairs += jobs[t].pairs;
            }
            double g = fpp * (double)pairs / (wall_s() - t0) * 1e-9;
            pthread_barrier_destroy(&go);
            if (g > best) best = g;
        }
        for (int rep = 0; rep < 3 && threads == 1; rep++) {
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
        printf("%-9s %8.1f GFLOP/s  %8.0f ns per pair%s\n", nm_kernel_name(k), best,
               fpp / best * threads, threads > 1 ? " per thread" : "");
    }
    nm_net_free(&n);
    free(cust), free(prod), free(target), free(idx), free(gender), free(age);
    free(buf);
    return 0;
}
