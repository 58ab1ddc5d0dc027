/* rank_blend.c - the default ranker: item-to-item signals blended with segment popularity and
 * the customer's category preference.
 *
 * Why a blend: EASE and ItemKNN find products that go with what the customer bought, but say
 * little for customers with short histories; segment popularity carries those, and the
 * customer's share of purchases per top category (the seed's low_clac idea) lifts products of
 * the categories they shop. Each item-to-item score is divided by the customer's largest one
 * so the weights mean the same for light and heavy buyers. Weights were chosen on a validation
 * window inside the training window (docs/eval.md). */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "prefrec/native/rankers.h"
#include "prefrec/rng.h"
#include "prefrec/topk.h"
#include "rank_dist.h"
#include "rank_util.h"

enum { C_EASE, C_KNN, C_POP, C_TREND, C_CAT, C_CATPOP, C_SUBPOP, N_COMP };
static const char *comp_name[N_COMP] = {"ease",     "itemknn",        "pop_seg",          "trend",
                                        "category", "category x pop", "subcategory x pop"};

typedef struct blend_model {
    const prefrec_dataset *ds;
    const prefrec_interactions *x;
    prefrec_blend_params p;
    double w[N_COMP];
    void *ease, *knn, *pop, *trend;
} blend_model;

prefrec_blend_params prefrec_blend_default_params(void) {
    prefrec_blend_params p;
    p.w_ease = 1.0;
    p.w_knn = 0.3;
    p.w_pop = 0.1;
    p.w_trend = 0.0;
    p.w_cat = 0.0;
    p.w_catpop = 0.0;
    p.w_subpop = 0.0;
    p.tune = 1;
    p.tune_users = 1000;
    p.tune_k = 20;
    p.ease = prefrec_ease_default_params();
    p.ease.max_items = 3000; /* the blend's EASE stays the 3,000 most-bought (docs/eval.md) */
    p.knn = prefrec_itemknn_default_params();
    p.pop = prefrec_pop_default_params();
    p.pop.by_segment = 1;
    p.trend_half_life_days = 14.0;
    return p;
}

static void blend_free(void *mv) {
    blend_model *m = mv;
    if (!m) return;
    prefrec_ranker_ease.free(m->ease);
    prefrec_ranker_itemknn.free(m->knn);
    prefrec_ranker_pop_seg.free(m->pop);
    prefrec_ranker_pop.free(m->trend);
    free(m);
}

/* Fit the components whose weight is nonzero (all of them when all_comps) on in->train. */
static prefrec_status fit_components(const prefrec_fit_input *in, blend_model *m, int all_comps,
                                     prefrec_error *err) {
    prefrec_status st = PREFREC_OK;
    prefrec_pop_params tp = prefrec_pop_default_params();
    tp.half_life_days = m->p.trend_half_life_days;
    if (all_comps || m->w[C_EASE] != 0) st = prefrec_ranker_ease.fit(in, &m->p.ease, &m->ease, err);
    if (!st && (all_comps || m->w[C_KNN] != 0))
        st = prefrec_ranker_itemknn.fit(in, &m->p.knn, &m->knn, err);
    if (!st && (all_comps || m->w[C_POP] != 0))
        st = prefrec_ranker_pop_seg.fit(in, &m->p.pop, &m->pop, err);
    if (!st && (all_comps || m->w[C_TREND] != 0))
        st = prefrec_ranker_pop.fit(in, &tp, &m->trend, err);
    return st;
}

/* s / max(s) into out (zeros when max <= 0). */
static void scaled(float *out, const float *s, int32_t n) {
    float mx = 0;
    for (int32_t j = 0; j < n; j++)
        if (s[j] > mx) mx = s[j];
    float f = mx > 0 ? 1.0f / mx : 0.0f;
    for (int32_t j = 0; j < n; j++) out[j] = f * s[j];
}

/* The N_COMP component vectors of customer c, each scaled to [.., 1], into comp (N_COMP x n);
 * tmp: n floats. Components without a model are zero. */
