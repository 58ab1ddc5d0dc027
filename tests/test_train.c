/* test_train.c - the NeuMF trainer: finite-difference gradient check on every parameter kind,
 * a small learnable problem, determinism (seed; thread counts), pack save -> load -> save
 * byte identity, and inference (src/core/model.c) agreeing with the trainer's forward pass. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "host/file.h"
#include "prefrec/model.h"
#include "prefrec/native/pack_write.h"
#include "prefrec/rng.h"
#include "prefrec/native/train.h"
#include "train/neumf.h"

/* ---- gradient check ------------------------------------------------------------------------ */
#define GC_N 7
static const int32_t gc_c[GC_N] = {0, 1, 2, 0, 1, 2, 0};
static const int32_t gc_p[GC_N] = {0, 1, 2, 3, 3, 0, 2};
static const float gc_t[GC_N] = {4.5f, 1.0f, 3.0f, 0.5f, 2.5f, 5.0f, 2.0f};
static const int8_t gc_g[3] = {0, 1, -1};
static const float gc_age[3] = {25.0f, NAN, 70.0f};

static double batch_loss(nm_net *n, float *scratch, float *gd, float *rc, float *rp) {
    uint32_t idx[GC_N];
    for (uint32_t i = 0; i < GC_N; i++) idx[i] = i;
    double sse;
    memset(gd, 0, n->L.n_dense * sizeof(float));
    return nm_chunk(n, gc_c, gc_p, gc_t, idx, GC_N, 1.0f / GC_N, gd, rc, rp, scratch, &sse) / GC_N;
}

/* Compare d loss / d x (x a parameter) by central differences with the analytic value. */
static int fd_ok(nm_net *n, float *x, int dense, double analytic, float *scratch, float *gd,
                 float *rc, float *rp, const char *what) {
    const float h = 1e-3f;
    float keep = *x;
    *x = keep + h;
    if (dense) nm_sync(n);
    double lp = batch_loss(n, scratch, gd, rc, rp);
    *x = keep - h;
    if (dense) nm_sync(n);
    double lm = batch_loss(n, scratch, gd, rc, rp);
    *x = keep;
    if (dense) nm_sync(n);
    double fd = (lp - lm) / (2.0 * h);
    int ok = fabs(fd - analytic) <= 2e-3 + 1e-2 * fabs(analytic);
    if (!ok)
        fprintf(stderr, "gradient check %s: analytic %.6g, finite difference %.6g\n", what,
                analytic, fd);
    return ok;
}

static void test_gradients(void) {
    int width[2] = {6, 4};
    nm_layout L;
    nm_layout_init(&L, 3, 2, width);
    nm_net n;
    prefrec_error err = {0};
    CHECK_EQ_INT(nm_net_alloc(&n, &L, 3, 4, gc_g, gc_age, &err), PREFREC_OK);
    n.l2 = 0.05f;
    nm_net_init(&n, 42, 0.5f, 2.5f);
    /* make output weights and biases non-trivial so every path carries gradient */
    for (int k = 0; k < 3; k++) n.dense[L.off_wg + k] = 0.7f - 0.4f * (float)k;
    for (int32_t c = 0; c < 3; c++) n.ctab[c * 4 + 3] = 0.1f * (float)c;
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < width[l]; j++) n.dense[L.off_b[l] + j] = 0.3f;
    nm_sync(&n);
    float *scratch = malloc(nm_scratch_size(&L) * sizeof(float));
    float *gd = malloc(L.n_dense * sizeof(float)), *gd2 = malloc(L.n_dense * sizeof(float));
    float rc[GC_N * 4], rp[GC_N * 4], rc2[GC_N * 4], rp2[GC_N * 4];
    batch_loss(&n, scratch, gd, rc, rp);
    double crow[3][4] = {{0}}, prow[4][4] = {{0}};
    for (int i = 0; i < GC_N; i++)
        for (int q = 0; q < 4; q++) {
            crow[gc_c[i]][q] += rc[i * 4 + q];
            prow[gc_p[i]][q] += rp[i * 4 + q];
        }
    int bad = 0, checked = 0;
    for (int32_t c = 0; c < 3; c++)
        for (int q = 0; q < 4; q++, checked++)
            bad += !fd_ok(&n, &n.ctab[c * 4 + q], 0, crow[c][q], scratch, gd2, rc2, rp2,
                          q < 3 ? "customer.emb" : "customer.bias");
    for (int32_t p = 0; p < 4; p++)
        for (int q = 0; q < 4; q++, checked++)
            bad += !fd_ok(&n, &n.ptab[p * 4 + q], 0, prow[p][q], scratch, gd2, rc2, rp2,
                          q < 3 ? "product.emb" : "product.bias");
    for (size_t k = 0; k < L.n_dense; k++, checked++) {
        const char *what = k >= L.off_b0 ? "out.bias"
            : k >= L.off_wm              ? "out.mlp"
            : k >= L.off_wg              ? "out.gmf"
            : k >= L.off_b[1]            ? "mlp.1.b"
            : k >= L.off_w[1]            ? "mlp.1.w"
            : k >= L.off_b[0]            ? "mlp.0.b"
                                         : "mlp.0.w";
        bad += !fd_ok(&n, &n.dense[k], 1, gd[k], scratch, gd2, rc2, rp2, what);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(checked, 12 + 16 + (int)L.n_dense);
    /* the gradient is not trivially zero */
    double norm = 0;
    for (size_t k = 0; k < L.n_dense; k++) norm += fabs(gd[k]);
    CHECK(norm > 0.1);
    free(scratch);
    free(gd);
    free(gd2);
    nm_net_free(&n);
}

