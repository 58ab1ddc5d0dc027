/* neumf.h - the NeuMF network's training-time state and its forward/backward pass (internal to
 * src/train; tests include it for the gradient check).
 *
 * Parameters live in three places: the customer table ctab [C][d+1] and the product table
 * ptab [P][d+1] (embedding followed by the bias, so one row is one sparse update), and one
 * flat dense vector (all MLP weights and biases, w_g, w_m, b_0) described by nm_layout. */
#ifndef PREFREC_TRAIN_NEUMF_H
#define PREFREC_TRAIN_NEUMF_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "prefrec/native/train.h"

#define NM_CHUNK 32 /* pairs per gradient chunk: fixed, so sums do not depend on threads */

/* Kernel paths for the dense products of a chunk (chosen once per network, see nm_kernel_set):
 * NM_KERN_PORTABLE multiplies then adds (two roundings, the arithmetic of the scalar code);
 * NM_KERN_AVX2 (AVX2 + FMA) and NM_KERN_AVX512 (AVX-512F) use fused multiply-adds and give the
 * same bits as each other: every output is one chain of FMAs in the same order, only the number
 * of outputs per instruction differs. */
enum { NM_KERN_PORTABLE = 0, NM_KERN_AVX2 = 1, NM_KERN_AVX512 = 2, NM_KERN_COUNT = 3 };

typedef void (*nm_gemm_fn)(int M, int N, int K, const float *A, ptrdiff_t sam, ptrdiff_t sak,
                           const float *B, ptrdiff_t ldb, float *C, ptrdiff_t ldc);

typedef struct nm_net nm_net;
typedef double (*nm_chunk_fn)(const nm_net *n, const int32_t *cust, const int32_t *prod,
                              const float *target, const uint32_t *idx, size_t cnt, float scale,
                              float *gdense, float *grow_c, float *grow_p, float *scratch,
                              double *sse);
typedef void (*nm_predict_fn)(const nm_net *n, const int32_t *cust, const int32_t *prod,
                              const uint32_t *idx, size_t cnt, float *y, float *scratch);

typedef struct nm_layout {
    int d, n_layers, width[PREFREC_MODEL_MAX_LAYERS], in[PREFREC_MODEL_MAX_LAYERS], wmax;
    size_t off_w[PREFREC_MODEL_MAX_LAYERS], off_b[PREFREC_MODEL_MAX_LAYERS];
    size_t off_wg, off_wm, off_b0, n_dense;
} nm_layout;

struct nm_net {
    nm_layout L;
    int32_t C, P;
    float *ctab, *ptab; /* [C][d+1], [P][d+1] */
    float *dense; /* [n_dense] */
    float *wt[PREFREC_MODEL_MAX_LAYERS]; /* transposed copies [in][out], kept in sync by nm_sync */
    float *demo; /* [C][PREFREC_MODEL_N_DEMO] */
    float l2;
    int kern; /* NM_KERN_*: set by nm_net_alloc to the best this CPU runs */
    nm_gemm_fn gemm;
    nm_chunk_fn chunk; /* nm_chunk and nm_predict_batch on kernel kern */
    nm_predict_fn predict;
};

/* The best kernel this CPU supports, or the one named by the environment variable
 * PREFREC_KERNEL (portable, avx2, avx512) when set and supported. */
int nm_kernel_best(void);
/* Whether this CPU can run kernel k; its name ("portable", "avx2", "avx512"). */
int nm_kernel_supported(int k);
const char *nm_kernel_name(int k);
/* Use kernel k for this network; -1 (and no change) if this CPU cannot run it. */
int nm_kernel_set(nm_net *n, int k);
/* C[m][c] += sum over k = 0..K-1, in that order, of A[m*sam + k*sak] * B[k*ldb + c], for m < M,
 * c < N, with kernel k's arithmetic (exposed for the tests). */
nm_gemm_fn nm_kernel_gemm(int k);
/* The same product overwriting C: each output's chain starts from +0 instead of C's value (the
 * bits of zeroing C first); C's old values are not read. */
nm_gemm_fn nm_kernel_gemm0(int k);

/* Per-thread scratch for nm_chunk (sized by nm_scratch_size floats). */
size_t nm_scratch_size(const nm_layout *L);

/* Zeroed memory aligned to a cache line (64 bytes), released with free(); NULL when out of
 * memory. Tables whose rows threads update side by side start on a line, so a block of 16 rows of
 * d+1 = 33 floats is whole lines (no line shared between two threads' blocks). */
void *nm_zalloc64(size_t bytes);

void nm_layout_init(nm_layout *L, int d, int n_layers, const int *width);
/* Flops of the dense products of one training pair (forward, weight gradients, input
 * gradients; a multiply-add is 2): the work the roofline figures divide. */
