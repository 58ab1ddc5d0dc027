/* test_fault_pack.c - a full engine pack (tests/tiny_pack.h: NeuMF + blend + customers, 32
 * tensors) damaged in every way a download or a disk can damage it, in all three builds:
 *   1. truncated at every length 0 .. len-1: prefrec_pack_open refuses, with a message;
 *   2. each single byte of the header, manifest and tensor table flipped (x ^ 0x01, 0x80, 0xFF),
 *      CRC as stored: refused (the checksum, or a check before it), with a message;
 *   3. the same flips with the CRC recomputed (a writer bug or a forged pack): either
 *      prefrec_pack_open or prefrec_engine_new refuses with a message, or the engine it builds
 *      answers requests with in-range products (never reads outside the pack: ASan build);
 *      every flip of the 64-byte header and of a table entry's dtype/ndim/shape/offset fields
 *      must be refused;
 *   4. each byte of the tensor data flipped, CRC as stored: PREFREC_E_CHECKSUM.
 * Twice: the version-1 pack (all f32) and the version-2 one (f16, q8r, q4r, q8c, q4c).
 * The counts printed are the same in every build (tests/core parity). */
#include <stdlib.h>

#include "check.h"
#include "prefrec/engine.h"
#include "tiny_pack.h"

static const unsigned char FLIPS[3] = {0x01, 0x80, 0xFF};

static uint64_t rd64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}
static uint32_t rd32(const unsigned char *b) { return (uint32_t)rd64(b) & 0xFFFFFFFFu; }

/* 0: refused by open, 1: refused by engine_new, 2: served. Bad outcomes bump *bad. */
static int open_and_serve(const unsigned char *c, size_t len, int *bad) {
    prefrec_pack *p = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    if (prefrec_pack_open(c, len, &p, &err) != PREFREC_OK) {
        if (p || !err.msg[0]) ++*bad;
        return 0;
    }
    memset(&err, 0, sizeof err);
    if (prefrec_engine_new(p, NULL, &e, &err) != PREFREC_OK) {
        if (e || !err.msg[0]) ++*bad;
        prefrec_pack_free(p);
        return 1;
    }
    int32_t np = prefrec_engine_n_products(e);
    int32_t hist[2] = {0, np - 1};
    for (int mode = 0; mode < 3; mode++) {
        prefrec_request rq = prefrec_request_default();
        rq.k = 6;
        rq.sample = 2;
        rq.seed = 3;
        if (mode == 0) rq.customer = "C1";
        if (mode == 1) rq.history = hist, rq.n_history = 2;
        if (mode == 2) rq.gender = 1, rq.age = 30;
        prefrec_response rs;
        memset(&err, 0, sizeof err);
        prefrec_status st = prefrec_engine_recommend(e, &rq, &rs, &err);
        if (st != PREFREC_OK && !err.msg[0]) ++*bad;
        if (st == PREFREC_OK)
            for (uint32_t i = 0; i < rs.n; i++)
                if (rs.items[i].product < 0 || rs.items[i].product >= np) ++*bad;
    }
    prefrec_engine_free(e);
    prefrec_pack_free(p);
    return 2;
}

/* Every damage above to the tiny pack of this variant (2: f32, version 1; 12: the same with
 * its float item tensors stored f16, q8r, q4r, q8c and q4c, version 2), its neighbour lists
 * compact when tiny_compact is 2 (version 3), its segment popularity pcx when tiny_pop_counts is
 * 1 (version 4). */
