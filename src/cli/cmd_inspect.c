/* cmd_inspect.c - `prefrec inspect FILE`: a model pack's header, manifest and tensor table. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/pack.h"
#include "prefrec/native/pack_write.h"

static const char *usage_text =
    "usage: prefrec inspect FILE\n"
    "  prints the pack's format version, size, CRC32, manifest (JSON) and tensor table\n"
    "  (name, dtype, shape, file offset, bytes); exits 1 if the pack fails validation\n";

int prefrec_cmd_inspect(int argc, char **argv) {
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("inspect", usage_text, "unknown option '%s'", argv[i]);
        if (file) return cli_usage_error("inspect", usage_text, "one FILE only");
        file = argv[i];
    }
    if (!file) return cli_usage_error("inspect", usage_text, "FILE is required");
    prefrec_error err = {0};
    void *buf = NULL;
    size_t len = 0;
    prefrec_pack *p = NULL;
    if (prefrec_file_read(file, PREFREC_PACK_FILE_MAX, (char **)&buf, &len, &err))
        return cli_fail("inspect", &err);
    if (prefrec_pack_open(buf, len, &p, &err)) {
        char msg[PREFREC_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err.msg);
        prefrec_error_set(&err, err.status, "%s: %s", file, msg);
        free(buf);
        return cli_fail("inspect", &err);
    }
    printf("file      %s\nformat    prefrec pack version %u\nbytes     %zu\ncrc32     %08x\n", file,
           prefrec_pack_version(p), len, prefrec_pack_crc(p));
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
