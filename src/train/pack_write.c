/* pack_write.c - serialise a model pack (see prefrec/native/pack_write.h and docs/model.md). */
#include "prefrec/native/pack_write.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/atomic.h"

typedef struct wtensor {
    char name[PREFREC_PACK_NAME_MAX];
    uint32_t dtype, ndim, shape[PREFREC_PACK_MAX_DIMS];
    size_t n_bytes;
    void *data;
    int deferred; /* its bytes written by the caller (prefrec_pack_writer_add_deferred) */
} wtensor;

struct prefrec_pack_writer {
    uint32_t version; /* 0: PREFREC_PACK_VERSION_MIN (1) unless a tensor's dtype needs more
                         (q8r..r16: 2, pcx: 4) */
    char *manifest;
    wtensor *t;
    size_t n, cap;
};

prefrec_pack_writer *prefrec_pack_writer_new(void) {
    return calloc(1, sizeof(prefrec_pack_writer));
}

void prefrec_pack_writer_free(prefrec_pack_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->t[i].data);
    free(w->t);
    free(w->manifest);
    free(w);
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static void put64(unsigned char *p, uint64_t v) {
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static prefrec_status add_entry(prefrec_pack_writer *w, const char *name, uint32_t dtype,
                                uint32_t ndim, const uint32_t *shape, const void *data,
                                int deferred, prefrec_error *err) {
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || nl >= PREFREC_PACK_NAME_MAX)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack writer: tensor name '%s' must be 1..31 characters",
                                 name ? name : "");
    for (size_t k = 0; k < nl; k++)
        if (name[k] < 0x21 || name[k] > 0x7E)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "pack writer: tensor name '%s' has a non-printable character",
                                     name);
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name))
            return prefrec_error_set(err, PREFREC_E_INVAL, "pack writer: tensor '%s' added twice",
                                     name);
    if (prefrec_dtype_size(dtype) == 0)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack writer: tensor '%s': unknown dtype %u",
                                 name, dtype);
    if (ndim < 1 || ndim > PREFREC_PACK_MAX_DIMS)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack writer: tensor '%s': ndim %u not in 1..4", name, ndim);
    if (!deferred && w->n && w->t[w->n - 1].deferred)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack writer: tensor '%s' added after a deferred tensor", name);
    if (w->n == PREFREC_PACK_MAX_TENSORS)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack writer: more than %u tensors",
                                 PREFREC_PACK_MAX_TENSORS);
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 16;
        wtensor *nt = realloc(w->t, nc * sizeof *nt);
        if (!nt) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
        w->t = nt;
        w->cap = nc;
    }
    wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, nl);
    t->dtype = dtype;
    t->ndim = ndim;
    size_t n = 1;
    for (uint32_t d = 0; d < PREFREC_PACK_MAX_DIMS; d++) {
        t->shape[d] = d < ndim ? shape[d] : 1;
        n *= t->shape[d];
    }
    t->n_bytes = (size_t)prefrec_dtype_bytes(dtype, ndim, t->shape, n);
    if (dtype == PREFREC_DT_PCX) { /* its bytes follow from its head */
        if (deferred || !data)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "pack writer: tensor '%s': pcx needs its data", name);
        size_t rows = ndim > 1 ? t->shape[0] : 1;
        t->n_bytes = (size_t)prefrec_pcx_bytes(data, rows, rows ? n / rows : 0);
    }
    if (deferred) {
        t->deferred = 1;
        w->n++;
        return PREFREC_OK;
    }
    t->data = malloc(t->n_bytes ? t->n_bytes : 1);
    if (!t->data) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
    if (t->n_bytes) {
        if (!data) {
            free(t->data);
            return prefrec_error_set(err, PREFREC_E_INVAL, "pack writer: tensor '%s': no data",
                                     name);
        }
        memcpy(t->data, data, t->n_bytes);
    }
    w->n++;
    return PREFREC_OK;
}

prefrec_status prefrec_pack_writer_add(prefrec_pack_writer *w, const char *name, uint32_t dtype,
                                       uint32_t ndim, const uint32_t *shape, const void *data,
                                       prefrec_error *err) {
    return add_entry(w, name, dtype, ndim, shape, data, 0, err);
}

prefrec_status prefrec_pack_writer_add_deferred(prefrec_pack_writer *w, const char *name,
                                                uint32_t dtype, uint32_t ndim,
                                                const uint32_t *shape, prefrec_error *err) {
    return add_entry(w, name, dtype, ndim, shape, NULL, 1, err);
}

