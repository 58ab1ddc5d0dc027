/* engine.c - one affiliate's recommender over a pack (see prefrec/engine.h). */
#include "prefrec/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/blend.h"
#include "prefrec/date.h"
#include "prefrec/demog.h"
#include "prefrec/member.h"
#include "prefrec/repeat.h"
#include "utf8.h"
#include "prefrec/model.h"
#include "prefrec/sample.h"
#include "prefrec/topk.h"

/* Building an engine runs once per pack: compiled for size where clang builds it (the wasm
 * modules; see LOAD_SIDE in model.c), request paths as the build says. */
#if defined(__clang__)
#define LOAD_SIDE __attribute__((cold, minsize))
#else
#define LOAD_SIDE __attribute__((cold))
#endif

struct prefrec_engine {
    const prefrec_pack *items;
    prefrec_model *model; /* catalog + the deck's score model */
    prefrec_customers *customers; /* NULL without a customer side */
    int has_blend;
    prefrec_blend blend;
    prefrec_blend_index bix; /* the blend's top without the whole catalogue (bix.ok) */
    int32_t n_products, n_categories;
    const int32_t *product_cat; /* per product, -1 none (owned copy) */
    int32_t *cat_copy;
    int32_t *product_sub; /* per product subcategory, -1 none (owned) */
    int32_t n_subcategories;
    uint32_t *slots; /* customer code hash table: index + 1, 0 empty */
    uint32_t n_slots; /* power of two */
    uint32_t *pslots; /* product code hash table, likewise (first of equal codes) */
    uint32_t n_pslots;
    const float *lines; /* optional "customer.lines" f32 [C] */
    int has_repeat; /* buy again and mixed (prefrec/repeat.h) */
    prefrec_repeat_model rep;
    int32_t asof; /* manifest "asof" as a day number, 0 if none */
};

prefrec_request prefrec_request_default(void) {
    prefrec_request r;
    memset(&r, 0, sizeof r);
    r.gender = -1;
    r.age = NAN;
    r.k = 30;
    return r;
}

void prefrec_engine_free(prefrec_engine *e) {
    if (!e) return;
    prefrec_customers_free(e->customers);
    prefrec_model_free(e->model);
    prefrec_blend_index_free(&e->bix);
    prefrec_blend_free(&e->blend);
    free(e->cat_copy);
    free(e->product_sub);
    free(e->slots);
    free(e->pslots);
    free(e);
}

