/* cmd_serve.c - `prefrec recommend` and `prefrec plan ratio|subscribe|stamp`: the portable
 * engine on the command line. Flags become one JSON request handled by prefrec_api_handle, the
 * same code the kiosk (WASI) and the browser shim run, so all three answer alike. With --all or
 * --members FILE, the same request for every member, written to --out (cli_batch.c). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "prefrec/member.h"
#include "cli_batch.h"
#include "cli_i18n.h"
#include "host/packset.h"
#include "host/file.h"
#include "prefrec/api.h"
#include "prefrec/native/pack_write.h"

static const char *usage_text =
    "usage: prefrec recommend --pack FILE|DIR [options]\n"
    "       prefrec plan ratio|subscribe|stamp --pack FILE|DIR [options]\n"
    "  --pack FILE|DIR   a model pack, or a directory of them (one per affiliate); repeatable\n"
    "  --customers SHARD customer shard for an item pack (prefrec export)\n"
    "  --customer ID     customer code (known to the pack, or unknown with "
    "--history/--gender/--age)\n"
    "  --history FILE    the customer's purchases: one product code per line (# comments)\n"
    "  --gender M|F      --age YEARS|30대   demographics for customers the pack does not know\n"
    "  --affiliate A0x   which pack serves (required with several packs, except plan ratio)\n"
    "  --k N             how many products (30)    --sample N --seed S  weighted picks of the top "
    "30\n"
    "  --ranker default|blend|neumf                 --categories N --per-category N  (stamp, 5 x "
    "5)\n"
    "  --request FILE    send this JSON request as is (docs/engine.md) instead of the flags\n"
    "  --lang ko|en      the language of the reasons in tables and CSV (default: the locale's,\n"
    "                    LC_ALL / LC_MESSAGES / LANG; the pages' catalogues, web/i18n/)\n"
    "  --list discover|buy_again|mixed   which list (discover); --day YYYY-MM-DD as of (the\n"
    "                    pack's as-of day)\n"
    "  --records DIR --member CODE (--token-key FILE | --token HEX | --key HEX)\n"
    "                    serve a member from their sealed record (prefrec export --records), as\n"
    "                    a kiosk or the shop's page does; no --customer/--gender/--age then.\n"
    "                    A batch (--members FILE or --all) with --records DIR --token-key FILE\n"
    "                    serves each member from their record (campaigns: --list buy_again)\n"
    "  --json            print the JSON response (default: a table)\n"
    "campaign batches (one request per member, the same answers as one at a time):\n"
    "  --all             every customer of the packs that serve (the --affiliate's, or all of\n"
    "                    them for plan ratio), by code; a directory's customer shards included\n"
    "  --members FILE    the members to serve, one code per line (# comments), in file order;\n"
    "                    unknown or repeated codes are listed as FILE:LINE and fail the run\n"
    "  --errors FILE     instead: list members that cannot be served there (CSV where,member,\n"
    "                    status,message) and serve the others\n"
    "  --out FILE        where the lines go (required; written atomically)\n"
    "  --format csv|jsonl  csv (default): a header, then one row per product: member,plan,\n"
    "                    affiliate,source,ranker,list (top|sampled|stamp),group (stamp\n"
    "                    category),rank,product,name,category,subcategory,score,bought,\n"
    "                    reason_kind,reason,reason_ref.  jsonl: one line per member,\n"
    "                    {\"member\":CODE, then the members of its --json answer}\n"
    "  --threads N       worker threads (2); the output is the same bytes for any N\n"
    "  --verbose         progress on stderr even when it is not a terminal\n";

static prefrec_status read_history(const char *path, cJSON *arr, prefrec_error *err) {
    void *buf;
    size_t len;
    prefrec_status s = prefrec_file_read(path, PREFREC_PACK_FILE_MAX, (char **)&buf, &len, err);
    if (s) return s;
    char *p = buf, *end = p + len;
    size_t line = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        line++;
        while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        if (e > p && *p != '#') {
            if (memchr(p, ',', (size_t)(e - p)) || memchr(p, '"', (size_t)(e - p))) {
                free(buf);
                return prefrec_error_set(err, PREFREC_E_PARSE,
                                         "%s:%zu: expected one product code per line", path, line);
            }
            char save = *e;
            *e = '\0';
            cJSON_AddItemToArray(arr, cJSON_CreateString(p));
            *e = save;
        }
        p = nl ? nl + 1 : end;
    }
    free(buf);
    return PREFREC_OK;
}

static void print_items(const cli_i18n *l, const cJSON *items, const char *title) {
    if (!cJSON_IsArray(items)) return;
    char reason[1024];
    printf("%s\n%-4s %-10s %-9s %-28s %-16s %s\n", title, "rank", "product", "score", "name",
           "category", "reason");
    int i = 0;
    for (const cJSON *it = items->child; it; it = it->next, i++) {
        const cJSON *rank = cJSON_GetObjectItemCaseSensitive(it, "rank");
        printf("%-4d %-10s %-9.4f %-28s %-16s %s\n", rank ? (int)rank->valuedouble : i + 1,
               cJSON_GetObjectItemCaseSensitive(it, "code")->valuestring,
               cJSON_GetObjectItemCaseSensitive(it, "score")->valuedouble,
               cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring,
               cJSON_GetObjectItemCaseSensitive(it, "category")->valuestring,
               (cli_i18n_json_reason(l, it, reason, sizeof reason), reason));
    }
}

static void print_table(const cli_i18n *l, const cJSON *r) {
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(r, "ratio");
    if (ratio) {
        printf("purchase share:");
        for (const cJSON *w = cJSON_GetObjectItemCaseSensitive(ratio, "weights")->child; w;
             w = w->next)
            printf(" %s %.0f", w->string, w->valuedouble);
        printf("  -> %s\n", cJSON_GetObjectItemCaseSensitive(ratio, "picked")->valuestring);
    }
    const cJSON *aff = cJSON_GetObjectItemCaseSensitive(r, "affiliate");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(r, "source");
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(r, "ranker");
    printf("affiliate %s", aff ? aff->valuestring : "?");
    if (src) printf(", served from %s, ranker %s", src->valuestring, rk ? rk->valuestring : "?");
    printf("\n");
    const char *list = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "list"));
    print_items(l, cJSON_GetObjectItemCaseSensitive(r, "items"),
                list && !strcmp(list, "buy_again") ? "buy again (bought before, most due first):"
                    : list && !strcmp(list, "mixed")
                    ? "next purchases (bought before and new, mixed):"
                    : "recommendations (never bought):");
    print_items(l, cJSON_GetObjectItemCaseSensitive(r, "sampled"), "sampled from the top 30:");
    const cJSON *board = cJSON_GetObjectItemCaseSensitive(r, "board");
    for (const cJSON *c = board ? board->child : NULL; c; c = c->next) {
        char title[256];
        snprintf(title, sizeof title, "stamp category %s (mean score %.3f):",
                 cJSON_GetObjectItemCaseSensitive(c, "category")->valuestring,
                 cJSON_GetObjectItemCaseSensitive(c, "mean_score")->valuedouble);
        print_items(l, cJSON_GetObjectItemCaseSensitive(c, "items"), title);
    }
}

/* The directory whose shards go with --pack path (a directory, or the directory of an item
 * pack file) into dir; 0 when path is neither. */
