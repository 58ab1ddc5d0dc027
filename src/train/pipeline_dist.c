/* pipeline_dist.c - `prefrec train` on N ranks (mpirun -n N prefrec train, docs/mpi.md): each
 * affiliate scored, split, trained and written where its customers are; what it shares with the
 * one-process path (pipeline.c) is in pipeline_internal.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/dist.h"
#include "neumf.h"
#include "pack_dist.h"
#include "pipeline_internal.h"
#include "prefrec/native/blend_export.h"
#include "prefrec/date.h"
#include "rank/rank_dist.h"

/* ---- the sharded path (mpirun -n N prefrec train, docs/mpi.md) --------------------------------
 * Each rank scores its own customers (prefrec_scores_compute_dist), flags its own pairs for
 * validation (prefrec_train_split_valid: a hash of the codes, the one-process flag) and trains the
 * NeuMF on them data-parallel (trainer_dist.c); the pack's products and their mean scores are
 * sums over the ranks (integer counts, exact sums), so nothing is gathered before training.
 * After it every rank writes its customers' rows of the pack (pack_dist.c). Only --dump-pairs
 * gathers the pairs to rank 0, in the one-process order (customers by customer_key, products as
 * scored: pack_records, merge_records, dump_dist). Records: per customer, key u64, pairs u32,
 * gender i32, age f32, code length u32, the code's bytes; per pair, product i32 (the pack's
 * index) and target f32 (memcpy'd: no alignment). */
enum { CUST_REC = 24, PAIR_REC = 8 };

/* This rank's customers and pairs of scores sc as records (products mapped by pmap). */
static prefrec_status pack_records(const prefrec_dataset *ds, const uint64_t *customer_key,
                                   const prefrec_scores *sc, const int32_t *pmap, char **cbuf,
                                   size_t *clen, char **pbuf, size_t *plen, prefrec_error *err) {
    FILE *cf = open_memstream(cbuf, clen);
    *pbuf = malloc(sc->n * PAIR_REC + 1);
    *plen = sc->n * PAIR_REC;
    if (!cf || !*pbuf) {
        if (cf) fclose(cf);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    }
    for (size_t j = 0; j < sc->n;) {
        size_t k = j + 1;
        int32_t c = sc->customer[j];
        while (k < sc->n && sc->customer[k] == c) k++;
        const char *code = prefrec_dict_str(ds->customers, c);
        uint64_t key = customer_key[c];
        uint32_t np = (uint32_t)(k - j), len = (uint32_t)strlen(code);
        int32_t g = ds->has_demographics && ds->gender ? ds->gender[c] : PREFREC_GENDER_UNKNOWN;
        float age = ds->has_demographics && ds->age ? ds->age[c] : NAN;
        char rec[CUST_REC];
        memcpy(rec, &key, 8), memcpy(rec + 8, &np, 4), memcpy(rec + 12, &g, 4);
        memcpy(rec + 16, &age, 4), memcpy(rec + 20, &len, 4);
        fwrite(rec, 1, CUST_REC, cf);
        fwrite(code, 1, len, cf);
        for (size_t i = j; i < k; i++) {
            memcpy(*pbuf + i * PAIR_REC, &pmap[sc->product[i]], 4);
            memcpy(*pbuf + i * PAIR_REC + 4, &sc->score[i], 4);
        }
        j = k;
    }
    if (fclose(cf)) return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    return PREFREC_OK;
}

/* The pack's products: those any rank scored, ascending by id (build_set's order), from the
 * pair counts per product summed over the ranks. *pmap (caller frees): product id -> pack
 * index or -1; *P their count. Collective. */
