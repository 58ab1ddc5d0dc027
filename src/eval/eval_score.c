/* eval_score.c - the users of one test (or validation) window and their per-user figures under
 * one fitted ranker: new items, repurchase and the mixed list (eval_internal.h).
 *
 * Each user is scored once; the one score vector serves every task (new items: top K over the
 * catalogue minus the history; repurchase: top K over the history; mixed: top K over the
 * catalogue). Users are split into contiguous blocks over threads and each writes only its own
 * entries, so the caller's sums in user order do not depend on the thread count. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "prefrec/topk.h"

void eval_users_free(eval_users *u) {
    free(u->cust);
    free(u->known);
    free(u->new_start);
    free(u->rep_start);
    free(u->new_truth);
    free(u->rep_truth);
    memset(u, 0, sizeof *u);
}

int eval_users_build(const prefrec_interactions *tr, const prefrec_interactions *te,
                     eval_users *u) {
    memset(u, 0, sizeof *u);
    int32_t n = 0;
    for (int32_t c = 0; c < te->n_customers; c++)
        if (te->row_start[c + 1] > te->row_start[c]) n++;
    size_t np = te->n_pairs ? (size_t)te->n_pairs : 1, nn = n ? (size_t)n : 1;
    u->cust = malloc(nn * sizeof *u->cust);
    u->known = malloc(nn);
    u->new_start = malloc((nn + 1) * sizeof *u->new_start);
    u->rep_start = malloc((nn + 1) * sizeof *u->rep_start);
    u->new_truth = malloc(np * sizeof *u->new_truth);
    u->rep_truth = malloc(np * sizeof *u->rep_truth);
    if (!u->cust || !u->known || !u->new_start || !u->rep_start || !u->new_truth || !u->rep_truth) {
        eval_users_free(u);
        return -1;
    }
    u->te = te;
    int64_t nw = 0, nr = 0;
    int32_t k = 0;
    for (int32_t c = 0; c < te->n_customers; c++) {
        if (te->row_start[c + 1] == te->row_start[c]) continue;
        u->cust[k] = c;
        u->known[k] = tr->row_start[c + 1] > tr->row_start[c];
        u->n_known += u->known[k];
        u->new_start[k] = nw;
        u->rep_start[k] = nr;
        for (int64_t b = te->row_start[c]; b < te->row_start[c + 1]; b++) {
            if (prefrec_interactions_find(tr, c, te->product[b]) >= 0)
                u->rep_truth[nr++] = te->product[b];
            else
                u->new_truth[nw++] = te->product[b];
        }
        if (nw > u->new_start[k]) u->n_new++;
        if (nr > u->rep_start[k]) u->n_rep++;
        k++;
    }
    u->n = n;
    u->new_start[n] = nw;
    u->rep_start[n] = nr;
    return 0;
}

typedef struct rank_job {
    const prefrec_ranker_def *def;
    const void *model;
    const prefrec_interactions *tr;
    const eval_users *u;
    const uint8_t *base_mask; /* 1 = not in the catalogue */
    int k;
    unsigned mask;
    int32_t from, to;
    eval_ufig **fig;
    uint8_t *cover; /* this thread's TASKS x 2 x n_products flags, or NULL */
    int failed;
} rank_job;

static void mark(uint8_t *cover, int task, int cold, int32_t np, const prefrec_scored *best,
                 size_t m) {
    if (!cover) return;
    uint8_t *f = cover + ((size_t)task * 2 + (size_t)cold) * (size_t)np;
    for (size_t r = 0; r < m; r++) f[best[r].index] = 1;
}

