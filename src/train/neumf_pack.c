/* neumf_pack.c - write a trained NeuMF model as a "full" model pack (item side + customer side),
 * tensor names and manifest keys as in docs/model.md. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_build.h"
#include "prefrec/blend.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/native/train.h"
#include "prefrec/repeat.h"
#include "pack_dist.h"

static prefrec_status add_f32(prefrec_pack_writer *w, const char *name, uint32_t a, uint32_t b,
                              const float *x, prefrec_error *err) {
    uint32_t shape[2] = {a, b};
    return prefrec_pack_writer_add(w, name, PREFREC_DT_F32, b ? 2 : 1, shape, x, err);
}

int prefrec_neumf_store_items(prefrec_neumf *net, const char *plan) {
    uint32_t P = (uint32_t)net->n_products, d = (uint32_t)net->dim;
    int bad = 0;
    char name[32];
    /* rows as in the pack: a matrix's rows, a vector is one row */
#define STORE(nm, x, r, c) \
    do { \
        int dt_ = prefrec_quant_plan_dtype(plan, nm); \
        bad |= dt_ < 0 || prefrec_quant_roundtrip((uint32_t)dt_, r, c, x); \
    } while (0)
    STORE("product.emb", net->pemb, P, d);
    STORE("product.bias", net->pbias, 1, P);
    for (int l = 0; l < net->n_layers; l++) {
        uint32_t in = l ? (uint32_t)net->width[l - 1] : 2 * d + PREFREC_MODEL_N_DEMO;
        snprintf(name, sizeof name, "mlp.%d.w", l);
        STORE(name, net->w[l], (uint32_t)net->width[l], in);
        snprintf(name, sizeof name, "mlp.%d.b", l);
        STORE(name, net->b[l], 1, (uint32_t)net->width[l]);
    }
    STORE("out.gmf", net->wg, 1, d);
    STORE("out.mlp", net->wm, 1, (uint32_t)net->width[net->n_layers - 1]);
    STORE("out.bias", &net->b0, 1, 1);
#undef STORE
    return bad;
}