static prefrec_status pack_products(const prefrec_dataset *ds, const prefrec_scores *sc,
                                    prefrec_dist *d, int32_t **pmap, int32_t *P,
                                    prefrec_error *err) {
    int32_t NP = prefrec_dict_size(ds->products);
    int64_t *cnt = calloc((size_t)NP + 1, sizeof *cnt);
    *pmap = malloc(((size_t)NP + 1) * sizeof **pmap);
    prefrec_status st =
        cnt && *pmap ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    if (!(st = prefrec_dist_agree(d, st, 0, err))) {
        for (size_t i = 0; i < sc->n; i++) cnt[sc->product[i]]++;
        if (prefrec_dist_allreduce_i64(d, cnt, (size_t)NP, PREFREC_DIST_SUM))
            st =
                prefrec_error_set(err, PREFREC_E_IO, "train: counting the products over the ranks");
    }
    *P = 0;
    for (int32_t g = 0; !st && g < NP; g++) (*pmap)[g] = cnt[g] > 0 ? (*P)++ : -1;
    free(cnt);
    if (st) free(*pmap), *pmap = NULL;
    return st;
}

/* Rank 0: the ranks' records merged into the affiliate's set, as build_set makes it from the
 * one-process scores (customers ascending in the one-process order, products ascending by id:
 * pmap, P of pack_products), with the split (pl_set_split). *arena (caller frees) holds the
 * customer codes; *csrc_out (caller frees): per customer, the rank it came from and its place
 * there. */
static prefrec_status merge_records(const prefrec_dataset *ds, const prefrec_train_params *tp,
                                    int n, const char *call, const size_t *ccnt, const char *pall,
                                    const size_t *pcnt, const int32_t *pmap, int32_t P, aff_set *a,
                                    char **arena, int32_t **csrc_out, prefrec_error *err) {
    memset(a, 0, sizeof *a);
    *arena = NULL, *csrc_out = NULL;
    size_t *ci = calloc(5 * (size_t)n, sizeof *ci), *pi = ci + n, *cb = ci + 2 * n,
           *pb = ci + 3 * n, *ck = ci + 4 * n;
    size_t C = 0, N = 0, bytes = 0;
    int32_t *csrc = NULL;
    if (!ci) goto nomem;
    for (int r = 0; r < n; r++) {
        if (r) cb[r] = cb[r - 1] + ccnt[r - 1], pb[r] = pb[r - 1] + pcnt[r - 1];
        N += pcnt[r] / PAIR_REC;
        for (size_t at = 0; at < ccnt[r]; C++) {
            uint32_t len;
            memcpy(&len, call + cb[r] + at + 20, 4);
            at += CUST_REC + len, bytes += len + 1;
        }
    }
    a->cust = malloc(N * sizeof *a->cust + 1);
    a->prod = malloc(N * sizeof *a->prod + 1);
    a->target = malloc(N * sizeof *a->target + 1);
    a->cglob = malloc(C * sizeof *a->cglob + 1);
    a->gender = malloc(C + 1);
    a->age = malloc(C * sizeof *a->age + 1);
    a->ccode = malloc(C * sizeof *a->ccode + 1);
    *arena = malloc(bytes + 1);
    csrc = malloc(2 * C * sizeof *csrc + 1);
    if (!a->cust || !a->prod || !a->target || !a->cglob || !a->gender || !a->age || !a->ccode ||
        !*arena || !csrc)
        goto nomem;
    char *w = *arena;
    size_t i = 0;
    for (int32_t c = 0; (size_t)c < C; c++) {
        int best = -1;
        uint64_t bk = 0;
        for (int r = 0; r < n; r++) {
            uint64_t k;
            if (ci[r] >= ccnt[r]) continue;
            memcpy(&k, call + cb[r] + ci[r], 8);
            if (best < 0 || k < bk) best = r, bk = k;
        }
        const char *rec = call + cb[best] + ci[best];
        uint32_t np, len;
        int32_t g;
        memcpy(&np, rec + 8, 4), memcpy(&g, rec + 12, 4), memcpy(a->age + c, rec + 16, 4);
        memcpy(&len, rec + 20, 4);
        memcpy(w, rec + CUST_REC, len);
        w[len] = '\0';
        a->ccode[c] = w, w += len + 1;
        a->gender[c] = (int8_t)g;
        a->cglob[c] = c;
        csrc[2 * c] = best, csrc[2 * c + 1] = (int32_t)ck[best]++;
        ci[best] += CUST_REC + len;
        for (uint32_t k = 0; k < np; k++, i++, pi[best] += PAIR_REC) {
            a->cust[i] = c;
            memcpy(a->prod + i, pall + pb[best] + pi[best], 4);
            memcpy(a->target + i, pall + pb[best] + pi[best] + 4, 4);
        }
    }
    if (pl_product_side(ds, pmap, P, a)) goto nomem;
    free(ci);
    prefrec_train_data td = {N, a->cust,   a->prod, a->target, (int32_t)C,
                             P, a->gender, a->age,  NULL};
    a->td = td;
    prefrec_status st = pl_set_split(a, tp, err);
    if (st) {
        free(csrc);
        free(*arena);
        *arena = NULL;
        pl_aff_free(a);
        return st;
    }
    *csrc_out = csrc;
    return PREFREC_OK;
nomem:
    free(ci), free(csrc);
    free(*arena);
    *arena = NULL;
    pl_aff_free(a);
    return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
}

