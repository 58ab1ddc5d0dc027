/* prefrec/pack.h - the model pack: one versioned binary file of named tensors plus a JSON
 * manifest (portable reader; the writer is native, src/train/pack_write.c).
 *
 *   prefrec_pack *p = NULL;
 *   prefrec_error err = {0};
 *   if (prefrec_pack_open(bytes, n_bytes, &p, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   const char *aff = prefrec_pack_manifest_str(p, "affiliate");      // "A01" or NULL
 *   const prefrec_tensor *t = prefrec_pack_find(p, "product.emb");
 *   if (t && t->dtype == PREFREC_DT_F32) use(t->data, t->shape[0], t->shape[1]);
 *   prefrec_pack_free(p);                                             // then free bytes
 *
 * Layout (docs/model.md, "Pack format", byte by byte; all integers little-endian):
 *   [0,64)      header: magic "PRFPACK\0", version, sizes and offsets, CRC32
 *   manifest    UTF-8 JSON text (manifest_size bytes, no NUL)
 *   table       n_tensors entries of 64 bytes: name[32], dtype, ndim, shape[4], offset
 *   data        from data_offset (64-aligned); each tensor 64-aligned relative to the file start
 * The CRC32 (IEEE, as zlib) covers every byte of the file except the 4-byte CRC field itself.
 *
 * prefrec_pack_open validates everything before handing anything out: magic, version, header
 * fields (a manifest of at most PREFREC_PACK_MANIFEST_MAX bytes), every table entry (name, dtype, ndim, shape, size overflow, offset, alignment, bounds,
 * no overlap), the checksum and the manifest JSON. It never reads outside [bytes, bytes+len).
 * Errors: PREFREC_E_FORMAT (with the byte offset), PREFREC_E_VERSION, PREFREC_E_CHECKSUM,
 * PREFREC_E_PARSE (manifest), PREFREC_E_NOMEM.
 * Ownership: the pack BORROWS bytes (tensor data pointers point into them): keep the buffer
 * alive and unchanged until prefrec_pack_free. bytes must be 8-byte aligned (any malloc result
 * is) so that the 64-aligned tensors are aligned in memory too; otherwise PREFREC_E_INVAL. A pack is immutable once opened: threads may
 * share it. Tensor data are little-endian; this reader targets little-endian hosts (x86, wasm). */
#ifndef PREFREC_PACK_H
#define PREFREC_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_PACK_MAGIC "PRFPACK" /* 8 bytes on disk including the trailing NUL */
#define PREFREC_PACK_VERSION 4u /* the newest version this reader reads (and the writer's) */
/* version 3: version 2 with the blend's neighbour lists compact (prefrec/blend.h: blend.ease.rows,
 * blend.knn.rows, only the rows of products that have neighbours); version 4: version 3 with the
 * segment popularity's counts a byte each, its empty segments not stored (pcx) */
#define PREFREC_PACK_VERSION_MIN 1u /* the oldest: version 1 has no q8r tensors */
#define PREFREC_PACK_HEADER_SIZE 64u
#define PREFREC_PACK_ENTRY_SIZE 64u
#define PREFREC_PACK_ALIGN 64u
#define PREFREC_PACK_NAME_MAX 32u /* name field bytes, NUL-padded: at most 31 characters */
#define PREFREC_PACK_MAX_DIMS 4u
#define PREFREC_PACK_MAX_TENSORS 4096u
#define PREFREC_PACK_MANIFEST_MAX (256u << 10) /* reader limit on the manifest's bytes */
#define PREFREC_PACK_STRING_MAX 4096u /* reader limit on one string's bytes, NUL included */

/* Header field offsets (bytes from the start of the file). */
enum {
    PREFREC_PACK_OFF_MAGIC = 0, /* 8 bytes "PRFPACK\0" */
    PREFREC_PACK_OFF_VERSION = 8, /* u32 format version */
    PREFREC_PACK_OFF_HEADER_SIZE = 12, /* u32, = 64 */
    PREFREC_PACK_OFF_FILE_SIZE = 16, /* u64, total bytes */
    PREFREC_PACK_OFF_MANIFEST = 24, /* u32 offset (= 64), u32 size at 28 */
    PREFREC_PACK_OFF_TABLE = 32, /* u32 offset, u32 n_tensors at 36 */
    PREFREC_PACK_OFF_DATA = 40, /* u64 data offset (64-aligned) */
    PREFREC_PACK_OFF_DATA_SIZE = 48, /* u64 data size */
    PREFREC_PACK_OFF_FLAGS = 56, /* u32, must be 0 in version 1 */
    PREFREC_PACK_OFF_CRC = 60 /* u32 CRC32 of the file without these 4 bytes */
};

