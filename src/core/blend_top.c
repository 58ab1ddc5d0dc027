/* blend_top.c - the blend's top list from the history's neighbours and a bounded walk of the
 * catalogue (see "the top of the list" in prefrec/blend.h).
 *
 * Why bounds and not a fixed candidate set: a fixed set (say the segment's top 500 and the
 * neighbours) changes the served list whenever a category bonus lifts a product from outside
 * it. The bounds make the walk stop exactly where nothing left can enter the list, so the
 * served lists stay those of the full scoring (tests/core/test_blend_top.c compares them). */
#include "prefrec/blend.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Relative margin of every bound comparison: a score is a sum of at most six non-negative float
 * terms (error below 1e-6 relative), so 1e-5 can never skip a product that could enter. */
#define BOUND_MARGIN 1e-5

enum { MARK_EASE = 1, MARK_KNN = 2, MARK_DONE = 4 };

uint64_t prefrec_blend_index_bytes(uint64_t n_products, uint64_t n_cat) {
    /* kept: ub, order, cat_order, cat_tail_all; during the build: the sort's keys and scratch */
    return 16 * n_products + 4 * (n_cat + 1) + 8 * n_products;
}

void prefrec_blend_index_free(prefrec_blend_index *ix) {
    if (!ix) return;
    free(ix->ub);
    free(ix->order);
    free(ix->cat_order);
    free(ix->cat_start);
    free(ix->cat_tail_all);
    memset(ix, 0, sizeof *ix);
}

/* Whether every a[0..n) is finite and >= 0; *mx (may be NULL) gets their largest from 0,
 * strictly greater (blend.c's max). One pass, no early exit: a load checks a valid pack. */
static int max_finite_nonneg(const float *a, size_t n, float *mx) {
    float m = 0.0f;
    int good = 1;
    for (size_t i = 0; i < n; i++) {
        float v = a[i];
        good &= (v >= 0.0f) & (v <= FLT_MAX); /* & not &&: no branch per value */
        if (v > m) m = v;
    }
    if (mx) *mx = m;
    return good;
}

static int finite_all(const float *a, size_t n) {
    int good = 1;
    for (size_t i = 0; i < n; i++) good &= (a[i] >= -FLT_MAX) & (a[i] <= FLT_MAX);
    return good;
}

/* the scale of a normalised part, as prefrec_blend_score computes it */
static float part_scale(double weight, float mx) {
    return weight != 0 && mx > 0.0f ? (float)(weight / mx) : 0.0f;
}

/* Whether the category bounds hold: with a subcategory weight, a subcategory's products must
 * all lie in one top category (so a product with a subcategory share is in a walked group). */
static int nested(const int32_t *product_cat, const int32_t *product_sub, int32_t P, int32_t n_sub,
                  int *ok) {
    if (n_sub <= 0 || !product_sub) return *ok = 1, 0;
    int32_t *of = malloc((size_t)n_sub * sizeof *of);
    if (!of) return -1;
    for (int32_t u = 0; u < n_sub; u++) of[u] = -2;
    *ok = 1;
    for (int32_t p = 0; p < P && *ok; p++) {
        int32_t u = product_sub[p], c = product_cat ? product_cat[p] : -1;
        if (u < 0 || u >= n_sub) continue;
        if (c < 0 || (of[u] != -2 && of[u] != c)) *ok = 0;
        of[u] = c;
    }
    free(of);
    return 0;
}

/* order[0..P) = the products by ub descending, ties by index ascending (what a comparison sort
 * by (key desc, index asc) gives): a stable radix sort of the keys' bits, which order as the
 * values do for finite floats >= 0 (every bound is one). Three passes of 11 bits over P keys
 * instead of qsort's P log P calls through a function pointer, the largest part of an engine's
 * load at 2,000 products in the browser's first-tier code. -1 when memory runs out. */
