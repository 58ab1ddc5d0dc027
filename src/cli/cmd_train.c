/* cmd_train.c - `prefrec train`: preference scores -> one NeuMF model pack per affiliate
 * (see prefrec/train.h, docs/model.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "prefrec/atomic.h"
#include "prefrec/blend_export.h"
#include "prefrec/dataset.h"
#include "prefrec/date.h"
#include "prefrec/score.h"
#include "prefrec/train.h"

static const char *usage_text =
    "usage: prefrec train --data PATH [--affiliate A0x|all] [--asof DATE] [--dim 32] [--epochs N]\n"
    "                     [--threads T] [--seed S] --out DIR\n"
    "  --data PATH        L.POINT directory or mapping .json\n"
    "  --affiliate CODE   train one affiliate (e.g. A01) or all (default)\n"
    "  --asof DATE        score as of this day (default 2022-01-01 or the --score-config's)\n"
    "  --score-config F   score weights and cut points (JSON, docs/score.md)\n"
    "  --dim N            embedding dimension (32)\n"
    "  --layers A,B       MLP hidden widths, 1 to 4 of them (64,32)\n"
    "  --epochs N         maximum epochs (20); early stopping after --patience (3) bad epochs\n"
    "  --batch N          mini-batch size (256)\n"
    "  --lr X --l2 X      Adam learning rate (0.002), L2 weight on embeddings (0.1)\n"
    "  --threads T        worker threads (1); results do not depend on T\n"
    "  --seed S           split, initialisation and shuffling seed (1)\n"
    "  --quiet            no per-epoch lines\n"
    "  --dump-pairs DIR   also write DIR/<affiliate>.pairs.csv (customer,product,target,gender,\n"
    "                     age,valid): the exact training data and split, for bench/train_torch.py\n"
    "  --neighbors N      neighbours per product of the default ranker (blend) added to each\n"
    "                     pack (10); 0: the NeuMF score model only\n"
    "  --json FILE        training figures per affiliate and epoch (the report page's train.json)\n"
    "  --out DIR          writes DIR/<affiliate>.pack (atomically)\n";

static int make_dir(const char *dir, prefrec_error *err) {
    if (mkdir(dir, 0777) && errno != EEXIST) {
        prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create directory: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* One affiliate's training set with local (dense) indices. */
typedef struct aff_set {
    prefrec_train_data td;
    int32_t *cust, *prod, *cglob, *pglob, *pcat, *psub;
    float *target, *age;
    int8_t *gender;
    const char **pcode, **pname, **ccode;
} aff_set;

static void aff_free(aff_set *a) {
    free(a->cust), free(a->prod), free(a->cglob), free(a->pglob), free(a->pcat), free(a->psub);
    free(a->target), free(a->age), free(a->gender), free(a->pcode), free(a->pname), free(a->ccode);
    memset(a, 0, sizeof *a);
}

/* Fit the default ranker (blend) on the affiliate's purchases before the as-of day and add
 * its served form to the pack just written, so the pack serves both rankers. */
