/* cmd_export.c - `prefrec export`: split full packs into the web's item packs + customer shards,
 * and (--records) write one sealed member record per member (SECURITY.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host/records.h"
#include "host/file.h"
#include "prefrec/native/atomic.h"
#include "prefrec/native/member_export.h"
#include "prefrec/native/member_seal.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/pack.h"
#include "prefrec/pack_sign.h"

#define EXPORT_MAX_PACKS 64

static const char *usage_text =
    "usage: prefrec export --pack FILE [--pack FILE ...] --out DIR [--shards N]\n"
    "                      [--records DIR --data PATH --token-key FILE] [--opt-out FILE]\n"
    "                      [--site DIR] [--export-id HEX] [--sign-key FILE]\n"
    "                      [--pack-version 1|2] [--storage PLAN]\n"
    "  --pack FILE       a full pack written by prefrec train (DIR/A01.pack); repeatable\n"
    "  --out DIR         writes DIR/<name>.item.pack (product embeddings, MLP, catalog) and\n"
    "                    DIR/<name>.cust.000.pack .. (customer embeddings, biases, codes, bought\n"
    "                    sets, demographics), customer with code C in shard fnv1a32(C) % N\n"
    "  --shards N        number of customer shards (16)\n"
    "  --records DIR     also write one sealed member record per member into DIR (replaced\n"
    "                    whole; private: for the shop's backend and kiosks, never a web root),\n"
    "                    DIR/export.json (export id, naming key), and the export id into each\n"
    "                    item pack's manifest\n"
    "  --data PATH       with --records: the purchases the packs were trained from (L.POINT\n"
    "                    directory or mapping .json): counts, first and last days\n"
    "  --token-key FILE  with --records: the shop's token master key (64 hex digits); created\n"
    "                    (mode 0600) when FILE does not exist. Members' card tokens derive from "
    "it\n"
    "  --opt-out FILE    member codes, one a line ('#' comments): absent from every file written\n"
    "  --site DIR        also copy exactly the public model files into DIR: the item packs\n"
    "                    (with an export id and no member counts), no shard, no record\n"
    "  --export-id HEX   32 hex digits instead of a random export id (reproducible item packs)\n"
    "  --sign-key FILE   the packs' Ed25519 secret key (64 hex digits; created, mode 0600, when\n"
    "                    FILE does not exist): writes DIR/<name>.item.pack.sig (64 bytes) beside\n"
    "                    each item pack (and into --site) and the public key to DIR/sign.pub;\n"
    "                    pages and kiosks verify with that public key (SECURITY.md)\n"
    "  --pack-version V  format version of the packs written (2): version 2 stores the item\n"
    "                    pack's float tensors as --storage says (smaller), version 1 all as\n"
    "                    f32, for engines older than version 2 packs\n"
    "  --storage PLAN    version 2's storage per tensor, name=f32|f16|q8r|q4r|q8c|q4c|q5r|q6r|\n"
    "                    u16|u8d,... ('*' ends a prefix; unlisted: f32; q5r, q6r: q8r codes in\n"
    "                    -15..15, -31..31; u16, u8d: an i32 index list, a u32 string table's\n"
    "                    offsets, when they fit), default\n"
    "                    " PREFREC_PACK_STORAGE_DEFAULT "\n";

static void to_hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* Read a 32-byte secret key (64 hex digits on one line; what names it in messages), or create
 * it (random, mode 0600) when path does not exist. */
static prefrec_status secret_key_file(const char *path, const char *what, uint8_t key[32],
                                      int *created, prefrec_error *err) {
    *created = 0;
    char *buf = NULL;
    size_t len = 0;
    struct stat sb;
    if (stat(path, &sb) && errno == ENOENT) {
        prefrec_status s = prefrec_member_random(key, 32, err);
        if (s) return s;
        char text[66];
        to_hex(key, 32, text);
        text[64] = '\n';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        int bad = fd < 0 || write(fd, text, 65) != 65 || fsync(fd) != 0;
        if (fd >= 0) bad |= close(fd) != 0;
        memset(text, 0, sizeof text);
        if (bad)
            return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create the %s: %s", path, what,
                                     strerror(errno));
        *created = 1;
        return PREFREC_OK;
    }
    prefrec_status s = prefrec_file_read(path, 4096, &buf, &len, err);
    if (s) return s;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    int bad = prefrec_unhex_n(buf, len, key, 32);
    memset(buf, 0, len);
    free(buf);
    if (bad)
        return prefrec_error_set(err, PREFREC_E_PARSE,
                                 "%s: a %s is 64 hex digits (32 bytes) on one line", path, what);
    return PREFREC_OK;
}

