/* eval_html.c - the evaluation as one self-contained HTML page (no scripts, no external assets):
 * per task a table of every ranker by customer group, each Recall@K drawn as a bar (the mean over
 * windows) with an error bar (the windows' min to max); the figures of each window; the default
 * against the best other ranker with its bootstrap interval drawn around zero; the params chosen
 * on validation; fit and ranking times. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prefrec/date.h"
#include "prefrec/native/atomic.h"
#include "prefrec/native/eval.h"

static const char *task_title[PREFREC_EVAL_TASKS] = {
    "New items (explore): never bought there before the cut-off",
    "Repurchase (repeat): bought before, bought again",
    "Mixed: one list over every product, against everything bought"};

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

/* A value with a bar (mean / scale) and, over several windows, an error bar from min to max. */
static void bar_cell(FILE *f, const prefrec_spread *sp, int nw, double scale, int best) {
    if (nw == 0) {
        fprintf(f, "<td>&ndash;</td>");
        return;
    }
    double k = scale > 0 ? 100.0 / scale : 0;
    fprintf(f, "<td class=\"bar%s\"><div class=b style=\"width:%.1f%%\"></div>",
            best ? " best" : "", sp->mean * k);
    if (nw > 1)
        fprintf(f, "<div class=e style=\"left:%.1f%%;width:%.1f%%\"></div>", sp->min * k,
                (sp->max - sp->min) * k);
    fprintf(f, "<span title=\"windows: %d, min %.4f, max %.4f, sd %.4f\">%.4f</span></td>", nw,
            sp->min, sp->max, sp->sd, sp->mean);
}

static void num_cell(FILE *f, double v, int users) {
    if (users)
        fprintf(f, "<td>%.4f</td>", v);
    else
        fprintf(f, "<td>&ndash;</td>");
}

static void task_table(FILE *f, const prefrec_eval_result *r, int t) {
    int groups[3] = {PREFREC_EVAL_KNOWN, PREFREC_EVAL_COLD, PREFREC_EVAL_ALL};
    double scale[3] = {0, 0, 0}, bestv[3] = {-1, -1, -1};
    for (size_t i = 0; i < r->n_rankers; i++)
        for (int g = 0; g < 3; g++) {
            prefrec_spread sp;
            if (!prefrec_eval_spread(r, t, groups[g], -1, i, PREFREC_M_RECALL, &sp)) continue;
            if (sp.max > scale[g]) scale[g] = sp.max;
            if (sp.mean > bestv[g]) bestv[g] = sp.mean;
        }
    fprintf(f, "<h2>");
    html_text(f, task_title[t]);
    fprintf(f,
            "</h2>\n<table><tr><th>ranker</th><th>known R@%d</th><th>cold R@%d</th>"
            "<th>overall R@%d</th><th>NDCG@%d</th><th>PHR@%d</th><th>coverage</th>",
            r->k, r->k, r->k, r->k, r->k);
    if (t == PREFREC_EVAL_MIXED)
        fprintf(f,
                "<th>R_rep</th><th>PHR_rep</th><th>R_expl</th><th>PHR_expl</th>"
                "<th>repeat ratio</th>");
    fprintf(f, "<th>users known / cold</th></tr>\n");
    for (size_t i = 0; i < r->n_rankers; i++) {
        const prefrec_metrics *m = prefrec_eval_at(r, -1, t, PREFREC_EVAL_ALL, -1, i);
        if (!m->evaluated) continue;
        fprintf(f, "<tr><td>");
        html_text(f, r->ranker_names[i]);
        if (!strcmp(r->ranker_names[i], r->defaults[t])) fprintf(f, " <b>(default)</b>");
        fprintf(f, "</td>");
        for (int g = 0; g < 3; g++) {
            prefrec_spread sp;
            int nw = prefrec_eval_spread(r, t, groups[g], -1, i, PREFREC_M_RECALL, &sp);
            bar_cell(f, &sp, nw, scale[g], nw && sp.mean == bestv[g]);
        }
        num_cell(f, m->ndcg, m->users > 0);
        num_cell(f, m->hit_rate, m->users > 0);
        num_cell(f, m->coverage, m->catalogue > 0);
        if (t == PREFREC_EVAL_MIXED) {
            num_cell(f, m->recall_rep, m->users_rep > 0);
            num_cell(f, m->hit_rate_rep, m->users_rep > 0);
            num_cell(f, m->recall_expl, m->users_expl > 0);
            num_cell(f, m->hit_rate_expl, m->users_expl > 0);
            num_cell(f, m->repeat_ratio, m->users > 0);
        }
        fprintf(f, "<td>%lld / %lld</td></tr>\n",
                (long long)prefrec_eval_at(r, -1, t, PREFREC_EVAL_KNOWN, -1, i)->users,
                (long long)prefrec_eval_at(r, -1, t, PREFREC_EVAL_COLD, -1, i)->users);
    }
    fprintf(f, "</table>\n");
    if (r->n_windows < 2) return;
    /* every window's overall and known Recall@K */
    char d1[11];
    fprintf(f, "<details><summary>Recall@%d by window</summary><table><tr><th>ranker</th>", r->k);
    for (int w = 0; w < r->n_windows; w++)
        fprintf(f, "<th>from %s<br>known / overall</th>",
                prefrec_date_format(r->windows[w].cutoff, d1));
    fprintf(f, "</tr>\n");
    for (size_t i = 0; i < r->n_rankers; i++) {
        if (!prefrec_eval_at(r, -1, t, PREFREC_EVAL_ALL, -1, i)->evaluated) continue;
        fprintf(f, "<tr><td>");
        html_text(f, r->ranker_names[i]);
        fprintf(f, "</td>");
        for (int w = 0; w < r->n_windows; w++) {
            const prefrec_metrics *k = prefrec_eval_at(r, w, t, PREFREC_EVAL_KNOWN, -1, i);
            const prefrec_metrics *o = prefrec_eval_at(r, w, t, PREFREC_EVAL_ALL, -1, i);
            fprintf(f, "<td>%.4f / %.4f</td>", k->recall, o->recall);
        }
        fprintf(f, "</tr>\n");
    }
    fprintf(f, "</table></details>\n");
}

