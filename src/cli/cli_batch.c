/* cli_batch.c - campaign batches: every member's recommendation or plan in one file
 * (cli_batch.h).
 *
 * Each member's answer is prefrec_api_handle's for the one-member request (the shared request
 * with "customer" added), so a JSON Lines line is what `prefrec recommend|plan --customer C
 * --json` prints for C. CSV rows come from the same request through prefrec_api_recommend_n (the
 * same reading, checks, pack choice and engine call, the answer left typed: 3x faster than
 * building and re-reading the JSON), except the stamp board, read back from its JSON answer.
 * Members are cut into chunks claimed by the worker threads; the main thread writes the chunks
 * in member order as they complete (at most WINDOW_PER_THREAD chunks a thread ahead of it are in
 * memory), so the file is the same bytes for any thread count.
 *
 * Threads: the engines are immutable and each request allocates its own scratch
 * (prefrec/engine.h); a thread's own state is worker_state. Under valgrind --tool=helgrind the
 * only reports are cJSON 1.7.15 resetting its global parse-error record (NULL, 0) on every parse
 * (read only by cJSON_GetErrorPtr, which prefrec never calls) and glibc's localeconv() filling
 * its static struct with the same values (cJSON's number reading and printing): no shared state
 * of prefrec's is written. */
#include "cli_batch.h"
#include "cli_i18n.h"
#include "host/records.h"
#include "prefrec/member.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/api.h"
#include "prefrec/native/atomic.h"

#define CHUNK 8 /* members per unit of work */
#define WINDOW_PER_THREAD 8 /* chunks in flight per thread */
#define SHOW_MAX 10 /* unknown members listed on stderr before "... and N more" */

const char cli_batch_csv_header[] =
    "member,plan,affiliate,source,ranker,list,group,rank,product,name,category,subcategory,"
    "score,bought,reason_kind,reason,reason_ref\n";

cli_batch_params cli_batch_default_params(void) {
    cli_batch_params p;
    memset(&p, 0, sizeof p);
    p.plan = "recommend";
    p.format = CLI_BATCH_CSV;
    p.threads = 2;
    return p;
}

/* ---- a growing text buffer; a failed allocation is remembered and checked once ----------- */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

/* Room for n bytes in all; 0, or -1 (and b->failed) when memory runs out. */
static int sb_reserve(sbuf *b, size_t n) {
    if (b->failed) return -1;
    if (n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (sb_reserve(b, b->len + n + 1)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char c) { sb_put(b, &c, 1); }
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        sb_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_put(b, big, (size_t)n);
    free(big);
}

/* s as a JSON string (escapes as cJSON writes them). */
static void sb_json_str(sbuf *b, const char *s) {
    sb_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)c);
        } else if (c < 0x20) {
            const char *esc = c == '\b' ? "\\b"
                : c == '\f'             ? "\\f"
                : c == '\n'             ? "\\n"
                : c == '\r'             ? "\\r"
                : c == '\t'             ? "\\t"
                                        : NULL;
            if (esc)
                sb_puts(b, esc);
            else
                sb_printf(b, "\\u%04x", c);
        } else {
            sb_putc(b, (char)c);
        }
    }
    sb_putc(b, '"');
}

/* s as a CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break). */
static void sb_csv(sbuf *b, const char *s) {
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        sb_puts(b, s);
        return;
    }
    sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') sb_putc(b, '"');
        sb_putc(b, *s);
    }
    sb_putc(b, '"');
}

/* ---- members -------------------------------------------------------------------------------- */
enum { SKIP_NONE = 0, SKIP_UNKNOWN = 1, SKIP_REPEAT = 2 };

typedef struct member {
    const char *code;
    size_t line; /* in the members file; 0 with --all */
    int skip; /* SKIP_*: found before any work */
    size_t first; /* SKIP_REPEAT: the line it was first listed on */
} member;

typedef struct batch {
    const cli_batch_params *bp;
    const prefrec_packset *ps;
    member *m;
    size_t n;
    char *file_buf; /* the members file (codes point into it) */
    /* serving: groups g0 .. g0 + n_groups - 1 of the packset (every pack for plan ratio) */
    size_t g0, n_groups;
    const char *req_tail; /* the shared request after its '{' */
    int typed; /* CSV rows from the typed answer (every plan but stamp) */
} batch;

static int cmp_code(const void *a, const void *b) {
    const member *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}
