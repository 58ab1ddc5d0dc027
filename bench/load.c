/* load.c - the engine serving a million requests in a loop, memory measured as it goes: the
 * process RSS (/proc/self/statm) and the malloc heap in use (mallinfo2: arena + mmap'd blocks,
 * so the pack buffers count) after loading and at
 * every tenth of the run. Flat is the goal: every request frees what it allocates.
 * Requests rotate over four kinds: a known customer (top 30 + 3 sampled), an unknown customer
 * with a 3-product history (folded in), gender and age only, and a JSON API request (recommend
 * or stamp plan, alternating), customers and histories varying with the request number.
 *   build/native/bench_load [ITEM_PACK [CUSTOMER_SHARD [N]]]
 *   default: models/A01.item.pack models/A01.cust.000.pack 1000000 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prefrec/api.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"
#include "prefrec/pack.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static void mem(double *rss_mb, double *heap_mb) {
    long pages = 0, resident = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp) {
        if (fscanf(fp, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(fp);
    }
    *rss_mb = (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
    struct mallinfo2 mi = mallinfo2();
    *heap_mb = (double)(mi.uordblks + mi.hblkhd) / 1048576.0; /* incl. mmap'd blocks */
}

int main(int argc, char **argv) {
    const char *ipath = argc > 1 ? argv[1] : "models/A01.item.pack";
    const char *cpath = argc > 2 ? argv[2] : "models/A01.cust.000.pack";
    long n = argc > 3 ? atol(argv[3]) : 1000000;
    size_t ilen, clen;
    unsigned char *ib = slurp(ipath, &ilen), *cb = slurp(cpath, &clen);
    if (!ib || !cb || n <= 0) {
        fprintf(stderr, "usage: bench_load [ITEM_PACK [CUSTOMER_SHARD [N]]] (cannot read %s)\n",
                ib ? cpath : ipath);
        return 2;
    }
    prefrec_error err = {0};
    prefrec_pack *ip = NULL, *cp = NULL;
    prefrec_engine *e = NULL;
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    if (prefrec_pack_open(ib, ilen, &ip, &err) || prefrec_pack_open(cb, clen, &cp, &err) ||
        prefrec_engine_new(ip, cp, &e, &err) || prefrec_model_load(ip, &m, &err) ||
        prefrec_customers_load(cp, m, &cs, &err)) {
        fprintf(stderr, "bench_load: %s\n", err.msg);
        return 1;
    }
    int32_t nc = prefrec_customers_count(cs), np = prefrec_engine_n_products(e);
    const char *aff = prefrec_engine_affiliate(e);
    const prefrec_engine *es[1] = {e};
    printf("bench_load: %s + %s: %d products, %d customers in the shard; %ld requests\n", ipath,
           cpath, np, nc, n);
    double rss0, heap0, rss, heap, t0 = now(), sum = 0;
    mem(&rss0, &heap0);
    printf("%10s %10s %9s %9s\n", "requests", "req/s", "rss_MB", "heap_MB");
    printf("%10d %10s %9.2f %9.3f\n", 0, "-", rss0, heap0);
    long errors = 0, step = n / 10 ? n / 10 : 1;
    double tl = t0, mid_rss = rss0, mid_heap = heap0;
    char req[256];
    for (long i = 0; i < n; i++) {
        prefrec_request rq = prefrec_request_default();
        prefrec_response rs;
        int32_t hist[3] = {(int32_t)(i % np), (int32_t)((i * 7 + 3) % np),
                           (int32_t)((i * 13 + 5) % np)};
        const char *code = prefrec_customers_code(cs, (int32_t)(i % nc));
        rq.seed = (uint64_t)i;
        switch (i % 4) {
            case 0:
                rq.customer = code;
                rq.sample = 3;
                break;
            case 1:
                rq.history = hist;
                rq.n_history = 3;
                rq.gender = (int)(i / 4 % 2);
                break;
            case 2:
                rq.gender = (int)(i / 4 % 3) - 1;
                rq.age = 20.0f + (float)(i % 50);
                break;
            default: {
                snprintf(req, sizeof req,
                         i % 8 == 3
                             ? "{\"affiliate\":\"%s\",\"customer\":\"%s\",\"k\":10,\"seed\":%ld}"
                             : "{\"plan\":\"stamp\",\"affiliate\":\"%s\",\"customer\":\"%s\","
                               "\"seed\":%ld}",
                         aff, code, i);
                char *out = prefrec_api_handle(es, 1, req);
                if (!out || strncmp(out, "{\"ok\":true", 10)) errors++;
                sum += out ? (double)strlen(out) : 0;
                prefrec_api_free(out);
                goto next;
            }
        }
        if (prefrec_engine_recommend(e, &rq, &rs, &err) != PREFREC_OK)
            errors++;
        else
            sum += rs.items[0].score;
    next:
        if ((i + 1) % step == 0) {
            double t = now();
            mem(&rss, &heap);
            printf("%10ld %10.0f %9.2f %9.3f\n", i + 1, (double)step / (t - tl), rss, heap);
            fflush(stdout);
            tl = t;
            if ((i + 1) / step == 5) mid_rss = rss, mid_heap = heap;
        }
    }
    double dt = now() - t0;
    mem(&rss, &heap);
    printf("native: %ld requests in %.1f s = %.0f requests/s, %ld errors (checksum %.3g)\n", n, dt,
           (double)n / dt, errors, sum);
    printf("memory (RSS MB / heap in use MB): start %.2f / %.3f, middle %.2f / %.3f, end %.2f / "
           "%.3f\n",
           rss0, heap0, mid_rss, mid_heap, rss, heap);
    printf("(machine: %ld cores shared with other work; timings are indicative)\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_engine_free(e);
    prefrec_pack_free(cp);
    prefrec_pack_free(ip);
    free(cb);
    free(ib);
    return errors ? 1 : 0;
}
