/* api.c - JSON requests in, JSON responses out, over a set of engines (see prefrec/api.h).
 * Validation is strict: unknown members, wrong types and out-of-range values are errors that
 * name the member, so a page or kiosk sees its own mistake instead of a silent default. */
#include "prefrec/api.h"
#include "prefrec/date.h"
#include "prefrec/demog.h"
#include "prefrec/member.h"
#include "json_build.h"
#include "json_read.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/sample.h"
#include "utf8.h"

#define MAX_ENGINES 64

typedef struct api_req {
    const prefrec_member_state *member; /* the member's own record, or NULL */
    prefrec_member_aff none; /* the member's part in an affiliate they never bought in */
    const char *plan;
    const char *affiliate;
    prefrec_request rq;
    int32_t *history; /* product indices in the chosen engine */
    const cJSON *history_json;
    const cJSON *weights; /* ratio: {"A01": n, ...} or NULL */
    size_t categories, per_category;
} api_req;

char *prefrec_api_error_json(prefrec_status s, const char *msg) {
    json_build jb = {0};
    cJSON *o = json_root(&jb);
    json_bool(&jb, o, "ok", 0);
    cJSON *e = json_obj(&jb, o, "error");
    json_num(&jb, e, "code", (double)s);
    json_str(&jb, e, "status", prefrec_status_str(s));
    json_str(&jb, e, "message", msg);
    return json_print(&jb, o, 0);
}

static const char *const known_members[] = {
    "plan",   "affiliate",  "customer", "history", "gender",     "age",          "k",
    "sample", "seed",       "ranker",   "weights", "categories", "per_category", "list",
    "day",    "candidates", NULL};

static prefrec_status get_uint(const cJSON *o, const char *key, double lo, double hi, double *v,
                               prefrec_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!it || cJSON_IsNull(it)) return PREFREC_OK;
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < lo ||
        it->valuedouble > hi)
        return prefrec_error_set(err, PREFREC_E_RANGE, "request: \"%s\" must be an integer %g..%g",
                                 key, lo, hi);
    *v = it->valuedouble;
    return PREFREC_OK;
}

/* gender and age: the one rule of prefrec/demog.h (the loaders' too), as a string or a number
 * (0/1; years), or null. */
static prefrec_status parse_gender(const cJSON *it, int *g, prefrec_error *err) {
    *g = PREFREC_GENDER_UNKNOWN;
    if (!it || cJSON_IsNull(it)) return PREFREC_OK;
    if (cJSON_IsNumber(it) && (it->valuedouble == 0 || it->valuedouble == 1)) {
        *g = (int)it->valuedouble;
        return PREFREC_OK;
    }
    if (cJSON_IsString(it) &&
        (*g = prefrec_gender_parse(it->valuestring, strlen(it->valuestring))) != -2)
        return PREFREC_OK;
    *g = PREFREC_GENDER_UNKNOWN;
    return prefrec_error_set(err, PREFREC_E_INVAL,
                             "request: \"gender\" must be \"M\", \"F\", \"male\", "
                             "\"female\", \"남성\", \"여성\", 0, 1 or null");
}

static prefrec_status parse_age(const cJSON *it, float *age, prefrec_error *err) {
    *age = NAN;
    if (!it || cJSON_IsNull(it)) return PREFREC_OK;
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= PREFREC_AGE_MAX) {
        *age = (float)it->valuedouble;
        return PREFREC_OK;
    }
    if (cJSON_IsString(it) && prefrec_age_parse(it->valuestring, strlen(it->valuestring), age) == 0)
        return PREFREC_OK;
    *age = NAN;
    return prefrec_error_set(err, PREFREC_E_INVAL,
                             "request: \"age\" must be years 0..130, a band like "
                             "\"30대\", \"30s\", \"25-34\" or \"65+\", or null");
}

