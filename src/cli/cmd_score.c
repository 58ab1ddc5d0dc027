/* cmd_score.c - `prefrec score`: the seed's preference score per (affiliate, customer, product),
 * written as CSV (see prefrec/native/score.h, docs/score.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "prefrec/native/dataset.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"
#include "prefrec/native/shard.h"
#include "prefrec/native/atomic.h"

static const char *usage_text =
    "usage: prefrec score --data PATH [--asof DATE] [--affiliate CODE] [--config FILE] --out FILE\n"
    "  --data PATH       L.POINT directory or mapping .json\n"
    "  --asof DATE       \"today\" (YYYY-MM-DD); purchases on or after it are ignored\n"
    "                    (default 2022-01-01, or the config's \"asof\")\n"
    "  --affiliate CODE  score one affiliate only (e.g. A01); default all\n"
    "  --config FILE     weights and cut points as JSON (docs/score.md)\n"
    "  --out FILE        CSV: affiliate,customer,product,count,last_date,buy_level,clac_share,\n"
    "                    low_clac,range_ratio,range_score,score (written atomically)\n";

/* ---- the streamed merge (docs/mpi.md, "score") ----------------------------------------------
 * Rank 0 writes the one-process CSV from every rank's lines without holding them all: the ranks
 * send their lines in chunks, runs of one (affiliate, customer) in (affiliate, customer key)
 * order, and rank 0 writes, round after round, every run it holds that is not above the
 * smallest "last key received" of the ranks that have more to send (no later run can come
 * before it), then asks (a broadcast) the ranks whose chunk it has written for their next one.
 * The rank with the smallest last key is always among them, so every round writes something;
 * rank 0 holds at most one chunk per rank (2 x N chunks while one arrives). Each rank writes a
 * chunk's text from its scores when asked, so no rank holds its whole share of the CSV either.
 * Chunks rather than a k-way merge over point-to-point messages: the rounds are two collectives
 * (a gather and a broadcast) through src/host/dist.h, no tags or ordering of messages to get
 * right, and the chunk size bounds the memory whatever the data. */

/* A chunk: u64 runs, u64 flags, runs x {affiliate, customer key, bytes of text}, the text. */
enum { CHUNK_LAST = 1, CHUNK_FAILED = 2 };

/* Bytes of text per chunk: 64 MiB / N clamped to [64 KiB, 16 MiB] (rank 0, holding up to
 * 2 x N chunks, then needs at most about 128 MiB for them up to 1,024 ranks), or
 * PREFREC_MPI_CHUNK=BYTES (1 .. 1 GiB; the tests force tiny chunks so that many rounds run). */
static prefrec_status chunk_bytes(int n, size_t *out, prefrec_error *err) {
    size_t b = ((size_t)64 << 20) / (size_t)n;
    if (b < ((size_t)64 << 10)) b = (size_t)64 << 10;
    if (b > ((size_t)16 << 20)) b = (size_t)16 << 20;
    *out = b;
    const char *e = getenv("PREFREC_MPI_CHUNK");
    if (!e || !*e) return PREFREC_OK;
    char *end = NULL;
    unsigned long long v = strtoull(e, &end, 10);
    if (*e < '0' || *e > '9' || *end || v < 1 || v > ((size_t)1 << 30))
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "PREFREC_MPI_CHUNK='%s' is not a byte count in 1 .. %zu", e,
                                 (size_t)1 << 30);
    *out = (size_t)v;
    return PREFREC_OK;
}

/* PREFREC_MPI_FAIL_CHUNK=R:K (a test hook, tests/mpi/stream.sh): rank R fails when asked for
 * its chunk K (0 the first), as an allocation failing there would; *at = K on rank R, else -1. */
