/* test_dataset.c - dictionary, age/gender parsing, hand-built datasets, and both loaders on the
 * fixtures in tests/data (values counted by hand from the fixture files). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"

static void test_dict(void) {
    prefrec_dict *d = prefrec_dict_new();
    CHECK(d != NULL);
    CHECK_EQ_INT(prefrec_dict_size(d), 0);
    CHECK_EQ_INT(prefrec_dict_find(d, "x", 1), -1);
    CHECK_EQ_INT(prefrec_dict_intern(d, "PD0002", 6), 0);
    CHECK_EQ_INT(prefrec_dict_intern(d, "PD0001", 6), 1);
    CHECK_EQ_INT(prefrec_dict_intern(d, "PD0002xyz", 6), 0); /* only len bytes count */
    CHECK_EQ_INT(prefrec_dict_intern(d, "", 0), 2);
    CHECK_EQ_INT(prefrec_dict_find(d, "", 0), 2);
    CHECK_STR(prefrec_dict_str(d, 1), "PD0001");
    CHECK_STR(prefrec_dict_str(d, 2), "");
    CHECK(prefrec_dict_str(d, 3) == NULL);
    CHECK(prefrec_dict_str(d, -1) == NULL);
    /* many keys: dense first-seen ids survive rehashing, pointers stay valid */
    char buf[40];
    const char *first = prefrec_dict_str(d, 0);
    int ok = 1;
    for (int i = 0; i < 300000; i++) {
        int n = snprintf(buf, sizeof buf, "M%09ld", (long)i * 7919);
        ok &= prefrec_dict_intern(d, buf, (size_t)n) == i + 3;
    }
    CHECK(ok);
    for (int i = 0; i < 300000; i += 13) {
        int n = snprintf(buf, sizeof buf, "M%09ld", (long)i * 7919);
        ok &= prefrec_dict_find(d, buf, (size_t)n) == i + 3;
        ok &= strcmp(prefrec_dict_str(d, i + 3), buf) == 0;
    }
    CHECK(ok);
    CHECK_EQ_INT(prefrec_dict_find(d, "M000000001", 10), -1);
    CHECK_EQ_INT(prefrec_dict_size(d), 300003);
    CHECK(first == prefrec_dict_str(d, 0));
    CHECK_STR(first, "PD0002");
    /* a long key (bigger than an arena chunk) */
    size_t big = 600000;
    char *s = malloc(big);
    memset(s, 'q', big);
    CHECK_EQ_INT(prefrec_dict_intern(d, s, big), 300003);
    CHECK_EQ_INT(prefrec_dict_find(d, s, big), 300003);
    CHECK_EQ_INT(prefrec_dict_find(d, s, big - 1), -1);
    free(s);
    prefrec_dict_free(d);
    prefrec_dict_free(NULL);
}

