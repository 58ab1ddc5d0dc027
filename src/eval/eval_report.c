/* eval_report.c - the evaluation's JSON (the shape documented in docs/eval.md) and the terminal
 * table. The HTML page is eval_html.c. */
#include <stdlib.h>
#include <string.h>

#include "prefrec/date.h"
#include "prefrec/native/atomic.h"
#include "prefrec/native/eval.h"

static const char *task_title[PREFREC_EVAL_TASKS] = {
    "New items (explore: never bought there before the cut-off)",
    "Repurchase (repeat: bought before, bought again)",
    "Mixed (one list over every product, against everything bought)"};

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static const char *field_key[PREFREC_M_COUNT] = {"recall",      "ndcg",          "hit_rate",
                                                 "coverage",    "recall_rep",    "hit_rate_rep",
                                                 "recall_expl", "hit_rate_expl", "repeat_ratio"};

/* the figures a task reports, in output order */
static int task_fields(int task, int *out) {
    int n = 0;
    out[n++] = PREFREC_M_RECALL;
    out[n++] = PREFREC_M_NDCG;
    out[n++] = PREFREC_M_HIT_RATE;
    out[n++] = PREFREC_M_COVERAGE;
    if (task == PREFREC_EVAL_MIXED) {
        out[n++] = PREFREC_M_RECALL_REP;
        out[n++] = PREFREC_M_HIT_RATE_REP;
        out[n++] = PREFREC_M_RECALL_EXPL;
        out[n++] = PREFREC_M_HIT_RATE_EXPL;
        out[n++] = PREFREC_M_REPEAT_RATIO;
    }
    return n;
}

static void json_mean(FILE *f, const prefrec_metrics *m, int task) {
    int fl[PREFREC_M_COUNT], nf = task_fields(task, fl);
    for (int j = 0; j < nf; j++) /* null: no users behind the figure */
        if (prefrec_metrics_users(m, fl[j]) == 0)
            fprintf(f, "\"%s\": null, ", field_key[fl[j]]);
        else
            fprintf(f, "\"%s\": %.6f, ", field_key[fl[j]], prefrec_metrics_value(m, fl[j]));
    fprintf(f, "\"users\": %lld, \"covered\": %lld, \"catalogue\": %lld", (long long)m->users,
            (long long)m->covered, (long long)m->catalogue);
    if (task == PREFREC_EVAL_MIXED)
        fprintf(f, ", \"users_rep\": %lld, \"users_expl\": %lld", (long long)m->users_rep,
                (long long)m->users_expl);
}

/* {ranker: {means..., "sd": {...}, "windows": {figure: [per window, null without users]}}} */
static void json_group(FILE *f, const prefrec_eval_result *r, int task, int group) {
    fputc('{', f);
    int first = 1, fl[PREFREC_M_COUNT], nf = task_fields(task, fl);
    for (size_t i = 0; i < r->n_rankers; i++) {
        const prefrec_metrics *m = prefrec_eval_at(r, -1, task, group, -1, i);
        if (!m->evaluated) continue;
        fprintf(f, "%s\n    ", first ? "" : ",");
        first = 0;
        json_str(f, r->ranker_names[i]);
        fprintf(f, ": {");
        json_mean(f, m, task);
        fprintf(f, ",\n      \"sd\": {");
        for (int j = 0; j < nf; j++) {
            prefrec_spread sp;
            if (prefrec_eval_spread(r, task, group, -1, i, fl[j], &sp))
                fprintf(f, "%s\"%s\": %.6f", j ? ", " : "", field_key[fl[j]], sp.sd);
            else
                fprintf(f, "%s\"%s\": null", j ? ", " : "", field_key[fl[j]]);
        }
        fprintf(f, "},\n      \"windows\": {");
        for (int j = 0; j <= nf; j++) {
            fprintf(f, "%s\"%s\": [", j ? ", " : "", j < nf ? field_key[fl[j]] : "users");
            for (int w = 0; w < r->n_windows; w++) {
                const prefrec_metrics *mw = prefrec_eval_at(r, w, task, group, -1, i);
                fprintf(f, "%s", w ? ", " : "");
                if (j == nf)
                    fprintf(f, "%lld", (long long)mw->users);
                else if (prefrec_metrics_users(mw, fl[j]) == 0)
                    fprintf(f, "null");
                else
                    fprintf(f, "%.6f", prefrec_metrics_value(mw, fl[j]));
            }
            fputc(']', f);
        }
        fprintf(f, "}}");
    }
    fputc('}', f);
}

