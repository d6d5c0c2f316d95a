/* progress.h — the training progress display.
 *
 * On a terminal: one bar redrawn in place (at most every 100 ms, and always on
 * a log step or at the end): step/total, loss, tok/s, lr, ETA, peak memory.
 * Not on a terminal (a log file, CI): one plain line per log step, so logs stay
 * greppable. Messages printed through ya_progress_message() appear above the
 * bar without tearing it. The caller passes the time, so tests are exact. */
#ifndef YOUR_AI_PROGRESS_H
#define YOUR_AI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct YaProgressInfo {
    long long step;    /* completed optimizer updates */
    double loss;       /* latest total loss (NaN = not yet known) */
    double tok_per_s;  /* recent throughput */
    double lr;         /* lr of the latest update */
    double now;        /* seconds on a monotonic clock (ya_progress_now()) */
    uint64_t mem_bytes; /* memory to show (peak RSS or device memory); 0 = read VmHWM */
} YaProgressInfo;

typedef struct YaProgress {
    FILE *fp;
    int tty;              /* 1: redraw a bar; 0: plain lines */
    long long total;      /* max_steps */
    long long start_step; /* step at start (resume), for the ETA rate */
    double start_time;
    double last_draw;     /* time of the last bar redraw (tty) */
    int bar_visible;      /* a bar is on the current line (tty) */
} YaProgress;

/* mode: −1 auto (a bar when fp is a terminal), 0 plain lines, 1 bar. */
void ya_progress_init(YaProgress *p, FILE *fp, int mode, long long total, long long start_step, double now);

/* Reports progress. log_step = 1 on a logging step (plain mode prints only
 * then; the bar always redraws then). */
void ya_progress_update(YaProgress *p, const YaProgressInfo *info, int log_step);

/* Prints a message line (newline added), keeping the bar below it. */
void ya_progress_message(YaProgress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the bar's line (tty). */
void ya_progress_finish(YaProgress *p);

/* Formats the status text (no bar, no newline) into out; shared by both modes.
 * Example: "step 120/5000 | loss 2.3456 | 1234 tok/s | lr 4.50e-05 | ETA 1h02m | mem 3.2 GiB" */
void ya_progress_format(const YaProgress *p, const YaProgressInfo *info, char *out, size_t cap);

/* Formats seconds as "45s", "12m05s", "3h07m" or "2d04h"; "?" if not finite. */
char *ya_progress_format_eta(double seconds, char *out, size_t cap);

/* Monotonic seconds. */
double ya_progress_now(void);

#endif
