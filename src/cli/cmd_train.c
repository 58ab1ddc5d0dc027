/* cmd_train.c - `prefrec train`: options in, the training pipeline (prefrec/native/pipeline.h) run,
 * one table row per affiliate out. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/pipeline.h"
#include "prefrec/native/shard.h"

static const char *usage_text =
    "usage: prefrec train --data PATH [--affiliate A0x|all] [--asof DATE] [--dim 32] [--epochs N]\n"
    "                     [--threads T] [--seed S] [--opt-out FILE] --out DIR\n"
    "  --data PATH        L.POINT directory or mapping .json\n"
    "  --opt-out FILE     member codes, one a line ('#' comments), as for export: their rows\n"
    "                     and demographics are removed before anything is trained or written\n"
    "  --affiliate CODE   train one affiliate (e.g. A01) or all (default)\n"
    "  --asof DATE        score as of this day (default 2022-01-01 or the --score-config's)\n"
    "  --score-config F   score weights and cut points (JSON, docs/score.md)\n"
    "  --dim N            embedding dimension (32)\n"
    "  --layers A,B       MLP hidden widths, 1 to 4 of them (64,32)\n"
    "  --epochs N         maximum epochs (20); early stopping after --patience (3) bad epochs\n"
    "  --batch N          mini-batch size (256)\n"
    "  --lr X --l2 X      Adam learning rate (0.002), L2 weight on embeddings (0.1)\n"
    "  --lr-scale R       none (default) or sqrt: train a batch of N at --lr x sqrt(N / 256),\n"
    "                     the rule that held on the batch sizes measured (docs/mpi.md)\n"
    "  --threads T        worker threads (1); results do not depend on T\n"
    "  --seed S           split, initialisation and shuffling seed (1)\n"
    "  --quiet            no per-epoch lines\n"
    "  --dump-pairs DIR   also write DIR/<affiliate>.pairs.csv (customer,product,target,gender,\n"
    "                     age,valid): the exact training data and split, for bench/train_torch.py\n"
    "  --neighbors N      neighbours per product of the default ranker (blend) added to each\n"
    "                     pack (10); 0: the NeuMF score model only\n"
    "  --min-group K      the blend's served aggregates rest on at least K members (10): a\n"
    "                     gender x age segment with fewer active customers is served as the\n"
    "                     overall popularity, a neighbour pair bought together by fewer is\n"
    "                     dropped (SECURITY.md); 0: no rule\n"
    "  --json FILE        training figures per affiliate and epoch (the report page's train.json)\n"
    "  --out DIR          writes DIR/<affiliate>.pack (atomically)\n";

static int parse_layers(const char *s, prefrec_train_params *tp) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || n == PREFREC_MODEL_MAX_LAYERS) return -1;
        tp->layers[n++] = (int)v;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    if (n == 0) return -1;
    tp->n_layers = n;
    return 0;
}

static void on_log(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "prefrec train: %s\n", line);
}

static void on_done(void *ctx, const prefrec_pipeline_affiliate *a) {
    (void)ctx;
    const prefrec_train_report *rep = &a->report;
    printf("%-4s %9zu %9d %8d %6d %5d %10.4f %10.4f %9.3f %10zu\n", a->code, a->n_pairs,
           a->n_customers, a->n_products, rep->epochs_run, rep->best_epoch, rep->train_rmse,
           rep->valid_rmse, rep->seconds_per_epoch, a->pack_bytes);
    fflush(stdout);
}

/* --opt-out: the listed members' rows and demographics leave the dataset before training. */
static prefrec_status opt_out(prefrec_dataset *ds, const char *path, prefrec_error *err) {
    char *text = NULL, **codes = NULL;
    size_t n = 0, rows = 0, members = 0;
    int32_t nc = prefrec_dict_size(ds->customers);
    prefrec_status s = cli_read_opt_out(path, &text, &codes, &n, err);
    uint8_t *drop = s ? NULL : calloc(nc > 0 ? (size_t)nc : 1, 1);
    if (!s && !drop) s = prefrec_error_set(err, PREFREC_E_NOMEM, "opt-out: out of memory");
    for (size_t i = 0; !s && i < n; i++) {
        int32_t c = prefrec_dict_find(ds->customers, codes[i], strlen(codes[i]));
        if (c >= 0) drop[c] = 1, members++;
    }
    if (!s) s = prefrec_dataset_drop_customers(ds, drop, &rows, err);
    if (!s)
        fprintf(stderr,
                "prefrec train: opt-out %s: %zu members excluded (%zu purchase rows removed); %zu "
                "listed codes are not in the data\n",
                path, members, rows, n - members);
    free(drop);
    free(codes);
    free(text);
    return s;
}