typedef enum prefrec_dtype {
    PREFREC_DT_F32 = 0, /* IEEE binary32 */
    PREFREC_DT_F16 = 1, /* IEEE binary16: read as f32 (exactly) in version 2 */
    PREFREC_DT_I8 = 2,
    PREFREC_DT_U8 = 3, /* also string blobs */
    PREFREC_DT_I32 = 4,
    PREFREC_DT_U32 = 5,
    /* version 2: int8 with an f32 scale per row, read as f32 (value = scale[r] * q). Rows are
     * shape[0] (the whole tensor is one row when ndim is 1); stored as rows f32 scales, then
     * rows x cols int8, row-major. */
    PREFREC_DT_Q8R = 6,
    /* version 2: 4-bit codes -7..7 with an f32 scale per row (value = scale[r] * q): rows f32
     * scales, then each row's codes two to a byte (low nibble first, two's complement), a row
     * taking (cols + 1) / 2 bytes */
    PREFREC_DT_Q4R = 7,
    /* version 2: 8-bit codes into a per-tensor codebook of 256 f32 levels in [-1, 1], times an
     * f32 scale per row (value = scale[r] * level[code]): 256 f32 levels, rows f32 scales, then
     * rows x cols u8 codes. The writer fits the levels (prefrec_qc_encode): for a tensor with no
     * negative value, 0 and 255 logarithmically spaced levels up to 1 (popularity tables) */
    PREFREC_DT_Q8C = 8,
    /* version 2: 4-bit codes into a per-tensor codebook of 16 f32 levels in [-1, 1] (fitted by
     * 1-D k-means on the row-scaled values), an f32 scale per row: 16 f32 levels, rows f32
     * scales, then each row's codes two to a byte (low nibble first), (cols + 1) / 2 a row */
    PREFREC_DT_Q4C = 9,
    /* version 2: unsigned 16-bit, for index lists of catalogues up to 65,535 products; asked for
     * as i32 it is handed out as i32 values, 0xFFFF read as -1 (a neighbour list's "none") */
    PREFREC_DT_U16 = 10,
    /* version 2: u8 steps of an ascending u32 list (a string table's offsets: the strings'
     * lengths); asked for as u32 it is handed out as the running sums (element i: steps 0..i) */
    PREFREC_DT_U8D = 11,
    /* version 2: the segment popularity table (blend.pop.seg, rows segments x cols products) as
     * the integer counts it is computed from, read as f32 exactly as training computed it
     * (prefrec_pc_decode). Stored: f64 prior; rows + 1 u32 segment sizes (members active in
     * the window): 0x80000000 for a row served as the overall share (a segment under the
     * min_group rule: its size and counts are not stored), and last the suppressed rows'
     * total; then (rows + 1) x cols buyer counts, the last row the suppressed rows' sum, as u8
     * (pc8) or u16 in two planes (pc16: every low byte, then every high byte). Lossless, and
     * gzip stores the counts (mostly 0 or small) in far fewer bits than f16 shares. */
    PREFREC_DT_PC8 = 12,
    PREFREC_DT_PC16 = 13,
    /* version 2: a neighbour list table whose rows ascend (-1 padding last), asked for as i32:
     * per row the first index, then the steps between entries, 0xFFFF for "none" (-1), as u16
     * in two planes (every low byte, then every high byte). Lossless; rows x cols x 2 bytes */
    PREFREC_DT_D16 = 14,
    /* version 2: a float vector of small integers over a common denominator, read as f32
     * (float)((k + a) / b) in double (prefrec_r16_value): f64 a, f64 b, then n u16 k in two
     * planes (every low byte, then every high byte). Written only where it gives the exact bits:
     * blend.pop.all (buyers / the most buyers), repeat.prior ((rebuyers + 1) / (most + 1)) */
    PREFREC_DT_R16 = 15,
    /* version 4: the segment popularity table as pc8 / pc16's counts, smaller: f64 prior; rows
     * + 1 u32 sizes as pc8's; u32 e, the escapes' number; rows + 1 u8 flags, 1 for a row with a
     * high plane; then the count rows of the segments whose size (bit 31 masked) is not 0, in
     * order (a segment of size 0, or served as the overall share, has only counts of 0: not
     * stored), each a byte a count and, flagged, its high bytes after them; in a row of one
     * plane 255 means "see the escapes"; then e escapes, (u32 k, u32 count) ascending by k, k
     * the index of a 255 byte among the stored rows' counts (row by row, cols a row), count in
     * 255..65535. Its bytes depend on its sizes, flags and e (prefrec_pcx_bytes). */
    PREFREC_DT_PCX = 16,
    PREFREC_DT_COUNT
} prefrec_dtype;

