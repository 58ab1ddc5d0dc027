/* member_export.c - `prefrec export --records DIR`: one sealed member record per member (see
 * prefrec/native/member_export.h). Purchases come from the dataset (counts, first and last day),
 * the customer vectors from the full packs; product indices are the packs'. */
#include "prefrec/native/member_export.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prefrec/native/atomic.h"
#include "prefrec/native/member_seal.h"

typedef struct sorted_codes {
    prefrec_strings s;
    uint32_t *order; /* indices sorted by code */
} sorted_codes;

static const prefrec_strings *sort_ctx;
static int cmp_idx(const void *a, const void *b) {
    return strcmp(prefrec_strings_at(sort_ctx, *(const uint32_t *)a),
                  prefrec_strings_at(sort_ctx, *(const uint32_t *)b));
}

static prefrec_status sort_codes(const prefrec_pack *p, const char *base, sorted_codes *out,
                                 prefrec_error *err) {
    prefrec_status s = prefrec_pack_strings(p, base, &out->s, err);
    if (s) return s;
    out->order = malloc((size_t)out->s.n * sizeof *out->order + 1);
    if (!out->order) return prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (uint32_t i = 0; i < out->s.n; i++) out->order[i] = i;
    sort_ctx = &out->s; /* single-threaded: the CLI's export */
    qsort(out->order, out->s.n, sizeof *out->order, cmp_idx);
    return PREFREC_OK;
}

