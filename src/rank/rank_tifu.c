/* rank_tifu.c - TIFU-KNN (Hu, Rong, Ye, Wang, Song, SIGIR 2020): a time-decayed personal item
 * frequency blended with the k nearest customers' (rankers.h has the formulas).
 *
 * fit turns each customer's baskets (rank_baskets.h) into a sparse vector aligned with the
 * window's pairs, its squared norm, a copy in product order (to find the customers sharing a
 * product), and the customers ordered by (norm, index). score finds the k nearest customers by
 * Euclidean distance |u|^2 + |v|^2 - 2 u.v: u.v over the customers who share a product with u
 * (through the product lists); every other customer is at |u|^2 + |v|^2, so the best of them
 * are the first of the norm order. Exact, and no customer x customer matrix.
 *
 * The weights follow the paper's formulas (basket j of a group of n: r_b^(n-j) / n; group i of
 * m: r_g^(m-i) / m). The authors' code differs slightly (within-basket decay over the whole
 * history, no 1/n, the customer counted among his own neighbours); we exclude the customer from
 * his neighbours, since alpha already weighs his own vector. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"
#include "rank_baskets.h"
#include "rank_util.h"

typedef struct tifu_model {
    const prefrec_interactions *x;
    prefrec_tifu_params p;
    float *w; /* n_pairs, aligned with x->product: the customer's vector */
    float *wcol; /* n_pairs, aligned with x->col_customer */
    double *norm2; /* n_customers */
    int32_t *by_norm; /* customers with history, by (norm2, index) ascending */
    int32_t n_hist;
} tifu_model;

prefrec_tifu_params prefrec_tifu_default_params(void) {
    prefrec_tifu_params p = {300, 7, 0.9, 0.7, 0.7};
    return p;
}

static void tifu_free(void *mv) {
    tifu_model *m = mv;
    if (!m) return;
    free(m->w);
    free(m->wcol);
    free(m->norm2);
    free(m->by_norm);
    free(m);
}

typedef struct norm_key {
    double norm2;
    int32_t c;
} norm_key;

static int cmp_norm(const void *a, const void *b) {
    const norm_key *x = a, *y = b;
    if (x->norm2 != y->norm2) return x->norm2 < y->norm2 ? -1 : 1;
    return (x->c > y->c) - (x->c < y->c);
}

/* Add customer c's weighted baskets into acc (dense over products, double). */
static void tifu_vector(const rank_baskets *bk, int32_t c, const prefrec_tifu_params *p,
                        double *acc) {
    int64_t b0 = bk->cust_start[c], nb = bk->cust_start[c + 1] - b0;
    if (nb == 0) return;
    int64_t groups = nb < p->m ? nb : p->m;
    int64_t small = nb / groups, n_big = nb % groups; /* the last n_big groups hold small + 1 */
    int64_t b = b0;
    for (int64_t i = 1; i <= groups; i++) {
        int64_t n = small + (i > groups - n_big ? 1 : 0);
        double wg = pow(p->r_g, (double)(groups - i)) / (double)groups;
        for (int64_t j = 1; j <= n; j++, b++) {
            double wb = wg * pow(p->r_b, (double)(n - j)) / (double)n;
            for (int64_t q = bk->basket_start[b]; q < bk->basket_start[b + 1]; q++)
                acc[bk->item[q]] += wb;
        }
    }
}

