/* cmd_loss.c — `your_ai loss`: evaluates the Empirical Distrust loss (SPEC §2)
 * for one (w, H) pair, or a batch given as comma-separated lists, and prints the
 * value with the validate_inputs diagnostics. Invalid input exits 2. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "your_ai/distrust.h"
#include "your_ai/json.h"

static const char k_usage[] =
    "Usage: your_ai loss --auth W --entropy H [--alpha A] [--reduction mean|sum|none]\n"
    "\n"
    "Evaluates the Empirical Distrust loss  l(w,H) = alpha * (ln(1 - w + 1e-8) + H)^2\n"
    "in double precision (SPEC section 2) and prints it with the diagnostics of the\n"
    "reference's validate_inputs. W and H may be comma-separated lists of equal length:\n"
    "that is the batch form, reduced with --reduction. Every element is validated;\n"
    "invalid input (w outside [0, 0.99], H < 0, alpha outside [2.3, 3.0], NaN/inf,\n"
    "mismatched lengths) prints the reference's message with its symbolic code\n"
    "(E_AUTH_RANGE, E_ENTROPY_RANGE, E_ALPHA_RANGE, E_BATCH_SHAPE, E_REDUCTION) and exits 2.\n"
    "\n"
    "Output (stdout), one 'key: value' per line, numbers as shortest round-trip decimals:\n"
    "  loss: <value>            scalar, or the reduced batch value (mean/sum)\n"
    "  losses: <v1>,<v2>,...    batch with --reduction none\n"
    "  component: <c>           c = ln(1 - w + 1e-8) + H (scalar form only)\n"
    "  alpha: <alpha>\n"
    "  valid: true|false\n"
    "  followed by the diagnostic lines (scalar form only).\n"
    "\n"
    "Options:\n"
    "  --auth W[,W...]           authority weight(s) w in [0, 0.99] (required)\n"
    "  --entropy H[,H...]        provenance entropy (bits) H >= 0 (required)\n"
    "  --alpha A                 distrust alpha in [2.3, 3.0] (default 2.7)\n"
    "  --reduction R             batch reduction: mean, sum or none (default mean)\n";

/* Parses "a,b,c" into a malloc'ed array. Returns count, or -1 on a bad number. */
static long parse_list(const char *flag, const char *s, double **out) {
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    double *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    char *dup = strdup(s), *save = NULL;
    long n = 0;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        double x = strtod(tok, &end); /* nan and inf parse here on purpose: the loss rejects them by name */
        if (end == tok || *end) {
            ya_cli_usage_error("loss", "%s expects numbers (comma-separated for a batch), got '%s'", flag, tok);
            free(v);
            free(dup);
            return -1;
        }
        v[n++] = x;
    }
    free(dup);
    if (n == 0) {
        ya_cli_usage_error("loss", "%s needs at least one number", flag);
        free(v);
        return -1;
    }
    *out = v;
    return n;
}

static int fail_loss(YaDistrustCode code, const YaError *err) {
    fprintf(stderr, "your_ai loss: error: %s (%s)\n", err->message, ya_distrust_code_name(code));
    return YA_ERR_USAGE;
}

static int run_loss(int argc, char **argv) {
    const char *auth = NULL, *entropy = NULL, *alpha_s = NULL, *reduction_s = "mean";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = ya_cli_flag(argc, argv, &i, "--auth", &v))) auth = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--entropy", &v))) entropy = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--alpha", &v))) alpha_s = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--reduction", &v))) reduction_s = v;
        else return ya_cli_usage_error("loss", "unknown argument '%s'", argv[i]);
        if (m < 0) return YA_ERR_USAGE;
    }
    if (!auth || !entropy) return ya_cli_usage_error("loss", "--auth and --entropy are required");
    double alpha = YA_DISTRUST_ALPHA_DEFAULT;
    if (alpha_s) {
        char *end;
        alpha = strtod(alpha_s, &end);
        if (end == alpha_s || *end) return ya_cli_usage_error("loss", "--alpha expects a number, got '%s'", alpha_s);
    }
    YaError err = {0};
    YaReduction red;
    YaDistrustCode code = ya_distrust_reduction_parse(reduction_s, &red, &err);
    if (code) return fail_loss(code, &err);

    double *w = NULL, *h = NULL;
    long nw = parse_list("--auth", auth, &w);
    if (nw < 0) return YA_ERR_USAGE;
    long nh = parse_list("--entropy", entropy, &h);
    if (nh < 0) {
        free(w);
        return YA_ERR_USAGE;
    }
    char b[32];
    int rc = 0;
    if (nw == 1 && nh == 1) {
        char diag[1024];
        int valid = ya_distrust_validate_inputs(w[0], h[0], diag, sizeof diag);
        double loss;
        code = ya_distrust_loss(w[0], h[0], alpha, &loss, &err);
        if (code) {
            if (diag[0]) fprintf(stderr, "%s\n", diag);
            rc = fail_loss(code, &err);
        } else {
            printf("loss: %s\n", ya_format_double_repr(loss, b));
            printf("component: %s\n", ya_format_double_repr(ya_distrust_component(w[0], h[0]), b));
            printf("alpha: %s\n", ya_format_double_repr(alpha, b));
            printf("valid: %s\n", valid ? "true" : "false");
            if (diag[0]) printf("%s\n", diag);
        }
    } else {
        double *out = malloc((size_t)(nw > 0 ? nw : 1) * sizeof *out);
        code = out ? ya_distrust_loss_batch(w, (size_t)nw, h, (size_t)nh, alpha, red, out, &err) : YA_E_BATCH_SHAPE;
        if (code) {
            rc = fail_loss(code, &err);
        } else if (red == YA_REDUCE_NONE) {
            printf("losses: ");
            for (long i = 0; i < nw; i++) printf("%s%s", i ? "," : "", ya_format_double_repr(out[i], b));
            printf("\nalpha: %s\nvalid: true\n", ya_format_double_repr(alpha, b));
        } else {
            printf("loss: %s\nreduction: %s\n", ya_format_double_repr(out[0], b), reduction_s);
            printf("alpha: %s\nvalid: true\n", ya_format_double_repr(alpha, b));
        }
        free(out);
    }
    free(w);
    free(h);
    return rc;
}

const YaCommand ya_cmd_loss = {
    .name = "loss",
    .summary = "evaluate the Empirical Distrust loss for (w, H) with diagnostics",
    .usage = k_usage,
    .order = 25,
    .run = run_loss,
};
