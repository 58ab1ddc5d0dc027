/* rank_upcf.c - UP-CF@r (Faggioli, Polato, Aiolli, UMAP 2020): user-based collaborative
 * filtering over recency-windowed personal popularity (rankers.h has the formulas).
 *
 * fit keeps, per customer, rc(v, i) for the products of his last r baskets (rank_baskets.h) and
 * the two powers of his product count that sim^q needs. score counts |I_u & I_v|
 * for every customer v sharing a product with u (through the product lists), so it costs the
 * buyers of u's products plus the recent products of those customers; customers sharing nothing
 * have similarity 0 and add nothing. The customer himself is one of the v (similarity 1), as in
 * the paper's sum over all users: that is where UP-CF's repeat strength comes from.
 *
 * The sum over customers is exact (rank_exact.h: each term sim^q rc(v, i) on the 2^-64 grid),
 * so it does not depend on the customers' order. That is what lets a sharded window (x->dist and
 * x->customer_key, docs/mpi.md; tests/test_rank_ring.c gives a key alone, one rank without
 * MPI) give the one-process bits: there fit makes every customer's list itself
 * (upcf_fit_dist), the ranks' customer records passing round the ring (rank_dist_ring) once per
 * batch of users, whose sums it holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "rank_baskets.h"
#include "rank_dist.h"
#include "rank_exact.h"
#include "rank_util.h"
#include "host/dist.h"

typedef struct upcf_model {
    const prefrec_interactions *x;
    prefrec_upcf_params p;
    int64_t *rc_start; /* n_customers + 1 */
    int32_t *rc_item;
    float *rc_val;
    double *inv_a, *inv_b; /* n_customers: |I_c|^(-alpha q), |I_c|^(-(1 - alpha) q) */
    /* sharded (x->dist): every customer with history's scores, made by fit (upcf_fit_dist) */
    int32_t *slot; /* n_customers: the customer's list, or -1 */
    int64_t *res_start;
    int32_t *res_prod;
    float *res_val;
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
    free(m->slot);
    free(m->res_start);
    free(m->res_prod);
    free(m->res_val);
    free(m);
}

/* ---- the sharded fit: every customer's list made here, the records passed round ---------- */

/* One rank's block as the ring carries it: n customers with history, their |I_v|^(-(1 - alpha)
 * q), product and recent-product counts, then their products, recent products and rc values,
 * one customer after another in each. */
typedef struct upcf_block {
    int32_t n;
    int64_t n_items, n_rc;
    double *inv_b;
    int64_t *i_start, *r_start; /* n + 1 */
    int32_t *item, *rc_item;
    float *rc_val;
    int64_t *col_start; /* n_products + 1: the block's customers by product */
    int32_t *col_v;
} upcf_block;

static void block_free(upcf_block *b) {
    free(b->inv_b), free(b->i_start), free(b->r_start), free(b->item), free(b->rc_item);
    free(b->rc_val), free(b->col_start), free(b->col_v);
    memset(b, 0, sizeof *b);
}

/* Parse blk into b: 0, or -1 (out of memory, or a block that does not hold what its header
 * says: cannot happen between ranks of one build). */
