/* big_pack.h - a structure-aware generator of large model packs with a valid CRC and extreme
 * dimensions, for the budget tests (tests/core/test_big_pack.c, all three builds). Header-only,
 * portable. The fuzzer cannot reach these: they need megabytes of mutually consistent tensors
 * (a string table per product, category indexes inside the category table, ascending bought
 * lists) before the sizes that matter are even read.
 *
 *   bp_model m = bp_model_default();
 *   m.products = 300000; m.dim = 1; m.width[0] = 4096;     // the review's 10 MB pack
 *   size_t len; unsigned char *b = bp_item_pack(&m, &len); // NULL: over BP_MAX_FILE; free(b)
 *
 * Files stay moderate (at most BP_MAX_FILE bytes, so the wasm test heaps stay small) while the
 * declared dimensions multiply out large: products x layer width, widths x widths, categories,
 * string lengths, bought-list offsets. Every value is deterministic (no RNG), so the three
 * builds see the same bytes. */
#ifndef PREFREC_TEST_BIG_PACK_H
#define PREFREC_TEST_BIG_PACK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack_builder.h"

#ifndef BP_MAX_FILE
#define BP_MAX_FILE ((uint64_t)24 << 20)
#endif
#define BP_MAX_TENSORS 40
#define BP_NAME_MAX 16384 /* longest string the generator writes, + 1 */

/* ---- layout: shapes first, data filled in place, CRC last ---------------------------------- */
typedef struct bp_spec {
    const char *name;
    uint32_t dtype, ndim, shape[4];
} bp_spec;

typedef struct bp {
    unsigned char *b;
    size_t len, n;
    bp_spec t[BP_MAX_TENSORS];
    size_t off[BP_MAX_TENSORS];
} bp;

static inline uint64_t bp_bytes(const bp_spec *t) {
    uint64_t n = prefrec_dtype_size(t->dtype);
    for (uint32_t k = 0; k < t->ndim; k++) n *= t->shape[k];
    return n;
}

/* Zero-filled pack holding the manifest and room for tensors t[0..n) in that order; 0 and
 * nothing allocated when it would exceed BP_MAX_FILE. */
static inline int bp_layout(bp *p, const char *manifest, const bp_spec *t, size_t n) {
    memset(p, 0, sizeof *p);
    if (n > BP_MAX_TENSORS) return 0;
    uint64_t m = strlen(manifest), toff = 64 + m, end = tb_up64((size_t)(toff + 64 * n));
    for (size_t i = 0; i < n; i++) {
        end = (end + 63) / 64 * 64;
        p->off[i] = (size_t)end;
        end += bp_bytes(&t[i]);
        if (end > BP_MAX_FILE) return 0;
    }
    p->b = calloc(1, (size_t)end);
    if (!p->b) return 0;
    p->len = (size_t)end;
    p->n = n;
    memcpy(p->t, t, n * sizeof *t);
    unsigned char *b = p->b;
    memcpy(b, "PRFPACK", 8);
    tb_w32(b + 8, 1);
    tb_w32(b + 12, 64);
    tb_w64(b + 16, end);
    tb_w32(b + 24, 64);
    tb_w32(b + 28, (uint32_t)m);
    tb_w32(b + 32, (uint32_t)toff);
    tb_w32(b + 36, (uint32_t)n);
    uint64_t doff = tb_up64((size_t)(toff + 64 * n));
    tb_w64(b + 40, doff);
    tb_w64(b + 48, end - doff);
    memcpy(b + 64, manifest, (size_t)m);
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = b + toff + 64 * i;
        memcpy(e, t[i].name, strlen(t[i].name));
        tb_w32(e + 32, t[i].dtype);
        tb_w32(e + 36, t[i].ndim);
        for (uint32_t k = 0; k < 4; k++) tb_w32(e + 40 + 4 * k, k < t[i].ndim ? t[i].shape[k] : 1);
        tb_w64(e + 56, p->off[i]);
    }
    return 1;
}

static inline void *bp_data(bp *p, const char *name) {
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->t[i].name, name)) return p->b + p->off[i];
    return NULL;
}

/* A string table "<base>.off"/"<base>.str": string i is name(i, buf) (returns its length). */
typedef size_t (*bp_namer)(uint32_t i, const void *arg, char *buf);

static inline uint64_t bp_strings_size(uint32_t n, bp_namer f, const void *arg) {
    char *buf = malloc(BP_NAME_MAX);
    uint64_t total = 0;
    for (uint32_t i = 0; buf && i < n; i++) total += f(i, arg, buf) + 1;
    free(buf);
    return total;
}

