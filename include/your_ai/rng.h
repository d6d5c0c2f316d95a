/* rng.h — deterministic random numbers.
 *
 * xoshiro256** seeded through SplitMix64 from (seed, stream tag), as SPEC §5.3
 * asks. Each consumer names its stream ("shuffle", "cap:<file>", "epoch:3",
 * "lora-init", ...), so adding a new consumer never shifts another's numbers,
 * and the whole state is four u64 that a checkpoint can save and restore. */
#ifndef YOUR_AI_RNG_H
#define YOUR_AI_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct YaRng {
    uint64_t s[4];
} YaRng;

/* Seeds from (seed, tag): SplitMix64 state = seed XOR FNV-1a-64(tag), then four
 * SplitMix64 outputs fill s[]. tag may be NULL (treated as ""). */
void ya_rng_seed(YaRng *rng, uint64_t seed, const char *tag);

uint64_t ya_rng_next_u64(YaRng *rng);

/* Unbiased integer in [0, bound) (Lemire's multiply-shift with rejection). bound > 0. */
uint64_t ya_rng_below(YaRng *rng, uint64_t bound);

/* Uniform double in [0, 1) with 53 random bits. */
double ya_rng_uniform(YaRng *rng);

/* Uniform float in [0, 1) with 24 random bits. */
float ya_rng_uniform_f32(YaRng *rng);

/* Standard normal (Box–Muller, both values used in turn is NOT cached: one
 * call consumes two u64 so the state stays a pure function of the call count). */
double ya_rng_normal(YaRng *rng);

/* Fisher–Yates shuffle of n indices from the top index down (SPEC §5.3). */
void ya_rng_shuffle_u64(YaRng *rng, uint64_t *items, size_t n);

/* SplitMix64 step, exposed for hashing seeds into sub-seeds. */
uint64_t ya_splitmix64(uint64_t *state);

#endif
