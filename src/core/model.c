/* model.c - NeuMF inference from a model pack (see prefrec/model.h, docs/model.md).
 *
 * The weights are borrowed from the pack; the only copies are the precomputed product half of
 * the first layer (n_products x h1) and transposed weights of the deeper layers, laid out so
 * the inner loops run over contiguous outputs (vectorisable without reassociating sums). */
#include "prefrec/model.h"
#include "model_internal.h"

_Static_assert(PREFREC_MODEL_MAX_LAYERS <= 10, "layer names have one digit");
#include "pack_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loading and validating run once per pack, scoring runs per product: where the browser build
 * compiles this file for speed (-O2, src/wasm/CMakeLists.txt), the load side is compiled for
 * size (clang's minsize; the same arithmetic, so the same bits), and product_half, the load's
 * one hot loop, stays out of it. */
#if defined(__clang__)
#define LOAD_SIDE __attribute__((cold, minsize))
#else
#define LOAD_SIDE __attribute__((cold))
#endif

struct prefrec_customers {
    const prefrec_pack *pack;
    int32_t n;
    int d;
    prefrec_strings code;
    const float *emb, *bias, *age;
    const int8_t *gender;
    const uint32_t *boff;
    const int32_t *bidx;
};

struct prefrec_user {
    float bias;
    float *c1; /* [h1]: W1[:, 0:d] u + W1[:, 2d:] x */
    float *g; /* [d]: w_g * u */
    float *act; /* scratch, 2 * max width */
    float *p1tmp; /* [h1 + d]: a product-half row another thread is still filling (p1_row) */
};

void prefrec_model_demo(int gender, float age, float out[PREFREC_MODEL_N_DEMO]) {
    out[0] = gender == 0 ? 1.0f : 0.0f;
    out[1] = gender == 1 ? 1.0f : 0.0f;
    if (isnan(age)) {
        out[2] = 0.0f;
        out[3] = 1.0f;
    } else {
        out[2] = (age - PREFREC_MODEL_AGE_CENTER) / PREFREC_MODEL_AGE_SCALE;
        out[3] = 0.0f;
    }
}

void prefrec_model_free(prefrec_model *m) {
    if (!m) return;
    for (int l = 0; l < PREFREC_MODEL_MAX_LAYERS; l++) free(m->wt[l]);
    free(m->p1);
    free((void *)m->p1_state);
    free(m->w1t);
    free(m->all);
    free(m);
}

LOAD_SIDE static prefrec_status get_f32(const prefrec_pack *p, const char *name, uint32_t ndim,
                                        uint32_t a, uint32_t b, const float **out,
                                        prefrec_error *err) {
    uint32_t want[2] = {a, b};
    const prefrec_tensor *t;
    prefrec_status s = prefrec_pack_get(p, name, PREFREC_DT_F32, ndim, want, &t, err);
    if (s) return s;
    *out = (const float *)t->data;
    return PREFREC_OK;
}

LOAD_SIDE static prefrec_status get_i32(const prefrec_pack *p, const char *name, uint32_t n,
                                        const int32_t **out, prefrec_error *err) {
    const prefrec_tensor *t;
    prefrec_status s = prefrec_pack_get(p, name, PREFREC_DT_I32, 1, &n, &t, err);
    if (s) return s;
    *out = (const int32_t *)t->data;
    return PREFREC_OK;
}

/* Reads "dim", "mlp" and checks "kind". */
LOAD_SIDE static prefrec_status read_dims(const prefrec_pack *p, int *d, int *nl, int *width,
                                          prefrec_error *err) {
    const char *kind = prefrec_pack_manifest_str(p, "kind");
    if (!kind || strcmp(kind, "neumf"))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: manifest kind is '%s', expected 'neumf'",
                                 kind ? kind : "(none)");
    double dd = prefrec_pack_manifest_num(p, "dim", -1);
    if (!(dd >= 1 && dd <= 1024) || dd != floor(dd))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: manifest dim must be an integer in 1..1024");
    *d = (int)dd;
    const cJSON *mlp = cJSON_GetObjectItemCaseSensitive(prefrec_pack_manifest(p), "mlp");
    int n = cJSON_IsArray(mlp) ? cJSON_GetArraySize(mlp) : -1;
    if (n < 1 || n > PREFREC_MODEL_MAX_LAYERS)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: manifest mlp must list 1..%d layer widths",
                                 PREFREC_MODEL_MAX_LAYERS);
    for (int l = 0; l < n; l++) {
        const cJSON *v = cJSON_GetArrayItem(mlp, l);
        if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 4096 ||
            v->valuedouble != floor(v->valuedouble))
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: manifest mlp[%d] must be an integer in 1..4096", l);
        width[l] = (int)v->valuedouble;
    }
    *nl = n;
    return PREFREC_OK;
}

