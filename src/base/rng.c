/* rng.c — xoshiro256** with SplitMix64 seeding (see include/your_ai/rng.h). */
#include "your_ai/rng.h"

#include <math.h>

uint64_t ya_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void ya_rng_seed(YaRng *rng, uint64_t seed, const char *tag) {
    uint64_t sm = seed ^ fnv1a64(tag);
    for (int i = 0; i < 4; i++) rng->s[i] = ya_splitmix64(&sm);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ya_rng_next_u64(YaRng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ya_rng_below(YaRng *rng, uint64_t bound) {
    /* Lemire: the high 64 bits of x*bound are uniform once the low part is
     * outside the biased zone [0, 2^64 mod bound). */
    unsigned __int128 m = (unsigned __int128)ya_rng_next_u64(rng) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (unsigned __int128)ya_rng_next_u64(rng) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ya_rng_uniform(YaRng *rng) { return (double)(ya_rng_next_u64(rng) >> 11) * 0x1.0p-53; }

float ya_rng_uniform_f32(YaRng *rng) { return (float)(ya_rng_next_u64(rng) >> 40) * 0x1.0p-24f; }

double ya_rng_normal(YaRng *rng) {
    double u1 = ya_rng_uniform(rng), u2 = ya_rng_uniform(rng);
    if (u1 < 1e-300) u1 = 1e-300; /* log(0) guard: u1 can be exactly 0 */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void ya_rng_shuffle_u64(YaRng *rng, uint64_t *items, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ya_rng_below(rng, i);
        uint64_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}
