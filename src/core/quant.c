/* quant.c - quantised tensor storage (see prefrec/pack.h, docs/model.md "Pack format"):
 * binary16, int8 / int4 rows with an f32 scale, 8- / 4-bit codes into a per-tensor codebook,
 * and the storage plans that pick one per tensor.
 *
 * Why bit manipulation and single float operations: a pack is decoded natively, in Emscripten's
 * and in WASI's wasm, and the engine's output must be the same bits in all three. The f16
 * conversions are integer code; a q8r value is one IEEE multiply (scale x q), exact to round
 * the same everywhere; nothing here depends on the compiler's choice of instructions. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/pack.h"

uint16_t prefrec_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu)); /* NaN */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* >= 65520: infinity */
    if (ax < 0x33000000u) return (uint16_t)sign; /* < 2^-25: rounds to zero */
    if (ax < 0x38800000u) { /* below 2^-14: a subnormal half, units of 2^-24 */
        uint32_t m = (ax & 0x7FFFFFu) | 0x800000u, shift = 126u - (ax >> 23); /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r); /* r may carry into the smallest normal: still right */
    }
    uint32_t r = (ax >> 13) - (112u << 10), rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) r++; /* a carry rounds up the exponent */
    return (uint16_t)(sign | r);
}

/* max |x| over a row, or -1 when a value is not finite */
static float row_max(const float *x, size_t n) {
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return -1.0f;
        mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
    }
    return mx;
}

/* A row scale rounded up to 11 significant bits (an f16's precision in an f32's range): its 13
 * low mantissa bits are zero, which gzip stores in about half the bytes (and the grid is at most
 * 0.1% coarser). Up, so that max |x| / scale stays within the levels. */
static float scale_up(float s) {
    uint32_t b;
    memcpy(&b, &s, sizeof b);
    if (!(b & 0x1FFFu)) return s;
    b = (b | 0x1FFFu) + 1u; /* a carry into the exponent is still the right value */
    float r;
    memcpy(&r, &b, sizeof r);
    return r <= FLT_MAX ? r : s;
}

static int8_t q_code(float x, float s, float lv) {
    float v = s > 0.0f ? rintf(x / s) : 0.0f; /* default rounding: to nearest, ties to even */
    return (int8_t)(v > lv ? lv : v < -lv ? -lv : v);
}

int prefrec_q_encode_row(const float *x, size_t n, int levels, float *scale, int8_t *q) {
    float mx = row_max(x, n), lv = (float)levels;
    if (mx < 0.0f) return 1;
    *scale = scale_up(mx / lv);
    for (size_t i = 0; i < n; i++) q[i] = q_code(x[i], *scale, lv);
    return 0;
}

int prefrec_q8_encode_row(const float *x, size_t n, float *scale, int8_t *q) {
    return prefrec_q_encode_row(x, n, 127, scale, q);
}

/* ---- q8c / q4c: codes into a per-tensor codebook ------------------------------------------ */
static int qc_levels(uint32_t dt) {
    return dt == PREFREC_DT_Q8C ? 256 : dt == PREFREC_DT_Q4C ? 16 : 0;
}