/* ---- a small learnable problem ------------------------------------------------------------- */
typedef struct toy {
    int32_t *c, *p;
    float *t, *age;
    int8_t *g;
    size_t n;
    int32_t C, P;
} toy;

/* Scores from a hidden rank-3 model + a gender effect + noise (sd 0.1), clipped to 0..5. */
static toy make_toy(uint64_t seed) {
    toy d = {0};
    d.C = 300;
    d.P = 60;
    const int per = 20;
    d.n = (size_t)d.C * per;
    d.c = malloc(d.n * sizeof *d.c);
    d.p = malloc(d.n * sizeof *d.p);
    d.t = malloc(d.n * sizeof *d.t);
    d.g = malloc((size_t)d.C);
    d.age = malloc((size_t)d.C * sizeof(float));
    float U[300][3], V[60][3];
    prefrec_rng r;
    prefrec_rng_init(&r, seed, 0);
    for (int i = 0; i < d.C; i++) {
        for (int k = 0; k < 3; k++) U[i][k] = (float)prefrec_rng_normal(&r);
        d.g[i] = (int8_t)prefrec_rng_below(&r, 3) - 1;
        d.age[i] = prefrec_rng_below(&r, 4) ? 20.0f + 10.0f * (float)prefrec_rng_below(&r, 6) : NAN;
    }
    for (int j = 0; j < d.P; j++)
        for (int k = 0; k < 3; k++) V[j][k] = (float)prefrec_rng_normal(&r);
    size_t m = 0;
    for (int i = 0; i < d.C; i++) {
        int start = (int)prefrec_rng_below(&r, (uint32_t)d.P);
        for (int k = 0; k < per; k++) {
            int j = (start + 3 * k) % d.P;
            double s = 2.5 + 0.6 * (U[i][0] * V[j][0] + U[i][1] * V[j][1] + U[i][2] * V[j][2]) +
                (d.g[i] == 1 ? 0.4 : 0.0) + 0.1 * prefrec_rng_normal(&r);
            d.c[m] = i;
            d.p[m] = j;
            d.t[m] = (float)(s < 0 ? 0 : s > 5 ? 5 : s);
            m++;
        }
    }
    return d;
}

static void toy_free(toy *d) { free(d->c), free(d->p), free(d->t), free(d->g), free(d->age); }

static prefrec_train_data toy_data(const toy *d) {
    prefrec_train_data td = {d->n, d->c, d->p, d->t, d->C, d->P, d->g, d->age, NULL};
    return td;
}

static prefrec_train_params toy_params(int threads) {
    prefrec_train_params tp = prefrec_train_default_params();
    tp.dim = 8;
    tp.layers[0] = 16;
    tp.layers[1] = 8;
    tp.epochs = 60;
    tp.batch = 64;
    tp.lr = 0.01f;
    tp.l2 = 1e-4f;
    tp.patience = 5;
    tp.threads = threads;
    tp.seed = 5;
    tp.verbose = 0;
    return tp;
}

