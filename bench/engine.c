/* engine.c - native microseconds per request of the portable engine, and how they grow with
 * the catalogue: synthetic packs of 2,000 .. 100,000 products (NeuMF dim 32, MLP 64-32, the
 * blend with 10 neighbours per product as served), 1,000 customers with 30-product histories.
 * Popularity is long-tailed and non-negative as in trained packs (the blend's top list walks
 * the catalogue only while a product's bound can still enter: prefrec/blend.h).
 * Prints, per size and ranker, ms to build the engine from the opened pack, us per top-30
 * request and per stamp mission, next to the arithmetic work of a request and the time it
 * would take at the machine's measured multiply-add rate (a vectorised dot-product loop timed
 * in the same run), and the load average.
 *   build/native/bench_engine [--write DIR] [--v2] [sizes...]   (default 2000 10000 100000)
 * --write DIR: also write each pack as DIR/syn<P>.pack (for bench/web/scale.mjs).
 * --v2: format version 2, the item tensors stored as the default plan stores them
 * (PREFREC_PACK_STORAGE_DEFAULT, what prefrec export writes); without it every float is f32. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/engine.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/rng.h"

#define D 32
#define H1 64
#define H2 32
#define M 10
#define C 1000
#define HIST 30

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *rnd(prefrec_rng *r, size_t n, float scale) {
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = (float)(prefrec_rng_double(r) * 2 - 1) * scale;
    return a;
}

static char **codes(const char *fmt, size_t n) {
    char **c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        c[i] = malloc(16);
        snprintf(c[i], 16, fmt, (unsigned)i);
    }
    return c;
}

static int v2; /* --v2 */

/* Add a float tensor: f32, or in version 2 as the default plan stores an item tensor. */
static void add_float(prefrec_pack_writer *w, const char *name, uint32_t nd, const uint32_t *shape,
                      const float *data, prefrec_error *err) {
    int store = v2 && strncmp(name, "customer.", 9)
        ? prefrec_quant_plan_dtype(PREFREC_PACK_STORAGE_DEFAULT, name)
        : PREFREC_DT_F32;
    /* pcn: the popularity table as its buyer counts, which random floats do not have; the
     * export stores such a table in f16 (pack_export.c), and so does this bench */
    if (store == PREFREC_STORE_PCN) store = PREFREC_DT_F16;
    if (prefrec_pack_writer_add_stored(w, name, (uint32_t)store, nd, shape, data, err))
        fprintf(stderr, "build: %s: %s\n", name, err->msg);
}

