/* blend.c - serving the default ranker from pruned neighbour lists (see blend.h).
 * Sums run in a fixed order (history order, then neighbour order), so native and wasm builds
 * produce the same floats. */
#include "blend.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

int prefrec_segment(int gender, float age) {
    int g = gender == 0 ? 1 : gender == 1 ? 2 : 0;
    int band = 10;
    if (!isnan(age) && age >= 0) band = age >= 90 ? 9 : (int)(age / 10.0f);
    return g * 11 + band;
}

static double member_num(const cJSON *o, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : def;
}

prefrec_status prefrec_blend_load(const prefrec_pack *pack, int32_t n_products, prefrec_blend *b,
                                  prefrec_error *err) {
    memset(b, 0, sizeof *b);
    const cJSON *man = (const cJSON *)prefrec_pack_manifest(pack);
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(man, "blend");
    if (!cJSON_IsObject(bl))
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "pack has no blend ranker");
    const prefrec_tensor *t;
    uint32_t P = (uint32_t)n_products;
    uint32_t want[2] = {P, 0};
    prefrec_status s = prefrec_pack_get(pack, "blend.ease.nbr", PREFREC_DT_I32, 2, want, &t, err);
    if (s) return s;
    uint32_t M = t->shape[1];
    want[1] = M;
    b->ease_nbr = t->data;
    if ((s = prefrec_pack_get(pack, "blend.ease.w", PREFREC_DT_F32, 2, want, &t, err))) return s;
    b->ease_w = t->data;
    if ((s = prefrec_pack_get(pack, "blend.knn.nbr", PREFREC_DT_I32, 2, want, &t, err))) return s;
    b->knn_nbr = t->data;
    if ((s = prefrec_pack_get(pack, "blend.knn.w", PREFREC_DT_F32, 2, want, &t, err))) return s;
    b->knn_w = t->data;
    uint32_t wseg[2] = {PREFREC_N_SEGMENTS, P};
    if ((s = prefrec_pack_get(pack, "blend.pop.seg", PREFREC_DT_F32, 2, wseg, &t, err))) return s;
    b->pop_seg = t->data;
    if ((s = prefrec_pack_get(pack, "blend.pop.all", PREFREC_DT_F32, 1, &P, &t, err))) return s;
    b->pop_all = t->data;
    /* every neighbour index must be a product or -1: checked once here, trusted when serving */
    for (size_t i = 0; i < (size_t)P * M; i++) {
        if (b->ease_nbr[i] < -1 || b->ease_nbr[i] >= n_products || b->knn_nbr[i] < -1 ||
            b->knn_nbr[i] >= n_products)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: blend neighbour %zu of %u out of range", i, P * M);
    }
    b->n_products = n_products;
    b->m = (int32_t)M;
    b->w_ease = member_num(bl, "w_ease", 0);
    b->w_knn = member_num(bl, "w_knn", 0);
    b->w_pop = member_num(bl, "w_pop", 0);
    b->w_cat = member_num(bl, "w_cat", 0);
    b->tiebreak = member_num(bl, "tiebreak", 1e-6);
    return PREFREC_OK;
}

/* acc[p] = sum over h in hist of w(h -> p); returns the factor w / max(acc) (0 if max <= 0) and
 * scales acc by it. */
static float neighbour_sum(const int32_t *nbr, const float *w, int32_t m, const int32_t *hist,
                           size_t n, int32_t P, double weight, float *acc) {
    memset(acc, 0, (size_t)P * sizeof *acc);
    if (weight == 0) return 0.0f;
    for (size_t i = 0; i < n; i++) {
        const int32_t *nb = nbr + (size_t)hist[i] * m;
        const float *ww = w + (size_t)hist[i] * m;
        for (int32_t r = 0; r < m; r++)
            if (nb[r] >= 0) acc[nb[r]] += ww[r];
    }
    float mx = 0.0f;
    for (int32_t p = 0; p < P; p++)
        if (acc[p] > mx) mx = acc[p];
    if (!(mx > 0.0f)) {
        memset(acc, 0, (size_t)P * sizeof *acc);
        return 0.0f;
    }
    float f = (float)(weight / mx);
    for (int32_t p = 0; p < P; p++) acc[p] *= f;
    return f;
}