static int same_net(const prefrec_neumf *a, const prefrec_neumf *b) {
    size_t d = (size_t)a->dim;
    int same = !memcmp(a->cemb, b->cemb, (size_t)a->n_customers * d * 4) &&
        !memcmp(a->pemb, b->pemb, (size_t)a->n_products * d * 4) &&
        !memcmp(a->cbias, b->cbias, (size_t)a->n_customers * 4) && !memcmp(a->wg, b->wg, d * 4) &&
        a->b0 == b->b0;
    int in = 2 * a->dim + PREFREC_MODEL_N_DEMO;
    for (int l = 0; l < a->n_layers; l++) {
        same = same && !memcmp(a->w[l], b->w[l], (size_t)a->width[l] * (size_t)in * 4);
        in = a->width[l];
    }
    return same;
}

static void test_training(void) {
    toy d = make_toy(3);
    prefrec_train_data td = toy_data(&d);
    /* baseline: the RMSE of predicting the mean target */
    double mean = 0, var = 0;
    for (size_t i = 0; i < d.n; i++) mean += d.t[i];
    mean /= (double)d.n;
    for (size_t i = 0; i < d.n; i++) var += (d.t[i] - mean) * (d.t[i] - mean);
    double sd = sqrt(var / (double)d.n);
    prefrec_train_params tp = toy_params(1);
    prefrec_neumf *a = NULL, *b = NULL, *c = NULL;
    prefrec_train_report ra, rb, rc;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &a, &ra, &err), PREFREC_OK);
    printf("toy: sd of targets %.3f, train RMSE %.3f, valid RMSE %.3f after %d epochs (best %d)\n",
           sd, ra.train_rmse, ra.valid_rmse, ra.epochs_run, ra.best_epoch);
    CHECK(sd > 0.9);
    CHECK(ra.valid_rmse < 0.45); /* the bound: well under the spread of the targets */
    CHECK(ra.train_rmse < ra.valid_rmse + 0.2);
    CHECK_EQ_INT(ra.n_valid, 600);
    CHECK_EQ_INT(ra.n_train, 5400);
    /* deterministic: same seed, 2 or 3 threads instead of 1 -> the very same weights (the rows
     * and dense parameters each thread steps differ; with 3 threads one has no chunk of a
     * 64-pair batch) */
    for (int t = 2; t <= 3; t++) {
        tp.threads = t;
        CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &b, &rb, &err), PREFREC_OK);
        CHECK(a && b && same_net(a, b));
        CHECK_EQ_INT(ra.best_epoch, rb.best_epoch);
        CHECK(ra.valid_rmse == rb.valid_rmse);
        if (t == 2) prefrec_neumf_free(b), b = NULL;
    }
    /* another seed -> a different model */
    tp.seed = 6;
    tp.epochs = 2;
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &c, &rc, &err), PREFREC_OK);
    CHECK(c && !same_net(a, c));
    /* bad input is refused with a message */
    int32_t badc = d.c[10];
    d.c[10] = 999;
    prefrec_neumf *x = NULL;
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &x, &rc, &err), PREFREC_E_RANGE);
    CHECK_CONTAINS(err.msg, "pair 10");
    d.c[10] = badc;
    prefrec_neumf_free(a);
    prefrec_neumf_free(b);
    prefrec_neumf_free(c);
    toy_free(&d);
}

