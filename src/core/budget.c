/* budget.c - the allocation and work budget of an engine (see prefrec/budget.h). */
#include "prefrec/budget.h"

#include <inttypes.h>
#include <stdio.h>

static const prefrec_budget default_budget = {
    PREFREC_BUDGET_PER_PACK_BYTE, PREFREC_BUDGET_ALLOWANCE, PREFREC_BUDGET_MAX_BYTES,
    PREFREC_BUDGET_MAX_WORK, PREFREC_BUDGET_MAX_FOLD_WORK};

prefrec_budget prefrec_budget_default(void) { return default_budget; }

uint64_t prefrec_budget_bytes(const prefrec_budget *b, uint64_t pack_bytes) {
    if (!b) b = &default_budget;
    uint64_t v =
        prefrec_u64_add_sat(prefrec_u64_mul_sat(b->per_pack_byte, pack_bytes), b->allowance);
    if (v > b->max_bytes) v = b->max_bytes;
    /* whatever the caller asks, every allocation must stay representable in size_t, with room
     * for the sums of several of them */
    if (v > (uint64_t)(SIZE_MAX / 2)) v = (uint64_t)(SIZE_MAX / 2);
    return v;
}

size_t prefrec_budget_describe(const prefrec_budget *b, uint64_t pack_bytes, char *buf,
                               size_t cap) {
    if (!b) b = &default_budget;
    uint64_t v =
        prefrec_u64_add_sat(prefrec_u64_mul_sat(b->per_pack_byte, pack_bytes), b->allowance);
    int n = v > prefrec_budget_bytes(b, pack_bytes)
        ? snprintf(buf, cap, "the limit for any pack")
        : snprintf(buf, cap, "%" PRIu64 " x the pack's %.1f MiB + %.1f MiB", b->per_pack_byte,
                   (double)pack_bytes / 1048576.0, (double)b->allowance / 1048576.0);
    return n < 0 ? 0 : (size_t)n;
}
