/* init_model.c — a randomly initialised HF model directory (see init_model.h).
 *
 * Tensor names and shapes follow SPEC §6.3; order is embed, then each layer
 * (norms, attention, MLP), then the final norm and lm_head, so greedy sharding
 * keeps a layer's tensors together. Weights are streamed through the sharded
 * safetensors writer: each tensor is generated into one (reused) buffer and
 * written before the next is made, so an 8B model in bf16 (16 GB) is written
 * with ~1 GB peak memory (its largest tensor, the embedding). */
#define _GNU_SOURCE
#include <omp.h> /* defines: omp_get_max_threads */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h"
#include "your_ai/init_model.h"
#include "your_ai/json.h"
#include "your_ai/rng.h"

/* Elements per independently seeded RNG chunk. Fixed forever: changing it
 * changes every generated model. */
#define YA_INIT_CHUNK 16384

typedef enum { INIT_NORMAL, INIT_ONES, INIT_ZEROS } InitKind;

typedef struct {
    InitKind kind;
    uint64_t seed;
    YaDtype dt;
    float std;
    int threads;
} InitSpec;

/* Box–Muller on 24-bit uniforms with short polynomials instead of libm's
 * logf/sinf/cosf: branch-free, so the loop vectorises, and 2-3× faster than
 * libm — an 8B model is 8·10^9 draws. Errors (~1e-7 relative) are far below
 * what matters for an initialisation. The bits are reproducible for a given
 * build and any thread count (a build that contracts a*b+c into FMA differs). */
static inline float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ln(x) for x in (0, 1]: x = m·2^e with m in [1, 2), ln m = 2·atanh((m−1)/(m+1)). */
static inline float fast_log(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    float e = (float)((int)(b >> 23) - 127);
    float m = bits_to_f32((b & 0x7fffffu) | 0x3f800000u);
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t; /* t in [0, 1/3) */
    float series = 1.0f + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7 + t2 * (1.0f / 9 + t2 * (1.0f / 11)))));
    return e * 0.69314718056f + 2.0f * t * series;
}

/* sqrt(x) for x >= 0 without libm: sqrtf may set errno, which keeps GCC from
 * vectorising the loop. Bit-trick 1/sqrt estimate, three Newton steps (~1e-7). */
static inline float fast_sqrt(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    float y = bits_to_f32(0x5f375a86u - (b >> 1));
    for (int i = 0; i < 3; i++) y = y * (1.5f - 0.5f * x * y * y);
    return x * y;
}

/* One pair of N(0, std) draws from 64 random bits: radius from 24 bits, angle
 * from 24 more. Only int32→float conversions and bit selects: no branches. */
static inline void box_muller(uint64_t x, float std, float *z0, float *z1) {
    int32_t a = (int32_t)(x >> 40), k = (int32_t)((x >> 16) & 0xffffffu);
    float u1 = (float)(a + 1) * 0x1.0p-24f; /* (0, 1]: log stays finite */
    uint32_t q = (uint32_t)k >> 22;         /* angle = 2π·k/2^24 = θ + q·π/2 */
    float th = (float)(k & 0x3fffff) * (1.5707963267948966f * 0x1.0p-22f), th2 = th * th; /* θ in [0, π/2) */
    float s = th * (1 + th2 * (-1.0f / 6 + th2 * (1.0f / 120 + th2 * (-1.0f / 5040 + th2 * (1.0f / 362880 +
                                                                                             th2 * (-1.0f / 39916800))))));
    float c = 1 + th2 * (-0.5f + th2 * (1.0f / 24 + th2 * (-1.0f / 720 + th2 * (1.0f / 40320 +
                                                                                 th2 * (-1.0f / 3628800 +
                                                                                        th2 * (1.0f / 479001600))))));
    /* odd quadrants: (cos, sin) = (−s, c); quadrants 2 and 3 negate both */
    uint32_t cb, sb, swap = 0u - (q & 1u), neg = (q & 2u) << 30;
    memcpy(&cb, &c, 4);
    memcpy(&sb, &s, 4);
    uint32_t cq = ((cb & ~swap) | ((sb ^ 0x80000000u) & swap)) ^ neg;
    uint32_t sq = ((sb & ~swap) | (cb & swap)) ^ neg;
    float rad = std * fast_sqrt(-2.0f * fast_log(u1));
    *z0 = rad * bits_to_f32(cq);
    *z1 = rad * bits_to_f32(sq);
}

/* out[2j], out[2j+1] = the pair drawn from bits[j]. A separate function with a
 * constant trip count, so that GCC's -O2 (cheap cost model) vectorises it. */
static void draw_normals(const uint64_t *bits, float *out, float std) {
    for (int j = 0; j < YA_INIT_CHUNK / 2; j++) box_muller(bits[j], std, &out[2 * j], &out[2 * j + 1]);
}