static prefrec_status fail_hook(int rank, int *at, prefrec_error *err) {
    const char *e = getenv("PREFREC_MPI_FAIL_CHUNK");
    *at = -1;
    if (!e || !*e) return PREFREC_OK;
    int r = -1, k = -1, used = 0;
    if (sscanf(e, "%d:%d%n", &r, &k, &used) != 2 || e[used] || r < 0 || k < 0)
        return prefrec_error_set(err, PREFREC_E_INVAL,
                                 "PREFREC_MPI_FAIL_CHUNK='%s' is not RANK:CHUNK", e);
    if (r == rank) *at = k;
    return PREFREC_OK;
}

/* A rank's place in its scores: pairs [j, s->n) are still to be sent. */
typedef struct score_cursor {
    const prefrec_scores *s;
    const prefrec_dataset *ds;
    const uint64_t *customer_key;
    size_t j;
    int fail_at; /* PREFREC_MPI_FAIL_CHUNK: this chunk number fails (tests), else -1 */
    int chunks, rank;
    prefrec_dist *d; /* PREFREC_MPI_FAIL=R:merge:K: chunk K of rank R fails (host/dist.h) */
} score_cursor;

/* The next chunk of runs from c, until its text reaches budget bytes (at least one run).
 * *buf (caller frees) and *len; on failure the status with err set and *buf NULL. */
static prefrec_status next_chunk(score_cursor *c, size_t budget, char **buf, size_t *len,
                                 prefrec_error *err) {
    const prefrec_scores *s = c->s;
    char *text = NULL;
    size_t text_len = 0, nr = 0, cap = 0;
    uint64_t *runs = NULL;
    *buf = NULL;
    *len = 0;
    if (c->chunks++ == c->fail_at)
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "rank %d: chunk %d of its score lines failed "
                                 "(PREFREC_MPI_FAIL_CHUNK, a test hook)",
                                 c->rank, c->fail_at);
    if (prefrec_dist_hook(c->d, "merge"))
        return prefrec_error_set(err, PREFREC_E_NOMEM,
                                 "rank %d: out of memory writing its score lines "
                                 "(PREFREC_MPI_FAIL, a test hook)",
                                 c->rank);
    FILE *tf = open_memstream(&text, &text_len);
    int bad = !tf;
    long at = 0;
    while (!bad && c->j < s->n && (nr == 0 || (size_t)at < budget)) {
        size_t j = c->j, k = j + 1;
        while (k < s->n && s->customer[k] == s->customer[j] && s->affiliate[k] == s->affiliate[j])
            k++;
        if (nr == cap) {
            uint64_t *g = realloc(runs, (cap = cap ? 2 * cap : 64) * 3 * sizeof *runs);
            if (!g) {
                bad = 1;
                break;
            }
            runs = g;
        }
        long from = at;
        if (prefrec_scores_write_rows(s, c->ds, j, k, tf) || (at = ftell(tf)) < 0) {
            bad = 1;
            break;
        }
        runs[3 * nr] = (uint64_t)s->affiliate[j];
        runs[3 * nr + 1] = c->customer_key[s->customer[j]];
        runs[3 * nr + 2] = (uint64_t)(at - from);
        nr++;
        c->j = k;
    }
    if (tf && fclose(tf)) bad = 1;
    char *b = bad ? NULL : malloc(16 + 24 * nr + text_len);
    if (b) {
        uint64_t h[2] = {nr, c->j == s->n ? CHUNK_LAST : 0};
        memcpy(b, h, 16);
        if (nr) memcpy(b + 16, runs, 24 * nr);
        if (text_len) memcpy(b + 16 + 24 * nr, text, text_len);
        *buf = b;
        *len = 16 + 24 * nr + text_len;
    }
    free(runs);
    free(text);
    return b ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
}

/* Rank 0's copy of one rank's latest chunk and how far it has been written. */
typedef struct pending_chunk {
    char *buf;
    uint64_t runs, at; /* runs in the chunk; the next one to write */
    size_t text; /* offset of the next run's text in buf */
    uint64_t last[2]; /* (affiliate, key) of the chunk's last run */
    int done; /* the rank has sent its last chunk */
} pending_chunk;

static int key_less(const uint64_t *a, const uint64_t *b) {
    return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]);
}