/* Slots of an open-addressing table for n keys: a power of two >= 2n, at least 16. */
static uint64_t table_slots(uint64_t n) {
    uint64_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

/* Open addressing over FNV-1a of the code: customer lookups are O(1) for any pack size. */
LOAD_SIDE static prefrec_status build_customer_index(prefrec_engine *e, prefrec_error *err) {
    int32_t n = prefrec_customers_count(e->customers); /* < 2^29: prefrec_customers_load */
    uint32_t cap = (uint32_t)table_slots((uint64_t)n);
    e->slots = calloc(cap, sizeof *e->slots);
    if (!e->slots) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    e->n_slots = cap;
    for (int32_t c = 0; c < n; c++) {
        const char *code = prefrec_customers_code(e->customers, c);
        uint32_t h = prefrec_fnv1a32(code, strlen(code)) & (cap - 1);
        while (e->slots[h]) {
            if (!strcmp(prefrec_customers_code(e->customers, (int32_t)e->slots[h] - 1), code))
                return prefrec_error_set(err, PREFREC_E_FORMAT,
                                         "pack: customer code '%s' appears twice", code);
            h = (h + 1) & (cap - 1);
        }
        e->slots[h] = (uint32_t)c + 1;
    }
    return PREFREC_OK;
}

/* Product codes: the same index as prefrec_model_find_product's scan (the first of equal codes)
 * in O(1), so a request's history of up to 100,000 codes costs no products x history compares. */
LOAD_SIDE static prefrec_status build_product_index(prefrec_engine *e, prefrec_error *err) {
    uint32_t cap = (uint32_t)table_slots((uint64_t)e->n_products); /* P < 2^30 */
    e->pslots = calloc(cap, sizeof *e->pslots);
    if (!e->pslots) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    e->n_pslots = cap;
    for (int32_t p = 0; p < e->n_products; p++) {
        const char *code = prefrec_model_product_code(e->model, p);
        uint32_t h = prefrec_fnv1a32(code, strlen(code)) & (cap - 1);
        int dup = 0;
        while (e->pslots[h] && !dup) {
            dup = !strcmp(prefrec_model_product_code(e->model, (int32_t)e->pslots[h] - 1), code);
            if (!dup) h = (h + 1) & (cap - 1);
        }
        if (!dup) e->pslots[h] = (uint32_t)p + 1;
    }
    return PREFREC_OK;
}

/* Entries of a 1-d string table "<base>.off" minus one, read from its shape only (0 if absent):
 * for the budget, before the tables are validated. */
LOAD_SIDE static uint64_t table_count(const prefrec_pack *p, const char *off_name) {
    const prefrec_tensor *t = p ? prefrec_pack_find(p, off_name) : NULL;
    return t && t->n_elems > 0 ? t->n_elems - 1 : 0;
}

/* The memory the engine itself owns besides the model's (prefrec_model_cost): at load, the
 * category copies and the two code indexes; per request, resolve()'s scratch, explain_all's
 * positions and the stamp board's per-category sums. The request's own history is not counted:
 * it is bounded by the request (PREFREC_MAX_HISTORY) and the customer's bought list. */
LOAD_SIDE static uint64_t engine_bytes(const prefrec_pack *items, const prefrec_pack *cp,
                                       uint64_t P) {
    uint64_t n_cat = table_count(items, "category.off"),
             n_sub = table_count(items, "subcategory.off");
    uint64_t C =
        cp && prefrec_pack_find(cp, "customer.code.off") ? table_count(cp, "customer.code.off") : 0;
    int blend = prefrec_pack_find(items, "blend.ease.nbr") != NULL;
    uint64_t load = sizeof(prefrec_engine) + 8 * P + 4 * table_slots(P) + 4 * table_slots(C) +
        (blend ? prefrec_blend_index_bytes(P, n_cat) : 0);
    uint64_t request = P /* bought */ + 4 * P /* scores */ + 4 * (n_cat + 1) /* cat_count */ +
        (blend ? P : 0) /* the blend's top: marks */ + 16 * n_cat /* stamp board sums */ +
        (blend ? 4 * (4 * P + n_cat + n_sub + 1) + 4 * P /* work, pos */ : 4) +
        4 * P /* list: the buy-again scores */;
    return load + request;
}

LOAD_SIDE prefrec_status prefrec_engine_need(const prefrec_pack *items,
                                             const prefrec_pack *customers, uint64_t *bytes,
                                             prefrec_model_cost *cost, prefrec_error *err) {
    prefrec_model_cost c;
    if (!cost) cost = &c;
    prefrec_status s = prefrec_model_cost_of(items, cost, err);
    if (s) return s;
    uint64_t extra = engine_bytes(items, customers ? customers : items, (uint64_t)cost->n_products);
    *bytes = prefrec_u64_add_sat(prefrec_u64_add_sat(cost->load_bytes, cost->user_bytes), extra);
    return PREFREC_OK;
}

LOAD_SIDE prefrec_status prefrec_engine_new(const prefrec_pack *items,
                                            const prefrec_pack *customers, prefrec_engine **out,
                                            prefrec_error *err) {
    return prefrec_engine_new_budget(items, customers, NULL, out, err);
}

LOAD_SIDE prefrec_status prefrec_engine_new_budget(const prefrec_pack *items,
                                                   const prefrec_pack *customers,
                                                   const prefrec_budget *budget,
                                                   prefrec_engine **out, prefrec_error *err) {
    *out = NULL;
    /* the whole engine's memory, from the packs' dimensions, before any of it is allocated */
    prefrec_model_cost cost;
    uint64_t need;
    prefrec_status s = prefrec_engine_need(items, customers, &need, &cost, err);
    if (s) return s;
    uint64_t pack_bytes = prefrec_pack_size(items) + (customers ? prefrec_pack_size(customers) : 0);
    s = prefrec_model_check_budget(&cost, need - cost.load_bytes - cost.user_bytes, "engine",
                                   pack_bytes, budget, err);
    if (s) return s;
    prefrec_engine *e = calloc(1, sizeof *e);
    if (!e) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    e->items = items;
    s = prefrec_model_load_budget(items, budget, &e->model, err);
    if (s) goto fail;
    e->n_products = prefrec_model_n_products(e->model);
    e->n_categories = prefrec_model_n_categories(e->model);
    if (e->n_products <= 0) {
        s = prefrec_error_set(err, PREFREC_E_EMPTY, "pack: empty catalogue");
        goto fail;
    }
    e->n_subcategories = prefrec_model_n_subcategories(e->model);
    e->cat_copy = malloc((size_t)e->n_products * sizeof *e->cat_copy);
    e->product_sub = malloc((size_t)e->n_products * sizeof *e->product_sub);
    if (!e->cat_copy || !e->product_sub) {
        s = prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
        goto fail;
    }
    for (int32_t p = 0; p < e->n_products; p++) {
        int32_t c = prefrec_model_product_category_id(e->model, p);
        e->cat_copy[p] = c >= 0 && c < e->n_categories ? c : -1;
        int32_t u = prefrec_model_product_subcategory_id(e->model, p);
        e->product_sub[p] = u >= 0 && u < e->n_subcategories ? u : -1;
    }
    e->product_cat = e->cat_copy;
    if ((s = build_product_index(e, err))) goto fail;

    s = prefrec_blend_load(items, e->n_products, &e->blend, err);
    if (s == PREFREC_OK) {
        e->has_blend = 1;
        s = prefrec_blend_index_build(&e->blend, e->product_cat, e->n_categories, e->product_sub,
                                      e->n_subcategories, &e->bix, err);
        if (s) goto fail;
    } else if (s != PREFREC_E_NOTFOUND) {
        goto fail;
    }
    prefrec_error_clear(err);
    s = prefrec_repeat_load(items, e->n_products, &e->rep, err);
    if (s == PREFREC_OK)
        e->has_repeat = 1;
    else if (s != PREFREC_E_NOTFOUND)
        goto fail;
    prefrec_error_clear(err);
    const char *asof = prefrec_pack_manifest_str(items, "asof");
    if (asof && prefrec_date_parse(asof, strlen(asof), &e->asof)) {
        s = prefrec_error_set(err, PREFREC_E_FORMAT, "pack: manifest \"asof\" is not a date");
        goto fail;
    }

    const prefrec_pack *cp = customers ? customers : items;
    if (customers || prefrec_pack_find(items, "customer.code.off")) {
        s = prefrec_customers_load(cp, e->model, &e->customers, err);
        if (s) goto fail;
        if ((s = build_customer_index(e, err))) goto fail;
        const prefrec_tensor *t = prefrec_pack_find(cp, "customer.lines");
        uint32_t C = (uint32_t)prefrec_customers_count(e->customers);
        if (t) {
            if ((s = prefrec_pack_get(cp, "customer.lines", PREFREC_DT_F32, 1, &C, &t, err)))
                goto fail;
            e->lines = t->data;
        }
    }
    *out = e;
    return PREFREC_OK;
fail:
    prefrec_engine_free(e);
    return s;
}

const char *prefrec_engine_affiliate(const prefrec_engine *e) {
    return prefrec_model_affiliate(e->model);
}
int32_t prefrec_engine_n_products(const prefrec_engine *e) { return e->n_products; }
int32_t prefrec_engine_n_categories(const prefrec_engine *e) { return e->n_categories; }
int32_t prefrec_engine_n_customers(const prefrec_engine *e) {
    return e->customers ? prefrec_customers_count(e->customers) : 0;
}
int prefrec_engine_has_list(const prefrec_engine *e, int list) {
    return list == PREFREC_LIST_DISCOVER ||
        ((list == PREFREC_LIST_BUY_AGAIN || list == PREFREC_LIST_MIXED) && e->has_repeat);
}
int32_t prefrec_engine_asof(const prefrec_engine *e) { return e->asof; }
const char *prefrec_engine_export_id(const prefrec_engine *e) {
    return prefrec_pack_manifest_str(e->items, "export_id");
}
int prefrec_engine_has_ranker(const prefrec_engine *e, int ranker) {
    return ranker == PREFREC_RANKER_NEUMF || ranker == PREFREC_RANKER_DEFAULT ||
        (ranker == PREFREC_RANKER_BLEND && e->has_blend);
}
const char *prefrec_engine_product_code(const prefrec_engine *e, int32_t p) {
    return prefrec_model_product_code(e->model, p);
}
const char *prefrec_engine_product_name(const prefrec_engine *e, int32_t p) {
    return prefrec_model_product_name(e->model, p);
}
const char *prefrec_engine_product_category(const prefrec_engine *e, int32_t p) {
    return prefrec_model_product_category(e->model, p);
}
const char *prefrec_engine_product_subcategory(const prefrec_engine *e, int32_t p) {
    return prefrec_model_product_subcategory(e->model, p);
}
const char *prefrec_engine_category_name(const prefrec_engine *e, int32_t c) {
    return prefrec_model_category_name(e->model, c);
}
int32_t prefrec_engine_find_product(const prefrec_engine *e, const char *code) {
    if (!code) return -1;
    uint32_t h = prefrec_fnv1a32(code, strlen(code)) & (e->n_pslots - 1);
    while (e->pslots[h]) {
        int32_t p = (int32_t)e->pslots[h] - 1;
        if (!strcmp(prefrec_model_product_code(e->model, p), code)) return p;
        h = (h + 1) & (e->n_pslots - 1);
    }
    return -1;
}

int32_t prefrec_engine_find_customer(const prefrec_engine *e, const char *code) {
    if (!e->customers || !code) return -1;
    uint32_t h = prefrec_fnv1a32(code, strlen(code)) & (e->n_slots - 1);
    while (e->slots[h]) {
        int32_t c = (int32_t)e->slots[h] - 1;
        if (!strcmp(prefrec_customers_code(e->customers, c), code)) return c;
        h = (h + 1) & (e->n_slots - 1);
    }
    return -1;
}

const char *prefrec_engine_customer_code(const prefrec_engine *e, int32_t c) {
    if (!e->customers || c < 0 || c >= prefrec_customers_count(e->customers)) return NULL;
    return prefrec_customers_code(e->customers, c);
}

double prefrec_engine_customer_purchases(const prefrec_engine *e, const char *code) {
    int32_t c = prefrec_engine_find_customer(e, code);
    if (c < 0) return 0.0;
    if (e->lines) return e->lines[c] > 0 ? (double)e->lines[c] : 0.0;
    size_t n;
    prefrec_customers_bought(e->customers, c, &n);
    return (double)n;
}

int prefrec_plan_ratio_pick(const double *weights, size_t n, uint64_t seed) {
    return prefrec_sample_index(weights, n, seed);
}

/* ---- one request ---------------------------------------------------------------------------- */
typedef struct req_state {
    const prefrec_member_aff *member; /* the member's record part, or NULL */
    int source, ranker;
    int32_t customer;
    int gender;
    float age;
    int32_t *hist; /* distinct, ascending */
    size_t n_hist;
    uint8_t *bought; /* [P] exclusion mask */
    float *scores; /* [P] */
    float *work; /* blend: parts 3 x [P], tmp [P], category + subcategory shares */
    prefrec_blend_parts parts;
    uint8_t *mark; /* [P] the blend's top (prefrec_blend_top), when its index is usable */
    int32_t top_cat; /* the customer's most bought category, or -1 */
    uint32_t candidates; /* NeuMF: score the blend's top this many only (0: all) */
    int32_t *cat_count; /* [n_categories] */
} req_state;

static void state_free(req_state *st) {
    free(st->hist);
    free(st->bought);
    free(st->scores);
    free(st->work);
    free(st->mark);
    free(st->cat_count);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Resolve who the request is for and gather the distinct history (pack side + request). */
static prefrec_status resolve(const prefrec_engine *e, const prefrec_request *rq, req_state *st,
                              prefrec_error *err) {
    int32_t P = e->n_products;
    memset(st, 0, sizeof *st);
    st->customer = -1;
    st->top_cat = -1;
    st->gender = rq->gender == 0 || rq->gender == 1 ? rq->gender : -1;
    st->age = rq->age;
    if (rq->k < 1 || rq->k > PREFREC_MAX_K)
        return prefrec_error_set(err, PREFREC_E_RANGE, "k must be 1..%d, got %u", PREFREC_MAX_K,
                                 rq->k);
    if (rq->sample > PREFREC_SAMPLE_POOL)
        return prefrec_error_set(err, PREFREC_E_RANGE, "sample must be 0..%d, got %u",
                                 PREFREC_SAMPLE_POOL, rq->sample);
    if (rq->n_history > PREFREC_MAX_HISTORY)
        return prefrec_error_set(err, PREFREC_E_RANGE, "history has %zu items, at most %d",
                                 rq->n_history, PREFREC_MAX_HISTORY);
    if (rq->n_history && !rq->history)
        return prefrec_error_set(err, PREFREC_E_INVAL, "history count without items");
    if (!isnan(rq->age) && (rq->age < 0 || rq->age > PREFREC_AGE_MAX))
        return prefrec_error_set(err, PREFREC_E_RANGE, "age must be 0..%d, got %g", PREFREC_AGE_MAX,
                                 (double)rq->age);
    if (rq->ranker == PREFREC_RANKER_BLEND && !e->has_blend)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "this pack has no blend ranker");
    if (rq->ranker < 0 || rq->ranker > PREFREC_RANKER_NEUMF)
        return prefrec_error_set(err, PREFREC_E_RANGE, "unknown ranker %d", rq->ranker);
    if (rq->list < PREFREC_LIST_DISCOVER || rq->list > PREFREC_LIST_MIXED)
        return prefrec_error_set(err, PREFREC_E_RANGE, "unknown list kind %d", rq->list);
    if (!prefrec_engine_has_list(e, rq->list))
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "this pack has no buy-again model (train it with this prefrec)");
    if (rq->list != PREFREC_LIST_DISCOVER && !rq->member)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "a %s list needs the member's own purchases (their record)",
                                 rq->list == PREFREC_LIST_MIXED ? "mixed" : "buy-again");
    const prefrec_member_aff *mem = rq->member;
    if (mem && rq->customer && rq->customer[0])
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "a request with a member record names no customer code");
    if (mem && mem->n_items > PREFREC_MEMBER_ITEMS_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE, "member record: %u items, at most %u",
                                 mem->n_items, PREFREC_MEMBER_ITEMS_MAX);
    st->ranker = rq->ranker == PREFREC_RANKER_DEFAULT
        ? (e->has_blend ? PREFREC_RANKER_BLEND : PREFREC_RANKER_NEUMF)
        : rq->ranker;
    if (rq->candidates && st->ranker != PREFREC_RANKER_NEUMF)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "candidates are for the NeuMF (ranker \"neumf\")");
    if (rq->candidates && !e->has_blend)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "candidates come from the blend ranker, which this pack has not");
    if (rq->candidates && (rq->candidates < rq->k || rq->candidates > PREFREC_MAX_CANDIDATES))
        return prefrec_error_set(err, PREFREC_E_RANGE, "candidates must be k (%u) .. %d, got %u",
                                 rq->k, PREFREC_MAX_CANDIDATES, rq->candidates);
    st->candidates = rq->candidates;
    int blend_scratch = st->ranker == PREFREC_RANKER_BLEND || st->candidates;

    const int32_t *kb = NULL;
    size_t nk = 0;
    if (rq->customer && rq->customer[0]) {
        st->customer = prefrec_engine_find_customer(e, rq->customer);
        if (st->customer >= 0) {
            kb = prefrec_customers_bought(e->customers, st->customer, &nk);
            st->gender = prefrec_customers_gender(e->customers, st->customer);
            st->age = prefrec_customers_age(e->customers, st->customer);
        } else if (!rq->n_history && st->gender < 0 && isnan(st->age)) {
            return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                     "unknown customer '%s' (not in this pack%s): give a purchase "
                                     "history or gender and age",
                                     rq->customer, e->customers ? "" : ", which has no customers");
        }
    }
    st->source = mem        ? PREFREC_SOURCE_MEMBER
        : st->customer >= 0 ? PREFREC_SOURCE_KNOWN
        : rq->n_history     ? PREFREC_SOURCE_HISTORY
                            : PREFREC_SOURCE_SEGMENT;
    st->member = mem;

    /* the history's arrays are the request's (nk < 2^30: a pack tensor; n_history <= 100,000),
     * checked against size_t (32 bits in wasm); the per-product scratch below was counted in
     * the budget checked at load (prefrec_engine_need), which keeps it under SIZE_MAX / 2 */
    size_t n_mem = mem ? mem->n_items : 0;
    size_t cap = nk + rq->n_history + n_mem, hist_bytes;
    if (cap < nk || !prefrec_size_mul(cap ? cap : 1, sizeof *st->hist, &hist_bytes))
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "engine: a history of %zu items does not fit in memory", cap);
    st->hist = malloc(hist_bytes);
    st->bought = calloc((size_t)P, 1);
    st->scores = malloc((size_t)P * sizeof *st->scores);
    /* the blend's parts and shares; the NeuMF needs none of it (but for its candidates) */
    st->work = malloc(
        (blend_scratch ? 4 * (size_t)P + (size_t)e->n_categories + (size_t)e->n_subcategories + 1
                       : 1) *
        sizeof *st->work);
    st->cat_count = calloc((size_t)e->n_categories + 1, sizeof *st->cat_count);
    if (blend_scratch && e->bix.ok) st->mark = calloc((size_t)P, 1);
    if (!st->hist || !st->bought || !st->scores || !st->work || !st->cat_count ||
        (blend_scratch && e->bix.ok && !st->mark))
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nk; i++) st->hist[n++] = kb[i];
    for (size_t i = 0; i < n_mem; i++) {
        uint32_t p = mem->items[i].product;
        if (p >= (uint32_t)P)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "member record: %s item %zu: product index %u not in this "
                                     "pack's catalogue (0..%d): a record of another export?",
                                     mem->affiliate, i, p, P - 1);
        st->hist[n++] = (int32_t)p;
    }
    for (size_t i = 0; i < rq->n_history; i++) {
        int32_t p = rq->history[i];
        if (p < 0 || p >= P)
            return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                     "history item %zu: product index %d not in the catalogue "
                                     "(0..%d)",
                                     i, p, P - 1);
        st->hist[n++] = p;
    }
    int sorted = 1; /* a pack's bought list is ascending already: skip the sort then */
    for (size_t i = 1; i < n && sorted; i++) sorted = st->hist[i - 1] <= st->hist[i];
    if (!sorted) qsort(st->hist, n, sizeof *st->hist, cmp_i32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || st->hist[m - 1] != st->hist[i]) st->hist[m++] = st->hist[i];
    st->n_hist = m;
    int32_t best = 0;
    for (size_t i = 0; i < m; i++) {
        st->bought[st->hist[i]] = 1;
        int32_t c = e->product_cat[st->hist[i]];
        if (c >= 0 && ++st->cat_count[c] > best) {
            best = st->cat_count[c];
            st->top_cat = c;
        }
    }
    if (blend_scratch) {
        st->parts.i2i = st->work;
        st->parts.pop = st->work + P;
        st->parts.cat = st->work + 2 * (size_t)P;
    }
    return PREFREC_OK;
}

