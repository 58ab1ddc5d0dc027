/* pack_export.c - split a full NeuMF pack into an item pack and hashed customer shards, so a
 * web page fetches the item side plus the one small shard that holds its customer. */
#include <cjson/cJSON.h>

#include "core/json_build.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/blend.h"
#include "prefrec/model.h"
#include "prefrec/native/member_export.h"
#include "prefrec/native/pack_write.h"

static int is_customer_tensor(const char *name) { return strncmp(name, "customer.", 9) == 0; }

/* 1 when every row of x (rows of cols) ascends strictly, -1 entries only at its end */
static int rows_ascend(const int32_t *x, uint64_t rows, uint64_t cols) {
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t k = 1; k < cols; k++) {
            int32_t a = x[r * cols + k - 1], b = x[r * cols + k];
            if (b >= 0 && !(a >= 0 && a < b)) return 0;
        }
    return 1;
}

/* An i32 tensor as u16 (-1 as 0xFFFF) when every value is in -1..65534, else as it is; asked
 * for d16, as d16 (steps within rows, two planes) when its rows also ascend, else as u16. */
static prefrec_status add_u16(prefrec_pack_writer *w, const prefrec_tensor *t, int d16,
                              prefrec_error *err) {
    const int32_t *x = (const int32_t *)t->data;
    uint64_t k = 0, n = t->n_elems, rows = t->ndim > 1 ? t->shape[0] : 1,
             cols = rows ? n / rows : 0;
    while (k < n && x[k] >= -1 && x[k] < 0xFFFF) k++;
    if (k < n) /* a bigger catalogue: the list stays i32 (prefrec inspect shows it) */
        return prefrec_pack_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, err);
    d16 = d16 && rows_ascend(x, rows, cols);
    unsigned char *h = malloc((size_t)(n ? n : 1) * 2);
    if (!h) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (k = 0; k < n; k++) {
        uint32_t v = x[k] < 0 ? 0xFFFFu : (uint32_t)x[k];
        if (d16 && x[k] >= 0 && k % cols) v -= (uint32_t)x[k - 1]; /* the step from the last */
        h[d16 ? k : 2 * k] = (unsigned char)v; /* d16: planes; u16: little-endian pairs */
        h[d16 ? n + k : 2 * k + 1] = (unsigned char)(v >> 8);
    }
    prefrec_status s = prefrec_pack_writer_add(w, t->name, d16 ? PREFREC_DT_D16 : PREFREC_DT_U16,
                                               t->ndim, t->shape, h, err);
    free(h);
    return s;
}

/* A u32 tensor as u8d (its steps) when it ascends by at most 255 a step, else as it is. */
static prefrec_status add_u8d(prefrec_pack_writer *w, const prefrec_tensor *t, prefrec_error *err) {
    const uint32_t *x = (const uint32_t *)t->data;
    uint64_t k = 0;
    while (k < t->n_elems && x[k] >= (k ? x[k - 1] : 0) && x[k] - (k ? x[k - 1] : 0) < 256) k++;
    if (k < t->n_elems) /* a longer string: the offsets stay u32 (prefrec inspect shows it) */
        return prefrec_pack_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, err);
    unsigned char *d = malloc((size_t)(t->n_elems ? t->n_elems : 1));
    if (!d) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (k = 0; k < t->n_elems; k++) d[k] = (unsigned char)(x[k] - (k ? x[k - 1] : 0));
    prefrec_status s =
        prefrec_pack_writer_add(w, t->name, PREFREC_DT_U8D, t->ndim, t->shape, d, err);
    free(d);
    return s;
}

static void put_u32(unsigned char *b, uint64_t v) {
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> (8 * k));
}

/* 1 when segment row r of a pc table's sizes sz holds members (its size, bit 31 masked, is not
 * 0): pcx stores only these rows */
static int seg_stored(const unsigned char *sz, uint64_t r) {
    return (sz[4 * r] | sz[4 * r + 1] | sz[4 * r + 2] | (sz[4 * r + 3] & 0x7F)) != 0;
}

