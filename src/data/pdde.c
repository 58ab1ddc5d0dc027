/* pdde.c - the L.POINT purchase file, LPOINT_BIG_COMP_02_PDDE.csv (see dataset_internal.h).
 *
 * One row per purchase line: ids interned (customer, receipt, affiliate, branch), the product
 * checked against the catalog, date, hour, channel, amount and count parsed and checked.
 *
 * Two threads: the file is cut at the line start nearest its middle. This thread parses the
 * first part exactly as the one-thread load does (same dictionaries, same messages); a helper
 * parses the second part into dictionaries of its own and writes its rows into the columns
 * from row G on, G being the number of line ends in the first part (a bound on its rows). When
 * both are done, the helper's dictionaries are merged in their first-seen order (so every id is
 * the one a single thread gives) and its rows are moved to follow the first part's, ids
 * translated. The helper reports nothing itself: at its first problem (a bad row, invalid
 * UTF-8, a cut that turns out to lie inside a quoted field, no room, no memory) its work is
 * dropped and this thread goes on through the second part alone, so errors, skipped-row counts
 * and their messages are those of a one-thread load, always. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"
#include "prefrec/date.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define F(i) (f[i].p), (f[i].len)

/* ---- small caches -------------------------------------------------------------------------- */

/* s (len <= 16) as two words that, with len, identify it: overlapping loads, no copy (first and
 * last 8 bytes from 8 bytes on, first and last 4 from 4, else bytes 0, len/2 and len-1).
 * Returns -1 when len > 16. */
static inline int key16(const char *s, size_t len, uint64_t *a, uint64_t *b) {
    if (len >= 8) {
        if (len > 16) return -1;
        memcpy(a, s, 8);
        memcpy(b, s + len - 8, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        *a = x;
        *b = y;
    } else {
        const unsigned char *u = (const unsigned char *)s;
        *a = len ? (uint64_t)u[0] | (uint64_t)u[len / 2] << 8 | (uint64_t)u[len - 1] << 16 : 0;
        *b = 0;
    }
    return 0;
}

/* A one-entry cache in front of interning: consecutive purchase lines mostly share the
 * customer, receipt, affiliate, branch and date, so most rows skip the lookup altogether. */
typedef struct {
    uint64_t a, b;
    size_t len;
    int32_t id; /* -1: empty */
} last_;

static inline int last_hit(const last_ *c, const char *s, size_t len, uint64_t *a, uint64_t *b) {
    *a = *b = 0;
    return key16(s, len, a, b) == 0 && c->id >= 0 && c->len == len && c->a == *a && c->b == *b;
}

static inline int32_t last_set(last_ *c, size_t len, uint64_t a, uint64_t b, int32_t id) {
    c->a = a;
    c->b = b;
    c->len = len <= 16 ? len : (size_t)-1;
    c->id = id;
    return id;
}

/* Codes of the small dictionaries (products, affiliates, customers, branches): a table of its
 * own per dictionary mapping codes of up to 16 bytes, held inline as two words, to ids. A probe
 * compares words only, never the dictionary's strings. Entries are never evicted (ids never
 * change once given); the table doubles at half full. */
typedef struct {
    uint64_t a, b;
    uint32_t len; /* 0: empty slot (an empty code is never looked up here) */
    int32_t id;
} code_;

typedef struct {
    code_ *e;
    size_t mask, n;
} codemap_;

static inline size_t code_slot(uint64_t a, uint64_t b, size_t len, size_t mask) {
    return (size_t)(((a ^ (b * 0x9E3779B97F4A7C15ull) ^ len) * 0xbf58476d1ce4e5b9ull) >> 32) & mask;
}

static int codemap_init(codemap_ *m, size_t n) {
    size_t cap = 256;
    while (cap < 2 * n) cap *= 2;
    m->e = calloc(cap, sizeof *m->e);
    m->mask = cap - 1;
    m->n = 0;
    return m->e ? 0 : -1;
}

/* Add (a, b, len) -> id; the key must not be in m yet. 0 ok, -1 no memory. */
static int codemap_add(codemap_ *m, uint64_t a, uint64_t b, size_t len, int32_t id) {
    if (2 * (m->n + 1) > m->mask + 1) {
        codemap_ g;
        if (codemap_init(&g, m->n + 1) != 0) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->e[i].len) {
                size_t j = code_slot(m->e[i].a, m->e[i].b, m->e[i].len, g.mask);
                while (g.e[j].len) j = (j + 1) & g.mask;
                g.e[j] = m->e[i];
            }
        g.n = m->n;
        free(m->e);
        *m = g;
    }
    size_t j = code_slot(a, b, len, m->mask);
    while (m->e[j].len) j = (j + 1) & m->mask;
    m->e[j] = (code_){a, b, (uint32_t)len, id};
    m->n++;
    return 0;
}

