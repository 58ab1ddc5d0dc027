/* cli_i18n.h - shopper-facing text in the CLI's tables and CSV files, in the shopper's
 * language: the pages' own message catalogues (web/i18n/<lang>.json, compiled in), so the CLI
 * and the pages say the same words. web/i18n/i18n.js is the pages' side of the same rules.
 *
 *   const cli_i18n *l = cli_i18n_get(cli_i18n_lang(NULL));     // NULL: from the locale
 *   cli_i18n_reason(l, "repeat", NULL, NULL, 9, 11, buf, sizeof buf);
 *   // en "You buy this about every 9 days; last bought 11 days ago"
 *   // ko "보통 9일마다 구매 · 마지막 구매 11일 전"
 * Plurals: English "one" for 1, else "other"; Korean "other" (as Intl.PluralRules); numbers
 * grouped by thousands with "," (as Intl.NumberFormat for en and ko). */
#ifndef PREFREC_CLI_I18N_H
#define PREFREC_CLI_I18N_H

#include <stddef.h>

#include "prefrec/engine.h"

typedef struct cli_i18n cli_i18n;

/* "ko" or "en" for a --lang value (NULL: LC_ALL, LC_MESSAGES or LANG: "ko..." -> ko, else en);
 * NULL for a language with no catalogue. */
const char *cli_i18n_lang(const char *arg);
/* The catalogue of "ko" or "en" (parsed once; never freed); NULL if it cannot be read. */
const cli_i18n *cli_i18n_get(const char *lang);
/* The reason sentence for reason kind `kind` ("bought_with", "category", "segment",
 * "predicted", "repeat") with its arguments; writes at most cap bytes (cut on a UTF-8 character)
 * and returns the length it needed. */
size_t cli_i18n_reason(const cli_i18n *l, const char *kind, const char *product,
                       const char *category, int every_days, int days_since, char *buf, size_t cap);
/* The same for an answer's item (JSON: reason_kind, reason_product_name, reason_category,
 * every_days, days_since). */
struct cJSON;
size_t cli_i18n_json_reason(const cli_i18n *l, const struct cJSON *item, char *buf, size_t cap);
/* The same for an engine item. */
size_t cli_i18n_item_reason(const cli_i18n *l, const prefrec_engine *e, const prefrec_item *it,
                            char *buf, size_t cap);

#endif