/* The pc16 table c16 (rows x cols, checked) as pcx (prefrec/pack.h, version 4): the rows of the
 * segments that have members, a byte a count, the counts from 255 on as escapes, or as a high
 * plane in a row where more than 1 in 64 of them are: an escape takes 8 bytes raw and, its k
 * and count being unlike their neighbours, about 3 gzipped, a plane 1 byte a count raw and next
 * to nothing gzipped when it is mostly 0. Most of a large catalogue's table is the rows of
 * segments no member falls in (22 of 34 in the demo) and the high bytes of counts below 256. */
static prefrec_status add_pcx(prefrec_pack_writer *w, const prefrec_tensor *t,
                              const unsigned char *c16, uint64_t rows, uint64_t cols,
                              prefrec_error *err) {
    const unsigned char *sz = c16 + 8, *lo = sz + 4 * (rows + 1), *hi = lo + (rows + 1) * cols;
    uint64_t head = 8 + 4 * (rows + 1), stored = 0, planes = 0, n_esc = 0;
    unsigned char *wide = calloc((size_t)rows + 1, 1);
    if (!wide) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (uint64_t r = 0; r <= rows; r++) {
        if (!seg_stored(sz, r)) continue;
        uint64_t e = 0;
        for (uint64_t k = r * cols; k < (r + 1) * cols; k++) e += hi[k] || lo[k] == 255;
        wide[r] = 64 * e > cols;
        stored++;
        planes += 1u + wide[r];
        n_esc += wide[r] ? 0 : e;
    }
    if (stored * cols > 0xFFFFFFFFu) { /* an escape's k is 32 bits: pc16, as it is */
        free(wide);
        return prefrec_pack_writer_add(w, t->name, PREFREC_DT_PC16, t->ndim, t->shape, c16, err);
    }
    uint64_t nb = head + 4 + rows + 1 + planes * cols + 8 * n_esc;
    unsigned char *b = malloc((size_t)nb);
    if (!b) {
        free(wide);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    }
    memcpy(b, c16, (size_t)head); /* the prior and the sizes */
    put_u32(b + head, n_esc);
    memcpy(b + head + 4, wide, (size_t)rows + 1);
    unsigned char *q = b + head + 4 + rows + 1, *esc = q + planes * cols;
    uint64_t j = 0; /* the count's index among the stored rows' (an escape's k) */
    for (uint64_t r = 0; r <= rows; r++) {
        if (!seg_stored(sz, r)) continue;
        for (uint64_t c = 0; c < cols; c++, j++) {
            uint32_t v = (uint32_t)lo[r * cols + c] | (uint32_t)hi[r * cols + c] << 8;
            q[c] = (unsigned char)(wide[r] || v < 255 ? v : 255);
            if (wide[r]) q[cols + c] = (unsigned char)(v >> 8);
            if (wide[r] || v < 255) continue;
            put_u32(esc, j);
            put_u32(esc + 4, v);
            esc += 8;
        }
        q += cols * (1u + wide[r]);
    }
    free(wide);
    prefrec_status s =
        prefrec_pack_writer_add(w, t->name, PREFREC_DT_PCX, t->ndim, t->shape, b, err);
    free(b);
    return s;
}

/* blend.pop.seg as its counts (plan word pcn): pcx from version 4, before pc8 when every count
 * fits a byte, else pc16, when the full pack carries them (blend.pop.cnt, the pc16 layout) and
 * they decode to its exact bits; else f16 (a table not made of counts: older full packs, a
 * weighted popularity). */