/* This rank's training data from its scores: customers in the order of its records (cglob,
 * ccode: their ids and codes), products in the pack's indices (pmap), the split's flags
 * (prefrec_train_split_valid of the codes).
 * Arrays owned by l (pl_aff_free). */
static prefrec_status local_set(const prefrec_dataset *ds, const prefrec_scores *sc,
                                const int32_t *pmap, int32_t P, const prefrec_train_params *tp,
                                aff_set *l, prefrec_error *err) {
    memset(l, 0, sizeof *l);
    size_t C = 0;
    for (size_t j = 0; j < sc->n; j++)
        if (j == 0 || sc->customer[j] != sc->customer[j - 1]) C++;
    l->cust = malloc(sc->n * sizeof *l->cust + 1);
    l->prod = malloc(sc->n * sizeof *l->prod + 1);
    l->target = malloc(sc->n * sizeof *l->target + 1);
    l->valid = malloc(sc->n + 1);
    l->gender = malloc(C + 1);
    l->age = malloc(C * sizeof *l->age + 1);
    l->cglob = malloc(C * sizeof *l->cglob + 1);
    l->ccode = malloc(C * sizeof *l->ccode + 1);
    if (!l->cust || !l->prod || !l->target || !l->valid || !l->gender || !l->age || !l->cglob ||
        !l->ccode) {
        pl_aff_free(l);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    }
    int32_t c = -1;
    for (size_t j = 0; j < sc->n; j++) {
        int32_t g = sc->customer[j];
        if (j == 0 || g != sc->customer[j - 1]) {
            c++;
            l->cglob[c] = g;
            l->ccode[c] = prefrec_dict_str(ds->customers, g);
            l->gender[c] = (int8_t)(ds->has_demographics && ds->gender ? ds->gender[g]
                                                                       : PREFREC_GENDER_UNKNOWN);
            l->age[c] = ds->has_demographics && ds->age ? ds->age[g] : NAN;
        }
        l->cust[j] = c;
        l->prod[j] = pmap[sc->product[j]];
        l->target[j] = sc->score[j];
        l->valid[j] = (uint8_t)prefrec_train_split_valid(
            tp->seed, prefrec_dict_str(ds->customers, g),
            prefrec_dict_str(ds->products, sc->product[j]), tp->valid_frac);
    }
    prefrec_train_data td = {sc->n, l->cust,   l->prod, l->target, (int32_t)C,
                             P,     l->gender, l->age,  l->valid};
    l->td = td;
    return PREFREC_OK;
}

/* This rank's customers' purchase lines in affiliate ai before asof, in the order of their
 * scores (local_set's customer order): *lines (caller frees). */
