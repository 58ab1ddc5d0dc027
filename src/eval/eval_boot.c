/* eval_boot.c - is the default ranker's lead real? A paired bootstrap over customers.
 *
 * The unit resampled is the customer: all of a customer's user rows (every affiliate and
 * window he is a test user in) come along, because a customer's figures in successive windows are
 * not independent. Paired: each resample draws one set of customers and the difference of the
 * two rankers is taken on it, so the noise both rankers share (who happened to buy) cancels.
 * Statistic: pooled mean Recall@K difference = sum over rows (ref - baseline) / rows. Interval:
 * the 2.5% and 97.5% percentiles of the resampled statistic (sorted v[0..B-1]: v[floor(B/40)]
 * and v[B-1-floor(B/40)]). Seeded: one prefrec_rng stream per (task, group), so the result
 * depends only on the seed. */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "prefrec/rng.h"

int eval_pool_init(eval_pool *p, int32_t n_customers, size_t n_rankers) {
    memset(p, 0, sizeof *p);
    size_t nc = n_customers > 0 ? (size_t)n_customers : 1, nr = n_rankers ? n_rankers : 1;
    p->sum = calloc((size_t)PREFREC_EVAL_TASKS * 2 * nr * nc, sizeof *p->sum);
    p->count = calloc((size_t)PREFREC_EVAL_TASKS * 2 * nc, sizeof *p->count);
    if (!p->sum || !p->count) {
        eval_pool_free(p);
        return -1;
    }
    p->n_customers = n_customers;
    p->n_rankers = n_rankers;
    return 0;
}

void eval_pool_free(eval_pool *p) {
    free(p->sum);
    free(p->count);
    memset(p, 0, sizeof *p);
}

/* 1 when customer c has a user row in p (a count on some task and group) */
static int pool_has_row(const eval_pool *p, size_t c) {
    size_t nc = (size_t)p->n_customers;
    for (size_t tg = 0; tg < PREFREC_EVAL_TASKS * 2; tg++)
        if (p->count[tg * nc + c]) return 1;
    return 0;
}

int eval_pool_gather(struct prefrec_dist *d, const uint64_t *key, const eval_pool *local,
                     eval_pool *out) {
    memset(out, 0, sizeof *out);
    size_t nc = (size_t)local->n_customers, nr = local->n_rankers, ng = PREFREC_EVAL_TASKS * 2;
    /* a record: key, the counts (int32, padded to 8 bytes), the sums */
    size_t cb = (ng * sizeof(int32_t) + 7) / 8 * 8, rec = sizeof(uint64_t) + cb + ng * nr * 8;
    size_t n = 0;
    for (size_t c = 0; c < nc; c++) n += (size_t)pool_has_row(local, c);
    char *buf = calloc(n ? n : 1, rec), *all = NULL;
    size_t k = 0;
    for (size_t c = 0; buf && c < nc; c++) {
        if (!pool_has_row(local, c)) continue;
        char *r = buf + k++ * rec;
        uint64_t kc = key ? key[c] : (uint64_t)c;
        memcpy(r, &kc, sizeof kc);
        for (size_t tg = 0; tg < ng; tg++) {
            memcpy(r + 8 + tg * sizeof(int32_t), &local->count[tg * nc + c], sizeof(int32_t));
            for (size_t i = 0; i < nr; i++)
                memcpy(r + 8 + cb + (tg * nr + i) * 8, &local->sum[(tg * nr + i) * nc + c], 8);
        }
    }
    size_t m = 0;
    int rc = eval_gather_sorted(d, buf, buf ? n : 0, rec, &all, &m);
    if (!buf) rc = -1;
    free(buf);
    if (!rc && eval_pool_init(out, (int32_t)m, nr)) rc = -1;
    for (size_t c = 0; !rc && c < m; c++) {
        const char *r = all + c * rec;
        for (size_t tg = 0; tg < ng; tg++) {
            memcpy(&out->count[tg * m + c], r + 8 + tg * sizeof(int32_t), sizeof(int32_t));
            for (size_t i = 0; i < nr; i++)
                memcpy(&out->sum[(tg * nr + i) * m + c], r + 8 + cb + (tg * nr + i) * 8, 8);
        }
    }
    free(all);
    if (rc) eval_pool_free(out);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int find_ranker(const prefrec_eval_result *r, const char *name, int task) {
    for (size_t i = 0; name && i < r->n_rankers; i++)
        if (!strcmp(r->ranker_names[i], name) && ((r->ranker_tasks[i] >> task) & 1)) return (int)i;
    return -1;
}

prefrec_status eval_intervals(prefrec_eval_result *r, const eval_pool *p, int resamples,
                              uint64_t seed, prefrec_error *err) {
    memset(r->interval, 0, sizeof r->interval);
    if (resamples <= 0 || !p->sum) return PREFREC_OK;
    size_t nc = (size_t)p->n_customers, nr = p->n_rankers;
    double *d = malloc((nc ? nc : 1) * sizeof *d);
    double *v = malloc((size_t)resamples * sizeof *v);
    int32_t *n = malloc((nc ? nc : 1) * sizeof *n);
    if (!d || !v || !n) {
        free(d);
        free(v);
        free(n);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "eval: bootstrap: out of memory");
    }
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        int ref = find_ranker(r, r->defaults[t], t);
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            prefrec_eval_interval *iv = &r->interval[t][g];
            iv->ref = ref;
            iv->baseline = ref >= 0 ? prefrec_eval_best_in(r, t, g, ref) : -1;
            if (ref < 0 || iv->baseline < 0) continue;
            /* the customers with rows in the group: their summed difference and row count */
            size_t m = 0;
            double s_ref = 0, s_base = 0;
            int64_t rows = 0;
            for (size_t c = 0; c < nc; c++) {
                double a = 0, b = 0;
                int32_t k = 0;
                for (int h = 0; h < 2; h++) { /* h 0 known, 1 cold */
                    if ((g == PREFREC_EVAL_KNOWN && h == 1) || (g == PREFREC_EVAL_COLD && h == 0))
                        continue;
                    size_t tg = (size_t)t * 2 + (size_t)h;
                    k += p->count[tg * nc + c];
                    a += p->sum[(tg * nr + (size_t)ref) * nc + c];
                    b += p->sum[(tg * nr + (size_t)iv->baseline) * nc + c];
                }
                if (k == 0) continue;
                d[m] = a - b;
                n[m] = k;
                m++;
                s_ref += a;
                s_base += b;
                rows += k;
            }
            if (m == 0) continue;
            iv->evaluated = 1;
            iv->users = rows;
            iv->customers = (int64_t)m;
            iv->ref_recall = s_ref / (double)rows;
            iv->baseline_recall = s_base / (double)rows;
            iv->diff = (s_ref - s_base) / (double)rows;
            prefrec_rng rng;
            prefrec_rng_init(&rng, seed, 0xb007u + (uint64_t)(t * PREFREC_EVAL_GROUPS + g));
            for (int b = 0; b < resamples; b++) {
                double sd = 0;
                int64_t sn = 0;
                for (size_t j = 0; j < m; j++) {
                    uint32_t c = prefrec_rng_below(&rng, (uint32_t)m);
                    sd += d[c];
                    sn += n[c];
                }
                v[b] = sd / (double)sn;
            }
            qsort(v, (size_t)resamples, sizeof *v, cmp_double);
            int tail = resamples / 40;
            iv->lo = v[tail];
            iv->hi = v[resamples - 1 - tail];
            iv->excludes_zero = iv->lo > 0 || iv->hi < 0;
        }
    }
    free(d);
    free(v);
    free(n);
    return PREFREC_OK;
}
