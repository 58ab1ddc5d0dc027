/* registry.c - the built-in rankers `prefrec eval` measures, in report order, and the name of
 * the default one (what the packs serve). Lives with the evaluation, above every ranker. */
#include <string.h>

#include "prefrec/native/blend_export.h"
#include "prefrec/native/eval.h"
#include "prefrec/native/rankers.h"

const char prefrec_ranker_default_name[] = "blend_served"; /* what the packs serve */
/* Per task, chosen on validation windows (docs/eval.md): buy again is 'due' (prefrec/repeat.h),
 * which led repeat recall on the demo data and on completejourney; mixed is 'mixed' (due's and
 * blend_served's lists merged by a learned repeat share), which led mixed recall on both. */
const char *const prefrec_ranker_task_default[PREFREC_EVAL_TASKS] = {"blend_served", "due",
                                                                     "mixed"};

static const prefrec_ranker_def *const builtin[] = {
    &prefrec_ranker_pop,       &prefrec_ranker_pop_seg,     &prefrec_ranker_g_topfreq,
    &prefrec_ranker_p_topfreq, &prefrec_ranker_gp_topfreq,  &prefrec_ranker_itemknn,
    &prefrec_ranker_rp3beta,   &prefrec_ranker_ease,        &prefrec_ranker_mf,
    &prefrec_ranker_bpr,       &prefrec_ranker_tifu_knn,    &prefrec_ranker_upcf,
    &prefrec_ranker_rep_freq,  &prefrec_ranker_rep_recency, &prefrec_ranker_seed_score,
    &prefrec_ranker_neumf,     &prefrec_ranker_blend,       &prefrec_ranker_blend_served,
    &prefrec_ranker_due,       &prefrec_ranker_mixed,       &prefrec_ranker_neumf_blend300,
};

const prefrec_ranker_def *const *prefrec_rankers_builtin(size_t *n) {
    if (n) *n = sizeof builtin / sizeof builtin[0];
    return builtin;
}

const prefrec_ranker_def *prefrec_ranker_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(builtin[i]->name, name)) return builtin[i];
    return NULL;
}

/* The rankers whose fit is the one-process fit on a sharded window (x->dist, docs/mpi.md):
 * every statistic they take over customers is an integer sum over the ranks (popularity, the
 * G-TopFreq lines, the ItemKNN co-purchases, the EASE Gram, the blend's and due's counts), or an
 * exact sum on a fixed-point grid (rank_exact.h: RP3beta's weighted co-purchases, ALS's item
 * side, UP-CF's and TIFU-KNN's sums over customers, whose records pass round the ranks), or a
 * maximum (the seed score's intervals), or a sum in the one-process customer order (the blend's,
 * due's and mixed's tuning); the rest read only the customer's own history (and ALS's customer
 * side the replicated item factors). neumf and neumf_blend300 fit the NeuMF with train's
 * data-parallel trainer: the one-process figures within a tolerance, not the bits
 * (rank_neumf.c). Not here: bpr (prefrec_ranker_unsharded_why). In report order. */
static const char sharded_names[] =
    "pop,pop_seg,g_topfreq,p_topfreq,gp_topfreq,itemknn,rp3beta,ease,mf,tifu_knn,upcf,rep_freq,"
    "rep_recency,seed_score,neumf,blend,blend_served,due,mixed,neumf_blend300";

const char *prefrec_ranker_unsharded_why(const prefrec_ranker_def *def) {
    if (def && def->name && !strcmp(def->name, "bpr"))
        return "its SGD is one stream of steps, each reading the factors the step before wrote, "
               "so the steps cannot be split over ranks and give the same model";
    return "its fit is not written for a sharded window";
}

int prefrec_ranker_sharded(const prefrec_ranker_def *def) {
    if (!def || !def->name) return 0;
    size_t len = strlen(def->name);
    for (const char *p = sharded_names; *p;) {
        const char *q = strchr(p, ',');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == len && !strncmp(p, def->name, len)) return 1;
        p += n + (q ? 1 : 0);
    }
    return 0;
}

const char *prefrec_rankers_sharded_names(void) { return sharded_names; }