static uint32_t qc_rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void qc_put32(unsigned char *p, float f) {
    uint32_t v;
    memcpy(&v, &f, sizeof v);
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* the nearest of k ascending levels to u (the lower on a tie) */
static unsigned qc_nearest(const float *book, int k, float u) {
    int lo = 0, hi = k - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (book[mid] <= u)
            lo = mid;
        else
            hi = mid;
    }
    return fabsf(u - book[lo]) <= fabsf(book[hi] - u) ? (unsigned)lo : (unsigned)hi;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The codebook for row-scaled values u[0..n) (each in [-1, 1]). No negative value and 256
 * levels: 0, then 255 levels spaced by equal ratios from the smallest positive u to 1 (relative
 * error under ratio / 2 everywhere: a popularity's long tail keeps its order, where linear
 * codes would round it to 0). Otherwise Lloyd's 1-D k-means from the k quantiles, 30 rounds
 * over the sorted values (each level the mean of the values nearest it). */
static int qc_fit(float *u, size_t n, int k, float *book) {
    float lo = 1.0f, umin = 0.0f;
    for (size_t i = 0; i < n; i++) {
        umin = u[i] < umin ? u[i] : umin;
        if (u[i] > 0.0f && u[i] < lo) lo = u[i];
    }
    if (!n) {
        for (int j = 0; j < k; j++) book[j] = 0.0f;
        return 0;
    }
    if (k == 256 && umin >= 0.0f) {
        book[0] = 0.0f;
        for (int j = 1; j < 255; j++) book[j] = (float)exp(log((double)lo) * (255 - j) / 254.0);
        book[255] = 1.0f;
        return 0;
    }
    qsort(u, n, sizeof *u, cmp_float); /* u is the caller's scratch copy */
    for (int j = 0; j < k; j++) book[j] = u[((size_t)2 * j + 1) * n / (2 * (size_t)k)];
    for (int round = 0; round < 30; round++) {
        size_t i = 0;
        for (int j = 0; j < k; j++) {
            /* values up to the midpoint with the next level belong to level j */
            float edge = j + 1 < k ? book[j] + (book[j + 1] - book[j]) / 2.0f : FLT_MAX;
            double sum = 0.0;
            size_t c = 0;
            for (; i < n && (u[i] <= edge || j + 1 == k); i++, c++) sum += u[i];
            if (c) {
                double m = sum / (double)c;
                book[j] = (float)(m > 1.0 ? 1.0 : m < -1.0 ? -1.0 : m);
            }
        }
        for (int j = 1; j < k; j++) /* keep them ascending (an empty level kept its place) */
            for (int a = j; a > 0 && book[a - 1] > book[a]; a--) {
                float t = book[a];
                book[a] = book[a - 1];
                book[a - 1] = t;
            }
    }
    return 0;
}

int prefrec_qc_encode(uint32_t dt, const float *x, uint64_t rows, uint64_t cols,
                      unsigned char *out) {
    int k = qc_levels(dt);
    uint64_t n = rows * cols, rb = k == 256 ? cols : (cols + 1) / 2;
    if (!k || n > SIZE_MAX / sizeof(float)) return 1;
    float *u = malloc((size_t)(n ? n : 1) * sizeof *u), *scale = malloc((rows ? rows : 1) * 4);
    float book[256];
    if (!u || !scale) {
        free(u);
        free(scale);
        return 2;
    }
    int bad = 0;
    for (uint64_t r = 0; r < rows && !bad; r++) {
        const float *row = x + r * cols;
        float mx = row_max(row, (size_t)cols);
        bad = mx < 0.0f;
        mx = bad ? mx : scale_up(mx);
        scale[r] = mx;
        for (uint64_t c = 0; c < cols && !bad; c++)
            u[r * cols + c] = mx > 0.0f ? row[c] / mx : 0.0f;
    }
    if (!bad) qc_fit(u, (size_t)n, k, book);
    unsigned char *sc = out + 4 * (uint64_t)k, *q = sc + 4 * rows;
    for (int j = 0; j < k && !bad; j++) qc_put32(out + 4 * j, book[j]);
    if (!bad) memset(q, 0, (size_t)(rows * rb));
    for (uint64_t r = 0; r < rows && !bad; r++) {
        qc_put32(sc + 4 * r, scale[r]);
        for (uint64_t c = 0; c < cols; c++) {
            float v = scale[r] > 0.0f ? x[r * cols + c] / scale[r] : 0.0f;
            unsigned code = qc_nearest(book, k, v);
            if (k == 256)
                q[r * rb + c] = (unsigned char)code;
            else
                q[r * rb + c / 2] |= (unsigned char)(code << (4 * (c & 1))); /* low first */
        }
    }
    free(u);
    free(scale);
    return bad;
}

int prefrec_qc_decode(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                      float *out, uint64_t *bad) {
    int k = qc_levels(dt);
    float book[256];
    uint64_t rb = k == 256 ? cols : (cols + 1) / 2;
    for (int j = 0; j < k; j++) {
        uint32_t bits = qc_rd32(in + 4 * j);
        memcpy(&book[j], &bits, sizeof bits);
        if (!(book[j] >= -1.0f && book[j] <= 1.0f)) {
            *bad = 4 * (uint64_t)j;
            return 1;
        }
    }
    const unsigned char *sc = in + 4 * (uint64_t)k, *q = sc + 4 * rows;
    for (uint64_t r = 0; r < rows; r++) {
        uint32_t bits = qc_rd32(sc + 4 * r);
        float s;
        memcpy(&s, &bits, sizeof s);
        if (!(s >= 0.0f && s <= FLT_MAX)) {
            *bad = 4 * (uint64_t)k + 4 * r;
            return 2;
        }
        const unsigned char *row = q + r * rb;
        float *o = out + r * cols;
        if (k == 256)
            for (uint64_t c = 0; c < cols; c++) o[c] = s * book[row[c]];
        else
            for (uint64_t c = 0; c < cols; c++) o[c] = s * book[(row[c / 2] >> (4 * (c & 1))) & 15];
    }
    return 0;
}

/* ---- pc8 / pc16 / pcx: the segment popularity table as its counts --------------------------- */
/* Sizes and indices in size_t: a table is checked to lie in the pack's bytes before any of this
 * reads it (prefrec_pcx_bytes alone works in 64 bits, on the head), and 32-bit arithmetic is
 * less code in wasm. */
/* pcx: the byte planes a segment row has: 0 when its counts are not stored (its size, bit 31
 * masked, is 0: a row of size 0, or served as the overall share, has only counts of 0), 2 when
 * its flag asks for a high plane, else 1 */
static size_t pcx_planes(uint32_t size, unsigned char wide) {
    return (size & 0x7FFFFFFFu) ? 1u + (wide != 0) : 0u;
}

/* The parts of a pc table: the sizes, the counts (n a plane: pc16 has two; pcx: the stored
 * counts, the escapes' k range over them; planes: its byte planes) and pcx's row flags and
 * escapes */
typedef struct pc_table {
    uint32_t dt;
    const unsigned char *sz, *wide, *q, *esc;
    size_t rows, cols, n;
    uint64_t planes;
    uint32_t n_esc;
} pc_table;
static pc_table pc_parts(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols) {
    size_t R = (size_t)rows, C = (size_t)cols;
    pc_table t = {dt, in + 8, NULL, in + 8 + 4 * (R + 1), NULL, R, C, (R + 1) * C, 0, 0};
    if (dt == PREFREC_DT_PCX) {
        size_t stored = 0;
        t.n_esc = qc_rd32(t.q);
        t.wide = t.q + 4;
        t.q = t.wide + R + 1;
        for (size_t r = 0; r <= R; r++) {
            size_t k = pcx_planes(qc_rd32(t.sz + 4 * r), t.wide[r]);
            stored += k != 0;
            t.planes += k;
        }
        t.n = stored * C;
        t.esc = t.q + t.planes * C; /* (used once the bytes are known to be there) */
    }
    return t;
}

uint64_t prefrec_pcx_bytes(const unsigned char *in, uint64_t rows, uint64_t cols) {
    pc_table t = pc_parts(PREFREC_DT_PCX, in, rows, cols);
    return (uint64_t)(t.q - in) + t.planes * cols + 8 * (uint64_t)t.n_esc;
}

/* Row r's counts (a byte, or a value from its low and high planes), read without a test of the
 * dtype per count: a row of one plane reads its byte twice and masks the second read away.
 * pcx: base, the index of its first count among the stored counts (the escapes' k); stored 0
 * for a row not stored, whose counts are all 0 (lo, hi: one 0 byte); a row of one plane holds
 * 255 for a count from 255 on, found in the escapes (mark 255). */
typedef struct pc_span {
    const unsigned char *lo, *hi;
    uint32_t mask, mark;
    int stored;
    size_t base;
} pc_span;
static const unsigned char pc_zero[1];
/* A walk over the rows in order (pc_next: row it->r's span, then on to the next row), each row
 * found in O(1) from the last: a table of 65,536 rows costs no more than its counts. */
typedef struct pc_walk {
    size_t r, ord, planes; /* the row, and (pcx) the stored rows before it and their planes */
} pc_walk;
static pc_span pc_next(const pc_table *t, pc_walk *it) {
    size_t r = it->r++, k = 1;
    pc_span a = {t->q + r * t->cols, t->q + r * t->cols, 0u, 0x10000u, 1, r * t->cols};
    if (t->dt == PREFREC_DT_PCX) {
        k = pcx_planes(qc_rd32(t->sz + 4 * r), t->wide[r]);
        a.base = it->ord * t->cols;
        a.lo = a.hi = k ? t->q + it->planes * t->cols : pc_zero;
        a.stored = k != 0;
        a.mark = k == 1 ? 255u : 0x10000u;
        it->ord += k != 0;
        it->planes += k;
    }
    if (t->dt == PREFREC_DT_PC16 || k == 2) {
        a.hi = t->dt == PREFREC_DT_PC16 ? t->q + t->n + r * t->cols : a.lo + t->cols;
        a.mask = 0xFF00u;
    }
    return a;
}
static pc_span pc_at(const pc_table *t, size_t r) {
    pc_walk it = {0, 0, 0};
    while (it.r < r) pc_next(t, &it);
    return pc_next(t, &it);
}
/* Always inlined, and the loops over a row count in size_t: in wasm's first tier (Chromium's
 * Liftoff, which runs a page's first load) a call per count, or 64-bit counters on 32-bit
 * addresses, cost more than the rest of the load's reading of the table. Only for stored
 * rows. */
static inline __attribute__((always_inline)) uint32_t pc_k(pc_span a, size_t c) {
    return (uint32_t)a.lo[c] | ((uint32_t)a.hi[c] << 8 & a.mask);
}
/* pcx escape e: its k, its count */
static size_t pc_esc_k(const unsigned char *esc, uint32_t e) {
    return qc_rd32(esc + 8 * (size_t)e);
}
static uint32_t pc_esc_n(const unsigned char *esc, uint32_t e) {
    return qc_rd32(esc + 8 * (size_t)e + 4);
}
/* pcx: the first escape whose k is >= k (n_esc when none) */
static uint32_t pc_esc_from(const unsigned char *esc, uint32_t n_esc, size_t k) {
    uint32_t lo = 0, hi = n_esc;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pc_esc_k(esc, mid) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The checks of a pcx table's row flags, escapes and the 255 bytes of its one-plane rows (n255
 * of them) against the sizes: 0, or prefrec_pc_decode's code with *bad */
static int pcx_check(const pc_table *t, const unsigned char *in, size_t n255, uint64_t *bad) {
    for (size_t r = 0; r <= t->rows; r++)
        if (t->wide[r] > 1 || (t->wide[r] && !pcx_planes(qc_rd32(t->sz + 4 * r), 0))) {
            *bad = (uint64_t)(t->wide + r - in);
            return 7;
        }
    pc_walk it = {0, 0, 0};
    pc_span a = pc_next(t, &it); /* the row of the escape's k: the first whose counts reach it */
    for (uint32_t e = 0; e < t->n_esc; e++) {
        size_t k = pc_esc_k(t->esc, e);
        uint32_t cnt = pc_esc_n(t->esc, e);
        *bad = (uint64_t)(t->esc + 8 * (size_t)e - in);
        if ((e && k <= pc_esc_k(t->esc, e - 1)) || k >= t->n) return 6;
        while (!a.stored || k >= a.base + t->cols) a = pc_next(t, &it); /* (k < n: it is there) */
        if (a.mark != 255 || a.lo[k - a.base] != 255 || cnt < 255 || cnt > 0xFFFF) return 6;
        if (cnt > (qc_rd32(t->sz + 4 * (it.r - 1)) & 0x7FFFFFFFu)) return 2;
    }
    *bad = (uint64_t)(t->wide - 4 - in); /* e: not the number of 255 counts */
    return n255 == t->n_esc ? 0 : 6;
}

static void pc_reader(const pc_table *t, const unsigned char *in, size_t r, pc_span a,
                      prefrec_pc_reader *rd);
static void pc_row(const prefrec_pc_reader *rd, size_t cols, const float *gl, float *out);

/* Checked, then decoded as prefrec_pc_shares and prefrec_pc_row read it (the floats training
 * computed): the products' overall shares first, then each segment's row. */
int prefrec_pc_decode(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                      float *out, uint64_t *bad) {
    uint64_t bits = (uint64_t)qc_rd32(in) | (uint64_t)qc_rd32(in + 4) << 32;
    double prior;
    memcpy(&prior, &bits, sizeof prior);
    if (!(prior > 0 && prior <= DBL_MAX)) {
        *bad = 0;
        return 1;
    }
    /* rows + 1 sizes and count rows: the last is the suppressed rows' sum (theirs are 0) */
    const unsigned char *sz = in + 8;
    for (uint64_t r = 0; r <= rows; r++) {
        uint32_t size = qc_rd32(sz + 4 * r);
        if (r >= 65536) { /* a product's buyers, summed over the rows, must fit 32 bits */
            *bad = 8 + 4 * r;
            return 5;
        }
        if (size >> 31 && (r == rows || size != 0x80000000u)) {
            *bad = 8 + 4 * r;
            return 3;
        }
    }
    pc_table t = pc_parts(dt, in, rows, cols);
    int over = 0; /* each count against its size: a row at a time, in memory order (a pcx 255
                     is at most its escape's count, checked against the size by pcx_check) */
    size_t n255 = 0;
    pc_walk it = {0, 0, 0};
    for (size_t r = 0; r <= t.rows; r++) {
        uint32_t size = qc_rd32(sz + 4 * r) & 0x7FFFFFFFu;
        pc_span a = pc_next(&t, &it);
        uint32_t mx = 0, m255 = 0;
        for (size_t c = 0; a.stored && c < t.cols; c++) {
            uint32_t k = pc_k(a, c);
            mx = k > mx ? k : mx;
            m255 += k == a.mark;
        }
        over |= mx > size;
        n255 += m255;
    }
    for (size_t c = 0; over && c < t.cols; c++) { /* the first, product by product, to name it */
        pc_walk w = {0, 0, 0};
        for (size_t r = 0; r <= t.rows; r++) {
            pc_span a = pc_next(&t, &w);
            if (pc_k(a, a.stored ? c : 0) > (qc_rd32(sz + 4 * r) & 0x7FFFFFFFu)) {
                *bad = (uint64_t)(a.lo + c - in);
                return 2;
            }
        }
    }
    int e = dt == PREFREC_DT_PCX ? pcx_check(&t, in, n255, bad) : 0;
    if (e || !out) return e;
    float *gl = malloc((t.cols ? t.cols : 1) * sizeof *gl);
    if (!gl) {
        *bad = 0;
        return 4; /* out of memory */
    }
    prefrec_pc_shares(dt, in, rows, cols, gl);
    it = (pc_walk){0, 0, 0};
    for (size_t r = 0; r < t.rows; r++) {
        prefrec_pc_reader rd;
        pc_reader(&t, in, r, pc_next(&t, &it), &rd);
        pc_row(&rd, t.cols, gl, out + r * t.cols);
    }
    free(gl);
    return 0;
}

/* A checked pc8 / pc16 / pcx table read without decoding it whole: gl[c] = product c's overall
 * share, the float every row's value starts from; then row r's values one at a time or a row
 * at a time, the same floats prefrec_pc_decode writes. */
void prefrec_pc_shares(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                       float *gl) {
    pc_table t = pc_parts(dt, in, rows, cols);
    double n_all = 0;
    for (size_t r = 0; r <= t.rows; r++) n_all += (double)(qc_rd32(t.sz + 4 * r) & 0x7FFFFFFFu);
    /* the buyers g per product, integers summed a row at a time in gl's own words (at most
     * 65,536 rows of counts below 2^16, checked at open: below 2^32, so exact, the double sums
     * of the same counts), then g / n_all; a pcx escape adds its count less the 255 summed */
    memset(gl, 0, t.cols * sizeof *gl);
    pc_walk it = {0, 0, 0};
    for (size_t r = 0; r <= t.rows; r++) {
        pc_span a = pc_next(&t, &it);
        for (size_t c = 0; a.stored && c < t.cols; c++) {
            uint32_t g;
            memcpy(&g, &gl[c], sizeof g);
            g += pc_k(a, c);
            memcpy(&gl[c], &g, sizeof g);
        }
    }
    for (uint32_t e = 0; e < t.n_esc; e++) {
        size_t c = pc_esc_k(t.esc, e) % t.cols;
        uint32_t g;
        memcpy(&g, &gl[c], sizeof g);
        g += pc_esc_n(t.esc, e) - 255;
        memcpy(&gl[c], &g, sizeof g);
    }
    for (size_t c = 0; c < t.cols; c++) {
        uint32_t g;
        memcpy(&g, &gl[c], sizeof g);
        gl[c] = n_all > 0 ? (float)((double)g / n_all) : 0.0f;
    }
}

/* rd for row r of t, whose counts are a */
static void pc_reader(const pc_table *t, const unsigned char *in, size_t r, pc_span a,
                      prefrec_pc_reader *rd) {
    uint64_t bits = (uint64_t)qc_rd32(in) | (uint64_t)qc_rd32(in + 4) << 32;
    memcpy(&rd->prior, &bits, sizeof rd->prior);
    uint32_t size = qc_rd32(t->sz + 4 * r);
    rd->lo = a.lo;
    rd->hi = a.hi;
    rd->mask = a.mask;
    rd->mark = a.mark;
    rd->cmask = a.stored ? SIZE_MAX : 0;
    rd->esc = t->esc;
    rd->n_esc = t->n_esc;
    rd->base = a.base;
    rd->whole = (int)(size >> 31);
    rd->den = (double)size + rd->prior;
}

void prefrec_pc_reader_at(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                          uint64_t r, prefrec_pc_reader *rd) {
    pc_table t = pc_parts(dt, in, rows, cols);
    pc_reader(&t, in, (size_t)r, pc_at(&t, (size_t)r), rd);
}

uint32_t prefrec_pc_escape(const prefrec_pc_reader *rd, uint64_t c) {
    uint32_t e = pc_esc_from(rd->esc, rd->n_esc, (size_t)(rd->base + c));
    return e < rd->n_esc ? pc_esc_n(rd->esc, e) : 255u; /* (always found) */
}

/* rd's row into out (cols values): prefrec_pc_read's arithmetic, without a call per value */
static void pc_row(const prefrec_pc_reader *rd, size_t cols, const float *gl, float *out) {
    if (rd->whole) {
        memcpy(out, gl, cols * sizeof *out);
        return;
    }
    pc_span a = {rd->lo, rd->hi, rd->mask, rd->mark, 1, 0}; /* (a row not stored: cmask 0) */
    for (size_t c = 0; c < cols; c++)
        out[c] = (float)(((double)pc_k(a, c & rd->cmask) + rd->prior * (double)gl[c]) / rd->den);
    /* a pcx row's escapes, the counts in place of their 255s */
    size_t base = (size_t)rd->base;
    for (uint32_t e = rd->mark == 255 ? pc_esc_from(rd->esc, rd->n_esc, base) : rd->n_esc;
         e < rd->n_esc && pc_esc_k(rd->esc, e) < base + cols; e++) {
        size_t c = pc_esc_k(rd->esc, e) - base;
        out[c] = (float)(((double)pc_esc_n(rd->esc, e) + rd->prior * (double)gl[c]) / rd->den);
    }
}

void prefrec_pc_row(uint32_t dt, const unsigned char *in, uint64_t rows, uint64_t cols,
                    const float *gl, uint64_t r, float *out) {
    prefrec_pc_reader rd;
    prefrec_pc_reader_at(dt, in, rows, cols, r, &rd);
    pc_row(&rd, (size_t)cols, gl, out);
}

/* ---- r16: small integers over a common denominator --------------------------------------- */
int prefrec_r16_fit(const float *x, size_t n, double *a, double *b, uint16_t *k) {
    float lo = 0.0f; /* the smallest value > 0: 1 / b when some k is 1 */
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] >= 0.0f && x[i] <= FLT_MAX)) return 0;
        if (x[i] > 0.0f && (lo == 0.0f || x[i] < lo)) lo = x[i];
    }
    double den = lo > 0.0f ? floor(1.0 / (double)lo + 0.5) : 0;
    if (!(den >= 1 && den <= 4294967296.0)) return 0;
    for (size_t i = 0; i < n; i++) {
        double q = floor((double)x[i] * den + 0.5);
        if (!(q < 65536) || prefrec_r16_value((uint32_t)q, 0, den) != x[i]) return 0;
        if (k) k[i] = (uint16_t)q;
    }
    *a = 0;
    *b = den;
    return 1;
}

