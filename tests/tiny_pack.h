/* tiny_pack.h - a 6-product, 2-category, 3-customer pack with both rankers (NeuMF d=2 and the
 * blend's neighbour lists), built byte by byte for the engine and API tests. Portable. */
#ifndef PREFREC_TEST_TINY_PACK_H
#define PREFREC_TEST_TINY_PACK_H

#include <math.h>
#include <stdio.h>

#include "pack_builder.h"

#define P 6
#define M 2
#define S 33
static const float pemb[P * 2] = {1, 0.5f, -1, 2, 0.5f, 0.5f, 2, -1, 0, 1, 1, 1};
static const float pbias[P] = {0.1f, -0.2f, 0, 0.3f, 0, -0.1f};
static const float w1[16] = {1, 0, 1, 0, 0, 0.5f, 1, 0, /**/ 0, 1, 0, -1, 0.2f, 0, 0, 1};
static const float b1[2] = {0.0f, 0.5f}, wg[2] = {1.0f, 2.0f}, wm[2] = {0.5f, -1.0f}, b0 = 2.0f;
static const uint32_t code_off[P + 1] = {0, 3, 6, 9, 12, 15, 18};
static const char codes[18] = "P0\0P1\0P2\0P3\0P4\0P5";
static const char names[18] = "n0\0n1\0n2\0n3\0n4\0n5";
static const int32_t pcat[P] = {0, 0, 0, 1, 1, 1}, psub[P] = {0, 0, 1, 2, 2, 2};
static const uint32_t cat_off[3] = {0, 5, 11}, sub_off[4] = {0, 2, 4, 6};
static const char subs[6] = "a\0b\0c";
static const char cats[11] = "food\0drink";
static const uint32_t cust_off[4] = {0, 3, 6, 9};
static const char ccodes[9] = "C0\0C1\0C2";
static const float cemb[6] = {0.5f, -1, 0.2f, 0.3f, 0, 0}, cbias[3] = {0.25f, 0, 0},
                   cage[3] = {35, 60, NAN};
static const int8_t cg[3] = {1, 0, -1};
static const uint32_t boff[4] = {0, 2, 3, 9};
static const int32_t bidx[9] = {0, 1, 3, 0, 1, 2, 3, 4, 5};
static const int32_t ease_nbr[P * M] = {2, 3, 2, 4, 0, -1, 5, 4, 3, -1, 4, -1};
static const float ease_w[P * M] = {0.5f, 0.2f, 0.3f, 0.6f, 0.4f, 0, 0.9f, 0.1f, 0.3f, 0, 0.2f, 0};
static const int32_t knn_nbr[P * M] = {1, 4, 0, 5, 0, 1, 4, -1, 3, 0, 1, -1};
static const float knn_w[P * M] = {0.8f, 0.3f, 0.8f, 0.4f, 0.2f, 0.1f,
                                   0.5f, 0,    0.5f, 0.3f, 0.4f, 0};
static float pop_seg[S * P];
static const float pop_all[P] = {1, 0.8f, 0.6f, 0.4f, 0.3f, 0.2f};
static const float trend[P] = {0.1f, 0.5f, 0.2f, 0.9f, 0.3f, 0.6f};
/* blend weights: variant 1 (hand-worked case) and variant 2 (every part on) */
static const double WV[3][7] = {
    {0}, {1, 0.5, 0.2, 0, 0.1, 0, 0}, {1, 0.5, 0.2, 0.3, 0.1, 0.4, 0.7}};
static const double TB = 1e-6;

static const float rprior[P] = {1, 0.5f, 1, 1, 1, 0.25f};

/* Stores t's float tensor named name as dt (f16, q8r, q4r, q8c or q4c, prefrec/pack.h) in buf
 * (at least 4 x its floats + 4 x its rows + 1024 bytes): what `prefrec export --pack-version 2`
 * writes. */