static int cmp_line(const void *a, const void *b) {
    const member *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

static prefrec_status push_member(batch *bt, size_t *cap, const char *code, size_t line,
                                  prefrec_error *err) {
    if (bt->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        member *m = realloc(bt->m, nc * sizeof *m);
        if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        bt->m = m;
        *cap = nc;
    }
    member *x = &bt->m[bt->n++];
    memset(x, 0, sizeof *x);
    x->code = code;
    x->line = line;
    return PREFREC_OK;
}

/* One member code a line: spaces, tabs and CR around it are dropped; blank lines and lines
 * starting with '#' skipped; a comma or a quote (a CSV row, not a code) or a NUL is an error. */
static prefrec_status read_members(batch *bt, const char *path, prefrec_error *err) {
    size_t len, cap = 0;
    prefrec_status s = prefrec_file_read(path, PREFREC_PACK_FILE_MAX, &bt->file_buf, &len, err);
    if (s) return s;
    char *p = bt->file_buf, *end = p + len;
    for (size_t line = 1; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        if (memchr(p, '\0', (size_t)(e - p)))
            return prefrec_error_set(err, PREFREC_E_PARSE, "%s:%zu: a NUL byte", path, line);
        while (e > p && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) e--;
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        if (e > p && *p != '#') {
            if (memchr(p, ',', (size_t)(e - p)) || memchr(p, '"', (size_t)(e - p)))
                return prefrec_error_set(err, PREFREC_E_PARSE,
                                         "%s:%zu: expected one member code per line", path, line);
            *e = '\0';
            if ((s = push_member(bt, &cap, p, line, err))) return s;
        }
        p = nl ? nl + 1 : end;
    }
    if (!bt->n)
        return prefrec_error_set(err, PREFREC_E_EMPTY, "%s: no member codes in the file", path);
    /* repeats: the later lines point at the first */
    qsort(bt->m, bt->n, sizeof *bt->m, cmp_code);
    for (size_t i = 1; i < bt->n; i++)
        if (!strcmp(bt->m[i].code, bt->m[i - 1].code)) {
            bt->m[i].skip = SKIP_REPEAT;
            bt->m[i].first = bt->m[i - 1].skip ? bt->m[i - 1].first : bt->m[i - 1].line;
        }
    qsort(bt->m, bt->n, sizeof *bt->m, cmp_line);
    return PREFREC_OK;
}

/* The engine of group g (a pack of the set with its shards) that knows code, or NULL. */
static const prefrec_engine *engine_for(const prefrec_packset *ps, size_t g, const char *code) {
    if (prefrec_engine_find_customer(ps->engines[g], code) >= 0) return ps->engines[g];
    for (size_t i = 0; i < ps->n_shards; i++)
        if (ps->shards[i].owner == g &&
            prefrec_engine_find_customer(ps->shards[i].engine, code) >= 0)
            return ps->shards[i].engine;
    return NULL;
}

static void add_engine_customers(batch *bt, size_t *cap, const prefrec_engine *e, prefrec_status *s,
                                 prefrec_error *err) {
    int32_t n = prefrec_engine_n_customers(e);
    for (int32_t c = 0; !*s && c < n; c++)
        *s = push_member(bt, cap, prefrec_engine_customer_code(e, c), 0, err);
}

/* --all: every customer of the serving packs and their shards, once each, by code. */
static prefrec_status all_members(batch *bt, prefrec_error *err) {
    const prefrec_packset *ps = bt->ps;
    size_t cap = 0;
    prefrec_status s = PREFREC_OK;
    for (size_t g = bt->g0; g < bt->g0 + bt->n_groups; g++) {
        add_engine_customers(bt, &cap, ps->engines[g], &s, err);
        for (size_t i = 0; i < ps->n_shards; i++)
            if (ps->shards[i].owner == g)
                add_engine_customers(bt, &cap, ps->shards[i].engine, &s, err);
    }
    if (s) return s;
    if (!bt->n)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "--all: the packs have no customers (an item pack serves its "
                                 "customers with --customers SHARD, or from a directory holding "
                                 "its shards)");
    qsort(bt->m, bt->n, sizeof *bt->m, cmp_code);
    size_t k = 0;
    for (size_t i = 0; i < bt->n; i++)
        if (!k || strcmp(bt->m[i].code, bt->m[k - 1].code)) bt->m[k++] = bt->m[i];
    bt->n = k;
    return PREFREC_OK;
}