static void json_interval(FILE *f, const prefrec_eval_result *r, const prefrec_eval_interval *iv) {
    if (!iv->evaluated) {
        fprintf(f, "null");
        return;
    }
    fprintf(f, "{\"default\": ");
    json_str(f, r->ranker_names[iv->ref]);
    fprintf(f, ", \"baseline\": ");
    json_str(f, r->ranker_names[iv->baseline]);
    fprintf(f,
            ", \"metric\": \"recall\", \"default_value\": %.6f, \"baseline_value\": %.6f, "
            "\"diff\": %.6f, \"lo\": %.6f, \"hi\": %.6f, \"excludes_zero\": %s, \"users\": %lld, "
            "\"customers\": %lld}",
            iv->ref_recall, iv->baseline_recall, iv->diff, iv->lo, iv->hi,
            iv->excludes_zero ? "true" : "false", (long long)iv->users, (long long)iv->customers);
}

prefrec_status prefrec_eval_write_json(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err) {
    prefrec_atomic a;
    prefrec_status st = prefrec_atomic_open(&a, path, err);
    if (st) return st;
    FILE *f = a.f;
    char d1[11], d2[11], d3[11];
    fprintf(f, "{\"k\": %d, \"cutoff\": \"%s\", \"end\": \"%s\", \"default\": ", r->k,
            prefrec_date_format(r->cutoff, d1), prefrec_date_format(r->end, d2));
    json_str(f, r->default_name);
    fprintf(f, ",\n \"step_days\": %d, \"val_days\": %d, \"bootstrap\": %d, \"seed\": %llu",
            r->step_days, r->val_days, r->bootstrap, (unsigned long long)r->seed);
    if (r->note[0]) {
        fprintf(f, ", \"note\": ");
        json_str(f, r->note);
    }
    fprintf(f, ",\n \"windows\": [");
    for (int w = 0; w < r->n_windows; w++) {
        const prefrec_eval_window *win = &r->windows[w];
        fprintf(f,
                "%s\n  {\"cutoff\": \"%s\", \"end\": \"%s\", \"validation_from\": ", w ? "," : "",
                prefrec_date_format(win->cutoff, d1), prefrec_date_format(win->end, d2));
        if (win->val_from < win->cutoff)
            fprintf(f, "\"%s\"", prefrec_date_format(win->val_from, d3));
        else
            fprintf(f, "null");
        fprintf(f, ", \"train_pairs\": {");
        for (int s = 0; s < r->n_affiliates; s++) {
            fprintf(f, "%s", s ? ", " : "");
            json_str(f, r->affiliate_names[s]);
            fprintf(f, ": %lld", (long long)r->train_pairs[(size_t)w * r->n_affiliates + s]);
        }
        fprintf(f, "}}");
    }
    fprintf(f, "],\n \"best\": {");
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        int b = prefrec_eval_best(r, t);
        fprintf(f, "%s\"%s\": ", t ? ", " : "", prefrec_eval_task_name(t));
        if (b >= 0)
            json_str(f, r->ranker_names[b]);
        else
            fprintf(f, "null");
    }
    const char *secs[3] = {"fit_seconds", "rank_seconds", "tune_seconds"};
    const double *sv[3] = {r->fit_seconds, r->score_seconds, r->tune_seconds};
    for (int k = 0; k < 3; k++) {
        fprintf(f, "},\n \"%s\": {", secs[k]);
        for (size_t i = 0; i < r->n_rankers; i++) {
            fprintf(f, "%s", i ? ", " : "");
            json_str(f, r->ranker_names[i]);
            fprintf(f, ": %.3f", sv[k][i]);
        }
    }
    fprintf(f, "}");
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        fprintf(f, ",\n \"%s\": {", prefrec_eval_task_name(t));
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            fprintf(f, "%s\n  \"%s\": ", g ? "," : "", prefrec_eval_group_name(g));
            json_group(f, r, t, g);
        }
        fprintf(f, ",\n  \"by_affiliate\": {");
        for (int s = 0; s < r->n_affiliates; s++) {
            fprintf(f, "%s\n    ", s ? "," : "");
            json_str(f, r->affiliate_names[s]);
            fprintf(f, ": {");
            int first = 1;
            for (size_t i = 0; i < r->n_rankers; i++) {
                const prefrec_metrics *m = prefrec_eval_at(r, -1, t, PREFREC_EVAL_ALL, s, i);
                if (!m->evaluated) continue;
                fprintf(f, "%s", first ? "" : ", ");
                first = 0;
                json_str(f, r->ranker_names[i]);
                fprintf(f, ": {");
                json_mean(f, m, t);
                fputc('}', f);
            }
            fputc('}', f);
        }
        fprintf(f, "}}");
    }
    fprintf(f, ",\n \"intervals\": {");
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        fprintf(f, "%s\n  \"%s\": {", t ? "," : "", prefrec_eval_task_name(t));
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            fprintf(f, "%s\n    \"%s\": ", g ? "," : "", prefrec_eval_group_name(g));
            json_interval(f, r, &r->interval[t][g]);
        }
        fputc('}', f);
    }
    fprintf(f, "},\n \"tuning\": [");
    int first = 1;
    for (size_t i = 0; i < r->n_rankers; i++)
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            for (int w = 0; w < r->n_windows; w++)
                for (int s = 0; s < r->n_affiliates; s++) {
                    const prefrec_eval_choice *c = prefrec_eval_choice_at(r, w, s, t, i);
                    if (!c->tuned) continue;
                    fprintf(f, "%s\n  {\"ranker\": ", first ? "" : ",");
                    first = 0;
                    json_str(f, r->ranker_names[i]);
                    fprintf(f, ", \"task\": \"%s\", \"window\": %d, \"affiliate\": ",
                            prefrec_eval_task_name(t), w + 1);
                    json_str(f, r->affiliate_names[s]);
                    fprintf(f, ", \"params\": ");
                    json_str(f, c->params);
                    fprintf(f,
                            ", \"grid_index\": %d, \"grid_points\": %d, \"val_recall\": %.6f, "
                            "\"val_ndcg\": %.6f, \"val_users\": %lld}",
                            c->grid_index, c->grid_points, c->val_recall, c->val_ndcg,
                            (long long)c->val_users);
                }
    fprintf(f, "]}\n");
    return prefrec_atomic_commit(&a, err);
}

