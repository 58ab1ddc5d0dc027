/* foldin.c - how close the on-device fold-in gets to the trained customers: for known customers
 * of a pack, the top-30 served from their trained state vs from their purchase history alone,
 * per ranker. Prints the mean and minimum overlap and the time per request.
 *   build/native/bench_foldin PACK [N_CUSTOMERS (500)] */
#include <stdio.h>
#include <stdlib.h>

#include "host/file.h"
#include "prefrec/native/foldin_check.h"
#include "prefrec/native/pack_write.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PACK [N]\n", argv[0]);
        return 2;
    }
    int limit = argc > 2 ? atoi(argv[2]) : 500;
    prefrec_error err = {0};
    void *bytes;
    size_t len;
    prefrec_pack *pk;
    if (prefrec_file_read(argv[1], PREFREC_PACK_FILE_MAX, (char **)&bytes, &len, &err) ||
        prefrec_pack_open(bytes, len, &pk, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const int rankers[2] = {PREFREC_RANKER_NEUMF, PREFREC_RANKER_BLEND};
    const char *names[2] = {"neumf", "blend"};
    for (int r = 0; r < 2; r++) {
        prefrec_foldin_stats st;
        if (prefrec_foldin_overlap(pk, rankers[r], limit, &st, &err)) {
            printf("%s: %s\n", names[r], err.msg);
            continue;
        }
        printf("%s: %d customers, top-30 overlap trained vs folded-in: mean %.3f, min %.3f; "
               "%.1f us known, %.1f us folded-in per request\n",
               names[r], st.customers, st.mean_overlap, st.min_overlap, st.us_known, st.us_folded);
    }
    prefrec_pack_free(pk);
    free(bytes);
    return 0;
}
