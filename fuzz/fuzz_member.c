/* fuzz_member.c - libFuzzer target for the sealed member record reader (prefrec/member.h).
 *
 * A random change to a record is refused by the Poly1305 tag before the payload is looked at, so,
 * as fuzz_pack.c rewrites the CRC, the harness seals what the fuzzer gives it to reach the state
 * decoder too. Input: byte 0 picks the mode, the rest is the data.
 *   even: the data is a record. prefrec_member_header_read, then open with a token (the current
 *         export and member fixed), and with a PIN when the record's Argon2id cost is small
 *         (a large one only costs time; the budget check itself is reached either way).
 *         Properties: an error always has a message; nothing is handed out on an error.
 *   odd:  the data is a member state (payload). It is sealed with a token, opened (must give
 *         back the same bytes), decoded; when it decodes, encoding it again must give the same
 *         bytes (the encoding is canonical), and the record cut by one byte must be refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/member.h"

static const uint8_t export_id[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                      0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
/* the kid and token of member M000034966 under tests/core/test_member.c's keys */
static const uint8_t kid[16] = {0x6e, 0x18, 0x50, 0x84, 0x15, 0x17, 0x92, 0xad,
                                0x10, 0x6b, 0xab, 0x55, 0x56, 0xc3, 0x9b, 0x53};
static const uint8_t token[16] = {0x32, 0xe1, 0x74, 0x0c, 0xfb, 0x87, 0x33, 0xeb,
                                  0xa8, 0xb9, 0x4a, 0x05, 0x58, 0x2d, 0x23, 0x6a};
static const uint8_t nonce[24] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                  13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};

static void must_have_msg(prefrec_status st, const prefrec_error *err) {
    if (st != PREFREC_OK && !err->msg[0]) __builtin_trap();
}

static void as_record(const uint8_t *d, size_t n) {
    uint8_t *b = malloc(n ? n : 1); /* its own buffer: ASan sees any read past n */
    if (!b) abort();
    if (n) memcpy(b, d, n);
    prefrec_error err = {0};
    prefrec_member_header h;
    prefrec_status hs = prefrec_member_header_read(b, n, &h, &err);
    must_have_msg(hs, &err);
    uint8_t *p = (uint8_t *)1;
    size_t pn = 1;
    prefrec_status s = prefrec_member_open_token(b, n, export_id, kid, token, 16, &p, &pn, &err);
    must_have_msg(s, &err);
    if (s && (p || pn)) __builtin_trap();
    if (!s) {
        if (hs || pn != h.payload_len) __builtin_trap();
        prefrec_member_wipe_free(p, pn);
    }
    if (!hs && h.kind == PREFREC_MEMBER_KIND_PIN && h.pin_ops <= 2 && h.pin_mem_kib <= 256) {
        s = prefrec_member_open_pin(b, n, export_id, NULL, "123456", 6, &p, &pn, &err);
        must_have_msg(s, &err);
        if (s && (p || pn)) __builtin_trap();
        if (!s) prefrec_member_wipe_free(p, pn);
    }
    free(b);
}

static void as_state(const uint8_t *d, size_t n) {
    prefrec_error err = {0};
    prefrec_member_seal_params sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = PREFREC_MEMBER_KIND_TOKEN;
    sp.issued_day = 19100;
    memcpy(sp.export_id, export_id, 16);
    memcpy(sp.member_kid, kid, 16);
    sp.token = token;
    sp.token_len = 16;
    uint8_t *rec = NULL, *p = NULL;
    size_t rn = 0, pn = 0;
    if (prefrec_member_seal_with(&sp, d, n, nonce, NULL, &rec, &rn, &err)) {
        if (n <= PREFREC_MEMBER_PAYLOAD_MAX) __builtin_trap();
        return;
    }
    if (prefrec_member_open_token(rec, rn, export_id, kid, token, 16, &p, &pn, &err) || pn != n ||
        (n && memcmp(p, d, n)))
        __builtin_trap();
    /* one byte short: refused, nothing handed out */
    uint8_t *q = (uint8_t *)1;
    size_t qn = 1;
    if (prefrec_member_open_token(rec, rn - 1, export_id, kid, token, 16, &q, &qn, &err) !=
            PREFREC_E_FORMAT ||
        q || qn)
        __builtin_trap();
    prefrec_member_state *m = NULL;
    prefrec_status s = prefrec_member_state_decode(p, pn, &m, &err);
    must_have_msg(s, &err);
    if (!s) {
        uint8_t *e = NULL;
        size_t en = 0;
        if (prefrec_member_state_encode(m, &e, &en, &err) || en != pn || memcmp(e, p, pn))
            __builtin_trap();
        free(e);
    } else if (m) {
        __builtin_trap();
    }
    prefrec_member_state_free(m);
    prefrec_member_wipe_free(p, pn);
    free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 1)
        as_state(data + 1, size - 1);
    else
        as_record(data + 1, size - 1);
    return 0;
}
