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
    "                      [--pack-version 1..4] [--storage PLAN]\n"
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
    "  --pack-version V  format version of the packs written (4): version 4 stores the segment\n"
    "                    popularity's counts a byte each, without its empty segments (pcx);\n"
    "                    version 3 keeps only the neighbour rows of products that have\n"
    "                    neighbours (smaller where most have none: large catalogues); version\n"
    "                    2 every row, for older engines; 2 to 4 store the item pack's float\n"
    "                    tensors as --storage says; version 1 all as f32\n"
    "  --storage PLAN    version 2 to 4's storage per tensor, "
    "name=f32|f16|q8r|q4r|q8c|q4c|q5r|q6r|\n"
    "                    u16|d16|u8d|r16|pcn,... ('*' ends a prefix; unlisted: f32; q5r, q6r:\n"
    "                    q8r codes in -15..15, -31..31; u16, d16, u8d: an i32 index list (d16:\n"
    "                    ascending rows as steps), a u32 string table's offsets, when they fit;\n"
    "                    r16, pcn: exact integer forms of pop.all / repeat.prior and of\n"
    "                    blend.pop.seg (its counts), else f16), default\n"
    "                    " PREFREC_PACK_STORAGE_DEFAULT "\n";

static void to_hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* Read a 32-byte secret key (64 hex digits on one line; what names it in messages), or create
 * it (random, mode 0600) when path does not exist, saying so and why it must be kept. */
static prefrec_status secret_key_file(const char *path, const char *what, const char *why,
                                      uint8_t key[32], prefrec_error *err) {
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
        fprintf(stderr, "prefrec export: created the %s %s (keep it secret and backed up: %s)\n",
                what, path, why);
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
    uint8_t pk[PREFREC_SIGN_PUBLIC_BYTES];
    char text[2 * PREFREC_SIGN_PUBLIC_BYTES + 2], path[4096];
    prefrec_status s = secret_key_file(key_path, "pack signing key",
                                       "pages and kiosks trust the packs it signs", seed, err);
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

/* ---- mpirun -n N prefrec export (the native-mpi build, docs/mpi.md) ------------------------
 * Rank r writes customer shards r, r + N, ..; rank 0 the item pack. Every file goes first to a
 * staging directory beside them (OUT/.export.tmp.<rank 0's pid>, on the file system all ranks
 * share), and is renamed into OUT only once every rank has written all of its files: a failing
 * rank fails the job with its message and no new file appears in OUT. */

/* Rank 0 makes the staging directory; every rank gets its name. */
static prefrec_status staging_open(prefrec_dist *d, const char *out, char **staging,
                                   prefrec_error *err) {
    prefrec_status s = PREFREC_OK;
    size_t len = 0;
    *staging = NULL;
    if (prefrec_dist_rank(d) == 0) {
        len = strlen(out) + 48;
        *staging = malloc(len);
        if (!*staging) return prefrec_dist_agree(d, PREFREC_E_NOMEM, 0, err);
        len = (size_t)snprintf(*staging, len, "%s/.export.tmp.%ld", out, (long)getpid()) + 1;
        if (mkdir(*staging, 0777) && errno != EEXIST)
            s = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create directory: %s", *staging,
                                  strerror(errno));
    }
    if ((s = prefrec_dist_agree(d, s, 0, err))) return s;
    if (prefrec_dist_bcast_bytes(d, staging, &len, 0))
        return prefrec_error_set(err, PREFREC_E_IO, "export: broadcast failed");
    return PREFREC_OK;
}

enum { STAGED_REMOVE, STAGED_COMMIT, STAGED_CHECK };

/* One staged file: renamed from staging into out (commit), removed, or checked (can it replace
 * what out holds under its name: not a directory). */
static prefrec_status staged_file(const char *staging, const char *out, const char *name,
                                  int commit, prefrec_error *err) {
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s", staging, name);
    snprintf(to, sizeof to, "%s/%s", out, name);
    struct stat sb;
    if (commit == STAGED_CHECK) {
        if (lstat(to, &sb) == 0 && S_ISDIR(sb.st_mode))
            return prefrec_error_set(err, PREFREC_E_IO, "%s: is a directory, cannot be replaced",
                                     to);
        return PREFREC_OK;
    }
    if (commit == STAGED_REMOVE) {
        unlink(from);
        return PREFREC_OK;
    }
    if (rename(from, to) == 0) return PREFREC_OK;
    return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot rename into %s: %s", from, out,
                             strerror(errno));
}

/* This rank's files of pack stem (the item pack on rank 0, shards rank, rank + N, ..): into
 * out, removed from staging, or checked (commit: STAGED_*). */