static int shard_dir(const char *path, char *dir, size_t cap) {
    struct stat st;
    size_t l = strlen(path);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dir, cap, "%s", path);
        return 1;
    }
    if (l < 10 || strcmp(path + l - 10, ".item.pack")) return 0;
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else
        snprintf(dir, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return 1;
}

/* The customer shards beside the --pack options, each directory once: a batch serves every
 * customer of an exported set (item packs + shards). */
static prefrec_status add_shards(prefrec_packset *ps, const char *const *packs, size_t n_packs,
                                 prefrec_error *err) {
    char(*dirs)[1024] = malloc(n_packs * sizeof *dirs);
    if (!dirs) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    size_t n_dirs = 0;
    prefrec_status s = PREFREC_OK;
    for (size_t i = 0; !s && i < n_packs; i++) {
        char *dir = dirs[n_dirs];
        if (!shard_dir(packs[i], dir, sizeof dirs[0])) continue;
        int seen = 0;
        for (size_t j = 0; j < n_dirs && !seen; j++) seen = !strcmp(dirs[j], dir);
        if (seen) continue;
        n_dirs++;
        s = prefrec_packset_add_shards(ps, dir, err);
    }
    free(dirs);
    return s;
}

static int serve_batch(const char *cmd, const char *plan, cJSON *req, cli_batch_params *bp,
                       const char *const *packs, size_t n_packs, const char *shard,
                       const char *format, const char *threads, int verbose) {
    prefrec_packset ps;
    memset(&ps, 0, sizeof ps);
    prefrec_error err = {0};
    long nt = 2;
    if (format && strcmp(format, "csv") && strcmp(format, "jsonl")) {
        cJSON_Delete(req);
        return cli_usage_error(cmd, usage_text, "--format '%s': csv or jsonl", format);
    }
    if (threads && cli_parse_long(threads, 1, 256, &nt)) {
        cJSON_Delete(req);
        return cli_usage_error(cmd, usage_text, "--threads '%s': an integer 1..256", threads);
    }
    bp->cmd = cmd;
    bp->plan = plan ? plan : "recommend";
    bp->format = format && !strcmp(format, "jsonl") ? CLI_BATCH_JSONL : CLI_BATCH_CSV;
    bp->threads = (int)nt;
    bp->verbose = verbose;
    char *request = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    int rc = 1;
    prefrec_status s =
        request ? PREFREC_OK : prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    for (size_t i = 0; !s && i < n_packs; i++) s = prefrec_packset_add(&ps, packs[i], shard, &err);
    if (!s && !shard) s = add_shards(&ps, packs, n_packs, &err);
    if (s) {
        cli_fail(cmd, &err);
    } else {
        bp->request = request;
        rc = cli_batch_run(bp, &ps);
    }
    free(request);
    prefrec_packset_free(&ps);
    return rc;
}

