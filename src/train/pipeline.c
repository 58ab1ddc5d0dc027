/* pipeline.c - `prefrec train` per affiliate: scores -> NeuMF -> blend -> one pack, written once
 * (prefrec/native/pipeline.h). The command line only parses options and prints (src/cli/cmd_train.c). */
#include "prefrec/native/pipeline.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/json_build.h"
#include "host/dist.h"
#include "neumf.h"
#include "pipeline_internal.h"
#include "prefrec/native/atomic.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/repeat.h"
#include "prefrec/date.h"
#include "rank/rank_dist.h"
#include "rank/rank_exact.h"

prefrec_pipeline_params prefrec_pipeline_default_params(void) {
    prefrec_pipeline_params p;
    memset(&p, 0, sizeof p);
    p.score = prefrec_score_default_params();
    p.train = prefrec_train_default_params();
    p.neighbors = PREFREC_BLEND_NEIGHBORS;
    p.min_group = PREFREC_BLEND_MIN_GROUP;
    return p;
}

void prefrec_pipeline_result_free(prefrec_pipeline_result *r) {
    if (!r) return;
    free(r->affiliates);
    memset(r, 0, sizeof *r);
}

double pl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void pl_note(const prefrec_pipeline_params *p, const char *fmt, ...) {
    if (!p->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->ctx, line);
}

prefrec_status pl_make_dir(const char *dir, prefrec_error *err) {
    if (mkdir(dir, 0777) && errno != EEXIST)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create directory: %s", dir,
                                 strerror(errno));
    return PREFREC_OK;
}

void pl_aff_free(aff_set *a) {
    free(a->cust), free(a->prod), free(a->cglob), free(a->pglob), free(a->pcat), free(a->psub);
    free(a->target), free(a->age), free(a->gender), free(a->pcode), free(a->pname), free(a->ccode);
    free(a->valid);
    memset(a, 0, sizeof *a);
}

/* a->valid: the train:valid split of a's pairs by their codes (prefrec_train_split_valid), so
 * the flag of a pair is the same in one process and on any rank of a sharded run. */
prefrec_status pl_set_split(aff_set *a, const prefrec_train_params *tp, prefrec_error *err) {
    free(a->valid);
    a->valid = malloc(a->td.n_pairs + 1);
    if (!a->valid) return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    for (size_t i = 0; i < a->td.n_pairs; i++)
        a->valid[i] = (uint8_t)prefrec_train_split_valid(tp->seed, a->ccode[a->cust[i]],
                                                         a->pcode[a->prod[i]], tp->valid_frac);
    a->td.is_valid = a->valid;
    return PREFREC_OK;
}

void pl_extras_free(pack_extras *e) {
    prefrec_blend_tensors_free(&e->bt);
    free(e->ptarget);
    free(e->lines);
    free(e->prior);
    memset(e, 0, sizeof *e);
}

/* product.target and its mean: each product's mean score over the affiliate's pairs (all of them,
 * training and validation), the mean over all pairs for a product without pairs. td: this rank's
 * pairs, products in the pack's indices [0, P). The sums are exact (rank_exact.h: each score on
 * the 2^-64 grid, integers added) and summed over the ranks of x's dist with the counts, so
 * every rank gets the one-process figures, bit for bit, whatever N and the pairs' order. */
/* What the min_group rule (p->min_group > 1) took out of the served rankers, as a progress line. */
void pl_note_min_group(const prefrec_pipeline_params *p, const char *code, const pack_extras *e) {
    if (p->min_group > 1)
        pl_note(p,
                "%s: served aggregates rest on >= %d members: %d of %d segments served as the "
                "overall popularity, %lld of %lld neighbour entries dropped",
                code, (int)p->min_group, (int)e->bt.seg_suppressed, (int)e->bt.seg_nonempty,
                (long long)e->bt.pairs_dropped,
                (long long)(e->bt.pairs_dropped + e->bt.pairs_kept));
}

