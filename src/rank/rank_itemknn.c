/* rank_itemknn.c - item-to-item collaborative filtering: cosine over co-purchase.
 *
 * sim(i, j) = |buyers(i) & buyers(j)| / (sqrt(|buyers(i)| |buyers(j)|) + shrink), computed one
 * product row at a time with a dense accumulator (cost: sum over customers of history^2, no
 * n^2 matrix), keeping each product's `neighbours` best. Rows are independent, so threads
 * take interleaved rows and the result does not depend on the thread count. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"
#include "rank_dist.h"
#include "rank_util.h"
#include "host/dist.h"

typedef struct knn_model {
    const prefrec_interactions *x;
    int32_t k; /* slots per product */
    int32_t *n_nbr; /* n_products */
    int32_t *nbr; /* n_products x k */
    float *sim; /* n_products x k */
} knn_model;

prefrec_itemknn_params prefrec_itemknn_default_params(void) {
    prefrec_itemknn_params p = {200, 10.0};
    return p;
}

static void knn_free(void *m) {
    knn_model *km = m;
    if (!km) return;
    free(km->n_nbr);
    free(km->nbr);
    free(km->sim);
    free(km);
}

typedef struct knn_job {
    knn_model *m;
    double shrink;
    int t, nt;
    int failed;
} knn_job;

static void *knn_rows(void *arg) {
    knn_job *jb = arg;
    knn_model *m = jb->m;
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products;
    float *acc = calloc((size_t)np + 1, sizeof *acc);
    int32_t *touched = malloc(((size_t)np + 1) * sizeof *touched);
    prefrec_scored *buf = malloc(((size_t)m->k + 1) * sizeof *buf);
    if (!acc || !touched || !buf) {
        jb->failed = 1;
        free(acc);
        free(touched);
        free(buf);
        return NULL;
    }
    for (int32_t i = jb->t; i < np; i += jb->nt) {
        int32_t nt = 0;
        for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
            int32_t c = x->col_customer[a];
            for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
                int32_t j = x->product[b];
                if (j == i) continue;
                if (acc[j] == 0.0f) touched[nt++] = j;
                acc[j] += 1.0f;
            }
        }
        prefrec_topk_heap h;
        prefrec_topk_heap_init(&h, buf, (size_t)m->k);
        double ni = x->n_buyers[i];
        for (int32_t t = 0; t < nt; t++) {
            int32_t j = touched[t];
            double s = acc[j] / (sqrt(ni * (double)x->n_buyers[j]) + jb->shrink);
            prefrec_topk_heap_push(&h, (float)s, j);
            acc[j] = 0.0f;
        }
        size_t n = prefrec_topk_heap_finish(&h);
        m->n_nbr[i] = (int32_t)n;
        for (size_t r = 0; r < n; r++) {
            m->nbr[(size_t)i * m->k + r] = buf[r].index;
            m->sim[(size_t)i * m->k + r] = buf[r].score;
        }
    }
    free(acc);
    free(touched);
    free(buf);
    return NULL;
}

/* A growable array of int32 (the co-purchase records bound for one rank). */
typedef struct i32buf {
    int32_t *v;
    size_t n, cap;
} i32buf;

static int i32_put3(i32buf *b, int32_t p, int32_t q, int32_t r) {
    if (b->n + 3 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 3 * 1024;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v, b->cap = cap;
    }
    b->v[b->n++] = p, b->v[b->n++] = q, b->v[b->n++] = r;
    return 0;
}

/* Sharded (x->dist): row ii of the nb products bought in the window (n_buyers, over every rank)
 * belongs to rank ii % N. Each rank counts the co-purchases of every row over its own
 * customers (sparse: the products its buyers bought) and sends each row's (row, product,
 * count) records to the row's rank (one all-to-all); there the counts are summed (exact
 * integers) and the row's best kept as knn_rows does from the same counts (the heap orders
 * ties by index, so the order of the pushes does not matter); the rows' lists then go to every
 * rank. So the lists are the one-process lists for any N; a rank sends 12 bytes per (row,
 * product) pair its customers bought together (at most nb^2) plus its rows' lists. */
