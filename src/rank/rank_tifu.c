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
 * The neighbours are the best k by (distance as a float, then the customer's place in the
 * one-process order), whatever order they are met in, and their vectors are summed exactly
 * (rank_exact.h: each weight on the 2^-64 grid), so the list does not depend on the order of
 * the additions. That is what lets a sharded window (x->dist and x->customer_key, docs/mpi.md;
 * tests/test_rank_ring.c gives a key alone, one rank without MPI) give the one-process bits:
 * there fit computes every customer's list itself (tifu_fit_dist), the ranks' customer
 * vectors passing round the ring (rank_dist_ring) twice, once for the neighbours and once for
 * their vectors.
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
#include "rank_dist.h"
#include "rank_exact.h"
#include "rank_util.h"
#include "host/dist.h"

typedef struct tifu_model {
    const prefrec_interactions *x;
    prefrec_tifu_params p;
    float *w; /* n_pairs, aligned with x->product: the customer's vector */
    float *wcol; /* n_pairs, aligned with x->col_customer */
    double *norm2; /* n_customers */
    int32_t *by_norm; /* customers with history, by (norm2, index) ascending */
    int32_t n_hist;
    /* sharded (x->dist): every customer with history's scores, made by fit (tifu_fit_dist) */
    int32_t *slot; /* n_customers: the customer's list, or -1 */
    int64_t *res_start; /* n_hist + 1 */
    int32_t *res_prod;
    float *res_val;
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
    free(m->slot);
    free(m->res_start);
    free(m->res_prod);
    free(m->res_val);
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

/* ---- the sharded fit: every customer's list computed here, the vectors passed round ------- */

/* A neighbour candidate: its score (minus the distance, as a float), its place in the
 * one-process order (key: ties go to the lower) and where its vector is (rank, record, length). */
typedef struct tifu_nb {
    float s;
    int32_t src, idx, len;
    uint64_t key;
} tifu_nb;

static int nb_before(const tifu_nb *a, const tifu_nb *b) {
    return a->s != b->s ? a->s > b->s : a->key < b->key;
}

/* Keep the best k of what is pushed into h[0..*n) (a min-heap: the worst at h[0]). */
static void nb_push(tifu_nb *h, int32_t *n, int32_t k, tifu_nb it) {
    int32_t i;
    if (*n < k) {
        for (i = (*n)++; i > 0 && nb_before(&h[(i - 1) / 2], &it); i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
    } else if (nb_before(&it, &h[0])) {
        for (i = 0;;) {
            int32_t l = 2 * i + 1, r = l + 1, w = i;
            const tifu_nb *wv = &it;
            if (l < k && nb_before(wv, &h[l])) w = l, wv = &h[l];
            if (r < k && nb_before(wv, &h[r])) w = r;
            if (w == i) break;
            h[i] = h[w];
            i = w;
        }
    } else
        return;
    h[i] = it;
}

/* One rank's block as the ring carries it: n customers with history, their keys, squared norms
 * and pair counts, then their pairs (product, weight) one customer after another. */
typedef struct tifu_block {
    int32_t n;
    int64_t n_pairs;
    uint64_t *key;
    double *norm2;
    int64_t *start; /* n + 1 */
    int32_t *prod;
    float *w;
    int64_t *col_start; /* n_products + 1: the block's customers by product */
    int32_t *col_v;
    float *col_w;
    int32_t *by_norm; /* by (norm2, key) */
} tifu_block;

static void block_free(tifu_block *b) {
    free(b->key), free(b->norm2), free(b->start), free(b->prod), free(b->w);
    free(b->col_start), free(b->col_v), free(b->col_w), free(b->by_norm);
    memset(b, 0, sizeof *b);
}

typedef struct block_norm {
    double norm2;
    uint64_t key;
    int32_t v;
} block_norm;

static int cmp_block_norm(const void *a, const void *b) {
    const block_norm *x = a, *y = b;
    if (x->norm2 != y->norm2) return x->norm2 < y->norm2 ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

/* Parse blk into b (with the product lists when cols): 0, or -1 (out of memory, or a block that
 * does not hold what its header says: cannot happen between ranks of one build). */
static int block_read(const char *blk, size_t len, int32_t np, int cols, tifu_block *b) {
    memset(b, 0, sizeof *b);
    if (len < 12) return -1;
    memcpy(&b->n, blk, 4);
    memcpy(&b->n_pairs, blk + 4, 8);
    size_t n = (size_t)b->n, pairs = (size_t)b->n_pairs;
    if (b->n < 0 || b->n_pairs < 0 || len != 12 + n * 20 + pairs * 8) return -1;
    b->key = malloc(n * 8 + 1), b->norm2 = malloc(n * 8 + 1);
    b->start = malloc((n + 1) * 8), b->prod = malloc(pairs * 4 + 1), b->w = malloc(pairs * 4 + 1);
    if (!b->key || !b->norm2 || !b->start || !b->prod || !b->w) return -1;
    const char *at = blk + 12;
    memcpy(b->key, at, n * 8), at += n * 8;
    memcpy(b->norm2, at, n * 8), at += n * 8;
    b->start[0] = 0;
    for (size_t v = 0; v < n; v++, at += 4) {
        int32_t c;
        memcpy(&c, at, 4);
        if (c < 0) return -1;
        b->start[v + 1] = b->start[v] + c;
    }
    if ((size_t)b->start[n] != pairs) return -1;
    memcpy(b->prod, at, pairs * 4), at += pairs * 4;
    memcpy(b->w, at, pairs * 4);
    for (size_t q = 0; q < pairs; q++)
        if (b->prod[q] < 0 || b->prod[q] >= np) return -1;
    if (!cols) return 0;
    b->col_start = calloc((size_t)np + 1, 8), b->col_v = malloc(pairs * 4 + 1);
    b->col_w = malloc(pairs * 4 + 1), b->by_norm = malloc(n * 4 + 1);
    if (!b->col_start || !b->col_v || !b->col_w || !b->by_norm) return -1;
    for (size_t q = 0; q < pairs; q++) b->col_start[b->prod[q] + 1]++;
    for (int32_t i = 0; i < np; i++) b->col_start[i + 1] += b->col_start[i];
    for (int32_t v = 0; v < b->n; v++) /* customers ascending within a product */
        for (int64_t q = b->start[v]; q < b->start[v + 1]; q++) {
            int64_t a = b->col_start[b->prod[q]]++;
            b->col_v[a] = v;
            b->col_w[a] = b->w[q];
        }
    for (int32_t i = np; i > 0; i--) b->col_start[i] = b->col_start[i - 1];
    b->col_start[0] = 0;
    block_norm *o = malloc(n * sizeof *o + 1);
    if (!o) return -1;
    for (int32_t v = 0; v < b->n; v++) o[v] = (block_norm){b->norm2[v], b->key[v], v};
    qsort(o, n, sizeof *o, cmp_block_norm);
    for (int32_t v = 0; v < b->n; v++) b->by_norm[v] = o[v].v;
    free(o);
    return 0;
}

typedef struct tifu_ring {
    tifu_model *m;
    const int32_t *user; /* the customers with history (x's indices), n_user of them */
    int32_t n_user;
    tifu_nb *heap; /* n_user x k */
    int32_t *got; /* n_user */
    double *dot; /* scratch: a block's customers */
    uint8_t *mark;
    int32_t *touched;
    size_t scratch; /* customers the scratch holds */
    /* the second pass: users [u0, u1), their neighbours' pairs at ent_start[u - u0] .. */
    int32_t u0, u1;
    int64_t *ent_start, *ent_at;
    int32_t *ent_prod;
    float *ent_w;
} tifu_ring;

static uint64_t user_key(const prefrec_interactions *x, int32_t c) {
    return x->customer_key ? x->customer_key[c] : (uint64_t)c;
}

/* Pass 1: every user's candidates among the block's customers (as tifu_score does them). */
static int ring_near(void *ctx, int src, const char *blk, size_t len) {
    tifu_ring *r = ctx;
    tifu_model *m = r->m;
    const prefrec_interactions *x = m->x;
    const int32_t k = m->p.k;
    tifu_block b;
    int rc = block_read(blk, len, x->n_products, 1, &b);
    if (!rc && (size_t)b.n > r->scratch) {
        size_t n = (size_t)b.n;
        free(r->dot), free(r->mark), free(r->touched);
        r->dot = calloc(n, sizeof *r->dot), r->mark = calloc(n, 1);
        r->touched = malloc(n * sizeof *r->touched);
        r->scratch = r->dot && r->mark && r->touched ? n : 0;
        if (!r->scratch) rc = -1;
    }
    for (int32_t i = 0; !rc && i < r->n_user; i++) {
        int32_t c = r->user[i], nt = 0;
        uint64_t ck = user_key(x, c);
        tifu_nb *h = r->heap + (size_t)i * k;
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) {
            int32_t p = x->product[q];
            double wu = m->w[q];
            for (int64_t a = b.col_start[p]; a < b.col_start[p + 1]; a++) {
                int32_t v = b.col_v[a];
                if (b.key[v] == ck) continue;
                if (!r->mark[v]) {
                    r->mark[v] = 1;
                    r->touched[nt++] = v;
                }
                r->dot[v] += wu * b.col_w[a];
            }
        }
        double nu = m->norm2[c];
        for (int32_t t = 0; t < nt; t++) {
            int32_t v = r->touched[t];
            double d = nu + b.norm2[v] - 2.0 * r->dot[v];
            tifu_nb it = {(float)-(d > 0 ? d : 0), src, v, (int32_t)(b.start[v + 1] - b.start[v]),
                          b.key[v]};
            nb_push(h, &r->got[i], k, it);
        }
        /* the others, nearest first: the first k, and any tied with the k-th (tifu_score) */
        int32_t pushed = 0;
        float last = 0;
        for (int32_t j = 0; j < b.n; j++) {
            int32_t v = b.by_norm[j];
            if (b.key[v] == ck || r->mark[v]) continue;
            float sv = (float)-(nu + b.norm2[v]);
            if (pushed >= k && sv != last) break;
            tifu_nb it = {sv, src, v, (int32_t)(b.start[v + 1] - b.start[v]), b.key[v]};
            nb_push(h, &r->got[i], k, it);
            last = sv;
            pushed++;
        }
        for (int32_t t = 0; t < nt; t++) r->dot[r->touched[t]] = 0, r->mark[r->touched[t]] = 0;
    }
    block_free(&b);
    return rc;
}

/* Pass 2: the vectors of users [u0, u1)'s neighbours in the block, copied to their entries. */
static int ring_vectors(void *ctx, int src, const char *blk, size_t len) {
    tifu_ring *r = ctx;
    const int32_t k = r->m->p.k;
    tifu_block b;
    int rc = block_read(blk, len, r->m->x->n_products, 0, &b);
    for (int32_t i = r->u0; !rc && i < r->u1; i++) {
        const tifu_nb *h = r->heap + (size_t)i * k;
        int64_t *at = &r->ent_at[i - r->u0];
        for (int32_t e = 0; e < r->got[i]; e++) {
            if (h[e].src != src) continue;
            int32_t v = h[e].idx;
            int64_t n = b.start[v + 1] - b.start[v];
            memcpy(r->ent_prod + *at, b.prod + b.start[v], (size_t)n * 4);
            memcpy(r->ent_w + *at, b.w + b.start[v], (size_t)n * 4);
            *at += n;
        }
    }
    block_free(&b);
    return rc;
}

/* Users [u0, u1)'s scores from their neighbours' entries: the exact sums per product, then
 * alpha x own + (1 - alpha) / got x sum, as tifu_score makes them; appended to the results. */
static int user_lists(tifu_ring *r, rank_fx *acc, uint8_t *mark, int32_t *touched, int64_t *n_res,
                      int64_t *cap) {
    tifu_model *m = r->m;
    const prefrec_interactions *x = m->x;
    for (int32_t i = r->u0; i < r->u1; i++) {
        int32_t c = r->user[i], nt = 0;
        for (int64_t e = r->ent_start[i - r->u0]; e < r->ent_start[i - r->u0 + 1]; e++) {
            int32_t p = r->ent_prod[e];
            rank_fx v = 0;
            if (rank_fx_round(r->ent_w[e], &v) || rank_fx_add_fx(&acc[p], v)) return -1;
            if (!mark[p]) mark[p] = 1, touched[nt++] = p;
        }
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++)
            if (!mark[x->product[q]]) mark[x->product[q]] = 1, touched[nt++] = x->product[q];
        if (*n_res + nt > *cap) {
            int64_t nc = 2 * *cap > *n_res + nt ? 2 * *cap : *n_res + nt;
            int32_t *rp = realloc(m->res_prod, (size_t)nc * sizeof *rp);
            if (rp) m->res_prod = rp;
            float *rv = rp ? realloc(m->res_val, (size_t)nc * sizeof *rv) : NULL;
            if (rv) m->res_val = rv;
            if (!rp || !rv) return -1;
            *cap = nc;
        }
        double a = m->p.alpha, bw = r->got[i] ? (1.0 - a) / (double)r->got[i] : 0.0;
        for (int32_t t = 0; t < nt; t++) {
            int32_t p = touched[t];
            m->res_prod[*n_res + t] = p;
            m->res_val[*n_res + t] = (float)(bw * rank_fx_double(acc[p]));
        }
        for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++) { /* own products */
            int32_t p = x->product[q];
            for (int32_t t = 0; t < nt; t++)
                if (touched[t] == p) {
                    m->res_val[*n_res + t] = (float)(a * m->w[q] + bw * rank_fx_double(acc[p]));
                    break;
                }
        }
        for (int32_t t = 0; t < nt; t++) acc[touched[t]] = 0, mark[touched[t]] = 0;
        *n_res += nt;
        m->res_start[i + 1] = *n_res;
    }
    return 0;
}