static prefrec_status tifu_fit(const prefrec_fit_input *in, const void *params, void **model,
                               prefrec_error *err) {
    prefrec_tifu_params p =
        params ? *(const prefrec_tifu_params *)params : prefrec_tifu_default_params();
    *model = NULL;
    if (p.k < 1 || p.m < 1 || !(p.r_b > 0 && p.r_b <= 1) || !(p.r_g > 0 && p.r_g <= 1) ||
        !(p.alpha >= 0 && p.alpha <= 1))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "tifu_knn: need k >= 1, m >= 1, 0 < r_b <= 1, 0 < r_g <= 1, "
                                 "0 <= alpha <= 1 (got %d, %d, %g, %g, %g)",
                                 p.k, p.m, p.r_b, p.r_g, p.alpha);
    const prefrec_interactions *x = in->train;
    size_t np = x->n_products ? (size_t)x->n_products : 1, npair = x->n_pairs ? x->n_pairs : 1;
    size_t nc = x->n_customers ? (size_t)x->n_customers : 1;
    rank_baskets *bk = NULL;
    double *acc = calloc(np, sizeof *acc);
    int64_t *pos = malloc((np + 1) * sizeof *pos);
    tifu_model *m = calloc(1, sizeof *m);
    if (m) {
        m->x = x;
        m->p = p;
        m->w = malloc(npair * sizeof *m->w);
        m->wcol = malloc(npair * sizeof *m->wcol);
        m->norm2 = calloc(nc, sizeof *m->norm2);
        m->by_norm = malloc(nc * sizeof *m->by_norm);
    }
    if (!acc || !pos || !m || !m->w || !m->wcol || !m->norm2 || !m->by_norm ||
        rank_baskets_build(in->ds, x, &bk))
        goto nomem;
    for (int32_t c = 0; c < x->n_customers; c++) {
        tifu_vector(bk, c, &p, acc);
        double n2 = 0;
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) {
            double v = acc[x->product[q]];
            m->w[q] = (float)v;
            n2 += (double)m->w[q] * m->w[q];
            acc[x->product[q]] = 0;
        }
        m->norm2[c] = n2;
        if (x->row_start[c + 1] > x->row_start[c]) m->by_norm[m->n_hist++] = c;
    }
    rank_baskets_free(bk);
    bk = NULL;
    /* the same weights in product order (the transpose's order: customers ascending) */
    memcpy(pos, x->col_start, (np + 1) * sizeof *pos);
    for (int32_t c = 0; c < x->n_customers; c++)
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++)
            m->wcol[pos[x->product[q]]++] = m->w[q];
    norm_key *keys = malloc((m->n_hist ? (size_t)m->n_hist : 1) * sizeof *keys);
    if (!keys) goto nomem;
    for (int32_t r = 0; r < m->n_hist; r++)
        keys[r] = (norm_key){m->norm2[m->by_norm[r]], m->by_norm[r]};
    qsort(keys, (size_t)m->n_hist, sizeof *keys, cmp_norm);
    for (int32_t r = 0; r < m->n_hist; r++) m->by_norm[r] = keys[r].c;
    free(keys);
    free(acc);
    free(pos);
    if (in->verbose)
        fprintf(stderr, "  tifu_knn: %d customers with baskets, k %d, m %d\n", m->n_hist, p.k, p.m);
    *model = m;
    return PREFREC_OK;
nomem:
    rank_baskets_free(bk);
    free(acc);
    free(pos);
    tifu_free(m);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "tifu_knn: out of memory");
}

