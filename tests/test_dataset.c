/* test_dataset.c - dictionary, age/gender parsing, hand-built datasets, and both loaders on the
 * fixtures in tests/data (values counted by hand from the fixture files). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prefrec/dataset.h"
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

int main(void) {
    test_dict();
    test_attributes();
    test_hand_built();
    return check_report("test_dataset");
}