prefrec_status prefrec_pack_writer_add_strings(prefrec_pack_writer *w, const char *base,
                                               const char *const *strs, size_t n,
                                               prefrec_error *err) {
    char n_off[64], n_str[64];
    snprintf(n_off, sizeof n_off, "%s.off", base);
    snprintf(n_str, sizeof n_str, "%s.str", base);
    uint32_t *off = malloc((n + 1) * sizeof *off);
    if (!off) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
    size_t total = 0;
    off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        total += strlen(strs[i]) + 1;
        if (total > UINT32_MAX) {
            free(off);
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "pack writer: string table '%s' exceeds 4 GiB", base);
        }
        off[i + 1] = (uint32_t)total;
    }
    char *blob = malloc(total ? total : 1);
    if (!blob) {
        free(off);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
    }
    for (size_t i = 0; i < n; i++) memcpy(blob + off[i], strs[i], off[i + 1] - off[i]);
    uint32_t s_off = (uint32_t)(n + 1), s_str = (uint32_t)total;
    prefrec_status s = prefrec_pack_writer_add(w, n_off, PREFREC_DT_U32, 1, &s_off, off, err);
    if (!s) s = prefrec_pack_writer_add(w, n_str, PREFREC_DT_U8, 1, &s_str, blob, err);
    free(off);
    free(blob);
    return s;
}

prefrec_status prefrec_pack_writer_set_version(prefrec_pack_writer *w, uint32_t version,
                                               prefrec_error *err) {
    if (version < PREFREC_PACK_VERSION_MIN || version > PREFREC_PACK_VERSION)
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "pack writer: version %u, this writer writes versions %u to %u",
                                 version, PREFREC_PACK_VERSION_MIN, PREFREC_PACK_VERSION);
    w->version = version;
    return PREFREC_OK;
}

prefrec_status prefrec_pack_writer_add_stored(prefrec_pack_writer *w, const char *name,
                                              uint32_t store, uint32_t ndim, const uint32_t *shape,
                                              const float *data, prefrec_error *err) {
    if (store == PREFREC_DT_F32)
        return prefrec_pack_writer_add(w, name, PREFREC_DT_F32, ndim, shape, data, err);
    if (store == PREFREC_DT_R16) { /* exact where it fits, else f16 */
        uint64_t n = 1;
        for (uint32_t d = 0; d < ndim && d < PREFREC_PACK_MAX_DIMS; d++) n *= shape[d];
        double ab[2];
        unsigned char *b = n < SIZE_MAX / 4 ? malloc((size_t)(16 + 4 * n)) : NULL;
        uint16_t *k = b ? (uint16_t *)(void *)(b + 16 + 2 * n) : NULL;
        if (!b) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
        prefrec_status s = PREFREC_OK;
        if (prefrec_r16_fit(data, (size_t)n, &ab[0], &ab[1], k)) {
            for (int j = 0; j < 2; j++) {
                uint64_t bits;
                memcpy(&bits, &ab[j], sizeof bits);
                put32(b + 8 * j, (uint32_t)bits);
                put32(b + 8 * j + 4, (uint32_t)(bits >> 32));
            }
            for (uint64_t i = 0; i < n; i++) {
                b[16 + i] = (unsigned char)k[i]; /* planes: low bytes, then high bytes */
                b[16 + n + i] = (unsigned char)(k[i] >> 8);
            }
            s = prefrec_pack_writer_add(w, name, PREFREC_DT_R16, ndim, shape, b, err);
        } else {
            store = PREFREC_DT_F16;
        }
        free(b);
        if (s || store == PREFREC_DT_R16) return s;
    }
    int levels = store == PREFREC_STORE_Q5R ? 15 : store == PREFREC_STORE_Q6R ? 31 : 127;
    if (levels < 127) store = PREFREC_DT_Q8R; /* q5r, q6r: q8r codes in a narrower range */
    int counts = store == PREFREC_DT_PC8 || store == PREFREC_DT_PC16 || store == PREFREC_DT_PCX;
    if (!prefrec_dtype_quantised(store) || counts || store == PREFREC_DT_R16)
        return prefrec_error_set(
            err, PREFREC_E_INVAL, "pack writer: tensor '%s': %s is not a storage of floats alone%s",
            name, prefrec_dtype_name(store),
            counts ? " (counts: prefrec_pack_writer_add with the stored bytes)" : "");
    if (ndim < 1 || ndim > PREFREC_PACK_MAX_DIMS)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack writer: tensor '%s': ndim %u not in 1..4", name, ndim);
    uint64_t n = 1;
    for (uint32_t d = 0; d < ndim; d++) n *= shape[d];
    uint64_t rows = store != PREFREC_DT_F16 && ndim > 1 ? shape[0] : 1;
    uint64_t cols = rows ? n / rows : 0, bytes = prefrec_dtype_bytes(store, ndim, shape, n);
    if (bytes > (uint64_t)SIZE_MAX / 2)
        return prefrec_error_set(err, PREFREC_E_RANGE, "pack writer: tensor '%s' too large", name);
    unsigned char *b = malloc((size_t)bytes + 1);
    if (!b) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
    int bad = 0;
    if (store == PREFREC_DT_Q8C || store == PREFREC_DT_Q4C) {
        bad = prefrec_qc_encode(store, data, rows, cols, b);
    } else if (store == PREFREC_DT_F16) {
        for (uint64_t k = 0; k < n; k++) {
            uint16_t h = prefrec_f32_to_f16(data[k]);
            b[2 * k] = (unsigned char)h;
            b[2 * k + 1] = (unsigned char)(h >> 8);
        }
    } else {
        int q4 = store == PREFREC_DT_Q4R;
        int8_t *codes = q4 ? malloc((size_t)cols + 1) : NULL;
        uint64_t rb = q4 ? (cols + 1) / 2 : cols;
        bad = q4 && !codes ? 2 : 0;
        if (q4) memset(b + 4 * rows, 0, (size_t)(rows * rb));
        for (uint64_t r = 0; r < rows && !bad; r++) {
            float sc = 0.0f;
            int8_t *q = q4 ? codes : (int8_t *)(b + 4 * rows + r * cols);
            bad = prefrec_q_encode_row(data + r * cols, (size_t)cols, q4 ? 7 : levels, &sc, q);
            for (uint64_t k = 0; q4 && k < cols; k++) /* low nibble first */
                b[4 * rows + r * rb + k / 2] |=
                    (unsigned char)(((unsigned)q[k] & 15u) << (4 * (k & 1)));
            uint32_t bits;
            memcpy(&bits, &sc, sizeof bits);
            put32(b + 4 * r, bits);
        }
        free(codes);
    }
    prefrec_status s = bad == 2
        ? prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory")
        : bad ? prefrec_error_set(err, PREFREC_E_INVAL,
                                  "pack writer: tensor '%s' has a value that is not finite (%s)",
                                  name, prefrec_dtype_name(store))
              : prefrec_pack_writer_add(w, name, store, ndim, shape, b, err);
    free(b);
    return s;
}