/* --site: copy out/<stem>.item.pack<suffix> to site/ (atomically), nothing else */
static prefrec_status copy_to_site(const char *out, const char *site, const char *stem,
                                   const char *suffix, prefrec_error *err) {
    if (mkdir(site, 0777) && errno != EEXIST)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create directory: %s", site,
                                 strerror(errno));
    char from[4096], to[4096], *buf = NULL;
    size_t len = 0;
    snprintf(from, sizeof from, "%s/%s.item.pack%s", out, stem, suffix);
    snprintf(to, sizeof to, "%s/%s.item.pack%s", site, stem, suffix);
    prefrec_status s = prefrec_file_read(from, PREFREC_PACK_FILE_MAX, &buf, &len, err);
    if (!s) s = prefrec_atomic_write_file(to, buf, len, err);
    if (!s) printf("%s  %zu bytes (public)\n", to, len);
    free(buf);
    return s;
}

/* --sign-key: out/<stem>.item.pack.sig, the Ed25519 signature of the item pack's bytes */
static prefrec_status sign_item(const char *out, const char *stem, const uint8_t seed[32],
                                prefrec_error *err) {
    char path[4096], sig_path[4100], *buf = NULL;
    size_t len = 0;
    uint8_t sig[PREFREC_SIGN_BYTES];
    snprintf(path, sizeof path, "%s/%s.item.pack", out, stem);
    snprintf(sig_path, sizeof sig_path, "%s.sig", path);
    prefrec_status s = prefrec_file_read(path, PREFREC_PACK_FILE_MAX, &buf, &len, err);
    if (!s) s = prefrec_pack_sign(buf, len, seed, sig, err);
    if (!s) s = prefrec_atomic_write_file(sig_path, sig, sizeof sig, err);
    if (!s) printf("%s  %d bytes (Ed25519 signature)\n", sig_path, PREFREC_SIGN_BYTES);
    free(buf);
    return s;
}

/* --sign-key: the secret seed (read or created) and out/sign.pub (the public key, hex) */
static prefrec_status sign_setup(const char *key_path, const char *out, uint8_t seed[32],
                                 prefrec_error *err) {
    int created = 0;
    uint8_t pk[PREFREC_SIGN_PUBLIC_BYTES];
    char text[2 * PREFREC_SIGN_PUBLIC_BYTES + 2], path[4096];
    prefrec_status s = secret_key_file(key_path, "signing key", seed, &created, err);
    if (!s && created)
        fprintf(stderr,
                "prefrec export: created the pack signing key %s (keep it secret and backed up: "
                "pages and kiosks trust the packs it signs)\n",
                key_path);
    if (!s) s = prefrec_pack_sign_public(seed, pk, err);
    if (!s) {
        to_hex(pk, sizeof pk, text);
        text[2 * sizeof pk] = '\n';
        snprintf(path, sizeof path, "%s/sign.pub", out);
        s = prefrec_atomic_write_file(path, text, sizeof text - 1, err);
    }
    if (!s) printf("%s  public key %.64s (configure pages and kiosks with it)\n", path, text);
    return s;
}

