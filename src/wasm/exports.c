/* exports.c - the plain C ABI of the Emscripten module, used by web/prefrec.js.
 *
 * A session holds the packs loaded into one JS PrefRec object (one engine per affiliate,
 * each over its own item pack and optional customer shard). The JS side copies each pack
 * into the heap once (prefrec_wasm_malloc) and hands the buffer to the session, which owns
 * it from then on; prefrec_wasm_session_free releases everything.
 *
 *   s = prefrec_wasm_session_new();
 *   if (prefrec_wasm_session_add(s, item, item_len, shard, shard_len) < 0)
 *       message = prefrec_wasm_session_error(s);
 *   char *resp = prefrec_wasm_session_handle(s, req, req_len);   // JSON, docs/engine.md
 *   prefrec_wasm_free(resp);
 *   n = prefrec_wasm_session_top(s, req, req_len, out_idx, out_score, out_meta);  // typed
 *   prefrec_wasm_session_free(s);
 *
 * Every function is safe on bad input: statuses are negative prefrec_status codes and the
 * message is in the session (prefrec_wasm_session_error), never a trap. Strings returned as
 * char * are heap copies the caller frees with prefrec_wasm_free; const char * results are
 * valid until the session is freed. A session is used by one JS thread at a time (its error
 * buffer is per session); the engines inside are immutable. No globals. */
#include <emscripten.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/num.h"
#include "prefrec/api.h"
#include "prefrec/demog.h"
#include "prefrec/engine.h"
#include "prefrec/member.h"
#include "prefrec/pack.h"

#define WASM_MAX_ENGINES 64

typedef struct prefrec_wasm_session {
    size_t n;
    void *bytes[WASM_MAX_ENGINES], *cbytes[WASM_MAX_ENGINES];
    prefrec_pack *packs[WASM_MAX_ENGINES], *cpacks[WASM_MAX_ENGINES];
    prefrec_engine *engines[WASM_MAX_ENGINES];
    prefrec_member_state *member; /* the signed-in member's opened record, or NULL */
    prefrec_error err;
} prefrec_wasm_session;

/* cJSON's number round-trip check (only "%lg"; see cjson_scan.h): 1 if s reads as a double. */
int prefrec_wasm_scan_lg(const char *s, const char *fmt, double *out) {
    (void)fmt;
    char *end;
    *out = prefrec_strtod(s, &end);
    return end != s;
}

EMSCRIPTEN_KEEPALIVE void *prefrec_wasm_malloc(size_t n) { return malloc(n ? n : 1); }
EMSCRIPTEN_KEEPALIVE void prefrec_wasm_free(void *p) { free(p); }

EMSCRIPTEN_KEEPALIVE prefrec_wasm_session *prefrec_wasm_session_new(void) {
    return calloc(1, sizeof(prefrec_wasm_session));
}

EMSCRIPTEN_KEEPALIVE void prefrec_wasm_session_free(prefrec_wasm_session *s) {
    if (!s) return;
    prefrec_member_state_free(s->member);
    for (size_t i = 0; i < s->n; i++) {
        prefrec_engine_free(s->engines[i]);
        prefrec_pack_free(s->packs[i]);
        prefrec_pack_free(s->cpacks[i]);
        free(s->bytes[i]);
        free(s->cbytes[i]);
    }
    free(s);
}

EMSCRIPTEN_KEEPALIVE const char *prefrec_wasm_session_error(const prefrec_wasm_session *s) {
    return s ? s->err.msg : "no session";
}

