/* rank_mf.c - implicit-feedback matrix factorisation by alternating least squares.
 *
 * Hu, Koren & Volinsky (2008): minimise sum over all (u, i) of c_ui (p_ui - x_u.y_i)^2 +
 * reg (|x|^2 + |y|^2), with p_ui = 1 for bought pairs (0 otherwise) and confidence
 * c_ui = 1 + alpha log(1 + count). Each half-step solves a d x d system per row using
 * Y'Y + sum over the row's pairs of (c - 1) y y' (the "Y'Y trick"), so the cost is linear in
 * the pairs; rows with few pairs go through the Woodbury identity instead (half_rows). Rows are split into fixed contiguous blocks over threads and every row's solve
 * is independent, so the factors do not depend on the thread count. The item half-step takes
 * its sums over customers exactly (item_step, below), so that a fit on customers sharded over
 * ranks (x->dist, docs/mpi.md) has the one-process bits. Initial item factors
 * come from the seed (one rng stream per product). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dist.h"
#include "prefrec/native/rankers.h"
#include "prefrec/rng.h"
#include "rank_dist.h"
#include "rank_exact.h"
#include "rank_util.h"

/* The solves' loops compiled for each vector width, chosen at run time: element-wise adds and
 * multiplies round the same at any width (C11: no FMA contraction) and the dot products stay
 * in order, so every clone gives the same factors. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define MF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MF_CLONES
#endif

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

/* Solve A z = b in place (A SPD, d x d, row-major, only its upper triangle read and then
 * destroyed) by Cholesky A = U'U, right-looking: every inner loop is an axpy over a contiguous
 * row, which the compiler vectorises (no running sum to keep in order). -1 if not SPD. */
MF_CLONES static int chol_solve(double *restrict a, double *restrict b, int d) {
    for (int k = 0; k < d; k++) {
        double *ak = a + (size_t)k * d;
        if (!(ak[k] > 0)) return -1;
        double s = sqrt(ak[k]);
        ak[k] = s;
        for (int j = k + 1; j < d; j++) ak[j] /= s;
        for (int i = k + 1; i < d; i++) {
            double f = ak[i];
            double *ai = a + (size_t)i * d;
            for (int j = i; j < d; j++) ai[j] -= f * ak[j];
        }
    }
    for (int k = 0; k < d; k++) { /* U' y = b */
        const double *ak = a + (size_t)k * d;
        b[k] /= ak[k];
        for (int i = k + 1; i < d; i++) b[i] -= ak[i] * b[k];
    }
    for (int k = d - 1; k >= 0; k--) { /* U z = y */
        b[k] /= a[(size_t)k * d + k];
        for (int i = 0; i < k; i++) b[i] -= a[(size_t)i * d + k] * b[k];
    }
    return 0;
}

/* Rows with at most this many pairs are solved through the Woodbury identity (see half_rows). */
#define MF_SHORT_ROW 12

typedef struct half_job {
    const int64_t *start; /* rows' pair ranges */
    const int32_t *other; /* the other side's index per pair */
    const double *c1; /* per pair: confidence - 1 = alpha log(1 + count) */
    const float *fixed; /* the other side's factors */
    const double *gram; /* fixed' fixed + reg I, d x d */
    const double *minv; /* its inverse, d x d */
    const double *z; /* fixed rows times minv: n_fixed x d (NULL: no short-row path) */
    float *out; /* this side's factors */
    int32_t row_from, row_to;
    int dim;
    int cg_steps; /* > 0: that many conjugate-gradient steps per row instead of the solve */
    int failed;
} half_job;

/* out = M v + sum over the row's pairs of (c - 1) (y . v) y, M = F'F + reg I (gram) */
static void cg_apply(const half_job *jb, int64_t q0, int64_t q1, const double *v, double *out) {
    int d = jb->dim;
    for (int i = 0; i < d; i++) {
        const double *g = jb->gram + (size_t)i * d;
        double s = 0;
        for (int j = 0; j < d; j++) s += g[j] * v[j];
        out[i] = s;
    }
    for (int64_t q = q0; q < q1; q++) {
        const float *y = jb->fixed + (size_t)jb->other[q] * d;
        double yv = 0;
        for (int k = 0; k < d; k++) yv += y[k] * v[k];
        yv *= jb->c1[q];
        for (int k = 0; k < d; k++) out[k] += yv * y[k];
    }
}

