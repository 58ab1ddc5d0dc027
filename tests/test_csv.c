/* test_csv.c - the CSV reader: quoting, line ends, BOM, UTF-8 checks, error positions, and a
 * randomised round trip (records written by an independent quoting routine, read back through
 * files with tiny and default block sizes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "prefrec/native/csv.h"
#include "prefrec/rng.h"

/* Read all of buf; join records as "f1|f2\n" into out. Returns the final next() result. */
static int slurp(const char *buf, size_t len, char *out, size_t cap, prefrec_error *err) {
    prefrec_csv *r = NULL;
    if (prefrec_csv_open_mem(buf, len, "t.csv", NULL, &r, err) != PREFREC_OK) return -100;
    size_t o = 0;
    out[0] = '\0';
    int st;
    while ((st = prefrec_csv_next(r, err)) == 1) {
        const prefrec_csv_field *f = prefrec_csv_fields(r);
        for (size_t i = 0; i < prefrec_csv_nfields(r); i++)
            o += (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "", (int)f[i].len, f[i].p);
        o += (size_t)snprintf(out + o, cap - o, "\n");
    }
    prefrec_csv_close(r);
    return st;
}

static void test_basic(void) {
    char out[1024];
    prefrec_error err = {0};
    CHECK_EQ_INT(slurp("a,b\n1,2\n", 8, out, sizeof out, &err), 0);
    CHECK_STR(out, "a|b\n1|2\n");
    CHECK_EQ_INT(slurp("a,b\r\n1,2\r\n", 10, out, sizeof out, &err), 0);
    CHECK_STR(out, "a|b\n1|2\n");
    CHECK_EQ_INT(slurp("a,b\r1,2", 7, out, sizeof out, &err), 0); /* lone CR, no final EOL */
    CHECK_STR(out, "a|b\n1|2\n");
    const char *q = "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n,,\n";
    CHECK_EQ_INT(slurp(q, strlen(q), out, sizeof out, &err), 0);
    CHECK_STR(out, "x,y|say \"hi\"|two\nlines\n||\n");
    CHECK_EQ_INT(slurp("\xEF\xBB\xBFid,v\n7,8\n", 12, out, sizeof out, &err), 0);
    CHECK_STR(out, "id|v\n7|8\n");
    CHECK_EQ_INT(slurp("a\n\nb\n", 5, out, sizeof out, &err), 0); /* blank line: one empty field */
    CHECK_STR(out, "a\n\nb\n");
    CHECK_EQ_INT(slurp("", 0, out, sizeof out, &err), 0);
    CHECK_STR(out, "");
    CHECK_EQ_INT(slurp("\xEF\xBB\xBF", 3, out, sizeof out, &err), 0);
    CHECK_STR(out, "");
    CHECK_EQ_INT(slurp("a,\"\"\n", 5, out, sizeof out, &err), 0);
    CHECK_STR(out, "a|\n");
    CHECK_EQ_INT(slurp("12\" TV,x\n", 9, out, sizeof out, &err), 0); /* literal quote */
    CHECK_STR(out, "12\" TV|x\n");
    CHECK_EQ_INT(slurp("\"a\r\nb\"\r\n", 8, out, sizeof out, &err), 0);
    CHECK_STR(out, "a\r\nb\n");
}

static void test_lines_and_errors(void) {
    prefrec_error err = {0};
    prefrec_csv *r = NULL;
    const char *s = "h1,h2\n\"multi\nline\",x\n\xea\xb0\x80\xea\xb0\x80,bad\n";
    CHECK_EQ_INT(prefrec_csv_open_mem(s, strlen(s), "m.csv", NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 2);
    prefrec_csv_errorf(r, 1, &err, PREFREC_E_PARSE, "field x");
    CHECK_STR(err.msg, "m.csv:3:7: field x"); /* x is on the record's second line */
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 4);
    CHECK_EQ_INT(prefrec_csv_errorf(r, 1, &err, PREFREC_E_RANGE, "v=%d", 5), PREFREC_E_RANGE);
    CHECK_STR(err.msg, "m.csv:4:4: v=5"); /* two Hangul syllables count as two columns */
    prefrec_csv_errorf(r, 9, &err, PREFREC_E_PARSE, "row");
    CHECK_STR(err.msg, "m.csv:4: row");
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);

    /* unterminated quote: error at the opening quote, then the reader is done */
    s = "a,b\n1,\"open\n2,3\n";
    CHECK_EQ_INT(prefrec_csv_open_mem(s, strlen(s), "u.csv", NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "u.csv:2:3: unterminated quoted field");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), 0);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);

    /* invalid UTF-8 and junk after a quote: reported with position, reading goes on */
    s = "a,b\nok,\xff\xfe\n\"q\"x,1\nlast,1\n";
    CHECK_EQ_INT(prefrec_csv_open_mem(s, strlen(s), "v.csv", NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_STR(err.msg, "v.csv:2:4: invalid UTF-8 (byte 0xff)");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "v.csv:3:4: unexpected character 'x' after a closing quote");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 4);
    CHECK_EQ_INT(prefrec_csv_fields(r)[0].len, 4);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);

    /* missing file */
    CHECK_EQ_INT(prefrec_csv_open("/nonexistent/x.csv", NULL, &r, &err), PREFREC_E_IO);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.csv: cannot open");
    CHECK(r == NULL);
}