static prefrec_status components(const blend_model *m, int32_t c, float *comp, float *tmp) {
    const prefrec_interactions *x = m->x;
    int32_t n = x->n_products;
    memset(comp, 0, (size_t)N_COMP * (size_t)n * sizeof *comp);
    const struct {
        const void *model;
        const prefrec_ranker_def *def;
        int slot;
    } parts[] = {{m->ease, &prefrec_ranker_ease, C_EASE},
                 {m->knn, &prefrec_ranker_itemknn, C_KNN},
                 {m->pop, &prefrec_ranker_pop_seg, C_POP},
                 {m->trend, &prefrec_ranker_pop, C_TREND}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i].model) continue;
        prefrec_status s = parts[i].def->score(parts[i].model, c, tmp);
        if (s) return s;
        scaled(comp + (size_t)parts[i].slot * n, tmp, n);
    }
    const prefrec_dataset *ds = m->ds;
    if (!ds || !ds->has_catalog || x->row_start[c + 1] == x->row_start[c]) return PREFREC_OK;
    /* the customer's purchase shares per top category (low_clac's idea) and per subcategory;
     * "x pop": the share times the product's overall popularity scaled to [0, 1] */
    int32_t mx = 1;
    for (int32_t j = 0; j < n; j++)
        if (x->n_buyers[j] > mx) mx = x->n_buyers[j];
    for (int level = 0; level < 2; level++) {
        const int32_t *of = level == 0 ? ds->product_category : ds->product_subcategory;
        int32_t nk = of ? prefrec_dict_size(level == 0 ? ds->categories : ds->subcategories) : 0;
        if (nk <= 0) continue;
        float *share = calloc((size_t)nk, sizeof *share);
        if (!share) return PREFREC_E_NOMEM;
        float tot = 0;
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
            int32_t k = of[x->product[b]];
            if (k >= 0 && k < nk) share[k] += 1.0f;
            tot += 1.0f;
        }
        float *cat = comp + (size_t)C_CAT * n,
              *cp = comp + (size_t)(level == 0 ? C_CATPOP : C_SUBPOP) * n;
        for (int32_t j = 0; j < n; j++) {
            int32_t k = of[j];
            float sh = k >= 0 && k < nk ? share[k] / tot : 0.0f;
            if (level == 0) cat[j] = sh;
            cp[j] = sh * (float)x->n_buyers[j] / (float)mx;
        }
        free(share);
    }
    return PREFREC_OK;
}

static void combine(const float *comp, const double *w, int32_t n, float *out) {
    memset(out, 0, (size_t)n * sizeof *out);
    for (int k = 0; k < N_COMP; k++) {
        if (w[k] == 0) continue;
        float wf = (float)w[k];
        const float *ck = comp + (size_t)k * n;
        for (int32_t j = 0; j < n; j++) out[j] += wf * ck[j];
    }
}

/* ---- weight tuning on a validation window inside the training window ------------------------ */
#define N_GRID 5
static const double grid[N_GRID] = {0.0, 0.1, 0.3, 1.0, 3.0};

typedef struct tune_set {
    int32_t n_users; /* this rank's */
    int32_t n_all; /* over the ranks: the mean's divisor */
    int32_t *cust;
    int64_t *slot; /* the user's place in the sample (the one-process order of the sum) */
    int64_t *start;
    int32_t *truth;
} tune_set;

/* Mean (recall + NDCG)@k over the tuning users for each of n_w weight vectors (w: n_w x N_COMP):
 * each user's values, summed over every rank's users in the sample's order. */