int prefrec_quant_roundtrip(uint32_t dt, uint32_t rows, uint32_t cols, float *x) {
    size_t n = (size_t)rows * cols;
    if (dt == PREFREC_DT_F32 || dt == PREFREC_STORE_PCN) return 0; /* pcn: lossless or f16 */
    if (dt == PREFREC_DT_R16) { /* exact where it fits, else what the writer stores: f16 */
        double a, b;
        if (prefrec_r16_fit(x, n, &a, &b, NULL)) return 0;
        dt = PREFREC_DT_F16;
    }
    if (qc_levels(dt)) {
        int k = qc_levels(dt); /* the stored layout (prefrec_dtype_bytes, not called: pack.c
                                  calls this file) */
        uint64_t rb = k == 256 ? cols : ((uint64_t)cols + 1) / 2, at = 0;
        uint64_t bytes = 4 * (uint64_t)k + (uint64_t)rows * (4 + rb);
        unsigned char *b = malloc((size_t)bytes);
        int bad = !b || prefrec_qc_encode(dt, x, rows, cols, b) ||
            prefrec_qc_decode(dt, b, rows, cols, x, &at);
        free(b);
        return bad;
    }
    if (dt == PREFREC_DT_F16) {
        for (size_t i = 0; i < n; i++) x[i] = prefrec_f16_to_f32(prefrec_f32_to_f16(x[i]));
        return 0;
    }
    if (dt != PREFREC_DT_Q8R && dt != PREFREC_DT_Q4R && dt != PREFREC_STORE_Q5R &&
        dt != PREFREC_STORE_Q6R)
        return 1;
    float lv = dt == PREFREC_DT_Q8R ? 127.0f : dt == PREFREC_DT_Q4R ? 7.0f : (float)(dt - 256);
    for (uint32_t r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols, mx = row_max(row, cols);
        if (mx < 0.0f) return 1;
        float s = scale_up(mx / lv);
        for (uint32_t i = 0; i < cols; i++) row[i] = prefrec_q8_value(s, q_code(row[i], s, lv));
    }
    return 0;
}

