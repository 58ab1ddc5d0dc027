/* eval.c - the evaluation protocol: per affiliate, fit every ranker on the training window,
 * rank for every test user, and average Recall/NDCG/hit rate/coverage at K (prefrec/native/eval.h).
 *
 * Each user is scored once per ranker and the one score vector serves both tasks (new items:
 * top K over the catalogue minus the history; repurchase: top K over the history). Users are
 * split into contiguous blocks over threads; per-user figures go to arrays summed in user
 * order afterwards, so the averages do not depend on the thread count. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefrec/date.h"
#include "prefrec/native/eval.h"
#include "prefrec/topk.h"

prefrec_eval_params prefrec_eval_default_params(void) {
    prefrec_eval_params p = {0, 0, 20, -1, 2, 42, 0};
    return p;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- test users of one affiliate ---------------------------------------------------------- */
typedef struct users {
    int32_t n;
    int32_t *cust;
    int64_t *new_start, *rep_start; /* n + 1 */
    int32_t *new_truth, *rep_truth;
    int64_t n_new, n_rep; /* users with new / repurchase truth */
} users;

static void users_free(users *u) {
    free(u->cust);
    free(u->new_start);
    free(u->rep_start);
    free(u->new_truth);
    free(u->rep_truth);
    memset(u, 0, sizeof *u);
}

static int users_build(const prefrec_interactions *tr, const prefrec_interactions *te, users *u) {
    memset(u, 0, sizeof *u);
    int32_t n = 0;
    for (int32_t c = 0; c < te->n_customers; c++)
        if (te->row_start[c + 1] > te->row_start[c]) n++;
    size_t np = te->n_pairs ? (size_t)te->n_pairs : 1;
    u->cust = malloc((n ? (size_t)n : 1) * sizeof *u->cust);
    u->new_start = malloc(((size_t)n + 1) * sizeof *u->new_start);
    u->rep_start = malloc(((size_t)n + 1) * sizeof *u->rep_start);
    u->new_truth = malloc(np * sizeof *u->new_truth);
    u->rep_truth = malloc(np * sizeof *u->rep_truth);
    if (!u->cust || !u->new_start || !u->rep_start || !u->new_truth || !u->rep_truth) {
        users_free(u);
        return -1;
    }
    int64_t nn = 0, nr = 0;
    int32_t k = 0;
    for (int32_t c = 0; c < te->n_customers; c++) {
        if (te->row_start[c + 1] == te->row_start[c]) continue;
        u->cust[k] = c;
        u->new_start[k] = nn;
        u->rep_start[k] = nr;
        for (int64_t b = te->row_start[c]; b < te->row_start[c + 1]; b++) {
            if (prefrec_interactions_find(tr, c, te->product[b]) >= 0)
                u->rep_truth[nr++] = te->product[b];
            else
                u->new_truth[nn++] = te->product[b];
        }
        if (nn > u->new_start[k]) u->n_new++;
        if (nr > u->rep_start[k]) u->n_rep++;
        k++;
    }
    u->n = n;
    u->new_start[n] = nn;
    u->rep_start[n] = nr;
    return 0;
}

/* ---- ranking all users with one fitted ranker ----------------------------------------------- */
typedef struct rank_job {
    const prefrec_ranker_def *def;
    const void *model;
    const prefrec_interactions *tr;
    const users *u;
    const uint8_t *base_mask; /* 1 = not in the catalogue */
    int k;
    int do_new, do_rep;
    int32_t from, to;
    double *rec[2], *ndcg[2]; /* per user, by task */
    uint8_t *hit[2];
    uint8_t *cover[2]; /* this thread's n_products flags */
    int failed;
} rank_job;

