/* packset.h - model packs from files, for the commands that serve them: `prefrec recommend|plan`
 * (native) and the kiosk (WASI). POSIX files and directories, so not in the portable core.
 *
 *   prefrec_packset ps = {0};
 *   if (prefrec_packset_add(&ps, "models", NULL, &err)) ...;      // every *.pack but shards
 *   char *answer = prefrec_api_handle((const prefrec_engine *const *)ps.engines, ps.n, req);
 *   prefrec_packset_free(&ps);
 *
 * One engine per item pack, at most one per affiliate (a second pack for the same affiliate is
 * refused: a request names the affiliate). Errors name the file.
 *
 * Batches (`prefrec recommend|plan --all`) serve every customer of an exported set (item packs
 * + customer shards, prefrec export): prefrec_packset_add_shards adds one engine per shard over
 * the item pack of its affiliate; a customer is served by the shard engine that knows them. */
#ifndef PREFREC_HOST_PACKSET_H
#define PREFREC_HOST_PACKSET_H

#include <stddef.h>
#include <stdio.h>

#include "prefrec/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PREFREC_PACKSET_MAX 256 /* packs in one set */

typedef struct prefrec_packset_shard {
    prefrec_engine *engine; /* over engines[owner]'s item pack and this shard */
    size_t owner; /* index in prefrec_packset.engines */
    prefrec_pack *pack;
    void *bytes;
} prefrec_packset_shard;

typedef struct prefrec_packset {
    size_t n;
    prefrec_engine **engines; /* n of them, in the order added (a directory: by file name) */
    prefrec_pack **packs;
    void **bytes;
    prefrec_pack *shard; /* the customer shard given with a single item pack, or NULL */
    void *shard_bytes;
    size_t n_shards; /* prefrec_packset_add_shards: shards[0 .. n_shards), in file name order */
    prefrec_packset_shard *shards;
} prefrec_packset;

/* Add the pack at path, or every *.pack of the directory path in name order (customer shards
 * "*.cust.*" skipped). shard: a customer pack or shard for the single item pack path, or NULL. */
prefrec_status prefrec_packset_add(prefrec_packset *ps, const char *path, const char *shard,
                                   prefrec_error *err);
/* Add every customer shard "*.cust.*.pack" of directory dir whose affiliate (its manifest's
 * "affiliate") has an item pack in the set, as an engine over that item pack; shards of other
 * affiliates are skipped. A shard made from another item pack (its "item_crc") is an error
 * naming the file. Adds nothing when dir has no shards. */
prefrec_status prefrec_packset_add_shards(prefrec_packset *ps, const char *dir, prefrec_error *err);
void prefrec_packset_free(prefrec_packset *ps); /* accepts a zeroed set */

#ifdef __cplusplus
}
#endif
#endif
