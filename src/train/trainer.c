/* trainer.c - mini-batch Adam training of the NeuMF model with pthreads (see prefrec/native/train.h).
 *
 * Parallelism: all threads run the epoch's batches together. A batch is cut into fixed
 * NM_CHUNK-pair chunks; thread t computes chunks t, t+T, t+2T, ... into per-chunk buffers.
 * After a barrier, the step is shared too: thread t sums the chunks' dense gradients in chunk
 * order and steps Adam over its own slice of the dense parameters (and their transposed
 * copies), and steps the customer and product rows it owns (blocks of 16 rows spread over the
 * threads), summing each row's pair gradients in pair order. A second barrier ends the batch.
 * Every sum has a fixed order whatever thread computes it, so the result is the same for every
 * thread count. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neumf.h"
#include "prefrec/pack.h"
#include "prefrec/rng.h"

/* The element-wise loops (gradient sums, Adam) compiled for each vector width, chosen at run
 * time: adds, multiplies, divisions and square roots are correctly rounded at any width and the
 * build contracts nothing into FMAs (C11), so every clone gives the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define TR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TR_CLONES
#endif

/* Ask for a cache line that this thread is about to write, in the exclusive state: a row the
 * other threads read during the chunks is otherwise fetched shared and then claimed again at
 * the store, two trips between cores instead of one. PREFETCHW is a hint that every x86-64 CPU
 * decodes (as a no-op where it is not implemented); elsewhere a plain prefetch. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PREFETCH_W(p) __asm__ volatile("prefetchw %0" : : "m"(*(const char *)(p)))
#else
#define PREFETCH_W(p) __builtin_prefetch((p), 1)
#endif

prefrec_train_params prefrec_train_default_params(void) {
    prefrec_train_params p;
    memset(&p, 0, sizeof p);
    p.dim = 32;
    p.n_layers = 2;
    p.layers[0] = 64;
    p.layers[1] = 32;
    p.epochs = 20;
    p.batch = 256;
    p.lr = 0.002f;
    p.l2 = 0.1f;
    p.init_std = 0.05f;
    p.valid_frac = 0.1;
    p.patience = 3;
    p.threads = 1;
    p.seed = 1;
    p.verbose = 1;
    return p;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct trainer trainer;

/* A reusable barrier whose party count can shrink before first use (if a thread fails to
 * start, training goes on with the threads that did). */
typedef struct barrier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int parties;
    atomic_int waiting;
    atomic_ulong gen;
} barrier;

static void barrier_init(barrier *b, int parties) {
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->parties = parties;
    atomic_init(&b->waiting, 0);
    atomic_init(&b->gen, 0);
}
static void barrier_destroy(barrier *b) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}
/* Spin a little first (a batch's halves take tens of microseconds: sleeping and waking a thread
 * would cost as much), then sleep on the condition variable. */
static void barrier_wait(barrier *b) {
    unsigned long g = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->waiting, 1) + 1 == b->parties) {
        atomic_store(&b->waiting, 0);
        pthread_mutex_lock(&b->mu);
        atomic_fetch_add(&b->gen, 1);
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        return;
    }
    for (int i = 0; i < 2000; i++) {
        if (atomic_load_explicit(&b->gen, memory_order_acquire) != g) return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&b->mu);
    while (atomic_load(&b->gen) == g) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

typedef struct worker {
    trainer *tr;
    int id;
    float *scratch;
    int32_t *list_c, *list_p; /* [batch]: the first pair of each row this thread steps */
    pthread_t th;
} worker;

typedef struct adam_rows adam_rows;

struct trainer {
    nm_net net;
    const prefrec_train_data *data;
    int threads, n_chunks_max;
    /* current job */
    int job; /* 3 an epoch's batches, 2 validation, 0 quit */
    /* epoch job: the shuffled training pairs, batch size, optimiser state */
    const int32_t *ec, *ep;
    const float *et;
    size_t n_train, B;
    float lr;
    double b1t, b2t; /* Adam's beta^t, carried across epochs */
    double sse; /* the epoch's training squared error (thread 0) */
    float *dm, *dv; /* [n_dense] */
    size_t *cut; /* [threads + 1]: thread t steps the dense parameters [cut[t], cut[t+1]) */
    adam_rows *ac, *ap;
    barrier mid;
    /* the pairs of the current job, gathered contiguously (an epoch's shuffle, the validation
     * pairs): random reads of the pair arrays would miss the cache at every pair */
    const int32_t *cust, *prod;
    const float *target;
    const uint32_t *seq; /* 0, 1, 2, ...: positions into cust/prod/target */
    float *gchunk; /* [n_chunks_max][n_dense] */
    float *grow_c, *grow_p; /* [batch][d+1] */
    double *chunk_loss, *chunk_sse;
    /* validation job (over cust/prod/target) */
    size_t vn, v_chunks;
    double *v_sse; /* [v_chunks] */
    barrier start, done;
    worker *w;
};