/* ---- what cJSON would read differently from JSON.parse, refused before the members are read:
 * a string holding U+0000 (cJSON's strings end at the first NUL, so "C0\u0000zz" would be
 * served as customer C0), a string that is not valid UTF-8 (it would be echoed into answers),
 * and duplicate members (cJSON finds the first, JSON.parse keeps the last). cJSON does not keep
 * a string's length, so the text is scanned for the first bad string token, and the tree, walked
 * in the same document order, names where it is. */
#define MAX_DEPTH 16 /* nesting the walk allows (the request has 2 levels; cJSON allows 1000) */

typedef struct walk {
    long bad, at; /* ordinal of the first bad string token (-1: none); of the next token */
    int bad_nul; /* the bad one holds U+0000 (else: it is not valid UTF-8) */
    int depth; /* the deepest nesting of arrays and objects */
    size_t len; /* path[0..len): where the walk is ("history[1]", "weights.A01") */
    char path[128];
} walk;

static void scan_strings(const char *s, size_t n, walk *w) {
    w->bad = -1;
    for (size_t i = 0, k = 0, d = 0; i < n; i++) {
        if ((s[i] == '[' || s[i] == '{') && ++d > (size_t)w->depth) w->depth = (int)d;
        if (s[i] == ']' || s[i] == '}') d--;
        if (s[i] != '"') continue;
        int nul = 0, bad = 0;
        for (i++; i < n && s[i] != '"';) {
            const unsigned char *c = (const unsigned char *)s + i;
            if (*c == '\\') { /* an escape; cJSON checked it, only \u0000 matters here */
                nul |= i + 5 < n && c[1] == 'u' && !memcmp(c + 2, "0000", 4);
                i += 2;
                continue;
            }
            size_t l = prefrec_utf8_seq(c, n - i);
            nul |= !*c;
            bad |= !l;
            i += l ? l : 1;
        }
        if ((nul || bad) && w->bad < 0) {
            w->bad = (long)k;
            w->bad_nul = nul;
        }
        k++;
    }
}

