/* bench/peak.c - the machine's measured single-precision peak: independent FMA chains in
 * registers, nothing from memory, on 1 and on T threads, for each instruction set this CPU runs
 * (SSE multiply+add, AVX2+FMA, AVX-512F). The roofline line of the training benches divides by
 * the best figure at T threads.
 *   build/native/bench_peak [--threads T (all online CPUs)] [--json]
 * Prints one line per (instruction set, threads) with GFLOP/s (2 flops per FMA lane), the best
 * of 5 timed runs of about 0.2 s each, and a last line "peak: X GFLOP/s (set, T threads)".
 * With T > 1 it also prints how long a cache line takes to travel from one core to another and
 * back (two threads handing a counter to each other, best of 5 runs of 100,000 round trips):
 * the cost a data-parallel trainer pays for every line of shared state one thread writes and
 * another reads; it bounds how far a short batch step can scale over cores. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86 1
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Each loop body does 12 independent vector FMAs (enough chains to cover a 4-cycle latency at 2
 * or 3 issues per cycle); the results are summed and returned so nothing is optimised away. */
#define CHAINS 12

static float loop_sse(long iters, float seed) {
    typedef float v4 __attribute__((vector_size(16)));
    v4 acc[CHAINS], a = {seed, seed, seed, seed}, b = {0.999f, 0.999f, 0.999f, 0.999f};
    for (int c = 0; c < CHAINS; c++) acc[c] = a + (float)c;
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++)
            acc[c] = acc[c] * b + a; /* multiply, add: 2 flops, 2 instr. */
    v4 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s += acc[c];
    return s[0] + s[1] + s[2] + s[3];
}

#ifdef HAVE_X86
__attribute__((target("avx2,fma"))) static float loop_avx2(long iters, float seed) {
    __m256 acc[CHAINS], a = _mm256_set1_ps(seed), b = _mm256_set1_ps(0.999f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_add_ps(a, _mm256_set1_ps((float)c));
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], b, a);
    __m256 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm256_add_ps(s, acc[c]);
    float o[8];
    _mm256_storeu_ps(o, s);
    return o[0] + o[7];
}

__attribute__((target("avx512f,avx2,fma"))) static float loop_avx512(long iters, float seed) {
    __m512 acc[CHAINS], a = _mm512_set1_ps(seed), b = _mm512_set1_ps(0.999f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_add_ps(a, _mm512_set1_ps((float)c));
    for (long i = 0; i < iters; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], b, a);
    __m512 s = acc[0];
    for (int c = 1; c < CHAINS; c++) s = _mm512_add_ps(s, acc[c]);
    float o[16];
    _mm512_storeu_ps(o, s);
    return o[0] + o[15];
}
#endif

typedef struct kind {
    const char *name;
    int lanes; /* floats per vector */
    int fma; /* flops per lane per instruction pair: 2 either way */
    float (*fn)(long, float);
    int ok;
} kind;

typedef struct job {
    const kind *k;
    long iters;
    float out;
} job;

static void *run(void *arg) {
    job *j = arg;
    j->out = j->k->fn(j->iters, 1.0f + (float)(j->iters & 7) * 1e-3f);
    return NULL;
}

/* GFLOP/s of kind k on t threads, best of 5 runs. */
static double measure(const kind *k, int t, long iters) {
    double best = 0.0;
    pthread_t th[256];
    job jobs[256];
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        int started = 0;
        for (int i = 0; i < t; i++) {
            jobs[i].k = k;
            jobs[i].iters = iters;
            if (i == 0) continue;
            if (pthread_create(&th[i], NULL, run, &jobs[i])) break;
            started = i;
        }
        run(&jobs[0]);
        for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
        double dt = now_s() - t0;
        double flops = 2.0 * CHAINS * (double)k->lanes * (double)iters * (double)(started + 1);
        double g = flops / dt * 1e-9;
        if (g > best) best = g;
        volatile float sink = jobs[0].out;
        (void)sink;
    }
    return best;
}

/* The core-to-core round trip: two threads hand a counter (one cache line) to each other. */
static _Alignas(64) atomic_long pp_flag;
enum { PP_ROUNDS = 100000 };

static void *pp_other(void *arg) {
    (void)arg;
    for (long i = 0; i < PP_ROUNDS; i++) {
        while (atomic_load_explicit(&pp_flag, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&pp_flag, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

/* Nanoseconds per round trip, best of 5; 0 if the second thread cannot start. */
static double pingpong_ns(void) {
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t th;
        atomic_store(&pp_flag, 0);
        if (pthread_create(&th, NULL, pp_other, NULL)) return 0.0;
        double t0 = now_s();
        for (long i = 0; i < PP_ROUNDS; i++) {
            atomic_store_explicit(&pp_flag, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&pp_flag, memory_order_acquire) != 2 * i + 2) {
            }
        }
        double ns = (now_s() - t0) * 1e9 / PP_ROUNDS;
        pthread_join(th, NULL);
        if (best == 0.0 || ns < best) best = ns;
    }
    return best;
}

int main(int argc, char **argv) {
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = ncpu > 0 ? (int)ncpu : 1, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "usage: bench_peak [--threads T] [--json]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "bench_peak: --threads %d not in 1..256\n", threads);
        return 2;
    }
    kind kinds[3] = {{"sse (mul+add)", 4, 2, loop_sse, 1},
                     {"avx2+fma", 8, 2, NULL, 0},
                     {"avx512f", 16, 2, NULL, 0}};
#ifdef HAVE_X86
    __builtin_cpu_init();
    kinds[1].fn = loop_avx2;
    kinds[1].ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    kinds[2].fn = loop_avx512;
    kinds[2].ok = kinds[1].ok && __builtin_cpu_supports("avx512f");
#endif
    double peak = 0.0;
    const char *peak_kind = "";
    int ts[2] = {1, threads};
    for (int k = 0; k < 3; k++) {
        if (!kinds[k].ok) {
            if (!json) printf("%-14s not supported by this CPU\n", kinds[k].name);
            continue;
        }
        /* about 0.2 s per run at ~4 vector instructions per ns */
        long iters = 60000000L / CHAINS;
        for (int i = 0; i < (threads > 1 ? 2 : 1); i++) {
            double g = measure(&kinds[k], ts[i], iters);
            if (json)
                printf("{\"kind\":\"%s\",\"threads\":%d,\"gflops\":%.2f}\n", kinds[k].name, ts[i],
                       g);
            else
                printf("%-14s %3d thread%s %8.1f GFLOP/s\n", kinds[k].name, ts[i],
                       ts[i] > 1 ? "s" : " ", g);
            if (ts[i] == threads && g > peak) {
                peak = g;
                peak_kind = kinds[k].name;
            }
        }
    }
    double rt = threads > 1 ? pingpong_ns() : 0.0;
    if (rt > 0.0 && json)
        printf("{\"core_to_core_round_trip_ns\":%.0f}\n", rt);
    else if (rt > 0.0)
        printf("core to core: a cache line there and back in %.0f ns (2 threads)\n", rt);
    if (json)
        printf("{\"peak_gflops\":%.2f,\"kind\":\"%s\",\"threads\":%d}\n", peak, peak_kind, threads);
    else
        printf("peak: %.1f GFLOP/s (%s, %d threads)\n", peak, peak_kind, threads);
    return 0;
}