static int block_read(const char *blk, size_t len, int32_t np, upcf_block *b) {
    memset(b, 0, sizeof *b);
    if (len < 20) return -1;
    memcpy(&b->n, blk, 4), memcpy(&b->n_items, blk + 4, 8), memcpy(&b->n_rc, blk + 12, 8);
    size_t n = (size_t)b->n, ni = (size_t)b->n_items, nr = (size_t)b->n_rc;
    if (b->n < 0 || b->n_items < 0 || b->n_rc < 0 || len != 20 + n * 16 + ni * 4 + nr * 8)
        return -1;
    b->inv_b = malloc(n * 8 + 1), b->i_start = malloc((n + 1) * 8);
    b->r_start = malloc((n + 1) * 8), b->item = malloc(ni * 4 + 1);
    b->rc_item = malloc(nr * 4 + 1), b->rc_val = malloc(nr * 4 + 1);
    b->col_start = calloc((size_t)np + 1, 8), b->col_v = malloc(ni * 4 + 1);
    if (!b->inv_b || !b->i_start || !b->r_start || !b->item || !b->rc_item || !b->rc_val ||
        !b->col_start || !b->col_v)
        return -1;
    const char *at = blk + 20;
    memcpy(b->inv_b, at, n * 8), at += n * 8;
    b->i_start[0] = b->r_start[0] = 0;
    for (size_t v = 0; v < n; v++, at += 8) {
        int32_t c[2];
        memcpy(c, at, 8);
        if (c[0] < 0 || c[1] < 0) return -1;
        b->i_start[v + 1] = b->i_start[v] + c[0];
        b->r_start[v + 1] = b->r_start[v] + c[1];
    }
    if ((size_t)b->i_start[n] != ni || (size_t)b->r_start[n] != nr) return -1;
    memcpy(b->item, at, ni * 4), at += ni * 4;
    memcpy(b->rc_item, at, nr * 4), at += nr * 4;
    memcpy(b->rc_val, at, nr * 4);
    for (size_t q = 0; q < ni; q++)
        if (b->item[q] < 0 || b->item[q] >= np) return -1;
    for (size_t q = 0; q < nr; q++)
        if (b->rc_item[q] < 0 || b->rc_item[q] >= np) return -1;
    for (size_t q = 0; q < ni; q++) b->col_start[b->item[q] + 1]++;
    for (int32_t i = 0; i < np; i++) b->col_start[i + 1] += b->col_start[i];
    for (int32_t v = 0; v < b->n; v++)
        for (int64_t q = b->i_start[v]; q < b->i_start[v + 1]; q++)
            b->col_v[b->col_start[b->item[q]]++] = v;
    for (int32_t i = np; i > 0; i--) b->col_start[i] = b->col_start[i - 1];
    b->col_start[0] = 0;
    return 0;
}

typedef struct upcf_ring {
    const upcf_model *m;
    const int32_t *user; /* this batch's customers */
    int32_t n_user;
    const int64_t *ip_start; /* n_user + 1: each user's ipow table in ipow */
    const double *ipow;
    rank_fx *acc; /* n_user x n_products */
    int32_t *inter, *touched; /* scratch: a block's customers */
    size_t scratch;
} upcf_ring;

/* Every batch user's terms sim^q rc(v, i) over the block's customers v, into its exact sums. */
static int ring_sums(void *ctx, int src, const char *blk, size_t len) {
    (void)src;
    upcf_ring *r = ctx;
    const prefrec_interactions *x = r->m->x;
    int32_t np = x->n_products;
    upcf_block b;
    int rc = block_read(blk, len, np, &b);
    if (!rc && (size_t)b.n > r->scratch) {
        free(r->inter), free(r->touched);
        r->inter = calloc((size_t)b.n, sizeof *r->inter);
        r->touched = malloc((size_t)b.n * sizeof *r->touched);
        r->scratch = r->inter && r->touched ? (size_t)b.n : 0;
        if (!r->scratch) rc = -1;
    }
    for (int32_t i = 0; !rc && i < r->n_user; i++) {
        int32_t u = r->user[i], nt = 0;
        for (int64_t q = x->row_start[u]; q < x->row_start[u + 1]; q++) {
            int32_t p = x->product[q];
            for (int64_t a = b.col_start[p]; a < b.col_start[p + 1]; a++) {
                int32_t v = b.col_v[a];
                if (!r->inter[v]++) r->touched[nt++] = v;
            }
        }
        const double *ipow = r->ipow + r->ip_start[i];
        rank_fx *acc = r->acc + (size_t)i * (size_t)np;
        for (int32_t t = 0; !rc && t < nt; t++) {
            int32_t v = r->touched[t];
            double w = ipow[r->inter[v]] * b.inv_b[v];
            for (int64_t q = b.r_start[v]; q < b.r_start[v + 1]; q++) {
                rank_fx tv = 0;
                if (rank_fx_round(w * b.rc_val[q], &tv) || rank_fx_add_fx(&acc[b.rc_item[q]], tv))
                    rc = -1;
            }
        }
        for (int32_t t = 0; t < nt; t++) r->inter[r->touched[t]] = 0;
    }
    block_free(&b);
    return rc;
}

