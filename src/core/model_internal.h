/* model_internal.h - the loaded NeuMF model (prefrec/model.h's opaque prefrec_model), for
 * model.c and for white-box tests (tests/core/test_model_busy.c) that set a product-half row's
 * state, which no caller of prefrec/model.h can reach on purpose. */
#ifndef PREFREC_MODEL_INTERNAL_H
#define PREFREC_MODEL_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "prefrec/model.h"
#include "prefrec/pack.h"

/* a product-half row's state (p1_state): not filled yet, being filled by the thread that
 * claimed it, filled and published */
enum { P1_EMPTY, P1_BUSY, P1_READY };

struct prefrec_model {
    const prefrec_pack *pack;
    int d, n_layers, width[PREFREC_MODEL_MAX_LAYERS], in0, wmax;
    int32_t n_products;
    const float *pemb, *pbias; /* [P][d] (NULL when stored quantised: see pemb_t), [P] */
    const prefrec_tensor *pemb_t; /* product.emb as stored: f16, q8r or q4r rows are decoded into
                                     the tail of their p1 row (p1_row), f32 is read in place */
    const float *ptarget; /* [P] mean training score, or NULL (fold-in) */
    const float *w[PREFREC_MODEL_MAX_LAYERS]; /* [width_l][in_l] as stored */
    const float *b[PREFREC_MODEL_MAX_LAYERS];
    float *wt[PREFREC_MODEL_MAX_LAYERS]; /* layers >= 1 transposed: [in_l][width_l] */
    const float *wg, *wm; /* [d], [width_L-1] */
    float b0;
    float *p1; /* [P][p1_stride]: W1[:, d:2d] v_p + b1 ([h1]), then v_p ([d]) when pemb is NULL;
                  each row filled on first use (p1_row) */
    size_t p1_stride; /* h1, or h1 + d */
    _Atomic unsigned char *p1_state; /* [P]: P1_EMPTY, P1_BUSY (being filled), P1_READY */
    float *w1t; /* [d][h1]: W1[:, d:2d] transposed, for p1_row */
    uint64_t *all; /* [(d + 63) / 64]: every input bit set */
    prefrec_strings code, name, cat_names, sub_names;
    const int32_t *cat, *sub;
    int32_t n_cat, n_sub;
    uint32_t crc;
    const char *affiliate;
    prefrec_model_cost cost;
    uint64_t max_fold_work;
};

#endif
