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

/* Sharded (x->dist): the co-purchase counts of every row over each rank's own customers, summed
 * on the row's rank (exact integers) and the row's best kept there as knn_rows does from the
 * same counts (the heap orders ties by index, so the order of the pushes does not matter): the
 * lists are the one-process lists for any N (rank_dist_rows; 12 bytes per (row, product) pair
 * a rank's customers bought together, at most nb^2). */
typedef struct knn_dist {
    knn_model *m;
    const int32_t *prod;
    int64_t *acc; /* n_products, zero between rows */
    int32_t *touched;
    double shrink;
} knn_dist;

static int knn_emit(void *ctx, int32_t ii, rank_rows_sink *sink) {
    knn_dist *kd = ctx;
    const prefrec_interactions *x = kd->m->x;
    int32_t i = kd->prod[ii], nt = 0;
    for (int64_t a = x->col_start[i]; a < x->col_start[i + 1]; a++) {
        int32_t c = x->col_customer[a];
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
            int32_t j = x->product[b];
            if (j == i) continue;
            if (kd->acc[j] == 0) kd->touched[nt++] = j;
            kd->acc[j]++;
        }
    }
    int rc = 0;
    for (int32_t t = 0; t < nt; t++) {
        int32_t j = kd->touched[t], n = (int32_t)kd->acc[j];
        if (!rc) rc = rank_rows_put(sink, ii, j, &n);
        kd->acc[j] = 0;
    }
    return rc;
}

static int32_t knn_top(void *ctx, int32_t ii, const char *const *rec, size_t n,
                       prefrec_scored *buf) {
    knn_dist *kd = ctx;
    const prefrec_interactions *x = kd->m->x;
    int32_t i = kd->prod[ii], nt = 0;
    for (size_t t = 0; t < n; t++) {
        int32_t j, c;
        memcpy(&j, rec[t], 4), memcpy(&c, rec[t] + 4, 4);
        if (kd->acc[j] == 0) kd->touched[nt++] = j;
        kd->acc[j] += c;
    }
    prefrec_topk_heap h;
    prefrec_topk_heap_init(&h, buf, (size_t)kd->m->k);
    double ni = x->n_buyers[i];
    for (int32_t t = 0; t < nt; t++) {
        int32_t j = kd->touched[t];
        double s = (double)(float)kd->acc[j] / (sqrt(ni * (double)x->n_buyers[j]) + kd->shrink);
        prefrec_topk_heap_push(&h, (float)s, j);
        kd->acc[j] = 0;
    }
    return (int32_t)prefrec_topk_heap_finish(&h);
}

static int knn_rows_dist(knn_model *m, double shrink) {
    const prefrec_interactions *x = m->x;
    int32_t np = x->n_products, nb = 0;
    int32_t *prod = malloc(((size_t)np + 1) * sizeof *prod);
    knn_dist kd = {m, prod, calloc((size_t)np + 1, sizeof(int64_t)),
                   malloc(((size_t)np + 1) * sizeof(int32_t)), shrink};
    for (int32_t j = 0; prod && j < np; j++)
        if (x->n_buyers[j] > 0) prod[nb++] = j;
    rank_rows_ops ops = {sizeof(int32_t), knn_emit, knn_top, &kd};
    int ok = prod && kd.acc && kd.touched; /* else the exchange fails on every rank */
    int rc = rank_dist_rows(x, prod, nb, m->k, ok ? &ops : NULL, m->n_nbr, m->nbr, m->sim);
    free(prod), free(kd.acc), free(kd.touched);
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
