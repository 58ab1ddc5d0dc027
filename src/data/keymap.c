/* keymap.c - the index of a dictionary of numbered keys (see dataset_internal.h).
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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dataset_internal.h"

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
    prefrec_dict *dict;      /* the owner: gets every new key, in first-seen order */
    kprefix pre[MAX_PREFIXES];
    int npre, last_pre;
    uint64_t *pkeys;         /* page table: (prefix << 50 | page number) + 1, 0 = empty */
    int32_t **pages;         /* entries: id + 1, 0 = not seen */
    size_t pmask, npages, entries;
    int closed;              /* the budget ran out: no new pages */
    int32_t *small[SMALL_PAGES_]; /* the first pages, calloc'd one by one */
    void **slabs;            /* later pages: cut from 2 MiB slabs */
    size_t nsmall, nslabs, slab_used;
    prefrec_dict *other;     /* keys routed around the pages, local ids */
    int32_t *other_gid;      /* local id -> id in dict */
    size_t other_cap;
};

prefrec_keymap_ *prefrec_keymap_new_(prefrec_dict *dict) {
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
    char *p = mmap(NULL, 2 * SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

void prefrec_keymap_free_(prefrec_keymap_ *m) {
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
int32_t prefrec_keymap_find_(const prefrec_keymap_ *m, const char *s, size_t len) {
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

int32_t prefrec_keymap_intern_(prefrec_keymap_ *m, const char *s, size_t len) {
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
