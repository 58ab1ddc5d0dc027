/* test_ingest.c - the fast ingest paths give exactly the plain results:
 *   - a dictionary indexed by number pages (keymap.c) gives the ids and finds of a plain one,
 *     for dense, sparse and non-numbered keys;
 *   - the purchase file parsed by two threads gives byte-identical columns and dictionaries to
 *     one thread, and the same errors, skipped-row counts and messages, also when the helper's
 *     work must be dropped (bad rows in the second part, a cut inside a quoted field, CRLF);
 *   - the same on a generated data set through prefrec_dataset_load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "data/dataset_internal.h"
#include "prefrec/native/dataset.h"
#include "prefrec/rng.h"

/* ---- keymap ------------------------------------------------------------------------------- */

static void test_keymap(void) {
    prefrec_dict *km = prefrec_dict_new(), *plain = prefrec_dict_new();
    CHECK(km && plain);
    CHECK_EQ_INT(prefrec_dict_use_keymap_(km), 0);
    CHECK_EQ_INT(prefrec_dict_use_keymap_(km), -1); /* only once */
    prefrec_rng r;
    prefrec_rng_init(&r, 7, 0);
    char buf[64];
    int same = 1, n = 0;
    for (int i = 0; i < 200000; i++) {
        int len, kind = (int)prefrec_rng_below(&r, 10);
        if (kind < 5) /* dense receipt numbers of 6 affiliates, repeats */
            len = snprintf(buf, sizeof buf, "A%02d%09d", 1 + (int)prefrec_rng_below(&r, 6),
                           i / 3 + (int)prefrec_rng_below(&r, 5));
        else if (kind == 5) /* sparse numbers: pages run over the budget */
            len = snprintf(buf, sizeof buf, "R%llu",
                           (unsigned long long)(prefrec_rng_u64(&r) % 1000000000000ull));
        else if (kind == 6) /* same digits, other widths: "B7" "B07" "B007" are three keys */
            len = snprintf(buf, sizeof buf, "B%0*d", 1 + (int)prefrec_rng_below(&r, 3),
                           (int)prefrec_rng_below(&r, 9));
        else if (kind == 7) /* not numbered, or digits only, or more than 18 digits */
            len = prefrec_rng_below(&r, 2)
                ? snprintf(buf, sizeof buf, "x%dy", (int)prefrec_rng_below(&r, 500))
                : snprintf(buf, sizeof buf, "%d12345678901234567890",
                           (int)prefrec_rng_below(&r, 50));
        else if (kind == 8) /* a prefix over 16 bytes */
            len =
                snprintf(buf, sizeof buf, "a-very-long-prefix-%d", (int)prefrec_rng_below(&r, 300));
        else /* more than 64 prefixes */
            len = snprintf(buf, sizeof buf, "P%dq%d", (int)prefrec_rng_below(&r, 100),
                           (int)prefrec_rng_below(&r, 100));
        int32_t a = prefrec_dict_intern(km, buf, (size_t)len),
                b = prefrec_dict_intern(plain, buf, (size_t)len);
        same &= a == b && a >= 0;
        n++;
    }
    CHECK(same);
    CHECK_EQ_INT(prefrec_dict_size(km), prefrec_dict_size(plain));
    same = 1;
    for (int32_t i = 0; i < prefrec_dict_size(plain); i++) {
        const char *s = prefrec_dict_str(plain, i);
        same &= strcmp(prefrec_dict_str(km, i), s) == 0;
        same &= prefrec_dict_find(km, s, strlen(s)) == i;
    }
    CHECK(same);
    /* absent keys of every shape */
    const char *absent[] = {"A01999999999", "A07000000001", "R1", "B0000", "x9999y", "zzz", ""};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        CHECK_EQ_INT(prefrec_dict_find(km, absent[i], strlen(absent[i])),
                     prefrec_dict_find(plain, absent[i], strlen(absent[i])));
    CHECK_EQ_INT(prefrec_dict_find(km, "A01999999999", 12), -1);
    (void)n;
    prefrec_dict_free(km);
    prefrec_dict_free(plain);
}

/* ---- two threads on crafted purchase files --------------------------------------------------- */

#define NPROD 120

static char tmpdir[256];