/* A NUL byte is valid UTF-8 (U+0000), but codes become C strings later (issue 21: "DUP\0a" and
 * "DUP\0b" both became "DUP"): the record is bad, with its position, and reading goes on. */
static void test_nul(void) {
    prefrec_error err = {0};
    prefrec_csv *r = NULL;
    /* short unquoted (the 64-byte fast path), quoted, and in a record over 64 bytes */
    static const char s[] = "a,b\nDUP\0a,1\nok,2\n\"x\0\",3\n"
                            "long-long-long-long-long-long-long-long-long-long-long-long,4\0\n"
                            "last,5\n";
    CHECK_EQ_INT(prefrec_csv_open_mem(s, sizeof s - 1, "n.csv", NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_STR(err.msg, "n.csv:2:4: NUL byte (U+0000) in a field (codes and names cannot hold one)");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), PREFREC_CSV_BAD_NUL);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_fields(r)[0].len, 2);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "n.csv:4:3: NUL byte");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), PREFREC_CSV_BAD_NUL);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, "n.csv:5:62: NUL byte");
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 6);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);
    /* other bad records keep their kind */
    CHECK_EQ_INT(prefrec_csv_open_mem("a\n\xff\n", 4, "u.csv", NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_EQ_INT(prefrec_csv_recoverable(r), PREFREC_CSV_BAD_MALFORMED);
    prefrec_csv_close(r);
}

/* A file with no line end (issue 21: a mapping path to /dev/zero read a gigabyte before failing)
 * fails once one record passes max_record, and reading ends there. */
static void test_record_cap(void) {
    char path[] = "/tmp/prefrec_test_csv_cap_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    /* 64 MiB of NUL bytes, sparse: no disk used; like /dev/zero, but it ends */
    CHECK_EQ_INT(ftruncate(fd, (off_t)64 << 20), 0);
    close(fd);
    prefrec_csv *r = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_csv_open(path, NULL, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, ":1: a record longer than 16 MiB (no line end found");
    CHECK_EQ_INT(prefrec_csv_recoverable(r), 0);
    CHECK(prefrec_csv_bytes(r) < ((uint64_t)32 << 20)); /* stopped near the cap, not at the end */
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);
    /* a smaller cap; records under it read as usual, also across blocks */
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs("h\nshort\n", f);
        for (int i = 0; i < 2000; i++) fputc('y', f);
        fputs(",\"quoted\nfield\"\n", f);
        fclose(f);
    }
    prefrec_csv_params p = prefrec_csv_default_params();
    p.block_size = 256;
    p.max_record = 1000;
    CHECK_EQ_INT(prefrec_csv_open(path, &p, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_fields(r)[0].len, 5);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), PREFREC_E_PARSE);
    CHECK_CONTAINS(err.msg, ":3: a record longer than 1000 bytes");
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);
    unlink(path);
}

static void test_utf8(void) {
    size_t bad = 99;
    CHECK_EQ_INT(prefrec_utf8_check("plain ascii text!", 17, &bad), 0);
    CHECK_EQ_INT(prefrec_utf8_check("\xec\x97\xac\xec\x84\xb1", 6, &bad), 0); /* 여성 */
    CHECK_EQ_INT(prefrec_utf8_check("\xf0\x9f\x98\x80", 4, &bad), 0); /* emoji */
    CHECK_EQ_INT(prefrec_utf8_check("abcdefgh\xc0\x80", 10, &bad), 1); /* overlong */
    CHECK_EQ_INT(bad, 8);
    CHECK_EQ_INT(prefrec_utf8_check("x\xed\xa0\x80", 4, &bad), 1); /* surrogate */
    CHECK_EQ_INT(bad, 1);
    CHECK_EQ_INT(prefrec_utf8_check("\xf4\x90\x80\x80", 4, &bad), 1); /* > U+10FFFF */
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(prefrec_utf8_check("ab\xec\x97", 4, &bad), 1); /* truncated */
    CHECK_EQ_INT(bad, 2);
    CHECK_EQ_INT(prefrec_utf8_check("\xe0\x80\xaf", 3, &bad), 1); /* overlong 3-byte */
    CHECK_EQ_INT(prefrec_utf8_check("\x80", 1, &bad), 1); /* lone continuation */
}

