/* cli_batch.h - campaign batches: `prefrec recommend|plan ... --all|--members FILE --out FILE`.
 * One request per member through prefrec_api_handle (the code a one-member request runs), over
 * threads sharing the read-only engines, written in member order, atomically.
 *
 *   cli_batch_params bp = cli_batch_default_params();
 *   bp.cmd = "recommend"; bp.plan = "recommend"; bp.out_path = "recs.csv";
 *   bp.request = "{\"plan\":\"recommend\",\"k\":10}";     // what every member's request shares
 *   int rc = cli_batch_run(&bp, &packset);                // exit code: 0 ok, 1 error
 *
 * Members: --all = every customer of the packs that serve (the --affiliate's pack and its
 * shards; every pack for plan ratio), in byte order of the code; --members FILE = one code a
 * line, in file order (blank lines and # comments skipped). Unknown or repeated codes are
 * reported as FILE:LINE and fail the run before any work, or, with errors_path, are listed there
 * (CSV where,member,status,message) with every member whose request fails, and the rest served.
 * Output formats: docs in README.md ("Campaign batches") and the usage text of cmd_serve.c. */
#ifndef PREFREC_CLI_BATCH_H
#define PREFREC_CLI_BATCH_H

#include "host/packset.h"

enum { CLI_BATCH_CSV = 0, CLI_BATCH_JSONL = 1 };

typedef struct cli_batch_params {
    const char *cmd; /* "recommend" or "plan", for messages */
    const char *plan; /* "recommend", "ratio", "subscribe" or "stamp" */
    const char *affiliate; /* --affiliate, or NULL */
    const char *members_path; /* --members FILE, or NULL: --all */
    const char *out_path; /* --out FILE (required) */
    const char *errors_path; /* --errors FILE, or NULL: a member that cannot be served fails */
    int format; /* CLI_BATCH_CSV or CLI_BATCH_JSONL */
    int threads; /* >= 1 */
    int verbose; /* progress on stderr even when it is not a terminal */
    const char *request; /* JSON object every member's request shares (no "customer"); borrowed */
    /* members served from their sealed records (prefrec export --records DIR), opened with the
     * card token derived from the shop's token master key: buy again and mixed lists for
     * campaigns. NULL: from the packs' customer sides. */
    const char *records;
    const uint8_t *token_master; /* 32 bytes, with records */
    const struct cli_i18n
        *lang; /* the reasons' language in CSV rows (NULL: the engine's English) */
} cli_batch_params;

cli_batch_params cli_batch_default_params(void); /* CSV, 2 threads */

/* Serve every member (the packs in ps are shared read-only by the threads); returns the exit
 * code (0, or 1 after printing the error). */
int cli_batch_run(const cli_batch_params *bp, const prefrec_packset *ps);

/* The CSV header line (with its '\n') the batch writes first. */
extern const char cli_batch_csv_header[];

#endif