/* The NeuMF over the blend's top st->candidates never-bought products (the same list as the
 * blend's own top that many); every other product scores -inf. */
static prefrec_status neumf_candidates(const prefrec_engine *e, req_state *st, prefrec_user *u,
                                       prefrec_error *err) {
    size_t P = (size_t)e->n_products, n;
    prefrec_scored *top = malloc(st->candidates * sizeof *top);
    if (!top) return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    int seg = prefrec_segment(st->gender, st->age);
    if (e->bix.ok) {
        prefrec_blend_top_scratch sc = {st->work + 3 * P, st->scores, st->work + 4 * P, st->mark};
        n = prefrec_blend_top(&e->blend, &e->bix, st->hist, st->n_hist, seg, e->product_cat,
                              e->n_categories, e->product_sub, e->n_subcategories, st->bought,
                              st->candidates, &sc, &st->parts, top, NULL);
    } else {
        prefrec_blend_score(&e->blend, st->hist, st->n_hist, seg, e->product_cat, e->n_categories,
                            e->product_sub, e->n_subcategories, st->work + 4 * P, st->work + 3 * P,
                            &st->parts, st->scores);
        n = prefrec_topk(st->scores, P, st->bought, st->candidates, top);
    }
    int32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    float *val = malloc((n ? n : 1) * sizeof *val);
    if (!idx || !val) {
        free(top), free(idx), free(val);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    for (size_t i = 0; i < n; i++) idx[i] = top[i].index;
    prefrec_model_score_some(e->model, u, idx, n, val);
    for (size_t p = 0; p < P; p++) st->scores[p] = -INFINITY;
    for (size_t i = 0; i < n; i++) st->scores[idx[i]] = val[i];
    free(top), free(idx), free(val);
    return PREFREC_OK;
}

static prefrec_status score(const prefrec_engine *e, req_state *st, prefrec_error *err) {
    if (st->ranker == PREFREC_RANKER_BLEND) {
        size_t P = (size_t)e->n_products;
        prefrec_blend_score(&e->blend, st->hist, st->n_hist, prefrec_segment(st->gender, st->age),
                            e->product_cat, e->n_categories, e->product_sub, e->n_subcategories,
                            st->work + 4 * P, st->work + 3 * P, &st->parts, st->scores);
        return PREFREC_OK;
    }
    prefrec_user *u = NULL;
    prefrec_status s;
    if (st->source == PREFREC_SOURCE_KNOWN)
        s = prefrec_user_from_customer(e->model, e->customers, st->customer, &u, err);
    else if (st->source == PREFREC_SOURCE_MEMBER && st->member->dim &&
             st->member->dim == (uint32_t)prefrec_model_dim(e->model))
        s = prefrec_user_new(e->model, st->member->vec, st->member->bias, st->gender, st->age, &u,
                             err);
    else if (st->source == PREFREC_SOURCE_MEMBER)
        s = prefrec_user_fold_in(e->model, st->hist, st->n_hist, st->gender, st->age, &u, err);
    else if (st->source == PREFREC_SOURCE_HISTORY)
        s = prefrec_user_fold_in(e->model, st->hist, st->n_hist, st->gender, st->age, &u, err);
    else
        s = prefrec_user_new(e->model, NULL, 0.0f, st->gender, st->age, &u, err);
    if (s) return s;
    if (st->candidates) {
        s = neumf_candidates(e, st, u, err);
        prefrec_user_free(u);
        return s;
    }
    prefrec_model_score_all(e->model, u, st->scores);
    prefrec_user_free(u);
    return PREFREC_OK;
}

/* Reason of item `it`; src: its strongest history source (blend), or -1. */
static void explain(const prefrec_engine *e, const req_state *st, int32_t src, prefrec_item *it) {
    int32_t p = it->product, c = e->product_cat[p];
    it->reason_ref = -1;
    if (st->ranker == PREFREC_RANKER_BLEND) {
        float i2i = st->parts.i2i[p];
        float cat = st->parts.cat[p], pop = st->parts.pop[p];
        if (i2i > 0 && i2i >= cat && i2i >= pop && src >= 0) {
            it->reason = PREFREC_REASON_BOUGHT_WITH;
            it->reason_ref = src;
            return;
        }
        if (cat > 0 && cat >= pop && c >= 0) {
            it->reason = PREFREC_REASON_CATEGORY;
            it->reason_ref = c;
            return;
        }
        it->reason = PREFREC_REASON_SEGMENT;
        return;
    }
    if (c >= 0 && st->cat_count[c] > 0) {
        it->reason = PREFREC_REASON_CATEGORY;
        it->reason_ref = c;
    } else {
        it->reason = st->source == PREFREC_SOURCE_SEGMENT ? PREFREC_REASON_SEGMENT
                                                          : PREFREC_REASON_PREDICTED;
    }
}

/* Fill items[0..n) (product and score set) with reasons; one pass for the blend's sources. */
static prefrec_status explain_all(const prefrec_engine *e, const req_state *st, prefrec_item *items,
                                  size_t n, prefrec_error *err) {
    int32_t prods[PREFREC_MAX_K], src[PREFREC_MAX_K];
    float best[PREFREC_MAX_K], knn_sum[PREFREC_MAX_K];
    uint8_t in_ease[PREFREC_MAX_K];
    for (size_t i = 0; i < n; i++) src[i] = -1, prods[i] = items[i].product;
    if (st->ranker == PREFREC_RANKER_BLEND && st->n_hist && n) {
        /* positions in the blend's [P] scratch that is free once scored (tmp, or the top's
         * EASE sums): only the entries prefrec_blend_best_sources reads are set to -1 (the
         * history's neighbours and the items), not the whole catalogue */
        const prefrec_blend *b = &e->blend;
        int32_t *pos = (int32_t *)(void *)(st->work + 3 * (size_t)e->n_products);
        for (size_t i = 0; i < st->n_hist; i++) {
            const int32_t *ne = prefrec_blend_nbr(b->ease_nbr, b->ease_row, b->m, st->hist[i]),
                          *nk = prefrec_blend_nbr(b->knn_nbr, b->knn_row, b->m, st->hist[i]);
            for (int32_t r = 0; r < b->m; r++) {
                if (ne[r] >= 0) pos[ne[r]] = -1;
                if (nk[r] >= 0) pos[nk[r]] = -1;
            }
        }
        for (size_t i = 0; i < n; i++) pos[prods[i]] = -1;
        prefrec_blend_best_sources(b, st->hist, st->n_hist, &st->parts, prods, n, pos, best, src,
                                   knn_sum, in_ease);
    }
    for (size_t i = 0; i < n; i++) explain(e, st, src[i], &items[i]);
    return PREFREC_OK;
}

prefrec_status prefrec_engine_score_all(const prefrec_engine *e, const prefrec_request *rq,
                                        float *out, prefrec_error *err) {
    req_state st;
    prefrec_status s = resolve(e, rq, &st, err);
    if (!s) s = score(e, &st, err);
    if (!s) memcpy(out, st.scores, (size_t)e->n_products * sizeof *out);
    state_free(&st);
    return s;
}

/* ---- buy again and the mixed list ------------------------------------------------------------ */
typedef struct due_list {
    float *score; /* [n_items] the member's items by prefrec_repeat_score, as of the day served */
    prefrec_repeat_why *why; /* [n_items] */
} due_list;

static prefrec_status due_member(const prefrec_engine *e, const prefrec_request *rq, due_list *d,
                                 prefrec_error *err) {
    const prefrec_member_aff *m = rq->member;
    int32_t today = rq->today ? rq->today : e->asof;
    if (!today)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "buy again: no day to serve as of (the request gives none and "
                                 "the pack names no as-of day)");
    size_t n = m->n_items;
    prefrec_repeat_item *it = malloc((n ? n : 1) * sizeof *it);
    d->score = malloc((n ? n : 1) * sizeof *d->score);
    d->why = malloc((n ? n : 1) * sizeof *d->why);
    if (!it || !d->score || !d->why) {
        free(it);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "engine: out of memory");
    }
    prefrec_status s = PREFREC_OK;
    for (size_t i = 0; i < n && !s; i++) {
        const prefrec_member_item *mi = &m->items[i];
        it[i] = (prefrec_repeat_item){(int32_t)mi->product, mi->n_days, mi->days};
        if (mi->n_days && mi->days[mi->n_days - 1] >= today) {
            char d1[11], d2[11];
            s = prefrec_error_set(err, PREFREC_E_RANGE,
                                  "member record: %s item %zu was bought on %s, not before the "
                                  "day served (%s)",
                                  m->affiliate, i,
                                  prefrec_date_format(mi->days[mi->n_days - 1], d1),
                                  prefrec_date_format(today, d2));
        }
    }
    if (!s)
        s = prefrec_repeat_score(&e->rep.p, e->rep.prior, e->n_products, today, it, n, d->score,
                                 d->why, err);
    free(it);
    return s;
}

