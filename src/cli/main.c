/* main.c - the prefrec command: dispatch to a subcommand (src/cli/cmd_*.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int prefrec_cmd_info(int argc, char **argv);
int prefrec_cmd_gen(int argc, char **argv);
int prefrec_cmd_score(int argc, char **argv);
int prefrec_cmd_validate(int argc, char **argv);
int prefrec_cmd_eval(int argc, char **argv);
int prefrec_cmd_train(int argc, char **argv);
int prefrec_cmd_predict(int argc, char **argv);
int prefrec_cmd_inspect(int argc, char **argv);
int prefrec_cmd_export(int argc, char **argv);
int prefrec_cmd_member(int argc, char **argv);
int prefrec_cmd_recommend(int argc, char **argv);
int prefrec_cmd_plan(int argc, char **argv);

static const cli_command commands[] = {
    {"gen", prefrec_cmd_gen, "write a demo data set in the L.POINT layout"},
    {"info", prefrec_cmd_info, "summarise a data set (L.POINT directory or mapping .json)"},
    {"score", prefrec_cmd_score, "preference score per (affiliate, customer, product) as CSV"},
    {"validate", prefrec_cmd_validate, "check the score: repurchase rate by score threshold"},
    {"eval", prefrec_cmd_eval, "rank products for customers; measure what they buy next"},
    {"train", prefrec_cmd_train, "train the NeuMF score model per affiliate; write model packs"},
    {"predict", prefrec_cmd_predict, "predicted scores of a customer from a model pack"},
    {"inspect", prefrec_cmd_inspect, "print a model pack's manifest and tensor table"},
    {"export", prefrec_cmd_export, "split a pack into the web's item pack + customer shards"},
    {"member", prefrec_cmd_member, "a member's card token; their sealed record opened"},
    {"recommend", prefrec_cmd_recommend,
     "top-k never-bought products for a customer (portable engine)"},
    {"plan", prefrec_cmd_plan, "marketing plans: ratio (affiliate by share), subscribe, stamp"},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: prefrec <command> [options]   (prefrec <command> --help for its "
            "options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    /* the native-mpi build: score and validate run as the ranks mpirun started (docs/mpi.md);
     * train, export and eval too, when an MPI launcher started them (mpirun, mpiexec, srun: their
     * environment), else they run as the normal build's (a plain `prefrec train` of this build
     * is the one-process train) */
    /* (PREFREC_ONE_PROCESS=1: the one-process path of the same binary, which tests compare) */
    const char *one = getenv("PREFREC_ONE_PROCESS");
    int launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") ||
        getenv("PMI_SIZE");
    if (prefrec_dist_built_with_mpi() && !(one && !strcmp(one, "1")) &&
        (!strcmp(argv[1], "score") || !strcmp(argv[1], "validate") ||
         ((!strcmp(argv[1], "train") || !strcmp(argv[1], "export") || !strcmp(argv[1], "eval")) &&
          launched))) {
        prefrec_dist *d = NULL;
        if (prefrec_dist_init(&argc, &argv, &d)) {
            fprintf(stderr, "prefrec %s: error: MPI did not start\n", argv[1]);
            return 1;
        }
        cli_set_dist(d);
        int rc = 2;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name)) rc = commands[i].run(argc - 1, argv + 1);
        cli_set_dist(NULL);
        /* a rank that failed without telling the others stops them in the finish (dist.h) */
        if (rc) prefrec_dist_fail(d, NULL);
        prefrec_dist_finish(d);
        return rc;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "prefrec: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