static prefrec_status bad_string(const walk *w, int depth, int is_name, prefrec_error *err) {
    prefrec_status s = w->bad_nul ? PREFREC_E_INVAL : PREFREC_E_PARSE;
    const char *what = w->bad_nul ? "contains U+0000" : "is not valid UTF-8";
    if (is_name)
        return prefrec_error_set(err, s, "request: a member name%s%s %s", w->len ? " in " : "",
                                 w->path, what);
    return prefrec_error_set(err, s, depth == 1 ? "request: \"%s\" %s" : "request: %s %s", w->path,
                             what);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Check node (at depth; the request is depth 0) and everything under it, in document order. */
static prefrec_status walk_tree(const cJSON *node, walk *w, int depth, prefrec_error *err) {
    if (cJSON_IsString(node) && w->at++ == w->bad) return bad_string(w, depth, 0, err);
    int obj = cJSON_IsObject(node), n = 0;
    for (const cJSON *c = node->child; c; c = c->next, n++) {
        if (obj && w->at++ == w->bad) return bad_string(w, depth, 1, err);
        size_t keep = w->len, room = sizeof w->path - keep;
        int m = obj ? snprintf(w->path + keep, room, keep ? ".%s" : "%s", c->string)
                    : snprintf(w->path + keep, room, "[%d]", n);
        w->len = m >= 0 && (size_t)m < room ? keep + (size_t)m
                                            : prefrec_utf8_cut(w->path, sizeof w->path - 1);
        w->path[w->len] = '\0';
        prefrec_status s = walk_tree(c, w, depth + 1, err);
        w->len = keep;
        w->path[keep] = '\0';
        if (s) return s;
    }
    if (!obj || n < 2) return PREFREC_OK;
    /* duplicates: sorted names side by side (an object may have many members: no n^2) */
    const char **names = malloc((size_t)n * sizeof *names);
    if (!names) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    n = 0;
    for (const cJSON *c = node->child; c; c = c->next) names[n++] = c->string;
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    const char *dup = NULL;
    for (int i = 1; i < n && !dup; i++)
        if (!strcmp(names[i - 1], names[i])) dup = names[i];
    prefrec_status s = PREFREC_OK;
    if (dup && w->len)
        s = prefrec_error_set(err, PREFREC_E_INVAL, "request: %s: duplicate member \"%s\"", w->path,
                              dup);
    else if (dup)
        s = prefrec_error_set(err, PREFREC_E_INVAL, "request: duplicate member \"%s\"", dup);
    free(names);
    return s;
}

static prefrec_status parse(const cJSON *root, api_req *r, prefrec_error *err);

/* Parse and check request[0..len) into *r, which points into *root (the caller deletes it and
 * frees r->history, also on error). */
static prefrec_status read_request(const char *request, size_t len, cJSON **root, api_req *r,
                                   prefrec_error *err) {
    memset(r, 0, sizeof *r);
    size_t at = 0;
    cJSON *j = prefrec_json_parse_strict(request, len, &at);
    *root = j;
    if (!j)
        return prefrec_error_set(err, PREFREC_E_PARSE, "request: invalid JSON near byte %zu", at);
    const char *end = request + at;
    if (!cJSON_IsObject(j))
        return prefrec_error_set(err, PREFREC_E_PARSE, "request: not a JSON object");
    walk w;
    memset(&w, 0, sizeof w);
    scan_strings(request, (size_t)(end - request), &w);
    if (w.depth > MAX_DEPTH) /* the walk recurses: bound it (a wasm stack is small) */
        return prefrec_error_set(err, PREFREC_E_RANGE, "request: nested %d levels deep, at most %d",
                                 w.depth, MAX_DEPTH);
    prefrec_status s = walk_tree(j, &w, 0, err);
    return s ? s : parse(j, r, err);
}

static prefrec_status parse(const cJSON *root, api_req *r, prefrec_error *err) {
    memset(r, 0, sizeof *r);
    r->rq = prefrec_request_default();
    r->plan = "recommend";
    r->categories = 5;
    r->per_category = 5;
    if (!cJSON_IsObject(root))
        return prefrec_error_set(err, PREFREC_E_PARSE, "request: not a JSON object");
    for (const cJSON *it = root->child; it; it = it->next) {
        int ok = 0;
        for (int i = 0; known_members[i]; i++) ok |= !strcmp(it->string, known_members[i]);
        if (!ok)
            return prefrec_error_set(err, PREFREC_E_INVAL, "request: unknown member \"%s\"",
                                     it->string);
    }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "plan");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsString(it) ||
            (strcmp(it->valuestring, "recommend") && strcmp(it->valuestring, "ratio") &&
             strcmp(it->valuestring, "subscribe") && strcmp(it->valuestring, "stamp")))
            return prefrec_error_set(
                err, PREFREC_E_INVAL,
                "request: \"plan\" must be \"recommend\", \"ratio\", \"subscribe\" or \"stamp\"");
        r->plan = it->valuestring;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "affiliate");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsString(it))
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "request: \"affiliate\" must be a string");
        r->affiliate = it->valuestring;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "customer");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsString(it))
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "request: \"customer\" must be a string");
        r->rq.customer = it->valuestring;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "history");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsArray(it))
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "request: \"history\" must be an array of product codes");
        int i = 0;
        for (const cJSON *h = it->child; h; h = h->next, i++)
            if (!cJSON_IsString(h))
                return prefrec_error_set(err, PREFREC_E_INVAL,
                                         "request: history[%d] is not a product code string", i);
        if (i > PREFREC_MAX_HISTORY)
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "request: history has %d items, at most %d", i,
                                     PREFREC_MAX_HISTORY);
        r->history_json = it;
    }
    prefrec_status s;
    if ((s = parse_gender(cJSON_GetObjectItemCaseSensitive(root, "gender"), &r->rq.gender, err)))
        return s;
    if ((s = parse_age(cJSON_GetObjectItemCaseSensitive(root, "age"), &r->rq.age, err))) return s;
    double v = r->rq.k;
    if ((s = get_uint(root, "k", 1, PREFREC_MAX_K, &v, err))) return s;
    r->rq.k = (uint32_t)v;
    v = 0;
    if ((s = get_uint(root, "sample", 0, PREFREC_SAMPLE_POOL, &v, err))) return s;
    r->rq.sample = (uint32_t)v;
    v = 0;
    if ((s = get_uint(root, "candidates", 0, PREFREC_MAX_CANDIDATES, &v, err))) return s;
    r->rq.candidates = (uint32_t)v;
    v = 0;
    /* seeds travel as JSON numbers: integers up to 2^53 are exact in every JSON reader */
    if ((s = get_uint(root, "seed", 0, 9007199254740992.0, &v, err))) return s;
    r->rq.seed = (uint64_t)v;
    v = 5;
    if ((s = get_uint(root, "categories", 1, 20, &v, err))) return s;
    r->categories = (size_t)v;
    v = 5;
    if ((s = get_uint(root, "per_category", 1, PREFREC_STAMP_MAX_PER_CAT, &v, err))) return s;
    r->per_category = (size_t)v;
    it = cJSON_GetObjectItemCaseSensitive(root, "ranker");
    if (it && !cJSON_IsNull(it)) {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, "default"))
            r->rq.ranker = PREFREC_RANKER_DEFAULT;
        else if (cJSON_IsString(it) && !strcmp(it->valuestring, "blend"))
            r->rq.ranker = PREFREC_RANKER_BLEND;
        else if (cJSON_IsString(it) && !strcmp(it->valuestring, "neumf"))
            r->rq.ranker = PREFREC_RANKER_NEUMF;
        else
            return prefrec_error_set(
                err, PREFREC_E_INVAL,
                "request: \"ranker\" must be \"default\", \"blend\" or \"neumf\"");
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "list");
    if (it && !cJSON_IsNull(it)) {
        const char *l = cJSON_IsString(it) ? it->valuestring : "";
        r->rq.list = !strcmp(l, "discover") ? PREFREC_LIST_DISCOVER
            : !strcmp(l, "buy_again")       ? PREFREC_LIST_BUY_AGAIN
            : !strcmp(l, "mixed")           ? PREFREC_LIST_MIXED
                                            : -1;
        if (r->rq.list < 0)
            return prefrec_error_set(
                err, PREFREC_E_INVAL,
                "request: \"list\" must be \"discover\", \"buy_again\" or \"mixed\"");
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "day");
    if (it && !cJSON_IsNull(it)) {
        int32_t d = 0;
        if (!cJSON_IsString(it) ||
            prefrec_date_parse(it->valuestring, strlen(it->valuestring), &d) || d <= 0)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "request: \"day\" must be a date \"YYYY-MM-DD\" after 1970");
        r->rq.today = d;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "weights");
    if (it && !cJSON_IsNull(it)) {
        if (!cJSON_IsObject(it))
            return prefrec_error_set(
                err, PREFREC_E_INVAL,
                "request: \"weights\" must be an object {\"A01\": count, ...}");
        for (const cJSON *w = it->child; w; w = w->next)
            if (!cJSON_IsNumber(w) || !(w->valuedouble >= 0) || !isfinite(w->valuedouble))
                return prefrec_error_set(err, PREFREC_E_RANGE,
                                         "request: weights.%s must be a number >= 0", w->string);
        r->weights = it;
    }
    return PREFREC_OK;
}

