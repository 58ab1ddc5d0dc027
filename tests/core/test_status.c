/* test_status.c - status names and message formatting. */
#include "check.h"
#include "prefrec/status.h"

int main(void) {
    prefrec_error e;
    prefrec_error_clear(&e);
    CHECK_EQ_INT(e.status, PREFREC_OK);
    CHECK_STR(e.msg, "");
    CHECK_EQ_INT(prefrec_error_set(&e, PREFREC_E_PARSE, "%s:%d:%d: bad", "a.csv", 3, 7),
                 PREFREC_E_PARSE);
    CHECK_EQ_INT(e.status, PREFREC_E_PARSE);
    CHECK_STR(e.msg, "a.csv:3:7: bad");
    CHECK_EQ_INT(prefrec_error_set(NULL, PREFREC_E_IO, "x"), PREFREC_E_IO);
    CHECK_STR(prefrec_status_str(PREFREC_OK), "ok");
    CHECK_STR(prefrec_status_str(PREFREC_E_CHECKSUM), "checksum mismatch");
    CHECK_STR(prefrec_status_str(PREFREC_E_DENIED), "cannot open");
    CHECK_STR(prefrec_status_str(PREFREC_E_STALE), "other export");
    CHECK_STR(prefrec_status_str((prefrec_status)-99), "unknown status");
    /* a long message is truncated, never overflows */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    prefrec_error_set(&e, PREFREC_E_INVAL, "%s", big);
    CHECK_EQ_INT(strlen(e.msg), PREFREC_ERROR_MSG_MAX - 1);
    return check_report("test_status");
}
