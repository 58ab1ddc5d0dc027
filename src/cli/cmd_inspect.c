/* cmd_inspect.c - `prefrec inspect FILE`: a model pack's header, manifest and tensor table;
 * with --verify-key, its Ed25519 signature checked first (prefrec/pack_sign.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "host/records.h"
#include "prefrec/pack.h"
#include "prefrec/pack_sign.h"
#include "prefrec/native/pack_write.h"

static const char *usage_text =
    "usage: prefrec inspect FILE [--verify-key KEY [--sig SIGFILE]]\n"
    "  prints the pack's format version, size, CRC32, manifest (JSON) and tensor table\n"
    "  (name, dtype, shape, file offset, bytes); exits 1 if the pack fails validation\n"
    "  --verify-key KEY  first check the pack's Ed25519 signature (SIGFILE, default FILE.sig:\n"
    "                    64 bytes, prefrec export --sign-key) with the public key KEY: 64 hex\n"
    "                    digits, or a file holding them (DIR/sign.pub); exits 1 if it does not\n"
    "                    match, before anything of the pack is read\n";

/* KEY: 64 hex digits, or a file whose first line is */
static prefrec_status public_key(const char *arg, uint8_t pk[PREFREC_SIGN_PUBLIC_BYTES],
                                 prefrec_error *err) {
    char *buf = NULL;
    size_t len = strlen(arg);
    const char *text = arg;
    if (prefrec_unhex_n(arg, len, pk, PREFREC_SIGN_PUBLIC_BYTES)) { /* not hex: a file */
        prefrec_error ferr = {0};
        prefrec_status s = prefrec_file_read(arg, 4096, &buf, &len, &ferr);
        if (s)
            return prefrec_error_set(err, s,
                                     "--verify-key %s: a public key is 64 hex digits, or a file "
                                     "holding them (%s)",
                                     arg, ferr.msg);
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
        text = buf;
    }
    int bad = text != arg && prefrec_unhex_n(text, len, pk, PREFREC_SIGN_PUBLIC_BYTES);
    free(buf);
    if (bad)
        return prefrec_error_set(err, PREFREC_E_PARSE,
                                 "--verify-key %s: a public key is 64 hex digits (or a file "
                                 "holding them on one line)",
                                 arg);
    return PREFREC_OK;
}

int prefrec_cmd_inspect(int argc, char **argv) {
    const char *file = NULL, *key_arg = NULL, *sig_arg = NULL, *v;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--verify-key", &missing))) {
            key_arg = v;
            continue;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--sig", &missing))) {
            sig_arg = v;
            continue;
        }
        if (missing) return cli_usage_error("inspect", usage_text, "%s needs a value", argv[i]);
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("inspect", usage_text, "unknown option '%s'", argv[i]);
        if (file) return cli_usage_error("inspect", usage_text, "one FILE only");
        file = argv[i];
    }
    if (!file) return cli_usage_error("inspect", usage_text, "FILE is required");
    if (sig_arg && !key_arg)
        return cli_usage_error("inspect", usage_text, "--sig needs --verify-key");
    prefrec_error err = {0};
    void *buf = NULL;
    size_t len = 0;
    prefrec_pack *p = NULL;
    uint8_t pk[PREFREC_SIGN_PUBLIC_BYTES];
    if (key_arg && public_key(key_arg, pk, &err)) return cli_fail("inspect", &err);
    if (prefrec_file_read(file, PREFREC_PACK_FILE_MAX, (char **)&buf, &len, &err))
        return cli_fail("inspect", &err);
    char sig_path[4200];
    if (key_arg) {
        char *sig = NULL;
        size_t sig_len = 0;
        snprintf(sig_path, sizeof sig_path, "%s.sig", file);
        if (!sig_arg) sig_arg = sig_path;
        prefrec_status s = prefrec_file_read(sig_arg, 4096, &sig, &sig_len, &err);
        if (!s) s = prefrec_pack_verify(buf, len, (const uint8_t *)sig, sig_len, pk, &err);
        free(sig);
        if (s) {
            char msg[PREFREC_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", err.msg);
            prefrec_error_set(&err, s, "%s (signature %s): %s", file, sig_arg, msg);
            free(buf);
            return cli_fail("inspect", &err);
        }
    }
    if (prefrec_pack_open(buf, len, &p, &err)) {
        char msg[PREFREC_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err.msg);
        prefrec_error_set(&err, err.status, "%s: %s", file, msg);
        free(buf);
        return cli_fail("inspect", &err);
    }
    printf("file      %s\nformat    prefrec pack version %u\nbytes     %zu\ncrc32     %08x\n", file,
           prefrec_pack_version(p), len, prefrec_pack_crc(p));
    if (key_arg) printf("signature ok: Ed25519, %s, key %s\n", sig_arg, key_arg);
    size_t mlen = 0;
    const char *mtext = prefrec_pack_manifest_json(p, &mlen);
    cJSON *man = cJSON_ParseWithLength(mtext, mlen);
    char *json = man ? cJSON_Print(man) : NULL;
    printf("manifest  %s\n", json ? json : "?");
    cJSON_free(json);
    cJSON_Delete(man);
    size_t n = prefrec_pack_tensor_count(p), total = 0;
    printf("tensors   %zu\n  %-3s %-22s %-5s %-16s %10s %10s\n", n, "#", "name", "dtype", "shape",
           "offset", "bytes");
    for (size_t i = 0; i < n; i++) {
        const prefrec_tensor *t = prefrec_pack_tensor_at(p, i);
        char shape[64];
        int k = snprintf(shape, sizeof shape, "[%u", t->shape[0]);
        for (uint32_t d = 1; d < t->ndim && k > 0 && (size_t)k < sizeof shape; d++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, ",%u", t->shape[d]);
        if (k > 0 && (size_t)k < sizeof shape) snprintf(shape + k, sizeof shape - (size_t)k, "]");
        printf("  %-3zu %-22s %-5s %-16s %10llu %10llu\n", i, t->name, prefrec_dtype_name(t->dtype),
               shape, (unsigned long long)t->offset, (unsigned long long)t->n_bytes);
        total += (size_t)t->n_bytes;
    }
    printf("tensor bytes %zu of %zu (%.1f%%)\n", total, len,
           len ? 100.0 * (double)total / (double)len : 0.0);
    prefrec_pack_free(p);
    free(buf);
    return 0;
}
