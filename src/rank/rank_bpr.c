/* rank_bpr.c - BPR-MF (Rendle, Freudenthaler, Gantner, Schmidt-Thieme, UAI 2009): matrix
 * factorisation trained to rank a customer's bought products above the ones he did not buy.
 *
 * x_uij = b_i - b_j + p_u . (q_i - q_j); each SGD step draws a bought pair (u, i) uniformly
 * from the window's pairs and a product j uniformly from the window's products u did not buy
 * (rejection, at most 64 draws; a customer who bought them all is skipped), then with
 * g = 1 / (1 + exp(x_uij)):
 *   p_u += lr (g (q_i - q_j) - reg p_u),  q_i += lr (g p_u - reg q_i),
 *   q_j += lr (-g p_u - reg q_j),  b_i += lr (g - reg b_i),  b_j += lr (-g - reg b_j)
 * (p_u of before the step in the item updates). An epoch is n_pairs steps. Everything comes
 * from one rng stream of the seed and runs on one thread, so the model is the same for any
 * thread count (Hogwild-style parallel SGD would not be). Factors start uniform in
 * [-0.05, 0.05), biases 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/rng.h"
#include "rank_util.h"

typedef struct bpr_model {
    const prefrec_interactions *x;
    int dim;
    float *cu; /* n_customers x dim */
    float *it; /* n_products x dim */
    float *bias; /* n_products */
} bpr_model;

prefrec_bpr_params prefrec_bpr_default_params(void) {
    prefrec_bpr_params p = {64, 30, 0.05, 0.01};
    return p;
}

static void bpr_free(void *mv) {
    bpr_model *m = mv;
    if (!m) return;
    free(m->cu);
    free(m->it);
    free(m->bias);
    free(m);
}

static prefrec_status bpr_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    prefrec_bpr_params p =
        params ? *(const prefrec_bpr_params *)params : prefrec_bpr_default_params();
    *model = NULL;
    if (p.dim < 1 || p.dim > 512 || p.epochs < 0 || !(p.lr > 0) || !(p.reg >= 0))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "bpr: need 1 <= dim <= 512, epochs >= 0, lr > 0, reg >= 0 "
                                 "(got %d, %d, %g, %g)",
                                 p.dim, p.epochs, p.lr, p.reg);
    const prefrec_interactions *x = in->train;
    int d = p.dim;
    size_t nc = x->n_customers ? (size_t)x->n_customers : 1;
    size_t np = x->n_products ? (size_t)x->n_products : 1, npair = x->n_pairs ? x->n_pairs : 1;
    bpr_model *m = calloc(1, sizeof *m);
    int32_t *pair_cust = malloc(npair * sizeof *pair_cust);
    int32_t *active = malloc(np * sizeof *active);
    float *pu = malloc((size_t)d * sizeof *pu);
    if (m) {
        m->x = x;
        m->dim = d;
        m->cu = calloc(nc * (size_t)d, sizeof *m->cu);
        m->it = calloc(np * (size_t)d, sizeof *m->it);
        m->bias = calloc(np, sizeof *m->bias);
    }
    if (!m || !pair_cust || !active || !pu || !m->cu || !m->it || !m->bias) {
        free(pair_cust);
        free(active);
        free(pu);
        bpr_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "bpr: out of memory");
    }
    prefrec_rng rng;
    prefrec_rng_init(&rng, in->seed, 0x627072ULL /* "bpr" */);
    int32_t n_active = 0;
    for (int32_t j = 0; j < x->n_products; j++)
        if (x->n_buyers[j] > 0) {
            active[n_active++] = j;
            for (int k = 0; k < d; k++)
                m->it[(size_t)j * d + k] = (float)(0.1 * (prefrec_rng_double(&rng) - 0.5));
        }
    for (int32_t c = 0; c < x->n_customers; c++) {
        if (x->row_start[c + 1] == x->row_start[c]) continue;
        for (int k = 0; k < d; k++)
            m->cu[(size_t)c * d + k] = (float)(0.1 * (prefrec_rng_double(&rng) - 0.5));
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) pair_cust[q] = c;
    }
    float lr = (float)p.lr, reg = (float)p.reg;
    int64_t skipped = 0;
    for (int e = 0; e < p.epochs && x->n_pairs > 0 && n_active > 1; e++) {
        double loss = 0;
        for (int64_t s = 0; s < x->n_pairs; s++) {
            int64_t q = (int64_t)(prefrec_rng_u64(&rng) % (uint64_t)x->n_pairs);
            int32_t u = pair_cust[q], i = x->product[q], j = -1;
            for (int t = 0; t < 64; t++) {
                int32_t cand = active[prefrec_rng_below(&rng, (uint32_t)n_active)];
                if (prefrec_interactions_find(x, u, cand) < 0) {
                    j = cand;
                    break;
                }
            }
            if (j < 0) {
                skipped++;
                continue;
            }
            float *vu = m->cu + (size_t)u * d, *vi = m->it + (size_t)i * d,
                  *vj = m->it + (size_t)j * d;
            float xuij = m->bias[i] - m->bias[j];
            for (int k = 0; k < d; k++) xuij += vu[k] * (vi[k] - vj[k]);
            float g = 1.0f / (1.0f + expf(xuij));
            loss += log1p(exp(-(double)xuij));
            memcpy(pu, vu, (size_t)d * sizeof *pu);
            for (int k = 0; k < d; k++) {
                float di = vi[k] - vj[k];
                vu[k] += lr * (g * di - reg * vu[k]);
                vi[k] += lr * (g * pu[k] - reg * vi[k]);
                vj[k] += lr * (-g * pu[k] - reg * vj[k]);
            }
            m->bias[i] += lr * (g - reg * m->bias[i]);
            m->bias[j] += lr * (-g - reg * m->bias[j]);
        }
        if (in->verbose)
            fprintf(stderr, "  bpr: epoch %d/%d, mean -log sigmoid %.4f\n", e + 1, p.epochs,
                    loss / (double)x->n_pairs);
    }
    if (skipped && in->verbose)
        fprintf(stderr, "  bpr: %lld steps skipped (customer bought every product)\n",
                (long long)skipped);
    free(pair_cust);
    free(active);
    free(pu);
    *model = m;
    return PREFREC_OK;
}

