/* trainer_dist.c - the NeuMF trained data-parallel over the ranks of an MPI job (neumf.h,
 * docs/mpi.md): `mpirun -n N prefrec train`.
 *
 * The customers stay on their owner rank with their pairs and embedding rows; the product table
 * and the dense weights are replicated. A step is the one-process step's share of every rank:
 * global step s covers positions [s*B, s*B + bn) of the epoch's NT training pairs, and rank r
 * takes the matching share of its n_r pairs, [s*B*n_r/NT, (s*B + bn)*n_r/NT), so a step holds
 * about B pairs over all ranks and an epoch NT. Each rank computes its pairs' gradients in
 * NM_CHUNK chunks (scaled by 1/bn, the global batch) and sums its dense and product-row
 * gradients in pair order; the sums over the ranks go without a hub (a reduce-scatter: each
 * segment of the dense gradient and each product row summed in rank order by its owner rank,
 * then an all-gather of the sums: `exchange`), and every rank takes the same Adam step (dense
 * Adam, lazy Adam on the product rows any rank touched), so the replicas stay bit-identical.
 * Customer rows get lazy Adam on their owner. Losses and
 * validation errors are per-rank sums added in rank order. For a given number of ranks and seed
 * the result is deterministic; it differs from the one-process training (batches mix ranks'
 * pairs), which docs/mpi.md's tolerance covers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/dist.h"
#include "neumf.h"
#include "prefrec/rng.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* out[0..k) = the ranks' v[0..k) added in rank order (the same bits on every rank). */
static int sum_ranks(prefrec_dist *d, const double *v, size_t k, double *out) {
    int n = prefrec_dist_size(d);
    size_t *counts = malloc((size_t)n * sizeof *counts);
    char *all = NULL;
    if (!counts || prefrec_dist_allgatherv(d, v, k * sizeof *v, &all, counts)) {
        free(counts);
        return -1;
    }
    for (size_t j = 0; j < k; j++) out[j] = 0.0;
    for (int r = 0; r < n; r++)
        for (size_t j = 0; j < k; j++) {
            double x;
            memcpy(&x, all + ((size_t)r * k + j) * sizeof x, sizeof x);
            out[j] = r ? out[j] + x : x;
        }
    free(all);
    free(counts);
    return 0;
}

/* The rows of row_of[0..bn) each listed once (first pair's position in list[]), their pair
 * gradients summed in pair order into the first pair's gradient; slot[] is -1 outside. */
static size_t rows_sum(const int32_t *row_of, size_t bn, float *grow, size_t D, int32_t *slot,
                       int32_t *list) {
    size_t nt = 0;
    for (size_t k = 0; k < bn; k++) {
        int32_t r = row_of[k], s = slot[r];
        if (s < 0) {
            slot[r] = (int32_t)k;
            list[nt++] = (int32_t)k;
        } else {
            for (size_t q = 0; q < D; q++) grow[(size_t)s * D + q] += grow[k * D + q];
        }
    }
    return nt;
}

/* Sum of squared errors (predictions clamped to 0..5) of pairs idx[0..n), in pair order. */
static double sse_of(const nm_net *net, const prefrec_train_data *td, const uint32_t *idx, size_t n,
                     int32_t *c, int32_t *p, const uint32_t *seq, float *scratch) {
    double s = 0.0;
    float y[NM_CHUNK];
    for (size_t k0 = 0; k0 < n; k0 += NM_CHUNK) {
        size_t m = n - k0 < NM_CHUNK ? n - k0 : NM_CHUNK;
        for (size_t k = 0; k < m; k++)
            c[k] = td->customer[idx[k0 + k]], p[k] = td->product[idx[k0 + k]];
        nm_predict_batch(net, c, p, seq, m, y, scratch);
        for (size_t k = 0; k < m; k++) {
            float v = y[k] > 0.0f
                ? (y[k] < PREFREC_MODEL_SCORE_MAX ? y[k] : PREFREC_MODEL_SCORE_MAX)
                : 0.0f;
            double e = (double)v - td->target[idx[k0 + k]];
            s += e * e;
        }
    }
    return s;
}

