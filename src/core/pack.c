/* pack.c - the portable model pack reader (see prefrec/pack.h, docs/model.md).
 *
 * Validation order matters for the messages a user sees: magic first (is this a pack at all?),
 * then the version (an old reader meeting a newer pack says so rather than "bad checksum"),
 * then the fixed header fields against the buffer length, then the CRC over everything, and
 * only then the table entries and the manifest. Every offset is checked with subtraction
 * against the remaining length, never by adding to a pointer first, so nothing overflows. */
#include "prefrec/pack.h"
#include "pack_internal.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "prefrec packs are little-endian; this reader needs a little-endian host"
#endif

struct prefrec_pack {
    const unsigned char *bytes;
    size_t len;
    uint32_t version, crc;
    char *manifest_text;
    size_t manifest_len;
    cJSON *manifest;
    size_t n_tensors;
    prefrec_tensor *tensors;
    prefrec_tensor *views; /* [n_tensors]: a quantised tensor's f32 view (dtype f32), a u16
                              tensor's i32 view, a u8d tensor's u32 view, else 0 */
    float *decoded; /* the views' values (i32 ones stored in their place), decoded once at open */
    _Atomic(prefrec_tensor *) *lazy; /* [n_tensors]: an f16, q8r or q4r tensor's view, decoded
                                        by the first prefrec_pack_get that asks for it (NULL
                                        until then; one block: the view, then its values) */
};

static const char *const dtype_names[PREFREC_DT_COUNT] = {"f32", "f16",  "i8",  "u8",  "i32", "u32",
                                                          "q8r", "q4r",  "q8c", "q4c", "u16", "u8d",
                                                          "pc8", "pc16", "d16", "r16", "pcx"};
static const size_t dtype_sizes[PREFREC_DT_COUNT] = {4, 2, 1, 1, 4, 4, 1, 1, 1,
                                                     1, 2, 1, 1, 2, 2, 2, 1};

size_t prefrec_dtype_size(uint32_t dt) { return dt < PREFREC_DT_COUNT ? dtype_sizes[dt] : 0; }
const char *prefrec_dtype_name(uint32_t dt) {
    return dt < PREFREC_DT_COUNT ? dtype_names[dt] : "?";
}
int prefrec_dtype_quantised(uint32_t dt) {
    return dt == PREFREC_DT_F16 || dt == PREFREC_DT_Q8R || dt == PREFREC_DT_Q4R ||
        dt == PREFREC_DT_Q8C || dt == PREFREC_DT_Q4C || dt == PREFREC_DT_PC8 ||
        dt == PREFREC_DT_PC16 || dt == PREFREC_DT_R16 || dt == PREFREC_DT_PCX;
}
uint32_t prefrec_dtype_version(uint32_t dt) {
    return dt == PREFREC_DT_PCX ? 4u : dt >= PREFREC_DT_Q8R ? 2u : 1u;
}

/* rows of a q8r tensor: shape[0], or 1 for a vector */
static uint64_t q8_rows(uint32_t ndim, const uint32_t *shape) { return ndim > 1 ? shape[0] : 1; }