/* ---- the pipeline's split: a hash of (seed, customer code, product code) ------------------- */
static void test_split_valid(void) {
    enum { NC = 200, NPR = 500, N = NC * NPR };
    char cc[NC][16], pc[NPR][16];
    for (int c = 0; c < NC; c++) snprintf(cc[c], sizeof cc[c], "C%05d", c);
    for (int p = 0; p < NPR; p++) snprintf(pc[p], sizeof pc[p], "P%06d", p * 7);
    uint8_t *f = malloc(N), *g = malloc(N);
    uint32_t *perm = malloc(N * sizeof *perm);
    CHECK(f && g && perm);
    if (!f || !g || !perm) return;
    /* the fraction: 100,000 pairs, binomial sd about 0.001; within 5 sd of valid_frac */
    const double fracs[3] = {0.1, 0.25, 0.5};
    for (int k = 0; k < 3; k++) {
        size_t nv = 0;
        for (int i = 0; i < N; i++)
            nv += (size_t)prefrec_train_split_valid(7, cc[i / NPR], pc[i % NPR], fracs[k]);
        printf("split: valid_frac %.2f -> %zu of %d pairs validate\n", fracs[k], nv, N);
        CHECK(fabs((double)nv / N - fracs[k]) < 0.0075);
    }
    size_t none = 0;
    for (int i = 0; i < N; i++)
        none += (size_t)prefrec_train_split_valid(7, cc[i / NPR], pc[i % NPR], 0.0);
    CHECK_EQ_INT(none, 0);
    /* deterministic and independent of the pairs' order: the flags of the pairs taken in a
     * shuffled order are those of the same pairs in order; a pair's flag is monotone in
     * valid_frac (0.1's validation pairs validate at 0.25 too); another seed, another split */
    for (int i = 0; i < N; i++) {
        f[i] = (uint8_t)prefrec_train_split_valid(7, cc[i / NPR], pc[i % NPR], 0.1);
        perm[i] = (uint32_t)i;
    }
    prefrec_rng r;
    prefrec_rng_init(&r, 11, 0);
    for (uint32_t i = N - 1; i > 0; i--) {
        uint32_t j = prefrec_rng_below(&r, i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    int same = 1, monotone = 1;
    size_t differ = 0;
    for (int k = 0; k < N; k++) {
        uint32_t i = perm[k];
        g[i] = (uint8_t)prefrec_train_split_valid(7, cc[i / NPR], pc[i % NPR], 0.1);
        same &= g[i] == f[i];
        monotone &= !f[i] || prefrec_train_split_valid(7, cc[i / NPR], pc[i % NPR], 0.25);
        differ += (size_t)(prefrec_train_split_valid(8, cc[i / NPR], pc[i % NPR], 0.1) != f[i]);
    }
    CHECK(same);
    CHECK(monotone);
    CHECK(differ > N / 10); /* independent draws differ on 2 x 0.1 x 0.9 = 18 % of the pairs */
    /* the codes apart: ("C1", "23") and ("C12", "3") are other pairs, hashed apart */
    int apart = 0;
    for (uint64_t s = 0; s < 64; s++)
        apart += prefrec_train_split_valid(s, "C1", "23", 0.5) !=
            prefrec_train_split_valid(s, "C12", "3", 0.5);
    CHECK(apart > 10);

    /* the trainer takes the flags: its validation pairs are the flagged ones */
    toy d = make_toy(3);
    prefrec_train_data td = toy_data(&d);
    size_t nv = 0;
    for (size_t i = 0; i < d.n; i++) {
        char c[16], p[16];
        snprintf(c, sizeof c, "C%d", d.c[i]);
        snprintf(p, sizeof p, "P%d", d.p[i]);
        f[i] = (uint8_t)prefrec_train_split_valid(5, c, p, 0.1);
        nv += f[i];
    }
    td.is_valid = f;
    prefrec_train_params tp = toy_params(1);
    tp.epochs = 2;
    prefrec_neumf *a = NULL;
    prefrec_train_report ra;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &a, &ra, &err), PREFREC_OK);
    CHECK_EQ_INT(ra.n_valid, nv);
    CHECK_EQ_INT(ra.n_train, d.n - nv);
    CHECK(nv > 0 && nv < d.n);
    prefrec_neumf_free(a), a = NULL;
    memset(f, 1, d.n); /* every pair validates: nothing to train on, refused */
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &a, &ra, &err), PREFREC_E_EMPTY);
    CHECK_CONTAINS(err.msg, "no training pairs");
    CHECK(a == NULL);
    toy_free(&d);
    free(f), free(g), free(perm);
}