/* Whether the request's discover list comes from prefrec_blend_top (no scores of the whole
 * catalogue): the blend with a usable index. */
static int blend_fast(const prefrec_engine *e, const req_state *st) {
    return st->ranker == PREFREC_RANKER_BLEND && e->bix.ok && st->mark;
}

/* The best `want` products not bought: prefrec_blend_top where it serves, else from the
 * scores of the whole catalogue (score() ran). Both give the same list. */
static size_t discover_top(const prefrec_engine *e, req_state *st, size_t want,
                           prefrec_scored *top) {
    if (!blend_fast(e, st))
        return prefrec_topk(st->scores, (size_t)e->n_products, st->bought, want, top);
    size_t P = (size_t)e->n_products;
    prefrec_blend_top_scratch sc = {st->work + 3 * P, st->scores, st->work + 4 * P, st->mark};
    return prefrec_blend_top(&e->blend, &e->bix, st->hist, st->n_hist,
                             prefrec_segment(st->gender, st->age), e->product_cat, e->n_categories,
                             e->product_sub, e->n_subcategories, st->bought, want, &sc, &st->parts,
                             top, NULL);
}

/* The top `want` of the list kind into top[0..*m): discover, buy again or mixed (the merge of
 * prefrec/repeat.h, as the "mixed" ranker of `prefrec eval` does it). */
