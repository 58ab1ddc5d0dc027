/* test_member.c - sealed member records (prefrec/member.h) in every build: key derivations
 * against values computed independently (Python's hmac), the state round trip, a
 * token and a PIN record opened, and refused: a wrong token or PIN, a byte changed at every
 * offset, a record cut at every length, another member's record, another export's, a bad
 * version, a PIN cost over the budget. Prints the record size (compared between builds). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/demog.h"
#include "prefrec/member.h"
#include "prefrec/pack.h"

static const char code_a[] = "M000034966", code_b[] = "M000011111";
static uint8_t naming[32], master[32], ex1[16], ex2[16], nonce[24], salt[16];

static void hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* A's state: 2 affiliates; encoded size worked out below. */
static int32_t days5[2] = {19000, 19040}, days17[1] = {19010}, days230[3] = {18800, 18900, 19100},
               days0[1] = {19050};
static prefrec_member_item items1[3] = {{5, 2, 2, days5}, {17, 1, 1, days17}, {230, 7, 3, days230}};
static prefrec_member_item items2[1] = {{0, 1, 1, days0}};
static float vec1[4] = {0.5f, -1.25f, 2.0f, 0.0f};

static prefrec_member_state state_a(prefrec_member_aff aff[2]) {
    prefrec_member_state s;
    memset(&s, 0, sizeof s);
    strcpy(s.code, code_a);
    s.gender = PREFREC_GENDER_FEMALE;
    s.age = 35.0f;
    memset(aff, 0, 2 * sizeof *aff);
    strcpy(aff[0].affiliate, "A01");
    aff[0].dim = 4;
    aff[0].bias = 0.25f;
    aff[0].vec = vec1;
    aff[0].n_items = 3;
    aff[0].items = items1;
    strcpy(aff[1].affiliate, "A02");
    aff[1].n_items = 1;
    aff[1].items = items2;
    s.n_aff = 2;
    s.aff = aff;
    return s;
}

static prefrec_member_seal_params token_params(const char *code, const uint8_t *export_id,
                                               uint8_t token[16]) {
    prefrec_member_seal_params sp;
    memset(&sp, 0, sizeof sp);
    sp.kind = PREFREC_MEMBER_KIND_TOKEN;
    sp.issued_day = 19100;
    memcpy(sp.export_id, export_id, 16);
    prefrec_member_kid(naming, code, strlen(code), sp.member_kid, NULL);
    prefrec_member_token(master, code, strlen(code), token, NULL);
    sp.token = token;
    sp.token_len = 16;
    return sp;
}

/* status of opening rec (with A's kid and ex1) with token */
static prefrec_status try_token(const uint8_t *rec, size_t n, const uint8_t *kid,
                                const uint8_t *token, prefrec_error *e) {
    uint8_t *p = (uint8_t *)1;
    size_t pn = 1;
    prefrec_status s = prefrec_member_open_token(rec, n, ex1, kid, token, 16, &p, &pn, e);
    if (s) {
        CHECK(p == NULL && pn == 0); /* nothing handed out on an error */
    } else {
        prefrec_member_wipe_free(p, pn);
    }
    return s;
}

static void seed_file(const char *dir, const char *name, uint8_t mode, const uint8_t *b, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputc(mode, f);
    fwrite(b, 1, n, f);
    fclose(f);
}