/* Take a rank's chunk (len bytes at b) into p: 0; 1 when the rank failed; -1 when it is not a
 * chunk; -2 out of memory. */
static int take_chunk(pending_chunk *p, const char *b, size_t len) {
    uint64_t h[2], sum = 0;
    if (len < 16) return -1;
    memcpy(h, b, 16);
    if (h[1] & CHUNK_FAILED) return 1;
    if (h[0] > (len - 16) / 24) return -1;
    for (uint64_t i = 0; i < h[0]; i++) {
        uint64_t v[3];
        memcpy(v, b + 16 + 24 * i, 24);
        sum += v[2];
    }
    if (sum != len - 16 - 24 * h[0] || (h[0] == 0 && !(h[1] & CHUNK_LAST))) return -1;
    free(p->buf);
    if (!(p->buf = malloc(len))) return -2;
    memcpy(p->buf, b, len);
    p->runs = h[0];
    p->at = 0;
    p->text = 16 + 24 * h[0];
    p->done = (h[1] & CHUNK_LAST) != 0;
    if (h[0]) memcpy(p->last, b + 16 + 24 * (h[0] - 1), 16);
    return 0;
}

/* Write every pending run that no rank can still precede, in (affiliate, key) order: all of
 * them once every rank has sent its last chunk, else those not above the smallest last key of
 * the ranks with more to send. Returns 1 when nothing is left to write or receive. */
static int merge_some(pending_chunk *p, int n, FILE *f) {
    const uint64_t *lim = NULL;
    for (int r = 0; r < n; r++)
        if (!p[r].done && (!lim || key_less(p[r].last, lim))) lim = p[r].last;
    for (;;) {
        int best = -1;
        uint64_t bk[3] = {0, 0, 0};
        for (int r = 0; r < n; r++) {
            if (p[r].at == p[r].runs) continue;
            uint64_t v[3];
            memcpy(v, p[r].buf + 16 + 24 * p[r].at, 24);
            if (best < 0 || key_less(v, bk)) best = r, memcpy(bk, v, sizeof bk);
        }
        if (best < 0 || (lim && key_less(lim, bk))) break;
        fwrite(p[best].buf + p[best].text, 1, (size_t)bk[2], f);
        p[best].text += (size_t)bk[2];
        p[best].at++;
    }
    int left = 0;
    for (int r = 0; r < n; r++) {
        if (p[r].at == p[r].runs) {
            free(p[r].buf);
            p[r].buf = NULL;
        }
        if (!p[r].done || p[r].at < p[r].runs) left = 1;
    }
    return !left;
}

/* The rounds (collective): rank 0 writes out atomically from every rank's cursor. Returns this
 * rank's own failure (rank 0: also the file's); a failure on another rank makes rank 0 stop and
 * drop the file, and that rank's message reaches everyone through prefrec_dist_agree after. */