/* Bytes per element of dt (1 for q8r, whose scales come on top: prefrec_dtype_bytes), 0 for
 * an unknown dtype. */
size_t prefrec_dtype_size(uint32_t dt);
const char *prefrec_dtype_name(uint32_t dt); /* "f32", ...; "?" if unknown */
/* Stored bytes of a tensor of dtype dt, shape[0..ndim) and n elements (q8r: rows x 4 + n;
 * q4r: rows x (4 + (cols + 1) / 2); q8c: 1024 + rows x 4 + n; q4c: 64 + rows x (4 + (cols + 1)
 * / 2)); pcx: its fixed head alone (the prior, the sizes, e and the flags), prefrec_pcx_bytes
 * the rest. */
uint64_t prefrec_dtype_bytes(uint32_t dt, uint32_t ndim, const uint32_t *shape, uint64_t n);
/* The stored bytes of a pcx table (rows x cols) whose head (prefrec_dtype_bytes) is at in: the
 * head, the count rows of its non-empty segments and its escapes. */
uint64_t prefrec_pcx_bytes(const unsigned char *in, uint64_t rows, uint64_t cols);
/* 1 when dt is stored quantised and read as f32 (f16, q8r, q4r, q8c, q4c). */
int prefrec_dtype_quantised(uint32_t dt);
/* The first pack version that has dtype dt: 1, 2 (q8r .. r16) or 4 (pcx). */
uint32_t prefrec_dtype_version(uint32_t dt);

typedef struct prefrec_tensor {
    char name[PREFREC_PACK_NAME_MAX]; /* NUL-terminated */
    uint32_t dtype; /* prefrec_dtype */
    uint32_t ndim; /* 1..4 */
    uint32_t shape[PREFREC_PACK_MAX_DIMS]; /* unused dims are 1 */
    uint64_t offset; /* from the start of the file */
    uint64_t n_elems, n_bytes; /* n_bytes: as stored in the file */
    const void *data; /* points into the borrowed bytes */
} prefrec_tensor;

typedef struct prefrec_pack prefrec_pack;

/* Open a pack from bytes[0..len). *out: caller frees with prefrec_pack_free; borrows bytes. */
prefrec_status prefrec_pack_open(const void *bytes, size_t len, prefrec_pack **out,
                                 prefrec_error *err);
void prefrec_pack_free(prefrec_pack *p); /* accepts NULL */

uint32_t prefrec_pack_version(const prefrec_pack *p);
uint32_t prefrec_pack_crc(const prefrec_pack *p); /* the stored (and verified) CRC32 */
size_t prefrec_pack_size(const prefrec_pack *p); /* bytes of the pack (the buffer's length) */
/* The manifest text (not NUL-terminated in the file; this copy is) and its length. */
const char *prefrec_pack_manifest_json(const prefrec_pack *p, size_t *len);
/* Top-level manifest members: string (NULL if absent or not a string), number (def if absent). */
const char *prefrec_pack_manifest_str(const prefrec_pack *p, const char *key);
double prefrec_pack_manifest_num(const prefrec_pack *p, const char *key, double def);

size_t prefrec_pack_tensor_count(const prefrec_pack *p);
const prefrec_tensor *prefrec_pack_tensor_at(const prefrec_pack *p, size_t i); /* table order */
const prefrec_tensor *prefrec_pack_find(const prefrec_pack *p, const char *name); /* or NULL */

