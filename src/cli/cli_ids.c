/* cli_ids.c — parsing of token-id lists given on the command line (--ids),
 * shared by `forward` and `generate`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_ids.h"

/* Parses "1 2 3" / "1,2,3" into a malloc'ed array. */
int ya_cli_parse_ids(const char *flag, const char *s, int32_t **out, int *n_out) {
    size_t cap = 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return YA_ERR;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "your_ai: %s expects non-negative integer token ids, got '%.20s'\n", flag, p);
            free(ids);
            return YA_ERR_USAGE;
        }
        if (n == cap) {
            int32_t *grown = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!grown) {
                free(ids);
                return YA_ERR;
            }
            ids = grown;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    if (n == 0) {
        fprintf(stderr, "your_ai: %s has no token ids\n", flag);
        free(ids);
        return YA_ERR_USAGE;
    }
    *out = ids;
    *n_out = (int)n;
    return YA_OK;
}