static prefrec_status add_blend(const prefrec_dataset *ds, int32_t aff, int32_t asof, const aff_set *a,
                                const prefrec_train_params *tp, int32_t neighbors, const char *path,
                                prefrec_error *err) {
    prefrec_interactions *x = NULL;
    void *bm = NULL;
    int32_t NP = prefrec_dict_size(ds->products);
    int32_t *pmap = malloc(((size_t)NP + 1) * sizeof *pmap);
    prefrec_blend_tensors bt;
    memset(&bt, 0, sizeof bt);
    prefrec_status st = pmap ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (!st) st = prefrec_interactions_build(ds, aff, ds->day_min, asof, &x, err);
    if (!st) {
        prefrec_fit_input in = {ds, x, tp->threads, tp->seed, tp->verbose};
        st = prefrec_ranker_blend.fit(&in, NULL, &bm, err);
    }
    if (!st) {
        for (int32_t g = 0; g < NP; g++) pmap[g] = -1;
        for (int32_t p = 0; p < a->td.n_products; p++) pmap[a->pglob[p]] = p;
        st = prefrec_blend_tensors_build(bm, x, pmap, a->td.n_products, neighbors, &bt, err);
    }
    float *ptarget = NULL, *lines = NULL;
    if (!st) {
        /* each product's mean training score: the fold-in's target for a bought product */
        int32_t P = a->td.n_products;
        double sum = 0, *ps = calloc((size_t)P + 1, sizeof *ps);
        int32_t *pn = calloc((size_t)P + 1, sizeof *pn);
        ptarget = malloc(((size_t)P + 1) * sizeof *ptarget);
        if (!ps || !pn || !ptarget) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < a->td.n_pairs; i++) {
            sum += a->td.target[i];
            ps[a->td.product[i]] += a->td.target[i];
            pn[a->td.product[i]]++;
        }
        double mean = a->td.n_pairs ? sum / (double)a->td.n_pairs : -1;
        for (int32_t p = 0; !st && p < P; p++) ptarget[p] = (float)(pn[p] ? ps[p] / pn[p] : mean);
        /* purchase lines per customer in this affiliate before the as-of day */
        int32_t NC = prefrec_dict_size(ds->customers), C = a->td.n_customers;
        int32_t *cmap = malloc(((size_t)NC + 1) * sizeof *cmap);
        lines = calloc((size_t)C + 1, sizeof *lines);
        if (!st && (!cmap || !lines)) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        if (!st) {
            for (int32_t g = 0; g < NC; g++) cmap[g] = -1;
            for (int32_t c = 0; c < C; c++) cmap[a->cglob[c]] = c;
            for (size_t r = 0; r < ds->n_rows; r++)
                if (ds->affiliate[r] == aff && ds->day[r] < asof && cmap[ds->customer[r]] >= 0)
                    lines[cmap[ds->customer[r]]] += 1.0f;
            st = prefrec_pack_add_blend(path, &bt, mean, ptarget, lines, err);
        }
        free(cmap);
        free(ps);
        free(pn);
    }
    free(ptarget);
    free(lines);
    prefrec_blend_tensors_free(&bt);
    prefrec_ranker_blend.free(bm);
    prefrec_interactions_free(x);
    free(pmap);
    return st;
}

/* Local indices: customers and products in ascending global index order. */
static prefrec_status build_set(const prefrec_dataset *ds, const prefrec_scores *s, aff_set *a, prefrec_error *err) {
    memset(a, 0, sizeof *a);
    int32_t NC = prefrec_dict_size(ds->customers), NP = prefrec_dict_size(ds->products);
    int32_t *cmap = malloc(((size_t)NC + 1) * sizeof *cmap), *pmap = malloc(((size_t)NP + 1) * sizeof *pmap);
    a->cust = malloc(s->n * sizeof *a->cust + 1);
    a->prod = malloc(s->n * sizeof *a->prod + 1);
    a->target = malloc(s->n * sizeof *a->target + 1);
    if (!cmap || !pmap || !a->cust || !a->prod || !a->target) goto nomem;
    for (int32_t i = 0; i < NC; i++) cmap[i] = -1;
    for (int32_t i = 0; i < NP; i++) pmap[i] = -1;
    for (size_t i = 0; i < s->n; i++) cmap[s->customer[i]] = pmap[s->product[i]] = 0;
    int32_t C = 0, P = 0;
    for (int32_t i = 0; i < NC; i++)
        if (cmap[i] == 0) cmap[i] = C++;
    for (int32_t i = 0; i < NP; i++)
        if (pmap[i] == 0) pmap[i] = P++;
    a->cglob = malloc((size_t)C * sizeof *a->cglob + 1);
    a->pglob = malloc((size_t)P * sizeof *a->pglob + 1);
    a->gender = malloc((size_t)C + 1);
    a->age = malloc((size_t)C * sizeof *a->age + 1);
    a->ccode = malloc((size_t)C * sizeof *a->ccode + 1);
    a->pcode = malloc((size_t)P * sizeof *a->pcode + 1);
    a->pname = malloc((size_t)P * sizeof *a->pname + 1);
    a->pcat = malloc((size_t)P * sizeof *a->pcat + 1);
    a->psub = malloc((size_t)P * sizeof *a->psub + 1);
    if (!a->cglob || !a->pglob || !a->gender || !a->age || !a->ccode || !a->pcode || !a->pname || !a->pcat || !a->psub)
        goto nomem;
    for (int32_t i = 0; i < NC; i++)
        if (cmap[i] >= 0) {
            int32_t c = cmap[i];
            a->cglob[c] = i;
            a->ccode[c] = prefrec_dict_str(ds->customers, i);
            a->gender[c] = (int8_t)(ds->has_demographics && ds->gender ? ds->gender[i] : PREFREC_GENDER_UNKNOWN);
            a->age[c] = ds->has_demographics && ds->age ? ds->age[i] : NAN;
        }
    for (int32_t i = 0; i < NP; i++)
        if (pmap[i] >= 0) {
            int32_t p = pmap[i];
            a->pglob[p] = i;
            a->pcode[p] = prefrec_dict_str(ds->products, i);
            a->pname[p] = ds->product_name && ds->product_name[i] ? ds->product_name[i] : a->pcode[p];
            a->pcat[p] = ds->has_catalog && ds->product_category ? ds->product_category[i] : -1;
            a->psub[p] = ds->has_catalog && ds->product_subcategory ? ds->product_subcategory[i] : -1;
        }
    for (size_t i = 0; i < s->n; i++) {
        a->cust[i] = cmap[s->customer[i]];
        a->prod[i] = pmap[s->product[i]];
        a->target[i] = s->score[i];
    }
    free(cmap);
    free(pmap);
    prefrec_train_data td = {s->n, a->cust, a->prod, a->target, C, P, a->gender, a->age};
    a->td = td;
    return PREFREC_OK;
nomem:
    free(cmap);
    free(pmap);
    aff_free(a);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
}

