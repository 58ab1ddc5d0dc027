/* rank_ease.c - EASE (Steck 2019): the closed-form linear item-to-item model.
 *
 * B = I - P diag(1 / diag P), P = (X'X + lambda I)^-1, diag(B) = 0, score = x_u B. X is the
 * binary customer x product matrix of the window over every product bought in it (or the
 * max_items most-bought; and, when the dense solve would need more than max_mb, the most-bought
 * that fit, said on stderr). Memory: X'X + lambda I in doubles (8 n^2 bytes) plus B in floats
 * (4 n^2). X'X is summed into its upper triangle only. The solve is LAPACK's dpotrf + dpotri
 * (OpenBLAS: blocked and multi-threaded) when the build found it, else our own: Cholesky
 * G = L L', the upper factor M = L^-T row by row, then P = M M' as dot products of contiguous
 * rows (vectorisable; P's rows are split over threads, each entry a fixed-order sum, so the
 * model does not depend on the thread count). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/rankers.h"
#include "prefrec/topk.h"
#include "host/dist.h"
#include "rank_dist.h"
#include "rank_util.h"

/* Exposed for the tests (declared there): invert the SPD matrix a (n x n, row-major; only its
 * upper triangle is read) in place. Returns 0, or -1 if a is not positive definite, -2 out of memory. _own is the built-in
 * solve; prefrec_ease_spd_inverse uses LAPACK (dpotrf + dpotri) when the build found it
 * (PREFREC_HAVE_LAPACK: OpenBLAS is blocked and multi-threaded, about 10x faster at n = 3000). */
int prefrec_ease_spd_inverse(double *a, int n, int threads);
int prefrec_ease_spd_inverse_own(double *a, int n, int threads);
int prefrec_ease_have_lapack(void);

#ifdef PREFREC_HAVE_LAPACK
/* LAPACK's Fortran interface (no lapacke needed). A symmetric row-major matrix is its own
 * column-major transpose, so 'L' here factors the row-major upper triangle. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
#endif

typedef struct ease_model {
    const prefrec_interactions *x;
    int32_t n; /* dense items */
    int32_t *dense; /* n_products: dense index or -1 */
    int32_t *item; /* n: product of a dense index */
    float *b; /* n x n */
    double lambda; /* the lambda used */
} ease_model;

prefrec_ease_params prefrec_ease_default_params(void) {
    prefrec_ease_params p = {-1.0, 0, 6144};
    return p;
}

static void ease_free(void *m) {
    ease_model *em = m;
    if (!em) return;
    free(em->dense);
    free(em->item);
    free(em->b);
    free(em);
}

/* Dot product of a[from..to) and b[from..to) with four fixed partial sums: the compiler can keep
 * them in vector registers (a plain running sum may not be reordered), and the result is the
 * same on every run and thread count. */
static double dot4(const double *a, const double *b, int from, int to) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = from;
    for (; k + 4 <= to; k += 4) {
        s0 += a[k] * b[k];
        s1 += a[k + 1] * b[k + 1];
        s2 += a[k + 2] * b[k + 2];
        s3 += a[k + 3] * b[k + 3];
    }
    for (; k < to; k++) s0 += a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

typedef struct mm_job {
    const double *m;
    double *p;
    int n, t, nt;
} mm_job;

/* P[a][b] = sum_{k >= max(a,b)} M[a][k] M[b][k] for b >= a; rows a interleaved over threads. */
static void *mm_rows(void *arg) {
    mm_job *jb = arg;
    int n = jb->n;
    for (int a = jb->t; a < n; a += jb->nt) {
        const double *ra = jb->m + (size_t)a * n;
        for (int b = a; b < n; b++) {
            const double *rb = jb->m + (size_t)b * n;
            jb->p[(size_t)a * n + b] = dot4(ra, rb, b, n);
        }
    }
    return NULL;
}

/* Copy the upper triangle of a (n x n, row-major) into the lower one, in 64 x 64 tiles: a plain
 * column walk would touch a new cache line at every element (n = 3000: 4.5 M misses). */
static void mirror_upper(double *a, int n) {
    const int T = 64;
    for (int i0 = 0; i0 < n; i0 += T)
        for (int j0 = 0; j0 <= i0; j0 += T) {
            int i1 = i0 + T < n ? i0 + T : n, j1 = j0 + T < n ? j0 + T : n;
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1 && j < i; j++) a[(size_t)i * n + j] = a[(size_t)j * n + i];
        }
}

int prefrec_ease_have_lapack(void) {
#ifdef PREFREC_HAVE_LAPACK
    return 1;
#else
    return 0;
#endif
}

