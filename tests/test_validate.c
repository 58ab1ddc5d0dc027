/* test_validate.c - the validation table on a hand-worked data set (the scores of test_score.c's
 * worked example, as of 2021-01-31, then purchases in [2021-01-31, 2021-02-15)), its JSON and
 * SVG outputs, and the SVG writer on its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"
#include "prefrec/native/svg.h"

static int32_t D(const char *s) {
    int32_t d = 0;
    if (prefrec_date_parse(s, strlen(s), &d)) abort();
    return d;
}

typedef struct {
    const char *aff, *cust, *prod, *date;
} row_t;

static const row_t rows[] = {
    /* before the cut-off: test_score.c's worked example */
    {"A01", "C2", "P2", "2021-01-11"},
    {"A01", "C1", "P1", "2021-01-13"},
    {"A01", "C1", "P1", "2021-01-05"},
    {"A02", "C4", "P3", "2021-01-01"},
    {"A01", "C1", "P1", "2021-01-01"},
    {"A01", "C1", "P2", "2021-01-20"},
    {"A01", "C1", "P1", "2021-01-05"},
    {"A01", "C1", "P3", "2021-01-10"},
    {"A01", "C2", "P3", "2021-01-02"},
    {"A02", "C1", "P1", "2021-01-03"},
    {"A01", "C1", "P1", "2021-01-09"},
    {"A01", "C2", "P2", "2021-01-01"},
    {"A01", "C1", "P3", "2021-01-30"},
    {"A02", "C3", "P1", "2021-01-15"},
    {"A01", "C2", "P2", "2021-01-21"},
    {"A02", "C4", "P3", "2021-01-07"},
    /* the window [2021-01-31, 2021-02-15) */
    {"A01", "C1", "P3", "2021-01-31"}, /* on the cut-off day: a repurchase */
    {"A01", "C1", "P1", "2021-02-10"},
    {"A01", "C1", "P1", "2021-02-11"}, /* counted once */
    {"A02", "C3", "P1", "2021-02-14"},
    {"A02", "C4", "P3", "2021-02-15"}, /* on the end day: outside */
    {"A01", "C2", "P1", "2021-02-02"}, /* a pair with no score: not in the table */
    {"A02", "C3", "P1", "2021-03-01"}, /* after the end */
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static prefrec_dataset *build(void) {
    prefrec_dataset *ds = prefrec_dataset_new(N_ROWS);
    static const char *pre[] = {"A01", "A02"}, *cust[] = {"C1", "C2", "C3", "C4"},
                      *prod[] = {"P1", "P2", "P3"}, *cat[] = {"fruit", "fruit", "snack"};
    for (int k = 0; k < 2; k++) prefrec_dict_intern(ds->affiliates, pre[k], 3);
    for (int k = 0; k < 4; k++) prefrec_dict_intern(ds->customers, cust[k], 2);
    for (int k = 0; k < 3; k++) prefrec_dict_intern(ds->products, prod[k], 2);
    for (size_t i = 0; i < N_ROWS; i++) {
        ds->affiliate[i] = (uint8_t)prefrec_dict_find(ds->affiliates, rows[i].aff, 3);
        ds->customer[i] = prefrec_dict_find(ds->customers, rows[i].cust, 2);
        ds->product[i] = prefrec_dict_find(ds->products, rows[i].prod, 2);
        ds->day[i] = D(rows[i].date);
    }
    ds->has_catalog = 1;
    ds->product_name = malloc(3 * sizeof *ds->product_name);
    ds->product_category = malloc(3 * sizeof *ds->product_category);
    ds->product_subcategory = malloc(3 * sizeof *ds->product_subcategory);
    for (int k = 0; k < 3; k++) {
        ds->product_name[k] = prefrec_dict_str(ds->products, k);
        ds->product_category[k] = prefrec_dict_intern(ds->categories, cat[k], strlen(cat[k]));
        ds->product_subcategory[k] = -1;
    }
    ds->n_products_in_catalog = 3;
    prefrec_error err = {0};
    if (prefrec_dataset_finish(ds, &err)) abort();
    return ds;
}