static void intervals(FILE *f, const prefrec_eval_result *r) {
    double scale = 0;
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            const prefrec_eval_interval *iv = &r->interval[t][g];
            if (!iv->evaluated) continue;
            if (fabs(iv->lo) > scale) scale = fabs(iv->lo);
            if (fabs(iv->hi) > scale) scale = fabs(iv->hi);
        }
    fprintf(f,
            "<h2>Default against the best other ranker</h2><p>Recall@%d of the default minus the "
            "best other ranker of the task and group (by mean Recall@%d over windows), pooled "
            "over every window's users; 95%% interval of a paired bootstrap over customers (%d "
            "resamples, seed %llu). The bar spans the interval, the dot is the difference, the "
            "middle line is zero.</p>\n<table><tr><th>task</th><th>group</th><th>default</th>"
            "<th>baseline</th><th>difference</th><th>95%% interval</th><th></th><th>verdict</th>"
            "<th>customers</th></tr>\n",
            r->k, r->k, r->bootstrap, (unsigned long long)r->seed);
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
        for (int g = 0; g < PREFREC_EVAL_GROUPS; g++) {
            const prefrec_eval_interval *iv = &r->interval[t][g];
            if (!iv->evaluated) continue;
            double k = scale > 0 ? 50.0 / scale : 0;
            fprintf(f, "<tr><td>%s</td><td>%s</td><td>", prefrec_eval_task_name(t),
                    prefrec_eval_group_name(g));
            html_text(f, r->ranker_names[iv->ref]);
            fprintf(f, " %.4f</td><td>", iv->ref_recall);
            html_text(f, r->ranker_names[iv->baseline]);
            fprintf(f,
                    " %.4f</td><td>%+.4f</td><td>[%+.4f, %+.4f]</td><td class=ci><div class=z>"
                    "</div><div class=e style=\"left:%.1f%%;width:%.1f%%\"></div><div class=d "
                    "style=\"left:%.1f%%\"></div></td><td>%s</td><td>%lld</td></tr>\n",
                    iv->baseline_recall, iv->diff, iv->lo, iv->hi, 50 + iv->lo * k,
                    (iv->hi - iv->lo) * k, 50 + iv->diff * k,
                    iv->excludes_zero ? (iv->diff > 0 ? "better" : "worse") : "no difference",
                    (long long)iv->customers);
        }
    fprintf(f, "</table>\n");
}

