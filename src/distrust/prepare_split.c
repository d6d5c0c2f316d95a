/* prepare_split.c — the final shuffle and the train/val split (SPEC §5.2 steps 9–10, §5.3).
 *
 * The reference cuts one shuffled list in two, so a small source type can end
 * up entirely in train. Ours apportions val (then train) over the source types
 * in proportion to their size with largest-remainder rounding, so every type is
 * represented in both in the same proportions; `--no-stratify` gives the
 * reference cut. Both are pure functions of the shuffled order and the seed. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/prepare.h"
#include "your_ai/rng.h"

void ya_prepare_shuffle(uint64_t seed, size_t *order, size_t n) {
    YaRng rng;
    ya_rng_seed(&rng, seed, "shuffle");
    for (size_t i = n; i > 1; i--) { /* Fisher–Yates from the top index down */
        size_t j = (size_t)ya_rng_below(&rng, i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

typedef struct {
    size_t group;
    unsigned __int128 remainder;
    size_t tie_rank;
} Remainder;

static int by_remainder(const void *a, const void *b) {
    const Remainder *x = a, *y = b;
    if (x->remainder != y->remainder) return x->remainder > y->remainder ? -1 : 1;
    return (x->tie_rank > y->tie_rank) - (x->tie_rank < y->tie_rank);
}

void ya_largest_remainder(const size_t *weight, size_t k, size_t total, const size_t *tie_order, size_t *out) {
    unsigned __int128 sum = 0;
    for (size_t i = 0; i < k; i++) sum += weight[i];
    if (sum == 0) {
        memset(out, 0, k * sizeof *out);
        return;
    }
    Remainder *rem = malloc((k ? k : 1) * sizeof *rem); // [k]
    size_t assigned = 0;
    for (size_t i = 0; i < k; i++) {
        unsigned __int128 p = (unsigned __int128)total * weight[i]; /* exact: no rounding in the quota */
        out[i] = (size_t)(p / sum);
        assigned += out[i];
        if (rem) rem[i] = (Remainder){.group = i, .remainder = p % sum, .tie_rank = i};
    }
    if (!rem) return; /* out of memory: floors only (never reached in practice) */
    if (tie_order)
        for (size_t r = 0; r < k; r++) rem[tie_order[r]].tie_rank = r;
    qsort(rem, k, sizeof *rem, by_remainder);
    for (size_t r = 0; assigned < total && r < k; r++, assigned++) out[rem[r].group]++;
    free(rem);
}

int ya_prepare_split(const size_t *group, size_t n, YaSplitGroup *groups, size_t k, size_t train_size,
                     size_t val_size, int stratify, uint64_t seed, unsigned char *assign, YaError *err) {
    if (n <= val_size)
        return ya_fail(err, YA_ERR,
                       "split: %zu examples is not more than --val-size %zu; nothing would be left to train on "
                       "(the reference degenerates silently). Lower --val-size or add data",
                       n, val_size);
    size_t n_train = n - val_size < train_size ? n - val_size : train_size;
    for (size_t g = 0; g < k; g++) groups[g].total = groups[g].train = groups[g].val = 0;
    for (size_t i = 0; i < n; i++) groups[group[i]].total++;

    if (!stratify) {
        for (size_t i = 0; i < n; i++) {
            assign[i] = i < n_train ? YA_SPLIT_TRAIN : i < n_train + val_size ? YA_SPLIT_VAL : YA_SPLIT_DROP;
            if (assign[i] == YA_SPLIT_TRAIN) groups[group[i]].train++;
            if (assign[i] == YA_SPLIT_VAL) groups[group[i]].val++;
        }
        return YA_OK;
    }

    size_t *sizes = calloc(k + 1, sizeof *sizes);  // [k]
    size_t *left = calloc(k + 1, sizeof *left);    // [k] what each group has after val
    size_t *quota = calloc(k + 1, sizeof *quota);  // [k]
    uint64_t *tie = calloc(k + 1, sizeof *tie);    // [k] tie-break permutation of the groups
    size_t *tie_sz = calloc(k + 1, sizeof *tie_sz); // [k]
    size_t *seen = calloc(k + 1, sizeof *seen);     // [k]
    if (!sizes || !left || !quota || !tie || !tie_sz || !seen) {
        free(sizes), free(left), free(quota), free(tie), free(tie_sz), free(seen);
        return ya_fail(err, YA_ERR, "split: out of memory");
    }
    YaRng rng;
    ya_rng_seed(&rng, seed, "split");
    for (size_t g = 0; g < k; g++) tie[g] = g;
    ya_rng_shuffle_u64(&rng, tie, k);
    for (size_t g = 0; g < k; g++) {
        tie_sz[g] = (size_t)tie[g];
        sizes[g] = groups[g].total;
    }
    ya_largest_remainder(sizes, k, val_size, tie_sz, quota);
    for (size_t g = 0; g < k; g++) {
        groups[g].val = quota[g];
        left[g] = sizes[g] - quota[g];
    }
    ya_largest_remainder(left, k, n_train, tie_sz, quota);
    for (size_t g = 0; g < k; g++) groups[g].train = quota[g];
    for (size_t i = 0; i < n; i++) {
        size_t g = group[i], s = seen[g]++;
        assign[i] = s < groups[g].train ? YA_SPLIT_TRAIN : s < groups[g].train + groups[g].val ? YA_SPLIT_VAL : YA_SPLIT_DROP;
    }
    free(sizes), free(left), free(quota), free(tie), free(tie_sz), free(seen);
    return YA_OK;
}
