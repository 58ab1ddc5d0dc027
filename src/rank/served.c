/* served.c - the default ranker's served form: its fitted parts as the plain arrays a pack
 * carries, and the ranker "blend_served" that scores through the portable scorer (prefrec/blend.h)
 * exactly as the engine does (see prefrec/native/blend_export.h). */
#include "prefrec/native/blend_export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/blend.h"
#include "prefrec/pack.h"
#include "rank_dist.h"
#include "rank_util.h"

void prefrec_blend_tensors_free(prefrec_blend_tensors *t) {
    if (!t) return;
    free(t->ease_nbr);
    free(t->knn_nbr);
    free(t->ease_w);
    free(t->knn_w);
    free(t->pop_seg);
    free(t->trend);
    free(t->pop_all);
    free(t->pop_code);
    memset(t, 0, sizeof *t);
}

/* Map neighbour lists from dataset to pack indices, dropping targets outside the pack. */
static void remap(const int32_t *nbr_d, const float *w_d, int32_t NP, int32_t m,
                  const int32_t *pmap, int32_t *nbr, float *w) {
    for (int32_t g = 0; g < NP; g++) {
        int32_t p = pmap ? pmap[g] : g;
        if (p < 0) continue;
        int32_t k = 0;
        for (int32_t r = 0; r < m; r++) {
            int32_t t = nbr_d[(size_t)g * m + r];
            int32_t tp = t < 0 ? -1 : pmap ? pmap[t] : t;
            if (tp < 0) continue;
            nbr[(size_t)p * m + k] = tp;
            w[(size_t)p * m + k++] = w_d[(size_t)g * m + r];
        }
    }
}

