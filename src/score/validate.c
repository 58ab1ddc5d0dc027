/* validate.c - the deck's check of the score: scores from before a cut-off, then the share of
 * pairs above each threshold that were bought again from the cut-off to an end date (see
 * prefrec/native/score.h). The repurchase lookup is a binary search per later row over the sorted
 * pairs: O(rows log pairs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "host/dist.h"
#include "prefrec/native/atomic.h"
#include "prefrec/date.h"
#include "prefrec/native/score.h"
#include "prefrec/native/svg.h"

#define SCORE_EPS 1e-6

void prefrec_validation_free(prefrec_validation *v) {
    if (!v) return;
    free(v->rows);
    free(v);
}

prefrec_status prefrec_validate_compute(const prefrec_dataset *ds, const prefrec_score_params *p,
                                        int32_t cutoff_day, int32_t end_day, int affiliate,
                                        prefrec_validation **out, prefrec_error *err) {
    return prefrec_validate_compute_dist(ds, p, cutoff_day, end_day, affiliate, NULL, out, err);
}

prefrec_status prefrec_validate_compute_dist(const prefrec_dataset *ds,
                                             const prefrec_score_params *p, int32_t cutoff_day,
                                             int32_t end_day, int affiliate, prefrec_dist *dist,
                                             prefrec_validation **out, prefrec_error *err) {
    if (!out) return prefrec_error_set(err, PREFREC_E_INVAL, "validate: NULL out");
    *out = NULL;
    if (!ds || !p)
        return prefrec_error_set(err, PREFREC_E_INVAL, "validate: NULL dataset or params");
    if (end_day <= cutoff_day) {
        char a[11], b[11];
        return prefrec_error_set(err, PREFREC_E_RANGE, "validate: end %s is not after cutoff %s",
                                 prefrec_date_format(end_day, b),
                                 prefrec_date_format(cutoff_day, a));
    }
    prefrec_score_params q = *p;
    q.asof_day = cutoff_day;
    prefrec_scores *s = NULL;
    prefrec_status st = prefrec_scores_compute_dist(ds, &q, affiliate, dist, &s, err);
    if (st) return st;

    const int32_t n_aff = prefrec_dict_size(ds->affiliates);
    uint8_t *bought = calloc(s->n ? s->n : 1, 1);
    int64_t *aff_rows = calloc((size_t)n_aff + 1, sizeof *aff_rows);
    prefrec_validation *v = calloc(1, sizeof *v);
    if (!bought || !aff_rows || !v) {
        free(bought);
        free(aff_rows);
        free(v);
        prefrec_scores_free(s);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "validate: out of memory");
    }
    for (size_t i = 0; i < ds->n_rows; i++) {
        const uint8_t af = ds->affiliate[i];
        if (affiliate >= 0 && af != affiliate) continue;
        if (af < n_aff) aff_rows[af]++;
        if (ds->day[i] < cutoff_day || ds->day[i] >= end_day) continue;
        ptrdiff_t j = prefrec_scores_find(s, af, ds->customer[i], ds->product[i]);
        if (j >= 0) bought[j] = 1;
    }
    int red_bad = prefrec_dist_allreduce_i64(dist, aff_rows, (size_t)n_aff, PREFREC_DIST_SUM);
    size_t n_rows = 0;
    for (int32_t a = 0; a < n_aff; a++) n_rows += aff_rows[a] > 0;
    v->rows = calloc(n_rows ? n_rows : 1, sizeof *v->rows);
    if (!v->rows) {
        free(bought);
        free(aff_rows);
        free(v);
        prefrec_scores_free(s);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "validate: out of memory");
    }
    v->cutoff_day = cutoff_day;
    v->end_day = end_day;
    v->n_rows = n_rows;
    for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++) v->thresholds[t] = 0.5 * t;
    /* row slot per affiliate */
    int *slot = malloc(((size_t)n_aff + 1) * sizeof *slot);
    if (!slot) {
        free(bought);
        free(aff_rows);
        prefrec_validation_free(v);
        prefrec_scores_free(s);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "validate: out of memory");
    }
    /* rows in affiliate code order (A01, A02, ...), not first-seen order */
    for (int32_t a = 0; a < n_aff; a++) {
        slot[a] = -1;
        if (aff_rows[a] <= 0) continue;
        int r = 0;
        for (int32_t b = 0; b < n_aff; b++)
            if (aff_rows[b] > 0 &&
                strcmp(prefrec_dict_str(ds->affiliates, b), prefrec_dict_str(ds->affiliates, a)) <
                    0)
                r++;
        slot[a] = r;
        v->rows[r].affiliate = a;
    }
    for (size_t j = 0; j < s->n; j++) {
        int r = slot[s->affiliate[j]];
        if (r < 0) continue; /* cannot happen: a pair implies rows */
        prefrec_validate_row *row = &v->rows[r];
        const double sc = s->score[j];
        for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++) {
            if (sc >= v->thresholds[t] - SCORE_EPS) {
                row->pairs[t]++;
                row->bought[t] += bought[j];
            }
        }
        int bin = (int)floor(sc * 4 + 0.5);
        if (bin < 0) bin = 0;
        if (bin >= PREFREC_VALIDATE_BINS) bin = PREFREC_VALIDATE_BINS - 1;
        row->hist[bin]++;
        row->hist_bought[bin] += bought[j];
    }
    free(slot);
    free(bought);
    free(aff_rows);
    prefrec_scores_free(s);
    /* the counts of every rank (rows are in the same affiliate order everywhere) */
    for (size_t r = 0; r < n_rows && prefrec_dist_size(dist) > 1; r++) {
        prefrec_validate_row *row = &v->rows[r];
        int64_t c[2 * PREFREC_VALIDATE_THRESHOLDS + 2 * PREFREC_VALIDATE_BINS];
        int64_t *q = c;
        memcpy(q, row->pairs, sizeof row->pairs), q += PREFREC_VALIDATE_THRESHOLDS;
        memcpy(q, row->bought, sizeof row->bought), q += PREFREC_VALIDATE_THRESHOLDS;
        memcpy(q, row->hist, sizeof row->hist), q += PREFREC_VALIDATE_BINS;
        memcpy(q, row->hist_bought, sizeof row->hist_bought);
        red_bad |= prefrec_dist_allreduce_i64(dist, c, sizeof c / sizeof c[0], PREFREC_DIST_SUM);
        q = c;
        memcpy(row->pairs, q, sizeof row->pairs), q += PREFREC_VALIDATE_THRESHOLDS;
        memcpy(row->bought, q, sizeof row->bought), q += PREFREC_VALIDATE_THRESHOLDS;
        memcpy(row->hist, q, sizeof row->hist), q += PREFREC_VALIDATE_BINS;
        memcpy(row->hist_bought, q, sizeof row->hist_bought);
    }
    if (red_bad) {
        prefrec_validation_free(v);
        return prefrec_error_set(err, PREFREC_E_IO, "validate: reduction failed");
    }
    *out = v;
    return PREFREC_OK;
}

