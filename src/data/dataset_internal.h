/* dataset_internal.h - private pieces shared by the dataset loaders (dataset.c, lpoint.c,
 * mapping.c). Not installed, not for other modules. */
#ifndef PREFREC_DATASET_INTERNAL_H
#define PREFREC_DATASET_INTERNAL_H

#include <stdint.h>

#include "prefrec/native/csv.h"
#include "prefrec/native/dataset.h"

/* Reallocate the 11 row columns of ds to hold cap rows (n_rows unchanged; rows 0 .. n_rows-1
 * are kept, anything past them may not be). 0 ok, -1 no memory. */
int prefrec_dataset_grow_(prefrec_dataset *ds, size_t cap);

/* prefrec_dataset_finish; check = 0 skips the per-row index check (loaders build valid rows). */
prefrec_status prefrec_dataset_finish_(prefrec_dataset *ds, int check, prefrec_error *err);

/* The returns rule (returns.c): drop the rows that are not purchases (zero lines, returns,
 * purchases netted away in their receipt) and add them to the dataset's counts. Rows keep their
 * order. Called by prefrec_dataset_finish_; 0 or E_NOMEM. */
prefrec_status prefrec_dataset_returns_(prefrec_dataset *ds, prefrec_error *err);

/* Size the table for n entries up front (no rehash while they arrive). 0 ok, -1 no memory. */
int prefrec_dict_reserve_(prefrec_dict *d, size_t n);
/* Length of string i (0 .. size-1): strings may hold NUL bytes. */
size_t prefrec_dict_len_(const prefrec_dict *d, int32_t i);
/* Room for n ids (strings) without moving the id arrays while they arrive. 0 ok, -1 no memory. */
int prefrec_dict_reserve_ids_(prefrec_dict *d, size_t n);
/* Bulk building (dict.c): _append_ adds s as a new id without indexing it (the caller knows s
 * is not in d yet; -1 on out of memory); _index_ then indexes all appended ids in one pass (0 ok,
 * -1 no memory). Until then prefrec_dict_find still finds them (slowly, by a scan) and
 * prefrec_dict_intern indexes first. */
int32_t prefrec_dict_append_(prefrec_dict *d, const char *s, size_t len);
int prefrec_dict_index_(prefrec_dict *d);

/* Numbered keys (dict.c): a dictionary for strings such as receipt numbers "A03000000001"
 * (a prefix of up to 16 bytes, then 1 to 18 digits), indexed without a hash table: the number
 * picks an entry in a page of 4096 ids, and keys numbered densely (receipts are) fill pages in
 * order, so a new key costs no cache miss in a big table. Other strings, and numbers too sparse
 * for pages (past a memory budget), go through a hash dictionary of their own. Ids, strings and
 * the dictionary API are exactly those of a plain dictionary.
 * prefrec_dict_use_keymap_: switch an empty dictionary to this index (0 ok, -1 no memory or not
 * empty); from then on prefrec_dict_intern / _find go through the keymap, and the dictionary
 * owns it. */
typedef struct prefrec_keymap_ prefrec_keymap_;
int prefrec_dict_use_keymap_(prefrec_dict *d);

/* The two layouts. ds comes from prefrec_dataset_new(0); they fill it (rows, dictionaries,
 * catalog, demographics) and leave prefrec_dataset_finish to the caller. */
prefrec_status prefrec_lpoint_load_(const char *dir, const prefrec_load_params *p,
                                    prefrec_dataset *ds, prefrec_error *err);
prefrec_status prefrec_mapping_load_(const char *json_path, const prefrec_load_params *p,
                                     prefrec_dataset *ds, prefrec_error *err);

/* ---- shared loader machinery (dataset.c) --------------------------------------------------- */

#define PREFREC_LOADER_REASONS 12

/* One load: skip-bad-rows bookkeeping (reason -> count and first example) and progress. */
typedef struct prefrec_loader_ {
    const prefrec_load_params *params;
    int progress; /* params->progress and stderr is a terminal */
    uint64_t rows_read; /* data rows read over all files (progress) */
    int parts; /* the purchase file was parsed in this many parts (2: two threads,
                             merged), for tests */
    size_t skipped;
    int nreasons;
    struct {
        const char *why; /* a string literal */
        size_t n;
        char example[256];
    } reasons[PREFREC_LOADER_REASONS];
} prefrec_loader_;

void prefrec_loader_init_(prefrec_loader_ *L, const prefrec_load_params *p);
/* A bad row: under skip_bad_rows count it (why: short fixed reason, a literal; row_err: the full
 * file:line:col message) and return PREFREC_OK; otherwise copy row_err to err, return its status. */
