/* test_rank_ring.c - tifu_knn and upcf on a sharded window (docs/mpi.md, "eval"), on one rank
 * without MPI: a window built with customer keys (prefrec_interactions_build_dist, dist NULL)
 * takes the sharded fit, which makes every customer's list in the fit from the ring's blocks
 * (rank_dist_ring: here the rank's own block only), and its scores must be the bits the
 * one-process path computes when asked (the same window without keys), for every customer, on
 * a seeded random data set with duplicated customers (ties in the neighbours' distances) and
 * over the rankers' grids. With keys in the reverse order, the tie between two equally near
 * neighbours goes to the lower key, which is then the higher index: the keys, not the
 * indices, order the ties. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/rankers.h"

static uint64_t next(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 160 customers (C000 ..), 40 products, 1 to 8 receipts each of 1 to 5 lines on days 0 .. 89;
 * customers 120 .. 159 repeat the baskets of customers 0 .. 39, so their distances tie. */
static prefrec_dataset *make_ds(void) {
    enum { NCUST = 160, NPROD = 40, MAXL = 160 * 8 * 5 };
    prefrec_dataset *ds = prefrec_dataset_new(MAXL);
    if (!ds) return NULL;
    uint64_t seed = 7;
    size_t n = 0;
    char cust[16], prod[16], rcpt[32];
    for (int c = 0; c < NCUST; c++) {
        uint64_t s = c >= 120 ? 1000 + (uint64_t)(c - 120) : 1000 + (uint64_t)c;
        if (c < 120 && c >= 40) s = seed + 5000 + (uint64_t)c;
        int nb = 1 + (int)(next(&s) % 8);
        snprintf(cust, sizeof cust, "C%03d", c);
        for (int b = 0; b < nb; b++) {
            int day = (int)(next(&s) % 90), nl = 1 + (int)(next(&s) % 5);
            snprintf(rcpt, sizeof rcpt, "R%03d-%d", c, b);
            for (int l = 0; l < nl; l++) {
                /* products skewed to the low numbers, so customers share some */
                int p = (int)(next(&s) % NPROD);
                p = p * p / NPROD;
                snprintf(prod, sizeof prod, "P%02d", p);
                ds->customer[n] = prefrec_dict_intern(ds->customers, cust, strlen(cust));
                ds->product[n] = prefrec_dict_intern(ds->products, prod, strlen(prod));
                ds->affiliate[n] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
                ds->receipt[n] = prefrec_dict_intern(ds->receipts, rcpt, strlen(rcpt));
                ds->day[n++] = day;
            }
        }
    }
    ds->n_rows = n;
    prefrec_error err = {0};
    if (prefrec_dataset_finish(ds, &err)) {
        fprintf(stderr, "finish: %s\n", err.msg);
        prefrec_dataset_free(ds);
        return NULL;
    }
    return ds;
}

/* Every customer's scores of def with params on x and on xk (the keyed window): the same bits.
 * Returns the customers compared (with history), or -1. */
static int same_scores(const prefrec_ranker_def *def, const void *params, const prefrec_dataset *ds,
                       const prefrec_interactions *x, const prefrec_interactions *xk) {
    prefrec_fit_input in = {ds, x, 1, 42, 0, 0, NULL}, ink = {ds, xk, 1, 42, 0, 0, NULL};
    prefrec_error err = {0};
    void *m = NULL, *mk = NULL;
    if (def->fit(&in, params, &m, &err) || def->fit(&ink, params, &mk, &err)) {
        fprintf(stderr, "%s: fit: %s\n", def->name, err.msg);
        def->free(m);
        return -1;
    }
    int32_t np = x->n_products, n = 0, bad = 0;
    float *a = malloc((size_t)np * sizeof *a), *b = malloc((size_t)np * sizeof *b);
    for (int32_t c = 0; a && b && c < x->n_customers; c++) {
        if (def->score(m, c, a) || def->score(mk, c, b)) {
            bad++;
            break;
        }
        if (memcmp(a, b, (size_t)np * sizeof *a)) {
            if (!bad) fprintf(stderr, "%s: customer %d's scores differ\n", def->name, c);
            bad++;
        }
        n += x->row_start[c + 1] > x->row_start[c];
    }
    free(a), free(b);
    def->free(m), def->free(mk);
    return a && b && !bad ? n : -1;
}