uint64_t prefrec_dtype_bytes(uint32_t dt, uint32_t ndim, const uint32_t *shape, uint64_t n) {
    uint64_t b = n * prefrec_dtype_size(dt), rows = q8_rows(ndim, shape);
    if (dt == PREFREC_DT_Q4R) return rows ? rows * (4 + (n / rows + 1) / 2) : 0;
    if (dt == PREFREC_DT_Q8C) return 1024 + 4 * rows + n;
    if (dt == PREFREC_DT_Q4C) return 64 + (rows ? rows * (4 + (n / rows + 1) / 2) : 0);
    if (dt == PREFREC_DT_R16) return 16 + b;
    if (dt == PREFREC_DT_PC8 || dt == PREFREC_DT_PC16) /* a sizes entry and a count row more */
        return 8 + 4 * (rows + 1) + (rows ? b + b / rows : 0);
    if (dt == PREFREC_DT_PCX) return 8 + 5 * (rows + 1) + 4; /* the head: prefrec_pcx_bytes */
    return dt == PREFREC_DT_Q8R ? b + 4 * rows : b;
}

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) {
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void prefrec_pack_free(prefrec_pack *p) {
    if (!p) return;
    cJSON_Delete(p->manifest);
    free(p->manifest_text);
    free(p->tensors);
    free(p->views);
    free(p->decoded);
    for (size_t i = 0; p->lazy && i < p->n_tensors; i++)
        free(atomic_load_explicit(&p->lazy[i], memory_order_acquire));
    free((void *)p->lazy);
    free(p);
}

/* Checks one table entry (at file offset `at`) and fills t. */
static prefrec_status read_entry(const prefrec_pack *p, size_t i, uint64_t at, uint64_t data_off,
                                 uint64_t data_end, uint64_t prev_end, prefrec_tensor *t,
                                 prefrec_error *err) {
    const unsigned char *e = p->bytes + at;
    memset(t, 0, sizeof *t);
    size_t nl = 0;
    while (nl < PREFREC_PACK_NAME_MAX && e[nl]) nl++;
    if (nl == 0 || nl == PREFREC_PACK_NAME_MAX)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: tensor %zu (byte %llu): name is empty or not NUL-terminated", i,
            (unsigned long long)at);
    for (size_t k = 0; k < nl; k++)
        if (e[k] < 0x21 || e[k] > 0x7E)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: tensor %zu (byte %llu): name has a non-printable byte",
                                     i, (unsigned long long)(at + k));
    for (size_t k = nl; k < PREFREC_PACK_NAME_MAX; k++)
        if (e[k])
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: tensor %zu (byte %llu): name padding is not zero", i,
                                     (unsigned long long)(at + k));
    memcpy(t->name, e, nl);
    t->dtype = rd32(e + 32);
    t->ndim = rd32(e + 36);
    if (t->dtype >= PREFREC_DT_COUNT)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor '%s' (byte %llu): unknown dtype %u", t->name,
                                 (unsigned long long)(at + 32), t->dtype);
    if (p->version < prefrec_dtype_version(t->dtype))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor '%s' (byte %llu): dtype %s needs pack version %u, "
                                 "the header says %u",
                                 t->name, (unsigned long long)(at + 32), dtype_names[t->dtype],
                                 prefrec_dtype_version(t->dtype), p->version);
    if (t->ndim < 1 || t->ndim > PREFREC_PACK_MAX_DIMS)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor '%s' (byte %llu): ndim %u not in 1..4", t->name,
                                 (unsigned long long)(at + 36), t->ndim);
    uint64_t n = 1;
    for (uint32_t d = 0; d < PREFREC_PACK_MAX_DIMS; d++) {
        t->shape[d] = rd32(e + 40 + 4 * d);
        if (d >= t->ndim && t->shape[d] != 1)
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: tensor '%s' (byte %llu): unused dimension %u is %u, not 1", t->name,
                (unsigned long long)(at + 40 + 4 * d), d, t->shape[d]);
        /* each factor < 2^32 and the running product bounded by the file size: no overflow */
        n *= t->shape[d];
        if (n > (uint64_t)p->len)
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: tensor '%s' (byte %llu): shape too large for the file",
                                     t->name, (unsigned long long)(at + 40));
    }
    t->n_elems = n;
    t->n_bytes = prefrec_dtype_bytes(t->dtype, t->ndim, t->shape, n); /* <= 5 x the file */
    t->offset = rd64(e + 56);
    if (t->offset % PREFREC_PACK_ALIGN)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor '%s' (byte %llu): offset %llu is not %u-aligned",
                                 t->name, (unsigned long long)(at + 56),
                                 (unsigned long long)t->offset, PREFREC_PACK_ALIGN);
    if (t->offset < data_off || t->offset < prev_end || t->offset > data_end ||
        t->n_bytes > data_end - t->offset)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: tensor '%s' (byte %llu): data [%llu, +%llu) outside the data "
            "section [%llu, %llu) or overlapping the previous tensor",
            t->name, (unsigned long long)(at + 56), (unsigned long long)t->offset,
            (unsigned long long)t->n_bytes, (unsigned long long)data_off,
            (unsigned long long)data_end);
    t->data = p->bytes + t->offset;
    if (t->dtype == PREFREC_DT_PCX) { /* its head is in the data: the rest of its bytes */
        uint64_t rows = q8_rows(t->ndim, t->shape);
        t->n_bytes = prefrec_pcx_bytes(t->data, rows, rows ? n / rows : 0);
        if (t->n_bytes > data_end - t->offset)
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: tensor '%s' (byte %llu): its sizes and escapes make %llu bytes, past the "
                "data section's end %llu",
                t->name, (unsigned long long)(t->offset + 8), (unsigned long long)t->n_bytes,
                (unsigned long long)data_end);
    }
    return PREFREC_OK;
}

