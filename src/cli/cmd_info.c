/* cmd_info.c - `prefrec info --data PATH [--json] [--skip-bad-rows]`: load a data set (L.POINT
 * directory or mapping .json) and print its summary: rows, customers, products, categories,
 * date range, receipts, rows per affiliate. --json prints the same as one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"

static const char USAGE[] =
    "usage: prefrec info --data PATH [--json] [--skip-bad-rows]\n"
    "  --data PATH       an L.POINT directory or a mapping .json (README, \"Input layouts\")\n"
    "  --json            print the summary as JSON\n"
    "  --skip-bad-rows   skip malformed rows (counted and reported on stderr) instead of failing\n";

typedef struct {
    int32_t products_with_rows, products_not_in_catalog;
    int32_t receipts, branches; /* of the purchase lines (not of returns dropped as such) */
    size_t rows_not_in_catalog, lpay_lines;
    size_t *aff_rows; /* per affiliate */
    int32_t *aff_order; /* affiliates sorted by code */
    int32_t demo_female, demo_male, demo_unknown;
} summary;

static const prefrec_dict *sort_dict;
static int by_code(const void *a, const void *b) {
    return strcmp(prefrec_dict_str(sort_dict, *(const int32_t *)a),
                  prefrec_dict_str(sort_dict, *(const int32_t *)b));
}

static int summarise(const prefrec_dataset *ds, summary *s) {
    memset(s, 0, sizeof *s);
    int32_t np = prefrec_dict_size(ds->products), na = prefrec_dict_size(ds->affiliates);
    int32_t nr = prefrec_dict_size(ds->receipts), nb = prefrec_dict_size(ds->branches);
    uint8_t *seen = calloc(np ? (size_t)np : 1, 1);
    uint8_t *seen_r = calloc(nr ? (size_t)nr : 1, 1), *seen_b = calloc(nb ? (size_t)nb : 1, 1);
    s->aff_rows = calloc(na ? (size_t)na : 1, sizeof *s->aff_rows);
    s->aff_order = malloc((na ? (size_t)na : 1) * sizeof *s->aff_order);
    if (!seen || !seen_r || !seen_b || !s->aff_rows || !s->aff_order) {
        free(seen);
        free(seen_r);
        free(seen_b);
        return -1;
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        int32_t p = ds->product[i];
        if (!seen[p]) {
            seen[p] = 1;
            s->products_with_rows++;
            /* products met only in lines that are not purchases (returns.c) are not counted */
            if (p >= ds->n_products_in_catalog) s->products_not_in_catalog++;
        }
        if (p >= ds->n_products_in_catalog) s->rows_not_in_catalog++;
        s->aff_rows[ds->affiliate[i]]++;
        s->lpay_lines += ds->lpay[i];
        int32_t r = ds->receipt[i], b = ds->branch[i];
        if (r >= 0 && !seen_r[r]) {
            seen_r[r] = 1;
            s->receipts++;
        }
        if (b >= 0 && !seen_b[b]) {
            seen_b[b] = 1;
            s->branches++;
        }
    }
    free(seen);
    free(seen_r);
    free(seen_b);
    for (int32_t a = 0; a < na; a++) s->aff_order[a] = a;
    sort_dict = ds->affiliates;
    qsort(s->aff_order, (size_t)na, sizeof *s->aff_order, by_code);
    for (int32_t c = 0; c < ds->n_customers_in_demographics; c++) {
        if (ds->gender[c] == PREFREC_GENDER_FEMALE)
            s->demo_female++;
        else if (ds->gender[c] == PREFREC_GENDER_MALE)
            s->demo_male++;
        else
            s->demo_unknown++;
    }
    return 0;
}

