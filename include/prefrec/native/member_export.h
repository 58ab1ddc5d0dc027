/* prefrec/native/member_export.h - one sealed member record per member (prefrec/member.h,
 * SECURITY.md), written by `prefrec export --records DIR`.
 *
 *   prefrec_member_export_params mp = {.packs = full, .n_packs = n, .ds = ds, ...};
 *   prefrec_member_export_stats st;
 *   if (prefrec_member_export(&mp, "out/records", &st, &err)) ...
 *
 * A member's state: code, gender and age (the dataset's), per affiliate the products bought with
 * count and first and last day (the dataset's purchase lines, product indices of that affiliate's
 * pack), and the customer vector and bias when the full pack holds the member. Members listed in
 * opt_out get no record (and are counted). Records are token records (kind 1): the member's
 * token is derived from the shop's token master key. DIR holds <member key id, hex>.rec per member
 * and export.json (export id, naming key, issued day, counts): private files, for the shop's
 * backend and its kiosks, never for a web root. DIR is replaced whole: written under
 * DIR.tmp.<pid>, then renamed (an earlier DIR is removed only after).
 *
 * Several ranks (`mpirun -n N prefrec export --records`, docs/mpi.md) use the steps apart: one
 * rank checks DIR (_check_dir) and makes the temporary directory, every rank writes the records
 * of the members it owns (_records with rank and n_ranks set: fnv1a32(code) % n_ranks == rank,
 * the customer shards' rule) from its share of the purchases, one rank writes export.json with
 * the summed counts (_index) and renames the directory into place (_commit), or removes it
 * (_discard) when any rank failed. A member's record depends only on that member's lines, the
 * packs and the keys, so the records are those one process seals (with other nonces). */
#ifndef PREFREC_NATIVE_MEMBER_EXPORT_H
#define PREFREC_NATIVE_MEMBER_EXPORT_H

#include "prefrec/member.h"
#include "prefrec/native/dataset.h"
#include "prefrec/pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prefrec_member_export_params {
    const prefrec_pack *const *packs; /* full packs, one per affiliate */
    size_t n_packs;
    const prefrec_dataset *ds; /* the purchases the packs were trained from */
    uint8_t token_master[PREFREC_MEMBER_KEY_SIZE];
    uint8_t export_id[PREFREC_MEMBER_ID_SIZE];
    uint8_t naming_key[PREFREC_MEMBER_KEY_SIZE];
    const char *const *opt_out; /* member codes; sorted with strcmp */
    size_t n_opt_out;
    int32_t issued_day;
    int rank, n_ranks; /* write only the members of rank (0..n_ranks-1); n_ranks 0 or 1: all */
} prefrec_member_export_params;

typedef struct prefrec_member_export_stats {
    size_t records, opted_out, bytes, min_bytes, max_bytes;
    size_t lines_not_in_pack; /* purchase lines of a product or affiliate no pack has */
} prefrec_member_export_stats;

prefrec_status prefrec_member_export(const prefrec_member_export_params *mp, const char *dir,
                                     prefrec_member_export_stats *st, prefrec_error *err);

/* The steps of prefrec_member_export. _check_dir: an existing dir holds only *.rec and
 * export.json (else PREFREC_E_INVAL, naming what else it holds). _records: this rank's members'
 * <kid>.rec into the existing directory tmp (st: their counts). _index: tmp/export.json with the
 * counts st gives (over all ranks). _commit: tmp renamed to dir, an earlier dir removed after.
 * _discard: removes tmp's *.rec and export.json, then tmp. */
prefrec_status prefrec_member_export_check_dir(const char *dir, prefrec_error *err);
prefrec_status prefrec_member_export_records(const prefrec_member_export_params *mp,
                                             const char *tmp, prefrec_member_export_stats *st,
                                             prefrec_error *err);
prefrec_status prefrec_member_export_index(const prefrec_member_export_params *mp, const char *tmp,
                                           const prefrec_member_export_stats *st,
                                           prefrec_error *err);
prefrec_status prefrec_member_export_commit(const char *tmp, const char *dir, prefrec_error *err);
void prefrec_member_export_discard(const char *tmp);

/* 1 if code is in the sorted list. */
int prefrec_member_listed(const char *const *sorted, size_t n, const char *code);

#ifdef __cplusplus
}
#endif
#endif