/* The id of (a, b, len) or -1. */
static inline int32_t codemap_get(const codemap_ *m, uint64_t a, uint64_t b, size_t len) {
    for (size_t j = code_slot(a, b, len, m->mask);; j = (j + 1) & m->mask) {
        const code_ *e = &m->e[j];
        if (e->len == len && e->a == a && e->b == b) return e->id;
        if (!e->len) return -1;
    }
}

/* The id of s in d, adding it if new (intern) or else -1 (find only; m must then hold every
 * code of d up to 16 bytes). */
static inline int32_t code_id(codemap_ *m, prefrec_dict *d, int intern, const char *s, size_t len) {
    uint64_t a, b;
    if (len == 0 || key16(s, len, &a, &b) != 0)
        return intern ? prefrec_dict_intern(d, s, len) : prefrec_dict_find(d, s, len);
    int32_t id = codemap_get(m, a, b, len);
    if (id >= 0 || !intern) return id;
    id = prefrec_dict_intern(d, s, len);
    if (id >= 0 && codemap_add(m, a, b, len, id) != 0) return -1;
    return id;
}

/* One cached lookup: the last code first, then the code cache. */
static inline int32_t intern_cached(codemap_ *m, prefrec_dict *d, last_ *c, const char *s,
                                    size_t len) {
    uint64_t a, b;
    if (last_hit(c, s, len, &a, &b)) return c->id;
    return last_set(c, len, a, b, code_id(m, d, 1, s, len));
}

/* ---- one row ------------------------------------------------------------------------------- */

typedef struct {
    int cust, rct, ch, cop, br, pd, dt, hr, am, ct;
} pcols_;

/* What parse_row found wrong: the reason (as counted under skip_bad_rows) and the message. */
enum {
    ROW_OK,
    ROW_NOMEM,
    ROW_AFFILIATES,
    ROW_PRODUCT,
    ROW_DATE,
    ROW_HOUR,
    ROW_CHANNEL,
    ROW_AMOUNT,
    ROW_COUNT,
    ROW_EMPTY
};
static const struct {
    const char *why, *fmt;
} bad_rows[] = {
    [ROW_PRODUCT] = {"unknown product code",
                     "unknown product code '%.*s' (not in the catalog 04_PD_CLAC)"},
    [ROW_DATE] = {"bad date", "bad date '%.*s' (expected yyyymmdd)"},
    [ROW_HOUR] = {"bad hour", "bad hour '%.*s' (expected 0-23)"},
    [ROW_CHANNEL] = {"bad channel", "bad channel '%.*s' (expected 1 offline or 2 online)"},
    [ROW_AMOUNT] = {"bad amount", "bad amount '%.*s'"},
    [ROW_COUNT] = {"bad count", "bad count '%.*s'"},
    [ROW_EMPTY] = {"empty id", "empty value%.*s"},
};

/* A row parser: the dictionaries it interns into, the catalog, its caches. */
typedef struct {
    prefrec_dict *aff, *cust, *rct, *br;
    prefrec_dict *products; /* only searched */
    codemap_ cm[4]; /* products (all of them), affiliates, customers, branches */
    last_ lc, la, lb, lr, ld;
    pcols_ c;
} rowp_;

