/* pack_dist.h - a full NeuMF pack written by every rank of a sharded train (internal to
 * src/train; docs/mpi.md "train"). The one-process pack writer (prefrec_neumf_save_pack,
 * neumf_pack.c) and this one share the item side and the manifest, so the bytes are the same.
 *
 *   // every rank, after training: net holds this rank's customers' rows, meta->data its pairs
 *   st = nm_pack_save_dist(net, &meta, d, key, path, &bytes, &err);
 *
 * Not thread safe (one thread per rank). */
#ifndef PREFREC_TRAIN_PACK_DIST_H
#define PREFREC_TRAIN_PACK_DIST_H

#include <stdint.h>

#include "host/dist.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/native/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bought sets of td: each customer's distinct products among its pairs, ascending, as CSR
 * (*off: n_customers + 1 entries, *idx: *nnz; caller frees both). */
prefrec_status nm_pack_bought(const prefrec_train_data *td, uint32_t **off, int32_t **idx,
                              uint32_t *nnz, prefrec_error *err);

/* The pack's item side (NeuMF item weights, product tables, the blend, the buy-again prior)
 * added to w, and its manifest set, for C customers and nnz bought entries in all. */
prefrec_status nm_pack_item_side(prefrec_pack_writer *w, const prefrec_neumf *net,
                                 const prefrec_pack_meta *meta, uint32_t C, uint32_t nnz,
                                 prefrec_error *err);

/* customer.gender's value for customer c of td: 0, 1, or -1 (unknown). */
static inline int8_t nm_pack_gender(const prefrec_train_data *td, uint32_t c) {
    int g = td->gender ? td->gender[c] : -1;
    return (int8_t)(g == 0 || g == 1 ? g : -1);
}

/* Collective: the full pack of a sharded train written to path, the bytes one process writes
 * for the same model. Every rank passes its own customers: net->cemb / cbias their rows,
 * meta->data their pairs and demographics, meta->customer_code and meta->customer_lines
 * (optional, the same on every rank) their codes and line counts, key[c] their places' keys in
 * the one-process customer order (ascending; distinct over the ranks); the item side of net
 * and meta is the same on every rank and read on rank 0. The sizes are integer sums over the
 * ranks, each customer's place and offsets come from the other ranks' keys (an exchange of 16
 * bytes a customer, one rank's block at a time), rank 0 writes the head (header, manifest,
 * table, item side) and every rank its rows at their offsets into path's temp file; the CRC is
 * put together from the ranks' CRCs and the file renamed into place when every rank has
 * succeeded (else rank 0 removes it). *size_out (every rank; may be NULL): the pack's bytes. */
prefrec_status nm_pack_save_dist(const prefrec_neumf *net, const prefrec_pack_meta *meta,
                                 prefrec_dist *d, const uint64_t *key, const char *path,
                                 size_t *size_out, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