static prefrec_status stream_write(prefrec_dist *d, const char *out, score_cursor *c, size_t budget,
                                   prefrec_error *err) {
    const int n = prefrec_dist_size(d), me = prefrec_dist_rank(d);
    prefrec_atomic at = {0};
    unsigned char *msg = calloc(1 + (size_t)n, 1); /* stop, then "send your next chunk" per rank */
    pending_chunk *p = me == 0 ? calloc((size_t)n, sizeof *p) : NULL;
    size_t *cnt = calloc((size_t)n, sizeof *cnt);
    prefrec_status st = !msg || !cnt || (me == 0 && !p)
        ? prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory")
        : PREFREC_OK;
    if ((st = prefrec_dist_agree(d, st, 0, err))) goto done;
    int gone = 0; /* rank 0: 1 a rank (or the file) failed, 2 everything is written */
    if (me == 0) {
        if (!(st = prefrec_atomic_open(&at, out, err))) fputs(PREFREC_SCORES_CSV_HEADER, at.f);
        memset(msg + 1, 1, (size_t)n);
    }
    for (;;) {
        if (me == 0) msg[0] = st != PREFREC_OK || gone;
        if (prefrec_dist_bcast(d, msg, 1 + (size_t)n, 0)) {
            if (!st) st = prefrec_error_set(err, PREFREC_E_IO, "%s: sending the lines failed", out);
            break;
        }
        if (msg[0]) break;
        char *buf = NULL, *all = NULL;
        size_t len = 0;
        uint64_t failed[2] = {0, CHUNK_FAILED};
        if (msg[1 + me] && (st = next_chunk(c, budget, &buf, &len, err))) len = 16; /* say so */
        int rc = prefrec_dist_gatherv(d, buf ? buf : (char *)failed, len, 0, &all, cnt);
        free(buf);
        if (rc) {
            if (!st)
                st = prefrec_error_set(err, PREFREC_E_IO, "%s: gathering the lines failed", out);
            free(all);
            break;
        }
        if (me == 0) {
            size_t off = 0;
            for (int r = 0; r < n && !st && !gone; off += cnt[r], r++) {
                if (!cnt[r]) continue;
                int t = take_chunk(&p[r], all + off, cnt[r]);
                if (t == -1)
                    st = prefrec_error_set(err, PREFREC_E_IO, "%s: rank %d sent a bad chunk", out,
                                           r);
                else if (t == -2)
                    st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
                else if (t == 1)
                    gone = 1; /* that rank says why */
            }
            if (!st && !gone && merge_some(p, n, at.f)) gone = 2;
            if (ferror(at.f)) gone = 1; /* the commit below names the error */
            for (int r = 0; r < n; r++) msg[1 + r] = !p[r].done && p[r].at == p[r].runs;
        }
        free(all);
    }
    if (me == 0 && at.f) {
        if (!st && (gone == 2 || ferror(at.f)))
            st = prefrec_atomic_commit(&at, err); /* a write error: named, the file removed */
        else
            prefrec_atomic_abort(&at);
    }
done:
    if (p)
        for (int r = 0; r < n; r++) free(p[r].buf);
    free(p);
    free(msg);
    free(cnt);
    return st;
}

/* `mpirun -n N prefrec score` (the native-mpi build, docs/mpi.md): each rank scores its
 * customers; rank 0 writes the merged CSV, byte for byte the one-process file. */
static int score_sharded(const char *data, const prefrec_score_params *p, const char *aff,
                         const char *out) {
    prefrec_dist *d = cli_dist();
    const int root = prefrec_dist_rank(d) == 0, n = prefrec_dist_size(d);
    prefrec_error err = {0};
    prefrec_shard_info info;
    prefrec_dataset *ds = NULL;
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    prefrec_status st = prefrec_dataset_load_sharded(data, &lp, d, &ds, &info, &err);
    if (st) return root ? cli_fail("score", &err) : 1;
    double t1 = cli_now();
    int ai = -1;
    if (aff && (ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff))) < 0) {
        if (root) {
            fprintf(stderr, "prefrec score: error: affiliate '%s' not in %s (has:", aff, data);
            for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++)
                fprintf(stderr, " %s", prefrec_dict_str(ds->affiliates, k));
            fprintf(stderr, ")\n");
        }
        prefrec_shard_info_free(&info);
        prefrec_dataset_free(ds);
        return 1;
    }
    prefrec_scores *s = NULL;
    st = prefrec_dist_agree(d, prefrec_scores_compute_dist(ds, p, ai, d, &s, &err), 0, &err);
    double t2 = cli_now();
    /* the lines go to rank 0 in chunks, written as they come (stream_write) */
    size_t budget = 0;
    if (!st) st = chunk_bytes(n, &budget, &err);
    score_cursor cur = {s, ds, info.customer_key, 0, -1, 0, prefrec_dist_rank(d), d};
    if (!st) st = fail_hook(prefrec_dist_rank(d), &cur.fail_at, &err);
    int64_t pairs = s ? (int64_t)s->n : 0;
    if (!(st = prefrec_dist_agree(d, st, 0, &err))) {
        st = stream_write(d, out, &cur, budget, &err); /* may differ per rank: agreed below */
        if (prefrec_dist_allreduce_i64(d, &pairs, 1, PREFREC_DIST_SUM) && !st)
            st = prefrec_error_set(&err, PREFREC_E_IO, "summing the pairs failed");
        st = prefrec_dist_agree(d, st, 0, &err);
    }
    double t3 = cli_now();
    char dd[11];
    if (!st && root)
        fprintf(stderr,
                "prefrec score: %llu rows loaded by %d ranks in %.3f s; %lld pairs scored as of "
                "%s in %.3f s; written to %s in %.3f s\n",
                (unsigned long long)info.rows_total, n, t1 - t0, (long long)pairs,
                prefrec_date_format(p->asof_day, dd), t2 - t1, out, t3 - t2);
    prefrec_scores_free(s);
    if (!st) cli_dist_report("score", &info);
    prefrec_shard_info_free(&info);
    prefrec_dataset_free(ds);
    return st ? (root ? cli_fail("score", &err) : 1) : 0;
}

