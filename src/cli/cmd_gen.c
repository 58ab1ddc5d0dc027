/* cmd_gen.c - `prefrec gen`: write the demo data set (L.POINT layout) with prefrec/native/gen.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/gen.h"

static const char USAGE[] =
    "usage: prefrec gen --out DIR [--scale S] [--seed N] [--products N] [--parts N] [--quiet]\n"
    "  --out DIR    directory for LPOINT_BIG_COMP_01_DEMO.csv, 02_PDDE.csv, 04_PD_CLAC.csv,\n"
    "               06_LPAY.csv (created if missing; files are replaced atomically)\n"
    "  --scale S    1.0 = 29,913 customers, about 4.4 M purchase lines (default 1; 0 < S <= 100)\n"
    "  --seed N     random seed (default 1); same scale and seed give the same bytes\n"
    "  --products N a catalog of N products (100..1000000) in the same categories, with a\n"
    "               longer popularity tail, and the same customers (default: the fixed 1,933)\n"
    "  --parts N    the purchases as a part directory: 02_PDDE.csv/part-00000.csv .. N files,\n"
    "               each with the header, customers in order (read as the one file; for\n"
    "               mpirun, docs/mpi.md); written one part at a time\n"
    "  --quiet      no summary\n";

static void progress(void *user, double done) {
    (void)user;
    fprintf(stderr, "\rprefrec gen: %3d%% of customers", (int)(done * 100 + 0.5));
    fflush(stderr);
}

int prefrec_cmd_gen(int argc, char **argv) {
    prefrec_gen_params p = prefrec_gen_default_params();
    const char *dir = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (strcmp(a, "--out") && strcmp(a, "--scale") && strcmp(a, "--seed") &&
            strcmp(a, "--products") && strcmp(a, "--parts"))
            return cli_usage_error("gen", USAGE, "unknown option '%s'", a);
        if (i + 1 >= argc) return cli_usage_error("gen", USAGE, "%s needs a value", a);
        const char *v = argv[++i];
        char *end = NULL;
        errno = 0;
        if (!strcmp(a, "--out"))
            dir = v;
        else if (!strcmp(a, "--scale")) {
            p.scale = strtod(v, &end);
            if (end == v || *end || errno || !(p.scale > 0 && p.scale <= 100))
                return cli_usage_error("gen", USAGE,
                                       "--scale must be a number in (0, 100], got '%s'", v);
        } else if (!strcmp(a, "--products")) {
            long n = 0;
            if (cli_parse_long(v, 100, PREFREC_GEN_PRODUCTS_MAX, &n))
                return cli_usage_error("gen", USAGE, "--products must be %d..%d, got '%s'", 100,
                                       PREFREC_GEN_PRODUCTS_MAX, v);
            p.products = (int32_t)n;
        } else if (!strcmp(a, "--parts")) {
            long n = 0;
            if (cli_parse_long(v, 1, PREFREC_GEN_PARTS_MAX, &n))
                return cli_usage_error("gen", USAGE, "--parts must be 1..%d, got '%s'",
                                       PREFREC_GEN_PARTS_MAX, v);
            p.parts = (int32_t)n;
        } else {
            if (*v == '-')
                return cli_usage_error("gen", USAGE,
                                       "--seed must be a non-negative integer, got '%s'", v);
            p.seed = strtoull(v, &end, 10);
            if (end == v || *end || errno)
                return cli_usage_error("gen", USAGE,
                                       "--seed must be a non-negative integer, got '%s'", v);
        }
    }
    if (!dir) return cli_usage_error("gen", USAGE, "--out DIR is required");
    int tty = cli_stderr_is_tty();
    if (tty && !quiet) p.progress = progress;
    double t0 = cli_now();
    prefrec_gen_summary s;
    prefrec_error err = {0};
    prefrec_status st = prefrec_gen_write(dir, &p, &s, &err);
    if (tty && !quiet) fputc('\n', stderr);
    if (st) return cli_fail("gen", &err);
    if (quiet) return 0;
    printf("wrote %s (scale %g, seed %llu) in %.2f s\n", dir, p.scale, (unsigned long long)p.seed,
           cli_now() - t0);
    printf("  customers %lld (%lld buying), products %lld in %lld top / %lld mid categories\n",
           (long long)s.customers, (long long)s.buyers, (long long)s.products,
           (long long)s.top_categories, (long long)s.mid_categories);
    printf("  purchase rows %lld (buy_ct 1: %.1f%%), receipts %lld, Lpay receipts %lld\n",
           (long long)s.rows, s.rows ? 100.0 * s.rows_count_one / s.rows : 0.0,
           (long long)s.receipts, (long long)s.lpay_rows);
    printf("  affiliate       rows  receipts     Lpay\n");
    for (int a = 0; a < PREFREC_GEN_N_AFF; a++)
        printf("  A0%d      %10lld %9lld %8lld\n", a + 1, (long long)s.rows_aff[a],
               (long long)s.receipts_aff[a], (long long)s.lpay_aff[a]);
    for (int i = 0; i < 4; i++)
        printf("  %-32s %10.1f MB%s\n", prefrec_gen_file_name(i), s.bytes[i] / 1e6,
               i == 1 && p.parts ? " (a part directory)" : "");
    return 0;
}