static prefrec_status dump_pairs(const aff_set *a, const prefrec_train_params *tp, const char *path, prefrec_error *err) {
    uint8_t *valid = malloc(a->td.n_pairs + 1);
    if (!valid) return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    prefrec_status s = prefrec_train_split(a->td.n_pairs, tp->valid_frac, tp->seed, valid, err);
    prefrec_atomic at;
    if (!s) s = prefrec_atomic_open(&at, path, err);
    if (!s) {
        fprintf(at.f, "customer,product,target,gender,age,valid\n");
        for (size_t i = 0; i < a->td.n_pairs; i++) {
            int32_t c = a->cust[i];
            int g = a->gender[c] == 0 || a->gender[c] == 1 ? a->gender[c] : -1;
            if (isnan(a->age[c]))
                fprintf(at.f, "%d,%d,%.9g,%d,,%d\n", c, a->prod[i], a->target[i], g, valid[i]);
            else
                fprintf(at.f, "%d,%d,%.9g,%d,%.9g,%d\n", c, a->prod[i], a->target[i], g, a->age[c], valid[i]);
        }
        s = prefrec_atomic_commit(&at, err);
    }
    free(valid);
    return s;
}

static int parse_layers(const char *s, prefrec_train_params *tp) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || n == PREFREC_MODEL_MAX_LAYERS) return -1;
        tp->layers[n++] = (int)v;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    if (n == 0) return -1;
    tp->n_layers = n;
    return 0;
}

