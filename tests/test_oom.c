/* test_oom.c - every allocation failure reaches the caller as an error (native).
 *
 * The test replaces malloc, calloc and realloc for the whole process (glibc supports this; the
 * real ones are __libc_*), then runs the evaluation of the served default ranker and the
 * training pipeline once to get the reference, and again with the n-th allocation failing, for
 * every n until a run makes fewer than n allocations. Each run must either fail with
 * PREFREC_E_NOMEM (and a message) or succeed with exactly the reference result: a swallowed
 * failure (empty neighbour lists in a pack, zero scores, a truncated report) would succeed with
 * a different result. Only allocations made by prefrec's code (this executable) and by cJSON
 * are failed: OpenBLAS aborts on its own allocation failures, which no caller can handle. Not
 * under AddressSanitizer, which owns malloc (reported as skipped). */
#define _GNU_SOURCE 1
#include <execinfo.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host/file.h"
#include "prefrec/api.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/eval.h"
#include "prefrec/native/gen.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/native/pipeline.h"
#include "prefrec/native/rankers.h"

#if defined(__SANITIZE_ADDRESS__)
#define OOM_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OOM_SKIP 1
#endif
#endif

#ifndef OOM_SKIP
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static long oom_at = -1; /* the allocation (0-based, counted from arming) that fails; -1 none */
static long oom_count; /* allocations since arming */

/* The code whose allocations may fail: this executable's text and libcjson's. */
extern const char __executable_start[], etext[];
static uintptr_t cjson_lo, cjson_hi;

static int find_cjson(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size, (void)data;
    if (!info->dlpi_name || !strstr(info->dlpi_name, "libcjson")) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        cjson_lo = info->dlpi_addr + ph->p_vaddr;
        cjson_hi = cjson_lo + ph->p_memsz;
    }
    return 1;
}

static int ours(uintptr_t caller) {
    return (caller >= (uintptr_t)__executable_start && caller < (uintptr_t)etext) ||
        (caller >= cjson_lo && caller < cjson_hi);
}

static int oom_trace; /* PREFREC_OOM_TRACE=1: a backtrace at every injected failure */

static int oom_fail(uintptr_t caller) {
    if (__atomic_load_n(&oom_at, __ATOMIC_ACQUIRE) < 0 || !ours(caller)) return 0;
    if (__atomic_fetch_add(&oom_count, 1, __ATOMIC_RELAXED) != oom_at) return 0;
    if (oom_trace) {
        void *frames[16];
        fprintf(stderr, "-- allocation %ld fails here:\n", oom_at);
        backtrace_symbols_fd(frames, backtrace(frames, 16), 2);
    }
    return 1;
}
#define CALLER ((uintptr_t)__builtin_return_address(0))
void *malloc(size_t n) { return oom_fail(CALLER) ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t size) { return oom_fail(CALLER) ? NULL : __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { return oom_fail(CALLER) ? NULL : __libc_realloc(p, n); }

static void arm(long at) {
    oom_count = 0;
    __atomic_store_n(&oom_at, at, __ATOMIC_RELEASE);
}
static long disarm(void) {
    __atomic_store_n(&oom_at, -1, __ATOMIC_RELEASE);
    return oom_count;
}

/* ---- the evaluation ------------------------------------------------------------------------ */
typedef struct eval_out {
    double v[64];
    int n;
} eval_out;

static prefrec_status run_eval(const prefrec_dataset *ds, eval_out *o, prefrec_error *err) {
    prefrec_eval_ranker rk[2] = {{prefrec_ranker_find("blend_served"), NULL},
                                 {prefrec_ranker_find("ease"), NULL}};
    prefrec_eval_params ep = prefrec_eval_default_params();
    prefrec_date_parse("2021-10-01", 10, &ep.cutoff);
    ep.threads = 1;
    ep.affiliate = 0;
    prefrec_eval_result *res = NULL;
    prefrec_status s = prefrec_eval_run(ds, &ep, rk, 2, &res, err);
    o->n = 0;
    if (!s) {
        for (int task = 0; task < 2; task++)
            for (size_t r = 0; r < 2; r++) {
                const prefrec_metrics *m = prefrec_eval_get(res, task, -1, r);
                o->v[o->n++] = m ? m->recall : -1;
                o->v[o->n++] = m ? m->ndcg : -1;
            }
    }
    prefrec_eval_result_free(res);
    return s;
}

/* ---- the baselines (rankers.h): fit each on A01's window, score ten customers (some without
 * history there); the result is a weighted sum of each ranker's scores ------------------------ */
static prefrec_status run_baselines(const prefrec_dataset *ds, eval_out *o, prefrec_error *err) {
    const prefrec_ranker_def *defs[] = {
        &prefrec_ranker_g_topfreq, &prefrec_ranker_p_topfreq, &prefrec_ranker_gp_topfreq,
        &prefrec_ranker_tifu_knn,  &prefrec_ranker_upcf,      &prefrec_ranker_rp3beta,
        &prefrec_ranker_ease,      &prefrec_ranker_mf,        &prefrec_ranker_bpr};
    int32_t cutoff = 0;
    prefrec_date_parse("2021-10-01", 10, &cutoff);
    prefrec_interactions *x = NULL;
    o->n = 0;
    prefrec_status s = prefrec_interactions_build(ds, 0, ds->day_min, cutoff, &x, err);
    float *sc = s ? NULL : malloc((size_t)x->n_products * sizeof *sc);
    if (!s && !sc) s = prefrec_error_set(err, PREFREC_E_NOMEM, "baselines: out of memory");
    prefrec_fit_input in = {ds, x, 2, 42, 0, 0, NULL};
    for (size_t r = 0; !s && r < sizeof defs / sizeof defs[0]; r++) {
        void *model = NULL;
        s = defs[r]->fit(&in, NULL, &model, err);
        double sum = 0;
        for (int32_t c = 0; !s && c < 10 && c < x->n_customers; c++) {
            if (defs[r]->score(model, c, sc))
                s = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: score: out of memory",
                                      defs[r]->name);
            for (int32_t j = 0; !s && j < x->n_products; j++) sum += sc[j] * (double)(j % 7 + 1);
        }
        defs[r]->free(model);
        o->v[o->n++] = sum;
    }
    free(sc);
    prefrec_interactions_free(x);
    return s;
}

