/* neumf.c - NeuMF forward and backward passes for training (see neumf.h, docs/model.md).
 *
 * Weights are kept in PyTorch's [out][in] layout (gradients too) plus transposed [in][out]
 * copies for the forward pass, so every inner loop is an axpy over contiguous memory: gcc
 * vectorises those without reassociating any sum, which keeps results identical between the
 * SSE and AVX2 clones of the hot function. Rows of ReLU units that are off are skipped in both
 * directions (their contribution is exactly zero). */
#include "neumf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/rng.h"

void nm_layout_init(nm_layout *L, int d, int n_layers, const int *width) {
    memset(L, 0, sizeof *L);
    L->d = d;
    L->n_layers = n_layers;
    size_t off = 0;
    int in = 2 * d + PREFREC_MODEL_N_DEMO;
    L->wmax = in;
    for (int l = 0; l < n_layers; l++) {
        L->width[l] = width[l];
        L->in[l] = in;
        L->off_w[l] = off;
        off += (size_t)width[l] * (size_t)in;
        L->off_b[l] = off;
        off += (size_t)width[l];
        in = width[l];
        if (width[l] > L->wmax) L->wmax = width[l];
    }
    L->off_wg = off;
    off += (size_t)d;
    L->off_wm = off;
    off += (size_t)in;
    L->off_b0 = off;
    off += 1;
    L->n_dense = off;
}

double nm_flops_per_pair(const nm_layout *L) {
    double f = 0.0;
    for (int l = 0; l < L->n_layers; l++) {
        double io = (double)L->in[l] * L->width[l];
        f += 2.0 * io + 2.0 * io; /* forward, dW */
        f += l ? 2.0 * io : 2.0 * (2.0 * L->d) * L->width[l]; /* d input */
    }
    return f;
}

void *nm_zalloc64(size_t bytes) {
    size_t n = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (p) memset(p, 0, n ? n : 64);
    return p;
}

void nm_net_free(nm_net *n) {
    free(n->ctab);
    free(n->ptab);
    free(n->dense);
    free(n->demo);
    for (int l = 0; l < PREFREC_MODEL_MAX_LAYERS; l++) free(n->wt[l]);
    memset(n, 0, sizeof *n);
}

prefrec_status nm_net_alloc(nm_net *n, const nm_layout *L, int32_t C, int32_t P,
                            const int8_t *gender, const float *age, prefrec_error *err) {
    memset(n, 0, sizeof *n);
    n->L = *L;
    n->C = C;
    n->P = P;
    size_t D = (size_t)L->d + 1;
    n->ctab = nm_zalloc64(((size_t)C * D + 1) * sizeof(float));
    n->ptab = nm_zalloc64(((size_t)P * D + 1) * sizeof(float));
    n->dense = nm_zalloc64(L->n_dense * sizeof(float));
    n->demo = calloc((size_t)C * PREFREC_MODEL_N_DEMO + 1, sizeof(float));
    int ok = n->ctab && n->ptab && n->dense && n->demo;
    for (int l = 0; ok && l < L->n_layers; l++)
        ok = (n->wt[l] = nm_zalloc64((size_t)L->in[l] * (size_t)L->width[l] * sizeof(float))) !=
            NULL;
    if (!ok) {
        nm_net_free(n);
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "train: out of memory for %d customers x %d products", C, P);
    }
    int k = nm_kernel_best();
    if (k < 0 || nm_kernel_set(n, k)) {
        const char *e = getenv("PREFREC_KERNEL");
        nm_net_free(n);
        return prefrec_error_set(
            err, PREFREC_E_RANGE,
            "train: PREFREC_KERNEL=%s is not a kernel this CPU runs (portable, avx2, avx512)",
            e ? e : "");
    }
    for (int32_t c = 0; c < C; c++)
        prefrec_model_demo(gender ? gender[c] : -1, age ? age[c] : NAN,
                           n->demo + (size_t)c * PREFREC_MODEL_N_DEMO);
    return PREFREC_OK;
}

void nm_sync(nm_net *n) {
    const nm_layout *L = &n->L;
    for (int l = 0; l < L->n_layers; l++) {
        const float *w = n->dense + L->off_w[l];
        int in = L->in[l], o = L->width[l];
        for (int j = 0; j < o; j++)
            for (int i = 0; i < in; i++) n->wt[l][(size_t)i * o + j] = w[(size_t)j * in + i];
    }
}

/* W[j][i] -> wt[i][j] for the entries [a, b) of one layer's weights (offset w0, in inputs, o
 * outputs), one by one. */
static void sync_entries(float *wt, const float *dense, size_t w0, size_t in, size_t o, size_t a,
                         size_t b) {
    size_t j = (a - w0) / in, i = (a - w0) % in;
    for (size_t q = a; q < b; q++) {
        wt[i * o + j] = dense[q];
        if (++i == in) i = 0, j++;
    }
}

/* Whole rows are copied column by column: each wt row gets one contiguous run (a thread that
 * owns rows j0..j1 of W writes only its own part of every wt row, whole cache lines when j0 and
 * j1 are multiples of 16), the reads stride through rows that are in the cache. */
void nm_sync_range(nm_net *n, size_t lo, size_t hi) {
    const nm_layout *L = &n->L;
    for (int l = 0; l < L->n_layers; l++) {
        size_t in = (size_t)L->in[l], o = (size_t)L->width[l], w0 = L->off_w[l], w1 = w0 + o * in;
        size_t a = lo > w0 ? lo : w0, b = hi < w1 ? hi : w1;
        if (a >= b) continue;
        size_t ja = (a - w0 + in - 1) / in, jb = (b - w0) / in; /* whole rows [ja, jb) */
        if (ja >= jb) {
            sync_entries(n->wt[l], n->dense, w0, in, o, a, b);
            continue;
        }
        sync_entries(n->wt[l], n->dense, w0, in, o, a, w0 + ja * in);
        sync_entries(n->wt[l], n->dense, w0, in, o, w0 + jb * in, b);
        const float *w = n->dense + w0;
        float *t = n->wt[l];
        for (size_t i = 0; i < in; i++)
            for (size_t j = ja; j < jb; j++) t[i * o + j] = w[j * in + i];
    }
}

