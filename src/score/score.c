/* score.c - the seed's preference score (see prefrec/native/score.h and docs/score.md).
 *
 * One pass of selection, four stable counting-sort passes of row indices (day, product, customer, affiliate:
 * LSD order, so rows end up sorted by (affiliate, customer, product, day)), then one linear scan
 * that emits a pair per (affiliate, customer, product) run and the customer's category counts
 * per (affiliate, customer) run. No comparison sort, no hashing, nothing quadratic. */
#include "prefrec/native/score.h"

#include "core/json_read.h"
#include "host/dist.h"
#include "host/file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "prefrec/native/atomic.h"
#include "prefrec/date.h"

prefrec_score_params prefrec_score_default_params(void) {
    prefrec_score_params p;
    memset(&p, 0, sizeof p);
    p.asof_day = prefrec_days_from_civil(2022, 1, 1);
    p.w_buy = 2.0;
    p.w_clac = 1.0;
    p.w_range = 1.0;
    const double buy[] = {2, 3, 5, 8, 12};
    const double clac[] = {0.02, 0.05, 0.10, 0.20, 0.40};
    const double range[] = {0.25, 0.5, 1.0, 2.0, 4.0};
    memcpy(p.buy_cuts, buy, sizeof buy);
    memcpy(p.clac_cuts, clac, sizeof clac);
    memcpy(p.range_cuts, range, sizeof range);
    return p;
}

static prefrec_status check_cuts(const double *c, const char *name, prefrec_error *err) {
    for (int k = 0; k < PREFREC_SCORE_LEVELS; k++) {
        if (!isfinite(c[k]))
            return prefrec_error_set(err, PREFREC_E_RANGE, "%s[%d] is not a finite number", name,
                                     k);
        if (k > 0 && c[k] < c[k - 1])
            return prefrec_error_set(err, PREFREC_E_RANGE,
                                     "%s must be non-decreasing (%s[%d] = %g < %g)", name, name, k,
                                     c[k], c[k - 1]);
    }
    return PREFREC_OK;
}

prefrec_status prefrec_score_params_check(const prefrec_score_params *p, prefrec_error *err) {
    if (!p) return prefrec_error_set(err, PREFREC_E_INVAL, "score params: NULL");
    const double w[3] = {p->w_buy, p->w_clac, p->w_range};
    const char *wn[3] = {"buy_level", "low_clac", "range_score"};
    for (int k = 0; k < 3; k++)
        if (!isfinite(w[k]) || w[k] < 0)
            return prefrec_error_set(err, PREFREC_E_RANGE, "weight %s = %g: must be >= 0", wn[k],
                                     w[k]);
    if (!(w[0] + w[1] + w[2] > 0))
        return prefrec_error_set(err, PREFREC_E_RANGE, "weights sum to 0");
    prefrec_status st;
    if ((st = check_cuts(p->buy_cuts, "buy_level_cuts", err))) return st;
    if ((st = check_cuts(p->clac_cuts, "low_clac_cuts", err))) return st;
    if ((st = check_cuts(p->range_cuts, "range_score_cuts", err))) return st;
    return PREFREC_OK;
}

static prefrec_status json_cuts(const cJSON *a, const char *key, const char *name, double *dst,
                                prefrec_error *err) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != PREFREC_SCORE_LEVELS)
        return prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"%s\" must be an array of %d numbers",
                                 name, key, PREFREC_SCORE_LEVELS);
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (!cJSON_IsNumber(e))
            return prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"%s\"[%d] is not a number", name,
                                     key, k);
        dst[k++] = e->valuedouble;
    }
    return PREFREC_OK;
}

