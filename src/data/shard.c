/* shard.c - the sharded load (see prefrec/native/shard.h, docs/mpi.md): byte ranges of the
 * purchase file, lines routed to their customer's rank, parsed there in file order. */
#include "prefrec/native/shard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset_internal.h"
#include "host/dist.h"
#include "host/file.h"
#include "prefrec/pack.h" /* prefrec_fnv1a32: the customer shards' rule */

#define CUSTOMER_KEY_LATE ((uint64_t)1 << 62) /* customers first seen in the purchase file */
#define HEADER_MAX ((size_t)1 << 20)

void prefrec_shard_info_free(prefrec_shard_info *info) {
    if (!info) return;
    free(info->customer_key);
    info->customer_key = NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- a growable byte buffer ---------------------------------------------------------------- */
typedef struct {
    char *p;
    size_t n, cap;
} buf_;

static int buf_put(buf_ *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/* ---- the purchase file: header, ranges, lines ---------------------------------------------- */

/* Line number (1-based) of the byte at offset: the line ends before it, plus one. Only on the
 * way to an error message. */
static uint64_t line_of(int fd, uint64_t offset) {
    char b[1 << 16];
    uint64_t lines = 1;
    for (uint64_t at = 0; at < offset;) {
        size_t want = offset - at < sizeof b ? (size_t)(offset - at) : sizeof b;
        ssize_t r = pread(fd, b, want, (off_t)at);
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) lines += b[i] == '\n';
        at += (uint64_t)r;
    }
    return lines;
}

/* The first line start at or after b (b itself when the byte before is a line end), in
 * [lo, size]. */
static uint64_t line_start(int fd, uint64_t b, uint64_t lo, uint64_t size) {
    if (b <= lo) return lo;
    if (b >= size) return size;
    char buf[1 << 16];
    for (uint64_t at = b - 1; at < size;) {
        ssize_t r = pread(fd, buf, sizeof buf, (off_t)at);
        if (r <= 0) return size;
        char *nl = memchr(buf, '\n', (size_t)r);
        if (nl) return at + (uint64_t)(nl - buf) + 1;
        at += (uint64_t)r;
    }
    return size;
}

/* Field col of the one-line record s[0..n) (RFC 4180 quoting, sep ','), unquoted into tmp when
 * quoted. Returns its length and *out, or -1 when the line has fewer fields. */
static long field_of(const char *s, size_t n, int col, buf_ *tmp, const char **out) {
    size_t i = 0;
    for (int c = 0;; c++) {
        if (i < n && s[i] == '"') {
            tmp->n = 0;
            i++;
            while (i < n) {
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        if (c == col && buf_put(tmp, "\"", 1)) return -1;
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (c == col && buf_put(tmp, s + i, 1)) return -1;
                i++;
            }
            while (i < n && s[i] != ',') i++;
            if (c == col) {
                *out = tmp->p ? tmp->p : "";
                return (long)tmp->n;
            }
        } else {
            size_t from = i;
            while (i < n && s[i] != ',') i++;
            if (c == col) {
                size_t e = i;
                if (e == n && e > from && s[e - 1] == '\r') e--;
                *out = s + from;
                return (long)(e - from);
            }
        }
        if (i >= n) return -1;
        i++; /* the separator */
    }
}

/* The purchase file, or one part of a part directory. The parts' rows, headers left out, are
 * one stream: "stream offsets" number its bytes (part k's row bytes start at vbase, part 0's at
 * its header length: for a single file they are its byte offsets); they order lines, customers
 * and errors as one process reading the parts in order would. */
typedef struct {
    int fd;
    const char *path;
    uint64_t size, header_len;
    uint64_t vbase; /* stream offset of the byte at header_len */
    char *header; /* header_len bytes, ending with a line end (one is added if the file has none) */
    size_t header_size;
    int cust_col;
} pfile_;

/* The codes of one column not in a known dictionary, each with the stream offset of the first
 * line holding it (a mapping's products missing from its products file, or all of them when it
 * has none: the one-process load numbers them in the order of their first line). */
typedef struct {
    int col; /* the column (-1: none) */
    const prefrec_dict *known;
    prefrec_dict *seen;
    buf_ out; /* (u64 stream offset, u32 length, bytes) per code, in order of first sight */
} newcodes_;

/* Read [from, to) of f line by line and append each line, as (u64 stream offset, u32 length,
 * bytes), to out[owner]; nc: codes to collect (may be NULL). A line with an odd number of
 * quotes starts a field that spans lines: refused. *bad_at: the stream offset of a refused
 * line. */
static prefrec_status route_range(pfile_ *f, uint64_t from, uint64_t to, int nranks, buf_ *out,
                                  newcodes_ *nc, uint64_t *bad_at, prefrec_error *err) {
    const uint64_t shift = f->vbase - f->header_len; /* file offset + shift = stream offset */
    size_t cap = (size_t)4 << 20, have = 0;
    char *b = malloc(cap);
    buf_ tmp = {0};
    prefrec_status st = PREFREC_OK;
    if (!b) return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", f->path);
    uint64_t base = from; /* file offset of b[0] */
    int eof = 0;
    while (!st) {
        /* lines complete in b[0..have) */
        size_t i = 0;
        for (;;) {
            char *nl = memchr(b + i, '\n', have - i);
            size_t end = nl ? (size_t)(nl - b) : have;
            if (!nl && !(eof && end > i)) break;
            const char *line = b + i;
            size_t len = end - i;
            uint64_t off = base + i, voff = off + shift;
            size_t quotes = 0;
            for (size_t k = 0; k < len; k++) quotes += line[k] == '"';
            if (quotes & 1) {
                *bad_at = voff;
                st = prefrec_error_set(err, PREFREC_E_PARSE,
                                       "%s:%" PRIu64 ": a quoted field holds a line break; the "
                                       "sharded (MPI) reading needs one record per line",
                                       f->path, line_of(f->fd, off));
                break;
            }
            const char *code = "";
            long cl = field_of(line, len, f->cust_col, &tmp, &code);
            if (cl < 0) cl = 0, code = ""; /* a short line: its owner's parse reports it */
            int owner = (int)(prefrec_fnv1a32(code, (size_t)cl) % (uint32_t)nranks);
            uint32_t l32 = (uint32_t)len;
            if (len > PREFREC_CSV_MAX_RECORD) {
                *bad_at = voff;
                st = prefrec_error_set(err, PREFREC_E_PARSE, "%s:%" PRIu64 ": a line of %zu bytes",
                                       f->path, line_of(f->fd, off), len);
                break;
            }
            if (buf_put(&out[owner], &voff, 8) || buf_put(&out[owner], &l32, 4) ||
                buf_put(&out[owner], line, len)) {
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", f->path);
                break;
            }
            /* a code not seen before (a short line or an empty code: its owner's parse fails) */
            const char *pc;
            long pl = nc && nc->col >= 0 ? field_of(line, len, nc->col, &tmp, &pc) : -1;
            if (pl > 0 && prefrec_dict_find(nc->known, pc, (size_t)pl) < 0 &&
                prefrec_dict_find(nc->seen, pc, (size_t)pl) < 0) {
                uint32_t p32 = (uint32_t)pl;
                if (prefrec_dict_intern(nc->seen, pc, (size_t)pl) < 0 ||
                    buf_put(&nc->out, &voff, 8) || buf_put(&nc->out, &p32, 4) ||
                    buf_put(&nc->out, pc, p32)) {
                    st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", f->path);
                    break;
                }
            }
            i = nl ? end + 1 : have;
        }
        if (st || (eof && i >= have)) break;
        memmove(b, b + i, have - i);
        have -= i;
        base += i;
        if (have == cap) {
            if (cap >= PREFREC_CSV_MAX_RECORD * 2) {
                *bad_at = base + shift;
                st = prefrec_error_set(err, PREFREC_E_PARSE,
                                       "%s:%" PRIu64 ": no line end in %zu bytes", f->path,
                                       line_of(f->fd, base), cap);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", f->path);
                break;
            }
            b = nb;
            cap *= 2;
        }
        uint64_t at = base + have;
        size_t want = cap - have;
        if (to - at < want) want = (size_t)(to - at);
        ssize_t r = want ? pread(f->fd, b + have, want, (off_t)at) : 0;
        if (r < 0) {
            st = prefrec_error_set(err, PREFREC_E_IO, "%s: read error: %s", f->path,
                                   strerror(errno));
            break;
        }
        have += (size_t)r;
        if (r == 0 || at + (uint64_t)r >= to) eof = 1;
        if (r == 0 && have == 0) break;
    }
    free(b);
    free(tmp.p);
    return st;
}

/* Open the purchase file (or a part) and read its header; first (NULL for the first part): the
 * first part's header, which this one must repeat; keep (may be NULL): the header's table,
 * left open (it borrows f->header); map: the mapping whose columns the first part's header
 * must have (NULL: the L.POINT file, whose customer column is cust). */
static prefrec_status open_purchases(pfile_ *f, const char *path, const prefrec_table_ *first,
                                     prefrec_table_ *keep, prefrec_mapping_ *map,
                                     prefrec_error *err) {
    memset(f, 0, sizeof *f);
    f->path = path;
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0) return prefrec_file_open_error(path, err);
    struct stat sb;
    if (fstat(f->fd, &sb) != 0)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: %s", path, strerror(errno));
    f->size = (uint64_t)sb.st_size;
    size_t want = f->size < HEADER_MAX ? (size_t)f->size : HEADER_MAX;
    f->header = malloc(want + 2);
    if (!f->header) return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    ssize_t r = want ? pread(f->fd, f->header, want, 0) : 0;
    if (r < 0 || (size_t)r != want)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: read error", path);
    char *nl = memchr(f->header, '\n', want);
    if (!nl && want == HEADER_MAX)
        return prefrec_error_set(err, PREFREC_E_PARSE, "%s:1: no line end in the first %zu bytes",
                                 path, HEADER_MAX);
    f->header_len = nl ? (uint64_t)(nl - f->header) + 1 : (uint64_t)want;
    f->header_size = (size_t)f->header_len;
    if (!nl) f->header[f->header_size++] = '\n';
    f->header[f->header_size] = '\0';
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_mem_(&t, f->header, f->header_size, path, err);
    if (st) return st;
    if (first)
        st = prefrec_parts_same_header_(first, &t, err);
    else if (map && !(st = prefrec_mapping_tx_columns_(map, &t, err)))
        f->cust_col = prefrec_mapping_tx_customer_col_(map);
    else if (!map)
        st = prefrec_table_require_(&t, "cust", "customer id", &f->cust_col, err);
    if (!st && keep)
        *keep = t;
    else
        prefrec_table_close_(&t);
    return st;
}