void nm_net_init(nm_net *n, uint64_t seed, float std, float mean_target) {
    const nm_layout *L = &n->L;
    size_t D = (size_t)L->d + 1;
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 11);
    for (int32_t c = 0; c < n->C; c++) {
        for (int k = 0; k < L->d; k++) n->ctab[c * D + k] = (float)(std * prefrec_rng_normal(&r));
        n->ctab[c * D + L->d] = 0.0f;
    }
    prefrec_rng_init(&r, seed, 12);
    for (int32_t p = 0; p < n->P; p++) {
        for (int k = 0; k < L->d; k++) n->ptab[p * D + k] = (float)(std * prefrec_rng_normal(&r));
        n->ptab[p * D + L->d] = 0.0f;
    }
    prefrec_rng_init(&r, seed, 13);
    for (int l = 0; l < L->n_layers; l++) {
        double s = sqrt(2.0 / L->in[l]); /* He initialisation for ReLU */
        float *w = n->dense + L->off_w[l];
        for (size_t i = 0; i < (size_t)L->width[l] * (size_t)L->in[l]; i++)
            w[i] = (float)(s * prefrec_rng_normal(&r));
        memset(n->dense + L->off_b[l], 0, (size_t)L->width[l] * sizeof(float));
    }
    int last = L->width[L->n_layers - 1];
    for (int k = 0; k < L->d; k++) n->dense[L->off_wg + k] = 1.0f; /* GMF starts as a dot product */
    for (int j = 0; j < last; j++)
        n->dense[L->off_wm + j] = (float)(sqrt(1.0 / last) * prefrec_rng_normal(&r));
    n->dense[L->off_b0] = mean_target;
    nm_sync(n);
}

/* Forward through the MLP from x0; activations into act[l]. Returns the last activation. */
static const float *mlp_forward(const nm_net *n, const float *x0, float **act) {
    const nm_layout *L = &n->L;
    const float *a = x0;
    int in = L->in[0];
    for (int l = 0; l < L->n_layers; l++) {
        int o = L->width[l];
        float *z = act[l];
        const float *wt = n->wt[l];
        memcpy(z, n->dense + L->off_b[l], (size_t)o * sizeof(float));
        for (int i = 0; i < in; i++) {
            float ai = a[i];
            if (ai == 0.0f) continue;
            const float *row = wt + (size_t)i * o;
            for (int j = 0; j < o; j++) z[j] += ai * row[j];
        }
        for (int j = 0; j < o; j++) z[j] = z[j] > 0.0f ? z[j] : 0.0f;
        a = z;
        in = o;
    }
    return a;
}

static float head(const nm_net *n, const float *u, const float *v, const float *aL) {
    const nm_layout *L = &n->L;
    const float *wg = n->dense + L->off_wg, *wm = n->dense + L->off_wm;
    float y = n->dense[L->off_b0] + u[L->d] + v[L->d];
    float g = 0.0f, m = 0.0f;
    for (int k = 0; k < L->d; k++) g += wg[k] * u[k] * v[k];
    for (int j = 0; j < L->width[L->n_layers - 1]; j++) m += wm[j] * aL[j];
    return y + g + m;
}

static size_t batch_scratch_size(const nm_layout *L);

static void split_scratch_at(const nm_layout *L, float *scratch, float **x0, float **act,
                             float **da, float **db) {
    *x0 = scratch;
    float *p = scratch + L->in[0];
    for (int l = 0; l < L->n_layers; l++) {
        act[l] = p;
        p += L->width[l];
    }
    *da = p;
    *db = p + L->wmax;
}

/* nm_predict's scratch: after the batched passes' buffers (nm_scratch_size covers both). */
static void split_scratch(const nm_layout *L, float *scratch, float **x0, float **act, float **da,
                          float **db) {
    split_scratch_at(L, scratch + batch_scratch_size(L), x0, act, da, db);
}

float nm_predict(const nm_net *n, int32_t c, int32_t p, float *scratch) {
    const nm_layout *L = &n->L;
    int d = L->d;
    float *x0, *act[PREFREC_MODEL_MAX_LAYERS], *da, *db;
    split_scratch(L, scratch, &x0, act, &da, &db);
    const float *u = n->ctab + (size_t)c * (d + 1), *v = n->ptab + (size_t)p * (d + 1);
    memcpy(x0, u, (size_t)d * sizeof(float));
    memcpy(x0 + d, v, (size_t)d * sizeof(float));
    memcpy(x0 + 2 * d, n->demo + (size_t)c * PREFREC_MODEL_N_DEMO,
           PREFREC_MODEL_N_DEMO * sizeof(float));
    return head(n, u, v, mlp_forward(n, x0, act));
}

/* ---- dense products of a chunk: C[m][c] += sum_k A[m*sam + k*sak] B[k*ldb + c] --------------
 * Register-blocked: a few rows x 16 or more columns of C stay in registers while k runs.
 * Whatever the blocking, each output is one chain over k = 0..K-1 in order, starting from C's
 * value (or from +0 in the "0" variants, which overwrite C: the same bits as zeroing C first):
 * that order is what fixes the bits, so the AVX2 and AVX-512 paths (FMA: one rounding per step)
 * agree exactly, and the portable path (multiply, then add: two roundings, as the per-pair
 * scalar code did) differs from them by rounding only. */
#define NM_INLINE static inline __attribute__((always_inline))