LOAD_SIDE static prefrec_status load_catalog(prefrec_model *m, const prefrec_pack *p,
                                             prefrec_error *err) {
    uint32_t P = (uint32_t)m->n_products;
    prefrec_status s = prefrec_pack_strings(p, "product.code", &m->code, err);
    if (!s) s = prefrec_pack_strings(p, "product.name", &m->name, err);
    if (!s) s = prefrec_pack_strings(p, "category", &m->cat_names, err);
    if (!s) s = prefrec_pack_strings(p, "subcategory", &m->sub_names, err);
    if (!s) s = get_i32(p, "product.cat", P, &m->cat, err);
    if (!s) s = get_i32(p, "product.sub", P, &m->sub, err);
    if (s) return s;
    if (m->code.n != P || m->name.n != P)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: product code/name tables have %u/%u entries, expected %u",
                                 m->code.n, m->name.n, P);
    if (m->cat_names.n > INT32_MAX / 4 || m->sub_names.n > INT32_MAX / 4)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: %u categories / %u subcategories, at most %d",
                                 m->cat_names.n, m->sub_names.n, INT32_MAX / 4);
    m->n_cat = (int32_t)m->cat_names.n;
    m->n_sub = (int32_t)m->sub_names.n;
    for (uint32_t i = 0; i < P; i++)
        if (m->cat[i] < -1 || m->cat[i] >= m->n_cat || m->sub[i] < -1 || m->sub[i] >= m->n_sub)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: product %u has a category index out of range", i);
    return PREFREC_OK;
}

static const float *p1_row(const prefrec_model *m, int32_t p, float *tmp);
/* Product p's embedding: in the pack (f32), or decoded by p1_row behind its p1 row p1 (the
 * row p1_row returned for p). */
static inline const float *pemb_row(const prefrec_model *m, int32_t p, const float *p1) {
    return m->pemb ? m->pemb + (size_t)p * m->d : p1 + m->width[0];
}

#define FOLD_STEPS 60 /* fold-in gradient steps (see prefrec_user_fold_in) */

/* 1 when product.emb (t) is read a row at a time (prefrec_pack_row_f32) into the p1 rows: stored
 * as f16, q8r or q4r in a version-2 pack (which prefrec_pack_get would decode whole). */
LOAD_SIDE static int pemb_by_rows(const prefrec_pack *p, const prefrec_tensor *t) {
    return prefrec_pack_by_rows(p, t);
}

/* Why a cost model: every size the model allocates or loops over is a product of pack fields
 * (products x layer width, width x width), so it is worked out here in 64 bits, saturating,
 * and compared with the budget before anything is allocated; in the wasm builds size_t has 32
 * bits and (size_t)P * h1 * 4 wraps for the sizes a 10 MB pack can declare. */
LOAD_SIDE prefrec_status prefrec_model_cost_of(const prefrec_pack *p, prefrec_model_cost *c,
                                               prefrec_error *err) {
    memset(c, 0, sizeof *c);
    int d, nl, width[PREFREC_MODEL_MAX_LAYERS];
    prefrec_status s = read_dims(p, &d, &nl, width, err);
    if (s) return s;
    const prefrec_tensor *pe = prefrec_pack_find(p, "product.emb");
    if (!pe)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: tensor 'product.emb' is missing (a customer shard, not an item pack?)");
    if (pe->shape[0] > INT32_MAX / 2)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: too many products");
    uint64_t P = pe->shape[0], D = (uint64_t)d, h1 = (uint64_t)width[0], wmax = 0, deep = 0;
    for (int l = 0; l < nl; l++) wmax = (uint64_t)width[l] > wmax ? (uint64_t)width[l] : wmax;
    for (int l = 1; l < nl; l++) deep += (uint64_t)width[l] * (uint64_t)width[l - 1];
    uint64_t wl = (uint64_t)width[nl - 1], f = sizeof(float);
    c->n_products = (int32_t)P;
    c->dim = d;
    c->n_layers = nl;
    for (int l = 0; l < nl; l++) c->width[l] = width[l];
    /* widths <= 4096, d <= 1024, P < 2^30: every product below stays under 2^56 */
    /* a quantised product.emb is decoded a row at a time into the p1 rows (p1_row), not by the
     * pack: the row is h1 + d floats then */
    uint64_t row = h1 + (pemb_by_rows(p, pe) ? D : 0);
    c->load_bytes = sizeof(prefrec_model) + (P * row + 1) * f + P /* p1 and its row states */ +
        deep * f /* wt */ + D * h1 * f + (D + 63) / 64 * 8 /* w1t, all */;
    c->user_bytes = sizeof(prefrec_user) + (2 * h1 + 2 * D + 2 * wmax) * f /* a user */ +
        (3 * D + 2 * h1 + wmax * (2 * (uint64_t)nl + 2)) * f /* fold-in buffer */;
    /* per product: layer 1's add, the deeper layers, the output and GMF dot products */
    c->score_work = P * (h1 + deep + wl + D) + h1 * (D + PREFREC_MODEL_N_DEMO);
    /* per fold-in step: the customer half of layer 1; per history product and step: forward,
     * backward through the deeper layers and into u (see prefrec_user_fold_in) */
    c->fold_work_base =
        FOLD_STEPS * h1 * (D + PREFREC_MODEL_N_DEMO) + h1 * (D + PREFREC_MODEL_N_DEMO);
    c->fold_work_item = FOLD_STEPS * (2 * deep + h1 + h1 * D + 2 * D + 2 * wl);
    return PREFREC_OK;
}

static double mib(uint64_t bytes) { return (double)bytes / 1048576.0; }