static int rowp_init(rowp_ *p, prefrec_dict *aff, prefrec_dict *cust, prefrec_dict *rct,
                     prefrec_dict *br, prefrec_dict *products, const pcols_ *c) {
    memset(p, 0, sizeof *p);
    p->aff = aff;
    p->cust = cust;
    p->rct = rct;
    p->br = br;
    p->products = products;
    p->c = *c;
    p->lc.id = p->la.id = p->lb.id = p->lr.id = p->ld.id = -1;
    int32_t np = prefrec_dict_size(products);
    if (codemap_init(&p->cm[0], (size_t)np) || codemap_init(&p->cm[1], 16) ||
        codemap_init(&p->cm[2], 1024) || codemap_init(&p->cm[3], 1024))
        return -1;
    for (int32_t i = 0; i < np; i++) { /* the whole catalog: a code not found is not in it */
        uint64_t a, b;
        size_t len = prefrec_dict_len_(products, i);
        if (len && key16(prefrec_dict_str(products, i), len, &a, &b) == 0 &&
            codemap_add(&p->cm[0], a, b, len, i) != 0)
            return -1;
    }
    return 0;
}

static void rowp_free(rowp_ *p) {
    for (int k = 0; k < 4; k++) free(p->cm[k].e);
}

/* Parse the row f into the columns at row n (room there is the caller's). ROW_OK, or what was
 * wrong; *col: the field to blame. Everything is parsed and checked before anything is
 * interned, so a skipped row leaves no trace. */
static int parse_row(rowp_ *p, const prefrec_csv_field *f, prefrec_dataset *ds, size_t n,
                     int *col) {
    const pcols_ *c = &p->c;
    int32_t prod = code_id(&p->cm[0], p->products, 0, F(c->pd));
    if (prod < 0) return *col = c->pd, ROW_PRODUCT;
    int32_t day;
    uint64_t ka, kb;
    if (last_hit(&p->ld, F(c->dt), &ka, &kb))
        day = p->ld.id;
    else if (prefrec_date_parse(F(c->dt), &day) == 0) {
        if (day >= 0) last_set(&p->ld, f[c->dt].len, ka, kb, day);
    } else
        return *col = c->dt, ROW_DATE;
    int64_t hr;
    if (prefrec_parse_int_(F(c->hr), &hr) != 0 || hr < 0 || hr > 23) return *col = c->hr, ROW_HOUR;
    if (f[c->ch].len != 1 || (f[c->ch].p[0] != '1' && f[c->ch].p[0] != '2'))
        return *col = c->ch, ROW_CHANNEL;
    uint8_t ch = f[c->ch].p[0] == '1' ? PREFREC_CHANNEL_OFFLINE : PREFREC_CHANNEL_ONLINE;
    double am, ct;
    if (prefrec_parse_double_(F(c->am), &am) != 0) return *col = c->am, ROW_AMOUNT;
    if (prefrec_parse_double_(F(c->ct), &ct) != 0) return *col = c->ct, ROW_COUNT;
    if (f[c->cust].len == 0 || f[c->cop].len == 0 || f[c->rct].len == 0) {
        *col = f[c->cust].len == 0 ? c->cust : f[c->cop].len == 0 ? c->cop : c->rct;
        return ROW_EMPTY;
    }
    int32_t aff = intern_cached(&p->cm[1], p->aff, &p->la, F(c->cop));
    if (aff > 255) return *col = c->cop, ROW_AFFILIATES;
    int32_t cust = intern_cached(&p->cm[2], p->cust, &p->lc, F(c->cust));
    int32_t rct = last_hit(&p->lr, F(c->rct), &ka, &kb)
        ? p->lr.id
        : last_set(&p->lr, f[c->rct].len, ka, kb, prefrec_dict_intern(p->rct, F(c->rct)));
    int32_t br = f[c->br].len ? intern_cached(&p->cm[3], p->br, &p->lb, F(c->br)) : -1;
    if (aff < 0 || cust < 0 || rct < 0 || (f[c->br].len && br < 0)) return ROW_NOMEM;
    ds->customer[n] = cust;
    ds->product[n] = prod;
    ds->day[n] = day;
    ds->hour[n] = (uint8_t)hr;
    ds->affiliate[n] = (uint8_t)aff;
    ds->receipt[n] = rct;
    ds->quantity[n] = (float)ct;
    ds->amount[n] = am;
    ds->channel[n] = ch;
    ds->lpay[n] = 0;
    ds->branch[n] = br;
    return ROW_OK;
}

