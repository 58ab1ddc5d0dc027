/* prefrec/pack_sign.h - Ed25519 signatures of model packs (SECURITY.md, "Pack authenticity").
 *
 *   uint8_t sig[PREFREC_SIGN_BYTES];
 *   prefrec_pack_sign(pack_bytes, len, secret_seed, sig, &err);        // prefrec export --sign-key
 *   if (prefrec_pack_verify(pack_bytes, len, sig, sig_len, public_key, &err))  // before pack_open
 *       refuse(err.msg);
 *
 * A pack's signature is the 64-byte Ed25519 signature (RFC 8032, the pure variant: libsodium's
 * crypto_sign_detached) of the whole pack file, every byte as written; `prefrec export
 * --sign-key FILE` writes it as <pack>.sig (the 64 bytes, nothing else). Being plain Ed25519
 * over the file, any Ed25519 implementation checks it too (node:crypto `crypto.verify(null,
 * pack, publicKey, sig)`, WebCrypto's Ed25519, OpenSSL). The public key is 32 bytes; the secret
 * key is the 32-byte seed it derives from (libsodium's crypto_sign_seed_keypair).
 *
 * Portable (native, Emscripten, WASI) and deterministic: no randomness, no allocation. The
 * verifier must get the public key from its own configuration (the page's or the kiosk's, pinned
 * with the engine), never from a file beside the packs: whoever can replace a pack can replace
 * such a file too. A valid signature proves who made the pack, not that it is the newest: an
 * older signed pack can be replayed (its export_id then refuses the current member records). */
#ifndef PREFREC_PACK_SIGN_H
#define PREFREC_PACK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_SIGN_BYTES 64 /* a signature */
#define PREFREC_SIGN_PUBLIC_BYTES 32 /* a public key */
#define PREFREC_SIGN_SEED_BYTES 32 /* a secret key (seed) */

/* The public key of a secret seed. PREFREC_E_INVAL if libsodium cannot start. */
prefrec_status prefrec_pack_sign_public(const uint8_t seed[PREFREC_SIGN_SEED_BYTES],
                                        uint8_t public_key[PREFREC_SIGN_PUBLIC_BYTES],
                                        prefrec_error *err);

/* The signature of bytes[0 .. len) under the secret seed. */
prefrec_status prefrec_pack_sign(const void *bytes, size_t len,
                                 const uint8_t seed[PREFREC_SIGN_SEED_BYTES],
                                 uint8_t sig[PREFREC_SIGN_BYTES], prefrec_error *err);

/* PREFREC_OK when sig (sig_len bytes, as read from the .sig file) is public_key's signature of
 * bytes[0 .. len). Otherwise, before any of the pack is used:
 *   PREFREC_E_FORMAT  sig_len is not 64 ("a pack signature is 64 bytes, this one N");
 *   PREFREC_E_DENIED  the signature does not match: the pack or the signature was altered, or
 *                     another key signed it (one error for all three: no oracle);
 *   PREFREC_E_INVAL   a NULL argument. */
prefrec_status prefrec_pack_verify(const void *bytes, size_t len, const uint8_t *sig,
                                   size_t sig_len,
                                   const uint8_t public_key[PREFREC_SIGN_PUBLIC_BYTES],
                                   prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