/* The served blend (prefrec/blend.h documents the tensors). */
static prefrec_status blend_add(prefrec_pack_writer *w, const prefrec_blend_tensors *t,
                                prefrec_error *err) {
    uint32_t P = (uint32_t)t->n_products, m = (uint32_t)t->m;
    uint32_t pm[2] = {P, m}, sp[2] = {PREFREC_N_SEGMENTS, P};
    prefrec_status s =
        prefrec_pack_writer_add(w, "blend.ease.nbr", PREFREC_DT_I32, 2, pm, t->ease_nbr, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.ease.w", PREFREC_DT_F32, 2, pm, t->ease_w, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.knn.nbr", PREFREC_DT_I32, 2, pm, t->knn_nbr, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.knn.w", PREFREC_DT_F32, 2, pm, t->knn_w, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.pop.seg", PREFREC_DT_F32, 2, sp, t->pop_seg, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.trend", PREFREC_DT_F32, 1, &P, t->trend, err);
    if (!s) s = prefrec_pack_writer_add(w, "blend.pop.all", PREFREC_DT_F32, 1, &P, t->pop_all, err);
    /* blend.pop.seg's counts, for export's pc8 / pc16 (not copied into item packs as such) */
    uint32_t nc = (uint32_t)t->pop_code_bytes;
    if (!s && t->pop_code)
        s = prefrec_pack_writer_add(w, "blend.pop.cnt", PREFREC_DT_U8, 1, &nc, t->pop_code, err);
    return s;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The bought sets: each customer's distinct products among all pairs, ascending (CSR). */
prefrec_status nm_pack_bought(const prefrec_train_data *td, uint32_t **off_out, int32_t **idx_out,
                              uint32_t *nnz, prefrec_error *err) {
    uint32_t C = (uint32_t)td->n_customers;
    uint32_t *off = calloc((size_t)C + 1, sizeof *off);
    int32_t *idx = malloc(td->n_pairs * sizeof *idx + 1);
    uint32_t *fill = calloc((size_t)C + 1, sizeof *fill);
    if (!off || !idx || !fill) {
        free(off), free(idx), free(fill);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    }
    for (size_t i = 0; i < td->n_pairs; i++) off[td->customer[i] + 1]++;
    for (uint32_t c = 0; c < C; c++) off[c + 1] += off[c];
    for (size_t i = 0; i < td->n_pairs; i++) {
        int32_t c = td->customer[i];
        idx[off[c] + fill[c]++] = td->product[i];
    }
    /* sort each row and drop duplicates, compacting in place */
    uint32_t w = 0, start = 0;
    for (uint32_t c = 0; c < C; c++) {
        uint32_t lo = start, hi = off[c + 1];
        start = hi;
        qsort(idx + lo, hi - lo, sizeof *idx, cmp_i32);
        off[c] = w;
        for (uint32_t k = lo; k < hi; k++)
            if (k == lo || idx[k] != idx[k - 1]) idx[w++] = idx[k];
    }
    off[C] = w;
    free(fill);
    *off_out = off;
    *idx_out = idx;
    *nnz = w;
    return PREFREC_OK;
}

static char *manifest_json(const prefrec_neumf *net, const prefrec_pack_meta *meta, uint32_t C,
                           uint32_t nnz) {
    json_build jb = {0};
    cJSON *m = json_root(&jb);
    if (!m) return NULL;
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, net->seed);
    json_str(&jb, m, "format", "prefrec-pack");
    json_str(&jb, m, "kind", "neumf");
    json_str(&jb, m, "part", "full");
    json_str(&jb, m, "affiliate", meta->affiliate ? meta->affiliate : "");
    if (meta->asof) json_str(&jb, m, "asof", meta->asof);
    json_str(&jb, m, "seed", seed);
    json_num(&jb, m, "dim", net->dim);
    cJSON *mlp = json_arr(&jb, m, "mlp");
    for (int l = 0; l < net->n_layers; l++) json_push(&jb, mlp, cJSON_CreateNumber(net->width[l]));
    json_str(&jb, m, "inputs", "u[dim], v[dim], male, female, (age-45)/15, age_unknown");
    json_num(&jb, m, "score_max", PREFREC_MODEL_SCORE_MAX);
    json_num(&jb, m, "n_products", net->n_products);
    json_num(&jb, m, "n_customers", C);
    json_num(&jb, m, "n_categories", meta->n_categories);
    json_num(&jb, m, "n_subcategories", meta->n_subcategories);
    json_num(&jb, m, "n_bought", nnz);
    const prefrec_train_params *tp = meta->params;
    const prefrec_train_report *r = meta->report;
    if (tp && r) {
        cJSON *t = json_obj(&jb, m, "training");
        json_num(&jb, t, "pairs", (double)(r->n_train + r->n_valid));
        json_num(&jb, t, "train_pairs", (double)r->n_train);
        json_num(&jb, t, "valid_pairs", (double)r->n_valid);
        json_num(&jb, t, "epochs_max", tp->epochs);
        json_num(&jb, t, "epochs_run", r->epochs_run);
        json_num(&jb, t, "best_epoch", r->best_epoch);
        json_num(&jb, t, "batch", tp->batch);
        json_num(&jb, t, "lr", tp->lr);
        json_num(&jb, t, "l2", tp->l2);
        json_num(&jb, t, "valid_frac", tp->valid_frac);
        json_num(&jb, t, "train_loss", r->train_loss);
        json_num(&jb, t, "train_rmse", r->train_rmse);
        json_num(&jb, t, "valid_rmse", isfinite(r->valid_rmse) ? r->valid_rmse : -1.0);
    }
    if (meta->blend) {
        cJSON *b = json_obj(&jb, m, "blend"), *wo = json_obj(&jb, b, "w");
        for (int k = 0; k < PREFREC_BW_COUNT; k++)
            json_num(&jb, wo, prefrec_blend_weight_names[k], meta->blend->w[k]);
        json_num(&jb, b, "tiebreak", 1e-6);
        json_num(&jb, b, "neighbors", meta->blend->m);
        json_num(&jb, b, "min_group", meta->blend->min_group);
    }
    if (meta->product_target) json_num(&jb, m, "target_mean", meta->target_mean);
    if (meta->repeat && meta->repeat_prior) {
        const prefrec_repeat_params *rp = meta->repeat;
        cJSON *r = json_obj(&jb, m, "repeat");
        json_num(&jb, r, "half_life_days", rp->half_life_days);
        json_num(&jb, r, "w_due", rp->w_due);
        json_num(&jb, r, "beta", rp->beta);
        json_num(&jb, r, "due_width", rp->due_width);
        cJSON *x = json_obj(&jb, m, "mixed");
        json_num(&jb, x, "share", meta->mixed_share);
        json_num(&jb, x, "shrink", meta->mixed_shrink);
    }
    return json_print(&jb, m, 0);
}

prefrec_status nm_pack_item_side(prefrec_pack_writer *w, const prefrec_neumf *net,
                                 const prefrec_pack_meta *meta, uint32_t C, uint32_t nnz,
                                 prefrec_error *err) {
    uint32_t P = (uint32_t)net->n_products, d = (uint32_t)net->dim;
    char *json = manifest_json(net, meta, C, nnz);
    prefrec_status s =
        json ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    /* item side first: a browser could stop reading after it */
    if (!s) s = add_f32(w, "product.emb", P, d, net->pemb, err);
    if (!s) s = add_f32(w, "product.bias", P, 0, net->pbias, err);
    int in = 2 * net->dim + PREFREC_MODEL_N_DEMO;
    for (int l = 0; !s && l < net->n_layers; l++) {
        char nw[32], nb[32];
        snprintf(nw, sizeof nw, "mlp.%d.w", l);
        snprintf(nb, sizeof nb, "mlp.%d.b", l);
        s = add_f32(w, nw, (uint32_t)net->width[l], (uint32_t)in, net->w[l], err);
        if (!s) s = add_f32(w, nb, (uint32_t)net->width[l], 0, net->b[l], err);
        in = net->width[l];
    }
    float b0 = net->b0;
    if (!s) s = add_f32(w, "out.gmf", d, 0, net->wg, err);
    if (!s) s = add_f32(w, "out.mlp", (uint32_t)in, 0, net->wm, err);
    if (!s) s = add_f32(w, "out.bias", 1, 0, &b0, err);
    if (!s) s = prefrec_pack_writer_add_strings(w, "product.code", meta->product_code, P, err);
    if (!s) s = prefrec_pack_writer_add_strings(w, "product.name", meta->product_name, P, err);
    if (!s)
        s = prefrec_pack_writer_add(w, "product.cat", PREFREC_DT_I32, 1, &P, meta->product_cat,
                                    err);
    if (!s)
        s = prefrec_pack_writer_add(w, "product.sub", PREFREC_DT_I32, 1, &P, meta->product_sub,
                                    err);
    if (!s)
        s = prefrec_pack_writer_add_strings(w, "category", meta->category_names,
                                            (size_t)meta->n_categories, err);
    if (!s)
        s = prefrec_pack_writer_add_strings(w, "subcategory", meta->subcategory_names,
                                            (size_t)meta->n_subcategories, err);
    if (!s && meta->product_target)
        s = add_f32(w, "product.target", P, 0, meta->product_target, err);
    if (!s && meta->blend) s = blend_add(w, meta->blend, err);
    if (!s && meta->repeat && meta->repeat_prior)
        s = add_f32(w, "repeat.prior", P, 0, meta->repeat_prior, err);
    if (!s) s = prefrec_pack_writer_set_manifest(w, json, err);
    cJSON_free(json);
    return s;
}

prefrec_status prefrec_neumf_save_pack(const prefrec_neumf *net, const prefrec_pack_meta *meta,
                                       const char *path, size_t *size_out, prefrec_error *err) {
    const prefrec_train_data *td = meta->data;
    if (!td || td->n_customers != net->n_customers || td->n_products != net->n_products)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack: training data do not match the model");
    uint32_t C = (uint32_t)net->n_customers, d = (uint32_t)net->dim;
    uint32_t *boff = NULL, nnz = 0;
    int32_t *bidx = NULL;
    prefrec_status s = nm_pack_bought(td, &boff, &bidx, &nnz, err);
    if (s) return s;
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    int8_t *gender = malloc((size_t)C + 1);
    float *age = malloc((size_t)C * sizeof(float) + 1);
    if (!w || !gender || !age) s = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (!s) s = nm_pack_item_side(w, net, meta, C, nnz, err);
    /* customer side (the sharded writer, pack_dist.c, writes these tensors in this order) */
    if (!s) {
        for (uint32_t c = 0; c < C; c++) {
            gender[c] = nm_pack_gender(td, c);
            age[c] = td->age ? td->age[c] : NAN;
        }
        s = prefrec_pack_writer_add_strings(w, "customer.code", meta->customer_code, C, err);
    }
    uint32_t c1 = C + 1;
    if (!s) s = add_f32(w, "customer.emb", C, d, net->cemb, err);
    if (!s) s = add_f32(w, "customer.bias", C, 0, net->cbias, err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.gender", PREFREC_DT_I8, 1, &C, gender, err);
    if (!s) s = add_f32(w, "customer.age", C, 0, age, err);
    if (!s)
        s = prefrec_pack_writer_add(w, "customer.bought.off", PREFREC_DT_U32, 1, &c1, boff, err);
    if (!s)
        s = prefrec_pack_writer_add(w, "customer.bought.idx", PREFREC_DT_I32, 1, &nnz, bidx, err);
    if (!s && meta->customer_lines)
        s = add_f32(w, "customer.lines", C, 0, meta->customer_lines, err);
    if (!s) s = prefrec_pack_writer_save(w, path, size_out, err);
    prefrec_pack_writer_free(w);
    free(gender);
    free(age);
    free(boff);
    free(bidx);
    return s;
}