TR_CLONES static size_t rows_gather(adam_rows *a, const float *tab, const int32_t *row_of,
                                    size_t bn, float *grow, size_t D, int32_t *list, uint32_t id,
                                    uint32_t T);
TR_CLONES static void rows_step(adam_rows *a, float *tab, const int32_t *row_of, const float *grow,
                                size_t D, const int32_t *list, size_t nt, float lr_t,
                                float bc2_sqrt_inv);
TR_CLONES static void adam_dense_step(float *restrict p, float *restrict m, float *restrict v,
                                      const float *g, size_t stride, size_t nch, size_t n,
                                      float lr_t, float bc2_sqrt_inv);

/* Ask for the embedding rows of pairs [lo, hi) ahead of their use (a hint: no effect on results). */
static void prefetch_rows(const trainer *tr, const int32_t *cust, const int32_t *prod, size_t lo,
                          size_t hi) {
    size_t D = (size_t)tr->net.L.d + 1;
    for (size_t k = lo; k < hi; k++) {
        const char *c = (const char *)(tr->net.ctab + (size_t)cust[k] * D);
        const char *p = (const char *)(tr->net.ptab + (size_t)prod[k] * D);
        __builtin_prefetch(tr->net.demo + (size_t)cust[k] * PREFREC_MODEL_N_DEMO);
        for (size_t o = 0; o < D * sizeof(float); o += 64) {
            __builtin_prefetch(c + o);
            __builtin_prefetch(p + o);
        }
    }
}

/* One epoch over the shuffled pairs tr->ec/ep/et, run by every thread (id 0..threads-1). */
static void run_epoch(trainer *tr, int id, float *scratch) {
    const nm_layout *L = &tr->net.L;
    const size_t D = (size_t)L->d + 1, T = (size_t)tr->threads, nd = L->n_dense;
    double b1t = tr->b1t, b2t = tr->b2t;
    const size_t lo = tr->cut[id], hi = tr->cut[id + 1]; /* this thread's dense parameters */
    worker *me = &tr->w[id];
    for (size_t b = 0; b < tr->n_train; b += tr->B) {
        size_t bn = tr->n_train - b < tr->B ? tr->n_train - b : tr->B;
        size_t nch = (bn + NM_CHUNK - 1) / NM_CHUNK;
        const float scale = 1.0f / (float)bn;
        for (size_t c = (size_t)id; c < nch; c += T) {
            size_t clo = c * NM_CHUNK, cnt = bn - clo < NM_CHUNK ? bn - clo : NM_CHUNK;
            size_t next = clo + 2 * T * NM_CHUNK;
            if (next < bn)
                prefetch_rows(tr, tr->ec + b, tr->ep + b, next,
                              bn - next < NM_CHUNK ? bn : next + NM_CHUNK);
            float *g = tr->gchunk + c * nd;
            tr->chunk_loss[c] =
                nm_chunk(&tr->net, tr->ec + b, tr->ep + b, tr->et + b, tr->seq + clo, cnt, scale, g,
                         tr->grow_c + clo * D, tr->grow_p + clo * D, scratch, &tr->chunk_sse[c]);
        }
        if (T > 1) barrier_wait(&tr->mid);
        /* this thread's first two chunks of the next batch: their rows arrive during the step (a
         * row the step changes is fetched again, a hint only) */
        size_t nb = b + tr->B;
        for (size_t c0 = (size_t)id * NM_CHUNK; c0 < 2 * T * NM_CHUNK; c0 += T * NM_CHUNK) {
            if (nb + c0 >= tr->n_train || c0 >= tr->B) break;
            size_t c1 = c0 + NM_CHUNK < tr->n_train - nb ? c0 + NM_CHUNK : tr->n_train - nb;
            prefetch_rows(tr, tr->ec + nb, tr->ep + nb, c0, c1 < tr->B ? c1 : tr->B);
        }
        b1t *= NM_ADAM_B1;
        b2t *= NM_ADAM_B2;
        float lr_t = (float)(tr->lr / (1.0 - b1t)), bc2 = (float)(1.0 / sqrt(1.0 - b2t));
        size_t nc = rows_gather(tr->ac, tr->net.ctab, tr->ec + b, bn, tr->grow_c, D, me->list_c,
                                (uint32_t)id, (uint32_t)T);
        size_t np = rows_gather(tr->ap, tr->net.ptab, tr->ep + b, bn, tr->grow_p, D, me->list_p,
                                (uint32_t)id, (uint32_t)T);
        if (hi > lo) {
            adam_dense_step(tr->net.dense + lo, tr->dm + lo, tr->dv + lo, tr->gchunk + lo, nd, nch,
                            hi - lo, lr_t, bc2);
            nm_sync_range(&tr->net, lo, hi);
        }
        if (id == 0)
            for (size_t c = 0; c < nch; c++) tr->sse += tr->chunk_sse[c];
        rows_step(tr->ac, tr->net.ctab, tr->ec + b, tr->grow_c, D, me->list_c, nc, lr_t, bc2);
        rows_step(tr->ap, tr->net.ptab, tr->ep + b, tr->grow_p, D, me->list_p, np, lr_t, bc2);
        if (T > 1) barrier_wait(&tr->done);
    }
    if (id == 0) {
        tr->b1t = b1t;
        tr->b2t = b2t;
    }
}