static prefrec_status product_targets(const prefrec_interactions *x, const prefrec_train_data *td,
                                      int32_t P, float **ptarget, double *mean,
                                      prefrec_error *err) {
    rank_fx *fx = calloc((size_t)P + 1, sizeof *fx);
    int64_t *cnt = calloc((size_t)P + 1, sizeof *cnt);
    *ptarget = malloc(((size_t)P + 1) * sizeof **ptarget);
    prefrec_status st = fx && cnt && *ptarget
        ? PREFREC_OK
        : prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    if (!(st = prefrec_dist_agree(x->dist, st, 0, err))) {
        int bad = 0;
        for (size_t i = 0; i < td->n_pairs; i++) {
            int32_t q = td->product[i];
            bad |= rank_fx_add(fx + q, td->target[i]) | rank_fx_add(fx + P, td->target[i]);
            cnt[q]++;
        }
        cnt[P] = (int64_t)td->n_pairs;
        /* both collectives on every rank, whatever failed before them */
        bad |= rank_fx_sum_dist(x->dist, fx, (size_t)P + 1);
        bad |= rank_dist_sum(x, cnt, (size_t)P + 1);
        if (bad)
            st = prefrec_error_set(err, PREFREC_E_RANGE,
                                   "train: summing the scores per product (a score out of range)");
    }
    if (!st) {
        *mean = cnt[P] ? rank_fx_double(fx[P]) / (double)cnt[P] : -1;
        for (int32_t q = 0; q < P; q++)
            (*ptarget)[q] = (float)(cnt[q] ? rank_fx_double(fx[q]) / (double)cnt[q] : *mean);
    }
    if (st) free(*ptarget), *ptarget = NULL;
    free(fx);
    free(cnt);
    return st;
}

/* The served rankers fitted on the affiliate's purchases before asof. Sharded (d, every rank
 * calls it; the window is this rank's customers, customer_key their one-process order), the
 * fits are the one-process fits (src/rank/rank_dist.h); pmap (dataset -> pack product index)
 * and P are the pack's on every rank; td is this rank's pairs (pack product indices: the mean
 * targets, summed over the ranks). a: the affiliate's set in one process (the per-customer line
 * counts are made here then), NULL in a sharded run (each rank counts its own: local_lines). */
prefrec_status pl_fit_extras(const prefrec_dataset *ds, int32_t aff, int32_t asof, const aff_set *a,
                             const prefrec_train_data *td, const int32_t *pmap, int32_t P,
                             prefrec_dist *d, const uint64_t *customer_key,
                             const prefrec_train_params *tp, int32_t neighbors, int32_t min_group,
                             pack_extras *e, prefrec_error *err) {
    memset(e, 0, sizeof *e);
    prefrec_interactions *x = NULL;
    void *bm = NULL;
    int verbose = tp->verbose && prefrec_dist_rank(d) == 0;
    prefrec_status st =
        prefrec_interactions_build_dist(ds, aff, ds->day_min, asof, d, customer_key, &x, err);
    if (!st) {
        prefrec_fit_input in = {ds, x, tp->threads, tp->seed, verbose, min_group, NULL};
        st = prefrec_ranker_blend.fit(&in, NULL, &bm, err);
    }
    if (!st)
        st = prefrec_blend_tensors_build(bm, ds, x, pmap, P, neighbors, min_group, &e->bt, err);
    /* buy again and the mixed list: the rankers `prefrec eval` measures (due, mixed), fitted
     * (and tuned on the last quarter) on the same window, so the pack serves what was measured */
    void *mm = NULL;
    if (!st) {
        prefrec_fit_input in = {ds, x, tp->threads, tp->seed, verbose, min_group, NULL};
        st = prefrec_ranker_mixed.fit(&in, NULL, &mm, err);
    }
    if (!st) {
        const void *due = NULL;
        const float *prior = NULL;
        prefrec_mixed_fitted(mm, &e->share, &e->shrink, &due);
        prefrec_due_fitted(due, &e->rp, &prior);
        e->prior = malloc(((size_t)P + 1) * sizeof *e->prior);
        if (!e->prior) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        for (int32_t g = 0, NP = prefrec_dict_size(ds->products); !st && g < NP; g++)
            if (pmap[g] >= 0) e->prior[pmap[g]] = prior[g];
    }
    prefrec_ranker_mixed.free(mm);
    st = prefrec_dist_agree(d, st, 0, err);
    if (!st) st = product_targets(x, td, P, &e->ptarget, &e->mean, err);
    if (!st && a) {
        int32_t NC = prefrec_dict_size(ds->customers), C = a->td.n_customers;
        int32_t *cmap = malloc(((size_t)NC + 1) * sizeof *cmap);
        e->lines = calloc((size_t)C + 1, sizeof *e->lines);
        if (!cmap || !e->lines) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        if (!st) {
            for (int32_t g = 0; g < NC; g++) cmap[g] = -1;
            for (int32_t c = 0; c < C; c++) cmap[a->cglob[c]] = c;
            for (size_t r = 0; r < ds->n_rows; r++)
                if (ds->affiliate[r] == aff && ds->day[r] < asof && cmap[ds->customer[r]] >= 0)
                    e->lines[cmap[ds->customer[r]]] += 1.0f;
        }
        free(cmap);
    }
    if (st) pl_extras_free(e);
    prefrec_ranker_blend.free(bm);
    prefrec_interactions_free(x);
    return st;
}