static void test_same_bits(void) {
    prefrec_dataset *ds = make_ds();
    CHECK(ds != NULL);
    if (!ds) return;
    int32_t nc = prefrec_dict_size(ds->customers);
    uint64_t *key = malloc((size_t)nc * sizeof *key);
    for (int32_t c = 0; key && c < nc; c++) key[c] = (uint64_t)c; /* the one-process order */
    prefrec_interactions *x = NULL, *xk = NULL;
    prefrec_error err = {0};
    CHECK(key && !prefrec_interactions_build(ds, 0, 0, 70, &x, &err) &&
          !prefrec_interactions_build_dist(ds, 0, 0, 70, NULL, key, &xk, &err));
    if (x && xk) {
        CHECK(x->n_pairs > 500 && x->n_pairs == xk->n_pairs);
        prefrec_tifu_params tp;
        int points = 0;
        for (size_t g = 0; prefrec_ranker_tifu_knn.grid(g, &tp); g++) {
            int ks[3] = {tp.k, 1, 7}; /* the grid's, and fewer than the duplicates */
            for (int i = 0; i < 3; i++) {
                tp.k = ks[i];
                int n = same_scores(&prefrec_ranker_tifu_knn, &tp, ds, x, xk);
                CHECK(n > 100);
                points++;
            }
        }
        CHECK_EQ_INT(points, 39);
        prefrec_upcf_params up;
        points = 0;
        for (size_t g = 0; prefrec_ranker_upcf.grid(g, &up); g++, points++)
            CHECK(same_scores(&prefrec_ranker_upcf, &up, ds, x, xk) > 100);
        CHECK_EQ_INT(points, 13);
        CHECK(same_scores(&prefrec_ranker_upcf, NULL, ds, x, xk) > 100);
    }
    prefrec_interactions_free(x);
    prefrec_interactions_free(xk);
    free(key);
    prefrec_dataset_free(ds);
}

/* U buys A; V and W (in that order: the lower indices) buy B and C once each: both at distance
 * |u|^2 + |v|^2 = 2 from U. With k = 1 the one-process path and the keyed window in index
 * order take V (B scores, C does not); with the keys reversed, W (C scores). */
static void test_tie_by_key(void) {
    prefrec_dataset *ds = prefrec_dataset_new(3);
    CHECK(ds != NULL);
    if (!ds) return;
    const char *cu[3] = {"U", "V", "W"}, *pr[3] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        ds->customer[i] = prefrec_dict_intern(ds->customers, cu[i], 1);
        ds->product[i] = prefrec_dict_intern(ds->products, pr[i], 1);
        ds->affiliate[i] = (uint8_t)prefrec_dict_intern(ds->affiliates, "A01", 3);
        ds->receipt[i] = prefrec_dict_intern(ds->receipts, cu[i], 1);
        ds->day[i] = 1;
    }
    ds->n_rows = 3;
    prefrec_error err = {0};
    CHECK(!prefrec_dataset_finish(ds, &err));
    uint64_t up[3] = {0, 1, 2}, down[3] = {2, 1, 0};
    prefrec_tifu_params p = prefrec_tifu_default_params();
    p.k = 1;
    p.alpha = 0.5;
    int32_t U = prefrec_dict_find(ds->customers, "U", 1),
            B = prefrec_dict_find(ds->products, "B", 1),
            C = prefrec_dict_find(ds->products, "C", 1);
    CHECK(U == 0 && prefrec_dict_find(ds->customers, "V", 1) == 1);
    for (int v = 0; v < 3; v++) {
        prefrec_interactions *x = NULL;
        int st = v == 0
            ? prefrec_interactions_build(ds, 0, 0, 5, &x, &err)
            : prefrec_interactions_build_dist(ds, 0, 0, 5, NULL, v == 1 ? up : down, &x, &err);
        CHECK(!st);
        if (st) continue;
        prefrec_fit_input in = {ds, x, 1, 42, 0, 0, NULL};
        void *m = NULL;
        float s[3];
        CHECK(!prefrec_ranker_tifu_knn.fit(&in, &p, &m, &err) &&
              !prefrec_ranker_tifu_knn.score(m, U, s));
        /* the neighbour's product: (1 - alpha) / 1 x its weight 1 = 0.5; the other unscored */
        int32_t got = v < 2 ? B : C, other = v < 2 ? C : B;
        CHECK_NEAR(s[got], 0.5, 1e-7);
        CHECK(s[other] < 0);
        prefrec_ranker_tifu_knn.free(m);
        prefrec_interactions_free(x);
    }
    prefrec_dataset_free(ds);
}

int main(void) {
    test_same_bits();
    test_tie_by_key();
    return check_report("test_rank_ring");
}
