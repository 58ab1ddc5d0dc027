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
 * DIR.tmp.<pid>, then renamed (an earlier DIR is removed only after). */
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
} prefrec_member_export_params;

typedef struct prefrec_member_export_stats {
    size_t records, opted_out, bytes, min_bytes, max_bytes;
    size_t lines_not_in_pack; /* purchase lines of a product or affiliate no pack has */
} prefrec_member_export_stats;

prefrec_status prefrec_member_export(const prefrec_member_export_params *mp, const char *dir,
                                     prefrec_member_export_stats *st, prefrec_error *err);

/* 1 if code is in the sorted list. */
int prefrec_member_listed(const char *const *sorted, size_t n, const char *code);

#ifdef __cplusplus
}
#endif
#endif