static prefrec_status add_counts(prefrec_pack_writer *w, const prefrec_pack *full,
                                 const prefrec_tensor *t, uint32_t version, prefrec_error *err) {
    const prefrec_tensor *c = prefrec_pack_find(full, "blend.pop.cnt"), *v = NULL;
    prefrec_status s = prefrec_pack_get(full, t->name, PREFREC_DT_F32, t->ndim, NULL, &v, err);
    if (s) return s;
    uint64_t rows = t->ndim == 2 ? t->shape[0] : 0, cols = rows ? t->n_elems / rows : 0;
    uint64_t n = (rows + 1) * cols, at = 0;
    float *dec = malloc((size_t)t->n_elems * sizeof *dec + 1);
    unsigned char *b = NULL;
    if (!dec) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    int ok = rows && c && c->dtype == PREFREC_DT_U8 && c->n_bytes == 8 + 4 * (rows + 1) + 2 * n;
    int bad = ok ? prefrec_pc_decode(PREFREC_DT_PC16, c->data, rows, cols, dec, &at) : 0;
    ok = ok && !bad && !memcmp(dec, v->data, (size_t)t->n_elems * sizeof *dec);
    free(dec);
    if (bad == 4) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    if (!ok)
        return prefrec_pack_writer_add_stored(w, t->name, PREFREC_DT_F16, t->ndim, t->shape,
                                              v->data, err);
    if (version >= 4) return add_pcx(w, t, c->data, rows, cols, err);
    const unsigned char *hi = (const unsigned char *)c->data + 8 + 4 * (rows + 1) + n;
    uint64_t k = 0;
    while (k < n && !hi[k]) k++;
    if (k < n) /* a count past 255: pc16, the stored bytes as they are */
        return prefrec_pack_writer_add(w, t->name, PREFREC_DT_PC16, t->ndim, t->shape, c->data,
                                       err);
    if (!(b = malloc((size_t)(8 + 4 * (rows + 1) + n))))
        return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    memcpy(b, c->data, (size_t)(8 + 4 * (rows + 1) + n)); /* header and the low bytes */
    s = prefrec_pack_writer_add(w, t->name, PREFREC_DT_PC8, t->ndim, t->shape, b, err);
    free(b);
    return s;
}

/* One item tensor in the storage the version and plan give it: float tensors (f32 or already
 * quantised) as the plan says from version 2 and as f32 in version 1, i32 ones as u16 and u32
 * ones as u8d where the plan says so and their values fit, the others as they are. vals: a float
 * tensor's values (NULL: the full pack's, decoded). */
static prefrec_status add_item_tensor(prefrec_pack_writer *w, const prefrec_pack *full,
                                      const prefrec_tensor *t, const float *vals, uint32_t version,
                                      const char *plan, prefrec_error *err) {
    int is_float = t->dtype == PREFREC_DT_F32 || prefrec_dtype_quantised(t->dtype);
    int store = version >= 2 ? prefrec_quant_plan_dtype(plan, t->name) : PREFREC_DT_F32;
    if (t->dtype == PREFREC_DT_I32 && (store == PREFREC_DT_U16 || store == PREFREC_DT_D16))
        return add_u16(w, t, store == PREFREC_DT_D16, err);
    if (t->dtype == PREFREC_DT_U32 && store == PREFREC_DT_U8D) return add_u8d(w, t, err);
    if (store == PREFREC_STORE_PCN) {
        if (is_float && !strcmp(t->name, "blend.pop.seg"))
            return add_counts(w, full, t, version, err);
        store = PREFREC_DT_F16; /* pcn names blend.pop.seg's counts: other floats as f16 */
    }
    if (!is_float || store == (int)t->dtype)
        return prefrec_pack_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, err);
    if (store < 0) return prefrec_quant_plan_check(plan, err);
    const prefrec_tensor *v;
    prefrec_status s =
        vals ? PREFREC_OK : prefrec_pack_get(full, t->name, PREFREC_DT_F32, t->ndim, NULL, &v, err);
    if (!s)
        s = prefrec_pack_writer_add_stored(w, t->name, (uint32_t)store, t->ndim, t->shape,
                                           vals ? vals : (const float *)v->data, err);
    return s;
}

/* 1 for a neighbour list's index table (blend.ease.nbr, blend.knn.nbr), 2 for its weights */
static int list_part(const char *name) {
    if (!strcmp(name, "blend.ease.nbr") || !strcmp(name, "blend.knn.nbr")) return 1;
    return !strcmp(name, "blend.ease.w") || !strcmp(name, "blend.knn.w") ? 2 : 0;
}

/* A neighbour list (t: blend.ease.nbr or blend.knn.nbr, i32 [P, M], and its .w) as version 3
 * keeps it, compact: <list>.rows, the products that have a neighbour (i32 [R], ascending; product
 * 0 alone when none has), then their rows of the list and of its weights, [R, M], each stored as
 * the plan says. Most rows are empty in a large catalogue (EASE is fitted on the most bought
 * products, and the 10-member rule drops rare pairs): 97% of them at 100,000 products. A list
 * whose rows are mostly full (R > P / 2: the demo's 1,801 products, where the row list would
 * cost more than the empty rows, gzipped) and a list of more than PREFREC_BLEND_ROW_MAX
 * neighbours stay dense (the engine reads both). */
