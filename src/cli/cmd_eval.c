/* cmd_eval.c - `prefrec eval`: every ranker fitted before each cut-off (rolling windows, or one
 * --cutoff) and measured on what customers bought after it (prefrec/native/eval.h,
 * docs/eval.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/eval.h"
#include "prefrec/native/shard.h"
#include "prefrec/pack.h"

/* What `prefrec eval` measures without --rankers: the task defaults and the baselines whose
 * grids tune in minutes at demo scale 1 and on a large catalogue (ease on every product, whose
 * dense solve grows with products^3, tifu_knn, upcf, mf and bpr take far longer: --rankers all
 * or by name). */
#define STANDARD_RANKERS "pop,pop_seg,gp_topfreq,itemknn,rep_freq,seed_score,blend_served,due,mixed"

static const char *usage_text =
    "usage: prefrec eval --data PATH [--windows 3] [--step 30] [--val-days N] [--end DATE]\n"
    "                    [--cutoff DATE] [--k 20] [--affiliate CODE] [--rankers a,b,...]\n"
    "                    [--default NAME] [--bootstrap 1000] [--no-tune] [--threads 2]\n"
    "                    [--seed 42] [--json FILE] [--html FILE] [--skip-bad-rows]\n"
    "  --windows N      rolling test windows of --step days, the last ending at --end; each\n"
    "                   earlier by --step (default 3; fewer, with a message, when the data is\n"
    "                   short: a window needs 2 x --val-days days of data before its cut-off)\n"
    "  --step DAYS      test window length and distance between cut-offs (default 30)\n"
    "  --val-days N     validation window cut from the end of each training window, where\n"
    "                   rankers with a grid are tuned (default: the test window's length)\n"
    "  --end DATE       first day after the (last) test window (default: the data's last day + 1)\n"
    "  --cutoff DATE    one test window [DATE, --end) instead of rolling windows\n"
    "  --k N            list length for Recall/NDCG/hit rate/coverage (default 20)\n"
    "  --affiliate CODE evaluate one affiliate (default: each affiliate, and overall)\n"
    "  --rankers LIST   comma-separated rankers, or 'all' for every built-in one (default: the\n"
    "                   standard set " STANDARD_RANKERS ":\n"
    "                   the defaults and the baselines that tune in minutes at demo scale 1)\n"
    "  --default NAME   the ranker compared with the best other one (default: the served one)\n"
    "  --bootstrap N    replicates of the 95% interval (a Poisson bootstrap over customers;\n"
    "                   default 1000; 0: none)\n"
    "  --no-tune        rankers use their default params (no validation grid)\n"
    "  --min-group K    blend_served and mixed serve aggregates resting on at least K members,\n"
    "                   as prefrec train does (default 10; 0: no rule; SECURITY.md)\n"
    "  --storage PLAN   blend_served, mixed and neumf score through the values a version-2\n"
    "                   pack stored with PLAN decodes (name=f32|f16|q8r|q4r|q8c|q4c|q5r|\n"
    "                   q6r|u16|d16|u8d|r16|pcn,...: prefrec export)\n"
    "  --json FILE      figures as JSON; --html FILE: a self-contained report page\n";