/* The part holding stream offset v (the last part for the stream's end). */
static int part_of(const pfile_ *pf, int n, uint64_t v) {
    int k = 0;
    while (k + 1 < n && v >= pf[k + 1].vbase) k++;
    return k;
}

/* The first line start at or after stream offset b, as a stream offset (the next part's start
 * when b is in the last line of a part). */
static uint64_t stream_line_start(const pfile_ *pf, int n, uint64_t b) {
    int k = part_of(pf, n, b);
    const pfile_ *f = &pf[k];
    uint64_t x = line_start(f->fd, f->header_len + (b - f->vbase), f->header_len, f->size);
    return f->vbase + (x - f->header_len);
}

/* "name:K:..." from parsing this rank's records (header = line 1, record i = line i + 2) back to
 * the file's (or part's) own line K'; *key: the record's stream offset. */
static void relocate_error(const pfile_ *pf, int nparts, const char *name, const uint64_t *offs,
                           size_t n, prefrec_error *err, uint64_t *key) {
    size_t pl = strlen(name);
    *key = UINT64_MAX;
    if (!err || strncmp(err->msg, name, pl) || err->msg[pl] != ':') return;
    char *end = NULL;
    unsigned long long k = strtoull(err->msg + pl + 1, &end, 10);
    if (!end || end == err->msg + pl + 1 || k < 2 || k - 2 >= n) return;
    *key = offs[k - 2];
    char rest[PREFREC_ERROR_MSG_MAX];
    snprintf(rest, sizeof rest, "%s", end);
    const pfile_ *f = &pf[part_of(pf, nparts, *key)];
    prefrec_error_set(err, err->status, "%s:%" PRIu64 "%s", f->path,
                      line_of(f->fd, *key - f->vbase + f->header_len), rest);
}

