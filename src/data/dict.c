/* dict.c - the string <-> dense index dictionary (prefrec/dataset.h) and the loaders' bulk
 * interface (dataset_internal.h): strings appended without indexing while a file loads, then
 * indexed in one pass. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dataset_internal.h"
#include "prefrec/dataset.h"

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
    uint64_t *slots;      /* cap_slots entries, 0 = empty */
    size_t mask;          /* cap_slots - 1 (power of two) */
    const char **strs;    /* by id */
    uint32_t *lens;       /* by id */
    int32_t n, cap_ids;
    int32_t n_indexed;    /* ids 0 .. n_indexed-1 are in slots; the rest were appended by
                             prefrec_dict_append_ and wait for prefrec_dict_index_ */
    dict_chunk *chunks;   /* newest first */
    prefrec_keymap_ *km;  /* set: numbered keys, the keymap is the index (slots unused) */
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
    return ids_reserve(d, d->cap_ids ? (d->cap_ids > INT32_MAX / 2 ? INT32_MAX - 1 : d->cap_ids * 2)
                                     : 64);
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

