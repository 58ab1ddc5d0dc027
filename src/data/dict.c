/* dict.c - the string <-> dense index dictionary (prefrec/native/dataset.h) and the loaders' bulk
 * interface (dataset_internal.h): strings appended without indexing while a file loads, then
 * indexed in one pass; and its second index for numbered keys (receipts), at the end. The two
 * indexes live in one file because each calls the other: the keymap appends new keys to its
 * dictionary and keeps a plain dictionary for the keys it does not page. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dataset_internal.h"
#include "prefrec/native/dataset.h"

/* the numbered-key index (below) */
static prefrec_keymap_ *prefrec_keymap_new_(prefrec_dict *dict);
static void prefrec_keymap_free_(prefrec_keymap_ *m);
static int32_t prefrec_keymap_intern_(prefrec_keymap_ *m, const char *s, size_t len);
static int32_t prefrec_keymap_find_(const prefrec_keymap_ *m, const char *s, size_t len);

/* ---- dictionary ----------------------------------------------------------------------------
 * Open addressing with linear probing. A slot holds (high 32 bits of the hash << 32 | id + 1),
 * so most probes that miss are rejected without touching the string. Strings live NUL-
 * terminated in chunked arenas that never move, so prefrec_dict_str pointers stay valid. */

#define DICT_CHUNK (256u * 1024u)

typedef struct dict_chunk {
    struct dict_chunk *next;
    size_t used, cap;
    char data[];
} dict_chunk;

struct prefrec_dict {
    uint64_t *slots; /* cap_slots entries, 0 = empty */
    size_t mask; /* cap_slots - 1 (power of two) */
    const char **strs; /* by id */
    uint32_t *lens; /* by id */
    int32_t n, cap_ids;
    int32_t n_indexed; /* ids 0 .. n_indexed-1 are in slots; the rest were appended by
                             prefrec_dict_append_ and wait for prefrec_dict_index_ */
    dict_chunk *chunks; /* newest first */
    prefrec_keymap_ *km; /* set: numbered keys, the keymap is the index (slots unused) */
};

/* A small multiply-xorshift hash over 8-byte words: ids such as "M000034966" or "PD0001" are
 * short, so one or two rounds and a final avalanche suffice. */