static int find_engine(const prefrec_engine *const *e, size_t n, const char *aff) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(prefrec_engine_affiliate(e[i]), aff)) return (int)i;
    return -1;
}

/* Map the history codes to product indices of engine e (unknown codes are errors). */
static prefrec_status map_history(const prefrec_engine *e, api_req *r, prefrec_error *err) {
    free(r->history);
    r->history = NULL;
    r->rq.history = NULL;
    r->rq.n_history = 0;
    if (!r->history_json) return PREFREC_OK;
    int n = cJSON_GetArraySize(r->history_json);
    r->history = malloc((size_t)(n ? n : 1) * sizeof *r->history);
    if (!r->history) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    int i = 0;
    for (const cJSON *h = r->history_json->child; h; h = h->next, i++) {
        int32_t p = prefrec_engine_find_product(e, h->valuestring);
        if (p < 0)
            return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                     "request: history[%d]: unknown product '%s' in %s", i,
                                     h->valuestring, prefrec_engine_affiliate(e));
        r->history[i] = p;
    }
    r->rq.history = r->history;
    r->rq.n_history = (size_t)n;
    return PREFREC_OK;
}

static cJSON *item_json(json_build *jb, const prefrec_engine *e, const prefrec_item *it, int rank) {
    char small[256], *text = small;
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        jb->failed = 1;
        return NULL;
    }
    if (rank > 0) json_num(jb, o, "rank", rank);
    json_str(jb, o, "code", prefrec_engine_product_code(e, it->product));
    json_str(jb, o, "name", prefrec_engine_product_name(e, it->product));
    json_str(jb, o, "category", prefrec_engine_product_category(e, it->product));
    json_str(jb, o, "subcategory", prefrec_engine_product_subcategory(e, it->product));
    json_num(jb, o, "score", (double)it->score);
    /* the reason as long as the name it quotes */
    size_t need = prefrec_engine_reason_text(e, it, small, sizeof small);
    if (need >= sizeof small && (text = malloc(need + 1)) != NULL)
        prefrec_engine_reason_text(e, it, text, need + 1);
    if (!text)
        jb->failed = 1;
    else
        json_str(jb, o, "reason", text);
    if (text != small) free(text);
    json_str(jb, o, "reason_kind", prefrec_reason_kind_name(it->reason));
    if (it->reason == PREFREC_REASON_BOUGHT_WITH) {
        json_str(jb, o, "reason_product", prefrec_engine_product_code(e, it->reason_ref));
        json_str(jb, o, "reason_product_name", prefrec_engine_product_name(e, it->reason_ref));
    } else if (it->reason == PREFREC_REASON_CATEGORY)
        json_str(jb, o, "reason_category", prefrec_engine_category_name(e, it->reason_ref));
    else if (it->reason == PREFREC_REASON_REPEAT) {
        json_num(jb, o, "days_bought", it->n_days);
        json_num(jb, o, "every_days", it->every_days);
        json_num(jb, o, "days_since", it->since_days);
    }
    return o;
}