LOAD_SIDE prefrec_status prefrec_model_check_budget(const prefrec_model_cost *c,
                                                    uint64_t extra_bytes, const char *who,
                                                    uint64_t pack_bytes, const prefrec_budget *b,
                                                    prefrec_error *err) {
    prefrec_budget d;
    if (!b) d = prefrec_budget_default(), b = &d;
    uint64_t need =
        prefrec_u64_add_sat(prefrec_u64_add_sat(c->load_bytes, c->user_bytes), extra_bytes);
    uint64_t limit = prefrec_budget_bytes(b, pack_bytes);
    char why[128];
    if (need > limit) {
        prefrec_budget_describe(b, pack_bytes, why, sizeof why);
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "pack: the %s would need %.1f MiB of working memory for %" PRId32
                                 " products x layer-1 width %d, over the budget of %.1f MiB (%s)",
                                 who, mib(need), c->n_products, c->width[0], mib(limit), why);
    }
    int wmax = 0;
    for (int l = 0; l < c->n_layers; l++) wmax = c->width[l] > wmax ? c->width[l] : wmax;
    if (c->score_work > b->max_work)
        return prefrec_error_set(
            err, PREFREC_E_RANGE,
            "pack: scoring every product would take %.3g multiply-adds per request "
            "(%" PRId32 " products x %d layers of widths up to %d), over the limit of %.3g",
            (double)c->score_work, c->n_products, c->n_layers, wmax, (double)b->max_work);
    return PREFREC_OK;
}

LOAD_SIDE prefrec_status prefrec_model_load(const prefrec_pack *p, prefrec_model **out,
                                            prefrec_error *err) {
    return prefrec_model_load_budget(p, NULL, out, err);
}

LOAD_SIDE prefrec_status prefrec_model_load_budget(const prefrec_pack *p,
                                                   const prefrec_budget *budget,
                                                   prefrec_model **out, prefrec_error *err) {
    *out = NULL;
    uint64_t max_fold_work = budget ? budget->max_fold_work : PREFREC_BUDGET_MAX_FOLD_WORK;
    prefrec_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "model: out of memory");
    m->pack = p;
    m->crc = prefrec_pack_crc(p);
    m->max_fold_work = max_fold_work;
    m->affiliate = prefrec_pack_manifest_str(p, "affiliate");
    if (!m->affiliate) m->affiliate = "";
    prefrec_status s = prefrec_model_cost_of(p, &m->cost, err);
    if (!s) {
        m->d = m->cost.dim;
        m->n_layers = m->cost.n_layers;
        memcpy(m->width, m->cost.width, sizeof m->width);
        m->n_products = m->cost.n_products;
    }
    uint32_t P = (uint32_t)m->n_products, d = (uint32_t)m->d;
    m->in0 = 2 * m->d + PREFREC_MODEL_N_DEMO;
    if (!s) { /* read in place (f32) or a row at a time (p1_row): never decoded whole */
        const uint32_t want[2] = {P, d};
        const prefrec_tensor *t = prefrec_pack_find(p, "product.emb");
        if (t && pemb_by_rows(p, t)) /* asked for as stored: the shape checked, not decoded */
            s = prefrec_pack_get(p, "product.emb", t->dtype, 2, want, &m->pemb_t, err);
        else
            s = get_f32(p, "product.emb", 2, P, d, &m->pemb, err);
    }
    if (!s) s = get_f32(p, "product.bias", 1, P, 0, &m->pbias, err);
    if (!s && prefrec_pack_find(p, "product.target"))
        s = get_f32(p, "product.target", 1, P, 0, &m->ptarget, err);
    for (int l = 0; !s && l < m->n_layers; l++) {
        char nw[] = "mlp.0.w", nb[] = "mlp.0.b"; /* l < PREFREC_MODEL_MAX_LAYERS <= 10; no
                                                     printf on the load path (docs/engine.md) */
        nw[4] = nb[4] = (char)('0' + l);
        uint32_t in = l == 0 ? (uint32_t)m->in0 : (uint32_t)m->width[l - 1];
        s = get_f32(p, nw, 2, (uint32_t)m->width[l], in, &m->w[l], err);
        if (!s) s = get_f32(p, nb, 1, (uint32_t)m->width[l], 0, &m->b[l], err);
    }
    const float *b0 = NULL;
    if (!s) s = get_f32(p, "out.gmf", 1, d, 0, &m->wg, err);
    if (!s) s = get_f32(p, "out.mlp", 1, (uint32_t)m->width[m->n_layers - 1], 0, &m->wm, err);
    if (!s) s = get_f32(p, "out.bias", 1, 1, 0, &b0, err);
    if (!s) s = load_catalog(m, p, err);
    /* before the first allocation sized by the pack */
    if (!s) s = prefrec_model_check_budget(&m->cost, 0, "model", prefrec_pack_size(p), budget, err);
    if (s) {
        prefrec_model_free(m);
        return s;
    }
    m->b0 = b0[0];
    for (int l = 0; l < m->n_layers; l++) m->wmax = m->width[l] > m->wmax ? m->width[l] : m->wmax;
    int h1 = m->width[0], ok = 1;
    /* within the budget, hence within SIZE_MAX / 2: these products cannot wrap */
    m->p1_stride = (size_t)h1 + (m->pemb ? 0 : (size_t)d);
    m->p1 = malloc((size_t)P * m->p1_stride * sizeof(float) + sizeof(float));
    for (int l = 1; l < m->n_layers; l++)
        ok &= (m->wt[l] = malloc((size_t)m->width[l] * (size_t)m->width[l - 1] * sizeof(float))) !=
            NULL;
    if (!m->p1 || !ok) {
        prefrec_model_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "model: out of memory");
    }
    for (int l = 1; l < m->n_layers; l++) {
        int in = m->width[l - 1], o = m->width[l];
        for (int j = 0; j < o; j++)
            for (int i = 0; i < in; i++) m->wt[l][(size_t)i * o + j] = m->w[l][(size_t)j * in + i];
    }
    /* the product half of layer 1 is filled row by row on first use (p1_row): a page that asks
     * the blend first, or the NeuMF over a candidate set, never pays for the whole catalogue */
    m->p1_state = calloc((size_t)P + 1, 1);
    m->w1t = malloc((size_t)d * (size_t)h1 * sizeof(float));
    m->all = malloc(((size_t)d + 63) / 64 * sizeof(uint64_t));
    if (!m->p1_state || !m->w1t || !m->all) {
        prefrec_model_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "model: out of memory");
    }
    for (int j = 0; j < h1; j++)
        for (uint32_t k = 0; k < d; k++)
            m->w1t[(size_t)k * h1 + j] = m->w[0][(size_t)j * m->in0 + d + k];
    for (uint32_t k = 0; k < d; k += 64)
        m->all[k / 64] = d - k >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (d - k)) - 1;
    *out = m;
    return PREFREC_OK;
}

