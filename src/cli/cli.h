/* cli.h - shared pieces of the prefrec command: subcommand entry points and option helpers.
 * Each subcommand lives in src/cli/cmd_<name>.c and returns a process exit code
 * (0 ok, 1 error in the input or the work, 2 usage). */
#ifndef PREFREC_CLI_H
#define PREFREC_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "prefrec/status.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    const char *summary;
} cli_command;

/* The ranks of this run (src/host/dist.h): NULL in the normal build; in the native-mpi build
 * the MPI world of the commands that run sharded (score, validate). */
#include "host/dist.h"
void cli_set_dist(prefrec_dist *d);
prefrec_dist *cli_dist(void);
/* 1 when the command runs sharded: the native-mpi build, whatever the number of ranks. */
#define CLI_SHARDED() (prefrec_dist_built_with_mpi() && cli_dist() != NULL)
/* After a sharded command: rank 0 prints the ranks' peak memory and bytes sent (collective). */
#include "prefrec/native/shard.h"
void cli_dist_report(const char *cmd, const prefrec_shard_info *info);

/* Print "prefrec <cmd>: <msg>" for err to stderr and return exit code 1. */
int cli_fail(const char *cmd, const prefrec_error *err);
/* Print a usage error "prefrec <cmd>: <msg>" and the usage text; return 2. */
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...);
/* 1 if stderr is a terminal (progress lines are only drawn there). */
int cli_stderr_is_tty(void);
/* Monotonic seconds, for the timings the commands print. */
double cli_now(void);
/* argv[*i] is "--name VALUE" or "--name=VALUE": returns VALUE (advancing *i past it), or NULL
 * when argv[*i] is another option; sets *missing when the value is absent. */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name, int *missing);
/* Whole-string decimal integer in [lo, hi] / finite number: 0 and *out set, or -1. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double *out);
/* The opt-out list of `export --opt-out` and `train --opt-out` (cli_optout.c): one member code
 * a line, '#' starts a comment line, spaces around a code ignored; a line with a NUL byte or over
 * PREFREC_MEMBER_CODE_MAX bytes is an error naming FILE:LINE. *codes point into *text (the
 * caller frees both, also on error); sorted, without repeats; *n of them. */
prefrec_status cli_read_opt_out(const char *path, char **text, char ***codes, size_t *n,
                                prefrec_error *err);

/* The member CODE's record in a records directory (prefrec export --records) opened with the
 * shop's token master key file, the member's card token (32 hex) or the record key (64 hex):
 * exactly one of the three. *out: the decoded state (free with prefrec_member_state_free). */
struct prefrec_member_state;
struct prefrec_member_header;
/* A file of exactly 2n hex digits (a key), trailing white space allowed, into out[n]. */
prefrec_status cli_read_hex_file(const char *path, uint8_t *out, size_t n, prefrec_error *err);
prefrec_status cli_member_load(const char *records, const char *code, const char *key_path,
                               const char *token_hex, const char *key_hex,
                               struct prefrec_member_state **out, struct prefrec_member_header *h,
                               prefrec_error *err);

#endif
