/* rankers.c - fit and scoring time of rankers, at their defaults and (--grid) at every point
 * of their hyper-parameter grid, on one training window. What a tuning run on a validation
 * window will cost. Times only: the figures of merit are `prefrec eval`'s.
 *   build/native/bench_rankers DATA CUTOFF [--affiliate CODE] [--grid] [--threads 2]
 *                              [--users 500] RANKER...
 * Window: the data's first day .. CUTOFF (YYYY-MM-DD), one affiliate (default: all rows).
 * Scoring: --users customers with history in the window, evenly spaced by index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/date.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/eval.h"
#include "prefrec/native/rankers.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fit def with params, score the sampled customers; prints one line. */
static int run(const prefrec_ranker_def *def, const void *params, const prefrec_fit_input *in,
               const int32_t *users, int n_users) {
    char desc[160] = "defaults";
    if (params && def->describe) def->describe(params, desc, sizeof desc);
    prefrec_error err = {0};
    void *model = NULL;
    double t0 = now();
    if (def->fit(in, params, &model, &err)) {
        printf("%-12s %-44s fit failed: %s\n", def->name, desc, err.msg);
        return 1;
    }
    double t1 = now();
    float *s = malloc((size_t)(in->train->n_products ? in->train->n_products : 1) * sizeof *s);
    int ok = s != NULL;
    for (int u = 0; ok && u < n_users; u++) ok = def->score(model, users[u], s) == PREFREC_OK;
    double t2 = now();
    free(s);
    def->free(model);
    printf("%-12s %-44s fit %8.2f s   score %8.3f ms/customer%s\n", def->name, desc, t1 - t0,
           n_users ? 1e3 * (t2 - t1) / n_users : 0.0, ok ? "" : " (score failed)");
    fflush(stdout);
    return !ok;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr,
                "usage: %s DATA CUTOFF [--affiliate CODE] [--grid] [--threads 2] "
                "[--users 500] RANKER...\n",
                argv[0]);
        return 2;
    }
    const char *aff = NULL;
    int grid = 0, threads = 2, want = 500, first = 3;
    for (; first < argc && !strncmp(argv[first], "--", 2); first++) {
        if (!strcmp(argv[first], "--grid"))
            grid = 1;
        else if (!strcmp(argv[first], "--affiliate") && first + 1 < argc)
            aff = argv[++first];
        else if (!strcmp(argv[first], "--threads") && first + 1 < argc)
            threads = atoi(argv[++first]);
        else if (!strcmp(argv[first], "--users") && first + 1 < argc)
            want = atoi(argv[++first]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[first]);
            return 2;
        }
    }
    int32_t cutoff;
    if (prefrec_date_parse(argv[2], strlen(argv[2]), &cutoff)) {
        fprintf(stderr, "CUTOFF '%s' is not a date\n", argv[2]);
        return 2;
    }
    prefrec_error err = {0};
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(argv[1], &lp, &ds, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int a = aff ? prefrec_dict_find(ds->affiliates, aff, strlen(aff)) : -1;
    if (aff && a < 0) {
        fprintf(stderr, "affiliate %s not in the data\n", aff);
        prefrec_dataset_free(ds);
        return 1;
    }
    prefrec_interactions *x = NULL;
    if (prefrec_interactions_build(ds, a, ds->day_min, cutoff, &x, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        prefrec_dataset_free(ds);
        return 1;
    }
    int32_t n_hist = 0;
    for (int32_t c = 0; c < x->n_customers; c++) n_hist += x->row_start[c + 1] > x->row_start[c];
    int n_users = want < n_hist ? want : n_hist;
    int32_t *users = malloc((size_t)(n_users > 0 ? n_users : 1) * sizeof *users);
    if (!users) return 1;
    int32_t seen = 0;
    int got = 0;
    for (int32_t c = 0; c < x->n_customers && got < n_users; c++)
        if (x->row_start[c + 1] > x->row_start[c]) {
            if ((int64_t)seen * n_users / n_hist == got) users[got++] = c;
            seen++;
        }
    n_users = got;
    printf("window %s .. %s, affiliate %s: %d customers with history, %lld pairs; %d threads, "
           "%d customers scored\n",
           "first day", argv[2], aff ? aff : "all", n_hist, (long long)x->n_pairs, threads,
           n_users);
    prefrec_fit_input in = {ds, x, threads, 42, 0, 0, NULL};
    int rc = 0;
    for (int r = first; r < argc; r++) {
        const prefrec_ranker_def *def = prefrec_ranker_find(argv[r]);
        if (!def) {
            fprintf(stderr, "unknown ranker %s\n", argv[r]);
            rc = 2;
            continue;
        }
        if (!grid || !def->grid) {
            rc |= run(def, NULL, &in, users, n_users);
            continue;
        }
        void *params = calloc(1, def->params_size);
        for (size_t i = 0; params && def->grid(i, params); i++)
            rc |= run(def, params, &in, users, n_users);
        free(params);
    }
    free(users);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
    return rc;
}
