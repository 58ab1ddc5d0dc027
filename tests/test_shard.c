/* test_shard.c - the sharded load (prefrec/native/shard.h) on one rank (no MPI: a NULL dist) is
 * the ordinary load: the same rows, ids and dictionaries, plus each customer's place in the
 * one-process order; its own refusals name file and line. The N-rank runs are tests/mpi. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "prefrec/date.h"
#include "prefrec/native/dataset.h"
#include "prefrec/native/shard.h"

static char tmpdir[64];

static void same_dataset(const prefrec_dataset *a, const prefrec_dataset *b) {
    CHECK_EQ_U64(a->n_rows, b->n_rows);
    if (a->n_rows != b->n_rows) return;
    size_t n = a->n_rows;
    CHECK(!memcmp(a->customer, b->customer, n * sizeof *a->customer));
    CHECK(!memcmp(a->product, b->product, n * sizeof *a->product));
    CHECK(!memcmp(a->day, b->day, n * sizeof *a->day));
    CHECK(!memcmp(a->affiliate, b->affiliate, n));
    CHECK(!memcmp(a->quantity, b->quantity, n * sizeof *a->quantity));
    CHECK(!memcmp(a->amount, b->amount, n * sizeof *a->amount));
    CHECK(!memcmp(a->lpay, b->lpay, n));
    prefrec_dict *da[3] = {a->customers, a->products, a->affiliates};
    prefrec_dict *db[3] = {b->customers, b->products, b->affiliates};
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(prefrec_dict_size(da[k]), prefrec_dict_size(db[k]));
        for (int32_t i = 0; i < prefrec_dict_size(da[k]) && i < prefrec_dict_size(db[k]); i++)
            CHECK(!strcmp(prefrec_dict_str(da[k], i), prefrec_dict_str(db[k], i)));
    }
    CHECK_EQ_INT(a->n_customers_in_demographics, b->n_customers_in_demographics);
    CHECK_EQ_INT(a->has_catalog, b->has_catalog);
}

static void test_small(void) {
    const char *dir = PREFREC_TEST_DATA "/lpoint_small";
    prefrec_error err = {0};
    prefrec_dataset *one = NULL, *sh = NULL;
    prefrec_shard_info info;
    CHECK_EQ_INT(prefrec_dataset_load(dir, NULL, &one, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_dataset_load_sharded(dir, NULL, NULL, &sh, &info, &err), PREFREC_OK);
    if (!one || !sh) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    same_dataset(one, sh);
    /* 01_DEMO lists M001, M002, M003 (ids 0, 1, 2: their keys); M004 is first seen on the
     * purchase file's line 5, at byte 201 (the header is 62 bytes, the lines before it 47, 47
     * and 45) */
    CHECK_EQ_INT(prefrec_dict_size(sh->customers), 4);
    CHECK_EQ_U64(info.customer_key[0], 0);
    CHECK_EQ_U64(info.customer_key[2], 2);
    int32_t m4 = prefrec_dict_find(sh->customers, "M004", 4);
    CHECK_EQ_INT(m4, 3);
    if (m4 == 3) CHECK_EQ_U64(info.customer_key[3], ((uint64_t)1 << 62) + 201);
    CHECK_EQ_U64(info.rows_total, 5);
    CHECK_EQ_INT(info.day_min, prefrec_days_from_civil(2021, 1, 5));
    CHECK_EQ_INT(info.day_max, prefrec_days_from_civil(2021, 12, 31));
    CHECK_EQ_U64(info.lines_kept, 5);
    CHECK_EQ_U64(info.bytes_read, 296 - 62); /* the file (296 bytes) less its header */
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(one);
    prefrec_dataset_free(sh);
}