static int knn_rows_dist(knn_model *m, double shrink) {
    const prefrec_interactions *x = m->x;
    prefrec_dist *d = x->dist;
    int N = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    int32_t np = x->n_products, nb = 0;
    int32_t *prod = malloc(((size_t)np + 1) * sizeof *prod);
    int64_t *acc = calloc((size_t)np + 1, sizeof *acc);
    int32_t *touched = malloc(((size_t)np + 1) * sizeof *touched);
    i32buf *out = calloc((size_t)N, sizeof *out);
    size_t *cnt = calloc(2 * (size_t)N, sizeof *cnt);
    prefrec_scored *buf = malloc(((size_t)m->k + 1) * sizeof *buf);
    char *send = NULL, *recv = NULL, *lists = NULL, *all = NULL;
    int32_t *start = NULL, *rec = NULL;
    int rc = prod && acc && touched && out && cnt && buf ? 0 : -1;
    for (int32_t j = 0; !rc && j < np; j++)
        if (x->n_buyers[j] > 0) prod[nb++] = j;
    /* this rank's co-purchase counts, row by row, to the rows' ranks */
    for (int32_t ii = 0; !rc && ii < nb; ii++) {
        int32_t i = prod[ii], nt = 0;
        for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
            int32_t c = x->col_customer[a];
            for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
                int32_t j = x->product[b];
                if (j == i) continue;
                if (acc[j] == 0) touched[nt++] = j;
                acc[j]++;
            }
        }
        for (int32_t t = 0; t < nt; t++) {
            if (!rc) rc = i32_put3(&out[ii % N], ii, touched[t], (int32_t)acc[touched[t]]);
            acc[touched[t]] = 0;
        }
    }
    size_t total = 0;
    for (int r = 0; !rc && r < N; r++) total += out[r].n * sizeof(int32_t);
    if (!rc && !(send = malloc(total + 1))) rc = -1;
    for (size_t r = 0, at = 0; !rc && r < (size_t)N; at += cnt[r++]) { /* one after another */
        cnt[r] = out[r].n * sizeof(int32_t);
        if (cnt[r]) memcpy(send + at, out[r].v, cnt[r]);
    }
    for (int r = 0; out && r < N; r++) free(out[r].v);
    free(out);
    out = NULL;
    if (!rc && prefrec_dist_alltoallv(d, send ? send : "", cnt, &recv, cnt + N)) rc = -1;
    free(send);
    send = NULL;
    /* the rows of this rank: ii = me + N q, q < mine; the records grouped by row */
    int32_t mine = nb > me ? (nb - me + N - 1) / N : 0;
    size_t n_rec = 0;
    for (int r = 0; !rc && r < N; r++) n_rec += cnt[N + r] / (3 * sizeof(int32_t));
    const int32_t *in = (const int32_t *)recv;
    start = calloc((size_t)mine + 2, sizeof *start);
    rec = malloc((2 * n_rec + 1) * sizeof *rec);
    if (!rc && (!start || !rec)) rc = -1;
    for (size_t k = 0; !rc && k < n_rec; k++) start[in[3 * k] / N + 1]++;
    for (int32_t q = 0; !rc && q < mine; q++) start[q + 1] += start[q];
    for (size_t k = 0; !rc && k < n_rec; k++) {
        int32_t q = in[3 * k] / N, at = start[q]++;
        rec[2 * at] = in[3 * k + 1], rec[2 * at + 1] = in[3 * k + 2];
    }
    for (int32_t q = mine; !rc && q > 0; q--) start[q] = start[q - 1];
    if (!rc) start[0] = 0;
    free(recv);
    recv = NULL;
    /* each row: the summed counts, the best k; as records (row, n, n x (product, sim)) */
    size_t lcap = (size_t)mine * (2 + 2 * (size_t)m->k) * sizeof(int32_t), llen = 0;
    if (!rc && !(lists = malloc(lcap + 1))) rc = -1;
    for (int32_t q = 0; !rc && q < mine; q++) {
        int32_t ii = me + N * q, i = prod[ii], nt = 0;
        for (int32_t at = start[q]; at < start[q + 1]; at++) {
            int32_t j = rec[2 * at];
            if (acc[j] == 0) touched[nt++] = j;
            acc[j] += rec[2 * at + 1];
        }
        prefrec_topk_heap h;
        prefrec_topk_heap_init(&h, buf, (size_t)m->k);
        double ni = x->n_buyers[i];
        for (int32_t t = 0; t < nt; t++) {
            int32_t j = touched[t];
            double s = (double)(float)acc[j] / (sqrt(ni * (double)x->n_buyers[j]) + shrink);
            prefrec_topk_heap_push(&h, (float)s, j);
            acc[j] = 0;
        }
        int32_t got = (int32_t)prefrec_topk_heap_finish(&h);
        memcpy(lists + llen, &ii, 4), memcpy(lists + llen + 4, &got, 4);
        llen += 8;
        for (int32_t r = 0; r < got; r++) {
            memcpy(lists + llen, &buf[r].index, 4), memcpy(lists + llen + 4, &buf[r].score, 4);
            llen += 8;
        }
    }
    /* every rank's rows to every rank (collective: called also after a failure here) */
    size_t n_all = 0;
    if (rank_dist_all_gather(x, lists ? lists : "", rc ? 0 : llen, &all, &n_all)) rc = -1;
    for (size_t at = 0; !rc && at + 8 <= n_all;) {
        int32_t ii, got;
        memcpy(&ii, all + at, 4), memcpy(&got, all + at + 4, 4);
        at += 8;
        int32_t i = prod[ii];
        m->n_nbr[i] = got;
        for (int32_t r = 0; r < got; r++, at += 8) {
            memcpy(m->nbr + (size_t)i * m->k + r, all + at, 4);
            memcpy(m->sim + (size_t)i * m->k + r, all + at + 4, 4);
        }
    }
    int64_t bad = rc != 0; /* one rank's failure is every rank's */
    if (rank_dist_sum(x, &bad, 1) || bad) rc = -1;
    free(prod), free(acc), free(touched), free(cnt), free(buf);
    free(lists), free(all), free(start), free(rec);
    return rc;
}

