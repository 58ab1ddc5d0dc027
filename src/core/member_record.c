/* member_record.c - sealed member records and the member state they carry (prefrec/member.h,
 * SECURITY.md). The cryptography is libsodium's: XChaCha20-Poly1305 (IETF) with the header as
 * associated data, HMAC-SHA-256 for ids and key derivation, Argon2id for PINs. Nothing here is
 * home-made but the byte layout and its checks.
 *
 * Checking order (what a user sees first): magic (is this a record at all?), the length against
 * the header, version, the fixed fields, the payload length against the buffer (truncated or
 * padded), the PIN cost against the budget; then, against what the caller expects, the export
 * (other export) and the member (another member); only then the key and the tag. A wrong key and
 * any altered byte the checks above let through give the same "cannot open". */
#include "prefrec/member.h"

#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/demog.h"
#include "utf8.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "prefrec member records are little-endian; this reader needs a little-endian host"
#endif

static const char ctx_kid[] = "prefrec kid v1";
static const char ctx_token[] = "prefrec token v1";
static const char ctx_record[] = "prefrec record v1";
static const char denied_msg[] =
    "member record: cannot open (wrong card token or PIN, or the record was altered)";

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static float rdf32(const uint8_t *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void wrf32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    wr32(p, u);
}

/* Natively, sodium_init picks the CPU's fastest implementations (and is required before use);
 * the wasm builds have only the portable ones and never call it (CMakeLists.txt). */
static prefrec_status crypto_ready(prefrec_error *err) {
#ifndef __wasm__
    if (sodium_init() < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member record: libsodium did not start");
#else
    (void)err;
#endif
    return PREFREC_OK;
}

void prefrec_member_wipe_free(void *p, size_t n) {
    if (!p) return;
    sodium_memzero(p, n);
    free(p);
}

/* HMAC-SHA-256(key, ctx || NUL || a || b), the first out_len (<= 32) bytes; a and b may be NULL.
 * HMAC-SHA-256 rather than keyed BLAKE2b: a shop's backend derives ids and keys too, and every
 * language's standard library has it (node:crypto createHmac, Python hmac, Java Mac, Go, PHP). */
static prefrec_status kdf(const uint8_t *key, size_t key_len, const char *ctx, const uint8_t *a,
                          size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out,
                          size_t out_len, prefrec_error *err) {
    prefrec_status s = crypto_ready(err);
    if (s) return s;
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    if (out_len > sizeof mac || crypto_auth_hmacsha256_init(&st, key, key_len) ||
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)ctx, strlen(ctx) + 1) ||
        (a && crypto_auth_hmacsha256_update(&st, a, a_len)) ||
        (b && crypto_auth_hmacsha256_update(&st, b, b_len)) ||
        crypto_auth_hmacsha256_final(&st, mac)) {
        sodium_memzero(&st, sizeof st);
        return prefrec_error_set(err, PREFREC_E_INVAL, "member record: HMAC-SHA-256 failed");
    }
    memcpy(out, mac, out_len);
    sodium_memzero(mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
    return PREFREC_OK;
}

static prefrec_status check_code(const char *code, size_t len, prefrec_error *err) {
    if (!code || len == 0 || len > PREFREC_MEMBER_CODE_MAX)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member code: %zu bytes, must be 1..%u",
                                 code ? len : 0, PREFREC_MEMBER_CODE_MAX);
    for (size_t i = 0; i < len;) {
        size_t k =
            (unsigned char)code[i] ? prefrec_utf8_seq((const unsigned char *)code + i, len - i) : 0;
        if (!k)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "member code: byte %zu is a NUL or not valid UTF-8", i);
        i += k;
    }
    return PREFREC_OK;
}

prefrec_status prefrec_member_kid(const uint8_t naming_key[PREFREC_MEMBER_KEY_SIZE],
                                  const char *code, size_t code_len,
                                  uint8_t kid[PREFREC_MEMBER_ID_SIZE], prefrec_error *err) {
    prefrec_status s = check_code(code, code_len, err);
    if (s) return s;
    return kdf(naming_key, PREFREC_MEMBER_KEY_SIZE, ctx_kid, (const uint8_t *)code, code_len, NULL,
               0, kid, PREFREC_MEMBER_ID_SIZE, err);
}

prefrec_status prefrec_member_token(const uint8_t master[PREFREC_MEMBER_KEY_SIZE], const char *code,
                                    size_t code_len, uint8_t token[PREFREC_MEMBER_ID_SIZE],
                                    prefrec_error *err) {
    prefrec_status s = check_code(code, code_len, err);
    if (s) return s;
    return kdf(master, PREFREC_MEMBER_KEY_SIZE, ctx_token, (const uint8_t *)code, code_len, NULL, 0,
               token, PREFREC_MEMBER_ID_SIZE, err);
}

