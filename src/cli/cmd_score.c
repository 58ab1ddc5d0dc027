/* cmd_score.c - `prefrec score`: the seed's preference score per (affiliate, customer, product),
 * written as CSV (see prefrec/native/score.h, docs/score.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"
#include "prefrec/native/shard.h"
#include "prefrec/native/atomic.h"

static const char *usage_text =
    "usage: prefrec score --data PATH [--asof DATE] [--affiliate CODE] [--config FILE] --out FILE\n"
    "  --data PATH       L.POINT directory or mapping .json\n"
    "  --asof DATE       \"today\" (YYYY-MM-DD); purchases on or after it are ignored\n"
    "                    (default 2022-01-01, or the config's \"asof\")\n"
    "  --affiliate CODE  score one affiliate only (e.g. A01); default all\n"
    "  --config FILE     weights and cut points as JSON (docs/score.md)\n"
    "  --out FILE        CSV: affiliate,customer,product,count,last_date,buy_level,clac_share,\n"
    "                    low_clac,range_ratio,range_score,score (written atomically)\n";

/* Rank 0 writes the CSV: every rank's lines, merged back into the one-process order. Runs are
 * one (affiliate, customer) each: (affiliate, customer key, end of its text) per run. */
static prefrec_status merge_write(const char *out, int n, const size_t *run_bytes, const char *runs,
                                  const size_t *text_bytes, const char *text, prefrec_error *err) {
    prefrec_atomic at;
    prefrec_status st = prefrec_atomic_open(&at, out, err);
    if (st) return st;
    fputs(PREFREC_SCORES_CSV_HEADER, at.f);
    size_t *ri = calloc(3 * (size_t)n, sizeof *ri), *rbase = ri + n, *tbase = ri + 2 * n;
    if (!ri) {
        prefrec_atomic_abort(&at);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", out);
    }
    for (int r = 1; r < n; r++) {
        rbase[r] = rbase[r - 1] + run_bytes[r - 1];
        tbase[r] = tbase[r - 1] + text_bytes[r - 1];
    }
    for (;;) {
        int best = -1;
        uint64_t ba = 0, bk = 0;
        for (int r = 0; r < n; r++) {
            if (ri[r] * 24 >= run_bytes[r]) continue;
            uint64_t v[3];
            memcpy(v, runs + rbase[r] + ri[r] * 24, sizeof v);
            if (best < 0 || v[0] < ba || (v[0] == ba && v[1] < bk)) best = r, ba = v[0], bk = v[1];
        }
        if (best < 0) break;
        uint64_t v[3], from = 0;
        memcpy(v, runs + rbase[best] + ri[best] * 24, sizeof v);
        if (ri[best]) memcpy(&from, runs + rbase[best] + ri[best] * 24 - 8, 8);
        fwrite(text + tbase[best] + from, 1, (size_t)(v[2] - from), at.f);
        ri[best]++;
    }
    free(ri);
    return prefrec_atomic_commit(&at, err);
}

/* `mpirun -n N prefrec score` (the native-mpi build, docs/mpi.md): each rank scores its
 * customers; rank 0 writes the merged CSV, byte for byte the one-process file. */
static int score_sharded(const char *data, const prefrec_score_params *p, const char *aff,
                         const char *out) {
    prefrec_dist *d = cli_dist();
    const int root = prefrec_dist_rank(d) == 0, n = prefrec_dist_size(d);
    prefrec_error err = {0};
    prefrec_shard_info info;
    prefrec_dataset *ds = NULL;
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_status st = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, &err);
    if (st) return root ? cli_fail("score", &err) : 1;
    double t1 = cli_now();
    int ai = -1;
    if (aff && (ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0) {
        if (root) {
            fprintf(stderr, "prefrec score: error: affiliate '%s' not in %s (has:", aff, data);
            for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++)
                fprintf(stderr, " %s", prefrec_dict_str(ds->affiliates, k));
            fprintf(stderr, ")\n");
        }
        prefrec_shard_info_free(&info);
        prefrec_dataset_free(ds);
        return 1;
    }
    prefrec_scores *s = NULL;
    st = prefrec_dist_agree(d, prefrec_scores_compute_dist(ds, p, ai, d, &s, &err), 0, &err);
    double t2 = cli_now();
    /* this rank's lines, one run per (affiliate, customer) */
    char *text = NULL, *runs = NULL;
    size_t text_len = 0, runs_len = 0;
    FILE *tf = st ? NULL : open_memstream(&text, &text_len);
    FILE *rf = st ? NULL : open_memstream(&runs, &runs_len);
    if (!st && (!tf || !rf)) st = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    for (size_t j = 0; !st && j < s->n;) {
        size_t k = j + 1;
        while (k < s->n && s->customer[k] == s->customer[j] && s->affiliate[k] == s->affiliate[j])
            k++;
        if (prefrec_scores_write_rows(s, ds, j, k, tf)) {
            st = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
            break;
        }
        uint64_t v[3] = {s->affiliate[j], info.customer_key[s->customer[j]], (uint64_t)ftell(tf)};
        fwrite(v, sizeof v, 1, rf);
        j = k;
    }
    if (tf && fclose(tf) && !st) st = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    if (rf && fclose(rf) && !st) st = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    int64_t pairs = s ? (int64_t)s->n : 0;
    if (!(st = prefrec_dist_agree(d, st, 0, &err))) {
        size_t *cnt = calloc(2 * (size_t)n, sizeof *cnt);
        char *all_runs = NULL, *all_text = NULL;
        if (!cnt || prefrec_dist_gatherv(d, runs, runs_len, 0, &all_runs, cnt) ||
            prefrec_dist_gatherv(d, text, text_len, 0, &all_text, cnt + n) ||
            prefrec_dist_allreduce_i64(d, &pairs, 1, PREFREC_DIST_SUM))
            st = prefrec_error_set(&err, PREFREC_E_IO, "%s: gathering the lines failed", out);
        if (!st && root) st = merge_write(out, n, cnt, all_runs, cnt + n, all_text, &err);
        free(cnt);
        free(all_runs);
        free(all_text);
        st = prefrec_dist_agree(d, st, 0, &err);
    }
    free(text);
    free(runs);
    double t3 = cli_now();
    char dd[11];
    if (!st && root)
        fprintf(stderr,
                "prefrec score: %llu rows loaded by %d ranks in %.3f s; %lld pairs scored as of "
                "%s in %.3f s; written to %s in %.3f s\n",
                (unsigned long long)info.rows_total, n, t1 - t0, (long long)pairs,
                prefrec_date_format(p->asof_day, dd), t2 - t1, out, t3 - t2);
    prefrec_scores_free(s);
    if (!st) cli_dist_report("score", &info);
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(ds);
    return st ? (root ? cli_fail("score", &err) : 1) : 0;
}

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

    if (CLI_SHARDED()) return score_sharded(data, &p, aff, out);
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