static int tune_eval(const blend_model *m, const tune_set *ts, const double *w, int n_w, int k,
                     double *obj) {
    const prefrec_interactions *x = m->x;
    int32_t n = x->n_products;
    float *comp = malloc((size_t)N_COMP * (size_t)(n ? n : 1) * sizeof *comp);
    float *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    float *sc = malloc((size_t)(n ? n : 1) * sizeof *sc);
    uint8_t *mask = malloc((size_t)(n ? n : 1));
    prefrec_scored *best = malloc((size_t)k * sizeof *best);
    int32_t *ranked = malloc((size_t)k * sizeof *ranked);
    double *row = malloc(((size_t)ts->n_users * (size_t)n_w + 1) * sizeof *row);
    int rc = 0;
    if (!comp || !tmp || !sc || !mask || !best || !ranked || !row) {
        rc = -1;
        goto done;
    }
    for (int32_t j = 0; j < n; j++) mask[j] = x->n_buyers[j] == 0;
    for (int v = 0; v < n_w; v++) obj[v] = 0;
    for (int32_t u = 0; u < ts->n_users; u++) {
        int32_t c = ts->cust[u];
        if (components(m, c, comp, tmp)) {
            rc = -1;
            goto done;
        }
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) mask[x->product[b]] = 1;
        for (int v = 0; v < n_w; v++) {
            combine(comp, w + (size_t)v * N_COMP, n, sc);
            size_t got = prefrec_topk(sc, (size_t)n, mask, (size_t)k, best);
            for (size_t r = 0; r < got; r++) ranked[r] = best[r].index;
            double rec, nd;
            prefrec_rank_list_metrics(ranked, got, ts->truth + ts->start[u],
                                      (size_t)(ts->start[u + 1] - ts->start[u]), k, &rec, &nd);
            row[(size_t)u * n_w + v] = rec + nd;
        }
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
            mask[x->product[b]] = x->n_buyers[x->product[b]] == 0;
    }
done:
    /* every rank comes here (also after a failure) for the collective sum */
    if (rank_dist_ordered_sum(x, ts->slot, row, rc ? 0 : (size_t)ts->n_users, n_w, obj)) rc = -1;
    int64_t bad = rc != 0; /* one rank's failure is every rank's */
    if (rank_dist_sum(x, &bad, 1) || bad) rc = -1;
    for (int v = 0; v < n_w; v++) obj[v] /= ts->n_all ? ts->n_all : 1;
    free(row);
    free(comp);
    free(tmp);
    free(sc);
    free(mask);
    free(best);
    free(ranked);
    return rc;
}

/* Choose EASE's lambda and the weights: fit the components on the first three quarters of the
 * training window, score the new items customers bought in its last quarter, and walk each
 * weight over the grid in turn (coordinate ascent, two rounds). Writes the choice into m. */