void ya_init_fill_normal(uint64_t seed, const char *name, float std, YaDtype dt, void *dst, uint64_t n, int threads) {
    /* One key per tensor from (seed, name); chunk c is seeded from key + c·φ
     * (SplitMix64 then decorrelates neighbouring seeds). */
    YaRng tr;
    ya_rng_seed(&tr, seed, name);
    const uint64_t key = ya_rng_next_u64(&tr);
    const size_t esize = ya_dtype_size(dt);
    const int64_t n_chunks = (int64_t)((n + YA_INIT_CHUNK - 1) / YA_INIT_CHUNK);
    const int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < n_chunks; c++) {
        uint64_t bits[YA_INIT_CHUNK / 2]; // [chunk/2] one u64 per pair of draws
        float buf[YA_INIT_CHUNK];         // [chunk] fp32 draws before the dtype cast
        YaRng r;
        ya_rng_seed(&r, key + (uint64_t)c * 0x9e3779b97f4a7c15ULL, "init-chunk");
        uint64_t begin = (uint64_t)c * YA_INIT_CHUNK, len = n - begin < YA_INIT_CHUNK ? n - begin : YA_INIT_CHUNK;
        for (int j = 0; j < YA_INIT_CHUNK / 2; j++) bits[j] = ya_rng_next_u64(&r);
        draw_normals(bits, buf, std);
        ya_from_f32(dt, buf, (unsigned char *)dst + begin * esize, (size_t)len);
    }
}

static int fill_tensor(void *ctx, const char *name, void *dst, uint64_t nbytes, YaError *err) {
    const InitSpec *s = ctx;
    uint64_t n = nbytes / ya_dtype_size(s->dt);
    if (s->kind == INIT_NORMAL) {
        ya_init_fill_normal(s->seed, name, s->std, s->dt, dst, n, s->threads);
    } else if (s->kind == INIT_ZEROS) {
        memset(dst, 0, nbytes);
    } else {
        float one = 1.0f;
        unsigned char pattern[4];
        ya_from_f32(s->dt, &one, pattern, 1);
        size_t es = ya_dtype_size(s->dt);
        for (uint64_t i = 0; i < n; i++) memcpy((unsigned char *)dst + i * es, pattern, es);
    }
    return YA_OK;
}

static const char *torch_dtype_name(YaDtype dt) {
    return dt == YA_DTYPE_F32 ? "float32" : dt == YA_DTYPE_F16 ? "float16" : "bfloat16";
}

/* Copies src to dir/name (atomically); missing optional files are skipped. */
static int copy_file(const char *src, const char *dir, const char *name, int required, YaError *err) {
    if (!ya_path_exists(src)) {
        if (required) return ya_fail(err, YA_ERR, "%s: no such file", src);
        return YA_OK;
    }
    char *buf;
    size_t len;
    char dst[4096];
    if (ya_read_file(src, &buf, &len, err)) return YA_ERR;
    int rc = ya_path_join(dst, sizeof dst, dir, name, err);
    if (!rc) rc = ya_write_file_atomic(dst, buf, len, err);
    free(buf);
    return rc;
}

/* --tokenizer names tokenizer.json or its directory: path of the file and the directory. */
static int tokenizer_paths(const char *tok, char *path, char *src_dir, YaError *err) {
    if (ya_is_dir(tok)) {
        snprintf(src_dir, 4096, "%s", tok);
        if (ya_path_join(path, 4096, src_dir, "tokenizer.json", err)) return YA_ERR;
    } else {
        snprintf(path, 4096, "%s", tok);
        snprintf(src_dir, 4096, "%s", tok);
        char *slash = strrchr(src_dir, '/');
        if (slash) *slash = '\0';
        else snprintf(src_dir, 4096, ".");
    }
    if (!ya_path_exists(path)) return ya_fail(err, YA_ERR, "--tokenizer: %s: no such file", path);
    return YA_OK;
}

static int copy_tokenizer(const char *tok, const char *out_dir, YaError *err) {
    char src_dir[4096], path[4096];
    if (tokenizer_paths(tok, path, src_dir, err)) return YA_ERR;
    if (copy_file(path, out_dir, "tokenizer.json", 1, err)) return ya_error_prefix(err, "--tokenizer");
    static const char *k_side[] = {"tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"};
    for (size_t i = 0; i < sizeof k_side / sizeof *k_side; i++) {
        if (ya_path_join(path, sizeof path, src_dir, k_side[i], err)) return YA_ERR;
        if (copy_file(path, out_dir, k_side[i], 0, err)) return YA_ERR;
    }
    return YA_OK;
}

