/* cmd_score.c - `prefrec score`: the seed's preference score per (affiliate, customer, product),
 * written as CSV (see prefrec/native/score.h, docs/score.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"

static const char *usage_text =
    "usage: prefrec score --data PATH [--asof DATE] [--affiliate CODE] [--config FILE] --out FILE\n"
    "  --data PATH       L.POINT directory or mapping .json\n"
    "  --asof DATE       \"today\" (YYYY-MM-DD); purchases on or after it are ignored\n"
    "                    (default 2022-01-01, or the config's \"asof\")\n"
    "  --affiliate CODE  score one affiliate only (e.g. A01); default all\n"
    "  --config FILE     weights and cut points as JSON (docs/score.md)\n"
    "  --out FILE        CSV: affiliate,customer,product,count,last_date,buy_level,clac_share,\n"
    "                    low_clac,range_ratio,range_score,score (written atomically)\n";

int prefrec_cmd_score(int argc, char **argv) {
    const char *data = NULL, *asof = NULL, *aff = NULL, *config = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--data", &missing)))
            data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--asof", &missing)))
            asof = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing)))
            aff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--config", &missing)))
            config = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--out", &missing)))
            out = v;
        else if (missing)
            return cli_usage_error("score", usage_text, "%s needs a value", argv[i]);
        else
            return cli_usage_error("score", usage_text, "unknown option '%s'", argv[i]);
    }
    if (!data) return cli_usage_error("score", usage_text, "--data is required");
    if (!out) return cli_usage_error("score", usage_text, "--out is required");

    prefrec_error err = {0};
    prefrec_score_params p = prefrec_score_default_params();
    if (config && prefrec_score_params_load_json(config, &p, &err)) return cli_fail("score", &err);
    if (asof && prefrec_date_parse(asof, strlen(asof), &p.asof_day))
        return cli_usage_error("score", usage_text, "--asof '%s' is not a date (YYYY-MM-DD)", asof);

    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("score", &err);
    double t1 = cli_now();
    int ai = -1;
    if (aff) {
        ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff));
        if (ai < 0) {
            fprintf(stderr, "prefrec score: error: affiliate '%s' not in %s (has:", aff, data);
            for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++)
                fprintf(stderr, " %s", prefrec_dict_str(ds->affiliates, k));
            fprintf(stderr, ")\n");
            prefrec_dataset_free(ds);
            return 1;
        }
    }
    prefrec_scores *s = NULL;
    if (prefrec_scores_compute(ds, &p, ai, &s, &err)) {
        prefrec_dataset_free(ds);
        return cli_fail("score", &err);
    }
    double t2 = cli_now();
    prefrec_status st = prefrec_scores_write_csv(s, ds, out, &err);
    double t3 = cli_now();
    char d[11];
    if (!st)
        fprintf(stderr,
                "prefrec score: %zu rows loaded in %.3f s; %zu pairs scored as of %s in "
                "%.3f s; written to %s in %.3f s\n",
                ds->n_rows, t1 - t0, s->n, prefrec_date_format(p.asof_day, d), t2 - t1, out,
                t3 - t2);
    prefrec_scores_free(s);
    prefrec_dataset_free(ds);
    return st ? cli_fail("score", &err) : 0;
}
