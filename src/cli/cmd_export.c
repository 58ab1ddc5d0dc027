/* cmd_export.c - `prefrec export`: split a full pack into the web's item pack + customer shards. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/pack.h"
#include "prefrec/native/pack_write.h"

static const char *usage_text =
    "usage: prefrec export --pack FILE --out DIR [--shards N]\n"
    "  --pack FILE   a full pack written by prefrec train (DIR/A01.pack)\n"
    "  --out DIR     writes DIR/<name>.item.pack (product embeddings, MLP, catalog) and\n"
    "                DIR/<name>.cust.000.pack .. (customer embeddings, biases, codes, bought\n"
    "                sets, demographics), customer with code C in shard fnv1a32(C) % N\n"
    "  --shards N    number of customer shards (16)\n";

int prefrec_cmd_export(int argc, char **argv) {
    const char *pack = NULL, *out = NULL;
    long shards = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        const char *o = argv[i];
        if (strcmp(o, "--pack") && strcmp(o, "--out") && strcmp(o, "--shards"))
            return cli_usage_error("export", usage_text, "unknown option '%s'", o);
        if (i + 1 >= argc) return cli_usage_error("export", usage_text, "%s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--pack"))
            pack = v;
        else if (!strcmp(o, "--out"))
            out = v;
        else {
            char *end;
            errno = 0;
            shards = strtol(v, &end, 10);
            if (errno || end == v || *end || shards < 1 || shards > 4096)
                return cli_usage_error("export", usage_text, "--shards '%s' is not in 1..4096", v);
        }
    }
    if (!pack || !out)
        return cli_usage_error("export", usage_text, "--pack and --out are required");
    prefrec_error err = {0};
    if (mkdir(out, 0777) && errno != EEXIST) {
        prefrec_error_set(&err, PREFREC_E_IO, "%s: cannot create directory: %s", out,
                          strerror(errno));
        return cli_fail("export", &err);
    }
    void *buf = NULL;
    size_t len = 0;
    prefrec_pack *p = NULL;
    if (prefrec_file_read(pack, PREFREC_PACK_FILE_MAX, (char **)&buf, &len, &err))
        return cli_fail("export", &err);
    if (prefrec_pack_open(buf, len, &p, &err)) {
        free(buf);
        return cli_fail("export", &err);
    }
    /* stem: the file name without directory and ".pack" */
    const char *base = strrchr(pack, '/');
    base = base ? base + 1 : pack;
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    size_t sl = strlen(stem);
    if (sl > 5 && !strcmp(stem + sl - 5, ".pack")) stem[sl - 5] = 0;
    size_t *sizes = calloc((size_t)shards + 1, sizeof *sizes);
    prefrec_status s = sizes ? prefrec_pack_export(p, out, stem, (int)shards, sizes, &err)
                             : prefrec_error_set(&err, PREFREC_E_NOMEM, "export: out of memory");
    if (!s) {
        size_t lo = (size_t)-1, hi = 0, tot = 0;
        for (long k = 0; k < shards; k++) {
            size_t z = sizes[1 + k];
            lo = z < lo ? z : lo;
            hi = z > hi ? z : hi;
            tot += z;
        }
        printf("%s/%s.item.pack  %zu bytes\n%s/%s.cust.%03d..%03ld.pack  %ld shards, %zu..%zu "
               "bytes each, %zu total\n",
               out, stem, sizes[0], out, stem, 0, shards - 1, shards, lo, hi, tot);
    }
    free(sizes);
    prefrec_pack_free(p);
    free(buf);
    return s ? cli_fail("export", &err) : 0;
}
