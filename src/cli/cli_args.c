/* cli_args.c — flag matching, number parsing and error printing for subcommands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "your_ai/jsonl.h"

int ya_cli_flag(int argc, char **argv, int *i, const char *name, const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "your_ai %s: option %s needs a value\n", argv[0], name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int ya_cli_parse_int(const char *flag, const char *s, long long min, long long max, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "your_ai: %s expects an integer, got '%s'\n", flag, s);
        return YA_ERR_USAGE;
    }
    if (v < min || v > max) {
        fprintf(stderr, "your_ai: %s must be in [%lld, %lld], got %lld\n", flag, min, max, v);
        return YA_ERR_USAGE;
    }
    *out = v;
    return YA_OK;
}

int ya_cli_parse_u64(const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') {
        fprintf(stderr, "your_ai: %s expects a non-negative integer, got '%s'\n", flag, s);
        return YA_ERR_USAGE;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "your_ai: %s expects a non-negative integer, got '%s'\n", flag, s);
        return YA_ERR_USAGE;
    }
    *out = v;
    return YA_OK;
}

int ya_cli_parse_double(const char *flag, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        fprintf(stderr, "your_ai: %s expects a finite number, got '%s'\n", flag, s);
        return YA_ERR_USAGE;
    }
    *out = v;
    return YA_OK;
}

int ya_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "your_ai %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'your_ai %s --help' for usage.\n", cmd);
    return YA_ERR_USAGE;
}

int ya_cli_report(const char *cmd, const YaError *err) {
    fprintf(stderr, "your_ai %s: error: %s\n", cmd, err->message[0] ? err->message : "unknown error");
    return err->code ? err->code : YA_ERR;
}

int ya_cli_max_line_flag(int argc, char **argv, int *i) {
    const char *v;
    int r = ya_cli_flag(argc, argv, i, "--max-line-bytes", &v);
    if (r <= 0) return r;
    long long n;
    if (ya_cli_parse_int("--max-line-bytes", v, 2, (long long)1 << 40, &n)) return -1;
    ya_jsonl_set_max_line_bytes((uint64_t)n);
    return 1;
}

int ya_cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int ya_cli_print_usage(const YaCommand *cmd) {
    fputs(cmd->usage, stdout);
    return 0;
}