/* The pack's product side of a (pglob, pcode, pname, pcat, psub) from pmap (product id -> pack
 * index or -1) and P, as pl_build_set makes it (and calls it). 0, or -1 out of memory. */
int pl_product_side(const prefrec_dataset *ds, const int32_t *pmap, int32_t P, aff_set *a) {
    int32_t NP = prefrec_dict_size(ds->products);
    a->pglob = malloc((size_t)P * sizeof *a->pglob + 1);
    a->pcode = malloc((size_t)P * sizeof *a->pcode + 1);
    a->pname = malloc((size_t)P * sizeof *a->pname + 1);
    a->pcat = malloc((size_t)P * sizeof *a->pcat + 1);
    a->psub = malloc((size_t)P * sizeof *a->psub + 1);
    if (!a->pglob || !a->pcode || !a->pname || !a->pcat || !a->psub) return -1;
    for (int32_t g = 0; g < NP; g++)
        if (pmap[g] >= 0) {
            int32_t p = pmap[g];
            a->pglob[p] = g;
            a->pcode[p] = prefrec_dict_str(ds->products, g);
            a->pname[p] =
                ds->product_name && ds->product_name[g] ? ds->product_name[g] : a->pcode[p];
            a->pcat[p] = ds->has_catalog && ds->product_category ? ds->product_category[g] : -1;
            a->psub[p] =
                ds->has_catalog && ds->product_subcategory ? ds->product_subcategory[g] : -1;
        }
    return 0;
}

/* Local indices: customers and products in ascending global index order. */
prefrec_status pl_build_set(const prefrec_dataset *ds, const prefrec_scores *s, aff_set *a,
                            prefrec_error *err) {
    memset(a, 0, sizeof *a);
    int32_t NC = prefrec_dict_size(ds->customers), NP = prefrec_dict_size(ds->products);
    int32_t *cmap = malloc(((size_t)NC + 1) * sizeof *cmap),
            *pmap = malloc(((size_t)NP + 1) * sizeof *pmap);
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
    a->gender = malloc((size_t)C + 1);
    a->age = malloc((size_t)C * sizeof *a->age + 1);
    a->ccode = malloc((size_t)C * sizeof *a->ccode + 1);
    if (!a->cglob || !a->gender || !a->age || !a->ccode || pl_product_side(ds, pmap, P, a))
        goto nomem;
    for (int32_t i = 0; i < NC; i++)
        if (cmap[i] >= 0) {
            int32_t c = cmap[i];
            a->cglob[c] = i;
            a->ccode[c] = prefrec_dict_str(ds->customers, i);
            a->gender[c] = (int8_t)(ds->has_demographics && ds->gender ? ds->gender[i]
                                                                       : PREFREC_GENDER_UNKNOWN);
            a->age[c] = ds->has_demographics && ds->age ? ds->age[i] : NAN;
        }
    for (size_t i = 0; i < s->n; i++) {
        a->cust[i] = cmap[s->customer[i]];
        a->prod[i] = pmap[s->product[i]];
        a->target[i] = s->score[i];
    }
    free(cmap);
    free(pmap);
    prefrec_train_data td = {s->n, a->cust, a->prod, a->target, C, P, a->gender, a->age, NULL};
    a->td = td;
    return PREFREC_OK;
nomem:
    free(cmap);
    free(pmap);
    pl_aff_free(a);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
}