/* ---- terminal ------------------------------------------------------------------------------ */
/* "0.1234±0.0056" (sd over windows; the ± only with more than one window), or "-" */
static const char *mean_sd(const prefrec_eval_result *r, int t, int g, size_t i, int field,
                           char *buf, size_t n) {
    prefrec_spread sp;
    int nw = prefrec_eval_spread(r, t, g, -1, i, field, &sp);
    if (nw == 0)
        snprintf(buf, n, "-");
    else if (r->n_windows > 1)
        snprintf(buf, n, "%.4f\xc2\xb1%.4f", sp.mean, sp.sd);
    else
        snprintf(buf, n, "%.4f", sp.mean);
    return buf;
}

static void print_tasks(const prefrec_eval_result *r, FILE *f) {
    char b[3][40];
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        int any = 0;
        for (size_t i = 0; i < r->n_rankers; i++) any |= (r->ranker_tasks[i] >> t) & 1;
        if (!any) continue;
        double uk = 0, uc = 0;
        for (size_t i = 0; i < r->n_rankers && uk + uc == 0; i++) {
            if (!((r->ranker_tasks[i] >> t) & 1)) continue;
            uk = (double)prefrec_eval_at(r, -1, t, PREFREC_EVAL_KNOWN, -1, i)->users;
            uc = (double)prefrec_eval_at(r, -1, t, PREFREC_EVAL_COLD, -1, i)->users;
        }
        fprintf(f, "\n%s; users per window: %.0f known, %.0f cold\n", task_title[t],
                uk / r->n_windows, uc / r->n_windows);
        if (t != PREFREC_EVAL_MIXED)
            fprintf(f, "  %-13s %15s %15s %15s %7s %6s %6s %7s\n", "ranker", "known R@K",
                    "cold R@K", "overall R@K", "NDCG", "PHR", "cover", "fit s");
        else
            fprintf(f, "  %-13s %15s %15s %15s %7s %6s %7s %7s %7s %7s %6s\n", "ranker",
                    "known R@K", "cold R@K", "overall R@K", "NDCG", "PHR", "R_rep", "PHR_rep",
                    "R_expl", "PHR_exp", "rep%");
        for (size_t i = 0; i < r->n_rankers; i++) {
            const prefrec_metrics *m = prefrec_eval_at(r, -1, t, PREFREC_EVAL_ALL, -1, i);
            if (!m->evaluated) continue;
            int is_def = !strcmp(r->ranker_names[i], r->defaults[t]);
            fprintf(f, "%c %-13s %15s %15s %15s %7.4f %6.4f", is_def ? '*' : ' ',
                    r->ranker_names[i],
                    mean_sd(r, t, PREFREC_EVAL_KNOWN, i, PREFREC_M_RECALL, b[0], sizeof b[0]),
                    mean_sd(r, t, PREFREC_EVAL_COLD, i, PREFREC_M_RECALL, b[1], sizeof b[1]),
                    mean_sd(r, t, PREFREC_EVAL_ALL, i, PREFREC_M_RECALL, b[2], sizeof b[2]),
                    m->ndcg, m->hit_rate);
            if (t != PREFREC_EVAL_MIXED)
                fprintf(f, " %6.4f %7.2f\n", m->coverage, r->fit_seconds[i]);
            else
                fprintf(f, " %7.4f %7.4f %7.4f %7.4f %5.1f%%\n", m->recall_rep, m->hit_rate_rep,
                        m->recall_expl, m->hit_rate_expl, 100.0 * m->repeat_ratio);
        }
    }
}

