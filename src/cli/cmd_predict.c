/* cmd_predict.c - `prefrec predict`: predicted preference scores of one customer from a pack. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "prefrec/model.h"
#include "prefrec/pack.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/topk.h"

static const char *usage_text =
    "usage: prefrec predict --pack FILE [--customers SHARD] --customer ID [--product ID] [--top "
    "N]\n"
    "  --pack FILE        a full pack (prefrec train) or an item pack (prefrec export)\n"
    "  --customers SHARD  the customer shard holding ID, when --pack is an item pack\n"
    "  --customer ID      customer code (e.g. M000034966)\n"
    "  --product ID       one product code; default: every product, best first\n"
    "  --top N            print only the N best products (default all)\n"
    "  output (tab-separated): rank, product, score, bought (1 = in the customer's history),\n"
    "  name, top category, mid category\n";

static int load(const char *path, void **buf, prefrec_pack **p, prefrec_error *err) {
    size_t len;
    if (prefrec_file_read(path, PREFREC_PACK_FILE_MAX, (char **)buf, &len, err)) return -1;
    if (prefrec_pack_open(*buf, len, p, err)) {
        char msg[PREFREC_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        prefrec_error_set(err, err->status, "%s: %s", path, msg);
        return -1;
    }
    return 0;
}

int prefrec_cmd_predict(int argc, char **argv) {
    const char *pack = NULL, *shard = NULL, *cust = NULL, *prod = NULL;
    long top = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        const char *o = argv[i];
        if (strcmp(o, "--pack") && strcmp(o, "--customers") && strcmp(o, "--customer") &&
            strcmp(o, "--product") && strcmp(o, "--top"))
            return cli_usage_error("predict", usage_text, "unknown option '%s'", o);
        if (i + 1 >= argc) return cli_usage_error("predict", usage_text, "%s needs a value", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--pack"))
            pack = v;
        else if (!strcmp(o, "--customers"))
            shard = v;
        else if (!strcmp(o, "--customer"))
            cust = v;
        else if (!strcmp(o, "--product"))
            prod = v;
        else {
            char *end;
            top = strtol(v, &end, 10);
            if (end == v || *end || top < 1)
                return cli_usage_error("predict", usage_text,
                                       "--top '%s' is not a positive integer", v);
        }
    }
    if (!pack || !cust)
        return cli_usage_error("predict", usage_text, "--pack and --customer are required");
    prefrec_error err = {0};
    void *b1 = NULL, *b2 = NULL;
    prefrec_pack *p1 = NULL, *p2 = NULL;
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    prefrec_user *u = NULL;
    float *scores = NULL;
    prefrec_scored *best = NULL;
    uint8_t *bought = NULL;
    int rc = 1;
    if (load(pack, &b1, &p1, &err) || (shard && load(shard, &b2, &p2, &err))) goto done;
    if (prefrec_model_load(p1, &m, &err) || prefrec_customers_load(p2 ? p2 : p1, m, &cs, &err))
        goto done;
    int32_t c = prefrec_customers_find(cs, cust);
    if (c < 0) {
        prefrec_error_set(&err, PREFREC_E_NOTFOUND, "customer '%s' is not in %s", cust,
                          shard ? shard : pack);
        goto done;
    }
    if (prefrec_user_from_customer(m, cs, c, &u, &err)) goto done;
    int32_t P = prefrec_model_n_products(m);
    bought = calloc((size_t)P + 1, 1);
    scores = malloc(((size_t)P + 1) * sizeof *scores);
    best = malloc(((size_t)P + 1) * sizeof *best);
    if (!bought || !scores || !best) {
        prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
        goto done;
    }
    size_t nb;
    const int32_t *bs = prefrec_customers_bought(cs, c, &nb);
    for (size_t k = 0; k < nb; k++) bought[bs[k]] = 1;
    size_t n_out;
    if (prod) {
        int32_t q = prefrec_model_find_product(m, prod);
        if (q < 0) {
            prefrec_error_set(&err, PREFREC_E_NOTFOUND, "product '%s' is not in %s (affiliate %s)",
                              prod, pack, prefrec_model_affiliate(m));
            goto done;
        }
        best[0].index = q;
        best[0].score = prefrec_model_score(m, u, q);
        n_out = 1;
    } else {
        prefrec_model_score_all(m, u, scores);
        size_t k = top > 0 && top < P ? (size_t)top : (size_t)P;
        n_out = prefrec_topk(scores, (size_t)P, NULL, k, best);
    }
    printf("# customer %s  affiliate %s  gender %d  age %g  bought %zu of %d products\n", cust,
           prefrec_model_affiliate(m), prefrec_customers_gender(cs, c),
           (double)prefrec_customers_age(cs, c), nb, P);
    printf("rank\tproduct\tscore\tbought\tname\tcategory\tsubcategory\n");
    for (size_t k = 0; k < n_out; k++) {
        int32_t q = best[k].index;
        printf("%zu\t%s\t%.4f\t%d\t%s\t%s\t%s\n", k + 1, prefrec_model_product_code(m, q),
               (double)best[k].score, bought[q], prefrec_model_product_name(m, q),
               prefrec_model_product_category(m, q), prefrec_model_product_subcategory(m, q));
    }
    rc = 0;
done:
    if (rc) cli_fail("predict", &err);
    free(scores), free(best), free(bought);
    prefrec_user_free(u);
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_pack_free(p1);
    prefrec_pack_free(p2);
    free(b1);
    free(b2);
    return rc;
}