/* record key = HMAC-SHA-256(key = secret, ctx || kind || export id || kid) */
static prefrec_status record_key(const uint8_t *secret, size_t secret_len, uint32_t kind,
                                 const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                 const uint8_t kid[PREFREC_MEMBER_ID_SIZE],
                                 uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err) {
    uint8_t msg[4 + 2 * PREFREC_MEMBER_ID_SIZE];
    wr32(msg, kind);
    memcpy(msg + 4, export_id, PREFREC_MEMBER_ID_SIZE);
    memcpy(msg + 4 + PREFREC_MEMBER_ID_SIZE, kid, PREFREC_MEMBER_ID_SIZE);
    return kdf(secret, secret_len, ctx_record, msg, sizeof msg, NULL, 0, key,
               PREFREC_MEMBER_KEY_SIZE, err);
}

prefrec_status prefrec_member_key_token(const uint8_t *token, size_t token_len,
                                        const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                        const uint8_t kid[PREFREC_MEMBER_ID_SIZE],
                                        uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err) {
    if (!token || token_len < PREFREC_MEMBER_TOKEN_MIN || token_len > PREFREC_MEMBER_TOKEN_MAX)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member token: %zu bytes, must be %u..%u",
                                 token ? token_len : 0, PREFREC_MEMBER_TOKEN_MIN,
                                 PREFREC_MEMBER_TOKEN_MAX);
    return record_key(token, token_len, PREFREC_MEMBER_KIND_TOKEN, export_id, kid, key, err);
}

static prefrec_status check_pin(const char *pin, size_t pin_len, prefrec_error *err) {
    if (!pin || pin_len < PREFREC_MEMBER_PIN_MIN || pin_len > PREFREC_MEMBER_PIN_MAX)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member PIN: %zu bytes, must be %u..%u",
                                 pin ? pin_len : 0, PREFREC_MEMBER_PIN_MIN, PREFREC_MEMBER_PIN_MAX);
    return PREFREC_OK;
}

static prefrec_status check_cost(uint32_t ops, uint32_t mem_kib, size_t at, prefrec_error *err) {
    if (ops < 1 || ops > PREFREC_MEMBER_PIN_OPS_MAX || mem_kib < 8 ||
        mem_kib > PREFREC_MEMBER_PIN_MEM_KIB_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "member record: PIN cost of %u passes over %u KiB (byte %zu) is "
                                 "not within 1..%u passes and 8..%u KiB",
                                 ops, mem_kib, at, PREFREC_MEMBER_PIN_OPS_MAX,
                                 PREFREC_MEMBER_PIN_MEM_KIB_MAX);
    return PREFREC_OK;
}

static prefrec_status pin_key(const char *pin, size_t pin_len, uint32_t ops, uint32_t mem_kib,
                              const uint8_t salt[PREFREC_MEMBER_SALT_SIZE],
                              const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                              const uint8_t kid[PREFREC_MEMBER_ID_SIZE],
                              uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err) {
    prefrec_status s = check_pin(pin, pin_len, err);
    if (!s) s = check_cost(ops, mem_kib, PREFREC_MEMBER_OFF_PIN_OPS, err);
    if (!s) s = crypto_ready(err);
    if (s) return s;
    uint8_t stretched[32];
    if (crypto_pwhash(stretched, sizeof stretched, pin, pin_len, salt, ops, (size_t)mem_kib << 10,
                      crypto_pwhash_ALG_ARGON2ID13))
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "member record: Argon2id could not get its %u KiB of memory",
                                 mem_kib);
    s = record_key(stretched, sizeof stretched, PREFREC_MEMBER_KIND_PIN, export_id, kid, key, err);
    sodium_memzero(stretched, sizeof stretched);
    return s;
}

prefrec_status prefrec_member_key_pin(const char *pin, size_t pin_len,
                                      const prefrec_member_header *h,
                                      uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err) {
    if (h->kind != PREFREC_MEMBER_KIND_PIN)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member record: not a PIN record");
    return pin_key(pin, pin_len, h->pin_ops, h->pin_mem_kib, h->salt, h->export_id, h->member_kid,
                   key, err);
}