/* 1234567 -> "1,234,567" */
static const char *num(unsigned long long v, char buf[32]) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static void print_text(const prefrec_dataset *ds, const summary *s, int is_dir) {
    char a[32], b[32], c[32];
    char d0[11], d1[11];
    printf("data:        %s (%s)\n", ds->source, is_dir ? "L.POINT directory" : "mapping");
    printf("rows:        %s purchase lines\n", num(ds->n_rows, a));
    size_t dropped = ds->n_return_lines + ds->n_zero_lines + ds->n_cancelled_lines;
    const char *by = ds->has_quantity ? "quantity" : ds->has_amount ? "amount" : NULL;
    if (dropped) {
        char d[32], e[32];
        printf("returns:     %s lines not counted as purchases (%s <= 0): %s returns (%s without "
               "their purchase in the receipt), %s zero lines, %s purchase lines netted away in "
               "their receipt\n",
               num(dropped, a), by ? by : "measure", num(ds->n_return_lines, b),
               num(ds->n_returns_unmatched, c), num(ds->n_zero_lines, d),
               num(ds->n_cancelled_lines, e));
    } else if (by) {
        printf("returns:     none (no line with %s <= 0)\n", by);
    } else {
        printf("returns:     none (no quantity or amount column: every line is a purchase)\n");
    }
    printf("customers:   %s (%s in demographics, %s with purchases)\n",
           num((unsigned long long)prefrec_dict_size(ds->customers), a),
           num((unsigned long long)ds->n_customers_in_demographics, b),
           num((unsigned long long)ds->n_customers_with_rows, c));
    if (ds->has_catalog) {
        printf("products:    %s in the catalog, %s with purchases",
               num((unsigned long long)ds->n_products_in_catalog, a),
               num((unsigned long long)s->products_with_rows, b));
        if (s->products_not_in_catalog)
            printf(" (%d of them not in the catalog, %s rows)", s->products_not_in_catalog,
                   num(s->rows_not_in_catalog, c));
        printf("\n");
        printf("categories:  %d top, %d mid\n", prefrec_dict_size(ds->categories),
               prefrec_dict_size(ds->subcategories));
    } else {
        printf("products:    %s with purchases (no catalog)\n",
               num((unsigned long long)s->products_with_rows, a));
        printf("categories:  none (no catalog)\n");
    }
    if (ds->n_rows)
        printf("dates:       %s .. %s (%d days)\n", prefrec_date_format(ds->day_min, d0),
               prefrec_date_format(ds->day_max, d1), ds->day_max - ds->day_min + 1);
    printf("receipts:    %s\n", num((unsigned long long)s->receipts, a));
    printf("branches:    %s\n", num((unsigned long long)s->branches, a));
    if (ds->has_demographics)
        printf("gender:      %s female, %s male, %s unknown (demographics)\n",
               num((unsigned long long)s->demo_female, a), num((unsigned long long)s->demo_male, b),
               num((unsigned long long)s->demo_unknown, c));
    if (ds->n_lpay_rows)
        printf("lpay:        %s payments in 06 (%s not among the purchases), %s purchase lines "
               "paid with Lpay\n",
               num(ds->n_lpay_rows, a), num(ds->n_lpay_unmatched, b), num(s->lpay_lines, c));
    printf("affiliates:  %d\n", prefrec_dict_size(ds->affiliates));
    for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++) {
        int32_t af = s->aff_order[k];
        printf("  %-6s %12s rows  %5.1f%%\n", prefrec_dict_str(ds->affiliates, af),
               num(s->aff_rows[af], a),
               ds->n_rows ? 100.0 * (double)s->aff_rows[af] / (double)ds->n_rows : 0.0);
    }
    if (ds->n_skipped)
        printf("skipped:     %s bad rows (--skip-bad-rows)\n", num(ds->n_skipped, a));
}