double nm_flops_per_pair(const nm_layout *L);
/* Allocate a network with zeroed parameters and demographics from gender/age (may be NULL). */
prefrec_status nm_net_alloc(nm_net *n, const nm_layout *L, int32_t C, int32_t P,
                            const int8_t *gender, const float *age, prefrec_error *err);
void nm_net_free(nm_net *n);
/* Seeded initialisation (embeddings N(0, std), He-normal MLP, output weights, b_0 = mean). */
void nm_net_init(nm_net *n, uint64_t seed, float std, float mean_target);
/* Refresh the transposed weight copies after dense changes (all, or those of the dense
 * parameters [lo, hi): threads refreshing disjoint ranges write disjoint entries). */
void nm_sync(nm_net *n);
void nm_sync_range(nm_net *n, size_t lo, size_t hi);

/* Forward + backward over pairs idx[0..n) (positions into cust/prod/target). Writes the dense
 * gradient of (scale * sum of per-pair losses) to gdense (whatever it held: the same bits as
 * summing into zeros) and writes each pair's row gradients to grow_c[k][d+1] / grow_p[k][d+1]. Returns the sum over the pairs of
 * (pred - target)^2 (without the L2 term) in *sse and with it as the return value. */
double nm_chunk(const nm_net *n, const int32_t *cust, const int32_t *prod, const float *target,
                const uint32_t *idx, size_t cnt, float scale, float *gdense, float *grow_c,
                float *grow_p, float *scratch, double *sse);

/* Unclamped prediction for (c, p), scalar (the reference for the tests). */
float nm_predict(const nm_net *n, int32_t c, int32_t p, float *scratch);
/* Unclamped predictions y[k] for pairs idx[0..cnt) with the network's kernel (the trainer's
 * validation); the same numbers the forward pass of nm_chunk computes. */
void nm_predict_batch(const nm_net *n, const int32_t *cust, const int32_t *prod,
                      const uint32_t *idx, size_t cnt, float *y, float *scratch);

/* The network's weights copied into the public form (prefrec_neumf_free frees it). */
prefrec_status nm_export(const nm_net *n, uint64_t seed, prefrec_neumf **out, prefrec_error *err);

/* Adam on n parameters p with gradient g and moments m, v: the update both trainers take (lr_t:
 * the step's rate with beta1's bias correction; bc2: 1 / sqrt(1 - beta2^t)). Inline, so each
 * caller's loop (and each of its target clones) vectorises it in place. */
#define NM_ADAM_B1 0.9f
#define NM_ADAM_B2 0.999f
#define NM_ADAM_EPS 1e-8f
static inline void nm_adam(float *restrict p, float *restrict m, float *restrict v,
                           const float *restrict g, size_t n, float lr_t, float bc2) {
    for (size_t q = 0; q < n; q++) {
        float gq = g[q];
        float mq = NM_ADAM_B1 * m[q] + (1.0f - NM_ADAM_B1) * gq;
        float vq = NM_ADAM_B2 * v[q] + (1.0f - NM_ADAM_B2) * gq * gq;
        m[q] = mq;
        v[q] = vq;
        p[q] -= lr_t * mq / (sqrtf(vq) * bc2 + NM_ADAM_EPS);
    }
}

/* The end of an epoch, the same in both trainers: the progress line (tp->verbose), the
 * report's epoch count and log, and early stopping on the validation RMSE vr (every epoch is
 * the best when there is no validation pair: has_valid 0). Returns NM_EPOCH_BEST when this
 * epoch is the best so far (the caller keeps a copy of the weights), NM_EPOCH_STOP when
 * tp->patience epochs in a row were not, else NM_EPOCH_ON. */
enum { NM_EPOCH_ON, NM_EPOCH_BEST, NM_EPOCH_STOP };
int nm_epoch_end(const prefrec_train_params *tp, prefrec_train_report *rep, int epoch, double loss,
                 double vr, double dt, int has_valid, double *best_v, int *bad);

/* ---- data-parallel training over the ranks of an MPI job (trainer_dist.c, docs/mpi.md) ----
 * td: this rank's pairs (its own customers 0..n_customers-1, products in the pack's indices,
 * the same n_products on every rank); is_valid[i]: pair i is a validation pair (the one-process
 * split). Every step, each rank computes the gradient of its share of the step's pairs; the
 * dense and product-row gradients are summed over the ranks in rank order and every rank takes
 * the same Adam step; customer rows are stepped by their owner only. Deterministic for a given
 * number of ranks and seed (one thread per rank; tp->threads is not used). *out holds this
 * rank's customers and the (identical) item side. Collective. */
typedef struct prefrec_dist prefrec_dist;
prefrec_status nm_train_dist(const prefrec_train_data *td, const uint8_t *is_valid, prefrec_dist *d,
                             const prefrec_train_params *tp, prefrec_neumf **out,
                             prefrec_train_report *rep, prefrec_error *err);

#endif
