/* prefrec/member.h - sealed member records: one member's own state (code, gender, age, purchases,
 * per affiliate the trained customer vector), encrypted so that it opens only with that member's
 * secret (SECURITY.md, "Members' data: threat model"). Public files (item packs, the engine,
 * pages) hold no member data; a member's state travels as one of these records.
 *
 *   // kiosk: the member scanned their card (token) for the current export
 *   uint8_t *state = NULL; size_t n = 0;
 *   prefrec_error err = {0};
 *   if (prefrec_member_open_token(rec, rec_len, export_id, kid, token, 16, &state, &n, &err))
 *       show(err.msg);               // PREFREC_E_DENIED: "cannot open" (wrong card or altered)
 *   prefrec_member_state *m = NULL;
 *   prefrec_member_state_decode(state, n, &m, &err);  ... prefrec_member_state_free(m);
 *   prefrec_member_wipe_free(state, n);
 *
 * Record layout (all integers little-endian; PREFREC_MEMBER_OFF_*):
 *   [0,112)      header: magic "PRFMEMB\0", version, header size, export id, member key id,
 *                issued day, key kind, payload length, Argon2id cost, flags, salt, nonce
 *   [112,112+L)  the payload, XChaCha20-Poly1305 (IETF) ciphertext, L = payload length
 *   [112+L,+16)  the Poly1305 tag
 * The whole header is the AEAD's associated data: a record moved to another member, presented
 * with another export or changed in any byte does not open.
 *
 * Keys (HMAC-SHA-256 and Argon2id are libsodium's; "first 16" = the MAC cut to 16 bytes):
 *   member key id = first 16 of HMAC-SHA-256(key = the export's naming key, "prefrec kid v1" || code)
 *   card token    = first 16 of HMAC-SHA-256(key = the shop's token master key,
 *                   "prefrec token v1" || code)
 *   record key    = HMAC-SHA-256(key = secret, "prefrec record v1" || kind || export id || kid)
 *                   secret = the token (kind 1), or Argon2id(PIN, salt, passes, memory) (kind 2)
 * where the quoted contexts are hashed with their terminating NUL, kind is a u32 and "||" is
 * concatenation. A shop's backend in any language derives them with its standard library's
 * HMAC (node:crypto createHmac('sha256', key), Python hmac.new(key, msg, 'sha256')).
 *
 * Errors: a wrong secret and an altered record are the same PREFREC_E_DENIED "cannot open"; a
 * record of another member PREFREC_E_DENIED (naming it); of another export PREFREC_E_STALE; a
 * record shorter or longer than its header says, or not a record, PREFREC_E_FORMAT; an unknown
 * version PREFREC_E_VERSION; sizes or a PIN cost over the budget below PREFREC_E_RANGE.
 * Opening needs no randomness (every build). Sealing with fresh nonces and salts is native
 * (prefrec/native/member_seal.h); prefrec_member_seal_with takes them from the caller.
 * Functions keep no state; thread-safe. Buffers holding keys or plaintext are wiped before they
 * are freed by these functions. */
#ifndef PREFREC_MEMBER_H
#define PREFREC_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_MEMBER_MAGIC "PRFMEMB" /* 8 bytes on disk including the trailing NUL */
#define PREFREC_MEMBER_VERSION 2u /* 2: items carry their purchase days */
#define PREFREC_MEMBER_HEADER_SIZE 112u
#define PREFREC_MEMBER_TAG_SIZE 16u
#define PREFREC_MEMBER_ID_SIZE 16u /* export id, member key id, card token */
#define PREFREC_MEMBER_KEY_SIZE 32u /* record keys, naming keys, token master keys */
#define PREFREC_MEMBER_SALT_SIZE 16u
#define PREFREC_MEMBER_NONCE_SIZE 24u
#define PREFREC_MEMBER_TOKEN_MIN 16u /* a token is 128 to 512 bits */
#define PREFREC_MEMBER_TOKEN_MAX 64u
#define PREFREC_MEMBER_PIN_MIN 4u /* PIN bytes */
#define PREFREC_MEMBER_PIN_MAX 64u
#define PREFREC_MEMBER_PAYLOAD_MAX (2u << 20) /* budget: at most 2 MiB of state per record */
#define PREFREC_MEMBER_PIN_OPS 3u /* Argon2id passes the sealer uses */
#define PREFREC_MEMBER_PIN_MEM_KIB (64u << 10) /* and memory: 64 MiB */
#define PREFREC_MEMBER_PIN_OPS_MAX 8u /* budget: a reader refuses a record asking for more */
#define PREFREC_MEMBER_PIN_MEM_KIB_MAX (256u << 10)

