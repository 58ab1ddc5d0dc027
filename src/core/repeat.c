/* repeat.c - the "buy again" score of a member's past products (prefrec/repeat.h).
 *
 * Every step is an IEEE basic operation in float (or sqrtf), evaluated in a fixed order, so the
 * three builds agree bit for bit; no libm transcendental is used. */
#include <cjson/cJSON.h>
#include <math.h>

#include "pack_internal.h"
#include "prefrec/pack.h"
#include "prefrec/repeat.h"

prefrec_repeat_params prefrec_repeat_default_params(void) {
    prefrec_repeat_params p = {90.0f, 1.0f, 0.5f, 1.0f};
    return p;
}

prefrec_status prefrec_repeat_params_check(const prefrec_repeat_params *p, prefrec_error *err) {
    if (p && p->half_life_days >= 0.0f && p->half_life_days <= 1e6f && p->w_due >= 0.0f &&
        p->w_due <= 1e6f && (p->beta == 0.0f || p->beta == 0.5f || p->beta == 1.0f) &&
        p->due_width > 0.0f && p->due_width <= 1e6f)
        return PREFREC_OK;
    return prefrec_error_set(err, PREFREC_E_INVAL,
                             "buy again: need 0 <= half_life_days <= 1e6, 0 <= w_due <= 1e6, beta "
                             "0, 0.5 or 1, 0 < due_width <= 1e6");
}

prefrec_status prefrec_repeat_score(const prefrec_repeat_params *p, const float *prior,
                                    int32_t n_products, int32_t asof,
                                    const prefrec_repeat_item *items, size_t n, float *scores,
                                    prefrec_repeat_why *why, prefrec_error *err) {
    if (prefrec_repeat_params_check(p, err)) return PREFREC_E_INVAL;
    if (n && (!items || !scores))
        return prefrec_error_set(err, PREFREC_E_INVAL, "buy again: no items or scores");
    const float h = p->half_life_days;
    for (size_t i = 0; i < n; i++) {
        const prefrec_repeat_item *it = &items[i];
        if (it->product < 0 || it->product >= n_products)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "buy again: item %zu: product %d outside 0..%d", i,
                                     it->product, n_products - 1);
        if (!it->n_days || !it->days)
            return prefrec_error_set(err, PREFREC_E_INVAL, "buy again: item %zu has no days", i);
        for (uint32_t j = 0; j < it->n_days; j++) {
            if (it->days[j] >= asof || (j && it->days[j] <= it->days[j - 1]))
                return prefrec_error_set(err, PREFREC_E_INVAL,
                                         "buy again: item %zu: days must be distinct, ascending "
                                         "and before the day of the request",
                                         i);
        }
        float freq = 0.0f;
        for (uint32_t j = 0; j < it->n_days; j++)
            freq += h > 0.0f ? h / (h + (float)(asof - it->days[j])) : 1.0f;
        int32_t last = it->days[it->n_days - 1], since = asof - last;
        float due = 0.0f, interval = 0.0f;
        if (it->n_days >= 2) {
            interval = (float)(last - it->days[0]) / (float)(it->n_days - 1);
            float r = ((float)since + 1.0f) / (interval + 1.0f);
            float x = (r - 1.0f / r) / p->due_width;
            due = 1.0f / (1.0f + x * x);
        }
        float rt = prior ? prior[it->product] : 1.0f;
        if (!(rt > 0.0f) || rt > 1.0f) rt = 1.0f; /* a pack's priors are checked at load */
        float pw = p->beta == 0.0f ? 1.0f : p->beta == 1.0f ? rt : sqrtf(rt);
        scores[i] = pw * freq * (1.0f + p->w_due * due);
        if (why) {
            why[i].n_days = (int32_t)it->n_days;
            why[i].interval_days = it->n_days >= 2 ? (int32_t)(interval + 0.5f) : 0;
            why[i].since_days = since;
        }
    }
    return PREFREC_OK;
}

double prefrec_mixed_share(double rep, double lines, double share, double shrink) {
    double v =
        shrink >= 0 && lines + shrink > 0 ? (rep + shrink * share) / (lines + shrink) : share;
    return v < 0.001 ? 0.001 : v > 0.999 ? 0.999 : v;
}

double prefrec_mixed_key(int32_t rank, double frac) { return (rank + 0.5) / frac; }

static int num_in(const cJSON *o, const char *key, double lo, double hi, double *v) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi)) return 0;
    *v = it->valuedouble;
    return 1;
}

prefrec_status prefrec_repeat_load(const prefrec_pack *pack, int32_t n_products,
                                   prefrec_repeat_model *m, prefrec_error *err) {
    const cJSON *man = (const cJSON *)prefrec_pack_manifest(pack);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(man, "repeat"),
                *x = cJSON_GetObjectItemCaseSensitive(man, "mixed");
    if (!r) return prefrec_error_set(err, PREFREC_E_NOTFOUND, "pack has no buy-again model");
    double h, w, b, dw;
    if (!cJSON_IsObject(r) || !num_in(r, "half_life_days", 0, 1e6, &h) ||
        !num_in(r, "w_due", 0, 1e6, &w) || !num_in(r, "beta", 0, 1, &b) ||
        !num_in(r, "due_width", 1e-30, 1e6, &dw))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: manifest \"repeat\" needs half_life_days, w_due, beta and "
                                 "due_width in range");
    m->p.half_life_days = (float)h;
    m->p.w_due = (float)w;
    m->p.beta = (float)b;
    m->p.due_width = (float)dw;
    prefrec_status s = prefrec_repeat_params_check(&m->p, err);
    if (s)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: manifest \"repeat\": %s", err->msg);
    if (!cJSON_IsObject(x) || !num_in(x, "share", 0, 1, &m->share) ||
        !num_in(x, "shrink", -1, 1e9, &m->shrink))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: manifest \"mixed\" needs share 0..1 and shrink");
    uint32_t P = (uint32_t)n_products;
    const prefrec_tensor *t;
    if ((s = prefrec_pack_get(pack, "repeat.prior", PREFREC_DT_F32, 1, &P, &t, err))) return s;
    m->prior = t->data;
    for (uint32_t p = 0; p < P; p++)
        if (!(m->prior[p] > 0.0f && m->prior[p] <= 1.0f))
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: repeat.prior[%u] = %g is not in (0, 1]", p,
                                     (double)m->prior[p]);
    return PREFREC_OK;
}