static int braced(const char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++, n--;
    return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

prefrec_status prefrec_pack_writer_set_manifest(prefrec_pack_writer *w, const char *json,
                                                prefrec_error *err) {
    /* Only the braces are checked here: the manifests come from prefrec's own cJSON trees, and
     * parsing them again could fail for want of memory, which is not a malformed manifest. The
     * reader (prefrec_pack_open) checks every manifest fully. */
    if (!braced(json))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "pack writer: manifest is not a JSON object");
    size_t n = strlen(json);
    if (n > UINT32_MAX / 2)
        return prefrec_error_set(err, PREFREC_E_RANGE, "pack writer: manifest too large");
    char *c = malloc(n + 1);
    if (!c) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory");
    memcpy(c, json, n + 1);
    free(w->manifest);
    w->manifest = c;
    return PREFREC_OK;
}

static uint64_t align_up(uint64_t x) {
    return (x + PREFREC_PACK_ALIGN - 1) / PREFREC_PACK_ALIGN * PREFREC_PACK_ALIGN;
}

/* The layout (every tensor's data offset into off, when given, and the file's size *end) and,
 * when out is given, the bytes of the file up to the first deferred tensor's data (all of it
 * when none is deferred), its CRC field 0. */
static prefrec_status build(const prefrec_pack_writer *w, uint64_t *off, uint64_t *end_out,
                            unsigned char **out, size_t *len, prefrec_error *err) {
    if (!w->manifest)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack writer: no manifest set");
    uint64_t m_size = strlen(w->manifest);
    uint64_t t_off = PREFREC_PACK_HEADER_SIZE + m_size;
    uint64_t d_off = align_up(t_off + (uint64_t)w->n * PREFREC_PACK_ENTRY_SIZE);
    uint64_t end = d_off, head = 0;
    uint32_t version = w->version ? w->version : PREFREC_PACK_VERSION_MIN;
    for (size_t i = 0; i < w->n; i++) {
        end = align_up(end);
        if (off) off[i] = end;
        if (w->t[i].deferred && !head) head = end;
        end += w->t[i].n_bytes;
        uint32_t need = prefrec_dtype_version(w->t[i].dtype);
        if (need > version) {
            if (w->version)
                return prefrec_error_set(err, PREFREC_E_INVAL,
                                         "pack writer: tensor '%s' is %s, which version %u "
                                         "packs cannot hold (version %u can)",
                                         w->t[i].name, prefrec_dtype_name(w->t[i].dtype), version,
                                         need);
            version = need;
        }
    }
    if (!head) head = end;
    if (end > (uint64_t)SIZE_MAX / 2)
        return prefrec_error_set(err, PREFREC_E_RANGE, "pack writer: pack too large");
    if (end_out) *end_out = end;
    if (!out) return PREFREC_OK;
    unsigned char *b = calloc(1, (size_t)head + 1);
    if (!b)
        return prefrec_error_set(err, PREFREC_E_NOMEM, "pack writer: out of memory (%llu bytes)",
                                 (unsigned long long)head);
    memcpy(b, PREFREC_PACK_MAGIC, 8); /* includes the NUL */
    put32(b + PREFREC_PACK_OFF_VERSION, version);
    put32(b + PREFREC_PACK_OFF_HEADER_SIZE, PREFREC_PACK_HEADER_SIZE);
    put64(b + PREFREC_PACK_OFF_FILE_SIZE, end);
    put32(b + PREFREC_PACK_OFF_MANIFEST, PREFREC_PACK_HEADER_SIZE);
    put32(b + PREFREC_PACK_OFF_MANIFEST + 4, (uint32_t)m_size);
    put32(b + PREFREC_PACK_OFF_TABLE, (uint32_t)t_off);
    put32(b + PREFREC_PACK_OFF_TABLE + 4, (uint32_t)w->n);
    put64(b + PREFREC_PACK_OFF_DATA, d_off);
    put64(b + PREFREC_PACK_OFF_DATA_SIZE, end - d_off);
    put32(b + PREFREC_PACK_OFF_FLAGS, 0);
    memcpy(b + PREFREC_PACK_HEADER_SIZE, w->manifest, (size_t)m_size);
    uint64_t pos = d_off;
    for (size_t i = 0; i < w->n; i++) {
        const wtensor *t = &w->t[i];
        unsigned char *e = b + t_off + i * PREFREC_PACK_ENTRY_SIZE;
        pos = align_up(pos);
        memcpy(e, t->name, PREFREC_PACK_NAME_MAX);
        put32(e + 32, t->dtype);
        put32(e + 36, t->ndim);
        for (uint32_t d = 0; d < PREFREC_PACK_MAX_DIMS; d++) put32(e + 40 + 4 * d, t->shape[d]);
        put64(e + 56, pos);
        if (!t->deferred) memcpy(b + pos, t->data, t->n_bytes);
        pos += t->n_bytes;
    }
    *out = b;
    *len = (size_t)head;
    return PREFREC_OK;
}

