/* csv.c - RFC 4180 record reader over large blocks (see prefrec/native/csv.h).
 *
 * Why this shape: the purchase file has millions of short records, so the cost that matters is
 * per byte and per field. Blocks of several MiB are read into one buffer; a record is parsed in
 * place (fields are pointer + length into the buffer) and only "" escapes are copied. When a
 * record runs past the end of the buffer, the unread tail moves to the front, more is read (the
 * buffer doubles when one record fills it) and the record is parsed again from its start. The
 * search for the next separator/line end in unquoted fields uses SSE2 16 bytes at a time. */
#include "prefrec/native/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define NEED_MORE 2

struct prefrec_csv {
    char *name;
    int fd; /* -1: memory input */
    char *buf; /* owned buffer (file input) */
    size_t cap; /* bytes allocated in buf */
    const char *data; /* buf or the borrowed memory */
    size_t pos, end; /* start of the unread data, end of the data in the buffer */
    int eof; /* nothing more to read beyond end */
    uint64_t remain; /* bytes the reader may still read from fd (a range's end) */
    int bom_checked, dead, recoverable;
    char sep;
    size_t block;
    size_t max_record; /* bytes one record may take before it is an error */
    uint64_t line; /* line where the next record starts */
    uint64_t bytes_before; /* bytes dropped from the front of the buffer so far */
    /* the current record */
    size_t rec_start;
    uint64_t rec_line;
    prefrec_csv_field *fields;
    size_t *raw; /* offset (in data) where each field's text begins, quote included */
    size_t *esc; /* scratch offset + 1 for escaped fields, else 0 */
    size_t nf, fcap;
    char *scratch;
    size_t sused, scap;
};

prefrec_csv_params prefrec_csv_default_params(void) {
    prefrec_csv_params p;
    p.sep = ',';
    p.block_size = (size_t)4 << 20;
    p.max_record = PREFREC_CSV_MAX_RECORD;
    return p;
}

static prefrec_csv *reader_new(const char *name, const prefrec_csv_params *params) {
    prefrec_csv_params p = params ? *params : prefrec_csv_default_params();
    if (!p.sep) p.sep = ',';
    if (p.block_size < 64) p.block_size = 64;
    if (!p.max_record) p.max_record = PREFREC_CSV_MAX_RECORD;
    prefrec_csv *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->name = strdup(name ? name : "<memory>");
    r->fcap = 16;
    r->fields = malloc(r->fcap * sizeof *r->fields);
    r->raw = malloc(r->fcap * sizeof *r->raw);
    r->esc = malloc(r->fcap * sizeof *r->esc);
    if (!r->name || !r->fields || !r->raw || !r->esc) {
        prefrec_csv_close(r);
        return NULL;
    }
    r->fd = -1;
    r->remain = UINT64_MAX;
    r->sep = p.sep;
    r->block = p.block_size;
    r->max_record = p.max_record;
    r->line = 1;
    return r;
}

prefrec_status prefrec_csv_open(const char *path, const prefrec_csv_params *params,
                                prefrec_csv **out, prefrec_error *err) {
    *out = NULL;
    prefrec_csv *r = reader_new(path, params);
    if (!r) return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0) {
        prefrec_status st =
            prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open: %s", path, strerror(errno));
        prefrec_csv_close(r);
        return st;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    r->cap = r->block;
    r->buf = malloc(r->cap + 16);
    if (!r->buf) {
        prefrec_csv_close(r);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    }
    r->data = r->buf;
    *out = r;
    return PREFREC_OK;
}

prefrec_status prefrec_csv_open_range(const char *path, const prefrec_csv_params *params,
                                      uint64_t offset, uint64_t length, prefrec_csv **out,
                                      prefrec_error *err) {
    prefrec_status st = prefrec_csv_open(path, params, out, err);
    if (st || offset == 0) {
        if (!st) (*out)->remain = length;
        return st;
    }
    prefrec_csv *r = *out;
    if (lseek(r->fd, (off_t)offset, SEEK_SET) == (off_t)-1) {
        st = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot seek to byte %llu: %s", path,
                               (unsigned long long)offset, strerror(errno));
        prefrec_csv_close(r);
        *out = NULL;
        return st;
    }
    r->remain = length;
    r->bytes_before = offset;
    r->bom_checked = 1; /* a byte order mark only counts at the start of the file */
    return PREFREC_OK;
}

