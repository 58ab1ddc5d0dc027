/* lpoint.c - the L.POINT layout: a directory with LPOINT_BIG_COMP_04_PD_CLAC.csv (catalog),
 * 01_DEMO.csv (customers), 02_PDDE.csv (purchase lines) and optionally 06_LPAY.csv (receipts paid
 * with Lpay). Columns are found by header name, in any order; extra columns are ignored.
 *
 * Read order: catalog, customers, purchases, Lpay, so product and customer ids follow the
 * catalog and demographics files (first-seen order) and purchase rows can be checked against
 * the catalog. A product code missing from the catalog is a bad row (an error unless
 * skip_bad_rows). Purchases of customers missing from 01 are kept (no demographics). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_internal.h"
#include "prefrec/date.h"

#define F(i) (f[i].p), (f[i].len)

/* Field text for messages, cut to 40 bytes. */
#define SHOW(i) (int)(f[i].len > 40 ? 40 : f[i].len), f[i].p

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s) return NULL;
    memcpy(s, dir, a);
    size_t o = a;
    if (a && dir[a - 1] != '/') s[o++] = '/';
    memcpy(s + o, name, b + 1);
    return s;
}

prefrec_status prefrec_lpoint_catalog_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                       prefrec_error *err) {
    int c_pd, c_nm, c_hlv, c_mcls;
    prefrec_status st;
    if ((st = prefrec_table_require_(t, "pd_c", "product code", &c_pd, err)) ||
        (st = prefrec_table_require_(t, "pd_nm", "product name", &c_nm, err)) ||
        (st = prefrec_table_require_(t, "clac_hlv_nm", "top category", &c_hlv, err)) ||
        (st = prefrec_table_require_(t, "clac_mcls_nm", "mid category", &c_mcls, err)))
        return st;
    prefrec_catalog_cols_ cols = {c_pd, c_nm, c_hlv, c_mcls};
    return prefrec_catalog_read_(t, L, ds, &cols, err);
}

prefrec_status prefrec_lpoint_demo_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                    prefrec_error *err) {
    int c_cust, c_sex, c_age;
    prefrec_status st;
    if ((st = prefrec_table_require_(t, "cust", "customer id", &c_cust, err)) ||
        (st = prefrec_table_require_(t, "ma_fem_dv", "gender", &c_sex, err)) ||
        (st = prefrec_table_require_(t, "ages", "age band", &c_age, err)))
        return st;
    prefrec_demog_cols_ cols = {c_cust, c_sex, c_age};
    return prefrec_demographics_read_(t, L, ds, &cols, err);
}

static prefrec_status load_catalog(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                   prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    st = prefrec_lpoint_catalog_(&t, L, ds, err);
    prefrec_table_close_(&t);
    return st;
}

static prefrec_status load_demo(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    st = prefrec_lpoint_demo_(&t, L, ds, err);
    prefrec_table_close_(&t);
    return st;
}

/* 06: which receipts were paid with Lpay. Receipts not among the purchases (the file also
 * covers the non-retail affiliates of 03_COP_U) are counted in n_lpay_unmatched. */
prefrec_status prefrec_lpoint_lpay_(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                    prefrec_error *err) {
    prefrec_table_ t;
    prefrec_status st = prefrec_table_open_(&t, path, err);
    if (st) return st;
    int c_rct;
    uint8_t *paid = NULL;
    if ((st = prefrec_table_require_(&t, "rct_no", "receipt", &c_rct, err))) goto done;
    int32_t nr = prefrec_dict_size(ds->receipts);
    paid = calloc(nr ? (size_t)nr : 1, 1);
    if (!paid) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    int r;
    while ((r = prefrec_table_next_(&t, L, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(t.csv);
        int32_t id = prefrec_dict_find(ds->receipts, F(c_rct));
        ds->n_lpay_rows++;
        if (id >= 0)
            paid[id] = 1;
        else
            ds->n_lpay_unmatched++;
    }
    if (r < 0) {
        st = (prefrec_status)r;
        goto done;
    }
    for (size_t i = 0; i < ds->n_rows; i++) ds->lpay[i] = paid[ds->receipt[i]];
done:
    free(paid);
    prefrec_table_close_(&t);
    return st;
}

prefrec_status prefrec_lpoint_load_(const char *dir, const prefrec_load_params *p,
                                    prefrec_dataset *ds, prefrec_error *err) {
    prefrec_loader_ L;
    prefrec_loader_init_(&L, p);
    char *f01 = join(dir, "LPOINT_BIG_COMP_01_DEMO.csv");
    char *f02 = join(dir, "LPOINT_BIG_COMP_02_PDDE.csv");
    char *f04 = join(dir, "LPOINT_BIG_COMP_04_PD_CLAC.csv");
    char *f06 = join(dir, "LPOINT_BIG_COMP_06_LPAY.csv");
    prefrec_status st = PREFREC_OK;
    if (!f01 || !f02 || !f04 || !f06) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    if (!st) st = load_catalog(f04, &L, ds, err);
    if (!st) st = load_demo(f01, &L, ds, err);
    if (!st) st = prefrec_pdde_load_(f02, &L, ds, err);
    ds->has_quantity = ds->has_amount = 1; /* buy_ct, buy_am */
    struct stat sb;
    if (!st && stat(f06, &sb) == 0) st = prefrec_lpoint_lpay_(f06, &L, ds, err);
    prefrec_loader_progress_end_(&L);
    if (!st) {
        ds->n_skipped = L.skipped;
        prefrec_loader_report_(&L);
    }
    free(f01);
    free(f02);
    free(f04);
    free(f06);
    return st;
}
