/* rank_mf.c - implicit-feedback matrix factorisation by alternating least squares.
 *
 * Hu, Koren & Volinsky (2008): minimise sum over all (u, i) of c_ui (p_ui - x_u.y_i)^2 +
 * reg (|x|^2 + |y|^2), with p_ui = 1 for bought pairs (0 otherwise) and confidence
 * c_ui = 1 + alpha log(1 + count). Each half-step solves a d x d system per row using
 * Y'Y + sum over the row's pairs of (c - 1) y y' (the "Y'Y trick"), so the cost is linear in
 * the pairs. Rows are split into fixed contiguous blocks over threads and every row's solve
 * is independent, so the factors do not depend on the thread count. Initial item factors
 * come from the seed (one rng stream per product). With cg_steps > 0 each row's system is not
 * solved exactly but improved by that many conjugate-gradient steps from the row's current
 * factors (Takacs, Pilaszy, Tikk 2011): d^2 + 2 d per pair and step instead of d^2 per pair plus
 * a d^3 / 3 factorisation, what makes 64 and 128 factors affordable. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/rng.h"
#include "rank_util.h"

typedef struct mf_model {
    const prefrec_interactions *x;
    int dim;
    float *cu; /* n_customers x dim */
    float *it; /* n_products x dim */
} mf_model;

prefrec_mf_params prefrec_mf_default_params(void) {
    prefrec_mf_params p = {32, 10, 0.1, 10.0, 0};
    return p;
}

static void mf_free(void *m) {
    mf_model *mm = m;
    if (!mm) return;
    free(mm->cu);
    free(mm->it);
    free(mm);
}

/* Solve A z = b (A SPD, d x d, destroyed) by Cholesky; returns -1 if not SPD. */
static int chol_solve(double *a, double *b, int d) {
    for (int i = 0; i < d; i++) {
        for (int j = 0; j <= i; j++) {
            double s = a[i * d + j];
            for (int k = 0; k < j; k++) s -= a[i * d + k] * a[j * d + k];
            if (i == j) {
                if (!(s > 0)) return -1;
                a[i * d + i] = sqrt(s);
            } else {
                a[i * d + j] = s / a[j * d + j];
            }
        }
    }
    for (int i = 0; i < d; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++) s -= a[i * d + k] * b[k];
        b[i] = s / a[i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) {
        double s = b[i];
        for (int k = i + 1; k < d; k++) s -= a[k * d + i] * b[k];
        b[i] = s / a[i * d + i];
    }
    return 0;
}

typedef struct half_job {
    const int64_t *start; /* rows' pair ranges */
    const int32_t *other; /* the other side's index per pair */
    const float *count; /* per pair */
    const float *fixed; /* the other side's factors */
    const double *gram; /* fixed' fixed, d x d */
    float *out; /* this side's factors */
    int32_t row_from, row_to;
    int dim, cg_steps;
    double reg, alpha;
    int failed;
} half_job;

/* out = (gram + reg I) v + sum over the row's pairs of (c - 1) (y . v) y */
static void cg_apply(const half_job *jb, int64_t q0, int64_t q1, const double *v, double *out) {
    int d = jb->dim;
    for (int i = 0; i < d; i++) {
        const double *g = jb->gram + (size_t)i * d;
        double s = jb->reg * v[i];
        for (int j = 0; j < d; j++) s += g[j] * v[j];
        out[i] = s;
    }
    for (int64_t q = q0; q < q1; q++) {
        const float *y = jb->fixed + (size_t)jb->other[q] * d;
        double c1 = jb->alpha * log1p((double)jb->count[q]), yv = 0;
        for (int k = 0; k < d; k++) yv += y[k] * v[k];
        yv *= c1;
        for (int k = 0; k < d; k++) out[k] += yv * y[k];
    }
}