/* 1 when tensor t of a version-2 pack has a view: f32 (quantised), i32 (u16) or u32 (u8d) */
static int has_view(const prefrec_pack *p, const prefrec_tensor *t) {
    return p->version >= 2 &&
        (prefrec_dtype_quantised(t->dtype) || t->dtype == PREFREC_DT_U16 ||
         t->dtype == PREFREC_DT_D16 || t->dtype == PREFREC_DT_U8D);
}

/* 1 for the views decoded on first use (prefrec_pack_get) instead of at open: their stored
 * values need no check beyond a row's scale, and a reader may take their rows from the stored
 * bytes instead (prefrec_pack_row_f32: the product embeddings, read a row per product scored),
 * so a load does not write a float copy of them into fresh memory. */
static int row_view(const prefrec_tensor *t) {
    return t->dtype == PREFREC_DT_F16 || t->dtype == PREFREC_DT_Q8R || t->dtype == PREFREC_DT_Q4R;
}

/* pc8 / pc16 (the segment popularity table as counts) are lazy too: checked at open, decoded
 * whole by the first prefrec_pack_get, or read a row or a value at a time from the counts
 * (prefrec_pc_row: the blend, which reads one segment's row per request). */
static int pc_view(const prefrec_tensor *t) {
    return t->dtype == PREFREC_DT_PC8 || t->dtype == PREFREC_DT_PC16 || t->dtype == PREFREC_DT_PCX;
}

static int lazy_view(const prefrec_tensor *t) { return row_view(t) || pc_view(t); }

int prefrec_pack_by_rows(const prefrec_pack *p, const prefrec_tensor *t) {
    return p->version >= 2 && row_view(t);
}

int prefrec_pack_pc_table(const prefrec_pack *p, const prefrec_tensor *t) {
    return p->version >= 2 && pc_view(t) && t->ndim == 2;
}

int prefrec_pack_finite(const prefrec_tensor *t) {
    const unsigned char *d = t->data;
    int good = 1;
    if (t->dtype == PREFREC_DT_F16) { /* exponent 31: an infinity or a NaN */
        for (uint64_t k = 0; k < t->n_elems; k++) good &= (d[2 * k + 1] & 0x7Cu) != 0x7Cu;
    } else if (t->dtype == PREFREC_DT_Q8R || t->dtype == PREFREC_DT_Q4R) {
        /* value = scale x code, |code| <= 128 (q8r) or 8 (q4r): exact powers of two, so the
         * product is finite when scale <= FLT_MAX / that (scales are finite and >= 0: open) */
        float lim = t->dtype == PREFREC_DT_Q8R ? FLT_MAX / 128.0f : FLT_MAX / 8.0f;
        uint64_t rows = q8_rows(t->ndim, t->shape);
        for (uint64_t r = 0; r < rows; r++) {
            uint32_t bits = rd32(d + 4 * r);
            float scale;
            memcpy(&scale, &bits, sizeof scale);
            good &= scale <= lim;
        }
    } else {
        good = 0;
    }
    return good;
}

void prefrec_pack_row_f32(const prefrec_tensor *t, uint64_t r0, uint64_t n_rows, float *out) {
    uint64_t rows = q8_rows(t->ndim, t->shape), cols = rows ? t->n_elems / rows : 0;
    const unsigned char *d = t->data;
    if (t->dtype == PREFREC_DT_F32) {
        memcpy(out, d + 4 * r0 * cols, (size_t)(n_rows * cols) * sizeof *out);
    } else if (t->dtype == PREFREC_DT_F16) {
        const unsigned char *h = d + 2 * r0 * cols;
        for (uint64_t k = 0; k < n_rows * cols; k++)
            out[k] = prefrec_f16_to_f32((uint16_t)(h[2 * k] | h[2 * k + 1] << 8));
    } else { /* q8r, q4r: the scales were checked at open */
        const int8_t *q = (const int8_t *)(d + 4 * rows);
        uint64_t rb = (cols + 1) / 2; /* q4r: bytes per row */
        for (uint64_t r = r0; r < r0 + n_rows; r++, out += cols) {
            uint32_t bits = rd32(d + 4 * r);
            float scale;
            memcpy(&scale, &bits, sizeof scale);
            if (t->dtype == PREFREC_DT_Q8R)
                for (uint64_t k = 0; k < cols; k++)
                    out[k] = prefrec_q8_value(scale, q[r * cols + k]);
            else
                for (uint64_t k = 0; k < cols; k++) {
                    unsigned nib = (unsigned)((uint8_t)q[r * rb + k / 2] >> (4 * (k & 1))) & 15;
                    int8_t code = (int8_t)(nib >= 8 ? (int)nib - 16 : (int)nib);
                    out[k] = prefrec_q8_value(scale, code);
                }
        }
    }
}

