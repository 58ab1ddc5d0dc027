/* pack_dist.c - the full NeuMF pack of a sharded train, written by every rank at its rows'
 * offsets (pack_dist.h; docs/mpi.md "train"): no rank holds another rank's customers. */
#include "pack_dist.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prefrec/native/atomic.h"
#include "prefrec/pack.h"
#include "rank/rank_dist.h"

/* The customer side's tensors, in the pack's order (neumf_pack.c adds them so). */
enum { T_CODE_OFF, T_CODE_STR, T_EMB, T_BIAS, T_GENDER, T_AGE, T_BOFF, T_BIDX, T_LINES, T_COUNT };

/* ---- places in the one-process order --------------------------------------------------- */

/* One customer as the other ranks see it: its key, its code's bytes (with the NUL) and its
 * bought entries. */
typedef struct place_rec {
    uint64_t key;
    uint32_t code, bought;
} place_rec;

static int cmp_rec(const void *a, const void *b) {
    uint64_t p = ((const place_rec *)a)->key, q = ((const place_rec *)b)->key;
    return (p > q) - (p < q);
}

/* The places' merge: a block of another rank's records (sorted by key) against this rank's. */
typedef struct places_ctx {
    const place_rec *rec; /* this rank's, sorted by key */
    size_t n;
    int me;
    uint64_t *place, *code_before, *bought_before;
} places_ctx;

static int places_visit(void *ctx, int src, const char *blk, size_t len) {
    places_ctx *c = ctx;
    if (src == c->me) return 0; /* this rank's own: counted when the arrays were set */
    const place_rec *o = (const place_rec *)(const void *)blk;
    size_t m = len / sizeof *o, k = 0;
    uint64_t oc = 0, ob = 0;
    for (size_t i = 0; i < c->n; i++) { /* both ascend: one merge */
        place_rec x;
        for (; k < m; k++) {
            memcpy(&x, o + k, sizeof x);
            if (x.key >= c->rec[i].key) break;
            oc += x.code, ob += x.bought;
        }
        c->place[i] += k, c->code_before[i] += oc, c->bought_before[i] += ob;
    }
    return 0;
}

/* Each local customer's place among all ranks' customers (ascending keys) and the code bytes and
 * bought entries of every customer before it: mine (n records, sorted by key) first, then every
 * other rank's block as it passes round the ring (rank_dist_ring_on: a rank holds its block and
 * one other, never every customer), merged against mine. place, code_before and bought_before
 * follow rec's order. Collective: 0 or -1 (the job is stopped). */
static int global_places(prefrec_dist *d, const place_rec *rec, size_t n, uint64_t *place,
                         uint64_t *code_before, uint64_t *bought_before) {
    uint64_t cb = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        place[i] = i, code_before[i] = cb, bought_before[i] = bb;
        cb += rec[i].code, bb += rec[i].bought;
    }
    places_ctx c = {rec, n, prefrec_dist_rank(d), place, code_before, bought_before};
    return rank_dist_ring_on(d, (const char *)rec, n * sizeof *rec, places_visit, &c, NULL);
}

/* ---- writes at offsets, with the CRC of what this rank wrote ---------------------------- */

/* Rows in ascending file offsets, adjacent ones joined in one buffer and written together
 * (pwrite), and the CRC32 of the file as this rank sees it (its bytes, zeros elsewhere) kept as
 * they go: the pack's CRC leaves out its own 4 bytes at PREFREC_PACK_OFF_CRC, so the CRC's
 * stream is the file without them. */
typedef struct pw_out {
    int fd, err; /* err: the errno of a failed write */
    unsigned char *buf;
    size_t cap, n;
    uint64_t at; /* file offset of buf[0] */
    uint64_t spos; /* the stream's bytes taken into crc */
    uint32_t crc;
} pw_out;

static void crc_feed(pw_out *o, uint64_t off, const unsigned char *p, size_t len) {
    const uint64_t c0 = PREFREC_PACK_OFF_CRC, c1 = PREFREC_PACK_OFF_CRC + 4;
    while (len) {
        size_t k;
        if (off >= c0 && off < c1) { /* the CRC field: not in the stream */
            k = (size_t)(c1 - off) < len ? (size_t)(c1 - off) : len;
        } else {
            k = off < c0 && (size_t)(c0 - off) < len ? (size_t)(c0 - off) : len;
            uint64_t s = off < c0 ? off : off - 4;
            o->crc = prefrec_crc32_zeros(o->crc, s - o->spos);
            o->crc = prefrec_crc32(o->crc, p, k);
            o->spos = s + k;
        }
        off += k, p += k, len -= k;
    }
}