/* dir/<name> := text */
static void put(const char *name, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_refusals(void) {
    put("LPOINT_BIG_COMP_01_DEMO.csv", "ages,cust,zon_hlv,ma_fem_dv\n20대,M001,Z01,여성\n");
    put("LPOINT_BIG_COMP_04_PD_CLAC.csv",
        "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,배추,채소,잎채소\n");
    const char *head = "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n";
    const char *ok = "M001,R1,1,A01,A010001,PD0001,20210105,10,3000,1\n";
    char text[1024];
    prefrec_error e1 = {0}, e2 = {0};
    prefrec_dataset *ds = NULL;
    prefrec_shard_info info;

    /* a bad date on line 3: the one-process message, word for word */
    snprintf(text, sizeof text, "%s%s%s", head, ok,
             "M001,R2,1,A01,A010001,PD0001,20211345,10,3000,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv", text);
    CHECK(prefrec_dataset_load(tmpdir, NULL, &ds, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &ds, &info, &e2) != PREFREC_OK);
    CHECK(ds == NULL);
    CHECK(strstr(e1.msg, "LPOINT_BIG_COMP_02_PDDE.csv:3:") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));

    /* a quoted line break on line 3: refused, with the line */
    snprintf(text, sizeof text, "%s%s%s", head, ok,
             "M001,R2,1,A01,\"A01\n0001\",PD0001,20210105,10,3000,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv", text);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &ds, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e2.msg, "LPOINT_BIG_COMP_02_PDDE.csv:3: a quoted field holds a line break"));

    /* header only: the one-process error */
    put("LPOINT_BIG_COMP_02_PDDE.csv", head);
    CHECK(prefrec_dataset_load(tmpdir, NULL, &ds, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &ds, &info, &e2) == PREFREC_E_EMPTY);
    CHECK(!strcmp(e1.msg, e2.msg));

    /* a quoted customer code and CRLF: read, and the same as one process */
    snprintf(text, sizeof text,
             "%s\"M001\",R1,1,A01,A010001,PD0001,20210105,10,3000,1\r\n"
             "M002,R2,1,A02,A010001,PD0001,20210106,10,3000,1",
             head);
    put("LPOINT_BIG_COMP_02_PDDE.csv", text);
    prefrec_dataset *one = NULL;
    CHECK_EQ_INT(prefrec_dataset_load(tmpdir, NULL, &one, &e1), PREFREC_OK);
    CHECK_EQ_INT(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &ds, &info, &e2), PREFREC_OK);
    if (one && ds) {
        same_dataset(one, ds);
        CHECK_EQ_U64(ds->n_rows, 2);
        CHECK_EQ_U64(info.customer_key[1], ((uint64_t)1 << 62) + 62 + 51); /* M002: line 3 */
    }
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(one);
    prefrec_dataset_free(ds);
}

/* A part directory: the one-process and the sharded load read its parts, in name order, as the
 * one file whose rows they hold (a header-only part, a 0-byte file, a part without a final
 * line end, _SUCCESS skipped); a bad row is named by its part and line in both; a part with another header, or a
 * stray file, is refused by name. */
