/* cmd_validate.c - `prefrec validate`: the deck's check of the score. Scores from purchases
 * before the cut-off; per threshold t = 0.0 .. 4.5, the share of pairs with score >= t that were
 * bought again in [cutoff, end), per affiliate (see prefrec/native/score.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"
#include "prefrec/native/shard.h"

static const char *usage_text =
    "usage: prefrec validate --data PATH --cutoff DATE [--end DATE] [--affiliate CODE]\n"
    "                        [--config FILE] [--json FILE] [--svg FILE]\n"
    "  --cutoff DATE   scores use purchases before this day (e.g. 2021-10-01)\n"
    "  --end DATE      repurchases counted in [cutoff, end) (default 2022-01-01)\n"
    "  --config FILE   weights and cut points as JSON (docs/score.md; its asof is ignored)\n"
    "  --json FILE     the table as JSON; --svg FILE: rate vs threshold and score distribution\n";

static void print_table(const prefrec_validation *v, const prefrec_dataset *ds) {
    char a[11], b[11];
    printf("repurchase rate in [%s, %s) among (customer, product) pairs with score >= t "
           "(scores from purchases before %s)\n",
           prefrec_date_format(v->cutoff_day, a), prefrec_date_format(v->end_day, b), a);
    printf("%-9s %-6s", "affiliate", "");
    for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++) printf("   >=%.1f", v->thresholds[t]);
    printf("\n");
    for (size_t r = 0; r < v->n_rows; r++) {
        const prefrec_validate_row *row = &v->rows[r];
        printf("%-9s %-6s", prefrec_dict_str(ds->affiliates, row->affiliate), "rate");
        for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++) {
            if (row->pairs[t])
                printf(" %8.3f", (double)row->bought[t] / (double)row->pairs[t]);
            else
                printf(" %8s", "-");
        }
        printf("\n%-9s %-6s", "", "pairs");
        for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++)
            printf(" %8lld", (long long)row->pairs[t]);
        printf("\n");
    }
}

/* `mpirun -n N prefrec validate` (the native-mpi build, docs/mpi.md): each rank checks its
 * customers' pairs, the counts are summed, rank 0 prints and writes. */
static int validate_sharded(const char *data, const prefrec_score_params *p, int32_t cut_day,
                            int32_t end_day, const char *cutoff, const char *aff, const char *json,
                            const char *svg) {
    prefrec_dist *d = cli_dist();
    const int root = prefrec_dist_rank(d) == 0;
    prefrec_error err = {0};
    prefrec_shard_info info;
    prefrec_dataset *ds = NULL;
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_status st = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, &err);
    if (st) return root ? cli_fail("validate", &err) : 1;
    double t1 = cli_now();
    int ai = -1;
    if (aff && (ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0) {
        if (root) fprintf(stderr, "prefrec validate: error: affiliate '%s' not in %s\n", aff, data);
        prefrec_shard_info_free(&info);
        prefrec_dataset_free(ds);
        return 1;
    }
    if (root && info.rows_total && (end_day <= info.day_min || cut_day > info.day_max)) {
        char a[11], b[11];
        fprintf(stderr, "prefrec validate: warning: the data spans %s .. %s; ",
                prefrec_date_format(info.day_min, a), prefrec_date_format(info.day_max, b));
        fprintf(stderr, "the window [%s, %s) lies outside it\n", cutoff,
                prefrec_date_format(end_day, a));
    }
    prefrec_validation *v = NULL;
    st = prefrec_validate_compute_dist(ds, p, cut_day, end_day, ai, d, &v, &err);
    st = prefrec_dist_agree(d, st, 0, &err);
    double t2 = cli_now();
    if (!st && root) {
        print_table(v, ds);
        fflush(stdout);
        if (json) st = prefrec_validation_write_json(v, ds, json, &err);
        if (!st && svg) st = prefrec_validation_write_svg(v, ds, svg, &err);
    }
    st = prefrec_dist_agree(d, st, 0, &err);
    if (!st && root)
        fprintf(stderr,
                "prefrec validate: %llu rows loaded by %d ranks in %.3f s; scored and checked in "
                "%.3f s\n",
                (unsigned long long)info.rows_total, prefrec_dist_size(d), t1 - t0, t2 - t1);
    prefrec_validation_free(v);
    if (!st) cli_dist_report("validate", &info);
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(ds);
    return st ? (root ? cli_fail("validate", &err) : 1) : 0;
}