static void *rank_users(void *arg) {
    rank_job *jb = arg;
    const prefrec_interactions *tr = jb->tr;
    int32_t np = tr->n_products;
    float *scores = malloc((size_t)(np ? np : 1) * sizeof *scores);
    uint8_t *mask = malloc((size_t)(np ? np : 1));
    prefrec_scored *best = malloc((size_t)jb->k * sizeof *best);
    int32_t *ranked = malloc((size_t)jb->k * sizeof *ranked);
    if (!scores || !mask || !best || !ranked) {
        jb->failed = 1;
        goto done;
    }
    memcpy(mask, jb->base_mask, (size_t)np);
    for (int32_t i = jb->from; i < jb->to; i++) {
        int32_t c = jb->u->cust[i];
        int64_t na = jb->u->new_start[i], nb = jb->u->new_start[i + 1];
        int64_t ra = jb->u->rep_start[i], rb = jb->u->rep_start[i + 1];
        int want_new = jb->do_new && nb > na, want_rep = jb->do_rep && rb > ra;
        if (!want_new && !want_rep) continue;
        if (jb->def->score(jb->model, c, scores)) {
            jb->failed = 1;
            break;
        }
        int64_t ha = tr->row_start[c], hb = tr->row_start[c + 1];
        if (want_new) {
            for (int64_t b = ha; b < hb; b++) mask[tr->product[b]] = 1;
            size_t m = prefrec_topk(scores, (size_t)np, mask, (size_t)jb->k, best);
            for (int64_t b = ha; b < hb; b++) mask[tr->product[b]] = jb->base_mask[tr->product[b]];
            for (size_t r = 0; r < m; r++) {
                ranked[r] = best[r].index;
                jb->cover[0][best[r].index] = 1;
            }
            int h = prefrec_rank_list_metrics(ranked, m, jb->u->new_truth + na, (size_t)(nb - na),
                                              jb->k, &jb->rec[0][i], &jb->ndcg[0][i]);
            jb->hit[0][i] = h > 0;
        }
        if (want_rep) {
            prefrec_topk_heap heap;
            prefrec_topk_heap_init(&heap, best, (size_t)jb->k);
            for (int64_t b = ha; b < hb; b++)
                prefrec_topk_heap_push(&heap, scores[tr->product[b]], tr->product[b]);
            size_t m = prefrec_topk_heap_finish(&heap);
            for (size_t r = 0; r < m; r++) {
                ranked[r] = best[r].index;
                jb->cover[1][best[r].index] = 1;
            }
            int h = prefrec_rank_list_metrics(ranked, m, jb->u->rep_truth + ra, (size_t)(rb - ra),
                                              jb->k, &jb->rec[1][i], &jb->ndcg[1][i]);
            jb->hit[1][i] = h > 0;
        }
    }
done:
    free(scores);
    free(mask);
    free(best);
    free(ranked);
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------ */
void prefrec_eval_result_free(prefrec_eval_result *r) {
    if (!r) return;
    if (r->affiliate_names)
        for (int a = 0; a <= r->n_affiliates; a++) free(r->affiliate_names[a]);
    free(r->affiliate_names);
    free(r->ranker_names);
    free(r->ranker_tasks);
    free(r->fit_seconds);
    free(r->score_seconds);
    free(r->train_pairs);
    free(r->m);
    free(r);
}

const prefrec_metrics *prefrec_eval_get(const prefrec_eval_result *r, int task, int aff_slot,
                                        size_t ranker) {
    if (!r || task < 0 || task >= PREFREC_EVAL_TASKS || aff_slot >= r->n_affiliates ||
        ranker >= r->n_rankers)
        return NULL;
    size_t slot = aff_slot < 0 ? (size_t)r->n_affiliates : (size_t)aff_slot;
    return &r->m[((size_t)task * ((size_t)r->n_affiliates + 1) + slot) * r->n_rankers + ranker];
}

int prefrec_eval_best(const prefrec_eval_result *r, int task) {
    int best = -1;
    for (size_t i = 0; r && i < r->n_rankers; i++) {
        const prefrec_metrics *m = prefrec_eval_get(r, task, -1, i);
        if (!m->evaluated) continue;
        const prefrec_metrics *b = best >= 0 ? prefrec_eval_get(r, task, -1, (size_t)best) : NULL;
        if (!b || m->ndcg > b->ndcg || (m->ndcg == b->ndcg && m->recall > b->recall)) best = (int)i;
    }
    return best;
}

static prefrec_metrics *slot_of(prefrec_eval_result *r, int task, size_t slot, size_t ranker) {
    return &r->m[((size_t)task * ((size_t)r->n_affiliates + 1) + slot) * r->n_rankers + ranker];
}

/* Fit one ranker on one affiliate's window and rank its users; adds into the result. */
static prefrec_status eval_one(const prefrec_dataset *ds, const prefrec_eval_params *p,
                               const prefrec_eval_ranker *rk, size_t ri,
                               const prefrec_interactions *tr, const users *u,
                               const uint8_t *base_mask, int64_t catalogue, int slot,
                               prefrec_eval_result *res, prefrec_error *err) {
    prefrec_fit_input in = {ds, tr, p->threads, p->seed, p->verbose};
    void *model = NULL;
    double t0 = now_seconds();
    prefrec_status st = rk->def->fit(&in, rk->params, &model, err);
    double t1 = now_seconds();
    if (st) return st;
    res->fit_seconds[ri] += t1 - t0;
    int32_t np = tr->n_products, n = u->n;
    size_t nu = n ? (size_t)n : 1;
    int nt = p->threads < 1 ? 1 : p->threads > 64 ? 64 : p->threads;
    double *buf = calloc(nu * 4, sizeof *buf);
    uint8_t *hits = calloc(nu * 2, 1);
    uint8_t *cover = calloc((size_t)nt * 2 * (size_t)(np ? np : 1), 1);
    if (!buf || !hits || !cover) {
        free(buf);
        free(hits);
        free(cover);
        rk->def->free(model);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    }
    rank_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        rank_job jb = {rk->def,
                       model,
                       tr,
                       u,
                       base_mask,
                       p->k,
                       (rk->def->tasks & PREFREC_TASK_NEW_ITEMS) != 0,
                       (rk->def->tasks & PREFREC_TASK_REPURCHASE) != 0,
                       (int32_t)((int64_t)n * t / nt),
                       (int32_t)((int64_t)n * (t + 1) / nt),
                       {buf, buf + nu},
                       {buf + 2 * nu, buf + 3 * nu},
                       {hits, hits + nu},
                       {cover + (size_t)t * 2 * np, cover + ((size_t)t * 2 + 1) * np},
                       0};
        jobs[t] = jb;
        if (t > 0) started[t] = pthread_create(&th[t], NULL, rank_users, &jobs[t]) == 0;
    }
    rank_users(&jobs[0]);
    int failed = jobs[0].failed;
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            rank_users(&jobs[t]);
        failed |= jobs[t].failed;
    }
    res->score_seconds[ri] += now_seconds() - t1;
    rk->def->free(model);
    if (failed) {
        free(buf);
        free(hits);
        free(cover);
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "eval: ranker '%s' could not finish: out of memory",
                                 rk->def->name);
    }
    for (int task = 0; task < 2; task++) {
        int on = task == 0 ? jobs[0].do_new : jobs[0].do_rep;
        prefrec_metrics *m = slot_of(res, task, (size_t)slot, ri);
        prefrec_metrics *o = slot_of(res, task, (size_t)res->n_affiliates, ri);
        m->evaluated = o->evaluated = on;
        if (!on) continue;
        double sr = 0, sn = 0;
        int64_t sh = 0, users_n = 0;
        for (int32_t i = 0; i < n; i++) {
            int64_t a = task == 0 ? u->new_start[i] : u->rep_start[i];
            int64_t b = task == 0 ? u->new_start[i + 1] : u->rep_start[i + 1];
            if (b == a) continue;
            users_n++;
            sr += buf[(size_t)task * nu + (size_t)i];
            sn += buf[(size_t)(2 + task) * nu + (size_t)i];
            sh += hits[(size_t)task * nu + (size_t)i];
        }
        int64_t covered = 0;
        for (int32_t j = 0; j < np; j++) {
            uint8_t f = 0;
            for (int t = 0; t < nt; t++) f |= cover[((size_t)t * 2 + (size_t)task) * np + j];
            covered += f && !base_mask[j];
        }
        m->users = users_n;
        m->recall = users_n ? sr / users_n : 0;
        m->ndcg = users_n ? sn / users_n : 0;
        m->hit_rate = users_n ? (double)sh / users_n : 0;
        m->covered = covered;
        m->catalogue = catalogue;
        m->coverage = catalogue ? (double)covered / catalogue : 0;
        /* overall: keep sums in the overall slot, divided at the end */
        o->users += users_n;
        o->recall += sr;
        o->ndcg += sn;
        o->hit_rate += (double)sh;
        o->covered += covered;
        o->catalogue += catalogue;
    }
    free(buf);
    free(hits);
    free(cover);
    return PREFREC_OK;
}

