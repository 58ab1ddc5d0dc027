/* rank_upcf.c - UP-CF@r (Faggioli, Polato, Aiolli, UMAP 2020): user-based collaborative
 * filtering over recency-windowed personal popularity (rankers.h has the formulas).
 *
 * fit keeps, per customer, rc(v, i) for the products of his last r baskets (rank_baskets.h) and
 * the two powers of his product count that sim^q needs. score counts |I_u & I_v|
 * for every customer v sharing a product with u (through the product lists), so it costs the
 * buyers of u's products plus the recent products of those customers; customers sharing nothing
 * have similarity 0 and add nothing. The customer himself is one of the v (similarity 1), as in
 * the paper's sum over all users: that is where UP-CF's repeat strength comes from. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "rank_baskets.h"
#include "rank_util.h"

typedef struct upcf_model {
    const prefrec_interactions *x;
    prefrec_upcf_params p;
    int64_t *rc_start; /* n_customers + 1 */
    int32_t *rc_item;
    float *rc_val;
    double *inv_a, *inv_b; /* n_customers: |I_c|^(-alpha q), |I_c|^(-(1 - alpha) q) */
} upcf_model;

prefrec_upcf_params prefrec_upcf_default_params(void) {
    prefrec_upcf_params p = {10, 0.5, 5.0};
    return p;
}

static void upcf_free(void *mv) {
    upcf_model *m = mv;
    if (!m) return;
    free(m->rc_start);
    free(m->rc_item);
    free(m->rc_val);
    free(m->inv_a);
    free(m->inv_b);
    free(m);
}

static prefrec_status upcf_fit(const prefrec_fit_input *in, const void *params, void **model,
                               prefrec_error *err) {
    prefrec_upcf_params p =
        params ? *(const prefrec_upcf_params *)params : prefrec_upcf_default_params();
    *model = NULL;
    if (p.recency < 0 || !(p.alpha >= 0 && p.alpha <= 1) || !(p.q > 0))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "upcf: need recency >= 0, 0 <= alpha <= 1, q > 0 "
                                 "(got %d, %g, %g)",
                                 p.recency, p.alpha, p.q);
    const prefrec_interactions *x = in->train;
    size_t np = x->n_products ? (size_t)x->n_products : 1, npair = x->n_pairs ? x->n_pairs : 1;
    size_t nc = x->n_customers ? (size_t)x->n_customers : 1;
    rank_baskets *bk = NULL;
    int32_t *cnt = calloc(np, sizeof *cnt);
    upcf_model *m = calloc(1, sizeof *m);
    if (m) {
        m->x = x;
        m->p = p;
        m->rc_start = calloc(nc + 1, sizeof *m->rc_start);
        m->rc_item = malloc(npair * sizeof *m->rc_item);
        m->rc_val = malloc(npair * sizeof *m->rc_val);
        m->inv_a = malloc(nc * sizeof *m->inv_a);
        m->inv_b = malloc(nc * sizeof *m->inv_b);
    }
    if (!cnt || !m || !m->rc_start || !m->rc_item || !m->rc_val || !m->inv_a || !m->inv_b ||
        rank_baskets_build(in->ds, x, &bk)) {
        rank_baskets_free(bk);
        free(cnt);
        upcf_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "upcf: out of memory");
    }
    int64_t n = 0;
    for (int32_t c = 0; c < x->n_customers; c++) {
        int64_t b1 = bk->cust_start[c + 1], nb = b1 - bk->cust_start[c];
        int64_t r = p.recency > 0 && p.recency < nb ? p.recency : nb;
        for (int64_t b = b1 - r; b < b1; b++)
            for (int64_t q = bk->basket_start[b]; q < bk->basket_start[b + 1]; q++)
                cnt[bk->item[q]]++;
        /* the customer's products are x's row, ascending: emit the recent ones in that order */
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) {
            int32_t i = x->product[q];
            if (!cnt[i]) continue;
            m->rc_item[n] = i;
            m->rc_val[n++] = (float)((double)cnt[i] / (double)r);
        }
        for (int64_t b = b1 - r; b < b1; b++)
            for (int64_t q = bk->basket_start[b]; q < bk->basket_start[b + 1]; q++)
                cnt[bk->item[q]] = 0;
        m->rc_start[c + 1] = n;
        double size = (double)(x->row_start[c + 1] - x->row_start[c]);
        m->inv_a[c] = size > 0 ? pow(size, -p.alpha * p.q) : 0.0;
        m->inv_b[c] = size > 0 ? pow(size, -(1.0 - p.alpha) * p.q) : 0.0;
    }
    rank_baskets_free(bk);
    free(cnt);
    if (in->verbose)
        fprintf(stderr, "  upcf: r %d, alpha %g, q %g: %lld recent pairs\n", p.recency, p.alpha,
                p.q, (long long)n);
    *model = m;
    return PREFREC_OK;
}