/* `mpirun -n N prefrec train` (the native-mpi build, docs/mpi.md): each rank loads and scores
 * its customers, trains the NeuMF data-parallel and writes its customers' rows of each pack;
 * rank 0 writes the rest of each pack (src/train/pack_dist.c). */
static int train_sharded(const char *data, const char *opt_path, prefrec_pipeline_params *pp) {
    prefrec_dist *d = cli_dist();
    const int root = prefrec_dist_rank(d) == 0;
    prefrec_error err = {0};
    prefrec_shard_info info;
    prefrec_dataset *ds = NULL;
    prefrec_load_params lp = prefrec_load_default_params();
    double t0 = cli_now();
    prefrec_status st = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, &err);
    if (st) return root ? cli_fail("train", &err) : 1;
    if (root)
        fprintf(stderr, "prefrec train: %llu rows loaded by %d ranks in %.3f s\n",
                (unsigned long long)info.rows_total, prefrec_dist_size(d), cli_now() - t0);
    if (opt_path) {
        /* each rank drops the listed members it owns; the counts are summed */
        char *text = NULL, **codes = NULL;
        size_t n = 0;
        int32_t nc = prefrec_dict_size(ds->customers);
        int64_t v[2] = {0, 0}; /* members, rows */
        st = cli_read_opt_out(opt_path, &text, &codes, &n, &err);
        uint8_t *drop = st ? NULL : calloc(nc > 0 ? (size_t)nc : 1, 1);
        int64_t *seen = st ? NULL : calloc(n + 1, sizeof *seen); /* per code: known on a rank */
        if (!st && (!drop || !seen))
            st = prefrec_error_set(&err, PREFREC_E_NOMEM, "opt-out: out of memory");
        for (size_t i = 0; !st && i < n; i++) {
            int32_t c = prefrec_dict_find(ds->customers, codes[i], strlen(codes[i]));
            if (c >= 0) drop[c] = 1, seen[i] = 1;
        }
        size_t rows = 0;
        if (!st) st = prefrec_dataset_drop_customers(ds, drop, &rows, &err);
        v[1] = (int64_t)rows;
        /* a customer of the customer file is known on every rank: a code counts once */
        if (!(st = prefrec_dist_agree(d, st, 0, &err)) &&
            (prefrec_dist_allreduce_i64(d, seen, n, PREFREC_DIST_MAX) ||
             prefrec_dist_allreduce_i64(d, v + 1, 1, PREFREC_DIST_SUM)))
            st = prefrec_error_set(&err, PREFREC_E_IO, "opt-out: counting over the ranks");
        for (size_t i = 0; !st && i < n; i++) v[0] += seen[i];
        free(seen), free(drop), free(codes), free(text);
        if (!st && root)
            fprintf(stderr,
                    "prefrec train: opt-out %s: %lld members excluded (%lld purchase rows "
                    "removed); %lld listed codes are not in the data\n",
                    opt_path, (long long)v[0], (long long)v[1], (long long)n - v[0]);
    }
    if (!st) {
        pp->log = root ? on_log : NULL;
        pp->done = root ? on_done : NULL;
        if (!root) pp->train.verbose = 0;
        if (root)
            printf("%-4s %9s %9s %8s %6s %5s %10s %10s %9s %10s\n", "aff", "pairs", "customers",
                   "products", "epochs", "best", "train_rmse", "valid_rmse", "s/epoch",
                   "pack_bytes");
        prefrec_pipeline_result res;
        st = prefrec_pipeline_train_dist(ds, info.customer_key, d, pp, &res, &err);
        prefrec_pipeline_result_free(&res);
    }
    if (!st) cli_dist_report("train", &info);
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(ds);
    return st ? (root ? cli_fail("train", &err) : 1) : 0;
}