static int print_json(const prefrec_dataset *ds, const summary *s, int is_dir) {
    char d[11];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "source", ds->source);
    cJSON_AddStringToObject(o, "layout", is_dir ? "lpoint" : "mapping");
    cJSON_AddNumberToObject(o, "rows", (double)ds->n_rows);
    cJSON *rt = cJSON_AddObjectToObject(o, "not_purchases");
    cJSON_AddStringToObject(rt, "measure",
                            ds->has_quantity     ? "quantity"
                                : ds->has_amount ? "amount"
                                                 : "none");
    cJSON_AddNumberToObject(
        rt, "lines", (double)(ds->n_return_lines + ds->n_zero_lines + ds->n_cancelled_lines));
    cJSON_AddNumberToObject(rt, "returns", (double)ds->n_return_lines);
    cJSON_AddNumberToObject(rt, "returns_without_purchase", (double)ds->n_returns_unmatched);
    cJSON_AddNumberToObject(rt, "zero_lines", (double)ds->n_zero_lines);
    cJSON_AddNumberToObject(rt, "netted_purchase_lines", (double)ds->n_cancelled_lines);
    cJSON *cu = cJSON_AddObjectToObject(o, "customers");
    cJSON_AddNumberToObject(cu, "total", prefrec_dict_size(ds->customers));
    cJSON_AddNumberToObject(cu, "in_demographics", ds->n_customers_in_demographics);
    cJSON_AddNumberToObject(cu, "with_purchases", ds->n_customers_with_rows);
    if (ds->has_demographics) {
        cJSON_AddNumberToObject(cu, "female", s->demo_female);
        cJSON_AddNumberToObject(cu, "male", s->demo_male);
        cJSON_AddNumberToObject(cu, "gender_unknown", s->demo_unknown);
    }
    cJSON *pr = cJSON_AddObjectToObject(o, "products");
    cJSON_AddNumberToObject(pr, "total", prefrec_dict_size(ds->products));
    cJSON_AddNumberToObject(pr, "in_catalog", ds->n_products_in_catalog);
    cJSON_AddNumberToObject(pr, "with_purchases", s->products_with_rows);
    cJSON_AddNumberToObject(pr, "not_in_catalog", ds->has_catalog ? s->products_not_in_catalog : 0);
    cJSON_AddNumberToObject(pr, "rows_not_in_catalog",
                            ds->has_catalog ? (double)s->rows_not_in_catalog : 0);
    cJSON *ca = cJSON_AddObjectToObject(o, "categories");
    cJSON_AddNumberToObject(ca, "top", prefrec_dict_size(ds->categories));
    cJSON_AddNumberToObject(ca, "mid", prefrec_dict_size(ds->subcategories));
    cJSON *dr = cJSON_AddObjectToObject(o, "dates");
    if (ds->n_rows) {
        cJSON_AddStringToObject(dr, "first", prefrec_date_format(ds->day_min, d));
        cJSON_AddStringToObject(dr, "last", prefrec_date_format(ds->day_max, d));
        cJSON_AddNumberToObject(dr, "days", ds->day_max - ds->day_min + 1);
    }
    cJSON_AddNumberToObject(o, "receipts", s->receipts);
    cJSON_AddNumberToObject(o, "branches", s->branches);
    cJSON *lp = cJSON_AddObjectToObject(o, "lpay");
    cJSON_AddNumberToObject(lp, "payments", (double)ds->n_lpay_rows);
    cJSON_AddNumberToObject(lp, "payments_not_in_purchases", (double)ds->n_lpay_unmatched);
    cJSON_AddNumberToObject(lp, "purchase_rows", (double)s->lpay_lines);
    cJSON *af = cJSON_AddObjectToObject(o, "rows_per_affiliate");
    for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++) {
        int32_t a = s->aff_order[k];
        cJSON_AddNumberToObject(af, prefrec_dict_str(ds->affiliates, a), (double)s->aff_rows[a]);
    }
    cJSON_AddNumberToObject(o, "skipped_rows", (double)ds->n_skipped);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return -1;
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}

int prefrec_cmd_info(int argc, char **argv) {
    const char *data = NULL;
    int json = 0;
    prefrec_load_params lp = prefrec_load_default_params();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strncmp(argv[i], "--data=", 7))
            data = argv[i] + 7;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--skip-bad-rows"))
            lp.skip_bad_rows = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            return cli_usage_error("info", USAGE, "unknown or incomplete option '%s'", argv[i]);
        }
    }
    if (!data) return cli_usage_error("info", USAGE, "--data PATH is required");
    lp.progress = cli_stderr_is_tty();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    if (prefrec_dataset_load(data, &lp, &ds, &err) != PREFREC_OK) return cli_fail("info", &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t n = strlen(data);
    int is_dir = !(n > 5 && !strcmp(data + n - 5, ".json"));
    summary s;
    if (summarise(ds, &s) != 0) {
        prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
        prefrec_dataset_free(ds);
        return cli_fail("info", &err);
    }
    int rc = 0;
    if (json) {
        if (print_json(ds, &s, is_dir) != 0) {
            prefrec_error_set(&err, PREFREC_E_NOMEM, "out of memory");
            rc = cli_fail("info", &err);
        }
    } else {
        print_text(ds, &s, is_dir);
    }
    fprintf(stderr, "prefrec info: loaded %zu rows in %.2f s\n", ds->n_rows,
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    free(s.aff_rows);
    free(s.aff_order);
    prefrec_dataset_free(ds);
    return rc;
}