static void *build(uint32_t P, size_t *len) {
    prefrec_rng r;
    prefrec_rng_init(&r, 42, P);
    prefrec_error err = {0};
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    uint32_t s2[2];
#define ADD(name, nd, a, b, data) \
    do { \
        s2[0] = (a); \
        s2[1] = (b); \
        add_float(w, name, nd, s2, data, &err); \
    } while (0)
    float *pemb = rnd(&r, (size_t)P * D, 0.3f), *pbias = rnd(&r, P, 0.1f);
    float *w1 = rnd(&r, H1 * (2 * D + 4), 0.2f), *b1 = rnd(&r, H1, 0.1f);
    float *w2 = rnd(&r, H2 * H1, 0.2f), *b2 = rnd(&r, H2, 0.1f);
    float *wg = rnd(&r, D, 0.5f), *wm = rnd(&r, H2, 0.5f), b0 = 2.5f;
    ADD("product.emb", 2, P, D, pemb);
    ADD("product.bias", 1, P, 0, pbias);
    ADD("mlp.0.w", 2, H1, 2 * D + 4, w1);
    ADD("mlp.0.b", 1, H1, 0, b1);
    ADD("mlp.1.w", 2, H2, H1, w2);
    ADD("mlp.1.b", 1, H2, 0, b2);
    ADD("out.gmf", 1, D, 0, wg);
    ADD("out.mlp", 1, H2, 0, wm);
    ADD("out.bias", 1, 1, 0, &b0);
    char **pc = codes("P%06u", P), **cats = codes("cat%02u", 60), **cc = codes("C%06u", C);
    int32_t *pcat = malloc(P * sizeof *pcat), *psub = malloc(P * sizeof *psub);
    for (uint32_t p = 0; p < P; p++) pcat[p] = (int32_t)prefrec_rng_below(&r, 60), psub[p] = -1;
    prefrec_pack_writer_add_strings(w, "product.code", (const char *const *)pc, P, &err);
    prefrec_pack_writer_add_strings(w, "product.name", (const char *const *)pc, P, &err);
    uint32_t sp = P;
    prefrec_pack_writer_add(w, "product.cat", PREFREC_DT_I32, 1, &sp, pcat, &err);
    prefrec_pack_writer_add(w, "product.sub", PREFREC_DT_I32, 1, &sp, psub, &err);
    prefrec_pack_writer_add_strings(w, "category", (const char *const *)cats, 60, &err);
    prefrec_pack_writer_add_strings(w, "subcategory", NULL, 0, &err);
    /* customers: 30 random distinct-ish products each */
    prefrec_pack_writer_add_strings(w, "customer.code", (const char *const *)cc, C, &err);
    float *cemb = rnd(&r, (size_t)C * D, 0.3f), *cbias = rnd(&r, C, 0.1f),
          *age = malloc(C * sizeof *age);
    int8_t *g = malloc(C);
    uint32_t *boff = malloc((C + 1) * sizeof *boff);
    int32_t *bidx = malloc((size_t)C * HIST * sizeof *bidx);
    for (uint32_t c = 0; c <= C; c++) boff[c] = c * HIST;
    for (uint32_t c = 0; c < C; c++) {
        g[c] = (int8_t)(c & 1);
        age[c] = 20.0f + (float)(c % 50);
        /* ascending, distinct: stride through the catalogue */
        uint32_t base = prefrec_rng_below(&r, P / HIST);
        for (uint32_t i = 0; i < HIST; i++) bidx[c * HIST + i] = (int32_t)(i * (P / HIST) + base);
    }
    ADD("customer.emb", 2, C, D, cemb);
    ADD("customer.bias", 1, C, 0, cbias);
    sp = C;
    prefrec_pack_writer_add(w, "customer.gender", PREFREC_DT_I8, 1, &sp, g, &err);
    ADD("customer.age", 1, C, 0, age);
    sp = C + 1;
    prefrec_pack_writer_add(w, "customer.bought.off", PREFREC_DT_U32, 1, &sp, boff, &err);
    sp = C * HIST;
    prefrec_pack_writer_add(w, "customer.bought.idx", PREFREC_DT_I32, 1, &sp, bidx, &err);
    /* blend */
    int32_t *nbr = malloc((size_t)P * M * sizeof *nbr);
    float *ew = rnd(&r, (size_t)P * M, 1.0f), *kw = rnd(&r, (size_t)P * M, 1.0f);
    for (size_t i = 0; i < (size_t)P * M; i++) nbr[i] = (int32_t)prefrec_rng_below(&r, P);
    s2[0] = P;
    s2[1] = M;
    prefrec_pack_writer_add(w, "blend.ease.nbr", PREFREC_DT_I32, 2, s2, nbr, &err);
    ADD("blend.ease.w", 2, P, M, ew);
    prefrec_pack_writer_add(w, "blend.knn.nbr", PREFREC_DT_I32, 2, s2, nbr, &err);
    ADD("blend.knn.w", 2, P, M, kw);
    /* popularity: non-negative, long-tailed (Zipf-like by a random rank), each segment a
     * noisy copy of the overall one */
    float *seg = malloc((size_t)33 * P * sizeof *seg), *all = malloc(P * sizeof *all),
          *trend = malloc(P * sizeof *trend);
    for (uint32_t p = 0; p < P; p++) {
        double rank = 1 + prefrec_rng_below(&r, P);
        all[p] = (float)(1.0 / rank);
        trend[p] = (float)(all[p] * prefrec_rng_double(&r));
        for (int s = 0; s < 33; s++)
            seg[(size_t)s * P + p] = (float)(all[p] * (0.5 + prefrec_rng_double(&r)));
    }
    ADD("blend.pop.seg", 2, 33, P, seg);
    ADD("blend.pop.all", 1, P, 0, all);
    ADD("blend.trend", 1, P, 0, trend);
    char man[512];
    snprintf(man, sizeof man,
             "{\"kind\":\"neumf\",\"affiliate\":\"SYN\",\"dim\":%d,\"mlp\":[%d,%d],"
             "\"blend\":{\"w\":{\"ease\":1,\"knn\":0.3,\"pop\":0.3,\"trend\":0.1,\"cat\":0.1,"
             "\"catpop\":1,\"subpop\":1}}}",
             D, H1, H2);
    prefrec_pack_writer_set_manifest(w, man, &err);
    if (v2) prefrec_pack_writer_set_version(w, 2, &err);
    void *out = NULL;
    if (prefrec_pack_writer_finish(w, &out, len, &err)) fprintf(stderr, "build: %s\n", err.msg);
    prefrec_pack_writer_free(w);
    free(pemb), free(pbias), free(w1), free(b1), free(w2), free(b2), free(wg), free(wm);
    for (uint32_t i = 0; i < P; i++) free(pc[i]);
    for (uint32_t i = 0; i < 60; i++) free(cats[i]);
    for (uint32_t i = 0; i < C; i++) free(cc[i]);
    free(pc), free(cats), free(cc), free(pcat), free(psub), free(cemb), free(cbias), free(age),
        free(g);
    free(boff), free(bidx), free(nbr), free(ew), free(kw), free(seg), free(all), free(trend);
    return out;
}

