/* bench/ingest.c - rows per second of the native ingest of an L.POINT purchase file.
 *
 *   bench_ingest DIR [--repeat N] [--threads N] [--csv-only | --load-only]
 *
 * DIR holds LPOINT_BIG_COMP_02_PDDE.csv with its 01_DEMO and 04_PD_CLAC (06_LPAY is read too
 * when present; bench/ingest.sh links a directory without it so the figure is the purchase
 * file). Two figures, best of N runs each:
 *   csv   the CSV reader alone: every record split into fields (RFC 4180, UTF-8 checked)
 *   load  prefrec_dataset_load: the same plus ids interned, dates and numbers parsed, rows
 *         checked against the catalog, columns built (what `prefrec info` does); --threads
 *         sets prefrec_load_params.threads (0 automatic: two threads when a CPU is idle, 1 one)
 * Prints wall and CPU seconds (CPU: all threads of the process); wall time depends on what else
 * runs on the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/native/csv.h"
#include "prefrec/native/dataset.h"

static double now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ingest DIR [--repeat N]\n");
        return 2;
    }
    const char *dir = argv[1];
    int repeat = 1, do_csv = 1, do_load = 1, threads = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--csv-only"))
            do_load = 0;
        else if (!strcmp(argv[i], "--load-only"))
            do_csv = 0;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
    }
    if (repeat < 1) repeat = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_02_PDDE.csv", dir);

    double best_wall = 1e30, best_cpu = 1e30;
    unsigned long long records = 0, bytes = 0;
    for (int r = 0; r < repeat && do_csv; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        prefrec_csv *csv = NULL;
        prefrec_error err = {0};
        if (prefrec_csv_open(path, NULL, &csv, &err)) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            return 1;
        }
        unsigned long long n = 0, fields = 0;
        int st;
        while ((st = prefrec_csv_next(csv, &err)) == 1) {
            n++;
            fields += prefrec_csv_nfields(csv);
        }
        if (st < 0) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            return 1;
        }
        bytes = prefrec_csv_bytes(csv);
        prefrec_csv_close(csv);
        double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (w < best_wall) best_wall = w;
        if (c < best_cpu) best_cpu = c;
        records = n - 1; /* minus the header */
        if (fields == 0) return 1;
    }
    if (do_csv)
        printf("csv  rows=%llu bytes=%llu wall=%.3f cpu=%.3f rows_per_s=%.0f MB_per_s=%.0f\n",
               records, bytes, best_wall, best_cpu, (double)records / best_wall,
               (double)bytes / best_wall / 1e6);

    best_wall = best_cpu = 1e30;
    size_t rows = 0;
    for (int r = 0; r < repeat && do_load; r++) {
        prefrec_load_params lp = prefrec_load_default_params();
        lp.threads = threads;
        prefrec_dataset *ds = NULL;
        prefrec_error err = {0};
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        if (prefrec_dataset_load(dir, &lp, &ds, &err)) {
            fprintf(stderr, "bench_ingest: %s\n", err.msg);
            return 1;
        }
        double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (w < best_wall) best_wall = w;
        if (c < best_cpu) best_cpu = c;
        rows = ds->n_rows;
        prefrec_dataset_free(ds);
    }
    if (do_load)
        printf("load rows=%zu wall=%.3f cpu=%.3f rows_per_s=%.0f threads=%d\n", rows, best_wall,
               best_cpu, (double)rows / best_wall, threads);
    return 0;
}