/* prefrec_pc_decode's result for tensor t as a status (at: the offending byte in t). */
static prefrec_status pc_status(const prefrec_tensor *t, int bad, uint64_t at, prefrec_error *err) {
    if (bad == 4) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (bad)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: tensor '%s' (byte %llu): %s",
                                 t->name, (unsigned long long)(t->offset + at),
                                 bad == 1       ? "the prior is not a finite number > 0"
                                     : bad == 2 ? "a count is above its segment's size"
                                     : bad == 5 ? "more than 65,535 segment rows"
                                     : bad == 6 ? "an escape (k, count) does not match a 255 "
                                                  "count, or a 255 count has no escape"
                                     : bad == 7 ? "a row's high-plane flag is not 0 or 1, or set "
                                                  "on a segment whose counts are not stored"
                                                : "a segment size has bit 31 set");
    return PREFREC_OK;
}

/* The f32 views of the quantised tensors and the i32 views of the u16 ones, decoded into one
 * buffer (each view 64-byte aligned within it). Their size is bounded by the file's: 4 bytes per q8r or q8c byte, 8 per q4r or q4c
 * byte, 2 per f16 byte. */
static prefrec_status decode_quantised(prefrec_pack *p, prefrec_error *err) {
    uint64_t total = 0, any = 0;
    for (size_t i = 0; i < p->n_tensors; i++)
        if (has_view(p, &p->tensors[i])) {
            any = 1;
            if (!lazy_view(&p->tensors[i])) total += (p->tensors[i].n_elems + 15) / 16 * 16;
        }
    if (!any) return PREFREC_OK;
    if (total > (SIZE_MAX - 64) / sizeof(float))
        return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: quantised tensors too large");
    p->views = calloc(p->n_tensors, sizeof *p->views);
    p->lazy = calloc(p->n_tensors, sizeof *p->lazy);
    p->decoded = malloc((size_t)(total ? total : 1) * sizeof(float));
    if (!p->views || !p->lazy || !p->decoded)
        return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    float *out = p->decoded;
    for (size_t i = 0; i < p->n_tensors; i++) {
        const prefrec_tensor *t = &p->tensors[i];
        if (!has_view(p, t)) continue; /* (none in version 1) */
        if (pc_view(t)) { /* checked here (open's messages), decoded when asked for */
            uint64_t rows = q8_rows(t->ndim, t->shape), cols = rows ? t->n_elems / rows : 0, at = 0;
            prefrec_status bs =
                pc_status(t, prefrec_pc_decode(t->dtype, t->data, rows, cols, NULL, &at), at, err);
            if (bs) return bs;
        }
        if (lazy_view(t)) {
            /* decoded by prefrec_pack_get; the scales are checked here, with open's message */
            uint64_t rows = pc_view(t) ? 0 : q8_rows(t->ndim, t->shape);
            for (uint64_t r = 0; t->dtype != PREFREC_DT_F16 && r < rows; r++) {
                uint32_t bits = rd32((const unsigned char *)t->data + 4 * r);
                float scale;
                memcpy(&scale, &bits, sizeof scale);
                if (!(scale >= 0.0f && scale <= FLT_MAX))
                    return prefrec_error_set(err, PREFREC_E_FORMAT,
                                             "pack: tensor '%s' (byte %llu): row %llu's scale is "
                                             "not a finite number >= 0",
                                             t->name, (unsigned long long)(t->offset + 4 * r),
                                             (unsigned long long)r);
            }
            prefrec_tensor *v = &p->views[i];
            *v = *t;
            v->dtype = PREFREC_DT_F32;
            v->n_bytes = t->n_elems * sizeof(float);
            v->data = NULL;
            continue;
        }
        if (t->dtype == PREFREC_DT_U8D) {
            const unsigned char *d = t->data;
            uint32_t sum = 0; /* wraps only past 2^32 (a string table then refuses the order) */
            for (uint64_t k = 0; k < t->n_elems; k++) {
                sum += d[k];
                memcpy(&out[k], &sum, sizeof sum);
            }
        } else if (t->dtype == PREFREC_DT_U16) {
            const unsigned char *h = t->data;
            for (uint64_t k = 0; k < t->n_elems; k++) {
                uint32_t v = (uint32_t)(h[2 * k] | h[2 * k + 1] << 8);
                int32_t x = v == 0xFFFFu ? -1 : (int32_t)v;
                memcpy(&out[k], &x, sizeof x); /* the buffer holds 4-byte values of either kind */
            }
        } else if (t->dtype == PREFREC_DT_R16) {
            const unsigned char *h = t->data, *lo = h + 16, *hi = lo + t->n_elems;
            double ab[2];
            for (int j = 0; j < 2; j++) {
                uint64_t bits = rd64(h + 8 * j);
                memcpy(&ab[j], &bits, sizeof bits);
            }
            if (!(ab[0] >= 0 && ab[0] <= DBL_MAX && ab[1] > 0 && ab[1] <= DBL_MAX))
                return prefrec_error_set(err, PREFREC_E_FORMAT,
                                         "pack: tensor '%s' (byte %llu): its offset and "
                                         "denominator are not finite numbers >= 0 and > 0",
                                         t->name, (unsigned long long)t->offset);
            for (uint64_t k = 0; k < t->n_elems; k++)
                out[k] = prefrec_r16_value((uint32_t)(lo[k] | hi[k] << 8), ab[0], ab[1]);
        } else if (t->dtype == PREFREC_DT_D16) {
            const unsigned char *lo = t->data, *hi = lo + t->n_elems;
            uint64_t rows = q8_rows(t->ndim, t->shape), cols = rows ? t->n_elems / rows : 0;
            for (uint64_t r = 0; r < rows; r++) {
                uint32_t at = 0; /* the running index, mod 2^16 (the engine checks the range) */
                for (uint64_t k = r * cols; k < (r + 1) * cols; k++) {
                    uint32_t v = (uint32_t)(lo[k] | hi[k] << 8);
                    if (v != 0xFFFFu) at = (at + v) & 0xFFFFu;
                    int32_t x = v == 0xFFFFu ? -1 : (int32_t)at;
                    memcpy(&out[k], &x, sizeof x);
                }
            }
        } else if (t->dtype == PREFREC_DT_Q8C || t->dtype == PREFREC_DT_Q4C) {
            uint64_t rows = q8_rows(t->ndim, t->shape), cols = rows ? t->n_elems / rows : 0, at = 0;
            int bad = prefrec_qc_decode(t->dtype, t->data, rows, cols, out, &at);
            if (bad)
                return prefrec_error_set(
                    err, PREFREC_E_FORMAT, "pack: tensor '%s' (byte %llu): %s %s", t->name,
                    (unsigned long long)(t->offset + at), bad == 1 ? "codebook level" : "row scale",
                    bad == 1 ? "is not a finite number in [-1, 1]" : "is not a finite number >= 0");
        }
        prefrec_tensor *v = &p->views[i];
        *v = *t;
        v->dtype = t->dtype == PREFREC_DT_U16 || t->dtype == PREFREC_DT_D16 ? PREFREC_DT_I32
            : t->dtype == PREFREC_DT_U8D                                    ? PREFREC_DT_U32
                                                                            : PREFREC_DT_F32;
        v->n_bytes = t->n_elems * sizeof(float);
        v->data = out;
        out += (t->n_elems + 15) / 16 * 16;
    }
    return PREFREC_OK;
}