prefrec_status prefrec_member_header_read(const void *bytes, size_t len, prefrec_member_header *h,
                                          prefrec_error *err) {
    const uint8_t *b = bytes;
    memset(h, 0, sizeof *h);
    if (!b || len < 8 || memcmp(b, PREFREC_MEMBER_MAGIC, 8) != 0)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 len < 8 && b && !memcmp(b, PREFREC_MEMBER_MAGIC, len)
                                     ? "member record: %zu bytes, truncated (the header is 112)"
                                     : "member record: bad magic at byte 0 (%zu bytes: not a "
                                       "prefrec member record)",
                                 len);
    if (len < PREFREC_MEMBER_HEADER_SIZE + PREFREC_MEMBER_TAG_SIZE)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member record: %zu bytes, truncated (at least %u: the header "
                                 "and the tag)",
                                 len, PREFREC_MEMBER_HEADER_SIZE + PREFREC_MEMBER_TAG_SIZE);
    h->version = rd32(b + PREFREC_MEMBER_OFF_VERSION);
    if (h->version != PREFREC_MEMBER_VERSION)
        return prefrec_error_set(err, PREFREC_E_VERSION,
                                 "member record: format version %u (byte 8) is not supported "
                                 "(this reader reads version %u)",
                                 h->version, PREFREC_MEMBER_VERSION);
    uint32_t hsize = rd32(b + PREFREC_MEMBER_OFF_HEADER_SIZE);
    if (hsize != PREFREC_MEMBER_HEADER_SIZE)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member record: header size %u (byte 12) is not %u", hsize,
                                 PREFREC_MEMBER_HEADER_SIZE);
    memcpy(h->export_id, b + PREFREC_MEMBER_OFF_EXPORT, PREFREC_MEMBER_ID_SIZE);
    memcpy(h->member_kid, b + PREFREC_MEMBER_OFF_KID, PREFREC_MEMBER_ID_SIZE);
    h->issued_day = rd32(b + PREFREC_MEMBER_OFF_DAY);
    h->kind = rd32(b + PREFREC_MEMBER_OFF_KIND);
    h->payload_len = rd32(b + PREFREC_MEMBER_OFF_PAYLOAD_LEN);
    h->pin_ops = rd32(b + PREFREC_MEMBER_OFF_PIN_OPS);
    h->pin_mem_kib = rd32(b + PREFREC_MEMBER_OFF_PIN_MEM);
    memcpy(h->salt, b + PREFREC_MEMBER_OFF_SALT, PREFREC_MEMBER_SALT_SIZE);
    memcpy(h->nonce, b + PREFREC_MEMBER_OFF_NONCE, PREFREC_MEMBER_NONCE_SIZE);
    if (h->kind != PREFREC_MEMBER_KIND_TOKEN && h->kind != PREFREC_MEMBER_KIND_PIN)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member record: key kind %u (byte 52) is not 1 (token) or 2 (PIN)",
                                 h->kind);
    uint32_t flags = rd32(b + PREFREC_MEMBER_OFF_FLAGS);
    if (flags)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member record: flags %#x (byte 68) must be 0 in version 2",
                                 flags);
    if (h->payload_len > PREFREC_MEMBER_PAYLOAD_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "member record: payload of %u bytes (byte 56) is over the %u a "
                                 "reader accepts",
                                 h->payload_len, PREFREC_MEMBER_PAYLOAD_MAX);
    size_t want = (size_t)PREFREC_MEMBER_HEADER_SIZE + h->payload_len + PREFREC_MEMBER_TAG_SIZE;
    if (len != want)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member record: header says a %u-byte payload (byte 56), %zu "
                                 "bytes in all, but there are %zu (%s)",
                                 h->payload_len, want, len, len < want ? "truncated" : "padded");
    if (h->kind == PREFREC_MEMBER_KIND_PIN) {
        prefrec_status s = check_cost(h->pin_ops, h->pin_mem_kib, PREFREC_MEMBER_OFF_PIN_OPS, err);
        if (s) return s;
    } else {
        static const uint8_t zero[PREFREC_MEMBER_SALT_SIZE];
        if (h->pin_ops || h->pin_mem_kib || memcmp(h->salt, zero, sizeof zero))
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "member record: a token record has PIN fields (bytes 60..88) "
                                     "that are not zero");
    }
    return PREFREC_OK;
}

static void hex16(const uint8_t *id, char out[33]) {
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = d[id[i] >> 4];
        out[2 * i + 1] = d[id[i] & 15];
    }
    out[32] = 0;
}