/* Rank 0's bytes of path to every rank. */
static prefrec_status bcast_file(prefrec_dist *d, const char *path, char **buf, size_t *len,
                                 prefrec_error *err) {
    prefrec_status st = PREFREC_OK;
    *buf = NULL;
    *len = 0;
    if (prefrec_dist_rank(d) == 0) st = prefrec_file_read(path, (size_t)1 << 34, buf, len, err);
    if ((st = prefrec_dist_agree(d, st, 0, err))) return st;
    if (prefrec_dist_bcast_bytes(d, buf, len, 0))
        return prefrec_error_set(err, PREFREC_E_IO, "%s: broadcast failed", path);
    return PREFREC_OK;
}

/* The catalog (demo 0) or the demographics (demo 1) at path, rank 0's bytes parsed by every
 * rank: the L.POINT file (map NULL) or the mapping's products / customers file. */
static prefrec_status read_attrs(prefrec_dist *d, const char *path, int demo,
                                 const prefrec_mapping_ *map, prefrec_loader_ *L,
                                 prefrec_dataset *ds, prefrec_error *err) {
    char *buf;
    size_t len;
    prefrec_status st = bcast_file(d, path, &buf, &len, err);
    if (st) return st;
    prefrec_table_ t;
    st = prefrec_table_open_mem_(&t, buf, len, path, err);
    if (!st) {
        if (map)
            st = demo ? prefrec_mapping_customers_(map, &t, L, ds, err)
                      : prefrec_mapping_products_(map, &t, L, ds, err);
        else
            st = demo ? prefrec_lpoint_demo_(&t, L, ds, err)
                      : prefrec_lpoint_catalog_(&t, L, ds, err);
        prefrec_table_close_(&t);
    }
    free(buf);
    /* the same bytes everywhere: the same outcome on every rank, but for running out of memory */
    return prefrec_dist_agree(d, st, 0, err);
}