/* Independent writer: quote a field when it holds , " CR or LF (or is empty at random). */
static size_t put_field(char *o, const char *f, size_t n, int force_quote) {
    int need = force_quote;
    for (size_t i = 0; i < n; i++)
        if (f[i] == ',' || f[i] == '"' || f[i] == '\n' || f[i] == '\r') need = 1;
    size_t k = 0;
    if (need) o[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (f[i] == '"') o[k++] = '"';
        o[k++] = f[i];
    }
    if (need) o[k++] = '"';
    return k;
}

static void test_roundtrip(void) {
    static const char alphabet[] = "abcXYZ019 ,\"\n\r-\xea\xb0\x80"; /* last 3 bytes: one 가 */
    enum { NREC = 3000, MAXF = 7 };
    prefrec_rng rng;
    prefrec_rng_init(&rng, 42, 0);
    size_t cap = 4 << 20;
    char *text = malloc(cap), *expect = malloc(cap);
    size_t tn = 0, en = 0;
    int nf_of[NREC];
    for (int r = 0; r < NREC; r++) {
        int nf = 1 + (int)prefrec_rng_below(&rng, MAXF);
        nf_of[r] = nf;
        for (int f = 0; f < nf; f++) {
            char field[64];
            size_t n = 0;
            size_t len = prefrec_rng_below(&rng, r == 1234 && f == 0 ? 1 : 12);
            if (r == 777 && f == 0) len = 40;
            while (n < len) {
                size_t c = prefrec_rng_below(&rng, sizeof alphabet - 3);
                if (c == sizeof alphabet - 4) { /* the Hangul syllable, whole */
                    memcpy(field + n, alphabet + c, 3);
                    n += 3;
                } else {
                    field[n++] = alphabet[c];
                }
            }
            if (f) text[tn++] = ',';
            int force = n == 0 && nf == 1; /* a lone empty field must be quoted (not blank) */
            tn += put_field(text + tn, field, n, force || prefrec_rng_below(&rng, 5) == 0);
            expect[en++] = '<';
            memcpy(expect + en, field, n);
            en += n;
            expect[en++] = '>';
        }
        const char *eol = prefrec_rng_below(&rng, 2) ? "\r\n" : "\n";
        memcpy(text + tn, eol, strlen(eol));
        tn += strlen(eol);
        expect[en++] = '\n';
    }
    expect[en] = '\0';
    char path[] = "/tmp/prefrec_test_csv_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, text, tn) == (ssize_t)tn);
    close(fd);
    size_t blocks[3] = {64, 1000, 0};
    for (int b = 0; b < 3; b++) {
        prefrec_csv_params p = prefrec_csv_default_params();
        if (blocks[b]) p.block_size = blocks[b];
        prefrec_csv *r = NULL;
        prefrec_error err = {0};
        CHECK_EQ_INT(prefrec_csv_open(path, &p, &r, &err), PREFREC_OK);
        char *got = malloc(cap);
        size_t gn = 0;
        int st, rec = 0, nf_ok = 1;
        while ((st = prefrec_csv_next(r, &err)) == 1) {
            const prefrec_csv_field *f = prefrec_csv_fields(r);
            nf_ok &= rec < NREC && (int)prefrec_csv_nfields(r) == nf_of[rec];
            for (size_t i = 0; i < prefrec_csv_nfields(r); i++) {
                got[gn++] = '<';
                memcpy(got + gn, f[i].p, f[i].len);
                gn += f[i].len;
                got[gn++] = '>';
            }
            got[gn++] = '\n';
            rec++;
        }
        got[gn] = '\0';
        CHECK_EQ_INT(st, 0);
        if (st) fprintf(stderr, "%s\n", err.msg);
        CHECK_EQ_INT(rec, NREC);
        CHECK(nf_ok);
        CHECK(strcmp(got, expect) == 0);
        CHECK_EQ_U64(prefrec_csv_bytes(r), tn);
        free(got);
        prefrec_csv_close(r);
    }
    /* a very long line: 5 MB in one field, read with 4 KiB blocks */
    size_t big = 5u << 20;
    char *line = malloc(big + 16);
    memset(line, 'z', big);
    memcpy(line + big, ",end\nx,y\n", 9);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(write(fd, line, big + 9) == (ssize_t)(big + 9));
    close(fd);
    prefrec_csv_params p = prefrec_csv_default_params();
    p.block_size = 4096;
    prefrec_csv *r = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_csv_open(path, &p, &r, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_U64(prefrec_csv_fields(r)[0].len, big);
    CHECK_EQ_INT(prefrec_csv_fields(r)[1].len, 3);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 1);
    CHECK_EQ_INT(prefrec_csv_line(r), 2);
    CHECK_EQ_INT(prefrec_csv_next(r, &err), 0);
    prefrec_csv_close(r);
    free(line);
    unlink(path);
    free(text);
    free(expect);
}

int main(void) {
    test_basic();
    test_lines_and_errors();
    test_nul();
    test_record_cap();
    test_utf8();
    test_roundtrip();
    return check_report("test_csv");
}