static void put(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* Purchase lines as L.POINT has them: customers one after another, each with receipts of a few
 * lines; receipt numbers running per affiliate. eol: "\n" or "\r\n". */
static char *purchases(int rows, uint64_t seed, const char *eol, int naff) {
    size_t cap = (size_t)rows * 96 + 256, o = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    o += (size_t)snprintf(s, cap, "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct%s",
                          eol);
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 1);
    int cust = 0, left_cust = 0, left_rct = 0, aff = 1, br = 0, day = 1, hour = 9;
    long next_rct[300] = {0};
    long rct = 0;
    for (int i = 0; i < rows; i++) {
        if (left_cust == 0) {
            cust += 1 + (int)prefrec_rng_below(&r, 3);
            left_cust = 5 + (int)prefrec_rng_below(&r, 60);
            left_rct = 0;
        }
        if (left_rct == 0) {
            aff = 1 + (int)prefrec_rng_below(&r, (uint64_t)naff);
            rct = ++next_rct[aff];
            br = (int)prefrec_rng_below(&r, 40);
            day = 1 + (int)prefrec_rng_below(&r, 28);
            hour = (int)prefrec_rng_below(&r, 24);
            left_rct = 1 + (int)prefrec_rng_below(&r, 6);
        }
        int online = aff == 6;
        char branch[16] = "";
        if (!online) snprintf(branch, sizeof branch, "B%c%d", 'a' + br % 26, br / 26);
        int prod = (int)prefrec_rng_below(&r, NPROD);
        long am = (long)(100 * (1 + prefrec_rng_below(&r, 500)));
        int ct = 1 + (int)prefrec_rng_below(&r, 3);
        o += (size_t)snprintf(
            s + o, cap - o, "M%09d,A%02d%09ld,%d,A%02d,%s,PD%04d,2021%02d%02d,%d,%ld,%d%s", cust,
            aff, rct, online ? 2 : 1, aff, branch, prod, 1 + day % 12, day, hour, am, ct, eol);
        left_cust--;
        left_rct--;
    }
    return s;
}

/* A dataset ready for the purchase file: the catalog's codes, nothing else. */
static prefrec_dataset *with_catalog(void) {
    prefrec_dataset *ds = prefrec_dataset_new(0);
    char code[16];
    for (int p = 0; p < NPROD; p++) {
        int n = snprintf(code, sizeof code, "PD%04d", p);
        prefrec_dict_intern(ds->products, code, (size_t)n);
    }
    return ds;
}

typedef struct {
    prefrec_dataset *ds;
    prefrec_status st;
    prefrec_error err;
    prefrec_loader_ L;
} run_;

static run_ load_pdde(int threads, int skip) {
    run_ r;
    memset(&r, 0, sizeof r);
    static prefrec_load_params lp[2];
    int k = threads == 2;
    lp[k] = prefrec_load_default_params();
    lp[k].threads = threads;
    lp[k].skip_bad_rows = skip;
    prefrec_loader_init_(&r.L, &lp[k]);
    r.ds = with_catalog();
    char path[512];
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_02_PDDE.csv", tmpdir);
    r.st = prefrec_pdde_load_(path, &r.L, r.ds, &r.err);
    return r;
}

static int same_dict(const prefrec_dict *a, const prefrec_dict *b) {
    if (prefrec_dict_size(a) != prefrec_dict_size(b)) return 0;
    for (int32_t i = 0; i < prefrec_dict_size(a); i++) {
        size_t n = prefrec_dict_len_(a, i);
        if (prefrec_dict_len_(b, i) != n ||
            memcmp(prefrec_dict_str(a, i), prefrec_dict_str(b, i), n))
            return 0;
        if (prefrec_dict_find(b, prefrec_dict_str(a, i), n) != i) return 0;
    }
    return 1;
}

/* Every column and every dictionary byte for byte. */
static int same_dataset(const prefrec_dataset *a, const prefrec_dataset *b) {
    size_t n = a->n_rows;
    if (b->n_rows != n) return 0;
#define SAME_COL(c) (memcmp(a->c, b->c, n * sizeof *a->c) == 0)
    int cols = SAME_COL(customer) && SAME_COL(product) && SAME_COL(day) && SAME_COL(hour) &&
        SAME_COL(affiliate) && SAME_COL(receipt) && SAME_COL(quantity) && SAME_COL(amount) &&
        SAME_COL(channel) && SAME_COL(lpay) && SAME_COL(branch);
#undef SAME_COL
    return cols && same_dict(a->customers, b->customers) && same_dict(a->products, b->products) &&
        same_dict(a->affiliates, b->affiliates) && same_dict(a->receipts, b->receipts) &&
        same_dict(a->branches, b->branches);
}

/* Load the current file with one and two threads; both must agree on everything. Returns the
 * parts the two-thread load used. */