static prefrec_status recommend_into(json_build *jb, const prefrec_engine *e, api_req *r,
                                     cJSON *out, prefrec_error *err) {
    prefrec_status s = map_history(e, r, err);
    if (s) return s;
    prefrec_response *rs = malloc(sizeof *rs);
    if (!rs) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    s = prefrec_engine_recommend(e, &r->rq, rs, err);
    if (!s) {
        json_str(jb, out, "affiliate", prefrec_engine_affiliate(e));
        json_str(jb, out, "list", prefrec_list_name(r->rq.list));
        json_str(jb, out, "source", prefrec_source_name(rs->source));
        json_str(jb, out, "ranker", rs->ranker == PREFREC_RANKER_BLEND ? "blend" : "neumf");
        cJSON *items = json_arr(jb, out, "items");
        for (uint32_t i = 0; i < rs->n; i++)
            json_push(jb, items, item_json(jb, e, &rs->items[i], (int)i + 1));
        if (r->rq.sample) {
            cJSON *sm = json_arr(jb, out, "sampled");
            for (uint32_t i = 0; i < rs->n_sampled; i++)
                json_push(jb, sm, item_json(jb, e, &rs->sampled[i], 0));
        }
    }
    free(rs);
    return s;
}

static prefrec_status stamp_into(json_build *jb, const prefrec_engine *e, api_req *r, cJSON *out,
                                 prefrec_error *err) {
    if (prefrec_engine_n_categories(e) <= 0)
        return prefrec_error_set(err, PREFREC_E_EMPTY,
                                 "plan \"stamp\": the pack for %s has no categories",
                                 prefrec_engine_affiliate(e));
    prefrec_status s = map_history(e, r, err);
    if (s) return s;
    prefrec_stamp_category *board = calloc(r->categories, sizeof *board);
    size_t nb = 0;
    if (!board) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    s = prefrec_engine_stamp(e, &r->rq, r->categories, r->per_category, board, &nb, err);
    if (!s) {
        json_str(jb, out, "affiliate", prefrec_engine_affiliate(e));
        cJSON *arr = json_arr(jb, out, "board");
        for (size_t c = 0; c < nb; c++) {
            cJSON *o = cJSON_CreateObject();
            if (!o) jb->failed = 1;
            json_str(jb, o, "category", prefrec_engine_category_name(e, board[c].category));
            json_num(jb, o, "mean_score", (double)board[c].mean_score);
            cJSON *items = json_arr(jb, o, "items");
            for (size_t i = 0; i < board[c].n_products; i++) {
                prefrec_item it = {board[c].products[i].index,
                                   board[c].products[i].score,
                                   PREFREC_REASON_CATEGORY,
                                   board[c].category,
                                   0,
                                   0,
                                   0};
                cJSON *j = item_json(jb, e, &it, (int)i + 1);
                json_bool(jb, j, "bought", board[c].bought[i]);
                json_push(jb, items, j);
            }
            json_push(jb, arr, o);
        }
    }
    free(board);
    return s;
}

