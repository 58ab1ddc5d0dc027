/* pack_internal.h - the parsed manifest of an open pack, for the core's own readers (model.c,
 * blend.c). Outside the core, packs are read through prefrec/pack.h, which does not expose cJSON:
 * the manifest text (prefrec_pack_manifest_json) can be parsed by whatever JSON library the
 * caller uses. */
#ifndef PREFREC_PACK_INTERNAL_H
#define PREFREC_PACK_INTERNAL_H

#include <cjson/cJSON.h>

#include "prefrec/pack.h"

/* The parsed manifest (a cJSON object); valid until prefrec_pack_free. */
const cJSON *prefrec_pack_manifest(const prefrec_pack *p);

#endif
