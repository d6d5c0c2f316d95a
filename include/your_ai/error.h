/* error.h — errors as values.
 *
 * Every fallible function returns an int status (YA_OK on success) and, on
 * failure, fills a caller-owned YaError with a message that names the file,
 * line or tensor and what was expected. The status doubles as the process
 * exit code the CLI uses: 0 success, 1 runtime error, 2 usage error. */
#ifndef YOUR_AI_ERROR_H
#define YOUR_AI_ERROR_H

#include <stddef.h>

enum {
    YA_OK = 0,
    YA_ERR = 1,       /* runtime error: bad file, bad data, I/O, out of memory */
    YA_ERR_USAGE = 2, /* the user asked for something invalid (flags, ranges) */
};

typedef struct YaError {
    int code;
    char message[1024];
} YaError;

/* Formats a message into err (when err is non-NULL) and returns code.
 * Typical use: `return ya_fail(err, YA_ERR, "%s: header length %llu past end of file", path, n);` */
int ya_fail(YaError *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (adds context as an error bubbles up).
 * Returns err->code. */
int ya_error_prefix(YaError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears err to YA_OK with an empty message. */
void ya_error_clear(YaError *err);

#endif
