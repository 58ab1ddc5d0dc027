/* attrs.c - the product catalog and the customer demographics, read the same way whatever the
 * layout (lpoint.c and mapping.c open the table and find the columns; the rows are read here):
 * one rule for duplicates, empty ids, genders and ages (prefrec/demog.h) and one set of messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_internal.h"
#include "prefrec/demog.h"

#define FIELD(c) f[c].p, f[c].len

prefrec_status prefrec_catalog_read_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                     const prefrec_catalog_cols_ *c, prefrec_error *err) {
    prefrec_status st = PREFREC_OK;
    size_t cap = 0;
    int r;
    ds->names = prefrec_dict_new();
    if (!ds->names) goto nomem;
    while ((r = prefrec_table_next_(t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
        if (f[c->id].len == 0) {
            if ((st = prefrec_table_bad_value_(t, L, (size_t)c->id, "empty product code", err,
                                               "empty product code%.*s", "", 0)))
                return st;
            continue;
        }
        if (prefrec_dict_find(ds->products, FIELD(c->id)) >= 0) {
            if ((st = prefrec_table_bad_value_(t, L, (size_t)c->id, "duplicate product code", err,
                                               "duplicate product code '%.*s'", FIELD(c->id))))
                return st;
            continue;
        }
        int has_nm = c->name >= 0 && f[c->name].len, has_cat = c->cat >= 0 && f[c->cat].len;
        int has_sub = c->sub >= 0 && f[c->sub].len;
        int32_t id = prefrec_dict_intern(ds->products, FIELD(c->id));
        int32_t nm = has_nm ? prefrec_dict_intern(ds->names, FIELD(c->name)) : -2;
        int32_t ca = has_cat ? prefrec_dict_intern(ds->categories, FIELD(c->cat)) : -2;
        int32_t su = has_sub
            ? prefrec_subcategory_intern_(ds, c->cat >= 0 ? f[c->cat].p : "",
                                          c->cat >= 0 ? f[c->cat].len : 0, FIELD(c->sub))
            : -2;
        if (id < 0 || nm == -1 || ca == -1 || su == -1) goto nomem;
        if (prefrec_catalog_reserve_(ds, &cap, id)) goto nomem;
        ds->product_name[id] =
            nm >= 0 ? prefrec_dict_str(ds->names, nm) : prefrec_dict_str(ds->products, id);
        ds->product_category[id] = ca >= 0 ? ca : -1;
        ds->product_subcategory[id] = su >= 0 ? su : -1;
        ds->n_products_in_catalog = id + 1;
    }
    if (r < 0)
        st = (prefrec_status)r;
    else if (t->rows == 0)
        st =
            prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no product rows (header only)", t->path);
    if (!st) st = prefrec_subcategories_finish_(ds, err);
    ds->has_catalog = st == PREFREC_OK;
    return st;
nomem:
    return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", t->path);
}

prefrec_status prefrec_demographics_read_(prefrec_table_ *t, prefrec_loader_ *L,
                                          prefrec_dataset *ds, const prefrec_demog_cols_ *c,
                                          prefrec_error *err) {
    prefrec_status st = PREFREC_OK;
    size_t cap = 0;
    int r;
    while ((r = prefrec_table_next_(t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t->csv);
        if (f[c->id].len == 0) {
            if ((st = prefrec_table_bad_value_(t, L, (size_t)c->id, "empty customer id", err,
                                               "empty customer id%.*s", "", 0)))
                return st;
            continue;
        }
        if (prefrec_dict_find(ds->customers, FIELD(c->id)) >= 0) {
            if ((st = prefrec_table_bad_value_(t, L, (size_t)c->id, "duplicate customer", err,
                                               "duplicate customer '%.*s'", FIELD(c->id))))
                return st;
            continue;
        }
        int g = c->gender >= 0 ? prefrec_gender_parse(FIELD(c->gender)) : PREFREC_GENDER_UNKNOWN;
        if (g == -2) {
            if ((st = prefrec_table_bad_value_(
                     t, L, (size_t)c->gender, "bad gender", err,
                     "bad gender '%.*s' (expected 남성/여성, M/F, male/female, 0/1 "
                     "or empty)",
                     FIELD(c->gender))))
                return st;
            continue;
        }
        float age = NAN;
        if (c->age >= 0 && f[c->age].len && prefrec_age_parse(FIELD(c->age), &age) != 0) {
            if ((st = prefrec_table_bad_value_(
                     t, L, (size_t)c->age, "bad age", err,
                     "bad age '%.*s' (expected e.g. 20대, 37, 25-34, 65+)", FIELD(c->age))))
                return st;
            continue;
        }
        int32_t id = prefrec_dict_intern(ds->customers, FIELD(c->id));
        if (id < 0 || prefrec_demographics_put_(ds, &cap, id, g, age))
            return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", t->path);
    }
    if (r < 0)
        st = (prefrec_status)r;
    else if (t->rows == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY, "%s:2: no customer rows (header only)",
                               t->path);
    ds->has_demographics = st == PREFREC_OK;
    return st;
}