static prefrec_status local_lines(const prefrec_dataset *ds, const prefrec_scores *sc, int32_t ai,
                                  int32_t asof, float **lines, prefrec_error *err) {
    int32_t NC = prefrec_dict_size(ds->customers), C = 0;
    int32_t *cmap = malloc(((size_t)NC + 1) * sizeof *cmap);
    *lines = calloc(sc->n + 1, sizeof **lines);
    if (!cmap || !*lines) {
        free(cmap);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    }
    for (int32_t g = 0; g < NC; g++) cmap[g] = -1;
    for (size_t j = 0; j < sc->n; j++)
        if (j == 0 || sc->customer[j] != sc->customer[j - 1]) cmap[sc->customer[j]] = C++;
    for (size_t r = 0; r < ds->n_rows; r++)
        if (ds->affiliate[r] == ai && ds->day[r] < asof && cmap[ds->customer[r]] >= 0)
            (*lines)[cmap[ds->customer[r]]] += 1.0f;
    free(cmap);
    return PREFREC_OK;
}

/* --dump-pairs of a sharded run: the ranks' pairs gathered to rank 0 and merged into the
 * one-process order (merge_records), which writes them (the one output of train whose every
 * pair goes through rank 0: a debugging aid, asked for by name). Collective. */
static prefrec_status dump_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                prefrec_dist *d, const prefrec_pipeline_params *p,
                                const prefrec_train_params *tp, const char *code,
                                const prefrec_scores *sc, const int32_t *pmap, int32_t P,
                                prefrec_error *err) {
    const int root = prefrec_dist_rank(d) == 0, n = prefrec_dist_size(d);
    char *cbuf = NULL, *pbuf = NULL, *call = NULL, *pall = NULL, *arena = NULL, *path = NULL;
    int32_t *csrc = NULL;
    size_t clen = 0, plen = 0, *cnt = calloc(2 * (size_t)n, sizeof *cnt);
    aff_set a;
    memset(&a, 0, sizeof a);
    prefrec_status st =
        cnt ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    if (!st) st = pack_records(ds, customer_key, sc, pmap, &cbuf, &clen, &pbuf, &plen, err);
    if (!(st = prefrec_dist_agree(d, st, 0, err)) &&
        (prefrec_dist_gatherv(d, cbuf, clen, 0, &call, cnt) ||
         prefrec_dist_gatherv(d, pbuf, plen, 0, &pall, cnt + n)))
        st = prefrec_error_set(err, PREFREC_E_IO, "train: gathering the pairs to rank 0 failed");
    if (!st && root)
        st = merge_records(ds, tp, n, call, cnt, pall, cnt + n, pmap, P, &a, &arena, &csrc, err);
    if (!st && root) {
        size_t plen2 = strlen(p->dump_dir) + strlen(code) + 16;
        if (!(path = malloc(plen2))) st = prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory");
        if (!st) snprintf(path, plen2, "%s/%s.pairs.csv", p->dump_dir, code);
        if (!st) st = pl_dump_pairs(&a, path, err);
    }
    pl_aff_free(&a);
    free(cbuf), free(pbuf), free(call), free(pall), free(arena), free(csrc), free(cnt), free(path);
    return prefrec_dist_agree(d, st, 0, err);
}

/* One affiliate on every rank: scored where the customers are, each rank's pairs flagged for
 * validation where they are, the pack's products and mean scores summed over the ranks, the
 * NeuMF trained data-parallel (trainer_dist.c), the pack written by every rank at its
 * customers' rows (pack_dist.c): nothing per customer goes to rank 0. */