enum {
    PREFREC_MEMBER_OFF_MAGIC = 0, /* 8 bytes "PRFMEMB\0" */
    PREFREC_MEMBER_OFF_VERSION = 8, /* u32 */
    PREFREC_MEMBER_OFF_HEADER_SIZE = 12, /* u32, = 112 */
    PREFREC_MEMBER_OFF_EXPORT = 16, /* 16 bytes */
    PREFREC_MEMBER_OFF_KID = 32, /* 16 bytes */
    PREFREC_MEMBER_OFF_DAY = 48, /* u32 days since 1970-01-01 */
    PREFREC_MEMBER_OFF_KIND = 52, /* u32, PREFREC_MEMBER_KIND_* */
    PREFREC_MEMBER_OFF_PAYLOAD_LEN = 56, /* u32 */
    PREFREC_MEMBER_OFF_PIN_OPS = 60, /* u32, 0 for tokens */
    PREFREC_MEMBER_OFF_PIN_MEM = 64, /* u32 KiB, 0 for tokens */
    PREFREC_MEMBER_OFF_FLAGS = 68, /* u32, 0 in version 1 */
    PREFREC_MEMBER_OFF_SALT = 72, /* 16 bytes; zero for tokens */
    PREFREC_MEMBER_OFF_NONCE = 88 /* 24 bytes */
};

enum { PREFREC_MEMBER_KIND_TOKEN = 1, PREFREC_MEMBER_KIND_PIN = 2 };

typedef struct prefrec_member_header {
    uint32_t version, kind, issued_day, payload_len, pin_ops, pin_mem_kib;
    uint8_t export_id[PREFREC_MEMBER_ID_SIZE], member_kid[PREFREC_MEMBER_ID_SIZE];
    uint8_t salt[PREFREC_MEMBER_SALT_SIZE], nonce[PREFREC_MEMBER_NONCE_SIZE];
} prefrec_member_header;

/* Check the header of bytes[0..len) and that len is the header + payload + tag, without any
 * key. Errors: PREFREC_E_FORMAT (not a record; truncated or padded; bad field, with its byte),
 * PREFREC_E_VERSION, PREFREC_E_RANGE (payload or PIN cost over the budget). */
prefrec_status prefrec_member_header_read(const void *bytes, size_t len, prefrec_member_header *h,
                                          prefrec_error *err);

/* Member key id of a member code (1..PREFREC_MEMBER_CODE_MAX bytes) under an export's naming
 * key. Record files are named by it (hex), never by the code. */
prefrec_status prefrec_member_kid(const uint8_t naming_key[PREFREC_MEMBER_KEY_SIZE],
                                  const char *code, size_t code_len,
                                  uint8_t kid[PREFREC_MEMBER_ID_SIZE], prefrec_error *err);
/* A member's card/app token, derived from the shop's token master key (stable across exports). */
prefrec_status prefrec_member_token(const uint8_t master[PREFREC_MEMBER_KEY_SIZE], const char *code,
                                    size_t code_len, uint8_t token[PREFREC_MEMBER_ID_SIZE],
                                    prefrec_error *err);
/* The record key of a token record of export export_id and member key id kid. */
prefrec_status prefrec_member_key_token(const uint8_t *token, size_t token_len,
                                        const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                        const uint8_t kid[PREFREC_MEMBER_ID_SIZE],
                                        uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err);
/* The record key of a PIN record with header h (its salt, cost, export id and kid): one
 * Argon2id run (PREFREC_E_NOMEM if its memory cannot be had). */
prefrec_status prefrec_member_key_pin(const char *pin, size_t pin_len,
                                      const prefrec_member_header *h,
                                      uint8_t key[PREFREC_MEMBER_KEY_SIZE], prefrec_error *err);

/* Open a record with its record key. export_id: the current export (required); kid: the member
 * expected (NULL: any). *payload (malloc'ed, free with prefrec_member_wipe_free) and
 * *payload_len on success; NULL and 0 on any error. The key must be of the record's kind
 * (a kind-1 key opens no kind-2 record: the kind is in the key derivation). */
prefrec_status prefrec_member_open(const void *bytes, size_t len,
                                   const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                   const uint8_t *kid, const uint8_t key[PREFREC_MEMBER_KEY_SIZE],
                                   uint8_t **payload, size_t *payload_len, prefrec_error *err);
/* The same with the member's token or PIN (derives the key; a token record refuses a PIN and
 * the reverse, as "cannot open"). */
prefrec_status prefrec_member_open_token(const void *bytes, size_t len,
                                         const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                         const uint8_t *kid, const uint8_t *token, size_t token_len,
                                         uint8_t **payload, size_t *payload_len,
                                         prefrec_error *err);
