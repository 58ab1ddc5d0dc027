/* prefrec/engine.h - the portable recommender: one affiliate's pack in, recommendations out.
 *
 *   prefrec_pack *pk; prefrec_pack_open(bytes, len, &pk, &err);      // bytes stay alive
 *   prefrec_engine *e; prefrec_engine_new(pk, NULL, &e, &err);        // NULL: customers in pk
 *   prefrec_request rq = prefrec_request_default();
 *   rq.customer = "M000034966"; rq.k = 30; rq.sample = 1; rq.seed = 7;
 *   prefrec_response rs;
 *   if (prefrec_engine_recommend(e, &rq, &rs, &err) == PREFREC_OK)
 *       for (i < rs.n) product rs.items[i].product, score rs.items[i].score, reason ...
 *   prefrec_engine_free(e); prefrec_pack_free(pk); free(bytes);
 *
 * Who is served how (rs.source):
 *   PREFREC_SOURCE_KNOWN    the customer is in the pack's customer side (or a shard): their
 *                           bought set is excluded and their history drives the ranker;
 *   PREFREC_SOURCE_HISTORY  unknown code, purchase history in the request: folded in on the
 *                           device (the blend is a function of the history; the NeuMF customer
 *                           vector is solved with product weights fixed);
 *   PREFREC_SOURCE_SEGMENT  no history: gender and age alone (segment popularity / the MLP).
 * Rankers: "blend" (the default, chosen by `prefrec eval`: item-to-item neighbours + segment
 * popularity + category preference, docs/eval.md) when the pack carries it, else "neumf" (the
 * deck's score model). Every item has a reason (enum + a product or category index).
 *
 * Ownership and threads: an engine BORROWS its packs and is immutable once built: share it
 * between threads and calls. Requests and responses are caller-owned plain structs; each call
 * allocates its own scratch and frees it before returning. No files, no globals.
 * Errors: PREFREC_E_NOTFOUND (unknown customer with no history and no demographics is NOT an
 * error - it is served by segment; an unknown product code in a history is), PREFREC_E_RANGE
 * (k or sample out of range), PREFREC_E_EMPTY (no candidate products), PREFREC_E_FORMAT
 * (pack lacks what the ranker needs), PREFREC_E_NOMEM. */
#ifndef PREFREC_ENGINE_H
#define PREFREC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/budget.h"
#include "prefrec/pack.h"
#include "prefrec/stamp.h"
#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_MAX_K 100
#define PREFREC_SAMPLE_POOL 30 /* sampling draws among the top 30 (the deck) */
#define PREFREC_MAX_HISTORY 100000

enum {
    PREFREC_SOURCE_KNOWN = 0,
    PREFREC_SOURCE_HISTORY = 1,
    PREFREC_SOURCE_SEGMENT = 2,
    PREFREC_SOURCE_MEMBER = 3 /* the member's own record (prefrec/member.h) */
};
/* Which list (docs/engine.md, "List kinds"): what the deck asks for, never-bought products
 * (discover, the default); the member's own products by how due they are (buy again, the
 * "due" ranker of prefrec/repeat.h); or both in one list, merged by the member's repeat share
 * (mixed). Buy again and mixed need the member's purchase days (a member record). */
enum { PREFREC_LIST_DISCOVER = 0, PREFREC_LIST_BUY_AGAIN = 1, PREFREC_LIST_MIXED = 2 };
enum { PREFREC_RANKER_DEFAULT = 0, PREFREC_RANKER_BLEND = 1, PREFREC_RANKER_NEUMF = 2 };
enum {
    PREFREC_REASON_BOUGHT_WITH = 1, /* ref: a product of the customer's history bought with it */
    PREFREC_REASON_CATEGORY = 2, /* ref: the customer's most bought category it belongs to */
    PREFREC_REASON_SEGMENT = 3, /* ref: -1; popular with customers of the same gender/age */
    PREFREC_REASON_PREDICTED = 4, /* ref: -1; high predicted preference score (neumf) */
    PREFREC_REASON_REPEAT = 5 /* ref: -1; bought before: every_days, since_days, n_days */
};