/* Fetch tensor `name`, requiring dtype dt, ndim dims and, for each i < ndim, shape[i] ==
 * want[i] unless want[i] is 0 (any). Errors name the tensor and what differs. A quantised
 * tensor of a version-2 pack asked for as f32 is handed out as its f32 values (the decoded copy
 * belongs to the pack; *out's dtype is then f32): decoded once when the pack was opened, or, for
 * f16, q8r and q4r (whose stored bytes were checked at open), by the first call that asks for
 * it (PREFREC_E_NOMEM if that copy cannot be allocated). Threads may call it at once. */
prefrec_status prefrec_pack_get(const prefrec_pack *p, const char *name, uint32_t dt, uint32_t ndim,
                                const uint32_t *want, const prefrec_tensor **out,
                                prefrec_error *err);
/* Rows r0 .. r0 + n_rows - 1 of a stored f32, f16, q8r or q4r tensor t (from prefrec_pack_find
 * of an open pack; rows: shape[0] of a 2-d tensor, a vector is one row) into out (n_rows x
 * cols floats): the values prefrec_pack_get hands out, bit for bit, without the whole copy.
 * The caller checks the dtype and the row range. Reads only the pack's bytes: thread-safe. */
void prefrec_pack_row_f32(const prefrec_tensor *t, uint64_t r0, uint64_t n_rows, float *out);
/* 1 when tensor t of pack p can be read a row at a time from its stored bytes
 * (prefrec_pack_row_f32) instead of decoded whole by prefrec_pack_get: f16, q8r, q4r in a
 * version-2 pack (ask prefrec_pack_get for t->dtype to check its shape without decoding). */
int prefrec_pack_by_rows(const prefrec_pack *p, const prefrec_tensor *t);
/* 1 when t is a 2-d pc8 / pc16 / pcx table of a version-2 pack, checked at open and readable a row or
 * a value at a time from its counts (prefrec_pc_shares, prefrec_pc_row, prefrec_pc_read) */
int prefrec_pack_pc_table(const prefrec_pack *p, const prefrec_tensor *t);
/* 1 when every float t decodes to is finite, found without decoding: an f16's exponent, a q8r
 * / q4r row's scale times its largest code (conservative: 0 may also mean a scale too large for
 * some code the row does not hold); 0 for other dtypes (the row-read ones are these three). */
int prefrec_pack_finite(const prefrec_tensor *t);

/* A string table stored as two tensors: "<base>.off" (u32 [n+1], off[0] = 0, ascending) and
 * "<base>.str" (u8 blob; string i is bytes [off[i], off[i+1]) and ends with its NUL, no NUL
 * inside, at most PREFREC_PACK_STRING_MAX bytes). Validated fully by prefrec_pack_strings. */
typedef struct prefrec_strings {
    uint32_t n;
    const uint32_t *off; /* n+1 entries */
    const char *blob;
} prefrec_strings;
prefrec_status prefrec_pack_strings(const prefrec_pack *p, const char *base, prefrec_strings *out,
                                    prefrec_error *err);
static inline const char *prefrec_strings_at(const prefrec_strings *s, uint32_t i) {
    return s->blob + s->off[i];
}

/* ---- quantised storage (src/core/quant.c): the writer's encoders and the reader's decoders,
 * bit-exact in every build (integer and single IEEE operations only) ------------------------ */
/* Always inlined (GCC, clang): the decoders call these once a value, and neither -Os nor the
 * browser's first tier (Liftoff, which runs a page's load) would inline the call. */
#if defined(__GNUC__)
#define PREFREC_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PREFREC_ALWAYS_INLINE static inline
#endif

