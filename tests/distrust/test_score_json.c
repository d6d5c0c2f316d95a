/* test_score_json.c — the fast number output of `your_ai score`:
 * yas_repr_round4(x) must be byte-identical to the general route,
 * ya_format_double_repr(ya_round4(x)) (Python repr(round(x, 4)); that route is
 * checked against Python by ctest scorer_semantics / scorer_parity), on
 * random values of every magnitude, exact 4-decimal ties, zeros and the
 * values scores take. (Whole-line JSON output vs Python: tools/check_score_json.py.) */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "distrust/score_json.h"
#include "test_util.h"
#include "your_ai/rng.h"

static void check_one(double x) {
    char fast[32], slow[32];
    yas_repr_round4(x, fast);
    ya_format_double_repr(ya_round4(x), slow);
    CHECK_MSG(strcmp(fast, slow) == 0, "x=%.17g: fast '%s', general '%s'", x, fast, slow);
}

int main(void) {
    const double fixed[] = {0.0, -0.0, 0.5, 3.0, 0.99, 0.035, 7.573383, 9.1, 0.00005, -0.00005, 0.00004999, 0.00015,
                            0.00025, 1e-300, 5e-5, 1.00005, 2.675, 999999999.99995, 1e9, 1e15, 1e16, 1e22, -7.25,
                            123456.78905, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_one(fixed[i]);
    YaRng rng;
    ya_rng_seed(&rng, 20261125, "score_json");
    for (int i = 0; i < 200000; i++) {
        double u = (double)(ya_rng_next_u64(&rng) >> 11) * 0x1.0p-53;
        switch (i % 4) {
        case 0: check_one(u); break;                                  /* [0, 1): auth_weight */
        case 1: check_one(u * 12.0); break;                           /* entropy range */
        case 2: check_one((double)(ya_rng_next_u64(&rng) % 200000) / 20000.0 + 0.00005); break; /* near ties */
        default: check_one(ldexp(u - 0.5, (int)(ya_rng_next_u64(&rng) % 80) - 40)); break;       /* any magnitude */
        }
    }
    TEST_MAIN_END();
}