const prefrec_model_cost *prefrec_model_get_cost(const prefrec_model *m) { return &m->cost; }

int prefrec_model_dim(const prefrec_model *m) { return m->d; }
int prefrec_model_n_layers(const prefrec_model *m) { return m->n_layers; }
int prefrec_model_layer_width(const prefrec_model *m, int l) {
    return l >= 0 && l < m->n_layers ? m->width[l] : 0;
}
int32_t prefrec_model_n_products(const prefrec_model *m) { return m->n_products; }
const char *prefrec_model_affiliate(const prefrec_model *m) { return m->affiliate; }
const char *prefrec_model_product_code(const prefrec_model *m, int32_t p) {
    return prefrec_strings_at(&m->code, (uint32_t)p);
}
const char *prefrec_model_product_name(const prefrec_model *m, int32_t p) {
    return prefrec_strings_at(&m->name, (uint32_t)p);
}
const char *prefrec_model_product_category(const prefrec_model *m, int32_t p) {
    return m->cat[p] < 0 ? "" : prefrec_strings_at(&m->cat_names, (uint32_t)m->cat[p]);
}
const char *prefrec_model_product_subcategory(const prefrec_model *m, int32_t p) {
    return m->sub[p] < 0 ? "" : prefrec_strings_at(&m->sub_names, (uint32_t)m->sub[p]);
}
int32_t prefrec_model_product_category_id(const prefrec_model *m, int32_t p) { return m->cat[p]; }
int32_t prefrec_model_n_categories(const prefrec_model *m) { return m->n_cat; }
int32_t prefrec_model_find_product(const prefrec_model *m, const char *code) {
    for (int32_t i = 0; i < m->n_products; i++)
        if (!strcmp(prefrec_strings_at(&m->code, (uint32_t)i), code)) return i;
    return -1;
}

/* ---- customers ------------------------------------------------------------------------------ */
void prefrec_customers_free(prefrec_customers *cs) { free(cs); }

LOAD_SIDE prefrec_status prefrec_customers_load(const prefrec_pack *p, const prefrec_model *m,
                                                prefrec_customers **out, prefrec_error *err) {
    *out = NULL;
    int d, nl, width[PREFREC_MODEL_MAX_LAYERS];
    prefrec_status s = read_dims(p, &d, &nl, width, err);
    if (s) return s;
    if (d != m->d)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: customer dim %d differs from the model's %d", d, m->d);
    const char *part = prefrec_pack_manifest_str(p, "part");
    if (part && !strcmp(part, "customers")) {
        double crc = prefrec_pack_manifest_num(p, "item_crc", -1);
        if (crc != (double)m->crc)
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: customer shard belongs to item pack %08llx, not this model (%08x)",
                crc >= 0 ? (unsigned long long)crc : 0ull, m->crc);
    } else if (p != m->pack && prefrec_pack_crc(p) != m->crc) {
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: customer side comes from a different pack than the model");
    }
    prefrec_customers *cs = calloc(1, sizeof *cs);
    if (!cs) return prefrec_error_set(err, PREFREC_E_NOMEM, "model: out of memory");
    cs->pack = p;
    cs->d = d;
    s = prefrec_pack_strings(p, "customer.code", &cs->code, err);
    uint32_t C = cs->code.n;
    if (!s && C > INT32_MAX / 4)
        s = prefrec_error_set(err, PREFREC_E_FORMAT, "pack: %u customers, at most %d", C,
                              INT32_MAX / 4);
    const prefrec_tensor *t;
    uint32_t c1 = C + 1;
    if (!s) s = get_f32(p, "customer.emb", 2, C, (uint32_t)d, &cs->emb, err);
    if (!s) s = get_f32(p, "customer.bias", 1, C, 0, &cs->bias, err);
    if (!s) s = get_f32(p, "customer.age", 1, C, 0, &cs->age, err);
    if (!s && !(s = prefrec_pack_get(p, "customer.gender", PREFREC_DT_I8, 1, &C, &t, err)))
        cs->gender = t->data;
    if (!s && !(s = prefrec_pack_get(p, "customer.bought.off", PREFREC_DT_U32, 1, &c1, &t, err)))
        cs->boff = t->data;
    if (!s && !(s = prefrec_pack_get(p, "customer.bought.idx", PREFREC_DT_I32, 1, NULL, &t, err))) {
        cs->bidx = t->data;
        if (cs->boff[0] != 0 || cs->boff[C] != t->n_elems)
            s = prefrec_error_set(err, PREFREC_E_FORMAT,
                                  "pack: customer.bought.off must run from 0 to %llu",
                                  (unsigned long long)t->n_elems);
    }
    /* every offset first (ascending, so within [0, n_elems]), then the lists they bound: an
     * offset past the index tensor is never used to read it */
    for (uint32_t c = 1; !s && c <= C; c++) {
        if (cs->boff[c] > cs->boff[C])
            s = prefrec_error_set(err, PREFREC_E_FORMAT,
                                  "pack: customer.bought.off[%u] = %u is past the end of "
                                  "customer.bought.idx (%u entries)",
                                  c, cs->boff[c], cs->boff[C]);
        else if (cs->boff[c] < cs->boff[c - 1])
            s = prefrec_error_set(err, PREFREC_E_FORMAT, "pack: customer.bought.off[%u] decreases",
                                  c);
    }
    for (uint32_t c = 0; !s && c < C; c++) {
        for (uint32_t k = cs->boff[c]; !s && k < cs->boff[c + 1]; k++)
            if (cs->bidx[k] < 0 || cs->bidx[k] >= m->n_products ||
                (k > cs->boff[c] && cs->bidx[k] <= cs->bidx[k - 1]))
                s = prefrec_error_set(
                    err, PREFREC_E_FORMAT,
                    "pack: customer.bought.idx[%u] is out of range or not ascending", k);
    }
    if (s) {
        free(cs);
        return s;
    }
    cs->n = (int32_t)C;
    *out = cs;
    return PREFREC_OK;
}