/* Fill rk from "a,b,c"; returns the count or -1 (name copied to bad). */
static int parse_rankers(const char *list, prefrec_eval_ranker *rk, int cap, char *bad,
                         size_t bad_len) {
    int n = 0;
    const char *p = list;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char name[64];
        if (len == 0 || len >= sizeof name || n >= cap) {
            snprintf(bad, bad_len, "%.*s", (int)(len < 60 ? len : 60), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        const prefrec_ranker_def *d = prefrec_ranker_find(name);
        if (!d) {
            snprintf(bad, bad_len, "%s", name);
            return -1;
        }
        rk[n].def = d;
        rk[n].params = NULL;
        n++;
        p += len + (q ? 1 : 0);
    }
    return n;
}

/* `mpirun -n N prefrec eval` (the native-mpi build, docs/mpi.md): each rank loads its
 * customers (the sharded load), fits the rankers sharded and ranks its own users; rank 0 adds
 * the figures up in the one-process customer order and writes the reports, only when every
 * rank got there. */
static int eval_sharded(const char *data, const char *aff, prefrec_eval_params *ep,
                        const prefrec_eval_ranker *rk, size_t n_rk, const char *json,
                        const char *html) {
    prefrec_dist *d = cli_dist();
    const int root = prefrec_dist_rank(d) == 0;
    prefrec_error err = {0};
    prefrec_shard_info info;
    memset(&info, 0, sizeof info);
    prefrec_dataset *ds = NULL;
    prefrec_load_params lp = prefrec_load_default_params();
    double t0 = cli_now();
    prefrec_status st = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, &err);
    if (st) return root ? cli_fail("eval", &err) : 1;
    if (root)
        fprintf(stderr, "prefrec eval: %llu rows loaded by %d ranks in %.2f s\n",
                (unsigned long long)info.rows_total, prefrec_dist_size(d), cli_now() - t0);
    /* the affiliates are the same on every rank (the sharded load orders them) */
    if (aff && (ep->affiliate = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0)
        st = prefrec_error_set(&err, PREFREC_E_NOTFOUND, "affiliate '%s' not in %s", aff, data);
    prefrec_eval_result *res = NULL;
    double t1 = cli_now();
    if (!st)
        st = prefrec_eval_run_dist(ds, info.customer_key, info.day_min, info.day_max,
                                   info.rows_total, d, ep, rk, n_rk, &res, &err);
    st = prefrec_dist_agree(d, st, 0, &err);
    double t2 = cli_now();
    if (!st && root) {
        prefrec_eval_print_table(res, stdout);
        if (json) st = prefrec_eval_write_json(res, json, &err);
        if (!st && html) st = prefrec_eval_write_html(res, html, &err);
        fprintf(stderr, "prefrec eval: evaluated %zu rankers on %d ranks in %.2f s\n", n_rk,
                prefrec_dist_size(d), t2 - t1);
    }
    st = prefrec_dist_agree(d, st, 0, &err);
    if (!st) cli_dist_report("eval", &info);
    prefrec_eval_result_free(res);
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(ds);
    return st ? (root ? cli_fail("eval", &err) : 1) : 0;
}

int prefrec_cmd_eval(int argc, char **argv) {
    const char *data = NULL, *cutoff = NULL, *end = NULL, *aff = NULL, *json = NULL;
    const char *html = NULL, *list = NULL, *def_name = NULL, *v;
    long k = 20, threads = 2, seed = 42, windows = -1, step = 30, val_days = 0, boot = 1000;
    long min_group = -1;
    const char *storage = NULL;
    int skip_bad = 0, no_tune = 0;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            size_t n;
            const prefrec_ranker_def *const *defs = prefrec_rankers_builtin(&n);
            printf("\nrankers (default: %s):\n", prefrec_ranker_default_name);
            for (size_t r = 0; r < n; r++) printf("  %-12s %s\n", defs[r]->name, defs[r]->summary);
            return 0;
        }
        if (!strcmp(argv[i], "--skip-bad-rows"))
            skip_bad = 1;
        else if (!strcmp(argv[i], "--no-tune"))
            no_tune = 1;
        else if ((v = cli_opt_value(argc, argv, &i, "--default", &missing)))
            def_name = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--windows", &missing))) {
            if (cli_parse_long(v, 1, 100, &windows))
                return cli_usage_error("eval", usage_text, "--windows must be 1..100 (got '%s')",
                                       v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--step", &missing))) {
            if (cli_parse_long(v, 1, 3660, &step))
                return cli_usage_error("eval", usage_text, "--step must be 1..3660 days (got '%s')",
                                       v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--val-days", &missing))) {
            if (cli_parse_long(v, 1, 3660, &val_days))
                return cli_usage_error("eval", usage_text,
                                       "--val-days must be 1..3660 days (got '%s')", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--bootstrap", &missing))) {
            if (cli_parse_long(v, 0, 1000000, &boot))
                return cli_usage_error("eval", usage_text,
                                       "--bootstrap must be 0..1000000 (got '%s')", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--min-group", &missing))) {
            if (cli_parse_long(v, 0, 1000000, &min_group))
                return cli_usage_error("eval", usage_text,
                                       "--min-group must be 0..1000000 (got '%s')", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--storage", &missing))) {
            prefrec_error perr = {0};
            if (prefrec_quant_plan_check(v, &perr))
                return cli_usage_error("eval", usage_text, "--storage: %s", perr.msg);
            storage = v;
        } else if ((v = cli_opt_value(argc, argv, &i, "--data", &missing)))
            data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--cutoff", &missing)))
            cutoff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--end", &missing)))
            end = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing)))
            aff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--json", &missing)))
            json = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--html", &missing)))
            html = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--rankers", &missing)))
            list = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--k", &missing))) {
            if (cli_parse_long(v, 1, 1000, &k))
                return cli_usage_error("eval", usage_text, "--k must be 1..1000 (got '%s')", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--threads", &missing))) {
            if (cli_parse_long(v, 1, 64, &threads))
                return cli_usage_error("eval", usage_text, "--threads must be 1..64 (got '%s')", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--seed", &missing))) {
            if (cli_parse_long(v, 0, 0x7fffffffL, &seed))
                return cli_usage_error("eval", usage_text, "--seed must be a non-negative integer");
        } else if (missing)
            return cli_usage_error("eval", usage_text, "%s needs a value", argv[i]);
        else
            return cli_usage_error("eval", usage_text, "unknown option '%s'", argv[i]);
    }
    if (!data) return cli_usage_error("eval", usage_text, "--data is required");
    if (cutoff && windows > 0)
        return cli_usage_error("eval", usage_text,
                               "--cutoff (one window) and --windows (rolling windows) exclude "
                               "each other");
    prefrec_eval_params ep = prefrec_eval_default_params();
    if (cutoff && prefrec_date_parse(cutoff, strlen(cutoff), &ep.cutoff))
        return cli_usage_error("eval", usage_text, "--cutoff '%s' is not a date (YYYY-MM-DD)",
                               cutoff);
    if (end && prefrec_date_parse(end, strlen(end), &ep.end))
        return cli_usage_error("eval", usage_text, "--end '%s' is not a date (YYYY-MM-DD)", end);
    if (cutoff && end && ep.end <= ep.cutoff)
        return cli_usage_error("eval", usage_text, "--end must be after --cutoff");
    if (windows > 0) ep.windows = (int)windows;
    ep.step_days = (int)step;
    ep.val_days = (int)val_days;
    ep.bootstrap = (int)boot;
    ep.tune = !no_tune;
    ep.k = (int)k;
    ep.threads = (int)threads;
    ep.seed = (uint64_t)seed;
    ep.verbose = 1;
    if (min_group >= 0) ep.min_group = (int32_t)min_group;
    ep.storage = storage;
    prefrec_eval_ranker rk[64];
    size_t n_rk = 0;
    if (!list) list = STANDARD_RANKERS;
    if (strcmp(list, "all")) {
        char bad[64];
        int n = parse_rankers(list, rk, 64, bad, sizeof bad);
        if (n <= 0)
            return cli_usage_error("eval", usage_text, "unknown ranker '%s' (see --help)", bad);
        n_rk = (size_t)n;
    } else {
        const prefrec_ranker_def *const *defs = prefrec_rankers_builtin(&n_rk);
        if (n_rk > 64) n_rk = 64;
        for (size_t r = 0; r < n_rk; r++) rk[r] = (prefrec_eval_ranker){defs[r], NULL};
    }
    if (def_name) {
        if (!prefrec_ranker_find(def_name))
            return cli_usage_error("eval", usage_text, "unknown ranker '%s' (see --help)",
                                   def_name);
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++) ep.defaults[t] = def_name;
    }

    if (CLI_SHARDED()) {
        if (skip_bad && prefrec_dist_rank(cli_dist()) != 0) return 2; /* rank 0 says why */
        if (skip_bad)
            return cli_usage_error("eval", usage_text,
                                   "--skip-bad-rows is not available on several ranks (the "
                                   "sharded load stops at the first bad line)");
        /* refused before any work: a ranker whose fit is not written for a sharded window */
        for (size_t r = 0; prefrec_dist_size(cli_dist()) > 1 && r < n_rk; r++)
            if (!prefrec_ranker_sharded(rk[r].def)) {
                if (prefrec_dist_rank(cli_dist()) == 0)
                    fprintf(stderr,
                            "prefrec eval: error: ranker '%s' is not sharded (%s): on several "
                            "ranks eval runs %s; run it in one process (without mpirun, or "
                            "PREFREC_ONE_PROCESS=1)\n",
                            rk[r].def->name, prefrec_ranker_unsharded_why(rk[r].def),
                            prefrec_rankers_sharded_names());
                return 1;
            }
        if (prefrec_dist_rank(cli_dist()) != 0) ep.verbose = 0;
        return eval_sharded(data, aff, &ep, rk, n_rk, json, html);
    }
    prefrec_error err = {0};
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    lp.skip_bad_rows = skip_bad;
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("eval", &err);
    fprintf(stderr, "prefrec eval: %zu rows loaded in %.2f s\n", ds->n_rows, cli_now() - t0);
    if (aff && (ep.affiliate = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0) {
        fprintf(stderr, "prefrec eval: error: affiliate '%s' not in %s\n", aff, data);
        prefrec_dataset_free(ds);
        return 1;
    }
    prefrec_eval_result *res = NULL;
    double t1 = cli_now();
    if (prefrec_eval_run(ds, &ep, rk, n_rk, &res, &err)) {
        prefrec_dataset_free(ds);
        return cli_fail("eval", &err);
    }
    double t2 = cli_now();
    prefrec_eval_print_table(res, stdout);
    prefrec_status st = PREFREC_OK;
    if (json) st = prefrec_eval_write_json(res, json, &err);
    if (!st && html) st = prefrec_eval_write_html(res, html, &err);
    fprintf(stderr, "prefrec eval: evaluated %zu rankers in %.2f s\n", n_rk, t2 - t1);
    prefrec_eval_result_free(res);
    prefrec_dataset_free(ds);
    return st ? cli_fail("eval", &err) : 0;
}
