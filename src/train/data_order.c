/* data_order.c — the data order of SPEC §8: epoch k visits every sample once, in
 * the order of a Fisher–Yates permutation (top index down, unbiased bounded ints,
 * SPEC §5.3) drawn from the PRNG stream "epoch:<k>". A pure function of
 * (seed, k, n): a resumed run redraws exactly the same order from its cursor. */
#include <inttypes.h>
#include <stdio.h>

#include "your_ai/data.h"
#include "your_ai/rng.h"

void ya_data_epoch_permutation(uint64_t seed, uint64_t epoch, uint64_t *perm, size_t n) {
    char tag[40];
    snprintf(tag, sizeof tag, "epoch:%" PRIu64, epoch);
    YaRng rng;
    ya_rng_seed(&rng, seed, tag);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    ya_rng_shuffle_u64(&rng, perm, n);
}