static void run_chunks(trainer *tr, int id, float *scratch) {
    if (tr->job == 3) {
        run_epoch(tr, id, scratch);
    } else if (tr->job == 2) {
        for (size_t c = (size_t)id; c < tr->v_chunks; c += (size_t)tr->threads) {
            size_t lo = c * 1024, hi = lo + 1024 < tr->vn ? lo + 1024 : tr->vn;
            double s = 0.0;
            float yb[NM_CHUNK];
            for (size_t k0 = lo; k0 < hi; k0 += NM_CHUNK) {
                size_t m = hi - k0 < NM_CHUNK ? hi - k0 : NM_CHUNK;
                nm_predict_batch(&tr->net, tr->cust + k0, tr->prod + k0, tr->seq, m, yb, scratch);
                for (size_t k = 0; k < m; k++) {
                    float y = yb[k];
                    y = y > 0.0f ? (y < PREFREC_MODEL_SCORE_MAX ? y : PREFREC_MODEL_SCORE_MAX)
                                 : 0.0f;
                    double e = (double)y - tr->target[k0 + k];
                    s += e * e;
                }
            }
            tr->v_sse[c] = s;
        }
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    trainer *tr = w->tr;
    for (;;) {
        barrier_wait(&tr->start);
        if (tr->job == 0) break;
        run_chunks(tr, w->id, w->scratch);
        barrier_wait(&tr->done);
    }
    return NULL;
}

/* Run the current job on all threads (the caller is worker 0). */
static void run_job(trainer *tr) {
    if (tr->threads > 1) barrier_wait(&tr->start);
    run_chunks(tr, 0, tr->w[0].scratch);
    if (tr->threads > 1) barrier_wait(&tr->done);
}

/* Gather the pairs idx[0..n) into c, p, t (contiguous, in idx order) and point the job at them. */
static void gather_pairs(trainer *tr, const uint32_t *idx, size_t n, int32_t *c, int32_t *p,
                         float *t) {
    const prefrec_train_data *td = tr->data;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = idx[k];
        c[k] = td->customer[i];
        p[k] = td->product[i];
        t[k] = td->target[i];
    }
    tr->cust = c;
    tr->prod = p;
    tr->target = t;
}

/* RMSE over the pairs idx[0..n) into *out (NaN when n is 0); -1 when out of memory. */
static int rmse_of(trainer *tr, const uint32_t *idx, size_t n, double *out) {
    *out = NAN;
    if (n == 0) return 0;
    tr->vn = n;
    tr->v_chunks = (n + 1023) / 1024;
    double *s = calloc(tr->v_chunks, sizeof *s);
    int32_t *c = malloc(n * sizeof *c), *p = malloc(n * sizeof *p);
    float *t = malloc(n * sizeof *t);
    if (!s || !c || !p || !t) {
        free(s), free(c), free(p), free(t);
        return -1;
    }
    gather_pairs(tr, idx, n, c, p, t);
    tr->v_sse = s;
    tr->job = 2;
    run_job(tr);
    double sum = 0.0;
    for (size_t k = 0; k < tr->v_chunks; k++) sum += s[k];
    free(s), free(c), free(p), free(t);
    double t_ = sum;
    *out = sqrt(t_ / (double)n);
    return 0;
}

struct adam_rows {
    float *m, *v; /* [rows][d+1], line-aligned */
    int32_t *slot; /* [rows] -> the batch's first pair of the row, -1 */
};

/* The thread that steps row r: blocks of 16 rows (whole cache lines of the table, its moments
 * and its slots) spread over the threads by a multiplicative hash. Which thread steps a row
 * changes no bit: every row's step reads only that row and its pairs' gradients. */
static inline uint32_t row_owner(int32_t r, uint32_t T) {
    return (uint32_t)(((uint64_t)((uint32_t)r >> 4) * 2654435761u & 0xFFFFFFFFu) * T >> 32);
}