prefrec_status pl_dump_pairs(const aff_set *a, const char *path, prefrec_error *err) {
    const uint8_t *valid = a->valid;
    prefrec_atomic at;
    prefrec_status s = prefrec_atomic_open(&at, path, err);
    if (!s) {
        fprintf(at.f, "customer,product,target,gender,age,valid\n");
        for (size_t i = 0; i < a->td.n_pairs; i++) {
            int32_t c = a->cust[i];
            int g = a->gender[c] == 0 || a->gender[c] == 1 ? a->gender[c] : -1;
            if (isnan(a->age[c]))
                fprintf(at.f, "%d,%d,%.9g,%d,,%d\n", c, a->prod[i], a->target[i], g, valid[i]);
            else
                fprintf(at.f, "%d,%d,%.9g,%d,%.9g,%d\n", c, a->prod[i], a->target[i], g, a->age[c],
                        valid[i]);
        }
        s = prefrec_atomic_commit(&at, err);
    }
    return s;
}

static void json_affiliate(json_build *jbp, cJSON *jaffs, const prefrec_pipeline_affiliate *a) {
    const prefrec_train_report *rep = &a->report;
    cJSON *ja = json_obj(jbp, jaffs, a->code), *je = json_arr(jbp, ja, "epochs");
    json_num(jbp, ja, "rmse", rep->valid_rmse);
    json_num(jbp, ja, "train_rmse", rep->train_rmse);
    json_num(jbp, ja, "best_epoch", rep->best_epoch);
    json_num(jbp, ja, "train_pairs", (double)rep->n_train);
    json_num(jbp, ja, "valid_pairs", (double)rep->n_valid);
    json_num(jbp, ja, "customers", a->n_customers);
    json_num(jbp, ja, "products", a->n_products);
    json_num(jbp, ja, "seconds_per_epoch", rep->seconds_per_epoch);
    json_num(jbp, ja, "pack_bytes", (double)a->pack_bytes);
    for (int ep = 0; ep < rep->epochs_run && ep < PREFREC_TRAIN_LOG_MAX; ep++) {
        cJSON *o = cJSON_CreateObject();
        json_num(jbp, o, "epoch", ep + 1);
        json_num(jbp, o, "train_loss", rep->log[ep].train_loss);
        json_num(jbp, o, "valid_rmse", rep->log[ep].valid_rmse);
        json_num(jbp, o, "seconds", rep->log[ep].seconds);
        json_push(jbp, je, o);
    }
}

/* train.json: the run's settings and, per affiliate, its figures and epochs. */
prefrec_status pl_write_json(const prefrec_pipeline_params *p, const char *asof,
                             const prefrec_pipeline_result *r, prefrec_error *err) {
    json_build jb = {0};
    cJSON *root = json_root(&jb);
    json_str(&jb, root, "asof", asof);
    json_num(&jb, root, "dim", p->train.dim);
    json_num(&jb, root, "seed", (double)p->train.seed);
    json_num(&jb, root, "threads", p->train.threads);
    json_num(&jb, root, "neighbors", (double)p->neighbors);
    cJSON *jaffs = json_obj(&jb, root, "affiliates");
    for (int i = 0; i < r->n_trained; i++) json_affiliate(&jb, jaffs, &r->affiliates[i]);
    char *text = json_print(&jb, root, 1);
    prefrec_status s = text ? prefrec_atomic_write_file(p->json_path, text, strlen(text), err)
                            : prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    cJSON_free(text);
    return s;
}

/* The affiliate's set a trained (or the network given, trained elsewhere: taken over) and its
 * pack written (ds: for the blend only, neighbors > 0). */