/* ---- pack save -> load -> save, and inference = training forward --------------------------- */
static void test_pack_cycle(void) {
    toy d = make_toy(9);
    prefrec_train_data td = toy_data(&d);
    prefrec_train_params tp = toy_params(2);
    tp.epochs = 3;
    prefrec_neumf *net = NULL;
    prefrec_train_report rep;
    prefrec_error err = {0};
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &net, &rep, &err), PREFREC_OK);
    if (!net) return;
    char **pc = malloc((size_t)d.P * sizeof *pc), **cc = malloc((size_t)d.C * sizeof *cc);
    int32_t *cat = malloc((size_t)d.P * 4), *sub = malloc((size_t)d.P * 4);
    for (int j = 0; j < d.P; j++) {
        pc[j] = malloc(16);
        snprintf(pc[j], 16, "PD%04d", j);
        cat[j] = j % 2;
        sub[j] = j % 3 ? -1 : 0;
    }
    for (int i = 0; i < d.C; i++) {
        cc[i] = malloc(16);
        snprintf(cc[i], 16, "M%09d", i);
    }
    const char *cats[2] = {"채소", "과자"}, *subs[1] = {"스낵"};
    prefrec_pack_meta meta = {"A07",
                              "2022-01-01",
                              (const char *const *)pc,
                              (const char *const *)pc,
                              cat,
                              sub,
                              cats,
                              2,
                              subs,
                              1,
                              (const char *const *)cc,
                              &td,
                              &tp,
                              &rep,
                              NULL,
                              NULL,
                              0,
                              NULL,
                              NULL,
                              NULL,
                              0,
                              0};
    char path[] = "test_train_pack_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    size_t size = 0;
    CHECK_EQ_INT(prefrec_neumf_save_pack(net, &meta, path, &size, &err), PREFREC_OK);
    void *bytes = NULL;
    size_t len = 0;
    CHECK_EQ_INT(prefrec_file_read(path, PREFREC_PACK_FILE_MAX, (char **)&bytes, &len, &err),
                 PREFREC_OK);
    CHECK_EQ_INT(len, size);
    prefrec_pack *p = NULL;
    CHECK_EQ_INT(prefrec_pack_open(bytes, len, &p, &err), PREFREC_OK);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_STR(prefrec_pack_manifest_str(p, "affiliate"), "A07");
    CHECK_STR(prefrec_pack_manifest_str(p, "seed"), "5");
    /* re-serialise what was loaded: identical bytes */
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    for (size_t i = 0; i < prefrec_pack_tensor_count(p); i++) {
        const prefrec_tensor *t = prefrec_pack_tensor_at(p, i);
        CHECK_EQ_INT(
            prefrec_pack_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, &err),
            PREFREC_OK);
    }
    CHECK_EQ_INT(prefrec_pack_writer_set_manifest(w, prefrec_pack_manifest_json(p, NULL), &err),
                 PREFREC_OK);
    void *again = NULL;
    size_t len2 = 0;
    CHECK_EQ_INT(prefrec_pack_writer_finish(w, &again, &len2, &err), PREFREC_OK);
    CHECK_EQ_INT(len2, len);
    CHECK(again && memcmp(again, bytes, len) == 0);
    /* the portable model scores what the trainer predicts */
    prefrec_model *m = NULL;
    prefrec_customers *cs = NULL;
    CHECK_EQ_INT(prefrec_model_load(p, &m, &err), PREFREC_OK);
    CHECK_EQ_INT(prefrec_customers_load(p, m, &cs, &err), PREFREC_OK);
    double maxdiff = 0;
    for (int32_t c = 0; m && cs && c < d.C; c += 7) {
        prefrec_user *u = NULL;
        CHECK_EQ_INT(prefrec_user_from_customer(m, cs, c, &u, &err), PREFREC_OK);
        for (int32_t j = 0; j < d.P; j++) {
            double diff = fabs(prefrec_model_score(m, u, j) -
                               prefrec_neumf_predict(net, c, j, d.g[c], d.age[c]));
            if (diff > maxdiff) maxdiff = diff;
        }
        prefrec_user_free(u);
    }
    CHECK(maxdiff < 1e-4);
    if (m && cs) {
        CHECK_STR(prefrec_model_product_category(m, 3), "과자");
        CHECK_EQ_INT(prefrec_customers_find(cs, "M000000042"), 42);
        size_t nb = 0;
        const int32_t *bs = prefrec_customers_bought(cs, 42, &nb);
        CHECK_EQ_INT(nb, 20);
        int asc = 1;
        for (size_t k = 1; k < nb; k++) asc &= bs[k] > bs[k - 1];
        CHECK(asc);
    }
    prefrec_customers_free(cs);
    prefrec_model_free(m);
    prefrec_pack_free(p);
    prefrec_pack_writer_free(w);
    free(again);
    free(bytes);
    unlink(path);
    for (int j = 0; j < d.P; j++) free(pc[j]);
    for (int i = 0; i < d.C; i++) free(cc[i]);
    free(pc), free(cc), free(cat), free(sub);
    prefrec_neumf_free(net);
    toy_free(&d);
}