static void test_attributes(void) {
    float a = 0;
    CHECK_EQ_INT(prefrec_age_parse("37", 2, &a), 0);
    CHECK_NEAR(a, 37, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("37.5", 4, &a), 0);
    CHECK_NEAR(a, 37.5, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("20\xeb\x8c\x80", 5, &a), 0); /* 20대 */
    CHECK_NEAR(a, 25, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("70\xeb\x8c\x80", 5, &a), 0);
    CHECK_NEAR(a, 75, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("25-34", 5, &a), 0);
    CHECK_NEAR(a, 29.5, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("19-24", 5, &a), 0);
    CHECK_NEAR(a, 21.5, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("65+", 3, &a), 0);
    CHECK_NEAR(a, 70, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse(" 45 ", 4, &a), 0);
    CHECK_NEAR(a, 45, 1e-6);
    CHECK_EQ_INT(prefrec_age_parse("", 0, &a), -1);
    CHECK_EQ_INT(prefrec_age_parse("abc", 3, &a), -1);
    CHECK_EQ_INT(prefrec_age_parse("34-25", 5, &a), -1);
    CHECK_EQ_INT(prefrec_age_parse("-5", 2, &a), -1);
    CHECK_EQ_INT(prefrec_age_parse("1.2.3", 5, &a), -1);
    CHECK_EQ_INT(prefrec_age_parse("\xeb\x8c\x80", 3, &a), -1); /* 대 alone */

    CHECK_EQ_INT(prefrec_gender_parse("\xeb\x82\xa8\xec\x84\xb1", 6), PREFREC_GENDER_MALE);
    CHECK_EQ_INT(prefrec_gender_parse("\xec\x97\xac\xec\x84\xb1", 6), PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(prefrec_gender_parse("M", 1), PREFREC_GENDER_MALE);
    CHECK_EQ_INT(prefrec_gender_parse("male", 4), PREFREC_GENDER_MALE);
    CHECK_EQ_INT(prefrec_gender_parse("Female", 6), PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(prefrec_gender_parse("f", 1), PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(prefrec_gender_parse("0", 1), PREFREC_GENDER_MALE);
    CHECK_EQ_INT(prefrec_gender_parse("1", 1), PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(prefrec_gender_parse("", 0), PREFREC_GENDER_UNKNOWN);
    CHECK_EQ_INT(prefrec_gender_parse("2", 1), -2);
    CHECK_EQ_INT(prefrec_gender_parse("mal", 3), -2);
}

static void test_hand_built(void) {
    prefrec_error err = {0};
    prefrec_dataset *ds = prefrec_dataset_new(3);
    CHECK(ds != NULL);
    CHECK_EQ_INT(ds->n_rows, 3);
    CHECK_EQ_INT(ds->receipt[2], -1);
    CHECK_EQ_INT(ds->branch[1], -1);
    CHECK_EQ_INT(ds->hour[0], PREFREC_HOUR_UNKNOWN);
    CHECK_NEAR(ds->quantity[2], 1, 0);
    const char *cust[3] = {"C2", "C1", "C2"}, *prod[3] = {"P1", "P1", "P2"};
    int32_t days[3] = {18700, 18650, 18990};
    int32_t aff = prefrec_dict_intern(ds->affiliates, "ALL", 3);
    for (int i = 0; i < 3; i++) {
        ds->customer[i] = prefrec_dict_intern(ds->customers, cust[i], 2);
        ds->product[i] = prefrec_dict_intern(ds->products, prod[i], 2);
        ds->day[i] = days[i];
        ds->affiliate[i] = (uint8_t)aff;
    }
    prefrec_dict_intern(ds->customers, "C3", 2); /* a customer without rows */
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_customers_with_rows, 2);
    CHECK_EQ_INT(ds->day_min, 18650);
    CHECK_EQ_INT(ds->day_max, 18990);
    CHECK_STR(ds->product_name[1], "P2");
    CHECK_EQ_INT(ds->product_category[0], -1);
    CHECK_EQ_INT(ds->gender[2], PREFREC_GENDER_UNKNOWN);
    CHECK(isnan(ds->age[2]));
    ds->product[1] = 7; /* out of range */
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_E_RANGE);
    CHECK_CONTAINS(err.msg, "row 1");
    prefrec_dataset_free(ds);
    prefrec_dataset_free(NULL);
}

static int32_t id_of(const prefrec_dict *d, const char *s) {
    return prefrec_dict_find(d, s, strlen(s));
}

static void test_lpoint(void) {
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    prefrec_load_params lp = prefrec_load_default_params();
    CHECK_EQ_INT(prefrec_dataset_load(PREFREC_TEST_DATA "/lpoint_small", &lp, &ds, &err),
                 PREFREC_OK);
    if (!ds) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(ds->n_rows, 5);
    CHECK_EQ_INT(prefrec_dict_size(ds->customers), 4); /* M001-3 from 01, M004 only in 02 */
    CHECK_EQ_INT(ds->n_customers_in_demographics, 3);
    CHECK_EQ_INT(ds->n_customers_with_rows, 3);
    CHECK_EQ_INT(id_of(ds->customers, "M001"), 0); /* demographics order first */
    CHECK_EQ_INT(id_of(ds->customers, "M004"), 3);
    CHECK_EQ_INT(prefrec_dict_size(ds->products), 4);
    CHECK_EQ_INT(ds->n_products_in_catalog, 4);
    CHECK(ds->has_catalog && ds->has_demographics);
    CHECK_STR(ds->product_name[1], "사과, 부사");
    CHECK_EQ_INT(prefrec_dict_size(ds->categories), 4);
    CHECK_EQ_INT(prefrec_dict_size(ds->subcategories), 4); /* 티셔츠 under two tops */
    CHECK_STR(prefrec_dict_str(ds->subcategories, ds->product_subcategory[0]), "잎채소");
    CHECK_STR(prefrec_dict_str(ds->subcategories, ds->product_subcategory[2]), "티셔츠 (남성의류)");
    CHECK_STR(prefrec_dict_str(ds->subcategories, ds->product_subcategory[3]), "티셔츠 (여성의류)");
    CHECK_STR(prefrec_dict_str(ds->categories, ds->product_category[3]), "여성의류");
    CHECK_EQ_INT(ds->gender[0], PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(ds->gender[1], PREFREC_GENDER_MALE);
    CHECK_EQ_INT(ds->gender[3], PREFREC_GENDER_UNKNOWN);
    CHECK_NEAR(ds->age[0], 25, 0);
    CHECK_NEAR(ds->age[2], 75, 0);
    CHECK(isnan(ds->age[3]));
    /* row 2 (0-based): M001,R2,2,A06,,PD0003,20210301,23,29000,1 */
    CHECK_EQ_INT(ds->customer[2], 0);
    CHECK_EQ_INT(ds->product[2], 2);
    CHECK_EQ_INT(ds->day[2], 18687);
    CHECK_EQ_INT(ds->hour[2], 23);
    CHECK_EQ_INT(ds->channel[2], PREFREC_CHANNEL_ONLINE);
    CHECK_EQ_INT(ds->branch[2], -1);
    CHECK_STR(prefrec_dict_str(ds->affiliates, ds->affiliate[2]), "A06");
    CHECK_NEAR(ds->amount[2], 29000, 0);
    CHECK_NEAR(ds->quantity[1], 2, 0);
    CHECK_EQ_INT(ds->receipt[0], ds->receipt[1]);
    CHECK_EQ_INT(prefrec_dict_size(ds->receipts), 4);
    CHECK_EQ_INT(prefrec_dict_size(ds->branches), 3);
    CHECK_EQ_INT(prefrec_dict_size(ds->affiliates), 4);
    CHECK_EQ_INT(ds->day_min, 18632);
    CHECK_EQ_INT(ds->day_max, 18992);
    /* 06: R4 paid with Lpay (row 4); X9 is not a purchase receipt */
    int lp_rows = 0;
    for (size_t i = 0; i < ds->n_rows; i++) lp_rows += ds->lpay[i];
    CHECK_EQ_INT(lp_rows, 1);
    CHECK_EQ_INT(ds->lpay[4], 1);
    CHECK_EQ_INT(ds->n_lpay_rows, 2);
    CHECK_EQ_INT(ds->n_lpay_unmatched, 1);
    CHECK_EQ_INT(ds->n_skipped, 0);
    CHECK_STR(ds->source, PREFREC_TEST_DATA "/lpoint_small");
    prefrec_dataset_free(ds);
}

static void test_mapping(void) {
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(
        prefrec_dataset_load(PREFREC_TEST_DATA "/mapping_small/mapping.json", NULL, &ds, &err),
        PREFREC_OK);
    if (!ds) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_EQ_INT(ds->n_rows, 4);
    CHECK_EQ_INT(prefrec_dict_size(ds->customers), 4); /* 7, 8, 10 from demo; 9 from tx */
    CHECK_EQ_INT(ds->n_customers_in_demographics, 3);
    CHECK_EQ_INT(ds->n_customers_with_rows, 3);
    CHECK_EQ_INT(prefrec_dict_size(ds->products), 3); /* 300 is not in products.csv: kept */
    CHECK_EQ_INT(ds->n_products_in_catalog, 2);
    CHECK_STR(ds->product_name[0], "Milk, 2%");
    CHECK_STR(ds->product_name[1], "12\" Pizza");
    CHECK_STR(ds->product_name[2], "300");
    CHECK_EQ_INT(ds->product_category[2], -1);
    CHECK_EQ_INT(ds->product_subcategory[0], -1);
    CHECK_EQ_INT(prefrec_dict_size(ds->affiliates), 1);
    CHECK_STR(prefrec_dict_str(ds->affiliates, 0), "ALL");
    CHECK_EQ_INT(ds->day[0], 17194);
    CHECK_EQ_INT(ds->hour[0], 14);
    CHECK_EQ_INT(ds->day[3], 17198); /* "1/2/2017" with %d/%m/%Y */
    CHECK_EQ_INT(ds->hour[3], 9);
    CHECK_NEAR(ds->amount[0], 3.86, 0);
    CHECK_NEAR(ds->quantity[3], 3, 0);
    CHECK_EQ_INT(ds->receipt[0], ds->receipt[2]);
    CHECK_EQ_INT(ds->branch[0], -1);
    CHECK_EQ_INT(ds->channel[0], PREFREC_CHANNEL_UNKNOWN);
    CHECK_EQ_INT(ds->gender[0], PREFREC_GENDER_FEMALE);
    CHECK_EQ_INT(ds->gender[1], PREFREC_GENDER_UNKNOWN);
    CHECK_EQ_INT(ds->gender[2], PREFREC_GENDER_MALE);
    CHECK_NEAR(ds->age[0], 29.5, 0);
    CHECK_NEAR(ds->age[1], 70, 0);
    CHECK_NEAR(ds->age[2], 25, 0);
    CHECK_EQ_INT(ds->day_min, 17194);
    CHECK_EQ_INT(ds->day_max, 17531);
    prefrec_dataset_free(ds);
}

static void put(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* Bad rows: an error naming file:line:col by default; with skip_bad_rows exactly the good rows
 * load and the skipped ones are counted. */
static void test_bad_rows(void) {
    char dir[] = "/tmp/prefrec_test_ds_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv",
        "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,a,b,c\n");
    put(dir, "LPOINT_BIG_COMP_01_DEMO.csv", "cust,ma_fem_dv,ages,zon_hlv\nM1,여성,30대,Z01\n");
    put(dir, "LPOINT_BIG_COMP_02_PDDE.csv",
        "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n"
        "M1,R1,1,A01,B1,PD0001,20210105,10,3000,1\n" /* line 2 good */
        "M1,R2,1,A01,B1,PD0009,20210105,10,3000,1\n" /* line 3 unknown product */
        "M1,R3,1,A01,B1,PD0001,20211305,10,3000,1\n" /* line 4 bad date */
        "M1,R4,1,A01,B1,PD0001,20210105,10\n" /* line 5 too few fields */
        "M2,R5,1,A01,B1,PD0001,20210106,25,3000,1\n" /* line 6 bad hour */
        "M\xff,R6,1,A01,B1,PD0001,20210105,10,3000,1\n" /* line 7 invalid UTF-8 */
        "M3,R7,2,A06,,PD0001,20210107,11,500,2\n"); /* line 8 good */
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    prefrec_load_params lp = prefrec_load_default_params();
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK(ds == NULL);
    CHECK_CONTAINS(err.msg, "LPOINT_BIG_COMP_02_PDDE.csv:3:16: unknown product code 'PD0009'");
    lp.skip_bad_rows = 1;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_OK);
    if (ds) {
        CHECK_EQ_INT(ds->n_rows, 2);
        CHECK_EQ_INT(ds->n_skipped, 5);
        CHECK_EQ_INT(ds->day[1], 18634);
        CHECK_EQ_INT(prefrec_dict_size(ds->customers), 2); /* M2 was only in a skipped row */
        CHECK_EQ_INT(prefrec_dict_size(ds->receipts), 2);
        CHECK_EQ_INT(ds->receipt[1], 1);
        prefrec_dataset_free(ds);
    }
    /* a missing required column names the file and the column */
    put(dir, "LPOINT_BIG_COMP_01_DEMO.csv", "cust,gender,ages\nM1,여성,30대\n");
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_E_NOTFOUND);
    CHECK_CONTAINS(err.msg, "LPOINT_BIG_COMP_01_DEMO.csv:1: no column 'ma_fem_dv'");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void put_bytes(const char *dir, const char *name, const char *text, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK_EQ_INT(fwrite(text, 1, len, f), len);
    fclose(f);
}
#define PUT_LIT(dir, name, lit) put_bytes(dir, name, lit, sizeof lit - 1)

/* Issue 21: a NUL byte in a code. "DUP\0a" and "DUP\0b" were two customers that every writer
 * printed as "DUP" (a pack that refused every request, scores.csv with three "C1"). Now a NUL
 * in any field of any file is a bad row at file:line:col, skippable and counted; a NUL in the
 * mapping is an error; and a hand-built dataset holding one is refused by finish. */
static void test_nul(void) {
    char dir[] = "/tmp/prefrec_test_nul_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char json[600];
    snprintf(json, sizeof json, "%s/m.json", dir);
    PUT_LIT(dir, "m.json",
            "{\"transactions\": {\"path\": \"tx.csv\", \"customer\": \"customer\", "
            "\"product\": \"product\", \"time\": \"time\"}}");
    PUT_LIT(dir, "tx.csv",
            "customer,product,time\nDUP\0a,P1,2021-01-01\nDUP\0b,P2,2021-01-02\n"
            "C1,P1,2021-01-03\n");
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    prefrec_load_params lp = prefrec_load_default_params();
    CHECK_EQ_INT(prefrec_dataset_load(json, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK(ds == NULL);
    CHECK_CONTAINS(err.msg, "tx.csv:2:4: NUL byte (U+0000) in a field");
    lp.skip_bad_rows = 1;
    CHECK_EQ_INT(prefrec_dataset_load(json, &lp, &ds, &err), PREFREC_OK);
    if (ds) {
        CHECK_EQ_INT(ds->n_rows, 1);
        CHECK_EQ_INT(ds->n_skipped, 2);
        CHECK_EQ_INT(prefrec_dict_size(ds->customers), 1);
        CHECK_EQ_INT(prefrec_dict_find(ds->customers, "DUP", 3), -1);
        CHECK_STR(prefrec_dict_str(ds->customers, 0), "C1");
        prefrec_dataset_free(ds);
    }
    lp.skip_bad_rows = 0;
    /* in the mapping: raw, or as \u0000 (cJSON would cut the string there: "tx.csv") */
    PUT_LIT(dir, "m.json",
            "{\"transactions\": {\"path\": \"tx.csv\\u0000.bak\", \"customer\": "
            "\"customer\", \"product\": \"product\", \"time\": \"time\"}}");
    CHECK_EQ_INT(prefrec_dataset_load(json, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "m.json:1:34: NUL byte (U+0000) in the mapping");
    PUT_LIT(dir, "m.json",
            "{\"transactions\": {\"path\": \"tx.csv\", \"customer\": \"customer\",\n"
            " \"product\": \"prod\0uct\", \"time\": \"time\"}}");
    CHECK_EQ_INT(prefrec_dataset_load(json, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "m.json:2:18: NUL byte");
    /* an escaped backslash before u0000 is not a NUL: the path is tx.csv\u0000 (no such file) */
    PUT_LIT(dir, "m.json",
            "{\"transactions\": {\"path\": \"tx.csv\\\\u0000\", \"customer\": "
            "\"customer\", \"product\": \"product\", \"time\": \"time\"}}");
    CHECK_EQ_INT(prefrec_dataset_load(json, &lp, &ds, &err), PREFREC_E_IO);
    CHECK_CONTAINS(err.msg, "tx.csv\\u0000: cannot open");

    /* L.POINT: the catalog and the demographics go through the same reader */
    PUT_LIT(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv",
            "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,a,b,c\nPD0002,x\0y,b,c\n");
    PUT_LIT(dir, "LPOINT_BIG_COMP_01_DEMO.csv", "cust,ma_fem_dv,ages\nM1\0,여성,30대\n");
    PUT_LIT(dir, "LPOINT_BIG_COMP_02_PDDE.csv",
            "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n"
            "M1,R1,1,A01,B1,PD0001,20210105,10,3000,1\n");
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "LPOINT_BIG_COMP_04_PD_CLAC.csv:3:9: NUL byte");
    PUT_LIT(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv",
            "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,a,b,c\n");
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "LPOINT_BIG_COMP_01_DEMO.csv:2:3: NUL byte");
    PUT_LIT(dir, "LPOINT_BIG_COMP_01_DEMO.csv", "cust,ma_fem_dv,ages\nM1,여성,30대\n");
    PUT_LIT(dir, "LPOINT_BIG_COMP_02_PDDE.csv",
            "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n"
            "M1,R1,1,A01,B1,PD0001,20210105,10,3000,1\n"
            "M000034966\0Z,R2,1,A01,B1,PD0001,20210106,10,3000,1\n");
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "LPOINT_BIG_COMP_02_PDDE.csv:3:11: NUL byte");
    lp.skip_bad_rows = 1;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_OK);
    if (ds) {
        CHECK_EQ_INT(ds->n_rows, 1);
        CHECK_EQ_INT(ds->n_skipped, 1);
        CHECK_EQ_INT(prefrec_dict_find(ds->customers, "M000034966", 10), -1);
        prefrec_dataset_free(ds);
    }

    /* built by hand: finish refuses the code rather than let a writer cut it */
    ds = prefrec_dataset_new(1);
    ds->customer[0] = prefrec_dict_intern(ds->customers, "DUP\0a", 5);
    ds->product[0] = prefrec_dict_intern(ds->products, "P1", 2);
    ds->affiliate[0] = (uint8_t)prefrec_dict_intern(ds->affiliates, "ALL", 3);
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg, "customer code 'DUP' holds a NUL byte (byte 4 of 5)");
    prefrec_dataset_free(ds);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

typedef struct {
    const char *cust, *prod;
    int rct; /* -1: none */
    int day;
    double qty;
} line_t;

static prefrec_dataset *lines(const line_t *l, size_t n) {
    prefrec_dataset *ds = prefrec_dataset_new(n);
    int32_t aff = prefrec_dict_intern(ds->affiliates, "ALL", 3);
    for (size_t i = 0; i < n; i++) {
        char rc[16];
        int rn = snprintf(rc, sizeof rc, "R%d", l[i].rct);
        ds->customer[i] = prefrec_dict_intern(ds->customers, l[i].cust, strlen(l[i].cust));
        ds->product[i] = prefrec_dict_intern(ds->products, l[i].prod, strlen(l[i].prod));
        ds->receipt[i] = l[i].rct < 0 ? -1 : prefrec_dict_intern(ds->receipts, rc, (size_t)rn);
        ds->day[i] = 18700 + l[i].day;
        ds->affiliate[i] = (uint8_t)aff;
        ds->quantity[i] = (float)l[i].qty;
        ds->amount[i] = 1000 * l[i].qty;
    }
    return ds;
}

/* Issue 21: returns, cancellations and zero lines are not purchases (README, "Returns,
 * cancellations and zero lines"): each case of the rule, counted, rows kept in order. */
static void test_returns(void) {
    static const line_t l[] = {
        {"C1", "P1", 1, 0, 1}, /* 0 kept */
        {"C1", "P2", 1, 0, 2}, /* 1 bought and returned in receipt 1: nets to 0 */
        {"C1", "P2", 1, 0, -2}, /* 2 its return */
        {"C1", "P1", 2, 1, -1}, /* 3 a return of the purchase in receipt 1: that one stays */
        {"C1", "P3", 3, 2, 0}, /* 4 a zero line */
        {"C2", "P4", 4, 3, 3}, /* 5 3 bought, 1 returned: nets to 2, a purchase */
        {"C2", "P4", 4, 3, -1}, /* 6 */
        {"C2", "P5", 5, 4, 0.1}, /* 7 0.1 + 0.2 - 0.3 kg: 0 within rounding */
        {"C2", "P5", 5, 4, 0.2}, /* 8 */
        {"C2", "P5", 5, 4, -0.3}, /* 9 */
        {"C2", "P6", 6, 5, 1}, /* 10 kept */
        {"C3", "P1", 7, 9, -1}, /* 11 a later return of someone with no purchase at all */
    };
    const size_t n = sizeof l / sizeof l[0];
    prefrec_dataset *ds = lines(l, n);
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_rows, 3);
    CHECK_STR(prefrec_dict_str(ds->products, ds->product[0]), "P1");
    CHECK_STR(prefrec_dict_str(ds->products, ds->product[1]), "P4");
    CHECK_STR(prefrec_dict_str(ds->products, ds->product[2]), "P6");
    CHECK_STR(prefrec_dict_str(ds->receipts, ds->receipt[1]), "R4");
    CHECK_NEAR(ds->quantity[1], 3, 0); /* kept lines are not rewritten */
    CHECK_NEAR(ds->amount[1], 3000, 0);
    CHECK_EQ_INT(ds->day[2], 18705);
    CHECK_EQ_INT(ds->n_return_lines, 5); /* rows 2, 3, 6, 9, 11 */
    CHECK_EQ_INT(ds->n_returns_unmatched, 2); /* rows 3, 11 */
    CHECK_EQ_INT(ds->n_zero_lines, 1); /* row 4 */
    CHECK_EQ_INT(ds->n_cancelled_lines, 3); /* rows 1, 7, 8 */
    CHECK_EQ_INT(ds->n_customers_with_rows, 2);
    CHECK_EQ_INT(ds->day_min, 18700);
    CHECK_EQ_INT(ds->day_max, 18705); /* over purchases: not the day-9 return */
    /* a second finish changes nothing */
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_rows, 3);
    CHECK_EQ_INT(ds->n_return_lines, 5);
    prefrec_dataset_free(ds);

    /* no quantity column: the amount decides; neither: every line is a purchase */
    static const line_t a[] = {
        {"C1", "P1", 1, 0, 1}, {"C1", "P1", 1, 0, -1}, {"C1", "P2", 1, 0, 1}};
    ds = lines(a, 3);
    ds->has_quantity = 0;
    ds->has_amount = 1;
    for (int i = 0; i < 3; i++) ds->quantity[i] = 1; /* what a layout without quantity holds */
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_rows, 1);
    CHECK_EQ_INT(ds->n_cancelled_lines, 1);
    prefrec_dataset_free(ds);
    ds = lines(a, 3);
    ds->has_quantity = 0;
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_rows, 3);
    CHECK_EQ_INT(ds->n_return_lines, 0);
    prefrec_dataset_free(ds);

    /* no receipt column: the receipt is the customer's day (at the affiliate) */
    static const line_t d[] = {{"C1", "P1", -1, 0, 1},
                               {"C1", "P1", -1, 0, -1},
                               {"C1", "P1", -1, 1, 1},
                               {"C1", "P1", -1, 2, -1}};
    ds = lines(d, 4);
    CHECK_EQ_INT(prefrec_dataset_finish(ds, &err), PREFREC_OK);
    CHECK_EQ_INT(ds->n_rows, 1);
    CHECK_EQ_INT(ds->day[0], 18701);
    CHECK_EQ_INT(ds->n_cancelled_lines, 1);
    CHECK_EQ_INT(ds->n_return_lines, 2);
    CHECK_EQ_INT(ds->n_returns_unmatched, 1);
    prefrec_dataset_free(ds);
}