int32_t prefrec_customers_count(const prefrec_customers *cs) { return cs->n; }
int32_t prefrec_customers_find(const prefrec_customers *cs, const char *code) {
    for (int32_t i = 0; i < cs->n; i++)
        if (!strcmp(prefrec_strings_at(&cs->code, (uint32_t)i), code)) return i;
    return -1;
}
const char *prefrec_customers_code(const prefrec_customers *cs, int32_t c) {
    return prefrec_strings_at(&cs->code, (uint32_t)c);
}
int prefrec_customers_gender(const prefrec_customers *cs, int32_t c) {
    return cs->gender[c] == 0 || cs->gender[c] == 1 ? cs->gender[c] : -1;
}
float prefrec_customers_age(const prefrec_customers *cs, int32_t c) { return cs->age[c]; }
const int32_t *prefrec_customers_bought(const prefrec_customers *cs, int32_t c, size_t *n) {
    *n = cs->boff[c + 1] - cs->boff[c];
    return cs->bidx + cs->boff[c];
}

/* ---- users and scoring ---------------------------------------------------------------------- */
void prefrec_user_free(prefrec_user *u) {
    if (!u) return;
    free(u->c1);
    free(u);
}

prefrec_status prefrec_user_new(const prefrec_model *m, const float *emb, float bias, int gender,
                                float age, prefrec_user **out, prefrec_error *err) {
    *out = NULL;
    int d = m->d, h1 = m->width[0], wmax = m->wmax;
    prefrec_user *u = calloc(1, sizeof *u);
    float *buf =
        u ? malloc((2 * (size_t)h1 + 2 * (size_t)d + 2 * (size_t)wmax) * sizeof(float)) : NULL;
    if (!buf) {
        free(u);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "model: out of memory");
    }
    u->c1 = buf;
    u->g = buf + h1;
    u->act = buf + h1 + d;
    u->p1tmp = u->act + 2 * wmax;
    u->bias = emb ? bias : 0.0f;
    float x[PREFREC_MODEL_N_DEMO];
    prefrec_model_demo(gender, age, x);
    for (int j = 0; j < h1; j++) {
        const float *row = m->w[0] + (size_t)j * m->in0;
        float acc = 0.0f;
        if (emb)
            for (int k = 0; k < d; k++) acc += row[k] * emb[k];
        for (int k = 0; k < PREFREC_MODEL_N_DEMO; k++) acc += row[2 * d + k] * x[k];
        u->c1[j] = acc;
    }
    for (int k = 0; k < d; k++) u->g[k] = emb ? m->wg[k] * emb[k] : 0.0f;
    *out = u;
    return PREFREC_OK;
}

prefrec_status prefrec_user_from_customer(const prefrec_model *m, const prefrec_customers *cs,
                                          int32_t c, prefrec_user **out, prefrec_error *err) {
    if (c < 0 || c >= cs->n)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "model: customer index %d out of range",
                                 c);
    return prefrec_user_new(m, cs->emb + (size_t)c * cs->d, cs->bias[c],
                            prefrec_customers_gender(cs, c), cs->age[c], out, err);
}

#if defined(__GNUC__) || defined(__clang__)
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif
typedef float v4f __attribute__((vector_size(16), aligned(4))); /* unaligned loads allowed */
#define PREFREC_V4F 1
#endif

/* out[j] = relu(bias[j] + sum_i in[i] * wt[i][j]) with wt transposed [n_in][n_out].
 * Every output adds its terms in the order i = 0, 1, ... here and in dense_pre below, so the
 * SIMD and scalar paths, native and wasm, give bit-identical results (no FMA contraction: ISO C
 * mode natively, and wasm simd128 has no fused multiply-add). Inputs that are exactly 0 (ReLU's
 * zeros, about 60%) are skipped: adding 0 * w changes no sum. */
static void dense_relu(const float *restrict in, int n_in, const float *restrict wt,
                       const float *restrict bias, int n_out, float *restrict out) {
    for (int j = 0; j < n_out; j++) out[j] = bias[j];
    for (int i = 0; i < n_in; i++) {
        const float ai = in[i];
        if (ai == 0.0f) continue;
        const float *restrict row = wt + (size_t)i * n_out;
        for (int j = 0; j < n_out; j++) out[j] += ai * row[j];
    }
    for (int j = 0; j < n_out; j++) out[j] = out[j] > 0.0f ? out[j] : 0.0f;
}