static int compare_threads(const char *what, int skip) {
    run_ one = load_pdde(1, skip), two = load_pdde(2, skip);
    int ok = one.st == two.st && one.L.parts == 1;
    if (one.st == PREFREC_OK)
        ok &= same_dataset(one.ds, two.ds);
    else
        ok &= strcmp(one.err.msg, two.err.msg) == 0 && one.err.msg[0];
    ok &= one.L.skipped == two.L.skipped && one.L.nreasons == two.L.nreasons;
    for (int k = 0; k < one.L.nreasons && k < two.L.nreasons; k++)
        ok &= one.L.reasons[k].n == two.L.reasons[k].n &&
            strcmp(one.L.reasons[k].example, two.L.reasons[k].example) == 0;
    if (!ok)
        fprintf(stderr, "test_ingest: %s: one and two threads differ (%s | %s)\n", what,
                one.err.msg, two.err.msg);
    CHECK(ok);
    int parts = two.L.parts;
    prefrec_dataset_free(one.ds);
    prefrec_dataset_free(two.ds);
    return parts;
}

/* Replace line `line` (1-based, the header is line 1) of text s by repl. Returns a new string. */
static char *replace_line(const char *s, int line, const char *repl) {
    const char *a = s;
    for (int l = 1; l < line && a; l++) a = strchr(a, '\n') ? strchr(a, '\n') + 1 : NULL;
    if (!a) return NULL;
    const char *b = strchr(a, '\n');
    b = b ? b + 1 : a + strlen(a);
    size_t n = strlen(s) + strlen(repl) + 1;
    char *o = malloc(n);
    if (!o) return NULL;
    snprintf(o, n, "%.*s%s%s", (int)(a - s), s, repl, b);
    return o;
}