/* ---- the helper thread (second part of the file) ------------------------------------------ */

typedef struct {
    const char *path;
    uint64_t cut, size; /* the part: bytes [cut, size) */
    uint64_t first_end; /* where the rows of the first part begin (after the header) */
    size_t ncol, cap; /* fields per row; rows the columns have room for */
    prefrec_dataset *ds; /* columns shared: the helper writes rows base .. base+n-1 only */
    prefrec_dict *dicts[4]; /* its own affiliates, customers, receipts, branches */
    rowp_ p;
    size_t base, n;
    int ok;
    atomic_int stop; /* set by the first part's thread: give up */
} helper_;

/* Line ends (LF and CR) in [from, to) of the file: a bound on the records there. -1 on error or
 * when told to stop. The helper writes only from this row on, so it must be the full count. */
static int64_t count_line_ends(int fd, uint64_t from, uint64_t to, atomic_int *stop) {
    enum { BLOCK = 1 << 20 };
    char *buf = malloc(BLOCK);
    if (!buf) return -1;
    int64_t count = 0;
    for (uint64_t at = from; at < to;) {
        if (atomic_load_explicit(stop, memory_order_relaxed)) { /* a partial count is no bound */
            count = -1;
            break;
        }
        size_t want = to - at < BLOCK ? (size_t)(to - at) : BLOCK;
        ssize_t got = pread(fd, buf, want, (off_t)at);
        if (got <= 0) {
            count = -1;
            break;
        }
        size_t i = 0;
#ifdef __SSE2__
        const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
        for (; i + 16 <= (size_t)got; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(buf + i));
            count += __builtin_popcount((unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(x, vn), _mm_cmpeq_epi8(x, vr))));
        }
#endif
        for (; i < (size_t)got; i++) count += buf[i] == '\n' || buf[i] == '\r';
        at += (uint64_t)got;
    }
    free(buf);
    return count;
}

static void *helper_main(void *arg) {
    helper_ *h = arg;
    int fd = open(h->path, O_RDONLY);
    int64_t bound = fd < 0 ? -1 : count_line_ends(fd, h->first_end, h->cut, &h->stop);
    if (fd >= 0) close(fd);
    if (bound < 0 || (uint64_t)bound >= h->cap) return NULL;
    h->base = (size_t)bound;
    prefrec_csv *csv = NULL;
    prefrec_error err;
    if (prefrec_csv_open_range(h->path, NULL, h->cut, h->size - h->cut, &csv, &err)) return NULL;
    int r, col;
    while ((r = prefrec_csv_next(csv, &err)) == 1) {
        if (h->base + h->n == h->cap || prefrec_csv_nfields(csv) != h->ncol) break;
        if (parse_row(&h->p, prefrec_csv_fields(csv), h->ds, h->base + h->n, &col) != ROW_OK) break;
        h->n++;
        if ((h->n & 0xFFFF) == 0 && atomic_load_explicit(&h->stop, memory_order_relaxed)) break;
    }
    h->ok = r == 0 && !atomic_load(&h->stop);
    prefrec_csv_close(csv);
    return NULL;
}

static void helper_free(helper_ *h) {
    for (int i = 0; i < 4; i++) prefrec_dict_free(h->dicts[i]);
    rowp_free(&h->p);
}

/* Start the helper on the part of the file after the line start nearest to the middle of the
 * rows. 1 started, 0 not (too small a file, no line break, no memory, no thread). */