/* Lazy Adam on the rows of one table that this batch touched and this thread owns, in two
 * parts: rows_gather lists the rows and sums each row's pair gradients in pair order into its
 * first pair's gradient (grow is the batch's scratch), asking for the rows' state; rows_step,
 * after the dense step has given that state time to arrive, updates only those rows (moments of
 * untouched rows stay as they are). */
TR_CLONES static size_t rows_gather(adam_rows *a, const float *tab, const int32_t *row_of,
                                    size_t bn, float *grow, size_t D, int32_t *list, uint32_t id,
                                    uint32_t T) {
    size_t nt = 0;
    for (size_t k = 0; k < bn; k++) {
        int32_t r = row_of[k];
        if (T > 1 && row_owner(r, T) != id) continue;
        int32_t s = a->slot[r];
        if (s < 0) {
            /* the update below writes these rows and reads the pair's gradient (which another
             * thread may have written): ask early */
            for (size_t o = 0; o < D; o += 16) {
                PREFETCH_W(a->m + (size_t)r * D + o);
                PREFETCH_W(a->v + (size_t)r * D + o);
                PREFETCH_W(tab + (size_t)r * D + o);
                __builtin_prefetch(grow + k * D + o);
            }
            a->slot[r] = (int32_t)k;
            list[nt++] = (int32_t)k;
        } else {
            float *restrict g = grow + (size_t)s * D;
            const float *restrict h = grow + k * D;
            for (size_t q = 0; q < D; q++) g[q] += h[q];
        }
    }
    return nt;
}

/* Adam on the nt rows listed by rows_gather, each with its summed gradient. */
TR_CLONES static void rows_step(adam_rows *a, float *tab, const int32_t *row_of, const float *grow,
                                size_t D, const int32_t *list, size_t nt, float lr_t,
                                float bc2_sqrt_inv) {
    for (size_t s = 0; s < nt; s++) {
        size_t k = (size_t)list[s];
        int32_t r = row_of[k];
        const float *restrict g = grow + k * D;
        nm_adam(tab + (size_t)r * D, a->m + (size_t)r * D, a->v + (size_t)r * D, g, D, lr_t,
                bc2_sqrt_inv);
        a->slot[r] = -1;
    }
}

/* Adam on n dense parameters whose gradient is the sum of the nch chunk gradients g, g + stride,
 * g + 2 stride, ..., summed in chunk order (a block at a time, in the cache). */
TR_CLONES static void adam_dense_step(float *restrict p, float *restrict m, float *restrict v,
                                      const float *g, size_t stride, size_t nch, size_t n,
                                      float lr_t, float bc2_sqrt_inv) {
    float acc[256];
    for (size_t q0 = 0; q0 < n; q0 += 256) {
        size_t w = n - q0 < 256 ? n - q0 : 256;
        memcpy(acc, g + q0, w * sizeof(float));
        for (size_t c = 1; c < nch; c++) {
            const float *restrict gc = g + c * stride + q0;
            for (size_t q = 0; q < w; q++) acc[q] += gc[q];
        }
        nm_adam(p + q0, m + q0, v + q0, acc, w, lr_t, bc2_sqrt_inv);
    }
}

/* Where thread t's dense parameters start (t = 0..T; cut T is n_dense): near t/T of them, moved
 * to a boundary of 16 rows inside a weight matrix, so that refreshing the transposed copies
 * (nm_sync_range) writes whole cache lines of them per thread. */
static size_t dense_cut(const nm_layout *L, size_t t, size_t T) {
    size_t nd = L->n_dense, x = t * nd / T;
    if (t == 0 || t >= T) return t == 0 ? 0 : nd;
    for (int l = 0; l < L->n_layers; l++) {
        size_t in = (size_t)L->in[l], o = (size_t)L->width[l], w0 = L->off_w[l];
        if (x >= w0 && x < w0 + o * in) {
            size_t j = ((x - w0) / in + 8) / 16 * 16;
            return j >= o ? w0 + o * in : w0 + j * in;
        }
    }
    return x;
}

