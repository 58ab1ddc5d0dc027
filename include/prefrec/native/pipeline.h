/* prefrec/native/pipeline.h - `prefrec train` as a library call: per affiliate, the deck's preference
 * scores as of a day, the NeuMF score model trained on them, the default ranker (blend) fitted on
 * the purchases before that day, and one model pack holding both, written once (native).
 *
 *   prefrec_pipeline_params pp = prefrec_pipeline_default_params();
 *   pp.out_dir = "demo/packs";  pp.train.threads = 2;
 *   prefrec_pipeline_result res;
 *   if (prefrec_pipeline_train(ds, &pp, &res, &err)) ...;   // res.n_trained packs in out_dir
 *   prefrec_pipeline_result_free(&res);
 *
 * Affiliates with fewer than 20 scored pairs are skipped (said through pp.log). Deterministic:
 * the same data, params and seed give byte-identical packs whatever the thread count. */
#ifndef PREFREC_PIPELINE_H
#define PREFREC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/dataset.h"
#include "prefrec/native/score.h"
#include "prefrec/status.h"
#include "prefrec/native/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One affiliate's outcome, as the CLI prints it and train.json records it. */
typedef struct prefrec_pipeline_affiliate {
    char code[64];
    size_t n_pairs;
    int32_t n_customers, n_products;
    prefrec_train_report report;
    size_t pack_bytes;
} prefrec_pipeline_affiliate;

typedef struct prefrec_pipeline_params {
    prefrec_score_params score; /* the targets, as of score.asof_day */
    prefrec_train_params train; /* the NeuMF (train.label is set per affiliate) */
    const char *affiliate; /* one code, or NULL / "all" (default) */
    int32_t neighbors; /* per product in the served blend (PREFREC_BLEND_NEIGHBORS);
                                    0: the NeuMF score model only */
    int32_t min_group; /* the served blend's aggregates rest on at least this many members
                          (PREFREC_BLEND_MIN_GROUP, blend_export.h); 0: no rule */
    const char *out_dir; /* writes out_dir/<affiliate>.pack atomically (required) */
    const char *dump_dir; /* optional: out_dir/<affiliate>.pairs.csv of the training pairs */
    const char *json_path; /* optional: train.json (figures per affiliate and epoch) */
    /* optional callbacks: a progress or note line (no newline), an affiliate finished */
    void (*log)(void *ctx, const char *line);
    void (*done)(void *ctx, const prefrec_pipeline_affiliate *a);
    void *ctx;
} prefrec_pipeline_params;

prefrec_pipeline_params prefrec_pipeline_default_params(void);

typedef struct prefrec_pipeline_result {
    int n_trained; /* packs written */
    prefrec_pipeline_affiliate *affiliates; /* n_trained of them; caller frees (result_free) */
} prefrec_pipeline_result;

/* Train every requested affiliate of ds. Errors: unknown affiliate (the message lists the
 * known ones), none with enough pairs, I/O, out of memory; packs already written stay. */
prefrec_status prefrec_pipeline_train(const prefrec_dataset *ds, const prefrec_pipeline_params *p,
                                      prefrec_pipeline_result *out, prefrec_error *err);
void prefrec_pipeline_result_free(prefrec_pipeline_result *r); /* accepts NULL */

/* The same, run by every rank of d (mpirun -n N prefrec train, docs/mpi.md) on its shard ds
 * (prefrec_dataset_load_sharded; customer_key: the shard info's, the one-process order). Each
 * rank scores its own customers and trains the NeuMF data-parallel (its customers' rows and its
 * share of every step's pairs; item-side and MLP gradients summed over the ranks in rank order:
 * deterministic for a given N and seed, within a tolerance of one process); rank 0 gathers the
 * per-customer parts (codes, demographics, bought sets, customer rows) in the one-process order
 * and writes the packs, whose other sections are the one-process bytes. With neighbors > 0 the
 * served rankers (blend, due, mixed share) are fitted by every rank on its customers, their
 * item-side statistics summed over the ranks as integers and their tuning sums taken in the
 * one-process customer order, so those sections are the one-process bytes too. Collective;
 * every rank returns the same status and message. out: filled on rank 0. */
typedef struct prefrec_dist prefrec_dist;
prefrec_status prefrec_pipeline_train_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                           prefrec_dist *d, const prefrec_pipeline_params *p,
                                           prefrec_pipeline_result *out, prefrec_error *err);

#ifdef __cplusplus
}
#endif
#endif