/* The rule through both loaders: L.POINT (buy_ct) and a mapping with an amount but no
 * quantity column. */
static void test_returns_loaded(void) {
    char dir[] = "/tmp/prefrec_test_ret_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    put(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv",
        "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,a,b,c\nPD0002,d,b,c\n");
    put(dir, "LPOINT_BIG_COMP_01_DEMO.csv", "cust,ma_fem_dv,ages\nM1,여성,30대\n");
    /* the review's case: bought once, returned twice (buy_ct -1, buy_am -1000) */
    put(dir, "LPOINT_BIG_COMP_02_PDDE.csv",
        "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n"
        "M1,R1,1,A01,B1,PD0001,20210105,10,1000,1\n"
        "M1,R1,1,A01,B1,PD0002,20210105,10,1000,1\n"
        "M1,R2,1,A01,B1,PD0001,20210110,10,-1000,-1\n"
        "M1,R3,1,A01,B1,PD0001,20210115,10,-1000,-1\n"
        "M1,R4,1,A01,B1,PD0002,20210120,10,0,0\n");
    prefrec_dataset *ds = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_dataset_load(dir, NULL, &ds, &err), PREFREC_OK);
    if (ds) {
        CHECK_EQ_INT(ds->n_rows, 2);
        CHECK_EQ_INT(ds->day[0], 18632);
        CHECK_EQ_INT(ds->day[1], 18632);
        CHECK_EQ_INT(ds->day_max, 18632);
        CHECK_EQ_INT(ds->n_return_lines, 2);
        CHECK_EQ_INT(ds->n_returns_unmatched, 2);
        CHECK_EQ_INT(ds->n_zero_lines, 1);
        CHECK(ds->has_quantity && ds->has_amount);
        prefrec_dataset_free(ds);
    }
    char json[600];
    snprintf(json, sizeof json, "%s/m.json", dir);
    put(dir, "m.json",
        "{\"transactions\": {\"path\": \"tx.csv\", \"customer\": \"c\", "
        "\"product\": \"p\", \"time\": \"t\", \"amount\": \"am\", "
        "\"receipt\": \"r\"}}");
    put(dir, "tx.csv",
        "c,r,p,t,am,qty\n"
        "7,B1,100,2017-01-28,3.86,1\n"
        "7,B1,100,2017-01-28,-3.86,1\n" /* qty is not mapped: the amount counts */
        "7,B1,200,2017-01-28,0.00,1\n"
        "8,B2,200,2017-02-01,1.50,1\n");
    CHECK_EQ_INT(prefrec_dataset_load(json, NULL, &ds, &err), PREFREC_OK);
    if (ds) {
        CHECK_EQ_INT(ds->n_rows, 1);
        CHECK(!ds->has_quantity && ds->has_amount);
        CHECK_EQ_INT(ds->n_cancelled_lines, 1);
        CHECK_EQ_INT(ds->n_return_lines, 1);
        CHECK_EQ_INT(ds->n_returns_unmatched, 0);
        CHECK_EQ_INT(ds->n_zero_lines, 1);
        CHECK_EQ_INT(ds->n_customers_with_rows, 1);
        CHECK_STR(prefrec_dict_str(ds->customers, ds->customer[0]), "8");
        prefrec_dataset_free(ds);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    test_dict();
    test_attributes();
    test_hand_built();
    test_lpoint();
    test_mapping();
    test_bad_rows();
    test_nul();
    test_returns();
    test_returns_loaded();
    return check_report("test_dataset");
}