/* The checks that need no key: the header, the export and the member expected. */
static prefrec_status open_check(const void *bytes, size_t len, const uint8_t *export_id,
                                 const uint8_t *kid, prefrec_member_header *h, prefrec_error *err) {
    prefrec_status s = prefrec_member_header_read(bytes, len, h, err);
    if (s) return s;
    if (!export_id)
        return prefrec_error_set(err, PREFREC_E_INVAL, "member record: no current export id given");
    char a[33], b[33];
    if (memcmp(h->export_id, export_id, PREFREC_MEMBER_ID_SIZE)) {
        hex16(h->export_id, a);
        hex16(export_id, b);
        return prefrec_error_set(err, PREFREC_E_STALE,
                                 "member record: of export %s (byte 16), not of the current export "
                                 "%s (an old or replayed record)",
                                 a, b);
    }
    if (kid && memcmp(h->member_kid, kid, PREFREC_MEMBER_ID_SIZE)) {
        hex16(h->member_kid, a);
        hex16(kid, b);
        return prefrec_error_set(err, PREFREC_E_DENIED,
                                 "member record: for member key id %s (byte 32), not %s (another "
                                 "member's record)",
                                 a, b);
    }
    return PREFREC_OK;
}

static prefrec_status decrypt(const uint8_t *b, const prefrec_member_header *h,
                              const uint8_t key[PREFREC_MEMBER_KEY_SIZE], uint8_t **payload,
                              size_t *payload_len, prefrec_error *err) {
    prefrec_status s = crypto_ready(err);
    if (s) return s;
    uint8_t *m = malloc(h->payload_len ? h->payload_len : 1);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "member record: out of memory");
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            m, &mlen, NULL, b + PREFREC_MEMBER_HEADER_SIZE,
            (unsigned long long)h->payload_len + PREFREC_MEMBER_TAG_SIZE, b,
            PREFREC_MEMBER_HEADER_SIZE, h->nonce, key) != 0 ||
        mlen != h->payload_len) {
        prefrec_member_wipe_free(m, h->payload_len ? h->payload_len : 1);
        return prefrec_error_set(err, PREFREC_E_DENIED, "%s", denied_msg);
    }
    *payload = m;
    *payload_len = h->payload_len;
    return PREFREC_OK;
}

prefrec_status prefrec_member_open(const void *bytes, size_t len,
                                   const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                   const uint8_t *kid, const uint8_t key[PREFREC_MEMBER_KEY_SIZE],
                                   uint8_t **payload, size_t *payload_len, prefrec_error *err) {
    *payload = NULL;
    *payload_len = 0;
    prefrec_member_header h;
    prefrec_status s = open_check(bytes, len, export_id, kid, &h, err);
    if (s) return s;
    if (!key) return prefrec_error_set(err, PREFREC_E_INVAL, "member record: no key given");
    return decrypt(bytes, &h, key, payload, payload_len, err);
}

prefrec_status prefrec_member_open_token(const void *bytes, size_t len,
                                         const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                         const uint8_t *kid, const uint8_t *token, size_t token_len,
                                         uint8_t **payload, size_t *payload_len,
                                         prefrec_error *err) {
    *payload = NULL;
    *payload_len = 0;
    prefrec_member_header h;
    prefrec_status s = open_check(bytes, len, export_id, kid, &h, err);
    if (s) return s;
    uint8_t key[PREFREC_MEMBER_KEY_SIZE];
    s = prefrec_member_key_token(token, token_len, h.export_id, h.member_kid, key, err);
    /* a PIN record given a token: the same answer as a wrong token */
    if (!s && h.kind != PREFREC_MEMBER_KIND_TOKEN)
        s = prefrec_error_set(err, PREFREC_E_DENIED, "%s", denied_msg);
    if (!s) s = decrypt(bytes, &h, key, payload, payload_len, err);
    sodium_memzero(key, sizeof key);
    return s;
}

prefrec_status prefrec_member_open_pin(const void *bytes, size_t len,
                                       const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                       const uint8_t *kid, const char *pin, size_t pin_len,
                                       uint8_t **payload, size_t *payload_len, prefrec_error *err) {
    *payload = NULL;
    *payload_len = 0;
    prefrec_member_header h;
    prefrec_status s = open_check(bytes, len, export_id, kid, &h, err);
    if (s) return s;
    s = check_pin(pin, pin_len, err);
    if (s) return s;
    if (h.kind != PREFREC_MEMBER_KIND_PIN)
        return prefrec_error_set(err, PREFREC_E_DENIED, "%s", denied_msg);
    uint8_t key[PREFREC_MEMBER_KEY_SIZE];
    s = prefrec_member_key_pin(pin, pin_len, &h, key, err);
    if (!s) s = decrypt(bytes, &h, key, payload, payload_len, err);
    sodium_memzero(key, sizeof key);
    return s;
}