static inline void bp_strings_fill(bp *p, const char *base, uint32_t n, bp_namer f,
                                   const void *arg) {
    char on[64], sn[64];
    snprintf(on, sizeof on, "%s.off", base);
    snprintf(sn, sizeof sn, "%s.str", base);
    unsigned char *off = bp_data(p, on), *str = bp_data(p, sn);
    char *buf = malloc(BP_NAME_MAX);
    uint32_t at = 0;
    tb_w32(off, 0);
    for (uint32_t i = 0; buf && i < n; i++) {
        size_t l = f(i, arg, buf);
        memcpy(str + at, buf, l);
        at += (uint32_t)l + 1; /* the NUL: calloc'd */
        tb_w32(off + 4 * ((size_t)i + 1), at);
    }
    free(buf);
}

/* ---- a whole NeuMF item pack (+ blend, + customers) from a few dimensions ---------------- */
typedef struct bp_model {
    uint32_t products, dim, n_layers, width[4];
    uint32_t categories, subcategories; /* table sizes; a product's index is i % count (-1: 0) */
    int32_t bad_category; /* >= 0: product 0's category index is this */
    uint32_t name_len; /* bytes of product 0's name (others "n") */
    uint32_t neighbors; /* blend M; 0: no blend */
    int32_t neighbor_all; /* >= 0: every neighbour of every product is this one */
    uint32_t customers, bought; /* customers in the pack (0: none), each buys `bought` */
    uint32_t bad_bought_off; /* nonzero: customer.bought.off[1] is this */
    int shard; /* customers as a separate shard (bp_customer_pack) */
} bp_model;

static inline bp_model bp_model_default(void) {
    bp_model m;
    memset(&m, 0, sizeof m);
    m.products = 64;
    m.dim = 4;
    m.n_layers = 1;
    m.width[0] = 8;
    m.categories = 3;
    m.subcategories = 5;
    m.bad_category = -1;
    m.neighbor_all = -1;
    return m;
}

static size_t bp_code(uint32_t i, const void *arg, char *buf) {
    return (size_t)sprintf(buf, "%s%u", (const char *)arg, i);
}
static size_t bp_name(uint32_t i, const void *arg, char *buf) {
    const bp_model *m = arg;
    if (i == 0 && m->name_len) {
        memset(buf, 'x', m->name_len);
        return m->name_len;
    }
    buf[0] = 'n';
    return 1;
}
/* the first 1,000 categories are named, the rest empty (names need not be distinct) */
static size_t bp_cat(uint32_t i, const void *arg, char *buf) {
    return i < 1000 ? (size_t)sprintf(buf, "%s%u", (const char *)arg, i) : 0;
}

static inline void bp_manifest(const bp_model *m, const char *extra, char *man, size_t cap) {
    char mlp[64] = "";
    size_t o = 0;
    for (uint32_t l = 0; l < m->n_layers; l++)
        o += (size_t)snprintf(mlp + o, sizeof mlp - o, "%s%u", l ? "," : "", m->width[l]);
    snprintf(man, cap,
             "{\"kind\":\"neumf\",\"dim\":%u,\"mlp\":[%s],\"affiliate\":\"BIG\",\"target_mean\":3."
             "0%s%s}",
             m->dim, mlp,
             m->neighbors
                 ? ",\"blend\":{\"w\":{\"ease\":1,\"knn\":0.5,\"pop\":0.2,\"trend\":0,\"cat\":0.1,"
                   "\"catpop\":0,\"subpop\":0},\"tiebreak\":1e-6}"
                 : "",
             extra ? extra : "");
}

static inline float bp_wval(uint64_t i, uint64_t scale) {
    return (float)((int)(i * 2654435761u % 17u) - 8) / (8.0f * (float)scale);
}

/* The customer side's tensor specs (C customers, dim d, nb bought indices) into t; count. */
static inline size_t bp_customer_specs(const bp_model *m, uint64_t code_bytes, bp_spec *t) {
    uint32_t C = m->customers, d = m->dim, nb = C * m->bought;
    size_t n = 0;
    t[n++] = (bp_spec){"customer.code.off", PREFREC_DT_U32, 1, {C + 1}};
    t[n++] = (bp_spec){"customer.code.str", PREFREC_DT_U8, 1, {(uint32_t)code_bytes}};
    t[n++] = (bp_spec){"customer.emb", PREFREC_DT_F32, 2, {C, d}};
    t[n++] = (bp_spec){"customer.bias", PREFREC_DT_F32, 1, {C}};
    t[n++] = (bp_spec){"customer.gender", PREFREC_DT_I8, 1, {C}};
    t[n++] = (bp_spec){"customer.age", PREFREC_DT_F32, 1, {C}};
    t[n++] = (bp_spec){"customer.bought.off", PREFREC_DT_U32, 1, {C + 1}};
    /* last in the file: a list running past it would run past the buffer (ASan sees it) */
    t[n++] = (bp_spec){"customer.bought.idx", PREFREC_DT_I32, 1, {nb}};
    return n;
}