void prefrec_eval_print_table(const prefrec_eval_result *r, FILE *f) {
    char d1[11], d2[11];
    if (r->n_windows == 1)
        fprintf(f, "train < %s <= test < %s", prefrec_date_format(r->cutoff, d1),
                prefrec_date_format(r->end, d2));
    else {
        fprintf(f, "%d test windows of %d days, cut-offs", r->n_windows, r->step_days);
        for (int w = 0; w < r->n_windows; w++)
            fprintf(f, "%s %s", w ? "," : "", prefrec_date_format(r->windows[w].cutoff, d1));
        fprintf(f, "; last ends %s", prefrec_date_format(r->end - 1, d2));
    }
    fprintf(f, "; K = %d; validation %d days; * = default (%s)\n", r->k, r->val_days,
            r->default_name);
    if (r->note[0]) fprintf(f, "note: %s\n", r->note);
    fprintf(f,
            "figures: %s; known = bought in the affiliate before the cut-off, cold = not; "
            "PHR = share of users with a hit\n",
            r->n_windows > 1 ? "mean over windows (R@K: mean\xc2\xb1sd)" : "one window");
    print_tasks(r, f);
    int any = 0;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) any |= r->interval[t][g].evaluated;
    if (!any && r->bootstrap > 0)
        fprintf(f,
                "\nNo interval: the reference ranker '%s' was not measured, or there is nothing "
                "to compare it with (--default NAME picks another)\n",
                r->defaults[0]);
    if (any) {
        fprintf(f,
                "\nDefault minus best other ranker, Recall@%d pooled over windows; 95%% paired "
                "bootstrap over customers (%d resamples, seed %llu):\n",
                r->k, r->bootstrap, (unsigned long long)r->seed);
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
                const prefrec_eval_interval *iv = &r->interval[t][g];
                if (!iv->evaluated) continue;
                fprintf(f,
                        "  %-10s %-7s %s %.4f - %s %.4f = %+.4f [%+.4f, %+.4f] %s (%lld "
                        "customers)\n",
                        prefrec_eval_task_name(t), prefrec_eval_group_name(g),
                        r->ranker_names[iv->ref], iv->ref_recall, r->ranker_names[iv->baseline],
                        iv->baseline_recall, iv->diff, iv->lo, iv->hi,
                        iv->excludes_zero ? (iv->diff > 0 ? "better" : "worse") : "no difference",
                        (long long)iv->customers);
            }
    }
    /* tuned params, one line per ranker and task */
    int header = 0;
    for (size_t i = 0; i < r->n_rankers; i++)
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
            int n = 0;
            for (int w = 0; w < r->n_windows; w++)
                for (int s = 0; s < r->n_affiliates; s++) {
                    const prefrec_eval_choice *c = prefrec_eval_choice_at(r, w, s, t, i);
                    if (!c->tuned) continue;
                    if (n++ == 0)
                        fprintf(f, "%s  %s, %s:",
                                header++ ? ""
                                         : "\nParams chosen on validation (window/affiliate):\n",
                                r->ranker_names[i], prefrec_eval_task_name(t));
                    fprintf(f, " w%d", w + 1);
                    if (r->n_affiliates > 1) fprintf(f, "/%s", r->affiliate_names[s]);
                    fprintf(f, " %s;", c->params[0] ? c->params : "(no description)");
                }
            if (n) fprintf(f, "\n");
        }
}