static prefrec_status knn_fit(const prefrec_fit_input *in, const void *params, void **model,
                              prefrec_error *err) {
    prefrec_itemknn_params p =
        params ? *(const prefrec_itemknn_params *)params : prefrec_itemknn_default_params();
    *model = NULL;
    if (p.neighbours < 1 || p.shrink < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "itemknn: neighbours must be >= 1 and "
                                 "shrink >= 0 (got %d, %g)",
                                 p.neighbours, p.shrink);
    const prefrec_interactions *x = in->train;
    knn_model *m = calloc(1, sizeof *m);
    size_t np = x->n_products ? (size_t)x->n_products : 1;
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "itemknn: out of memory");
    m->x = x;
    m->k = p.neighbours < x->n_products ? p.neighbours : (x->n_products > 0 ? x->n_products : 1);
    m->n_nbr = calloc(np, sizeof *m->n_nbr);
    m->nbr = malloc(np * (size_t)m->k * sizeof *m->nbr);
    m->sim = malloc(np * (size_t)m->k * sizeof *m->sim);
    if (!m->n_nbr || !m->nbr || !m->sim) {
        knn_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "itemknn: out of memory");
    }
    if (x->dist) {
        if (knn_rows_dist(m, p.shrink)) {
            knn_free(m);
            return prefrec_error_set(err, PREFREC_E_NOMEM,
                                     "itemknn: out of memory for a rank's co-purchase records, "
                                     "or MPI failed (give more ranks)");
        }
        *model = m;
        return PREFREC_OK;
    }
    int nt = in->threads < 1 ? 1 : in->threads > 64 ? 64 : in->threads;
    knn_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        jobs[t] = (knn_job){m, p.shrink, t, nt, 0};
        if (t > 0) started[t] = pthread_create(&th[t], NULL, knn_rows, &jobs[t]) == 0;
    }
    knn_rows(&jobs[0]);
    int failed = jobs[0].failed;
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            knn_rows(&jobs[t]);
        failed |= jobs[t].failed;
    }
    if (failed) {
        knn_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "itemknn: out of memory");
    }
    *model = m;
    return PREFREC_OK;
}

static prefrec_status knn_score(const void *mv, int32_t c, float *scores) {
    const knn_model *m = mv;
    const prefrec_interactions *x = m->x;
    memset(scores, 0, (size_t)x->n_products * sizeof *scores);
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
        int32_t i = x->product[b];
        const int32_t *nb = m->nbr + (size_t)i * m->k;
        const float *sm = m->sim + (size_t)i * m->k;
        for (int32_t r = 0; r < m->n_nbr[i]; r++) scores[nb[r]] += sm[r];
    }
    rank_add_pop_tiebreak(x, scores, 1e-6f);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_itemknn = {
    .name = "itemknn",
    .summary = "item-to-item cosine over co-purchase (pruned neighbour lists)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = knn_fit,
    .score = knn_score,
    .free = knn_free};

/* ---- served form (src/core/blend.h): each product's m most similar products ---------------- */
prefrec_status prefrec_itemknn_neighbors(const void *mv, int32_t m, int32_t *nbr, float *w) {
    const knn_model *km = mv;
    prefrec_scored *best = malloc((size_t)(m > 0 ? m : 1) * sizeof *best);
    if (!best) return PREFREC_E_NOMEM;
    for (int32_t h = 0; h < km->x->n_products; h++) {
        prefrec_topk_heap heap;
        prefrec_topk_heap_init(&heap, best, best ? (size_t)m : 0);
        const float *sim = km->sim + (size_t)h * km->k;
        const int32_t *nb = km->nbr + (size_t)h * km->k;
        for (int32_t r = 0; best && r < km->n_nbr[h]; r++)
            if (sim[r] > 0.0f) prefrec_topk_heap_push(&heap, sim[r], nb[r]);
        rank_neighbor_row(&heap, m, nbr + (size_t)h * m, w + (size_t)h * m);
    }
    free(best);
    return PREFREC_OK;
}