prefrec_status prefrec_loader_bad_row_(prefrec_loader_ *L, const char *why,
                                       const prefrec_error *row_err, prefrec_error *err);
/* Print "skipped N bad rows" with counts per reason and first examples to stderr (if any). */
void prefrec_loader_report_(const prefrec_loader_ *L);
void prefrec_loader_progress_end_(prefrec_loader_ *L);

/* A CSV file with its header row read and kept. */
typedef struct prefrec_table_ {
    prefrec_csv *csv;
    char *path; /* as opened, for messages */
    char *base; /* file name without directories */
    char **col; /* header names */
    size_t ncol;
    uint64_t rows; /* data rows returned so far */
} prefrec_table_;

/* Open path and read its header. Errors: missing/unreadable file (E_IO), empty file (E_EMPTY),
 * duplicate header names (E_PARSE). */
prefrec_status prefrec_table_open_(prefrec_table_ *t, const char *path, prefrec_error *err);
/* The same over buf[0..len) (borrowed until close), named name in messages (the sharded
 * loader, shard.c: the file's header and this rank's records, or a broadcast catalog). */
prefrec_status prefrec_table_open_mem_(prefrec_table_ *t, const char *buf, size_t len,
                                       const char *name, prefrec_error *err);
void prefrec_table_close_(prefrec_table_ *t);
/* Index of header column name, or -1. */
int prefrec_table_col_(const prefrec_table_ *t, const char *name);
/* Index of a required column; error "<file>: no column '<name>' (<what>) in the header ...". */
prefrec_status prefrec_table_require_(const prefrec_table_ *t, const char *name, const char *what,
                                      int *col, prefrec_error *err);
/* Next data row with exactly ncol fields: 1 row, 0 end, < 0 error. Malformed rows (CSV errors
 * that leave the reader usable, blank lines, wrong field counts) go through
 * prefrec_loader_bad_row_ (skipped and counted, or an error). */
int prefrec_table_next_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_error *err);

/* The L.POINT purchase file (pdde.c): rows appended to ds (its catalog and demographics read
 * before), with one thread or two as L->params->threads says; same result either way. */
/* The catalog and demographics rows of an open table (attrs.c), for every layout: the columns
 * are the layout's (-1: absent; id is required). Set has_catalog / has_demographics. */
typedef struct prefrec_catalog_cols_ {
    int id, name, cat, sub;
} prefrec_catalog_cols_;
prefrec_status prefrec_catalog_read_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                     const prefrec_catalog_cols_ *c, prefrec_error *err);
typedef struct prefrec_demog_cols_ {
    int id, gender, age;
} prefrec_demog_cols_;
prefrec_status prefrec_demographics_read_(prefrec_table_ *t, prefrec_loader_ *L,
                                          prefrec_dataset *ds, const prefrec_demog_cols_ *c,
                                          prefrec_error *err);

/* The purchase file at path, or its parts in order when path is a part directory (one table:
 * errors name the part and its line). */
prefrec_status prefrec_pdde_load_(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                  prefrec_error *err);
/* The same from memory (one thread): buf[0..len) holds the header and the rows, name is used in
 * messages. */
prefrec_status prefrec_pdde_load_mem_(const char *buf, size_t len, const char *name,
                                      prefrec_loader_ *L, prefrec_dataset *ds, prefrec_error *err);
/* A table's files (parts.c): the file at path, or when path is a directory, its part-*.csv
 * files in name order (a part directory, as Spark writes a table: files starting with '.' or
 * '_' are skipped, and 0-byte files; any other file is refused with its name; none at all is
 * an error). */
typedef struct prefrec_parts_ {
    char **path; /* n paths */
    uint64_t *size; /* bytes of each */
    uint64_t total;
    int n, dir; /* dir: path was a part directory */
} prefrec_parts_;
prefrec_status prefrec_parts_open_(prefrec_parts_ *p, const char *path, prefrec_error *err);
void prefrec_parts_free_(prefrec_parts_ *p);
/* PREFREC_OK when part t has the columns of first, in the same order; else E_PARSE naming t. */
prefrec_status prefrec_parts_same_header_(const prefrec_table_ *first, const prefrec_table_ *t,
                                          prefrec_error *err);
/* The L.POINT catalog (04) and demographics (01) tables, already open (lpoint.c). */
prefrec_status prefrec_lpoint_catalog_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                       prefrec_error *err);
prefrec_status prefrec_lpoint_demo_(prefrec_table_ *t, prefrec_loader_ *L, prefrec_dataset *ds,
                                    prefrec_error *err);
