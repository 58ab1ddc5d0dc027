/* test_gen.c - the demo data generator: same seed same bytes, the L.POINT layout and value
 * domains, the shapes (proportions, themes, seasonality) and that `prefrec info` reads it.
 * Every check re-reads the written files, independently of the generator's own counters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/gen.h"
#include "prefrec/native/score.h"

static char *slurp(const char *dir, int i, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, prefrec_gen_file_name(i));
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    if (b) b[n] = 0;
    *len = (size_t)n;
    return b;
}

/* Split line (modified in place) on commas; returns the field count (no quoting used). */
static int split(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == ',') {
            *p = 0;
            if (n < max)
                f[n++] = p + 1;
            else
                return max + 1;
        }
    return n;
}

static int is_digits(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static void rm_dir(const char *dir) {
    char path[512];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, prefrec_gen_file_name(i));
        unlink(path);
    }
    rmdir(dir);
}

static const char *const ELECTRONICS[] = {"컴퓨터",   "모바일",        "생활/주방가전",
                                          "계절가전", "영상/음향가전", "이미용가전"};

#define MAXP 2000
#define MAXC 400
typedef struct pair_key {
    int cust, aff, prod;
    int early, late;
} pair_key;

static void check_files(const char *dir, const prefrec_gen_summary *s) {
    size_t len;
    /* ---- 04: catalog ---- */
    char *cat = slurp(dir, 2, &len);
    CHECK(cat != NULL);
    if (!cat) return;
    CHECK(!memchr(cat, '"', len));
    CHECK(!(len >= 3 && (unsigned char)cat[0] == 0xEF)); /* no BOM */
    static char tops[MAXP][64], mids[MAXP][96];
    static int electronic[MAXP];
    int n_prod = 0, bad = 0;
    char *save = NULL, *line = strtok_r(cat, "\n", &save);
    CHECK_STR(line, "pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm");
    while ((line = strtok_r(NULL, "\n", &save)) && n_prod < MAXP) {
        char *f[8];
        if (split(line, f, 4) != 4) {
            bad++;
            continue;
        }
        char want[16];
        snprintf(want, sizeof want, "PD%04d", n_prod + 1);
        bad += strcmp(f[0], want) != 0 || !*f[1];
        snprintf(tops[n_prod], sizeof tops[0], "%s", f[2]);
        snprintf(mids[n_prod], sizeof mids[0], "%s|%s", f[2], f[3]);
        electronic[n_prod] = 0;
        for (int e = 0; e < 6; e++) electronic[n_prod] |= !strcmp(f[2], ELECTRONICS[e]);
        n_prod++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(n_prod, 1933);
    int n_top = 0, n_mid = 0, biggest = 0, smallest = 1 << 30;
    for (int i = 0; i < n_prod; i++) {
        int first_t = 1, first_m = 1, size = 0;
        for (int j = 0; j < n_prod; j++) {
            if (j < i && !strcmp(tops[j], tops[i])) first_t = 0;
            if (j < i && !strcmp(mids[j], mids[i])) first_m = 0;
            size += !strcmp(tops[j], tops[i]);
        }
        n_top += first_t;
        n_mid += first_m;
        if (first_t && size > biggest) biggest = size;
        if (first_t && size < smallest) smallest = size;
    }
    CHECK_EQ_INT(n_top, 60);
    CHECK_EQ_INT(n_mid, 349);
    CHECK_EQ_INT(biggest, 130);
    CHECK_EQ_INT(smallest, 1);
    free(cat);

    /* ---- 01: customers ---- */
    char *demo = slurp(dir, 0, &len);
    CHECK(demo != NULL);
    if (!demo) return;
    static char ids[MAXC][11];
    int n_cust = 0, female = 0;
    bad = 0;
    line = strtok_r(demo, "\n", &save);
    CHECK_STR(line, "cust,ma_fem_dv,ages,zon_hlv");
    while ((line = strtok_r(NULL, "\n", &save)) && n_cust < MAXC) {
        char *f[8];
        if (split(line, f, 4) != 4) {
            bad++;
            continue;
        }
        bad += !(f[0][0] == 'M' && is_digits(f[0] + 1, 9));
        snprintf(ids[n_cust], sizeof ids[0], "%s", f[0]);
        female += !strcmp(f[1], "여성");
        bad += strcmp(f[1], "여성") && strcmp(f[1], "남성");
        int age_ok = 0;
        for (int a = 2; a <= 7; a++) {
            char b[16];
            snprintf(b, sizeof b, "%d0대", a);
            age_ok |= !strcmp(f[2], b);
        }
        bad += !age_ok;
        bad += !(f[3][0] == 'Z' && is_digits(f[3] + 1, 2) && atoi(f[3] + 1) >= 1 &&
                 atoi(f[3] + 1) <= 17);
        n_cust++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(n_cust, 299); /* round(29,913 x 0.01) */
    CHECK_EQ_INT(s->customers, n_cust);
    CHECK(female > 0.55 * n_cust && female < 0.78 * n_cust);
    int dup = 0;
    for (int i = 0; i < n_cust; i++)
        for (int j = 0; j < i; j++) dup += !strcmp(ids[i], ids[j]);
    CHECK_EQ_INT(dup, 0);
    free(demo);

    /* ---- 02: purchase lines ---- */
    char *pd = slurp(dir, 1, &len);
    CHECK(pd != NULL);
    if (!pd) return;
    int64_t rows = 0, ct1 = 0, aff_rows[6] = {0}, receipts = 0, a06_month[13] = {0};
    int bad_domain = 0, bad_branch = 0, bad_a05 = 0, bad_a06 = 0, bad_a04 = 0, bad_rct = 0;
    static int bought_by[MAXC];
    memset(bought_by, 0, sizeof bought_by);
    char last_rct[16] = "", last_key[64] = "";
    pair_key *pairs = calloc(200000, sizeof *pairs);
    int n_pairs = 0;
    /* receipts with their totals, to check 06 against */
    typedef struct {
        char rct[13];
        char key[48];
        int64_t amount;
    } rct_t;
    rct_t *rcts = calloc(60000, sizeof *rcts);
    line = strtok_r(pd, "\n", &save);
    CHECK_STR(line, "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct");
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[12];
        if (split(line, f, 10) != 10) {
            bad_domain++;
            continue;
        }
        rows++;
        int ci = -1;
        for (int i = 0; i < n_cust; i++)
            if (!strcmp(ids[i], f[0])) {
                ci = i;
                break;
            }
        int a = (f[3][0] == 'A' && f[3][1] == '0' && f[3][2] >= '1' && f[3][2] <= '6' && !f[3][3])
            ? f[3][2] - '1'
            : -1;
        int32_t day;
        int date_ok = strlen(f[6]) == 8 && prefrec_date_parse(f[6], 8, &day) == 0 &&
            !strncmp(f[6], "2021", 4);
        int hr = atoi(f[7]);
        int prod =
            (f[5][0] == 'P' && f[5][1] == 'D' && is_digits(f[5] + 2, 4)) ? atoi(f[5] + 2) - 1 : -1;
        if (ci < 0 || a < 0 || !date_ok || !is_digits(f[7], strlen(f[7])) || hr < 0 || hr > 23 ||
            prod < 0 || prod >= n_prod || atol(f[8]) <= 0 || atoi(f[9]) < 1 ||
            (strcmp(f[2], "1") && strcmp(f[2], "2"))) {
            bad_domain++;
            continue;
        }
        bought_by[ci] = 1;
        int online = f[2][0] == '2';
        bad_branch +=
            online ? f[4][0] != 0 : !(strncmp(f[4], f[3], 3) == 0 && is_digits(f[4] + 3, 4));
        bad_a06 += a == 5 && !online;
        bad_a04 += a == 3 && online;
        bad_a05 += a == 4 && !electronic[prod];
        bad_rct += !(strncmp(f[1], f[3], 3) == 0 && is_digits(f[1] + 3, 9));
        aff_rows[a]++;
        ct1 += !strcmp(f[9], "1");
        int month = (f[6][4] - '0') * 10 + (f[6][5] - '0');
        if (a == 5) a06_month[month]++;
        /* a receipt's lines are contiguous and share customer, channel, affiliate, date, hour */
        char key[64];
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s", f[0], f[2], f[3], f[6], f[7]);
        if (strcmp(f[1], last_rct)) {
            snprintf(last_rct, sizeof last_rct, "%s", f[1]);
            snprintf(last_key, sizeof last_key, "%s", key);
            if (receipts < 60000) {
                snprintf(rcts[receipts].rct, 13, "%s", f[1]);
                snprintf(rcts[receipts].key, 48, "%s|%s|%s|%s|%s", f[0], f[3], f[2], f[6], f[7]);
            }
            receipts++;
        } else
            bad_rct += strcmp(key, last_key) != 0;
        if (receipts <= 60000) rcts[receipts - 1].amount += atol(f[8]);
        /* (customer, affiliate, product): bought in Jan-Sep / Oct-Dec */
        int pi = -1;
        for (int i = n_pairs - 1; i >= 0 && pairs[i].cust == ci; i--)
            if (pairs[i].aff == a && pairs[i].prod == prod) {
                pi = i;
                break;
            }
        if (pi < 0 && n_pairs < 200000) {
            pi = n_pairs++;
            pairs[pi] = (pair_key){ci, a, prod, 0, 0};
        }
        if (pi >= 0) {
            if (month <= 9)
                pairs[pi].early++;
            else
                pairs[pi].late++;
        }
    }
    CHECK_EQ_INT(bad_domain, 0);
    CHECK_EQ_INT(bad_branch, 0);
    CHECK_EQ_INT(bad_a06, 0);
    CHECK_EQ_INT(bad_a04, 0);
    CHECK_EQ_INT(bad_a05, 0);
    CHECK_EQ_INT(bad_rct, 0);
    CHECK_EQ_INT(rows, s->rows);
    CHECK_EQ_INT(receipts, s->receipts);
    int buyers = 0;
    for (int i = 0; i < n_cust; i++) buyers += bought_by[i];
    CHECK_EQ_INT(buyers, s->buyers);
    CHECK(buyers > 0.8 * n_cust && buyers < 0.97 * n_cust); /* real: 26,917 of 29,913 */
    /* shapes: scale 0.01 of about 4.4 M lines; buy_ct 1 in about 85%; several lines a receipt */
    CHECK(rows > 25000 && rows < 70000);
    CHECK(ct1 > 0.78 * rows && ct1 < 0.92 * rows);
    CHECK(rows > 2.0 * receipts && rows < 5.0 * receipts);
    double sh[6];
    for (int a = 0; a < 6; a++) sh[a] = (double)aff_rows[a] / (double)(rows ? rows : 1);
    CHECK(sh[1] > 0.40 && sh[1] < 0.65); /* A02 0.54 */
    CHECK(sh[2] > 0.12 && sh[2] < 0.30); /* A03 0.21 */
    CHECK(sh[0] > 0.08 && sh[0] < 0.25); /* A01 0.16 */
    CHECK(sh[3] > 0.03 && sh[3] < 0.12); /* A04 0.07 */
    CHECK(sh[5] > 0.005 && sh[5] < 0.05); /* A06 0.018 */
    CHECK(sh[4] > 0.0 && sh[4] < 0.01); /* A05 0.002 */
    /* A06 falls sharply from June */
    double early = 0, late = 0;
    for (int m = 1; m <= 5; m++) early += a06_month[m] / 5.0;
    for (int m = 6; m <= 12; m++) late += a06_month[m] / 7.0;
    CHECK(early > 1.5 * late);
    /* repurchase structure: pairs bought 4+ times in Jan-Sep come back in Oct-Dec far more
     * often than pairs bought once */
    int n1 = 0, r1 = 0, n4 = 0, r4 = 0;
    for (int i = 0; i < n_pairs; i++) {
        if (pairs[i].early == 1) n1++, r1 += pairs[i].late > 0;
        if (pairs[i].early >= 4) n4++, r4 += pairs[i].late > 0;
    }
    CHECK(n1 > 100 && n4 > 100);
    if (n1 && n4) CHECK((double)r4 / n4 > 2.5 * ((double)r1 / n1));
    free(pd);

    /* ---- 06: Lpay receipts match their 02 receipts ---- */
    char *lp = slurp(dir, 3, &len);
    CHECK(lp != NULL);
    if (!lp) return;
    int64_t n_lpay = 0, a04_month[13] = {0};
    int bad_lpay = 0;
    int64_t ri = 0; /* 06 is in the same order as 02 */
    line = strtok_r(lp, "\n", &save);
    CHECK_STR(line, "cust,rct_no,cop_c,chnl_dv,de_dt,de_hr,buy_am");
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *f[10];
        if (split(line, f, 7) != 7) {
            bad_lpay++;
            continue;
        }
        n_lpay++;
        while (ri < receipts && ri < 60000 && strcmp(rcts[ri].rct, f[1])) ri++;
        if (ri >= receipts || ri >= 60000) {
            bad_lpay++;
            continue;
        }
        char key[48];
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s", f[0], f[2], f[3], f[4], f[5]);
        bad_lpay += strcmp(key, rcts[ri].key) != 0 || atol(f[6]) != rcts[ri].amount;
        if (!strcmp(f[2], "A04")) a04_month[(f[4][4] - '0') * 10 + (f[4][5] - '0')]++;
    }
    CHECK_EQ_INT(bad_lpay, 0);
    CHECK_EQ_INT(n_lpay, s->lpay_rows);
    CHECK(n_lpay > 0.1 * receipts && n_lpay < 0.4 * receipts);
    double other = 0;
    for (int m = 1; m <= 11; m++) other += a04_month[m] / 11.0;
    CHECK(a04_month[12] > 2.5 * other); /* the December Lpay promotion at A04 */
    free(lp);
    free(pairs);
    free(rcts);
}

