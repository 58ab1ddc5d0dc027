/* member_seal.c - member records sealed with fresh nonces and salts from the OS (native; see
 * prefrec/native/member_seal.h). The format and the cryptography are src/core/member_record.c's. */
#include "prefrec/native/member_seal.h"

#include <sodium.h>

prefrec_status prefrec_member_random(uint8_t *buf, size_t n, prefrec_error *err) {
    if (sodium_init() < 0)
        return prefrec_error_set(err, PREFREC_E_IO, "random: libsodium did not start");
    randombytes_buf(buf, n);
    return PREFREC_OK;
}

prefrec_status prefrec_member_seal(const prefrec_member_seal_params *sp, const void *payload,
                                   size_t n, uint8_t **out, size_t *out_len, prefrec_error *err) {
    uint8_t nonce[PREFREC_MEMBER_NONCE_SIZE], salt[PREFREC_MEMBER_SALT_SIZE];
    *out = NULL;
    *out_len = 0;
    prefrec_status s = prefrec_member_random(nonce, sizeof nonce, err);
    if (!s) s = prefrec_member_random(salt, sizeof salt, err);
    if (!s) s = prefrec_member_seal_with(sp, payload, n, nonce, salt, out, out_len, err);
    return s;
}