float prefrec_model_score(const prefrec_model *m, prefrec_user *u, int32_t p) {
    int d = m->d, h = m->width[0];
    const float *restrict p1 = p1_row(m, p, u->p1tmp);
    const float *restrict c1 = u->c1;
    float *cur = u->act, *nxt = u->act + m->wmax; /* act holds 2 * wmax floats */
    for (int j = 0; j < h; j++) {
        float v = c1[j] + p1[j];
        cur[j] = v > 0.0f ? v : 0.0f;
    }
    for (int l = 1; l < m->n_layers; l++) {
        int o = m->width[l];
        dense_relu(cur, h, m->wt[l], m->b[l], o, nxt);
        float *t = cur;
        cur = nxt;
        nxt = t;
        h = o;
    }
    float y = m->b0 + u->bias + m->pbias[p];
    const float *v = pemb_row(m, p, p1);
    for (int k = 0; k < d; k++) y += u->g[k] * v[k];
    for (int j = 0; j < h; j++) y += m->wm[j] * cur[j];
    if (!(y > 0.0f)) return 0.0f; /* also maps NaN to 0 */
    return y < PREFREC_MODEL_SCORE_MAX ? y : PREFREC_MODEL_SCORE_MAX;
}

#ifdef PREFREC_V4F
typedef int32_t v4i __attribute__((vector_size(16), aligned(4)));