#define NM_GEMM_DEFINE(NAME, ATTR, VEC, NV, VW, VLOAD, VSTORE, VZERO, VFMA, VSET1, SFMA) \
    ATTR NM_INLINE void NAME##_impl(int M, int N, int K, const float *A, ptrdiff_t sam, \
                                    ptrdiff_t sak, const float *B, ptrdiff_t ldb, float *C, \
                                    ptrdiff_t ldc, const int zero) { \
        int m = 0; \
        for (; m + 4 <= M; m += 4) { \
            const float *a0 = A + m * sam, *a1 = a0 + sam, *a2 = a1 + sam, *a3 = a2 + sam; \
            float *c0 = C + m * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc; \
            int c = 0; \
            for (; c + 16 <= N; c += 16) { \
                VEC x0[NV], x1[NV], x2[NV], x3[NV]; \
                for (int v = 0; v < NV; v++) { \
                    x0[v] = zero ? VZERO : VLOAD(c0 + c + v * VW); \
                    x1[v] = zero ? VZERO : VLOAD(c1 + c + v * VW); \
                    x2[v] = zero ? VZERO : VLOAD(c2 + c + v * VW); \
                    x3[v] = zero ? VZERO : VLOAD(c3 + c + v * VW); \
                } \
                const float *b = B + c; \
                for (int k = 0; k < K; k++, b += ldb) { \
                    VEC s0 = VSET1(a0[k * sak]), s1 = VSET1(a1[k * sak]), s2 = VSET1(a2[k * sak]), \
                        s3 = VSET1(a3[k * sak]); \
                    for (int v = 0; v < NV; v++) { \
                        VEC bv = VLOAD(b + v * VW); \
                        x0[v] = VFMA(s0, bv, x0[v]); \
                        x1[v] = VFMA(s1, bv, x1[v]); \
                        x2[v] = VFMA(s2, bv, x2[v]); \
                        x3[v] = VFMA(s3, bv, x3[v]); \
                    } \
                } \
                for (int v = 0; v < NV; v++) { \
                    VSTORE(c0 + c + v * VW, x0[v]); \
                    VSTORE(c1 + c + v * VW, x1[v]); \
                    VSTORE(c2 + c + v * VW, x2[v]); \
                    VSTORE(c3 + c + v * VW, x3[v]); \
                } \
            } \
            for (; c < N; c++) { \
                float y0 = zero ? 0.0f : c0[c], y1 = zero ? 0.0f : c1[c], \
                      y2 = zero ? 0.0f : c2[c], y3 = zero ? 0.0f : c3[c]; \
                for (int k = 0; k < K; k++) { \
                    float bk = B[k * ldb + c]; \
                    y0 = SFMA(a0[k * sak], bk, y0); \
                    y1 = SFMA(a1[k * sak], bk, y1); \
                    y2 = SFMA(a2[k * sak], bk, y2); \
                    y3 = SFMA(a3[k * sak], bk, y3); \
                } \
                c0[c] = y0, c1[c] = y1, c2[c] = y2, c3[c] = y3; \
            } \
        } \
        for (; m < M; m++) { \
            const float *a0 = A + m * sam; \
            float *c0 = C + m * ldc; \
            int c = 0; \
            for (; c + 16 <= N; c += 16) { \
                VEC x0[NV]; \
                for (int v = 0; v < NV; v++) x0[v] = zero ? VZERO : VLOAD(c0 + c + v * VW); \
                const float *b = B + c; \
                for (int k = 0; k < K; k++, b += ldb) { \
                    VEC s0 = VSET1(a0[k * sak]); \
                    for (int v = 0; v < NV; v++) x0[v] = VFMA(s0, VLOAD(b + v * VW), x0[v]); \
                } \
                for (int v = 0; v < NV; v++) VSTORE(c0 + c + v * VW, x0[v]); \
            } \
            for (; c < N; c++) { \
                float y0 = zero ? 0.0f : c0[c]; \
                for (int k = 0; k < K; k++) y0 = SFMA(a0[k * sak], B[k * ldb + c], y0); \
                c0[c] = y0; \
            } \
        } \
    } \
    ATTR static void NAME(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak, \
                          const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) { \
        NAME##_impl(M, N, K, A, sam, sak, B, ldb, C, ldc, 0); \
    } \
    ATTR static void NAME##0(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak, \
                             const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) { \
        NAME##_impl(M, N, K, A, sam, sak, B, ldb, C, ldc, 1); \
    }

/* Portable: GCC/clang vector extensions (SSE on x86-64, NEON on arm64, scalar elsewhere); the
 * build is C11 (-ffp-contract=off), so a * b + c stays a multiply and an add. */
