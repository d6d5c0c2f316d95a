/* eval_formulas.c — a driver that exposes the eval module's statistics to
 * tools/check_eval_formulas.py, which recomputes them from the formulas in
 * Python (its own xoshiro256** and SplitMix64 and numpy percentiles, the Wilson
 * formula) and compares. Reads one JSON request per line on stdin, writes one
 * JSON answer per line:
 *   {"op":"wilson","k":K,"n":N}                         -> {"lo":..,"hi":..}
 *   {"op":"bootstrap","nll":[..],"n_tok":[..],"base":[..]|null,"B":B,"seed":"S","tag":".."}
 * (the seed is a decimal string: it may exceed JSON's signed 64-bit integers)
 *                                                       -> {"lo":..,"hi":..,"draws":[..]} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/eval.h"

static json_t *num(double x) { return x == x ? json_real(x) : json_null(); }

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_error_t je;
        json_t *q = json_loads(line, 0, &je), *a = json_object();
        if (!q) {
            fprintf(stderr, "bad request: %s\n", je.text);
            return 1;
        }
        const char *op = json_string_value(json_object_get(q, "op"));
        if (op && strcmp(op, "wilson") == 0) {
            double lo, hi;
            ya_wilson95((int)json_integer_value(json_object_get(q, "k")), (int)json_integer_value(json_object_get(q, "n")), &lo, &hi);
            json_object_set_new(a, "lo", num(lo));
            json_object_set_new(a, "hi", num(hi));
        } else if (op && strcmp(op, "bootstrap") == 0) {
            json_t *jn = json_object_get(q, "nll"), *jt = json_object_get(q, "n_tok"), *jb = json_object_get(q, "base");
            size_t n = json_array_size(jn);
            int B = (int)json_integer_value(json_object_get(q, "B"));
            double *nll = calloc(n, sizeof *nll), *base = calloc(n, sizeof *base), *draws = calloc((size_t)B, sizeof *draws);
            uint32_t *tok = calloc(n, sizeof *tok);
            size_t *idx = calloc(n, sizeof *idx);
            for (size_t i = 0; i < n; i++) {
                nll[i] = json_number_value(json_array_get(jn, i));
                tok[i] = (uint32_t)json_integer_value(json_array_get(jt, i));
                if (json_is_array(jb)) base[i] = json_number_value(json_array_get(jb, i));
                idx[i] = i;
            }
            double lo, hi;
            YaError err = {0};
            if (ya_bootstrap_pooled(nll, json_is_array(jb) ? base : NULL, tok, idx, n, B,
                                    strtoull(json_string_value(json_object_get(q, "seed")), NULL, 10),
                                    json_string_value(json_object_get(q, "tag")), &lo, &hi, draws, &err)) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            json_t *d = json_array();
            for (int b = 0; b < B; b++) json_array_append_new(d, json_real(draws[b]));
            json_object_set_new(a, "lo", num(lo));
            json_object_set_new(a, "hi", num(hi));
            json_object_set_new(a, "draws", d);
            free(nll), free(base), free(draws), free(tok), free(idx);
        } else {
            fprintf(stderr, "unknown op\n");
            return 1;
        }
        char *s = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
        puts(s);
        free(s);
        json_decref(a);
        json_decref(q);
    }
    free(line);
    return 0;
}
