/* plot_svg.c — per-group perplexity bars, base vs tuned, as a small hand-written
 * SVG (no plotting library: the engine stays dependency-free, and an SVG opens in
 * any browser). Layout: one group per slot along x, two bars per slot (base grey,
 * tuned blue), a linear y axis from 0 with 5 ticks, the value above each bar. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/eval.h" // defines: ya_plot_svg_render, ya_plot_svg_write
#include "your_ai/fileio.h"
#include "your_ai/strbuf.h"

/* Text with XML's five special characters escaped. */
static void put_text(YaStrBuf *b, const char *t) {
    for (; *t; t++) {
        switch (*t) {
        case '&': ya_strbuf_puts(b, "&amp;"); break;
        case '<': ya_strbuf_puts(b, "&lt;"); break;
        case '>': ya_strbuf_puts(b, "&gt;"); break;
        case '"': ya_strbuf_puts(b, "&quot;"); break;
        case '\'': ya_strbuf_puts(b, "&apos;"); break;
        default:
            if ((unsigned char)*t >= 0x20 || *t == '\t') ya_strbuf_putc(b, *t); /* control characters are not XML */
        }
    }
}

/* A "nice" axis maximum ≥ v: 1, 2, 2.5 or 5 times a power of ten. */
static double nice_ceil(double v) {
    if (!(v > 0) || !isfinite(v)) return 1.0;
    double p = pow(10.0, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (int i = 0; i < 5; i++)
        if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
}

char *ya_plot_svg_render(const char *title, const char *const *labels, const double *tuned, const double *base,
                         size_t n, const char *tuned_name, const char *base_name) {
    const double slot = 90, left = 70, right = 20, top = 60, plot_h = 300, bottom = 90;
    const double width = left + right + slot * (double)(n ? n : 1), height = top + plot_h + bottom;
    double vmax = 0;
    int any_base = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(tuned[i]) && tuned[i] > vmax) vmax = tuned[i];
        if (base && isfinite(base[i])) {
            any_base = 1;
            if (base[i] > vmax) vmax = base[i];
        }
    }
    double ymax = nice_ceil(vmax * 1.05);
    YaStrBuf b = {0};
    ya_strbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    ya_strbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height);
    ya_strbuf_printf(&b, "  <rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
    ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">", width / 2);
    put_text(&b, title);
    ya_strbuf_printf(&b, "</text>\n");
    /* legend */
    double lx = left;
    if (any_base) {
        ya_strbuf_printf(&b, "  <rect x=\"%.1f\" y=\"34\" width=\"12\" height=\"12\" fill=\"#9e9e9e\"/>\n", lx);
        ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"45\">", lx + 16);
        put_text(&b, base_name ? base_name : "base");
        ya_strbuf_printf(&b, "</text>\n");
        lx += 160;
    }
    ya_strbuf_printf(&b, "  <rect x=\"%.1f\" y=\"34\" width=\"12\" height=\"12\" fill=\"#1f77b4\"/>\n", lx);
    ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"45\">", lx + 16);
    put_text(&b, tuned_name ? tuned_name : "tuned");
    ya_strbuf_printf(&b, "</text>\n");
    /* axes and ticks */
    const double y0 = top + plot_h;
    ya_strbuf_printf(&b, "  <line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n", left, top, left, y0);
    ya_strbuf_printf(&b, "  <line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n", left, y0, width - right, y0);
    for (int k = 0; k <= 5; k++) {
        double v = ymax * k / 5.0, y = y0 - plot_h * k / 5.0;
        ya_strbuf_printf(&b, "  <line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n", left, y, width - right, y);
        ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", left - 6, y + 4, v);
    }
    ya_strbuf_printf(&b, "  <text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">perplexity</text>\n",
        top + plot_h / 2, top + plot_h / 2);
    /* bars */
    for (size_t i = 0; i < n; i++) {
        double x = left + slot * (double)i, bw = any_base ? 30 : 44;
        double xs[2] = {x + 12, x + 12 + bw + 4};
        const double vals[2] = {base ? base[i] : NAN, tuned[i]};
        const char *fill[2] = {"#9e9e9e", "#1f77b4"};
        for (int k = any_base ? 0 : 1; k < 2; k++) {
            double xx = any_base ? xs[k] : x + (slot - bw) / 2;
            if (!isfinite(vals[k])) continue;
            double h = plot_h * (vals[k] / ymax);
            ya_strbuf_printf(&b, "  <rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", xx, y0 - h, bw, h,
                fill[k]);
            ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%.4g</text>\n", xx + bw / 2,
                y0 - h - 3, vals[k]);
        }
        double cx = x + slot / 2;
        ya_strbuf_printf(&b, "  <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-35 %.1f %.1f)\">", cx + 6,
            y0 + 16, cx + 6, y0 + 16);
        put_text(&b, labels[i]);
        ya_strbuf_printf(&b, "</text>\n");
    }
    ya_strbuf_printf(&b, "</svg>\n");
    if (b.oom) {
        ya_strbuf_free(&b);
        return NULL;
    }
    return b.data;
}

int ya_plot_svg_write(const char *path, const char *title, const char *const *labels, const double *tuned,
                      const double *base, size_t n, const char *tuned_name, const char *base_name, YaError *err) {
    char *svg = ya_plot_svg_render(title, labels, tuned, base, n, tuned_name, base_name);
    if (!svg) return ya_fail(err, YA_ERR, "out of memory");
    int rc = ya_write_file_atomic(path, svg, strlen(svg), err);
    free(svg);
    return rc;
}
