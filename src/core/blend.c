/* blend.c - serving the default ranker from pruned neighbour lists (see blend.h).
 * Sums run in a fixed order (history order, then neighbour order), so native and wasm builds
 * produce the same floats. */
#include "prefrec/blend.h"
#include "pack_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const prefrec_blend_weight_names[PREFREC_BW_COUNT] = {
    "ease", "knn", "pop", "trend", "cat", "catpop", "subpop"};

static double member_num(const cJSON *o, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : def;
}

static prefrec_status get(const prefrec_pack *pack, const char *name, uint32_t dt, uint32_t nd,
                          uint32_t a, uint32_t b, const void **out, prefrec_error *err) {
    uint32_t want[2] = {a, b};
    const prefrec_tensor *t;
    prefrec_status s = prefrec_pack_get(pack, name, dt, nd, want, &t, err);
    if (!s) *out = t->data;
    return s;
}

/* A list's weights: read a row at a time where the pack stores them so (no float copy of the
 * whole table at load: prefrec_blend_w_row), else as f32 values (stored, or decoded whole). */
static prefrec_status get_w(const prefrec_pack *pack, const char *name, uint32_t P, uint32_t M,
                            const float **w, const prefrec_tensor **wt, prefrec_error *err) {
    const prefrec_tensor *t = prefrec_pack_find(pack, name);
    uint32_t want[2] = {P, M};
    if (t && M <= PREFREC_BLEND_ROW_MAX && prefrec_pack_by_rows(pack, t))
        return prefrec_pack_get(pack, name, t->dtype, 2, want, wt, err); /* checked, not decoded */
    return get(pack, name, PREFREC_DT_F32, 2, P, M, (const void **)w, err);
}

/* The segment popularity: kept as stored where the pack has it as counts (pc8 / pc16; the
 * shares pop_gl are made at the end of the load) or as f16 values (a version-2 pack): no float
 * table (33 x P) written into fresh memory at load. Else the f32 table. */
static prefrec_status get_pop(const prefrec_pack *pack, uint32_t P, prefrec_blend *b,
                              prefrec_error *err) {
    const prefrec_tensor *t = prefrec_pack_find(pack, "blend.pop.seg");
    uint32_t want[2] = {PREFREC_N_SEGMENTS, P};
    if (t &&
        (prefrec_pack_pc_table(pack, t) ||
         (t->dtype == PREFREC_DT_F16 && prefrec_pack_by_rows(pack, t))))
        return prefrec_pack_get(pack, "blend.pop.seg", t->dtype, 2, want, &b->pop_t, err);
    return get(pack, "blend.pop.seg", PREFREC_DT_F32, 2, PREFREC_N_SEGMENTS, P,
               (const void **)&b->pop_seg, err);
}

const float *prefrec_blend_pop_row(const prefrec_blend *b, int s, float *tmp) {
    if (b->pop_seg) return b->pop_seg + (size_t)s * (size_t)b->n_products;
    if (b->pop_t->dtype == PREFREC_DT_F16) {
        prefrec_pack_row_f32(b->pop_t, (uint64_t)s, 1, tmp);
        return tmp;
    }
    prefrec_pc_row(b->pop_t->dtype, (const unsigned char *)b->pop_t->data, PREFREC_N_SEGMENTS,
                   (uint64_t)b->n_products, b->pop_gl, (uint64_t)s, tmp);
    return tmp;
}

void prefrec_blend_free(prefrec_blend *b) {
    if (!b) return;
    free(b->pop_gl);
    b->pop_gl = NULL;
}