/* Customer c buys products c*bought .. c*bought+bought-1 (C * bought <= P): the whole index
 * tensor ascends, so only the offsets can make a list wrong. */
static inline void bp_customer_fill(bp *p, const bp_model *m) {
    uint32_t C = m->customers, d = m->dim;
    bp_strings_fill(p, "customer.code", C, bp_code, "C");
    float *emb = bp_data(p, "customer.emb"), *age = bp_data(p, "customer.age");
    int8_t *g = bp_data(p, "customer.gender");
    unsigned char *boff = bp_data(p, "customer.bought.off"),
                  *bidx = bp_data(p, "customer.bought.idx");
    for (uint64_t i = 0; i < (uint64_t)C * d; i++) emb[i] = bp_wval(i + 7, 2);
    for (uint32_t c = 0; c < C; c++) {
        age[c] = 20.0f + (float)(c % 50);
        g[c] = (int8_t)(c % 3 == 2 ? -1 : (int)(c % 2));
        tb_w32(boff + 4 * (size_t)c, c * m->bought);
        for (uint32_t k = 0; k < m->bought; k++)
            tb_w32(bidx + 4 * ((size_t)c * m->bought + k), (c * m->bought + k) % m->products);
    }
    tb_w32(boff + 4 * (size_t)C, C * m->bought);
    if (m->bad_bought_off && C >= 1) tb_w32(boff + 4, m->bad_bought_off);
}

/* A customer shard for the item pack whose CRC is item_crc. */
static inline unsigned char *bp_customer_pack(const bp_model *m, uint32_t item_crc, size_t *len) {
    char extra[96], man[512];
    snprintf(extra, sizeof extra, ",\"part\":\"customers\",\"item_crc\":%u", item_crc);
    bp_manifest(m, extra, man, sizeof man);
    bp_spec t[BP_MAX_TENSORS];
    size_t n = bp_customer_specs(m, bp_strings_size(m->customers, bp_code, "C"), t);
    bp p;
    if (!bp_layout(&p, man, t, n)) return NULL;
    bp_customer_fill(&p, m);
    tb_fix_crc(p.b, p.len);
    *len = p.len;
    return p.b;
}