prefrec_status prefrec_score_params_parse_json(const char *text, size_t len, const char *name,
                                               prefrec_score_params *p, prefrec_error *err) {
    if (!text || !p) return prefrec_error_set(err, PREFREC_E_INVAL, "score params: NULL argument");
    if (!name) name = "score config";
    size_t off = 0;
    cJSON *root = prefrec_json_parse_strict(text, len, &off);
    if (!root)
        return prefrec_error_set(err, PREFREC_E_PARSE, "%s: invalid JSON near byte offset %zu",
                                 name, off);
    prefrec_score_params q = *p;
    prefrec_status st = PREFREC_OK;
    if (!cJSON_IsObject(root)) {
        st = prefrec_error_set(err, PREFREC_E_PARSE, "%s: top level must be an object", name);
        goto done;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *k = it->string;
        if (!strcmp(k, "asof")) {
            if (!cJSON_IsString(it) ||
                prefrec_date_parse(it->valuestring, strlen(it->valuestring), &q.asof_day)) {
                st = prefrec_error_set(err, PREFREC_E_PARSE,
                                       "%s: \"asof\" must be a date string \"YYYY-MM-DD\"", name);
                goto done;
            }
        } else if (!strcmp(k, "weights")) {
            if (!cJSON_IsObject(it)) {
                st = prefrec_error_set(err, PREFREC_E_PARSE, "%s: \"weights\" must be an object",
                                       name);
                goto done;
            }
            const cJSON *w;
            cJSON_ArrayForEach(w, it) {
                double *dst = !strcmp(w->string, "buy_level") ? &q.w_buy
                    : !strcmp(w->string, "low_clac")          ? &q.w_clac
                    : !strcmp(w->string, "range_score")       ? &q.w_range
                                                              : NULL;
                if (!dst) {
                    st = prefrec_error_set(
                        err, PREFREC_E_PARSE,
                        "%s: unknown weight \"%s\" (buy_level, low_clac, range_score)", name,
                        w->string);
                    goto done;
                }
                if (!cJSON_IsNumber(w)) {
                    st = prefrec_error_set(err, PREFREC_E_PARSE,
                                           "%s: weight \"%s\" is not a number", name, w->string);
                    goto done;
                }
                *dst = w->valuedouble;
            }
        } else if (!strcmp(k, "buy_level_cuts")) {
            if ((st = json_cuts(it, k, name, q.buy_cuts, err))) goto done;
        } else if (!strcmp(k, "low_clac_cuts")) {
            if ((st = json_cuts(it, k, name, q.clac_cuts, err))) goto done;
        } else if (!strcmp(k, "range_score_cuts")) {
            if ((st = json_cuts(it, k, name, q.range_cuts, err))) goto done;
        } else {
            st = prefrec_error_set(err, PREFREC_E_PARSE,
                                   "%s: unknown key \"%s\" (asof, weights, buy_level_cuts, "
                                   "low_clac_cuts, range_score_cuts)",
                                   name, k);
            goto done;
        }
    }
    if ((st = prefrec_score_params_check(&q, err))) {
        char tmp[PREFREC_ERROR_MSG_MAX];
        snprintf(tmp, sizeof tmp, "%s", err ? err->msg : "");
        prefrec_error_set(err, st, "%s: %s", name, tmp);
        goto done;
    }
    *p = q;
done:
    cJSON_Delete(root);
    return st;
}

prefrec_status prefrec_score_params_load_json(const char *path, prefrec_score_params *p,
                                              prefrec_error *err) {
    char *buf = NULL;
    size_t len = 0;
    prefrec_status st = prefrec_file_read(path, (size_t)1 << 24, &buf, &len, err);
    if (!st) st = prefrec_score_params_parse_json(buf, len, path, p, err);
    free(buf);
    return st;
}

void prefrec_scores_free(prefrec_scores *s) {
    if (!s) return;
    free(s->affiliate);
    free(s->customer);
    free(s->product);
    free(s->count);
    free(s->first_day);
    free(s->last_day);
    free(s->clac_share);
    free(s->interval);
    free(s->range_ratio);
    free(s->interval_fallback);
    free(s->buy_level);
    free(s->low_clac);
    free(s->range_score);
    free(s->score);
    free(s);
}

static prefrec_scores *scores_alloc(size_t n) {
    prefrec_scores *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t m = n ? n : 1;
    s->n = n;
    s->affiliate = malloc(m);
    s->customer = malloc(m * sizeof(int32_t));
    s->product = malloc(m * sizeof(int32_t));
    s->count = malloc(m * sizeof(int32_t));
    s->first_day = malloc(m * sizeof(int32_t));
    s->last_day = malloc(m * sizeof(int32_t));
    s->clac_share = malloc(m * sizeof(float));
    s->interval = malloc(m * sizeof(float));
    s->range_ratio = malloc(m * sizeof(float));
    s->interval_fallback = malloc(m);
    s->buy_level = malloc(m);
    s->low_clac = malloc(m);
    s->range_score = malloc(m);
    s->score = malloc(m * sizeof(float));
    if (!s->affiliate || !s->customer || !s->product || !s->count || !s->first_day ||
        !s->last_day || !s->clac_share || !s->interval || !s->range_ratio ||
        !s->interval_fallback || !s->buy_level || !s->low_clac || !s->range_score || !s->score) {
        prefrec_scores_free(s);
        return NULL;
    }
    return s;
}