/* cg_steps conjugate-gradient steps on row r's system (Takacs, Pilaszy, Tikk 2011) from its
 * current factors: d^2 + 2 d per pair and step instead of a d x d build and factorisation. */
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
        double c = 1.0 + jb->c1[q];
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

/* Row r's system is (M + Y' C1 Y) x = Y' c with M = F'F + reg I shared by every row, Y the n
 * fixed rows of its pairs, C1 = diag(c - 1). A long row builds the d x d matrix (upper
 * triangle, one axpy per pair and dimension) and solves it by Cholesky. A short row (n <=
 * MF_SHORT_ROW, most products of a large catalogue) uses Woodbury: with Z = Y M^-1 (rows of
 * the precomputed F M^-1), v = M^-1 Y' c = Z' c, K = C1^-1 + Z Y' (n x n, SPD), x = v - Z' K^-1 Y v:
 * about n^2 d instead of d^3 / 6 multiply-adds. Both are exact solves (they differ by rounding). */
MF_CLONES static void *half_rows(void *arg) {
    half_job *jb = arg;
    int d = jb->dim;
    double *a = malloc((size_t)d * d * sizeof *a), *b = malloc((size_t)d * sizeof *b);
    double *k = malloc(MF_SHORT_ROW * MF_SHORT_ROW * sizeof *k),
           *t = malloc(MF_SHORT_ROW * sizeof *t);
    double *c1 = malloc(MF_SHORT_ROW * sizeof *c1);
    double *cg = jb->cg_steps > 0 ? malloc((size_t)4 * d * sizeof *cg) : NULL;
    if (!a || !b || !k || !t || !c1 || (jb->cg_steps > 0 && !cg)) {
        free(a), free(b), free(k), free(t), free(c1), free(cg);
        jb->failed = 1;
        return NULL;
    }
    for (int32_t r = jb->row_from; r < jb->row_to; r++) {
        float *o = jb->out + (size_t)r * d;
        int64_t lo = jb->start[r], n = jb->start[r + 1] - lo;
        if (n == 0) {
            memset(o, 0, (size_t)d * sizeof *o);
            continue;
        }
        if (cg) {
            cg_row(jb, r, cg, cg + d, cg + 2 * d, cg + 3 * d);
            continue;
        }
        int shortrow = jb->z && n <= MF_SHORT_ROW;
        for (int64_t q = 0; shortrow && q < n; q++) {
            c1[q] = jb->c1[lo + q];
            if (!(c1[q] > 0)) shortrow = 0;
        }
        if (shortrow) {
            memset(b, 0, (size_t)d * sizeof *b); /* v = Z' c */
            for (int64_t q = 0; q < n; q++) {
                const double *zq = jb->z + (size_t)jb->other[lo + q] * d;
                double cq = 1.0 + c1[q];
                for (int i = 0; i < d; i++) b[i] += cq * zq[i];
            }
            for (int64_t q = 0; q < n; q++) {
                const double *zq = jb->z + (size_t)jb->other[lo + q] * d;
                const float *yq = jb->fixed + (size_t)jb->other[lo + q] * d;
                double s = 0;
                for (int i = 0; i < d; i++) s += yq[i] * b[i];
                t[q] = s;
                for (int64_t p = q; p < n; p++) {
                    const float *yp = jb->fixed + (size_t)jb->other[lo + p] * d;
                    double e = 0;
                    for (int i = 0; i < d; i++) e += zq[i] * yp[i];
                    k[q * n + p] = e + (p == q ? 1.0 / c1[q] : 0.0);
                }
            }
            if (chol_solve(k, t, (int)n)) {
                jb->failed = 2;
                break;
            }
            for (int64_t q = 0; q < n; q++) {
                const double *zq = jb->z + (size_t)jb->other[lo + q] * d;
                for (int i = 0; i < d; i++) b[i] -= t[q] * zq[i];
            }
        } else {
            memcpy(a, jb->gram, (size_t)d * d * sizeof *a);
            memset(b, 0, (size_t)d * sizeof *b);
            for (int64_t q = lo; q < lo + n; q++) {
                const float *y = jb->fixed + (size_t)jb->other[q] * d;
                double c1q = jb->c1[q];
                double yd[512];
                for (int i = 0; i < d; i++) yd[i] = y[i];
                for (int i = 0; i < d; i++) {
                    double ci = c1q * yd[i];
                    double *ai = a + (size_t)i * d;
                    for (int j = i; j < d; j++) ai[j] += ci * yd[j];
                    b[i] += (1.0 + c1q) * yd[i];
                }
            }
            if (chol_solve(a, b, d)) {
                jb->failed = 2;
                break;
            }
        }
        for (int i = 0; i < d; i++) o[i] = (float)b[i];
    }
    free(a), free(b), free(k), free(t), free(c1), free(cg);
    return NULL;
}