static prefrec_status rank_list(const prefrec_engine *e, const prefrec_request *rq, req_state *st,
                                due_list *d, size_t want, prefrec_scored *top, size_t *m,
                                prefrec_error *err) {
    if (rq->list == PREFREC_LIST_DISCOVER) {
        *m = discover_top(e, st, want, top);
        return PREFREC_OK;
    }
    prefrec_status s = due_member(e, rq, d, err);
    if (s) return s;
    const prefrec_member_aff *mem = rq->member;
    prefrec_scored rep[PREFREC_MAX_K], dis[PREFREC_MAX_K];
    prefrec_topk_heap h;
    prefrec_topk_heap_init(&h, rq->list == PREFREC_LIST_BUY_AGAIN ? top : rep, want);
    for (uint32_t i = 0; i < mem->n_items; i++)
        prefrec_topk_heap_push(&h, d->score[i], (int32_t)mem->items[i].product);
    size_t nr = prefrec_topk_heap_finish(&h);
    if (rq->list == PREFREC_LIST_BUY_AGAIN) {
        *m = nr;
        return PREFREC_OK;
    }
    size_t nd = discover_top(e, st, want, dis);
    double rep_lines = 0, lines = 0;
    for (uint32_t i = 0; i < mem->n_items; i++) {
        lines += mem->items[i].count;
        rep_lines += mem->items[i].count - 1.0;
    }
    double su = prefrec_mixed_share(rep_lines, lines, e->rep.share, e->rep.shrink);
    /* only the first `want` of each list can be among the merged list's first `want` */
    prefrec_topk_heap_init(&h, top, want);
    for (size_t i = 0; i < nr; i++)
        prefrec_topk_heap_push(&h, (float)-prefrec_mixed_key((int32_t)i, su), rep[i].index);
    for (size_t j = 0; j < nd; j++)
        prefrec_topk_heap_push(&h, (float)-prefrec_mixed_key((int32_t)j, 1 - su), dis[j].index);
    *m = prefrec_topk_heap_finish(&h);
    for (size_t i = 0; i < *m; i++) top[i].score = -1.0f / top[i].score; /* 1 / key: > 0 */
    return PREFREC_OK;
}