prefrec_status prefrec_blend_load(const prefrec_pack *pack, int32_t n_products, prefrec_blend *b,
                                  prefrec_error *err) {
    memset(b, 0, sizeof *b);
    const cJSON *man = (const cJSON *)prefrec_pack_manifest(pack);
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(man, "blend");
    if (!cJSON_IsObject(bl))
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "pack has no blend ranker");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(bl, "w");
    if (!cJSON_IsObject(w))
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: manifest blend.w is not an object");
    uint32_t P = (uint32_t)n_products;
    const prefrec_tensor *t = prefrec_pack_find(pack, "blend.ease.nbr");
    if (!t || t->ndim != 2)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: blend.ease.nbr missing or not 2-d");
    uint32_t M = t->shape[1];
    if (M == 0 || M > 4096)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: blend has %u neighbours per product",
                                 M);
    prefrec_status s;
    if ((s = get(pack, "blend.ease.nbr", PREFREC_DT_I32, 2, P, M, (const void **)&b->ease_nbr,
                 err)) ||
        (s = get_w(pack, "blend.ease.w", P, M, &b->ease_w, &b->ease_wt, err)) ||
        (s = get(pack, "blend.knn.nbr", PREFREC_DT_I32, 2, P, M, (const void **)&b->knn_nbr,
                 err)) ||
        (s = get_w(pack, "blend.knn.w", P, M, &b->knn_w, &b->knn_wt, err)) ||
        (s = get_pop(pack, P, b, err)) ||
        (s = get(pack, "blend.trend", PREFREC_DT_F32, 1, P, 0, (const void **)&b->trend, err)) ||
        (s = get(pack, "blend.pop.all", PREFREC_DT_F32, 1, P, 0, (const void **)&b->pop_all, err)))
        return s;
    /* every neighbour index must be a product or -1: checked once here, trusted when serving */
    for (size_t i = 0; i < (size_t)P * M; i++) {
        if (b->ease_nbr[i] < -1 || b->ease_nbr[i] >= n_products || b->knn_nbr[i] < -1 ||
            b->knn_nbr[i] >= n_products)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: blend neighbour %zu of %zu out of range", i,
                                     (size_t)P * M);
    }
    b->n_products = n_products;
    b->m = (int32_t)M;
    for (int k = 0; k < PREFREC_BW_COUNT; k++)
        b->w[k] = member_num(w, prefrec_blend_weight_names[k], 0);
    b->tiebreak = member_num(bl, "tiebreak", 1e-6);
    if (b->pop_t && b->pop_t->dtype != PREFREC_DT_F16) { /* last: nothing to free above */
        b->pop_gl = malloc((size_t)P * sizeof *b->pop_gl + 1);
        if (!b->pop_gl) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
        prefrec_pc_shares(b->pop_t->dtype, (const unsigned char *)b->pop_t->data,
                          PREFREC_N_SEGMENTS, P, b->pop_gl);
    }
    return PREFREC_OK;
}

/* acc[p] = sum over h in hist of w(h -> p); returns w / max(acc) (0 when max <= 0 or the weight
 * is 0). acc is left unscaled. */
static float neighbour_sum(const int32_t *nbr, const float *w, const prefrec_tensor *wt, int32_t m,
                           const int32_t *hist, size_t n, int32_t P, double weight, float *acc) {
    memset(acc, 0, (size_t)P * sizeof *acc);
    if (weight == 0) return 0.0f;
    float tmp[PREFREC_BLEND_ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const int32_t *nb = nbr + (size_t)hist[i] * m;
        const float *ww = prefrec_blend_w_row(w, wt, m, hist[i], tmp);
        for (int32_t r = 0; r < m; r++)
            if (nb[r] >= 0) acc[nb[r]] += ww[r];
    }
    float mx = 0.0f;
    for (int32_t p = 0; p < P; p++)
        if (acc[p] > mx) mx = acc[p];
    return mx > 0.0f ? (float)(weight / mx) : 0.0f;
}

static float max_of(const float *a, int32_t n) {
    float mx = 0.0f;
    for (int32_t p = 0; p < n; p++)
        if (a[p] > mx) mx = a[p];
    return mx;
}