int prefrec_ease_spd_inverse(double *a, int n, int threads) {
#ifdef PREFREC_HAVE_LAPACK
    int info = 0;
    if (n == 0) return 0;
    dpotrf_("L", &n, a, &n, &info);
    if (info > 0) return -1;
    if (info == 0) dpotri_("L", &n, a, &n, &info);
    if (info != 0) return -1;
    /* column-major lower = row-major upper: mirror it into the lower triangle */
    mirror_upper(a, n);
    return 0;
#else
    return prefrec_ease_spd_inverse_own(a, n, threads);
#endif
}

int prefrec_ease_spd_inverse_own(double *a, int n, int threads) {
    size_t nn = (size_t)n * (size_t)n;
    mirror_upper(
        a, n); /* the factorisation below reads the lower triangle; callers may fill the upper */
    /* Cholesky, lower factor L into a's lower triangle (row-oriented: contiguous dots) */
    for (int i = 0; i < n; i++) {
        double *ri = a + (size_t)i * n;
        for (int j = 0; j <= i; j++) {
            const double *rj = a + (size_t)j * n;
            double s = ri[j] - dot4(ri, rj, 0, j);
            if (j == i) {
                if (!(s > 0)) return -1;
                ri[i] = sqrt(s);
            } else {
                ri[j] = s / rj[j];
            }
        }
    }
    /* M = L^-T (upper). W = L^-1 has W[i][j] = -(sum_{k=j}^{i-1} L[i][k] W[k][j]) / L[i][i];
     * with M[j][k] = W[k][j] the sum is a dot of row i of L and row j of M. */
    double *m = calloc(nn ? nn : 1, sizeof *m);
    if (!m) return -2;
    for (int i = 0; i < n; i++) {
        const double *li = a + (size_t)i * n;
        for (int j = 0; j < i; j++) {
            const double *mj = m + (size_t)j * n;
            m[(size_t)j * n + i] = -dot4(li, mj, j, i) / li[i];
        }
        m[(size_t)i * n + i] = 1.0 / li[i];
    }
    /* P = W' W = M M' (upper triangle), then mirror */
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    mm_job jobs[64];
    pthread_t th[64];
    int started[64] = {0};
    for (int t = 0; t < nt; t++) {
        jobs[t] = (mm_job){m, a, n, t, nt};
        if (t > 0) started[t] = pthread_create(&th[t], NULL, mm_rows, &jobs[t]) == 0;
    }
    mm_rows(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            mm_rows(&jobs[t]);
    }
    mirror_upper(a, n);
    free(m);
    return 0;
}

/* A large block (the n x n matrices) on 2 MiB pages where the kernel offers them: filling
 * 100 MB of fresh 4 KiB pages costs a page fault per page, a large share of the fit. Freed
 * with free(); zeroed when zero is set. */
static void *big_alloc(size_t bytes, int zero) {
    void *p = NULL;
    if (bytes < ((size_t)4 << 20))
        return zero ? calloc(bytes ? bytes : 1, 1) : malloc(bytes ? bytes : 1);
    if (posix_memalign(&p, (size_t)2 << 20, bytes)) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    if (zero) memset(p, 0, bytes);
    return p;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* b[i][j] = -p[i][j] / p[j][j] as float, diagonal 0 (restrict: the loop vectorises). */
static void ease_b_from_p(float *restrict b, const double *restrict p, const double *restrict diag,
                          int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        const double *pi = p + (size_t)i * n;
        float *bi = b + (size_t)i * n;
        for (int32_t j = 0; j < n; j++) bi[j] = (float)(-pi[j] / diag[j]);
        bi[i] = 0.0f;
    }
}

/* descending (buyers, product) keys packed in int64 */
static int cmp_i64_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