static void tiny_store(tb *t, size_t n, const char *name, uint32_t dt, unsigned char *buf) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, name)) continue;
        const float *x = (const float *)t[i].data;
        size_t ne = t[i].nbytes / 4, rows = t[i].ndim > 1 ? t[i].shape[0] : 1, cols = ne / rows;
        if (dt == PREFREC_DT_Q8C || dt == PREFREC_DT_Q4C) {
            uint32_t shape[2] = {(uint32_t)rows, (uint32_t)cols};
            prefrec_qc_encode(dt, x, rows, cols, buf);
            t[i].nbytes = (size_t)prefrec_dtype_bytes(dt, 2, shape, ne);
        } else if (dt == PREFREC_DT_F16) {
            for (size_t k = 0; k < ne; k++) {
                uint16_t h = prefrec_f32_to_f16(x[k]);
                buf[2 * k] = (unsigned char)h;
                buf[2 * k + 1] = (unsigned char)(h >> 8);
            }
            t[i].nbytes = 2 * ne;
        } else if (dt == PREFREC_DT_Q8R) {
            for (size_t r = 0; r < rows; r++) {
                float s = 0;
                prefrec_q8_encode_row(x + r * cols, cols, &s,
                                      (int8_t *)(buf + 4 * rows + r * cols));
                memcpy(buf + 4 * r, &s, 4);
            }
            t[i].nbytes = 4 * rows + ne;
        } else { /* q4r: two codes a byte, low nibble first, rows byte-aligned */
            size_t rb = (cols + 1) / 2;
            memset(buf, 0, 4 * rows + rows * rb);
            for (size_t r = 0; r < rows; r++) {
                float s = 0;
                int8_t q[64];
                prefrec_q_encode_row(x + r * cols, cols, 7, &s, q);
                memcpy(buf + 4 * r, &s, 4);
                for (size_t k = 0; k < cols; k++)
                    buf[4 * rows + r * rb + k / 2] |=
                        (unsigned char)(((unsigned)q[k] & 15u) << (4 * (k & 1)));
            }
            t[i].nbytes = rows * (4 + rb);
        }
        t[i].dtype = dt;
        t[i].data = buf;
    }
}

/* tiny_pack's segment popularity with the quantised variants (10+): 0 as the default plan
 * stores it (q8c), 1 stored as f16, 2 its f16-rounded values stored as f32 (the floats 1
 * decodes to: the engine must answer both alike) */
static int tiny_pop_f16;

/* tiny_pack's neighbour lists: 0 as above; 1 with rows emptied (products 1 and 4 have no EASE
 * neighbours, product 2 no kNN ones), dense; 2 the same lists compact (blend.ease.rows,
 * blend.knn.rows and only the rows that have neighbours: a version-3 pack) */
static int tiny_compact;

/* tiny_pack's segment popularity as buyer counts, in the quantised variants (10+): 0 not; 1
 * stored pcx (version 4: segment 0 with a high plane, segment 25 and the suppressed rows' sum of
 * one plane, segment 25's 280 and 255 as escapes, segment 5 served as the overall share, the
 * rest empty and not stored); 2 the same counts pc16; 3 the floats they decode to, f32 (the
 * three must answer alike) */
static int tiny_pop_counts;
static const uint32_t tiny_pc_size[S + 1] = {[0] = 600, [5] = 0x80000000u, [25] = 300, [S] = 50};
static const uint16_t tiny_pc_cnt[3][P] = {
    {300, 20, 10, 5, 5, 1}, {280, 100, 80, 255, 20, 1}, {10, 0, 3, 0, 0, 40}};
static unsigned char tiny_pc16[8 + 4 * (S + 1) + 4 * (S + 1) * P],
    tiny_pcx[8 + 5 * (S + 1) + 4 + 4 * P + 16];