typedef struct prefrec_engine prefrec_engine;
struct prefrec_model_cost; /* prefrec/model.h */

typedef struct prefrec_request {
    const char *customer; /* code, or NULL */
    const int32_t *history; /* product indices the customer bought (repeats allowed), or NULL */
    size_t n_history;
    int gender; /* 0 male, 1 female, -1 unknown (used when customer is unknown) */
    float age; /* years, NaN unknown */
    uint32_t k; /* 1 .. PREFREC_MAX_K */
    uint32_t sample; /* 0: none; else picks from the top 30, <= PREFREC_SAMPLE_POOL */
    uint64_t seed; /* sampling seed */
    int ranker; /* PREFREC_RANKER_*: the discover part's ranker */
    int list; /* PREFREC_LIST_* (0: discover) */
    int32_t today; /* the day served, days since 1970-01-01; 0: the pack's as-of day */
    /* the member's own state in this affiliate (their record, opened and decoded; borrowed), or
     * NULL. Its products are the history, its vector (when of the model's dim) the customer's;
     * customer must then be NULL. Gender and age stay the request's (from the record). */
    const struct prefrec_member_aff *member;
    /* NeuMF only: score just the default ranker's (the blend's) top `candidates` never-bought
     * products, k .. PREFREC_MAX_CANDIDATES; the rest rank after them (score -inf). 0: every
     * product. Needs a pack with the blend. Cost: candidates, not the catalogue (issue 18). */
    uint32_t candidates;
} prefrec_request;

#define PREFREC_MAX_CANDIDATES 10000

typedef struct prefrec_item {
    int32_t product; /* product index in the pack's catalog */
    float score; /* the ranker's score (neumf: predicted preference 0..5) */
    int32_t reason; /* PREFREC_REASON_* */
    int32_t reason_ref; /* product or category index, or -1 */
    int32_t n_days; /* REPEAT: days the member bought it on (else 0) */
    int32_t every_days; /* REPEAT: the usual interval, rounded (0: bought on one day only) */
    int32_t since_days; /* REPEAT: days since the last purchase, as of the day served */
} prefrec_item;

typedef struct prefrec_response {
    int32_t source; /* PREFREC_SOURCE_* */
    int32_t ranker; /* the ranker that served: PREFREC_RANKER_BLEND or _NEUMF */
    int32_t customer; /* index in the customer side, or -1 */
    uint32_t n; /* items[0 .. n): top-k, best first, never-bought only */
    prefrec_item items[PREFREC_MAX_K];
    uint32_t n_sampled; /* sampled[0 .. n_sampled): weighted picks among the top 30 */
    prefrec_item sampled[PREFREC_SAMPLE_POOL];
} prefrec_response;

prefrec_request prefrec_request_default(void); /* k 30, no sample, gender -1, age NaN */

/* Build an engine over an item pack and, optionally, a separate customer pack or shard
 * (customers NULL: the item pack's own customer side, if any). Borrows both packs.
 * Within the default budget (prefrec/budget.h): the memory the engine would own, at load and
 * for one request, is worked out from the packs' dimensions before anything is allocated, and
 * PREFREC_E_RANGE names the sizes when it exceeds 16 x the packs' bytes + 16 MiB (at most 512
 * MiB), or when scoring every product would exceed 2^32 multiply-adds. */
prefrec_status prefrec_engine_new(const prefrec_pack *items, const prefrec_pack *customers,
                                  prefrec_engine **out, prefrec_error *err);
/* The bytes the engine over these packs would own (at load and for one request) and the
 * model's cost (may be NULL), from the packs' dimensions alone: what the budget is checked
 * against. Errors: the model's (manifest dims, product.emb). */
prefrec_status prefrec_engine_need(const prefrec_pack *items, const prefrec_pack *customers,
                                   uint64_t *bytes, struct prefrec_model_cost *cost,
                                   prefrec_error *err);
/* The same within budget b (NULL: the default); b is read here only. */
prefrec_status prefrec_engine_new_budget(const prefrec_pack *items, const prefrec_pack *customers,
                                         const prefrec_budget *b, prefrec_engine **out,
                                         prefrec_error *err);
