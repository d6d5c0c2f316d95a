/* sampler.h — next-token choice from logits, with HF generate() semantics:
 * repetition penalty (over every id seen, prompt included), then temperature,
 * top-k and top-p; temperature 0 means greedy (argmax, lowest id on ties).
 * Random draws come from a seeded ya_rng stream, so a run is reproducible. */
#ifndef YOUR_AI_SAMPLER_H
#define YOUR_AI_SAMPLER_H

#include <stdint.h>

#include "your_ai/error.h"
#include "your_ai/rng.h"

typedef struct YaSamplerParams {
    double temperature;        /* 0 = greedy; > 0 samples from softmax(logits / T) */
    int top_k;                 /* 0 = off */
    double top_p;              /* 1 = off; keep the smallest set of top tokens whose mass reaches top_p */
    double repetition_penalty; /* 1 = off; seen ids: positive logits ÷ p, negative × p */
    uint64_t seed;
} YaSamplerParams;

/* Defaults: greedy, top_k 0, top_p 1, repetition_penalty 1, seed 0. */
YaSamplerParams ya_sampler_defaults(void);

typedef struct YaSamplerCand {
    float logit;
    int32_t id;
} YaSamplerCand;

typedef struct YaSampler {
    YaSamplerParams p;
    int vocab;     /* V */
    YaRng rng;     /* stream "sample" of p.seed */
    uint8_t *seen; // [V] 1 if the id occurred (prompt or output)
    int32_t *order; // [V] candidate ids, sorted by logit when top-k/top-p are on
    YaSamplerCand *cand; // [V] sort scratch
    float *probs;   // [V]
} YaSampler;

/* Validates the parameters (usage errors name the option) and allocates V-sized scratch. */
int ya_sampler_init(YaSampler *s, const YaSamplerParams *p, int vocab, YaError *err);
void ya_sampler_free(YaSampler *s);
/* Records an id for the repetition penalty (call for every prompt and generated id). */
void ya_sampler_observe(YaSampler *s, int32_t id);
/* Picks the next id from logits [V] (modified in place). */
int32_t ya_sampler_sample(YaSampler *s, float *logits);

#endif