static prefrec_status add_compact_list(prefrec_pack_writer *w, const prefrec_pack *full,
                                       const prefrec_tensor *t, uint32_t version, const char *plan,
                                       prefrec_error *err) {
    char wn[PREFREC_PACK_NAME_MAX], rn[PREFREC_PACK_NAME_MAX];
    size_t bl = strlen(t->name) - 4; /* the list's name, without ".nbr" */
    memcpy(wn, t->name, bl), memcpy(wn + bl, ".w", 3);
    memcpy(rn, t->name, bl), memcpy(rn + bl, ".rows", 6);
    const prefrec_tensor *wt = prefrec_pack_find(full, wn), *v = NULL;
    if (t->dtype != PREFREC_DT_I32 || t->ndim != 2 || !wt || wt->ndim != 2 ||
        wt->shape[0] != t->shape[0] || wt->shape[1] != t->shape[1])
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "export: %s is not an i32 [products, neighbours] table with its "
                                 "weights %s beside it",
                                 t->name, wn);
    prefrec_status s = prefrec_pack_get(full, wn, PREFREC_DT_F32, 2, NULL, &v, err);
    if (s) return s;
    uint32_t P = t->shape[0], M = t->shape[1], R = 0;
    const int32_t *nbr = (const int32_t *)t->data;
    const float *wv = (const float *)v->data;
    int32_t *rows = malloc(((size_t)P + 1) * sizeof *rows);
    if (!rows) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (uint32_t p = 0; p < P; p++) {
        uint32_t k = 0;
        while (k < M && nbr[(size_t)p * M + k] < 0) k++;
        if (k < M) rows[R++] = (int32_t)p;
    }
    /* most rows hold neighbours (dense is smaller, as version 2), or rows too long: dense */
    if (M > PREFREC_BLEND_ROW_MAX || 2 * (uint64_t)R > P) {
        free(rows);
        s = add_item_tensor(w, full, t, NULL, version, plan, err);
        return s ? s : add_item_tensor(w, full, wt, NULL, version, plan, err);
    }
    if (R == 0 && P > 0) rows[R++] = 0; /* none has a neighbour: product 0's empty row */
    int32_t *cn = malloc(((size_t)R * M + 1) * sizeof *cn);
    float *cw = malloc(((size_t)R * M + 1) * sizeof *cw);
    if (!cn || !cw) {
        free(rows), free(cn), free(cw);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    }
    for (uint32_t r = 0; r < R; r++) {
        memcpy(cn + (size_t)r * M, nbr + (size_t)rows[r] * M, M * sizeof *cn);
        memcpy(cw + (size_t)r * M, wv + (size_t)rows[r] * M, M * sizeof *cw);
    }
    prefrec_tensor ct = *t, cwt = *wt;
    ct.shape[0] = cwt.shape[0] = R;
    ct.n_elems = cwt.n_elems = (uint64_t)R * M;
    ct.n_bytes = ct.n_elems * sizeof *cn;
    ct.data = cn;
    cwt.dtype = PREFREC_DT_F32;
    cwt.n_bytes = cwt.n_elems * sizeof *cw;
    cwt.data = cw;
    s = prefrec_pack_writer_add(w, rn, PREFREC_DT_I32, 1, &R, rows, err);
    if (!s) s = add_item_tensor(w, full, &ct, NULL, version, plan, err);
    if (!s) s = add_item_tensor(w, full, &cwt, cw, version, plan, err);
    free(rows), free(cn), free(cw);
    return s;
}

