/* cli_util.c - error and usage printing shared by the subcommands. */
#include <stdarg.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *cmd, const prefrec_error *err) {
    fprintf(stderr, "prefrec %s: error: %s\n", cmd,
            err && err->msg[0] ? err->msg : prefrec_status_str(err ? err->status : PREFREC_E_INVAL));
    return 1;
}

int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "prefrec %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

int cli_stderr_is_tty(void) { return isatty(2); }