prefrec_status prefrec_member_open_pin(const void *bytes, size_t len,
                                       const uint8_t export_id[PREFREC_MEMBER_ID_SIZE],
                                       const uint8_t *kid, const char *pin, size_t pin_len,
                                       uint8_t **payload, size_t *payload_len, prefrec_error *err);

/* What a record is sealed for. For kind TOKEN give token/token_len; for kind PIN give pin,
 * pin_len, pin_ops, pin_mem_kib (0: the defaults above) and salt. */
typedef struct prefrec_member_seal_params {
    uint32_t kind, issued_day;
    uint8_t export_id[PREFREC_MEMBER_ID_SIZE], member_kid[PREFREC_MEMBER_ID_SIZE];
    const uint8_t *token;
    size_t token_len;
    const char *pin;
    size_t pin_len;
    uint32_t pin_ops, pin_mem_kib;
} prefrec_member_seal_params;

/* Seal payload[0..n) with the caller's nonce and (PIN records) salt: for tests and fixtures.
 * A nonce must never be used twice with one key: real records come from prefrec_member_seal
 * (native), which draws both from the OS. *out (malloc'ed) holds the record, *out_len bytes. */
prefrec_status prefrec_member_seal_with(const prefrec_member_seal_params *sp, const void *payload,
                                        size_t n, const uint8_t nonce[PREFREC_MEMBER_NONCE_SIZE],
                                        const uint8_t salt[PREFREC_MEMBER_SALT_SIZE], uint8_t **out,
                                        size_t *out_len, prefrec_error *err);

/* Zero n bytes at p (not optimised away), then free(p). Accepts NULL. */
void prefrec_member_wipe_free(void *p, size_t n);

/* ---- the payload: a member's state (decoded and encoded; portable, no keys) -----------------
 * Layout (little-endian, no alignment):
 *   u8 gender (0 unknown, 1 male, 2 female), u8 affiliates A, u16 code length C, f32 age
 *   (years, NaN unknown), code bytes (UTF-8, no NUL);
 *   A times: u8 affiliate name length N (1..PREFREC_MEMBER_AFF_MAX), its bytes (printable
 *   ASCII), u16 dim D (0: no customer vector), u32 items I, when D > 0 f32 bias and D f32 vector,
 *   then I items: u32 product index (ascending, distinct), u32 count (purchase lines, >= 1), u32
 *   days N (1 <= N <= count), N i32 days (days since 1970-01-01 it was bought on: ascending,
 *   distinct; what "buy again" needs, prefrec/repeat.h);
 *   zero bytes up to a multiple of PREFREC_MEMBER_PAD (hides small size differences).
 * Product indices are the item pack's of that affiliate and export (the record is bound to the
 * export); the engine checks them against its catalogue when it uses them. */
#define PREFREC_MEMBER_CODE_MAX 64u
#define PREFREC_MEMBER_AFF_MAX 31u
#define PREFREC_MEMBER_AFFS_MAX 64u
#define PREFREC_MEMBER_DIM_MAX 1024u
#define PREFREC_MEMBER_ITEMS_MAX 100000u /* all affiliates together (the API's history limit) */
#define PREFREC_MEMBER_PAD 256u

#define PREFREC_MEMBER_DAYS_MAX 400000u /* every item's days together, all affiliates */

typedef struct prefrec_member_item {
    uint32_t product, count, n_days;
    const int32_t *days; /* n_days, ascending, distinct (decode: into the affiliate's days) */
} prefrec_member_item;

typedef struct prefrec_member_aff {
    char affiliate[PREFREC_MEMBER_AFF_MAX + 1];
    uint32_t dim; /* 0: no customer vector */
    float bias;
    float *vec; /* dim floats, or NULL */
    uint32_t n_items;
    prefrec_member_item *items;
    int32_t *days; /* decode: every item's days, in item order (NULL when encoding from items) */
    uint32_t n_days; /* entries of days[] */
} prefrec_member_aff;

typedef struct prefrec_member_state {
    char code[PREFREC_MEMBER_CODE_MAX + 1];
    int gender; /* PREFREC_GENDER_* (prefrec/demog.h) */
    float age; /* years, NaN unknown */
    uint32_t n_aff;
    prefrec_member_aff *aff;
} prefrec_member_state;

/* Decode and check a payload; errors (PREFREC_E_FORMAT, PREFREC_E_RANGE) name the byte. */
prefrec_status prefrec_member_state_decode(const uint8_t *p, size_t len, prefrec_member_state **out,
                                           prefrec_error *err);
/* Encode s (checked as decode checks it), padded. *out malloc'ed. */
prefrec_status prefrec_member_state_encode(const prefrec_member_state *s, uint8_t **out,
                                           size_t *len, prefrec_error *err);
void prefrec_member_state_free(prefrec_member_state *s); /* accepts NULL; wipes */

#ifdef __cplusplus
}
#endif
#endif
