/* log.h — messages to stderr: "your_ai: warning: ..." and friends.
 * The verbosity is process-wide state set once by the CLI (--quiet). */
#ifndef YOUR_AI_LOG_H
#define YOUR_AI_LOG_H

void ya_log_set_quiet(int quiet);
void ya_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ya_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