int prefrec_cmd_validate(int argc, char **argv) {
    const char *data = NULL, *cutoff = NULL, *end = NULL, *aff = NULL, *config = NULL;
    const char *json = NULL, *svg = NULL;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--data", &missing)))
            data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--cutoff", &missing)))
            cutoff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--end", &missing)))
            end = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing)))
            aff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--config", &missing)))
            config = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--json", &missing)))
            json = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--svg", &missing)))
            svg = v;
        else if (missing)
            return cli_usage_error("validate", usage_text, "%s needs a value", argv[i]);
        else
            return cli_usage_error("validate", usage_text, "unknown option '%s'", argv[i]);
    }
    if (!data) return cli_usage_error("validate", usage_text, "--data is required");
    if (!cutoff) return cli_usage_error("validate", usage_text, "--cutoff is required");
    int32_t cut_day, end_day = prefrec_days_from_civil(2022, 1, 1);
    if (prefrec_date_parse(cutoff, strlen(cutoff), &cut_day))
        return cli_usage_error("validate", usage_text, "--cutoff '%s' is not a date (YYYY-MM-DD)",
                               cutoff);
    if (end && prefrec_date_parse(end, strlen(end), &end_day))
        return cli_usage_error("validate", usage_text, "--end '%s' is not a date (YYYY-MM-DD)",
                               end);
    if (end_day <= cut_day)
        return cli_usage_error("validate", usage_text, "--end must be after --cutoff");

    prefrec_error err = {0};
    prefrec_score_params p = prefrec_score_default_params();
    if (config && prefrec_score_params_load_json(config, &p, &err))
        return cli_fail("validate", &err);

    if (CLI_SHARDED()) return validate_sharded(data, &p, cut_day, end_day, cutoff, aff, json, svg);
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("validate", &err);
    double t1 = cli_now();
    int ai = -1;
    if (aff && (ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0) {
        fprintf(stderr, "prefrec validate: error: affiliate '%s' not in %s\n", aff, data);
        prefrec_dataset_free(ds);
        return 1;
    }
    if (ds->n_rows && (end_day <= ds->day_min || cut_day > ds->day_max)) {
        char a[11], b[11];
        fprintf(stderr, "prefrec validate: warning: the data spans %s .. %s; ",
                prefrec_date_format(ds->day_min, a), prefrec_date_format(ds->day_max, b));
        fprintf(stderr, "the window [%s, %s) lies outside it\n", cutoff,
                prefrec_date_format(end_day, a));
    }
    prefrec_validation *v = NULL;
    if (prefrec_validate_compute(ds, &p, cut_day, end_day, ai, &v, &err)) {
        prefrec_dataset_free(ds);
        return cli_fail("validate", &err);
    }
    double t2 = cli_now();
    print_table(v, ds);
    fflush(stdout);
    prefrec_status st = PREFREC_OK;
    if (json) st = prefrec_validation_write_json(v, ds, json, &err);
    if (!st && svg) st = prefrec_validation_write_svg(v, ds, svg, &err);
    fprintf(stderr, "prefrec validate: %zu rows loaded in %.3f s; scored and checked in %.3f s\n",
            ds->n_rows, t1 - t0, t2 - t1);
    prefrec_validation_free(v);
    prefrec_dataset_free(ds);
    return st ? cli_fail("validate", &err) : 0;
}