static void pw_write(pw_out *o, uint64_t off, const unsigned char *p, size_t len) {
    crc_feed(o, off, p, len);
    while (len && !o->err) {
        ssize_t w = pwrite(o->fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            o->err = w < 0 ? errno : EIO;
            break;
        }
        off += (uint64_t)w, p += w, len -= (size_t)w;
    }
}

static void pw_flush(pw_out *o) {
    if (o->n) pw_write(o, o->at, o->buf, o->n);
    o->n = 0;
}

static void pw_put(pw_out *o, uint64_t off, const void *p, size_t len) {
    if (o->n && (off != o->at + o->n || o->n + len > o->cap)) pw_flush(o);
    if (len > o->cap) {
        pw_write(o, off, p, len);
        return;
    }
    if (!o->n) o->at = off;
    memcpy(o->buf + o->n, p, len);
    o->n += len;
}

/* ---- the pack ------------------------------------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

/* Rank 0: the writer with the item side, the manifest and the customer side deferred; the
 * customer tensors' data offsets into off[T_COUNT] (0: not in the pack) and the size into *end;
 * *head (caller frees) the file's first *hlen bytes. */
static prefrec_status plan(const prefrec_neumf *net, const prefrec_pack_meta *meta, uint64_t C,
                           uint64_t code_bytes, uint64_t nnz, uint64_t *off, uint64_t *end,
                           void **head, size_t *hlen, prefrec_error *err) {
    prefrec_pack_writer *w = prefrec_pack_writer_new();
    uint32_t c = (uint32_t)C, c1 = c + 1, nb = (uint32_t)code_bytes, z = (uint32_t)nnz;
    uint32_t sh2[2] = {c, (uint32_t)net->dim};
    prefrec_status s = w ? nm_pack_item_side(w, net, meta, c, z, err)
                         : prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    size_t first = w ? prefrec_pack_writer_count(w) : 0;
    if (!s)
        s = prefrec_pack_writer_add_deferred(w, "customer.code.off", PREFREC_DT_U32, 1, &c1, err);
    if (!s)
        s = prefrec_pack_writer_add_deferred(w, "customer.code.str", PREFREC_DT_U8, 1, &nb, err);
    if (!s) s = prefrec_pack_writer_add_deferred(w, "customer.emb", PREFREC_DT_F32, 2, sh2, err);
    if (!s) s = prefrec_pack_writer_add_deferred(w, "customer.bias", PREFREC_DT_F32, 1, &c, err);
    if (!s) s = prefrec_pack_writer_add_deferred(w, "customer.gender", PREFREC_DT_I8, 1, &c, err);
    if (!s) s = prefrec_pack_writer_add_deferred(w, "customer.age", PREFREC_DT_F32, 1, &c, err);
    if (!s)
        s = prefrec_pack_writer_add_deferred(w, "customer.bought.off", PREFREC_DT_U32, 1, &c1, err);
    if (!s)
        s = prefrec_pack_writer_add_deferred(w, "customer.bought.idx", PREFREC_DT_I32, 1, &z, err);
    if (!s && meta->customer_lines)
        s = prefrec_pack_writer_add_deferred(w, "customer.lines", PREFREC_DT_F32, 1, &c, err);
    uint64_t *all = NULL;
    if (!s && !(all = malloc((prefrec_pack_writer_count(w) + 1) * sizeof *all)))
        s = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (!s) s = prefrec_pack_writer_head(w, all, end, head, hlen, err);
    for (int t = 0; !s && t < T_COUNT; t++)
        off[t] = first + (size_t)t < prefrec_pack_writer_count(w) ? all[first + (size_t)t] : 0;
    free(all);
    prefrec_pack_writer_free(w);
    return s;
}