prefrec_status prefrec_csv_open_mem(const char *buf, size_t len, const char *name,
                                    const prefrec_csv_params *params, prefrec_csv **out,
                                    prefrec_error *err) {
    *out = NULL;
    prefrec_csv *r = reader_new(name, params);
    if (!r) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    r->data = buf ? buf : "";
    r->end = buf ? len : 0;
    r->eof = 1;
    *out = r;
    return PREFREC_OK;
}

void prefrec_csv_close(prefrec_csv *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r->name);
    free(r->fields);
    free(r->raw);
    free(r->esc);
    free(r->scratch);
    free(r);
}

int prefrec_csv_recoverable(const prefrec_csv *r) { return r->recoverable; }
size_t prefrec_csv_nfields(const prefrec_csv *r) { return r->nf; }
const prefrec_csv_field *prefrec_csv_fields(const prefrec_csv *r) { return r->fields; }
uint64_t prefrec_csv_line(const prefrec_csv *r) { return r->rec_line; }
const char *prefrec_csv_name(const prefrec_csv *r) { return r->name; }
uint64_t prefrec_csv_bytes(const prefrec_csv *r) { return r->bytes_before + r->pos; }

/* Physical line and character column of data offset off within the current record. */
static void where(const prefrec_csv *r, size_t off, uint64_t *line, uint64_t *col) {
    uint64_t ln = r->rec_line;
    size_t ls = r->rec_start;
    for (size_t i = r->rec_start; i < off && i < r->end; i++)
        if (r->data[i] == '\n') {
            ln++;
            ls = i + 1;
        }
    uint64_t c = 1;
    for (size_t i = ls; i < off && i < r->end; i++)
        if (((unsigned char)r->data[i] & 0xC0) != 0x80) c++;
    *line = ln;
    *col = c;
}

static prefrec_status vfail_at(const prefrec_csv *r, size_t off, int with_col, prefrec_error *err,
                               prefrec_status st, const char *fmt, va_list ap) {
    if (!err) return st;
    char what[PREFREC_ERROR_MSG_MAX];
    vsnprintf(what, sizeof what, fmt, ap);
    uint64_t line, col;
    where(r, off, &line, &col);
    if (with_col)
        return prefrec_error_set(err, st, "%s:%llu:%llu: %s", r->name, (unsigned long long)line,
                                 (unsigned long long)col, what);
    return prefrec_error_set(err, st, "%s:%llu: %s", r->name, (unsigned long long)r->rec_line,
                             what);
}

static prefrec_status fail_at(const prefrec_csv *r, size_t off, prefrec_error *err,
                              prefrec_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail_at(r, off, 1, err, st, fmt, ap);
    va_end(ap);
    return st;
}

prefrec_status prefrec_csv_errorf(const prefrec_csv *r, size_t field, prefrec_error *err,
                                  prefrec_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (field < r->nf)
        vfail_at(r, r->raw[field], 1, err, status, fmt, ap);
    else
        vfail_at(r, r->rec_start, 0, err, status, fmt, ap);
    va_end(ap);
    return status;
}

int prefrec_utf8_check(const char *str, size_t len, size_t *bad) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs: 8 bytes at a time */
        while (i + 8 <= len) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (v & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= len) break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c == 0xE0)
            n = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC)
            n = 2;
        else if (c == 0xED)
            n = 2, hi = 0x9F; /* no surrogates */
        else if (c >= 0xEE && c <= 0xEF)
            n = 2;
        else if (c == 0xF0)
            n = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3)
            n = 3;
        else if (c == 0xF4)
            n = 3, hi = 0x8F;
        else {
            *bad = i;
            return 1;
        }
        if (i + n >= len) { /* truncated sequence */
            *bad = i;
            return 1;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            *bad = i;
            return 1;
        }
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return 1;
            }
        i += n + 1;
    }
    return 0;
}