static int order_by_bound(const float *ub, int32_t P, int32_t *order) {
    uint32_t *key = malloc((size_t)P * sizeof *key);
    int32_t *tmp = malloc((size_t)P * sizeof *tmp);
    if (!key || !tmp) {
        free(key), free(tmp);
        return -1;
    }
    for (int32_t p = 0; p < P; p++) {
        uint32_t bits;
        float f = ub[p] == 0.0f ? 0.0f : ub[p]; /* -0 as +0: equal keys tie on the index */
        memcpy(&bits, &f, sizeof bits);
        key[p] = ~bits; /* ascending ~bits = descending value */
        order[p] = p;
    }
    int32_t *from = order, *to = tmp;
    for (int shift = 0; shift < 32; shift += 11) {
        uint32_t count[2049] = {0};
        for (int32_t i = 0; i < P; i++) count[((key[from[i]] >> shift) & 2047u) + 1]++;
        for (int d = 0; d < 2048; d++) count[d + 1] += count[d];
        for (int32_t i = 0; i < P; i++) to[count[(key[from[i]] >> shift) & 2047u]++] = from[i];
        int32_t *t = from;
        from = to, to = t;
    }
    if (from != order) memcpy(order, from, (size_t)P * sizeof *order);
    free(key), free(tmp);
    return 0;
}

