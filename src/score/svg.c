/* svg.c - line and grouped-bar charts as SVG (see prefrec/native/svg.h). */
#include "prefrec/native/svg.h"

#include <math.h>
#include <string.h>

#include "prefrec/native/atomic.h"

/* Colour-blind-safe palette (Okabe-Ito without black), cycled. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#F0E442", "#666666"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

enum { MARGIN_L = 64, MARGIN_R = 16, MARGIN_T = 34, MARGIN_B = 48, LEGEND_W = 96 };

prefrec_svg_chart prefrec_svg_chart_default(void) {
    prefrec_svg_chart c;
    memset(&c, 0, sizeof c);
    c.kind = PREFREC_SVG_LINES;
    c.x_min = c.x_max = c.y_min = c.y_max = NAN;
    c.markers = 1;
    c.legend = 1;
    c.width = 640;
    c.height = 360;
    return c;
}

void prefrec_svg_put_text(FILE *f, const char *s) {
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
            case '&':
                fputs("&amp;", f);
                break;
            case '<':
                fputs("&lt;", f);
                break;
            case '>':
                fputs("&gt;", f);
                break;
            case '"':
                fputs("&quot;", f);
                break;
            default:
                fputc(*s, f);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about `want` intervals. */
static double nice_step(double span, int want) {
    if (!(span > 0)) return 1;
    double raw = span / want, p = pow(10, floor(log10(raw))), r = raw / p;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * p;
}

static const char *color_of(const prefrec_svg_chart *c, size_t k) {
    return c->series[k].color ? c->series[k].color : palette[k % N_PALETTE];
}

static void fmt_tick(char *buf, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(buf, n, "%.*f", dec, v);
}

void prefrec_svg_chart_draw(FILE *f, const prefrec_svg_chart *c, double x0, double y0) {
    const double W = c->width > 0 ? c->width : 640, H = c->height > 0 ? c->height : 360;
    int has_legend = 0;
    if (c->legend)
        for (size_t k = 0; k < c->n_series; k++) has_legend |= c->series[k].label != NULL;
    const double pl = x0 + MARGIN_L, pr = x0 + W - MARGIN_R - (has_legend ? LEGEND_W : 0);
    const double pt = y0 + MARGIN_T, pb = y0 + H - MARGIN_B;

    /* data ranges */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY, dxmin = INFINITY;
    for (size_t k = 0; k < c->n_series; k++) {
        const prefrec_svg_series *s = &c->series[k];
        for (size_t i = 0; i < s->n; i++) {
            if (isfinite(s->x[i])) {
                if (s->x[i] < xmin) xmin = s->x[i];
                if (s->x[i] > xmax) xmax = s->x[i];
                if (i > 0 && isfinite(s->x[i - 1]) && fabs(s->x[i] - s->x[i - 1]) > 0 &&
                    fabs(s->x[i] - s->x[i - 1]) < dxmin)
                    dxmin = fabs(s->x[i] - s->x[i - 1]);
            }
            if (isfinite(s->y[i])) {
                if (s->y[i] < ymin) ymin = s->y[i];
                if (s->y[i] > ymax) ymax = s->y[i];
            }
        }
    }
    if (!isfinite(xmin)) xmin = 0, xmax = 1;
    if (!isfinite(ymin)) ymin = 0, ymax = 1;
    if (!isfinite(dxmin)) dxmin = 1;
    if (c->kind == PREFREC_SVG_BARS) { /* room for the outer bars */
        xmin -= dxmin / 2;
        xmax += dxmin / 2;
    }
    if (ymin >= 0) ymin = 0;
    if (!isnan(c->x_min)) xmin = c->x_min;
    if (!isnan(c->x_max)) xmax = c->x_max;
    if (!isnan(c->y_min)) ymin = c->y_min;
    if (!isnan(c->y_max)) ymax = c->y_max;
    if (xmax <= xmin) xmax = xmin + 1;
    if (ymax <= ymin) ymax = ymin + 1;
    const double ystep = nice_step(ymax - ymin, 5), xstep = nice_step(xmax - xmin, 8);
    if (isnan(c->y_max)) ymax = ceil(ymax / ystep - 1e-9) * ystep;
#define SX(v) (pl + ((v)-xmin) / (xmax - xmin) * (pr - pl))
#define SY(v) (pb - ((v)-ymin) / (ymax - ymin) * (pb - pt))

    fprintf(f, "<g font-family=\"sans-serif\" font-size=\"12\">\n");
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\"/>\n", x0,
            y0, W, H);
    if (c->title) {
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\" "
                "text-anchor=\"middle\">",
                (pl + pr) / 2, y0 + 20);
        prefrec_svg_put_text(f, c->title);
        fputs("</text>\n", f);
    }
    /* grid and y ticks */
    char buf[32];
    for (double v = ceil(ymin / ystep - 1e-9) * ystep; v <= ymax + ystep * 1e-9; v += ystep) {
        double y = SY(v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", pl,
                y, pr, y);
        fmt_tick(buf, sizeof buf, v, ystep);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", pl - 6, y + 4,
                buf);
    }
    /* x ticks */
    for (double v = ceil(xmin / xstep - 1e-9) * xstep; v <= xmax + xstep * 1e-9; v += xstep) {
        double x = SX(v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x,
                pb, x, pb + 5);
        fmt_tick(buf, sizeof buf, v, xstep);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, pb + 18,
                buf);
    }
    fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\"/>\n", pl, pt, pb,
            pr);
    if (c->x_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (pl + pr) / 2, pb + 38);
        prefrec_svg_put_text(f, c->x_label);
        fputs("</text>\n", f);
    }
    if (c->y_label) {
        double cx = x0 + 16, cy = (pt + pb) / 2;
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 %.1f %.1f)\">",
                cx, cy, cx, cy);
        prefrec_svg_put_text(f, c->y_label);
        fputs("</text>\n", f);
    }

    /* data */
    const double ns = c->n_series ? (double)c->n_series : 1;
    const double group_w = dxmin / (xmax - xmin) * (pr - pl) * 0.8, bar_w = group_w / ns;
    for (size_t k = 0; k < c->n_series; k++) {
        const prefrec_svg_series *s = &c->series[k];
        const char *col = color_of(c, k);
        if (c->kind == PREFREC_SVG_BARS) {
            for (size_t i = 0; i < s->n; i++) {
                if (!isfinite(s->x[i]) || !isfinite(s->y[i])) continue;
                double x = SX(s->x[i]) - group_w / 2 + bar_w * (double)k;
                double y1 = SY(s->y[i]), y0b = SY(ymin > 0 ? ymin : 0);
                if (y1 > y0b) {
                    double t = y1;
                    y1 = y0b;
                    y0b = t;
                }
                fprintf(
                    f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                    x, y1, bar_w, y0b - y1, col);
            }
            continue;
        }
        int pen = 0;
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", col);
        for (size_t i = 0; i < s->n; i++) {
            if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
                pen = 0;
                continue;
            }
            fprintf(f, "%s%.1f %.1f", pen ? "L" : "M", SX(s->x[i]), SY(s->y[i]));
            pen = 1;
        }
        fputs("\"/>\n", f);
        if (c->markers)
            for (size_t i = 0; i < s->n; i++)
                if (isfinite(s->x[i]) && isfinite(s->y[i]))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                            SX(s->x[i]), SY(s->y[i]), col);
    }
    /* legend, right of the plot area */
    if (has_legend) {
        double ly = pt + 4;
        for (size_t k = 0; k < c->n_series; k++) {
            if (!c->series[k].label) continue;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
                    pr + 14, ly, color_of(c, k));
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", pr + 32, ly + 10);
            prefrec_svg_put_text(f, c->series[k].label);
            fputs("</text>\n", f);
            ly += 18;
        }
    }
    fputs("</g>\n", f);