void prefrec_blend_score(const prefrec_blend *b, const int32_t *hist, size_t n, int seg,
                         const int32_t *product_cat, int32_t n_cat, float *cat_scratch,
                         prefrec_blend_parts *parts, float *out) {
    int32_t P = b->n_products;
    parts->f_ease = neighbour_sum(b->ease_nbr, b->ease_w, b->m, hist, n, P, b->w_ease, parts->ease);
    parts->f_knn = neighbour_sum(b->knn_nbr, b->knn_w, b->m, hist, n, P, b->w_knn, parts->knn);

    /* segment popularity */
    const float *row = b->pop_seg + (size_t)(seg >= 0 && seg < PREFREC_N_SEGMENTS ? seg : 0) * P;
    float mx = 0.0f;
    for (int32_t p = 0; p < P; p++)
        if (row[p] > mx) mx = row[p];
    float fp = b->w_pop != 0 && mx > 0.0f ? (float)(b->w_pop / mx) : 0.0f;
    for (int32_t p = 0; p < P; p++) parts->pop[p] = fp * row[p];

    /* category preference: share of the history's products in each top category */
    memset(parts->cat, 0, (size_t)P * sizeof *parts->cat);
    if (b->w_cat != 0 && n > 0 && product_cat && n_cat > 0) {
        memset(cat_scratch, 0, (size_t)n_cat * sizeof *cat_scratch);
        for (size_t i = 0; i < n; i++) {
            int32_t c = product_cat[hist[i]];
            if (c >= 0 && c < n_cat) cat_scratch[c] += 1.0f;
        }
        float f = (float)b->w_cat / (float)n;
        for (int32_t p = 0; p < P; p++) {
            int32_t c = product_cat[p];
            if (c >= 0 && c < n_cat) parts->cat[p] = f * cat_scratch[c];
        }
    }
    float t = (float)b->tiebreak;
    for (int32_t p = 0; p < P; p++)
        out[p] = parts->ease[p] + parts->knn[p] + parts->pop[p] + parts->cat[p] + t * b->pop_all[p];
}

void prefrec_blend_best_sources(const prefrec_blend *b, const int32_t *hist, size_t n,
                                const prefrec_blend_parts *parts, const int32_t *products,
                                size_t k, int32_t *pos, float *best_w, int32_t *src) {
    /* pos maps a product to its place in products[] (-1 elsewhere); one pass over the
     * history's neighbour lists then finds every item's strongest source at once */
    for (size_t i = 0; i < k; i++) {
        pos[products[i]] = (int32_t)i;
        best_w[i] = 0.0f;
        src[i] = -1;
    }
    for (size_t i = 0; i < n; i++) {
        const int32_t *ne = b->ease_nbr + (size_t)hist[i] * b->m;
        const int32_t *nk = b->knn_nbr + (size_t)hist[i] * b->m;
        const float *we = b->ease_w + (size_t)hist[i] * b->m;
        const float *wk = b->knn_w + (size_t)hist[i] * b->m;
        /* the contribution of h to each target: sum of its EASE and kNN entries */
        for (int32_t r = 0; r < b->m; r++) {
            int32_t t = ne[r];
            if (t < 0 || pos[t] < 0) continue;
            float w = parts->f_ease * we[r];
            for (int32_t q = 0; q < b->m; q++)
                if (nk[q] == t) w += parts->f_knn * wk[q];
            if (w > best_w[pos[t]]) best_w[pos[t]] = w, src[pos[t]] = hist[i];
        }
        for (int32_t q = 0; q < b->m; q++) {
            int32_t t = nk[q];
            if (t < 0 || pos[t] < 0) continue;
            int in_ease = 0;
            for (int32_t r = 0; r < b->m && !in_ease; r++) in_ease = ne[r] == t;
            if (in_ease) continue; /* counted with its EASE entry above */
            float w = parts->f_knn * wk[q];
            if (w > best_w[pos[t]]) best_w[pos[t]] = w, src[pos[t]] = hist[i];
        }
    }
    for (size_t i = 0; i < k; i++) pos[products[i]] = -1;
}
