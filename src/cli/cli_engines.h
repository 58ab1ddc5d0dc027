/* cli_engines.h - load model packs for the serving commands (recommend, plan). */
#ifndef PREFREC_CLI_ENGINES_H
#define PREFREC_CLI_ENGINES_H

#include "prefrec/engine.h"

#define CLI_MAX_PACKS 64

typedef struct cli_engines {
    size_t n;
    void *bytes[CLI_MAX_PACKS], *shard_bytes;
    prefrec_pack *packs[CLI_MAX_PACKS], *shard;
    prefrec_engine *engines[CLI_MAX_PACKS];
} cli_engines;

/* Add the pack at path (a .pack file, or a directory: every *.pack in it, sorted by name,
 * skipping customer shards). shard: optional customer shard for a single item pack. */
prefrec_status cli_engines_add(cli_engines *ce, const char *path, const char *shard, prefrec_error *err);
void cli_engines_free(cli_engines *ce);

#endif