prefrec_status prefrec_blend_index_build(const prefrec_blend *b, const int32_t *product_cat,
                                         int32_t n_cat, const int32_t *product_sub, int32_t n_sub,
                                         prefrec_blend_index *ix, prefrec_error *err) {
    memset(ix, 0, sizeof *ix);
    int32_t P = b->n_products;
    /* the lists' weights: rows x m (a compact list has fewer rows than products) */
    size_t EM = (size_t)(b->ease_row ? b->ease_rows : P) * (size_t)b->m,
           KM = (size_t)(b->knn_row ? b->knn_rows : P) * (size_t)b->m;
    const double *w = b->w;
    int ok = P > 0 && b->tiebreak >= 0;
    for (int k = 0; k < PREFREC_BW_COUNT; k++) ok = ok && w[k] >= 0;
    /* ub starts as the largest segment part of each product: each segment's row read once
     * (decoded from its counts or f16 values into rowbuf when the pack stores them so), checked,
     * its max taken and its scaled values folded into ub */
    const int counts = !b->pop_seg && b->pop_t && b->pop_t->dtype != PREFREC_DT_F16;
    float seg_max[PREFREC_N_SEGMENTS], trend_max = 0.0f;
    float *ub = ok ? malloc((size_t)P * sizeof *ub) : NULL;
    float *rowbuf = ok && !b->pop_seg ? malloc((size_t)P * sizeof *rowbuf) : NULL;
    if (ok && (!ub || (!b->pop_seg && !rowbuf))) {
        free(ub), free(rowbuf);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    for (int32_t p = 0; ok && p < P; p++) ub[p] = 0.0f;
    for (int s = 0; ok && s < PREFREC_N_SEGMENTS; s++) {
        const float *row = prefrec_blend_pop_row(b, s, rowbuf);
        if (!counts) {
            ok = max_finite_nonneg(row, (size_t)P, &seg_max[s]);
        } else { /* from counts: in [0, 1] by construction (each count is at most its row's
                    size: checked at open; each share at most 1), only the max to take */
            float mx = 0.0f;
            for (int32_t p = 0; p < P; p++)
                if (row[p] > mx) mx = row[p];
            seg_max[s] = mx;
        }
        float fs = part_scale(w[PREFREC_BW_POP], seg_max[s]);
        for (int32_t p = 0; ok && p < P; p++) {
            float v = fs * row[p];
            if (v > ub[p]) ub[p] = v;
        }
    }
    free(rowbuf);
    ok = ok && max_finite_nonneg(b->trend, (size_t)P, &trend_max) &&
        max_finite_nonneg(b->pop_all, (size_t)P, NULL) &&
        (b->ease_w ? finite_all(b->ease_w, EM) : prefrec_pack_finite(b->ease_wt)) &&
        (b->knn_w ? finite_all(b->knn_w, KM) : prefrec_pack_finite(b->knn_wt));
    if (ok && w[PREFREC_BW_SUBPOP] != 0 && nested(product_cat, product_sub, P, n_sub, &ok)) {
        free(ub);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    if (!ok) { /* served by prefrec_blend_score */
        free(ub);
        return PREFREC_OK;
    }
    if (n_cat < 0) n_cat = 0;
    ix->n_products = P;
    ix->n_cat = n_cat;
    ix->ub = ub;
    ix->order = malloc((size_t)P * sizeof *ix->order);
    ix->cat_order = malloc((size_t)P * sizeof *ix->cat_order);
    ix->cat_start = calloc((size_t)n_cat + 1, sizeof *ix->cat_start);
    ix->cat_tail_all = malloc((size_t)P * sizeof *ix->cat_tail_all);
    if (!ix->ub || !ix->order || !ix->cat_order || !ix->cat_start || !ix->cat_tail_all) {
        prefrec_blend_index_free(ix);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    /* ub: the largest segment part over all segments + trend + tiebreak, rounded up */
    memcpy(ix->seg_max, seg_max, sizeof seg_max);
    ix->trend_max = trend_max;
    float ft = part_scale(w[PREFREC_BW_TREND], ix->trend_max);
    for (int32_t p = 0; p < P; p++) {
        double u = ((double)ix->ub[p] + (double)ft * b->trend[p] + b->tiebreak * b->pop_all[p]) *
            (1 + BOUND_MARGIN);
        float f = (float)u;
        ix->ub[p] = (double)f < u ? nextafterf(f, INFINITY) : f;
    }
    if (order_by_bound(ix->ub, P, ix->order)) {
        prefrec_blend_index_free(ix);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    /* the groups: a stable counting sort of the global order by category */
    for (int32_t p = 0; p < P; p++) {
        int32_t c = product_cat ? product_cat[p] : -1;
        if (c >= 0 && c < n_cat) ix->cat_start[c + 1]++;
    }
    for (int32_t c = 0; c < n_cat; c++) ix->cat_start[c + 1] += ix->cat_start[c];
    int32_t *fill = malloc(((size_t)n_cat + 1) * sizeof *fill);
    if (!fill) {
        prefrec_blend_index_free(ix);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    memcpy(fill, ix->cat_start, ((size_t)n_cat + 1) * sizeof *fill);
    for (int32_t i = 0; i < P; i++) {
        int32_t p = ix->order[i], c = product_cat ? product_cat[p] : -1;
        if (c >= 0 && c < n_cat) ix->cat_order[fill[c]++] = p;
    }
    free(fill);
    for (int32_t c = 0; c < n_cat; c++) {
        float mx = 0.0f;
        for (int32_t i = ix->cat_start[c + 1]; i-- > ix->cat_start[c];) {
            float a = b->pop_all[ix->cat_order[i]];
            if (a > mx) mx = a;
            ix->cat_tail_all[i] = mx;
        }
    }
    ix->ok = 1;
    return PREFREC_OK;
}

/* One request's state: what prefrec_blend_score would compute once per request. */
typedef struct top_ctx {
    const prefrec_blend *b;
    const int32_t *product_cat, *product_sub;
    int32_t n_cat, n_sub;
    size_t n;
    const float *row, *cs, *ss; /* row: the segment's popularity, NULL when read as stored */
    const unsigned char *h16; /* (then) the segment's row of f16 values, or NULL and */
    prefrec_pc_reader pc; /* the segment's row of counts */
    float fs, ft, inv, wc, wcp, wsp, t;
    prefrec_blend_top_scratch *sc;
    prefrec_blend_parts *parts;
    const uint8_t *exclude;
    prefrec_topk_heap heap;
    size_t scored;
} top_ctx;

/* Score product p with prefrec_blend_score's statements (the same floats), unless it was
 * scored or is excluded; push it. */
static void visit(top_ctx *x, int32_t p) {
    uint8_t *mark = x->sc->mark;
    if (mark[p] & MARK_DONE) return;
    mark[p] |= MARK_DONE;
    if (x->exclude[p]) return;
    const prefrec_blend *b = x->b;
    prefrec_blend_parts *parts = x->parts;
    float ea = mark[p] & MARK_EASE ? x->sc->acc_e[p] : 0.0f;
    float ka = mark[p] & MARK_KNN ? x->sc->acc_k[p] : 0.0f;
    parts->i2i[p] = ea;
    parts->i2i[p] *= parts->f_ease;
    parts->i2i[p] += parts->f_knn * ka;
    float pv = x->row ? x->row[p]
        : x->h16      ? prefrec_f16_to_f32((uint16_t)(x->h16[2 * p] | x->h16[2 * p + 1] << 8))
                      : prefrec_pc_read(&x->pc, b->pop_gl, (uint64_t)p);
    parts->pop[p] = x->fs * pv + x->ft * b->trend[p];
    parts->cat[p] = 0.0f;
    if (x->n > 0) {
        const int32_t *product_cat = x->product_cat, *product_sub = x->product_sub;
        int32_t c = product_cat ? product_cat[p] : -1, u = product_sub ? product_sub[p] : -1;
        float sc = c >= 0 && c < x->n_cat ? x->cs[c] * x->inv : 0.0f;
        float su = u >= 0 && u < x->n_sub ? x->ss[u] * x->inv : 0.0f;
        float wc = x->wc, wcp = x->wcp, wsp = x->wsp;
        parts->cat[p] = wc * sc + wcp * sc * b->pop_all[p] + wsp * su * b->pop_all[p];
    }
    float t = x->t;
    float out = parts->i2i[p] + parts->pop[p] + parts->cat[p] + t * b->pop_all[p];
    prefrec_topk_heap_push(&x->heap, out, p);
    x->scored++;
}

/* Whether a product whose score is at most `bound` may still enter the list. */
static int may_enter(const top_ctx *x, double bound) {
    if (x->heap.size < x->heap.cap) return 1;
    float kth = x->heap.items[0].score; /* the worst kept; NaN: keep walking */
    return !(bound * (1 + BOUND_MARGIN) + DBL_MIN < (double)kth);
}

/* acc[t] = sum over the history of list weights to t (neighbour_sum's order); marks t. Returns
 * the largest sum, from 0. */
static float accumulate(const int32_t *nbr, const float *w, const prefrec_tensor *wt,
                        const int32_t *row_of, int32_t m, const int32_t *hist, size_t n,
                        uint8_t bit, float *acc, uint8_t *mark) {
    float tmp[PREFREC_BLEND_ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const int32_t *nb = prefrec_blend_nbr(nbr, row_of, m, hist[i]);
        const float *ww = prefrec_blend_list_w(w, wt, row_of, m, hist[i], tmp);
        for (int32_t r = 0; r < m; r++) {
            int32_t q = nb[r];
            if (q < 0) continue;
            if (!(mark[q] & bit)) acc[q] = 0.0f, mark[q] |= bit;
            acc[q] += ww[r];
        }
    }
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const int32_t *nb = prefrec_blend_nbr(nbr, row_of, m, hist[i]);
        for (int32_t r = 0; r < m; r++)
            if (nb[r] >= 0 && acc[nb[r]] > mx) mx = acc[nb[r]];
    }
    return mx;
}

size_t prefrec_blend_top(const prefrec_blend *b, const prefrec_blend_index *ix, const int32_t *hist,
                         size_t n, int seg, const int32_t *product_cat, int32_t n_cat,
                         const int32_t *product_sub, int32_t n_sub, const uint8_t *exclude,
                         size_t k, prefrec_blend_top_scratch *sc, prefrec_blend_parts *parts,
                         prefrec_scored *top, size_t *n_scored) {
    const double *w = b->w;
    int32_t P = b->n_products;
    top_ctx x;
    memset(&x, 0, sizeof x);
    x.b = b;
    x.product_cat = product_cat;
    x.product_sub = product_sub;
    x.n_cat = n_cat;
    x.n_sub = n_sub;
    x.n = n;
    x.sc = sc;
    x.parts = parts;
    x.exclude = exclude;
    prefrec_topk_heap_init(&x.heap, top, k);

    /* the neighbour sums and their scales (neighbour_sum: 0 when the weight is 0) */
    parts->f_ease = parts->f_knn = 0.0f;
    if (w[PREFREC_BW_EASE] != 0) {
        float mx = accumulate(b->ease_nbr, b->ease_w, b->ease_wt, b->ease_row, b->m, hist, n,
                              MARK_EASE, sc->acc_e, sc->mark);
        parts->f_ease = mx > 0.0f ? (float)(w[PREFREC_BW_EASE] / mx) : 0.0f;
    }
    if (w[PREFREC_BW_KNN] != 0) {
        float mx = accumulate(b->knn_nbr, b->knn_w, b->knn_wt, b->knn_row, b->m, hist, n, MARK_KNN,
                              sc->acc_k, sc->mark);
        parts->f_knn = mx > 0.0f ? (float)(w[PREFREC_BW_KNN] / mx) : 0.0f;
    }
    int s = seg >= 0 && seg < PREFREC_N_SEGMENTS ? seg : 0;
    x.row = b->pop_seg ? b->pop_seg + (size_t)s * P : NULL; /* else a value at a time */
    x.h16 = !x.row && b->pop_t->dtype == PREFREC_DT_F16
        ? (const unsigned char *)b->pop_t->data + 2 * (size_t)s * P
        : NULL;
    if (!x.row && !x.h16)
        prefrec_pc_reader_at(b->pop_t->dtype, (const unsigned char *)b->pop_t->data,
                             PREFREC_N_SEGMENTS, (uint64_t)P, (uint64_t)s, &x.pc);
    x.fs = part_scale(w[PREFREC_BW_POP], ix->seg_max[s]);
    x.ft = part_scale(w[PREFREC_BW_TREND], ix->trend_max);
    x.t = (float)b->tiebreak;

    /* the history's category and subcategory shares, as prefrec_blend_score counts them */
    float *cs = sc->share, *ss = sc->share + (n_cat > 0 ? n_cat : 0);
    x.cs = cs;
    x.ss = ss;
    float su_max = 0.0f;
    if (n > 0) {
        if (n_cat > 0) memset(cs, 0, (size_t)n_cat * sizeof *cs);
        if (n_sub > 0) memset(ss, 0, (size_t)n_sub * sizeof *ss);
        for (size_t i = 0; i < n; i++) {
            int32_t c = product_cat ? product_cat[hist[i]] : -1,
                    u = product_sub ? product_sub[hist[i]] : -1;
            if (c >= 0 && c < n_cat) cs[c] += 1.0f;
            if (u >= 0 && u < n_sub) ss[u] += 1.0f;
        }
        x.inv = 1.0f / (float)n;
        x.wc = (float)w[PREFREC_BW_CAT];
        x.wcp = (float)w[PREFREC_BW_CATPOP];
        x.wsp = (float)w[PREFREC_BW_SUBPOP];
        for (size_t i = 0; i < n; i++) {
            int32_t u = product_sub ? product_sub[hist[i]] : -1;
            if (u >= 0 && u < n_sub && ss[u] * x.inv > su_max) su_max = ss[u] * x.inv;
        }
    }

    /* 1. the history's neighbours, scored exactly */
    for (int list = 0; list < 2; list++) {
        const int32_t *nbr = list ? b->knn_nbr : b->ease_nbr;
        const int32_t *row_of = list ? b->knn_row : b->ease_row;
        if (w[list ? PREFREC_BW_KNN : PREFREC_BW_EASE] == 0) continue;
        for (size_t i = 0; i < n; i++) {
            const int32_t *nb = prefrec_blend_nbr(nbr, row_of, b->m, hist[i]);
            for (int32_t r = 0; r < b->m; r++)
                if (nb[r] >= 0) visit(&x, nb[r]);
        }
    }
    /* 2. each category of the history, while ub + its category bonus can still enter */
    for (int32_t c = 0; n > 0 && c < n_cat && c < ix->n_cat; c++) {
        if (!(cs[c] > 0.0f)) continue;
        float sc_c = cs[c] * x.inv;
        double bonus = (double)x.wc * sc_c, per_all = (double)x.wcp * sc_c + (double)x.wsp * su_max;
        for (int32_t j = ix->cat_start[c]; j < ix->cat_start[c + 1]; j++) {
            int32_t p = ix->cat_order[j];
            if (!may_enter(&x, (double)ix->ub[p] + bonus + per_all * ix->cat_tail_all[j])) break;
            visit(&x, p);
        }
    }
    /* 3. everything else, while its history-free bound can still enter */
    for (int32_t j = 0; j < P; j++) {
        int32_t p = ix->order[j];
        if (!may_enter(&x, (double)ix->ub[p])) break;
        visit(&x, p);
    }
    if (n_scored) *n_scored = x.scored;
    return prefrec_topk_heap_finish(&x.heap);
}
