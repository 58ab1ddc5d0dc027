/* test_big_pack.c - large packs with a valid CRC and extreme dimensions (tests/big_pack.h), in
 * all three builds: each is refused with the expected status and message, or loads within the
 * budget (prefrec/budget.h) and serves in range. None may crash or trap; in the wasm builds
 * size_t has 32 bits, where (size_t)products * width * 4 used to wrap (issue 21: a 10 MB pack
 * of 300,000 products x a first layer of 4,096 made the WASI kiosk die with SIGSEGV and the
 * browser shim trap after 28 s). Files stay under 24 MB; dimensions multiply out to GBs.
 * Prints one line per case (status), the same in every build. */
#include <stdint.h>
#include <stdlib.h>

#include "big_pack.h"
#include "check.h"
#include "prefrec/budget.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"

typedef struct loaded {
    unsigned char *bytes, *cbytes;
    size_t len, clen;
    prefrec_pack *pk, *cp;
    prefrec_engine *e;
    prefrec_error err;
    prefrec_status st;
} loaded;

static void unload(loaded *l) {
    prefrec_engine_free(l->e);
    prefrec_pack_free(l->pk);
    prefrec_pack_free(l->cp);
    free(l->bytes);
    free(l->cbytes);
    memset(l, 0, sizeof *l);
}

/* Generate m's pack (and its shard when m->shard), open it (must succeed: the CRC is valid)
 * and build an engine within budget b (NULL: the default). l->st: engine_new's status. */
static void load(const char *name, const bp_model *m, const prefrec_budget *b, loaded *l) {
    memset(l, 0, sizeof *l);
    l->bytes = bp_item_pack(m, &l->len);
    CHECK(l->bytes != NULL);
    if (!l->bytes) {
        l->st = PREFREC_E_NOMEM;
        return;
    }
    CHECK_EQ_INT(prefrec_pack_open(l->bytes, l->len, &l->pk, &l->err), PREFREC_OK);
    if (m->shard) {
        l->cbytes = bp_customer_pack(m, prefrec_pack_crc(l->pk), &l->clen);
        CHECK(l->cbytes != NULL);
        CHECK_EQ_INT(prefrec_pack_open(l->cbytes, l->clen, &l->cp, &l->err), PREFREC_OK);
    }
    if (!l->pk || (m->shard && !l->cp)) {
        l->st = PREFREC_E_FORMAT;
        return;
    }
    l->st = prefrec_engine_new_budget(l->pk, l->cp, b, &l->e, &l->err);
    CHECK(l->st == PREFREC_OK ? l->e != NULL : l->e == NULL && l->err.msg[0]);
    printf("case %s: %d bytes, engine status %d\n", name, (int)l->len, (int)l->st);
}

/* recommend k for gender F (or the history / customer given); checks the answer is in range */
static prefrec_status serve(const loaded *l, const int32_t *hist, size_t n, const char *customer,
                            uint32_t k, int ranker, prefrec_response *rs, prefrec_error *err) {
    prefrec_request rq = prefrec_request_default();
    rq.gender = 1;
    rq.age = 30;
    rq.history = hist;
    rq.n_history = n;
    rq.customer = customer;
    rq.k = k;
    rq.sample = 2;
    rq.seed = 5;
    rq.ranker = ranker;
    prefrec_status s = prefrec_engine_recommend(l->e, &rq, rs, err);
    if (s) return s;
    int32_t np = prefrec_engine_n_products(l->e);
    int ok = rs->n == k;
    for (uint32_t i = 0; i < rs->n; i++) {
        ok &= rs->items[i].product >= 0 && rs->items[i].product < np;
        ok &= rs->items[i].score == rs->items[i].score; /* not NaN */
        if (i) ok &= !(rs->items[i].score > rs->items[i - 1].score);
    }
    CHECK(ok);
    return s;
}