int prefrec_cmd_export(int argc, char **argv) {
    const char *packs[EXPORT_MAX_PACKS], *out = NULL, *records = NULL, *data = NULL,
                                         *key_path = NULL, *opt_path = NULL, *eid_hex = NULL,
                                         *site = NULL, *sign_path = NULL;
    size_t n_packs = 0;
    long shards = 16, version = PREFREC_PACK_VERSION;
    const char *storage = PREFREC_PACK_STORAGE_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        const char *o = argv[i];
        static const char *const known[] = {
            "--pack",    "--out",       "--shards", "--records",  "--data",         "--token-key",
            "--opt-out", "--export-id", "--site",   "--sign-key", "--pack-version", "--storage"};
        int ok = 0;
        for (size_t k = 0; k < sizeof known / sizeof *known; k++) ok |= !strcmp(o, known[k]);
        if (!ok) return cli_usage_error("export", usage_text, "unknown option '%s'", o);
        if (i + 1 >= argc) return cli_usage_error("export", usage_text, "%s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--pack")) {
            if (n_packs == EXPORT_MAX_PACKS)
                return cli_usage_error("export", usage_text, "at most %d --pack", EXPORT_MAX_PACKS);
            packs[n_packs++] = v;
        } else if (!strcmp(o, "--out"))
            out = v;
        else if (!strcmp(o, "--records"))
            records = v;
        else if (!strcmp(o, "--data"))
            data = v;
        else if (!strcmp(o, "--token-key"))
            key_path = v;
        else if (!strcmp(o, "--opt-out"))
            opt_path = v;
        else if (!strcmp(o, "--export-id"))
            eid_hex = v;
        else if (!strcmp(o, "--site"))
            site = v;
        else if (!strcmp(o, "--sign-key"))
            sign_path = v;
        else if (!strcmp(o, "--storage"))
            storage = v;
        else if (!strcmp(o, "--pack-version")) {
            if (cli_parse_long(v, PREFREC_PACK_VERSION_MIN, PREFREC_PACK_VERSION, &version))
                return cli_usage_error("export", usage_text, "--pack-version '%s' is not 1 or 2",
                                       v);
        } else if (cli_parse_long(v, 1, 4096, &shards))
            return cli_usage_error("export", usage_text, "--shards '%s' is not in 1..4096", v);
    }
    if (!n_packs || !out)
        return cli_usage_error("export", usage_text, "--pack and --out are required");
    if (records && (!data || !key_path))
        return cli_usage_error("export", usage_text, "--records needs --data and --token-key");
    if (!records && (data || key_path))
        return cli_usage_error("export", usage_text, "--data and --token-key go with --records");
    prefrec_member_export_params mp;
    memset(&mp, 0, sizeof mp);
    if (eid_hex && prefrec_unhex_n(eid_hex, strlen(eid_hex), mp.export_id, 16))
        return cli_usage_error("export", usage_text, "--export-id '%s' is not 32 hex digits",
                               eid_hex);
    prefrec_error err = {0};
    if (prefrec_quant_plan_check(storage, &err))
        return cli_usage_error("export", usage_text, "--storage: %s", err.msg);
    prefrec_status s = PREFREC_OK;
    if (!eid_hex && (records || site)) s = prefrec_member_random(mp.export_id, 16, &err);
    char eid[33];
    to_hex(mp.export_id, 16, eid);
    const char *manifest_eid = eid_hex || records || site ? eid : NULL;
    if (site && (!strcmp(site, out) || (records && !strcmp(site, records))))
        return cli_usage_error("export", usage_text,
                               "--site must be a directory of its own (not --out or --records)");
    char *opt_text = NULL, **opt = NULL;
    size_t n_opt = 0;
    if (!s && opt_path) s = cli_read_opt_out(opt_path, &opt_text, &opt, &n_opt, &err);
    if (!s && mkdir(out, 0777) && errno != EEXIST)
        s = prefrec_error_set(&err, PREFREC_E_IO, "%s: cannot create directory: %s", out,
                              strerror(errno));
    uint8_t sign_seed[PREFREC_SIGN_SEED_BYTES] = {0};
    int signing = sign_path != NULL;
    if (!s && signing) s = sign_setup(sign_path, out, sign_seed, &err);
    void *bufs[EXPORT_MAX_PACKS] = {0};
    prefrec_pack *ps[EXPORT_MAX_PACKS] = {0};
    size_t *sizes = calloc((size_t)shards + 1, sizeof *sizes);
    if (!sizes && !s) s = prefrec_error_set(&err, PREFREC_E_NOMEM, "export: out of memory");
    for (size_t k = 0; !s && k < n_packs; k++) {
        size_t len = 0;
        s = prefrec_file_read(packs[k], PREFREC_PACK_FILE_MAX, (char **)&bufs[k], &len, &err);
        if (!s) s = prefrec_pack_open(bufs[k], len, &ps[k], &err);
        /* stem: the file name without directory and ".pack" */
        const char *base = strrchr(packs[k], '/');
        base = base ? base + 1 : packs[k];
        char stem[256];
        snprintf(stem, sizeof stem, "%s", base);
        size_t sl = strlen(stem);
        if (sl > 5 && !strcmp(stem + sl - 5, ".pack")) stem[sl - 5] = 0;
        if (!s)
            s = prefrec_pack_export(ps[k], out, stem, (int)shards, manifest_eid,
                                    (const char *const *)opt, n_opt, (uint32_t)version, storage,
                                    sizes, &err);
        if (!s) {
            size_t lo = (size_t)-1, hi = 0, tot = 0;
            for (long j = 0; j < shards; j++) {
                size_t z = sizes[1 + j];
                lo = z < lo ? z : lo;
                hi = z > hi ? z : hi;
                tot += z;
            }
            printf("%s/%s.item.pack  %zu bytes\n%s/%s.cust.%03d..%03ld.pack  %ld shards, %zu..%zu "
                   "bytes each, %zu total\n",
                   out, stem, sizes[0], out, stem, 0, shards - 1, shards, lo, hi, tot);
        }
        if (!s && signing) s = sign_item(out, stem, sign_seed, &err);
        if (!s && !signing) { /* a signature left from an earlier export signs another pack */
            char old_sig[4200];
            snprintf(old_sig, sizeof old_sig, "%s/%s.item.pack.sig", out, stem);
            unlink(old_sig);
        }
        if (!s && site) s = copy_to_site(out, site, stem, "", &err);
        if (!s && site && signing) s = copy_to_site(out, site, stem, ".sig", &err);
    }
    if (!s && records) {
        int created = 0;
        prefrec_dataset *ds = NULL;
        prefrec_load_params lp = prefrec_load_default_params();
        s = secret_key_file(key_path, "token key", mp.token_master, &created, &err);
        if (!s && created)
            fprintf(stderr,
                    "prefrec export: created the token master key %s (keep it secret and "
                    "backed up: the members' card tokens derive from it)\n",
                    key_path);
        if (!s) s = prefrec_dataset_load(data, &lp, &ds, &err);
        if (!s) s = prefrec_member_random(mp.naming_key, sizeof mp.naming_key, &err);
        if (!s) {
            mp.packs = (const prefrec_pack *const *)ps;
            mp.n_packs = n_packs;
            mp.ds = ds;
            mp.opt_out = (const char *const *)opt;
            mp.n_opt_out = n_opt;
            mp.issued_day = (int32_t)(time(NULL) / 86400);
            prefrec_member_export_stats st;
            s = prefrec_member_export(&mp, records, &st, &err);
            if (!s)
                printf("%s/  %zu member records (%zu opted out, absent), %zu..%zu bytes each, %zu "
                       "total; export id %s\n",
                       records, st.records, st.opted_out, st.min_bytes, st.max_bytes, st.bytes,
                       eid);
            if (!s && st.lines_not_in_pack)
                fprintf(stderr,
                        "prefrec export: %zu purchase lines are of an affiliate or product no "
                        "pack given has (not in any record)\n",
                        st.lines_not_in_pack);
        }
        prefrec_dataset_free(ds);
        memset(&mp, 0, sizeof mp);
    }
    for (size_t k = 0; k < n_packs; k++) {
        prefrec_pack_free(ps[k]);
        free(bufs[k]);
    }
    free(sizes);
    free(opt);
    free(opt_text);
    memset(sign_seed, 0, sizeof sign_seed);
    return s ? cli_fail("export", &err) : 0;
}
