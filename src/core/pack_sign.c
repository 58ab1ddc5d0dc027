/* pack_sign.c - Ed25519 signatures of model packs (prefrec/pack_sign.h): libsodium's
 * crypto_sign_detached / crypto_sign_verify_detached over the whole file. */
#include "prefrec/pack_sign.h"

#include <sodium.h>

/* Natively, sodium_init picks the CPU's implementations (and is required before use); the wasm
 * builds have only the portable ones and never call it (CMakeLists.txt). */
static prefrec_status sodium_ready(prefrec_error *err) {
#ifndef __wasm__
    if (sodium_init() < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack signature: libsodium did not start");
#else
    (void)err;
#endif
    return PREFREC_OK;
}

prefrec_status prefrec_pack_sign_public(const uint8_t seed[PREFREC_SIGN_SEED_BYTES],
                                        uint8_t public_key[PREFREC_SIGN_PUBLIC_BYTES],
                                        prefrec_error *err) {
    if (!seed || !public_key)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack signature: NULL key");
    prefrec_status s = sodium_ready(err);
    if (s) return s;
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, sk, seed);
    sodium_memzero(sk, sizeof sk);
    return PREFREC_OK;
}

prefrec_status prefrec_pack_sign(const void *bytes, size_t len,
                                 const uint8_t seed[PREFREC_SIGN_SEED_BYTES],
                                 uint8_t sig[PREFREC_SIGN_BYTES], prefrec_error *err) {
    if ((!bytes && len) || !seed || !sig)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack signature: NULL argument");
    prefrec_status s = sodium_ready(err);
    if (s) return s;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    int bad = crypto_sign_detached(sig, NULL, (const unsigned char *)bytes, len, sk);
    sodium_memzero(sk, sizeof sk);
    if (bad) return prefrec_error_set(err, PREFREC_E_INVAL, "pack signature: signing failed");
    return PREFREC_OK;
}

prefrec_status prefrec_pack_verify(const void *bytes, size_t len, const uint8_t *sig,
                                   size_t sig_len,
                                   const uint8_t public_key[PREFREC_SIGN_PUBLIC_BYTES],
                                   prefrec_error *err) {
    if ((!bytes && len) || !sig || !public_key)
        return prefrec_error_set(err, PREFREC_E_INVAL, "pack signature: NULL argument");
    if (sig_len != PREFREC_SIGN_BYTES)
        return prefrec_error_set(err, PREFREC_E_FORMAT,
                                 "a pack signature is %d bytes, this one %zu (truncated or not a "
                                 "signature)",
                                 PREFREC_SIGN_BYTES, sig_len);
    prefrec_status s = sodium_ready(err);
    if (s) return s;
    if (crypto_sign_verify_detached(sig, (const unsigned char *)bytes, len, public_key) != 0)
        return prefrec_error_set(err, PREFREC_E_DENIED,
                                 "pack signature does not match the pack (the pack or its "
                                 "signature was altered, or another key signed it)");
    return PREFREC_OK;
}