static prefrec_status staged_files(const char *staging, const char *out, const char *stem,
                                   long shards, int rank, int n_ranks, int commit,
                                   prefrec_error *err) {
    prefrec_status s = PREFREC_OK;
    char name[512];
    if (rank == 0) {
        snprintf(name, sizeof name, "%s.item.pack", stem);
        s = staged_file(staging, out, name, commit, err);
    }
    for (long k = rank; k < shards; k += n_ranks) {
        snprintf(name, sizeof name, "%s.cust.%03ld.pack", stem, k);
        prefrec_status t = staged_file(staging, out, name, s ? STAGED_REMOVE : commit, err);
        if (!s) s = t;
    }
    return s;
}

/* After a pack's files are in out: say what was written, sign the item pack (seed: NULL, no
 * signing: an old signature is removed, it signs another pack) and copy it to site. */
static prefrec_status finish_pack(const char *out, const char *stem, long shards,
                                  const size_t *sizes, const uint8_t *seed, const char *site,
                                  prefrec_error *err) {
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
    prefrec_status s = PREFREC_OK;
    if (seed) s = sign_item(out, stem, seed, err);
    if (!seed) {
        char old_sig[4200];
        snprintf(old_sig, sizeof old_sig, "%s/%s.item.pack.sig", out, stem);
        unlink(old_sig);
    }
    if (!s && site) s = copy_to_site(out, site, stem, "", err);
    if (!s && site && seed) s = copy_to_site(out, site, stem, ".sig", err);
    return s;
}

/* The summary line of the records written (one process and several ranks alike). */
static void records_said(const char *records, const prefrec_member_export_stats *st,
                         const char *eid) {
    printf("%s/  %zu member records (%zu opted out, absent), %zu..%zu bytes each, %zu "
           "total; export id %s\n",
           records, st->records, st->opted_out, st->min_bytes, st->max_bytes, st->bytes, eid);
    if (st->lines_not_in_pack)
        fprintf(stderr,
                "prefrec export: %zu purchase lines are of an affiliate or product no "
                "pack given has (not in any record)\n",
                st->lines_not_in_pack);
}

/* The token master key, read or created (saying so); by rank 0 alone under several ranks */
static prefrec_status token_key(const char *key_path, uint8_t key[32], prefrec_error *err) {
    return secret_key_file(key_path, "token master key", "the members' card tokens derive from it",
                           key, err);
}

/* --records under several ranks (docs/mpi.md): rank 0 reads or creates the token key, checks
 * DIR and makes DIR.tmp.<its pid>; every other rank reads the key file too (the key does not
 * travel between ranks; a card token of a code no member has, "\n", says it is rank 0's key),
 * each rank loads its share of the purchases (the sharded load: the lines of the customers it
 * owns) and seals the records of its members (fnv1a32(code) % N, the shards' rule) into that
 * directory; rank 0 writes export.json with the counts summed over the ranks. On success *tmp
 * names the directory, which records_commit renames into place once the packs are in place;
 * on failure it is removed (after every rank has stopped writing) and *tmp is NULL. Collective;
 * every rank returns the same status. */
