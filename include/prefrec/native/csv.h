/* prefrec/native/csv.h - a fast RFC 4180 CSV record reader (native).
 *
 *   prefrec_csv *r = NULL;
 *   prefrec_error err = {0};
 *   if (prefrec_csv_open("x.csv", NULL, &r, &err)) { fprintf(stderr, "%s\n", err.msg); ... }
 *   int st;
 *   while ((st = prefrec_csv_next(r, &err)) == 1) {
 *       const prefrec_csv_field *f = prefrec_csv_fields(r);
 *       for (size_t i = 0; i < prefrec_csv_nfields(r); i++) use(f[i].p, f[i].len);
 *       if (bad) { prefrec_csv_errorf(r, 3, &err, PREFREC_E_PARSE, "bad date '%.*s'", ...); ... }
 *   }
 *   if (st < 0) ... err names file:line:column ...
 *   prefrec_csv_close(r);
 *
 * Quoting per RFC 4180: a field in double quotes may hold the separator, CR/LF and "" (one
 * quote). Records end with LF, CRLF or a lone CR; the last record may lack a line end. A UTF-8
 * byte order mark at the start is skipped. Every record is checked to be valid UTF-8 and to hold
 * no NUL byte (U+0000 is valid UTF-8, but codes become C strings further on). A quote
 * inside an unquoted field is kept as a literal character (as most writers expect). A blank
 * line is a record with one empty field (callers decide; the loaders call it a bad row).
 *
 * Speed: a file is read in large blocks into one buffer; fields point into it (no allocation
 * per field); only fields with "" escapes are copied (into a per-reader scratch area).
 *
 * Ownership: the reader owns its buffers; field pointers are valid until the next
 * prefrec_csv_next or prefrec_csv_close. prefrec_csv_open_mem borrows buf for the reader's
 * lifetime. Not thread safe (one reader per thread). Line numbers are physical lines (1-based);
 * columns count characters (UTF-8 code points, 1-based) from the start of that line. */
#ifndef PREFREC_CSV_H
#define PREFREC_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_csv prefrec_csv;

typedef struct prefrec_csv_field {
    const char *p; /* not NUL-terminated */
    size_t len;
} prefrec_csv_field;

/* Default bound on one record: purchase lines are under a kilobyte, catalog rows a few; a file
 * with no line end in 16 MiB is not a CSV file (a device such as /dev/zero, a binary file). */
#define PREFREC_CSV_MAX_RECORD ((size_t)16 << 20)

typedef struct prefrec_csv_params {
    char sep; /* field separator, default ',' */
    size_t block_size; /* bytes per read(), default 4 MiB; the buffer grows for longer records */
    size_t max_record; /* bytes one record may take (0: PREFREC_CSV_MAX_RECORD); a longer one
                          is an error that ends the reading (files: memory input is bounded
                          by its length already) */
} prefrec_csv_params;

prefrec_csv_params prefrec_csv_default_params(void);

/* Open a file (params may be NULL for defaults). *out: caller closes with prefrec_csv_close.
 * Errors: PREFREC_E_IO (names the file and the system's reason). */
prefrec_status prefrec_csv_open(const char *path, const prefrec_csv_params *params,
                                prefrec_csv **out, prefrec_error *err);
/* Read only length bytes of the file from byte offset on (UINT64_MAX: to the end), as if they
 * were the whole file, e.g. one part of a file split at a line start for parallel parsing.
 * prefrec_csv_bytes counts from the start of the file; line numbers count from offset (the
 * range's first line is line 1). Errors as prefrec_csv_open, and E_IO if offset cannot be
 * reached. */
prefrec_status prefrec_csv_open_range(const char *path, const prefrec_csv_params *params,
                                      uint64_t offset, uint64_t length, prefrec_csv **out,
                                      prefrec_error *err);
/* Read from memory; name is used in messages (copied). Borrows buf. */
prefrec_status prefrec_csv_open_mem(const char *buf, size_t len, const char *name,
                                    const prefrec_csv_params *params, prefrec_csv **out,
                                    prefrec_error *err);
void prefrec_csv_close(prefrec_csv *r); /* accepts NULL */

/* Read the next record: 1 = a record is available, 0 = end of input, < 0 = a prefrec_status
 * with err set ("file:line:col: what"). After an error, prefrec_csv_recoverable(r) says whether
 * the bad record was consumed so reading can go on with the next record, and why it was bad:
 * PREFREC_CSV_BAD_MALFORMED (invalid UTF-8, junk after a closing quote) or PREFREC_CSV_BAD_NUL
 * (a NUL byte); 0: the reader is at its end (unterminated quote, a record longer than
 * max_record, I/O error). */
enum { PREFREC_CSV_BAD_MALFORMED = 1, PREFREC_CSV_BAD_NUL = 2 };
int prefrec_csv_next(prefrec_csv *r, prefrec_error *err);
int prefrec_csv_recoverable(const prefrec_csv *r);

size_t prefrec_csv_nfields(const prefrec_csv *r);
const prefrec_csv_field *prefrec_csv_fields(const prefrec_csv *r); /* valid until next call */
uint64_t prefrec_csv_line(const prefrec_csv *r); /* line where the current record starts */
const char *prefrec_csv_name(const prefrec_csv *r); /* the file name given to open */
uint64_t prefrec_csv_bytes(const prefrec_csv *r); /* bytes consumed so far (for progress) */

/* Set err to "file:line:col: <message>" for field i of the current record (i out of range:
 * "file:line: <message>"). Returns status. */
prefrec_status prefrec_csv_errorf(const prefrec_csv *r, size_t field, prefrec_error *err,
                                  prefrec_status status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* 0 if s[0..len) is valid UTF-8 (no overlongs, surrogates or code points above U+10FFFF);
 * otherwise 1 and *bad = offset of the first bad byte. */
int prefrec_utf8_check(const char *s, size_t len, size_t *bad);

#ifdef __cplusplus
}
#endif
#endif
