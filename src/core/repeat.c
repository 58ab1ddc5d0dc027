/* repeat.c - the "buy again" score of a member's past products (prefrec/repeat.h).
 *
 * Every step is an IEEE basic operation in float (or sqrtf), evaluated in a fixed order, so the
 * three builds agree bit for bit; no libm transcendental is used. */
#include <math.h>

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
