/* test_foldin.c - fold-in on generated data: a pack trained by the CLI on a small generated data
 * set; known customers served from their purchase history alone must get the same top-30 as from
 * their trained state with the default ranker (exactly: the blend is a function of the history),
 * and a close one with the NeuMF fold-in (bound below; bench/foldin.c reports the figure). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "host/file.h"
#include "prefrec/native/foldin_check.h"
#include "prefrec/native/pack_write.h"

int main(void) {
    char dir[] = "/tmp/prefrec_foldin_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s gen --out %s/data --scale 0.03 --seed 3 >/dev/null 2>&1 && "
             "%s train --data %s/data --affiliate A01 --epochs 4 --threads 2 --seed 3 --quiet "
             "--out %s/packs >/dev/null 2>&1",
             PREFREC_CLI, dir, PREFREC_CLI, dir, dir);
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/packs/A01.pack", dir);
    void *bytes = NULL;
    size_t len;
    prefrec_pack *pk = NULL;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_file_read(cmd, PREFREC_PACK_FILE_MAX, (char **)&bytes, &len, &err),
                 PREFREC_OK);
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &pk, &err), PREFREC_OK);
    if (pk) {
        prefrec_foldin_stats st;
        CHECK_EQ_INT(prefrec_foldin_overlap(pk, PREFREC_RANKER_BLEND, 200, &st, &err), PREFREC_OK);
        printf("blend: %d customers, mean overlap %.3f, min %.3f\n", st.customers, st.mean_overlap,
               st.min_overlap);
        CHECK(st.customers >= 50);
        CHECK_NEAR(st.min_overlap, 1.0, 0);
        CHECK_EQ_INT(prefrec_foldin_overlap(pk, PREFREC_RANKER_NEUMF, 200, &st, &err), PREFREC_OK);
        printf("neumf: %d customers, mean overlap %.3f, min %.3f\n", st.customers, st.mean_overlap,
               st.min_overlap);
        CHECK(st.mean_overlap >= 0.6); /* 0.916 when written */
    }
    prefrec_pack_free(pk);
    free(bytes);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_report("test_foldin");
}