static uint8_t level_of(double v, const double *cuts) {
    uint8_t l = 0;
    for (int k = 0; k < PREFREC_SCORE_LEVELS; k++)
        if (v >= cuts[k]) l = (uint8_t)(k + 1);
    return l;
}

/* Stable counting sort of idx[0..m) into out by key(row) - kmin, keys in [0, range). */
typedef int32_t (*row_key_fn)(const prefrec_dataset *ds, uint32_t row);
static int32_t key_day(const prefrec_dataset *ds, uint32_t r) { return ds->day[r]; }
static int32_t key_product(const prefrec_dataset *ds, uint32_t r) { return ds->product[r]; }
static int32_t key_customer(const prefrec_dataset *ds, uint32_t r) { return ds->customer[r]; }
static int32_t key_affiliate(const prefrec_dataset *ds, uint32_t r) { return ds->affiliate[r]; }

static int counting_pass(const prefrec_dataset *ds, const uint32_t *idx, uint32_t *out, size_t m,
                         row_key_fn key, int32_t kmin, size_t range) {
    size_t *cnt = calloc(range + 1, sizeof *cnt);
    if (!cnt) return -1;
    for (size_t i = 0; i < m; i++) cnt[(size_t)(key(ds, idx[i]) - kmin) + 1]++;
    for (size_t k = 0; k < range; k++) cnt[k + 1] += cnt[k];
    for (size_t i = 0; i < m; i++) out[cnt[(size_t)(key(ds, idx[i]) - kmin)]++] = idx[i];
    free(cnt);
    return 0;
}

/* Fill clac_share/low_clac for the pairs [from, to) of one (affiliate, customer) run. */
static void finish_customer(prefrec_scores *s, size_t from, size_t to, const int32_t *pair_cat,
                            int64_t *cat_count, int64_t total, const prefrec_score_params *p) {
    for (size_t j = from; j < to; j++) {
        int32_t c = pair_cat[j];
        if (c < 0) {
            s->clac_share[j] = NAN;
            s->low_clac[j] = 0;
        } else {
            double share = (double)cat_count[c] / (double)total;
            s->clac_share[j] = (float)share;
            s->low_clac[j] = level_of(share, p->clac_cuts);
        }
    }
    for (size_t j = from; j < to; j++)
        if (pair_cat[j] >= 0) cat_count[pair_cat[j]] = 0;
}

prefrec_status prefrec_scores_compute(const prefrec_dataset *ds, const prefrec_score_params *p,
                                      int affiliate, prefrec_scores **out, prefrec_error *err) {
    return prefrec_scores_compute_dist(ds, p, affiliate, NULL, out, err);
}

/* The largest mean intervals over the ranks. NaN (none yet) travels as -1: intervals are > 0. */
static int reduce_max(prefrec_dist *dist, double *v, size_t n) {
    if (prefrec_dist_size(dist) == 1) return 0;
    for (size_t k = 0; k < n; k++)
        if (isnan(v[k])) v[k] = -1;
    if (prefrec_dist_allreduce_f64(dist, v, n, PREFREC_DIST_MAX)) return -1;
    for (size_t k = 0; k < n; k++)
        if (v[k] < 0) v[k] = NAN;
    return 0;
}

