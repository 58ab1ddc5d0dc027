/* eval_result.c - the evaluation result's storage: figures by (window, task, group, affiliate,
 * ranker), the mean and spread over windows, the params each ranker used, and the accessors of
 * prefrec/native/eval.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"

static const char *task_names[PREFREC_EVAL_TASKS] = {"new_items", "repurchase", "mixed"};
static const char *group_names[PREFREC_EVAL_GROUPS] = {"overall", "known", "cold"};

const char *prefrec_eval_task_name(int task) {
    return task >= 0 && task < PREFREC_EVAL_TASKS ? task_names[task] : "?";
}
const char *prefrec_eval_group_name(int group) {
    return group >= 0 && group < PREFREC_EVAL_GROUPS ? group_names[group] : "?";
}

double prefrec_metrics_value(const prefrec_metrics *m, int field) {
    switch (field) {
        case PREFREC_M_RECALL:
            return m->recall;
        case PREFREC_M_NDCG:
            return m->ndcg;
        case PREFREC_M_HIT_RATE:
            return m->hit_rate;
        case PREFREC_M_COVERAGE:
            return m->coverage;
        case PREFREC_M_RECALL_REP:
            return m->recall_rep;
        case PREFREC_M_HIT_RATE_REP:
            return m->hit_rate_rep;
        case PREFREC_M_RECALL_EXPL:
            return m->recall_expl;
        case PREFREC_M_HIT_RATE_EXPL:
            return m->hit_rate_expl;
        case PREFREC_M_REPEAT_RATIO:
            return m->repeat_ratio;
        default:
            return 0.0;
    }
}

int64_t prefrec_metrics_users(const prefrec_metrics *m, int field) {
    if (field == PREFREC_M_RECALL_REP || field == PREFREC_M_HIT_RATE_REP) return m->users_rep;
    if (field == PREFREC_M_RECALL_EXPL || field == PREFREC_M_HIT_RATE_EXPL) return m->users_expl;
    return m->users;
}

size_t eval_m_index(const prefrec_eval_result *r, int window, int task, int group, int aff_slot,
                    size_t ranker) {
    size_t slot = aff_slot < 0 ? (size_t)r->n_affiliates : (size_t)aff_slot;
    size_t w = (size_t)(window + 1);
    return (((w * PREFREC_EVAL_TASKS + (size_t)task) * PREFREC_EVAL_GROUPS + (size_t)group) *
                ((size_t)r->n_affiliates + 1) +
            slot) *
        r->n_rankers +
        ranker;
}

size_t eval_choice_index(const prefrec_eval_result *r, int window, int aff_slot, int task,
                         size_t ranker) {
    return (((size_t)window * (size_t)r->n_affiliates + (size_t)aff_slot) * PREFREC_EVAL_TASKS +
            (size_t)task) *
        r->n_rankers +
        ranker;
}

void prefrec_eval_result_free(prefrec_eval_result *r) {
    if (!r) return;
    if (r->affiliate_names)
        for (int a = 0; a <= r->n_affiliates; a++) free(r->affiliate_names[a]);
    free(r->affiliate_names);
    free(r->windows);
    free(r->ranker_names);
    free(r->ranker_tasks);
    free(r->fit_seconds);
    free(r->score_seconds);
    free(r->tune_seconds);
    free(r->train_pairs);
    free(r->m);
    free(r->choice);
    free(r);
}

prefrec_eval_result *eval_result_new(int n_windows, int n_affiliates, size_t n_rankers) {
    prefrec_eval_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n_windows = n_windows;
    r->n_affiliates = n_affiliates;
    r->n_rankers = n_rankers;
    size_t nr = n_rankers ? n_rankers : 1, na = (size_t)n_affiliates;
    size_t nm = ((size_t)n_windows + 1) * PREFREC_EVAL_TASKS * PREFREC_EVAL_GROUPS * (na + 1) * nr;
    size_t nc = (size_t)n_windows * (na ? na : 1) * PREFREC_EVAL_TASKS * nr;
    r->windows = calloc((size_t)n_windows, sizeof *r->windows);
    r->ranker_names = calloc(nr, sizeof *r->ranker_names);
    r->ranker_tasks = calloc(nr, sizeof *r->ranker_tasks);
    r->fit_seconds = calloc(nr, sizeof *r->fit_seconds);
    r->score_seconds = calloc(nr, sizeof *r->score_seconds);
    r->tune_seconds = calloc(nr, sizeof *r->tune_seconds);
    r->affiliate_names = calloc(na + 1, sizeof *r->affiliate_names);
    r->train_pairs = calloc((size_t)n_windows * (na ? na : 1), sizeof *r->train_pairs);
    r->m = calloc(nm, sizeof *r->m);
    r->choice = calloc(nc, sizeof *r->choice);
    if (!r->windows || !r->ranker_names || !r->ranker_tasks || !r->fit_seconds ||
        !r->score_seconds || !r->tune_seconds || !r->affiliate_names || !r->train_pairs || !r->m ||
        !r->choice) {
        prefrec_eval_result_free(r);
        return NULL;
    }
    for (size_t i = 0; i < nc; i++) r->choice[i].grid_index = -1;
    return r;
}

static double ratio(double s, int64_t n) { return n > 0 ? s / (double)n : 0.0; }

void eval_result_finish_window(prefrec_eval_result *r, int w) {
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++)
            for (int s = -1; s < r->n_affiliates; s++)
                for (size_t i = 0; i < r->n_rankers; i++) {
                    prefrec_metrics *m = &r->m[eval_m_index(r, w, t, g, s, i)];
                    m->evaluated = (r->ranker_tasks[i] >> t) & 1;
                    m->recall = ratio(m->recall, m->users);
                    m->ndcg = ratio(m->ndcg, m->users);
                    m->hit_rate = ratio(m->hit_rate, m->users);
                    m->repeat_ratio = ratio(m->repeat_ratio, m->users);
                    m->recall_rep = ratio(m->recall_rep, m->users_rep);
                    m->hit_rate_rep = ratio(m->hit_rate_rep, m->users_rep);
                    m->recall_expl = ratio(m->recall_expl, m->users_expl);
                    m->hit_rate_expl = ratio(m->hit_rate_expl, m->users_expl);
                    m->coverage = m->catalogue ? (double)m->covered / (double)m->catalogue : 0.0;
                }
}

/* Mean of field over the windows where it has users (and the ranker is measured). */
static int window_stats(const prefrec_eval_result *r, int t, int g, int s, size_t i, int field,
                        prefrec_spread *out) {
    int n = 0;
    double sum = 0, lo = 0, hi = 0;
    for (int w = 0; w < r->n_windows; w++) {
        const prefrec_metrics *m = &r->m[eval_m_index(r, w, t, g, s, i)];
        if (!m->evaluated || prefrec_metrics_users(m, field) == 0) continue;
        double v = prefrec_metrics_value(m, field);
        sum += v;
        lo = n == 0 || v < lo ? v : lo;
        hi = n == 0 || v > hi ? v : hi;
        n++;
    }
    double mean = n ? sum / n : 0.0, ss = 0;
    for (int w = 0; w < r->n_windows && n > 1; w++) {
        const prefrec_metrics *m = &r->m[eval_m_index(r, w, t, g, s, i)];
        if (!m->evaluated || prefrec_metrics_users(m, field) == 0) continue;
        double d = prefrec_metrics_value(m, field) - mean;
        ss += d * d;
    }
    out->mean = mean;
    out->sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    out->min = lo;
    out->max = hi;
    return n;
}