/* 1 if customer c bought product t in the window (c's products are ascending). */
static int bought(const prefrec_interactions *x, int32_t c, int32_t t) {
    int64_t lo = x->row_start[c], hi = x->row_start[c + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (x->product[mid] == t) return 1;
        if (x->product[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* min_group, neighbour pairs: entries h -> t bought together by fewer customers become -1.
 * Co-buyers are counted over h's buyers, each looked up in their own history (binary search):
 * work m x (pairs in the window) x log(history), whatever the popularity of the targets.
 * Sharded (x->dist): each rank counts its own buyers (up to min_group: a sum over the ranks of
 * counts capped so reaches min_group exactly when the whole count does) and the counts are
 * summed over the ranks, so every rank drops the same entries. */
static prefrec_status drop_small_pairs(const prefrec_interactions *x, const int32_t *pmap,
                                       int32_t m, int32_t min_group, int32_t *nbr_d,
                                       prefrec_blend_tensors *out) {
    size_t nm = (size_t)x->n_products * (size_t)m;
    int64_t *co = calloc(nm + 1, sizeof *co);
    if (!co) return PREFREC_E_NOMEM;
    for (int32_t g = 0; g < x->n_products; g++) {
        if (pmap && pmap[g] < 0) continue;
        int32_t *row = nbr_d + (size_t)g * m;
        int64_t *cr = co + (size_t)g * m;
        int any = 0;
        for (int32_t r = 0; r < m; r++) {
            if (row[r] >= 0 && pmap && pmap[row[r]] < 0) row[r] = -1; /* not served anyway */
            any |= row[r] >= 0;
        }
        if (!any) continue;
        for (int64_t a = x->col_start[g]; a < x->col_start[g + 1]; a++)
            for (int32_t r = 0; r < m; r++)
                if (row[r] >= 0 && cr[r] < min_group)
                    cr[r] += bought(x, x->col_customer[a], row[r]);
    }
    if (rank_dist_sum(x, co, nm)) {
        free(co);
        return PREFREC_E_IO;
    }
    for (int32_t g = 0; g < x->n_products; g++) {
        if (pmap && pmap[g] < 0) continue;
        int32_t *row = nbr_d + (size_t)g * m;
        for (int32_t r = 0; r < m; r++) {
            if (row[r] < 0) continue;
            if (co[(size_t)g * m + r] < min_group) {
                row[r] = -1;
                out->pairs_dropped++;
            } else {
                out->pairs_kept++;
            }
        }
    }
    free(co);
    return PREFREC_OK;
}

/* min_group, segments: which rows are served as the overall row (see blend_export.h). */
static prefrec_status small_segments(const prefrec_dataset *ds, const prefrec_interactions *x,
                                     int32_t min_group, uint8_t suppress[PREFREC_N_SEGMENTS],
                                     prefrec_blend_tensors *out) {
    int64_t n[PREFREC_N_SEGMENTS] = {0}, total = 0;
    for (int32_t c = 0; c < x->n_customers; c++)
        if (x->row_start[c + 1] > x->row_start[c]) n[rank_segment(ds, c)]++;
    if (rank_dist_sum(x, n, PREFREC_N_SEGMENTS)) return PREFREC_E_IO; /* sharded: every rank's */
    for (int s = 0; s < PREFREC_N_SEGMENTS; s++) {
        suppress[s] = n[s] > 0 && n[s] < min_group;
        out->seg_nonempty += n[s] > 0;
        total += suppress[s] ? n[s] : 0;
    }
    /* complementary suppression: the overall row minus the served ones is the suppressed ones'
     * sum, so it must rest on min_group members too (or on none) */
    while (total > 0 && total < min_group) {
        int best = -1;
        for (int s = 0; s < PREFREC_N_SEGMENTS; s++)
            if (n[s] > 0 && !suppress[s] && (best < 0 || n[s] < n[best])) best = s;
        if (best < 0) break; /* every segment: fewer than min_group members in the window */
        suppress[best] = 1;
        total += n[best];
    }
    for (int s = 0; s < PREFREC_N_SEGMENTS; s++) out->seg_suppressed += suppress[s];
    return PREFREC_OK;
}

/* Each neighbour row in ascending product order, -1 padding last. Every sum over a row adds
 * each target once (a row lists a product at most once), so no score changes; ascending rows
 * compress better in a pack (gzip sees small steps). Insertion sort: rows are short. */
static void sort_rows(int32_t *nbr, float *w, int32_t P, int32_t m) {
    for (int32_t p = 0; p < P; p++) {
        int32_t *nb = nbr + (size_t)p * m;
        float *ww = w + (size_t)p * m;
        for (int32_t i = 1; i < m; i++) {
            int32_t t = nb[i];
            float tw = ww[i];
            int32_t j = i;
            for (; j > 0 && (uint32_t)nb[j - 1] > (uint32_t)t; j--) { /* -1 sorts last */
                nb[j] = nb[j - 1];
                ww[j] = ww[j - 1];
            }
            nb[j] = t;
            ww[j] = tw;
        }
    }
}

/* blend.pop.seg as its counts (prefrec/pack.h, pc16 layout): the segment sizes and each
 * segment's buyers per pack product, the suppressed segments folded into the last row, exactly
 * as rank_pop.c counts them. Kept only when it decodes to out->pop_seg's bits (else
 * out->pop_code stays NULL: the pack stores the floats). */
static prefrec_status pop_counts(const prefrec_dataset *ds, const prefrec_interactions *x,
                                 const int32_t *pmap, int32_t P, double prior,
                                 const uint8_t *suppress, prefrec_blend_tensors *out) {
    enum { S = PREFREC_N_SEGMENTS };
    int64_t size[S + 1] = {0};
    uint64_t n = (uint64_t)(S + 1) * (uint64_t)P;
    int64_t *cnt = calloc((size_t)n + 1, sizeof *cnt);
    size_t nb = 8 + 4 * (size_t)(S + 1) + 2 * (size_t)n;
    unsigned char *b = malloc(nb);
    float *dec = malloc((size_t)S * (size_t)P * sizeof *dec + 1);
    if (!cnt || !b || !dec) {
        free(cnt), free(b), free(dec);
        return PREFREC_E_NOMEM;
    }
    int ok = 1;
    for (int32_t c = 0; ok && c < x->n_customers; c++) {
        int64_t a = x->row_start[c], e = x->row_start[c + 1];
        if (a == e) continue;
        int s = rank_segment(ds, c);
        if (suppress[s]) s = S;
        size[s]++;
        for (int64_t i = a; i < e; i++) {
            int32_t p = pmap ? pmap[x->product[i]] : x->product[i];
            if (p >= 0) cnt[(size_t)s * P + p]++;
        }
    }
    /* sharded (docs/mpi.md): every rank's customers, summed; the same on every rank after */
    if (rank_dist_sum(x, size, S + 1) || rank_dist_sum(x, cnt, (size_t)n)) {
        free(cnt), free(b), free(dec);
        return PREFREC_E_IO;
    }
    for (int s = 0; s <= S; s++) ok = ok && size[s] < 0x80000000;
    for (uint64_t k = 0; ok && k < n; k++) ok = cnt[k] <= 0xFFFF;
    if (ok) {
        uint64_t bits;
        memcpy(&bits, &prior, sizeof bits);
        for (int k = 0; k < 8; k++) b[k] = (unsigned char)(bits >> (8 * k));
        for (int s = 0; s <= S; s++) {
            uint32_t v = s < S && suppress[s] ? 0x80000000u : (uint32_t)size[s];
            for (int k = 0; k < 4; k++) b[8 + 4 * s + k] = (unsigned char)(v >> (8 * k));
        }
        unsigned char *lo = b + 8 + 4 * (S + 1), *hi = lo + n;
        for (uint64_t k = 0; k < n; k++) {
            lo[k] = (unsigned char)cnt[k];
            hi[k] = (unsigned char)(cnt[k] >> 8);
        }
        uint64_t at = 0;
        int bad = prefrec_pc_decode(PREFREC_DT_PC16, b, S, (uint64_t)P, dec, &at);
        if (bad == 4) {
            free(cnt), free(b), free(dec);
            return PREFREC_E_NOMEM;
        }
        ok = !bad && !memcmp(dec, out->pop_seg, (size_t)S * (size_t)P * sizeof *dec);
    }
    free(cnt);
    free(dec);
    if (!ok) {
        free(b);
        return PREFREC_OK;
    }
    out->pop_code = b;
    out->pop_code_bytes = nb;
    return PREFREC_OK;
}

prefrec_status prefrec_blend_tensors_build(const void *blend_model, const prefrec_dataset *ds,
                                           const prefrec_interactions *x, const int32_t *pmap,
                                           int32_t n_products, int32_t m, int32_t min_group,
                                           prefrec_blend_tensors *out, prefrec_error *err) {
    memset(out, 0, sizeof *out);
    prefrec_blend_fitted f;
    prefrec_blend_fitted_parts(blend_model, &f);
    int32_t NP = x->n_products, P = n_products;
    size_t pm = (size_t)P * (size_t)m, nm = (size_t)NP * (size_t)m;
    out->n_products = P;
    out->m = m;
    out->min_group = min_group > 1 ? min_group : 0;
    out->ease_nbr = malloc(pm * sizeof(int32_t) + 1);
    out->knn_nbr = malloc(pm * sizeof(int32_t) + 1);
    out->ease_w = calloc(pm + 1, sizeof(float));
    out->knn_w = calloc(pm + 1, sizeof(float));
    out->pop_seg = calloc((size_t)PREFREC_N_SEGMENTS * (size_t)P + 1, sizeof(float));
    out->trend = calloc((size_t)P + 1, sizeof(float));
    out->pop_all = calloc((size_t)P + 1, sizeof(float));
    int32_t *nbr_d = malloc(nm * sizeof(int32_t) + 1);
    float *w_d = malloc(nm * sizeof(float) + 1);
    if (!out->ease_nbr || !out->knn_nbr || !out->ease_w || !out->knn_w || !out->pop_seg ||
        !out->trend || !out->pop_all || !nbr_d || !w_d) {
        free(nbr_d);
        free(w_d);
        prefrec_blend_tensors_free(out);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "blend export: out of memory");
    }
    for (size_t i = 0; i < pm; i++) out->ease_nbr[i] = out->knn_nbr[i] = -1;
    prefrec_status s = PREFREC_OK;
    if (f.ease && !(s = prefrec_ease_neighbors(f.ease, m, nbr_d, w_d)) &&
        !(min_group > 1 && (s = drop_small_pairs(x, pmap, m, min_group, nbr_d, out))))
        remap(nbr_d, w_d, NP, m, pmap, out->ease_nbr, out->ease_w);
    if (!s && f.knn && !(s = prefrec_itemknn_neighbors(f.knn, m, nbr_d, w_d)) &&
        !(min_group > 1 && (s = drop_small_pairs(x, pmap, m, min_group, nbr_d, out))))
        remap(nbr_d, w_d, NP, m, pmap, out->knn_nbr, out->knn_w);
    free(nbr_d);
    free(w_d);
    if (s) {
        prefrec_blend_tensors_free(out);
        return prefrec_error_set(err, s, "blend export: out of memory for the neighbour lists");
    }
    int32_t mx = 1;
    for (int32_t g = 0; g < NP; g++)
        if (x->n_buyers[g] > mx) mx = x->n_buyers[g];
    int32_t rows = 0;
    const float *seg = f.pop ? prefrec_pop_table(f.pop, &rows) : NULL;
    const float *trend = f.trend ? prefrec_pop_table(f.trend, &(int32_t){0}) : NULL;
    const float *overall = f.pop ? prefrec_pop_overall(f.pop) : NULL;
    uint8_t suppress[PREFREC_N_SEGMENTS] = {0};
    if (seg && rows > 1 && min_group > 1 && small_segments(ds, x, min_group, suppress, out)) {
        prefrec_blend_tensors_free(out);
        return prefrec_error_set(err, PREFREC_E_IO, "blend export: summing over the ranks failed");
    }
    for (int32_t g = 0; g < NP; g++) {
        int32_t p = pmap ? pmap[g] : g;
        if (p < 0) continue;
        out->pop_all[p] = (float)x->n_buyers[g] / (float)mx;
        if (trend) out->trend[p] = trend[g];
        for (int32_t s = 0; s < PREFREC_N_SEGMENTS && seg; s++)
            out->pop_seg[(size_t)s * P + p] =
                suppress[s] ? overall[g] : seg[(size_t)(rows == 1 ? 0 : s) * NP + g];
    }
    sort_rows(out->ease_nbr, out->ease_w, P, m);
    sort_rows(out->knn_nbr, out->knn_w, P, m);
    int counted = 0;
    double prior = f.pop ? prefrec_pop_prior(f.pop, &counted) : 0;
    if (seg && rows == PREFREC_N_SEGMENTS && counted &&
        (s = pop_counts(ds, x, pmap, P, prior, suppress, out))) {
        prefrec_blend_tensors_free(out);
        return prefrec_error_set(err, s, "blend export: %s",
                                 s == PREFREC_E_NOMEM ? "out of memory"
                                                      : "summing the counts over the ranks failed");
    }
    for (int k = 0; k < 7; k++) out->w[k] = f.w[k];
    return PREFREC_OK;
}

int prefrec_blend_tensors_store(prefrec_blend_tensors *t, const char *plan) {
    uint32_t P = (uint32_t)t->n_products, m = (uint32_t)t->m;
    const struct {
        const char *name;
        float *x;
        uint32_t rows, cols;
    } ts[] = {{"blend.ease.w", t->ease_w, P, m},
              {"blend.knn.w", t->knn_w, P, m},
              {"blend.pop.seg", t->pop_seg, PREFREC_N_SEGMENTS, P},
              {"blend.trend", t->trend, 1, P},
              {"blend.pop.all", t->pop_all, 1, P}};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        int dt = prefrec_quant_plan_dtype(plan, ts[i].name);
        if (dt == PREFREC_STORE_PCN && !(t->pop_code && ts[i].x == t->pop_seg))
            dt = PREFREC_DT_F16; /* what the export stores without the counts */
        if (dt < 0 || prefrec_quant_roundtrip((uint32_t)dt, ts[i].rows, ts[i].cols, ts[i].x))
            return 1;
    }
    return 0;
}

/* ---- the served blend as a ranker, for prefrec eval ---------------------------------------- */
typedef struct served_model {
    const prefrec_dataset *ds;
    const prefrec_interactions *x;
    prefrec_blend_tensors t;
    prefrec_blend b;
} served_model;

static void served_free(void *mv) {
    served_model *m = mv;
    if (!m) return;
    prefrec_blend_tensors_free(&m->t);
    free(m);
}

static prefrec_status served_fit(const prefrec_fit_input *in, const void *params, void **model,
                                 prefrec_error *err) {
    *model = NULL;
    void *bm = NULL;
    prefrec_status s = prefrec_ranker_blend.fit(in, params, &bm, err);
    if (s) return s;
    served_model *m = calloc(1, sizeof *m);
    if (!m) s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (!s)
        s = prefrec_blend_tensors_build(bm, in->ds, in->train, NULL, in->train->n_products,
                                        PREFREC_BLEND_NEIGHBORS, in->min_group, &m->t, err);
    prefrec_ranker_blend.free(bm);
    if (!s && in->storage && prefrec_blend_tensors_store(&m->t, in->storage))
        s = prefrec_error_set(err, PREFREC_E_INVAL, "blend_served: storage plan '%s' failed",
                              in->storage);
    if (s) {
        served_free(m);
        return s;
    }
    m->ds = in->ds;
    m->x = in->train;
    prefrec_blend *b = &m->b;
    b->n_products = m->t.n_products;
    b->m = m->t.m;
    b->ease_nbr = m->t.ease_nbr;
    b->ease_w = m->t.ease_w;
    b->knn_nbr = m->t.knn_nbr;
    b->knn_w = m->t.knn_w;
    b->pop_seg = m->t.pop_seg;
    b->trend = m->t.trend;
    b->pop_all = m->t.pop_all;
    for (int k = 0; k < PREFREC_BW_COUNT; k++) b->w[k] = m->t.w[k];
    b->tiebreak = 1e-6;
    *model = m;
    return PREFREC_OK;
}

static prefrec_status served_score(const void *mv, int32_t c, float *scores) {
    const served_model *m = mv;
    const prefrec_dataset *ds = m->ds;
    const prefrec_interactions *x = m->x;
    int32_t P = x->n_products;
    int32_t nk = ds->has_catalog ? prefrec_dict_size(ds->categories) : 0;
    int32_t ns = ds->has_catalog ? prefrec_dict_size(ds->subcategories) : 0;
    size_t n = (size_t)(x->row_start[c + 1] - x->row_start[c]);
    float *buf = malloc((4 * (size_t)P + (size_t)nk + (size_t)ns + 1) * sizeof *buf);
    if (!buf) return PREFREC_E_NOMEM;
    prefrec_blend_parts parts = {buf, buf + P, buf + 2 * (size_t)P, 0, 0};
    int g = ds->has_demographics && ds->gender ? ds->gender[c] : -1;
    float age = ds->has_demographics && ds->age ? ds->age[c] : NAN;
    prefrec_blend_score(&m->b, x->product + x->row_start[c], n, prefrec_segment(g, age),
                        ds->has_catalog ? ds->product_category : NULL, nk,
                        ds->has_catalog ? ds->product_subcategory : NULL, ns, buf + 4 * (size_t)P,
                        buf + 3 * (size_t)P, &parts, scores);
    free(buf);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_blend_served = {
    .name = "blend_served",
    .summary = "default for discover: the blend as the packs serve it (neighbour lists pruned to "
               "10 per product)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = served_fit,
    .score = served_score,
    .free = served_free};
