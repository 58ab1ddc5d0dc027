/* prefrec/native/member_seal.h - sealing member records with fresh randomness (native only: the
 * portable core opens records but never needs random numbers; prefrec/member.h).
 *
 *   uint8_t *rec; size_t n;
 *   prefrec_member_seal_params sp = {.kind = PREFREC_MEMBER_KIND_TOKEN, .issued_day = day,
 *                                    .token = token, .token_len = 16};
 *   memcpy(sp.export_id, export_id, 16); memcpy(sp.member_kid, kid, 16);
 *   if (prefrec_member_seal(&sp, payload, payload_len, &rec, &n, &err)) ...
 *
 * Nonces (24 bytes) and PIN salts (16 bytes) come from libsodium's randombytes_buf (the OS's
 * getrandom), new for every record. Thread-safe. */
#ifndef PREFREC_NATIVE_MEMBER_SEAL_H
#define PREFREC_NATIVE_MEMBER_SEAL_H

#include "prefrec/member.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seal payload[0..n) as sp says, with a fresh nonce (and salt for a PIN record). */
prefrec_status prefrec_member_seal(const prefrec_member_seal_params *sp, const void *payload,
                                   size_t n, uint8_t **out, size_t *out_len, prefrec_error *err);

/* n random bytes from the OS (export ids, naming keys, token master keys). */
prefrec_status prefrec_member_random(uint8_t *buf, size_t n, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