static int helper_start(helper_ *h, pthread_t *th, const char *path, uint64_t first_end,
                        uint64_t size, size_t ncol, size_t cap, prefrec_dataset *ds,
                        const pcols_ *c) {
    memset(h, 0, sizeof *h);
    if (size <= first_end + 2) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    uint64_t mid = first_end + (size - first_end) / 2, cut = 0;
    char buf[4096];
    for (uint64_t at = mid; !cut && at < size;) {
        ssize_t got = pread(fd, buf, sizeof buf, (off_t)at);
        if (got <= 0) break;
        const char *nl = memchr(buf, '\n', (size_t)got);
        if (nl) cut = at + (uint64_t)(nl - buf) + 1;
        at += (uint64_t)got;
    }
    close(fd);
    if (!cut || cut >= size) return 0;
    h->path = path;
    h->cut = cut;
    h->size = size;
    h->first_end = first_end;
    h->ncol = ncol;
    h->cap = cap;
    h->ds = ds;
    atomic_init(&h->stop, 0);
    for (int i = 0; i < 4; i++)
        if (!(h->dicts[i] = prefrec_dict_new())) goto fail;
    if (prefrec_dict_use_keymap_(h->dicts[2]) != 0 ||
        prefrec_dict_reserve_ids_(h->dicts[2], cap / 5) != 0 ||
        rowp_init(&h->p, h->dicts[0], h->dicts[1], h->dicts[2], h->dicts[3], ds->products, c))
        goto fail;
    if (pthread_create(th, NULL, helper_main, h) == 0) return 1;
fail:
    helper_free(h);
    memset(h, 0, sizeof *h);
    return 0;
}

/* Stop (stop = 1) or wait for the helper; its result stands only if h->ok. */
static void helper_join(helper_ *h, pthread_t th, int stop) {
    if (stop) atomic_store(&h->stop, 1);
    pthread_join(th, NULL);
    if (stop) h->ok = 0;
}

/* Fold the helper's rows in after the n1 rows of the first part. 1 done, 0 not possible (more
 * than 256 affiliates: the first part's thread goes on alone and reports it), -1 no memory. */
static int helper_merge(helper_ *h, prefrec_dataset *ds, size_t n1) {
    prefrec_dict *global[4] = {ds->affiliates, ds->customers, ds->receipts, ds->branches};
    int32_t *map[4] = {0};
    int res = -1;
    int32_t new_aff = 0;
    for (int32_t i = 0; i < prefrec_dict_size(h->dicts[0]); i++)
        new_aff += prefrec_dict_find(ds->affiliates, prefrec_dict_str(h->dicts[0], i),
                                     prefrec_dict_len_(h->dicts[0], i)) < 0;
    if (prefrec_dict_size(ds->affiliates) + new_aff > 256) return 0;
    for (int k = 0; k < 4; k++) {
        int32_t m = prefrec_dict_size(h->dicts[k]);
        map[k] = malloc((m ? (size_t)m : 1) * sizeof *map[k]);
        if (!map[k]) goto out;
        for (int32_t i = 0; i < m; i++) { /* in the helper's first-seen order */
            map[k][i] = prefrec_dict_intern(global[k], prefrec_dict_str(h->dicts[k], i),
                                            prefrec_dict_len_(h->dicts[k], i));
            if (map[k][i] < 0) goto out;
        }
    }
    const size_t from = h->base, n = h->n;
    if (n1 != from) { /* rows the bound counted that were not rows (skipped, blank, CRLF) */
        memmove(ds->product + n1, ds->product + from, n * sizeof *ds->product);
        memmove(ds->day + n1, ds->day + from, n * sizeof *ds->day);
        memmove(ds->hour + n1, ds->hour + from, n * sizeof *ds->hour);
        memmove(ds->quantity + n1, ds->quantity + from, n * sizeof *ds->quantity);
        memmove(ds->amount + n1, ds->amount + from, n * sizeof *ds->amount);
        memmove(ds->channel + n1, ds->channel + from, n * sizeof *ds->channel);
        memmove(ds->lpay + n1, ds->lpay + from, n * sizeof *ds->lpay);
    }
    /* n1 <= from: moving down row by row never overwrites a row not yet moved */
    for (size_t i = 0; i < n; i++) ds->affiliate[n1 + i] = (uint8_t)map[0][ds->affiliate[from + i]];
    for (size_t i = 0; i < n; i++) ds->customer[n1 + i] = map[1][ds->customer[from + i]];
    for (size_t i = 0; i < n; i++) ds->receipt[n1 + i] = map[2][ds->receipt[from + i]];
    for (size_t i = 0; i < n; i++) {
        int32_t b = ds->branch[from + i];
        ds->branch[n1 + i] = b < 0 ? -1 : map[3][b];
    }
    res = 1;
out:
    for (int k = 0; k < 4; k++) free(map[k]);
    return res;
}