prefrec_status nm_pack_save_dist(const prefrec_neumf *net, const prefrec_pack_meta *meta,
                                 prefrec_dist *d, const uint64_t *key, const char *path,
                                 size_t *size_out, prefrec_error *err) {
    const prefrec_train_data *td = meta->data;
    const int root = prefrec_dist_rank(d) == 0, N = prefrec_dist_size(d);
    size_t C = td ? (size_t)td->n_customers : 0, D = (size_t)net->dim;
    if (!td || td->n_customers != net->n_customers || td->n_products != net->n_products)
        return prefrec_dist_agree(
            d,
            prefrec_error_set(err, PREFREC_E_INVAL, "pack: training data do not match the model"),
            0, err);
    uint32_t *boff = NULL, nnz = 0;
    int32_t *bidx = NULL;
    prefrec_status st = nm_pack_bought(td, &boff, &bidx, &nnz, err);
    place_rec *rec = malloc((C + 1) * sizeof *rec);
    uint64_t *pl = malloc((3 * C + 1) * sizeof *pl), *cbf = pl + C, *bbf = pl + 2 * C;
    pw_out o = {-1, 0, malloc((size_t)1 << 20), (size_t)1 << 20, 0, 0, 0, 0};
    int64_t tot[3] = {(int64_t)C, 0, (int64_t)nnz};
    if (!st && (!rec || !pl || !o.buf))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    for (size_t c = 0; !st && c < C; c++) { /* rec[].bought is c until sorted: see below */
        size_t len = strlen(meta->customer_code[c]) + 1;
        rec[c].key = key[c], rec[c].code = (uint32_t)len, rec[c].bought = (uint32_t)c;
        tot[1] += (int64_t)len;
    }
    /* the sizes: integer sums over the ranks */
    if (!(st = prefrec_dist_agree(d, st, 0, err)) &&
        prefrec_dist_allreduce_i64(d, tot, 3, PREFREC_DIST_SUM))
        st = prefrec_error_set(err, PREFREC_E_IO, "pack: summing the sizes over the ranks");
    if (!st &&
        (tot[0] >= (int64_t)UINT32_MAX || tot[1] > (int64_t)UINT32_MAX ||
         tot[2] > (int64_t)UINT32_MAX))
        st = prefrec_error_set(err, PREFREC_E_RANGE,
                               "pack: %lld customers, %lld bytes of codes, %lld bought entries: "
                               "past the pack's 32-bit sizes",
                               (long long)tot[0], (long long)tot[1], (long long)tot[2]);
    /* this rank's customers in key order (the pack's order): rec[].bought carries the local
     * index through the sort, then the bought count the others need */
    size_t *local = malloc((C + 1) * sizeof *local);
    if (!st && !local) st = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (!st) {
        qsort(rec, C, sizeof *rec, cmp_rec);
        for (size_t i = 0; i < C; i++) {
            local[i] = rec[i].bought;
            rec[i].bought = boff[local[i] + 1] - boff[local[i]];
        }
    }
    if (!(st = prefrec_dist_agree(d, st, 0, err)) && global_places(d, rec, C, pl, cbf, bbf))
        st = prefrec_error_set(err, PREFREC_E_IO, "pack: the customers' places over the ranks");
    /* rank 0: the layout, broadcast; the staged file created (empty, its final size) */
    uint64_t lay[T_COUNT + 2] = {0}; /* offsets, end, rank 0's pid (the temp name) */
    void *head = NULL;
    size_t hlen = 0;
    if (!(st = prefrec_dist_agree(d, st, 0, err)) && root)
        st = plan(net, meta, (uint64_t)tot[0], (uint64_t)tot[1], (uint64_t)tot[2], lay,
                  &lay[T_COUNT], &head, &hlen, err);
    lay[T_COUNT + 1] = (uint64_t)getpid();
    char *tmp = malloc(strlen(path) + 32);
    if (!st && !tmp) st = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (!(st = prefrec_dist_agree(d, st, 0, err)) && N > 1 &&
        prefrec_dist_bcast(d, lay, sizeof lay, 0))
        st = prefrec_error_set(err, PREFREC_E_IO, "pack: sending the layout");
    uint64_t end = lay[T_COUNT];
    if (!st)
        snprintf(tmp, strlen(path) + 32, "%s.tmp.%llu", path, (unsigned long long)lay[T_COUNT + 1]);
    int created = 0;
    if (!st && root) {
        o.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        created = o.fd >= 0;
        if (o.fd < 0 || ftruncate(o.fd, (off_t)end))
            st =
                prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    if (!(st = prefrec_dist_agree(d, st, 0, err)) && !root && (o.fd = open(tmp, O_WRONLY)) < 0)
        st = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot open (rank %d): %s", tmp,
                               prefrec_dist_rank(d), strerror(errno));
    /* PREFREC_MPI_FAIL=R:pack (tests/mpi/fail.sh): rank R fails before writing its rows */
    if (!st && prefrec_dist_hook(d, "pack")) { /* the job stops with "rank R: ..." */
        st = prefrec_error_set(err, PREFREC_E_IO,
                               "pack: cannot write its rows (PREFREC_MPI_FAIL, a test hook)");
        prefrec_dist_fail(d, err);
    }
    if (!st) {
        if (root) pw_put(&o, 0, head, hlen); /* header (CRC 0), manifest, table, item side */
        unsigned char b4[4];
        uint64_t last = (uint64_t)tot[0];
        for (int t = 0; t < T_COUNT; t++) {
            uint64_t at = lay[t];
            if (!at) continue; /* customer.lines: not in this pack */
            for (size_t i = 0; i < C; i++) {
                size_t c = local[i];
                uint64_t p = pl[i];
                float f;
                int8_t g;
                switch (t) {
                    case T_CODE_OFF:
                        put_u32(b4, (uint32_t)cbf[i]);
                        pw_put(&o, at + 4 * p, b4, 4);
                        break;
                    case T_CODE_STR:
                        pw_put(&o, at + cbf[i], meta->customer_code[c], rec[i].code);
                        break;
                    case T_EMB:
                        pw_put(&o, at + 4 * D * p, net->cemb + c * D, 4 * D);
                        break;
                    case T_BIAS:
                        pw_put(&o, at + 4 * p, net->cbias + c, 4);
                        break;
                    case T_GENDER:
                        g = nm_pack_gender(td, (uint32_t)c);
                        pw_put(&o, at + p, &g, 1);
                        break;
                    case T_AGE:
                        f = td->age ? td->age[c] : NAN;
                        pw_put(&o, at + 4 * p, &f, 4);
                        break;
                    case T_BOFF:
                        put_u32(b4, (uint32_t)bbf[i]);
                        pw_put(&o, at + 4 * p, b4, 4);
                        break;
                    case T_BIDX:
                        pw_put(&o, at + 4 * bbf[i], bidx + boff[c], 4 * (size_t)rec[i].bought);
                        break;
                    default:
                        pw_put(&o, at + 4 * p, meta->customer_lines + c, 4);
                        break;
                }
            }
            if (root && (t == T_CODE_OFF || t == T_BOFF)) { /* the offsets' last entry */
                put_u32(b4, (uint32_t)tot[t == T_CODE_OFF ? 1 : 2]);
                pw_put(&o, at + 4 * last, b4, 4);
            }
        }
        pw_flush(&o);
        o.crc = prefrec_crc32_zeros(o.crc, end - 4 - o.spos); /* to the stream's end */
        if (!o.err && fsync(o.fd)) o.err = errno;
        if (o.err)
            st = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot write (rank %d): %s", tmp,
                                   prefrec_dist_rank(d), strerror(o.err));
    }
    if (!root && o.fd >= 0) close(o.fd), o.fd = -1;
    /* the file's CRC from the ranks' (linear over GF(2): the XOR of the ranks' CRCs, each of the
     * whole stream with zeros but for its bytes, and the zeros' CRC once more when N is even),
     * written by rank 0 last; then the rename */
    char *all = NULL;
    size_t *cnt = calloc((size_t)N, sizeof *cnt);
    if (!st && !cnt) st = prefrec_error_set(err, PREFREC_E_NOMEM, "pack: out of memory");
    if (!(st = prefrec_dist_agree(d, st, 0, err)) &&
        prefrec_dist_gatherv(d, &o.crc, sizeof o.crc, 0, &all, cnt))
        st = prefrec_error_set(err, PREFREC_E_IO, "pack: gathering the ranks' checksums");
    if (!st && root) {
        uint32_t crc = N % 2 ? 0 : prefrec_crc32_zeros(0, end - 4), x;
        for (int r = 0; r < N; r++) memcpy(&x, all + 4 * (size_t)r, 4), crc ^= x;
        unsigned char b4[4];
        put_u32(b4, crc);
        if (pwrite(o.fd, b4, 4, PREFREC_PACK_OFF_CRC) != 4 || fsync(o.fd) || close(o.fd) ||
            rename(tmp, path))
            st =
                prefrec_error_set(err, PREFREC_E_IO, "%s: cannot write: %s", path, strerror(errno));
        o.fd = -1;
        if (!st) {
            created = 0;
            prefrec_atomic_sync_dir(path); /* the rename itself made durable */
        }
    }
    if (o.fd >= 0) close(o.fd);
    st = prefrec_dist_agree(d, st, 0, err);
    if (created) unlink(tmp); /* a failed rank: no partial pack */
    if (!st && size_out) *size_out = (size_t)end;
    free(all), free(cnt), free(tmp), free(head), free(local);
    free(rec), free(pl), free(o.buf), free(boff), free(bidx);
    return st;
}