static int fault_run(int variant) {
    size_t len;
    unsigned char *b = tiny_pack(&len, variant);
    unsigned char *c = malloc(len);
    if (!b || !c) return 1;
    CHECK_EQ_INT(rd32(b + 8),
                 tiny_pop_counts == 1    ? 4
                     : tiny_compact == 2 ? 3
                     : variant >= 10     ? 2
                                         : 1);
    const size_t toff = rd32(b + 32), n_t = rd32(b + 36), doff = (size_t)rd64(b + 40);
    CHECK_EQ_INT(n_t, tiny_compact == 2 ? 34 : 32);
    int bad = 0;
    CHECK_EQ_INT(open_and_serve(b, len, &bad), 2); /* the undamaged pack serves */
    CHECK_EQ_INT(bad, 0);

    /* 1. every truncation */
    int refused = 0, msgs = 0;
    for (size_t n = 0; n < len; n++) {
        memcpy(c, b, n);
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        if (prefrec_pack_open(c, n, &p, &err) != PREFREC_OK && !p) refused++;
        if (err.msg[0]) msgs++;
        prefrec_pack_free(p);
    }
    CHECK_EQ_INT(refused, (long long)len);
    CHECK_EQ_INT(msgs, (long long)len);

    /* 2 and 3. flips over header, manifest and table */
    int total = 0, by_crc = 0, fixed_open = 0, fixed_engine = 0, fixed_served = 0;
    int structural = 0, structural_refused = 0, float_swaps = 0, version_up = 0;
    bad = 0;
    for (size_t i = 0; i < doff; i++) {
        if (i >= 60 && i < 64) continue; /* the CRC field itself: see below */
        for (int f = 0; f < 3; f++) {
            total++;
            memcpy(c, b, len);
            c[i] ^= FLIPS[f];
            if (open_and_serve(c, len, &bad) == 0) by_crc++;
            tb_fix_crc(c, len);
            int r = open_and_serve(c, len, &bad);
            fixed_open += r == 0;
            fixed_engine += r == 1;
            fixed_served += r == 2;
            /* header fields, and an entry's dtype, ndim, shape and offset (bytes 32..63) */
            int is_struct = i < 64 || (i >= toff && i < toff + 64 * n_t && (i - toff) % 64 >= 32);
            /* versions 2 and 3 read f32, f16, q8r, q4r, q8c and q4c tensors alike (as f32): a
             * dtype byte turned from f32 to f16, q8r to q4r or q8c to q4c (or back), CRC
             * recomputed, can be a well-formed pack of other values, which may serve (in range,
             * never reading outside: checked) */
            if (rd32(b + 8) >= 2 && i >= toff && (i - toff) % 64 == 32 && FLIPS[f] == 0x01 &&
                (b[i] <= PREFREC_DT_F16 || b[i] == PREFREC_DT_Q8R || b[i] == PREFREC_DT_Q4R ||
                 b[i] == PREFREC_DT_Q8C || b[i] == PREFREC_DT_Q4C)) {
                float_swaps += r == 2;
                is_struct = 0;
            }
            /* the version (byte 8) flipped to a newer one this engine reads: version 3 reads
             * every version-1 and version-2 pack as they are, so 2 -> 3 (flip 0x01) and 1 -> 3
             * (none of FLIPS) may serve */
            if (i == 8 && (unsigned)(b[8] ^ FLIPS[f]) > b[8] &&
                (unsigned)(b[8] ^ FLIPS[f]) <= PREFREC_PACK_VERSION) {
                version_up += r == 2;
                is_struct = 0;
            }
            if (is_struct) {
                structural++;
                structural_refused += r != 2;
            }
        }
    }
    CHECK_EQ_INT(by_crc, total);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(structural_refused, structural);
    printf("flips before data: %d; re-CRC'd: %d refused by open, %d by engine_new, %d served "
           "(%d of them float dtype swaps: f32 <-> f16, q8r <-> q4r, q8c <-> q4c; %d a newer "
           "version read)\n",
           total, fixed_open, fixed_engine, fixed_served, float_swaps, version_up);
    /* a flipped CRC field is a checksum mismatch */
    for (size_t i = 60; i < 64; i++) {
        memcpy(c, b, len);
        c[i] ^= 0x10;
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_pack_open(c, len, &p, &err), PREFREC_E_CHECKSUM);
        prefrec_pack_free(p);
    }

    /* 4. tensor data: the CRC refuses every flip */
    int data_total = 0, data_crc = 0;
    for (size_t i = doff; i < len; i++) {
        memcpy(c, b, len);
        c[i] ^= FLIPS[i % 3];
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        data_total++;
        if (prefrec_pack_open(c, len, &p, &err) == PREFREC_E_CHECKSUM && !p &&
            strstr(err.msg, "CRC32 mismatch"))
            data_crc++;
        prefrec_pack_free(p);
    }
    CHECK_EQ_INT(data_crc, data_total);
    printf("pack %zu bytes (data from %zu): %zu truncations and %d data flips refused\n", len, doff,
           len, data_total);

    /* 5. tensor data flipped with the CRC recomputed: refused with a message or served in range
     * (a compact list's rows and indices are checked at load, never trusted) */
    int served = 0;
    bad = 0;
    for (size_t i = doff; i < len; i++)
        for (int f = 0; f < 3; f++) {
            memcpy(c, b, len);
            c[i] ^= FLIPS[f];
            tb_fix_crc(c, len);
            served += open_and_serve(c, len, &bad) == 2;
        }
    CHECK_EQ_INT(bad, 0);
    printf("data flips, CRC recomputed: %d of %d served in range, the rest refused\n", served,
           3 * (int)(len - doff));
    free(c);
    free(b);
    return 0;
}

int main(void) {
    if (fault_run(2) || fault_run(12)) return 1;
    tiny_compact = 2; /* the neighbour lists compact (version 3) */
    if (fault_run(2) || fault_run(12)) return 1;
    tiny_pop_counts = 1; /* and the segment popularity pcx (version 4) */
    if (fault_run(12)) return 1;
    tiny_compact = 0;
    tiny_pop_counts = 0;
    return check_report("test_fault_pack");
}
