/* cli_dist.c - the command's ranks (src/host/dist.h): MPI is started by main for the commands
 * that run sharded (score, validate; docs/mpi.md) and only in the native-mpi build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"

static prefrec_dist *the_dist; /* set once by main before the command runs */

void cli_set_dist(prefrec_dist *d) { the_dist = d; }
prefrec_dist *cli_dist(void) { return the_dist; }

/* Per rank: bytes of the purchase file read, lines owned, peak memory (the kernel's high-water
 * mark of resident memory) and bytes sent to other ranks. Collective; rank 0 prints, in rank
 * order: one summary line, and a line per rank with PREFREC_MPI_STATS=1. */
void cli_dist_report(const char *cmd, const prefrec_shard_info *info) {
    prefrec_dist *d = cli_dist();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t mine[7] = {info->bytes_read,
                        info->lines_kept,
                        (uint64_t)ru.ru_maxrss * 1024,
                        prefrec_dist_bytes_sent(d),
                        (uint64_t)(info->sec_route * 1e6),
                        (uint64_t)(info->sec_exchange * 1e6),
                        (uint64_t)(info->sec_parse * 1e6)};
    size_t counts[1024];
    char *all = NULL;
    int n = prefrec_dist_size(d);
    if (n > 1024 || prefrec_dist_gatherv(d, mine, sizeof mine, 0, &all, counts) || !all) {
        free(all);
        return;
    }
    const char *each = getenv("PREFREC_MPI_STATS");
    uint64_t peak = 0, sent = 0;
    int at = 0;
    for (int r = 0; r < n; r++) {
        uint64_t v[7];
        memcpy(v, all + (size_t)r * sizeof v, sizeof v);
        if (each && !strcmp(each, "1"))
            fprintf(stderr,
                    "prefrec %s: rank %d of %d: read %.1f MB, owns %llu lines, peak memory %.1f "
                    "MiB, sent %.1f MB; read+route %.2f s, exchange %.2f s, parse %.2f s\n",
                    cmd, r, n, (double)v[0] / 1e6, (unsigned long long)v[1],
                    (double)v[2] / 1048576.0, (double)v[3] / 1e6, (double)v[4] / 1e6,
                    (double)v[5] / 1e6, (double)v[6] / 1e6);
        if (v[2] > peak) peak = v[2], at = r;
        sent += v[3];
    }
    fprintf(stderr,
            "prefrec %s: %d ranks: largest peak memory %.1f MiB (rank %d), %.1f MB sent "
            "between ranks\n",
            cmd, n, (double)peak / 1048576.0, at, (double)sent / 1e6);
    free(all);
}