static uint64_t dict_hash(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = 0;
        memcpy(&v, s, n);
        h = (h ^ v) * 0x94d049bb133111ebull;
        h ^= h >> 31;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

#define BIG ((size_t)4 << 20)

/* Memory of a few MiB and more is asked for in transparent huge pages: a purchase file brings
 * a million receipts, and with 4 KiB pages nearly every probe is also a TLB miss and every 4 KiB
 * of new memory a page fault. Only a hint: errors are ignored. */
static void huge_hint(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (bytes >= ((size_t)2 << 20) && e > a) madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* Zeroed slot tables: big ones straight from mmap (the kernel's zero pages, no second clear). */
static uint64_t *slots_alloc(size_t n) {
    size_t bytes = n * sizeof(uint64_t);
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (bytes >= BIG) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
        madvise(p, bytes, MADV_HUGEPAGE);
        return p;
    }
#endif
    return calloc(n, sizeof(uint64_t));
}

static void slots_free(uint64_t *p, size_t n) {
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    if (p && n * sizeof(uint64_t) >= BIG) {
        munmap(p, n * sizeof(uint64_t));
        return;
    }
#endif
    free(p);
}

prefrec_dict *prefrec_dict_new(void) {
    prefrec_dict *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->mask = 63;
    d->slots = calloc(64, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    return d;
}

void prefrec_dict_free(prefrec_dict *d) {
    if (!d) return;
    dict_chunk *c = d->chunks;
    while (c) {
        dict_chunk *next = c->next;
        free(c);
        c = next;
    }
    slots_free(d->slots, d->mask + 1);
    free(d->strs);
    free(d->lens);
    prefrec_keymap_free_(d->km);
    free(d);
}

int prefrec_dict_use_keymap_(prefrec_dict *d) {
    if (d->n != 0 || d->km) return -1;
    d->km = prefrec_keymap_new_(d);
    return d->km ? 0 : -1;
}

/* The slot index comes from the tag bits (the hash's high half), so growing the table moves
 * entries without touching their strings. */
static int dict_rehash_to(prefrec_dict *d, size_t cap) {
    uint64_t *slots = slots_alloc(cap);
    if (!slots) return -1;
    for (size_t i = 0; i <= d->mask; i++) {
        uint64_t e = d->slots[i];
        if (!e) continue;
        size_t j = (size_t)(e >> 32) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    slots_free(d->slots, d->mask + 1);
    d->slots = slots;
    d->mask = cap - 1;
    return 0;
}

static int dict_rehash(prefrec_dict *d) { return dict_rehash_to(d, (d->mask + 1) * 2); }

static char *dict_store(prefrec_dict *d, const char *s, size_t len) {
    dict_chunk *c = d->chunks;
    if (!c || c->cap - c->used < len + 1) {
        /* chunks double with the total (up to 64 MiB), so a big dictionary has few */
        size_t cap = c ? c->cap * 2 : DICT_CHUNK;
        if (cap > ((size_t)64 << 20)) cap = (size_t)64 << 20;
        if (cap < len + 1) cap = len + 1;
        c = NULL;
        if (sizeof *c + cap >= ((size_t)2 << 20)) { /* aligned: huge pages from the first byte */
            if (posix_memalign((void **)&c, (size_t)2 << 20, sizeof *c + cap) != 0) c = NULL;
            if (c) huge_hint(c, sizeof *c + cap);
        } else {
            c = malloc(sizeof *c + cap);
        }
        if (!c) return NULL;
        c->next = d->chunks;
        c->used = 0;
        c->cap = cap;
        d->chunks = c;
    }
    char *p = c->data + c->used;
    if (len <= 16 && c->cap - c->used >= 17) { /* ids are short: two fixed-size copies */
        uint64_t a = 0, b = 0;
        if (len >= 8) {
            memcpy(&a, s, 8);
            memcpy(&b, s + len - 8, 8);
            memcpy(p, &a, 8);
            memcpy(p + len - 8, &b, 8);
        } else {
            memcpy(p, s, len);
        }
    } else {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

int prefrec_dict_reserve_(prefrec_dict *d, size_t n) {
    size_t cap = d->mask + 1;
    while (cap / 2 < n) cap *= 2;
    return cap == d->mask + 1 ? 0 : dict_rehash_to(d, cap);
}

static int ids_reserve(prefrec_dict *d, int32_t cap) {
    const char **strs = realloc(d->strs, (size_t)cap * sizeof *strs);
    if (!strs) return -1;
    d->strs = strs;
    uint32_t *lens = realloc(d->lens, (size_t)cap * sizeof *lens);
    if (!lens) return -1;
    d->lens = lens;
    d->cap_ids = cap;
    huge_hint(strs, (size_t)cap * sizeof *strs);
    huge_hint(lens, (size_t)cap * sizeof *lens);
    return 0;
}

/* Room for one more id. 0 ok, -1 no memory or full. */
static int ids_room(prefrec_dict *d) {
    if (d->n == INT32_MAX - 1) return -1;
    if (d->n < d->cap_ids) return 0;
    return ids_reserve(
        d, d->cap_ids ? (d->cap_ids > INT32_MAX / 2 ? INT32_MAX - 1 : d->cap_ids * 2) : 64);
}

int prefrec_dict_reserve_ids_(prefrec_dict *d, size_t n) {
    if (n >= INT32_MAX) n = INT32_MAX - 1;
    return (int32_t)n <= d->cap_ids ? 0 : ids_reserve(d, (int32_t)n);
}

int32_t prefrec_dict_append_(prefrec_dict *d, const char *s, size_t len) {
    if (len > UINT32_MAX || ids_room(d) != 0) return -1;
    char *copy = dict_store(d, s, len);
    if (!copy) return -1;
    int32_t id = d->n++;
    d->strs[id] = copy;
    d->lens[id] = (uint32_t)len;
    return id;
}

/* Appended ids go into the table in batches: hashes first and their slots prefetched, then the
 * inserts, so the cache misses of a batch overlap. Appended strings are distinct, so an insert
 * only looks for a free slot. */
int prefrec_dict_index_(prefrec_dict *d) {
    if (d->n_indexed == d->n || d->km) return 0;
    if (prefrec_dict_reserve_(d, (size_t)d->n) != 0) return -1;
    enum { B = 16 };
    uint64_t h[B];
    for (int32_t i0 = d->n_indexed; i0 < d->n; i0 += B) {
        int32_t nb = d->n - i0 < B ? d->n - i0 : B;
        for (int32_t j = 0; j < nb; j++) {
            h[j] = dict_hash(d->strs[i0 + j], d->lens[i0 + j]);
            __builtin_prefetch(&d->slots[(size_t)(h[j] >> 32) & d->mask], 1);
        }
        for (int32_t j = 0; j < nb; j++) {
            size_t i = (size_t)(h[j] >> 32) & d->mask;
            while (d->slots[i]) i = (i + 1) & d->mask;
            d->slots[i] = (h[j] & 0xffffffff00000000ull) | (uint64_t)(uint32_t)(i0 + j + 1);
        }
    }
    d->n_indexed = d->n;
    return 0;
}

int32_t prefrec_dict_intern(prefrec_dict *d, const char *s, size_t len) {
    if (d->km) return prefrec_keymap_intern_(d->km, s, len);
    if (len > UINT32_MAX || d->mask >= UINT32_MAX) return -1;
    if (d->n_indexed != d->n && prefrec_dict_index_(d) != 0) return -1;
    uint64_t h = dict_hash(s, len);
    uint64_t tag = h & 0xffffffff00000000ull;
    size_t i = (size_t)(h >> 32) & d->mask;
    for (;;) {
        uint64_t e = d->slots[i];
        if (!e) break;
        if ((e & 0xffffffff00000000ull) == tag) {
            uint32_t id = (uint32_t)e - 1;
            if (d->lens[id] == len && memcmp(d->strs[id], s, len) == 0) return (int32_t)id;
        }
        i = (i + 1) & d->mask;
    }
    int32_t id = prefrec_dict_append_(d, s, len);
    if (id < 0) return -1;
    d->n_indexed = d->n;
    d->slots[i] = tag | (uint64_t)(uint32_t)(id + 1);
    /* keep the load factor at most 1/2 */
    if ((size_t)d->n * 2 > d->mask + 1 && dict_rehash(d) != 0) return -1;
    return id;
}

int32_t prefrec_dict_find(const prefrec_dict *d, const char *s, size_t len) {
    if (d->km) return prefrec_keymap_find_(d->km, s, len);
    uint64_t h = dict_hash(s, len);
    uint64_t tag = h & 0xffffffff00000000ull;
    size_t i = (size_t)(h >> 32) & d->mask;
    for (;;) {
        uint64_t e = d->slots[i];
        if (!e) break;
        if ((e & 0xffffffff00000000ull) == tag) {
            uint32_t id = (uint32_t)e - 1;
            if (d->lens[id] == len && memcmp(d->strs[id], s, len) == 0) return (int32_t)id;
        }
        i = (i + 1) & d->mask;
    }
    /* ids appended and not indexed yet (only while a loader builds the dictionary) */
    for (int32_t id = d->n_indexed; id < d->n; id++)
        if (d->lens[id] == len && memcmp(d->strs[id], s, len) == 0) return id;
    return -1;
}

const char *prefrec_dict_str(const prefrec_dict *d, int32_t i) {
    if (!d || i < 0 || i >= d->n) return NULL;
    return d->strs[i];
}

size_t prefrec_dict_len_(const prefrec_dict *d, int32_t i) { return d->lens[i]; }

int32_t prefrec_dict_size(const prefrec_dict *d) { return d ? d->n : 0; }

/* ---- numbered keys: the index of a dictionary of receipt-like keys (dataset_internal.h) -------
 *
 * Why: a purchase file brings a million and more receipts. Interning each new one in a hash
 * table far bigger than the caches costs a memory miss per receipt, the largest single cost of a
 * load once the CSV reader is fast (and the table, a few times the keys in 8-byte slots, is the
 * biggest memory of the dictionary). Receipt numbers are an affiliate prefix and a running number
 * ("A03000000001"), so a key splits into (prefix, digit count, number) and the number indexes a
 * page of 4096 ids directly; consecutive receipts of an affiliate land in the same page, which
 * stays in cache. The split is a bijection (the digits are zero-padded to their count), so two
 * strings share an entry only if they are equal.
 *
 * Memory budget: pages are made while they are on average at least 1/16 full (or while there
 * are fewer than 16). Past that, the map stops making pages for good and further keys without a
 * page go through a plain dictionary ("other"), as do keys that do not have the numbered form.
 * Either way a key's route is fixed once it is first seen, so lookups stay consistent. */

#define PAGE_BITS 12
#define PAGE_SIZE ((size_t)1 << PAGE_BITS)
#define MAX_PREFIX 16
#define MAX_DIGITS 18
#define MAX_PREFIXES 64
#define SMALL_PAGES_ 32

typedef struct {
    char s[MAX_PREFIX];
    size_t len, ndig;
    uint64_t last_page; /* cache: the page used last under this prefix */
    int32_t *last;
} kprefix;

struct prefrec_keymap_ {
    prefrec_dict *dict; /* the owner: gets every new key, in first-seen order */
    kprefix pre[MAX_PREFIXES];
    int npre, last_pre;
    uint64_t *pkeys; /* page table: (prefix << 50 | page number) + 1, 0 = empty */
    int32_t **pages; /* entries: id + 1, 0 = not seen */
    size_t pmask, npages, entries;
    int closed; /* the budget ran out: no new pages */
    int32_t *small[SMALL_PAGES_]; /* the first pages, calloc'd one by one */
    void **slabs; /* later pages: cut from 2 MiB slabs */
    size_t nsmall, nslabs, slab_used;
    prefrec_dict *other; /* keys routed around the pages, local ids */
    int32_t *other_gid; /* local id -> id in dict */
    size_t other_cap;
};

static prefrec_keymap_ *prefrec_keymap_new_(prefrec_dict *dict) {
    if (!dict || prefrec_dict_size(dict) != 0) return NULL;
    prefrec_keymap_ *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->dict = dict;
    m->pmask = 255;
    m->pkeys = calloc(m->pmask + 1, sizeof *m->pkeys);
    m->pages = calloc(m->pmask + 1, sizeof *m->pages);
    m->other = prefrec_dict_new();
    if (!m->pkeys || !m->pages || !m->other) {
        prefrec_keymap_free_(m);
        return NULL;
    }
    return m;
}

/* Pages: the first few from calloc (small dictionaries stay small), then cut from zeroed
 * 2 MiB-aligned slabs in huge pages: one page fault per 128 pages instead of 4 per page. */
#define SMALL_PAGES SMALL_PAGES_
#define SLAB_BYTES ((size_t)2 << 20)
#define SLAB_PAGES (SLAB_BYTES / (PAGE_SIZE * sizeof(int32_t)))

static void *slab_new(void) {
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    char *p =
        mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *a = (char *)(((uintptr_t)p + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1));
    if (a > p) munmap(p, (size_t)(a - p));
    if (a + SLAB_BYTES < p + 2 * SLAB_BYTES)
        munmap(a + SLAB_BYTES, (size_t)(p + 2 * SLAB_BYTES - (a + SLAB_BYTES)));
    madvise(a, SLAB_BYTES, MADV_HUGEPAGE);
    return a;
#else
    return calloc(1, SLAB_BYTES);
#endif
}

static void slab_free(void *p) {
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    munmap(p, SLAB_BYTES);
#else
    free(p);
#endif
}

static int32_t *page_new(prefrec_keymap_ *m) {
    if (m->nsmall < SMALL_PAGES) {
        int32_t *pg = calloc(PAGE_SIZE, sizeof(int32_t));
        if (pg) m->small[m->nsmall++] = pg;
        return pg;
    }
    if (!m->nslabs || m->slab_used == SLAB_PAGES) {
        void **sl = realloc(m->slabs, (m->nslabs + 1) * sizeof *sl);
        if (!sl) return NULL;
        m->slabs = sl;
        if (!(sl[m->nslabs] = slab_new())) return NULL;
        m->nslabs++;
        m->slab_used = 0;
    }
    return (int32_t *)m->slabs[m->nslabs - 1] + PAGE_SIZE * m->slab_used++;
}

static void prefrec_keymap_free_(prefrec_keymap_ *m) {
    if (!m) return;
    for (size_t k = 0; k < m->nsmall; k++) free(m->small[k]);
    for (size_t k = 0; k < m->nslabs; k++) slab_free(m->slabs[k]);
    free(m->slabs);
    free(m->pkeys);
    free(m->pages);
    prefrec_dict_free(m->other);
    free(m->other_gid);
    free(m);
}

static size_t pslot(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static int ptable_grow(prefrec_keymap_ *m) {
    size_t cap = (m->pmask + 1) * 2;
    uint64_t *keys = calloc(cap, sizeof *keys);
    int32_t **pages = calloc(cap, sizeof *pages);
    if (!keys || !pages) {
        free(keys);
        free(pages);
        return -1;
    }
    for (size_t i = 0; i <= m->pmask; i++) {
        if (!m->pkeys[i]) continue;
        size_t j = pslot(m->pkeys[i], cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->pkeys[i];
        pages[j] = m->pages[i];
    }
    free(m->pkeys);
    free(m->pages);
    m->pkeys = keys;
    m->pages = pages;
    m->pmask = cap - 1;
    return 0;
}

/* The page for (prefix k, page number pg), made if missing and the budget allows. NULL with
 * *nomem = 0: no page (route the key elsewhere). */
static int32_t *page_get(prefrec_keymap_ *m, int k, uint64_t pg, int *nomem) {
    uint64_t key = ((uint64_t)k << 50 | pg) + 1;
    size_t i = pslot(key, m->pmask);
    while (m->pkeys[i]) {
        if (m->pkeys[i] == key) return m->pages[i];
        i = (i + 1) & m->pmask;
    }
    if (m->closed) return NULL;
    if (m->npages >= 16 && m->npages * PAGE_SIZE > 16 * m->entries) {
        m->closed = 1;
        return NULL;
    }
    int32_t *page = page_new(m);
    if (!page) {
        *nomem = 1;
        return NULL;
    }
    m->pkeys[i] = key;
    m->pages[i] = page;
    m->npages++;
    if (m->npages * 2 > m->pmask + 1 && ptable_grow(m) != 0) {
        *nomem = 1; /* the page is in the table (and freed with it) */
        return NULL;
    }
    return page;
}

static int32_t intern_other(prefrec_keymap_ *m, const char *s, size_t len) {
    int32_t n0 = prefrec_dict_size(m->other);
    int32_t lid = prefrec_dict_intern(m->other, s, len);
    if (lid < 0) return -1;
    if (lid < n0) return m->other_gid[lid];
    if ((size_t)lid >= m->other_cap) {
        size_t cap = m->other_cap ? m->other_cap * 2 : 1024;
        int32_t *g = realloc(m->other_gid, cap * sizeof *g);
        if (!g) return -1;
        m->other_gid = g;
        m->other_cap = cap;
    }
    int32_t id = prefrec_dict_append_(m->dict, s, len);
    m->other_gid[lid] = id;
    return id;
}

/* Index of the prefix (s, len) with ndig digits after it, or -1. */
static int prefix_find(const prefrec_keymap_ *m, const char *s, size_t len, size_t ndig) {
    for (int k = 0; k < m->npre; k++) {
        const kprefix *p = &m->pre[k];
        if (p->len == len && p->ndig == ndig && memcmp(p->s, s, len) == 0) return k;
    }
    return -1;
}

/* Index of the prefix (s, len) with ndig digits after it, added if new; -1 if the table is full. */
static int prefix_id(prefrec_keymap_ *m, const char *s, size_t len, size_t ndig) {
    kprefix *p = &m->pre[m->last_pre];
    if (m->npre && p->len == len && p->ndig == ndig && memcmp(p->s, s, len) == 0)
        return m->last_pre;
    int k = prefix_find(m, s, len, ndig);
    if (k >= 0) return m->last_pre = k;
    if (m->npre == MAX_PREFIXES) return -1;
    p = &m->pre[m->npre];
    memcpy(p->s, s, len);
    p->len = len;
    p->ndig = ndig;
    p->last = NULL;
    return m->last_pre = m->npre++;
}

/* The number of digits at the end of s (at most MAX_DIGITS) and their value. */
static size_t split(const char *s, size_t len, uint64_t *num) {
    size_t nd = 0;
    while (nd < len && nd < MAX_DIGITS && (unsigned)(s[len - 1 - nd] - '0') <= 9u) nd++;
    uint64_t v = 0;
    for (size_t i = len - nd; i < len; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    *num = v;
    return nd;
}

/* A key's route: a page entry (its page exists, made when the key was first seen) or else the
 * other dictionary. Const: no caches touched, so finds may run in several threads. */
static int32_t prefrec_keymap_find_(const prefrec_keymap_ *m, const char *s, size_t len) {
    uint64_t num;
    size_t nd = split(s, len, &num), plen = len - nd;
    int k = nd && plen <= MAX_PREFIX ? prefix_find(m, s, plen, nd) : -1;
    if (k >= 0) {
        uint64_t key = ((uint64_t)k << 50 | num >> PAGE_BITS) + 1;
        for (size_t i = pslot(key, m->pmask); m->pkeys[i]; i = (i + 1) & m->pmask)
            if (m->pkeys[i] == key) return m->pages[i][num & (PAGE_SIZE - 1)] - 1;
    }
    int32_t lid = prefrec_dict_find(m->other, s, len);
    return lid < 0 ? -1 : m->other_gid[lid];
}

static int32_t prefrec_keymap_intern_(prefrec_keymap_ *m, const char *s, size_t len) {
    uint64_t num;
    size_t nd = split(s, len, &num), plen = len - nd;
    if (nd == 0 || plen > MAX_PREFIX) return intern_other(m, s, len);
    int k = prefix_id(m, s, plen, nd);
    if (k < 0) return intern_other(m, s, len);
    kprefix *p = &m->pre[k];
    uint64_t pg = num >> PAGE_BITS;
    int32_t *page = p->last;
    if (!page || p->last_page != pg) {
        int nomem = 0;
        page = page_get(m, k, pg, &nomem);
        if (!page) return nomem ? -1 : intern_other(m, s, len);
        p->last = page;
        p->last_page = pg;
    }
    int32_t *e = &page[num & (PAGE_SIZE - 1)];
    if (*e) return *e - 1;
    int32_t id = prefrec_dict_append_(m->dict, s, len);
    if (id < 0) return -1;
    *e = id + 1;
    m->entries++;
    return id;
}