void eval_result_finish_mean(prefrec_eval_result *r) {
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++)
            for (int s = -1; s < r->n_affiliates; s++)
                for (size_t i = 0; i < r->n_rankers; i++) {
                    prefrec_metrics *o = &r->m[eval_m_index(r, -1, t, g, s, i)];
                    memset(o, 0, sizeof *o);
                    o->evaluated = (r->ranker_tasks[i] >> t) & 1;
                    for (int w = 0; w < r->n_windows; w++) {
                        const prefrec_metrics *m = &r->m[eval_m_index(r, w, t, g, s, i)];
                        o->users += m->users;
                        o->users_rep += m->users_rep;
                        o->users_expl += m->users_expl;
                        o->covered += m->covered;
                        o->catalogue += m->catalogue;
                    }
                    prefrec_spread sp;
                    double *dst[PREFREC_M_COUNT] = {
                        &o->recall,      &o->ndcg,          &o->hit_rate,
                        &o->coverage,    &o->recall_rep,    &o->hit_rate_rep,
                        &o->recall_expl, &o->hit_rate_expl, &o->repeat_ratio};
                    for (int f = 0; f < PREFREC_M_COUNT; f++) {
                        window_stats(r, t, g, s, i, f, &sp);
                        *dst[f] = sp.mean;
                    }
                }
}

const prefrec_metrics *prefrec_eval_at(const prefrec_eval_result *r, int window, int task,
                                       int group, int aff_slot, size_t ranker) {
    if (!r || window < -1 || window >= r->n_windows || task < 0 || task >= PREFREC_EVAL_TASKS ||
        group < 0 || group >= PREFREC_EVAL_GROUPS || aff_slot < -1 || aff_slot >= r->n_affiliates ||
        ranker >= r->n_rankers)
        return NULL;
    return &r->m[eval_m_index(r, window, task, group, aff_slot, ranker)];
}

const prefrec_metrics *prefrec_eval_get(const prefrec_eval_result *r, int task, int aff_slot,
                                        size_t ranker) {
    return prefrec_eval_at(r, -1, task, PREFREC_EVAL_ALL, aff_slot, ranker);
}

int prefrec_eval_spread(const prefrec_eval_result *r, int task, int group, int aff_slot,
                        size_t ranker, int field, prefrec_spread *out) {
    prefrec_spread z = {0, 0, 0, 0};
    if (out) *out = z;
    if (!prefrec_eval_at(r, -1, task, group, aff_slot, ranker) || field < 0 ||
        field >= PREFREC_M_COUNT || !out)
        return 0;
    return window_stats(r, task, group, aff_slot, ranker, field, out);
}

const prefrec_eval_choice *prefrec_eval_choice_at(const prefrec_eval_result *r, int window,
                                                  int aff_slot, int task, size_t ranker) {
    if (!r || window < 0 || window >= r->n_windows || aff_slot < 0 || aff_slot >= r->n_affiliates ||
        task < 0 || task >= PREFREC_EVAL_TASKS || ranker >= r->n_rankers)
        return NULL;
    return &r->choice[eval_choice_index(r, window, aff_slot, task, ranker)];
}

int prefrec_eval_best_in(const prefrec_eval_result *r, int task, int group, int exclude) {
    int best = -1;
    for (size_t i = 0; r && i < r->n_rankers; i++) {
        const prefrec_metrics *m = prefrec_eval_at(r, -1, task, group, -1, i);
        if (!m || !m->evaluated || m->users == 0 || (int)i == exclude) continue;
        const prefrec_metrics *b =
            best >= 0 ? prefrec_eval_at(r, -1, task, group, -1, (size_t)best) : NULL;
        if (!b || m->recall > b->recall || (m->recall == b->recall && m->ndcg > b->ndcg))
            best = (int)i;
    }
    return best;
}

int prefrec_eval_best(const prefrec_eval_result *r, int task) {
    return prefrec_eval_best_in(r, task, PREFREC_EVAL_ALL, -1);
}