static prefrec_status write_item(const prefrec_pack *full, const char *path, int n_shards,
                                 const char *export_id, uint32_t version, const char *plan,
                                 uint32_t *crc, size_t *size, prefrec_error *err) {
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    size_t mlen = 0;
    const char *mtext = prefrec_pack_manifest_json(full, &mlen);
    cJSON *m = cJSON_ParseWithLength(mtext, mlen);
    prefrec_status s =
        (!w || !m) ? prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory") : PREFREC_OK;
    if (!s) s = prefrec_pack_writer_set_version(w, version, err);
    for (size_t i = 0; !s && i < prefrec_pack_tensor_count(full); i++) {
        const prefrec_tensor *t = prefrec_pack_tensor_at(full, i);
        if (is_customer_tensor(t->name) || !strcmp(t->name, "blend.pop.cnt")) continue;
        int part = version >= 3 ? list_part(t->name) : 0;
        if (part == 1)
            s = add_compact_list(w, full, t, version, plan, err);
        else if (part == 0)
            s = add_item_tensor(w, full, t, NULL, version, plan, err);
        /* (part 2, a list's weights: written with its list) */
    }
    char *json = NULL;
    if (!s) {
        json_build jb = {0};
        cJSON *part = cJSON_CreateString("item");
        if (!part || !cJSON_ReplaceItemInObjectCaseSensitive(m, "part", part)) {
            cJSON_Delete(part);
            jb.failed = 1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(m, "shards");
        json_num(&jb, m, "shards", n_shards);
        cJSON_DeleteItemFromObjectCaseSensitive(m, "shard_hash");
        json_str(&jb, m, "shard_hash", "fnv1a32(customer code) % shards");
        cJSON_DeleteItemFromObjectCaseSensitive(m, "export_id");
        if (export_id) {
            /* a public item pack (its export has member records): nothing that counts members */
            json_str(&jb, m, "export_id", export_id);
            cJSON_DeleteItemFromObjectCaseSensitive(m, "n_customers");
            cJSON_DeleteItemFromObjectCaseSensitive(m, "n_bought");
            cJSON *tr = cJSON_GetObjectItemCaseSensitive(m, "training");
            cJSON_DeleteItemFromObjectCaseSensitive(tr, "pairs");
            cJSON_DeleteItemFromObjectCaseSensitive(tr, "train_pairs");
            cJSON_DeleteItemFromObjectCaseSensitive(tr, "valid_pairs");
        }
        json = json_print(&jb, m, 0);
        m = NULL;
        s = json ? prefrec_pack_writer_set_manifest(w, json, err)
                 : prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    }
    void *buf = NULL;
    size_t len = 0;
    if (!s) s = prefrec_pack_writer_finish(w, &buf, &len, err);
    if (!s) {
        const unsigned char *b = buf;
        *crc =
            (uint32_t)b[60] | (uint32_t)b[61] << 8 | (uint32_t)b[62] << 16 | (uint32_t)b[63] << 24;
        if (path) s = prefrec_pack_writer_save(w, path, size, err); /* NULL: the checksum only */
    }
    free(buf);
    cJSON_free(json);
    cJSON_Delete(m);
    prefrec_pack_writer_free(w);
    return s;
}

typedef struct cust_side {
    prefrec_strings code;
    const float *emb, *bias, *age;
    const int8_t *gender;
    const uint32_t *boff;
    const int32_t *bidx;
    uint32_t n, d;
} cust_side;

static prefrec_status write_shard(const prefrec_pack *full, const cust_side *cs,
                                  const uint32_t *members, uint32_t nm, int k, int n_shards,
                                  uint32_t item_crc, uint32_t version, const char *path,
                                  size_t *size, prefrec_error *err) {
    uint32_t d = cs->d, nnz = 0;
    for (uint32_t i = 0; i < nm; i++) nnz += cs->boff[members[i] + 1] - cs->boff[members[i]];
    const char **codes = malloc((size_t)nm * sizeof *codes + 1);
    float *emb = malloc((size_t)nm * d * sizeof *emb + 1),
          *bias = malloc((size_t)nm * sizeof *bias + 1),
          *age = malloc((size_t)nm * sizeof *age + 1);
    int8_t *gender = malloc((size_t)nm + 1);
    uint32_t *off = malloc(((size_t)nm + 1) * sizeof *off);
    int32_t *idx = malloc((size_t)nnz * sizeof *idx + 1);
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    json_build jb = {0};
    cJSON *m = json_root(&jb);
    char *json = NULL;
    prefrec_status s = PREFREC_OK;
    if (!codes || !emb || !bias || !age || !gender || !off || !idx || !w || !m)
        s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    if (!s) {
        off[0] = 0;
        for (uint32_t i = 0; i < nm; i++) {
            uint32_t c = members[i], b0 = cs->boff[c], b1 = cs->boff[c + 1];
            codes[i] = prefrec_strings_at(&cs->code, c);
            memcpy(emb + (size_t)i * d, cs->emb + (size_t)c * d, d * sizeof *emb);
            bias[i] = cs->bias[c];
            age[i] = cs->age[c];
            gender[i] = cs->gender[c];
            memcpy(idx + off[i], cs->bidx + b0, (size_t)(b1 - b0) * sizeof *idx);
            off[i + 1] = off[i] + (b1 - b0);
        }
        size_t mlen = 0;
        const char *mtext = prefrec_pack_manifest_json(full, &mlen);
        cJSON *fm = cJSON_ParseWithLength(mtext, mlen);
        if (!fm) jb.failed = 1;
        json_str(&jb, m, "format", "prefrec-pack");
        json_str(&jb, m, "kind", "neumf");
        json_str(&jb, m, "part", "customers");
        const char *aff = prefrec_pack_manifest_str(full, "affiliate");
        json_str(&jb, m, "affiliate", aff ? aff : "");
        json_num(&jb, m, "dim", d);
        json_put(&jb, m, "mlp", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(fm, "mlp"), 1));
        json_num(&jb, m, "shard", k);
        json_num(&jb, m, "shards", n_shards);
        json_str(&jb, m, "shard_hash", "fnv1a32(customer code) % shards");
        json_num(&jb, m, "item_crc", item_crc);
        json_num(&jb, m, "n_customers", nm);
        json_num(&jb, m, "n_bought", nnz);
        cJSON_Delete(fm);
        json = json_print(&jb, m, 0);
        m = NULL;
        if (!json) s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    }
    uint32_t n1 = nm + 1, sh2[2] = {nm, d};
    if (!s) s = prefrec_pack_writer_set_version(w, version, err);
    if (!s)
        s = prefrec_pack_writer_add_strings(w, "customer.code", (const char *const *)codes, nm,
                                            err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.emb", PREFREC_DT_F32, 2, sh2, emb, err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.bias", PREFREC_DT_F32, 1, &nm, bias, err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.gender", PREFREC_DT_I8, 1, &nm, gender, err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.age", PREFREC_DT_F32, 1, &nm, age, err);
    if (!s) s = prefrec_pack_writer_add(w, "customer.bought.off", PREFREC_DT_U32, 1, &n1, off, err);
    if (!s)
        s = prefrec_pack_writer_add(w, "customer.bought.idx", PREFREC_DT_I32, 1, &nnz, idx, err);
    /* purchase lines per customer (plan 1's affiliate weights), when the full pack has them */
    const prefrec_tensor *lt = prefrec_pack_find(full, "customer.lines");
    if (!s && lt && lt->dtype == PREFREC_DT_F32 && lt->ndim == 1 &&
        lt->n_elems == (uint64_t)cs->n) {
        float *lines = malloc((size_t)nm * sizeof *lines + 1);
        if (!lines) s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
        for (uint32_t i = 0; !s && i < nm; i++) lines[i] = ((const float *)lt->data)[members[i]];
        if (!s)
            s = prefrec_pack_writer_add(w, "customer.lines", PREFREC_DT_F32, 1, &nm, lines, err);
        free(lines);
    }
    if (!s) s = prefrec_pack_writer_set_manifest(w, json, err);
    if (!s) s = prefrec_pack_writer_save(w, path, size, err);
    cJSON_free(json);
    cJSON_Delete(m);
    prefrec_pack_writer_free(w);
    free(codes), free(emb), free(bias), free(age), free(gender), free(off), free(idx);
    return s;
}