/* ---- the load ------------------------------------------------------------------------------ */

static int use_threads(const prefrec_load_params *lp, uint64_t size) {
    if (lp->threads == 1) return 0;
    if (lp->threads >= 2) return 1;
    /* automatic: a second thread pays only with a CPU to spare; on a machine already busy it
     * mostly adds work (measured on a shared 2-CPU VM: slower than one thread) */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double load[1];
    if (cpus < 2 || size < ((uint64_t)8 << 20)) return 0;
    return getloadavg(load, 1) == 1 && load[0] <= (double)cpus - 1.5;
}

static prefrec_status pdde_read(prefrec_table_ *tp, const char *path, uint64_t bytes,
                                const prefrec_parts_ *parts, prefrec_loader_ *L,
                                prefrec_dataset *ds, prefrec_error *err);

prefrec_status prefrec_pdde_load_(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                  prefrec_error *err) {
    prefrec_parts_ parts;
    prefrec_status st = prefrec_parts_open_(&parts, path, err);
    if (st) return st;
    prefrec_table_ t;
    st = prefrec_table_open_(&t, parts.path[0], err);
    if (!st) st = pdde_read(&t, parts.dir ? path : parts.path[0], parts.total, &parts, L, ds, err);
    prefrec_parts_free_(&parts);
    return st;
}

prefrec_status prefrec_pdde_load_mem_(const char *buf, size_t len, const char *name,
                                      prefrec_loader_ *L, prefrec_dataset *ds, prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_mem_(&t, buf, len, name, err);
    if (st) return st;
    return pdde_read(&t, NULL, (uint64_t)len, NULL, L, ds, err);
}

/* The rows of the open table *tp (closed here); path: the file, for the helper thread (NULL:
 * one thread), or the part directory; parts (NULL: memory input): *tp is parts->path[0], the
 * others are read after it, in order, one thread. */