/* sum of a[i] * relu(b[i]), i < n (n a multiple of 4), in four lanes added in a fixed order */
static inline float dot_relu_v4(const float *a, const float *b, int n) {
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
    v4f acc = zero;
    for (int k = 0; k < n; k += 4) {
        v4f x = *(const v4f *)(b + k);
        acc += *(const v4f *)(a + k) * (v4f)((v4i)x & (v4i)(x > zero)); /* ReLU; NaN -> 0 */
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

static inline float dot_v4(const float *a, const float *b, int n) {
    v4f acc = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k = 0; k < n; k += 4) acc += *(const v4f *)(a + k) * *(const v4f *)(b + k);
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* bit k set when lane k of v is > 0 (a NaN lane is clear) */
static inline __attribute__((always_inline)) uint32_t positive4(v4f v) {
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
#if defined(__wasm_simd128__)
    return (uint32_t)wasm_i32x4_bitmask((v128_t)(v > zero));
#elif defined(__SSE__)
    return (uint32_t)_mm_movemask_ps((__m128)(v > zero));
#else
    v4i c = v > zero; /* lanes are 0 or -1 */
    return (uint32_t)((c[0] & 1) | (c[1] & 2) | (c[2] & 4) | (c[3] & 8));
#endif
}

/* bits[w] bit k set when pre[64 w + k] > 0, for n (a multiple of 4) inputs */
static inline void positive_bits(const float *pre, int n, uint64_t *bits) {
    for (int w = 0; w < n; w += 64) {
        int e = n - w < 64 ? n - w : 64;
        uint64_t b = 0;
        for (int j = 0; j < e; j += 4) b |= (uint64_t)positive4(*(const v4f *)(pre + w + j)) << j;
        bits[w / 64] = b;
    }
}

/* out = bias + sum over the i whose bit is set of pre[i] * wt[i][:] (wt transposed
 * [n_in][4 NQ]). With the bits of the positive inputs (positive_bits) this is the next layer's
 * pre-activations from this layer's, ReLU applied by skipping: the positive inputs (about 40%
 * after the first layer) are visited in ascending order, so the sums add in the same order as
 * the dense loop of dense_relu and the results do not depend on the path. NQ groups of 4
 * outputs stay in registers throughout. */
#define DENSE_PRE_V(NQ) \
    static void dense_pre_v##NQ(const float *restrict pre, const uint64_t *bits, int n_in, \
                                const float *restrict wt, const float *restrict bias, \
                                float *restrict out) { \
        v4f acc[NQ]; \
        for (int q = 0; q < NQ; q++) acc[q] = *(const v4f *)(bias + 4 * q); \
        for (int w = 0; w < n_in; w += 64) { \
            for (uint64_t b = bits[w / 64]; b; b &= b - 1) { \
                int i = w + __builtin_ctzll(b); \
                const float ai = pre[i]; \
                const v4f a = {ai, ai, ai, ai}; \
                const float *restrict row = wt + (size_t)i * (4 * NQ); \
                for (int q = 0; q < NQ; q++) acc[q] += a * *(const v4f *)(row + 4 * q); \
            } \
        } \
        for (int q = 0; q < NQ; q++) *(v4f *)(out + 4 * q) = acc[q]; \
    }
DENSE_PRE_V(4)
DENSE_PRE_V(8)
DENSE_PRE_V(16)
#endif

/* dense_pre_v* for widths 16, 32 and 64, the same sums one by one for other widths */
static void dense_pre(const float *restrict pre, const uint64_t *bits, int n_in,
                      const float *restrict wt, const float *restrict bias, int n_out,
                      float *restrict out) {
#ifdef PREFREC_V4F
    if (n_out == 16) return dense_pre_v4(pre, bits, n_in, wt, bias, out);
    if (n_out == 32) return dense_pre_v8(pre, bits, n_in, wt, bias, out);
    if (n_out == 64) return dense_pre_v16(pre, bits, n_in, wt, bias, out);
#endif
    for (int j = 0; j < n_out; j++) out[j] = bias[j];
    for (int i = 0; i < n_in; i++) {
        if (!(bits[i / 64] >> (i % 64) & 1)) continue;
        const float ai = pre[i];
        const float *restrict row = wt + (size_t)i * n_out;
        for (int j = 0; j < n_out; j++) out[j] += ai * row[j];
    }
}

/* p1[q] = b1 + W1[:, d:2d] v_q: dense_pre with every input taken, so each output sums in the
 * order k = 0, 1, ... (as the scalar loop would), 4 outputs at a time. Rows are filled on first
 * use, the same bits whenever and by whichever thread: the first caller claims the row
 * (EMPTY -> BUSY), fills it and publishes it (READY, release); a caller that finds it BUSY
 * computes the same values into its own tmp ([h1]) instead of waiting. The engine stays
 * shareable between threads (prefrec/engine.h): the rows are a cache of a pure function.
 * (P1_EMPTY, P1_BUSY, P1_READY: model_internal.h, where tests/core/test_model_busy.c holds a
 * row BUSY.) */
static const float *p1_row(const prefrec_model *m, int32_t p, float *tmp) {
    size_t h1 = (size_t)m->width[0];
    float *row = m->p1 + (size_t)p * m->p1_stride;
    unsigned char st = atomic_load_explicit(&m->p1_state[p], memory_order_acquire);
    if (st == P1_READY) return row;
    unsigned char empty = P1_EMPTY;
    int mine = st == P1_EMPTY &&
        atomic_compare_exchange_strong_explicit(&m->p1_state[p], &empty, P1_BUSY,
                                                memory_order_acquire, memory_order_acquire);
    if (!mine && empty == P1_READY) return row;
    float *out = mine ? row : tmp;
    if (!m->pemb) prefrec_pack_row_f32(m->pemb_t, (uint64_t)p, 1, out + h1);
    dense_pre(pemb_row(m, p, out), m->all, m->d, m->w1t, m->b[0], (int)h1, out);
    if (mine) atomic_store_explicit(&m->p1_state[p], P1_READY, memory_order_release);
    return out;
}

#ifdef PREFREC_V4F
/* The scoring of prefrec_model_score on pre-activations, with the GMF and output dot products
 * in four lanes: used by score_all when every width and the dimension are multiples of 4 (the
 * trained shapes are). The four-lane sums round differently from the sequential ones, by a few
 * ulps; the native and wasm builds both take this path. */
static float score_v4(const prefrec_model *m, const prefrec_user *u, int32_t p, float *cur,
                      float *nxt) {
    int d = m->d, h = m->width[0];
    const float *p1 = p1_row(m, p, u->p1tmp), *c1 = u->c1;
    uint64_t bits[4096 / 64];
    for (int w = 0; w < h; w += 64) { /* layer 1: pre-activations and their signs in one pass */
        int e = h - w < 64 ? h - w : 64;
        uint64_t b = 0;
        for (int j = w; j < w + e; j += 4) {
            v4f v = *(const v4f *)(c1 + j) + *(const v4f *)(p1 + j);
            *(v4f *)(cur + j) = v;
            b |= (uint64_t)positive4(v) << (j - w);
        }
        bits[w / 64] = b;
    }
    for (int l = 1; l < m->n_layers; l++) {
        int o = m->width[l];
        if (l > 1) positive_bits(cur, h, bits);
        dense_pre(cur, bits, h, m->wt[l], m->b[l], o, nxt);
        float *t = cur;
        cur = nxt;
        nxt = t;
        h = o;
    }
    float y = (m->b0 + u->bias + m->pbias[p]) + dot_v4(u->g, pemb_row(m, p, p1), d) +
        dot_relu_v4(m->wm, cur, h);
    if (!(y > 0.0f)) return 0.0f;
    return y < PREFREC_MODEL_SCORE_MAX ? y : PREFREC_MODEL_SCORE_MAX;
}
#endif

void prefrec_model_score_all(const prefrec_model *m, prefrec_user *u, float *out) {
#ifdef PREFREC_V4F
    int ok = m->d % 4 == 0;
    for (int l = 0; l < m->n_layers; l++) ok &= m->width[l] % 4 == 0;
    if (ok) {
        for (int32_t p = 0; p < m->n_products; p++)
            out[p] = score_v4(m, u, p, u->act, u->act + m->wmax);
        return;
    }
#endif
    for (int32_t p = 0; p < m->n_products; p++) out[p] = prefrec_model_score(m, u, p);
}

void prefrec_model_score_some(const prefrec_model *m, prefrec_user *u, const int32_t *products,
                              size_t n, float *out) {
#ifdef PREFREC_V4F
    int ok = m->d % 4 == 0;
    for (int l = 0; l < m->n_layers; l++) ok &= m->width[l] % 4 == 0;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            out[i] = score_v4(m, u, products[i], u->act, u->act + m->wmax);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) out[i] = prefrec_model_score(m, u, products[i]);
}

/* ---- fold-in: a customer vector from a purchase history, product weights fixed ------------- */
/* Why gradient descent with fixed steps: it needs no solver, runs in a few milliseconds for a
 * typical history, and is deterministic (fixed iteration count and summation order) so native
 * and wasm agree. The loss is mean squared error of the history products' predictions against
 * their expected score - the product's mean training score ("product.target") when the pack has
 * it, else the manifest's "target_mean" (3.0 if absent) - plus L2 on the vector and bias, which
 * keeps short histories close to the segment prior. */
#define FOLD_LR 0.1f
#define FOLD_L2 0.01f

