/* test_regress_pack_strings.c - found by fuzz/fuzz_pack.c: a string table whose offsets jump
 * past the blob and come back (off = {0, 100000, 6} over a 6-byte blob) made
 * prefrec_pack_strings read blob[99999] before seeing that the next offset goes down. The last
 * offset equals the blob size, so the old end check passed. Fixed in src/core/pack.c: each
 * offset is checked against the blob size before it is used. */
#include "check.h"
#include "pack_builder.h"

static const char SSTR[6] = {'a', 'b', 'c', 0, 'Z', 0};

static void check_table(const uint32_t off[3], prefrec_status want, const char *msg) {
    tb t[2] = {{"s.off", PREFREC_DT_U32, 1, {3}, off, 12},
               {"s.str", PREFREC_DT_U8, 1, {6}, SSTR, 6}};
    size_t len;
    unsigned char *b = tb_build("{}", t, 2, &len);
    prefrec_pack *p = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_pack_open(b, len, &p, &err), PREFREC_OK);
    prefrec_strings s = {0};
    CHECK_EQ_INT(prefrec_pack_strings(p, "s", &s, &err), want);
    if (msg)
        CHECK_CONTAINS(err.msg, msg);
    else {
        CHECK_EQ_INT(s.n, 2);
        CHECK_STR(prefrec_strings_at(&s, 1), "Z");
    }
    prefrec_pack_free(p);
    free(b);
}

int main(void) {
    static const uint32_t good[3] = {0, 4, 6}, jump[3] = {0, 100000, 6}, edge[3] = {0, 7, 6},
                          down[3] = {0, 4, 3};
    check_table(good, PREFREC_OK, NULL);
    check_table(jump, PREFREC_E_FORMAT,
                "string table 's': offset 1 is not ascending within the blob");
    check_table(edge, PREFREC_E_FORMAT, "offset 1 is not ascending within the blob");
    check_table(down, PREFREC_E_FORMAT, "end at the blob size 6");
    return check_report("test_regress_pack_strings");
}