prefrec_status prefrec_pack_writer_finish(const prefrec_pack_writer *w, void **out, size_t *len,
                                          prefrec_error *err) {
    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->t[i].deferred)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "pack writer: tensor '%s' is deferred (its bytes are "
                                     "written by the caller: prefrec_pack_writer_head)",
                                     w->t[i].name);
    unsigned char *b = NULL;
    size_t end = 0;
    prefrec_status s = build(w, NULL, NULL, &b, &end, err);
    if (s) return s;
    uint32_t crc = prefrec_crc32(0, b, PREFREC_PACK_OFF_CRC);
    crc = prefrec_crc32(crc, b + PREFREC_PACK_HEADER_SIZE, end - PREFREC_PACK_HEADER_SIZE);
    put32(b + PREFREC_PACK_OFF_CRC, crc);
    *out = b;
    *len = end;
    return PREFREC_OK;
}

size_t prefrec_pack_writer_count(const prefrec_pack_writer *w) { return w->n; }

prefrec_status prefrec_pack_writer_head(const prefrec_pack_writer *w, uint64_t *off, uint64_t *end,
                                        void **out, size_t *len, prefrec_error *err) {
    unsigned char *b = NULL;
    *out = NULL;
    *len = 0;
    prefrec_status s = build(w, off, end, &b, len, err);
    if (!s) *out = b;
    return s;
}

prefrec_status prefrec_pack_writer_save(const prefrec_pack_writer *w, const char *path,
                                        size_t *size_out, prefrec_error *err) {
    void *buf;
    size_t len;
    prefrec_status s = prefrec_pack_writer_finish(w, &buf, &len, err);
    if (s) return s;
    s = prefrec_atomic_write_file(path, buf, len, err);
    free(buf);
    if (!s && size_out) *size_out = len;
    return s;
}
