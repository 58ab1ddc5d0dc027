/* records_dump.c - a records directory (prefrec export --records DIR) as text, for comparing the
 * records of two exports (tests/mpi/export.sh). Two exports never have the same bytes: each
 * record is sealed with a fresh nonce and salt and the files are named under a fresh naming key.
 * What must be the same is what each member's record opens to; so for every code given (one a
 * line) this prints, with the shop's token key, the record's header fields but nonce, salt and
 * key id, and its payload (the member's state, encoded again: code, gender, age, per affiliate
 * the items with counts and days, the customer vector and bias), as hex, or "-" when the member
 * has no record. Then the number of *.rec files in DIR, so that a file no code opens is seen.
 * Usage: records_dump DIR TOKEN_KEY_FILE CODES_FILE */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/file.h"
#include "host/records.h"
#include "prefrec/member.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: records_dump DIR TOKEN_KEY_FILE CODES_FILE\n");
        return 2;
    }
    prefrec_error err = {0};
    char *key_text = NULL, *codes = NULL;
    size_t key_len = 0, codes_len = 0;
    uint8_t master[PREFREC_MEMBER_KEY_SIZE];
    if (prefrec_file_read(argv[2], 4096, &key_text, &key_len, &err) ||
        prefrec_file_read(argv[3], 1 << 26, &codes, &codes_len, &err)) {
        fprintf(stderr, "records_dump: %s\n", err.msg);
        return 1;
    }
    while (key_len && (key_text[key_len - 1] == '\n' || key_text[key_len - 1] == ' ')) key_len--;
    if (prefrec_unhex_n(key_text, key_len, master, sizeof master)) {
        fprintf(stderr, "records_dump: %s: not 64 hex digits\n", argv[2]);
        return 1;
    }
    size_t opened = 0;
    for (char *code = strtok(codes, "\n"); code; code = strtok(NULL, "\n")) {
        uint8_t token[PREFREC_MEMBER_ID_SIZE], *pl = NULL;
        size_t pn = 0;
        prefrec_member_state *m = NULL;
        prefrec_member_header h;
        prefrec_status s = prefrec_member_token(master, code, strlen(code), token, &err);
        if (!s)
            s = prefrec_records_open(argv[1], code, PREFREC_MEMBER_KIND_TOKEN, token, sizeof token,
                                     &m, &h, &err);
        if (s == PREFREC_E_NOTFOUND) {
            printf("%s -\n", code);
            continue;
        }
        if (!s) s = prefrec_member_state_encode(m, &pl, &pn, &err);
        if (s) {
            fprintf(stderr, "records_dump: %s: %s\n", code, err.msg);
            return 1;
        }
        printf("%s version %u kind %u day %u payload %u export ", code, h.version, h.kind,
               h.issued_day, h.payload_len);
        for (size_t i = 0; i < sizeof h.export_id; i++) printf("%02x", h.export_id[i]);
        printf(" state ");
        for (size_t i = 0; i < pn; i++) printf("%02x", pl[i]);
        printf("\n");
        prefrec_member_wipe_free(pl, pn);
        prefrec_member_state_free(m);
        opened++;
    }
    size_t files = 0;
    DIR *d = opendir(argv[1]);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        files += n > 4 && !strcmp(e->d_name + n - 4, ".rec");
    }
    if (d) closedir(d);
    printf("records opened %zu, files %zu\n", opened, files);
    free(key_text);
    free(codes);
    return 0;
}
