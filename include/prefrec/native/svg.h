/* prefrec/native/svg.h - a tiny SVG chart writer: line and grouped-bar charts with axes, ticks, labels
 * and a legend, several panels per file. For reports and plots (native).
 *
 *   double x[] = {0, 0.5, 1}, y[] = {0.1, 0.2, NAN};          // NaN: gap / no bar
 *   prefrec_svg_series se = {"A01", x, y, 3, NULL};            // NULL colour: palette
 *   prefrec_svg_chart c = prefrec_svg_chart_default();
 *   c.title = "repurchase rate"; c.x_label = "threshold"; c.y_label = "rate";
 *   c.series = &se; c.n_series = 1;
 *   if (prefrec_svg_write_file("out.svg", &c, 1, 1, &err)) ...  // 1 column of panels
 *
 * Axis ranges come from the data unless x_min.. are set (not NaN); y ranges start at 0 when
 * all values are >= 0. Text is XML-escaped. Pure output: no state, no globals. The chart
 * structs only borrow their strings and arrays. */
#ifndef PREFREC_SVG_H
#define PREFREC_SVG_H

#include <stddef.h>
#include <stdio.h>

#include "prefrec/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { PREFREC_SVG_LINES = 0, PREFREC_SVG_BARS = 1 } prefrec_svg_kind;

typedef struct prefrec_svg_series {
    const char *label; /* legend text (NULL: not in the legend) */
    const double *x, *y; /* n points; for bars, the series of a chart share their x values */
    size_t n;
    const char *color; /* CSS colour, or NULL for the next palette colour */
} prefrec_svg_series;

typedef struct prefrec_svg_chart {
    const char *title, *x_label, *y_label; /* NULL: none */
    prefrec_svg_kind kind;
    const prefrec_svg_series *series;
    size_t n_series;
    double x_min, x_max, y_min, y_max; /* NaN: from the data */
    int markers; /* lines: draw a dot at each point (default 1) */
    int legend; /* draw the legend (default 1) */
    int width, height; /* panel size in px (default 640 x 360) */
} prefrec_svg_chart;

prefrec_svg_chart prefrec_svg_chart_default(void);

/* Write a whole SVG document to f: the charts laid out left to right in `columns` columns,
 * then top to bottom. Returns PREFREC_E_INVAL for a bad argument (nothing written). */
prefrec_status prefrec_svg_write(FILE *f, const prefrec_svg_chart *charts, size_t n_charts,
                                 int columns, prefrec_error *err);
/* Same, atomically to path (prefrec/native/atomic.h). */
prefrec_status prefrec_svg_write_file(const char *path, const prefrec_svg_chart *charts,
                                      size_t n_charts, int columns, prefrec_error *err);
/* Draw one chart as a <g> at offset (x0, y0) of a document the caller writes (for custom
 * layouts: "<svg ...>" ... prefrec_svg_chart_draw(...) ... "</svg>"). */
void prefrec_svg_chart_draw(FILE *f, const prefrec_svg_chart *c, double x0, double y0);
/* Write s to f with XML escaping (&, <, >, "). */
void prefrec_svg_put_text(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