/* ---- kernel paths ------------------------------------------------------------------------ */
/* Each kernel's product equals its scalar chain bit for bit: the portable one multiply-then-add,
 * the FMA ones (AVX2, AVX-512) one fmaf per step, over k in order. So AVX2 and AVX-512 agree
 * exactly, and the portable path differs from them by rounding only. The overwriting variant
 * (gemm0) is the chain from +0 whatever C held (NaN here). The shapes reach every blocking of
 * the AVX-512 kernel: 8 rows x 32 columns (N <= 32), 4 x 64, 4 x 32, masked columns, leftover
 * rows, and the leftover columns of a product read by columns (sam = 1, N % 16 != 0, M >= 8)
 * done as the transposed product, in blocks of 128 rows (M = 200). */
static void test_kernel_products(void) {
    static const int shapes[][3] = {{1, 1, 1},   {3, 5, 2},    {4, 16, 7},   {5, 37, 3},
                                    {8, 64, 68}, {13, 33, 32}, {32, 68, 32}, {4, 100, 1},
                                    {9, 20, 3},  {200, 40, 5}, {17, 32, 4},  {64, 68, 32}};
    prefrec_rng r;
    prefrec_rng_init(&r, 3, 0);
    int tested = 0;
    for (int k = 0; k < NM_KERN_COUNT; k++) {
        if (!nm_kernel_supported(k)) {
            fprintf(stderr, "test_train: kernel %s not supported by this CPU: not tested\n",
                    nm_kernel_name(k));
            continue;
        }
        nm_gemm_fn f = nm_kernel_gemm(k), f0 = nm_kernel_gemm0(k);
        CHECK(f != NULL && f0 != NULL);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            int trans = (int)(s & 1); /* A read as rows (sam = K + 3) or as columns (sak = M + 2) */
            ptrdiff_t sam = trans ? 1 : K + 3, sak = trans ? M + 2 : 1, ldb = N + 1, ldc = N + 5;
            size_t na = trans ? (size_t)K * (size_t)(M + 2) : (size_t)M * (size_t)(K + 3);
            float *a = malloc(na * sizeof *a), *b = malloc((size_t)K * ldb * sizeof *b);
            float *c = malloc((size_t)M * ldc * sizeof *c),
                  *c0 = malloc((size_t)M * ldc * sizeof *c0),
                  *cz = malloc((size_t)M * ldc * sizeof *cz);
            for (size_t i = 0; i < na; i++) a[i] = (float)(2 * prefrec_rng_double(&r) - 1);
            for (size_t i = 0; i < (size_t)K * ldb; i++)
                b[i] = (float)(2 * prefrec_rng_double(&r) - 1);
            for (size_t i = 0; i < (size_t)M * ldc; i++)
                c0[i] = c[i] = (float)(2 * prefrec_rng_double(&r) - 1);
            f(M, N, K, a, sam, sak, b, ldb, c, ldc);
            for (size_t i = 0; i < (size_t)M * ldc; i++) cz[i] = NAN;
            f0(M, N, K, a, sam, sak, b, ldb, cz, ldc);
            int bad = 0;
            for (int m = 0; m < M; m++) {
                for (int j = 0; j < N; j++) {
                    float y = c0[(size_t)m * ldc + j], z = 0.0f;
                    for (int q = 0; q < K; q++) {
                        float x = a[m * sam + q * sak], w = b[(size_t)q * ldb + j];
                        y = k == NM_KERN_PORTABLE ? y + x * w : fmaf(x, w, y);
                        z = k == NM_KERN_PORTABLE ? z + x * w : fmaf(x, w, z);
                    }
                    bad += memcmp(&y, &c[(size_t)m * ldc + j], sizeof y) != 0;
                    bad += memcmp(&z, &cz[(size_t)m * ldc + j], sizeof z) != 0;
                }
                /* columns past N are not written */
                for (int j = N; j < ldc; j++)
                    bad += c[(size_t)m * ldc + j] != c0[(size_t)m * ldc + j] ||
                        !isnan(cz[(size_t)m * ldc + j]);
            }
            if (bad)
                fprintf(stderr,
                        "kernel %s, shape %dx%dx%d: %d outputs differ from the scalar chain\n",
                        nm_kernel_name(k), M, N, K, bad);
            CHECK_EQ_INT(bad, 0);
            tested++;
            free(a), free(b), free(c), free(c0), free(cz);
        }
    }
    CHECK(tested >= 12); /* the portable path at least */
    CHECK_EQ_INT(nm_kernel_supported(NM_KERN_PORTABLE), 1);
    CHECK(nm_kernel_gemm(NM_KERN_COUNT) == NULL && nm_kernel_gemm0(NM_KERN_COUNT) == NULL);
}