static prefrec_status check_inputs(const prefrec_train_data *td, const prefrec_train_params *tp,
                                   prefrec_error *err) {
    if (tp->dim < 1 || tp->dim > 1024)
        return prefrec_error_set(err, PREFREC_E_RANGE, "train: dim %d not in 1..1024", tp->dim);
    if (tp->n_layers < 1 || tp->n_layers > PREFREC_MODEL_MAX_LAYERS)
        return prefrec_error_set(err, PREFREC_E_RANGE, "train: %d MLP layers, expected 1..%d",
                                 tp->n_layers, PREFREC_MODEL_MAX_LAYERS);
    for (int l = 0; l < tp->n_layers; l++)
        if (tp->layers[l] < 1 || tp->layers[l] > 4096)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "train: MLP layer %d width %d not in 1..4096", l,
                                     tp->layers[l]);
    if (tp->epochs < 1 || tp->batch < 1 || tp->batch > (1 << 20) || tp->threads < 1 ||
        tp->threads > 256 || !(tp->lr > 0) || !(tp->l2 >= 0) ||
        !(tp->valid_frac >= 0 && tp->valid_frac < 1) || tp->patience < 1)
        return prefrec_error_set(
            err, PREFREC_E_RANGE,
            "train: epochs, batch, threads, lr, l2, valid_frac or patience out of range");
    if (td->n_pairs < 2 || td->n_pairs > UINT32_MAX)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "train: %zu pairs; need at least 2",
                                 td->n_pairs);
    if (td->n_customers < 1 || td->n_products < 1)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "train: no customers or no products");
    for (size_t i = 0; i < td->n_pairs; i++) {
        if (td->customer[i] < 0 || td->customer[i] >= td->n_customers || td->product[i] < 0 ||
            td->product[i] >= td->n_products)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "train: pair %zu has customer %d / product %d out of range", i,
                                     td->customer[i], td->product[i]);
        if (!isfinite(td->target[i]))
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "train: pair %zu has a non-finite target", i);
    }
    return PREFREC_OK;
}

/* The train:valid split: a seeded permutation of the pairs; its first n_valid validate. */
static void split_perm(uint32_t *perm, size_t n, uint64_t seed) {
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 1);
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = prefrec_rng_below(&r, (uint32_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static size_t valid_count(size_t n, double frac) {
    size_t v = frac > 0 ? (size_t)llround((double)n * frac) : 0;
    if (frac > 0 && v == 0) v = 1;
    if (v >= n) v = n - 1;
    return v;
}

prefrec_status prefrec_train_split(size_t n, double valid_frac, uint64_t seed, uint8_t *is_valid,
                                   prefrec_error *err) {
    if (n < 2 || n > UINT32_MAX)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "train: %zu pairs; need at least 2", n);
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm) return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    split_perm(perm, n, seed);
    size_t nv = valid_count(n, valid_frac);
    memset(is_valid, 0, n);
    for (size_t i = 0; i < nv; i++) is_valid[perm[i]] = 1;
    free(perm);
    return PREFREC_OK;
}

/* Each code hashed apart (no separator can be confused with a code's bytes), mixed through
 * splitmix64 steps; the top 53 bits as a uniform draw in [0, 1). */
int prefrec_train_split_valid(uint64_t seed, const char *customer, const char *product,
                              double valid_frac) {
    uint64_t s = seed ^ 0x5f0d9b4e3c1a2786ull;
    s = prefrec_splitmix64(&s) ^ prefrec_fnv1a64(customer, strlen(customer));
    s = prefrec_splitmix64(&s) ^ prefrec_fnv1a64(product, strlen(product));
    uint64_t h = prefrec_splitmix64(&s);
    return (double)(h >> 11) * 0x1p-53 < valid_frac;
}

typedef struct snapshot {
    float *ctab, *ptab, *dense;
} snapshot;

static void snap_take(snapshot *s, const nm_net *n) {
    size_t D = (size_t)n->L.d + 1;
    memcpy(s->ctab, n->ctab, (size_t)n->C * D * sizeof(float));
    memcpy(s->ptab, n->ptab, (size_t)n->P * D * sizeof(float));
    memcpy(s->dense, n->dense, n->L.n_dense * sizeof(float));
}
static void snap_restore(const snapshot *s, nm_net *n) {
    size_t D = (size_t)n->L.d + 1;
    memcpy(n->ctab, s->ctab, (size_t)n->C * D * sizeof(float));
    memcpy(n->ptab, s->ptab, (size_t)n->P * D * sizeof(float));
    memcpy(n->dense, s->dense, n->L.n_dense * sizeof(float));
    nm_sync(n);
}

