/* test_pack_sign.c - Ed25519 pack signatures (prefrec/pack_sign.h) in every build: RFC 8032's
 * test vectors 1 and 2 (keys and signatures; also what node:crypto / OpenSSL give), and a real
 * pack (tests/tiny_pack.h) signed and verified, then refused: one bit changed at every byte of the
 * pack and of the signature, the pack cut at every length, a signature of 0..63 and 65 bytes,
 * another key, another pack's signature. Prints the tiny pack's signature (compared between
 * builds by scripts/test.sh). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/pack.h"
#include "prefrec/pack_sign.h"
#include "tiny_pack.h"

static void unhex(const char *h, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* RFC 8032, 7.1: TEST 1 (empty message) and TEST 2 (the byte 0x72) */
static const char *const vec[2][4] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"}};

static void test_rfc8032(void) {
    for (int v = 0; v < 2; v++) {
        uint8_t seed[32], pk[32], want_pk[32], sig[64], want_sig[64], msg[1];
        size_t n = strlen(vec[v][2]) / 2;
        unhex(vec[v][0], seed, 32);
        unhex(vec[v][1], want_pk, 32);
        unhex(vec[v][2], msg, n);
        unhex(vec[v][3], want_sig, 64);
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_pack_sign_public(seed, pk, &err), PREFREC_OK);
        CHECK(memcmp(pk, want_pk, 32) == 0);
        CHECK_EQ_INT(prefrec_pack_sign(msg, n, seed, sig, &err), PREFREC_OK);
        CHECK(memcmp(sig, want_sig, 64) == 0);
        CHECK_EQ_INT(prefrec_pack_verify(msg, n, want_sig, 64, want_pk, &err), PREFREC_OK);
        /* the other vector's key */
        uint8_t other[32];
        unhex(vec[1 - v][1], other, 32);
        CHECK_EQ_INT(prefrec_pack_verify(msg, n, want_sig, 64, other, &err), PREFREC_E_DENIED);
    }
}

static void test_pack(void) {
    size_t len = 0;
    unsigned char *pack = tiny_pack(&len, 2);
    CHECK(pack != NULL);
    if (!pack) return;
    prefrec_error err = {0};
    prefrec_pack *p = NULL;
    CHECK_EQ_INT(prefrec_pack_open(pack, len, &p, &err), PREFREC_OK); /* a pack the engine reads */
    prefrec_pack_free(p);
    uint8_t seed[32], pk[32], pk2[32], sig[64];
    unhex(vec[0][0], seed, 32);
    CHECK_EQ_INT(prefrec_pack_sign_public(seed, pk, &err), PREFREC_OK);
    unhex(vec[1][1], pk2, 32);
    CHECK_EQ_INT(prefrec_pack_sign(pack, len, seed, sig, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig, 64, pk, &err), PREFREC_OK);
    char sh[129];
    hex(sig, 64, sh);
    printf("tiny pack: %zu bytes, signature %s\n", len, sh);

    /* one bit at every byte of the pack: refused, with the one message */
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        pack[i] ^= 0x10;
        refused += prefrec_pack_verify(pack, len, sig, 64, pk, &err) == PREFREC_E_DENIED;
        pack[i] ^= 0x10;
    }
    CHECK_EQ_INT(refused, len);
    CHECK(strstr(err.msg, "pack signature does not match the pack") != NULL);
    /* the pack cut at every length, and one byte longer */
    refused = 0;
    for (size_t n = 0; n < len; n++)
        refused += prefrec_pack_verify(pack, n, sig, 64, pk, &err) == PREFREC_E_DENIED;
    CHECK_EQ_INT(refused, len);
    unsigned char *longer = malloc(len + 1);
    CHECK(longer != NULL);
    if (longer) {
        memcpy(longer, pack, len);
        longer[len] = 0;
        CHECK_EQ_INT(prefrec_pack_verify(longer, len + 1, sig, 64, pk, &err), PREFREC_E_DENIED);
        free(longer);
    }
    /* one bit at every byte of the signature */
    refused = 0;
    for (size_t i = 0; i < 64; i++) {
        sig[i] ^= 0x01;
        refused += prefrec_pack_verify(pack, len, sig, 64, pk, &err) == PREFREC_E_DENIED;
        sig[i] ^= 0x01;
    }
    CHECK_EQ_INT(refused, 64);
    /* a signature of another length: a format error naming the length */
    for (size_t n = 0; n < 64; n++)
        CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig, n, pk, &err), PREFREC_E_FORMAT);
    CHECK(strstr(err.msg, "a pack signature is 64 bytes, this one 63") != NULL);
    uint8_t sig65[65];
    memcpy(sig65, sig, 64);
    sig65[64] = 0;
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig65, 65, pk, &err), PREFREC_E_FORMAT);
    /* another key; another pack's signature (variant 1 of the tiny pack) */
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig, 64, pk2, &err), PREFREC_E_DENIED);
    size_t len1 = 0;
    unsigned char *pack1 = tiny_pack(&len1, 1);
    uint8_t sig1[64];
    CHECK_EQ_INT(prefrec_pack_sign(pack1, len1, seed, sig1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_verify(pack1, len1, sig1, 64, pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig1, 64, pk, &err), PREFREC_E_DENIED);
    /* still fine after all that, and NULL arguments are errors, not crashes */
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig, 64, pk, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_verify(NULL, len, sig, 64, pk, &err), PREFREC_E_INVAL);
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, NULL, 64, pk, &err), PREFREC_E_INVAL);
    CHECK_EQ_INT(prefrec_pack_verify(pack, len, sig, 64, NULL, NULL), PREFREC_E_INVAL);
    CHECK_EQ_INT(prefrec_pack_sign(NULL, 1, seed, sig, &err), PREFREC_E_INVAL);
    free(pack1);
    free(pack);
}

int main(void) {
    test_rfc8032();
    test_pack();
    return check_report("test_pack_sign");
}
