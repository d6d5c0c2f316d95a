/* prepare_balance.c — per-file caps and authority-band rebalancing (SPEC §5.2 steps 3, 8).
 *
 * Caps keep one huge corpus from drowning the others; rebalancing keeps enough
 * low-authority (primary-source) text for the distrust term to have something
 * to reward. Both are random in the reference; here every draw comes from a
 * named stream ("cap:<file>", "rebalance:mid", "rebalance:high"), so the same
 * seed gives the same selection (§5.3). */
#include <math.h>
#include <stdlib.h>

#include "your_ai/prepare.h"
#include "your_ai/rng.h"

const char *const ya_band_names[3] = {"low", "mid", "high"};

YaAuthorityBand ya_prepare_band(double w) {
    if (w < 0.3) return YA_BAND_LOW;
    if (w > 0.7) return YA_BAND_HIGH;
    return YA_BAND_MID;
}

size_t ya_prepare_cap_for_prior(double prior_w, size_t train_size) {
    if (prior_w < 0.3) return train_size / 3;
    if (prior_w > 0.7) return train_size / 6;
    return train_size / 5;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

size_t ya_prepare_cap_select(uint64_t seed, const char *file, size_t n, size_t cap, size_t *keep) {
    if (n <= cap) {
        for (size_t i = 0; i < n; i++) keep[i] = i;
        return n;
    }
    uint64_t *perm = malloc(n * sizeof *perm); // [n]
    if (!perm) return (size_t)-1;
    for (size_t i = 0; i < n; i++) perm[i] = i;
    char tag[600];
    snprintf(tag, sizeof tag, "cap:%s", file);
    YaRng rng;
    ya_rng_seed(&rng, seed, tag);
    ya_rng_shuffle_u64(&rng, perm, n);
    for (size_t i = 0; i < cap; i++) keep[i] = (size_t)perm[i];
    free(perm);
    qsort(keep, cap, sizeof *keep, cmp_size); /* sampled records stay in file order */
    return cap;
}

/* Shuffles idx[0..n) on the named stream and returns min(n, target). */
static size_t shuffle_truncate(uint64_t seed, const char *tag, size_t *idx, size_t n, size_t target) {
    YaRng rng;
    ya_rng_seed(&rng, seed, tag);
    for (size_t i = n; i > 1; i--) { /* Fisher–Yates from the top index down, as ya_rng_shuffle_u64 */
        size_t j = (size_t)ya_rng_below(&rng, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
    return n < target ? n : target;
}

int ya_prepare_rebalance(const double *w, size_t n, uint64_t seed, size_t *keep, size_t *n_keep,
                         YaRebalanceReport *report, YaError *err) {
    YaRebalanceReport r = {0};
    for (size_t i = 0; i < n; i++) r.before[ya_prepare_band(w[i])]++;
    size_t n_low = r.before[YA_BAND_LOW];
    if (n == 0 || (double)n_low / (double)n >= 0.20) {
        for (size_t i = 0; i < n; i++) keep[i] = i;
        *n_keep = n;
        for (int b = 0; b < 3; b++) r.after[b] = r.before[b];
        if (report) *report = r;
        return YA_OK;
    }
    if (n_low == 0) {
        if (report) *report = r;
        return ya_fail(err, YA_ERR,
                       "rebalance: no low-authority examples (w < 0.3) among %zu (mid %zu, high %zu); the reference "
                       "would produce an empty set. Add primary-source data or pass --no-rebalance",
                       n, r.before[YA_BAND_MID], r.before[YA_BAND_HIGH]);
    }
    r.applied = 1;
    r.target_total = (size_t)floor((double)n_low / 0.25);
    r.high_target = (size_t)floor(0.35 * (double)r.target_total);
    r.mid_target = r.target_total > n_low + r.high_target ? r.target_total - n_low - r.high_target : 0;

    size_t *mid = malloc((r.before[YA_BAND_MID] + 1) * sizeof *mid);   // [n_mid]
    size_t *high = malloc((r.before[YA_BAND_HIGH] + 1) * sizeof *high); // [n_high]
    if (!mid || !high) {
        free(mid);
        free(high);
        return ya_fail(err, YA_ERR, "rebalance: out of memory");
    }
    size_t k = 0, nm = 0, nh = 0;
    for (size_t i = 0; i < n; i++) {
        YaAuthorityBand b = ya_prepare_band(w[i]);
        if (b == YA_BAND_LOW) keep[k++] = i;
        else if (b == YA_BAND_MID) mid[nm++] = i;
        else high[nh++] = i;
    }
    size_t km = shuffle_truncate(seed, "rebalance:mid", mid, nm, r.mid_target);
    size_t kh = shuffle_truncate(seed, "rebalance:high", high, nh, r.high_target);
    for (size_t i = 0; i < km; i++) keep[k++] = mid[i];
    for (size_t i = 0; i < kh; i++) keep[k++] = high[i];
    free(mid);
    free(high);
    r.after[YA_BAND_LOW] = n_low;
    r.after[YA_BAND_MID] = km;
    r.after[YA_BAND_HIGH] = kh;
    *n_keep = k;
    if (report) *report = r;
    return YA_OK;
}