static prefrec_status pdde_read(prefrec_table_ *tp, const char *path, uint64_t bytes,
                                const prefrec_parts_ *parts, prefrec_loader_ *L,
                                prefrec_dataset *ds, prefrec_error *err) {
    prefrec_table_ t = *tp, first;
    memset(&first, 0, sizeof first);
    int part = 0;
    uint64_t rows_before = 0; /* rows of the parts before this one */
    rowp_ p = {0};
    helper_ h;
    memset(&h, 0, sizeof h);
    pthread_t th;
    int helping = 0;
    prefrec_status st = PREFREC_OK;
    const int may_thread = path != NULL && parts && !parts->dir;
    if (!path) path = t.path;
    pcols_ c;
    if ((st = prefrec_table_require_(&t, "cust", "customer id", &c.cust, err)) ||
        (st = prefrec_table_require_(&t, "rct_no", "receipt", &c.rct, err)) ||
        (st = prefrec_table_require_(&t, "chnl_dv", "channel", &c.ch, err)) ||
        (st = prefrec_table_require_(&t, "cop_c", "affiliate", &c.cop, err)) ||
        (st = prefrec_table_require_(&t, "br_c", "branch", &c.br, err)) ||
        (st = prefrec_table_require_(&t, "pd_c", "product code", &c.pd, err)) ||
        (st = prefrec_table_require_(&t, "de_dt", "date", &c.dt, err)) ||
        (st = prefrec_table_require_(&t, "de_hr", "hour", &c.hr, err)) ||
        (st = prefrec_table_require_(&t, "buy_am", "amount", &c.am, err)) ||
        (st = prefrec_table_require_(&t, "buy_ct", "count", &c.ct, err)))
        goto done;
    size_t cap = (size_t)(bytes / 40) + 1024; /* rows are about 64 bytes: room without a realloc */
    /* receipts: a few rows each (about 3.4 in L.POINT); room for a row in 2.5 */
    if (prefrec_dataset_grow_(ds, cap) != 0 || prefrec_dict_reserve_ids_(ds->receipts, cap / 5 * 2))
        goto nomem;
    /* receipt numbers: the numbered-key index (dict.c) */
    if (prefrec_dict_use_keymap_(ds->receipts) != 0 ||
        rowp_init(&p, ds->affiliates, ds->customers, ds->receipts, ds->branches, ds->products, &c))
        goto nomem;
    size_t n = ds->n_rows;
    uint64_t cut = 0;
    L->parts = 1;
    if (n == 0 && may_thread && use_threads(L->params, bytes)) {
        helping = helper_start(&h, &th, path, prefrec_csv_bytes(t.csv), bytes, t.ncol, cap, ds, &c);
        if (helping) cut = h.cut;
    }
    int r, col;
next_part:
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        uint64_t at = prefrec_csv_bytes(t.csv); /* where this row ends */
        if (helping && at > cut) { /* the cut was inside a record: go on alone */
            helper_join(&h, th, 1);
            helping = 0;
        }
        if (n == cap) { /* never while the helper runs: the first part has at most G rows */
            cap *= 2;
            if (prefrec_dataset_grow_(ds, cap) != 0) goto nomem;
        }
        int k = parse_row(&p, prefrec_csv_fields(t.csv), ds, n, &col);
        if (k == ROW_OK) {
            ds->n_rows = ++n;
        } else if (k == ROW_NOMEM) {
            goto nomem;
        } else if (k == ROW_AFFILIATES) {
            st = prefrec_csv_errorf(t.csv, (size_t)col, err, PREFREC_E_RANGE,
                                    "more than 256 affiliates (cop_c)");
            goto done;
        } else {
            const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
            int empty = k == ROW_EMPTY;
            if ((st = prefrec_table_bad_value_(&t, L, (size_t)col, bad_rows[k].why, err,
                                               bad_rows[k].fmt, empty ? "" : f[col].p,
                                               empty ? 0 : f[col].len)))
                goto done;
        }
        if (helping && at == cut) { /* the first part is done */
            helper_join(&h, th, 0);
            helping = 0;
            int m = h.ok ? helper_merge(&h, ds, n) : 0;
            if (m < 0) goto nomem;
            if (m == 1) {
                n += h.n;
                ds->n_rows = n;
                t.rows += h.n;
                L->rows_read += h.n;
                L->parts = 2;
                break; /* the helper read the rest */
            }
        }
    }
    if (helping) { /* the end came before the cut (all rows from there on were skipped) */
        helper_join(&h, th, 1);
        helping = 0;
    }
    if (r == 0 && parts && part + 1 < parts->n) { /* the next part: the same table goes on */
        rows_before += t.rows;
        if (part == 0) {
            first = t; /* its header, to compare the others' with */
            prefrec_csv_close(first.csv);
            first.csv = NULL;
        } else {
            prefrec_table_close_(&t);
        }
        memset(&t, 0, sizeof t);
        if ((st = prefrec_table_open_(&t, parts->path[++part], err)) ||
            (st = prefrec_parts_same_header_(&first, &t, err)))
            goto done;
        goto next_part;
    }
    if (r < 0)
        st = (prefrec_status)r;
    else if (rows_before + t.rows == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no purchase rows (header only)", path);
    if (!st && prefrec_dataset_grow_(ds, n) != 0) goto nomem; /* give back the spare rows */
done:
    if (helping) helper_join(&h, th, 1);
    if (h.path) helper_free(&h);
    rowp_free(&p);
    if (part > 0) prefrec_table_close_(&first);
    prefrec_table_close_(&t);
    return st;
nomem:
    st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    goto done;
}