/* cg_steps conjugate-gradient steps on row r's system from its current factors in out. */
static void cg_row(const half_job *jb, int32_t r, double *xv, double *res, double *dir,
                   double *ad) {
    int d = jb->dim;
    int64_t q0 = jb->start[r], q1 = jb->start[r + 1];
    float *o = jb->out + (size_t)r * d;
    for (int k = 0; k < d; k++) xv[k] = o[k];
    cg_apply(jb, q0, q1, xv, ad);
    for (int k = 0; k < d; k++) res[k] = -ad[k];
    for (int64_t q = q0; q < q1; q++) {
        const float *y = jb->fixed + (size_t)jb->other[q] * d;
        double c = 1.0 + jb->alpha * log1p((double)jb->count[q]);
        for (int k = 0; k < d; k++) res[k] += c * y[k];
    }
    double rs = 0;
    for (int k = 0; k < d; k++) {
        dir[k] = res[k];
        rs += res[k] * res[k];
    }
    for (int it = 0; it < jb->cg_steps && rs > 1e-20; it++) {
        cg_apply(jb, q0, q1, dir, ad);
        double pap = 0;
        for (int k = 0; k < d; k++) pap += dir[k] * ad[k];
        if (!(pap > 0)) break;
        double a = rs / pap, rs_new = 0;
        for (int k = 0; k < d; k++) {
            xv[k] += a * dir[k];
            res[k] -= a * ad[k];
            rs_new += res[k] * res[k];
        }
        for (int k = 0; k < d; k++) dir[k] = res[k] + rs_new / rs * dir[k];
        rs = rs_new;
    }
    for (int k = 0; k < d; k++) o[k] = (float)xv[k];
}

static void *half_rows(void *arg) {
    half_job *jb = arg;
    int d = jb->dim;
    double *a = malloc((size_t)d * d * sizeof *a), *b = malloc((size_t)d * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        jb->failed = 1;
        return NULL;
    }
    double *cg = jb->cg_steps > 0 ? malloc((size_t)4 * d * sizeof *cg) : NULL;
    if (jb->cg_steps > 0 && !cg) {
        free(a);
        free(b);
        jb->failed = 1;
        return NULL;
    }
    for (int32_t r = jb->row_from; r < jb->row_to; r++) {
        float *o = jb->out + (size_t)r * d;
        if (jb->start[r] == jb->start[r + 1]) {
            memset(o, 0, (size_t)d * sizeof *o);
            continue;
        }
        if (cg) {
            cg_row(jb, r, cg, cg + d, cg + 2 * d, cg + 3 * d);
            continue;
        }
        memcpy(a, jb->gram, (size_t)d * d * sizeof *a);
        memset(b, 0, (size_t)d * sizeof *b);
        for (int k = 0; k < d; k++) a[k * d + k] += jb->reg;
        for (int64_t q = jb->start[r]; q < jb->start[r + 1]; q++) {
            const float *y = jb->fixed + (size_t)jb->other[q] * d;
            double c1 = jb->alpha * log1p((double)jb->count[q]); /* c - 1 */
            for (int i = 0; i < d; i++) {
                double ci = c1 * y[i];
                for (int j = 0; j <= i; j++) a[i * d + j] += ci * y[j];
                b[i] += (1.0 + c1) * y[i];
            }
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++) a[j * d + i] = a[i * d + j];
        if (chol_solve(a, b, d)) {
            jb->failed = 2;
            break;
        }
        for (int k = 0; k < d; k++) o[k] = (float)b[k];
    }
    free(cg);
    free(a);
    free(b);
    return NULL;
}

static int half_step(const int64_t *start, const int32_t *other, const float *count,
                     const float *fixed, int32_t n_fixed, float *out, int32_t n_rows,
                     const prefrec_mf_params *p, int threads) {
    int d = p->dim;
    double *gram = calloc((size_t)d * d, sizeof *gram);
    if (!gram) return 1;
    for (int32_t r = 0; r < n_fixed; r++) {
        const float *y = fixed + (size_t)r * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) gram[i * d + j] += (double)y[i] * y[j];
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++) gram[j * d + i] = gram[i * d + j];
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    half_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        jobs[t] = (half_job){start,
                             other,
                             count,
                             fixed,
                             gram,
                             out,
                             (int32_t)((int64_t)n_rows * t / nt),
                             (int32_t)((int64_t)n_rows * (t + 1) / nt),
                             d,
                             p->cg_steps,
                             p->reg,
                             p->alpha,
                             0};
        if (t > 0) started[t] = pthread_create(&th[t], NULL, half_rows, &jobs[t]) == 0;
    }
    half_rows(&jobs[0]);
    int failed = jobs[0].failed;
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            half_rows(&jobs[t]);
        if (jobs[t].failed) failed = jobs[t].failed;
    }
    free(gram);
    return failed;
}

