/* eval_boot.c - is the default ranker's lead real? A paired Poisson bootstrap over customers.
 *
 * The unit resampled is the customer: all of a customer's user rows (every affiliate and
 * window he is a test user in) come along, because a customer's figures in successive windows are
 * not independent. Paired: each replicate weighs one set of customers and the difference of the
 * two rankers is taken on it, so the noise both rankers share (who happened to buy) cancels.
 * Statistic: pooled mean Recall@K difference = sum over rows (ref - baseline) / rows. Interval:
 * the 2.5% and 97.5% percentiles of the replicates' statistic (sorted v[0..B-1]: v[floor(B/40)]
 * and v[B-1-floor(B/40)]).
 *
 * Why Poisson (Chamandy et al. 2012, "Estimating uncertainty for massive data streams"): drawing
 * m customers with replacement needs them all in one place, numbered; at 40 M members that was
 * some 19 GB on rank 0. Instead customer c enters replicate b with a weight w(c, b) drawn from
 * Poisson(1) (the limit of a multinomial draw's counts as m grows), and w depends only on (seed,
 * b, the customer's code): a counter-based draw, the same on any rank. So each rank adds its own
 * customers' weighted sums per replicate, exactly (rank_exact.h), the replicates' sums are added
 * over the ranks, and the bits do not depend on the number of ranks. Memory: a block of
 * replicates x intervals, whatever the customers. A replicate whose weights are all 0 (likely
 * only with a handful of customers) has no statistic and is left out of the percentiles. */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "host/dist.h"
#include "prefrec/pack.h"
#include "prefrec/rng.h"

enum { BLOCK = 1024 }; /* replicates summed per reduction */
#define N_IV (PREFREC_EVAL_TASKS * PREFREC_EVAL_GROUPS)

int eval_pool_init(eval_pool *p, int32_t n_customers, size_t n_rankers) {
    memset(p, 0, sizeof *p);
    size_t nc = n_customers > 0 ? (size_t)n_customers : 1;
    if (!(p->slot = malloc(nc * sizeof *p->slot))) return -1;
    for (size_t c = 0; c < nc; c++) p->slot[c] = -1;
    p->n_customers = n_customers;
    p->n_rankers = n_rankers;
    return 0;
}

void eval_pool_free(eval_pool *p) {
    free(p->slot);
    free(p->sum);
    free(p->count);
    free(p->key);
    memset(p, 0, sizeof *p);
}

int32_t eval_pool_row(eval_pool *p, int32_t c, uint64_t key) {
    if (p->slot[c] >= 0) return p->slot[c];
    const size_t ng = PREFREC_EVAL_TASKS * 2, nr = p->n_rankers ? p->n_rankers : 1;
    if (p->n == p->cap) { /* grow by half: rows are added one customer at a time */
        size_t cap = p->cap ? p->cap + p->cap / 2 : 1024;
        double *sum = realloc(p->sum, cap * ng * nr * sizeof *sum);
        if (sum) p->sum = sum;
        int32_t *count = sum ? realloc(p->count, cap * ng * sizeof *count) : NULL;
        if (count) p->count = count;
        uint64_t *k = count ? realloc(p->key, cap * sizeof *k) : NULL;
        if (!k) return -1;
        p->key = k;
        p->cap = cap;
    }
    size_t s = p->n++;
    memset(p->sum + s * ng * nr, 0, ng * nr * sizeof *p->sum);
    memset(p->count + s * ng, 0, ng * sizeof *p->count);
    p->key[s] = key;
    return p->slot[c] = (int32_t)s;
}

/* splitmix64's output function: a bijection that mixes every bit into every bit */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t eval_boot_key(const char *code, size_t len) { return mix64(prefrec_fnv1a64(code, len)); }

uint64_t eval_boot_stream(uint64_t seed, uint64_t key) {
    return mix64(key ^ mix64(seed + 0x9e3779b97f4a7c15ull * 0xb007u));
}

/* Poisson(1) by its inverse distribution function on a 53-bit uniform: the smallest k with
 * P(X <= k) > u. Only IEEE multiplications, divisions and additions: the same bits everywhere. */