static void test_threads(void) {
    const int rows = 20000;
    char *clean = purchases(rows, 11, "\n", 6);
    CHECK(clean != NULL);
    if (!clean) return;
    /* clean LF file: the helper's work is used */
    put("LPOINT_BIG_COMP_02_PDDE.csv", clean);
    CHECK_EQ_INT(compare_threads("clean", 0), 2);
    run_ one = load_pdde(1, 0);
    CHECK_EQ_INT(one.st, PREFREC_OK);
    CHECK_EQ_INT(one.ds->n_rows, rows);
    prefrec_dataset_free(one.ds);

    /* CRLF: the line-end bound counts CR and LF, so the helper's rows are moved down */
    char *crlf = purchases(rows, 11, "\r\n", 6);
    put("LPOINT_BIG_COMP_02_PDDE.csv", crlf);
    CHECK_EQ_INT(compare_threads("crlf", 0), 2);
    free(crlf);

    /* skipped bad rows in the first part: merged, with a gap closed */
    char *t1 =
        replace_line(clean, 100, "M000000001,A01000000001,1,A01,Ba0,PD0001,20211399,9,100,1\n");
    char *t2 =
        replace_line(t1, 4000, "M000000001,A01000000001,1,A01,Ba0,PX0001,20210101,9,100,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv", t2);
    CHECK_EQ_INT(compare_threads("bad rows, first part, skipped", 1), 2);
    CHECK(compare_threads("bad rows, first part, not skipped", 0) >= 1);
    free(t1);
    free(t2);

    /* a bad row in the second part: the helper gives up, one thread reports / skips it */
    t1 = replace_line(clean, rows - 50,
                      "M000000001,A01000000001,1,A01,Ba0,PD0001,20210101,25,100,1\n");
    t2 = replace_line(t1, rows - 40, "M000000001,A01000000001,1,A01,Ba0,PD0001,20210101,9,1e,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv", t2);
    CHECK_EQ_INT(compare_threads("bad rows, second part, skipped", 1), 1);
    CHECK_EQ_INT(compare_threads("bad rows, second part, not skipped", 0), 1);
    run_ bad = load_pdde(2, 0);
    CHECK_EQ_INT(bad.st, PREFREC_E_PARSE);
    char where[64];
    snprintf(where, sizeof where, "LPOINT_BIG_COMP_02_PDDE.csv:%d:", rows - 50);
    CHECK_CONTAINS(bad.err.msg, where);
    CHECK_CONTAINS(bad.err.msg, "bad hour '25'");
    prefrec_dataset_free(bad.ds);
    free(t1);
    free(t2);

    /* invalid UTF-8 in the second part */
    t1 = replace_line(clean, rows - 10,
                      "M000000001,A01000000001,1,A01,B\xff,PD0001,20210101,9,100,1\n");
    put("LPOINT_BIG_COMP_02_PDDE.csv", t1);
    CHECK_EQ_INT(compare_threads("invalid UTF-8, second part, skipped", 1), 1);
    CHECK_EQ_INT(compare_threads("invalid UTF-8, second part", 0), 1);
    free(t1);

    /* a NUL byte (issue 21) in the second part: a bad row like the others, one thread's
     * message and count either way */
    t1 = replace_line(clean, rows - 20,
                      "M000000001,A01000000001,1,A01,B\001,PD0001,20210101,9,100,1\n");
    size_t t1n = strlen(t1);
    *strchr(t1, '\001') = '\0';
    char path[512];
    snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_02_PDDE.csv", tmpdir);
    FILE *nf = fopen(path, "wb");
    CHECK(nf && fwrite(t1, 1, t1n, nf) == t1n);
    if (nf) fclose(nf);
    CHECK_EQ_INT(compare_threads("NUL byte, second part, skipped", 1), 1);
    CHECK_EQ_INT(compare_threads("NUL byte, second part", 0), 1);
    run_ nul = load_pdde(2, 0);
    CHECK_EQ_INT(nul.st, PREFREC_E_PARSE);
    snprintf(where, sizeof where, "LPOINT_BIG_COMP_02_PDDE.csv:%d:32: NUL byte", rows - 20);
    CHECK_CONTAINS(nul.err.msg, where);
    prefrec_dataset_free(nul.ds);
    run_ nul_skip = load_pdde(2, 1);
    CHECK_EQ_INT(nul_skip.st, PREFREC_OK);
    CHECK_EQ_INT(nul_skip.L.skipped, 1);
    CHECK(nul_skip.L.nreasons == 1 && !strcmp(nul_skip.L.reasons[0].why, "NUL byte"));
    CHECK_EQ_INT(nul_skip.ds->n_rows, rows - 1);
    prefrec_dataset_free(nul_skip.ds);
    free(t1);

    /* the middle of the file inside a quoted field full of line breaks: the cut is not a row
     * start, the helper's work is dropped */
    size_t half = strlen(clean) / 2;
    int line = 1;
    for (size_t i = 0; i < half - 2000; i++) line += clean[i] == '\n';
    char quoted[8200];
    size_t q = (size_t)snprintf(quoted, sizeof quoted, "M000000001,A01000000001,1,A01,\"");
    for (int i = 0; i < 8000; i++) quoted[q++] = i % 50 == 49 ? '\n' : 'x';
    snprintf(quoted + q, sizeof quoted - q, "\",PD0001,20210101,9,100,1\n");
    t1 = replace_line(clean, line, quoted);
    /* the loader's middle, (size + header end) / 2, falls inside the 8000 quoted bytes */
    size_t start = (size_t)(strstr(t1, quoted) - t1),
           mid = (strlen(t1) + (size_t)(strchr(t1, '\n') - t1 + 1)) / 2;
    CHECK(mid > start + 100 && mid < start + 7900);
    put("LPOINT_BIG_COMP_02_PDDE.csv", t1);
    CHECK_EQ_INT(compare_threads("cut inside a quoted field", 0), 1);
    free(t1);

    /* from the middle on nothing but rows of the wrong width, skipped: the end comes before
     * the cut is reached as a row end */
    size_t keep = strlen(clean) / 2 - 500;
    while (clean[keep - 1] != '\n') keep--;
    char *narrow = malloc(strlen(clean) + 1);
    memcpy(narrow, clean, keep);
    size_t o = keep;
    while (o + 8 < strlen(clean)) o += (size_t)snprintf(narrow + o, 9, "1,2,3,4\n");
    narrow[o] = '\0';
    put("LPOINT_BIG_COMP_02_PDDE.csv", narrow);
    CHECK_EQ_INT(compare_threads("second part all bad, skipped", 1), 1);
    free(narrow);

    /* more than 256 affiliates: the same error either way */
    char *many = purchases(rows, 5, "\n", 280);
    put("LPOINT_BIG_COMP_02_PDDE.csv", many);
    compare_threads("257 affiliates", 0);
    run_ m = load_pdde(2, 0);
    CHECK_EQ_INT(m.st, PREFREC_E_RANGE);
    CHECK_CONTAINS(m.err.msg, "more than 256 affiliates");
    prefrec_dataset_free(m.ds);
    free(many);
    free(clean);
}

/* ---- a generated data set ----------------------------------------------------------------- */