/* ---- storage plans ------------------------------------------------------------------------ */
static int dtype_of_word(const char *s, size_t n) {
    if (n == 3 && !memcmp(s, "f32", 3)) return PREFREC_DT_F32;
    if (n == 3 && !memcmp(s, "f16", 3)) return PREFREC_DT_F16;
    if (n == 3 && !memcmp(s, "q8r", 3)) return PREFREC_DT_Q8R;
    if (n == 3 && !memcmp(s, "q4r", 3)) return PREFREC_DT_Q4R;
    if (n == 3 && !memcmp(s, "q8c", 3)) return PREFREC_DT_Q8C;
    if (n == 3 && !memcmp(s, "q4c", 3)) return PREFREC_DT_Q4C;
    if (n == 3 && !memcmp(s, "u16", 3)) return PREFREC_DT_U16;
    if (n == 3 && !memcmp(s, "d16", 3)) return PREFREC_DT_D16;
    if (n == 3 && !memcmp(s, "r16", 3)) return PREFREC_DT_R16;
    if (n == 3 && !memcmp(s, "u8d", 3)) return PREFREC_DT_U8D;
    if (n == 3 && !memcmp(s, "q5r", 3)) return PREFREC_STORE_Q5R;
    if (n == 3 && !memcmp(s, "q6r", 3)) return PREFREC_STORE_Q6R;
    if (n == 3 && !memcmp(s, "pcn", 3)) return PREFREC_STORE_PCN;
    return -1;
}

