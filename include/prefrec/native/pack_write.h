/* prefrec/native/pack_write.h - build a model pack in memory and write it atomically (native).
 *
 *   prefrec_pack_writer *w = prefrec_pack_writer_new();
 *   uint32_t shape[2] = {n_products, dim};
 *   prefrec_pack_writer_add(w, "product.emb", PREFREC_DT_F32, 2, shape, emb, &err);
 *   prefrec_pack_writer_add_strings(w, "product.code", codes, n_products, &err);
 *   prefrec_pack_writer_set_manifest(w, "{\"kind\":\"neumf\"}", &err);
 *   prefrec_pack_writer_save(w, "out/A01.pack", &err);      // temp file + fsync + rename
 *   prefrec_pack_writer_free(w);
 *
 * Tensors are laid out in the order added, each at the next 64-byte boundary, zero padding
 * between them; the manifest text is written verbatim. So the same tensors and manifest always
 * give the same bytes (save -> load -> re-add -> save is byte-identical). The writer copies
 * the data it is given. Not thread-safe per writer. */
#ifndef PREFREC_PACK_WRITE_H
#define PREFREC_PACK_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_pack_writer prefrec_pack_writer;

prefrec_pack_writer *prefrec_pack_writer_new(void); /* caller frees; NULL on out of memory */
void prefrec_pack_writer_free(prefrec_pack_writer *w); /* accepts NULL */

/* Add a tensor (copies n_elems(shape) * dtype size bytes from data; data may be NULL when the
 * tensor is empty). Errors: bad name (empty, > 31 chars, non-printable, duplicate), dtype, ndim. */
prefrec_status prefrec_pack_writer_add(prefrec_pack_writer *w, const char *name, uint32_t dtype,
                                       uint32_t ndim, const uint32_t *shape, const void *data,
                                       prefrec_error *err);
/* Add a float tensor stored as store: f32 (as prefrec_pack_writer_add), f16, q8r / q4r (int8 /
 * int4 rows with an f32 scale each) or q8c / q4c (codes into a fitted per-tensor codebook, an
 * f32 scale a row; prefrec/pack.h). Errors: a non-float store, a non-finite value. */
prefrec_status prefrec_pack_writer_add_stored(prefrec_pack_writer *w, const char *name,
                                              uint32_t store, uint32_t ndim, const uint32_t *shape,
                                              const float *data, prefrec_error *err);
/* The format version to write (1 or 2). Unset: 1, or 2 when a q8r, q4r, q8c or q4c tensor is
 * added; set to 1, finishing a pack with one fails. Versions 1 and 2 differ only in those. */
prefrec_status prefrec_pack_writer_set_version(prefrec_pack_writer *w, uint32_t version,
                                               prefrec_error *err);
/* Add a string table "<base>.off" + "<base>.str" (see prefrec_pack_strings). */
prefrec_status prefrec_pack_writer_add_strings(prefrec_pack_writer *w, const char *base,
                                               const char *const *strs, size_t n,
                                               prefrec_error *err);
/* Set the manifest text (a JSON object; copied, written verbatim). Only its braces are checked
 * here (PREFREC_E_INVAL); the reader checks the whole manifest when the pack is opened. */
prefrec_status prefrec_pack_writer_set_manifest(prefrec_pack_writer *w, const char *json,
                                                prefrec_error *err);
/* A tensor whose bytes the caller writes itself (nothing copied): the sharded train's customer
 * side, each rank writing its rows at their offsets (src/train/pack_dist.c). Deferred tensors
 * come after every tensor with data (adding one with data after them is an error); a writer
 * with one cannot finish or save, only give its layout and head (below). */
prefrec_status prefrec_pack_writer_add_deferred(prefrec_pack_writer *w, const char *name,
                                                uint32_t dtype, uint32_t ndim,
                                                const uint32_t *shape, prefrec_error *err);
/* How many tensors were added. */
size_t prefrec_pack_writer_count(const prefrec_pack_writer *w);
/* The layout and the bytes the writer holds: off[i] (caller's array of
 * prefrec_pack_writer_count entries) the data offset of tensor i, *end the file's size, and
 * *out (caller frees with free()) the file's first *len bytes, up to the first deferred
 * tensor's data (header, manifest, tensor table, the tensors with data, zero padding), with the
 * CRC field 0: the file is these bytes, the deferred tensors at off[i], zeros between them, and
 * the CRC32 of all of it but the CRC field at PREFREC_PACK_OFF_CRC. */
