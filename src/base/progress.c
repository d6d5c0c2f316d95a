/* progress.c — progress bar on a terminal, plain lines otherwise (see progress.h). */
#define _GNU_SOURCE
#include "your_ai/progress.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "your_ai/memory.h"

#define YA_PROGRESS_REDRAW_S 0.1 /* the terminal bar redraws at most 10× a second */
#define YA_PROGRESS_BAR_WIDTH 24

double ya_progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void ya_progress_init(YaProgress *p, FILE *fp, int mode, long long total, long long start_step, double now) {
    memset(p, 0, sizeof *p);
    p->fp = fp;
    p->tty = mode < 0 ? isatty(fileno(fp)) : mode;
    p->total = total;
    p->start_step = start_step;
    p->start_time = now;
    p->last_draw = -INFINITY;
}

char *ya_progress_format_eta(double s, char *out, size_t cap) {
    if (!isfinite(s) || s < 0) { snprintf(out, cap, "?"); return out; }
    long long t = (long long)(s + 0.5);
    if (t < 60) snprintf(out, cap, "%llds", t);
    else if (t < 3600) snprintf(out, cap, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400) snprintf(out, cap, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
    else snprintf(out, cap, "%lldd%02lldh", t / 86400, (t % 86400) / 3600);
    return out;
}

void ya_progress_format(const YaProgress *p, const YaProgressInfo *info, char *out, size_t cap) {
    char eta[32], mem[32], loss[32];
    long long done = info->step - p->start_step;
    double elapsed = info->now - p->start_time;
    double eta_s = done > 0 && elapsed > 0 ? elapsed / (double)done * (double)(p->total - info->step) : NAN;
    uint64_t mem_bytes = info->mem_bytes ? info->mem_bytes : ya_mem_peak_rss();
    if (isfinite(info->loss)) snprintf(loss, sizeof loss, "%.4f", info->loss);
    else snprintf(loss, sizeof loss, isnan(info->loss) ? "-" : "inf");
    snprintf(out, cap, "step %lld/%lld | loss %s | %.0f tok/s | lr %.2e | ETA %s | mem %s", info->step, p->total,
             loss, info->tok_per_s, info->lr, ya_progress_format_eta(eta_s, eta, sizeof eta),
             ya_mem_format(mem_bytes, mem, sizeof mem));
}

static void draw_bar(YaProgress *p, const YaProgressInfo *info) {
    char text[256], bar[YA_PROGRESS_BAR_WIDTH + 1];
    double frac = p->total > 0 ? (double)info->step / (double)p->total : 0;
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    int filled = (int)(frac * YA_PROGRESS_BAR_WIDTH);
    for (int i = 0; i < YA_PROGRESS_BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '-';
    bar[YA_PROGRESS_BAR_WIDTH] = '\0';
    ya_progress_format(p, info, text, sizeof text);
    /* \r + erase-to-end-of-line: the bar overwrites itself in place. */
    fprintf(p->fp, "\r[%s] %3.0f%% %s\033[K", bar, frac * 100.0, text);
    fflush(p->fp);
    p->bar_visible = 1;
    p->last_draw = info->now;
}

void ya_progress_update(YaProgress *p, const YaProgressInfo *info, int log_step) {
    if (p->tty) {
        int last = info->step >= p->total;
        if (log_step || last || info->now - p->last_draw >= YA_PROGRESS_REDRAW_S) draw_bar(p, info);
        return;
    }
    if (!log_step) return;
    char text[256];
    ya_progress_format(p, info, text, sizeof text);
    fprintf(p->fp, "%s\n", text);
    fflush(p->fp);
}

void ya_progress_message(YaProgress *p, const char *fmt, ...) {
    if (p->tty && p->bar_visible) fputs("\r\033[K", p->fp); /* clear the bar; redrawn on the next update */
    p->bar_visible = 0;
    p->last_draw = -INFINITY;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->fp, fmt, ap);
    va_end(ap);
    fputc('\n', p->fp);
    fflush(p->fp);
}

void ya_progress_finish(YaProgress *p) {
    if (p->tty && p->bar_visible) fputc('\n', p->fp);
    p->bar_visible = 0;
    fflush(p->fp);
}