static prefrec_status blend_tune(const prefrec_fit_input *in, blend_model *m, prefrec_error *err) {
    const prefrec_interactions *x = in->train;
    int32_t len = x->day_to - x->day_from, vdays = len / 4;
    if (vdays < 7 || len - vdays < 14) return PREFREC_OK; /* too short to split: keep defaults */
    int32_t vcut = x->day_to - vdays;
    prefrec_interactions *xf = NULL, *xv = NULL;
    tune_set ts = {0, 0, NULL, NULL, NULL, NULL};
    int64_t *pos = NULL;
    int32_t *owner = NULL, *cand = NULL;
    blend_model t = *m;
    t.ease = t.knn = t.pop = t.trend = NULL;
    prefrec_status st = prefrec_interactions_window(in->ds, x, x->day_from, vcut, &xf, err);
    if (!st) st = prefrec_interactions_window(in->ds, x, vcut, x->day_to, &xv, err);
    if (st) goto done;
    t.x = xf;
    /* tuning users: new items in the validation quarter; a seeded sample of tune_users, drawn
     * from every rank's candidates in the one-process customer order (the same draw for any
     * number of ranks); each rank scores the drawn users it holds */
    int32_t nl = 0;
    ts.cust = malloc((size_t)(xv->n_customers ? xv->n_customers : 1) * sizeof *ts.cust);
    ts.slot = malloc((size_t)(xv->n_customers ? xv->n_customers : 1) * sizeof *ts.slot);
    ts.start = malloc(((size_t)xv->n_customers + 1) * sizeof *ts.start);
    ts.truth = malloc((size_t)(xv->n_pairs ? xv->n_pairs : 1) * sizeof *ts.truth);
    pos = malloc((size_t)(xv->n_customers ? xv->n_customers : 1) * sizeof *pos);
    cand = malloc((size_t)(xv->n_customers ? xv->n_customers : 1) * sizeof *cand);
    int failed = !ts.cust || !ts.slot || !ts.start || !ts.truth || !pos || !cand;
    for (int32_t c = 0; !failed && c < xv->n_customers; c++)
        if (xv->row_start[c + 1] > xv->row_start[c]) cand[nl++] = c;
    int64_t nu = 0;
    if (rank_dist_places(xf, cand, failed ? 0 : (size_t)nl, pos, &nu, &owner) || failed) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
        goto done;
    }
    int32_t *draw = malloc((size_t)(nu ? nu : 1) * sizeof *draw); /* candidates' places */
    if (!draw) {
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < nu; i++) draw[i] = (int32_t)i;
    prefrec_rng rng;
    prefrec_rng_init(&rng, in->seed, 0x626c656e64ULL /* "blend" */);
    int32_t want = m->p.tune_users;
    for (int32_t i = 0; i < nu && i < want; i++) { /* partial Fisher-Yates */
        int32_t j = i + (int32_t)prefrec_rng_below(&rng, (uint32_t)(nu - i));
        int32_t tmpc = draw[i];
        draw[i] = draw[j];
        draw[j] = tmpc;
    }
    if (nu > want) nu = want;
    int32_t kept = 0;
    int64_t nt = 0, kept_all = 0;
    for (int32_t i = 0; i < nu; i++) { /* in the draw's order: kept users keep it */
        int32_t o = owner[draw[i]];
        if (o < 0) continue; /* another rank's */
        int32_t c = cand[o];
        int64_t s0 = nt;
        for (int64_t b = xv->row_start[c]; b < xv->row_start[c + 1]; b++)
            if (prefrec_interactions_find(xf, c, xv->product[b]) < 0)
                ts.truth[nt++] = xv->product[b];
        if (nt > s0) {
            ts.cust[kept] = c;
            ts.slot[kept] = i;
            ts.start[kept++] = s0;
        }
    }
    free(draw);
    ts.start[kept] = nt;
    ts.n_users = kept;
    kept_all = kept;
    if (rank_dist_sum(xf, &kept_all, 1)) {
        st = prefrec_error_set(err, PREFREC_E_IO, "blend: summing over the ranks failed");
        goto done;
    }
    ts.n_all = (int32_t)kept_all;
    if (kept_all < 20) goto done; /* too few to choose by: keep defaults */
    prefrec_fit_input fin = *in;
    fin.train = xf;
    fin.verbose = 0;
    int k = m->p.tune_k;
    /* lambda: EASE alone at 0.3, 1 and 3 times the mean diagonal of X'X */
    double lam_mult[3] = {0.3, 1.0, 3.0}, best_obj = -1, best_lambda = t.p.ease.lambda;
    double w_ease_only[N_COMP] = {1};
    for (int i = 0; i < 3 && !st; i++) {
        t.p.ease.lambda = -lam_mult[i];
        st = prefrec_ranker_ease.fit(&fin, &t.p.ease, &t.ease, err);
        double obj = 0;
        if (!st && tune_eval(&t, &ts, w_ease_only, 1, k, &obj))
            st = prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
        if (!st && obj > best_obj) {
            best_obj = obj;
            best_lambda = -lam_mult[i];
        }
        prefrec_ranker_ease.free(t.ease);
        t.ease = NULL;
    }
    if (st) goto done;
    t.p.ease.lambda = best_lambda;
    st = fit_components(&fin, &t, 1, err);
    if (st) goto done;
    double w[N_GRID * N_COMP], obj[N_GRID];
    double cur_obj = -1;
    for (int round = 0; round < 2 && !st; round++) {
        int changed = 0;
        for (int comp = 0; comp < N_COMP; comp++) {
            for (int g = 0; g < N_GRID; g++) {
                memcpy(w + (size_t)g * N_COMP, t.w, sizeof t.w);
                w[(size_t)g * N_COMP + comp] = grid[g];
            }
            if (tune_eval(&t, &ts, w, N_GRID, k, obj)) {
                st = prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
                break;
            }
            int bg = -1;
            for (int g = 0; g < N_GRID; g++) {
                int all_zero = 1;
                for (int q = 0; q < N_COMP; q++) all_zero &= w[(size_t)g * N_COMP + q] == 0;
                if (all_zero) continue;
                if (bg < 0 || obj[g] > obj[bg] + 1e-12) bg = g;
            }
            if (bg >= 0 && t.w[comp] != grid[bg] && obj[bg] > cur_obj + 1e-12) {
                t.w[comp] = grid[bg];
                changed = 1;
            }
            if (bg >= 0 && obj[bg] > cur_obj) cur_obj = obj[bg];
        }
        if (!changed) break;
    }
    if (!st) {
        memcpy(m->w, t.w, sizeof m->w);
        m->p.ease.lambda = best_lambda;
        if (in->verbose) {
            fprintf(stderr,
                    "  blend: tuned on %d customers (new items %s..): lambda %.1fx, weights",
                    ts.n_all, "last quarter", -best_lambda);
            for (int q = 0; q < N_COMP; q++) fprintf(stderr, " %s %.1f", comp_name[q], m->w[q]);
            fprintf(stderr, " (validation recall+ndcg %.4f)\n", cur_obj);
        }
    }