static prefrec_status validate(prefrec_pack *p, prefrec_error *err) {
    const unsigned char *b = p->bytes;
    size_t len = p->len;
    if (len < PREFREC_PACK_HEADER_SIZE)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: %zu bytes is shorter than the %u-byte header (truncated?)",
                                 len, PREFREC_PACK_HEADER_SIZE);
    if (memcmp(b, PREFREC_PACK_MAGIC, 8) != 0)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: bad magic at byte 0 (not a prefrec model pack)");
    p->version = rd32(b + PREFREC_PACK_OFF_VERSION);
    if (p->version > PREFREC_PACK_VERSION)
        return prefrec_error_set(
            err, PREFREC_E_VERSION,
            "pack: format version %u (byte 8) needs a newer engine: this one reads versions %u "
            "to %u (export the pack with --pack-version %u for it)",
            p->version, PREFREC_PACK_VERSION_MIN, PREFREC_PACK_VERSION, PREFREC_PACK_VERSION);
    if (p->version < PREFREC_PACK_VERSION_MIN)
        return prefrec_error_set(err, PREFREC_E_VERSION,
                                 "pack: format version %u (byte 8) is not a version: this engine "
                                 "reads versions %u to %u",
                                 p->version, PREFREC_PACK_VERSION_MIN, PREFREC_PACK_VERSION);
    uint32_t hsize = rd32(b + PREFREC_PACK_OFF_HEADER_SIZE);
    uint64_t fsize = rd64(b + PREFREC_PACK_OFF_FILE_SIZE);
    uint32_t m_off = rd32(b + PREFREC_PACK_OFF_MANIFEST),
             m_size = rd32(b + PREFREC_PACK_OFF_MANIFEST + 4);
    uint32_t t_off = rd32(b + PREFREC_PACK_OFF_TABLE), n_t = rd32(b + PREFREC_PACK_OFF_TABLE + 4);
    uint64_t d_off = rd64(b + PREFREC_PACK_OFF_DATA), d_size = rd64(b + PREFREC_PACK_OFF_DATA_SIZE);
    uint32_t flags = rd32(b + PREFREC_PACK_OFF_FLAGS);
    if (hsize != PREFREC_PACK_HEADER_SIZE)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: header size %u (byte 12) is not %u",
                                 hsize, PREFREC_PACK_HEADER_SIZE);
    if (fsize != (uint64_t)len)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: header says %llu bytes (byte 16) but the buffer has %zu (truncated or padded?)",
            (unsigned long long)fsize, len);
    if (flags != 0)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: flags %#x (byte 56) must be 0 in versions 1 and 2", flags);
    if (m_off != PREFREC_PACK_HEADER_SIZE || m_size > len - m_off)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: manifest [%u, +%u) (byte 24) does not fit after the header in %zu bytes", m_off,
            m_size, len);
    /* the parsed manifest (a cJSON tree) takes up to ~32 bytes per byte of text: bounded here */
    if (m_size > PREFREC_PACK_MANIFEST_MAX)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: manifest of %u bytes (byte 28) is over the %u bytes a reader accepts", m_size,
            PREFREC_PACK_MANIFEST_MAX);
    if (t_off != m_off + m_size || n_t > PREFREC_PACK_MAX_TENSORS ||
        (uint64_t)n_t * PREFREC_PACK_ENTRY_SIZE > len - t_off)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor table at %u with %u entries (byte 32) does not "
                                 "follow the manifest or fit in %zu bytes",
                                 t_off, n_t, len);
    uint64_t t_end = (uint64_t)t_off + (uint64_t)n_t * PREFREC_PACK_ENTRY_SIZE;
    uint64_t want_d = (t_end + PREFREC_PACK_ALIGN - 1) / PREFREC_PACK_ALIGN * PREFREC_PACK_ALIGN;
    if (d_off != want_d || d_off > len || d_size != len - d_off)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: data section [%llu, +%llu) (byte 40) should start at %llu "
                                 "and run to the end (%zu)",
                                 (unsigned long long)d_off, (unsigned long long)d_size,
                                 (unsigned long long)want_d, len);
    for (uint64_t k = t_end; k < d_off; k++)
        if (b[k])
            return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: padding byte %llu is not zero",
                                     (unsigned long long)k);
    uint32_t stored = rd32(b + PREFREC_PACK_OFF_CRC);
    uint32_t crc = prefrec_crc32(0, b, PREFREC_PACK_OFF_CRC);
    crc = prefrec_crc32(crc, b + PREFREC_PACK_HEADER_SIZE, len - PREFREC_PACK_HEADER_SIZE);
    if (crc != stored)
        return prefrec_error_set(
            err, PREFREC_E_CHECKSUM,
            "pack: CRC32 mismatch (stored %08x at byte 60, computed %08x): the file is corrupt",
            stored, crc);
    p->crc = stored;

    p->n_tensors = n_t;
    p->tensors = calloc(n_t ? n_t : 1, sizeof *p->tensors);
    if (!p->tensors) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    uint64_t prev_end = d_off;
    prefrec_status s;
    for (size_t i = 0; i < n_t; i++) {
        s = read_entry(p, i, t_off + (uint64_t)i * PREFREC_PACK_ENTRY_SIZE, d_off, (uint64_t)len,
                       prev_end, &p->tensors[i], err);
        if (s) return s;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->tensors[j].name, p->tensors[i].name))
                return prefrec_error_set(err, PREFREC_E_FORMAT,
                                         "pack: tensor name '%s' appears twice",
                                         p->tensors[i].name);
        prev_end = p->tensors[i].offset + p->tensors[i].n_bytes;
    }
    s = decode_quantised(p, err);
    if (s) return s;

    p->manifest_text = malloc((size_t)m_size + 1);
    if (!p->manifest_text) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    memcpy(p->manifest_text, b + m_off, m_size);
    p->manifest_text[m_size] = 0;
    p->manifest_len = m_size;
    if (memchr(p->manifest_text, 0, m_size))
        return prefrec_error_set(err, PREFREC_E_PARSE, "pack: manifest contains a NUL byte");
    p->manifest = cJSON_ParseWithLength(p->manifest_text, m_size);
    if (!p->manifest || !cJSON_IsObject(p->manifest))
        return prefrec_error_set(err, PREFREC_E_PARSE,
                                 "pack: manifest (bytes %u..%u) is not a JSON object", m_off,
                                 m_off + m_size);
    return PREFREC_OK;
}