static prefrec_status records_stage(prefrec_dist *d, const char *records, const char *data,
                                    const char *key_path, prefrec_member_export_params *mp,
                                    char **tmp, prefrec_member_export_stats *st,
                                    prefrec_error *err) {
    const int me = prefrec_dist_rank(d);
    const char check_code[] = "\n"; /* no member's code: a CSV field holds no line break */
    uint8_t check[2][PREFREC_MEMBER_ID_SIZE];
    prefrec_status s = PREFREC_OK;
    size_t len = 0;
    *tmp = NULL;
    memset(st, 0, sizeof *st);
    if (me == 0) {
        s = token_key(key_path, mp->token_master, err);
        if (!s) s = prefrec_member_export_check_dir(records, err);
        if (!s) s = prefrec_member_random(mp->naming_key, sizeof mp->naming_key, err);
        mp->issued_day = (int32_t)(time(NULL) / 86400);
        len = strlen(records) + 48;
        if (!s && !(*tmp = malloc(len)))
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
        if (!s) {
            len = (size_t)snprintf(*tmp, len, "%s.tmp.%ld", records, (long)getpid()) + 1;
            if (mkdir(*tmp, 0700)) {
                s = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create: %s", *tmp,
                                      strerror(errno));
                free(*tmp), *tmp = NULL;
            }
        }
    }
    s = prefrec_dist_agree(d, s, 0, err);
    if (!s &&
        (prefrec_dist_bcast_bytes(d, tmp, &len, 0) ||
         prefrec_dist_bcast(d, mp->naming_key, sizeof mp->naming_key, 0) ||
         prefrec_dist_bcast(d, &mp->issued_day, sizeof mp->issued_day, 0)))
        s = prefrec_error_set(err, PREFREC_E_IO, "export: broadcast failed");
    if (!s && me != 0) s = cli_read_hex_file(key_path, mp->token_master, 32, err);
    if (!s) s = prefrec_member_token(mp->token_master, check_code, 1, check[me != 0], err);
    if (!s && me == 0) memcpy(check[1], check[0], sizeof check[0]);
    s = prefrec_dist_agree(d, s, 0, err);
    if (!s && prefrec_dist_bcast(d, check[0], sizeof check[0], 0))
        s = prefrec_error_set(err, PREFREC_E_IO, "export: broadcast failed");
    if (!s && memcmp(check[0], check[1], sizeof check[0]))
        s = prefrec_error_set(err, PREFREC_E_INVAL,
                              "%s: rank %d reads another token key than rank 0: every rank must "
                              "read the same file (a shared file system)",
                              key_path, me);
    s = prefrec_dist_agree(d, s, 0, err);
    prefrec_dataset *ds = NULL;
    prefrec_shard_info info;
    memset(&info, 0, sizeof info);
    prefrec_load_params lp = prefrec_load_default_params();
    if (!s) s = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, err); /* agreed */
    if (!s) {
        mp->ds = ds;
        mp->rank = me;
        mp->n_ranks = prefrec_dist_size(d);
        s = prefrec_dist_agree(d, prefrec_member_export_records(mp, *tmp, st, err), 0, err);
        mp->ds = NULL;
    }
    prefrec_dataset_free(ds);
    prefrec_shard_info_free(&info);
    if (!s) { /* the counts over the ranks; the sizes of a rank without records are left out */
        int64_t v[4] = {(int64_t)st->records, (int64_t)st->opted_out, (int64_t)st->bytes,
                        (int64_t)st->lines_not_in_pack};
        int64_t lo = st->records ? (int64_t)st->min_bytes : INT64_MAX, hi = (int64_t)st->max_bytes;
        if (prefrec_dist_allreduce_i64(d, v, 4, PREFREC_DIST_SUM) ||
            prefrec_dist_allreduce_i64(d, &lo, 1, PREFREC_DIST_MIN) ||
            prefrec_dist_allreduce_i64(d, &hi, 1, PREFREC_DIST_MAX))
            s = prefrec_error_set(err, PREFREC_E_IO, "export: reduction failed");
        st->records = (size_t)v[0], st->opted_out = (size_t)v[1], st->bytes = (size_t)v[2];
        st->lines_not_in_pack = (size_t)v[3];
        st->min_bytes = st->records ? (size_t)lo : 0, st->max_bytes = (size_t)hi;
    }
    if (!s && me == 0) s = prefrec_member_export_index(mp, *tmp, st, err);
    s = prefrec_dist_agree(d, s, 0, err); /* also: every rank is done writing into *tmp */
    if (s && *tmp) {
        if (me == 0) prefrec_member_export_discard(*tmp);
        free(*tmp), *tmp = NULL;
    }
    return s;
}

/* After the packs: rank 0 renames the staged records directory into place (fail: none of it
 * is left), or removes it (fail: an earlier step failed); every rank returns the same status. */
