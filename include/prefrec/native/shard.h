/* prefrec/native/shard.h - a data set read by N ranks, each holding only its customers (the MPI
 * build, docs/mpi.md). Native.
 *
 *   prefrec_shard_info info = {0};
 *   prefrec_dataset *ds = NULL;
 *   if (prefrec_dataset_load_sharded("data/demo", &lp, dist, &ds, &info, &err)) ... every rank
 *       gets the same error ...
 *   ... ds: the rows of this rank's customers, the whole catalog and demographics ...
 *   prefrec_shard_info_free(&info); prefrec_dataset_free(ds);
 *
 * Each rank reads a byte range of the purchase file (02_PDDE.csv; for a part directory, of its
 * parts' rows taken as one stream, parts in name order), cut at line starts; every
 * line goes to the rank that owns its customer, fnv1a32(customer code) % N (the rule of the
 * customer shards, prefrec export), with one all-to-all exchange; the catalog (04) and the
 * demographics (01) are read by rank 0 and broadcast. The owner parses its lines in file order,
 * so its dataset is the one-process dataset restricted to its customers: the same catalog and
 * customer-file ids, the same affiliate ids (put in the one-process order across ranks), and its
 * other customers in the same relative order; customer_key says where each stands in the
 * one-process order, so outputs can be merged back into it.
 *
 * A mapping .json (the generic layout) is read the same way: its transactions file by byte
 * ranges, routed by its customer column and parsed by the mapping's row parser; its products and
 * customers files read by rank 0 and broadcast; products the products file lacks (all of them
 * without one) are numbered by every rank in the one-process order (their first line in the
 * file) before the lines are parsed, so product ids are the one-process ids on every rank.
 * Limits: records end with LF or CRLF, and a quoted field holding a line break is refused (file:line); skip_bad_rows is
 * refused. The first bad line of the file (smallest line number over all ranks) is the error
 * every rank returns, named file:line:column as in the one-process load.
 * With a NULL dist (one rank) this is the ordinary load plus customer_key. */
#ifndef PREFREC_SHARD_H
#define PREFREC_SHARD_H

#include <stdint.h>

#include "prefrec/native/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_dist prefrec_dist; /* src/host/dist.h */

typedef struct prefrec_shard_info {
    uint64_t *customer_key; /* per customer id of ds: ascending in the one-process id order
                               (customer-file ids as they are, then 2^62 + the byte offset of
                               the customer's first line: in a part directory, its offset in
                               the stream of the parts' rows, starting at the first part's
                               header length); owned, free with _info_free */
    uint64_t rows_total; /* purchase rows over all ranks */
    int32_t day_min, day_max; /* over all ranks (0 when there are no rows) */
    uint64_t bytes_read; /* of the purchase file, by this rank */
    uint64_t lines_kept; /* lines this rank owns (received, itself included) */
    double sec_route, sec_exchange, sec_parse; /* this rank's seconds: reading and routing its
                                                  range, the all-to-all, parsing its lines */
} prefrec_shard_info;

prefrec_status prefrec_dataset_load_sharded(const char *path, const prefrec_load_params *params,
                                            prefrec_dist *dist, prefrec_dataset **out,
                                            prefrec_shard_info *info, prefrec_error *err);
void prefrec_shard_info_free(prefrec_shard_info *info); /* accepts NULL */

#ifdef __cplusplus
}
#endif
#endif