/* Move the unread tail to the front and read more. Returns 0 or a status (err set). */
static prefrec_status fill(prefrec_csv *r, prefrec_error *err) {
    if (r->fd < 0 || r->eof) {
        r->eof = 1;
        return PREFREC_OK;
    }
    if (r->pos > 0) {
        size_t keep = r->end - r->pos;
        memmove(r->buf, r->buf + r->pos, keep);
        r->bytes_before += r->pos;
        r->end = keep;
        r->pos = 0;
    }
    if (r->cap - r->end < r->block / 2) {
        size_t cap = r->cap * 2;
        while (cap - r->end < r->block) cap *= 2;
        char *nb = realloc(r->buf, cap + 16);
        if (!nb)
            return prefrec_error_set(err, PREFREC_E_NOMEM,
                                     "%s: out of memory (a record of %zu+ bytes)", r->name, r->end);
        r->buf = nb;
        r->data = nb;
        r->cap = cap;
    }
    for (;;) {
        size_t want = r->cap - r->end;
        if (want > r->remain) want = (size_t)r->remain;
        ssize_t n = want ? read(r->fd, r->buf + r->end, want) : 0;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return prefrec_error_set(err, PREFREC_E_IO, "%s: read error: %s", r->name,
                                     strerror(errno));
        if (n == 0) r->eof = 1;
        r->end += (size_t)n;
        r->remain -= (uint64_t)n;
        break;
    }
    memset(r->buf + r->end, 0, 16);
    return PREFREC_OK;
}

static int grow_fields(prefrec_csv *r) {
    size_t cap = r->fcap * 2;
    prefrec_csv_field *f = realloc(r->fields, cap * sizeof *f);
    if (!f) return -1;
    r->fields = f;
    size_t *raw = realloc(r->raw, cap * sizeof *raw);
    if (!raw) return -1;
    r->raw = raw;
    size_t *esc = realloc(r->esc, cap * sizeof *esc);
    if (!esc) return -1;
    r->esc = esc;
    r->fcap = cap;
    return 0;
}

/* Offset of the first sep, '\n' or '\r' in d[p, e), or e if none. */
static size_t find_special(const char *d, size_t p, size_t e, char sep) {
#ifdef __SSE2__
    const __m128i vs = _mm_set1_epi8(sep), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
    while (p + 16 <= e) {
        __m128i x = _mm_loadu_si128((const __m128i *)(d + p));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vs), _mm_cmpeq_epi8(x, vn)),
                                 _mm_cmpeq_epi8(x, vr));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) return p + (size_t)__builtin_ctz(mask);
        p += 16;
    }
#endif
    for (; p < e; p++) {
        char c = d[p];
        if (c == sep || c == '\n' || c == '\r') return p;
    }
    return e;
}

/* Copy d[a, b) into scratch with "" -> ". Returns 0 or -1 (no memory). */
static int unescape(prefrec_csv *r, const char *d, size_t a, size_t b, size_t *len) {
    if (r->scap - r->sused < b - a) {
        size_t cap = r->scap ? r->scap : 256;
        while (cap - r->sused < b - a) cap *= 2;
        char *s = realloc(r->scratch, cap);
        if (!s) return -1;
        r->scratch = s;
        r->scap = cap;
    }
    char *o = r->scratch + r->sused;
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        o[n++] = d[i];
        if (d[i] == '"') i++; /* skip the second quote of "" */
    }
    *len = n;
    return 0;
}

#ifdef __SSE2__
/* Bit i set where d[i] == c, over 64 bytes. */
static inline uint64_t eq64(__m128i x0, __m128i x1, __m128i x2, __m128i x3, __m128i v) {
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, v)) |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, v)) << 16 |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x2, v)) << 32 |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x3, v)) << 48;
}

/* The common record: shorter than 64 bytes, LF-terminated, no quote. Classifies the 64 bytes at
 * d + p once (separators, LF, CR, quotes, non-ASCII bytes as bit masks) and cuts the fields from
 * the separator bits. Returns 1 (parsed, like parse_record), 0 (not this case: the general
 * parser takes it) or < 0 (invalid UTF-8, reported as parse_record does). */