prefrec_status prefrec_member_seal_with(const prefrec_member_seal_params *sp, const void *payload,
                                        size_t n, const uint8_t nonce[PREFREC_MEMBER_NONCE_SIZE],
                                        const uint8_t salt[PREFREC_MEMBER_SALT_SIZE], uint8_t **out,
                                        size_t *out_len, prefrec_error *err) {
    *out = NULL;
    *out_len = 0;
    if (n > PREFREC_MEMBER_PAYLOAD_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "member record: payload of %zu bytes is over the %u a reader "
                                 "accepts",
                                 n, PREFREC_MEMBER_PAYLOAD_MAX);
    if (!nonce) return prefrec_error_set(err, PREFREC_E_INVAL, "member record: no nonce given");
    uint8_t key[PREFREC_MEMBER_KEY_SIZE];
    uint32_t ops = 0, mem = 0;
    prefrec_status s;
    if (sp->kind == PREFREC_MEMBER_KIND_TOKEN) {
        s = prefrec_member_key_token(sp->token, sp->token_len, sp->export_id, sp->member_kid, key,
                                     err);
    } else if (sp->kind == PREFREC_MEMBER_KIND_PIN) {
        ops = sp->pin_ops ? sp->pin_ops : PREFREC_MEMBER_PIN_OPS;
        mem = sp->pin_mem_kib ? sp->pin_mem_kib : PREFREC_MEMBER_PIN_MEM_KIB;
        s = salt
            ? pin_key(sp->pin, sp->pin_len, ops, mem, salt, sp->export_id, sp->member_kid, key, err)
            : prefrec_error_set(err, PREFREC_E_INVAL, "member record: no salt given");
    } else {
        s = prefrec_error_set(err, PREFREC_E_INVAL, "member record: key kind %u is not 1 or 2",
                              sp->kind);
    }
    if (s) return s;
    size_t total = PREFREC_MEMBER_HEADER_SIZE + n + PREFREC_MEMBER_TAG_SIZE;
    uint8_t *r = calloc(1, total);
    if (!r) {
        sodium_memzero(key, sizeof key);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "member record: out of memory");
    }
    memcpy(r, PREFREC_MEMBER_MAGIC, 8);
    wr32(r + PREFREC_MEMBER_OFF_VERSION, PREFREC_MEMBER_VERSION);
    wr32(r + PREFREC_MEMBER_OFF_HEADER_SIZE, PREFREC_MEMBER_HEADER_SIZE);
    memcpy(r + PREFREC_MEMBER_OFF_EXPORT, sp->export_id, PREFREC_MEMBER_ID_SIZE);
    memcpy(r + PREFREC_MEMBER_OFF_KID, sp->member_kid, PREFREC_MEMBER_ID_SIZE);
    wr32(r + PREFREC_MEMBER_OFF_DAY, sp->issued_day);
    wr32(r + PREFREC_MEMBER_OFF_KIND, sp->kind);
    wr32(r + PREFREC_MEMBER_OFF_PAYLOAD_LEN, (uint32_t)n);
    wr32(r + PREFREC_MEMBER_OFF_PIN_OPS, ops);
    wr32(r + PREFREC_MEMBER_OFF_PIN_MEM, mem);
    if (sp->kind == PREFREC_MEMBER_KIND_PIN)
        memcpy(r + PREFREC_MEMBER_OFF_SALT, salt, PREFREC_MEMBER_SALT_SIZE);
    memcpy(r + PREFREC_MEMBER_OFF_NONCE, nonce, PREFREC_MEMBER_NONCE_SIZE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(r + PREFREC_MEMBER_HEADER_SIZE, &clen, payload, n, r,
                                               PREFREC_MEMBER_HEADER_SIZE, NULL,
                                               r + PREFREC_MEMBER_OFF_NONCE, key);
    sodium_memzero(key, sizeof key);
    *out = r;
    *out_len = total;
    return PREFREC_OK;
}

/* ---- the member state ------------------------------------------------------------------------ */

void prefrec_member_state_free(prefrec_member_state *s) {
    if (!s) return;
    for (uint32_t a = 0; a < s->n_aff; a++) {
        prefrec_member_aff *f = &s->aff[a];
        prefrec_member_wipe_free(f->vec, (size_t)f->dim * sizeof(float));
        prefrec_member_wipe_free(f->items, (size_t)f->n_items * sizeof *f->items);
        prefrec_member_wipe_free(f->days, (size_t)f->n_days * sizeof *f->days);
    }
    prefrec_member_wipe_free(s->aff, (size_t)s->n_aff * sizeof *s->aff);
    prefrec_member_wipe_free(s, sizeof *s);
}

