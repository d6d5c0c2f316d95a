/* main.c — `your_ai <command> [options]`: dispatches to src/cli/cmd_<name>.c.
 *
 * The command list is generated from the file names (build/generated/cli_commands.inc),
 * so each subcommand lives in exactly one file. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_simd_check */
#include "cli/cli.h"

#define YA_COMMAND(name) extern const YaCommand ya_cmd_##name;
#include "cli_commands.inc"
#undef YA_COMMAND

static const YaCommand *const k_commands[] = {
#define YA_COMMAND(name) &ya_cmd_##name,
#include "cli_commands.inc"
#undef YA_COMMAND
    NULL};

static int by_order(const void *a, const void *b) {
    const YaCommand *x = *(const YaCommand *const *)a, *y = *(const YaCommand *const *)b;
    return x->order != y->order ? (x->order > y->order) - (x->order < y->order) : strcmp(x->name, y->name);
}

static void print_help(FILE *out) {
    size_t n = sizeof k_commands / sizeof *k_commands - 1;
    const YaCommand *sorted[sizeof k_commands / sizeof *k_commands];
    memcpy(sorted, k_commands, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_order);
    fprintf(out,
            "your_ai %s — fine-tune Llama-family models with LoRA and the Empirical Distrust loss\n\n"
            "Usage: your_ai <command> [options]\n"
            "       your_ai <command> --help     options of one command\n\n"
            "Commands:\n",
            YA_VERSION);
    for (size_t i = 0; i < n; i++) fprintf(out, "  %-12s %s\n", sorted[i]->name, sorted[i]->summary);
    fprintf(out, "  %-12s %s\n  %-12s %s\n", "help", "this list", "version", "print the version");
    fprintf(out, "\nEnvironment:\n"
                 "  YA_SIMD=auto|portable|avx512  vector path of the CPU ops: auto (default) uses AVX-512F where the\n"
                 "               CPU has it; portable forces the plain C forms; avx512 requires it (docs/RELIABILITY.md)\n"
                 "  OPENBLAS_CORETYPE=NAME        OpenBLAS's kernel family (SkylakeX, Haswell, ...); a warning names it\n"
                 "               when OpenBLAS picked kernels older than the CPU (docs/TRAINING.md, \"CPU speed\")\n");
    fprintf(out, "\nExit codes: 0 success, 1 runtime error, 2 usage error. Full reference: docs/CLI.md\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return YA_ERR_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || ya_cli_is_help(name)) {
        if (argc >= 3 && strcmp(name, "help") == 0) {
            for (const YaCommand *const *c = k_commands; *c; c++)
                if (strcmp((*c)->name, argv[2]) == 0) return ya_cli_print_usage(*c);
            fprintf(stderr, "your_ai help: unknown command '%s'\n", argv[2]);
            return YA_ERR_USAGE;
        }
        print_help(stdout);
        return 0;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("your_ai %s\n", YA_VERSION);
        return 0;
    }
    for (const YaCommand *const *c = k_commands; *c; c++) {
        if (strcmp((*c)->name, name) != 0) continue;
        for (int i = 2; i < argc; i++)
            if (ya_cli_is_help(argv[i])) return ya_cli_print_usage(*c);
        YaError err = {0};
        if (ya_backend_cpu_simd_check(&err) != YA_OK) return ya_cli_report(name, &err); /* YA_SIMD, before any op */
        return (*c)->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "your_ai: unknown command '%s'\nRun 'your_ai help' for the list of commands.\n", name);
    return YA_ERR_USAGE;
}
