/* rank_blend.c - the default ranker: item-to-item signals blended with segment popularity and
 * the customer's category preference; and the registry of built-in rankers.
 *
 * Why a blend: EASE and ItemKNN find products that go with what the customer bought, but say
 * little for customers with short histories; segment popularity carries those, and the
 * customer's share of purchases per top category (the seed's low_clac idea) lifts products of
 * the categories they shop. Each item-to-item score is divided by the customer's largest one
 * so the weights mean the same for light and heavy buyers. Weights were chosen on a validation
 * window inside the training window (docs/eval.md). */
#include <stdlib.h>
#include <string.h>

#include "prefrec/rankers.h"
#include "rank_util.h"

typedef struct blend_model {
    const prefrec_dataset *ds;
    const prefrec_interactions *x;
    prefrec_blend_params p;
    void *ease, *knn, *pop;
} blend_model;

prefrec_blend_params prefrec_blend_default_params(void) {
    prefrec_blend_params p;
    p.w_ease = 1.0;
    p.w_knn = 0.5;
    p.w_pop = 0.2;
    p.w_cat = 0.1;
    p.ease = prefrec_ease_default_params();
    p.knn = prefrec_itemknn_default_params();
    p.pop = prefrec_pop_default_params();
    p.pop.by_segment = 1;
    return p;
}

static void blend_free(void *mv) {
    blend_model *m = mv;
    if (!m) return;
    prefrec_ranker_ease.free(m->ease);
    prefrec_ranker_itemknn.free(m->knn);
    prefrec_ranker_pop_seg.free(m->pop);
    free(m);
}

static prefrec_status blend_fit(const prefrec_fit_input *in, const void *params, void **model,
                                prefrec_error *err) {
    prefrec_blend_params p = params ? *(const prefrec_blend_params *)params
                                    : prefrec_blend_default_params();
    *model = NULL;
    blend_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
    m->ds = in->ds;
    m->x = in->train;
    m->p = p;
    prefrec_status st = PREFREC_OK;
    if (p.w_ease != 0) st = prefrec_ranker_ease.fit(in, &p.ease, &m->ease, err);
    if (!st && p.w_knn != 0) st = prefrec_ranker_itemknn.fit(in, &p.knn, &m->knn, err);
    if (!st && p.w_pop != 0) st = prefrec_ranker_pop_seg.fit(in, &p.pop, &m->pop, err);
    if (st) {
        blend_free(m);
        return st;
    }
    *model = m;
    return PREFREC_OK;
}

/* Add w * s / max(s) to out (max over all products; nothing when max <= 0). */
static void add_scaled(float *out, const float *s, int32_t n, double w) {
    float mx = 0;
    for (int32_t j = 0; j < n; j++)
        if (s[j] > mx) mx = s[j];
    if (!(mx > 0)) return;
    float f = (float)(w / mx);
    for (int32_t j = 0; j < n; j++) out[j] += f * s[j];
}

static void blend_score(const void *mv, int32_t c, float *scores) {
    const blend_model *m = mv;
    const prefrec_interactions *x = m->x;
    int32_t n = x->n_products;
    memset(scores, 0, (size_t)n * sizeof *scores);
    float *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (tmp) {
        if (m->ease) {
            prefrec_ranker_ease.score(m->ease, c, tmp);
            add_scaled(scores, tmp, n, m->p.w_ease);
        }
        if (m->knn) {
            prefrec_ranker_itemknn.score(m->knn, c, tmp);
            add_scaled(scores, tmp, n, m->p.w_knn);
        }
        if (m->pop) {
            prefrec_ranker_pop_seg.score(m->pop, c, tmp);
            add_scaled(scores, tmp, n, m->p.w_pop);
        }
    }
    free(tmp);
    const prefrec_dataset *ds = m->ds;
    if (m->p.w_cat != 0 && ds && ds->has_catalog && ds->product_category) {
        int32_t nk = prefrec_dict_size(ds->categories);
        float *share = nk > 0 ? calloc((size_t)nk, sizeof *share) : NULL;
        if (share) {
            float tot = 0;
            for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
                int32_t k = ds->product_category[x->product[b]];
                if (k >= 0 && k < nk) share[k] += 1.0f;
                tot += 1.0f;
            }
            if (tot > 0)
                for (int32_t j = 0; j < n; j++) {
                    int32_t k = ds->product_category[j];
                    if (k >= 0 && k < nk) scores[j] += (float)m->p.w_cat * share[k] / tot;
                }
        }
        free(share);
    }
    rank_add_pop_tiebreak(x, scores, 1e-6f);
}

const prefrec_ranker_def prefrec_ranker_blend = {
    "blend", "default: EASE + ItemKNN + segment popularity + category preference",
    PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE, blend_fit, blend_score, blend_free};

/* ---- registry ---------------------------------------------------------------------------- */
const char prefrec_ranker_default_name[] = "blend";

static const prefrec_ranker_def *const builtin[] = {
    &prefrec_ranker_pop,  &prefrec_ranker_pop_seg,  &prefrec_ranker_itemknn,
    &prefrec_ranker_ease, &prefrec_ranker_mf,       &prefrec_ranker_rep_freq,
    &prefrec_ranker_rep_recency, &prefrec_ranker_seed_score, &prefrec_ranker_blend,
};

const prefrec_ranker_def *const *prefrec_rankers_builtin(size_t *n) {
    if (n) *n = sizeof builtin / sizeof builtin[0];
    return builtin;
}

const prefrec_ranker_def *prefrec_ranker_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(builtin[i]->name, name)) return builtin[i];
    return NULL;
}