prefrec_status prefrec_pack_writer_head(const prefrec_pack_writer *w, uint64_t *off, uint64_t *end,
                                        void **out, size_t *len, prefrec_error *err);
/* Serialise: *out (caller frees with free()) holds *len bytes. */
prefrec_status prefrec_pack_writer_finish(const prefrec_pack_writer *w, void **out, size_t *len,
                                          prefrec_error *err);
/* Serialise and write atomically to path (prefrec/native/atomic.h). *size_out may be NULL. */
prefrec_status prefrec_pack_writer_save(const prefrec_pack_writer *w, const char *path,
                                        size_t *size_out, prefrec_error *err);

/* Split a "full" NeuMF pack for the web: the item side (every tensor not named "customer.*",
 * manifest part "item") to dir/<stem>.item.pack, and the customer side to n_shards packs
 * dir/<stem>.cust.<k>.pack (k = 000..), customer c going to shard fnv1a32(code) % n_shards,
 * each shard's manifest naming the item pack's CRC ("item_crc"). Customer order within a
 * shard is the full pack's order; bought sets keep the item pack's product indices.
 * sizes (optional, n_shards + 1 entries): bytes of the item pack, then of each shard.
 * export_id (optional, hex): written into the item pack's manifest ("export_id": the export its
 * member records belong to, prefrec/member.h), which then leaves out what counts members
 * (n_customers, n_bought, the training's pair counts): a public item pack. Customers whose codes are in opt_out (n_opt_out,
 * sorted with strcmp) are in no shard. version: the packs' format version (1 or 2); in version
 * 2 the item pack's float tensors are stored as the storage plan says (prefrec/pack.h,
 * prefrec_quant_plan_dtype; NULL: PREFREC_PACK_STORAGE_DEFAULT), version 1 is all f32. */
prefrec_status prefrec_pack_export(const prefrec_pack *full, const char *dir, const char *stem,
                                   int n_shards, const char *export_id, const char *const *opt_out,
                                   size_t n_opt_out, uint32_t version, const char *plan,
                                   size_t *sizes, prefrec_error *err);
/* One rank's part of that export (mpirun prefrec export, docs/mpi.md): the item pack when rank
 * is 0, and the customer shards k with k % n_ranks == rank. Every rank checks the whole model
 * and builds the item pack (the shards carry its checksum), so each file has the bytes
 * prefrec_pack_export writes. sizes[0] and sizes[1 + k] of files not written are 0. */
prefrec_status prefrec_pack_export_rank(const prefrec_pack *full, const char *dir, const char *stem,
                                        int n_shards, const char *export_id,
                                        const char *const *opt_out, size_t n_opt_out,
                                        uint32_t version, const char *plan, int rank, int n_ranks,
                                        size_t *sizes, prefrec_error *err);

/* The item packs' storage plan in version 2, chosen by measurement (docs/model.md, "Smaller
 * packs"): served lists' recall and NDCG within 0.5% of the f32 pack's. product.emb stays q8r:
 * q4r / q4c cost the NeuMF's new-item recall 1.4%, q5r 0.7%, q6r 0.7%; for blend.pop.seg
 * 8-bit codes (q8r linear, q8c logarithmic) cost completejourney's served new-item recall 1.1%
 * (and q8c its mixed list 2.4%), so it is stored as its buyer counts (pcn: pcx, pc8 / pc16,
 * lossless). Lossless too: neighbour lists as ascending steps (d16), string offsets u8d,
 * pop.all and repeat.prior as integers over a denominator (r16); product.target f16 (the
 * fold-in's top 30 unchanged for 400 of 400 demo histories); row scales are rounded to 11
 * significant bits (src/core/quant.c). */
#define PREFREC_PACK_STORAGE_DEFAULT \
    "product.emb=q8r,product.bias=f16,mlp.*=f16,out.*=f16,blend.ease.w=q4r,blend.knn.w=q4r," \
    "blend.pop.seg=pcn,blend.pop.all=r16,blend.trend=f16,blend.ease.nbr=d16,blend.knn.nbr=d16," \
    "product.code.off=u8d,product.name.off=u8d,category.off=u8d,subcategory.off=u8d," \
    "repeat.prior=r16,product.target=f16,product.cat=u16,product.sub=u16"

#ifdef __cplusplus
}
#endif
#endif