static void tuning(FILE *f, const prefrec_eval_result *r) {
    int any = 0;
    for (size_t i = 0; i < r->n_rankers; i++)
        for (int t = 0; t < PREFREC_EVAL_TASKS; t++)
            for (int w = 0; w < r->n_windows; w++)
                for (int s = 0; s < r->n_affiliates; s++) {
                    const prefrec_eval_choice *c = prefrec_eval_choice_at(r, w, s, t, i);
                    if (!c->tuned) continue;
                    if (!any++)
                        fprintf(f,
                                "<h2>Params chosen on validation</h2><table><tr><th>ranker"
                                "</th><th>task</th><th>window</th><th>affiliate</th><th>"
                                "params</th><th>grid point</th><th>validation R@%d</th>"
                                "<th>validation NDCG</th></tr>\n",
                                r->k);
                    fprintf(f, "<tr><td>");
                    html_text(f, r->ranker_names[i]);
                    fprintf(f, "</td><td>%s</td><td>%d</td><td>", prefrec_eval_task_name(t), w + 1);
                    html_text(f, r->affiliate_names[s]);
                    fprintf(f, "</td><td>");
                    html_text(f, c->params);
                    fprintf(f, "</td><td>%d of %d</td><td>%.4f</td><td>%.4f</td></tr>\n",
                            c->grid_index + 1, c->grid_points, c->val_recall, c->val_ndcg);
                }
    if (any) fprintf(f, "</table>\n");
}

prefrec_status prefrec_eval_write_html(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err) {
    prefrec_atomic a;
    prefrec_status st = prefrec_atomic_open(&a, path, err);
    if (st) return st;
    FILE *f = a.f;
    char d1[11], d2[11], d3[11];
    fprintf(f,
            "<!doctype html><html><head><meta charset=utf-8><title>prefrec eval</title><style>"
            "body{font:14px sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
            "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            "td{position:relative;min-width:5em}th{background:#f3f3f3}td:first-child,th:first-"
            "child{text-align:"
            "left}td.bar{padding-bottom:12px;min-width:7em}.b{position:absolute;left:0;bottom:3px;"
            "height:6px;background:#8fb8e3}.e{position:absolute;bottom:1px;height:10px;box-sizing:"
            "border-box;border-left:1px solid #234;border-right:1px solid #234;background:"
            "linear-gradient(#234,#234) center/100%% 1px no-repeat}.best{font-weight:bold}"
            "td.ci{min-width:12em}.ci .z{position:absolute;left:50%%;top:0;bottom:0;"
            "border-left:1px dashed #999}.ci .d{position:absolute;top:35%%;width:6px;height:30%%;"
            "margin-left:-3px;background:#c33;border-radius:3px}</style></head><body>\n"
            "<h1>prefrec evaluation</h1>\n<p>");
    if (r->n_windows == 1)
        fprintf(f, "Trained on purchases before %s, tested on %s to %s (exclusive).",
                prefrec_date_format(r->cutoff, d1), d1, prefrec_date_format(r->end, d2));
    else {
        fprintf(f, "%d test windows of %d days, each trained on every purchase before its cut-off:",
                r->n_windows, r->step_days);
        for (int w = 0; w < r->n_windows; w++)
            fprintf(f, "%s %s to %s", w ? "," : "", prefrec_date_format(r->windows[w].cutoff, d1),
                    prefrec_date_format(r->windows[w].end - 1, d2));
        fprintf(f,
                ". Figures are the mean over windows; the error bars span the windows' min to "
                "max.");
    }
    fprintf(f, " K = %d. Validation window: %d days before each cut-off", r->k, r->val_days);
    if (r->n_windows && r->windows[0].val_from < r->windows[0].cutoff)
        fprintf(f, " (the first from %s)", prefrec_date_format(r->windows[0].val_from, d3));
    fprintf(f,
            ". Known customers bought in the affiliate before the cut-off, cold ones did not. "
            "Default ranker: <b>");
    html_text(f, r->default_name);
    fprintf(f, "</b>. Bars are relative to the largest value in each column.</p>\n");
    if (r->note[0]) {
        fprintf(f, "<p><b>Note:</b> ");
        html_text(f, r->note);
        fprintf(f, "</p>\n");
    }
    for (int t = 0; t < PREFREC_EVAL_TASKS; t++) {
        int any = 0;
        for (size_t i = 0; i < r->n_rankers; i++) any |= (r->ranker_tasks[i] >> t) & 1;
        if (any) task_table(f, r, t);
    }
    intervals(f, r);
    tuning(f, r);
    fprintf(f,
            "<h2>Time (seconds, summed over windows and affiliates)</h2><table><tr><th>ranker</th>"
            "<th>tuning</th><th>fit</th><th>rank all users</th></tr>\n");
    for (size_t i = 0; i < r->n_rankers; i++) {
        fprintf(f, "<tr><td>");
        html_text(f, r->ranker_names[i]);
        fprintf(f, "</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n", r->tune_seconds[i],
                r->fit_seconds[i], r->score_seconds[i]);
    }
    fprintf(f, "</table></body></html>\n");
    return prefrec_atomic_commit(&a, err);
}