static double round6(double x) { return round(x * 1e6) / 1e6; }

prefrec_status prefrec_validation_write_json(const prefrec_validation *v, const prefrec_dataset *ds,
                                             const char *path, prefrec_error *err) {
    if (!v || !ds || !path)
        return prefrec_error_set(err, PREFREC_E_INVAL, "validate json: NULL argument");
    cJSON *root = cJSON_CreateObject();
    char buf[11];
    int ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "cutoff", prefrec_date_format(v->cutoff_day, buf));
    ok = ok && cJSON_AddStringToObject(root, "end", prefrec_date_format(v->end_day, buf));
    cJSON *th = ok ? cJSON_AddArrayToObject(root, "thresholds") : NULL;
    ok = ok && th;
    for (int t = 0; ok && t < PREFREC_VALIDATE_THRESHOLDS; t++) {
        char num[32]; /* "0.0", "0.5", ... as the issue writes them (cJSON would print "0") */
        snprintf(num, sizeof num, "%.1f", v->thresholds[t]);
        ok = cJSON_AddItemToArray(th, cJSON_CreateRaw(num));
    }
    cJSON *bins = ok ? cJSON_AddArrayToObject(root, "hist_scores") : NULL;
    ok = ok && bins;
    for (int b = 0; ok && b < PREFREC_VALIDATE_BINS; b++)
        ok = cJSON_AddItemToArray(bins, cJSON_CreateNumber(0.25 * b));
    cJSON *affs = ok ? cJSON_AddObjectToObject(root, "affiliates") : NULL;
    ok = ok && affs;
    for (size_t r = 0; ok && r < v->n_rows; r++) {
        const prefrec_validate_row *row = &v->rows[r];
        cJSON *o = cJSON_AddObjectToObject(affs, prefrec_dict_str(ds->affiliates, row->affiliate));
        cJSON *rate = o ? cJSON_AddArrayToObject(o, "rate") : NULL;
        cJSON *pairs = rate ? cJSON_AddArrayToObject(o, "pairs") : NULL;
        cJSON *bought = pairs ? cJSON_AddArrayToObject(o, "bought") : NULL;
        cJSON *hist = bought ? cJSON_AddArrayToObject(o, "hist") : NULL;
        cJSON *hb = hist ? cJSON_AddArrayToObject(o, "hist_bought") : NULL;
        ok = hb != NULL;
        for (int t = 0; ok && t < PREFREC_VALIDATE_THRESHOLDS; t++) {
            cJSON *x = row->pairs[t]
                ? cJSON_CreateNumber(round6((double)row->bought[t] / (double)row->pairs[t]))
                : cJSON_CreateNull();
            ok = cJSON_AddItemToArray(rate, x) &&
                cJSON_AddItemToArray(pairs, cJSON_CreateNumber((double)row->pairs[t])) &&
                cJSON_AddItemToArray(bought, cJSON_CreateNumber((double)row->bought[t]));
        }
        for (int b = 0; ok && b < PREFREC_VALIDATE_BINS; b++)
            ok = cJSON_AddItemToArray(hist, cJSON_CreateNumber((double)row->hist[b])) &&
                cJSON_AddItemToArray(hb, cJSON_CreateNumber((double)row->hist_bought[b]));
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory building JSON", path);
    prefrec_atomic at;
    prefrec_status st = prefrec_atomic_open(&at, path, err);
    if (!st) {
        fputs(text, at.f);
        fputc('\n', at.f);
        st = prefrec_atomic_commit(&at, err);
    }
    cJSON_free(text);
    return st;
}