typedef struct {
    uint64_t off; /* the stream offset of the code's first line */
    int32_t id; /* its id in the gathered dictionary: the order of arrival */
} code_first_;

static int cmp_code_first(const void *a, const void *b) {
    const code_first_ *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The one-process order of codes each rank saw some of: mine holds this rank's entries (u64
 * stream offset of the first line holding the code, u32 length, bytes), one per code; every rank
 * gets in *all each code of any rank once, in the order of its first line in the file (u32
 * length, bytes each; codes no line holds, offset UINT64_MAX, last), and *n_all their number.
 * Rank 0 gathers the entries and orders them (a code keeps its smallest offset), then broadcasts
 * the list. st: this rank's status so far (a failure to build mine), agreed on before the
 * gather, so that no rank waits in it for one that left. */
static prefrec_status first_seen_order(prefrec_dist *d, prefrec_status st, const buf_ *mine,
                                       buf_ *all, size_t *n_all, const char *what,
                                       prefrec_error *err) {
    int n = prefrec_dist_size(d);
    size_t *counts = calloc((size_t)n, sizeof *counts);
    char *got = NULL;
    prefrec_dict *codes = NULL;
    code_first_ *first = NULL; /* [id]: the code's first offset, then sorted by it */
    *n_all = 0;
    if (!st && !counts) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if ((st = prefrec_dist_agree(d, st, 0, err))) {
        free(counts);
        return st;
    }
    if (prefrec_dist_gatherv(d, mine->p, mine->n, 0, &got, counts))
        st = prefrec_error_set(err, PREFREC_E_IO, "%s: gather failed", what);
    if (!st && prefrec_dist_rank(d) == 0) {
        size_t tot = 0, cap = 0;
        for (int r = 0; r < n; r++) tot += counts[r];
        codes = prefrec_dict_new();
        if (!codes) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        for (size_t at = 0; !st && at < tot;) {
            uint64_t off;
            uint32_t l;
            memcpy(&off, got + at, 8);
            memcpy(&l, got + at + 8, 4);
            int32_t id = prefrec_dict_intern(codes, got + at + 12, l);
            at += 12 + l;
            if (id >= 0 && (size_t)id >= cap) {
                size_t nc = cap ? cap * 2 : 256;
                code_first_ *nf = realloc(first, nc * sizeof *nf);
                if (nf) first = nf, cap = nc;
            }
            if (id < 0 || (size_t)id >= cap) {
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
            } else if ((size_t)id == *n_all) { /* a new code (ids come in order) */
                first[id].off = off;
                first[id].id = id;
                (*n_all)++;
            } else if (off < first[id].off) {
                first[id].off = off;
            }
        }
        /* by first offset, ties (codes no line holds) by id, the order of arrival */
        if (!st && *n_all > 1) qsort(first, *n_all, sizeof *first, cmp_code_first);
        for (size_t i = 0; !st && i < *n_all; i++) {
            int32_t id = first[i].id;
            uint32_t l = (uint32_t)prefrec_dict_len_(codes, id);
            if (buf_put(all, &l, 4) || buf_put(all, prefrec_dict_str(codes, id), l))
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        }
    }
    free(got);
    free(counts);
    free(first);
    prefrec_dict_free(codes);
    if ((st = prefrec_dist_agree(d, st, 0, err))) return st;
    if (prefrec_dist_bcast_bytes(d, &all->p, &all->n, 0))
        return prefrec_error_set(err, PREFREC_E_IO, "%s: broadcast failed", what);
    all->cap = all->n;
    size_t k = 0;
    for (size_t at = 0; at < all->n; k++) {
        uint32_t l;
        memcpy(&l, all->p + at, 4);
        at += 4 + l;
    }
    *n_all = k;
    return PREFREC_OK;
}