/* ---- serving one member --------------------------------------------------------------------- */
/* A thread's own state: the request it builds, the engines it passes, the typed answer and a
 * number cJSON formats (the CSV's scores in the JSON answer's text). */
typedef struct worker_state {
    sbuf req, reason;
    const prefrec_engine **vec; /* [n_groups] */
    prefrec_response *rs;
    cJSON *num;
} worker_state;

/* Member x's request into w->req and the engines that serve it into w->vec; -1 out of memory.
 * From records the record says who the member is: no "customer" then. */
static int build_request(const batch *bt, worker_state *w, const member *x) {
    for (size_t g = 0; g < bt->n_groups; g++) {
        const prefrec_engine *e = engine_for(bt->ps, bt->g0 + g, x->code);
        w->vec[g] = e ? e : bt->ps->engines[bt->g0 + g];
    }
    w->req.len = 0;
    if (bt->bp->records) {
        sb_putc(&w->req, '{');
        sb_puts(&w->req, bt->req_tail);
        return w->req.failed ? -1 : 0;
    }
    sb_puts(&w->req, "{\"customer\":");
    sb_json_str(&w->req, x->code);
    if (bt->req_tail[0] != '}') sb_putc(&w->req, ',');
    sb_puts(&w->req, bt->req_tail);
    return w->req.failed ? -1 : 0;
}

/* With records: member x's record opened with their card token (NULL state without records). */
static prefrec_status open_member(const batch *bt, const member *x, prefrec_member_state **m,
                                  prefrec_error *err) {
    *m = NULL;
    if (!bt->bp->records) return PREFREC_OK;
    uint8_t token[PREFREC_MEMBER_ID_SIZE];
    prefrec_member_header h;
    prefrec_status s =
        prefrec_member_token(bt->bp->token_master, x->code, strlen(x->code), token, err);
    if (!s)
        s = prefrec_records_open(bt->bp->records, x->code, PREFREC_MEMBER_KIND_TOKEN, token,
                                 sizeof token, m, &h, err);
    memset(token, 0, sizeof token);
    return s;
}

/* The answer for member x (caller frees with prefrec_api_free), NULL when memory runs out. */
static char *answer(const batch *bt, worker_state *w, const member *x) {
    if (build_request(bt, w, x)) return NULL;
    prefrec_error err = {0};
    prefrec_member_state *m = NULL;
    prefrec_status s = open_member(bt, x, &m, &err);
    if (s) return prefrec_api_error_json(s, err.msg);
    char *a = prefrec_api_handle_member((const prefrec_engine *const *)w->vec, bt->n_groups, m,
                                        w->req.p, w->req.len);
    prefrec_member_state_free(m);
    return a;
}

static const char *get_str(const cJSON *o, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* One CSV row per product of the answer's lists; returns the rows written. */
static size_t csv_items(sbuf *b, const cli_i18n *lang, const char *member, const cJSON *r,
                        const char *list, const char *group, const cJSON *items) {
    char reason[1024];
    size_t rows = 0;
    int pos = 0;
    for (const cJSON *it = cJSON_IsArray(items) ? items->child : NULL; it; it = it->next) {
        char score[64] = "";
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(it, "score");
        /* the score's text is the JSON answer's own (cJSON prints it the same way here) */
        if (sc && !cJSON_PrintPreallocated((cJSON *)sc, score, (int)sizeof score, 0)) score[0] = 0;
        const cJSON *rank = cJSON_GetObjectItemCaseSensitive(it, "rank");
        const char *ref = get_str(it, "reason_product");
        if (!ref) ref = get_str(it, "reason_category");
        pos++;
        sb_csv(b, member);
        sb_putc(b, ',');
        sb_csv(b, get_str(r, "plan"));
        sb_putc(b, ',');
        sb_csv(b, get_str(r, "affiliate"));
        sb_putc(b, ',');
        sb_csv(b, get_str(r, "source"));
        sb_putc(b, ',');
        sb_csv(b, get_str(r, "ranker"));
        sb_printf(b, ",%s,", list);
        sb_csv(b, group);
        sb_printf(b, ",%d,", cJSON_IsNumber(rank) ? (int)rank->valuedouble : pos);
        sb_csv(b, get_str(it, "code"));
        sb_putc(b, ',');
        sb_csv(b, get_str(it, "name"));
        sb_putc(b, ',');
        sb_csv(b, get_str(it, "category"));
        sb_putc(b, ',');
        sb_csv(b, get_str(it, "subcategory"));
        sb_printf(b, ",%s,%d,", score,
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "bought")));
        sb_csv(b, get_str(it, "reason_kind"));
        sb_putc(b, ',');
        sb_csv(b,
               lang ? (cli_i18n_json_reason(lang, it, reason, sizeof reason), reason)
                    : get_str(it, "reason"));
        sb_putc(b, ',');
        sb_csv(b, ref);
        sb_putc(b, '\n');
        rows++;
    }
    return rows;
}

