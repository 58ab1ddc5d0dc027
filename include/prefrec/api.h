/* prefrec/api.h - the JSON request/response API shared by the kiosk (WASI), the browser shim
 * (Emscripten) and `prefrec recommend|plan --json` (native): one schema, one code path, so the
 * three give the same answers. Schema: docs/engine.md.
 *
 *   const prefrec_engine *engines[6] = {...};          // one per affiliate pack
 *   char *out = prefrec_api_handle(engines, 6, "{\"plan\":\"recommend\",\"affiliate\":\"A01\","
 *                                              "\"customer\":\"M000034966\",\"k\":30}");
 *   puts(out);                                         // {"ok":true,...} or {"ok":false,...}
 *   prefrec_api_free(out);
 *
 * Plans: "recommend" (default), "subscribe" (recommend in the affiliate the customer chose;
 * "affiliate" required), "ratio" (plan 1: pick the affiliate in proportion to the customer's
 * purchases per affiliate - from "weights" or the packs' customer sides - then recommend),
 * "stamp" (plan 3: "categories" x "per_category" board, default 5 x 5).
 * Never fails to answer: every error (bad JSON, unknown member value, unknown customer, ...)
 * becomes {"ok": false, "error": {"code", "status", "message"}}. Refused as well, naming where:
 * strings holding U+0000 or not valid UTF-8, duplicate members at any level (JSON readers
 * disagree on them: cJSON ends a string at its NUL and finds the first of two members,
 * JSON.parse keeps the NUL and the last member), nesting deeper than 16 levels (a request has
 * 2). Reasons quote names whole; text cut into a fixed buffer (error messages) is cut on a
 * UTF-8 character, so every answer is valid UTF-8. Returns NULL only when memory
 * runs out. Caller frees the string with prefrec_api_free. Engines are borrowed. Thread-safe. */
#ifndef PREFREC_API_H
#define PREFREC_API_H

#include <stddef.h>

#include "prefrec/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

char *prefrec_api_handle(const prefrec_engine *const *engines, size_t n_engines,
                         const char *request_json);
/* Same, for a request of len bytes that need not be NUL-terminated. */
char *prefrec_api_handle_n(const prefrec_engine *const *engines, size_t n_engines,
                           const char *request, size_t len);
/* The typed form of a recommendation (the browser shim's recommendTop): the request text is
 * read and checked by the same code as prefrec_api_handle_n (same members, ranges, strings and
 * error messages), the pack chosen the same way (plans "recommend", "subscribe", "ratio"; a
 * "stamp" request is refused), and the answer left in *rs instead of JSON. *engine (may be
 * NULL) receives the index of the engine that served. On error err holds the message the JSON
 * answer would carry. */
prefrec_status prefrec_api_recommend_n(const prefrec_engine *const *engines, size_t n_engines,
                                       const char *request, size_t len, size_t *engine,
                                       prefrec_response *rs, prefrec_error *err);
/* The same for a member who proved who they are: member is their own state (a member record,
 * opened and decoded by the caller: prefrec/member.h), which says who the request is for (it may
 * not name "customer", "gender" or "age"); "list" may then be "buy_again" or "mixed" as well
 * as "discover", and plan "ratio" weighs the affiliates by the member's own purchases.
 * member NULL: prefrec_api_handle_n. */
struct prefrec_member_state;
char *prefrec_api_handle_member(const prefrec_engine *const *engines, size_t n_engines,
                                const struct prefrec_member_state *member, const char *request,
                                size_t len);
prefrec_status prefrec_api_recommend_member(const prefrec_engine *const *engines, size_t n_engines,
                                            const struct prefrec_member_state *member,
                                            const char *request, size_t len, size_t *engine,
                                            prefrec_response *rs, prefrec_error *err);
/* What is loaded: [{"affiliate","products","categories","customers","rankers":[..],
 * "default_ranker","lists":[..],"asof"}]. Caller frees with prefrec_api_free; NULL when memory runs out. */
char *prefrec_api_info(const prefrec_engine *const *engines, size_t n_engines);
void prefrec_api_free(char *s); /* accepts NULL */
/* An error answer {"ok":false,"error":{"code","status","message"}} for status s and msg, as every
 * front end (the kiosk, the CLI) gives its own errors. Caller frees with prefrec_api_free; NULL
 * when memory runs out. */
char *prefrec_api_error_json(prefrec_status s, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