typedef float nm_v4 __attribute__((vector_size(16)));
static inline nm_v4 nm_v4_load(const float *p) {
    nm_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void nm_v4_store(float *p, nm_v4 v) { memcpy(p, &v, sizeof v); }
static inline nm_v4 nm_v4_set1(float a) { return (nm_v4){a, a, a, a}; }
#define NM_V4_ZERO ((nm_v4){0.0f, 0.0f, 0.0f, 0.0f})
#define NM_V4_MULADD(a, b, c) ((a) * (b) + (c))
#define NM_S_MULADD(a, b, c) ((a) * (b) + (c))
NM_GEMM_DEFINE(gemm_portable, , nm_v4, 4, 4, nm_v4_load, nm_v4_store, NM_V4_ZERO, NM_V4_MULADD,
               nm_v4_set1, NM_S_MULADD)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NM_HAVE_X86_KERNELS 1
#define NM_AVX512 __attribute__((target("avx512f,avx2,fma")))
#define NM_AVX2 __attribute__((target("avx2,fma")))

/* AVX-512, one block: R rows x NC vectors of 16 columns, the last vector's lanes masked by
 * `last` (a masked lane is the same FMA as an unmasked one, so no scalar tail). R and NC are
 * constants where it is called, so the R x NC accumulators live in registers. */
NM_AVX512 NM_INLINE void blk512(const int R, const int NC, __mmask16 last, int K, const float *a,
                                ptrdiff_t sam, ptrdiff_t sak, const float *b, ptrdiff_t ldb,
                                float *c, ptrdiff_t ldc, const int zero) {
    __m512 x[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NC; v++)
            x[r][v] = zero    ? _mm512_setzero_ps()
                : v == NC - 1 ? _mm512_maskz_loadu_ps(last, c + r * ldc + 16 * v)
                              : _mm512_loadu_ps(c + r * ldc + 16 * v);
    for (int k = 0; k < K; k++, b += ldb) {
        __m512 bv[4];
        const float *ak = a + k * sak;
#pragma GCC unroll 4
        for (int v = 0; v < NC; v++)
            bv[v] =
                v == NC - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 s = _mm512_set1_ps(ak[r * sam]);
#pragma GCC unroll 4
            for (int v = 0; v < NC; v++) x[r][v] = _mm512_fmadd_ps(s, bv[v], x[r][v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NC; v++) {
            if (v == NC - 1)
                _mm512_mask_storeu_ps(c + r * ldc + 16 * v, last, x[r][v]);
            else
                _mm512_storeu_ps(c + r * ldc + 16 * v, x[r][v]);
        }
}

static inline __mmask16 mask16(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* Rows m0..M-1 (R at a time, then one by one) of columns c0..N-1 in vectors of 16. */
NM_AVX512 NM_INLINE void rows512(const int R, int m0, int M, int c0, int N, int K, const float *A,
                                 ptrdiff_t sam, ptrdiff_t sak, const float *B, ptrdiff_t ldb,
                                 float *C, ptrdiff_t ldc, const int zero) {
    int m = m0;
    for (; m + R <= M; m += R)
        for (int c = c0; c < N; c += 16)
            blk512(R, 1, mask16(N - c), K, A + m * sam, sam, sak, B + c, ldb, C + m * ldc + c, ldc,
                   zero);
    for (; m < M; m++)
        for (int c = c0; c < N; c += 16)
            blk512(1, 1, mask16(N - c), K, A + m * sam, sam, sak, B + c, ldb, C + m * ldc + c, ldc,
                   zero);
}

/* Up to 32 columns: 8 rows x 2 vectors (16 accumulators). Wider: 4 rows x 64 columns, then 32,
 * then 16 at a time. When A's rows are its columns' neighbours (sam == 1, the weight gradients)
 * and N leaves a few columns over, those are computed as the transposed product (their nt
 * outputs per row become nt rows of up to 128 outputs, full vectors) into a small buffer: the
 * same chains, FMA being symmetric in its two factors. */
NM_AVX512 NM_INLINE void gemm512(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                                 const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc,
                                 const int zero, int transpose_tail) {
    int nt = N & 15;
    if (transpose_tail && nt && N > 16 && sam == 1 && M >= 8) {
        float T[16 * 128];
        int nf = N - nt;
        for (int m0 = 0; m0 < M; m0 += 128) {
            int mc = M - m0 < 128 ? M - m0 : 128;
            if (!zero)
                for (int t = 0; t < nt; t++)
                    for (int q = 0; q < mc; q++) T[t * mc + q] = C[(m0 + q) * ldc + nf + t];
            gemm512(nt, mc, K, B + nf, 1, ldb, A + m0, sak, T, mc, zero, 0);
            for (int t = 0; t < nt; t++)
                for (int q = 0; q < mc; q++) C[(m0 + q) * ldc + nf + t] = T[t * mc + q];
        }
        N = nf;
    }
    if (N <= 32) {
        int m = 0;
        if (N > 16) {
            __mmask16 last = mask16(N - 16);
            for (; m + 8 <= M; m += 8)
                blk512(8, 2, last, K, A + m * sam, sam, sak, B, ldb, C + m * ldc, ldc, zero);
        }
        rows512(8, m, M, 0, N, K, A, sam, sak, B, ldb, C, ldc, zero);
        return;
    }
    int m = 0;
    for (; m + 4 <= M; m += 4) {
        const float *a = A + m * sam;
        float *c = C + m * ldc;
        int j = 0;
        for (; j + 64 <= N; j += 64)
            blk512(4, 4, 0xFFFF, K, a, sam, sak, B + j, ldb, c + j, ldc, zero);
        for (; j + 32 <= N; j += 32)
            blk512(4, 2, 0xFFFF, K, a, sam, sak, B + j, ldb, c + j, ldc, zero);
        for (; j < N; j += 16)
            blk512(4, 1, mask16(N - j), K, a, sam, sak, B + j, ldb, c + j, ldc, zero);
    }
    rows512(1, m, M, 0, N, K, A, sam, sak, B, ldb, C, ldc, zero);
}

NM_AVX512 static void gemm_avx512(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                                  const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) {
    gemm512(M, N, K, A, sam, sak, B, ldb, C, ldc, 0, 1);
}
NM_AVX512 static void gemm_avx5120(int M, int N, int K, const float *A, ptrdiff_t sam,
                                   ptrdiff_t sak, const float *B, ptrdiff_t ldb, float *C,
                                   ptrdiff_t ldc) {
    gemm512(M, N, K, A, sam, sak, B, ldb, C, ldc, 1, 1);
}

/* AVX2 + FMA: 4 rows x 16 columns (8 accumulators), then 8 columns at a time with masks. */
static const int32_t nm_mask8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

NM_AVX2 NM_INLINE void gemm256(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                               const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc,
                               const int zero) {
    int m = 0;
    for (; m + 4 <= M; m += 4) {
        const float *a0 = A + m * sam, *a1 = a0 + sam, *a2 = a1 + sam, *a3 = a2 + sam;
        float *c0 = C + m * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
        int c = 0;
        for (; c + 16 <= N; c += 16) {
            __m256 x00 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c0 + c)),
                   x01 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c0 + c + 8));
            __m256 x10 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c1 + c)),
                   x11 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c1 + c + 8));
            __m256 x20 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c2 + c)),
                   x21 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c2 + c + 8));
            __m256 x30 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c3 + c)),
                   x31 = (zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c3 + c + 8));
            const float *b = B + c;
            for (int k = 0; k < K; k++, b += ldb) {
                __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
                __m256 s = _mm256_broadcast_ss(a0 + k * sak);
                x00 = _mm256_fmadd_ps(s, b0, x00), x01 = _mm256_fmadd_ps(s, b1, x01);
                s = _mm256_broadcast_ss(a1 + k * sak);
                x10 = _mm256_fmadd_ps(s, b0, x10), x11 = _mm256_fmadd_ps(s, b1, x11);
                s = _mm256_broadcast_ss(a2 + k * sak);
                x20 = _mm256_fmadd_ps(s, b0, x20), x21 = _mm256_fmadd_ps(s, b1, x21);
                s = _mm256_broadcast_ss(a3 + k * sak);
                x30 = _mm256_fmadd_ps(s, b0, x30), x31 = _mm256_fmadd_ps(s, b1, x31);
            }
            _mm256_storeu_ps(c0 + c, x00), _mm256_storeu_ps(c0 + c + 8, x01);
            _mm256_storeu_ps(c1 + c, x10), _mm256_storeu_ps(c1 + c + 8, x11);
            _mm256_storeu_ps(c2 + c, x20), _mm256_storeu_ps(c2 + c + 8, x21);
            _mm256_storeu_ps(c3 + c, x30), _mm256_storeu_ps(c3 + c + 8, x31);
        }
        for (; c < N; c += 8) {
            __m256i k8 =
                _mm256_loadu_si256((const __m256i *)(nm_mask8 + 8 - (N - c >= 8 ? 8 : N - c)));
            __m256 x0 = (zero ? _mm256_setzero_ps() : _mm256_maskload_ps(c0 + c, k8)),
                   x1 = (zero ? _mm256_setzero_ps() : _mm256_maskload_ps(c1 + c, k8));
            __m256 x2 = (zero ? _mm256_setzero_ps() : _mm256_maskload_ps(c2 + c, k8)),
                   x3 = (zero ? _mm256_setzero_ps() : _mm256_maskload_ps(c3 + c, k8));
            const float *b = B + c;
            for (int k = 0; k < K; k++, b += ldb) {
                __m256 b0 = _mm256_maskload_ps(b, k8);
                x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + k * sak), b0, x0);
                x1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + k * sak), b0, x1);
                x2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + k * sak), b0, x2);
                x3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + k * sak), b0, x3);
            }
            _mm256_maskstore_ps(c0 + c, k8, x0), _mm256_maskstore_ps(c1 + c, k8, x1);
            _mm256_maskstore_ps(c2 + c, k8, x2), _mm256_maskstore_ps(c3 + c, k8, x3);
        }
    }
    for (; m < M; m++) {
        const float *a0 = A + m * sam;
        float *c0 = C + m * ldc;
        for (int c = 0; c < N; c += 8) {
            __m256i k8 =
                _mm256_loadu_si256((const __m256i *)(nm_mask8 + 8 - (N - c >= 8 ? 8 : N - c)));
            __m256 x0 = (zero ? _mm256_setzero_ps() : _mm256_maskload_ps(c0 + c, k8));
            const float *b = B + c;
            for (int k = 0; k < K; k++, b += ldb)
                x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + k * sak), _mm256_maskload_ps(b, k8),
                                     x0);
            _mm256_maskstore_ps(c0 + c, k8, x0);
        }
    }
}
NM_AVX2 static void gemm_avx2(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                              const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) {
    gemm256(M, N, K, A, sam, sak, B, ldb, C, ldc, 0);
}
NM_AVX2 static void gemm_avx20(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                               const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc) {
    gemm256(M, N, K, A, sam, sak, B, ldb, C, ldc, 1);
}
#endif