/* strnlen (POSIX, not C11): the length of s up to its NUL or cap bytes */
static size_t bounded_len(const char *s, size_t cap) {
    const char *z = memchr(s, 0, cap);
    return z ? (size_t)(z - s) : cap;
}

static int aff_name_ok(const char *s, size_t n) {
    if (n < 1 || n > PREFREC_MEMBER_AFF_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E) return 0;
    return 1;
}

/* The checks of item i shared by decode (at = the byte of the item) and encode. */
static prefrec_status check_item(const prefrec_member_aff *f, uint32_t i, size_t at,
                                 prefrec_error *err) {
    const prefrec_member_item *it = &f->items[i];
    if (i && it->product <= f->items[i - 1].product)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member state: %s item %u (byte %zu): product %u is not after %u "
                                 "(ascending, distinct)",
                                 f->affiliate, i, at, it->product, f->items[i - 1].product);
    if (it->count < 1 || it->n_days < 1 || it->n_days > it->count)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member state: %s item %u (byte %zu): count %u, %u days (need "
                                 "1 <= days <= count)",
                                 f->affiliate, i, at, it->count, it->n_days);
    for (uint32_t d = 1; d < it->n_days; d++)
        if (it->days[d] <= it->days[d - 1])
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "member state: %s item %u (byte %zu): day %u (%d) is not "
                                     "after %d (ascending, distinct)",
                                     f->affiliate, i, at, d, it->days[d], it->days[d - 1]);
    return PREFREC_OK;
}

static prefrec_status check_vec(const prefrec_member_aff *f, prefrec_error *err) {
    if (f->dim > PREFREC_MEMBER_DIM_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE, "member state: %s: dim %u is over %u",
                                 f->affiliate, f->dim, PREFREC_MEMBER_DIM_MAX);
    if (f->dim && !isfinite(f->bias))
        return prefrec_error_set(err, PREFREC_E_FORMAT, "member state: %s: bias is not finite",
                                 f->affiliate);
    for (uint32_t d = 0; d < f->dim; d++)
        if (!isfinite(f->vec[d]))
            return prefrec_error_set(err, PREFREC_E_FORMAT,
                                     "member state: %s: vector element %u is not finite",
                                     f->affiliate, d);
    return PREFREC_OK;
}

static prefrec_status check_demog(int gender, float age, prefrec_error *err) {
    if (gender != PREFREC_GENDER_UNKNOWN && gender != PREFREC_GENDER_MALE &&
        gender != PREFREC_GENDER_FEMALE)
        return prefrec_error_set(err, PREFREC_E_FORMAT, "member state: gender %d (byte 0)", gender);
    if (!isnan(age) && !(age >= 0 && age <= PREFREC_AGE_MAX))
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "member state: age %g (byte 4) is not 0..%d or unknown",
                                 (double)age, PREFREC_AGE_MAX);
    return PREFREC_OK;
}

#define NEED(k) \
    do { \
        if ((k) > len - at) { \
            s = prefrec_error_set(err, PREFREC_E_FORMAT, \
                                  "member state: %zu bytes, truncated at byte %zu", len, at); \
            goto fail; \
        } \
    } while (0)