static prefrec_status tifu_score(const void *mv, int32_t c, float *scores) {
    const tifu_model *m = mv;
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products, nc = x->n_customers;
    memset(scores, 0, (size_t)np * sizeof *scores);
    if (x->row_start[c] == x->row_start[c + 1]) {
        rank_fill_unscored(x, scores);
        return PREFREC_OK;
    }
    int32_t k = m->p.k;
    double *dot = calloc((size_t)nc, sizeof *dot);
    double *acc = calloc((size_t)np, sizeof *acc);
    int32_t *touched = malloc((size_t)nc * sizeof *touched);
    uint8_t *mark = calloc((size_t)nc, 1);
    prefrec_scored *buf = malloc((size_t)k * sizeof *buf);
    if (!dot || !acc || !touched || !mark || !buf) {
        free(mark);
        free(dot);
        free(acc);
        free(touched);
        free(buf);
        return PREFREC_E_NOMEM;
    }
    /* u.v for every customer v sharing a product with u */
    int32_t nt = 0;
    for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) {
        int32_t i = x->product[q];
        double wu = m->w[q];
        for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
            int32_t v = x->col_customer[a];
            if (v == c) continue;
            if (!mark[v]) {
                mark[v] = 1;
                touched[nt++] = v;
            }
            dot[v] += wu * m->wcol[a];
        }
    }
    prefrec_topk_heap h;
    prefrec_topk_heap_init(&h, buf, (size_t)k);
    double nu = m->norm2[c];
    for (int32_t t = 0; t < nt; t++) {
        int32_t v = touched[t];
        double d = nu + m->norm2[v] - 2.0 * dot[v];
        prefrec_topk_heap_push(&h, (float)-(d > 0 ? d : 0), v);
    }
    /* the others, nearest first: at most k of them can make the list */
    int32_t pushed = 0;
    for (int32_t r = 0; r < m->n_hist && pushed < k; r++) {
        int32_t v = m->by_norm[r];
        if (v == c || mark[v]) continue;
        prefrec_topk_heap_push(&h, (float)-(nu + m->norm2[v]), v);
        pushed++;
    }
    size_t got = prefrec_topk_heap_finish(&h);
    for (size_t r = 0; r < got; r++) {
        int32_t v = buf[r].index;
        for (int64_t q = x->row_start[v]; q < x->row_start[v + 1]; q++)
            acc[x->product[q]] += m->w[q];
    }
    double a = m->p.alpha, b = got ? (1.0 - a) / (double)got : 0.0;
    for (int32_t j = 0; j < np; j++) scores[j] = (float)(b * acc[j]);
    for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++)
        scores[x->product[q]] = (float)(a * m->w[q] + b * acc[x->product[q]]);
    free(mark);
    free(dot);
    free(acc);
    free(touched);
    free(buf);
    rank_fill_unscored(x, scores);
    return PREFREC_OK;
}

/* 13 points from the published grid (k 100, 300, 900; r_b 0.9, 1; r_g 0.6, 0.7, 0.9; alpha
 * 0.2 .. 0.9; m 3, 7): alpha 0.5, 0.7, 0.9 x k 100, 300, 900 at r_b 0.9, r_g 0.7, m 7; then
 * from (k 300, alpha 0.7) one change each: r_g 0.6, r_g 0.9, r_b 1, m 3. */
static int tifu_grid(size_t i, void *params) {
    static const double alphas[3] = {0.5, 0.7, 0.9};
    static const int ks[3] = {100, 300, 900};
    prefrec_tifu_params p = prefrec_tifu_default_params();
    if (i < 9) {
        p.alpha = alphas[i / 3];
        p.k = ks[i % 3];
    } else if (i == 9)
        p.r_g = 0.6;
    else if (i == 10)
        p.r_g = 0.9;
    else if (i == 11)
        p.r_b = 1.0;
    else if (i == 12)
        p.m = 3;
    else
        return 0;
    *(prefrec_tifu_params *)params = p;
    return 1;
}

static void tifu_describe(const void *params, char *buf, size_t n) {
    prefrec_tifu_params p =
        params ? *(const prefrec_tifu_params *)params : prefrec_tifu_default_params();
    snprintf(buf, n, "k=%d m=%d r_b=%g r_g=%g alpha=%g", p.k, p.m, p.r_b, p.r_g, p.alpha);
}

const prefrec_ranker_def prefrec_ranker_tifu_knn = {
    .name = "tifu_knn",
    .summary = "TIFU-KNN: time-decayed own basket frequency + k nearest customers (Euclidean)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = tifu_fit,
    .score = tifu_score,
    .free = tifu_free,
    .params_size = sizeof(prefrec_tifu_params),
    .grid = tifu_grid,
    .describe = tifu_describe};