/* The item pack (with the customer side unless m->shard), or NULL over BP_MAX_FILE. */
static inline unsigned char *bp_item_pack(const bp_model *m, size_t *len) {
    uint32_t P = m->products, d = m->dim, L = m->n_layers < 4 ? m->n_layers : 4, M = m->neighbors;
    char man[512], wn[4][24], bn[4][24];
    bp_manifest(m, m->shard ? ",\"part\":\"item\"" : "", man, sizeof man);
    bp_spec t[BP_MAX_TENSORS];
    size_t n = 0;
    t[n++] = (bp_spec){"product.emb", PREFREC_DT_F32, 2, {P, d}};
    t[n++] = (bp_spec){"product.bias", PREFREC_DT_F32, 1, {P}};
    for (uint32_t l = 0; l < L; l++) {
        snprintf(wn[l], sizeof wn[l], "mlp.%u.w", l);
        snprintf(bn[l], sizeof bn[l], "mlp.%u.b", l);
        t[n++] =
            (bp_spec){wn[l], PREFREC_DT_F32, 2, {m->width[l], l ? m->width[l - 1] : 2 * d + 4}};
        t[n++] = (bp_spec){bn[l], PREFREC_DT_F32, 1, {m->width[l]}};
    }
    t[n++] = (bp_spec){"out.gmf", PREFREC_DT_F32, 1, {d}};
    t[n++] = (bp_spec){"out.mlp", PREFREC_DT_F32, 1, {m->width[L - 1]}};
    t[n++] = (bp_spec){"out.bias", PREFREC_DT_F32, 1, {1}};
    t[n++] = (bp_spec){"product.code.off", PREFREC_DT_U32, 1, {P + 1}};
    t[n++] = (bp_spec){
        "product.code.str", PREFREC_DT_U8, 1, {(uint32_t)bp_strings_size(P, bp_code, "P")}};
    t[n++] = (bp_spec){"product.name.off", PREFREC_DT_U32, 1, {P + 1}};
    t[n++] =
        (bp_spec){"product.name.str", PREFREC_DT_U8, 1, {(uint32_t)bp_strings_size(P, bp_name, m)}};
    t[n++] = (bp_spec){"product.cat", PREFREC_DT_I32, 1, {P}};
    t[n++] = (bp_spec){"product.sub", PREFREC_DT_I32, 1, {P}};
    t[n++] = (bp_spec){"category.off", PREFREC_DT_U32, 1, {m->categories + 1}};
    t[n++] = (bp_spec){
        "category.str", PREFREC_DT_U8, 1, {(uint32_t)bp_strings_size(m->categories, bp_cat, "c")}};
    t[n++] = (bp_spec){"subcategory.off", PREFREC_DT_U32, 1, {m->subcategories + 1}};
    t[n++] = (bp_spec){"subcategory.str",
                       PREFREC_DT_U8,
                       1,
                       {(uint32_t)bp_strings_size(m->subcategories, bp_cat, "s")}};
    if (M) {
        t[n++] = (bp_spec){"blend.ease.nbr", PREFREC_DT_I32, 2, {P, M}};
        t[n++] = (bp_spec){"blend.ease.w", PREFREC_DT_F32, 2, {P, M}};
        t[n++] = (bp_spec){"blend.knn.nbr", PREFREC_DT_I32, 2, {P, M}};
        t[n++] = (bp_spec){"blend.knn.w", PREFREC_DT_F32, 2, {P, M}};
        t[n++] = (bp_spec){"blend.pop.seg", PREFREC_DT_F32, 2, {33, P}};
        t[n++] = (bp_spec){"blend.pop.all", PREFREC_DT_F32, 1, {P}};
        t[n++] = (bp_spec){"blend.trend", PREFREC_DT_F32, 1, {P}};
    }
    if (m->customers && !m->shard)
        n += bp_customer_specs(m, bp_strings_size(m->customers, bp_code, "C"), t + n);
    bp p;
    if (!bp_layout(&p, man, t, n)) return NULL;

    float *f = bp_data(&p, "product.emb");
    for (uint64_t i = 0; i < (uint64_t)P * d; i++) f[i] = bp_wval(i, 1);
    f = bp_data(&p, "product.bias");
    for (uint32_t i = 0; i < P; i++) f[i] = (float)((int)(i % 7) - 3) * 0.05f;
    for (uint32_t l = 0; l < L; l++) {
        uint64_t in = l ? m->width[l - 1] : 2 * d + 4;
        f = bp_data(&p, wn[l]);
        for (uint64_t i = 0; i < (uint64_t)m->width[l] * in; i++) f[i] = bp_wval(i + l, in);
        f = bp_data(&p, bn[l]);
        for (uint32_t j = 0; j < m->width[l]; j++) f[j] = 0.01f * (float)(j % 3);
    }
    f = bp_data(&p, "out.gmf");
    for (uint32_t k = 0; k < d; k++) f[k] = 0.1f;
    f = bp_data(&p, "out.mlp");
    for (uint32_t j = 0; j < m->width[L - 1]; j++) f[j] = j % 2 ? -0.1f : 0.2f;
    *(float *)bp_data(&p, "out.bias") = 2.5f;
    bp_strings_fill(&p, "product.code", P, bp_code, "P");
    bp_strings_fill(&p, "product.name", P, bp_name, m);
    bp_strings_fill(&p, "category", m->categories, bp_cat, "c");
    bp_strings_fill(&p, "subcategory", m->subcategories, bp_cat, "s");
    int32_t *cat = bp_data(&p, "product.cat"), *sub = bp_data(&p, "product.sub");
    for (uint32_t i = 0; i < P; i++) {
        cat[i] = m->categories ? (int32_t)(i % m->categories) : -1;
        sub[i] = m->subcategories ? (int32_t)(i % m->subcategories) : -1;
    }
    if (m->bad_category >= 0) cat[0] = m->bad_category;
    if (M) {
        int32_t *en = bp_data(&p, "blend.ease.nbr"), *kn = bp_data(&p, "blend.knn.nbr");
        float *ew = bp_data(&p, "blend.ease.w"), *kw = bp_data(&p, "blend.knn.w");
        for (uint64_t i = 0; i < (uint64_t)P * M; i++) {
            uint64_t h = i / M, r = i % M;
            int32_t v = -1;
            if (m->neighbor_all >= 0)
                v = m->neighbor_all;
            else if (r + 1 < P)
                v = (int32_t)((h + 1 + r) % P);
            en[i] = kn[i] = v;
            ew[i] = v < 0 ? 0.0f : 1.0f / (float)(r + 1);
            kw[i] = v < 0 ? 0.0f : 0.5f / (float)(r + 1);
        }
        f = bp_data(&p, "blend.pop.seg");
        for (uint64_t i = 0; i < 33ull * P; i++) f[i] = (float)(i % P % 13) / 13.0f;
        f = bp_data(&p, "blend.pop.all");
        for (uint32_t i = 0; i < P; i++) f[i] = (float)(P - i) / (float)P;
        f = bp_data(&p, "blend.trend");
        for (uint32_t i = 0; i < P; i++) f[i] = (float)(i % 5) / 5.0f;
    }
    if (m->customers && !m->shard) bp_customer_fill(&p, m);
    tb_fix_crc(p.b, p.len);
    *len = p.len;
    return p.b;
}

#endif