prefrec_status prefrec_eval_run(const prefrec_dataset *ds, const prefrec_eval_params *params,
                                const prefrec_eval_ranker *rankers, size_t n_rankers,
                                prefrec_eval_result **out, prefrec_error *err) {
    if (!ds || !out || (!rankers && n_rankers))
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: NULL argument");
    *out = NULL;
    prefrec_eval_params p = params ? *params : prefrec_eval_default_params();
    if (p.k < 1 || p.k > 10000)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: k must be in 1..10000 (got %d)", p.k);
    if (p.end == 0) p.end = ds->day_max + 1;
    char b1[11], b2[11];
    if (ds->n_rows == 0 || ds->day_min >= p.cutoff)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "eval: no purchases before the cut-off %s "
                                 "(data starts %s)",
                                 prefrec_date_format(p.cutoff, b1),
                                 prefrec_date_format(ds->day_min, b2));
    if (ds->day_max < p.cutoff)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "eval: no purchases on or after the cut-off"
                                 " %s (data ends %s)",
                                 prefrec_date_format(p.cutoff, b1),
                                 prefrec_date_format(ds->day_max, b2));
    if (p.end <= p.cutoff)
        return prefrec_error_set(err, PREFREC_E_INVAL, "eval: end %s is not after the cut-off %s",
                                 prefrec_date_format(p.end, b1), prefrec_date_format(p.cutoff, b2));
    int n_aff_ds = prefrec_dict_size(ds->affiliates);
    if (p.affiliate >= n_aff_ds)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "eval: affiliate index %d out of range "
                                 "(%d affiliates)",
                                 p.affiliate, n_aff_ds);
    for (size_t r = 0; r < n_rankers; r++)
        if (!rankers[r].def || !rankers[r].def->fit || !rankers[r].def->score)
            return prefrec_error_set(err, PREFREC_E_INVAL, "eval: ranker %zu is incomplete", r);
    /* affiliates to evaluate, in dictionary-name order so reports are stable */
    int n_aff = p.affiliate >= 0 ? 1 : n_aff_ds;
    prefrec_eval_result *res = calloc(1, sizeof *res);
    if (!res) return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    res->k = p.k;
    res->cutoff = p.cutoff;
    res->end = p.end;
    res->n_rankers = n_rankers;
    res->n_affiliates = n_aff;
    res->default_name = prefrec_ranker_default_name;
    size_t nr = n_rankers ? n_rankers : 1;
    res->ranker_names = calloc(nr, sizeof *res->ranker_names);
    res->ranker_tasks = calloc(nr, sizeof *res->ranker_tasks);
    res->fit_seconds = calloc(nr, sizeof *res->fit_seconds);
    res->score_seconds = calloc(nr, sizeof *res->score_seconds);
    res->affiliate_names = calloc((size_t)n_aff + 1, sizeof *res->affiliate_names);
    res->train_pairs = calloc((size_t)n_aff + 1, sizeof *res->train_pairs);
    res->m = calloc((size_t)PREFREC_EVAL_TASKS * ((size_t)n_aff + 1) * nr, sizeof *res->m);
    int *aff = calloc((size_t)n_aff + 1, sizeof *aff);
    if (!res->ranker_names || !res->ranker_tasks || !res->fit_seconds || !res->score_seconds ||
        !res->affiliate_names || !res->train_pairs || !res->m || !aff) {
        free(aff);
        prefrec_eval_result_free(res);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
    }
    for (size_t r = 0; r < n_rankers; r++) {
        res->ranker_names[r] = rankers[r].def->name;
        res->ranker_tasks[r] = rankers[r].def->tasks;
    }
    if (p.affiliate >= 0)
        aff[0] = p.affiliate;
    else {
        for (int a = 0; a < n_aff; a++) aff[a] = a;
        for (int a = 1; a < n_aff; a++) /* insertion sort by name */
            for (int b = a; b > 0 &&
                 strcmp(prefrec_dict_str(ds->affiliates, aff[b - 1]),
                        prefrec_dict_str(ds->affiliates, aff[b])) > 0;
                 b--) {
                int t = aff[b];
                aff[b] = aff[b - 1];
                aff[b - 1] = t;
            }
    }
    prefrec_status st = PREFREC_OK;
    for (int s = 0; s < n_aff && !st; s++) {
        const char *an = prefrec_dict_str(ds->affiliates, aff[s]);
        res->affiliate_names[s] = strdup(an ? an : "?");
        if (!res->affiliate_names[s]) {
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
            break;
        }
        prefrec_interactions *tr = NULL, *te = NULL;
        users u;
        memset(&u, 0, sizeof u);
        uint8_t *base = NULL;
        st = prefrec_interactions_build(ds, aff[s], ds->day_min, p.cutoff, &tr, err);
        if (!st) st = prefrec_interactions_build(ds, aff[s], p.cutoff, p.end, &te, err);
        if (!st && users_build(tr, te, &u))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
        if (!st && !(base = malloc((size_t)(tr->n_products ? tr->n_products : 1))))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "eval: out of memory");
        int64_t catalogue = 0;
        if (!st) {
            for (int32_t j = 0; j < tr->n_products; j++) {
                base[j] = tr->n_buyers[j] == 0;
                catalogue += !base[j];
            }
            res->train_pairs[s] = tr->n_pairs;
            if (p.verbose)
                fprintf(stderr,
                        "eval: %s: %lld training pairs, %lld products, %lld new-item users, "
                        "%lld repurchase users\n",
                        res->affiliate_names[s], (long long)tr->n_pairs, (long long)catalogue,
                        (long long)u.n_new, (long long)u.n_rep);
        }
        for (size_t r = 0; r < n_rankers && !st; r++) {
            if (u.n_new == 0 && u.n_rep == 0) {
                for (int task = 0; task < 2; task++)
                    slot_of(res, task, (size_t)s, r)->evaluated =
                        (rankers[r].def->tasks &
                         (task ? PREFREC_TASK_REPURCHASE : PREFREC_TASK_NEW_ITEMS)) != 0;
                continue;
            }
            double f0 = res->fit_seconds[r], s0 = res->score_seconds[r];
            st = eval_one(ds, &p, &rankers[r], r, tr, &u, base, catalogue, s, res, err);
            if (!st && p.verbose)
                fprintf(stderr,
                        "eval: %s: %-12s fit %7.2f s, ranked in %6.2f s: new-item "
                        "recall@%d %.4f\n",
                        res->affiliate_names[s], rankers[r].def->name, res->fit_seconds[r] - f0,
                        res->score_seconds[r] - s0, p.k, slot_of(res, 0, (size_t)s, r)->recall);
        }
        free(base);
        users_free(&u);
        prefrec_interactions_free(tr);
        prefrec_interactions_free(te);
    }
    free(aff);
    if (st) {
        prefrec_eval_result_free(res);
        return st;
    }
    res->affiliate_names[n_aff] = strdup("overall");
    for (int task = 0; task < 2; task++)
        for (size_t r = 0; r < n_rankers; r++) {
            prefrec_metrics *o = slot_of(res, task, (size_t)n_aff, r);
            double nu = (double)o->users;
            o->recall = nu > 0 ? o->recall / nu : 0;
            o->ndcg = nu > 0 ? o->ndcg / nu : 0;
            o->hit_rate = nu > 0 ? o->hit_rate / nu : 0;
            o->coverage = o->catalogue ? (double)o->covered / (double)o->catalogue : 0;
            o->evaluated = (rankers[r].def->tasks &
                            (task ? PREFREC_TASK_REPURCHASE : PREFREC_TASK_NEW_ITEMS)) != 0;
        }
    *out = res;
    return PREFREC_OK;
}