static prefrec_status mf_fit(const prefrec_fit_input *in, const void *params, void **model,
                             prefrec_error *err) {
    prefrec_mf_params p = params ? *(const prefrec_mf_params *)params : prefrec_mf_default_params();
    *model = NULL;
    if (p.dim < 1 || p.dim > 512 || p.iterations < 1 || !(p.reg > 0) || !(p.alpha >= 0) ||
        p.cg_steps < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "mf: need 1 <= dim <= 512, iterations >= 1,"
                                 " reg > 0, alpha >= 0, cg_steps >= 0 (got %d, %d, %g, %g, %d)",
                                 p.dim, p.iterations, p.reg, p.alpha, p.cg_steps);
    const prefrec_interactions *x = in->train;
    mf_model *m = calloc(1, sizeof *m);
    if (!m) return prefrec_error_set(err, PREFREC_E_NOMEM, "mf: out of memory");
    m->x = x;
    m->dim = p.dim;
    m->cu = calloc((size_t)(x->n_customers ? x->n_customers : 1) * p.dim, sizeof *m->cu);
    m->it = calloc((size_t)(x->n_products ? x->n_products : 1) * p.dim, sizeof *m->it);
    if (!m->cu || !m->it) {
        mf_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "mf: out of memory");
    }
    for (int32_t j = 0; j < x->n_products; j++) {
        if (x->n_buyers[j] == 0) continue;
        prefrec_rng r;
        prefrec_rng_init(&r, in->seed, (uint64_t)j);
        for (int k = 0; k < p.dim; k++)
            m->it[(size_t)j * p.dim + k] = (float)(0.1 * (prefrec_rng_double(&r) - 0.5));
    }
    for (int e = 0; e < p.iterations; e++) {
        int f = half_step(x->row_start, x->product, x->count, m->it, x->n_products, m->cu,
                          x->n_customers, &p, in->threads);
        if (!f)
            f = half_step(x->col_start, x->col_customer, x->col_count, m->cu, x->n_customers, m->it,
                          x->n_products, &p, in->threads);
        if (f) {
            mf_free(m);
            return f == 2 ? prefrec_error_set(err, PREFREC_E_RANGE,
                                              "mf: singular system at "
                                              "iteration %d (raise reg)",
                                              e + 1)
                          : prefrec_error_set(err, PREFREC_E_NOMEM, "mf: out of memory");
        }
        if (in->verbose) fprintf(stderr, "  mf: iteration %d/%d\n", e + 1, p.iterations);
    }
    *model = m;
    return PREFREC_OK;
}

static prefrec_status mf_score(const void *mv, int32_t c, float *scores) {
    const mf_model *m = mv;
    const prefrec_interactions *x = m->x;
    const float *u = m->cu + (size_t)c * m->dim;
    for (int32_t j = 0; j < x->n_products; j++) {
        const float *y = m->it + (size_t)j * m->dim;
        float s = 0;
        for (int k = 0; k < m->dim; k++) s += u[k] * y[k];
        scores[j] = s;
    }
    rank_add_pop_tiebreak(x, scores, 1e-6f);
    return PREFREC_OK;
}

/* dim 32, 64, 128 x reg 0.1, 1, 10 at alpha 10, then alpha 1 and 40 at dim 64, reg 1: 11
 * points, each 15 iterations of 3 conjugate-gradient steps (the exact solve at 128 factors
 * would take minutes on the scale-1 demo data). */
static int mf_grid(size_t i, void *params) {
    static const int dims[3] = {32, 64, 128};
    static const double regs[3] = {0.1, 1.0, 10.0};
    prefrec_mf_params p = prefrec_mf_default_params();
    p.iterations = 15;
    p.cg_steps = 3;
    if (i < 9) {
        p.dim = dims[i / 3];
        p.reg = regs[i % 3];
    } else if (i < 11) {
        p.dim = 64;
        p.reg = 1.0;
        p.alpha = i == 9 ? 1.0 : 40.0;
    } else
        return 0;
    *(prefrec_mf_params *)params = p;
    return 1;
}

static void mf_describe(const void *params, char *buf, size_t n) {
    prefrec_mf_params p = params ? *(const prefrec_mf_params *)params : prefrec_mf_default_params();
    char solve[32];
    if (p.cg_steps > 0)
        snprintf(solve, sizeof solve, "cg=%d", p.cg_steps);
    else
        snprintf(solve, sizeof solve, "exact");
    snprintf(buf, n, "dim=%d reg=%g alpha=%g iterations=%d %s", p.dim, p.reg, p.alpha, p.iterations,
             solve);
}

const prefrec_ranker_def prefrec_ranker_mf = {
    .name = "mf",
    .summary = "implicit matrix factorisation (ALS, confidence-weighted)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = mf_fit,
    .score = mf_score,
    .free = mf_free,
    .params_size = sizeof(prefrec_mf_params),
    .grid = mf_grid,
    .describe = mf_describe};