prefrec_status prefrec_member_state_decode(const uint8_t *p, size_t len, prefrec_member_state **out,
                                           prefrec_error *err) {
    *out = NULL;
    prefrec_status s = PREFREC_OK;
    size_t at = 0;
    uint64_t items_total = 0, days_total = 0;
    prefrec_member_state *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
    NEED(8);
    m->gender = (int)p[0] - 1;
    uint32_t n_aff = p[1];
    size_t cl = rd16(p + 2);
    m->age = rdf32(p + 4);
    if ((s = check_demog(m->gender, m->age, err))) goto fail;
    if (n_aff > PREFREC_MEMBER_AFFS_MAX) {
        s = prefrec_error_set(err, PREFREC_E_RANGE,
                              "member state: %u affiliates (byte 1), at most %u", n_aff,
                              PREFREC_MEMBER_AFFS_MAX);
        goto fail;
    }
    at = 8;
    NEED(cl);
    prefrec_error ce = {0};
    if (check_code((const char *)p + at, cl, &ce)) {
        s = prefrec_error_set(err, PREFREC_E_FORMAT, "member state: code (byte %zu): %s", at,
                              ce.msg);
        goto fail;
    }
    memcpy(m->code, p + at, cl);
    at += cl;
    m->aff = calloc(n_aff ? n_aff : 1, sizeof *m->aff);
    if (!m->aff) {
        s = prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
        goto fail;
    }
    for (uint32_t a = 0; a < n_aff; a++) {
        prefrec_member_aff *f = &m->aff[a];
        m->n_aff = a + 1; /* what is allocated so far is freed on failure */
        NEED(1);
        size_t nl = p[at];
        at++;
        NEED(nl);
        if (!aff_name_ok((const char *)p + at, nl)) {
            s = prefrec_error_set(err, PREFREC_E_FORMAT,
                                  "member state: affiliate %u name (byte %zu) is not 1..%u "
                                  "printable ASCII bytes",
                                  a, at - 1, PREFREC_MEMBER_AFF_MAX);
            goto fail;
        }
        memcpy(f->affiliate, p + at, nl);
        at += nl;
        for (uint32_t b = 0; b < a; b++)
            if (!strcmp(m->aff[b].affiliate, f->affiliate)) {
                s = prefrec_error_set(err, PREFREC_E_FORMAT,
                                      "member state: affiliate %s given twice (byte %zu)",
                                      f->affiliate, at - nl);
                goto fail;
            }
        NEED(6);
        f->dim = rd16(p + at);
        uint32_t ni = rd32(p + at + 2);
        at += 6;
        if (f->dim > PREFREC_MEMBER_DIM_MAX || ni > PREFREC_MEMBER_ITEMS_MAX - items_total) {
            s = prefrec_error_set(err, PREFREC_E_RANGE,
                                  "member state: %s (byte %zu): dim %u, %u items: over %u, or "
                                  "over %u items in all",
                                  f->affiliate, at - 6, f->dim, ni, PREFREC_MEMBER_DIM_MAX,
                                  PREFREC_MEMBER_ITEMS_MAX);
            goto fail;
        }
        items_total += ni;
        if (f->dim) {
            NEED(4 + (size_t)f->dim * 4);
            f->vec = malloc((size_t)f->dim * sizeof(float));
            if (!f->vec) {
                s = prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
                goto fail;
            }
            f->bias = rdf32(p + at);
            for (uint32_t d = 0; d < f->dim; d++) f->vec[d] = rdf32(p + at + 4 + 4 * (size_t)d);
            if ((s = check_vec(f, err))) goto fail;
            at += 4 + (size_t)f->dim * 4;
        }
        f->items = malloc((ni ? ni : 1) * sizeof *f->items);
        if (!f->items) {
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
            goto fail;
        }
        /* the days of every item of this affiliate: counted on a first pass over the items */
        size_t nd = 0, at0 = at;
        for (uint32_t i = 0; i < ni; i++) {
            NEED(12);
            uint32_t n = rd32(p + at + 8);
            if (n > PREFREC_MEMBER_DAYS_MAX - days_total) {
                s = prefrec_error_set(err, PREFREC_E_RANGE,
                                      "member state: %s item %u (byte %zu): %u days, over %u "
                                      "days in all",
                                      f->affiliate, i, at, n, PREFREC_MEMBER_DAYS_MAX);
                goto fail;
            }
            days_total += n;
            nd += n;
            at += 12;
            NEED((size_t)n * 4);
            at += (size_t)n * 4;
        }
        f->days = malloc((nd ? nd : 1) * sizeof *f->days);
        if (!f->days) {
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
            goto fail;
        }
        f->n_days = (uint32_t)nd;
        f->n_items = ni;
        at = at0;
        for (uint32_t i = 0, k = 0; i < ni; i++) {
            prefrec_member_item *it = &f->items[i];
            it->product = rd32(p + at);
            it->count = rd32(p + at + 4);
            it->n_days = rd32(p + at + 8);
            it->days = f->days + k;
            for (uint32_t d = 0; d < it->n_days; d++)
                f->days[k++] = (int32_t)rd32(p + at + 12 + 4 * (size_t)d);
            if ((s = check_item(f, i, at, err))) goto fail;
            at += 12 + 4 * (size_t)it->n_days;
        }
    }
    if (len % PREFREC_MEMBER_PAD || len - at >= PREFREC_MEMBER_PAD) {
        s = prefrec_error_set(err, PREFREC_E_FORMAT,
                              "member state: %zu bytes for %zu of content: the padding should "
                              "make it the next multiple of %u",
                              len, at, PREFREC_MEMBER_PAD);
        goto fail;
    }
    for (size_t k = at; k < len; k++)
        if (p[k]) {
            s = prefrec_error_set(err, PREFREC_E_FORMAT,
                                  "member state: padding byte %zu is not zero", k);
            goto fail;
        }
    *out = m;
    return PREFREC_OK;
fail:
    prefrec_member_state_free(m);
    return s;
}
#undef NEED

