/* rank_rp3beta.c - RP3beta (Paudel, Christoffel, Newell, Bernstein 2016; as in Dacrema,
 * Cremonesi, Jannach 2019): item-to-item three-step random walk item -> customer -> item with
 * the transition probabilities raised to alpha and the target's popularity discounted by beta.
 *
 * On the binary customer x product matrix, P(i -> u) = 1 / deg(i) over i's buyers and
 * P(u -> j) = 1 / |I_u| over u's products, so
 *   W[i][j] = (1/deg i)^alpha * sum over u bought i and j of (1/|I_u|)^alpha / (deg j)^beta,
 * j != i, keeping each row's `neighbours` largest (no row normalisation). Rows are computed one
 * at a time with a dense accumulator (cost: sum over customers of |I_u|^2) and are independent,
 * so threads take interleaved rows and the model does not depend on the thread count.
 * score(u, j) = sum over u's products i of W[i][j]; products scored 0 (and customers without
 * history) fall back to popularity below.
 *
 * The sum over customers is exact (rank_exact.h): each customer's (1/|I_u|)^alpha is rounded
 * once to the grid 2^-64 and the integers are added, so W has the same bits in any customer
 * order and on any split of the customers over ranks (rp3_rows_dist, as ItemKNN's exchange). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dist.h"
#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"
#include "rank_dist.h"
#include "rank_exact.h"
#include "rank_util.h"

typedef struct rp3_model {
    const prefrec_interactions *x;
    prefrec_rp3beta_params p;
    int32_t k; /* slots per product */
    int32_t *n_nbr; /* n_products */
    int32_t *nbr; /* n_products x k */
    float *w; /* n_products x k */
} rp3_model;

prefrec_rp3beta_params prefrec_rp3beta_default_params(void) {
    prefrec_rp3beta_params p = {1.0, 0.5, 200};
    return p;
}

static void rp3_free(void *mv) {
    rp3_model *m = mv;
    if (!m) return;
    free(m->n_nbr);
    free(m->nbr);
    free(m->w);
    free(m);
}

typedef struct rp3_job {
    rp3_model *m;
    const rank_fx *cu; /* n_customers: (1 / |I_u|)^alpha on the grid */
    const double *dj; /* n_products: (deg j)^-beta, 0 for unbought */
    int t, nt;
    int failed;
} rp3_job;

static void *rp3_rows(void *arg) {
    rp3_job *jb = arg;
    rp3_model *m = jb->m;
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products;
    rank_fx *acc = calloc((size_t)np + 1, sizeof *acc);
    int32_t *touched = malloc(((size_t)np + 1) * sizeof *touched);
    uint8_t *mark = calloc((size_t)np + 1, 1);
    prefrec_scored *buf = malloc(((size_t)m->k + 1) * sizeof *buf);
    if (!acc || !touched || !mark || !buf) {
        jb->failed = 1;
        free(acc);
        free(touched);
        free(mark);
        free(buf);
        return NULL;
    }
    for (int32_t i = jb->t; i < np; i += jb->nt) {
        int32_t nt = 0;
        for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
            int32_t c = x->col_customer[a];
            rank_fx cu = jb->cu[c];
            for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
                int32_t j = x->product[b];
                if (j == i) continue;
                if (!mark[j]) {
                    mark[j] = 1;
                    touched[nt++] = j;
                }
                if (rank_fx_add_fx(&acc[j], cu)) jb->failed = 1; /* cannot: cu <= 1 */
            }
        }
        prefrec_topk_heap h;
        prefrec_topk_heap_init(&h, buf, (size_t)m->k);
        double di = x->n_buyers[i] > 0 ? pow((double)x->n_buyers[i], -m->p.alpha) : 0.0;
        for (int32_t t = 0; t < nt; t++) {
            int32_t j = touched[t];
            double s = di * rank_fx_double(acc[j]) * jb->dj[j];
            if (s > 0) prefrec_topk_heap_push(&h, (float)s, j);
            acc[j] = 0;
            mark[j] = 0;
        }
        size_t n = prefrec_topk_heap_finish(&h);
        m->n_nbr[i] = (int32_t)n;
        for (size_t r = 0; r < n; r++) {
            m->nbr[(size_t)i * m->k + r] = buf[r].index;
            m->w[(size_t)i * m->k + r] = buf[r].score;
        }
    }
    free(acc);
    free(touched);
    free(mark);
    free(buf);
    return NULL;
}