prefrec_status prefrec_validation_write_svg(const prefrec_validation *v, const prefrec_dataset *ds,
                                            const char *path, prefrec_error *err) {
    if (!v || !ds || !path)
        return prefrec_error_set(err, PREFREC_E_INVAL, "validate svg: NULL argument");
    size_t n = v->n_rows ? v->n_rows : 1;
    double *rate = malloc(n * PREFREC_VALIDATE_THRESHOLDS * sizeof *rate);
    double *share = malloc(n * PREFREC_VALIDATE_BINS * sizeof *share);
    double *hx = malloc(PREFREC_VALIDATE_BINS * sizeof *hx);
    prefrec_svg_series *s1 = calloc(n, sizeof *s1), *s2 = calloc(n, sizeof *s2);
    if (!rate || !share || !hx || !s1 || !s2) {
        free(rate);
        free(share);
        free(hx);
        free(s1);
        free(s2);
        return prefrec_error_set(err, PREFREC_E_NOMEM, "%s: out of memory", path);
    }
    for (int b = 0; b < PREFREC_VALIDATE_BINS; b++) hx[b] = 0.25 * b;
    for (size_t r = 0; r < v->n_rows; r++) {
        const prefrec_validate_row *row = &v->rows[r];
        double *y = rate + r * PREFREC_VALIDATE_THRESHOLDS, *h = share + r * PREFREC_VALIDATE_BINS;
        for (int t = 0; t < PREFREC_VALIDATE_THRESHOLDS; t++)
            y[t] = row->pairs[t] ? (double)row->bought[t] / (double)row->pairs[t] : NAN;
        double tot = (double)row->pairs[0];
        for (int b = 0; b < PREFREC_VALIDATE_BINS; b++)
            h[b] = tot > 0 ? (double)row->hist[b] / tot : NAN;
        const char *code = prefrec_dict_str(ds->affiliates, row->affiliate);
        s1[r] = (prefrec_svg_series){code, v->thresholds, y, PREFREC_VALIDATE_THRESHOLDS, NULL};
        s2[r] = (prefrec_svg_series){code, hx, h, PREFREC_VALIDATE_BINS, NULL};
    }
    char c0[11], c1[11], t1[128], t2[128];
    prefrec_date_format(v->cutoff_day, c0);
    prefrec_date_format(v->end_day, c1);
    snprintf(t1, sizeof t1, "Bought again in [%s, %s) among pairs with score >= t", c0, c1);
    snprintf(t2, sizeof t2, "Score distribution as of %s (share of each affiliate's pairs)", c0);
    prefrec_svg_chart ch[2] = {prefrec_svg_chart_default(), prefrec_svg_chart_default()};
    ch[0].title = t1;
    ch[0].x_label = "score threshold t";
    ch[0].y_label = "repurchase rate";
    ch[0].series = s1;
    ch[0].n_series = v->n_rows;
    ch[0].y_min = 0;
    ch[0].y_max = 1;
    ch[0].x_min = -0.1;
    ch[0].x_max = 4.6;
    ch[0].width = 760;
    ch[1].title = t2;
    ch[1].kind = PREFREC_SVG_BARS;
    ch[1].x_label = "score";
    ch[1].y_label = "share of pairs";
    ch[1].series = s2;
    ch[1].n_series = v->n_rows;
    ch[1].width = 760;
    prefrec_status st = prefrec_svg_write_file(path, ch, 2, 1, err);
    free(rate);
    free(share);
    free(hx);
    free(s1);
    free(s2);
    return st;
}