/* exact, NaN and infinities kept */
PREFREC_ALWAYS_INLINE float prefrec_f16_to_f32(uint16_t h) {
    uint32_t em = h & 0x7FFFu;
    union {
        uint32_t u;
        float f;
    } v;
    if (em - 0x0400u < 0x7800u)
        v.u = (em << 13) + 0x38000000u; /* normal: rebias 15 -> 127 */
    else if (em >= 0x7C00u)
        v.u = 0x7F800000u | (em & 0x3FFu) << 13; /* infinity, NaN (payload) */
    else
        v.f = (float)em * 0x1p-24f; /* subnormal or zero: em x 2^-24, exact */
    v.u |= (uint32_t)(h & 0x8000u) << 16;
    return v.f;
}
uint16_t prefrec_f32_to_f16(float f); /* round to nearest even; overflow to infinity */
/* q8r, one row of n floats: scale = max |x| / 127 rounded up to 11 significant bits (an f16's
 * precision: gzip stores such f32s in fewer bytes; 0 for an all-zero row), q = x / scale
 * rounded to nearest (ties to even), in -127..127. Non-finite x are refused (returns 1). */
int prefrec_q8_encode_row(const float *x, size_t n, float *scale, int8_t *q);
/* the same with codes in -levels..levels (q8r: 127, q4r: 7), scale = max |x| / levels (so
 * rounded up) */
int prefrec_q_encode_row(const float *x, size_t n, int levels, float *scale, int8_t *q);
static inline float prefrec_q8_value(float scale, int8_t q) { return scale * (float)q; }
/* q8c / q4c (dt): store rows x cols floats x as out (prefrec_dtype_bytes(dt, ...) bytes): row
 * scales max |x| (rounded up as q8r's), the codebook fitted to the row-scaled values (deterministic), each value's
 * nearest level. Returns 1 for non-finite input, 2 when out of memory. */
int prefrec_qc_encode(uint32_t dt, const float *x, uint64_t rows, uint64_t cols,
                      unsigned char *out);
/* Decode a stored q8c / q4c tensor into out (rows x cols floats): one IEEE multiply a value.
 * Returns 0, or 1 when a level is not a finite number in [-1, 1] (*bad: its byte offset within
 * the tensor), 2 when a row's scale is not a finite number >= 0 (*bad: its byte offset). */
int prefrec_qc_decode(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                      float *out, uint64_t *bad);
/* Replace x (rows x cols floats) by what a reader decodes after storing it as dt (f32: no
 * change). Returns 1 for a dtype that is not a float storage or for non-finite input. */
int prefrec_quant_roundtrip(uint32_t dt, uint32_t rows, uint32_t cols, float *x);
/* Plan words q5r and q6r: q8r tensors whose codes stay in -15..15 / -31..31 (scale max |x| /
 * 15, / 31). No dtype of their own: any reader of q8r reads them; gzip's Huffman codes store the
 * few byte values used in about 4.5 / 5.5 bits. prefrec_quant_plan_dtype returns these codes
 * for them, which prefrec_quant_roundtrip and the pack writer take as stores. */
#define PREFREC_STORE_Q5R 271 /* 256 + 15 levels a side */
#define PREFREC_STORE_Q6R 287 /* 256 + 31 */
/* Plan word pcn: blend.pop.seg as its counts (pcx from version 4; before, pc8 or pc16, whichever
 * holds them) when the full
 * pack carries them ("blend.pop.cnt", written by training) and they decode to its exact bits;
 * else f16. prefrec_quant_roundtrip takes it as no change. */
#define PREFREC_STORE_PCN 512
/* Decode a stored pc8 / pc16 / pcx tensor (rows x cols) into out: for each product p, g = the sum of
 * its counts and gl = (float)(g / n), n the sum of the segment sizes; a row's value is gl when
 * the row is served as the overall share, else (float)((count + prior gl) / (size + prior)), in
 * double: rank_pop.c's formula, so the floats are training's bits in every build. Returns 0, or
 * 1 when the prior is not a finite number > 0 (*bad: its byte offset), 2 when a count is above
 * its segment's size (*bad: the count's low byte), 3 when a size has bit 31 set other than as
 * exactly 0x80000000 in a segment row (*bad: its byte offset). */
static inline float prefrec_r16_value(uint32_t k, double a, double b) {
    return (float)(((double)k + a) / b);
}
/* r16: when every x[0..n) is (float)(k / b) for integers k in 0..65535 and b = 1 / (the
 * smallest x > 0), rounded (a product bought once, a product never rebought: k = 1): 1 with a
 * = 0, b and the k (k may be NULL); else 0 */
