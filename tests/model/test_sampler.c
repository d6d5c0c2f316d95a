/* test_sampler.c — the sampler against its definition (HF generate semantics),
 * computed independently here: repetition penalty arithmetic, greedy ties,
 * top-k / top-p candidate sets, and sampled frequencies vs softmax(logits/T). */
#include <math.h>
#include <stdlib.h>

#include "test_util.h"
#include "your_ai/sampler.h"

static YaSampler make(double temp, int top_k, double top_p, double pen, uint64_t seed, int V) {
    YaSamplerParams p = {.temperature = temp, .top_k = top_k, .top_p = top_p, .repetition_penalty = pen, .seed = seed};
    YaSampler s;
    YaError err;
    CHECK(ya_sampler_init(&s, &p, V, &err) == YA_OK);
    return s;
}

int main(void) {
    /* Greedy: argmax, lowest id on ties. */
    {
        YaSampler s = make(0, 0, 1, 1, 0, 5);
        float l[5] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
        CHECK(ya_sampler_sample(&s, l) == 1);
        ya_sampler_free(&s);
    }
    /* Repetition penalty (HF): seen positive logits ÷ p, seen negative × p, unseen untouched. */
    {
        YaSampler s = make(0, 0, 1, 2.0, 0, 4);
        ya_sampler_observe(&s, 0);
        ya_sampler_observe(&s, 2);
        float l[4] = {3.0f, 2.0f, -1.0f, 1.0f};
        int32_t id = ya_sampler_sample(&s, l);
        CHECK_NEAR(l[0], 1.5, 0);
        CHECK_NEAR(l[1], 2.0, 0);
        CHECK_NEAR(l[2], -2.0, 0);
        CHECK_NEAR(l[3], 1.0, 0);
        CHECK(id == 1);
        ya_sampler_free(&s);
    }
    /* Invalid parameters are usage errors. */
    {
        YaSamplerParams p = ya_sampler_defaults();
        YaSampler s;
        YaError err;
        p.top_p = 0.0;
        CHECK(ya_sampler_init(&s, &p, 4, &err) == YA_ERR_USAGE);
        p = ya_sampler_defaults();
        p.temperature = -1;
        CHECK(ya_sampler_init(&s, &p, 4, &err) == YA_ERR_USAGE);
    }
    /* Frequencies: temperature 2, with top-k 3 and top-p 0.8 filters, against the
     * distribution computed here from the definition. */
    const float base[6] = {1.0f, 3.0f, 0.0f, 2.5f, -1.0f, 2.0f};
    const int N = 200000;
    struct {
        int top_k;
        double top_p;
    } cfgs[] = {{0, 1.0}, {3, 1.0}, {0, 0.8}, {2, 0.9}};
    for (size_t c = 0; c < sizeof cfgs / sizeof *cfgs; c++) {
        const double T = 2.0;
        /* expected: softmax(base/T), keep top_k by logit, then the smallest prefix (by
         * probability, descending) whose mass before the token is < top_p, renormalised. */
        int order[6] = {1, 3, 5, 0, 2, 4}; /* ids by logit, descending */
        double p[6] = {0}, z = 0;
        int n = cfgs[c].top_k ? cfgs[c].top_k : 6;
        for (int i = 0; i < n; i++) z += exp(base[order[i]] / T);
        double cum = 0;
        int keep = 0;
        while (keep < n && (keep == 0 || cum < cfgs[c].top_p)) cum += exp(base[order[keep++]] / T) / z;
        double z2 = 0;
        for (int i = 0; i < keep; i++) z2 += exp(base[order[i]] / T);
        for (int i = 0; i < keep; i++) p[order[i]] = exp(base[order[i]] / T) / z2;

        YaSampler s = make(T, cfgs[c].top_k, cfgs[c].top_p, 1.0, 42 + c, 6);
        int count[6] = {0};
        for (int k = 0; k < N; k++) {
            float l[6];
            for (int i = 0; i < 6; i++) l[i] = base[i];
            count[ya_sampler_sample(&s, l)]++;
        }
        for (int i = 0; i < 6; i++) {
            double f = (double)count[i] / N, sd = sqrt(p[i] * (1 - p[i]) / N);
            CHECK_MSG(fabs(f - p[i]) <= 5 * sd + 1e-12, "cfg %zu id %d: freq %.5f expected %.5f", c, i, f, p[i]);
        }
        ya_sampler_free(&s);
    }
    /* Same seed → same draws. */
    {
        YaSampler a = make(1.0, 0, 1, 1, 9, 6), b = make(1.0, 0, 1, 1, 9, 6);
        int same = 1;
        for (int k = 0; k < 100; k++) {
            float la[6], lb[6];
            for (int i = 0; i < 6; i++) la[i] = lb[i] = base[i];
            same &= ya_sampler_sample(&a, la) == ya_sampler_sample(&b, lb);
        }
        CHECK(same);
        ya_sampler_free(&a);
        ya_sampler_free(&b);
    }
    TEST_MAIN_END();
}