/* scores (test_score.c): A01 C1P1 3.5 (bought), C1P2 2.0, C1P3 1.5 (bought), C2P2 3.0,
 * C2P3 1.75; A02 C1P1 2.5, C3P1 2.25 (bought), C4P3 3.0 (its 02-15 line is on the end day). */
static const int64_t a01_pairs[10] = {5, 5, 5, 5, 3, 2, 2, 1, 0, 0};
static const int64_t a01_bought[10] = {2, 2, 2, 2, 1, 1, 1, 1, 0, 0};
static const int64_t a02_pairs[10] = {3, 3, 3, 3, 3, 2, 1, 0, 0, 0};
static const int64_t a02_bought[10] = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};

static void test_table(void) {
    prefrec_dataset *ds = build();
    prefrec_score_params p = prefrec_score_default_params();
    prefrec_error err = {0};
    prefrec_validation *v = NULL;
    CHECK_EQ_INT(prefrec_validate_compute(ds, &p, D("2021-01-31"), D("2021-02-15"), -1, &v, &err),
                 PREFREC_OK);
    CHECK_EQ_INT(v->n_rows, 2);
    CHECK_EQ_INT(v->rows[0].affiliate, 0);
    CHECK_EQ_INT(v->rows[1].affiliate, 1);
    for (int t = 0; t < 10; t++) {
        CHECK_NEAR(v->thresholds[t], 0.5 * t, 0);
        CHECK_EQ_INT(v->rows[0].pairs[t], a01_pairs[t]);
        CHECK_EQ_INT(v->rows[0].bought[t], a01_bought[t]);
        CHECK_EQ_INT(v->rows[1].pairs[t], a02_pairs[t]);
        CHECK_EQ_INT(v->rows[1].bought[t], a02_bought[t]);
    }
    /* histogram by quarter: A01 scores 1.5, 1.75, 2.0, 3.0, 3.5 */
    int64_t h0[PREFREC_VALIDATE_BINS] = {0}, h1[PREFREC_VALIDATE_BINS] = {0};
    h0[6] = h0[7] = h0[8] = h0[12] = h0[14] = 1;
    h1[9] = h1[10] = h1[12] = 1;
    for (int b = 0; b < PREFREC_VALIDATE_BINS; b++) {
        CHECK_EQ_INT(v->rows[0].hist[b], h0[b]);
        CHECK_EQ_INT(v->rows[1].hist[b], h1[b]);
    }
    CHECK_EQ_INT(v->rows[0].hist_bought[14], 1);
    CHECK_EQ_INT(v->rows[0].hist_bought[6], 1);
    CHECK_EQ_INT(v->rows[1].hist_bought[9], 1);

    /* JSON: the documented shape */
    char path[] = "/tmp/prefrec_test_validate_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ_INT(prefrec_validation_write_json(v, ds, path, &err), PREFREC_OK);
    FILE *f = fopen(path, "rb");
    char buf[16384];
    size_t len = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[len] = 0;
    cJSON *j = cJSON_Parse(buf);
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "cutoff")), "2021-01-31");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "end")), "2021-02-15");
    cJSON *th = cJSON_GetObjectItem(j, "thresholds");
    CHECK_EQ_INT(cJSON_GetArraySize(th), 10);
    CHECK_NEAR(cJSON_GetArrayItem(th, 9)->valuedouble, 4.5, 0);
    cJSON *a01 = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "affiliates"), "A01");
    cJSON *rate = cJSON_GetObjectItem(a01, "rate"), *pairs = cJSON_GetObjectItem(a01, "pairs");
    CHECK_EQ_INT(cJSON_GetArraySize(rate), 10);
    CHECK_NEAR(cJSON_GetArrayItem(rate, 0)->valuedouble, 0.4, 1e-9);
    CHECK_NEAR(cJSON_GetArrayItem(rate, 4)->valuedouble, 0.333333, 1e-9);
    CHECK_NEAR(cJSON_GetArrayItem(rate, 7)->valuedouble, 1.0, 1e-9);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(rate, 8)));
    CHECK_EQ_INT(cJSON_GetArrayItem(pairs, 5)->valuedouble, 2);
    cJSON *a02 = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "affiliates"), "A02");
    CHECK_NEAR(cJSON_GetArrayItem(cJSON_GetObjectItem(a02, "rate"), 5)->valuedouble, 0.0, 0);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(cJSON_GetObjectItem(a02, "rate"), 7)));
    cJSON_Delete(j);

    /* SVG: both affiliates in the legend, a complete document */
    CHECK_EQ_INT(prefrec_validation_write_svg(v, ds, path, &err), PREFREC_OK);
    f = fopen(path, "rb");
    static char svg[1 << 16];
    len = f ? fread(svg, 1, sizeof svg - 1, f) : 0;
    if (f) fclose(f);
    svg[len] = 0;
    CHECK(strncmp(svg, "<?xml", 5) == 0);
    CHECK_CONTAINS(svg, ">A01</text>");
    CHECK_CONTAINS(svg, ">A02</text>");
    CHECK_CONTAINS(svg, "[2021-01-31, 2021-02-15)");
    CHECK(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
    unlink(path);
    prefrec_validation_free(v);

    /* one affiliate */
    CHECK_EQ_INT(prefrec_validate_compute(ds, &p, D("2021-01-31"), D("2021-02-15"), 1, &v, &err),
                 PREFREC_OK);
    CHECK_EQ_INT(v->n_rows, 1);
    CHECK_EQ_INT(v->rows[0].affiliate, 1);
    for (int t = 0; t < 10; t++) CHECK_EQ_INT(v->rows[0].bought[t], a02_bought[t]);
    prefrec_validation_free(v);

    /* a window that ends before it starts */
    v = (prefrec_validation *)1;
    CHECK_EQ_INT(prefrec_validate_compute(ds, &p, D("2021-02-15"), D("2021-01-31"), -1, &v, &err),
                 PREFREC_E_RANGE);
    CHECK(v == NULL);
    CHECK_CONTAINS(err.msg, "2021-01-31");
    prefrec_dataset_free(ds);
}