/* The engine that answers request r: *idx. Plan ratio's choice goes into out (jb NULL: nowhere). */
static prefrec_status pick(json_build *jb, const prefrec_engine *const *engines, size_t n,
                           api_req *r, cJSON *out, int *pidx, prefrec_error *err) {
    int idx = 0;
    *pidx = 0;
    if (n == 0) return prefrec_error_set(err, PREFREC_E_EMPTY, "no model pack loaded");
    if (n > MAX_ENGINES)
        return prefrec_error_set(err, PREFREC_E_RANGE, "at most %d packs", MAX_ENGINES);
    if (!strcmp(r->plan, "ratio")) {
        double w[MAX_ENGINES] = {0}; /* (all n set below; the initialiser quiets gcc) */
        for (size_t i = 0; i < n; i++) {
            const char *aff = prefrec_engine_affiliate(engines[i]);
            if (r->weights) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->weights, aff);
                w[i] = v ? v->valuedouble : 0.0;
            } else if (r->member) { /* the member's own purchase lines per affiliate */
                for (uint32_t a = 0; a < r->member->n_aff; a++)
                    if (!strcmp(r->member->aff[a].affiliate, aff))
                        for (uint32_t k = 0; k < r->member->aff[a].n_items; k++)
                            w[i] += r->member->aff[a].items[k].count;
            } else {
                w[i] = prefrec_engine_customer_purchases(engines[i], r->rq.customer);
            }
        }
        if (r->weights)
            for (const cJSON *v = r->weights->child; v; v = v->next)
                if (find_engine(engines, n, v->string) < 0)
                    return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                             "request: weights: unknown affiliate '%s'", v->string);
        idx = prefrec_plan_ratio_pick(w, n, r->rq.seed);
        cJSON *ro = jb ? json_obj(jb, out, "ratio") : NULL,
              *wo = jb ? json_obj(jb, ro, "weights") : NULL;
        for (size_t i = 0; jb && i < n; i++)
            json_num(jb, wo, prefrec_engine_affiliate(engines[i]), w[i]);
        if (idx < 0) {
            /* no purchases anywhere: the affiliate with the most customers serves */
            idx = 0;
            for (size_t i = 1; i < n; i++)
                if (prefrec_engine_n_customers(engines[i]) >
                    prefrec_engine_n_customers(engines[idx]))
                    idx = (int)i;
            if (jb) json_bool(jb, ro, "fallback", 1);
        }
        if (jb) json_str(jb, ro, "picked", prefrec_engine_affiliate(engines[idx]));
        *pidx = idx;
        return PREFREC_OK;
    }
    if (r->affiliate) {
        idx = find_engine(engines, n, r->affiliate);
        if (idx < 0)
            return prefrec_error_set(err, PREFREC_E_NOTFOUND,
                                     "unknown affiliate '%s' (no pack loaded for it)",
                                     r->affiliate);
    } else if (!strcmp(r->plan, "subscribe")) {
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "request: plan \"subscribe\" needs \"affiliate\"");
    } else if (n > 1) {
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "request: several packs are loaded: say which \"affiliate\"");
    }
    *pidx = idx;
    return PREFREC_OK;
}

