/* eval_report.c - the evaluation's outputs: JSON (the documented shape), a self-contained HTML
 * page with every ranker side by side, and the terminal table. */
#include <stdlib.h>
#include <string.h>

#include "prefrec/native/atomic.h"
#include "prefrec/date.h"
#include "prefrec/native/eval.h"

static const char *task_key[2] = {"new_items", "repurchase"};
static const char *task_title[2] = {"New items (never bought before the cut-off)",
                                    "Repurchase (bought before, bought again)"};

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

static void json_metrics_block(FILE *f, const prefrec_eval_result *r, int task, int slot) {
    fputc('{', f);
    int first = 1;
    for (size_t i = 0; i < r->n_rankers; i++) {
        const prefrec_metrics *m = prefrec_eval_get(r, task, slot, i);
        if (!m->evaluated) continue;
        fprintf(f, "%s", first ? "" : ", ");
        first = 0;
        json_str(f, r->ranker_names[i]);
        fprintf(f,
                ": {\"recall\": %.6f, \"ndcg\": %.6f, \"hit_rate\": %.6f, \"coverage\": %.6f, "
                "\"users\": %lld, \"covered\": %lld, \"catalogue\": %lld}",
                m->recall, m->ndcg, m->hit_rate, m->coverage, (long long)m->users,
                (long long)m->covered, (long long)m->catalogue);
    }
    fputc('}', f);
}

prefrec_status prefrec_eval_write_json(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err) {
    prefrec_atomic a;
    prefrec_status st = prefrec_atomic_open(&a, path, err);
    if (st) return st;
    FILE *f = a.f;
    char d1[11], d2[11];
    fprintf(f, "{\"k\": %d, \"cutoff\": \"%s\", \"end\": \"%s\", \"default\": ", r->k,
            prefrec_date_format(r->cutoff, d1), prefrec_date_format(r->end, d2));
    json_str(f, r->default_name);
    fprintf(f, ",\n \"best\": {");
    for (int t = 0; t < 2; t++) {
        int b = prefrec_eval_best(r, t);
        fprintf(f, "%s\"%s\": ", t ? ", " : "", task_key[t]);
        if (b >= 0)
            json_str(f, r->ranker_names[b]);
        else
            fprintf(f, "null");
    }
    fprintf(f, "},\n \"fit_seconds\": {");
    for (size_t i = 0; i < r->n_rankers; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, r->ranker_names[i]);
        fprintf(f, ": %.3f", r->fit_seconds[i]);
    }
    fprintf(f, "},\n \"rank_seconds\": {");
    for (size_t i = 0; i < r->n_rankers; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, r->ranker_names[i]);
        fprintf(f, ": %.3f", r->score_seconds[i]);
    }
    fprintf(f, "},\n \"train_pairs\": {");
    for (int s = 0; s < r->n_affiliates; s++) {
        fprintf(f, "%s", s ? ", " : "");
        json_str(f, r->affiliate_names[s]);
        fprintf(f, ": %lld", (long long)r->train_pairs[s]);
    }
    fprintf(f, "}");
    for (int t = 0; t < 2; t++) {
        fprintf(f, ",\n \"%s\": {\"overall\": ", task_key[t]);
        json_metrics_block(f, r, t, -1);
        fprintf(f, ",\n   \"by_affiliate\": {");
        for (int s = 0; s < r->n_affiliates; s++) {
            fprintf(f, "%s\n    ", s ? "," : "");
            json_str(f, r->affiliate_names[s]);
            fprintf(f, ": ");
            json_metrics_block(f, r, t, s);
        }
        fprintf(f, "}}");
    }
    fprintf(f, "}\n");
    return prefrec_atomic_commit(&a, err);
}

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

/* a number with a bar scaled to the column's best */
static void html_cell(FILE *f, double v, double best, int is_best) {
    double w = best > 0 ? 100.0 * v / best : 0;
    fprintf(f, "<td%s><div class=b style=\"width:%.1f%%\"></div><span>%.4f</span></td>",
            is_best ? " class=best" : "", w, v);
}

