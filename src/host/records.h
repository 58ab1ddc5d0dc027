/* records.h - a member's sealed record in a records directory (prefrec export --records DIR:
 * DIR/export.json with the export id and naming key, DIR/<member key id as hex>.rec), opened
 * with the member's secret: what a kiosk and the CLI do (native and WASI; the browser shim does
 * the same in JS). The portable reading and opening is prefrec/member.h.
 *
 *   prefrec_member_state *m; prefrec_member_header h;
 *   if (prefrec_records_open("rec", "M000034966", PREFREC_MEMBER_KIND_TOKEN, token, 16, &m, &h,
 *                            &err)) puts(err.msg);   // "cannot open ...", "no record for ..."
 *
 * kind: PREFREC_MEMBER_KIND_TOKEN (the card token), PREFREC_MEMBER_KIND_PIN (the PIN's bytes)
 * or 0 (the record key, 32 bytes, as the shop's backend hands it out). Errors: those of
 * prefrec_member_open* and _state_decode, PREFREC_E_NOTFOUND "no record for member CODE in DIR"
 * (a code that is no member and one that opted out look the same), PREFREC_E_PARSE for a bad
 * export.json. */
#ifndef PREFREC_HOST_RECORDS_H
#define PREFREC_HOST_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "prefrec/member.h"

prefrec_status prefrec_records_open(const char *dir, const char *code, int kind,
                                    const uint8_t *secret, size_t n, prefrec_member_state **out,
                                    prefrec_member_header *h, prefrec_error *err);
/* hex digits (exactly 2n of them: a NUL-terminated s, or s[0..len)) into n bytes; -1 if not
 * (out may then be partly written). */
int prefrec_unhex(const char *s, uint8_t *out, size_t n);
int prefrec_unhex_n(const char *s, size_t len, uint8_t *out, size_t n);

#endif