int prefrec_cmd_train(int argc, char **argv) {
    const char *data = NULL, *asof = NULL, *config = NULL, *opt_path = NULL;
    prefrec_pipeline_params pp = prefrec_pipeline_default_params();
    prefrec_train_params *tp = &pp.train;
    int lr_sqrt = 0; /* --lr-scale sqrt */
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        long l;
        double d;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--quiet"))
            tp->verbose = 0;
        else if ((v = cli_opt_value(argc, argv, &i, "--data", &missing)))
            data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing)))
            pp.affiliate = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--asof", &missing)))
            asof = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--score-config", &missing)))
            config = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--out", &missing)))
            pp.out_dir = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--opt-out", &missing)))
            opt_path = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--dump-pairs", &missing)))
            pp.dump_dir = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--json", &missing)))
            pp.json_path = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--layers", &missing))) {
            if (parse_layers(v, tp))
                return cli_usage_error("train", usage_text,
                                       "--layers '%s': 1 to 4 widths in 1..4096, comma-separated",
                                       v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--dim", &missing))) {
            if (cli_parse_long(v, 1, 1024, &l))
                return cli_usage_error("train", usage_text,
                                       "--dim '%s' is not an integer in 1..1024", v);
            tp->dim = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--epochs", &missing))) {
            if (cli_parse_long(v, 1, 100000, &l))
                return cli_usage_error("train", usage_text,
                                       "--epochs '%s' is not a positive integer", v);
            tp->epochs = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--patience", &missing))) {
            if (cli_parse_long(v, 1, 100000, &l))
                return cli_usage_error("train", usage_text,
                                       "--patience '%s' is not a positive integer", v);
            tp->patience = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--batch", &missing))) {
            if (cli_parse_long(v, 1, 1 << 20, &l))
                return cli_usage_error("train", usage_text, "--batch '%s' is not in 1..1048576", v);
            tp->batch = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--neighbors", &missing))) {
            if (cli_parse_long(v, 0, 4096, &l))
                return cli_usage_error("train", usage_text, "--neighbors '%s' is not in 0..4096",
                                       v);
            pp.neighbors = (int32_t)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--min-group", &missing))) {
            if (cli_parse_long(v, 0, 1000000, &l))
                return cli_usage_error("train", usage_text, "--min-group '%s' is not in 0..1000000",
                                       v);
            pp.min_group = (int32_t)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--threads", &missing))) {
            if (cli_parse_long(v, 1, 256, &l))
                return cli_usage_error("train", usage_text, "--threads '%s' is not in 1..256", v);
            tp->threads = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--seed", &missing))) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || end == v || *end || v[0] == '-')
                return cli_usage_error("train", usage_text,
                                       "--seed '%s' is not a non-negative integer", v);
            tp->seed = s;
        } else if ((v = cli_opt_value(argc, argv, &i, "--lr", &missing))) {
            if (cli_parse_double(v, &d) || d <= 0)
                return cli_usage_error("train", usage_text, "--lr '%s' is not a positive number",
                                       v);
            tp->lr = (float)d;
        } else if ((v = cli_opt_value(argc, argv, &i, "--lr-scale", &missing))) {
            if (strcmp(v, "none") && strcmp(v, "sqrt"))
                return cli_usage_error("train", usage_text, "--lr-scale '%s' is not none or sqrt",
                                       v);
            lr_sqrt = !strcmp(v, "sqrt");
        } else if ((v = cli_opt_value(argc, argv, &i, "--l2", &missing))) {
            if (cli_parse_double(v, &d) || d < 0)
                return cli_usage_error("train", usage_text, "--l2 '%s' is not a number >= 0", v);
            tp->l2 = (float)d;
        } else if (missing)
            return cli_usage_error("train", usage_text, "%s needs a value", argv[i]);
        else
            return cli_usage_error("train", usage_text, "unknown option '%s'", argv[i]);
    }
    /* the rate scaled to the batch once the options are read (in any order); from the float
     * rate, so --lr 0.002 and the default give the same bits; the manifest records the result */
    if (lr_sqrt) tp->lr = (float)((double)tp->lr * sqrt((double)tp->batch / 256.0));
    if (!data) return cli_usage_error("train", usage_text, "--data is required");
    if (!pp.out_dir) return cli_usage_error("train", usage_text, "--out is required");

    prefrec_error err = {0};
    if (config && prefrec_score_params_load_json(config, &pp.score, &err))
        return cli_fail("train", &err);
    if (asof && prefrec_date_parse(asof, strlen(asof), &pp.score.asof_day))
        return cli_usage_error("train", usage_text, "--asof '%s' is not a date (YYYY-MM-DD)", asof);

    if (CLI_SHARDED()) return train_sharded(data, opt_path, &pp);
    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("train", &err);
    if (opt_path && opt_out(ds, opt_path, &err)) {
        prefrec_dataset_free(ds);
        return cli_fail("train", &err);
    }
    pp.log = on_log;
    pp.done = on_done;
    printf("%-4s %9s %9s %8s %6s %5s %10s %10s %9s %10s\n", "aff", "pairs", "customers", "products",
           "epochs", "best", "train_rmse", "valid_rmse", "s/epoch", "pack_bytes");
    prefrec_pipeline_result res;
    int rc = prefrec_pipeline_train(ds, &pp, &res, &err) ? cli_fail("train", &err) : 0;
    prefrec_pipeline_result_free(&res);
    prefrec_dataset_free(ds);
    return rc;
}