static prefrec_status train_set(const prefrec_dataset *ds, const prefrec_pipeline_params *p,
                                int32_t ai, const char *code, const char *asof_s,
                                const char *const *cats, int32_t n_cat, const char *const *subs,
                                int32_t n_sub, aff_set *ap, prefrec_neumf *given,
                                const prefrec_train_report *given_rep, pack_extras *given_ex,
                                prefrec_pipeline_affiliate *res, int *trained, prefrec_error *err) {
    aff_set a = *ap;
    prefrec_status st = PREFREC_OK;
    size_t plen = strlen(p->out_dir) + (p->dump_dir ? strlen(p->dump_dir) : 0) + strlen(code) + 16;
    char *path = malloc(plen);
    if (!path) st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    prefrec_train_params tp = p->train;
    tp.label = code;
    if (!st && p->dump_dir) {
        snprintf(path, plen, "%s/%s.pairs.csv", p->dump_dir, code);
        st = pl_dump_pairs(&a, path, err);
    }
    prefrec_neumf *net = given;
    memset(res, 0, sizeof *res);
    if (given_rep) res->report = *given_rep;
    if (!st && !given) st = prefrec_neumf_train(&a.td, &tp, &net, &res->report, err);
    pack_extras ex;
    memset(&ex, 0, sizeof ex);
    if (given_ex) { /* fitted by every rank (train_one_dist): taken over */
        ex = *given_ex;
        memset(given_ex, 0, sizeof *given_ex);
    } else if (!st && p->neighbors > 0) {
        double tb = pl_now();
        int32_t NP = prefrec_dict_size(ds->products);
        int32_t *pmap = malloc(((size_t)NP + 1) * sizeof *pmap);
        if (!pmap) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        for (int32_t g = 0; !st && g < NP; g++) pmap[g] = -1;
        for (int32_t q = 0; !st && q < a.td.n_products; q++) pmap[a.pglob[q]] = q;
        if (!st)
            st = pl_fit_extras(ds, ai, p->score.asof_day, &a, &a.td, pmap, a.td.n_products, NULL,
                               NULL, &tp, p->neighbors, p->min_group, &ex, err);
        free(pmap);
        if (!st)
            pl_note(p, "%s: served rankers (blend, due, mixed share) fitted in %.2f s", code,
                    pl_now() - tb);
    }
    if (!st && p->neighbors > 0) pl_note_min_group(p, code, &ex);
    if (!st) {
        int extra = p->neighbors > 0;
        prefrec_pack_meta meta = {code,
                                  asof_s,
                                  a.pcode,
                                  a.pname,
                                  a.pcat,
                                  a.psub,
                                  cats,
                                  n_cat,
                                  subs,
                                  n_sub,
                                  a.ccode,
                                  &a.td,
                                  &tp,
                                  &res->report,
                                  extra ? &ex.bt : NULL,
                                  extra ? ex.ptarget : NULL,
                                  ex.mean,
                                  extra ? ex.lines : NULL,
                                  extra ? ex.prior : NULL,
                                  extra ? &ex.rp : NULL,
                                  ex.share,
                                  ex.shrink};
        snprintf(path, plen, "%s/%s.pack", p->out_dir, code);
        st = prefrec_neumf_save_pack(net, &meta, path, &res->pack_bytes, err);
    }
    if (!st) {
        snprintf(res->code, sizeof res->code, "%s", code);
        res->n_pairs = a.td.n_pairs;
        res->n_customers = a.td.n_customers;
        res->n_products = a.td.n_products;
        *trained = 1;
    }
    pl_extras_free(&ex);
    prefrec_neumf_free(net);
    free(path);
    return st;
}

/* One affiliate: its training set, the NeuMF, the extras, the pack. *trained = 0 when skipped. */
static prefrec_status train_one(const prefrec_dataset *ds, const prefrec_pipeline_params *p,
                                int32_t ai, const char *asof_s, const char *const *cats,
                                int32_t n_cat, const char *const *subs, int32_t n_sub,
                                prefrec_pipeline_affiliate *res, int *trained, prefrec_error *err) {
    *trained = 0;
    const char *code = prefrec_dict_str(ds->affiliates, ai);
    double t0 = pl_now();
    prefrec_scores *sc = NULL;
    prefrec_status st = prefrec_scores_compute(ds, &p->score, ai, &sc, err);
    if (st) return st;
    if (sc->n < 20) {
        pl_note(p, "%s: only %zu scored pairs before %s; skipped", code, sc->n, asof_s);
        prefrec_scores_free(sc);
        return PREFREC_OK;
    }
    aff_set a;
    st = pl_build_set(ds, sc, &a, err);
    prefrec_scores_free(sc);
    if (!st) st = pl_set_split(&a, &p->train, err);
    if (st) {
        pl_aff_free(&a);
        return st;
    }
    pl_note(p, "%s: %zu pairs, %d customers, %d products (scored in %.2f s)", code, a.td.n_pairs,
            a.td.n_customers, a.td.n_products, pl_now() - t0);
    st = train_set(ds, p, ai, code, asof_s, cats, n_cat, subs, n_sub, &a, NULL, NULL, NULL, res,
                   trained, err);
    pl_aff_free(&a);
    return st;
}