/* ---- CSV rows from the typed answer (prefrec_api_recommend_n: the same request, checks, pick
 * and engine call as the JSON answer), without building and re-reading its JSON: the same
 * fields as item_json in src/core/api.c writes (tests/cli/batch.sh compares the two). */
static void typed_item(sbuf *b, worker_state *w, const cli_i18n *lang, const char *member,
                       const char *plan, const prefrec_engine *e, const prefrec_item *it,
                       const char *list, int rank) {
    char score[64] = "";
    cJSON_SetNumberValue(w->num, (double)it->score);
    if (!cJSON_PrintPreallocated(w->num, score, (int)sizeof score, 0)) b->failed = 1;
    /* the reason as long as the name it quotes */
    size_t need = sb_reserve(&w->reason, 256) ? 0
        : lang ? cli_i18n_item_reason(lang, e, it, w->reason.p, w->reason.cap)
               : prefrec_engine_reason_text(e, it, w->reason.p, w->reason.cap);
    if (need >= w->reason.cap && !sb_reserve(&w->reason, need + 1)) {
        if (lang)
            cli_i18n_item_reason(lang, e, it, w->reason.p, w->reason.cap);
        else
            prefrec_engine_reason_text(e, it, w->reason.p, w->reason.cap);
    }
    if (w->reason.failed) {
        b->failed = 1;
        return;
    }
    const char *ref = it->reason == PREFREC_REASON_BOUGHT_WITH
        ? prefrec_engine_product_code(e, it->reason_ref)
        : it->reason == PREFREC_REASON_CATEGORY ? prefrec_engine_category_name(e, it->reason_ref)
                                                : NULL;
    const prefrec_response *rs = w->rs;
    sb_csv(b, member);
    sb_putc(b, ',');
    sb_csv(b, plan);
    sb_putc(b, ',');
    sb_csv(b, prefrec_engine_affiliate(e));
    sb_printf(b, ",%s,%s,%s,,%d,", prefrec_source_name(rs->source),
              rs->ranker == PREFREC_RANKER_BLEND ? "blend" : "neumf", list, rank);
    sb_csv(b, prefrec_engine_product_code(e, it->product));
    sb_putc(b, ',');
    sb_csv(b, prefrec_engine_product_name(e, it->product));
    sb_putc(b, ',');
    sb_csv(b, prefrec_engine_product_category(e, it->product));
    sb_putc(b, ',');
    sb_csv(b, prefrec_engine_product_subcategory(e, it->product));
    sb_printf(b, ",%s,0,%s,", score, prefrec_reason_kind_name(it->reason));
    sb_csv(b, w->reason.p);
    sb_putc(b, ',');
    sb_csv(b, ref);
    sb_putc(b, '\n');
}

/* Member x's rows into b; on error 0 with its status and message. */
static int typed_rows(const batch *bt, worker_state *w, sbuf *b, const member *x, char *msg,
                      size_t cap, const char **status) {
    prefrec_error err = {0};
    size_t idx = 0;
    prefrec_member_state *m = NULL;
    prefrec_status s = build_request(bt, w, x)
        ? prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory")
        : open_member(bt, x, &m, &err);
    if (!s)
        s = prefrec_api_recommend_member((const prefrec_engine *const *)w->vec, bt->n_groups, m,
                                         w->req.p, w->req.len, &idx, w->rs, &err);
    prefrec_member_state_free(m);
    if (!s && !w->rs->n && !w->rs->n_sampled)
        s = prefrec_error_set(&err, PREFREC_E_EMPTY, "the answer has no products");
    if (s) {
        snprintf(msg, cap, "%s", err.msg);
        *status = prefrec_status_str(s);
        return 0;
    }
    const prefrec_engine *e = w->vec[idx];
    for (uint32_t i = 0; i < w->rs->n; i++)
        typed_item(b, w, bt->bp->lang, x->code, bt->bp->plan, e, &w->rs->items[i], "top",
                   (int)i + 1);
    for (uint32_t i = 0; i < w->rs->n_sampled; i++)
        typed_item(b, w, bt->bp->lang, x->code, bt->bp->plan, e, &w->rs->sampled[i], "sampled",
                   (int)i + 1);
    return 1;
}