int prefrec_cmd_score(int argc, char **argv) {
    const char *data = NULL, *asof = NULL, *aff = NULL, *config = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((v = cli_opt_value(argc, argv, &i, "--data", &missing)))
            data = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--asof", &missing)))
            asof = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--affiliate", &missing)))
            aff = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--config", &missing)))
            config = v;
        else if ((v = cli_opt_value(argc, argv, &i, "--out", &missing)))
            out = v;
        else if (missing)
            return cli_usage_error("score", usage_text, "%s needs a value", argv[i]);
        else
            return cli_usage_error("score", usage_text, "unknown option '%s'", argv[i]);
    }
    if (!data) return cli_usage_error("score", usage_text, "--data is required");
    if (!out) return cli_usage_error("score", usage_text, "--out is required");

    prefrec_error err = {0};
    prefrec_score_params p = prefrec_score_default_params();
    if (config && prefrec_score_params_load_json(config, &p, &err)) return cli_fail("score", &err);
    if (asof && prefrec_date_parse(asof, strlen(asof), &p.asof_day))
        return cli_usage_error("score", usage_text, "--asof '%s' is not a date (YYYY-MM-DD)", asof);

    if (CLI_SHARDED()) return score_sharded(data, &p, aff, out);
    double t0 = cli_now();
    prefrec_load_params lp = prefrec_load_default_params();
    lp.progress = cli_stderr_is_tty();
    prefrec_dataset *ds = NULL;
    if (prefrec_dataset_load(data, &lp, &ds, &err)) return cli_fail("score", &err);
    double t1 = cli_now();
    int ai = -1;
    if (aff) {
        ai = prefrec_dict_find(ds->affiliates, aff, strlen(aff));
        if (ai < 0) {
            fprintf(stderr, "prefrec score: error: affiliate '%s' not in %s (has:", aff, data);
            for (int32_t k = 0; k < prefrec_dict_size(ds->affiliates); k++)
                fprintf(stderr, " %s", prefrec_dict_str(ds->affiliates, k));
            fprintf(stderr, ")\n");
            prefrec_dataset_free(ds);
            return 1;
        }
    }
    prefrec_scores *s = NULL;
    if (prefrec_scores_compute(ds, &p, ai, &s, &err)) {
        prefrec_dataset_free(ds);
        return cli_fail("score", &err);
    }
    double t2 = cli_now();
    prefrec_status st = prefrec_scores_write_csv(s, ds, out, &err);
    double t3 = cli_now();
    char d[11];
    if (!st)
        fprintf(stderr,
                "prefrec score: %zu rows loaded in %.3f s; %zu pairs scored as of %s in "
                "%.3f s; written to %s in %.3f s\n",
                ds->n_rows, t1 - t0, s->n, prefrec_date_format(p.asof_day, d), t2 - t1, out,
                t3 - t2);
    prefrec_scores_free(s);
    prefrec_dataset_free(ds);
    return st ? cli_fail("score", &err) : 0;
}