/* The affiliates to train, [*lo, *hi) in the data's affiliate ids: all of them, or the one
 * named (NULL or "all": all); an unknown name is an error listing the known ones. */
prefrec_status pl_affiliate_range(const prefrec_dataset *ds, const char *name, int32_t *lo,
                                  int32_t *hi, prefrec_error *err) {
    int32_t n_aff = prefrec_dict_size(ds->affiliates);
    *lo = 0;
    *hi = n_aff;
    if (!name || !strcmp(name, "all")) return PREFREC_OK;
    int32_t ai = prefrec_dict_find(ds->affiliates, name, strlen(name));
    if (ai < 0) {
        char known[256] = "";
        size_t used = 0;
        for (int32_t k = 0; k < n_aff && used < sizeof known - 1; k++)
            used += (size_t)snprintf(known + used, sizeof known - used, " %s",
                                     prefrec_dict_str(ds->affiliates, k));
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "affiliate '%s' not in %s (has:%s)", name,
                                 ds->source ? ds->source : "the data", known);
    }
    *lo = ai;
    *hi = ai + 1;
    return PREFREC_OK;
}

/* What training every affiliate needs: the category and subcategory names the packs carry
 * (*cats, *subs: the caller frees them, also on an error) and the result's n_aff affiliate
 * slots. */
prefrec_status pl_train_begin(const prefrec_dataset *ds, int32_t n_aff, const char ***cats,
                              int32_t *n_cat, const char ***subs, int32_t *n_sub,
                              prefrec_pipeline_result *out, prefrec_error *err) {
    *n_cat = ds->has_catalog && ds->categories ? prefrec_dict_size(ds->categories) : 0;
    *n_sub = ds->has_catalog && ds->subcategories ? prefrec_dict_size(ds->subcategories) : 0;
    *cats = malloc(((size_t)*n_cat + 1) * sizeof **cats);
    *subs = malloc(((size_t)*n_sub + 1) * sizeof **subs);
    out->affiliates = calloc((size_t)n_aff + 1, sizeof *out->affiliates);
    if (!*cats || !*subs || !out->affiliates)
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    for (int32_t k = 0; k < *n_cat; k++) (*cats)[k] = prefrec_dict_str(ds->categories, k);
    for (int32_t k = 0; k < *n_sub; k++) (*subs)[k] = prefrec_dict_str(ds->subcategories, k);
    return PREFREC_OK;
}

prefrec_status prefrec_pipeline_train(const prefrec_dataset *ds, const prefrec_pipeline_params *p,
                                      prefrec_pipeline_result *out, prefrec_error *err) {
    memset(out, 0, sizeof *out);
    if (!p->out_dir) return prefrec_error_set(err, PREFREC_E_INVAL, "train: no output directory");
    prefrec_status st = pl_make_dir(p->out_dir, err);
    if (!st && p->dump_dir) st = pl_make_dir(p->dump_dir, err);
    if (st) return st;
    int32_t a_lo, a_hi;
    if ((st = pl_affiliate_range(ds, p->affiliate, &a_lo, &a_hi, err))) return st;
    const char **cats = NULL, **subs = NULL;
    int32_t n_cat = 0, n_sub = 0;
    st = pl_train_begin(ds, a_hi - a_lo, &cats, &n_cat, &subs, &n_sub, out, err);
    char asof_s[11];
    prefrec_date_format(p->score.asof_day, asof_s);
    for (int32_t ai = a_lo; !st && ai < a_hi; ai++) {
        int trained = 0;
        prefrec_pipeline_affiliate *res = &out->affiliates[out->n_trained];
        st = train_one(ds, p, ai, asof_s, cats, n_cat, subs, n_sub, res, &trained, err);
        if (!st && trained) {
            out->n_trained++;
            if (p->done) p->done(p->ctx, res);
        }
    }
    if (!st && out->n_trained == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY,
                               "no affiliate had enough scored pairs to train");
    if (!st && p->json_path) st = pl_write_json(p, asof_s, out, err);
    free(cats);
    free(subs);
    if (st) prefrec_pipeline_result_free(out);
    return st;
}