/* Sharded (x->dist), as ItemKNN's exchange (rank_dist_rows): each rank sums, per row, its own
 * customers' weights on the grid (sparse: the products its buyers bought with the row's) and
 * sends the (row, product, sum as two int64 limbs) records, 24 bytes each, to the row's rank;
 * there the sums are added exactly and the row's best kept as rp3_rows does (the heap orders
 * ties by index, so the order of the pushes does not matter). So W is the one-process W for
 * any N. 0 or -1 (on every rank). */
typedef struct rp3_dist {
    rp3_model *m;
    const int32_t *prod;
    const rank_fx *cu;
    const double *dj;
    rank_fx *acc; /* n_products, zero between rows */
    int32_t *touched;
    uint8_t *mark;
} rp3_dist;

static int rp3_emit(void *ctx, int32_t ii, rank_rows_sink *sink) {
    rp3_dist *rd = ctx;
    const prefrec_interactions *x = rd->m->x;
    int32_t i = rd->prod[ii], nt = 0;
    int rc = 0;
    for (int64_t a = x->col_start[i]; !rc && a < x->col_start[i + 1]; a++) {
        int32_t c = x->col_customer[a];
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
            int32_t j = x->product[b];
            if (j == i) continue;
            if (!rd->mark[j]) rd->mark[j] = 1, rd->touched[nt++] = j;
            if (rank_fx_add_fx(&rd->acc[j], rd->cu[c])) rc = -1;
        }
    }
    for (int32_t t = 0; t < nt; t++) {
        int32_t j = rd->touched[t];
        int64_t limb[2];
        rank_fx_to_limbs(rd->acc[j], limb);
        if (!rc) rc = rank_rows_put(sink, ii, j, limb);
        rd->acc[j] = 0, rd->mark[j] = 0;
    }
    return rc;
}

static int32_t rp3_top(void *ctx, int32_t ii, const char *const *rec, size_t n,
                       prefrec_scored *buf) {
    rp3_dist *rd = ctx;
    const prefrec_interactions *x = rd->m->x;
    int32_t i = rd->prod[ii], nt = 0;
    int rc = 0;
    for (size_t t = 0; t < n; t++) {
        int32_t j;
        int64_t limb[2];
        memcpy(&j, rec[t], 4), memcpy(limb, rec[t] + 4, 16);
        if (j < 0 || j >= x->n_products) return -1; /* cannot: records this fit made */
        if (!rd->mark[j]) rd->mark[j] = 1, rd->touched[nt++] = j;
        if (rank_fx_add_fx(&rd->acc[j], rank_fx_from_limbs(limb))) rc = -1;
    }
    prefrec_topk_heap h;
    prefrec_topk_heap_init(&h, buf, (size_t)rd->m->k);
    double di = pow((double)x->n_buyers[i], -rd->m->p.alpha);
    for (int32_t t = 0; t < nt; t++) {
        int32_t j = rd->touched[t];
        double sc = di * rank_fx_double(rd->acc[j]) * rd->dj[j];
        if (sc > 0) prefrec_topk_heap_push(&h, (float)sc, j);
        rd->acc[j] = 0, rd->mark[j] = 0;
    }
    int32_t got = (int32_t)prefrec_topk_heap_finish(&h);
    return rc ? -1 : got;
}

static int rp3_rows_dist(rp3_model *m, const rank_fx *cu, const double *dj) {
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products, nb = 0;
    int32_t *prod = malloc(((size_t)np + 1) * sizeof *prod);
    rp3_dist rd = {m,
                   prod,
                   cu,
                   dj,
                   calloc((size_t)np + 1, sizeof(rank_fx)),
                   malloc(((size_t)np + 1) * sizeof(int32_t)),
                   calloc((size_t)np + 1, 1)};
    for (int32_t j = 0; prod && j < np; j++)
        if (x->n_buyers[j] > 0) prod[nb++] = j;
    rank_rows_ops ops = {2 * sizeof(int64_t), rp3_emit, rp3_top, &rd};
    int ok = prod && rd.acc && rd.touched && rd.mark; /* else the exchange fails everywhere */
    int rc = rank_dist_rows(x, prod, nb, m->k, ok ? &ops : NULL, m->n_nbr, m->nbr, m->w);
    free(prod), free(rd.acc), free(rd.touched), free(rd.mark);
    return rc;
}

