/* generate.c — the generation loop: prefill the prompt into the KV cache,
 * then sample one token per step from the last position's logits, feeding it
 * back, until max_tokens or an EOS id. Every buffer is allocated before the
 * first step. The no_cache mode recomputes the whole sequence each step: it
 * exists so tests can prove the cached path produces the same tokens. */
#include <stdlib.h>
#include <time.h>

#include "your_ai/generate.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void eos_add(YaGenerateParams *p, int32_t id) {
    if (id < 0) return;
    for (int i = 0; i < p->n_eos; i++)
        if (p->eos[i] == id) return;
    if (p->n_eos < YA_MAX_EOS) p->eos[p->n_eos++] = id;
}

void ya_generate_eos_set(YaGenerateParams *params, const YaModelConfig *cfg, int32_t tokenizer_eos) {
    params->n_eos = 0;
    for (int i = 0; i < cfg->n_eos; i++) eos_add(params, cfg->eos_token_ids[i]);
    eos_add(params, tokenizer_eos);
}

static int is_eos(const YaGenerateParams *p, int32_t id) {
    for (int i = 0; i < p->n_eos; i++)
        if (p->eos[i] == id) return 1;
    return 0;
}

/* Prefill chunk: long prompts run in pieces so the attention scratch stays bounded. */
enum { PREFILL_CHUNK = 256 };

int ya_generate(const YaModel *m, const int32_t *prompt, int n_prompt, const YaGenerateParams *params, YaTokenFn on_token,
                void *user, YaGenerateStats *stats, YaError *err) {
    *stats = (YaGenerateStats){.n_prompt = n_prompt};
    if (n_prompt <= 0) return ya_fail(err, YA_ERR_USAGE, "generate: the prompt has no tokens");
    if (params->max_tokens <= 0) return YA_OK;
    int V = m->cfg.vocab_size, ctx = n_prompt + params->max_tokens;
    YaSampler sampler;
    int rc = ya_sampler_init(&sampler, &params->sampling, V, err);
    if (rc != YA_OK) return rc;
    YaInferState *st = NULL, *state = NULL; /* st: created here; state: the one used (st or params->state) */
    float *logits = malloc((size_t)V * sizeof *logits);      // [V]
    int32_t *seq = malloc((size_t)ctx * sizeof *seq);        // [ctx] prompt then output
    if (!logits || !seq) {
        rc = ya_fail(err, YA_ERR, "out of memory");
        goto done;
    }
    if (params->state) {
        if (ya_infer_state_capacity(params->state) < ctx) {
            rc = ya_fail(err, YA_ERR_USAGE, "generate: the given inference state holds %d positions, %d needed",
                         ya_infer_state_capacity(params->state), ctx);
            goto done;
        }
        ya_infer_state_reset(params->state);
    } else {
        rc = ya_infer_state_new_on(m, params->device, params->gpu, ctx, params->no_cache ? ctx : PREFILL_CHUNK, &st,
                                   err);
        if (rc != YA_OK) goto done;
    }
    state = params->state ? params->state : st;
    for (int i = 0; i < n_prompt; i++) {
        seq[i] = prompt[i];
        ya_sampler_observe(&sampler, prompt[i]);
    }

    int n = n_prompt;
    double t0 = now_seconds();
    rc = ya_model_forward(m, state, seq, n, 0, logits, err);
    if (rc != YA_OK) goto done;
    double t1 = now_seconds();
    stats->prompt_seconds = t1 - t0;
    for (;;) {
        int32_t id = ya_sampler_sample(&sampler, logits);
        seq[n++] = id;
        ya_sampler_observe(&sampler, id);
        stats->n_decode++;
        if (on_token && on_token(user, id)) break;
        if (is_eos(params, id)) {
            stats->hit_eos = 1;
            break;
        }
        if (stats->n_decode >= params->max_tokens) break;
        if (params->no_cache) {
            ya_infer_state_reset(state);
            rc = ya_model_forward(m, state, seq, n, 0, logits, err);
        } else {
            rc = ya_model_forward(m, state, &seq[n - 1], 1, 0, logits, err);
        }
        if (rc != YA_OK) goto done;
    }
    stats->decode_seconds = now_seconds() - t1;

done:
    ya_infer_state_free(st);
    ya_sampler_free(&sampler);
    free(logits);
    free(seq);
    return rc;
}