prefrec_status prefrec_pack_open(const void *bytes, size_t len, prefrec_pack **out,
                                 prefrec_error *err) {
    if (!out) return prefrec_error_set(err, PREFREC_E_INVAL, "pack: no output handle");
    *out = NULL;
    if (!bytes && len) return prefrec_error_set(err, PREFREC_E_INVAL, "pack: NULL buffer");
    if ((uintptr_t)bytes % 8)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack: buffer must be 8-byte aligned");
    prefrec_pack *p = calloc(1, sizeof *p);
    if (!p) return prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    p->bytes = (const unsigned char *)bytes;
    p->len = len;
    prefrec_status s = validate(p, err);
    if (s) {
        prefrec_pack_free(p);
        return s;
    }
    *out = p;
    return PREFREC_OK;
}

uint32_t prefrec_pack_version(const prefrec_pack *p) { return p->version; }
size_t prefrec_pack_size(const prefrec_pack *p) { return p->len; }
uint32_t prefrec_pack_crc(const prefrec_pack *p) { return p->crc; }

const char *prefrec_pack_manifest_json(const prefrec_pack *p, size_t *len) {
    if (len) *len = p->manifest_len;
    return p->manifest_text;
}
const cJSON *prefrec_pack_manifest(const prefrec_pack *p) { return p->manifest; }