static prefrec_status rp3_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    prefrec_rp3beta_params p =
        params ? *(const prefrec_rp3beta_params *)params : prefrec_rp3beta_default_params();
    *model = NULL;
    if (!(p.alpha > 0) || !(p.beta >= 0) || p.neighbours < 1)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "rp3beta: need alpha > 0, beta >= 0, neighbours >= 1 "
                                 "(got %g, %g, %d)",
                                 p.alpha, p.beta, p.neighbours);
    const prefrec_interactions *x = in->train;
    size_t np = x->n_products ? (size_t)x->n_products : 1;
    size_t nc = x->n_customers ? (size_t)x->n_customers : 1;
    rp3_model *m = calloc(1, sizeof *m);
    rank_fx *cu = malloc(nc * sizeof *cu);
    double *dj = malloc(np * sizeof *dj);
    if (m) {
        m->x = x;
        m->p = p;
        m->k =
            p.neighbours < x->n_products ? p.neighbours : (x->n_products > 0 ? x->n_products : 1);
        m->n_nbr = calloc(np, sizeof *m->n_nbr);
        m->nbr = malloc(np * (size_t)m->k * sizeof *m->nbr);
        m->w = malloc(np * (size_t)m->k * sizeof *m->w);
    }
    if (!m || !cu || !dj || !m->n_nbr || !m->nbr || !m->w) {
        free(cu);
        free(dj);
        rp3_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "rp3beta: out of memory");
    }
    for (int32_t c = 0; c < x->n_customers; c++) {
        int64_t h = x->row_start[c + 1] - x->row_start[c];
        cu[c] = 0;
        if (h > 0) rank_fx_round(pow((double)h, -p.alpha), &cu[c]); /* in (0, 1]: in range */
    }
    for (int32_t j = 0; j < x->n_products; j++)
        dj[j] = x->n_buyers[j] > 0 ? pow((double)x->n_buyers[j], -p.beta) : 0.0;
    int failed = 0;
    if (x->dist)
        failed = rp3_rows_dist(m, cu, dj) != 0;
    else {
        int nt = in->threads < 1 ? 1 : in->threads > 64 ? 64 : in->threads;
        rp3_job jobs[64];
        for (int t = 0; t < nt; t++) jobs[t] = (rp3_job){m, cu, dj, t, nt, 0};
        rank_run_threads(nt, rp3_rows, jobs, sizeof jobs[0]);
        for (int t = 0; t < nt; t++) failed |= jobs[t].failed;
    }
    free(cu);
    free(dj);
    if (failed) {
        rp3_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 x->dist ? "rp3beta: out of memory for a rank's co-purchase "
                                           "records, or MPI failed (give more ranks)"
                                         : "rp3beta: out of memory");
    }
    if (in->verbose)
        fprintf(stderr, "  rp3beta: alpha %g, beta %g, %d neighbours per product\n", p.alpha,
                p.beta, m->k);
    *model = m;
    return PREFREC_OK;
}

static prefrec_status rp3_score(const void *mv, int32_t c, float *scores) {
    const rp3_model *m = mv;
    const prefrec_interactions *x = m->x;
    double *acc = calloc((size_t)(x->n_products ? x->n_products : 1), sizeof *acc);
    if (!acc) return PREFREC_E_NOMEM;
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
        int32_t i = x->product[b];
        const int32_t *nb = m->nbr + (size_t)i * m->k;
        const float *w = m->w + (size_t)i * m->k;
        for (int32_t r = 0; r < m->n_nbr[i]; r++) acc[nb[r]] += w[r];
    }
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = (float)acc[j];
    free(acc);
    rank_fill_unscored(x, scores);
    return PREFREC_OK;
}

/* alpha 0.5, 1 x beta 0.3, 0.5, 0.7 x neighbours 50, 200 (from alpha 0.25 .. 1, beta 0.3 ..
 * 0.7, k 20 .. 200 of the reproducibility studies): 12 points. */
static int rp3_grid(size_t i, void *params) {
    static const double alphas[2] = {0.5, 1.0}, betas[3] = {0.3, 0.5, 0.7};
    static const int ks[2] = {50, 200};
    if (i >= 12) return 0;
    prefrec_rp3beta_params p = {alphas[i / 6], betas[(i / 2) % 3], ks[i % 2]};
    *(prefrec_rp3beta_params *)params = p;
    return 1;
}

static void rp3_describe(const void *params, char *buf, size_t n) {
    prefrec_rp3beta_params p =
        params ? *(const prefrec_rp3beta_params *)params : prefrec_rp3beta_default_params();
    snprintf(buf, n, "alpha=%g beta=%g k=%d", p.alpha, p.beta, p.neighbours);
}

const prefrec_ranker_def prefrec_ranker_rp3beta = {
    .name = "rp3beta",
    .summary = "RP3beta: item-customer-item random walk, popularity-discounted (top-k per item)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = rp3_fit,
    .score = rp3_score,
    .free = rp3_free,
    .params_size = sizeof(prefrec_rp3beta_params),
    .grid = rp3_grid,
    .describe = rp3_describe};