static size_t csv_rows(sbuf *b, const cli_i18n *lang, const char *member, const cJSON *r) {
    size_t rows =
        csv_items(b, lang, member, r, "top", NULL, cJSON_GetObjectItemCaseSensitive(r, "items"));
    rows += csv_items(b, lang, member, r, "sampled", NULL,
                      cJSON_GetObjectItemCaseSensitive(r, "sampled"));
    const cJSON *board = cJSON_GetObjectItemCaseSensitive(r, "board");
    for (const cJSON *c = cJSON_IsArray(board) ? board->child : NULL; c; c = c->next)
        rows += csv_items(b, lang, member, r, "stamp", get_str(c, "category"),
                          cJSON_GetObjectItemCaseSensitive(c, "items"));
    return rows;
}

/* ---- work shared by the threads ---------------------------------------------------------- */
typedef struct slot {
    sbuf out, errs; /* the chunk's lines for --out and --errors */
    long fail; /* the chunk's first member that could not be served (no --errors), or -1 */
    char *fail_msg;
    int done;
} slot;

typedef struct shared {
    batch *bt;
    size_t n_chunks, window;
    size_t claimed, written; /* chunks claimed by workers; chunks written by the main thread */
    int stop;
    slot *slots; /* [window], chunk j in slots[j % window] */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} shared;

static const char *where(const batch *bt, const member *x, char *buf, size_t cap) {
    if (!x->line) return "";
    snprintf(buf, cap, "%s:%zu", bt->bp->members_path, x->line);
    return buf;
}

static void error_row(sbuf *b, const batch *bt, const member *x, const char *status,
                      const char *msg) {
    char at[4096];
    sb_csv(b, where(bt, x, at, sizeof at));
    sb_putc(b, ',');
    sb_csv(b, x->code);
    sb_putc(b, ',');
    sb_csv(b, status);
    sb_putc(b, ',');
    sb_csv(b, msg);
    sb_putc(b, '\n');
}

/* Why a member is unknown: "not a customer of the A01 pack or its shards". */
static const char *unknown_why(const batch *bt, char *buf, size_t cap) {
    if (bt->n_groups > 1)
        snprintf(buf, cap, "not a customer of any loaded pack%s",
                 bt->ps->n_shards ? " or shard" : "");
    else
        snprintf(buf, cap, "not a customer of the %s pack%s",
                 prefrec_engine_affiliate(bt->ps->engines[bt->g0]),
                 bt->ps->n_shards ? " or its shards" : "");
    return buf;
}

