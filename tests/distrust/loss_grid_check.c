/* loss_grid_check.c — reads the cases printed by tools/ref_distrust.py (Python,
 * double precision) on stdin and checks the C loss, batch reductions and
 * weighted-mode weights against them: every value within 1e-12 relative. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/distrust.h"

static int g_checks, g_fail;

static void near(const char *what, int line, double got, double want) {
    g_checks++;
    double tol = 1e-12 * fmax(fabs(want), 1e-300);
    if (!(fabs(got - want) <= tol) && !(want == 0.0 && fabs(got) <= 1e-12)) {
        if (g_fail++ < 20) fprintf(stderr, "line %d: %s: C %.17g vs Python %.17g\n", line, what, got, want);
    }
}

static double *read_n(char **p, int n) {
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = strtod(*p, p);
    return v;
}

int main(void) {
    char *buf = NULL;
    size_t cap = 0;
    int line = 0, n_l = 0, n_b = 0, n_w = 0;
    YaError e = {0};
    while (getline(&buf, &cap, stdin) > 0) {
        line++;
        char *p = buf + 2;
        if (buf[0] == 'L') {
            double w = strtod(p, &p), h = strtod(p, &p), a = strtod(p, &p), want = strtod(p, &p), c = strtod(p, &p);
            double got = NAN;
            if (ya_distrust_loss(w, h, a, &got, &e)) fprintf(stderr, "line %d: %s\n", line, e.message), g_fail++;
            near("loss", line, got, want);
            near("component", line, ya_distrust_component(w, h), c);
            n_l++;
        } else if (buf[0] == 'B') {
            char red_s[8];
            int n, off;
            sscanf(p, "%7s %d%n", red_s, &n, &off);
            p += off;
            double *w = read_n(&p, n), *h = read_n(&p, n), a = strtod(p, &p);
            YaReduction red;
            ya_distrust_reduction_parse(red_s, &red, &e);
            int nv = red == YA_REDUCE_NONE ? n : 1;
            double *want = read_n(&p, nv), *got = calloc((size_t)n, sizeof *got);
            if (ya_distrust_loss_batch(w, (size_t)n, h, (size_t)n, a, red, got, &e))
                fprintf(stderr, "line %d: %s\n", line, e.message), g_fail++;
            for (int i = 0; i < nv; i++) near(red_s, line, got[i], want[i]);
            free(w), free(h), free(want), free(got);
            n_b++;
        } else if (buf[0] == 'W') {
            YaDistrustWeightParams prm = ya_distrust_weight_params_default();
            prm.lambda = strtod(p, &p);
            prm.w_min = strtod(p, &p);
            prm.w_max = strtod(p, &p);
            int n = (int)strtol(p, &p, 10);
            double *w = read_n(&p, n), *h = read_n(&p, n);
            prm.alpha = strtod(p, &p);
            double mu_w = strtod(p, &p), c_w = strtod(p, &p);
            double *wh_w = read_n(&p, n), *om_w = read_n(&p, n);
            double *wh = calloc((size_t)n, sizeof *wh), *om = calloc((size_t)n, sizeof *om), mu, c;
            if (ya_distrust_dataset_weights(w, h, (size_t)n, &prm, wh, om, &mu, &c, &e))
                fprintf(stderr, "line %d: %s\n", line, e.message), g_fail++;
            near("mu", line, mu, mu_w);
            near("c", line, c, c_w);
            for (int i = 0; i < n; i++) {
                near("w_hat", line, wh[i], wh_w[i]);
                near("omega", line, om[i], om_w[i]);
                if (prm.lambda == 0.0 && om[i] != 1.0) g_fail++, fprintf(stderr, "line %d: omega != 1 at lambda 0\n", line);
            }
            free(w), free(h), free(wh_w), free(om_w), free(wh), free(om);
            n_w++;
        }
    }
    free(buf);
    if (n_l < 100 || n_b < 10 || n_w < 1) {
        fprintf(stderr, "too few cases read (%d scalar, %d batch, %d weighted): is the generator broken?\n", n_l, n_b, n_w);
        return 1;
    }
    printf("%d checks (%d scalar, %d batch, %d weighted cases), %d failed\n", g_checks, n_l, n_b, n_w, g_fail);
    return g_fail ? 1 : 0;
}