int eval_boot_weight(uint64_t stream, uint64_t b) {
    uint64_t s = stream + b * 0x9e3779b97f4a7c15ull;
    double u = (double)(prefrec_splitmix64(&s) >> 11) * 0x1p-53;
    double p = 0.36787944117144233, c = p; /* e^-1 */
    int k = 0;
    while (u >= c && k < 40) {
        k++;
        p /= k;
        c += p;
    }
    return k;
}

void eval_boot_weights(uint64_t stream, uint64_t b0, int nb, uint8_t *w) {
    for (int b = 0; b < nb; b++) w[b] = (uint8_t)eval_boot_weight(stream, b0 + (uint64_t)b);
}

int eval_boot_add(rank_fx *num, rank_fx *den, int nb, const uint8_t *w, rank_fx d, int64_t n) {
    for (int b = 0; b < nb; b++)
        if (w[b] &&
            (rank_fx_add_fx(&num[b], d * w[b]) || rank_fx_add_fx(&den[b], (rank_fx)n * w[b])))
            return -1;
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int eval_boot_percentiles(double *v, int nv, double *lo, double *hi) {
    if (nv <= 0) return -1;
    qsort(v, (size_t)nv, sizeof *v, cmp_double);
    int tail = nv / 40;
    *lo = v[tail];
    *hi = v[nv - 1 - tail];
    return 0;
}

static int find_ranker(const prefrec_eval_result *r, const char *name, int task) {
    for (size_t i = 0; name && i < r->n_rankers; i++)
        if (!strcmp(r->ranker_names[i], name) && ((r->ranker_tasks[i] >> task) & 1)) return (int)i;
    return -1;
}

/* The customer in row s: its rows k, and its ref and baseline sums on the grid, in interval
 * (t, g). */
static void cust_terms(const eval_pool *p, size_t s, int t, int g, int ref, int base, int32_t *k,
                       rank_fx *a, rank_fx *b) {
    size_t nr = p->n_rankers, ng = PREFREC_EVAL_TASKS * 2;
    double sa = 0, sb = 0;
    *k = 0;
    for (int h = 0; h < 2; h++) { /* h 0 known, 1 cold */
        if ((g == PREFREC_EVAL_KNOWN && h == 1) || (g == PREFREC_EVAL_COLD && h == 0)) continue;
        size_t tg = s * ng + (size_t)t * 2 + (size_t)h;
        *k += p->count[tg];
        sa += p->sum[tg * nr + (size_t)ref];
        sb += p->sum[tg * nr + (size_t)base];
    }
    /* recalls are in [0, 1]: a customer's sum is below its rows, far inside the grid's range */
    *a = *b = 0;
    rank_fx_round(sa, a);
    rank_fx_round(sb, b);
}

prefrec_status eval_intervals(prefrec_eval_result *r, const eval_pool *p, int resamples,
                              uint64_t seed, struct prefrec_dist *dist, prefrec_error *err) {
    memset(r->interval, 0, sizeof r->interval);
    if (resamples <= 0) return PREFREC_OK;
    size_t nc = p->n; /* this rank's customers with a row */
    int ref[N_IV], base[N_IV], any = 0;
    /* per interval: the ref and baseline sums, rows and customers, over every rank */
    rank_fx tot[N_IV][4];
    memset(tot, 0, sizeof tot);
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            int q = t * PREFREC_EVAL_GROUPS + g, rf = find_ranker(r, r->defaults[t], t);
            ref[q] = rf;
            base[q] = rf >= 0 ? prefrec_eval_best_in(r, t, g, rf) : -1;
            r->interval[t][g].ref = rf;
            r->interval[t][g].baseline = base[q];
            any |= base[q] >= 0;
        }
    if (!any) return PREFREC_OK; /* the same on every rank: r's figures are every rank's */
    int bad = 0;
    for (int q = 0; q < N_IV; q++) {
        if (base[q] < 0) continue;
        for (size_t c = 0; c < nc; c++) {
            int32_t k;
            rank_fx a, b;
            cust_terms(p, c, q / PREFREC_EVAL_GROUPS, q % PREFREC_EVAL_GROUPS, ref[q], base[q], &k,
                       &a, &b);
            if (!k) continue;
            bad |= rank_fx_add_fx(&tot[q][0], a) | rank_fx_add_fx(&tot[q][1], b);
            tot[q][2] += k;
            tot[q][3] += 1;
        }
    }
    int nb_max = resamples < BLOCK ? resamples : BLOCK;
    double *v = malloc((size_t)N_IV * (size_t)resamples * sizeof *v);
    int *nv = calloc(N_IV, sizeof *nv);
    rank_fx *acc = malloc((size_t)N_IV * 2 * (size_t)nb_max * sizeof *acc);
    uint8_t *w = malloc((size_t)nb_max);
    prefrec_status st = !v || !nv || !acc || !w
        ? prefrec_error_set(err, PREFREC_E_NOMEM, "eval: bootstrap: out of memory")
        : PREFREC_OK;
    if (!st && bad)
        st = prefrec_error_set(err, PREFREC_E_RANGE, "eval: bootstrap: sums out of range");
    if ((st = prefrec_dist_agree(dist, st, 0, err)) ||
        rank_fx_sum_dist(dist, &tot[0][0], sizeof tot / sizeof tot[0][0])) {
        if (!st) st = prefrec_error_set(err, PREFREC_E_IO, "eval: bootstrap: summing failed");
        free(v);
        free(nv);
        free(acc);
        free(w);
        return prefrec_dist_agree(dist, st, 0, err);
    }
    /* the replicates, a block at a time: every rank adds its customers' weighted terms, the
     * block's sums are added over the ranks, each replicate's statistic is kept */
    for (int b0 = 0; b0 < resamples && !st; b0 += nb_max) {
        int nb = resamples - b0 < nb_max ? resamples - b0 : nb_max;
        memset(acc, 0, (size_t)N_IV * 2 * (size_t)nb * sizeof *acc);
        bad = 0;
        for (size_t c = 0; c < nc && !bad; c++) {
            int drawn = 0; /* the block's weights of c, drawn once for every interval */
            for (int q = 0; q < N_IV && !bad; q++) {
                if (base[q] < 0) continue;
                int32_t k;
                rank_fx a, b;
                cust_terms(p, c, q / PREFREC_EVAL_GROUPS, q % PREFREC_EVAL_GROUPS, ref[q], base[q],
                           &k, &a, &b);
                if (!k) continue;
                if (!drawn++)
                    eval_boot_weights(eval_boot_stream(seed, p->key[c]), (uint64_t)b0, nb, w);
                rank_fx *num = acc + (size_t)q * 2 * (size_t)nb, *den = num + nb;
                bad = eval_boot_add(num, den, nb, w, a - b, k);
            }
        }
        if (bad) st = prefrec_error_set(err, PREFREC_E_RANGE, "eval: bootstrap: sums out of range");
        if ((st = prefrec_dist_agree(dist, st, 0, err))) break;
        if (rank_fx_sum_dist(dist, acc, (size_t)N_IV * 2 * (size_t)nb)) {
            st = prefrec_error_set(err, PREFREC_E_IO, "eval: bootstrap: summing failed");
            break;
        }
        for (int q = 0; q < N_IV; q++) {
            const rank_fx *num = acc + (size_t)q * 2 * (size_t)nb, *den = num + nb;
            for (int b = 0; b < nb; b++)
                if (den[b] > 0)
                    v[(size_t)q * (size_t)resamples + (size_t)nv[q]++] =
                        rank_fx_double(num[b]) / (double)den[b];
        }
    }
    st = prefrec_dist_agree(dist, st, 0, err);
    for (int t = 0; t < PREFREC_EVAL_TASKS && !st; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            int q = t * PREFREC_EVAL_GROUPS + g;
            prefrec_eval_interval *iv = &r->interval[t][g];
            int64_t rows = (int64_t)tot[q][2], custs = (int64_t)tot[q][3];
            /* no replicate weighed any customer (a handful of customers and a few replicates):
             * no interval */
            if (base[q] < 0 || rows == 0 || nv[q] == 0) continue;
            iv->evaluated = 1;
            iv->users = rows;
            iv->customers = custs;
            iv->ref_recall = rank_fx_double(tot[q][0]) / (double)rows;
            iv->baseline_recall = rank_fx_double(tot[q][1]) / (double)rows;
            iv->diff = rank_fx_double(tot[q][0] - tot[q][1]) / (double)rows;
            eval_boot_percentiles(v + (size_t)q * (size_t)resamples, nv[q], &iv->lo, &iv->hi);
            iv->excludes_zero = iv->lo > 0 || iv->hi < 0;
        }
    free(v);
    free(nv);
    free(acc);
    free(w);
    return st;
}