static void *rank_users(void *arg) {
    rank_job *jb = arg;
    const prefrec_interactions *tr = jb->tr;
    const eval_users *u = jb->u;
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
    int do_new = (jb->mask >> PREFREC_EVAL_NEW_ITEMS) & 1;
    int do_rep = (jb->mask >> PREFREC_EVAL_REPURCHASE) & 1;
    int do_mix = (jb->mask >> PREFREC_EVAL_MIXED) & 1;
    for (int32_t i = jb->from; i < jb->to; i++) {
        int32_t c = u->cust[i];
        int cold = !u->known[i];
        const int32_t *nt = u->new_truth + u->new_start[i], *rt = u->rep_truth + u->rep_start[i];
        size_t n_nt = (size_t)(u->new_start[i + 1] - u->new_start[i]);
        size_t n_rt = (size_t)(u->rep_start[i + 1] - u->rep_start[i]);
        int want_new = do_new && n_nt > 0, want_rep = do_rep && n_rt > 0;
        if (!want_new && !want_rep && !do_mix) continue;
        if (jb->def->score(jb->model, c, scores)) {
            jb->failed = 1;
            break;
        }
        int64_t ha = tr->row_start[c], hb = tr->row_start[c + 1];
        if (want_new) {
            for (int64_t b = ha; b < hb; b++) mask[tr->product[b]] = 1;
            size_t m = prefrec_topk(scores, (size_t)np, mask, (size_t)jb->k, best);
            for (int64_t b = ha; b < hb; b++) mask[tr->product[b]] = jb->base_mask[tr->product[b]];
            for (size_t r = 0; r < m; r++) ranked[r] = best[r].index;
            mark(jb->cover, PREFREC_EVAL_NEW_ITEMS, cold, np, best, m);
            eval_ufig *f = &jb->fig[PREFREC_EVAL_NEW_ITEMS][i];
            f->on = 1;
            f->hit = prefrec_rank_list_metrics(ranked, m, nt, n_nt, jb->k, &f->rec, &f->ndcg) > 0;
        }
        if (want_rep) {
            prefrec_topk_heap heap;
            prefrec_topk_heap_init(&heap, best, (size_t)jb->k);
            for (int64_t b = ha; b < hb; b++)
                prefrec_topk_heap_push(&heap, scores[tr->product[b]], tr->product[b]);
            size_t m = prefrec_topk_heap_finish(&heap);
            for (size_t r = 0; r < m; r++) ranked[r] = best[r].index;
            mark(jb->cover, PREFREC_EVAL_REPURCHASE, cold, np, best, m);
            eval_ufig *f = &jb->fig[PREFREC_EVAL_REPURCHASE][i];
            f->on = 1;
            f->hit = prefrec_rank_list_metrics(ranked, m, rt, n_rt, jb->k, &f->rec, &f->ndcg) > 0;
        }
        if (do_mix) {
            size_t m = prefrec_topk(scores, (size_t)np, jb->base_mask, (size_t)jb->k, best);
            size_t own = 0;
            for (size_t r = 0; r < m; r++) {
                ranked[r] = best[r].index;
                own += prefrec_interactions_find(tr, c, best[r].index) >= 0;
            }
            mark(jb->cover, PREFREC_EVAL_MIXED, cold, np, best, m);
            const prefrec_interactions *te = u->te;
            eval_ufig *f = &jb->fig[PREFREC_EVAL_MIXED][i];
            f->on = 1;
            f->hit = prefrec_rank_list_metrics(ranked, m, te->product + te->row_start[c],
                                               (size_t)(te->row_start[c + 1] - te->row_start[c]),
                                               jb->k, &f->rec, &f->ndcg) > 0;
            f->rratio = m ? (double)own / (double)m : 0.0;
            if (n_rt) {
                f->on_rep = 1;
                f->hit_rep =
                    prefrec_rank_list_metrics(ranked, m, rt, n_rt, jb->k, &f->rec_rep, NULL) > 0;
            }
            if (n_nt) {
                f->on_expl = 1;
                f->hit_expl =
                    prefrec_rank_list_metrics(ranked, m, nt, n_nt, jb->k, &f->rec_expl, NULL) > 0;
            }
        }
    }
done:
    free(scores);
    free(mask);
    free(best);
    free(ranked);
    return NULL;
}

prefrec_status eval_rank_users(const prefrec_ranker_def *def, const void *model,
                               const prefrec_interactions *tr, const eval_users *u,
                               const uint8_t *base_mask, int k, unsigned mask, int threads,
                               eval_ufig *fig[PREFREC_EVAL_TASKS], uint8_t *cover) {
    int32_t np = tr->n_products, n = u->n;
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    if (nt > n) nt = n > 0 ? n : 1;
    size_t per = (size_t)PREFREC_EVAL_TASKS * 2 * (size_t)(np ? np : 1);
    uint8_t *tcover = NULL; /* threads 1.. get their own flags, OR-ed into cover afterwards */
    if (cover && nt > 1 && !(tcover = calloc((size_t)(nt - 1) * per, 1))) return PREFREC_E_NOMEM;
    rank_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        rank_job jb = {def,
                       model,
                       tr,
                       u,
                       base_mask,
                       k,
                       mask,
                       (int32_t)((int64_t)n * t / nt),
                       (int32_t)((int64_t)n * (t + 1) / nt),
                       fig,
                       !cover       ? NULL
                           : t == 0 ? cover
                                    : tcover + (size_t)(t - 1) * per,
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
    if (tcover) {
        for (int t = 1; t < nt; t++) {
            const uint8_t *f = tcover + (size_t)(t - 1) * per;
            for (size_t j = 0; j < per; j++) cover[j] |= f[j];
        }
        free(tcover);
    }
    return failed ? PREFREC_E_NOMEM : PREFREC_OK;
}