prefrec_status prefrec_scores_compute_dist(const prefrec_dataset *ds, const prefrec_score_params *p,
                                           int affiliate, prefrec_dist *dist, prefrec_scores **out,
                                           prefrec_error *err) {
    if (!out) return prefrec_error_set(err, PREFREC_E_INVAL, "scores: NULL out");
    *out = NULL;
    if (!ds || !p) return prefrec_error_set(err, PREFREC_E_INVAL, "scores: NULL dataset or params");
    prefrec_status st = prefrec_score_params_check(p, err);
    if (st) return st;
    const int32_t n_aff = prefrec_dict_size(ds->affiliates);
    const int32_t n_cust = prefrec_dict_size(ds->customers);
    const int32_t n_prod = prefrec_dict_size(ds->products);
    const int32_t n_cat = ds->categories ? prefrec_dict_size(ds->categories) : 0;
    if (affiliate < -1 || affiliate >= n_aff)
        return prefrec_error_set(err, PREFREC_E_NOTFOUND, "scores: affiliate index %d not in 0..%d",
                                 affiliate, n_aff - 1);
    if (ds->n_rows > UINT32_MAX)
        return prefrec_error_set(err, PREFREC_E_RANGE, "scores: %zu rows exceed 2^32", ds->n_rows);

    /* select rows before as-of (and of the affiliate), checking ids */
    size_t m = 0;
    int32_t dmin = INT32_MAX, dmax = INT32_MIN;
    for (size_t i = 0; i < ds->n_rows; i++) {
        if (ds->day[i] >= p->asof_day) continue;
        if (affiliate >= 0 && ds->affiliate[i] != affiliate) continue;
        if (ds->customer[i] < 0 || ds->customer[i] >= n_cust || ds->product[i] < 0 ||
            ds->product[i] >= n_prod || ds->affiliate[i] >= n_aff)
            return prefrec_error_set(err, PREFREC_E_INVAL,
                                     "scores: row %zu has an id outside its dictionary", i);
        if (ds->day[i] < dmin) dmin = ds->day[i];
        if (ds->day[i] > dmax) dmax = ds->day[i];
        m++;
    }
    if (m == 0) {
        if (prefrec_dist_size(dist) > 1) { /* no pairs here, but the others' maxima need us */
            size_t n_red = (size_t)n_aff * ((size_t)n_cat + 1) + (size_t)n_aff + 1;
            double *none = malloc(n_red * sizeof *none);
            if (!none) return prefrec_error_set(err, PREFREC_E_NOMEM, "scores: out of memory");
            for (size_t k = 0; k < n_red; k++) none[k] = NAN;
            int bad = reduce_max(dist, none, n_red);
            free(none);
            if (bad) return prefrec_error_set(err, PREFREC_E_IO, "scores: reduction failed");
        }
        prefrec_scores *s = scores_alloc(0);
        if (!s) return prefrec_error_set(err, PREFREC_E_NOMEM, "scores: out of memory");
        s->asof_day = p->asof_day;
        *out = s;
        return PREFREC_OK;
    }
    uint32_t *a = malloc(m * sizeof *a), *b = malloc(m * sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "scores: out of memory for %zu rows", m);
    }
    for (size_t i = 0, j = 0; i < ds->n_rows; i++)
        if (ds->day[i] < p->asof_day && (affiliate < 0 || ds->affiliate[i] == affiliate))
            a[j++] = (uint32_t)i;
    int fail = counting_pass(ds, a, b, m, key_day, dmin, (size_t)((int64_t)dmax - dmin + 1)) ||
        counting_pass(ds, b, a, m, key_product, 0, (size_t)n_prod) ||
        counting_pass(ds, a, b, m, key_customer, 0, (size_t)n_cust) ||
        counting_pass(ds, b, a, m, key_affiliate, 0, (size_t)n_aff);
    free(b);
    if (fail) {
        free(a);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "scores: out of memory while sorting");
    }

    /* count pairs */
    size_t n = 1;
    for (size_t i = 1; i < m; i++) {
        uint32_t r = a[i], q = a[i - 1];
        if (ds->affiliate[r] != ds->affiliate[q] || ds->customer[r] != ds->customer[q] ||
            ds->product[r] != ds->product[q])
            n++;
    }
    prefrec_scores *s = scores_alloc(n);
    int32_t *pair_cat = malloc(n * sizeof *pair_cat);
    double *ival = malloc(n * sizeof *ival);
    int64_t *cat_count = calloc((size_t)n_cat + 1, sizeof *cat_count);
    /* largest mean interval per (affiliate, category + 1) and per affiliate; NaN = none yet */
    size_t n_slots = (size_t)n_aff * ((size_t)n_cat + 1);
    double *cat_max = malloc((n_slots ? n_slots : 1) * sizeof *cat_max);
    double *aff_max = malloc(((size_t)n_aff + 1) * sizeof *aff_max);
    if (!s || !pair_cat || !ival || !cat_count || !cat_max || !aff_max) {
        free(a);
        prefrec_scores_free(s);
        free(pair_cat);
        free(ival);
        free(cat_count);
        free(cat_max);
        free(aff_max);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "scores: out of memory for %zu pairs", n);
    }
    s->asof_day = p->asof_day;
    for (size_t k = 0; k < n_slots; k++) cat_max[k] = NAN;
    for (int32_t k = 0; k <= n_aff; k++) aff_max[k] = NAN;

    /* the scan: runs of (affiliate, customer) > product > day */
    size_t j = 0, cust_from = 0;
    int64_t cust_total = 0;
    size_t i = 0;
    while (i < m) {
        uint32_t r = a[i];
        const uint8_t af = ds->affiliate[r];
        const int32_t cu = ds->customer[r], pr = ds->product[r];
        int32_t first = ds->day[r], last = first, count = 1;
        size_t k = i + 1;
        for (; k < m; k++) {
            uint32_t q = a[k];
            if (ds->product[q] != pr || ds->customer[q] != cu || ds->affiliate[q] != af) break;
            if (ds->day[q] != last) {
                count++;
                last = ds->day[q];
            }
        }
        int32_t cat = (ds->has_catalog && ds->product_category) ? ds->product_category[pr] : -1;
        if (cat >= n_cat) cat = -1;
        s->affiliate[j] = af;
        s->customer[j] = cu;
        s->product[j] = pr;
        s->count[j] = count;
        s->first_day[j] = first;
        s->last_day[j] = last;
        pair_cat[j] = cat;
        cust_total += count;
        if (cat >= 0) cat_count[cat] += count;
        if (count >= 2) {
            double mi = (double)(last - first) / (double)(count - 1);
            ival[j] = mi;
            double *slot = &cat_max[(size_t)af * ((size_t)n_cat + 1) + (size_t)(cat + 1)];
            if (isnan(*slot) || mi > *slot) *slot = mi;
            if (isnan(aff_max[af]) || mi > aff_max[af]) aff_max[af] = mi;
        } else {
            ival[j] = NAN;
        }
        j++;
        i = k;
        /* end of the (affiliate, customer) run? */
        if (i == m || ds->customer[a[i]] != cu || ds->affiliate[a[i]] != af) {
            finish_customer(s, cust_from, j, pair_cat, cat_count, cust_total, p);
            cust_from = j;
            cust_total = 0;
        }
    }
    free(a);
    /* one array (cat_max, then aff_max) so that the ranks meet once */
    if (prefrec_dist_size(dist) > 1) {
        size_t n_red = n_slots + (size_t)n_aff + 1;
        double *both = malloc(n_red * sizeof *both);
        int bad = !both;
        if (both) {
            memcpy(both, cat_max, n_slots * sizeof *both);
            memcpy(both + n_slots, aff_max, ((size_t)n_aff + 1) * sizeof *both);
            bad = reduce_max(dist, both, n_red);
            memcpy(cat_max, both, n_slots * sizeof *both);
            memcpy(aff_max, both + n_slots, ((size_t)n_aff + 1) * sizeof *both);
            free(both);
        }
        if (bad) {
            prefrec_scores_free(s);
            free(pair_cat);
            free(ival);
            free(cat_count);
            free(cat_max);
            free(aff_max);
            return prefrec_error_set(err, PREFREC_E_IO, "scores: reduction failed");
        }
    }

    /* intervals with the fallback, the ratio and the levels */
    for (j = 0; j < n; j++) {
        double iv = ival[j];
        uint8_t fb = 0;
        if (isnan(iv)) {
            const uint8_t af = s->affiliate[j];
            iv = cat_max[(size_t)af * ((size_t)n_cat + 1) + (size_t)(pair_cat[j] + 1)];
            if (isnan(iv)) iv = aff_max[af];
            fb = 1;
        }
        s->interval[j] = (float)iv;
        s->interval_fallback[j] = fb;
        double ratio = NAN;
        if (!isnan(iv)) ratio = (double)(p->asof_day - s->last_day[j]) / iv;
        s->range_ratio[j] = (float)ratio;
        s->range_score[j] = isnan(ratio) ? 0 : level_of(ratio, p->range_cuts);
        s->buy_level[j] = level_of((double)s->count[j], p->buy_cuts);
        double num = p->w_buy * s->buy_level[j] + p->w_range * s->range_score[j];
        double den = p->w_buy + p->w_range;
        if (pair_cat[j] >= 0) {
            num += p->w_clac * s->low_clac[j];
            den += p->w_clac;
        }
        s->score[j] = den > 0 ? (float)(num / den) : 0.0f;
    }
    free(pair_cat);
    free(ival);
    free(cat_count);
    free(cat_max);
    free(aff_max);
    *out = s;
    return PREFREC_OK;
}