prefrec_status prefrec_user_fold_in(const prefrec_model *m, const int32_t *hist, size_t n,
                                    int gender, float age, prefrec_user **out, prefrec_error *err) {
    *out = NULL;
    int d = m->d, L = m->n_layers, h1 = m->width[0], W = m->wmax;
    float target = (float)prefrec_pack_manifest_num(m->pack, "target_mean", 3.0);
    for (size_t i = 0; i < n; i++)
        if (hist[i] < 0 || hist[i] >= m->n_products)
            return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                     "fold-in: product index %d out of range", hist[i]);
    /* the work grows with the history times the model's size: bounded per request */
    uint64_t work =
        prefrec_u64_add_sat(m->cost.fold_work_base, prefrec_u64_mul_sat(n, m->cost.fold_work_item));
    if (work > m->max_fold_work)
        return prefrec_error_set(
            err, PREFREC_E_RANGE,
            "fold-in: a history of %zu products would take %.3g multiply-adds with this "
            "model, over the limit of %.3g: at most %" PRIu64,
            n, (double)work, (double)m->max_fold_work,
            m->max_fold_work > m->cost.fold_work_base
                ? (m->max_fold_work - m->cost.fold_work_base) / m->cost.fold_work_item
                : 0);
    float *buf =
        calloc((size_t)d * 3 + 2 * (size_t)h1 + (size_t)W * (size_t)(2 * L + 2), sizeof(float));
    if (!buf) return prefrec_error_set(err, PREFREC_E_NOMEM, "fold-in: out of memory");
    float *p1tmp = buf, *u = p1tmp + h1 + d, *gu = u + d, *c1 = gu + d;
    float *z = c1 + h1; /* z: L layers x W pre-activations */
    float *delta = z + (size_t)W * L, *dprev = delta + W;
    float bias = 0.0f, x[PREFREC_MODEL_N_DEMO];
    prefrec_model_demo(gender, age, x);
    for (int it = 0; it < FOLD_STEPS && n > 0; it++) {
        for (int j = 0; j < h1; j++) {
            const float *row = m->w[0] + (size_t)j * m->in0;
            float acc = 0.0f;
            for (int k = 0; k < d; k++) acc += row[k] * u[k];
            for (int k = 0; k < PREFREC_MODEL_N_DEMO; k++) acc += row[2 * d + k] * x[k];
            c1[j] = acc;
        }
        for (int k = 0; k < d; k++) gu[k] = 2.0f * FOLD_L2 * u[k];
        float gb = 2.0f * FOLD_L2 * bias;
        for (size_t i = 0; i < n; i++) {
            int32_t p = hist[i];
            const float *p1 = p1_row(m, p, p1tmp), *v = pemb_row(m, p, p1);
            /* forward, keeping pre-activations */
            for (int j = 0; j < h1; j++) z[j] = c1[j] + p1[j];
            for (int l = 1; l < L; l++) {
                const float *prev = z + (size_t)(l - 1) * W, *wl = m->w[l];
                float *zl = z + (size_t)l * W;
                int in = m->width[l - 1];
                for (int j = 0; j < m->width[l]; j++) {
                    float acc = m->b[l][j];
                    for (int k = 0; k < in; k++)
                        acc += wl[(size_t)j * in + k] * (prev[k] > 0.0f ? prev[k] : 0.0f);
                    zl[j] = acc;
                }
            }
            const float *zL = z + (size_t)(L - 1) * W;
            float y = m->b0 + bias + m->pbias[p];
            for (int k = 0; k < d; k++) y += m->wg[k] * u[k] * v[k];
            for (int j = 0; j < m->width[L - 1]; j++) y += m->wm[j] * (zL[j] > 0.0f ? zL[j] : 0.0f);
            float g = 2.0f * (y - (m->ptarget ? m->ptarget[p] : target)) / (float)n;
            /* backward to c1, then to u */
            for (int j = 0; j < m->width[L - 1]; j++) delta[j] = zL[j] > 0.0f ? g * m->wm[j] : 0.0f;
            for (int l = L - 1; l >= 1; l--) {
                const float *zp = z + (size_t)(l - 1) * W, *wl = m->w[l];
                int in = m->width[l - 1];
                for (int k = 0; k < in; k++) dprev[k] = 0.0f;
                for (int j = 0; j < m->width[l]; j++)
                    for (int k = 0; k < in; k++) dprev[k] += wl[(size_t)j * in + k] * delta[j];
                for (int k = 0; k < in; k++) delta[k] = zp[k] > 0.0f ? dprev[k] : 0.0f;
            }
            for (int k = 0; k < d; k++) {
                float acc = g * m->wg[k] * v[k];
                for (int j = 0; j < h1; j++) acc += m->w[0][(size_t)j * m->in0 + k] * delta[j];
                gu[k] += acc;
            }
            gb += g;
        }
        for (int k = 0; k < d; k++) u[k] -= FOLD_LR * gu[k];
        bias -= FOLD_LR * gb;
    }
    prefrec_status s = prefrec_user_new(m, n ? u : NULL, bias, gender, age, out, err);
    free(buf);
    return s;
}

int32_t prefrec_model_product_subcategory_id(const prefrec_model *m, int32_t p) {
    return m->sub[p];
}
int32_t prefrec_model_n_subcategories(const prefrec_model *m) { return m->n_sub; }
const char *prefrec_model_category_name(const prefrec_model *m, int32_t c) {
    return c >= 0 && c < m->n_cat ? prefrec_strings_at(&m->cat_names, (uint32_t)c) : "";
}