prefrec_status prefrec_pack_export(const prefrec_pack *full, const char *dir, const char *stem,
                                   int n_shards, const char *export_id, const char *const *opt_out,
                                   size_t n_opt_out, uint32_t version, const char *plan,
                                   size_t *sizes, prefrec_error *err) {
    return prefrec_pack_export_rank(full, dir, stem, n_shards, export_id, opt_out, n_opt_out,
                                    version, plan, 0, 1, sizes, err);
}

prefrec_status prefrec_pack_export_rank(const prefrec_pack *full, const char *dir, const char *stem,
                                        int n_shards, const char *export_id,
                                        const char *const *opt_out, size_t n_opt_out,
                                        uint32_t version, const char *plan, int rank, int n_ranks,
                                        size_t *sizes, prefrec_error *err) {
    if (n_ranks < 1 || rank < 0 || rank >= n_ranks)
        return prefrec_error_set(err, PREFREC_E_RANGE, "export: rank %d of %d", rank, n_ranks);
    if (n_shards < 1 || n_shards > 4096)
        return prefrec_error_set(err, PREFREC_E_RANGE, "export: %d shards, expected 1..4096",
                                 n_shards);
    if (version < PREFREC_PACK_VERSION_MIN || version > PREFREC_PACK_VERSION)
        return prefrec_error_set(err, PREFREC_E_RANGE, "export: pack version %u, expected %u..%u",
                                 version, PREFREC_PACK_VERSION_MIN, PREFREC_PACK_VERSION);
    if (!plan) plan = PREFREC_PACK_STORAGE_DEFAULT;
    prefrec_status s = prefrec_quant_plan_check(plan, err);
    if (s) return s;
    const char *part = prefrec_pack_manifest_str(full, "part");
    if (!part || strcmp(part, "full"))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "export: the pack is a '%s' part, not a full pack",
                                 part ? part : "?");
    /* validate the whole model first: export never writes what the engine would refuse */
    prefrec_model *model = NULL;
    prefrec_customers *custs = NULL;
    s = prefrec_model_load(full, &model, err);
    if (!s) s = prefrec_customers_load(full, model, &custs, err);
    prefrec_customers_free(custs);
    prefrec_model_free(model);
    if (s) return s;
    cust_side cs;
    const prefrec_tensor *t;
    s = prefrec_pack_strings(full, "customer.code", &cs.code, err);
    if (s) return s;
    cs.n = cs.code.n;
    cs.d = (uint32_t)prefrec_pack_manifest_num(full, "dim", 0);
    cs.emb = prefrec_pack_find(full, "customer.emb")->data;
    cs.bias = prefrec_pack_find(full, "customer.bias")->data;
    cs.age = prefrec_pack_find(full, "customer.age")->data;
    cs.gender = prefrec_pack_find(full, "customer.gender")->data;
    cs.boff = prefrec_pack_find(full, "customer.bought.off")->data;
    t = prefrec_pack_find(full, "customer.bought.idx");
    cs.bidx = t->data;

    char path[4096];
    uint32_t item_crc = 0;
    snprintf(path, sizeof path, "%s/%s.item.pack", dir, stem);
    if (sizes) memset(sizes, 0, (size_t)(n_shards + 1) * sizeof *sizes);
    s = write_item(full, rank == 0 ? path : NULL, n_shards, export_id, version, plan, &item_crc,
                   sizes ? &sizes[0] : NULL, err);
    if (s) return s;
    uint32_t *shard_of = malloc((size_t)cs.n * sizeof *shard_of + 1),
             *members = malloc((size_t)cs.n * sizeof *members + 1);
    if (!shard_of || !members) s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (uint32_t c = 0; !s && c < cs.n; c++) {
        const char *code = prefrec_strings_at(&cs.code, c);
        shard_of[c] = prefrec_fnv1a32(code, strlen(code)) % (uint32_t)n_shards;
        if (prefrec_member_listed(opt_out, n_opt_out, code)) shard_of[c] = UINT32_MAX; /* none */
    }
    for (int k = rank; !s && k < n_shards; k += n_ranks) {
        uint32_t nm = 0;
        for (uint32_t c = 0; c < cs.n; c++)
            if (shard_of[c] == (uint32_t)k) members[nm++] = c;
        snprintf(path, sizeof path, "%s/%s.cust.%03d.pack", dir, stem, k);
        s = write_shard(full, &cs, members, nm, k, n_shards, item_crc, version, path,
                        sizes ? &sizes[1 + k] : NULL, err);
    }
    free(shard_of);
    free(members);
    return s;
}