const char *prefrec_pack_manifest_str(const prefrec_pack *p, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->manifest, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
double prefrec_pack_manifest_num(const prefrec_pack *p, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->manifest, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

size_t prefrec_pack_tensor_count(const prefrec_pack *p) { return p->n_tensors; }
const prefrec_tensor *prefrec_pack_tensor_at(const prefrec_pack *p, size_t i) {
    return i < p->n_tensors ? &p->tensors[i] : NULL;
}
const prefrec_tensor *prefrec_pack_find(const prefrec_pack *p, const char *name) {
    for (size_t i = 0; i < p->n_tensors; i++)
        if (!strcmp(p->tensors[i].name, name)) return &p->tensors[i];
    return NULL;
}

/* The view of lazy tensor i, decoded by the first caller: the block is built apart and published
 * with a compare-and-swap, so threads sharing the pack may ask at once (a loser frees its copy,
 * the same bits, and takes the winner's). NULL when out of memory. */
static const prefrec_tensor *decoded_view(const prefrec_pack *p, size_t i) {
    prefrec_tensor *v = atomic_load_explicit(&p->lazy[i], memory_order_acquire);
    if (v) return v;
    const prefrec_tensor *t = &p->tensors[i];
    uint64_t rows = q8_rows(t->ndim, t->shape);
    uint64_t bytes = (t->n_elems * sizeof(float) + 63) / 64 * 64; /* n_elems <= 2 x the file */
    if (bytes > SIZE_MAX - 128) return NULL;
    unsigned char *blk = aligned_alloc(64, (size_t)bytes + 128); /* the view, then the values */
    if (!blk) return NULL;
    v = (prefrec_tensor *)(void *)blk;
    *v = p->views[i];
    v->data = blk + 128;
    if (pc_view(t)) { /* checked at open: only memory can fail */
        uint64_t at = 0;
        if (prefrec_pc_decode(t->dtype, t->data, rows, rows ? t->n_elems / rows : 0,
                              (float *)(void *)(blk + 128), &at)) {
            free(blk);
            return NULL;
        }
    } else {
        prefrec_pack_row_f32(t, 0, rows, (float *)(void *)(blk + 128));
    }
    prefrec_tensor *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&p->lazy[i], &none, v, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        free(blk);
        return none;
    }
    return v;
}

prefrec_status prefrec_pack_get(const prefrec_pack *p, const char *name, uint32_t dt, uint32_t ndim,
                                const uint32_t *want, const prefrec_tensor **out,
                                prefrec_error *err) {
    const prefrec_tensor *t = prefrec_pack_find(p, name);
    *out = NULL;
    if (!t) return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: tensor '%s' is missing", name);
    if (p->views &&
        ((dt == PREFREC_DT_F32 && prefrec_dtype_quantised(t->dtype)) ||
         (dt == PREFREC_DT_I32 && (t->dtype == PREFREC_DT_U16 || t->dtype == PREFREC_DT_D16)) ||
         (dt == PREFREC_DT_U32 && t->dtype == PREFREC_DT_U8D))) {
        size_t i = (size_t)(t - p->tensors);
        /* its values, decoded at open or (lazy_view) now */
        t = lazy_view(t) ? decoded_view(p, i) : &p->views[i];
        if (!t)
            return prefrec_error_set(err, PREFREC_E_NOMEM,
                                     "pack: out of memory decoding tensor '%s'", name);
    }
    if (t->dtype != dt)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "pack: tensor '%s' is %s, expected %s",
                                 name, prefrec_dtype_name(t->dtype), prefrec_dtype_name(dt));
    if (t->ndim != ndim)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "pack: tensor '%s' has %u dimensions, expected %u", name, t->ndim,
                                 ndim);
    for (uint32_t d = 0; d < ndim; d++)
        if (want && want[d] && t->shape[d] != want[d])
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "pack: tensor '%s' dimension %u is %u, expected %u", name, d,
                                     t->shape[d], want[d]);
    *out = t;
    return PREFREC_OK;
}

