/* error.c — formatting for YaError (see include/your_ai/error.h). */
#include "your_ai/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ya_fail(YaError *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int ya_error_prefix(YaError *err, const char *fmt, ...) {
    if (!err) return YA_ERR;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* message = prefix + ": " + old message, truncated to fit */
    size_t cap = sizeof err->message, plen = strlen(prefix), mlen = strlen(err->message);
    if (plen + 2 >= cap) plen = cap - 3;
    if (plen + 2 + mlen >= cap) mlen = cap - 1 - plen - 2;
    memmove(err->message + plen + 2, err->message, mlen);
    memcpy(err->message, prefix, plen);
    memcpy(err->message + plen, ": ", 2);
    err->message[plen + 2 + mlen] = '\0';
    return err->code ? err->code : YA_ERR;
}

void ya_error_clear(YaError *err) {
    if (!err) return;
    err->code = YA_OK;
    err->message[0] = '\0';
}