/* A chunk's loss and gradients on every kernel path: the FMA paths give the same bits, the
 * portable path agrees with them within 2e-5 of the largest magnitude (rounding only). Widths
 * that are not multiples of 16 and more pairs than one chunk exercise the edges. */
static void test_kernel_chunks(void) {
    enum { NP = NM_CHUNK + 5, C = 9, P = 11 };
    int width[2] = {40, 24};
    nm_layout L;
    nm_layout_init(&L, 13, 2, width);
    int32_t cust[NP], prod[NP];
    float target[NP];
    uint32_t idx[NP];
    int8_t g[C];
    float age[C];
    prefrec_rng r;
    prefrec_rng_init(&r, 9, 0);
    for (int i = 0; i < C; i++) {
        g[i] = (int8_t)((int)prefrec_rng_below(&r, 3) - 1);
        age[i] = i == 4 ? NAN : 20.0f + (float)prefrec_rng_below(&r, 50);
    }
    for (int i = 0; i < NP; i++) {
        cust[i] = (int32_t)prefrec_rng_below(&r, C);
        prod[i] = (int32_t)prefrec_rng_below(&r, P);
        target[i] = (float)prefrec_rng_double(&r) * 5.0f;
        idx[i] = (uint32_t)(NP - 1 - i);
    }
    nm_net n;
    prefrec_error err = {0};
    CHECK_EQ_INT(nm_net_alloc(&n, &L, C, P, g, age, &err), PREFREC_OK);
    n.l2 = 0.05f;
    nm_net_init(&n, 4, 0.5f, 2.5f);
    size_t D = (size_t)L.d + 1, nd = L.n_dense, nr = (size_t)NP * D;
    float *scratch = malloc(nm_scratch_size(&L) * sizeof(float));
    float *gd[NM_KERN_COUNT], *rc[NM_KERN_COUNT], *rp[NM_KERN_COUNT];
    double loss[NM_KERN_COUNT], sse[NM_KERN_COUNT];
    float yb[NM_KERN_COUNT][NP];
    for (int k = 0; k < NM_KERN_COUNT; k++) {
        gd[k] = calloc(nd, sizeof(float));
        rc[k] = calloc(nr, sizeof(float));
        rp[k] = calloc(nr, sizeof(float));
        if (nm_kernel_set(&n, k)) continue;
        CHECK_EQ_INT(n.kern, k);
        loss[k] = nm_chunk(&n, cust, prod, target, idx, NP, 1.0f / NP, gd[k], rc[k], rp[k], scratch,
                           &sse[k]);
        nm_predict_batch(&n, cust, prod, idx, NP, yb[k], scratch);
    }
    /* the batched forward is the scalar forward on the portable path, bit for bit */
    CHECK_EQ_INT(nm_kernel_set(&n, NM_KERN_PORTABLE), 0);
    int same = 1;
    for (int i = 0; i < NP; i++) {
        float y = nm_predict(&n, cust[idx[i]], prod[idx[i]], scratch);
        same &= memcmp(&y, &yb[NM_KERN_PORTABLE][i], sizeof y) == 0;
    }
    CHECK(same);
    double big = 0;
    for (size_t q = 0; q < nd; q++) big = fmax(big, fabs(gd[0][q]));
    for (size_t q = 0; q < nr; q++) big = fmax(big, fmax(fabs(rc[0][q]), fabs(rp[0][q])));
    CHECK(big > 0.01);
    for (int k = 1; k < NM_KERN_COUNT; k++) {
        if (!nm_kernel_supported(k)) continue;
        double worst = 0;
        for (size_t q = 0; q < nd; q++) worst = fmax(worst, fabs(gd[k][q] - gd[0][q]));
        for (size_t q = 0; q < nr; q++)
            worst = fmax(worst, fmax(fabs(rc[k][q] - rc[0][q]), fabs(rp[k][q] - rp[0][q])));
        CHECK(worst <= 2e-5 * big);
        CHECK(fabs(loss[k] - loss[0]) <= 1e-5 * loss[0]);
        for (int i = 0; i < NP; i++)
            CHECK(fabs(yb[k][i] - yb[0][i]) <= 1e-5 * (1 + fabs(yb[0][i])));
        fprintf(stderr,
                "test_train: kernel %s vs portable: largest gradient difference %.2g (largest "
                "gradient %.3g)\n",
                nm_kernel_name(k), worst, big);
    }
    if (nm_kernel_supported(NM_KERN_AVX2) && nm_kernel_supported(NM_KERN_AVX512)) {
        CHECK(memcmp(gd[NM_KERN_AVX2], gd[NM_KERN_AVX512], nd * sizeof(float)) == 0);
        CHECK(memcmp(rc[NM_KERN_AVX2], rc[NM_KERN_AVX512], nr * sizeof(float)) == 0);
        CHECK(memcmp(rp[NM_KERN_AVX2], rp[NM_KERN_AVX512], nr * sizeof(float)) == 0);
        CHECK(loss[NM_KERN_AVX2] == loss[NM_KERN_AVX512]);
        CHECK(memcmp(yb[NM_KERN_AVX2], yb[NM_KERN_AVX512], sizeof yb[0]) == 0);
    }
    /* nm_chunk writes the dense gradient: a buffer of NaN before gives the same bits as zeros */
    float *gx = malloc(nd * sizeof(float)), *rx = malloc(2 * nr * sizeof(float));
    for (int k = 0; k < NM_KERN_COUNT; k++) {
        if (nm_kernel_set(&n, k)) continue;
        for (size_t q = 0; q < nd; q++) gx[q] = NAN;
        for (size_t q = 0; q < 2 * nr; q++) rx[q] = NAN;
        double sx,
            lx =
                nm_chunk(&n, cust, prod, target, idx, NP, 1.0f / NP, gx, rx, rx + nr, scratch, &sx);
        CHECK(memcmp(gx, gd[k], nd * sizeof(float)) == 0);
        CHECK(lx == loss[k] && sx == sse[k]);
        CHECK(memcmp(rx, rc[k], nr * sizeof(float)) == 0 &&
              memcmp(rx + nr, rp[k], nr * sizeof(float)) == 0);
    }
    free(gx), free(rx);
    CHECK_EQ_INT(nm_kernel_set(&n, NM_KERN_COUNT), -1);
    for (int k = 0; k < NM_KERN_COUNT; k++) free(gd[k]), free(rc[k]), free(rp[k]);
    free(scratch);
    nm_net_free(&n);
}

