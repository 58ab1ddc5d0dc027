/* prefrec/budget.h - how much memory and work a model pack may make the engine spend, and
 * overflow-checked size arithmetic for every size derived from pack fields (portable).
 *
 *   prefrec_budget b = prefrec_budget_default();       // 16 x the packs' bytes + 16 MiB, <= 512 MiB
 *   b.max_bytes = (size_t)2 << 30;                     // a native server may allow more
 *   prefrec_engine_new_budget(items, NULL, &b, &e, &err);  // PREFREC_E_RANGE when over it
 *
 * Why: a pack of a few megabytes declares dimensions (products, layer widths, categories) whose
 * products the engine allocates and computes over: 300,000 products x a first layer of width
 * 4,096 is 4.9 GB of precomputed activations from a 10 MB file. The engine works that out in 64
 * bits before allocating anything and refuses, naming the sizes, when the memory it would own
 * (at load plus one request's scratch) exceeds
 *     min(per_pack_byte x (bytes of the packs it is built from) + allowance, max_bytes)
 * or when scoring every product once would take more than max_work multiply-adds, or folding a
 * history in more than max_fold_work (SECURITY.md, "Allocation budget"). Real packs use a small
 * fraction of it: a pack of the largest realistic shape (100,000 products, dim 64, layers
 * 64/32/16, blend of 10 neighbours; 55.8 MiB) needs 28.6 MiB of its 512 MiB and 6% of the
 * scoring limit (bench/budget.c), the committed models/sample packs under 2% of theirs.
 * The budget is a plain struct owned by the caller; the engine reads it at creation only. */
#ifndef PREFREC_BUDGET_H
#define PREFREC_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_BUDGET_PER_PACK_BYTE 16u
#define PREFREC_BUDGET_ALLOWANCE ((uint64_t)16 << 20) /* 16 MiB */
#define PREFREC_BUDGET_MAX_BYTES ((uint64_t)512 << 20) /* 512 MiB: fits a wasm32 heap */
#define PREFREC_BUDGET_MAX_WORK ((uint64_t)1 << 32) /* multiply-adds per full scoring */
#define PREFREC_BUDGET_MAX_FOLD_WORK ((uint64_t)1 << 36) /* multiply-adds per fold-in */

typedef struct prefrec_budget {
    uint64_t per_pack_byte; /* engine-owned bytes allowed per byte of pack */
    uint64_t allowance; /* plus this many bytes, for small packs */
    uint64_t max_bytes; /* and never more than this (also capped at SIZE_MAX / 2) */
    uint64_t max_work; /* multiply-adds to score every product once (one request) */
    uint64_t max_fold_work; /* multiply-adds to fold one purchase history in (one request) */
} prefrec_budget;

/* The defaults above. */
prefrec_budget prefrec_budget_default(void);

/* Bytes of engine-owned memory b allows for packs of pack_bytes bytes in all (NULL: the
 * default budget): min(per_pack_byte x pack_bytes + allowance, max_bytes, SIZE_MAX / 2),
 * saturating instead of wrapping. */
uint64_t prefrec_budget_bytes(const prefrec_budget *b, uint64_t pack_bytes);

/* How the bytes of prefrec_budget_bytes come about, for messages: "16 x the pack's 10.2 MiB +
 * 16.0 MiB" or "the limit for any pack". Writes at most cap bytes; returns the length needed. */
size_t prefrec_budget_describe(const prefrec_budget *b, uint64_t pack_bytes, char *buf, size_t cap);

/* Checked size arithmetic: *out = a * b (a + b); returns 1, or 0 when the result does not fit
 * in size_t (32 bits in the wasm builds), leaving *out untouched. */
static inline int prefrec_size_mul(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}
static inline int prefrec_size_add(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}
/* Saturating 64-bit arithmetic for cost estimates: UINT64_MAX instead of wrapping. */
static inline uint64_t prefrec_u64_mul_sat(uint64_t a, uint64_t b) {
    return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}
static inline uint64_t prefrec_u64_add_sat(uint64_t a, uint64_t b) {
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

#ifdef __cplusplus
}
#endif
#endif