/* The seed's premise, on generated data (issue 3): the share of (customer, product) pairs bought
 * again in Oct-Dec rises with the score threshold from 2.5 up. Pooled over A01-A04 (at scale
 * 0.05 a single affiliate has too few pairs above 4.5 for a stable rate); each of A01-A04 must
 * rise from 2.5 to 4.0 on its own. Measured over seeds 1-12 at this scale: the pooled rise held
 * for 11 (seed 9: 0.947 -> 0.939 at 4.5), the per-affiliate one for 11 (seed 9: A03 at 4.0). */
static void check_repurchase_rises(void) {
    char dir[] = "/tmp/prefrec_gen_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    prefrec_gen_params p = prefrec_gen_default_params();
    p.scale = 0.05;
    p.seed = 7;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_gen_write(dir, &p, NULL, &err), PREFREC_OK);
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *ds = NULL;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &ds, &err), PREFREC_OK);
    prefrec_score_params sp = prefrec_score_default_params();
    prefrec_validation *v = NULL;
    if (ds)
        CHECK_EQ_INT(prefrec_validate_compute(ds, &sp, prefrec_days_from_civil(2021, 10, 1),
                                              prefrec_days_from_civil(2022, 1, 1), -1, &v, &err),
                     PREFREC_OK);
    if (v) {
        int64_t pairs[PREFREC_VALIDATE_THRESHOLDS] = {0}, bought[PREFREC_VALIDATE_THRESHOLDS] = {0};
        int seen = 0;
        for (size_t i = 0; i < v->n_rows; i++) {
            const char *code = prefrec_dict_str(ds->affiliates, v->rows[i].affiliate);
            if (strcmp(code, "A01") < 0 || strcmp(code, "A04") > 0) continue;
            seen++;
            const prefrec_validate_row *row = &v->rows[i];
            for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++) {
                pairs[t] += row->pairs[t];
                bought[t] += row->bought[t];
            }
            /* thresholds 2.5, 3.0, 3.5, 4.0 are indices 5..8 */
            for (int t = 6; t <= 8; t++) {
                CHECK(row->pairs[t] >= 20);
                if (row->pairs[t] && row->pairs[t - 1])
                    CHECK((double)row->bought[t] / row->pairs[t] >
                          (double)row->bought[t - 1] / row->pairs[t - 1]);
            }
        }
        CHECK_EQ_INT(seen, 4);
        CHECK(pairs[9] >= 50);
        for (int t = 6; t < PREFREC_VALIDATE_THRESHOLDS; t++)
            if (pairs[t] && pairs[t - 1])
                CHECK((double)bought[t] / pairs[t] > (double)bought[t - 1] / pairs[t - 1]);
        /* and the score separates: about a quarter of all pairs come back, most above 4 */
        CHECK((double)bought[0] / pairs[0] < 0.4);
        CHECK((double)bought[8] / pairs[8] > 0.8);
    }
    prefrec_validation_free(v);
    prefrec_dataset_free(ds);
    rm_dir(dir);
}