done:
    prefrec_ranker_ease.free(t.ease);
    prefrec_ranker_itemknn.free(t.knn);
    prefrec_ranker_pop_seg.free(t.pop);
    prefrec_ranker_pop.free(t.trend);
    free(ts.cust);
    free(ts.slot);
    free(ts.start);
    free(ts.truth);
    free(pos);
    free(owner);
    free(cand);
    prefrec_interactions_free(xf);
    prefrec_interactions_free(xv);
    return st;
}

static prefrec_status blend_fit(const prefrec_fit_input *in, const void *params, void **model,
                                prefrec_error *err) {
    prefrec_blend_params p =
        params ? *(const prefrec_blend_params *)params : prefrec_blend_default_params();
    *model = NULL;
    if (p.tune_k < 1 || p.tune_users < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL, "blend: tune_k must be >= 1");
    blend_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "blend: out of memory");
    m->ds = in->ds;
    m->x = in->train;
    m->p = p;
    m->w[C_EASE] = p.w_ease;
    m->w[C_KNN] = p.w_knn;
    m->w[C_POP] = p.w_pop;
    m->w[C_TREND] = p.w_trend;
    m->w[C_CAT] = p.w_cat;
    m->w[C_CATPOP] = p.w_catpop;
    m->w[C_SUBPOP] = p.w_subpop;
    prefrec_status st = p.tune ? blend_tune(in, m, err) : PREFREC_OK;
    if (!st) st = fit_components(in, m, 0, err);
    if (st) {
        blend_free(m);
        return st;
    }
    *model = m;
    return PREFREC_OK;
}

static prefrec_status blend_score(const void *mv, int32_t c, float *scores) {
    const blend_model *m = mv;
    int32_t n = m->x->n_products;
    float *comp = malloc((size_t)N_COMP * (size_t)(n ? n : 1) * sizeof *comp);
    float *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    prefrec_status s = comp && tmp ? components(m, c, comp, tmp) : PREFREC_E_NOMEM;
    if (!s) combine(comp, m->w, n, scores);
    free(comp);
    free(tmp);
    if (s) return s;
    rank_add_pop_tiebreak(m->x, scores, 1e-6f);
    return PREFREC_OK;
}

const prefrec_ranker_def prefrec_ranker_blend = {
    .name = "blend",
    .summary = "EASE + ItemKNN + segment/trend popularity + category share, weights tuned on a "
               "validation window",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE,
    .fit = blend_fit,
    .score = blend_score,
    .free = blend_free};

/* ---- served form (src/core/blend.h) ------------------------------------------------------- */
void prefrec_blend_fitted_parts(const void *mv, prefrec_blend_fitted *out) {
    const blend_model *m = mv;
    out->ease = m->ease;
    out->knn = m->knn;
    out->pop = m->pop;
    out->trend = m->trend;
    for (int k = 0; k < N_COMP; k++) out->w[k] = m->w[k];
}