/* The sharded fit's second half: this rank's customers with history get their lists, in batches
 * of users whose exact sums (16 bytes a product) fit in 64 MiB; the customer records go round the
 * ring once per batch, as many batches on every rank. Collective;
 * a rank that fails returns at once, leaving the rest out: its error goes to the caller's agree
 * (eval), which stops the others where they are. */
#define UPCF_BATCH_BYTES ((size_t)64 << 20)
static prefrec_status upcf_fit_dist(upcf_model *m, int verbose, prefrec_error *err) {
    const prefrec_interactions *x = m->x;
    const int32_t np = x->n_products;
    int32_t nh = 0;
    int64_t ni = 0, nr = 0;
    for (int32_t c = 0; c < x->n_customers; c++)
        if (x->row_start[c + 1] > x->row_start[c]) {
            nh++;
            ni += x->row_start[c + 1] - x->row_start[c];
            nr += m->rc_start[c + 1] - m->rc_start[c];
        }
    size_t len = 20 + (size_t)nh * 16 + (size_t)ni * 4 + (size_t)nr * 8;
    size_t per = (size_t)(np ? np : 1) * sizeof(rank_fx);
    int32_t bu = (int32_t)(UPCF_BATCH_BYTES / per > 0 ? UPCF_BATCH_BYTES / per : 1);
    if (bu > nh) bu = nh > 0 ? nh : 1;
    int32_t *user = malloc(((size_t)nh + 1) * sizeof *user);
    char *blk = malloc(len);
    m->slot = malloc(((size_t)x->n_customers + 1) * sizeof *m->slot);
    m->res_start = calloc((size_t)nh + 1, sizeof *m->res_start);
    upcf_ring r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.acc = calloc((size_t)bu, per);
    int64_t *ip_start = malloc(((size_t)bu + 1) * sizeof *ip_start);
    int rc = user && blk && m->slot && m->res_start && r.acc && ip_start ? 0 : -1;
    if (!rc) {
        char *at = blk;
        memcpy(at, &nh, 4), memcpy(at + 4, &ni, 8), memcpy(at + 12, &nr, 8), at += 20;
        for (int32_t c = 0, i = 0; c < x->n_customers; c++) {
            m->slot[c] = -1;
            if (x->row_start[c + 1] > x->row_start[c]) m->slot[c] = i, user[i++] = c;
        }
        for (int32_t i = 0; i < nh; i++, at += 8) memcpy(at, &m->inv_b[user[i]], 8);
        for (int32_t i = 0; i < nh; i++, at += 8) {
            int32_t c[2] = {(int32_t)(x->row_start[user[i] + 1] - x->row_start[user[i]]),
                            (int32_t)(m->rc_start[user[i] + 1] - m->rc_start[user[i]])};
            memcpy(at, c, 8);
        }
        for (int32_t i = 0; i < nh; i++) {
            int64_t q0 = x->row_start[user[i]], n = x->row_start[user[i] + 1] - q0;
            memcpy(at, x->product + q0, (size_t)n * 4), at += n * 4;
        }
        for (int32_t i = 0; i < nh; i++) {
            int64_t q0 = m->rc_start[user[i]], n = m->rc_start[user[i] + 1] - q0;
            memcpy(at, m->rc_item + q0, (size_t)n * 4), at += n * 4;
        }
        for (int32_t i = 0; i < nh; i++) {
            int64_t q0 = m->rc_start[user[i]], n = m->rc_start[user[i] + 1] - q0;
            memcpy(at, m->rc_val + q0, (size_t)n * 4), at += n * 4;
        }
    }
    int64_t most = rc ? 0 : (nh + bu - 1) / bu;
    if (!rc && prefrec_dist_allreduce_i64(x->dist, &most, 1, PREFREC_DIST_MAX)) rc = -1;
    uint64_t sent = 0, s1 = 0;
    int64_t n_res = 0, cap = 0;
    double *ipow = NULL;
    /* free the per-customer arrays the lists replace only at the end (score reads the lists) */
    for (int64_t bt = 0; !rc && bt < most; bt++) {
        int32_t u0 = (int32_t)(bt * bu < nh ? bt * bu : nh), u1 = u0 + bu < nh ? u0 + bu : nh;
        r.user = user + u0, r.n_user = u1 - u0;
        ip_start[0] = 0;
        for (int32_t i = 0; i < r.n_user; i++) {
            int32_t c = r.user[i];
            ip_start[i + 1] = ip_start[i] + (x->row_start[c + 1] - x->row_start[c]) + 1;
        }
        free(ipow);
        ipow = malloc(((size_t)ip_start[r.n_user] + 1) * sizeof *ipow);
        if (!ipow) {
            rc = -1;
            break;
        }
        for (int32_t i = 0; i < r.n_user; i++) { /* i^q |I_u|^(-alpha q), as upcf_score */
            int32_t c = r.user[i];
            for (int64_t j = 0; j < ip_start[i + 1] - ip_start[i]; j++)
                ipow[ip_start[i] + j] = pow((double)j, m->p.q) * m->inv_a[c];
        }
        r.ip_start = ip_start, r.ipow = ipow;
        rc = rank_dist_ring(x, blk, len, ring_sums, &r, &s1);
        sent += s1;
        for (int32_t i = 0; !rc && i < r.n_user; i++) { /* the nonzero sums, as floats */
            rank_fx *acc = r.acc + (size_t)i * (size_t)np;
            for (int32_t p = 0; !rc && p < np; p++) {
                float v = (float)rank_fx_double(acc[p]);
                acc[p] = 0;
                if (v == 0.0f) continue;
                if (n_res == cap) {
                    int64_t nc = cap ? 2 * cap : 4096;
                    int32_t *rp = realloc(m->res_prod, (size_t)nc * sizeof *rp);
                    if (rp) m->res_prod = rp;
                    float *rv = rp ? realloc(m->res_val, (size_t)nc * sizeof *rv) : NULL;
                    if (rv) m->res_val = rv;
                    if (!rp || !rv) {
                        rc = -1;
                        break;
                    }
                    cap = nc;
                }
                m->res_prod[n_res] = p;
                m->res_val[n_res++] = v;
            }
            m->res_start[u0 + i + 1] = n_res;
        }
    }
    if (!rc && verbose)
        fprintf(stderr,
                "  upcf: %d customers' lists on this rank, %lld batch(es), %llu bytes sent "
                "round the ring\n",
                nh, (long long)most, (unsigned long long)sent);
    free(user), free(blk), free(r.acc), free(ip_start), free(ipow), free(r.inter), free(r.touched);
    return rc ? prefrec_error_set(err, PREFREC_E_NOMEM,
                                  "upcf: the customers' lists could not be made (out of memory, or "
                                  "a sum out of the exact sums' range)")
              : PREFREC_OK;
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
    if (x->dist || x->customer_key) { /* sharded (or a test standing for one rank of it) */
        prefrec_status st = upcf_fit_dist(m, in->verbose, err);
        if (st) {
            upcf_free(m);
            return st;
        }
    }
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
    if (m->slot) { /* sharded: the list fit made */
        int32_t i = m->slot[u];
        for (int64_t q = m->res_start[i]; q < m->res_start[i + 1]; q++)
            scores[m->res_prod[q]] = m->res_val[q];
        rank_fill_unscored(x, scores);
        return PREFREC_OK;
    }
    int64_t h = x->row_start[u + 1] - x->row_start[u];
    int32_t *inter = calloc((size_t)nc, sizeof *inter);
    int32_t *touched = malloc((size_t)nc * sizeof *touched);
    rank_fx *acc = calloc((size_t)np, sizeof *acc);
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
    /* sim^q <= 1 and rc <= 1: every term is in the exact sums' range */
    for (int32_t t = 0; t < nt; t++) {
        int32_t v = touched[t];
        double w = ipow[inter[v]] * m->inv_b[v];
        for (int64_t q = m->rc_start[v]; q < m->rc_start[v + 1]; q++) {
            rank_fx tv = 0;
            rank_fx_round(w * m->rc_val[q], &tv);
            acc[m->rc_item[q]] += tv;
        }
    }
    for (int32_t j = 0; j < np; j++) scores[j] = (float)rank_fx_double(acc[j]);
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
