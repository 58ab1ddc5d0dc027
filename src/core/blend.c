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

/* The segment popularity: kept as stored where the pack has it as counts (pc8 / pc16 / pcx; the
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

const int32_t prefrec_blend_no_nbr[PREFREC_BLEND_ROW_MAX] = {
#define N8 -1, -1, -1, -1, -1, -1, -1, -1
#define N64 N8, N8, N8, N8, N8, N8, N8, N8
    N64, N64, N64, N64
#undef N64
#undef N8
};
const float prefrec_blend_no_w[PREFREC_BLEND_ROW_MAX];

void prefrec_blend_free(prefrec_blend *b) {
    if (!b) return;
    free(b->pop_gl);
    free(b->ease_row);
    free(b->knn_row);
    b->pop_gl = NULL;
    b->ease_row = b->knn_row = NULL;
}

/* A neighbour list (name "blend.ease" or "blend.knn"): dense [P, M], or compact in a version-3
 * pack (its .rows, ascending product indices, and [R, M] rows), *row_of then each product's row
 * (-1: none; the caller frees it). Every neighbour index must be a product or -1: checked once
 * here, trusted when serving. */
static prefrec_status get_list(const prefrec_pack *pack, const char *name, uint32_t P, uint32_t M,
                               const int32_t **nbr, const float **w, const prefrec_tensor **wt,
                               int32_t **row_of, int32_t *n_rows, prefrec_error *err) {
    char rn[32], nn[32], wn[32]; /* (no printf on the load path: docs/engine.md) */
    size_t len = strlen(name);
    memcpy(rn, name, len), memcpy(rn + len, ".rows", 6);
    memcpy(nn, name, len), memcpy(nn + len, ".nbr", 5);
    memcpy(wn, name, len), memcpy(wn + len, ".w", 3);
    const prefrec_tensor *rt = prefrec_pack_find(pack, rn);
    uint32_t R = P;
    const int32_t *rows = NULL;
    if (rt) {
        if (prefrec_pack_version(pack) < 3)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: tensor '%s' in a version-%u pack (compact neighbour "
                                     "lists are version 3)",
                                     rn, prefrec_pack_version(pack));
        if (rt->ndim != 1 || rt->shape[0] > P || M > PREFREC_BLEND_ROW_MAX)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: %s is not 1-d with at most %u rows of at most %d "
                                     "neighbours",
                                     rn, P, PREFREC_BLEND_ROW_MAX);
        R = rt->shape[0];
        prefrec_status s = get(pack, rn, PREFREC_DT_I32, 1, R, 0, (const void **)&rows, err);
        if (s) return s;
        for (uint32_t r = 0; r < R; r++)
            if (rows[r] < (r ? rows[r - 1] + 1 : 0) || rows[r] >= (int32_t)P)
                return prefrec_error_set(err, PREFREC_E_FORMAT,
                                         "pack: %s: row %u is product %d (expected ascending "
                                         "product indices below %u)",
                                         rn, r, rows[r], P);
    }
    prefrec_status s = get(pack, nn, PREFREC_DT_I32, 2, R, M, (const void **)nbr, err);
    if (!s) s = get_w(pack, wn, R, M, w, wt, err);
    if (s) return s;
    for (size_t i = 0; i < (size_t)R * M; i++)
        if ((*nbr)[i] < -1 || (*nbr)[i] >= (int32_t)P)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: %s neighbour %zu of %zu out of range", nn, i,
                                     (size_t)R * M);
    *n_rows = (int32_t)R;
    if (!rows) return PREFREC_OK;
    if (!(*row_of = malloc((size_t)P * sizeof **row_of + 1)))
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    for (uint32_t p = 0; p < P; p++) (*row_of)[p] = -1;
    for (uint32_t r = 0; r < R; r++) (*row_of)[rows[r]] = (int32_t)r;
    return PREFREC_OK;
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
    if ((s = get_list(pack, "blend.ease", P, M, &b->ease_nbr, &b->ease_w, &b->ease_wt, &b->ease_row,
                      &b->ease_rows, err)) ||
        (s = get_list(pack, "blend.knn", P, M, &b->knn_nbr, &b->knn_w, &b->knn_wt, &b->knn_row,
                      &b->knn_rows, err)) ||
        (s = get_pop(pack, P, b, err)) ||
        (s = get(pack, "blend.trend", PREFREC_DT_F32, 1, P, 0, (const void **)&b->trend, err)) ||
        (s = get(pack, "blend.pop.all", PREFREC_DT_F32, 1, P, 0, (const void **)&b->pop_all, err)))
        return s; /* the rows allocated: prefrec_blend_free */
    b->n_products = n_products;
    b->m = (int32_t)M;
    for (int k = 0; k < PREFREC_BW_COUNT; k++)
        b->w[k] = member_num(w, prefrec_blend_weight_names[k], 0);
    b->tiebreak = member_num(bl, "tiebreak", 1e-6);
    if (b->pop_t && b->pop_t->dtype != PREFREC_DT_F16) {
        b->pop_gl = malloc((size_t)P * sizeof *b->pop_gl + 1);
        if (!b->pop_gl) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
        prefrec_pc_shares(b->pop_t->dtype, (const unsigned char *)b->pop_t->data,
                          PREFREC_N_SEGMENTS, P, b->pop_gl);
    }
    return PREFREC_OK;
}

/* acc[p] = sum over h in hist of w(h -> p); returns w / max(acc) (0 when max <= 0 or the weight
 * is 0). acc is left unscaled. */
static float neighbour_sum(const int32_t *nbr, const float *w, const prefrec_tensor *wt,
                           const int32_t *row_of, int32_t m, const int32_t *hist, size_t n,
                           int32_t P, double weight, float *acc) {
    memset(acc, 0, (size_t)P * sizeof *acc);
    if (weight == 0) return 0.0f;
    float tmp[PREFREC_BLEND_ROW_MAX];
    for (size_t i = 0; i < n; i++) {
        const int32_t *nb = prefrec_blend_nbr(nbr, row_of, m, hist[i]);
        const float *ww = prefrec_blend_list_w(w, wt, row_of, m, hist[i], tmp);
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
    parts->f_ease = neighbour_sum(b->ease_nbr, b->ease_w, b->ease_wt, b->ease_row, b->m, hist, n, P,
                                  w[PREFREC_BW_EASE], parts->i2i);
    for (int32_t p = 0; p < P; p++) parts->i2i[p] *= parts->f_ease;
    parts->f_knn = neighbour_sum(b->knn_nbr, b->knn_w, b->knn_wt, b->knn_row, b->m, hist, n, P,
                                 w[PREFREC_BW_KNN], tmp);
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
        const int32_t *ne = prefrec_blend_nbr(b->ease_nbr, b->ease_row, b->m, hist[i]);
        const int32_t *nk = prefrec_blend_nbr(b->knn_nbr, b->knn_row, b->m, hist[i]);
        const float *we =
            prefrec_blend_list_w(b->ease_w, b->ease_wt, b->ease_row, b->m, hist[i], te);
        const float *wk = prefrec_blend_list_w(b->knn_w, b->knn_wt, b->knn_row, b->m, hist[i], tk);
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