static prefrec_status bpr_score(const void *mv, int32_t c, float *scores) {
    const bpr_model *m = mv;
    const prefrec_interactions *x = m->x;
    if (x->row_start[c] == x->row_start[c + 1]) {
        memset(scores, 0, (size_t)x->n_products * sizeof *scores);
        rank_fill_unscored(x, scores); /* no history: popularity */
        return PREFREC_OK;
    }
    const float *u = m->cu + (size_t)c * m->dim;
    for (int32_t j = 0; j < x->n_products; j++) {
        const float *y = m->it + (size_t)j * m->dim;
        float s = m->bias[j];
        for (int k = 0; k < m->dim; k++) s += u[k] * y[k];
        scores[j] = s;
    }
    rank_add_pop_tiebreak(x, scores, 1e-6f);
    return PREFREC_OK;
}

/* dim 32, 64 x lr 0.01, 0.05 x reg 0.001, 0.01 x epochs 20, 60: 16 points. */
static int bpr_grid(size_t i, void *params) {
    if (i >= 16) return 0;
    prefrec_bpr_params p = {i & 8 ? 64 : 32, i & 1 ? 60 : 20, i & 4 ? 0.05 : 0.01,
                            i & 2 ? 0.01 : 0.001};
    *(prefrec_bpr_params *)params = p;
    return 1;
}

static void bpr_describe(const void *params, char *buf, size_t n) {
    prefrec_bpr_params p =
        params ? *(const prefrec_bpr_params *)params : prefrec_bpr_default_params();
    snprintf(buf, n, "dim=%d lr=%g reg=%g epochs=%d", p.dim, p.lr, p.reg, p.epochs);
}

const prefrec_ranker_def prefrec_ranker_bpr = {
    .name = "bpr",
    .summary = "BPR-MF: pairwise-ranking matrix factorisation, seeded single-thread SGD",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = bpr_fit,
    .score = bpr_score,
    .free = bpr_free,
    .params_size = sizeof(prefrec_bpr_params),
    .grid = bpr_grid,
    .describe = bpr_describe};