static int serve(const char *cmd, const char *plan, int argc, char **argv) {
    prefrec_packset ce;
    memset(&ce, 0, sizeof ce);
    prefrec_error err = {0};
    const char *packs[PREFREC_PACKSET_MAX], *shard = NULL, *request_file = NULL, *history = NULL;
    size_t n_packs = 0;
    int json = 0, rc = 1, all = 0, verbose = 0;
    const char *one = NULL; /* an option for one customer (refused in a batch) */
    cli_batch_params bp = cli_batch_default_params();
    const char *format = NULL, *threads = NULL;
    const char *records = NULL, *member = NULL, *token_key = NULL, *token = NULL, *rkey = NULL;
    const char *lang = NULL;
    prefrec_member_state *ms = NULL;
    cJSON *req = cJSON_CreateObject();
    char *request = NULL, *out = NULL;
    if (plan) cJSON_AddStringToObject(req, "plan", plan);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(usage_text, stdout);
            cJSON_Delete(req);
            return 0;
        }
        if (!strcmp(o, "--json") || !strcmp(o, "--all") || !strcmp(o, "--verbose")) {
            json |= !strcmp(o, "--json");
            all |= !strcmp(o, "--all");
            verbose |= !strcmp(o, "--verbose");
            if (json && !one) one = "--json";
            continue;
        }
        if (i + 1 >= argc) {
            cJSON_Delete(req);
            return cli_usage_error(cmd, usage_text, "%s needs a value", o);
        }
        const char *v = argv[++i];
        char *end;
        if (!strcmp(o, "--pack")) {
            if (n_packs == PREFREC_PACKSET_MAX) {
                cJSON_Delete(req);
                return cli_usage_error(cmd, usage_text, "at most %d --pack options",
                                       PREFREC_PACKSET_MAX);
            }
            packs[n_packs++] = v;
        } else if (!strcmp(o, "--customers"))
            shard = v;
        else if (!strcmp(o, "--members"))
            bp.members_path = v;
        else if (!strcmp(o, "--out"))
            bp.out_path = v;
        else if (!strcmp(o, "--errors"))
            bp.errors_path = v;
        else if (!strcmp(o, "--format"))
            format = v;
        else if (!strcmp(o, "--threads"))
            threads = v;
        else if (!strcmp(o, "--request"))
            request_file = v, one = o;
        else if (!strcmp(o, "--history"))
            history = v, one = o;
        else if (!strcmp(o, "--customer"))
            cJSON_AddStringToObject(req, "customer", v), one = o;
        else if (!strcmp(o, "--affiliate"))
            cJSON_AddStringToObject(req, "affiliate", v), bp.affiliate = v;
        else if (!strcmp(o, "--gender"))
            cJSON_AddStringToObject(req, "gender", v), one = o;
        else if (!strcmp(o, "--age"))
            cJSON_AddStringToObject(req, "age", v), one = o;
        else if (!strcmp(o, "--ranker"))
            cJSON_AddStringToObject(req, "ranker", v);
        else if (!strcmp(o, "--lang"))
            lang = v;
        else if (!strcmp(o, "--list") || !strcmp(o, "--day"))
            cJSON_AddStringToObject(req, o + 2, v);
        else if (!strcmp(o, "--records"))
            records = v;
        else if (!strcmp(o, "--member"))
            member = v, one = o;
        else if (!strcmp(o, "--token-key"))
            token_key = v;
        else if (!strcmp(o, "--token"))
            token = v, one = o;
        else if (!strcmp(o, "--key"))
            rkey = v, one = o;
        else if (!strcmp(o, "--k") || !strcmp(o, "--sample") || !strcmp(o, "--seed") ||
                 !strcmp(o, "--categories") || !strcmp(o, "--per-category")) {
            double x = strtod(v, &end);
            if (end == v || *end) {
                cJSON_Delete(req);
                return cli_usage_error(cmd, usage_text, "%s: '%s' is not a number", o, v);
            }
            cJSON_AddNumberToObject(req, !strcmp(o, "--per-category") ? "per_category" : o + 2, x);
        } else {
            cJSON_Delete(req);
            return cli_usage_error(cmd, usage_text, "unknown option %s", o);
        }
    }
    if (!n_packs) {
        cJSON_Delete(req);
        return cli_usage_error(cmd, usage_text, "--pack is required");
    }
    const char *lang_code = cli_i18n_lang(lang);
    const cli_i18n *i18n = lang_code ? cli_i18n_get(lang_code) : NULL;
    if (!i18n) {
        cJSON_Delete(req);
        return cli_usage_error(cmd, usage_text, "--lang '%s': ko or en", lang ? lang : "?");
    }
    bp.lang = i18n;
    int batch = all || bp.members_path;
    const char *misplaced = batch ? one
        : bp.out_path             ? "--out"
        : bp.errors_path          ? "--errors"
        : format                  ? "--format"
        : threads                 ? "--threads"
        : verbose                 ? "--verbose"
                                  : NULL;
    if (misplaced || (all && bp.members_path) || (batch && !bp.out_path)) {
        cJSON_Delete(req);
        if (all && bp.members_path)
            return cli_usage_error(cmd, usage_text, "--all or --members, not both");
        if (batch && !misplaced)
            return cli_usage_error(cmd, usage_text, "a batch (--all, --members) needs --out FILE");
        return cli_usage_error(cmd, usage_text, "%s %s", misplaced,
                               batch ? "is for one customer, not a batch (--all, --members)"
                                     : "is for a batch: give --all or --members FILE");
    }
    uint8_t master[32];
    if (batch && (records || token_key)) {
        if (!records || !token_key) {
            cJSON_Delete(req);
            return cli_usage_error(cmd, usage_text,
                                   "a batch from records needs --records DIR and --token-key FILE");
        }
        if (cli_read_hex_file(token_key, master, sizeof master, &err)) {
            cJSON_Delete(req);
            return cli_fail(cmd, &err);
        }
        bp.records = records;
        bp.token_master = master;
    }
    if (batch) {
        int brc = serve_batch(cmd, plan, req, &bp, packs, n_packs, shard, format, threads, verbose);
        memset(master, 0, sizeof master);
        return brc;
    }
    if (history) {
        cJSON *arr = cJSON_AddArrayToObject(req, "history");
        if (read_history(history, arr, &err)) goto done;
    }
    for (size_t i = 0; i < n_packs; i++)
        if (prefrec_packset_add(&ce, packs[i], shard, &err)) goto done;
    if ((records || member || token_key || token || rkey) &&
        (!records || !member || !!token_key + !!token + !!rkey != 1)) {
        cJSON_Delete(req);
        prefrec_packset_free(&ce);
        return cli_usage_error(cmd, usage_text,
                               "a member is served with --records DIR --member CODE and one of "
                               "--token-key, --token, --key");
    }
    if (records) {
        prefrec_member_header h;
        if (cli_member_load(records, member, token_key, token, rkey, &ms, &h, &err)) goto done;
    }
    if (request_file) {
        void *buf;
        size_t len;
        if (prefrec_file_read(request_file, PREFREC_PACK_FILE_MAX, (char **)&buf, &len, &err))
            goto done;
        out = prefrec_api_handle_member((const prefrec_engine *const *)ce.engines, ce.n, ms, buf,
                                        len);
        free(buf);
    } else {
        request = cJSON_PrintUnformatted(req);
        out = request ? prefrec_api_handle_member((const prefrec_engine *const *)ce.engines, ce.n,
                                                  ms, request, strlen(request))
                      : NULL;
    }
    if (!out) {
        prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
        goto done;
    }
    cJSON *r = cJSON_Parse(out);
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
    if (json) {
        puts(out);
    } else if (ok) {
        print_table(i18n, r);
    }
    if (!ok) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "error"), "message");
        prefrec_error_set(&err, PREFREC_E_INVAL, "%s", cJSON_IsString(m) ? m->valuestring : out);
    }
    cJSON_Delete(r);
    rc = ok ? 0 : 1;
done:
    if (rc) cli_fail(cmd, &err);
    prefrec_member_state_free(ms);
    free(request);
    prefrec_api_free(out);
    cJSON_Delete(req);
    prefrec_packset_free(&ce);
    return rc;
}

int prefrec_cmd_recommend(int argc, char **argv) { return serve("recommend", NULL, argc, argv); }

int prefrec_cmd_plan(int argc, char **argv) {
    if (argc < 2 ||
        (strcmp(argv[1], "ratio") && strcmp(argv[1], "subscribe") && strcmp(argv[1], "stamp"))) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            fputs(usage_text, stdout);
            return 0;
        }
        return cli_usage_error("plan", usage_text, "which plan: ratio, subscribe or stamp");
    }
    return serve("plan", argv[1], argc - 1, argv + 1);
}
