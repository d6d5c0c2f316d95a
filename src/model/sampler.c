/* sampler.c — greedy / temperature / top-k / top-p sampling with the HF
 * repetition penalty, in the order HF's logits processors and warpers apply
 * them (penalty → temperature → top-k → top-p). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/sampler.h"

YaSamplerParams ya_sampler_defaults(void) {
    return (YaSamplerParams){.temperature = 0.0, .top_k = 0, .top_p = 1.0, .repetition_penalty = 1.0, .seed = 0};
}

int ya_sampler_init(YaSampler *s, const YaSamplerParams *p, int vocab, YaError *err) {
    memset(s, 0, sizeof *s);
    if (!(p->temperature >= 0.0) || !isfinite(p->temperature))
        return ya_fail(err, YA_ERR_USAGE, "--temperature must be >= 0, got %g", p->temperature);
    if (p->top_k < 0) return ya_fail(err, YA_ERR_USAGE, "--top-k must be >= 0, got %d", p->top_k);
    if (!(p->top_p > 0.0 && p->top_p <= 1.0))
        return ya_fail(err, YA_ERR_USAGE, "--top-p must be in (0, 1], got %g", p->top_p);
    if (!(p->repetition_penalty > 0.0) || !isfinite(p->repetition_penalty))
        return ya_fail(err, YA_ERR_USAGE, "--repetition-penalty must be > 0, got %g", p->repetition_penalty);
    s->p = *p;
    s->vocab = vocab;
    ya_rng_seed(&s->rng, p->seed, "sample");
    s->seen = calloc((size_t)vocab, 1);
    s->order = malloc((size_t)vocab * sizeof *s->order);
    s->probs = malloc((size_t)vocab * sizeof *s->probs);
    s->cand = malloc((size_t)vocab * sizeof *s->cand);
    if (!s->seen || !s->order || !s->probs || !s->cand) {
        ya_sampler_free(s);
        return ya_fail(err, YA_ERR, "out of memory for a sampler over %d ids", vocab);
    }
    return YA_OK;
}

void ya_sampler_free(YaSampler *s) {
    free(s->seen);
    free(s->order);
    free(s->probs);
    free(s->cand);
    s->cand = NULL;
    s->seen = NULL;
    s->order = NULL;
    s->probs = NULL;
}

void ya_sampler_observe(YaSampler *s, int32_t id) {
    if (id >= 0 && id < s->vocab) s->seen[id] = 1;
}

typedef YaSamplerCand Cand;

static int by_logit_desc(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id); /* stable: lower id first */
}

int32_t ya_sampler_sample(YaSampler *s, float *logits) {
    int V = s->vocab;
    if (s->p.repetition_penalty != 1.0) {
        float pen = (float)s->p.repetition_penalty;
        for (int i = 0; i < V; i++)
            if (s->seen[i]) logits[i] = logits[i] > 0 ? logits[i] / pen : logits[i] * pen;
    }
    if (s->p.temperature == 0.0) {
        int32_t best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    float inv_t = (float)(1.0 / s->p.temperature);
    for (int i = 0; i < V; i++) logits[i] *= inv_t;

    /* Candidates sorted by logit (descending) only when a filter needs the order. */
    int n = V;
    Cand *cand = s->cand; // [V]
    if ((s->p.top_k > 0 && s->p.top_k < V) || s->p.top_p < 1.0) {
        for (int i = 0; i < V; i++) cand[i] = (Cand){logits[i], i};
        qsort(cand, (size_t)V, sizeof *cand, by_logit_desc);
        if (s->p.top_k > 0 && s->p.top_k < V) {
            /* HF keeps every token whose logit ties the k-th. */
            n = s->p.top_k;
            while (n < V && cand[n].logit == cand[n - 1].logit) n++;
        }
        for (int i = 0; i < n; i++) s->order[i] = cand[i].id;
    } else {
        for (int i = 0; i < V; i++) s->order[i] = i;
    }

    /* softmax over the candidates (in double for the normaliser) */
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logits[s->order[i]] > mx) mx = logits[s->order[i]];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        s->probs[i] = expf(logits[s->order[i]] - mx);
        sum += s->probs[i];
    }
    for (int i = 0; i < n; i++) s->probs[i] = (float)(s->probs[i] / sum);

    if (s->p.top_p < 1.0) {
        /* Keep token i while the mass before it is < top_p (HF removes cumulative ≤ 1 − top_p
         * from the low end, which is the same set); always keep the first. */
        double cum = 0.0, kept = 0.0;
        int keep = 0;
        while (keep < n && (keep == 0 || cum < s->p.top_p)) {
            cum += s->probs[keep];
            keep++;
        }
        n = keep;
        for (int i = 0; i < n; i++) kept += s->probs[i];
        for (int i = 0; i < n; i++) s->probs[i] = (float)(s->probs[i] / kept);
    }

    double u = ya_rng_uniform(&s->rng), cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += s->probs[i];
        if (u < cum) return s->order[i];
    }
    return s->order[n - 1]; /* u landed in the rounding gap above the last cumulative sum */
}