#undef SX
#undef SY
}

static prefrec_status check_charts(const prefrec_svg_chart *charts, size_t n, int columns,
                                   prefrec_error *err) {
    if (!charts || n == 0 || columns < 1)
        return prefrec_error_set(err, PREFREC_E_INVAL, "svg: no charts or columns < 1");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < charts[i].n_series; k++)
            if (!charts[i].series ||
                (charts[i].series[k].n && (!charts[i].series[k].x || !charts[i].series[k].y)))
                return prefrec_error_set(err, PREFREC_E_INVAL,
                                         "svg: chart %zu series %zu has no data", i, k);
    return PREFREC_OK;
}

prefrec_status prefrec_svg_write(FILE *f, const prefrec_svg_chart *charts, size_t n_charts,
                                 int columns, prefrec_error *err) {
    prefrec_status st = check_charts(charts, n_charts, columns, err);
    if (st) return st;
    size_t cols = (size_t)columns < n_charts ? (size_t)columns : n_charts;
    size_t rows = (n_charts + cols - 1) / cols;
    /* cell size: the largest panel in each column / row */
    double cw[64] = {0}, rh[256] = {0};
    if (cols > 64 || rows > 256)
        return prefrec_error_set(err, PREFREC_E_RANGE, "svg: at most 64 columns and 256 rows");
    for (size_t i = 0; i < n_charts; i++) {
        double w = charts[i].width > 0 ? charts[i].width : 640;
        double h = charts[i].height > 0 ? charts[i].height : 360;
        if (w > cw[i % cols]) cw[i % cols] = w;
        if (h > rh[i / cols]) rh[i / cols] = h;
    }
    double W = 0, H = 0;
    for (size_t k = 0; k < cols; k++) W += cw[k];
    for (size_t k = 0; k < rows; k++) H += rh[k];
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\">\n",
            W, H, W, H);
    for (size_t i = 0; i < n_charts; i++) {
        double x = 0, y = 0;
        for (size_t k = 0; k < i % cols; k++) x += cw[k];
        for (size_t k = 0; k < i / cols; k++) y += rh[k];
        prefrec_svg_chart_draw(f, &charts[i], x, y);
    }
    fputs("</svg>\n", f);
    return PREFREC_OK;
}

prefrec_status prefrec_svg_write_file(const char *path, const prefrec_svg_chart *charts,
                                      size_t n_charts, int columns, prefrec_error *err) {
    prefrec_status st = check_charts(charts, n_charts, columns, err);
    if (st) return st;
    prefrec_atomic at;
    if ((st = prefrec_atomic_open(&at, path, err))) return st;
    if ((st = prefrec_svg_write(at.f, charts, n_charts, columns, err))) {
        prefrec_atomic_abort(&at);
        return st;
    }
    return prefrec_atomic_commit(&at, err);
}