/* The sharded fit's second half: this rank's customers with history get their lists; the
 * customer vectors go round the ring once for the neighbours, then once per batch of users
 * (at most 8 M neighbour pairs a batch, 64 MiB) for the neighbours' vectors. Collective;
 * a rank that fails returns at once, leaving the rest out: its error goes to the caller's agree
 * (eval), which stops the others where they are. */
#define TIFU_BATCH_PAIRS ((int64_t)8 << 20)
static prefrec_status tifu_fit_dist(tifu_model *m, int verbose, prefrec_error *err) {
    const prefrec_interactions *x = m->x;
    const int32_t k = m->p.k, np = x->n_products;
    tifu_ring r;
    memset(&r, 0, sizeof r);
    r.m = m;
    int32_t nh = m->n_hist;
    int64_t pairs = 0;
    int32_t *user = malloc(((size_t)nh + 1) * sizeof *user);
    for (int32_t c = 0, i = 0; user && c < x->n_customers; c++)
        if (x->row_start[c + 1] > x->row_start[c]) {
            user[i++] = c;
            pairs += x->row_start[c + 1] - x->row_start[c];
        }
    r.user = user, r.n_user = nh;
    /* this rank's block */
    size_t len = 12 + (size_t)nh * 20 + (size_t)pairs * 8;
    char *blk = malloc(len);
    r.heap = malloc(((size_t)nh * k + 1) * sizeof *r.heap);
    r.got = calloc((size_t)nh + 1, sizeof *r.got);
    m->slot = malloc(((size_t)x->n_customers + 1) * sizeof *m->slot);
    m->res_start = calloc((size_t)nh + 1, sizeof *m->res_start);
    rank_fx *acc = calloc((size_t)np + 1, sizeof *acc);
    uint8_t *mark = calloc((size_t)np + 1, 1);
    int32_t *touched = malloc(((size_t)np + 1) * sizeof *touched);
    int rc = user && blk && r.heap && r.got && m->slot && m->res_start && acc && mark && touched
        ? 0
        : -1;
    if (!rc) {
        char *at = blk;
        memcpy(at, &nh, 4), memcpy(at + 4, &pairs, 8), at += 12;
        for (int32_t i = 0; i < nh; i++, at += 8) {
            uint64_t key = user_key(x, user[i]);
            memcpy(at, &key, 8);
        }
        for (int32_t i = 0; i < nh; i++, at += 8) memcpy(at, &m->norm2[user[i]], 8);
        for (int32_t i = 0; i < nh; i++, at += 4) {
            int32_t n = (int32_t)(x->row_start[user[i] + 1] - x->row_start[user[i]]);
            memcpy(at, &n, 4);
        }
        for (int32_t i = 0; i < nh; i++) {
            int64_t q0 = x->row_start[user[i]], n = x->row_start[user[i] + 1] - q0;
            memcpy(at, x->product + q0, (size_t)n * 4), at += n * 4;
        }
        for (int32_t i = 0; i < nh; i++) {
            int64_t q0 = x->row_start[user[i]], n = x->row_start[user[i] + 1] - q0;
            memcpy(at, m->w + q0, (size_t)n * 4), at += n * 4;
        }
        for (int32_t c = 0; c < x->n_customers; c++) m->slot[c] = -1;
        for (int32_t i = 0; i < nh; i++) m->slot[user[i]] = i;
    }
    uint64_t sent = 0, s1 = 0;
    if (!rc) rc = rank_dist_ring(x, blk, len, ring_near, &r, &sent);
    free(r.dot), free(r.mark), free(r.touched);
    /* the batches of users, as many on every rank (their count summed over the ranks) */
    int64_t n_res = 0, cap = 0;
    int32_t u = 0;
    int64_t batches = 0;
    for (int32_t i = 0; !rc && i < nh;) { /* this rank's batch count */
        int64_t e = 0;
        int32_t j = i;
        do {
            for (int32_t t = 0; t < r.got[j]; t++) e += r.heap[(size_t)j * k + t].len;
            j++;
        } while (j < nh && e < TIFU_BATCH_PAIRS);
        batches++;
        i = j;
    }
    int64_t most = rc ? 0 : batches;
    if (!rc && prefrec_dist_allreduce_i64(x->dist, &most, 1, PREFREC_DIST_MAX)) rc = -1;
    for (int64_t bt = 0; !rc && bt < most; bt++) {
        r.u0 = u;
        int64_t e = 0;
        if (u < nh) do {
                for (int32_t t = 0; t < r.got[u]; t++) e += r.heap[(size_t)u * k + t].len;
                u++;
            } while (u < nh && e < TIFU_BATCH_PAIRS);
        r.u1 = u;
        size_t nb = (size_t)(r.u1 - r.u0);
        r.ent_start = malloc((nb + 1) * sizeof *r.ent_start);
        r.ent_at = malloc((nb + 1) * sizeof *r.ent_at);
        r.ent_prod = malloc(((size_t)e + 1) * sizeof *r.ent_prod);
        r.ent_w = malloc(((size_t)e + 1) * sizeof *r.ent_w);
        if (!r.ent_start || !r.ent_at || !r.ent_prod || !r.ent_w) rc = -1;
        for (size_t i = 0; !rc && i <= nb; i++) {
            r.ent_start[i] = i ? r.ent_start[i - 1] : 0;
            if (i)
                for (int32_t t = 0; t < r.got[r.u0 + i - 1]; t++)
                    r.ent_start[i] += r.heap[(size_t)(r.u0 + i - 1) * k + t].len;
            r.ent_at[i] = r.ent_start[i];
        }
        if (!rc) rc = rank_dist_ring(x, blk, len, ring_vectors, &r, &s1);
        sent += s1;
        if (!rc && user_lists(&r, acc, mark, touched, &n_res, &cap)) rc = -1;
        free(r.ent_start), free(r.ent_at), free(r.ent_prod), free(r.ent_w);
        r.ent_start = r.ent_at = NULL, r.ent_prod = NULL, r.ent_w = NULL;
    }
    if (!rc && verbose)
        fprintf(stderr,
                "  tifu_knn: %d customers' lists on this rank, %lld batch(es), %llu bytes "
                "sent round the ring\n",
                nh, (long long)most, (unsigned long long)sent);
    free(user), free(blk), free(r.heap), free(r.got), free(acc), free(mark), free(touched);
    return rc
        ? prefrec_error_set(err, PREFREC_E_NOMEM,
                            "tifu_knn: the customers' lists could not be made (out of memory)")
        : PREFREC_OK;
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
    if (x->dist || x->customer_key) { /* sharded (or a test standing for one rank of it) */
        prefrec_status st = tifu_fit_dist(m, in->verbose, err);
        if (st) {
            tifu_free(m);
            return st;
        }
    }
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
    if (m->slot) { /* sharded: the list fit made */
        int32_t i = m->slot[c];
        for (int64_t q = m->res_start[i]; q < m->res_start[i + 1]; q++)
            scores[m->res_prod[q]] = m->res_val[q];
        rank_fill_unscored(x, scores);
        return PREFREC_OK;
    }
    int32_t k = m->p.k;
    double *dot = calloc((size_t)nc, sizeof *dot);
    rank_fx *acc = calloc((size_t)np, sizeof *acc);
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
    /* the others, nearest first: the first k can make the list, and any whose float distance
     * ties the k-th's (the heap breaks ties by index, which need not be the norm order) */
    int32_t pushed = 0;
    float last = 0;
    for (int32_t r = 0; r < m->n_hist; r++) {
        int32_t v = m->by_norm[r];
        if (v == c || mark[v]) continue;
        float sv = (float)-(nu + m->norm2[v]);
        if (pushed >= k && sv != last) break;
        prefrec_topk_heap_push(&h, sv, v);
        last = sv;
        pushed++;
    }
    size_t got = prefrec_topk_heap_finish(&h);
    /* the neighbours' vectors summed exactly (weights in (0, 1]: always in range) */
    for (size_t r = 0; r < got; r++) {
        int32_t v = buf[r].index;
        for (int64_t q = x->row_start[v]; q < x->row_start[v + 1]; q++) {
            rank_fx t = 0;
            rank_fx_round(m->w[q], &t);
            acc[x->product[q]] += t;
        }
    }
    double a = m->p.alpha, b = got ? (1.0 - a) / (double)got : 0.0;
    for (int32_t j = 0; j < np; j++) scores[j] = (float)(b * rank_fx_double(acc[j]));
    for (int64_t q = x->row_start[c]; q < x->row_start[c + 1]; q++)
        scores[x->product[q]] = (float)(a * m->w[q] + b * rank_fx_double(acc[x->product[q]]));
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
