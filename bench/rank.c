/* bench/rank.c - the rankers' fit times and recall, and the exact matrix they were fitted on, for
 * bench/rank.sh (which runs bench/rank_numpy.py on the same files).
 *   build/native/bench_rank --data PATH [--affiliate A01|ALL (first)] [--threads T (all CPUs)]
 *                           [--runs 3] [--k 20] [--users 3000] [--out DIR]
 * Training window: every day before the last 28; test window: the last 28 days. With --out it
 * writes DIR/train.csv (customer,product,count: the window's pairs), DIR/test.csv
 * (customer,product: the products each evaluated customer bought in the test window and never in
 * the training window) and DIR/meta.json (matrix shape, the EASE products and lambda, the
 * ItemKNN and MF hyper-parameters). For ease, itemknn and mf it prints one JSON line: fit
 * seconds (median of --runs, each run a fresh fit), and recall@k of those new products over
 * the evaluated customers (at most --users, the ones with new products, every n-th by index),
 * history excluded from the ranking. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_i64_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static void usage(void) {
    fprintf(stderr,
            "usage: bench_rank --data PATH [--affiliate CODE] [--threads T] [--runs 3] [--k 20] "
            "[--users 3000] [--out DIR]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *data = NULL, *aff_code = NULL, *out = NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = ncpu > 0 ? (int)ncpu : 1, runs = 3, k = 20, max_users = 3000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--data") == 0)
            data = argv[++i];
        else if (strcmp(argv[i], "--affiliate") == 0)
            aff_code = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--k") == 0)
            k = atoi(argv[++i]);
        else if (strcmp(argv[i], "--users") == 0)
            max_users = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[++i];
        else
            usage();
    }
    if (!data || threads < 1 || threads > 64 || runs < 1 || runs > 99 || k < 1 || max_users < 1)
        usage();
    prefrec_error err = {0};
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) {
        fprintf(stderr, "bench_rank: %s\n", err.msg);
        return 1;
    }
    int aff = 0;
    if (aff_code) {
        aff = prefrec_dict_find(ds->affiliates, aff_code, strlen(aff_code));
        if (aff < 0) {
            fprintf(stderr, "bench_rank: no affiliate %s in %s\n", aff_code, data);
            return 1;
        }
    }
    int32_t cut = ds->day_max - 27;
    prefrec_interactions *tr = NULL, *te = NULL;
    if (prefrec_interactions_build(ds, aff, ds->day_min, cut, &tr, &err) ||
        prefrec_interactions_build(ds, aff, cut, ds->day_max + 1, &te, &err)) {
        fprintf(stderr, "bench_rank: %s\n", err.msg);
        return 1;
    }
    /* evaluated customers: those with a test product not in their training history */
    int32_t nc = tr->n_customers, np = tr->n_products;
    int32_t *cand = malloc(((size_t)nc + 1) * sizeof *cand), n_cand = 0;
    for (int32_t c = 0; c < nc; c++) {
        if (tr->row_start[c] == tr->row_start[c + 1]) continue;
        for (int64_t b = te->row_start[c]; b < te->row_start[c + 1]; b++)
            if (prefrec_interactions_find(tr, c, te->product[b]) < 0) {
                cand[n_cand++] = c;
                break;
            }
    }
    int32_t step = n_cand > max_users ? (n_cand + max_users - 1) / max_users : 1, n_users = 0;
    for (int32_t i = 0; i < n_cand; i += step) cand[n_users++] = cand[i];
    /* EASE's dense products and lambda, as rank_ease.c chooses them (default params) */
    prefrec_ease_params ep = prefrec_ease_default_params();
    int64_t *order = malloc(((size_t)np + 1) * sizeof *order);
    int32_t n_items = 0;
    for (int32_t j = 0; j < np; j++)
        if (tr->n_buyers[j] > 0)
            order[n_items++] = ((int64_t)tr->n_buyers[j] << 32) | (int64_t)(0x7fffffff - j);
    qsort(order, (size_t)n_items, sizeof *order, cmp_i64_desc);
    if (n_items > ep.max_items) n_items = ep.max_items;
    double mean_diag = 0;
    for (int32_t d = 0; d < n_items; d++) mean_diag += (double)(order[d] >> 32);
    double lambda = n_items ? -ep.lambda * mean_diag / n_items : 1.0;
    prefrec_itemknn_params kp = prefrec_itemknn_default_params();
    prefrec_mf_params mp = prefrec_mf_default_params();
    if (out) {
        char path[4096];
        snprintf(path, sizeof path, "%s/train.csv", out);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "bench_rank: cannot write %s\n", path);
            return 1;
        }
        fprintf(f, "customer,product,count\n");
        for (int32_t c = 0; c < nc; c++)
            for (int64_t b = tr->row_start[c]; b < tr->row_start[c + 1]; b++)
                fprintf(f, "%d,%d,%.9g\n", c, tr->product[b], tr->count[b]);
        fclose(f);
        snprintf(path, sizeof path, "%s/test.csv", out);
        f = fopen(path, "w");
        if (!f) return 1;
        fprintf(f, "customer,product\n");
        for (int32_t u = 0; u < n_users; u++) {
            int32_t c = cand[u];
            for (int64_t b = te->row_start[c]; b < te->row_start[c + 1]; b++)
                if (prefrec_interactions_find(tr, c, te->product[b]) < 0)
                    fprintf(f, "%d,%d\n", c, te->product[b]);
        }
        fclose(f);
        snprintf(path, sizeof path, "%s/meta.json", out);
        f = fopen(path, "w");
        if (!f) return 1;
        fprintf(f,
                "{\"n_customers\": %d, \"n_products\": %d, \"train_pairs\": %lld, \"users\": %d, "
                "\"k\": %d,\n",
                nc, np, (long long)tr->n_pairs, n_users, k);
        fprintf(f, " \"ease\": {\"lambda\": %.17g, \"items\": [", lambda);
        for (int32_t d = 0; d < n_items; d++)
            fprintf(f, "%s%d", d ? "," : "", 0x7fffffff - (int32_t)(order[d] & 0xffffffff));
        fprintf(f, "]},\n \"itemknn\": {\"neighbours\": %d, \"shrink\": %g},\n", kp.neighbours,
                kp.shrink);
        fprintf(f, " \"mf\": {\"dim\": %d, \"iterations\": %d, \"reg\": %g, \"alpha\": %g}}\n",
                mp.dim, mp.iterations, mp.reg, mp.alpha);
        fclose(f);
    }
    fprintf(stderr,
            "bench_rank: %s affiliate %s: %d customers x %d products, %lld training pairs; %d "
            "evaluated "
            "customers; EASE on %d products, lambda %.4g; %d threads\n",
            data, prefrec_dict_str(ds->affiliates, aff), nc, np, (long long)tr->n_pairs, n_users,
            n_items, lambda, threads);
    const prefrec_ranker_def *defs[3] = {&prefrec_ranker_ease, &prefrec_ranker_itemknn,
                                         &prefrec_ranker_mf};
    const void *params[3] = {&ep, &kp, &mp};
    float *scores = malloc(((size_t)np + 1) * sizeof *scores);
    prefrec_scored *top = malloc((size_t)k * sizeof *top);
    for (int r = 0; r < 3; r++) {
        double t[100];
        void *model = NULL;
        prefrec_fit_input in = {ds, tr, threads, 42, 0, 0, NULL};
        for (int i = 0; i < runs; i++) {
            defs[r]->free(model);
            model = NULL;
            double t0 = now_s();
            if (defs[r]->fit(&in, params[r], &model, &err)) {
                fprintf(stderr, "bench_rank: %s: %s\n", defs[r]->name, err.msg);
                return 1;
            }
            t[i] = now_s() - t0;
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_d);
        double recall = 0;
        for (int32_t u = 0; u < n_users; u++) {
            int32_t c = cand[u];
            if (defs[r]->score(model, c, scores)) return 1;
            for (int64_t b = tr->row_start[c]; b < tr->row_start[c + 1]; b++)
                scores[tr->product[b]] = -INFINITY;
            prefrec_topk_heap h;
            prefrec_topk_heap_init(&h, top, (size_t)k);
            for (int32_t j = 0; j < np; j++)
                if (scores[j] > -INFINITY) prefrec_topk_heap_push(&h, scores[j], j);
            size_t n = prefrec_topk_heap_finish(&h);
            int hits = 0, rel = 0;
            for (int64_t b = te->row_start[c]; b < te->row_start[c + 1]; b++) {
                if (prefrec_interactions_find(tr, c, te->product[b]) >= 0) continue;
                rel++;
                for (size_t q = 0; q < n; q++) hits += top[q].index == te->product[b];
            }
            recall += (double)hits / (rel < k ? rel : k);
        }
        defs[r]->free(model);
        printf("{\"impl\": \"prefrec\", \"ranker\": \"%s\", \"fit_seconds\": %.4f, \"fit_runs\": [",
               defs[r]->name, t[(runs - 1) / 2]);
        for (int i = 0; i < runs; i++) printf("%s%.4f", i ? ", " : "", t[i]);
        printf("], \"recall\": %.5f, \"users\": %d, \"k\": %d, \"threads\": %d}\n",
               n_users ? recall / n_users : 0.0, n_users, k, threads);
        fflush(stdout);
    }
    free(scores), free(top), free(order), free(cand);
    prefrec_interactions_free(tr);
    prefrec_interactions_free(te);
    prefrec_dataset_free(ds);
    return 0;
}