MF_CLONES static int half_step(const int64_t *start, const int32_t *other, const double *c1,
                               const float *fixed, int32_t n_fixed, float *out, int32_t n_rows,
                               const prefrec_mf_params *p, int threads) {
    int d = p->dim;
    double *gram = calloc((size_t)d * d, sizeof *gram), *minv = calloc((size_t)d * d, sizeof *minv);
    if (!gram || !minv) {
        free(gram), free(minv);
        return 1;
    }
    for (int32_t r = 0; r < n_fixed; r++) {
        const float *y = fixed + (size_t)r * d;
        for (int i = 0; i < d; i++) {
            double yi = y[i];
            for (int j = i; j < d; j++) gram[i * d + j] += yi * y[j];
        }
    }
    for (int i = 0; i < d; i++) {
        gram[i * d + i] += p->reg;
        for (int j = 0; j < i; j++) gram[i * d + j] = gram[j * d + i];
    }
    /* M^-1 and Z = F M^-1 for the short rows, when any row is short */
    int64_t shorts = 0;
    for (int32_t r = 0; p->cg_steps == 0 && r < n_rows; r++)
        shorts += start[r + 1] - start[r] <= MF_SHORT_ROW;
    double *z = NULL;
    if (shorts > 0) {
        double *a = malloc((size_t)d * d * sizeof *a), *e = malloc((size_t)d * sizeof *e);
        z = malloc(((size_t)n_fixed * d + 1) * sizeof *z);
        int bad = !a || !e || !z;
        for (int j = 0; !bad && j < d; j++) { /* column j of M^-1 (M symmetric: also row j) */
            memcpy(a, gram, (size_t)d * d * sizeof *a);
            memset(e, 0, (size_t)d * sizeof *e);
            e[j] = 1.0;
            if (chol_solve(a, e, d))
                bad = 2;
            else
                memcpy(minv + (size_t)j * d, e, (size_t)d * sizeof *e);
        }
        free(a), free(e);
        if (bad) {
            free(z), free(gram), free(minv);
            return bad == 2 ? 2 : 1;
        }
        for (int32_t r = 0; r < n_fixed; r++) {
            const float *y = fixed + (size_t)r * d;
            double *zr = z + (size_t)r * d;
            memset(zr, 0, (size_t)d * sizeof *zr);
            for (int i = 0; i < d; i++) {
                double yi = y[i];
                const double *mi = minv + (size_t)i * d;
                for (int j = 0; j < d; j++) zr[j] += yi * mi[j];
            }
        }
    }
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    half_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        jobs[t] = (half_job){start,
                             other,
                             c1,
                             fixed,
                             gram,
                             minv,
                             z,
                             out,
                             (int32_t)((int64_t)n_rows * t / nt),
                             (int32_t)((int64_t)n_rows * (t + 1) / nt),
                             d,
                             p->cg_steps,
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
    free(gram), free(minv), free(z);
    return failed;
}

/* ---- the item half-step from exact sums (rank_exact.h, docs/mpi.md "Exact sums") ------------
 * Item j's system is (X'X + reg I + sum over j's buyers u of c1 x_u x_u') y = sum (1 + c1) x_u.
 * Its sums over customers are taken on the 2^-64 grid, so they have the same bits in any order
 * and on any split of the customers over ranks: X'X over every customer, and per item its
 * buyers' terms, summed to the item's owner (rank j % N). The owner forms the d x d system (X'X
 * added to the item's sums exactly, then rounded once to double) and solves it by Cholesky, or
 * takes cg_steps conjugate-gradient steps on the formed matrix (the grid's setting). Woodbury
 * needs products across the item's buyers, which a sum of per-customer terms cannot give, so
 * short items are no longer solved through it; and the formed matrix costs d^2 / 2 per pair
 * (the Cholesky path's cost before), not CG's 2 d per pair and step. */

/* Sums per item: the upper triangle of sum c1 x x' (row-major), then sum (1 + c1) x. */
static size_t item_width(int d) { return (size_t)d * (size_t)(d + 1) / 2 + (size_t)d; }

/* The upper triangle of c u u' into the lanes h, l (rank_fx_split): the caller has checked
 * |c| max|u|^2 < RANK_FX_FAST_MAX. */
MF_CLONES static void tri_terms(double c, const float *restrict u, int d, int64_t *restrict h,
                                int64_t *restrict l) {
    for (int i = 0; i < d; i++) {
        double ci = c * u[i];
        for (int k = i; k < d; k++) rank_fx_split(ci * u[k], h++, l++);
    }
}

/* The largest |u[i]|, or infinity if one is not finite. */
static double max_abs(const float *u, int d) {
    double mu = 0;
    for (int i = 0; i < d; i++) {
        double v = fabs((double)u[i]);
        if (!(v <= 0x1p100)) return INFINITY;
        if (v > mu) mu = v;
    }
    return mu;
}

/* s[0..n) += the lanes, which are then zeroed. 0 or -1 (out of range). */
static int flush_lanes(rank_fx *s, int64_t *h, int64_t *l, size_t n) {
    int rc = 0;
    for (size_t i = 0; i < n; i++) rc |= rank_fx_flush(&s[i], h[i], l[i]);
    memset(h, 0, n * sizeof *h);
    memset(l, 0, n * sizeof *l);
    return rc;
}

/* Adds the terms of item j's buyers held here (x's customers) to s[0..item_width): a buyer's
 * terms go through the int64 lanes h, l (item_width each, zero on entry and on return) when
 * they are small enough, else one by one (where a term out of range is an error). The same
 * integers either way. 0 or -1 (a term or a sum out of the grid's range). */
static int item_terms(const prefrec_interactions *x, const double *c1, const float *cu, int d,
                      int32_t j, rank_fx *s, int64_t *h, int64_t *l) {
    size_t w = item_width(d), tri = w - (size_t)d;
    int in_lanes = 0, rc = 0;
    for (int64_t a = x->col_start[j]; !rc && a < x->col_start[j + 1]; a++) {
        const float *u = cu + (size_t)x->col_customer[a] * d;
        double c = c1[a], mu = max_abs(u, d);
        if (fabs(c) * mu * mu < RANK_FX_FAST_MAX && fabs(1.0 + c) * mu < RANK_FX_FAST_MAX) {
            tri_terms(c, u, d, h, l);
            for (int i = 0; i < d; i++) rank_fx_split((1.0 + c) * u[i], h + tri + i, l + tri + i);
            if (++in_lanes == RANK_FX_FAST_TERMS) rc = flush_lanes(s, h, l, w), in_lanes = 0;
            continue;
        }
        rank_fx *t = s;
        for (int i = 0; !rc && i < d; i++) {
            double ci = c * u[i];
            for (int k = i; k < d; k++)
                if (rank_fx_add(t++, ci * u[k])) rc = -1;
        }
        for (int i = 0; !rc && i < d; i++)
            if (rank_fx_add(t++, (1.0 + c) * u[i])) rc = -1;
    }
    if (in_lanes || rc) rc |= flush_lanes(s, h, l, w);
    return rc;
}

/* steps conjugate-gradient steps on A z = b (A d x d, full) from the current factors o, as
 * cg_row does with A applied pair by pair; the result to o. w: 4 d scratch. */
static void item_cg(const double *a, const double *b, int d, int steps, double *w, float *o) {
    double *xv = w, *res = w + d, *dir = w + 2 * d, *ad = w + 3 * d;
    for (int k = 0; k < d; k++) xv[k] = o[k];
    double rs = 0;
    for (int i = 0; i < d; i++) {
        double v = 0;
        for (int k = 0; k < d; k++) v += a[(size_t)i * d + k] * xv[k];
        res[i] = b[i] - v;
        dir[i] = res[i];
        rs += res[i] * res[i];
    }
    for (int it = 0; it < steps && rs > 1e-20; it++) {
        double pap = 0;
        for (int i = 0; i < d; i++) {
            double v = 0;
            for (int k = 0; k < d; k++) v += a[(size_t)i * d + k] * dir[k];
            ad[i] = v;
            pap += dir[i] * v;
        }
        if (!(pap > 0)) break;
        double al = rs / pap, rs_new = 0;
        for (int k = 0; k < d; k++) {
            xv[k] += al * dir[k];
            res[k] -= al * ad[k];
            rs_new += res[k] * res[k];
        }
        for (int k = 0; k < d; k++) dir[k] = res[k] + rs_new / rs * dir[k];
        rs = rs_new;
    }
    for (int k = 0; k < d; k++) o[k] = (float)xv[k];
}

/* The item's factors from its summed terms s and the summed Gram g (upper triangle), by
 * Cholesky, or by cg_steps conjugate-gradient steps from its current factors o (the grid's
 * setting, as on the customer side): 0, 2 (not SPD) or 3 (out of the grid's range). a: d x d,
 * w: 5 d scratch. */
static int item_solve(const rank_fx *s, const rank_fx *g, double reg, int d, int cg_steps,
                      double *a, double *w, float *o) {
    size_t t = 0;
    for (int i = 0; i < d; i++)
        for (int k = i; k < d; k++, t++) {
            rank_fx v = s[t];
            if (rank_fx_add_fx(&v, g[t])) return 3;
            a[(size_t)i * d + k] = rank_fx_double(v) + (i == k ? reg : 0.0);
            if (cg_steps > 0) a[(size_t)k * d + i] = a[(size_t)i * d + k];
        }
    double *b = w + 4 * d;
    for (int i = 0; i < d; i++) b[i] = rank_fx_double(s[t + (size_t)i]);
    if (cg_steps > 0) {
        item_cg(a, b, d, cg_steps, w, o);
        return 0;
    }
    if (chol_solve(a, b, d)) return 2;
    for (int i = 0; i < d; i++) o[i] = (float)b[i];
    return 0;
}

typedef struct item_job {
    const prefrec_interactions *x;
    const double *c1; /* per pair, by product */
    const float *cu; /* this rank's customer factors */
    const rank_fx *g; /* X'X summed over every customer, upper triangle */
    const int32_t *items; /* NULL: the products from .. to; else items[from .. to) */
    const rank_fx *sums; /* NULL: each item's terms from x's buyers; else item k's at k x width */
    int32_t from, to;
    float *out; /* n_products x dim */
    double reg;
    int dim;
    int cg_steps; /* > 0: that many conjugate-gradient steps per item instead of the solve */
    int failed; /* 1 out of memory, 2 not SPD, 3 out of range */
} item_job;

static void *item_rows(void *arg) {
    item_job *jb = arg;
    int d = jb->dim;
    size_t w = item_width(d);
    double *a = malloc((size_t)d * d * sizeof *a), *b = malloc((size_t)5 * d * sizeof *b);
    rank_fx *s = jb->sums ? NULL : malloc(w * sizeof *s);
    int64_t *lanes = jb->sums ? NULL : calloc(2 * w, sizeof *lanes);
    if (!a || !b || (!jb->sums && (!s || !lanes))) {
        free(a), free(b), free(s), free(lanes);
        jb->failed = 1;
        return NULL;
    }
    for (int32_t k = jb->from; k < jb->to && !jb->failed; k++) {
        int32_t j = jb->items ? jb->items[k] : k;
        float *o = jb->out + (size_t)j * d;
        if (jb->x->n_buyers[j] == 0) { /* no buyer on any rank */
            memset(o, 0, (size_t)d * sizeof *o);
            continue;
        }
        const rank_fx *sj = jb->sums ? jb->sums + (size_t)k * w : s;
        if (!jb->sums) {
            memset(s, 0, w * sizeof *s);
            if (item_terms(jb->x, jb->c1, jb->cu, d, j, s, lanes, lanes + w)) {
                jb->failed = 3;
                break;
            }
        }
        jb->failed = item_solve(sj, jb->g, jb->reg, d, jb->cg_steps, a, b, o);
    }
    free(a), free(b), free(s), free(lanes);
    return NULL;
}

/* Solves items[0..n) (or the products 0..n when items is NULL) on the threads: 0 or a code. */
static int item_solve_all(item_job base, const int32_t *items, int32_t n, int threads) {
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    item_job jobs[64];
    for (int t = 0; t < nt; t++) {
        jobs[t] = base;
        jobs[t].items = items;
        jobs[t].from = (int32_t)((int64_t)n * t / nt);
        jobs[t].to = (int32_t)((int64_t)n * (t + 1) / nt);
        jobs[t].failed = 0;
    }
    rank_run_threads(nt, item_rows, jobs, sizeof jobs[0]);
    int failed = 0;
    for (int t = 0; t < nt; t++)
        if (jobs[t].failed) failed = jobs[t].failed;
    return failed;
}

/* Bytes of summed terms a rank sends per round at most (the rounds bound the buffers). */
#define MF_ROUND_BYTES ((size_t)64 << 20)

/* Sharded: the products in rounds of `per` (the same rounds on every rank). Each rank sums its
 * customers' terms per product it has buyers of and sends the record (j, 2 int64 limbs per sum)
 * to rank j % N (one all-to-all a round); the owner adds the records up exactly and solves its
 * products; at the end every rank's solved products go to every rank. rc: an earlier failure
 * here (the collectives still run, sending nothing). Returns 0 or a failure code (this rank's). */
static int item_step_dist(item_job base, int rc, int threads) {
    const prefrec_interactions *x = base.x;
    prefrec_dist *dist = x->dist;
    int N = prefrec_dist_size(dist), me = prefrec_dist_rank(dist), d = base.dim;
    int32_t np = x->n_products;
    size_t w = item_width(d), rec = 8 + w * 2 * sizeof(int64_t);
    int32_t per = (int32_t)(MF_ROUND_BYTES / rec > 0 ? MF_ROUND_BYTES / rec : 1);
    int32_t mine_max = per / N + 1;
    rank_fx *sums = malloc((size_t)mine_max * w * sizeof *sums), *s = malloc(w * sizeof *s);
    int64_t *lanes = calloc(2 * w, sizeof *lanes);
    int32_t *items = malloc((size_t)mine_max * sizeof *items);
    size_t *cnt = calloc(3 * (size_t)N, sizeof *cnt); /* send counts, receive counts, offsets */
    if (!cnt) { /* cannot take part in the rounds: the next collective stops the job (host/dist.h) */
        prefrec_dist_fail(dist, NULL);
        free(sums), free(s), free(items), free(lanes);
        return 1;
    }
    if (!rc && (!sums || !s || !items || !lanes)) rc = 1;
    size_t *sc = cnt;
    for (int32_t j0 = 0; j0 < np; j0 += per) {
        int32_t j1 = np - j0 > per ? j0 + per : np;
        char *send = NULL, *recv = NULL;
        for (int r = 0; r < N; r++) sc[r] = 0;
        for (int32_t j = j0; !rc && j < j1; j++)
            if (x->col_start[j + 1] > x->col_start[j]) sc[j % N] += rec;
        size_t total = 0;
        for (int r = 0; r < N; r++) sc[2 * N + r] = total, total += sc[r];
        if (!rc && !(send = malloc(total + 1))) rc = 1;
        for (int32_t j = j0; !rc && j < j1; j++) {
            if (x->col_start[j + 1] == x->col_start[j]) continue;
            memset(s, 0, w * sizeof *s);
            if (item_terms(x, base.c1, base.cu, d, j, s, lanes, lanes + w)) {
                rc = 3;
                break;
            }
            char *at = send + sc[2 * N + j % N];
            int32_t head[2] = {j, 0};
            memcpy(at, head, 8);
            for (size_t i = 0; i < w; i++) {
                int64_t limb[2];
                rank_fx_to_limbs(s[i], limb);
                memcpy(at + 8 + i * sizeof limb, limb, sizeof limb);
            }
            sc[2 * N + j % N] += rec;
        }
        if (rc)
            for (int r = 0; r < N; r++) sc[r] = 0; /* send nothing, still take part */
        if (prefrec_dist_alltoallv(dist, send ? send : "", sc, &recv, sc + N) && !rc) rc = 1;
        free(send);
        /* this rank's products of the round: j = first + N q */
        int32_t first = j0 + (int32_t)(((me - j0 % N) % N + N) % N), n_mine = 0;
        for (int32_t j = first; !rc && j < j1; j += N) items[n_mine++] = j;
        if (!rc) memset(sums, 0, (size_t)n_mine * w * sizeof *sums);
        size_t got = 0;
        for (int r = 0; !rc && r < N; r++) got += sc[N + r];
        for (size_t at = 0; !rc && at + rec <= got; at += rec) {
            int32_t j;
            memcpy(&j, recv + at, 4);
            if (j < first || j >= j1 || (j - first) % N) {
                rc = 1; /* cannot happen: a record for another rank */
                break;
            }
            rank_fx *t = sums + (size_t)((j - first) / N) * w;
            for (size_t i = 0; !rc && i < w; i++) {
                int64_t limb[2];
                memcpy(limb, recv + at + 8 + i * sizeof limb, sizeof limb);
                if (rank_fx_add_fx(&t[i], rank_fx_from_limbs(limb))) rc = 3;
            }
        }
        free(recv);
        if (!rc) {
            base.sums = sums;
            rc = item_solve_all(base, items, n_mine, threads);
        }
    }
    /* every rank's products to every rank: (j, d floats) records */
    size_t frec = 4 + (size_t)d * sizeof(float), len = 0, n_all = 0;
    char *mine = malloc(((size_t)np / N + 1) * frec + 1), *all = NULL;
    if (!rc && !mine) rc = 1;
    for (int32_t j = me; !rc && j < np; j += N, len += frec) {
        memcpy(mine + len, &j, 4);
        memcpy(mine + len + 4, base.out + (size_t)j * d, (size_t)d * sizeof(float));
    }
    if (rank_dist_all_gather(x, mine ? mine : "", rc ? 0 : len, &all, &n_all) && !rc) rc = 1;
    for (size_t at = 0; !rc && at + frec <= n_all; at += frec) {
        int32_t j;
        memcpy(&j, all + at, 4);
        if (j >= 0 && j < np) memcpy(base.out + (size_t)j * d, all + at + 4, frec - 4);
    }
    free(mine), free(all), free(sums), free(s), free(items), free(lanes), free(cnt);
    return rc;
}

/* The item half-step (see above): X'X from this rank's customers summed over the ranks, then the
 * items solved here (one process) or by their owners. rc: this rank's failure so far (the
 * sharded collectives still run). Returns 0 or the code of a failure on any rank. */
static int item_step(const prefrec_interactions *x, const double *c1, const float *cu, float *it,
                     const prefrec_mf_params *p, int threads, int rc) {
    int d = p->dim;
    size_t ng = (size_t)d * (size_t)(d + 1) / 2;
    rank_fx *g = calloc(ng, sizeof *g);
    int64_t *lanes = calloc(2 * ng, sizeof *lanes);
    if (!rc && (!g || !lanes)) rc = 1;
    int in_lanes = 0;
    for (int32_t c = 0; !rc && c < x->n_customers; c++) {
        const float *u = cu + (size_t)c * d;
        double mu = max_abs(u, d);
        if (mu * mu < RANK_FX_FAST_MAX) {
            tri_terms(1.0, u, d, lanes, lanes + ng);
            if (++in_lanes == RANK_FX_FAST_TERMS)
                rc = flush_lanes(g, lanes, lanes + ng, ng) ? 3 : 0, in_lanes = 0;
            continue;
        }
        rank_fx *t = g;
        for (int i = 0; !rc && i < d; i++)
            for (int k = i; k < d; k++)
                if (rank_fx_add(t++, (1.0 * u[i]) * u[k])) {
                    rc = 3;
                    break;
                }
    }
    if (!rc && in_lanes && flush_lanes(g, lanes, lanes + ng, ng)) rc = 3;
    free(lanes);
    int sharded = prefrec_dist_size(x->dist) > 1;
    if (sharded) { /* collective: every rank calls it, also after a failure (its sums then 0) */
        if (rc && g) memset(g, 0, ng * sizeof *g);
        if (!g) prefrec_dist_fail(x->dist, NULL); /* cannot make the n sums' calls */
        if ((!g || rank_fx_sum_dist(x->dist, g, ng)) && !rc) rc = 3;
    }
    item_job base = {x, c1, cu, g, NULL, NULL, 0, 0, it, p->reg, d, p->cg_steps, 0};
    if (!sharded) {
        if (!rc) rc = item_solve_all(base, NULL, x->n_products, threads);
    } else
        rc = item_step_dist(base, rc, threads);
    free(g);
    if (sharded) { /* one rank's failure is every rank's (the largest code wins) */
        int64_t bad[3] = {rc == 1, rc == 2, rc == 3};
        if (rank_dist_sum(x, bad, 3)) bad[0] = 1;
        rc = bad[2] ? 3 : bad[1] ? 2 : bad[0] ? 1 : 0;
    }
    return rc;
}

static prefrec_status mf_fit(const prefrec_fit_input *in, const void *params, void **model,
                             prefrec_error *err) {
    prefrec_mf_params p = params ? *(const prefrec_mf_params *)params : prefrec_mf_default_params();
    *model = NULL;
    if (p.dim < 1 || p.dim > 512 || p.iterations < 1 || !(p.reg > 0) || !(p.alpha >= 0) ||
        p.cg_steps < 0 || p.cg_steps > 64)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "mf: need 1 <= dim <= 512, iterations >= 1, reg > 0, alpha >= 0,"
                                 " 0 <= cg_steps <= 64 (got %d, %d, %g, %g, %d)",
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
    /* confidence - 1 of every pair, by customer and by product (counts do not change) */
    size_t npairs = (size_t)x->n_pairs;
    double *c1r = malloc((npairs + 1) * sizeof *c1r), *c1c = malloc((npairs + 1) * sizeof *c1c);
    if (!c1r || !c1c) {
        free(c1r), free(c1c);
        mf_free(m);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "mf: out of memory");
    }
    for (size_t q = 0; q < npairs; q++) {
        c1r[q] = p.alpha * log1p((double)x->count[q]);
        c1c[q] = p.alpha * log1p((double)x->col_count[q]);
    }
    for (int e = 0; e < p.iterations; e++) {
        int f = half_step(x->row_start, x->product, c1r, m->it, x->n_products, m->cu,
                          x->n_customers, &p, in->threads);
        f = item_step(x, c1c, m->cu, m->it, &p, in->threads, f);
        if (f) {
            free(c1r), free(c1c);
            mf_free(m);
            if (f == 3)
                return prefrec_error_set(err, PREFREC_E_RANGE,
                                         "mf: a sum of the item step left the exact sums' range "
                                         "(|term| < 2^62, |sum| < 2^63) at iteration %d "
                                         "(lower alpha or raise reg)",
                                         e + 1);
            return f == 2
                ? prefrec_error_set(err, PREFREC_E_RANGE,
                                    "mf: singular system at "
                                    "iteration %d (raise reg)",
                                    e + 1)
                : prefrec_error_set(err, PREFREC_E_NOMEM, "mf: out of memory (or MPI failed)");
        }
        if (in->verbose) fprintf(stderr, "  mf: iteration %d/%d\n", e + 1, p.iterations);
    }
    free(c1r), free(c1c);
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
