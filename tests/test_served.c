/* test_served.c - served = evaluated, for the three list kinds. A pack trained by the CLI on a
 * small generated data set and its sealed member records (prefrec export --records); for every
 * member the pack knows, the engine's discover, buy-again and mixed lists (from the member's
 * opened record, as a page or kiosk serves them) must equal, product for product, the top 20 that
 * `prefrec eval` measures for the rankers blend_served, due and mixed fitted on the same window
 * with the same seed. The wasm builds' answers are compared with the native one's by
 * web/test/served.test.mjs (shim) and scripts/test.sh (kiosk). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host/file.h"
#include "prefrec/engine.h"
#include "prefrec/member.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"

#define K 20

static int unhex(const char *s, uint8_t *out, size_t n) {
    if (!s || strlen(s) < 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len) {
    char *b = NULL;
    prefrec_error err = {0};
    if (prefrec_file_read(path, 1u << 30, &b, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return b;
}

/* The evaluated top K of ranker def for customer c, as product codes, into want[0..*n). */
static void evaluated(const prefrec_ranker_def *def, void *model, const prefrec_dataset *ds,
                      const prefrec_interactions *x, int32_t c, int list, const char **want,
                      size_t *n) {
    int32_t NP = x->n_products;
    float *s = malloc((size_t)NP * sizeof *s);
    uint8_t *mask = malloc((size_t)NP);
    prefrec_scored best[K];
    *n = 0;
    CHECK_EQ_INT(def->score(model, c, s), PREFREC_OK);
    for (int32_t p = 0; p < NP; p++) mask[p] = x->n_buyers[p] == 0; /* not in the catalogue */
    size_t m;
    if (list == PREFREC_LIST_BUY_AGAIN) { /* the owned products by score (eval's repurchase) */
        prefrec_topk_heap h;
        prefrec_topk_heap_init(&h, best, K);
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
            prefrec_topk_heap_push(&h, s[x->product[b]], x->product[b]);
        m = prefrec_topk_heap_finish(&h);
    } else {
        if (list == PREFREC_LIST_DISCOVER)
            for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) mask[x->product[b]] = 1;
        m = prefrec_topk(s, (size_t)NP, mask, K, best);
    }
    for (size_t i = 0; i < m; i++) want[(*n)++] = prefrec_dict_str(ds->products, best[i].index);
    free(s);
    free(mask);
}

