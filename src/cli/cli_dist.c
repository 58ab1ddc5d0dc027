/* cli_dist.c - the command's ranks (src/host/dist.h): MPI is started by main for the commands
 * that run sharded (score, validate; docs/mpi.md) and only in the native-mpi build. */
#include "cli.h"

static prefrec_dist *the_dist; /* set once by main before the command runs */

void cli_set_dist(prefrec_dist *d) { the_dist = d; }
prefrec_dist *cli_dist(void) { return the_dist; }