static prefrec_status records_commit(prefrec_dist *d, prefrec_status fail, char *tmp,
                                     const char *records, const prefrec_member_export_stats *st,
                                     const char *eid, prefrec_error *err) {
    prefrec_status s = fail;
    if (prefrec_dist_rank(d) == 0) {
        if (!s) s = prefrec_member_export_commit(tmp, records, err);
        if (!s) records_said(records, st, eid);
        if (s) prefrec_member_export_discard(tmp); /* (gone once renamed) */
    }
    return prefrec_dist_agree(d, s, 0, err);
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
                return cli_usage_error("export", usage_text, "--pack-version '%s' is not in 1..4",
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
    prefrec_dist *d = cli_dist();
    const int sharded = CLI_SHARDED(), me = prefrec_dist_rank(d), nr = prefrec_dist_size(d);
    if (!eid_hex && (records || site) && me == 0) s = prefrec_member_random(mp.export_id, 16, &err);
    if (sharded) { /* one export id for every rank */
        s = prefrec_dist_agree(d, s, 0, &err);
        if (!s && prefrec_dist_bcast(d, mp.export_id, 16, 0))
            s = prefrec_error_set(&err, PREFREC_E_IO, "export: broadcast failed");
    }
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
    if (!s && signing && me == 0) s = sign_setup(sign_path, out, sign_seed, &err);
    void *bufs[EXPORT_MAX_PACKS] = {0};
    prefrec_pack *ps[EXPORT_MAX_PACKS] = {0};
    size_t *sizes = calloc((size_t)shards + 1, sizeof *sizes);
    if (!sizes && !s) s = prefrec_error_set(&err, PREFREC_E_NOMEM, "export: out of memory");
    char *staging = NULL;
    if (sharded && !(s = prefrec_dist_agree(d, s, 0, &err)))
        s = staging_open(d, out, &staging, &err);
    char(*stems)[256] = calloc(n_packs, sizeof *stems);
    size_t *psizes = calloc(n_packs * ((size_t)shards + 1), sizeof *psizes); /* sharded: per pack */
    if ((!stems || !psizes) && !s) s = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    for (size_t k = 0; !s && k < n_packs; k++) {
        size_t len = 0;
        s = prefrec_file_read(packs[k], PREFREC_PACK_FILE_MAX, (char **)&bufs[k], &len, &err);
        if (!s) s = prefrec_pack_open(bufs[k], len, &ps[k], &err);
        /* stem: the file name without directory and ".pack" */
        const char *base = strrchr(packs[k], '/');
        base = base ? base + 1 : packs[k];
        char *stem = stems[k];
        snprintf(stem, sizeof stems[k], "%s", base);
        size_t sl = strlen(stem);
        if (sl > 5 && !strcmp(stem + sl - 5, ".pack")) stem[sl - 5] = 0;
        if (!s)
            s = prefrec_pack_export_rank(ps[k], sharded ? staging : out, stem, (int)shards,
                                         manifest_eid, (const char *const *)opt, n_opt,
                                         (uint32_t)version, storage, me, nr, sizes, &err);
        if (!sharded) {
            if (!s)
                s = finish_pack(out, stem, shards, sizes, signing ? sign_seed : NULL, site, &err);
            continue;
        }
        /* every rank's files of this pack staged, and replaceable in out */
        if (!s) s = staged_files(staging, out, stem, shards, me, nr, STAGED_CHECK, &err);
        s = prefrec_dist_agree(d, s, 0, &err);
        int64_t z[4097];
        for (long j = 0; j <= shards; j++) z[j] = (int64_t)sizes[j];
        if (!s && prefrec_dist_allreduce_i64(d, z, (size_t)shards + 1, PREFREC_DIST_SUM))
            s = prefrec_error_set(&err, PREFREC_E_IO, "export: reduction failed");
        for (long j = 0; j <= shards; j++)
            psizes[k * ((size_t)shards + 1) + (size_t)j] = (size_t)z[j];
    }
    char *rec_tmp = NULL; /* sharded --records: the staged records directory */
    prefrec_member_export_stats rst;
    memset(&rst, 0, sizeof rst);
    if (sharded && records && !s) { /* every rank's records staged before any file moves */
        mp.packs = (const prefrec_pack *const *)ps;
        mp.n_packs = n_packs;
        mp.opt_out = (const char *const *)opt;
        mp.n_opt_out = n_opt;
        s = records_stage(d, records, data, key_path, &mp, &rec_tmp, &rst, &err);
    }
    if (sharded) { /* every pack's files from every rank: into out; else none of them */
        prefrec_status c = PREFREC_OK;
        for (size_t k = 0; staging && stems && k < n_packs; k++) {
            prefrec_status t = staged_files(staging, out, stems[k], shards, me, nr,
                                            s || c ? STAGED_REMOVE : STAGED_COMMIT, &err);
            if (!c) c = t;
        }
        c = prefrec_dist_agree(d, c, 0, &err); /* also: every rank is done with staging */
        if (!s) s = c;
        if (staging && me == 0) rmdir(staging); /* empty: every rank's files moved or removed */
        for (size_t k = 0; !s && me == 0 && k < n_packs; k++) /* the signatures, --site */
            s = finish_pack(out, stems[k], shards, psizes + k * ((size_t)shards + 1),
                            signing ? sign_seed : NULL, site, &err);
        s = prefrec_dist_agree(d, s, 0, &err);
        if (rec_tmp) s = records_commit(d, s, rec_tmp, records, &rst, eid, &err);
    }
    free(rec_tmp);
    free(staging);
    free(stems);
    free(psizes);
    if (!s && records && !sharded) {
        prefrec_dataset *ds = NULL;
        prefrec_load_params lp = prefrec_load_default_params();
        s = token_key(key_path, mp.token_master, &err);
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
            if (!s) records_said(records, &st, eid);
        }
        prefrec_dataset_free(ds);
    }
    memset(&mp, 0, sizeof mp); /* the token and naming keys */
    for (size_t k = 0; k < n_packs; k++) {
        prefrec_pack_free(ps[k]);
        free(bufs[k]);
    }
    free(sizes);
    free(opt);
    free(opt_text);
    memset(sign_seed, 0, sizeof sign_seed);
    if (s && sharded && me != 0) return 1; /* rank 0 says it, once */
    return s ? cli_fail("export", &err) : 0;
}