/* With a member record: who the request is for comes from the record alone. */
static prefrec_status bind_member(const cJSON *root, api_req *r, const prefrec_member_state *m,
                                  prefrec_error *err) {
    r->member = m;
    if (!m) return PREFREC_OK;
    static const char *const theirs[] = {"customer", "gender", "age"};
    for (int i = 0; i < 3; i++)
        if (cJSON_GetObjectItemCaseSensitive(root, theirs[i]))
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "request: \"%s\" cannot be given with a member record (the "
                                     "record says who the member is)",
                                     theirs[i]);
    r->rq.gender = m->gender == PREFREC_GENDER_MALE ? 0
        : m->gender == PREFREC_GENDER_FEMALE        ? 1
                                                    : -1;
    r->rq.age = m->age;
    return PREFREC_OK;
}

/* The member's part in engine e's affiliate (an empty one if they never bought there). */
static void member_part(const prefrec_engine *e, api_req *r) {
    if (!r->member) return;
    const char *aff = prefrec_engine_affiliate(e);
    r->rq.member = &r->none;
    memset(&r->none, 0, sizeof r->none);
    snprintf(r->none.affiliate, sizeof r->none.affiliate, "%s", aff);
    for (uint32_t a = 0; a < r->member->n_aff; a++)
        if (!strcmp(r->member->aff[a].affiliate, aff)) r->rq.member = &r->member->aff[a];
}

static prefrec_status handle(json_build *jb, const prefrec_engine *const *engines, size_t n,
                             api_req *r, cJSON *out, prefrec_error *err) {
    int idx;
    json_str(jb, out, "plan", r->plan);
    prefrec_status s = pick(jb, engines, n, r, out, &idx, err);
    if (s) return s;
    member_part(engines[idx], r);
    if (!strcmp(r->plan, "stamp")) return stamp_into(jb, engines[idx], r, out, err);
    return recommend_into(jb, engines[idx], r, out, err);
}

char *prefrec_api_handle_n(const prefrec_engine *const *engines, size_t n_engines,
                           const char *request, size_t len) {
    return prefrec_api_handle_member(engines, n_engines, NULL, request, len);
}