void prefrec_engine_free(prefrec_engine *e); /* accepts NULL */

/* ---- catalog and customers --------------------------------------------------------------- */
const char *prefrec_engine_affiliate(const prefrec_engine *e);
int32_t prefrec_engine_n_products(const prefrec_engine *e);
int32_t prefrec_engine_n_categories(const prefrec_engine *e);
int32_t prefrec_engine_n_customers(const prefrec_engine *e); /* 0 without a customer side */
int prefrec_engine_has_ranker(const prefrec_engine *e, int ranker);
/* 1 when the pack carries what list kind `list` needs (buy again and mixed: "repeat"). */
int prefrec_engine_has_list(const prefrec_engine *e, int list);
/* The export id of the item pack (manifest "export_id", 32 hex digits), or NULL: a member's
 * record opens only with its own export's id. */
const char *prefrec_engine_export_id(const prefrec_engine *e);
/* The pack's as-of day (manifest "asof"), days since 1970-01-01; 0 if it names none. */
int32_t prefrec_engine_asof(const prefrec_engine *e);
const char *prefrec_engine_product_code(const prefrec_engine *e, int32_t p);
const char *prefrec_engine_product_name(const prefrec_engine *e, int32_t p);
const char *prefrec_engine_product_category(const prefrec_engine *e, int32_t p);
const char *prefrec_engine_product_subcategory(const prefrec_engine *e, int32_t p);
const char *prefrec_engine_category_name(const prefrec_engine *e, int32_t c);
int32_t prefrec_engine_find_product(const prefrec_engine *e, const char *code); /* -1 */
int32_t prefrec_engine_find_customer(const prefrec_engine *e, const char *code); /* -1 */
/* Customer c's code (0 <= c < prefrec_engine_n_customers), or NULL out of range; borrowed from
 * the customer pack: valid while it is. Lets a batch walk every customer a pack knows. */
const char *prefrec_engine_customer_code(const prefrec_engine *e, int32_t c);
/* The customer's purchases in this affiliate (purchase lines if the pack has them, else
 * distinct products): the weight of this affiliate in plan 1. 0 if unknown. */
double prefrec_engine_customer_purchases(const prefrec_engine *e, const char *code);

/* ---- serving ------------------------------------------------------------------------------ */
prefrec_status prefrec_engine_recommend(const prefrec_engine *e, const prefrec_request *rq,
                                        prefrec_response *rs, prefrec_error *err);
/* Every product's score for the request (out[n_products]); bought products are not masked. */
prefrec_status prefrec_engine_score_all(const prefrec_engine *e, const prefrec_request *rq,
                                        float *out, prefrec_error *err);
/* Plan 3: the stamp board (n_cats categories x per_cat products) for the request. */
prefrec_status prefrec_engine_stamp(const prefrec_engine *e, const prefrec_request *rq,
                                    size_t n_cats, size_t per_cat, prefrec_stamp_category *board,
                                    size_t *n_board, prefrec_error *err);
/* Plan 1: index of the engine to serve from, drawn in proportion to the customer's purchases
 * per affiliate (weights[i], e.g. from prefrec_engine_customer_purchases), seeded. -1 when all
 * weights are 0: the caller falls back (e.g. to the affiliate with the most customers). */
int prefrec_plan_ratio_pick(const double *weights, size_t n, uint64_t seed);

/* The fixed names the JSON answers use: "known" "history" "segment" "member"; "bought_with"
 * "category" "segment" "predicted" "repeat"; "discover" "buy_again" "mixed" ("?" out of range). */
const char *prefrec_source_name(int source);
const char *prefrec_reason_kind_name(int reason);
const char *prefrec_list_name(int list);

/* A short English sentence for an item's reason ("Often bought with 바나나"). Writes at most
 * cap bytes including the NUL; returns the length it needed (without the NUL). Text that does
 * not fit is cut on a UTF-8 character boundary, never inside a character; call again with a
 * buffer of the returned length + 1 for the whole sentence. */
size_t prefrec_engine_reason_text(const prefrec_engine *e, const prefrec_item *it, char *buf,
                                  size_t cap);

#ifdef __cplusplus
}
#endif
#endif