static int parse_short(prefrec_csv *r, size_t p, size_t *next, prefrec_error *err) {
    const char *d = r->data;
    const __m128i x0 = _mm_loadu_si128((const __m128i *)(d + p)),
                  x1 = _mm_loadu_si128((const __m128i *)(d + p + 16)),
                  x2 = _mm_loadu_si128((const __m128i *)(d + p + 32)),
                  x3 = _mm_loadu_si128((const __m128i *)(d + p + 48));
    const uint64_t nl = eq64(x0, x1, x2, x3, _mm_set1_epi8('\n'));
    if (!nl) return 0;
    const uint64_t below = (nl & -nl) - 1; /* the bytes before the first LF */
    const uint64_t other = eq64(x0, x1, x2, x3, _mm_set1_epi8('\r')) |
        eq64(x0, x1, x2, x3, _mm_set1_epi8('"')) | eq64(x0, x1, x2, x3, _mm_setzero_si128());
    if (other & below) return 0; /* CR, quotes or a NUL byte: the general parser */
    uint64_t seps = eq64(x0, x1, x2, x3, _mm_set1_epi8(r->sep)) & below;
    const size_t nf = (size_t)__builtin_popcountll(seps) + 1;
    while (r->fcap < nf)
        if (grow_fields(r) != 0)
            return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", r->name);
    const size_t len = (size_t)__builtin_ctzll(nl);
    prefrec_csv_field *f = r->fields;
    size_t *raw = r->raw, fs = p;
    for (size_t i = 0; seps; i++, seps &= seps - 1) {
        size_t at = p + (size_t)__builtin_ctzll(seps);
        f[i].p = d + fs;
        f[i].len = at - fs;
        raw[i] = fs;
        fs = at + 1;
    }
    f[nf - 1].p = d + fs;
    f[nf - 1].len = p + len - fs;
    raw[nf - 1] = fs;
    r->nf = nf;
    r->line++;
    *next = p + len + 1;
    const uint64_t high = (uint64_t)(unsigned)_mm_movemask_epi8(x0) |
        (uint64_t)(unsigned)_mm_movemask_epi8(x1) << 16 |
        (uint64_t)(unsigned)_mm_movemask_epi8(x2) << 32 |
        (uint64_t)(unsigned)_mm_movemask_epi8(x3) << 48;
    size_t bad;
    if ((high & below) && prefrec_utf8_check(d + p, len, &bad)) {
        r->recoverable = PREFREC_CSV_BAD_MALFORMED;
        return fail_at(r, p + bad, err, PREFREC_E_PARSE, "invalid UTF-8 (byte 0x%02x)",
                       (unsigned char)d[p + bad]);
    }
    return 1;
}
#endif

/* Parse one record at r->pos. 1 = parsed (fields set, r->pos unchanged, *next = end),
 * NEED_MORE = the buffer ends inside the record, < 0 = error (err set). */