/* Copy the trained state into the public plain-array form. */
static prefrec_status export_net(const nm_net *n, uint64_t seed, prefrec_neumf **out,
                                 prefrec_error *err) {
    const nm_layout *L = &n->L;
    size_t d = (size_t)L->d, D = d + 1;
    prefrec_neumf *o = calloc(1, sizeof *o);
    if (!o) return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    o->dim = L->d;
    o->n_layers = L->n_layers;
    o->n_customers = n->C;
    o->n_products = n->P;
    o->seed = seed;
    o->cemb = malloc((size_t)n->C * d * sizeof(float) + 1);
    o->cbias = malloc((size_t)n->C * sizeof(float) + 1);
    o->pemb = malloc((size_t)n->P * d * sizeof(float) + 1);
    o->pbias = malloc((size_t)n->P * sizeof(float) + 1);
    o->wg = malloc(d * sizeof(float));
    o->wm = malloc((size_t)L->width[L->n_layers - 1] * sizeof(float));
    int ok = o->cemb && o->cbias && o->pemb && o->pbias && o->wg && o->wm;
    for (int l = 0; ok && l < L->n_layers; l++) {
        o->width[l] = L->width[l];
        o->w[l] = malloc((size_t)L->width[l] * (size_t)L->in[l] * sizeof(float));
        o->b[l] = malloc((size_t)L->width[l] * sizeof(float));
        ok = o->w[l] && o->b[l];
        if (ok) {
            memcpy(o->w[l], n->dense + L->off_w[l],
                   (size_t)L->width[l] * (size_t)L->in[l] * sizeof(float));
            memcpy(o->b[l], n->dense + L->off_b[l], (size_t)L->width[l] * sizeof(float));
        }
    }
    if (!ok) {
        prefrec_neumf_free(o);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    }
    for (int32_t c = 0; c < n->C; c++) {
        memcpy(o->cemb + (size_t)c * d, n->ctab + (size_t)c * D, d * sizeof(float));
        o->cbias[c] = n->ctab[(size_t)c * D + d];
    }
    for (int32_t p = 0; p < n->P; p++) {
        memcpy(o->pemb + (size_t)p * d, n->ptab + (size_t)p * D, d * sizeof(float));
        o->pbias[p] = n->ptab[(size_t)p * D + d];
    }
    memcpy(o->wg, n->dense + L->off_wg, d * sizeof(float));
    memcpy(o->wm, n->dense + L->off_wm, (size_t)L->width[L->n_layers - 1] * sizeof(float));
    o->b0 = n->dense[L->off_b0];
    *out = o;
    return PREFREC_OK;
}

prefrec_status nm_export(const nm_net *n, uint64_t seed, prefrec_neumf **out, prefrec_error *err) {
    return export_net(n, seed, out, err);
}

void prefrec_neumf_free(prefrec_neumf *o) {
    if (!o) return;
    free(o->cemb);
    free(o->cbias);
    free(o->pemb);
    free(o->pbias);
    free(o->wg);
    free(o->wm);
    for (int l = 0; l < PREFREC_MODEL_MAX_LAYERS; l++) {
        free(o->w[l]);
        free(o->b[l]);
    }
    free(o);
}

float prefrec_neumf_predict(const prefrec_neumf *o, int32_t c, int32_t p, int gender, float age) {
    int d = o->dim, in = 2 * d + PREFREC_MODEL_N_DEMO;
    float x[2 * 1024 + PREFREC_MODEL_N_DEMO], a[4096], z[4096];
    memcpy(x, o->cemb + (size_t)c * d, (size_t)d * sizeof(float));
    memcpy(x + d, o->pemb + (size_t)p * d, (size_t)d * sizeof(float));
    prefrec_model_demo(gender, age, x + 2 * d);
    const float *cur = x;
    for (int l = 0; l < o->n_layers; l++) {
        for (int j = 0; j < o->width[l]; j++) {
            float s = o->b[l][j];
            for (int i = 0; i < in; i++) s += o->w[l][(size_t)j * in + i] * cur[i];
            z[j] = s > 0.0f ? s : 0.0f;
        }
        memcpy(a, z, (size_t)o->width[l] * sizeof(float));
        cur = a;
        in = o->width[l];
    }
    float y = o->b0 + o->cbias[c] + o->pbias[p];
    for (int k = 0; k < d; k++) y += o->wg[k] * x[k] * x[d + k];
    for (int j = 0; j < in; j++) y += o->wm[j] * cur[j];
    return y > 0.0f ? (y < PREFREC_MODEL_SCORE_MAX ? y : PREFREC_MODEL_SCORE_MAX) : 0.0f;
}

int nm_epoch_end(const prefrec_train_params *tp, prefrec_train_report *rep, int epoch, double loss,
                 double vr, double dt, int has_valid, double *best_v, int *bad) {
    if (tp->verbose)
        fprintf(stderr, "%s%sepoch %2d/%d  train loss %.4f  valid RMSE %.4f  %.3f s/epoch\n",
                tp->label ? tp->label : "", tp->label ? "  " : "", epoch, tp->epochs, loss, vr, dt);
    rep->epochs_run = epoch;
    if (epoch <= PREFREC_TRAIN_LOG_MAX) {
        rep->log[epoch - 1].train_loss = loss;
        rep->log[epoch - 1].valid_rmse = vr;
        rep->log[epoch - 1].seconds = dt;
    }
    if (!has_valid || vr < *best_v) {
        *best_v = vr;
        rep->best_epoch = epoch;
        rep->train_loss = loss;
        *bad = 0;
        return NM_EPOCH_BEST;
    }
    return ++*bad >= tp->patience ? NM_EPOCH_STOP : NM_EPOCH_ON;
}