int prefrec_cmd_train(int argc, char **argv) {
    const char *data = NULL, *aff = "all", *asof = NULL, *config = NULL, *out = NULL, *dump = NULL;
    const char *json_path = NULL;
    long neighbors = PREFREC_BLEND_NEIGHBORS;
    prefrec_train_params tp = prefrec_train_default_params();
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        long l;
        double d;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--quiet")) tp.verbose = 0;
        else if ((v = cli_opt_value(argc, argv, &i, "--data", &missing))) data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing))) aff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--asof", &missing))) asof = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--score-config", &missing))) config = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--out", &missing))) out = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--dump-pairs", &missing))) dump = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--json", &missing))) json_path = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--layers", &missing))) {
            if (parse_layers(v, &tp)) return cli_usage_error("train", usage_text, "--layers '%s': 1 to 4 widths in 1..4096, comma-separated", v);
        } else if ((v = cli_opt_value(argc, argv, &i, "--dim", &missing))) {
            if (cli_parse_long(v, 1, 1024, &l)) return cli_usage_error("train", usage_text, "--dim '%s' is not an integer in 1..1024", v);
            tp.dim = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--epochs", &missing))) {
            if (cli_parse_long(v, 1, 100000, &l)) return cli_usage_error("train", usage_text, "--epochs '%s' is not a positive integer", v);
            tp.epochs = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--patience", &missing))) {
            if (cli_parse_long(v, 1, 100000, &l)) return cli_usage_error("train", usage_text, "--patience '%s' is not a positive integer", v);
            tp.patience = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--batch", &missing))) {
            if (cli_parse_long(v, 1, 1 << 20, &l)) return cli_usage_error("train", usage_text, "--batch '%s' is not in 1..1048576", v);
            tp.batch = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--neighbors", &missing))) {
            if (cli_parse_long(v, 0, 4096, &l)) return cli_usage_error("train", usage_text, "--neighbors '%s' is not in 0..4096", v);
            neighbors = l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--threads", &missing))) {
            if (cli_parse_long(v, 1, 256, &l)) return cli_usage_error("train", usage_text, "--threads '%s' is not in 1..256", v);
            tp.threads = (int)l;
        } else if ((v = cli_opt_value(argc, argv, &i, "--seed", &missing))) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (errno || end == v || *end || v[0] == '-') return cli_usage_error("train", usage_text, "--seed '%s' is not a non-negative integer", v);
            tp.seed = s;
        } else if ((v = cli_opt_value(argc, argv, &i, "--lr", &missing))) {
            if (cli_parse_double(v, &d) || d <= 0) return cli_usage_error("train", usage_text, "--lr '%s' is not a positive number", v);
            tp.lr = (float)d;
        } else if ((v = cli_opt_value(argc, argv, &i, "--l2", &missing))) {
            if (cli_parse_double(v, &d) || d < 0) return cli_usage_error("train", usage_text, "--l2 '%s' is not a number >= 0", v);
            tp.l2 = (float)d;
        } else if (missing) return cli_usage_error("train", usage_text, "%s needs a value", argv[i]);
        else return cli_usage_error("train", usage_text, "unknown option '%s'", argv[i]);
    }
    if (!data) return cli_usage_error("train", usage_text, "--data is required");
    if (!out) return cli_usage_error("train", usage_text, "--out is required");

    prefrec_error err = {0};
    prefrec_score_params sp = prefrec_score_default_params();
    if (config && prefrec_score_params_load_json(config, &sp, &err)) return cli_fail("train", &err);
    if (asof && prefrec_date_parse(asof, strlen(asof), &sp.asof_day))
        return cli_usage_error("train", usage_text, "--asof '%s' is not a date (YYYY-MM-DD)", asof);
    if (make_dir(out, &err) || (dump && make_dir(dump, &err))) return cli_fail("train", &err);

    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("train", &err);
    int32_t n_aff = prefrec_dict_size(ds->affiliates), a_lo = 0, a_hi = n_aff;
    if (strcmp(aff, "all")) {
        int32_t ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff));
        if (ai < 0) {
            fprintf(stderr, "prefrec train: error: affiliate '%s' not in %s (has:", aff, data);
            for (int32_t k = 0; k < n_aff; k++) fprintf(stderr, " %s", prefrec_dict_str(ds->affiliates, k));
            fprintf(stderr, ")\n");
            prefrec_dataset_free(ds);
            return 1;
        }
        a_lo = ai;
        a_hi = ai + 1;
    }
    int32_t n_cat = ds->has_catalog && ds->categories ? prefrec_dict_size(ds->categories) : 0;
    int32_t n_sub = ds->has_catalog && ds->subcategories ? prefrec_dict_size(ds->subcategories) : 0;
    const char **cats = malloc(((size_t)n_cat + 1) * sizeof *cats), **subs = malloc(((size_t)n_sub + 1) * sizeof *subs);
    if (!cats || !subs) {
        free(cats), free(subs);
        prefrec_dataset_free(ds);
        prefrec_error_set(&err, PREFREC_E_NOMEM, "train: out of memory");
        return cli_fail("train", &err);
    }
    for (int32_t k = 0; k < n_cat; k++) cats[k] = prefrec_dict_str(ds->categories, k);
    for (int32_t k = 0; k < n_sub; k++) subs[k] = prefrec_dict_str(ds->subcategories, k);
    char asof_s[11];
    prefrec_date_format(sp.asof_day, asof_s);

    int rc = 0, trained = 0;
    cJSON *jroot = cJSON_CreateObject(), *jaffs = NULL;
    if (jroot) {
        cJSON_AddStringToObject(jroot, "asof", asof_s);
        cJSON_AddNumberToObject(jroot, "dim", tp.dim);
        cJSON_AddNumberToObject(jroot, "seed", (double)tp.seed);
        cJSON_AddNumberToObject(jroot, "threads", tp.threads);
        cJSON_AddNumberToObject(jroot, "neighbors", (double)neighbors);
        jaffs = cJSON_AddObjectToObject(jroot, "affiliates");
    }
    printf("%-4s %9s %9s %8s %6s %5s %10s %10s %9s %10s\n", "aff", "pairs", "customers", "products", "epochs", "best",
           "train_rmse", "valid_rmse", "s/epoch", "pack_bytes");
    for (int32_t ai = a_lo; ai < a_hi && !rc; ai++) {
        const char *code = prefrec_dict_str(ds->affiliates, ai);
        double t0 = cli_now();
        prefrec_scores *sc = NULL;
        if (prefrec_scores_compute(ds, &sp, ai, &sc, &err)) {
            rc = cli_fail("train", &err);
            break;
        }
        if (sc->n < 20) {
            fprintf(stderr, "prefrec train: %s: only %zu scored pairs before %s; skipped\n", code, sc->n, asof_s);
            prefrec_scores_free(sc);
            continue;
        }
        aff_set a;
        prefrec_status st = build_set(ds, sc, &a, &err);
        prefrec_scores_free(sc);
        if (st) {
            rc = cli_fail("train", &err);
            break;
        }
        fprintf(stderr, "prefrec train: %s: %zu pairs, %d customers, %d products (scored in %.2f s)\n", code,
                a.td.n_pairs, a.td.n_customers, a.td.n_products, cli_now() - t0);
        char path[4096];
        if (dump) {
            snprintf(path, sizeof path, "%s/%s.pairs.csv", dump, code);
            if ((st = dump_pairs(&a, &tp, path, &err))) {
                aff_free(&a);
                rc = cli_fail("train", &err);
                break;
            }
        }
        tp.label = code;
        prefrec_neumf *net = NULL;
        prefrec_train_report rep;
        st = prefrec_neumf_train(&a.td, &tp, &net, &rep, &err);
        size_t bytes = 0;
        if (!st) {
            prefrec_pack_meta meta = {code, asof_s, a.pcode, a.pname, a.pcat, a.psub, cats, n_cat, subs, n_sub,
                                      a.ccode, &a.td, &tp, &rep};
            snprintf(path, sizeof path, "%s/%s.pack", out, code);
            st = prefrec_neumf_save_pack(net, &meta, path, &bytes, &err);
            if (!st && neighbors > 0) {
                double tb = cli_now();
                st = add_blend(ds, ai, sp.asof_day, &a, &tp, (int32_t)neighbors, path, &err);
                struct stat fs;
                if (!st && stat(path, &fs) == 0) bytes = (size_t)fs.st_size;
                if (!st) fprintf(stderr, "prefrec train: %s: default ranker (blend) fitted and added in %.2f s\n", code, cli_now() - tb);
            }
        }
        if (st) rc = cli_fail("train", &err);
        else {
            printf("%-4s %9zu %9d %8d %6d %5d %10.4f %10.4f %9.3f %10zu\n", code, a.td.n_pairs, a.td.n_customers,
                   a.td.n_products, rep.epochs_run, rep.best_epoch, rep.train_rmse, rep.valid_rmse,
                   rep.seconds_per_epoch, bytes);
            fflush(stdout);
            trained++;
            cJSON *ja = cJSON_AddObjectToObject(jaffs, code), *je = cJSON_AddArrayToObject(ja, "epochs");
            cJSON_AddNumberToObject(ja, "rmse", rep.valid_rmse);
            cJSON_AddNumberToObject(ja, "train_rmse", rep.train_rmse);
            cJSON_AddNumberToObject(ja, "best_epoch", rep.best_epoch);
            cJSON_AddNumberToObject(ja, "train_pairs", (double)rep.n_train);
            cJSON_AddNumberToObject(ja, "valid_pairs", (double)rep.n_valid);
            cJSON_AddNumberToObject(ja, "customers", a.td.n_customers);
            cJSON_AddNumberToObject(ja, "products", a.td.n_products);
            cJSON_AddNumberToObject(ja, "seconds_per_epoch", rep.seconds_per_epoch);
            cJSON_AddNumberToObject(ja, "pack_bytes", (double)bytes);
            for (int ep = 0; ep < rep.epochs_run && ep < PREFREC_TRAIN_LOG_MAX; ep++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "epoch", ep + 1);
                cJSON_AddNumberToObject(o, "train_loss", rep.log[ep].train_loss);
                cJSON_AddNumberToObject(o, "valid_rmse", rep.log[ep].valid_rmse);
                cJSON_AddNumberToObject(o, "seconds", rep.log[ep].seconds);
                cJSON_AddItemToArray(je, o);
            }
        }
        prefrec_neumf_free(net);
        aff_free(&a);
    }
    if (!rc && json_path && trained) {
        char *text = cJSON_Print(jroot);
        prefrec_status js = text ? prefrec_atomic_write_file(json_path, text, strlen(text), &err)
                                 : prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
        cJSON_free(text);
        if (js) rc = cli_fail("train", &err);
    }
    cJSON_Delete(jroot);
    free(cats);
    free(subs);
    prefrec_dataset_free(ds);
    if (!rc && trained == 0) {
        fprintf(stderr, "prefrec train: error: no affiliate had enough scored pairs to train\n");
        return 1;
    }
    return rc;
}
