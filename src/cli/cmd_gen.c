/* placeholder until the data layer lands (issue 2) */
#include "cli.h"
int prefrec_cmd_gen(int argc, char **argv) { fprintf(stderr, "prefrec gen: not built yet\n"); return 1; }