/* fills tiny_pc16, tiny_pcx and (decoded) pop_seg */
static void tiny_pop_tables(void) {
    static const double prior = 50;
    uint64_t bits;
    memcpy(&bits, &prior, 8);
    for (int k = 0; k < 8; k++) tiny_pc16[k] = tiny_pcx[k] = (unsigned char)(bits >> (8 * k));
    for (int r = 0; r <= S; r++)
        for (int k = 0; k < 4; k++)
            tiny_pc16[8 + 4 * r + k] = tiny_pcx[8 + 4 * r + k] =
                (unsigned char)(tiny_pc_size[r] >> (8 * k));
    unsigned char *lo = tiny_pc16 + 8 + 4 * (S + 1), *hi = lo + (S + 1) * P;
    memset(lo, 0, 2 * (S + 1) * P);
    static const int row[3] = {0, 25, S};
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < P; c++) {
            lo[row[i] * P + c] = (unsigned char)tiny_pc_cnt[i][c];
            hi[row[i] * P + c] = (unsigned char)(tiny_pc_cnt[i][c] >> 8);
        }
    unsigned char *x = tiny_pcx + 8 + 4 * (S + 1);
    x[0] = 2, x[1] = x[2] = x[3] = 0; /* e: 280 and 255 of segment 25 */
    memset(x + 4, 0, S + 1);
    x[4] = 1; /* segment 0: a high plane */
    unsigned char *q = x + 4 + S + 1;
    for (int c = 0; c < P; c++) { /* segment 0's low and high bytes, 25's, the sum row's */
        q[c] = (unsigned char)tiny_pc_cnt[0][c];
        q[P + c] = (unsigned char)(tiny_pc_cnt[0][c] >> 8);
        q[2 * P + c] = (unsigned char)(tiny_pc_cnt[1][c] < 255 ? tiny_pc_cnt[1][c] : 255);
        q[3 * P + c] = (unsigned char)tiny_pc_cnt[2][c];
    }
    static const uint32_t esc[4] = {P + 0, 280, P + 3, 255}; /* k: ordinal 1's counts 0, 3 */
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++) q[4 * P + 4 * i + k] = (unsigned char)(esc[i] >> (8 * k));
    uint64_t bad = 0;
    prefrec_pc_decode(PREFREC_DT_PC16, tiny_pc16, S, P, pop_seg, &bad);
}

/* variant 0: NeuMF only; 1 and 2: with the blend (weights WV[variant]); 3: variant 1 with buy
 * again and the mixed list (no decay, w_due 1, beta 1; share 0.5, global) as of 2022-01-01 */
