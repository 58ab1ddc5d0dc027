/* load.c - prefrec_dataset_load: an L.POINT directory or a mapping .json, to the loader that reads
 * it (lpoint.c, mapping.c), then the dataset is finished (see prefrec/native/dataset.h). */
#include "prefrec/native/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"

prefrec_load_params prefrec_load_default_params(void) {
    prefrec_load_params p;
    p.skip_bad_rows = 0;
    p.progress = 0;
    p.threads = 0;
    return p;
}

prefrec_status prefrec_dataset_load(const char *path, const prefrec_load_params *params,
                                    prefrec_dataset **out, prefrec_error *err) {
    *out = NULL;
    prefrec_load_params dp = prefrec_load_default_params();
    if (!params) params = &dp;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = strlen(path);
    int is_dir = S_ISDIR(sb.st_mode);
    if (!is_dir && !(n > 5 && !strcmp(path + n - 5, ".json")))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "%s: not an L.POINT directory or a mapping .json file", path);
    prefrec_dataset *ds = prefrec_dataset_new(0);
    if (!ds) return prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
    ds->source = strdup(path);
    prefrec_status st = ds->source ? PREFREC_OK : PREFREC_E_NOMEM;
    if (!st)
        st = is_dir ? prefrec_lpoint_load_(path, params, ds, err)
                    : prefrec_mapping_load_(path, params, ds, err);
    if (!st) st = prefrec_dataset_finish_(ds, 0, err);
    if (st) {
        if (st == PREFREC_E_NOMEM && err && !err->msg[0])
            prefrec_error_set(err, st, "out of memory");
        prefrec_dataset_free(ds);
        return st;
    }
    *out = ds;
    return PREFREC_OK;
}