/* Walks the plan: for each entry calls back with its name part and dtype; returns the first
 * match's dtype for name (or f32), -1 and the entry's position when malformed. */
static int plan_walk(const char *plan, const char *name, size_t *bad_at) {
    const char *p = plan ? plan : "";
    int found = -2;
    while (*p) {
        const char *end = strchr(p, ','), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        eq = memchr(p, '=', len);
        size_t nl = eq ? (size_t)(eq - p) : 0;
        int dt = eq ? dtype_of_word(eq + 1, len - nl - 1) : -1;
        if (!eq || nl == 0 || nl >= PREFREC_PACK_NAME_MAX || dt < 0) {
            *bad_at = (size_t)(p - plan);
            return -1;
        }
        if (found == -2 && name) {
            int prefix = p[nl - 1] == '*';
            size_t cmp = prefix ? nl - 1 : nl;
            if (prefix ? !strncmp(name, p, cmp) : strlen(name) == nl && !strncmp(name, p, nl))
                found = dt;
        }
        p += len + (end ? 1 : 0);
    }
    return found == -2 ? PREFREC_DT_F32 : found;
}

int prefrec_quant_plan_dtype(const char *plan, const char *name) {
    size_t at = 0;
    return plan_walk(plan, name, &at);
}

prefrec_status prefrec_quant_plan_check(const char *plan, prefrec_error *err) {
    size_t at = 0;
    if (plan_walk(plan, NULL, &at) == -1)
        return prefrec_error_set(
            err, PREFREC_E_INVAL,
            "storage plan: entry at character %zu of '%s' is not "
            "name=f32|f16|q8r|q4r|q8c|q4c|u16|d16|u8d|r16|q5r|q6r|pcn (a name of "
            "1..31 characters, '*' ends a "
            "prefix)",
            at, plan);
    return PREFREC_OK;
}