prefrec_status prefrec_eval_write_html(const prefrec_eval_result *r, const char *path,
                                       prefrec_error *err) {
    prefrec_atomic a;
    prefrec_status st = prefrec_atomic_open(&a, path, err);
    if (st) return st;
    FILE *f = a.f;
    char d1[11], d2[11];
    fprintf(f,
            "<!doctype html><html><head><meta charset=utf-8><title>prefrec eval</title><style>"
            "body{font:14px sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
            "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            "td{position:relative;min-width:5em}th{background:#f3f3f3}td:first-child{text-align:"
            "left}.b{position:absolute;left:0;top:0;bottom:0;background:#cfe3f7;z-index:-1}"
            "td span{position:relative}.best{font-weight:bold}</style></head><body>\n");
    fprintf(f,
            "<h1>prefrec evaluation</h1><p>Trained on purchases before %s, tested on %s to %s "
            "(exclusive). K = %d. Default ranker: <b>",
            prefrec_date_format(r->cutoff, d1), d1, prefrec_date_format(r->end, d2), r->k);
    html_text(f, r->default_name);
    fprintf(f, "</b>. Bars are relative to the best value in each column.</p>\n");
    for (int t = 0; t < 2; t++) {
        fprintf(f,
                "<h2>%s</h2><table><tr><th>ranker</th><th>Recall@%d</th><th>NDCG@%d</th>"
                "<th>hit rate</th><th>coverage</th>",
                task_title[t], r->k, r->k);
        for (int s = 0; s < r->n_affiliates; s++) {
            fprintf(f, "<th>");
            html_text(f, r->affiliate_names[s]);
            fprintf(f, " R@%d</th><th>", r->k);
            html_text(f, r->affiliate_names[s]);
            fprintf(f, " N@%d</th>", r->k);
        }
        fprintf(f, "<th>users</th></tr>\n");
        int nc = 4 + 2 * r->n_affiliates;
        double *best = calloc((size_t)nc, sizeof *best);
        for (size_t i = 0; best && i < r->n_rankers; i++) {
            const prefrec_metrics *m = prefrec_eval_get(r, t, -1, i);
            if (!m->evaluated) continue;
            double v[4] = {m->recall, m->ndcg, m->hit_rate, m->coverage};
            for (int c = 0; c < 4; c++)
                if (v[c] > best[c]) best[c] = v[c];
            for (int s = 0; s < r->n_affiliates; s++) {
                const prefrec_metrics *ms = prefrec_eval_get(r, t, s, i);
                if (ms->recall > best[4 + 2 * s]) best[4 + 2 * s] = ms->recall;
                if (ms->ndcg > best[5 + 2 * s]) best[5 + 2 * s] = ms->ndcg;
            }
        }
        for (size_t i = 0; best && i < r->n_rankers; i++) {
            const prefrec_metrics *m = prefrec_eval_get(r, t, -1, i);
            if (!m->evaluated) continue;
            fprintf(f, "<tr><td>");
            html_text(f, r->ranker_names[i]);
            if (!strcmp(r->ranker_names[i], r->default_name)) fprintf(f, " (default)");
            fprintf(f, "</td>");
            double v[4] = {m->recall, m->ndcg, m->hit_rate, m->coverage};
            for (int c = 0; c < 4; c++) html_cell(f, v[c], best[c], v[c] == best[c]);
            for (int s = 0; s < r->n_affiliates; s++) {
                const prefrec_metrics *ms = prefrec_eval_get(r, t, s, i);
                html_cell(f, ms->recall, best[4 + 2 * s], ms->recall == best[4 + 2 * s]);
                html_cell(f, ms->ndcg, best[5 + 2 * s], ms->ndcg == best[5 + 2 * s]);
            }
            fprintf(f, "<td>%lld</td></tr>\n", (long long)m->users);
        }
        free(best);
        fprintf(f, "</table>\n");
    }
    fprintf(f,
            "<h2>Time (seconds, summed over affiliates)</h2><table><tr><th>ranker</th>"
            "<th>fit</th><th>rank all users</th></tr>\n");
    for (size_t i = 0; i < r->n_rankers; i++) {
        fprintf(f, "<tr><td>");
        html_text(f, r->ranker_names[i]);
        fprintf(f, "</td><td>%.2f</td><td>%.2f</td></tr>\n", r->fit_seconds[i],
                r->score_seconds[i]);
    }
    fprintf(f, "</table></body></html>\n");
    return prefrec_atomic_commit(&a, err);
}

void prefrec_eval_print_table(const prefrec_eval_result *r, FILE *f) {
    char d1[11], d2[11];
    fprintf(f, "train < %s <= test < %s, K = %d, default ranker: %s\n",
            prefrec_date_format(r->cutoff, d1), prefrec_date_format(r->end, d2), r->k,
            r->default_name);
    for (int t = 0; t < 2; t++) {
        const prefrec_metrics *m0 = NULL;
        for (size_t i = 0; i < r->n_rankers && !m0; i++)
            if (prefrec_eval_get(r, t, -1, i)->evaluated) m0 = prefrec_eval_get(r, t, -1, i);
        fprintf(f, "\n%s: %lld users\n", task_title[t], m0 ? (long long)m0->users : 0LL);
        fprintf(f, "  %-12s %9s %9s %9s %9s %8s", "ranker", "recall", "ndcg", "hit", "coverage",
                "fit s");
        if (r->n_affiliates > 1)
            for (int s = 0; s < r->n_affiliates; s++) fprintf(f, " %7.7s", r->affiliate_names[s]);
        fprintf(f, "\n");
        for (size_t i = 0; i < r->n_rankers; i++) {
            const prefrec_metrics *m = prefrec_eval_get(r, t, -1, i);
            if (!m->evaluated) continue;
            fprintf(f, "  %-12s %9.4f %9.4f %9.4f %9.4f %8.2f", r->ranker_names[i], m->recall,
                    m->ndcg, m->hit_rate, m->coverage, r->fit_seconds[i]);
            if (r->n_affiliates > 1)
                for (int s = 0; s < r->n_affiliates; s++)
                    fprintf(f, " %7.4f", prefrec_eval_get(r, t, s, i)->recall);
            fprintf(f, "\n");
        }
        if (r->n_affiliates > 1) fprintf(f, "  (per-affiliate columns: recall@%d)\n", r->k);
    }
}