ptrdiff_t prefrec_scores_find(const prefrec_scores *s, int affiliate, int32_t customer,
                              int32_t product) {
    if (!s) return -1;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = s->affiliate[mid] != affiliate ? (s->affiliate[mid] < affiliate ? -1 : 1)
            : s->customer[mid] != customer     ? (s->customer[mid] < customer ? -1 : 1)
            : s->product[mid] != product       ? (s->product[mid] < product ? -1 : 1)
                                               : 0;
        if (c == 0) return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* A CSV field: quoted only when it holds a comma, quote or line break. */
static char *put_field(char *o, const char *v) {
    if (!strpbrk(v, ",\"\r\n")) {
        size_t n = strlen(v);
        memcpy(o, v, n);
        return o + n;
    }
    *o++ = '"';
    for (; *v; v++) {
        if (*v == '"') *o++ = '"';
        *o++ = *v;
    }
    *o++ = '"';
    return o;
}

static char *put_u64(char *o, uint64_t v) {
    char t[24];
    int n = 0;
    do t[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n) *o++ = t[--n];
    return o;
}

/* v with 6 decimals, trailing zeros dropped ("0.25", "3", "1.333333"); NaN writes nothing.
 * Hand-rolled because printf("%g") dominated the writer's time. */
static char *put_fixed6(char *o, double v) {
    if (isnan(v)) return o;
    if (!(fabs(v) < 1e12)) return o + sprintf(o, "%.6g", v);
    if (v < 0) {
        *o++ = '-';
        v = -v;
    }
    uint64_t u = (uint64_t)llround(v * 1e6);
    o = put_u64(o, u / 1000000);
    uint32_t f = (uint32_t)(u % 1000000);
    if (f) {
        *o++ = '.';
        for (uint32_t d = 100000; f; d /= 10) {
            *o++ = (char)('0' + f / d);
            f %= d;
        }
    }
    return o;
}

int prefrec_scores_write_rows(const prefrec_scores *s, const prefrec_dataset *ds, size_t from,
                              size_t to, FILE *f) {
    size_t cap = 4096;
    char *line = malloc(cap);
    if (!line) return -1;
    for (size_t i = from; i < to; i++) {
        const char *af = prefrec_dict_str(ds->affiliates, s->affiliate[i]);
        const char *cu = prefrec_dict_str(ds->customers, s->customer[i]);
        const char *pr = prefrec_dict_str(ds->products, s->product[i]);
        size_t need = 2 * (strlen(af) + strlen(cu) + strlen(pr)) + 160;
        if (need > cap) {
            char *nl = realloc(line, need);
            if (!nl) {
                free(line);
                return -1;
            }
            line = nl;
            cap = need;
        }
        char *o = line;
        o = put_field(o, af);
        *o++ = ',';
        o = put_field(o, cu);
        *o++ = ',';
        o = put_field(o, pr);
        *o++ = ',';
        o = put_u64(o, (uint64_t)s->count[i]);
        *o++ = ',';
        prefrec_date_format(s->last_day[i], o);
        o += 10;
        *o++ = ',';
        *o++ = (char)('0' + s->buy_level[i]);
        *o++ = ',';
        o = put_fixed6(o, s->clac_share[i]);
        *o++ = ',';
        *o++ = (char)('0' + s->low_clac[i]);
        *o++ = ',';
        o = put_fixed6(o, s->range_ratio[i]);
        *o++ = ',';
        *o++ = (char)('0' + s->range_score[i]);
        *o++ = ',';
        o = put_fixed6(o, s->score[i]);
        *o++ = '\n';
        fwrite(line, 1, (size_t)(o - line), f);
    }
    free(line);
    return ferror(f) ? -1 : 0;
}

prefrec_status prefrec_scores_write_csv(const prefrec_scores *s, const prefrec_dataset *ds,
                                        const char *path, prefrec_error *err) {
    if (!s || !ds || !path)
        return prefrec_error_set(err, PREFREC_E_INVAL, "scores csv: NULL argument");
    prefrec_atomic at;
    prefrec_status st = prefrec_atomic_open(&at, path, err);
    if (st) return st;
    fputs(PREFREC_SCORES_CSV_HEADER, at.f);
    if (prefrec_scores_write_rows(s, ds, 0, s->n, at.f) && !ferror(at.f)) {
        prefrec_atomic_abort(&at);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    }
    return prefrec_atomic_commit(&at, err);
}