static void sizes_and_budget(void) {
    /* the checked helpers: 2^18 x 2^12 x 4 is 2^32 exactly, 0 in a 32-bit size_t */
    size_t v = 0;
    int ok = prefrec_size_mul((size_t)262144 * 4096, 4, &v);
    CHECK(sizeof(size_t) == 4 ? !ok && v == 0 : ok && (uint64_t)v == (uint64_t)1 << 32);
    CHECK(!prefrec_size_add(SIZE_MAX, 1, &v));
    CHECK(!prefrec_size_mul(SIZE_MAX / 2 + 1, 2, &v));
    CHECK(prefrec_size_mul(0, SIZE_MAX, &v) && v == 0);
    CHECK_EQ_U64(prefrec_u64_mul_sat((uint64_t)1 << 40, (uint64_t)1 << 30), UINT64_MAX);
    CHECK_EQ_U64(prefrec_u64_add_sat(UINT64_MAX - 1, 5), UINT64_MAX);
    /* the default budget: 16 x the pack + 16 MiB, capped at 512 MiB */
    CHECK_EQ_U64(prefrec_budget_bytes(NULL, 10u << 20), 176u << 20);
    CHECK_EQ_U64(prefrec_budget_bytes(NULL, 100u << 20), 512u << 20);
    char why[128];
    prefrec_budget_describe(NULL, 10u << 20, why, sizeof why);
    CHECK_STR(why, "16 x the pack's 10.0 MiB + 16.0 MiB");
    prefrec_budget_describe(NULL, 100u << 20, why, sizeof why);
    CHECK_STR(why, "the limit for any pack");
    /* whatever a caller asks, never more than SIZE_MAX / 2 (2 GiB in wasm) */
    prefrec_budget huge = prefrec_budget_default();
    huge.per_pack_byte = UINT64_MAX;
    huge.max_bytes = UINT64_MAX;
    CHECK_EQ_U64(prefrec_budget_bytes(&huge, 1), (uint64_t)(SIZE_MAX / 2));
}

/* The review's pack: 300,000 products, dim 1, one layer of width 4,096, about 10 MB. */
static void review_pack(void) {
    bp_model m = bp_model_default();
    m.products = 300000;
    m.dim = 1;
    m.width[0] = 4096;
    loaded l;
    load("review 300000 x 4096", &m, NULL, &l);
    CHECK(l.len > (9u << 20) && l.len < (12u << 20));
    CHECK_EQ_INT(l.st, PREFREC_E_RANGE);
    CHECK_CONTAINS(l.err.msg, "pack: the engine would need ");
    CHECK_CONTAINS(
        l.err.msg,
        " MiB of working memory for 300000 products x layer-1 width 4096, over the budget of ");
    CHECK_CONTAINS(l.err.msg, "(16 x the pack's ");
    prefrec_model_cost c;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_model_cost_of(l.pk, &c, &err), PREFREC_OK);
    CHECK_EQ_INT(c.n_products, 300000);
    CHECK_EQ_INT(c.width[0], 4096);
    /* p1 (P x h1 + 1 floats) + its row states (P bytes) + layer 1's transposed product half
     * (d x h1) + 1 bitmask word, plus the model struct (under 1 KiB): 4.9 GB, not the 620 MB a
     * 32-bit size_t made of it */
    uint64_t p1 = (300000ull * 4096 + 1) * 4 + 300000 + 1 * 4096 * 4 + 8;
    CHECK(c.load_bytes >= p1 && c.load_bytes < p1 + 1024);
    /* per product: layer 1's 4096 adds, the output's 4096 and the GMF's 1; plus the user */
    CHECK_EQ_U64(c.score_work, 300000ull * (4096 + 4096 + 1) + 4096 * 5);
    prefrec_model *mod = NULL;
    CHECK_EQ_INT(prefrec_model_load(l.pk, &mod, &err), PREFREC_E_RANGE);
    CHECK(mod == NULL);
    CHECK_CONTAINS(err.msg, "pack: the model would need ");
    unload(&l);
}

/* products x width x 4 = 2^32 exactly: 262,144 x 4,096 */
static void wrap_2_32(void) {
    bp_model m = bp_model_default();
    m.products = 262144;
    m.dim = 1;
    m.width[0] = 4096;
    loaded l;
    load("wrap 262144 x 4096 x 4 = 2^32", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_E_RANGE);
    CHECK_CONTAINS(l.err.msg, "for 262144 products x layer-1 width 4096");
    prefrec_model_cost c;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_model_cost_of(l.pk, &c, &err), PREFREC_OK);
    CHECK(c.load_bytes > (uint64_t)1 << 32);
    /* even an unlimited budget is capped at SIZE_MAX / 2: refused in the wasm builds (only
     * there: natively it would allocate the 4 GiB) */
    prefrec_budget huge = prefrec_budget_default();
    huge.max_bytes = UINT64_MAX;
    huge.per_pack_byte = 100000;
    prefrec_engine *e = NULL;
    CHECK(sizeof(size_t) > 4 ||
          (prefrec_engine_new_budget(l.pk, NULL, &huge, &e, &err) == PREFREC_E_RANGE && !e));
    unload(&l);
}