static int write_generation_config(const YaModelConfig *cfg, const char *out_dir, YaError *err) {
    json_t *g = json_object();
    json_object_set_new(g, "_from_model_config", json_true());
    if (cfg->bos_token_id >= 0) json_object_set_new(g, "bos_token_id", json_integer(cfg->bos_token_id));
    if (cfg->n_eos == 1) {
        json_object_set_new(g, "eos_token_id", json_integer(cfg->eos_token_ids[0]));
    } else if (cfg->n_eos > 1) {
        json_t *a = json_array();
        for (int i = 0; i < cfg->n_eos; i++) json_array_append_new(a, json_integer(cfg->eos_token_ids[i]));
        json_object_set_new(g, "eos_token_id", a);
    }
    char *text = ya_json_dumps(g);
    json_decref(g);
    char path[4096];
    int rc = text ? ya_path_join(path, sizeof path, out_dir, "generation_config.json", err)
                  : ya_fail(err, YA_ERR, "out of memory");
    if (!rc) rc = ya_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

int ya_init_model(const YaModelConfig *cfg_in, const char *out_dir, const YaInitModelOptions *opt, YaError *err) {
    if (!ya_dtype_is_float(opt->dtype))
        return ya_fail(err, YA_ERR_USAGE, "init-model: dtype %s not supported (expected F32, F16 or BF16)",
                       ya_dtype_name(opt->dtype));
    char path[4096], tok_dir[4096];
    /* Check the inputs before spending minutes on an 8B model. */
    if (opt->tokenizer && tokenizer_paths(opt->tokenizer, path, tok_dir, err)) return YA_ERR;
    if (ya_mkdirs(out_dir, err)) return YA_ERR;
    if (ya_path_join(path, sizeof path, out_dir, "config.json", err)) return YA_ERR;
    if (ya_path_exists(path) && !opt->force)
        return ya_fail(err, YA_ERR, "%s: already holds a model (config.json); pass --force to overwrite", out_dir);

    YaModelConfig cfg = *cfg_in;
    snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s", torch_dtype_name(opt->dtype));

    /* Weights first: config.json appears last, so a directory with a config
     * always has its weights (an interrupted run leaves no valid-looking model). */
    const int64_t h = cfg.hidden_size, f = cfg.intermediate_size, d = cfg.head_dim, V = cfg.vocab_size,
                  nq = (int64_t)cfg.num_attention_heads * d, nkv = (int64_t)cfg.num_key_value_heads * d;
    InitSpec normal = {INIT_NORMAL, opt->seed, opt->dtype, 0.02f, opt->threads};
    InitSpec ones = {INIT_ONES, opt->seed, opt->dtype, 0, opt->threads};
    InitSpec zeros = {INIT_ZEROS, opt->seed, opt->dtype, 0, opt->threads};
    YaStShardedWriter *w = ya_st_sharded_new(opt->max_shard_bytes);
    if (!w) return ya_fail(err, YA_ERR, "out of memory");
    int rc = YA_OK;
#define ADD(spec, nd, ...)                                                                                \
    do {                                                                                                  \
        const int64_t shape_[] = {__VA_ARGS__};                                                           \
        if (!rc) rc = ya_st_sharded_add_fill(w, name, opt->dtype, nd, shape_, fill_tensor, &(spec), err); \
    } while (0)
    char name[256];
    snprintf(name, sizeof name, "model.embed_tokens.weight");
    ADD(normal, 2, V, h);
    static const char *k_proj[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
    static const char *k_mlp[] = {"gate_proj", "up_proj", "down_proj"};
    for (int l = 0; l < cfg.num_hidden_layers && !rc; l++) {
        snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", l);
        ADD(ones, 1, h);
        for (int p = 0; p < 4; p++) {
            int64_t out = p == 0 ? nq : p == 3 ? h : nkv, in = p == 3 ? nq : h;
            snprintf(name, sizeof name, "model.layers.%d.self_attn.%s.weight", l, k_proj[p]);
            ADD(normal, 2, out, in);
            if (p < 3 ? cfg.attention_bias : cfg.o_bias) {
                snprintf(name, sizeof name, "model.layers.%d.self_attn.%s.bias", l, k_proj[p]);
                ADD(zeros, 1, out);
            }
        }
        snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(ones, 1, h);
        for (int p = 0; p < 3; p++) {
            int64_t out = p == 2 ? h : f, in = p == 2 ? f : h;
            snprintf(name, sizeof name, "model.layers.%d.mlp.%s.weight", l, k_mlp[p]);
            ADD(normal, 2, out, in);
            if (cfg.mlp_bias) {
                snprintf(name, sizeof name, "model.layers.%d.mlp.%s.bias", l, k_mlp[p]);
                ADD(zeros, 1, out);
            }
        }
    }
    snprintf(name, sizeof name, "model.norm.weight");
    ADD(ones, 1, h);
    if (!cfg.tie_word_embeddings) {
        snprintf(name, sizeof name, "lm_head.weight");
        ADD(normal, 2, V, h);
    }
#undef ADD
    if (rc) {
        ya_st_sharded_free(w);
        return rc;
    }
    if (ya_st_sharded_finish(w, out_dir, "model", NULL, err)) return YA_ERR;

    if (write_generation_config(&cfg, out_dir, err)) return YA_ERR;
    if (opt->tokenizer && copy_tokenizer(opt->tokenizer, out_dir, err)) return YA_ERR;
    char *text = ya_config_to_json(&cfg);
    if (!text) return ya_fail(err, YA_ERR, "out of memory");
    rc = ya_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
