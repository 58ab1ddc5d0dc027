/* eval_dist.c - the one exchange the sharded evaluation adds to the rankers' (eval_internal.h):
 * records keyed by the customers' places in the one-process order, gathered to rank 0 and put
 * in that order (the per-user figures, eval.c; the bootstrap pool, eval_boot.c). */
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "host/dist.h"

static int cmp_key(const void *a, const void *b) {
    uint64_t p, q;
    memcpy(&p, a, sizeof p);
    memcpy(&q, b, sizeof q);
    return (p > q) - (p < q);
}

int eval_gather_sorted(prefrec_dist *d, const char *recs, size_t n, size_t rec, char **all,
                       size_t *m) {
    int nr = prefrec_dist_size(d);
    size_t *cnt = calloc((size_t)nr, sizeof *cnt);
    *all = NULL;
    *m = 0;
    /* PREFREC_MPI_FAIL=R:records (tests/mpi/fail.sh): rank R fails here as if cnt had failed */
    int rc = cnt && !prefrec_dist_hook(d, "records")
        ? prefrec_dist_gatherv(d, recs ? recs : "", n * rec, 0, all, cnt)
        : -1;
    if (!rc && prefrec_dist_rank(d) == 0) {
        size_t tot = 0;
        for (int r = 0; r < nr; r++) tot += cnt[r];
        *m = tot / rec;
        if (*m > 1) qsort(*all, *m, rec, cmp_key);
    }
    free(cnt);
    if (rc) {
        free(*all);
        *all = NULL;
        *m = 0;
    }
    return rc;
}