static void test_generated(void) {
    char dir[300], cmd[1024];
    snprintf(dir, sizeof dir, "%s/gen", tmpdir);
    snprintf(cmd, sizeof cmd, "'%s' gen --out '%s' --scale 0.01 --seed 3 --quiet", PREFREC_CLI,
             dir);
    CHECK_EQ_INT(system(cmd), 0);
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_dataset *a = NULL, *b = NULL;
    prefrec_error err = {0};
    lp.threads = 1;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &a, &err), PREFREC_OK);
    lp.threads = 2;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &b, &err), PREFREC_OK);
    if (a && b) {
        CHECK(a->n_rows > 10000);
        CHECK(same_dataset(a, b));
        CHECK_EQ_INT(a->n_lpay_rows, b->n_lpay_rows);
        CHECK_EQ_INT(a->n_lpay_unmatched, b->n_lpay_unmatched);
        CHECK_EQ_INT(a->n_customers_with_rows, b->n_customers_with_rows);
        CHECK_EQ_INT(a->day_min, b->day_min);
        CHECK_EQ_INT(a->day_max, b->day_max);
    }
    /* the two-thread route was taken: the purchase file alone, on the same catalog/customers */
    if (a) {
        prefrec_dataset *c = prefrec_dataset_new(0);
        for (int32_t i = 0; i < prefrec_dict_size(a->products); i++)
            prefrec_dict_intern(c->products, prefrec_dict_str(a->products, i),
                                prefrec_dict_len_(a->products, i));
        for (int32_t i = 0; i < a->n_customers_in_demographics; i++)
            prefrec_dict_intern(c->customers, prefrec_dict_str(a->customers, i),
                                prefrec_dict_len_(a->customers, i));
        prefrec_loader_ L;
        prefrec_loader_init_(&L, &lp);
        char path[400];
        snprintf(path, sizeof path, "%s/LPOINT_BIG_COMP_02_PDDE.csv", dir);
        CHECK_EQ_INT(prefrec_pdde_load_(path, &L, c, &err), PREFREC_OK);
        CHECK_EQ_INT(L.parts, 2);
        CHECK_EQ_INT(c->n_rows, a->n_rows);
        int cols = c->n_rows == a->n_rows &&
            !memcmp(c->customer, a->customer, a->n_rows * sizeof *a->customer) &&
            !memcmp(c->receipt, a->receipt, a->n_rows * sizeof *a->receipt) &&
            !memcmp(c->branch, a->branch, a->n_rows * sizeof *a->branch) &&
            !memcmp(c->amount, a->amount, a->n_rows * sizeof *a->amount);
        CHECK(cols);
        CHECK(same_dict(a->receipts, c->receipts));
        CHECK(same_dict(a->customers, c->customers));
        prefrec_dataset_free(c);
    }
    prefrec_dataset_free(a);
    prefrec_dataset_free(b);

    /* returns (issue 21): every 50th line returned in its receipt, every 70th also returned in a
     * receipt of its own; one thread and two give the same purchases and counts */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && awk -F, -v OFS=, 'NR > 1 && NR %% 50 == 0 { print; $9 = -$9; $10 = -$10 }"
             " NR > 1 && NR %% 70 == 0 && NR %% 50 != 0 { print; $2 = \"RET\" NR; $9 = -1; $10 = "
             "-1 } { print }'"
             " LPOINT_BIG_COMP_02_PDDE.csv > r.csv && mv r.csv LPOINT_BIG_COMP_02_PDDE.csv",
             dir);
    CHECK_EQ_INT(system(cmd), 0);
    lp.threads = 1;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &a, &err), PREFREC_OK);
    lp.threads = 2;
    CHECK_EQ_INT(prefrec_dataset_load(dir, &lp, &b, &err), PREFREC_OK);
    if (a && b) {
        CHECK(same_dataset(a, b));
        CHECK(a->n_return_lines > 100);
        CHECK_EQ_INT(a->n_return_lines, b->n_return_lines);
        CHECK_EQ_INT(a->n_returns_unmatched, b->n_returns_unmatched);
        CHECK_EQ_INT(a->n_cancelled_lines, b->n_cancelled_lines);
        CHECK_EQ_INT(a->n_return_lines - a->n_returns_unmatched, a->n_cancelled_lines);
    }
    prefrec_dataset_free(a);
    prefrec_dataset_free(b);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/prefrec_test_ingest.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_keymap();
    test_threads();
    test_generated();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "test_ingest: could not remove %s\n", tmpdir);
    return check_report("test_ingest");
}