/* Training end to end on the portable path and on the best one: same split and epochs, the
 * validation RMSE within 0.01 (the stated tolerance between kernel paths, docs/model.md); a
 * kernel named in PREFREC_KERNEL that does not exist is an error naming it. */
static void test_kernel_training(void) {
    toy d = make_toy(3);
    prefrec_train_data td = toy_data(&d);
    prefrec_train_params tp = toy_params(2);
    tp.epochs = 8;
    prefrec_neumf *a = NULL, *b = NULL, *c = NULL;
    prefrec_train_report ra, rb, rc;
    prefrec_error err = {0};
    setenv("PREFREC_KERNEL", "portable", 1);
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &a, &ra, &err), PREFREC_OK);
    unsetenv("PREFREC_KERNEL");
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &b, &rb, &err), PREFREC_OK);
    CHECK(a && b);
    CHECK(fabs(ra.valid_rmse - rb.valid_rmse) < 0.01);
    CHECK(nm_kernel_best() == NM_KERN_PORTABLE || !same_net(a, b));
    fprintf(stderr, "test_train: toy valid RMSE portable %.5f, %s %.5f\n", ra.valid_rmse,
            nm_kernel_name(nm_kernel_best()), rb.valid_rmse);
    setenv("PREFREC_KERNEL", "avx1024", 1);
    CHECK_EQ_INT(prefrec_neumf_train(&td, &tp, &c, &rc, &err), PREFREC_E_RANGE);
    CHECK_CONTAINS(err.msg, "PREFREC_KERNEL=avx1024");
    CHECK(c == NULL);
    unsetenv("PREFREC_KERNEL");
    prefrec_neumf_free(a);
    prefrec_neumf_free(b);
    toy_free(&d);
}

int main(void) {
    test_gradients();
    test_training();
    test_split_valid();
    test_pack_cycle();
    test_kernel_products();
    test_kernel_chunks();
    test_kernel_training();
    return check_report("test_train");
}
