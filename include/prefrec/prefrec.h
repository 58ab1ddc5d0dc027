/* prefrec/prefrec.h - the public engine API in one include (what `cmake --install` ships with
 * libprefrec.a and prefrec.pc): packs, the engine, the JSON API, the plans.
 *
 *   #include <prefrec/prefrec.h>      // cc app.c $(pkg-config --cflags --libs prefrec)
 *
 *   prefrec_pack *pk;  prefrec_engine *e;  prefrec_error err;
 *   prefrec_pack_open(bytes, len, &pk, &err);               // bytes: an item pack you read
 *   prefrec_engine_new(pk, NULL, &e, &err);
 *   const prefrec_engine *es[1] = {e};
 *   char *answer = prefrec_api_handle(es, 1, "{\"gender\":\"F\",\"age\":34,\"k\":5}");
 *   puts(answer);  prefrec_api_free(answer);
 *   prefrec_engine_free(e);  prefrec_pack_free(pk);
 *
 * Every header here is portable C11 (native, Emscripten, WASI): no files, threads or globals.
 * The trainer's headers (prefrec/native/) are not part of it. */
#ifndef PREFREC_PREFREC_H
#define PREFREC_PREFREC_H

#include "prefrec/api.h"
#include "prefrec/blend.h"
#include "prefrec/budget.h"
#include "prefrec/date.h"
#include "prefrec/demog.h"
#include "prefrec/engine.h"
#include "prefrec/model.h"
#include "prefrec/pack.h"
#include "prefrec/pack_sign.h"
#include "prefrec/rng.h"
#include "prefrec/sample.h"
#include "prefrec/stamp.h"
#include "prefrec/status.h"
#include "prefrec/topk.h"

#endif