/* Global RMSE of the pairs idx[0..n) of every rank (NaN when there are none). */
static int rmse_dist(prefrec_dist *d, const nm_net *net, const prefrec_train_data *td,
                     const uint32_t *idx, size_t n, int64_t total, int32_t *c, int32_t *p,
                     const uint32_t *seq, float *scratch, double *out) {
    double s = sse_of(net, td, idx, n, c, p, seq, scratch), t;
    if (sum_ranks(d, &s, 1, &t)) return -1;
    *out = total > 0 ? sqrt(t / (double)total) : NAN;
    return 0;
}

/* The step's exchange, without a hub: a reduce-scatter, then an all-gather (docs/mpi.md,
 * "train"). Rank s owns segment s of the dense gradient, [seg[s], seg[s + 1]), and the product
 * rows p with p % n == s. Each rank sends every owner its part of that owner's segment and its
 * summed rows of that owner (one all-to-all); the owner adds the ranks' parts in rank order, a
 * row's over the ranks that touched it (the first one's value, then the others' added): the
 * additions rank 0 made when it summed everything, so the sums are the bits they were for any
 * N. Then every owner's sums go to every rank (one all-gather without a failure flag of its
 * own: nothing can fail between the two, and a stopped job leaves both out on every rank).
 * In: gd, this rank's dense gradient, and its np summed rows (row bp[list_p[k]], gradient at
 * grow_p + list_p[k] * D). Out: gd the summed dense gradient, prow/pg the *npr summed rows of
 * every owner (each row once). pslot: rows_sum's slots of this rank's rows before, -1
 * everywhere after. */
typedef struct {
    size_t *seg; /* n + 1 */
    size_t *counts, *recvd; /* n each: bytes to and from each rank */
    size_t *cur; /* n: write positions in msg */
    char *msg, *smsg; /* the all-to-all's and the all-gather's send buffers */
} nm_xbuf;