/* The member's line(s) into sl->out, or its error into sl->errs (or sl->fail). */
static void serve_member(shared *sh, worker_state *w, slot *sl, size_t i) {
    batch *bt = sh->bt;
    const member *x = &bt->m[i];
    char msg[PREFREC_ERROR_MSG_MAX + 64], status_buf[64];
    const char *status = prefrec_status_str(PREFREC_E_NOMEM);
    snprintf(msg, sizeof msg, "out of memory");
    if (x->skip == SKIP_UNKNOWN) {
        char why[256];
        snprintf(msg, sizeof msg, "unknown member (%s)", unknown_why(bt, why, sizeof why));
        error_row(&sl->errs, bt, x, prefrec_status_str(PREFREC_E_NOTFOUND), msg);
        return;
    }
    if (x->skip == SKIP_REPEAT) {
        snprintf(msg, sizeof msg, "listed again (first on line %zu)", x->first);
        error_row(&sl->errs, bt, x, prefrec_status_str(PREFREC_E_INVAL), msg);
        return;
    }
    int ok;
    if (bt->typed) {
        ok = typed_rows(bt, w, &sl->out, x, msg, sizeof msg, &status);
    } else {
        char *a = answer(bt, w, x);
        ok = a && !strncmp(a, "{\"ok\":true,", 11);
        cJSON *r = a && (!ok || bt->bp->format == CLI_BATCH_CSV) ? cJSON_Parse(a) : NULL;
        if (a && !ok) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
            const char *m = get_str(e, "message"), *st = get_str(e, "status");
            snprintf(msg, sizeof msg, "%s", m ? m : a);
            snprintf(status_buf, sizeof status_buf, "%s", st ? st : "error"); /* r is freed below */
            status = status_buf;
        } else if (ok && bt->bp->format == CLI_BATCH_JSONL) {
            sb_puts(&sl->out, "{\"member\":");
            sb_json_str(&sl->out, x->code);
            sb_putc(&sl->out, ',');
            sb_puts(&sl->out, a + 1);
            sb_putc(&sl->out, '\n');
        } else if (ok) {
            size_t at = sl->out.len;
            if (!r || !csv_rows(&sl->out, bt->bp->lang, x->code, r)) {
                sl->out.len = at;
                ok = 0;
                status = prefrec_status_str(r ? PREFREC_E_EMPTY : PREFREC_E_NOMEM);
                snprintf(msg, sizeof msg, r ? "the answer has no products" : "out of memory");
            }
        }
        cJSON_Delete(r);
        prefrec_api_free(a);
    }
    if (ok) return;
    if (bt->bp->errors_path) {
        error_row(&sl->errs, bt, x, status, msg);
    } else if (sl->fail < 0) {
        char at[4096];
        sl->fail = (long)i;
        size_t need = strlen(msg) + strlen(x->code) + sizeof at + 64;
        if ((sl->fail_msg = malloc(need)) != NULL) {
            const char *w_ = where(bt, x, at, sizeof at);
            snprintf(sl->fail_msg, need, "member '%s'%s%s%s: %s", x->code, *w_ ? " (" : "", w_,
                     *w_ ? ")" : "", msg);
        }
    }
}

static void *worker(void *arg) {
    shared *sh = arg;
    batch *bt = sh->bt;
    worker_state w = {0};
    w.vec = calloc(bt->n_groups, sizeof *w.vec);
    w.rs = malloc(sizeof *w.rs);
    w.num = cJSON_CreateNumber(0);
    int ready = w.vec && w.rs && w.num;
    pthread_mutex_lock(&sh->mu);
    for (;;) {
        while (!sh->stop && sh->claimed < sh->n_chunks && sh->claimed >= sh->written + sh->window)
            pthread_cond_wait(&sh->cv, &sh->mu);
        if (sh->stop || sh->claimed >= sh->n_chunks) break;
        size_t j = sh->claimed++;
        slot *sl = &sh->slots[j % sh->window];
        pthread_mutex_unlock(&sh->mu);
        sl->out.len = sl->errs.len = 0;
        sl->out.failed = sl->errs.failed = !ready;
        sl->fail = -1;
        size_t hi = (j + 1) * CHUNK < bt->n ? (j + 1) * CHUNK : bt->n;
        for (size_t i = j * CHUNK; i < hi && ready; i++) serve_member(sh, &w, sl, i);
        pthread_mutex_lock(&sh->mu);
        sl->done = 1;
        pthread_cond_broadcast(&sh->cv);
    }
    pthread_mutex_unlock(&sh->mu);
    free(w.vec);
    free(w.req.p);
    free(w.reason.p);
    free(w.rs);
    cJSON_Delete(w.num);
    return NULL;
}

/* ---- progress --------------------------------------------------------------------------- */
typedef struct progress {
    int on, tty;
    double t0, last;
} progress;

static void progress_show(progress *pg, const batch *bt, size_t done, int final) {
    if (!pg->on) return;
    double now = cli_now();
    if (!final && now - pg->last < (pg->tty ? 0.25 : 2.0)) return;
    pg->last = now;
    double dt = now - pg->t0;
    fprintf(stderr, "%sprefrec %s: %zu/%zu members, %.0f members/s", pg->tty ? "\r" : "",
            bt->bp->cmd, done, bt->n, dt > 0 ? (double)done / dt : 0.0);
    if (final)
        fprintf(stderr, ", %d thread%s, %.2f s -> %s", bt->bp->threads,
                bt->bp->threads == 1 ? "" : "s", dt, bt->bp->out_path);
    fputs(pg->tty && !final ? "" : "\n", stderr);
    fflush(stderr);
}

