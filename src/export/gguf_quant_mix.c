/* gguf_quant_mix.c — which ggml type each tensor gets in llama-quantize's
 * K-quant mixes Q4_K_M, Q5_K_M and Q6_K (llama.cpp's llama_tensor_get_type for
 * dense models without an importance matrix or overrides), so that our export
 * and `llama-quantize model-f32.gguf Q4_K_M` produce the same file:
 *   - 1-D tensors (norms, biases, rope_freqs) stay F32;
 *   - output.weight, and token_embd.weight when the embeddings are tied, get
 *     Q6_K (Q8_0 when the row length is not a multiple of 256);
 *   - Q4_K_M/Q5_K_M: attn_v.weight and ffn_down.weight of the "more bits"
 *     layers (the first and last eighth, and every third layer between) get
 *     Q6_K; in a 70B-class model (80 layers, llama with GQA or qwen2) the
 *     remaining Q4_K attn_v get Q5_K;
 *   - every other matrix gets the mix's base type (Q4_K, Q5_K, Q6_K);
 *   - a row length that is not a multiple of 256 demotes Q4_K → Q5_0,
 *     Q5_K → Q5_1, Q6_K → Q8_0, and a row length not a multiple of 32 → F16. */
#include <string.h>

#include "gguf_internal.h"
#include "your_ai/gguf.h"

/* llama.cpp's use_more_bits(i_layer, n_layers). */
static int more_bits_layer(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The demotion for rows that do not fill whole 256-value super-blocks. */
static int fit_row(int type, uint64_t row_len) {
    if (type == YA_GGML_Q4_K || type == YA_GGML_Q5_K || type == YA_GGML_Q6_K) {
        if (row_len % 256 == 0) return type;
        type = type == YA_GGML_Q4_K ? YA_GGML_Q5_0 : type == YA_GGML_Q5_K ? YA_GGML_Q5_1 : YA_GGML_Q8_0;
    }
    return row_len % 32 == 0 ? type : YA_GGML_F16;
}

int ya_gguf_mix_tensor_type(YaGgufWeightType mix, const YaGgufMixModel *mm, const char *name, int n_dims,
                            uint64_t row_len, int layer) {
    if (n_dims < 2 || !ends_with(name, "weight") || strstr(name, "_norm.weight")) return YA_GGML_F32;
    int base = mix == YA_GGUF_W_Q4_K_M ? YA_GGML_Q4_K : mix == YA_GGUF_W_Q5_K_M ? YA_GGML_Q5_K : YA_GGML_Q6_K;
    int type = base;
    int k_m = mix == YA_GGUF_W_Q4_K_M || mix == YA_GGUF_W_Q5_K_M;
    if (strcmp(name, "output.weight") == 0 || (mm->tied_embeddings && strcmp(name, "token_embd.weight") == 0)) {
        /* the output projection: Q6_K, or Q8_0 when it cannot hold whole super-blocks */
        type = row_len % 256 ? YA_GGML_Q8_0 : YA_GGML_Q6_K;
    } else if (strstr(name, "attn_v.weight")) {
        if (k_m && more_bits_layer(layer, mm->n_layers)) type = YA_GGML_Q6_K;
        if (mm->is_70b && type == YA_GGML_Q4_K) type = YA_GGML_Q5_K;
    } else if (strstr(name, "ffn_down")) {
        if (k_m && more_bits_layer(layer, mm->n_layers)) type = YA_GGML_Q6_K;
    }
    return fit_row(type, row_len);
}