int main(void) {
    char dir[] = "/tmp/prefrec_served_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char cmd[2048], path[1024];
    snprintf(cmd, sizeof cmd,
             "%s gen --out %s/data --scale 0.03 --seed 3 --quiet >/dev/null 2>&1 && "
             "%s train --data %s/data --affiliate A01 --epochs 2 --threads 2 --seed 3 --quiet "
             "--out %s/packs >/dev/null 2>&1 && "
             "%s export --pack %s/packs/A01.pack --out %s/web --shards 2 --records %s/rec "
             "--data %s/data --token-key %s/tok.key >/dev/null 2>&1",
             PREFREC_CLI, dir, PREFREC_CLI, dir, dir, PREFREC_CLI, dir, dir, dir, dir, dir);
    CHECK_EQ_INT(system(cmd), 0);

    /* the public item pack, the export's naming key and id, the shop's token master key */
    size_t len;
    snprintf(path, sizeof path, "%s/web/A01.item.pack", dir);
    char *pack_bytes = slurp(path, &len);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    CHECK(pack_bytes && prefrec_pack_open(pack_bytes, len, &pk, &err) == PREFREC_OK);
    CHECK(pk && prefrec_engine_new(pk, NULL, &e, &err) == PREFREC_OK);
    snprintf(path, sizeof path, "%s/rec/export.json", dir);
    char *ej = slurp(path, &len);
    cJSON *ex = ej ? cJSON_ParseWithLength(ej, len) : NULL;
    uint8_t naming[32], eid[16], master[32];
    CHECK(ex && !unhex(cJSON_GetStringValue(cJSON_GetObjectItem(ex, "naming_key")), naming, 32));
    CHECK(ex && !unhex(cJSON_GetStringValue(cJSON_GetObjectItem(ex, "export_id")), eid, 16));
    snprintf(path, sizeof path, "%s/tok.key", dir);
    char *tk = slurp(path, &len);
    CHECK(tk && !unhex(tk, master, 32));
    if (!e || !ex || !tk) return check_report("test_served");
    CHECK(prefrec_engine_has_list(e, PREFREC_LIST_BUY_AGAIN));

    /* the evaluated rankers on the pack's window, with the trainer's seed */
    snprintf(path, sizeof path, "%s/data", dir);
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    CHECK_EQ_INT(prefrec_dataset_load(path, &lp, &ds, &err), PREFREC_OK);
    int32_t aff = prefrec_dict_find(ds->affiliates, "A01", 3);
    prefrec_interactions *x = NULL;
    CHECK_EQ_INT(prefrec_interactions_build(ds, aff, ds->day_min, prefrec_engine_asof(e), &x, &err),
                 PREFREC_OK);
    /* as prefrec train, scoring through what the exported (version 2) item pack decodes */
    prefrec_fit_input in = {ds, x, 2, 3, 0, PREFREC_BLEND_MIN_GROUP, PREFREC_PACK_STORAGE_DEFAULT};
    const prefrec_ranker_def *defs[3] = {&prefrec_ranker_blend_served, &prefrec_ranker_due,
                                         &prefrec_ranker_mixed};
    void *models[3] = {NULL, NULL, NULL};
    for (int l = 0; l < 3; l++) CHECK_EQ_INT(defs[l]->fit(&in, NULL, &models[l], &err), PREFREC_OK);

    int members = 0, equal[3] = {0, 0, 0}, repeat_reasons = 0;
    for (int32_t c = 0; c < x->n_customers && models[2]; c++) {
        if (x->row_start[c + 1] == x->row_start[c]) continue;
        const char *code = prefrec_dict_str(ds->customers, c);
        uint8_t kid[16], token[16];
        CHECK_EQ_INT(prefrec_member_kid(naming, code, strlen(code), kid, &err), PREFREC_OK);
        CHECK_EQ_INT(prefrec_member_token(master, code, strlen(code), token, &err), PREFREC_OK);
        int at = snprintf(path, sizeof path, "%s/rec/", dir);
        for (int i = 0; i < 16; i++)
            at += snprintf(path + at, sizeof path - (size_t)at, "%02x", kid[i]);
        snprintf(path + at, sizeof path - (size_t)at, ".rec");
        char *rec = slurp(path, &len);
        uint8_t *state = NULL;
        size_t n_state = 0;
        prefrec_member_state *ms = NULL;
        CHECK(rec != NULL);
        CHECK_EQ_INT(
            prefrec_member_open_token(rec, len, eid, kid, token, 16, &state, &n_state, &err),
            PREFREC_OK);
        CHECK_EQ_INT(prefrec_member_state_decode(state, n_state, &ms, &err), PREFREC_OK);
        const prefrec_member_aff *part = NULL;
        for (uint32_t a = 0; ms && a < ms->n_aff; a++)
            if (!strcmp(ms->aff[a].affiliate, "A01")) part = &ms->aff[a];
        CHECK(part != NULL);
        if (part) {
            members++;
            for (int l = 0; l < 3; l++) {
                prefrec_request rq = prefrec_request_default();
                rq.k = K;
                rq.list = l;
                rq.member = part;
                rq.gender = ms->gender; /* PREFREC_GENDER_*: -1, 0 male, 1 female */
                rq.age = ms->age;
                prefrec_response rs;
                CHECK_EQ_INT(prefrec_engine_recommend(e, &rq, &rs, &err), PREFREC_OK);
                const char *want[K];
                size_t nw = 0;
                evaluated(defs[l], models[l], ds, x, c, l, want, &nw);
                int same = nw == rs.n;
                for (uint32_t i = 0; same && i < rs.n; i++)
                    same = !strcmp(want[i], prefrec_engine_product_code(e, rs.items[i].product));
                if (!same && equal[l] + 1 == members) {
                    fprintf(stderr, "test_served: %s list %d: served %u items, evaluated %zu\n",
                            code, l, rs.n, nw);
                    for (uint32_t i = 0; i < rs.n && i < nw; i++)
                        fprintf(stderr, "  %2u %s %g | %s\n", i,
                                prefrec_engine_product_code(e, rs.items[i].product),
                                (double)rs.items[i].score, want[i]);
                }
                equal[l] += same;
                for (uint32_t i = 0; l && i < rs.n; i++)
                    repeat_reasons += rs.items[i].reason == PREFREC_REASON_REPEAT;
            }
        }
        prefrec_member_state_free(ms);
        prefrec_member_wipe_free(state, n_state);
        free(rec);
    }
    printf("test_served: %d members; served = evaluated: discover %d, buy again %d, mixed %d; "
           "%d buy-again reasons\n",
           members, equal[0], equal[1], equal[2], repeat_reasons);
    CHECK(members > 50);
    for (int l = 0; l < 3; l++) CHECK_EQ_INT(equal[l], members);
    CHECK(repeat_reasons > members); /* each buy-again list gives its items the reason */
    for (int l = 0; l < 3; l++) defs[l]->free(models[l]);
    prefrec_interactions_free(x);
    prefrec_dataset_free(ds);
    cJSON_Delete(ex);
    free(ej), free(tk);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(pack_bytes);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    return check_report("test_served");
}