/* Serve every member on bp->threads threads, writing the chunks in order to out (and errs). */
static prefrec_status run(batch *bt, FILE *out, FILE *errs, size_t *n_errors, prefrec_error *err) {
    const cli_batch_params *bp = bt->bp;
    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.bt = bt;
    sh.n_chunks = (bt->n + CHUNK - 1) / CHUNK;
    sh.window = (size_t)bp->threads * WINDOW_PER_THREAD;
    sh.slots = calloc(sh.window, sizeof *sh.slots);
    if (!sh.slots) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    pthread_t *th = calloc((size_t)bp->threads, sizeof *th);
    int started = 0;
    prefrec_status s = th ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    for (; !s && started < bp->threads; started++)
        if (pthread_create(&th[started], NULL, worker, &sh)) {
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "cannot start thread %d of %d", started + 1,
                                  bp->threads);
            break;
        }
    progress pg = {cli_stderr_is_tty() || bp->verbose, cli_stderr_is_tty(), cli_now(), 0};
    pg.last = pg.tty ? 0 : pg.t0; /* a terminal shows 0/N at once; a log waits for news */
    progress_show(&pg, bt, 0, 0);
    for (size_t j = 0; !s && j < sh.n_chunks; j++) {
        slot *sl = &sh.slots[j % sh.window];
        pthread_mutex_lock(&sh.mu);
        while (!sl->done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 250000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&sh.cv, &sh.mu, &ts);
            size_t done = sh.written * CHUNK < bt->n ? sh.written * CHUNK : bt->n;
            pthread_mutex_unlock(&sh.mu);
            progress_show(&pg, bt, done, 0);
            pthread_mutex_lock(&sh.mu);
        }
        pthread_mutex_unlock(&sh.mu);
        if (sl->out.failed || sl->errs.failed)
            s = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        else if (sl->fail >= 0)
            s = prefrec_error_set(err, PREFREC_E_INVAL, "%s (nothing written)",
                                  sl->fail_msg ? sl->fail_msg : "a member could not be served");
        else if (fwrite(sl->out.p ? sl->out.p : "", 1, sl->out.len, out) != sl->out.len ||
                 (errs &&
                  fwrite(sl->errs.p ? sl->errs.p : "", 1, sl->errs.len, errs) != sl->errs.len))
            s = prefrec_error_set(err, PREFREC_E_IO, "write failed: %s", strerror(errno));
        for (const char *c = sl->errs.p; c && c < sl->errs.p + sl->errs.len; c++)
            *n_errors += *c == '\n'; /* one error a line: fields hold no line breaks */
        free(sl->fail_msg);
        sl->fail_msg = NULL;
        pthread_mutex_lock(&sh.mu);
        sl->done = 0;
        sh.written = j + 1;
        if (s) sh.stop = 1;
        pthread_cond_broadcast(&sh.cv);
        pthread_mutex_unlock(&sh.mu);
        progress_show(&pg, bt, (j + 1) * CHUNK < bt->n ? (j + 1) * CHUNK : bt->n, 0);
    }
    pthread_mutex_lock(&sh.mu);
    sh.stop = 1;
    pthread_cond_broadcast(&sh.cv);
    pthread_mutex_unlock(&sh.mu);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    if (!s)
        progress_show(&pg, bt, bt->n, 1);
    else if (pg.on && pg.tty)
        fputc('\n', stderr);
    for (size_t k = 0; k < sh.window; k++) {
        free(sh.slots[k].out.p);
        free(sh.slots[k].errs.p);
        free(sh.slots[k].fail_msg);
    }
    free(sh.slots);
    free(th);
    pthread_cond_destroy(&sh.cv);
    pthread_mutex_destroy(&sh.mu);
    return s;
}

/* ---- the command -------------------------------------------------------------------------- */

/* Which packs serve: every one for plan ratio, else the --affiliate's (or the only one). */
static prefrec_status choose_groups(batch *bt, prefrec_error *err) {
    const cli_batch_params *bp = bt->bp;
    const prefrec_packset *ps = bt->ps;
    if (!strcmp(bp->plan, "ratio")) {
        bt->g0 = 0;
        bt->n_groups = ps->n;
        return PREFREC_OK;
    }
    bt->n_groups = 1;
    if (bp->affiliate) {
        for (size_t g = 0; g < ps->n; g++)
            if (!strcmp(prefrec_engine_affiliate(ps->engines[g]), bp->affiliate)) {
                bt->g0 = g;
                return PREFREC_OK;
            }
        return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                 "unknown affiliate '%s' (no pack loaded for it)", bp->affiliate);
    }
    if (!strcmp(bp->plan, "subscribe"))
        return prefrec_error_set(err, PREFREC_E_INVAL, "plan subscribe needs --affiliate");
    if (ps->n > 1)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "several packs are loaded: say which --affiliate");
    bt->g0 = 0;
    return PREFREC_OK;
}