/* 06: the Lpay receipts file at path, matched against ds's receipts (lpoint.c). */
prefrec_status prefrec_lpoint_lpay_(const char *path, prefrec_loader_ *L, prefrec_dataset *ds,
                                    prefrec_error *err);

/* A bad value in field col of the current row: fmt (with "%.*s" for the value v, n bytes, cut
 * to 40) plus " (column NAME)" at file:line:col, through prefrec_loader_bad_row_. Returns the
 * status to propagate (0 when the row is skipped). */
prefrec_status prefrec_table_bad_value_(prefrec_table_ *t, prefrec_loader_ *L, size_t col,
                                        const char *why, prefrec_error *err, const char *fmt,
                                        const char *v, size_t n);

/* Mid categories belong to a top category: the same mid name under two tops ("티셔츠" under
 * 남성의류 and 여성의류) is two subcategories. While a catalog loads, intern the pair with
 * _intern_ (returns the id or -1 on no memory); then _finish_ renames the entries so that
 * prefrec_dict_str gives the mid name, with " (top)" appended only for names used under more
 * than one top. Ids are kept. */
int32_t prefrec_subcategory_intern_(prefrec_dataset *ds, const char *top, size_t top_len,
                                    const char *mid, size_t mid_len);
prefrec_status prefrec_subcategories_finish_(prefrec_dataset *ds, prefrec_error *err);
/* Record customer id's gender and age from a demographics file, growing ds->gender/ds->age
 * (capacity *cap entries) as ids arrive. 0, or -1 when memory runs out. */
int prefrec_demographics_put_(prefrec_dataset *ds, size_t *cap, int32_t id, int gender, float age);
/* Make room for product id in the catalog arrays (name, category, subcategory; capacity *cap
 * entries) as a products file is read. 0, or -1 when memory runs out. */
int prefrec_catalog_reserve_(prefrec_dataset *ds, size_t *cap, int32_t id);

/* A mapping .json (mapping.c), parsed and checked, for the one-process load
 * (prefrec_mapping_load_) and the sharded one (shard.c, which reads the files its own way and
 * hands the tables here): the same columns, rows and messages in both. */
typedef struct prefrec_mapping_ prefrec_mapping_;
enum {
    PREFREC_MAPPING_TRANSACTIONS = 0,
    PREFREC_MAPPING_PRODUCTS = 1,
    PREFREC_MAPPING_CUSTOMERS = 2
};
prefrec_status prefrec_mapping_open_(const char *json_path, prefrec_mapping_ **out,
                                     prefrec_error *err);
void prefrec_mapping_free_(prefrec_mapping_ *m); /* accepts NULL */
/* The file of a section, resolved against the mapping's directory (caller frees); NULL when the
 * section is absent. */
prefrec_status prefrec_mapping_file_(const prefrec_mapping_ *m, int which, char **path,
                                     prefrec_error *err);
/* The products / customers rows of an open table (its columns found by the mapping's names). */
prefrec_status prefrec_mapping_products_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                         prefrec_loader_ *L, prefrec_dataset *ds,
                                         prefrec_error *err);
prefrec_status prefrec_mapping_customers_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                          prefrec_loader_ *L, prefrec_dataset *ds,
                                          prefrec_error *err);
/* The transactions, in three steps: the time format (checked before the file is opened), the
 * columns of the file's header, then the rows of a table with that header, appended to ds (cap:
 * rows to make room for up front). _rows_ does not refuse a table without rows (the caller
 * does: a rank of the sharded load may own none). */
prefrec_status prefrec_mapping_tx_format_(prefrec_mapping_ *m, prefrec_error *err);
prefrec_status prefrec_mapping_tx_columns_(prefrec_mapping_ *m, const prefrec_table_ *t,
                                           prefrec_error *err);
int prefrec_mapping_tx_customer_col_(const prefrec_mapping_ *m);
int prefrec_mapping_tx_product_col_(const prefrec_mapping_ *m);
prefrec_status prefrec_mapping_tx_rows_(const prefrec_mapping_ *m, prefrec_table_ *t,
                                        prefrec_loader_ *L, prefrec_dataset *ds, size_t cap,
                                        prefrec_error *err);

/* Whole-field numbers. Return 0 on success, -1 if the text is not a number of that kind. */
int prefrec_parse_int_(const char *s, size_t len, int64_t *out);
int prefrec_parse_double_(const char *s, size_t len, double *out);

#endif
