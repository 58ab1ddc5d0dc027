/* pipeline_internal.h - what pipeline.c (one process) and pipeline_dist.c (the sharded path,
 * mpirun -n N prefrec train: docs/mpi.md) share: an affiliate's training set, the pack's extras
 * and the steps both paths take. Internal to src/train. */
#ifndef PREFREC_TRAIN_PIPELINE_INTERNAL_H
#define PREFREC_TRAIN_PIPELINE_INTERNAL_H

#include "host/dist.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/native/pipeline.h"
#include "prefrec/repeat.h"

/* One affiliate's training set with local (dense) indices. */
typedef struct aff_set {
    prefrec_train_data td;
    int32_t *cust, *prod, *cglob, *pglob, *pcat, *psub;
    float *target, *age;
    int8_t *gender;
    uint8_t *valid; /* the split (pl_set_split) */
    const char **pcode, **pname, **ccode;
} aff_set;

/* What the pack carries besides the NeuMF: the served blend fitted on the affiliate's purchases
 * before the as-of day, each product's mean training score (the fold-in's target for a bought
 * product) and each customer's purchase lines in the affiliate (plan 1's weights). */
typedef struct pack_extras {
    prefrec_blend_tensors bt;
    float *ptarget, *lines;
    double mean;
    float *prior; /* buy again: the due ranker's per-product prior, pack indices */
    prefrec_repeat_params rp;
    double share, shrink; /* the mixed list's */
} pack_extras;

/* Defined in pipeline.c, where each is described. */
double pl_now(void);
void pl_note(const prefrec_pipeline_params *p, const char *fmt, ...);
prefrec_status pl_make_dir(const char *dir, prefrec_error *err);
void pl_aff_free(aff_set *a);
prefrec_status pl_set_split(aff_set *a, const prefrec_train_params *tp, prefrec_error *err);
void pl_extras_free(pack_extras *e);
void pl_note_min_group(const prefrec_pipeline_params *p, const char *code, const pack_extras *e);
prefrec_status pl_fit_extras(const prefrec_dataset *ds, int32_t aff, int32_t asof, const aff_set *a,
                             const prefrec_train_data *td, const int32_t *pmap, int32_t P,
                             prefrec_dist *d, const uint64_t *customer_key,
                             const prefrec_train_params *tp, int32_t neighbors, int32_t min_group,
                             pack_extras *e, prefrec_error *err);
int pl_product_side(const prefrec_dataset *ds, const int32_t *pmap, int32_t P, aff_set *a);
prefrec_status pl_build_set(const prefrec_dataset *ds, const prefrec_scores *s, aff_set *a,
                            prefrec_error *err);
prefrec_status pl_dump_pairs(const aff_set *a, const char *path, prefrec_error *err);
prefrec_status pl_write_json(const prefrec_pipeline_params *p, const char *asof,
                             const prefrec_pipeline_result *r, prefrec_error *err);
prefrec_status pl_affiliate_range(const prefrec_dataset *ds, const char *name, int32_t *lo,
                                  int32_t *hi, prefrec_error *err);
prefrec_status pl_train_begin(const prefrec_dataset *ds, int32_t n_aff, const char ***cats,
                              int32_t *n_cat, const char ***subs, int32_t *n_sub,
                              prefrec_pipeline_result *out, prefrec_error *err);

#endif