static int64_t find_code(const sorted_codes *sc, const char *code) {
    size_t lo = 0, hi = sc->s.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(prefrec_strings_at(&sc->s, sc->order[mid]), code);
        if (!c) return sc->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int prefrec_member_listed(const char *const *sorted, size_t n, const char *code) {
    return n && bsearch(&code, sorted, n, sizeof *sorted, cmp_str) != NULL;
}

typedef struct line {
    int32_t c, k, p, day;
} line;

static int cmp_line(const void *a, const void *b) {
    const line *x = a, *y = b;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

static void hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* Remove dir's *.rec and export.json, then dir (an earlier export's directory). */
static prefrec_status remove_records_dir(const char *dir, prefrec_error *err) {
    DIR *d = opendir(dir);
    if (!d) return PREFREC_OK;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if ((n > 4 && !strcmp(e->d_name + n - 4, ".rec")) || !strcmp(e->d_name, "export.json")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    if (rmdir(dir))
        return prefrec_error_set(err, PREFREC_E_IO,
                                 "%s: cannot remove the earlier records directory (%s): only *.rec "
                                 "and export.json are removed",
                                 dir, strerror(errno));
    return PREFREC_OK;
}

static prefrec_status write_file(const char *path, const void *data, size_t n, prefrec_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return prefrec_error_set(err, PREFREC_E_IO, "%s: %s", path, strerror(errno));
    int bad = fwrite(data, 1, n, f) != n;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    return bad ? prefrec_error_set(err, PREFREC_E_IO, "%s: write failed: %s", path, strerror(errno))
               : PREFREC_OK;
}

prefrec_status prefrec_member_export_check_dir(const char *dir, prefrec_error *err) {
    prefrec_status s = PREFREC_OK;
    DIR *old_dir = opendir(dir);
    if (old_dir) {
        struct dirent *e;
        while (!s && (e = readdir(old_dir))) {
            size_t n = strlen(e->d_name);
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                strcmp(e->d_name, "export.json") && !(n > 4 && !strcmp(e->d_name + n - 4, ".rec")))
                s = prefrec_error_set(err, PREFREC_E_INVAL,
                                      "%s: holds %s, so it is not a records directory: not "
                                      "replacing it",
                                      dir, e->d_name);
        }
        closedir(old_dir);
    }
    return s;
}

prefrec_status prefrec_member_export_records(const prefrec_member_export_params *mp,
                                             const char *tmp, prefrec_member_export_stats *st,
                                             prefrec_error *err) {
    memset(st, 0, sizeof *st);
    const prefrec_dataset *ds = mp->ds;
    size_t K = mp->n_packs;
    int32_t n_aff = prefrec_dict_size(ds->affiliates), n_prod = prefrec_dict_size(ds->products),
            n_cust = prefrec_dict_size(ds->customers);
    prefrec_status s = PREFREC_OK;
    sorted_codes *prods = calloc(K + 1, sizeof *prods), *custs = calloc(K + 1, sizeof *custs);
    const char **aff_name = calloc(K + 1, sizeof *aff_name);
    uint32_t *dim = calloc(K + 1, sizeof *dim);
    int32_t *aff_pack = malloc(((size_t)n_aff + 1) * sizeof *aff_pack);
    int32_t *prod_map = malloc(((size_t)K * (size_t)n_prod + 1) * sizeof *prod_map);
    line *lines = malloc((ds->n_rows + 1) * sizeof *lines);
    prefrec_member_aff *aff = calloc(K + 1, sizeof *aff);
    prefrec_member_item *items = malloc((ds->n_rows + 1) * sizeof *items);
    int32_t *days = malloc((ds->n_rows + 1) * sizeof *days); /* each item's distinct days */
    uint32_t n_ranks = mp->n_ranks > 1 ? (uint32_t)mp->n_ranks : 1;
    if (!prods || !custs || !aff_name || !dim || !aff_pack || !prod_map || !lines || !aff ||
        !items || !days)
        s = prefrec_error_set(err, PREFREC_E_NOMEM, "export: out of memory");
    for (size_t k = 0; !s && k < K; k++) {
        aff_name[k] = prefrec_pack_manifest_str(mp->packs[k], "affiliate");
        dim[k] = (uint32_t)prefrec_pack_manifest_num(mp->packs[k], "dim", 0);
        if (!aff_name[k] || strlen(aff_name[k]) > PREFREC_MEMBER_AFF_MAX)
            s = prefrec_error_set(err, PREFREC_E_FORMAT, "export: pack %zu names no affiliate", k);
        for (size_t j = 0; !s && j < k; j++)
            if (!strcmp(aff_name[j], aff_name[k]))
                s = prefrec_error_set(err, PREFREC_E_INVAL,
                                      "export: two packs of affiliate %s given", aff_name[k]);
        if (!s) s = sort_codes(mp->packs[k], "product.code", &prods[k], err);
        if (!s) s = sort_codes(mp->packs[k], "customer.code", &custs[k], err);
    }
    /* dataset affiliate -> pack, dataset product -> each pack's index */
    for (int32_t a = 0; !s && a < n_aff; a++) {
        aff_pack[a] = -1;
        for (size_t k = 0; k < K; k++)
            if (!strcmp(prefrec_dict_str(ds->affiliates, a), aff_name[k])) aff_pack[a] = (int32_t)k;
    }
    for (size_t k = 0; !s && k < K; k++)
        for (int32_t p = 0; p < n_prod; p++)
            prod_map[k * (size_t)n_prod + p] =
                (int32_t)find_code(&prods[k], prefrec_dict_str(ds->products, p));
    size_t nl = 0;
    for (size_t i = 0; !s && i < ds->n_rows; i++) {
        int32_t k = aff_pack[ds->affiliate[i]];
        int32_t p = k < 0 ? -1 : prod_map[(size_t)k * (size_t)n_prod + ds->product[i]];
        if (p < 0) {
            st->lines_not_in_pack++;
            continue;
        }
        lines[nl++] = (line){ds->customer[i], k, p, ds->day[i]};
    }
    if (!s) qsort(lines, nl, sizeof *lines, cmp_line);
    size_t li = 0;
    for (int32_t c = 0; !s && c < n_cust; c++) {
        const char *code = prefrec_dict_str(ds->customers, c);
        size_t l0 = li;
        while (li < nl && lines[li].c == c) li++;
        int in_pack = 0;
        for (size_t k = 0; k < K && !in_pack; k++) in_pack = find_code(&custs[k], code) >= 0;
        if (li == l0 && !in_pack) continue; /* no purchase in any exported affiliate */
        if (n_ranks > 1 && prefrec_fnv1a32(code, strlen(code)) % n_ranks != (uint32_t)mp->rank)
            continue; /* another rank's member (one of the customer file's, known everywhere) */
        if (prefrec_member_listed(mp->opt_out, mp->n_opt_out, code)) {
            st->opted_out++;
            continue;
        }
        if (strlen(code) > PREFREC_MEMBER_CODE_MAX) {
            s = prefrec_error_set(err, PREFREC_E_RANGE,
                                  "export: member code '%.64s...' is over %u bytes", code,
                                  PREFREC_MEMBER_CODE_MAX);
            break;
        }
        prefrec_member_state m;
        memset(&m, 0, sizeof m);
        memcpy(m.code, code, strlen(code));
        m.gender = ds->gender ? ds->gender[c] : PREFREC_GENDER_UNKNOWN;
        m.age = ds->age ? ds->age[c] : NAN;
        m.aff = aff;
        size_t ni = 0, nd = 0;
        for (size_t k = 0; k < K; k++) {
            prefrec_member_aff *f = &aff[m.n_aff];
            memset(f, 0, sizeof *f);
            snprintf(f->affiliate, sizeof f->affiliate, "%s", aff_name[k]);
            f->items = items + ni;
            size_t j = l0;
            while (j < li && lines[j].k != (int32_t)k) j++;
            while (j < li && lines[j].k == (int32_t)k) {
                prefrec_member_item *it = &items[ni];
                if (f->n_items && it[-1].product == (uint32_t)lines[j].p) {
                    it[-1].count++; /* lines ascend by day within a product */
                    if (days[nd - 1] != lines[j].day) days[nd++] = lines[j].day, it[-1].n_days++;
                } else {
                    days[nd] = lines[j].day;
                    *it = (prefrec_member_item){(uint32_t)lines[j].p, 1, 1, days + nd++};
                    f->n_items++;
                    ni++;
                }
                j++;
            }
            int64_t row = find_code(&custs[k], code);
            if (row >= 0 && dim[k]) {
                f->dim = dim[k];
                f->vec = (float *)prefrec_pack_find(mp->packs[k], "customer.emb")->data +
                    (size_t)row * dim[k];
                f->bias =
                    ((const float *)prefrec_pack_find(mp->packs[k], "customer.bias")->data)[row];
            }
            if (f->n_items || f->dim) m.n_aff++;
        }
        uint8_t *pl = NULL, *rec = NULL, token[PREFREC_MEMBER_ID_SIZE];
        size_t pln = 0, rn = 0;
        prefrec_member_seal_params sp;
        memset(&sp, 0, sizeof sp);
        sp.kind = PREFREC_MEMBER_KIND_TOKEN;
        sp.issued_day = (uint32_t)mp->issued_day;
        memcpy(sp.export_id, mp->export_id, PREFREC_MEMBER_ID_SIZE);
        sp.token = token;
        sp.token_len = sizeof token;
        s = prefrec_member_state_encode(&m, &pl, &pln, err);
        if (!s) s = prefrec_member_kid(mp->naming_key, code, strlen(code), sp.member_kid, err);
        if (!s) s = prefrec_member_token(mp->token_master, code, strlen(code), token, err);
        if (!s) s = prefrec_member_seal(&sp, pl, pln, &rec, &rn, err);
        if (!s) {
            char name[33], path[4200];
            hex(sp.member_kid, PREFREC_MEMBER_ID_SIZE, name);
            snprintf(path, sizeof path, "%s/%s.rec", tmp, name);
            s = write_file(path, rec, rn, err);
        }
        if (!s) {
            st->records++;
            st->bytes += rn;
            st->min_bytes = st->records == 1 || rn < st->min_bytes ? rn : st->min_bytes;
            st->max_bytes = rn > st->max_bytes ? rn : st->max_bytes;
        }
        memset(token, 0, sizeof token);
        prefrec_member_wipe_free(pl, pln);
        free(rec);
    }
    for (size_t k = 0; k < K && prods && custs; k++) free(prods[k].order), free(custs[k].order);
    free(prods), free(custs), free(aff_name), free(dim), free(aff_pack), free(prod_map);
    free(lines), free(aff), free(items), free(days);
    return s;
}

prefrec_status prefrec_member_export_index(const prefrec_member_export_params *mp, const char *tmp,
                                           const prefrec_member_export_stats *st,
                                           prefrec_error *err) {
    char eid[33], nk[65], path[4200], json[1024];
    hex(mp->export_id, PREFREC_MEMBER_ID_SIZE, eid);
    hex(mp->naming_key, PREFREC_MEMBER_KEY_SIZE, nk);
    int n = snprintf(json, sizeof json,
                     "{\"format\": \"prefrec-records\", \"version\": 1, \"export_id\": \"%s\", "
                     "\"naming_key\": \"%s\", \"issued_day\": %d, \"kind\": \"token\", "
                     "\"records\": %zu, \"opted_out\": %zu}\n",
                     eid, nk, (int)mp->issued_day, st->records, st->opted_out);
    snprintf(path, sizeof path, "%s/export.json", tmp);
    prefrec_status s = write_file(path, json, (size_t)n, err);
    memset(nk, 0, sizeof nk);
    memset(json, 0, sizeof json);
    return s;
}

prefrec_status prefrec_member_export_commit(const char *tmp, const char *dir, prefrec_error *err) {
    char old[4200];
    snprintf(old, sizeof old, "%s.old.%ld", dir, (long)getpid());
    int had = rename(dir, old) == 0;
    if (rename(tmp, dir)) {
        prefrec_status s = prefrec_error_set(err, PREFREC_E_IO, "%s: cannot rename %s over it: %s",
                                             dir, tmp, strerror(errno));
        if (had) rename(old, dir);
        return s;
    }
    return had ? remove_records_dir(old, err) : PREFREC_OK;
}

void prefrec_member_export_discard(const char *tmp) { remove_records_dir(tmp, NULL); }

prefrec_status prefrec_member_export(const prefrec_member_export_params *mp, const char *dir,
                                     prefrec_member_export_stats *st, prefrec_error *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    memset(st, 0, sizeof *st);
    prefrec_status s = prefrec_member_export_check_dir(dir, err);
    if (s) return s;
    if (mkdir(tmp, 0700))
        return prefrec_error_set(err, PREFREC_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    s = prefrec_member_export_records(mp, tmp, st, err);
    if (!s) s = prefrec_member_export_index(mp, tmp, st, err);
    if (!s) return prefrec_member_export_commit(tmp, dir, err);
    remove_records_dir(tmp, NULL);
    return s;
}