static prefrec_status train_one_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                     prefrec_dist *d, const prefrec_pipeline_params *p, int32_t ai,
                                     const char *asof_s, const char *const *cats, int32_t n_cat,
                                     const char *const *subs, int32_t n_sub,
                                     prefrec_pipeline_affiliate *res, int *trained,
                                     prefrec_error *err) {
    *trained = 0;
    const int root = prefrec_dist_rank(d) == 0, n = prefrec_dist_size(d);
    const char *code = prefrec_dict_str(ds->affiliates, ai);
    double t0 = pl_now();
    prefrec_scores *sc = NULL;
    prefrec_status st =
        prefrec_dist_agree(d, prefrec_scores_compute_dist(ds, &p->score, ai, d, &sc, err), 0, err);
    if (st) return st;
    int64_t total[2] = {(int64_t)sc->n, 0};
    for (size_t j = 0; j < sc->n; j++) total[1] += j == 0 || sc->customer[j] != sc->customer[j - 1];
    if (prefrec_dist_allreduce_i64(d, total, 2, PREFREC_DIST_SUM)) {
        prefrec_scores_free(sc);
        return prefrec_error_set(err, PREFREC_E_IO, "train: counting the pairs over the ranks");
    }
    if (total[0] < 20) {
        if (root)
            pl_note(p, "%s: only %lld scored pairs before %s; skipped", code, (long long)total[0],
                    asof_s);
        prefrec_scores_free(sc);
        return PREFREC_OK;
    }
    prefrec_train_params tp = p->train;
    tp.label = code;
    float *my_lines = NULL;
    uint64_t *my_keys = NULL;
    int32_t *pmap = NULL, P = 0;
    aff_set l;
    memset(&l, 0, sizeof l);
    /* the pack's product indices: an integer sum over the ranks (no gather) */
    st = pack_products(ds, sc, d, &pmap, &P, err);
    if (!st) st = local_set(ds, sc, pmap, P, &tp, &l, err);
    if (!st && pl_product_side(ds, pmap, P, &l))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    /* the customers' keys: their places in the one-process order (pack_dist.c) */
    if (!st && !(my_keys = malloc(((size_t)l.td.n_customers + 1) * sizeof *my_keys)))
        st = prefrec_error_set(err, PREFREC_E_NOMEM, "train: out of memory");
    for (int32_t c = 0; !st && c < l.td.n_customers; c++) my_keys[c] = customer_key[l.cglob[c]];
    /* the blend's per-customer line counts (plan 1's weights), in this rank's customer order */
    if (!st && p->neighbors > 0) st = local_lines(ds, sc, ai, p->score.asof_day, &my_lines, err);
    st = prefrec_dist_agree(d, st, 0, err);
    if (!st && p->dump_dir) st = dump_dist(ds, customer_key, d, p, &tp, code, sc, pmap, P, err);
    prefrec_scores_free(sc);
    prefrec_neumf *net = NULL;
    prefrec_train_report rep;
    memset(&rep, 0, sizeof rep);
    if (!st && root)
        pl_note(p, "%s: %lld pairs, %lld customers, %d products (scored on %d ranks in %.2f s)",
                code, (long long)total[0], (long long)total[1], P, n, pl_now() - t0);
    if (!st) st = nm_train_dist(&l.td, l.valid, d, &tp, &net, &rep, err);
    /* the served rankers, fitted by every rank on its customers (exact sums, fit_extras) */
    pack_extras ex;
    memset(&ex, 0, sizeof ex);
    st = prefrec_dist_agree(d, st, 0, err);
    if (!st && p->neighbors > 0) {
        double tb = pl_now();
        st = pl_fit_extras(ds, ai, p->score.asof_day, NULL, &l.td, pmap, P, d, customer_key, &tp,
                           p->neighbors, p->min_group, &ex, err);
        st = prefrec_dist_agree(d, st, 0, err);
        if (!st && root) {
            pl_note(p, "%s: served rankers (blend, due, mixed share) fitted on %d ranks in %.2f s",
                    code, n, pl_now() - tb);
            pl_note_min_group(p, code, &ex);
        }
    }
    /* the pack: every rank writes its customers' rows, rank 0 the rest (pack_dist.c) */
    memset(res, 0, sizeof *res);
    res->report = rep;
    if (!st) {
        int extra = p->neighbors > 0;
        prefrec_pack_meta meta = {code,
                                  asof_s,
                                  l.pcode,
                                  l.pname,
                                  l.pcat,
                                  l.psub,
                                  cats,
                                  n_cat,
                                  subs,
                                  n_sub,
                                  l.ccode,
                                  &l.td,
                                  &tp,
                                  &res->report,
                                  extra ? &ex.bt : NULL,
                                  extra ? ex.ptarget : NULL,
                                  ex.mean,
                                  extra ? my_lines : NULL,
                                  extra ? ex.prior : NULL,
                                  extra ? &ex.rp : NULL,
                                  ex.share,
                                  ex.shrink};
        size_t plen = strlen(p->out_dir) + strlen(code) + 16;
        char *path = malloc(plen);
        if (path) snprintf(path, plen, "%s/%s.pack", p->out_dir, code);
        st = prefrec_dist_agree(
            d, path ? PREFREC_OK : prefrec_error_set(err, PREFREC_E_NOMEM, "out of memory"), 0,
            err);
        if (!st) st = nm_pack_save_dist(net, &meta, d, my_keys, path, &res->pack_bytes, err);
        free(path);
    }
    if (!st) {
        snprintf(res->code, sizeof res->code, "%s", code);
        res->n_pairs = (size_t)total[0];
        res->n_customers = (int32_t)total[1];
        res->n_products = P;
    }
    pl_extras_free(&ex);
    free(my_lines);
    free(my_keys);
    prefrec_neumf_free(net);
    pl_aff_free(&l);
    free(pmap);
    st = prefrec_dist_agree(d, st, 0, err);
    if (!st) *trained = 1;
    return st;
}