/* The member's own products among items[0..n) get the buy-again reason. */
static void explain_repeat(const prefrec_member_aff *mem, const due_list *d, prefrec_item *items,
                           size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t lo = 0, hi = mem->n_items, p = (uint32_t)items[i].product;
        while (lo < hi) { /* the record's items ascend by product */
            uint32_t mid = lo + (hi - lo) / 2;
            if (mem->items[mid].product < p)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == mem->n_items || mem->items[lo].product != p) continue;
        items[i].reason = PREFREC_REASON_REPEAT;
        items[i].reason_ref = -1;
        items[i].n_days = d->why[lo].n_days;
        items[i].every_days = d->why[lo].interval_days;
        items[i].since_days = d->why[lo].since_days;
    }
}

static prefrec_status explain_list(const prefrec_engine *e, const prefrec_request *rq,
                                   const req_state *st, const due_list *d, prefrec_item *items,
                                   size_t n, prefrec_error *err) {
    prefrec_status s =
        rq->list == PREFREC_LIST_BUY_AGAIN ? PREFREC_OK : explain_all(e, st, items, n, err);
    if (!s && rq->list != PREFREC_LIST_DISCOVER) explain_repeat(rq->member, d, items, n);
    return s;
}

prefrec_status prefrec_engine_recommend(const prefrec_engine *e, const prefrec_request *rq,
                                        prefrec_response *rs, prefrec_error *err) {
    memset(rs, 0, sizeof *rs);
    rs->customer = -1;
    req_state st;
    due_list d = {NULL, NULL};
    prefrec_status s = resolve(e, rq, &st, err);
    if (!s && rq->list != PREFREC_LIST_BUY_AGAIN && !blend_fast(e, &st)) s = score(e, &st, err);
    rs->source = st.source;
    rs->ranker = st.ranker;
    rs->customer = st.customer;
    /* the top max(k, 30): the first k are the answer, the first 30 the sampling pool */
    prefrec_scored top[PREFREC_MAX_K];
    size_t want = rq->k > PREFREC_SAMPLE_POOL ? rq->k : PREFREC_SAMPLE_POOL, m = 0;
    if (!s) s = rank_list(e, rq, &st, &d, want, top, &m, err);
    if (!s && m == 0 && rq->list != PREFREC_LIST_BUY_AGAIN) /* nothing to buy again: n = 0 */
        s = prefrec_error_set(err, PREFREC_E_EMPTY,
                              "no product left to recommend: the customer bought all %d",
                              e->n_products);
    if (!s) {
        rs->n = (uint32_t)(m < rq->k ? m : rq->k);
        for (uint32_t i = 0; i < rs->n; i++) {
            rs->items[i].product = top[i].index;
            rs->items[i].score = top[i].score;
        }
        s = explain_list(e, rq, &st, &d, rs->items, rs->n, err);
    }
    if (!s && rq->sample && m) {
        size_t pool = m < PREFREC_SAMPLE_POOL ? m : PREFREC_SAMPLE_POOL;
        size_t pos[PREFREC_SAMPLE_POOL];
        size_t got = prefrec_sample_top(top, pool, rq->sample, rq->seed, pos);
        for (size_t i = 0; i < got; i++) {
            prefrec_item *it = &rs->sampled[i];
            it->product = top[pos[i]].index;
            it->score = top[pos[i]].score;
        }
        rs->n_sampled = (uint32_t)got;
        s = explain_list(e, rq, &st, &d, rs->sampled, got, err);
    }
    free(d.score);
    free(d.why);
    state_free(&st);
    if (s) {
        memset(rs, 0, sizeof *rs);
        rs->customer = -1;
    }
    return s;
}