/* ---- the pipeline: the pack's bytes -------------------------------------------------------- */
static prefrec_status run_train(const prefrec_dataset *ds, const char *dir, void **bytes,
                                size_t *len, prefrec_error *err) {
    prefrec_pipeline_params pp = prefrec_pipeline_default_params();
    pp.affiliate = "A01";
    pp.out_dir = dir;
    pp.train.epochs = 1;
    pp.train.dim = 4;
    pp.train.verbose = 0;
    prefrec_pipeline_result res;
    prefrec_status s = prefrec_pipeline_train(ds, &pp, &res, err);
    prefrec_pipeline_result_free(&res);
    *bytes = NULL;
    if (!s) {
        char path[512];
        snprintf(path, sizeof path, "%s/A01.pack", dir);
        s = prefrec_file_read(path, PREFREC_PACK_FILE_MAX, (char **)bytes, len, err);
        unlink(path);
    }
    return s;
}

/* ---- the JSON API over the trained pack: an answer, or an out-of-memory error, never a
 * truncated "ok" answer ---------------------------------------------------------------------- */
static void sweep_api(const void *pack_bytes, size_t len) {
    prefrec_error err = {0};
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    CHECK_EQ_INT(prefrec_pack_open(pack_bytes, len, &pk, &err), PREFREC_OK);
    if (pk) CHECK_EQ_INT(prefrec_engine_new(pk, NULL, &e, &err), PREFREC_OK);
    if (!e) {
        prefrec_pack_free(pk);
        return;
    }
    const prefrec_engine *es[1] = {e};
    const char *reqs[3] = {"{\"gender\":\"F\",\"age\":\"30대\",\"k\":5,\"sample\":2,\"seed\":3}",
                           "{\"plan\":\"stamp\",\"categories\":3,\"per_category\":2}",
                           "{\"plan\":\"ratio\",\"weights\":{\"A01\":2},\"k\":3}"};
    long total = 0, failed = 0, wrong = 0;
    for (int q = 0; q < 3; q++) {
        char *ref = prefrec_api_handle(es, 1, reqs[q]);
        CHECK(ref && strstr(ref, "\"ok\":true"));
        for (long at = 0; ref; at++) {
            arm(at);
            char *got = prefrec_api_handle(es, 1, reqs[q]);
            long made = disarm();
            if (made <= at) {
                CHECK(got && !strcmp(got, ref));
                total += at;
                prefrec_api_free(got);
                break;
            }
            /* an error answer reached the caller: right. (cJSON cannot tell a failed allocation
             * while parsing from bad syntax, so some say "invalid JSON": still an error.) */
            if (!got || strstr(got, "\"ok\":false"))
                failed++;
            else if (strcmp(got, ref)) {
                wrong++;
                fprintf(stderr, "api: request %d, allocation %ld failed: answered %.200s\n", q, at,
                        got);
            }
            prefrec_api_free(got);
        }
        prefrec_api_free(ref);
    }
    CHECK_EQ_INT(wrong, 0);
    printf("api: %ld allocations over 3 requests, each made to fail in turn: %ld answered with an "
           "error, "
           "%ld recovered with the same answer, %ld wrong\n",
           total, failed, total - failed, wrong);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
}