prefrec_status prefrec_pipeline_train_dist(const prefrec_dataset *ds, const uint64_t *customer_key,
                                           prefrec_dist *d, const prefrec_pipeline_params *p,
                                           prefrec_pipeline_result *out, prefrec_error *err) {
    memset(out, 0, sizeof *out);
    const int root = prefrec_dist_rank(d) == 0;
    if (!p->out_dir) return prefrec_error_set(err, PREFREC_E_INVAL, "train: no output directory");
    prefrec_status st = PREFREC_OK;
    /* a failed job removes the output directory it created, with the packs written in it */
    struct stat sb;
    int created = root && stat(p->out_dir, &sb) != 0;
    if (root) st = pl_make_dir(p->out_dir, err);
    if (root && !st && p->dump_dir) st = pl_make_dir(p->dump_dir, err);
    if ((st = prefrec_dist_agree(d, st, 0, err))) return st;
    int32_t a_lo, a_hi;
    if ((st = pl_affiliate_range(ds, p->affiliate, &a_lo, &a_hi, err))) return st;
    const char **cats = NULL, **subs = NULL;
    int32_t n_cat = 0, n_sub = 0;
    st = pl_train_begin(ds, a_hi - a_lo, &cats, &n_cat, &subs, &n_sub, out, err);
    if ((st = prefrec_dist_agree(d, st, 0, err))) {
        free(cats), free(subs);
        prefrec_pipeline_result_free(out);
        return st;
    }
    char asof_s[11];
    prefrec_date_format(p->score.asof_day, asof_s);
    for (int32_t ai = a_lo; !st && ai < a_hi; ai++) {
        int trained = 0;
        prefrec_pipeline_affiliate *res = &out->affiliates[out->n_trained];
        st = train_one_dist(ds, customer_key, d, p, ai, asof_s, cats, n_cat, subs, n_sub, res,
                            &trained, err);
        if (!st && trained) {
            out->n_trained++;
            if (root && p->done) p->done(p->ctx, res);
        }
    }
    if (!st && out->n_trained == 0)
        st = prefrec_error_set(err, PREFREC_E_EMPTY,
                               "no affiliate had enough scored pairs to train");
    if (!st && root && p->json_path) st = pl_write_json(p, asof_s, out, err);
    st = prefrec_dist_agree(d, st, 0, err);
    free(cats);
    free(subs);
    if (st && created) {
        char path[4096];
        for (int k = 0; k < out->n_trained; k++)
            if ((size_t)snprintf(path, sizeof path, "%s/%s.pack", p->out_dir,
                                 out->affiliates[k].code) < sizeof path)
                unlink(path);
        rmdir(p->out_dir);
    }
    if (st) prefrec_pipeline_result_free(out);
    return st;
}