static prefrec_status ease_fit(const prefrec_fit_input *in, const void *params, void **model,
                               prefrec_error *err) {
    prefrec_ease_params p =
        params ? *(const prefrec_ease_params *)params : prefrec_ease_default_params();
    *model = NULL;
    if (p.max_items < 0 || p.lambda == 0 || p.max_mb < 1)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "ease: max_items must be >= 0 (0: all), lambda nonzero and "
                                 "max_mb >= 1 (got %d, %g, %d)",
                                 p.max_items, p.lambda, p.max_mb);
    const prefrec_interactions *x = in->train;
    size_t np = x->n_products ? (size_t)x->n_products : 1;
    ease_model *m = calloc(1, sizeof *m);
    int64_t *order = malloc(np * sizeof *order);
    if (!m || !order) goto nomem;
    m->x = x;
    m->dense = malloc(np * sizeof *m->dense);
    if (!m->dense) goto nomem;
    /* the most-bought products; ties by lower product index (key = buyers << 32 | ~index) */
    int32_t cand = 0;
    for (int32_t j = 0; j < x->n_products; j++) {
        m->dense[j] = -1;
        if (x->n_buyers[j] > 0)
            order[cand++] = ((int64_t)x->n_buyers[j] << 32) | (int64_t)(0x7fffffff - j);
    }
    qsort(order, (size_t)cand, sizeof *order, cmp_i64_desc);
    int32_t n = p.max_items > 0 && p.max_items < cand ? p.max_items : cand;
    double n_mem = floor(sqrt((double)p.max_mb * 1048576.0 / 12.0)); /* 12 n^2 bytes at the peak */
    if ((double)n > n_mem) {
        fprintf(stderr,
                "  ease: %d products need %.1f MiB for the dense solve, over max_mb %d: keeping "
                "the %d most-bought (the others rank below them, by popularity)\n",
                n, 12.0 * n * (double)n / 1048576.0, p.max_mb, (int)n_mem);
        n = (int32_t)n_mem;
    }
    m->n = n;
    m->item = malloc((n ? (size_t)n : 1) * sizeof *m->item);
    if (!m->item) goto nomem;
    for (int32_t d = 0; d < n; d++) {
        int32_t j = 0x7fffffff - (int32_t)(order[d] & 0xffffffff);
        m->item[d] = j;
        m->dense[j] = d;
    }
    free(order);
    order = NULL;
    size_t nn = (size_t)n * (size_t)n;
    double *g = big_alloc(nn * sizeof *g, 1);
    int32_t *hist = malloc(np * sizeof *hist);
    if (!g || !hist) {
        free(g);
        free(hist);
        goto nomem;
    }
    /* X'X, upper triangle only (the solve reads no more): each customer's dense products in
     * ascending order, so every row is walked forwards. Counts are exact in double, so the
     * order of the additions does not matter. */
    for (int32_t c = 0; c < x->n_customers; c++) {
        int32_t h = 0;
        for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++)
            if (m->dense[x->product[b]] >= 0) hist[h++] = m->dense[x->product[b]];
        qsort(hist, (size_t)h, sizeof *hist, cmp_i32);
        for (int32_t u = 0; u < h; u++) {
            double *row = g + (size_t)hist[u] * n;
            for (int32_t v = u; v < h; v++) row[hist[v]] += 1.0;
        }
    }
    free(hist);
    /* sharded: the Gram of this rank's customers summed over the ranks, its upper triangle in
     * blocks of rows through integers (exact: the counts are integers) */
    if (prefrec_dist_size(x->dist) > 1) {
        size_t cap = (size_t)1 << 20, used = 0;
        int64_t *blk = malloc(cap * sizeof *blk);
        int rc = blk ? 0 : -1;
        for (int32_t r0 = 0, r1; !rc && r0 < n; r0 = r1) {
            used = 0;
            for (r1 = r0; r1 < n && (used == 0 || used + (size_t)(n - r1) <= cap); r1++)
                used += (size_t)(n - r1);
            int64_t *big = used > cap ? malloc(used * sizeof *big) : blk;
            if (!big) {
                rc = -1;
                break;
            }
            size_t k = 0;
            for (int32_t i = r0; i < r1; i++)
                for (int32_t j = i; j < n; j++) big[k++] = (int64_t)g[(size_t)i * n + j];
            rc = rank_dist_sum(x, big, used);
            k = 0;
            for (int32_t i = r0; !rc && i < r1; i++)
                for (int32_t j = i; j < n; j++) g[(size_t)i * n + j] = (double)big[k++];
            if (big != blk) free(big);
        }
        free(blk);
        if (rc) {
            free(g);
            ease_free(m);
            return prefrec_error_set(err, PREFREC_E_IO, "ease: summing the Gram over the ranks");
        }
    }
    double mean_diag = 0;
    for (int32_t d = 0; d < n; d++) mean_diag += g[(size_t)d * n + d];
    mean_diag = n ? mean_diag / n : 1.0;
    m->lambda = p.lambda > 0 ? p.lambda : -p.lambda * mean_diag;
    if (!(m->lambda > 0)) m->lambda = 1.0;
    for (int32_t d = 0; d < n; d++) g[(size_t)d * n + d] += m->lambda;
    if (in->verbose)
        fprintf(stderr, "  ease: %d products%s, lambda %.3g, solving\n", n,
                n == cand ? " (all bought)" : "", m->lambda);
    int rc = prefrec_ease_spd_inverse(g, n, in->threads);
    if (rc) {
        double lambda = m->lambda;
        free(g);
        ease_free(m);
        return rc == -2 ? prefrec_error_set(err, PREFREC_E_NOMEM, "ease: out of memory")
                        : prefrec_error_set(err, PREFREC_E_RANGE,
                                            "ease: X'X + lambda I is not "
                                            "positive definite (lambda %g)",
                                            lambda);
    }
    m->b = big_alloc(nn * sizeof *m->b, 0);
    double *diag = malloc((n ? (size_t)n : 1) * sizeof *diag);
    if (!m->b || !diag) {
        free(g);
        free(diag);
        goto nomem;
    }
    for (int32_t j = 0; j < n; j++) diag[j] = g[(size_t)j * n + j];
    ease_b_from_p(m->b, g, diag, n);
    free(diag);
    free(g);
    *model = m;
    return PREFREC_OK;
