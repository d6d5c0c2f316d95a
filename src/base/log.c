/* log.c — stderr messages (see log.h). */
#include "your_ai/log.h"

#include <stdarg.h>
#include <stdio.h>

static int g_quiet; /* set once by the CLI before any work starts */

void ya_log_set_quiet(int quiet) { g_quiet = quiet; }

void ya_info(const char *fmt, ...) {
    if (g_quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void ya_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("your_ai: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