static void sweep(const char *what, const prefrec_dataset *ds, const char *dir) {
    prefrec_error err = {0};
    eval_out ref_e, got_e;
    void *ref_p = NULL, *got_p = NULL;
    size_t ref_len = 0, got_len = 0;
    int is_base = !strcmp(what, "baselines"), is_eval = is_base || !strcmp(what, "eval");
    prefrec_status s = is_base ? run_baselines(ds, &ref_e, &err)
        : is_eval              ? run_eval(ds, &ref_e, &err)
                               : run_train(ds, dir, &ref_p, &ref_len, &err);
    CHECK_EQ_INT(s, PREFREC_OK);
    if (s) {
        fprintf(stderr, "%s reference: %s\n", what, err.msg);
        return;
    }
    long failed = 0, total = 0, wrong = 0;
    for (long at = 0;; at++) {
        memset(&err, 0, sizeof err);
        arm(at);
        s = is_base   ? run_baselines(ds, &got_e, &err)
            : is_eval ? run_eval(ds, &got_e, &err)
                      : run_train(ds, dir, &got_p, &got_len, &err);
        long made = disarm();
        if (made <= at) { /* nothing failed: the sweep is complete */
            CHECK_EQ_INT(s, PREFREC_OK);
            total = at;
            free(got_p);
            break;
        }
        if (s) {
            failed++;
            if (s != PREFREC_E_NOMEM || !err.msg[0]) {
                wrong++;
                fprintf(stderr,
                        "%s: allocation %ld failed -> status %d '%s' (want PREFREC_E_NOMEM)\n",
                        what, at, s, err.msg);
            }
        } else {
            int same = is_eval
                ? got_e.n == ref_e.n && !memcmp(got_e.v, ref_e.v, sizeof(double) * (size_t)ref_e.n)
                : got_len == ref_len && !memcmp(got_p, ref_p, ref_len);
            if (!same) {
                wrong++;
                fprintf(stderr,
                        "%s: allocation %ld failed, the run said ok with a different result\n",
                        what, at);
            }
        }
        free(got_p);
        got_p = NULL;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(total > 0);
    if (!is_eval) sweep_api(ref_p, ref_len);
    printf("%s: %ld allocations, each made to fail in turn: %ld runs failed with PREFREC_E_NOMEM, "
           "%ld recovered with the same result, %ld wrong\n",
           what, total, failed, total - failed, wrong);
    free(ref_p);
}
#endif

int main(void) {
#ifdef OOM_SKIP
    printf("test_oom: skipped under AddressSanitizer (it owns malloc)\n");
    return 0;
#else
    dl_iterate_phdr(find_cjson, NULL);
    oom_trace = getenv("PREFREC_OOM_TRACE") != NULL;
    { /* load libgcc's unwinder now: backtrace() allocates on its first call */
        void *f[2];
        backtrace(f, 2);
    }
    char dir[] = "/tmp/prefrec_oom_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    prefrec_gen_params gp = prefrec_gen_default_params();
    gp.scale = 0.002;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_gen_write(dir, &gp, NULL, &err), PREFREC_OK);
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_OK);
    if (ds) {
        sweep("eval", ds, dir);
        sweep("baselines", ds, dir);
        sweep("train", ds, dir);
    }
    prefrec_dataset_free(ds);
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, prefrec_gen_file_name(i));
        unlink(path);
    }
    rmdir(dir);
    return check_report("test_oom");
#endif
}
