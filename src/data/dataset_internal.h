/* dataset_internal.h - private pieces shared by the dataset loaders (dataset.c, lpoint.c,
 * mapping.c). Not installed, not for other modules. */
#ifndef PREFREC_DATASET_INTERNAL_H
#define PREFREC_DATASET_INTERNAL_H

#include "prefrec/dataset.h"

/* Reallocate the 11 row columns of ds to hold cap rows (n_rows unchanged). 0 ok, -1 no memory. */
int prefrec_dataset_grow_(prefrec_dataset *ds, size_t cap);

/* The two layouts. ds comes from prefrec_dataset_new(0); they fill it (rows, dictionaries,
 * catalog, demographics) and leave prefrec_dataset_finish to the caller. */
prefrec_status prefrec_lpoint_load_(const char *dir, const prefrec_load_params *p,
                                    prefrec_dataset *ds, prefrec_error *err);
prefrec_status prefrec_mapping_load_(const char *json_path, const prefrec_load_params *p,
                                     prefrec_dataset *ds, prefrec_error *err);

#endif