/* Put the affiliates in the one-process order (first line anywhere) on every rank. first[a]:
 * offset of the first line of local affiliate a. */
static prefrec_status order_affiliates(prefrec_dist *d, prefrec_dataset *ds, const uint64_t *first,
                                       prefrec_error *err) {
    buf_ mine = {0}, all = {0};
    prefrec_status st = PREFREC_OK;
    int32_t na = prefrec_dict_size(ds->affiliates);
    for (int32_t a = 0; !st && a < na; a++) {
        const char *s = prefrec_dict_str(ds->affiliates, a);
        uint32_t l = (uint32_t)strlen(s);
        if (buf_put(&mine, &first[a], 8) || buf_put(&mine, &l, 4) || buf_put(&mine, s, l))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    }
    size_t n_all = 0;
    st = first_seen_order(d, st, &mine, &all, &n_all, "affiliates", err);
    free(mine.p);
    if (st) {
        free(all.p);
        return st;
    }
    if (n_all > 256) { /* every rank sees the same list */
        free(all.p);
        return prefrec_error_set(err, PREFREC_E_RANGE, "%s: more than 256 affiliates",
                                 ds->source ? ds->source : "purchases");
    }
    prefrec_dict *nd = prefrec_dict_new();
    int32_t map[256];
    for (int32_t a = 0; a < na && a < 256; a++) map[a] = -1;
    for (size_t at = 0; nd && at < all.n;) {
        uint32_t l;
        memcpy(&l, all.p + at, 4);
        int32_t id = prefrec_dict_intern(nd, all.p + at + 4, l);
        int32_t old = prefrec_dict_find(ds->affiliates, all.p + at + 4, l);
        if (id < 0) {
            prefrec_dict_free(nd);
            nd = NULL;
        } else if (old >= 0) {
            map[old] = id;
        }
        at += 4 + l;
    }
    free(all.p);
    if (!nd) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if ((st = prefrec_dist_agree(d, st, 0, err))) { /* no rank goes on without the others */
        prefrec_dict_free(nd);
        return st;
    }
    for (size_t i = 0; i < ds->n_rows; i++) ds->affiliate[i] = (uint8_t)map[ds->affiliate[i]];
    prefrec_dict_free(ds->affiliates);
    ds->affiliates = nd;
    return PREFREC_OK;
}

/* The codes of nc (this rank's new products) in the one-process order, added to ds->products
 * on every rank, after the products file's: every rank then numbers every product as one
 * process does, before it parses its lines. */
static prefrec_status add_new_products(prefrec_dist *d, prefrec_dataset *ds, const newcodes_ *nc,
                                       prefrec_error *err) {
    buf_ all = {0};
    size_t n_all = 0;
    prefrec_status st = first_seen_order(d, PREFREC_OK, &nc->out, &all, &n_all, "products", err);
    if (!st &&
        prefrec_dict_reserve_ids_(ds->products, (size_t)prefrec_dict_size(ds->products) + n_all))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    for (size_t at = 0; !st && at < all.n;) {
        uint32_t l;
        memcpy(&l, all.p + at, 4);
        if (prefrec_dict_intern(ds->products, all.p + at + 4, l) < 0)
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        at += 4 + l;
    }
    free(all.p);
    return prefrec_dist_agree(d, st, 0, err);
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t o = a;
    if (a && dir[a - 1] != '/') s[o++] = '/';
    memcpy(s + o, name, b + 1);
    return s;
}