prefrec_status prefrec_pack_strings(const prefrec_pack *p, const char *base, prefrec_strings *out,
                                    prefrec_error *err) {
    char n_off[64], n_str[64]; /* base + ".off" / ".str" (bases are short names; no printf on
                                  the load path: docs/engine.md) */
    size_t bl = strlen(base);
    if (bl > sizeof n_off - 5) bl = sizeof n_off - 5;
    memcpy(n_off, base, bl);
    memcpy(n_str, base, bl);
    memcpy(n_off + bl, ".off", 5);
    memcpy(n_str + bl, ".str", 5);
    const prefrec_tensor *to, *ts;
    prefrec_status s = prefrec_pack_get(p, n_off, PREFREC_DT_U32, 1, NULL, &to, err);
    if (!s) s = prefrec_pack_get(p, n_str, PREFREC_DT_U8, 1, NULL, &ts, err);
    if (s) return s;
    const uint32_t *off = (const uint32_t *)to->data;
    const char *blob = (const char *)ts->data;
    uint64_t n = to->n_elems - 1; /* n_elems >= 1 always: shape factors are >= 1 or n == 0 */
    if (to->n_elems == 0 || off[0] != 0 || off[n] != ts->n_elems)
        return prefrec_error_set(
            err, PREFREC_E_FORMAT,
            "pack: string table '%s': offsets must start at 0 and end at the blob size %llu", base,
            (unsigned long long)ts->n_elems);
    for (uint64_t i = 0; i < n; i++) {
        /* each offset is checked against the blob before it is used: a later offset equal to
         * the blob size does not bound an earlier one that is not yet known to be ascending */
        if (off[i + 1] <= off[i] || off[i + 1] > ts->n_elems)
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: string table '%s': offset %llu is not ascending within the blob", base,
                (unsigned long long)i + 1);
        if (blob[off[i + 1] - 1] != 0 || memchr(blob + off[i], 0, off[i + 1] - 1 - off[i]))
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: string table '%s': string %llu is not one NUL-terminated string", base,
                (unsigned long long)i);
        /* a string is copied into every answer that shows it (a category name into each of
         * 100 items): its length is bounded so that an answer stays small */
        if (off[i + 1] - off[i] > PREFREC_PACK_STRING_MAX)
            return prefrec_error_set(
                err, PREFREC_E_FORMAT,
                "pack: string table '%s': string %llu is %u bytes, at most %u with its NUL", base,
                (unsigned long long)i, off[i + 1] - off[i], PREFREC_PACK_STRING_MAX);
    }
    out->n = (uint32_t)n;
    out->off = off;
    out->blob = blob;
    return PREFREC_OK;
}