/* multiply-adds per second of the MLP's inner kernel shape (out[32] += a_i * row_i[32] over
 * 64 inputs, L1-resident weights): the machine's practical rate for this work, one core */
static double mac_rate(void) {
    static float w[H1 * H2], in[H1], out[H2];
    for (int i = 0; i < H1 * H2; i++) w[i] = (float)(i % 7) * 1e-3f;
    for (int i = 0; i < H1; i++) in[i] = (float)i * 1e-2f;
    volatile float sink = 0;
    int reps = 200000;
    double t0 = now();
    for (int r = 0; r < reps; r++) {
        for (int j = 0; j < H2; j++) out[j] = (float)r;
        for (int i = 0; i < H1; i++) {
            float a = in[i];
            for (int j = 0; j < H2; j++) out[j] += a * w[i * H2 + j];
        }
        sink += out[r & (H2 - 1)];
    }
    return (double)H1 * H2 * reps / (now() - t0);
}

static double loadavg(void) {
    double a = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &a) != 1) a = -1;
        fclose(f);
    }
    return a;
}

/* ms to write fresh memory for the first time, per 100 MiB (the page faults a load pays for
 * every buffer it fills: decoded tensors, the engine's tables). Virtual machines can make this
 * tens of times dearer than bare metal; the load figures above include it. */
static double first_touch_ms(void) {
    size_t n = (size_t)64 << 20;
    volatile char *p = malloc(n);
    if (!p) return -1;
    double t0 = now();
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    double t = now() - t0;
    free((void *)p);
    return 1e3 * t * 100.0 / 64.0;
}