char *prefrec_api_handle_member(const prefrec_engine *const *engines, size_t n_engines,
                                const prefrec_member_state *member, const char *request,
                                size_t len) {
    prefrec_error err = {0};
    cJSON *root = NULL, *out = NULL;
    json_build jb = {0};
    api_req r;
    prefrec_status s = read_request(request, len, &root, &r, &err);
    if (!s) s = bind_member(root, &r, member, &err);
    if (!s) {
        out = json_root(&jb);
        json_bool(&jb, out, "ok", 1);
        s = handle(&jb, engines, n_engines, &r, out, &err);
    }
    char *text = NULL;
    if (!s) {
        text = json_print(&jb, out, 0); /* deletes out */
        out = NULL;
        if (!text) s = prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
    }
    if (s) {
        cJSON_Delete(out);
        text = prefrec_api_error_json(s, err.msg);
    }
    free(r.history);
    cJSON_Delete(root);
    return text;
}

prefrec_status prefrec_api_recommend_n(const prefrec_engine *const *engines, size_t n_engines,
                                       const char *request, size_t len, size_t *engine,
                                       prefrec_response *rs, prefrec_error *err) {
    return prefrec_api_recommend_member(engines, n_engines, NULL, request, len, engine, rs, err);
}

prefrec_status prefrec_api_recommend_member(const prefrec_engine *const *engines, size_t n_engines,
                                            const prefrec_member_state *member, const char *request,
                                            size_t len, size_t *engine, prefrec_response *rs,
                                            prefrec_error *err) {
    cJSON *root = NULL;
    api_req r;
    int idx = 0;
    prefrec_status s = read_request(request, len, &root, &r, err);
    if (!s) s = bind_member(root, &r, member, err);
    if (!s && !strcmp(r.plan, "stamp"))
        s = prefrec_error_set(err, PREFREC_E_INVAL,
                              "request: plan \"stamp\" has no typed answer (ask for it as JSON)");
    if (!s) s = pick(NULL, engines, n_engines, &r, NULL, &idx, err);
    if (!s) member_part(engines[idx], &r);
    if (!s) s = map_history(engines[idx], &r, err);
    if (!s) s = prefrec_engine_recommend(engines[idx], &r.rq, rs, err);
    if (!s && engine) *engine = (size_t)idx;
    free(r.history);
    cJSON_Delete(root);
    return s;
}

char *prefrec_api_handle(const prefrec_engine *const *engines, size_t n_engines,
                         const char *request_json) {
    return prefrec_api_handle_n(engines, n_engines, request_json,
                                request_json ? strlen(request_json) : 0);
}

char *prefrec_api_info(const prefrec_engine *const *engines, size_t n_engines) {
    json_build jb = {0};
    cJSON *arr = cJSON_CreateArray();
    if (!arr) return NULL;
    for (size_t i = 0; i < n_engines; i++) {
        const prefrec_engine *e = engines[i];
        cJSON *o = cJSON_CreateObject();
        json_push(&jb, arr, o);
        json_str(&jb, o, "affiliate", prefrec_engine_affiliate(e));
        json_int(&jb, o, "products", prefrec_engine_n_products(e));
        json_int(&jb, o, "categories", prefrec_engine_n_categories(e));
        json_int(&jb, o, "customers", prefrec_engine_n_customers(e));
        int blend = prefrec_engine_has_ranker(e, PREFREC_RANKER_BLEND);
        cJSON *r = json_arr(&jb, o, "rankers");
        if (blend) json_push(&jb, r, cJSON_CreateString("blend"));
        json_push(&jb, r, cJSON_CreateString("neumf"));
        json_str(&jb, o, "default_ranker", blend ? "blend" : "neumf");
        cJSON *l = json_arr(&jb, o, "lists");
        for (int k = 0; k < 3; k++)
            if (prefrec_engine_has_list(e, k))
                json_push(&jb, l, cJSON_CreateString(prefrec_list_name(k)));
        const char *eid = prefrec_engine_export_id(e);
        if (eid) json_str(&jb, o, "export_id", eid);
        char d[11];
        if (prefrec_engine_asof(e))
            json_str(&jb, o, "asof", prefrec_date_format(prefrec_engine_asof(e), d));
    }
    return json_print(&jb, arr, 0);
}

void prefrec_api_free(char *s) { free(s); }
