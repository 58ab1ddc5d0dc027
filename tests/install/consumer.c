/* consumer.c - another C program using the installed engine (tests/cli/install.sh builds it
 * against `cmake --install` output with pkg-config only): reads an item pack and answers one
 * JSON request, as a shop's own server or a kiosk vendor's program would. */
#include <prefrec/prefrec.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: consumer ITEM.pack REQUEST_JSON\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = malloc(n > 0 ? (size_t)n : 1);
    size_t got = bytes ? fread(bytes, 1, (size_t)n, f) : 0;
    fclose(f);
    prefrec_pack *pk = NULL;
    prefrec_engine *e = NULL;
    prefrec_error err = {0};
    if (got != (size_t)n || prefrec_pack_open(bytes, got, &pk, &err) ||
        prefrec_engine_new(pk, NULL, &e, &err)) {
        fprintf(stderr, "consumer: %s\n", err.msg[0] ? err.msg : "cannot read the pack");
        prefrec_pack_free(pk);
        free(bytes);
        return 1;
    }
    const prefrec_engine *es[1] = {e};
    char *answer = prefrec_api_handle(es, 1, argv[2]);
    puts(answer ? answer : "(out of memory)");
    prefrec_api_free(answer);
    prefrec_engine_free(e);
    prefrec_pack_free(pk);
    free(bytes);
    return 0;
}