int main(void) {
    prefrec_error e = {0};
    for (int i = 0; i < 32; i++) naming[i] = (uint8_t)i, master[i] = (uint8_t)(32 + i);
    memset(ex1, 0x11, 16);
    memset(ex2, 0x22, 16);
    for (int i = 0; i < 24; i++) nonce[i] = (uint8_t)(i + 1);
    for (int i = 0; i < 16; i++) salt[i] = (uint8_t)(0xA0 + i);

    /* --- derivations, against Python (h = lambda k, m: hmac.new(k, m, 'sha256').digest()):
     * kid   = h(bytes(range(32)), b'prefrec kid v1\0' + b'M000034966')[:16]
     * token = h(bytes(range(32, 64)), b'prefrec token v1\0' + b'M000034966')[:16]
     * key   = h(token, b'prefrec record v1\0' + (1).to_bytes(4, 'little') + b'\x11' * 16 + kid) */
    uint8_t kid_a[16], kid_b[16], tok_a[16], tok_b[16], key[32];
    char hx[65];
    CHECK_EQ_INT(prefrec_member_kid(naming, code_a, strlen(code_a), kid_a, &e), PREFREC_OK);
    hex(kid_a, 16, hx);
    CHECK_STR(hx, "6e185084151792ad106bab5556c39b53");
    CHECK_EQ_INT(prefrec_member_token(master, code_a, strlen(code_a), tok_a, &e), PREFREC_OK);
    hex(tok_a, 16, hx);
    CHECK_STR(hx, "32e1740cfb8733eba8b94a05582d236a");
    CHECK_EQ_INT(prefrec_member_key_token(tok_a, 16, ex1, kid_a, key, &e), PREFREC_OK);
    hex(key, 32, hx);
    CHECK_STR(hx, "6f089995aafb8d3aab894450065e252f7026ebb54eb7b6ead622ca33c8024034");
    prefrec_member_kid(naming, code_b, strlen(code_b), kid_b, NULL);
    prefrec_member_token(master, code_b, strlen(code_b), tok_b, NULL);
    CHECK(memcmp(kid_a, kid_b, 16) != 0);
    CHECK_EQ_INT(prefrec_member_kid(naming, "", 0, kid_b, &e), PREFREC_E_INVAL);
    CHECK_EQ_INT(prefrec_member_kid(naming, "M\xC0\x80", 3, kid_b, &e), PREFREC_E_INVAL);
    CHECK_EQ_INT(prefrec_member_key_token(tok_a, 15, ex1, kid_a, key, &e), PREFREC_E_INVAL);
    CHECK(strstr(e.msg, "15 bytes, must be 16..64") != NULL);
    prefrec_member_kid(naming, code_b, strlen(code_b), kid_b, NULL);

    /* --- the state: 8 + 10 (code) = 18; A01: 1 + 3 + 6 + (4 + 16) + (12 + 2 * 4) + (12 + 4) +
     * (12 + 3 * 4) = 90 -> 108; A02: 1 + 3 + 6 + (12 + 4) = 26 -> 134 bytes of content, padded
     * to 256 */
    prefrec_member_aff aff[2];
    prefrec_member_state sa = state_a(aff);
    uint8_t *pl = NULL;
    size_t pln = 0;
    CHECK_EQ_INT(prefrec_member_state_encode(&sa, &pl, &pln, &e), PREFREC_OK);
    CHECK_EQ_INT(pln, 256);
    for (size_t k = 134; k < pln; k++) CHECK(pl[k] == 0);
    prefrec_member_state *m = NULL;
    CHECK_EQ_INT(prefrec_member_state_decode(pl, pln, &m, &e), PREFREC_OK);
    if (m) {
        CHECK_STR(m->code, code_a);
        CHECK_EQ_INT(m->gender, PREFREC_GENDER_FEMALE);
        CHECK(m->age == 35.0f);
        CHECK_EQ_INT(m->n_aff, 2);
        CHECK_STR(m->aff[0].affiliate, "A01");
        CHECK_EQ_INT(m->aff[0].dim, 4);
        CHECK(m->aff[0].bias == 0.25f && m->aff[0].vec[1] == -1.25f);
        CHECK_EQ_INT(m->aff[0].n_items, 3);
        CHECK_EQ_INT(m->aff[0].items[2].product, 230);
        CHECK_EQ_INT(m->aff[0].items[2].count, 7);
        CHECK_EQ_INT(m->aff[0].items[2].n_days, 3);
        CHECK_EQ_INT(m->aff[0].items[2].days[0], 18800);
        CHECK_EQ_INT(m->aff[0].items[2].days[2], 19100);
        CHECK_EQ_INT(m->aff[0].n_days, 6);
        CHECK_STR(m->aff[1].affiliate, "A02");
        CHECK(m->aff[1].dim == 0 && m->aff[1].vec == NULL);
        CHECK_EQ_INT(m->aff[1].items[0].days[0], 19050);
    }
    prefrec_member_state_free(m);
    /* every cut of the state, and a non-zero padding byte, is refused (never read past) */
    for (size_t n = 0; n < pln; n++) {
        m = NULL;
        CHECK_EQ_INT(prefrec_member_state_decode(pl, n, &m, &e), PREFREC_E_FORMAT);
        CHECK(m == NULL);
    }
    pl[200] = 1;
    CHECK_EQ_INT(prefrec_member_state_decode(pl, pln, &m, &e), PREFREC_E_FORMAT);
    CHECK_STR(e.msg, "member state: padding byte 200 is not zero");
    pl[200] = 0;
    /* items out of order: A01's second item (byte 18 + 1 + 3 + 6 + 20 + (12 + 2 x 4) = 68) */
    items1[1].product = 5;
    uint8_t *bad = NULL;
    size_t badn = 0;
    CHECK_EQ_INT(prefrec_member_state_encode(&sa, &bad, &badn, &e), PREFREC_E_FORMAT);
    items1[1].product = 17;
    pl[68] = 5;
    CHECK_EQ_INT(prefrec_member_state_decode(pl, pln, &m, &e), PREFREC_E_FORMAT);
    CHECK(strstr(e.msg, "A01 item 1 (byte 68): product 5 is not after 5") != NULL);
    pl[68] = 17;
    /* days out of order: A01's first item's second day (bytes 48 + 16 .. 20) equal to its first */
    uint8_t keep[4];
    memcpy(keep, pl + 64, 4);
    memcpy(pl + 64, pl + 60, 4);
    CHECK_EQ_INT(prefrec_member_state_decode(pl, pln, &m, &e), PREFREC_E_FORMAT);
    CHECK(strstr(e.msg, "A01 item 0 (byte 48): day 1 (19000) is not after 19000") != NULL);
    memcpy(pl + 64, keep, 4);
    /* more days than lines */
    items1[0].count = 1;
    CHECK_EQ_INT(prefrec_member_state_encode(&sa, &bad, &badn, &e), PREFREC_E_FORMAT);
    CHECK(strstr(e.msg, "count 1, 2 days (need 1 <= days <= count)") != NULL);
    items1[0].count = 2;
    vec1[2] = NAN;
    CHECK_EQ_INT(prefrec_member_state_encode(&sa, &bad, &badn, &e), PREFREC_E_FORMAT);
    vec1[2] = 2.0f;

    /* --- a token record: 112 + 256 + 16 = 384 bytes */
    uint8_t tok[16];
    prefrec_member_seal_params sp = token_params(code_a, ex1, tok);
    uint8_t *rec = NULL;
    size_t rn = 0;
    CHECK_EQ_INT(prefrec_member_seal_with(&sp, pl, pln, nonce, NULL, &rec, &rn, &e), PREFREC_OK);
    CHECK_EQ_INT(rn, 384);
    /* the same inputs give the same bytes in every build (pinned: native, Emscripten, WASI) */
    CHECK_EQ_U64(prefrec_crc32(0, rec, rn), 0x64746f5du);
    prefrec_member_header h;
    CHECK_EQ_INT(prefrec_member_header_read(rec, rn, &h, &e), PREFREC_OK);
    CHECK_EQ_INT(h.kind, PREFREC_MEMBER_KIND_TOKEN);
    CHECK_EQ_INT(h.issued_day, 19100);
    CHECK_EQ_INT(h.payload_len, 256);
    CHECK(!memcmp(h.member_kid, kid_a, 16) && !memcmp(h.export_id, ex1, 16));
    /* the plaintext does not appear in the record */
    for (size_t k = 0; k + 10 <= rn; k++) CHECK(memcmp(rec + k, code_a, 10) != 0);
    /* PREFREC_FUZZ_CORPUS=DIR: the fuzz target's seeds (fuzz/corpus/member: mode byte, then a
     * record (even) or a member state (odd)), written from these exact bytes */
    const char *corpus = getenv("PREFREC_FUZZ_CORPUS");
    if (corpus) {
        seed_file(corpus, "record-token", 0, rec, rn);
        seed_file(corpus, "state-2aff", 1, pl, pln);
    }

    uint8_t *out = NULL;
    size_t on = 0;
    int reps = 2000; /* the same record opens every time (no state kept between opens) */
    for (int r = 0; r < reps; r++) {
        CHECK_EQ_INT(prefrec_member_open_token(rec, rn, ex1, kid_a, tok_a, 16, &out, &on, &e),
                     PREFREC_OK);
        if (r + 1 < reps) prefrec_member_wipe_free(out, on);
    }
    CHECK_EQ_INT(on, pln);
    CHECK(out && !memcmp(out, pl, pln));
    prefrec_member_wipe_free(out, on);
    /* with the raw record key (the web storefront's way), and with no member expected */
    CHECK_EQ_INT(prefrec_member_key_token(tok_a, 16, ex1, kid_a, key, &e), PREFREC_OK);
    CHECK_EQ_INT(prefrec_member_open(rec, rn, ex1, NULL, key, &out, &on, &e), PREFREC_OK);
    CHECK(out && !memcmp(out, pl, pln));
    prefrec_member_wipe_free(out, on);

    /* wrong token: one bit */
    static const char denied[] =
        "member record: cannot open (wrong card token or PIN, or the record was altered)";
    uint8_t wrong[16];
    memcpy(wrong, tok_a, 16);
    wrong[7] ^= 0x04;
    CHECK_EQ_INT(try_token(rec, rn, kid_a, wrong, &e), PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);
    /* B's token on A's record, no member expected: cannot open */
    CHECK_EQ_INT(try_token(rec, rn, NULL, tok_b, &e), PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);

    /* a byte changed at every offset: refused, by the field it hits */
    int n_ok = 0, n_wrong = 0;
    for (size_t k = 0; k < rn; k++) {
        rec[k] ^= 0x80;
        prefrec_status s = try_token(rec, rn, kid_a, tok_a, &e);
        rec[k] ^= 0x80;
        prefrec_status want = k < 8 ? PREFREC_E_FORMAT
            : k < 12                ? PREFREC_E_VERSION
            : k < 16                ? PREFREC_E_FORMAT
            : k < 32                ? PREFREC_E_STALE
            : k < 48                ? PREFREC_E_DENIED /* another member */
            : k < 52                ? PREFREC_E_DENIED /* issued day: the tag */
            : k < 56                ? PREFREC_E_FORMAT /* kind */
            : k < 58                ? PREFREC_E_FORMAT /* payload length: not the file's */
            : k < 60                ? PREFREC_E_RANGE /* payload length over 2 MiB */
            : k < 88 ? PREFREC_E_FORMAT /* PIN fields, flags, salt of a token record */
                     : PREFREC_E_DENIED; /* nonce, ciphertext, tag */
        if (s == PREFREC_OK) n_ok++;
        if (s != want) {
            n_wrong++;
            fprintf(stderr, "offset %zu: status %d, expected %d (%s)\n", k, s, want, e.msg);
        }
        if (k >= 48 && k < 52) CHECK_STR(e.msg, denied);
        if (k >= 88) CHECK_STR(e.msg, denied);
    }
    CHECK_EQ_INT(n_ok, 0);
    CHECK_EQ_INT(n_wrong, 0);
    prefrec_member_open_token(rec, rn, ex1, kid_a, tok_a, 16, &out, &on, &e);
    CHECK(out != NULL); /* the flips were undone */
    prefrec_member_wipe_free(out, on);

    /* cut at every length, and one byte too many */
    int n_trunc = 0;
    for (size_t n = 0; n < rn; n++) {
        prefrec_status s = try_token(rec, n, kid_a, tok_a, &e);
        if (s == PREFREC_E_FORMAT && strstr(e.msg, "truncated")) n_trunc++;
    }
    CHECK_EQ_INT(n_trunc, (long long)rn);
    uint8_t *longer = calloc(1, rn + 1);
    memcpy(longer, rec, rn);
    CHECK_EQ_INT(try_token(longer, rn + 1, kid_a, tok_a, &e), PREFREC_E_FORMAT);
    CHECK(strstr(e.msg, "there are 385 (padded)") != NULL);
    free(longer);
    CHECK_EQ_INT(try_token((const uint8_t *)"PRFPACK\0 and more bytes", 24, kid_a, tok_a, &e),
                 PREFREC_E_FORMAT);
    CHECK(strstr(e.msg, "bad magic at byte 0") != NULL);

    /* another member's record (B's, sealed properly) offered for A */
    uint8_t tokb2[16];
    prefrec_member_seal_params spb = token_params(code_b, ex1, tokb2);
    uint8_t *recb = NULL;
    size_t rbn = 0;
    CHECK_EQ_INT(prefrec_member_seal_with(&spb, pl, pln, nonce, NULL, &recb, &rbn, &e), PREFREC_OK);
    CHECK_EQ_INT(try_token(recb, rbn, kid_a, tok_a, &e), PREFREC_E_DENIED);
    CHECK(strstr(e.msg, "(another member's record)") != NULL);
    CHECK_EQ_INT(try_token(recb, rbn, NULL, tok_a, &e), PREFREC_E_DENIED); /* A's card */
    CHECK_STR(e.msg, denied);
    /* ... with A's key id written over B's: the header is bound by the tag */
    memcpy(recb + PREFREC_MEMBER_OFF_KID, kid_a, 16);
    CHECK_EQ_INT(try_token(recb, rbn, kid_a, tok_b, &e), PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);
    free(recb);

    /* another export's record: refused by the id; with the id rewritten, by the tag */
    uint8_t tok2[16];
    prefrec_member_seal_params sp2 = token_params(code_a, ex2, tok2);
    uint8_t *rec2 = NULL;
    size_t r2n = 0;
    CHECK_EQ_INT(prefrec_member_seal_with(&sp2, pl, pln, nonce, NULL, &rec2, &r2n, &e), PREFREC_OK);
    CHECK_EQ_INT(try_token(rec2, r2n, kid_a, tok_a, &e), PREFREC_E_STALE);
    CHECK_STR(e.msg,
              "member record: of export 22222222222222222222222222222222 (byte 16), not of "
              "the current export 11111111111111111111111111111111 (an old or replayed "
              "record)");
    memcpy(rec2 + PREFREC_MEMBER_OFF_EXPORT, ex1, 16);
    CHECK_EQ_INT(try_token(rec2, r2n, kid_a, tok_a, &e), PREFREC_E_DENIED);
    free(rec2);

    /* a bad version */
    rec[8] = 1; /* version 1 records (items without their days) are no longer read */
    CHECK_EQ_INT(try_token(rec, rn, kid_a, tok_a, &e), PREFREC_E_VERSION);
    CHECK_STR(e.msg,
              "member record: format version 1 (byte 8) is not supported (this reader "
              "reads version 2)");
    rec[8] = 2;

    /* --- a PIN record, at a small cost (1 pass, 64 KiB) for the loops */
    prefrec_member_seal_params pp;
    memset(&pp, 0, sizeof pp);
    pp.kind = PREFREC_MEMBER_KIND_PIN;
    pp.issued_day = 19100;
    memcpy(pp.export_id, ex1, 16);
    memcpy(pp.member_kid, kid_a, 16);
    pp.pin = "482916";
    pp.pin_len = 6;
    pp.pin_ops = 1;
    pp.pin_mem_kib = 64;
    uint8_t *prec = NULL;
    size_t prn = 0;
    CHECK_EQ_INT(prefrec_member_seal_with(&pp, pl, pln, nonce, salt, &prec, &prn, &e), PREFREC_OK);
    if (corpus && prec) seed_file(corpus, "record-pin", 2, prec, prn);
    CHECK_EQ_INT(prn, 384);
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482916", 6, &out, &on, &e),
                 PREFREC_OK);
    CHECK(out && on == pln && !memcmp(out, pl, pln));
    prefrec_member_wipe_free(out, on);
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482917", 6, &out, &on, &e),
                 PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);
    CHECK(out == NULL);
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "48291", 5, &out, &on, &e),
                 PREFREC_E_DENIED);
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482", 3, &out, &on, &e),
                 PREFREC_E_INVAL); /* shorter than any PIN */
    /* the other kind's secret: the same "cannot open" */
    CHECK_EQ_INT(try_token(prec, prn, kid_a, tok_a, &e), PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);
    CHECK_EQ_INT(prefrec_member_open_pin(rec, rn, ex1, kid_a, "482916", 6, &out, &on, &e),
                 PREFREC_E_DENIED);
    CHECK_STR(e.msg, denied);
    /* every byte of the PIN record changed: never opens */
    n_ok = 0;
    for (size_t k = 0; k < prn; k++) {
        prec[k] ^= 0x01;
        prefrec_status s =
            prefrec_member_open_pin(prec, prn, ex1, kid_a, "482916", 6, &out, &on, &e);
        prec[k] ^= 0x01;
        if (s == PREFREC_OK) {
            n_ok++;
            prefrec_member_wipe_free(out, on);
        }
        if (k >= 72) CHECK_EQ_INT(s, PREFREC_E_DENIED); /* salt, nonce, ciphertext, tag */
    }
    CHECK_EQ_INT(n_ok, 0);
    /* cost over the budget (9 passes; 512 MiB): refused before any Argon2id run */
    prec[PREFREC_MEMBER_OFF_PIN_OPS] = 9;
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482916", 6, &out, &on, &e),
                 PREFREC_E_RANGE);
    CHECK_STR(e.msg,
              "member record: PIN cost of 9 passes over 64 KiB (byte 60) is not within "
              "1..8 passes and 8..262144 KiB");
    prec[PREFREC_MEMBER_OFF_PIN_OPS] = 1;
    prec[PREFREC_MEMBER_OFF_PIN_MEM + 2] = 8; /* 64 + 8 * 65536 KiB */
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482916", 6, &out, &on, &e),
                 PREFREC_E_RANGE);
    prec[PREFREC_MEMBER_OFF_PIN_MEM + 2] = 0;
    free(prec);

    /* the sealer's own cost (3 passes over 64 MiB): what a kiosk runs per PIN */
    pp.pin_ops = 0;
    pp.pin_mem_kib = 0;
    CHECK_EQ_INT(prefrec_member_seal_with(&pp, pl, pln, nonce, salt, &prec, &prn, &e), PREFREC_OK);
    CHECK_EQ_INT(prefrec_member_header_read(prec, prn, &h, &e), PREFREC_OK);
    CHECK_EQ_INT(h.pin_ops, 3);
    CHECK_EQ_INT(h.pin_mem_kib, 65536);
    CHECK_EQ_INT(prefrec_member_open_pin(prec, prn, ex1, kid_a, "482916", 6, &out, &on, &e),
                 PREFREC_OK);
    CHECK(out && !memcmp(out, pl, pln));
    prefrec_member_wipe_free(out, on);
    free(prec);

    /* a payload length over the budget is refused before anything is allocated */
    rec[PREFREC_MEMBER_OFF_PAYLOAD_LEN + 2] = 0x20; /* 2 MiB + 256 */
    CHECK_EQ_INT(try_token(rec, rn, kid_a, tok_a, &e), PREFREC_E_RANGE);
    CHECK_STR(e.msg,
              "member record: payload of 2097408 bytes (byte 56) is over the 2097152 a "
              "reader accepts");

    /* no times here: test output is compared between the builds (test.sh, core parity) */
    printf("test_member: record %zu bytes (payload %zu)\n", rn, pln);
    free(rec);
    free(pl);
    return check_report("test_member");
}