prefrec_status prefrec_neumf_train(const prefrec_train_data *td, const prefrec_train_params *tp,
                                   prefrec_neumf **out, prefrec_train_report *rep,
                                   prefrec_error *err) {
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    prefrec_status st = check_inputs(td, tp, err);
    if (st) return st;
    double t_start = now_s();
    nm_layout L;
    nm_layout_init(&L, tp->dim, tp->n_layers, tp->layers);
    size_t D = (size_t)L.d + 1, n = td->n_pairs, B = (size_t)tp->batch;
    size_t n_valid = 0;
    if (td->is_valid)
        for (size_t i = 0; i < n; i++) n_valid += td->is_valid[i] != 0;
    else
        n_valid = valid_count(n, tp->valid_frac);
    size_t n_train = n - n_valid;
    if (n_train < 1)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "train: no training pairs (all %zu pairs validate)", n);

    trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.data = td;
    tr.threads = tp->threads;
    tr.n_chunks_max = (int)((B + NM_CHUNK - 1) / NM_CHUNK);
    uint32_t *perm = malloc(n * sizeof *perm), *seq = malloc((B > 1024 ? B : 1024) * sizeof *seq);
    int32_t *ec = malloc(n_train * sizeof *ec), *ep = malloc(n_train * sizeof *ep);
    float *et = malloc(n_train * sizeof *et);
    float *dm = nm_zalloc64(L.n_dense * sizeof(float)),
          *dv = nm_zalloc64(L.n_dense * sizeof(float));
    tr.gchunk = malloc((size_t)tr.n_chunks_max * L.n_dense * sizeof(float));
    tr.grow_c = malloc(B * D * sizeof(float));
    tr.grow_p = malloc(B * D * sizeof(float));
    tr.chunk_loss = calloc((size_t)tr.n_chunks_max, sizeof(double));
    tr.chunk_sse = calloc((size_t)tr.n_chunks_max, sizeof(double));
    adam_rows ac = {0}, ap = {0};
    ac.m = nm_zalloc64((size_t)td->n_customers * D * sizeof(float));
    ac.v = nm_zalloc64((size_t)td->n_customers * D * sizeof(float));
    ac.slot = nm_zalloc64((size_t)td->n_customers * sizeof(int32_t));
    ap.m = nm_zalloc64((size_t)td->n_products * D * sizeof(float));
    ap.v = nm_zalloc64((size_t)td->n_products * D * sizeof(float));
    ap.slot = nm_zalloc64((size_t)td->n_products * sizeof(int32_t));
    tr.cut = malloc(((size_t)tp->threads + 1) * sizeof(size_t));
    snapshot best = {malloc((size_t)td->n_customers * D * sizeof(float)),
                     malloc((size_t)td->n_products * D * sizeof(float)),
                     malloc(L.n_dense * sizeof(float))};
    tr.w = calloc((size_t)tp->threads, sizeof(worker));
    int ok = perm && seq && ec && ep && et && dm && dv && tr.gchunk && tr.grow_c && tr.grow_p &&
        tr.chunk_loss && tr.chunk_sse && ac.m && ac.v && ac.slot && ap.m && ap.v && ap.slot &&
        tr.cut && best.ctab && best.ptab && best.dense && tr.w;
    for (int t = 0; ok && t < tp->threads; t++) {
        tr.w[t].scratch = malloc(nm_scratch_size(&L) * sizeof(float));
        tr.w[t].list_c = malloc(B * sizeof(int32_t));
        tr.w[t].list_p = malloc(B * sizeof(int32_t));
        ok = tr.w[t].scratch && tr.w[t].list_c && tr.w[t].list_p;
    }
    if (ok)
        st = nm_net_alloc(&tr.net, &L, td->n_customers, td->n_products, td->gender, td->age, err);
    else
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    int threads_started = 0;
    if (!st && tp->verbose)
        fprintf(stderr, "%s%skernel %s, %d thread%s, %.0f flops per pair (dense products)\n",
                tp->label ? tp->label : "", tp->label ? "  " : "", nm_kernel_name(tr.net.kern),
                tp->threads, tp->threads > 1 ? "s" : "", nm_flops_per_pair(&L));
    if (!st) {
        for (size_t k = 0; k < (B > 1024 ? B : 1024); k++) seq[k] = (uint32_t)k;
        tr.seq = seq;
        for (int32_t c = 0; c < td->n_customers; c++) ac.slot[c] = -1;
        for (int32_t p = 0; p < td->n_products; p++) ap.slot[p] = -1;
        if (td->is_valid) /* the validation pairs first, then the training pairs, in pair order */
            for (size_t i = 0, v = 0, t = n_valid; i < n; i++)
                perm[td->is_valid[i] ? v++ : t++] = (uint32_t)i;
        else
            split_perm(perm, n, tp->seed);
        double mean = 0.0;
        for (size_t i = n_valid; i < n; i++) mean += td->target[perm[i]];
        mean /= (double)n_train;
        tr.net.l2 = tp->l2;
        nm_net_init(&tr.net, tp->seed, tp->init_std, (float)mean);
        if (tp->threads > 1) {
            barrier_init(&tr.start, tp->threads);
            barrier_init(&tr.done, tp->threads);
            barrier_init(&tr.mid, tp->threads);
            for (int t = 1; t < tp->threads; t++) {
                tr.w[t].tr = &tr;
                tr.w[t].id = t;
                if (pthread_create(&tr.w[t].th, NULL, worker_main, &tr.w[t])) break;
                threads_started = t;
            }
            /* fewer threads than asked: same results (chunking is fixed), just slower */
            tr.threads = tr.start.parties = tr.done.parties = tr.mid.parties = threads_started + 1;
        }
        for (int t = 0; t <= tr.threads; t++)
            tr.cut[t] = dense_cut(&L, (size_t)t, (size_t)tr.threads);
    }
    uint32_t *vidx = perm, *tidx = perm ? perm + n_valid : NULL;
    double best_v = INFINITY, train_time = 0.0;
    tr.ec = ec, tr.ep = ep, tr.et = et;
    tr.n_train = n_train;
    tr.B = B;
    tr.lr = tp->lr;
    tr.b1t = tr.b2t = 1.0;
    tr.dm = dm, tr.dv = dv;
    tr.ac = &ac, tr.ap = &ap;
    int bad = 0;
    for (int epoch = 1; !st && epoch <= tp->epochs; epoch++) {
        double t0 = now_s();
        prefrec_rng r;
        prefrec_rng_init(&r, tp->seed, 1000 + (uint64_t)epoch);
        for (size_t i = n_train - 1; i > 0; i--) {
            size_t j = prefrec_rng_below(&r, (uint32_t)(i + 1));
            uint32_t t = tidx[i];
            tidx[i] = tidx[j];
            tidx[j] = t;
        }
        double sse = 0.0;
        for (size_t k = 0; k < n_train; k++) {
            uint32_t i = tidx[k];
            ec[k] = td->customer[i];
            ep[k] = td->product[i];
            et[k] = td->target[i];
        }
        tr.sse = 0.0;
        tr.job = 3;
        run_job(&tr);
        sse = tr.sse;
        double dt = now_s() - t0;
        train_time += dt;
        double loss = sse / (double)n_train;
        double vr;
        if (rmse_of(&tr, vidx, n_valid, &vr)) {
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
            break;
        }
        int e = nm_epoch_end(tp, rep, epoch, loss, vr, dt, n_valid > 0, &best_v, &bad);
        if (e == NM_EPOCH_BEST) snap_take(&best, &tr.net);
        if (e == NM_EPOCH_STOP) break;
    }
    if (!st) {
        snap_restore(&best, &tr.net);
        rep->n_train = n_train;
        rep->n_valid = n_valid;
        if (rmse_of(&tr, tidx, n_train, &rep->train_rmse) ||
            rmse_of(&tr, vidx, n_valid, &rep->valid_rmse))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
        rep->seconds = now_s() - t_start;
        rep->seconds_per_epoch = rep->epochs_run ? train_time / rep->epochs_run : 0.0;
        if (!st) st = export_net(&tr.net, tp->seed, out, err);
    }
    if (tp->threads > 1 && ok && tr.net.dense) {
        if (threads_started > 0) {
            tr.job = 0;
            barrier_wait(&tr.start);
            for (int t = 1; t <= threads_started; t++) pthread_join(tr.w[t].th, NULL);
        }
        barrier_destroy(&tr.start);
        barrier_destroy(&tr.done);
        barrier_destroy(&tr.mid);
    }
    nm_net_free(&tr.net);
    for (int t = 0; tr.w && t < tp->threads; t++)
        free(tr.w[t].scratch), free(tr.w[t].list_c), free(tr.w[t].list_p);
    free(tr.w);
    free(perm);
    free(seq), free(ec), free(ep), free(et);
    free(dm);
    free(dv);
    free(tr.gchunk);
    free(tr.grow_c);
    free(tr.grow_p);
    free(tr.chunk_loss);
    free(tr.chunk_sse);
    free(ac.m), free(ac.v), free(ac.slot);
    free(ap.m), free(ap.v), free(ap.slot);
    free(tr.cut);
    free(best.ctab), free(best.ptab), free(best.dense);
    return st;
}