nomem:
    free(order);
    ease_free(m);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "ease: out of memory (%d products)",
                             x->n_products);
}

static prefrec_status ease_score(const void *mv, int32_t c, float *scores) {
    const ease_model *m = mv;
    const prefrec_interactions *x = m->x;
    /* products outside the dense set rank below every dense one, by popularity */
    for (int32_t j = 0; j < x->n_products; j++) scores[j] = m->dense[j] >= 0 ? 0.0f : -1000.0f;
    int32_t n = m->n;
    float *acc = calloc(n ? (size_t)n : 1, sizeof *acc);
    if (!acc) return PREFREC_E_NOMEM;
    for (int64_t b = x->row_start[c]; b < x->row_start[c + 1]; b++) {
        int32_t d = m->dense[x->product[b]];
        if (d < 0) continue;
        const float *row = m->b + (size_t)d * n;
        for (int32_t e = 0; e < n; e++) acc[e] += row[e];
    }
    for (int32_t e = 0; e < n; e++) scores[m->item[e]] += acc[e];
    free(acc);
    rank_add_pop_tiebreak(x, scores, 1e-6f);
    return PREFREC_OK;
}

/* lambda 3 .. 10000 in half-decade steps, every product (Steck's 500 and the issue's
 * numpy run sit between 300 and 1000); the memory cap stays the default. */
static int ease_grid(size_t i, void *params) {
    static const double lambdas[8] = {3, 10, 30, 100, 300, 1000, 3000, 10000};
    if (i >= 8) return 0;
    prefrec_ease_params p = prefrec_ease_default_params();
    p.lambda = lambdas[i];
    *(prefrec_ease_params *)params = p;
    return 1;
}

static void ease_describe(const void *params, char *buf, size_t n) {
    prefrec_ease_params p =
        params ? *(const prefrec_ease_params *)params : prefrec_ease_default_params();
    char lam[48], items[32];
    if (p.lambda > 0)
        snprintf(lam, sizeof lam, "lambda=%g", p.lambda);
    else
        snprintf(lam, sizeof lam, "lambda=%gx mean diag", -p.lambda);
    if (p.max_items > 0)
        snprintf(items, sizeof items, "%d", p.max_items);
    else
        snprintf(items, sizeof items, "all");
    snprintf(buf, n, "%s items=%s (memory cap %d MiB)", lam, items, p.max_mb);
}

const prefrec_ranker_def prefrec_ranker_ease = {
    .name = "ease",
    .summary = "EASE closed-form item-to-item regression (dense, every product bought)",
    .tasks = PREFREC_TASK_NEW_ITEMS | PREFREC_TASK_REPURCHASE | PREFREC_TASK_MIXED,
    .fit = ease_fit,
    .score = ease_score,
    .free = ease_free,
    .params_size = sizeof(prefrec_ease_params),
    .grid = ease_grid,
    .describe = ease_describe};

/* ---- served form (src/core/blend.h): the strongest positive entries of each EASE row ------- */
prefrec_status prefrec_ease_neighbors(const void *mv, int32_t m, int32_t *nbr, float *w) {
    const ease_model *em = mv;
    prefrec_scored *best = malloc((size_t)(m > 0 ? m : 1) * sizeof *best);
    if (!best) return PREFREC_E_NOMEM;
    for (int32_t h = 0; h < em->x->n_products; h++) {
        prefrec_topk_heap heap;
        prefrec_topk_heap_init(&heap, best, best ? (size_t)m : 0);
        int32_t d = em->dense[h];
        const float *row = d >= 0 ? em->b + (size_t)d * em->n : NULL;
        for (int32_t e = 0; row && e < em->n; e++)
            if (e != d && row[e] > 0.0f) prefrec_topk_heap_push(&heap, row[e], em->item[e]);
        rank_neighbor_row(&heap, m, nbr + (size_t)h * m, w + (size_t)h * m);
    }
    free(best);
    return PREFREC_OK;
}