void prefrec_blend_score(const prefrec_blend *b, const int32_t *hist, size_t n, int seg,
                         const int32_t *product_cat, int32_t n_cat, const int32_t *product_sub,
                         int32_t n_sub, float *share_scratch, float *tmp,
                         prefrec_blend_parts *parts, float *out) {
    int32_t P = b->n_products;
    const double *w = b->w;
    parts->f_ease = neighbour_sum(b->ease_nbr, b->ease_w, b->ease_wt, b->m, hist, n, P,
                                  w[PREFREC_BW_EASE], parts->i2i);
    for (int32_t p = 0; p < P; p++) parts->i2i[p] *= parts->f_ease;
    parts->f_knn =
        neighbour_sum(b->knn_nbr, b->knn_w, b->knn_wt, b->m, hist, n, P, w[PREFREC_BW_KNN], tmp);
    for (int32_t p = 0; p < P; p++) parts->i2i[p] += parts->f_knn * tmp[p];

    /* popularity: the segment's row and the trend, each scaled to max 1 */
    /* (tmp is free again: the kNN sums are in i2i) */
    const float *row =
        prefrec_blend_pop_row(b, seg >= 0 && seg < PREFREC_N_SEGMENTS ? seg : 0, tmp);
    float ms = max_of(row, P), mt = max_of(b->trend, P);
    float fs = w[PREFREC_BW_POP] != 0 && ms > 0.0f ? (float)(w[PREFREC_BW_POP] / ms) : 0.0f;
    float ft = w[PREFREC_BW_TREND] != 0 && mt > 0.0f ? (float)(w[PREFREC_BW_TREND] / mt) : 0.0f;
    for (int32_t p = 0; p < P; p++) parts->pop[p] = fs * row[p] + ft * b->trend[p];

    /* category preference: shares of the history's products per top and mid category */
    memset(parts->cat, 0, (size_t)P * sizeof *parts->cat);
    if (n > 0) {
        float *cs = share_scratch, *ss = share_scratch + (n_cat > 0 ? n_cat : 0);
        if (n_cat > 0) memset(cs, 0, (size_t)n_cat * sizeof *cs);
        if (n_sub > 0) memset(ss, 0, (size_t)n_sub * sizeof *ss);
        for (size_t i = 0; i < n; i++) {
            int32_t c = product_cat ? product_cat[hist[i]] : -1,
                    u = product_sub ? product_sub[hist[i]] : -1;
            if (c >= 0 && c < n_cat) cs[c] += 1.0f;
            if (u >= 0 && u < n_sub) ss[u] += 1.0f;
        }
        float inv = 1.0f / (float)n;
        float wc = (float)w[PREFREC_BW_CAT], wcp = (float)w[PREFREC_BW_CATPOP],
              wsp = (float)w[PREFREC_BW_SUBPOP];
        for (int32_t p = 0; p < P; p++) {
            int32_t c = product_cat ? product_cat[p] : -1, u = product_sub ? product_sub[p] : -1;
            float sc = c >= 0 && c < n_cat ? cs[c] * inv : 0.0f;
            float su = u >= 0 && u < n_sub ? ss[u] * inv : 0.0f;
            parts->cat[p] = wc * sc + wcp * sc * b->pop_all[p] + wsp * su * b->pop_all[p];
        }
    }
    float t = (float)b->tiebreak;
    for (int32_t p = 0; p < P; p++)
        out[p] = parts->i2i[p] + parts->pop[p] + parts->cat[p] + t * b->pop_all[p];
}

void prefrec_blend_best_sources(const prefrec_blend *b, const int32_t *hist, size_t n,
                                const prefrec_blend_parts *parts, const int32_t *products, size_t k,
                                int32_t *pos, float *best_w, int32_t *src, float *knn_sum,
                                uint8_t *in_ease) {
    /* pos maps a product to its place in products[] (-1 elsewhere); one pass over the
     * history's neighbour lists then finds every item's strongest source at once. Per history
     * product, three passes over its two lists (3 M steps, whatever the pack's M and however
     * often a list repeats a product): first the kNN weights summed per wanted target, then
     * each EASE entry with the kNN sum of its target, then the kNN entries whose target has no
     * EASE entry. A target listed once in each list (as exports write them) gets the same
     * float as the nested scan this replaces: f_ease w_e + (0 + f_knn w_k). */
    for (size_t i = 0; i < k; i++) {
        pos[products[i]] = (int32_t)i;
        best_w[i] = 0.0f;
        src[i] = -1;
    }
    float te[PREFREC_BLEND_ROW_MAX], tk[PREFREC_BLEND_ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const int32_t *ne = b->ease_nbr + (size_t)hist[i] * b->m;
        const int32_t *nk = b->knn_nbr + (size_t)hist[i] * b->m;
        const float *we = prefrec_blend_w_row(b->ease_w, b->ease_wt, b->m, hist[i], te);
        const float *wk = prefrec_blend_w_row(b->knn_w, b->knn_wt, b->m, hist[i], tk);
        for (size_t j = 0; j < k; j++) {
            knn_sum[j] = 0.0f;
            in_ease[j] = 0;
        }
        for (int32_t q = 0; q < b->m; q++) {
            int32_t t = nk[q];
            if (t >= 0 && pos[t] >= 0) knn_sum[pos[t]] += parts->f_knn * wk[q];
        }
        /* the contribution of h to each target: its EASE entry plus its kNN entries */
        for (int32_t r = 0; r < b->m; r++) {
            int32_t t = ne[r];
            if (t < 0 || pos[t] < 0) continue;
            int32_t j = pos[t];
            in_ease[j] = 1;
            float w = parts->f_ease * we[r];
            w += knn_sum[j]; /* a statement of its own: never contracted into an FMA */
            if (w > best_w[j]) best_w[j] = w, src[j] = hist[i];
        }
        for (int32_t q = 0; q < b->m; q++) {
            int32_t t = nk[q];
            if (t < 0 || pos[t] < 0 || in_ease[pos[t]]) continue; /* counted with its EASE entry */
            float w = parts->f_knn * wk[q];
            if (w > best_w[pos[t]]) best_w[pos[t]] = w, src[pos[t]] = hist[i];
        }
    }
    for (size_t i = 0; i < k; i++) pos[products[i]] = -1;
}