static const char *const kern_names[NM_KERN_COUNT] = {"portable", "avx2", "avx512"};

const char *nm_kernel_name(int k) { return k >= 0 && k < NM_KERN_COUNT ? kern_names[k] : "?"; }

int nm_kernel_supported(int k) {
#ifdef NM_HAVE_X86_KERNELS
    __builtin_cpu_init();
    if (k == NM_KERN_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (k == NM_KERN_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("fma");
#endif
    return k == NM_KERN_PORTABLE;
}

nm_gemm_fn nm_kernel_gemm(int k) {
#ifdef NM_HAVE_X86_KERNELS
    if (k == NM_KERN_AVX2) return gemm_avx2;
    if (k == NM_KERN_AVX512) return gemm_avx512;
#endif
    return k == NM_KERN_PORTABLE ? gemm_portable : NULL;
}

nm_gemm_fn nm_kernel_gemm0(int k) {
#ifdef NM_HAVE_X86_KERNELS
    if (k == NM_KERN_AVX2) return gemm_avx20;
    if (k == NM_KERN_AVX512) return gemm_avx5120;
#endif
    return k == NM_KERN_PORTABLE ? gemm_portable0 : NULL;
}

int nm_kernel_best(void) {
    const char *e = getenv("PREFREC_KERNEL");
    if (e && *e && strcmp(e, "auto") != 0) {
        for (int k = 0; k < NM_KERN_COUNT; k++)
            if (strcmp(e, kern_names[k]) == 0) return nm_kernel_supported(k) ? k : -1;
        return -1;
    }
    for (int k = NM_KERN_COUNT - 1; k > 0; k--)
        if (nm_kernel_supported(k)) return k;
    return NM_KERN_PORTABLE;
}

/* ---- the batched passes ------------------------------------------------------------------ */
/* v where a > 0, else +0: the ReLU gate as a bit mask (exactly a > 0 ? v : 0.0f, but with no
 * branch, so the loops around it vectorise). */
static inline float gate(float v, float a) {
    uint32_t bits, mask = (uint32_t)0 - (uint32_t)(a > 0.0f);
    memcpy(&bits, &v, sizeof bits);
    bits &= mask;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static int rnd16(int w) { return (w + 15) & ~15; }

/* Scratch of the batched passes: x0 [NM_CHUNK][S(in0)], act[l] [NM_CHUNK][S(h_l)], two
 * gradient buffers [NM_CHUNK][S(wmax)], rows S() = width rounded up to 16. The scalar
 * nm_predict's scratch follows. */
typedef struct nm_bufs {
    float *x0, *act[PREFREC_MODEL_MAX_LAYERS], *ga, *gb;
    int s0, s[PREFREC_MODEL_MAX_LAYERS], smax;
} nm_bufs;

static void bufs_split(const nm_layout *L, float *scratch, nm_bufs *b) {
    b->s0 = rnd16(L->in[0]);
    b->smax = rnd16(L->wmax);
    b->x0 = scratch;
    float *p = scratch + (size_t)NM_CHUNK * b->s0;
    for (int l = 0; l < L->n_layers; l++) {
        b->s[l] = rnd16(L->width[l]);
        b->act[l] = p;
        p += (size_t)NM_CHUNK * b->s[l];
    }
    b->ga = p;
    b->gb = p + (size_t)NM_CHUNK * b->smax;
}

static size_t scalar_scratch_size(const nm_layout *L) {
    size_t n = (size_t)L->in[0] + 2 * (size_t)L->wmax;
    for (int l = 0; l < L->n_layers; l++) n += (size_t)L->width[l];
    return n;
}

static size_t batch_scratch_size(const nm_layout *L) {
    size_t n = (size_t)NM_CHUNK * ((size_t)rnd16(L->in[0]) + 2 * (size_t)rnd16(L->wmax));
    for (int l = 0; l < L->n_layers; l++) n += (size_t)NM_CHUNK * (size_t)rnd16(L->width[l]);
    return n;
}

size_t nm_scratch_size(const nm_layout *L) {
    return batch_scratch_size(L) + scalar_scratch_size(L);
}

/* Forward of cnt <= NM_CHUNK pairs into b (x0 and every layer's activations after ReLU); the
 * outputs' head is left to the caller. Copies are loops (not memcpy calls: a row is a few
 * vectors). */
NM_INLINE void forward_rows(const nm_net *n, const int32_t *cust, const int32_t *prod,
                            const uint32_t *idx, size_t cnt, nm_bufs *b, nm_gemm_fn gemm) {
    const nm_layout *L = &n->L;
    const int d = L->d, D = d + 1;
    for (size_t r = 0; r < cnt; r++) {
        uint32_t i = idx[r];
        int32_t c = cust[i];
        float *restrict x = b->x0 + r * (size_t)b->s0;
        const float *restrict u = n->ctab + (size_t)c * D,
                              *restrict v = n->ptab + (size_t)prod[i] * D,
                              *restrict dm = n->demo + (size_t)c * PREFREC_MODEL_N_DEMO;
        for (int k = 0; k < d; k++) x[k] = u[k];
        for (int k = 0; k < d; k++) x[d + k] = v[k];
        for (int k = 0; k < PREFREC_MODEL_N_DEMO; k++) x[2 * d + k] = dm[k];
    }
    const float *prev = b->x0;
    int sp = b->s0;
    for (int l = 0; l < L->n_layers; l++) {
        int o = L->width[l], s = b->s[l];
        float *z = b->act[l];
        const float *restrict bias = n->dense + L->off_b[l];
        for (size_t r = 0; r < cnt; r++) {
            float *restrict zr = z + r * (size_t)s;
            for (int j = 0; j < o; j++) zr[j] = bias[j];
        }
        gemm((int)cnt, o, L->in[l], prev, sp, 1, n->wt[l], o, z, s);
        for (size_t r = 0; r < cnt; r++) {
            float *zr = z + r * (size_t)s;
            for (int j = 0; j < o; j++) zr[j] = gate(zr[j], zr[j]);
        }
        prev = z;
        sp = s;
    }
}

/* The head of rows 0..m-1 of a chunk: y[r] = (b_0 + b_c + b_p) + w_g.(u*v) + w_m.a_L, each sum in
 * the scalar head's order (nm_predict), rows four at a time so the chains overlap; uu[r] =
 * |u|^2 and vv[r] = |v|^2 for the L2 term when uu is not NULL. w_m.a_L uses the kernel's
 * arithmetic (a product with one output column). */
typedef void (*nm_head_fn)(const nm_net *n, const int32_t *cust, const int32_t *prod,
                           const uint32_t *ix, size_t m, const nm_bufs *b, float *y, float *uu,
                           float *vv);

NM_INLINE void head_rows(const nm_net *n, const int32_t *cust, const int32_t *prod,
                         const uint32_t *ix, size_t m, const nm_bufs *b, float *y, float *uu,
                         float *vv, nm_gemm_fn gemm0) {
    const nm_layout *L = &n->L;
    const int d = L->d, D = d + 1, nl = L->n_layers, sL = b->s[nl - 1];
    const float *wg = n->dense + L->off_wg;
    float hm[NM_CHUNK];
    gemm0((int)m, 1, L->width[nl - 1], b->act[nl - 1], sL, 1, n->dense + L->off_wm, 1, hm, 1);
    size_t r = 0;
    for (; r + 4 <= m; r += 4) {
        const float *x0 = b->x0 + r * (size_t)b->s0, *x1 = x0 + b->s0, *x2 = x1 + b->s0,
                    *x3 = x2 + b->s0;
        float g0 = 0.0f, g1 = 0.0f, g2 = 0.0f, g3 = 0.0f;
        float p0 = 0.0f, p1 = 0.0f, p2 = 0.0f, p3 = 0.0f, q0 = 0.0f, q1 = 0.0f, q2 = 0.0f,
              q3 = 0.0f;
        for (int k = 0; k < d; k++) {
            float w = wg[k];
            g0 += w * x0[k] * x0[d + k];
            g1 += w * x1[k] * x1[d + k];
            g2 += w * x2[k] * x2[d + k];
            g3 += w * x3[k] * x3[d + k];
            p0 += x0[k] * x0[k], p1 += x1[k] * x1[k], p2 += x2[k] * x2[k], p3 += x3[k] * x3[k];
            q0 += x0[d + k] * x0[d + k], q1 += x1[d + k] * x1[d + k];
            q2 += x2[d + k] * x2[d + k], q3 += x3[d + k] * x3[d + k];
        }
        float g[4] = {g0, g1, g2, g3}, p[4] = {p0, p1, p2, p3}, q[4] = {q0, q1, q2, q3};
        for (int t = 0; t < 4; t++) {
            uint32_t i = ix[r + t];
            float h = n->dense[L->off_b0] + n->ctab[(size_t)cust[i] * D + d] +
                n->ptab[(size_t)prod[i] * D + d];
            y[r + t] = h + g[t] + hm[r + t];
            if (uu) uu[r + t] = p[t], vv[r + t] = q[t];
        }
    }
    for (; r < m; r++) {
        const float *x = b->x0 + r * (size_t)b->s0;
        float g = 0.0f, p = 0.0f, q = 0.0f;
        for (int k = 0; k < d; k++) {
            g += wg[k] * x[k] * x[d + k];
            p += x[k] * x[k];
            q += x[d + k] * x[d + k];
        }
        uint32_t i = ix[r];
        float h = n->dense[L->off_b0] + n->ctab[(size_t)cust[i] * D + d] +
            n->ptab[(size_t)prod[i] * D + d];
        y[r] = h + g + hm[r];
        if (uu) uu[r] = p, vv[r] = q;
    }
}

#ifdef NM_HAVE_X86_KERNELS
/* A 16 x 16 block transposed in registers: r[i] holds row i on entry, column i on return. */
NM_AVX512 NM_INLINE void tr16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]),
                c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

/* Columns c..c+15 of rows 0..rows-1 (row stride ld, a pointing at column c of row 0) as 16
 * vectors over the rows (lanes of rows past the end are 0). Reads 16 floats of each row: inside
 * the chunk's scratch (rows are padded to 16 floats and another buffer follows). */
NM_AVX512 NM_INLINE void cols16(const float *a, ptrdiff_t ld, int rows, __m512 r[16]) {
    for (int i = 0; i < 16; i++)
        r[i] = i < rows ? _mm512_loadu_ps(a + i * ld) : _mm512_setzero_ps();
    tr16(r);
}

/* The head on AVX-512, 16 pairs per vector: the rows of x0 and a_L transposed 16 x 16 at a time,
 * then every per-pair sum is one lane's chain over k in the same order as the scalar head (adds
 * and multiplies), w_m.a_L the kernel's FMA chain: the same bits as head_rows. */
NM_AVX512 static void head_avx512(const nm_net *n, const int32_t *cust, const int32_t *prod,
                                  const uint32_t *ix, size_t m, const nm_bufs *b, float *y,
                                  float *uu, float *vv) {
    const nm_layout *L = &n->L;
    const int d = L->d, D = d + 1, nl = L->n_layers, last = L->width[nl - 1];
    const ptrdiff_t s0 = b->s0, sL = b->s[nl - 1];
    const float *wg = n->dense + L->off_wg, *wm = n->dense + L->off_wm;
    for (size_t r0 = 0; r0 < m; r0 += 16) {
        int rows = m - r0 < 16 ? (int)(m - r0) : 16;
        const float *x = b->x0 + r0 * (size_t)s0, *a = b->act[nl - 1] + r0 * (size_t)sL;
        __m512 g = _mm512_setzero_ps(), p = g, q = g, h = g, U[16], V[16];
        for (int kb = 0; kb < d; kb += 16) {
            cols16(x + kb, s0, rows, U);
            cols16(x + d + kb, s0, rows, V);
            int ke = d - kb < 16 ? d - kb : 16;
            for (int k = 0; k < ke; k++) {
                __m512 w = _mm512_set1_ps(wg[kb + k]);
                g = _mm512_add_ps(g, _mm512_mul_ps(_mm512_mul_ps(w, U[k]), V[k]));
                p = _mm512_add_ps(p, _mm512_mul_ps(U[k], U[k]));
                q = _mm512_add_ps(q, _mm512_mul_ps(V[k], V[k]));
            }
        }
        for (int jb = 0; jb < last; jb += 16) {
            cols16(a + jb, sL, rows, U);
            int je = last - jb < 16 ? last - jb : 16;
            for (int j = 0; j < je; j++) h = _mm512_fmadd_ps(U[j], _mm512_set1_ps(wm[jb + j]), h);
        }
        float gs[16], ps[16], qs[16], hs[16];
        _mm512_storeu_ps(gs, g), _mm512_storeu_ps(ps, p), _mm512_storeu_ps(qs, q);
        _mm512_storeu_ps(hs, h);
        for (int t = 0; t < rows; t++) {
            uint32_t i = ix[r0 + (size_t)t];
            float hb = n->dense[L->off_b0] + n->ctab[(size_t)cust[i] * D + d] +
                n->ptab[(size_t)prod[i] * D + d];
            y[r0 + (size_t)t] = hb + gs[t] + hs[t];
            if (uu) uu[r0 + (size_t)t] = ps[t], vv[r0 + (size_t)t] = qs[t];
        }
    }
}
#endif

/* The GMF branch's gradients of one pair (restrict: no overlap, so the loop vectorises). */
static inline void gmf_grads(int d, float dy, float l2s, const float *restrict u,
                             const float *restrict v, const float *restrict wg, float *restrict gwg,
                             float *restrict gc, float *restrict gp) {
    for (int q = 0; q < d; q++) {
        gwg[q] += dy * u[q] * v[q];
        gc[q] = dy * wg[q] * v[q] + l2s * u[q];
        gp[q] = dy * wg[q] * u[q] + l2s * v[q];
    }
}

/* The output weights' gradient of one pair and the last layer's pre-activation gradient dz
 * (zero where the ReLU is off). */
static inline void out_grads(int last, float dy, const float *restrict aL, const float *restrict wm,
                             float *restrict gwm, float *restrict dz) {
    for (int j = 0; j < last; j++) {
        gwm[j] += dy * aL[j];
        dz[j] = gate(dy * wm[j], aL[j]);
    }
}

/* Keep dx where the layer's activation a is on, zero elsewhere. */
static inline void relu_mask(int n, float *restrict dx, const float *restrict a) {
    for (int q = 0; q < n; q++) dx[q] = gate(dx[q], a[q]);
}

NM_INLINE double chunk_body(const nm_net *n, const int32_t *cust, const int32_t *prod,
                            const float *target, const uint32_t *idx, size_t cnt, float scale,
                            float *gdense, float *grow_c, float *grow_p, float *scratch,
                            double *sse, nm_gemm_fn gemm, nm_gemm_fn gemm0, nm_head_fn head) {
    const nm_layout *L = &n->L;
    const int d = L->d, D = d + 1, nl = L->n_layers, last = L->width[nl - 1];
    nm_bufs b;
    bufs_split(L, scratch, &b);
    const float *wg = n->dense + L->off_wg, *wm = n->dense + L->off_wm;
    float *gwg = gdense + L->off_wg, *gwm = gdense + L->off_wm;
    const float l2s = 2.0f * n->l2 * scale;
    double loss = 0.0, s2 = 0.0;
    /* the biases and the head's weights are summed into zeros; the weights' first product
     * overwrites them (all of gdense when there are no pairs) */
    if (cnt == 0) memset(gdense, 0, L->n_dense * sizeof(float));
    for (int l = 0; l < nl; l++)
        memset(gdense + L->off_b[l], 0, (size_t)L->width[l] * sizeof(float));
    memset(gdense + L->off_wg, 0, (L->n_dense - L->off_wg) * sizeof(float));
    for (size_t lo = 0; lo < cnt; lo += NM_CHUNK) {
        const size_t m = cnt - lo < NM_CHUNK ? cnt - lo : NM_CHUNK;
        const uint32_t *ix = idx + lo;
        forward_rows(n, cust, prod, ix, m, &b, gemm);
        float y[NM_CHUNK], uu[NM_CHUNK], vv[NM_CHUNK];
        head(n, cust, prod, ix, m, &b, y, uu, vv);
        /* loss and the output layer's gradients, pair by pair */
        const int sL = b.s[nl - 1];
        float *dz = b.ga;
        for (size_t r = 0; r < m; r++) {
            uint32_t i = ix[r];
            const float *u = n->ctab + (size_t)cust[i] * D, *v = n->ptab + (size_t)prod[i] * D;
            const float *aL = b.act[nl - 1] + r * (size_t)sL;
            float e = y[r] - target[i];
            s2 += (double)e * e;
            loss += (double)e * e + (double)n->l2 * ((double)uu[r] + vv[r]);
            float dy = 2.0f * e * scale;
            float *gc = grow_c + (lo + r) * D, *gp = grow_p + (lo + r) * D;
            gmf_grads(d, dy, l2s, u, v, wg, gwg, gc, gp);
            gc[d] = dy;
            gp[d] = dy;
            gdense[L->off_b0] += dy;
            out_grads(last, dy, aL, wm, gwm, dz + r * (size_t)b.smax);
        }
        /* the layers, last to first, each a few products over the chunk */
        for (int l = nl - 1; l >= 0; l--) {
            int o = L->width[l], in = L->in[l], sp = l ? b.s[l - 1] : b.s0;
            const float *prev = l ? b.act[l - 1] : b.x0;
            float *gw = gdense + L->off_w[l], *gbias = gdense + L->off_b[l];
            for (size_t r = 0; r < m; r++) {
                const float *dzr = dz + r * (size_t)b.smax;
                for (int j = 0; j < o; j++) gbias[j] += dzr[j];
            }
            /* gW[j][q] += sum over pairs r of dz[r][j] * prev[r][q] (the first pairs' product
             * overwrites: the same bits as adding it to zeros) */
            (lo ? gemm : gemm0)(o, in, (int)m, dz, 1, b.smax, prev, sp, gw, in);
            /* the gradient of the layer's input: dz . W (only u and v for the first layer) */
            int nin = l ? in : 2 * d;
            float *dx = dz == b.ga ? b.gb : b.ga;
            gemm0((int)m, nin, o, dz, b.smax, 1, n->dense + L->off_w[l], in, dx, b.smax);
            if (l) {
                for (size_t r = 0; r < m; r++)
                    relu_mask(nin, dx + r * (size_t)b.smax, prev + r * (size_t)sp);
            }
            dz = dx;
        }
        for (size_t r = 0; r < m; r++) {
            float *gc = grow_c + (lo + r) * D, *gp = grow_p + (lo + r) * D;
            const float *dxr = dz + r * (size_t)b.smax;
            for (int q = 0; q < d; q++) {
                gc[q] += dxr[q];
                gp[q] += dxr[d + q];
            }
        }
    }
    *sse = s2;
    return loss;
}

NM_INLINE void predict_body(const nm_net *n, const int32_t *cust, const int32_t *prod,
                            const uint32_t *idx, size_t cnt, float *y, float *scratch,
                            nm_gemm_fn gemm, nm_head_fn head) {
    nm_bufs b;
    bufs_split(&n->L, scratch, &b);
    for (size_t lo = 0; lo < cnt; lo += NM_CHUNK) {
        size_t m = cnt - lo < NM_CHUNK ? cnt - lo : NM_CHUNK;
        forward_rows(n, cust, prod, idx + lo, m, &b, gemm);
        head(n, cust, prod, idx + lo, m, &b, y + lo, NULL, NULL);
    }
}

/* The passes compiled once per kernel path: the element-wise loops at that path's vector width
 * too (correctly rounded adds and multiplies, nothing contracted: the same bits at any width),
 * the products calling that path's kernels directly. */
#define NM_PATH_DEFINE(P, ATTR, HEAD) \
    ATTR static double chunk_##P(const nm_net *n, const int32_t *cust, const int32_t *prod, \
                                 const float *target, const uint32_t *idx, size_t cnt, \
                                 float scale, float *gdense, float *grow_c, float *grow_p, \
                                 float *scratch, double *sse) { \
        return chunk_body(n, cust, prod, target, idx, cnt, scale, gdense, grow_c, grow_p, scratch, \
                          sse, gemm_##P, gemm_##P##0, HEAD); \
    } \
    ATTR static void predict_##P(const nm_net *n, const int32_t *cust, const int32_t *prod, \
                                 const uint32_t *idx, size_t cnt, float *y, float *scratch) { \
        predict_body(n, cust, prod, idx, cnt, y, scratch, gemm_##P, HEAD); \
    }

/* The scalar head with each path's product for w_m.a_L. */
#define NM_HEAD_DEFINE(P, ATTR) \
    ATTR static void head_##P(const nm_net *n, const int32_t *cust, const int32_t *prod, \
                              const uint32_t *ix, size_t m, const nm_bufs *b, float *y, float *uu, \
                              float *vv) { \
        head_rows(n, cust, prod, ix, m, b, y, uu, vv, gemm_##P##0); \
    }

NM_HEAD_DEFINE(portable, )
NM_PATH_DEFINE(portable, , head_portable)
#ifdef NM_HAVE_X86_KERNELS
NM_HEAD_DEFINE(avx2, NM_AVX2)
NM_PATH_DEFINE(avx2, NM_AVX2, head_avx2)
NM_PATH_DEFINE(avx512, NM_AVX512, head_avx512)
#endif

int nm_kernel_set(nm_net *n, int k) {
    if (k < 0 || k >= NM_KERN_COUNT || !nm_kernel_supported(k) || !nm_kernel_gemm(k)) return -1;
    n->kern = k;
    n->gemm = nm_kernel_gemm(k);
    n->chunk = chunk_portable;
    n->predict = predict_portable;
#ifdef NM_HAVE_X86_KERNELS
    if (k == NM_KERN_AVX2) n->chunk = chunk_avx2, n->predict = predict_avx2;
    if (k == NM_KERN_AVX512) n->chunk = chunk_avx512, n->predict = predict_avx512;
#endif
    return 0;
}

double nm_chunk(const nm_net *n, const int32_t *cust, const int32_t *prod, const float *target,
                const uint32_t *idx, size_t cnt, float scale, float *gdense, float *grow_c,
                float *grow_p, float *scratch, double *sse) {
    return n->chunk(n, cust, prod, target, idx, cnt, scale, gdense, grow_c, grow_p, scratch, sse);
}

void nm_predict_batch(const nm_net *n, const int32_t *cust, const int32_t *prod,
                      const uint32_t *idx, size_t cnt, float *y, float *scratch) {
    n->predict(n, cust, prod, idx, cnt, y, scratch);
}