static int same_files(const char *d1, const char *d2, int i) {
    size_t l1, l2;
    char *a = slurp(d1, i, &l1), *b = slurp(d2, i, &l2);
    int same = a && b && l1 == l2 && memcmp(a, b, l1) == 0;
    free(a);
    free(b);
    return same;
}

int main(void) {
    char d1[] = "/tmp/prefrec_gen_XXXXXX", d2[] = "/tmp/prefrec_gen_XXXXXX",
         d3[] = "/tmp/prefrec_gen_XXXXXX", d4[] = "/tmp/prefrec_gen_XXXXXX";
    CHECK(mkdtemp(d1) && mkdtemp(d2) && mkdtemp(d3) && mkdtemp(d4));
    prefrec_gen_params p = prefrec_gen_default_params();
    p.scale = 0.01;
    p.seed = 7;
    prefrec_gen_summary s1, s2, s3;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_gen_write(d1, &p, &s1, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_gen_write(d2, &p, &s2, &err), PREFREC_OK);
    for (int i = 0; i < 4; i++) CHECK(same_files(d1, d2, i));
    CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
    p.seed = 8;
    CHECK_EQ_INT(prefrec_gen_write(d3, &p, &s3, &err), PREFREC_OK);
    CHECK(!same_files(d1, d3, 1));
    CHECK(!same_files(d1, d3, 0));
    CHECK(same_files(d1, d3, 2)); /* the catalog (names, categories) does not depend on the seed */
    CHECK_EQ_INT(s1.products, 1933);
    CHECK_EQ_INT(s1.top_categories, 60);
    CHECK_EQ_INT(s1.mid_categories, 349);
    check_files(d1, &s1);

    /* the CLI writes the same bytes, and `prefrec info` reads them */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s gen --out %s --scale 0.01 --seed 7 --quiet", PREFREC_CLI, d4);
    CHECK_EQ_INT(system(cmd), 0);
    for (int i = 0; i < 4; i++) CHECK(same_files(d1, d4, i));
    snprintf(cmd, sizeof cmd, "%s info --data %s --json 2>/dev/null", PREFREC_CLI, d1);
    FILE *f = popen(cmd, "r");
    char out[8192] = "";
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    int rc = f ? pclose(f) : -1;
    CHECK_EQ_INT(rc, 0);
    char want[64];
    snprintf(want, sizeof want, "\"rows\":\t%lld", (long long)s1.rows);
    CHECK_CONTAINS(out, want);
    snprintf(want, sizeof want, "\"receipts\":\t%lld", (long long)s1.receipts);
    CHECK_CONTAINS(out, want);

    /* a larger catalog (gen --products): the same customers (the demographics file is the
     * same bytes), 12,000 products in the same 60 / 349 categories, 5-digit product codes */
    p.seed = 7;
    p.products = 12000;
    prefrec_gen_summary s5;
    CHECK_EQ_INT(prefrec_gen_write(d3, &p, &s5, &err), PREFREC_OK);
    CHECK_EQ_INT(s5.products, 12000);
    CHECK_EQ_INT(s5.top_categories, 60);
    CHECK_EQ_INT(s5.mid_categories, 349);
    CHECK_EQ_INT(s5.customers, s1.customers);
    CHECK(same_files(d1, d3, 0));
    size_t clen = 0;
    char *catalog = slurp(d3, 2, &clen);
    CHECK(catalog && strstr(catalog, "\nPD00001,") && strstr(catalog, "\nPD12000,"));
    CHECK(catalog && !strstr(catalog, "\nPD12001,"));
    free(catalog);
    p.products = 50;
    CHECK_EQ_INT(prefrec_gen_write(d3, &p, NULL, &err), PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg, "products");
    p.products = 0;

    /* bad arguments */
    p.scale = 0;
    CHECK_EQ_INT(prefrec_gen_write(d1, &p, NULL, &err), PREFREC_E_INVAL);
    CHECK_CONTAINS(err.msg, "scale");
    p.scale = 0.01;
    char blocked[600];
    snprintf(blocked, sizeof blocked, "%s/%s/sub", d1, prefrec_gen_file_name(0)); /* under a file */
    CHECK_EQ_INT(prefrec_gen_write(blocked, &p, NULL, &err), PREFREC_E_IO);
    CHECK_CONTAINS(err.msg, prefrec_gen_file_name(0));
    snprintf(cmd, sizeof cmd, "%s gen --out %s --scale abc 2>/dev/null", PREFREC_CLI, d4);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "%s gen --scale 0.01 2>/dev/null", PREFREC_CLI);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);

    rm_dir(d1);
    rm_dir(d2);
    rm_dir(d3);
    rm_dir(d4);
    check_repurchase_rises();
    return check_report("test_gen");
}