prefrec_status prefrec_dataset_load_sharded(const char *path, const prefrec_load_params *params,
                                            prefrec_dist *d, prefrec_dataset **out,
                                            prefrec_shard_info *info, prefrec_error *err) {
    *out = NULL;
    memset(info, 0, sizeof *info);
    prefrec_load_params dp = prefrec_load_default_params();
    if (!params) params = &dp;
    const int nranks = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    prefrec_status st = PREFREC_OK;
    struct stat sb;
    size_t plen = strlen(path);
    prefrec_mapping_ *map = NULL; /* the layout: a mapping .json, else L.POINT */
    if (stat(path, &sb) != 0)
        st = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISDIR(sb.st_mode) && !(plen > 5 && !strcmp(path + plen - 5, ".json")))
        st = prefrec_error_set(err, PREFREC_E_INVAL,
                               "%s: not an L.POINT directory or a mapping .json file", path);
    else if (params->skip_bad_rows)
        st = prefrec_error_set(err, PREFREC_E_INVAL,
                               "the sharded (MPI) load does not skip bad rows (docs/mpi.md)");
    else if (!S_ISDIR(sb.st_mode))
        st = prefrec_mapping_open_(path, &map, err); /* every rank: a few hundred bytes */
    if ((st = prefrec_dist_agree(d, st, 0, err))) {
        prefrec_mapping_free_(map);
        return st;
    }

    /* the files: demographics (01), purchases (02), catalog (04), Lpay (06); a mapping's
     * customers, transactions and products files (NULL: absent), and no Lpay */
    char *f01 = NULL, *f02 = NULL, *f04 = NULL, *f06 = NULL;
    if (!map) {
        f01 = join(path, "LPOINT_BIG_COMP_01_DEMO.csv");
        f02 = join(path, "LPOINT_BIG_COMP_02_PDDE.csv");
        f04 = join(path, "LPOINT_BIG_COMP_04_PD_CLAC.csv");
        f06 = join(path, "LPOINT_BIG_COMP_06_LPAY.csv");
        if (!f01 || !f02 || !f04 || !f06)
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    } else { /* each file's path when one process reads it, for the same first error */
        st = prefrec_mapping_file_(map, PREFREC_MAPPING_PRODUCTS, &f04, err);
    }
    newcodes_ newp = {-1, NULL, NULL, {0}};
    prefrec_dataset *ds = prefrec_dataset_new(0);
    buf_ *route = calloc((size_t)nranks, sizeof *route), mem = {0};
    size_t *counts = calloc(2 * (size_t)nranks, sizeof *counts);
    uint64_t *offs = NULL, *first_aff = NULL;
    char *send = NULL, *recv = NULL;
    prefrec_parts_ parts;
    memset(&parts, 0, sizeof parts);
    pfile_ *pf = NULL;
    int np = 0; /* parts opened */
    prefrec_table_ head;
    memset(&head, 0, sizeof head);
    prefrec_loader_ L;
    prefrec_loader_init_(&L, params);
    if (!st && (!ds || !route || !counts || !(ds->source = strdup(path))))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;

    /* the catalog and the demographics: read by rank 0, parsed everywhere */
    if (f04 && (st = read_attrs(d, f04, 0, map, &L, ds, err))) goto done;
    if (map) st = prefrec_mapping_file_(map, PREFREC_MAPPING_CUSTOMERS, &f01, err);
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    if (f01 && (st = read_attrs(d, f01, 1, map, &L, ds, err))) goto done;
    if (map) { /* the transactions file: a plain file (what the one-process load opens) */
        st = prefrec_mapping_tx_format_(map, err);
        if (!st) st = prefrec_mapping_file_(map, PREFREC_MAPPING_TRANSACTIONS, &f02, err);
        if (!st && (stat(f02, &sb) != 0 || S_ISDIR(sb.st_mode) || sb.st_size == 0)) {
            prefrec_table_ t; /* the one-process load's message */
            if (!(st = prefrec_table_open_(&t, f02, err))) {
                prefrec_table_close_(&t);
                st = prefrec_error_set(err, PREFREC_E_IO, "%s: not a file", f02);
            }
        }
        newp.known = ds->products;
        if (!st && !(newp.seen = prefrec_dict_new()))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    }

    /* this rank's range of the purchase file (or of its parts' rows taken as one stream),
     * routed by customer */
    double t0 = now();
    st = prefrec_parts_open_(&parts, f02, err);
    if (!st && !(pf = calloc((size_t)parts.n, sizeof *pf)))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    uint64_t lo = 0, end = 0; /* the stream: [lo, end), lo the first part's header length, so
                                 that for one file stream offsets are its byte offsets */
    for (; !st && np < parts.n; np++) { /* every part's header, and the stream's layout */
        st =
            open_purchases(&pf[np], parts.path[np], np ? &head : NULL, np ? NULL : &head, map, err);
        pf[np].cust_col = pf[0].cust_col; /* the parts' headers are the same */
        if (!st && np == 0) lo = end = pf[0].header_len;
        pf[np].vbase = end;
        if (!st) end += pf[np].size - pf[np].header_len;
    }
    if (!st && map) newp.col = prefrec_mapping_tx_product_col_(map);
    uint64_t bad_at = 0;
    if (!st) {
        const uint64_t n = (uint64_t)nranks, span = end - lo;
        uint64_t from = stream_line_start(pf, np, lo + span / n * (uint64_t)me + span % n * me / n);
        uint64_t to = me + 1 == nranks
            ? end
            : stream_line_start(
                  pf, np, lo + span / n * (uint64_t)(me + 1) + span % n * (uint64_t)(me + 1) / n);
        info->bytes_read = to > from ? to - from : 0;
        /* room up front for a fair share of lines plus 12 bytes each (lines are ~60 bytes): no
         * copying while they arrive (untouched room costs no memory) */
        size_t room = (size_t)(info->bytes_read / (uint64_t)nranks * 3 / 2) + 65536;
        for (int r = 0; r < nranks && !st; r++)
            if (!(route[r].p = malloc(room)))
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", f02);
            else
                route[r].cap = room;
        for (int k = 0; !st && k < np; k++) { /* the parts the range covers */
            uint64_t a = from > pf[k].vbase ? from : pf[k].vbase;
            uint64_t e = pf[k].vbase + (pf[k].size - pf[k].header_len);
            if (to < e) e = to;
            if (e > a)
                st = route_range(&pf[k], pf[k].header_len + (a - pf[k].vbase),
                                 pf[k].header_len + (e - pf[k].vbase), nranks, route,
                                 map ? &newp : NULL, &bad_at, err);
        }
    }
    if ((st = prefrec_dist_agree(d, st, st ? bad_at : 0, err))) goto done;
    if (map && (st = add_new_products(d, ds, &newp, err))) goto done;
    {
        size_t tot = 0, at = 0;
        for (int r = 0; r < nranks; r++) tot += route[r].n;
        send = malloc(tot ? tot : 1);
        if (!send) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        for (int r = 0; r < nranks; r++) {
            if (send && route[r].n) memcpy(send + at, route[r].p, route[r].n);
            at += route[r].n;
            counts[r] = route[r].n;
            free(route[r].p);
            route[r].p = NULL;
        }
    }
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    double t1 = now();
    info->sec_route = t1 - t0;
    if (prefrec_dist_alltoallv(d, send, counts, &recv, counts + nranks))
        st = prefrec_error_set(err, PREFREC_E_IO,
                               "%s: the exchange of lines failed (out of memory for a rank's "
                               "lines, or MPI failed: use more ranks)",
                               f02);
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done; /* one rank's, or all */
    free(send);
    send = NULL;
    double t2 = now();
    info->sec_exchange = t2 - t1;

    /* this rank's lines, in file order (source ranks hold ascending ranges), as one CSV text */
    size_t n_rec = 0, tot = 0;
    for (int r = 0; r < nranks; r++) tot += counts[nranks + r];
    for (size_t at = 0; at < tot;) {
        uint32_t l;
        memcpy(&l, recv + at + 8, 4);
        at += 12 + l;
        n_rec++;
    }
    info->lines_kept = n_rec;
    offs = malloc((n_rec ? n_rec : 1) * sizeof *offs);
    if (!offs || buf_put(&mem, pf[0].header, pf[0].header_size))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    for (size_t at = 0, i = 0; !st && at < tot; i++) {
        uint32_t l;
        memcpy(&offs[i], recv + at, 8);
        memcpy(&l, recv + at + 8, 4);
        if (buf_put(&mem, recv + at + 12, l) || buf_put(&mem, "\n", 1))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        at += 12 + l;
    }
    free(recv);
    recv = NULL;
    uint64_t key = 0;
    if (!st && map) { /* the mapping's row parser, on every rank (it sets the measures) */
        prefrec_table_ t;
        st = prefrec_table_open_mem_(&t, mem.p, mem.n, f02, err);
        if (!st) {
            st = prefrec_mapping_tx_rows_(map, &t, &L, ds, n_rec, err);
            prefrec_table_close_(&t);
        }
        if (st)
            relocate_error(pf, np, f02, offs, n_rec, err, &key);
        else if (ds->n_rows != n_rec)
            st = prefrec_error_set(err, PREFREC_E_INVAL, "%s: %zu rows from %zu lines", f02,
                                   ds->n_rows, n_rec);
    } else if (!st && n_rec) {
        st = prefrec_pdde_load_mem_(mem.p, mem.n, f02, &L, ds, err);
        if (st)
            relocate_error(pf, np, f02, offs, n_rec, err, &key);
        else if (ds->n_rows != n_rec) /* no row is skipped here: rows are the records */
            st = prefrec_error_set(err, PREFREC_E_INVAL, "%s: %zu rows from %zu lines", f02,
                                   ds->n_rows, n_rec);
    }
    free(mem.p);
    mem.p = NULL;
    info->sec_parse = now() - t2;
    if (!map) ds->has_quantity = ds->has_amount = 1; /* buy_ct, buy_am */
    if ((st = prefrec_dist_agree(d, st, key, err))) goto done;
    int64_t total = (int64_t)n_rec;
    if (prefrec_dist_allreduce_i64(d, &total, 1, PREFREC_DIST_SUM)) {
        st = prefrec_error_set(err, PREFREC_E_IO, "reduction failed");
        goto done;
    }
    if (total == 0) {
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no %s rows (header only)", f02,
                               map ? "transaction" : "purchase");
        goto done;
    }

    /* where customers and affiliates are first seen (rows are still the records here) */
    int32_t nc = prefrec_dict_size(ds->customers), na = prefrec_dict_size(ds->affiliates);
    int32_t n_demo = ds->n_customers_in_demographics;
    info->customer_key = malloc((size_t)(nc ? nc : 1) * sizeof *info->customer_key);
    first_aff = malloc((size_t)(na ? na : 1) * sizeof *first_aff);
    if (!info->customer_key || !first_aff) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    } else {
        for (int32_t c = 0; c < nc; c++)
            info->customer_key[c] = c < n_demo ? (uint64_t)c : UINT64_MAX;
        for (int32_t a = 0; a < na; a++) first_aff[a] = UINT64_MAX;
        for (size_t i = 0; i < ds->n_rows; i++) {
            uint64_t *k = &info->customer_key[ds->customer[i]];
            if (*k == UINT64_MAX) *k = CUSTOMER_KEY_LATE + offs[i];
            if (first_aff[ds->affiliate[i]] == UINT64_MAX) first_aff[ds->affiliate[i]] = offs[i];
        }
    }
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    if ((st = order_affiliates(d, ds, first_aff, err))) goto done;

    /* Lpay (06): each rank marks its own receipts */
    if (f06 && stat(f06, &sb) == 0) st = prefrec_lpoint_lpay_(f06, &L, ds, err);
    if (!st) st = prefrec_dataset_finish_(ds, 0, err);
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    int64_t g[3] = {(int64_t)ds->n_rows, ds->n_rows ? ds->day_min : INT32_MAX,
                    ds->n_rows ? -(int64_t)ds->day_max : INT32_MAX};
    if (prefrec_dist_allreduce_i64(d, g, 1, PREFREC_DIST_SUM) ||
        prefrec_dist_allreduce_i64(d, g + 1, 2, PREFREC_DIST_MIN)) {
        st = prefrec_error_set(err, PREFREC_E_IO, "reduction failed");
        goto done;
    }
    info->rows_total = (uint64_t)g[0];
    info->day_min = g[0] ? (int32_t)g[1] : 0;
    info->day_max = g[0] ? (int32_t)-g[2] : 0;
    prefrec_loader_progress_end_(&L);
done:
    if (st) {
        prefrec_dataset_free(ds);
        prefrec_shard_info_free(info);
    } else {
        *out = ds;
    }
    if (route)
        for (int r = 0; r < nranks; r++) free(route[r].p);
    free(route);
    free(counts);
    free(send);
    free(recv);
    free(mem.p);
    free(offs);
    free(first_aff);
    prefrec_table_close_(&head);
    for (int k = 0; pf && k < np; k++) {
        free(pf[k].header);
        if (pf[k].fd >= 0) close(pf[k].fd);
    }
    free(pf);
    prefrec_parts_free_(&parts);
    free(f01);
    free(f02);
    free(f04);
    free(f06);
    prefrec_dict_free(newp.seen);
    free(newp.out.p);
    prefrec_mapping_free_(map);
    return st;
}