prefrec_status prefrec_member_state_encode(const prefrec_member_state *s, uint8_t **out,
                                           size_t *len, prefrec_error *err) {
    *out = NULL;
    *len = 0;
    size_t cl = bounded_len(s->code, sizeof s->code);
    prefrec_status st = check_code(s->code, cl, err);
    if (!st) st = check_demog(s->gender, s->age, err);
    if (st) return st;
    if (s->n_aff > PREFREC_MEMBER_AFFS_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE, "member state: %u affiliates, at most %u",
                                 s->n_aff, PREFREC_MEMBER_AFFS_MAX);
    uint64_t need = 8 + cl, items = 0, days = 0;
    for (uint32_t a = 0; a < s->n_aff; a++) {
        const prefrec_member_aff *f = &s->aff[a];
        size_t nl = bounded_len(f->affiliate, sizeof f->affiliate);
        if (!aff_name_ok(f->affiliate, nl))
            return prefrec_error_set(err, PREFREC_E_INVAL, "member state: affiliate %u name", a);
        for (uint32_t b = 0; b < a; b++)
            if (!strcmp(s->aff[b].affiliate, f->affiliate))
                return prefrec_error_set(err, PREFREC_E_INVAL,
                                         "member state: affiliate %s given twice", f->affiliate);
        if ((st = check_vec(f, err))) return st;
        uint64_t nd = 0;
        for (uint32_t i = 0; i < f->n_items; i++) {
            if ((st = check_item(f, i, 0, err))) return st;
            nd += f->items[i].n_days;
        }
        days += nd;
        if (days > PREFREC_MEMBER_DAYS_MAX)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "member state: %llu days, at most %u in all",
                                     (unsigned long long)days, PREFREC_MEMBER_DAYS_MAX);
        items += f->n_items;
        if (items > PREFREC_MEMBER_ITEMS_MAX)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "member state: %llu items, at most %u in all",
                                     (unsigned long long)items, PREFREC_MEMBER_ITEMS_MAX);
        need += 1 + nl + 6 + (f->dim ? 4 + 4 * (uint64_t)f->dim : 0) + 12 * (uint64_t)f->n_items +
            4 * nd;
    }
    uint64_t padded = (need + PREFREC_MEMBER_PAD - 1) / PREFREC_MEMBER_PAD * PREFREC_MEMBER_PAD;
    if (padded > PREFREC_MEMBER_PAYLOAD_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE,
                                 "member state: %llu bytes, over the %u of a record",
                                 (unsigned long long)padded, PREFREC_MEMBER_PAYLOAD_MAX);
    uint8_t *p = calloc(1, (size_t)padded);
    if (!p) return prefrec_error_set(err, PREFREC_E_NOMEM, "member state: out of memory");
    p[0] = (uint8_t)(s->gender + 1);
    p[1] = (uint8_t)s->n_aff;
    wr16(p + 2, (uint16_t)cl);
    wrf32(p + 4, s->age);
    memcpy(p + 8, s->code, cl);
    size_t at = 8 + cl;
    for (uint32_t a = 0; a < s->n_aff; a++) {
        const prefrec_member_aff *f = &s->aff[a];
        size_t nl = strlen(f->affiliate);
        p[at++] = (uint8_t)nl;
        memcpy(p + at, f->affiliate, nl);
        at += nl;
        wr16(p + at, (uint16_t)f->dim);
        wr32(p + at + 2, f->n_items);
        at += 6;
        if (f->dim) {
            wrf32(p + at, f->bias);
            for (uint32_t d = 0; d < f->dim; d++) wrf32(p + at + 4 + 4 * (size_t)d, f->vec[d]);
            at += 4 + 4 * (size_t)f->dim;
        }
        for (uint32_t i = 0; i < f->n_items; i++) {
            const prefrec_member_item *it = &f->items[i];
            wr32(p + at, it->product);
            wr32(p + at + 4, it->count);
            wr32(p + at + 8, it->n_days);
            for (uint32_t d = 0; d < it->n_days; d++)
                wr32(p + at + 12 + 4 * (size_t)d, (uint32_t)it->days[d]);
            at += 12 + 4 * (size_t)it->n_days;
        }
    }
    *out = p;
    *len = (size_t)padded;
    return PREFREC_OK;
}