static unsigned char *tiny_pack(size_t *len, int variant) {
    int quant = variant >= 10; /* variant + 10: its float item tensors stored as a version-2
                                  export stores them (PREFREC_PACK_STORAGE_DEFAULT) */
    int emb_q8r = variant >= 20; /* variant + 20: the same with product.emb q8r (as the default
                                    plan stores it: the engine reads it a row at a time) */
    variant %= 10;
    int rep = variant == 3;
    if (rep) variant = 1;
    static const float base[P] = {0.3f, 0.25f, 0.2f, 0.1f, 0.1f, 0.05f};
    static const float f30[P] = {0.05f, 0.1f, 0.1f, 0.3f, 0.25f, 0.2f};
    for (int s = 0; s < S; s++)
        for (int p = 0; p < P; p++) {
            pop_seg[s * P + p] = s == 25 ? f30[p] : base[p];
            if (quant && tiny_pop_f16 == 2)
                pop_seg[s * P + p] = prefrec_f16_to_f32(prefrec_f32_to_f16(pop_seg[s * P + p]));
        }
    static int32_t en[P * M], kn[P * M], er[P], kr[P];
    static float ewc[P * M], kwc[P * M];
    uint32_t ne = 0, nk = 0; /* the lists' rows */
    for (int p = 0; p < P; p++) {
        int e_none = tiny_compact && (p == 1 || p == 4), k_none = tiny_compact && p == 2;
        for (int k = 0; k < M; k++) { /* an emptied row: -1 and 0, or no row (compact) */
            if (!(e_none && tiny_compact == 2)) {
                en[ne * M + k] = e_none ? -1 : ease_nbr[p * M + k];
                ewc[ne * M + k] = e_none ? 0.0f : ease_w[p * M + k];
            }
            if (!(k_none && tiny_compact == 2)) {
                kn[nk * M + k] = k_none ? -1 : knn_nbr[p * M + k];
                kwc[nk * M + k] = k_none ? 0.0f : knn_w[p * M + k];
            }
        }
        if (!(e_none && tiny_compact == 2)) er[ne++] = p;
        if (!(k_none && tiny_compact == 2)) kr[nk++] = p;
    }
    tb t[] = {{"product.emb", 0, 2, {P, 2}, pemb, sizeof pemb},
              {"product.bias", 0, 1, {P}, pbias, sizeof pbias},
              {"mlp.0.w", 0, 2, {2, 8}, w1, sizeof w1},
              {"mlp.0.b", 0, 1, {2}, b1, 8},
              {"out.gmf", 0, 1, {2}, wg, 8},
              {"out.mlp", 0, 1, {2}, wm, 8},
              {"out.bias", 0, 1, {1}, &b0, 4},
              {"product.code.off", 5, 1, {P + 1}, code_off, sizeof code_off},
              {"product.code.str", 3, 1, {18}, codes, 18},
              {"product.name.off", 5, 1, {P + 1}, code_off, sizeof code_off},
              {"product.name.str", 3, 1, {18}, names, 18},
              {"product.cat", 4, 1, {P}, pcat, sizeof pcat},
              {"product.sub", 4, 1, {P}, psub, sizeof psub},
              {"category.off", 5, 1, {3}, cat_off, 12},
              {"category.str", 3, 1, {11}, cats, 11},
              {"subcategory.off", 5, 1, {4}, sub_off, 16},
              {"subcategory.str", 3, 1, {6}, subs, 6},
              {"customer.code.off", 5, 1, {4}, cust_off, 16},
              {"customer.code.str", 3, 1, {9}, ccodes, 9},
              {"customer.emb", 0, 2, {3, 2}, cemb, 24},
              {"customer.bias", 0, 1, {3}, cbias, 12},
              {"customer.gender", 2, 1, {3}, cg, 3},
              {"customer.age", 0, 1, {3}, cage, 12},
              {"customer.bought.off", 5, 1, {4}, boff, 16},
              {"customer.bought.idx", 4, 1, {9}, bidx, 36},
              {"blend.ease.nbr", 4, 2, {ne, M}, en, ne * M * 4},
              {"blend.ease.w", 0, 2, {ne, M}, ewc, ne * M * 4},
              {"blend.knn.nbr", 4, 2, {nk, M}, kn, nk * M * 4},
              {"blend.knn.w", 0, 2, {nk, M}, kwc, nk * M * 4},
              {"blend.pop.seg", 0, 2, {S, P}, pop_seg, sizeof pop_seg},
              {"blend.pop.all", 0, 1, {P}, pop_all, sizeof pop_all},
              {"blend.trend", 0, 1, {P}, trend, sizeof trend},
              {"repeat.prior", 0, 1, {P}, rprior, sizeof rprior}};
    static unsigned char qbuf[12][S * P * 4 + 4 * S + 1024];
    static const struct {
        const char *name;
        uint32_t dt;
    } QT[12] = {/* every float storage of version 2: f16, q8r, q4r, q8c, q4c */
                {"product.emb", 9}, {"product.bias", 1},  {"mlp.0.w", 6},       {"mlp.0.b", 1},
                {"out.gmf", 1},     {"out.mlp", 1},       {"out.bias", 1},      {"blend.ease.w", 6},
                {"blend.knn.w", 7}, {"blend.pop.seg", 8}, {"blend.pop.all", 8}, {"blend.trend", 1}};
    for (int q = 0; quant && q < 12; q++) {
        uint32_t dt = q == 0 && emb_q8r ? PREFREC_DT_Q8R : QT[q].dt;
        if (q == 9 && tiny_pop_f16) dt = tiny_pop_f16 == 1 ? PREFREC_DT_F16 : PREFREC_DT_F32;
        if (q == 9 && tiny_pop_counts) dt = PREFREC_DT_F32; /* (below) */
        if (dt != PREFREC_DT_F32) tiny_store(t, sizeof t / sizeof t[0], QT[q].name, dt, qbuf[q]);
    }
    for (size_t i = 0; quant && tiny_pop_counts && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, "blend.pop.seg")) {
            tiny_pop_tables(); /* pop_seg: the decoded counts (f32, tiny_pop_counts 3) */
            if (tiny_pop_counts == 1)
                t[i].dtype = PREFREC_DT_PCX, t[i].data = tiny_pcx, t[i].nbytes = sizeof tiny_pcx;
            if (tiny_pop_counts == 2)
                t[i].dtype = PREFREC_DT_PC16, t[i].data = tiny_pc16, t[i].nbytes = sizeof tiny_pc16;
        }
    static uint16_t knn16[P * M]; /* and one index list u16 (-1 as 0xFFFF) */
    for (size_t i = 0; quant && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, "blend.knn.nbr")) {
            for (uint32_t k = 0; k < nk * M; k++) knn16[k] = (uint16_t)(kn[k] < 0 ? 0xFFFF : kn[k]);
            t[i].dtype = PREFREC_DT_U16;
            t[i].data = knn16;
            t[i].nbytes = nk * M * 2;
        }
    static unsigned char name8[P + 1]; /* and one string table's offsets u8d (their steps) */
    for (size_t i = 0; quant && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, "product.name.off")) {
            for (int k = 0; k <= P; k++)
                name8[k] = (unsigned char)(code_off[k] - (k ? code_off[k - 1] : 0));
            t[i].dtype = PREFREC_DT_U8D;
            t[i].data = name8;
            t[i].nbytes = sizeof name8;
        }
    char man[768];
    if (variant)
        snprintf(
            man, sizeof man,
            "{\"kind\":\"neumf\",\"dim\":2,\"mlp\":[2],\"affiliate\":\"A01\",\"target_mean\":3.0,"
            "\"blend\":{\"w\":{\"ease\":%g,\"knn\":%g,\"pop\":%g,\"trend\":%g,\"cat\":%g,"
            "\"catpop\":%g,\"subpop\":%g},\"tiebreak\":1e-6}%s}",
            WV[variant][0], WV[variant][1], WV[variant][2], WV[variant][3], WV[variant][4],
            WV[variant][5], WV[variant][6],
            rep ? ",\"asof\":\"2022-01-01\",\"repeat\":{\"half_life_days\":0,\"w_due\":1,"
                  "\"beta\":1,\"due_width\":1},\"mixed\":{\"share\":0.5,\"shrink\":-1}"
                : "");
    else
        snprintf(man, sizeof man,
                 "{\"kind\":\"neumf\",\"dim\":2,\"mlp\":[2],\"affiliate\":\"A01\"}");
    size_t nt = sizeof t / sizeof t[0], n = variant ? nt - 1 : 25; /* (repeat.prior last) */
    tb all[sizeof t / sizeof t[0] + 2];
    memcpy(all, t, n * sizeof *all);
    if (variant && tiny_compact == 2) {
        tb rows[2] = {{"blend.ease.rows", 4, 1, {ne}, er, ne * 4},
                      {"blend.knn.rows", 4, 1, {nk}, kr, nk * 4}};
        memcpy(all + n, rows, sizeof rows);
        n += 2;
    }
    if (rep) all[n++] = t[nt - 1];
    return tb_build(man, all, n, len);
}

#endif
