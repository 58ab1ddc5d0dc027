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

size_t nm_scratch_size(const nm_layout *L) {
    size_t n = (size_t)L->in[0] + 2 * (size_t)L->wmax;
    for (int l = 0; l < L->n_layers; l++) n += (size_t)L->width[l];
    return n;
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
    n->ctab = calloc((size_t)C * D + 1, sizeof(float));
    n->ptab = calloc((size_t)P * D + 1, sizeof(float));
    n->dense = calloc(L->n_dense, sizeof(float));
    n->demo = calloc((size_t)C * PREFREC_MODEL_N_DEMO + 1, sizeof(float));
    int ok = n->ctab && n->ptab && n->dense && n->demo;
    for (int l = 0; ok && l < L->n_layers; l++)
        ok = (n->wt[l] = calloc((size_t)L->in[l] * (size_t)L->width[l], sizeof(float))) != NULL;
    if (!ok) {
        nm_net_free(n);
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "train: out of memory for %d customers x %d products", C, P);
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

static void split_scratch(const nm_layout *L, float *scratch, float **x0, float **act, float **da,
                          float **db) {
    *x0 = scratch;
    float *p = scratch + L->in[0];
    for (int l = 0; l < L->n_layers; l++) {
        act[l] = p;
        p += L->width[l];
    }
    *da = p;
    *db = p + L->wmax;
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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
double
nm_chunk(const nm_net *n, const int32_t *cust, const int32_t *prod, const float *target,
         const uint32_t *idx, size_t cnt, float scale, float *gdense, float *grow_c, float *grow_p,
         float *scratch, double *sse) {
    const nm_layout *L = &n->L;
    const int d = L->d, D = d + 1, nl = L->n_layers, last = L->width[nl - 1];
    float *x0, *act[PREFREC_MODEL_MAX_LAYERS], *da, *db;
    split_scratch(L, scratch, &x0, act, &da, &db);
    const float *wg = n->dense + L->off_wg, *wm = n->dense + L->off_wm;
    float *gwg = gdense + L->off_wg, *gwm = gdense + L->off_wm;
    const float l2s = 2.0f * n->l2 * scale;
    double loss = 0.0, s2 = 0.0;
    for (size_t k = 0; k < cnt; k++) {
        uint32_t i = idx[k];
        int32_t c = cust[i], p = prod[i];
        const float *u = n->ctab + (size_t)c * D, *v = n->ptab + (size_t)p * D;
        memcpy(x0, u, (size_t)d * sizeof(float));
        memcpy(x0 + d, v, (size_t)d * sizeof(float));
        memcpy(x0 + 2 * d, n->demo + (size_t)c * PREFREC_MODEL_N_DEMO,
               PREFREC_MODEL_N_DEMO * sizeof(float));
        const float *aL = mlp_forward(n, x0, act);
        float y = head(n, u, v, aL);
        float e = y - target[i];
        float uu = 0.0f, vv = 0.0f;
        for (int q = 0; q < d; q++) {
            uu += u[q] * u[q];
            vv += v[q] * v[q];
        }
        s2 += (double)e * e;
        loss += (double)e * e + (double)n->l2 * ((double)uu + vv);
        float dy = 2.0f * e * scale;
        float *gc = grow_c + k * D, *gp = grow_p + k * D;
        for (int q = 0; q < d; q++) {
            gwg[q] += dy * u[q] * v[q];
            gc[q] = dy * wg[q] * v[q] + l2s * u[q];
            gp[q] = dy * wg[q] * u[q] + l2s * v[q];
        }
        gc[d] = dy;
        gp[d] = dy;
        gdense[L->off_b0] += dy;
        for (int j = 0; j < last; j++) {
            gwm[j] += dy * aL[j];
            da[j] = dy * wm[j];
        }
        for (int l = nl - 1; l >= 0; l--) {
            int o = L->width[l], in = L->in[l];
            const float *al = act[l], *prev = l ? act[l - 1] : x0;
            const float *w = n->dense + L->off_w[l];
            float *gw = gdense + L->off_w[l], *gb = gdense + L->off_b[l];
            memset(db, 0, (size_t)in * sizeof(float));
            for (int j = 0; j < o; j++) {
                if (!(al[j] > 0.0f)) continue; /* ReLU off: no gradient through unit j */
                float g = da[j];
                gb[j] += g;
                float *gwr = gw + (size_t)j * in;
                const float *wr = w + (size_t)j * in;
                for (int q = 0; q < in; q++) {
                    gwr[q] += g * prev[q];
                    db[q] += g * wr[q];
                }
            }
            float *t = da;
            da = db;
            db = t;
        }
        for (int q = 0; q < d; q++) {
            gc[q] += da[q];
            gp[q] += da[d + q];
        }
    }
    *sse = s2;
    return loss;
}
