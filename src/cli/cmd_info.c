/* placeholder until the data layer lands (issue 2) */
#include "cli.h"
int prefrec_cmd_info(int argc, char **argv) { fprintf(stderr, "prefrec info: not built yet\n"); return 1; }