static void test_svg_writer(void) {
    double x[] = {0, 1, 2, 3}, y1[] = {1, 2, NAN, 4}, y2[] = {0.5, 0.5, 0.5, 0.5};
    prefrec_svg_series s[2] = {{"a<b", x, y1, 4, NULL}, {"two", x, y2, 4, "#123456"}};
    prefrec_svg_chart c[2] = {prefrec_svg_chart_default(), prefrec_svg_chart_default()};
    c[0].title = "T & t";
    c[0].series = s;
    c[0].n_series = 2;
    c[1] = c[0];
    c[1].kind = PREFREC_SVG_BARS;
    c[1].width = 300;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_svg_write(f, c, 2, 2, &err), PREFREC_OK);
    fclose(f);
    CHECK_CONTAINS(buf, "width=\"940\" height=\"360\""); /* 640 + 300 side by side */
    CHECK_CONTAINS(buf, "a&lt;b");
    CHECK_CONTAINS(buf, "T &amp; t");
    CHECK_CONTAINS(buf, "fill=\"#123456\"");
    /* the NaN breaks the first line into two pieces: two "M" moves in its path */
    const char *key = "stroke=\"#0072B2\" stroke-width=\"2\" d=\"";
    const char *p = strstr(buf, key);
    CHECK(p != NULL);
    if (p) {
        p += strlen(key);
        const char *e = strchr(p, '"');
        int moves = 0;
        for (const char *q = p; q < e; q++) moves += *q == 'M';
        CHECK_EQ_INT(moves, 2);
    }
    /* bars: 4 + 3 (NaN skipped) rects of data, plus backgrounds and legend swatches */
    int rects = 0;
    for (const char *q = buf; (q = strstr(q, "<rect")); q++) rects++;
    CHECK_EQ_INT(rects, 2 /* backgrounds */ + 2 * 2 /* legends */ + 7);
    free(buf);
    CHECK_EQ_INT(prefrec_svg_write(stdout, c, 0, 1, &err), PREFREC_E_INVAL);
}

int main(void) {
    test_table();
    test_svg_writer();
    return check_report("test_validate");
}
