/* topk.c - bounded min-heap top-k with a total, deterministic order (see prefrec/topk.h). */
#include "prefrec/topk.h"

#include <math.h>

int prefrec_scored_before(prefrec_scored a, prefrec_scored b) {
    int an = isnan(a.score), bn = isnan(b.score);
    if (an != bn) return bn; /* a number beats NaN */
    if (!an && a.score != b.score) return a.score > b.score;
    return a.index < b.index;
}

/* The heap keeps the *worst* kept item at the root, so a newcomer is compared with it once. */
static void sift_down(prefrec_scored *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && prefrec_scored_before(h[w], h[l])) w = l;
        if (r < n && prefrec_scored_before(h[w], h[r])) w = r;
        if (w == i) return;
        prefrec_scored t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sift_up(prefrec_scored *h, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!prefrec_scored_before(h[p], h[i])) return;
        prefrec_scored t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

void prefrec_topk_heap_init(prefrec_topk_heap *h, prefrec_scored *buf, size_t k) {
    h->items = buf;
    h->size = 0;
    h->cap = k;
}

void prefrec_topk_heap_push(prefrec_topk_heap *h, float score, int32_t index) {
    prefrec_scored it = {score, index};
    if (h->cap == 0) return;
    if (h->size < h->cap) {
        h->items[h->size] = it;
        sift_up(h->items, h->size++);
    } else if (prefrec_scored_before(it, h->items[0])) {
        h->items[0] = it;
        sift_down(h->items, h->size, 0);
    }
}

size_t prefrec_topk_heap_finish(prefrec_topk_heap *h) {
    /* Heap sort: repeatedly move the worst to the end, leaving best-first order. */
    size_t n = h->size;
    for (size_t end = n; end > 1; end--) {
        prefrec_scored t = h->items[0];
        h->items[0] = h->items[end - 1];
        h->items[end - 1] = t;
        sift_down(h->items, end - 1, 0);
    }
    return n;
}

size_t prefrec_topk(const float *scores, size_t n, const uint8_t *exclude, size_t k,
                    prefrec_scored *out) {
    prefrec_topk_heap h;
    prefrec_topk_heap_init(&h, out, k);
    if (k == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        if (exclude && exclude[i]) continue;
        float s = scores[i];
        /* Fast reject: most candidates lose to the current worst once the heap is full. */
        if (h.size == h.cap && !isnan(h.items[0].score) && !(s >= h.items[0].score)) continue;
        prefrec_topk_heap_push(&h, s, (int32_t)i);
    }
    return prefrec_topk_heap_finish(&h);
}