static void test_parts(void) {
    put("LPOINT_BIG_COMP_01_DEMO.csv", "ages,cust,zon_hlv,ma_fem_dv\n20대,M001,Z01,여성\n");
    put("LPOINT_BIG_COMP_04_PD_CLAC.csv",
        "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,배추,채소,잎채소\nPD0002,무,채소,뿌리채소\n");
    const char *head = "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n";
    const char *l1 = "M002,R1,1,A02,A020001,PD0001,20210105,10,3000,1\n";
    const char *l2 = "M001,R2,1,A01,A010001,PD0002,20210106,11,2000,2\n";
    const char *l3 = "M003,R3,2,A01,,PD0001,20210107,12,1000,1\n";
    char text[1024], p[300];
    prefrec_error e1 = {0}, e2 = {0};
    prefrec_dataset *one = NULL, *parts = NULL, *sh = NULL;
    prefrec_shard_info info;
    /* the single file: l1 l2 l3 */
    snprintf(text, sizeof text, "%s%s%s%s", head, l1, l2, l3);
    put("LPOINT_BIG_COMP_02_PDDE.csv", text);
    CHECK_EQ_INT(prefrec_dataset_load(tmpdir, NULL, &one, &e1), PREFREC_OK);
    /* the same rows as parts: part-0 (l1), part-1 (empty), part-2 (l2 l3, no final line end) */
    snprintf(p, sizeof p, "%s/LPOINT_BIG_COMP_02_PDDE.csv", tmpdir);
    unlink(p);
    CHECK(mkdir(p, 0777) == 0);
    snprintf(text, sizeof text, "%s%s", head, l1);
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-0.csv", text);
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-1.csv", head);
    snprintf(text, sizeof text, "%s%s%.*s", head, l2, (int)strlen(l3) - 1, l3);
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-2.csv", text);
    put("LPOINT_BIG_COMP_02_PDDE.csv/_SUCCESS", "");
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-1b.csv", ""); /* 0 bytes: no part (Spark's empty) */
    CHECK_EQ_INT(prefrec_dataset_load(tmpdir, NULL, &parts, &e1), PREFREC_OK);
    CHECK_EQ_INT(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &sh, &info, &e2), PREFREC_OK);
    if (one && parts && sh) {
        same_dataset(one, parts);
        same_dataset(one, sh);
        CHECK_EQ_U64(sh->n_rows, 3);
        /* M001 is in 01_DEMO (key 0); M002 first seen at stream offset 62 (the first part's
         * header length: its first row), M003 at 62 + 48 (l1) + 48 (l2): the rows of the parts
         * without their headers, one after another */
        CHECK_EQ_U64(info.customer_key[prefrec_dict_find(sh->customers, "M002", 4)],
                     ((uint64_t)1 << 62) + 62);
        CHECK_EQ_U64(info.customer_key[prefrec_dict_find(sh->customers, "M003", 4)],
                     ((uint64_t)1 << 62) + 62 + 48 + 48);
        CHECK_EQ_U64(info.bytes_read, 48 + 48 + 40); /* the rows (l3: 41 bytes less its LF) */
    }
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(parts);
    prefrec_dataset_free(sh);
    parts = sh = NULL;
    /* a bad hour on line 3 of part-2 (its second row): the same message, naming the part */
    snprintf(text, sizeof text, "%s%s%s", head, l2, "M003,R3,2,A01,,PD0001,20210107,25,1000,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-2.csv", text);
    CHECK(prefrec_dataset_load(tmpdir, NULL, &parts, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "LPOINT_BIG_COMP_02_PDDE.csv/part-2.csv:3:") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    /* another header in part-1 */
    snprintf(text, sizeof text, "%s%s", head, l2);
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-2.csv", text);
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-1.csv",
        "rct_no,cust,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n");
    CHECK(prefrec_dataset_load(tmpdir, NULL, &parts, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "part-1.csv:1: the header differs from the first part's") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    put("LPOINT_BIG_COMP_02_PDDE.csv/part-1.csv", head);
    /* a stray file */
    put("LPOINT_BIG_COMP_02_PDDE.csv/notes.txt", "x");
    CHECK(prefrec_dataset_load(tmpdir, NULL, &parts, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(tmpdir, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "notes.txt: not a part file") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    prefrec_dataset_free(one);
}

/* A mapping .json (the generic layout): the sharded load on one rank is the one-process load
 * (products missing from the products file numbered after it in the order of their first
 * line, the ALL affiliate, the returns rule), and its errors are the one-process messages. */
static void test_mapping(void) {
    const char *json = PREFREC_TEST_DATA "/mapping_small/mapping.json";
    prefrec_error e1 = {0}, e2 = {0};
    prefrec_dataset *one = NULL, *sh = NULL;
    prefrec_shard_info info;
    CHECK_EQ_INT(prefrec_dataset_load(json, NULL, &one, &e1), PREFREC_OK);
    CHECK_EQ_INT(prefrec_dataset_load_sharded(json, NULL, NULL, &sh, &info, &e2), PREFREC_OK);
    if (one && sh) {
        same_dataset(one, sh);
        CHECK_EQ_INT(prefrec_dict_find(sh->products, "300", 3), 2); /* not in products.csv */
        CHECK_EQ_INT(prefrec_dict_size(sh->affiliates), 1);
        CHECK(!strcmp(prefrec_dict_str(sh->affiliates, 0), "ALL"));
        CHECK_EQ_INT(sh->has_quantity, one->has_quantity);
        CHECK_EQ_INT(sh->has_amount, one->has_amount);
        int32_t c9 = prefrec_dict_find(sh->customers, "9", 1); /* not in demo.csv */
        CHECK_EQ_INT(c9, 3);
        if (c9 == 3) CHECK(info.customer_key[3] > ((uint64_t)1 << 62));
        CHECK_EQ_U64(info.customer_key[1], 1);
    }
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(one);
    prefrec_dataset_free(sh);
    one = sh = NULL;

    /* no products file: every product in the order of its first line; a return netted away */
    put("m.json",
        "{\"transactions\": {\"path\": \"t.csv\", \"customer\": \"c\", \"product\": "
        "\"p\", \"time\": \"d\", \"quantity\": \"q\", \"receipt\": \"r\", "
        "\"affiliate\": \"a\"}}");
    put("t.csv",
        "c,p,d,q,r,a\r\nX,P9,2021-01-02,1,R1,S2\r\nY,P3,2021-01-03,2,R2,S1\r\n"
        "X,P9,2021-01-02,-1,R1,S2\r\nZ,\"P1\",2021-01-04,0,R3,S1\r\nY,P9,2021-01-05,1,R4,S1");
    char path[128];
    snprintf(path, sizeof path, "%s/m.json", tmpdir);
    CHECK_EQ_INT(prefrec_dataset_load(path, NULL, &one, &e1), PREFREC_OK);
    CHECK_EQ_INT(prefrec_dataset_load_sharded(path, NULL, NULL, &sh, &info, &e2), PREFREC_OK);
    if (one && sh) {
        same_dataset(one, sh);
        CHECK_EQ_INT(prefrec_dict_find(sh->products, "P1", 2), 2);
        CHECK(!strcmp(prefrec_dict_str(sh->affiliates, 0), "S2"));
        CHECK_EQ_U64(sh->n_rows, 2); /* P9 bought and returned in R1, a zero line: dropped */
        CHECK_EQ_U64(sh->n_zero_lines, one->n_zero_lines);
        CHECK_EQ_U64(sh->n_cancelled_lines, one->n_cancelled_lines);
        CHECK_EQ_U64(sh->n_return_lines, 1);
    }
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(one);
    prefrec_dataset_free(sh);
    one = sh = NULL;

    /* a bad time on line 4, a missing column, a bad time format: the one-process messages */
    put("t.csv",
        "c,p,d,q,r,a\nX,P9,2021-01-02,1,R1,S2\nY,P3,2021-01-03,2,R2,S1\n"
        "X,P9,2021-02-30,1,R1,S2\n");
    CHECK(prefrec_dataset_load(path, NULL, &one, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(path, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "t.csv:4:") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    put("t.csv", "c,p,day,q,r,a\nX,P9,2021-01-02,1,R1,S2\n");
    CHECK(prefrec_dataset_load(path, NULL, &one, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(path, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "no column 'd'") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    put("t.csv", "c,p,d,q,r,a\n");
    CHECK(prefrec_dataset_load(path, NULL, &one, &e1) == PREFREC_E_EMPTY);
    CHECK(prefrec_dataset_load_sharded(path, NULL, NULL, &sh, &info, &e2) == PREFREC_E_EMPTY);
    CHECK(!strcmp(e1.msg, e2.msg));
    put("m.json",
        "{\"transactions\": {\"path\": \"t.csv\", \"customer\": \"c\", \"product\": "
        "\"p\", \"time\": \"d\", \"time_format\": \"%Y-%q\"}}");
    CHECK(prefrec_dataset_load(path, NULL, &one, &e1) != PREFREC_OK);
    CHECK(prefrec_dataset_load_sharded(path, NULL, NULL, &sh, &info, &e2) != PREFREC_OK);
    CHECK(strstr(e1.msg, "time_format") != NULL);
    CHECK(!strcmp(e1.msg, e2.msg));
    CHECK(one == NULL && sh == NULL);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prefrec_test_shard.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_small();
    test_refusals();
    test_parts();
    test_mapping();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    printf("test_shard: %d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ != 0;
}