int main(int argc, char **argv) {
    uint32_t sizes[8] = {2000, 10000, 100000};
    int ns = 3, given = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--v2")) {
            v2 = 1;
            continue;
        }
        if (!strcmp(argv[i], "--write") && i + 1 < argc) {
            dir = argv[++i];
            continue;
        }
        if (!given++) ns = 0;
        if (ns < 8) sizes[ns++] = (uint32_t)atoi(argv[i]);
    }
    double rate = mac_rate();
    printf("machine: first touch of fresh memory %.1f ms per 100 MiB (page faults)\n",
           first_touch_ms());
    printf("packs: format %s\n", v2 ? "2, the default storage plan" : "1, every float f32");
    printf("machine: %.2f G multiply-adds/s (the MLP kernel alone, one core)\n", rate / 1e9);
    printf("%9s %-6s %9s %12s %12s %14s %12s %6s\n", "products", "ranker", "load ms", "us/top-30",
           "us/stamp", "MACs/request", "bound us", "load");
    for (int si = 0; si < ns; si++) {
        uint32_t P = sizes[si];
        size_t len;
        void *bytes = build(P, &len);
        prefrec_error err = {0};
        prefrec_pack *pk = NULL;
        prefrec_engine *e = NULL;
        if (dir) {
            char path[1024];
            snprintf(path, sizeof path, "%s/syn%u.pack", dir, (unsigned)P);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(bytes, 1, len, f) != len || fclose(f)) {
                fprintf(stderr, "bench_engine: cannot write %s\n", path);
                return 1;
            }
        }
        /* the load, best of 3: opening the pack (CRC, bounds, version 2's decoding) and building
         * the engine (model, blend index, ...) */
        double load_ms = 1e30, open_ms = 0, build_ms = 0;
        for (int rep = 0; rep < 3; rep++) {
            if (e) prefrec_engine_free(e), prefrec_pack_free(pk), e = NULL;
            double l0 = now();
            if (prefrec_pack_open(bytes, len, &pk, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double l1 = now();
            if (prefrec_engine_new(pk, NULL, &e, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double l2 = now();
            if (1e3 * (l2 - l0) < load_ms)
                load_ms = 1e3 * (l2 - l0), open_ms = 1e3 * (l1 - l0), build_ms = 1e3 * (l2 - l1);
        }
        printf("%9u load: pack open %.1f ms + engine build %.1f ms (%zu bytes)\n", (unsigned)P,
               open_ms, build_ms, len);
        prefrec_response *rs = malloc(sizeof *rs);
        prefrec_stamp_category board[5];
        for (int rk = PREFREC_RANKER_BLEND; rk <= PREFREC_RANKER_NEUMF; rk++) {
            int reqs = P <= 10000 ? 400 : 60;
            char code[16];
            prefrec_request rq = prefrec_request_default();
            rq.ranker = rk;
            double t0 = now();
            for (int i = 0; i < reqs; i++) {
                snprintf(code, sizeof code, "C%06u", (unsigned)(i * 7 % C));
                rq.customer = code;
                if (prefrec_engine_recommend(e, &rq, rs, &err)) fprintf(stderr, "%s\n", err.msg);
            }
            double t1 = now();
            size_t nb;
            for (int i = 0; i < reqs; i++) {
                snprintf(code, sizeof code, "C%06u", (unsigned)(i * 7 % C));
                rq.customer = code;
                prefrec_engine_stamp(e, &rq, 5, 5, board, &nb, &err);
            }
            double t2 = now();
            /* work: neumf = per product the MLP from its second layer (H1*H2) + gmf (D) + out
             * (H2) + the precomputed first layer (H1) ; blend = history x neighbours x 2 lists
             * + 5 passes over the catalogue */
            double macs = rk == PREFREC_RANKER_NEUMF ? (double)P * (H1 * H2 + D + H2 + H1)
                                                     : (double)HIST * M * 2 + 5.0 * P;
            printf("%9u %-6s %9.1f %12.1f %12.1f %14.0f %12.1f %6.2f\n", P,
                   rk == PREFREC_RANKER_BLEND ? "blend" : "neumf", load_ms, 1e6 * (t1 - t0) / reqs,
                   1e6 * (t2 - t1) / reqs, macs, 1e6 * macs / rate, loadavg());
        }
        free(rs);
        prefrec_engine_free(e);
        prefrec_pack_free(pk);
        free(bytes);
    }
    return 0;
}