static int exchange(prefrec_dist *d, nm_xbuf *x, size_t D, float *gd, size_t np,
                    const int32_t *list_p, const int32_t *bp, const float *grow_p, int32_t *pslot,
                    int32_t *prow, float *pg, size_t *npr) {
    const int n = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    const size_t row_bytes = 4 + D * sizeof(float);
    for (int s = 0; s < n; s++) x->counts[s] = 0;
    for (size_t k = 0; k < np; k++) x->counts[(uint32_t)bp[list_p[k]] % (uint32_t)n]++;
    size_t at = 0;
    for (int s = 0; s < n; s++) { /* owner s: its dense segment, the row count, the rows */
        size_t ns = x->seg[s + 1] - x->seg[s];
        uint32_t m = (uint32_t)x->counts[s];
        memcpy(x->msg + at, gd + x->seg[s], ns * sizeof(float));
        memcpy(x->msg + at + ns * sizeof(float), &m, 4);
        x->cur[s] = at + ns * sizeof(float) + 4;
        x->counts[s] = ns * sizeof(float) + 4 + m * row_bytes;
        at += x->counts[s];
    }
    for (size_t k = 0; k < np; k++) {
        size_t a = (size_t)list_p[k];
        int s = (int)((uint32_t)bp[a] % (uint32_t)n);
        memcpy(x->msg + x->cur[s], &bp[a], 4);
        memcpy(x->msg + x->cur[s] + 4, grow_p + a * D, D * sizeof(float));
        x->cur[s] += row_bytes;
        pslot[bp[a]] = -1; /* rows_sum's slot */
    }
    char *all = NULL;
    if (prefrec_dist_alltoallv(d, x->msg, x->counts, &all, x->recvd)) return -1;
    /* this rank's segment and rows: the ranks' parts added in rank order */
    const size_t s0 = x->seg[me], ns = x->seg[me + 1] - s0;
    size_t nown = 0;
    const char *y = all;
    for (int r = 0; r < n; r++) {
        const char *z = y;
        for (size_t q = 0; q < ns; q++) {
            float v;
            memcpy(&v, z + q * sizeof(float), sizeof v);
            gd[s0 + q] = r ? gd[s0 + q] + v : v;
        }
        z += ns * sizeof(float);
        uint32_t m;
        memcpy(&m, z, 4), z += 4;
        for (uint32_t k = 0; k < m; k++, z += row_bytes) {
            int32_t row, sl;
            memcpy(&row, z, 4);
            if ((sl = pslot[row]) < 0) {
                sl = pslot[row] = (int32_t)nown;
                prow[nown++] = row;
                memcpy(pg + (size_t)sl * D, z + 4, D * sizeof(float));
            } else {
                for (size_t q = 0; q < D; q++) {
                    float v;
                    memcpy(&v, z + 4 + q * sizeof(float), sizeof v);
                    pg[(size_t)sl * D + q] += v;
                }
            }
        }
        y += x->recvd[r];
    }
    free(all);
    char *w = x->smsg;
    uint32_t m = (uint32_t)nown;
    memcpy(w, gd + s0, ns * sizeof(float)), w += ns * sizeof(float);
    memcpy(w, &m, 4), w += 4;
    memcpy(w, prow, nown * sizeof *prow), w += nown * sizeof *prow;
    memcpy(w, pg, nown * D * sizeof(float)), w += nown * D * sizeof(float);
    for (size_t k = 0; k < nown; k++) pslot[prow[k]] = -1;
    if (prefrec_dist_allgatherv_noflag(d, x->smsg, (size_t)(w - x->smsg), &all, x->recvd))
        return -1;
    /* every owner's sums, in rank order */
    *npr = 0;
    y = all;
    for (int r = 0; r < n; r++) {
        const char *z = y;
        size_t nr = x->seg[r + 1] - x->seg[r];
        memcpy(gd + x->seg[r], z, nr * sizeof(float)), z += nr * sizeof(float);
        memcpy(&m, z, 4), z += 4;
        memcpy(prow + *npr, z, m * sizeof *prow), z += m * sizeof *prow;
        memcpy(pg + *npr * D, z, m * D * sizeof(float));
        *npr += m;
        y += x->recvd[r];
    }
    free(all);
    return 0;
}

