/* pack_dist_check.c - the sharded pack writer (src/train/pack_dist.c) against the one-process
 * writer (prefrec_neumf_save_pack), byte for byte, under mpirun (tests/mpi/packw.sh). A made-up
 * model: C customers with codes of 1 to 40 bytes, owned by fnv1a32(code) % N as in train, their
 * keys a shuffled order (so each rank's customers are scattered over the pack), each with 0 to
 * 40 pairs (repeated products too: the bought sets drop them), made-up rows and demographics.
 * Every rank writes its customers' parts with nm_pack_save_dist; rank 0 also writes the whole
 * model with prefrec_neumf_save_pack and compares the two files. Cases: with and without the
 * per-customer line counts, and few customers (at -n 3 a rank may own none).
 * Usage: pack_dist_check DIR (an existing directory the ranks share); exit 0 when equal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/dist.h"
#include "host/file.h"
#include "prefrec/pack.h"
#include "train/pack_dist.h"

static uint64_t sm(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static float uf(uint64_t *s) { return (float)(sm(s) >> 40) / 16777216.0f - 0.5f; }

/* One case: C customers, lines or not. 0 when the packs are the same bytes (rank 0), -1 not. */
static int one_case(prefrec_dist *d, const char *dir, int C, int with_lines, uint64_t seed) {
    const int me = prefrec_dist_rank(d), N = prefrec_dist_size(d), P = 37, D = 6;
    uint64_t s = seed;
    /* the whole model, made the same on every rank */
    char **code = calloc((size_t)C, sizeof *code);
    uint64_t *key = malloc((size_t)C * sizeof *key);
    int32_t *perm = malloc((size_t)C * sizeof *perm);
    float *cemb = malloc((size_t)C * D * sizeof *cemb), *cbias = malloc((size_t)C * sizeof *cbias);
    float *age = malloc((size_t)C * sizeof *age), *lines = malloc((size_t)C * sizeof *lines);
    int8_t *gender = malloc((size_t)C);
    int32_t *cust = malloc((size_t)C * 40 * sizeof *cust), *prod = malloc((size_t)C * 40 * 4);
    float *tgt = malloc((size_t)C * 40 * sizeof *tgt);
    size_t np = 0;
    for (int c = 0; c < C; c++) perm[c] = c;
    for (int c = C - 1; c > 0; c--) { /* the one-process order: a shuffle of the codes' order */
        int j = (int)(sm(&s) % (uint64_t)(c + 1)), t = perm[c];
        perm[c] = perm[j], perm[j] = t;
    }
    for (int c = 0; c < C; c++) { /* customer c is the c-th of the pack (ascending keys) */
        int len = 1 + (int)(sm(&s) % 40);
        code[c] = malloc((size_t)len + 8);
        int k = snprintf(code[c], (size_t)len + 8, "M%d", perm[c]);
        for (; k < len; k++) code[c][k] = (char)('a' + sm(&s) % 26);
        code[c][len > k ? len : k] = '\0';
        key[c] = 1000 + 3 * (uint64_t)c + sm(&s) % 3;
        for (int k2 = 0; k2 < D; k2++) cemb[c * D + k2] = uf(&s);
        cbias[c] = uf(&s);
        uint64_t g = sm(&s) % 4;
        gender[c] = (int8_t)(g == 3 ? 9 : (int)g - 1); /* -1, 0, 1 and an unknown code */
        age[c] = sm(&s) % 5 ? 20.0f + (float)(sm(&s) % 60) : NAN;
        lines[c] = (float)(sm(&s) % 300);
        int m = (int)(sm(&s) % 41);
        for (int i = 0; i < m; i++, np++) {
            cust[np] = c, prod[np] = (int32_t)(sm(&s) % (uint64_t)P), tgt[np] = uf(&s) + 2.5f;
        }
    }
    prefrec_neumf net = {D,    1,      {8},    C,    P,    cemb,  cbias, NULL,
                         NULL, {NULL}, {NULL}, NULL, NULL, 0.25f, seed};
    float *pemb = malloc((size_t)P * D * 4), *pbias = malloc((size_t)P * 4);
    float *w0 = malloc((size_t)8 * (2 * D + PREFREC_MODEL_N_DEMO) * 4), *b0 = malloc(8 * 4);
    float *wg = malloc((size_t)D * 4), *wm = malloc(8 * 4), *ptarget = malloc((size_t)P * 4);
    for (int i = 0; i < P * D; i++) pemb[i] = uf(&s);
    for (int i = 0; i < P; i++) pbias[i] = uf(&s), ptarget[i] = uf(&s) + 2.5f;
    for (int i = 0; i < 8 * (2 * D + PREFREC_MODEL_N_DEMO); i++) w0[i] = uf(&s);
    for (int i = 0; i < 8; i++) b0[i] = uf(&s), wm[i] = uf(&s);
    for (int i = 0; i < D; i++) wg[i] = uf(&s);
    net.pemb = pemb, net.pbias = pbias, net.w[0] = w0, net.b[0] = b0, net.wg = wg, net.wm = wm;
    char **pcode = malloc((size_t)P * sizeof *pcode);
    int32_t *pcat = malloc((size_t)P * 4), *psub = malloc((size_t)P * 4);
    for (int i = 0; i < P; i++) {
        pcode[i] = malloc(16);
        snprintf(pcode[i], 16, "P%03d", i);
        pcat[i] = i % 3, psub[i] = i % 5 - 1;
    }
    const char *cats[] = {"food", "home", "toys"}, *subs[] = {"a", "b", "c", "d", "e"};
    prefrec_train_params tp = {0};
    prefrec_train_report rep = {0};
    tp.dim = D, tp.epochs = 3, tp.batch = 256, tp.lr = 0.001f, tp.valid_frac = 0.1;
    prefrec_train_data all = {np, cust, prod, tgt, C, P, gender, age, NULL};
    prefrec_pack_meta meta = {"A01",
                              "2021-12-01",
                              (const char *const *)pcode,
                              (const char *const *)pcode,
                              pcat,
                              psub,
                              cats,
                              3,
                              subs,
                              5,
                              (const char *const *)code,
                              &all,
                              &tp,
                              &rep,
                              NULL,
                              ptarget,
                              2.5,
                              with_lines ? lines : NULL,
                              NULL,
                              NULL,
                              0,
                              0};
    char one[4096], many[4096];
    snprintf(one, sizeof one, "%s/one.%d.%d.pack", dir, C, with_lines);
    snprintf(many, sizeof many, "%s/n%d.%d.%d.pack", dir, N, C, with_lines);
    prefrec_error err = {0};
    int bad = 0;
    if (me == 0 && prefrec_neumf_save_pack(&net, &meta, one, NULL, &err)) {
        fprintf(stderr, "pack_dist_check: one process: %s\n", err.msg);
        bad = 1;
    }
    /* this rank's part: its customers in the pack's order, their pairs, lines, keys */
    int32_t *lc = malloc((size_t)C * 4 + 4), *lcust = malloc(np * 4 + 4);
    int32_t nl = 0;
    size_t lnp = 0;
    for (int c = 0; c < C; c++)
        lc[c] = prefrec_fnv1a32(code[c], strlen(code[c])) % (uint32_t)N == (uint32_t)me ? nl++ : -1;
    const char **lcode = malloc((size_t)nl * sizeof *lcode + 8);
    uint64_t *lkey = malloc((size_t)nl * 8 + 8);
    float *lemb = malloc((size_t)nl * D * 4 + 4), *lbias = malloc((size_t)nl * 4 + 4),
          *lage = malloc((size_t)nl * 4 + 4), *llines = malloc((size_t)nl * 4 + 4),
          *ltgt = malloc(np * 4 + 4);
    int8_t *lgender = malloc((size_t)nl + 1);
    int32_t *lprod = malloc(np * 4 + 4);
    for (int c = C - 1; c >= 0; c--) { /* a rank's order need not be the pack's: reversed */
        if (lc[c] < 0) continue;
        int32_t i = nl - 1 - lc[c];
        lc[c] = i;
        lcode[i] = code[c], lkey[i] = key[c], lbias[i] = cbias[c], lage[i] = age[c];
        llines[i] = lines[c], lgender[i] = gender[c];
        memcpy(lemb + (size_t)i * D, cemb + (size_t)c * D, (size_t)D * 4);
    }
    for (size_t i = 0; i < np; i++)
        if (lc[cust[i]] >= 0) lcust[lnp] = lc[cust[i]], lprod[lnp] = prod[i], ltgt[lnp++] = tgt[i];
    prefrec_train_data mine = {lnp, lcust, lprod, ltgt, nl, P, lgender, lage, NULL};
    prefrec_neumf lnet = net;
    lnet.n_customers = nl, lnet.cemb = lemb, lnet.cbias = lbias;
    prefrec_pack_meta lmeta = meta;
    lmeta.customer_code = lcode, lmeta.data = &mine,
    lmeta.customer_lines = with_lines ? llines : NULL;
    size_t bytes = 0;
    prefrec_status st = nm_pack_save_dist(&lnet, &lmeta, d, lkey, many, &bytes, &err);
    if (st) {
        fprintf(stderr, "pack_dist_check: rank %d: %s\n", me, err.msg);
        bad = 1;
    }
    if (me == 0 && !bad) {
        char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        if (prefrec_file_read(one, (size_t)1 << 30, &a, &la, &err) ||
            prefrec_file_read(many, (size_t)1 << 30, &b, &lb, &err)) {
            fprintf(stderr, "pack_dist_check: %s\n", err.msg);
            bad = 1;
        } else {
            bad = la != lb || la != bytes || memcmp(a, b, la) != 0;
            printf("%s   %d ranks, %d customers, %zu pairs, lines %s: %zu bytes, %s\n",
                   bad ? "FAIL" : "ok", N, C, np, with_lines ? "yes" : "no", lb,
                   bad ? "differs from one process" : "the one-process bytes");
        }
        free(a), free(b);
    }
    for (int c = 0; c < C; c++) free(code[c]);
    for (int i = 0; i < P; i++) free(pcode[i]);
    free(code), free(key), free(perm), free(cemb), free(cbias), free(age), free(lines);
    free(gender), free(cust), free(prod), free(tgt), free(pemb), free(pbias), free(w0), free(b0);
    free(wg), free(wm), free(ptarget), free(pcode), free(pcat), free(psub), free(lc), free(lcust);
    free(lcode), free(lkey), free(lemb), free(lbias), free(lage), free(llines), free(ltgt);
    free(lgender), free(lprod);
    return bad ? -1 : 0;
}

int main(int argc, char **argv) {
    prefrec_dist *d = NULL;
    if (argc != 2 || prefrec_dist_init(&argc, &argv, &d)) {
        fprintf(stderr, "usage: mpirun -n N pack_dist_check DIR\n");
        return 2;
    }
    int bad = 0;
    bad |= one_case(d, argv[1], 3000, 1, 11);
    bad |= one_case(d, argv[1], 3000, 0, 12);
    bad |= one_case(d, argv[1], 2, 1, 13);
    prefrec_dist_finish(d);
    return bad ? 1 : 0;
}