/* Mark members no serving pack knows; returns how many. With records a member is known by
 * their record, found when they are served (no record: an error row naming them). */
static size_t find_unknown(batch *bt) {
    size_t bad = 0;
    for (size_t i = 0; i < bt->n; i++) {
        member *x = &bt->m[i];
        if (x->skip) {
            bad++;
            continue;
        }
        if (bt->bp->records) continue;
        int known = 0;
        for (size_t g = bt->g0; !known && g < bt->g0 + bt->n_groups; g++)
            known = engine_for(bt->ps, g, x->code) != NULL;
        if (!known) x->skip = SKIP_UNKNOWN, bad++;
    }
    return bad;
}

/* Without --errors: every unknown or repeated member on stderr (the first SHOW_MAX). */
static void show_unknown(const batch *bt, size_t bad) {
    size_t shown = 0;
    char why[256];
    for (size_t i = 0; i < bt->n && shown < SHOW_MAX; i++) {
        const member *x = &bt->m[i];
        if (!x->skip) continue;
        shown++;
        if (x->skip == SKIP_REPEAT)
            fprintf(stderr, "%s:%zu: member '%s' is listed again (first on line %zu)\n",
                    bt->bp->members_path, x->line, x->code, x->first);
        else
            fprintf(stderr, "%s:%zu: unknown member '%s' (%s)\n", bt->bp->members_path, x->line,
                    x->code, unknown_why(bt, why, sizeof why));
    }
    if (bad > shown) fprintf(stderr, "... and %zu more\n", bad - shown);
}

int cli_batch_run(const cli_batch_params *bp, const prefrec_packset *ps) {
    batch bt;
    memset(&bt, 0, sizeof bt);
    bt.bp = bp;
    bt.ps = ps;
    prefrec_error err = {0};
    prefrec_atomic out = {0}, errs = {0};
    int have_out = 0, have_errs = 0;
    size_t n_errors = 0;
    prefrec_status s = PREFREC_OK;
    if (!bp->request || bp->request[0] != '{' || !bp->out_path || bp->threads < 1)
        s = prefrec_error_set(&err, PREFREC_E_INVAL, "batch: bad parameters");
    if (!s) {
        bt.req_tail = bp->request + 1;
        bt.typed = bp->format == CLI_BATCH_CSV && strcmp(bp->plan, "stamp");
        s = choose_groups(&bt, &err);
    }
    if (!s)
        s = bp->members_path ? read_members(&bt, bp->members_path, &err) : all_members(&bt, &err);
    size_t bad = s ? 0 : find_unknown(&bt);
    if (!s && bad && !bp->errors_path) {
        show_unknown(&bt, bad);
        s = prefrec_error_set(&err, PREFREC_E_NOTFOUND,
                              "%zu of %zu members in %s are unknown or repeated (nothing written; "
                              "--errors FILE lists them and serves the others)",
                              bad, bt.n, bp->members_path);
    }
    /* the output files first: an unwritable place fails before the work */
    if (!s && !(s = prefrec_atomic_open(&out, bp->out_path, &err))) have_out = 1;
    if (!s && bp->errors_path && !(s = prefrec_atomic_open(&errs, bp->errors_path, &err)))
        have_errs = 1;
    if (!s && bp->format == CLI_BATCH_CSV) fputs(cli_batch_csv_header, out.f);
    if (have_errs) fputs("where,member,status,message\n", errs.f);
    if (!s) s = run(&bt, out.f, have_errs ? errs.f : NULL, &n_errors, &err);
    if (!s && have_out) {
        have_out = 0;
        s = prefrec_atomic_commit(&out, &err);
    }
    if (!s && have_errs) {
        have_errs = 0;
        s = prefrec_atomic_commit(&errs, &err);
    }
    if (have_out) prefrec_atomic_abort(&out);
    if (have_errs) prefrec_atomic_abort(&errs);
    if (!s && n_errors)
        fprintf(stderr, "prefrec %s: %zu of %zu members not served, listed in %s\n", bp->cmd,
                n_errors, bt.n, bp->errors_path);
    free(bt.m);
    free(bt.file_buf);
    return s ? cli_fail(bp->cmd, &err) : 0;
}