/* Prefix the current message with what was being loaded ("item pack: ..."). */
static int wrap(prefrec_wasm_session *s, prefrec_status st, const char *what) {
    char msg[PREFREC_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", s->err.msg);
    return prefrec_error_set(&s->err, st, "%s: %s", what, msg);
}

/* Add an engine over the item pack bytes[0..len) and, when cbytes is not NULL, the customer
 * pack or shard cbytes[0..clen). Takes ownership of both buffers (freed here on failure).
 * Returns the engine's index (>= 0) or a negative prefrec_status. */
EMSCRIPTEN_KEEPALIVE int prefrec_wasm_session_add(prefrec_wasm_session *s, void *bytes, size_t len,
                                                  void *cbytes, size_t clen) {
    if (!s) {
        free(bytes);
        free(cbytes);
        return PREFREC_E_INVAL;
    }
    prefrec_error_clear(&s->err);
    if (s->n >= WASM_MAX_ENGINES) {
        free(bytes);
        free(cbytes);
        return prefrec_error_set(&s->err, PREFREC_E_RANGE, "at most %d packs", WASM_MAX_ENGINES);
    }
    prefrec_pack *pk = NULL, *cp = NULL;
    prefrec_engine *e = NULL;
    prefrec_status st = bytes ? prefrec_pack_open(bytes, len, &pk, &s->err)
                              : prefrec_error_set(&s->err, PREFREC_E_INVAL, "no pack bytes");
    if (st) st = wrap(s, st, "item pack");
    if (!st && cbytes) {
        st = prefrec_pack_open(cbytes, clen, &cp, &s->err);
        if (st) st = wrap(s, st, "customer pack");
    }
    if (!st) {
        st = prefrec_engine_new(pk, cp, &e, &s->err);
        if (st) st = wrap(s, st, "engine");
    }
    if (!st) {
        const char *aff = prefrec_engine_affiliate(e);
        for (size_t i = 0; i < s->n && !st; i++)
            if (!strcmp(prefrec_engine_affiliate(s->engines[i]), aff))
                st = prefrec_error_set(&s->err, PREFREC_E_INVAL,
                                       "a pack for affiliate '%s' is already loaded", aff);
    }
    if (st) {
        prefrec_engine_free(e);
        prefrec_pack_free(pk);
        prefrec_pack_free(cp);
        free(bytes);
        free(cbytes);
        return st;
    }
    size_t i = s->n++;
    s->bytes[i] = bytes;
    s->cbytes[i] = cbytes;
    s->packs[i] = pk;
    s->cpacks[i] = cp;
    s->engines[i] = e;
    return (int)i;
}

/* What is loaded, as JSON: [{"affiliate","products","categories","customers","rankers":[..],
 * "default_ranker"}]. Caller frees. NULL when memory runs out. */
EMSCRIPTEN_KEEPALIVE char *prefrec_wasm_session_info(const prefrec_wasm_session *s) {
    return prefrec_api_info(s ? (const prefrec_engine *const *)s->engines : NULL, s ? s->n : 0);
}

/* One JSON request (docs/engine.md) over every loaded pack; the JSON response. Caller frees.
 * NULL only when memory runs out. */
EMSCRIPTEN_KEEPALIVE char *prefrec_wasm_session_handle(const prefrec_wasm_session *s,
                                                       const char *req, size_t len) {
    if (!s) return NULL;
    return prefrec_api_handle_member((const prefrec_engine *const *)s->engines, s->n, s->member,
                                     req ? req : "", req ? len : 0);
}

/* ---- the typed path: no JSON, results into caller arrays ----------------------------------- */

/* Index of the engine serving affiliate aff (NUL-terminated), -1 if none. */
EMSCRIPTEN_KEEPALIVE int prefrec_wasm_session_find(const prefrec_wasm_session *s, const char *aff) {
    for (size_t i = 0; s && aff && i < s->n; i++)
        if (!strcmp(prefrec_engine_affiliate(s->engines[i]), aff)) return (int)i;
    return -1;
}

EMSCRIPTEN_KEEPALIVE int prefrec_wasm_session_count(const prefrec_wasm_session *s) {
    return s ? (int)s->n : 0;
}

static const prefrec_engine *engine_at(prefrec_wasm_session *s, int i) {
    if (!s || i < 0 || (size_t)i >= s->n) {
        if (s)
            prefrec_error_set(&s->err, PREFREC_E_RANGE, "engine index %d out of range (0..%d)", i,
                              s ? (int)s->n - 1 : -1);
        return NULL;
    }
    return s->engines[i];
}

/* Catalog strings of engine i, product p: field 0 code, 1 name, 2 category, 3 subcategory.
 * NULL when out of range. Valid until the session is freed. */
EMSCRIPTEN_KEEPALIVE const char *prefrec_wasm_session_product(prefrec_wasm_session *s, int i,
                                                              int32_t p, int field) {
    const prefrec_engine *e = engine_at(s, i);
    if (!e || p < 0 || p >= prefrec_engine_n_products(e)) return NULL;
    switch (field) {
        case 0:
            return prefrec_engine_product_code(e, p);
        case 1:
            return prefrec_engine_product_name(e, p);
        case 2:
            return prefrec_engine_product_category(e, p);
        case 3:
            return prefrec_engine_product_subcategory(e, p);
        default:
            return NULL;
    }
}

EMSCRIPTEN_KEEPALIVE int32_t prefrec_wasm_session_n_products(prefrec_wasm_session *s, int i) {
    const prefrec_engine *e = engine_at(s, i);
    return e ? prefrec_engine_n_products(e) : PREFREC_E_RANGE;
}

/* The typed path: one JSON request (docs/engine.md; plans recommend, subscribe, ratio), read
 * and checked by the same code as prefrec_wasm_session_handle (same errors: no number the caller
 * passes can wrap, as k 2^32 + 1 did to 1 when k was a uint32_t parameter here), and the top-k
 * straight into caller arrays: out_idx[k] product indices and out_score[k] scores (best first);
 * with sample > 0 the sampled picks follow at [k, k + n_sampled) (size the arrays k + sample,
 * at most 130); out_meta[5] = source, ranker, customer index, n_sampled, engine index.
 * Returns the number of top-k items (>= 1) or a negative status (message:
 * prefrec_wasm_session_error). */
EMSCRIPTEN_KEEPALIVE int prefrec_wasm_session_top(prefrec_wasm_session *s, const char *req,
                                                  size_t len, int32_t *out_idx, float *out_score,
                                                  int32_t *out_meta) {
    if (!s) return PREFREC_E_INVAL;
    prefrec_error_clear(&s->err);
    if (!out_idx || !out_score || !out_meta)
        return prefrec_error_set(&s->err, PREFREC_E_INVAL, "output arrays missing");
    prefrec_response *rs = malloc(sizeof *rs);
    if (!rs) return prefrec_error_set(&s->err, PREFREC_E_NOMEM, "out of memory");
    size_t engine = 0;
    prefrec_status st =
        prefrec_api_recommend_member((const prefrec_engine *const *)s->engines, s->n, s->member,
                                     req ? req : "", req ? len : 0, &engine, rs, &s->err);
    if (st) {
        free(rs);
        return st;
    }
    for (uint32_t i = 0; i < rs->n; i++) {
        out_idx[i] = rs->items[i].product;
        out_score[i] = rs->items[i].score;
    }
    for (uint32_t i = 0; i < rs->n_sampled; i++) {
        out_idx[rs->n + i] = rs->sampled[i].product;
        out_score[rs->n + i] = rs->sampled[i].score;
    }
    out_meta[0] = rs->source;
    out_meta[1] = rs->ranker;
    out_meta[2] = rs->customer;
    out_meta[3] = (int32_t)rs->n_sampled;
    out_meta[4] = (int32_t)engine;
    int n = (int)rs->n;
    free(rs);
    return n;
}

/* ---- the signed-in member (SECURITY.md, "Members' data") -------------------------------------
 * Open the member record rec[0..len) of export eid[16] for member kid[16] (NULL: any) with
 * secret[0..n): kind 0 the record key (32 bytes, from the shop's backend), 1 the member's card
 * token, 2 their PIN. On success the member's state replaces the session's (the old one wiped)
 * and every request of the session is for that member; 0 or a negative status (message:
 * prefrec_wasm_session_error; a wrong secret and an altered record are the same "cannot open").
 * The caller's buffers are not kept (the JS side wipes and frees them). */
EMSCRIPTEN_KEEPALIVE int prefrec_wasm_member_open(prefrec_wasm_session *s, const void *rec,
                                                  size_t len, const uint8_t *eid,
                                                  const uint8_t *kid, int kind,
                                                  const uint8_t *secret, size_t n) {
    if (!s) return PREFREC_E_INVAL;
    prefrec_error_clear(&s->err);
    uint8_t *state = NULL;
    size_t sn = 0;
    prefrec_status st;
    if (!rec || !eid || !secret)
        st = prefrec_error_set(&s->err, PREFREC_E_INVAL, "member record: missing bytes");
    else if (kind == 0 && n != PREFREC_MEMBER_KEY_SIZE)
        st = prefrec_error_set(&s->err, PREFREC_E_INVAL, "member record: a key is 32 bytes");
    else if (kind == 0)
        st = prefrec_member_open(rec, len, eid, kid, secret, &state, &sn, &s->err);
    else if (kind == 1)
        st = prefrec_member_open_token(rec, len, eid, kid, secret, n, &state, &sn, &s->err);
#ifndef PREFREC_WASM_NO_PIN
    else if (kind == 2)
        st = prefrec_member_open_pin(rec, len, eid, kid, (const char *)secret, n, &state, &sn,
                                     &s->err);
#else /* the web module leaves Argon2id out (25 KB): PIN records open natively and in WASI */
    else if (kind == 2)
        st = prefrec_error_set(&s->err, PREFREC_E_INVAL,
                               "member record: this engine opens records with a key or a card "
                               "token; PIN records need the kiosk build with Argon2id");
#endif
    else
        st = prefrec_error_set(&s->err, PREFREC_E_INVAL, "member record: unknown kind %d", kind);
    prefrec_member_state *m = NULL;
    if (!st) st = prefrec_member_state_decode(state, sn, &m, &s->err);
    prefrec_member_wipe_free(state, sn);
    if (st) return st;
    prefrec_member_state_free(s->member);
    s->member = m;
    return 0;
}

EMSCRIPTEN_KEEPALIVE void prefrec_wasm_member_close(prefrec_wasm_session *s) {
    if (!s) return;
    prefrec_member_state_free(s->member);
    s->member = NULL;
}

/* The open member's own summary as JSON {"gender","age","affiliates":[{"affiliate","products"}]}
 * (null when none); caller frees. Nothing of any other member is in the session to show. */
EMSCRIPTEN_KEEPALIVE char *prefrec_wasm_member_info(const prefrec_wasm_session *s) {
    const prefrec_member_state *m = s ? s->member : NULL;
    if (!m) {
        char *z = malloc(5);
        if (z) memcpy(z, "null", 5);
        return z;
    }
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "affiliates");
    cJSON_AddItemToObject(o, "gender",
                          m->gender == PREFREC_GENDER_MALE         ? cJSON_CreateString("M")
                              : m->gender == PREFREC_GENDER_FEMALE ? cJSON_CreateString("F")
                                                                   : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "age",
                          m->age == m->age ? cJSON_CreateNumber(m->age) : cJSON_CreateNull());
    for (uint32_t i = 0; a && i < m->n_aff; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "affiliate", m->aff[i].affiliate);
        cJSON_AddNumberToObject(f, "products", m->aff[i].n_items);
        cJSON_AddItemToArray(a, f);
    }
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