prefrec_status nm_train_dist(const prefrec_train_data *td, const uint8_t *is_valid, prefrec_dist *d,
                             const prefrec_train_params *tp, prefrec_neumf **out,
                             prefrec_train_report *rep, prefrec_error *err) {
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    const int n = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    double t_start = now_s();
    nm_layout L;
    nm_layout_init(&L, tp->dim, tp->n_layers, tp->layers);
    const size_t D = (size_t)L.d + 1, nd = L.n_dense, B = (size_t)tp->batch;
    const int32_t C = td->n_customers, P = td->n_products, C1 = C > 0 ? C : 1;
    /* every rank's train and validation pair counts */
    int64_t *cnt = calloc(2 * (size_t)n, sizeof *cnt);
    uint32_t *tidx = malloc(td->n_pairs * sizeof *tidx + 4), *vidx = NULL;
    if (!cnt || !tidx) {
        free(cnt), free(tidx);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    }
    size_t n_train = 0, n_valid = 0;
    for (size_t i = 0; i < td->n_pairs; i++)
        if (!is_valid[i]) tidx[n_train++] = (uint32_t)i;
    vidx = malloc((td->n_pairs - n_train) * sizeof *vidx + 4);
    for (size_t i = 0; vidx && i < td->n_pairs; i++)
        if (is_valid[i]) vidx[n_valid++] = (uint32_t)i;
    cnt[me] = (int64_t)n_train;
    cnt[n + me] = (int64_t)n_valid;
    int64_t NT = 0, NV = 0;
    if (prefrec_dist_allreduce_i64(d, cnt, 2 * (size_t)n, PREFREC_DIST_SUM)) {
        free(cnt), free(tidx), free(vidx);
        return prefrec_error_set(err, PREFREC_E_IO, "train: counting the pairs over the ranks");
    }
    for (int r = 0; r < n; r++) NT += cnt[r], NV += cnt[n + r];
    free(cnt);
    /* the mean training target (the output bias's start): per-rank sums added in rank order */
    double msum = 0.0, mean = 0.0;
    for (size_t k = 0; k < n_train; k++) msum += td->target[tidx[k]];
    prefrec_status st = PREFREC_OK;
    if (!vidx) st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    if (!st && NT < 1) st = prefrec_error_set(err, PREFREC_E_EMPTY, "train: no training pairs");
    if (sum_ranks(d, &msum, 1, &mean) && !st)
        st = prefrec_error_set(err, PREFREC_E_IO, "train: summing over the ranks");
    mean = NT > 0 ? mean / (double)NT : 0.0;

    /* a rank's share of one step: at most B * n_r / NT + 1 pairs (and a chunk for sse_of) */
    size_t SB = B + 2 > NM_CHUNK ? B + 2 : NM_CHUNK;
    nm_net net;
    memset(&net, 0, sizeof net);
    uint32_t *seq = malloc(SB * sizeof *seq);
    int32_t *bc = malloc(SB * sizeof *bc), *bp = malloc(SB * sizeof *bp);
    float *bt = malloc(SB * sizeof *bt);
    size_t nch_max = (SB + NM_CHUNK - 1) / NM_CHUNK;
    float *gchunk = malloc(nch_max * nd * sizeof(float)), *gd = malloc(nd * sizeof(float));
    float *grow_c = malloc(SB * D * sizeof(float)), *grow_p = malloc(SB * D * sizeof(float));
    float *scratch = malloc(nm_scratch_size(&L) * sizeof(float));
    int32_t *list_c = malloc(SB * sizeof *list_c), *list_p = malloc(SB * sizeof *list_p);
    float *cm = calloc((size_t)C1 * D, sizeof *cm), *cv = calloc((size_t)C1 * D, sizeof *cv);
    float *pm = calloc((size_t)P * D, sizeof *pm), *pv = calloc((size_t)P * D, sizeof *pv);
    float *dm = calloc(nd, sizeof *dm), *dv = calloc(nd, sizeof *dv);
    int32_t *cslot = malloc((size_t)C1 * sizeof *cslot), *pslot = malloc((size_t)P * sizeof *pslot);
    /* the step's product rows of every rank, added in rank order: slot -> row, gradient */
    int32_t *prow = malloc((size_t)P * sizeof *prow);
    float *pg = malloc((size_t)P * D * sizeof *pg);
    /* the exchange: to every owner at most its segment, a count and SB rows; from this rank
     * its segment, a count and at most P rows */
    nm_xbuf xb;
    xb.seg = malloc(((size_t)n + 1) * sizeof *xb.seg);
    xb.counts = malloc(3 * (size_t)n * sizeof *xb.counts);
    xb.recvd = xb.counts ? xb.counts + n : NULL;
    xb.cur = xb.counts ? xb.counts + 2 * n : NULL;
    xb.msg = malloc(nd * sizeof(float) + 4 * (size_t)n + SB * (4 + D * sizeof(float)));
    xb.smsg =
        malloc((nd / (size_t)n + 1) * sizeof(float) + 4 + (size_t)P * (4 + D * sizeof(float)));
    for (int s = 0; xb.seg && s <= n; s++) xb.seg[s] = nd * (size_t)s / (size_t)n;
    float *best_c = malloc((size_t)C1 * D * sizeof(float)),
          *best_p = malloc((size_t)P * D * sizeof(float)), *best_d = malloc(nd * sizeof(float));
    int ok = seq && bc && bp && bt && gchunk && gd && grow_c && grow_p && scratch && list_c &&
        list_p && cm && cv && pm && pv && dm && dv && cslot && pslot && prow && pg && xb.seg &&
        xb.counts && xb.msg && xb.smsg && best_c && best_p && best_d;
    if (!st && !ok) st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    if (!st)
        st = nm_net_alloc(&net, &L, C1, P, C > 0 ? td->gender : NULL, C > 0 ? td->age : NULL, err);
    st = prefrec_dist_agree(d, st, 0, err);
    if (!st) {
        for (size_t k = 0; k < SB; k++) seq[k] = (uint32_t)k;
        for (int32_t c = 0; c < C1; c++) cslot[c] = -1;
        for (int32_t p = 0; p < P; p++) pslot[p] = -1;
        net.l2 = tp->l2;
        nm_net_init(&net, tp->seed, tp->init_std, (float)mean);
        if (me > 0) { /* the product and dense starts are the same everywhere; customers differ */
            prefrec_rng r;
            prefrec_rng_init(&r, tp->seed, ((uint64_t)1 << 32) + (uint64_t)me);
            for (int32_t c = 0; c < C1; c++)
                for (int k = 0; k < L.d; k++)
                    net.ctab[(size_t)c * D + (size_t)k] =
                        (float)(tp->init_std * prefrec_rng_normal(&r));
        }
        if (tp->verbose)
            fprintf(stderr,
                    "%s%sdata-parallel over %d ranks: %lld training pairs, %lld validation "
                    "pairs, ~%zu pairs per step\n",
                    tp->label ? tp->label : "", tp->label ? "  " : "", n, (long long)NT,
                    (long long)NV, B);
    }
    double b1t = 1.0, b2t = 1.0, best_v = INFINITY, train_time = 0.0;
    int bad = 0;
    const uint64_t steps = ((uint64_t)NT + B - 1) / B;
    for (int epoch = 1; !st && epoch <= tp->epochs; epoch++) {
        double t0 = now_s();
        prefrec_rng r;
        prefrec_rng_init(&r, tp->seed + 0x9E3779B97F4A7C15ull * (uint64_t)me,
                         1000 + (uint64_t)epoch);
        for (size_t i = n_train; i > 1; i--) {
            size_t j = prefrec_rng_below(&r, (uint32_t)i);
            uint32_t t = tidx[i - 1];
            tidx[i - 1] = tidx[j];
            tidx[j] = t;
        }
        double sse = 0.0;
        for (uint64_t s = 0; !st && s < steps; s++) {
            uint64_t g0 = s * B, g1 = g0 + B < (uint64_t)NT ? g0 + B : (uint64_t)NT;
            size_t lo = (size_t)((unsigned __int128)g0 * n_train / (uint64_t)NT),
                   hi = (size_t)((unsigned __int128)g1 * n_train / (uint64_t)NT), bn = hi - lo;
            const float scale = 1.0f / (float)(g1 - g0);
            for (size_t k = 0; k < bn; k++) {
                uint32_t i = tidx[lo + k];
                bc[k] = td->customer[i], bp[k] = td->product[i], bt[k] = td->target[i];
            }
            size_t nch = (bn + NM_CHUNK - 1) / NM_CHUNK;
            for (size_t c = 0; c < nch; c++) {
                size_t clo = c * NM_CHUNK, m = bn - clo < NM_CHUNK ? bn - clo : NM_CHUNK;
                double csse = 0.0;
                nm_chunk(&net, bc, bp, bt, seq + clo, m, scale, gchunk + c * nd, grow_c + clo * D,
                         grow_p + clo * D, scratch, &csse);
                sse += csse;
            }
            /* this rank's part: dense gradient (chunks in order), product rows (pairs in order) */
            for (size_t q = 0; q < nd; q++) {
                float a = nch ? gchunk[q] : 0.0f;
                for (size_t c = 1; c < nch; c++) a += gchunk[c * nd + q];
                gd[q] = a;
            }
            size_t nc = rows_sum(bc, bn, grow_c, D, cslot, list_c);
            size_t np = rows_sum(bp, bn, grow_p, D, pslot, list_p);
            /* PREFREC_MPI_FAIL=R:step:K (tests/mpi/fail.sh): rank R fails at its K-th step, as
             * an allocation failing here would; the others learn it in this step's exchange */
            if (prefrec_dist_hook(d, "step")) {
                st = prefrec_error_set(err, PREFREC_E_NOMEM,
                                       "train: out of memory in a NeuMF step (PREFREC_MPI_FAIL, "
                                       "a test hook)");
                break;
            }
            /* the sums over the ranks, on every rank (one failure flag: the all-to-all's) */
            size_t npr = 0;
            if (exchange(d, &xb, D, gd, np, list_p, bp, grow_p, pslot, prow, pg, &npr)) {
                st = prefrec_error_set(err, PREFREC_E_IO, "train: exchanging gradients failed");
                break;
            }
            b1t *= NM_ADAM_B1;
            b2t *= NM_ADAM_B2;
            float lr_t = (float)(tp->lr / (1.0 - b1t)), bc2 = (float)(1.0 / sqrt(1.0 - b2t));
            for (size_t q = 0; q < nd; q++)
                nm_adam(net.dense + q, dm + q, dv + q, gd + q, 1, lr_t, bc2);
            nm_sync(&net);
            for (size_t k = 0; k < npr; k++) {
                size_t row = (size_t)prow[k];
                nm_adam(net.ptab + row * D, pm + row * D, pv + row * D, pg + k * D, D, lr_t, bc2);
                pslot[row] = -1;
            }
            for (size_t k = 0; k < nc; k++) {
                size_t kk = (size_t)list_c[k], row = (size_t)bc[kk];
                nm_adam(net.ctab + row * D, cm + row * D, cv + row * D, grow_c + kk * D, D, lr_t,
                        bc2);
                cslot[row] = -1;
            }
        }
        if (st) break;
        double dt = now_s() - t0, tot = 0.0, vr;
        train_time += dt;
        if (sum_ranks(d, &sse, 1, &tot) ||
            rmse_dist(d, &net, td, vidx, n_valid, NV, bc, bp, seq, scratch, &vr)) {
            st = prefrec_error_set(err, PREFREC_E_IO, "train: summing over the ranks");
            break;
        }
        double loss = tot / (double)NT;
        int e = nm_epoch_end(tp, rep, epoch, loss, vr, dt, NV > 0, &best_v, &bad);
        if (e == NM_EPOCH_BEST) {
            memcpy(best_c, net.ctab, (size_t)C1 * D * sizeof(float));
            memcpy(best_p, net.ptab, (size_t)P * D * sizeof(float));
            memcpy(best_d, net.dense, nd * sizeof(float));
        }
        if (e == NM_EPOCH_STOP) break;
    }
    if (!st) {
        memcpy(net.ctab, best_c, (size_t)C1 * D * sizeof(float));
        memcpy(net.ptab, best_p, (size_t)P * D * sizeof(float));
        memcpy(net.dense, best_d, nd * sizeof(float));
        nm_sync(&net);
        rep->n_train = (size_t)NT;
        rep->n_valid = (size_t)NV;
        if (rmse_dist(d, &net, td, tidx, n_train, NT, bc, bp, seq, scratch, &rep->train_rmse) ||
            rmse_dist(d, &net, td, vidx, n_valid, NV, bc, bp, seq, scratch, &rep->valid_rmse))
            st = prefrec_error_set(err, PREFREC_E_IO, "train: summing over the ranks");
        rep->seconds = now_s() - t_start;
        rep->seconds_per_epoch = rep->epochs_run ? train_time / rep->epochs_run : 0.0;
        if (!st) st = nm_export(&net, tp->seed, out, err);
        if (!st) (*out)->n_customers = C;
    }
    st = prefrec_dist_agree(d, st, 0, err);
    if (st && *out) {
        prefrec_neumf_free(*out);
        *out = NULL;
    }
    nm_net_free(&net);
    free(tidx), free(vidx), free(seq), free(bc), free(bp), free(bt), free(gchunk), free(gd);
    free(grow_c), free(grow_p), free(scratch), free(list_c), free(list_p);
    free(cm), free(cv), free(pm), free(pv), free(dm), free(dv), free(cslot), free(pslot);
    free(prow), free(pg), free(xb.seg), free(xb.counts), free(xb.msg), free(xb.smsg);
    free(best_c), free(best_p), free(best_d);
    return st;
}