static prefrec_status upcf_score(const void *mv, int32_t u, float *scores) {
    const upcf_model *m = mv;
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products, nc = x->n_customers;
    memset(scores, 0, (size_t)np * sizeof *scores);
    if (x->row_start[u] == x->row_start[u + 1]) {
        rank_fill_unscored(x, scores);
        return PREFREC_OK;
    }
    int64_t h = x->row_start[u + 1] - x->row_start[u];
    int32_t *inter = calloc((size_t)nc, sizeof *inter);
    int32_t *touched = malloc((size_t)nc * sizeof *touched);
    double *acc = calloc((size_t)np, sizeof *acc);
    double *ipow = malloc(((size_t)h + 1) * sizeof *ipow); /* i^q * |I_u|^(-alpha q) */
    if (!inter || !touched || !acc || !ipow) {
        free(ipow);
        free(inter);
        free(touched);
        free(acc);
        return PREFREC_E_NOMEM;
    }
    int32_t nt = 0;
    for (int64_t q = x->row_start[u]; q < x->row_start[u + 1]; q++) {
        int32_t i = x->product[q];
        for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
            int32_t v = x->col_customer[a];
            if (!inter[v]++) touched[nt++] = v;
        }
    }
    /* sim^q = |I_u & I_v|^q |I_u|^(-alpha q) |I_v|^(-(1-alpha) q): no pow per customer */
    for (int64_t i = 0; i <= h; i++) ipow[i] = pow((double)i, m->p.q) * m->inv_a[u];
    for (int32_t t = 0; t < nt; t++) {
        int32_t v = touched[t];
        double w = ipow[inter[v]] * m->inv_b[v];
        for (int64_t q = m->rc_start[v]; q < m->rc_start[v + 1]; q++)
            acc[m->rc_item[q]] += w * m->rc_val[q];
    }
    for (int32_t j = 0; j < np; j++) scores[j] = (float)acc[j];
    free(ipow);
    free(inter);
    free(touched);
    free(acc);
    rank_fill_unscored(x, scores);
    return PREFREC_OK;
}

/* The published grid (r 5, 10, 25; alpha 0.25, 0.5, 0.75; q 1, 5, 10) cut to 13 points: its
 * corners and middles r 5, 25 x alpha 0.25, 0.75 x q 1, 5, 10, and the centre (10, 0.5, 5). */
static int upcf_grid(size_t i, void *params) {
    static const int rs[2] = {5, 25};
    static const double alphas[2] = {0.25, 0.75}, qs[3] = {1, 5, 10};
    prefrec_upcf_params p = prefrec_upcf_default_params();
    if (i < 12) {
        p.recency = rs[i / 6];
        p.alpha = alphas[(i / 3) % 2];
        p.q = qs[i % 3];
    } else if (i > 12)
        return 0;
    *(prefrec_upcf_params *)params = p;
    return 1;
}

static void upcf_describe(const void *params, char *buf, size_t n) {
    prefrec_upcf_params p =
        params ? *(const prefrec_upcf_params *)params : prefrec_upcf_default_params();
    snprintf(buf, n, "r=%d alpha=%g q=%g", p.recency, p.alpha, p.q);
}

const prefrec_ranker_def prefrec_ranker_upcf = {
    .name = "upcf",
    .summary = "UP-CF@r: similar customers' (asymmetric cosine) recent-basket item shares",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = upcf_fit,
    .score = upcf_score,
    .free = upcf_free,
    .params_size = sizeof(prefrec_upcf_params),
    .grid = upcf_grid,
    .describe = upcf_describe};