/* dim 1,024 (the manifest's maximum) with 2,048 products: an 8 MB pack that loads and serves */
static void max_dim(void) {
    bp_model m = bp_model_default();
    m.products = 2048;
    m.dim = 1024;
    m.width[0] = 16;
    loaded l;
    load("max dim 1024 x 2048 products", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        prefrec_response rs;
        prefrec_error err = {0};
        CHECK_EQ_INT(serve(&l, NULL, 0, NULL, 10, PREFREC_RANKER_DEFAULT, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.source, PREFREC_SOURCE_SEGMENT);
        int32_t hist[3] = {1, 2, 3};
        CHECK_EQ_INT(serve(&l, hist, 3, NULL, 10, PREFREC_RANKER_DEFAULT, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.source, PREFREC_SOURCE_HISTORY);
        CHECK_EQ_INT(prefrec_engine_find_product(l.e, "P2047"), 2047);
        CHECK_EQ_INT(prefrec_engine_find_product(l.e, "P2048"), -1);
    }
    /* the same pack under a caller's budget of 128 KiB: refused, and the message says so */
    prefrec_budget small = prefrec_budget_default();
    small.per_pack_byte = 0;
    small.allowance = 128u << 10;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_engine_new_budget(l.pk, NULL, &small, &e, &err), PREFREC_E_RANGE);
    CHECK(e == NULL);
    CHECK_CONTAINS(
        err.msg,
        "for 2048 products x layer-1 width 16, over the budget of 0.1 MiB (0 x the pack's 8.");
    unload(&l);
}

/* four layers (the most), widths 1, 4096, 1, 4096: little memory, much work per product */
static void max_layers(void) {
    bp_model m = bp_model_default();
    m.dim = 1;
    m.n_layers = 4;
    m.width[0] = 1, m.width[1] = 4096, m.width[2] = 1, m.width[3] = 4096;
    /* 300,000 products: 4.9e9 multiply-adds per request, over the 2^32 limit */
    m.products = 300000;
    loaded l;
    load("layers 1,4096,1,4096 x 300000", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_E_RANGE);
    CHECK_CONTAINS(l.err.msg,
                   "pack: scoring every product would take 4.92e+09 multiply-adds per request "
                   "(300000 products x 4 layers of widths up to 4096), over the limit of 4.29e+09");
    prefrec_model_cost c;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_model_cost_of(l.pk, &c, &err), PREFREC_OK);
    /* h1 1 + layers 4096x1 + 1x4096 + 4096x1 + output 4096 + GMF 1, plus the user's 1 x 5 */
    CHECK_EQ_U64(c.score_work, 300000ull * (1 + 3 * 4096 + 4096 + 1) + 5);
    CHECK_EQ_U64(c.fold_work_item, 60ull * (2 * 3 * 4096 + 1 + 1 + 2 + 2 * 4096));
    unload(&l);

    /* 1,000 products: loads and serves, folding a history in too */
    m.products = 1000;
    load("layers 1,4096,1,4096 x 1000", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        prefrec_response rs;
        int32_t hist[3] = {0, 10, 20};
        CHECK_EQ_INT(serve(&l, hist, 3, NULL, 5, PREFREC_RANKER_NEUMF, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.source, PREFREC_SOURCE_HISTORY);
    }
    unload(&l);

    /* 40,000 products: within the scoring limit, but folding in all of them is not */
    m.products = 40000;
    load("layers 1,4096,1,4096 x 40000", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        int32_t *hist = malloc(40000 * sizeof *hist);
        prefrec_response rs;
        for (int32_t i = 0; hist && i < 40000; i++) hist[i] = i;
        memset(&err, 0, sizeof err);
        CHECK_EQ_INT(serve(&l, hist, 40000, NULL, 5, PREFREC_RANKER_NEUMF, &rs, &err),
                     PREFREC_E_RANGE);
        /* (2^36 - 60 x 5 - 5) / (60 x 32772) = 34948 */
        CHECK_CONTAINS(
            err.msg,
            "fold-in: a history of 40000 products would take 7.87e+10 multiply-adds with "
            "this model, over the limit of 6.87e+10: at most 34948");
        free(hist);
    }
    unload(&l);
}

/* string tables: one name of 8,192 bytes is refused, one of 4,095 (+ NUL) is served */
static void long_strings(void) {
    bp_model m = bp_model_default();
    m.name_len = 8192;
    loaded l;
    load("name of 8192 bytes", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_E_FORMAT);
    CHECK_STR(
        l.err.msg,
        "pack: string table 'product.name': string 0 is 8193 bytes, at most 4096 with its NUL");
    unload(&l);
    m.name_len = 4095;
    load("name of 4095 bytes", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) CHECK_EQ_INT(strlen(prefrec_engine_product_name(l.e, 0)), 4095);
    unload(&l);
}

/* a customer shard whose first bought list claims to end at 0xFFFFFFF0 */
static void shard_offsets(void) {
    bp_model m = bp_model_default();
    m.shard = 1;
    m.customers = 4;
    m.bought = 8;
    m.bad_bought_off = 0xFFFFFFF0u;
    loaded l;
    load("shard with bought.off[1] = 0xFFFFFFF0", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_E_FORMAT);
    CHECK_STR(l.err.msg,
              "pack: customer.bought.off[1] = 4294967280 is past the end of customer.bought.idx "
              "(32 entries)");
    unload(&l);
    m.bad_bought_off = 0;
    load("shard, offsets right", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        prefrec_response rs;
        prefrec_error err = {0};
        CHECK_EQ_INT(serve(&l, NULL, 0, "C1", 5, PREFREC_RANKER_NEUMF, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.source, PREFREC_SOURCE_KNOWN);
        int fresh = 1; /* C1 bought products 8..15: never recommended back */
        for (uint32_t i = 0; i < rs.n; i++)
            fresh &= rs.items[i].product < 8 || rs.items[i].product > 15;
        CHECK(fresh);
    }
    unload(&l);
    /* 100,000 customers with empty lists in one shard */
    m.customers = 100000;
    m.bought = 0;
    load("shard of 100000 customers", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        CHECK_EQ_INT(prefrec_engine_n_customers(l.e), 100000);
        CHECK_EQ_INT(prefrec_engine_find_customer(l.e, "C99999"), 99999);
    }
    unload(&l);
}

static void categories(void) {
    /* a million categories and subcategories, 1,000 products: each category has one product */
    bp_model m = bp_model_default();
    m.products = 1000;
    m.categories = 1000000;
    m.subcategories = 1000000;
    loaded l;
    load("1000000 categories", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        CHECK_EQ_INT(prefrec_engine_n_categories(l.e), 1000000);
        prefrec_request rq = prefrec_request_default();
        rq.gender = 0;
        prefrec_stamp_category board[5];
        size_t nb = 0;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_engine_stamp(l.e, &rq, 5, 5, board, &nb, &err), PREFREC_OK);
        CHECK_EQ_INT(nb, 5);
        int ok = 1;
        for (size_t c = 0; c < nb; c++)
            ok &= board[c].n_products == 1 && board[c].category < 1000 &&
                board[c].products[0].index == board[c].category;
        CHECK(ok);
    }
    unload(&l);
    /* no categories at all: recommendations work, the stamp board says why it cannot */
    m.categories = 0;
    m.subcategories = 0;
    load("no categories", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        prefrec_response rs;
        prefrec_error err = {0};
        CHECK_EQ_INT(serve(&l, NULL, 0, NULL, 5, PREFREC_RANKER_DEFAULT, &rs, &err), PREFREC_OK);
        prefrec_request rq = prefrec_request_default();
        rq.gender = 0;
        prefrec_stamp_category board[5];
        size_t nb = 9;
        CHECK_EQ_INT(prefrec_engine_stamp(l.e, &rq, 5, 5, board, &nb, &err), PREFREC_E_EMPTY);
        CHECK_EQ_INT(nb, 0);
        CHECK_CONTAINS(err.msg, "stamp board");
    }
    unload(&l);
    /* a category index one past the table */
    m.categories = 3;
    m.subcategories = 5;
    m.bad_category = 3;
    load("category index past the table", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_E_FORMAT);
    CHECK_STR(l.err.msg, "pack: product 0 has a category index out of range");
    unload(&l);
}

/* the blend at its most neighbours (4,096), every list naming one product: explaining a
 * recommendation used to compare every pair of a history product's two lists (M^2 = 16.8 M per
 * history product); now three passes. The answer is the same either way. */
static void blend_neighbours(void) {
    bp_model m = bp_model_default();
    m.products = 128;
    m.neighbors = 4096;
    m.neighbor_all = 127;
    loaded l;
    load("blend 128 x 4096 neighbours, all product 127", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        int32_t hist[100];
        for (int32_t i = 0; i < 100; i++) hist[i] = i;
        prefrec_response rs;
        prefrec_error err = {0};
        CHECK_EQ_INT(serve(&l, hist, 100, NULL, 5, PREFREC_RANKER_BLEND, &rs, &err), PREFREC_OK);
        CHECK_EQ_INT(rs.items[0].product, 127);
        CHECK_EQ_INT(rs.items[0].reason, PREFREC_REASON_BOUGHT_WITH);
        CHECK_EQ_INT(rs.items[0].reason_ref, 0); /* ties: the earliest history product */
    }
    unload(&l);
    /* distinct neighbours (as exports write them), 4,096 per product of 128 (-1 padded) */
    m.neighbor_all = -1;
    load("blend 128 x 4096 neighbours, distinct", &m, NULL, &l);
    CHECK_EQ_INT(l.st, PREFREC_OK);
    if (l.e) {
        int32_t hist[2] = {5, 9};
        prefrec_response rs;
        prefrec_error err = {0};
        CHECK_EQ_INT(serve(&l, hist, 2, NULL, 5, PREFREC_RANKER_BLEND, &rs, &err), PREFREC_OK);
        /* h's neighbour r is h + 1 + r with weight 1 / (r + 1) (kNN: half): 10 gets 1 from 9
         * and 1/5 from 5, 6 gets 1 from 5 and 1/125 from 9; each is explained by its first */
        CHECK_EQ_INT(rs.items[0].product, 10);
        CHECK_EQ_INT(rs.items[0].reason, PREFREC_REASON_BOUGHT_WITH);
        CHECK_EQ_INT(rs.items[0].reason_ref, 9);
        CHECK_EQ_INT(rs.items[1].product, 6);
        CHECK_EQ_INT(rs.items[1].reason_ref, 5);
    }
    unload(&l);
}

/* shapes whose element or byte counts wrap 2^32 (or 2^64) in a 48-byte-data file */
static void wrapping_shapes(void) {
    static const struct {
        uint32_t dtype, ndim, shape[4];
    } bad[] = {{PREFREC_DT_U8, 2, {65536, 65536}}, /* 2^32 elements */
               {PREFREC_DT_F32, 2, {32768, 32768}}, /* 2^32 bytes */
               {PREFREC_DT_F32, 4, {65536, 65536, 65536, 65536}}, /* 2^64 elements */
               {PREFREC_DT_I32, 1, {0x40000000}}}; /* 2^32 bytes, 1-d */
    unsigned char data[48] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tb t = {"x",         bad[i].dtype,
                bad[i].ndim, {bad[i].shape[0], bad[i].shape[1], bad[i].shape[2], bad[i].shape[3]},
                data,        sizeof data};
        size_t len = 0;
        unsigned char *b = tb_build("{}", &t, 1, &len);
        prefrec_pack *p = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(b ? prefrec_pack_open(b, len, &p, &err) : PREFREC_E_NOMEM, PREFREC_E_FORMAT);
        CHECK_CONTAINS(err.msg, "pack: tensor 'x' (byte ");
        CHECK_CONTAINS(err.msg, "): shape too large for the file");
        prefrec_pack_free(p);
        free(b);
    }
    /* a manifest over the reader's 256 KiB (its parse tree would be ~32 bytes per byte) */
    size_t n = (300u << 10);
    char *man = malloc(n + 1);
    if (!man) return;
    memset(man, ' ', n);
    memcpy(man, "{\"a\":[", 6);
    for (size_t i = 6; i + 4 < n; i += 2) man[i] = '0', man[i + 1] = ',';
    memcpy(man + n - 4, "0]}\n", 4);
    man[n] = 0;
    size_t len = 0;
    unsigned char *b = tb_build(man, NULL, 0, &len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    CHECK(b != NULL);
    CHECK_EQ_INT(b ? prefrec_pack_open(b, len, &p, &err) : PREFREC_E_NOMEM, PREFREC_E_FORMAT);
    CHECK_STR(err.msg,
              "pack: manifest of 307200 bytes (byte 28) is over the 262144 bytes a reader accepts");
    free(b);
    free(man);
}

int main(void) {
    sizes_and_budget();
    review_pack();
    wrap_2_32();
    max_dim();
    max_layers();
    long_strings();
    shard_offsets();
    categories();
    blend_neighbours();
    wrapping_shapes();
    return check_report("test_big_pack");
}