prefrec_status prefrec_engine_stamp(const prefrec_engine *e, const prefrec_request *rq,
                                    size_t n_cats, size_t per_cat, prefrec_stamp_category *board,
                                    size_t *n_board, prefrec_error *err) {
    *n_board = 0;
    req_state st;
    prefrec_status s = resolve(e, rq, &st, err);
    if (!s) s = score(e, &st, err);
    if (!s)
        s = prefrec_stamp_board(st.scores, st.bought, e->product_cat, (size_t)e->n_products,
                                e->n_categories, n_cats, per_cat, board, n_board, err);
    state_free(&st);
    return s;
}

const char *prefrec_source_name(int s) {
    static const char *const n[] = {"known", "history", "segment", "member"};
    return s >= 0 && s < 4 ? n[s] : "?";
}
const char *prefrec_reason_kind_name(int r) {
    static const char *const n[] = {"?",       "bought_with", "category",
                                    "segment", "predicted",   "repeat"};
    return r >= 1 && r <= 5 ? n[r] : "?";
}
const char *prefrec_list_name(int l) {
    static const char *const n[] = {"discover", "buy_again", "mixed"};
    return l >= 0 && l < 3 ? n[l] : "?";
}

size_t prefrec_engine_reason_text(const prefrec_engine *e, const prefrec_item *it, char *buf,
                                  size_t cap) {
    int n;
    switch (it->reason) {
        case PREFREC_REASON_BOUGHT_WITH:
            n = snprintf(buf, cap, "Often bought with %s",
                         prefrec_engine_product_name(e, it->reason_ref));
            break;
        case PREFREC_REASON_CATEGORY:
            n = snprintf(buf, cap, "You often buy %s",
                         prefrec_engine_category_name(e, it->reason_ref));
            break;
        case PREFREC_REASON_SEGMENT:
            n = snprintf(buf, cap, "Popular with customers like you");
            break;
        case PREFREC_REASON_REPEAT:
            if (it->every_days > 0)
                n = snprintf(buf, cap,
                             "You buy this about every %d day%s; last bought %d day%s ago",
                             it->every_days, it->every_days == 1 ? "" : "s", it->since_days,
                             it->since_days == 1 ? "" : "s");
            else
                n = snprintf(buf, cap, "You bought this %d day%s ago", it->since_days,
                             it->since_days == 1 ? "" : "s");
            break;
        default:
            n = snprintf(buf, cap, "High predicted preference");
            break;
    }
    if (n < 0) return 0;
    if ((size_t)n >= cap && cap > 0)
        buf[prefrec_utf8_cut(buf, cap - 1)] = '\0'; /* cut on a character, not inside one */
    return (size_t)n;
}