int prefrec_r16_fit(const float *x, size_t n, double *a, double *b, uint16_t *k);
/* pc8 / pc16 / pcx (rows x cols) into out: 0; else 1 (the prior), 2 (a count above its
 * segment's size), 3 (a size's bit 31), 5 (over 65,535 rows), 6 (pcx: an escape out of order,
 * outside the counts, not at a 255 byte of a row of one plane or not in 255..65535, or a 255
 * byte of such a row without one), 7 (pcx: a row flag not 0 or 1, or 1 on a row not stored) with
 * *bad the offending byte's offset in `in`, 4 out of memory. pcx: `in` holds prefrec_pcx_bytes. */
int prefrec_pc_decode(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                      float *out, uint64_t *bad);
/* (out NULL: the checks alone, nothing written.) A table that passed them, read without a whole
 * decode, with the same floats: gl[0..cols) each product's overall share (prefrec_pc_shares),
 * then row r into out[0..cols) (prefrec_pc_row) or a value at a time (prefrec_pc_read, below). */
void prefrec_pc_shares(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                       float *gl);
void prefrec_pc_row(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                    const float *gl, uint64_t r, float *out);
/* Row r of a checked pc table, set up once (prefrec_pc_reader_at) for reading its values one at
 * a time at the cost of a stored float's read and a division (prefrec_pc_read: the same floats
 * as prefrec_pc_row). */
typedef struct prefrec_pc_reader {
    const unsigned char *lo, *hi; /* the row's counts: low bytes, high bytes (pc8, pcx: lo) */
    uint32_t mask; /* 0xFF00 (pc16) or 0 (pc8, pcx) */
    uint32_t mark; /* pcx: 255, a count read from the escapes; else 0x10000 (no count is) */
    size_t cmask; /* SIZE_MAX, or 0 for a pcx row not stored (its counts 0: lo is one 0 byte) */
    const unsigned char *esc; /* pcx: the escapes, n_esc of them; base: the row's first k */
    uint32_t n_esc;
    uint64_t base;
    int whole; /* a row served as the overall share: the value is gl[c] */
    double prior, den;
} prefrec_pc_reader;
void prefrec_pc_reader_at(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                          uint64_t r, prefrec_pc_reader *rd);
/* pcx: the count of column c of rd's row whose byte is 255, from the escapes (a search) */
uint32_t prefrec_pc_escape(const prefrec_pc_reader *rd, uint64_t c);
static inline float prefrec_pc_read(const prefrec_pc_reader *rd, const float *gl, uint64_t c) {
    if (rd->whole) return gl[c];
    size_t i = (size_t)c & rd->cmask;
    uint32_t k = (uint32_t)rd->lo[i] | ((uint32_t)rd->hi[i] << 8 & rd->mask);
    if (k == rd->mark) k = prefrec_pc_escape(rd, c);
    return (float)(((double)k + rd->prior * (double)gl[c]) / rd->den);
}
/* A storage plan: "name=dtype,name=dtype" (dtype f32, f16, q8r, q4r, q8c, q4c, u16, d16, u8d, r16, or q5r / q6r / pcn; a name may end in '*' to
 * match a prefix). The dtype a plan gives tensor name (f32 when no entry matches); -1 when the
 * plan is malformed (prefrec_quant_plan_check says where). */
int prefrec_quant_plan_dtype(const char *plan, const char *name);
prefrec_status prefrec_quant_plan_check(const char *plan, prefrec_error *err);

/* CRC32 (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF; the zlib crc32). Pass 0 to
 * start, the previous result to continue over another piece. */
uint32_t prefrec_crc32(uint32_t crc, const void *data, size_t len);
/* The CRC32 of crc's data followed by n zero bytes (prefrec_crc32 over n zeros, in O(log n)). */
uint32_t prefrec_crc32_zeros(uint32_t crc, uint64_t n);
/* The CRC32 of A followed by B from crc1 = CRC32(A), crc2 = CRC32(B) and len2 = |B| (zlib's
 * crc32_combine): so pieces of a file checksummed apart give the file's CRC. */
uint32_t prefrec_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

/* FNV-1a 32-bit hash of a string (the customer shard key: shard = hash % n_shards). */
uint32_t prefrec_fnv1a32(const char *s, size_t len);
/* FNV-1a, 64 bits (the keys of train's hashed split and eval's bootstrap weights). */
uint64_t prefrec_fnv1a64(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
