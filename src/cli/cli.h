/* cli.h — what every subcommand file (src/cli/cmd_<name>.c) shares.
 *
 * A subcommand defines `const YaCommand ya_cmd_<name>`; CMake finds the file by
 * its name and main.c lists it, so adding a command never edits main.c.
 * Exit codes: 0 success, 1 runtime error, 2 usage error. */
#ifndef YOUR_AI_CLI_H
#define YOUR_AI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "your_ai/error.h"

typedef struct YaCommand {
    const char *name;    /* as typed: "init-model" */
    const char *summary; /* one line for `your_ai help` */
    const char *usage;   /* full text for `your_ai <name> --help` (docs/CLI.md mirrors it) */
    int order;           /* position in `your_ai help` (pipeline order) */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} YaCommand;

/* Matches `--name VALUE` or `--name=VALUE` at argv[*i]. Returns 1 and sets
 * *value (advancing *i past a separate value) on a match, 0 if argv[*i] is
 * another flag, -1 (after printing a usage error) if the value is missing. */
int ya_cli_flag(int argc, char **argv, int *i, const char *name, const char **value);

/* Number parsing with usage errors that name the flag. Return YA_OK or YA_ERR_USAGE. */
int ya_cli_parse_int(const char *flag, const char *s, long long min, long long max, long long *out);
int ya_cli_parse_double(const char *flag, const char *s, double *out);
int ya_cli_parse_u64(const char *flag, const char *s, uint64_t *out);

/* Prints "your_ai <cmd>: <message>" and a pointer to --help; returns 2. */
int ya_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "your_ai <cmd>: error: <err->message>"; returns err->code (1 or 2). */
int ya_cli_report(const char *cmd, const YaError *err);

/* --max-line-bytes N (every command that reads JSONL): matched at argv[*i], it
 * sets the process-wide JSONL line limit (ya_jsonl_set_max_line_bytes).
 * Returns 1 consumed, 0 another flag, -1 after printing a usage error. */
int ya_cli_max_line_flag(int argc, char **argv, int *i);
#define YA_CLI_MAX_LINE_USAGE                                                                                       \
    "  --max-line-bytes N   longest JSONL line accepted, in bytes; a longer line is a bad line,\n"                 \
    "                       skipped unread (default 16777216 = 16 MiB)\n"

/* 1 if argv[i] is -h or --help. */
int ya_cli_is_help(const char *arg);

/* Prints the command's usage text to stdout and returns 0. */
int ya_cli_print_usage(const YaCommand *cmd);

#endif