static int parse_record(prefrec_csv *r, size_t *next, prefrec_error *err) {
    const char *d = r->data;
    const size_t e = r->end;
    const int eof = r->eof;
    const char sep = r->sep;
    size_t p = r->pos;
    uint64_t extra_lines = 0;
    r->nf = 0;
    r->sused = 0;
    r->rec_start = p;
    r->rec_line = r->line;
#ifdef __SSE2__
    if (e - p >= 64) {
        int st = parse_short(r, p, next, err);
        if (st) return st;
    }
#endif
    for (;;) {
        if (r->nf == r->fcap && grow_fields(r) != 0)
            return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", r->name);
        size_t fs = p, i = r->nf++;
        r->raw[i] = fs;
        r->esc[i] = 0;
        size_t c_at; /* offset of the character that ends the field */
        if (p < e && d[p] == '"') {
            size_t q = p + 1, h;
            int esc = 0;
            for (;;) {
                const char *hit = memchr(d + q, '"', e - q);
                if (!hit) {
                    if (!eof) return NEED_MORE;
                    r->dead = 1;
                    return fail_at(r, fs, err, PREFREC_E_PARSE,
                                   "unterminated quoted field (the closing quote is missing)");
                }
                h = (size_t)(hit - d);
                if (h + 1 == e && !eof) return NEED_MORE;
                if (h + 1 < e && d[h + 1] == '"') {
                    esc = 1;
                    q = h + 2;
                    continue;
                }
                break;
            }
            for (const char *nl = memchr(d + fs + 1, '\n', h - fs - 1); nl;
                 nl = memchr(nl + 1, '\n', (size_t)(d + h - nl - 1)))
                extra_lines++;
            if (esc) {
                size_t len;
                if (unescape(r, d, fs + 1, h, &len) != 0)
                    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", r->name);
                r->esc[i] = r->sused + 1;
                r->fields[i].len = len;
                r->sused += len;
            } else {
                r->fields[i].p = d + fs + 1;
                r->fields[i].len = h - fs - 1;
            }
            c_at = h + 1;
            if (c_at < e && d[c_at] != sep && d[c_at] != '\n' && d[c_at] != '\r') {
                /* junk after the closing quote: consume the rest of the line, report */
                const char *nl = memchr(d + c_at, '\n', e - c_at);
                if (!nl && !eof) return NEED_MORE;
                *next = nl ? (size_t)(nl - d) + 1 : e;
                r->line += extra_lines + 1;
                r->recoverable = PREFREC_CSV_BAD_MALFORMED;
                return fail_at(r, c_at, err, PREFREC_E_PARSE,
                               "unexpected character '%c' after a closing quote (a quote inside "
                               "a quoted field must be doubled)",
                               d[c_at]);
            }
        } else {
            c_at = find_special(d, p, e, sep);
            r->fields[i].p = d + fs;
            r->fields[i].len = c_at - fs;
        }
        if (c_at >= e) {
            if (!eof) return NEED_MORE;
            *next = e; /* last record without a line end */
            break;
        }
        char c = d[c_at];
        if (c == sep) {
            p = c_at + 1;
            continue;
        }
        if (c == '\r') {
            if (c_at + 1 >= e && !eof) return NEED_MORE;
            *next = c_at + 1 + (c_at + 1 < e && d[c_at + 1] == '\n');
        } else {
            *next = c_at + 1;
        }
        extra_lines++;
        break;
    }
    for (size_t i = 0; i < r->nf; i++)
        if (r->esc[i]) r->fields[i].p = r->scratch + r->esc[i] - 1;
    r->line += extra_lines;
    /* every record must be valid UTF-8 */
    size_t bad;
    if (prefrec_utf8_check(d + r->rec_start, *next - r->rec_start, &bad)) {
        r->recoverable = PREFREC_CSV_BAD_MALFORMED;
        return fail_at(r, r->rec_start + bad, err, PREFREC_E_PARSE, "invalid UTF-8 (byte 0x%02x)",
                       (unsigned char)d[r->rec_start + bad]);
    }
    /* and hold no NUL byte: it is valid UTF-8 (U+0000), but codes are C strings further on
     * (scores.csv, packs), where "DUP\0a" and "DUP\0b" would both be "DUP" */
    const char *nul = memchr(d + r->rec_start, 0, *next - r->rec_start);
    if (nul) {
        r->recoverable = PREFREC_CSV_BAD_NUL;
        return fail_at(r, (size_t)(nul - d), err, PREFREC_E_PARSE,
                       "NUL byte (U+0000) in a field (codes and names cannot hold one)");
    }
    return 1;
}

int prefrec_csv_next(prefrec_csv *r, prefrec_error *err) {
    r->recoverable = 0;
    r->nf = 0;
    if (r->dead) return 0;
    if (!r->bom_checked) {
        while (r->end - r->pos < 3 && !r->eof) {
            prefrec_status st = fill(r, err);
            if (st) {
                r->dead = 1;
                return st;
            }
        }
        if (r->end - r->pos >= 3 && memcmp(r->data + r->pos, "\xEF\xBB\xBF", 3) == 0) r->pos += 3;
        r->bom_checked = 1;
    }
    for (;;) {
        if (r->pos == r->end) {
            if (r->eof) return 0;
            prefrec_status st = fill(r, err);
            if (st) {
                r->dead = 1;
                return st;
            }
            continue;
        }
        size_t next = r->pos;
        int st = parse_record(r, &next, err);
        if (st == NEED_MORE) {
            if (r->end - r->pos >= r->max_record) {
                /* no line end in max_record bytes: not a CSV file (a device such as /dev/zero,
                 * a binary file) or a quote that never closes; fail now, not at the end of
                 * memory */
                r->dead = 1;
                char size[32];
                if (r->max_record % ((size_t)1 << 20) == 0)
                    snprintf(size, sizeof size, "%zu MiB", r->max_record >> 20);
                else
                    snprintf(size, sizeof size, "%zu bytes", r->max_record);
                return prefrec_error_set(
                    err, PREFREC_E_PARSE,
                    "%s:%llu: a record longer than %s (no line end found: not a CSV file, or a "
                    "quoted field that never closes)",
                    r->name, (unsigned long long)r->line, size);
            }
            prefrec_status fs = fill(r, err);
            if (fs) {
                r->dead = 1;
                return fs;
            }
            continue;
        }
        if (st < 0) {
            if (r->recoverable) r->pos = next;
            return st;
        }
        /* rec_start keeps the record for error messages; consume it on the next call */
        r->pos = next;
        return 1;
    }
}
